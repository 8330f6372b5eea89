/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arena: bump allocator for per-request, per-query and per-batch memory.
 *
 * Memory comes from chunks of at least the size given at creation; a request
 * larger than a chunk gets a chunk of its own. Nothing is freed one by one:
 * arena_reset() keeps the first chunk and frees the rest, arena_destroy()
 * frees all. Allocations are 16-byte aligned. OOM aborts (mem_alloc policy);
 * arena_try_alloc returns NULL instead.
 */
#ifndef PHAROS_COMMON_ARENA_H
#define PHAROS_COMMON_ARENA_H

#include <stddef.h>

typedef struct arena arena_t;

/* Create an arena whose chunks hold at least chunk_size bytes. */
arena_t *arena_create(size_t chunk_size);
/* Free every chunk; NULL is a no-op. */
void arena_destroy(arena_t *a);
/* n bytes, 16-aligned, valid until reset/destroy. Aborts on OOM. */
void *arena_alloc(arena_t *a, size_t n);
/* As arena_alloc, zeroed. */
void *arena_calloc(arena_t *a, size_t n, size_t size);
/* As arena_alloc but NULL on OOM. */
void *arena_try_alloc(arena_t *a, size_t n);
/* NUL-terminated copy of s[0..len). */
char *arena_strndup(arena_t *a, const char *s, size_t len);
/* Drop all allocations; keeps one chunk for reuse. */
void arena_reset(arena_t *a);
/* Bytes handed out since creation or the last reset. */
size_t arena_used(const arena_t *a);

#endif

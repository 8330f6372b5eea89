/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mem: accounted heap allocation with one OOM policy.
 *
 * Every heap allocation in Pharos goes through mem_*, so that /metrics can
 * report the bytes the process holds (like Redis' zmalloc). mem_alloc and
 * friends abort the process on OOM: a half-applied write is worse than a
 * restart with WAL replay. mem_try_alloc returns NULL instead, for paths that
 * can degrade (ingest answers 503 and the sender retries).
 *
 * The byte counter is the one process-wide mutable value outside a context;
 * it is an atomic and only ever read for reporting.
 */
#ifndef PHAROS_COMMON_MEM_H
#define PHAROS_COMMON_MEM_H

#include <stddef.h>

/* Allocate n bytes (n may be 0). Never returns NULL: aborts on OOM. */
void *mem_alloc(size_t n);
/* Allocate n*size zeroed bytes; aborts on OOM or multiplication overflow. */
void *mem_calloc(size_t n, size_t size);
/* Resize p (NULL allowed) to n bytes; aborts on OOM. */
void *mem_realloc(void *p, size_t n);
/* Allocate n bytes or return NULL on OOM (the caller degrades). */
void *mem_try_alloc(size_t n);
/* Resize p to n bytes or return NULL on OOM, leaving p valid. */
void *mem_try_realloc(void *p, size_t n);
/* Free p; NULL is a no-op. */
void mem_free(void *p);
/* Copy len bytes of s into a new NUL-terminated string. */
char *mem_strndup(const char *s, size_t len);
/* Copy the NUL-terminated s. */
char *mem_strdup(const char *s);
/* Bytes currently held through mem_* (approximate: usable sizes). */
size_t mem_used(void);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arena: a singly linked list of chunks, newest first; allocation bumps an
 * offset in the newest chunk. A request that does not fit in a standard
 * chunk gets its own chunk, linked behind the current one so the current
 * chunk keeps serving small requests. See arena.h.
 */
#include "common/arena.h"

#include <stdint.h>
#include <string.h>

#include "common/mem.h"

#define ARENA_ALIGN 16

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t cap;
    size_t off;
    _Alignas(ARENA_ALIGN) unsigned char data[];
} arena_chunk_t;

struct arena {
    arena_chunk_t *head;
    size_t chunk_size;
    size_t used;
};

static arena_chunk_t *arena_chunk_new(size_t cap, int try_only)
{
    if (cap > SIZE_MAX - sizeof(arena_chunk_t)) {
        return NULL;
    }
    size_t total = sizeof(arena_chunk_t) + cap;
    arena_chunk_t *c = try_only ? mem_try_alloc(total) : mem_alloc(total);
    if (!c) {
        return NULL;
    }
    c->next = NULL;
    c->cap = cap;
    c->off = 0;
    return c;
}

arena_t *arena_create(size_t chunk_size)
{
    arena_t *a = mem_alloc(sizeof(*a));
    a->chunk_size = chunk_size < 256 ? 256 : chunk_size;
    a->head = NULL;
    a->used = 0;
    return a;
}

void arena_destroy(arena_t *a)
{
    if (!a) {
        return;
    }
    arena_chunk_t *c = a->head;
    while (c) {
        arena_chunk_t *next = c->next;
        mem_free(c);
        c = next;
    }
    mem_free(a);
}

static void *arena_alloc_impl(arena_t *a, size_t n, int try_only)
{
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (need < n) {
        return NULL;
    }
    arena_chunk_t *c = a->head;
    if (c && c->cap - c->off >= need) {
        void *p = c->data + c->off;
        c->off += need;
        a->used += need;
        return p;
    }
    if (need > a->chunk_size / 4) {
        /* A big request: its own chunk, kept behind the current one. */
        arena_chunk_t *big = arena_chunk_new(need, try_only);
        if (!big) {
            return NULL;
        }
        big->off = need;
        if (c) {
            big->next = c->next;
            c->next = big;
        } else {
            a->head = big;
        }
        a->used += need;
        return big->data;
    }
    arena_chunk_t *fresh = arena_chunk_new(a->chunk_size, try_only);
    if (!fresh) {
        return NULL;
    }
    fresh->next = c;
    a->head = fresh;
    fresh->off = need;
    a->used += need;
    return fresh->data;
}

void *arena_alloc(arena_t *a, size_t n)
{
    void *p = arena_alloc_impl(a, n, 0);
    if (!p) {
        /* Only a size overflow gets here: treat it as the OOM it is. */
        p = mem_alloc(SIZE_MAX);
    }
    return p;
}

void *arena_try_alloc(arena_t *a, size_t n)
{
    return arena_alloc_impl(a, n, 1);
}

void *arena_calloc(arena_t *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        return arena_alloc(a, SIZE_MAX);
    }
    void *p = arena_alloc(a, n * size);
    memset(p, 0, n * size);
    return p;
}

char *arena_strndup(arena_t *a, const char *s, size_t len)
{
    /* len + 1 would wrap to 0: ask for the impossible so the OOM policy aborts. */
    char *d = arena_alloc(a, len == SIZE_MAX ? SIZE_MAX : len + 1);
    if (len) {
        memcpy(d, s, len);
    }
    d[len] = '\0';
    return d;
}

void arena_reset(arena_t *a)
{
    arena_chunk_t *keep = NULL;
    arena_chunk_t *c = a->head;
    while (c) {
        arena_chunk_t *next = c->next;
        if (!keep && c->cap == a->chunk_size) {
            keep = c;
        } else {
            mem_free(c);
        }
        c = next;
    }
    if (keep) {
        keep->next = NULL;
        keep->off = 0;
    }
    a->head = keep;
    a->used = 0;
}

size_t arena_used(const arena_t *a)
{
    return a->used;
}

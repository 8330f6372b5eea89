/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tsdb_pool: memory of head chunks (design in tsdb_int.h).
 *
 * A chunk is one allocation: a tsdb_cchunk_t header followed by its bit
 * stream, in the arena of the window of its first sample. The open chunk
 * (a tsdb_xor_t) points its data at that stream; closing it fills the
 * header in place and links it, with no copy. A first buffer is sized
 * from the hint (the last closed chunk of the series, plus an eighth); if
 * a chunk outgrows it, a buffer twice as large is taken from the same
 * arena and the old one is left behind until the window is freed.
 */
#include <stddef.h>
#include <string.h>

#include "common/mem.h"
#include "tsdb/tsdb_int.h"

#define POOL_WINDOW_ARENA (256 * 1024)
#define POOL_MIN_BYTES 32
/* The most one sample can take: a 64-bit dod and a 64-bit XOR with headers. */
#define POOL_SAMPLE_MAX_BITS 160

void tsdb_pool_init(tsdb_pool_t *p, int64_t range)
{
    memset(p, 0, sizeof(*p));
    p->range = range;
}

static void pool_free_arenas(tsdb_window_arena_t *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        arena_destroy(w[i].arena);
    }
}

void tsdb_pool_fini(tsdb_pool_t *p)
{
    pool_free_arenas(p->wins, p->nwins);
    pool_free_arenas(p->sealed, p->nsealed);
    mem_free(p->wins);
    mem_free(p->sealed);
    memset(p, 0, sizeof(*p));
}

static int64_t pool_window(const tsdb_pool_t *p, int64_t t)
{
    int64_t q = t / p->range;
    if (t % p->range != 0 && t < 0) {
        q--;
    }
    return q * p->range;
}

static arena_t *pool_window_arena(tsdb_pool_t *p, int64_t window)
{
    for (size_t i = p->nwins; i > 0; i--) {
        if (p->wins[i - 1].window == window) {
            return p->wins[i - 1].arena;
        }
    }
    if (p->nwins == p->capwins) {
        p->capwins = p->capwins ? p->capwins * 2 : 8;
        p->wins = mem_realloc(p->wins, p->capwins * sizeof(tsdb_window_arena_t));
    }
    arena_t *a = arena_create(POOL_WINDOW_ARENA);
    p->wins[p->nwins++] = (tsdb_window_arena_t){ window, a };
    return a;
}

static tsdb_cchunk_t *pool_header(const tsdb_xor_t *c)
{
    return (tsdb_cchunk_t *)(void *)(c->data - offsetof(tsdb_cchunk_t, data));
}

void tsdb_pool_reserve(tsdb_pool_t *p, tsdb_xor_t *c, int64_t t, uint32_t hint)
{
    size_t need = ((size_t)c->nbits + (c->n == 0 ? 128 : POOL_SAMPLE_MAX_BITS) + 7) / 8;
    if (c->data && need <= c->cap) {
        return;
    }
    size_t cap;
    if (!c->data) {
        cap = (size_t)hint + hint / 8 + 24;
        cap = cap < POOL_MIN_BYTES ? POOL_MIN_BYTES : cap;
    } else {
        cap = (size_t)c->cap * 2;
    }
    if (cap < need) {
        cap = need;
    }
    cap = (cap + 7) & ~(size_t)7;
    arena_t *a = pool_window_arena(p, pool_window(p, c->n ? c->t_first : t));
    tsdb_cchunk_t *cc = arena_alloc(a, sizeof(tsdb_cchunk_t) + cap);
    if (c->data) {
        memcpy(cc->data, c->data, ((size_t)c->nbits + 7) / 8);
    }
    c->data = cc->data;
    c->cap = (uint32_t)cap;
}

tsdb_cchunk_t *tsdb_pool_close(tsdb_pool_t *p, tsdb_xor_t *c)
{
    (void)p;
    tsdb_cchunk_t *cc = pool_header(c);
    cc->next = NULL;
    cc->t_first = c->t_first;
    cc->t_last = c->t;
    cc->nbits = c->nbits;
    cc->n = c->n;
    tsdb_xor_init(c);
    return cc;
}

void tsdb_pool_seal(tsdb_pool_t *p, int64_t boundary)
{
    size_t k = 0;
    for (size_t i = 0; i < p->nwins; i++) {
        tsdb_window_arena_t w = p->wins[i];
        bool covered = boundary == INT64_MAX || (w.window <= INT64_MAX - p->range && w.window + p->range <= boundary);
        if (!covered) {
            p->wins[k++] = w;
            continue;
        }
        if (p->nsealed == p->capsealed) {
            p->capsealed = p->capsealed ? p->capsealed * 2 : 8;
            p->sealed = mem_realloc(p->sealed, p->capsealed * sizeof(tsdb_window_arena_t));
        }
        p->sealed[p->nsealed++] = w;
    }
    p->nwins = k;
}

void tsdb_pool_free_sealed(tsdb_pool_t *p)
{
    pool_free_arenas(p->sealed, p->nsealed);
    p->nsealed = 0;
}

uint64_t tsdb_pool_bytes(const tsdb_pool_t *p)
{
    uint64_t b = 0;
    for (size_t i = 0; i < p->nwins; i++) {
        b += arena_used(p->wins[i].arena);
    }
    for (size_t i = 0; i < p->nsealed; i++) {
        b += arena_used(p->sealed[i].arena);
    }
    return b;
}

tsdb_cchunk_t *tsdb_pool_adopt(tsdb_pool_t *p, int64_t t_first, int64_t t_last, uint16_t n, uint32_t nbits,
                               const uint8_t *data)
{
    size_t bytes = ((size_t)nbits + 7) / 8;
    /* The window of the last sample: a chunk stored under another block
     * range may span several windows of this one, and its arena must not
     * be freed before a cut covers all of it. */
    tsdb_cchunk_t *cc = arena_alloc(pool_window_arena(p, pool_window(p, t_last)), sizeof(tsdb_cchunk_t) + bytes);
    cc->next = NULL;
    cc->t_first = t_first;
    cc->t_last = t_last;
    cc->n = n;
    cc->nbits = nbits;
    if (bytes) {
        memcpy(cc->data, data, bytes);
    }
    return cc;
}

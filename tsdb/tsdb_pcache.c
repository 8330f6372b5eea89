/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tsdb_pcache: decoded block pages shared by all readers, so that queries
 * do not decompress (and CRC-check) the same 256 KiB zstd page for every
 * series they read from it, and repeated dashboard queries find their
 * pages decoded.
 *
 * Pages are keyed by (block seq, page number); seqs are never reused, so a
 * dropped block's pages can only age out. Entries are reference-counted
 * while a reader uses them and kept on an LRU list; past the byte budget
 * the least recently used unreferenced pages are freed. A miss decodes
 * outside the lock (two readers may decode the same page at once; the
 * second insert is dropped). Compaction reads without the cache, so a
 * full merge does not evict what queries use.
 */
#include <assert.h>
#include <pthread.h>
#include <string.h>

#include "common/compress.h"
#include "common/crc32c.h"
#include "common/hmap.h"
#include "common/mem.h"
#include "tsdb/tsdb_int.h"

typedef struct tsdb_pentry {
    uint64_t seq;
    uint32_t page;
    int refs;
    uint8_t *data;
    size_t len;
    uint32_t prev, next; /* LRU links (UINT32_MAX: none); head = most recent */
} tsdb_pentry_t;

struct tsdb_pcache {
    pthread_mutex_t mu;
    size_t budget, bytes;
    hmap_t map; /* hash(seq, page) -> entry index */
    tsdb_pentry_t *e;
    uint32_t ne, cap;
    uint32_t *free_idx;
    uint32_t nfree;
    uint32_t head, tail;
    uint64_t hits, misses;
};

#define NONE UINT32_MAX

static uint64_t key_hash(uint64_t seq, uint32_t page)
{
    uint64_t x = seq * 0x9e3779b97f4a7c15ULL ^ ((uint64_t)page + 0x632be59bd9b4e019ULL);
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ULL;
    return x ^ (x >> 32);
}

typedef struct key_ctx {
    const tsdb_pcache_t *c;
    uint64_t seq;
    uint32_t page;
} key_ctx_t;

static bool key_eq(void *ctx, uint64_t v)
{
    key_ctx_t *k = ctx;
    const tsdb_pentry_t *e = &k->c->e[v];
    return e->seq == k->seq && e->page == k->page;
}

tsdb_pcache_t *tsdb_pcache_create(size_t budget)
{
    tsdb_pcache_t *c = mem_calloc(1, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
    c->budget = budget;
    hmap_init(&c->map);
    c->head = c->tail = NONE;
    return c;
}

void tsdb_pcache_destroy(tsdb_pcache_t *c)
{
    if (!c) {
        return;
    }
    for (uint32_t i = 0; i < c->ne; i++) {
        mem_free(c->e[i].data);
    }
    mem_free(c->e);
    mem_free(c->free_idx);
    hmap_fini(&c->map);
    pthread_mutex_destroy(&c->mu);
    mem_free(c);
}

static void lru_unlink(tsdb_pcache_t *c, uint32_t i)
{
    tsdb_pentry_t *e = &c->e[i];
    if (e->prev != NONE) {
        c->e[e->prev].next = e->next;
    } else {
        c->head = e->next;
    }
    if (e->next != NONE) {
        c->e[e->next].prev = e->prev;
    } else {
        c->tail = e->prev;
    }
    e->prev = e->next = NONE;
}

static void lru_push_front(tsdb_pcache_t *c, uint32_t i)
{
    tsdb_pentry_t *e = &c->e[i];
    e->prev = NONE;
    e->next = c->head;
    if (c->head != NONE) {
        c->e[c->head].prev = i;
    }
    c->head = i;
    if (c->tail == NONE) {
        c->tail = i;
    }
}

/* Free unreferenced pages from the cold end until within budget. */
static void evict(tsdb_pcache_t *c)
{
    uint32_t i = c->tail;
    while (c->bytes > c->budget && i != NONE) {
        uint32_t prev = c->e[i].prev;
        tsdb_pentry_t *e = &c->e[i];
        if (e->refs == 0) {
            lru_unlink(c, i);
            hmap_del(&c->map, key_hash(e->seq, e->page), i);
            c->bytes -= e->len;
            mem_free(e->data);
            e->data = NULL;
            if (c->nfree % 64 == 0) {
                c->free_idx = mem_realloc(c->free_idx, (c->nfree + 64) * sizeof(*c->free_idx));
            }
            c->free_idx[c->nfree++] = i;
        }
        i = prev;
    }
}

int tsdb_pcache_decode(const tsdb_block_t *b, uint32_t page, buf_t *out)
{
    const tsdb_page_ref_t *pr = &b->pages[page];
    buf_reset(out);
    if (crc32c(0, b->map + pr->off, pr->clen) != pr->crc ||
        decompress_zstd(b->map + pr->off, pr->clen, pr->rlen, out) != COMPRESS_OK || out->len != pr->rlen) {
        return TSDB_ERR_CORRUPT;
    }
    return 0;
}

int tsdb_pcache_get(tsdb_pcache_t *c, const tsdb_block_t *b, uint32_t page, const uint8_t **data, size_t *len,
                    uint32_t *handle)
{
    assert(page < b->npages);
    uint64_t h = key_hash(b->seq, page);
    key_ctx_t k = { c, b->seq, page };
    uint64_t idx;
    pthread_mutex_lock(&c->mu);
    if (hmap_get(&c->map, h, key_eq, &k, &idx)) {
        tsdb_pentry_t *e = &c->e[idx];
        e->refs++;
        lru_unlink(c, (uint32_t)idx);
        lru_push_front(c, (uint32_t)idx);
        c->hits++;
        *data = e->data;
        *len = e->len;
        *handle = (uint32_t)idx;
        pthread_mutex_unlock(&c->mu);
        return 0;
    }
    c->misses++;
    pthread_mutex_unlock(&c->mu);

    buf_t raw = { 0 };
    if (tsdb_pcache_decode(b, page, &raw) != 0) {
        buf_fini(&raw);
        return TSDB_ERR_CORRUPT;
    }
    size_t rlen;
    uint8_t *bytes = buf_steal(&raw, &rlen);

    pthread_mutex_lock(&c->mu);
    if (hmap_get(&c->map, h, key_eq, &k, &idx)) {
        /* Decoded meanwhile by another reader: use theirs. */
        mem_free(bytes);
        tsdb_pentry_t *e = &c->e[idx];
        e->refs++;
        *data = e->data;
        *len = e->len;
        *handle = (uint32_t)idx;
        pthread_mutex_unlock(&c->mu);
        return 0;
    }
    uint32_t i;
    if (c->nfree > 0) {
        i = c->free_idx[--c->nfree];
    } else {
        if (c->ne == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 64;
            c->e = mem_realloc(c->e, c->cap * sizeof(*c->e));
        }
        i = c->ne++;
    }
    tsdb_pentry_t *e = &c->e[i];
    *e = (tsdb_pentry_t){
        .seq = b->seq, .page = page, .refs = 1, .data = bytes, .len = rlen, .prev = NONE, .next = NONE
    };
    hmap_put(&c->map, h, i);
    lru_push_front(c, i);
    c->bytes += rlen;
    evict(c);
    *data = e->data;
    *len = e->len;
    *handle = i;
    pthread_mutex_unlock(&c->mu);
    return 0;
}

void tsdb_pcache_put(tsdb_pcache_t *c, uint32_t handle)
{
    pthread_mutex_lock(&c->mu);
    c->e[handle].refs--;
    if (c->bytes > c->budget) {
        evict(c);
    }
    pthread_mutex_unlock(&c->mu);
}

void tsdb_pcache_stats(tsdb_pcache_t *c, uint64_t *hits, uint64_t *misses, uint64_t *bytes)
{
    pthread_mutex_lock(&c->mu);
    *hits = c->hits;
    *misses = c->misses;
    *bytes = c->bytes;
    pthread_mutex_unlock(&c->mu);
}

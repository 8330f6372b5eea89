/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logs_select: selections and the index queries of the Loki API (label
 * names, label values, series, index stats).
 *
 * A selection resolves its matchers to stream ids and takes references to
 * the blocks overlapping its range under the read lock, then works stream
 * by stream with no lock held: the chunks of the stream that overlap the
 * range and survive the token filters, plus a copy of its head (taken
 * under the read lock), go to logs_merge, which hands back time-ordered,
 * deduplicated clusters; those are cut to [start, end), turned into
 * logs_entry_t batches (reversed when backward) and given to the caller.
 * The caller can skip a stream at any batch, so `limit 100` backward reads
 * only the newest chunks of each stream. Memory is one arena per
 * selection, reset per stream.
 */
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "logs/logs_int.h"

#define LOGS_BATCH 1024
#define LOGS_NEXT_STREAM_INTERNAL (-0x4c4f4753) /* "LOGS": a stream skip inside logs_merge */
#define LOGS_RANK_FROZEN (UINT64_MAX - 1)
#define LOGS_RANK_HEAD UINT64_MAX

typedef struct logs_deliver {
    const logs_select_t *q;
    logs_select_fn fn;
    void *ctx;
    const label_t *labels;
    size_t nlabels;
    logs_entry_t *batch;
    arena_t *meta;
    logs_store_t *s;
} logs_deliver_t;

static size_t logs_rows_lower(const logs_row_t *rows, size_t n, int64_t ts)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rows[mid].ts < ts) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static int logs_deliver_batch(logs_deliver_t *d, size_t n)
{
    int rc = d->fn(d->ctx, d->labels, d->nlabels, d->batch, n);
    arena_reset(d->meta);
    if (rc == LOGS_SELECT_NEXT_STREAM) {
        return LOGS_NEXT_STREAM_INTERNAL;
    }
    return rc;
}

static void logs_to_entry(logs_deliver_t *d, const logs_row_t *r, logs_entry_t *e)
{
    e->ts_ns = r->ts;
    e->line = r->line;
    e->meta = NULL;
    e->nmeta = 0;
    if (r->meta.len) {
        long nm = logs_meta_get((const uint8_t *)r->meta.p, r->meta.len, NULL, LOGS_MAX_META);
        if (nm > 0) {
            label_t *m = arena_alloc(d->meta, (size_t)nm * sizeof(label_t));
            logs_meta_get((const uint8_t *)r->meta.p, r->meta.len, m, (size_t)nm);
            e->meta = m;
            e->nmeta = (size_t)nm;
        }
    }
}

static int logs_deliver_rows(void *ctx, const logs_row_t *rows, size_t n)
{
    logs_deliver_t *d = ctx;
    size_t from = logs_rows_lower(rows, n, d->q->start_ns);
    size_t to = logs_rows_lower(rows, n, d->q->end_ns);
    size_t k = 0;
    for (size_t i = from; i < to; i++) {
        size_t at = d->q->backward ? to - 1 - (i - from) : i;
        logs_to_entry(d, &rows[at], &d->batch[k++]);
        if (k == LOGS_BATCH) {
            int rc = logs_deliver_batch(d, k);
            if (rc != 0) {
                return rc;
            }
            k = 0;
        }
    }
    return k ? logs_deliver_batch(d, k) : 0;
}

static void logs_select_bad(void *ctx, logs_block_t *b, int rc)
{
    logs_deliver_t *d = ctx;
    logs_count_corrupt(d->s, b, rc);
}

/* Add the chunks of stream gid in snap overlapping [mint, maxt] that may
 * hold every literal of q; counts the skipped ones. */
static size_t logs_block_sources(logs_store_t *s, logs_block_t **snap, uint32_t nb, uint32_t gid, int64_t mint,
                                 int64_t maxt, const logs_select_t *q, buf_t *scratch, logs_source_t **src, size_t *cap)
{
    size_t n = 0;
    uint64_t skipped = 0;
    for (uint32_t i = 0; i < nb; i++) {
        logs_block_t *b = snap[i];
        int64_t local = logs_block_find(b, gid);
        if (local < 0) {
            continue;
        }
        const logs_bstream_t *bs = &b->streams[local];
        for (uint32_t k = bs->first; k < bs->first + bs->nchunks; k++) {
            const logs_chunk_ref_t *c = &b->chunks[k];
            if (c->maxt < mint || c->mint > maxt) {
                continue;
            }
            uint64_t absent = q && q->nmust ? logs_block_frames_absent(b, k, q->must, q->nmust, scratch) : 0;
            if (absent && absent == logs_block_frames_all(b, k)) {
                skipped++;
                continue;
            }
            if (n == *cap) {
                *cap = *cap ? *cap * 2 : 16;
                *src = mem_realloc(*src, *cap * sizeof(logs_source_t));
            }
            (*src)[n++] = (logs_source_t){
                .mint = c->mint, .maxt = c->maxt, .rank = b->rank, .block = b, .chunk = k, .skip = absent
            };
        }
    }
    if (skipped) {
        __atomic_add_fetch(&s->c_blocks_skipped, skipped, __ATOMIC_RELAXED);
    }
    return n;
}

int logs_store_select(logs_store_t *s, const logs_select_t *q, logs_select_fn fn, void *ctx)
{
    if (q->end_ns <= q->start_ns) {
        return 0;
    }
    int64_t last = q->end_ns - 1;
    logs_ids_t ids = { 0 };
    pthread_rwlock_rdlock(&s->lock);
    logs_index_select(&s->ix, q->ms, q->nms, &ids);
    logs_strm_t **sts = mem_alloc((ids.n ? ids.n : 1) * sizeof(*sts));
    for (uint32_t i = 0; i < ids.n; i++) {
        sts[i] = s->ix.streams[ids.v[i]];
    }
    uint32_t nb;
    logs_block_t **snap = logs_blocks_snapshot_locked(s, q->start_ns, last, &nb);
    pthread_rwlock_unlock(&s->lock);

    arena_t *a = arena_create(256 << 10);
    logs_deliver_t d = { q, fn, ctx, NULL, 0, mem_alloc(LOGS_BATCH * sizeof(logs_entry_t)), arena_create(64 << 10), s };
    logs_source_t *src = NULL;
    size_t cap = 0;
    buf_t scratch = { 0 };
    logs_merge_t merge = { 0 };
    int rc = 0;
    for (uint32_t i = 0; i < ids.n && rc == 0; i++) {
        logs_strm_t *st = sts[i];
        size_t n = logs_block_sources(s, snap, nb, ids.v[i], q->start_ns, last, q, &scratch, &src, &cap);
        if (n + 2 > cap) { /* room for the two heads */
            cap = n + 2;
            src = mem_realloc(src, cap * sizeof(*src));
        }
        pthread_rwlock_rdlock(&s->lock);
        const logs_head_t *heads[2] = { st->frozen, &st->head };
        for (int h = 0; h < 2; h++) {
            logs_row_t *rows;
            size_t nr;
            if (!heads[h] || heads[h]->n == 0) {
                continue;
            }
            logs_head_copy(heads[h], q->start_ns, q->end_ns, a, &rows, &nr);
            if (nr) {
                src[n++] = (logs_source_t){ .mint = rows[0].ts,
                                            .maxt = rows[nr - 1].ts,
                                            .rank = h ? LOGS_RANK_HEAD : LOGS_RANK_FROZEN,
                                            .rows = rows,
                                            .nrows = nr };
            }
        }
        pthread_rwlock_unlock(&s->lock);
        d.labels = st->labels;
        d.nlabels = st->nlabels;
        rc = logs_merge(&merge, src, n, q->backward, logs_deliver_rows, logs_select_bad, &d);
        if (rc == LOGS_NEXT_STREAM_INTERNAL) {
            rc = 0;
        }
        arena_reset(a);
    }
    __atomic_add_fetch(&s->c_blocks_read, merge.reads, __ATOMIC_RELAXED);
    logs_merge_fini(&merge);
    buf_fini(&scratch);
    mem_free(src);
    arena_destroy(d.meta);
    mem_free(d.batch);
    arena_destroy(a);
    logs_blocks_release(snap, nb);
    mem_free(sts);
    logs_ids_fini(&ids);
    return rc;
}

/* ---- index queries ---- */

static int logs_u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Streams selected by the union of sets with data in [start, end]
 * (inclusive); read lock held. */
static void logs_select_sets_locked(logs_store_t *s, const logs_matchset_t *sets, size_t nsets, int64_t start,
                                    int64_t end, logs_ids_t *out)
{
    out->n = 0;
    if (nsets == 0) {
        logs_index_select(&s->ix, NULL, 0, out);
    } else {
        logs_ids_t tmp = { 0 };
        for (size_t i = 0; i < nsets; i++) {
            logs_index_select(&s->ix, sets[i].ms, sets[i].n, &tmp);
            for (uint32_t k = 0; k < tmp.n; k++) {
                logs_ids_push(out, tmp.v[k]);
            }
        }
        logs_ids_fini(&tmp);
        if (nsets > 1 && out->n > 1) {
            uint32_t *v = out->v;
            if (out->n > 1) {
                qsort(v, out->n, sizeof(uint32_t), logs_u32_cmp);
            }
            uint32_t u = 0;
            for (uint32_t i = 0; i < out->n; i++) {
                if (u == 0 || v[u - 1] != v[i]) {
                    v[u++] = v[i];
                }
            }
            out->n = u;
        }
    }
    /* keep the streams with data in range */
    uint32_t k = 0;
    for (uint32_t i = 0; i < out->n; i++) {
        const logs_strm_t *st = s->ix.streams[out->v[i]];
        bool in = (st->head.n && st->head.maxt >= start && st->head.mint <= end) ||
                  (st->frozen && st->frozen->n && st->frozen->maxt >= start && st->frozen->mint <= end);
        for (uint32_t b = 0; b < s->nblocks && !in; b++) {
            const logs_block_t *bl = s->blocks[b];
            if (bl->maxt < start || bl->mint > end) {
                continue;
            }
            int64_t local = logs_block_find(bl, out->v[i]);
            if (local < 0) {
                continue;
            }
            const logs_bstream_t *bs = &bl->streams[local];
            for (uint32_t c = bs->first; c < bs->first + bs->nchunks && !in; c++) {
                in = bl->chunks[c].maxt >= start && bl->chunks[c].mint <= end;
            }
        }
        if (in) {
            out->v[k++] = out->v[i];
        }
    }
    out->n = k;
}

static int logs_str_cmp(const void *a, const void *b)
{
    return str_cmp(*(const str_t *)a, *(const str_t *)b);
}

/* Sort strs, drop repeats, copy into a. Returns the count. */
static size_t logs_strs_finish(str_t *v, size_t n, arena_t *a, str_t **out)
{
    if (n > 1) {
        qsort(v, n, sizeof(str_t), logs_str_cmp);
    }
    size_t u = 0;
    for (size_t i = 0; i < n; i++) {
        if (u == 0 || !str_eq(v[u - 1], v[i])) {
            v[u++] = v[i];
        }
    }
    *out = arena_alloc(a, (u ? u : 1) * sizeof(str_t));
    for (size_t i = 0; i < u; i++) {
        (*out)[i] = str_from(arena_strndup(a, v[i].p, v[i].len), v[i].len);
    }
    return u;
}

size_t logs_store_label_names(logs_store_t *s, const logs_matchset_t *sets, size_t nsets, int64_t start_ns,
                              int64_t end_ns, arena_t *a, str_t **out)
{
    logs_ids_t ids = { 0 };
    str_t *v = NULL;
    size_t n = 0, cap = 0;
    pthread_rwlock_rdlock(&s->lock);
    logs_select_sets_locked(s, sets, nsets, start_ns, end_ns, &ids);
    for (uint32_t i = 0; i < ids.n; i++) {
        const logs_strm_t *st = s->ix.streams[ids.v[i]];
        for (uint32_t k = 0; k < st->nlabels; k++) {
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                v = mem_realloc(v, cap * sizeof(str_t));
            }
            v[n++] = st->labels[k].name;
        }
    }
    size_t r = logs_strs_finish(v, n, a, out);
    pthread_rwlock_unlock(&s->lock);
    mem_free(v);
    logs_ids_fini(&ids);
    return r;
}

size_t logs_store_label_values(logs_store_t *s, str_t name, const logs_matchset_t *sets, size_t nsets, int64_t start_ns,
                               int64_t end_ns, arena_t *a, str_t **out)
{
    logs_ids_t ids = { 0 };
    str_t *v = NULL;
    size_t n = 0, cap = 0;
    pthread_rwlock_rdlock(&s->lock);
    logs_select_sets_locked(s, sets, nsets, start_ns, end_ns, &ids);
    for (uint32_t i = 0; i < ids.n; i++) {
        const logs_strm_t *st = s->ix.streams[ids.v[i]];
        for (uint32_t k = 0; k < st->nlabels; k++) {
            if (!str_eq(st->labels[k].name, name)) {
                continue;
            }
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                v = mem_realloc(v, cap * sizeof(str_t));
            }
            v[n++] = st->labels[k].value;
        }
    }
    size_t r = logs_strs_finish(v, n, a, out);
    pthread_rwlock_unlock(&s->lock);
    mem_free(v);
    logs_ids_fini(&ids);
    return r;
}

static int logs_series_cmp(const void *pa, const void *pb)
{
    const logs_series_t *a = pa, *b = pb;
    for (size_t i = 0; i < a->n && i < b->n; i++) {
        int c = str_cmp(a->labels[i].name, b->labels[i].name);
        if (c == 0) {
            c = str_cmp(a->labels[i].value, b->labels[i].value);
        }
        if (c != 0) {
            return c;
        }
    }
    return a->n < b->n ? -1 : a->n > b->n;
}

size_t logs_store_series(logs_store_t *s, const logs_matchset_t *sets, size_t nsets, int64_t start_ns, int64_t end_ns,
                         arena_t *a, logs_series_t **out)
{
    logs_ids_t ids = { 0 };
    pthread_rwlock_rdlock(&s->lock);
    logs_select_sets_locked(s, sets, nsets, start_ns, end_ns, &ids);
    *out = arena_alloc(a, (ids.n ? ids.n : 1) * sizeof(logs_series_t));
    for (uint32_t i = 0; i < ids.n; i++) {
        const logs_strm_t *st = s->ix.streams[ids.v[i]];
        label_t *ls = arena_alloc(a, (st->nlabels ? st->nlabels : 1) * sizeof(label_t));
        for (uint32_t k = 0; k < st->nlabels; k++) {
            const label_t *l = &st->labels[k];
            ls[k].name = str_from(arena_strndup(a, l->name.p, l->name.len), l->name.len);
            ls[k].value = str_from(arena_strndup(a, l->value.p, l->value.len), l->value.len);
        }
        (*out)[i] = (logs_series_t){ ls, st->nlabels };
    }
    pthread_rwlock_unlock(&s->lock);
    size_t n = ids.n;
    if (n > 1) {
        qsort(*out, n, sizeof(logs_series_t), logs_series_cmp);
    }
    logs_ids_fini(&ids);
    return n;
}

void logs_store_index_stats(logs_store_t *s, const logs_matchset_t *sets, size_t nsets, int64_t start_ns,
                            int64_t end_ns, logs_index_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    logs_ids_t ids = { 0 };
    pthread_rwlock_rdlock(&s->lock);
    logs_select_sets_locked(s, sets, nsets, start_ns, end_ns, &ids);
    out->streams = ids.n;
    for (uint32_t i = 0; i < ids.n; i++) {
        const logs_strm_t *st = s->ix.streams[ids.v[i]];
        const logs_head_t *heads[2] = { &st->head, st->frozen };
        for (int h = 0; h < 2; h++) {
            if (heads[h] && heads[h]->n && heads[h]->maxt >= start_ns && heads[h]->mint <= end_ns) {
                out->chunks++;
                out->entries += heads[h]->n;
                out->bytes += heads[h]->line_bytes;
            }
        }
        for (uint32_t b = 0; b < s->nblocks; b++) {
            const logs_block_t *bl = s->blocks[b];
            int64_t local = bl->maxt < start_ns || bl->mint > end_ns ? -1 : logs_block_find(bl, ids.v[i]);
            if (local < 0) {
                continue;
            }
            const logs_bstream_t *bs = &bl->streams[local];
            for (uint32_t c = bs->first; c < bs->first + bs->nchunks; c++) {
                const logs_chunk_ref_t *ck = &bl->chunks[c];
                if (ck->maxt >= start_ns && ck->mint <= end_ns) {
                    out->chunks++;
                    out->entries += ck->n;
                    out->bytes += ck->raw_bytes;
                }
            }
        }
    }
    pthread_rwlock_unlock(&s->lock);
    logs_ids_fini(&ids);
}

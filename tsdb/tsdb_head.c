/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tsdb_head: the in-memory part of a series.
 *
 * In-order samples (t greater than the newest) go to the open XOR chunk,
 * whose buffer lives in the arena of its window (tsdb_pool); a chunk
 * closes when a sample crosses a multiple of the block range (so a chunk
 * never straddles a head cut) or holds TSDB_CHUNK_MAX_SAMPLES. Older samples (within the
 * window the caller enforces) go to a sorted out-of-order array. A cut
 * moves what lies before its boundary into "frozen" lists that stay
 * readable until the block holding them is published. Readers merge the
 * in-order run (frozen, closed, open: increasing time) with the
 * out-of-order samples; on equal timestamps the first stored wins.
 */
#include <math.h>
#include <string.h>

#include "common/mem.h"
#include "tsdb/tsdb_int.h"

static uint64_t tsdb_bits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof(b));
    return b;
}

static int64_t tsdb_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) {
        q--;
    }
    return q;
}

static void tsdb_clist_push(tsdb_clist_t *l, tsdb_cchunk_t *c)
{
    c->next = NULL;
    if (l->tail) {
        l->tail->next = c;
    } else {
        l->head = c;
    }
    l->tail = c;
}

static void tsdb_head_close_open(tsdb_series_t *s, tsdb_pool_t *pool)
{
    if (s->open.n == 0) {
        return;
    }
    s->hint = (s->open.nbits + 7) / 8;
    tsdb_clist_push(&s->closed, tsdb_pool_close(pool, &s->open));
}

/* Index of the first sample with t >= key in a sorted ooo array. */
static uint32_t tsdb_ooo_lower(const tsdb_ooo_t *o, int64_t key)
{
    uint32_t lo = 0, hi = o->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (o->v[mid].t < key) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static void tsdb_ooo_insert(tsdb_ooo_t *o, uint32_t at, int64_t t, double v)
{
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 4;
        o->v = mem_realloc(o->v, o->cap * sizeof(tsdb_sample_t));
    }
    if (o->n > at) {
        memmove(&o->v[at + 1], &o->v[at], (o->n - at) * sizeof(tsdb_sample_t));
    }
    o->v[at].t = t;
    o->v[at].v = v;
    o->n++;
}

/* Look for a stored sample at exactly t in a chunk's bit stream; true and
 * *bits set. */
static bool tsdb_stream_find(const uint8_t *data, uint32_t nbits, uint16_t n, int64_t t_first, int64_t t_last,
                             int64_t t, uint64_t *bits)
{
    if (n == 0 || t < t_first || t > t_last) {
        return false;
    }
    tsdb_xor_iter_t it;
    tsdb_xor_iter_init(&it, data, nbits, n);
    int64_t ct;
    double cv;
    while (tsdb_xor_iter_next(&it, &ct, &cv)) {
        if (ct == t) {
            *bits = tsdb_bits(cv);
            return true;
        }
        if (ct > t) {
            break;
        }
    }
    return false;
}

static bool tsdb_clist_find(const tsdb_clist_t *l, int64_t t, uint64_t *bits)
{
    for (const tsdb_cchunk_t *c = l->head; c; c = c->next) {
        if (tsdb_stream_find(c->data, c->nbits, c->n, c->t_first, c->t_last, t, bits)) {
            return true;
        }
    }
    return false;
}

static bool tsdb_ooo_find(const tsdb_ooo_t *o, int64_t t, uint64_t *bits)
{
    uint32_t i = tsdb_ooo_lower(o, t);
    if (i < o->n && o->v[i].t == t) {
        *bits = tsdb_bits(o->v[i].v);
        return true;
    }
    return false;
}

static bool tsdb_head_find(const tsdb_series_t *s, int64_t t, uint64_t *bits)
{
    return tsdb_clist_find(&s->frozen, t, bits) || tsdb_clist_find(&s->closed, t, bits) ||
           tsdb_stream_find(s->open.data, s->open.nbits, s->open.n, s->open.t_first, s->open.t, t, bits) ||
           tsdb_ooo_find(&s->ooo, t, bits) || tsdb_ooo_find(&s->ooo_frozen, t, bits);
}

tsdb_head_res_t tsdb_head_append(tsdb_series_t *s, tsdb_pool_t *pool, int64_t t, double v)
{
    int64_t range_ms = pool->range;
    uint64_t bits = tsdb_bits(v);
    if (s->has_last && t <= s->last_t) {
        if (t == s->last_t) {
            return bits == s->last_bits ? TSDB_HEAD_IDENTICAL : TSDB_HEAD_DUPLICATE;
        }
        uint64_t old;
        if (tsdb_head_find(s, t, &old)) {
            return old == bits ? TSDB_HEAD_IDENTICAL : TSDB_HEAD_DUPLICATE;
        }
        tsdb_ooo_insert(&s->ooo, tsdb_ooo_lower(&s->ooo, t), t, v);
        return TSDB_HEAD_APPENDED;
    }
    if (s->open.n > 0 && (s->open.n >= TSDB_CHUNK_MAX_SAMPLES ||
                          tsdb_floor_div(t, range_ms) != tsdb_floor_div(s->open.t_first, range_ms))) {
        tsdb_head_close_open(s, pool);
    }
    tsdb_pool_reserve(pool, &s->open, t, s->hint);
    tsdb_xor_append(&s->open, t, v);
    s->has_last = true;
    s->last_t = t;
    s->last_bits = bits;
    return TSDB_HEAD_APPENDED;
}

void tsdb_merge_samples(const int64_t *ta, const double *va, size_t na, const int64_t *tb, const double *vb, size_t nb,
                        int64_t **ts, double **vs, size_t *n, size_t *cap)
{
    size_t need = *n + na + nb;
    if (need > *cap) {
        size_t c = *cap ? *cap : 64;
        while (c < need) {
            c *= 2;
        }
        *ts = mem_realloc(*ts, c * sizeof(int64_t));
        *vs = mem_realloc(*vs, c * sizeof(double));
        *cap = c;
    }
    size_t i = 0, j = 0, k = *n;
    if (nb == 0 || na == 0 || ta[na - 1] < tb[0]) {
        /* Disjoint and in order (or one side empty): two copies. */
        if (na > 0) {
            memcpy(*ts + k, ta, na * sizeof(int64_t));
            memcpy(*vs + k, va, na * sizeof(double));
            k += na;
        }
        if (nb > 0) {
            memcpy(*ts + k, tb, nb * sizeof(int64_t));
            memcpy(*vs + k, vb, nb * sizeof(double));
            k += nb;
        }
        *n = k;
        return;
    }
    while (i < na || j < nb) {
        if (j >= nb || (i < na && ta[i] <= tb[j])) {
            if (j < nb && ta[i] == tb[j]) {
                j++; /* equal timestamps: the first run wins */
            }
            (*ts)[k] = ta[i];
            (*vs)[k] = va[i];
            i++;
        } else {
            (*ts)[k] = tb[j];
            (*vs)[k] = vb[j];
            j++;
        }
        k++;
    }
    *n = k;
}

static void tsdb_push_sample(int64_t **ts, double **vs, size_t *n, size_t *cap, int64_t t, double v)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *ts = mem_realloc(*ts, *cap * sizeof(int64_t));
        *vs = mem_realloc(*vs, *cap * sizeof(double));
    }
    (*ts)[*n] = t;
    (*vs)[*n] = v;
    (*n)++;
}

static void tsdb_stream_read(const uint8_t *data, uint32_t nbits, uint16_t n, int64_t t_first, int64_t t_last,
                             int64_t mint, int64_t maxt, int64_t **ts, double **vs, size_t *cnt, size_t *cap)
{
    if (n == 0 || t_last < mint || t_first > maxt) {
        return;
    }
    tsdb_xor_iter_t it;
    tsdb_xor_iter_init(&it, data, nbits, n);
    int64_t t;
    double v;
    while (tsdb_xor_iter_next(&it, &t, &v)) {
        if (t > maxt) {
            break;
        }
        if (t >= mint) {
            tsdb_push_sample(ts, vs, cnt, cap, t, v);
        }
    }
}

static void tsdb_clist_read(const tsdb_clist_t *l, int64_t mint, int64_t maxt, int64_t **ts, double **vs, size_t *cnt,
                            size_t *cap)
{
    for (const tsdb_cchunk_t *c = l->head; c; c = c->next) {
        tsdb_stream_read(c->data, c->nbits, c->n, c->t_first, c->t_last, mint, maxt, ts, vs, cnt, cap);
    }
}

/* Read the in-order run and the two ooo arrays, then merge them. */
static void tsdb_head_collect(const tsdb_series_t *s, bool frozen_only, int64_t mint, int64_t maxt, int64_t **ts,
                              double **vs, size_t *n, size_t *cap)
{
    int64_t *rt = NULL;
    double *rv = NULL;
    size_t rn = 0, rcap = 0;
    tsdb_clist_read(&s->frozen, mint, maxt, &rt, &rv, &rn, &rcap);
    if (!frozen_only) {
        tsdb_clist_read(&s->closed, mint, maxt, &rt, &rv, &rn, &rcap);
        tsdb_stream_read(s->open.data, s->open.nbits, s->open.n, s->open.t_first, s->open.t, mint, maxt, &rt, &rv, &rn,
                         &rcap);
    }
    int64_t *ot = NULL;
    double *ov = NULL;
    size_t on = 0;
    const tsdb_ooo_t *srcs[2] = { &s->ooo_frozen, frozen_only ? NULL : &s->ooo };
    for (int k = 0; k < 2; k++) {
        const tsdb_ooo_t *o = srcs[k];
        if (!o || o->n == 0) {
            continue;
        }
        int64_t *mt = NULL;
        double *mv = NULL;
        size_t mn = 0, mcap = 0;
        for (uint32_t i = tsdb_ooo_lower(o, mint); i < o->n && o->v[i].t <= maxt; i++) {
            tsdb_push_sample(&mt, &mv, &mn, &mcap, o->v[i].t, o->v[i].v);
        }
        int64_t *xt = NULL;
        double *xv = NULL;
        size_t xn = 0, xcap = 0;
        tsdb_merge_samples(ot, ov, on, mt, mv, mn, &xt, &xv, &xn, &xcap);
        mem_free(ot);
        mem_free(ov);
        mem_free(mt);
        mem_free(mv);
        ot = xt;
        ov = xv;
        on = xn;
    }
    if (on == 0) {
        if (*n == 0 && *cap == 0) {
            *ts = rt;
            *vs = rv;
            *n = rn;
            *cap = rcap;
            return;
        }
        tsdb_merge_samples(rt, rv, rn, NULL, NULL, 0, ts, vs, n, cap);
    } else {
        tsdb_merge_samples(rt, rv, rn, ot, ov, on, ts, vs, n, cap);
    }
    mem_free(rt);
    mem_free(rv);
    mem_free(ot);
    mem_free(ov);
}

void tsdb_head_read(const tsdb_series_t *s, int64_t mint, int64_t maxt, int64_t **ts, double **vs, size_t *n,
                    size_t *cap)
{
    tsdb_head_collect(s, false, mint, maxt, ts, vs, n, cap);
}

void tsdb_head_read_frozen(const tsdb_series_t *s, int64_t **ts, double **vs, size_t *n, size_t *cap)
{
    tsdb_head_collect(s, true, INT64_MIN, INT64_MAX, ts, vs, n, cap);
}

bool tsdb_head_freeze(tsdb_series_t *s, tsdb_pool_t *pool, int64_t boundary)
{
    bool any = false;
    if (s->open.n > 0 && s->open.t < boundary) {
        tsdb_head_close_open(s, pool);
    }
    while (s->closed.head && s->closed.head->t_last < boundary) {
        tsdb_cchunk_t *c = s->closed.head;
        s->closed.head = c->next;
        if (!s->closed.head) {
            s->closed.tail = NULL;
        }
        tsdb_clist_push(&s->frozen, c);
        any = true;
    }
    uint32_t m = tsdb_ooo_lower(&s->ooo, boundary);
    for (uint32_t i = 0; i < m; i++) {
        tsdb_ooo_t *f = &s->ooo_frozen;
        tsdb_ooo_insert(f, tsdb_ooo_lower(f, s->ooo.v[i].t), s->ooo.v[i].t, s->ooo.v[i].v);
        any = true;
    }
    if (m > 0) {
        memmove(s->ooo.v, s->ooo.v + m, (s->ooo.n - m) * sizeof(tsdb_sample_t));
    }
    s->ooo.n -= m;
    if (s->ooo.n == 0 && s->ooo.cap > 0) {
        mem_free(s->ooo.v);
        memset(&s->ooo, 0, sizeof(s->ooo));
    }
    return any;
}

void tsdb_head_add_chunk(tsdb_series_t *s, tsdb_pool_t *pool, int64_t t_first, int64_t t_last, uint16_t n,
                         uint32_t nbits, const uint8_t *data)
{
    if (n == 0 || (s->has_last && t_first <= s->last_t)) {
        return;
    }
    tsdb_head_close_open(s, pool);
    tsdb_clist_push(&s->closed, tsdb_pool_adopt(pool, t_first, t_last, n, nbits, data));
}

void tsdb_head_drop_frozen(tsdb_series_t *s)
{
    s->frozen.head = s->frozen.tail = NULL;
    mem_free(s->ooo_frozen.v);
    memset(&s->ooo_frozen, 0, sizeof(s->ooo_frozen));
}

void tsdb_head_series_fini(tsdb_series_t *s)
{
    mem_free(s->ooo.v);
    mem_free(s->ooo_frozen.v);
    memset(&s->ooo, 0, sizeof(s->ooo));
    memset(&s->ooo_frozen, 0, sizeof(s->ooo_frozen));
}

void tsdb_head_series_stats(const tsdb_series_t *s, uint64_t *chunks, uint64_t *samples, uint64_t *bytes)
{
    const tsdb_clist_t *lists[2] = { &s->closed, &s->frozen };
    for (int k = 0; k < 2; k++) {
        for (const tsdb_cchunk_t *c = lists[k]->head; c; c = c->next) {
            *chunks += 1;
            *samples += c->n;
            *bytes += sizeof(*c) + (c->nbits + 7) / 8;
        }
    }
    if (s->open.n) {
        *chunks += 1;
        *samples += s->open.n;
        *bytes += s->open.cap;
    }
    *samples += s->ooo.n + s->ooo_frozen.n;
    *bytes += (s->ooo.cap + s->ooo_frozen.cap) * sizeof(tsdb_sample_t);
}

int64_t tsdb_head_series_mint(const tsdb_series_t *s)
{
    int64_t m = INT64_MAX;
    if (s->frozen.head) {
        m = s->frozen.head->t_first;
    } else if (s->closed.head) {
        m = s->closed.head->t_first;
    } else if (s->open.n) {
        m = s->open.t_first;
    }
    if (s->ooo.n && s->ooo.v[0].t < m) {
        m = s->ooo.v[0].t;
    }
    if (s->ooo_frozen.n && s->ooo_frozen.v[0].t < m) {
        m = s->ooo_frozen.v[0].t;
    }
    return m;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * promql_eval_util: the evaluator's building blocks: errors, annotations,
 * sample accounting and the timeout, arena-backed matrices and vectors,
 * label-set helpers, Prometheus' rangeEval (pq_range_eval) and the merge
 * of series that end up with the same labels.
 *
 * Everything allocates from the query arena (ev->a) except the hash maps
 * used inside one call, which are freed before it returns. Label arrays
 * built here borrow their strings from their inputs; strings live in the
 * arena or in the query's AST, both alive for the whole evaluation.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/hash.h"
#include "common/hmap.h"
#include "common/json_out.h"
#include "common/mem.h"
#include "query/promql_int.h"

size_t pq_steps(const pq_ev_t *ev)
{
    if (ev->end < ev->start) {
        return 0;
    }
    return (size_t)((ev->end - ev->start) / ev->interval) + 1;
}

int pq_fail(pq_ev_t *ev, promql_errtype_t type, const char *fmt, ...)
{
    if (ev->err->type != PROMQL_ERR_NONE) {
        return -1;
    }
    ev->err->type = type;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ev->err->msg, sizeof(ev->err->msg), fmt, ap);
    va_end(ap);
    return -1;
}

void pq_annotate(pq_ev_t *ev, bool warning, const promql_node_t *at, const char *fmt, ...)
{
    char tmp[700];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(tmp, sizeof(tmp) - 40, fmt, ap);
    va_end(ap);
    if (len < 0) {
        return;
    }
    if (len > (int)sizeof(tmp) - 41) {
        len = (int)sizeof(tmp) - 41;
    }
    if (ev->query && at && at->pos.start <= ev->query_len) {
        /* Prometheus' PositionRange.StartPosInput: 1-based line, and the
         * column counted from the last line break. */
        unsigned line = 1;
        size_t last_nl = 0;
        bool nl = false;
        for (size_t i = 0; i < at->pos.start; i++) {
            if (ev->query[i] == '\n') {
                line++;
                last_nl = i;
                nl = true;
            }
        }
        size_t col = nl ? at->pos.start - last_nl : at->pos.start + 1;
        snprintf(tmp + len, 40, " (%u:%zu)", line, col);
    }
    char ***list = warning ? &ev->warnings : &ev->infos;
    size_t *n = warning ? &ev->nwarnings : &ev->ninfos;
    size_t *cap = warning ? &ev->cap_warnings : &ev->cap_infos;
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*list)[i], tmp) == 0) {
            return;
        }
    }
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        char **grown = arena_alloc(ev->a, nc * sizeof(*grown));
        if (*n) {
            memcpy(grown, *list, *n * sizeof(*grown));
        }
        *list = grown;
        *cap = nc;
    }
    (*list)[(*n)++] = arena_strndup(ev->a, tmp, strlen(tmp));
}

int pq_account(pq_ev_t *ev, uint64_t n)
{
    ev->samples += n;
    if (ev->samples > ev->max_samples) {
        return pq_fail(ev, PROMQL_ERR_EXECUTION,
                       "query processing would load too many samples into memory in query execution");
    }
    if (ev->deadline > 0 && ((++ev->tick & 15) == 0 || n >= 256) && clock_mono_s() > ev->deadline) {
        return pq_fail(ev, PROMQL_ERR_TIMEOUT, "query timed out in expression evaluation");
    }
    return 0;
}

pq_series_t *pq_matrix_add(pq_ev_t *ev, pq_matrix_t *m, label_t *labels, uint32_t nlabels, bool drop_name)
{
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 8;
        pq_series_t *grown = arena_alloc(ev->a, nc * sizeof(*grown));
        if (m->n) {
            memcpy(grown, m->s, m->n * sizeof(*grown));
        }
        m->s = grown;
        m->cap = nc;
    }
    pq_series_t *s = &m->s[m->n++];
    memset(s, 0, sizeof(*s));
    s->labels = labels;
    s->nlabels = nlabels;
    s->drop_name = drop_name;
    return s;
}

void pq_series_push(pq_ev_t *ev, pq_series_t *s, int64_t t, double v)
{
    if (s->n == s->cap) {
        size_t steps = pq_steps(ev);
        uint32_t nc = s->cap ? s->cap * 2 : (uint32_t)(steps > 0 && steps < 4096 ? steps : 16);
        int64_t *ts = arena_alloc(ev->a, nc * sizeof(*ts));
        double *vs = arena_alloc(ev->a, nc * sizeof(*vs));
        if (s->n) {
            memcpy(ts, s->ts, s->n * sizeof(*ts));
            memcpy(vs, s->vs, s->n * sizeof(*vs));
        }
        s->ts = ts;
        s->vs = vs;
        s->cap = nc;
    }
    s->ts[s->n] = t;
    s->vs[s->n] = v;
    s->n++;
}

pq_sample_t *pq_vec_push(pq_ev_t *ev, pq_vec_t *v)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 16;
        pq_sample_t *grown = arena_alloc(ev->a, nc * sizeof(*grown));
        if (v->n) {
            memcpy(grown, v->s, v->n * sizeof(*grown));
        }
        v->s = grown;
        v->cap = nc;
    }
    pq_sample_t *s = &v->s[v->n++];
    memset(s, 0, sizeof(*s));
    return s;
}

static bool name_in(str_t name, char *const *names, size_t nnames)
{
    for (size_t i = 0; i < nnames; i++) {
        if (str_eq_cstr(name, names[i])) {
            return true;
        }
    }
    return false;
}

label_t *pq_labels_without(pq_ev_t *ev, const label_t *ls, size_t n, char *const *names, size_t nnames,
                           bool drop_metric_name, uint32_t *nout)
{
    label_t *out = arena_alloc(ev->a, (n ? n : 1) * sizeof(*out));
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (name_in(ls[i].name, names, nnames) || (drop_metric_name && str_eq_cstr(ls[i].name, "__name__"))) {
            continue;
        }
        out[k++] = ls[i];
    }
    *nout = k;
    return out;
}

label_t *pq_labels_only(pq_ev_t *ev, const label_t *ls, size_t n, char *const *names, size_t nnames, uint32_t *nout)
{
    label_t *out = arena_alloc(ev->a, (n ? n : 1) * sizeof(*out));
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (name_in(ls[i].name, names, nnames)) {
            out[k++] = ls[i];
        }
    }
    *nout = k;
    return out;
}

label_t *pq_labels_set(pq_ev_t *ev, const label_t *ls, size_t n, str_t name, str_t value, uint32_t *nout)
{
    label_t *out = arena_alloc(ev->a, (n + 1) * sizeof(*out));
    uint32_t k = 0;
    bool placed = value.len == 0;
    for (size_t i = 0; i < n; i++) {
        int c = str_cmp(ls[i].name, name);
        if (c == 0) {
            continue;
        }
        if (c > 0 && !placed) {
            out[k++] = (label_t){ name, value };
            placed = true;
        }
        out[k++] = ls[i];
    }
    if (!placed) {
        out[k++] = (label_t){ name, value };
    }
    *nout = k;
    return out;
}

void pq_series_drop_name(pq_ev_t *ev, pq_series_t *s)
{
    s->drop_name = true;
    if (ev->delayed) {
        return;
    }
    for (uint32_t i = 0; i < s->nlabels; i++) {
        if (str_eq_cstr(s->labels[i].name, "__name__")) {
            uint32_t k;
            static char *const name[] = { "__name__" };
            s->labels = pq_labels_without(ev, s->labels, s->nlabels, name, 1, false, &k);
            s->nlabels = k;
            return;
        }
    }
}

/* ---- rangeEval ---- */

typedef struct key_map_ctx {
    const uint64_t *keys;
    uint64_t key;
} key_map_ctx_t;

static bool key_eq(void *ctx, uint64_t value)
{
    key_map_ctx_t *c = ctx;
    return c->keys[value] == c->key;
}

uint64_t pq_mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

int pq_range_eval(pq_ev_t *ev, pq_matrix_t *args, size_t nargs, pq_step_fn fn, void *ctx, pq_matrix_t *out)
{
    size_t nsteps = pq_steps(ev);
    memset(out, 0, sizeof(*out));
    if (nsteps == 0) {
        return 0;
    }
    size_t **cur = arena_calloc(ev->a, nargs ? nargs : 1, sizeof(*cur));
    pq_vec_t *vecs = arena_calloc(ev->a, nargs ? nargs : 1, sizeof(*vecs));
    for (size_t a = 0; a < nargs; a++) {
        cur[a] = arena_calloc(ev->a, args[a].n ? args[a].n : 1, sizeof(size_t));
    }
    hmap_t map;
    hmap_init(&map);
    uint64_t *keys = NULL;
    size_t keys_cap = 0;
    pq_vec_t res = { 0 };
    int rc = 0;
    for (size_t step = 0; step < nsteps && rc == 0; step++) {
        int64_t ts = ev->start + (int64_t)step * ev->interval;
        for (size_t a = 0; a < nargs; a++) {
            vecs[a].n = 0;
            for (size_t i = 0; i < args[a].n; i++) {
                pq_series_t *s = &args[a].s[i];
                size_t c = cur[a][i];
                if (c < s->n && s->ts[c] == ts) {
                    pq_sample_t *x = pq_vec_push(ev, &vecs[a]);
                    x->labels = s->labels;
                    x->nlabels = s->nlabels;
                    x->drop_name = s->drop_name;
                    x->idx = (uint32_t)i;
                    x->key = ((uint64_t)a << 32) | i;
                    x->v = s->vs[c];
                    x->t = ts;
                    cur[a][i] = c + 1;
                }
            }
        }
        res.n = 0;
        rc = fn(ev, ctx, ts, vecs, &res);
        if (rc != 0) {
            break;
        }
        for (size_t j = 0; j < res.n; j++) {
            pq_sample_t *x = &res.s[j];
            uint64_t h = pq_mix64(x->key);
            key_map_ctx_t kc = { keys, x->key };
            uint64_t idx;
            pq_series_t *s;
            if (hmap_get(&map, h, key_eq, &kc, &idx)) {
                s = &out->s[idx];
                if (s->n > 0 && s->ts[s->n - 1] == ts) {
                    rc = pq_fail(ev, PROMQL_ERR_EXECUTION, "vector cannot contain metrics with the same labelset");
                    break;
                }
            } else {
                idx = out->n;
                if (idx == keys_cap) {
                    keys_cap = keys_cap ? keys_cap * 2 : 64;
                    uint64_t *grown = arena_alloc(ev->a, keys_cap * sizeof(*grown));
                    if (idx) {
                        memcpy(grown, keys, idx * sizeof(*grown));
                    }
                    keys = grown;
                }
                keys[idx] = x->key;
                hmap_put(&map, h, idx);
                s = pq_matrix_add(ev, out, (label_t *)x->labels, x->nlabels, x->drop_name);
            }
            pq_series_push(ev, s, ts, x->v);
        }
        if (rc == 0 && res.n > 0) {
            rc = pq_account(ev, res.n);
        }
    }
    hmap_fini(&map);
    if (rc != 0) {
        return -1;
    }
    return pq_merge_same_labels(ev, out);
}

typedef struct labels_map_ctx {
    const pq_matrix_t *m;
    size_t i;
} labels_map_ctx_t;

static bool same_labels(void *ctx, uint64_t value)
{
    labels_map_ctx_t *c = ctx;
    const pq_series_t *a = &c->m->s[c->i];
    const pq_series_t *b = &c->m->s[value];
    return a->drop_name == b->drop_name && labels_compare(a->labels, a->nlabels, b->labels, b->nlabels) == 0;
}

/* Merge b's points into a (both in time order); a shared time fails. */
static int merge_points(pq_ev_t *ev, pq_series_t *a, const pq_series_t *b)
{
    uint32_t n = a->n + b->n;
    int64_t *ts = arena_alloc(ev->a, (n ? n : 1) * sizeof(*ts));
    double *vs = arena_alloc(ev->a, (n ? n : 1) * sizeof(*vs));
    uint32_t i = 0, j = 0, k = 0;
    while (i < a->n || j < b->n) {
        if (i < a->n && j < b->n && a->ts[i] == b->ts[j]) {
            return pq_fail(ev, PROMQL_ERR_EXECUTION, "vector cannot contain metrics with the same labelset");
        }
        if (j >= b->n || (i < a->n && a->ts[i] < b->ts[j])) {
            ts[k] = a->ts[i];
            vs[k++] = a->vs[i++];
        } else {
            ts[k] = b->ts[j];
            vs[k++] = b->vs[j++];
        }
    }
    a->ts = ts;
    a->vs = vs;
    a->n = a->cap = n;
    return 0;
}

int pq_merge_same_labels(pq_ev_t *ev, pq_matrix_t *m)
{
    if (m->n < 2) {
        return 0;
    }
    hmap_t map;
    hmap_init(&map);
    bool *gone = NULL;
    int rc = 0;
    for (size_t i = 0; i < m->n && rc == 0; i++) {
        pq_series_t *s = &m->s[i];
        uint64_t h = labels_hash(s->labels, s->nlabels) ^ (s->drop_name ? 0x9e3779b97f4a7c15ULL : 0);
        labels_map_ctx_t c = { m, i };
        uint64_t first;
        if (hmap_get(&map, h, same_labels, &c, &first)) {
            rc = merge_points(ev, &m->s[first], s);
            if (!gone) {
                gone = arena_calloc(ev->a, m->n, sizeof(*gone));
            }
            gone[i] = true;
        } else {
            hmap_put(&map, h, i);
        }
    }
    hmap_fini(&map);
    if (rc != 0) {
        return -1;
    }
    if (gone) {
        size_t k = 0;
        for (size_t i = 0; i < m->n; i++) {
            if (!gone[i]) {
                m->s[k++] = m->s[i];
            }
        }
        m->n = k;
    }
    return 0;
}

const char *pq_gofloat(pq_ev_t *ev, double v)
{
    buf_t b = { 0 };
    json_go_float(&b, v, 'g');
    char *s = arena_strndup(ev->a, (const char *)b.data, b.len);
    buf_fini(&b);
    return s;
}

bool pq_any_same_labels(pq_ev_t *ev, const pq_matrix_t *m)
{
    if (m->n < 2) {
        return false;
    }
    hmap_t map;
    hmap_init(&map);
    bool dup = false;
    for (size_t i = 0; i < m->n && !dup; i++) {
        const pq_series_t *s = &m->s[i];
        uint64_t h = labels_hash(s->labels, s->nlabels) ^ (s->drop_name ? 0x9e3779b97f4a7c15ULL : 0);
        labels_map_ctx_t c = { m, i };
        uint64_t first;
        if (hmap_get(&map, h, same_labels, &c, &first)) {
            dup = true;
        } else {
            hmap_put(&map, h, i);
        }
    }
    hmap_fini(&map);
    (void)ev;
    return dup;
}

void pq_lset_index_init(pq_lset_index_t *x)
{
    memset(x, 0, sizeof(*x));
    hmap_init(&x->map);
}

void pq_lset_index_fini(pq_lset_index_t *x)
{
    hmap_fini(&x->map);
}

typedef struct lset_probe {
    const pq_lset_index_t *x;
    const label_t *ls;
    uint32_t n;
} lset_probe_t;

static bool lset_eq(void *ctx, uint64_t v)
{
    lset_probe_t *p = ctx;
    return labels_compare(p->x->ls[v], p->x->n[v], p->ls, p->n) == 0;
}

size_t pq_lset_index_get(pq_ev_t *ev, pq_lset_index_t *x, label_t *ls, uint32_t n, bool *added)
{
    uint64_t h = labels_hash(ls, n);
    lset_probe_t p = { x, ls, n };
    uint64_t idx;
    if (hmap_get(&x->map, h, lset_eq, &p, &idx)) {
        *added = false;
        return (size_t)idx;
    }
    if (x->len == x->cap) {
        size_t nc = x->cap ? x->cap * 2 : 16;
        label_t **gls = arena_alloc(ev->a, nc * sizeof(*gls));
        uint32_t *gn = arena_alloc(ev->a, nc * sizeof(*gn));
        if (x->len) {
            memcpy(gls, x->ls, x->len * sizeof(*gls));
            memcpy(gn, x->n, x->len * sizeof(*gn));
        }
        x->ls = gls;
        x->n = gn;
        x->cap = nc;
    }
    x->ls[x->len] = ls;
    x->n[x->len] = n;
    hmap_put(&x->map, h, x->len);
    *added = true;
    return x->len++;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * promql_agg: aggregation operators with Prometheus 3.x's arithmetic.
 *
 * Each input series is mapped to its group once (by / without labels);
 * then every step folds the series that have a point there into their
 * group's state: Kahan-compensated sums, the direct mean that switches to
 * an incremental mean on overflow, Welford's variance, value lists for
 * quantile. topk/bottomk keep a binary heap per group that behaves like
 * Go's container/heap (so ties resolve as Prometheus resolves them);
 * limitk keeps the first k; limit_ratio samples by Prometheus' label-set
 * hash (XXH64 of name 0xff value 0xff ...). count_values regroups per step
 * through pq_range_eval, since its output labels depend on the values.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "common/buf.h"
#include "common/hmap.h"
#include "common/json_out.h"
#include "query/promql_int.h"

typedef struct group {
    bool seen;
    bool drop_name;
    pq_mean_t m;  /* avg; the others keep their value in m.sum (+ m.c), count, mean */
    double *vals; /* quantile */
    size_t nvals;
    uint32_t *heap; /* topk & co: input series indexes */
    double *hv;
    size_t nheap;
} group_t;

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Group labels of a series. */
static label_t *group_labels(pq_ev_t *ev, const promql_node_t *n, char **names, size_t nn, const pq_series_t *s,
                             uint32_t *k)
{
    if (n->u.agg.without) {
        return pq_labels_without(ev, s->labels, s->nlabels, names, nn, true, k);
    }
    return pq_labels_only(ev, s->labels, s->nlabels, names, nn, k);
}

/* Prometheus' labels.Hash(): XXH64 over name 0xff value 0xff ... */
static uint64_t prom_labels_hash(const label_t *ls, size_t n, buf_t *scratch)
{
    buf_reset(scratch);
    for (size_t i = 0; i < n; i++) {
        buf_append(scratch, ls[i].name.p, ls[i].name.len);
        buf_putc(scratch, 0xff);
        buf_append(scratch, ls[i].value.p, ls[i].value.len);
        buf_putc(scratch, 0xff);
    }
    return XXH64(scratch->data, scratch->len, 0);
}

/* Go container/heap over g->heap with Less(i, j) of topk (less = smaller,
 * NaN smallest) or bottomk (reversed). */
static bool heap_less(const group_t *g, size_t i, size_t j, bool bottom)
{
    double a = g->hv[i], b = g->hv[j];
    if (isnan(a)) {
        return true;
    }
    return bottom ? a > b : a < b;
}

static void heap_swap(group_t *g, size_t i, size_t j)
{
    uint32_t t = g->heap[i];
    g->heap[i] = g->heap[j];
    g->heap[j] = t;
    double v = g->hv[i];
    g->hv[i] = g->hv[j];
    g->hv[j] = v;
}

static void heap_up(group_t *g, size_t j, bool bottom)
{
    while (j > 0) {
        size_t i = (j - 1) / 2;
        if (!heap_less(g, j, i, bottom)) {
            break;
        }
        heap_swap(g, i, j);
        j = i;
    }
}

static bool heap_down(group_t *g, size_t i0, size_t n, bool bottom)
{
    size_t i = i0;
    for (;;) {
        size_t j1 = 2 * i + 1;
        if (j1 >= n) {
            break;
        }
        size_t j = j1;
        if (j1 + 1 < n && heap_less(g, j1 + 1, j1, bottom)) {
            j = j1 + 1;
        }
        if (!heap_less(g, j, i, bottom)) {
            break;
        }
        heap_swap(g, i, j);
        i = j;
    }
    return i > i0;
}

typedef struct cv_ctx {
    const promql_node_t *n;
    char **names;
    size_t nn;
    str_t label;
    buf_t fmt; /* formats each value; reused across samples and steps */
} cv_ctx_t;

static int step_count_values(pq_ev_t *ev, void *vctx, int64_t ts, pq_vec_t *args, pq_vec_t *out)
{
    (void)ts;
    cv_ctx_t *c = vctx;
    pq_vec_t *v = &args[0];
    pq_lset_index_t groups;
    pq_lset_index_init(&groups);
    size_t base = out->n;
    for (size_t i = 0; i < v->n; i++) {
        buf_reset(&c->fmt);
        json_go_float(&c->fmt, v->s[i].v, 'f');
        str_t val = { arena_strndup(ev->a, (const char *)c->fmt.data, c->fmt.len), c->fmt.len };
        uint32_t k;
        label_t *ls = pq_labels_set(ev, v->s[i].labels, v->s[i].nlabels, c->label, val, &k);
        pq_series_t tmp = { .labels = ls, .nlabels = k };
        uint32_t gk;
        label_t *g = group_labels(ev, c->n, c->names, c->nn, &tmp, &gk);
        bool added;
        size_t idx = pq_lset_index_get(ev, &groups, g, gk, &added);
        if (!added) {
            out->s[base + idx].v += 1;
            continue;
        }
        pq_sample_t *o = pq_vec_push(ev, out);
        o->labels = g;
        o->nlabels = gk;
        o->key = labels_hash(g, gk);
        o->v = 1;
    }
    pq_lset_index_fini(&groups);
    return 0;
}

static int check_k_param(pq_ev_t *ev, const promql_node_t *n, const double *p, size_t nsteps, bool *all_small)
{
    double mn = INFINITY, mx = -INFINITY;
    bool nan = false;
    for (size_t i = 0; i < nsteps; i++) {
        if (isnan(p[i])) {
            nan = true;
            continue;
        }
        mn = fmin(mn, p[i]);
        mx = fmax(mx, p[i]);
    }
    *all_small = false;
    if (n->u.agg.op == PROMQL_AGG_LIMIT_RATIO) {
        if (mx == 0 && mn == 0 && !nan) {
            *all_small = true;
            return 0;
        }
        if (nan) {
            return pq_fail(ev, PROMQL_ERR_EXECUTION, "Ratio value is NaN");
        }
        if (mx > 1) {
            pq_annotate(ev, true, n->u.agg.param,
                        "PromQL warning: ratio value should be between -1 and 1, got %s, capping to 1",
                        pq_gofloat(ev, mx));
        }
        if (mn < -1) {
            pq_annotate(ev, true, n->u.agg.param,
                        "PromQL warning: ratio value should be between -1 and 1, got %s, capping to -1",
                        pq_gofloat(ev, mn));
        }
        return 0;
    }
    if (!nan && mx < 1) {
        *all_small = true;
        return 0;
    }
    if (nan) {
        return pq_fail(ev, PROMQL_ERR_EXECUTION, "Parameter value is NaN");
    }
    if (mn <= -9223372036854775808.0) {
        return pq_fail(ev, PROMQL_ERR_EXECUTION, "Scalar value %s underflows int64", pq_gofloat(ev, mn));
    }
    if (mx >= 9223372036854774784.0) {
        return pq_fail(ev, PROMQL_ERR_EXECUTION, "Scalar value %s overflows int64", pq_gofloat(ev, mx));
    }
    return 0;
}

/* Fold sample f (of a series with drop flag drop) into group state gr,
 * as Prometheus' aggregation() does; nmax bounds the values a quantile
 * group may collect. */
static void agg_add(pq_ev_t *ev, promql_agg_op_t op, group_t *gr, double f, bool drop, size_t nmax)
{
    pq_mean_t *m = &gr->m;
    if (!gr->seen) {
        gr->seen = true;
        gr->drop_name = drop;
        gr->nvals = 0;
        pq_mean_init(m, f);
        switch (op) {
        case PROMQL_AGG_STDDEV:
        case PROMQL_AGG_STDVAR:
            m->sum = (isnan(f) || isinf(f)) ? NAN : 0;
            break;
        case PROMQL_AGG_QUANTILE:
            if (!gr->vals) {
                gr->vals = arena_alloc(ev->a, nmax * sizeof(double));
            }
            gr->vals[gr->nvals++] = f;
            break;
        case PROMQL_AGG_GROUP:
            m->sum = 1;
            break;
        default:
            break;
        }
        return;
    }
    if (drop) {
        gr->drop_name = true;
    }
    switch (op) {
    case PROMQL_AGG_SUM:
        pq_kahan_inc(f, &m->sum, &m->c);
        break;
    case PROMQL_AGG_AVG:
        pq_mean_add(m, f);
        break;
    case PROMQL_AGG_MAX:
        if (m->sum < f || isnan(m->sum)) {
            m->sum = f;
        }
        break;
    case PROMQL_AGG_MIN:
        if (m->sum > f || isnan(m->sum)) {
            m->sum = f;
        }
        break;
    case PROMQL_AGG_COUNT:
        m->count++;
        break;
    case PROMQL_AGG_STDDEV:
    case PROMQL_AGG_STDVAR: {
        /* Welford's update, uncompensated, as Prometheus' aggregation. */
        m->count++;
        double delta = f - m->mean;
        m->mean += delta / m->count;
        m->sum += delta * (f - m->mean);
        break;
    }
    case PROMQL_AGG_QUANTILE:
        gr->vals[gr->nvals++] = f;
        break;
    default:
        break;
    }
}

/* The aggregate a seen group yields. */
static double agg_value(promql_agg_op_t op, group_t *gr, double q)
{
    const pq_mean_t *m = &gr->m;
    switch (op) {
    case PROMQL_AGG_AVG:
        return pq_mean_value(m);
    case PROMQL_AGG_COUNT:
        return m->count;
    case PROMQL_AGG_STDVAR:
        return m->sum / m->count;
    case PROMQL_AGG_STDDEV:
        return sqrt(m->sum / m->count);
    case PROMQL_AGG_QUANTILE:
        return pq_quantile(q, gr->vals, gr->nvals);
    case PROMQL_AGG_SUM:
        return m->sum + m->c;
    default:
        return m->sum;
    }
}

/* Series-major folding for the common case: every (group, step) cell
 * gets its samples in series order, exactly as the step-major loop gives
 * them, while each series' points are read once, in order. */
static int agg_series_major(pq_ev_t *ev, promql_agg_op_t op, const pq_matrix_t *in, const uint32_t *gof, size_t ng,
                            pq_series_t **res)
{
    size_t nsteps = pq_steps(ev);
    group_t *cells = arena_calloc(ev->a, ng * nsteps, sizeof(*cells));
    for (size_t i = 0; i < in->n; i++) {
        const pq_series_t *s = &in->s[i];
        group_t *row = cells + (size_t)gof[i] * nsteps;
        for (uint32_t j = 0; j < s->n; j++) {
            size_t st = (size_t)((s->ts[j] - ev->start) / ev->interval);
            agg_add(ev, op, &row[st], s->vs[j], s->drop_name, in->n);
        }
        if ((i & 1023) == 1023 && pq_account(ev, 0) != 0) {
            return -1;
        }
    }
    for (size_t g = 0; g < ng; g++) {
        group_t *row = cells + g * nsteps;
        for (size_t st = 0; st < nsteps; st++) {
            if (!row[st].seen) {
                continue;
            }
            if (row[st].drop_name) {
                res[g]->drop_name = true;
            }
            pq_series_push(ev, res[g], ev->start + (int64_t)st * ev->interval, agg_value(op, &row[st], 0));
        }
    }
    return pq_account(ev, ng);
}

int pq_eval_aggregate(pq_ev_t *ev, const promql_node_t *n, pq_matrix_t *out)
{
    memset(out, 0, sizeof(*out));
    promql_agg_op_t op = n->u.agg.op;
    size_t nsteps = pq_steps(ev);
    /* Sorted grouping names. */
    size_t nn = n->u.agg.grouping.n;
    char **names = arena_alloc(ev->a, (nn + 1) * sizeof(*names));
    for (size_t i = 0; i < nn; i++) {
        names[i] = n->u.agg.grouping.names[i];
    }
    double *param = NULL;
    if (n->u.agg.param && op != PROMQL_AGG_COUNT_VALUES) {
        pq_matrix_t pm;
        if (pq_eval(ev, n->u.agg.param, &pm) != 0) {
            return -1;
        }
        param = pm.n > 0 ? pm.s[0].vs : NULL;
        if (!param) {
            param = arena_calloc(ev->a, nsteps ? nsteps : 1, sizeof(double));
        }
    }
    if (op == PROMQL_AGG_COUNT_VALUES) {
        const promql_node_t *p = n->u.agg.param;
        while (p->kind == PROMQL_PAREN) {
            p = p->u.paren.expr;
        }
        str_t label = { p->u.str.val, p->u.str.len };
        if (label.len == 0 || !str_utf8_valid(label.p, label.len)) {
            buf_t q = { 0 };
            labels_quote(label, &q);
            int rc = pq_fail(ev, PROMQL_ERR_EXECUTION, "invalid label name %s", q.data ? (char *)q.data : "\"\"");
            buf_fini(&q);
            return rc;
        }
        if (!n->u.agg.without) {
            names[nn++] = arena_strndup(ev->a, label.p, label.len);
        }
        qsort(names, nn, sizeof(*names), cmp_names);
        pq_matrix_t in;
        if (pq_eval(ev, n->u.agg.expr, &in) != 0) {
            return -1;
        }
        cv_ctx_t c = { n, names, nn, label, { 0 } };
        int rc = pq_range_eval(ev, &in, 1, step_count_values, &c, out);
        buf_fini(&c.fmt);
        return rc;
    }
    qsort(names, nn, sizeof(*names), cmp_names);
    pq_matrix_t in;
    if (pq_eval(ev, n->u.agg.expr, &in) != 0) {
        return -1;
    }
    bool kop =
        op == PROMQL_AGG_TOPK || op == PROMQL_AGG_BOTTOMK || op == PROMQL_AGG_LIMITK || op == PROMQL_AGG_LIMIT_RATIO;
    if (kop) {
        bool small;
        if (check_k_param(ev, n, param, nsteps, &small) != 0) {
            return -1;
        }
        if (small) {
            return 0;
        }
    }
    if (op == PROMQL_AGG_QUANTILE) {
        for (size_t i = 0; i < nsteps; i++) {
            if (isnan(param[i]) || param[i] < 0 || param[i] > 1) {
                pq_annotate(ev, true, n->u.agg.param,
                            "PromQL warning: quantile value should be between 0 and 1, got %s",
                            pq_gofloat(ev, param[i]));
                break;
            }
        }
    }
    /* Map series to groups, in order of first appearance. */
    uint32_t *gof = arena_alloc(ev->a, (in.n ? in.n : 1) * sizeof(*gof));
    pq_lset_index_t gidx;
    pq_lset_index_init(&gidx);
    for (size_t i = 0; i < in.n; i++) {
        uint32_t k;
        label_t *g = group_labels(ev, n, names, nn, &in.s[i], &k);
        bool added;
        gof[i] = (uint32_t)pq_lset_index_get(ev, &gidx, g, k, &added);
    }
    pq_lset_index_fini(&gidx);
    size_t ng = gidx.len;
    label_t **gl = gidx.ls;
    uint32_t *gn = gidx.n;
    group_t *groups = arena_calloc(ev->a, ng ? ng : 1, sizeof(*groups));
    pq_series_t **res = arena_calloc(ev->a, ng ? ng : 1, sizeof(*res));
    if (!kop) {
        /* One output series per group, in group order; empty ones go at
         * the end. */
        for (size_t g = 0; g < ng; g++) {
            res[g] = pq_matrix_add(ev, out, gl[g], gn[g], false);
        }
        for (size_t g = 0; g < ng; g++) {
            res[g] = &out->s[g];
        }
    }
    if (!kop && op != PROMQL_AGG_QUANTILE && ng * nsteps <= ((size_t)1 << 18)) {
        if (agg_series_major(ev, op, &in, gof, ng, res) != 0) {
            return -1;
        }
        goto done;
    }
    size_t *cur = arena_calloc(ev->a, in.n ? in.n : 1, sizeof(*cur));
    /* topk & co: output series per input series, keyed by index. */
    size_t *kout = kop ? arena_calloc(ev->a, in.n ? in.n : 1, sizeof(*kout)) : NULL; /* output index + 1 */
    bool bottom = op == PROMQL_AGG_BOTTOMK;
    /* limit_ratio: each series' place in [0, 1], from Prometheus' hash of
     * its labels, once per series. */
    double *ratio_off = NULL;
    if (op == PROMQL_AGG_LIMIT_RATIO) {
        ratio_off = arena_alloc(ev->a, (in.n ? in.n : 1) * sizeof(*ratio_off));
        buf_t scratch = { 0 };
        for (size_t i = 0; i < in.n; i++) {
            ratio_off[i] = (double)prom_labels_hash(in.s[i].labels, in.s[i].nlabels, &scratch) / 18446744073709551615.0;
        }
        buf_fini(&scratch);
    }
    for (size_t st = 0; st < nsteps; st++) {
        int64_t ts = ev->start + (int64_t)st * ev->interval;
        for (size_t g = 0; g < ng; g++) {
            groups[g].seen = false;
        }
        double q = param ? param[st] : 0;
        int64_t k = 0;
        double ratio = 0;
        if (op == PROMQL_AGG_TOPK || op == PROMQL_AGG_BOTTOMK || op == PROMQL_AGG_LIMITK) {
            k = isnan(q) ? 0 : (int64_t)q;
            if ((size_t)(k < 0 ? 0 : k) > in.n) {
                k = (int64_t)in.n;
            }
        } else if (op == PROMQL_AGG_LIMIT_RATIO) {
            ratio = q < -1 ? -1 : (q > 1 ? 1 : q);
        }
        bool skip_step = kop && ((op != PROMQL_AGG_LIMIT_RATIO && k < 1) || (op == PROMQL_AGG_LIMIT_RATIO && q == 0));
        for (size_t i = 0; i < in.n; i++) {
            pq_series_t *s = &in.s[i];
            if (cur[i] >= s->n || s->ts[cur[i]] != ts) {
                continue;
            }
            double f = s->vs[cur[i]++];
            if (skip_step) {
                continue;
            }
            group_t *gr = &groups[gof[i]];
            if (kop) {
                if (!gr->seen) {
                    gr->seen = true;
                    gr->nheap = 0;
                    if (!gr->heap) {
                        size_t cap = in.n; /* k may grow from step to step */
                        gr->heap = arena_alloc(ev->a, (cap ? cap : 1) * sizeof(*gr->heap));
                        gr->hv = arena_alloc(ev->a, (cap ? cap : 1) * sizeof(*gr->hv));
                    }
                }
                if (op == PROMQL_AGG_LIMIT_RATIO) {
                    double off = ratio_off[i];
                    if ((ratio >= 0 && off < ratio) || (ratio < 0 && off >= 1.0 + ratio)) {
                        gr->heap[gr->nheap] = (uint32_t)i;
                        gr->hv[gr->nheap++] = f;
                    }
                } else if (op == PROMQL_AGG_LIMITK) {
                    if ((int64_t)gr->nheap < k) {
                        gr->heap[gr->nheap] = (uint32_t)i;
                        gr->hv[gr->nheap] = f;
                        gr->nheap++;
                        heap_up(gr, gr->nheap - 1, false);
                    }
                } else if ((int64_t)gr->nheap < k) {
                    gr->heap[gr->nheap] = (uint32_t)i;
                    gr->hv[gr->nheap] = f;
                    gr->nheap++;
                    heap_up(gr, gr->nheap - 1, bottom);
                } else {
                    double top = gr->hv[0];
                    bool better =
                        bottom ? (top > f || (isnan(top) && !isnan(f))) : (top < f || (isnan(top) && !isnan(f)));
                    if (better) {
                        gr->heap[0] = (uint32_t)i;
                        gr->hv[0] = f;
                        if (k > 1) {
                            if (!heap_down(gr, 0, gr->nheap, bottom)) {
                                heap_up(gr, 0, bottom);
                            }
                        }
                    }
                }
                continue;
            }
            agg_add(ev, op, gr, f, s->drop_name, in.n);
        }
        if (kop) {
            for (size_t g = 0; g < ng; g++) {
                group_t *gr = &groups[g];
                if (!gr->seen) {
                    continue;
                }
                if (op == PROMQL_AGG_TOPK || op == PROMQL_AGG_BOTTOMK) {
                    /* sort.Sort(sort.Reverse(heap)): insertion sort for the
                     * small heaps it is used on, as Go does below 12. */
                    for (size_t a = 1; a < gr->nheap; a++) {
                        for (size_t b = a; b > 0 && heap_less(gr, b - 1, b, bottom); b--) {
                            heap_swap(gr, b, b - 1);
                        }
                    }
                }
                for (size_t h = 0; h < gr->nheap; h++) {
                    uint32_t i = gr->heap[h];
                    if (!kout[i]) {
                        pq_series_t *s = &in.s[i];
                        pq_matrix_add(ev, out, s->labels, s->nlabels, s->drop_name);
                        kout[i] = out->n;
                    }
                    pq_series_push(ev, &out->s[kout[i] - 1], ts, gr->hv[h]);
                }
            }
            continue;
        }
        for (size_t g = 0; g < ng; g++) {
            group_t *gr = &groups[g];
            if (!gr->seen) {
                continue;
            }
            double v = agg_value(op, gr, q);
            if (gr->drop_name) {
                res[g]->drop_name = true;
            }
            pq_series_push(ev, res[g], ts, v);
        }
        if (pq_account(ev, ng) != 0) {
            return -1;
        }
    }
done:
    if (!kop) {
        size_t w = 0;
        for (size_t g = 0; g < out->n; g++) {
            if (out->s[g].n > 0) {
                out->s[w++] = out->s[g];
            }
        }
        out->n = w;
    }
    return 0;
}

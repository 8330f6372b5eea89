/* SPDX-License-Identifier: Apache-2.0 */
/*
 * promql_eval: PromQL evaluation with Prometheus 3.x's semantics, on the
 * model of Prometheus' engine: every node evaluates to a matrix over the
 * query's steps (an instant query is one step), so one code path serves
 * instant and range queries.
 *
 * Selectors read the source lazily, once per selector node and evaluation
 * range, with the time bounds the node needs: a vector selector takes at
 * each step the newest sample in (t - lookback, t] unless it is a stale
 * marker; a range selector or subquery hands each range function the
 * points in (t - range, t] without stale markers. @ fixes the reference
 * time of a selector or subquery (start() and end() are the query's);
 * offset shifts it. Subqueries evaluate their inner expression on their
 * own aligned step grid. Functions over ranges run per series and step
 * (promql_fn_range.c); other functions, binary operators (promql_binop.c)
 * and count_values run per step through pq_range_eval; other aggregations
 * group each series once (promql_agg.c).
 *
 * __name__ is dropped where Prometheus drops it; with delayed removal it
 * is only flagged, and dropped (merging equal label sets) at the end.
 * Errors carry Prometheus' texts; limits: max samples, timeout.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/hmap.h"
#include "common/json_out.h"
#include "common/mem.h"
#include "query/promql_int.h"

/* ---- selecting data ---- */

typedef struct pq_raw {
    label_t *labels;
    uint32_t nlabels;
    bool drop_name;
    int64_t *ts;
    double *vs;
    size_t n;
} pq_raw_t;

typedef struct fetch {
    pq_ev_t *ev;
    pq_raw_t *s;
    size_t n, cap;
    bool drop_stale;
    int rc;
} fetch_t;

static bool is_stale(double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    return bits == TSDB_STALE_NAN_BITS;
}

/* An arena copy of a series' labels, which the store lends for one
 * callback only. */
static label_t *copy_labels(pq_ev_t *ev, const label_t *labels, size_t n)
{
    label_t *ls = arena_alloc(ev->a, (n ? n : 1) * sizeof(label_t));
    for (size_t i = 0; i < n; i++) {
        ls[i].name = (str_t){ arena_strndup(ev->a, labels[i].name.p, labels[i].name.len), labels[i].name.len };
        ls[i].value = (str_t){ arena_strndup(ev->a, labels[i].value.p, labels[i].value.len), labels[i].value.len };
    }
    return ls;
}

static int fetch_cb(void *ctx, const label_t *labels, size_t nlabels, const int64_t *ts, const double *vs, size_t n)
{
    fetch_t *f = ctx;
    pq_ev_t *ev = f->ev;
    /* Raw samples are held apart from the evaluation's own count (which
     * follows Prometheus: points of the values held at a time), with a
     * bound of their own so a selection cannot exhaust memory. */
    ev->raw_samples += n;
    if (ev->raw_samples > 4 * ev->max_samples) {
        pq_fail(ev, PROMQL_ERR_EXECUTION,
                "query processing would load too many samples into memory in query execution");
        f->rc = -1;
        return 1;
    }
    if (pq_account(ev, 0) != 0) {
        f->rc = -1;
        return 1;
    }
    if (f->n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 64;
        pq_raw_t *grown = arena_alloc(ev->a, nc * sizeof(*grown));
        if (f->n) {
            memcpy(grown, f->s, f->n * sizeof(*grown));
        }
        f->s = grown;
        f->cap = nc;
    }
    pq_raw_t *r = &f->s[f->n++];
    r->labels = copy_labels(ev, labels, nlabels);
    r->nlabels = (uint32_t)nlabels;
    r->drop_name = false;
    r->ts = arena_alloc(ev->a, (n ? n : 1) * sizeof(int64_t));
    r->vs = arena_alloc(ev->a, (n ? n : 1) * sizeof(double));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (f->drop_stale && is_stale(vs[i])) {
            continue;
        }
        r->ts[k] = ts[i];
        r->vs[k++] = vs[i];
    }
    r->n = k;
    return 0;
}

static int cmp_raw(const void *a, const void *b)
{
    const pq_raw_t *x = a, *y = b;
    return labels_compare(x->labels, x->nlabels, y->labels, y->nlabels);
}

/* The series of selector node vs with samples in [mint, maxt], sorted by
 * labels. */
static int fetch(pq_ev_t *ev, const promql_node_t *vs, int64_t mint, int64_t maxt, bool drop_stale, pq_raw_t **out,
                 size_t *nout)
{
    fetch_t f = { .ev = ev, .drop_stale = drop_stale };
    *out = NULL;
    *nout = 0;
    if (mint > maxt) {
        return 0;
    }
    int rc = ev->src->select(ev->src->ctx, vs->u.vs.matchers, vs->u.vs.nmatchers, mint, maxt, fetch_cb, &f);
    if (f.rc != 0) {
        return -1;
    }
    if (rc < 0) {
        return pq_fail(ev, PROMQL_ERR_INTERNAL, "expanding series: storage error %d", rc);
    }
    if (f.n > 1) {
        qsort(f.s, f.n, sizeof(*f.s), cmp_raw);
    }
    *out = f.s;
    *nout = f.n;
    return 0;
}

static bool at_time(const pq_ev_t *ev, promql_at_t at, int64_t at_ms, int64_t *t)
{
    switch (at) {
    case PROMQL_AT_TIMESTAMP:
        *t = at_ms;
        return true;
    case PROMQL_AT_START:
        *t = ev->q_start;
        return true;
    case PROMQL_AT_END:
        *t = ev->q_end;
        return true;
    default:
        return false;
    }
}

/* Vector selector: the newest non-stale sample in (ref - lookback, ref]
 * at each step, computed while the store hands each series over (the raw
 * samples are never copied). want_time: the value is the sample's time
 * in seconds. */
typedef struct vs_ctx {
    pq_ev_t *ev;
    pq_matrix_t *out;
    bool has_at, want_time;
    int64_t at, off;
    size_t nsteps;
    int rc;
} vs_ctx_t;

static int vs_series_cb(void *ctx, const label_t *labels, size_t nlabels, const int64_t *ts, const double *vs, size_t n)
{
    vs_ctx_t *c = ctx;
    pq_ev_t *ev = c->ev;
    pq_series_t *s = NULL;
    size_t j = 0; /* samples [0, j) are at or before ref */
    for (size_t step = 0; step < c->nsteps; step++) {
        int64_t t = ev->start + (int64_t)step * ev->interval;
        int64_t ref = (c->has_at ? c->at : t) - c->off;
        while (j < n && ts[j] <= ref) {
            j++;
        }
        if (j == 0 || ts[j - 1] <= ref - ev->lookback || is_stale(vs[j - 1])) {
            continue;
        }
        if (!s) {
            s = pq_matrix_add(ev, c->out, copy_labels(ev, labels, nlabels), (uint32_t)nlabels, false);
        }
        pq_series_push(ev, s, t, c->want_time ? (double)ts[j - 1] / 1000.0 : vs[j - 1]);
    }
    if (pq_account(ev, s ? s->n : 0) != 0) {
        c->rc = -1;
        return 1;
    }
    return 0;
}

static int cmp_series_labels(const void *a, const void *b)
{
    const pq_series_t *x = a, *y = b;
    return labels_compare(x->labels, x->nlabels, y->labels, y->nlabels);
}

static int eval_vector_selector(pq_ev_t *ev, const promql_node_t *n, bool want_time, pq_matrix_t *out)
{
    memset(out, 0, sizeof(*out));
    vs_ctx_t c = { .ev = ev, .out = out, .want_time = want_time, .off = n->u.vs.offset_ms, .nsteps = pq_steps(ev) };
    if (c.nsteps == 0) {
        return 0;
    }
    c.has_at = at_time(ev, n->u.vs.at, n->u.vs.at_ms, &c.at);
    int64_t ref_min = (c.has_at ? c.at : ev->start) - c.off;
    int64_t ref_max = (c.has_at ? c.at : ev->end) - c.off;
    int rc = ev->src->select(ev->src->ctx, n->u.vs.matchers, n->u.vs.nmatchers, ref_min - ev->lookback + 1, ref_max,
                             vs_series_cb, &c);
    if (c.rc != 0) {
        return -1;
    }
    if (rc < 0) {
        return pq_fail(ev, PROMQL_ERR_INTERNAL, "expanding series: storage error %d", rc);
    }
    if (out->n > 1) {
        qsort(out->s, out->n, sizeof(*out->s), cmp_series_labels);
    }
    return 0;
}

/* ---- range arguments: range selectors and subqueries ---- */

typedef struct pq_range_arg {
    pq_raw_t *s;
    size_t n;
    int64_t range;
    int64_t offset;
    bool has_at;
    int64_t at;
} pq_range_arg_t;

static int64_t subquery_start(int64_t base, int64_t step)
{
    int64_t start = step * (base / step);
    if (start <= base) {
        start += step;
    }
    return start;
}

/* Evaluate a subquery's inner expression on its own grid; the points
 * become the raw series of *ra. */
static int eval_subquery(pq_ev_t *ev, const promql_node_t *n, pq_range_arg_t *ra)
{
    memset(ra, 0, sizeof(*ra));
    ra->range = n->u.sq.range_ms;
    ra->offset = n->u.sq.offset_ms;
    ra->has_at = at_time(ev, n->u.sq.at, n->u.sq.at_ms, &ra->at);
    int64_t step = n->u.sq.step_ms > 0 ? n->u.sq.step_ms : ev->subquery_step;
    int64_t base_start = ra->has_at ? ra->at : ev->start;
    int64_t base_end = ra->has_at ? ra->at : ev->end;
    int64_t saved_start = ev->start, saved_end = ev->end, saved_interval = ev->interval;
    ev->start = subquery_start(base_start - ra->offset - ra->range, step);
    ev->end = base_end - ra->offset;
    ev->interval = step;
    pq_matrix_t inner;
    int rc = pq_eval(ev, n->u.sq.expr, &inner);
    ev->start = saved_start;
    ev->end = saved_end;
    ev->interval = saved_interval;
    if (rc != 0) {
        return -1;
    }
    ra->s = arena_alloc(ev->a, (inner.n ? inner.n : 1) * sizeof(*ra->s));
    for (size_t i = 0; i < inner.n; i++) {
        pq_series_t *s = &inner.s[i];
        ra->s[ra->n++] = (pq_raw_t){ s->labels, s->nlabels, s->drop_name, s->ts, s->vs, s->n };
    }
    return 0;
}

static const promql_node_t *unparen(const promql_node_t *n)
{
    while (n->kind == PROMQL_PAREN) {
        n = n->u.paren.expr;
    }
    return n;
}

static int range_arg(pq_ev_t *ev, const promql_node_t *n, pq_range_arg_t *ra)
{
    n = unparen(n);
    if (n->kind == PROMQL_SUBQUERY) {
        return eval_subquery(ev, n, ra);
    }
    const promql_node_t *vs = n->u.ms.vs;
    memset(ra, 0, sizeof(*ra));
    ra->range = n->u.ms.range_ms;
    ra->offset = vs->u.vs.offset_ms;
    ra->has_at = at_time(ev, vs->u.vs.at, vs->u.vs.at_ms, &ra->at);
    int64_t ref_min = (ra->has_at ? ra->at : ev->start) - ra->offset;
    int64_t ref_max = (ra->has_at ? ra->at : ev->end) - ra->offset;
    return fetch(ev, vs, ref_min - ra->range + 1, ref_max, true, &ra->s, &ra->n);
}

/* A range selector or subquery evaluated on its own (instant queries):
 * its raw points in (ref - range, ref] at the query time. */
static int eval_range_value(pq_ev_t *ev, const promql_node_t *n, pq_matrix_t *out)
{
    memset(out, 0, sizeof(*out));
    pq_range_arg_t ra;
    if (range_arg(ev, n, &ra) != 0) {
        return -1;
    }
    int64_t ref = (ra.has_at ? ra.at : ev->start) - ra.offset;
    for (size_t i = 0; i < ra.n; i++) {
        pq_raw_t *r = &ra.s[i];
        pq_series_t *s = NULL;
        for (size_t j = 0; j < r->n; j++) {
            if (r->ts[j] <= ref - ra.range || r->ts[j] > ref) {
                continue;
            }
            if (!s) {
                s = pq_matrix_add(ev, out, r->labels, r->nlabels, r->drop_name);
            }
            pq_series_push(ev, s, r->ts[j], r->vs[j]);
        }
    }
    return 0;
}

/* ---- functions ---- */

static bool has_suffix(str_t s, const char *suffix)
{
    size_t n = strlen(suffix);
    return s.len >= n && memcmp(s.p + s.len - n, suffix, n) == 0;
}

static bool fn_is(const promql_node_t *n, const char *name)
{
    return strcmp(n->u.call.func->name, name) == 0;
}

/* Labels absent() and absent_over_time() give: the equality matchers of
 * a selector argument, except __name__ and names matched twice. */
static void absent_labels(pq_ev_t *ev, const promql_node_t *arg, label_t **out, uint32_t *nout)
{
    arg = unparen(arg);
    if (arg->kind == PROMQL_MATRIX_SEL) {
        arg = arg->u.ms.vs;
    }
    *out = NULL;
    *nout = 0;
    if (arg->kind != PROMQL_VECTOR_SEL) {
        return;
    }
    size_t nm = arg->u.vs.nmatchers;
    label_t *ls = arena_alloc(ev->a, (nm ? nm : 1) * sizeof(*ls));
    uint32_t k = 0;
    for (size_t i = 0; i < nm; i++) {
        const matcher_t *m = &arg->u.vs.matchers[i];
        if (m->type != MATCH_EQ || strcmp(m->name, "__name__") == 0) {
            continue;
        }
        bool twice = false;
        for (size_t j = 0; j < nm; j++) {
            const matcher_t *o = &arg->u.vs.matchers[j];
            if (j != i && strcmp(o->name, m->name) == 0) {
                twice = true;
            }
        }
        if (twice) {
            continue;
        }
        /* Sorted insert by name. */
        label_t l = { { m->name, m->name_len }, { m->value, m->value_len } };
        uint32_t p = k;
        while (p > 0 && str_cmp(ls[p - 1].name, l.name) > 0) {
            ls[p] = ls[p - 1];
            p--;
        }
        ls[p] = l;
        k++;
    }
    /* An empty value means "absent label": drop it. */
    uint32_t w = 0;
    for (uint32_t i = 0; i < k; i++) {
        if (ls[i].value.len > 0) {
            ls[w++] = ls[i];
        }
    }
    *out = ls;
    *nout = w;
}

static bool keeps_name(const promql_node_t *call)
{
    return fn_is(call, "last_over_time") || fn_is(call, "first_over_time");
}

/* A function over a range argument: per series and step. */
static int eval_range_call(pq_ev_t *ev, const promql_node_t *n, size_t marg, pq_matrix_t *out)
{
    memset(out, 0, sizeof(*out));
    size_t nsteps = pq_steps(ev);
    const char *name = n->u.call.func->name;
    bool absent = strcmp(name, "absent_over_time") == 0;
    const pq_range_def_t *fn = absent ? pq_range_fn_lookup("present_over_time") : pq_range_fn_lookup(name);
    if (!fn) {
        return pq_fail(ev, PROMQL_ERR_BAD_DATA, "function %s is not supported", name);
    }
    /* Scalar arguments, one value per step. */
    double *sargs[PROMQL_MAX_ARGS] = { 0 };
    size_t nsargs = 0;
    for (size_t i = 0; i < n->u.call.nargs; i++) {
        if (i == marg) {
            continue;
        }
        pq_matrix_t m;
        if (pq_eval(ev, n->u.call.args[i], &m) != 0) {
            return -1;
        }
        sargs[nsargs++] = m.n > 0 ? m.s[0].vs : NULL;
    }
    if (strcmp(name, "double_exponential_smoothing") == 0 && nsteps > 0) {
        for (size_t st = 0; st < nsteps; st++) {
            double sf = sargs[0][st], tf = sargs[1][st];
            if (!(sf > 0 && sf < 1)) {
                return pq_fail(ev, PROMQL_ERR_EXECUTION, "invalid smoothing factor. Expected: 0 < sf < 1, got: %s",
                               pq_gofloat(ev, sf));
            }
            if (!(tf > 0 && tf < 1)) {
                return pq_fail(ev, PROMQL_ERR_EXECUTION, "invalid trend factor. Expected: 0 < tf < 1, got: %s",
                               pq_gofloat(ev, tf));
            }
        }
    }
    if (strcmp(name, "quantile_over_time") == 0) {
        for (size_t st = 0; st < nsteps; st++) {
            double q = sargs[0][st];
            if (isnan(q) || q < 0 || q > 1) {
                pq_annotate(ev, true, n->u.call.args[0],
                            "PromQL warning: quantile value should be between 0 and 1, got %s", pq_gofloat(ev, q));
                break;
            }
        }
    }
    pq_range_arg_t ra;
    if (range_arg(ev, n->u.call.args[marg], &ra) != 0) {
        return -1;
    }
    bool drop = !keeps_name(n);
    bool counter_fn = strcmp(name, "rate") == 0 || strcmp(name, "increase") == 0;
    bool predict = strcmp(name, "predict_linear") == 0;
    double args[PROMQL_MAX_ARGS];
    bool *covered = absent ? arena_calloc(ev->a, nsteps ? nsteps : 1, sizeof(bool)) : NULL;
    for (size_t i = 0; i < ra.n; i++) {
        pq_raw_t *r = &ra.s[i];
        pq_series_t *s = NULL;
        size_t lo = 0, hi = 0;
        uint32_t *resets = NULL;
        if (counter_fn && r->n > 1) {
            /* Prefix counts of counter resets, so a window without one
             * is not scanned for them (exact: a count, not a sum). */
            resets = arena_alloc(ev->a, r->n * sizeof(*resets));
            resets[0] = 0;
            for (size_t j = 1; j < r->n; j++) {
                resets[j] = resets[j - 1] + (r->vs[j] < r->vs[j - 1] ? 1u : 0u);
            }
        }
        for (size_t st = 0; st < nsteps; st++) {
            int64_t ts = ev->start + (int64_t)st * ev->interval;
            int64_t ref = (ra.has_at ? ra.at : ts) - ra.offset;
            while (hi < r->n && r->ts[hi] <= ref) {
                hi++;
            }
            while (lo < hi && r->ts[lo] <= ref - ra.range) {
                lo++;
            }
            if (lo == hi) {
                continue;
            }
            for (size_t k = 0; k < nsargs; k++) {
                args[k] = sargs[k] ? sargs[k][st] : NAN;
            }
            pq_window_t w = {
                r->ts + lo, r->vs + lo, hi - lo, ref, ra.range, &ev->scratch, resets ? resets + lo : NULL
            };
            if (predict) {
                /* Its intercept is at the evaluation time, before @ and
                 * offset (Prometheus never treats it as step-invariant). */
                w.t_end = ts;
            }
            double v;
            unsigned ann = 0;
            if (!pq_range_apply(fn, &w, args, &v, &ann)) {
                continue;
            }
            if (absent) {
                covered[st] = true;
                continue;
            }
            if (!s) {
                s = pq_matrix_add(ev, out, r->labels, r->nlabels, r->drop_name);
                if (drop) {
                    pq_series_drop_name(ev, s);
                }
            }
            pq_series_push(ev, s, ts, v);
        }
        if (s) {
            if (pq_account(ev, s->n) != 0) {
                return -1;
            }
            if (counter_fn) {
                str_t mn = labels_get(r->labels, r->nlabels, "__name__");
                if (mn.len > 0 && !has_suffix(mn, "_total") && !has_suffix(mn, "_sum") && !has_suffix(mn, "_count") &&
                    !has_suffix(mn, "_bucket")) {
                    pq_annotate(ev, false, n->u.call.args[0],
                                "PromQL info: metric might not be a counter, name does not end in "
                                "_total/_sum/_count/_bucket: \"%.*s\"",
                                (int)mn.len, mn.p);
                }
            }
        }
    }
    if (absent) {
        label_t *ls;
        uint32_t nls;
        absent_labels(ev, n->u.call.args[marg], &ls, &nls);
        pq_series_t *s = NULL;
        for (size_t st = 0; st < nsteps; st++) {
            if (covered[st]) {
                continue;
            }
            if (!s) {
                s = pq_matrix_add(ev, out, ls, nls, true);
            }
            pq_series_push(ev, s, ev->start + (int64_t)st * ev->interval, 1);
        }
        return 0;
    }
    /* Prometheus: any two outputs with one label set is an error here,
     * whatever their times. */
    if (!ev->delayed && pq_any_same_labels(ev, out)) {
        return pq_fail(ev, PROMQL_ERR_EXECUTION, "vector cannot contain metrics with the same labelset");
    }
    return 0;
}

/* Per-step functions. */

typedef enum step_kind {
    SK_SAMPLE = 0, /* promql_fn_sample.c */
    SK_DATE_NOW,   /* a date function without argument: of time() */
    SK_TIME,
    SK_PI,
    SK_VECTOR,
    SK_SCALAR,
    SK_TIMESTAMP,
    SK_ABSENT,
    SK_SORT,
    SK_SORT_DESC,
    SK_SORT_BY_LABEL,
    SK_SORT_BY_LABEL_DESC,
    SK_HIST_QUANTILE, /* histogram_quantile, histogram_quantiles, histogram_fraction */
    SK_QUERY_START,   /* start() */
    SK_QUERY_END,     /* end() */
    SK_QUERY_STEP,    /* step() */
    SK_QUERY_RANGE,   /* range() */
    SK_MIN_OF,
    SK_MAX_OF,
    SK_EMPTY, /* native-histogram functions on floats: nothing */
} step_kind_t;

typedef struct call_ctx {
    const promql_node_t *n;
    step_kind_t kind;
    pq_sample_fn sfn;
    size_t vec_arg;  /* index of the instant-vector argument */
    label_t **named; /* per input series: labels after dropping the name */
    uint32_t *nnamed;
    bool *named_done;
    label_t *absent_ls;
    uint32_t absent_n;
    /* histogram_quantile: per input series, its group (or -1 for a bad le) */
    int32_t *group;
    double *le;
    label_t **group_ls;
    uint32_t *group_n;
    size_t ngroups;
    pq_bucket_t *buckets, *btmp; /* btmp: the bucket sort's scratch, as large */
    str_t *qvals;                /* histogram_quantiles: this step's quantile labels */
    size_t *bcount, *bstart;
} call_ctx_t;

static const label_t *named_labels(pq_ev_t *ev, call_ctx_t *c, const pq_sample_t *x, uint32_t *n)
{
    if (ev->delayed) {
        *n = x->nlabels;
        return x->labels;
    }
    if (!c->named_done[x->idx]) {
        static char *const name[] = { "__name__" };
        c->named[x->idx] = pq_labels_without(ev, x->labels, x->nlabels, name, 1, false, &c->nnamed[x->idx]);
        c->named_done[x->idx] = true;
    }
    *n = c->nnamed[x->idx];
    return c->named[x->idx];
}

static double arg_scalar(pq_vec_t *args, size_t i)
{
    return args[i].n > 0 ? args[i].s[0].v : NAN;
}

static int cmp_sample_asc(const void *a, const void *b)
{
    const pq_sample_t *x = a, *y = b;
    if (isnan(x->v) || isnan(y->v)) {
        return (isnan(x->v) != 0) - (isnan(y->v) != 0); /* NaN last */
    }
    return (x->v > y->v) - (x->v < y->v);
}

static int cmp_sample_desc(const void *a, const void *b)
{
    const pq_sample_t *x = a, *y = b;
    if (isnan(x->v) || isnan(y->v)) {
        return (isnan(x->v) != 0) - (isnan(y->v) != 0);
    }
    return (x->v < y->v) - (x->v > y->v);
}

/* Natural order of two strings: runs of digits compare as numbers. */
static int natcmp(str_t a, str_t b)
{
    size_t i = 0, j = 0;
    while (i < a.len && j < b.len) {
        bool da = a.p[i] >= '0' && a.p[i] <= '9';
        bool db = b.p[j] >= '0' && b.p[j] <= '9';
        if (da && db) {
            size_t si = i, sj = j;
            while (si < a.len && a.p[si] == '0') {
                si++;
            }
            while (sj < b.len && b.p[sj] == '0') {
                sj++;
            }
            size_t ei = si, ej = sj;
            while (ei < a.len && a.p[ei] >= '0' && a.p[ei] <= '9') {
                ei++;
            }
            while (ej < b.len && b.p[ej] >= '0' && b.p[ej] <= '9') {
                ej++;
            }
            if (ei - si != ej - sj) {
                return ei - si < ej - sj ? -1 : 1;
            }
            int c = memcmp(a.p + si, b.p + sj, ei - si);
            if (c != 0) {
                return c < 0 ? -1 : 1;
            }
            i = ei;
            j = ej;
            continue;
        }
        if (a.p[i] != b.p[j]) {
            return (unsigned char)a.p[i] < (unsigned char)b.p[j] ? -1 : 1;
        }
        i++;
        j++;
    }
    return (a.len - i > b.len - j) - (a.len - i < b.len - j);
}

static void sort_by_label(pq_sample_t *s, size_t n, const promql_node_t *call, bool desc)
{
    /* Insertion sort: stable, and instant vectors sorted here are small. */
    for (size_t i = 1; i < n; i++) {
        pq_sample_t x = s[i];
        size_t j = i;
        while (j > 0) {
            const pq_sample_t *y = &s[j - 1];
            int c = 0;
            for (size_t k = 1; k < call->u.call.nargs && c == 0; k++) {
                const promql_node_t *a = unparen(call->u.call.args[k]);
                str_t ln = { a->u.str.val, a->u.str.len };
                str_t vx = { "", 0 }, vy = { "", 0 };
                for (uint32_t l = 0; l < x.nlabels; l++) {
                    if (str_eq(x.labels[l].name, ln)) {
                        vx = x.labels[l].value;
                    }
                }
                for (uint32_t l = 0; l < y->nlabels; l++) {
                    if (str_eq(y->labels[l].name, ln)) {
                        vy = y->labels[l].value;
                    }
                }
                if (!str_eq(vx, vy)) {
                    c = natcmp(vx, vy);
                }
            }
            if (c == 0) {
                c = labels_compare(x.labels, x.nlabels, y->labels, y->nlabels);
            }
            if (desc) {
                c = -c;
            }
            if (c >= 0) {
                break;
            }
            s[j] = s[j - 1];
            j--;
        }
        s[j] = x;
    }
}

/* The label value histogram_quantiles gives a quantile: Go's 'f'
 * formatting, with ".0" added to whole numbers. */
static str_t quantile_label(pq_ev_t *ev, double q)
{
    buf_t b = { 0 };
    json_go_float(&b, q, 'f');
    if (isfinite(q) && !memchr(b.data, '.', b.len)) {
        buf_puts(&b, ".0");
    }
    str_t s = { arena_strndup(ev->a, (const char *)b.data, b.len), b.len };
    buf_fini(&b);
    return s;
}

static int step_hist_quantile(pq_ev_t *ev, call_ctx_t *c, pq_vec_t *args, pq_vec_t *out)
{
    const promql_node_t *n = c->n;
    bool multi = fn_is(n, "histogram_quantiles");
    bool fraction = fn_is(n, "histogram_fraction");
    pq_vec_t *v = &args[c->vec_arg];
    if (v->n == 0) {
        return 0;
    }
    memset(c->bcount, 0, c->ngroups * sizeof(*c->bcount));
    for (size_t i = 0; i < v->n; i++) {
        int32_t g = c->group[v->s[i].idx];
        if (g >= 0) {
            c->bcount[g]++;
        }
    }
    size_t pos = 0;
    for (size_t g = 0; g < c->ngroups; g++) {
        c->bstart[g] = pos;
        pos += c->bcount[g];
        c->bcount[g] = 0;
    }
    for (size_t i = 0; i < v->n; i++) {
        uint32_t idx = v->s[i].idx;
        int32_t g = c->group[idx];
        if (g < 0) {
            str_t le = labels_get(v->s[i].labels, v->s[i].nlabels, "le");
            str_t mn = labels_get(v->s[i].labels, v->s[i].nlabels, "__name__");
            pq_annotate(ev, true, n->u.call.args[c->vec_arg],
                        "PromQL warning: bucket label \"le\" is missing or has a malformed value of \"%.*s\" for "
                        "metric name \"%.*s\"",
                        (int)le.len, le.p ? le.p : "", ev->delayed ? (int)mn.len : 0, mn.p ? mn.p : "");
            continue;
        }
        c->buckets[c->bstart[g] + c->bcount[g]++] = (pq_bucket_t){ c->le[idx], v->s[i].v };
    }
    size_t nq = multi ? n->u.call.nargs - 2 : 1;
    str_t qlabel = { 0 };
    if (multi) {
        const promql_node_t *l = unparen(n->u.call.args[1]);
        qlabel = (str_t){ l->u.str.val, l->u.str.len };
        if (!c->qvals) {
            c->qvals = arena_alloc(ev->a, nq * sizeof(*c->qvals));
        }
        for (size_t qi = 0; qi < nq; qi++) {
            c->qvals[qi] = quantile_label(ev, arg_scalar(args, 2 + qi));
        }
    }
    for (size_t g = 0; g < c->ngroups; g++) {
        if (c->bcount[g] == 0) {
            continue;
        }
        for (size_t qi = 0; qi < nq; qi++) {
            unsigned ann = 0;
            double r;
            label_t *ls = c->group_ls[g];
            uint32_t nls = c->group_n[g];
            if (fraction) {
                r = pq_bucket_fraction(arg_scalar(args, 0), arg_scalar(args, 1), c->buckets + c->bstart[g],
                                       c->bcount[g], c->btmp, &ann);
            } else if (multi) {
                double q = arg_scalar(args, 2 + qi);
                r = pq_bucket_quantile(q, c->buckets + c->bstart[g], c->bcount[g], c->btmp, &ann);
                ls = pq_labels_set(ev, ls, nls, qlabel, c->qvals[qi], &nls);
            } else {
                r = pq_bucket_quantile(arg_scalar(args, 0), c->buckets + c->bstart[g], c->bcount[g], c->btmp, &ann);
            }
            if (ann & PQ_ANN_BUCKET_FIXED) {
                str_t mn = labels_get(c->group_ls[g], c->group_n[g], "__name__");
                pq_annotate(ev, false, n->u.call.args[c->vec_arg],
                            "PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see "
                            "https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for "
                            "metric name \"%.*s\"",
                            (int)mn.len, mn.p ? mn.p : "");
            }
            pq_sample_t *o = pq_vec_push(ev, out);
            o->labels = ls;
            o->nlabels = nls;
            o->drop_name = true;
            /* A quantile may change from step to step, and with it the
             * series (Prometheus gathers steps by labels). */
            o->key = multi ? labels_hash(ls, nls) : (uint64_t)g;
            o->v = r;
        }
    }
    return 0;
}

static int step_call(pq_ev_t *ev, void *vctx, int64_t ts, pq_vec_t *args, pq_vec_t *out)
{
    call_ctx_t *c = vctx;
    const promql_node_t *n = c->n;
    switch (c->kind) {
    case SK_SAMPLE: {
        double sargs[PROMQL_MAX_ARGS];
        size_t ns = 0;
        for (size_t i = 0; i < n->u.call.nargs; i++) {
            if (i != c->vec_arg) {
                sargs[ns++] = arg_scalar(args, i);
            }
        }
        if (fn_is(n, "round") && n->u.call.nargs == 1) {
            sargs[ns++] = 1;
        }
        pq_vec_t *v = &args[c->vec_arg];
        for (size_t i = 0; i < v->n; i++) {
            double r;
            if (!c->sfn(v->s[i].v, sargs, &r)) {
                continue;
            }
            pq_sample_t *o = pq_vec_push(ev, out);
            *o = v->s[i];
            o->labels = named_labels(ev, c, &v->s[i], &o->nlabels);
            o->drop_name = true;
            o->v = r;
        }
        return 0;
    }
    case SK_DATE_NOW: {
        double r;
        if (c->sfn((double)ts / 1000.0, NULL, &r)) {
            pq_sample_t *o = pq_vec_push(ev, out);
            o->v = r;
        }
        return 0;
    }
    case SK_TIME:
        pq_vec_push(ev, out)->v = (double)ts / 1000.0;
        return 0;
    case SK_PI:
        pq_vec_push(ev, out)->v = M_PI;
        return 0;
    case SK_VECTOR:
        pq_vec_push(ev, out)->v = arg_scalar(args, 0);
        return 0;
    case SK_SCALAR:
        pq_vec_push(ev, out)->v = args[0].n == 1 ? args[0].s[0].v : NAN;
        return 0;
    case SK_TIMESTAMP:
        for (size_t i = 0; i < args[0].n; i++) {
            pq_sample_t *o = pq_vec_push(ev, out);
            *o = args[0].s[i];
            o->labels = named_labels(ev, c, &args[0].s[i], &o->nlabels);
            o->drop_name = true;
            o->v = (double)args[0].s[i].t / 1000.0;
        }
        return 0;
    case SK_ABSENT:
        if (args[0].n == 0) {
            pq_sample_t *o = pq_vec_push(ev, out);
            o->labels = c->absent_ls;
            o->nlabels = c->absent_n;
            o->drop_name = true;
            o->v = 1;
        }
        return 0;
    case SK_SORT:
    case SK_SORT_DESC:
    case SK_SORT_BY_LABEL:
    case SK_SORT_BY_LABEL_DESC: {
        size_t base = out->n;
        for (size_t i = 0; i < args[0].n; i++) {
            *pq_vec_push(ev, out) = args[0].s[i];
        }
        if (ev->start == ev->end) {
            pq_sample_t *s = out->s + base;
            size_t cnt = out->n - base;
            if (c->kind == SK_SORT) {
                qsort(s, cnt, sizeof(*s), cmp_sample_asc);
            } else if (c->kind == SK_SORT_DESC) {
                qsort(s, cnt, sizeof(*s), cmp_sample_desc);
            } else {
                sort_by_label(s, cnt, n, c->kind == SK_SORT_BY_LABEL_DESC);
            }
        }
        return 0;
    }
    case SK_HIST_QUANTILE:
        return step_hist_quantile(ev, c, args, out);
    case SK_QUERY_START:
        pq_vec_push(ev, out)->v = (double)ev->q_start / 1000.0;
        return 0;
    case SK_QUERY_END:
        pq_vec_push(ev, out)->v = (double)ev->q_end / 1000.0;
        return 0;
    case SK_QUERY_STEP:
        pq_vec_push(ev, out)->v = (double)ev->q_step / 1000.0;
        return 0;
    case SK_QUERY_RANGE:
        pq_vec_push(ev, out)->v = (double)(ev->q_end - ev->q_start) / 1000.0;
        return 0;
    case SK_MIN_OF:
    case SK_MAX_OF: {
        double x = arg_scalar(args, 0), y = arg_scalar(args, 1), r;
        if (isnan(x) || isnan(y)) {
            r = NAN;
        } else if (x == 0 && y == 0) {
            /* Go's math.Min/Max order -0 below +0. */
            r = (signbit(x) != 0) == (c->kind == SK_MIN_OF) ? x : y;
        } else {
            r = (x < y) == (c->kind == SK_MIN_OF) ? x : y;
        }
        pq_vec_push(ev, out)->v = r;
        return 0;
    }
    case SK_EMPTY:
        return 0;
    }
    return 0;
}

/* histogram_quantile & co: each input series' group (its labels without
 * le) and le bound, computed once per call, not per step. */
static int prepare_hist_quantile(pq_ev_t *ev, call_ctx_t *c, pq_matrix_t *m)
{
    size_t n = m->n;
    c->group = arena_alloc(ev->a, (n ? n : 1) * sizeof(*c->group));
    c->le = arena_alloc(ev->a, (n ? n : 1) * sizeof(*c->le));
    c->group_ls = arena_alloc(ev->a, (n ? n : 1) * sizeof(*c->group_ls));
    c->group_n = arena_alloc(ev->a, (n ? n : 1) * sizeof(*c->group_n));
    c->ngroups = 0;
    static char *const le_name[] = { "le" };
    pq_lset_index_t keys;
    pq_lset_index_init(&keys);
    for (size_t i = 0; i < n; i++) {
        pq_series_t *s = &m->s[i];
        str_t le = labels_get(s->labels, s->nlabels, "le");
        double ub;
        if (le.len == 0 || !str_parse_double(le, &ub)) {
            c->group[i] = -1;
            continue;
        }
        c->le[i] = ub;
        uint32_t kn;
        label_t *key = pq_labels_without(ev, s->labels, s->nlabels, le_name, 1, false, &kn);
        bool added;
        size_t g = pq_lset_index_get(ev, &keys, key, kn, &added);
        if (added) {
            uint32_t gn;
            c->group_ls[g] = pq_labels_without(ev, s->labels, s->nlabels, le_name, 1, !ev->delayed, &gn);
            c->group_n[g] = gn;
            c->ngroups = g + 1;
        }
        c->group[i] = (int32_t)g;
    }
    pq_lset_index_fini(&keys);
    c->buckets = arena_alloc(ev->a, (n ? n : 1) * sizeof(*c->buckets));
    c->btmp = arena_alloc(ev->a, (n ? n : 1) * sizeof(*c->btmp));
    c->bcount = arena_alloc(ev->a, (c->ngroups ? c->ngroups : 1) * sizeof(*c->bcount));
    c->bstart = arena_alloc(ev->a, (c->ngroups ? c->ngroups : 1) * sizeof(*c->bstart));
    return 0;
}

static int eval_label_fn(pq_ev_t *ev, const promql_node_t *n, pq_matrix_t *out)
{
    if (pq_eval(ev, n->u.call.args[0], out) != 0) {
        return -1;
    }
    const promql_node_t *a[PROMQL_MAX_ARGS + 1] = { 0 };
    for (size_t i = 1; i < n->u.call.nargs && i <= PROMQL_MAX_ARGS; i++) {
        a[i] = unparen(n->u.call.args[i]);
    }
    bool dst_is_name = a[1]->u.str.len == 8 && memcmp(a[1]->u.str.val, "__name__", 8) == 0;
    if (fn_is(n, "label_replace")) {
        pq_relabel_t *r;
        char err[512];
        if (pq_relabel_create(a[1]->u.str.val, a[1]->u.str.len, a[2]->u.str.val, a[2]->u.str.len, a[3]->u.str.val,
                              a[3]->u.str.len, a[4]->u.str.val, a[4]->u.str.len, &r, err, sizeof(err)) != 0) {
            return pq_fail(ev, PROMQL_ERR_EXECUTION, "%s", err);
        }
        for (size_t i = 0; i < out->n; i++) {
            label_t *ls;
            size_t k = pq_relabel_apply(r, out->s[i].labels, out->s[i].nlabels, ev->a, &ls);
            if (ls != out->s[i].labels && dst_is_name) {
                out->s[i].drop_name = false; /* set explicitly: kept (delayed removal) */
            }
            out->s[i].labels = ls;
            out->s[i].nlabels = (uint32_t)k;
        }
        pq_relabel_destroy(r);
    } else {
        str_t dst = { a[1]->u.str.val, a[1]->u.str.len };
        size_t nsrc = n->u.call.nargs - 3;
        str_t *src = arena_alloc(ev->a, (nsrc ? nsrc : 1) * sizeof(*src));
        for (size_t i = 0; i < nsrc; i++) {
            const promql_node_t *s = unparen(n->u.call.args[3 + i]);
            src[i] = (str_t){ s->u.str.val, s->u.str.len };
            if (src[i].len == 0 || !str_utf8_valid(src[i].p, src[i].len)) {
                return pq_fail(ev, PROMQL_ERR_EXECUTION, "invalid source label name in label_join(): %.*s",
                               (int)src[i].len, src[i].p);
            }
        }
        if (dst.len == 0 || !str_utf8_valid(dst.p, dst.len)) {
            return pq_fail(ev, PROMQL_ERR_EXECUTION, "invalid destination label name in label_join(): %.*s",
                           (int)dst.len, dst.p);
        }
        str_t sep = { a[2]->u.str.val, a[2]->u.str.len };
        for (size_t i = 0; i < out->n; i++) {
            label_t *ls;
            size_t k = pq_label_join(out->s[i].labels, out->s[i].nlabels, dst, sep, src, nsrc, ev->a, &ls);
            if (dst_is_name) {
                out->s[i].drop_name = false;
            }
            out->s[i].labels = ls;
            out->s[i].nlabels = (uint32_t)k;
        }
    }
    if (!ev->delayed && pq_any_same_labels(ev, out)) {
        return pq_fail(ev, PROMQL_ERR_EXECUTION, "vector cannot contain metrics with the same labelset");
    }
    return 0;
}

static int eval_call(pq_ev_t *ev, const promql_node_t *n, pq_matrix_t *out)
{
    const promql_func_t *f = n->u.call.func;
    if (f->native_histogram_only) {
        /* Floats only here: these functions ignore float samples. */
        for (size_t i = 0; i < n->u.call.nargs; i++) {
            pq_matrix_t m;
            if (pq_eval(ev, n->u.call.args[i], &m) != 0) {
                return -1;
            }
        }
        memset(out, 0, sizeof(*out));
        return 0;
    }
    if (strcmp(f->name, "info") == 0) {
        return pq_fail(ev, PROMQL_ERR_BAD_DATA, "function info() is not supported by this server");
    }
    for (size_t i = 0; i < n->u.call.nargs; i++) {
        if (promql_node_type(n->u.call.args[i]) == PROMQL_TYPE_MATRIX) {
            return eval_range_call(ev, n, i, out);
        }
    }
    if (fn_is(n, "label_replace") || fn_is(n, "label_join")) {
        return eval_label_fn(ev, n, out);
    }
    call_ctx_t c = { .n = n };
    const char *name = f->name;
    if (strcmp(name, "time") == 0) {
        c.kind = SK_TIME;
    } else if (strcmp(name, "pi") == 0) {
        c.kind = SK_PI;
    } else if (strcmp(name, "vector") == 0) {
        c.kind = SK_VECTOR;
    } else if (strcmp(name, "scalar") == 0) {
        c.kind = SK_SCALAR;
    } else if (strcmp(name, "timestamp") == 0) {
        c.kind = SK_TIMESTAMP;
        const promql_node_t *arg = unparen(n->u.call.args[0]);
        if (arg->kind == PROMQL_VECTOR_SEL) {
            pq_matrix_t m;
            if (eval_vector_selector(ev, arg, true, &m) != 0) {
                return -1;
            }
            for (size_t i = 0; i < m.n; i++) {
                pq_series_drop_name(ev, &m.s[i]);
            }
            *out = m;
            return pq_merge_same_labels(ev, out);
        }
    } else if (strcmp(name, "absent") == 0) {
        c.kind = SK_ABSENT;
        absent_labels(ev, n->u.call.args[0], &c.absent_ls, &c.absent_n);
    } else if (strcmp(name, "sort") == 0) {
        c.kind = SK_SORT;
    } else if (strcmp(name, "sort_desc") == 0) {
        c.kind = SK_SORT_DESC;
    } else if (strcmp(name, "sort_by_label") == 0) {
        c.kind = SK_SORT_BY_LABEL;
    } else if (strcmp(name, "sort_by_label_desc") == 0) {
        c.kind = SK_SORT_BY_LABEL_DESC;
    } else if (strcmp(name, "histogram_quantile") == 0 || strcmp(name, "histogram_quantiles") == 0 ||
               strcmp(name, "histogram_fraction") == 0) {
        c.kind = SK_HIST_QUANTILE;
    } else if (strcmp(name, "start") == 0) {
        c.kind = SK_QUERY_START;
    } else if (strcmp(name, "end") == 0) {
        c.kind = SK_QUERY_END;
    } else if (strcmp(name, "step") == 0) {
        c.kind = SK_QUERY_STEP;
    } else if (strcmp(name, "range") == 0) {
        c.kind = SK_QUERY_RANGE;
    } else if (strcmp(name, "min_of") == 0) {
        c.kind = SK_MIN_OF;
    } else if (strcmp(name, "max_of") == 0) {
        c.kind = SK_MAX_OF;
    } else {
        c.sfn = pq_sample_fn_lookup(name);
        if (!c.sfn) {
            return pq_fail(ev, PROMQL_ERR_BAD_DATA, "function %s is not supported", name);
        }
        c.kind = n->u.call.nargs == 0 ? SK_DATE_NOW : SK_SAMPLE;
    }
    /* Evaluate the arguments (strings are read from the AST). */
    size_t na = n->u.call.nargs;
    pq_matrix_t *args = arena_calloc(ev->a, na ? na : 1, sizeof(*args));
    for (size_t i = 0; i < na; i++) {
        if (promql_node_type(n->u.call.args[i]) == PROMQL_TYPE_STRING) {
            continue;
        }
        if (pq_eval(ev, n->u.call.args[i], &args[i]) != 0) {
            return -1;
        }
        if (promql_node_type(n->u.call.args[i]) == PROMQL_TYPE_VECTOR) {
            c.vec_arg = i;
        }
    }
    size_t nv = args[c.vec_arg].n;
    c.named = arena_alloc(ev->a, (nv ? nv : 1) * sizeof(*c.named));
    c.nnamed = arena_alloc(ev->a, (nv ? nv : 1) * sizeof(*c.nnamed));
    c.named_done = arena_calloc(ev->a, nv ? nv : 1, sizeof(*c.named_done));
    if (c.kind == SK_HIST_QUANTILE) {
        prepare_hist_quantile(ev, &c, &args[c.vec_arg]);
        bool fraction = strcmp(name, "histogram_fraction") == 0;
        for (size_t i = 0; i < na && !fraction; i++) {
            if (i == c.vec_arg || promql_node_type(n->u.call.args[i]) != PROMQL_TYPE_SCALAR || args[i].n == 0) {
                continue;
            }
            for (size_t st = 0; st < pq_steps(ev); st++) {
                double q = args[i].s[0].vs[st];
                if (isnan(q) || q < 0 || q > 1) {
                    pq_annotate(ev, true, n->u.call.args[i],
                                "PromQL warning: quantile value should be between 0 and 1, got %s", pq_gofloat(ev, q));
                    break;
                }
            }
        }
    }
    return pq_range_eval(ev, args, na, step_call, &c, out);
}

/* ---- the tree walk ---- */

static int step_number(pq_ev_t *ev, void *ctx, int64_t ts, pq_vec_t *args, pq_vec_t *out)
{
    (void)ts;
    (void)args;
    pq_vec_push(ev, out)->v = *(const double *)ctx;
    return 0;
}

static int eval_unary(pq_ev_t *ev, const promql_node_t *n, pq_matrix_t *out)
{
    if (pq_eval(ev, n->u.unary.expr, out) != 0) {
        return -1;
    }
    if (!n->u.unary.neg) {
        return 0;
    }
    for (size_t i = 0; i < out->n; i++) {
        pq_series_t *s = &out->s[i];
        pq_series_drop_name(ev, s);
        for (uint32_t j = 0; j < s->n; j++) {
            s->vs[j] = -s->vs[j];
        }
    }
    return ev->delayed ? 0 : pq_merge_same_labels(ev, out);
}

static int eval_node(pq_ev_t *ev, const promql_node_t *n, pq_matrix_t *out);

/* Evaluate n; afterwards the samples held are those held before plus
 * n's result, as Prometheus counts them (its inputs are released). */
int pq_eval(pq_ev_t *ev, const promql_node_t *n, pq_matrix_t *out)
{
    uint64_t held = ev->samples;
    if (eval_node(ev, n, out) != 0) {
        return -1;
    }
    uint64_t points = 0;
    for (size_t i = 0; i < out->n; i++) {
        points += out->s[i].n;
    }
    ev->samples = held;
    return pq_account(ev, points);
}

static int eval_node(pq_ev_t *ev, const promql_node_t *n, pq_matrix_t *out)
{
    memset(out, 0, sizeof(*out));
    if (pq_account(ev, 0) != 0) {
        return -1;
    }
    switch (n->kind) {
    case PROMQL_NUMBER: {
        double v = n->u.num.val;
        return pq_range_eval(ev, NULL, 0, step_number, &v, out);
    }
    case PROMQL_STRING:
        return 0;
    case PROMQL_VECTOR_SEL:
        return eval_vector_selector(ev, n, false, out);
    case PROMQL_MATRIX_SEL:
    case PROMQL_SUBQUERY:
        if (ev->start != ev->end) {
            return pq_fail(ev, PROMQL_ERR_BAD_DATA, "cannot do range evaluation of matrix selector");
        }
        return eval_range_value(ev, n, out);
    case PROMQL_CALL:
        return eval_call(ev, n, out);
    case PROMQL_AGGREGATE:
        return pq_eval_aggregate(ev, n, out);
    case PROMQL_BINARY:
        return pq_eval_binary(ev, n, out);
    case PROMQL_UNARY:
        return eval_unary(ev, n, out);
    case PROMQL_PAREN:
        return pq_eval(ev, n->u.paren.expr, out);
    }
    return pq_fail(ev, PROMQL_ERR_INTERNAL, "unhandled expression");
}

/* ---- the entry point ---- */

static int series_cmp(const void *a, const void *b)
{
    const promql_series_t *x = a, *y = b;
    return labels_compare(x->labels, x->nlabels, y->labels, y->nlabels);
}

/* Range queries: sorting functions have no effect (results are sorted
 * by labels); Prometheus says so. */
static void warn_sorts(pq_ev_t *ev, const promql_node_t *n)
{
    if (!n) {
        return;
    }
    switch (n->kind) {
    case PROMQL_CALL:
        if (strncmp(n->u.call.func->name, "sort", 4) == 0) {
            pq_annotate(ev, true, n,
                        "PromQL warning: sort is ineffective for range queries since results are always ordered by "
                        "labels");
        }
        for (size_t i = 0; i < n->u.call.nargs; i++) {
            warn_sorts(ev, n->u.call.args[i]);
        }
        break;
    case PROMQL_AGGREGATE:
        warn_sorts(ev, n->u.agg.param);
        warn_sorts(ev, n->u.agg.expr);
        break;
    case PROMQL_BINARY:
        warn_sorts(ev, n->u.bin.lhs);
        warn_sorts(ev, n->u.bin.rhs);
        break;
    case PROMQL_UNARY:
        warn_sorts(ev, n->u.unary.expr);
        break;
    case PROMQL_PAREN:
        warn_sorts(ev, n->u.paren.expr);
        break;
    case PROMQL_SUBQUERY:
        warn_sorts(ev, n->u.sq.expr);
        break;
    default:
        break;
    }
}

/* Delayed name removal: drop flagged names, merge what became equal. */
static int cleanup_names(pq_ev_t *ev, pq_matrix_t *m)
{
    if (!ev->delayed) {
        return 0;
    }
    for (size_t i = 0; i < m->n; i++) {
        if (m->s[i].drop_name) {
            ev->delayed = false;
            pq_series_drop_name(ev, &m->s[i]);
            ev->delayed = true;
        }
        m->s[i].drop_name = false;
    }
    return pq_merge_same_labels(ev, m);
}

static int select_tsdb(void *ctx, matcher_t *ms, size_t nms, int64_t mint, int64_t maxt, tsdb_select_fn fn,
                       void *fn_ctx)
{
    return tsdb_select(ctx, ms, nms, mint, maxt, fn, fn_ctx);
}

promql_source_t promql_source_tsdb(tsdb_t *db)
{
    return (promql_source_t){ select_tsdb, db };
}

int promql_eval(const promql_source_t *src, const promql_engine_opts_t *opts, const promql_node_t *root, int64_t start,
                int64_t end, int64_t step, arena_t *a, promql_result_t *res, promql_eval_error_t *err)
{
    memset(res, 0, sizeof(*res));
    memset(err, 0, sizeof(*err));
    bool instant = step == 0;
    pq_ev_t ev = {
        .src = src,
        .a = a,
        .start = start,
        .end = instant ? start : end,
        .interval = instant ? 1 : step,
        .q_start = start,
        .q_end = instant ? start : end,
        .q_step = instant ? 0 : step,
        .lookback = opts && opts->lookback_ms > 0 ? opts->lookback_ms : 5 * 60 * 1000,
        .subquery_step = opts && opts->subquery_step_ms > 0 ? opts->subquery_step_ms : 60 * 1000,
        .delayed = opts && opts->delayed_name_removal,
        .max_samples = opts && opts->max_samples > 0 ? opts->max_samples : 50000000,
        .err = err,
        .query = opts ? opts->query : NULL,
        .query_len = opts ? opts->query_len : 0,
    };
    if (opts && opts->timeout_s > 0) {
        ev.deadline = clock_mono_s() + opts->timeout_s;
    }
    promql_type_t type = promql_node_type(root);
    if (!instant && type != PROMQL_TYPE_SCALAR && type != PROMQL_TYPE_VECTOR) {
        err->type = PROMQL_ERR_BAD_DATA;
        snprintf(err->msg, sizeof(err->msg),
                 "invalid expression type \"%s\" for range query, must be Scalar or instant Vector",
                 promql_type_str(type));
        return -1;
    }
    pq_matrix_t m;
    int rc = 0;
    if (type == PROMQL_TYPE_STRING) {
        const promql_node_t *s = unparen(root);
        res->type = PROMQL_TYPE_STRING;
        res->str = s->u.str.val;
        res->str_len = s->u.str.len;
        res->t = start;
        goto done;
    }
    if (!instant) {
        warn_sorts(&ev, root);
    }
    rc = pq_eval(&ev, root, &m);
    if (rc == 0) {
        rc = cleanup_names(&ev, &m);
    }
    if (rc != 0) {
        if (err->type == PROMQL_ERR_NONE) {
            err->type = PROMQL_ERR_INTERNAL;
            snprintf(err->msg, sizeof(err->msg), "evaluation failed");
        }
        mem_free(ev.scratch.d);
        return -1;
    }
    res->t = start;
    if (instant && type == PROMQL_TYPE_SCALAR) {
        res->type = PROMQL_TYPE_SCALAR;
        res->scalar = m.n > 0 && m.s[0].n > 0 ? m.s[0].vs[0] : NAN;
        goto done;
    }
    res->type = instant && type == PROMQL_TYPE_VECTOR ? PROMQL_TYPE_VECTOR : PROMQL_TYPE_MATRIX;
    res->series = arena_alloc(a, (m.n ? m.n : 1) * sizeof(*res->series));
    for (size_t i = 0; i < m.n; i++) {
        pq_series_t *s = &m.s[i];
        if (s->n == 0) {
            continue;
        }
        res->series[res->nseries++] = (promql_series_t){ s->labels, s->nlabels, s->ts, s->vs, s->n };
    }
    if (res->type == PROMQL_TYPE_MATRIX && res->nseries > 1) {
        qsort(res->series, res->nseries, sizeof(*res->series), series_cmp);
    }
done:
    mem_free(ev.scratch.d);
    res->warnings = ev.warnings;
    res->nwarnings = ev.nwarnings;
    res->infos = ev.infos;
    res->ninfos = ev.ninfos;
    return 0;
}

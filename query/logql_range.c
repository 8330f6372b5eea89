/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logql_range: range aggregations (count_over_time, rate, bytes_*,
 * absent_over_time, the unwrap family) over the query's steps, as Loki's
 * range_vector.go computes them.
 *
 * Core idea: one selection reads every entry in [start - range - offset,
 * last step - offset], runs the pipeline, and appends (ts, value) to the
 * series its final labels name (after by/without; an entry with
 * __error__ keeps all its labels, as Loki's GroupedLabels does). Each
 * series' samples are sorted once and the steps slide two cursors over
 * them: window i is (t_i - offset - range, t_i - offset]; count and rate
 * cost O(1) per step, the other functions walk the window.
 *
 * Loki's rules kept: an absent or empty unwrapped label drops the entry;
 * a failed conversion sets __error__=SampleExtractionErr; without by the
 * unwrapped label leaves the series; a series with __error__ and a point
 * fails the query with Loki's text unless the hints asked to keep it
 * (__preserve_error__); rate over unwrap is sum / range; rate_counter
 * extrapolates as Prometheus; a parent sum without its own grouping
 * pushes its grouping here (canInjectVectorGrouping), and grouping,
 * unwrap and stages give the parsers their hints.
 *
 * Invariant: the steady path allocates only when a series' sample array
 * grows (doubling).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/mem.h"
#include "query/logql_int.h"

typedef struct samp {
    int64_t ts;
    double v;
} samp_t;

typedef struct rser {
    label_t *ls;
    size_t nls;
    samp_t *s;
    size_t n, cap;
    bool unsorted;
    bool err;
} rser_t;

typedef struct rstate {
    lq_ctx_t *c;
    const logql_node_t *n;
    const logql_grouping_t *g; /* n's grouping, or the one a parent sum pushed */
    lq_pipe_t *pipe;
    lq_lf_t **post;
    size_t npost;
    lq_lbs_t lbs;
    rser_t *ser;
    size_t nser, capser;
    hmap_t idx;
    label_t *tmp;
    size_t tmpcap;
    int rc;
    /* fast path: one series for a whole callback */
    const label_t *last_labels;
    size_t last_ser;
} rstate_t;

typedef struct keq {
    rstate_t *st;
    const label_t *ls;
    size_t n;
} keq_t;

static bool key_eq(void *ctx, uint64_t v)
{
    keq_t *k = ctx;
    const rser_t *s = &k->st->ser[v];
    return lq_labels_eq(s->ls, s->nls, k->ls, k->n);
}

static size_t series_for(rstate_t *st, const label_t *ls, size_t n, bool err)
{
    uint64_t h = labels_hash(ls, n);
    keq_t k = { st, ls, n };
    uint64_t v = 0;
    if (hmap_get(&st->idx, h, key_eq, &k, &v)) {
        return (size_t)v;
    }
    if (st->nser == st->capser) {
        st->capser = st->capser ? st->capser * 2 : 16;
        st->ser = mem_realloc(st->ser, st->capser * sizeof(*st->ser));
    }
    rser_t *s = &st->ser[st->nser];
    memset(s, 0, sizeof(*s));
    s->ls = lq_labels_dup(st->c->a, ls, n);
    s->nls = n;
    s->err = err;
    hmap_put(&st->idx, h, st->nser);
    return st->nser++;
}

static void add_sample(rser_t *s, int64_t ts, double v)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->s = mem_realloc(s->s, s->cap * sizeof(*s->s));
    }
    if (s->n > 0 && s->s[s->n - 1].ts > ts) {
        s->unsorted = true;
    }
    s->s[s->n++] = (samp_t){ ts, v };
}

static bool in_list(const logql_grouping_t *g, str_t name)
{
    for (size_t i = 0; i < g->nlabels; i++) {
        if (str_eq((str_t){ g->labels[i].p, g->labels[i].len }, name)) {
            return true;
        }
    }
    return false;
}

/* Apply the aggregation's grouping (and the unwrap label's removal). */
static size_t group_labels(const rstate_t *st, label_t *ls, size_t n)
{
    const logql_grouping_t *g = st->g;
    const logql_unwrap_t *u = st->n->u.range.unwrap;
    bool by = g->present && !g->without;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool keep;
        if (by) {
            keep = in_list(g, ls[i].name);
        } else {
            keep = !(g->present && in_list(g, ls[i].name)) &&
                   !(u != NULL && str_eq(ls[i].name, (str_t){ u->ident.p, u->ident.len }));
        }
        if (keep) {
            ls[k++] = ls[i];
        }
    }
    return k;
}

static bool convert(lq_lbs_t *b, logql_conv_t conv, str_t v, double *out)
{
    char msg[300];
    int m = 0;
    if (conv == LQ_CONV_NONE) {
        if (str_parse_double(v, out)) {
            return true;
        }
        m = snprintf(msg, sizeof(msg), "strconv.ParseFloat: parsing \"%.*s\": invalid syntax", (int)v.len, v.p);
    } else if (conv == LQ_CONV_BYTES) {
        uint64_t by = 0;
        if (logql_parse_bytes(v.p, v.len, &by)) {
            *out = (double)by;
            return true;
        }
        size_t i = 0;
        while (i < v.len && ((v.p[i] >= '0' && v.p[i] <= '9') || v.p[i] == '.' || v.p[i] == ',')) {
            i++;
        }
        if (i == 0) {
            m = snprintf(msg, sizeof(msg), "strconv.ParseFloat: parsing \"\": invalid syntax");
        } else {
            while (i < v.len && v.p[i] == ' ') {
                i++;
            }
            m = snprintf(msg, sizeof(msg), "unhandled size name: %.*s", (int)(v.len - i), v.p + i);
        }
    } else {
        int64_t ns = 0;
        if (logql_parse_go_duration(v.p, v.len, &ns)) {
            *out = (double)ns / 1e9;
            return true;
        }
        size_t i = 0;
        while (i < v.len && ((v.p[i] >= '0' && v.p[i] <= '9') || v.p[i] == '.')) {
            i++;
        }
        if (i == v.len) {
            m = snprintf(msg, sizeof(msg), "time: missing unit in duration \"%.*s\"", (int)v.len, v.p);
        } else {
            m = snprintf(msg, sizeof(msg), "time: invalid duration \"%.*s\"", (int)v.len, v.p);
        }
    }
    if (m < 0) {
        m = 0;
    }
    if ((size_t)m >= sizeof(msg)) {
        m = sizeof(msg) - 1;
    }
    *out = 0;
    lq_lbs_set_err(b, "SampleExtractionErr", lq_lbs_dup(b, msg, (size_t)m));
    return false;
}

static int on_entries(void *ctx, const label_t *labels, size_t nlabels, const logs_entry_t *e, size_t n)
{
    rstate_t *st = ctx;
    lq_ctx_t *c = st->c;
    const logql_unwrap_t *u = st->n->u.range.unwrap;
    logql_range_op_t op = st->n->u.range.op;
    bool touches = lq_pipe_touches_labels(st->pipe);
    st->last_labels = NULL;
    for (size_t i = 0; i < n; i++) {
        c->stats->entries_read++;
        c->stats->bytes_read += e[i].line.len;
        if ((c->stats->entries_read & 4095) == 0 && lq_timed_out(c)) {
            st->rc = lq_fail(c, LOGQL_ERR_TIMEOUT, "context deadline exceeded");
            return -1;
        }
        if (c->lim->max_entries_read > 0 && c->stats->entries_read > c->lim->max_entries_read) {
            st->rc = lq_fail(c, LOGQL_ERR_LIMIT, "the query would read more than %llu entries",
                             (unsigned long long)c->lim->max_entries_read);
            return -1;
        }
        lq_lbs_reset(&st->lbs, labels, nlabels, e[i].meta, e[i].nmeta);
        str_t line = e[i].line;
        if (!lq_pipe_run(st->pipe, &st->lbs, e[i].ts_ns, &line)) {
            continue;
        }
        double v = 1;
        if (u != NULL) {
            str_t sv;
            lq_lbs_get(&st->lbs, (str_t){ u->ident.p, u->ident.len }, &sv);
            if (sv.len == 0) {
                continue;
            }
            convert(&st->lbs, u->conv, sv, &v);
            bool keep = true;
            for (size_t k = 0; k < st->npost && keep; k++) {
                keep = lq_lf_run(st->post[k], &st->lbs);
            }
            if (!keep) {
                continue;
            }
        } else if (op == LQ_R_BYTES || op == LQ_R_BYTES_RATE) {
            v = (double)line.len;
        }
        /* Loki fails the query on an error unless the parser hints asked
         * for errors (__preserve_error__="true" in the series labels) */
        bool err = st->lbs.err.len > 0;
        str_t pv;
        bool fatal = err && !(lq_lbs_get(&st->lbs, STR_LIT(LQ_PRESERVE_ERR_LABEL), &pv) && str_eq_cstr(pv, "true"));
        size_t si;
        if (!touches && !err && e[i].nmeta == 0 && st->last_labels == labels) {
            si = st->last_ser;
        } else {
            if (st->tmpcap < st->lbs.n + 2) {
                st->tmpcap = (st->lbs.n + 2) * 2;
                st->tmp = mem_realloc(st->tmp, st->tmpcap * sizeof(*st->tmp));
            }
            size_t k = lq_lbs_final(&st->lbs, st->tmp, NULL);
            if (!err) {
                k = group_labels(st, st->tmp, k);
            }
            si = series_for(st, st->tmp, k, fatal);
            if (!touches && !err && e[i].nmeta == 0) {
                st->last_labels = labels;
                st->last_ser = si;
            }
        }
        add_sample(&st->ser[si], e[i].ts_ns, v);
    }
    return 0;
}

static int samp_cmp(const void *a, const void *b)
{
    const samp_t *x = a, *y = b;
    return x->ts < y->ts ? -1 : x->ts > y->ts;
}

/* Stable sort by ts (merge sort: equal stamps keep arrival order). */
static void sort_samples(samp_t *s, size_t n)
{
    if (n < 2) {
        return;
    }
    samp_t *tmp = mem_alloc(n * sizeof(*tmp));
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                tmp[k++] = samp_cmp(&s[j], &s[i]) < 0 ? s[j++] : s[i++];
            }
            while (i < mid) {
                tmp[k++] = s[i++];
            }
            while (j < hi) {
                tmp[k++] = s[j++];
            }
        }
        memcpy(s, tmp, n * sizeof(*s));
    }
    mem_free(tmp);
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double quantile(double q, samp_t *s, size_t n, double *scratch)
{
    if (isnan(q)) {
        return NAN;
    }
    if (q < 0) {
        return -INFINITY;
    }
    if (q > 1) {
        return INFINITY;
    }
    for (size_t i = 0; i < n; i++) {
        scratch[i] = s[i].v;
    }
    if (n > 1) {
        qsort(scratch, n, sizeof(double), dbl_cmp);
    }
    double rank = q * (double)(n - 1);
    size_t lo = (size_t)fmax(0, floor(rank));
    size_t hi = (size_t)fmin((double)(n - 1), lo + 1.0);
    double w = rank - floor(rank);
    return scratch[lo] * (1 - w) + scratch[hi] * w;
}

static double rate_counter(const samp_t *s, size_t n, int64_t range_ns)
{
    if (n < 2) {
        return 0;
    }
    double range_ms = (double)(range_ns / 1000000);
    double t0 = (double)(s[0].ts / 1000000), tn = (double)(s[n - 1].ts / 1000000);
    double range_start = t0 - range_ms, range_end = tn;
    double result = s[n - 1].v - s[0].v;
    double last = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i].v < last) {
            result += last;
        }
        last = s[i].v;
    }
    double to_start = (t0 - range_start) / 1000, to_end = (range_end - tn) / 1000;
    double sampled = (tn - t0) / 1000;
    double avg = sampled / (double)(n - 1);
    if (result > 0 && s[0].v >= 0) {
        double to_zero = sampled * (s[0].v / result);
        if (to_zero < to_start) {
            to_start = to_zero;
        }
    }
    double thr = avg * 1.1;
    double ext = sampled;
    ext += to_start < thr ? to_start : avg / 2;
    ext += to_end < thr ? to_end : avg / 2;
    result = result * (ext / sampled);
    return result / ((double)range_ns / 1e9);
}

/* The aggregation of window s[0..n) (n >= 1). */
static double agg(const logql_node_t *nd, samp_t *s, size_t n, double *scratch)
{
    double range_s = (double)nd->u.range.range_ms / 1000.0;
    double sum = 0;
    switch (nd->u.range.op) {
    case LQ_R_COUNT:
        return (double)n;
    case LQ_R_RATE:
        if (nd->u.range.unwrap == NULL) {
            return (double)n / range_s;
        }
        for (size_t i = 0; i < n; i++) {
            sum += s[i].v;
        }
        return sum / range_s;
    case LQ_R_BYTES:
    case LQ_R_SUM:
    case LQ_R_BYTES_RATE:
        for (size_t i = 0; i < n; i++) {
            sum += s[i].v;
        }
        return nd->u.range.op == LQ_R_BYTES_RATE ? sum / range_s : sum;
    case LQ_R_AVG: {
        /* Loki's avgOverTime: an incremental mean, Inf-aware */
        double mean = 0, cnt = 0;
        for (size_t i = 0; i < n; i++) {
            cnt++;
            if (isinf(mean)) {
                if (isinf(s[i].v) && (mean > 0) == (s[i].v > 0)) {
                    continue;
                }
                if (!isinf(s[i].v) && !isnan(s[i].v)) {
                    continue;
                }
            }
            mean += s[i].v / cnt - mean / cnt;
        }
        return mean;
    }
    case LQ_R_MIN:
    case LQ_R_MAX: {
        double m = s[0].v;
        for (size_t i = 1; i < n; i++) {
            bool better = nd->u.range.op == LQ_R_MIN ? s[i].v < m : s[i].v > m;
            if (better || isnan(m)) {
                m = s[i].v;
            }
        }
        return m;
    }
    case LQ_R_STDVAR:
    case LQ_R_STDDEV: {
        double mean = 0, m2 = 0;
        for (size_t i = 0; i < n; i++) {
            double d = s[i].v - mean;
            mean += d / (double)(i + 1);
            m2 += d * (s[i].v - mean);
        }
        double var = m2 / (double)n;
        return nd->u.range.op == LQ_R_STDVAR ? var : sqrt(var);
    }
    case LQ_R_QUANTILE:
        return quantile(nd->u.range.param, s, n, scratch);
    case LQ_R_FIRST:
        return s[0].v;
    case LQ_R_LAST:
        return s[n - 1].v;
    case LQ_R_RATE_COUNTER:
        return rate_counter(s, n, nd->u.range.range_ms * 1000000);
    case LQ_R_ABSENT:
    case LQ_R__COUNT:
        break;
    }
    return 0;
}

/* Labels of absent_over_time: the selector's equality matchers, each name
 * once (a name matched twice or otherwise is dropped). */
static size_t absent_labels(lq_ctx_t *c, const logql_node_t *log, label_t **out)
{
    size_t nm = log->u.log.nm;
    label_t *ls = arena_calloc(c->a, nm + 1, sizeof(*ls));
    size_t k = 0;
    for (size_t i = 0; i < nm; i++) {
        const logql_matcher_t *m = &log->u.log.m[i];
        str_t name = { m->name.p, m->name.len };
        bool dup = false;
        for (size_t j = 0; j < nm; j++) {
            if (j != i && str_eq(name, (str_t){ log->u.log.m[j].name.p, log->u.log.m[j].name.len })) {
                dup = true;
            }
        }
        if (m->type == MATCH_EQ && !dup && m->value.len > 0) {
            ls[k++] = (label_t){ name, { m->value.p, m->value.len } };
        }
    }
    labels_sort(ls, k);
    *out = ls;
    return k;
}

static int ser_cmp(const void *a, const void *b)
{
    const rser_t *x = a, *y = b;
    return lq_label_cmp(x->ls, x->nls, y->ls, y->nls);
}

static int report_errors(lq_ctx_t *c, rstate_t *st, int64_t range, int64_t off)
{
    if (st->nser > 1) {
        qsort(st->ser, st->nser, sizeof(*st->ser), ser_cmp);
    }
    size_t *cur = mem_calloc(st->nser + 1, sizeof(size_t));
    int rc = 0;
    for (size_t i = 0; i < c->nsteps && rc == 0; i++) {
        int64_t t = c->start + (int64_t)i * c->step - off;
        for (size_t k = 0; k < st->nser && rc == 0; k++) {
            rser_t *s = &st->ser[k];
            if (!s->err) {
                continue;
            }
            while (cur[k] < s->n && s->s[cur[k]].ts <= t - range) {
                cur[k]++;
            }
            if (cur[k] < s->n && s->s[cur[k]].ts <= t) {
                buf_t lb = { 0 };
                labels_format(s->ls, s->nls, &lb);
                str_t kind = labels_get(s->ls, s->nls, LQ_ERR_LABEL);
                rc = lq_fail(c, LOGQL_ERR_BAD_DATA,
                             "pipeline error: '%.*s' for series: '%.*s'.\n"
                             "Use a label filter to intentionally skip this error. (e.g | __error__!=\"%.*s\").\n"
                             "To skip all potential errors you can match empty errors.(e.g __error__=\"\")\n"
                             "The label filter can also be specified after unwrap. (e.g | unwrap latency | "
                             "__error__=\"\" )\n",
                             (int)kind.len, kind.p, (int)lb.len, (const char *)lb.data, (int)kind.len, kind.p);
                buf_fini(&lb);
            }
        }
    }
    mem_free(cur);
    return rc;
}

static int build_matchers(lq_ctx_t *c, const logql_node_t *log, matcher_t **out)
{
    size_t nm = log->u.log.nm;
    matcher_t *ms = arena_calloc(c->a, nm + 1, sizeof(*ms));
    for (size_t i = 0; i < nm; i++) {
        const logql_matcher_t *m = &log->u.log.m[i];
        char e[256];
        if (matcher_init(&ms[i], m->type, (str_t){ m->name.p, m->name.len }, (str_t){ m->value.p, m->value.len }, e,
                         sizeof(e)) != 0) {
            for (size_t j = 0; j < i; j++) {
                matcher_fini(&ms[j]);
            }
            return lq_fail(c, LOGQL_ERR_PARSE, "parse error : %s", e);
        }
    }
    *out = ms;
    return 0;
}

int lq_select(lq_ctx_t *c, const logql_node_t *log, int64_t start, int64_t end, bool backward, logs_select_fn fn,
              void *ctx, const int *cb_rc)
{
    matcher_t *ms = NULL;
    if (build_matchers(c, log, &ms) != 0) {
        return -1;
    }
    logs_select_t q = { .ms = ms, .nms = log->u.log.nm, .start_ns = start, .end_ns = end, .backward = backward };
    str_t *must = NULL;
    q.nmust = lq_pipe_must(log->u.log.stages, log->u.log.nstages, c->a, &must);
    q.must = must;
    int rc = c->src->select(c->src->ctx, &q, fn, ctx);
    for (size_t i = 0; i < log->u.log.nm; i++) {
        matcher_fini(&ms[i]);
    }
    if (*cb_rc != 0) {
        return -1;
    }
    if (rc != 0) {
        return lq_fail(c, LOGQL_ERR_INTERNAL, "the log store failed to read (%d)", rc);
    }
    return 0;
}

static void rstate_fini(rstate_t *st)
{
    for (size_t i = 0; i < st->nser; i++) {
        mem_free(st->ser[i].s);
    }
    mem_free(st->ser);
    mem_free(st->tmp);
    hmap_fini(&st->idx);
    lq_lbs_fini(&st->lbs);
    lq_pipe_destroy(st->pipe);
}

int lq_range_eval(lq_ctx_t *c, const logql_node_t *n, const logql_grouping_t *push, lq_mat_t *out)
{
    rstate_t st = { .c = c, .n = n, .g = push != NULL ? push : &n->u.range.grouping };
    const logql_node_t *log = n->u.range.log;
    char err[512] = "";
    int rc = -1;
    lq_lbs_init(&st.lbs);
    hmap_init(&st.idx);
    st.pipe = lq_pipe_create(log->u.log.stages, log->u.log.nstages, c->a, err, sizeof(err));
    if (st.pipe == NULL) {
        lq_fail(c, LOGQL_ERR_PARSE, "%s", err);
        goto fail;
    }
    const logql_unwrap_t *u = n->u.range.unwrap;
    if (u != NULL && u->npost > 0) {
        st.post = arena_calloc(c->a, u->npost, sizeof(*st.post));
        st.npost = u->npost;
        for (size_t i = 0; i < u->npost; i++) {
            if ((st.post[i] = lq_pipe_add_filter(st.pipe, u->post[i], err, sizeof(err))) == NULL) {
                lq_fail(c, LOGQL_ERR_PARSE, "%s", err);
                goto fail;
            }
        }
    }
    /* Loki's RangeAggregationExpr.extractor: by () and absent_over_time
     * need no labels (Grouping.Singleton) */
    bool no_labels = (st.g->present && !st.g->without && st.g->nlabels == 0) || n->u.range.op == LQ_R_ABSENT;
    lq_pipe_hint_metric(st.pipe, st.g->present ? st.g : NULL, no_labels, u, st.post, st.npost);
    int64_t range = n->u.range.range_ms * 1000000;
    int64_t off = n->u.range.offset_ns;
    int64_t last = c->start + (int64_t)(c->nsteps - 1) * c->step;
    if (lq_select(c, log, c->start - range - off, last - off + 1, false, on_entries, &st, &st.rc) != 0) {
        goto fail;
    }
    for (size_t i = 0; i < st.nser; i++) {
        if (st.ser[i].unsorted) {
            sort_samples(st.ser[i].s, st.ser[i].n);
        }
    }
    if (report_errors(c, &st, range, off) != 0) {
        goto fail;
    }
    if (n->u.range.op == LQ_R_ABSENT) {
        size_t *cur = mem_calloc(st.nser + 1, sizeof(size_t));
        lq_ser_t *os = NULL;
        for (size_t i = 0; i < c->nsteps; i++) {
            int64_t t = c->start + (int64_t)i * c->step - off;
            bool any = false;
            for (size_t k = 0; k < st.nser; k++) {
                rser_t *s = &st.ser[k];
                while (cur[k] < s->n && s->s[cur[k]].ts <= t - range) {
                    cur[k]++;
                }
                any |= cur[k] < s->n && s->s[cur[k]].ts <= t;
            }
            if (!any) {
                if (os == NULL) {
                    label_t *ls = NULL;
                    size_t nl = absent_labels(c, log, &ls);
                    os = lq_mat_add(c, out, ls, nl);
                }
                os->v[i] = 1;
                os->has[i] = 1;
            }
        }
        mem_free(cur);
        rc = 0;
        goto fail;
    }
    size_t maxw = 0;
    for (size_t k = 0; k < st.nser; k++) {
        maxw = st.ser[k].n > maxw ? st.ser[k].n : maxw;
    }
    double *scratch = mem_alloc((maxw + 1) * sizeof(double));
    for (size_t k = 0; k < st.nser; k++) {
        rser_t *s = &st.ser[k];
        if (s->n == 0) {
            continue;
        }
        lq_ser_t *os = lq_mat_add(c, out, s->ls, s->nls);
        size_t lo = 0, hi = 0;
        for (size_t i = 0; i < c->nsteps; i++) {
            int64_t t = c->start + (int64_t)i * c->step - off;
            while (lo < s->n && s->s[lo].ts <= t - range) {
                lo++;
            }
            if (hi < lo) {
                hi = lo;
            }
            while (hi < s->n && s->s[hi].ts <= t) {
                hi++;
            }
            if (hi > lo) {
                os->v[i] = agg(n, s->s + lo, hi - lo, scratch);
                os->has[i] = 1;
            }
        }
        if ((k & 63) == 0 && lq_timed_out(c)) {
            mem_free(scratch);
            lq_fail(c, LOGQL_ERR_TIMEOUT, "context deadline exceeded");
            goto fail;
        }
    }
    mem_free(scratch);
    rc = 0;
fail:
    rstate_fini(&st);
    return rc;
}

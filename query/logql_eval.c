/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logql_eval: the LogQL evaluator's entry points (query/logql.h) and the
 * log-query path; metric nodes are dispatched to logql_range.c and
 * logql_vec.c.
 *
 * Core idea: a query is parsed, then either
 *  - a log query: one selection in the query's direction; each entry runs
 *    the pipeline; survivors are kept as candidates ordered as Loki's
 *    merge iterator orders them (time in the query's direction, selected
 *    stream, arrival; a repeated time and line in one stream is dropped);
 *    without an interval, candidates are cut back to the limit whenever
 *    they reach twice it, and an entry older (newer, forward) than the worst
 *    kept one ends its stream's chunk early, so a limit-100 query over
 *    millions of lines copies a few hundred. Loki's readStreams rules then
 *    pick the entries (interval measured from the last emitted entry over
 *    all streams), group them by final labels, and sort the streams by
 *    their label string;
 *  - a metric query: steps start, start+step, ..., <= end (no alignment:
 *    Loki's align_queries_with_step is off by default), evaluated into a
 *    step matrix, then turned into a MATRIX, VECTOR or SCALAR.
 *
 * Invariants: the result lives in the caller's arena; every heap
 * allocation made here (label builders, regexes, sample arrays) is freed
 * before returning, on every path. No state survives a call.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/hash.h"
#include "common/mem.h"
#include "query/logql_int.h"

int lq_fail(lq_ctx_t *c, logql_errtype_t t, const char *fmt, ...)
{
    if (c->err->type == LOGQL_ERR_NONE) {
        c->err->type = t;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
        va_end(ap);
    }
    return -1;
}

bool lq_timed_out(lq_ctx_t *c)
{
    return c->deadline > 0 && clock_mono_s() > c->deadline;
}

int lq_label_cmp(const label_t *a, size_t na, const label_t *b, size_t nb)
{
    for (size_t i = 0; i < na && i < nb; i++) {
        int r = str_cmp(a[i].name, b[i].name);
        if (r != 0) {
            return r;
        }
        r = str_cmp(a[i].value, b[i].value);
        if (r != 0) {
            return r;
        }
    }
    return na < nb ? -1 : na > nb;
}

bool lq_labels_eq(const label_t *a, size_t na, const label_t *b, size_t nb)
{
    if (na != nb) {
        return false;
    }
    for (size_t i = 0; i < na; i++) {
        if (!str_eq(a[i].name, b[i].name) || !str_eq(a[i].value, b[i].value)) {
            return false;
        }
    }
    return true;
}

label_t *lq_labels_dup(arena_t *a, const label_t *ls, size_t n)
{
    label_t *d = arena_calloc(a, n + 1, sizeof(*d));
    for (size_t i = 0; i < n; i++) {
        d[i].name = (str_t){ arena_strndup(a, ls[i].name.p ? ls[i].name.p : "", ls[i].name.len), ls[i].name.len };
        d[i].value = (str_t){ arena_strndup(a, ls[i].value.p ? ls[i].value.p : "", ls[i].value.len), ls[i].value.len };
    }
    return d;
}

lq_ser_t *lq_mat_add(lq_ctx_t *c, lq_mat_t *m, const label_t *ls, size_t n)
{
    if (m->n == m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 8;
        lq_ser_t *ns = arena_calloc(c->a, nc, sizeof(*ns));
        if (m->n > 0) {
            memcpy(ns, m->s, m->n * sizeof(*ns));
        }
        m->s = ns;
        m->cap = nc;
    }
    lq_ser_t *s = &m->s[m->n++];
    s->ls = lq_labels_dup(c->a, ls, n);
    s->nls = n;
    s->v = arena_calloc(c->a, c->nsteps, sizeof(double));
    s->has = arena_calloc(c->a, c->nsteps, 1);
    return s;
}

typedef struct sx_eq {
    const lq_mat_t *m;
    const label_t *ls;
    size_t n;
} sx_eq_t;

static bool sx_eq(void *ctx, uint64_t v)
{
    sx_eq_t *e = ctx;
    return lq_labels_eq(e->m->s[v].ls, e->m->s[v].nls, e->ls, e->n);
}

lq_ser_t *lq_sindex_get(lq_ctx_t *c, lq_sindex_t *ix, lq_mat_t *m, const label_t *ls, size_t n, bool *created)
{
    uint64_t h = labels_hash(ls, n);
    sx_eq_t e = { m, ls, n };
    uint64_t v = 0;
    if (hmap_get(&ix->m, h, sx_eq, &e, &v)) {
        if (created) {
            *created = false;
        }
        return &m->s[v];
    }
    lq_ser_t *s = lq_mat_add(c, m, ls, n);
    hmap_put(&ix->m, h, m->n - 1);
    if (created) {
        *created = true;
    }
    return s;
}

static int ser_cmp(const void *a, const void *b)
{
    const lq_ser_t *x = a, *y = b;
    return lq_label_cmp(x->ls, x->nls, y->ls, y->nls);
}

void lq_mat_sort(lq_mat_t *m)
{
    if (m->n > 1) {
        qsort(m->s, m->n, sizeof(*m->s), ser_cmp);
    }
}

int lq_eval_node(lq_ctx_t *c, const logql_node_t *n, lq_mat_t *out)
{
    memset(out, 0, sizeof(*out));
    if (lq_timed_out(c)) {
        return lq_fail(c, LOGQL_ERR_TIMEOUT, "context deadline exceeded");
    }
    switch (n->kind) {
    case LQ_LITERAL:
        out->scalar = true;
        out->sc = n->u.value;
        return 0;
    case LQ_VECTOR: {
        lq_ser_t *s = lq_mat_add(c, out, NULL, 0);
        for (size_t i = 0; i < c->nsteps; i++) {
            s->v[i] = n->u.value;
            s->has[i] = 1;
        }
        return 0;
    }
    case LQ_RANGE_AGG:
        return lq_range_eval(c, n, NULL, out);
    case LQ_VECTOR_AGG:
        return lq_vec_eval(c, n, out);
    case LQ_BINOP:
        return lq_binop_eval(c, n, out);
    case LQ_LABEL_REPLACE:
        return lq_label_replace_eval(c, n, out);
    case LQ_LOG:
        break;
    }
    return lq_fail(c, LOGQL_ERR_BAD_DATA, "unexpected log query in a metric expression");
}

/* ---- log queries ---- */

typedef struct lstream {
    label_t *ls; /* final labels, sorted */
    size_t nls;
    label_t *stream_ls;
    size_t nstream;
    char *key; /* labels_format text, Loki's sort key */
    size_t keylen;
    size_t count; /* entries chosen */
} lstream_t;

/* A selected (source) stream: Loki's merge iterator keeps one source
 * stream's entries in arrival order and orders equal timestamps of
 * different source streams by stream, whatever labels the pipeline gives
 * each entry; the label text stands in for Loki's stream hash. */
typedef struct lsrc {
    label_t *ls;
    size_t nls;
    char *key;
    size_t keylen;
} lsrc_t;

typedef struct cand {
    int64_t ts;
    uint64_t seq;
    size_t src;
    size_t stream;
    str_t line;
    label_t *meta, *parsed;
    size_t nmeta, nparsed;
} cand_t;

typedef struct lstate {
    lq_ctx_t *c;
    lq_pipe_t *pipe;
    lq_lbs_t lbs;
    bool backward;
    size_t limit;
    bool prune;
    lstream_t *st;
    size_t nst, capst;
    hmap_t idx;
    lsrc_t *srcs;
    size_t nsrc, capsrc;
    hmap_t sidx;
    cand_t *cand;
    size_t ncand, capcand;
    uint64_t seq;
    bool have_thr;
    int64_t thr;
    label_t *tmp;
    uint8_t *cats;
    size_t tmpcap;
    buf_t key;
    int rc;
} lstate_t;

typedef struct lst_eq {
    lstate_t *s;
    const label_t *ls;
    size_t n;
} lst_eq_t;

static bool lst_eq(void *ctx, uint64_t v)
{
    lst_eq_t *e = ctx;
    return lq_labels_eq(e->s->st[v].ls, e->s->st[v].nls, e->ls, e->n);
}

static size_t stream_for(lstate_t *s, const label_t *ls, size_t n, const label_t *base, size_t nbase)
{
    uint64_t h = labels_hash(ls, n);
    lst_eq_t e = { s, ls, n };
    uint64_t v = 0;
    if (hmap_get(&s->idx, h, lst_eq, &e, &v)) {
        return (size_t)v;
    }
    if (s->nst == s->capst) {
        s->capst = s->capst ? s->capst * 2 : 16;
        s->st = mem_realloc(s->st, s->capst * sizeof(*s->st));
    }
    lstream_t *t = &s->st[s->nst];
    memset(t, 0, sizeof(*t));
    t->ls = lq_labels_dup(s->c->a, ls, n);
    t->nls = n;
    t->stream_ls = lq_labels_dup(s->c->a, base, nbase);
    t->nstream = nbase;
    buf_reset(&s->key);
    labels_format(ls, n, &s->key);
    t->key = arena_strndup(s->c->a, (const char *)s->key.data, s->key.len);
    t->keylen = s->key.len;
    hmap_put(&s->idx, h, s->nst);
    return s->nst++;
}

static bool src_eq(void *ctx, uint64_t v)
{
    lst_eq_t *e = ctx;
    return lq_labels_eq(e->s->srcs[v].ls, e->s->srcs[v].nls, e->ls, e->n);
}

static size_t src_for(lstate_t *s, const label_t *ls, size_t n)
{
    uint64_t h = labels_hash(ls, n);
    lst_eq_t e = { s, ls, n };
    uint64_t v = 0;
    if (hmap_get(&s->sidx, h, src_eq, &e, &v)) {
        return (size_t)v;
    }
    if (s->nsrc == s->capsrc) {
        s->capsrc = s->capsrc ? s->capsrc * 2 : 16;
        s->srcs = mem_realloc(s->srcs, s->capsrc * sizeof(*s->srcs));
    }
    lsrc_t *t = &s->srcs[s->nsrc];
    t->ls = lq_labels_dup(s->c->a, ls, n);
    t->nls = n;
    buf_reset(&s->key);
    labels_format(ls, n, &s->key);
    t->key = arena_strndup(s->c->a, (const char *)s->key.data, s->key.len);
    t->keylen = s->key.len;
    hmap_put(&s->sidx, h, s->nsrc);
    return s->nsrc++;
}

static int key_cmp(const lsrc_t *a, const lsrc_t *b)
{
    size_t n = a->keylen < b->keylen ? a->keylen : b->keylen;
    int r = memcmp(a->key, b->key, n);
    return r != 0 ? r : (a->keylen < b->keylen ? -1 : a->keylen > b->keylen);
}

/* qsort has no context argument: candidates carry what they compare. */
typedef struct cmpctx {
    const lsrc_t *srcs;
    bool backward;
} cmpctx_t;

/* Time in the query's direction, then source stream, then arrival. */
static int cand_cmp_ctx(const cand_t *x, const cand_t *y, const cmpctx_t *cc)
{
    if (x->ts != y->ts) {
        return (x->ts > y->ts) == cc->backward ? -1 : 1;
    }
    if (x->src != y->src) {
        return key_cmp(&cc->srcs[x->src], &cc->srcs[y->src]);
    }
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Loki's merge iterator drops an entry whose timestamp, source stream and
 * (processed) line equal an earlier one's: on sorted candidates these
 * share a run. Quadratic in a run's length only. */
static void dedupe_cands(cand_t *c, size_t *n)
{
    size_t k = 0;
    size_t run = 0; /* first kept candidate of the current run */
    for (size_t i = 0; i < *n; i++) {
        if (k == 0 || c[i].ts != c[k - 1].ts || c[i].src != c[k - 1].src) {
            run = k;
        } else {
            bool dup = false;
            for (size_t j = run; j < k && !dup; j++) {
                dup = str_eq(c[j].line, c[i].line);
            }
            if (dup) {
                continue;
            }
        }
        c[k++] = c[i];
    }
    *n = k;
}

static void sort_cands(cand_t *c, size_t n, const cmpctx_t *cc)
{
    if (n < 2) {
        return;
    }
    cand_t *tmp = mem_alloc(n * sizeof(*tmp));
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                tmp[k++] = cand_cmp_ctx(&c[j], &c[i], cc) < 0 ? c[j++] : c[i++];
            }
            while (i < mid) {
                tmp[k++] = c[i++];
            }
            while (j < hi) {
                tmp[k++] = c[j++];
            }
        }
        memcpy(c, tmp, n * sizeof(*c));
    }
    mem_free(tmp);
}

static void prune(lstate_t *s)
{
    cmpctx_t cc = { s->srcs, s->backward };
    sort_cands(s->cand, s->ncand, &cc);
    dedupe_cands(s->cand, &s->ncand);
    if (s->ncand > s->limit) {
        s->ncand = s->limit;
    }
    if (s->ncand == s->limit && s->limit > 0) {
        s->have_thr = true;
        s->thr = s->cand[s->ncand - 1].ts;
    }
}

static label_t *copy_cat(arena_t *a, const label_t *ls, const uint8_t *cats, size_t n, uint8_t cat, size_t *k)
{
    size_t cnt = 0;
    for (size_t i = 0; i < n; i++) {
        cnt += cats[i] == cat;
    }
    *k = cnt;
    if (cnt == 0) {
        return NULL;
    }
    label_t *tmp = mem_alloc(cnt * sizeof(*tmp));
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (cats[i] == cat) {
            tmp[j++] = ls[i];
        }
    }
    label_t *d = lq_labels_dup(a, tmp, cnt);
    mem_free(tmp);
    return d;
}

static int on_log_entries(void *ctx, const label_t *labels, size_t nlabels, const logs_entry_t *e, size_t n)
{
    lstate_t *s = ctx;
    lq_ctx_t *c = s->c;
    size_t src = src_for(s, labels, nlabels);
    for (size_t i = 0; i < n; i++) {
        c->stats->entries_read++;
        c->stats->bytes_read += e[i].line.len;
        if ((c->stats->entries_read & 4095) == 0 && lq_timed_out(c)) {
            s->rc = lq_fail(c, LOGQL_ERR_TIMEOUT, "context deadline exceeded");
            return -1;
        }
        if (c->lim->max_entries_read > 0 && c->stats->entries_read > c->lim->max_entries_read) {
            s->rc = lq_fail(c, LOGQL_ERR_LIMIT, "the query would read more than %llu entries",
                            (unsigned long long)c->lim->max_entries_read);
            return -1;
        }
        if (s->have_thr && (s->backward ? e[i].ts_ns < s->thr : e[i].ts_ns > s->thr)) {
            return LOGS_SELECT_NEXT_STREAM; /* the rest of this stream is worse still */
        }
        lq_lbs_reset(&s->lbs, labels, nlabels, e[i].meta, e[i].nmeta);
        str_t line = e[i].line;
        if (!lq_pipe_run(s->pipe, &s->lbs, e[i].ts_ns, &line)) {
            continue;
        }
        if (s->tmpcap < s->lbs.n + 2) {
            s->tmpcap = (s->lbs.n + 2) * 2;
            s->tmp = mem_realloc(s->tmp, s->tmpcap * sizeof(*s->tmp));
            s->cats = mem_realloc(s->cats, s->tmpcap);
        }
        size_t k = lq_lbs_final(&s->lbs, s->tmp, s->cats);
        size_t si = stream_for(s, s->tmp, k, labels, nlabels);
        if (s->ncand == s->capcand) {
            s->capcand = s->capcand ? s->capcand * 2 : 256;
            s->cand = mem_realloc(s->cand, s->capcand * sizeof(*s->cand));
        }
        cand_t *cd = &s->cand[s->ncand++];
        cd->ts = e[i].ts_ns;
        cd->seq = s->seq++;
        cd->src = src;
        cd->stream = si;
        cd->line = (str_t){ arena_strndup(c->a, line.p ? line.p : "", line.len), line.len };
        cd->meta = copy_cat(c->a, s->tmp, s->cats, k, LQ_CAT_META, &cd->nmeta);
        cd->parsed = copy_cat(c->a, s->tmp, s->cats, k, LQ_CAT_PARSED, &cd->nparsed);
        if (s->prune && s->ncand >= 2 * s->limit + 64) {
            prune(s);
        }
    }
    return 0;
}

static int stream_cmp(const void *a, const void *b)
{
    const logql_stream_t *x = a, *y = b;
    buf_t ka = { 0 }, kb = { 0 };
    labels_format(x->labels, x->nlabels, &ka);
    labels_format(y->labels, y->nlabels, &kb);
    size_t n = ka.len < kb.len ? ka.len : kb.len;
    int r = n ? memcmp(ka.data, kb.data, n) : 0;
    if (r == 0) {
        r = ka.len < kb.len ? -1 : ka.len > kb.len;
    }
    buf_fini(&ka);
    buf_fini(&kb);
    return r;
}

static int eval_log(lq_ctx_t *c, const logql_node_t *n, logql_result_t *res)
{
    const logql_query_t *q = c->q;
    lstate_t s = { .c = c, .backward = q->backward };
    s.limit = q->limit ? q->limit : 100;
    s.prune = q->interval_ns <= 0;
    char err[512] = "";
    int rc = -1;
    lq_lbs_init(&s.lbs);
    hmap_init(&s.idx);
    hmap_init(&s.sidx);
    s.pipe = lq_pipe_create(n->u.log.stages, n->u.log.nstages, c->a, err, sizeof(err));
    if (s.pipe == NULL) {
        lq_fail(c, LOGQL_ERR_PARSE, "%s", err);
        goto done;
    }
    if (lq_select(c, n, q->start_ns, q->end_ns, q->backward, on_log_entries, &s, &s.rc) != 0) {
        goto done;
    }
    cmpctx_t cc = { s.srcs, s.backward };
    sort_cands(s.cand, s.ncand, &cc);
    dedupe_cands(s.cand, &s.ncand);
    /* Loki's readStreams: the interval is measured from the last emitted
     * entry, over all streams */
    size_t chosen = 0;
    bool first = true;
    int64_t last = 0;
    for (size_t i = 0; i < s.ncand && chosen < s.limit; i++) {
        int64_t ts = s.cand[i].ts;
        bool out =
            q->interval_ns <= 0 || first || (s.backward ? ts <= last - q->interval_ns : ts >= last + q->interval_ns);
        if (!out) {
            s.cand[i].stream = SIZE_MAX;
            continue;
        }
        first = false;
        last = ts;
        s.st[s.cand[i].stream].count++;
        chosen++;
    }
    size_t nout = 0;
    for (size_t i = 0; i < s.nst; i++) {
        nout += s.st[i].count > 0;
    }
    res->type = LOGQL_STREAMS;
    res->streams = arena_calloc(c->a, nout + 1, sizeof(*res->streams));
    size_t *slot = mem_calloc(s.nst + 1, sizeof(size_t));
    size_t k = 0;
    for (size_t i = 0; i < s.nst; i++) {
        if (s.st[i].count == 0) {
            continue;
        }
        logql_stream_t *o = &res->streams[k];
        o->labels = s.st[i].ls;
        o->nlabels = s.st[i].nls;
        o->stream_labels = s.st[i].stream_ls;
        o->nstream_labels = s.st[i].nstream;
        o->entries = arena_calloc(c->a, s.st[i].count, sizeof(*o->entries));
        slot[i] = k++;
    }
    size_t taken = 0;
    for (size_t i = 0; i < s.ncand && taken < chosen; i++) {
        if (s.cand[i].stream == SIZE_MAX) {
            continue;
        }
        logql_stream_t *o = &res->streams[slot[s.cand[i].stream]];
        logql_entry_t *e = &o->entries[o->n++];
        e->ts_ns = s.cand[i].ts;
        e->line = s.cand[i].line;
        e->meta = s.cand[i].meta;
        e->nmeta = s.cand[i].nmeta;
        e->parsed = s.cand[i].parsed;
        e->nparsed = s.cand[i].nparsed;
        taken++;
    }
    mem_free(slot);
    res->nstreams = nout;
    if (nout > 1) {
        qsort(res->streams, nout, sizeof(*res->streams), stream_cmp);
    }
    c->stats->entries_returned = chosen;
    rc = 0;
done:
    lq_pipe_destroy(s.pipe);
    lq_lbs_fini(&s.lbs);
    hmap_fini(&s.idx);
    hmap_fini(&s.sidx);
    mem_free(s.st);
    mem_free(s.srcs);
    mem_free(s.cand);
    mem_free(s.tmp);
    mem_free(s.cats);
    buf_fini(&s.key);
    return rc;
}

/* ---- metric results ---- */

typedef struct vord {
    lq_ser_t *s;
    double v;
} vord_t;

static int vord_asc(const void *a, const void *b)
{
    const vord_t *x = a, *y = b;
    if (x->v != y->v && !(isnan(x->v) && isnan(y->v))) {
        if (isnan(x->v)) {
            return 1;
        }
        if (isnan(y->v)) {
            return -1;
        }
        return x->v < y->v ? -1 : 1;
    }
    return lq_label_cmp(x->s->ls, x->s->nls, y->s->ls, y->s->nls);
}

static int vord_desc(const void *a, const void *b)
{
    const vord_t *x = a, *y = b;
    if (x->v != y->v && !(isnan(x->v) && isnan(y->v))) {
        if (isnan(x->v)) {
            return 1;
        }
        if (isnan(y->v)) {
            return -1;
        }
        return x->v > y->v ? -1 : 1;
    }
    return lq_label_cmp(x->s->ls, x->s->nls, y->s->ls, y->s->nls);
}

static int metric_result(lq_ctx_t *c, lq_mat_t *m, logql_result_t *res)
{
    const logql_query_t *q = c->q;
    size_t max_series = c->lim->max_series ? c->lim->max_series : 500;
    if (m->scalar) {
        if (q->instant) {
            res->type = LOGQL_SCALAR;
            res->scalar = m->sc;
            res->scalar_ts_ns = q->start_ns;
            return 0;
        }
        double v = m->sc;
        m->scalar = false;
        lq_ser_t *s = lq_mat_add(c, m, NULL, 0);
        for (size_t i = 0; i < c->nsteps; i++) {
            s->v[i] = v;
            s->has[i] = 1;
        }
    }
    lq_mat_sort(m);
    size_t nout = 0;
    for (size_t i = 0; i < m->n; i++) {
        size_t pts = 0;
        for (size_t st = 0; st < c->nsteps; st++) {
            pts += m->s[i].has[st];
        }
        nout += pts > 0;
    }
    if (nout > max_series) {
        return lq_fail(c, LOGQL_ERR_LIMIT,
                       "maximum number of series (%zu) reached for a single query; consider reducing query "
                       "cardinality by adding more specific stream selectors, reducing the time range, or "
                       "aggregating results with functions like sum(), count() or topk()",
                       max_series);
    }
    res->type = q->instant ? LOGQL_VECTOR : LOGQL_MATRIX;
    res->series = arena_calloc(c->a, nout + 1, sizeof(*res->series));
    vord_t *ord = mem_calloc(nout + 1, sizeof(*ord));
    size_t k = 0;
    for (size_t i = 0; i < m->n; i++) {
        size_t pts = 0;
        for (size_t st = 0; st < c->nsteps; st++) {
            pts += m->s[i].has[st];
        }
        if (pts > 0) {
            ord[k++] = (vord_t){ &m->s[i], m->s[i].v[c->nsteps - 1] };
        }
    }
    if (q->instant && m->sort != 0) {
        qsort(ord, k, sizeof(*ord), m->sort > 0 ? vord_asc : vord_desc);
    }
    for (size_t i = 0; i < k; i++) {
        lq_ser_t *s = ord[i].s;
        logql_series_t *o = &res->series[i];
        size_t pts = 0;
        for (size_t st = 0; st < c->nsteps; st++) {
            pts += s->has[st];
        }
        o->labels = s->ls;
        o->nlabels = s->nls;
        o->ts_ns = arena_calloc(c->a, pts, sizeof(int64_t));
        o->vs = arena_calloc(c->a, pts, sizeof(double));
        for (size_t st = 0; st < c->nsteps; st++) {
            if (s->has[st]) {
                o->ts_ns[o->n] = c->start + (int64_t)st * c->step;
                o->vs[o->n++] = s->v[st];
            }
        }
    }
    res->nseries = k;
    mem_free(ord);
    return 0;
}

static void fmt_thousands(size_t v, char *out, size_t outlen)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%zu", v);
    size_t k = 0;
    for (int i = 0; i < n && k + 2 < outlen; i++) {
        if (i > 0 && (n - i) % 3 == 0) {
            out[k++] = ',';
        }
        out[k++] = tmp[i];
    }
    out[k] = 0;
}

int logql_eval(const logql_source_t *src, const logql_limits_t *lim, const logql_query_t *q, arena_t *a,
               logql_result_t *res, logql_eval_error_t *err)
{
    memset(res, 0, sizeof(*res));
    memset(err, 0, sizeof(*err));
    logql_limits_t defl = { 0 };
    if (lim == NULL) {
        lim = &defl;
    }
    double t0 = clock_mono_s();
    lq_ctx_t c = { .src = src, .lim = lim, .q = q, .a = a, .err = err, .t0 = t0, .stats = &res->stats };
    c.deadline = lim->timeout_s > 0 ? t0 + lim->timeout_s : 0;
    logql_node_t *n = NULL;
    logql_error_t perr;
    if (logql_parse(q->q, q->len, a, &n, &perr) != 0) {
        return lq_fail(&c, LOGQL_ERR_PARSE, "%s", perr.msg);
    }
    int rc = 0;
    /* Loki's GetRangeType: start == end with no step is an instant query */
    logql_query_t qi = *q;
    if (logql_is_sample(n) && !q->instant && q->start_ns == q->end_ns && q->step_ns == 0) {
        qi.instant = true;
        q = &qi;
        c.q = q;
    }
    if (!logql_is_sample(n)) {
        size_t max_entries = lim->max_entries ? lim->max_entries : 5000;
        if (q->instant) {
            rc = lq_fail(&c, LOGQL_ERR_BAD_DATA,
                         "log queries are not supported as an instant query type, please "
                         "change your query to a range query type");
        } else if (q->limit > max_entries) {
            rc = lq_fail(&c, LOGQL_ERR_BAD_DATA,
                         "max entries limit per query exceeded, limit > max_entries_limit_per_query (%zu > %zu)",
                         q->limit, max_entries);
        } else if (q->end_ns < q->start_ns) {
            rc = lq_fail(&c, LOGQL_ERR_BAD_DATA, "end timestamp must not be before or equal to start time");
        } else {
            rc = eval_log(&c, n, res);
        }
    } else {
        c.start = q->start_ns;
        if (q->instant || q->start_ns == q->end_ns) {
            c.step = q->step_ns > 0 ? q->step_ns : 1;
            c.nsteps = 1;
            if (q->instant) {
                c.start = q->end_ns;
            }
        } else if (q->step_ns <= 0) {
            return lq_fail(&c, LOGQL_ERR_BAD_DATA,
                           "zero or negative query resolution step widths are not accepted. Try a positive integer");
        } else if (q->end_ns < q->start_ns) {
            return lq_fail(&c, LOGQL_ERR_BAD_DATA, "end timestamp must not be before or equal to start time");
        } else {
            c.step = q->step_ns;
            /* end >= start: the unsigned difference is exact; compare before the
             * +1 so a span of 2^64-1 ns cannot wrap to 0 steps. */
            uint64_t span = ((uint64_t)q->end_ns - (uint64_t)q->start_ns) / (uint64_t)q->step_ns;
            size_t max_points = lim->max_points ? lim->max_points : 11000;
            uint64_t steps = span >= max_points ? (uint64_t)max_points + 1 : span + 1;
            if (steps > max_points) {
                char num[32];
                fmt_thousands(max_points, num, sizeof(num));
                return lq_fail(&c, LOGQL_ERR_BAD_DATA,
                               "exceeded maximum resolution of %s points per timeseries. Try decreasing the query "
                               "resolution (?step=XX)",
                               num);
            }
            c.nsteps = (size_t)steps;
        }
        lq_mat_t m = { 0 };
        rc = lq_eval_node(&c, n, &m);
        if (rc == 0) {
            rc = metric_result(&c, &m, res);
        }
    }
    res->stats.exec_seconds = clock_mono_s() - t0;
    if (rc != 0) {
        logql_stats_t st = res->stats;
        memset(res, 0, sizeof(*res));
        res->stats = st;
        if (err->type == LOGQL_ERR_NONE) {
            err->type = LOGQL_ERR_INTERNAL;
            snprintf(err->msg, sizeof(err->msg), "internal error");
        }
        return -1;
    }
    return 0;
}

int logql_check(const char *q, size_t len, bool *is_metric, char *msg, size_t msglen)
{
    arena_t *a = arena_create(16 * 1024);
    logql_node_t *n = NULL;
    logql_error_t perr;
    int rc = 0;
    if (logql_parse(q, len, a, &n, &perr) != 0) {
        if (msglen > 0) {
            snprintf(msg, msglen, "%s", perr.msg);
        }
        rc = -1;
    } else if (is_metric != NULL) {
        *is_metric = logql_is_sample(n);
    }
    arena_destroy(a);
    return rc;
}

static const logql_node_t *first_selector(const logql_node_t *n)
{
    switch (n->kind) {
    case LQ_LOG:
        return n;
    case LQ_RANGE_AGG:
        return n->u.range.log;
    case LQ_VECTOR_AGG:
        return first_selector(n->u.vec.expr);
    case LQ_BINOP: {
        const logql_node_t *l = first_selector(n->u.bin.lhs);
        return l != NULL ? l : first_selector(n->u.bin.rhs);
    }
    case LQ_LABEL_REPLACE:
        return first_selector(n->u.lr.expr);
    default:
        return NULL;
    }
}

int logql_parse_selector(const char *q, size_t len, arena_t *a, matcher_t **ms, size_t *nms, char *msg, size_t msglen)
{
    *ms = NULL;
    *nms = 0;
    logql_node_t *n = NULL;
    logql_error_t perr;
    if (logql_parse(q, len, a, &n, &perr) != 0) {
        snprintf(msg, msglen, "%s", perr.msg);
        return -1;
    }
    const logql_node_t *sel = first_selector(n);
    if (sel == NULL) {
        snprintf(msg, msglen, "only label matchers is supported");
        return -1;
    }
    matcher_t *out = arena_calloc(a, sel->u.log.nm + 1, sizeof(*out));
    for (size_t i = 0; i < sel->u.log.nm; i++) {
        const logql_matcher_t *m = &sel->u.log.m[i];
        if (matcher_init(&out[i], m->type, (str_t){ m->name.p, m->name.len }, (str_t){ m->value.p, m->value.len }, msg,
                         msglen) != 0) {
            for (size_t j = 0; j < i; j++) {
                matcher_fini(&out[j]);
            }
            return -1;
        }
    }
    *ms = out;
    *nms = sel->u.log.nm;
    return 0;
}

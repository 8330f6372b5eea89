/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logql_vec: vector aggregations (sum avg min max count stddev stdvar
 * topk bottomk sort sort_desc, with by/without), binary operations
 * (arithmetic, comparisons with and without bool, and/or/unless,
 * on/ignoring, group_left/group_right) and label_replace, over step
 * matrices, with the semantics Loki's evaluator.go shares with PromQL.
 *
 * Core idea: a series' labels do not change from step to step, so group
 * keys and matching signatures are computed once per series; each step
 * then only adds numbers. Binary operations key their output series by
 * result labels (lq_sindex), since one output series may be fed by
 * different input pairs at different steps.
 *
 * Rules: a comparison without bool keeps the left value (the vector's,
 * when the other side is a scalar) and drops the point when false;
 * one-to-one matching with on(...) keeps only the on labels, with
 * ignoring(...) drops the ignored ones (Loki's resultMetric); group_x
 * copies its include labels from the "one" side. topk/bottomk ties keep
 * the series that sort first by labels (Loki's heap order is not
 * specified). Errors use Loki's texts (evaluator.go vectorBinop); division
 * and modulo by zero give NaN (Loki's MergeBinOp), not PromQL's Inf.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/mem.h"
#include "query/logql_int.h"

static bool in_names(const logql_str_t *names, size_t n, str_t name)
{
    for (size_t i = 0; i < n; i++) {
        if (str_eq((str_t){ names[i].p, names[i].len }, name)) {
            return true;
        }
    }
    return false;
}

/* Labels of ls kept by by(names) (keep) or without/ignoring(names) (!keep). */
static size_t filter_labels(const label_t *ls, size_t n, const logql_str_t *names, size_t nn, bool keep, label_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (in_names(names, nn, ls[i].name) == keep) {
            out[k++] = ls[i];
        }
    }
    return k;
}

/* A literal as a one-series matrix without labels. */
static void scalar_to_vec(lq_ctx_t *c, lq_mat_t *m)
{
    if (!m->scalar) {
        return;
    }
    double v = m->sc;
    m->scalar = false;
    lq_ser_t *s = lq_mat_add(c, m, NULL, 0);
    for (size_t i = 0; i < c->nsteps; i++) {
        s->v[i] = v;
        s->has[i] = 1;
    }
}

typedef struct vitem {
    size_t ser;
    double v;
} vitem_t;

static int cmp_top(const void *a, const void *b)
{
    const vitem_t *x = a, *y = b;
    if (x->v != y->v) {
        if (isnan(x->v)) {
            return 1;
        }
        if (isnan(y->v)) {
            return -1;
        }
        return x->v > y->v ? -1 : 1;
    }
    return x->ser < y->ser ? -1 : x->ser > y->ser;
}

static int cmp_bottom(const void *a, const void *b)
{
    const vitem_t *x = a, *y = b;
    if (x->v != y->v) {
        if (isnan(x->v)) {
            return 1;
        }
        if (isnan(y->v)) {
            return -1;
        }
        return x->v < y->v ? -1 : 1;
    }
    return x->ser < y->ser ? -1 : x->ser > y->ser;
}

/* Loki's canInjectVectorGrouping: sum over count/rate/bytes/sum_over_time
 * without its own grouping hands its grouping to the extractor (sum()
 * as by ()), which then groups samples, and hints parsers, by it. */
static bool push_grouping(const logql_node_t *n)
{
    const logql_node_t *r = n->u.vec.expr;
    if (n->u.vec.op != LQ_V_SUM || r->kind != LQ_RANGE_AGG || r->u.range.grouping.present) {
        return false;
    }
    switch (r->u.range.op) {
    case LQ_R_BYTES:
    case LQ_R_BYTES_RATE:
    case LQ_R_SUM:
    case LQ_R_RATE:
    case LQ_R_COUNT:
        return true;
    default:
        return false;
    }
}

int lq_vec_eval(lq_ctx_t *c, const logql_node_t *n, lq_mat_t *out)
{
    lq_mat_t in = { 0 };
    if (push_grouping(n)) {
        logql_grouping_t g = n->u.vec.grouping;
        g.present = true;
        if (lq_timed_out(c)) {
            return lq_fail(c, LOGQL_ERR_TIMEOUT, "context deadline exceeded");
        }
        if (lq_range_eval(c, n->u.vec.expr, &g, &in) != 0) {
            return -1;
        }
    } else if (lq_eval_node(c, n->u.vec.expr, &in) != 0) {
        return -1;
    }
    scalar_to_vec(c, &in);
    lq_mat_sort(&in);
    logql_vec_op_t op = n->u.vec.op;
    if (op == LQ_V_SORT || op == LQ_V_SORT_DESC) {
        *out = in;
        out->sort = op == LQ_V_SORT ? 1 : -1;
        return 0;
    }
    const logql_grouping_t *g = &n->u.vec.grouping;
    /* group of each input series */
    size_t *grp = arena_calloc(c->a, in.n + 1, sizeof(size_t));
    lq_mat_t groups = { 0 };
    lq_sindex_t gix = { 0 };
    hmap_init(&gix.m);
    label_t *tmp = NULL;
    size_t tmpcap = 0;
    for (size_t i = 0; i < in.n; i++) {
        if (tmpcap < in.s[i].nls + 1) {
            tmpcap = (in.s[i].nls + 1) * 2;
            tmp = mem_realloc(tmp, tmpcap * sizeof(*tmp));
        }
        size_t k = 0;
        if (g->present) {
            k = filter_labels(in.s[i].ls, in.s[i].nls, g->labels, g->nlabels, !g->without, tmp);
        }
        lq_ser_t *gs = lq_sindex_get(c, &gix, &groups, tmp, k, NULL);
        grp[i] = (size_t)(gs - groups.s);
    }
    mem_free(tmp);
    hmap_fini(&gix.m);
    if (op == LQ_V_TOPK || op == LQ_V_BOTTOMK) {
        long k = n->u.vec.param;
        vitem_t *items = mem_calloc(in.n + 1, sizeof(*items));
        size_t *cnt = mem_calloc(groups.n + 1, sizeof(size_t));
        lq_ser_t **os = mem_calloc(in.n + 1, sizeof(*os));
        for (size_t st = 0; st < c->nsteps && k > 0; st++) {
            size_t ni = 0;
            for (size_t i = 0; i < in.n; i++) {
                if (in.s[i].has[st]) {
                    items[ni++] = (vitem_t){ i, in.s[i].v[st] };
                }
            }
            if (ni > 1) {
                qsort(items, ni, sizeof(*items), op == LQ_V_TOPK ? cmp_top : cmp_bottom);
            }
            memset(cnt, 0, (groups.n + 1) * sizeof(size_t));
            for (size_t j = 0; j < ni; j++) {
                size_t s = items[j].ser;
                if (cnt[grp[s]] >= (size_t)k) {
                    continue;
                }
                cnt[grp[s]]++;
                if (os[s] == NULL) {
                    os[s] = lq_mat_add(c, out, in.s[s].ls, in.s[s].nls);
                }
                os[s]->v[st] = items[j].v;
                os[s]->has[st] = 1;
            }
        }
        mem_free(items);
        mem_free(cnt);
        mem_free(os);
        return 0;
    }
    for (size_t gi = 0; gi < groups.n; gi++) {
        lq_mat_add(c, out, groups.s[gi].ls, groups.s[gi].nls);
    }
    double *sum = mem_calloc(groups.n + 1, sizeof(double));
    double *mean = mem_calloc(groups.n + 1, sizeof(double));
    double *m2 = mem_calloc(groups.n + 1, sizeof(double));
    size_t *cnt = mem_calloc(groups.n + 1, sizeof(size_t));
    for (size_t st = 0; st < c->nsteps; st++) {
        memset(cnt, 0, (groups.n + 1) * sizeof(size_t));
        memset(sum, 0, (groups.n + 1) * sizeof(double));
        memset(mean, 0, (groups.n + 1) * sizeof(double));
        memset(m2, 0, (groups.n + 1) * sizeof(double));
        for (size_t i = 0; i < in.n; i++) {
            if (!in.s[i].has[st]) {
                continue;
            }
            size_t gi = grp[i];
            double v = in.s[i].v[st];
            size_t nn = ++cnt[gi];
            switch (op) {
            case LQ_V_MIN:
                if (nn == 1 || v < sum[gi] || isnan(sum[gi])) {
                    sum[gi] = v;
                }
                break;
            case LQ_V_MAX:
                if (nn == 1 || v > sum[gi] || isnan(sum[gi])) {
                    sum[gi] = v;
                }
                break;
            default: {
                sum[gi] += v;
                double d = v - mean[gi];
                mean[gi] += d / (double)nn;
                m2[gi] += d * (v - mean[gi]);
                break;
            }
            }
        }
        for (size_t gi = 0; gi < groups.n; gi++) {
            if (cnt[gi] == 0) {
                continue;
            }
            double r = sum[gi];
            switch (op) {
            case LQ_V_AVG:
                r = sum[gi] / (double)cnt[gi];
                if (isinf(r) || isnan(r)) {
                    r = mean[gi];
                }
                break;
            case LQ_V_COUNT:
                r = (double)cnt[gi];
                break;
            case LQ_V_STDVAR:
                r = m2[gi] / (double)cnt[gi];
                break;
            case LQ_V_STDDEV:
                r = sqrt(m2[gi] / (double)cnt[gi]);
                break;
            default:
                break;
            }
            out->s[gi].v[st] = r;
            out->s[gi].has[st] = 1;
        }
    }
    mem_free(sum);
    mem_free(mean);
    mem_free(m2);
    mem_free(cnt);
    return 0;
}

/* ---- binary operations ---- */

static bool is_cmp(logql_binop_t op)
{
    return op >= LQ_B_EQ;
}

/* op(l, r): false when a comparison is false. */
static bool apply(logql_binop_t op, double l, double r, double *out)
{
    switch (op) {
    case LQ_B_ADD:
        *out = l + r;
        return true;
    case LQ_B_SUB:
        *out = l - r;
        return true;
    case LQ_B_MUL:
        *out = l * r;
        return true;
    case LQ_B_DIV: /* Loki guards division by zero with NaN, unlike PromQL */
        *out = r == 0 ? NAN : l / r;
        return true;
    case LQ_B_MOD:
        *out = r == 0 ? NAN : fmod(l, r);
        return true;
    case LQ_B_POW:
        *out = pow(l, r);
        return true;
    case LQ_B_EQ:
        *out = l;
        return l == r;
    case LQ_B_NEQ:
        *out = l;
        return l != r;
    case LQ_B_GT:
        *out = l;
        return l > r;
    case LQ_B_GTE:
        *out = l;
        return l >= r;
    case LQ_B_LT:
        *out = l;
        return l < r;
    case LQ_B_LTE:
        *out = l;
        return l <= r;
    default:
        *out = 0;
        return false;
    }
}

static uint64_t signature(const lq_ser_t *s, const logql_node_t *n, label_t *tmp, size_t *nk)
{
    size_t k;
    if (n->u.bin.on) {
        k = filter_labels(s->ls, s->nls, n->u.bin.matching, n->u.bin.nmatching, true, tmp);
    } else {
        k = filter_labels(s->ls, s->nls, n->u.bin.matching, n->u.bin.nmatching, false, tmp);
    }
    if (nk) {
        *nk = k;
    }
    return labels_hash(tmp, k);
}

static int set_op(lq_ctx_t *c, const logql_node_t *n, lq_mat_t *l, lq_mat_t *r, lq_mat_t *out)
{
    size_t maxl = 1;
    for (size_t i = 0; i < l->n; i++) {
        maxl = l->s[i].nls + 1 > maxl ? l->s[i].nls + 1 : maxl;
    }
    for (size_t i = 0; i < r->n; i++) {
        maxl = r->s[i].nls + 1 > maxl ? r->s[i].nls + 1 : maxl;
    }
    label_t *tmp = mem_calloc(maxl, sizeof(*tmp));
    uint64_t *ls = mem_calloc(l->n + 1, sizeof(uint64_t)), *rs = mem_calloc(r->n + 1, sizeof(uint64_t));
    for (size_t i = 0; i < l->n; i++) {
        ls[i] = signature(&l->s[i], n, tmp, NULL);
    }
    for (size_t i = 0; i < r->n; i++) {
        rs[i] = signature(&r->s[i], n, tmp, NULL);
    }
    mem_free(tmp);
    /* output series are keyed by labels: a left and a right series with
     * the same labels are one series of the result (Loki's vectorsToSeries) */
    lq_sindex_t ix = { 0 };
    hmap_init(&ix.m);
    logql_binop_t op = n->u.bin.op;
    for (size_t st = 0; st < c->nsteps; st++) {
        for (size_t i = 0; i < l->n; i++) {
            if (!l->s[i].has[st]) {
                continue;
            }
            bool found = false;
            for (size_t j = 0; j < r->n && !found; j++) {
                found = r->s[j].has[st] && rs[j] == ls[i];
            }
            if ((op == LQ_B_AND && !found) || (op == LQ_B_UNLESS && found)) {
                continue;
            }
            lq_ser_t *o = lq_sindex_get(c, &ix, out, l->s[i].ls, l->s[i].nls, NULL);
            o->v[st] = l->s[i].v[st];
            o->has[st] = 1;
        }
        if (op != LQ_B_OR) {
            continue;
        }
        for (size_t j = 0; j < r->n; j++) {
            if (!r->s[j].has[st]) {
                continue;
            }
            bool found = false;
            for (size_t i = 0; i < l->n && !found; i++) {
                found = l->s[i].has[st] && ls[i] == rs[j];
            }
            if (found) {
                continue;
            }
            lq_ser_t *o = lq_sindex_get(c, &ix, out, r->s[j].ls, r->s[j].nls, NULL);
            o->v[st] = r->s[j].v[st];
            o->has[st] = 1;
        }
    }
    hmap_fini(&ix.m);
    mem_free(ls);
    mem_free(rs);
    return 0;
}

static size_t result_labels(const logql_node_t *n, const lq_ser_t *many, const lq_ser_t *one, label_t *out)
{
    size_t k = 0;
    if (n->u.bin.card == LQ_CARD_ONE_TO_ONE && n->u.bin.has_matching) {
        k = filter_labels(many->ls, many->nls, n->u.bin.matching, n->u.bin.nmatching, n->u.bin.on, out);
    } else {
        memcpy(out, many->ls, many->nls * sizeof(*out));
        k = many->nls;
    }
    for (size_t i = 0; i < n->u.bin.ninclude; i++) {
        str_t name = { n->u.bin.include[i].p, n->u.bin.include[i].len };
        str_t v = labels_get(one->ls, one->nls, name.p);
        size_t j = 0;
        while (j < k && !str_eq(out[j].name, name)) {
            j++;
        }
        if (v.len > 0) {
            if (j == k) {
                k++;
            }
            out[j] = (label_t){ name, v };
        } else if (j < k) {
            memmove(&out[j], &out[j + 1], (k - j - 1) * sizeof(*out));
            k--;
        }
    }
    labels_sort(out, k);
    return k;
}

static int vec_vec(lq_ctx_t *c, const logql_node_t *n, lq_mat_t *l, lq_mat_t *r, lq_mat_t *out)
{
    logql_binop_t op = n->u.bin.op;
    if (op == LQ_B_AND || op == LQ_B_OR || op == LQ_B_UNLESS) {
        return set_op(c, n, l, r, out);
    }
    bool swap = n->u.bin.card == LQ_CARD_ONE_TO_MANY;
    lq_mat_t *many = swap ? r : l, *one = swap ? l : r;
    size_t maxl = 1 + n->u.bin.ninclude;
    for (size_t i = 0; i < l->n; i++) {
        maxl = l->s[i].nls + 1 + n->u.bin.ninclude > maxl ? l->s[i].nls + 1 + n->u.bin.ninclude : maxl;
    }
    for (size_t i = 0; i < r->n; i++) {
        maxl = r->s[i].nls + 1 + n->u.bin.ninclude > maxl ? r->s[i].nls + 1 + n->u.bin.ninclude : maxl;
    }
    label_t *tmp = mem_calloc(maxl, sizeof(*tmp));
    uint64_t *ms = mem_calloc(many->n + 1, sizeof(uint64_t)), *os = mem_calloc(one->n + 1, sizeof(uint64_t));
    for (size_t i = 0; i < many->n; i++) {
        ms[i] = signature(&many->s[i], n, tmp, NULL);
    }
    for (size_t i = 0; i < one->n; i++) {
        os[i] = signature(&one->s[i], n, tmp, NULL);
    }
    lq_sindex_t ix = { 0 };
    hmap_init(&ix.m);
    int rc = 0;
    for (size_t st = 0; st < c->nsteps && rc == 0; st++) {
        for (size_t j = 0; j < one->n && rc == 0; j++) {
            if (!one->s[j].has[st]) {
                continue;
            }
            for (size_t j2 = j + 1; j2 < one->n; j2++) {
                if (one->s[j2].has[st] && os[j2] == os[j]) {
                    rc = lq_fail(c, LOGQL_ERR_BAD_DATA,
                                 "found duplicate series on the %s hand-side;many-to-many matching not allowed: "
                                 "matching labels must be unique on one side",
                                 swap ? "left" : "right");
                    break;
                }
            }
        }
        for (size_t i = 0; i < many->n && rc == 0; i++) {
            if (!many->s[i].has[st]) {
                continue;
            }
            size_t j = 0;
            while (j < one->n && !(one->s[j].has[st] && os[j] == ms[i])) {
                j++;
            }
            if (j == one->n) {
                continue;
            }
            if (n->u.bin.card == LQ_CARD_ONE_TO_ONE) {
                for (size_t i2 = i + 1; i2 < many->n; i2++) {
                    if (many->s[i2].has[st] && ms[i2] == ms[i]) {
                        rc = lq_fail(c, LOGQL_ERR_BAD_DATA,
                                     "multiple matches for labels: many-to-one matching must be explicit "
                                     "(group_left/group_right)");
                        break;
                    }
                }
                if (rc != 0) {
                    break;
                }
            }
            double vl = many->s[i].v[st], vr = one->s[j].v[st];
            if (swap) {
                double t = vl;
                vl = vr;
                vr = t;
            }
            double v = 0;
            bool keep = apply(op, vl, vr, &v);
            if (n->u.bin.return_bool) {
                v = keep ? 1 : 0;
            } else if (!keep) {
                continue;
            }
            size_t k = result_labels(n, &many->s[i], &one->s[j], tmp);
            lq_ser_t *o = lq_sindex_get(c, &ix, out, tmp, k, NULL);
            o->v[st] = v;
            o->has[st] = 1;
        }
    }
    hmap_fini(&ix.m);
    mem_free(tmp);
    mem_free(ms);
    mem_free(os);
    return rc;
}

int lq_binop_eval(lq_ctx_t *c, const logql_node_t *n, lq_mat_t *out)
{
    lq_mat_t l = { 0 }, r = { 0 };
    if (lq_eval_node(c, n->u.bin.lhs, &l) != 0 || lq_eval_node(c, n->u.bin.rhs, &r) != 0) {
        return -1;
    }
    logql_binop_t op = n->u.bin.op;
    if (l.scalar && r.scalar) {
        double v = 0;
        bool keep = apply(op, l.sc, r.sc, &v);
        out->scalar = true;
        out->sc = is_cmp(op) ? (keep ? 1 : 0) : v;
        return 0;
    }
    if (l.scalar || r.scalar) {
        if (op == LQ_B_AND || op == LQ_B_OR || op == LQ_B_UNLESS) {
            return lq_fail(c, LOGQL_ERR_BAD_DATA, "set operator \"%s\" not allowed in binary scalar expression",
                           logql_binop_name(op));
        }
        lq_mat_t *v = l.scalar ? &r : &l;
        double sc = l.scalar ? l.sc : r.sc;
        for (size_t i = 0; i < v->n; i++) {
            lq_ser_t *s = &v->s[i];
            lq_ser_t *o = NULL;
            for (size_t st = 0; st < c->nsteps; st++) {
                if (!s->has[st]) {
                    continue;
                }
                double x = 0;
                bool keep = l.scalar ? apply(op, sc, s->v[st], &x) : apply(op, s->v[st], sc, &x);
                if (is_cmp(op) && !n->u.bin.return_bool) {
                    if (!keep) {
                        continue;
                    }
                    x = s->v[st];
                } else if (is_cmp(op)) {
                    x = keep ? 1 : 0;
                }
                if (o == NULL) {
                    o = lq_mat_add(c, out, s->ls, s->nls);
                }
                o->v[st] = x;
                o->has[st] = 1;
            }
        }
        return 0;
    }
    return vec_vec(c, n, &l, &r, out);
}

/* ---- label_replace ---- */

int lq_label_replace_eval(lq_ctx_t *c, const logql_node_t *n, lq_mat_t *out)
{
    lq_mat_t in = { 0 };
    if (lq_eval_node(c, n->u.lr.expr, &in) != 0) {
        return -1;
    }
    scalar_to_vec(c, &in);
    int ec = 0;
    PCRE2_SIZE eoff = 0;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)n->u.lr.regex.p, n->u.lr.regex.len,
                                   PCRE2_UTF | PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_DOTALL, &ec, &eoff, NULL);
    if (re == NULL) {
        PCRE2_UCHAR msg[200];
        pcre2_get_error_message(ec, msg, sizeof(msg));
        return lq_fail(c, LOGQL_ERR_PARSE, "parse error : invalid regular expression in label_replace(): %s",
                       (const char *)msg);
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    lq_sindex_t ix = { 0 };
    hmap_init(&ix.m);
    str_t dst = { n->u.lr.dst.p, n->u.lr.dst.len };
    str_t repl = { n->u.lr.repl.p, n->u.lr.repl.len };
    for (size_t i = 0; i < in.n; i++) {
        lq_ser_t *s = &in.s[i];
        str_t src = labels_get(s->ls, s->nls, n->u.lr.src.p);
        label_t *ls = arena_calloc(c->a, s->nls + 1, sizeof(*ls));
        memcpy(ls, s->ls, s->nls * sizeof(*ls));
        size_t k = s->nls;
        int rc = pcre2_match(re, (PCRE2_SPTR)(src.p ? src.p : ""), src.len, 0, 0, md, NULL);
        if (rc >= 0) {
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
            buf_t b = { 0 };
            for (size_t j = 0; j < repl.len; j++) {
                if (repl.p[j] == '$' && j + 1 < repl.len) {
                    size_t e = j + 1;
                    bool brace = repl.p[e] == '{';
                    e += brace;
                    size_t st = e;
                    while (e < repl.len &&
                           ((repl.p[e] >= '0' && repl.p[e] <= '9') || (repl.p[e] >= 'a' && repl.p[e] <= 'z') ||
                            (repl.p[e] >= 'A' && repl.p[e] <= 'Z') || repl.p[e] == '_')) {
                        e++;
                    }
                    if (e > st && (!brace || (e < repl.len && repl.p[e] == '}'))) {
                        int64_t g = -1;
                        char nm[64];
                        snprintf(nm, sizeof(nm), "%.*s", (int)(e - st < 63 ? e - st : 63), repl.p + st);
                        if (!str_parse_i64(str_cstr(nm), &g)) {
                            g = pcre2_substring_number_from_name(re, (PCRE2_SPTR)nm);
                        }
                        if (g >= 0 && g < rc && ov[2 * g] != PCRE2_UNSET) {
                            buf_append(&b, src.p + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
                        }
                        j = e - (brace ? 0 : 1);
                        continue;
                    }
                }
                buf_putc(&b, (uint8_t)repl.p[j]);
            }
            size_t at = 0;
            while (at < k && !str_eq(ls[at].name, dst)) {
                at++;
            }
            if (b.len > 0) {
                char *v = arena_strndup(c->a, (const char *)b.data, b.len);
                if (at == k) {
                    k++;
                }
                ls[at] = (label_t){ dst, { v, b.len } };
            } else if (at < k) {
                memmove(&ls[at], &ls[at + 1], (k - at - 1) * sizeof(*ls));
                k--;
            }
            buf_fini(&b);
            labels_sort(ls, k);
        }
        lq_ser_t *o = lq_sindex_get(c, &ix, out, ls, k, NULL);
        for (size_t st = 0; st < c->nsteps; st++) {
            if (s->has[st]) {
                o->v[st] = s->v[st];
                o->has[st] = 1;
            }
        }
    }
    hmap_fini(&ix.m);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return 0;
}

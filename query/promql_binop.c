/* SPDX-License-Identifier: Apache-2.0 */
/*
 * promql_binop: binary operators with Prometheus 3.x's semantics.
 *
 * scalar op scalar and vector op scalar work series by series (a scalar
 * has a point at every step). vector op vector goes step by step through
 * pq_range_eval: each series' matching signature (its on/ignoring
 * labels) is computed once and numbered, so a step only compares
 * numbers. The "one" side of a match is indexed per step; a duplicate
 * there, or a second match of a one-to-one pair, is Prometheus' error.
 * Result label sets are built once per (left, right) pair and reused.
 * Arithmetic drops __name__; comparisons keep the left side's labels
 * (and value) unless bool turns them into 0/1, which drops __name__.
 */
#include <math.h>
#include <string.h>

#include "common/buf.h"
#include "common/hmap.h"
#include "query/promql_int.h"

static bool is_comparison(promql_op_t op)
{
    return op >= PROMQL_OP_EQLC && op <= PROMQL_OP_LTE;
}

static bool changes_schema(promql_op_t op)
{
    return op <= PROMQL_OP_ATAN2;
}

/* Prometheus' vectorElemBinop for floats: value and whether to keep. */
static double elem_binop(promql_op_t op, double l, double r, bool *keep)
{
    *keep = true;
    switch (op) {
    case PROMQL_OP_ADD:
        return l + r;
    case PROMQL_OP_SUB:
        return l - r;
    case PROMQL_OP_MUL:
        return l * r;
    case PROMQL_OP_DIV:
        return l / r;
    case PROMQL_OP_POW:
        return pow(l, r);
    case PROMQL_OP_MOD:
        return fmod(l, r);
    case PROMQL_OP_ATAN2:
        return atan2(l, r);
    case PROMQL_OP_EQLC:
        *keep = l == r;
        return l;
    case PROMQL_OP_NEQ:
        *keep = l != r;
        return l;
    case PROMQL_OP_GTR:
        *keep = l > r;
        return l;
    case PROMQL_OP_LSS:
        *keep = l < r;
        return l;
    case PROMQL_OP_GTE:
        *keep = l >= r;
        return l;
    case PROMQL_OP_LTE:
        *keep = l <= r;
        return l;
    default:
        *keep = false;
        return 0;
    }
}

static int eval_scalar_scalar(pq_ev_t *ev, const promql_node_t *n, pq_matrix_t *l, pq_matrix_t *r, pq_matrix_t *out)
{
    *out = *l;
    if (out->n == 0 || r->n == 0) {
        out->n = 0;
        return 0;
    }
    pq_series_t *s = &out->s[0];
    for (uint32_t i = 0; i < s->n && i < r->s[0].n; i++) {
        bool keep;
        double v = elem_binop(n->u.bin.op, s->vs[i], r->s[0].vs[i], &keep);
        s->vs[i] = is_comparison(n->u.bin.op) ? (keep ? 1 : 0) : v;
    }
    (void)ev;
    return 0;
}

/* vector op scalar (or scalar op vector when swap). */
static int eval_vector_scalar(pq_ev_t *ev, const promql_node_t *n, pq_matrix_t *vec, pq_matrix_t *sc, bool swap,
                              pq_matrix_t *out)
{
    promql_op_t op = n->u.bin.op;
    bool rb = n->u.bin.return_bool;
    memset(out, 0, sizeof(*out));
    const pq_series_t *scs = sc->n > 0 ? &sc->s[0] : NULL;
    for (size_t i = 0; i < vec->n; i++) {
        pq_series_t *in = &vec->s[i];
        pq_series_t *o = NULL;
        for (uint32_t j = 0; j < in->n; j++) {
            size_t step = (size_t)((in->ts[j] - ev->start) / ev->interval);
            if (!scs || step >= scs->n) {
                continue;
            }
            double lf = in->vs[j], rf = scs->vs[step];
            if (swap) {
                double t = lf;
                lf = rf;
                rf = t;
            }
            bool keep;
            double v = elem_binop(op, lf, rf, &keep);
            if (is_comparison(op) && swap) {
                v = rf;
            }
            if (rb) {
                v = keep ? 1 : 0;
                keep = true;
            }
            if (!keep) {
                continue;
            }
            if (!o) {
                o = pq_matrix_add(ev, out, in->labels, in->nlabels, in->drop_name);
                if (changes_schema(op) || rb) {
                    pq_series_drop_name(ev, o);
                }
            }
            pq_series_push(ev, o, in->ts[j], v);
        }
    }
    return pq_merge_same_labels(ev, out);
}

/* ---- vector op vector ---- */

typedef struct sig {
    label_t *ls;
    uint32_t n;
} sig_t;

typedef struct sig_map_ctx {
    const sig_t *sigs;
    const sig_t *probe;
} sig_map_ctx_t;

static bool sig_eq(void *ctx, uint64_t value)
{
    sig_map_ctx_t *c = ctx;
    const sig_t *a = &c->sigs[value];
    return labels_compare(a->ls, a->n, c->probe->ls, c->probe->n) == 0;
}

typedef struct vv_ctx {
    const promql_node_t *n;
    uint32_t *ord[2]; /* per side, per series: signature ordinal */
    size_t nsigs;
    /* per step: ordinal -> index into the "one" side's vector + 1 */
    uint32_t *one_at;
    uint64_t *one_stamp;
    uint64_t *matched_stamp; /* one-to-one: ordinal matched at this step */
    uint64_t stamp;
    hmap_t pair_labels; /* (l, r) pair -> index into pl */
    label_t **pl;
    uint32_t *pln;
    uint64_t *plkey;
    size_t npl, cappl;
    hmap_t seen_out; /* many-to-one: (ordinal, result hash) seen this step */
    uint64_t seen_stamp;
} vv_ctx_t;

static int assign_sigs(pq_ev_t *ev, vv_ctx_t *c, pq_matrix_t *m, int side, hmap_t *map, sig_t **sigs, size_t *cap)
{
    const promql_node_t *n = c->n;
    c->ord[side] = arena_alloc(ev->a, (m->n ? m->n : 1) * sizeof(uint32_t));
    for (size_t i = 0; i < m->n; i++) {
        sig_t s;
        if (n->u.bin.on) {
            s.ls = pq_labels_only(ev, m->s[i].labels, m->s[i].nlabels, n->u.bin.labels.names, n->u.bin.labels.n, &s.n);
        } else {
            s.ls = pq_labels_without(ev, m->s[i].labels, m->s[i].nlabels, n->u.bin.labels.names, n->u.bin.labels.n,
                                     true, &s.n);
        }
        uint64_t h = labels_hash(s.ls, s.n);
        sig_map_ctx_t mc = { *sigs, &s };
        uint64_t ord;
        if (!hmap_get(map, h, sig_eq, &mc, &ord)) {
            if (c->nsigs == *cap) {
                size_t nc = *cap ? *cap * 2 : 64;
                sig_t *grown = arena_alloc(ev->a, nc * sizeof(*grown));
                if (c->nsigs) {
                    memcpy(grown, *sigs, c->nsigs * sizeof(*grown));
                }
                *sigs = grown;
                *cap = nc;
            }
            ord = c->nsigs;
            (*sigs)[c->nsigs++] = s;
            hmap_put(map, h, ord);
        }
        c->ord[side][i] = (uint32_t)ord;
    }
    return 0;
}

static void format_labels_short(const label_t *ls, size_t n, buf_t *b)
{
    labels_format(ls, n, b);
}

/* Labels of the result of l op r (l, r after the one-to-many swap). */
static label_t *result_labels(pq_ev_t *ev, vv_ctx_t *c, const pq_sample_t *l, const pq_sample_t *r, uint32_t *nout)
{
    uint64_t key = ((uint64_t)l->idx << 32) | r->idx;
    uint64_t h = pq_mix64(key);
    uint64_t idx;
    for (bool found = hmap_get(&c->pair_labels, h, NULL, NULL, &idx); found;) {
        if (c->plkey[idx] == key) {
            *nout = c->pln[idx];
            return c->pl[idx];
        }
        break;
    }
    const promql_node_t *n = c->n;
    promql_op_t op = n->u.bin.op;
    uint32_t k;
    label_t *ls;
    static char *const name[] = { "__name__" };
    if (changes_schema(op)) {
        ls = pq_labels_without(ev, l->labels, l->nlabels, name, 1, false, &k);
    } else {
        ls = pq_labels_without(ev, l->labels, l->nlabels, NULL, 0, false, &k);
    }
    if (n->u.bin.card == PROMQL_CARD_ONE_TO_ONE) {
        if (n->u.bin.on) {
            ls = pq_labels_only(ev, ls, k, n->u.bin.labels.names, n->u.bin.labels.n, &k);
        } else {
            ls = pq_labels_without(ev, ls, k, n->u.bin.labels.names, n->u.bin.labels.n, false, &k);
        }
    }
    for (size_t i = 0; i < n->u.bin.include.n; i++) {
        const char *ln = n->u.bin.include.names[i];
        str_t v = labels_get(r->labels, r->nlabels, ln);
        ls = pq_labels_set(ev, ls, k, str_cstr(ln), v, &k);
    }
    if (!ev->delayed && n->u.bin.return_bool) {
        ls = pq_labels_without(ev, ls, k, name, 1, false, &k);
    }
    if (c->npl == c->cappl) {
        size_t nc = c->cappl ? c->cappl * 2 : 64;
        label_t **pl = arena_alloc(ev->a, nc * sizeof(*pl));
        uint32_t *pln = arena_alloc(ev->a, nc * sizeof(*pln));
        uint64_t *plkey = arena_alloc(ev->a, nc * sizeof(*plkey));
        if (c->npl) {
            memcpy(pl, c->pl, c->npl * sizeof(*pl));
            memcpy(pln, c->pln, c->npl * sizeof(*pln));
            memcpy(plkey, c->plkey, c->npl * sizeof(*plkey));
        }
        c->pl = pl;
        c->pln = pln;
        c->plkey = plkey;
        c->cappl = nc;
    }
    c->pl[c->npl] = ls;
    c->pln[c->npl] = k;
    c->plkey[c->npl] = key;
    hmap_put(&c->pair_labels, h, c->npl);
    c->npl++;
    *nout = k;
    return ls;
}

static int step_set_op(pq_ev_t *ev, vv_ctx_t *c, pq_vec_t *args, pq_vec_t *out)
{
    promql_op_t op = c->n->u.bin.op;
    pq_vec_t *l = &args[0], *r = &args[1];
    c->stamp++;
    if (op == PROMQL_OP_OR) {
        for (size_t i = 0; i < l->n; i++) {
            c->one_stamp[c->ord[0][l->s[i].idx]] = c->stamp;
            *pq_vec_push(ev, out) = l->s[i];
        }
        for (size_t i = 0; i < r->n; i++) {
            if (c->one_stamp[c->ord[1][r->s[i].idx]] != c->stamp) {
                *pq_vec_push(ev, out) = r->s[i];
            }
        }
        return 0;
    }
    for (size_t i = 0; i < r->n; i++) {
        c->one_stamp[c->ord[1][r->s[i].idx]] = c->stamp;
    }
    bool want = op == PROMQL_OP_AND;
    if (op == PROMQL_OP_AND && r->n == 0) {
        return 0;
    }
    for (size_t i = 0; i < l->n; i++) {
        bool present = c->one_stamp[c->ord[0][l->s[i].idx]] == c->stamp;
        if (present == want) {
            *pq_vec_push(ev, out) = l->s[i];
        }
    }
    return 0;
}

static int step_vv(pq_ev_t *ev, void *vctx, int64_t ts, pq_vec_t *args, pq_vec_t *out)
{
    (void)ts;
    vv_ctx_t *c = vctx;
    const promql_node_t *n = c->n;
    promql_op_t op = n->u.bin.op;
    if (op >= PROMQL_OP_AND) {
        return step_set_op(ev, c, args, out);
    }
    pq_vec_t *l = &args[0], *r = &args[1];
    int lside = 0, rside = 1;
    bool swapped = n->u.bin.card == PROMQL_CARD_ONE_TO_MANY;
    if (swapped) {
        l = &args[1];
        r = &args[0];
        lside = 1;
        rside = 0;
    }
    if (l->n == 0 || r->n == 0) {
        return 0;
    }
    c->stamp++;
    for (size_t i = 0; i < r->n; i++) {
        uint32_t o = c->ord[rside][r->s[i].idx];
        if (c->one_stamp[o] == c->stamp) {
            const pq_sample_t *dup = &r->s[c->one_at[o] - 1];
            buf_t m = { 0 }, a = { 0 }, b = { 0 };
            uint32_t k;
            label_t *ml;
            if (n->u.bin.on) {
                ml = pq_labels_only(ev, r->s[i].labels, r->s[i].nlabels, n->u.bin.labels.names, n->u.bin.labels.n, &k);
            } else {
                ml = pq_labels_without(ev, r->s[i].labels, r->s[i].nlabels, n->u.bin.labels.names, n->u.bin.labels.n,
                                       true, &k);
            }
            format_labels_short(ml, k, &m);
            /* The two series in a stable, sorted order. */
            const pq_sample_t *x = &r->s[i], *y = dup;
            if (labels_compare(x->labels, x->nlabels, y->labels, y->nlabels) > 0) {
                x = dup;
                y = &r->s[i];
            }
            format_labels_short(x->labels, x->nlabels, &a);
            format_labels_short(y->labels, y->nlabels, &b);
            int rc = pq_fail(ev, PROMQL_ERR_EXECUTION,
                             "found duplicate series for the match group %s on the %s hand-side of the operation: "
                             "[%s, %s];many-to-many matching not allowed: matching labels must be unique on one side",
                             m.data ? (char *)m.data : "{}", swapped ? "left" : "right", a.data ? (char *)a.data : "{}",
                             b.data ? (char *)b.data : "{}");
            buf_fini(&m);
            buf_fini(&a);
            buf_fini(&b);
            return rc;
        }
        c->one_stamp[o] = c->stamp;
        c->one_at[o] = (uint32_t)i + 1;
    }
    c->seen_stamp++;
    for (size_t i = 0; i < l->n; i++) {
        const pq_sample_t *ls = &l->s[i];
        uint32_t o = c->ord[lside][ls->idx];
        if (c->one_stamp[o] != c->stamp) {
            continue;
        }
        const pq_sample_t *rs = &r->s[c->one_at[o] - 1];
        double fl = ls->v, fr = rs->v;
        if (swapped) {
            fl = rs->v;
            fr = ls->v;
        }
        bool keep;
        double v = elem_binop(op, fl, fr, &keep);
        if (n->u.bin.return_bool) {
            v = keep ? 1 : 0;
        }
        uint32_t nl;
        label_t *lab = result_labels(ev, c, ls, rs, &nl);
        if (n->u.bin.card == PROMQL_CARD_ONE_TO_ONE) {
            if (c->matched_stamp[o] == c->stamp) {
                return pq_fail(ev, PROMQL_ERR_EXECUTION,
                               "multiple matches for labels: many-to-one matching must be explicit "
                               "(group_left/group_right)");
            }
            c->matched_stamp[o] = c->stamp;
        } else {
            uint64_t h = pq_mix64(labels_hash(lab, nl) ^ ((uint64_t)o * 0x9e3779b97f4a7c15ULL));
            uint64_t seen;
            if (hmap_get(&c->seen_out, h, NULL, NULL, &seen) && seen == c->seen_stamp) {
                return pq_fail(ev, PROMQL_ERR_EXECUTION,
                               "multiple matches for labels: grouping labels must ensure unique matches");
            }
            if (hmap_get(&c->seen_out, h, NULL, NULL, &seen)) {
                hmap_del(&c->seen_out, h, seen);
            }
            hmap_put(&c->seen_out, h, c->seen_stamp);
        }
        if (!keep && !n->u.bin.return_bool) {
            continue;
        }
        pq_sample_t *x = pq_vec_push(ev, out);
        x->labels = lab;
        x->nlabels = nl;
        x->drop_name = n->u.bin.return_bool;
        x->idx = ls->idx;
        x->key = ((uint64_t)ls->idx << 32) | rs->idx;
        x->v = v;
        x->t = ls->t;
    }
    return 0;
}

static int eval_vector_vector(pq_ev_t *ev, const promql_node_t *n, pq_matrix_t *lm, pq_matrix_t *rm, pq_matrix_t *out)
{
    vv_ctx_t c = { .n = n };
    hmap_t sigmap;
    hmap_init(&sigmap);
    sig_t *sigs = NULL;
    size_t cap = 0;
    assign_sigs(ev, &c, lm, 0, &sigmap, &sigs, &cap);
    assign_sigs(ev, &c, rm, 1, &sigmap, &sigs, &cap);
    hmap_fini(&sigmap);
    size_t ns = c.nsigs ? c.nsigs : 1;
    c.one_at = arena_calloc(ev->a, ns, sizeof(*c.one_at));
    c.one_stamp = arena_calloc(ev->a, ns, sizeof(*c.one_stamp));
    c.matched_stamp = arena_calloc(ev->a, ns, sizeof(*c.matched_stamp));
    hmap_init(&c.pair_labels);
    hmap_init(&c.seen_out);
    pq_matrix_t args[2] = { *lm, *rm };
    int rc = pq_range_eval(ev, args, 2, step_vv, &c, out);
    hmap_fini(&c.pair_labels);
    hmap_fini(&c.seen_out);
    return rc;
}

int pq_eval_binary(pq_ev_t *ev, const promql_node_t *n, pq_matrix_t *out)
{
    promql_type_t lt = promql_node_type(n->u.bin.lhs);
    promql_type_t rt = promql_node_type(n->u.bin.rhs);
    pq_matrix_t l, r;
    if (pq_eval(ev, n->u.bin.lhs, &l) != 0 || pq_eval(ev, n->u.bin.rhs, &r) != 0) {
        return -1;
    }
    if (lt == PROMQL_TYPE_SCALAR && rt == PROMQL_TYPE_SCALAR) {
        return eval_scalar_scalar(ev, n, &l, &r, out);
    }
    if (lt == PROMQL_TYPE_VECTOR && rt == PROMQL_TYPE_SCALAR) {
        return eval_vector_scalar(ev, n, &l, &r, false, out);
    }
    if (lt == PROMQL_TYPE_SCALAR && rt == PROMQL_TYPE_VECTOR) {
        return eval_vector_scalar(ev, n, &r, &l, true, out);
    }
    return eval_vector_vector(ev, n, &l, &r, out);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * promqltest_cmp: compares an evaluator result with a test script's
 * expectation the way upstream's promqltest compareResult does, and
 * formats both compactly for the report.
 *
 * Core idea: series are matched by their canonical label bytes
 * (labels_encode), so label order and representation cannot cause false
 * mismatches. Where upstream stops at the first difference, this collects
 * up to MAX_ISSUES of them (the first one names the kind), which makes a
 * failure report show e.g. every wrong value of a small vector at once.
 *
 * Invariants: when an expected label set occurs twice, the later line wins
 * (upstream keeps expectations in a map keyed by label hash); the kind of
 * a diff is the kind of its first issue; nothing here allocates from the
 * caller's arena except the range-mode vector.
 */
#include "promqltest_int.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/labels.h"
#include "common/mem.h"
#include "tsdb/tsdb.h"

#define MAX_ISSUES 4
#define MAX_POINTS_SHOWN 8

static bool is_stale(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof(b));
    return b == TSDB_STALE_NAN_BITS;
}

bool promqltest_cmp_almost_equal(double a, double b)
{
    if (is_stale(a) || is_stale(b)) {
        return is_stale(a) && is_stale(b);
    }
    if (isnan(a) && isnan(b)) {
        return true;
    }
    if (a == b) {
        return true;
    }
    double abs_sum = fabs(a) + fabs(b);
    double diff = fabs(a - b);
    if (a == 0 || b == 0 || abs_sum < DBL_MIN) {
        return diff < PROMQLTEST_EPSILON * DBL_MIN;
    }
    return diff / fmin(abs_sum, DBL_MAX) < PROMQLTEST_EPSILON;
}

void promqltest_cmp_format_value(double v, buf_t *out)
{
    if (is_stale(v)) {
        buf_puts(out, "stale");
    } else if (isnan(v)) {
        buf_puts(out, "NaN");
    } else if (isinf(v)) {
        buf_puts(out, v > 0 ? "+Inf" : "-Inf");
    } else {
        char s[40];
        for (int prec = 6; prec <= 17; prec++) {
            snprintf(s, sizeof(s), "%.*g", prec, v);
            if (strtod(s, NULL) == v) {
                break;
            }
        }
        buf_puts(out, s);
    }
}

void promqltest_cmp_format_labels(const label_t *ls, size_t n, buf_t *out)
{
    str_t name = labels_get(ls, n, "__name__");
    if (name.len > 0 && labels_valid_metric_name(name)) {
        buf_append(out, name.p, name.len);
    } else {
        name.len = 0;
    }
    bool first = true;
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (name.len > 0 && str_eq_cstr(ls[i].name, "__name__")) {
            continue;
        }
        buf_puts(out, first ? "{" : ", ");
        first = false;
        any = true;
        if (labels_valid_label_name(ls[i].name)) {
            buf_append(out, ls[i].name.p, ls[i].name.len);
        } else {
            labels_quote(ls[i].name, out);
        }
        buf_putc(out, '=');
        labels_quote(ls[i].value, out);
    }
    if (any) {
        buf_putc(out, '}');
    } else if (name.len == 0) {
        buf_puts(out, "{}");
    }
}

/* The issue's kind becomes the diff's kind when it is the first. Returns
 * the buffer to describe it in, or NULL when enough issues are listed. */
static buf_t *issue(promqltest_diff_t *d, const char *kind)
{
    if (d->kind == NULL) {
        d->kind = kind;
    }
    d->nissues++;
    if (d->nissues > MAX_ISSUES) {
        if (d->nissues == MAX_ISSUES + 1) {
            buf_puts(&d->why, "    ...\n");
        }
        return NULL;
    }
    buf_puts(&d->why, "    ");
    return &d->why;
}

static void issue_end(buf_t *b)
{
    buf_putc(b, '\n');
}

/* ---- label keys ---- */

typedef struct keys {
    buf_t b;
    size_t *off; /* n+1 offsets into b */
    size_t n;
} keys_t;

static void keys_init(keys_t *k, size_t n)
{
    buf_init(&k->b);
    k->off = mem_calloc(n + 1, sizeof(*k->off));
    k->n = 0;
}

static void keys_add(keys_t *k, const label_t *ls, size_t n)
{
    labels_encode(ls, n, &k->b);
    k->off[++k->n] = k->b.len;
}

static void keys_fini(keys_t *k)
{
    buf_fini(&k->b);
    mem_free(k->off);
}

static bool keys_eq(const keys_t *a, size_t i, const keys_t *b, size_t j)
{
    size_t la = a->off[i + 1] - a->off[i], lb = b->off[j + 1] - b->off[j];
    return la == lb && (la == 0 || memcmp(a->b.data + a->off[i], b->b.data + b->off[j], la) == 0);
}

/* Index of the last expected series with key res[j], or -1. */
static long find_expected(const keys_t *exp, const keys_t *res, size_t j)
{
    for (size_t i = exp->n; i > 0; i--) {
        if (keys_eq(exp, i - 1, res, j)) {
            return (long)(i - 1);
        }
    }
    return -1;
}

/* An expected series not shadowed by a later one with the same labels. */
static bool effective(const keys_t *exp, size_t i)
{
    for (size_t j = i + 1; j < exp->n; j++) {
        if (keys_eq(exp, i, exp, j)) {
            return false;
        }
    }
    return true;
}

/* ---- formatting ---- */

static void format_points(const int64_t *ts, const double *vs, size_t n, buf_t *out)
{
    buf_putc(out, '[');
    for (size_t i = 0; i < n && i < MAX_POINTS_SHOWN; i++) {
        if (i > 0) {
            buf_putc(out, ' ');
        }
        promqltest_cmp_format_value(vs[i], out);
        buf_printf(out, "@%" PRId64, ts[i]);
    }
    if (n > MAX_POINTS_SHOWN) {
        buf_printf(out, " ...%zu more", n - MAX_POINTS_SHOWN);
    }
    buf_putc(out, ']');
}

static void format_expected_points(const promqltest_series_t *s, buf_t *out)
{
    for (size_t i = 0; i < s->npts && i < MAX_POINTS_SHOWN; i++) {
        buf_putc(out, ' ');
        if (s->pts[i].omitted) {
            buf_putc(out, '_');
        } else {
            promqltest_cmp_format_value(s->pts[i].v, out);
        }
    }
    if (s->npts > MAX_POINTS_SHOWN) {
        buf_printf(out, " ...%zu more", s->npts - MAX_POINTS_SHOWN);
    }
}

void promqltest_cmp_format_result(const promql_result_t *res, size_t max, buf_t *out)
{
    switch (res->type) {
    case PROMQL_TYPE_SCALAR:
        buf_puts(out, "scalar ");
        promqltest_cmp_format_value(res->scalar, out);
        return;
    case PROMQL_TYPE_STRING:
        buf_puts(out, "string ");
        labels_quote(str_from(res->str ? res->str : "", res->str ? res->str_len : 0), out);
        return;
    case PROMQL_TYPE_VECTOR:
    case PROMQL_TYPE_MATRIX:
        break;
    default:
        buf_printf(out, "result of type %d", (int)res->type);
        return;
    }
    bool vec = res->type == PROMQL_TYPE_VECTOR;
    buf_printf(out, "%s of %zu series", vec ? "vector" : "matrix", res->nseries);
    for (size_t i = 0; i < res->nseries && i < max; i++) {
        const promql_series_t *s = &res->series[i];
        buf_puts(out, i == 0 ? ": " : ", ");
        promqltest_cmp_format_labels(s->labels, s->nlabels, out);
        buf_putc(out, ' ');
        if (vec && s->n == 1) {
            promqltest_cmp_format_value(s->vs[0], out);
        } else {
            format_points(s->ts, s->vs, s->n, out);
        }
    }
    if (res->nseries > max) {
        buf_puts(out, ", ...");
    }
}

void promqltest_cmp_format_expected(const promqltest_eval_t *ev, size_t max, buf_t *out)
{
    if (ev->fail) {
        buf_puts(out, "an error");
        return;
    }
    if (ev->expect_scalar) {
        buf_puts(out, "scalar ");
        promqltest_cmp_format_value(ev->scalar, out);
        return;
    }
    if (ev->has_string) {
        buf_puts(out, "string ");
        labels_quote(str_from(ev->string, ev->string_len), out);
        return;
    }
    buf_printf(out, "%zu series", ev->nseries);
    for (size_t i = 0; i < ev->nseries && i < max; i++) {
        buf_puts(out, i == 0 ? ": " : ", ");
        promqltest_cmp_format_labels(ev->series[i].labels, ev->series[i].nlabels, out);
        format_expected_points(&ev->series[i], out);
    }
    if (ev->nseries > max) {
        buf_puts(out, ", ...");
    }
}

/* ---- comparisons ---- */

static void build_expected_keys(const promqltest_eval_t *ev, keys_t *k)
{
    keys_init(k, ev->nseries);
    for (size_t i = 0; i < ev->nseries; i++) {
        keys_add(k, ev->series[i].labels, ev->series[i].nlabels);
    }
}

static void build_result_keys(const promql_result_t *res, keys_t *k)
{
    keys_init(k, res->nseries);
    for (size_t i = 0; i < res->nseries; i++) {
        keys_add(k, res->series[i].labels, res->series[i].nlabels);
    }
}

static void missing(const promqltest_eval_t *ev, const keys_t *ek, const bool *seen, promqltest_diff_t *d)
{
    for (size_t i = 0; i < ev->nseries; i++) {
        if (seen[i] || !effective(ek, i)) {
            continue;
        }
        buf_t *b = issue(d, "missing series");
        if (b) {
            buf_puts(b, "missing ");
            promqltest_cmp_format_labels(ev->series[i].labels, ev->series[i].nlabels, b);
            buf_puts(b, ", want");
            format_expected_points(&ev->series[i], b);
            issue_end(b);
        }
    }
}

static void extra(const promql_series_t *s, bool vec, promqltest_diff_t *d)
{
    buf_t *b = issue(d, "extra series");
    if (b) {
        buf_puts(b, "unexpected ");
        promqltest_cmp_format_labels(s->labels, s->nlabels, b);
        buf_putc(b, ' ');
        if (vec && s->n == 1) {
            promqltest_cmp_format_value(s->vs[0], b);
        } else {
            format_points(s->ts, s->vs, s->n, b);
        }
        issue_end(b);
    }
}

static void wrong_type(const promqltest_eval_t *ev, const promql_result_t *res, promqltest_diff_t *d)
{
    buf_t *b = issue(d, "wrong result type");
    if (b) {
        buf_puts(b, "want ");
        promqltest_cmp_format_expected(ev, 2, b);
        buf_puts(b, ", got ");
        promqltest_cmp_format_result(res, 2, b);
        issue_end(b);
    }
}

static void cmp_vector(const promqltest_eval_t *ev, const promql_result_t *res, promqltest_diff_t *d)
{
    keys_t ek, rk;
    build_expected_keys(ev, &ek);
    build_result_keys(res, &rk);
    bool *seen = mem_calloc(ev->nseries + 1, sizeof(*seen));
    for (size_t j = 0; j < res->nseries; j++) {
        const promql_series_t *s = &res->series[j];
        long e = find_expected(&ek, &rk, j);
        if (e < 0) {
            extra(s, true, d);
            continue;
        }
        seen[e] = true;
        const promqltest_series_t *x = &ev->series[e];
        buf_t *b;
        if (ev->ordered && (size_t)e != j && (b = issue(d, "wrong order"))) {
            promqltest_cmp_format_labels(s->labels, s->nlabels, b);
            buf_printf(b, " at position %zu, want %ld", j + 1, e + 1);
            issue_end(b);
        }
        double want = x->npts > 0 ? x->pts[0].v : 0;
        if (s->n != 1) {
            if ((b = issue(d, "wrong points"))) {
                promqltest_cmp_format_labels(s->labels, s->nlabels, b);
                buf_printf(b, ": a vector sample with %zu points", s->n);
                issue_end(b);
            }
        } else if (!promqltest_cmp_almost_equal(want, s->vs[0]) && (b = issue(d, "wrong value"))) {
            promqltest_cmp_format_labels(s->labels, s->nlabels, b);
            buf_puts(b, ": want ");
            promqltest_cmp_format_value(want, b);
            buf_puts(b, ", got ");
            promqltest_cmp_format_value(s->vs[0], b);
            issue_end(b);
        }
    }
    missing(ev, &ek, seen, d);
    mem_free(seen);
    keys_fini(&ek);
    keys_fini(&rk);
}

static void cmp_matrix_series(const promqltest_series_t *x, const promql_series_t *s, int64_t start, int64_t end,
                              int64_t step, promqltest_diff_t *d)
{
    size_t nexp = 0;
    bool too_many = false;
    for (size_t i = 0; i < x->npts; i++) {
        int64_t t = start + (int64_t)i * step;
        too_many |= t > end;
        nexp += !x->pts[i].omitted;
    }
    buf_t *b;
    if (too_many) {
        if ((b = issue(d, "bad test: points past the end"))) {
            promqltest_cmp_format_labels(x->labels, x->nlabels, b);
            buf_printf(b, ": %zu expected points, but the query range cannot return this many", x->npts);
            issue_end(b);
        }
        return;
    }
    bool ok = nexp == s->n;
    size_t k = 0;
    for (size_t i = 0; ok && i < x->npts; i++) {
        if (x->pts[i].omitted) {
            continue;
        }
        ok = s->ts[k] == start + (int64_t)i * step;
        k++;
    }
    if (!ok) {
        if ((b = issue(d, "wrong points"))) {
            promqltest_cmp_format_labels(x->labels, x->nlabels, b);
            buf_printf(b, ": want %zu points", nexp);
            format_expected_points(x, b);
            buf_printf(b, ", got %zu ", s->n);
            format_points(s->ts, s->vs, s->n, b);
            issue_end(b);
        }
        return;
    }
    k = 0;
    for (size_t i = 0; i < x->npts; i++) {
        if (x->pts[i].omitted) {
            continue;
        }
        if (!promqltest_cmp_almost_equal(x->pts[i].v, s->vs[k])) {
            if ((b = issue(d, "wrong value"))) {
                promqltest_cmp_format_labels(x->labels, x->nlabels, b);
                buf_printf(b, " at t=%" PRId64 ": want ", s->ts[k]);
                promqltest_cmp_format_value(x->pts[i].v, b);
                buf_puts(b, ", got ");
                promqltest_cmp_format_value(s->vs[k], b);
                issue_end(b);
            }
            return;
        }
        k++;
    }
}

static void cmp_matrix(const promqltest_eval_t *ev, const promql_result_t *res, int64_t start, int64_t end,
                       int64_t step, promqltest_diff_t *d)
{
    buf_t *b;
    if (ev->ordered) {
        if ((b = issue(d, "wrong result type"))) {
            buf_puts(b, "expected ordered result, but query returned a matrix");
            issue_end(b);
        }
        return;
    }
    if (ev->expect_scalar) {
        wrong_type(ev, res, d);
        return;
    }
    for (size_t i = 0; i + 1 < res->nseries; i++) {
        const promql_series_t *x = &res->series[i], *y = &res->series[i + 1];
        if (labels_compare(x->labels, x->nlabels, y->labels, y->nlabels) > 0) {
            if ((b = issue(d, "matrix not sorted by labels"))) {
                promqltest_cmp_format_labels(y->labels, y->nlabels, b);
                buf_printf(b, " at index %zu sorts before ", i + 1);
                promqltest_cmp_format_labels(x->labels, x->nlabels, b);
                issue_end(b);
            }
            break;
        }
    }
    keys_t ek, rk;
    build_expected_keys(ev, &ek);
    build_result_keys(res, &rk);
    bool *seen = mem_calloc(ev->nseries + 1, sizeof(*seen));
    for (size_t j = 0; j < res->nseries; j++) {
        long e = find_expected(&ek, &rk, j);
        if (e < 0) {
            extra(&res->series[j], false, d);
            continue;
        }
        seen[e] = true;
        cmp_matrix_series(&ev->series[e], &res->series[j], start, end, step, d);
    }
    missing(ev, &ek, seen, d);
    mem_free(seen);
    keys_fini(&ek);
    keys_fini(&rk);
}

bool promqltest_cmp_result(const promqltest_eval_t *ev, const promql_result_t *res, int64_t start, int64_t end,
                           int64_t step, promqltest_diff_t *d)
{
    size_t before = d->nissues;
    buf_t *b;
    switch (res->type) {
    case PROMQL_TYPE_MATRIX:
        cmp_matrix(ev, res, start, end, step, d);
        break;
    case PROMQL_TYPE_VECTOR:
        if (ev->expect_scalar) {
            wrong_type(ev, res, d);
        } else {
            cmp_vector(ev, res, d);
        }
        break;
    case PROMQL_TYPE_SCALAR:
        if (!ev->expect_scalar) {
            wrong_type(ev, res, d);
        } else if (!promqltest_cmp_almost_equal(ev->scalar, res->scalar) && (b = issue(d, "wrong value"))) {
            buf_puts(b, "scalar: want ");
            promqltest_cmp_format_value(ev->scalar, b);
            buf_puts(b, ", got ");
            promqltest_cmp_format_value(res->scalar, b);
            issue_end(b);
        }
        break;
    case PROMQL_TYPE_STRING: {
        str_t want = ev->has_string ? str_from(ev->string, ev->string_len) : STR_LIT("");
        str_t got = res->str ? str_from(res->str, res->str_len) : STR_LIT("");
        if (!str_eq(want, got) && (b = issue(d, "wrong string"))) {
            buf_puts(b, "want ");
            labels_quote(want, b);
            buf_puts(b, ", got ");
            labels_quote(got, b);
            issue_end(b);
        }
        break;
    }
    default:
        wrong_type(ev, res, d);
        break;
    }
    return d->nissues == before;
}

bool promqltest_cmp_range_mode(const promqltest_eval_t *ev, const promql_result_t *inst, const promql_result_t *rng,
                               int64_t t, arena_t *a, promqltest_diff_t *d)
{
    size_t before = d->nissues;
    d->range_mode = true;
    buf_t *b;
    if (rng->type != PROMQL_TYPE_MATRIX) {
        if ((b = issue(d, "wrong result type"))) {
            buf_puts(b, "the range query returned ");
            promqltest_cmp_format_result(rng, 2, b);
            issue_end(b);
        }
        return false;
    }
    for (size_t i = 0; i + 1 < rng->nseries; i++) {
        const promql_series_t *x = &rng->series[i], *y = &rng->series[i + 1];
        if (labels_compare(x->labels, x->nlabels, y->labels, y->nlabels) > 0) {
            if ((b = issue(d, "matrix not sorted by labels"))) {
                promqltest_cmp_format_labels(y->labels, y->nlabels, b);
                buf_puts(b, " sorts before ");
                promqltest_cmp_format_labels(x->labels, x->nlabels, b);
                issue_end(b);
            }
            return false;
        }
    }
    promql_result_t v = { .type = PROMQL_TYPE_VECTOR, .t = t };
    v.series = arena_calloc(a, rng->nseries + 1, sizeof(*v.series));
    for (size_t i = 0; i < rng->nseries; i++) {
        const promql_series_t *s = &rng->series[i];
        for (size_t k = 0; k < s->n; k++) {
            if (s->ts[k] == t) {
                v.series[v.nseries++] = (promql_series_t){
                    .labels = s->labels, .nlabels = s->nlabels, .ts = &s->ts[k], .vs = &s->vs[k], .n = 1
                };
                break;
            }
        }
    }
    if (inst->type == PROMQL_TYPE_SCALAR) {
        if (v.nseries == 0) {
            if ((b = issue(d, "missing series"))) {
                buf_printf(b, "the range query has no point at t=%" PRId64 " for the scalar", t);
                issue_end(b);
            }
            return false;
        }
        v.type = PROMQL_TYPE_SCALAR;
        v.scalar = v.series[0].vs[0];
    }
    promqltest_cmp_result(ev, &v, t, t, 0, d);
    return d->nissues == before;
}

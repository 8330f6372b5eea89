/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for query/promql_eval*.c beyond what Prometheus' own scripts
 * (tests/promqltest) cover: the engine's limits and error kinds (max
 * samples as Prometheus counts them, the raw-sample bound, the timeout),
 * the result shapes of instant and range queries, range-query type
 * errors, eager versus delayed __name__ removal, annotation positions,
 * and that a failing source is reported, not crashed on. The store here
 * is an in-memory promql_source_t over a fixed table of series, so each
 * case knows exactly what the engine reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "common/arena.h"
#include "query/promql.h"

/* ---- an in-memory source: series "name{k=v}" with points at 0, 15s, ... ---- */

typedef struct mem_series {
    const char *name;
    const char *k, *v;
    size_t n;
    double start; /* value at t=0, then +step per point */
    double step;
} mem_series_t;

typedef struct mem_src {
    const mem_series_t *s;
    size_t n;
    int64_t interval;
    int fail;     /* nonzero: select answers this error */
    size_t reads; /* select calls */
} mem_src_t;

static int mem_select(void *ctx, matcher_t *ms, size_t nms, int64_t mint, int64_t maxt, tsdb_select_fn fn, void *fctx)
{
    mem_src_t *src = ctx;
    src->reads++;
    if (src->fail) {
        return src->fail;
    }
    for (size_t i = 0; i < src->n; i++) {
        const mem_series_t *s = &src->s[i];
        label_t ls[2] = { { STR_LIT("__name__"), str_cstr(s->name) }, { str_cstr(s->k), str_cstr(s->v) } };
        if (strcmp(s->k, "__name__") < 0) {
            label_t t = ls[0];
            ls[0] = ls[1];
            ls[1] = t;
        }
        bool ok = true;
        for (size_t m = 0; m < nms && ok; m++) {
            str_t v = labels_get(ls, 2, ms[m].name);
            ok = matcher_matches(&ms[m], v);
        }
        if (!ok) {
            continue;
        }
        int64_t ts[512];
        double vs[512];
        size_t k = 0;
        for (size_t j = 0; j < s->n && k < 512; j++) {
            int64_t t = (int64_t)j * src->interval;
            if (t >= mint && t <= maxt) {
                ts[k] = t;
                vs[k++] = s->start + s->step * (double)j;
            }
        }
        if (k > 0 && fn(fctx, ls, 2, ts, vs, k) != 0) {
            return 1;
        }
    }
    return 0;
}

static const mem_series_t table[] = {
    { "req_total", "job", "a", 100, 0, 10 }, { "req_total", "job", "b", 100, 0, 20 },
    { "temp", "room", "x", 100, 20, 0 },     { "temp", "room", "y", 100, 25, 0 },
    { "err_total", "job", "a", 100, 0, 1 },
};

typedef struct fx {
    arena_t *a;
    mem_src_t mem;
    promql_source_t src;
    promql_engine_opts_t opts;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    f->a = arena_create(1 << 16);
    f->mem = (mem_src_t){ table, sizeof(table) / sizeof(table[0]), 15000, 0, 0 };
    f->src = (promql_source_t){ mem_select, &f->mem };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    arena_destroy(f->a);
    free(f);
    return 0;
}

/* Parse and evaluate q; returns promql_eval's status. */
static int run(fx_t *f, const char *q, int64_t start, int64_t end, int64_t step, promql_result_t *res,
               promql_eval_error_t *err)
{
    promql_node_t *root;
    promql_error_t perr;
    if (promql_parse(q, strlen(q), f->a, &root, &perr) != 0) {
        fail_msg("parse %s: %s", q, perr.msg);
    }
    f->opts.query = q;
    f->opts.query_len = strlen(q);
    int rc = promql_eval(&f->src, &f->opts, root, start, end, step, f->a, res, err);
    promql_release(root);
    return rc;
}

static void test_instant_vector(void **state)
{
    fx_t *f = *state;
    promql_result_t r;
    promql_eval_error_t e;
    assert_int_equal(run(f, "req_total", 60000, 60000, 0, &r, &e), 0);
    assert_int_equal(r.type, PROMQL_TYPE_VECTOR);
    assert_int_equal(r.nseries, 2);
    assert_int_equal(r.series[0].n, 1);
    assert_int_equal(r.series[0].ts[0], 60000);
    assert_true(r.series[0].vs[0] == 40.0); /* 4th point of job a */
    assert_true(r.series[1].vs[0] == 80.0);
    /* Sorted by labels: job="a" first. */
    assert_true(str_eq_cstr(labels_get(r.series[0].labels, r.series[0].nlabels, "job"), "a"));
}

static void test_scalar_and_string(void **state)
{
    fx_t *f = *state;
    promql_result_t r;
    promql_eval_error_t e;
    assert_int_equal(run(f, "1 + 2 * 3", 1000, 1000, 0, &r, &e), 0);
    assert_int_equal(r.type, PROMQL_TYPE_SCALAR);
    assert_true(r.scalar == 7.0);
    assert_int_equal(run(f, "\"hi\"", 1000, 1000, 0, &r, &e), 0);
    assert_int_equal(r.type, PROMQL_TYPE_STRING);
    assert_int_equal(r.str_len, 2);
    assert_memory_equal(r.str, "hi", 2);
}

static void test_range_query(void **state)
{
    fx_t *f = *state;
    promql_result_t r;
    promql_eval_error_t e;
    assert_int_equal(run(f, "sum(rate(req_total[1m]))", 60000, 120000, 30000, &r, &e), 0);
    assert_int_equal(r.type, PROMQL_TYPE_MATRIX);
    assert_int_equal(r.nseries, 1);
    assert_int_equal(r.series[0].n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(r.series[0].ts[i], 60000 + (int64_t)i * 30000);
        assert_true(fabs(r.series[0].vs[i] - 2.0) < 1e-12); /* (10 + 20) / 15 s */
    }
    /* A range selector cannot be a range query's result. */
    assert_int_equal(run(f, "req_total[1m]", 60000, 120000, 30000, &r, &e), -1);
    assert_int_equal(e.type, PROMQL_ERR_BAD_DATA);
    assert_string_equal(e.msg,
                        "invalid expression type \"range vector\" for range query, must be Scalar or instant Vector");
}

static void test_max_samples(void **state)
{
    fx_t *f = *state;
    promql_result_t r;
    promql_eval_error_t e;
    /* An instant selector holds one point per series: 2 fits in 2 even
     * though each series has several raw samples in the lookback. */
    f->opts.max_samples = 2;
    assert_int_equal(run(f, "req_total", 15000, 15000, 0, &r, &e), 0);
    f->opts.max_samples = 1;
    assert_int_equal(run(f, "req_total", 15000, 15000, 0, &r, &e), -1);
    assert_int_equal(e.type, PROMQL_ERR_EXECUTION);
    assert_string_equal(e.msg, "query processing would load too many samples into memory in query execution");
    /* Raw samples read are bounded by 4 x max_samples: 2 series x 21 raw
     * samples over 5m exceed 4 x 9, although the result holds 2. */
    f->opts.max_samples = 9;
    assert_int_equal(run(f, "count_over_time(req_total[5m])", 300000, 300000, 0, &r, &e), -1);
    assert_int_equal(e.type, PROMQL_ERR_EXECUTION);
    f->opts.max_samples = 0;
    assert_int_equal(run(f, "count_over_time(req_total[5m])", 300000, 300000, 0, &r, &e), 0);
    assert_true(r.series[0].vs[0] == 20.0); /* (0, 5m]: 20 points */
}

static void test_timeout(void **state)
{
    fx_t *f = *state;
    promql_result_t r;
    promql_eval_error_t e;
    f->opts.timeout_s = 1e-9;
    int rc = run(f, "sum_over_time(sum_over_time(sum(req_total)[30m:1s])[30m:10s])", 1800000, 1800000, 0, &r, &e);
    assert_int_equal(rc, -1);
    assert_int_equal(e.type, PROMQL_ERR_TIMEOUT);
    assert_string_equal(e.msg, "query timed out in expression evaluation");
}

static void test_source_error(void **state)
{
    fx_t *f = *state;
    promql_result_t r;
    promql_eval_error_t e;
    f->mem.fail = TSDB_ERR_IO;
    assert_int_equal(run(f, "temp", 1000, 1000, 0, &r, &e), -1);
    assert_int_equal(e.type, PROMQL_ERR_INTERNAL);
    assert_non_null(strstr(e.msg, "expanding series"));
    f->mem.fail = 0;
}

static void test_name_removal(void **state)
{
    fx_t *f = *state;
    promql_result_t r;
    promql_eval_error_t e;
    /* Eager: rate over two names with equal other labels collides. */
    assert_int_equal(run(f, "rate({__name__=~\".+_total\", job=\"a\"}[1m])", 60000, 60000, 0, &r, &e), -1);
    assert_int_equal(e.type, PROMQL_ERR_EXECUTION);
    assert_string_equal(e.msg, "vector cannot contain metrics with the same labelset");
    assert_int_equal(run(f, "-{__name__=~\"req_total|temp\"}", 60000, 60000, 0, &r, &e), 0);
    assert_int_equal(r.nseries, 4); /* job=a, job=b, room=x, room=y (err_total is not selected) */
    for (size_t i = 0; i < r.nseries; i++) {
        assert_int_equal(labels_get(r.series[i].labels, r.series[i].nlabels, "__name__").len, 0);
    }
    /* Delayed: last_over_time keeps the name; label_replace can set it. */
    f->opts.delayed_name_removal = true;
    assert_int_equal(run(f, "label_replace(rate(req_total[1m]), \"__name__\", \"r_$1\", \"job\", \"(.*)\")", 60000,
                         60000, 0, &r, &e),
                     0);
    assert_int_equal(r.nseries, 2);
    assert_true(str_eq_cstr(labels_get(r.series[0].labels, r.series[0].nlabels, "__name__"), "r_a"));
    /* Delayed: the collision is only an error once the names go. */
    assert_int_equal(run(f, "rate({__name__=~\".+_total\", job=\"a\"}[1m])", 60000, 60000, 0, &r, &e), -1);
    assert_string_equal(e.msg, "vector cannot contain metrics with the same labelset");
    assert_int_equal(run(f, "last_over_time({__name__=~\".+_total\", job=\"a\"}[1m])", 60000, 60000, 0, &r, &e), 0);
    assert_int_equal(r.nseries, 2);
    f->opts.delayed_name_removal = false;
}

static void test_annotation_position(void **state)
{
    fx_t *f = *state;
    promql_result_t r;
    promql_eval_error_t e;
    assert_int_equal(run(f, "sum(\n  rate(temp[1m]))", 60000, 60000, 0, &r, &e), 0);
    assert_int_equal(r.ninfos, 1);
    assert_string_equal(r.infos[0], "PromQL info: metric might not be a counter, name does not end in "
                                    "_total/_sum/_count/_bucket: \"temp\" (2:8)");
    assert_int_equal(run(f, "sort(temp)", 0, 60000, 30000, &r, &e), 0);
    assert_int_equal(r.nwarnings, 1);
    assert_string_equal(r.warnings[0], "PromQL warning: sort is ineffective for range queries since results are "
                                       "always ordered by labels (1:1)");
}

/* limit_ratio samples by a hash of each series' labels: r and r - 1
 * (here 0.5 and -0.5) split the series into two disjoint sets that
 * together are all of them; 1 keeps all, 0 none. */
static void test_limit_ratio(void **state)
{
    fx_t *f = *state;
    promql_result_t r;
    promql_eval_error_t e;
    assert_int_equal(run(f, "limit_ratio(0.5, {__name__=~\".+\"})", 60000, 60000, 0, &r, &e), 0);
    size_t a = r.nseries;
    assert_int_equal(run(f, "limit_ratio(-0.5, {__name__=~\".+\"})", 60000, 60000, 0, &r, &e), 0);
    size_t b = r.nseries;
    assert_int_equal(a + b, 5);
    assert_int_equal(run(f, "limit_ratio(0.5, {__name__=~\".+\"}) and limit_ratio(-0.5, {__name__=~\".+\"})", 60000,
                         60000, 0, &r, &e),
                     0);
    assert_int_equal(r.nseries, 0);
    assert_int_equal(run(f, "limit_ratio(1, {__name__=~\".+\"})", 60000, 60000, 0, &r, &e), 0);
    assert_int_equal(r.nseries, 5);
    assert_int_equal(run(f, "limit_ratio(0, {__name__=~\".+\"})", 60000, 60000, 0, &r, &e), 0);
    assert_int_equal(r.nseries, 0);
}

/* histogram_quantiles: one series per quantile, labelled with Go's 'f'
 * formatting plus ".0" for whole numbers, at every step of a range query
 * (the labels are formatted once per step, shared by all groups). */
static void test_histogram_quantiles(void **state)
{
    fx_t *f = *state;
    static const mem_series_t hist[] = {
        { "lat_bucket", "le", "0.5", 10, 10, 0 },
        { "lat_bucket", "le", "1", 10, 20, 0 },
        { "lat_bucket", "le", "+Inf", 10, 40, 0 },
    };
    f->mem = (mem_src_t){ hist, sizeof(hist) / sizeof(hist[0]), 15000, 0, 0 };
    promql_result_t r;
    promql_eval_error_t e;
    assert_int_equal(run(f, "histogram_quantiles(lat_bucket, \"q\", 0.25, 0.5, 1)", 0, 30000, 15000, &r, &e), 0);
    assert_int_equal(r.type, PROMQL_TYPE_MATRIX);
    assert_int_equal(r.nseries, 3);
    static const char *const want_q[] = { "0.25", "0.5", "1.0" };
    static const double want_v[] = { 0.5, 1, 1 };
    for (size_t i = 0; i < 3; i++) {
        const promql_series_t *s = &r.series[i];
        assert_int_equal(s->nlabels, 1);
        assert_true(str_eq_cstr(labels_get(s->labels, s->nlabels, "q"), want_q[i]));
        assert_int_equal(s->n, 3);
        for (size_t j = 0; j < s->n; j++) {
            assert_true(s->vs[j] == want_v[i]);
        }
    }
    /* A quantile that changes from step to step: a series per label value. */
    assert_int_equal(run(f, "histogram_quantiles(lat_bucket, \"q\", time() / 60)", 15000, 30000, 15000, &r, &e), 0);
    assert_int_equal(r.nseries, 2);
    assert_true(str_eq_cstr(labels_get(r.series[0].labels, r.series[0].nlabels, "q"), "0.25"));
    assert_int_equal(r.series[0].n, 1);
    assert_true(r.series[0].vs[0] == 0.5);
    assert_true(str_eq_cstr(labels_get(r.series[1].labels, r.series[1].nlabels, "q"), "0.5"));
    assert_int_equal(r.series[1].n, 1);
    assert_true(r.series[1].vs[0] == 1);
    /* The same quantile twice: two samples with one labelset. */
    assert_int_equal(run(f, "histogram_quantiles(lat_bucket, \"q\", 0.5, 0.5)", 15000, 15000, 0, &r, &e), -1);
    assert_non_null(strstr(e.msg, "same labelset"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_instant_vector, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scalar_and_string, setup, teardown),
        cmocka_unit_test_setup_teardown(test_range_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_samples, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_source_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_name_removal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_annotation_position, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit_ratio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_histogram_quantiles, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

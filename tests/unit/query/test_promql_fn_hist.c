/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for query/promql_fn_hist.c (pq_bucket_quantile): the classic
 * histograms of Prometheus' histograms.test (testhistogram, testhistogram2,
 * testhistogram3, nonmonotonic_bucket, mixed_bucket) at their evaluation
 * times with the expected quantiles (the scripts compare with a tolerance,
 * so where Go's float result differs in the last bits it is spelled out),
 * then BucketQuantile's special cases one by one, and hostile buckets:
 * unsorted, duplicate and NaN bounds, no +Inf bucket, non-monotonic,
 * negative, NaN and infinite counts, relative deltas inside and outside
 * 1e-12, and inputs long enough to take the merge-sort path; then
 * pq_bucket_fraction with histograms.test's histogram_fraction cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "common/mem.h"
#include "query/promql_int.h"

#define MAXB 8
#define N(x) (sizeof(x) / sizeof((x)[0]))

typedef struct hcase {
    const char *name;
    double q;
    pq_bucket_t b[MAXB];
    size_t n;
    double want;
    unsigned want_ann;
} hcase_t;

static bool same(double a, double b)
{
    if (isnan(a) || isnan(b)) {
        return isnan(a) && isnan(b);
    }
    return a == b && signbit(a) == signbit(b);
}

static void run_table(const hcase_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const hcase_t *c = &cases[i];
        pq_bucket_t b[MAXB], tmp[MAXB];
        memcpy(b, c->b, sizeof(b));
        unsigned ann = 0;
        double got = pq_bucket_quantile(c->q, b, c->n, tmp, &ann);
        if (!same(got, c->want)) {
            fail_msg("%s: q=%g got %.17g want %.17g", c->name, c->q, got, c->want);
        }
        if (ann != c->want_ann) {
            fail_msg("%s: q=%g ann %#x want %#x", c->name, c->q, ann, c->want_ann);
        }
    }
}

#define INF INFINITY
/* testhistogram at 50m (0+Nx10 series, sampled at the tenth step). */
#define POS { { 0.1, 50 }, { 0.2, 70 }, { 1, 110 }, { INF, 120 } }, 4
#define NEG { { -0.2, 10 }, { -0.1, 20 }, { 0.3, 20 }, { INF, 30 } }, 4
#define POS3 { { 0, 0 }, { 0.1, 50 }, { 0.2, 70 }, { 1, 110 }, { INF, 110 } }, 5
#define NEG3 { { -0.25, 0 }, { -0.2, 10 }, { -0.1, 20 }, { 0.3, 20 }, { INF, 20 } }, 5
#define H2 { { 0, 0 }, { 2, 1 }, { 4, 2 }, { 6, 3 }, { INF, 3 } }, 5
#define NONMONO { { 0.1, 20 }, { 1, 10 }, { 10, 50 }, { 100, 40 }, { 1000, 90 }, { INF, 80 } }, 6

static void test_prometheus_scripts(void **state)
{
    (void)state;
    const double r = 2.0 / 600; /* rate(mixed_bucket[10m]) per bucket */
    const hcase_t cases[] = {
        { "testhistogram 0", 0, POS, 0, 0 },
        { "testhistogram neg 0", 0, NEG, -0.2, 0 },
        { "testhistogram 1", 1, POS, 1, 0 },
        { "testhistogram neg 1", 1, NEG, 0.3, 0 },
        { "testhistogram 0.2", 0.2, POS, 0.048, 0 },
        { "testhistogram neg 0.2", 0.2, NEG, -0.2, 0 },
        { "testhistogram 0.5", 0.5, POS, 0.1 + (0.2 - 0.1) * (10.0 / 20), 0 }, /* 0.15000000000000002 */
        { "testhistogram neg 0.5", 0.5, NEG, -0.2 + (-0.1 - -0.2) * (5.0 / 10), 0 },
        { "testhistogram 0.8", 0.8, POS, 0.72, 0 },
        { "testhistogram neg 0.8", 0.8, NEG, 0.3, 0 },
        { "testhistogram3 0", 0, POS3, 0, 0 },
        { "testhistogram3 neg 0", 0, NEG3, -0.25, 0 },
        { "testhistogram3 0.25", 0.25, POS3, 0.05500000000000001, 0 }, /* script: 0.055 */
        { "testhistogram3 neg 0.25", 0.25, NEG3, -0.225, 0 },
        { "testhistogram3 0.5", 0.5, POS3, 0.125, 0 },
        { "testhistogram3 neg 0.5", 0.5, NEG3, -0.2, 0 },
        { "testhistogram3 0.75", 0.75, POS3, 0.45, 0 },
        { "testhistogram3 neg 0.75", 0.75, NEG3, -0.15000000000000002, 0 },
        { "testhistogram3 1", 1, POS3, 1, 0 },
        { "testhistogram3 neg 1", 1, NEG3, -0.1, 0 },
        { "testhistogram2 1/6", 1. / 6., H2, 1, 0 },
        { "testhistogram2 1/2", 0.5, H2, 3, 0 },
        { "testhistogram2 5/6", 5. / 6., H2, 5, 0 },
        { "nonmonotonic 0.01", 0.01, NONMONO, 0.0045, PQ_ANN_BUCKET_FIXED },
        { "nonmonotonic 0.5", 0.5, NONMONO, 8.5, PQ_ANN_BUCKET_FIXED },
        { "nonmonotonic 0.99", 0.99, NONMONO, 979.7499999999999, PQ_ANN_BUCKET_FIXED }, /* script: 979.75 */
        /* le="0.2", "2e-1" and "2.0e-1" are one bound: counts are summed. */
        { "mixed 0.5",
          0.5,
          { { 0.1, r }, { 0.2, r }, { 0.2, r }, { 0.2, r }, { INF, 4 * r } },
          5,
          0.1 + (0.2 - 0.1) * ((0.5 * (4 * r) - r) / (((r + r) + r) - r)),
          0 },
        { "mixed 1", 1, { { 0.1, r }, { 0.2, r }, { 0.2, r }, { 0.2, r }, { INF, 4 * r } }, 5, 0.2, 0 },
        { "mixed +inf twice", 0.5, { { INF, 0 }, { INF, 0 } }, 2, NAN, 0 },
        { "const zero rate", 1, { { 0, 0 }, { 1, 0 }, { 2, 0 }, { INF, 0 } }, 4, NAN, 0 },
        { "request_duration 0.3",
          0.3,
          { { 0.1, 1 }, { 0.2, 3 }, { INF, 4 } },
          3,
          0.1 + (0.2 - 0.1) * ((0.3 * 4 - 1) / (3.0 - 1)),
          0 },
    };
    run_table(cases, N(cases));
}

static void test_special_cases(void **state)
{
    (void)state;
    const hcase_t cases[] = {
        { "q NaN", NAN, POS, NAN, 0 },
        { "q < 0", -0.1, POS, -INF, 0 },
        { "q > 1", 1.01, POS, INF, 0 },
        { "q -Inf", -INF, POS, -INF, 0 },
        { "q +Inf", INF, POS, INF, 0 },
        /* Out-of-range q returns before the monotonicity check. */
        { "q > 1 nonmono", 2, NONMONO, INF, 0 },
        { "no +Inf bucket", 0.5, { { 0.1, 5 }, { 1, 10 } }, 2, NAN, 0 },
        { "no +Inf, nonmono: no info", 0.5, { { 0.1, 50 }, { 1, 10 } }, 2, NAN, 0 },
        { "-Inf is not +Inf", 0.5, { { -INF, 5 }, { 1, 10 } }, 2, NAN, 0 },
        { "only +Inf", 0.5, { { INF, 10 } }, 1, NAN, 0 },
        { "zero observations", 0.5, { { 1, 0 }, { INF, 0 } }, 2, NAN, 0 },
        { "empty", 0.5, { { 0 } }, 0, NAN, 0 },
        /* The +Inf bucket answers with the second-highest bound. */
        { "in +Inf bucket", 0.9, { { 1, 5 }, { 2, 6 }, { INF, 10 } }, 3, 2, 0 },
        { "all in +Inf bucket", 0.1, { { 1, 0 }, { INF, 10 } }, 2, 1, 0 },
        /* First bucket: 0 is the lower bound when its bound is positive... */
        { "first bucket positive", 0.25, { { 4, 10 }, { INF, 20 } }, 2, 2, 0 },
        /* ... and its bound is the answer when it is <= 0. */
        { "first bucket zero", 0.25, { { 0, 10 }, { INF, 20 } }, 2, 0, 0 },
        { "first bucket -0", 0.25, { { -0.0, 10 }, { INF, 20 } }, 2, -0.0, 0 },
        { "first bucket negative", 0.25, { { -4, 10 }, { INF, 20 } }, 2, -4, 0 },
        /* rank == count selects that bucket (sort.Search for >=). */
        { "rank on boundary", 0.5, { { 1, 5 }, { 2, 10 }, { INF, 10 } }, 3, 1, 0 },
        { "q 0, empty first bucket: 0/0", 0, { { 1, 0 }, { 2, 0 }, { 3, 5 }, { INF, 5 } }, 4, NAN, 0 },
        { "q 1 in top finite", 1, { { 1, 5 }, { 2, 10 }, { INF, 10 } }, 3, 2, 0 },
    };
    run_table(cases, N(cases));
}

static void test_hostile(void **state)
{
    (void)state;
    const hcase_t cases[] = {
        { "unsorted",
          0.5,
          { { INF, 120 }, { 1, 110 }, { 0.1, 50 }, { 0.2, 70 } },
          4,
          0.1 + (0.2 - 0.1) * (10.0 / 20),
          0 },
        { "reversed", 0.8, { { INF, 120 }, { 1, 110 }, { 0.2, 70 }, { 0.1, 50 } }, 4, 0.72, 0 },
        { "duplicate +Inf summed", 0.5, { { 1, 10 }, { INF, 10 }, { INF, 10 } }, 3, 1, 0 },
        { "duplicates unsorted", 0.5, { { 2, 5 }, { INF, 20 }, { 1, 2 }, { 2, 5 }, { 1, 3 } }, 5, 2, 0 },
        /* Decreases are raised to the last accepted count, not the last seen. */
        { "nonmono dip", 0.5, { { 1, 10 }, { 2, 4 }, { 3, 8 }, { INF, 20 } }, 4, 1, PQ_ANN_BUCKET_FIXED },
        { "negative counts", 0.5, { { 1, -5 }, { 2, -10 }, { INF, 10 } }, 3, 2, PQ_ANN_BUCKET_FIXED },
        /* Forced, then NaN for no observations: 3.14 still reports it. */
        { "forced then zero", 0.5, { { 1, 0 }, { INF, -1 } }, 2, NAN, PQ_ANN_BUCKET_FIXED },
        /* A relative delta below 1e-12 is fixed silently, in either direction. */
        { "tiny decrease", 0.5, { { 1, 1e15 }, { 2, 1e15 - 1 }, { INF, 4e15 } }, 3, 2, 0 },
        { "tiny increase", 0.5, { { 1, 1e15 }, { 2, 1e15 + 1 }, { INF, 4e15 } }, 3, 2, 0 },
        { "small but real decrease", 0.5, { { 1, 1000 }, { 2, 999 }, { INF, 4000 } }, 3, 2, PQ_ANN_BUCKET_FIXED },
        { "NaN count in the middle", 0.5, { { 1, 1 }, { 2, NAN }, { INF, 4 } }, 3, 2, 0 },
        { "NaN total", 0.5, { { 1, 1 }, { INF, NAN } }, 2, 1, 0 }, /* rank NaN: search runs off the end */
        { "Inf counts", 0.5, { { 1, INF }, { INF, INF } }, 2, NAN, 0 },
        { "Inf total", 0.5, { { 1, 5 }, { INF, INF } }, 2, 1, 0 },
        { "NaN bound stays put", 0.5, { { NAN, 5 }, { INF, 10 } }, 2, NAN, 0 },
        { "NaN bound last", 0.5, { { 1, 5 }, { NAN, 10 } }, 2, NAN, 0 },
        { "huge bounds", 0.5, { { -1e308, 1 }, { 1e308, 3 }, { INF, 4 } }, 3, INF, 0 }, /* width overflows */
    };
    run_table(cases, N(cases));
}

/* The sort is in place and the result leaves b sorted and merged. */
static void test_sorts_in_place(void **state)
{
    (void)state;
    pq_bucket_t b[] = { { INF, 10 }, { 2, 6 }, { 1, 2 }, { 2, 1 } };
    unsigned ann = 0;
    double got = pq_bucket_quantile(0.5, b, 4, NULL, &ann);
    assert_true(same(got, 1 + (2 - 1) * (3.0 / 5))); /* merged 1:2, 2:7, Inf:10; rank 5 */
    assert_true(same(b[0].upper, 1));
    assert_true(same(b[1].upper, 2));
    assert_true(same(b[1].count, 7));
    assert_true(same(b[2].upper, INF));
    assert_int_equal(ann, 0);
    /* A NULL ann is allowed. */
    pq_bucket_t c[] = { { 1, 20 }, { INF, 10 } };
    assert_true(same(pq_bucket_quantile(0.5, c, 2, NULL, NULL), 0.5));
}

/* More than 12 buckets takes the merge-sort path: shuffled and duplicated
 * bounds still sort and merge; a large input stays fast. */
static void test_many_buckets(void **state)
{
    (void)state;
    enum { NB = 40 };
    pq_bucket_t b[NB + 1], tmp[NB + 1];
    for (size_t i = 0; i < NB; i++) {
        size_t k = (i * 17) % NB; /* a permutation of 0..NB-1 */
        b[i] = (pq_bucket_t){ .upper = (double)(k + 1), .count = (double)(k + 1) * 10 };
    }
    b[NB] = (pq_bucket_t){ .upper = INF, .count = NB * 10 };
    unsigned ann = 0;
    assert_true(same(pq_bucket_quantile(0.5, b, NB + 1, tmp, &ann), 20));
    assert_int_equal(ann, 0);
    for (size_t i = 1; i <= NB; i++) {
        assert_true(b[i - 1].upper < b[i].upper);
    }

    size_t big = 200000;
    pq_bucket_t *h = mem_alloc(big * sizeof(*h));
    pq_bucket_t *htmp = mem_alloc(big * sizeof(*htmp));
    for (size_t i = 0; i < big; i++) {
        size_t k = (i * 7919) % big;
        h[i] = (pq_bucket_t){ .upper = k == big - 1 ? INF : (double)k, .count = (double)(k / 2) };
    }
    ann = 0;
    double got = pq_bucket_quantile(0.25, h, big, htmp, &ann);
    assert_false(isnan(got));
    assert_true(got > 0 && got < (double)big);
    /* Pairs of equal counts are increases of zero, not decreases. */
    assert_int_equal(ann, 0);
    mem_free(htmp);
    mem_free(h);
}

typedef struct fcase {
    const char *name;
    double lower, upper;
    pq_bucket_t b[MAXB];
    size_t n;
    double want;
} fcase_t;

/* pq_bucket_fraction against histograms.test's histogram_fraction on
 * classic buckets (values there are compared with a tolerance). */
static void test_bucket_fraction(void **state)
{
    (void)state;
    const fcase_t cases[] = {
        { "h2 0..4", 0, 4, { { 0, 0 }, { 2, 10 }, { 4, 20 }, { 6, 30 }, { INF, 30 } }, 5, 0.6666666666666666 },
        { "h2 0..6", 0, 6, { { 0, 0 }, { 2, 10 }, { 4, 20 }, { 6, 30 }, { INF, 30 } }, 5, 1 },
        { "h2 0..3.5", 0, 3.5, { { 0, 0 }, { 2, 10 }, { 4, 20 }, { 6, 30 }, { INF, 30 } }, 5, 0.5833333333333334 },
        { "h3 pos", 0, 0.2, POS3, 0.6363636363636364 },
        { "h3 neg", 0, 0.2, NEG3, 0 },
        { "lower in first bucket", 0, 1.5, { { 1, 1 }, { 2, 3 }, { 3, 6 }, { INF, 100 } }, 4, 0.02 },
        { "negative first bucket", -4, -2, { { -3, 10 }, { -2, 12 }, { -1, 15 }, { INF, 100 } }, 4, 0.02 },
        { "lower -Inf", -INF, -1.5, { { -3, 10 }, { -2, 12 }, { -1, 15 }, { INF, 100 } }, 4, 0.135 },
        { "everything", -INF, INF, { { 1, 1 }, { 2, 3 }, { 3, 6 }, { INF, 100 } }, 4, 1 },
        { "unsorted", 0, 1.5, { { INF, 100 }, { 3, 6 }, { 1, 1 }, { 2, 3 } }, 4, 0.02 },
        { "lower >= upper", 2, 1, { { 1, 1 }, { INF, 2 } }, 2, 0 },
        { "NaN lower", NAN, 1, { { 1, 1 }, { INF, 2 } }, 2, NAN },
        { "NaN upper", 0, NAN, { { 1, 1 }, { INF, 2 } }, 2, NAN },
        { "no +Inf", 0, 1, { { 1, 1 }, { 2, 2 } }, 2, NAN },
        { "no observations", 0, 1, { { 1, 0 }, { INF, 0 } }, 2, NAN },
        { "empty", 0, 1, { { 0 } }, 0, NAN },
    };
    for (size_t i = 0; i < N(cases); i++) {
        const fcase_t *c = &cases[i];
        pq_bucket_t b[MAXB], tmp[MAXB];
        memcpy(b, c->b, sizeof(b));
        unsigned ann = 0;
        double got = pq_bucket_fraction(c->lower, c->upper, b, c->n, tmp, &ann);
        bool ok = isnan(c->want) ? isnan(got) : fabs(got - c->want) <= 1e-15;
        if (!ok) {
            fail_msg("%s: got %.17g want %.17g", c->name, got, c->want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prometheus_scripts),
        cmocka_unit_test(test_special_cases),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_sorts_in_place),
        cmocka_unit_test(test_many_buckets),
        cmocka_unit_test(test_bucket_fraction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

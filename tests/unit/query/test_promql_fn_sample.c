/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for query/promql_fn_sample.c: every per-sample function against
 * values from Prometheus' own test scripts (functions.test,
 * trig_functions.test, aggregators.test) or derived by hand from Go's
 * algorithms, compared bit for bit (NaN equals NaN, signed zeros differ).
 * Hostile inputs: NaN, ±Inf, ±0, subnormals, huge trig arguments, clamp
 * bounds that are NaN or crossed, round to 0 / NaN, and date inputs that
 * Go converts to INT64_MIN (NaN, ±Inf, 1e19), plus far-away years. Other
 * library functions serve only as sanity bounds where the exact Go result
 * is not known independently.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "query/promql_int.h"

typedef struct scase {
    const char *fn;
    double v;
    double a0, a1;
    bool ok;
    double want;
} scase_t;

static bool same(double a, double b)
{
    if (isnan(a) || isnan(b)) {
        return isnan(a) && isnan(b);
    }
    return a == b && signbit(a) == signbit(b);
}

static void run_table(const scase_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const scase_t *c = &cases[i];
        pq_sample_fn f = pq_sample_fn_lookup(c->fn);
        if (!f) {
            fail_msg("case %zu: no function %s", i, c->fn);
        }
        double args[2] = { c->a0, c->a1 };
        double out = 12345.0;
        bool ok = f(c->v, args, &out);
        if (ok != c->ok) {
            fail_msg("case %zu: %s(%.17g): ok=%d want %d", i, c->fn, c->v, ok, c->ok);
        }
        if (ok && !same(out, c->want)) {
            fail_msg("case %zu: %s(%.17g, %g, %g) = %.17g, want %.17g", i, c->fn, c->v, c->a0, c->a1, out, c->want);
        }
    }
}

#define N(x) (sizeof(x) / sizeof((x)[0]))
#define OK(fn, v, want)                                                                                                \
    {                                                                                                                  \
        fn, v, 0, 0, true, want                                                                                        \
    }
#define OK1(fn, v, a0, want)                                                                                           \
    {                                                                                                                  \
        fn, v, a0, 0, true, want                                                                                       \
    }
#define OK2(fn, v, a0, a1, want)                                                                                       \
    {                                                                                                                  \
        fn, v, a0, a1, true, want                                                                                      \
    }

static void test_lookup(void **state)
{
    (void)state;
    static const char *const names[] = {
        "abs",         "acos",        "acosh",         "asin",      "asinh", "atan",  "atanh",
        "ceil",        "clamp",       "clamp_max",     "clamp_min", "cos",   "cosh",  "day_of_month",
        "day_of_week", "day_of_year", "days_in_month", "deg",       "exp",   "floor", "hour",
        "ln",          "log10",       "log2",          "minute",    "month", "rad",   "round",
        "sgn",         "sin",         "sinh",          "sqrt",      "tan",   "tanh",  "year"
    };
    for (size_t i = 0; i < N(names); i++) {
        assert_non_null(pq_sample_fn_lookup(names[i]));
    }
    assert_null(pq_sample_fn_lookup(NULL));
    assert_null(pq_sample_fn_lookup(""));
    assert_null(pq_sample_fn_lookup("ABS"));
    assert_null(pq_sample_fn_lookup("abs "));
    assert_null(pq_sample_fn_lookup("rate"));
    assert_null(pq_sample_fn_lookup("pi"));
    assert_null(pq_sample_fn_lookup("timestamp"));
}

/* functions.test "Test for abs, ceil(), floor(), round()" and sgn. */
static void test_simple(void **state)
{
    (void)state;
    const scase_t cases[] = {
        OK("abs", 2.5, 2.5), OK("abs", -2.5, 2.5), OK("abs", -0.0, 0.0), OK("abs", -INFINITY, INFINITY),
        OK("abs", NAN, NAN), OK("ceil", 2.5, 3), OK("ceil", -2.5, -2), OK("ceil", -0.5, -0.0), OK("ceil", -0.0, -0.0),
        OK("ceil", INFINITY, INFINITY), OK("ceil", NAN, NAN), OK("floor", 2.5, 2), OK("floor", -2.5, -3),
        OK("floor", -INFINITY, -INFINITY), OK("floor", 0x1p60 + 0x1p8, 0x1p60 + 0x1p8),
        OK("sqrt", 10, 3.1622776601683795), OK("sqrt", 20, 4.47213595499958), OK("sqrt", -1, NAN),
        OK("sqrt", -0.0, -0.0), OK("sqrt", INFINITY, INFINITY), OK("sgn", -INFINITY, -1), OK("sgn", INFINITY, 1),
        OK("sgn", NAN, NAN), OK("sgn", -50, -1), OK("sgn", 0, 0), OK("sgn", -0.0, -0.0), OK("sgn", 100, 1),
        OK("sgn", 0x1p-1074, 1),
        /* trig_functions.test */
        OK("rad", 10, 0.17453292519943295), OK("rad", 20, 0.3490658503988659), OK("rad", -10, -0.17453292519943295),
        OK("rad", NAN, NAN), OK("deg", 10, 572.9577951308232), OK("deg", 20, 1145.9155902616465),
        OK("deg", -10, -572.9577951308232), OK("deg", INFINITY, INFINITY),
        OK("deg", 1e308, INFINITY), /* v*180 overflows first, as in Go */
    };
    run_table(cases, N(cases));
}

/* functions.test clamp section, plus Go's math.Min/Max special cases. */
static void test_clamp(void **state)
{
    (void)state;
    const scase_t cases[] = {
        OK1("clamp_max", -50, 75, -50),
        OK1("clamp_max", 0, 75, 0),
        OK1("clamp_max", 100, 75, 75),
        OK1("clamp_min", -50, -25, -25),
        OK1("clamp_min", 100, -25, 100),
        OK2("clamp", -50, -25, 75, -25),
        OK2("clamp", 0, -25, 75, 0),
        OK2("clamp", 100, -25, 75, 75),
        OK2("clamp", -50, 0, NAN, NAN),
        OK2("clamp", 100, NAN, 0, NAN),
        OK2("clamp", NAN, 0, 1, NAN),
        OK2("clamp", 3, 2, 2, 2),
        /* Min(NaN, -Inf) is -Inf and Max(+Inf, NaN) is +Inf in Go. */
        OK2("clamp", -INFINITY, 0, NAN, 0),
        OK2("clamp", INFINITY, NAN, 0, NAN), /* Max(NaN, Min(0, +Inf)) */
        OK1("clamp_min", NAN, INFINITY, INFINITY),
        OK1("clamp_max", NAN, -INFINITY, -INFINITY),
        OK1("clamp_max", 5, NAN, NAN),
        OK1("clamp_min", 5, NAN, NAN),
        /* Signed zeros: Max prefers +0, Min prefers -0. */
        OK1("clamp_min", -0.0, 0.0, 0.0),
        OK1("clamp_max", 0.0, -0.0, -0.0),
        OK1("clamp_max", -0.0, 0.0, -0.0),
        OK2("clamp", INFINITY, -INFINITY, INFINITY, INFINITY),
        /* max < min: Prometheus returns an empty vector. */
        { "clamp", 0, 5, -5, false, 0 },
        { "clamp", NAN, 5, -5, false, 0 },
        { "clamp", 1, INFINITY, -INFINITY, false, 0 },
        { "clamp", 1, 0.0, -0.0, true, 0.0 }, /* -0 < 0 is false: not empty */
    };
    run_table(cases, N(cases));
}

/* functions.test and aggregators.test round sections (http_requests at 50m:
 * 100 and 200), in the same float expressions. */
static void test_round(void **state)
{
    (void)state;
    const scase_t cases[] = {
        OK1("round", 2.5, 1, 3), OK1("round", 2, 1, 2), OK1("round", -2.5, 1, -2), OK1("round", -2, 1, -2),
        OK1("round", 0, 1, 0), OK1("round", -0.0, 1, 0), OK1("round", INFINITY, 1, INFINITY),
        OK1("round", -INFINITY, 1, -INFINITY), OK1("round", NAN, 1, NAN), OK1("round", 0.004 * 100, 1, 0),
        OK1("round", 0.004 * 200, 1, 1), OK1("round", -1 * (0.004 * 200), 1, -1), OK1("round", 0.005 * 100, 1, 1),
        OK1("round", -1 * (0.005 * 100), 1, 0), OK1("round", -1 * (1 + 0.005 * 200), 1, -2),
        OK1("round", 0.0005 * 100, 0.1, 0.1), OK1("round", 2.1 + 0.0005 * 100, 0.1, 2.2000000000000002),
        OK1("round", -1 * (5.2 + 0.0005 * 100), 0.1, -5.2000000000000002),
        OK1("round", -1 * (5.2 + 0.0005 * 200), 0.1, -5.2999999999999998), OK1("round", 0.025 * 100, 5, 5),
        OK1("round", 0.045 * 100, 5, 5), OK1("round", 0.045 * 200, 5, 10),
        /* Hostile to_nearest: 1/0 = Inf makes every finite value NaN. */
        OK1("round", 5, 0, NAN), OK1("round", 0, 0, NAN), OK1("round", 5, NAN, NAN),
        OK1("round", 5, INFINITY, NAN),        /* floor(0.5) / 0 */
        OK1("round", 7, -2, 6),                /* floor(7 * -0.5 + 0.5) / -0.5 */
        OK1("round", 1e300, 1e-300, INFINITY), /* inverse overflows: v * Inf */
    };
    run_table(cases, N(cases));
}

/* exp/ln/log2/log10 from functions.test; the amd64 quirks from Go's
 * exp_amd64.s and log_amd64.s are derived by hand from the assembly. */
static void test_exp_log(void **state)
{
    (void)state;
    const scase_t cases[] = {
        OK("exp", 10, 22026.465794806718),
        OK("exp", 20, 485165195.4097903),
        OK("exp", 0, 1),
        OK("exp", -10, 4.5399929762484854e-05),
        OK("exp", 1, 2.718281828459045),
        OK("exp", -INFINITY, 0),
        OK("exp", INFINITY, INFINITY),
        OK("exp", NAN, NAN),
        OK("exp", 710, INFINITY),
        /* amd64 rounds the exponent first: 709.7*log2(e) -> 1024 overflows */
        OK("exp", 709.7, INFINITY),
        /* ... and flushes results below 2^-1022 to zero */
        OK("exp", -709, 0),
        OK("exp", -745, 0),
        OK("exp", -1e308, 0),
        OK("ln", 10, 2.302585092994046),
        OK("ln", 20, 2.995732273553991),
        OK("ln", 1, 0),
        OK("ln", 0, -INFINITY),
        OK("ln", -0.0, -INFINITY),
        OK("ln", -1, NAN),
        OK("ln", -INFINITY, NAN),
        OK("ln", INFINITY, INFINITY),
        OK("ln", NAN, NAN),
        /* log_amd64.s does not renormalise subnormals: 2^-1074 reads as
         * (1 + 2^-52) * 2^-1023. */
        OK("ln", 0x1p-1074, -709.08956571282408),
        OK("log2", 10, 3.3219280948873622),
        OK("log2", 20, 4.3219280948873626),
        OK("log2", 8, 3),
        OK("log2", 0.5, -1),
        OK("log2", 0x1p-1074, -1074), /* exact powers of two are exact */
        OK("log2", 0, -INFINITY),
        OK("log2", -1, NAN),
        OK("log2", INFINITY, INFINITY),
        OK("log2", NAN, NAN),
        OK("log10", 10, 1),
        OK("log10", 20, 1.301029995663981),
        OK("log10", 0, -INFINITY),
        OK("log10", -1, NAN),
        OK("log10", INFINITY, INFINITY),
    };
    run_table(cases, N(cases));
}

/* trig_functions.test (trig 10 and 20; "trig - 10.1" keeps its rounding),
 * hyperbolics derived from the exp values above, and special cases. */
static void test_trig(void **state)
{
    (void)state;
    const double m = 10 - 10.1;
    const scase_t cases[] = {
        OK("sin", 10, -0.5440211108893699),
        OK("sin", 20, 0.9129452507276277),
        OK("sin", -0.0, -0.0),
        OK("sin", INFINITY, NAN),
        OK("sin", NAN, NAN),
        OK("cos", 10, -0.8390715290764524),
        OK("cos", 20, 0.40808206181339196),
        OK("cos", 0, 1),
        OK("cos", -INFINITY, NAN),
        OK("tan", 10, 0.6483608274590867),
        OK("tan", 20, 2.2371609442247427),
        OK("tan", -0.0, -0.0),
        OK("tan", INFINITY, NAN),
        OK("asin", m, -0.10016742116155944),
        OK("asin", 20 - 10.1, NAN),
        OK("asin", -0.0, -0.0),
        OK("asin", 1, 1.5707963267948966),
        OK("asin", NAN, NAN),
        OK("acos", m, 1.670963747956456),
        OK("acos", 20 - 10.1, NAN),
        OK("acos", 1, 0),
        OK("atan", 10, 1.4711276743037345),
        OK("atan", 20, 1.5208379310729538),
        OK("atan", INFINITY, 1.5707963267948966),
        OK("atan", -INFINITY, -1.5707963267948966),
        OK("atan", -0.0, -0.0),
        /* (Exp(10) - Exp(-10)) / 2 and (Exp(10) + Exp(-10)) / 2. */
        OK("sinh", 10, 11013.232874703393),
        OK("sinh", 20, 2.4258259770489514e+08),
        OK("sinh", -INFINITY, -INFINITY),
        OK("sinh", -0.0, -0.0),
        OK("sinh", 800, INFINITY),
        OK("cosh", 10, 11013.232920103324),
        OK("cosh", 20, 2.4258259770489514e+08),
        OK("cosh", -INFINITY, INFINITY),
        OK("cosh", NAN, NAN),
        OK("tanh", 10, 0.9999999958776927),
        OK("tanh", 20, 1),
        OK("tanh", -INFINITY, -1),
        OK("tanh", -0.0, -0.0),
        OK("tanh", NAN, NAN),
        OK("asinh", 10, 2.99822295029797),
        OK("asinh", 20, 3.6895038689889055),
        OK("asinh", -INFINITY, -INFINITY),
        OK("asinh", -0.0, -0.0),
        OK("acosh", 10, 2.993222846126381),
        OK("acosh", 20, 3.6882538673612966),
        OK("acosh", 1, 0),
        OK("acosh", 0.5, NAN),
        OK("acosh", INFINITY, INFINITY),
        OK("atanh", m, -0.10033534773107522),
        OK("atanh", 20 - 10.1, NAN),
        OK("atanh", 1, INFINITY),
        OK("atanh", -1, -INFINITY),
        OK("atanh", -0.0, -0.0),
        OK("atanh", NAN, NAN),
    };
    run_table(cases, N(cases));
}

/* Past 2^29 Go reduces by Payne-Hanek; the result stays within an ulp or
 * two of the true value even at the top of the range. */
static void test_trig_huge(void **state)
{
    (void)state;
    const double xs[] = { 0x1p29, 1e9, 1e15, 1e22, 0x1p1023, 1.7976931348623157e308, -1e22 };
    const char *const fns[] = { "sin", "cos" };
    for (size_t f = 0; f < N(fns); f++) {
        pq_sample_fn fn = pq_sample_fn_lookup(fns[f]);
        for (size_t i = 0; i < N(xs); i++) {
            double out = 0;
            assert_true(fn(xs[i], NULL, &out));
            double ref = f == 0 ? sin(xs[i]) : cos(xs[i]);
            if (!(fabs(out - ref) <= 4e-16)) {
                fail_msg("%s(%.17g) = %.17g, reference %.17g", fns[f], xs[i], out, ref);
            }
        }
    }
    double out = 0;
    assert_true(pq_sample_fn_lookup("sin")(1e22, NULL, &out));
    assert_true(fabs(out - -0.8522008497671888) < 2e-16);
}

typedef struct dcase {
    double v;
    double year, month, mday, yday, wday, hour, minute, dim;
} dcase_t;

/* functions.test's dates, checked against a proleptic Gregorian calendar;
 * NaN, ±Inf and out-of-range values are Go's int64 conversion on amd64
 * (INT64_MIN), i.e. 2^63 s after 1970: 292277026596-12-04 15:30:08. */
static void test_dates(void **state)
{
    (void)state;
    const dcase_t cases[] = {
        { 1136239445, 2006, 1, 2, 2, 1, 22, 4, 31 },
        { 1230767999, 2008, 12, 31, 366, 3, 23, 59, 31 },
        { 1230768000, 2009, 1, 1, 1, 4, 0, 0, 31 },
        { 1456790399, 2016, 2, 29, 60, 1, 23, 59, 29 },
        { 1456790400, 2016, 3, 1, 61, 2, 0, 0, 31 },
        { 1483191420, 2016, 12, 31, 366, 6, 13, 37, 31 },
        { 1672493820, 2022, 12, 31, 365, 6, 13, 37, 31 },
        { 1454284800, 2016, 2, 1, 32, 1, 0, 0, 29 },
        { 1485907200, 2017, 2, 1, 32, 3, 0, 0, 28 },
        { 0, 1970, 1, 1, 1, 4, 0, 0, 31 },
        { 0.999, 1970, 1, 1, 1, 4, 0, 0, 31 },
        { -0.999, 1970, 1, 1, 1, 4, 0, 0, 31 }, /* truncation toward zero */
        { -1, 1969, 12, 31, 365, 3, 23, 59, 31 },
        { 951782400, 2000, 2, 29, 60, 2, 0, 0, 29 },  /* 2000 is a leap year */
        { 4107456000, 2100, 2, 28, 59, 0, 0, 0, 28 }, /* 2100 is not */
        { 253402300799, 9999, 12, 31, 365, 5, 23, 59, 31 },
        { 253402300800, 10000, 1, 1, 1, 6, 0, 0, 31 },
        { 1e15, 31690708, 7, 5, 187, 0, 1, 46, 31 },
        { -62135596800, 1, 1, 1, 1, 1, 0, 0, 31 },
        { -62135596801, 0, 12, 31, 366, 0, 23, 59, 31 },
        { -94608000000, -1029, 12, 29, 363, 0, 0, 0, 31 },
        { NAN, 292277026596, 12, 4, 339, 0, 15, 30, 31 },
        { INFINITY, 292277026596, 12, 4, 339, 0, 15, 30, 31 },
        { -INFINITY, 292277026596, 12, 4, 339, 0, 15, 30, 31 },
        { 1e19, 292277026596, 12, 4, 339, 0, 15, 30, 31 },
        { -1e19, 292277026596, 12, 4, 339, 0, 15, 30, 31 },
        { 9223372036854775807.0, 292277026596, 12, 4, 339, 0, 15, 30, 31 }, /* rounds to 2^63 */
    };
    const char *const fns[] = { "year",        "month", "day_of_month", "day_of_year",
                                "day_of_week", "hour",  "minute",       "days_in_month" };
    for (size_t i = 0; i < N(cases); i++) {
        const dcase_t *c = &cases[i];
        const double want[] = { c->year, c->month, c->mday, c->yday, c->wday, c->hour, c->minute, c->dim };
        for (size_t f = 0; f < N(fns); f++) {
            double out = -1;
            assert_true(pq_sample_fn_lookup(fns[f])(c->v, NULL, &out));
            if (!same(out, want[f])) {
                fail_msg("case %zu: %s(%.17g) = %.17g, want %.17g", i, fns[f], c->v, out, want[f]);
            }
        }
    }
}

/* Every month of a leap and a common year, and each day in one. */
static void test_days_in_month(void **state)
{
    (void)state;
    static const int dim_2016[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    static const int dim_2015[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    double t2016 = 1451606400; /* 2016-01-01 */
    double t2015 = 1420070400; /* 2015-01-01 */
    pq_sample_fn dim = pq_sample_fn_lookup("days_in_month");
    pq_sample_fn mday = pq_sample_fn_lookup("day_of_month");
    for (int m = 0; m < 12; m++) {
        double out = 0;
        assert_true(dim(t2016, NULL, &out));
        assert_int_equal((int)out, dim_2016[m]);
        assert_true(dim(t2015, NULL, &out));
        assert_int_equal((int)out, dim_2015[m]);
        for (int d = 1; d <= dim_2016[m]; d++) {
            assert_true(mday(t2016 + (d - 1) * 86400.0 + 86399, NULL, &out));
            assert_int_equal((int)out, d);
        }
        t2016 += dim_2016[m] * 86400.0;
        t2015 += dim_2015[m] * 86400.0;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),    cmocka_unit_test(test_simple),  cmocka_unit_test(test_clamp),
        cmocka_unit_test(test_round),     cmocka_unit_test(test_exp_log), cmocka_unit_test(test_trig),
        cmocka_unit_test(test_trig_huge), cmocka_unit_test(test_dates),   cmocka_unit_test(test_days_in_month),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for query/promql_fn_range.c: one table of windows per function
 * with the expected sample (or none) and annotation bits. Expected values
 * come from Prometheus 3.14's promql/promqltest/testdata/functions.test
 * (the window each of its queries sees, written out as points) or are
 * derived by hand in the comments; each case is chosen so that a plausible
 * mistake (no counter correction, no zero cut-off, naive sums, wrong tie
 * rule, NaN sorted last, ...) changes the result. Comparisons are bit for
 * bit (EXACT) where the result is exactly representable or where the
 * 17-digit expectation is Prometheus' own output (the avg_over_time
 * extreme-value cases, the deriv/predict_linear regression); elsewhere
 * within a relative 1e-12, since functions.test states exact decimal
 * values that its runner compares with a tolerance. Separate tests cover
 * scratch growth, windows longer than the table allows, and the lookup.
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

#include "common/mem.h"
#include "query/promql_int.h"

#define MAXP 16
#define EXACT 0.0
#define REL 1e-12

typedef struct fcase {
    const char *fn;
    const char *what;
    int64_t t_end;
    int64_t range_ms;
    size_t n;
    int64_t ts[MAXP];
    double vs[MAXP];
    double args[2];
    bool ok;      /* a sample is expected */
    double want;  /* NaN matches NaN */
    double tol;   /* EXACT, or a relative tolerance */
    unsigned ann; /* expected annotation bits */
} fcase_t;

/* A table row; PTS(...) is a braced list that survives macro expansion. */
#define PTS(...)                                                                                                       \
    {                                                                                                                  \
        __VA_ARGS__                                                                                                    \
    }
#define CASE(fn_, what_, t_end_, range_, n_, ts_, vs_, args_, ok_, want_, tol_, ann_)                                  \
    {                                                                                                                  \
        .fn = fn_, .what = what_, .t_end = t_end_, .range_ms = range_, .n = n_, .ts = ts_, .vs = vs_, .args = args_,   \
        .ok = ok_, .want = want_, .tol = tol_, .ann = ann_                                                             \
    }

/* Timestamps of the 5m-spaced points 5m, 10m, ..., 50m (ms). */
#define T5M_5_50 300000, 600000, 900000, 1200000, 1500000, 1800000, 2100000, 2400000, 2700000, 3000000
/* 0m, 5m, ..., 50m. */
#define T5M_0_50 0, T5M_5_50

static const fcase_t cases[] = {
    /* ---- rate ---- */
    /* rate(calculate_rate_window_total[50m]) at 50m: 0+80x10, t=0 left out
     * of the left-open window. functions.test states 0.26666666666666666;
     * Go's order (factor divided by the range, then times 720) lands one
     * double higher. */
    CASE("rate", "window", 3000000, 3000000, 10, PTS(T5M_5_50), PTS(80, 160, 240, 320, 400, 480, 560, 640, 720, 800),
         PTS(0), true, 0.26666666666666672, EXACT, 0),
    /* rate(testcounter_reset_middle_total[50m]) at 50m: 0+27x4 0+27x5;
     * 135-27 plus 108 at the reset = 216 over 2700s, extrapolated to 3000s. */
    CASE("rate", "reset in the middle", 3000000, 3000000, 10, PTS(T5M_5_50),
         PTS(27, 54, 81, 108, 0, 27, 54, 81, 108, 135), PTS(0), true, 0.08, REL, 0),
    /* rate(testcounter_reset_end_total[6m]) at 50m: 90 then 0. */
    CASE("rate", "reset at the end", 3000000, 360000, 2, PTS(2700000, 3000000), PTS(90, 0), PTS(0), true, 0, EXACT, 0),
    CASE("rate", "one point", 3000000, 300000, 1, PTS(3000000), PTS(0), PTS(0), false, 0, EXACT, 0),
    CASE("rate", "no points", 3000000, 300000, 0, PTS(0), PTS(0), PTS(0), false, 0, EXACT, 0),
    /* rate(calculate_rate_offset_total{x="a"}[10m] offset 5m) at 50m. */
    CASE("rate", "offset", 2700000, 600000, 2, PTS(2400000, 2700000), PTS(80, 90), PTS(0), true, 0.03333333333333333,
         REL, 0),
    /* rate(testcounter_zero_cutoff_total[20m]) at 10m, load 4m: start="0m"
     * reaches zero at its first point, start="1m" 60s before it, start="5m"
     * only gets half an interval (120s). */
    CASE("rate", "zero cut-off at the first point", 600000, 1200000, 3, PTS(0, 240000, 480000), PTS(0, 240, 480),
         PTS(0), true, 0.5, REL, 0),
    CASE("rate", "zero cut-off 60s before", 600000, 1200000, 3, PTS(0, 240000, 480000), PTS(60, 300, 540), PTS(0), true,
         0.55, REL, 0),
    CASE("rate", "half-interval cut-off", 600000, 1200000, 3, PTS(0, 240000, 480000), PTS(300, 540, 780), PTS(0), true,
         0.6, REL, 0),
    /* A 1.5s range: 14 over 1.4s sampled, no extrapolation (zero point at
     * the first sample, last sample at the edge), divided by 1.5s. */
    CASE("rate", "fractional range", 3000, 1500, 2, PTS(1600, 3000), PTS(0, 14), PTS(0), true, 14.0 / 1.5, REL, 0),

    /* ---- increase ---- */
    /* increase(http_requests_total{path="/bar"}[50m]) at 50m: 0+18x5 0+18x5. */
    CASE("increase", "reset", 3000000, 3000000, 10, PTS(T5M_5_50), PTS(18, 36, 54, 72, 90, 0, 18, 36, 54, 72), PTS(0),
         true, 160, REL, 0),
    /* increase(...{path="/dings"}[100m]) at 50m: 10+10x10 would reach zero
     * 300s before its first point, so only half an interval (150s) is added. */
    CASE("increase", "extrapolation by half an interval", 3000000, 6000000, 11, PTS(T5M_0_50),
         PTS(10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110), PTS(0), true, 105, REL, 0),
    /* ...{path="/bumms"}: 1+10x10 reaches zero 30s before: cut there. */
    CASE("increase", "extrapolation cut at zero", 3000000, 6000000, 11, PTS(T5M_0_50),
         PTS(1, 11, 21, 31, 41, 51, 61, 71, 81, 91, 101), PTS(0), true, 101, REL, 0),
    /* increase(http_requests_total[30m]) at 30m over 0 1 2 3 2 3 4: 3+3 = 6,
     * the zero point 250s before the first sample -> 6 * 1750/1500 = 7. */
    CASE("increase", "reset, zero point inside half interval", 1800000, 1800000, 6,
         PTS(300000, 600000, 900000, 1200000, 1500000, 1800000), PTS(1, 2, 3, 2, 3, 4), PTS(0), true, 7, REL, 0),
    /* A negative first value disables the zero cut-off: 20 * 40/20. */
    CASE("increase", "negative first value", 40000, 40000, 3, PTS(10000, 20000, 30000), PTS(-5, 5, 15), PTS(0), true,
         40, REL, 0),
    /* 1 11 21: the zero point is 20*(1/20) = 1s before the first point,
     * closer than the 10s to the range start -> 20 * 31/20. */
    CASE("increase", "zero point 1s before", 40000, 40000, 3, PTS(10000, 20000, 30000), PTS(1, 11, 21), PTS(0), true,
         31, REL, 0),
    /* The last point 70s before the end (threshold 11s): extend by 5s only. */
    CASE("increase", "gap at the end", 100000, 100000, 3, PTS(10000, 20000, 30000), PTS(10, 20, 30), PTS(0), true, 35,
         REL, 0),

    /* ---- delta ---- */
    /* delta(http_requests[20m]) at 20m: /foo and /bar. */
    CASE("delta", "rising", 1200000, 1200000, 4, PTS(300000, 600000, 900000, 1200000), PTS(50, 100, 150, 200), PTS(0),
         true, 200, REL, 0),
    CASE("delta", "falling, no reset correction", 1200000, 1200000, 4, PTS(300000, 600000, 900000, 1200000),
         PTS(150, 100, 50, 0), PTS(0), true, -200, REL, 0),
    /* No zero cut-off for gauges: 20 * 40/20 (increase gives 31). */
    CASE("delta", "no zero cut-off", 40000, 40000, 3, PTS(10000, 20000, 30000), PTS(1, 11, 21), PTS(0), true, 40, REL,
         0),
    CASE("delta", "one point", 40000, 40000, 1, PTS(10000), PTS(1), PTS(0), false, 0, EXACT, 0),

    /* ---- irate, idelta ---- */
    CASE("irate", "last two points", 3000000, 3000000, 3, PTS(2400000, 2700000, 3000000), PTS(80, 90, 100), PTS(0),
         true, 10.0 / 300, REL, 0),
    CASE("irate", "reset: last value per second", 1800000, 3000000, 2, PTS(1500000, 1800000), PTS(50, 20), PTS(0), true,
         20.0 / 300, REL, 0),
    /* irate(http_requests_nan[15m1s]) over 1 NaN NaN 5 11. */
    CASE("irate", "NaN then value", 900000, 901000, 4, PTS(0, 300000, 600000, 900000), PTS(1, NAN, NAN, 5), PTS(0),
         true, NAN, EXACT, 0),
    CASE("irate", "value then NaN", 300000, 901000, 2, PTS(0, 300000), PTS(1, NAN), PTS(0), true, NAN, EXACT, 0),
    CASE("irate", "after NaNs", 1200000, 901000, 4, PTS(300000, 600000, 900000, 1200000), PTS(NAN, NAN, 5, 11), PTS(0),
         true, 0.02, REL, 0),
    CASE("irate", "one point", 0, 901000, 1, PTS(0), PTS(1), PTS(0), false, 0, EXACT, 0),
    CASE("irate", "equal timestamps", 1000, 1000, 2, PTS(1000, 1000), PTS(1, 2), PTS(0), false, 0, EXACT, 0),
    CASE("idelta", "falling is not a reset", 1200000, 1200000, 4, PTS(0, 300000, 600000, 900000), PTS(0, 50, 100, 50),
         PTS(0), true, -50, EXACT, 0),
    CASE("idelta", "after NaNs", 1200000, 901000, 4, PTS(300000, 600000, 900000, 1200000), PTS(NAN, NAN, 5, 11), PTS(0),
         true, 6, EXACT, 0),
    CASE("idelta", "one point", 0, 1000, 1, PTS(0), PTS(1), PTS(0), false, 0, EXACT, 0),

    /* ---- deriv, predict_linear ---- */
    CASE("deriv", "line", 3000000, 3000000, 10, PTS(T5M_5_50), PTS(80, 160, 240, 320, 400, 480, 560, 640, 720, 800),
         PTS(0), true, 0.26666666666666666, REL, 0),
    /* deriv(testcounter_reset_middle_total[100m]) at 50m. */
    CASE("deriv", "regression", 3000000, 6000000, 11, PTS(T5M_0_50), PTS(0, 10, 20, 30, 40, 0, 10, 20, 30, 40, 50),
         PTS(0), true, 0.010606060606060607, EXACT, 0),
    /* deriv(http_requests_inf[100m]) at 100m: 0+80x10 then +Inf. */
    CASE("deriv", "Inf gives NaN", 6000000, 6000000, 12,
         PTS(300000, 600000, 900000, 1200000, 1500000, 1800000, 2100000, 2400000, 2700000, 3000000, 3300000, 3600000),
         PTS(0, 80, 160, 240, 320, 400, 480, 560, 640, 720, 800, INFINITY), PTS(0), true, NAN, EXACT, 0),
    CASE("deriv", "constant", 30000, 30000, 3, PTS(10000, 20000, 30000), PTS(7, 7, 7), PTS(0), true, 0, EXACT, 0),
    CASE("deriv", "constant Inf", 30000, 30000, 2, PTS(10000, 20000), PTS(INFINITY, INFINITY), PTS(0), true, NAN, EXACT,
         0),
    CASE("deriv", "one point", 30000, 30000, 1, PTS(10000), PTS(7), PTS(0), false, 0, EXACT, 0),
    /* Kahan sums: uncompensated sums give -2.3999999999999995. */
    /* covXY = sumXY - sumX*sumY/n in that order (sumX*(sumY/n) gives
     * 0.11500000000000002). */
    CASE("deriv", "covariance order", 20000, 30000, 3, PTS(0, 10000, 20000), PTS(0.2, 0.1, 2.5), PTS(0), true, 0.115,
         EXACT, 0),
    CASE("deriv", "compensated sums", 4000, 4000, 4, PTS(1000, 2000, 3000, 4000), PTS(10.001, 0.001, 0.001, 2.001),
         PTS(0), true, -2.4, EXACT, 0),
    /* Unix-epoch timestamps: x is measured from the first point; from 0
     * the squares lose the slope (0.26662903...). */
    CASE("deriv", "epoch timestamps", 1700002700000, 3000000, 10,
         PTS(1700000000000, 1700000300000, 1700000600000, 1700000900000, 1700001200000, 1700001500000, 1700001800000,
             1700002100000, 1700002400000, 1700002700000),
         PTS(80, 160, 240, 320, 400, 480, 560, 640, 720, 800), PTS(0), true, 0.26666666666666666, EXACT, 0),
    /* predict_linear(testcounter_reset_middle_total[50m], 3600) at 50m. */
    CASE("predict_linear", "at the range end", 3000000, 3000000, 10, PTS(T5M_5_50),
         PTS(10, 20, 30, 40, 0, 10, 20, 30, 40, 50), PTS(3600), true, 70, REL, 0),
    /* predict_linear(testcounter_reset_middle_total[55m] @ 3000, 3600) at
     * 50m: intercept at 3000s, prediction for 6600s. */
    CASE("predict_linear", "regression", 3000000, 3300000, 11, PTS(T5M_0_50),
         PTS(0, 10, 20, 30, 40, 0, 10, 20, 30, 40, 50), PTS(3600), true, 76.81818181818181, EXACT, 0),
    CASE("predict_linear", "Inf gives NaN", 6000000, 6000000, 12,
         PTS(300000, 600000, 900000, 1200000, 1500000, 1800000, 2100000, 2400000, 2700000, 3000000, 3300000, 3600000),
         PTS(0, 80, 160, 240, 320, 400, 480, 560, 640, 720, 800, INFINITY), PTS(6000), true, NAN, EXACT, 0),
    CASE("predict_linear", "constant", 30000, 30000, 3, PTS(10000, 20000, 30000), PTS(7, 7, 7), PTS(100), true, 7,
         EXACT, 0),
    /* Points (0s, 0) and (10s, 10), intercept at t_end = 20s: 20 + 5. */
    CASE("predict_linear", "intercept at t_end", 20000, 30000, 2, PTS(0, 10000), PTS(0, 10), PTS(5), true, 25, REL, 0),
    CASE("predict_linear", "one point", 30000, 30000, 1, PTS(10000), PTS(7), PTS(60), false, 0, EXACT, 0),
    /* intercept = sumY/n - slope*sumX/n ((sumY - slope*sumX)/n gives
     * -2.2624999999999993). */
    CASE("predict_linear", "intercept order", 25000, 30000, 3, PTS(0, 10000, 20000), PTS(10.01, 0.2, 1.7), PTS(0), true,
         -2.262499999999999, EXACT, 0),
    CASE("predict_linear", "epoch timestamps", 1700002700000, 3000000, 10,
         PTS(1700000000000, 1700000300000, 1700000600000, 1700000900000, 1700001200000, 1700001500000, 1700001800000,
             1700002100000, 1700002400000, 1700002700000),
         PTS(80, 160, 240, 320, 400, 480, 560, 640, 720, 800), PTS(60), true, 816, EXACT, 0),

    /* ---- resets, changes ---- */
    /* resets/changes(http_requests[50m]) at 50m: /foo and /bar. */
    CASE("resets", "foo", 3000000, 3000000, 9,
         PTS(300000, 600000, 900000, 1200000, 1500000, 1800000, 2100000, 2400000, 2700000),
         PTS(2, 3, 0, 1, 0, 0, 1, 2, 0), PTS(0), true, 3, EXACT, 0),
    CASE("resets", "bar", 3000000, 3000000, 9,
         PTS(300000, 600000, 900000, 1200000, 1500000, 1800000, 2100000, 2400000, 2700000),
         PTS(2, 3, 4, 5, 1, 2, 3, 4, 5), PTS(0), true, 1, EXACT, 0),
    CASE("resets", "NaN is no reset", 900000, 1200000, 3, PTS(0, 300000, 600000), PTS(0, NAN, 0), PTS(0), true, 0,
         EXACT, 0),
    CASE("resets", "one point", 900000, 1200000, 1, PTS(0), PTS(5), PTS(0), true, 0, EXACT, 0),
    CASE("resets", "no points", 900000, 1200000, 0, PTS(0), PTS(0), PTS(0), false, 0, EXACT, 0),
    CASE("changes", "foo", 3000000, 3000000, 9,
         PTS(300000, 600000, 900000, 1200000, 1500000, 1800000, 2100000, 2400000, 2700000),
         PTS(2, 3, 0, 1, 0, 0, 1, 2, 0), PTS(0), true, 7, EXACT, 0),
    CASE("changes", "bar", 3000000, 3000000, 9,
         PTS(300000, 600000, 900000, 1200000, 1500000, 1800000, 2100000, 2400000, 2700000),
         PTS(2, 3, 4, 5, 1, 2, 3, 4, 5), PTS(0), true, 8, EXACT, 0),
    /* changes(x[20m]) at 15m. */
    CASE("changes", "NaN to NaN is no change", 900000, 1200000, 3, PTS(0, 300000, 600000), PTS(NAN, NAN, NAN), PTS(0),
         true, 0, EXACT, 0),
    CASE("changes", "to and from NaN", 900000, 1200000, 3, PTS(0, 300000, 600000), PTS(0, NAN, 0), PTS(0), true, 2,
         EXACT, 0),
    CASE("changes", "one point", 900000, 1200000, 1, PTS(0), PTS(5), PTS(0), true, 0, EXACT, 0),

    /* ---- avg_over_time (load 10s, eval at 55s over [1m] unless noted) ---- */
    CASE("avg_over_time", "one point", 55000, 20000, 1, PTS(40000), PTS(5), PTS(0), true, 5, EXACT, 0),
    CASE("avg_over_time", "1..5", 55000, 60000, 5, PTS(0, 10000, 20000, 30000, 40000), PTS(1, 2, 3, 4, 5), PTS(0), true,
         3, EXACT, 0),
    CASE("avg_over_time", "+Inf last", 55000, 60000, 5, PTS(0, 10000, 20000, 30000, 40000), PTS(1, 2, 3, 4, INFINITY),
         PTS(0), true, INFINITY, EXACT, 0),
    CASE("avg_over_time", "+Inf and -Inf", 55000, 60000, 5, PTS(0, 10000, 20000, 30000, 40000),
         PTS(1, 2, 3, INFINITY, -INFINITY), PTS(0), true, NAN, EXACT, 0),
    CASE("avg_over_time", "Inf 0 Inf", 55000, 60000, 3, PTS(0, 10000, 20000), PTS(INFINITY, 0, INFINITY), PTS(0), true,
         INFINITY, EXACT, 0),
    CASE("avg_over_time", "Inf Inf Inf -Inf", 55000, 60000, 4, PTS(0, 10000, 20000, 30000),
         PTS(INFINITY, INFINITY, INFINITY, -INFINITY), PTS(0), true, NAN, EXACT, 0),
    CASE("avg_over_time", "-Inf 0 -Inf", 55000, 60000, 3, PTS(0, 10000, 20000), PTS(-INFINITY, 0, -INFINITY), PTS(0),
         true, -INFINITY, EXACT, 0),
    /* The sum overflows: switch to the incremental mean. */
    CASE("avg_over_time", "overflow", 55000, 60000, 2, PTS(0, 10000),
         PTS(9.988465674311579e+307, 9.988465674311579e+307), PTS(0), true, 9.988465674311579e+307, EXACT, 0),
    CASE("avg_over_time", "negative overflow", 55000, 60000, 3, PTS(0, 10000, 20000),
         PTS(-9.988465674311579e+307, -9.988465674311579e+307, -9.988465674311579e+307), PTS(0), true,
         -9.988465674311579e+307, EXACT, 0),
    CASE("avg_over_time", "opposite huge values", 55000, 60000, 2, PTS(0, 10000),
         PTS(-9.988465674311579e+307, 9.988465674311579e+307), PTS(0), true, 0, EXACT, 0),
    CASE("avg_over_time", "NaN", 55000, 60000, 5, PTS(0, 10000, 20000, 30000, 40000), PTS(1, 2, 3, NAN, NAN), PTS(0),
         true, NAN, EXACT, 0),
    /* Kahan: a naive sum loses both ones. */
    CASE("avg_over_time", "1 1e100 1 -1e100", 60000, 120000, 4, PTS(0, 10000, 20000, 30000), PTS(1, 1e100, 1, -1e100),
         PTS(0), true, 0.5, EXACT, 0),
    /* "More tests for extreme values" (load 5s). */
    CASE("avg_over_time", "extreme 1", 55000, 60000, 6, PTS(0, 5000, 10000, 15000, 20000, 25000),
         PTS(1e10, 1e-6, 1e-6, 1e-6, 1e-6, 1e-6), PTS(0), true, 1.6666666666666675e+09, EXACT, 0),
    CASE("avg_over_time", "extreme 2", 55000, 60000, 6, PTS(0, 5000, 10000, 15000, 20000, 25000),
         PTS(5.30921651659898, 0.961118537914768, 1.62091361305318, 0.865089463758091, 0.323055185914577,
             0.951811357687154),
         PTS(0), true, 1.67186744582113, REL, 0),
    CASE("avg_over_time", "extreme 5", 55000, 60000, 6, PTS(0, 5000, 10000, 15000, 20000, 25000),
         PTS(1.78264E+50, 0.76342771, 1.9592258, 2.258E+220, 7.69805412, 458.90154), PTS(0), true,
         3.76333333333333E+219, REL, 0),
    CASE("avg_over_time", "extreme 9", 55000, 60000, 7, PTS(0, 5000, 10000, 15000, 20000, 25000, 30000),
         PTS(-1.78264E+215, 0.76342771, 1.9592258, 2.258E+220, 7.69805412, 1.78264E+215, -458.90154), PTS(0), true,
         3.225714285714286e+219, EXACT, 0),
    CASE("avg_over_time", "extreme 10", 55000, 60000, 9, PTS(0, 5000, 10000, 15000, 20000, 25000, 30000, 35000, 40000),
         PTS(-1.78264E+219, 0.76342771, 1.9592258, 2.3757689E+217, -2.3757689E+217, 2.258E+220, 7.69805412,
             1.78264E+219, -458.90154),
         PTS(0), true, 2.5088888888888888e+219, EXACT, 0),
    /* Prometheus' own result is 0 here (the true mean is -44.848...). */
    CASE("avg_over_time", "extreme 11", 55000, 60000, 10,
         PTS(0, 5000, 10000, 15000, 20000, 25000, 30000, 35000, 40000, 45000),
         PTS(-2.258E+220, -1.78264E+219, 0.76342771, 1.9592258, 2.3757689E+217, -2.3757689E+217, 2.258E+220, 7.69805412,
             1.78264E+219, -458.90154),
         PTS(0), true, 0, EXACT, 0),
    /* avg_over_time(foo[130s]) == 52 at 10m: exact. */
    CASE("avg_over_time", "13 x 52", 600000, 130000, 13,
         PTS(480000, 490000, 500000, 510000, 520000, 530000, 540000, 550000, 560000, 570000, 580000, 590000, 600000),
         PTS(52, 52, 52, 52, 52, 52, 52, 52, 52, 52, 52, 52, 52), PTS(0), true, 52, EXACT, 0),
    CASE("avg_over_time", "no points", 55000, 10000, 0, PTS(0), PTS(0), PTS(0), false, 0, EXACT, 0),

    /* ---- sum_over_time ---- */
    CASE("sum_over_time", "1 1e100 1 -1e100", 60000, 120000, 4, PTS(0, 10000, 20000, 30000), PTS(1, 1e100, 1, -1e100),
         PTS(0), true, 2, EXACT, 0),
    CASE("sum_over_time", "+Inf", 55000, 60000, 3, PTS(0, 10000, 20000), PTS(1, INFINITY, 1), PTS(0), true, INFINITY,
         EXACT, 0),
    CASE("sum_over_time", "+Inf -Inf", 55000, 60000, 2, PTS(0, 10000), PTS(INFINITY, -INFINITY), PTS(0), true, NAN,
         EXACT, 0),
    CASE("sum_over_time", "overflow", 55000, 60000, 2, PTS(0, 10000),
         PTS(9.988465674311579e+307, 9.988465674311579e+307), PTS(0), true, INFINITY, EXACT, 0),
    CASE("sum_over_time", "no points", 55000, 60000, 0, PTS(0), PTS(0), PTS(0), false, 0, EXACT, 0),

    /* ---- count, present ---- */
    CASE("count_over_time", "NaNs count", 60000, 120000, 3, PTS(40000, 50000, 60000), PTS(NAN, NAN, NAN), PTS(0), true,
         3, EXACT, 0),
    CASE("count_over_time", "no points", 60000, 120000, 0, PTS(0), PTS(0), PTS(0), false, 0, EXACT, 0),
    CASE("count_over_time", "one point", 60000, 120000, 1, PTS(60000), PTS(4), PTS(0), true, 1, EXACT, 0),
    CASE("present_over_time", "three points", 60000, 120000, 3, PTS(40000, 50000, 60000), PTS(2, 0, 3), PTS(0), true, 1,
         EXACT, 0),
    CASE("present_over_time", "NaN", 60000, 120000, 1, PTS(60000), PTS(NAN), PTS(0), true, 1, EXACT, 0),
    CASE("present_over_time", "no points", 60000, 120000, 0, PTS(0), PTS(0), PTS(0), false, 0, EXACT, 0),

    /* ---- min, max (min/max_over_time(data[2m]) at 1m) ---- */
    CASE("min_over_time", "numbers", 60000, 120000, 3, PTS(0, 10000, 20000), PTS(2, 0, 3), PTS(0), true, 0, EXACT, 0),
    CASE("min_over_time", "NaN last", 60000, 120000, 3, PTS(0, 10000, 20000), PTS(2, 0, NAN), PTS(0), true, 0, EXACT,
         0),
    CASE("min_over_time", "NaN middle", 60000, 120000, 3, PTS(0, 10000, 20000), PTS(2, NAN, 1), PTS(0), true, 1, EXACT,
         0),
    CASE("min_over_time", "NaN first", 60000, 120000, 3, PTS(0, 10000, 20000), PTS(NAN, 0, 1), PTS(0), true, 0, EXACT,
         0),
    CASE("min_over_time", "only NaN", 60000, 120000, 3, PTS(0, 10000, 20000), PTS(NAN, NAN, NAN), PTS(0), true, NAN,
         EXACT, 0),
    CASE("min_over_time", "-Inf", 60000, 120000, 2, PTS(0, 10000), PTS(5, -INFINITY), PTS(0), true, -INFINITY, EXACT,
         0),
    CASE("max_over_time", "numbers", 60000, 120000, 3, PTS(0, 10000, 20000), PTS(2, 0, 3), PTS(0), true, 3, EXACT, 0),
    CASE("max_over_time", "NaN last", 60000, 120000, 3, PTS(0, 10000, 20000), PTS(2, 0, NAN), PTS(0), true, 2, EXACT,
         0),
    CASE("max_over_time", "NaN middle", 60000, 120000, 3, PTS(0, 10000, 20000), PTS(2, NAN, 1), PTS(0), true, 2, EXACT,
         0),
    CASE("max_over_time", "NaN first", 60000, 120000, 3, PTS(0, 10000, 20000), PTS(NAN, 0, 1), PTS(0), true, 1, EXACT,
         0),
    CASE("max_over_time", "only NaN", 60000, 120000, 3, PTS(0, 10000, 20000), PTS(NAN, NAN, NAN), PTS(0), true, NAN,
         EXACT, 0),
    CASE("max_over_time", "no points", 60000, 120000, 0, PTS(0), PTS(0), PTS(0), false, 0, EXACT, 0),

    /* ---- ts_of_min/max (load 10s53ms, at 90s over [90s]) ---- */
    CASE("ts_of_min_over_time", "odd interval", 90000, 90000, 8,
         PTS(10053, 20106, 30159, 40212, 50265, 60318, 70371, 80424), PTS(2, 3, 0, 5, 6, 2, 1, 4), PTS(0), true, 30.159,
         EXACT, 0),
    CASE("ts_of_max_over_time", "odd interval", 90000, 90000, 8,
         PTS(10053, 20106, 30159, 40212, 50265, 60318, 70371, 80424), PTS(2, 3, 0, 5, 6, 2, 1, 4), PTS(0), true, 50.265,
         EXACT, 0),
    /* Ties: the later point wins for both. */
    CASE("ts_of_min_over_time", "tie", 6000, 6000, 5, PTS(1000, 2000, 3000, 4000, 5000), PTS(1, 0, 0, 2, 2), PTS(0),
         true, 3, EXACT, 0),
    CASE("ts_of_max_over_time", "tie", 6000, 6000, 5, PTS(1000, 2000, 3000, 4000, 5000), PTS(1, 0, 0, 2, 2), PTS(0),
         true, 5, EXACT, 0),
    CASE("ts_of_max_over_time", "tie at the start", 6000, 6000, 3, PTS(1000, 2000, 3000), PTS(2, 2, 1), PTS(0), true, 2,
         EXACT, 0),
    /* A NaN gives way to a later value; a later NaN does not win. */
    CASE("ts_of_min_over_time", "NaN first", 6000, 6000, 3, PTS(1000, 2000, 3000), PTS(NAN, 1, NAN), PTS(0), true, 2,
         EXACT, 0),
    CASE("ts_of_max_over_time", "NaN first", 6000, 6000, 3, PTS(1000, 2000, 3000), PTS(NAN, 1, NAN), PTS(0), true, 2,
         EXACT, 0),
    CASE("ts_of_max_over_time", "only NaN: the last", 6000, 6000, 2, PTS(1000, 2000), PTS(NAN, NAN), PTS(0), true, 2,
         EXACT, 0),
    CASE("ts_of_min_over_time", "no points", 6000, 6000, 0, PTS(0), PTS(0), PTS(0), false, 0, EXACT, 0),

    /* ---- first, last and their timestamps ---- */
    CASE("first_over_time", "numbers", 60000, 120000, 3, PTS(0, 10000, 20000), PTS(2, 0, 3), PTS(0), true, 2, EXACT, 0),
    CASE("first_over_time", "NaN", 60000, 120000, 3, PTS(0, 10000, 20000), PTS(NAN, 0, 1), PTS(0), true, NAN, EXACT, 0),
    CASE("first_over_time", "no points", 60000, 120000, 0, PTS(0), PTS(0), PTS(0), false, 0, EXACT, 0),
    CASE("last_over_time", "numbers", 60000, 120000, 3, PTS(0, 10000, 20000), PTS(2, 0, 3), PTS(0), true, 3, EXACT, 0),
    CASE("last_over_time", "NaN", 60000, 120000, 3, PTS(0, 10000, 20000), PTS(2, 0, NAN), PTS(0), true, NAN, EXACT, 0),
    CASE("last_over_time", "no points", 60000, 120000, 0, PTS(0), PTS(0), PTS(0), false, 0, EXACT, 0),
    /* ts_of_first/last_over_time(metric[90s]), load 10s53ms. */
    CASE("ts_of_first_over_time", "odd interval", 95000, 90000, 3, PTS(20106, 30159, 40212), PTS(1, 2, 3), PTS(0), true,
         20.106, EXACT, 0),
    CASE("ts_of_last_over_time", "odd interval", 95000, 90000, 2, PTS(10053, 20106), PTS(2, 3), PTS(0), true, 20.106,
         EXACT, 0),
    CASE("ts_of_last_over_time", "negative time", 0, 90000, 2, PTS(-5500, -1500), PTS(2, 3), PTS(0), true, -1.5, EXACT,
         0),
    CASE("ts_of_last_over_time", "no points", 95000, 90000, 0, PTS(0), PTS(0), PTS(0), false, 0, EXACT, 0),

    /* ---- stddev, stdvar ---- */
    CASE("stdvar_over_time", "0 8 8 2 3", 60000, 120000, 5, PTS(0, 10000, 20000, 30000, 40000), PTS(0, 8, 8, 2, 3),
         PTS(0), true, 10.56, REL, 0),
    CASE("stddev_over_time", "0 8 8 2 3", 60000, 120000, 5, PTS(0, 10000, 20000, 30000, 40000), PTS(0, 8, 8, 2, 3),
         PTS(0), true, 3.2496153618543842, REL, 0),
    /* Prometheus issue 4927: a constant series has no variance at all. */
    CASE("stdvar_over_time", "constant", 55000, 60000, 3, PTS(0, 10000, 20000),
         PTS(1.5990505637277868, 1.5990505637277868, 1.5990505637277868), PTS(0), true, 0, EXACT, 0),
    CASE("stddev_over_time", "constant", 55000, 60000, 3, PTS(0, 10000, 20000),
         PTS(1.5990505637277868, 1.5990505637277868, 1.5990505637277868), PTS(0), true, 0, EXACT, 0),
    CASE("stddev_over_time", "one point", 55000, 60000, 1, PTS(0), PTS(42), PTS(0), true, 0, EXACT, 0),
    /* The compensated mean and sum of squares give the correctly rounded
     * 0.59; plain Welford gives 0.5900000000000001. */
    CASE("stdvar_over_time", "compensated", 55000, 60000, 5, PTS(0, 10000, 20000, 30000, 40000),
         PTS(0.001, 2.001, 0.251, 0.001, 1.001), PTS(0), true, 0.59, EXACT, 0),
    CASE("stdvar_over_time", "NaN", 55000, 60000, 3, PTS(0, 10000, 20000), PTS(1, NAN, 3), PTS(0), true, NAN, EXACT, 0),
    CASE("stdvar_over_time", "Inf", 55000, 60000, 2, PTS(0, 10000), PTS(1, INFINITY), PTS(0), true, NAN, EXACT, 0),
    CASE("stddev_over_time", "no points", 55000, 60000, 0, PTS(0), PTS(0), PTS(0), false, 0, EXACT, 0),

    /* ---- mad_over_time ---- */
    CASE("mad_over_time", "outlier", 70000, 70000, 6, PTS(10000, 20000, 30000, 40000, 50000, 60000),
         PTS(6, 2, 1, 999, 1, 2), PTS(0), true, 1, EXACT, 0),
    CASE("mad_over_time", "odd", 40000, 50000, 5, PTS(0, 10000, 20000, 30000, 40000), PTS(1, 2, 3, 4, 5), PTS(0), true,
         1, EXACT, 0),
    /* median 3, deviations 1 1 2 7: interpolated median 1.5. */
    CASE("mad_over_time", "even, interpolated", 40000, 50000, 4, PTS(0, 10000, 20000, 30000), PTS(10, 1, 4, 2), PTS(0),
         true, 1.5, EXACT, 0),
    CASE("mad_over_time", "equal", 40000, 50000, 5, PTS(0, 10000, 20000, 30000, 40000), PTS(7, 7, 7, 7, 7), PTS(0),
         true, 0, EXACT, 0),
    CASE("mad_over_time", "single", 0, 10000, 1, PTS(0), PTS(5), PTS(0), true, 0, EXACT, 0),
    CASE("mad_over_time", "NaN", 30000, 40000, 4, PTS(0, 10000, 20000, 30000), PTS(1, 2, NAN, 4), PTS(0), true, NAN,
         EXACT, 0),
    CASE("mad_over_time", "no points", 30000, 40000, 0, PTS(0), PTS(0), PTS(0), false, 0, EXACT, 0),

    /* ---- quantile_over_time (data[2m] at 1m) ---- */
    CASE("quantile_over_time", "two, 0.5", 60000, 120000, 2, PTS(0, 10000), PTS(0, 1), PTS(0.5), true, 0.5, EXACT, 0),
    CASE("quantile_over_time", "three, 0.75", 60000, 120000, 3, PTS(0, 10000, 20000), PTS(0, 1, 2), PTS(0.75), true,
         1.5, EXACT, 0),
    CASE("quantile_over_time", "uneven, 0.8", 60000, 120000, 3, PTS(0, 10000, 20000), PTS(0, 1, 4), PTS(0.8), true, 2.8,
         REL, 0),
    CASE("quantile_over_time", "uneven, 1", 60000, 120000, 3, PTS(0, 10000, 20000), PTS(0, 1, 4), PTS(1), true, 4,
         EXACT, 0),
    CASE("quantile_over_time", "unsorted", 60000, 120000, 3, PTS(0, 10000, 20000), PTS(3, 1, 2), PTS(0.25), true, 1.5,
         EXACT, 0),
    CASE("quantile_over_time", "q < 0", 60000, 120000, 2, PTS(0, 10000), PTS(0, 1), PTS(-1), true, -INFINITY, EXACT,
         PQ_ANN_QUANTILE_RANGE),
    CASE("quantile_over_time", "q > 1", 60000, 120000, 2, PTS(0, 10000), PTS(0, 1), PTS(2), true, INFINITY, EXACT,
         PQ_ANN_QUANTILE_RANGE),
    CASE("quantile_over_time", "q NaN", 60000, 120000, 2, PTS(0, 10000), PTS(0, 1), PTS(NAN), true, NAN, EXACT,
         PQ_ANN_QUANTILE_RANGE),
    CASE("quantile_over_time", "q 0 is in range", 60000, 120000, 2, PTS(0, 10000), PTS(5, 1), PTS(0), true, 1, EXACT,
         0),
    /* NaN sorts first: the top is a number, the bottom NaN. */
    CASE("quantile_over_time", "NaN sorts first (q 1)", 60000, 120000, 3, PTS(0, 10000, 20000), PTS(1, NAN, 2), PTS(1),
         true, 2, EXACT, 0),
    CASE("quantile_over_time", "NaN sorts first (q 0)", 60000, 120000, 3, PTS(0, 10000, 20000), PTS(1, NAN, 2), PTS(0),
         true, NAN, EXACT, 0),
    /* Weight 0 still multiplies the upper neighbour: 1*1 + Inf*0 = NaN. */
    CASE("quantile_over_time", "Inf neighbour", 60000, 120000, 2, PTS(0, 10000), PTS(1, INFINITY), PTS(0), true, NAN,
         EXACT, 0),
    CASE("quantile_over_time", "no points", 60000, 120000, 0, PTS(0), PTS(0), PTS(2), false, 0, EXACT, 0),

    /* ---- double_exponential_smoothing ---- */
    /* s1=1 b=2; i=1: 1.5+0.5*(1+2)=3; i=2: b=0.5*2+0.5*2=2, 2+0.5*5=4.5. */
    CASE("double_exponential_smoothing", "hand 1", 30000, 30000, 3, PTS(10000, 20000, 30000), PTS(1, 3, 4),
         PTS(0.5, 0.5), true, 4.5, EXACT, 0),
    /* sf 0.5, tf 0.25: 10, then b=10 -> 15, then b=0.25*5+0.75*10 -> 16.875. */
    CASE("double_exponential_smoothing", "hand 2", 40000, 40000, 4, PTS(10000, 20000, 30000, 40000), PTS(0, 10, 10, 10),
         PTS(0.5, 0.25), true, 16.875, EXACT, 0),
    /* The same with sf and tf swapped. */
    CASE("double_exponential_smoothing", "hand 2 swapped", 40000, 40000, 4, PTS(10000, 20000, 30000, 40000),
         PTS(0, 10, 10, 10), PTS(0.25, 0.5), true, 22.1875, EXACT, 0),
    /* double_exponential_smoothing(http_requests[1m], 0.01, 0.1) at 8000s. */
    CASE("double_exponential_smoothing", "positive trend", 8000000, 60000, 6,
         PTS(7950000, 7960000, 7970000, 7980000, 7990000, 8000000), PTS(7950, 7960, 7970, 7980, 7990, 8000),
         PTS(0.01, 0.1), true, 8000, REL, 0),
    CASE("double_exponential_smoothing", "negative trend", 8000000, 60000, 6,
         PTS(7950000, 7960000, 7970000, 7980000, 7990000, 8000000), PTS(-15900, -15920, -15940, -15960, -15980, -16000),
         PTS(0.01, 0.1), true, -16000, REL, 0),
    CASE("double_exponential_smoothing", "one point", 8000000, 60000, 1, PTS(8000000), PTS(1), PTS(0.5, 0.5), false, 0,
         EXACT, 0),
};

typedef struct fixture {
    pq_scratch_t scratch;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = mem_calloc(1, sizeof(*f));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    mem_free(f->scratch.d);
    mem_free(f);
    return 0;
}

static bool close_enough(double got, double want, double tol)
{
    if (isnan(want)) {
        return isnan(got);
    }
    if (tol == EXACT || isinf(want) || want == 0) {
        return got == want;
    }
    return fabs(got - want) <= tol * fabs(want);
}

static bool call(const char *fn, const pq_window_t *w, const double *args, double *out, unsigned *ann)
{
    const pq_range_def_t *f = pq_range_fn_lookup(fn);
    if (f == NULL) {
        fail_msg("no range function \"%s\"", fn);
    }
    return pq_range_apply(f, w, args, out, ann);
}

/* Runs every case and reports every mismatch before failing. */
static void test_table(void **state)
{
    fixture_t *f = *state;
    size_t bad = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const fcase_t *c = &cases[i];
        pq_window_t w = {
            .ts = c->ts, .vs = c->vs, .n = c->n, .t_end = c->t_end, .range_ms = c->range_ms, .scratch = &f->scratch
        };
        double vs_before[MAXP];
        memcpy(vs_before, c->vs, sizeof(vs_before));
        double out = -12345.0;
        unsigned ann = 0;
        bool ok = call(c->fn, &w, c->args, &out, &ann);
        if (ok != c->ok) {
            print_error("%s (%s): %s, want %s\n", c->fn, c->what, ok ? "a sample" : "no sample",
                        c->ok ? "a sample" : "no sample");
            bad++;
        } else if (ok && !close_enough(out, c->want, c->tol)) {
            print_error("%s (%s): got %.17g, want %.17g\n", c->fn, c->what, out, c->want);
            bad++;
        }
        if (ann != c->ann) {
            print_error("%s (%s): annotations 0x%x, want 0x%x\n", c->fn, c->what, ann, c->ann);
            bad++;
        }
        if (memcmp(vs_before, c->vs, sizeof(vs_before)) != 0) {
            print_error("%s (%s) changed its input\n", c->fn, c->what);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* Every function on every table window, with bits already set in *ann:
 * bits are only ever added. */
static void test_ann_only_added(void **state)
{
    fixture_t *f = *state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const fcase_t *c = &cases[i];
        pq_window_t w = {
            .ts = c->ts, .vs = c->vs, .n = c->n, .t_end = c->t_end, .range_ms = c->range_ms, .scratch = &f->scratch
        };
        double out = 0;
        unsigned ann = PQ_ANN_NOT_COUNTER;
        (void)call(c->fn, &w, c->args, &out, &ann);
        assert_int_equal(ann, PQ_ANN_NOT_COUNTER | c->ann);
    }
}

/* quantile and mad grow the scratch to fit, keep it when it is big
 * enough, and never write to the window. Above 12 points the sort is
 * qsort, which must also put NaN first. */
static void test_scratch_growth(void **state)
{
    (void)state;
    pq_scratch_t s = { 0 };
    enum { N = 100 };
    int64_t ts[N];
    double vs[N];
    for (size_t i = 0; i < N; i++) {
        ts[i] = (int64_t)i * 1000;
        vs[i] = (double)(N - i); /* 100 down to 1 */
    }
    pq_window_t w = { .ts = ts, .vs = vs, .n = N, .t_end = N * 1000, .range_ms = N * 1000, .scratch = &s };
    double q = 0.5, out = 0;
    unsigned ann = 0;
    assert_true(call("quantile_over_time", &w, &q, &out, &ann));
    assert_true(out == 50.5);
    assert_true(s.cap >= N);
    assert_non_null(s.d);
    for (size_t i = 0; i < N; i++) {
        assert_true(vs[i] == (double)(N - i));
    }
    q = 0.9; /* rank 89.1: 90*0.9 + 91*0.1 */
    assert_true(call("quantile_over_time", &w, &q, &out, &ann));
    assert_true(fabs(out - 90.1) <= 1e-12 * 90.1);

    /* mad of 1..100: median 50.5, deviations 0.5..49.5 twice: 25. */
    assert_true(call("mad_over_time", &w, NULL, &out, &ann));
    assert_true(out == 25);

    double *kept = s.d;
    size_t cap = s.cap;
    w.n = 5;
    q = 0;
    assert_true(call("quantile_over_time", &w, &q, &out, &ann));
    assert_true(out == 96);
    assert_ptr_equal(s.d, kept);
    assert_int_equal(s.cap, cap);

    /* Growth from a scratch that is already in use but too small. */
    pq_scratch_t small = { .d = mem_alloc(3 * sizeof(double)), .cap = 3 };
    w.scratch = &small;
    w.n = N;
    q = 1;
    assert_true(call("quantile_over_time", &w, &q, &out, &ann));
    assert_true(out == 100);
    assert_true(small.cap >= N);
    mem_free(small.d);
    w.scratch = &s;

    /* 20 values with NaNs among them. */
    for (size_t i = 0; i < 20; i++) {
        vs[i] = (i % 7 == 3) ? NAN : (double)i;
    }
    w.n = 20;
    q = 1;
    assert_true(call("quantile_over_time", &w, &q, &out, &ann));
    assert_true(out == 19);
    q = 0;
    assert_true(call("quantile_over_time", &w, &q, &out, &ann));
    assert_true(isnan(out));
    assert_int_equal(ann, 0);
    mem_free(s.d);
}

/* Windows longer than the table allows. */
static void test_long_windows(void **state)
{
    fixture_t *f = *state;
    enum { N = 1001 };
    int64_t *ts = mem_alloc(N * sizeof(*ts));
    double *vs = mem_alloc(N * sizeof(*vs));
    for (size_t i = 0; i < N; i++) {
        ts[i] = 3000 + (int64_t)i;
        vs[i] = 1;
    }
    /* sum_over_time(metric[1000ms]) at 4s over 1+0x4000 (load 1ms). */
    pq_window_t w = { .ts = ts + 1, .vs = vs, .n = 1000, .t_end = 4000, .range_ms = 1000, .scratch = &f->scratch };
    double out = 0;
    unsigned ann = 0;
    assert_true(call("sum_over_time", &w, NULL, &out, &ann));
    assert_true(out == 1000);
    assert_true(call("count_over_time", &w, NULL, &out, &ann));
    assert_true(out == 1000);
    w.n = N;
    w.ts = ts;
    assert_true(call("sum_over_time", &w, NULL, &out, &ann));
    assert_true(out == 1001);

    /* 1000 x 0.1: the compensated sum is the double nearest the exact sum
     * of the inputs (100); a naive sum gives 99.9999999999986. */
    for (size_t i = 0; i < N; i++) {
        vs[i] = 0.1;
    }
    w.n = 1000;
    assert_true(call("sum_over_time", &w, NULL, &out, &ann));
    assert_true(out == 100);
    assert_true(call("avg_over_time", &w, NULL, &out, &ann));
    assert_true(out == 0.1);

    /* rate over a dense counter with one reset: 1000 points 1ms apart,
     * +1 each, reset to 0 in the middle. */
    for (size_t i = 0; i < N; i++) {
        vs[i] = (double)(i < 500 ? i + 1 : i - 500);
    }
    w.n = 1000;
    w.ts = ts + 1; /* 3001 .. 4000 */
    assert_true(call("increase", &w, NULL, &out, &ann));
    /* 499 - 1 + 500 = 998 over 0.999s; the zero point (1.001ms before the
     * first point) is farther than the range start (1ms); the last point
     * is at the end. */
    assert_true(out == 998 * ((0.999 + 0.001 + 0) / 0.999));
    assert_int_equal(ann, 0);
    mem_free(ts);
    mem_free(vs);
}

static void test_lookup(void **state)
{
    (void)state;
    static const char *const names[] = {
        "rate",
        "increase",
        "delta",
        "irate",
        "idelta",
        "deriv",
        "predict_linear",
        "resets",
        "changes",
        "avg_over_time",
        "min_over_time",
        "max_over_time",
        "sum_over_time",
        "count_over_time",
        "quantile_over_time",
        "stddev_over_time",
        "stdvar_over_time",
        "last_over_time",
        "first_over_time",
        "present_over_time",
        "mad_over_time",
        "ts_of_min_over_time",
        "ts_of_max_over_time",
        "ts_of_first_over_time",
        "ts_of_last_over_time",
        "double_exponential_smoothing",
    };
    size_t n = sizeof(names) / sizeof(names[0]);
    for (size_t i = 0; i < n; i++) {
        const pq_range_def_t *fi = pq_range_fn_lookup(names[i]);
        if (fi == NULL) {
            fail_msg("no implementation for %s", names[i]);
        }
        /* Every function yields no sample from an empty window and
         * leaves *out and the annotations alone. */
        static const double args[] = { 0.5, 0.5 };
        pq_scratch_t scratch = { 0 };
        pq_window_t empty = { .t_end = 1000, .range_ms = 1000, .scratch = &scratch };
        double out = 42;
        unsigned ann = 0;
        if (pq_range_apply(fi, &empty, args, &out, &ann) || out != 42 || ann != 0) {
            fail_msg("%s yields a sample from an empty window", names[i]);
        }
        assert_null(scratch.d);
        for (size_t j = 0; j < i; j++) {
            if (pq_range_fn_lookup(names[j]) == fi) {
                fail_msg("%s and %s share an implementation", names[i], names[j]);
            }
        }
    }
    static const char *const not_range[] = {
        "absent_over_time", "holt_winters", "abs", "Rate", "rate ", "", "quantile", "histogram_quantile",
    };
    for (size_t i = 0; i < sizeof(not_range) / sizeof(not_range[0]); i++) {
        if (pq_range_fn_lookup(not_range[i]) != NULL) {
            fail_msg("\"%s\" is not a range function", not_range[i]);
        }
    }
    assert_null(pq_range_fn_lookup(NULL));
}

/* pq_quantile above 12 values selects instead of sorting: it must give
 * what interpolating a sorted copy (NaN first) gives, for every q. */
static int cmp_nan_first_test(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    if (isnan(x) || isnan(y)) {
        return (isnan(y) != 0) - (isnan(x) != 0);
    }
    return (x > y) - (x < y);
}

static void test_quantile_selection(void **state)
{
    (void)state;
    uint64_t r = 0x9e3779b97f4a7c15ULL;
    double d[300], sorted[300];
    for (int round = 0; round < 2000; round++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t n = 13 + (size_t)(r >> 33) % 280;
        for (size_t i = 0; i < n; i++) {
            r = r * 6364136223846793005ULL + 1442695040888963407ULL;
            unsigned kind = (unsigned)(r >> 60);
            d[i] = kind == 0 ? NAN : (double)((int64_t)(r >> 40) % 50); /* duplicates and NaNs */
        }
        memcpy(sorted, d, n * sizeof(double));
        qsort(sorted, n, sizeof(double), cmp_nan_first_test);
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        double q = (double)(r >> 11) / 9007199254740992.0;
        double rank = q * (double)(n - 1);
        double lo = floor(rank), w = rank - lo;
        size_t up = (size_t)lo + 1 < n ? (size_t)lo + 1 : (size_t)lo;
        double want = sorted[(size_t)lo] * (1 - w) + sorted[up] * w;
        double got = pq_quantile(q, d, n);
        if (isnan(want)) {
            assert_true(isnan(got));
        } else {
            assert_true(got == want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantile_selection), cmocka_unit_test(test_table),
        cmocka_unit_test(test_ann_only_added),     cmocka_unit_test(test_scratch_growth),
        cmocka_unit_test(test_long_windows),       cmocka_unit_test(test_lookup),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

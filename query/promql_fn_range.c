/* SPDX-License-Identifier: Apache-2.0 */
/*
 * promql_fn_range: the PromQL range-vector functions on float samples
 * (rate, *_over_time, deriv, ...) and their lookup table.
 *
 * Each function is a pure computation over one series' window, named by
 * a row of one table and dispatched by pq_range_apply: it reads
 * w->ts/w->vs, writes *out, never keeps state and allocates only when
 * quantile_over_time or mad_over_time must grow w->scratch. The arithmetic
 * is Prometheus 3.x's promql/functions.go and util/kahansum statement by
 * statement (same operands, same order, Go's left-to-right evaluation), so
 * results agree bit for bit on a platform without FP contraction (x86-64
 * baseline; build with -ffp-contract=off elsewhere, as Go also fuses on
 * arm64). Sorting for quantiles orders NaN first as Go's vectorByValueHeap
 * does; windows of up to 12 points use Go's insertion sort, so equal values
 * (-0 and +0) keep their order exactly as in Prometheus.
 *
 * Invariants: the window holds floats only, in strictly increasing time
 * order, inside (t_end - range_ms, t_end]; an empty window yields no
 * sample from any function. absent_over_time is the evaluator's (it needs
 * labels). predict_linear takes its intercept time from w->t_end, which
 * equals Prometheus' step time except under @ or offset (see its comment).
 * Prometheus 3.14's start-timestamp (OTel ST) reset detection is not
 * reproduced: the window carries no start timestamps.
 */
#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "query/promql_int.h"

/* ---- shared arithmetic ---- */

/* Prometheus' kahansum.Inc (Kahan-Babuska/Neumaier): *sum += inc, the
 * lost low part accumulated in *c; an infinite sum clears *c. */
void pq_kahan_inc(double inc, double *sum, double *c)
{
    double t = *sum + inc;
    if (isinf(t)) {
        *c = 0;
    } else if (fabs(*sum) >= fabs(inc)) {
        *c += (*sum - t) + inc;
    } else {
        *c += (inc - t) + *sum;
    }
    *sum = t;
}

/* Go's time.Duration.Seconds() for a duration of ms milliseconds: whole
 * seconds plus the nanosecond remainder / 1e9 (not ms / 1000.0, which can
 * round differently). */
static double go_seconds(int64_t ms)
{
    int64_t sec = ms / 1000;
    int64_t nsec = (ms % 1000) * 1000000;
    return (double)sec + (double)nsec / 1e9;
}

/* Go's vectorByValueHeap.Less: NaN is less than everything. */
static bool go_less(double a, double b)
{
    return isnan(a) || a < b;
}

static int cmp_nan_first(const void *pa, const void *pb)
{
    double a = *(const double *)pa;
    double b = *(const double *)pb;
    if (isnan(a) || isnan(b)) {
        return (int)!isnan(a) - (int)!isnan(b);
    }
    return (a > b) - (a < b);
}

/* Sort as Go's sort.Sort(vectorByValueHeap) does: NaNs first, then
 * ascending. pdqsort uses insertion sort up to 12 elements (stable, so
 * -0/+0 keep their order); above that the order of equal values is not
 * reproduced, which can only flip the sign of a zero result. */
static void sort_values(double *d, size_t n)
{
    if (n <= 12) {
        for (size_t i = 1; i < n; i++) {
            for (size_t j = i; j > 0 && go_less(d[j], d[j - 1]); j--) {
                double t = d[j];
                d[j] = d[j - 1];
                d[j - 1] = t;
            }
        }
        return;
    }
    qsort(d, n, sizeof(*d), cmp_nan_first);
}

/* Strict order of Go's sort for quantiles: NaN before everything else. */
static bool nan_first_less(double a, double b)
{
    return isnan(a) ? !isnan(b) : a < b;
}

/* Partially order d so that d[k] holds the value a full sort would put
 * there, nothing after k is smaller and nothing before it larger
 * (Hoare quickselect, expected O(n)). */
static void select_nth(double *d, size_t n, size_t k)
{
    ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1;
    while (lo < hi) {
        double pv = d[lo + (hi - lo) / 2];
        ptrdiff_t i = lo, j = hi;
        while (i <= j) {
            while (nan_first_less(d[i], pv)) {
                i++;
            }
            while (nan_first_less(pv, d[j])) {
                j--;
            }
            if (i <= j) {
                double t = d[i];
                d[i] = d[j];
                d[j] = t;
                i++;
                j--;
            }
        }
        if ((ptrdiff_t)k <= j) {
            hi = j;
        } else if ((ptrdiff_t)k >= i) {
            lo = i;
        } else {
            return;
        }
    }
}

/* Prometheus' quantile(): q < 0 gives -Inf, q > 1 +Inf, NaN q NaN;
 * otherwise sorts d in place and interpolates between neighbours. */
double pq_quantile(double q, double *d, size_t n)
{
    if (n == 0 || isnan(q)) {
        return NAN;
    }
    if (q < 0) {
        return -INFINITY;
    }
    if (q > 1) {
        return INFINITY;
    }
    double fn = (double)n;
    double rank = q * (fn - 1);
    double lower = fmax(0, floor(rank));
    double upper = fmin(fn - 1, lower + 1);
    double weight = rank - floor(rank);
    if (n <= 12) {
        sort_values(d, n);
        return d[(size_t)lower] * (1 - weight) + d[(size_t)upper] * weight;
    }
    /* Only two order statistics are needed: select them in O(n) instead
     * of sorting (same values as a sort in Go's order, NaN first). */
    size_t lo_idx = (size_t)lower, up_idx = (size_t)upper;
    select_nth(d, n, lo_idx);
    double lo_v = d[lo_idx];
    double up_v = lo_v;
    if (up_idx != lo_idx) {
        up_v = d[lo_idx + 1];
        for (size_t i = lo_idx + 2; i < n; i++) {
            if (nan_first_less(d[i], up_v)) {
                up_v = d[i];
            }
        }
    }
    return lo_v * (1 - weight) + up_v * weight;
}

/* w->scratch with room for n doubles (grown with mem_realloc). */
static double *scratch_reserve(const pq_window_t *w, size_t n)
{
    pq_scratch_t *s = w->scratch;
    assert(s != NULL);
    if (s->cap < n) {
        size_t cap = s->cap > 0 ? s->cap : 16;
        while (cap < n) {
            assert(cap <= SIZE_MAX / 2 / sizeof(double));
            cap *= 2;
        }
        s->d = mem_realloc(s->d, cap * sizeof(double));
        s->cap = cap;
    }
    return s->d;
}

/* ---- rate, increase, delta, irate, idelta ---- */

/* Prometheus' extrapolatedRate on floats: last - first (plus the value
 * before every drop when is_counter), extrapolated towards the range
 * edges when the first/last sample lies within 1.1 average intervals of
 * them (else by half an interval), never below a counter's zero point;
 * per second of the range when is_rate. No sample below two points. */
static bool extrapolated_rate(const pq_window_t *w, bool is_counter, bool is_rate, double *out)
{
    if (w->n < 2) {
        return false;
    }
    size_t last = w->n - 1;
    int64_t range_start = w->t_end - w->range_ms;
    int64_t range_end = w->t_end;
    int64_t first_t = w->ts[0];
    int64_t last_t = w->ts[last];
    double result = w->vs[last] - w->vs[0];
    if (is_counter && (!w->resets || w->resets[last] != w->resets[0])) {
        for (size_t i = 1; i < w->n; i++) {
            if (w->vs[i] < w->vs[i - 1]) {
                result += w->vs[i - 1];
            }
        }
    }

    double to_start = (double)(first_t - range_start) / 1000;
    double to_end = (double)(range_end - last_t) / 1000;
    double sampled = (double)(last_t - first_t) / 1000;
    double avg_step = sampled / (double)last;
    double threshold = avg_step * 1.1;
    if (to_start >= threshold) {
        to_start = avg_step / 2;
    }
    if (is_counter) {
        /* Do not extrapolate a counter below zero. */
        double to_zero = to_start;
        if (result > 0 && w->vs[0] >= 0) {
            to_zero = sampled * (w->vs[0] / result);
        }
        if (to_zero < to_start) {
            to_start = to_zero;
        }
    }
    if (to_end >= threshold) {
        to_end = avg_step / 2;
    }
    double factor = 1.0;
    if (sampled != 0) {
        factor = (sampled + to_start + to_end) / sampled;
    }
    if (is_rate) {
        factor /= go_seconds(w->range_ms);
    }
    *out = result * factor;
    return true;
}

/* Prometheus' instantValue on floats: the last two points. irate takes
 * the last value alone after a drop (not after a NaN) and divides by the
 * seconds between the points; equal timestamps give no sample. */
static bool instant_value(const pq_window_t *w, bool is_rate, double *out)
{
    if (w->n < 2) {
        return false;
    }
    int64_t t0 = w->ts[w->n - 2];
    int64_t t1 = w->ts[w->n - 1];
    double v0 = w->vs[w->n - 2];
    double v1 = w->vs[w->n - 1];
    int64_t interval = t1 - t0;
    if (interval == 0) {
        return false;
    }
    double result = v1;
    if (!is_rate || !(v1 < v0)) {
        result = v1 - v0;
    }
    if (is_rate) {
        result /= (double)interval / 1000;
    }
    *out = result;
    return true;
}

/* ---- deriv, predict_linear ---- */

/* Prometheus' linearRegression: least squares over (t - intercept_t in
 * seconds, v) with Kahan sums. A constant series has slope 0 and its
 * value as intercept (NaN for both when that value is infinite). */
static void linear_regression(const pq_window_t *w, int64_t intercept_t, double *slope, double *intercept)
{
    double n = 0;
    double sum_x = 0, c_x = 0;
    double sum_y = 0, c_y = 0;
    double sum_xy = 0, c_xy = 0;
    double sum_x2 = 0, c_x2 = 0;
    double init_y = w->vs[0];
    bool const_y = true;
    for (size_t i = 0; i < w->n; i++) {
        double v = w->vs[i];
        if (const_y && i > 0 && v != init_y) {
            const_y = false;
        }
        n += 1.0;
        double x = (double)(w->ts[i] - intercept_t) / 1e3;
        pq_kahan_inc(x, &sum_x, &c_x);
        pq_kahan_inc(v, &sum_y, &c_y);
        pq_kahan_inc(x * v, &sum_xy, &c_xy);
        pq_kahan_inc(x * x, &sum_x2, &c_x2);
    }
    if (const_y) {
        if (isinf(init_y)) {
            *slope = NAN;
            *intercept = NAN;
            return;
        }
        *slope = 0;
        *intercept = init_y;
        return;
    }
    sum_x += c_x;
    sum_y += c_y;
    sum_xy += c_xy;
    sum_x2 += c_x2;
    double cov_xy = sum_xy - sum_x * sum_y / n;
    double var_x = sum_x2 - sum_x * sum_x / n;
    *slope = cov_xy / var_x;
    *intercept = sum_y / n - *slope * sum_x / n;
}

/* slope * args[0] + the regression's value at w->t_end. Prometheus takes
 * the intercept at the step's evaluation time (enh.Ts), before @ and
 * offset move the window; pq_window_t carries only the moved edge, so
 * under @ or offset the evaluator must pass the step time in t_end for
 * this function (nothing else here reads t_end or range_ms). deriv is
 * the slope alone, x measured from the first point as Prometheus does
 * for accuracy. Both need two points. */
static bool regression(const pq_window_t *w, bool predict, const double *args, double *out)
{
    if (w->n < 2) {
        return false;
    }
    double slope = 0, intercept = 0;
    linear_regression(w, predict ? w->t_end : w->ts[0], &slope, &intercept);
    *out = predict ? slope * args[0] + intercept : slope;
    return true;
}

/* ---- resets, changes ---- */

static double resets(const pq_window_t *w)
{
    size_t n = 0;
    for (size_t i = 1; i < w->n; i++) {
        if (w->vs[i] < w->vs[i - 1]) {
            n++;
        }
    }
    return (double)n;
}

/* A change is any step between unequal values; NaN to NaN is no change. */
static double changes(const pq_window_t *w)
{
    size_t n = 0;
    for (size_t i = 1; i < w->n; i++) {
        double cur = w->vs[i], prev = w->vs[i - 1];
        if (cur != prev && !(isnan(cur) && isnan(prev))) {
            n++;
        }
    }
    return (double)n;
}

/* ---- sums and moments ---- */

void pq_mean_init(pq_mean_t *m, double first)
{
    *m = (pq_mean_t){ .sum = first, .mean = first, .count = 1 };
}

void pq_mean_add(pq_mean_t *m, double v)
{
    m->count++;
    if (!m->incremental) {
        double new_sum = m->sum, new_c = m->c;
        pq_kahan_inc(v, &new_sum, &new_c);
        if (!isinf(new_sum)) {
            m->sum = new_sum;
            m->c = new_c;
            return;
        }
        m->incremental = true;
        m->mean = m->sum / (m->count - 1);
        m->c /= m->count - 1;
    }
    double q = (m->count - 1) / m->count;
    m->mean = q * m->mean;
    m->c = q * m->c;
    pq_kahan_inc(v / m->count, &m->mean, &m->c);
}

double pq_mean_value(const pq_mean_t *m)
{
    return m->incremental ? m->mean + m->c : m->sum / m->count + m->c / m->count;
}

static double avg(const pq_window_t *w)
{
    pq_mean_t m;
    pq_mean_init(&m, w->vs[0]);
    for (size_t i = 1; i < w->n; i++) {
        pq_mean_add(&m, w->vs[i]);
    }
    return pq_mean_value(&m);
}

static double sum(const pq_window_t *w)
{
    double sum = 0, c = 0;
    for (size_t i = 0; i < w->n; i++) {
        pq_kahan_inc(w->vs[i], &sum, &c);
    }
    return isinf(sum) ? sum : sum + c;
}

/* Prometheus' varianceOverTime: Welford's update with the running mean
 * and the sum of squares each Kahan-compensated; population variance. */
static double variance(const pq_window_t *w)
{
    double count = 0;
    double mean = 0, c_mean = 0;
    double aux = 0, c_aux = 0;
    for (size_t i = 0; i < w->n; i++) {
        double v = w->vs[i];
        count++;
        double delta = v - (mean + c_mean);
        pq_kahan_inc(delta / count, &mean, &c_mean);
        pq_kahan_inc(delta * (v - (mean + c_mean)), &aux, &c_aux);
    }
    return (aux + c_aux) / count;
}

/* ---- min, max and their timestamps ---- */

typedef enum cmp_kind {
    CMP_MIN,
    CMP_MAX,
    CMP_TS_MIN, /* ties: the later point wins (<=) */
    CMP_TS_MAX, /* ties: the later point wins (>=) */
} cmp_kind_t;

/* Prometheus' compareOverTime: a scan from the first point in which the
 * current best is replaced when the comparison holds or when it is NaN
 * (so a NaN gives way to any later point). Returns the value, or the
 * winner's timestamp in seconds for the ts_of_ kinds. */
static double compare_over_time(const pq_window_t *w, cmp_kind_t kind)
{
    double best = w->vs[0];
    int64_t best_t = w->ts[0];
    for (size_t i = 0; i < w->n; i++) {
        double cur = w->vs[i];
        bool take = isnan(best);
        switch (kind) {
        case CMP_MIN:
            take = take || cur < best;
            break;
        case CMP_MAX:
            take = take || cur > best;
            break;
        case CMP_TS_MIN:
            take = take || cur <= best;
            break;
        case CMP_TS_MAX:
            take = take || cur >= best;
            break;
        }
        if (take) {
            best = cur;
            best_t = w->ts[i];
        }
    }
    if (kind == CMP_TS_MIN || kind == CMP_TS_MAX) {
        return (double)best_t / 1000;
    }
    return best;
}

/* ---- quantile, mad ---- */

/* quantile(args[0]) of the values, sorted in w->scratch. A q that is NaN
 * or outside [0, 1] raises PQ_ANN_QUANTILE_RANGE (as Prometheus warns for
 * all three) and yields NaN, -Inf or +Inf. */
static double quantile(const pq_window_t *w, const double *args, unsigned *ann)
{
    double q = args[0];
    if (isnan(q) || q < 0 || q > 1) {
        *ann |= PQ_ANN_QUANTILE_RANGE;
    }
    double *d = scratch_reserve(w, w->n);
    memcpy(d, w->vs, w->n * sizeof(double));
    return pq_quantile(q, d, w->n);
}

/* Median of |v - median(v)|, both medians by quantile(0.5). A NaN
 * anywhere gives NaN (Prometheus 3.14 returns early rather than letting
 * the NaN sort first and vanish from the median). The deviations are
 * taken over the sorted values, as Prometheus does. */
static double mad(const pq_window_t *w)
{
    for (size_t i = 0; i < w->n; i++) {
        if (isnan(w->vs[i])) {
            return NAN;
        }
    }
    double *d = scratch_reserve(w, w->n);
    memcpy(d, w->vs, w->n * sizeof(double));
    double median = pq_quantile(0.5, d, w->n);
    for (size_t i = 0; i < w->n; i++) {
        d[i] = fabs(d[i] - median);
    }
    return pq_quantile(0.5, d, w->n);
}

/* ---- double_exponential_smoothing ---- */

/* Prometheus' calcTrendValue: the initial trend at i == 0. */
static double trend_value(size_t i, double tf, double s0, double s1, double b)
{
    if (i == 0) {
        return b;
    }
    double x = tf * (s1 - s0);
    double y = (1 - tf) * b;
    return x + y;
}

/* Holt's linear smoothing with sf = args[0], tf = args[1] (validated by
 * the evaluator: both in (0, 1)); the last smoothed value. Needs two
 * points. */
static bool double_exponential_smoothing(const pq_window_t *w, const double *args, double *out)
{
    if (w->n < 2) {
        return false;
    }
    double sf = args[0], tf = args[1];
    double s0 = 0, s1 = w->vs[0];
    double b = w->vs[1] - w->vs[0];
    for (size_t i = 1; i < w->n; i++) {
        double x = sf * w->vs[i];
        b = trend_value(i - 1, tf, s0, s1, b);
        double y = (1 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
    }
    *out = s1;
    return true;
}

/* ---- the table ---- */

typedef enum range_op {
    OP_AVG,
    OP_CHANGES,
    OP_COUNT,
    OP_DELTA,
    OP_DERIV,
    OP_DES,
    OP_FIRST,
    OP_IDELTA,
    OP_INCREASE,
    OP_IRATE,
    OP_LAST,
    OP_MAD,
    OP_MAX,
    OP_MIN,
    OP_PREDICT_LINEAR,
    OP_PRESENT,
    OP_QUANTILE,
    OP_RATE,
    OP_RESETS,
    OP_STDDEV,
    OP_STDVAR,
    OP_SUM,
    OP_TS_FIRST,
    OP_TS_LAST,
    OP_TS_MAX,
    OP_TS_MIN,
} range_op_t;

struct pq_range_def {
    const char *name;
    range_op_t op;
};

static const pq_range_def_t range_fns[] = {
    { .name = "avg_over_time", .op = OP_AVG },
    { .name = "changes", .op = OP_CHANGES },
    { .name = "count_over_time", .op = OP_COUNT },
    { .name = "delta", .op = OP_DELTA },
    { .name = "deriv", .op = OP_DERIV },
    { .name = "double_exponential_smoothing", .op = OP_DES },
    { .name = "first_over_time", .op = OP_FIRST },
    { .name = "idelta", .op = OP_IDELTA },
    { .name = "increase", .op = OP_INCREASE },
    { .name = "irate", .op = OP_IRATE },
    { .name = "last_over_time", .op = OP_LAST },
    { .name = "mad_over_time", .op = OP_MAD },
    { .name = "max_over_time", .op = OP_MAX },
    { .name = "min_over_time", .op = OP_MIN },
    { .name = "predict_linear", .op = OP_PREDICT_LINEAR },
    { .name = "present_over_time", .op = OP_PRESENT },
    { .name = "quantile_over_time", .op = OP_QUANTILE },
    { .name = "rate", .op = OP_RATE },
    { .name = "resets", .op = OP_RESETS },
    { .name = "stddev_over_time", .op = OP_STDDEV },
    { .name = "stdvar_over_time", .op = OP_STDVAR },
    { .name = "sum_over_time", .op = OP_SUM },
    { .name = "ts_of_first_over_time", .op = OP_TS_FIRST },
    { .name = "ts_of_last_over_time", .op = OP_TS_LAST },
    { .name = "ts_of_max_over_time", .op = OP_TS_MAX },
    { .name = "ts_of_min_over_time", .op = OP_TS_MIN },
};

/* The function of a window of at least one point that always yields a
 * sample: everything but the two-point functions in pq_range_apply. */
static double window_value(range_op_t op, const pq_window_t *w, const double *args, unsigned *ann)
{
    switch (op) {
    case OP_AVG:
        return avg(w);
    case OP_CHANGES:
        return changes(w);
    case OP_COUNT:
        return (double)w->n;
    case OP_FIRST:
        return w->vs[0];
    case OP_LAST:
        return w->vs[w->n - 1];
    case OP_MAD:
        return mad(w);
    case OP_MAX:
        return compare_over_time(w, CMP_MAX);
    case OP_MIN:
        return compare_over_time(w, CMP_MIN);
    case OP_QUANTILE:
        return quantile(w, args, ann);
    case OP_RESETS:
        return resets(w);
    case OP_STDDEV:
        return sqrt(variance(w));
    case OP_STDVAR:
        return variance(w);
    case OP_SUM:
        return sum(w);
    case OP_TS_FIRST:
        return (double)w->ts[0] / 1000;
    case OP_TS_LAST:
        return (double)w->ts[w->n - 1] / 1000;
    case OP_TS_MAX:
        return compare_over_time(w, CMP_TS_MAX);
    case OP_TS_MIN:
        return compare_over_time(w, CMP_TS_MIN);
    default: /* OP_PRESENT */
        assert(op == OP_PRESENT);
        return 1;
    }
}

bool pq_range_apply(const pq_range_def_t *fn, const pq_window_t *w, const double *args, double *out, unsigned *ann)
{
    assert(fn != NULL && w != NULL && out != NULL && ann != NULL);
    if (w->n == 0) {
        return false;
    }
    switch (fn->op) {
    case OP_RATE:
        return extrapolated_rate(w, true, true, out);
    case OP_INCREASE:
        return extrapolated_rate(w, true, false, out);
    case OP_DELTA:
        return extrapolated_rate(w, false, false, out);
    case OP_IRATE:
        return instant_value(w, true, out);
    case OP_IDELTA:
        return instant_value(w, false, out);
    case OP_DERIV:
        return regression(w, false, args, out);
    case OP_PREDICT_LINEAR:
        assert(args != NULL);
        return regression(w, true, args, out);
    case OP_DES:
        assert(args != NULL);
        return double_exponential_smoothing(w, args, out);
    default:
        assert(fn->op != OP_QUANTILE || args != NULL);
        *out = window_value(fn->op, w, args, ann);
        return true;
    }
}

/* The row of a range function, or NULL for any other name
 * (absent_over_time included). A scan of the 26-row table. */
const pq_range_def_t *pq_range_fn_lookup(const char *name)
{
    if (name == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof(range_fns) / sizeof(range_fns[0]); i++) {
        if (strcmp(range_fns[i].name, name) == 0) {
            return &range_fns[i];
        }
    }
    return NULL;
}

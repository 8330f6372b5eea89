/* SPDX-License-Identifier: Apache-2.0 */
/*
 * promql_fn_hist: Prometheus' BucketQuantile (promql/quantile.go, 3.14),
 * the classic-histogram half of histogram_quantile().
 *
 * Steps, each as in Go: sort by upper bound; NaN unless the highest bound
 * is +Inf; merge buckets with equal bounds by summing their counts; then
 * ensureMonotonicAndIgnoreSmallDeltas: a count within a relative 1e-12 of
 * the last accepted count (almost.Equal, either direction) is silently set
 * to it, a real decrease is raised to it and reported (PQ_ANN_BUCKET_FIXED);
 * neither updates the accepted count. As in 3.14 the report stands even
 * when the result is then NaN (fewer than two buckets, no observations).
 * rank = q * total; sort.Search over all but the +Inf bucket finds the
 * first count >= rank; the +Inf bucket yields the second-highest bound, a
 * first bucket with bound <= 0 yields that bound, otherwise interpolate
 * linearly, from 0 in a first bucket with a positive bound.
 *
 * Sorting: Go's slices.SortFunc is insertion sort up to 12 elements and
 * pdqsort above. Insertion sort (the same comparator, NaN "equal" to all)
 * is used up to 12 and a stable merge sort above, so results match Go
 * except for three or more equal bounds in more than 12 buckets, whose sum
 * order may differ (float addition is not associative), or NaN bounds.
 * Arithmetic follows amd64 Go: no fused multiply-add. pq_bucket_fraction
 * (BucketFraction) shares the sort and merge but not the monotonicity fix.
 */
#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "query/promql_int.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#define PQ_SMALL_DELTA_TOLERANCE 1e-12
#define PQ_INSERTION_MAX 12 /* Go's maxInsertion in pdqsort */
#define PQ_MIN_NORMAL 0x1p-1022

/* Go's comparator: -1, 0 or +1; anything involving NaN compares equal. */
static int pq_bucket_cmp(const pq_bucket_t *a, const pq_bucket_t *b)
{
    if (a->upper < b->upper) {
        return -1;
    }
    if (a->upper > b->upper) {
        return 1;
    }
    return 0;
}

static void pq_insertion_sort(pq_bucket_t *b, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && pq_bucket_cmp(&b[j], &b[j - 1]) < 0; j--) {
            pq_bucket_t t = b[j];
            b[j] = b[j - 1];
            b[j - 1] = t;
        }
    }
}

/* Bottom-up stable merge sort through tmp (room for n). */
static void pq_merge_sort(pq_bucket_t *b, size_t n, pq_bucket_t *tmp)
{
    pq_bucket_t *src = b, *dst = tmp;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                dst[k++] = pq_bucket_cmp(&src[j], &src[i]) < 0 ? src[j++] : src[i++];
            }
            while (i < mid) {
                dst[k++] = src[i++];
            }
            while (j < hi) {
                dst[k++] = src[j++];
            }
        }
        pq_bucket_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != b) {
        memcpy(b, src, n * sizeof(*b));
    }
}

/* Go's math.Min for the one use below: NaN if either is NaN, else the
 * smaller (-Inf cannot occur: the argument is a sum of magnitudes). */
static double pq_go_min(double x, double y)
{
    if (isnan(x) || isnan(y)) {
        return NAN;
    }
    return x < y ? x : y;
}

/* util/almost.Equal. */
static bool pq_almost_equal(double a, double b, double epsilon)
{
    if (isnan(a) && isnan(b)) {
        return true;
    }
    if (a == b) {
        return true;
    }
    double abs_sum = fabs(a) + fabs(b);
    double diff = fabs(a - b);
    if (a == 0 || b == 0 || abs_sum < PQ_MIN_NORMAL) {
        return diff < epsilon * PQ_MIN_NORMAL;
    }
    return diff / pq_go_min(abs_sum, 0x1.fffffffffffffp+1023) < epsilon;
}

/* coalesceBuckets over sorted b; returns the new count (n > 0). */
static size_t pq_coalesce(pq_bucket_t *b, size_t n)
{
    pq_bucket_t last = b[0];
    size_t i = 0;
    for (size_t k = 1; k < n; k++) {
        if (b[k].upper == last.upper) {
            last.count += b[k].count;
        } else {
            b[i++] = last;
            last = b[k];
        }
    }
    b[i] = last;
    return i + 1;
}

/* ensureMonotonicAndIgnoreSmallDeltas; true when a decrease was forced. */
static bool pq_ensure_monotonic(pq_bucket_t *b, size_t n, double tolerance)
{
    bool forced = false;
    double prev = b[0].count;
    for (size_t i = 1; i < n; i++) {
        double curr = b[i].count;
        if (curr == prev) {
            continue;
        }
        if (pq_almost_equal(prev, curr, tolerance)) {
            b[i].count = prev; /* precision noise: fixed silently */
            continue;
        }
        if (curr < prev) {
            b[i].count = prev;
            forced = true;
            continue;
        }
        prev = curr;
    }
    return forced;
}

/* Sort b[0..n) by upper bound as Go does and merge equal bounds; the
 * remaining count, or 0 when the highest bound is not +Inf. */
static size_t pq_prepare_buckets(pq_bucket_t *b, size_t n, pq_bucket_t *tmp)
{
    if (n <= PQ_INSERTION_MAX) {
        pq_insertion_sort(b, n);
    } else {
        assert(tmp != NULL);
        pq_merge_sort(b, n, tmp);
    }
    if (!(isinf(b[n - 1].upper) && b[n - 1].upper > 0)) {
        return 0;
    }
    return pq_coalesce(b, n);
}

double pq_bucket_quantile(double q, pq_bucket_t *b, size_t n, pq_bucket_t *tmp, unsigned *ann)
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
    if (n == 0 || !b) {
        return NAN; /* Go would index out of range; histogram_quantile never asks */
    }
    n = pq_prepare_buckets(b, n, tmp);
    if (n == 0) {
        return NAN;
    }
    if (pq_ensure_monotonic(b, n, PQ_SMALL_DELTA_TOLERANCE) && ann) {
        *ann |= PQ_ANN_BUCKET_FIXED;
    }
    if (n < 2) {
        return NAN;
    }
    double observations = b[n - 1].count;
    if (observations == 0) {
        return NAN;
    }
    double rank = q * observations;
    /* sort.Search(n-1, count >= rank), with Go's midpoint. */
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (!(b[mid].count >= rank)) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    size_t k = lo;
    if (k == n - 1) {
        return b[n - 2].upper;
    }
    if (k == 0 && b[0].upper <= 0) {
        return b[0].upper;
    }
    double start = 0;
    double end = b[k].upper;
    double count = b[k].count;
    if (k > 0) {
        start = b[k - 1].upper;
        count -= b[k - 1].count;
        rank -= b[k - 1].count;
    }
    return start + (end - start) * (rank / count);
}

double pq_bucket_fraction(double lower, double upper, pq_bucket_t *b, size_t n, pq_bucket_t *tmp, unsigned *ann)
{
    (void)ann;
    if (n == 0 || !b) {
        return NAN;
    }
    n = pq_prepare_buckets(b, n, tmp);
    if (n == 0) {
        return NAN;
    }
    double count = b[n - 1].count;
    if (count == 0 || isnan(lower) || isnan(upper)) {
        return NAN;
    }
    if (lower >= upper) {
        return 0;
    }
    double rank = 0, lower_rank = 0, upper_rank = 0;
    bool lower_set = false, upper_set = false;
    /* Positive-only buckets when the first bound is above 0: the first
     * bucket starts at 0; otherwise at -Inf. */
    double lower_bound = b[0].upper <= 0 ? -INFINITY : 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            lower_bound = b[i - 1].upper;
        }
        double upper_bound = b[i].upper;
        if (!lower_set && lower_bound >= lower) {
            lower_rank = rank;
            lower_set = true;
        }
        if (!upper_set && lower_bound >= upper) {
            upper_rank = rank;
            upper_set = true;
        }
        if (lower_set && upper_set) {
            break;
        }
        if (!lower_set && lower_bound < lower && upper_bound > lower) {
            lower_rank = isinf(lower_bound) && lower_bound < 0
                             ? b[i].count
                             : rank + (b[i].count - rank) * (lower - lower_bound) / (upper_bound - lower_bound);
            lower_set = true;
        }
        if (!upper_set && lower_bound < upper && upper_bound > upper) {
            upper_rank = isinf(lower_bound) && lower_bound < 0
                             ? b[i].count
                             : rank + (b[i].count - rank) * (upper - lower_bound) / (upper_bound - lower_bound);
            upper_set = true;
        }
        if (lower_set && upper_set) {
            break;
        }
        rank = b[i].count; /* cumulative counts: assignment */
    }
    if (!lower_set || lower_rank > count) {
        lower_rank = count;
    }
    if (!upper_set || upper_rank > count) {
        upper_rank = count;
    }
    return (upper_rank - lower_rank) / count;
}

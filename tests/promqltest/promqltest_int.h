/* SPDX-License-Identifier: Apache-2.0 */
/*
 * promqltest_int: what the runner (promqltest.c), the eval execution
 * (promqltest_exec.c) and the result comparison (promqltest_cmp.c) share.
 * The comparison is pure: an evaluator result and a parsed eval in, a
 * verdict and a compact description out.
 */
#ifndef PHAROS_TESTS_PROMQLTEST_INT_H
#define PHAROS_TESTS_PROMQLTEST_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "promqltest.h"
#include "query/promql.h"
#include "tsdb/tsdb.h"

/* Upstream's relative tolerance for sample values (defaultEpsilon). */
#define PROMQLTEST_EPSILON 1e-6

/* Why a result did not match. kind is a static category ("wrong value",
 * "missing series", ...); why holds one line per problem (at most a few). */
typedef struct promqltest_diff {
    const char *kind; /* NULL while nothing differs */
    bool range_mode;  /* found by the range-mode re-run of an instant eval */
    size_t nissues;
    buf_t why;
} promqltest_diff_t;

/* upstream's almost.Equal(a, b, 1e-6), with StaleNaN equal only to
 * StaleNaN: NaN matches NaN; when either side is 0 the values must be
 * equal to within 1e-6 * the smallest normal double. */
bool promqltest_cmp_almost_equal(double a, double b);

/* Compare res with ev's expected result as upstream's compareResult does:
 * unordered series sets (ordered when ev->ordered, for vectors), matrix
 * points expected at start + i*step and never past end, matrices sorted by
 * labels. true when equal; otherwise false with d->kind set and the
 * problems appended to d->why. Work: O(result series * expected series). */
bool promqltest_cmp_result(const promqltest_eval_t *ev, const promql_result_t *res, int64_t start, int64_t end,
                           int64_t step, promqltest_diff_t *d);

/* Upstream's range-mode check of an instant eval: from rng (the matrix of
 * the query run from t-1m to t+1m by 1m) take each series' point at t and
 * compare those as a vector (or, when inst is a scalar, the first as a
 * scalar) with ev's expectation. Temporary arrays come from a. */
bool promqltest_cmp_range_mode(const promqltest_eval_t *ev, const promql_result_t *inst, const promql_result_t *rng,
                               int64_t t, arena_t *a, promqltest_diff_t *d);

/* Append v as the test scripts write it ("stale", "NaN", "+Inf", shortest
 * round-tripping decimal). */
void promqltest_cmp_format_value(double v, buf_t *out);
/* Append name{a="b"} (or {} / {a="b"} without a name). */
void promqltest_cmp_format_labels(const label_t *ls, size_t n, buf_t *out);
/* Append a one-line summary of res / of ev's expectation, at most max series. */
void promqltest_cmp_format_result(const promql_result_t *res, size_t max, buf_t *out);
void promqltest_cmp_format_expected(const promqltest_eval_t *ev, size_t max, buf_t *out);

typedef enum promqltest_verdict {
    PROMQLTEST_PASS = 0,
    PROMQLTEST_FAIL,
    PROMQLTEST_MSG_MISMATCH, /* failed as expected, with another error text */
} promqltest_verdict_t;

/* What running one eval gave. */
typedef struct promqltest_outcome {
    promqltest_verdict_t verdict;
    bool range_mode; /* the difference came from the range-mode re-run */
    bool at_rerun;   /* ... from the @ re-run, evaluated at at_time */
    int64_t at_time;
    bool anno_checked; /* the eval states annotation expectations */
    char kind[64];     /* the failure's category ("wrong value", "crash", ...) */
    char detail[160];  /* to group by: the query's outermost operation, or the error text with digits as N */
    buf_t why;         /* the failure or message mismatch: lines indented by 4 */
    buf_t anno;        /* annotation mismatches, the same way; empty when none */
    buf_t got;         /* one-line summary of the result that failed; empty when there was none */
} promqltest_outcome_t;

void promqltest_outcome_init(promqltest_outcome_t *o);
void promqltest_outcome_fini(promqltest_outcome_t *o);

typedef struct promqltest_exec_opts {
    bool isolate;  /* run in a forked child: a crash or hang becomes a failed outcome */
    int errfd;     /* the child's stderr (sanitizer reports are read back from it); -1: inherited */
    bool at_rerun; /* upstream's @ re-run of instant evals */
} promqltest_exec_opts_t;

/* Run ev against db as upstream's harness does (see promqltest_exec.c),
 * filling the initialised [out] *o. Query memory comes from a (reset
 * first). Work: at most 12 evaluations of the query (instant, range mode,
 * and both again at up to five @ re-run times). */
void promqltest_exec_eval(tsdb_t *db, const promqltest_eval_t *ev, arena_t *a, const promqltest_exec_opts_t *opts,
                          promqltest_outcome_t *o);

/* msg with each digit run replaced by N, newlines by spaces, cut at 100
 * bytes: a grouping key for error texts. */
void promqltest_exec_normalize(const char *msg, char *out, size_t len);

#endif

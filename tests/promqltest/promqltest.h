/* SPDX-License-Identifier: Apache-2.0 */
/*
 * promqltest: Prometheus' PromQL test-script language (promql/promqltest
 * in Prometheus, see UPSTREAM-promqltest-README.md next to the scripts),
 * parsed into commands that the promqltest runner executes against the
 * tsdb and the evaluator.
 *
 * The parser is pure: text in, commands out, everything allocated from the
 * caller's arena. It never gives up on a file: a malformed line becomes a
 * diagnostic (1-based line, reason), the rest of its block is skipped (up
 * to the next empty or comment line) and parsing goes on, so one bad line
 * costs one failure, not the file.
 *
 * Semantics follow upstream's test.go: lines are trimmed; a '#' line is an
 * empty line and an empty line ends a block. Values use the series
 * expanding notation: a+bxn and a-bxn give n+1 values computed by repeated
 * addition (as upstream's grammar does), axn gives n+1 copies, _xn gives n
 * gaps, "stale" is the StaleNaN bit pattern. Hex is not a series value
 * (upstream forbids it there: "0x3" is "0 three more times"); a scalar
 * result line is read as Go's ParseInt(s, 0, 64) then ParseFloat, so it
 * may be hex. Native histogram values ({{...}}) are not decoded: the line
 * keeps its labels and is marked histogram.
 */
#ifndef PHAROS_TESTS_PROMQLTEST_H
#define PHAROS_TESTS_PROMQLTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/labels.h"
#include "query/promql.h"

/* Most values one series line may expand to (bounds memory on hostile input). */
#define PROMQLTEST_MAX_POINTS PROMQL_SERIES_MAX_POINTS

/* One value of a series line ("_": omitted), the product's series notation. */
typedef promql_series_point_t promqltest_point_t;

/* One "<series> <values>" line of a load block or an eval's expected result. */
typedef struct promqltest_series {
    label_t *labels; /* sorted by name, empty values dropped; arena-owned */
    size_t nlabels;
    promqltest_point_t *pts; /* NULL when histogram */
    size_t npts;
    bool histogram; /* the values held {{...}}: not decoded */
    unsigned line;
} promqltest_series_t;

typedef enum promqltest_expect_kind {
    PROMQLTEST_EXPECT_ORDERED = 0,
    PROMQLTEST_EXPECT_FAIL,
    PROMQLTEST_EXPECT_WARN,
    PROMQLTEST_EXPECT_NO_WARN,
    PROMQLTEST_EXPECT_INFO,
    PROMQLTEST_EXPECT_NO_INFO,
} promqltest_expect_kind_t;

typedef enum promqltest_match {
    PROMQLTEST_MATCH_ANY = 0, /* no msg:/regex: part */
    PROMQLTEST_MATCH_MSG,     /* exact text */
    PROMQLTEST_MATCH_REGEX,   /* unanchored regular expression */
} promqltest_match_t;

/* "expect <kind> [msg|regex: <text>]" (and the deprecated expected_fail_*). */
typedef struct promqltest_expect {
    promqltest_expect_kind_t kind;
    promqltest_match_t match;
    const char *text; /* trimmed, NUL-terminated, arena-owned; "" for ANY */
    size_t text_len;
    unsigned line;
} promqltest_expect_t;

typedef struct promqltest_eval {
    const char *query; /* NUL-terminated, arena-owned */
    size_t query_len;
    bool range;               /* eval range: start..end by step */
    int64_t start, end, step; /* ms; instant: start == end, step 0 */
    bool ordered, fail;       /* expect ordered / fail, or eval_ordered / eval_fail */
    bool warn, info;          /* the deprecated eval_warn / eval_info */
    promqltest_expect_t *expects;
    size_t nexpects;
    bool range_vector;                 /* expect range vector from A to B step S */
    int64_t rv_start, rv_end, rv_step; /* ms */
    bool has_string;                   /* expect string "..." */
    const char *string;                /* unquoted, arena-owned */
    size_t string_len;
    bool expect_scalar; /* a bare number line */
    double scalar;
    promqltest_series_t *series; /* in file order */
    size_t nseries;
    bool histogram; /* an expected line held {{...}} */
    unsigned line;
} promqltest_eval_t;

typedef struct promqltest_load {
    int64_t interval_ms;
    bool nhcb; /* load_with_nhcb */
    promqltest_series_t *series;
    size_t nseries;
    size_t st_lines; /* "metric@st ..." start-timestamp lines, ignored */
} promqltest_load_t;

typedef enum promqltest_cmd_kind {
    PROMQLTEST_CMD_LOAD = 0,
    PROMQLTEST_CMD_CLEAR,
    PROMQLTEST_CMD_EVAL,
} promqltest_cmd_kind_t;

typedef struct promqltest_cmd {
    promqltest_cmd_kind_t kind;
    unsigned line;
    union {
        promqltest_load_t load;
        promqltest_eval_t eval;
    } u;
} promqltest_cmd_t;

typedef struct promqltest_diag {
    unsigned line;
    char msg[240];
} promqltest_diag_t;

typedef struct promqltest_script {
    promqltest_cmd_t *cmds; /* in file order */
    size_t ncmds;
    promqltest_diag_t *diags; /* malformed lines, in file order */
    size_t ndiags;
} promqltest_script_t;

/* Parse a whole script text[0..len) into [out] *out, allocated from a.
 * Returns the number of diagnostics (0: the script is well formed); the
 * commands of well-formed blocks are kept either way. Work is linear in
 * len plus the values expanded (at most PROMQLTEST_MAX_POINTS per line). */
size_t promqltest_parse(const char *text, size_t len, arena_t *a, promqltest_script_t *out);

/* One series line "<selector> <values>" (upstream's ParseSeriesDesc):
 * 0 and [out] *out (arena-owned), or -1 with a reason naming the byte
 * offset in err. A line holding "{{" is histogram: only its labels are
 * read. The caller sets out->line. */
int promqltest_parse_series(const char *s, size_t len, arena_t *a, promqltest_series_t *out, char *err, size_t errlen);

/* The values part of a series line: 0 with [out] *pts and *n (arena), or
 * -1 with err set. */
int promqltest_parse_values(const char *s, size_t len, arena_t *a, promqltest_point_t **pts, size_t *n, char *err,
                            size_t errlen);

/* One "expect ..." line (not "expect string" nor "expect range vector"):
 * 0 and [out] *out, or -1 with err set. */
int promqltest_parse_expect(const char *s, size_t len, arena_t *a, promqltest_expect_t *out, char *err, size_t errlen);

/* A scalar result line as upstream's parseNumber reads it: Go's
 * ParseInt(s, 0, 64) (0x, 0o, 0b prefixes, leading-0 octal, '_'
 * separators), else ParseFloat. true and [out] *out, or false. */
bool promqltest_parse_number(const char *s, size_t len, double *out);

/* A quoted string as Go's strconv.Unquote reads "..." and `...` (and
 * PromQL's '...'): true with the unquoted bytes in [out] *out and *n
 * (arena), or false. */
bool promqltest_parse_unquote(const char *s, size_t len, arena_t *a, char **out, size_t *n);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * promql: the PromQL front end: parse a query into an arena-allocated AST,
 * type-check it as Prometheus 3.x does, and print it back as Prometheus'
 * String() does.
 *
 * The AST structs are public (unlike the opaque-struct rule) because the
 * evaluator, the API handlers and the tests all walk the tree; nodes are
 * immutable after promql_parse returns. Every node, name and label list
 * lives in the caller's arena. Label matchers are matcher_t (common/matcher.h)
 * whose compiled regexes sit on the heap: a successful parse must be
 * followed by promql_release() before the arena is reset.
 *
 * Errors carry the 1-based line and column and the byte offset of the
 * offending token, and a message formatted exactly as Prometheus formats
 * a parse error ("1:14: parse error: unexpected <op:*>"). Only the first
 * error is kept, which is what Prometheus' ParseErrors.Error() prints.
 * Experimental Prometheus functions and the limitk/limit_ratio
 * aggregations are always enabled (as with --enable-feature=
 * promql-experimental-functions). Quoted (UTF-8) label names are parsed;
 * duration arithmetic inside brackets and the newest keywords (fill,
 * smoothed, anchored) are not.
 */
#ifndef PHAROS_QUERY_PROMQL_H
#define PHAROS_QUERY_PROMQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/httpd.h"
#include "common/labels.h"
#include "common/matcher.h"
#include "tsdb/tsdb.h"

typedef enum promql_type {
    PROMQL_TYPE_NONE = 0,
    PROMQL_TYPE_SCALAR,
    PROMQL_TYPE_VECTOR,
    PROMQL_TYPE_MATRIX,
    PROMQL_TYPE_STRING,
} promql_type_t;

typedef enum promql_kind {
    PROMQL_NUMBER = 0,
    PROMQL_STRING,
    PROMQL_VECTOR_SEL,
    PROMQL_MATRIX_SEL,
    PROMQL_SUBQUERY,
    PROMQL_CALL,
    PROMQL_AGGREGATE,
    PROMQL_BINARY,
    PROMQL_UNARY,
    PROMQL_PAREN,
} promql_kind_t;

/* Binary operators; set operators last. */
typedef enum promql_op {
    PROMQL_OP_ADD = 0,
    PROMQL_OP_SUB,
    PROMQL_OP_MUL,
    PROMQL_OP_DIV,
    PROMQL_OP_MOD,
    PROMQL_OP_POW,
    PROMQL_OP_ATAN2,
    PROMQL_OP_EQLC,
    PROMQL_OP_NEQ,
    PROMQL_OP_GTR,
    PROMQL_OP_LSS,
    PROMQL_OP_GTE,
    PROMQL_OP_LTE,
    PROMQL_OP_AND,
    PROMQL_OP_OR,
    PROMQL_OP_UNLESS,
} promql_op_t;

typedef enum promql_agg_op {
    PROMQL_AGG_SUM = 0,
    PROMQL_AGG_AVG,
    PROMQL_AGG_COUNT,
    PROMQL_AGG_MIN,
    PROMQL_AGG_MAX,
    PROMQL_AGG_GROUP,
    PROMQL_AGG_STDDEV,
    PROMQL_AGG_STDVAR,
    PROMQL_AGG_TOPK,
    PROMQL_AGG_BOTTOMK,
    PROMQL_AGG_QUANTILE,
    PROMQL_AGG_COUNT_VALUES,
    PROMQL_AGG_LIMITK,
    PROMQL_AGG_LIMIT_RATIO,
} promql_agg_op_t;

typedef enum promql_card {
    PROMQL_CARD_ONE_TO_ONE = 0,
    PROMQL_CARD_MANY_TO_ONE,  /* group_left */
    PROMQL_CARD_ONE_TO_MANY,  /* group_right */
    PROMQL_CARD_MANY_TO_MANY, /* set operators */
} promql_card_t;

typedef enum promql_at {
    PROMQL_AT_NONE = 0,
    PROMQL_AT_TIMESTAMP,
    PROMQL_AT_START,
    PROMQL_AT_END,
} promql_at_t;

#define PROMQL_MAX_ARGS 5

/* One row of the function table (promql_ast.c). variadic: 0 = exactly
 * nargs; n > 0 = the last n of args are optional; -1 = the last arg type
 * repeats without bound. */
typedef struct promql_func {
    const char *name;
    promql_type_t args[PROMQL_MAX_ARGS];
    int nargs;
    int variadic;
    promql_type_t ret;
    bool native_histogram_only;
    bool experimental;
} promql_func_t;

/* Byte range [start, end) of a node in the query text. */
typedef struct promql_pos {
    uint32_t start;
    uint32_t end;
} promql_pos_t;

/* A list of label names (by/without, on/ignoring, group_x). */
typedef struct promql_labels {
    char **names; /* NUL-terminated, arena-owned */
    size_t n;
} promql_labels_t;

typedef struct promql_node promql_node_t;

struct promql_node {
    promql_kind_t kind;
    promql_pos_t pos;
    union {
        struct {
            double val;
            bool duration; /* written as a duration: printed as one */
        } num;
        struct {
            char *val; /* unquoted, NUL-terminated, may hold NULs */
            size_t len;
        } str;
        struct {
            char *name;          /* "" when given only inside braces */
            matcher_t *matchers; /* includes __name__="<name>" last when name set */
            size_t nmatchers;
            int64_t offset_ms;
            promql_at_t at;
            int64_t at_ms;
        } vs;
        struct {
            promql_node_t *vs; /* PROMQL_VECTOR_SEL: holds offset and @ */
            int64_t range_ms;
        } ms;
        struct {
            promql_node_t *expr;
            int64_t range_ms;
            int64_t step_ms; /* 0: the query's default */
            int64_t offset_ms;
            promql_at_t at;
            int64_t at_ms;
        } sq;
        struct {
            const promql_func_t *func;
            promql_node_t **args;
            size_t nargs;
        } call;
        struct {
            promql_agg_op_t op;
            bool without;
            promql_labels_t grouping;
            promql_node_t *param; /* NULL unless topk bottomk quantile count_values limitk limit_ratio */
            promql_node_t *expr;
        } agg;
        struct {
            promql_op_t op;
            bool return_bool;
            promql_node_t *lhs;
            promql_node_t *rhs;
            bool matching; /* false for scalar operands (no vector matching) */
            promql_card_t card;
            bool on;
            promql_labels_t labels;  /* on/ignoring */
            promql_labels_t include; /* group_left/group_right */
        } bin;
        struct {
            bool neg;
            promql_node_t *expr;
        } unary;
        struct {
            promql_node_t *expr;
        } paren;
    } u;
};

typedef struct promql_error {
    unsigned line; /* 1-based */
    unsigned col;  /* 1-based byte column within the line */
    size_t pos;    /* byte offset in the query */
    char msg[512]; /* "<line>:<col>: parse error: <text>" */
} promql_error_t;

/* Parse q[0..len) into a type-checked AST allocated from a. Returns 0 and
 * sets *out, or -1 with *err filled (nothing to release). Work is linear in
 * len except for regex compilation; nesting depth is bounded (deeper input
 * is an error), so hostile input cannot exhaust the stack. */
int promql_parse(const char *q, size_t len, arena_t *a, promql_node_t **out, promql_error_t *err);

/* Parse a series selector (match[] of the series, export and label APIs):
 * a PromQL vector selector without offset or @. 0 and *out, or -1 with
 * *err filled. Release *out with promql_release. */
int promql_parse_selector(const char *q, size_t len, arena_t *a, promql_node_t **out, promql_error_t *err);

/* Release the heap held by the matchers of a parsed tree (compiled
 * regexes). NULL is a no-op; the nodes themselves stay in the arena. */
void promql_release(promql_node_t *n);

/* Append n printed as Prometheus' Expr.String() prints it. */
void promql_format(const promql_node_t *n, buf_t *out);

/* The value type an expression yields. */
promql_type_t promql_node_type(const promql_node_t *n);

/* Function table lookup by name; NULL when unknown. */
const promql_func_t *promql_func_lookup(const char *name, size_t len);

/* Names as Prometheus prints them ("+", "and", "sum", "instant vector"). */
const char *promql_op_str(promql_op_t op);
const char *promql_agg_op_str(promql_agg_op_t op);
const char *promql_type_str(promql_type_t t);

/* ---- evaluation (promql_eval.c and friends) ----
 *
 * An evaluation reads float samples through a promql_source_t (the tsdb's
 * select, or a test's), evaluates a parsed tree at the steps start,
 * start+step, ..., end (an instant query is start == end, step 0) with
 * Prometheus 3's semantics, and leaves the result in the caller's arena. */

typedef struct promql_source {
    /* tsdb_select's contract, with ctx for the store. */
    int (*select)(void *ctx, matcher_t *ms, size_t nms, int64_t mint, int64_t maxt, tsdb_select_fn fn, void *fn_ctx);
    void *ctx;
} promql_source_t;

/* A source reading db (borrowed for the source's life). */
promql_source_t promql_source_tsdb(tsdb_t *db);

typedef struct promql_engine_opts {
    int64_t lookback_ms;       /* 0: 5m */
    double timeout_s;          /* wall time per query; 0: none */
    uint64_t max_samples;      /* samples held at once, counted as Prometheus counts them (raw
                                * samples read: at most 4x this); 0: 50,000,000 */
    bool delayed_name_removal; /* Prometheus' promql-delayed-name-removal */
    int64_t subquery_step_ms;  /* a subquery's step when it names none; 0: 1m */
    const char *query;         /* the query text: annotations end in " (line:col)"; may be NULL */
    size_t query_len;
} promql_engine_opts_t;

typedef struct promql_series {
    label_t *labels; /* sorted by name, arena-owned */
    size_t nlabels;
    int64_t *ts; /* points in time order (a vector sample: n == 1) */
    double *vs;
    size_t n;
} promql_series_t;

typedef struct promql_result {
    promql_type_t type; /* SCALAR, VECTOR (instant queries only), MATRIX or STRING */
    promql_series_t *series;
    size_t nseries;
    int64_t t;     /* evaluation time of an instant query */
    double scalar; /* SCALAR of an instant query */
    const char *str;
    size_t str_len;
    char **warnings; /* annotation texts, Prometheus' wording */
    size_t nwarnings;
    char **infos;
    size_t ninfos;
} promql_result_t;

typedef enum promql_errtype {
    PROMQL_ERR_NONE = 0,
    PROMQL_ERR_BAD_DATA,  /* 400: the query cannot be run as asked */
    PROMQL_ERR_EXECUTION, /* 422: the query failed while running */
    PROMQL_ERR_TIMEOUT,   /* 503 */
    PROMQL_ERR_CANCELED,  /* 503 */
    PROMQL_ERR_INTERNAL,  /* 500 */
} promql_errtype_t;

typedef struct promql_eval_error {
    promql_errtype_t type;
    char msg[512];
} promql_eval_error_t;

/* Evaluate root (from promql_parse) at start..end by step (ms). Instant
 * query: start == end and step == 0; its result type is the tree's (a
 * range selector gives a MATRIX of raw points). Range query: root must
 * yield a scalar or an instant vector, and the result is a MATRIX sorted
 * by labels. Returns 0 and [out] *res (allocated from a), or -1 with
 * *err filled. Work: bounded by max_samples and timeout_s. */
int promql_eval(const promql_source_t *src, const promql_engine_opts_t *opts, const promql_node_t *root, int64_t start,
                int64_t end, int64_t step, arena_t *a, promql_result_t *res, promql_eval_error_t *err);

/* ---- printing for humans (promql_pretty.c) ---- */

/* Prometheus' maxCharactersPerLine. */
#define PROMQL_PRETTY_WIDTH 100

/* Append n as Prometheus' parser.Prettify(n) prints it (what
 * /api/v1/format_query answers): nodes whose promql_format text is longer
 * than PROMQL_PRETTY_WIDTH bytes are split over lines indented by two
 * spaces per level; no trailing newline. Work: O(depth × length). */
void promql_pretty(const promql_node_t *n, buf_t *out);
/* As promql_pretty with another line budget (Prometheus' tests use 10). */
void promql_pretty_width(const promql_node_t *n, size_t width, buf_t *out);

/* ---- the Prometheus HTTP API (api_prom*.c) ----
 *
 * Prometheus 3's /api/v1 query, label, series, metadata and status
 * endpoints over a tsdb, answering byte for byte what Prometheus answers
 * (JSON envelope, result encoding, parameter checks and error texts), so
 * Grafana's Prometheus data source works unmodified. The server's route
 * table sends each of those paths (and their methods) to api_prom_handle,
 * which dispatches on the path. Queries are parsed with promql_parse and
 * run with promql_eval on promql_source_tsdb(db); at most max_concurrency
 * evaluate at once, the others wait for a slot within their timeout. */

typedef struct api_prom api_prom_t;

typedef struct api_prom_opts {
    tsdb_t *db;                    /* borrowed for the API's life */
    promql_engine_opts_t engine;   /* query.lookback-delta, query.timeout, query.max-samples */
    int max_concurrency;           /* query.max-concurrency (0: 20) */
    pclock_t clock;                /* zeroed: the real clock */
    const char *config_yaml;       /* /status/config (copied; NULL: "") */
    const char *const *flags;      /* /status/flags: name, value, name, value, ... (copied) */
    size_t nflags;                 /* pairs in flags */
    const char *storage_retention; /* /status/runtimeinfo (copied; NULL: "") */
} api_prom_opts_t;

/* A new API over o->db (the strings of o are copied). Aborts on OOM. */
api_prom_t *api_prom_create(const api_prom_opts_t *o);
/* Free; NULL ok. No request may be running. */
void api_prom_destroy(api_prom_t *api);
/* Answer one request for a path under /api/v1/ (404 for paths this module
 * does not serve). Per-request memory comes from the request's arena. A
 * query or query_range may block up to its timeout waiting for a slot. */
void api_prom_handle(api_prom_t *api, http_req_t *req, http_resp_t *resp);

/* The API's argument parsers (pure; exposed for the fuzzer). Each returns
 * 0 with the value, or -1 with Prometheus' error text appended to err. */
/* Prometheus' parseTime: Unix seconds (Go float syntax) or RFC 3339. */
int api_prom_param_time(const char *s, size_t len, int64_t *ms, buf_t *err);
/* Prometheus' parseDuration: float seconds or a duration ("1m30s"), in ns. */
int api_prom_param_duration(const char *s, size_t len, int64_t *ns, buf_t *err);
/* Prometheus' parseLimitParam: "" is 0; a non-negative decimal int64. */
int api_prom_param_limit(const char *s, size_t len, int64_t *limit, buf_t *err);
/* Append Go's error for s that strconv.<fn> (Atoi, ParseInt) refused:
 * "strconv.<fn>: parsing %q: value out of range" for digits that overflow,
 * ": invalid syntax" otherwise. */
void api_prom_param_int_error(const char *fn, const char *s, size_t len, buf_t *err);
/* A label name from a URL path into dst (room for len bytes), "U__" names
 * decoded as Prometheus' model.UnescapeName does; returns its length. */
size_t api_prom_param_name(const char *s, size_t len, char *dst);

/* ---- series notation (promql_series.c) ----
 *
 * Prometheus' series descriptions as the PromQL test scripts' load blocks
 * and `promtool test rules` input_series write them (upstream's
 * parser.ParseSeriesDesc): a selector with '=' matchers only, then values
 * in the expanding notation: a+bxn and a-bxn give n+1 values computed by
 * repeated addition, axn gives n+1 copies, _ one gap, _xn n gaps, "stale"
 * the StaleNaN bit pattern; numbers may carry a sign, a fraction and an
 * exponent, and Inf and NaN are case-insensitive. Hex is not a value
 * ("0x3" is 0 three more times). A text holding {{...}} (a native
 * histogram) is only read for its labels. Every parser here is pure: text
 * in, results in the caller's arena, and on error the text Prometheus
 * 2.42's parser gives for the common mistakes ("1:7: parse error:
 * unexpected <op:=~> in label set, expected \"=\"", line and column in
 * the text given). Quoted label names ({"a"="b"}, Prometheus 3) are
 * accepted. Work is linear in the text plus the points expanded (the
 * label sorts are quadratic in the labels of one selector). */

/* Most values one series may expand to (bounds memory on hostile input). */
#define PROMQL_SERIES_MAX_POINTS 1000000

typedef struct promql_series_point {
    double v;
    bool omitted; /* "_": no sample at this step */
} promql_series_point_t;

/* One "<selector> <values>" text. */
typedef struct promql_series_desc {
    label_t *labels; /* sorted by name, empty values dropped, the last of repeated names kept; arena-owned */
    size_t nlabels;
    promql_series_point_t *pts; /* NULL when histogram */
    size_t npts;
    bool histogram; /* the values held {{...}}: not decoded */
} promql_series_desc_t;

/* Parse s[0..len) (borrowed) as "<selector> <values>": 0 and [out] *out
 * (arena-owned), or -1 with the reason in err (room errlen). A metric
 * identifier wins over __name__ in braces. */
int promql_series_parse(const char *s, size_t len, arena_t *a, promql_series_desc_t *out, char *err, size_t errlen);

/* The values part alone: 0 with [out] *pts and *n (arena; NULL and 0 for
 * an empty text), or -1 with err set (positions count from s). */
int promql_series_parse_values(const char *s, size_t len, arena_t *a, promql_series_point_t **pts, size_t *n, char *err,
                               size_t errlen);

/* A selector alone (upstream's parser.ParseMetric: exp_samples' labels),
 * surrounding whitespace allowed, empty or blank for no labels: 0 with
 * [out] *labels and *n (arena), sorted by name, stably; or -1 with err
 * set. As ParseMetric, {...} keeps
 * every label, empty values and repeated names included; name{...} drops
 * the names that have an empty value and any __name__ in braces. */
int promql_series_parse_metric(const char *s, size_t len, arena_t *a, label_t **labels, size_t *n, char *err,
                               size_t errlen);

/* A quoted string as Go's strconv.Unquote reads "..." and `...` (and
 * PromQL's '...'): true with the unquoted bytes in [out] *out and *n
 * (NUL-terminated, arena), or false. */
bool promql_series_unquote(const char *s, size_t len, arena_t *a, char **out, size_t *n);

/* The next whitespace-separated word of *rest (a slice of it: empty at
 * the end), *rest moved past it. Values split into items this way, and so
 * do the lines of the PromQL test scripts. */
str_t promql_series_next_word(str_t *rest);

#endif

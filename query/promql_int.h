/* SPDX-License-Identifier: Apache-2.0 */
/*
 * promql_int: private to query/promql_*.c. Token kinds of the lexer (the
 * same kinds and descriptions as Prometheus' lexer, so error texts match),
 * the lexer state, and helpers shared by the parser, checker and printer.
 *
 * Invariant: a token is a byte range of the query; the lexer never
 * allocates (error texts go to a fixed buffer in the lexer). Keyword tokens (aggregators, by, offset, ...) keep their
 * text so they can also serve as metric or label names where Prometheus
 * allows them.
 */
#ifndef PHAROS_QUERY_PROMQL_INT_H
#define PHAROS_QUERY_PROMQL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/hmap.h"
#include "common/labels.h"
#include "query/promql.h"

typedef enum promql_tok {
    TOK_EOF = 0,
    TOK_ERROR,
    TOK_IDENT,
    TOK_METRIC_IDENT,
    TOK_NUMBER,
    TOK_DURATION,
    TOK_STRING,
    TOK_LPAREN,
    TOK_RPAREN,
    TOK_LBRACE,
    TOK_RBRACE,
    TOK_LBRACKET,
    TOK_RBRACKET,
    TOK_COMMA,
    TOK_EQL,
    TOK_COLON,
    TOK_DCOLON,
    /* operators */
    TOK_ADD,
    TOK_SUB,
    TOK_MUL,
    TOK_DIV,
    TOK_MOD,
    TOK_POW,
    TOK_EQLC,
    TOK_NEQ,
    TOK_LSS,
    TOK_LTE,
    TOK_GTR,
    TOK_GTE,
    TOK_EQL_REGEX,
    TOK_NEQ_REGEX,
    TOK_LAND,
    TOK_LOR,
    TOK_LUNLESS,
    TOK_ATAN2,
    TOK_AT,
    /* aggregators (same order as promql_agg_op_t) */
    TOK_SUM,
    TOK_AVG,
    TOK_COUNT,
    TOK_MIN,
    TOK_MAX,
    TOK_GROUP,
    TOK_STDDEV,
    TOK_STDVAR,
    TOK_TOPK,
    TOK_BOTTOMK,
    TOK_QUANTILE,
    TOK_COUNT_VALUES,
    TOK_LIMITK,
    TOK_LIMIT_RATIO,
    /* keywords */
    TOK_BOOL,
    TOK_BY,
    TOK_GROUP_LEFT,
    TOK_GROUP_RIGHT,
    TOK_IGNORING,
    TOK_OFFSET,
    TOK_ON,
    TOK_WITHOUT,
    TOK_START,
    TOK_END,
    TOK_STEP, /* step and range: only inside brackets */
    TOK_RANGE,
} promql_tok_t;

typedef struct promql_token {
    promql_tok_t kind;
    uint32_t pos;
    uint32_t len;
    const char *err; /* TOK_ERROR: message (static or in errbuf) */
} promql_token_t;

typedef struct promql_lexer {
    const char *q;
    size_t len;
    size_t pos;
    int paren_depth;
    bool brace_open;
    bool bracket_open;
    bool got_colon;
    bool dur_state;    /* just after "[": Prometheus' lexDurationExpr */
    bool got_duration; /* a number was lexed in dur_state (never reset, as in Prometheus) */
    bool done;         /* EOF or ERROR emitted */
    char errbuf[96];
} promql_lexer_t;

void promql_lex_init(promql_lexer_t *l, const char *q, size_t len);
/* Next token, skipping spaces and comments. After TOK_EOF or TOK_ERROR
 * every call returns TOK_EOF at the end of input. */
promql_token_t promql_lex_next(promql_lexer_t *l);
bool promql_tok_is_aggregator(promql_tok_t k);
bool promql_tok_is_keyword(promql_tok_t k);
bool promql_tok_is_operator(promql_tok_t k);
/* Append the token as Prometheus' Item.desc() describes it. */
void promql_tok_desc(const char *q, promql_token_t t, buf_t *out);

/* Go's strconv.Quote of p[0..len) (with at most max_runes runes, or all
 * when max_runes is 0) and strconv.QuoteRune. */
void promql_quote(const char *p, size_t len, size_t max_runes, buf_t *out);
void promql_quote_rune(int32_t r, buf_t *out);
/* Decode one UTF-8 rune at p (n > 0 bytes); *width gets 1..4; invalid
 * input yields 0xFFFD with width 1. */
int32_t promql_utf8_decode(const char *p, size_t n, size_t *width);
/* Go-style unquote of a "..", '..' or `..` literal into dst (room for len
 * bytes); false on a bad escape. */
bool promql_unquote(const char *p, size_t len, char *dst, size_t *dst_len);

/* Type checking as Prometheus' checkAST; returns 0 or -1 with err set. */
int promql_check(const char *q, size_t len, promql_node_t *root, promql_error_t *err);
/* Fill err with Prometheus' "<line>:<col>: parse error: msg" text. */
void promql_set_error(promql_error_t *err, const char *q, size_t len, size_t pos, const char *msg);

/* ---- evaluation internals, shared by the evaluator and the function
 * files. Everything below is pure: no allocation unless an arena is
 * passed, no I/O, no global state. ---- */

/* Annotation bits a function raises; the evaluator turns them into
 * Prometheus' warning and info texts (naming the metric and position). */
enum {
    PQ_ANN_QUANTILE_RANGE = 1u << 0, /* warn: quantile value should be between 0 and 1 */
    PQ_ANN_BUCKET_FIXED = 1u << 1,   /* info: input to histogram_quantile needed to be fixed for monotonicity */
    PQ_ANN_BUCKET_BAD_LE = 1u << 2,  /* warn: bucket label "le" is missing or has a malformed value */
    PQ_ANN_NOT_COUNTER = 1u << 3,    /* info: metric might not be a counter */
    PQ_ANN_NOT_GAUGE = 1u << 4,      /* info: metric might not be a gauge (rate on a non-counter) */
};

/* Scratch doubles a range function may use for sorting (quantile and
 * mad_over_time); grown with mem_realloc, owned by the evaluator. */
typedef struct pq_scratch {
    double *d;
    size_t cap;
} pq_scratch_t;

/* The window a range function sees: the float points of one series in
 * (t_end - range_ms, t_end], in time order, stale markers removed. */
typedef struct pq_window {
    const int64_t *ts;
    const double *vs;
    size_t n;
    int64_t t_end;    /* evaluation time after @ and offset: the right edge */
    int64_t range_ms; /* the range selector's or subquery's range */
    pq_scratch_t *scratch;
    /* Optional (NULL): resets[i] - resets[0] = how many of the points
     * 1..i of the window are below their predecessor, so rate and
     * increase skip the counter-reset scan when the window has none. */
    const uint32_t *resets;
} pq_window_t;

/* A range function (rate, *_over_time, ...): a row of promql_fn_range.c's
 * table, found by pq_range_fn_lookup. */
typedef struct pq_range_def pq_range_def_t;

/* Applies fn to window w: true and [out] *out when the window yields a
 * sample, false when it yields none (an empty window, or e.g. rate over
 * fewer than two points). args: the call's scalar arguments at this step,
 * in call order without the range vector (quantile_over_time's q,
 * predict_linear's t, double_exponential_smoothing's sf and tf). Sets bits
 * in *ann. O(n) (quantile and mad: O(n log n), sorting a copy in w->scratch). */
bool pq_range_apply(const pq_range_def_t *fn, const pq_window_t *w, const double *args, double *out, unsigned *ann);

/* A per-sample function (abs, clamp, round, date functions, ...): true
 * and *out, or false when the sample is dropped. v is the sample's value
 * (a unix time in seconds for the date functions); args as above. */
typedef bool (*pq_sample_fn)(double v, const double *args, double *out);

/* Implementation of a named range / per-sample function, or NULL. */
const pq_range_def_t *pq_range_fn_lookup(const char *name); /* promql_fn_range.c */
pq_sample_fn pq_sample_fn_lookup(const char *name);         /* promql_fn_sample.c */

/* One classic histogram bucket: upper bound (le) and cumulative count. */
typedef struct pq_bucket {
    double upper;
    double count;
} pq_bucket_t;

/* Prometheus' bucketQuantile over classic buckets: sorts b by upper,
 * merges equal bounds, enforces monotonic counts (setting
 * PQ_ANN_BUCKET_FIXED in *ann when it had to), and interpolates. NaN when
 * there is no +Inf bucket, fewer than two buckets, or no observations;
 * -Inf/+Inf for q < 0 / q > 1 (NaN q gives NaN). tmp: [scratch] room for
 * n buckets, read only above 12 (the merge sort's buffer; NULL allowed for
 * fewer). O(n log n); no allocation. */
double pq_bucket_quantile(double q, pq_bucket_t *b, size_t n, pq_bucket_t *tmp, unsigned *ann);

/* label_replace(v, dst, replacement, src, regex) compiled once per call. */
typedef struct pq_relabel pq_relabel_t;
/* 0 and [out] *out, or -1 with Prometheus' error text in err ("invalid
 * regular expression in label_replace(): ...", "invalid destination label
 * name in label_replace(): ..."). */
int pq_relabel_create(const char *dst, size_t dst_len, const char *repl, size_t repl_len, const char *src,
                      size_t src_len, const char *regex, size_t regex_len, pq_relabel_t **out, char *err,
                      size_t errlen);
void pq_relabel_destroy(pq_relabel_t *r);
/* Apply to one series' sorted labels: [out] *out points at the resulting
 * sorted labels (in, unchanged, when the regex does not match; otherwise
 * an array from a, strings from a) and the count is returned. */
size_t pq_relabel_apply(pq_relabel_t *r, const label_t *in, size_t n, arena_t *a, label_t **out);

/* Prometheus' BucketFraction over classic buckets: the estimated share
 * of observations in [lower, upper] (sorts and fixes b as
 * pq_bucket_quantile does). NaN when there is no +Inf bucket or no
 * observation. tmp as for pq_bucket_quantile. */
double pq_bucket_fraction(double lower, double upper, pq_bucket_t *b, size_t n, pq_bucket_t *tmp, unsigned *ann);

/* label_join: dst = the values of src[0..nsrc) joined by sep (an empty
 * result removes dst). Same ownership as pq_relabel_apply. */
size_t pq_label_join(const label_t *in, size_t n, str_t dst, str_t sep, const str_t *src, size_t nsrc, arena_t *a,
                     label_t **out);

/* ---- the evaluator's own state, shared by promql_eval.c (nodes,
 * selectors, functions), promql_binop.c and promql_agg.c ----
 *
 * Every node evaluates to a pq_matrix_t over the evaluator's steps
 * start, start+interval, ..., end: each series holds at most one point per
 * step, in step order (a scalar is one label-less series with a point at
 * every step). Range selectors and subqueries evaluated on their own give
 * raw points instead. All memory comes from the query arena; errors set
 * ev->err and return -1, which every caller passes up. */

typedef struct pq_series {
    label_t *labels; /* sorted by name */
    uint32_t nlabels;
    bool drop_name; /* delayed __name__ removal: drop at the end */
    int64_t *ts;
    double *vs;
    uint32_t n, cap;
} pq_series_t;

typedef struct pq_matrix {
    pq_series_t *s;
    size_t n, cap;
} pq_matrix_t;

/* One sample of a step's vector; key identifies the output series it
 * belongs to across steps (see pq_range_eval). */
typedef struct pq_sample {
    const label_t *labels;
    uint32_t nlabels;
    bool drop_name;
    uint32_t idx; /* index of the series in its argument matrix */
    uint64_t key;
    double v;
    int64_t t; /* sample time (timestamp()); the step time otherwise */
} pq_sample_t;

typedef struct pq_vec {
    pq_sample_t *s;
    size_t n, cap;
} pq_vec_t;

typedef struct pq_ev {
    const promql_source_t *src;
    arena_t *a;
    int64_t start, end, interval; /* the current (sub)evaluation */
    int64_t q_start, q_end;       /* the query's, for @ start() / end() */
    int64_t q_step;               /* the query's step (0: instant) */
    int64_t lookback;
    int64_t subquery_step;
    bool delayed;                  /* delayed __name__ removal */
    uint64_t max_samples, samples; /* samples held now (Prometheus' count) */
    uint64_t raw_samples;          /* raw samples read, bounded by 4 * max_samples */
    double deadline;               /* clock_mono_s() limit; 0: none */
    const char *query;             /* for annotation positions; may be NULL */
    size_t query_len;
    unsigned tick;
    promql_eval_error_t *err;
    pq_scratch_t scratch;
    char **warnings, **infos;
    size_t nwarnings, ninfos, cap_warnings, cap_infos;
} pq_ev_t;

size_t pq_steps(const pq_ev_t *ev);
/* Record an error (printf-style) of the given type; returns -1. */
int pq_fail(pq_ev_t *ev, promql_errtype_t type, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Add a warning or info text once (duplicates are kept out), ending in
 * the " (line:col)" of node at as Prometheus' API renders it. */
void pq_annotate(pq_ev_t *ev, bool warning, const promql_node_t *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* v as Go's %g prints it ("NaN", "+Inf", "1e+06"), in the arena. */
const char *pq_gofloat(pq_ev_t *ev, double v);
/* Count n more samples held and check the timeout: 0, or -1 with the
 * "too many samples" or timeout error set. */
int pq_account(pq_ev_t *ev, uint64_t n);

/* Matrix and vector building (arena-backed). */
pq_series_t *pq_matrix_add(pq_ev_t *ev, pq_matrix_t *m, label_t *labels, uint32_t nlabels, bool drop_name);
void pq_series_push(pq_ev_t *ev, pq_series_t *s, int64_t t, double v);
pq_sample_t *pq_vec_push(pq_ev_t *ev, pq_vec_t *v);

/* Labels helpers; results are arena arrays borrowing the strings. */
/* A bijective 64-bit finalizer (MurmurHash3 fmix64) spreading an integer
 * key into a hash-map hash. */
uint64_t pq_mix64(uint64_t x);
/* ls without the named labels (names sorted or not); *nout set. */
label_t *pq_labels_without(pq_ev_t *ev, const label_t *ls, size_t n, char *const *names, size_t nnames,
                           bool drop_metric_name, uint32_t *nout);
/* Only the named labels. */
label_t *pq_labels_only(pq_ev_t *ev, const label_t *ls, size_t n, char *const *names, size_t nnames, uint32_t *nout);
/* ls with name set to value (removed when value is empty). */
label_t *pq_labels_set(pq_ev_t *ev, const label_t *ls, size_t n, str_t name, str_t value, uint32_t *nout);
/* Drop __name__ now (eager mode) or flag it (delayed mode). */
void pq_series_drop_name(pq_ev_t *ev, pq_series_t *s);

/* Evaluate a node over ev's steps. */
int pq_eval(pq_ev_t *ev, const promql_node_t *n, pq_matrix_t *out);

/* Prometheus' rangeEval: evaluate fn at every step on the arguments'
 * vectors at that step, gathering its output samples into series by key
 * (the first sample of a key creates its series, with that sample's
 * labels). A key seen twice at one step, or two output series with the
 * same labels at one step, is the "same labelset" error. */
typedef int (*pq_step_fn)(pq_ev_t *ev, void *ctx, int64_t ts, pq_vec_t *args, pq_vec_t *out);
int pq_range_eval(pq_ev_t *ev, pq_matrix_t *args, size_t nargs, pq_step_fn fn, void *ctx, pq_matrix_t *out);
/* Merge series with equal labels (and drop flag) whose points do not
 * overlap; overlap is the same-labelset error. Order of first
 * appearance is kept. */
int pq_merge_same_labels(pq_ev_t *ev, pq_matrix_t *m);
/* Distinct label sets numbered in order of first appearance (grouping
 * for aggregations and histogram_quantile). Arrays live in the arena,
 * the map on the heap: fini it. */
typedef struct pq_lset_index {
    hmap_t map;
    label_t **ls;
    uint32_t *n;
    size_t len, cap;
} pq_lset_index_t;
void pq_lset_index_init(pq_lset_index_t *x);
void pq_lset_index_fini(pq_lset_index_t *x);
/* Number of the set equal to ls[0..n) (borrowed), adding it when new
 * ([out] *added). O(n) expected. */
size_t pq_lset_index_get(pq_ev_t *ev, pq_lset_index_t *x, label_t *ls, uint32_t n, bool *added);

/* True when two series of m have the same labels (and drop flag),
 * whatever their points. */
bool pq_any_same_labels(pq_ev_t *ev, const pq_matrix_t *m);

int pq_eval_binary(pq_ev_t *ev, const promql_node_t *n, pq_matrix_t *out);    /* promql_binop.c */
int pq_eval_aggregate(pq_ev_t *ev, const promql_node_t *n, pq_matrix_t *out); /* promql_agg.c */
/* Prometheus' quantile() over v[0..n) (sorted in place as Go sorts:
 * NaN first): -Inf for q < 0, +Inf for q > 1, NaN for NaN q or n == 0.
 * (promql_fn_range.c) */
double pq_quantile(double q, double *v, size_t n);
/* Prometheus' kahansum.Inc: *sum += inc, the lost low part kept in *c. */
void pq_kahan_inc(double inc, double *sum, double *c);

/* Prometheus 3's mean (avg and avg_over_time): a Kahan sum divided by
 * the count while the sum stays finite; from the first overflow on an
 * incremental mean, also compensated, starting from the sum so far. The
 * other aggregations reuse sum, c and count for their own state. */
typedef struct pq_mean {
    double sum, c, mean, count;
    bool incremental;
} pq_mean_t;
void pq_mean_init(pq_mean_t *m, double first);
void pq_mean_add(pq_mean_t *m, double v);
double pq_mean_value(const pq_mean_t *m);

#endif

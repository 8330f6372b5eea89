/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logql_int: private to query/logql_*.c (and their tests and fuzzer). The
 * LogQL front end: token kinds, the arena AST, parse and print.
 *
 * Core idea: a hand-written recursive-descent parser over Loki's grammar
 * (pkg/logql/syntax/expr.y), reporting errors in Loki's words and places:
 * "parse error at line L, col C: syntax error: unexpected X[, expecting Y]"
 * for syntax errors (col counts runes, 1-based; a range token "[..]" or a
 * bad duration inside it is reported at line 0, as Loki's text/scanner does
 * after Next()), and "parse error : <msg>" for the semantic checks Loki runs
 * after parsing (types of binary-operation legs, unwrap rules, parameters,
 * the non-empty-matcher rule). Syntax errors win over semantic ones, as in
 * Loki where the checks run on the finished tree (top-down, left first).
 *
 * Invariants: every node, string and array lives in the caller's arena; no
 * heap is held after logql_parse returns (regexes are compiled only to be
 * checked, then freed), so resetting the arena releases everything. Binary
 * operations between two literals are folded at parse time (Loki's
 * reduceBinOp). Printing follows Loki's String() methods byte for byte.
 */
#ifndef PHAROS_QUERY_LOGQL_INT_H
#define PHAROS_QUERY_LOGQL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/hmap.h"
#include "common/matcher.h"
#include "query/logql.h"

typedef enum logql_tok {
    LQT_EOF = 0,
    LQT_ERROR,
    LQT_IDENT,
    LQT_STRING,
    LQT_NUMBER,
    LQT_DURATION,
    LQT_BYTES,
    LQT_RANGE, /* "[...]" as one token, as Loki's lexer does */
    LQT_LBRACE,
    LQT_RBRACE,
    LQT_LPAREN,
    LQT_RPAREN,
    LQT_COMMA,
    LQT_EQ,     /* = */
    LQT_NEQ,    /* != */
    LQT_RE,     /* =~ */
    LQT_NRE,    /* !~ */
    LQT_CMP_EQ, /* == */
    LQT_GT,
    LQT_GTE,
    LQT_LT,
    LQT_LTE,
    LQT_PIPE,         /* | */
    LQT_PIPE_EXACT,   /* |= */
    LQT_PIPE_MATCH,   /* |~ */
    LQT_PIPE_PATTERN, /* |> */
    LQT_NPA,          /* !> */
    LQT_ADD,
    LQT_SUB,
    LQT_MUL,
    LQT_DIV,
    LQT_MOD,
    LQT_POW,
    LQT_FLAG, /* --strict, --keep-empty */
} logql_tok_t;

typedef struct logql_token {
    logql_tok_t kind;
    uint32_t pos; /* byte offset of the first byte */
    uint32_t len;
    const char *err; /* LQT_ERROR: static message */
} logql_token_t;

typedef struct logql_lexer {
    const char *q;
    size_t len;
    size_t pos;
} logql_lexer_t;

void logql_lex_init(logql_lexer_t *l, const char *q, size_t len);
/* Next token, skipping white space and '#' comments. At the end, and after
 * an error, returns LQT_EOF (pos = len) forever. O(token length). */
logql_token_t logql_lex_next(logql_lexer_t *l);
/* Append the token's name as Loki's goyacc tables spell it: "IDENTIFIER",
 * "STRING", "$end", "{", "|=", or a keyword's own text ("by", "ip"). */
void logql_tok_desc(const char *q, logql_token_t t, buf_t *out);
/* 1-based line and rune column of byte offset pos (Go text/scanner). */
void logql_line_col(const char *q, size_t len, size_t pos, unsigned *line, unsigned *col);

/* Durations and sizes, as Loki reads and prints them. All return false on
 * a malformed text and never read past s[len). */
bool logql_parse_model_duration(const char *s, size_t len, int64_t *ms); /* prometheus model.ParseDuration */
bool logql_parse_go_duration(const char *s, size_t len, int64_t *ns);    /* Go time.ParseDuration */
bool logql_parse_bytes(const char *s, size_t len, uint64_t *out);        /* go-humanize ParseBytes */
void logql_fmt_model_duration(int64_t ms, buf_t *out);                   /* model.Duration.String */
void logql_fmt_go_duration(int64_t ns, buf_t *out);                      /* time.Duration.String */
void logql_fmt_bytes(uint64_t v, buf_t *out);                            /* humanize.Bytes, spaces removed */
void logql_fmt_float(double v, char fmt, buf_t *out); /* Go: 'v' = fmt.Sprint, 'f' = FormatFloat(v,'f',-1) */

/* ---- AST ---- */

typedef struct logql_str {
    const char *p; /* NUL-terminated copy in the arena */
    size_t len;
} logql_str_t;

typedef struct logql_matcher {
    match_type_t type;
    logql_str_t name;
    logql_str_t value;
} logql_matcher_t;

typedef enum logql_lf_op {
    LQ_LF_EQ = 0, /* |= */
    LQ_LF_NEQ,    /* != */
    LQ_LF_RE,     /* |~ */
    LQ_LF_NRE,    /* !~ */
    LQ_LF_PAT,    /* |> */
    LQ_LF_NPAT,   /* !> */
} logql_lf_op_t;

typedef enum logql_cmp {
    LQ_CMP_EQ = 0,
    LQ_CMP_NEQ,
    LQ_CMP_GT,
    LQ_CMP_GTE,
    LQ_CMP_LT,
    LQ_CMP_LTE,
} logql_cmp_t;

typedef enum logql_lbl_kind {
    LQ_LBL_AND = 0, /* "and", "," or juxtaposition */
    LQ_LBL_OR,
    LQ_LBL_STRING,   /* matcher */
    LQ_LBL_NUMBER,   /* name cmp float */
    LQ_LBL_DURATION, /* name cmp ns */
    LQ_LBL_BYTES,    /* name cmp bytes */
} logql_lbl_kind_t;

typedef struct logql_lblf {
    logql_lbl_kind_t kind;
    struct logql_lblf *left, *right; /* AND/OR */
    logql_matcher_t m;               /* STRING */
    logql_str_t name;                /* NUMBER/DURATION/BYTES */
    logql_cmp_t cmp;
    double num;
    int64_t dur_ns;
    uint64_t bytes;
} logql_lblf_t;

typedef enum logql_stage_kind {
    LQ_ST_LINE_FILTER = 0,
    LQ_ST_JSON,
    LQ_ST_LOGFMT,
    LQ_ST_REGEXP,
    LQ_ST_PATTERN,
    LQ_ST_UNPACK,
    LQ_ST_LABEL_FILTER,
    LQ_ST_LINE_FORMAT,
    LQ_ST_LABEL_FORMAT,
    LQ_ST_DROP,
    LQ_ST_KEEP,
    LQ_ST_DECOLORIZE,
} logql_stage_kind_t;

/* One "name=value" of json/logfmt parameters, label_format, drop/keep. */
typedef struct logql_kv {
    logql_str_t name;
    logql_str_t value;
    bool rename;      /* label_format a=b (value is a label name) */
    bool has_matcher; /* drop/keep a="v" */
    match_type_t type;
} logql_kv_t;

typedef struct logql_stage {
    logql_stage_kind_t kind;
    logql_lf_op_t lf_op; /* LINE_FILTER */
    logql_str_t *vals;   /* LINE_FILTER: the value and its "or" values */
    size_t nvals;        /* LINE_FILTER */
    logql_str_t param;   /* REGEXP, PATTERN, LINE_FORMAT */
    logql_kv_t *kvs;     /* JSON, LOGFMT params, LABEL_FORMAT, DROP, KEEP */
    size_t nkvs;
    bool strict;          /* LOGFMT */
    bool keep_empty;      /* LOGFMT */
    logql_lblf_t *filter; /* LABEL_FILTER */
} logql_stage_t;

typedef enum logql_conv {
    LQ_CONV_NONE = 0,
    LQ_CONV_BYTES,
    LQ_CONV_DURATION,
    LQ_CONV_DURATION_SECONDS,
} logql_conv_t;

typedef struct logql_unwrap {
    logql_conv_t conv;
    logql_str_t ident;
    logql_lblf_t **post; /* label filters after the unwrap */
    size_t npost;
} logql_unwrap_t;

typedef enum logql_kind {
    LQ_LOG = 0,    /* selector + pipeline (a log query) */
    LQ_RANGE_AGG,  /* count_over_time(...[5m]) */
    LQ_VECTOR_AGG, /* sum by (x) (...) */
    LQ_BINOP,
    LQ_LITERAL,
    LQ_VECTOR, /* vector(1) */
    LQ_LABEL_REPLACE,
} logql_kind_t;

typedef enum logql_range_op {
    LQ_R_COUNT = 0,
    LQ_R_RATE,
    LQ_R_RATE_COUNTER,
    LQ_R_BYTES,
    LQ_R_BYTES_RATE,
    LQ_R_AVG,
    LQ_R_SUM,
    LQ_R_MIN,
    LQ_R_MAX,
    LQ_R_STDVAR,
    LQ_R_STDDEV,
    LQ_R_QUANTILE,
    LQ_R_FIRST,
    LQ_R_LAST,
    LQ_R_ABSENT,
    LQ_R__COUNT
} logql_range_op_t;

typedef enum logql_vec_op {
    LQ_V_SUM = 0,
    LQ_V_AVG,
    LQ_V_MAX,
    LQ_V_MIN,
    LQ_V_COUNT,
    LQ_V_STDDEV,
    LQ_V_STDVAR,
    LQ_V_BOTTOMK,
    LQ_V_TOPK,
    LQ_V_SORT,
    LQ_V_SORT_DESC,
    LQ_V__COUNT
} logql_vec_op_t;

typedef enum logql_binop {
    LQ_B_OR = 0,
    LQ_B_AND,
    LQ_B_UNLESS,
    LQ_B_ADD,
    LQ_B_SUB,
    LQ_B_MUL,
    LQ_B_DIV,
    LQ_B_MOD,
    LQ_B_POW,
    LQ_B_EQ,
    LQ_B_NEQ,
    LQ_B_GT,
    LQ_B_GTE,
    LQ_B_LT,
    LQ_B_LTE,
} logql_binop_t;

typedef enum logql_card {
    LQ_CARD_ONE_TO_ONE = 0,
    LQ_CARD_MANY_TO_ONE, /* group_left */
    LQ_CARD_ONE_TO_MANY, /* group_right */
} logql_card_t;

typedef struct logql_grouping {
    bool present; /* "by (...)" or "without (...)" was written */
    bool without;
    logql_str_t *labels;
    size_t nlabels;
} logql_grouping_t;

typedef struct logql_node logql_node_t;

struct logql_node {
    logql_kind_t kind;
    const char *err; /* semantic error found while building (Loki's e.err) */
    union {
        struct {
            logql_matcher_t *m;
            size_t nm;
            logql_stage_t *stages;
            size_t nstages;
        } log;
        struct {
            logql_range_op_t op;
            logql_node_t *log; /* LQ_LOG */
            int64_t range_ms;
            int64_t offset_ns;
            logql_unwrap_t *unwrap; /* NULL without unwrap */
            bool has_param;
            double param;
            logql_grouping_t grouping;
        } range;
        struct {
            logql_vec_op_t op;
            logql_node_t *expr;
            long param;
            logql_grouping_t grouping;
        } vec;
        struct {
            logql_binop_t op;
            bool return_bool;
            bool on;           /* on (...) rather than ignoring (...) */
            bool has_matching; /* on/ignoring given */
            logql_str_t *matching;
            size_t nmatching;
            logql_card_t card;
            bool has_include; /* group_x (...) with parentheses */
            logql_str_t *include;
            size_t ninclude;
            logql_node_t *lhs, *rhs;
        } bin;
        double value; /* LITERAL, VECTOR */
        struct {
            logql_node_t *expr;
            logql_str_t dst, repl, src, regex;
        } lr;
    } u;
};

typedef struct logql_error {
    unsigned line; /* 0 with col 0 for semantic errors (Loki's 0,0) */
    unsigned col;
    size_t pos;    /* byte offset (0 for semantic errors) */
    char msg[512]; /* Loki's ParseError.Error() text */
} logql_error_t;

/* Parse q[0..len) into an AST in a. Returns 0 and sets *out, or -1 with
 * *err filled and *out NULL. Pure: no I/O, no state kept. Work is linear
 * in len (plus regex compilation to check matchers); nesting deeper than
 * LOGQL_MAX_DEPTH is an error, so hostile input cannot exhaust the stack. */
#define LOGQL_MAX_DEPTH 200
int logql_parse(const char *q, size_t len, arena_t *a, logql_node_t **out, logql_error_t *err);

/* True for a metric (sample) expression, false for a log query. */
bool logql_is_sample(const logql_node_t *n);

/* Append n printed as Loki's Expr.String() prints it. */
void logql_format(const logql_node_t *n, buf_t *out);

/* Names used by the parser and the printer (Loki's Op* constants). */
extern const char *const logql_range_op_names[LQ_R__COUNT];
extern const char *const logql_vec_op_names[LQ_V__COUNT];
const char *logql_binop_name(logql_binop_t op);

/* ---- evaluator (logql_eval.c and the logql_* files it drives) ----
 *
 * The label builder holds one entry's labels while the pipeline runs:
 * the stream's (borrowed), its structured metadata (borrowed) and the
 * labels stages set (values borrowed from the line or copied into the
 * per-entry scratch arena). Names are unique in v; a deleted label keeps
 * its slot with del set. The error and its details are kept apart, as
 * Loki's LabelsBuilder keeps them, and join the labels only at the end.
 */
typedef enum lq_cat {
    LQ_CAT_STREAM = 0,
    LQ_CAT_META,
    LQ_CAT_PARSED,
} lq_cat_t;

typedef struct lq_lab {
    str_t name;
    str_t value;
    uint8_t cat; /* lq_cat_t */
    bool del;
} lq_lab_t;

typedef struct lq_hints lq_hints_t;

typedef struct lq_lbs {
    lq_lab_t *v; /* heap, reused across entries */
    size_t n, cap;
    const label_t *base; /* the stream's labels, sorted */
    size_t nbase;
    str_t err, err_details; /* empty: none */
    arena_t *scratch;       /* per entry, reset by lq_lbs_reset */
    lq_hints_t *hints;      /* the running pipe's parser hints, NULL: none */
} lq_lbs_t;

#define LQ_ERR_LABEL "__error__"
#define LQ_ERR_DETAILS_LABEL "__error_details__"
#define LQ_PRESERVE_ERR_LABEL "__preserve_error__"

void lq_lbs_init(lq_lbs_t *b);
void lq_lbs_fini(lq_lbs_t *b);
/* Start an entry: base labels, then its metadata; scratch is reset. */
void lq_lbs_reset(lq_lbs_t *b, const label_t *base, size_t nbase, const label_t *meta, size_t nmeta);
bool lq_lbs_get(const lq_lbs_t *b, str_t name, str_t *value);
/* Set name (borrowed: it must live for the entry) as cat. A parsed label
 * is recorded as extracted in b->hints (Loki's RecordExtracted). */
void lq_lbs_set(lq_lbs_t *b, str_t name, str_t value, lq_cat_t cat);
void lq_lbs_del(lq_lbs_t *b, str_t name);
bool lq_lbs_base_has(const lq_lbs_t *b, str_t name);
void lq_lbs_set_err(lq_lbs_t *b, const char *err, str_t details);
/* Copy p[0..len) into the entry's scratch arena. */
str_t lq_lbs_dup(lq_lbs_t *b, const char *p, size_t len);
/* The final label set into out (room for n + 2), sorted by name, with
 * __error__/__error_details__ when set; cats (may be NULL) gets each
 * label's category. Returns the count. */
size_t lq_lbs_final(const lq_lbs_t *b, label_t *out, uint8_t *cats);

/* Loki's sanitizeLabelKey: trim spaces, "_" before a leading digit when
 * prefix, every byte outside [a-zA-Z0-9_] (each rune) becomes "_". */
void lq_sanitize_key(const char *p, size_t len, bool prefix, buf_t *out);

/* ---- parser hints (logql_pipeline.c): Loki's ParserHint ----
 *
 * Which labels the parsers must extract for the query, so that a metric
 * query extracts only those and stops once it has them all. Every pipe has
 * hints; a log query's only hold its single-label filters (a parser drops
 * the line as soon as a label it sets fails the first filter on that name).
 * The per-entry state (which required labels were extracted) is reset by
 * lq_pipe_run, without allocating. Queries on b->hints == NULL answer as
 * "no hints": extract everything, never stop early.
 */
bool lq_hint_no_labels(const lq_lbs_t *b);                 /* NoLabels: skip the parser */
bool lq_hint_should_extract(const lq_lbs_t *b, str_t key); /* ShouldExtract */
bool lq_hint_extract_prefix(const lq_lbs_t *b, str_t pfx); /* ShouldExtractPrefix */
bool lq_hint_all_extracted(const lq_lbs_t *b);             /* AllRequiredExtracted */
bool lq_hint_continue(lq_lbs_t *b, str_t name);            /* ShouldContinueParsingLine */
/* A parser's error (Loki's addErrLabel): __error__, its details when not
 * empty, and __preserve_error__="true" when the hints name __error__. */
void lq_hint_parser_err(lq_lbs_t *b, const char *err, str_t details);

/* ---- templates (logql_fmt.c): Go text/template, the subset Loki users write ---- */
typedef struct lq_tmpl lq_tmpl_t;
/* Parse; 0, or -1 with Go's error text in err. Nodes live in a. */
int lq_tmpl_parse(const char *s, size_t len, arena_t *a, lq_tmpl_t **out, char *err, size_t errlen);
/* When t is exactly "{{.name}}", that name (Loki's simpleKey path). */
bool lq_tmpl_simple_key(const lq_tmpl_t *t, str_t *name);
/* Call fn with each label a template reads as Loki's listNodeFields finds
 * them: fields that are direct arguments of the commands of actions and of
 * if/else-if conditions, in order, repeats included. */
void lq_tmpl_fields(const lq_tmpl_t *t, void (*fn)(void *ctx, str_t name), void *ctx);
/* Execute against the labels; appends to out. 0, or -1 with Go's error
 * text appended to errmsg (out then holds a partial result). */
int lq_tmpl_exec(const lq_tmpl_t *t, lq_lbs_t *lbs, int64_t ts, str_t line, buf_t *out, buf_t *errmsg);

/* ---- parsers (logql_parsers.c) ----
 * Each applies b->hints as Loki's parser of the same name does; those that
 * return bool return false when a hint's label filter rejects the line. */
bool lq_json_parse(lq_lbs_t *b, str_t line, buf_t *tmp, buf_t *prefix);
/* json name="a.b[0]": a compiled path. */
typedef struct lq_jpath {
    str_t name;
    str_t *keys; /* object keys; an index is stored with is_idx */
    long *idx;
    bool *is_idx;
    size_t n;
} lq_jpath_t;
int lq_jpath_compile(str_t name, str_t expr, arena_t *a, lq_jpath_t *out, char *err, size_t errlen);
void lq_json_extract(lq_lbs_t *b, str_t line, const lq_jpath_t *paths, size_t n, buf_t *tmp);
bool lq_logfmt_parse(lq_lbs_t *b, str_t line, bool strict, bool keep_empty, const logql_kv_t *kvs, size_t nkvs,
                     buf_t *tmp, buf_t *kb);
void lq_unpack_parse(lq_lbs_t *b, str_t *line, buf_t *tmp);
/* pattern "<a> - <_> x": compiled; NULL with err on a bad pattern. */
typedef struct lq_pattern lq_pattern_t;
lq_pattern_t *lq_pattern_compile(str_t p, bool need_capture, arena_t *a, char *err, size_t errlen);
bool lq_pattern_extract(const lq_pattern_t *p, lq_lbs_t *b, str_t line);
bool lq_pattern_test(const lq_pattern_t *p, str_t line);

/* ---- pipeline (logql_pipeline.c) ---- */
typedef struct lq_pipe lq_pipe_t;
typedef struct lq_lf lq_lf_t;
/* Compile stages (and unwrap post filters) into p, memory from a.
 * 0, or -1 with Loki's message in err. lq_pipe_fini frees the regexes. */
lq_pipe_t *lq_pipe_create(const logql_stage_t *st, size_t n, arena_t *a, char *err, size_t errlen);
lq_lf_t *lq_pipe_add_filter(lq_pipe_t *p, const logql_lblf_t *f, char *err, size_t errlen);
void lq_pipe_destroy(lq_pipe_t *p);
/* Run the stages on one entry (lbs already reset). true to keep it, with
 * *line the line after line_format; the line may point into scratch. */
bool lq_pipe_run(lq_pipe_t *p, lq_lbs_t *b, int64_t ts, str_t *line);
bool lq_lf_run(const lq_lf_t *f, lq_lbs_t *b);
/* Replace the pipe's log-query hints with a sample extractor's (Loki's
 * NewParserHint as LineSampleExtractor / LabelExtractorWithStages call it):
 * g the aggregation's grouping (NULL: none), no_labels for by () and
 * absent_over_time, u the unwrap (NULL: none) whose post filters were
 * added with lq_pipe_add_filter as post[0..npost). Memory from the pipe's
 * arena; called once, before the first lq_pipe_run. */
void lq_pipe_hint_metric(lq_pipe_t *p, const logql_grouping_t *g, bool no_labels, const logql_unwrap_t *u,
                         lq_lf_t *const *post, size_t npost);
/* True when the stages can change labels (parsers, formats, drop, keep). */
bool lq_pipe_touches_labels(const lq_pipe_t *p);
/* The literal |= values to hand to the source as must[]. */
size_t lq_pipe_must(const logql_stage_t *st, size_t n, arena_t *a, str_t **out);

/* ---- metric evaluation (logql_range.c, logql_vec.c) ---- */

/* A series over the query's steps: has[i] says whether step i has a point. */
typedef struct lq_ser {
    label_t *ls;
    size_t nls;
    double *v;
    uint8_t *has;
} lq_ser_t;

typedef struct lq_mat {
    lq_ser_t *s;
    size_t n, cap;
    bool scalar; /* a literal: v in sc */
    double sc;
    int sort; /* sort() 1, sort_desc() -1: an instant vector's order */
} lq_mat_t;

typedef struct lq_ctx {
    const logql_source_t *src;
    const logql_limits_t *lim;
    const logql_query_t *q;
    arena_t *a;
    logql_eval_error_t *err;
    int64_t start, step; /* steps start + i*step, i < nsteps */
    size_t nsteps;
    double t0, deadline; /* clock_mono_s; deadline 0: none */
    logql_stats_t *stats;
} lq_ctx_t;

int lq_fail(lq_ctx_t *c, logql_errtype_t t, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool lq_timed_out(lq_ctx_t *c);
lq_ser_t *lq_mat_add(lq_ctx_t *c, lq_mat_t *m, const label_t *ls, size_t n);
int lq_label_cmp(const label_t *a, size_t na, const label_t *b, size_t nb);
bool lq_labels_eq(const label_t *a, size_t na, const label_t *b, size_t nb);
/* Copy a label set (strings too) into a. */
label_t *lq_labels_dup(arena_t *a, const label_t *ls, size_t n);
/* A label-set index over a matrix's series: find or add. */
typedef struct lq_sindex {
    hmap_t m;
} lq_sindex_t;
lq_ser_t *lq_sindex_get(lq_ctx_t *c, lq_sindex_t *ix, lq_mat_t *m, const label_t *ls, size_t n, bool *created);
void lq_mat_sort(lq_mat_t *m);
/* Evaluate any metric node into a step matrix. */
int lq_eval_node(lq_ctx_t *c, const logql_node_t *n, lq_mat_t *out);
/* Select log's streams over [start, end) into fn; *cb_rc is the callback's
 * failure (already reported through lq_fail). 0 or -1. */
int lq_select(lq_ctx_t *c, const logql_node_t *log, int64_t start, int64_t end, bool backward, logs_select_fn fn,
              void *ctx, const int *cb_rc);
/* push: a parent sum's grouping injected into n (Loki's
 * canInjectVectorGrouping), NULL to use n's own. */
int lq_range_eval(lq_ctx_t *c, const logql_node_t *n, const logql_grouping_t *push, lq_mat_t *out);
int lq_vec_eval(lq_ctx_t *c, const logql_node_t *n, lq_mat_t *out);
int lq_binop_eval(lq_ctx_t *c, const logql_node_t *n, lq_mat_t *out);
int lq_label_replace_eval(lq_ctx_t *c, const logql_node_t *n, lq_mat_t *out);

#endif

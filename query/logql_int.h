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
#include "common/matcher.h"

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

#endif

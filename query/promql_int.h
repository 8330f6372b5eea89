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

#include "common/buf.h"
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

#endif

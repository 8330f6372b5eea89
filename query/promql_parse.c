/* SPDX-License-Identifier: Apache-2.0 */
/*
 * promql_parse: recursive descent with precedence climbing over the token
 * stream of promql_lex, building the arena AST, then promql_check.
 *
 * It mirrors Prometheus' yacc grammar (generated_parser.y): binary
 * precedence or < and/unless < comparisons < +,- < *,/,%,atan2 < ^ (right
 * associative); unary +/- binds like * (so -2^2 is -(2^2)) and folds into
 * a number literal; [range], [range:step], offset and @ bind tightest to
 * the expression just before them. Keywords serve as metric names where
 * yacc's LALR tables let them (an aggregator not followed by "(", by or
 * without is a metric name). Syntax errors name the same context as
 * Prometheus' error productions ("in aggregation", "in label matching,
 * expected string"...). Only the first error is kept. A tree deeper than
 * PARSE_MAX_DEPTH (nesting, operator chains and [..] chains all count) is
 * refused, so neither parsing nor the recursive walks over the tree can
 * exhaust the stack on hostile input.
 */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/str.h"
#include "query/promql_int.h"

#define PARSE_MAX_DEPTH 1000

_Static_assert(TOK_LIMIT_RATIO - TOK_SUM == PROMQL_AGG_LIMIT_RATIO, "aggregator tokens follow promql_agg_op_t");

typedef struct parser {
    const char *q;
    size_t len;
    arena_t *a;
    promql_lexer_t lex;
    promql_token_t tok;  /* lookahead */
    promql_token_t prev; /* last consumed */
    const char *ctx;     /* "aggregation" inside an aggregation body */
    int depth;
    bool failed;
    promql_error_t *err;
    promql_node_t **sels; /* every vector selector made, for cleanup */
    size_t nsels;
    size_t capsels;
} parser_t;

static promql_node_t *parse_expr(parser_t *p, int min_prec);

static void advance(parser_t *p)
{
    p->prev = p->tok;
    p->tok = promql_lex_next(&p->lex);
}

static void fail_at(parser_t *p, size_t pos, const char *msg)
{
    if (!p->failed) {
        p->failed = true;
        promql_set_error(p->err, p->q, p->len, pos, msg);
    }
}

/* Prometheus' parser.unexpected(): a lexer error is reported as is. */
static void unexpected(parser_t *p, const char *ctx, const char *expected)
{
    if (p->tok.kind == TOK_ERROR) {
        fail_at(p, p->tok.pos, p->tok.err);
        return;
    }
    buf_t b = { 0 };
    buf_puts(&b, "unexpected ");
    promql_tok_desc(p->q, p->tok, &b);
    if (ctx == NULL) {
        ctx = p->ctx;
        expected = NULL;
    }
    if (ctx != NULL) {
        buf_printf(&b, " in %s", ctx);
    }
    if (expected != NULL) {
        buf_printf(&b, ", expected %s", expected);
    }
    fail_at(p, p->tok.pos, (const char *)b.data);
    buf_fini(&b);
}

static promql_node_t *new_node(parser_t *p, promql_kind_t kind, uint32_t start)
{
    promql_node_t *n = arena_calloc(p->a, 1, sizeof(*n));
    n->kind = kind;
    n->pos.start = start;
    n->pos.end = p->prev.pos + p->prev.len;
    return n;
}

static void set_end(parser_t *p, promql_node_t *n)
{
    n->pos.end = p->prev.pos + p->prev.len;
}

static bool is_num_digit(char c, bool hex)
{
    return (c >= '0' && c <= '9') || (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
}

/* Go's underscoreOK: each "_" sits between digits (or after "0x"). */
static bool underscores_ok(const char *s, size_t n)
{
    bool hex = n > 1 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '_') {
            continue;
        }
        bool before = i > 0 && (is_num_digit(s[i - 1], hex) || (hex && i == 2));
        bool after = i + 1 < n && is_num_digit(s[i + 1], hex);
        if (!before || !after) {
            return false;
        }
    }
    return true;
}

/* Go's strconv.ParseInt(s, 0, 64), then ParseFloat, as parser.number(). */
static bool parse_int0(const char *s, size_t n, double *out)
{
    unsigned base = 10;
    size_t i = 0;
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
    } else if (n > 1 && s[0] == '0') {
        base = 8;
        i = 1;
    }
    uint64_t v = 0;
    bool any = false;
    for (; i < n; i++) {
        if (s[i] == '_') {
            continue;
        }
        int d = s[i] >= '0' && s[i] <= '9'   ? s[i] - '0'
                : s[i] >= 'a' && s[i] <= 'f' ? s[i] - 'a' + 10
                : s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 10
                                             : 99;
        if ((unsigned)d >= base || v > (UINT64_C(0x7FFFFFFFFFFFFFFF) - (uint64_t)d) / base) {
            return false;
        }
        v = v * base + (uint64_t)d;
        any = true;
    }
    *out = (double)v;
    return any;
}

static double parse_number(parser_t *p, promql_token_t t)
{
    const char *s = p->q + t.pos;
    double v = 0;
    bool us_ok = underscores_ok(s, t.len);
    if (us_ok && parse_int0(s, t.len, &v)) {
        return v;
    }
    /* Go's ParseFloat takes underscores between digits; hex needs a 'p'
     * exponent, which the lexer never lets through. */
    bool hex = t.len > 1 && (s[1] == 'x' || s[1] == 'X');
    char *plain = arena_alloc(p->a, t.len + 1);
    size_t n = 0;
    for (size_t i = 0; i < t.len; i++) {
        if (s[i] != '_') {
            plain[n++] = s[i];
        }
    }
    if (!hex && us_ok && str_parse_double(str_from(plain, n), &v)) {
        return v;
    }
    /* The lexer only lets through float syntax, so a failure that ends in
     * a digit is an overflow (Go: "value out of range"). */
    bool overflow = !hex && us_ok && n > 0 && plain[n - 1] >= '0' && plain[n - 1] <= '9';
    buf_t b = { 0 };
    buf_puts(&b, "error parsing number: strconv.ParseFloat: parsing ");
    promql_quote(s, t.len, 0, &b);
    buf_puts(&b, overflow ? ": value out of range" : ": invalid syntax");
    fail_at(p, t.pos, (const char *)b.data);
    buf_fini(&b);
    return 0;
}

/* A NUMBER (seconds) or DURATION token as milliseconds. */
static int64_t parse_duration_tok(parser_t *p, promql_token_t t)
{
    if (t.kind == TOK_NUMBER) {
        double v = parse_number(p, t) * 1000.0;
        if (!(v > -9.2e18 && v < 9.2e18)) {
            return v > 0 ? INT64_MAX : v < 0 ? INT64_MIN : 0;
        }
        return (int64_t)v;
    }
    int64_t ms = 0;
    if (!str_parse_duration_ms(str_from(p->q + t.pos, t.len), &ms)) {
        buf_t b = { 0 };
        buf_puts(&b, "not a valid duration string: ");
        promql_quote(p->q + t.pos, t.len, 0, &b);
        fail_at(p, t.pos, (const char *)b.data);
        buf_fini(&b);
    } else if (ms == 0) {
        fail_at(p, t.pos, "duration must be greater than 0");
    }
    return ms;
}

static char *unquote_tok(parser_t *p, promql_token_t t, size_t *n)
{
    char *dst = arena_alloc(p->a, t.len + 1);
    if (!promql_unquote(p->q + t.pos, t.len, dst, n)) {
        buf_t b = { 0 };
        buf_puts(&b, "error unquoting string ");
        promql_quote(p->q + t.pos, t.len, 0, &b);
        buf_puts(&b, ": invalid syntax");
        fail_at(p, t.pos, (const char *)b.data);
        buf_fini(&b);
        *n = 0;
    }
    dst[*n] = '\0';
    return dst;
}

static bool is_label_tok(promql_tok_t k)
{
    return k == TOK_IDENT || k == TOK_METRIC_IDENT || k == TOK_LAND || k == TOK_LOR || k == TOK_LUNLESS ||
           k == TOK_ATAN2 || k == TOK_START || k == TOK_END || promql_tok_is_aggregator(k) || promql_tok_is_keyword(k);
}

static void labels_push(parser_t *p, promql_labels_t *l, size_t *cap, char *name)
{
    if (l->n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        char **nn = arena_alloc(p->a, *cap * sizeof(*nn));
        if (l->n) {
            memcpy(nn, l->names, l->n * sizeof(*nn));
        }
        l->names = nn;
    }
    l->names[l->n++] = name;
}

/* grouping_labels: "(" [label {"," label}] [","] ")". */
static void parse_grouping(parser_t *p, promql_labels_t *out)
{
    size_t cap = 0;
    out->n = 0;
    out->names = NULL;
    if (p->tok.kind != TOK_LPAREN) {
        unexpected(p, "grouping opts", "\"(\"");
        return;
    }
    advance(p);
    while (!p->failed && p->tok.kind != TOK_RPAREN) {
        char *name = NULL;
        if (p->tok.kind == TOK_STRING) {
            size_t n = 0;
            name = unquote_tok(p, p->tok, &n);
        } else if (is_label_tok(p->tok.kind) && p->tok.kind != TOK_METRIC_IDENT) {
            name = arena_strndup(p->a, p->q + p->tok.pos, p->tok.len);
        } else {
            /* a metric identifier is reduced to maybe_label first, then
             * rejected with itself still the current item */
            unexpected(p, "grouping opts", "label");
            return;
        }
        advance(p);
        labels_push(p, out, &cap, name);
        if (p->tok.kind == TOK_COMMA) {
            advance(p);
        } else if (p->tok.kind != TOK_RPAREN) {
            unexpected(p, "grouping opts", "\",\" or \")\"");
            return;
        }
    }
    if (!p->failed) {
        advance(p);
    }
}

static void track_selector(parser_t *p, promql_node_t *vs)
{
    if (p->nsels == p->capsels) {
        p->capsels = p->capsels ? p->capsels * 2 : 8;
        promql_node_t **n = arena_alloc(p->a, p->capsels * sizeof(*n));
        if (p->nsels) {
            memcpy(n, p->sels, p->nsels * sizeof(*n));
        }
        p->sels = n;
    }
    p->sels[p->nsels++] = vs;
}

static void add_matcher(parser_t *p, promql_node_t *vs, size_t *cap, match_type_t type, const char *name, size_t nlen,
                        const char *val, size_t vlen, uint32_t pos)
{
    if (vs->u.vs.nmatchers == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        matcher_t *m = arena_calloc(p->a, *cap, sizeof(*m));
        if (vs->u.vs.nmatchers) {
            memcpy(m, vs->u.vs.matchers, vs->u.vs.nmatchers * sizeof(*m));
        }
        vs->u.vs.matchers = m;
    }
    char err[256];
    matcher_t *m = &vs->u.vs.matchers[vs->u.vs.nmatchers];
    if (matcher_init(m, type, str_from(name, nlen), str_from(val, vlen), err, sizeof(err)) != 0) {
        fail_at(p, pos, err);
        return;
    }
    vs->u.vs.nmatchers++;
}

static bool is_match_op(promql_tok_t k, match_type_t *t)
{
    switch (k) {
    case TOK_EQL:
        *t = MATCH_EQ;
        return true;
    case TOK_NEQ:
        *t = MATCH_NEQ;
        return true;
    case TOK_EQL_REGEX:
        *t = MATCH_RE;
        return true;
    case TOK_NEQ_REGEX:
        *t = MATCH_NRE;
        return true;
    default:
        return false;
    }
}

/* One label_matcher; false after an error. */
static bool parse_matcher(parser_t *p, promql_node_t *vs, size_t *cap)
{
    promql_token_t name = p->tok;
    if (name.kind != TOK_IDENT && name.kind != TOK_STRING) {
        unexpected(p, "label matching", "identifier or \"}\"");
        return false;
    }
    advance(p);
    size_t nlen = name.len;
    const char *nm = p->q + name.pos;
    match_type_t type = MATCH_EQ;
    if (name.kind == TOK_STRING) {
        nm = unquote_tok(p, name, &nlen);
        if (!is_match_op(p->tok.kind, &type)) {
            add_matcher(p, vs, cap, MATCH_EQ, "__name__", 8, nm, nlen, name.pos);
            return !p->failed;
        }
    } else if (!is_match_op(p->tok.kind, &type)) {
        unexpected(p, "label matching", "label matching operator");
        return false;
    }
    advance(p);
    if (p->tok.kind != TOK_STRING) {
        unexpected(p, "label matching", "string");
        return false;
    }
    size_t vlen = 0;
    char *val = unquote_tok(p, p->tok, &vlen);
    advance(p);
    if (!p->failed) {
        add_matcher(p, vs, cap, type, nm, nlen, val, vlen, name.pos);
    }
    return !p->failed;
}

static promql_node_t *parse_selector(parser_t *p, bool has_name)
{
    uint32_t start = p->tok.pos;
    promql_node_t *vs = arena_calloc(p->a, 1, sizeof(*vs));
    vs->kind = PROMQL_VECTOR_SEL;
    vs->pos.start = start;
    vs->u.vs.name = "";
    track_selector(p, vs);
    size_t cap = 0;
    if (has_name) {
        vs->u.vs.name = arena_strndup(p->a, p->q + p->tok.pos, p->tok.len);
        advance(p);
    }
    if (p->tok.kind == TOK_LBRACE) {
        advance(p);
        while (p->tok.kind != TOK_RBRACE) {
            if (!parse_matcher(p, vs, &cap)) {
                return NULL;
            }
            if (p->tok.kind == TOK_COMMA) {
                advance(p);
            } else if (p->tok.kind != TOK_RBRACE) {
                unexpected(p, "label matching", "\",\" or \"}\"");
                return NULL;
            }
        }
        advance(p);
    }
    if (has_name) {
        const char *nm = vs->u.vs.name;
        add_matcher(p, vs, &cap, MATCH_EQ, "__name__", 8, nm, strlen(nm), start);
    }
    set_end(p, vs);
    return p->failed ? NULL : vs;
}

/* function_call_body: "(" [expr {"," expr}] ")"; *n gets the count. */
static promql_node_t **parse_call_args(parser_t *p, size_t *n)
{
    size_t cap = 0;
    promql_node_t **args = NULL;
    *n = 0;
    if (p->tok.kind != TOK_LPAREN) {
        unexpected(p, NULL, NULL);
        return NULL;
    }
    advance(p);
    while (p->tok.kind != TOK_RPAREN) {
        promql_node_t *e = parse_expr(p, 0);
        if (e == NULL) {
            return NULL;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 4;
            promql_node_t **na = arena_alloc(p->a, cap * sizeof(*na));
            if (*n) {
                memcpy(na, args, *n * sizeof(*na));
            }
            args = na;
        }
        args[(*n)++] = e;
        if (p->tok.kind == TOK_COMMA) {
            advance(p);
            if (p->tok.kind == TOK_RPAREN) {
                fail_at(p, p->prev.pos, "trailing commas not allowed in function call args");
                return NULL;
            }
        } else if (p->tok.kind != TOK_RPAREN) {
            unexpected(p, NULL, NULL);
            return NULL;
        }
    }
    advance(p);
    return args;
}

static promql_node_t *parse_call(parser_t *p)
{
    promql_token_t name = p->tok;
    advance(p);
    size_t nargs = 0;
    promql_node_t **args = parse_call_args(p, &nargs);
    if (p->failed) {
        return NULL;
    }
    const promql_func_t *f = promql_func_lookup(p->q + name.pos, name.len);
    if (f == NULL) {
        buf_t b = { 0 };
        buf_puts(&b, "unknown function with name ");
        promql_quote(p->q + name.pos, name.len, 0, &b);
        fail_at(p, name.pos, (const char *)b.data);
        buf_fini(&b);
        return NULL;
    }
    promql_node_t *n = new_node(p, PROMQL_CALL, name.pos);
    n->u.call.func = f;
    n->u.call.args = args;
    n->u.call.nargs = nargs;
    return n;
}

static bool agg_has_param(promql_agg_op_t op)
{
    return op == PROMQL_AGG_TOPK || op == PROMQL_AGG_BOTTOMK || op == PROMQL_AGG_QUANTILE ||
           op == PROMQL_AGG_COUNT_VALUES || op == PROMQL_AGG_LIMITK || op == PROMQL_AGG_LIMIT_RATIO;
}

static promql_node_t *parse_aggregate(parser_t *p)
{
    promql_token_t op = p->tok;
    const char *saved = p->ctx;
    p->ctx = "aggregation";
    advance(p);
    promql_node_t *n = new_node(p, PROMQL_AGGREGATE, op.pos);
    n->u.agg.op = (promql_agg_op_t)(op.kind - TOK_SUM);
    bool modifier = p->tok.kind == TOK_BY || p->tok.kind == TOK_WITHOUT;
    if (modifier) {
        n->u.agg.without = p->tok.kind == TOK_WITHOUT;
        advance(p);
        parse_grouping(p, &n->u.agg.grouping);
    }
    size_t nargs = 0;
    promql_node_t **args = p->failed ? NULL : parse_call_args(p, &nargs);
    if (!p->failed && !modifier && (p->tok.kind == TOK_BY || p->tok.kind == TOK_WITHOUT)) {
        n->u.agg.without = p->tok.kind == TOK_WITHOUT;
        advance(p);
        parse_grouping(p, &n->u.agg.grouping);
    }
    p->ctx = saved;
    if (p->failed) {
        return NULL;
    }
    set_end(p, n);
    size_t want = agg_has_param(n->u.agg.op) ? 2 : 1;
    char msg[160];
    if (nargs == 0) {
        fail_at(p, op.pos, "no arguments for aggregate expression provided");
        return NULL;
    }
    if (nargs != want) {
        snprintf(msg, sizeof(msg), "wrong number of arguments for aggregate expression provided, expected %zu, got %zu",
                 want, nargs);
        fail_at(p, op.pos, msg);
        return NULL;
    }
    n->u.agg.param = want == 2 ? args[0] : NULL;
    n->u.agg.expr = args[want - 1];
    return n;
}

static promql_node_t *parse_paren(parser_t *p)
{
    uint32_t start = p->tok.pos;
    advance(p);
    promql_node_t *e = parse_expr(p, 0);
    if (e == NULL) {
        return NULL;
    }
    if (p->tok.kind != TOK_RPAREN) {
        unexpected(p, NULL, NULL);
        return NULL;
    }
    advance(p);
    promql_node_t *n = new_node(p, PROMQL_PAREN, start);
    n->u.paren.expr = e;
    return n;
}

static bool is_metric_name_tok(promql_tok_t k)
{
    return k == TOK_IDENT || k == TOK_METRIC_IDENT || k == TOK_LAND || k == TOK_LOR || k == TOK_LUNLESS ||
           k == TOK_BY || k == TOK_WITHOUT || k == TOK_OFFSET || k == TOK_START || k == TOK_END ||
           promql_tok_is_aggregator(k);
}

/* Peek the token after the lookahead without consuming. */
static promql_tok_t peek2(const parser_t *p)
{
    promql_lexer_t copy = p->lex;
    return promql_lex_next(&copy).kind;
}

static promql_node_t *parse_primary(parser_t *p)
{
    promql_token_t t = p->tok;
    promql_node_t *n = NULL;
    if (t.kind == TOK_NUMBER || t.kind == TOK_DURATION) {
        advance(p);
        n = new_node(p, PROMQL_NUMBER, t.pos);
        n->u.num.duration = t.kind == TOK_DURATION;
        n->u.num.val = n->u.num.duration ? (double)parse_duration_tok(p, t) / 1000.0 : parse_number(p, t);
    } else if (t.kind == TOK_STRING) {
        advance(p);
        n = new_node(p, PROMQL_STRING, t.pos);
        n->u.str.val = unquote_tok(p, t, &n->u.str.len);
    } else if (t.kind == TOK_LPAREN) {
        n = parse_paren(p);
    } else if (t.kind == TOK_LBRACE) {
        n = parse_selector(p, false);
    } else if (promql_tok_is_aggregator(t.kind)) {
        promql_tok_t k2 = peek2(p);
        n = (k2 == TOK_LPAREN || k2 == TOK_BY || k2 == TOK_WITHOUT) ? parse_aggregate(p) : parse_selector(p, true);
    } else if ((t.kind == TOK_IDENT || t.kind == TOK_START || t.kind == TOK_END) && peek2(p) == TOK_LPAREN) {
        n = parse_call(p);
    } else if (is_metric_name_tok(t.kind)) {
        n = parse_selector(p, true);
    } else {
        unexpected(p, NULL, NULL);
    }
    return p->failed ? NULL : n;
}

static bool is_dur_tok(promql_tok_t k)
{
    return k == TOK_NUMBER || k == TOK_DURATION;
}

static promql_node_t *parse_bracket(parser_t *p, promql_node_t *e)
{
    promql_token_t lb = p->tok;
    advance(p);
    if (!is_dur_tok(p->tok.kind)) {
        unexpected(p, "subquery selector", "number or duration");
        return NULL;
    }
    int64_t range = parse_duration_tok(p, p->tok);
    advance(p);
    if (p->tok.kind == TOK_RBRACKET) {
        advance(p);
        const char *msg = e->kind != PROMQL_VECTOR_SEL   ? "ranges only allowed for vector selectors"
                          : e->u.vs.offset_ms != 0       ? "no offset modifiers allowed before range"
                          : e->u.vs.at != PROMQL_AT_NONE ? "no @ modifiers allowed before range"
                                                         : NULL;
        if (msg != NULL) {
            fail_at(p, lb.pos, msg);
        }
        promql_node_t *n = new_node(p, PROMQL_MATRIX_SEL, e->pos.start);
        n->u.ms.vs = e;
        n->u.ms.range_ms = range;
        return p->failed ? NULL : n;
    }
    if (p->tok.kind != TOK_COLON) {
        unexpected(p, "subquery or range", "\":\" or \"]\"");
        return NULL;
    }
    advance(p);
    int64_t step = 0;
    if (is_dur_tok(p->tok.kind)) {
        step = parse_duration_tok(p, p->tok);
        advance(p);
        if (p->tok.kind != TOK_RBRACKET) {
            unexpected(p, "subquery selector", "\"]\"");
            return NULL;
        }
    } else if (p->tok.kind != TOK_RBRACKET) {
        unexpected(p, "subquery selector", "number or duration or \"]\"");
        return NULL;
    }
    advance(p);
    promql_node_t *n = new_node(p, PROMQL_SUBQUERY, e->pos.start);
    n->u.sq.expr = e;
    n->u.sq.range_ms = range;
    n->u.sq.step_ms = step;
    return p->failed ? NULL : n;
}

/* The offset and @ fields of e (a selector, the selector of a range, or a
 * subquery); NULL with an error otherwise. */
static bool modifier_target(parser_t *p, promql_node_t *e, const char *what, int64_t **off, promql_at_t **at,
                            int64_t **at_ms)
{
    promql_node_t *t = e->kind == PROMQL_MATRIX_SEL ? e->u.ms.vs : e;
    if (t->kind == PROMQL_VECTOR_SEL) {
        *off = &t->u.vs.offset_ms;
        *at = &t->u.vs.at;
        *at_ms = &t->u.vs.at_ms;
    } else if (t->kind == PROMQL_SUBQUERY) {
        *off = &t->u.sq.offset_ms;
        *at = &t->u.sq.at;
        *at_ms = &t->u.sq.at_ms;
    } else {
        char msg[160];
        snprintf(msg, sizeof(msg),
                 "%s modifier must be preceded by an instant vector selector or range vector selector or a subquery",
                 what);
        fail_at(p, e->pos.start, msg);
        return false;
    }
    return true;
}

static void parse_offset(parser_t *p, promql_node_t *e)
{
    advance(p);
    bool neg = p->tok.kind == TOK_SUB;
    if (neg) {
        advance(p);
    }
    if (!is_dur_tok(p->tok.kind)) {
        unexpected(p, "offset", "number or duration");
        return;
    }
    int64_t ms = parse_duration_tok(p, p->tok);
    advance(p);
    int64_t *off = NULL;
    promql_at_t *at = NULL;
    int64_t *at_ms = NULL;
    if (p->failed || !modifier_target(p, e, "offset", &off, &at, &at_ms)) {
        return;
    }
    if (*off != 0) {
        fail_at(p, e->pos.start, "offset may not be set multiple times");
        return;
    }
    *off = neg ? -ms : ms;
    set_end(p, e);
}

static void parse_at(parser_t *p, promql_node_t *e)
{
    advance(p);
    promql_at_t kind = PROMQL_AT_TIMESTAMP;
    double ts = 0;
    if (p->tok.kind == TOK_START || p->tok.kind == TOK_END) {
        kind = p->tok.kind == TOK_START ? PROMQL_AT_START : PROMQL_AT_END;
        advance(p);
        if (p->tok.kind != TOK_LPAREN || peek2(p) != TOK_RPAREN) {
            if (p->tok.kind == TOK_LPAREN) {
                advance(p);
            }
            unexpected(p, "@", "timestamp");
            return;
        }
        advance(p);
        advance(p);
    } else {
        bool neg = p->tok.kind == TOK_SUB;
        if (neg || p->tok.kind == TOK_ADD) {
            advance(p);
        }
        if (!is_dur_tok(p->tok.kind)) {
            unexpected(p, "@", "timestamp");
            return;
        }
        ts = p->tok.kind == TOK_NUMBER ? parse_number(p, p->tok) : (double)parse_duration_tok(p, p->tok) / 1000.0;
        ts = neg ? -ts : ts;
        advance(p);
    }
    int64_t *off = NULL;
    promql_at_t *at = NULL;
    int64_t *at_ms = NULL;
    if (kind == PROMQL_AT_TIMESTAMP && !(ts < 9.223372036854775807e18 && ts > -9.223372036854775807e18)) {
        char msg[128];
        snprintf(msg, sizeof(msg), "timestamp out of bounds for @ modifier: %s",
                 isnan(ts) ? "NaN"
                 : ts > 0  ? "+Inf"
                           : "-Inf");
        if (!isinf(ts) && !isnan(ts)) {
            snprintf(msg, sizeof(msg), "timestamp out of bounds for @ modifier: %f", ts);
        }
        fail_at(p, e->pos.start, msg);
        return;
    }
    if (p->failed || !modifier_target(p, e, "@", &off, &at, &at_ms)) {
        return;
    }
    if (*at != PROMQL_AT_NONE) {
        fail_at(p, e->pos.start, "@ <timestamp> may not be set multiple times");
        return;
    }
    *at = kind;
    double ms = round(ts * 1000.0);
    *at_ms = ms >= 9.2e18 ? INT64_MAX : ms <= -9.2e18 ? INT64_MIN : (int64_t)ms;
    set_end(p, e);
}

/* Primary followed by any number of [..], offset and @ modifiers. */
static promql_node_t *parse_postfix(parser_t *p)
{
    promql_node_t *e = parse_primary(p);
    int chain = 0;
    while (e != NULL && !p->failed) {
        if (p->tok.kind == TOK_LBRACKET) {
            if (p->depth + ++chain > PARSE_MAX_DEPTH) {
                fail_at(p, p->tok.pos, "expression nesting too deep");
                break;
            }
            e = parse_bracket(p, e);
        } else if (p->tok.kind == TOK_OFFSET) {
            parse_offset(p, e);
        } else if (p->tok.kind == TOK_AT) {
            parse_at(p, e);
        } else {
            break;
        }
    }
    return p->failed ? NULL : e;
}

static int binop_prec(promql_tok_t k, promql_op_t *op)
{
    static const struct {
        promql_tok_t tok;
        promql_op_t op;
        int prec;
    } t[] = {
        { TOK_LOR, PROMQL_OP_OR, 1 },    { TOK_LAND, PROMQL_OP_AND, 2 }, { TOK_LUNLESS, PROMQL_OP_UNLESS, 2 },
        { TOK_EQLC, PROMQL_OP_EQLC, 3 }, { TOK_NEQ, PROMQL_OP_NEQ, 3 },  { TOK_GTR, PROMQL_OP_GTR, 3 },
        { TOK_LSS, PROMQL_OP_LSS, 3 },   { TOK_GTE, PROMQL_OP_GTE, 3 },  { TOK_LTE, PROMQL_OP_LTE, 3 },
        { TOK_ADD, PROMQL_OP_ADD, 4 },   { TOK_SUB, PROMQL_OP_SUB, 4 },  { TOK_MUL, PROMQL_OP_MUL, 5 },
        { TOK_DIV, PROMQL_OP_DIV, 5 },   { TOK_MOD, PROMQL_OP_MOD, 5 },  { TOK_ATAN2, PROMQL_OP_ATAN2, 5 },
        { TOK_POW, PROMQL_OP_POW, 6 },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (t[i].tok == k) {
            *op = t[i].op;
            return t[i].prec;
        }
    }
    return 0;
}

#define PREC_MUL 5
#define PREC_POW 6

static promql_node_t *parse_unary(parser_t *p)
{
    if (p->tok.kind != TOK_ADD && p->tok.kind != TOK_SUB) {
        return parse_postfix(p);
    }
    promql_token_t op = p->tok;
    advance(p);
    promql_node_t *e = parse_expr(p, PREC_MUL + 1);
    if (e == NULL) {
        return NULL;
    }
    if (e->kind == PROMQL_NUMBER) {
        if (op.kind == TOK_SUB) {
            e->u.num.val = -e->u.num.val;
        }
        e->pos.start = op.pos;
        return e;
    }
    promql_node_t *n = new_node(p, PROMQL_UNARY, op.pos);
    n->u.unary.neg = op.kind == TOK_SUB;
    n->u.unary.expr = e;
    return n;
}

/* bin_modifier: [bool] [(on|ignoring) labels [(group_left|group_right) [labels]]]. */
static void parse_bin_modifiers(parser_t *p, promql_node_t *n)
{
    if (p->tok.kind == TOK_BOOL) {
        n->u.bin.return_bool = true;
        advance(p);
    }
    if (p->tok.kind != TOK_ON && p->tok.kind != TOK_IGNORING) {
        return;
    }
    n->u.bin.on = p->tok.kind == TOK_ON;
    advance(p);
    parse_grouping(p, &n->u.bin.labels);
    if (!p->failed && (p->tok.kind == TOK_GROUP_LEFT || p->tok.kind == TOK_GROUP_RIGHT)) {
        n->u.bin.card = p->tok.kind == TOK_GROUP_LEFT ? PROMQL_CARD_MANY_TO_ONE : PROMQL_CARD_ONE_TO_MANY;
        advance(p);
        if (p->tok.kind == TOK_LPAREN) {
            parse_grouping(p, &n->u.bin.include);
        }
    }
}

static promql_node_t *parse_expr(parser_t *p, int min_prec)
{
    if (++p->depth > PARSE_MAX_DEPTH) {
        fail_at(p, p->tok.pos, "expression nesting too deep");
        return NULL;
    }
    promql_node_t *lhs = parse_unary(p);
    promql_op_t op = PROMQL_OP_ADD;
    int prec = 0;
    int chain = 0;
    while (lhs != NULL && (prec = binop_prec(p->tok.kind, &op)) >= min_prec && prec > 0) {
        if (p->depth + 1 > PARSE_MAX_DEPTH) {
            fail_at(p, p->tok.pos, "expression nesting too deep");
            lhs = NULL;
            break;
        }
        chain++;
        p->depth++;
        advance(p);
        promql_node_t *n = arena_calloc(p->a, 1, sizeof(*n));
        n->kind = PROMQL_BINARY;
        n->pos.start = lhs->pos.start;
        n->u.bin.op = op;
        n->u.bin.lhs = lhs;
        n->u.bin.matching = true;
        parse_bin_modifiers(p, n);
        n->u.bin.rhs = p->failed ? NULL : parse_expr(p, prec == PREC_POW ? prec : prec + 1);
        if (n->u.bin.rhs == NULL) {
            lhs = NULL;
            break;
        }
        set_end(p, n);
        lhs = n;
    }
    p->depth -= chain + 1;
    return p->failed ? NULL : lhs;
}

static void release_sels(parser_t *p)
{
    for (size_t i = 0; i < p->nsels; i++) {
        for (size_t k = 0; k < p->sels[i]->u.vs.nmatchers; k++) {
            matcher_fini(&p->sels[i]->u.vs.matchers[k]);
        }
        p->sels[i]->u.vs.nmatchers = 0;
    }
}

int promql_parse(const char *q, size_t len, arena_t *a, promql_node_t **out, promql_error_t *err)
{
    assert(a != NULL && out != NULL && err != NULL);
    assert(q != NULL || len == 0);
    parser_t p = { .q = q, .len = len, .a = a, .err = err };
    memset(err, 0, sizeof(*err));
    *out = NULL;
    promql_lex_init(&p.lex, q, len);
    advance(&p);
    promql_node_t *root = NULL;
    if (p.tok.kind == TOK_EOF) {
        fail_at(&p, 0, "no expression found in input");
        goto fail;
    }
    root = parse_expr(&p, 0);
    if (root != NULL && p.tok.kind != TOK_EOF) {
        unexpected(&p, NULL, NULL);
    }
    if (p.failed || promql_check(q, len, root, err) != 0) {
        goto fail;
    }
    *out = root;
    return 0;
fail:
    release_sels(&p);
    return -1;
}

int promql_parse_selector(const char *q, size_t len, arena_t *a, promql_node_t **out, promql_error_t *err)
{
    if (promql_parse(q, len, a, out, err) != 0) {
        return -1;
    }
    const promql_node_t *n = *out;
    if (n->kind == PROMQL_VECTOR_SEL && n->u.vs.offset_ms == 0 && n->u.vs.at == PROMQL_AT_NONE) {
        return 0;
    }
    promql_release(*out);
    *out = NULL;
    memset(err, 0, sizeof(*err));
    err->line = 1;
    err->col = (unsigned)n->pos.start + 1;
    err->pos = n->pos.start;
    snprintf(err->msg, sizeof(err->msg), "1:%u: parse error: expected a series selector, got %s", err->col,
             n->kind == PROMQL_VECTOR_SEL ? "a selector with offset or @" : "an expression");
    return -1;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logql_parse: recursive descent over Loki's LogQL grammar (expr.y),
 * written from the grammar's rules, not from goyacc's tables.
 *
 * Core idea: one function per rule. Binary operators climb precedence as
 * Loki declares it (or < and/unless < comparisons < + - < * / % < ^, all
 * left-associative but ^). Label filters follow goyacc's resolution of
 * expr.y's conflicts: "," and juxtaposition always shift, so "a, b or c"
 * is a AND (b OR c), while "and" binds tighter than "or". Log queries and
 * metric queries share one expression parser; the node kind says which
 * one a subtree is, and the checks Loki makes when building nodes (leg
 * types, parameters, unwrap rules) are recorded on the node and reported
 * by a top-down pass after the syntax is known to be good, as Loki does.
 *
 * Invariants: the first syntax error stops the parse (p->failed); all
 * memory comes from the arena; recursion depth is bounded by
 * LOGQL_MAX_DEPTH. Regexes are compiled with common/matcher only to be
 * validated, and freed at once.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/logql_int.h"
#include "query/promql_int.h"

typedef struct parser {
    const char *q;
    size_t len;
    arena_t *a;
    logql_lexer_t lx;
    logql_token_t tok;
    logql_error_t *err;
    bool failed;
    int depth;
} parser_t;

static const char errAtLeastOne[] =
    "queries require at least one regexp or equality matcher that does not have an empty-compatible value. "
    "For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will";

static void next(parser_t *p)
{
    p->tok = logql_lex_next(&p->lx);
}

static logql_token_t peek(const parser_t *p)
{
    logql_lexer_t copy = p->lx;
    return logql_lex_next(&copy);
}

static bool tok_is(const parser_t *p, logql_token_t t, const char *kw)
{
    size_t n = strlen(kw);
    return t.kind == LQT_IDENT && t.len == n && memcmp(p->q + t.pos, kw, n) == 0;
}

static bool is_kw(const parser_t *p, const char *kw)
{
    return tok_is(p, p->tok, kw);
}

/* "parse error at line L, col C: msg"; line 0 keeps Loki's invalidated
 * scanner position after a range token. */
static void fail_at(parser_t *p, size_t pos, bool line0, const char *msg)
{
    if (p->failed) {
        return;
    }
    p->failed = true;
    unsigned line = 0;
    unsigned col = 0;
    logql_line_col(p->q, p->len, pos, &line, &col);
    if (line0) {
        line = 0;
    }
    p->err->line = line;
    p->err->col = col;
    p->err->pos = pos;
    snprintf(p->err->msg, sizeof(p->err->msg), "parse error at line %u, col %u: %s", line, col, msg);
}

/* An error Loki raises with position 0,0 ("parse error : msg"). */
static void fail_plain(logql_error_t *err, const char *msg)
{
    err->line = 0;
    err->col = 0;
    err->pos = 0;
    snprintf(err->msg, sizeof(err->msg), "parse error : %s", msg);
}

static void fail_sem(parser_t *p, const char *msg)
{
    if (!p->failed) {
        p->failed = true;
        fail_plain(p->err, msg);
    }
}

/* goyacc's "syntax error: unexpected X[, expecting Y]" at the current
 * token; a lexer error is reported as the lexer worded it. */
static void syntax_error(parser_t *p, const char *expecting)
{
    if (p->failed) {
        return;
    }
    logql_token_t t = p->tok;
    if (t.kind == LQT_ERROR) {
        bool line0 = strstr(t.err, "duration") != NULL;
        fail_at(p, t.pos, line0, t.err);
        return;
    }
    buf_t b = { 0 };
    buf_puts(&b, "syntax error: unexpected ");
    logql_tok_desc(p->q, t, &b);
    if (expecting != NULL) {
        buf_printf(&b, ", expecting %s", expecting);
    }
    buf_putc(&b, 0);
    fail_at(p, t.pos, t.kind == LQT_RANGE, (const char *)b.data);
    buf_fini(&b);
}

static bool expect(parser_t *p, logql_tok_t kind, const char *expecting)
{
    if (p->failed) {
        return false;
    }
    if (p->tok.kind != kind) {
        syntax_error(p, expecting);
        return false;
    }
    next(p);
    return true;
}

static const char *sem_msg(parser_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *sem_msg(parser_t *p, const char *fmt, ...)
{
    buf_t b = { 0 };
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    char *s = arena_strndup(p->a, (const char *)b.data, b.len);
    buf_fini(&b);
    return s;
}

static logql_str_t tok_text(parser_t *p, logql_token_t t)
{
    logql_str_t s = { arena_strndup(p->a, p->q + t.pos, t.len), t.len };
    return s;
}

/* The current STRING token, unquoted; false (error set) if not a string. */
static bool take_string(parser_t *p, logql_str_t *out, const char *expecting)
{
    if (p->failed) {
        return false;
    }
    if (p->tok.kind != LQT_STRING) {
        syntax_error(p, expecting);
        return false;
    }
    char *dst = arena_alloc(p->a, p->tok.len + 1);
    size_t n = 0;
    if (!promql_unquote(p->q + p->tok.pos, p->tok.len, dst, &n)) {
        fail_at(p, p->tok.pos, false, "invalid syntax");
        return false;
    }
    dst[n] = 0;
    out->p = dst;
    out->len = n;
    next(p);
    return true;
}

static bool take_ident(parser_t *p, logql_str_t *out, const char *expecting)
{
    if (p->failed) {
        return false;
    }
    if (p->tok.kind != LQT_IDENT) {
        syntax_error(p, expecting);
        return false;
    }
    *out = tok_text(p, p->tok);
    next(p);
    return true;
}

/* Append one element of size sz to an arena array, doubling as needed. */
static void *push(parser_t *p, void *arr, size_t *n, size_t *cap, size_t sz)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        void *na = arena_alloc(p->a, nc * sz);
        if (*n > 0) {
            memcpy(na, arr, *n * sz);
        }
        arr = na;
        *cap = nc;
    }
    (*n)++;
    return arr;
}

static logql_node_t *new_node(parser_t *p, logql_kind_t kind)
{
    logql_node_t *n = arena_calloc(p->a, 1, sizeof(*n));
    n->kind = kind;
    return n;
}

/* Compile a matcher to check it (regex syntax); reports Loki's panic
 * text "parse error : error parsing regexp: ..." on failure. */
static bool check_matcher(parser_t *p, const logql_matcher_t *m)
{
    if (m->type != MATCH_RE && m->type != MATCH_NRE) {
        return true;
    }
    matcher_t mt;
    char err[256] = { 0 };
    if (matcher_init(&mt, m->type, str_from(m->name.p, m->name.len), str_from(m->value.p, m->value.len), err,
                     sizeof(err)) != 0) {
        fail_sem(p, err);
        return false;
    }
    matcher_fini(&mt);
    return true;
}

static bool match_op(logql_tok_t k, match_type_t *t)
{
    switch (k) {
    case LQT_EQ:
        *t = MATCH_EQ;
        return true;
    case LQT_NEQ:
        *t = MATCH_NEQ;
        return true;
    case LQT_RE:
        *t = MATCH_RE;
        return true;
    case LQT_NRE:
        *t = MATCH_NRE;
        return true;
    default:
        return false;
    }
}

/* name op "value" (the current token is the name). */
static bool parse_matcher(parser_t *p, logql_matcher_t *m)
{
    if (!take_ident(p, &m->name, "IDENTIFIER")) {
        return false;
    }
    if (!match_op(p->tok.kind, &m->type)) {
        syntax_error(p, NULL);
        return false;
    }
    next(p);
    return take_string(p, &m->value, "STRING") && check_matcher(p, m);
}

static logql_node_t *parse_log(parser_t *p, logql_unwrap_t **uw);

/* {m1, m2, ...} */
static logql_node_t *parse_selector(parser_t *p)
{
    logql_node_t *n = new_node(p, LQ_LOG);
    size_t cap = 0;
    if (!expect(p, LQT_LBRACE, NULL)) {
        return NULL;
    }
    for (;;) {
        n->u.log.m = push(p, n->u.log.m, &n->u.log.nm, &cap, sizeof(logql_matcher_t));
        if (!parse_matcher(p, &n->u.log.m[n->u.log.nm - 1])) {
            return NULL;
        }
        if (p->tok.kind == LQT_RBRACE) {
            next(p);
            return n;
        }
        if (!expect(p, LQT_COMMA, "} or ,")) {
            return NULL;
        }
    }
}

/* ---- label filters ---- */

static bool is_juxt_start(const parser_t *p)
{
    if (p->tok.kind == LQT_LPAREN) {
        return true;
    }
    if (p->tok.kind != LQT_IDENT) {
        return false;
    }
    buf_t b = { 0 };
    logql_tok_desc(p->q, p->tok, &b);
    bool plain = b.len == 10 && memcmp(b.data, "IDENTIFIER", 10) == 0;
    buf_fini(&b);
    return plain;
}

static logql_lblf_t *parse_lf_full(parser_t *p, int minprec);
static bool is_stage_kw(const parser_t *p);

static bool cmp_op(logql_tok_t k, logql_cmp_t *c)
{
    static const struct {
        logql_tok_t t;
        logql_cmp_t c;
    } map[] = { { LQT_EQ, LQ_CMP_EQ },   { LQT_CMP_EQ, LQ_CMP_EQ }, { LQT_NEQ, LQ_CMP_NEQ }, { LQT_GT, LQ_CMP_GT },
                { LQT_GTE, LQ_CMP_GTE }, { LQT_LT, LQ_CMP_LT },     { LQT_LTE, LQ_CMP_LTE } };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (map[i].t == k) {
            *c = map[i].c;
            return true;
        }
    }
    return false;
}

/* A number, duration or size after a comparison (name and op consumed). */
static bool parse_lf_value(parser_t *p, logql_lblf_t *f)
{
    logql_token_t t = p->tok;
    if (t.kind == LQT_DURATION) {
        int64_t ms = 0;
        f->kind = LQ_LBL_DURATION;
        if (logql_parse_model_duration(p->q + t.pos, t.len, &ms)) {
            f->dur_ns = ms * 1000000;
        } else {
            logql_parse_go_duration(p->q + t.pos, t.len, &f->dur_ns);
        }
        next(p);
        return true;
    }
    if (t.kind == LQT_BYTES) {
        f->kind = LQ_LBL_BYTES;
        logql_parse_bytes(p->q + t.pos, t.len, &f->bytes);
        next(p);
        return true;
    }
    bool neg = false;
    if (t.kind == LQT_ADD || t.kind == LQT_SUB) {
        neg = t.kind == LQT_SUB;
        next(p);
        if (p->tok.kind != LQT_NUMBER) {
            syntax_error(p, "NUMBER");
            return false;
        }
        t = p->tok;
    }
    if (t.kind != LQT_NUMBER) {
        syntax_error(p, "BYTES or NUMBER or DURATION");
        return false;
    }
    logql_str_t s = tok_text(p, t);
    f->kind = LQ_LBL_NUMBER;
    f->num = strtod(s.p, NULL);
    if (!isfinite(f->num)) {
        fail_sem(p, sem_msg(p, "unable to parse float: strconv.ParseFloat: parsing \"%s\": value out of range", s.p));
        return false;
    }
    f->num = neg ? -f->num : f->num;
    next(p);
    return true;
}

static logql_lblf_t *parse_lf_primary(parser_t *p)
{
    if (p->tok.kind == LQT_LPAREN) {
        next(p);
        logql_lblf_t *f = parse_lf_full(p, 0);
        return f != NULL && expect(p, LQT_RPAREN, NULL) ? f : NULL;
    }
    logql_lblf_t *f = arena_calloc(p->a, 1, sizeof(*f));
    if (is_stage_kw(p) || is_kw(p, "unwrap")) {
        syntax_error(p, NULL); /* tokens of their own in Loki, never label names */
        return NULL;
    }
    if (!take_ident(p, &f->name, NULL)) {
        return NULL;
    }
    logql_tok_t op = p->tok.kind;
    if ((op == LQT_EQ || op == LQT_NEQ || op == LQT_RE || op == LQT_NRE) &&
        (peek(p).kind == LQT_STRING || op == LQT_RE || op == LQT_NRE)) {
        f->kind = LQ_LBL_STRING;
        match_op(op, &f->m.type);
        f->m.name = f->name;
        next(p);
        return take_string(p, &f->m.value, "STRING") && check_matcher(p, &f->m) ? f : NULL;
    }
    if (!cmp_op(op, &f->cmp)) {
        syntax_error(p, NULL);
        return NULL;
    }
    next(p);
    return parse_lf_value(p, f) ? f : NULL;
}

static logql_lblf_t *lf_bin(parser_t *p, logql_lbl_kind_t kind, logql_lblf_t *l, logql_lblf_t *r)
{
    logql_lblf_t *f = arena_calloc(p->a, 1, sizeof(*f));
    f->kind = kind;
    f->left = l;
    f->right = r;
    return f;
}

/* primary [ ("," | juxtaposition) full ] */
static logql_lblf_t *parse_lf_operand(parser_t *p)
{
    if (++p->depth > LOGQL_MAX_DEPTH) {
        fail_sem(p, "query is nested too deeply");
        return NULL;
    }
    logql_lblf_t *f = parse_lf_primary(p);
    if (f != NULL && !p->failed && (p->tok.kind == LQT_COMMA || is_juxt_start(p))) {
        if (p->tok.kind == LQT_COMMA) {
            next(p);
        }
        logql_lblf_t *r = parse_lf_full(p, 0);
        f = r == NULL ? NULL : lf_bin(p, LQ_LBL_AND, f, r);
    }
    p->depth--;
    return f;
}

static logql_lblf_t *parse_lf_full(parser_t *p, int minprec)
{
    logql_lblf_t *l = parse_lf_operand(p);
    while (l != NULL && !p->failed) {
        int prec = is_kw(p, "or") ? 1 : is_kw(p, "and") ? 2 : 0;
        if (prec == 0 || prec < minprec) {
            break;
        }
        next(p);
        logql_lblf_t *r = parse_lf_full(p, prec + 1);
        l = r == NULL ? NULL : lf_bin(p, prec == 1 ? LQ_LBL_OR : LQ_LBL_AND, l, r);
    }
    return p->failed ? NULL : l;
}

/* ---- pipeline stages ---- */

static bool line_filter_op(logql_tok_t k, logql_lf_op_t *op)
{
    static const struct {
        logql_tok_t t;
        logql_lf_op_t op;
    } map[] = { { LQT_PIPE_EXACT, LQ_LF_EQ }, { LQT_NEQ, LQ_LF_NEQ },          { LQT_PIPE_MATCH, LQ_LF_RE },
                { LQT_NRE, LQ_LF_NRE },       { LQT_PIPE_PATTERN, LQ_LF_PAT }, { LQT_NPA, LQ_LF_NPAT } };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (map[i].t == k) {
            *op = map[i].op;
            return true;
        }
    }
    return false;
}

typedef struct stages {
    logql_stage_t *v;
    size_t n, cap;
} stages_t;

static logql_stage_t *add_stage(parser_t *p, stages_t *s, logql_stage_kind_t kind)
{
    s->v = push(p, s->v, &s->n, &s->cap, sizeof(logql_stage_t));
    logql_stage_t *st = &s->v[s->n - 1];
    memset(st, 0, sizeof(*st));
    st->kind = kind;
    return st;
}

/* op "a" [or "b" ...]; a negated filter with "or" becomes one stage per
 * value, as Loki's newNestedLineFilterExpr rewrites it. */
static bool parse_line_filter(parser_t *p, stages_t *s)
{
    logql_lf_op_t op = LQ_LF_EQ;
    line_filter_op(p->tok.kind, &op);
    next(p);
    logql_str_t *vals = NULL;
    size_t n = 0;
    size_t cap = 0;
    do {
        vals = push(p, vals, &n, &cap, sizeof(*vals));
        if (!take_string(p, &vals[n - 1], "STRING or ip")) {
            return false;
        }
    } while (is_kw(p, "or") && (next(p), true));
    bool neg = op == LQ_LF_NEQ || op == LQ_LF_NRE || op == LQ_LF_NPAT;
    for (size_t i = 0; i < (neg ? n : 1); i++) {
        logql_stage_t *st = add_stage(p, s, LQ_ST_LINE_FILTER);
        st->lf_op = op;
        st->vals = neg ? &vals[i] : vals;
        st->nvals = neg ? 1 : n;
    }
    return true;
}

/* json/logfmt parameters: name="expr" or name, comma separated. */
static bool parse_extractions(parser_t *p, logql_stage_t *st)
{
    size_t cap = 0;
    while (p->tok.kind == LQT_IDENT && !p->failed) {
        st->kvs = push(p, st->kvs, &st->nkvs, &cap, sizeof(logql_kv_t));
        logql_kv_t *kv = &st->kvs[st->nkvs - 1];
        memset(kv, 0, sizeof(*kv));
        take_ident(p, &kv->name, NULL);
        kv->value = kv->name;
        if (p->tok.kind == LQT_EQ) {
            next(p);
            take_string(p, &kv->value, "STRING");
        }
        if (p->tok.kind != LQT_COMMA) {
            break;
        }
        next(p);
        if (p->tok.kind != LQT_IDENT) {
            syntax_error(p, "IDENTIFIER");
        }
    }
    return !p->failed;
}

/* label_format a=b, c="tmpl"; drop/keep a, b="v" */
static bool parse_kv_list(parser_t *p, logql_stage_t *st)
{
    size_t cap = 0;
    do {
        st->kvs = push(p, st->kvs, &st->nkvs, &cap, sizeof(logql_kv_t));
        logql_kv_t *kv = &st->kvs[st->nkvs - 1];
        memset(kv, 0, sizeof(*kv));
        if (!take_ident(p, &kv->name, "IDENTIFIER")) {
            return false;
        }
        if (st->kind == LQ_ST_LABEL_FORMAT) {
            if (!expect(p, LQT_EQ, "=")) {
                return false;
            }
            kv->rename = p->tok.kind == LQT_IDENT;
            if (kv->rename ? !take_ident(p, &kv->value, NULL) : !take_string(p, &kv->value, "IDENTIFIER or STRING")) {
                return false;
            }
        } else if (match_op(p->tok.kind, &kv->type)) {
            kv->has_matcher = true;
            next(p);
            logql_matcher_t m = { kv->type, kv->name, { "", 0 } };
            if (!take_string(p, &kv->value, "STRING") || (m.value = kv->value, !check_matcher(p, &m))) {
                return false;
            }
        }
    } while (p->tok.kind == LQT_COMMA && (next(p), true));
    return true;
}

static logql_unwrap_t *parse_unwrap(parser_t *p)
{
    logql_unwrap_t *u = arena_calloc(p->a, 1, sizeof(*u));
    static const char *const convs[] = { "bytes", "duration", "duration_seconds" };
    for (size_t i = 0; i < 3; i++) {
        if (is_kw(p, convs[i]) && peek(p).kind == LQT_LPAREN) {
            u->conv = (logql_conv_t)(i + 1);
            next(p);
            next(p);
            return take_ident(p, &u->ident, "IDENTIFIER") && expect(p, LQT_RPAREN, ")") ? u : NULL;
        }
    }
    return take_ident(p, &u->ident, "IDENTIFIER") ? u : NULL;
}

/* One "| keyword ..." stage (the pipe consumed, the keyword current). */
static bool parse_keyword_stage(parser_t *p, stages_t *s)
{
    static const struct {
        const char *kw;
        logql_stage_kind_t kind;
    } kws[] = { { "json", LQ_ST_JSON },
                { "logfmt", LQ_ST_LOGFMT },
                { "regexp", LQ_ST_REGEXP },
                { "pattern", LQ_ST_PATTERN },
                { "unpack", LQ_ST_UNPACK },
                { "line_format", LQ_ST_LINE_FORMAT },
                { "label_format", LQ_ST_LABEL_FORMAT },
                { "drop", LQ_ST_DROP },
                { "keep", LQ_ST_KEEP },
                { "decolorize", LQ_ST_DECOLORIZE } };
    size_t i = 0;
    while (i < sizeof(kws) / sizeof(kws[0]) && !is_kw(p, kws[i].kw)) {
        i++;
    }
    logql_stage_t *st = add_stage(p, s, kws[i].kind);
    next(p);
    switch (st->kind) {
    case LQ_ST_LOGFMT:
        while (p->tok.kind == LQT_FLAG) {
            bool strict = p->q[p->tok.pos + 2] == 's';
            st->strict |= strict;
            st->keep_empty |= !strict;
            next(p);
        }
        return parse_extractions(p, st);
    case LQ_ST_JSON:
        return parse_extractions(p, st);
    case LQ_ST_REGEXP:
    case LQ_ST_PATTERN:
    case LQ_ST_LINE_FORMAT:
        return take_string(p, &st->param, "STRING");
    case LQ_ST_LABEL_FORMAT:
    case LQ_ST_DROP:
    case LQ_ST_KEEP:
        return parse_kv_list(p, st);
    default:
        return true;
    }
}

static bool is_stage_kw(const parser_t *p)
{
    static const char *const kws[] = { "json",        "logfmt",       "regexp", "pattern", "unpack",
                                       "line_format", "label_format", "drop",   "keep",    "decolorize" };
    for (size_t i = 0; i < sizeof(kws) / sizeof(kws[0]); i++) {
        if (is_kw(p, kws[i])) {
            return true;
        }
    }
    return false;
}

/* Stages after a selector. With uw non-NULL an "| unwrap x" may end the
 * pipeline, followed only by label filters (its post filters). */
static bool parse_stages(parser_t *p, stages_t *s, logql_unwrap_t **uw)
{
    logql_lf_op_t lf;
    size_t cap = 0;
    while (!p->failed) {
        if (line_filter_op(p->tok.kind, &lf) && (uw == NULL || *uw == NULL)) {
            parse_line_filter(p, s);
            continue;
        }
        if (p->tok.kind != LQT_PIPE) {
            break;
        }
        next(p);
        if (uw != NULL && *uw != NULL && (is_stage_kw(p) || is_kw(p, "unwrap"))) {
            syntax_error(p, NULL);
        } else if (uw != NULL && *uw != NULL) {
            logql_unwrap_t *u = *uw;
            u->post = push(p, u->post, &u->npost, &cap, sizeof(logql_lblf_t *));
            u->post[u->npost - 1] = parse_lf_full(p, 0);
        } else if (is_kw(p, "unwrap") && uw != NULL) {
            next(p);
            *uw = parse_unwrap(p);
        } else if (is_stage_kw(p)) {
            parse_keyword_stage(p, s);
        } else if (p->tok.kind == LQT_LPAREN || (p->tok.kind == LQT_IDENT && !is_kw(p, "unwrap"))) {
            logql_lblf_t *f = parse_lf_full(p, 0);
            add_stage(p, s, LQ_ST_LABEL_FILTER)->filter = f;
        } else {
            syntax_error(p, NULL);
        }
    }
    return !p->failed;
}

/* selector pipeline; uw as in parse_stages. */
static logql_node_t *parse_log(parser_t *p, logql_unwrap_t **uw)
{
    logql_node_t *n = parse_selector(p);
    if (n == NULL) {
        return NULL;
    }
    stages_t s = { 0 };
    if (!parse_stages(p, &s, uw)) {
        return NULL;
    }
    n->u.log.stages = s.v;
    n->u.log.nstages = s.n;
    return n;
}

/* ---- metric expressions ---- */

static logql_node_t *parse_expr(parser_t *p, int minprec);

static bool parse_label_list(parser_t *p, logql_str_t **out, size_t *n)
{
    size_t cap = 0;
    if (!expect(p, LQT_LPAREN, "(")) {
        return false;
    }
    if (p->tok.kind == LQT_RPAREN) {
        next(p);
        return true;
    }
    do {
        *out = push(p, *out, n, &cap, sizeof(logql_str_t));
        if (!take_ident(p, &(*out)[*n - 1], "IDENTIFIER")) {
            return false;
        }
    } while (p->tok.kind == LQT_COMMA && (next(p), true));
    return expect(p, LQT_RPAREN, ") or ,");
}

static bool parse_grouping(parser_t *p, logql_grouping_t *g)
{
    g->present = true;
    g->without = is_kw(p, "without");
    next(p);
    return parse_label_list(p, &g->labels, &g->nlabels);
}

static bool is_grouping_kw(const parser_t *p)
{
    return is_kw(p, "by") || is_kw(p, "without");
}

/* The "[range] [offset d]" after a log expression. */
static bool parse_range_tail(parser_t *p, logql_node_t *n)
{
    logql_token_t t = p->tok;
    if (t.kind != LQT_RANGE) {
        syntax_error(p, NULL);
        return false;
    }
    const char *d = p->q + t.pos + 1;
    size_t dl = t.len - 2;
    if (!logql_parse_model_duration(d, dl, &n->u.range.range_ms)) {
        buf_t b = { 0 };
        if (dl == 0) {
            buf_puts(&b, "empty duration string");
        } else {
            buf_puts(&b, "not a valid duration string: ");
            promql_quote(d, dl, 0, &b);
        }
        buf_putc(&b, 0);
        fail_at(p, t.pos, true, (const char *)b.data);
        buf_fini(&b);
        return false;
    }
    next(p);
    if (is_kw(p, "offset")) {
        next(p);
        logql_token_t o = p->tok;
        if (!expect(p, LQT_DURATION, "DURATION")) {
            return false;
        }
        int64_t ms = 0;
        if (logql_parse_model_duration(p->q + o.pos, o.len, &ms)) {
            n->u.range.offset_ns = ms * 1000000;
        } else {
            logql_parse_go_duration(p->q + o.pos, o.len, &n->u.range.offset_ns);
        }
    }
    return true;
}

/* Stages may follow the range only when none preceded it (Loki's
 * "selector RANGE pipelineExpr" forms). */
static bool parse_after_range(parser_t *p, logql_node_t *n, logql_node_t *log)
{
    if (log->u.log.nstages == 0 && n->u.range.unwrap == NULL) {
        stages_t s = { 0 };
        if (!parse_stages(p, &s, &n->u.range.unwrap)) {
            return false;
        }
        log->u.log.stages = s.v;
        log->u.log.nstages = s.n;
    }
    return true;
}

/* logRangeExpr: selector pipeline [unwrap] RANGE [offset] [pipeline], any
 * part in parentheses as Loki allows. Fills n->u.range. */
static bool parse_log_range(parser_t *p, logql_node_t *n)
{
    if (++p->depth > LOGQL_MAX_DEPTH) {
        fail_sem(p, "query is nested too deeply");
        return false;
    }
    bool ok = false;
    if (p->tok.kind == LQT_LPAREN) {
        next(p);
        if (p->tok.kind == LQT_LPAREN) {
            ok = parse_log_range(p, n) && expect(p, LQT_RPAREN, NULL);
        } else if ((n->u.range.log = parse_log(p, &n->u.range.unwrap)) != NULL) {
            if (p->tok.kind == LQT_RANGE) {
                ok = parse_range_tail(p, n) && parse_after_range(p, n, n->u.range.log) && expect(p, LQT_RPAREN, NULL);
            } else {
                ok = expect(p, LQT_RPAREN, NULL) && parse_range_tail(p, n) && parse_after_range(p, n, n->u.range.log);
            }
        }
    } else if (p->tok.kind == LQT_LBRACE) {
        n->u.range.log = parse_log(p, &n->u.range.unwrap);
        ok = n->u.range.log != NULL && parse_range_tail(p, n) && parse_after_range(p, n, n->u.range.log);
    } else {
        syntax_error(p, NULL);
    }
    p->depth--;
    return ok && !p->failed;
}

static int find_name(const parser_t *p, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (is_kw(p, names[i])) {
            return (int)i;
        }
    }
    return -1;
}

/* Loki's RangeAggregationExpr.validate. */
static const char *range_check(parser_t *p, const logql_node_t *n)
{
    logql_range_op_t op = n->u.range.op;
    const char *name = logql_range_op_names[op];
    bool groupable = op == LQ_R_AVG || op == LQ_R_STDDEV || op == LQ_R_STDVAR || op == LQ_R_QUANTILE ||
                     op == LQ_R_MAX || op == LQ_R_MIN || op == LQ_R_FIRST || op == LQ_R_LAST;
    if (n->u.range.grouping.present && !groupable) {
        return sem_msg(p, "grouping not allowed for %s aggregation", name);
    }
    if (n->u.range.unwrap != NULL) {
        bool ok = op != LQ_R_COUNT && op != LQ_R_BYTES && op != LQ_R_BYTES_RATE;
        return ok ? NULL : sem_msg(p, "invalid aggregation %s with unwrap", name);
    }
    bool ok = op == LQ_R_BYTES || op == LQ_R_BYTES_RATE || op == LQ_R_COUNT || op == LQ_R_RATE || op == LQ_R_ABSENT;
    return ok ? NULL : sem_msg(p, "invalid aggregation %s without unwrap", name);
}

static logql_node_t *parse_range_agg(parser_t *p, logql_range_op_t op)
{
    logql_node_t *n = new_node(p, LQ_RANGE_AGG);
    n->u.range.op = op;
    next(p);
    expect(p, LQT_LPAREN, "(");
    logql_str_t param = { NULL, 0 };
    if (!p->failed && p->tok.kind == LQT_NUMBER) {
        param = tok_text(p, p->tok);
        next(p);
        expect(p, LQT_COMMA, ",");
    } else if (!p->failed && p->tok.kind != LQT_LBRACE && p->tok.kind != LQT_LPAREN) {
        syntax_error(p, "NUMBER or { or (");
    }
    if (p->failed || !parse_log_range(p, n) || !expect(p, LQT_RPAREN, NULL)) {
        return NULL;
    }
    if (is_grouping_kw(p) && !parse_grouping(p, &n->u.range.grouping)) {
        return NULL;
    }
    const char *name = logql_range_op_names[op];
    if (param.p != NULL && op != LQ_R_QUANTILE) {
        n->err = sem_msg(p, "parameter %s not supported for operation %s", param.p, name);
    } else if (param.p != NULL) {
        n->u.range.has_param = true;
        n->u.range.param = strtod(param.p, NULL);
        if (!isfinite(n->u.range.param)) {
            n->err =
                sem_msg(p, "invalid parameter for operation %s: strconv.ParseFloat: parsing \"%s\": value out of range",
                        name, param.p);
        }
    } else if (op == LQ_R_QUANTILE) {
        n->err = sem_msg(p, "parameter required for operation %s", name);
    }
    if (n->err == NULL) {
        n->err = range_check(p, n);
    }
    return n;
}

/* Go's strconv.Atoi on a NUMBER token's text. */
static bool go_atoi(const char *s, long *out)
{
    if (*s == 0) {
        return false;
    }
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end != 0 || errno != 0) {
        return false;
    }
    *out = v;
    return true;
}

static void vec_check(parser_t *p, logql_node_t *n, const logql_str_t *param)
{
    logql_vec_op_t op = n->u.vec.op;
    const char *name = logql_vec_op_names[op];
    if (op == LQ_V_TOPK || op == LQ_V_BOTTOMK) {
        if (param->p == NULL) {
            n->err = sem_msg(p, "parameter required for operation %s", name);
        } else if (!go_atoi(param->p, &n->u.vec.param)) {
            n->err = sem_msg(p, "invalid parameter %s(%s,", name, param->p);
        } else if (n->u.vec.param <= 0) {
            n->err = sem_msg(p, "invalid parameter (must be greater than 0) %s(%s", name, param->p);
        }
    } else if (param->p != NULL) {
        n->err = sem_msg(p, "unsupported parameter for operation %s(%s,", name, param->p);
    }
}

static logql_node_t *parse_vec_agg(parser_t *p, logql_vec_op_t op)
{
    logql_node_t *n = new_node(p, LQ_VECTOR_AGG);
    n->u.vec.op = op;
    next(p);
    if (is_grouping_kw(p) && !parse_grouping(p, &n->u.vec.grouping)) {
        return NULL;
    }
    if (!expect(p, LQT_LPAREN, "(")) {
        return NULL;
    }
    logql_str_t param = { NULL, 0 };
    if (p->tok.kind == LQT_NUMBER && peek(p).kind == LQT_COMMA) {
        param = tok_text(p, p->tok);
        next(p);
        next(p);
    }
    n->u.vec.expr = parse_expr(p, 0);
    if (n->u.vec.expr == NULL || p->failed) {
        return NULL;
    }
    if (!logql_is_sample(n->u.vec.expr)) {
        syntax_error(p, NULL);
        return NULL;
    }
    if (!expect(p, LQT_RPAREN, NULL)) {
        return NULL;
    }
    if (!n->u.vec.grouping.present && is_grouping_kw(p) && !parse_grouping(p, &n->u.vec.grouping)) {
        return NULL;
    }
    vec_check(p, n, &param);
    return n;
}

static logql_node_t *parse_vector(parser_t *p)
{
    logql_node_t *n = new_node(p, LQ_VECTOR);
    next(p);
    if (!expect(p, LQT_LPAREN, "(")) {
        return NULL;
    }
    logql_token_t t = p->tok;
    if (!expect(p, LQT_NUMBER, "NUMBER")) {
        return NULL;
    }
    logql_str_t s = tok_text(p, t);
    n->u.value = strtod(s.p, NULL);
    if (!isfinite(n->u.value)) {
        n->err = sem_msg(
            p, "unable to parse vectorExpr as a float: strconv.ParseFloat: parsing \"%s\": value out of range", s.p);
    }
    return expect(p, LQT_RPAREN, ")") ? n : NULL;
}

static logql_node_t *parse_label_replace(parser_t *p)
{
    logql_node_t *n = new_node(p, LQ_LABEL_REPLACE);
    next(p);
    if (!expect(p, LQT_LPAREN, "(")) {
        return NULL;
    }
    n->u.lr.expr = parse_expr(p, 0);
    if (n->u.lr.expr == NULL || p->failed) {
        return NULL;
    }
    if (!logql_is_sample(n->u.lr.expr)) {
        syntax_error(p, NULL);
        return NULL;
    }
    logql_str_t *args[] = { &n->u.lr.dst, &n->u.lr.repl, &n->u.lr.src, &n->u.lr.regex };
    for (size_t i = 0; i < 4; i++) {
        if (!expect(p, LQT_COMMA, ",") || !take_string(p, args[i], "STRING")) {
            return NULL;
        }
    }
    if (!expect(p, LQT_RPAREN, ")")) {
        return NULL;
    }
    matcher_t mt;
    char err[256] = { 0 };
    if (matcher_init(&mt, MATCH_RE, STR_LIT("re"), str_from(n->u.lr.regex.p, n->u.lr.regex.len), err, sizeof(err)) !=
        0) {
        n->err = sem_msg(p, "invalid regex in label_replace: %s", err);
    } else {
        matcher_fini(&mt);
    }
    return n;
}

static logql_node_t *parse_literal(parser_t *p, bool neg)
{
    logql_node_t *n = new_node(p, LQ_LITERAL);
    logql_str_t s = tok_text(p, p->tok);
    n->u.value = strtod(s.p, NULL);
    if (!isfinite(n->u.value)) {
        n->err = sem_msg(
            p, "unable to parse literal as a float: strconv.ParseFloat: parsing \"%s\": value out of range", s.p);
    }
    n->u.value = neg ? -n->u.value : n->u.value;
    next(p);
    return n;
}

static logql_node_t *parse_call(parser_t *p)
{
    if (peek(p).kind == LQT_LPAREN || is_kw(p, "sum") || is_kw(p, "avg") || is_kw(p, "min") || is_kw(p, "max") ||
        is_kw(p, "count") || is_kw(p, "stddev") || is_kw(p, "stdvar") || is_kw(p, "topk") || is_kw(p, "bottomk") ||
        is_kw(p, "sort") || is_kw(p, "sort_desc")) {
        int r = find_name(p, logql_range_op_names, LQ_R__COUNT);
        if (r >= 0 && peek(p).kind == LQT_LPAREN) {
            return parse_range_agg(p, (logql_range_op_t)r);
        }
        int v = find_name(p, logql_vec_op_names, LQ_V__COUNT);
        if (v >= 0) {
            return parse_vec_agg(p, (logql_vec_op_t)v);
        }
        if (is_kw(p, "vector")) {
            return parse_vector(p);
        }
        if (is_kw(p, "label_replace")) {
            return parse_label_replace(p);
        }
    }
    syntax_error(p, NULL);
    return NULL;
}

static logql_node_t *parse_unary(parser_t *p)
{
    switch (p->tok.kind) {
    case LQT_NUMBER:
        return parse_literal(p, false);
    case LQT_ADD:
    case LQT_SUB: {
        bool neg = p->tok.kind == LQT_SUB;
        next(p);
        if (p->tok.kind != LQT_NUMBER) {
            syntax_error(p, "NUMBER");
            return NULL;
        }
        return parse_literal(p, neg);
    }
    case LQT_LBRACE:
        return parse_log(p, NULL);
    case LQT_LPAREN: {
        next(p);
        logql_node_t *n = parse_expr(p, 0);
        return n != NULL && expect(p, LQT_RPAREN, NULL) ? n : NULL;
    }
    case LQT_IDENT:
        return parse_call(p);
    default:
        syntax_error(p, NULL);
        return NULL;
    }
}

/* ---- binary operations ---- */

static int binop_of(const parser_t *p, logql_binop_t *op)
{
    static const struct {
        logql_tok_t t;
        logql_binop_t op;
        int prec;
    } map[] = { { LQT_CMP_EQ, LQ_B_EQ, 3 }, { LQT_NEQ, LQ_B_NEQ, 3 }, { LQT_GT, LQ_B_GT, 3 },
                { LQT_GTE, LQ_B_GTE, 3 },   { LQT_LT, LQ_B_LT, 3 },   { LQT_LTE, LQ_B_LTE, 3 },
                { LQT_ADD, LQ_B_ADD, 4 },   { LQT_SUB, LQ_B_SUB, 4 }, { LQT_MUL, LQ_B_MUL, 5 },
                { LQT_DIV, LQ_B_DIV, 5 },   { LQT_MOD, LQ_B_MOD, 5 }, { LQT_POW, LQ_B_POW, 6 } };
    if (is_kw(p, "or")) {
        *op = LQ_B_OR;
        return 1;
    }
    if (is_kw(p, "and") || is_kw(p, "unless")) {
        *op = is_kw(p, "and") ? LQ_B_AND : LQ_B_UNLESS;
        return 2;
    }
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (map[i].t == p->tok.kind) {
            *op = map[i].op;
            return map[i].prec;
        }
    }
    return 0;
}

/* [bool] [on|ignoring (labels) [group_left|group_right [(labels)]]] */
static bool parse_bin_modifiers(parser_t *p, logql_node_t *n)
{
    if (is_kw(p, "bool")) {
        n->u.bin.return_bool = true;
        next(p);
    }
    if (!is_kw(p, "on") && !is_kw(p, "ignoring")) {
        return true;
    }
    n->u.bin.on = is_kw(p, "on");
    next(p);
    if (!parse_label_list(p, &n->u.bin.matching, &n->u.bin.nmatching)) {
        return false;
    }
    n->u.bin.has_matching = n->u.bin.on || n->u.bin.nmatching > 0;
    if (!is_kw(p, "group_left") && !is_kw(p, "group_right")) {
        return true;
    }
    n->u.bin.card = is_kw(p, "group_left") ? LQ_CARD_MANY_TO_ONE : LQ_CARD_ONE_TO_MANY;
    next(p);
    if (p->tok.kind == LQT_LPAREN) {
        if (!parse_label_list(p, &n->u.bin.include, &n->u.bin.ninclude)) {
            return false;
        }
        n->u.bin.has_include = n->u.bin.ninclude > 0;
    }
    return true;
}

static double fold(logql_binop_t op, double l, double r)
{
    switch (op) {
    case LQ_B_ADD:
        return l + r;
    case LQ_B_SUB:
        return l - r;
    case LQ_B_MUL:
        return l * r;
    case LQ_B_DIV:
        return r == 0 ? NAN : l / r;
    case LQ_B_MOD:
        return r == 0 ? NAN : fmod(l, r);
    case LQ_B_POW:
        return pow(l, r);
    case LQ_B_EQ:
        return l == r;
    case LQ_B_NEQ:
        return l != r;
    case LQ_B_GT:
        return l > r;
    case LQ_B_GTE:
        return l >= r;
    case LQ_B_LT:
        return l < r;
    case LQ_B_LTE:
        return l <= r;
    default:
        return NAN;
    }
}

static const char *leg_type(const logql_node_t *n)
{
    return n->u.log.nstages > 0 ? "*syntax.PipelineExpr" : "*syntax.MatchersExpr";
}

/* Loki's mustNewBinOpExpr: leg checks, then literal folding. */
static logql_node_t *make_binop(parser_t *p, logql_node_t *n)
{
    logql_node_t *l = n->u.bin.lhs;
    logql_node_t *r = n->u.bin.rhs;
    const char *name = logql_binop_name(n->u.bin.op);
    bool logical = n->u.bin.op <= LQ_B_UNLESS;
    if (!logql_is_sample(l)) {
        n->err = sem_msg(p, "unexpected type for left leg of binary operation (%s): %s", name, leg_type(l));
    } else if (!logql_is_sample(r)) {
        n->err = sem_msg(p, "unexpected type for right leg of binary operation (%s): %s", name, leg_type(r));
    } else if (logical && l->kind == LQ_LITERAL) {
        n->err =
            sem_msg(p, "unexpected literal for left leg of logical/set binary operation (%s): %f", name, l->u.value);
    } else if (logical && r->kind == LQ_LITERAL) {
        n->err =
            sem_msg(p, "unexpected literal for right leg of logical/set binary operation (%s): %f", name, r->u.value);
    } else if (l->kind == LQ_LITERAL && r->kind == LQ_LITERAL) {
        logql_node_t *lit = new_node(p, LQ_LITERAL);
        lit->err = l->err != NULL ? l->err : r->err;
        lit->u.value = fold(n->u.bin.op, l->u.value, r->u.value);
        return lit;
    }
    return n;
}

static logql_node_t *parse_expr(parser_t *p, int minprec)
{
    if (++p->depth > LOGQL_MAX_DEPTH) {
        fail_sem(p, "query is nested too deeply");
        return NULL;
    }
    logql_node_t *lhs = parse_unary(p);
    logql_binop_t op = LQ_B_ADD;
    int prec = 0;
    while (lhs != NULL && !p->failed && (prec = binop_of(p, &op)) >= minprec && prec > 0) {
        logql_node_t *n = new_node(p, LQ_BINOP);
        n->u.bin.op = op;
        n->u.bin.lhs = lhs;
        next(p);
        if (!parse_bin_modifiers(p, n)) {
            lhs = NULL;
            break;
        }
        n->u.bin.rhs = parse_expr(p, op == LQ_B_POW ? prec : prec + 1);
        lhs = n->u.bin.rhs == NULL ? NULL : make_binop(p, n);
    }
    p->depth--;
    return p->failed ? NULL : lhs;
}

/* ---- checks after parsing (Loki's validateExpr) ---- */

static const char *check_selector(parser_t *p, const logql_node_t *log)
{
    for (size_t i = 0; i < log->u.log.nm; i++) {
        const logql_matcher_t *m = &log->u.log.m[i];
        matcher_t mt;
        char err[256];
        if (matcher_init(&mt, m->type, str_from(m->name.p, m->name.len), str_from(m->value.p, m->value.len), err,
                         sizeof(err)) != 0) {
            return sem_msg(p, "%s", err);
        }
        bool empty = matcher_matches_empty(&mt);
        matcher_fini(&mt);
        if (!empty) {
            return NULL;
        }
    }
    return errAtLeastOne;
}

static const char *validate(parser_t *p, const logql_node_t *n)
{
    if (n->err != NULL) {
        return n->err;
    }
    switch (n->kind) {
    case LQ_BINOP: {
        const char *e = validate(p, n->u.bin.lhs);
        return e != NULL ? e : validate(p, n->u.bin.rhs);
    }
    case LQ_RANGE_AGG:
        return check_selector(p, n->u.range.log);
    case LQ_VECTOR_AGG:
        return validate(p, n->u.vec.expr);
    case LQ_LABEL_REPLACE:
        return validate(p, n->u.lr.expr);
    case LQ_LOG:
        return check_selector(p, n);
    default:
        return NULL;
    }
}

int logql_parse(const char *q, size_t len, arena_t *a, logql_node_t **out, logql_error_t *err)
{
    parser_t p = { .q = q, .len = len, .a = a, .err = err };
    *out = NULL;
    memset(err, 0, sizeof(*err));
    logql_lex_init(&p.lx, q, len);
    next(&p);
    logql_node_t *n = parse_expr(&p, 0);
    if (!p.failed && p.tok.kind != LQT_EOF) {
        syntax_error(&p, NULL);
    }
    if (p.failed || n == NULL) {
        if (!p.failed) {
            syntax_error(&p, NULL);
        }
        return -1;
    }
    const char *e = validate(&p, n);
    if (e != NULL) {
        fail_plain(err, e);
        return -1;
    }
    *out = n;
    return 0;
}

bool logql_is_sample(const logql_node_t *n)
{
    return n != NULL && n->kind != LQ_LOG;
}

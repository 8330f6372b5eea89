/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_tmpl: the parser of Go's text/template subset that Prometheus rule
 * files and Alertmanager notification templates use, into an arena AST
 * (alerts_int.h, "templates").
 *
 * Core idea: one pass over the text. Text runs up to "{{"; an action is
 * lexed on demand (next_tok) and parsed by recursive descent following Go's
 * parse package: control actions (if / else if / else / range / with /
 * end), define (top level only), template and block, pipelines with
 * declarations ($x := / $x = / $i, $e :=), commands separated by '|',
 * operands (fields, variables, functions, literals, parenthesised
 * pipelines and their field chains). Trim markers "{{- " and " -}}" and
 * comments are handled as in Go. As in Go, a function that is not in the
 * caller's table and a variable never declared are parse errors, reported
 * as "template: NAME:LINE: message"; define and block bodies go to the
 * template's defs, each with variables of its own.
 *
 * Invariants: every node holds byte offsets into the caller's text, which
 * must outlive the AST (the AST borrows it); nesting of controls, bodies
 * and parentheses is bounded by TMPL_MAX_DEPTH, so recursion is bounded;
 * work is O(len). break/continue are accepted inside range bodies only.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/alerts_int.h"

#define TMPL_MAX_DEPTH 100
#define TMPL_MAX_VARS 256

typedef enum tok_type {
    TK_EOF, /* end of input inside an action */
    TK_ERROR,
    TK_SPACE,
    TK_RDELIM,
    TK_IDENT,
    TK_FIELD,
    TK_DOT,
    TK_VAR,
    TK_STRING,
    TK_RAW,
    TK_NUMBER,
    TK_BOOL,
    TK_NIL,
    TK_LPAREN,
    TK_RPAREN,
    TK_PIPE,
    TK_DECLARE,
    TK_ASSIGN,
    TK_COMMA,
    TK_CHAR,
} tok_type_t;

typedef struct tok {
    tok_type_t type;
    size_t pos;
    str_t val;
    bool trim; /* RDELIM: " -}}" */
} tok_t;

typedef struct tparser {
    arena_t *a;
    const char *name;
    const char *s;
    size_t len;
    size_t pos;
    buf_t *err;
    bool failed;
    int depth;
    int parens;
    str_t vars[TMPL_MAX_VARS];
    size_t nvars;
    size_t var_base; /* a define/block body sees only its own variables */
    bool in_def;     /* inside a define or block body */
    int range_depth; /* range bodies around this point of the current body */
    const tmpl_functab_t *funcs;
    alerts_tmpl_t *t;    /* receives define and block bodies */
    bool trim_next;      /* the last action ended with " -}}" */
    size_t action_start; /* offset of the current action's "{{" */
} tparser_t;

static size_t tp_line(const tparser_t *p, size_t pos)
{
    size_t line = 1;
    for (size_t i = 0; i < pos && i < p->len; i++) {
        line += p->s[i] == '\n';
    }
    return line;
}

static void tp_errorf(tparser_t *p, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void tp_errorf(tparser_t *p, size_t pos, const char *fmt, ...)
{
    if (p->failed) {
        return;
    }
    p->failed = true;
    buf_printf(p->err, "template: %s:%zu: ", p->name, tp_line(p, pos));
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(p->err, fmt, ap);
    va_end(ap);
}

static bool is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alnum(int c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Width of the letter, digit or '_' at s[i] (Go's isAlphaNumeric), or 0.
 * Non-ASCII runes count as letters except Unicode spaces and Latin-1
 * symbols, the ones a template meets in practice (no Unicode tables). */
static size_t alnum_width(const tparser_t *p, size_t i)
{
    if (i >= p->len) {
        return 0;
    }
    unsigned char c = (unsigned char)p->s[i];
    if (c < 0x80) {
        return is_alnum(c) ? 1 : 0;
    }
    size_t w = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
    if (w == 0 || i + w > p->len || !str_utf8_valid(p->s + i, w)) {
        return 0;
    }
    const unsigned char *u = (const unsigned char *)p->s + i;
    uint32_t r = w == 2   ? ((uint32_t)(u[0] & 0x1f) << 6) | (u[1] & 0x3f)
                 : w == 3 ? ((uint32_t)(u[0] & 0x0f) << 12) | ((uint32_t)(u[1] & 0x3f) << 6) | (u[2] & 0x3f)
                          : 0x10000;
    if ((r >= 0x80 && r <= 0xbf && r != 0xaa && r != 0xb5 && r != 0xba) || r == 0xd7 || r == 0xf7 || r == 0x1680 ||
        (r >= 0x2000 && r <= 0x206f) || r == 0x3000 || r == 0xfeff) {
        return 0;
    }
    return w;
}

static bool at_rdelim(const tparser_t *p, size_t i)
{
    return i + 1 < p->len && p->s[i] == '}' && p->s[i + 1] == '}';
}

/* Go's %#U for the rune at s[i]: "U+00A0" or "U+0041 'A'". */
static void unrecognized(tparser_t *p, size_t i)
{
    const unsigned char *u = (const unsigned char *)p->s + i;
    size_t rem = p->len - i;
    uint32_t r = u[0];
    size_t n = 1;
    if (u[0] >= 0xc0 && u[0] < 0xe0 && rem >= 2) {
        r = ((uint32_t)(u[0] & 0x1f) << 6) | (u[1] & 0x3f);
        n = 2;
    } else if (u[0] >= 0xe0 && u[0] < 0xf0 && rem >= 3) {
        r = ((uint32_t)(u[0] & 0x0f) << 12) | ((uint32_t)(u[1] & 0x3f) << 6) | (u[2] & 0x3f);
        n = 3;
    } else if (u[0] >= 0xf0 && rem >= 4) {
        r = ((uint32_t)(u[0] & 0x07) << 18) | ((uint32_t)(u[1] & 0x3f) << 12) | ((uint32_t)(u[2] & 0x3f) << 6) |
            (u[3] & 0x3f);
        n = 4;
    } else if (u[0] >= 0x80) {
        r = 0xfffd;
    }
    bool printable = (r > 0x20 && r < 0x7f) || (r > 0xa0 && r != 0xad && r != 0xfffd);
    if (printable) {
        tp_errorf(p, i, "unrecognized character in action: U+%04X '%.*s'", (unsigned)r, (int)n, p->s + i);
    } else {
        tp_errorf(p, i, "unrecognized character in action: U+%04X", (unsigned)r);
    }
}

/* Scan a quoted literal whose opening q is at s[*j - 1]: a backslash
 * escapes the next byte. True with *j past the closing q; false when a
 * newline or the end of text comes first (unterminated). */
static bool scan_quoted(const tparser_t *p, size_t *j, char q)
{
    size_t k = *j;
    while (k < p->len && p->s[k] != q) {
        if (p->s[k] == '\\') {
            k++;
        }
        if (k >= p->len || p->s[k] == '\n') {
            return false;
        }
        k++;
    }
    if (k >= p->len) {
        return false;
    }
    *j = k + 1;
    return true;
}

/* Lex one token of an action at p->pos. */
static tok_t next_tok(tparser_t *p)
{
    tok_t t = { .type = TK_ERROR, .pos = p->pos };
    size_t i = p->pos;
    if (i >= p->len) {
        t.type = TK_EOF;
        return t;
    }
    char c = p->s[i];
    if (is_space(c)) {
        size_t j = i;
        while (j < p->len && is_space(p->s[j])) {
            j++;
        }
        if (j + 2 < p->len && p->s[j] == '-' && p->s[j + 1] == '}' && p->s[j + 2] == '}') {
            t.type = TK_RDELIM;
            t.trim = true;
            p->pos = j + 3;
            return t;
        }
        t.type = TK_SPACE;
        p->pos = j;
        return t;
    }
    if (at_rdelim(p, i)) {
        t.type = TK_RDELIM;
        p->pos = i + 2;
        return t;
    }
    size_t j = i + 1;
    switch (c) {
    case '(':
        t.type = TK_LPAREN;
        p->parens++;
        break;
    case ')':
        t.type = TK_RPAREN;
        if (--p->parens < 0) {
            tp_errorf(p, i, "unexpected right paren");
            t.type = TK_ERROR;
        }
        break;
    case '|':
        t.type = TK_PIPE;
        break;
    case ',':
        t.type = TK_COMMA;
        break;
    case '=':
        t.type = TK_ASSIGN;
        break;
    case ':':
        if (j < p->len && p->s[j] == '=') {
            t.type = TK_DECLARE;
            j++;
        } else {
            tp_errorf(p, i, "expected :=");
            return t;
        }
        break;
    case '"':
        if (!scan_quoted(p, &j, '"')) {
            tp_errorf(p, i, "unterminated quoted string");
            return t;
        }
        t.type = TK_STRING;
        break;
    case '`':
        while (j < p->len && p->s[j] != '`') {
            j++;
        }
        if (j >= p->len) {
            tp_errorf(p, i, "unterminated raw quoted string");
            return t;
        }
        t.type = TK_RAW;
        j++;
        break;
    case '\'':
        if (!scan_quoted(p, &j, '\'')) {
            tp_errorf(p, i, "unterminated character constant");
            return t;
        }
        t.type = TK_CHAR;
        break;
    case '$':
        for (size_t w = alnum_width(p, j); w > 0; w = alnum_width(p, j)) {
            j += w;
        }
        t.type = TK_VAR;
        break;
    case '.':
        if (j < p->len && p->s[j] >= '0' && p->s[j] <= '9') {
            goto number;
        }
        for (size_t w = alnum_width(p, j); w > 0; w = alnum_width(p, j)) {
            j += w;
        }
        t.type = j == i + 1 ? TK_DOT : TK_FIELD;
        break;
    default:
        if (c == '+' || c == '-' || (c >= '0' && c <= '9')) {
            goto number;
        }
        if (alnum_width(p, i) > 0) {
            j = i;
            for (size_t w = alnum_width(p, j); w > 0; w = alnum_width(p, j)) {
                j += w;
            }
            str_t w = str_from(p->s + i, j - i);
            t.type = TK_IDENT;
            if (str_eq_cstr(w, "true") || str_eq_cstr(w, "false")) {
                t.type = TK_BOOL;
            } else if (str_eq_cstr(w, "nil")) {
                t.type = TK_NIL;
            }
            break;
        }
        unrecognized(p, i);
        return t;
    }
    t.val = str_from(p->s + i, j - i);
    p->pos = j;
    return t;
number:
    if (c == '+' || c == '-') {
        j = i + 1;
    } else {
        j = i;
    }
    while (j < p->len && (is_alnum((unsigned char)p->s[j]) || p->s[j] == '.' ||
                          ((p->s[j] == '+' || p->s[j] == '-') &&
                           (p->s[j - 1] == 'e' || p->s[j - 1] == 'E' || p->s[j - 1] == 'p' || p->s[j - 1] == 'P')))) {
        j++;
    }
    t.type = TK_NUMBER;
    t.val = str_from(p->s + i, j - i);
    p->pos = j;
    return t;
}

/* Next token other than space. */
static tok_t next_nonspace(tparser_t *p)
{
    tok_t t = next_tok(p);
    while (t.type == TK_SPACE) {
        t = next_tok(p);
    }
    return t;
}

static tok_t peek_nonspace(tparser_t *p)
{
    size_t save = p->pos;
    int parens = p->parens;
    tok_t t = next_nonspace(p);
    p->pos = save;
    p->parens = parens;
    return t;
}

static const char *tok_desc(tok_type_t t)
{
    switch (t) {
    case TK_RDELIM:
        return "\"}}\"";
    case TK_RPAREN:
        return "\")\"";
    case TK_PIPE:
        return "\"|\"";
    case TK_COMMA:
        return "\",\"";
    case TK_DECLARE:
        return "\":=\"";
    case TK_ASSIGN:
        return "\"=\"";
    case TK_LPAREN:
        return "\"(\"";
    default:
        return "token";
    }
}

static void unexpected(tparser_t *p, const tok_t *t, const char *context)
{
    if (t->type == TK_EOF) {
        size_t at = tp_line(p, p->action_start);
        if (tp_line(p, t->pos) != at) { /* Go's lexer names where a multi-line action began */
            tp_errorf(p, t->pos, "unclosed action started at %s:%zu", p->name, at);
        } else {
            tp_errorf(p, t->pos, "unclosed action");
        }
    } else if (t->type != TK_ERROR) {
        if (t->val.len > 0) {
            tp_errorf(p, t->pos, "unexpected \"%.*s\" in %s", (int)t->val.len, t->val.p, context);
        } else {
            tp_errorf(p, t->pos, "unexpected %s in %s", tok_desc(t->type), context);
        }
    }
}

static bool var_defined(const tparser_t *p, str_t name)
{
    for (size_t i = p->nvars; i > p->var_base; i--) {
        if (str_eq(p->vars[i - 1], name)) {
            return true;
        }
    }
    return false;
}

static void var_push(tparser_t *p, str_t name, size_t pos)
{
    if (p->nvars >= TMPL_MAX_VARS) {
        tp_errorf(p, pos, "too many variables");
        return;
    }
    p->vars[p->nvars++] = name;
}

/* One-character escapes: a backslash and esc_from[i] stand for esc_to[i]. */
static const char esc_from[] = "ntrabfv\\\"'", esc_to[] = "\n\t\r\a\b\f\v\\\"'";

/* Decode a Go quoted string literal (already delimited by the lexer). */
static bool unquote(tparser_t *p, str_t lit, str_t *out)
{
    char *d = arena_alloc(p->a, lit.len + 1);
    size_t n = 0;
    for (size_t i = 1; i + 1 < lit.len; i++) {
        char c = lit.p[i];
        if (c != '\\') {
            d[n++] = c;
            continue;
        }
        i++;
        if (i >= lit.len - 1) { /* the backslash escapes the closing quote */
            return false;
        }
        c = lit.p[i];
        const char *e = c != '\0' ? strchr(esc_from, c) : NULL;
        if (e != NULL) {
            d[n++] = esc_to[e - esc_from];
            continue;
        }
        switch (c) {
        case 'x': {
            if (i + 2 > lit.len - 2) { /* two hex digits before the closing quote */
                return false;
            }
            int h = str_hex_digit((unsigned char)lit.p[i + 1]), l = str_hex_digit((unsigned char)lit.p[i + 2]);
            if (h < 0 || l < 0) {
                return false;
            }
            d[n++] = (char)(h * 16 + l);
            i += 2;
            break;
        }
        case 'u':
        case 'U': {
            size_t nd = c == 'u' ? 4 : 8;
            if (i + nd > lit.len - 2) {
                return false;
            }
            uint32_t r = 0;
            for (size_t k = 1; k <= nd; k++) {
                int h = str_hex_digit((unsigned char)lit.p[i + k]);
                if (h < 0) {
                    return false;
                }
                r = r * 16 + (uint32_t)h;
            }
            if (r > 0x10ffff || (r >= 0xd800 && r < 0xe000)) {
                return false;
            }
            n += str_utf8_encode(r, d + n);
            i += nd;
            break;
        }
        default:
            if (c >= '0' && c <= '7' && i + 2 <= lit.len - 2) {
                int v = 0;
                for (size_t k = 0; k < 3; k++) {
                    char o = lit.p[i + k];
                    if (o < '0' || o > '7') {
                        return false;
                    }
                    v = v * 8 + (o - '0');
                }
                if (v > 255) {
                    return false;
                }
                d[n++] = (char)v;
                i += 2;
                break;
            }
            return false;
        }
    }
    d[n] = '\0';
    *out = str_from(d, n);
    return true;
}

static tmpl_arg_t *new_arg(tparser_t *p, tmpl_akind_t kind, size_t pos, str_t text)
{
    tmpl_arg_t *a = arena_calloc(p->a, 1, sizeof(*a));
    a->kind = kind;
    a->pos = (uint32_t)pos;
    a->text = text;
    return a;
}

static bool parse_number(tparser_t *p, tmpl_arg_t *a)
{
    str_t t = a->text;
    char tmp[128];
    if (t.len == 0 || t.len >= sizeof(tmp)) {
        return false;
    }
    memcpy(tmp, t.p, t.len);
    tmp[t.len] = '\0';
    bool hex = t.len > 2 && (memchr(tmp, 'x', t.len) || memchr(tmp, 'X', t.len));
    bool float_syntax = !hex && strpbrk(tmp, ".eEpP") != NULL;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(tmp, &end, 0);
    if (end == tmp + t.len && errno == 0 && !float_syntax) {
        a->is_int = true;
        a->ival = v;
        a->fval = (double)v;
        return true;
    }
    if (float_syntax) {
        double f = 0;
        const char *q = tmp;
        if (!str_parse_double(str_from(q, t.len), &f) || strpbrk(tmp, "iInN") != NULL) {
            return false;
        }
        a->is_float = true;
        a->fval = f;
        return true;
    }
    (void)p;
    return false;
}

static tmpl_pipe_t *parse_pipeline(tparser_t *p, const char *context, tok_type_t end, bool allow_two);

static void add_ident(tparser_t *p, tmpl_arg_t *a, str_t id)
{
    str_t *n = arena_alloc(p->a, (a->nidents + 1) * sizeof(*n));
    if (a->nidents > 0) {
        memcpy(n, a->idents, a->nidents * sizeof(*n));
    }
    n[a->nidents++] = id;
    a->idents = n;
}

/* term: a literal, field, variable, function or (pipeline); NULL if the
 * next token starts none (nothing consumed then). */
static tmpl_arg_t *parse_term(tparser_t *p)
{
    size_t save = p->pos;
    int parens = p->parens;
    tok_t t = next_tok(p);
    tmpl_arg_t *a = NULL;
    switch (t.type) {
    case TK_IDENT: {
        const tmpl_func_t *fn = tmpl_func_find(p->funcs, t.val.p, t.val.len);
        if (fn == NULL) {
            tp_errorf(p, t.pos, "function \"%.*s\" not defined", (int)t.val.len, t.val.p);
            return NULL;
        }
        a = new_arg(p, TMPL_A_IDENT, t.pos, t.val);
        a->name = t.val;
        a->func = fn;
        return a;
    }
    case TK_DOT:
        return new_arg(p, TMPL_A_DOT, t.pos, t.val);
    case TK_NIL:
        return new_arg(p, TMPL_A_NIL, t.pos, t.val);
    case TK_VAR:
        if (!var_defined(p, t.val)) {
            tp_errorf(p, t.pos, "undefined variable \"%.*s\"", (int)t.val.len, t.val.p);
            return NULL;
        }
        a = new_arg(p, TMPL_A_VAR, t.pos, t.val);
        a->name = t.val;
        return a;
    case TK_FIELD: {
        a = new_arg(p, TMPL_A_FIELD, t.pos, t.val);
        add_ident(p, a, str_from(t.val.p + 1, t.val.len - 1));
        return a;
    }
    case TK_BOOL:
        a = new_arg(p, TMPL_A_BOOL, t.pos, t.val);
        a->bval = t.val.p[0] == 't';
        return a;
    case TK_NUMBER:
    case TK_CHAR:
        a = new_arg(p, TMPL_A_NUMBER, t.pos, t.val);
        if (t.type == TK_CHAR) {
            str_t sv = { 0 };
            if (!unquote(p, t.val, &sv) || sv.len != 1) {
                tp_errorf(p, t.pos, "malformed character constant: %.*s", (int)t.val.len, t.val.p);
                return NULL;
            }
            a->is_int = true;
            a->ival = (unsigned char)sv.p[0];
            a->fval = (double)a->ival;
        } else if (!parse_number(p, a)) {
            tp_errorf(p, t.pos, "bad number syntax: \"%.*s\"", (int)t.val.len, t.val.p);
            return NULL;
        }
        return a;
    case TK_STRING:
    case TK_RAW:
        a = new_arg(p, TMPL_A_STRING, t.pos, t.val);
        if (t.type == TK_RAW) {
            a->sval = str_from(t.val.p + 1, t.val.len - 2);
        } else if (!unquote(p, t.val, &a->sval)) {
            tp_errorf(p, t.pos, "invalid syntax");
            return NULL;
        }
        return a;
    case TK_LPAREN: {
        if (++p->depth > TMPL_MAX_DEPTH) {
            tp_errorf(p, t.pos, "max expression depth exceeded");
            return NULL;
        }
        tmpl_pipe_t *pipe = parse_pipeline(p, "parenthesized pipeline", TK_RPAREN, false);
        p->depth--;
        if (pipe == NULL) {
            return NULL;
        }
        a = new_arg(p, TMPL_A_PIPE, t.pos, str_from(p->s + t.pos, p->pos - t.pos));
        a->pipe = pipe;
        return a;
    }
    default:
        p->pos = save;
        p->parens = parens;
        return NULL;
    }
}

/* operand: term followed by .Field chain. */
static tmpl_arg_t *parse_operand(tparser_t *p)
{
    size_t start = p->pos;
    tmpl_arg_t *a = parse_term(p);
    if (a == NULL || p->failed) {
        return NULL;
    }
    if (p->pos < p->len && p->s[p->pos] == '.' && alnum_width(p, p->pos + 1) > 0) {
        if (a->kind == TMPL_A_BOOL || a->kind == TMPL_A_STRING || a->kind == TMPL_A_NUMBER || a->kind == TMPL_A_NIL ||
            a->kind == TMPL_A_DOT) {
            tp_errorf(p, p->pos, "unexpected . after term \"%.*s\"", (int)a->text.len, a->text.p);
            return NULL;
        }
        if (a->kind == TMPL_A_IDENT) {
            a->kind = TMPL_A_CHAIN; /* function result's field: Go builds a chain too */
        }
        if (a->kind == TMPL_A_PIPE) {
            a->kind = TMPL_A_CHAIN;
        }
        a->pos = (uint32_t)p->pos; /* Go: the chain's position, its first field */
        while (p->pos < p->len && p->s[p->pos] == '.' && alnum_width(p, p->pos + 1) > 0) {
            tok_t f = next_tok(p);
            add_ident(p, a, str_from(f.val.p + 1, f.val.len - 1));
        }
        a->text = str_from(p->s + start, p->pos - start);
    }
    return a;
}

static tmpl_cmd_t *parse_command(tparser_t *p, tok_type_t end, bool *more)
{
    tmpl_cmd_t *c = arena_calloc(p->a, 1, sizeof(*c));
    c->pos = (uint32_t)p->pos;
    size_t cap = 0;
    *more = false;
    for (;;) {
        if (p->pos < p->len && is_space(p->s[p->pos])) {
            size_t save0 = p->pos;
            if (next_tok(p).type != TK_SPACE) {
                p->pos = save0; /* " -}}" */
            }
        }
        if (c->nargs == 0) {
            c->pos = (uint32_t)p->pos;
        }
        tmpl_arg_t *a = parse_operand(p);
        if (p->failed) {
            return NULL;
        }
        if (a != NULL) {
            if (c->nargs == cap) {
                cap = cap ? cap * 2 : 4;
                tmpl_arg_t **n = arena_alloc(p->a, cap * sizeof(*n));
                if (c->nargs > 0) {
                    memcpy(n, c->args, c->nargs * sizeof(*n));
                }
                c->args = n;
            }
            c->args[c->nargs++] = a;
        }
        size_t save = p->pos;
        int parens = p->parens;
        tok_t t = next_tok(p);
        if (t.type == TK_SPACE && a != NULL) {
            continue;
        }
        if (t.type == TK_RDELIM || t.type == TK_RPAREN) {
            if (t.type != end) {
                unexpected(p, &t, end == TK_RPAREN ? "parenthesized pipeline" : "command");
                return NULL;
            }
            p->pos = save;
            p->parens = parens;
            break;
        }
        if (t.type == TK_PIPE) {
            *more = true;
            break;
        }
        unexpected(p, &t, "operand");
        return NULL;
    }
    if (c->nargs == 0) {
        tp_errorf(p, c->pos, "empty command");
        return NULL;
    }
    return c;
}

/* pipeline: [decl] command ('|' command)*, up to the end token (consumed). */
static tmpl_pipe_t *parse_pipeline(tparser_t *p, const char *context, tok_type_t end, bool allow_two)
{
    tmpl_pipe_t *pipe = arena_calloc(p->a, 1, sizeof(*pipe));
    tok_t first = peek_nonspace(p);
    pipe->pos = (uint32_t)first.pos;
    if (first.type == TK_VAR) {
        size_t save = p->pos;
        int parens = p->parens;
        tok_t v = next_nonspace(p);
        tok_t op = next_nonspace(p);
        if (op.type == TK_COMMA && allow_two) {
            tok_t v2 = next_nonspace(p);
            tok_t op2 = next_nonspace(p);
            if (v2.type != TK_VAR || op2.type != TK_DECLARE) {
                tp_errorf(p, v2.pos, "range can only initialize variables");
                return NULL;
            }
            pipe->decl[0] = v.val;
            pipe->decl[1] = v2.val;
            pipe->ndecl = 2;
        } else if (op.type == TK_DECLARE || op.type == TK_ASSIGN) {
            pipe->decl[0] = v.val;
            pipe->ndecl = 1;
            pipe->is_assign = op.type == TK_ASSIGN;
            if (pipe->is_assign && !var_defined(p, v.val)) {
                tp_errorf(p, v.pos, "undefined variable \"%.*s\"", (int)v.val.len, v.val.p);
                return NULL;
            }
        } else if (op.type == TK_COMMA) {
            tp_errorf(p, op.pos, "too many declarations in %s", context);
            return NULL;
        } else {
            p->pos = save;
            p->parens = parens;
        }
        if (p->failed) {
            return NULL;
        }
    }
    size_t cap = 0;
    bool more = true;
    while (more) {
        tok_t t = peek_nonspace(p);
        if (t.type == end || t.type == TK_EOF || t.type == TK_RDELIM || t.type == TK_RPAREN) {
            if (t.type == TK_EOF) {
                unexpected(p, &t, context);
                return NULL;
            }
            if (pipe->ncmds == 0 && t.type == end) {
                tp_errorf(p, t.pos, "missing value for %s", context);
                return NULL;
            }
            if (t.type != end || pipe->ncmds > 0) {
                unexpected(p, &t, context);
                return NULL;
            }
        }
        tmpl_cmd_t *c = parse_command(p, end, &more);
        if (c == NULL) {
            return NULL;
        }
        if (pipe->ncmds == cap) {
            cap = cap ? cap * 2 : 2;
            tmpl_cmd_t **n = arena_alloc(p->a, cap * sizeof(*n));
            if (pipe->ncmds > 0) {
                memcpy(n, pipe->cmds, pipe->ncmds * sizeof(*n));
            }
            pipe->cmds = n;
        }
        pipe->cmds[pipe->ncmds++] = c;
    }
    tok_t e = next_nonspace(p);
    if (e.type != end) {
        unexpected(p, &e, context);
        return NULL;
    }
    if (e.trim) {
        p->trim_next = true;
    }
    for (size_t i = 1; i < pipe->ncmds; i++) {
        tmpl_akind_t k = pipe->cmds[i]->args[0]->kind;
        if (k == TMPL_A_BOOL || k == TMPL_A_DOT || k == TMPL_A_NIL || k == TMPL_A_NUMBER || k == TMPL_A_STRING) {
            tp_errorf(p, pipe->cmds[i]->pos, "non executable command in pipeline stage %zu", i + 1);
            return NULL;
        }
    }
    for (size_t i = 0; i < pipe->ndecl; i++) {
        if (!pipe->is_assign) {
            var_push(p, pipe->decl[i], pipe->pos);
        }
    }
    return pipe;
}

typedef enum stop {
    STOP_EOF,
    STOP_END,
    STOP_ELSE,
    STOP_ELSE_IF,
    STOP_ERROR,
} stop_t;

static tmpl_node_t *new_node(tparser_t *p, tmpl_nkind_t kind, size_t pos)
{
    tmpl_node_t *n = arena_calloc(p->a, 1, sizeof(*n));
    n->kind = kind;
    n->pos = (uint32_t)pos;
    return n;
}

static stop_t parse_list(tparser_t *p, tmpl_node_t **head);
static bool parse_define(tparser_t *p);
static bool parse_template_action(tparser_t *p, bool block, tmpl_node_t ***tail);

/* After "{{if"/"{{range"/"{{with" (keyword consumed). */
static tmpl_node_t *parse_control(tparser_t *p, tmpl_nkind_t kind, size_t pos, const char *context)
{
    if (++p->depth > TMPL_MAX_DEPTH) {
        tp_errorf(p, pos, "max expression depth exceeded");
        return NULL;
    }
    size_t mark = p->nvars;
    tmpl_node_t *n = new_node(p, kind, pos);
    n->pipe = parse_pipeline(p, context, TK_RDELIM, kind == TMPL_N_RANGE);
    if (n->pipe == NULL) {
        return NULL;
    }
    p->range_depth += kind == TMPL_N_RANGE;
    stop_t st = parse_list(p, &n->list);
    p->range_depth -= kind == TMPL_N_RANGE;
    if (st == STOP_ELSE) {
        st = parse_list(p, &n->else_list);
        if (st == STOP_ELSE || st == STOP_ELSE_IF) {
            tp_errorf(p, p->pos, "unexpected {{else}}");
            return NULL;
        }
    } else if (st == STOP_ELSE_IF) {
        if (kind != TMPL_N_IF) {
            tp_errorf(p, p->pos, "unexpected {{else if}}");
            return NULL;
        }
        n->else_list = parse_control(p, TMPL_N_IF, p->pos, "if");
        st = n->else_list != NULL ? STOP_END : STOP_ERROR;
    }
    if (st == STOP_EOF) {
        tp_errorf(p, p->len, "unexpected EOF");
    }
    p->nvars = mark;
    p->depth--;
    return p->failed ? NULL : n;
}

/* Go's IsEmptyTree: nothing but white space. */
static bool empty_tree(const tmpl_node_t *n)
{
    for (; n != NULL; n = n->next) {
        if (n->kind != TMPL_N_TEXT) {
            return false;
        }
        for (size_t i = 0; i < n->text.len; i++) {
            if (!is_space(n->text.p[i])) {
                return false;
            }
        }
    }
    return true;
}

/* The quoted name after define/template/block. */
static bool parse_tname(tparser_t *p, const char *context, str_t *name)
{
    tok_t t = next_nonspace(p);
    if (t.type == TK_RAW) {
        *name = str_from(t.val.p + 1, t.val.len - 2);
        return true;
    }
    if (t.type == TK_STRING) {
        if (!unquote(p, t.val, name)) {
            tp_errorf(p, t.pos, "invalid syntax");
            return false;
        }
        return true;
    }
    unexpected(p, &t, context);
    return false;
}

/* Record a define/block body as Go's Tree.add does: an empty body never
 * replaces a definition, two non-empty ones are an error. */
static void add_def(tparser_t *p, str_t name, tmpl_node_t *root, size_t end_pos)
{
    for (tmpl_def_t *d = p->t->defs; d != NULL; d = d->next) {
        if (strlen(d->name) == name.len && memcmp(d->name, name.p, name.len) == 0) {
            if (d->empty) {
                d->root = root;
                d->empty = empty_tree(root);
            } else if (!empty_tree(root)) {
                tp_errorf(p, end_pos, "template: multiple definition of template \"%.*s\"", (int)name.len, name.p);
            }
            return;
        }
    }
    tmpl_def_t *d = arena_calloc(p->a, 1, sizeof(*d));
    d->name = arena_strndup(p->a, name.p, name.len);
    d->parse_name = p->t->main.parse_name;
    d->src = p->s;
    d->len = p->len;
    d->root = root;
    d->empty = empty_tree(root);
    tmpl_def_t **tail = &p->t->defs;
    while (*tail != NULL) {
        tail = &(*tail)->next;
    }
    *tail = d;
}

/* A define or block body up to its {{end}}, with variables of its own. */
static bool parse_body(tparser_t *p, str_t name, const char *context)
{
    if (++p->depth > TMPL_MAX_DEPTH) {
        tp_errorf(p, p->pos, "max expression depth exceeded");
        return false;
    }
    size_t base = p->var_base, nvars = p->nvars;
    bool in_def = p->in_def;
    int range_depth = p->range_depth;
    p->var_base = p->nvars;
    p->in_def = true;
    p->range_depth = 0;
    var_push(p, STR_LIT("$"), p->pos);
    tmpl_node_t *root = NULL;
    stop_t st = parse_list(p, &root);
    if (!p->failed) {
        if (st == STOP_EOF) {
            tp_errorf(p, p->len, "unexpected EOF");
        } else if (st != STOP_END) {
            tp_errorf(p, p->pos, "unexpected {{else}} in %s", context);
        }
    }
    p->var_base = base;
    p->nvars = nvars;
    p->in_def = in_def;
    p->range_depth = range_depth;
    p->depth--;
    if (p->failed) {
        return false;
    }
    add_def(p, name, root, p->pos > 0 ? p->pos - 1 : 0);
    return !p->failed;
}

/* After "{{define" at top level. */
static bool parse_define(tparser_t *p)
{
    str_t name = { 0 };
    if (!parse_tname(p, "define clause", &name)) {
        return false;
    }
    tok_t t = next_nonspace(p);
    if (t.type != TK_RDELIM) {
        unexpected(p, &t, "define clause");
        return false;
    }
    p->trim_next = t.trim;
    return parse_body(p, name, "define clause");
}

/* After "{{template" or "{{block": a TEMPLATE node; a block also defines
 * its body. */
static bool parse_template_action(tparser_t *p, bool block, tmpl_node_t ***tail)
{
    const char *context = block ? "block clause" : "template clause";
    size_t name_pos = peek_nonspace(p).pos;
    str_t name = { 0 };
    if (!parse_tname(p, context, &name)) {
        return false;
    }
    tmpl_node_t *n = new_node(p, TMPL_N_TEMPLATE, name_pos);
    n->text = name;
    p->t->has_calls = true;
    tok_t t = peek_nonspace(p);
    if (block || t.type != TK_RDELIM) {
        n->pipe = parse_pipeline(p, context, TK_RDELIM, false);
        if (n->pipe == NULL) {
            return false;
        }
    } else {
        t = next_nonspace(p);
        p->trim_next = t.trim;
    }
    if (block && !parse_body(p, name, context)) {
        return false;
    }
    **tail = n;
    *tail = &n->next;
    return true;
}

/* One action after "{{" and any trim marker; appends to *tail. */
static stop_t parse_action(tparser_t *p, size_t start, tmpl_node_t ***tail)
{
    tok_t kw = peek_nonspace(p);
    if (kw.type == TK_IDENT) {
        str_t w = kw.val;
        if (str_eq_cstr(w, "end") || str_eq_cstr(w, "else")) {
            (void)next_nonspace(p);
            tok_t t = next_nonspace(p);
            if (str_eq_cstr(w, "else") && t.type == TK_IDENT && str_eq_cstr(t.val, "if")) {
                return STOP_ELSE_IF;
            }
            if (t.type != TK_RDELIM) {
                unexpected(p, &t, str_eq_cstr(w, "end") ? "end" : "else");
                return STOP_ERROR;
            }
            p->trim_next = t.trim;
            return w.p[1] == 'n' ? STOP_END : STOP_ELSE;
        }
        tmpl_nkind_t kind = TMPL_N_ACTION;
        if (str_eq_cstr(w, "if")) {
            kind = TMPL_N_IF;
        } else if (str_eq_cstr(w, "range")) {
            kind = TMPL_N_RANGE;
        } else if (str_eq_cstr(w, "with")) {
            kind = TMPL_N_WITH;
        } else if (str_eq_cstr(w, "template") || str_eq_cstr(w, "block")) {
            (void)next_nonspace(p);
            return parse_template_action(p, w.p[0] == 'b', tail) ? STOP_EOF : STOP_ERROR;
        } else if (str_eq_cstr(w, "define")) {
            if (p->depth > 0 || p->in_def) { /* Go only looks for define between top-level items */
                tp_errorf(p, kw.pos, "unexpected <define> in command");
                return STOP_ERROR;
            }
            (void)next_nonspace(p);
            return parse_define(p) ? STOP_EOF : STOP_ERROR;
        } else if (str_eq_cstr(w, "break") || str_eq_cstr(w, "continue")) {
            (void)next_nonspace(p);
            bool brk = w.p[0] == 'b';
            tok_t t = next_nonspace(p);
            if (t.type != TK_RDELIM) {
                unexpected(p, &t, brk ? "{{break}}" : "{{continue}}");
                return STOP_ERROR;
            }
            if (p->range_depth == 0) {
                tp_errorf(p, kw.pos, "{{%s}} outside {{range}}", brk ? "break" : "continue");
                return STOP_ERROR;
            }
            p->trim_next = t.trim;
            tmpl_node_t *n = new_node(p, brk ? TMPL_N_BREAK : TMPL_N_CONTINUE, kw.pos);
            **tail = n;
            *tail = &n->next;
            return STOP_EOF;
        }
        if (kind != TMPL_N_ACTION) {
            (void)next_nonspace(p);
            tmpl_node_t *n = parse_control(p, kind, kw.pos,
                                           kind == TMPL_N_IF      ? "if"
                                           : kind == TMPL_N_RANGE ? "range"
                                                                  : "with");
            if (n == NULL) {
                return STOP_ERROR;
            }
            **tail = n;
            *tail = &n->next;
            return STOP_EOF;
        }
    }
    tmpl_node_t *n = new_node(p, TMPL_N_ACTION, start);
    n->pipe = parse_pipeline(p, "command", TK_RDELIM, false);
    if (n->pipe == NULL) {
        return STOP_ERROR;
    }
    **tail = n;
    *tail = &n->next;
    return STOP_EOF;
}

/* Skip a comment starting at p->pos ("/ *"); false on error. */
static bool skip_comment(tparser_t *p)
{
    size_t start = p->pos;
    const char *e = NULL;
    for (size_t i = p->pos + 2; i + 1 < p->len; i++) {
        if (p->s[i] == '*' && p->s[i + 1] == '/') {
            e = p->s + i;
            break;
        }
    }
    if (e == NULL) {
        tp_errorf(p, start, "unclosed comment");
        return false;
    }
    p->pos = (size_t)(e - p->s) + 2;
    tok_t t = next_tok(p);
    if (t.type == TK_SPACE) {
        t = next_tok(p);
    }
    if (t.type != TK_RDELIM) {
        tp_errorf(p, start, "comment ends before closing delimiter");
        return false;
    }
    p->trim_next = t.trim;
    return true;
}

/* Parse text and actions until {{end}}, {{else}} or the end of input. */
static stop_t parse_list(tparser_t *p, tmpl_node_t **head)
{
    tmpl_node_t **tail = head;
    while (!p->failed) {
        size_t i = p->pos;
        if (p->trim_next) {
            while (i < p->len && is_space(p->s[i])) {
                i++;
            }
            p->trim_next = false;
        }
        const char *open = NULL;
        for (size_t k = i; k + 1 < p->len; k++) {
            if (p->s[k] == '{' && p->s[k + 1] == '{') {
                open = p->s + k;
                break;
            }
        }
        size_t text_end = open ? (size_t)(open - p->s) : p->len;
        size_t act = text_end + 2;
        bool trim_left = open && act + 1 < p->len && p->s[act] == '-' && is_space(p->s[act + 1]);
        size_t te = text_end;
        if (trim_left) {
            while (te > i && is_space(p->s[te - 1])) {
                te--;
            }
        }
        if (te > i) {
            tmpl_node_t *t = new_node(p, TMPL_N_TEXT, i);
            t->text = str_from(p->s + i, te - i);
            *tail = t;
            tail = &t->next;
        }
        if (open == NULL) {
            p->pos = p->len;
            return STOP_EOF;
        }
        p->pos = trim_left ? act + 2 : act;
        if (trim_left) {
            while (p->pos < p->len && is_space(p->s[p->pos])) {
                p->pos++;
            }
        }
        if (p->pos + 1 < p->len && p->s[p->pos] == '/' && p->s[p->pos + 1] == '*') {
            if (!skip_comment(p)) {
                return STOP_ERROR;
            }
            continue;
        }
        p->parens = 0;
        p->action_start = text_end;
        stop_t st = parse_action(p, text_end, &tail);
        if (st != STOP_EOF) {
            return st;
        }
    }
    return STOP_ERROR;
}

int tmpl_parse(arena_t *a, const char *name, const char *text, size_t len, const tmpl_functab_t *funcs,
               alerts_tmpl_t **out, buf_t *err)
{
    assert(a != NULL && out != NULL && err != NULL && funcs != NULL);
    *out = NULL;
    tparser_t *p = arena_calloc(a, 1, sizeof(*p));
    p->a = a;
    p->name = name ? name : "";
    p->s = text ? text : "";
    p->len = text ? len : 0;
    p->err = err;
    p->funcs = funcs;
    p->vars[p->nvars++] = STR_LIT("$");
    alerts_tmpl_t *t = arena_calloc(a, 1, sizeof(*t));
    t->main.name = arena_strndup(a, p->name, strlen(p->name));
    t->main.parse_name = t->main.name;
    t->main.src = p->s;
    t->main.len = p->len;
    t->funcs = funcs;
    p->t = t;
    tmpl_node_t *root = NULL;
    stop_t st = parse_list(p, &root);
    if (!p->failed && st == STOP_END) {
        tp_errorf(p, p->pos, "unexpected {{end}}");
    } else if (!p->failed && (st == STOP_ELSE || st == STOP_ELSE_IF)) {
        tp_errorf(p, p->pos, "unexpected {{else}}");
    }
    if (p->failed) {
        return -1;
    }
    t->main.root = root;
    t->main.empty = empty_tree(root);
    *out = t;
    return 0;
}

int alerts_tmpl_parse(arena_t *a, const char *name, const char *text, size_t len, alerts_tmpl_t **out, buf_t *err)
{
    return tmpl_parse(a, name, text, len, &tmpl_functab_prom, out, err);
}

/* A later text's definition replaces an earlier one unless it is empty
 * (Go's associate): the first non-empty match wins, else an empty one. */
const tmpl_def_t *tmpl_lookup(const alerts_tmpl_t *t, str_t name)
{
    const tmpl_def_t *empty = NULL;
    for (; t != NULL; t = t->base) {
        const tmpl_def_t *d = t->defs;
        for (; d != NULL && !str_eq_cstr(name, d->name); d = d->next) {
        }
        if (d == NULL && str_eq_cstr(name, t->main.name)) {
            d = &t->main;
        }
        if (d != NULL && !d->empty) {
            return d;
        }
        if (d != NULL && empty == NULL) {
            empty = d;
        }
    }
    return empty;
}

/* ---- Go's String() of nodes, for error contexts ---- */

void tmpl_arg_string(const tmpl_arg_t *a, buf_t *out)
{
    switch (a->kind) {
    case TMPL_A_PIPE:
        buf_putc(out, '(');
        tmpl_pipe_string(a->pipe, out);
        buf_putc(out, ')');
        break;
    case TMPL_A_CHAIN:
        if (a->pipe != NULL) {
            buf_putc(out, '(');
            tmpl_pipe_string(a->pipe, out);
            buf_putc(out, ')');
        } else {
            buf_append(out, a->name.p, a->name.len);
        }
        for (size_t i = 0; i < a->nidents; i++) {
            buf_putc(out, '.');
            buf_append(out, a->idents[i].p, a->idents[i].len);
        }
        break;
    case TMPL_A_VAR:
        buf_append(out, a->name.p, a->name.len);
        for (size_t i = 0; i < a->nidents; i++) {
            buf_putc(out, '.');
            buf_append(out, a->idents[i].p, a->idents[i].len);
        }
        break;
    default:
        buf_append(out, a->text.p, a->text.len);
        break;
    }
}

void tmpl_cmd_string(const tmpl_cmd_t *c, buf_t *out)
{
    for (size_t i = 0; i < c->nargs; i++) {
        if (i > 0) {
            buf_putc(out, ' ');
        }
        tmpl_arg_string(c->args[i], out);
    }
}

void tmpl_pipe_string(const tmpl_pipe_t *p, buf_t *out)
{
    for (size_t i = 0; i < p->ndecl; i++) {
        if (i > 0) {
            buf_puts(out, ", ");
        }
        buf_append(out, p->decl[i].p, p->decl[i].len);
    }
    if (p->ndecl > 0) {
        buf_puts(out, p->is_assign ? " = " : " := ");
    }
    for (size_t i = 0; i < p->ncmds; i++) {
        if (i > 0) {
            buf_puts(out, " | ");
        }
        tmpl_cmd_string(p->cmds[i], out);
    }
}

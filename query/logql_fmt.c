/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logql_fmt: the Go text/template subset that line_format and label_format
 * templates use (Loki: pkg/logql/log/fmt.go, with missingkey=zero).
 *
 * Supported: text with {{ }} actions and {{- -}} trimming, comments, .name
 * fields (a missing label is ""), string (quoted and raw), number and
 * bool literals, pipelines with |, parenthesised pipelines, if / else if /
 * else / end, and the functions: __line__ __timestamp__; Go's strings
 * ToLower ToUpper Replace Trim TrimLeft TrimRight TrimPrefix TrimSuffix
 * TrimSpace; sprig lower upper title trim trimAll trimPrefix trimSuffix
 * replace contains hasPrefix hasSuffix trunc substr repeat default int
 * float64 add sub mul div mod addf subf mulf divf max min maxf minf ceil
 * floor round date unixEpoch unixEpochMillis unixEpochNanos; Loki's
 * regexReplaceAll regexReplaceAllLiteral count alignLeft alignRight
 * bytes duration; builtins printf print len eq ne lt le gt ge and or not.
 * Not supported: range, with, define/template/block, variables ($x),
 * toDate/toDateInZone/now, urlencode, b64, fromJson (a parse error names
 * the function as Go does: function "x" not defined).
 *
 * Core idea: parse once per query into an arena tree; execute per entry
 * into a caller buffer, with intermediate strings in the entry's scratch
 * arena. Errors carry Go's wording where it matters to users.
 */
#define _GNU_SOURCE /* memmem */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <math.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/str.h"
#include "query/logql_int.h"

typedef enum tn_kind { TN_TEXT, TN_ACTION, TN_IF } tn_kind_t;
typedef enum arg_kind { A_FIELD, A_STR, A_INT, A_FLOAT, A_BOOL, A_FUNC, A_PIPE, A_DOT, A_NIL } arg_kind_t;

typedef struct tpipe tpipe_t;
typedef struct tlist tlist_t;

typedef struct targ {
    arg_kind_t kind;
    str_t s; /* field name, string, function name */
    int64_t i;
    double f;
    bool b;
    tpipe_t *pipe;
} targ_t;

typedef struct tcmd {
    targ_t *args;
    size_t n;
} tcmd_t;

struct tpipe {
    tcmd_t *cmds;
    size_t n;
};

typedef struct tnode {
    tn_kind_t kind;
    str_t text;
    tpipe_t *pipe;
    tlist_t *list, *elist;
} tnode_t;

struct tlist {
    tnode_t *v;
    size_t n, cap;
};

struct lq_tmpl {
    tlist_t *root;
};

typedef enum vkind { V_NIL, V_STR, V_INT, V_FLOAT, V_BOOL, V_TIME } vkind_t;
typedef struct val {
    vkind_t k;
    str_t s;
    int64_t i; /* INT; TIME: ns */
    double f;
    bool b;
} val_t;

/* ---- parsing ---- */

typedef struct tparser {
    const char *s;
    size_t n, pos;
    arena_t *a;
    char *err;
    size_t errlen;
    bool failed;
    int depth;
} tparser_t;

static const char *const funcs[] = {
    "__line__",
    "__timestamp__",
    "ToLower",
    "ToUpper",
    "Replace",
    "Trim",
    "TrimLeft",
    "TrimRight",
    "TrimPrefix",
    "TrimSuffix",
    "TrimSpace",
    "lower",
    "upper",
    "title",
    "trim",
    "trimAll",
    "trimPrefix",
    "trimSuffix",
    "replace",
    "contains",
    "hasPrefix",
    "hasSuffix",
    "trunc",
    "substr",
    "repeat",
    "default",
    "int",
    "float64",
    "add",
    "sub",
    "mul",
    "div",
    "mod",
    "addf",
    "subf",
    "mulf",
    "divf",
    "max",
    "min",
    "maxf",
    "minf",
    "ceil",
    "floor",
    "round",
    "date",
    "unixEpoch",
    "unixEpochMillis",
    "unixEpochNanos",
    "regexReplaceAll",
    "regexReplaceAllLiteral",
    "count",
    "alignLeft",
    "alignRight",
    "bytes",
    "duration",
    "duration_seconds",
    "printf",
    "print",
    "println",
    "len",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "and",
    "or",
    "not",
    "unixToTime",
};

static void tfail(tparser_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tfail(tparser_t *p, const char *fmt, ...)
{
    if (p->failed) {
        return;
    }
    p->failed = true;
    unsigned line = 1;
    for (size_t i = 0; i < p->pos && i < p->n; i++) {
        line += p->s[i] == '\n';
    }
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "template: line:%u: %s", line, msg);
}

static tnode_t *list_add(tparser_t *p, tlist_t *l)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 4;
        tnode_t *nv = arena_calloc(p->a, nc, sizeof(*nv));
        if (l->n > 0) {
            memcpy(nv, l->v, l->n * sizeof(*nv));
        }
        l->v = nv;
        l->cap = nc;
    }
    tnode_t *t = &l->v[l->n++];
    memset(t, 0, sizeof(*t));
    return t;
}

static void skip_ws(tparser_t *p)
{
    while (p->pos < p->n &&
           (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r')) {
        p->pos++;
    }
}

/* At the end of an action? Consumes "}}" or "-}}" (trimming after). */
static bool at_close(tparser_t *p)
{
    skip_ws(p);
    return (p->pos + 1 < p->n && p->s[p->pos] == '}' && p->s[p->pos + 1] == '}') ||
           (p->pos + 2 < p->n && p->s[p->pos] == '-' && p->s[p->pos + 1] == '}' && p->s[p->pos + 2] == '}');
}

static bool ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

static tpipe_t *parse_pipe(tparser_t *p, bool in_paren);

static bool go_unquote(tparser_t *p, const char *s, size_t n, str_t *out)
{
    char *d = arena_alloc(p->a, n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            d[k++] = s[i];
            continue;
        }
        if (++i >= n) {
            return false;
        }
        switch (s[i]) {
        case 'n':
            d[k++] = '\n';
            break;
        case 't':
            d[k++] = '\t';
            break;
        case 'r':
            d[k++] = '\r';
            break;
        case '\\':
        case '"':
        case '\'':
            d[k++] = s[i];
            break;
        case 'x':
            if (i + 2 < n && str_hex_digit((unsigned char)s[i + 1]) >= 0 &&
                str_hex_digit((unsigned char)s[i + 2]) >= 0) {
                d[k++] = (char)(str_hex_digit((unsigned char)s[i + 1]) * 16 + str_hex_digit((unsigned char)s[i + 2]));
                i += 2;
                break;
            }
            return false;
        case 'u': {
            if (i + 4 >= n) {
                return false;
            }
            uint32_t cp = 0;
            for (int j = 1; j <= 4; j++) {
                int h = str_hex_digit((unsigned char)s[i + j]);
                if (h < 0) {
                    return false;
                }
                cp = cp * 16 + (uint32_t)h;
            }
            if (cp >= 0xd800 && cp < 0xe000) {
                cp = 0xfffd;
            }
            i += 4;
            char tmp[4];
            size_t w = str_utf8_encode(cp, tmp);
            memcpy(d + k, tmp, w);
            k += w;
            break;
        }
        default:
            return false;
        }
    }
    d[k] = 0;
    *out = (str_t){ d, k };
    return true;
}

static bool parse_arg(tparser_t *p, targ_t *a)
{
    skip_ws(p);
    if (p->pos >= p->n) {
        tfail(p, "unclosed action");
        return false;
    }
    char c = p->s[p->pos];
    memset(a, 0, sizeof(*a));
    if (c == '.') {
        p->pos++;
        size_t st = p->pos;
        while (p->pos < p->n && ident_char(p->s[p->pos])) {
            p->pos++;
        }
        if (p->pos == st) {
            a->kind = A_DOT;
            return true;
        }
        if (p->pos < p->n && p->s[p->pos] == '.') {
            tfail(p, "nested fields are not supported: .%.*s", (int)(p->pos - st), p->s + st);
            return false;
        }
        a->kind = A_FIELD;
        a->s = (str_t){ p->s + st, p->pos - st };
        return true;
    }
    if (c == '"' || c == '`') {
        size_t st = ++p->pos;
        while (p->pos < p->n && p->s[p->pos] != c) {
            if (c == '"' && p->s[p->pos] == '\\') {
                p->pos++;
            }
            p->pos++;
        }
        if (p->pos >= p->n) {
            tfail(p, "unterminated quoted string");
            return false;
        }
        a->kind = A_STR;
        if (c == '`') {
            a->s = (str_t){ p->s + st, p->pos - st };
        } else if (!go_unquote(p, p->s + st, p->pos - st, &a->s)) {
            tfail(p, "invalid syntax");
            return false;
        }
        p->pos++;
        return true;
    }
    if (c == '(') {
        p->pos++;
        if (++p->depth > 50) {
            tfail(p, "too deeply nested");
            return false;
        }
        a->kind = A_PIPE;
        a->pipe = parse_pipe(p, true);
        p->depth--;
        return a->pipe != NULL;
    }
    if (isdigit((unsigned char)c) ||
        ((c == '-' || c == '+') && p->pos + 1 < p->n && isdigit((unsigned char)p->s[p->pos + 1]))) {
        size_t st = p->pos++;
        bool is_float = false;
        while (p->pos < p->n && (isalnum((unsigned char)p->s[p->pos]) || p->s[p->pos] == '.' ||
                                 ((p->s[p->pos] == '-' || p->s[p->pos] == '+') &&
                                  (p->s[p->pos - 1] == 'e' || p->s[p->pos - 1] == 'E')))) {
            is_float |= p->s[p->pos] == '.' || p->s[p->pos] == 'e' || p->s[p->pos] == 'E';
            p->pos++;
        }
        str_t t = { p->s + st, p->pos - st };
        if (!is_float && str_parse_i64(t, &a->i)) {
            a->kind = A_INT;
            return true;
        }
        if (str_parse_double(t, &a->f)) {
            a->kind = A_FLOAT;
            return true;
        }
        tfail(p, "bad number syntax: \"%.*s\"", (int)t.len, t.p);
        return false;
    }
    if (isalpha((unsigned char)c) || c == '_') {
        size_t st = p->pos;
        while (p->pos < p->n && ident_char(p->s[p->pos])) {
            p->pos++;
        }
        str_t id = { p->s + st, p->pos - st };
        if (str_eq_cstr(id, "true") || str_eq_cstr(id, "false")) {
            a->kind = A_BOOL;
            a->b = id.p[0] == 't';
            return true;
        }
        if (str_eq_cstr(id, "nil")) {
            a->kind = A_NIL;
            return true;
        }
        for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
            if (str_eq_cstr(id, funcs[i])) {
                a->kind = A_FUNC;
                a->s = id;
                return true;
            }
        }
        tfail(p, "function \"%.*s\" not defined", (int)id.len, id.p);
        return false;
    }
    if (c == '$') {
        tfail(p, "variables are not supported");
        return false;
    }
    tfail(p, "unexpected \"%c\" in command", p->s[p->pos]);
    return false;
}

static tpipe_t *parse_pipe(tparser_t *p, bool in_paren)
{
    tpipe_t *pp = arena_calloc(p->a, 1, sizeof(*pp));
    size_t cmdcap = 0;
    for (;;) {
        if (pp->n == cmdcap) {
            cmdcap = cmdcap ? cmdcap * 2 : 2;
            tcmd_t *nc = arena_calloc(p->a, cmdcap, sizeof(*nc));
            if (pp->n) {
                memcpy(nc, pp->cmds, pp->n * sizeof(*nc));
            }
            pp->cmds = nc;
        }
        tcmd_t *cmd = &pp->cmds[pp->n++];
        size_t argcap = 0;
        for (;;) {
            skip_ws(p);
            if (p->pos >= p->n) {
                tfail(p, "unclosed action");
                return NULL;
            }
            char c = p->s[p->pos];
            if (c == '|' || (in_paren && c == ')') || (!in_paren && at_close(p))) {
                break;
            }
            if (cmd->n == argcap) {
                argcap = argcap ? argcap * 2 : 4;
                targ_t *na = arena_calloc(p->a, argcap, sizeof(*na));
                if (cmd->n) {
                    memcpy(na, cmd->args, cmd->n * sizeof(*na));
                }
                cmd->args = na;
            }
            if (!parse_arg(p, &cmd->args[cmd->n])) {
                return NULL;
            }
            cmd->n++;
        }
        if (cmd->n == 0) {
            tfail(p, "missing value for command");
            return NULL;
        }
        if (p->s[p->pos] == '|') {
            p->pos++;
            continue;
        }
        if (in_paren) {
            p->pos++; /* ')' */
        }
        return pp;
    }
}

/* After "{{" (and an optional "-"): consume "}}" / "-}}" and trim. */
static bool close_action(tparser_t *p)
{
    skip_ws(p);
    if (p->pos + 2 < p->n && p->s[p->pos] == '-' && p->s[p->pos + 1] == '}' && p->s[p->pos + 2] == '}') {
        p->pos += 3;
        skip_ws(p);
        return true;
    }
    if (p->pos + 1 < p->n && p->s[p->pos] == '}' && p->s[p->pos + 1] == '}') {
        p->pos += 2;
        return true;
    }
    tfail(p, "unclosed action");
    return false;
}

static bool kw_at(tparser_t *p, const char *kw)
{
    size_t n = strlen(kw);
    return p->pos + n <= p->n && memcmp(p->s + p->pos, kw, n) == 0 &&
           (p->pos + n == p->n || !ident_char(p->s[p->pos + n]));
}

/* Parse a list until {{end}}/{{else}} (returned in *stop) or the end. */
static tlist_t *parse_list(tparser_t *p, int *stop)
{
    tlist_t *l = arena_calloc(p->a, 1, sizeof(*l));
    *stop = 0;
    while (p->pos < p->n && !p->failed) {
        const char *open = NULL;
        if (p->pos + 1 < p->n) {
            open = memmem(p->s + p->pos, p->n - p->pos, "{{", 2);
        }
        size_t tend = open ? (size_t)(open - p->s) : p->n;
        size_t after = tend + 2;
        bool ltrim = open && after < p->n && p->s[after] == '-' && after + 1 < p->n &&
                     (p->s[after + 1] == ' ' || p->s[after + 1] == '\t' || p->s[after + 1] == '\n');
        size_t te = tend;
        if (ltrim) {
            while (te > p->pos &&
                   (p->s[te - 1] == ' ' || p->s[te - 1] == '\t' || p->s[te - 1] == '\n' || p->s[te - 1] == '\r')) {
                te--;
            }
        }
        if (te > p->pos) {
            tnode_t *t = list_add(p, l);
            t->kind = TN_TEXT;
            t->text = (str_t){ p->s + p->pos, te - p->pos };
        }
        if (open == NULL) {
            p->pos = p->n;
            break;
        }
        p->pos = after + (ltrim ? 1 : 0);
        skip_ws(p);
        if (p->pos + 1 < p->n && p->s[p->pos] == '/' && p->s[p->pos + 1] == '*') {
            const char *e = memmem(p->s + p->pos, p->n - p->pos, "*/", 2);
            if (e == NULL) {
                tfail(p, "unclosed comment");
                return NULL;
            }
            p->pos = (size_t)(e - p->s) + 2;
            if (!close_action(p)) {
                return NULL;
            }
            continue;
        }
        if (kw_at(p, "end")) {
            p->pos += 3;
            *stop = 1;
            return close_action(p) ? l : NULL;
        }
        if (kw_at(p, "else")) {
            p->pos += 4;
            skip_ws(p);
            if (kw_at(p, "if")) {
                *stop = 3; /* else if: the caller parses the if */
                return l;
            }
            *stop = 2;
            return close_action(p) ? l : NULL;
        }
        if (kw_at(p, "range") || kw_at(p, "with") || kw_at(p, "define") || kw_at(p, "template") || kw_at(p, "block")) {
            tfail(p, "unsupported action");
            return NULL;
        }
        tnode_t *t = list_add(p, l);
        if (kw_at(p, "if")) {
            p->pos += 2;
        parse_if:
            t->kind = TN_IF;
            if (++p->depth > 50) {
                tfail(p, "too deeply nested");
                return NULL;
            }
            if ((t->pipe = parse_pipe(p, false)) == NULL || !close_action(p)) {
                return NULL;
            }
            int st = 0;
            if ((t->list = parse_list(p, &st)) == NULL) {
                return NULL;
            }
            if (st == 2) {
                int st2 = 0;
                if ((t->elist = parse_list(p, &st2)) == NULL) {
                    return NULL;
                }
                if (st2 != 1) {
                    tfail(p, "unexpected EOF");
                    return NULL;
                }
            } else if (st == 3) {
                p->pos += 2; /* "if" */
                t->elist = arena_calloc(p->a, 1, sizeof(*t->elist));
                t = list_add(p, t->elist);
                goto parse_if;
            } else if (st != 1) {
                tfail(p, "unexpected EOF");
                return NULL;
            }
            p->depth = 0;
            continue;
        }
        t->kind = TN_ACTION;
        if ((t->pipe = parse_pipe(p, false)) == NULL || !close_action(p)) {
            return NULL;
        }
    }
    return p->failed ? NULL : l;
}

int lq_tmpl_parse(const char *s, size_t len, arena_t *a, lq_tmpl_t **out, char *err, size_t errlen)
{
    tparser_t p = { .s = s, .n = len, .a = a, .err = err, .errlen = errlen };
    int stop = 0;
    tlist_t *l = parse_list(&p, &stop);
    if (l != NULL && stop != 0) {
        tfail(&p, "unexpected {{%s}}", stop == 1 ? "end" : "else");
        l = NULL;
    }
    if (l == NULL) {
        if (!p.failed) {
            snprintf(err, errlen, "template: line:1: syntax error");
        }
        *out = NULL;
        return -1;
    }
    *out = arena_calloc(a, 1, sizeof(**out));
    (*out)->root = l;
    return 0;
}

bool lq_tmpl_simple_key(const lq_tmpl_t *t, str_t *name)
{
    const tlist_t *l = t->root;
    if (l->n != 1 || l->v[0].kind != TN_ACTION || l->v[0].pipe->n != 1 || l->v[0].pipe->cmds[0].n != 1 ||
        l->v[0].pipe->cmds[0].args[0].kind != A_FIELD) {
        return false;
    }
    *name = l->v[0].pipe->cmds[0].args[0].s;
    return true;
}

static void pipe_fields(const tpipe_t *p, void (*fn)(void *ctx, str_t name), void *ctx)
{
    for (size_t i = 0; p != NULL && i < p->n; i++) {
        for (size_t j = 0; j < p->cmds[i].n; j++) {
            if (p->cmds[i].args[j].kind == A_FIELD) {
                fn(ctx, p->cmds[i].args[j].s);
            }
        }
    }
}

static void list_fields(const tlist_t *l, void (*fn)(void *ctx, str_t name), void *ctx)
{
    for (size_t i = 0; l != NULL && i < l->n; i++) {
        const tnode_t *t = &l->v[i];
        if (t->kind == TN_TEXT) {
            continue;
        }
        pipe_fields(t->pipe, fn, ctx);
        if (t->kind == TN_IF) {
            list_fields(t->list, fn, ctx);
            list_fields(t->elist, fn, ctx);
        }
    }
}

void lq_tmpl_fields(const lq_tmpl_t *t, void (*fn)(void *ctx, str_t name), void *ctx)
{
    list_fields(t->root, fn, ctx);
}

/* ---- execution ---- */

typedef struct texec {
    lq_lbs_t *lbs;
    int64_t ts;
    str_t line;
    buf_t *err;
    bool failed;
    buf_t tmp;
} texec_t;

static void xfail(texec_t *x, const char *fn, const char *msg)
{
    (void)fn;
    if (!x->failed) {
        x->failed = true;
        buf_printf(x->err, "template: line:1: %s", msg);
    }
}

static str_t xdup(texec_t *x, const char *p, size_t n)
{
    return lq_lbs_dup(x->lbs, p, n);
}

static val_t vstr(str_t s)
{
    return (val_t){ .k = V_STR, .s = s };
}

static val_t vint(int64_t i)
{
    return (val_t){ .k = V_INT, .i = i };
}

static val_t vflt(double f)
{
    return (val_t){ .k = V_FLOAT, .f = f };
}

static val_t vbool(bool b)
{
    return (val_t){ .k = V_BOOL, .b = b };
}

static void civil(int64_t days, int *y, int *m, int *d)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

static const char *const months[] = { "January", "February", "March",     "April",   "May",      "June",
                                      "July",    "August",   "September", "October", "November", "December" };
static const char *const wdays[] = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday" };

/* Go's Time.Format(layout) in UTC, for the common layout elements. */
static void go_date(const char *lay, size_t n, int64_t ns, buf_t *out)
{
    int64_t sec = ns >= 0 ? ns / 1000000000 : -((-ns + 999999999) / 1000000000);
    int64_t frac = ns - sec * 1000000000;
    int64_t days = sec >= 0 ? sec / 86400 : -((-sec + 86399) / 86400);
    int64_t sod = sec - days * 86400;
    int y, mo, d;
    civil(days, &y, &mo, &d);
    int hh = (int)(sod / 3600), mi = (int)(sod / 60 % 60), ss = (int)(sod % 60);
    int wd = (int)(((days % 7) + 11) % 7);
    for (size_t i = 0; i < n;) {
        const char *p = lay + i;
        size_t r = n - i;
#define LAY(s) (r >= sizeof(s) - 1 && memcmp(p, s, sizeof(s) - 1) == 0 && (i += sizeof(s) - 1, true))
        if (LAY("2006")) {
            buf_printf(out, "%04d", y);
        } else if (LAY("January")) {
            buf_puts(out, months[mo - 1]);
        } else if (LAY("Jan")) {
            buf_append(out, months[mo - 1], 3);
        } else if (LAY("Monday")) {
            buf_puts(out, wdays[wd]);
        } else if (LAY("Mon")) {
            buf_append(out, wdays[wd], 3);
        } else if (LAY("MST")) {
            buf_puts(out, "UTC");
        } else if (LAY("01")) {
            buf_printf(out, "%02d", mo);
        } else if (LAY("02")) {
            buf_printf(out, "%02d", d);
        } else if (LAY("_2")) {
            buf_printf(out, "%2d", d);
        } else if (LAY("06")) {
            buf_printf(out, "%02d", y % 100);
        } else if (LAY("15")) {
            buf_printf(out, "%02d", hh);
        } else if (LAY("03")) {
            buf_printf(out, "%02d", hh % 12 == 0 ? 12 : hh % 12);
        } else if (LAY("04")) {
            buf_printf(out, "%02d", mi);
        } else if (LAY("05")) {
            buf_printf(out, "%02d", ss);
        } else if (LAY("PM")) {
            buf_puts(out, hh >= 12 ? "PM" : "AM");
        } else if (LAY("pm")) {
            buf_puts(out, hh >= 12 ? "pm" : "am");
        } else if (LAY("Z07:00")) {
            buf_putc(out, 'Z');
        } else if (LAY("-07:00")) {
            buf_puts(out, "+00:00");
        } else if (LAY("-0700")) {
            buf_puts(out, "+0000");
        } else if (LAY("Z0700")) {
            buf_putc(out, 'Z');
        } else if ((p[0] == '.' || p[0] == ',') && r > 1 && (p[1] == '0' || p[1] == '9')) {
            size_t k = 1;
            while (k < r && p[k] == p[1]) {
                k++;
            }
            if (k < r && isdigit((unsigned char)p[k])) {
                buf_putc(out, (uint8_t)p[0]);
                i++;
                continue;
            }
            char digs[32];
            snprintf(digs, sizeof(digs), "%09lld", (long long)frac);
            size_t nd = k - 1 > 9 ? 9 : k - 1;
            if (p[1] == '9') {
                size_t e = nd;
                while (e > 0 && digs[e - 1] == '0') {
                    e--;
                }
                if (e > 0) {
                    buf_putc(out, (uint8_t)p[0]);
                    buf_append(out, digs, e);
                }
            } else {
                buf_putc(out, (uint8_t)p[0]);
                buf_append(out, digs, nd);
            }
            i += k;
        } else if (LAY("1")) {
            buf_printf(out, "%d", mo);
        } else if (LAY("2")) {
            buf_printf(out, "%d", d);
        } else if (LAY("3")) {
            buf_printf(out, "%d", hh % 12 == 0 ? 12 : hh % 12);
        } else if (LAY("4")) {
            buf_printf(out, "%d", mi);
        } else if (LAY("5")) {
            buf_printf(out, "%d", ss);
        } else {
            buf_putc(out, (uint8_t)p[0]);
            i++;
        }
#undef LAY
    }
}

static void val_print(const val_t *v, buf_t *out)
{
    switch (v->k) {
    case V_NIL:
        buf_puts(out, "<no value>");
        break;
    case V_STR:
        buf_append(out, v->s.p, v->s.len);
        break;
    case V_INT:
        buf_printf(out, "%lld", (long long)v->i);
        break;
    case V_FLOAT:
        logql_fmt_float(v->f, 'v', out);
        break;
    case V_BOOL:
        buf_puts(out, v->b ? "true" : "false");
        break;
    case V_TIME:
        go_date("2006-01-02 15:04:05.999999999 -0700 MST", 39, v->i, out);
        break;
    }
}

static str_t val_str(texec_t *x, const val_t *v)
{
    if (v->k == V_STR) {
        return v->s;
    }
    buf_reset(&x->tmp);
    val_print(v, &x->tmp);
    return xdup(x, (const char *)x->tmp.data, x->tmp.len);
}

static bool truthy(const val_t *v)
{
    switch (v->k) {
    case V_NIL:
        return false;
    case V_STR:
        return v->s.len > 0;
    case V_INT:
        return v->i != 0;
    case V_FLOAT:
        return v->f != 0;
    case V_BOOL:
        return v->b;
    case V_TIME:
        return true;
    }
    return false;
}

/* sprig's cast.ToInt64 / ToFloat64 of any value (bad text: 0). */
static int64_t to_i64(const val_t *v)
{
    switch (v->k) {
    case V_INT:
        return v->i;
    case V_FLOAT:
        return (int64_t)v->f;
    case V_BOOL:
        return v->b;
    case V_STR: {
        int64_t i = 0;
        double f = 0;
        if (str_parse_i64(v->s, &i)) {
            return i;
        }
        return str_parse_double(v->s, &f) ? (int64_t)f : 0;
    }
    default:
        return 0;
    }
}

static double to_f64(const val_t *v)
{
    switch (v->k) {
    case V_INT:
        return (double)v->i;
    case V_FLOAT:
        return v->f;
    case V_BOOL:
        return v->b;
    case V_STR: {
        double f = 0;
        return str_parse_double(v->s, &f) ? f : 0;
    }
    default:
        return 0;
    }
}

static size_t rune_count(str_t s)
{
    size_t n = 0;
    for (size_t i = 0; i < s.len; i++) {
        n += ((unsigned char)s.p[i] & 0xc0) != 0x80;
    }
    return n;
}

/* Byte offset of rune index r (clamped). */
static size_t rune_off(str_t s, size_t r)
{
    size_t n = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (((unsigned char)s.p[i] & 0xc0) != 0x80) {
            if (n == r) {
                return i;
            }
            n++;
        }
    }
    return s.len;
}

static bool in_set(str_t set, unsigned char c)
{
    return memchr(set.p, c, set.len) != NULL;
}

static str_t trim_set(str_t s, str_t set, bool left, bool right)
{
    while (left && s.len > 0 && in_set(set, (unsigned char)s.p[0])) {
        s.p++;
        s.len--;
    }
    while (right && s.len > 0 && in_set(set, (unsigned char)s.p[s.len - 1])) {
        s.len--;
    }
    return s;
}

static str_t str_replace(texec_t *x, str_t s, str_t old, str_t new_, long n)
{
    if (old.len == 0 || n == 0) {
        return s;
    }
    buf_reset(&x->tmp);
    size_t i = 0;
    long done = 0;
    while (i < s.len) {
        const char *f = (n < 0 || done < n) && s.len - i >= old.len ? memmem(s.p + i, s.len - i, old.p, old.len) : NULL;
        if (f == NULL) {
            break;
        }
        buf_append(&x->tmp, s.p + i, (size_t)(f - (s.p + i)));
        buf_append(&x->tmp, new_.p, new_.len);
        i = (size_t)(f - s.p) + old.len;
        done++;
    }
    buf_append(&x->tmp, s.p + i, s.len - i);
    return xdup(x, (const char *)x->tmp.data, x->tmp.len);
}

static str_t map_case(texec_t *x, str_t s, int mode)
{
    char *d = arena_alloc(x->lbs->scratch, s.len + 1);
    bool word_start = true;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (mode == 0) {
            d[i] = (char)tolower(c);
        } else if (mode == 1) {
            d[i] = (char)toupper(c);
        } else {
            d[i] = word_start ? (char)toupper(c) : (char)c;
            word_start = c == ' ' || c == '\t' || c == '\n';
        }
    }
    return (str_t){ d, s.len };
}

static int regex_replace(texec_t *x, str_t re, str_t s, str_t repl, bool literal, val_t *out, int64_t *count)
{
    int ec = 0;
    PCRE2_SIZE eoff = 0;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)re.p, re.len, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &ec, &eoff, NULL);
    if (c == NULL) {
        PCRE2_UCHAR msg[200];
        pcre2_get_error_message(ec, msg, sizeof(msg));
        char m[300];
        snprintf(m, sizeof(m), "error parsing regexp: %s", (const char *)msg);
        xfail(x, NULL, m);
        return -1;
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(c, NULL);
    buf_t o = { 0 };
    size_t off = 0;
    int64_t nm = 0;
    while (off <= s.len) {
        int rc = pcre2_match(c, (PCRE2_SPTR)(s.p ? s.p : ""), s.len, off, 0, md, NULL);
        if (rc < 0) {
            break;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        nm++;
        buf_append(&o, s.p + off, ov[0] - off);
        if (literal) {
            buf_append(&o, repl.p, repl.len);
        } else {
            for (size_t i = 0; i < repl.len; i++) {
                if (repl.p[i] == '$' && i + 1 < repl.len) {
                    size_t j = i + 1;
                    bool brace = repl.p[j] == '{';
                    j += brace;
                    size_t st = j;
                    while (j < repl.len && (isalnum((unsigned char)repl.p[j]) || repl.p[j] == '_')) {
                        j++;
                    }
                    if (j > st && (!brace || (j < repl.len && repl.p[j] == '}'))) {
                        str_t name = { repl.p + st, j - st };
                        int64_t g = -1;
                        if (!str_parse_i64(name, &g)) {
                            char nm2[64];
                            snprintf(nm2, sizeof(nm2), "%.*s", (int)(name.len < 63 ? name.len : 63), name.p);
                            g = pcre2_substring_number_from_name(c, (PCRE2_SPTR)nm2);
                        }
                        if (g >= 0 && g < rc && ov[2 * g] != PCRE2_UNSET) {
                            buf_append(&o, s.p + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
                        }
                        i = j - (brace ? 0 : 1);
                        continue;
                    }
                    if (repl.p[i + 1] == '$') {
                        buf_putc(&o, '$');
                        i++;
                        continue;
                    }
                }
                buf_putc(&o, (uint8_t)repl.p[i]);
            }
        }
        if (ov[1] == ov[0]) {
            if (ov[1] < s.len) {
                buf_putc(&o, (uint8_t)s.p[ov[1]]);
            }
            off = ov[1] + 1;
        } else {
            off = ov[1];
        }
    }
    if (off < s.len) {
        buf_append(&o, s.p + off, s.len - off);
    }
    *out = vstr(xdup(x, (const char *)o.data, o.len));
    if (count) {
        *count = nm;
    }
    buf_fini(&o);
    pcre2_match_data_free(md);
    pcre2_code_free(c);
    return 0;
}

static int cmp_vals(texec_t *x, const val_t *a, const val_t *b, int *out)
{
    bool an = a->k == V_INT || a->k == V_FLOAT, bn = b->k == V_INT || b->k == V_FLOAT;
    if (an && bn) {
        double fa = to_f64(a), fb = to_f64(b);
        *out = fa < fb ? -1 : fa > fb ? 1 : 0;
        return 0;
    }
    if (a->k == V_STR && b->k == V_STR) {
        int c = str_cmp(a->s, b->s);
        *out = c < 0 ? -1 : c > 0 ? 1 : 0;
        return 0;
    }
    if (a->k == V_BOOL && b->k == V_BOOL) {
        *out = a->b == b->b ? 0 : a->b ? 1 : -1;
        return 0;
    }
    xfail(x, NULL, "incompatible types for comparison");
    return -1;
}

/* Go's fmt verbs mapped onto C's: the format is the user's, checked verb
 * by verb, so -Wformat-nonliteral cannot help here. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void go_printf(texec_t *x, str_t f, const val_t *args, size_t nargs, buf_t *o)
{
    size_t ai = 0;
    for (size_t i = 0; i < f.len; i++) {
        if (f.p[i] != '%') {
            buf_putc(o, (uint8_t)f.p[i]);
            continue;
        }
        size_t st = i++;
        while (i < f.len && strchr("+-# 0", f.p[i]) != NULL) {
            i++;
        }
        while (i < f.len && (isdigit((unsigned char)f.p[i]) || f.p[i] == '.')) {
            i++;
        }
        if (i >= f.len) {
            buf_puts(o, "%!(NOVERB)");
            break;
        }
        char verb = f.p[i];
        if (verb == '%') {
            buf_putc(o, '%');
            continue;
        }
        char spec[32];
        size_t sl = i - st;
        if (sl > 20) {
            sl = 20;
        }
        memcpy(spec, f.p + st, sl);
        if (ai >= nargs) {
            buf_printf(o, "%%!%c(MISSING)", verb);
            continue;
        }
        const val_t *a = &args[ai++];
        switch (verb) {
        case 'd':
            if (a->k == V_INT) {
                memcpy(spec + sl, "lld", 4);
                buf_printf(o, spec, (long long)a->i);
            } else {
                buf_printf(o, "%%!d(");
                buf_puts(o, a->k == V_STR ? "string=" : a->k == V_FLOAT ? "float64=" : "bool=");
                val_print(a, o);
                buf_putc(o, ')');
            }
            break;
        case 'f':
        case 'e':
        case 'g':
        case 'F':
            if (a->k == V_INT || a->k == V_FLOAT) {
                spec[sl] = verb;
                spec[sl + 1] = 0;
                buf_printf(o, spec, to_f64(a));
            } else {
                buf_printf(o, "%%!%c(string=%.*s)", verb, (int)a->s.len, a->s.p);
            }
            break;
        case 'x':
        case 'X':
            if (a->k == V_INT) {
                memcpy(spec + sl, verb == 'x' ? "llx" : "llX", 4);
                buf_printf(o, spec, (long long)a->i);
            } else {
                str_t s = val_str(x, a);
                for (size_t k = 0; k < s.len; k++) {
                    buf_printf(o, verb == 'x' ? "%02x" : "%02X", (unsigned char)s.p[k]);
                }
            }
            break;
        case 'q': {
            str_t s = val_str(x, a);
            labels_quote(s, o);
            break;
        }
        case 't':
        case 's':
        case 'v':
        default: {
            str_t s = val_str(x, a);
            int width = 0;
            bool left = false;
            size_t k = 1;
            while (k < sl && strchr("+-# 0", spec[k]) != NULL) {
                left |= spec[k] == '-';
                k++;
            }
            while (k < sl && isdigit((unsigned char)spec[k])) {
                width = width * 10 + (spec[k] - '0');
                k++;
            }
            long prec = -1;
            if (k < sl && spec[k] == '.') {
                prec = 0;
                k++;
                while (k < sl && isdigit((unsigned char)spec[k])) {
                    prec = prec * 10 + (spec[k] - '0');
                    k++;
                }
            }
            if (prec >= 0 && verb == 's') {
                s.len = rune_off(s, (size_t)prec);
            }
            size_t rc = rune_count(s);
            if (!left) {
                for (size_t w = rc; w < (size_t)width; w++) {
                    buf_putc(o, ' ');
                }
            }
            buf_append(o, s.p, s.len);
            if (left) {
                for (size_t w = rc; w < (size_t)width; w++) {
                    buf_putc(o, ' ');
                }
            }
            break;
        }
        }
    }
    if (ai < nargs) {
        buf_puts(o, "%!(EXTRA ");
        for (size_t k = ai; k < nargs; k++) {
            buf_puts(o, k > ai ? ", " : "");
            buf_puts(o, args[k].k == V_STR ? "string=" : args[k].k == V_INT ? "int=" : "float64=");
            val_print(&args[k], o);
        }
        buf_putc(o, ')');
    }
}

#pragma GCC diagnostic pop

#define NEED(k)                                                                                                        \
    do {                                                                                                               \
        if (n != (k)) {                                                                                                \
            char m_[128];                                                                                              \
            snprintf(m_, sizeof(m_), "wrong number of args for %s: want %d got %zu", fn, (int)(k), n);                 \
            xfail(x, NULL, m_);                                                                                        \
            return (val_t){ 0 };                                                                                       \
        }                                                                                                              \
    } while (0)

static val_t call(texec_t *x, str_t fname, val_t *a, size_t n)
{
    char fn[32];
    snprintf(fn, sizeof(fn), "%.*s", (int)(fname.len < 31 ? fname.len : 31), fname.p);
#define IS(s) (strcmp(fn, s) == 0)
    if (IS("__line__")) {
        NEED(0);
        return vstr(x->line);
    }
    if (IS("__timestamp__")) {
        NEED(0);
        return (val_t){ .k = V_TIME, .i = x->ts };
    }
    if (IS("ToLower") || IS("lower") || IS("ToUpper") || IS("upper") || IS("title")) {
        NEED(1);
        return vstr(map_case(x, val_str(x, &a[0]), fn[0] == 'l' || fn[2] == 'L' ? 0 : fn[0] == 't' ? 2 : 1));
    }
    if (IS("TrimSpace") || IS("trim")) {
        NEED(1);
        return vstr(trim_set(val_str(x, &a[0]), STR_LIT(" \t\n\r\v\f"), true, true));
    }
    if (IS("Trim") || IS("TrimLeft") || IS("TrimRight")) {
        NEED(2);
        return vstr(trim_set(val_str(x, &a[0]), val_str(x, &a[1]), !IS("TrimRight"), !IS("TrimLeft")));
    }
    if (IS("trimAll")) {
        NEED(2);
        return vstr(trim_set(val_str(x, &a[1]), val_str(x, &a[0]), true, true));
    }
    if (IS("TrimPrefix") || IS("trimPrefix") || IS("TrimSuffix") || IS("trimSuffix")) {
        NEED(2);
        bool go = fn[0] == 'T';
        str_t s = val_str(x, &a[go ? 0 : 1]), fx = val_str(x, &a[go ? 1 : 0]);
        bool pre = strstr(fn, "refix") != NULL;
        if (fx.len <= s.len && memcmp(pre ? s.p : s.p + s.len - fx.len, fx.p, fx.len) == 0) {
            s.len -= fx.len;
            s.p += pre ? fx.len : 0;
        }
        return vstr(s);
    }
    if (IS("Replace")) {
        NEED(4);
        return vstr(str_replace(x, val_str(x, &a[0]), val_str(x, &a[1]), val_str(x, &a[2]), (long)to_i64(&a[3])));
    }
    if (IS("replace")) {
        NEED(3);
        return vstr(str_replace(x, val_str(x, &a[2]), val_str(x, &a[0]), val_str(x, &a[1]), -1));
    }
    if (IS("contains") || IS("hasPrefix") || IS("hasSuffix")) {
        NEED(2);
        str_t sub = val_str(x, &a[0]), s = val_str(x, &a[1]);
        if (sub.len > s.len) {
            return vbool(false);
        }
        if (IS("contains")) {
            return vbool(sub.len == 0 || memmem(s.p, s.len, sub.p, sub.len) != NULL);
        }
        return vbool(memcmp(IS("hasPrefix") ? s.p : s.p + s.len - sub.len, sub.p, sub.len) == 0);
    }
    if (IS("trunc")) {
        NEED(2);
        int64_t c = to_i64(&a[0]);
        str_t s = val_str(x, &a[1]);
        int64_t l = (int64_t)rune_count(s);
        if (c < 0 && l + c > 0) {
            size_t o = rune_off(s, (size_t)(l + c));
            return vstr((str_t){ s.p + o, s.len - o });
        }
        if (c >= 0 && l > c) {
            return vstr((str_t){ s.p, rune_off(s, (size_t)c) });
        }
        return vstr(s);
    }
    if (IS("substr")) {
        NEED(3);
        int64_t st = to_i64(&a[0]), en = to_i64(&a[1]);
        str_t s = val_str(x, &a[2]);
        int64_t l = (int64_t)rune_count(s);
        if (en > l) {
            en = l;
        }
        if (st > l) {
            st = l;
        }
        if (st < 0) {
            return vstr(en < 0 ? (str_t){ "", 0 } : (str_t){ s.p, rune_off(s, (size_t)en) });
        }
        if (en < 0) {
            size_t o = rune_off(s, (size_t)st);
            return vstr((str_t){ s.p + o, s.len - o });
        }
        if (st > en) {
            return vstr((str_t){ "", 0 });
        }
        size_t o1 = rune_off(s, (size_t)st), o2 = rune_off(s, (size_t)en);
        return vstr((str_t){ s.p + o1, o2 - o1 });
    }
    if (IS("repeat")) {
        NEED(2);
        int64_t c = to_i64(&a[0]);
        str_t s = val_str(x, &a[1]);
        if (c < 0 || (s.len > 0 && (uint64_t)c > (1u << 20) / s.len)) {
            xfail(x, NULL, "repeat count too large");
            return (val_t){ 0 };
        }
        buf_reset(&x->tmp);
        for (int64_t i = 0; i < c; i++) {
            buf_append(&x->tmp, s.p, s.len);
        }
        return vstr(xdup(x, (const char *)x->tmp.data, x->tmp.len));
    }
    if (IS("default")) {
        if (n == 1) {
            return a[0];
        }
        NEED(2);
        return truthy(&a[1]) ? a[1] : a[0];
    }
    if (IS("int")) {
        NEED(1);
        return vint(to_i64(&a[0]));
    }
    if (IS("float64")) {
        NEED(1);
        return vflt(to_f64(&a[0]));
    }
    if (IS("add") || IS("sub") || IS("mul") || IS("div") || IS("mod") || IS("max") || IS("min")) {
        if (n < (IS("max") || IS("min") ? 1u : 2u)) {
            NEED(2);
        }
        int64_t r = to_i64(&a[0]);
        for (size_t i = 1; i < n; i++) {
            int64_t b = to_i64(&a[i]);
            if (IS("add")) {
                r += b;
            } else if (IS("sub")) {
                r -= b;
            } else if (IS("mul")) {
                r *= b;
            } else if (IS("max")) {
                r = b > r ? b : r;
            } else if (IS("min")) {
                r = b < r ? b : r;
            } else if (b == 0) {
                xfail(x, NULL, "runtime error: integer divide by zero");
                return (val_t){ 0 };
            } else {
                r = IS("div") ? r / b : r % b;
            }
        }
        return vint(r);
    }
    if (IS("addf") || IS("subf") || IS("mulf") || IS("divf") || IS("maxf") || IS("minf")) {
        if (n < 1) {
            NEED(2);
        }
        double r = to_f64(&a[0]);
        for (size_t i = 1; i < n; i++) {
            double b = to_f64(&a[i]);
            r = IS("addf")   ? r + b
                : IS("subf") ? r - b
                : IS("mulf") ? r * b
                : IS("divf") ? r / b
                : IS("maxf") ? fmax(r, b)
                             : fmin(r, b);
        }
        return vflt(r);
    }
    if (IS("ceil") || IS("floor")) {
        NEED(1);
        return vflt(IS("ceil") ? ceil(to_f64(&a[0])) : floor(to_f64(&a[0])));
    }
    if (IS("round")) {
        if (n < 2) {
            NEED(2);
        }
        double p10 = pow(10, (double)to_i64(&a[1]));
        double v = to_f64(&a[0]) * p10;
        double r = v >= 0 ? floor(v + 0.5) : ceil(v - 0.5);
        return vflt(r / p10);
    }
    if (IS("date")) {
        NEED(2);
        if (a[1].k != V_TIME) {
            xfail(x, NULL, "date: expected a time");
            return (val_t){ 0 };
        }
        str_t f = val_str(x, &a[0]);
        buf_reset(&x->tmp);
        go_date(f.p, f.len, a[1].i, &x->tmp);
        return vstr(xdup(x, (const char *)x->tmp.data, x->tmp.len));
    }
    if (IS("unixEpoch") || IS("unixEpochMillis") || IS("unixEpochNanos")) {
        NEED(1);
        int64_t ns = a[0].i;
        int64_t v = IS("unixEpoch") ? ns / 1000000000 : IS("unixEpochMillis") ? ns / 1000000 : ns;
        char b[32];
        int k = snprintf(b, sizeof(b), "%lld", (long long)v);
        return vstr(xdup(x, b, (size_t)k));
    }
    if (IS("unixToTime")) {
        NEED(1);
        str_t s = val_str(x, &a[0]);
        int64_t i = 0;
        if (!str_parse_i64(s, &i) || (s.len != 5 && s.len != 10 && s.len != 13 && s.len != 16 && s.len != 19)) {
            char m[160];
            snprintf(m, sizeof(m), "unable to parse time '%.*s'", (int)s.len, s.p);
            xfail(x, NULL, m);
            return (val_t){ 0 };
        }
        int64_t mult = s.len == 5    ? 86400000000000LL
                       : s.len == 10 ? 1000000000
                       : s.len == 13 ? 1000000
                       : s.len == 16 ? 1000
                                     : 1;
        return (val_t){ .k = V_TIME, .i = i * mult };
    }
    if (IS("regexReplaceAll") || IS("regexReplaceAllLiteral")) {
        NEED(3);
        val_t r = { 0 };
        regex_replace(x, val_str(x, &a[0]), val_str(x, &a[1]), val_str(x, &a[2]), IS("regexReplaceAllLiteral"), &r,
                      NULL);
        return r;
    }
    if (IS("count")) {
        NEED(2);
        val_t r = { 0 };
        int64_t c = 0;
        if (regex_replace(x, val_str(x, &a[0]), val_str(x, &a[1]), (str_t){ "", 0 }, true, &r, &c) != 0) {
            return r;
        }
        return vint(c);
    }
    if (IS("alignLeft") || IS("alignRight")) {
        NEED(2);
        int64_t c = to_i64(&a[0]);
        str_t s = val_str(x, &a[1]);
        int64_t l = (int64_t)rune_count(s);
        if (c < 0 || c == l) {
            return vstr(s);
        }
        if (c < l) {
            if (IS("alignLeft")) {
                return vstr((str_t){ s.p, rune_off(s, (size_t)c) });
            }
            size_t o = rune_off(s, (size_t)(l - c));
            return vstr((str_t){ s.p + o, s.len - o });
        }
        buf_reset(&x->tmp);
        if (IS("alignRight")) {
            for (int64_t i = l; i < c; i++) {
                buf_putc(&x->tmp, ' ');
            }
        }
        buf_append(&x->tmp, s.p, s.len);
        if (IS("alignLeft")) {
            for (int64_t i = l; i < c; i++) {
                buf_putc(&x->tmp, ' ');
            }
        }
        return vstr(xdup(x, (const char *)x->tmp.data, x->tmp.len));
    }
    if (IS("bytes") || IS("duration") || IS("duration_seconds")) {
        NEED(1);
        str_t s = val_str(x, &a[0]);
        if (IS("bytes")) {
            uint64_t b = 0;
            if (!logql_parse_bytes(s.p, s.len, &b)) {
                xfail(x, NULL, "invalid bytes");
                return (val_t){ 0 };
            }
            return vflt((double)b);
        }
        int64_t ns = 0;
        if (!logql_parse_go_duration(s.p, s.len, &ns)) {
            char m[160];
            snprintf(m, sizeof(m), "time: invalid duration \"%.*s\"", (int)s.len, s.p);
            xfail(x, NULL, m);
            return (val_t){ 0 };
        }
        return vflt((double)ns / 1e9);
    }
    if (IS("printf") || IS("print") || IS("println")) {
        buf_t o = { 0 };
        if (IS("printf")) {
            if (n < 1) {
                NEED(1);
            }
            go_printf(x, val_str(x, &a[0]), a + 1, n - 1, &o);
        } else {
            for (size_t i = 0; i < n; i++) {
                /* Sprint adds spaces between operands when neither is a string */
                if (i > 0 && (IS("println") || (a[i - 1].k != V_STR && a[i].k != V_STR))) {
                    buf_putc(&o, ' ');
                }
                val_print(&a[i], &o);
            }
            if (IS("println")) {
                buf_putc(&o, '\n');
            }
        }
        val_t r = vstr(xdup(x, o.data ? (const char *)o.data : "", o.len));
        buf_fini(&o);
        return r;
    }
    if (IS("len")) {
        NEED(1);
        if (a[0].k != V_STR) {
            xfail(x, NULL, "len of type not supported");
            return (val_t){ 0 };
        }
        return vint((int64_t)a[0].s.len);
    }
    if (IS("not")) {
        NEED(1);
        return vbool(!truthy(&a[0]));
    }
    if (IS("and") || IS("or")) {
        if (n < 1) {
            NEED(1);
        }
        for (size_t i = 0; i < n; i++) {
            if (IS("and") ? !truthy(&a[i]) : truthy(&a[i])) {
                return a[i];
            }
        }
        return a[n - 1];
    }
    if (IS("eq") || IS("ne") || IS("lt") || IS("le") || IS("gt") || IS("ge")) {
        if (n < 2) {
            NEED(2);
        }
        if (IS("eq")) {
            for (size_t i = 1; i < n; i++) {
                int c = 0;
                if (cmp_vals(x, &a[0], &a[i], &c) != 0) {
                    return (val_t){ 0 };
                }
                if (c == 0) {
                    return vbool(true);
                }
            }
            return vbool(false);
        }
        NEED(2);
        int c = 0;
        if (cmp_vals(x, &a[0], &a[1], &c) != 0) {
            return (val_t){ 0 };
        }
        return vbool(IS("ne") ? c != 0 : IS("lt") ? c < 0 : IS("le") ? c <= 0 : IS("gt") ? c > 0 : c >= 0);
    }
#undef IS
    xfail(x, NULL, "function not defined");
    return (val_t){ 0 };
}

static val_t eval_pipe(texec_t *x, const tpipe_t *p);

static val_t eval_arg(texec_t *x, const targ_t *a)
{
    switch (a->kind) {
    case A_FIELD: {
        str_t v;
        lq_lbs_get(x->lbs, a->s, &v);
        if (str_eq_cstr(a->s, LQ_ERR_LABEL)) {
            v = x->lbs->err;
        } else if (str_eq_cstr(a->s, LQ_ERR_DETAILS_LABEL)) {
            v = x->lbs->err_details;
        }
        return vstr(v);
    }
    case A_STR:
        return vstr(a->s);
    case A_INT:
        return vint(a->i);
    case A_FLOAT:
        return vflt(a->f);
    case A_BOOL:
        return vbool(a->b);
    case A_PIPE:
        return eval_pipe(x, a->pipe);
    case A_DOT:
        return vstr(STR_LIT("map[]"));
    case A_NIL:
    case A_FUNC:
        break;
    }
    return (val_t){ 0 };
}

static val_t eval_pipe(texec_t *x, const tpipe_t *p)
{
    val_t prev = { 0 };
    for (size_t c = 0; c < p->n && !x->failed; c++) {
        const tcmd_t *cmd = &p->cmds[c];
        if (cmd->args[0].kind != A_FUNC) {
            if (cmd->n > 1 || c > 0) {
                xfail(x, NULL, "can't give argument to non-function");
                return (val_t){ 0 };
            }
            prev = eval_arg(x, &cmd->args[0]);
            continue;
        }
        val_t args[16];
        size_t na = 0;
        for (size_t i = 1; i < cmd->n && na < 15; i++) {
            args[na++] = eval_arg(x, &cmd->args[i]);
        }
        if (c > 0) {
            args[na++] = prev;
        }
        prev = call(x, cmd->args[0].s, args, na);
    }
    return prev;
}

static void exec_list(texec_t *x, const tlist_t *l, buf_t *out)
{
    for (size_t i = 0; i < l->n && !x->failed; i++) {
        const tnode_t *t = &l->v[i];
        if (t->kind == TN_TEXT) {
            buf_append(out, t->text.p, t->text.len);
        } else if (t->kind == TN_ACTION) {
            val_t v = eval_pipe(x, t->pipe);
            if (!x->failed) {
                val_print(&v, out);
            }
        } else {
            val_t v = eval_pipe(x, t->pipe);
            if (x->failed) {
                return;
            }
            if (truthy(&v)) {
                exec_list(x, t->list, out);
            } else if (t->elist != NULL) {
                exec_list(x, t->elist, out);
            }
        }
    }
}

int lq_tmpl_exec(const lq_tmpl_t *t, lq_lbs_t *lbs, int64_t ts, str_t line, buf_t *out, buf_t *errmsg)
{
    texec_t x = { .lbs = lbs, .ts = ts, .line = line, .err = errmsg };
    exec_list(&x, t->root, out);
    buf_fini(&x.tmp);
    return x.failed ? -1 : 0;
}

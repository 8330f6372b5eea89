/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logs_selector: the label string of a Loki protobuf push stream,
 * {name="value", name2=`raw`}, parsed as Loki's syntax.ParseLabels sees
 * it: white space between tokens, only '=' (the other matchers are LogQL
 * selectors, not label sets), names [a-zA-Z_][a-zA-Z0-9_]*, values as Go
 * string literals unquoted by strconv.Unquote: "…" with \a \b \f \n \r \t
 * \v \\ \" \xHH \OOO \uHHHH \UHHHHHHHH (no surrogates, ≤ U+10FFFF; no raw
 * newline), or `…` raw (may span lines; \r dropped, as Go does).
 *
 * Pure and O(len): one pass, values borrow s unless they hold an escape,
 * in which case they are unescaped into the arena (never longer than the
 * quoted text). Errors name the 1-based column, as Loki's parser does.
 */
#include <stdio.h>
#include <string.h>

#include "logs/logs.h"

typedef struct sel {
    const char *p;
    size_t len, pos;
    arena_t *arena;
    char *err;
    size_t errlen;
} sel_t;

static int sel_fail(sel_t *s, const char *what)
{
    snprintf(s->err, s->errlen, "parse error at line 1, col %zu: %s", s->pos + 1, what);
    return -1;
}

static void sel_ws(sel_t *s)
{
    while (s->pos < s->len &&
           (s->p[s->pos] == ' ' || s->p[s->pos] == '\t' || s->p[s->pos] == '\n' || s->p[s->pos] == '\r')) {
        s->pos++;
    }
}

static bool sel_name_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

static int sel_name(sel_t *s, str_t *out)
{
    size_t start = s->pos;
    while (s->pos < s->len && sel_name_char(s->p[s->pos], s->pos == start)) {
        s->pos++;
    }
    if (s->pos == start) {
        return sel_fail(s, "syntax error: unexpected character, expecting a label name");
    }
    *out = str_from(s->p + start, s->pos - start);
    return 0;
}

/* Read n hex digits at s->pos into *v. */
static bool sel_hex(sel_t *s, int n, uint32_t *v)
{
    uint32_t x = 0;
    for (int i = 0; i < n; i++) {
        int d = s->pos < s->len ? str_hex_digit((unsigned char)s->p[s->pos]) : -1;
        if (d < 0) {
            return false;
        }
        x = (x << 4) | (uint32_t)d;
        s->pos++;
    }
    *v = x;
    return true;
}

/* One escape after the backslash; appends its bytes at dst[*o]. */
static int sel_escape(sel_t *s, char *dst, size_t *o)
{
    static const char from[] = "abfnrtv\\\"", to[] = "\a\b\f\n\r\t\v\\\"";
    if (s->pos >= s->len) {
        return sel_fail(s, "unterminated escape sequence");
    }
    char c = s->p[s->pos++];
    const char *hit = c ? strchr(from, c) : NULL;
    uint32_t v = 0;
    if (hit) {
        dst[(*o)++] = to[hit - from];
        return 0;
    }
    if (c >= '0' && c <= '7') {
        v = (uint32_t)(c - '0');
        for (int i = 0; i < 2; i++, s->pos++) {
            if (s->pos >= s->len || s->p[s->pos] < '0' || s->p[s->pos] > '7') {
                return sel_fail(s, "invalid octal escape");
            }
            v = v * 8 + (uint32_t)(s->p[s->pos] - '0');
        }
        if (v > 255) {
            return sel_fail(s, "octal escape value > 255");
        }
        dst[(*o)++] = (char)v;
        return 0;
    }
    if (c == 'x' || c == 'u' || c == 'U') {
        if (!sel_hex(s, c == 'x' ? 2 : c == 'u' ? 4 : 8, &v)) {
            return sel_fail(s, "invalid hex escape");
        }
        if (c == 'x') {
            dst[(*o)++] = (char)v;
            return 0;
        }
        if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
            return sel_fail(s, "escape sequence is invalid Unicode code point");
        }
        *o += str_utf8_encode(v, dst + *o);
        return 0;
    }
    return sel_fail(s, "unknown escape sequence");
}

/* A quoted value at s->pos ('"' or '`'). */
static int sel_value(sel_t *s, str_t *out)
{
    char q = s->pos < s->len ? s->p[s->pos] : '\0';
    if (q != '"' && q != '`') {
        return sel_fail(s, "syntax error: unexpected character, expecting a string");
    }
    size_t start = ++s->pos;
    size_t end = start;
    bool plain = true;
    while (end < s->len && s->p[end] != q) {
        if (q == '"' && s->p[end] == '\n') {
            s->pos = end;
            return sel_fail(s, "newline in string");
        }
        plain = plain && s->p[end] != '\\' && s->p[end] != '\r';
        end += (q == '"' && s->p[end] == '\\' && end + 1 < s->len) ? 2 : 1;
    }
    if (end >= s->len) {
        return sel_fail(s, "literal not terminated");
    }
    if (plain) {
        *out = str_from(s->p + start, end - start);
        s->pos = end + 1;
        return 0;
    }
    char *dst = arena_alloc(s->arena, end - start + 1);
    size_t o = 0;
    while (s->pos < end) {
        char c = s->p[s->pos++];
        if (q == '"' && c == '\\') {
            if (sel_escape(s, dst, &o) != 0) {
                return -1;
            }
        } else if (q == '"' || c != '\r') {
            dst[o++] = c;
        }
    }
    s->pos = end + 1;
    *out = str_from(dst, o);
    return 0;
}

int logs_selector_parse(str_t str, arena_t *arena, label_t **ls, size_t *n, char *err, size_t errlen)
{
    sel_t s = { str.p, str.len, 0, arena, err, errlen };
    size_t cap = 1;
    for (size_t i = 0; i < str.len; i++) {
        cap += str.p[i] == '=';
    }
    label_t *out = arena_alloc(arena, cap * sizeof(label_t));
    size_t k = 0;
    *ls = out;
    *n = 0;
    sel_ws(&s);
    if (s.pos >= s.len || s.p[s.pos] != '{') {
        return sel_fail(&s, "syntax error: unexpected character, expecting {");
    }
    s.pos++;
    sel_ws(&s);
    bool more = s.pos >= s.len || s.p[s.pos] != '}';
    while (more) {
        sel_ws(&s);
        if (sel_name(&s, &out[k].name) != 0) {
            return -1;
        }
        sel_ws(&s);
        if (s.pos >= s.len || s.p[s.pos] != '=' || (s.pos + 1 < s.len && s.p[s.pos + 1] == '~')) {
            return sel_fail(&s, "syntax error: unexpected character, expecting =");
        }
        s.pos++;
        sel_ws(&s);
        if (sel_value(&s, &out[k].value) != 0) {
            return -1;
        }
        k++;
        sel_ws(&s);
        if (s.pos < s.len && s.p[s.pos] == ',') {
            s.pos++;
            continue;
        }
        more = false;
        if (s.pos >= s.len || s.p[s.pos] != '}') {
            return sel_fail(&s, "syntax error: unexpected character, expecting , or }");
        }
    }
    s.pos++;
    sel_ws(&s);
    if (s.pos != s.len) {
        return sel_fail(&s, "syntax error: unexpected character after }");
    }
    *n = k;
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * matcher: label matchers and the series-selector parser. See matcher.h.
 *
 * Regexes follow Prometheus 3 (Go RE2, "^(?s:re)$"): "." also matches a
 * newline. PCRE2 gets the pattern unchanged with ANCHORED | ENDANCHORED
 * instead of a textual "^(?:" re ")$" wrapper: the same language, but error
 * offsets point into the user's text and "a)|(b" cannot escape the anchors.
 * DOLLAR_ENDONLY makes "$" mean end of text, as in RE2. Subjects that are
 * not valid UTF-8 never match (PCRE2 reports a UTF error; we say "no").
 * PCRE2's default match limit bounds backtracking; a subject that hits it
 * counts as not matching. PCRE2 allocates through mem_* (a general context
 * per compile, copied into the code, so nothing is shared between threads).
 *
 * A regex that is a plain literal or an alternation of literals (escaped
 * punctuation allowed: "a\.b|c") fills alts; short lists are matched by
 * comparing bytes instead of running PCRE2.
 *
 * selector_parse is a pure recursive-descent parser over (s, len): a small
 * lexer for the inside of braces, Go string unquoting, and Prometheus'
 * error texts and positions ("line:col: parse error: …", col 1-based bytes;
 * lexer errors point at the token start, selector-level checks at the start
 * of the selector).
 */
#include "common/matcher.h"

#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "common/buf.h"
#include "common/labels.h"
#include "common/mem.h"

#define MATCHER_ALT_FAST_MAX 16 /* alternations compared byte-wise */
#define SEL_DESC_MAX 64         /* source bytes of a token quoted in errors */

static void *matcher_pcre_alloc(PCRE2_SIZE n, void *ud)
{
    (void)ud;
    return mem_try_alloc(n);
}

static void matcher_pcre_free(void *p, void *ud)
{
    (void)ud;
    mem_free(p);
}

static char *dup_slice(str_t s)
{
    return s.len ? mem_strndup(s.p, s.len) : mem_strdup("");
}

static bool is_regex_meta(char c)
{
    return strchr(".+*?()[]{}^$", c) != NULL && c != '\0';
}

/* If re is a literal or an alternation of literals, store them in m->alts. */
static void matcher_find_alts(matcher_t *m)
{
    const char *re = m->value;
    size_t len = m->value_len;
    size_t count = 1;
    for (size_t i = 0; i < len; i++) {
        char c = re[i];
        if (c == '\\') {
            if (i + 1 >= len) {
                return;
            }
            unsigned char e = (unsigned char)re[i + 1];
            bool punct =
                e >= 0x21 && e < 0x7F && !(e >= '0' && e <= '9') && !(e >= 'a' && e <= 'z') && !(e >= 'A' && e <= 'Z');
            if (!punct) {
                return;
            }
            i++;
        } else if (c == '|') {
            count++;
        } else if (is_regex_meta(c)) {
            return;
        }
    }
    m->alts = mem_calloc(count, sizeof(char *));
    m->alt_lens = mem_calloc(count, sizeof(size_t));
    m->nalts = count;
    buf_t cur = { 0 };
    size_t k = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || re[i] == '|') {
            m->alt_lens[k] = cur.len;
            m->alts[k] = cur.len ? (char *)buf_steal(&cur, NULL) : mem_strdup("");
            k++;
            continue;
        }
        if (re[i] == '\\') {
            i++;
        }
        buf_putc(&cur, (uint8_t)re[i]);
    }
    buf_fini(&cur);
    assert(k == count);
}

static int matcher_compile(matcher_t *m, char *err, size_t errlen)
{
    int rc = -1;
    pcre2_general_context *gc = pcre2_general_context_create(matcher_pcre_alloc, matcher_pcre_free, NULL);
    pcre2_compile_context *cc = gc ? pcre2_compile_context_create(gc) : NULL;
    if (!cc) {
        snprintf(err, errlen, "error parsing regexp: out of memory");
        goto fail;
    }
    uint32_t opts =
        PCRE2_UTF | PCRE2_DOTALL | PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_DOLLAR_ENDONLY | PCRE2_NEVER_BACKSLASH_C;
    int ec = 0;
    PCRE2_SIZE eoff = 0;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)m->value, m->value_len, opts, &ec, &eoff, cc);
    if (!re) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(ec, msg, sizeof(msg)) < 0) {
            snprintf((char *)msg, sizeof(msg), "error %d", ec);
        }
        snprintf(err, errlen, "error parsing regexp: %s at offset %zu: `%s`", (const char *)msg, (size_t)eoff,
                 m->value);
        goto fail;
    }
    m->re = re;
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* interpreter fallback */
    m->match_data = pcre2_match_data_create(1, gc);
    if (!m->match_data) {
        snprintf(err, errlen, "error parsing regexp: out of memory");
        goto fail;
    }
    rc = 0;
fail:
    pcre2_compile_context_free(cc);
    pcre2_general_context_free(gc);
    return rc;
}

int matcher_init(matcher_t *m, match_type_t type, str_t name, str_t value, char *err, size_t errlen)
{
    assert(m);
    memset(m, 0, sizeof(*m));
    m->type = type;
    m->name = dup_slice(name);
    m->name_len = name.len;
    m->value = dup_slice(value);
    m->value_len = value.len;
    if (type == MATCH_RE || type == MATCH_NRE) {
        if (matcher_compile(m, err, errlen) != 0) {
            matcher_fini(m);
            return -1;
        }
        matcher_find_alts(m);
    } else if (type != MATCH_EQ && type != MATCH_NEQ) {
        snprintf(err, errlen, "invalid match type %d", (int)type);
        matcher_fini(m);
        return -1;
    }
    return 0;
}

void matcher_fini(matcher_t *m)
{
    if (!m) {
        return;
    }
    mem_free(m->name);
    mem_free(m->value);
    pcre2_match_data_free(m->match_data);
    pcre2_code_free(m->re);
    for (size_t i = 0; i < m->nalts; i++) {
        mem_free(m->alts[i]);
    }
    mem_free(m->alts);
    mem_free(m->alt_lens);
    memset(m, 0, sizeof(*m));
}

static bool matcher_re_match(matcher_t *m, str_t v)
{
    if (m->nalts > 0 && m->nalts <= MATCHER_ALT_FAST_MAX) {
        for (size_t i = 0; i < m->nalts; i++) {
            if (m->alt_lens[i] == v.len && (v.len == 0 || memcmp(m->alts[i], v.p, v.len) == 0)) {
                return true;
            }
        }
        return false;
    }
    if (!m->re) {
        return false;
    }
    const char *p = v.p ? v.p : "";
    int rc = pcre2_match(m->re, (PCRE2_SPTR)p, v.len, 0, 0, m->match_data, NULL);
    return rc >= 0;
}

bool matcher_matches(matcher_t *m, str_t value)
{
    switch (m->type) {
    case MATCH_EQ:
        return value.len == m->value_len && (value.len == 0 || memcmp(value.p, m->value, value.len) == 0);
    case MATCH_NEQ:
        return !(value.len == m->value_len && (value.len == 0 || memcmp(value.p, m->value, value.len) == 0));
    case MATCH_RE:
        return matcher_re_match(m, value);
    case MATCH_NRE:
        return !matcher_re_match(m, value);
    }
    return false;
}

bool matcher_matches_empty(matcher_t *m)
{
    return matcher_matches(m, str_from("", 0));
}

const char *match_type_str(match_type_t t)
{
    switch (t) {
    case MATCH_EQ:
        return "=";
    case MATCH_NEQ:
        return "!=";
    case MATCH_RE:
        return "=~";
    case MATCH_NRE:
        return "!~";
    }
    return "?";
}

/* ---- selector parser ---- */

typedef enum sel_tok_kind {
    TOK_EOF,
    TOK_IDENT,
    TOK_STRING,
    TOK_EQ,
    TOK_NEQ,
    TOK_RE,
    TOK_NRE,
    TOK_COMMA,
    TOK_RBRACE,
} sel_tok_kind_t;

typedef struct sel_tok {
    sel_tok_kind_t kind;
    size_t pos, end; /* source span */
    buf_t text;      /* identifier or unquoted string */
} sel_tok_t;

typedef struct sel {
    const char *s;
    size_t len;
    size_t pos;
    char *err;
    size_t errlen;
} sel_t;

static int sel_fail(sel_t *p, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int sel_fail(sel_t *p, size_t pos, const char *fmt, ...)
{
    size_t line = 1;
    size_t col = pos + 1;
    for (size_t i = 0; i < pos && i < p->len; i++) {
        if (p->s[i] == '\n') {
            line++;
            col = pos - i;
        }
    }
    buf_t b = { 0 };
    buf_printf(&b, "%zu:%zu: parse error: ", line, col);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (p->err && p->errlen) {
        snprintf(p->err, p->errlen, "%s", (const char *)b.data);
    }
    buf_fini(&b);
    return -1;
}

/* Go's %q of the rune at s[pos] into out (room for 16 bytes). */
static const char *sel_char_q(const sel_t *p, size_t pos, char out[16])
{
    unsigned char c = (unsigned char)p->s[pos];
    static const char esc[] = "abtnvfr";
    if (c == '\'' || c == '\\') {
        snprintf(out, 16, "'\\%c'", c);
    } else if (c >= 0x20 && c < 0x7F) {
        snprintf(out, 16, "'%c'", c);
    } else if (c >= 0x07 && c <= 0x0D) {
        snprintf(out, 16, "'\\%c'", esc[c - 0x07]);
    } else if (c < 0x80) {
        snprintf(out, 16, "'\\x%02x'", c);
    } else {
        size_t w = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (pos + w <= p->len && str_utf8_valid(p->s + pos, w)) {
            snprintf(out, 16, "'%.*s'", (int)w, p->s + pos);
        } else {
            snprintf(out, 16, "'\xef\xbf\xbd'");
        }
    }
    return out;
}

static void sel_skip_ws(sel_t *p)
{
    while (p->pos < p->len && strchr(" \t\n\r", p->s[p->pos]) != NULL && p->s[p->pos] != '\0') {
        p->pos++;
    }
}

static bool sel_is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool sel_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static void sel_put_utf8(buf_t *b, uint32_t r)
{
    if (r < 0x80) {
        buf_putc(b, (uint8_t)r);
    } else if (r < 0x800) {
        buf_putc(b, (uint8_t)(0xC0 | (r >> 6)));
        buf_putc(b, (uint8_t)(0x80 | (r & 0x3F)));
    } else if (r < 0x10000) {
        buf_putc(b, (uint8_t)(0xE0 | (r >> 12)));
        buf_putc(b, (uint8_t)(0x80 | ((r >> 6) & 0x3F)));
        buf_putc(b, (uint8_t)(0x80 | (r & 0x3F)));
    } else {
        buf_putc(b, (uint8_t)(0xF0 | (r >> 18)));
        buf_putc(b, (uint8_t)(0x80 | ((r >> 12) & 0x3F)));
        buf_putc(b, (uint8_t)(0x80 | ((r >> 6) & 0x3F)));
        buf_putc(b, (uint8_t)(0x80 | (r & 0x3F)));
    }
}

/* One escape after the backslash at s[i]; appends to out, advances *i past
 * it. Errors point at the string's opening quote (Prometheus' lexer). */
static int sel_escape(sel_t *p, size_t start, size_t *i, char q, buf_t *out)
{
    size_t k = *i + 1;
    if (k >= p->len) {
        return sel_fail(p, start, "unterminated quoted string");
    }
    char c = p->s[k];
    const char *simple = strchr("abfnrtv\\", c);
    if (c == q || (simple && c != '\0')) {
        static const char map[] = "\a\b\f\n\r\t\v\\";
        buf_putc(out, (uint8_t)(c == q ? q : map[simple - "abfnrtv\\"]));
        *i = k + 1;
        return 0;
    }
    int digits = 0, base = 16;
    if (c >= '0' && c <= '7') {
        digits = 3;
        base = 8;
        k--; /* the first octal digit is part of the number */
    } else if (c == 'x') {
        digits = 2;
    } else if (c == 'u') {
        digits = 4;
    } else if (c == 'U') {
        digits = 8;
    } else if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7F) {
        return sel_fail(p, start, "unknown escape sequence U+%04X '%c'", (unsigned)c, c);
    } else {
        return sel_fail(p, start, "unknown escape sequence U+%04X", (unsigned)(unsigned char)c);
    }
    uint32_t v = 0;
    for (int d = 0; d < digits; d++) {
        size_t at = k + 1 + (size_t)d;
        if (at >= p->len || p->s[at] == '\n') {
            return sel_fail(p, start, "unterminated quoted string");
        }
        int h = str_hex_digit((unsigned char)p->s[at]);
        if (h < 0 || h >= base) {
            return sel_fail(p, start, "illegal character U+%04X in escape sequence", (unsigned)(unsigned char)p->s[at]);
        }
        v = v * (uint32_t)base + (uint32_t)h;
    }
    if (base == 8 && v > 255) {
        return sel_fail(p, start, "octal escape value > 255: %u", v);
    }
    if (c == 'u' || c == 'U') {
        if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
            return sel_fail(p, start, "escape sequence is an invalid Unicode code point");
        }
        sel_put_utf8(out, v);
    } else {
        buf_putc(out, (uint8_t)v);
    }
    *i = k + 1 + (size_t)digits;
    return 0;
}

/* Lex a quoted string at p->pos into t->text (unquoted). */
static int sel_string(sel_t *p, sel_tok_t *t)
{
    size_t start = p->pos;
    char q = p->s[start];
    size_t i = start + 1;
    if (q == '`') {
        const char *end = memchr(p->s + i, '`', p->len - i);
        if (!end) {
            return sel_fail(p, start, "unterminated raw string");
        }
        size_t n = (size_t)(end - (p->s + i));
        if (!str_utf8_valid(p->s + i, n)) {
            return sel_fail(p, start, "invalid UTF-8 rune");
        }
        buf_append(&t->text, p->s + i, n);
        p->pos = i + n + 1;
        return 0;
    }
    for (;;) {
        if (i >= p->len || p->s[i] == '\n') {
            return sel_fail(p, start, "unterminated quoted string");
        }
        char c = p->s[i];
        if (c == q) {
            break;
        }
        if (c == '\\') {
            if (sel_escape(p, start, &i, q, &t->text) != 0) {
                return -1;
            }
            continue;
        }
        buf_putc(&t->text, (uint8_t)c);
        i++;
    }
    if (!str_utf8_valid(p->s + start, i - start)) {
        return sel_fail(p, start, "invalid UTF-8 rune");
    }
    p->pos = i + 1;
    return 0;
}

/* Next token inside braces. */
static int sel_next(sel_t *p, sel_tok_t *t)
{
    sel_skip_ws(p);
    buf_reset(&t->text);
    t->pos = p->pos;
    if (p->pos >= p->len) {
        t->kind = TOK_EOF;
        t->end = p->pos;
        return 0;
    }
    char c = p->s[p->pos];
    char c2 = p->pos + 1 < p->len ? p->s[p->pos + 1] : '\0';
    int rc = 0;
    if (c == '}' || c == ',') {
        t->kind = c == '}' ? TOK_RBRACE : TOK_COMMA;
        p->pos++;
    } else if (c == '=') {
        t->kind = c2 == '~' ? TOK_RE : TOK_EQ;
        p->pos += c2 == '~' ? 2 : 1;
    } else if (c == '!') {
        if (c2 != '=' && c2 != '~') {
            char q[16];
            if (p->pos + 1 >= p->len) {
                return sel_fail(p, p->pos, "unexpected end of input inside braces");
            }
            return sel_fail(p, p->pos, "unexpected character after '!' inside braces: %s",
                            sel_char_q(p, p->pos + 1, q));
        }
        t->kind = c2 == '=' ? TOK_NEQ : TOK_NRE;
        p->pos += 2;
    } else if (c == '"' || c == '\'' || c == '`') {
        t->kind = TOK_STRING;
        rc = sel_string(p, t);
    } else if (sel_is_alpha(c)) {
        t->kind = TOK_IDENT;
        size_t s = p->pos;
        while (p->pos < p->len && (sel_is_alpha(p->s[p->pos]) || sel_is_digit(p->s[p->pos]))) {
            p->pos++;
        }
        buf_append(&t->text, p->s + s, p->pos - s);
    } else {
        char q[16];
        return sel_fail(p, p->pos, "unexpected character inside braces: %s", sel_char_q(p, p->pos, q));
    }
    t->end = p->pos;
    return rc;
}

/* "identifier \"foo\"", "\"=\"", … for "unexpected X" messages. */
static void sel_desc(const sel_t *p, const sel_tok_t *t, buf_t *out)
{
    static const char *const ops[] = {
        [TOK_EQ] = "\"=\"",   [TOK_NEQ] = "\"!=\"",  [TOK_RE] = "\"=~\"",
        [TOK_NRE] = "\"!~\"", [TOK_COMMA] = "\",\"", [TOK_RBRACE] = "\"}\"",
    };
    size_t n = t->end - t->pos;
    bool cut = n > SEL_DESC_MAX;
    str_t src = str_from(p->s + t->pos, cut ? SEL_DESC_MAX : n);
    switch (t->kind) {
    case TOK_EOF:
        buf_puts(out, "end of input");
        return;
    case TOK_IDENT:
        buf_puts(out, "identifier ");
        labels_quote(src, out);
        break;
    case TOK_STRING:
        buf_puts(out, "string ");
        labels_quote(src, out);
        break;
    default:
        buf_puts(out, ops[t->kind]);
        return;
    }
    if (cut) {
        buf_puts(out, "...");
    }
}

static int sel_unexpected(sel_t *p, const sel_tok_t *t, const char *expected)
{
    if (t->kind == TOK_EOF) {
        return sel_fail(p, t->pos, "unexpected end of input inside braces");
    }
    buf_t d = { 0 };
    sel_desc(p, t, &d);
    int rc = sel_fail(p, t->pos, "unexpected %s in label matching, expected %s", (const char *)d.data, expected);
    buf_fini(&d);
    return rc;
}

typedef struct sel_out {
    matcher_t *ms;
    size_t max;
    size_t n;
    size_t start;    /* selector start, for selector-level errors */
    bool has_name;   /* a metric name was given (outside or quoted inside) */
    size_t name_idx; /* its __name__ matcher in ms */
} sel_out_t;

typedef enum sel_sep {
    SEP_NONE,   /* the separator after the matcher is still to be read */
    SEP_COMMA,  /* "," was consumed */
    SEP_RBRACE, /* "}" was consumed */
} sel_sep_t;

static int sel_add(sel_t *p, sel_out_t *o, size_t pos, match_type_t type, str_t name, str_t value)
{
    if (o->n >= o->max) {
        return sel_fail(p, pos, "too many matchers (limit %zu)", o->max);
    }
    char msg[512];
    if (matcher_init(&o->ms[o->n], type, name, value, msg, sizeof(msg)) != 0) {
        return sel_fail(p, pos, "%s", msg);
    }
    o->n++;
    return 0;
}

static int sel_twice(sel_t *p, const sel_out_t *o, str_t other)
{
    const matcher_t *nm = &o->ms[o->name_idx];
    buf_t a = { 0 };
    labels_quote(str_from(nm->value, nm->value_len), &a);
    buf_puts(&a, " or ");
    labels_quote(other, &a);
    int rc = sel_fail(p, o->start, "metric name must not be set twice: %s", (const char *)a.data);
    buf_fini(&a);
    return rc;
}

static int sel_set_name(sel_t *p, sel_out_t *o, size_t pos, str_t name)
{
    if (o->has_name) {
        return sel_twice(p, o, name);
    }
    if (sel_add(p, o, pos, MATCH_EQ, STR_LIT("__name__"), name) != 0) {
        return -1;
    }
    o->has_name = true;
    o->name_idx = o->n - 1;
    return 0;
}

static bool sel_is_op(sel_tok_kind_t k, match_type_t *type)
{
    switch (k) {
    case TOK_EQ:
        *type = MATCH_EQ;
        return true;
    case TOK_NEQ:
        *type = MATCH_NEQ;
        return true;
    case TOK_RE:
        *type = MATCH_RE;
        return true;
    case TOK_NRE:
        *type = MATCH_NRE;
        return true;
    default:
        return false;
    }
}

/* One matcher whose first token (identifier or string) is name; reports in
 * *sep whether a quoted metric name already consumed its separator. */
static int sel_matcher(sel_t *p, sel_out_t *o, const sel_tok_t *name, sel_sep_t *sep)
{
    sel_tok_t t = { 0 };
    sel_tok_t v = { 0 };
    int rc = -1;
    *sep = SEP_NONE;
    if (sel_next(p, &t) != 0) {
        goto done;
    }
    str_t nm = str_from((const char *)name->text.data, name->text.len);
    if (name->kind == TOK_STRING && (t.kind == TOK_COMMA || t.kind == TOK_RBRACE)) {
        *sep = t.kind == TOK_COMMA ? SEP_COMMA : SEP_RBRACE;
        rc = sel_set_name(p, o, name->pos, nm);
        goto done;
    }
    if (name->kind == TOK_STRING && nm.len == 0) {
        rc = sel_fail(p, name->pos, "invalid label name \"\"");
        goto done;
    }
    match_type_t type = MATCH_EQ;
    if (!sel_is_op(t.kind, &type)) {
        rc = sel_unexpected(p, &t, "label matching operator");
        goto done;
    }
    if (sel_next(p, &v) != 0) {
        goto done;
    }
    if (v.kind != TOK_STRING) {
        rc = sel_unexpected(p, &v, "string");
        goto done;
    }
    rc = sel_add(p, o, name->pos, type, nm, str_from((const char *)v.text.data, v.text.len));
done:
    buf_fini(&t.text);
    buf_fini(&v.text);
    return rc;
}

/* The body after '{' up to and including '}'. */
static int sel_braces(sel_t *p, sel_out_t *o)
{
    sel_tok_t t = { 0 };
    int rc = -1;
    for (;;) {
        if (sel_next(p, &t) != 0) {
            goto done;
        }
        if (t.kind == TOK_RBRACE) { /* {} or a trailing comma */
            break;
        }
        if (t.kind != TOK_IDENT && t.kind != TOK_STRING) {
            rc = sel_unexpected(p, &t, "identifier or \"}\"");
            goto done;
        }
        sel_sep_t sep = SEP_NONE;
        if (sel_matcher(p, o, &t, &sep) != 0) {
            goto done;
        }
        if (sep == SEP_NONE) {
            if (sel_next(p, &t) != 0) {
                goto done;
            }
            if (t.kind == TOK_RBRACE) {
                sep = SEP_RBRACE;
            } else if (t.kind == TOK_COMMA) {
                sep = SEP_COMMA;
            } else {
                rc = sel_unexpected(p, &t, "\",\" or \"}\"");
                goto done;
            }
        }
        if (sep == SEP_RBRACE) {
            break;
        }
    }
    rc = 0;
done:
    buf_fini(&t.text);
    return rc;
}

/* Selector-level checks: one metric name, one non-empty matcher. */
static int sel_check(sel_t *p, sel_out_t *o)
{
    if (o->has_name) {
        for (size_t i = 0; i < o->n; i++) {
            const matcher_t *m = &o->ms[i];
            if (i != o->name_idx && m->name_len == 8 && memcmp(m->name, "__name__", 8) == 0) {
                return sel_twice(p, o, str_from(m->value, m->value_len));
            }
        }
    }
    for (size_t i = 0; i < o->n; i++) {
        if (!matcher_matches_empty(&o->ms[i])) {
            return 0;
        }
    }
    return sel_fail(p, o->start, "vector selector must contain at least one non-empty matcher");
}

int selector_parse(const char *s, size_t len, matcher_t *ms, size_t max, size_t *n, char *err, size_t errlen)
{
    assert(s || len == 0);
    assert(n);
    sel_t p = { .s = s ? s : "", .len = len, .pos = 0, .err = err, .errlen = errlen };
    sel_out_t o = { .ms = ms, .max = ms ? max : 0 };
    int rc = -1;
    char q[16];
    sel_skip_ws(&p);
    o.start = p.pos;
    if (p.pos >= p.len) {
        rc = sel_fail(&p, p.pos, "no expression found in input");
        goto fail;
    }
    char c = p.s[p.pos];
    if (sel_is_alpha(c) || c == ':') {
        size_t st = p.pos;
        while (p.pos < p.len && (sel_is_alpha(p.s[p.pos]) || sel_is_digit(p.s[p.pos]) || p.s[p.pos] == ':')) {
            p.pos++;
        }
        if (sel_set_name(&p, &o, st, str_from(p.s + st, p.pos - st)) != 0) {
            goto fail;
        }
        sel_skip_ws(&p);
    } else if (c != '{') {
        rc = sel_fail(&p, p.pos, "unexpected character: %s", sel_char_q(&p, p.pos, q));
        goto fail;
    }
    if (p.pos < p.len && p.s[p.pos] == '{') {
        p.pos++;
        if (sel_braces(&p, &o) != 0) {
            goto fail;
        }
        sel_skip_ws(&p);
    }
    if (p.pos < p.len) {
        rc = sel_fail(&p, p.pos, "unexpected character after selector: %s", sel_char_q(&p, p.pos, q));
        goto fail;
    }
    if (sel_check(&p, &o) != 0) {
        goto fail;
    }
    *n = o.n;
    return 0;
fail:
    for (size_t i = 0; i < o.n; i++) {
        matcher_fini(&ms[i]);
    }
    *n = 0;
    return rc;
}

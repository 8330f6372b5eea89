/* SPDX-License-Identifier: Apache-2.0 */
/*
 * promqltest_parse: the pure parser of Prometheus' PromQL test scripts
 * (promqltest.h has the language summary and the contracts).
 *
 * Core idea: split the text into trimmed lines once ('#' lines become
 * empty), then walk commands: the first word picks clear, load* or eval*;
 * a load or eval command owns the lines up to the next empty line. Each
 * parse step mirrors a rule of upstream's test.go (patLoad, patEvalInstant,
 * patEvalRange, patExpect, parseNumber, ParseSeriesDesc) without regexes.
 *
 * Invariants: every array lives in the caller's arena and is grown by
 * copying (the arena never frees singly); a malformed block adds exactly
 * one diagnostic per bad line and never a half-filled command; a values
 * list never exceeds PROMQLTEST_MAX_POINTS, so hostile counts ("1x1e18")
 * are errors, not allocations.
 */
#include "promqltest.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/mem.h"
#include "common/str.h"
#include "tsdb/tsdb.h"

typedef struct parser {
    arena_t *a;
    str_t *lines; /* trimmed; comments emptied */
    size_t nlines;
    promqltest_script_t *out;
    size_t cmd_cap, diag_cap;
} parser_t;

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_alnum(int c)
{
    return is_alpha(c) || is_digit(c);
}

static bool is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static str_t trim(str_t s)
{
    while (s.len > 0 && is_space((unsigned char)s.p[0])) {
        s.p++;
        s.len--;
    }
    while (s.len > 0 && is_space((unsigned char)s.p[s.len - 1])) {
        s.len--;
    }
    return s;
}

static bool ieq(str_t s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.len != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s.p[i];
        if (c >= 'A' && c <= 'Z') {
            c += 'a' - 'A';
        }
        if (c != lit[i]) {
            return false;
        }
    }
    return true;
}

static bool has_prefix_ci(str_t s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len >= n && ieq(str_from(s.p, n), lit);
}

/* The next whitespace-separated word of *rest; *rest moves past it. */
static str_t next_word(str_t *rest)
{
    str_t s = *rest;
    size_t i = 0;
    while (i < s.len && is_space((unsigned char)s.p[i])) {
        i++;
    }
    size_t st = i;
    while (i < s.len && !is_space((unsigned char)s.p[i])) {
        i++;
    }
    *rest = str_from(s.p + i, s.len - i);
    return str_from(s.p + st, i - st);
}

/* arr has n elements and room for *cap; returns an array with room for n+1. */
static void *grow(arena_t *a, void *arr, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap) {
        return arr;
    }
    size_t nc = *cap ? *cap * 2 : 8;
    void *na = arena_alloc(a, nc * elem);
    if (n > 0) {
        memcpy(na, arr, n * elem);
    }
    *cap = nc;
    return na;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- values ---- */

typedef struct pts_vec {
    promqltest_point_t *p;
    size_t n, cap;
} pts_vec_t;

static bool pts_push(pts_vec_t *v, double x, bool omitted)
{
    if (v->n >= PROMQLTEST_MAX_POINTS) {
        return false;
    }
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->p = mem_realloc(v->p, v->cap * sizeof(*v->p));
    }
    v->p[v->n++] = (promqltest_point_t){ .v = omitted ? 0 : x, .omitted = omitted };
    return true;
}

static double stale_nan(void)
{
    uint64_t b = TSDB_STALE_NAN_BITS;
    double d;
    memcpy(&d, &b, sizeof(d));
    return d;
}

/* A series-description number at s[*i] (upstream's scanNumber with hex
 * off): digits [. digits] [eE [+-] digits], not followed by a letter or
 * digit other than the 'x' of a repetition. */
static bool scan_number(const char *s, size_t len, size_t *i, double *v)
{
    size_t st = *i, j = *i;
    while (j < len && is_digit((unsigned char)s[j])) {
        j++;
    }
    if (j < len && s[j] == '.') {
        j++;
        while (j < len && is_digit((unsigned char)s[j])) {
            j++;
        }
    }
    if (j > st && j < len && (s[j] == 'e' || s[j] == 'E')) {
        j++;
        if (j < len && (s[j] == '+' || s[j] == '-')) {
            j++;
        }
        while (j < len && is_digit((unsigned char)s[j])) {
            j++;
        }
    }
    if (j == st || (j < len && is_alnum((unsigned char)s[j]) && s[j] != 'x')) {
        return false;
    }
    if (!str_parse_double(str_from(s + st, j - st), v)) {
        return false;
    }
    *i = j;
    return true;
}

/* [+-] (number | Inf | NaN) | stale, at tok[*i]. */
static bool scan_value(const char *tok, size_t n, size_t *i, double *v)
{
    size_t j = *i;
    char sign = 0;
    if (j < n && (tok[j] == '+' || tok[j] == '-')) {
        sign = tok[j++];
    }
    if (j < n && is_alpha((unsigned char)tok[j])) {
        size_t st = j;
        while (j < n && (is_alnum((unsigned char)tok[j]) || tok[j] == ':')) {
            j++;
        }
        str_t w = str_from(tok + st, j - st);
        if (!sign && str_eq_cstr(w, "stale")) {
            *v = stale_nan();
        } else if (ieq(w, "inf")) {
            *v = INFINITY;
        } else if (ieq(w, "nan")) {
            *v = NAN;
        } else {
            return false;
        }
    } else if (j < n && (is_digit((unsigned char)tok[j]) ||
                         (tok[j] == '.' && j + 1 < n && is_digit((unsigned char)tok[j + 1])))) {
        if (!scan_number(tok, n, &j, v)) {
            return false;
        }
    } else {
        return false;
    }
    if (sign == '-') {
        *v = -*v;
    }
    *i = j;
    return true;
}

/* The repetition count after an 'x': decimal digits to the end of tok. */
static bool scan_count(const char *tok, size_t n, size_t i, uint64_t *count)
{
    if (i >= n) {
        return false;
    }
    for (size_t j = i; j < n; j++) {
        if (!is_digit((unsigned char)tok[j])) {
            return false;
        }
    }
    return str_parse_u64(str_from(tok + i, n - i), count);
}

/* One whitespace-free item: _ | _xN | v | vxN | v+dxN | v-dxN. */
static int parse_item(const char *tok, size_t n, pts_vec_t *v, char *err, size_t errlen)
{
    uint64_t count = 0;
    if (n == 1 && tok[0] == '_') {
        return pts_push(v, 0, true) ? 0 : -2;
    }
    if (n >= 2 && tok[0] == '_' && tok[1] == 'x') {
        if (!scan_count(tok, n, 2, &count)) {
            seterr(err, errlen, "bad repetition count in %.*s", (int)n, tok);
            return -1;
        }
        if (count > PROMQLTEST_MAX_POINTS) {
            return -2;
        }
        for (uint64_t k = 0; k < count; k++) {
            if (!pts_push(v, 0, true)) {
                return -2;
            }
        }
        return 0;
    }
    size_t i = 0;
    double a = 0;
    if (!scan_value(tok, n, &i, &a)) {
        seterr(err, errlen, "bad value %.*s: want a number, Inf, NaN, stale, _ or an expansion a+bxn", (int)n, tok);
        return -1;
    }
    if (i == n) {
        return pts_push(v, a, false) ? 0 : -2;
    }
    double d = 0;
    if (tok[i] == '+' || tok[i] == '-') {
        char sign = tok[i++];
        if (i >= n || !(is_digit((unsigned char)tok[i]) || tok[i] == '.') || !scan_number(tok, n, &i, &d)) {
            seterr(err, errlen, "bad step in %.*s", (int)n, tok);
            return -1;
        }
        if (sign == '-') {
            d = -d;
        }
        if (i >= n || tok[i] != 'x') {
            seterr(err, errlen, "expansion %.*s lacks x<count>", (int)n, tok);
            return -1;
        }
    } else if (tok[i] != 'x') {
        seterr(err, errlen, "unexpected '%c' in value %.*s", tok[i], (int)n, tok);
        return -1;
    }
    if (!scan_count(tok, n, i + 1, &count)) {
        seterr(err, errlen, "bad repetition count in %.*s", (int)n, tok);
        return -1;
    }
    if (count >= PROMQLTEST_MAX_POINTS) {
        return -2;
    }
    for (uint64_t k = 0; k <= count; k++) { /* n+1 values, by repeated addition as upstream */
        if (!pts_push(v, a, false)) {
            return -2;
        }
        a += d;
    }
    return 0;
}

int promqltest_parse_values(const char *s, size_t len, arena_t *a, promqltest_point_t **pts, size_t *n, char *err,
                            size_t errlen)
{
    pts_vec_t v = { 0 };
    str_t rest = str_from(s, len);
    int rc = 0;
    for (;;) {
        str_t tok = next_word(&rest);
        if (tok.len == 0) {
            break;
        }
        rc = parse_item(tok.p, tok.len, &v, err, errlen);
        if (rc == -2) {
            seterr(err, errlen, "more than %d values in one series", PROMQLTEST_MAX_POINTS);
        }
        if (rc != 0) {
            rc = -1;
            goto fail;
        }
    }
    *pts = v.n ? arena_alloc(a, v.n * sizeof(**pts)) : NULL;
    if (v.n) {
        memcpy(*pts, v.p, v.n * sizeof(**pts));
    }
    *n = v.n;
fail:
    mem_free(v.p);
    return rc;
}

/* ---- strings and selectors ---- */

static int hexval(int c)
{
    return str_hex_digit(c);
}

static void put_utf8(buf_t *b, uint32_t r)
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

/* One escape after the backslash at s[*i]; appends its bytes. */
static bool unescape(const char *s, size_t len, size_t *i, char quote, buf_t *b)
{
    size_t j = *i;
    if (j >= len) {
        return false;
    }
    char c = s[j++];
    static const char simple_from[] = "abfnrtv\\'\"";
    static const char simple_to[] = "\a\b\f\n\r\t\v\\'\"";
    const char *k = strchr(simple_from, c);
    if (c != '\0' && k) {
        if ((c == '\'' || c == '"') && c != quote) {
            return false;
        }
        buf_putc(b, (uint8_t)simple_to[k - simple_from]);
        *i = j;
        return true;
    }
    int ndig = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
    if (ndig > 0) {
        uint32_t r = 0;
        for (int d = 0; d < ndig; d++) {
            if (j >= len || hexval((unsigned char)s[j]) < 0) {
                return false;
            }
            r = r * 16 + (uint32_t)hexval((unsigned char)s[j++]);
        }
        if (c == 'x') {
            buf_putc(b, (uint8_t)r);
        } else {
            if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) {
                return false;
            }
            put_utf8(b, r);
        }
        *i = j;
        return true;
    }
    if (c >= '0' && c <= '7') {
        uint32_t r = (uint32_t)(c - '0');
        for (int d = 0; d < 2; d++) {
            if (j >= len || s[j] < '0' || s[j] > '7') {
                return false;
            }
            r = r * 8 + (uint32_t)(s[j++] - '0');
        }
        if (r > 255) {
            return false;
        }
        buf_putc(b, (uint8_t)r);
        *i = j;
        return true;
    }
    return false;
}

bool promqltest_parse_unquote(const char *s, size_t len, arena_t *a, char **out, size_t *n)
{
    if (len < 2 || s[len - 1] != s[0] || (s[0] != '"' && s[0] != '\'' && s[0] != '`')) {
        return false;
    }
    char q = s[0];
    buf_t b;
    buf_init(&b);
    bool ok = true;
    for (size_t i = 1; ok && i < len - 1;) {
        char c = s[i];
        if (q == '`') {
            ok = c != '`';
            if (c != '\r') {
                buf_putc(&b, (uint8_t)c);
            }
            i++;
        } else if (c == q || c == '\n') {
            ok = false;
        } else if (c == '\\') {
            i++;
            ok = unescape(s, len - 1, &i, q, &b);
        } else {
            buf_putc(&b, (uint8_t)c);
            i++;
        }
    }
    if (ok) {
        *out = arena_strndup(a, b.len ? (const char *)b.data : "", b.len);
        *n = b.len;
    }
    buf_fini(&b);
    return ok;
}

/* End (one past the closing quote) of the quoted string at s[i], or 0. */
static size_t quoted_end(const char *s, size_t len, size_t i)
{
    char q = s[i];
    for (size_t j = i + 1; j < len; j++) {
        if (s[j] == '\\' && q != '`') {
            j++;
        } else if (s[j] == q) {
            return j + 1;
        }
    }
    return 0;
}

static size_t skip_ws(const char *s, size_t len, size_t i)
{
    while (i < len && is_space((unsigned char)s[i])) {
        i++;
    }
    return i;
}

typedef struct label_vec {
    label_t *p;
    size_t n, cap;
} label_vec_t;

static void label_push(arena_t *a, label_vec_t *v, str_t name, str_t value)
{
    v->p = grow(a, v->p, v->n, &v->cap, sizeof(*v->p));
    v->p[v->n++] = (label_t){ name, value };
}

/* name | name{...} | {...}: the labels into *v; returns bytes consumed or
 * 0 with err set. A metric identifier wins over __name__ in braces. */
static size_t parse_selector(const char *s, size_t len, arena_t *a, label_vec_t *v, char *err, size_t errlen)
{
    size_t i = 0;
    str_t name = { 0 };
    if (i < len && (is_alpha((unsigned char)s[i]) || s[i] == ':')) {
        while (i < len && (is_alnum((unsigned char)s[i]) || s[i] == ':')) {
            i++;
        }
        name = str_from(s, i);
    }
    if (i < len && s[i] == '{') {
        i++;
        for (;;) {
            i = skip_ws(s, len, i);
            if (i < len && s[i] == '}') {
                i++;
                break;
            }
            str_t lname;
            bool quoted = i < len && (s[i] == '"' || s[i] == '\'' || s[i] == '`');
            if (quoted) {
                size_t e = quoted_end(s, len, i);
                char *u = NULL;
                size_t ul = 0;
                if (e == 0 || !promqltest_parse_unquote(s + i, e - i, a, &u, &ul)) {
                    seterr(err, errlen, "bad quoted string at byte %zu", i);
                    return 0;
                }
                lname = str_from(u, ul);
                i = e;
            } else if (i < len && is_alpha((unsigned char)s[i])) {
                size_t st = i;
                while (i < len && is_alnum((unsigned char)s[i])) {
                    i++;
                }
                lname = str_from(s + st, i - st);
            } else {
                seterr(err, errlen, "expected a label name or '}' at byte %zu", i);
                return 0;
            }
            i = skip_ws(s, len, i);
            if (quoted && i < len && (s[i] == ',' || s[i] == '}')) {
                label_push(a, v, STR_LIT("__name__"), lname); /* {"metric.name", ...} */
            } else {
                if (i >= len || s[i] != '=' || (i + 1 < len && s[i + 1] == '~')) {
                    seterr(err, errlen, "expected '=' after label name at byte %zu", i);
                    return 0;
                }
                i = skip_ws(s, len, i + 1);
                size_t e = (i < len && (s[i] == '"' || s[i] == '\'' || s[i] == '`')) ? quoted_end(s, len, i) : 0;
                char *u = NULL;
                size_t ul = 0;
                if (e == 0 || !promqltest_parse_unquote(s + i, e - i, a, &u, &ul)) {
                    seterr(err, errlen, "expected a quoted label value at byte %zu", i);
                    return 0;
                }
                label_push(a, v, lname, str_from(u, ul));
                i = skip_ws(s, len, e);
            }
            if (i < len && s[i] == ',') {
                i++;
            } else if (!(i < len && s[i] == '}')) {
                seterr(err, errlen, "expected ',' or '}' at byte %zu", i);
                return 0;
            }
        }
    } else if (name.len == 0) {
        seterr(err, errlen, "expected a metric name or '{' at byte 0");
        return 0;
    }
    if (name.len > 0) {
        label_push(a, v, STR_LIT("__name__"), name);
    }
    if (i < len && !is_space((unsigned char)s[i])) {
        seterr(err, errlen, "unexpected '%c' after the series selector at byte %zu", s[i], i);
        return 0;
    }
    return i;
}

/* Sort, drop empty values, and keep the last of duplicate names. */
static size_t normalize(label_t *ls, size_t n)
{
    n = labels_normalize(ls, n);
    size_t w = 0;
    for (size_t r = 0; r < n; r++) {
        if (w > 0 && str_eq(ls[w - 1].name, ls[r].name)) {
            ls[w - 1] = ls[r];
        } else {
            ls[w++] = ls[r];
        }
    }
    return w;
}

int promqltest_parse_series(const char *s, size_t len, arena_t *a, promqltest_series_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    label_vec_t v = { 0 };
    size_t used = parse_selector(s, len, a, &v, err, errlen);
    if (used == 0) {
        return -1;
    }
    out->labels = v.p;
    out->nlabels = normalize(v.p, v.n);
    const char *rest = s + used;
    size_t rlen = len - used;
    for (size_t i = 0; i + 1 < rlen; i++) {
        if (rest[i] == '{' && rest[i + 1] == '{') {
            out->histogram = true;
            return 0;
        }
    }
    return promqltest_parse_values(rest, rlen, a, &out->pts, &out->npts, err, errlen);
}

/* ---- numbers ---- */

/* Go's ParseInt(s, 0, 64): sign, base prefix (0x 0o 0b, or a leading 0
 * for octal), '_' only between digits or right after a prefix. */
static bool parse_int_base0(const char *s, size_t len, double *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '+' || s[i] == '-')) {
        neg = s[i++] == '-';
    }
    if (i >= len) {
        return false;
    }
    int base = 10;
    bool prefixed = false;
    bool prev_digit = false; /* an underscore may follow */
    if (s[i] == '0') {
        char c = (char)(i + 1 < len ? s[i + 1] | 0x20 : 0);
        if (len - i >= 3 && (c == 'x' || c == 'o' || c == 'b')) {
            base = c == 'x' ? 16 : c == 'o' ? 8 : 2;
            i += 2;
            prefixed = true;
        } else {
            base = 8;
            i++;
        }
        prev_digit = true;
    }
    uint64_t v = 0;
    size_t ndig = 0;
    for (; i < len; i++) {
        if (s[i] == '_') {
            if (!prev_digit) {
                return false;
            }
            prev_digit = false;
            continue;
        }
        int d = hexval((unsigned char)s[i]);
        if (d < 0 || d >= base || v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base) {
            return false;
        }
        v = v * (uint64_t)base + (uint64_t)d;
        ndig++;
        prev_digit = true;
    }
    if (!prev_digit || (prefixed && ndig == 0) || v > (uint64_t)INT64_MAX + (neg ? 1u : 0u)) {
        return false;
    }
    *out = neg ? -(double)v : (double)v;
    return true;
}

bool promqltest_parse_number(const char *s, size_t len, double *out)
{
    if (len == 0) {
        return false;
    }
    return parse_int_base0(s, len, out) || str_parse_double(str_from(s, len), out);
}

/* ---- expect lines ---- */

static const struct {
    const char *word;
    promqltest_expect_kind_t kind;
} expect_kinds[] = {
    { "ordered", PROMQLTEST_EXPECT_ORDERED }, { "fail", PROMQLTEST_EXPECT_FAIL },
    { "warn", PROMQLTEST_EXPECT_WARN },       { "no_warn", PROMQLTEST_EXPECT_NO_WARN },
    { "info", PROMQLTEST_EXPECT_INFO },       { "no_info", PROMQLTEST_EXPECT_NO_INFO },
};

int promqltest_parse_expect(const char *s, size_t len, arena_t *a, promqltest_expect_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    str_t rest = trim(str_from(s, len));
    str_t w = next_word(&rest);
    if (!str_eq_cstr(w, "expect")) {
        seterr(err, errlen, "not an expect line");
        return -1;
    }
    w = next_word(&rest);
    size_t k = 0;
    while (k < sizeof(expect_kinds) / sizeof(expect_kinds[0]) && !str_eq_cstr(w, expect_kinds[k].word)) {
        k++;
    }
    if (k == sizeof(expect_kinds) / sizeof(expect_kinds[0])) {
        seterr(err, errlen,
               "invalid expect statement, must match `expect <type> <match_type>: <string>` format (type %.*s)",
               (int)w.len, w.p);
        return -1;
    }
    out->kind = expect_kinds[k].kind;
    out->text = "";
    rest = trim(rest);
    if (rest.len == 0) {
        return 0;
    }
    size_t plen;
    if (str_has_prefix(rest, "msg:")) {
        out->match = PROMQLTEST_MATCH_MSG;
        plen = 4;
    } else if (str_has_prefix(rest, "regex:")) {
        out->match = PROMQLTEST_MATCH_REGEX;
        plen = 6;
    } else {
        seterr(err, errlen, "invalid expect statement: want msg: or regex: after %.*s", (int)w.len, w.p);
        return -1;
    }
    if (rest.len == plen) {
        seterr(err, errlen, "invalid expect statement: empty %s", out->match == PROMQLTEST_MATCH_MSG ? "msg" : "regex");
        return -1;
    }
    str_t text = trim(str_from(rest.p + plen, rest.len - plen));
    out->text = arena_strndup(a, text.p ? text.p : "", text.len);
    out->text_len = text.len;
    return 0;
}

/* ---- script ---- */

static void diag(parser_t *p, size_t idx, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void diag(parser_t *p, size_t idx, const char *fmt, ...)
{
    promqltest_script_t *o = p->out;
    o->diags = grow(p->a, o->diags, o->ndiags, &p->diag_cap, sizeof(*o->diags));
    promqltest_diag_t *d = &o->diags[o->ndiags++];
    d->line = (unsigned)idx + 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
    va_end(ap);
}

static promqltest_cmd_t *push_cmd(parser_t *p, promqltest_cmd_kind_t kind, size_t idx)
{
    promqltest_script_t *o = p->out;
    o->cmds = grow(p->a, o->cmds, o->ncmds, &p->cmd_cap, sizeof(*o->cmds));
    promqltest_cmd_t *c = &o->cmds[o->ncmds++];
    memset(c, 0, sizeof(*c));
    c->kind = kind;
    c->line = (unsigned)idx + 1;
    return c;
}

/* Index of the last line of the block that holds line i. */
static size_t block_end(const parser_t *p, size_t i)
{
    while (i + 1 < p->nlines && p->lines[i + 1].len > 0) {
        i++;
    }
    return i;
}

static bool parse_dur(str_t s, int64_t *ms)
{
    return s.len > 0 && str_parse_duration_ms(s, ms);
}

/* A start-timestamp line: its first word ends with "@st". */
static bool is_st_line(str_t l)
{
    str_t rest = l;
    str_t w = next_word(&rest);
    return w.len >= 3 && memcmp(w.p + w.len - 3, "@st", 3) == 0;
}

static size_t parse_load(parser_t *p, size_t i)
{
    str_t rest = p->lines[i];
    str_t w = next_word(&rest);
    str_t interval = trim(rest);
    bool nhcb = str_eq_cstr(w, "load_with_nhcb");
    if (!nhcb && !str_eq_cstr(w, "load")) {
        diag(p, i, "invalid load command. (load[_with_nhcb] <step:duration>)");
        return block_end(p, i);
    }
    int64_t gap = 0;
    if (!parse_dur(interval, &gap)) {
        diag(p, i, "invalid step definition \"%.*s\"", (int)interval.len, interval.p);
        return block_end(p, i);
    }
    promqltest_cmd_t *c = push_cmd(p, PROMQLTEST_CMD_LOAD, i);
    promqltest_load_t *ld = &c->u.load;
    ld->interval_ms = gap;
    ld->nhcb = nhcb;
    size_t cap = 0;
    size_t j = i + 1;
    for (; j < p->nlines && p->lines[j].len > 0; j++) {
        str_t l = p->lines[j];
        if (is_st_line(l)) {
            ld->st_lines++;
            continue;
        }
        promqltest_series_t s;
        char err[200];
        if (promqltest_parse_series(l.p, l.len, p->a, &s, err, sizeof(err)) != 0) {
            diag(p, j, "bad series line: %s", err);
            continue;
        }
        s.line = (unsigned)j + 1;
        ld->series = grow(p->a, ld->series, ld->nseries, &cap, sizeof(*ld->series));
        ld->series[ld->nseries++] = s;
    }
    return j - 1;
}

/* "from A to B step S" of a range eval or of expect range vector. */
static bool parse_range(parser_t *p, size_t idx, str_t *rest, int64_t *start, int64_t *end, int64_t *step)
{
    str_t w1 = next_word(rest), a = next_word(rest), w2 = next_word(rest), b = next_word(rest);
    str_t w3 = next_word(rest), s = next_word(rest);
    if (!str_eq_cstr(w1, "from") || !str_eq_cstr(w2, "to") || !str_eq_cstr(w3, "step")) {
        diag(p, idx, "invalid range: want 'from <start> to <end> step <step>'");
        return false;
    }
    if (!parse_dur(a, start) || !parse_dur(b, end) || !parse_dur(s, step)) {
        diag(p, idx, "invalid duration in 'from %.*s to %.*s step %.*s'", (int)a.len, a.p, (int)b.len, b.p, (int)s.len,
             s.p);
        return false;
    }
    if (*end < *start) {
        diag(p, idx, "invalid test definition, end timestamp (%.*s) is before start timestamp (%.*s)", (int)b.len, b.p,
             (int)a.len, a.p);
        return false;
    }
    if (*step <= 0) {
        diag(p, idx, "invalid step %.*s: must be positive", (int)s.len, s.p);
        return false;
    }
    return true;
}

/* The eval header line into ev; false (diagnosed) when malformed. */
static bool parse_eval_header(parser_t *p, size_t i, promqltest_eval_t *ev)
{
    str_t rest = p->lines[i];
    str_t w = next_word(&rest);
    str_t mode = next_word(&rest);
    const char *mods[] = { "eval", "eval_fail", "eval_warn", "eval_info", "eval_ordered" };
    size_t m = 0;
    while (m < 5 && !str_eq_cstr(w, mods[m])) {
        m++;
    }
    bool instant = str_eq_cstr(mode, "instant"), range = str_eq_cstr(mode, "range");
    if (m == 5 || !(instant || range) || (range && m == 4)) {
        diag(p, i,
             "invalid evaluation command. Must be either 'eval[_fail|_warn|_ordered] instant [at <offset:duration>] "
             "<query>' or 'eval[_fail|_warn] range from <from> to <to> step <step> <query>'");
        return false;
    }
    ev->fail = m == 1;
    ev->warn = m == 2;
    ev->info = m == 3;
    ev->ordered = m == 4;
    ev->range = range;
    if (instant) {
        str_t at = next_word(&rest), t = next_word(&rest);
        if (!str_eq_cstr(at, "at") || !parse_dur(t, &ev->start)) {
            diag(p, i, "invalid timestamp definition \"%.*s\"", (int)t.len, t.p);
            return false;
        }
        ev->end = ev->start;
    } else if (!parse_range(p, i, &rest, &ev->start, &ev->end, &ev->step)) {
        return false;
    }
    str_t q = trim(rest);
    if (q.len == 0) {
        diag(p, i, "eval without a query");
        return false;
    }
    ev->query = arena_strndup(p->a, q.p, q.len);
    ev->query_len = q.len;
    return true;
}

static void push_expect(parser_t *p, promqltest_eval_t *ev, size_t *cap, const promqltest_expect_t *e)
{
    ev->expects = grow(p->a, ev->expects, ev->nexpects, cap, sizeof(*ev->expects));
    ev->expects[ev->nexpects++] = *e;
    ev->fail |= e->kind == PROMQLTEST_EXPECT_FAIL;
    ev->ordered |= e->kind == PROMQLTEST_EXPECT_ORDERED;
}

/* upstream's validateExpectedCmds */
static const char *expects_invalid(const promqltest_eval_t *ev)
{
    size_t n[6] = { 0 };
    for (size_t k = 0; k < ev->nexpects; k++) {
        n[ev->expects[k].kind]++;
    }
    if (n[PROMQLTEST_EXPECT_INFO] && n[PROMQLTEST_EXPECT_NO_INFO]) {
        return "invalid expect lines, info and no_info cannot be used together";
    }
    if (n[PROMQLTEST_EXPECT_WARN] && n[PROMQLTEST_EXPECT_NO_WARN]) {
        return "invalid expect lines, warn and no_warn cannot be used together";
    }
    if (n[PROMQLTEST_EXPECT_FAIL] > 1) {
        return "invalid expect lines, multiple expect fail lines are not allowed";
    }
    return NULL;
}

/* One line of an eval block. 1: the line ends the block (a scalar or a
 * deprecated expected_fail_*), 0: go on, -1: diagnosed. */
static int parse_eval_line(parser_t *p, size_t j, promqltest_eval_t *ev, size_t *ecap, size_t *scap)
{
    str_t l = p->lines[j];
    char err[200];
    promqltest_expect_t e = { .line = (unsigned)j + 1 };
    static const char *const old[] = { "expected_fail_message", "expected_fail_regexp" };
    for (int k = 0; k < 2; k++) {
        if (ev->fail && str_has_prefix(l, old[k])) {
            str_t t = trim(str_from(l.p + strlen(old[k]), l.len - strlen(old[k])));
            e.kind = PROMQLTEST_EXPECT_FAIL;
            e.match = k == 0 ? PROMQLTEST_MATCH_MSG : PROMQLTEST_MATCH_REGEX;
            e.text = arena_strndup(p->a, t.p, t.len);
            e.text_len = t.len;
            push_expect(p, ev, ecap, &e);
            return 1;
        }
    }
    if (str_has_prefix(l, "expect range vector")) {
        str_t rest = str_from(l.p + 19, l.len - 19);
        if (!parse_range(p, j, &rest, &ev->rv_start, &ev->rv_end, &ev->rv_step)) {
            return -1;
        }
        ev->range_vector = true;
        return 0;
    }
    if (str_has_prefix(l, "expect string")) {
        str_t lit = trim(str_from(l.p + 13, l.len - 13));
        char *u = NULL;
        size_t ul = 0;
        if (l.len == 13 || l.p[13] != ' ' || lit.len == 0 || !promqltest_parse_unquote(lit.p, lit.len, p->a, &u, &ul)) {
            diag(p, j, "expected string literal not valid - check that the string is correctly quoted");
            return -1;
        }
        ev->has_string = true;
        ev->string = u;
        ev->string_len = ul;
        return 0;
    }
    str_t rest = l;
    if (str_eq_cstr(next_word(&rest), "expect")) {
        if (promqltest_parse_expect(l.p, l.len, p->a, &e, err, sizeof(err)) != 0) {
            diag(p, j, "%s", err);
            return -1;
        }
        e.line = (unsigned)j + 1;
        push_expect(p, ev, ecap, &e);
        const char *bad = expects_invalid(ev);
        if (bad) {
            diag(p, j, "%s", bad);
            return -1;
        }
        return 0;
    }
    if (promqltest_parse_number(l.p, l.len, &ev->scalar)) {
        ev->expect_scalar = true;
        return 1;
    }
    if (has_prefix_ci(l, "{{")) {
        ev->histogram = true; /* a histogram scalar: not decoded */
        return 0;
    }
    promqltest_series_t s;
    if (promqltest_parse_series(l.p, l.len, p->a, &s, err, sizeof(err)) != 0) {
        diag(p, j, "bad expected series: %s", err);
        return -1;
    }
    s.line = (unsigned)j + 1;
    if (s.npts > 1 && !ev->range && !ev->range_vector) {
        diag(p, j,
             "expecting multiple values in instant evaluation not allowed. consider using 'expect range vector' "
             "directive to enable a range vector result for an instant query");
        return -1;
    }
    ev->histogram |= s.histogram;
    ev->series = grow(p->a, ev->series, ev->nseries, scap, sizeof(*ev->series));
    ev->series[ev->nseries++] = s;
    return 0;
}

static size_t parse_eval(parser_t *p, size_t i)
{
    promqltest_eval_t ev = { .line = (unsigned)i + 1 };
    if (!parse_eval_header(p, i, &ev)) {
        return block_end(p, i);
    }
    size_t ecap = 0, scap = 0;
    size_t j = i + 1;
    for (; j < p->nlines && p->lines[j].len > 0; j++) {
        int rc = parse_eval_line(p, j, &ev, &ecap, &scap);
        if (rc < 0) {
            return block_end(p, j);
        }
        if (rc > 0) {
            j++;
            break;
        }
    }
    promqltest_cmd_t *c = push_cmd(p, PROMQLTEST_CMD_EVAL, i);
    c->u.eval = ev;
    return j - 1;
}

size_t promqltest_parse(const char *text, size_t len, arena_t *a, promqltest_script_t *out)
{
    memset(out, 0, sizeof(*out));
    parser_t p = { .a = a, .out = out };
    if (text == NULL) {
        text = "";
        len = 0;
    }
    size_t n = 1;
    for (size_t i = 0; i < len; i++) {
        n += text[i] == '\n';
    }
    p.lines = arena_alloc(a, n * sizeof(*p.lines));
    size_t st = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || text[i] == '\n') {
            str_t l = trim(str_from(text + st, i - st));
            if (l.len > 0 && l.p[0] == '#') {
                l.len = 0;
            }
            p.lines[p.nlines++] = l;
            st = i + 1;
        }
    }
    for (size_t i = 0; i < p.nlines; i++) {
        str_t l = p.lines[i];
        if (l.len == 0) {
            continue;
        }
        str_t rest = l;
        str_t w = next_word(&rest);
        if (ieq(w, "clear")) {
            push_cmd(&p, PROMQLTEST_CMD_CLEAR, i);
        } else if (has_prefix_ci(w, "load")) {
            i = parse_load(&p, i);
        } else if (has_prefix_ci(w, "eval")) {
            i = parse_eval(&p, i);
        } else {
            diag(&p, i, "invalid command \"%.*s\"", (int)(l.len > 80 ? 80 : l.len), l.p);
            i = block_end(&p, i);
        }
    }
    return out->ndiags;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * promql_series: the pure parser of Prometheus' series notation, as the
 * PromQL test scripts' load blocks and `promtool test rules` input_series
 * write it (upstream's parser.ParseSeriesDesc and ParseMetric), shared by
 * pharosctl and the promqltest runner (promql.h, "series notation").
 *
 * Core idea: a selector (name, {labels} or both, '=' matchers only, values
 * quoted as Go and PromQL quote them) then whitespace-separated items, each
 * expanded into points without regexes: _ | _xN | v | vxN | v+dxN | v-dxN,
 * v being [+-] number | Inf | NaN, or stale (the StaleNaN bit pattern).
 * a+bxN gives N+1 values by repeated addition, as upstream's grammar does.
 *
 * Errors are Prometheus 2.42's ParseErr texts ("L:C: parse error: msg"):
 * where the parser would stop, its lexer's item is described as
 * Item.desc() does ("<op:=~>", "identifier \"x\"", "end of input"), with
 * the grammar's context ("in label set, expected string", "in series
 * values"), so promtool's reports come out the same.
 *
 * Invariants: results live in the caller's arena (scratch arrays on the
 * heap are freed before return on every path); a values list never
 * exceeds PROMQL_SERIES_MAX_POINTS, so hostile counts ("1x1e18") are
 * errors, not allocations.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/mem.h"
#include "common/str.h"
#include "query/promql.h"
#include "tsdb/tsdb.h"

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

str_t promql_series_next_word(str_t *rest)
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

static size_t skip_ws(const char *s, size_t len, size_t i)
{
    while (i < len && is_space((unsigned char)s[i])) {
        i++;
    }
    return i;
}

/* Prometheus' ParseErr text for an error at s[pos]: "L:C: parse error: ",
 * then the message. */
static void perr(char *err, size_t errlen, const char *s, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void perr(char *err, size_t errlen, const char *s, size_t pos, const char *fmt, ...)
{
    size_t line = 1, col = pos + 1;
    for (size_t i = 0; i < pos; i++) {
        if (s[i] == '\n') {
            line++;
            col = pos - i;
        }
    }
    int n = snprintf(err, errlen, "%zu:%zu: parse error: ", line, col);
    if (n < 0 || (size_t)n >= errlen) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

/* ---- values ---- */

typedef struct pts_vec {
    promql_series_point_t *p;
    size_t n, cap;
} pts_vec_t;

static bool pts_push(pts_vec_t *v, double x, bool omitted)
{
    if (v->n >= PROMQL_SERIES_MAX_POINTS) {
        return false;
    }
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->p = mem_realloc(v->p, v->cap * sizeof(*v->p));
    }
    v->p[v->n++] = (promql_series_point_t){ .v = omitted ? 0 : x, .omitted = omitted };
    return true;
}

static double stale_nan(void)
{
    uint64_t b = TSDB_STALE_NAN_BITS;
    double d;
    memcpy(&d, &b, sizeof(d));
    return d;
}

/* End of the series-description number at s[i] (upstream's scanNumber
 * with hex off): digits [. digits] [eE [+-] digits]. */
static size_t number_end(const char *s, size_t len, size_t i)
{
    size_t st = i, j = i;
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
    return j;
}

/* The number at s[*i], not followed by a letter or digit other than the
 * 'x' of a repetition. */
static bool scan_number(const char *s, size_t len, size_t *i, double *v)
{
    size_t st = *i, j = number_end(s, len, *i);
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

/* Where an item stops making sense at p (in line[0..len)), Prometheus'
 * words for what stands there: the end of input, or the next token, "in
 * series values" when in_item (the item still wanted something). */
static void item_err(const char *line, size_t len, const char *p, bool in_item, char *err, size_t errlen)
{
    size_t i = (size_t)(p - line);
    size_t e = skip_ws(line, len, i);
    if (in_item && e > i && e < len) { /* the lexer's space token */
        buf_t q;
        buf_init(&q);
        labels_quote(str_from(line + i, e - i), &q);
        perr(err, errlen, line, i, "unexpected %.*s in series values", (int)q.len, (const char *)q.data);
        buf_fini(&q);
        return;
    }
    if (e >= len) {
        perr(err, errlen, line, len, "unexpected end of input in series values");
        return;
    }
    i = e;
    const char *ctx = in_item ? " in series values" : "";
    char c = line[i];
    e = i + 1;
    if (c == '_' || (c == 'x' && !(e < len && is_alpha((unsigned char)line[e])))) {
        perr(err, errlen, line, i, "unexpected \"%c\"%s", c, ctx);
    } else if (c == '+' || c == '-') {
        perr(err, errlen, line, i, "unexpected <op:%c>%s", c, ctx);
    } else if (is_alpha((unsigned char)c)) {
        while (e < len && (is_alnum((unsigned char)line[e]) || line[e] == ':')) {
            e++;
        }
        perr(err, errlen, line, i, "unexpected identifier \"%.*s\"%s", (int)(e - i), line + i, ctx);
    } else if (is_digit((unsigned char)c) || (c == '.' && e < len && is_digit((unsigned char)line[e]))) {
        e = number_end(line, len, i);
        perr(err, errlen, line, i, "unexpected number \"%.*s\"%s", (int)(e - i), line + i, ctx);
    } else {
        perr(err, errlen, line, i, "unexpected character in series sequence: '%c'", c);
    }
}

/* A number at tok[j] that scan_number refused, as the lexer (a letter
 * right after it) or ParseFloat words it. */
static void number_err(const char *line, const char *tok, size_t n, size_t j, char *err, size_t errlen)
{
    size_t e = number_end(tok, n, j);
    size_t at = (size_t)(tok - line) + j;
    if (e < n && is_alnum((unsigned char)tok[e])) {
        perr(err, errlen, line, at, "bad number syntax: \"%.*s\"", (int)(e - j), tok + j);
    } else {
        perr(err, errlen, line, at, "error parsing number: strconv.ParseFloat: parsing \"%.*s\": invalid syntax",
             (int)(e - j), tok + j);
    }
}

/* A value that scan_value refused at the start of tok. */
static void value_err(const char *line, size_t len, const char *tok, size_t n, char *err, size_t errlen)
{
    size_t at = (size_t)(tok - line);
    size_t j = tok[0] == '+' || tok[0] == '-';
    if (j == 0 && tok[0] == 'x') {
        perr(err, errlen, line, at, "unexpected \"x\"");
    } else if (j < n && is_alpha((unsigned char)tok[j])) {
        size_t e = j;
        while (e < n && (is_alnum((unsigned char)tok[e]) || tok[e] == ':')) {
            e++;
        }
        perr(err, errlen, line, at + j, "unexpected identifier \"%.*s\" in series values, expected number or \"stale\"",
             (int)(e - j), tok + j);
    } else if (j < n && (is_digit((unsigned char)tok[j]) ||
                         (tok[j] == '.' && j + 1 < n && is_digit((unsigned char)tok[j + 1])))) {
        number_err(line, tok, n, j, err, errlen);
    } else if (j > 0) {
        item_err(line, len, tok + j, true, err, errlen);
    } else {
        perr(err, errlen, line, at, "unexpected character in series sequence: '%c'", tok[0]);
    }
}

/* The digits after the 'x' at tok[i - 1]: false with err set when there
 * are none, or they run into something else. */
static bool item_count(const char *line, size_t len, const char *tok, size_t n, size_t i, uint64_t *count, char *err,
                       size_t errlen)
{
    size_t j = i;
    while (j < n && is_digit((unsigned char)tok[j])) {
        j++;
    }
    if (j == i || j < n) {
        item_err(line, len, tok + j, j == i, err, errlen);
        return false;
    }
    if (!str_parse_u64(str_from(tok + i, n - i), count)) {
        perr(err, errlen, line, (size_t)(tok - line) + i, "repetition count %.*s out of range", (int)(n - i), tok + i);
        return false;
    }
    return true;
}

/* One whitespace-free item tok[0..n) of line[0..len): _ | _xN | v | vxN |
 * v+dxN | v-dxN. 0, -1 with err set, or -2: too many points. */
static int parse_item(const char *line, size_t len, const char *tok, size_t n, pts_vec_t *v, char *err, size_t errlen)
{
    uint64_t count = 0;
    if (n == 1 && tok[0] == '_') {
        return pts_push(v, 0, true) ? 0 : -2;
    }
    if (tok[0] == '_' && tok[1] != 'x') {
        item_err(line, len, tok + 1, false, err, errlen);
        return -1;
    }
    if (tok[0] == '_') {
        if (!item_count(line, len, tok, n, 2, &count, err, errlen)) {
            return -1;
        }
        if (count > PROMQL_SERIES_MAX_POINTS) {
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
        value_err(line, len, tok, n, err, errlen);
        return -1;
    }
    if (i == n) {
        return pts_push(v, a, false) ? 0 : -2;
    }
    double d = 0;
    bool stepped = tok[i] == '+' || tok[i] == '-'; /* then an 'x' must follow */
    if (stepped) {
        char sign = tok[i++];
        if (i >= n || !(is_digit((unsigned char)tok[i]) || tok[i] == '.')) {
            item_err(line, len, tok + i, true, err, errlen);
            return -1;
        }
        if (!scan_number(tok, n, &i, &d)) {
            number_err(line, tok, n, i, err, errlen);
            return -1;
        }
        if (sign == '-') {
            d = -d;
        }
    }
    if (i >= n || tok[i] != 'x') {
        item_err(line, len, tok + i, stepped, err, errlen);
        return -1;
    }
    if (!item_count(line, len, tok, n, i + 1, &count, err, errlen)) {
        return -1;
    }
    if (count >= PROMQL_SERIES_MAX_POINTS) {
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

/* The items of line[start..len): as promql_series_parse_values, with
 * error positions counted from line. */
static int parse_values(const char *line, size_t start, size_t len, arena_t *a, promql_series_point_t **pts, size_t *n,
                        char *err, size_t errlen)
{
    pts_vec_t v = { 0 };
    str_t rest = str_from(line + start, len - start);
    int rc = 0;
    for (;;) {
        str_t tok = promql_series_next_word(&rest);
        if (tok.len == 0) {
            break;
        }
        rc = parse_item(line, len, tok.p, tok.len, &v, err, errlen);
        if (rc == -2) {
            perr(err, errlen, line, (size_t)(tok.p - line), "more than %d values in one series",
                 PROMQL_SERIES_MAX_POINTS);
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

int promql_series_parse_values(const char *s, size_t len, arena_t *a, promql_series_point_t **pts, size_t *n, char *err,
                               size_t errlen)
{
    return parse_values(s, 0, len, a, pts, n, err, errlen);
}

/* ---- strings and selectors ---- */

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
            int h = j < len ? str_hex_digit((unsigned char)s[j]) : -1;
            if (h < 0) {
                return false;
            }
            r = r * 16 + (uint32_t)h;
            j++;
        }
        if (c == 'x') {
            buf_putc(b, (uint8_t)r);
        } else {
            if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) {
                return false;
            }
            char u[4];
            buf_append(b, u, str_utf8_encode(r, u));
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

bool promql_series_unquote(const char *s, size_t len, arena_t *a, char **out, size_t *n)
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

typedef struct label_vec {
    label_t *p;
    size_t n, cap;
} label_vec_t;

static void label_push(arena_t *a, label_vec_t *v, str_t name, str_t value)
{
    v->p = grow(a, v->p, v->n, &v->cap, sizeof(*v->p));
    v->p[v->n++] = (label_t){ name, value };
}

/* The lexer's item at s[i] inside braces as the parser's error names it
 * (Item.desc(): "\"}\"", "<op:=~>", "identifier \"x\"", "string
 * \"\\\"a\\\"\""); false with a lexer error in err when there is none. */
static bool brace_item(const char *s, size_t len, size_t i, char *desc, size_t dlen, char *err, size_t errlen)
{
    if (i >= len) {
        perr(err, errlen, s, i, "unexpected end of input inside braces");
        return false;
    }
    char c = s[i];
    char c2 = i + 1 < len ? s[i + 1] : 0;
    if ((c == '=' || c == '!') && (c2 == '~' || c2 == '=')) {
        snprintf(desc, dlen, "<op:%c%c>", c, c2);
    } else if (c == '=') {
        snprintf(desc, dlen, "<op:=>");
    } else if (c == ',' || c == '}' || c == '{') {
        snprintf(desc, dlen, "\"%c\"", c);
    } else if (is_alpha((unsigned char)c)) {
        size_t e = i;
        while (e < len && (is_alnum((unsigned char)s[e]) || s[e] == ':')) {
            e++;
        }
        snprintf(desc, dlen, "identifier \"%.*s\"", (int)(e - i), s + i);
    } else if (c == '"' || c == '\'' || c == '`') {
        size_t e = quoted_end(s, len, i);
        if (e == 0) {
            perr(err, errlen, s, i, "unterminated quoted string");
            return false;
        }
        buf_t q;
        buf_init(&q);
        labels_quote(str_from(s + i, e - i > 10 ? 10 : e - i), &q);
        snprintf(desc, dlen, "string %.*s%s", (int)q.len, (const char *)q.data, e - i > 10 ? "..." : "");
        buf_fini(&q);
    } else {
        perr(err, errlen, s, i, "unexpected character inside braces: '%c'", c);
        return false;
    }
    return true;
}

/* "unexpected <item> in label set, expected <what>" at s[i]. */
static void unexpected_in_braces(const char *s, size_t len, size_t i, const char *what, char *err, size_t errlen)
{
    char desc[64];
    if (brace_item(s, len, i, desc, sizeof(desc), err, errlen)) {
        perr(err, errlen, s, i, "unexpected %s in label set, expected %s", desc, what);
    }
}

/* A quoted string at s[i] that promql_series_unquote refused: the lexer's
 * reason. */
static void bad_string(const char *s, size_t len, size_t i, char *err, size_t errlen)
{
    size_t e = quoted_end(s, len, i);
    for (size_t j = i + 1; e != 0 && s[i] != '`' && j + 1 < e; j++) {
        if (s[j] == '\\') {
            char c = s[++j];
            if (!strchr("abfnrtv\\'\"xuU01234567", c) || c == 0) {
                perr(err, errlen, s, i, "unknown escape sequence U+%04X '%c'", (unsigned)(unsigned char)c, c);
                return;
            }
        }
    }
    perr(err, errlen, s, i, e == 0 ? "unterminated quoted string" : "invalid syntax in quoted string");
}

/* The quoted string at s[*i]: true with its bytes in [out] *out (arena)
 * and *i past it, or false with err set. */
static bool quoted_at(const char *s, size_t len, size_t *i, arena_t *a, str_t *out, char *err, size_t errlen)
{
    size_t e = quoted_end(s, len, *i);
    char *u = NULL;
    size_t ul = 0;
    if (e == 0 || !promql_series_unquote(s + *i, e - *i, a, &u, &ul)) {
        bad_string(s, len, *i, err, errlen);
        return false;
    }
    *out = str_from(u, ul);
    *i = e;
    return true;
}

/* name | name{...} | {...} from s[*pos]: the labels in braces into *v,
 * in text order, and the metric identifier into [out] *ident (empty when
 * absent); true with *pos past the selector, or false with err set as
 * Prometheus' parser words it (positions count from s). */
static bool parse_selector(const char *s, size_t len, size_t *pos, arena_t *a, label_vec_t *v, str_t *ident, char *err,
                           size_t errlen)
{
    size_t i = *pos;
    *ident = (str_t){ 0 };
    if (i < len && (is_alpha((unsigned char)s[i]) || s[i] == ':')) {
        size_t st = i;
        while (i < len && (is_alnum((unsigned char)s[i]) || s[i] == ':')) {
            i++;
        }
        *ident = str_from(s + st, i - st);
    } else if (i < len && is_digit((unsigned char)s[i])) {
        size_t e = i;
        while (e < len && is_digit((unsigned char)s[e])) {
            e++;
        }
        perr(err, errlen, s, i, "bad number or duration syntax: \"%.*s\"", (int)(e - i), s + i);
        return false;
    } else if (!(i < len && s[i] == '{')) {
        perr(err, errlen, s, i, "unexpected character: '%c'", i < len ? s[i] : ' ');
        return false;
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
                if (!quoted_at(s, len, &i, a, &lname, err, errlen)) {
                    return false;
                }
            } else if (i < len && is_alpha((unsigned char)s[i])) {
                size_t st = i;
                while (i < len && is_alnum((unsigned char)s[i])) {
                    i++;
                }
                lname = str_from(s + st, i - st);
            } else {
                unexpected_in_braces(s, len, i, "identifier or \"}\"", err, errlen);
                return false;
            }
            i = skip_ws(s, len, i);
            if (quoted && i < len && (s[i] == ',' || s[i] == '}')) {
                label_push(a, v, STR_LIT("__name__"), lname); /* {"metric.name", ...} */
            } else {
                if (i >= len || s[i] != '=' || (i + 1 < len && s[i + 1] == '~')) {
                    unexpected_in_braces(s, len, i, "\"=\"", err, errlen);
                    return false;
                }
                i = skip_ws(s, len, i + 1);
                if (!(i < len && (s[i] == '"' || s[i] == '\'' || s[i] == '`'))) {
                    unexpected_in_braces(s, len, i, "string", err, errlen);
                    return false;
                }
                str_t value;
                if (!quoted_at(s, len, &i, a, &value, err, errlen)) {
                    return false;
                }
                label_push(a, v, lname, value);
                i = skip_ws(s, len, i);
            }
            if (i < len && s[i] == ',') {
                i++;
            } else if (!(i < len && s[i] == '}')) {
                unexpected_in_braces(s, len, i, "\",\" or \"}\"", err, errlen);
                return false;
            }
        }
    }
    *pos = i;
    return true;
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

int promql_series_parse(const char *s, size_t len, arena_t *a, promql_series_desc_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    label_vec_t v = { 0 };
    str_t ident;
    size_t used = 0;
    if (!parse_selector(s, len, &used, a, &v, &ident, err, errlen)) {
        return -1;
    }
    if (used < len && !is_space((unsigned char)s[used])) {
        perr(err, errlen, s, used, "unexpected character in series sequence: '%c'", s[used]);
        return -1;
    }
    if (ident.len > 0) {
        label_push(a, &v, STR_LIT("__name__"), ident); /* last: it wins over __name__ in braces */
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
    return parse_values(s, used, len, a, &out->pts, &out->npts, err, errlen);
}

/* labels.Builder over the labels in braces, then Set(__name__, ident), as
 * ParseMetric's grammar does for name{...}: names that have an empty value
 * and every __name__ go, ident is added; the rest stay, repeats too. */
static size_t with_metric_name(label_t *ls, size_t n, str_t ident)
{
    size_t w = 0;
    for (size_t r = 0; r < n; r++) {
        bool drop = str_eq_cstr(ls[r].name, "__name__");
        for (size_t k = 0; k < n && !drop; k++) {
            drop = ls[k].value.len == 0 && str_eq(ls[k].name, ls[r].name);
        }
        if (!drop) {
            ls[w++] = ls[r];
        }
    }
    ls[w++] = (label_t){ STR_LIT("__name__"), ident };
    return w;
}

int promql_series_parse_metric(const char *s, size_t len, arena_t *a, label_t **labels, size_t *n, char *err,
                               size_t errlen)
{
    label_vec_t v = { 0 };
    str_t ident;
    size_t i = skip_ws(s, len, 0);
    if (i == len) { /* ParseMetric(""): no labels */
        *labels = NULL;
        *n = 0;
        return 0;
    }
    if (!parse_selector(s, len, &i, a, &v, &ident, err, errlen)) {
        return -1;
    }
    i = skip_ws(s, len, i);
    if (i < len && is_alpha((unsigned char)s[i])) {
        size_t e = i;
        while (e < len && (is_alnum((unsigned char)s[e]) || s[e] == ':')) {
            e++;
        }
        perr(err, errlen, s, i, "unexpected identifier \"%.*s\"", (int)(e - i), s + i);
        return -1;
    }
    if (i < len) {
        perr(err, errlen, s, i, "unexpected character: '%c'", s[i]);
        return -1;
    }
    if (ident.len > 0) {
        label_push(a, &v, STR_LIT("__name__"), ident); /* room for with_metric_name's addition */
        v.n = with_metric_name(v.p, v.n - 1, ident);
    }
    labels_sort(v.p, v.n);
    *labels = v.p;
    *n = v.n;
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logql_lex: LogQL tokens, as Loki's lexer (pkg/logql/syntax/lex.go on Go's
 * text/scanner) produces them, plus the duration and size readers it uses.
 *
 * Core idea: identifiers are one token kind; keywords are recognised by the
 * parser from their text (so "rate" can still be a label name, as in Loki).
 * A number directly followed by duration letters (n s u m h d w y) is a
 * DURATION when Prometheus' or Go's duration syntax accepts the run; else,
 * followed by size letters (B i k K M G T P), a BYTES token when go-humanize
 * accepts it; else a NUMBER. "[" reads to "]" and is one RANGE token whose
 * text the parser checks with model.ParseDuration. '#' starts a comment.
 *
 * Invariant: tokens are byte ranges of the query; nothing is allocated.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/str.h"
#include "query/logql_int.h"

void logql_lex_init(logql_lexer_t *l, const char *q, size_t len)
{
    l->q = q;
    l->len = len;
    l->pos = 0;
}

static bool is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_ident_char(char c)
{
    return is_ident_start(c) || is_digit(c);
}

static bool is_dur_rune(char c)
{
    return strchr("nsumhdwy", c) != NULL && c != 0;
}

static bool is_bytes_rune(char c)
{
    return strchr("BikKMGTP", c) != NULL && c != 0;
}

static logql_token_t tok(logql_tok_t kind, size_t pos, size_t len)
{
    logql_token_t t = { kind, (uint32_t)pos, (uint32_t)len, NULL };
    return t;
}

static logql_token_t lex_err(logql_lexer_t *l, size_t pos, const char *msg)
{
    logql_token_t t = tok(LQT_ERROR, pos, 0);
    t.err = msg;
    l->pos = l->len;
    return t;
}

static void skip_space(logql_lexer_t *l)
{
    while (l->pos < l->len) {
        char c = l->q[l->pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            l->pos++;
        } else if (c == '#') {
            while (l->pos < l->len && l->q[l->pos] != '\n') {
                l->pos++;
            }
        } else {
            break;
        }
    }
}

static logql_token_t lex_string(logql_lexer_t *l)
{
    size_t start = l->pos;
    char quote = l->q[l->pos++];
    while (l->pos < l->len) {
        char c = l->q[l->pos];
        if (c == quote) {
            l->pos++;
            if (!str_utf8_valid(l->q + start, l->pos - start)) {
                return lex_err(l, start, "invalid UTF-8 encoding");
            }
            return tok(LQT_STRING, start, l->pos - start);
        }
        if (quote == '"' && (c == '\n' || c == '\r')) {
            break;
        }
        if (quote == '"' && c == '\\') {
            l->pos++;
        }
        l->pos++;
    }
    return lex_err(l, start, "literal not terminated");
}

/* Go scanner number: digits, optional fraction, optional exponent. */
static size_t scan_number(const char *q, size_t len, size_t i)
{
    while (i < len && is_digit(q[i])) {
        i++;
    }
    if (i < len && q[i] == '.') {
        i++;
        while (i < len && is_digit(q[i])) {
            i++;
        }
    }
    if (i < len && (q[i] == 'e' || q[i] == 'E')) {
        size_t j = i + 1;
        if (j < len && (q[j] == '+' || q[j] == '-')) {
            j++;
        }
        if (j < len && is_digit(q[j])) {
            while (j < len && is_digit(q[j])) {
                j++;
            }
            i = j;
        }
    }
    return i;
}

/* Loki's tryScanDuration / tryScanBytes after a number ending at end. */
static logql_token_t lex_number(logql_lexer_t *l)
{
    size_t start = l->pos;
    size_t end = scan_number(l->q, l->len, l->pos);
    size_t d = end;
    while (d < l->len && (is_digit(l->q[d]) || l->q[d] == '.' || is_dur_rune(l->q[d]))) {
        d++;
    }
    int64_t v = 0;
    if (d > end && (logql_parse_model_duration(l->q + start, d - start, &v) ||
                    logql_parse_go_duration(l->q + start, d - start, &v))) {
        l->pos = d;
        return tok(LQT_DURATION, start, d - start);
    }
    size_t b = end;
    while (b < l->len && (is_digit(l->q[b]) || l->q[b] == '.' || is_bytes_rune(l->q[b]))) {
        b++;
    }
    uint64_t u = 0;
    if (b > end && logql_parse_bytes(l->q + start, b - start, &u)) {
        l->pos = b;
        return tok(LQT_BYTES, start, b - start);
    }
    l->pos = end;
    return tok(LQT_NUMBER, start, end - start);
}

static logql_token_t lex_range(logql_lexer_t *l)
{
    size_t start = l->pos;
    const char *close = memchr(l->q + start, ']', l->len - start);
    if (close == NULL) {
        return lex_err(l, start, "missing closing ']' in duration");
    }
    l->pos = (size_t)(close - l->q) + 1;
    return tok(LQT_RANGE, start, l->pos - start);
}

static bool match_at(const logql_lexer_t *l, const char *s)
{
    size_t n = strlen(s);
    return l->len - l->pos >= n && memcmp(l->q + l->pos, s, n) == 0;
}

static const struct {
    const char *text;
    logql_tok_t kind;
} ops[] = {
    { "--strict", LQT_FLAG },
    { "--keep-empty", LQT_FLAG },
    { "|=", LQT_PIPE_EXACT },
    { "|~", LQT_PIPE_MATCH },
    { "|>", LQT_PIPE_PATTERN },
    { "!=", LQT_NEQ },
    { "!~", LQT_NRE },
    { "!>", LQT_NPA },
    { "=~", LQT_RE },
    { "==", LQT_CMP_EQ },
    { ">=", LQT_GTE },
    { "<=", LQT_LTE },
    { "|", LQT_PIPE },
    { "=", LQT_EQ },
    { ">", LQT_GT },
    { "<", LQT_LT },
    { "{", LQT_LBRACE },
    { "}", LQT_RBRACE },
    { "(", LQT_LPAREN },
    { ")", LQT_RPAREN },
    { ",", LQT_COMMA },
    { "+", LQT_ADD },
    { "-", LQT_SUB },
    { "*", LQT_MUL },
    { "/", LQT_DIV },
    { "%", LQT_MOD },
    { "^", LQT_POW },
};

logql_token_t logql_lex_next(logql_lexer_t *l)
{
    skip_space(l);
    if (l->pos >= l->len) {
        return tok(LQT_EOF, l->len, 0);
    }
    char c = l->q[l->pos];
    if (c == '"' || c == '`') {
        return lex_string(l);
    }
    if (is_digit(c) || (c == '.' && l->pos + 1 < l->len && is_digit(l->q[l->pos + 1]))) {
        return lex_number(l);
    }
    if (is_ident_start(c)) {
        size_t start = l->pos;
        while (l->pos < l->len && is_ident_char(l->q[l->pos])) {
            l->pos++;
        }
        return tok(LQT_IDENT, start, l->pos - start);
    }
    if (c == '[') {
        return lex_range(l);
    }
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (match_at(l, ops[i].text)) {
            size_t start = l->pos;
            size_t n = strlen(ops[i].text);
            if (ops[i].kind == LQT_FLAG && l->pos + n < l->len && is_ident_char(l->q[l->pos + n])) {
                continue;
            }
            l->pos += n;
            return tok(ops[i].kind, start, n);
        }
    }
    return lex_err(l, l->pos, "unexpected character");
}

/* Loki's token map: identifiers with these texts are tokens of their own
 * and goyacc names them by their text. */
static const char *const keywords[] = {
    "by",
    "without",
    "bool",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "offset",
    "unwrap",
    "json",
    "logfmt",
    "regexp",
    "pattern",
    "unpack",
    "line_format",
    "label_format",
    "decolorize",
    "drop",
    "keep",
    "ip",
    "or",
    "and",
    "unless",
    "label_replace",
    "vector",
    "sum",
    "avg",
    "max",
    "min",
    "count",
    "stddev",
    "stdvar",
    "bottomk",
    "topk",
    "sort",
    "sort_desc",
    "count_over_time",
    "rate",
    "rate_counter",
    "bytes_over_time",
    "bytes_rate",
    "avg_over_time",
    "sum_over_time",
    "min_over_time",
    "max_over_time",
    "stdvar_over_time",
    "stddev_over_time",
    "quantile_over_time",
    "first_over_time",
    "last_over_time",
    "absent_over_time",
    "bytes",
    "duration",
    "duration_seconds",
};

void logql_tok_desc(const char *q, logql_token_t t, buf_t *out)
{
    static const char *const names[] = {
        [LQT_EOF] = "$end",      [LQT_ERROR] = "$unk",        [LQT_IDENT] = "IDENTIFIER", [LQT_STRING] = "STRING",
        [LQT_NUMBER] = "NUMBER", [LQT_DURATION] = "DURATION", [LQT_BYTES] = "BYTES",      [LQT_RANGE] = "RANGE",
    };
    if (t.kind == LQT_IDENT) {
        for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
            if (strlen(keywords[i]) == t.len && memcmp(keywords[i], q + t.pos, t.len) == 0) {
                buf_puts(out, keywords[i]);
                return;
            }
        }
    }
    if (t.kind <= LQT_RANGE) {
        buf_puts(out, names[t.kind]);
        return;
    }
    buf_append(out, q + t.pos, t.len);
}

void logql_line_col(const char *q, size_t len, size_t pos, unsigned *line, unsigned *col)
{
    unsigned ln = 1;
    unsigned cl = 1;
    for (size_t i = 0; i < pos && i < len; i++) {
        unsigned char c = (unsigned char)q[i];
        if (c == '\n') {
            ln++;
            cl = 1;
        } else if ((c & 0xC0) != 0x80) {
            cl++;
        }
    }
    *line = ln;
    *col = cl;
}

/* prometheus/common model.ParseDuration:
 * ^((\d+)y)?((\d+)w)?((\d+)d)?((\d+)h)?((\d+)m)?((\d+)s)?((\d+)ms)?$
 * with its overflow rule: the total must fit an int64 of nanoseconds. */
bool logql_parse_model_duration(const char *s, size_t len, int64_t *ms)
{
    int64_t total = 0;
    if (!str_parse_duration_ms(str_from(s, len), &total) || total > INT64_MAX / 1000000) {
        return false;
    }
    *ms = total;
    return true;
}

static int64_t go_unit(const char *s, size_t n)
{
    static const struct {
        const char *u;
        int64_t ns;
    } units[] = { { "ns", 1 },       { "us", 1000 },        { "\xc2\xb5s", 1000 },  { "\xce\xbcs", 1000 },
                  { "ms", 1000000 }, { "s", 1000000000LL }, { "m", 60000000000LL }, { "h", 3600000000000LL } };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strlen(units[i].u) == n && memcmp(units[i].u, s, n) == 0) {
            return units[i].ns;
        }
    }
    return 0;
}

/* Go's time.ParseDuration, same arithmetic (fractions via float64). */
bool logql_parse_go_duration(const char *s, size_t len, int64_t *ns)
{
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '-' || s[i] == '+')) {
        neg = s[i++] == '-';
    }
    if (len - i == 1 && s[i] == '0') {
        *ns = 0;
        return true;
    }
    if (i == len) {
        return false;
    }
    uint64_t d = 0;
    while (i < len) {
        if (!(s[i] == '.' || is_digit(s[i]))) {
            return false;
        }
        uint64_t v = 0;
        size_t pl = i;
        while (i < len && is_digit(s[i])) {
            if (v > (1ULL << 63) / 10) {
                return false;
            }
            v = v * 10 + (uint64_t)(s[i++] - '0');
            if (v > 1ULL << 63) {
                return false;
            }
        }
        bool pre = i != pl;
        uint64_t f = 0;
        double scale = 1;
        bool post = false;
        if (i < len && s[i] == '.') {
            i++;
            size_t fl = i;
            while (i < len && is_digit(s[i])) {
                if (f <= (UINT64_MAX - 9) / 10 && scale < 1e18) {
                    f = f * 10 + (uint64_t)(s[i] - '0');
                    scale *= 10;
                }
                i++;
            }
            post = i != fl;
        }
        if (!pre && !post) {
            return false;
        }
        size_t u0 = i;
        while (i < len && s[i] != '.' && !is_digit(s[i])) {
            i++;
        }
        int64_t unit = go_unit(s + u0, i - u0);
        if (unit == 0 || v > (1ULL << 63) / (uint64_t)unit) {
            return false;
        }
        v *= (uint64_t)unit;
        if (f > 0) {
            v += (uint64_t)((double)f * ((double)unit / scale));
            if (v > 1ULL << 63) {
                return false;
            }
        }
        d += v;
        if (d > 1ULL << 63) {
            return false;
        }
    }
    if (!neg && d > (uint64_t)INT64_MAX) {
        return false;
    }
    *ns = neg ? (int64_t)(0 - d) : (int64_t)d;
    return true;
}

/* go-humanize ParseBytes: a number, optional spaces, a unit from its table. */
bool logql_parse_bytes(const char *s, size_t len, uint64_t *out)
{
    static const struct {
        const char *u;
        double mult;
    } units[] = { { "", 1 },
                  { "b", 1 },
                  { "kib", 1024.0 },
                  { "ki", 1024.0 },
                  { "kb", 1e3 },
                  { "k", 1e3 },
                  { "mib", 1048576.0 },
                  { "mi", 1048576.0 },
                  { "mb", 1e6 },
                  { "m", 1e6 },
                  { "gib", 1073741824.0 },
                  { "gi", 1073741824.0 },
                  { "gb", 1e9 },
                  { "g", 1e9 },
                  { "tib", 1099511627776.0 },
                  { "ti", 1099511627776.0 },
                  { "tb", 1e12 },
                  { "t", 1e12 },
                  { "pib", 1125899906842624.0 },
                  { "pi", 1125899906842624.0 },
                  { "pb", 1e15 },
                  { "p", 1e15 },
                  { "eib", 1152921504606846976.0 },
                  { "ei", 1152921504606846976.0 },
                  { "eb", 1e18 },
                  { "e", 1e18 } };
    size_t i = 0;
    while (i < len && (is_digit(s[i]) || s[i] == '.')) {
        i++;
    }
    if (i == 0 || i >= 64) {
        return false;
    }
    char num[64];
    memcpy(num, s, i);
    num[i] = 0;
    char *end = NULL;
    double f = strtod(num, &end);
    if (end != num + i) {
        return false;
    }
    char unit[8];
    size_t ul = len - i;
    if (ul >= sizeof(unit)) {
        return false;
    }
    for (size_t k = 0; k < ul; k++) {
        char c = s[i + k];
        unit[k] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    unit[ul] = 0;
    for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
        if (strcmp(unit, units[k].u) == 0) {
            double v = f * units[k].mult;
            if (!(v < 18446744073709551616.0)) {
                return false;
            }
            *out = (uint64_t)v;
            return true;
        }
    }
    return false;
}

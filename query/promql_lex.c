/* SPDX-License-Identifier: Apache-2.0 */
/*
 * promql_lex: the PromQL lexer, a pure function over the query bytes that
 * yields one token (kind and byte range) per call, mirroring the states of
 * Prometheus 3's lexer so that tokens, error texts and error positions
 * agree: statements; inside braces (names, strings, matcher operators,
 * comments); and just after "[" (lexDurationExpr: numbers, arithmetic,
 * step/range/min/max), which returns to statements after the first
 * number, where one ":" is allowed. Keywords are case-insensitive and
 * "inf"/"nan" lex as numbers. Strings are checked here as Prometheus does
 * (escapes, UTF-8) and unquoted later by promql_unquote. Errors that
 * Prometheus raises just after emitting a token (")" without "(", colons
 * in a duration expression) are positioned after that token, as there.
 */
#include <string.h>
#include <strings.h>

#include "common/str.h"
#include "query/promql_int.h"

#define LEX_EOF (-1)
#define LEX_MSG (-2) /* lex_error: fmt is the whole message */

static const struct {
    const char *word;
    promql_tok_t kind;
} keywords[] = {
    { "and", TOK_LAND },
    { "or", TOK_LOR },
    { "unless", TOK_LUNLESS },
    { "atan2", TOK_ATAN2 },
    { "sum", TOK_SUM },
    { "avg", TOK_AVG },
    { "count", TOK_COUNT },
    { "min", TOK_MIN },
    { "max", TOK_MAX },
    { "group", TOK_GROUP },
    { "stddev", TOK_STDDEV },
    { "stdvar", TOK_STDVAR },
    { "topk", TOK_TOPK },
    { "bottomk", TOK_BOTTOMK },
    { "quantile", TOK_QUANTILE },
    { "count_values", TOK_COUNT_VALUES },
    { "limitk", TOK_LIMITK },
    { "limit_ratio", TOK_LIMIT_RATIO },
    { "bool", TOK_BOOL },
    { "by", TOK_BY },
    { "group_left", TOK_GROUP_LEFT },
    { "group_right", TOK_GROUP_RIGHT },
    { "ignoring", TOK_IGNORING },
    { "offset", TOK_OFFSET },
    { "on", TOK_ON },
    { "without", TOK_WITHOUT },
    { "start", TOK_START },
    { "end", TOK_END },
    { "inf", TOK_NUMBER },
    { "nan", TOK_NUMBER },
};

static bool is_alpha(int c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(int c)
{
    return is_alpha(c) || is_digit(c);
}

static bool is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int32_t promql_utf8_decode(const char *p, size_t n, size_t *width)
{
    const unsigned char *s = (const unsigned char *)p;
    *width = 1;
    if (s[0] < 0x80) {
        return s[0];
    }
    size_t need = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (need == 0 || s[0] > 0xF4 || n < need || !str_utf8_valid(p, need)) {
        return 0xFFFD;
    }
    int32_t r = s[0] & (0x7F >> need);
    for (size_t i = 1; i < need; i++) {
        r = (r << 6) | (s[i] & 0x3F);
    }
    *width = need;
    return r;
}

void promql_lex_init(promql_lexer_t *l, const char *q, size_t len)
{
    memset(l, 0, sizeof(*l));
    l->q = q;
    l->len = len;
}

/* Next rune (advancing), LEX_EOF at the end; *w gets its width. */
static int32_t lex_next(promql_lexer_t *l, size_t *w)
{
    if (l->pos >= l->len) {
        *w = 0;
        return LEX_EOF;
    }
    int32_t r = promql_utf8_decode(l->q + l->pos, l->len - l->pos, w);
    l->pos += *w;
    return r;
}

static int lex_peek(const promql_lexer_t *l)
{
    return l->pos < l->len ? (unsigned char)l->q[l->pos] : LEX_EOF;
}

static bool lex_accept(promql_lexer_t *l, const char *set)
{
    int c = lex_peek(l);
    if (c != LEX_EOF && c != 0 && strchr(set, c) != NULL) {
        l->pos++;
        return true;
    }
    return false;
}

static promql_token_t lex_tok(promql_lexer_t *l, promql_tok_t kind, size_t start)
{
    return (promql_token_t){ kind, (uint32_t)start, (uint32_t)(l->pos - start), NULL };
}

static promql_token_t lex_error(promql_lexer_t *l, size_t start, const char *fmt, int32_t r)
{
    buf_t b = { 0 };
    if (r == LEX_MSG) {
        buf_puts(&b, fmt);
    } else {
        const char *pct = strstr(fmt, "%q");
        buf_append(&b, fmt, (size_t)(pct - fmt));
        promql_quote_rune(r, &b);
        buf_puts(&b, pct + 2);
    }
    size_t n = b.len < sizeof(l->errbuf) - 1 ? b.len : sizeof(l->errbuf) - 1;
    memcpy(l->errbuf, b.data, n);
    l->errbuf[n] = '\0';
    buf_fini(&b);
    l->done = true;
    return (promql_token_t){ TOK_ERROR, (uint32_t)start, 0, l->errbuf };
}

static bool lex_is(const promql_lexer_t *l, const char *set)
{
    int c = lex_peek(l);
    return c != LEX_EOF && c != 0 && strchr(set, c) != NULL;
}

/* Prometheus' scanNumber: [0x][.][d][d._eE]* with its placement rules for
 * "." "e" "_"; true when a number ends here (next is not alphanumeric). */
static bool lex_scan_number(promql_lexer_t *l)
{
    size_t initial = l->pos;
    const char *digits = "0123456789";
    if (lex_accept(l, "0") && lex_accept(l, "xX")) {
        lex_accept(l, "_");
        digits = "0123456789abcdefABCDEF";
    }
    lex_accept(l, ".");
    lex_accept(l, digits);
    bool dot = false;
    bool exp = false;
    while (lex_is(l, digits) || lex_is(l, "._eE")) {
        if ((lex_is(l, ".") && dot) || (lex_is(l, "eE") && exp)) {
            l->pos++;
            return false;
        }
        if (lex_accept(l, ".")) {
            dot = true;
            if (lex_accept(l, "_.") || strlen(digits) > 10) {
                return false;
            }
        } else if (lex_accept(l, "eE")) {
            exp = true;
            lex_accept(l, "+-");
            if (lex_accept(l, "._eE") || lex_peek(l) == LEX_EOF) {
                return false;
            }
        } else if (lex_accept(l, "_")) {
            if (lex_accept(l, "._eE") || lex_peek(l) == LEX_EOF) {
                return false;
            }
        } else {
            while (lex_accept(l, digits)) {
            }
        }
    }
    return l->pos != initial && !is_alnum(lex_peek(l));
}

static bool lex_remaining_duration(promql_lexer_t *l)
{
    if (!lex_accept(l, "smhdwy")) {
        return false;
    }
    lex_accept(l, "s");
    while (lex_accept(l, "0123456789")) {
        while (lex_accept(l, "0123456789")) {
        }
        if (!lex_accept(l, "smhdw")) {
            return false;
        }
        lex_accept(l, "s");
    }
    if (l->pos < l->len && is_alnum((unsigned char)l->q[l->pos])) {
        l->pos++;
        return false;
    }
    return true;
}

static promql_token_t lex_number(promql_lexer_t *l, size_t start)
{
    if (lex_scan_number(l)) {
        return lex_tok(l, TOK_NUMBER, start);
    }
    if (lex_remaining_duration(l)) {
        return lex_tok(l, TOK_DURATION, start);
    }
    buf_t b = { 0 };
    promql_quote(l->q + start, l->pos - start, 0, &b);
    promql_token_t t = lex_error(l, start, "bad number or duration syntax: ", LEX_MSG);
    size_t used = strlen(l->errbuf);
    size_t n = b.len < sizeof(l->errbuf) - 1 - used ? b.len : sizeof(l->errbuf) - 1 - used;
    memcpy(l->errbuf + used, b.data, n);
    l->errbuf[used + n] = '\0';
    buf_fini(&b);
    return t;
}

/* Go's %#U: "U+0071 'q'", the rune itself only when printable. */
static void fmt_unicode(int32_t r, buf_t *b)
{
    buf_printf(b, "U+%04X", (unsigned)r);
    if (r >= 0x20 && r != 0x7F && !(r >= 0x80 && r < 0xA0)) {
        buf_puts(b, " '");
        size_t start = b->len;
        promql_quote_rune(r, b);
        /* drop QuoteRune's quotes and escaping: %#U prints the rune raw */
        size_t n = b->len - start - 2;
        const uint8_t *body = b->data + start + 1;
        if (n == 2 && body[0] == '\\') {
            body++;
            n = 1;
        }
        memmove(b->data + start, body, n);
        b->len = start + n;
        buf_putc(b, '\'');
    }
}

/* Check one escape after the backslash as Prometheus' lexEscape does.
 * Returns NULL when fine, else the error text (into l->errbuf). */
static const char *lex_escape(promql_lexer_t *l, int32_t quote)
{
    size_t w = 0;
    int32_t ch = lex_next(l, &w);
    int n = 0;
    uint32_t base = 16;
    uint32_t max = 0x10FFFF;
    buf_t b = { 0 };
    if (ch == 'a' || ch == 'b' || ch == 'f' || ch == 'n' || ch == 'r' || ch == 't' || ch == 'v' || ch == '\\' ||
        ch == quote) {
        return NULL;
    }
    if (ch >= '0' && ch <= '7') {
        n = 3;
        base = 8;
        max = 255;
    } else if (ch == 'x' || ch == 'u' || ch == 'U') {
        n = ch == 'x' ? 2 : ch == 'u' ? 4 : 8;
        max = ch == 'x' ? 255 : 0x10FFFF;
        ch = lex_next(l, &w);
    } else if (ch == LEX_EOF) {
        buf_puts(&b, "escape sequence not terminated");
    } else {
        buf_puts(&b, "unknown escape sequence ");
        fmt_unicode(ch, &b);
    }
    uint32_t x = 0;
    while (b.len == 0 && n > 0) {
        uint32_t d = (uint32_t)str_hex_digit(ch);
        if (d >= base && ch == LEX_EOF) {
            buf_puts(&b, "escape sequence not terminated");
        } else if (d >= base) {
            buf_puts(&b, "illegal character ");
            fmt_unicode(ch, &b);
            buf_puts(&b, " in escape sequence");
        } else {
            x = x * base + d;
            n--;
            if (n > 0) {
                ch = lex_next(l, &w);
            }
        }
    }
    if (b.len == 0 && (x > max || (x >= 0xD800 && x < 0xE000))) {
        buf_puts(&b, "escape sequence is an invalid Unicode code point");
    }
    if (b.len == 0) {
        return NULL;
    }
    size_t len = b.len < sizeof(l->errbuf) - 1 ? b.len : sizeof(l->errbuf) - 1;
    memcpy(l->errbuf, b.data, len);
    l->errbuf[len] = '\0';
    buf_fini(&b);
    return l->errbuf;
}

static promql_token_t lex_string(promql_lexer_t *l, size_t start, int32_t quote)
{
    for (;;) {
        size_t w = 0;
        int32_t r = lex_next(l, &w);
        if (r == '\\' && quote != '`') {
            if (lex_escape(l, quote) != NULL) {
                l->done = true;
                return (promql_token_t){ TOK_ERROR, (uint32_t)start, 0, l->errbuf };
            }
        } else if (r == 0xFFFD) {
            return lex_error(l, start, "invalid UTF-8 rune", LEX_MSG);
        } else if (r == LEX_EOF || (r == '\n' && quote != '`')) {
            return lex_error(l, start, quote == '`' ? "unterminated raw string" : "unterminated quoted string",
                             LEX_MSG);
        } else if (r == quote) {
            return lex_tok(l, TOK_STRING, start);
        }
    }
}

static promql_token_t lex_word(promql_lexer_t *l, size_t start, bool colons)
{
    while (l->pos < l->len && (is_alnum((unsigned char)l->q[l->pos]) || (colons && l->q[l->pos] == ':'))) {
        l->pos++;
    }
    size_t n = l->pos - start;
    if (!colons) {
        return lex_tok(l, TOK_IDENT, start);
    }
    for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
        if (strlen(keywords[i].word) == n && strncasecmp(keywords[i].word, l->q + start, n) == 0) {
            return lex_tok(l, keywords[i].kind, start);
        }
    }
    return lex_tok(l, memchr(l->q + start, ':', n) != NULL ? TOK_METRIC_IDENT : TOK_IDENT, start);
}

/* Prometheus' scanDurationKeyword: step, range, min, max. */
static bool lex_duration_keyword(promql_lexer_t *l, size_t start, promql_token_t *out)
{
    static const struct {
        const char *word;
        promql_tok_t kind;
    } kw[] = { { "step", TOK_STEP }, { "range", TOK_RANGE }, { "min", TOK_MIN }, { "max", TOK_MAX } };
    while (l->pos < l->len && is_alpha((unsigned char)l->q[l->pos])) {
        l->pos++;
    }
    for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++) {
        if (strlen(kw[i].word) == l->pos - start && strncasecmp(kw[i].word, l->q + start, l->pos - start) == 0) {
            *out = lex_tok(l, kw[i].kind, start);
            return true;
        }
    }
    return false;
}

static promql_token_t lex_braces(promql_lexer_t *l, size_t start, int32_t r)
{
    if (r == LEX_EOF) {
        return lex_error(l, start, "unexpected end of input inside braces", LEX_MSG);
    }
    if (is_alpha(r)) {
        return lex_word(l, start, false);
    }
    switch (r) {
    case ',':
        return lex_tok(l, TOK_COMMA, start);
    case '"':
    case '\'':
    case '`':
        return lex_string(l, start, r);
    case '=':
        return lex_accept(l, "~") ? lex_tok(l, TOK_EQL_REGEX, start) : lex_tok(l, TOK_EQL, start);
    case '!': {
        size_t w = 0;
        int32_t nr = lex_next(l, &w);
        if (nr == '~') {
            return lex_tok(l, TOK_NEQ_REGEX, start);
        }
        if (nr == '=') {
            return lex_tok(l, TOK_NEQ, start);
        }
        return lex_error(l, start, "unexpected character after '!' inside braces: %q", nr);
    }
    case '{':
        return lex_error(l, start, "unexpected left brace %q", r);
    case '}':
        l->brace_open = false;
        return lex_tok(l, TOK_RBRACE, start);
    default:
        return lex_error(l, start, "unexpected character inside braces: %q", r);
    }
}

/* The state right after "[" (Prometheus' lexDurationExpr). */

/* '(' or ')', keeping the nesting depth. */
static promql_token_t lex_paren(promql_lexer_t *l, size_t start, int32_t r)
{
    if (r == '(') {
        l->paren_depth++;
        return lex_tok(l, TOK_LPAREN, start);
    }
    if (--l->paren_depth < 0) {
        return lex_error(l, l->pos, "unexpected right parenthesis %q", r);
    }
    return lex_tok(l, TOK_RPAREN, start);
}
static promql_token_t lex_duration_expr(promql_lexer_t *l, size_t start, int32_t r)
{
    static const char ops[] = "+-*/%^,";
    static const promql_tok_t op_kinds[] = { TOK_ADD, TOK_SUB, TOK_MUL, TOK_DIV, TOK_MOD, TOK_POW, TOK_COMMA };
    const char *op = r > 0 && r < 0x80 ? strchr(ops, r) : NULL;
    promql_token_t t;
    if (op != NULL) {
        return lex_tok(l, op_kinds[op - ops], start);
    }
    switch (r) {
    case LEX_EOF:
        return lex_error(l, start, "unexpected end of input in duration expression", LEX_MSG);
    case ']':
        l->bracket_open = false;
        l->got_colon = false;
        l->dur_state = false;
        return lex_tok(l, TOK_RBRACKET, start);
    case ':':
        if (!l->got_duration) {
            return lex_error(l, l->pos, "unexpected colon before duration in duration expression", LEX_MSG);
        }
        if (l->got_colon) {
            return lex_error(l, l->pos, "unexpected repeated colon in duration expression", LEX_MSG);
        }
        l->got_colon = true;
        return lex_tok(l, TOK_COLON, start);
    case '(':
    case ')':
        return lex_paren(l, start, r);
    default:
        break;
    }
    if ((r == 's' || r == 'S' || r == 'm' || r == 'M' || r == 'r' || r == 'R') && lex_duration_keyword(l, start, &t)) {
        return t;
    }
    if (is_digit(r) || (r == '.' && is_digit(lex_peek(l)))) {
        l->got_duration = true;
        l->dur_state = false;
        l->pos = start;
        return lex_number(l, start);
    }
    return lex_error(l, start, "unexpected character in duration expression: %q", r);
}

static promql_token_t lex_two(promql_lexer_t *l, size_t start, int32_t r)
{
    switch (r) {
    case '=':
        if (lex_accept(l, "=")) {
            return lex_tok(l, TOK_EQLC, start);
        }
        if (lex_peek(l) == '~') {
            return lex_error(l, start, "unexpected character after '=': %q", '~');
        }
        return lex_tok(l, TOK_EQL, start);
    case '!': {
        if (lex_accept(l, "=")) {
            return lex_tok(l, TOK_NEQ, start);
        }
        size_t w = 0;
        int32_t nr = lex_next(l, &w);
        return lex_error(l, start, "unexpected character after '!': %q", nr);
    }
    case '<':
        return lex_accept(l, "=") ? lex_tok(l, TOK_LTE, start) : lex_tok(l, TOK_LSS, start);
    default:
        return lex_accept(l, "=") ? lex_tok(l, TOK_GTE, start) : lex_tok(l, TOK_GTR, start);
    }
}

static promql_token_t lex_punct(promql_lexer_t *l, size_t start, int32_t r)
{
    switch (r) {
    case '(':
    case ')':
        return lex_paren(l, start, r);
    case '{':
        l->brace_open = true;
        return lex_tok(l, TOK_LBRACE, start);
    case '[':
        if (l->bracket_open) {
            return lex_error(l, start, "unexpected left bracket %q", r);
        }
        l->got_colon = false;
        l->bracket_open = true;
        l->dur_state = true;
        return lex_tok(l, TOK_LBRACKET, start);
    case ']':
        if (!l->bracket_open) {
            return lex_error(l, start, "unexpected right bracket %q", r);
        }
        l->bracket_open = false;
        return lex_tok(l, TOK_RBRACKET, start);
    case '@':
        return lex_tok(l, TOK_AT, start);
    default:
        return lex_error(l, start, "unexpected character: %q", r);
    }
}

/* A letter or ":" while a bracket is open (after its first number). */
static promql_token_t lex_bracket_word(promql_lexer_t *l, size_t start, int32_t r)
{
    promql_token_t t;
    if (r == ':') {
        if (l->got_colon) {
            return lex_error(l, start, "unexpected colon %q", r);
        }
        l->got_colon = true;
        return lex_accept(l, ":") ? lex_tok(l, TOK_DCOLON, start) : lex_tok(l, TOK_COLON, start);
    }
    if ((r == 's' || r == 'S' || r == 'm' || r == 'M') && lex_duration_keyword(l, start, &t)) {
        return t;
    }
    return lex_error(l, start, "unexpected character: %q, expected ':'", r);
}

static promql_token_t lex_statement(promql_lexer_t *l, size_t start, int32_t r)
{
    static const char ops[] = ",*/%+-^";
    static const promql_tok_t op_kinds[] = { TOK_COMMA, TOK_MUL, TOK_DIV, TOK_MOD, TOK_ADD, TOK_SUB, TOK_POW };
    if (r == LEX_EOF) {
        if (l->paren_depth != 0) {
            return lex_error(l, start, "unclosed left parenthesis", LEX_MSG);
        }
        if (l->bracket_open) {
            return lex_error(l, start, "unclosed left bracket", LEX_MSG);
        }
        l->done = true;
        return lex_tok(l, TOK_EOF, start);
    }
    const char *op = r > 0 && r < 0x80 ? strchr(ops, r) : NULL;
    if (op != NULL) {
        return lex_tok(l, op_kinds[op - ops], start);
    }
    if (r == '=' || r == '!' || r == '<' || r == '>') {
        return lex_two(l, start, r);
    }
    if (is_digit(r) || (r == '.' && is_digit(lex_peek(l)))) {
        l->pos = start;
        return lex_number(l, start);
    }
    if (r == '"' || r == '\'' || r == '`') {
        return lex_string(l, start, r);
    }
    if (is_alpha(r) || r == ':') {
        return l->bracket_open ? lex_bracket_word(l, start, r) : lex_word(l, start, true);
    }
    return lex_punct(l, start, r);
}

promql_token_t promql_lex_next(promql_lexer_t *l)
{
    if (l->done) {
        return (promql_token_t){ TOK_EOF, (uint32_t)l->len, 0, NULL };
    }
    for (;;) {
        while (l->pos < l->len && is_space((unsigned char)l->q[l->pos])) {
            l->pos++;
        }
        if (l->dur_state || l->pos >= l->len || l->q[l->pos] != '#') {
            break;
        }
        while (l->pos < l->len && l->q[l->pos] != '\n' && l->q[l->pos] != '\r') {
            l->pos++;
        }
    }
    size_t start = l->pos;
    size_t w = 0;
    int32_t r = lex_next(l, &w);
    if (l->brace_open) {
        return lex_braces(l, start, r);
    }
    if (l->dur_state) {
        return lex_duration_expr(l, start, r);
    }
    return lex_statement(l, start, r);
}

bool promql_tok_is_aggregator(promql_tok_t k)
{
    return k >= TOK_SUM && k <= TOK_LIMIT_RATIO;
}

bool promql_tok_is_keyword(promql_tok_t k)
{
    return k >= TOK_BOOL && k <= TOK_WITHOUT;
}

bool promql_tok_is_operator(promql_tok_t k)
{
    return k >= TOK_ADD && k <= TOK_AT;
}

void promql_tok_desc(const char *q, promql_token_t t, buf_t *out)
{
    const char *text = q + t.pos;
    static const char *const kind_desc[] = {
        [TOK_IDENT] = "identifier ", [TOK_METRIC_IDENT] = "metric identifier ",
        [TOK_NUMBER] = "number ",    [TOK_DURATION] = "duration ",
        [TOK_STRING] = "string ",
    };
    if (t.kind == TOK_EOF) {
        buf_puts(out, "end of input");
    } else if (t.kind == TOK_ERROR) {
        buf_puts(out, t.err);
    } else if (promql_tok_is_operator(t.kind) || promql_tok_is_aggregator(t.kind) || promql_tok_is_keyword(t.kind)) {
        const char *tag = promql_tok_is_operator(t.kind) ? "<op:" : promql_tok_is_aggregator(t.kind) ? "<aggr:" : "<";
        buf_puts(out, tag);
        buf_append(out, text, t.len);
        buf_putc(out, '>');
    } else if (t.kind >= TOK_LPAREN || t.len <= 10) {
        /* punctuation and start/end/step/range: Item.String() alone */
        if (t.kind < TOK_LPAREN) {
            buf_puts(out, kind_desc[t.kind]);
        }
        promql_quote(text, t.len, 0, out);
    } else {
        buf_puts(out, kind_desc[t.kind]);
        bool ident = t.kind == TOK_IDENT || t.kind == TOK_METRIC_IDENT;
        promql_quote(text, t.len, ident ? 0 : 10, out);
        buf_puts(out, ident ? "" : "...");
    }
}

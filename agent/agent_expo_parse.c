/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent_expo_parse: the Prometheus text format 0.0.4 and OpenMetrics 1.0
 * text into a sink, accepted, refused and turned into samples exactly as
 * Prometheus 2.42 scrapes them (textparse.PromParser / OpenMetricsParser
 * plus the scrape loop's label checks).
 *
 * Core idea: a hand-written lexer speaks the reference lexers' regular
 * languages state by state (golex DFAs: longest match, no backtracking,
 * end of input read as a 0 byte, NUL bytes stepped over in label values,
 * help text and comments; the text format sees a virtual '\n' after the
 * last byte), so their quirks carry over: "a{x="1" y="2"} 3" needs no
 * comma, "# HELP x-y" documents x as "y", a NUL at a line start ends a
 * text exposition. A recursive-descent layer mirrors the parsers' Next().
 * Each sample then gets the scrape loop's checks: a label name with an
 * empty value is dropped in all its occurrences, the metric name must be
 * valid (leading blanks are part of it), no name may repeat.
 *
 * Families: HELP/TYPE/UNIT name a family (found or added); the last line
 * wins, as in Prometheus' metadata cache, for families this call added. A
 * sample joins the family of the last metadata line when named like it or
 * like a child of its type (foo_bucket of histogram foo, foo_total of
 * counter foo); else the family of its own name. Work: O(len); labels go
 * to a fixed array (at most EXPO_PARSE_MAX_LABELS, a bound Prometheus
 * lacks), unescaped values to a stack buffer or one heap buffer per call.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"
#include "common/mem.h"

#define EXPO_PARSE_MAX_LABELS 256
#define EXPO_PARSE_NORMAL_NAN 0x7ff8000000000001ULL /* Prometheus' value.NormalNaN */

/* Lexer start conditions, as in the reference lexers. */
typedef enum expo_parse_state {
    XS_INIT,
    XS_COMMENT,
    XS_META1,
    XS_META2,
    XS_LABELS,
    XS_LVALUE,
    XS_VALUE,
    XS_TIMESTAMP,
    XS_EXEMPLAR,
    XS_EVALUE,
    XS_ETIMESTAMP,
} expo_parse_state_t;

typedef enum expo_parse_tok {
    XT_INVALID = -1,
    XT_EOF = 0,
    XT_LINEBREAK,
    XT_WS,
    XT_HELP,
    XT_TYPE,
    XT_UNIT,
    XT_EOFWORD,
    XT_TEXT,
    XT_COMMENT,
    XT_MNAME,
    XT_BOPEN,
    XT_BCLOSE,
    XT_LNAME,
    XT_LVALUE,
    XT_COMMA,
    XT_EQUAL,
    XT_TIMESTAMP,
    XT_VALUE,
} expo_parse_tok_t;

static const char *const expo_parse_tok_names[] = {
    [XT_EOF] = "EOF",         [XT_LINEBREAK] = "LINEBREAK", [XT_WS] = "WHITESPACE",
    [XT_HELP] = "HELP",       [XT_TYPE] = "TYPE",           [XT_UNIT] = "UNIT",
    [XT_EOFWORD] = "EOFWORD", [XT_TEXT] = "TEXT",           [XT_COMMENT] = "COMMENT",
    [XT_MNAME] = "MNAME",     [XT_BOPEN] = "BOPEN",         [XT_BCLOSE] = "BCLOSE",
    [XT_LNAME] = "LNAME",     [XT_LVALUE] = "LVALUE",       [XT_COMMA] = "COMMA",
    [XT_EQUAL] = "EQUAL",     [XT_TIMESTAMP] = "TIMESTAMP", [XT_VALUE] = "VALUE",
};

typedef struct expo_parse_lex {
    const char *p;
    size_t len;      /* bytes of input */
    size_t vlen;     /* len, plus 1 in the text format (a virtual '\n') */
    size_t i, start; /* position; start of the last token */
    expo_parse_state_t state;
} expo_parse_lex_t;

/* A label name and its index in ls plus 1 (0: the metric's own
 * __name__), sorted to find repeated names. */
typedef struct expo_parse_lref {
    str_t name;
    uint32_t k;
} expo_parse_lref_t;

typedef struct expo_parse {
    expo_parse_lex_t lx;
    bool om;
    msink_t *s;
    expo_error_t *err;
    size_t fam_base; /* families below this index predate the call */
    bool have_cur;   /* cur_fam: the family of the last metadata line */
    uint32_t cur_fam;
    size_t line_start;
    size_t nl; /* labels of the sample being parsed (values raw) */
    label_t ls[EXPO_PARSE_MAX_LABELS];
    size_t lpos[EXPO_PARSE_MAX_LABELS];                /* where each label name starts */
    expo_parse_lref_t refs[EXPO_PARSE_MAX_LABELS + 1]; /* label check scratch */
    char small[2048];                                  /* unescaped values, when they fit */
    buf_t big;                                         /* unescaped values otherwise */
} expo_parse_t;

/* ---- errors ------------------------------------------------------------ */

/* s as a Go %q-like quoted string, cut to 48 bytes, into dst. */
static const char *expo_parse_quote(char *dst, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    dst[o++] = '"';
    for (size_t k = 0; k < n && o + 8 < cap; k++) {
        unsigned char c = (unsigned char)s[k];
        if (k == 48) {
            o += (size_t)snprintf(dst + o, cap - o, "...");
            break;
        }
        if (c == '"' || c == '\\') {
            dst[o++] = '\\';
            dst[o++] = (char)c;
        } else if (c != 0 && strchr("\a\b\f\n\r\t\v", c) != NULL) {
            dst[o++] = '\\';
            dst[o++] = "abfnrtv"[strchr("\a\b\f\n\r\t\v", c) - "\a\b\f\n\r\t\v"];
        } else if (c < 0x20 || c >= 0x7f) {
            o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", c);
        } else {
            dst[o++] = (char)c;
        }
    }
    dst[o++] = '"';
    dst[o] = '\0';
    return dst;
}

/* Record an error at byte offset pos (its line and column) and return -1. */
__attribute__((format(printf, 3, 4))) static int expo_parse_fail(expo_parse_t *x, size_t pos, const char *fmt, ...)
{
    if (pos > x->lx.len) {
        pos = x->lx.len;
    }
    size_t line = 1, bol = 0;
    for (size_t k = 0; k < pos; k++) {
        if (x->lx.p[k] == '\n') {
            line++;
            bol = k + 1;
        }
    }
    x->err->line = line;
    x->err->col = pos - bol + 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->err->msg, sizeof(x->err->msg), fmt, ap);
    va_end(ap);
    return -1;
}

static const char *expo_parse_tok_name(expo_parse_tok_t t)
{
    return t == XT_INVALID ? "INVALID" : expo_parse_tok_names[t];
}

/* "<what>, got "<TOKEN>"" at the offending token. */
static int expo_parse_unexpected(expo_parse_t *x, const char *what, expo_parse_tok_t t)
{
    return expo_parse_fail(x, x->lx.start, "%s, got \"%s\"", what, expo_parse_tok_name(t));
}

/* ---- lexer ------------------------------------------------------------- */

static bool expo_parse_is_ws(int c)
{
    return c == ' ' || c == '\t';
}

static bool expo_parse_is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* [a-zA-Z_] */
static bool expo_parse_is_l(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* [a-zA-Z_:] */
static bool expo_parse_is_m(int c)
{
    return expo_parse_is_l(c) || c == ':';
}

/* The byte at i: input, then the text format's virtual '\n', then 0. */
static int expo_parse_at(const expo_parse_lex_t *lx, size_t i)
{
    if (i < lx->len) {
        return (unsigned char)lx->p[i];
    }
    return i < lx->vlen ? '\n' : 0;
}

/* Advance one byte as the reference lexers do: past the end reads 0; NUL
 * bytes are stepped over inside label values, help text and comments. */
static int expo_parse_next(expo_parse_lex_t *lx)
{
    if (lx->i < lx->vlen) {
        lx->i++;
    }
    if (lx->state == XS_LVALUE || lx->state == XS_META2 || lx->state == XS_COMMENT) {
        while (lx->i < lx->len && lx->p[lx->i] == 0) {
            lx->i++;
        }
    }
    return expo_parse_at(lx, lx->i);
}

/* Consume [a-zA-Z_:0-9]* (metric) or [a-zA-Z_0-9]* (label) after c. */
static void expo_parse_scan_name(expo_parse_lex_t *lx, bool metric)
{
    int c = expo_parse_next(lx);
    while (expo_parse_is_digit(c) || (metric ? expo_parse_is_m(c) : expo_parse_is_l(c))) {
        c = expo_parse_next(lx);
    }
}

static expo_parse_tok_t expo_parse_scan_ws(expo_parse_lex_t *lx)
{
    while (expo_parse_is_ws(expo_parse_next(lx))) {
    }
    return XT_WS;
}

/* A quoted label value from its opening '"'; to_state after it. The text
 * format allows a raw newline inside, OpenMetrics does not. */
static expo_parse_tok_t expo_parse_scan_quoted(expo_parse_lex_t *lx, bool nl_ok, expo_parse_state_t to_state)
{
    int c = expo_parse_next(lx);
    for (;;) {
        if (c == '"') {
            expo_parse_next(lx);
            lx->state = to_state;
            return XT_LVALUE;
        }
        if (c == '\\') {
            c = expo_parse_next(lx);
            if (c == 0 || c == '\n') {
                return XT_INVALID;
            }
        } else if (c == 0 || (c == '\n' && !nl_ok)) {
            return XT_INVALID;
        }
        c = expo_parse_next(lx);
    }
}

/* Inside braces (sample labels, or OpenMetrics exemplar labels when ex);
 * a comma keeps the state. */
static expo_parse_tok_t expo_parse_scan_labels(expo_parse_lex_t *lx, int c, bool ex)
{
    if (expo_parse_is_l(c)) {
        expo_parse_scan_name(lx, false);
        return XT_LNAME;
    }
    expo_parse_tok_t t = c == '}' ? XT_BCLOSE : c == '=' ? XT_EQUAL : c == ',' ? XT_COMMA : XT_INVALID;
    if (t == XT_INVALID) {
        return t;
    }
    expo_parse_next(lx);
    if (t == XT_BCLOSE) {
        lx->state = ex ? XS_EVALUE : XS_VALUE;
    } else if (t == XT_EQUAL) {
        lx->state = ex ? XS_EVALUE : XS_LVALUE;
    }
    return t;
}

/* A metric name starting at c (a sample's, or a metadata line's);
 * to_state after it. */
static expo_parse_tok_t expo_parse_scan_mname(expo_parse_lex_t *lx, int c, expo_parse_state_t to_state)
{
    if (!expo_parse_is_m(c)) {
        return XT_INVALID;
    }
    expo_parse_scan_name(lx, true);
    lx->state = to_state;
    return XT_MNAME;
}

/* The '\n' at the lexer's position ends the line. */
static expo_parse_tok_t expo_parse_scan_linebreak(expo_parse_lex_t *lx)
{
    expo_parse_next(lx);
    lx->state = XS_INIT;
    return XT_LINEBREAK;
}

/* The '{' at the lexer's position opens a sample's labels. */
static expo_parse_tok_t expo_parse_scan_bopen(expo_parse_lex_t *lx)
{
    expo_parse_next(lx);
    lx->state = XS_LABELS;
    return XT_BOPEN;
}

/* The rest of a comment line: up to '\n' (COMMENT) or a 0 byte (EOF). */
static expo_parse_tok_t expo_parse_scan_comment(expo_parse_lex_t *lx)
{
    int c = expo_parse_at(lx, lx->i);
    while (c != 0 && c != '\n') {
        c = expo_parse_next(lx);
    }
    if (c == 0) {
        return XT_EOF;
    }
    lx->state = XS_INIT;
    return XT_COMMENT;
}

/* Text format, after "#" and blanks: HELP or TYPE and blanks, else the
 * line is a comment. */
static expo_parse_tok_t expo_parse_text_comment(expo_parse_lex_t *lx, int c)
{
    const char *kw = c == 'H' ? "HELP" : c == 'T' ? "TYPE" : NULL;
    if (kw == NULL) {
        return expo_parse_scan_comment(lx);
    }
    size_t k = 1;
    c = expo_parse_next(lx);
    while (k < 4 && c == kw[k]) {
        c = expo_parse_next(lx);
        k++;
    }
    if (k < 4 || !expo_parse_is_ws(c)) {
        return expo_parse_scan_comment(lx);
    }
    while (expo_parse_is_ws(c)) {
        c = expo_parse_next(lx);
    }
    lx->state = XS_META1;
    return kw[0] == 'H' ? XT_HELP : XT_TYPE;
}

static expo_parse_tok_t expo_parse_text_init(expo_parse_lex_t *lx, int c)
{
    if (c == 0) {
        expo_parse_next(lx);
        return XT_EOF;
    }
    if (c == '\n') {
        expo_parse_next(lx);
        return XT_LINEBREAK;
    }
    if (expo_parse_is_ws(c)) {
        return expo_parse_scan_ws(lx);
    }
    if (c == '#') {
        c = expo_parse_next(lx);
        if (!expo_parse_is_ws(c)) {
            return expo_parse_scan_comment(lx);
        }
        while (expo_parse_is_ws(c)) {
            c = expo_parse_next(lx);
        }
        lx->state = XS_COMMENT;
        return expo_parse_text_comment(lx, c);
    }
    return expo_parse_scan_mname(lx, c, XS_VALUE);
}

/* Text format, after a metadata name: blanks alone, or the text up to the
 * line's end (possibly empty; its first byte is dropped by the parser). */
static expo_parse_tok_t expo_parse_text_meta2(expo_parse_lex_t *lx, int c)
{
    if (expo_parse_is_ws(c)) {
        do {
            c = expo_parse_next(lx);
        } while (expo_parse_is_ws(c));
        if (c == 0 || c == '\n') {
            return XT_WS;
        }
    }
    while (c != 0 && c != '\n') {
        c = expo_parse_next(lx);
    }
    lx->state = XS_INIT;
    return XT_TEXT;
}

/* Text format, after a metric name or '}': labels or the value. */
static expo_parse_tok_t expo_parse_text_value(expo_parse_lex_t *lx, int c)
{
    if (c == '{') {
        return expo_parse_scan_bopen(lx);
    }
    if (c == 0 || c == '\n') {
        return XT_INVALID;
    }
    while (c != 0 && c != '\n' && c != '{' && !expo_parse_is_ws(c)) {
        c = expo_parse_next(lx);
    }
    lx->state = XS_TIMESTAMP;
    return XT_VALUE;
}

/* One token of the text format (the reference promlexer's language). */
static expo_parse_tok_t expo_parse_lex_text(expo_parse_lex_t *lx, int c)
{
    switch (lx->state) {
    case XS_INIT:
        return expo_parse_text_init(lx, c);
    case XS_META2:
        return expo_parse_text_meta2(lx, c);
    default:
        break;
    }
    if (expo_parse_is_ws(c)) {
        return expo_parse_scan_ws(lx);
    }
    switch (lx->state) {
    case XS_COMMENT:
        return expo_parse_text_comment(lx, c);
    case XS_META1:
        return expo_parse_scan_mname(lx, c, XS_META2);
    case XS_LABELS:
        return expo_parse_scan_labels(lx, c, false);
    case XS_LVALUE:
        return c == '"' ? expo_parse_scan_quoted(lx, true, XS_LABELS) : XT_INVALID;
    case XS_VALUE:
        return expo_parse_text_value(lx, c);
    case XS_TIMESTAMP:
        if (c == '\n') {
            return expo_parse_scan_linebreak(lx);
        }
        if (!expo_parse_is_digit(c)) {
            return XT_INVALID;
        }
        while (expo_parse_is_digit(expo_parse_next(lx))) {
        }
        return XT_TIMESTAMP;
    default:
        return XT_INVALID;
    }
}

/* OpenMetrics: ' ' then one or more bytes other than ' ', '\n' (VALUE or
 * TIMESTAMP per tok), else INVALID. */
static expo_parse_tok_t expo_parse_om_spaced(expo_parse_lex_t *lx, int c, expo_parse_tok_t tok)
{
    if (c != ' ') {
        return XT_INVALID;
    }
    c = expo_parse_next(lx);
    if (c == 0 || c == ' ' || c == '\n') {
        return XT_INVALID;
    }
    while (c != 0 && c != ' ' && c != '\n') {
        c = expo_parse_next(lx);
    }
    return tok;
}

typedef struct expo_parse_kw {
    const char *kw;
    expo_parse_tok_t tok;
} expo_parse_kw_t;

static const expo_parse_kw_t expo_parse_om_kws[] = {
    { "HELP ", XT_HELP },
    { "TYPE ", XT_TYPE },
    { "UNIT ", XT_UNIT },
    { "EOF", XT_EOFWORD },
};

/* OpenMetrics, after "# ": HELP, TYPE, UNIT (each with one space) or EOF
 * (and an optional '\n'). */
static expo_parse_tok_t expo_parse_om_comment(expo_parse_lex_t *lx, int c)
{
    for (size_t k = 0; k < sizeof(expo_parse_om_kws) / sizeof(expo_parse_om_kws[0]); k++) {
        const expo_parse_kw_t *kw = &expo_parse_om_kws[k];
        if (c != kw->kw[0]) {
            continue;
        }
        for (size_t j = 1; kw->kw[j] != '\0'; j++) {
            if (expo_parse_next(lx) != kw->kw[j]) {
                return XT_INVALID;
            }
        }
        c = expo_parse_next(lx);
        if (kw->tok == XT_EOFWORD) {
            if (c == '\n') {
                expo_parse_next(lx);
            }
            lx->state = XS_INIT;
        } else {
            lx->state = XS_META1;
        }
        return kw->tok;
    }
    return XT_INVALID;
}

/* OpenMetrics, after a sample's value: timestamp, exemplar, line end. */
static expo_parse_tok_t expo_parse_om_timestamp(expo_parse_lex_t *lx, int c)
{
    if (c == '\n') {
        return expo_parse_scan_linebreak(lx);
    }
    if (c != ' ') {
        return XT_INVALID;
    }
    c = expo_parse_next(lx);
    if (c == '#') {
        c = expo_parse_next(lx);
        if (c == ' ') { /* " # {": nothing else may follow "# " */
            if (expo_parse_next(lx) != '{') {
                return XT_INVALID;
            }
            expo_parse_next(lx);
            lx->state = XS_EXEMPLAR;
            return XT_COMMENT;
        }
    } else if (c == 0 || c == ' ' || c == '\n') {
        return XT_INVALID;
    }
    while (c != 0 && c != ' ' && c != '\n') {
        c = expo_parse_next(lx);
    }
    return XT_TIMESTAMP;
}

/* One token of OpenMetrics (the reference openMetricsLexer's language). */
static expo_parse_tok_t expo_parse_lex_om(expo_parse_lex_t *lx, int c)
{
    switch (lx->state) {
    case XS_INIT:
        if (c == '#') {
            if (expo_parse_next(lx) != ' ') {
                return XT_INVALID;
            }
            c = expo_parse_next(lx);
            lx->state = XS_COMMENT;
            return expo_parse_om_comment(lx, c);
        }
        return expo_parse_scan_mname(lx, c, XS_VALUE);
    case XS_COMMENT:
        return expo_parse_om_comment(lx, c);
    case XS_META1:
        return expo_parse_scan_mname(lx, c, XS_META2);
    case XS_META2:
        if (c != ' ') {
            return XT_INVALID;
        }
        do {
            c = expo_parse_next(lx);
        } while (c != 0 && c != '\n');
        if (c == 0) {
            return XT_INVALID;
        }
        expo_parse_next(lx);
        lx->state = XS_INIT;
        return XT_TEXT;
    case XS_LABELS:
    case XS_EXEMPLAR:
        return expo_parse_scan_labels(lx, c, lx->state == XS_EXEMPLAR);
    case XS_LVALUE:
        return c == '"' ? expo_parse_scan_quoted(lx, false, XS_LABELS) : XT_INVALID;
    case XS_VALUE:
        if (c == '{') {
            return expo_parse_scan_bopen(lx);
        }
        break;
    case XS_TIMESTAMP:
        return expo_parse_om_timestamp(lx, c);
    case XS_EVALUE:
        if (c == '"') {
            return expo_parse_scan_quoted(lx, false, XS_EXEMPLAR);
        }
        break;
    case XS_ETIMESTAMP:
        if (c == '\n') {
            return expo_parse_scan_linebreak(lx);
        }
        return expo_parse_om_spaced(lx, c, XT_TIMESTAMP);
    }
    /* VALUE and EVALUE: " <value>" */
    expo_parse_tok_t t = expo_parse_om_spaced(lx, c, XT_VALUE);
    if (t == XT_VALUE) {
        lx->state = lx->state == XS_EVALUE ? XS_ETIMESTAMP : XS_TIMESTAMP;
    }
    return t;
}

/* The next token; the text format's blanks are skipped. */
static expo_parse_tok_t expo_parse_tok(expo_parse_t *x)
{
    expo_parse_lex_t *lx = &x->lx;
    expo_parse_tok_t t;
    do {
        if (lx->i >= lx->vlen) {
            return XT_EOF;
        }
        lx->start = lx->i;
        int c = expo_parse_at(lx, lx->i);
        t = x->om ? expo_parse_lex_om(lx, c) : expo_parse_lex_text(lx, c);
    } while (t == XT_WS);
    return t;
}

/* The last token's bytes, from its start plus skip. */
static str_t expo_parse_tok_str(const expo_parse_t *x, size_t skip)
{
    size_t a = x->lx.start + skip, b = x->lx.i;
    if (b > x->lx.len) {
        b = x->lx.len; /* never the virtual '\n' */
    }
    return str_from(x->lx.p + (a < b ? a : b), a < b ? b - a : 0);
}

/* ---- values ------------------------------------------------------------ */

/* Whether s is a well-formed decimal float (sign, digits with at most one
 * '.', optional exponent): a failed parse of one is a range error. */
static bool expo_parse_decimal_syntax(str_t s)
{
    size_t i = s.len > 0 && (s.p[0] == '+' || s.p[0] == '-') ? 1 : 0, nd = 0, dots = 0;
    for (; i < s.len && (expo_parse_is_digit(s.p[i]) || s.p[i] == '.'); i++) {
        nd += s.p[i] != '.';
        dots += s.p[i] == '.';
    }
    if (nd == 0 || dots > 1) {
        return false;
    }
    if (i < s.len && (s.p[i] == 'e' || s.p[i] == 'E')) {
        i += i + 1 < s.len && (s.p[i + 1] == '+' || s.p[i + 1] == '-') ? 2 : 1;
        size_t d0 = i;
        while (i < s.len && expo_parse_is_digit(s.p[i])) {
            i++;
        }
        if (i == d0) {
            return false;
        }
    }
    return i == s.len;
}

/* Go's ParseFloat without hex floats and underscores ("Keep to pre-Go
 * 1.13 float formats"); NaN as Prometheus' normal NaN. pos: the
 * value's offset, for the error. */
static int expo_parse_float(expo_parse_t *x, str_t s, size_t pos, double *out)
{
    char q[80];
    for (size_t k = 0; k < s.len; k++) {
        if (s.p[k] == 'p' || s.p[k] == 'P' || s.p[k] == '_') {
            return expo_parse_fail(x, pos, "unsupported character in float");
        }
    }
    if (!str_parse_double(s, out)) {
        return expo_parse_fail(x, pos, "strconv.ParseFloat: parsing %s: %s", expo_parse_quote(q, sizeof(q), s.p, s.len),
                               expo_parse_decimal_syntax(s) ? "value out of range" : "invalid syntax");
    }
    if (isnan(*out)) {
        uint64_t bits = EXPO_PARSE_NORMAL_NAN;
        memcpy(out, &bits, sizeof(*out));
    }
    return 0;
}

/* OpenMetrics timestamp (float seconds) to ms, truncated as Go's
 * int64(ts*1000); out of int64 range (Go on amd64 gives MinInt64, which
 * storage then refuses) maps to INT64_MIN+1, MSINK_NO_TS being taken. */
static int expo_parse_om_ts(expo_parse_t *x, str_t s, size_t pos, const char *what, int64_t *ms)
{
    double ts;
    if (expo_parse_float(x, s, pos, &ts) != 0) {
        return -1;
    }
    if (isnan(ts) || isinf(ts)) {
        return expo_parse_fail(x, pos, "invalid %s", what);
    }
    double m = ts * 1000.0;
    if (m >= -9223372036854775808.0 && m < 9223372036854775808.0 && (int64_t)m != INT64_MIN) {
        *ms = (int64_t)m;
    } else {
        *ms = INT64_MIN + 1;
    }
    return 0;
}

/* ---- labels ------------------------------------------------------------ */

/* Prometheus' replacers: \\ and \n, plus \" when quotes (label values and
 * OpenMetrics HELP; text-format HELP keeps \"). dst has room for n bytes;
 * returns the length written. */
static size_t expo_parse_unescape(const char *p, size_t n, bool quotes, char *dst)
{
    size_t o = 0;
    for (size_t k = 0; k < n; k++) {
        char c = p[k];
        if (c == '\\' && k + 1 < n) {
            char e = p[k + 1];
            if (e == '\\' || e == 'n' || (quotes && e == '"')) {
                dst[o++] = e == 'n' ? '\n' : e;
                k++;
                continue;
            }
        }
        dst[o++] = c;
    }
    return o;
}

/* Replace the raw values holding a backslash by their unescaped bytes, in
 * x->small or, when they do not fit, x->big (grown once, then reused). */
static void expo_parse_unescape_values(expo_parse_t *x)
{
    size_t need = 0;
    for (size_t k = 0; k < x->nl; k++) {
        if (memchr(x->ls[k].value.p, '\\', x->ls[k].value.len) != NULL) {
            need += x->ls[k].value.len;
        }
    }
    if (need == 0) {
        return;
    }
    char *dst = x->small;
    if (need > sizeof(x->small)) {
        buf_reset(&x->big);
        buf_reserve(&x->big, need);
        dst = (char *)x->big.data;
    }
    for (size_t k = 0; k < x->nl; k++) {
        str_t *v = &x->ls[k].value;
        if (memchr(v->p, '\\', v->len) != NULL) {
            size_t n = expo_parse_unescape(v->p, v->len, true, dst);
            *v = str_from(dst, n);
            dst += n;
        }
    }
}

static int expo_parse_add_label(expo_parse_t *x)
{
    if (x->nl == EXPO_PARSE_MAX_LABELS) {
        return expo_parse_fail(x, x->lx.start, "too many labels (more than %d)", EXPO_PARSE_MAX_LABELS);
    }
    x->ls[x->nl].name = expo_parse_tok_str(x, 0);
    x->ls[x->nl].value = str_from(x->lx.p, 0);
    x->lpos[x->nl] = x->lx.start;
    x->nl++;
    return 0;
}

/* "= <quoted value>" after a label name; the raw value (between the
 * quotes) is kept in the last label when keep. */
static int expo_parse_label_value(expo_parse_t *x, bool keep)
{
    expo_parse_tok_t t = expo_parse_tok(x);
    if (t != XT_EQUAL) {
        return expo_parse_unexpected(x, "expected equal", t);
    }
    t = expo_parse_tok(x);
    if (t != XT_LVALUE) {
        return expo_parse_unexpected(x, "expected label value", t);
    }
    str_t raw = expo_parse_tok_str(x, 0);
    if (!str_utf8_valid(raw.p, raw.len)) {
        return expo_parse_fail(x, x->lx.start, "invalid UTF-8 label value");
    }
    if (keep && raw.len >= 2) {
        x->ls[x->nl - 1].value = str_from(raw.p + 1, raw.len - 2);
    }
    return 0;
}

/* Text format labels after '{': commas optional, one trailing allowed. */
static int expo_parse_text_lvals(expo_parse_t *x)
{
    expo_parse_tok_t t = expo_parse_tok(x);
    for (;;) {
        if (t == XT_BCLOSE) {
            return 0;
        }
        if (t != XT_LNAME) {
            return expo_parse_unexpected(x, "expected label name", t);
        }
        if (expo_parse_add_label(x) != 0 || expo_parse_label_value(x, true) != 0) {
            return -1;
        }
        t = expo_parse_tok(x);
        if (t == XT_COMMA) {
            t = expo_parse_tok(x);
        }
    }
}

/* OpenMetrics labels after '{' (a sample's when keep, else an
 * exemplar's, only checked): comma separated, no trailing comma. */
static int expo_parse_om_lvals(expo_parse_t *x, bool keep)
{
    bool first = true;
    for (;;) {
        expo_parse_tok_t t = expo_parse_tok(x);
        if (t == XT_BCLOSE) {
            return 0;
        }
        if (t == XT_COMMA && !first) {
            t = expo_parse_tok(x);
            if (t != XT_LNAME) {
                return expo_parse_unexpected(x, "expected label name", t);
            }
        } else if (t != XT_LNAME || !first) {
            return expo_parse_unexpected(x,
                                         first           ? "expected label name or left brace"
                                         : t == XT_LNAME ? "expected comma"
                                                         : "expected comma or left brace",
                                         t);
        }
        first = false;
        if ((keep && expo_parse_add_label(x) != 0) || expo_parse_label_value(x, keep) != 0) {
            return -1;
        }
    }
}

/* ---- families and samples ---------------------------------------------- */

static const char *const expo_parse_children[][5] = {
    [METRIC_COUNTER] = { "_total", "_created" },
    [METRIC_SUMMARY] = { "_sum", "_count", "_created" },
    [METRIC_HISTOGRAM] = { "_bucket", "_sum", "_count", "_created" },
    [METRIC_GAUGE_HISTOGRAM] = { "_bucket", "_gsum", "_gcount" },
    [METRIC_INFO] = { "_info" },
};

/* The samples OpenMetrics lets carry an exemplar. */
static const char *const expo_parse_exemplar_suffixes[2] = { "_total", "_bucket" };

/* Whether a sample called name belongs to the current family: its name,
 * or its name plus a suffix its type has children under. */
static bool expo_parse_in_cur(const expo_parse_t *x, str_t name)
{
    const msink_family_t *f = &x->s->families[x->cur_fam];
    str_t base = msink_str(x->s, f->name_off, f->name_len);
    if (str_eq(name, base)) {
        return true;
    }
    if (name.len <= base.len || memcmp(name.p, base.p, base.len) != 0 ||
        (size_t)f->type >= sizeof(expo_parse_children) / sizeof(expo_parse_children[0])) {
        return false;
    }
    str_t suffix = str_from(name.p + base.len, name.len - base.len);
    for (size_t k = 0; k < 5 && expo_parse_children[f->type][k] != NULL; k++) {
        if (str_eq_cstr(suffix, expo_parse_children[f->type][k])) {
            return true;
        }
    }
    return false;
}

static int expo_parse_lref_cmp(const void *a, const void *b)
{
    const expo_parse_lref_t *x = a, *y = b;
    int c = str_cmp(x->name, y->name);
    return c != 0 ? c : (x->k > y->k) - (x->k < y->k);
}

/* The scrape loop's label checks, in its order: a label name with an
 * empty value anywhere is dropped with all its occurrences (Prometheus'
 * label builder), so an empty __name__ leaves the sample without a name;
 * then the metric names must be valid (a line's leading blanks are part
 * of its name; __name__ labels are checked too); then no name may remain
 * twice, __name__ included (the storage reports the smallest such name).
 * Dropped labels leave x->ls. Sorting keeps this O(n log n) in the
 * sample's labels. */
static int expo_parse_check_labels(expo_parse_t *x, str_t name)
{
    char q[80];
    size_t n = 0;
    x->refs[n++] = (expo_parse_lref_t){ STR_LIT("__name__"), 0 };
    for (size_t k = 0; k < x->nl; k++) {
        x->refs[n++] = (expo_parse_lref_t){ x->ls[k].name, (uint32_t)k + 1 };
    }
    if (n > 16) {
        qsort(x->refs, n, sizeof(x->refs[0]), expo_parse_lref_cmp);
    } else { /* the usual few labels: insertion sort, no call overhead */
        for (size_t i = 1; i < n; i++) {
            expo_parse_lref_t r = x->refs[i];
            size_t j = i;
            for (; j > 0 && expo_parse_lref_cmp(&x->refs[j - 1], &r) > 0; j--) {
                x->refs[j] = x->refs[j - 1];
            }
            x->refs[j] = r;
        }
    }
    bool no_name = false, bad_name = expo_parse_is_ws(name.p[0]);
    const label_t *bad_label = NULL; /* a __name__ label that is no metric name */
    const expo_parse_lref_t *dup = NULL;
    for (size_t a = 0, b; a < n; a = b) {
        bool empty = false;
        for (b = a; b < n && str_eq(x->refs[b].name, x->refs[a].name); b++) {
            const label_t *l = x->refs[b].k > 0 ? &x->ls[x->refs[b].k - 1] : NULL;
            empty = empty || (l != NULL && l->value.len == 0);
            if (l != NULL && bad_label == NULL && str_eq_cstr(l->name, "__name__") && l->value.len > 0 &&
                !labels_valid_metric_name(l->value)) {
                bad_label = l;
            }
        }
        for (size_t k = a; k < b && empty; k++) {
            if (x->refs[k].k > 0) {
                x->ls[x->refs[k].k - 1].name.p = NULL; /* dropped */
            } else {
                no_name = true;
            }
        }
        if (!empty && b - a > 1 && dup == NULL) {
            dup = &x->refs[a + 1];
        }
    }
    if (no_name) {
        return expo_parse_fail(x, x->line_start, "missing metric name (__name__ label)");
    }
    if (bad_name || bad_label != NULL) {
        char q2[80] = "";
        if (bad_label != NULL) {
            expo_parse_quote(q2, sizeof(q2), bad_label->value.p, bad_label->value.len);
        }
        return expo_parse_fail(x, x->line_start, "invalid metric name or label names: {__name__=%s%s%s}",
                               expo_parse_quote(q, sizeof(q), name.p, name.len), bad_label ? ", __name__=" : "", q2);
    }
    if (dup != NULL) {
        return expo_parse_fail(x, x->lpos[dup->k - 1], "label name %s is not unique: invalid sample",
                               expo_parse_quote(q, sizeof(q), dup->name.p, dup->name.len));
    }
    size_t kept = 0;
    for (size_t k = 0; k < x->nl; k++) {
        if (x->ls[k].name.p != NULL) {
            x->ls[kept++] = x->ls[k];
        }
    }
    x->nl = kept;
    return 0;
}

/* Check a parsed sample as the scrape loop does, then add it. */
static int expo_parse_emit(expo_parse_t *x, str_t name, double v, int64_t ts)
{
    expo_parse_unescape_values(x);
    if (expo_parse_check_labels(x, name) != 0) {
        return -1;
    }
    uint32_t fam =
        x->have_cur && expo_parse_in_cur(x, name) ? x->cur_fam : msink_family(x->s, name, NULL, METRIC_UNTYPED);
    const msink_family_t *f = &x->s->families[fam];
    bool own = str_eq(name, msink_str(x->s, f->name_off, f->name_len));
    msink_add_full(x->s, fam, own ? str_from(NULL, 0) : name, x->ls, x->nl, v, ts);
    return 0;
}

typedef struct expo_parse_typename {
    const char *name;
    metric_type_t type;
    bool text, om; /* valid in the text format, in OpenMetrics */
} expo_parse_typename_t;

static const expo_parse_typename_t expo_parse_types[] = {
    { "counter", METRIC_COUNTER, true, true },
    { "gauge", METRIC_GAUGE, true, true },
    { "histogram", METRIC_HISTOGRAM, true, true },
    { "summary", METRIC_SUMMARY, true, true },
    { "untyped", METRIC_UNTYPED, true, false },
    { "unknown", METRIC_UNTYPED, false, true },
    { "gaugehistogram", METRIC_GAUGE_HISTOGRAM, false, true },
    { "info", METRIC_INFO, false, true },
    { "stateset", METRIC_STATESET, false, true },
};

/* The family named by a metadata line, updated (last line wins) when this
 * call added it, and made current. */
static void expo_parse_apply_meta(expo_parse_t *x, expo_parse_tok_t kind, str_t name, str_t text, metric_type_t type)
{
    msink_t *s = x->s;
    uint32_t fam = msink_family(s, name, NULL, METRIC_UNTYPED);
    if (fam >= x->fam_base) {
        msink_family_t *f = &s->families[fam];
        if (kind == XT_TYPE) {
            f->type = type;
        } else if (kind == XT_HELP) {
            buf_reserve(&s->strings, text.len);
            char *dst = (char *)s->strings.data + s->strings.len;
            size_t n = expo_parse_unescape(text.p, text.len, x->om, dst);
            f->help_off = (uint32_t)s->strings.len;
            f->help_len = (uint32_t)n;
            f->has_help = true;
            s->strings.len += n;
            s->strings.data[s->strings.len] = 0;
        }
    }
    x->have_cur = true;
    x->cur_fam = fam;
}

/* The TYPE keyword in text (pos: its offset), for the format in use. */
static int expo_parse_type(expo_parse_t *x, str_t text, size_t pos, metric_type_t *type)
{
    for (size_t k = 0; k < sizeof(expo_parse_types) / sizeof(expo_parse_types[0]); k++) {
        const expo_parse_typename_t *tn = &expo_parse_types[k];
        if ((x->om ? tn->om : tn->text) && str_eq_cstr(text, tn->name)) {
            *type = tn->type;
            return 0;
        }
    }
    char q[80];
    return expo_parse_fail(x, pos, "invalid metric type %s", expo_parse_quote(q, sizeof(q), text.p, text.len));
}

/* After HELP, TYPE or UNIT: name, text (and, in the text format, the line
 * break), checked, then applied. */
static int expo_parse_meta(expo_parse_t *x, expo_parse_tok_t kind)
{
    const char *what = expo_parse_tok_name(kind);
    char msg[48];
    expo_parse_tok_t t = expo_parse_tok(x);
    if (t != XT_MNAME) {
        snprintf(msg, sizeof(msg), "expected metric name after %s", what);
        return expo_parse_unexpected(x, msg, t);
    }
    str_t name = expo_parse_tok_str(x, 0);
    if (expo_parse_tok(x) != XT_TEXT) {
        return expo_parse_fail(x, x->lx.start, "expected text in %s", what);
    }
    /* The token's first byte (a blank, or whatever followed the name) is
     * dropped; in OpenMetrics also its closing '\n'. */
    str_t raw = expo_parse_tok_str(x, 0);
    str_t text = str_from(raw.p, 0);
    if (raw.len > 1) {
        text = str_from(raw.p + 1, raw.len - 1 - (x->om ? 1 : 0));
    }
    size_t pos = x->lx.start + 1;
    metric_type_t type = METRIC_UNTYPED;
    if (kind == XT_TYPE && expo_parse_type(x, text, pos, &type) != 0) {
        return -1;
    }
    if (kind == XT_HELP && !str_utf8_valid(text.p, text.len)) {
        return expo_parse_fail(x, pos, "help text is not a valid utf8 string");
    }
    if (kind == XT_UNIT && text.len > 0 &&
        (name.len < text.len + 1 || memcmp(name.p + name.len - text.len, text.p, text.len) != 0 ||
         name.p[name.len - text.len - 1] != '_')) {
        char q[80];
        return expo_parse_fail(x, pos, "unit not a suffix of metric %s",
                               expo_parse_quote(q, sizeof(q), name.p, name.len));
    }
    if (!x->om && (t = expo_parse_tok(x)) != XT_LINEBREAK) {
        return expo_parse_unexpected(x, "linebreak expected after metadata", t);
    }
    expo_parse_apply_meta(x, kind, name, text, type);
    return 0;
}

/* Text format: a sample line after its metric name. */
static int expo_parse_text_series(expo_parse_t *x)
{
    str_t name = str_from(x->lx.p + x->line_start, x->lx.i - x->line_start);
    x->nl = 0;
    expo_parse_tok_t t = expo_parse_tok(x);
    if (t == XT_BOPEN) {
        if (expo_parse_text_lvals(x) != 0) {
            return -1;
        }
        t = expo_parse_tok(x);
    }
    if (t != XT_VALUE) {
        return expo_parse_unexpected(x, "expected value after metric", t);
    }
    double v;
    if (expo_parse_float(x, expo_parse_tok_str(x, 0), x->lx.start, &v) != 0) {
        return -1;
    }
    int64_t ts = MSINK_NO_TS;
    t = expo_parse_tok(x);
    if (t == XT_TIMESTAMP) {
        str_t s = expo_parse_tok_str(x, 0);
        if (!str_parse_i64(s, &ts)) {
            char q[80];
            return expo_parse_fail(x, x->lx.start, "strconv.ParseInt: parsing %s: value out of range",
                                   expo_parse_quote(q, sizeof(q), s.p, s.len));
        }
        t = expo_parse_tok(x);
        if (t != XT_LINEBREAK) {
            return expo_parse_unexpected(x, "expected next entry after timestamp", t);
        }
    } else if (t != XT_LINEBREAK) {
        return expo_parse_unexpected(x, "expected timestamp or new record", t);
    }
    return expo_parse_emit(x, name, v, ts);
}

/* OpenMetrics: an exemplar after " # {" on the sample called name: only
 * _total and _bucket samples may have one; checked, then dropped. */
static int expo_parse_om_exemplar(expo_parse_t *x, str_t name)
{
    bool allowed = false;
    for (size_t k = 0; k < 2 && !allowed; k++) {
        const char *suffix = expo_parse_exemplar_suffixes[k];
        size_t n = strlen(suffix);
        allowed = name.len >= n && memcmp(name.p + name.len - n, suffix, n) == 0;
    }
    if (!allowed) {
        return expo_parse_fail(x, x->lx.start, "metric name %.*s does not support exemplars", (int)name.len, name.p);
    }
    if (expo_parse_om_lvals(x, false) != 0) {
        return -1;
    }
    expo_parse_tok_t t = expo_parse_tok(x);
    if (t != XT_VALUE) {
        return expo_parse_unexpected(x, "expected value after exemplar labels", t);
    }
    double v;
    if (expo_parse_float(x, expo_parse_tok_str(x, 1), x->lx.start + 1, &v) != 0) {
        return -1;
    }
    t = expo_parse_tok(x);
    if (t == XT_EOF) {
        return expo_parse_fail(x, x->lx.i, "data does not end with # EOF");
    }
    if (t == XT_TIMESTAMP) {
        int64_t ms;
        if (expo_parse_om_ts(x, expo_parse_tok_str(x, 1), x->lx.start + 1, "exemplar timestamp", &ms) != 0) {
            return -1;
        }
        t = expo_parse_tok(x);
        if (t != XT_LINEBREAK) {
            return expo_parse_unexpected(x, "expected next entry after exemplar timestamp", t);
        }
    } else if (t != XT_LINEBREAK) {
        return expo_parse_unexpected(x, "expected timestamp or comment", t);
    }
    return 0;
}

/* OpenMetrics: a sample line after its metric name. */
static int expo_parse_om_series(expo_parse_t *x)
{
    str_t name = str_from(x->lx.p + x->line_start, x->lx.i - x->line_start);
    x->nl = 0;
    expo_parse_tok_t t = expo_parse_tok(x);
    if (t == XT_BOPEN) {
        if (expo_parse_om_lvals(x, true) != 0) {
            return -1;
        }
        t = expo_parse_tok(x);
    }
    if (t != XT_VALUE) {
        return expo_parse_unexpected(x, "expected value after metric", t);
    }
    double v;
    if (expo_parse_float(x, expo_parse_tok_str(x, 1), x->lx.start + 1, &v) != 0) {
        return -1;
    }
    int64_t ts = MSINK_NO_TS;
    t = expo_parse_tok(x);
    if (t == XT_TIMESTAMP) {
        if (expo_parse_om_ts(x, expo_parse_tok_str(x, 1), x->lx.start + 1, "timestamp", &ts) != 0) {
            return -1;
        }
        t = expo_parse_tok(x);
        if (t != XT_LINEBREAK && t != XT_COMMENT) {
            return expo_parse_unexpected(x, "expected next entry after timestamp", t);
        }
    } else if (t == XT_EOF) {
        return expo_parse_fail(x, x->lx.i, "data does not end with # EOF");
    } else if (t != XT_LINEBREAK && t != XT_COMMENT) {
        return expo_parse_unexpected(x, "expected timestamp or # symbol", t);
    }
    if (t == XT_COMMENT && expo_parse_om_exemplar(x, name) != 0) {
        return -1;
    }
    return expo_parse_emit(x, name, v, ts);
}

/* One entry (Next() of the reference parsers): 1 parsed, 0 end, -1 error. */
static int expo_parse_entry(expo_parse_t *x)
{
    expo_parse_tok_t t;
    do {
        x->line_start = x->lx.i;
        t = expo_parse_tok(x);
    } while (t == XT_LINEBREAK && !x->om);
    int rc;
    switch (t) {
    case XT_EOF:
        if (x->om) {
            return expo_parse_fail(x, x->lx.i, "data does not end with # EOF");
        }
        return 0;
    case XT_EOFWORD:
        if (expo_parse_tok(x) != XT_EOF) {
            return expo_parse_fail(x, x->lx.start, "unexpected data after # EOF");
        }
        return 0;
    case XT_HELP:
    case XT_TYPE:
    case XT_UNIT:
        rc = expo_parse_meta(x, t);
        break;
    case XT_COMMENT:
        t = expo_parse_tok(x);
        if (t != XT_LINEBREAK) {
            return expo_parse_unexpected(x, "linebreak expected after comment", t);
        }
        return 1;
    case XT_MNAME:
        rc = x->om ? expo_parse_om_series(x) : expo_parse_text_series(x);
        break;
    default:
        if (x->om) {
            char q[16]; /* the byte the lexer stopped at; " " past the end */
            const char *at = x->lx.i < x->lx.len ? x->lx.p + x->lx.i : " ";
            return expo_parse_fail(x, x->lx.start, "\"%s\" %s is not a valid start token", expo_parse_tok_name(t),
                                   expo_parse_quote(q, sizeof(q), at, 1));
        }
        return expo_parse_fail(x, x->lx.start, "\"%s\" is not a valid start token", expo_parse_tok_name(t));
    }
    return rc == 0 ? 1 : -1;
}

int expo_parse(const char *p, size_t len, bool openmetrics, msink_t *s, expo_error_t *err)
{
    expo_parse_t x; /* ~12 KiB: labels and the small unescape buffer */
    memset(&x, 0, offsetof(expo_parse_t, ls));
    x.lx.p = p != NULL ? p : "";
    x.lx.len = p != NULL ? len : 0;
    x.lx.vlen = x.lx.len + (openmetrics ? 0 : 1);
    x.lx.state = XS_INIT;
    x.om = openmetrics;
    x.s = s;
    x.err = err;
    x.fam_base = s->nfamilies;
    buf_init(&x.big);
    int rc;
    do {
        rc = expo_parse_entry(&x);
    } while (rc == 1);
    buf_fini(&x.big);
    return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * promql_ast: the function table, type checking and the printer.
 *
 * The table has one row per Prometheus 3.x function (argument types,
 * optional/variadic count, return type; histogram_* marked native-only).
 * promql_check walks the tree post-order as Prometheus' checkAST does, so
 * the first type error reported is the one Prometheus reports first.
 * promql_format reproduces Expr.String() (not the Pretty() form that
 * /api/v1/format_query uses for long queries): numbers as Go's
 * FormatFloat(v, 'f', -1), durations as model.Duration, strings and
 * matcher values as strconv.Quote, matchers sorted as strings, the
 * metric name's own matcher left out. Unicode printability in quoting is
 * approximated: C0/C1 controls, DEL and invalid bytes are escaped, every
 * other rune is printed as is.
 */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/json_out.h"
#include "common/mem.h"
#include "common/str.h"
#include "query/promql_int.h"

#define S PROMQL_TYPE_SCALAR
#define V PROMQL_TYPE_VECTOR
#define M PROMQL_TYPE_MATRIX
#define STR PROMQL_TYPE_STRING
#define FN(n, r, ...)                                                                                                  \
    {                                                                                                                  \
        .name = n, .ret = r, .args = { __VA_ARGS__ },                                                                  \
        .nargs = sizeof((promql_type_t[]){ __VA_ARGS__ }) / sizeof(promql_type_t)                                      \
    }
#define FN0(n, r)                                                                                                      \
    {                                                                                                                  \
        .name = n, .ret = r, .nargs = 0                                                                                \
    }

static const promql_func_t funcs[] = {
    FN("abs", V, V),
    FN("absent", V, V),
    FN("absent_over_time", V, M),
    FN("acos", V, V),
    FN("acosh", V, V),
    FN("asin", V, V),
    FN("asinh", V, V),
    FN("atan", V, V),
    FN("atanh", V, V),
    FN("avg_over_time", V, M),
    FN("ceil", V, V),
    FN("changes", V, M),
    FN("clamp", V, V, S, S),
    FN("clamp_max", V, V, S),
    FN("clamp_min", V, V, S),
    FN("cos", V, V),
    FN("cosh", V, V),
    FN("count_over_time", V, M),
    { .name = "days_in_month", .ret = V, .args = { V }, .nargs = 1, .variadic = 1 },
    { .name = "day_of_month", .ret = V, .args = { V }, .nargs = 1, .variadic = 1 },
    { .name = "day_of_week", .ret = V, .args = { V }, .nargs = 1, .variadic = 1 },
    { .name = "day_of_year", .ret = V, .args = { V }, .nargs = 1, .variadic = 1 },
    FN("deg", V, V),
    FN("delta", V, M),
    FN("deriv", V, M),
    { .name = "end", .ret = S, .nargs = 0, .experimental = true },
    { .name = "double_exponential_smoothing", .ret = V, .args = { M, S, S }, .nargs = 3, .experimental = true },
    FN("exp", V, V),
    FN("floor", V, V),
    { .name = "histogram_avg", .ret = V, .args = { V }, .nargs = 1, .native_histogram_only = true },
    { .name = "histogram_count", .ret = V, .args = { V }, .nargs = 1, .native_histogram_only = true },
    FN("histogram_fraction", V, S, S, V),
    FN("histogram_quantile", V, S, V),
    { .name = "histogram_quantiles",
      .ret = V,
      .args = { V, STR, S },
      .nargs = 3,
      .variadic = -1,
      .experimental = true },
    { .name = "histogram_stddev", .ret = V, .args = { V }, .nargs = 1, .native_histogram_only = true },
    { .name = "histogram_stdvar", .ret = V, .args = { V }, .nargs = 1, .native_histogram_only = true },
    { .name = "histogram_sum", .ret = V, .args = { V }, .nargs = 1, .native_histogram_only = true },
    { .name = "hour", .ret = V, .args = { V }, .nargs = 1, .variadic = 1 },
    FN("idelta", V, M),
    FN("increase", V, M),
    { .name = "info", .ret = V, .args = { V, V }, .nargs = 2, .variadic = 1, .experimental = true },
    FN("irate", V, M),
    { .name = "label_join", .ret = V, .args = { V, STR, STR, STR }, .nargs = 4, .variadic = -1 },
    FN("label_replace", V, V, STR, STR, STR, STR),
    FN("last_over_time", V, M),
    FN("ln", V, V),
    FN("log10", V, V),
    FN("log2", V, V),
    { .name = "mad_over_time", .ret = V, .args = { M }, .nargs = 1, .experimental = true },
    { .name = "max_of", .ret = S, .args = { S, S }, .nargs = 2, .experimental = true },
    FN("max_over_time", V, M),
    { .name = "min_of", .ret = S, .args = { S, S }, .nargs = 2, .experimental = true },
    FN("min_over_time", V, M),
    { .name = "minute", .ret = V, .args = { V }, .nargs = 1, .variadic = 1 },
    { .name = "month", .ret = V, .args = { V }, .nargs = 1, .variadic = 1 },
    FN0("pi", S),
    FN("predict_linear", V, M, S),
    FN("present_over_time", V, M),
    FN("quantile_over_time", V, S, M),
    FN("rad", V, V),
    { .name = "range", .ret = S, .nargs = 0, .experimental = true },
    FN("rate", V, M),
    FN("resets", V, M),
    { .name = "round", .ret = V, .args = { V, S }, .nargs = 2, .variadic = 1 },
    FN("scalar", S, V),
    FN("sgn", V, V),
    FN("sin", V, V),
    FN("sinh", V, V),
    FN("sort", V, V),
    { .name = "sort_by_label", .ret = V, .args = { V, STR }, .nargs = 2, .variadic = -1, .experimental = true },
    { .name = "sort_by_label_desc", .ret = V, .args = { V, STR }, .nargs = 2, .variadic = -1, .experimental = true },
    FN("sort_desc", V, V),
    FN("sqrt", V, V),
    { .name = "start", .ret = S, .nargs = 0, .experimental = true },
    { .name = "step", .ret = S, .nargs = 0, .experimental = true },
    FN("stddev_over_time", V, M),
    FN("stdvar_over_time", V, M),
    FN("sum_over_time", V, M),
    FN("tan", V, V),
    FN("tanh", V, V),
    FN0("time", S),
    FN("timestamp", V, V),
    { .name = "first_over_time", .ret = V, .args = { M }, .nargs = 1, .experimental = true },
    { .name = "ts_of_first_over_time", .ret = V, .args = { M }, .nargs = 1, .experimental = true },
    { .name = "ts_of_last_over_time", .ret = V, .args = { M }, .nargs = 1, .experimental = true },
    { .name = "ts_of_max_over_time", .ret = V, .args = { M }, .nargs = 1, .experimental = true },
    { .name = "ts_of_min_over_time", .ret = V, .args = { M }, .nargs = 1, .experimental = true },
    FN("vector", V, S),
    { .name = "year", .ret = V, .args = { V }, .nargs = 1, .variadic = 1 },
};

const promql_func_t *promql_func_lookup(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
        if (strlen(funcs[i].name) == len && memcmp(funcs[i].name, name, len) == 0) {
            return &funcs[i];
        }
    }
    return NULL;
}

const char *promql_op_str(promql_op_t op)
{
    static const char *const s[] = { "+",  "-", "*", "/",  "%",  "^",   "atan2", "==",
                                     "!=", ">", "<", ">=", "<=", "and", "or",    "unless" };
    return s[op];
}

const char *promql_agg_op_str(promql_agg_op_t op)
{
    static const char *const s[] = { "sum",    "avg",  "count",   "min",      "max",          "group",  "stddev",
                                     "stdvar", "topk", "bottomk", "quantile", "count_values", "limitk", "limit_ratio" };
    return s[op];
}

const char *promql_type_str(promql_type_t t)
{
    static const char *const s[] = { "none", "scalar", "instant vector", "range vector", "string" };
    return s[t];
}

/* ValueType's own names, used by the subquery error. */
static const char *type_raw_str(promql_type_t t)
{
    static const char *const s[] = { "none", "scalar", "vector", "matrix", "string" };
    return s[t];
}

promql_type_t promql_node_type(const promql_node_t *n)
{
    switch (n->kind) {
    case PROMQL_NUMBER:
        return PROMQL_TYPE_SCALAR;
    case PROMQL_STRING:
        return PROMQL_TYPE_STRING;
    case PROMQL_VECTOR_SEL:
    case PROMQL_AGGREGATE:
        return PROMQL_TYPE_VECTOR;
    case PROMQL_MATRIX_SEL:
    case PROMQL_SUBQUERY:
        return PROMQL_TYPE_MATRIX;
    case PROMQL_CALL:
        return n->u.call.func->ret;
    case PROMQL_BINARY:
        return promql_node_type(n->u.bin.lhs) == PROMQL_TYPE_SCALAR &&
                       promql_node_type(n->u.bin.rhs) == PROMQL_TYPE_SCALAR
                   ? PROMQL_TYPE_SCALAR
                   : PROMQL_TYPE_VECTOR;
    case PROMQL_UNARY:
        return promql_node_type(n->u.unary.expr);
    case PROMQL_PAREN:
        return promql_node_type(n->u.paren.expr);
    }
    return PROMQL_TYPE_NONE;
}

void promql_set_error(promql_error_t *err, const char *q, size_t len, size_t pos, const char *msg)
{
    unsigned line = 1;
    size_t last_nl = (size_t)-1;
    for (size_t i = 0; i < pos && i < len; i++) {
        if (q[i] == '\n') {
            line++;
            last_nl = i;
        }
    }
    err->line = line;
    err->col = (unsigned)(pos - last_nl);
    err->pos = pos;
    snprintf(err->msg, sizeof(err->msg), "%u:%u: parse error: %s", err->line, err->col, msg);
}

static void quote_rune_body(int32_t r, char quote, buf_t *out)
{
    static const char esc[] = "\a\b\f\n\r\t\v";
    static const char name[] = "abfnrtv";
    if (r == quote || r == '\\') {
        buf_putc(out, '\\');
        buf_putc(out, (uint8_t)r);
    } else if (r < 0x20 && r >= 0 && r != 0 && strchr(esc, (char)r) != NULL) {
        buf_putc(out, '\\');
        buf_putc(out, (uint8_t)name[strchr(esc, (char)r) - esc]);
    } else if (r < 0x20 || r == 0x7F) {
        buf_printf(out, "\\x%02x", (unsigned)r);
    } else if (r >= 0x80 && r < 0xA0) {
        buf_printf(out, "\\u%04x", (unsigned)r);
    } else if (r < 0x80) {
        buf_putc(out, (uint8_t)r);
    } else {
        char tmp[4];
        size_t n = r < 0x800 ? 2 : r < 0x10000 ? 3 : 4;
        tmp[0] = (char)(n == 2 ? 0xC0 | (r >> 6) : n == 3 ? 0xE0 | (r >> 12) : 0xF0 | (r >> 18));
        for (size_t i = 1; i < n; i++) {
            tmp[i] = (char)(0x80 | ((r >> (6 * (n - 1 - i))) & 0x3F));
        }
        buf_append(out, tmp, n);
    }
}

void promql_quote_rune(int32_t r, buf_t *out)
{
    buf_putc(out, '\'');
    quote_rune_body(r, '\'', out);
    buf_putc(out, '\'');
}

void promql_quote(const char *p, size_t len, size_t max_runes, buf_t *out)
{
    buf_putc(out, '"');
    size_t runes = 0;
    for (size_t i = 0; i < len && (max_runes == 0 || runes < max_runes); runes++) {
        size_t w = 1;
        int32_t r = promql_utf8_decode(p + i, len - i, &w);
        if (r == 0xFFFD && w == 1 && (unsigned char)p[i] >= 0x80) {
            buf_printf(out, "\\x%02x", (unsigned char)p[i]);
        } else {
            quote_rune_body(r, '"', out);
        }
        i += w;
    }
    buf_putc(out, '"');
}

/* One escape at p[*i] (just after the backslash) into dst; false if bad. */
static bool unquote_escape(const char *p, size_t end, size_t *i, char quote, char *dst, size_t *o)
{
    static const char name[] = "abfnrtv";
    static const char val[] = "\a\b\f\n\r\t\v";
    char c = p[(*i)++];
    const char *nm = strchr(name, c);
    if (c != 0 && nm != NULL) {
        dst[(*o)++] = val[nm - name];
        return true;
    }
    if (c == '\\' || c == quote) {
        dst[(*o)++] = c;
        return true;
    }
    int n = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : (c >= '0' && c <= '7') ? 3 : 0;
    int base = c >= '0' && c <= '7' ? 8 : 16;
    if (n == 0) {
        return false;
    }
    if (base == 8) {
        (*i)--;
    }
    uint32_t v = 0;
    for (int k = 0; k < n; k++) {
        int d = *i < end ? str_hex_digit((unsigned char)p[*i]) : -1;
        if (d < 0 || d >= base) {
            return false;
        }
        (*i)++;
        v = v * (uint32_t)base + (uint32_t)d;
    }
    if (c == 'x' || base == 8) {
        if (v > 255) {
            return false;
        }
        dst[(*o)++] = (char)v;
        return true;
    }
    if (v > 0x10FFFF || (v >= 0xD800 && v < 0xE000)) {
        return false;
    }
    *o += str_utf8_encode(v, dst + *o);
    return true;
}

bool promql_unquote(const char *p, size_t len, char *dst, size_t *dst_len)
{
    *dst_len = 0;
    if (len < 2 || p[0] != p[len - 1]) {
        return false;
    }
    char quote = p[0];
    size_t end = len - 1;
    size_t o = 0;
    for (size_t i = 1; i < end;) {
        char c = p[i];
        if (quote == '`') {
            if (c == '`') {
                return false;
            }
            dst[o++] = p[i++];
        } else if (c == quote || c == '\n') {
            return false;
        } else if (c == '\\') {
            i++;
            if (i >= end || !unquote_escape(p, end, &i, quote, dst, &o)) {
                return false;
            }
        } else {
            dst[o++] = p[i++];
        }
    }
    *dst_len = o;
    return true;
}

typedef struct checker {
    const char *q;
    size_t len;
    promql_error_t *err;
    bool failed;
} checker_t;

static void check_fail(checker_t *c, size_t pos, const char *msg)
{
    if (!c->failed) {
        c->failed = true;
        promql_set_error(c->err, c->q, c->len, pos, msg);
    }
}

static promql_type_t check_node(checker_t *c, promql_node_t *n);

static void expect_type(checker_t *c, promql_node_t *n, promql_type_t want, const char *ctx)
{
    promql_type_t t = check_node(c, n);
    if (t != want) {
        char msg[256];
        snprintf(msg, sizeof(msg), "expected type %s in %s, got %s", promql_type_str(want), ctx, promql_type_str(t));
        check_fail(c, n->pos.start, msg);
    }
}

static void check_call(checker_t *c, promql_node_t *n)
{
    const promql_func_t *f = n->u.call.func;
    size_t nargs = (size_t)f->nargs;
    size_t got = n->u.call.nargs;
    char msg[256] = "";
    if (f->variadic == 0 && nargs != got) {
        snprintf(msg, sizeof(msg), "expected %zu argument(s) in call to \"%s\", got %zu", nargs, f->name, got);
    } else if (f->variadic != 0 && nargs - 1 > got) {
        snprintf(msg, sizeof(msg), "expected at least %zu argument(s) in call to \"%s\", got %zu", nargs - 1, f->name,
                 got);
    } else if (f->variadic > 0 && nargs - 1 + (size_t)f->variadic < got) {
        snprintf(msg, sizeof(msg), "expected at most %zu argument(s) in call to \"%s\", got %zu",
                 nargs - 1 + (size_t)f->variadic, f->name, got);
    }
    if (msg[0] != '\0') {
        check_fail(c, n->pos.start, msg);
    }
    char ctx[96];
    snprintf(ctx, sizeof(ctx), "call to function \"%s\"", f->name);
    for (size_t i = 0; i < got; i++) {
        size_t k = i;
        if (k >= nargs) {
            if (f->variadic == 0) {
                break;
            }
            k = nargs - 1;
        }
        expect_type(c, n->u.call.args[i], f->args[k], ctx);
    }
}

static bool op_is_comparison(promql_op_t op)
{
    return op >= PROMQL_OP_EQLC && op <= PROMQL_OP_LTE;
}

static bool op_is_set(promql_op_t op)
{
    return op >= PROMQL_OP_AND;
}

/* Position of the operator: first non-space byte after the LHS. */
static size_t op_pos(const checker_t *c, const promql_node_t *n)
{
    size_t i = n->u.bin.lhs->pos.end;
    while (i < c->len && (c->q[i] == ' ' || c->q[i] == '\t' || c->q[i] == '\n' || c->q[i] == '\r')) {
        i++;
    }
    return i;
}

static void check_binary(checker_t *c, promql_node_t *n)
{
    promql_type_t lt = check_node(c, n->u.bin.lhs);
    promql_type_t rt = check_node(c, n->u.bin.rhs);
    promql_op_t op = n->u.bin.op;
    char msg[256];
    if (n->u.bin.return_bool && !op_is_comparison(op)) {
        check_fail(c, op_pos(c, n), "bool modifier can only be used on comparison operators");
    }
    if (op_is_comparison(op) && !n->u.bin.return_bool && lt == PROMQL_TYPE_SCALAR && rt == PROMQL_TYPE_SCALAR) {
        check_fail(c, op_pos(c, n), "comparisons between scalars must use BOOL modifier");
    }
    if (op_is_set(op) && n->u.bin.card == PROMQL_CARD_ONE_TO_ONE) {
        n->u.bin.card = PROMQL_CARD_MANY_TO_MANY;
    }
    for (size_t i = 0; n->u.bin.on && i < n->u.bin.labels.n; i++) {
        for (size_t k = 0; k < n->u.bin.include.n; k++) {
            if (strcmp(n->u.bin.labels.names[i], n->u.bin.include.names[k]) == 0) {
                snprintf(msg, sizeof(msg), "label \"%s\" must not occur in ON and GROUP clause at once",
                         n->u.bin.labels.names[i]);
                check_fail(c, op_pos(c, n), msg);
            }
        }
    }
    if (lt != PROMQL_TYPE_SCALAR && lt != PROMQL_TYPE_VECTOR) {
        check_fail(c, n->u.bin.lhs->pos.start, "binary expression must contain only scalar and instant vector types");
    }
    if (rt != PROMQL_TYPE_SCALAR && rt != PROMQL_TYPE_VECTOR) {
        check_fail(c, n->u.bin.rhs->pos.start, "binary expression must contain only scalar and instant vector types");
    }
    if (lt != PROMQL_TYPE_VECTOR || rt != PROMQL_TYPE_VECTOR) {
        if (n->u.bin.labels.n > 0) {
            check_fail(c, n->pos.start, "vector matching only allowed between instant vectors");
        }
        n->u.bin.matching = false;
    } else if (op_is_set(op)) {
        if (n->u.bin.card == PROMQL_CARD_ONE_TO_MANY || n->u.bin.card == PROMQL_CARD_MANY_TO_ONE) {
            snprintf(msg, sizeof(msg), "no grouping allowed for \"%s\" operation", promql_op_str(op));
            check_fail(c, n->pos.start, msg);
        }
    }
    if ((lt == PROMQL_TYPE_SCALAR || rt == PROMQL_TYPE_SCALAR) && op_is_set(op)) {
        snprintf(msg, sizeof(msg), "set operator \"%s\" not allowed in binary scalar expression", promql_op_str(op));
        check_fail(c, n->pos.start, msg);
    }
}

static void check_selector(checker_t *c, promql_node_t *n)
{
    size_t nm = n->u.vs.nmatchers;
    if (n->u.vs.name[0] != '\0') {
        for (size_t i = 0; i + 1 < nm; i++) {
            if (strcmp(n->u.vs.matchers[i].name, "__name__") == 0) {
                buf_t b = { 0 };
                buf_puts(&b, "metric name must not be set twice: ");
                promql_quote(n->u.vs.name, strlen(n->u.vs.name), 0, &b);
                buf_puts(&b, " or ");
                promql_quote(n->u.vs.matchers[i].value, n->u.vs.matchers[i].value_len, 0, &b);
                check_fail(c, n->pos.start, (const char *)b.data);
                buf_fini(&b);
            }
        }
        return;
    }
    for (size_t i = 0; i < nm; i++) {
        if (!matcher_matches_empty(&n->u.vs.matchers[i])) {
            return;
        }
    }
    check_fail(c, n->pos.start, "vector selector must contain at least one non-empty matcher");
}

static void check_aggregate(checker_t *c, promql_node_t *n)
{
    promql_agg_op_t op = n->u.agg.op;
    expect_type(c, n->u.agg.expr, PROMQL_TYPE_VECTOR, "aggregation expression");
    if (op == PROMQL_AGG_TOPK || op == PROMQL_AGG_BOTTOMK || op == PROMQL_AGG_QUANTILE || op == PROMQL_AGG_LIMITK ||
        op == PROMQL_AGG_LIMIT_RATIO) {
        expect_type(c, n->u.agg.param, PROMQL_TYPE_SCALAR, "aggregation parameter");
    }
    if (op == PROMQL_AGG_COUNT_VALUES) {
        expect_type(c, n->u.agg.param, PROMQL_TYPE_STRING, "aggregation parameter");
    }
}

static promql_type_t check_node(checker_t *c, promql_node_t *n)
{
    char msg[160];
    switch (n->kind) {
    case PROMQL_AGGREGATE:
        check_aggregate(c, n);
        break;
    case PROMQL_BINARY:
        check_binary(c, n);
        break;
    case PROMQL_CALL:
        check_call(c, n);
        break;
    case PROMQL_PAREN:
        check_node(c, n->u.paren.expr);
        break;
    case PROMQL_UNARY: {
        promql_type_t t = check_node(c, n->u.unary.expr);
        if (t != PROMQL_TYPE_SCALAR && t != PROMQL_TYPE_VECTOR) {
            snprintf(msg, sizeof(msg),
                     "unary expression only allowed on expressions of type scalar or instant vector, got \"%s\"",
                     promql_type_str(t));
            check_fail(c, n->pos.start, msg);
        }
        break;
    }
    case PROMQL_SUBQUERY: {
        promql_type_t t = check_node(c, n->u.sq.expr);
        if (t != PROMQL_TYPE_VECTOR) {
            snprintf(msg, sizeof(msg), "subquery is only allowed on instant vector, got %s instead", type_raw_str(t));
            check_fail(c, n->pos.start, msg);
        }
        break;
    }
    case PROMQL_MATRIX_SEL:
        check_node(c, n->u.ms.vs);
        break;
    case PROMQL_VECTOR_SEL:
        check_selector(c, n);
        break;
    case PROMQL_NUMBER:
    case PROMQL_STRING:
        break;
    }
    return promql_node_type(n);
}

int promql_check(const char *q, size_t len, promql_node_t *root, promql_error_t *err)
{
    checker_t c = { .q = q, .len = len, .err = err };
    check_node(&c, root);
    return c.failed ? -1 : 0;
}

void promql_release(promql_node_t *n)
{
    if (n == NULL) {
        return;
    }
    switch (n->kind) {
    case PROMQL_VECTOR_SEL:
        for (size_t i = 0; i < n->u.vs.nmatchers; i++) {
            matcher_fini(&n->u.vs.matchers[i]);
        }
        n->u.vs.nmatchers = 0;
        break;
    case PROMQL_MATRIX_SEL:
        promql_release(n->u.ms.vs);
        break;
    case PROMQL_SUBQUERY:
        promql_release(n->u.sq.expr);
        break;
    case PROMQL_CALL:
        for (size_t i = 0; i < n->u.call.nargs; i++) {
            promql_release(n->u.call.args[i]);
        }
        break;
    case PROMQL_AGGREGATE:
        promql_release(n->u.agg.param);
        promql_release(n->u.agg.expr);
        break;
    case PROMQL_BINARY:
        promql_release(n->u.bin.lhs);
        promql_release(n->u.bin.rhs);
        break;
    case PROMQL_UNARY:
        promql_release(n->u.unary.expr);
        break;
    case PROMQL_PAREN:
        promql_release(n->u.paren.expr);
        break;
    case PROMQL_NUMBER:
    case PROMQL_STRING:
        break;
    }
}

/* Go's strconv.FormatFloat(v, 'f', -1, 64): shortest round-trip digits,
 * never an exponent. */
static void format_float(double v, buf_t *out)
{
    json_go_float(out, v, 'f');
}

static void format_duration(int64_t ms, buf_t *out)
{
    char tmp[40];
    if (ms < 0) {
        buf_putc(out, '-');
        ms = ms == INT64_MIN ? INT64_MAX : -ms;
    }
    size_t n = str_format_duration_ms(ms, tmp);
    buf_append(out, tmp, n);
}

static void format_modifiers(int64_t offset_ms, promql_at_t at, int64_t at_ms, buf_t *out)
{
    if (at == PROMQL_AT_TIMESTAMP) {
        buf_printf(out, " @ %.3f", (double)at_ms / 1000.0);
    } else if (at != PROMQL_AT_NONE) {
        buf_puts(out, at == PROMQL_AT_START ? " @ start()" : " @ end()");
    }
    if (offset_ms != 0) {
        buf_puts(out, " offset ");
        format_duration(offset_ms, out);
    }
}

/* A label name as Prometheus 3 prints it: bare when a legacy name, else
 * quoted. */
static void format_label_name(const char *name, size_t len, buf_t *out)
{
    bool legacy = len > 0;
    for (size_t i = 0; i < len && legacy; i++) {
        char c = name[i];
        legacy = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9');
    }
    if (legacy) {
        buf_append(out, name, len);
    } else {
        promql_quote(name, len, 0, out);
    }
}

static int cmp_str(const void *a, const void *b)
{
    const buf_t *x = a;
    const buf_t *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int r = memcmp(x->data, y->data, n);
    return r != 0 ? r : (x->len > y->len) - (x->len < y->len);
}

static void format_selector(const promql_node_t *n, buf_t *out)
{
    const char *name = n->u.vs.name;
    buf_puts(out, name);
    size_t nm = n->u.vs.nmatchers;
    buf_t *parts = mem_calloc(nm ? nm : 1, sizeof(*parts));
    size_t np = 0;
    for (size_t i = 0; i < nm; i++) {
        const matcher_t *m = &n->u.vs.matchers[i];
        if (strcmp(m->name, "__name__") == 0 && m->type == MATCH_EQ && m->value_len > 0 &&
            strlen(name) == m->value_len && memcmp(m->value, name, m->value_len) == 0) {
            continue;
        }
        format_label_name(m->name, m->name_len, &parts[np]);
        buf_puts(&parts[np], match_type_str(m->type));
        promql_quote(m->value, m->value_len, 0, &parts[np]);
        np++;
    }
    if (np > 0) {
        qsort(parts, np, sizeof(*parts), cmp_str);
        buf_putc(out, '{');
        for (size_t i = 0; i < np; i++) {
            if (i > 0) {
                buf_putc(out, ',');
            }
            buf_append(out, parts[i].data, parts[i].len);
            buf_fini(&parts[i]);
        }
        buf_putc(out, '}');
    }
    mem_free(parts);
}

static void format_labels(const promql_labels_t *l, buf_t *out)
{
    buf_putc(out, '(');
    for (size_t i = 0; i < l->n; i++) {
        buf_puts(out, i > 0 ? ", " : "");
        const char *name = l->names[i];
        /* In a grouping list the lexer reads a bare inf or nan as a
         * number, so those names stay quoted to re-parse (Prometheus
         * prints them bare and cannot read its own output back). */
        if (strcasecmp(name, "inf") == 0 || strcasecmp(name, "nan") == 0) {
            promql_quote(name, strlen(name), 0, out);
        } else {
            format_label_name(name, strlen(name), out);
        }
    }
    buf_putc(out, ')');
}

static void format_binary(const promql_node_t *n, buf_t *out)
{
    promql_format(n->u.bin.lhs, out);
    buf_printf(out, " %s%s", promql_op_str(n->u.bin.op), n->u.bin.return_bool ? " bool" : "");
    if (n->u.bin.matching && (n->u.bin.labels.n > 0 || n->u.bin.on)) {
        buf_puts(out, n->u.bin.on ? " on " : " ignoring ");
        format_labels(&n->u.bin.labels, out);
        if (n->u.bin.card == PROMQL_CARD_MANY_TO_ONE || n->u.bin.card == PROMQL_CARD_ONE_TO_MANY) {
            buf_puts(out, n->u.bin.card == PROMQL_CARD_MANY_TO_ONE ? " group_left " : " group_right ");
            format_labels(&n->u.bin.include, out);
        }
    }
    buf_putc(out, ' ');
    promql_format(n->u.bin.rhs, out);
}

static void format_aggregate(const promql_node_t *n, buf_t *out)
{
    buf_puts(out, promql_agg_op_str(n->u.agg.op));
    if (n->u.agg.without || n->u.agg.grouping.n > 0) {
        buf_puts(out, n->u.agg.without ? " without " : " by ");
        format_labels(&n->u.agg.grouping, out);
        buf_putc(out, ' ');
    }
    buf_putc(out, '(');
    if (n->u.agg.param != NULL) {
        promql_format(n->u.agg.param, out);
        buf_puts(out, ", ");
    }
    promql_format(n->u.agg.expr, out);
    buf_putc(out, ')');
}

void promql_format(const promql_node_t *n, buf_t *out)
{
    assert(n != NULL && out != NULL);
    switch (n->kind) {
    case PROMQL_NUMBER:
        if (n->u.num.duration) {
            format_duration((int64_t)llround(n->u.num.val * 1000.0), out);
        } else {
            format_float(n->u.num.val, out);
        }
        break;
    case PROMQL_STRING:
        promql_quote(n->u.str.val, n->u.str.len, 0, out);
        break;
    case PROMQL_VECTOR_SEL:
        format_selector(n, out);
        format_modifiers(n->u.vs.offset_ms, n->u.vs.at, n->u.vs.at_ms, out);
        break;
    case PROMQL_MATRIX_SEL:
        format_selector(n->u.ms.vs, out);
        buf_putc(out, '[');
        format_duration(n->u.ms.range_ms, out);
        buf_putc(out, ']');
        format_modifiers(n->u.ms.vs->u.vs.offset_ms, n->u.ms.vs->u.vs.at, n->u.ms.vs->u.vs.at_ms, out);
        break;
    case PROMQL_SUBQUERY:
        promql_format(n->u.sq.expr, out);
        buf_putc(out, '[');
        format_duration(n->u.sq.range_ms, out);
        buf_putc(out, ':');
        if (n->u.sq.step_ms != 0) {
            format_duration(n->u.sq.step_ms, out);
        }
        buf_putc(out, ']');
        format_modifiers(n->u.sq.offset_ms, n->u.sq.at, n->u.sq.at_ms, out);
        break;
    case PROMQL_CALL:
        buf_puts(out, n->u.call.func->name);
        buf_putc(out, '(');
        for (size_t i = 0; i < n->u.call.nargs; i++) {
            buf_puts(out, i > 0 ? ", " : "");
            promql_format(n->u.call.args[i], out);
        }
        buf_putc(out, ')');
        break;
    case PROMQL_AGGREGATE:
        format_aggregate(n, out);
        break;
    case PROMQL_BINARY:
        format_binary(n, out);
        break;
    case PROMQL_UNARY:
        buf_putc(out, n->u.unary.neg ? '-' : '+');
        promql_format(n->u.unary.expr, out);
        break;
    case PROMQL_PAREN:
        buf_putc(out, '(');
        promql_format(n->u.paren.expr, out);
        buf_putc(out, ')');
        break;
    }
}

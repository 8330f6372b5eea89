/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_prom_ast: the JSON tree /api/v1/parse_query answers, as Prometheus
 * 3.0's translateAST (web/api/v1/translate_ast.go) builds it and Go's
 * encoding/json writes it: every node is an object whose keys are sorted
 * (Go sorts map keys), e.g.
 *   {"matchers":[{"name":"__name__","type":"=","value":"up"}],"name":"up",
 *    "offset":0,"startOrEnd":null,"timestamp":null,"type":"vectorSelector"}
 * Numbers are strings of FormatFloat(v, 'f', -1); times and durations are
 * integer milliseconds; empty label lists are [] (sanitizeList); a missing
 * parameter, vector matching (scalar operands) or @ is null. The duration
 * expression fields of later Prometheus versions (rangeExpr, offsetExpr,
 * stepExpr) are not written: our parser has no duration arithmetic.
 */
#include <string.h>

#include "common/json_out.h"
#include "query/api_prom_int.h"

static const char *ast_value_type(promql_type_t t)
{
    static const char *const s[] = { "none", "scalar", "vector", "matrix", "string" };
    return s[t];
}

static void ast_key(buf_t *b, const char *k, bool first)
{
    buf_printf(b, first ? "\"%s\":" : ",\"%s\":", k);
}

static void ast_names(buf_t *b, const promql_labels_t *l)
{
    buf_putc(b, '[');
    for (size_t i = 0; i < l->n; i++) {
        buf_puts(b, i ? "," : "");
        json_cstr(b, l->names[i]);
    }
    buf_putc(b, ']');
}

static void ast_matchers(buf_t *b, const promql_node_t *vs)
{
    buf_putc(b, '[');
    for (size_t i = 0; i < vs->u.vs.nmatchers; i++) {
        const matcher_t *m = &vs->u.vs.matchers[i];
        buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        json_str(b, m->name, m->name_len);
        buf_printf(b, ",\"type\":\"%s\",\"value\":", match_type_str(m->type));
        json_str(b, m->value, m->value_len);
        buf_putc(b, '}');
    }
    buf_putc(b, ']');
}

/* ,"startOrEnd":… of a selector or subquery. */
static void ast_start_or_end(buf_t *b, promql_at_t at)
{
    ast_key(b, "startOrEnd", false);
    buf_puts(b, at == PROMQL_AT_START ? "\"start\"" : at == PROMQL_AT_END ? "\"end\"" : "null");
}

/* ,"timestamp":… (the @ time in ms, or null). */
static void ast_timestamp(buf_t *b, promql_at_t at, int64_t at_ms)
{
    ast_key(b, "timestamp", false);
    if (at == PROMQL_AT_TIMESTAMP) {
        buf_printf(b, "%lld", (long long)at_ms);
    } else {
        buf_puts(b, "null");
    }
}

static void ast_call(const promql_node_t *n, buf_t *b)
{
    const promql_func_t *f = n->u.call.func;
    buf_puts(b, "{\"args\":[");
    for (size_t i = 0; i < n->u.call.nargs; i++) {
        buf_puts(b, i ? "," : "");
        api_prom_ast_json(n->u.call.args[i], b);
    }
    buf_puts(b, "],\"func\":{\"argTypes\":[");
    for (int i = 0; i < f->nargs; i++) {
        buf_printf(b, "%s\"%s\"", i ? "," : "", ast_value_type(f->args[i]));
    }
    buf_puts(b, "],\"name\":");
    json_cstr(b, f->name);
    buf_printf(b, ",\"returnType\":\"%s\",\"variadic\":%d},\"type\":\"call\"}", ast_value_type(f->ret), f->variadic);
}

static void ast_binary(const promql_node_t *n, buf_t *b)
{
    buf_printf(b, "{\"bool\":%s,\"lhs\":", n->u.bin.return_bool ? "true" : "false");
    api_prom_ast_json(n->u.bin.lhs, b);
    ast_key(b, "matching", false);
    if (n->u.bin.matching) {
        static const char *const card[] = { "one-to-one", "many-to-one", "one-to-many", "many-to-many" };
        buf_printf(b, "{\"card\":\"%s\",\"include\":", card[n->u.bin.card]);
        ast_names(b, &n->u.bin.include);
        buf_puts(b, ",\"labels\":");
        ast_names(b, &n->u.bin.labels);
        buf_printf(b, ",\"on\":%s}", n->u.bin.on ? "true" : "false");
    } else {
        buf_puts(b, "null");
    }
    ast_key(b, "op", false);
    json_cstr(b, promql_op_str(n->u.bin.op));
    ast_key(b, "rhs", false);
    api_prom_ast_json(n->u.bin.rhs, b);
    buf_puts(b, ",\"type\":\"binaryExpr\"}");
}

void api_prom_ast_json(const promql_node_t *n, buf_t *b)
{
    switch (n->kind) {
    case PROMQL_AGGREGATE:
        buf_puts(b, "{\"expr\":");
        api_prom_ast_json(n->u.agg.expr, b);
        ast_key(b, "grouping", false);
        ast_names(b, &n->u.agg.grouping);
        ast_key(b, "op", false);
        json_cstr(b, promql_agg_op_str(n->u.agg.op));
        ast_key(b, "param", false);
        if (n->u.agg.param) {
            api_prom_ast_json(n->u.agg.param, b);
        } else {
            buf_puts(b, "null");
        }
        buf_printf(b, ",\"type\":\"aggregation\",\"without\":%s}", n->u.agg.without ? "true" : "false");
        return;
    case PROMQL_BINARY:
        ast_binary(n, b);
        return;
    case PROMQL_CALL:
        ast_call(n, b);
        return;
    case PROMQL_MATRIX_SEL: {
        const promql_node_t *vs = n->u.ms.vs;
        buf_puts(b, "{\"matchers\":");
        ast_matchers(b, vs);
        buf_puts(b, ",\"name\":");
        json_cstr(b, vs->u.vs.name);
        buf_printf(b, ",\"offset\":%lld,\"range\":%lld", (long long)vs->u.vs.offset_ms, (long long)n->u.ms.range_ms);
        ast_start_or_end(b, vs->u.vs.at);
        ast_timestamp(b, vs->u.vs.at, vs->u.vs.at_ms);
        buf_puts(b, ",\"type\":\"matrixSelector\"}");
        return;
    }
    case PROMQL_SUBQUERY:
        buf_puts(b, "{\"expr\":");
        api_prom_ast_json(n->u.sq.expr, b);
        buf_printf(b, ",\"offset\":%lld,\"range\":%lld", (long long)n->u.sq.offset_ms, (long long)n->u.sq.range_ms);
        ast_start_or_end(b, n->u.sq.at);
        buf_printf(b, ",\"step\":%lld", (long long)n->u.sq.step_ms);
        ast_timestamp(b, n->u.sq.at, n->u.sq.at_ms);
        buf_puts(b, ",\"type\":\"subquery\"}");
        return;
    case PROMQL_NUMBER:
        buf_puts(b, "{\"type\":\"numberLiteral\",\"val\":\"");
        json_go_float(b, n->u.num.val, 'f');
        buf_puts(b, "\"}");
        return;
    case PROMQL_PAREN:
        buf_puts(b, "{\"expr\":");
        api_prom_ast_json(n->u.paren.expr, b);
        buf_puts(b, ",\"type\":\"parenExpr\"}");
        return;
    case PROMQL_STRING:
        buf_puts(b, "{\"type\":\"stringLiteral\",\"val\":");
        json_str(b, n->u.str.val, n->u.str.len);
        buf_putc(b, '}');
        return;
    case PROMQL_UNARY:
        buf_puts(b, "{\"expr\":");
        api_prom_ast_json(n->u.unary.expr, b);
        buf_printf(b, ",\"op\":\"%s\",\"type\":\"unaryExpr\"}", n->u.unary.neg ? "-" : "+");
        return;
    case PROMQL_VECTOR_SEL:
        buf_puts(b, "{\"matchers\":");
        ast_matchers(b, n);
        buf_puts(b, ",\"name\":");
        json_cstr(b, n->u.vs.name);
        buf_printf(b, ",\"offset\":%lld", (long long)n->u.vs.offset_ms);
        ast_start_or_end(b, n->u.vs.at);
        ast_timestamp(b, n->u.vs.at, n->u.vs.at_ms);
        buf_puts(b, ",\"type\":\"vectorSelector\"}");
        return;
    }
}

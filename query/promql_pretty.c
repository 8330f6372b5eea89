/* SPDX-License-Identifier: Apache-2.0 */
/*
 * promql_pretty: Prometheus' Prettify() (promql/parser/prettier.go), the
 * text /api/v1/format_query answers.
 *
 * Each node either fits on one line (its String() form, promql_format, is
 * at most width bytes: Prometheus' maxCharactersPerLine, 100) and is
 * printed as is, or is split: an aggregation, call or parenthesis opens
 * on its line and puts its operands one level deeper (two spaces each),
 * a binary expression puts its operands one level deeper with the
 * operator on a line of its own at the node's level. Selectors, numbers
 * and strings never split. Prometheus' quirks are kept on purpose, since
 * the output must be byte-identical: a subquery that fits is printed
 * without indentation, and a unary operator glues itself to its operand
 * with the operand's leading spaces trimmed.
 *
 * The parts of a node's String() that Prettify reuses (an aggregation's
 * "sum by (a) ", an operator with its bool and matching clause, a
 * subquery's "[5m:1m] offset 1m") are cut out of promql_format's output
 * for a copy of the node whose operands are replaced by the literal 0, so
 * label names and durations are printed by the one printer. Work: a node
 * is formatted once per level above it, O(depth × length) in all.
 */
#include <string.h>

#include "query/promql.h"

static void pretty_indent(size_t level, buf_t *out)
{
    for (size_t i = 0; i < level; i++) {
        buf_append(out, "  ", 2);
    }
}

/* The String() of n into tmp (reset first); returns its length. */
static size_t pretty_string(const promql_node_t *n, buf_t *tmp)
{
    buf_reset(tmp);
    promql_format(n, tmp);
    return tmp->len;
}

/* Append s[from .. len - cut_tail) of n's String(). */
static void pretty_slice(const promql_node_t *n, size_t from, size_t cut_tail, buf_t *out)
{
    buf_t tmp = { 0 };
    size_t len = pretty_string(n, &tmp);
    if (len >= from + cut_tail) {
        buf_append(out, tmp.data + from, len - from - cut_tail);
    }
    buf_fini(&tmp);
}

static void pretty_node(const promql_node_t *n, size_t level, size_t width, buf_t *out);

static void pretty_aggregate(const promql_node_t *n, size_t level, size_t width, buf_t *out)
{
    /* ShortString: "sum", "sum by (a) ", the String() of a copy without
     * its parameter and with "0" as operand, minus "(0)". */
    promql_node_t zero = { .kind = PROMQL_NUMBER };
    promql_node_t head = *n;
    head.u.agg.param = NULL;
    head.u.agg.expr = &zero;
    pretty_indent(level, out);
    pretty_slice(&head, 0, 3, out);
    buf_puts(out, "(\n");
    if (n->u.agg.param) {
        pretty_node(n->u.agg.param, level + 1, width, out);
        buf_puts(out, ",\n");
    }
    pretty_node(n->u.agg.expr, level + 1, width, out);
    buf_putc(out, '\n');
    pretty_indent(level, out);
    buf_putc(out, ')');
}

static void pretty_binary(const promql_node_t *n, size_t level, size_t width, buf_t *out)
{
    /* The operator, " bool" and the matching clause: "0 <op…> 0" minus
     * the operands. */
    promql_node_t zero = { .kind = PROMQL_NUMBER };
    promql_node_t op = *n;
    op.u.bin.lhs = &zero;
    op.u.bin.rhs = &zero;
    pretty_node(n->u.bin.lhs, level + 1, width, out);
    buf_putc(out, '\n');
    pretty_indent(level, out);
    pretty_slice(&op, 2, 2, out);
    buf_putc(out, '\n');
    pretty_node(n->u.bin.rhs, level + 1, width, out);
}

static void pretty_call(const promql_node_t *n, size_t level, size_t width, buf_t *out)
{
    pretty_indent(level, out);
    buf_puts(out, n->u.call.func->name);
    buf_puts(out, "(\n");
    for (size_t i = 0; i < n->u.call.nargs; i++) {
        if (i > 0) {
            buf_puts(out, ",\n");
        }
        pretty_node(n->u.call.args[i], level + 1, width, out);
    }
    buf_putc(out, '\n');
    pretty_indent(level, out);
    buf_putc(out, ')');
}

static bool pretty_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static void pretty_unary(const promql_node_t *n, size_t level, size_t width, buf_t *out)
{
    buf_t child = { 0 };
    pretty_node(n->u.unary.expr, level, width, &child);
    size_t b = 0;
    size_t e = child.len;
    while (b < e && pretty_space(child.data[b])) {
        b++;
    }
    while (e > b && pretty_space(child.data[e - 1])) {
        e--;
    }
    pretty_indent(level, out);
    buf_putc(out, n->u.unary.neg ? '-' : '+');
    buf_append(out, child.data + b, e - b);
    buf_fini(&child);
}

static void pretty_node(const promql_node_t *n, size_t level, size_t width, buf_t *out)
{
    buf_t tmp = { 0 };
    bool split = pretty_string(n, &tmp) > width;
    switch (n->kind) {
    case PROMQL_UNARY:
        pretty_unary(n, level, width, out);
        break;
    case PROMQL_SUBQUERY:
        if (!split) {
            buf_append(out, tmp.data, tmp.len); /* no indent: Prometheus' own */
        } else {
            promql_node_t zero = { .kind = PROMQL_NUMBER };
            promql_node_t suffix = *n;
            suffix.u.sq.expr = &zero;
            pretty_node(n->u.sq.expr, level, width, out);
            pretty_slice(&suffix, 1, 0, out);
        }
        break;
    case PROMQL_AGGREGATE:
    case PROMQL_BINARY:
    case PROMQL_CALL:
    case PROMQL_PAREN:
        if (!split) {
            pretty_indent(level, out);
            buf_append(out, tmp.data, tmp.len);
        } else if (n->kind == PROMQL_AGGREGATE) {
            pretty_aggregate(n, level, width, out);
        } else if (n->kind == PROMQL_BINARY) {
            pretty_binary(n, level, width, out);
        } else if (n->kind == PROMQL_CALL) {
            pretty_call(n, level, width, out);
        } else {
            pretty_indent(level, out);
            buf_puts(out, "(\n");
            pretty_node(n->u.paren.expr, level + 1, width, out);
            buf_putc(out, '\n');
            pretty_indent(level, out);
            buf_putc(out, ')');
        }
        break;
    case PROMQL_NUMBER:
    case PROMQL_STRING:
    case PROMQL_VECTOR_SEL:
    case PROMQL_MATRIX_SEL:
        pretty_indent(level, out);
        buf_append(out, tmp.data, tmp.len);
        break;
    }
    buf_fini(&tmp);
}

void promql_pretty_width(const promql_node_t *n, size_t width, buf_t *out)
{
    pretty_node(n, 0, width, out);
}

void promql_pretty(const promql_node_t *n, buf_t *out)
{
    promql_pretty_width(n, PROMQL_PRETTY_WIDTH, out);
}

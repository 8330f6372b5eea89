/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logql_ast: prints a LogQL AST exactly as Loki's String() methods do
 * (pkg/logql/syntax/ast.go and the label filters of pkg/logql/log), and
 * the Go formatting those methods rely on: fmt.Sprint and FormatFloat of
 * float64, time.Duration.String, model.Duration.String, humanize.Bytes.
 *
 * Core idea: one small function per node kind, appending to a buf_t. The
 * output is Loki's canonical form: binary operations are parenthesised,
 * label-filter conjunctions print as "( a , b )", durations in label
 * filters and offsets as Go durations ("5m0s"), ranges as Prometheus
 * durations ("5m"), sizes as humanize.Bytes without spaces ("2.6kB").
 *
 * Invariant: printing never fails and never allocates outside out. Two
 * Loki quirks are kept on purpose: a size re-read from its rounded text
 * may print differently ("1000kB" reads back as 1MB), and a duration
 * under a millisecond prints with "µs", which Loki's lexer cannot read.
 */
#include <math.h>
#include <string.h>

#include "common/json_out.h"
#include "common/str.h"
#include "query/logql_int.h"
#include "query/promql_int.h"

const char *const logql_range_op_names[LQ_R__COUNT] = {
    [LQ_R_COUNT] = "count_over_time",     [LQ_R_RATE] = "rate",
    [LQ_R_RATE_COUNTER] = "rate_counter", [LQ_R_BYTES] = "bytes_over_time",
    [LQ_R_BYTES_RATE] = "bytes_rate",     [LQ_R_AVG] = "avg_over_time",
    [LQ_R_SUM] = "sum_over_time",         [LQ_R_MIN] = "min_over_time",
    [LQ_R_MAX] = "max_over_time",         [LQ_R_STDVAR] = "stdvar_over_time",
    [LQ_R_STDDEV] = "stddev_over_time",   [LQ_R_QUANTILE] = "quantile_over_time",
    [LQ_R_FIRST] = "first_over_time",     [LQ_R_LAST] = "last_over_time",
    [LQ_R_ABSENT] = "absent_over_time",
};

const char *const logql_vec_op_names[LQ_V__COUNT] = {
    [LQ_V_SUM] = "sum",
    [LQ_V_AVG] = "avg",
    [LQ_V_MAX] = "max",
    [LQ_V_MIN] = "min",
    [LQ_V_COUNT] = "count",
    [LQ_V_STDDEV] = "stddev",
    [LQ_V_STDVAR] = "stdvar",
    [LQ_V_BOTTOMK] = "bottomk",
    [LQ_V_TOPK] = "topk",
    [LQ_V_SORT] = "sort",
    [LQ_V_SORT_DESC] = "sort_desc",
};

const char *logql_binop_name(logql_binop_t op)
{
    static const char *const names[] = {
        [LQ_B_OR] = "or",  [LQ_B_AND] = "and", [LQ_B_UNLESS] = "unless", [LQ_B_ADD] = "+", [LQ_B_SUB] = "-",
        [LQ_B_MUL] = "*",  [LQ_B_DIV] = "/",   [LQ_B_MOD] = "%",         [LQ_B_POW] = "^", [LQ_B_EQ] = "==",
        [LQ_B_NEQ] = "!=", [LQ_B_GT] = ">",    [LQ_B_GTE] = ">=",        [LQ_B_LT] = "<",  [LQ_B_LTE] = "<=",
    };
    return names[op];
}

void logql_fmt_float(double v, char fmt, buf_t *out)
{
    json_go_float(out, v, fmt == 'f' ? 'f' : 'g');
}

void logql_fmt_model_duration(int64_t ms, buf_t *out)
{
    char tmp[32];
    buf_append(out, tmp, str_format_duration_ms(ms, tmp));
}

/* Go's fmtFrac: ".123" for v's last prec digits without trailing zeros. */
static uint64_t go_frac(uint64_t v, int prec, char *buf, size_t *w)
{
    bool print = false;
    for (int i = 0; i < prec; i++) {
        unsigned digit = (unsigned)(v % 10);
        print = print || digit != 0;
        if (print) {
            buf[--(*w)] = (char)('0' + digit);
        }
        v /= 10;
    }
    if (print) {
        buf[--(*w)] = '.';
    }
    return v;
}

static void go_int(uint64_t v, char *buf, size_t *w)
{
    if (v == 0) {
        buf[--(*w)] = '0';
        return;
    }
    while (v > 0) {
        buf[--(*w)] = (char)('0' + v % 10);
        v /= 10;
    }
}

void logql_fmt_go_duration(int64_t ns, buf_t *out)
{
    char buf[40];
    size_t w = sizeof(buf);
    uint64_t u = ns < 0 ? 0 - (uint64_t)ns : (uint64_t)ns;
    if (u == 0) {
        buf_puts(out, "0s");
        return;
    }
    buf[--w] = 's';
    if (u < 1000000000ULL) {
        int prec = u < 1000 ? 0 : u < 1000000 ? 3 : 6;
        if (u < 1000) {
            buf[--w] = 'n';
        } else if (u < 1000000) {
            buf[--w] = (char)0xB5;
            buf[--w] = (char)0xC2;
        } else {
            buf[--w] = 'm';
        }
        u = go_frac(u, prec, buf, &w);
        go_int(u, buf, &w);
    } else {
        u = go_frac(u, 9, buf, &w);
        go_int(u % 60, buf, &w);
        u /= 60;
        if (u > 0) {
            buf[--w] = 'm';
            go_int(u % 60, buf, &w);
            u /= 60;
            if (u > 0) {
                buf[--w] = 'h';
                go_int(u, buf, &w);
            }
        }
    }
    if (ns < 0) {
        buf[--w] = '-';
    }
    buf_append(out, buf + w, sizeof(buf) - w);
}

void logql_fmt_bytes(uint64_t v, buf_t *out)
{
    static const char *const sizes[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
    if (v < 10) {
        buf_printf(out, "%uB", (unsigned)v);
        return;
    }
    double e = floor(log((double)v) / log(1000.0));
    int ei = (int)e;
    if (ei > 6) {
        ei = 6;
    }
    double val = floor((double)v / pow(1000.0, e) * 10 + 0.5) / 10;
    buf_printf(out, val < 10 ? "%.1f%s" : "%.0f%s", val, sizes[ei]);
}

static void put_str(const logql_str_t *s, buf_t *out)
{
    promql_quote(s->p, s->len, 0, out);
}

static void put_matcher(const logql_matcher_t *m, buf_t *out)
{
    buf_append(out, m->name.p, m->name.len);
    buf_puts(out, match_type_str(m->type));
    put_str(&m->value, out);
}

static const char *const cmp_names[] = { "==", "!=", ">", ">=", "<", "<=" };

static void put_lblf(const logql_lblf_t *f, buf_t *out)
{
    switch (f->kind) {
    case LQ_LBL_AND:
    case LQ_LBL_OR:
        buf_puts(out, "( ");
        put_lblf(f->left, out);
        buf_puts(out, f->kind == LQ_LBL_AND ? " , " : " or ");
        put_lblf(f->right, out);
        buf_puts(out, " )");
        return;
    case LQ_LBL_STRING:
        put_matcher(&f->m, out);
        return;
    default:
        break;
    }
    buf_append(out, f->name.p, f->name.len);
    buf_puts(out, cmp_names[f->cmp]);
    if (f->kind == LQ_LBL_NUMBER) {
        logql_fmt_float(f->num, 'f', out);
    } else if (f->kind == LQ_LBL_DURATION) {
        logql_fmt_go_duration(f->dur_ns, out);
    } else {
        logql_fmt_bytes(f->bytes, out);
    }
}

static void put_kvs(const logql_stage_t *st, buf_t *out)
{
    for (size_t i = 0; i < st->nkvs; i++) {
        const logql_kv_t *kv = &st->kvs[i];
        if (st->kind == LQ_ST_DROP || st->kind == LQ_ST_KEEP) {
            buf_append(out, kv->name.p, kv->name.len);
            if (kv->has_matcher) {
                buf_puts(out, match_type_str(kv->type));
                put_str(&kv->value, out);
            }
        } else {
            buf_append(out, kv->name.p, kv->name.len);
            buf_putc(out, '=');
            if (kv->rename) {
                buf_append(out, kv->value.p, kv->value.len);
            } else {
                put_str(&kv->value, out);
            }
        }
        if (i + 1 < st->nkvs) {
            buf_putc(out, ',');
        }
    }
}

static void put_line_filter(const logql_stage_t *st, buf_t *out)
{
    static const char *const ops[] = { "|=", "!=", "|~", "!~", "|>", "!>" };
    buf_puts(out, ops[st->lf_op]);
    buf_putc(out, ' ');
    for (size_t i = 0; i < st->nvals; i++) {
        if (i > 0) {
            buf_puts(out, " or ");
        }
        put_str(&st->vals[i], out);
    }
}

static void put_logfmt(const logql_stage_t *st, buf_t *out)
{
    if (st->nkvs == 0) {
        buf_puts(out, "| logfmt");
        buf_puts(out, st->strict ? " --strict" : "");
        buf_puts(out, st->keep_empty ? " --keep-empty" : "");
        return;
    }
    buf_puts(out, "| logfmt ");
    buf_puts(out, st->strict ? "--strict " : "");
    buf_puts(out, st->keep_empty ? "--keep-empty " : "");
    put_kvs(st, out);
}

static void put_stage(const logql_stage_t *st, buf_t *out)
{
    static const char *const heads[] = {
        [LQ_ST_JSON] = "| json",
        [LQ_ST_REGEXP] = "| regexp ",
        [LQ_ST_PATTERN] = "| pattern ",
        [LQ_ST_UNPACK] = "| unpack",
        [LQ_ST_LINE_FORMAT] = "| line_format ",
        [LQ_ST_LABEL_FORMAT] = "| label_format ",
        [LQ_ST_DROP] = "| drop ",
        [LQ_ST_KEEP] = "| keep ",
        [LQ_ST_DECOLORIZE] = "| decolorize",
        [LQ_ST_LABEL_FILTER] = "| ",
    };
    switch (st->kind) {
    case LQ_ST_LINE_FILTER:
        put_line_filter(st, out);
        return;
    case LQ_ST_LOGFMT:
        put_logfmt(st, out);
        return;
    default:
        break;
    }
    buf_puts(out, heads[st->kind]);
    if (st->kind == LQ_ST_JSON && st->nkvs > 0) {
        buf_putc(out, ' ');
    }
    if (st->kind == LQ_ST_REGEXP || st->kind == LQ_ST_PATTERN || st->kind == LQ_ST_LINE_FORMAT) {
        put_str(&st->param, out);
    } else if (st->kind == LQ_ST_LABEL_FILTER) {
        put_lblf(st->filter, out);
    } else {
        put_kvs(st, out);
    }
}

static void put_log(const logql_node_t *n, buf_t *out)
{
    buf_putc(out, '{');
    for (size_t i = 0; i < n->u.log.nm; i++) {
        if (i > 0) {
            buf_puts(out, ", ");
        }
        put_matcher(&n->u.log.m[i], out);
    }
    buf_putc(out, '}');
    for (size_t i = 0; i < n->u.log.nstages; i++) {
        buf_putc(out, ' ');
        put_stage(&n->u.log.stages[i], out);
    }
}

static void put_labels(const logql_str_t *l, size_t n, buf_t *out)
{
    buf_putc(out, '(');
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            buf_putc(out, ',');
        }
        buf_append(out, l[i].p, l[i].len);
    }
    buf_putc(out, ')');
}

static void put_grouping(const logql_grouping_t *g, buf_t *out)
{
    buf_puts(out, g->without ? " without " : " by ");
    put_labels(g->labels, g->nlabels, out);
}

static void put_unwrap(const logql_unwrap_t *u, buf_t *out)
{
    static const char *const convs[] = { "", "bytes", "duration", "duration_seconds" };
    buf_puts(out, " | unwrap ");
    if (u->conv != LQ_CONV_NONE) {
        buf_printf(out, "%s(%.*s)", convs[u->conv], (int)u->ident.len, u->ident.p);
    } else {
        buf_append(out, u->ident.p, u->ident.len);
    }
    for (size_t i = 0; i < u->npost; i++) {
        buf_puts(out, " | ");
        put_lblf(u->post[i], out);
    }
}

static void put_range(const logql_node_t *n, buf_t *out)
{
    buf_puts(out, logql_range_op_names[n->u.range.op]);
    buf_putc(out, '(');
    if (n->u.range.has_param) {
        logql_fmt_float(n->u.range.param, 'f', out);
        buf_putc(out, ',');
    }
    put_log(n->u.range.log, out);
    if (n->u.range.unwrap != NULL) {
        put_unwrap(n->u.range.unwrap, out);
    }
    buf_putc(out, '[');
    logql_fmt_model_duration(n->u.range.range_ms, out);
    buf_putc(out, ']');
    if (n->u.range.offset_ns != 0) {
        buf_puts(out, " offset ");
        logql_fmt_go_duration(n->u.range.offset_ns, out);
    }
    buf_putc(out, ')');
    if (n->u.range.grouping.present) {
        put_grouping(&n->u.range.grouping, out);
    }
}

static void put_vec(const logql_node_t *n, buf_t *out)
{
    const logql_grouping_t *g = &n->u.vec.grouping;
    buf_puts(out, logql_vec_op_names[n->u.vec.op]);
    if (g->present && (g->nlabels > 0 || g->without)) {
        put_grouping(g, out);
    }
    buf_putc(out, '(');
    if (n->u.vec.op == LQ_V_TOPK || n->u.vec.op == LQ_V_BOTTOMK || n->u.vec.param != 0) {
        buf_printf(out, "%ld,", n->u.vec.param);
    }
    logql_format(n->u.vec.expr, out);
    buf_putc(out, ')');
}

/* Loki's BinOpExpr.String, including its double space after "on (x)"
 * when no group modifier follows. */
static void put_binop(const logql_node_t *n, buf_t *out)
{
    buf_putc(out, '(');
    logql_format(n->u.bin.lhs, out);
    buf_putc(out, ' ');
    buf_puts(out, logql_binop_name(n->u.bin.op));
    if (n->u.bin.return_bool) {
        buf_puts(out, " bool");
    }
    if (n->u.bin.has_matching) {
        buf_puts(out, n->u.bin.on ? " on " : " ignoring ");
        put_labels(n->u.bin.matching, n->u.bin.nmatching, out);
        buf_putc(out, ' ');
        if (n->u.bin.card != LQ_CARD_ONE_TO_ONE) {
            buf_puts(out, n->u.bin.card == LQ_CARD_MANY_TO_ONE ? "group_left" : "group_right");
        }
        if (n->u.bin.has_include) {
            buf_putc(out, ' ');
            put_labels(n->u.bin.include, n->u.bin.ninclude, out);
        }
    }
    buf_putc(out, ' ');
    logql_format(n->u.bin.rhs, out);
    buf_putc(out, ')');
}

void logql_format(const logql_node_t *n, buf_t *out)
{
    switch (n->kind) {
    case LQ_LOG:
        put_log(n, out);
        return;
    case LQ_RANGE_AGG:
        put_range(n, out);
        return;
    case LQ_VECTOR_AGG:
        put_vec(n, out);
        return;
    case LQ_BINOP:
        put_binop(n, out);
        return;
    case LQ_LITERAL:
        logql_fmt_float(n->u.value, 'v', out);
        return;
    case LQ_VECTOR:
        if (isfinite(n->u.value)) {
            buf_printf(out, "vector(%f)", n->u.value);
        } else {
            buf_puts(out, "vector(");
            logql_fmt_float(n->u.value, 'v', out);
            buf_putc(out, ')');
        }
        return;
    case LQ_LABEL_REPLACE:
        buf_puts(out, "label_replace(");
        logql_format(n->u.lr.expr, out);
        const logql_str_t *args[] = { &n->u.lr.dst, &n->u.lr.repl, &n->u.lr.src, &n->u.lr.regex };
        for (size_t i = 0; i < 4; i++) {
            buf_putc(out, ',');
            put_str(args[i], out);
        }
        buf_putc(out, ')');
        return;
    }
}

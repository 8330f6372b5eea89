/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_tmpl_exec: executes a parsed template as Go's text/template does
 * with Option("missingkey=zero"), and expands alert fields as Prometheus'
 * alerting rule does (the $labels/$externalLabels/$externalURL/$value
 * definitions prepended, the "<error expanding template: ...>" text).
 *
 * Core idea: a walk over the AST that mirrors Go's exec.go state machine:
 * evalPipeline / evalCommand / evalArg / evalField / evalCall with the same
 * argument type checks, the same truth rules for if/with/range, and the same
 * "last node visited" (s.at) so an error names the same node and column as
 * Go: "template: PARSE_NAME:LINE:COL: executing \"NAME\" at <node>: msg".
 * Values are tmpl_val_t (alerts_int.h), Go's reflect.Value for the types a
 * Prometheus or Alertmanager template meets; notification values' fields
 * and methods come from alerts_tmpl_notify.c's member table. {{template}}
 * walks the named body with only $ defined, as Go's walkTemplate.
 *
 * Invariants: the first error stops execution (the caller discards output);
 * work is bounded by TMPL_MAX_STEPS node visits (shared by all called
 * templates) and output by max_output, so nested ranges over large query
 * results end in an error, never a hang; recursion depth is bounded by the
 * parser's depth limit per body, TMPL_MAX_CALLS nested calls and
 * TMPL_MAX_NEST nested bodies, calls and pipelines together.
 * Variables live on a fixed stack (TMPL_MAX_XVARS) with Go's scoping
 * (popped at the end of if/with/range, per range iteration and per call).
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alerts/alerts_int.h"

#define TMPL_MAX_STEPS 1000000u
#define TMPL_MAX_XVARS 512
#define TMPL_MAX_CALLS 100 /* nested {{template}} calls (Go allows 100000 on its growable stack) */
#define TMPL_MAX_NEST 200  /* nested bodies, calls and pipelines together: C stack use */
#define TMPL_DEFAULT_MAX_OUTPUT (1u << 20)

typedef enum at_kind {
    AT_NONE,
    AT_ARG,
    AT_CMD,
    AT_PIPE,
    AT_NODE,
} at_kind_t;

typedef struct xvar {
    str_t name;
    tmpl_val_t v;
} xvar_t;

typedef struct xstate {
    const alerts_tmpl_t *t;      /* the executed text: `template` looks names up from it */
    const tmpl_def_t *cur;       /* the template being walked: error locations */
    const alerts_tmpl_data_t *d; /* rule templates' data, or NULL */
    arena_t *a;
    buf_t *out;
    buf_t *err;
    size_t out_start;
    size_t max_out;
    bool html; /* escape action output */
    bool failed;
    at_kind_t at_kind;
    const void *at;
    uint32_t at_pos;
    xvar_t vars[TMPL_MAX_XVARS];
    size_t nvars;
    size_t var_base; /* a called template sees only its own variables */
    int calls;
    int nest;
    tmpl_nkind_t jump; /* a pending {{break}} or {{continue}}; TMPL_N_TEXT: none */
    uint64_t steps;
    tmpl_fctx_t fctx;
} xstate_t;

static const tmpl_val_t INVALID = { .kind = TMPL_V_INVALID };

static void at_arg(xstate_t *s, const tmpl_arg_t *a)
{
    s->at_kind = AT_ARG;
    s->at = a;
    s->at_pos = a->pos;
}

static void at_cmd(xstate_t *s, const tmpl_cmd_t *c)
{
    s->at_kind = AT_CMD;
    s->at = c;
    s->at_pos = c->pos;
}

static void node_list_string(const tmpl_node_t *n, buf_t *out);

static void node_string(const tmpl_node_t *n, buf_t *out)
{
    static const char *const kw[] = { [TMPL_N_IF] = "if", [TMPL_N_RANGE] = "range", [TMPL_N_WITH] = "with" };
    switch (n->kind) {
    case TMPL_N_TEXT:
        buf_append(out, n->text.p, n->text.len);
        break;
    case TMPL_N_ACTION:
        buf_puts(out, "{{");
        tmpl_pipe_string(n->pipe, out);
        buf_puts(out, "}}");
        break;
    case TMPL_N_BREAK:
        buf_puts(out, "{{break}}");
        break;
    case TMPL_N_CONTINUE:
        buf_puts(out, "{{continue}}");
        break;
    case TMPL_N_TEMPLATE:
        buf_puts(out, "{{template ");
        labels_quote(n->text, out);
        if (n->pipe != NULL) {
            buf_putc(out, ' ');
            tmpl_pipe_string(n->pipe, out);
        }
        buf_puts(out, "}}");
        break;
    default:
        buf_printf(out, "{{%s ", kw[n->kind]);
        tmpl_pipe_string(n->pipe, out);
        buf_puts(out, "}}");
        node_list_string(n->list, out);
        if (n->else_list != NULL) {
            buf_puts(out, "{{else}}");
            node_list_string(n->else_list, out);
        }
        buf_puts(out, "{{end}}");
        break;
    }
}

static void node_list_string(const tmpl_node_t *n, buf_t *out)
{
    for (; n != NULL; n = n->next) {
        node_string(n, out);
    }
}

static void x_errorf(xstate_t *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void x_errorf(xstate_t *s, const char *fmt, ...)
{
    if (s->failed) {
        return;
    }
    s->failed = true;
    const char *src = s->cur->src;
    size_t pos = s->at_pos <= s->cur->len ? s->at_pos : s->cur->len;
    size_t line = 1, col = pos;
    for (size_t i = 0; i < pos; i++) {
        if (src[i] == '\n') {
            line++;
            col = pos - i - 1;
        }
    }
    buf_t ctx = { 0 };
    switch (s->at_kind) {
    case AT_ARG:
        tmpl_arg_string(s->at, &ctx);
        break;
    case AT_CMD:
        tmpl_cmd_string(s->at, &ctx);
        break;
    case AT_PIPE:
        tmpl_pipe_string(s->at, &ctx);
        break;
    case AT_NODE:
        node_string(s->at, &ctx);
        break;
    case AT_NONE:
        break;
    }
    buf_printf(s->err, "template: %s:%zu:%zu: executing ", s->cur->parse_name, line, col);
    labels_quote(str_cstr(s->cur->name), s->err);
    buf_printf(s->err, " at <%.*s>: ", (int)ctx.len, ctx.data ? (const char *)ctx.data : "");
    buf_fini(&ctx);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(s->err, fmt, ap);
    va_end(ap);
}

static bool step(xstate_t *s)
{
    if (s->failed) {
        return false;
    }
    if (++s->steps > TMPL_MAX_STEPS) {
        x_errorf(s, "template execution exceeds %u steps", TMPL_MAX_STEPS);
        return false;
    }
    return true;
}

static void xvar_push(xstate_t *s, str_t name, tmpl_val_t v)
{
    if (s->nvars >= TMPL_MAX_XVARS) {
        x_errorf(s, "too many variables");
        return;
    }
    s->vars[s->nvars].name = name;
    s->vars[s->nvars].v = v;
    s->nvars++;
}

static void xvar_set(xstate_t *s, str_t name, tmpl_val_t v)
{
    for (size_t i = s->nvars; i > s->var_base; i--) {
        if (str_eq(s->vars[i - 1].name, name)) {
            s->vars[i - 1].v = v;
            return;
        }
    }
    x_errorf(s, "undefined variable: %.*s", (int)name.len, name.p);
}

static tmpl_val_t xvar_get(xstate_t *s, str_t name)
{
    for (size_t i = s->nvars; i > s->var_base; i--) {
        if (str_eq(s->vars[i - 1].name, name)) {
            return s->vars[i - 1].v;
        }
    }
    x_errorf(s, "undefined variable: %.*s", (int)name.len, name.p);
    return INVALID;
}

static bool is_true(const tmpl_val_t *v, bool *ok)
{
    *ok = true;
    switch (v->kind) {
    case TMPL_V_INVALID:
    case TMPL_V_NIL:
        return false;
    case TMPL_V_BOOL:
        return v->b;
    case TMPL_V_INT:
    case TMPL_V_DURATION:
        return v->i != 0;
    case TMPL_V_FLOAT:
        return v->f != 0;
    case TMPL_V_STRING:
        return v->s.len > 0;
    case TMPL_V_MAP:
        return v->nlabels > 0;
    case TMPL_V_SAMPLES:
        return v->n > 0;
    case TMPL_V_SAMPLE:
        return v->samples != NULL;
    case TMPL_V_KV:
        return v->nlabels > 0;
    case TMPL_V_ALERTS:
    case TMPL_V_PAIRS:
    case TMPL_V_STRINGS:
        return tmpl_list_len(v) > 0;
    case TMPL_V_NDATA:
        return v->p != NULL;
    case TMPL_V_DATA:
    case TMPL_V_TIME:
    case TMPL_V_ALERT:
    case TMPL_V_PAIR:
    case TMPL_V_GOTIME:
        return true;
    }
    return true;
}

static tmpl_val_t eval_pipeline(xstate_t *s, tmpl_val_t dot, const tmpl_pipe_t *p);
static tmpl_val_t eval_function(xstate_t *s, tmpl_val_t dot, const tmpl_arg_t *id, const tmpl_cmd_t *cmd,
                                const tmpl_val_t *final);

static tmpl_val_t ideal_constant(xstate_t *s, const tmpl_arg_t *n)
{
    tmpl_val_t v = { 0 };
    if (n->is_float) {
        v.kind = TMPL_V_FLOAT;
        v.f = n->fval;
    } else if (n->is_int) {
        v.kind = TMPL_V_INT;
        v.i = n->ival;
    } else {
        x_errorf(s, "%.*s overflows int", (int)n->text.len, n->text.p);
    }
    return v;
}

static void not_a_function(xstate_t *s, const tmpl_cmd_t *cmd, const tmpl_val_t *final)
{
    if ((cmd != NULL && cmd->nargs > 1) || final != NULL) {
        buf_t b = { 0 };
        tmpl_arg_string(cmd != NULL ? cmd->args[0] : s->at, &b);
        x_errorf(s, "can't give argument to non-function %.*s", (int)b.len, b.data ? (char *)b.data : "");
        buf_fini(&b);
    }
}

static const char *data_type =
    "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value float64 }";

static tmpl_val_t eval_member(xstate_t *s, tmpl_val_t dot, const tmpl_member_t *m, tmpl_val_t recv,
                              const tmpl_cmd_t *args, const tmpl_val_t *final);

static tmpl_val_t eval_field(xstate_t *s, tmpl_val_t dot, str_t field, const tmpl_cmd_t *args, const tmpl_val_t *final,
                             tmpl_val_t recv)
{
    tmpl_val_t v = { 0 };
    bool has_args = (args != NULL && args->nargs > 1) || final != NULL;
    if (recv.kind == TMPL_V_INVALID || recv.kind == TMPL_V_NIL) {
        return INVALID;
    }
    if (recv.kind >= TMPL_V_NDATA) {
        if (recv.kind == TMPL_V_NDATA && recv.p == NULL) {
            x_errorf(s, "nil pointer evaluating *template.Data.%.*s", (int)field.len, field.p);
            return INVALID;
        }
        const tmpl_member_t *m = tmpl_member_find(recv.kind, field);
        if (m != NULL && !(m->recv == TMPL_V_ALERTS && recv.b)) { /* []template.Alert has no methods */
            return eval_member(s, dot, m, recv, args, final);
        }
        if (recv.kind != TMPL_V_KV) {
            x_errorf(s, "can't evaluate field %.*s in type %s", (int)field.len, field.p, tmpl_val_type(&recv));
            return INVALID;
        }
        recv.kind = TMPL_V_MAP; /* a key of the map */
    }
    if ((recv.kind == TMPL_V_DATA && s->d != NULL) || recv.kind == TMPL_V_SAMPLE) {
        if (recv.kind == TMPL_V_SAMPLE && recv.samples == NULL) {
            x_errorf(s, "nil pointer evaluating *template.sample.%.*s", (int)field.len, field.p);
            return INVALID;
        }
        bool data = recv.kind == TMPL_V_DATA;
        const alerts_tmpl_sample_t *sm = recv.samples;
        if (str_eq_cstr(field, "Labels")) {
            v.kind = TMPL_V_MAP;
            v.labels = data ? s->d->labels : sm->labels;
            v.nlabels = data ? s->d->nlabels : sm->nlabels;
        } else if (str_eq_cstr(field, "Value")) {
            v.kind = TMPL_V_FLOAT;
            v.f = data ? s->d->value : sm->value;
        } else if (data && str_eq_cstr(field, "ExternalLabels")) {
            v.kind = TMPL_V_MAP;
            v.labels = s->d->external_labels;
            v.nlabels = s->d->nexternal_labels;
        } else if (data && str_eq_cstr(field, "ExternalURL")) {
            v.kind = TMPL_V_STRING;
            v.s = str_cstr(s->d->external_url);
        } else {
            x_errorf(s, "can't evaluate field %.*s in type %s", (int)field.len, field.p,
                     data ? data_type : "*template.sample");
            return INVALID;
        }
        if (has_args) {
            x_errorf(s, "%.*s has arguments but cannot be invoked as function", (int)field.len, field.p);
        }
        return v;
    }
    if (recv.kind == TMPL_V_MAP) {
        if (has_args) {
            x_errorf(s, "%.*s is not a method but has arguments", (int)field.len, field.p);
            return INVALID;
        }
        v.kind = TMPL_V_STRING; /* missingkey=zero: "" when absent */
        v.s = str_from("", 0);
        for (size_t i = 0; i < recv.nlabels; i++) {
            if (str_eq(recv.labels[i].name, field)) {
                v.s = recv.labels[i].value;
                break;
            }
        }
        return v;
    }
    if (recv.kind == TMPL_V_TIME) {
        if (str_eq_cstr(field, "Unix")) {
            v.kind = TMPL_V_INT;
            int64_t sec = recv.i / 1000000000;
            if (recv.i % 1000000000 < 0) {
                sec--;
            }
            v.i = sec;
            return v;
        }
        if (str_eq_cstr(field, "UnixMilli")) {
            v.kind = TMPL_V_INT;
            v.i = recv.i / 1000000;
            return v;
        }
    }
    x_errorf(s, "can't evaluate field %.*s in type %s", (int)field.len, field.p, tmpl_val_type(&recv));
    return INVALID;
}

static tmpl_val_t eval_field_chain(xstate_t *s, tmpl_val_t dot, tmpl_val_t recv, const str_t *idents, size_t n,
                                   const tmpl_cmd_t *args, const tmpl_val_t *final)
{
    for (size_t i = 0; i + 1 < n && !s->failed; i++) {
        recv = eval_field(s, dot, idents[i], NULL, NULL, recv);
    }
    if (s->failed) {
        return INVALID;
    }
    return eval_field(s, dot, idents[n - 1], args, final, recv);
}

static tmpl_val_t eval_chain(xstate_t *s, tmpl_val_t dot, const tmpl_arg_t *c, const tmpl_cmd_t *args,
                             const tmpl_val_t *final)
{
    at_arg(s, c);
    tmpl_val_t base;
    if (c->pipe != NULL) {
        base = eval_pipeline(s, dot, c->pipe);
    } else {
        base = eval_function(s, dot, c, NULL, NULL);
    }
    if (s->failed) {
        return INVALID;
    }
    return eval_field_chain(s, dot, base, c->idents, c->nidents, args, final);
}

static tmpl_val_t eval_variable(xstate_t *s, tmpl_val_t dot, const tmpl_arg_t *v, const tmpl_cmd_t *args,
                                const tmpl_val_t *final)
{
    at_arg(s, v);
    tmpl_val_t val = xvar_get(s, v->name);
    if (v->nidents == 0) {
        not_a_function(s, args, final);
        return val;
    }
    return eval_field_chain(s, dot, val, v->idents, v->nidents, args, final);
}

static bool is_constant(const tmpl_arg_t *n)
{
    return n->kind == TMPL_A_BOOL || n->kind == TMPL_A_STRING || n->kind == TMPL_A_NUMBER;
}

/* The value of a bool, string or number constant (is_constant(n)). */
static tmpl_val_t constant(xstate_t *s, const tmpl_arg_t *n)
{
    assert(is_constant(n));
    if (n->kind == TMPL_A_NUMBER) {
        return ideal_constant(s, n);
    }
    if (n->kind == TMPL_A_BOOL) {
        return (tmpl_val_t){ .kind = TMPL_V_BOOL, .b = n->bval };
    }
    return (tmpl_val_t){ .kind = TMPL_V_STRING, .s = n->sval };
}

/* The parameter types our functions declare: the value kind each takes,
 * Go's type name, and whether nil converts to its zero value (pointers and
 * slices) or is an error (string, time.Time). Indexed by tmpl_ptype_t. */
static const struct {
    tmpl_vkind_t kind;
    const char *name;
    bool nilable;
} ptypes[] = {
    [TMPL_P_ANY] = { TMPL_V_INVALID, "interface {}", true },
    [TMPL_P_STRING] = { TMPL_V_STRING, "string", false },
    [TMPL_P_SAMPLE] = { TMPL_V_SAMPLE, "*template.sample", true },
    [TMPL_P_SAMPLES] = { TMPL_V_SAMPLES, "template.queryResult", true },
    [TMPL_P_STRINGS] = { TMPL_V_STRINGS, "[]string", true },
    [TMPL_P_GOTIME] = { TMPL_V_GOTIME, "time.Time", false },
};

static const char *ptype_name(tmpl_ptype_t pt)
{
    assert((size_t)pt < sizeof ptypes / sizeof ptypes[0]);
    return ptypes[pt].name;
}

/* Go's validateType for the parameter types our functions declare. */
static tmpl_val_t validate(xstate_t *s, tmpl_val_t v, tmpl_ptype_t pt)
{
    assert((size_t)pt < sizeof ptypes / sizeof ptypes[0]);
    if (s->failed) {
        return INVALID;
    }
    if (pt == TMPL_P_ANY || v.kind == ptypes[pt].kind) {
        return v;
    }
    bool nil = v.kind == TMPL_V_INVALID || v.kind == TMPL_V_NIL;
    if (ptypes[pt].nilable && nil) {
        return (tmpl_val_t){ .kind = ptypes[pt].kind }; /* nil pointer or slice */
    }
    if (v.kind == TMPL_V_INVALID) {
        x_errorf(s, "invalid value; expected %s", ptypes[pt].name);
    } else {
        x_errorf(s, "wrong type for value; expected %s; got %s", ptypes[pt].name, tmpl_val_type(&v));
    }
    return INVALID;
}

static tmpl_val_t eval_arg(xstate_t *s, tmpl_val_t dot, tmpl_ptype_t pt, const tmpl_arg_t *n)
{
    at_arg(s, n);
    switch (n->kind) {
    case TMPL_A_DOT:
        return validate(s, dot, pt);
    case TMPL_A_NIL:
        if (pt == TMPL_P_STRING || pt == TMPL_P_GOTIME) {
            x_errorf(s, "cannot assign nil to %s", ptype_name(pt));
            return INVALID;
        }
        return validate(s, (tmpl_val_t){ .kind = TMPL_V_NIL }, pt);
    case TMPL_A_FIELD:
        return validate(s, eval_field_chain(s, dot, dot, n->idents, n->nidents, NULL, NULL), pt);
    case TMPL_A_VAR:
        return validate(s, eval_variable(s, dot, n, NULL, NULL), pt);
    case TMPL_A_PIPE:
        return validate(s, eval_pipeline(s, dot, n->pipe), pt);
    case TMPL_A_IDENT:
        return validate(s, eval_function(s, dot, n, NULL, NULL), pt);
    case TMPL_A_CHAIN:
        return validate(s, eval_chain(s, dot, n, NULL, NULL), pt);
    default:
        break;
    }
    if (pt == TMPL_P_STRING) {
        if (n->kind == TMPL_A_STRING) {
            return constant(s, n);
        }
        x_errorf(s, "expected string; found %.*s", (int)n->text.len, n->text.p);
        return INVALID;
    }
    if (pt != TMPL_P_ANY) {
        x_errorf(s, "can't handle %.*s for arg of type %s", (int)n->text.len, n->text.p, ptype_name(pt));
        return INVALID;
    }
    if (is_constant(n)) {
        return constant(s, n);
    }
    x_errorf(s, "can't handle assignment of %.*s to empty interface argument", (int)n->text.len, n->text.p);
    return INVALID;
}

/* and/or: evaluate lazily, returning the deciding argument (Go 1.18+). */
static tmpl_val_t eval_lazy(xstate_t *s, tmpl_val_t dot, bool is_or, const tmpl_arg_t *const *args, size_t nargs,
                            const tmpl_val_t *final)
{
    tmpl_val_t v = INVALID;
    bool ok = true;
    for (size_t i = 0; i < nargs && !s->failed; i++) {
        v = eval_arg(s, dot, TMPL_P_ANY, args[i]);
        if (is_true(&v, &ok) == is_or) {
            return v;
        }
    }
    if (final != NULL) {
        v = *final;
    }
    return v;
}

/* The value a function or method call returned with status rc: on
 * failure Go's "error calling NAME: " and the text in e; a string longer
 * than the output bound fails too (values are bounded like the output:
 * doubling a variable in a loop stops here instead of exhausting memory).
 * Frees e. */
static tmpl_val_t call_result(xstate_t *s, const char *name, int rc, tmpl_val_t res, buf_t *e)
{
    if (rc != 0) {
        x_errorf(s, "error calling %s: %.*s", name, (int)e->len, e->data ? (char *)e->data : "");
        res = INVALID;
    } else if (res.kind == TMPL_V_STRING && res.s.len > s->max_out) {
        x_errorf(s, "error calling %s: result exceeds %zu bytes", name, s->max_out);
        res = INVALID;
    }
    buf_fini(e);
    return res;
}

static tmpl_val_t eval_call(xstate_t *s, tmpl_val_t dot, const tmpl_func_t *f, const tmpl_cmd_t *cmd,
                            const tmpl_arg_t *id, const tmpl_val_t *final)
{
    const tmpl_arg_t *const *args = NULL;
    size_t nargs = 0;
    if (cmd != NULL) {
        args = (const tmpl_arg_t *const *)cmd->args + 1;
        nargs = cmd->nargs - 1;
    }
    size_t num_in = nargs + (final != NULL);
    size_t np = (size_t)f->nparams;
    if (f->variadic ? num_in < np : num_in != np) {
        x_errorf(s, "wrong number of args for %s: want %s%zu got %zu", f->name, f->variadic ? "at least " : "", np,
                 num_in);
        return INVALID;
    }
    if (f->lazy) {
        return eval_lazy(s, dot, f->name[0] == 'o', args, nargs, final);
    }
    tmpl_val_t *vals = arena_alloc(s->a, (num_in + 1) * sizeof(*vals));
    for (size_t i = 0; i < nargs && !s->failed; i++) {
        vals[i] = eval_arg(s, dot, i < np ? f->params[i] : f->vtype, args[i]);
    }
    if (final != NULL && !s->failed) {
        vals[nargs] = validate(s, *final, nargs < np ? f->params[nargs] : f->vtype);
    }
    if (s->failed) {
        return INVALID;
    }
    tmpl_val_t res = INVALID;
    buf_t e = { 0 };
    int rc = f->call(&s->fctx, vals, num_in, &res, &e);
    if (rc != 0) {
        if (cmd != NULL) {
            at_cmd(s, cmd);
        } else {
            at_arg(s, id);
        }
    }
    return call_result(s, f->name, rc, res, &e);
}

static tmpl_val_t eval_function(xstate_t *s, tmpl_val_t dot, const tmpl_arg_t *id, const tmpl_cmd_t *cmd,
                                const tmpl_val_t *final)
{
    at_arg(s, id);
    return eval_call(s, dot, id->func, cmd, id, final);
}

/* A field or method of a notification value (Go's evalField finding a
 * method, then a field): arguments checked and evaluated as evalCall does. */
static tmpl_val_t eval_member(xstate_t *s, tmpl_val_t dot, const tmpl_member_t *m, tmpl_val_t recv,
                              const tmpl_cmd_t *args, const tmpl_val_t *final)
{
    size_t nargs = args != NULL && args->nargs > 1 ? args->nargs - 1 : 0;
    size_t num_in = nargs + (final != NULL);
    if (m->is_field && num_in > 0) {
        x_errorf(s, "%s has arguments but cannot be invoked as function", m->name);
        return INVALID;
    }
    if (num_in != (size_t)m->nparams) {
        x_errorf(s, "wrong number of args for %s: want %d got %zu", m->name, m->nparams, num_in);
        return INVALID;
    }
    tmpl_val_t arg = INVALID;
    if (nargs == 1) {
        arg = eval_arg(s, dot, m->params[0], args->args[1]);
    } else if (final != NULL) {
        arg = validate(s, *final, m->params[0]);
    }
    if (s->failed) {
        return INVALID;
    }
    tmpl_val_t res = INVALID;
    buf_t e = { 0 };
    int rc = m->call(&s->fctx, &recv, &arg, &res, &e);
    return call_result(s, m->name, rc, res, &e);
}

static tmpl_val_t eval_command(xstate_t *s, tmpl_val_t dot, const tmpl_cmd_t *cmd, const tmpl_val_t *final)
{
    const tmpl_arg_t *first = cmd->args[0];
    switch (first->kind) {
    case TMPL_A_FIELD:
        at_arg(s, first);
        return eval_field_chain(s, dot, dot, first->idents, first->nidents, cmd, final);
    case TMPL_A_CHAIN:
        return eval_chain(s, dot, first, cmd, final);
    case TMPL_A_IDENT:
        return eval_function(s, dot, first, cmd, final);
    case TMPL_A_PIPE:
        not_a_function(s, cmd, final);
        return s->failed ? INVALID : eval_pipeline(s, dot, first->pipe);
    case TMPL_A_VAR:
        return eval_variable(s, dot, first, cmd, final);
    default:
        break;
    }
    at_arg(s, first);
    not_a_function(s, cmd, final);
    if (s->failed) {
        return INVALID;
    }
    if (is_constant(first)) {
        return constant(s, first);
    }
    switch (first->kind) {
    case TMPL_A_DOT:
        return dot;
    case TMPL_A_NIL:
        x_errorf(s, "nil is not a command");
        return INVALID;
    default:
        x_errorf(s, "can't evaluate command %.*s", (int)first->text.len, first->text.p);
        return INVALID;
    }
}

static tmpl_val_t eval_pipeline(xstate_t *s, tmpl_val_t dot, const tmpl_pipe_t *p)
{
    s->at_kind = AT_PIPE;
    s->at = p;
    s->at_pos = p->pos;
    if (s->nest >= TMPL_MAX_NEST) { /* parenthesised pipelines in deep calls */
        x_errorf(s, "exceeded maximum nesting depth (%d)", TMPL_MAX_NEST);
        return INVALID;
    }
    s->nest++;
    tmpl_val_t v = INVALID;
    for (size_t i = 0; i < p->ncmds && !s->failed; i++) {
        tmpl_val_t prev = v;
        v = eval_command(s, dot, p->cmds[i], i > 0 ? &prev : NULL);
    }
    s->nest--;
    if (s->failed) {
        return INVALID;
    }
    for (size_t i = 0; i < p->ndecl; i++) {
        if (p->is_assign) {
            xvar_set(s, p->decl[i], v);
        } else {
            xvar_push(s, p->decl[i], v);
        }
    }
    return v;
}

static bool out_check(xstate_t *s)
{
    if (s->out->len - s->out_start > s->max_out) {
        x_errorf(s, "template output exceeds %zu bytes", s->max_out);
        return false;
    }
    return true;
}

static void walk_list(xstate_t *s, tmpl_val_t dot, const tmpl_node_t *n);

/* html/template's htmlEscaper for text and quoted attribute values. */
static void html_escape(const uint8_t *p, size_t n, buf_t *out)
{
    for (size_t i = 0; i < n; i++) {
        switch (p[i]) {
        case '&':
            buf_puts(out, "&amp;");
            break;
        case '<':
            buf_puts(out, "&lt;");
            break;
        case '>':
            buf_puts(out, "&gt;");
            break;
        case '"':
            buf_puts(out, "&#34;");
            break;
        case '\'':
            buf_puts(out, "&#39;");
            break;
        case '\0':
            buf_puts(out, "\xef\xbf\xbd");
            break;
        default:
            buf_putc(out, p[i]);
        }
    }
}

static void walk_range(xstate_t *s, tmpl_val_t dot, const tmpl_node_t *r)
{
    s->at_kind = AT_NODE;
    s->at = r;
    s->at_pos = r->pos;
    size_t mark = s->nvars;
    tmpl_val_t v = eval_pipeline(s, dot, r->pipe);
    if (s->failed) {
        return;
    }
    size_t mark2 = s->nvars;
    size_t n = 0;
    bool is_list = v.kind == TMPL_V_ALERTS || v.kind == TMPL_V_PAIRS || v.kind == TMPL_V_STRINGS;
    if (v.kind == TMPL_V_SAMPLES) {
        n = v.n;
    } else if (v.kind == TMPL_V_MAP || v.kind == TMPL_V_KV) {
        n = v.nlabels;
    } else if (is_list) {
        n = tmpl_list_len(&v);
    } else if (v.kind != TMPL_V_INVALID) {
        buf_t b = { 0 };
        tmpl_val_print(&v, &b);
        x_errorf(s, "range can't iterate over %.*s", (int)b.len, b.data ? (char *)b.data : "");
        buf_fini(&b);
        return;
    }
    /* Go ranges over a map in key order; label sets may be unsorted. */
    const label_t **order = NULL;
    if ((v.kind == TMPL_V_MAP || v.kind == TMPL_V_KV) && n > 0) {
        order = arena_alloc(s->a, n * sizeof(*order));
        tmpl_kv_order(v.labels, n, false, order);
    }
    for (size_t i = 0; i < n && step(s); i++) {
        tmpl_val_t elem = { 0 }, idx = { 0 };
        if (v.kind == TMPL_V_SAMPLES) {
            elem.kind = TMPL_V_SAMPLE;
            elem.samples = &v.samples[i];
            idx.kind = TMPL_V_INT;
            idx.i = (int64_t)i;
        } else if (is_list) {
            elem = tmpl_list_elem(&v, i);
            idx.kind = TMPL_V_INT;
            idx.i = (int64_t)i;
        } else {
            elem.kind = TMPL_V_STRING;
            elem.s = order[i]->value;
            idx.kind = TMPL_V_STRING;
            idx.s = order[i]->name;
        }
        if (r->pipe->ndecl > 0) {
            s->vars[mark2 - 1].v = elem;
        }
        if (r->pipe->ndecl > 1) {
            s->vars[mark2 - 2].v = idx;
        }
        walk_list(s, elem, r->list);
        s->nvars = mark2;
        tmpl_nkind_t jump = s->jump;
        s->jump = TMPL_N_TEXT;
        if (jump == TMPL_N_BREAK) {
            break;
        }
    }
    if (n == 0 && r->else_list != NULL) {
        walk_list(s, dot, r->else_list);
    }
    s->nvars = mark;
}

/* {{template "name" pipe}}: Go's walkTemplate (no dynamic scoping: the
 * called template sees only $, set to the pipeline's value). */
static void walk_template(xstate_t *s, tmpl_val_t dot, const tmpl_node_t *n)
{
    s->at_kind = AT_NODE;
    s->at = n;
    s->at_pos = n->pos;
    const tmpl_def_t *d = tmpl_lookup(s->t, n->text);
    if (d == NULL) {
        buf_t q = { 0 };
        labels_quote(n->text, &q);
        x_errorf(s, "template %.*s not defined", (int)q.len, (char *)q.data);
        buf_fini(&q);
        return;
    }
    if (s->calls >= TMPL_MAX_CALLS) {
        x_errorf(s, "exceeded maximum template depth (%d)", TMPL_MAX_CALLS);
        return;
    }
    tmpl_val_t v = n->pipe != NULL ? eval_pipeline(s, dot, n->pipe) : INVALID;
    if (s->failed) {
        return;
    }
    const tmpl_def_t *cur = s->cur;
    size_t base = s->var_base, nvars = s->nvars;
    s->cur = d;
    s->var_base = s->nvars;
    s->calls++;
    xvar_push(s, STR_LIT("$"), v);
    walk_list(s, v, d->root);
    s->calls--;
    s->cur = cur;
    s->var_base = base;
    s->nvars = nvars;
}

static void walk_node(xstate_t *s, tmpl_val_t dot, const tmpl_node_t *n);

/* One node; bodies and calls (and, in eval_pipeline, pipelines) count
 * towards TMPL_MAX_NEST, which bounds the C stack whatever the text does. */
static void walk(xstate_t *s, tmpl_val_t dot, const tmpl_node_t *n)
{
    if (!step(s)) {
        return;
    }
    bool nests = n->kind >= TMPL_N_IF && n->kind <= TMPL_N_TEMPLATE;
    if (nests && s->nest >= TMPL_MAX_NEST) {
        s->at_kind = AT_NODE;
        s->at = n;
        s->at_pos = n->pos;
        x_errorf(s, "exceeded maximum nesting depth (%d)", TMPL_MAX_NEST);
        return;
    }
    s->nest += nests;
    walk_node(s, dot, n);
    s->nest -= nests;
}

static void walk_node(xstate_t *s, tmpl_val_t dot, const tmpl_node_t *n)
{
    switch (n->kind) {
    case TMPL_N_TEXT:
        buf_append(s->out, n->text.p, n->text.len);
        (void)out_check(s);
        return;
    case TMPL_N_ACTION: {
        tmpl_val_t v = eval_pipeline(s, dot, n->pipe);
        if (!s->failed && n->pipe->ndecl == 0) {
            if (s->html && !(v.kind == TMPL_V_STRING && v.b)) {
                buf_t b = { 0 };
                tmpl_val_print(&v, &b);
                html_escape(b.data, b.len, s->out);
                buf_fini(&b);
            } else {
                tmpl_val_print(&v, s->out);
            }
            (void)out_check(s);
        }
        return;
    }
    case TMPL_N_IF:
    case TMPL_N_WITH: {
        size_t mark = s->nvars;
        tmpl_val_t v = eval_pipeline(s, dot, n->pipe);
        if (s->failed) {
            return;
        }
        bool ok = true;
        bool truth = is_true(&v, &ok);
        if (truth) {
            walk_list(s, n->kind == TMPL_N_WITH ? v : dot, n->list);
        } else if (n->else_list != NULL) {
            walk_list(s, dot, n->else_list);
        }
        s->nvars = mark;
        return;
    }
    case TMPL_N_RANGE:
        walk_range(s, dot, n);
        return;
    case TMPL_N_TEMPLATE:
        walk_template(s, dot, n);
        return;
    case TMPL_N_BREAK:
    case TMPL_N_CONTINUE:
        s->jump = n->kind; /* the enclosing lists stop; walk_range consumes it */
        return;
    }
}

static void walk_list(xstate_t *s, tmpl_val_t dot, const tmpl_node_t *n)
{
    for (; n != NULL && !s->failed && s->jump == TMPL_N_TEXT; n = n->next) {
        walk(s, dot, n);
    }
}

int tmpl_exec(const alerts_tmpl_t *t, tmpl_val_t dot, const tmpl_fctx_t *c, size_t max_out, bool html, buf_t *out,
              buf_t *err)
{
    assert(t != NULL && c != NULL && c->arena != NULL && out != NULL && err != NULL);
    xstate_t *s = arena_calloc(c->arena, 1, sizeof(*s));
    s->t = t;
    s->cur = &t->main;
    s->d = c->data;
    s->a = c->arena;
    s->out = out;
    s->err = err;
    s->out_start = out->len;
    s->max_out = max_out ? max_out : TMPL_DEFAULT_MAX_OUTPUT;
    s->html = html;
    s->fctx = *c;
    s->fctx.max_out = s->max_out;
    xvar_push(s, STR_LIT("$"), dot);
    walk_list(s, dot, t->main.root);
    return s->failed ? -1 : 0;
}

int alerts_tmpl_exec(const alerts_tmpl_t *t, const alerts_tmpl_data_t *d, arena_t *a, buf_t *out, buf_t *err)
{
    assert(t != NULL && d != NULL && a != NULL && out != NULL && err != NULL);
    tmpl_fctx_t c = { .data = d, .arena = a };
    tmpl_val_t dot = { .kind = TMPL_V_DATA };
    return tmpl_exec(t, dot, &c, d->max_output, false, out, err);
}

/* rules/alerting.go's definitions, prepended to every label and annotation. */
static const char tmpl_defs[] = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}"
                                "{{$externalURL := .ExternalURL}}{{$value := .Value}}";

/* tmpl_defs followed by text[0..len), NUL-terminated, in a; its length
 * in *flen [out]. */
static const char *with_defs(arena_t *a, const char *text, size_t len, size_t *flen)
{
    size_t dl = sizeof(tmpl_defs) - 1;
    char *full = arena_alloc(a, dl + len + 1);
    memcpy(full, tmpl_defs, dl);
    if (len > 0) {
        memcpy(full + dl, text, len);
    }
    full[dl + len] = '\0';
    *flen = dl + len;
    return full;
}

int alerts_tmpl_expand(const char *name, const char *text, size_t len, const alerts_tmpl_data_t *d, buf_t *out)
{
    assert(name != NULL && d != NULL && out != NULL);
    arena_t *a = arena_create(4096);
    size_t flen = 0;
    const char *full = with_defs(a, text, len, &flen);
    buf_t err = { 0 };
    alerts_tmpl_t *t = NULL;
    size_t start = out->len;
    int rc = 0;
    if (alerts_tmpl_parse(a, name, full, flen, &t, &err) != 0) {
        buf_printf(out, "<error expanding template: error parsing template %s: %.*s>", name, (int)err.len,
                   (char *)err.data);
        rc = -1;
    } else if (alerts_tmpl_exec(t, d, a, out, &err) != 0) {
        out->len = start;
        buf_printf(out, "<error expanding template: error executing template %s: %.*s>", name, (int)err.len,
                   (char *)err.data);
        rc = -1;
    }
    buf_fini(&err);
    arena_destroy(a);
    return rc;
}

int alerts_tmpl_check(const char *name, const char *text, size_t len, buf_t *err)
{
    assert(name != NULL && err != NULL);
    arena_t *a = arena_create(4096);
    size_t flen = 0;
    const char *full = with_defs(a, text, len, &flen);
    alerts_tmpl_t *t = NULL;
    int rc = alerts_tmpl_parse(a, name, full, flen, &t, err);
    arena_destroy(a);
    return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_int.h: the alerts module's private declarations, shared between
 * its files and its unit tests; never included by another module. One
 * section per part of the module, each owned by that part.
 */
#ifndef PHAROS_ALERTS_ALERTS_INT_H
#define PHAROS_ALERTS_ALERTS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts/alerts.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/labels.h"
#include "common/str.h"

/* ---- templates ---- */

/* Template AST (alerts_tmpl.c builds it, alerts_tmpl_exec.c walks it).
 * Positions are byte offsets into the source text, as Go's parse.Pos. */
typedef enum tmpl_nkind {
    TMPL_N_TEXT,
    TMPL_N_ACTION,
    TMPL_N_IF,
    TMPL_N_RANGE,
    TMPL_N_WITH,
} tmpl_nkind_t;

typedef enum tmpl_akind {
    TMPL_A_DOT,
    TMPL_A_FIELD,  /* .A.B: idents */
    TMPL_A_VAR,    /* $x or $x.A.B: name, idents */
    TMPL_A_IDENT,  /* function name: fn */
    TMPL_A_STRING, /* sval */
    TMPL_A_NUMBER, /* is_int/ival, is_float/fval */
    TMPL_A_BOOL,
    TMPL_A_NIL,
    TMPL_A_PIPE,  /* (pipe) */
    TMPL_A_CHAIN, /* (pipe).A.B: pipe, idents */
} tmpl_akind_t;

struct tmpl_pipe;

typedef struct tmpl_arg {
    tmpl_akind_t kind;
    uint32_t pos;
    str_t text; /* source text: printed in error contexts */
    str_t name; /* VAR: "$x"; IDENT: the function name */
    str_t sval;
    bool is_int, is_float, bval;
    int64_t ival;
    double fval;
    int fn; /* IDENT: index in the function table */
    str_t *idents;
    size_t nidents;
    struct tmpl_pipe *pipe;
} tmpl_arg_t;

typedef struct tmpl_cmd {
    uint32_t pos;
    tmpl_arg_t **args;
    size_t nargs;
} tmpl_cmd_t;

typedef struct tmpl_pipe {
    uint32_t pos;
    bool is_assign; /* `=` rather than `:=` */
    str_t decl[2];
    size_t ndecl;
    tmpl_cmd_t **cmds;
    size_t ncmds;
} tmpl_pipe_t;

typedef struct tmpl_node {
    tmpl_nkind_t kind;
    uint32_t pos;
    str_t text;             /* TEXT */
    tmpl_pipe_t *pipe;      /* ACTION, IF, RANGE, WITH */
    struct tmpl_node *list; /* IF/RANGE/WITH body */
    struct tmpl_node *else_list;
    struct tmpl_node *next;
} tmpl_node_t;

struct alerts_tmpl {
    const char *name;
    const char *src;
    size_t len;
    tmpl_node_t *root;
};

/* Append Go's String() of an arg, command or pipeline (error contexts). */
void tmpl_arg_string(const tmpl_arg_t *a, buf_t *out);
void tmpl_cmd_string(const tmpl_cmd_t *c, buf_t *out);
void tmpl_pipe_string(const tmpl_pipe_t *p, buf_t *out);

/* Runtime values: what a reflect.Value holds in Go's executor. */
typedef enum tmpl_vkind {
    TMPL_V_INVALID, /* no value (Go's zero reflect.Value) */
    TMPL_V_NIL,     /* untyped nil */
    TMPL_V_BOOL,
    TMPL_V_INT,
    TMPL_V_FLOAT,
    TMPL_V_STRING,
    TMPL_V_MAP,     /* map[string]string: labels, nlabels */
    TMPL_V_SAMPLES, /* template.queryResult: samples, n */
    TMPL_V_SAMPLE,  /* *template.sample: samples[0] */
    TMPL_V_DATA,    /* the alert data struct */
    TMPL_V_TIME,    /* *time.Time: i = Unix nanoseconds */
    TMPL_V_DURATION,
} tmpl_vkind_t;

typedef struct tmpl_val {
    tmpl_vkind_t kind;
    bool b;
    int64_t i;
    double f;
    str_t s;
    const label_t *labels;
    size_t nlabels;
    const alerts_tmpl_sample_t *samples;
    size_t n;
} tmpl_val_t;

/* Go's type name of v ("float64", "template.queryResult", ...). */
const char *tmpl_val_type(const tmpl_val_t *v);
/* Append v as fmt.Sprint prints it (%v). */
void tmpl_val_print(const tmpl_val_t *v, buf_t *out);

/* The function table (alerts_tmpl_func.c). A function gets its evaluated
 * arguments and returns 0 with *res, or -1 with the error text (without
 * "error calling NAME: ") in err. and/or are special: evaluated lazily by
 * the executor. */
typedef struct tmpl_fctx {
    const alerts_tmpl_data_t *data;
    arena_t *arena;
} tmpl_fctx_t;

typedef enum tmpl_ptype {
    TMPL_P_ANY,    /* interface{} / reflect.Value */
    TMPL_P_STRING, /* string */
    TMPL_P_SAMPLE, /* *template.sample */
    TMPL_P_SAMPLES /* template.queryResult */
} tmpl_ptype_t;

typedef struct tmpl_func {
    const char *name;
    int nparams;   /* fixed parameters */
    bool variadic; /* more of TMPL_P_ANY after them */
    bool lazy;     /* and/or: the executor evaluates */
    tmpl_ptype_t params[3];
    int (*call)(const tmpl_fctx_t *c, const tmpl_val_t *args, size_t nargs, tmpl_val_t *res, buf_t *err);
} tmpl_func_t;

/* Index of name in the table, or -1. */
int tmpl_func_lookup(const char *name, size_t len);
const tmpl_func_t *tmpl_func_get(int idx);
/* Append Go's fmt.Sprintf(format, args...) (printf's engine). */
void tmpl_sprintf(str_t format, const tmpl_val_t *args, size_t nargs, buf_t *out);
/* Formatting (alerts_tmpl_fmt.c). Append Go's %v of a float64 (strconv
 * 'g', shortest); fmt's "%.<prec>g"; time.Time.String() of Unix ns in UTC;
 * fmt's %v of v (top: a sample pointer prints as &{...}). */
void tmpl_fmt_float(double f, buf_t *out);
void tmpl_fmt_g(double f, int prec, buf_t *out);
void tmpl_fmt_time(int64_t ns, buf_t *out);
void tmpl_val_fprint(const tmpl_val_t *v, bool top, buf_t *out);

/* ---- end templates ---- */

/* ---- rule files ---- */

/* Append s[0..len) quoted as Go's strconv.Quote (%q) quotes it. */
void alerts_rules_goquote(buf_t *b, const char *s, size_t len);
/* Length of the valid UTF-8 sequence at s (2..4 bytes), 0 if invalid or
 * ASCII. */
size_t alerts_rules_utf8_len(const char *s, size_t len);
/* prometheus/common model.ParseDuration: NULL and [out] *ms, or the
 * error text ("empty duration string", "not a valid duration string:
 * \"5x\"", "duration out of range"), allocated from a when formatted. */
const char *alerts_rules_parse_duration(const char *s, int64_t *ms, arena_t *a);
/* testTemplateParsing for one label or annotation value of alerting rule
 * template name tname ("__alert_<name>"): NULL when it parses, else
 * text/template's error ("template: __alert_X:1: unclosed action"),
 * allocated from a. */
const char *alerts_rules_template_check(const char *tname, const char *text, arena_t *a);
/* A promql_error_t message in Prometheus 2.42's words (see
 * alerts_rules_check.c for each rewording): msg itself or a copy in a. */
const char *alerts_rules_promql_msg(const char *msg, arena_t *a);

#endif

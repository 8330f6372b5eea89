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
#include "common/clock.h"
#include "common/httpc.h"
#include "common/str.h"
#include <yaml.h>

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


/* ---- notifications (shared by the notifier, the receivers and the
 * notification templates; owned by the notifier's files) ---- */

/* One alert of a notification (Alertmanager's template.Alert). All
 * borrowed for the call. */
typedef struct alerts_notif_alert {
    const label_t *labels; /* sorted by name */
    size_t nlabels;
    const label_t *annotations; /* sorted by name */
    size_t nannotations;
    int64_t starts_at_ms;
    int64_t ends_at_ms; /* 0: unset (a firing alert without end) */
    const char *generator_url;
    uint64_t fingerprint; /* Alertmanager's: hash of the label set, printed %016x */
    bool firing;
} alerts_notif_alert_t;

/* What one receiver integration is asked to deliver for one aggregation
 * group (Alertmanager's template.Data plus what the receivers need). */
typedef struct alerts_notification {
    const char *receiver;
    const char *status;    /* "firing" when any alert fires, else "resolved" */
    const char *group_key; /* Alertmanager's groupKey, e.g. {}/{severity="page"}:{alertname="X"} */
    uint64_t group_hash;   /* stable id of the group: dedup keys, issue mapping */
    const label_t *group_labels;
    size_t ngroup_labels;
    const label_t *common_labels;
    size_t ncommon_labels;
    const label_t *common_annotations;
    size_t ncommon_annotations;
    const char *external_url;
    const alerts_notif_alert_t *alerts; /* firing first, then resolved; each part in fingerprint order */
    size_t nalerts;
    size_t nfiring;
    bool repeat; /* the firing set was notified before (repeat_interval passed) */
    int64_t now_ms;
} alerts_notification_t;

/* Render text (a notification template: Alertmanager's template.Data is
 * `.`) into out. 0, or -1 with the Go-style error in err (the receiver
 * then fails the notification permanently, counted and logged).
 * Named templates ("slack.default.title", "email.default.html", ...) that
 * render Alertmanager's defaults are always defined. */
int alerts_tmpl_notify(const char *name, const char *text, size_t len, const alerts_notification_t *n, buf_t *out,
                       buf_t *err);

typedef enum alerts_send_status {
    ALERTS_SEND_OK = 0,
    ALERTS_SEND_RETRY = 1, /* connection error, timeout, 5xx, 429: back off and retry */
    ALERTS_SEND_FAIL = 2,  /* permanent (other 4xx, template error): logged, counted, not retried */
} alerts_send_status_t;

typedef struct alerts_send_result {
    alerts_send_status_t status;
    long http_code;         /* 0: no HTTP answer */
    int64_t retry_after_ms; /* from Retry-After or a rate-limit reset; -1: none */
    char msg[256];          /* the receiver's answer or the reason; never a secret */
} alerts_send_result_t;

/* Persistent state of one receiver integration (e.g. GitHub's group ->
 * issue mapping), namespaced and persisted by the notifier: put returns
 * only once the value is on disk. get: 1 and the value appended to val,
 * or 0 when absent. put: 0, or -1 on an I/O error; val NULL deletes. */
typedef struct alerts_kv {
    int (*get)(void *ctx, const char *key, buf_t *val);
    int (*put)(void *ctx, const char *key, const char *val);
    void *ctx;
} alerts_kv_t;

typedef struct alerts_recv_env {
    alerts_kv_t kv;
    pclock_t clock;
    long timeout_ms; /* per request */
} alerts_recv_env_t;

/* One receiver type: a row of the table alerts_recv_types() returns
 * (alerts_recv.c), implemented in alerts_recv_<name>.c. */
typedef struct alerts_recv_type {
    const char *key;  /* the receiver's list key in the config: "slack_configs" */
    const char *name; /* integration name in metrics and logs: "slack" */
    /* Parse one element of the list (a YAML mapping) into *cfg (from a):
     * 0, or -1 with "line L: <key>: reason" appended to err. Unknown keys
     * are errors. Secret files are read at send time, never logged. */
    int (*parse)(yaml_document_t *doc, yaml_node_t *node, arena_t *a, void **cfg, buf_t *err);
    bool (*send_resolved)(const void *cfg);
    /* Runtime state of one integration (HTTP client, rate limiter);
     * destroy accepts NULL. */
    void *(*state_create)(const void *cfg);
    void (*state_destroy)(void *st);
    /* Deliver n, blocking up to env->timeout_ms per request (a rate
     * limit may add a wait); fills [out] res on every path. One sender
     * thread per integration calls it. */
    void (*send)(const void *cfg, void *st, const alerts_recv_env_t *env, const alerts_notification_t *n,
                 alerts_send_result_t *res);
} alerts_recv_type_t;

/* The receiver table and its length. */
const alerts_recv_type_t *alerts_recv_types(size_t *n);

/* POST alerts to an Alertmanager's /api/v2/alerts (url is its base URL,
 * e.g. http://127.0.0.1:9093) as Prometheus does; fills [out] res. */
void alerts_recv_am_post(httpc_t *c, const char *url, const alerts_alert_t *alerts, size_t n,
                         alerts_send_result_t *res);

/* ---- end notifications ---- */

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_int.h: the alerts module's private declarations, shared between
 * its files and its unit tests; never included by another module. One
 * section per part of the module, each owned by that part.
 */
#ifndef PHAROS_ALERTS_ALERTS_INT_H
#define PHAROS_ALERTS_ALERTS_INT_H

#include <pthread.h>
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
    TMPL_N_TEMPLATE, /* {{template "name" pipe}}: name in text, pipe may be NULL */
    TMPL_N_BREAK,    /* {{break}} and {{continue}}: inside a range body only */
    TMPL_N_CONTINUE,
} tmpl_nkind_t;

typedef enum tmpl_akind {
    TMPL_A_DOT,
    TMPL_A_FIELD,  /* .A.B: idents */
    TMPL_A_VAR,    /* $x or $x.A.B: name, idents */
    TMPL_A_IDENT,  /* function name: func */
    TMPL_A_STRING, /* sval */
    TMPL_A_NUMBER, /* is_int/ival, is_float/fval */
    TMPL_A_BOOL,
    TMPL_A_NIL,
    TMPL_A_PIPE,  /* (pipe) */
    TMPL_A_CHAIN, /* (pipe).A.B: pipe, idents */
} tmpl_akind_t;

struct tmpl_pipe;
struct tmpl_func;

typedef struct tmpl_arg {
    tmpl_akind_t kind;
    uint32_t pos;
    str_t text; /* source text: printed in error contexts */
    str_t name; /* VAR: "$x"; IDENT: the function name */
    str_t sval;
    bool is_int, is_float, bval;
    int64_t ival;
    double fval;
    const struct tmpl_func *func; /* IDENT: the row of the parser's function table */
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
    str_t text;             /* TEXT; TEMPLATE: the called name */
    tmpl_pipe_t *pipe;      /* ACTION, IF, RANGE, WITH, TEMPLATE (NULL: no argument) */
    struct tmpl_node *list; /* IF/RANGE/WITH body */
    struct tmpl_node *else_list;
    struct tmpl_node *next;
} tmpl_node_t;

/* One named template: the text itself, or a define/block body. Go names
 * errors by both: "template: <parse_name>:L:C: executing \"<name>\"". */
typedef struct tmpl_def {
    const char *name;
    const char *parse_name; /* the text it was parsed from */
    const char *src;        /* that text: positions index it */
    size_t len;
    tmpl_node_t *root;
    bool empty; /* Go's IsEmptyTree: only white space (never replaces a definition) */
    struct tmpl_def *next;
} tmpl_def_t;

struct tmpl_functab;

/* A parsed text. `template` looks a name up in defs, then the text's own
 * name, then base (and base's base): Go's one namespace per template set,
 * where a later definition replaces an earlier one. */
struct alerts_tmpl {
    tmpl_def_t main;
    tmpl_def_t *defs; /* define and block bodies, in text order */
    const struct tmpl_functab *funcs;
    const struct alerts_tmpl *base; /* NULL, or e.g. the default notification templates */
    bool has_calls;                 /* the text has a template or block action */
};

/* Parse text[0..len) (borrowed by the AST) as template `name` with the
 * functions of funcs (the table is chosen by the caller: Prometheus' for
 * rule templates, Alertmanager's for notifications). alerts_tmpl_parse's
 * contract otherwise; define/template/block are accepted. */
int tmpl_parse(arena_t *a, const char *name, const char *text, size_t len, const struct tmpl_functab *funcs,
               alerts_tmpl_t **out, buf_t *err);
/* The template called name visible from t, or NULL. */
const tmpl_def_t *tmpl_lookup(const alerts_tmpl_t *t, str_t name);

/* Append Go's String() of an arg, command or pipeline (error contexts). */
void tmpl_arg_string(const tmpl_arg_t *a, buf_t *out);
void tmpl_cmd_string(const tmpl_cmd_t *c, buf_t *out);
void tmpl_pipe_string(const tmpl_pipe_t *p, buf_t *out);

/* Runtime values: what a reflect.Value holds in Go's executor. */
typedef enum tmpl_vkind {
    TMPL_V_INVALID, /* no value (Go's zero reflect.Value) */
    TMPL_V_NIL,     /* untyped nil */
    TMPL_V_BOOL,
    TMPL_V_INT, /* i; s: the name a time.Month or time.Weekday prints as */
    TMPL_V_FLOAT,
    TMPL_V_STRING,  /* s; b: a safe HTML string (template.HTML) */
    TMPL_V_MAP,     /* map[string]string: labels, nlabels */
    TMPL_V_SAMPLES, /* template.queryResult: samples, n */
    TMPL_V_SAMPLE,  /* *template.sample: samples[0] */
    TMPL_V_DATA,    /* the alert data struct */
    TMPL_V_TIME,    /* *time.Time: i = Unix nanoseconds */
    TMPL_V_DURATION,
    /* Alertmanager's notification data (alerts_tmpl_notify.c) */
    TMPL_V_NDATA,   /* *template.Data: p = the alerts_notification_t */
    TMPL_V_ALERTS,  /* template.Alerts (b: []template.Alert): p = alerts_notif_alert_t *const[n] */
    TMPL_V_ALERT,   /* template.Alert: p = the alerts_notif_alert_t */
    TMPL_V_KV,      /* template.KV: labels, nlabels (any order) */
    TMPL_V_PAIRS,   /* template.Pairs: labels, nlabels (in order) */
    TMPL_V_PAIR,    /* template.Pair: labels[0] */
    TMPL_V_STRINGS, /* []string: p = str_t[n] */
    TMPL_V_GOTIME,  /* time.Time in UTC: i = Unix seconds, n = nanoseconds; zero time = TMPL_ZERO_TIME */
} tmpl_vkind_t;

/* Unix seconds of Go's zero time.Time (0001-01-01 00:00:00 UTC). */
#define TMPL_ZERO_TIME (-62135596800LL)

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
    const void *p;
} tmpl_val_t;

/* Go's type name of v ("float64", "template.queryResult", ...). */
const char *tmpl_val_type(const tmpl_val_t *v);
/* Append v as fmt.Sprint prints it (%v). */
void tmpl_val_print(const tmpl_val_t *v, buf_t *out);

struct alerts_notification;

/* The function tables (alerts_tmpl_func.c, alerts_tmpl_notify.c). A
 * function gets its evaluated arguments and returns 0 with *res, or -1
 * with the error text (without "error calling NAME: ") in err. and/or are
 * special: evaluated lazily by the executor. */
typedef struct tmpl_fctx {
    const alerts_tmpl_data_t *data;          /* rule templates; NULL for notifications */
    const struct alerts_notification *notif; /* notifications; NULL for rule templates */
    arena_t *arena;
    size_t max_out; /* the longest string a function may build (the execution's output limit) */
} tmpl_fctx_t;

typedef enum tmpl_ptype {
    TMPL_P_ANY,     /* interface{} / reflect.Value */
    TMPL_P_STRING,  /* string */
    TMPL_P_SAMPLE,  /* *template.sample */
    TMPL_P_SAMPLES, /* template.queryResult */
    TMPL_P_STRINGS, /* []string */
    TMPL_P_GOTIME,  /* time.Time */
} tmpl_ptype_t;

typedef struct tmpl_func {
    const char *name;
    int nparams;   /* fixed parameters */
    bool variadic; /* more of TMPL_P_ANY (or vtype) after them */
    bool lazy;     /* and/or: the executor evaluates */
    tmpl_ptype_t params[3];
    tmpl_ptype_t vtype; /* variadic parameters' type */
    int (*call)(const tmpl_fctx_t *c, const tmpl_val_t *args, size_t nargs, tmpl_val_t *res, buf_t *err);
} tmpl_func_t;

/* A function table: rows from several segments, looked up in order (a
 * name in an earlier segment wins). */
typedef struct tmpl_funcseg {
    const tmpl_func_t *rows;
    size_t n;
} tmpl_funcseg_t;

typedef struct tmpl_functab {
    const char *name; /* "prometheus", "alertmanager" */
    const tmpl_funcseg_t *const *segs;
    size_t nsegs;
} tmpl_functab_t;

/* Go's builtins; the functions Prometheus and Alertmanager share (same
 * semantics); Prometheus' own; the Prometheus table built from them. */
extern const tmpl_funcseg_t tmpl_funcs_builtin, tmpl_funcs_shared, tmpl_funcs_prom;
extern const tmpl_functab_t tmpl_functab_prom;
/* Alertmanager's notification functions (alerts_tmpl_notify.c). */
extern const tmpl_functab_t tmpl_functab_am;

/* unicode.ToUpper (upper) or ToLower of rune r when r and its partner
 * are two-byte UTF-8 runes (Latin-1, Latin Extended-A, Greek, Cyrillic);
 * otherwise r. */
uint32_t tmpl_fold2(uint32_t r, bool upper);

/* The row called name[0..len) in t, or NULL. O(rows). */
const tmpl_func_t *tmpl_func_find(const tmpl_functab_t *t, const char *name, size_t len);

/* Members (fields and methods) of the notification values, as Go's
 * evalField finds them: a method first, then a struct field or map key.
 * tmpl_member_find: the member name of a value of kind k, or NULL. */
typedef struct tmpl_member {
    tmpl_vkind_t recv;
    const char *name;
    bool is_field; /* fields take no arguments (a different error) */
    int nparams;
    tmpl_ptype_t params[1];
    int (*call)(const tmpl_fctx_t *c, const tmpl_val_t *recv, const tmpl_val_t *args, tmpl_val_t *res, buf_t *err);
} tmpl_member_t;

const tmpl_member_t *tmpl_member_find(tmpl_vkind_t k, str_t name);
/* Go's type name and fmt %v of a notification value (kind >= NDATA). */
const char *tmpl_notify_type(const tmpl_val_t *v);
void tmpl_notify_fprint(const tmpl_val_t *v, bool top, buf_t *out);
/* Fill order[0..n) with pointers to ls[0..n) sorted by name (Go's map
 * order), alertname first when asked (KV.SortedPairs). O(n log n). */
void tmpl_kv_order(const label_t *ls, size_t n, bool alertname_first, const label_t **order);
/* Append ls in tmpl_kv_order's order as name, kv, value, each pair after
 * the first preceded by sep: fmt's map body "a:b c:d", KV.String's
 * "a=b, c=d". O(n log n); a temporary array of n pointers. */
void tmpl_kv_join(const label_t *ls, size_t n, bool alertname_first, const char *sep, char kv, buf_t *out);
/* Element i of a list value (ALERTS, PAIRS, STRINGS) and its length. */
size_t tmpl_list_len(const tmpl_val_t *v);
tmpl_val_t tmpl_list_elem(const tmpl_val_t *v, size_t i);
/* The default notification templates (alerts_tmpl_defaults.c): texts
 * parsed in order as template tmpl_defaults_name. */
extern const char tmpl_defaults_name[];
extern const char *const tmpl_defaults[];
extern const size_t tmpl_ndefaults;

/* Execute t with dot as `.` and $ (the engine behind alerts_tmpl_exec and
 * alerts_tmpl_notify): its contract, with the functions' context c. html:
 * every action's output is HTML-escaped unless it is a safe string
 * (TMPL_V_STRING with b set: safeHtml's and html's results). */
int tmpl_exec(const alerts_tmpl_t *t, tmpl_val_t dot, const tmpl_fctx_t *c, size_t max_out, bool html, buf_t *out,
              buf_t *err);

/* alerts_tmpl_notify for HTML bodies (Alertmanager's ExecuteHTMLString,
 * e.g. an email receiver's `html`): the same contract (0, or -1 with Go's
 * error in err and out as it was), except that the output of every action
 * is HTML-escaped as html/template escapes text in element content and
 * quoted attributes (& < > " ' and NUL), unless the value came from
 * safeHtml or html. html/template's other contexts (URL filtering, JS,
 * CSS) are not modelled. Thread-safe; no I/O. */
int alerts_tmpl_notify_html(const char *name, const char *text, size_t len, const struct alerts_notification *n,
                            buf_t *out, buf_t *err);

/* Append Go's fmt.Sprintf(format, args...) (printf's engine). */
void tmpl_sprintf(str_t format, const tmpl_val_t *args, size_t nargs, buf_t *out);
/* Formatting (alerts_tmpl_fmt.c). Append Go's %v of a float64 (strconv
 * 'g', shortest); fmt's "%.<prec>g"; time.Time.String() of Unix ns in UTC;
 * fmt's %v of v (top: a sample pointer prints as &{...}). */
void tmpl_fmt_float(double f, buf_t *out);
void tmpl_fmt_g(double f, int prec, buf_t *out);
void tmpl_fmt_time(int64_t ns, buf_t *out);
void tmpl_val_fprint(const tmpl_val_t *v, bool top, buf_t *out);
/* time.Time.String() and time.Time.Format(layout) of a UTC time given as
 * Unix seconds and nanoseconds (Go's layout elements; O(layout)). */
void tmpl_fmt_time_sn(int64_t sec, int64_t nsec, buf_t *out);
void tmpl_fmt_layout(int64_t sec, int64_t nsec, str_t layout, buf_t *out);
/* time.Duration.String() of d nanoseconds. */
void tmpl_fmt_duration(int64_t d, buf_t *out);
/* The UTC calendar fields of Unix seconds sec (month 1-12, yday 1-366,
 * wday 0 = Sunday), and the names time.Month and time.Weekday print. */
typedef struct tmpl_civil {
    int64_t year, month, day, hour, min, sec, yday, wday;
} tmpl_civil_t;
tmpl_civil_t tmpl_civil(int64_t sec);
extern const char *const tmpl_month_names[12];
extern const char *const tmpl_day_names[7];

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
/* Read path whole and decode it with parse (alerts_rules_parse or
 * alerts_slo_parse): parse's result, or -1 with one error "open <path>:
 * <strerror>" (ENOENT as Go words it) when the file cannot be read. */
typedef int (*alerts_rules_parse_fn)(const char *text, size_t len, arena_t *a, alerts_rules_file_t **out,
                                     alerts_rules_error_t **errs, size_t *nerrs);
int alerts_rules_load_with(const char *path, arena_t *a, alerts_rules_parse_fn parse, alerts_rules_file_t **out,
                           alerts_rules_error_t **errs, size_t *nerrs);
/* Append {line, col, text} to the error array *errs of *n entries and
 * *cap slots, growing it in a (doubling; text is borrowed). */
void alerts_rules_err_push(arena_t *a, alerts_rules_error_t **errs, size_t *n, size_t *cap, unsigned line, unsigned col,
                           const char *text);
/* testTemplateParsing for one label or annotation value of alerting rule
 * template name tname ("__alert_<name>"): NULL when it parses, else
 * text/template's error ("template: __alert_X:1: unclosed action"),
 * allocated from a. */
const char *alerts_rules_template_check(const char *tname, const char *text, arena_t *a);
/* A promql_error_t message in Prometheus 2.42's words (see
 * alerts_rules_check.c for each rewording): msg itself or a copy in a. */
const char *alerts_rules_promql_msg(const char *msg, arena_t *a);

/* ---- rule manager (alerts_mgr*.c) ---- */

/* How long a resolved alert is kept (and resent) after it resolved. */
#define MGR_RESOLVED_RETENTION_MS (15 * 60 * 1000LL)

/* One alert of an alerting rule: a single heap block (the struct, then
 * its label and annotation arrays, then their strings). */
typedef struct mgr_alert {
    uint64_t hash; /* labels_hash of labels */
    label_t *labels;
    size_t nlabels;
    label_t *annotations;
    size_t nannotations;
    alerts_state_t state;
    double value;
    int64_t active_at, fired_at, resolved_at, last_sent_at, valid_until, keep_firing_since;
} mgr_alert_t;

/* The label sets a rule wrote in its last successful evaluation (for
 * stale markers): canonical encodings (labels_encode) in bytes, entries
 * sorted by (hash, bytes). */
typedef struct mgr_sset_entry {
    uint64_t hash;
    uint32_t off, len;
} mgr_sset_entry_t;

typedef struct mgr_sset {
    buf_t bytes;
    mgr_sset_entry_t *e;
    size_t n, cap;
} mgr_sset_t;

typedef enum mgr_health {
    MGR_HEALTH_UNKNOWN = 0,
    MGR_HEALTH_OK,
    MGR_HEALTH_ERR,
} mgr_health_t;

typedef struct mgr_rule {
    const alerts_rule_t *def;
    promql_node_t *expr; /* in the ruleset's arena; released with it */
    char *query;         /* promql_format of expr, in the ruleset's arena */
    bool alerting;
    mgr_alert_t **alerts; /* sorted by (hash, labels); heap array */
    size_t nalerts;
    mgr_sset_t prev;
    mgr_health_t health;
    char *last_error;     /* heap; NULL when none */
    int64_t last_eval_ms; /* wall clock at the start of its last evaluation; 0: never */
    double eval_seconds;
    bool restored;
} mgr_rule_t;

typedef struct mgr_group {
    const char *file; /* in the ruleset's arena */
    const char *name;
    const alerts_rules_group_t *def;
    int64_t interval_ms;
    int64_t query_offset_ms;
    int64_t limit;
    uint64_t slot_hash; /* the group's phase within its interval */
    mgr_rule_t *rules;
    size_t nrules;
    mgr_sset_t stale; /* series of rules removed by a reload, marked at the next evaluation */
    int64_t next_ts;  /* scheduler: the next evaluation timestamp */
    int64_t last_eval_ms;
    double last_duration_s;
    uint64_t last_samples;
    uint64_t iterations, missed, evals, eval_failures;
    double duration_sum;
    bool should_restore;
    int evals_before_restore;
} mgr_group_t;

typedef struct mgr_ruleset {
    arena_t *arena;
    mgr_group_t *groups;
    size_t ngroups;
} mgr_ruleset_t;

struct alerts_mgr {
    alerts_mgr_opts_t o;
    label_t *ext; /* external labels, sorted; heap */
    size_t next;
    char *external_url;
    pthread_mutex_t eval_mu; /* one evaluation or load at a time */
    pthread_mutex_t mu;      /* rule state, read by the API and metrics */
    pthread_mutex_t sched_mu;
    pthread_cond_t sched_cond;
    bool stop, running, loaded_once;
    pthread_t thread;
    mgr_ruleset_t *rs;
    uint64_t reloads, reload_failures;
    bool last_reload_ok;
    int64_t last_reload_ms;
};

/* Sets of written series (alerts_mgr_sset.c). add: copy ls (sorted) in;
 * call finish once after the adds (sorts, drops repeats). has: membership.
 * each: decode entry i into ls (room for TSDB_MAX_LABELS); returns n. */
void mgr_sset_init(mgr_sset_t *s);
void mgr_sset_fini(mgr_sset_t *s);
void mgr_sset_add(mgr_sset_t *s, const label_t *ls, size_t n);
void mgr_sset_finish(mgr_sset_t *s);
bool mgr_sset_has(const mgr_sset_t *s, const mgr_sset_t *in, size_t i);
size_t mgr_sset_get(const mgr_sset_t *s, size_t i, label_t *ls);
void mgr_sset_move(mgr_sset_t *dst, mgr_sset_t *src);

/* Evaluate rule r of group g at ts (alerts_mgr_eval.c): query, update
 * alert state, write the rule's samples and stale markers, send alerts.
 * Returns samples written, or -1 (r->health and last_error set). Called
 * with eval_mu held; takes mu only to change state. */
long mgr_eval_rule(alerts_mgr_t *m, mgr_group_t *g, mgr_rule_t *r, int64_t ts, arena_t *a);
/* Prometheus' RestoreForState for g at wall time now (alerts_mgr_eval.c). */
void mgr_restore_group(alerts_mgr_t *m, mgr_group_t *g, int64_t now);
/* Append stale markers at t for every series of s; returns how many. */
size_t mgr_write_stale(alerts_mgr_t *m, const mgr_sset_t *s, int64_t t, arena_t *a);
void mgr_alert_free(mgr_alert_t *a);
/* Free a rule's heap state (alerts, sets, error). */
void mgr_rule_fini(mgr_rule_t *r);
/* A copy of ls[0..n) and its strings in a. */
label_t *mgr_labels_copy(arena_t *a, const label_t *ls, size_t n);
/* Go's time.Time JSON (RFC 3339 with nanoseconds trimmed) of ms, UTC;
 * 0 prints Go's zero time. */
void mgr_json_time(buf_t *b, int64_t ms);
const char *mgr_state_str(alerts_state_t s);

/* ---- end rule manager ---- */

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
    /* The config keys with defaults and help, ending with a NULL key
     * (docs/alerting-receivers.md lists the same). */
    const struct alerts_recv_field *fields;
} alerts_recv_type_t;

/* The receiver table and its length. */
const alerts_recv_type_t *alerts_recv_types(size_t *n);

/* POST alerts to an Alertmanager's /api/v2/alerts (url is its base URL,
 * e.g. http://127.0.0.1:9093) as Prometheus does; fills [out] res. */
void alerts_recv_am_post(httpc_t *c, const char *url, const alerts_alert_t *alerts, size_t n,
                         alerts_send_result_t *res);

/* ---- end notifications ---- */

/* ---- receivers (alerts_recv*.c): the shared helpers and each
 * receiver's functions for the table in alerts_recv.c ---- */

/* A receiver's config is a struct filled from its YAML mapping through a
 * table of fields (offsets into the struct), defaults first. */
typedef enum alerts_recv_ftype {
    ALERTS_RECV_F_STRING,      /* const char *: NULL when absent without default */
    ALERTS_RECV_F_BOOL,        /* bool */
    ALERTS_RECV_F_SECRET,      /* alerts_recv_secret_t.value: ${VAR} expanded at send time */
    ALERTS_RECV_F_SECRET_FILE, /* alerts_recv_secret_t.file (same offset): read at send time */
    ALERTS_RECV_F_LIST,        /* alerts_recv_list_t: a sequence of scalars */
    ALERTS_RECV_F_MAP,         /* alerts_recv_map_t: a mapping of scalars, file order */
    ALERTS_RECV_F_TLS,         /* alerts_recv_tls_t: {insecure_skip_verify, ca_file} */
} alerts_recv_ftype_t;

typedef struct alerts_recv_field {
    const char *key;
    alerts_recv_ftype_t type;
    size_t offset;
    const char *def; /* default as text (STRING, BOOL, SECRET); NULL: none */
    const char *help;
} alerts_recv_field_t;

typedef struct alerts_recv_secret {
    const char *value; /* literal, may hold ${VAR} references */
    const char *file;  /* path whose trimmed contents are the secret */
} alerts_recv_secret_t;

typedef struct alerts_recv_list {
    const char **v;
    size_t n;
} alerts_recv_list_t;

typedef struct alerts_recv_map {
    const char **k;
    const char **v;
    size_t n;
} alerts_recv_map_t;

typedef struct alerts_recv_tls {
    bool insecure_skip_verify;
    const char *ca_file;
} alerts_recv_tls_t;

/* Fill cfg from the mapping node through fields f (NULL-key terminated):
 * defaults, then each key. 0, or -1 with "line L: key: reason" appended
 * to err (unknown or duplicate key, wrong type, a secret given both
 * inline and as a file). Strings are copied into a. O(keys x fields). */
int alerts_recv_parse_fields(yaml_document_t *doc, yaml_node_t *node, const alerts_recv_field_t *f, arena_t *a,
                             void *cfg, buf_t *err);
/* 1-based line of key in the mapping node, or of the mapping itself when
 * the key is absent. */
unsigned alerts_recv_key_line(yaml_document_t *doc, yaml_node_t *node, const char *key);
/* 0 when the secret key (or key_file) is set; else -1 with "line L: key:
 * one of key or key_file must be configured" appended to err. */
static inline int alerts_recv_secret_required(yaml_document_t *doc, yaml_node_t *node, const alerts_recv_secret_t *s,
                                              const char *key, buf_t *err)
{
    if (s->value || s->file) {
        return 0;
    }
    buf_printf(err, "line %u: %s: one of %s or %s_file must be configured", alerts_recv_key_line(doc, node, key), key,
               key, key);
    return -1;
}
/* Zero all of b's storage (cap bytes: a reset buffer keeps old bytes
 * past len) through a volatile pointer, so the stores are not elided
 * before the free, then buf_fini: for buffers that held a secret. */
static inline void alerts_recv_secret_fini(buf_t *b)
{
    volatile uint8_t *p = b->data;
    for (size_t i = 0; p && i < b->cap; i++) {
        p[i] = 0;
    }
    buf_fini(b);
}
/* The secret's value appended to out: the file's contents (trimmed) or
 * the value with ${VAR} expanded. 0, or -1 with [out] res filled (FAIL:
 * unset, unset variable; RETRY: unreadable file). The secret itself never
 * reaches res or a log. */
int alerts_recv_secret_get(const alerts_recv_secret_t *s, const char *key, buf_t *out, alerts_send_result_t *res);
/* alerts_tmpl_notify of text (NULL: nothing) as template name into out.
 * 0, or -1 with [out] res FAIL "template <name>: <error>". */
int alerts_recv_render(const char *name, const char *text, const alerts_notification_t *n, buf_t *out,
                       alerts_send_result_t *res);
/* The same for HTML output (alerts_tmpl_notify_html: values escaped as
 * html/template does), as Alertmanager renders an email's html part. */
int alerts_recv_render_html(const char *name, const char *text, const alerts_notification_t *n, buf_t *out,
                            alerts_send_result_t *res);
/* Fill res: status, code, retry_after_ms and msg from fmt. */
void alerts_recv_result(alerts_send_result_t *res, alerts_send_status_t st, long code, int64_t retry_ms,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* res from an HTTP outcome: OK / RETRY / FAIL as httpc classified it,
 * msg "<service>: HTTP <code>: <first line of the answer>". */
void alerts_recv_result_http(alerts_send_result_t *res, const httpc_result_t *hr, const char *service);
/* The stable id of an aggregation group: hex of the 128-bit XXH3 of its
 * group key (hi then lo, 32 chars) into dst. */
void alerts_recv_group_id(const char *group_key, char dst[33]);
/* Cut b's text from byte start on to at most max runes, the last one
 * then "…" (Alertmanager's TruncateInRunes). O(len). */
void alerts_recv_truncate_runes(buf_t *b, size_t start, size_t max);
/* Sleep ms (<= 0: none). */
void alerts_recv_sleep_ms(int64_t ms);

/* Each receiver's row functions (alerts_recv_<name>.c). */
extern const alerts_recv_field_t alerts_recv_slack_fields[];
int alerts_recv_slack_parse(yaml_document_t *doc, yaml_node_t *node, arena_t *a, void **cfg, buf_t *err);
bool alerts_recv_slack_send_resolved(const void *cfg);
void *alerts_recv_slack_state_create(const void *cfg);
void alerts_recv_slack_state_destroy(void *st);
void alerts_recv_slack_send(const void *cfg, void *st, const alerts_recv_env_t *env, const alerts_notification_t *n,
                            alerts_send_result_t *res);
extern const alerts_recv_field_t alerts_recv_email_fields[];
int alerts_recv_email_parse(yaml_document_t *doc, yaml_node_t *node, arena_t *a, void **cfg, buf_t *err);
bool alerts_recv_email_send_resolved(const void *cfg);
void *alerts_recv_email_state_create(const void *cfg);
void alerts_recv_email_state_destroy(void *st);
void alerts_recv_email_send(const void *cfg, void *st, const alerts_recv_env_t *env, const alerts_notification_t *n,
                            alerts_send_result_t *res);
extern const alerts_recv_field_t alerts_recv_pagerduty_fields[];
int alerts_recv_pagerduty_parse(yaml_document_t *doc, yaml_node_t *node, arena_t *a, void **cfg, buf_t *err);
bool alerts_recv_pagerduty_send_resolved(const void *cfg);
void *alerts_recv_pagerduty_state_create(const void *cfg);
void alerts_recv_pagerduty_state_destroy(void *st);
void alerts_recv_pagerduty_send(const void *cfg, void *st, const alerts_recv_env_t *env, const alerts_notification_t *n,
                                alerts_send_result_t *res);
extern const alerts_recv_field_t alerts_recv_github_fields[];
int alerts_recv_github_parse(yaml_document_t *doc, yaml_node_t *node, arena_t *a, void **cfg, buf_t *err);
bool alerts_recv_github_send_resolved(const void *cfg);
void *alerts_recv_github_state_create(const void *cfg);
void alerts_recv_github_state_destroy(void *st);
void alerts_recv_github_send(const void *cfg, void *st, const alerts_recv_env_t *env, const alerts_notification_t *n,
                             alerts_send_result_t *res);

/* ---- end receivers ---- */

/* ---- notifier internals (alerts_notify*.c, alerts_amcfg.c,
 * alerts_route.c, alerts_inhibit.c, alerts_silence.c, alerts_dispatch.c,
 * alerts_nflog.c; owned by the notifier's files) ---- */

#include <jansson.h>
#include <pthread.h>

#include "common/hmap.h"
#include "common/matcher.h"

/* The Alertmanager config, immutable once parsed. Everything lives in
 * arena, except the compiled matchers (listed in allm, freed by
 * alerts_amcfg_free). */
typedef struct amcfg_integ {
    const alerts_recv_type_t *type;
    void *cfg;    /* type->parse's result */
    unsigned idx; /* index among the receiver's integrations of this type (Alertmanager's Idx) */
} amcfg_integ_t;

typedef struct amcfg_receiver {
    const char *name;
    amcfg_integ_t *integs;
    size_t ninteg;
} amcfg_receiver_t;

typedef struct amcfg_route {
    const char *receiver;
    const amcfg_receiver_t *recv;
    matcher_t **matchers; /* sorted as Alertmanager's labels.Matchers */
    size_t nmatchers;
    const char **group_by; /* label names; empty with group_by_all */
    size_t ngroup_by;
    bool group_by_all; /* '...' */
    int64_t group_wait_ms, group_interval_ms, repeat_interval_ms;
    bool cont;
    const struct amcfg_route *parent;
    struct amcfg_route *routes;
    size_t nroutes;
    const char *key; /* Route.Key(): "{}/{severity=\"page\"}" */
    unsigned line;
    unsigned idx; /* depth-first position: tells apart routes with equal keys */
} amcfg_route_t;

typedef struct amcfg_inhibit {
    matcher_t **src;
    size_t nsrc;
    matcher_t **tgt;
    size_t ntgt;
    const char **equal;
    size_t nequal;
} amcfg_inhibit_t;

typedef struct amcfg {
    arena_t *arena;
    int64_t resolve_timeout_ms; /* global.resolve_timeout, 5m */
    amcfg_route_t *root;
    amcfg_receiver_t *receivers;
    size_t nreceivers;
    amcfg_inhibit_t *inhibits;
    size_t ninhibits;
    const char *original; /* the file text (/api/v2/status) */
    matcher_t **allm;
    size_t nallm, capm;
} amcfg_t;

/* Parse an Alertmanager config text[0..len) (borrowed) named file in
 * errors; receivers' *_configs elements go to the row of types[0..ntypes)
 * whose key matches. 0 and [out] *out (free with alerts_amcfg_free), or -1
 * with one "file:line: path: reason" appended to err. Pure. */
int alerts_amcfg_parse(const char *file, const char *text, size_t len, const alerts_recv_type_t *types, size_t ntypes,
                       amcfg_t **out, buf_t *err);
/* alerts_amcfg_parse on the contents of path ("open <path>: <reason>"). */
int alerts_amcfg_load(const char *path, const alerts_recv_type_t *types, size_t ntypes, amcfg_t **out, buf_t *err);
void alerts_amcfg_free(amcfg_t *c);
/* Parse Alertmanager matchers text ("a=b", "{a=\"b\",c=~\"d.*\"}", comma
 * separated) appending compiled matchers to *ms (heap array, *n grown;
 * caller fini's and frees). 0, or -1 with a reason in err. */
int alerts_route_parse_matchers(const char *s, size_t len, matcher_t **ms, size_t *n, buf_t *err);

/* -- routing (alerts_route.c) -- */

#define AN_MAX_ROUTES 64 /* routes one alert is grouped and shown under */

/* Depth-first match of labels against the tree at root, honouring
 * continue: up to max routes into [out] out; returns how many matched
 * (at least 1 for a root without matchers). */
size_t alerts_route_match(const amcfg_route_t *root, const label_t *ls, size_t n, const amcfg_route_t **out,
                          size_t max);
/* All matchers satisfied by ls (an absent label matches as ""). */
bool alerts_route_matches(matcher_t *const *ms, size_t nms, const label_t *ls, size_t n);
/* Append Alertmanager's Matchers.String(): {a="b",c=~"d"} (sorted). */
void alerts_route_fmt_matchers(matcher_t *const *ms, size_t n, buf_t *out);
/* The group labels of ls under r ([out] out, room for n): the labels in
 * group_by (all with '...'). Returns the count; borrowed from ls. */
size_t alerts_route_group_labels(const amcfg_route_t *r, const label_t *ls, size_t n, label_t *out);
/* Append the group key "<route key>:<labels as model.LabelSet.String()>". */
void alerts_route_group_key(const amcfg_route_t *r, const label_t *gl, size_t ngl, buf_t *out);
/* Alertmanager's alert fingerprint here: labels_hash of the sorted set. */
uint64_t alerts_route_fingerprint(const label_t *ls, size_t n);

/* -- the alerts store (alerts_dispatch.c) -- */

typedef struct an_alert {
    uint64_t fp;
    label_t *labels; /* sorted; one heap block with the strings (blob) */
    size_t nlabels;
    label_t *annotations;
    size_t nannotations;
    char *generator_url;
    void *blob;
    int64_t starts_at_ms, ends_at_ms, updated_at_ms;
    bool timeout;              /* ends_at came from resolve_timeout, not the sender */
    unsigned refs;             /* aggregation groups holding it */
    int64_t persisted_ends_ms; /* ends_at in alerts.json (0: not written) */
} an_alert_t;

typedef struct an_store {
    an_alert_t **v;
    size_t n, cap;
    hmap_t idx; /* fp -> position in v */
} an_store_t;

#define AN_ALERT_MAX_LABELS 128       /* labels, and annotations, per alert */
#define AN_ALERT_MAX_NAME 1024        /* bytes of a label or annotation name */
#define AN_ALERT_MAX_VALUE (64 << 10) /* bytes of a label or annotation value */

/* A JSON object of strings as labels borrowed from o, in o's order, in
 * one mem_alloc block the caller frees; [out] *n. NULL (and *n 0) when o
 * is not an object or a value is not a string. */
label_t *alerts_json_labels(json_t *o, size_t *n);

void alerts_store_init(an_store_t *s);
void alerts_store_fini(an_store_t *s);
an_alert_t *alerts_store_get(const an_store_t *s, uint64_t fp);
/* Merge one alert in as Alertmanager's provider does (overlapping
 * intervals merge: earliest start, annotations of the newest, the latest
 * explicit end). ends_at_ms 0 means now + resolve_timeout. Returns the
 * stored alert (new or updated); [out] *changed (NULL ok): anything but
 * ends_at and updated_at differs from before (a new alert, its start,
 * annotations, generator URL, firing or resolved). */
an_alert_t *alerts_store_put(an_store_t *s, const alerts_alert_t *a, int64_t now_ms, int64_t resolve_timeout_ms,
                             bool *changed);
/* Remove resolved alerts no group holds; returns how many. */
size_t alerts_store_gc(an_store_t *s, int64_t now_ms);
static inline bool alerts_alert_resolved(const an_alert_t *a, int64_t now_ms)
{
    return a->ends_at_ms != 0 && a->ends_at_ms <= now_ms;
}

/* -- inhibition (alerts_inhibit.c) and silences (alerts_silence.c) -- */

/* Is ls (fingerprint fp) muted by an inhibit rule of c, given the alerts
 * in s at now? [out] *by: the fingerprint of an inhibiting alert. O(rules
 * x alerts). */
bool alerts_inhibit_mutes(const amcfg_t *c, const an_store_t *s, const label_t *ls, size_t n, int64_t now_ms,
                          uint64_t *by);
/* The firing source alerts of every rule at one time (Alertmanager's
 * per-rule source cache), so a flush pass asks in O(rules x sources). */
typedef struct an_inhibit_idx {
    const an_alert_t ***src; /* per rule */
    size_t *nsrc;
    size_t nrules;
} an_inhibit_idx_t;
void alerts_inhibit_index(const amcfg_t *c, const an_store_t *s, int64_t now_ms, an_inhibit_idx_t *idx);
void alerts_inhibit_index_fini(an_inhibit_idx_t *idx);
/* alerts_inhibit_mutes over an index built at the same time. */
bool alerts_inhibit_mutes_idx(const amcfg_t *c, const an_inhibit_idx_t *idx, const label_t *ls, size_t n, uint64_t *by);

typedef struct an_silence_matcher {
    char *name, *value;
    bool is_regex, is_equal;
} an_silence_matcher_t;

typedef struct an_silence {
    char id[40]; /* UUID */
    an_silence_matcher_t *sm;
    matcher_t *m;
    size_t nm;
    int64_t starts_at_ms, ends_at_ms, updated_at_ms;
    char *created_by, *comment;
} an_silence_t;

typedef enum an_silence_state { AN_SIL_EXPIRED = 0, AN_SIL_ACTIVE, AN_SIL_PENDING } an_silence_state_t;

typedef struct an_silences {
    an_silence_t **v;
    size_t n, cap;
} an_silences_t;

void alerts_silence_init(an_silences_t *s);
void alerts_silence_fini(an_silences_t *s);
an_silence_state_t alerts_silence_state(const an_silence_t *sil, int64_t now_ms);
const char *alerts_silence_state_name(an_silence_state_t st);
an_silence_t *alerts_silence_get(const an_silences_t *s, const char *id);
/* Build a silence from the API's JSON (PostableSilence): 0 and [out]
 * *out (heap; alerts_silence_free), or with the reason in err: -1 a
 * malformed field, -3 a required field missing, -4 no matchers (the
 * schema errors go-swagger answers 422 with codes 602 and 612), -5 a time
 * that is not a string (the JSON decoding error go-swagger answers 400
 * with). Times are RFC 3339 strings; from_state also accepts integers
 * (milliseconds, as silences.json holds them). */
int alerts_silence_from_json(json_t *j, bool from_state, an_silence_t **out, buf_t *err);
/* Bounds on what the unauthenticated API may store. */
#define AN_SIL_MAX_LIVE 10000  /* active + pending silences */
#define AN_SIL_MAX_MATCHERS 64 /* matchers per silence */
#define AN_SIL_MAX_TEXT 4096   /* bytes of comment, of createdBy */
/* Would storing sil (from the API) exceed a bound? 0, or -1 with the
 * reason in err. O(silences). */
int alerts_silence_check_limits(const an_silences_t *s, const an_silence_t *sil, int64_t now_ms, buf_t *err);
void alerts_silence_free(an_silence_t *sil);
/* Silences.Set: takes sil. An id of an existing silence updates it in
 * place when Alertmanager's canUpdate allows, else expires it and adds a
 * new one; an unknown id: -2 ("silence not found"). Validation errors: -1
 * with text in err. 0 and the id in [out] id (40 bytes). */
int alerts_silence_set(an_silences_t *s, an_silence_t *sil, int64_t now_ms, char *id, buf_t *err);
/* Expire: 0, -2 not found, -1 already expired (text in err). */
int alerts_silence_expire(an_silences_t *s, const char *id, int64_t now_ms, buf_t *err);
/* Active silences matching ls: count, their ids appended to ids (one per
 * line) when ids != NULL. */
size_t alerts_silence_mutes(an_silences_t *s, const label_t *ls, size_t n, int64_t now_ms, buf_t *ids);
/* Drop silences expired before now - retention (saturating: any end
 * time, even INT64_MAX, compares without overflow); returns how many. */
size_t alerts_silence_gc(an_silences_t *s, int64_t now_ms, int64_t retention_ms);
/* GettableSilence JSON of sil into b. */
void alerts_silence_json(const an_silence_t *sil, int64_t now_ms, buf_t *b);
/* State file <-> silences (jansson). load: 0, or -1 (s unchanged) when
 * j is malformed or a silence is past the per-silence AN_SIL_MAX_*
 * bounds or its id does not fit. */
json_t *alerts_silence_dump(const an_silences_t *s);
int alerts_silence_load(an_silences_t *s, json_t *j);

/* -- notification log, kv and state files (alerts_nflog.c) -- */

typedef struct nflog_entry {
    char *key;        /* group key "\x1f" receiver "\x1f" integration "\x1f" idx */
    uint64_t *firing; /* sorted */
    size_t nfiring;
    uint64_t *resolved; /* sorted */
    size_t nresolved;
    int64_t ts_ms;
    int64_t expires_ms;
} nflog_entry_t;

typedef struct nflog {
    nflog_entry_t **v;
    size_t n, cap;
    hmap_t idx; /* hash(key) -> position */
} nflog_t;

void alerts_nflog_init(nflog_t *l);
void alerts_nflog_fini(nflog_t *l);
/* The key of (group key, receiver, integration name, idx) into out. */
void alerts_nflog_key(const char *group_key, const char *receiver, const char *integ, unsigned idx, buf_t *out);
const nflog_entry_t *alerts_nflog_get(const nflog_t *l, const char *key);
/* Record a notification: replaces the entry (sets copied). */
void alerts_nflog_set(nflog_t *l, const char *key, const uint64_t *firing, size_t nf, const uint64_t *resolved,
                      size_t nr, int64_t ts_ms, int64_t expires_ms);
size_t alerts_nflog_gc(nflog_t *l, int64_t now_ms);
json_t *alerts_nflog_dump(const nflog_t *l);
int alerts_nflog_load(nflog_t *l, json_t *j);

/* Namespaced string store behind alerts_kv_t. */
typedef struct nf_kv {
    char **keys; /* "<namespace>\x1f<key>" */
    char **vals;
    size_t n, cap;
} nf_kv_t;

void alerts_nflog_kv_fini(nf_kv_t *kv);
const char *alerts_nflog_kv_get(const nf_kv_t *kv, const char *ns, const char *key);
/* val NULL deletes. */
void alerts_nflog_kv_put(nf_kv_t *kv, const char *ns, const char *key, const char *val);
json_t *alerts_nflog_kv_dump(const nf_kv_t *kv);
int alerts_nflog_kv_load(nf_kv_t *kv, json_t *j);

/* Write j as dir/name atomically (tmp, fsync, rename, fsync dir). 0 or
 * -errno; [out] *bytes the size written. */
int alerts_nflog_write_state(const char *dir, const char *name, const json_t *j, size_t *bytes);
/* Read dir/name: 1 and [out] *j, 0 when absent, -1 when corrupt (the file
 * is renamed to name.corrupt and a warning logged). */
int alerts_nflog_read_state(const char *dir, const char *name, json_t **j);
/* Rename dir/name to name.corrupt (a file that parsed but did not load). */
void alerts_nflog_set_aside(const char *dir, const char *name);

/* -- dispatch (alerts_dispatch.c) -- */

/* Alertmanager's DedupStage.needsUpdate. e NULL: no previous notification.
 * firing/resolved: the group's current fingerprints, sorted. */
bool alerts_dispatch_needs_update(const nflog_entry_t *e, const uint64_t *firing, size_t nf, const uint64_t *resolved,
                                  size_t nr, bool send_resolved, int64_t repeat_ms, int64_t now_ms);

/* An aggregation group. */
typedef struct an_group {
    const amcfg_route_t *route;
    char *key; /* group key text */
    uint64_t hash;
    label_t *glabels; /* copies (blob) */
    size_t nglabels;
    void *blob;
    uint64_t *fps; /* alerts held (refs taken) */
    size_t nfps, cap;
    int64_t next_flush_ms;
    bool flushed;
    uint64_t flush_seq; /* flushes that produced jobs */
    unsigned pending;   /* jobs of flush_seq not finished */
    bool pending_failed;
} an_group_t;

/* One delivery for one integration, built at a flush. Owns its arena. */
typedef struct an_job {
    struct an_job *next;
    arena_t *arena;
    const amcfg_receiver_t *recv;
    const amcfg_integ_t *integ;
    bool send; /* false: nothing to deliver after send_resolved filtering; only the nflog is written */
    alerts_notification_t notif;
    char *nflog_key;
    uint64_t *firing, *resolved; /* what the nflog records on success */
    size_t nfiring, nresolved;
    uint64_t group_hash;
    uint64_t flush_seq;  /* the group's flush_seq when built */
    int64_t flush_ms;    /* when it was built (clock) */
    int64_t deadline_ms; /* retries stop here (clock): the next flush */
    int64_t expires_ms;  /* nflog entry retention */
    int64_t repeat_ms;   /* the route's repeat_interval: needsUpdate is asked again before sending */
    bool send_resolved;
} an_job_t;

/* What the dispatcher holds; guarded by the notifier's lock. */
typedef struct an_disp {
    amcfg_t *cfg; /* NULL: no routing (alerts are kept and forwarded only) */
    an_store_t store;
    an_group_t **groups;
    size_t ngroups, capgroups;
    an_silences_t silences;
    nflog_t nflog;
    const char *external_url;
    int64_t retention_ms; /* nflog entries and expired silences (120h) */
} an_disp_t;

void alerts_dispatch_init(an_disp_t *d);
void alerts_dispatch_fini(an_disp_t *d); /* not cfg */
/* Route a stored alert into its aggregation groups (created with their
 * group_wait timer; an old alert makes a new group flush at once). */
void alerts_dispatch_insert(an_disp_t *d, an_alert_t *a, int64_t now_ms);
/* After a config change: re-route every stored alert; groups whose key
 * survives keep their timers. */
void alerts_dispatch_rebuild(an_disp_t *d, int64_t now_ms);
/* Takes j: true when queued, false when it was freed (no running sender
 * for its integration, e.g. during a reload). */
typedef bool (*an_enqueue_fn)(void *ctx, an_job_t *j);
/* Flush every group due at now_ms: for each integration of its receiver
 * that needs an update, build a job and pass it to enqueue. A group whose
 * jobs were not all queued stays due (its timer is not advanced), so the
 * next pass tries again. Returns the earliest next flush time (INT64_MAX:
 * none). */
int64_t alerts_dispatch_flush_due(an_disp_t *d, int64_t now_ms, an_enqueue_fn enqueue, void *ctx);
/* Make the group of job j (dropped before it was tried) due at now_ms. */
void alerts_dispatch_job_dropped(an_disp_t *d, const an_job_t *j, int64_t now_ms);
/* Is the alert muted now? ix: an inhibit index built at now_ms (NULL:
 * scan the store, O(rules x alerts)). [out] silenced_by (ids, one per
 * line) and *inhibited_by when not NULL. */
bool alerts_dispatch_muted(an_disp_t *d, const an_inhibit_idx_t *ix, const an_alert_t *a, int64_t now_ms,
                           buf_t *silenced_by, uint64_t *inhibited_by, bool *inhibited);
void alerts_job_free(an_job_t *j);
/* A sender finished j (ok: delivered or nothing to deliver). When every
 * job of the group's last flush succeeded, its resolved alerts (still
 * resolved) leave the group, and an empty group is deleted, as
 * Alertmanager does after a successful flush. */
void alerts_dispatch_job_done(an_disp_t *d, const an_job_t *j, bool ok, int64_t now_ms);
/* Alerts store <-> alerts.json. Load is all or nothing: 0, or -1 and s
 * unchanged when an entry is malformed or outside the AN_ALERT_MAX_*
 * bounds the API enforces. */
json_t *alerts_store_dump(const an_store_t *s);
int alerts_store_load(an_store_t *s, json_t *j);

/* Test hooks and the receiver binding (alerts_notify_bind.c binds the
 * real table; tests pass fakes). */
typedef struct alerts_notify_hooks {
    const alerts_recv_type_t *types; /* required */
    size_t ntypes;
    void (*am_post)(httpc_t *c, const char *url, const alerts_alert_t *alerts, size_t n,
                    alerts_send_result_t *res); /* required when alertmanager_urls are given */
    int64_t backoff_initial_ms;                 /* 0: 500..1000 ms with jitter */
    int64_t backoff_max_ms;                     /* 0: 60 s */
    long send_timeout_ms;                       /* per request; 0: 30 s */
    int64_t fwd_wait_max_ms;                    /* longest wait between forwarding attempts; 0: 60 s */
} alerts_notify_hooks_t;

/* One sender thread per receiver integration: a queue of jobs, tried
 * with exponential backoff until the job's deadline. */
typedef struct an_sender {
    struct alerts_notifier *n;
    const amcfg_receiver_t *recv;
    const amcfg_integ_t *integ;
    size_t type_idx; /* row in hooks.types (metrics) */
    void *state;     /* integ->type->state_create */
    char ns[192];    /* kv namespace "<receiver>/<integration>/<idx>" */
    pthread_t th;
    bool started, stop, busy;
    an_job_t *head, *tail;
    size_t qlen;
    uint64_t rng;
    pthread_cond_t cv;
} an_sender_t;

#define AN_LAT_BUCKETS 5
#define AN_FAIL_REASONS 4 /* clientError, serverError, other, contextDeadlineExceeded */

typedef struct an_type_metrics {
    uint64_t notifications, requests, requests_failed;
    uint64_t failed[AN_FAIL_REASONS];
    uint64_t lat_buckets[AN_LAT_BUCKETS];
    uint64_t lat_count;
    double lat_sum;
} an_type_metrics_t;

/* A batch of alerts for the Alertmanagers (alertmanager_urls). */
typedef struct an_fwd_batch {
    struct an_fwd_batch *next;
    arena_t *arena;
    alerts_alert_t *alerts;
    size_t n;
} an_fwd_batch_t;

struct alerts_notifier {
    char *config_file, *data_dir, *external_url;
    char **am_urls;
    size_t nam_urls;
    alerts_notify_hooks_t hooks;
    pclock_t clock;
    pthread_mutex_t mu; /* everything below */
    pthread_mutex_t reload_mu;
    pthread_cond_t disp_cv, idle_cv, fwd_cv;
    an_disp_t d;
    nf_kv_t kv;
    an_sender_t **senders;
    size_t nsenders;
    pthread_t disp_th, fwd_th;
    bool disp_started, fwd_started, stop;
    uint64_t kick_seq, done_seq;
    an_fwd_batch_t *fwd_head, *fwd_tail;
    size_t fwd_alerts; /* alerts queued for forwarding */
    bool fwd_busy;
    int64_t start_ms;
    int64_t restore_hold_ms;
    bool reloading;   /* senders are being swapped: the dispatcher does not flush */
    char *cfg_served; /* the config text with secrets redacted (/api/v2/status) */
    /* metrics */
    an_type_metrics_t *tm; /* hooks.ntypes */
    uint64_t state_corrupt, state_write_errors, alerts_received[2], alerts_invalid;
    uint64_t fwd_sent, fwd_failed, fwd_dropped;
    uint64_t silences_rejected;
    size_t nflog_bytes, silences_bytes;
};

/* alerts_notifier_put; forward: also queue the batch for the
 * alertmanager_urls (not for alerts received on the API). */
void alerts_notify_put(alerts_notifier_t *n, const alerts_alert_t *alerts, size_t nalerts, bool forward);
/* Persist one part of the state (alerts_notify.c); called with mu held. */
void alerts_notify_save_alerts(alerts_notifier_t *n);
void alerts_notify_save_silences(alerts_notifier_t *n);
/* Wake the dispatcher (mu held). */
void alerts_notify_kick(alerts_notifier_t *n);
/* Append an Alertmanager config text[0..len) to out with its secrets
 * replaced by "<secret>": the value of every key marked
 * ALERTS_RECV_F_SECRET in types' field tables, of the global secret keys
 * (slack_api_url, smtp_auth_password, smtp_auth_secret) and of the
 * http_config secrets, in block style up to the end of the line (and the
 * more indented lines of a block scalar), in flow style up to the next
 * ',', '}' or ']'; and every URL's user:password@ as "<secret>@".
 * Line-based, O(len x keys); the text need not be valid YAML. */
void alerts_notify_redact(const char *text, size_t len, const alerts_recv_type_t *types, size_t ntypes, buf_t *out);
/* Append url to out with its userinfo replaced by "<secret>" (for logs). */
void alerts_notify_redact_url(const char *url, buf_t *out);

/* alerts_notifier_create with the receiver table and hooks given. */
int alerts_notify_open(const alerts_notifier_opts_t *o, const alerts_notify_hooks_t *h, alerts_notifier_t **out,
                       buf_t *err);
/* check_config with a given receiver table. */
int alerts_notify_check(const char *path, const alerts_recv_type_t *types, size_t ntypes, buf_t *err);
/* Wake the dispatcher (after moving an injected clock) and wait up to
 * timeout_ms until it has run at the current time and every sender is
 * idle. 0, or -1 on timeout. For tests. */
int alerts_notify_sync(alerts_notifier_t *n, long timeout_ms);

/* ---- end notifier internals ---- */

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts: Prometheus rule files evaluated in pharosd, and the
 * notifications they cause (issue 6). This header is the module's public
 * interface, in parts:
 *  - templates (alerts_tmpl_*): the Go text/template subset rule files
 *    use in labels and annotations, with Prometheus' functions;
 *  - rule files (alerts_rules_*): loading and checking Prometheus rule
 *    files as promtool does; SLO files (alerts_slo_*) expanded into rule
 *    groups;
 *  - the rule manager (alerts_mgr_*): groups evaluated on their clock
 *    slots, recording rules written back, alert state, ALERTS and
 *    ALERTS_FOR_STATE, /api/v1/rules and /api/v1/alerts;
 *  - the notifier (alerts_notifier_*): Alertmanager's route tree,
 *    inhibition, silences, aggregation groups, notification log and the
 *    receivers (Slack, email, PagerDuty, GitHub issues, Alertmanager).
 * The data flow: mgr evaluates -> alerts_alert_t batches -> notifier.
 */
#ifndef PHAROS_ALERTS_ALERTS_H
#define PHAROS_ALERTS_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/httpd.h"
#include "common/labels.h"
#include "query/promql.h"

/* ---- templates (alerts_tmpl*.c) ---- */

/* Go text/template as Prometheus runs it in alert labels and annotations
 * (template/template.go, rules/alerting.go). A parsed template is an arena
 * AST; executing it never does I/O except through the query callback. */
typedef struct alerts_tmpl alerts_tmpl_t;

/* One sample of a `query` result: labels (borrowed) and value. */
typedef struct alerts_tmpl_sample {
    const label_t *labels;
    size_t nlabels;
    double value;
} alerts_tmpl_sample_t;

/* Run PromQL text q[0..qlen) at ts_ms. On success return 0 and set *out
 * (allocated from a, or borrowed for the execution's lifetime) and *n; on
 * failure return -1 and append the reason to err (shown as Go's error). */
typedef int (*alerts_tmpl_query_fn)(void *ctx, const char *q, size_t qlen, int64_t ts_ms, arena_t *a,
                                    alerts_tmpl_sample_t **out, size_t *n, buf_t *err);

/* What `.` is while a template runs (Prometheus' AlertTemplateData). All
 * borrowed. query may be NULL (then `query` fails with an error). */
typedef struct alerts_tmpl_data {
    const label_t *labels; /* .Labels / $labels */
    size_t nlabels;
    const label_t *external_labels; /* .ExternalLabels / $externalLabels */
    size_t nexternal_labels;
    const char *external_url; /* .ExternalURL, externalURL, pathPrefix; NULL = "" */
    double value;             /* .Value / $value */
    int64_t eval_ms;          /* evaluation time: query's ts, `now` */
    alerts_tmpl_query_fn query;
    void *query_ctx;
    size_t max_output; /* bytes of output before an error; 0 = 1 MiB */
} alerts_tmpl_data_t;

/* Parse text[0..len) as template `name` into a's memory, with Prometheus'
 * functions; define, template and block are accepted as in Go. Returns 0
 * and sets *out, or -1 with Go's message ("template: <name>:<line>: ...")
 * appended to err. O(len) work, nesting depth bounded. */
int alerts_tmpl_parse(arena_t *a, const char *name, const char *text, size_t len, alerts_tmpl_t **out, buf_t *err);

/* Execute t with data d, appending output to out. Returns 0, or -1 with
 * Go's message ("template: <name>:<line>:<col>: executing ...") appended to
 * err; out then holds partial output the caller should discard. Scratch
 * memory comes from a. Work is bounded by d->max_output and a step limit. */
int alerts_tmpl_exec(const alerts_tmpl_t *t, const alerts_tmpl_data_t *d, arena_t *a, buf_t *out, buf_t *err);

/* Expand text as Prometheus' alerting rule does: prepend the $labels,
 * $externalLabels, $externalURL and $value definitions, parse and execute.
 * Appends the result to out and returns 0; on error appends
 * "<error expanding template: error parsing|executing template NAME: ...>"
 * (the text Prometheus puts in the field) and returns -1. */
int alerts_tmpl_expand(const char *name, const char *text, size_t len, const alerts_tmpl_data_t *d, buf_t *out);

/* Load-time check of a label or annotation, as Prometheus' rule loader does
 * (the definitions prepended, parsed, not run). Returns 0, or -1 with Go's
 * parse error ("template: NAME:LINE: ...") appended to err. O(len). */
int alerts_tmpl_check(const char *name, const char *text, size_t len, buf_t *err);

/* ---- rule files (alerts_rules*.c) ---- */

/* A loaded rule file. These structs are public (not opaque) because the
 * evaluator, /api/v1/rules and the tests all read them; they are immutable
 * after load and live entirely in the caller's arena. Positions are 1-based
 * line and column of the YAML node, 0:0 when the field is absent. */
typedef struct alerts_rules_pos {
    unsigned line;
    unsigned col;
} alerts_rules_pos_t;

typedef struct alerts_rules_kv {
    const char *name;
    const char *value;
} alerts_rules_kv_t;

typedef struct alerts_rule {
    const char *record; /* "" when absent; exactly one of record/alert is set after a clean load */
    const char *alert;
    const char *expr;
    alerts_rules_pos_t record_pos, alert_pos, expr_pos;
    int64_t for_ms;
    int64_t keep_firing_for_ms;
    alerts_rules_kv_t *labels; /* in file order */
    size_t nlabels;
    alerts_rules_kv_t *annotations;
    size_t nannotations;
} alerts_rule_t;

typedef struct alerts_rules_group {
    const char *name;
    alerts_rules_pos_t pos;
    int64_t interval_ms;     /* 0: the global evaluation interval */
    int64_t query_offset_ms; /* Prometheus 3; valid when has_query_offset */
    bool has_query_offset;
    int64_t limit;
    alerts_rules_kv_t *labels; /* Prometheus 3 group labels */
    size_t nlabels;
    alerts_rule_t *rules;
    size_t nrules;
} alerts_rules_group_t;

typedef struct alerts_rules_file {
    alerts_rules_group_t *groups;
    size_t ngroups;
    size_t nrules; /* over all groups */
} alerts_rules_file_t;

/* One error, worded as Prometheus 2.42's rulefmt words it, without the
 * "<file>: " prefix promtool adds (text may span lines, as Go's yaml
 * "unmarshal errors" do). line/col: the node's position, 0 when unknown. */
typedef struct alerts_rules_error {
    unsigned line;
    unsigned col;
    const char *text;
} alerts_rules_error_t;

/* Parse and validate a rule file text[0..len) (borrowed) as Prometheus'
 * rulefmt.Parse does: the strict typed decode, the node decode, then
 * Validate (group names, record/alert/expr, every expr through
 * promql_parse, label and annotation names and values, templates of
 * alerting rules). 0 and [out] *out when there is no error; -1 and the
 * errors in [out] *errs / *nerrs, in promtool's order, otherwise (*out is
 * then NULL). Everything is allocated from a. Prometheus 3's group fields
 * query_offset and labels are accepted (2.42 rejects them). Pure; work is
 * linear in len plus parsing each expr. */
int alerts_rules_parse(const char *text, size_t len, arena_t *a, alerts_rules_file_t **out, alerts_rules_error_t **errs,
                       size_t *nerrs);

/* alerts_rules_parse on the contents of path. An unreadable file gives one
 * error "open <path>: <reason>". */
int alerts_rules_load(const char *path, arena_t *a, alerts_rules_file_t **out, alerts_rules_error_t **errs,
                      size_t *nerrs);

/* promtool's duplicate-rule lint: rules with the same name (alert or
 * record) and the same labels over the whole file. Returns how many were
 * found; when > 0 appends promtool's message ("N duplicate rule(s)
 * found.\nMetric: …\nLabel(s):\n\tk: v\n…Might cause inconsistency while
 * recording expressions") to msg. O(r log r) for r rules. */
size_t alerts_rules_lint_duplicates(const alerts_rules_file_t *f, buf_t *msg);

typedef struct alerts_rules_check_opts {
    bool lint_duplicates; /* promtool's --lint=duplicate-rules (its default) */
    bool lint_fatal;      /* --lint-fatal: a lint finding fails the check */
    const char *prog;     /* names the program in path errors; NULL: "promtool" */
} alerts_rules_check_opts_t;

/* `promtool check rules paths[0..n)` of Prometheus 2.42: writes exactly its
 * stdout text to out and its stderr text to err (borrowed; flushed after
 * each part, so the two interleave as promtool's do), and returns its exit
 * status (0 ok, 1 failed). A path that does not exist or is a directory
 * stops everything before any file is checked, as kingpin does ("<prog>:
 * error: path 'x' does not exist, try --help", status 1). */
int alerts_rules_check(const char *const *paths, size_t n, const alerts_rules_check_opts_t *opts, FILE *out, FILE *err);

/* ---- SLO files (alerts_slo.c) ---- */

/* Parse an SLO file (YAML, top-level `slos:`; format in
 * docs/alerting-slo.md) and expand every SLO into the multi-window
 * multi-burn-rate recording and alerting rule groups of the SRE workbook
 * (page: 1h/5m at 14.4x and 6h/30m at 6x; ticket: 1d/2h at 3x and 3d/6h
 * at 1x), with Sloth-compatible rule names.
 * Same contract as alerts_rules_parse: 0 and *out (every expr parsed and
 * checked), or -1 and errors naming line and field. Allocated from a. */
int alerts_slo_parse(const char *text, size_t len, arena_t *a, alerts_rules_file_t **out, alerts_rules_error_t **errs,
                     size_t *nerrs);
int alerts_slo_load(const char *path, arena_t *a, alerts_rules_file_t **out, alerts_rules_error_t **errs,
                    size_t *nerrs);
/* Append f as a plain Prometheus rule file (YAML) that the rule loader,
 * and promtool, read back into the same groups. O(size of f). */
void alerts_slo_write_yaml(const alerts_rules_file_t *f, buf_t *out);

/* ---- alerts as sent (rule manager -> notifier) ---- */

/* One alert as Prometheus posts it to Alertmanager (PostableAlert). All
 * strings borrowed for the call that passes it. labels are sorted by name
 * and include alertname and the external labels; annotations sorted by
 * name. ends_at_ms: for a firing alert, the time it is valid until
 * (eval + 4 x max(interval, resend delay)); for a resolved one, the time
 * it resolved (<= now). */
typedef struct alerts_alert {
    const label_t *labels;
    size_t nlabels;
    const label_t *annotations;
    size_t nannotations;
    int64_t starts_at_ms;
    int64_t ends_at_ms;
    const char *generator_url;
} alerts_alert_t;

/* Where the rule manager hands the alerts due to be sent after a group's
 * evaluation (Prometheus' sendAlerts: firing ones at most every resend
 * delay, resolved ones as they resolve and for 15 minutes after). */
typedef void (*alerts_send_fn)(void *ctx, const alerts_alert_t *alerts, size_t n, int64_t now_ms);

/* ---- the rule manager (alerts_mgr*.c) ---- */

typedef struct alerts_mgr alerts_mgr_t;

/* Write samples produced by rules (recording results, ALERTS,
 * ALERTS_FOR_STATE, stale markers): tsdb_append's contract. */
typedef int (*alerts_append_fn)(void *ctx, const tsdb_input_t *in, size_t n);

typedef struct alerts_mgr_opts {
    promql_source_t src;         /* what rules query (borrowed) */
    promql_engine_opts_t engine; /* lookback, timeout, max samples */
    alerts_append_fn append;     /* required */
    void *append_ctx;
    alerts_send_fn send; /* NULL: alerts are kept, not sent */
    void *send_ctx;
    int64_t eval_interval_ms;           /* groups without interval (0: 1m) */
    int64_t query_offset_ms;            /* groups without query_offset */
    int64_t outage_tolerance_ms;        /* for-state restore (0: 1h) */
    int64_t grace_period_ms;            /* (0: 10m) */
    int64_t resend_delay_ms;            /* (0: 1m) */
    const char *const *external_labels; /* name, value, ... (copied) */
    size_t nexternal_labels;            /* pairs */
    const char *external_url;           /* copied; NULL: "" */
    bool no_restore;                    /* alerting rules start restored: ALERTS are written from the first
                                         * evaluation and no for-state is read back (unit tests) */
    pclock_t clock;                     /* zeroed: the real clock */
} alerts_mgr_opts_t;

/* A manager with no rules. Aborts on OOM. */
alerts_mgr_t *alerts_mgr_create(const alerts_mgr_opts_t *o);
/* Stop (alerts_mgr_stop) and free; NULL ok. */
void alerts_mgr_destroy(alerts_mgr_t *m);

/* Load rule files (globs) and SLO files (globs) as one set, all or
 * nothing: on any error the running rules stay and -1 is returned with
 * every problem appended to err, one per line, as "file:line:col: reason".
 * On success the new groups replace the old; a group with the same file
 * and name keeps its alerts' state (Prometheus' CopyState), and series of
 * removed rules get stale markers. Thread-safe. */
int alerts_mgr_load(alerts_mgr_t *m, const char *const *rule_globs, size_t nrule, const char *const *slo_globs,
                    size_t nslo, buf_t *err);

/* Evaluate every rule of group gi (index in load order) at ts_ms now, as
 * the scheduler would (for tests and `pharosctl test rules`). Returns 0,
 * or -1 when gi is out of range. */
int alerts_mgr_eval_group(alerts_mgr_t *m, size_t gi, int64_t ts_ms);
size_t alerts_mgr_ngroups(alerts_mgr_t *m);
/* File and name of group gi (borrowed until the next load), or -1 when
 * gi is out of range. */
int alerts_mgr_group_info(alerts_mgr_t *m, size_t gi, const char **file, const char **name);
/* The rules of group gi whose last evaluation failed, in rule order:
 * "NAME\tERROR\n" each, appended to out. Returns how many. */
size_t alerts_mgr_group_errors(alerts_mgr_t *m, size_t gi, buf_t *out);

/* A pending or firing alert (or a resolved one still kept), copied. */
typedef enum alerts_state {
    ALERTS_STATE_INACTIVE = 0, /* resolved, kept for resending */
    ALERTS_STATE_PENDING,
    ALERTS_STATE_FIRING,
} alerts_state_t;

typedef struct alerts_active {
    const char *file; /* the group's file and name, the rule's alert name */
    const char *group;
    const char *alertname;
    label_t *labels; /* sorted; alertname included, external labels not */
    size_t nlabels;
    label_t *annotations; /* sorted, expanded */
    size_t nannotations;
    alerts_state_t state;
    double value;
    int64_t active_at_ms;
    int64_t fired_at_ms;          /* 0: never fired */
    int64_t resolved_at_ms;       /* 0: not resolved */
    int64_t keep_firing_since_ms; /* 0: not kept */
} alerts_active_t;

/* Copy every alert the rules hold (group order, then rule order, then
 * label order) into a; [out] *out. Returns the count. Thread-safe. */
size_t alerts_mgr_alerts(alerts_mgr_t *m, arena_t *a, alerts_active_t **out);

/* Start the scheduler thread: each group runs at its slot (offset by a
 * hash of file and name within its interval); late iterations are
 * skipped and counted. Returns 0 or -1 (thread not created). */
int alerts_mgr_start(alerts_mgr_t *m);
/* Stop the scheduler (waits for a running evaluation). Idempotent. */
void alerts_mgr_stop(alerts_mgr_t *m);

/* GET /api/v1/rules and /api/v1/alerts with Prometheus' JSON and
 * parameters (type, rule_name[], rule_group[], file[], exclude_alerts,
 * match[], group_limit, group_next_token). */
void alerts_mgr_api_rules(alerts_mgr_t *m, http_req_t *req, http_resp_t *resp);
void alerts_mgr_api_alerts(alerts_mgr_t *m, http_req_t *req, http_resp_t *resp);

/* Append pharosd's rule metrics (prometheus_rule_* names, Prometheus
 * exposition text). */
void alerts_mgr_metrics(alerts_mgr_t *m, buf_t *out);

/* ---- the notifier (alerts_notify*.c, alerts_route.c, alerts_silence.c,
 * alerts_nflog.c, alerts_recv_*.c) ---- */

typedef struct alerts_notifier alerts_notifier_t;

typedef struct alerts_notifier_opts {
    const char *config_file; /* Alertmanager-format YAML (route, receivers, inhibit_rules); NULL: no routing */
    const char *data_dir;    /* notification log, silences, alert state, receiver state (created) */
    const char *const *alertmanager_urls; /* every alert also POSTed to each /api/v2/alerts */
    size_t nalertmanager_urls;
    const char *external_url; /* ExternalURL of notification data */
    /* After a restart, firing alerts read back from the state are kept
     * firing until at least start + this, so the rule manager (which
     * re-sends them only after its for-state restore) is not beaten by
     * their endsAt and no spurious "resolved" is sent. 0: none. */
    int64_t restore_hold_ms;
    pclock_t clock; /* zeroed: the real clock */
} alerts_notifier_opts_t;

/* Load the config, restore the persisted state and start the dispatcher
 * and sender threads. 0 and [out] *out, or -1 with "file:line: reason"
 * (or an I/O error naming the path) appended to err. */
int alerts_notifier_create(const alerts_notifier_opts_t *o, alerts_notifier_t **out, buf_t *err);
/* Persist state, stop threads, free. NULL ok. */
void alerts_notifier_destroy(alerts_notifier_t *n);
/* Check a config file without starting anything (--check-config). */
int alerts_notifier_check_config(const char *path, buf_t *err);
/* Reload the config file: on error the running config stays and -1 is
 * returned with the reason; aggregation groups of unchanged routes keep
 * their state. */
int alerts_notifier_reload(alerts_notifier_t *n, buf_t *err);
/* Take alerts (an alerts_send_fn: ctx is the notifier). Copies them;
 * never blocks on a receiver. */
void alerts_notifier_put(void *n, const alerts_alert_t *alerts, size_t nalerts, int64_t now_ms);
/* Alertmanager's API v2 under /api/v2/ (alerts GET/POST, silences
 * GET/POST/DELETE, silence/<id>, status, receivers). */
void alerts_notifier_api(alerts_notifier_t *n, http_req_t *req, http_resp_t *resp);
/* Append the notifier's metrics (alertmanager_* names where they exist). */
void alerts_notifier_metrics(alerts_notifier_t *n, buf_t *out);

#endif

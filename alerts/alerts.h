/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts: Prometheus rule files evaluated in pharosd, and the
 * notifications they cause (issue 6). This header is the module's public
 * interface; its parts are added as they land:
 *  - templates (alerts_tmpl_*): the Go text/template subset rule files
 *    use in labels and annotations, with Prometheus' functions;
 *  - rule files (alerts_rules_*): loading and checking Prometheus rule
 *    files as promtool does.
 * Everything here is pure (no I/O but reading the named files): the
 * evaluation loop, alert state and receivers come later.
 */
#ifndef PHAROS_ALERTS_ALERTS_H
#define PHAROS_ALERTS_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/labels.h"

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

/* Parse text[0..len) as template `name` into a's memory. Returns 0 and sets
 * *out, or -1 with Go's message ("template: <name>:<line>: ...") appended
 * to err. O(len) work, nesting depth bounded. */
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

#endif

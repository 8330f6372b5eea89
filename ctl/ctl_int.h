/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_int: private to the files of ctl/: the helpers one command's file lends
 * another (ctl_logs.c formats stream labels as ctl_format.c formats
 * series, and encodes its request as ctl_query.c encodes forms).
 */
#ifndef PHAROS_CTL_CTL_INT_H
#define PHAROS_CTL_CTL_INT_H

#include <jansson.h>

#include "common/arena.h"
#include "common/buf.h"
#include "ctl/ctl.h"

/* metric: a JSON object of string values (borrowed). Appends
 * name{a="b", …} to out, labels sorted by name, quoted as PromQL reads
 * them ({} when empty); 0, or -1 with the reason appended to why when it
 * is not an object of strings. O(k log k) for k labels. */
int ctl_format_labels(const json_t *metric, buf_t *out, buf_t *why);

/* Append "key=value" to b, after a '&' unless b is empty, value
 * percent-encoded for a form or a query string (only unreserved bytes
 * stay raw). */
void ctl_query_form(buf_t *b, const char *key, const char *value);

/* ---- pharosctl test rules (ctl_test.c, ctl_test_file.c) ---- */

/* `pharosctl test rules FILE...`: promtool 2.42's test rules, offline. */
int ctl_test_run(const ctl_env_t *env, int argc, char **argv);
void ctl_test_usage(FILE *out);

/* One name: value of a map (exp_labels, exp_annotations, external_labels),
 * file order, a repeated key keeping its last value. */
typedef struct ctl_test_kv {
    const char *name;
    const char *value;
} ctl_test_kv_t;

typedef struct ctl_test_series {
    const char *series; /* the selector text, as written */
    const char *values; /* the expanding notation, as written */
    unsigned line;
} ctl_test_series_t;

typedef struct ctl_test_exp_alert {
    ctl_test_kv_t *labels;
    size_t nlabels;
    ctl_test_kv_t *annotations;
    size_t nannotations;
} ctl_test_exp_alert_t;

typedef struct ctl_test_alert_case {
    int64_t eval_ms;
    const char *alertname; /* "" when absent */
    ctl_test_exp_alert_t *exp;
    size_t nexp;
} ctl_test_alert_case_t;

typedef struct ctl_test_sample {
    const char *labels; /* a metric text, parsed when the case runs */
    double value;
    unsigned line;
} ctl_test_sample_t;

typedef struct ctl_test_expr_case {
    const char *expr;
    int64_t eval_ms;
    ctl_test_sample_t *exp;
    size_t nexp;
} ctl_test_expr_case_t;

/* One entry of tests: (promtool's testGroup). */
typedef struct ctl_test_group {
    int64_t interval_ms; /* 0 when absent */
    ctl_test_series_t *series;
    size_t nseries;
    ctl_test_alert_case_t *alert_cases;
    size_t nalert_cases;
    ctl_test_expr_case_t *expr_cases;
    size_t nexpr_cases;
    ctl_test_kv_t *external_labels;
    size_t nexternal_labels;
    const char *external_url; /* "" when absent */
    const char *name;         /* "" when absent */
} ctl_test_group_t;

typedef struct ctl_test_file {
    const char **rule_files; /* as written: not yet resolved nor globbed */
    size_t nrule_files;
    int64_t eval_interval_ms; /* 0 when absent (the runner's default: 1m) */
    const char **group_eval_order;
    size_t ngroup_eval_order;
    ctl_test_group_t *tests;
    size_t ntests;
} ctl_test_file_t;

/* Parse a unit-test file text[0..len) (borrowed) as promtool 2.42 reads it
 * (yaml.v2 UnmarshalStrict into its types). 0 and [out] *out, everything
 * in a; or -1 with Go's error text appended to err ("yaml: unmarshal
 * errors:\n  line N: field x not found in type main.testGroup", "not a
 * valid duration string: \"x\"", "yaml: line N: <syntax problem>"). Pure;
 * linear in len. */
int ctl_test_file_parse(const char *text, size_t len, arena_t *a, ctl_test_file_t **out, buf_t *err);

/* Append v as Go's strconv.FormatFloat(v, 'E', -1, 64) writes it (the
 * shortest text that reads back as v: "3E+00", "1.5E-07", "+Inf", "NaN"). */
void ctl_test_format_float(double v, buf_t *out);

/* Append ms as Prometheus' model.Duration.String() writes it ("10m",
 * "1h30m", "0s"). */
void ctl_test_format_duration(int64_t ms, buf_t *out);

/* Append ms (>= 0) as Go's time.Duration.String() writes it ("0s",
 * "500ms", "10m0s", "1h0m1.5s"): the time of promtool's rule errors. */
void ctl_test_format_go_duration(int64_t ms, buf_t *out);

#endif

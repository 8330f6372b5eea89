/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_test_file: the pure parser of promtool's rule unit-test files
 * (Prometheus 2.42's cmd/promtool/unittest.go types: unitTestFile,
 * testGroup, series, alertTestCase, alert, promqlTestCase, sample), read
 * as yaml.v2's UnmarshalStrict reads them, into a ctl_test_file_t.
 *
 * Core idea: one libyaml document, walked once per typed struct. As in
 * yaml.v2, type mismatches, unknown fields and repeated keys are collected
 * as "yaml: unmarshal errors:\n  line N: ..." lines and decoding goes on;
 * a bad duration (model.Duration's own unmarshaler) stops the decode with
 * its own text; a syntax error is "yaml: line N: <libyaml's problem>".
 * Scalars decode into strings whatever their tag (yaml.v2 does so); only a
 * plain !!int or !!float scalar decodes into a float64.
 *
 * Invariants: everything lives in the caller's arena; the libyaml
 * document is freed on every path; nothing here does I/O.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "common/mem.h"
#include "common/labels.h"
#include "common/str.h"
#include "common/yamldoc.h"
#include "ctl/ctl_int.h"

typedef struct tf {
    arena_t *a;
    yaml_document_t *doc;
    yamldoc_goerrs_t terr; /* "line N: ..." of the decode */
    const char *abort;     /* a failed duration: the decode stops */
} tf_t;

/* yaml.v2's short tag of a scalar as its resolver sees it. */
static const char *tf_tag(const yaml_node_t *n)
{
    if (n->type == YAML_SEQUENCE_NODE) {
        return "!!seq";
    }
    if (n->type == YAML_MAPPING_NODE) {
        return "!!map";
    }
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        return "!!str";
    }
    if (yamldoc_plain_null(n)) {
        return "!!null";
    }
    const char *s = yamldoc_str(n);
    double d = 0;
    if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0 || strcmp(s, "yes") == 0 || strcmp(s, "no") == 0 ||
        strcmp(s, "on") == 0 || strcmp(s, "off") == 0) {
        return "!!bool";
    }
    const char *q = s + (*s == '+' || *s == '-');
    if (*q >= '0' && *q <= '9' && strspn(q, "0123456789_") == strlen(q)) {
        return "!!int";
    }
    if (strcmp(q, ".inf") == 0 || strcmp(q, ".Inf") == 0 || strcmp(q, ".INF") == 0 || strcmp(s, ".nan") == 0 ||
        strcmp(s, ".NaN") == 0 || strcmp(s, ".NAN") == 0) {
        return "!!float";
    }
    if (strspn(q, "0123456789.eE+-") == strlen(q) && str_parse_double(str_cstr(s), &d)) {
        return "!!float";
    }
    return "!!str";
}

static void tf_type_err(tf_t *p, const yaml_node_t *n, const char *into)
{
    yamldoc_goerrs_type(&p->terr, n, tf_tag(n), into);
}

/* A string field: any scalar (yaml.v2 takes ints and floats as their
 * text); null leaves "". */
static void tf_string(tf_t *p, const yaml_node_t *n, const char **dst)
{
    if (n->type != YAML_SCALAR_NODE) {
        tf_type_err(p, n, "string");
        return;
    }
    *dst = yamldoc_plain_null(n) ? "" : arena_strndup(p->a, yamldoc_str(n), n->data.scalar.length);
}

static void tf_float(tf_t *p, const yaml_node_t *n, double *dst)
{
    const char *tag = tf_tag(n);
    if (strcmp(tag, "!!null") == 0) {
        return;
    }
    if (strcmp(tag, "!!int") != 0 && strcmp(tag, "!!float") != 0) {
        tf_type_err(p, n, "float64");
        return;
    }
    const char *s = yamldoc_str(n);
    const char *q = s + (*s == '+' || *s == '-');
    if (q[0] == '.') {
        *dst = (q[1] == 'n' || q[1] == 'N') ? NAN : (*s == '-' ? -INFINITY : INFINITY);
        return;
    }
    char *tmp = arena_alloc(p->a, n->data.scalar.length + 1); /* as long as the scalar: no silent cut */
    size_t k = 0;
    for (const char *c = s; *c; c++) {
        if (*c != '_') {
            tmp[k++] = *c;
        }
    }
    tmp[k] = 0;
    if (!str_parse_double(str_from(tmp, k), dst)) {
        tf_type_err(p, n, "float64");
    }
}

/* model.Duration: a string through model.ParseDuration; its error stops
 * the whole decode, as yaml.v2 does with an unmarshaler's error. */
static void tf_duration(tf_t *p, const yaml_node_t *n, int64_t *ms)
{
    if (p->abort) {
        return;
    }
    if (n->type != YAML_SCALAR_NODE) {
        tf_type_err(p, n, "string");
        return;
    }
    if (yamldoc_plain_null(n)) {
        return;
    }
    const char *s = yamldoc_str(n);
    if (!str_parse_duration_ms(str_from(s, n->data.scalar.length), ms)) {
        buf_t q;
        buf_init(&q);
        labels_quote(str_from(s, n->data.scalar.length), &q);
        char *msg = arena_alloc(p->a, q.len + 40);
        snprintf(msg, q.len + 40, "not a valid duration string: %.*s", (int)q.len, (const char *)q.data);
        p->abort = msg;
        buf_fini(&q);
    }
}

/* A mapping to decode into type gotype: false (and an error) when n is
 * not a mapping; repeated keys are reported as yaml.v2's strict mode
 * does. null is an empty mapping. */
static bool tf_mapping(tf_t *p, const yaml_node_t *n, const char *gotype)
{
    if (yamldoc_plain_null(n)) {
        return false;
    }
    if (n->type != YAML_MAPPING_NODE) {
        tf_type_err(p, n, gotype);
        return false;
    }
    size_t len = yamldoc_map_len(n);
    size_t *first = mem_alloc((len ? len : 1) * sizeof(*first));
    yamldoc_map_repeats(p->doc, n, first, NULL);
    for (size_t i = 0; i < len; i++) {
        const yaml_node_t *ki = NULL, *vi = NULL;
        yamldoc_map_at(p->doc, n, i, &ki, &vi);
        if (ki->type != YAML_SCALAR_NODE || first[i] == i) {
            continue;
        }
        if (strncmp(gotype, "map[", 4) == 0) {
            yamldoc_goerrs_add(&p->terr, "line %u: key \"%s\" already set in map", yamldoc_line(ki), yamldoc_str(ki));
        } else {
            yamldoc_goerrs_add(&p->terr, "line %u: field %s already set in type %s", yamldoc_line(ki), yamldoc_str(ki),
                               gotype);
        }
    }
    mem_free(first);
    return true;
}

/* A sequence to decode into gotype: its length, 0 (with an error unless
 * null) when n is not a sequence. */
static size_t tf_sequence(tf_t *p, const yaml_node_t *n, const char *gotype)
{
    if (yamldoc_plain_null(n)) {
        return 0;
    }
    if (n->type != YAML_SEQUENCE_NODE) {
        tf_type_err(p, n, gotype);
        return 0;
    }
    return yamldoc_seq_len(n);
}

static const char *tf_key(const yaml_node_t *k)
{
    return k->type == YAML_SCALAR_NODE ? yamldoc_str(k) : "";
}

static void tf_unknown(tf_t *p, const yaml_node_t *k, const char *gotype)
{
    yamldoc_goerrs_add(&p->terr, "line %u: field %s not found in type %s", yamldoc_line(k), tf_key(k), gotype);
}

/* map[string]string (exp_labels, exp_annotations, external_labels). */
static void tf_strmap(tf_t *p, const yaml_node_t *n, ctl_test_kv_t **kv, size_t *nkv)
{
    if (!tf_mapping(p, n, "map[string]string")) {
        return;
    }
    size_t cap = yamldoc_map_len(n);
    *kv = arena_calloc(p->a, cap ? cap : 1, sizeof(**kv));
    *nkv = 0;
    for (size_t i = 0; i < yamldoc_map_len(n); i++) {
        const yaml_node_t *k = NULL, *v = NULL;
        yamldoc_map_at(p->doc, n, i, &k, &v);
        ctl_test_kv_t e = { .name = "", .value = "" };
        tf_string(p, k, &e.name);
        tf_string(p, v, &e.value);
        size_t j = 0;
        while (j < *nkv && strcmp((*kv)[j].name, e.name) != 0) {
            j++;
        }
        (*kv)[j] = e; /* a repeated key keeps the last value, as a Go map */
        if (j == *nkv) {
            (*nkv)++;
        }
    }
}

static void tf_series(tf_t *p, const yaml_node_t *n, ctl_test_series_t *s)
{
    s->series = "";
    s->values = "";
    s->line = yamldoc_line(n);
    if (!tf_mapping(p, n, "main.series")) {
        return;
    }
    for (size_t i = 0; i < yamldoc_map_len(n); i++) {
        const yaml_node_t *k = NULL, *v = NULL;
        yamldoc_map_at(p->doc, n, i, &k, &v);
        if (strcmp(tf_key(k), "series") == 0) {
            tf_string(p, v, &s->series);
        } else if (strcmp(tf_key(k), "values") == 0) {
            tf_string(p, v, &s->values);
        } else {
            tf_unknown(p, k, "main.series");
        }
    }
}

static void tf_exp_alert(tf_t *p, const yaml_node_t *n, ctl_test_exp_alert_t *e)
{
    if (!tf_mapping(p, n, "main.alert")) {
        return;
    }
    for (size_t i = 0; i < yamldoc_map_len(n); i++) {
        const yaml_node_t *k = NULL, *v = NULL;
        yamldoc_map_at(p->doc, n, i, &k, &v);
        if (strcmp(tf_key(k), "exp_labels") == 0) {
            tf_strmap(p, v, &e->labels, &e->nlabels);
        } else if (strcmp(tf_key(k), "exp_annotations") == 0) {
            tf_strmap(p, v, &e->annotations, &e->nannotations);
        } else {
            tf_unknown(p, k, "main.alert");
        }
    }
}

static void tf_alert_case(tf_t *p, const yaml_node_t *n, ctl_test_alert_case_t *c)
{
    c->alertname = "";
    if (!tf_mapping(p, n, "main.alertTestCase")) {
        return;
    }
    for (size_t i = 0; i < yamldoc_map_len(n); i++) {
        const yaml_node_t *k = NULL, *v = NULL;
        yamldoc_map_at(p->doc, n, i, &k, &v);
        if (strcmp(tf_key(k), "eval_time") == 0) {
            tf_duration(p, v, &c->eval_ms);
        } else if (strcmp(tf_key(k), "alertname") == 0) {
            tf_string(p, v, &c->alertname);
        } else if (strcmp(tf_key(k), "exp_alerts") == 0) {
            c->nexp = tf_sequence(p, v, "[]main.alert");
            c->exp = arena_calloc(p->a, c->nexp ? c->nexp : 1, sizeof(*c->exp));
            for (size_t j = 0; j < c->nexp; j++) {
                tf_exp_alert(p, yamldoc_seq_at(p->doc, v, j), &c->exp[j]);
            }
        } else {
            tf_unknown(p, k, "main.alertTestCase");
        }
    }
}

static void tf_sample(tf_t *p, const yaml_node_t *n, ctl_test_sample_t *s)
{
    s->labels = "";
    s->line = yamldoc_line(n);
    if (!tf_mapping(p, n, "main.sample")) {
        return;
    }
    for (size_t i = 0; i < yamldoc_map_len(n); i++) {
        const yaml_node_t *k = NULL, *v = NULL;
        yamldoc_map_at(p->doc, n, i, &k, &v);
        if (strcmp(tf_key(k), "labels") == 0) {
            tf_string(p, v, &s->labels);
        } else if (strcmp(tf_key(k), "value") == 0) {
            tf_float(p, v, &s->value);
        } else {
            tf_unknown(p, k, "main.sample");
        }
    }
}

static void tf_expr_case(tf_t *p, const yaml_node_t *n, ctl_test_expr_case_t *c)
{
    c->expr = "";
    if (!tf_mapping(p, n, "main.promqlTestCase")) {
        return;
    }
    for (size_t i = 0; i < yamldoc_map_len(n); i++) {
        const yaml_node_t *k = NULL, *v = NULL;
        yamldoc_map_at(p->doc, n, i, &k, &v);
        if (strcmp(tf_key(k), "expr") == 0) {
            tf_string(p, v, &c->expr);
        } else if (strcmp(tf_key(k), "eval_time") == 0) {
            tf_duration(p, v, &c->eval_ms);
        } else if (strcmp(tf_key(k), "exp_samples") == 0) {
            c->nexp = tf_sequence(p, v, "[]main.sample");
            c->exp = arena_calloc(p->a, c->nexp ? c->nexp : 1, sizeof(*c->exp));
            for (size_t j = 0; j < c->nexp; j++) {
                tf_sample(p, yamldoc_seq_at(p->doc, v, j), &c->exp[j]);
            }
        } else {
            tf_unknown(p, k, "main.promqlTestCase");
        }
    }
}

static void tf_group(tf_t *p, const yaml_node_t *n, ctl_test_group_t *g)
{
    g->name = "";
    g->external_url = "";
    if (!tf_mapping(p, n, "main.testGroup")) {
        return;
    }
    for (size_t i = 0; i < yamldoc_map_len(n); i++) {
        const yaml_node_t *k = NULL, *v = NULL;
        yamldoc_map_at(p->doc, n, i, &k, &v);
        const char *key = tf_key(k);
        if (strcmp(key, "interval") == 0) {
            tf_duration(p, v, &g->interval_ms);
        } else if (strcmp(key, "input_series") == 0) {
            g->nseries = tf_sequence(p, v, "[]main.series");
            g->series = arena_calloc(p->a, g->nseries ? g->nseries : 1, sizeof(*g->series));
            for (size_t j = 0; j < g->nseries; j++) {
                tf_series(p, yamldoc_seq_at(p->doc, v, j), &g->series[j]);
            }
        } else if (strcmp(key, "alert_rule_test") == 0) {
            g->nalert_cases = tf_sequence(p, v, "[]main.alertTestCase");
            g->alert_cases = arena_calloc(p->a, g->nalert_cases ? g->nalert_cases : 1, sizeof(*g->alert_cases));
            for (size_t j = 0; j < g->nalert_cases; j++) {
                tf_alert_case(p, yamldoc_seq_at(p->doc, v, j), &g->alert_cases[j]);
            }
        } else if (strcmp(key, "promql_expr_test") == 0) {
            g->nexpr_cases = tf_sequence(p, v, "[]main.promqlTestCase");
            g->expr_cases = arena_calloc(p->a, g->nexpr_cases ? g->nexpr_cases : 1, sizeof(*g->expr_cases));
            for (size_t j = 0; j < g->nexpr_cases; j++) {
                tf_expr_case(p, yamldoc_seq_at(p->doc, v, j), &g->expr_cases[j]);
            }
        } else if (strcmp(key, "external_labels") == 0) {
            tf_strmap(p, v, &g->external_labels, &g->nexternal_labels);
        } else if (strcmp(key, "external_url") == 0) {
            tf_string(p, v, &g->external_url);
        } else if (strcmp(key, "name") == 0) {
            tf_string(p, v, &g->name);
        } else {
            tf_unknown(p, k, "main.testGroup");
        }
    }
}

static void tf_strings(tf_t *p, const yaml_node_t *v, const char ***dst, size_t *n)
{
    *n = tf_sequence(p, v, "[]string");
    *dst = arena_calloc(p->a, *n ? *n : 1, sizeof(**dst));
    for (size_t i = 0; i < *n; i++) {
        (*dst)[i] = "";
        tf_string(p, yamldoc_seq_at(p->doc, v, i), &(*dst)[i]);
    }
}

static void tf_file(tf_t *p, const yaml_node_t *n, ctl_test_file_t *f)
{
    if (!tf_mapping(p, n, "main.unitTestFile")) {
        return;
    }
    for (size_t i = 0; i < yamldoc_map_len(n); i++) {
        const yaml_node_t *k = NULL, *v = NULL;
        yamldoc_map_at(p->doc, n, i, &k, &v);
        const char *key = tf_key(k);
        if (strcmp(key, "rule_files") == 0) {
            tf_strings(p, v, &f->rule_files, &f->nrule_files);
        } else if (strcmp(key, "evaluation_interval") == 0) {
            tf_duration(p, v, &f->eval_interval_ms);
        } else if (strcmp(key, "group_eval_order") == 0) {
            tf_strings(p, v, &f->group_eval_order, &f->ngroup_eval_order);
        } else if (strcmp(key, "tests") == 0) {
            f->ntests = tf_sequence(p, v, "[]main.testGroup");
            f->tests = arena_calloc(p->a, f->ntests ? f->ntests : 1, sizeof(*f->tests));
            for (size_t j = 0; j < f->ntests; j++) {
                tf_group(p, yamldoc_seq_at(p->doc, v, j), &f->tests[j]);
            }
        } else {
            tf_unknown(p, k, "main.unitTestFile");
        }
    }
}

int ctl_test_file_parse(const char *text, size_t len, arena_t *a, ctl_test_file_t **out, buf_t *err)
{
    ctl_test_file_t *f = arena_calloc(a, 1, sizeof(*f));
    tf_t p = { .a = a };
    yamldoc_goerrs_init(&p.terr);
    yaml_document_t doc;
    yamldoc_error_t ye;
    bool have_doc = false;
    int rc = -1;
    yamldoc_status_t st = yamldoc_load(text, len, &doc, &ye);
    if (st == YAMLDOC_ENOMEM) {
        buf_puts(err, "yaml: out of memory");
        goto fail;
    }
    if (st != YAMLDOC_OK) {
        /* yaml.v2's parser.fail(): a scanner error's line is one past the
         * 0-based mark, a parser error's is the mark itself; a mark on the
         * first line falls back to the context's, and 0 drops "line N: ". */
        size_t line = ye.problem_mark.line;
        if (line != 0) {
            line += ye.type == YAML_SCANNER_ERROR;
        } else {
            line = ye.context_mark.line;
        }
        buf_puts(err, "yaml: ");
        if (line != 0) {
            buf_printf(err, "line %zu: ", line);
        }
        buf_puts(err, ye.problem ? ye.problem : "syntax error");
        goto fail;
    }
    have_doc = true;
    p.doc = &doc;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root) {
        tf_file(&p, root, f);
    }
    if (p.abort) {
        buf_puts(err, p.abort);
        goto fail;
    }
    if (p.terr.n) {
        buf_puts(err, "yaml: unmarshal errors:\n  ");
        buf_append(err, p.terr.b.data, p.terr.b.len);
        goto fail;
    }
    *out = f;
    rc = 0;
fail:
    if (have_doc) {
        yaml_document_delete(&doc);
    }
    yamldoc_goerrs_fini(&p.terr);
    return rc;
}

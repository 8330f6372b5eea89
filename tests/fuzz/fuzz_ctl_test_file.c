/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_ctl_test_file: libFuzzer target for ctl_test_file_parse
 * (ctl/ctl_test_file.c), which reads the rule unit-test files that
 * `pharosctl test rules` is given (CI jobs run it on files from pull
 * requests).
 *
 * The input is the file text. Either the parse succeeds with an empty
 * error text and a file whose every array holds as many non-NULL strings
 * as its count says; or it fails with a non-empty error text and leaves
 * *out alone. The texts a run parses next go through the series notation
 * (query/promql_series.c) as ctl_test.c hands them over: each input
 * series as "<series> <values>", each exp_samples labels text as a
 * metric; those answer 0, or -1 with a "L:C: parse error: " text. Each
 * input gets its own arena.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "ctl/ctl_int.h"
#include "query/promql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_kv(const ctl_test_kv_t *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!kv[i].name || !kv[i].value) {
            abort();
        }
        for (size_t k = 0; k < i; k++) {
            if (strcmp(kv[i].name, kv[k].name) == 0) {
                fprintf(stderr, "repeated key %s kept twice\n", kv[i].name);
                abort();
            }
        }
    }
}

static void check_series_err(int rc, const char *err)
{
    if (rc != 0 && (rc != -1 || !strstr(err, ": parse error: "))) {
        fprintf(stderr, "series notation: rc %d, error \"%s\"\n", rc, err);
        abort();
    }
}

static void check_group(arena_t *a, const ctl_test_group_t *g)
{
    if (!g->name || !g->external_url) {
        abort();
    }
    check_kv(g->external_labels, g->nexternal_labels);
    for (size_t i = 0; i < g->nseries; i++) {
        if (!g->series[i].series || !g->series[i].values) {
            abort();
        }
        buf_t line;
        buf_init(&line);
        buf_printf(&line, "%s %s", g->series[i].series, g->series[i].values);
        promql_series_desc_t d;
        char err[256] = "";
        int rc = promql_series_parse((const char *)line.data, line.len, a, &d, err, sizeof(err));
        buf_fini(&line);
        check_series_err(rc, err);
    }
    for (size_t i = 0; i < g->nalert_cases; i++) {
        const ctl_test_alert_case_t *c = &g->alert_cases[i];
        if (!c->alertname || c->eval_ms < 0) {
            abort();
        }
        for (size_t k = 0; k < c->nexp; k++) {
            check_kv(c->exp[k].labels, c->exp[k].nlabels);
            check_kv(c->exp[k].annotations, c->exp[k].nannotations);
        }
    }
    for (size_t i = 0; i < g->nexpr_cases; i++) {
        const ctl_test_expr_case_t *c = &g->expr_cases[i];
        if (!c->expr || c->eval_ms < 0) {
            abort();
        }
        for (size_t k = 0; k < c->nexp; k++) {
            if (!c->exp[k].labels) {
                abort();
            }
            label_t *ls = NULL;
            size_t nls = 0;
            char err[256] = "";
            int rc =
                promql_series_parse_metric(c->exp[k].labels, strlen(c->exp[k].labels), a, &ls, &nls, err, sizeof(err));
            check_series_err(rc, err);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena_t *a = arena_create(1 << 14);
    ctl_test_file_t *f = NULL;
    buf_t err;
    buf_init(&err);
    int rc = ctl_test_file_parse((const char *)data, size, a, &f, &err);
    if (rc == 0) {
        if (!f || err.len != 0 || f->eval_interval_ms < 0) {
            abort();
        }
        for (size_t i = 0; i < f->nrule_files; i++) {
            if (!f->rule_files[i]) {
                abort();
            }
        }
        for (size_t i = 0; i < f->ngroup_eval_order; i++) {
            if (!f->group_eval_order[i]) {
                abort();
            }
        }
        for (size_t i = 0; i < f->ntests; i++) {
            check_group(a, &f->tests[i]);
        }
    } else if (rc != -1 || f || err.len == 0) {
        fprintf(stderr, "rc %d with %zu bytes of error\n", rc, err.len);
        abort();
    }
    buf_fini(&err);
    arena_destroy(a);
    return 0;
}

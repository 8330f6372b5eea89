/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for ctl/ctl_test.c and ctl/ctl_test_file.c (`pharosctl test
 * rules`): the unit-test file parser on a table of files (fields read,
 * yaml.v2's error texts, hostile bytes, every truncation), promtool's
 * float and duration texts, the series notation's metric parser and its
 * error texts (query/promql_series.c) and whole runs of the command on
 * tests/data/alerts/unittest/ with their exact output and exit status
 * (rule evaluation errors, Prometheus 3 group labels).
 */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/labels.h"
#include "ctl/ctl.h"
#include "ctl/ctl_int.h"
#include "query/promql.h"

static const char *bstr(buf_t *b)
{
    buf_putc(b, 0);
    b->len--;
    return (const char *)b->data;
}

static void test_file_fields(void **state)
{
    (void)state;
    static const char text[] = "rule_files: [a.yml, 'b/*.yml']\n"
                               "evaluation_interval: 30s\n"
                               "group_eval_order: [g1, g2]\n"
                               "tests:\n"
                               "  - name: t1\n"
                               "    interval: 1m\n"
                               "    external_labels: {cluster: c1}\n"
                               "    external_url: http://x\n"
                               "    input_series:\n"
                               "      - series: 'up{job=\"a\"}'\n"
                               "        values: 1 2 3\n"
                               "    alert_rule_test:\n"
                               "      - eval_time: 5m\n"
                               "        alertname: A\n"
                               "        exp_alerts:\n"
                               "          - exp_labels: {severity: page, n: 1}\n"
                               "            exp_annotations: {summary: s}\n"
                               "    promql_expr_test:\n"
                               "      - expr: up\n"
                               "        eval_time: 1h1m\n"
                               "        exp_samples:\n"
                               "          - labels: 'up{job=\"a\"}'\n"
                               "            value: 1e3\n"
                               "          - labels: x\n"
                               "            value: .inf\n";
    arena_t *a = arena_create(4096);
    ctl_test_file_t *f = NULL;
    buf_t err;
    buf_init(&err);
    assert_int_equal(ctl_test_file_parse(text, sizeof(text) - 1, a, &f, &err), 0);
    assert_int_equal(f->nrule_files, 2);
    assert_string_equal(f->rule_files[1], "b/*.yml");
    assert_int_equal(f->eval_interval_ms, 30000);
    assert_int_equal(f->ngroup_eval_order, 2);
    assert_int_equal(f->ntests, 1);
    const ctl_test_group_t *g = &f->tests[0];
    assert_string_equal(g->name, "t1");
    assert_int_equal(g->interval_ms, 60000);
    assert_string_equal(g->external_url, "http://x");
    assert_int_equal(g->nexternal_labels, 1);
    assert_string_equal(g->series[0].values, "1 2 3");
    assert_int_equal(g->nalert_cases, 1);
    assert_int_equal(g->alert_cases[0].eval_ms, 300000);
    assert_string_equal(g->alert_cases[0].exp[0].labels[1].value, "1");
    assert_int_equal(g->nexpr_cases, 1);
    assert_int_equal(g->expr_cases[0].eval_ms, 3660000);
    assert_true(g->expr_cases[0].exp[0].value == 1000.0);
    assert_true(isinf(g->expr_cases[0].exp[1].value));
    buf_fini(&err);
    arena_destroy(a);
}

/* exp_samples values as yaml.v2 reads a float64: ints, '_' separators,
 * .inf/.nan spellings, and numbers of any length (no fixed scratch size:
 * a 200-digit integer is 1e199, not a cut-off 1e126). */
static void test_file_values(void **state)
{
    (void)state;
    char big[202] = "1", tiny[160] = "0.";
    memset(big + 1, '0', 199);
    memset(tiny + 2, '0', 150);
    strcat(tiny, "1");
    const struct {
        const char *in;
        double want;
    } t[] = {
        { "3", 3 },     { "-2.5", -2.5 }, { "1_000", 1000 }, { "1e3", 1000 }, { "-.inf", -INFINITY },
        { big, 1e199 }, { tiny, 1e-151 },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char text[512];
        snprintf(text, sizeof(text),
                 "tests:\n  - promql_expr_test:\n      - expr: up\n        exp_samples:\n"
                 "          - labels: x\n            value: %s\n",
                 t[i].in);
        arena_t *a = arena_create(4096);
        ctl_test_file_t *f = NULL;
        buf_t err;
        buf_init(&err);
        int rc = ctl_test_file_parse(text, strlen(text), a, &f, &err);
        bool ok = rc == 0 && f->tests[0].expr_cases[0].exp[0].value == t[i].want;
        if (!ok) {
            print_error("value %s: rc %d (%s)\n", t[i].in, rc, bstr(&err));
        }
        buf_fini(&err);
        arena_destroy(a);
        assert_true(ok);
    }
}

typedef struct err_case {
    const char *in;
    const char *want; /* Go's error text */
} err_case_t;

static void test_file_errors(void **state)
{
    (void)state;
    static const err_case_t cases[] = {
        { "tests:\n  - interval: 1m\n    alert_rule_tests: []\n",
          "yaml: unmarshal errors:\n  line 3: field alert_rule_tests not found in type main.testGroup" },
        { "foo: 1\ntests:\n  - input_series:\n      - series: x\n        value: '1'\n",
          "yaml: unmarshal errors:\n  line 1: field foo not found in type main.unitTestFile\n"
          "  line 5: field value not found in type main.series" },
        { "evaluation_interval: 1 minute\n", "not a valid duration string: \"1 minute\"" },
        { "tests:\n  - promql_expr_test:\n      - expr: x\n        exp_samples:\n          - value: \"1\"\n"
          "          - value: abcdefghijkl\n",
          "yaml: unmarshal errors:\n  line 5: cannot unmarshal !!str `1` into float64\n"
          "  line 6: cannot unmarshal !!str `abcdefg...` into float64" },
        { "tests: 3\n", "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!int `3` into []main.testGroup" },
        { "rule_files: a.yml\n", "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `a.yml` into []string" },
        { "- a\n", "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!seq into main.unitTestFile" },
        { "tests:\n  - name: a\n    name: b\n",
          "yaml: unmarshal errors:\n  line 3: field name already set in type main.testGroup" },
        { "tests:\n  - external_labels: {a: 1, a: 2}\n",
          "yaml: unmarshal errors:\n  line 2: key \"a\" already set in map" },
        { "tests: [\n\n", "yaml: line 2: did not find expected node content" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        arena_t *a = arena_create(4096);
        ctl_test_file_t *f = NULL;
        buf_t err;
        buf_init(&err);
        int rc = ctl_test_file_parse(cases[i].in, strlen(cases[i].in), a, &f, &err);
        if (rc != -1 || strcmp(bstr(&err), cases[i].want) != 0) {
            fail_msg("case %zu: rc %d, got \"%s\", want \"%s\"", i, rc, bstr(&err), cases[i].want);
        }
        buf_fini(&err);
        arena_destroy(a);
    }
}

/* Every prefix of a valid file and a few hostile bytes: an answer either
 * way, never a crash or a leak (ASan). */
static void test_file_truncations(void **state)
{
    (void)state;
    static const char text[] = "rule_files: [r.yml]\ntests:\n  - interval: 1m\n    input_series:\n"
                               "      - series: 'a{b=\"c\"}'\n        values: '1+1x3'\n"
                               "    promql_expr_test:\n      - expr: a\n        eval_time: 1m\n";
    for (size_t n = 0; n <= sizeof(text) - 1; n++) {
        arena_t *a = arena_create(4096);
        ctl_test_file_t *f = NULL;
        buf_t err;
        buf_init(&err);
        int rc = ctl_test_file_parse(text, n, a, &f, &err);
        assert_true(rc == 0 || err.len > 0);
        buf_fini(&err);
        arena_destroy(a);
    }
    static const char *const hostile[] = { "tests: [\n", "\x00\x01", "tests:\n  - \x7f: 1\n", "a: *b\n", "{{{{{{" };
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        arena_t *a = arena_create(4096);
        ctl_test_file_t *f = NULL;
        buf_t err;
        buf_init(&err);
        int rc = ctl_test_file_parse(hostile[i], i == 1 ? 2 : strlen(hostile[i]), a, &f, &err);
        assert_true(rc == -1 && err.len > 0);
        buf_fini(&err);
        arena_destroy(a);
    }
}

static void test_format(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *want;
    } fl[] = {
        { 3, "3E+00" },      { 1.5, "1.5E+00" },
        { 0, "0E+00" },      { -0.25, "-2.5E-01" },
        { 6e-8, "6E-08" },   { 6.000000000000001e-08, "6.000000000000001E-08" },
        { 1e300, "1E+300" }, { 0.1 + 0.2, "3.0000000000000004E-01" },
    };
    for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
        buf_t b;
        buf_init(&b);
        ctl_test_format_float(fl[i].v, &b);
        assert_string_equal(bstr(&b), fl[i].want);
        buf_fini(&b);
    }
    buf_t b;
    buf_init(&b);
    ctl_test_format_float(INFINITY, &b);
    ctl_test_format_float(-INFINITY, &b);
    ctl_test_format_float(NAN, &b);
    ctl_test_format_duration(0, &b);
    ctl_test_format_duration(90 * 60000, &b);
    ctl_test_format_duration(9 * 60000 + 30000, &b);
    assert_string_equal(bstr(&b), "+Inf-InfNaN0s1h30m9m30s");
    static const struct {
        int64_t ms;
        const char *want;
    } gd[] = {
        { 0, "0s" },           { 500, "500ms" },         { 1000, "1s" },
        { 1500, "1.5s" },      { 600000, "10m0s" },      { 90000, "1m30s" },
        { 3600000, "1h0m0s" }, { 3601250, "1h0m1.25s" }, { 86400000, "24h0m0s" },
    };
    for (size_t i = 0; i < sizeof(gd) / sizeof(gd[0]); i++) {
        buf_reset(&b);
        ctl_test_format_go_duration(gd[i].ms, &b);
        assert_string_equal(bstr(&b), gd[i].want);
    }
    buf_fini(&b);
}

/* exp_samples' labels as Prometheus' parser.ParseMetric reads them:
 * {...} keeps every label (labels.New), name{...} drops empty values and
 * a __name__ in braces (labels.Builder). */
static void test_series_metric(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *want; /* NULL: an error */
    } t[] = {
        { "up{job=\"a\"}", "{__name__=\"up\", job=\"a\"}" },
        { " up ", "{__name__=\"up\"}" },
        { "{}", "{}" },
        { "{a=\"\"}", "{a=\"\"}" },
        { "{b=\"\", a=\"1\"}", "{a=\"1\", b=\"\"}" },
        { "{a=\"2\", a=\"1\"}", "{a=\"2\", a=\"1\"}" },
        { "up{a=\"\"}", "{__name__=\"up\"}" },
        { "up{a=\"\", a=\"x\", b=\"1\"}", "{__name__=\"up\", b=\"1\"}" },
        { "up{__name__=\"x\", job=\"a\"}", "{__name__=\"up\", job=\"a\"}" },
        { "x{a=\"1\",}", "{__name__=\"x\", a=\"1\"}" },
        { "", "{}" },
        { " ", "{}" },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        arena_t *a = arena_create(4096);
        label_t *ls = NULL;
        size_t n = 0;
        char err[200] = "";
        int rc = promql_series_parse_metric(t[i].in, strlen(t[i].in), a, &ls, &n, err, sizeof(err));
        buf_t got;
        buf_init(&got);
        if (rc == 0) {
            labels_format(ls, n, &got);
        }
        bool ok = rc == 0 && strcmp(bstr(&got), t[i].want) == 0;
        if (!ok) {
            print_error("\"%s\": rc %d, got %s (%s)\n", t[i].in, rc, bstr(&got), err);
        }
        buf_fini(&got);
        arena_destroy(a);
        assert_true(ok);
    }
}

/* Quoted strings as Go's strconv.Unquote reads them: every escape form,
 * each with its bounds (octal over 255, surrogates and code points past
 * U+10FFFF, short hex), the other quote, and raw strings. */
static void test_series_unquote(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *want; /* NULL: refused */
        size_t n;
    } t[] = {
        { "\"a\\x41b\"", "aAb", 3 },
        { "\"\\x00\"", "\0", 1 },
        { "\"\\xff\\XFF\"", NULL, 0 },
        { "\"\\x4\"", NULL, 0 },
        { "\"\\xg1\"", NULL, 0 },
        { "\"\\u00e9\"", "\xc3\xa9", 2 },
        { "\"\\u20AC\"", "\xe2\x82\xac", 3 },
        { "\"\\U0001F600\"", "\xf0\x9f\x98\x80", 4 },
        { "\"\\U0010FFFF\"", "\xf4\x8f\xbf\xbf", 4 },
        { "\"\\U00110000\"", NULL, 0 },
        { "\"\\uD800\"", NULL, 0 },
        { "\"\\u12\"", NULL, 0 },
        { "\"\\101\\377\"", "A\xff", 2 },
        { "\"\\400\"", NULL, 0 },
        { "\"\\18\"", NULL, 0 },
        { "\"\\a\\b\\f\\n\\r\\t\\v\\\\\\\"\"", "\a\b\f\n\r\t\v\\\"", 9 },
        { "'a\\'b'", "a'b", 3 },
        { "\"a\\'b\"", NULL, 0 },
        { "'a\\\"b'", NULL, 0 },
        { "\"a\nb\"", NULL, 0 },
        { "\"a\"b\"", NULL, 0 },
        { "\"\\q\"", NULL, 0 },
        { "\"a\\\"", NULL, 0 },
        { "`a\\n\r\nb`", "a\\n\nb", 5 },
        { "`a`b`", NULL, 0 },
        { "\"\"", "", 0 },
        { "\"", NULL, 0 },
        { "\"a'", NULL, 0 },
        { "xax", NULL, 0 },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        arena_t *a = arena_create(4096);
        char *out = NULL;
        size_t n = 0;
        bool ok = promql_series_unquote(t[i].in, strlen(t[i].in), a, &out, &n);
        bool pass = t[i].want ? ok && n == t[i].n && memcmp(out, t[i].want, n) == 0 && out[n] == 0 : !ok;
        if (!pass) {
            print_error("case %zu (%s): ok %d, n %zu\n", i, t[i].in, ok, n);
        }
        arena_destroy(a);
        assert_true(pass);
    }
}

/* Bad series and metric texts, worded as Prometheus 2.42's parser words
 * them (what promtool prints for bad input_series and exp_samples). */
static void test_series_errors(void **state)
{
    (void)state;
    static const struct {
        bool metric; /* promql_series_parse_metric, else promql_series_parse */
        const char *in;
        const char *want;
    } t[] = {
        { true, "up{job=~\"a\"}", "1:7: parse error: unexpected <op:=~> in label set, expected \"=\"" },
        { true, "up{job!=\"a\"}", "1:7: parse error: unexpected <op:!=> in label set, expected \"=\"" },
        { true, "{job}", "1:5: parse error: unexpected \"}\" in label set, expected \"=\"" },
        { true, "up{job=a}", "1:8: parse error: unexpected identifier \"a\" in label set, expected string" },
        { true, "up{,}", "1:4: parse error: unexpected \",\" in label set, expected identifier or \"}\"" },
        { true, "up{job=\"a\"", "1:11: parse error: unexpected end of input inside braces" },
        { true, "up{job=\"a\"} x", "1:13: parse error: unexpected identifier \"x\"" },
        { true, "up{job=\"a\"}}", "1:12: parse error: unexpected character: '}'" },
        { true, "up{job=\"a\\q\"}", "1:8: parse error: unknown escape sequence U+0071 'q'" },
        { true, "up{job=1}", "1:8: parse error: unexpected character inside braces: '1'" },
        { true, "1up", "1:1: parse error: bad number or duration syntax: \"1\"" },
        { false, "up{job=\"a\" 1 1", "1:12: parse error: unexpected character inside braces: '1'" },
        { false, "up{job=\"a\"} 1 x 1", "1:15: parse error: unexpected \"x\"" },
        { false, "up 1+x2", "1:6: parse error: unexpected \"x\" in series values" },
        { false, "up 1x", "1:6: parse error: unexpected end of input in series values" },
        { false, "up 1xa", "1:6: parse error: unexpected identifier \"a\" in series values" },
        { false, "up a",
          "1:4: parse error: unexpected identifier \"a\" in series values, expected number or \"stale\"" },
        { false, "up 1+1", "1:7: parse error: unexpected end of input in series values" },
        { false, "up --1", "1:5: parse error: unexpected <op:-> in series values" },
        { false, "up 1e",
          "1:4: parse error: error parsing number: strconv.ParseFloat: parsing \"1e\": invalid syntax" },
        { false, "up 1..2", "1:6: parse error: unexpected number \".2\"" },
        { false, "up 1x2x3", "1:7: parse error: unexpected \"x\"" },
        { false, "up _1", "1:5: parse error: unexpected number \"1\"" },
        { false, "up 1_000", "1:4: parse error: bad number syntax: \"1\"" },
        { false, "up 1x 2", "1:6: parse error: unexpected \" \" in series values" },
        { false, "up 1x1000000", "1:4: parse error: more than 1000000 values in one series" },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        arena_t *a = arena_create(4096);
        char err[200] = "";
        int rc;
        if (t[i].metric) {
            label_t *ls = NULL;
            size_t n = 0;
            rc = promql_series_parse_metric(t[i].in, strlen(t[i].in), a, &ls, &n, err, sizeof(err));
        } else {
            promql_series_desc_t d;
            rc = promql_series_parse(t[i].in, strlen(t[i].in), a, &d, err, sizeof(err));
        }
        arena_destroy(a);
        if (rc != -1 || strcmp(err, t[i].want) != 0) {
            fail_msg("\"%s\": rc %d, got \"%s\", want \"%s\"", t[i].in, rc, err, t[i].want);
        }
    }
}

/* Run `pharosctl test rules` on files of tests/data/alerts/unittest/;
 * stdout and stderr into out and err. */
static int run(const char *const *files, size_t n, buf_t *out, buf_t *err)
{
    char *obuf = NULL, *ebuf = NULL;
    size_t olen = 0, elen = 0;
    FILE *o = open_memstream(&obuf, &olen);
    FILE *e = open_memstream(&ebuf, &elen);
    ctl_env_t env = { .out = o, .err = e, .clock = clock_real() };
    char *argv[16] = { "test", "rules" };
    char paths[14][512];
    for (size_t i = 0; i < n; i++) {
        snprintf(paths[i], sizeof(paths[i]), "%s/alerts/unittest/%s", PHAROS_TEST_DATA, files[i]);
        argv[2 + i] = paths[i];
    }
    int rc = ctl_test_run(&env, (int)n + 2, argv);
    fclose(o);
    fclose(e);
    buf_append(out, obuf, olen);
    buf_append(err, ebuf, elen);
    free(obuf);
    free(ebuf);
    return rc;
}

static void test_run_success(void **state)
{
    (void)state;
    /* prom3/: Prometheus 3's group labels and query_offset */
    static const char *const files[] = { "test_basic.yml", "test_templates.yml", "test_recording.yml",
                                         "test_keep_firing.yml", "prom3/test_prom3.yml" };
    buf_t out, err;
    buf_init(&out);
    buf_init(&err);
    assert_int_equal(run(files, 5, &out, &err), CTL_EXIT_OK);
    assert_int_equal(err.len, 0);
    assert_non_null(strstr(bstr(&out), "/test_keep_firing.yml\n  SUCCESS\n\n"));
    assert_non_null(strstr(bstr(&out), "/prom3/test_prom3.yml\n  SUCCESS\n\n"));
    buf_fini(&out);
    buf_fini(&err);
}

static void test_run_failures(void **state)
{
    (void)state;
    static const char *const files[] = { "fail_no_alertname.yml" };
    buf_t out, err;
    buf_init(&out);
    buf_init(&err);
    assert_int_equal(run(files, 1, &out, &err), CTL_EXIT_QUERY);
    assert_string_equal(bstr(&err), "  FAILED:\nan item under alert_rule_test misses required attribute alertname at "
                                    "eval_time 1m (in TestGroup no alertname)\n");
    buf_reset(&out);
    buf_reset(&err);
    static const char *const vfiles[] = { "fail_value.yml" };
    assert_int_equal(run(vfiles, 1, &out, &err), CTL_EXIT_QUERY);
    assert_non_null(strstr(bstr(&err), "    expr: \"job:requests:rate1m\", time: 5m,\n"
                                       "        exp: {__name__=\"job:requests:rate1m\", job=\"api\"} 1.5E+00, "
                                       "{__name__=\"job:requests:rate1m\", job=\"web\"} 2E+00\n"
                                       "        got: {__name__=\"job:requests:rate1m\", job=\"api\"} 1E+00, "
                                       "{__name__=\"job:requests:rate1m\", job=\"web\"} 2E+00\n"));
    assert_non_null(strstr(bstr(&err), "        got: {instance=\"a\", job=\"api\"} 6.000000000000001E-08\n"));
    buf_reset(&out);
    buf_reset(&err);
    static const char *const lfiles[] = { "fail_labels.yml" };
    assert_int_equal(run(lfiles, 1, &out, &err), CTL_EXIT_QUERY);
    assert_non_null(strstr(bstr(&err), "    name: wrong labels,\n"
                                       "    alertname: InstanceDown, time: 3m, \n"
                                       "        exp:[\n"
                                       "            0:\n"
                                       "              Labels:{alertname=\"InstanceDown\", instance=\"a:9100\", "
                                       "job=\"node\", severity=\"page\"}\n"
                                       "              Annotations:{}\n"
                                       "            ], \n"
                                       "        got:[]\n"));
    buf_fini(&out);
    buf_fini(&err);
}

/* A rule that fails to evaluate is reported after the step where it
 * failed and ends its test group: the PromQL case at 4m and the alert
 * case at 3m of the first group never run. */
static void test_run_rule_errors(void **state)
{
    (void)state;
    static const char *const files[] = { "fail_rule_eval.yml" };
    buf_t out, err;
    buf_init(&out);
    buf_init(&err);
    assert_int_equal(run(files, 1, &out, &err), CTL_EXIT_QUERY);
    assert_string_equal(
        bstr(&err), "  FAILED:\n"
                    "    name: collision at 2m,\n"
                    "    alertname: AnyUp, time: 1m, \n"
                    "        exp:[], \n"
                    "        got:[\n"
                    "            0:\n"
                    "              Labels:{alertname=\"AnyUp\", instance=\"a\"}\n"
                    "              Annotations:{}\n"
                    "            ]\n"
                    "    rule: instance:any, time: 2m0s, err: vector contains metrics with the same labelset after "
                    "applying rule labels\n"
                    "    rule: AnyUp, time: 2m0s, err: vector contains metrics with the same labelset after applying "
                    "alert labels\n"
                    "    rule: job:ratio, time: 1m0s, err: multiple matches for labels: many-to-one matching must be "
                    "explicit (group_left/group_right)\n");
    buf_fini(&out);
    buf_fini(&err);
}

/* `check rules` (ctl_check.c): every usage error is status 2 with its
 * message, each after the file list was allocated (one exit path frees
 * it; the sanitizer build reports a leak otherwise); a missing file is 1. */
static void test_check_usage(void **state)
{
    (void)state;
    struct {
        int argc;
        char *argv[4];
        int want;
        const char *msg;
    } t[] = {
        { 1, { "check" }, CTL_EXIT_USAGE, "missing subcommand (rules)" },
        { 2, { "check", "alerts" }, CTL_EXIT_USAGE, "unknown subcommand alerts" },
        { 2, { "check", "rules" }, CTL_EXIT_USAGE, "required argument FILE not provided" },
        { 3, { "check", "rules", "--lint=some" }, CTL_EXIT_USAGE, "unknown --lint value some" },
        { 4, { "check", "rules", "a.yml", "-x" }, CTL_EXIT_USAGE, "unknown flag -x" },
        { 3, { "check", "rules", "--lint-fatal" }, CTL_EXIT_USAGE, "required argument FILE not provided" },
        { 4, { "check", "rules", "--", "/no/such/rules.yml" }, CTL_EXIT_QUERY, "/no/such/rules.yml" },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char *obuf = NULL, *ebuf = NULL;
        size_t olen = 0, elen = 0;
        FILE *o = open_memstream(&obuf, &olen);
        FILE *e = open_memstream(&ebuf, &elen);
        ctl_env_t env = { .out = o, .err = e, .clock = clock_real() };
        int rc = ctl_check_run(&env, t[i].argc, t[i].argv);
        fclose(o);
        fclose(e);
        bool ok = rc == t[i].want && strstr(ebuf, t[i].msg) != NULL;
        if (!ok) {
            print_error("case %zu: rc %d, stderr %s\n", i, rc, ebuf);
        }
        free(obuf);
        free(ebuf);
        assert_true(ok);
    }
}

static void test_run_usage(void **state)
{
    (void)state;
    char *obuf = NULL, *ebuf = NULL;
    size_t olen = 0, elen = 0;
    FILE *o = open_memstream(&obuf, &olen);
    FILE *e = open_memstream(&ebuf, &elen);
    ctl_env_t env = { .out = o, .err = e, .clock = clock_real() };
    char *a1[] = { "test" };
    char *a2[] = { "test", "alerts" };
    char *a3[] = { "test", "rules" };
    char *a4[] = { "test", "rules", "/no/such/file.yml" };
    char *a5[] = { "test", "rules", "--junit" };
    assert_int_equal(ctl_test_run(&env, 1, a1), CTL_EXIT_USAGE);
    assert_int_equal(ctl_test_run(&env, 2, a2), CTL_EXIT_USAGE);
    assert_int_equal(ctl_test_run(&env, 2, a3), CTL_EXIT_USAGE);
    assert_int_equal(ctl_test_run(&env, 3, a4), CTL_EXIT_QUERY);
    assert_int_equal(ctl_test_run(&env, 3, a5), CTL_EXIT_USAGE);
    fclose(o);
    fclose(e);
    assert_non_null(strstr(ebuf, "pharosctl: error: path '/no/such/file.yml' does not exist, try --help\n"));
    free(obuf);
    free(ebuf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_fields),     cmocka_unit_test(test_file_values),
        cmocka_unit_test(test_file_errors),     cmocka_unit_test(test_file_truncations),
        cmocka_unit_test(test_format),          cmocka_unit_test(test_series_metric),
        cmocka_unit_test(test_series_errors),   cmocka_unit_test(test_series_unquote),
        cmocka_unit_test(test_run_success),     cmocka_unit_test(test_run_failures),
        cmocka_unit_test(test_run_rule_errors), cmocka_unit_test(test_run_usage),
        cmocka_unit_test(test_check_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_alerts_rules: alerts/alerts_rules.c and alerts_rules_check.c. A table
 * of rule-file texts and the exact errors Prometheus 2.42's rulefmt gives
 * for them (each captured from `promtool check rules`), fed at once; every
 * truncation of a valid file must fail or succeed without crashing; the
 * duration parser and Go quoting; the duplicate lint and promtool's text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "alerts/alerts.h"
#include "alerts/alerts_int.h"

typedef struct rules_case {
    const char *name;
    const char *text;
    const char *errors; /* each error + "\n"; NULL: must load */
    size_t nrules;
} rules_case_t;

static const rules_case_t cases[] = {
    { .name = "valid",
      .text = "groups:\n  - name: a\n    rules:\n      - record: job:x:sum\n        expr: sum by (job) (up)\n"
              "      - alert: X\n        expr: up == 0\n        for: 5m\n        labels: {severity: page}\n"
              "        annotations: {summary: \"{{ $labels.job }} down\"}\n",
      .nrules = 2 },
    { .name = "empty", .text = "", .nrules = 0 },
    { .name = "comment only", .text = "# nothing\n", .nrules = 0 },
    { .name = "null rules", .text = "groups:\n  - name: a\n    rules:\n  - name: b\n", .nrules = 0 },
    { .name = "P3 fields accepted",
      .text = "groups:\n  - name: a\n    query_offset: 1m\n    labels: {team: x}\n    rules:\n"
              "      - record: r\n        expr: up\n",
      .nrules = 1 },
    { .name = "syntax error twice",
      .text = "groups: [\n",
      .errors =
          "yaml: line 1: did not find expected node content\nyaml: line 1: did not find expected node content\n" },
    { .name = "tab",
      .text = "groups:\n\t- name: a\n",
      .errors = "yaml: line 2: found character that cannot start any token\n"
                "yaml: line 2: found character that cannot start any token\n" },
    { .name = "unknown fields",
      .text = "groups:\n  - name: a\n    foo: 1\n    rules:\n      - record: x\n        expr: up\n        bar: 2\n",
      .errors = "yaml: unmarshal errors:\n  line 3: field foo not found in type rulefmt.RuleGroup\n"
                "  line 7: field bar not found in type rulefmt.RuleNode\n" },
    { .name = "top-level seq",
      .text = "- a\n- b\n",
      .errors = "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!seq into rulefmt.RuleGroups\n"
                "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!seq into rulefmt.ruleGroups\n" },
    { .name = "groups int",
      .text = "groups: 5\n",
      .errors = "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!int `5` into []rulefmt.RuleGroup\n"
                "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!int `5` into []yaml.Node\n" },
    { .name = "long scalar rule",
      .text = "groups:\n  - name: a\n    rules: [abcdefghijklmnop]\n",
      .errors = "yaml: unmarshal errors:\n  line 3: cannot unmarshal !!str `abcdefg...` into rulefmt.RuleNode\n" },
    { .name = "types",
      .text = "groups:\n  - name: a\n    limit: abc\n    rules:\n      - record: [1]\n        expr: up\n"
              "        labels: [a]\n",
      .errors = "yaml: unmarshal errors:\n  line 3: cannot unmarshal !!str `abc` into int\n"
                "  line 7: cannot unmarshal !!seq into map[string]string\n" },
    { .name = "bad duration",
      .text = "groups:\n  - name: a\n    rules:\n      - alert: A\n        expr: up\n        for: 5x\n",
      .errors = "not a valid duration string: \"5x\"\n" },
    { .name = "empty duration",
      .text = "groups:\n  - name: a\n    rules:\n      - alert: a\n        expr: up\n        for: \"\"\n",
      .errors = "empty duration string\n" },
    { .name = "dup key",
      .text = "groups:\n  - name: a\n    rules:\n      - alert: a\n        expr: up\n        expr: down\n        "
              "bogus: 1\n",
      .errors = "yaml: unmarshal errors:\n  line 6: mapping key \"expr\" already defined at line 5\n" },
    { .name = "key three times", /* yaml.v3 reports every later copy against every earlier one */
      .text = "groups:\n  - name: a\n    rules:\n      - alert: a\n        expr: up\n        expr: b\n        "
              "for: 1m\n        expr: c\n",
      .errors = "yaml: unmarshal errors:\n  line 6: mapping key \"expr\" already defined at line 5\n"
                "  line 8: mapping key \"expr\" already defined at line 5\n"
                "  line 8: mapping key \"expr\" already defined at line 6\n" },
    { .name = "dup top key",
      .text = "groups: []\ngroups: []\nx: 1\n",
      .errors = "yaml: unmarshal errors:\n  line 2: mapping key \"groups\" already defined at line 1\n"
                "yaml: unmarshal errors:\n  line 2: mapping key \"groups\" already defined at line 1\n" },
    { .name = "unknown anchor",
      .text = "groups:\n  - name: b\n    rules: *x\n",
      .errors = "yaml: unknown anchor 'x' referenced\nyaml: unknown anchor 'x' referenced\n" },
    { .name = "validate",
      .text = "groups:\n  - name: a\n    rules:\n      - record: job:x:sum\n        expr: sum by (job) (up\n"
              "        for: 5m\n      - alert: X\n      - expr: up\n        labels: {\"0bad\": x}\n  - name: a\n"
              "    rules:\n      - alert: Y\n        expr: up\n        annotations: {s: \"{{ .Foo \"}\n",
      .errors = "5:15: group \"a\", rule 1, \"job:x:sum\": could not parse expression: 1:17: parse error: unclosed "
                "left parenthesis\n"
                "4:17: group \"a\", rule 1, \"job:x:sum\": invalid field 'for' in recording rule\n"
                "0:0: group \"a\", rule 2, \"X\": field 'expr' must be set in rule\n"
                "0:0: group \"a\", rule 3, \"\": one of 'record' or 'alert' must be set\n"
                "group \"a\", rule 3, \"\": invalid label name: 0bad\n"
                "10:5: groupname: \"a\" is repeated in the same file\n"
                "group \"a\", rule 1, \"Y\": annotation \"s\": template: __alert_Y:1: unclosed action\n" },
    { .name = "names",
      .text = "groups:\n  - name: \"\"\n    rules:\n      - record: \"a-b\"\n        expr: up\n      - record: x\n"
              "        alert: Y\n        expr: up\n      - alert: \"bad name!\"\n        expr: up\n"
              "        labels: {__name__: x}\n        annotations: {\"a-b\": x}\n",
      .errors = "2:5: Groupname must not be empty\n"
                "4:17: group \"\", rule 1, \"a-b\": invalid recording rule name: a-b\n"
                "6:17: 7:16: group \"\", rule 2, \"Y\": only one of 'record' and 'alert' must be set\n"
                "group \"\", rule 3, \"bad name!\": invalid label name: __name__\n"
                "group \"\", rule 3, \"bad name!\": invalid annotation name: a-b\n" },
    { .name = "recording extras",
      .text = "groups:\n  - name: a\n    interval: 1m\n    limit: 3\n    rules:\n      - alert: A\n        expr: up\n"
              "        keep_firing_for: 5m\n      - record: r\n        expr: up\n        keep_firing_for: 5m\n"
              "        annotations: {a: b}\n",
      .errors = "9:17: group \"a\", rule 2, \"r\": invalid field 'annotations' in recording rule\n"
                "9:17: group \"a\", rule 2, \"r\": invalid field 'keep_firing_for' in recording rule\n" },
};

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const rules_case_t *c = &cases[i];
        arena_t *a = arena_create(4096);
        alerts_rules_file_t *f = NULL;
        alerts_rules_error_t *errs = NULL;
        size_t nerrs = 0;
        int rc = alerts_rules_parse(c->text, strlen(c->text), a, &f, &errs, &nerrs);
        buf_t got = { 0 };
        for (size_t k = 0; k < nerrs; k++) {
            buf_printf(&got, "%s\n", errs[k].text);
        }
        buf_putc(&got, 0);
        if (c->errors) {
            if (rc != -1 || strcmp((const char *)got.data, c->errors) != 0) {
                fail_msg("%s: got\n%s\nwant\n%s", c->name, (const char *)got.data, c->errors);
            }
            assert_null(f);
        } else {
            if (rc != 0) {
                fail_msg("%s: unexpected errors\n%s", c->name, (const char *)got.data);
            }
            assert_int_equal(f->nrules, c->nrules);
        }
        buf_fini(&got);
        arena_destroy(a);
    }
}

/* Every prefix of every case: no crash, no leak, a definite answer. */
/* A group's limit as yaml.v3 reads an int: Go's base prefixes, '_'
 * separators, a whole float, and leading zeros however many (no fixed
 * scratch size); an out-of-range or non-number limit is an error. */
static void test_limits(void **state)
{
    (void)state;
    static const struct {
        const char *limit;
        int64_t want;
        bool ok;
    } t[] = {
        { "3", 3, true },
        { "-3", -3, true },
        { "0x10", 16, true },
        { "0o17", 15, true },
        { "0b101", 5, true },
        { "010", 8, true },
        { "1_000", 1000, true },
        { "2.0", 2, true },
        { "0000000000000000000000000000000000000000000000000000000000000000000000000000003", 3, true },
        { "0000000000000000000000000000000000000000000000000000000000000000000000000000010", 8, true },
        { "99999999999999999999999", 0, false },
        { "abc", 0, false },
        { "[1]", 0, false },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text),
                 "groups:\n  - name: a\n    limit: %s\n    rules:\n      - record: r\n        expr: up\n", t[i].limit);
        arena_t *a = arena_create(4096);
        alerts_rules_file_t *f = NULL;
        alerts_rules_error_t *errs = NULL;
        size_t nerrs = 0;
        int rc = alerts_rules_parse(text, strlen(text), a, &f, &errs, &nerrs);
        bool pass = t[i].ok ? rc == 0 && f->groups[0].limit == t[i].want : rc == -1 && nerrs > 0;
        if (!pass) {
            print_error("limit %s: rc %d, limit %lld\n", t[i].limit, rc, rc == 0 ? (long long)f->groups[0].limit : 0LL);
        }
        arena_destroy(a);
        assert_true(pass);
    }
}

static void test_truncations(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = strlen(cases[i].text);
        for (size_t n = 0; n <= len; n++) {
            arena_t *a = arena_create(4096);
            alerts_rules_file_t *f = NULL;
            alerts_rules_error_t *errs = NULL;
            size_t nerrs = 0;
            int rc = alerts_rules_parse(cases[i].text, n, a, &f, &errs, &nerrs);
            assert_true((rc == 0 && f && nerrs == 0) || (rc == -1 && !f && nerrs > 0));
            arena_destroy(a);
        }
    }
}

static void test_hostile(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t len;
    } hostile[] = { { "groups:\n  - name: a\0b\n", 21 },
                    { "\x7f\x7f", 2 },
                    { "\xff\xfe", 2 },
                    { "&a [*a]", 7 },
                    { "groups: [{name: a, rules: [{alert: x, expr: 'up{', labels: {a: \"\xc3\"}}]}]", 72 } };
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        arena_t *a = arena_create(4096);
        alerts_rules_file_t *f = NULL;
        alerts_rules_error_t *errs = NULL;
        size_t nerrs = 0;
        int rc = alerts_rules_parse(hostile[i].text, hostile[i].len, a, &f, &errs, &nerrs);
        assert_true(rc == 0 || nerrs > 0);
        arena_destroy(a);
    }
}

static void test_durations(void **state)
{
    (void)state;
    arena_t *a = arena_create(1024);
    int64_t ms = -1;
    assert_null(alerts_rules_parse_duration("0", &ms, a));
    assert_int_equal(ms, 0);
    assert_null(alerts_rules_parse_duration("1h30m", &ms, a));
    assert_int_equal(ms, 5400000);
    assert_null(alerts_rules_parse_duration("1d2h5ms", &ms, a));
    assert_int_equal(ms, 93600005);
    assert_string_equal(alerts_rules_parse_duration("", &ms, a), "empty duration string");
    assert_string_equal(alerts_rules_parse_duration("5", &ms, a), "not a valid duration string: \"5\"");
    assert_string_equal(alerts_rules_parse_duration("5m1h", &ms, a), "not a valid duration string: \"5m1h\"");
    assert_string_equal(alerts_rules_parse_duration("1.5h", &ms, a), "not a valid duration string: \"1.5h\"");
    assert_string_equal(alerts_rules_parse_duration("99999999999y", &ms, a), "duration out of range");
    arena_destroy(a);
}

static void test_goquote(void **state)
{
    (void)state;
    buf_t b = { 0 };
    alerts_rules_goquote(&b, "a\"b\\\n\x01\xff\xc3\xa9", 9);
    buf_putc(&b, 0);
    assert_string_equal((const char *)b.data, "\"a\\\"b\\\\\\n\\x01\\xff\xc3\xa9\"");
    buf_fini(&b);
}

static void test_lint(void **state)
{
    (void)state;
    const char *text =
        "groups:\n  - name: a\n    rules:\n      - alert: x\n        expr: up\n        labels: {a: b}\n"
        "      - alert: x\n        expr: up\n        labels: {a: b}\n      - record: y\n        expr: up\n"
        "        labels: {a: b, c: d}\n      - record: y\n        expr: down\n        labels: {c: d, a: b}\n";
    arena_t *a = arena_create(4096);
    alerts_rules_file_t *f = NULL;
    alerts_rules_error_t *errs = NULL;
    size_t nerrs = 0;
    assert_int_equal(alerts_rules_parse(text, strlen(text), a, &f, &errs, &nerrs), 0);
    buf_t msg = { 0 };
    assert_int_equal(alerts_rules_lint_duplicates(f, &msg), 2);
    buf_putc(&msg, 0);
    assert_string_equal((const char *)msg.data, "2 duplicate rule(s) found.\nMetric: x\nLabel(s):\n\ta: b\nMetric: y\n"
                                                "Label(s):\n\ta: b\n\tc: d\nMight cause inconsistency while "
                                                "recording expressions");
    buf_fini(&msg);
    arena_destroy(a);
}

static char *slurp(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    char *s = calloc(1, (size_t)n + 1);
    rewind(f);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    return s;
}

static void test_check_missing(void **state)
{
    (void)state;
    const char *paths[] = { "/nonexistent/rules.yml" };
    alerts_rules_check_opts_t opts = { .lint_duplicates = true };
    FILE *out = tmpfile();
    FILE *err = tmpfile();
    assert_int_equal(alerts_rules_check(paths, 1, &opts, out, err), 1);
    char *o = slurp(out);
    char *e = slurp(err);
    assert_string_equal(o, "");
    assert_string_equal(e, "promtool: error: path '/nonexistent/rules.yml' does not exist, try --help\n");
    free(o);
    free(e);
    fclose(out);
    fclose(err);
}

/* promtool's text for a valid file, a failing one and a lint finding
 * (captured from promtool 2.42), stdout and stderr apart. */
static void test_check_text(void **state)
{
    (void)state;
    char dir[] = "/tmp/pharos-rules-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char ok[128], bad[128], dup[128];
    snprintf(ok, sizeof(ok), "%s/ok.yml", dir);
    snprintf(bad, sizeof(bad), "%s/bad.yml", dir);
    snprintf(dup, sizeof(dup), "%s/dup.yml", dir);
    FILE *f = fopen(ok, "w");
    fputs("groups:\n  - name: a\n    rules:\n      - record: x\n        expr: up\n", f);
    fclose(f);
    f = fopen(bad, "w");
    fputs("groups: [\n", f);
    fclose(f);
    f = fopen(dup, "w");
    fputs(
        "groups:\n  - name: a\n    rules:\n      - record: x\n        expr: up\n      - record: x\n        expr: up\n",
        f);
    fclose(f);
    const char *paths[] = { ok, dup, bad };
    for (int fatal = 0; fatal < 2; fatal++) {
        alerts_rules_check_opts_t opts = { .lint_duplicates = true, .lint_fatal = fatal };
        FILE *out = tmpfile();
        FILE *err = tmpfile();
        assert_int_equal(alerts_rules_check(paths, 2, &opts, out, err), fatal);
        char *o = slurp(out);
        char *e = slurp(err);
        char want[512];
        snprintf(want, sizeof(want), "Checking %s\n  SUCCESS: 1 rules found\n\nChecking %s\n\n", ok, dup);
        assert_string_equal(o, want);
        assert_string_equal(e, "  FAILED:\nlint error 1 duplicate rule(s) found.\nMetric: x\nLabel(s):\n"
                               "Might cause inconsistency while recording expressions\n");
        free(o);
        free(e);
        fclose(out);
        fclose(err);
    }
    alerts_rules_check_opts_t opts = { .lint_duplicates = true };
    FILE *out = tmpfile();
    FILE *err = tmpfile();
    assert_int_equal(alerts_rules_check(paths + 2, 1, &opts, out, err), 1);
    char *e = slurp(err);
    char want[512];
    snprintf(want, sizeof(want),
             "  FAILED:\n%s: yaml: line 1: did not find expected node content\n%s: yaml: line 1: did not find "
             "expected node content\n",
             bad, bad);
    assert_string_equal(e, want);
    free(e);
    fclose(out);
    fclose(err);
    remove(ok);
    remove(bad);
    remove(dup);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),         cmocka_unit_test(test_truncations), cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_durations),     cmocka_unit_test(test_goquote),     cmocka_unit_test(test_lint),
        cmocka_unit_test(test_check_missing), cmocka_unit_test(test_check_text),  cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

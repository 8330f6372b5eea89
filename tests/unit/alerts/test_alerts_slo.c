/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_alerts_slo: alerts/alerts_slo.c. The expansion of
 * tests/data/alerts/slo/<name>.yml is compared with the rule file
 * <name>.rules.yml (golden, as alerts_slo_write_yaml prints it), and the
 * key names, exprs and labels are also asserted one by one; a table of
 * bad files with every error (line, column, text); objective edge cases;
 * good/total against error/total; the printed file read back by the rule
 * loader gives the same structs; every truncation of a valid file fails
 * or succeeds without crashing; named hostile inputs (NUL, DEL, invalid
 * UTF-8, deep nesting, aliases, overflowing numbers) fail with errors.
 *
 * Run as `test_alerts_slo --expand IN OUT` it writes IN's rules to OUT
 * (tests/integration/slo_promtool.sh hands OUT to promtool), exit 0, or
 * prints the errors as "IN:line:col: text" and exits 1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alerts/alerts.h"
#include "common/arena.h"
#include "common/buf.h"

/* alerts/alerts_slo.c (not yet in alerts.h). */

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    buf_t b = { 0 };
    char chunk[4096];
    size_t n = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        buf_append(&b, chunk, n);
    }
    fclose(f);
    buf_putc(&b, 0);
    *len = b.len - 1;
    return (char *)buf_steal(&b, &n);
}

typedef struct path {
    char s[1024];
} path_t;

static path_t data_path(const char *name)
{
    path_t p;
    snprintf(p.s, sizeof(p.s), "%s/alerts/slo/%s", PHAROS_TEST_DATA, name);
    return p;
}

/* Every error as "line:col: text\n". */
static void errs_text(const alerts_rules_error_t *errs, size_t n, buf_t *out)
{
    for (size_t i = 0; i < n; i++) {
        buf_printf(out, "%u:%u: %s\n", errs[i].line, errs[i].col, errs[i].text);
    }
}

static alerts_rules_file_t *must_parse(arena_t *a, const char *text)
{
    alerts_rules_file_t *f = NULL;
    alerts_rules_error_t *errs = NULL;
    size_t nerrs = 0;
    int rc = alerts_slo_parse(text, strlen(text), a, &f, &errs, &nerrs);
    if (rc != 0) {
        buf_t b = { 0 };
        errs_text(errs, nerrs, &b);
        buf_putc(&b, 0);
        fprintf(stderr, "unexpected errors:\n%s", (const char *)b.data);
        buf_fini(&b);
    }
    assert_int_equal(rc, 0);
    assert_non_null(f);
    return f;
}

static const char *label(const alerts_rule_t *r, const char *name)
{
    for (size_t i = 0; i < r->nlabels; i++) {
        if (strcmp(r->labels[i].name, name) == 0) {
            return r->labels[i].value;
        }
    }
    return NULL;
}

static const char *annotation(const alerts_rule_t *r, const char *name)
{
    for (size_t i = 0; i < r->nannotations; i++) {
        if (strcmp(r->annotations[i].name, name) == 0) {
            return r->annotations[i].value;
        }
    }
    return NULL;
}

/* The whole printed rule file against a golden file. */
static void check_golden(const char *slo_name, const char *golden_name)
{
    arena_t *a = arena_create(1 << 14);
    size_t len = 0;
    char *text = read_all(data_path(slo_name).s, &len);
    assert_non_null(text);
    alerts_rules_file_t *f = must_parse(a, text);
    buf_t y = { 0 };
    alerts_slo_write_yaml(f, &y);
    buf_putc(&y, 0);
    char *want = read_all(data_path(golden_name).s, &len);
    assert_non_null(want);
    if (strcmp(want, (const char *)y.data) != 0) {
        fprintf(stderr, "%s: got\n%s", golden_name, (const char *)y.data);
    }
    assert_string_equal((const char *)y.data, want);
    free(want);
    free(text);
    buf_fini(&y);
    arena_destroy(a);
}

static void test_golden_getting_started(void **state)
{
    (void)state;
    check_golden("getting_started.yml", "getting_started.rules.yml");
}

static void test_golden_good_total(void **state)
{
    (void)state;
    check_golden("good_total.yml", "good_total.rules.yml");
}

#define FILTER                                                                                                         \
    "{sloth_id=\"myservice-requests-availability\",sloth_service=\"myservice\",sloth_slo=\"requests-availability\"}"

/* The names, exprs and labels, one by one (the golden file in words). */
static void test_expansion(void **state)
{
    (void)state;
    arena_t *a = arena_create(1 << 14);
    size_t len = 0;
    char *text = read_all(data_path("getting_started.yml").s, &len);
    alerts_rules_file_t *f = must_parse(a, text);
    assert_int_equal(f->ngroups, 3);
    assert_int_equal(f->nrules, 8 + 7 + 2);
    const alerts_rules_group_t *sli = &f->groups[0];
    const alerts_rules_group_t *meta = &f->groups[1];
    const alerts_rules_group_t *al = &f->groups[2];
    assert_string_equal(sli->name, "sloth-slo-sli-recordings-myservice-requests-availability");
    assert_string_equal(meta->name, "sloth-slo-meta-recordings-myservice-requests-availability");
    assert_string_equal(al->name, "sloth-slo-alerts-myservice-requests-availability");
    assert_int_equal(sli->interval_ms, 0);

    static const char *const windows[] = { "5m", "30m", "1h", "2h", "6h", "1d", "3d" };
    assert_int_equal(sli->nrules, 8);
    for (size_t i = 0; i < 7; i++) {
        const alerts_rule_t *r = &sli->rules[i];
        char want[256];
        snprintf(want, sizeof(want), "slo:sli_error:ratio_rate%s", windows[i]);
        assert_string_equal(r->record, want);
        assert_string_equal(r->alert, "");
        snprintf(want, sizeof(want),
                 "(sum(rate(http_request_duration_seconds_count{code=~\"(5..|429)\",job=\"myservice\"}[%s]))) / "
                 "(sum(rate(http_request_duration_seconds_count{job=\"myservice\"}[%s])))",
                 windows[i], windows[i]);
        assert_string_equal(r->expr, want);
        assert_int_equal(r->nlabels, 7);
        /* sorted by name */
        static const char *const names[] = { "owner",     "repo",         "sloth_id", "sloth_service",
                                             "sloth_slo", "sloth_window", "tier" };
        for (size_t k = 0; k < 7; k++) {
            assert_string_equal(r->labels[k].name, names[k]);
        }
        assert_string_equal(label(r, "sloth_id"), "myservice-requests-availability");
        assert_string_equal(label(r, "sloth_service"), "myservice");
        assert_string_equal(label(r, "sloth_slo"), "requests-availability");
        assert_string_equal(label(r, "sloth_window"), windows[i]);
        assert_string_equal(label(r, "tier"), "2");
        assert_int_equal(r->nannotations, 0);
        assert_int_equal(r->expr_pos.line, 13); /* error_query's line */
        assert_int_equal(r->record_pos.line, 4);
    }
    const alerts_rule_t *p30 = &sli->rules[7];
    assert_string_equal(p30->record, "slo:sli_error:ratio_rate30d");
    assert_string_equal(p30->expr, "sum_over_time(slo:sli_error:ratio_rate5m" FILTER "[30d]) / ignoring (sloth_window) "
                                   "count_over_time(slo:sli_error:ratio_rate5m" FILTER "[30d])");
    assert_int_equal(p30->nlabels, 1);
    assert_string_equal(label(p30, "sloth_window"), "30d");

    static const struct {
        const char *record, *expr;
    } metas[] = {
        { "slo:objective:ratio", "vector(0.9990000000000001)" },
        { "slo:error_budget:ratio", "vector(1 - 0.9990000000000001)" },
        { "slo:time_period:days", "vector(30)" },
        { "slo:current_burn_rate:ratio",
          "slo:sli_error:ratio_rate5m" FILTER
          " / on (sloth_id, sloth_slo, sloth_service) group_left () slo:error_budget:ratio" FILTER },
        { "slo:period_burn_rate:ratio",
          "slo:sli_error:ratio_rate30d" FILTER
          " / on (sloth_id, sloth_slo, sloth_service) group_left () slo:error_budget:ratio" FILTER },
        { "slo:period_error_budget_remaining:ratio", "1 - slo:period_burn_rate:ratio" FILTER },
        { "sloth_slo_info", "vector(1)" },
    };
    assert_int_equal(meta->nrules, 7);
    for (size_t i = 0; i < 7; i++) {
        assert_string_equal(meta->rules[i].record, metas[i].record);
        assert_string_equal(meta->rules[i].expr, metas[i].expr);
        assert_string_equal(label(&meta->rules[i], "sloth_id"), "myservice-requests-availability");
        assert_string_equal(label(&meta->rules[i], "owner"), "myteam");
        assert_null(label(&meta->rules[i], "sloth_window"));
    }
    const alerts_rule_t *info = &meta->rules[6];
    assert_int_equal(info->nlabels, 10);
    assert_string_equal(label(info, "sloth_objective"), "99.9");
    assert_string_equal(label(info, "sloth_mode"), "pharos");
    assert_string_equal(label(info, "sloth_spec"), "pharos/v1");
    assert_string_equal(label(info, "sloth_version"), "pharos");

    assert_int_equal(al->nrules, 2);
    const alerts_rule_t *page = &al->rules[0];
    const alerts_rule_t *ticket = &al->rules[1];
    assert_string_equal(page->alert, "MyServiceHighErrorRate");
    assert_string_equal(ticket->alert, "MyServiceHighErrorRate");
    assert_string_equal(page->record, "");
    assert_int_equal(page->for_ms, 0);
#define B "0.0009999999999999432"
    assert_string_equal(page->expr,
                        "((slo:sli_error:ratio_rate5m" FILTER " > (14.4 * " B
                        ")) and ignoring (sloth_window) (slo:sli_error:ratio_rate1h" FILTER " > (14.4 * " B ")))"
                        " or ignoring (sloth_window) "
                        "((slo:sli_error:ratio_rate30m" FILTER " > (6 * " B
                        ")) and ignoring (sloth_window) (slo:sli_error:ratio_rate6h" FILTER " > (6 * " B ")))");
    assert_string_equal(ticket->expr,
                        "((slo:sli_error:ratio_rate2h" FILTER " > (3 * " B
                        ")) and ignoring (sloth_window) (slo:sli_error:ratio_rate1d" FILTER " > (3 * " B ")))"
                        " or ignoring (sloth_window) "
                        "((slo:sli_error:ratio_rate6h" FILTER " > (1 * " B
                        ")) and ignoring (sloth_window) (slo:sli_error:ratio_rate3d" FILTER " > (1 * " B ")))");
#undef B
    assert_int_equal(page->nlabels, 4);
    assert_string_equal(label(page, "sloth_severity"), "page");
    assert_string_equal(label(page, "category"), "availability");
    assert_string_equal(label(page, "severity"), "pageteam");
    assert_string_equal(label(page, "routing_key"), "myteam");
    assert_int_equal(ticket->nlabels, 4);
    assert_string_equal(label(ticket, "sloth_severity"), "ticket");
    assert_string_equal(label(ticket, "severity"), "slack");
    assert_string_equal(label(ticket, "slack_channel"), "#alerts-myteam");
    assert_null(label(ticket, "routing_key"));
    assert_int_equal(page->nannotations, 2);
    assert_string_equal(annotation(page, "summary"), "High error rate on 'myservice' requests responses");
    assert_string_equal(annotation(page, "title"),
                        "(page) {{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate is too "
                        "fast.");
    assert_string_equal(annotation(ticket, "title"),
                        "(ticket) {{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate is "
                        "too fast.");
    free(text);
    arena_destroy(a);
}

#define MIN_SLO(extra)                                                                                                 \
    "slos:\n  - service: svc\n    name: avail\n    objective: 99\n" extra                                              \
    "    sli:\n      error_query: sum(rate(e[{{.window}}]))\n      total_query: sum(rate(t[{{.window}}]))\n"

/* good/total: the error ratio is 1 - good/total; everything else the same
 * as error/total. */
static void test_good_total(void **state)
{
    (void)state;
    arena_t *a = arena_create(1 << 14);
    alerts_rules_file_t *eg = must_parse(a, MIN_SLO(""));
    alerts_rules_file_t *gg = must_parse(a, "slos:\n  - service: svc\n    name: avail\n    objective: 99\n"
                                            "    sli:\n      good_query: sum(rate(g[{{ .window }}]))\n"
                                            "      total_query: sum(rate(t[{{.window}}]))\n");
    assert_int_equal(eg->ngroups, gg->ngroups);
    assert_int_equal(eg->nrules, gg->nrules);
    assert_string_equal(eg->groups[0].rules[1].expr, "(sum(rate(e[30m]))) / (sum(rate(t[30m])))");
    assert_string_equal(gg->groups[0].rules[1].expr, "1 - ((sum(rate(g[30m]))) / (sum(rate(t[30m]))))");
    for (size_t j = 0; j < eg->ngroups; j++) {
        for (size_t i = 0; i < eg->groups[j].nrules; i++) {
            const alerts_rule_t *x = &eg->groups[j].rules[i];
            const alerts_rule_t *y = &gg->groups[j].rules[i];
            assert_string_equal(x->record, y->record);
            assert_string_equal(x->alert, y->alert);
            if (j > 0 || i == 7) {
                assert_string_equal(x->expr, y->expr);
            }
        }
    }
    /* derived alert name, default annotations, budget 1% */
    const alerts_rule_t *page = &eg->groups[2].rules[0];
    assert_string_equal(page->alert, "SvcAvailSLO");
    assert_non_null(strstr(page->expr, "> (14.4 * 0.01)"));
    assert_string_equal(annotation(page, "summary"),
                        "{{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate is over expected.");
    arena_destroy(a);
}

/* Objectives: the budget is (100 - objective) / 100 as Sloth computes it,
 * float artefacts included; 0 and 100 and anything outside are errors. */
static void test_objective(void **state)
{
    (void)state;
    static const struct {
        const char *objective;
        const char *budget; /* in the page alert; NULL: an error */
        const char *ratio;  /* slo:objective:ratio's vector() */
        const char *info;   /* sloth_objective */
        const char *error;
    } cases[] = {
        { "99.9", "0.0009999999999999432", "0.9990000000000001", "99.9" },
        { "99", "0.01", "0.99", "99" },
        { "95", "0.05", "0.95", "95" },
        { "99.99", "0.00010000000000005117", "0.9998999999999999", "99.99" },
        { "99.999", "0.000010000000000047748", "0.9999899999999999", "99.999" },
        { "50.5", "0.495", "0.505", "50.5" },
        { "0.001", "0.9999899999999999", "0.00001", "0.001" },
        { "1e1", "0.9", "0.1", "10" },
        { "99.0", "0.01", "0.99", "99" },
        { "0", .error = "4:16: slos[0].objective: must be greater than 0 and less than 100 (a percentage), got 0\n" },
        { "100",
          .error = "4:16: slos[0].objective: must be greater than 0 and less than 100 (a percentage), got 100\n" },
        { "100.0001",
          .error = "4:16: slos[0].objective: must be greater than 0 and less than 100 (a percentage), got 100.0001\n" },
        { "-5", .error = "4:16: slos[0].objective: must be greater than 0 and less than 100 (a percentage), got -5\n" },
        { "'99.9'", .error = "4:16: slos[0].objective: expected a number (percent), got \"99.9\"\n" },
        { "99.9%", .error = "4:16: slos[0].objective: expected a number (percent), got \"99.9%\"\n" },
        { ".nan", .error = "4:16: slos[0].objective: expected a number (percent), got \".nan\"\n" },
        { "0x10", .error = "4:16: slos[0].objective: expected a number (percent), got \"0x10\"\n" },
        { "[99]", .error = "4:16: slos[0].objective: expected a number (percent), got a sequence\n" },
        { "", .error = "4:15: slos[0].objective: expected a number (percent), got \"\"\n" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        arena_t *a = arena_create(1 << 14);
        char text[512];
        snprintf(text, sizeof(text),
                 "slos:\n  - service: svc\n    name: avail\n    objective: %s\n    sli:\n"
                 "      error_query: sum(rate(e[{{.window}}]))\n      total_query: sum(rate(t[{{.window}}]))\n",
                 cases[i].objective);
        alerts_rules_file_t *f = NULL;
        alerts_rules_error_t *errs = NULL;
        size_t nerrs = 0;
        int rc = alerts_slo_parse(text, strlen(text), a, &f, &errs, &nerrs);
        buf_t got = { 0 };
        errs_text(errs, nerrs, &got);
        buf_putc(&got, 0);
        if (cases[i].error) {
            if (rc == 0 || strcmp((const char *)got.data, cases[i].error) != 0) {
                fprintf(stderr, "objective %s: got rc %d\n%s", cases[i].objective, rc, (const char *)got.data);
            }
            assert_int_equal(rc, -1);
            assert_string_equal((const char *)got.data, cases[i].error);
        } else {
            if (rc != 0) {
                fprintf(stderr, "objective %s: %s", cases[i].objective, (const char *)got.data);
            }
            assert_int_equal(rc, 0);
            char want[128];
            snprintf(want, sizeof(want), "(14.4 * %s)", cases[i].budget);
            if (!strstr(f->groups[2].rules[0].expr, want)) {
                fprintf(stderr, "objective %s: %s\n", cases[i].objective, f->groups[2].rules[0].expr);
            }
            assert_non_null(strstr(f->groups[2].rules[0].expr, want));
            snprintf(want, sizeof(want), "vector(%s)", cases[i].ratio);
            assert_string_equal(f->groups[1].rules[0].expr, want);
            assert_string_equal(label(&f->groups[1].rules[6], "sloth_objective"), cases[i].info);
        }
        buf_fini(&got);
        arena_destroy(a);
    }
}

typedef struct err_case {
    const char *name;
    const char *text;
    const char *errors; /* each "line:col: text\n" */
} err_case_t;

static const err_case_t err_cases[] = {
    { "yaml syntax", "slos: [\n", "2:1: yaml: while parsing a flow node: did not find expected node content\n" },
    { "yaml tab", "slos:\n\t- service: x\n",
      "2:1: yaml: while scanning for the next token: found character that cannot start any token\n" },
    { "top-level sequence", "- a\n", "1:1: top level: expected a mapping with the key slos, got a sequence\n" },
    { "top-level scalar", "hello\n", "1:1: top level: expected a mapping with the key slos, got a scalar\n" },
    { "repeated slos", "slos: []\nslos:\n", "2:1: slos: repeated key (first at line 1)\n" },
    { "non-scalar key", "slos:\n  - {[a]: 1}\n", "2:6: slos[0]: keys must be strings\n" },
    { "unknown top-level key", "groups: []\nslos: []\n", "1:1: groups: unknown field (an SLO file has only slos)\n" },
    { "slos not a list", "slos: {a: 1}\n", "1:7: slos: expected a sequence, got a mapping\n" },
    { "null SLO", "slos:\n  -\n  - 3\n",
      "2:4: slos[0]: expected a mapping, got null\n3:5: slos[1]: expected a mapping, got a scalar\n" },
    { "missing fields", "slos:\n  - description: x\n",
      "2:5: slos[0]: missing field service\n2:5: slos[0]: missing field name\n"
      "2:5: slos[0]: missing field objective\n2:5: slos[0]: missing field sli\n" },
    { "unknown keys everywhere",
      MIN_SLO("    version: prometheus/v1\n    alerting:\n      page_alert: {}\n      page: {for: 5m}\n"),
      "5:5: slos[0].version: unknown field\n7:7: slos[0].alerting.page_alert: unknown field\n"
      "8:14: slos[0].alerting.page.for: unknown field\n" },
    { "unknown sli key",
      "slos:\n  - service: svc\n    name: avail\n    objective: 99\n    sli:\n      events: {}\n"
      "      total_query: sum(rate(t[{{.window}}]))\n",
      "6:7: slos[0].sli.events: unknown field\n" },
    { "repeated key", MIN_SLO("    name: again\n"), "5:5: slos[0].name: repeated key (first at line 3)\n" },
    { "bad names",
      "slos:\n  - service: my service\n    name: -x\n    objective: 99\n    sli:\n"
      "      error_query: sum(rate(e[{{.window}}]))\n      total_query: sum(rate(t[{{.window}}]))\n",
      "2:14: slos[0].service: must start with a letter or digit and hold only letters, digits, '_', '-' and '.'\n"
      "3:11: slos[0].name: must start with a letter or digit and hold only letters, digits, '_', '-' and '.'\n" },
    { "service is a map", "slos:\n  - service: {a: b}\n",
      "2:14: slos[0].service: expected a string, got a mapping\n2:5: slos[0]: missing field name\n"
      "2:5: slos[0]: missing field objective\n2:5: slos[0]: missing field sli\n" },
    { "window", MIN_SLO("    window: 1h\n"),
      "5:13: slos[0].window: must be a whole number of days from 7d to 90d, got 1h\n" },
    { "window syntax", MIN_SLO("    window: 30 days\n"),
      "5:13: slos[0].window: not a valid duration string: \"30 days\"\n" },
    { "window too long", MIN_SLO("    window: 13w\n"),
      "5:13: slos[0].window: must be a whole number of days from 7d to 90d, got 13w\n" },
    { "window not whole days", MIN_SLO("    window: 7d12h\n"),
      "5:13: slos[0].window: must be a whole number of days from 7d to 90d, got 7d12h\n" },
    { "labels", MIN_SLO("    labels: {\"a-b\": x, __name__: y, sloth_id: z, ok: [1]}\n"),
      "5:14: slos[0].labels.a-b: invalid label name\n5:24: slos[0].labels.__name__: __name__ cannot be set\n"
      "5:37: slos[0].labels.sloth_id: labels starting with sloth_ are set by the generator\n"
      "5:54: slos[0].labels.ok: expected a string, got a sequence\n" },
    { "labels not a map", MIN_SLO("    labels: [a]\n"), "5:13: slos[0].labels: expected a mapping, got a sequence\n" },
    { "NUL in a label name", MIN_SLO("    labels: {\"a\\0b\": x}\n"), "5:14: slos[0].labels.a: invalid label name\n" },
    { "non-scalar label key", MIN_SLO("    labels: {[a]: b, ok: x}\n"),
      "5:14: slos[0].labels: keys must be strings\n" },
    { "sli empty", "slos:\n  - service: svc\n    name: avail\n    objective: 99\n    sli:\n",
      "5:9: slos[0].sli: needs error_query or good_query, and total_query\n" },
    { "sli both and no total",
      "slos:\n  - service: svc\n    name: avail\n    objective: 99\n    sli:\n"
      "      error_query: sum(rate(e[{{.window}}]))\n      good_query: sum(rate(g[{{.window}}]))\n",
      "6:7: slos[0].sli: error_query and good_query are exclusive\n6:7: slos[0].sli: needs total_query\n" },
    { "sli only total",
      "slos:\n  - service: svc\n    name: avail\n    objective: 99\n    sli:\n"
      "      total_query: sum(rate(t[{{.window}}]))\n",
      "6:7: slos[0].sli: needs error_query or good_query\n" },
    { "sli bad promql",
      "slos:\n  - service: svc\n    name: avail\n    objective: 99\n    sli:\n"
      "      error_query: sum(rate(e[{{.window}}])\n      total_query: rate(t[{{.window}}])[5m]\n",
      "6:20: slos[0].sli.error_query: 1:16: parse error: unclosed left parenthesis\n"
      "7:20: slos[0].sli.total_query: 1:12: parse error: ranges only allowed for vector selectors\n" },
    { "sli placeholder",
      "slos:\n  - service: svc\n    name: avail\n    objective: 99\n    sli:\n"
      "      error_query: sum(rate(e[5m]))\n      total_query: sum(rate(t[{{.period}}]))\n",
      "6:20: slos[0].sli.error_query: must use the {{.window}} placeholder as its rate window\n"
      "7:20: slos[0].sli.total_query: only the {{.window}} placeholder is allowed\n" },
    { "sli empty query",
      "slos:\n  - service: svc\n    name: avail\n    objective: 99\n    sli:\n"
      "      error_query: \"\"\n      total_query:\n",
      "6:20: slos[0].sli.error_query: must not be empty\n7:19: slos[0].sli.total_query: must not be empty\n" },
    { "alerting",
      MIN_SLO("    alerting:\n      name: \"\"\n      labels: {sloth_severity: x}\n      annotations: {\"1x\": y}\n"
              "      page: {disable: maybe}\n      ticket: [1]\n"),
      "6:13: slos[0].alerting.name: must not be empty\n"
      "7:16: slos[0].alerting.labels.sloth_severity: labels starting with sloth_ are set by the generator\n"
      "8:21: slos[0].alerting.annotations.1x: invalid annotation name\n"
      "9:23: slos[0].alerting.page.disable: expected true or false, got \"maybe\"\n"
      "10:15: slos[0].alerting.ticket: expected a mapping, got a sequence\n" },
    { "alerting templates",
      MIN_SLO("    alerting:\n      name: Burn\n      annotations: {summary: \"{{ $labels.x \"}\n"
              "      page:\n        labels: {team: \"{{ if }}\"}\n"),
      "7:30: slos[0].alerting.annotations.summary: template: __alert_Burn:1: unclosed action\n"
      "9:24: slos[0].alerting.page.labels.team: template: __alert_Burn:1: missing value for if\n" },
    { "repeated SLO",
      MIN_SLO("") "  - service: svc\n    name: avail\n    objective: 98\n    sli:\n"
                  "      error_query: sum(rate(e[{{.window}}]))\n      total_query: sum(rate(t[{{.window}}]))\n",
      "8:5: slos[1]: SLO svc-avail is repeated (first at line 2)\n" },
    { "errors in two SLOs",
      "slos:\n  - service: a\n    name: b\n    objective: 100\n    sli: {error_query: x, total_query: y}\n"
      "  - service: c\n    name: d\n    objective: 99\n    window: 1d\n"
      "    sli: {error_query: 'x[{{.window}}]', total_query: 'sum(y[{{.window}}])'}\n",
      "4:16: slos[0].objective: must be greater than 0 and less than 100 (a percentage), got 100\n"
      "5:24: slos[0].sli.error_query: must use the {{.window}} placeholder as its rate window\n"
      "5:40: slos[0].sli.total_query: must use the {{.window}} placeholder as its rate window\n"
      "9:13: slos[1].window: must be a whole number of days from 7d to 90d, got 1d\n"
      "10:24: slos[1].sli.error_query: expected an instant vector or a scalar, got range vector\n"
      "10:55: slos[1].sli.total_query: 1:5: parse error: expected type instant vector in aggregation expression, "
      "got range vector\n" },
};

static void test_errors(void **state)
{
    (void)state;
    size_t failed = 0;
    for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
        const err_case_t *c = &err_cases[i];
        arena_t *a = arena_create(1 << 14);
        alerts_rules_file_t *f = NULL;
        alerts_rules_error_t *errs = NULL;
        size_t nerrs = 0;
        int rc = alerts_slo_parse(c->text, strlen(c->text), a, &f, &errs, &nerrs);
        buf_t got = { 0 };
        errs_text(errs, nerrs, &got);
        buf_putc(&got, 0);
        if (rc != -1 || f || strcmp((const char *)got.data, c->errors) != 0) {
            fprintf(stderr, "case %s: rc %d, got:\n%swant:\n%s", c->name, rc, (const char *)got.data, c->errors);
            failed++;
        }
        buf_fini(&got);
        arena_destroy(a);
    }
    assert_int_equal(failed, 0);
}

/* Files that load, and what they hold. */
static void test_valid_variants(void **state)
{
    (void)state;
    static const struct {
        const char *name, *text;
        size_t ngroups, nrules;
        const char *period; /* the period recording */
        const char *days;
    } cases[] = {
        { "empty file", "", 0, 0, NULL, NULL },
        { "comment", "# nothing\n", 0, 0, NULL, NULL },
        { "null slos", "slos:\n", 0, 0, NULL, NULL },
        { "empty slos", "slos: []\n", 0, 0, NULL, NULL },
        { "default", MIN_SLO(""), 3, 17, "slo:sli_error:ratio_rate30d", "vector(30)" },
        { "28d", MIN_SLO("    window: 28d\n"), 3, 17, "slo:sli_error:ratio_rate4w", "vector(28)" },
        { "7d", MIN_SLO("    window: 1w\n"), 3, 17, "slo:sli_error:ratio_rate1w", "vector(7)" },
        { "90d", MIN_SLO("    window: 90d\n"), 3, 17, "slo:sli_error:ratio_rate90d", "vector(90)" },
        { "no page", MIN_SLO("    alerting: {page: {disable: true}}\n"), 3, 16, "slo:sli_error:ratio_rate30d", NULL },
        { "no alerts", MIN_SLO("    alerting: {page: {disable: true}, ticket: {disable: true}}\n"), 2, 15,
          "slo:sli_error:ratio_rate30d", NULL },
        { "null sections", MIN_SLO("    labels:\n    alerting:\n    description:\n"), 3, 17, NULL, NULL },
        { "PromQL comment ends a query",
          "slos:\n  - {service: s, name: n, objective: 99.5, sli: {error_query: 'sum(rate(e[{{.window}}])) # 5xx',"
          " total_query: 'sum(rate(t[{{.window}}]))#all'}}\n",
          3, 17, "slo:sli_error:ratio_rate30d", "vector(30)" },
        { "scalar queries",
          "slos:\n  - {service: s, name: n, objective: 99.5, sli: {error_query: 'scalar(sum(rate(e[{{.window}}])))',"
          " total_query: 'scalar(sum(rate(t[{{ .window }}])))'}}\n",
          3, 17, "slo:sli_error:ratio_rate30d", "vector(30)" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        arena_t *a = arena_create(1 << 14);
        alerts_rules_file_t *f = NULL;
        alerts_rules_error_t *errs = NULL;
        size_t nerrs = 0;
        int rc = alerts_slo_parse(cases[i].text, strlen(cases[i].text), a, &f, &errs, &nerrs);
        if (rc != 0) {
            fprintf(stderr, "case %s: %s\n", cases[i].name, errs[0].text);
        }
        assert_int_equal(rc, 0);
        assert_int_equal(f->ngroups, cases[i].ngroups);
        assert_int_equal(f->nrules, cases[i].nrules);
        if (cases[i].period) {
            assert_string_equal(f->groups[0].rules[7].record, cases[i].period);
            assert_non_null(strstr(f->groups[0].rules[7].expr, "["));
        }
        if (cases[i].days) {
            assert_string_equal(f->groups[1].rules[2].expr, cases[i].days);
        }
        arena_destroy(a);
    }
}

/* The printed rule file reads back, through the rule loader, as the same
 * groups and rules. */
static void assert_same_file(const alerts_rules_file_t *x, const alerts_rules_file_t *y)
{
    assert_int_equal(x->ngroups, y->ngroups);
    assert_int_equal(x->nrules, y->nrules);
    for (size_t j = 0; j < x->ngroups; j++) {
        const alerts_rules_group_t *g = &x->groups[j];
        const alerts_rules_group_t *h = &y->groups[j];
        assert_string_equal(g->name, h->name);
        assert_int_equal(g->interval_ms, h->interval_ms);
        assert_int_equal(g->limit, h->limit);
        assert_int_equal(g->nlabels, h->nlabels);
        assert_int_equal(g->nrules, h->nrules);
        for (size_t i = 0; i < g->nrules; i++) {
            const alerts_rule_t *r = &g->rules[i];
            const alerts_rule_t *s = &h->rules[i];
            assert_string_equal(r->record, s->record);
            assert_string_equal(r->alert, s->alert);
            assert_string_equal(r->expr, s->expr);
            assert_int_equal(r->for_ms, s->for_ms);
            assert_int_equal(r->nlabels, s->nlabels);
            for (size_t k = 0; k < r->nlabels; k++) {
                assert_string_equal(r->labels[k].name, s->labels[k].name);
                assert_string_equal(r->labels[k].value, s->labels[k].value);
            }
            assert_int_equal(r->nannotations, s->nannotations);
            for (size_t k = 0; k < r->nannotations; k++) {
                assert_string_equal(r->annotations[k].name, s->annotations[k].name);
                assert_string_equal(r->annotations[k].value, s->annotations[k].value);
            }
        }
    }
}

static void roundtrip(const alerts_rules_file_t *f)
{
    arena_t *a = arena_create(1 << 14);
    buf_t y = { 0 };
    alerts_slo_write_yaml(f, &y);
    alerts_rules_file_t *back = NULL;
    alerts_rules_error_t *errs = NULL;
    size_t nerrs = 0;
    int rc = alerts_rules_parse((const char *)y.data, y.len, a, &back, &errs, &nerrs);
    if (rc != 0) {
        fprintf(stderr, "%.*s\n%s\n", (int)y.len, (const char *)y.data, errs[0].text);
    }
    assert_int_equal(rc, 0);
    assert_same_file(f, back);
    buf_fini(&y);
    arena_destroy(a);
}

static void test_roundtrip(void **state)
{
    (void)state;
    arena_t *a = arena_create(1 << 14);
    size_t len = 0;
    char *text = read_all(data_path("getting_started.yml").s, &len);
    roundtrip(must_parse(a, text));
    free(text);
    /* Hostile strings in every position the printer quotes. */
    roundtrip(must_parse(a, "slos:\n  - service: s.1\n    name: n_2\n    objective: 99\n"
                            "    labels: {a: \"\", b: \"true\", c: \"null\", d: \"'q' \\\"dq\\\" \\\\\", e: \"x: y\","
                            " f: \"#c\", g: \"\\ttab\\nnl\", h: \" lead\", i: \"trail \", j: \"é\\u2028\\u0085ü\","
                            " k: \"- dash\", l: \"{a}\", m: \"[1]\", n: \"&x *y !z |>%@`\", o: \"1.5\", y: n}\n"
                            "    sli:\n      error_query: \"sum(rate(e{a=\\\"\\\\\\\\\\\\\\\"é\\\"}[{{.window}}]))\"\n"
                            "      total_query: sum(rate(t[{{.window}}]))\n"
                            "    alerting:\n      annotations: {d: \"multi\\nline {{ $value }}\"}\n"));
    /* A plain rule file with every field the printer writes. */
    alerts_rules_file_t *f = NULL;
    alerts_rules_error_t *errs = NULL;
    size_t nerrs = 0;
    static const char rules[] = "groups:\n  - name: \"g 1\"\n    interval: 90s\n    limit: 5\n    query_offset: 1m\n"
                                "    labels: {team: x}\n    rules:\n      - alert: A\n        expr: up == 0\n"
                                "        for: 1h30m\n        keep_firing_for: 5m\n  - name: empty\n";
    assert_int_equal(alerts_rules_parse(rules, sizeof(rules) - 1, a, &f, &errs, &nerrs), 0);
    roundtrip(f);
    buf_t y = { 0 };
    alerts_slo_write_yaml(f, &y);
    buf_putc(&y, 0);
    assert_string_equal((const char *)y.data,
                        "groups:\n  - name: 'g 1'\n    interval: 1m30s\n    query_offset: 1m\n    limit: 5\n"
                        "    labels:\n      team: x\n    rules:\n      - alert: A\n        expr: 'up == 0'\n"
                        "        for: 1h30m\n        keep_firing_for: 5m\n  - name: empty\n    rules: []\n");
    buf_fini(&y);
    arena_destroy(a);
}

/* Every prefix of a valid file: a clean result or errors, no crash, and
 * each error with a text. */
static void test_truncations(void **state)
{
    (void)state;
    size_t len = 0;
    char *text = read_all(data_path("getting_started.yml").s, &len);
    assert_non_null(text);
    for (size_t n = 0; n <= len; n++) {
        arena_t *a = arena_create(1 << 12);
        char *copy = malloc(n ? n : 1); /* exact size: ASan sees an overread */
        memcpy(copy, text, n);
        alerts_rules_file_t *f = NULL;
        alerts_rules_error_t *errs = NULL;
        size_t nerrs = 0;
        int rc = alerts_slo_parse(copy, n, a, &f, &errs, &nerrs);
        if (rc == 0) {
            assert_non_null(f);
            assert_int_equal(nerrs, 0);
        } else {
            assert_true(nerrs > 0);
            for (size_t i = 0; i < nerrs; i++) {
                assert_true(errs[i].text && *errs[i].text);
            }
        }
        free(copy);
        arena_destroy(a);
    }
    free(text);
}

static void test_load(void **state)
{
    (void)state;
    arena_t *a = arena_create(1 << 14);
    alerts_rules_file_t *f = NULL;
    alerts_rules_error_t *errs = NULL;
    size_t nerrs = 0;
    assert_int_equal(alerts_slo_load("/nonexistent/slo.yml", a, &f, &errs, &nerrs), -1);
    assert_int_equal(nerrs, 1);
    assert_string_equal(errs[0].text, "open /nonexistent/slo.yml: no such file or directory");
    assert_int_equal(alerts_slo_load(data_path("getting_started.yml").s, a, &f, &errs, &nerrs), 0);
    assert_int_equal(f->nrules, 17);
    assert_int_equal(alerts_slo_load(data_path("bad.yml").s, a, &f, &errs, &nerrs), -1);
    assert_null(f);
    assert_true(nerrs > 0);
    arena_destroy(a);
}

/* Named hostile inputs: each fails with errors (no crash, no leak). */
static void test_hostile(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *text;
        size_t len;              /* 0: strlen */
        const char *first_error; /* NULL: any */
    } cases[] = {
        { "NUL byte", "slos:\n  - service: a\0b\n", 20, NULL },
        { "DEL byte", "slos:\n  - service: a\x7f\n", 0, NULL },
        { "invalid UTF-8", "slos:\n  - service: \xff\xfe\n", 0, NULL },
        { "escaped NUL in a label", MIN_SLO("    labels: {a: \"x\\0y\"}\n"), 0,
          "5:17: slos[0].labels.a: contains a NUL character" },
        { "huge objective", "slos:\n  - service: s\n    name: n\n    objective: 1e400\n", 0,
          "4:16: slos[0].objective: expected a number (percent), got \"1e400\"" },
        { "deep nesting", "slos: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n", 0,
          "1:8: slos[0]: expected a mapping, got a sequence" },
        { "alias loop-free reuse", "x: &a {service: s}\nslos: [*a, *a]\n", 0,
          "1:1: x: unknown field (an SLO file has only slos)" },
        { "unknown anchor", "slos: [*nope]\n", 0, NULL },
        { "window overflows", MIN_SLO("    window: 99999999999999999999d\n"), 0,
          "5:13: slos[0].window: duration out of range" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        arena_t *a = arena_create(1 << 12);
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
        char *copy = malloc(len); /* exact size: ASan sees an overread */
        memcpy(copy, cases[i].text, len);
        alerts_rules_file_t *f = NULL;
        alerts_rules_error_t *errs = NULL;
        size_t nerrs = 0;
        int rc = alerts_slo_parse(copy, len, a, &f, &errs, &nerrs);
        if (rc != -1) {
            fprintf(stderr, "case %s: accepted\n", cases[i].name);
        }
        assert_int_equal(rc, -1);
        assert_true(nerrs > 0);
        if (cases[i].first_error) {
            char got[512];
            snprintf(got, sizeof(got), "%u:%u: %s", errs[0].line, errs[0].col, errs[0].text);
            assert_string_equal(got, cases[i].first_error);
        }
        free(copy);
        arena_destroy(a);
    }
}

/* --expand IN OUT: see the file comment. */
static int expand(const char *in, const char *out)
{
    arena_t *a = arena_create(1 << 14);
    alerts_rules_file_t *f = NULL;
    alerts_rules_error_t *errs = NULL;
    size_t nerrs = 0;
    int rc = 1;
    if (alerts_slo_load(in, a, &f, &errs, &nerrs) != 0) {
        for (size_t i = 0; i < nerrs; i++) {
            fprintf(stderr, "%s:%u:%u: %s\n", in, errs[i].line, errs[i].col, errs[i].text);
        }
        goto done;
    }
    buf_t y = { 0 };
    alerts_slo_write_yaml(f, &y);
    FILE *fp = fopen(out, "wb");
    if (fp && fwrite(y.data, 1, y.len, fp) == y.len && fclose(fp) == 0) {
        rc = 0;
    } else {
        perror(out);
    }
    buf_fini(&y);
done:
    arena_destroy(a);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--expand") == 0) {
        return expand(argv[2], argv[3]);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expansion),         cmocka_unit_test(test_golden_getting_started),
        cmocka_unit_test(test_golden_good_total), cmocka_unit_test(test_good_total),
        cmocka_unit_test(test_objective),         cmocka_unit_test(test_errors),
        cmocka_unit_test(test_valid_variants),    cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_truncations),       cmocka_unit_test(test_load),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

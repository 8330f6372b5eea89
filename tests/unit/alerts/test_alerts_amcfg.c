/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_alerts_amcfg: alerts/alerts_amcfg.c. A full valid config (route
 * inheritance, matcher forms, deprecated match/match_re, inhibit rules,
 * global defaults merged into receivers) checked field by field; a table
 * of broken configs, each with the exact "file:line: path: reason" error;
 * every truncation of the valid config parses or fails cleanly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "notify_fake.h"

static const char *valid_cfg = "global:\n"
                               "  resolve_timeout: 1m\n"
                               "  slack_api_url: http://slack.example/hook\n"
                               "route:\n"
                               "  receiver: default\n"
                               "  group_by: [alertname, cluster]\n"
                               "  group_wait: 10s\n"
                               "  routes:\n"
                               "    - matchers: ['severity=\"page\"', 'team=~\"db|infra\"']\n"
                               "      receiver: pager\n"
                               "      group_by: ['...']\n"
                               "      continue: true\n"
                               "    - match: {service: api}\n"
                               "      match_re: {env: prod|staging}\n"
                               "      receiver: api\n"
                               "      repeat_interval: 1h\n"
                               "      routes:\n"
                               "        - matchers: ['{instance!=\"a\", job!~\"x.*\"}']\n"
                               "receivers:\n"
                               "  - name: default\n"
                               "  - name: pager\n"
                               "    fake_configs: [{name: p1}, {name: p2, send_resolved: false}]\n"
                               "  - name: api\n"
                               "    slack_configs: [{}, {api_url: http://own}]\n"
                               "inhibit_rules:\n"
                               "  - source_matchers: [severity=\"critical\"]\n"
                               "    target_matchers: [severity=\"warning\"]\n"
                               "    equal: [alertname]\n"
                               "  - source_match: {a: b}\n"
                               "    target_match_re: {c: d.*}\n"
                               "templates: []\n";

static void test_valid(void **state)
{
    (void)state;
    amcfg_t *c = NULL;
    buf_t err = { 0 };
    int rc = alerts_amcfg_parse("alertmanager.yml", valid_cfg, strlen(valid_cfg), fake_types, NFAKE_TYPES, &c, &err);
    if (rc != 0) {
        fprintf(stderr, "%s\n", (const char *)err.data);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(c->resolve_timeout_ms, 60000);
    const amcfg_route_t *r = c->root;
    assert_string_equal(r->key, "{}");
    assert_int_equal(r->group_wait_ms, 10000);
    assert_int_equal(r->group_interval_ms, 300000);
    assert_int_equal(r->repeat_interval_ms, 4 * 3600000);
    assert_int_equal(r->ngroup_by, 2);
    assert_int_equal(r->nroutes, 2);
    const amcfg_route_t *p = &r->routes[0];
    assert_string_equal(p->key, "{}/{severity=\"page\",team=~\"db|infra\"}");
    assert_true(p->group_by_all);
    assert_true(p->cont);
    assert_int_equal(p->group_wait_ms, 10000);
    assert_string_equal(p->recv->name, "pager");
    assert_int_equal(p->recv->ninteg, 2);
    assert_int_equal(p->recv->integs[1].idx, 1);
    assert_false(fake_send_resolved(p->recv->integs[1].cfg));
    const amcfg_route_t *api = &r->routes[1];
    assert_string_equal(api->key, "{}/{env=~\"^(?:prod|staging)$\",service=\"api\"}");
    assert_int_equal(api->repeat_interval_ms, 3600000);
    assert_int_equal(api->ngroup_by, 2);
    assert_false(api->cont);
    const amcfg_route_t *g = &api->routes[0];
    assert_string_equal(g->key, "{}/{env=~\"^(?:prod|staging)$\",service=\"api\"}/{instance!=\"a\",job!~\"x.*\"}");
    assert_string_equal(g->receiver, "api");
    assert_int_equal(g->repeat_interval_ms, 3600000);
    /* slack_api_url merged into the element without api_url only */
    const amcfg_receiver_t *ar = api->recv;
    assert_int_equal(ar->ninteg, 2);
    assert_string_equal(((const fake_cfg_t *)ar->integs[0].cfg)->name, "http://slack.example/hook");
    assert_string_equal(((const fake_cfg_t *)ar->integs[1].cfg)->name, "http://own");
    assert_int_equal(c->ninhibits, 2);
    assert_int_equal(c->inhibits[0].nequal, 1);
    assert_int_equal(c->inhibits[1].nsrc, 1);
    assert_int_equal(c->inhibits[1].tgt[0]->type, MATCH_RE);
    alerts_amcfg_free(c);
    buf_fini(&err);
}

typedef struct err_case {
    const char *name;
    const char *text;
    const char *err;
} err_case_t;

#define RECV_A "receivers:\n  - name: a\n"

static const err_case_t err_cases[] = {
    { "bad duration", "route:\n  receiver: a\n  group_wait: 5x\n" RECV_A,
      "alertmanager.yml:3: route: group_wait: not a valid duration string: \"5x\"" },
    { "unknown top key", "route:\n  receiver: a\n" RECV_A "foo: 1\n",
      "alertmanager.yml:5: config: field foo not found" },
    { "unknown route key", "route:\n  receiver: a\n  bogus: 1\n" RECV_A,
      "alertmanager.yml:3: route: field bogus not found" },
    { "root without receiver", "route:\n  group_by: [a]\n" RECV_A,
      "alertmanager.yml:2: route: root route must specify a default receiver" },
    { "root matchers", "route:\n  receiver: a\n  matchers: [x=y]\n" RECV_A,
      "alertmanager.yml:2: route: root route must not have any matchers" },
    { "root continue", "route:\n  receiver: a\n  continue: true\n" RECV_A,
      "alertmanager.yml:3: route: cannot have continue in root route" },
    { "undefined receiver", "route:\n  receiver: a\n  routes:\n    - receiver: nope\n" RECV_A,
      "alertmanager.yml:4: route: undefined receiver \"nope\" used in route" },
    { "duplicate receiver", "route:\n  receiver: a\n" RECV_A "  - name: a\n",
      "alertmanager.yml:5: receivers[1]: notification config name \"a\" is not unique" },
    { "receiver without name", "route:\n  receiver: a\nreceivers:\n  - fake_configs: []\n",
      "alertmanager.yml:4: receivers[0]: missing name in receiver" },
    { "repeat below group interval", "route:\n  receiver: a\n  group_interval: 10m\n  repeat_interval: 5m\n" RECV_A,
      "alertmanager.yml:4: route: repeat_interval (5m) must not be less than group_interval (10m)" },
    { "zero group_interval", "route:\n  receiver: a\n  group_interval: 0s\n" RECV_A,
      "alertmanager.yml:3: route: group_interval cannot be zero" },
    { "wildcard and labels", "route:\n  receiver: a\n  group_by: ['...', a]\n" RECV_A,
      "alertmanager.yml:3: route: group_by: cannot have wildcard group_by (`...`) and other other labels at the same "
      "time" },
    { "duplicate group_by", "route:\n  receiver: a\n  group_by: [a, a]\n" RECV_A,
      "alertmanager.yml:3: route: group_by: duplicated label \"a\" in group_by" },
    { "bad group_by name", "route:\n  receiver: a\n  group_by: [a-b]\n" RECV_A,
      "alertmanager.yml:3: route: group_by: invalid label name \"a-b\" in group_by list" },
    { "bad matcher", "route:\n  receiver: a\n  routes:\n    - matchers: [foo]\n" RECV_A,
      "alertmanager.yml:4: route.routes[0]: matchers: bad matcher format: foo" },
    { "unescaped quote", "route:\n  receiver: a\n  routes:\n    - matchers: ['a=\"b\"c\"']\n" RECV_A,
      "alertmanager.yml:4: route.routes[0]: matchers: matcher value contains unescaped double quote: \"b\"c\"" },
    { "bad regex", "route:\n  receiver: a\n  routes:\n    - match_re: {a: '(x'}\n" RECV_A,
      NULL /* text from PCRE2: checked by prefix */ },
    { "unsupported receiver type", "route:\n  receiver: a\n" RECV_A "    webhook_configs: [{url: http://x}]\n",
      "alertmanager.yml:5: receivers[0] (a): webhook_configs: receiver type not supported" },
    { "receiver parse error", "route:\n  receiver: a\n" RECV_A "    fake_configs:\n      - name: x\n        bogus: 1\n",
      "alertmanager.yml:7: receivers[0] (a): fake_configs[0]: bogus: unknown field" },
    { "templates", "route:\n  receiver: a\n" RECV_A "templates: ['/etc/x/*.tmpl']\n",
      "alertmanager.yml:5: templates: custom notification template files are not supported (receivers use "
      "Alertmanager's default templates and their own text fields)" },
    { "time intervals", "route:\n  receiver: a\n" RECV_A "time_intervals: []\n",
      "alertmanager.yml:5: time_intervals: time intervals are not supported" },
    { "mute_time_intervals in route", "route:\n  receiver: a\n  mute_time_intervals: [x]\n" RECV_A,
      "alertmanager.yml:3: route: mute_time_intervals: time intervals are not supported" },
    { "no route", RECV_A, "alertmanager.yml:1: no routes provided" },
    { "empty file", "", "alertmanager.yml:1: no routes provided" },
    { "duplicate key", "route:\n  receiver: a\n  receiver: b\n" RECV_A,
      "alertmanager.yml:3: route: key \"receiver\" already set" },
    { "global unknown", "global:\n  foo: 1\nroute:\n  receiver: a\n" RECV_A,
      "alertmanager.yml:2: global: field foo not found" },
    { "global unsupported url", "global:\n  opsgenie_api_url: http://x\nroute:\n  receiver: a\n" RECV_A,
      "alertmanager.yml:2: global: opsgenie_api_url: not supported" },
    { "global bad resolve_timeout", "global:\n  resolve_timeout: soon\nroute:\n  receiver: a\n" RECV_A,
      "alertmanager.yml:2: global: resolve_timeout: not a valid duration string: \"soon\"" },
    { "inhibit bad equal", "route:\n  receiver: a\n" RECV_A "inhibit_rules:\n  - equal: ['a b']\n",
      "alertmanager.yml:6: inhibit_rules[0]: equal: \"a b\" is not a valid label name" },
    { "inhibit unknown", "route:\n  receiver: a\n" RECV_A "inhibit_rules:\n  - source: x\n",
      "alertmanager.yml:6: inhibit_rules[0]: field source not found" },
    { "yaml syntax", "route:\n  receiver: [a\n",
      "alertmanager.yml:3: yaml: did not find expected ',' or ']' while parsing a flow sequence" },
    { "route not a map", "route: 3\n" RECV_A, "alertmanager.yml:1: route: expected a mapping" },
    { "group_by not a list", "route:\n  receiver: a\n  group_by: a\n" RECV_A,
      "alertmanager.yml:3: route: group_by: expected a list" },
    { "continue not bool", "route:\n  receiver: a\n  routes:\n    - continue: maybe\n" RECV_A,
      "alertmanager.yml:4: route.routes[0]: continue: expected true or false" },
};

static void test_errors(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
        const err_case_t *ec = &err_cases[i];
        amcfg_t *c = NULL;
        buf_t err = { 0 };
        int rc = alerts_amcfg_parse("alertmanager.yml", ec->text, strlen(ec->text), fake_types, NFAKE_TYPES, &c, &err);
        const char *got = err.len ? (const char *)err.data : "";
        if (rc != -1 || c != NULL) {
            fprintf(stderr, "case %s: accepted\n", ec->name);
            bad++;
        } else if (ec->err ? strcmp(got, ec->err) != 0
                           : strncmp(got, "alertmanager.yml:4: route.routes[0]: match_re: ", 47) != 0) {
            fprintf(stderr, "case %s:\n  got  %s\n  want %s\n", ec->name, got, ec->err ? ec->err : "(prefix)");
            bad++;
        }
        alerts_amcfg_free(c);
        buf_fini(&err);
    }
    assert_int_equal(bad, 0);
}

static void test_deep_routes(void **state)
{
    (void)state;
    buf_t t = { 0 }, err = { 0 };
    buf_puts(&t, "receivers: [{name: a}]\nroute:\n  receiver: a\n  routes:\n");
    for (int i = 0; i < 70; i++) {
        buf_printf(&t, "%*s- routes:\n", 4 + 4 * i, "");
    }
    amcfg_t *c = NULL;
    assert_int_equal(alerts_amcfg_parse("am.yml", (const char *)t.data, t.len, fake_types, NFAKE_TYPES, &c, &err), -1);
    assert_non_null(strstr((const char *)err.data, "routes nested deeper than 64 levels"));
    buf_fini(&t);
    buf_fini(&err);
}

static void test_truncations(void **state)
{
    (void)state;
    size_t len = strlen(valid_cfg);
    for (size_t i = 0; i <= len; i++) {
        amcfg_t *c = NULL;
        buf_t err = { 0 };
        int rc = alerts_amcfg_parse("t.yml", valid_cfg, i, fake_types, NFAKE_TYPES, &c, &err);
        assert_true(rc == 0 || (rc == -1 && err.len > 0 && c == NULL));
        alerts_amcfg_free(c);
        buf_fini(&err);
    }
}

static void test_load_missing(void **state)
{
    (void)state;
    amcfg_t *c = NULL;
    buf_t err = { 0 };
    assert_int_equal(alerts_amcfg_load("/nonexistent/am.yml", fake_types, NFAKE_TYPES, &c, &err), -1);
    assert_string_equal((const char *)err.data, "open /nonexistent/am.yml: No such file or directory");
    buf_fini(&err);
}

/* The real receiver table: the global smtp_, slack_ and pagerduty defaults
 * reach its parsers (the seed of fuzz_alerts_config). */
static void test_real_receivers(void **state)
{
    (void)state;
    FILE *fp = fopen(PHAROS_TEST_DATA "/fuzz/fuzz_alerts_config/full.yml", "rb");
    assert_non_null(fp);
    char text[8192];
    size_t len = fread(text, 1, sizeof(text) - 1, fp);
    fclose(fp);
    size_t nt = 0;
    const alerts_recv_type_t *types = alerts_recv_types(&nt);
    amcfg_t *c = NULL;
    buf_t err = { 0 };
    int rc = alerts_amcfg_parse("full.yml", text, len, types, nt, &c, &err);
    if (rc != 0) {
        fprintf(stderr, "%s\n", (const char *)err.data);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(c->nreceivers, 3);
    assert_int_equal(c->receivers[2].ninteg, 2);
    alerts_amcfg_free(c);
    /* without the globals, the receivers' own checks speak, with the line */
    const char *bare = "route:\n  receiver: m\nreceivers:\n  - name: m\n    email_configs:\n      - to: a@b.c\n";
    rc = alerts_amcfg_parse("am.yml", bare, strlen(bare), types, nt, &c, &err);
    assert_int_equal(rc, -1);
    assert_memory_equal(err.data, "am.yml:6: receivers[0] (m): email_configs[0]: ", 46);
    alerts_amcfg_free(c);
    buf_fini(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),       cmocka_unit_test(test_errors),       cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_deep_routes), cmocka_unit_test(test_load_missing), cmocka_unit_test(test_real_receivers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

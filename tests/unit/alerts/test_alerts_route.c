/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_alerts_route: alerts/alerts_route.c. Alertmanager's documented
 * example tree (docs/configuration.md): which receivers an alert reaches
 * (continue, fallback to the parent), the group labels (group_by, '...')
 * and the exact group key texts; the matcher text parser, table-driven,
 * with its error texts.
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

static const char *doc_cfg = "route:\n"
                             "  receiver: default-receiver\n"
                             "  group_by: [cluster, alertname]\n"
                             "  routes:\n"
                             "  - receiver: database-pager\n"
                             "    group_wait: 10s\n"
                             "    matchers: [service=~\"mysql|cassandra\"]\n"
                             "  - receiver: frontend-pager\n"
                             "    group_by: [product, environment]\n"
                             "    matchers: [team=\"frontend\"]\n"
                             "  - receiver: dev-pager\n"
                             "    matchers: [service=\"inhouse-service\"]\n"
                             "    continue: true\n"
                             "  - receiver: on-call-pager\n"
                             "    matchers: [service=\"inhouse-service\"]\n"
                             "  - receiver: all\n"
                             "    matchers: [team=everything]\n"
                             "    group_by: ['...']\n"
                             "    routes:\n"
                             "      - receiver: nested\n"
                             "        matchers: [sub=\"1\"]\n"
                             "receivers:\n"
                             "  - name: default-receiver\n"
                             "  - name: database-pager\n"
                             "  - name: frontend-pager\n"
                             "  - name: dev-pager\n"
                             "  - name: on-call-pager\n"
                             "  - name: all\n"
                             "  - name: nested\n";

typedef struct route_case {
    const char *labels; /* name=value,... (sorted) */
    const char *receivers;
    const char *group_keys; /* '|' separated */
} route_case_t;

static const route_case_t cases[] = {
    { "alertname=A,cluster=c1,service=mysql", "database-pager",
      "{}/{service=~\"mysql|cassandra\"}:{alertname=\"A\", cluster=\"c1\"}" },
    { "environment=prod,product=shop,team=frontend", "frontend-pager",
      "{}/{team=\"frontend\"}:{environment=\"prod\", product=\"shop\"}" },
    { "alertname=B,service=inhouse-service", "dev-pager,on-call-pager",
      "{}/{service=\"inhouse-service\"}:{alertname=\"B\"}|{}/{service=\"inhouse-service\"}:{alertname=\"B\"}" },
    { "alertname=C,service=other", "default-receiver", "{}:{alertname=\"C\"}" },
    { "a=1,b=2,team=everything", "all", "{}/{team=\"everything\"}:{a=\"1\", b=\"2\", team=\"everything\"}" },
    { "sub=1,team=everything", "nested", "{}/{team=\"everything\"}/{sub=\"1\"}:{sub=\"1\", team=\"everything\"}" },
    { "", "default-receiver", "{}:{}" },
};

static size_t parse_labels(char *s, label_t *ls)
{
    size_t n = 0;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        *eq = 0;
        ls[n].name = str_cstr(tok);
        ls[n].value = str_cstr(eq + 1);
        n++;
    }
    return n;
}

static void test_doc_example(void **state)
{
    (void)state;
    amcfg_t *c = NULL;
    buf_t err = { 0 };
    assert_int_equal(alerts_amcfg_parse("am.yml", doc_cfg, strlen(doc_cfg), fake_types, NFAKE_TYPES, &c, &err), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char tmp[256];
        snprintf(tmp, sizeof(tmp), "%s", cases[i].labels);
        label_t ls[16];
        size_t n = parse_labels(tmp, ls);
        const amcfg_route_t *out[8];
        size_t nr = alerts_route_match(c->root, ls, n, out, 8);
        buf_t recv = { 0 }, keys = { 0 };
        for (size_t k = 0; k < nr; k++) {
            buf_puts(&recv, k ? "," : "");
            buf_puts(&recv, out[k]->receiver);
            label_t gl[16];
            size_t ngl = alerts_route_group_labels(out[k], ls, n, gl);
            buf_puts(&keys, k ? "|" : "");
            alerts_route_group_key(out[k], gl, ngl, &keys);
        }
        assert_string_equal((const char *)recv.data, cases[i].receivers);
        assert_string_equal((const char *)keys.data, cases[i].group_keys);
        buf_fini(&recv);
        buf_fini(&keys);
    }
    assert_int_equal(c->root->routes[0].group_wait_ms, 10000);
    assert_int_equal(c->root->routes[1].group_wait_ms, 30000);
    alerts_amcfg_free(c);
    buf_fini(&err);
}

/* Group keys captured from Alertmanager 0.25's webhook payloads for this
 * config and these alerts (match_re shows anchored; %q escaping). */
static const char *am_cfg = "route:\n"
                            "  receiver: hook\n"
                            "  group_by: [alertname]\n"
                            "  routes:\n"
                            "    - matchers: ['severity=\"page\"', 'team=~\"db|infra\"']\n"
                            "      receiver: hook\n"
                            "      continue: true\n"
                            "      group_by: ['...']\n"
                            "    - match: {service: api}\n"
                            "      match_re: {env: prod|staging}\n"
                            "      receiver: hook\n"
                            "      routes:\n"
                            "        - matchers: ['{instance!=\"a\", job!~\"x.*\"}']\n"
                            "    - matchers: ['team=\"db\"']\n"
                            "      receiver: hook\n"
                            "receivers:\n"
                            "  - name: hook\n";

static void test_am_group_keys(void **state)
{
    (void)state;
    amcfg_t *c = NULL;
    buf_t err = { 0 };
    assert_int_equal(alerts_amcfg_parse("am.yml", am_cfg, strlen(am_cfg), fake_types, NFAKE_TYPES, &c, &err), 0);
    label_t x[] = { { STR_LIT("alertname"), STR_LIT("X") },
                    { STR_LIT("instance"), STR_LIT("b") },
                    { STR_LIT("severity"), STR_LIT("page") },
                    { STR_LIT("team"), STR_LIT("db") } };
    label_t y[] = { { STR_LIT("alertname"), STR_LIT("Y") },
                    { STR_LIT("env"), STR_LIT("prod") },
                    { STR_LIT("instance"), STR_LIT("b") },
                    { STR_LIT("job"), STR_LIT("y") },
                    { STR_LIT("service"), STR_LIT("api") } };
    label_t u[] = { { STR_LIT("alertname"), STR_LIT("U") },
                    { STR_LIT("q"), STR_LIT("\xc3\xa9 \"x\"\\n\x01") },
                    { STR_LIT("severity"), STR_LIT("page") },
                    { STR_LIT("team"), STR_LIT("infra") } };
    struct {
        const label_t *ls;
        size_t n;
        const char *keys;
    } want[] = {
        { x, 4,
          "{}/{severity=\"page\",team=~\"db|infra\"}:{alertname=\"X\", instance=\"b\", severity=\"page\", "
          "team=\"db\"}|{}/{team=\"db\"}:{alertname=\"X\"}" },
        { y, 5, "{}/{env=~\"^(?:prod|staging)$\",service=\"api\"}/{instance!=\"a\",job!~\"x.*\"}:{alertname=\"Y\"}" },
        { u, 4,
          "{}/{severity=\"page\",team=~\"db|infra\"}:{alertname=\"U\", q=\"\xc3\xa9 \\\"x\\\"\\\\n\\x01\", "
          "severity=\"page\", team=\"infra\"}" },
    };
    for (size_t i = 0; i < 3; i++) {
        const amcfg_route_t *out[8];
        size_t nr = alerts_route_match(c->root, want[i].ls, want[i].n, out, 8);
        buf_t keys = { 0 };
        for (size_t k = 0; k < nr; k++) {
            label_t gl[8];
            size_t ngl = alerts_route_group_labels(out[k], want[i].ls, want[i].n, gl);
            buf_puts(&keys, k ? "|" : "");
            alerts_route_group_key(out[k], gl, ngl, &keys);
        }
        assert_string_equal((const char *)keys.data, want[i].keys);
        buf_fini(&keys);
    }
    alerts_amcfg_free(c);
    buf_fini(&err);
}

typedef struct m_case {
    const char *in;
    const char *out; /* matchers formatted, or the error */
} m_case_t;

static const m_case_t mcases[] = {
    { "a=b", "{a=\"b\"}" },
    { "a = \"b c\"", "{a=\"b c\"}" },
    { "{a=\"b\", c!~\"d,e\"}", "{a=\"b\",c!~\"d,e\"}" },
    { "a=~\"x\\\"y\"", "{a=~\"x\\\"y\"}" },
    { "a=\"b\\nc\"", "{a=\"b\\nc\"}" },
    { "a=b\\", "{a=\"b\\\\\"}" },
    { "a!=", "{a!=\"\"}" },
    { "", "{}" },
    { "{}", "{}" },
    { "foo", "bad matcher format: foo" },
    { "=b", "bad matcher format: =b" },
    { "a==\"b\"", "matcher value contains unescaped double quote: =\"b\"" },
    { "a=\"b", "matcher value contains unescaped double quote: \"b" },
    { "a=b,,c=d", "bad matcher format: " },
    { "1a=b", "bad matcher format: 1a=b" },
    /* escapes other than \n \" \\ stay as written; stray quotes are errors */
    { "a=\"b\\tc\"", "{a=\"b\\\\tc\"}" },
    { "a=b\"c", "matcher value contains unescaped double quote: b\"c" },
    { "a=\"b\"c\"", "matcher value contains unescaped double quote: \"b\"c\"" },
    { "a=\"\xff\"", "matcher value not valid UTF-8: \"\xff\"" },
};

static void test_matchers(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(mcases) / sizeof(mcases[0]); i++) {
        matcher_t *ms = NULL;
        size_t n = 0;
        buf_t out = { 0 };
        if (alerts_route_parse_matchers(mcases[i].in, strlen(mcases[i].in), &ms, &n, &out) == 0) {
            matcher_t **pv = mem_alloc((n + 1) * sizeof(*pv));
            for (size_t k = 0; k < n; k++) {
                pv[k] = &ms[k];
            }
            alerts_route_fmt_matchers(pv, n, &out);
            mem_free(pv);
        }
        if (strcmp((const char *)out.data, mcases[i].out) != 0) {
            fprintf(stderr, "case %s: got %s want %s\n", mcases[i].in, (const char *)out.data, mcases[i].out);
        }
        assert_string_equal((const char *)out.data, mcases[i].out);
        for (size_t k = 0; k < n; k++) {
            matcher_fini(&ms[k]);
        }
        mem_free(ms);
        buf_fini(&out);
    }
}

static void test_fingerprint(void **state)
{
    (void)state;
    label_t a[] = { { STR_LIT("a"), STR_LIT("1") }, { STR_LIT("b"), STR_LIT("2") } };
    label_t b[] = { { STR_LIT("a"), STR_LIT("1") }, { STR_LIT("b"), STR_LIT("3") } };
    assert_int_equal(alerts_route_fingerprint(a, 2), alerts_route_fingerprint(a, 2));
    assert_int_not_equal(alerts_route_fingerprint(a, 2), alerts_route_fingerprint(b, 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_example),
        cmocka_unit_test(test_matchers),
        cmocka_unit_test(test_am_group_keys),
        cmocka_unit_test(test_fingerprint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

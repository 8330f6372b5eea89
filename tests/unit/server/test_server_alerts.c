/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_server_alerts: pharosd's rule endpoints over HTTP (a server in this
 * process, rules evaluated by direct calls at fixed times): every filter
 * of /api/v1/rules with its exact answer and error texts, pagination,
 * /api/v1/alerts, POST /-/reload (refused with file:line, then accepted),
 * and the rule metrics in /metrics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/httpc.h"
#include "common/mem.h"
#include "server/server.h"
#include "server/server_int.h"
#include "testsupport.h"

#define T0 1700000000000LL

typedef struct fx {
    char dir[256];
    char rules[300];
    char flag[400];
    char listen[64];
    char data[300];
    char *argv[8];
    server_config_t cfg;
    server_t *s;
    char base[64];
    httpc_t *c;
} fx_t;

static const char *rules_text = "groups:\n"
                                "- name: b-alerts\n"
                                "  rules:\n"
                                "  - alert: Down\n"
                                "    expr: up == 0\n"
                                "    labels: {severity: page}\n"
                                "    annotations: {summary: '{{ $labels.job }} down'}\n"
                                "  - alert: Quiet\n"
                                "    expr: up == 42\n"
                                "    for: 5m\n"
                                "    labels: {severity: ticket}\n"
                                "- name: a-records\n"
                                "  interval: 30s\n"
                                "  rules:\n"
                                "  - record: job:up:sum\n"
                                "    expr: sum by (job) (up)\n";

static void write_rules(fx_t *f, const char *text)
{
    FILE *fp = fopen(f->rules, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static int setup(void **state)
{
    fx_t *f = mem_calloc(1, sizeof(*f));
    assert_int_equal(ts_tempdir("srvalerts", f->dir, sizeof(f->dir)), 0);
    snprintf(f->rules, sizeof(f->rules), "%s/rules.yml", f->dir);
    write_rules(f, rules_text);
    snprintf(f->flag, sizeof(f->flag), "--rules.files=%s", f->rules);
    snprintf(f->listen, sizeof(f->listen), "--web.listen-address=127.0.0.1:%u", ts_free_port());
    snprintf(f->data, sizeof(f->data), "--storage.path=%s/data", f->dir);
    char *argv[] = { "pharosd", f->flag, f->listen, f->data, "--rules.evaluation-interval=1h", NULL };
    memcpy(f->argv, argv, sizeof(argv));
    char err[1024];
    assert_int_equal(server_config_load(5, f->argv, &f->cfg, stdout, err, sizeof(err)), SERVER_CFG_OK);
    assert_int_equal(server_start(&f->cfg, &f->s, err, sizeof(err)), 0);
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", server_port(f->s));
    f->c = httpc_create(10000);
    /* Data and one evaluation of both groups at T0. */
    label_t ls[2] = { { STR_LIT("__name__"), STR_LIT("up") }, { STR_LIT("job"), STR_LIT("node") } };
    tsdb_sample_t sm = { .t = T0 - 1000, .v = 0 };
    tsdb_input_t in = { .labels = ls, .nlabels = 2, .samples = &sm, .nsamples = 1 };
    tsdb_append_result_t res;
    assert_int_equal(tsdb_append(server_tsdb(f->s), &in, 1, &res), 0);
    assert_int_equal(alerts_mgr_eval_group(f->s->rules, 0, T0), 0);
    assert_int_equal(alerts_mgr_eval_group(f->s->rules, 1, T0), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    httpc_destroy(f->c);
    server_stop(f->s);
    server_config_free(&f->cfg);
    ts_rmrf(f->dir);
    mem_free(f);
    return 0;
}

static char *get(fx_t *f, const char *path, long *code)
{
    char url[1024];
    snprintf(url, sizeof(url), "%s%s", f->base, path);
    buf_t body;
    buf_init(&body);
    httpc_result_t r;
    httpc_get(f->c, url, NULL, &body, &r);
    *code = r.http_code;
    buf_putc(&body, 0);
    size_t len;
    return (char *)buf_steal(&body, &len);
}

/* Replace every "evaluationTime":<number> and "lastEvaluation":"..." value
 * by a fixed token, so answers compare exactly. */
static void scrub(char *s)
{
    static const char *const keys[] = { "\"evaluationTime\":", "\"lastEvaluation\":", "\"activeAt\":" };
    for (size_t k = 0; k < 3; k++) {
        char *p = s;
        while ((p = strstr(p, keys[k])) != NULL) {
            char *v = p + strlen(keys[k]);
            char *end = v;
            if (*end == '"') {
                end = strchr(end + 1, '"') + 1;
            } else {
                end += strspn(end, "0123456789.e-+");
            }
            memmove(v + 1, end, strlen(end) + 1);
            *v = 'X';
            p = v;
        }
    }
}

static void expect(fx_t *f, const char *path, long want_code, const char *want)
{
    long code;
    char *got = get(f, path, &code);
    scrub(got);
    if (code != want_code || strcmp(got, want) != 0) {
        fprintf(stderr, "GET %s\n got %ld %s\nwant %ld %s\n", path, code, got, want_code, want);
    }
    assert_int_equal(code, want_code);
    assert_string_equal(got, want);
    mem_free(got);
}

#define OK(d) "{\"status\":\"success\",\"data\":" d "}"
#define BAD(m) "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"" m "\"}"
#define DOWN_ALERT                                                                                                     \
    "{\"labels\":{\"alertname\":\"Down\",\"job\":\"node\",\"severity\":\"page\"},\"annotations\":{\"summary\":\"node " \
    "down\"},\"state\":\"firing\",\"activeAt\":X,\"value\":\"0e+00\"}"
#define DOWN_RULE(alerts)                                                                                              \
    "{\"state\":\"firing\",\"name\":\"Down\",\"query\":\"up == 0\",\"duration\":0,\"keepFiringFor\":0,\"labels\":{"    \
    "\"severity\":\"page\"},\"annotations\":{\"summary\":\"{{ $labels.job }} down\"},\"alerts\":" alerts               \
    ",\"health\":\"ok\",\"evaluationTime\":X,\"lastEvaluation\":X,\"type\":\"alerting\"}"
#define QUIET_RULE(alerts)                                                                                             \
    "{\"state\":\"inactive\",\"name\":\"Quiet\",\"query\":\"up == 42\",\"duration\":300,\"keepFiringFor\":0,"          \
    "\"labels\":{\"severity\":\"ticket\"},\"annotations\":{},\"alerts\":" alerts                                       \
    ",\"health\":\"ok\",\"evaluationTime\":X,\"lastEvaluation\":X,\"type\":\"alerting\"}"
#define REC_RULE                                                                                                       \
    "{\"name\":\"job:up:sum\",\"query\":\"sum by (job) (up)\",\"labels\":{},\"health\":\"ok\",\"evaluationTime\":X,"   \
    "\"lastEvaluation\":X,\"type\":\"recording\"}"

static char *group_json(fx_t *f, const char *name, const char *rules, int interval)
{
    char *out = mem_alloc(8192);
    snprintf(out, 8192,
             "{\"name\":\"%s\",\"file\":\"%s\",\"rules\":[%s],\"interval\":%d,\"limit\":0,\"evaluationTime\":X,"
             "\"lastEvaluation\":X}",
             name, f->rules, rules, interval);
    return out;
}

static void test_rules_filters(void **state)
{
    fx_t *f = *state;
    char *ga = group_json(f, "a-records", REC_RULE, 30);
    char *gb = group_json(f, "b-alerts", DOWN_RULE("[" DOWN_ALERT "]") "," QUIET_RULE("[]"), 3600);
    char *gb_alert_only = group_json(f, "b-alerts", DOWN_RULE("[" DOWN_ALERT "]"), 3600);
    char *gb_noalerts = group_json(f, "b-alerts", DOWN_RULE("null") "," QUIET_RULE("null"), 3600);
    char want[16384];
    /* Groups sorted by file and name, as Prometheus lists them. */
    snprintf(want, sizeof(want), OK("{\"groups\":[%s,%s]}"), ga, gb);
    expect(f, "/api/v1/rules", 200, want);
    snprintf(want, sizeof(want), OK("{\"groups\":[%s]}"), gb);
    expect(f, "/api/v1/rules?type=alert", 200, want);
    snprintf(want, sizeof(want), OK("{\"groups\":[%s]}"), ga);
    expect(f, "/api/v1/rules?type=record", 200, want);
    snprintf(want, sizeof(want), OK("{\"groups\":[%s]}"), gb_alert_only);
    expect(f, "/api/v1/rules?rule_name[]=Down", 200, want);
    expect(f, "/api/v1/rules?match[]=%7Bseverity%3D%22page%22%7D", 200, want);
    expect(f, "/api/v1/rules?rule_name[]=Down&exclude_alerts=F", 200, want); /* Go's ParseBool spellings */
    snprintf(want, sizeof(want), OK("{\"groups\":[%s]}"), gb_noalerts);
    expect(f, "/api/v1/rules?rule_group[]=b-alerts&exclude_alerts=true", 200, want);
    expect(f, "/api/v1/rules?file[]=/nonexistent", 200, OK("{\"groups\":[]}"));
    expect(f, "/api/v1/rules?type=x", 400, BAD("invalid parameter \\\"type\\\": not supported value \\\"x\\\""));
    expect(f, "/api/v1/rules?exclude_alerts=maybe", 400,
           BAD("invalid parameter \\\"exclude_alerts\\\": strconv.ParseBool: invalid syntax"));
    expect(f, "/api/v1/rules?match[]=%7B", 400,
           BAD("invalid parameter \\\"match[]\\\": 1:2: parse error: unexpected end of input inside braces"));
    expect(f, "/api/v1/rules?group_limit=0", 400,
           BAD("invalid parameter \\\"group_limit\\\": group_limit needs to be greater than 0"));
    /* Pagination: one group per page, the token leads to the next. */
    long code;
    char *page = get(f, "/api/v1/rules?group_limit=1", &code);
    assert_int_equal(code, 200);
    const char *tok = strstr(page, "\"groupNextToken\":\"");
    assert_non_null(tok);
    char token[64];
    snprintf(token, sizeof(token), "%.16s", tok + strlen("\"groupNextToken\":\""));
    assert_non_null(strstr(page, "\"name\":\"a-records\""));
    assert_null(strstr(page, "\"name\":\"b-alerts\""));
    mem_free(page);
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/rules?group_limit=1&group_next_token=%s", token);
    snprintf(want, sizeof(want), OK("{\"groups\":[%s]}"), gb);
    expect(f, path, 200, want);
    expect(f, "/api/v1/rules?group_limit=1&group_next_token=nope", 400,
           BAD("invalid parameter \\\"group_next_token\\\": invalid group_next_token"));
    mem_free(ga);
    mem_free(gb);
    mem_free(gb_alert_only);
    mem_free(gb_noalerts);
}

static void test_alerts_list(void **state)
{
    fx_t *f = *state;
    expect(f, "/api/v1/alerts", 200, OK("{\"alerts\":[" DOWN_ALERT "]}"));
}

static void test_reload(void **state)
{
    fx_t *f = *state;
    char url[256];
    snprintf(url, sizeof(url), "%s/-/reload", f->base);
    write_rules(f, "groups:\n- name: x\n  rules:\n  - record: 'bad name'\n    expr: up\n");
    buf_t body;
    buf_init(&body);
    httpc_result_t r;
    httpc_post(f->c, url, NULL, "", 0, &body, &r);
    assert_int_equal(r.http_code, 500);
    buf_putc(&body, 0);
    char want[600];
    snprintf(want, sizeof(want), "failed to reload config: %s:4:", f->rules);
    assert_non_null(strstr((char *)body.data, want));
    assert_non_null(strstr((char *)body.data, "invalid recording rule name: bad name"));
    /* The old rules still answer. */
    long code;
    char *rules = get(f, "/api/v1/rules", &code);
    assert_non_null(strstr(rules, "\"b-alerts\""));
    mem_free(rules);
    write_rules(f, "groups:\n- name: x\n  rules:\n  - record: good\n    expr: up\n");
    buf_reset(&body);
    httpc_post(f->c, url, NULL, "", 0, &body, &r);
    assert_int_equal(r.http_code, 200);
    rules = get(f, "/api/v1/rules", &code);
    assert_non_null(strstr(rules, "\"good\""));
    assert_null(strstr(rules, "\"b-alerts\""));
    mem_free(rules);
    char *m = get(f, "/metrics", &code);
    assert_non_null(strstr(m, "pharos_rules_reload_failures_total 1\n"));
    assert_non_null(strstr(m, "pharos_rules_last_reload_successful 1\n"));
    assert_non_null(strstr(m, "prometheus_rule_group_rules{rule_group="));
    mem_free(m);
    /* GET is not a reload. */
    char *g = get(f, "/-/reload", &code);
    assert_int_equal(code, 405);
    mem_free(g);
    buf_fini(&body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rules_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alerts_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

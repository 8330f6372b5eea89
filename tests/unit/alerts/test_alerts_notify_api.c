/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_alerts_notify_api: alerts/alerts_notify_api.c over a real httpd on
 * loopback: POST and GET /api/v2/alerts (fields, filters, validation
 * texts), silences round trips (create, list, get, update, expire, expire
 * again, unknown id, validation), silences surviving a restart, status,
 * receivers, and unknown paths; status with every receiver's secrets
 * redacted (and the redaction's edge cases); bounds on silences and on
 * alerts' label sets; inhibitedBy through the per-request index.
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
#include "common/httpd.h"
#include "notify_fake.h"

#define T0 1700000000000LL /* 2023-11-14T22:13:20Z */

static const char *cfg_text = "route:\n"
                              "  receiver: r\n"
                              "  group_by: [alertname]\n"
                              "receivers:\n"
                              "  - name: r\n"
                              "    fake_configs: [{name: f}]\n"
                              "  - name: other\n";

typedef struct fx {
    char dir[256], cfg[300], data[300];
    fake_clock_t clock;
    alerts_notifier_t *n;
    httpd_t *h;
    httpc_t *c;
    char base[64];
} fx_t;

static void handler(void *ctx, http_req_t *req, http_resp_t *resp)
{
    fx_t *f = ctx;
    alerts_notifier_api(f->n, req, resp);
}

static void fx_open(fx_t *f)
{
    alerts_notifier_opts_t o = { .config_file = f->cfg, .data_dir = f->data, .clock = { fake_clock_now, &f->clock } };
    alerts_notify_hooks_t hk = fake_hooks();
    fake_open(&o, &hk, &f->n);
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    fake_reset();
    fake_tmpdir(f->dir);
    snprintf(f->cfg, sizeof(f->cfg), "%s/am.yml", f->dir);
    snprintf(f->data, sizeof(f->data), "%s/data", f->dir);
    fake_write(f->cfg, cfg_text);
    pthread_mutex_init(&f->clock.mu, NULL);
    f->clock.now = T0;
    fx_open(f);
    static const httpd_route_t routes[] = {
        { .method = NULL, .path = "/api/v2/*", .fn = handler },
        { .method = "DELETE", .path = "/api/v2/silence/*", .fn = handler },
    };
    httpd_opts_t ho = { .listen = "127.0.0.1:0", .routes = routes, .nroutes = 2, .ctx = f };
    char err[256];
    assert_int_equal(httpd_start(&ho, &f->h, err, sizeof(err)), 0);
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", httpd_port(f->h));
    f->c = httpc_create(5000);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    httpc_destroy(f->c);
    httpd_stop(f->h);
    alerts_notifier_destroy(f->n);
    fake_rmrf(f->dir);
    pthread_mutex_destroy(&f->clock.mu);
    free(f);
    return 0;
}

/* Request; returns the status code, body in out. */
static long req(fx_t *f, const char *method, const char *path, const char *body, buf_t *out)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", f->base, path);
    const char *hdrs[] = { "Content-Type: application/json", NULL };
    httpc_result_t res;
    buf_reset(out);
    httpc_request(f->c, method, url, hdrs, body, body ? strlen(body) : 0, out, &res);
    return res.http_code;
}

static json_t *parse(const buf_t *b)
{
    json_error_t je;
    json_t *j = json_loadb((const char *)b->data, b->len, 0, &je);
    if (!j) {
        fprintf(stderr, "not JSON: %.*s\n", (int)b->len, (const char *)b->data);
    }
    assert_non_null(j);
    return j;
}

static void test_alerts(void **state)
{
    fx_t *f = *state;
    buf_t b = { 0 };
    assert_int_equal(
        req(f, "POST", "/api/v2/alerts",
            "[{\"labels\":{\"alertname\":\"A\",\"job\":\"x\",\"empty\":\"\"},\"annotations\":{\"s\":\"1\"},"
            "\"generatorURL\":\"http://g\"},"
            "{\"labels\":{\"alertname\":\"B\"},\"startsAt\":\"2023-11-14T22:00:00Z\","
            "\"endsAt\":\"2023-11-14T23:00:00Z\"}]",
            &b),
        200);
    assert_int_equal(req(f, "GET", "/api/v2/alerts", NULL, &b), 200);
    json_t *j = parse(&b);
    assert_int_equal(json_array_size(j), 2);
    json_t *a = NULL;
    for (size_t i = 0; i < 2; i++) {
        json_t *x = json_array_get(j, i);
        if (strcmp(json_string_value(json_object_get(json_object_get(x, "labels"), "alertname")), "A") == 0) {
            a = x;
        }
    }
    assert_non_null(a);
    assert_int_equal(json_object_size(json_object_get(a, "labels")), 2);
    assert_string_equal(json_string_value(json_object_get(a, "startsAt")), "2023-11-14T22:13:20.000Z");
    assert_string_equal(json_string_value(json_object_get(a, "endsAt")), "2023-11-14T22:18:20.000Z");
    assert_string_equal(json_string_value(json_object_get(a, "generatorURL")), "http://g");
    assert_int_equal(strlen(json_string_value(json_object_get(a, "fingerprint"))), 16);
    json_t *st = json_object_get(a, "status");
    assert_string_equal(json_string_value(json_object_get(st, "state")), "active");
    assert_int_equal(json_array_size(json_object_get(st, "silencedBy")), 0);
    json_t *rc = json_array_get(json_object_get(a, "receivers"), 0);
    assert_string_equal(json_string_value(json_object_get(rc, "name")), "r");
    json_decref(j);
    /* sorted by fingerprint; field order as go-swagger's */
    assert_memory_equal(b.data, "[{\"annotations\":", 16);
    /* filter */
    assert_int_equal(req(f, "GET", "/api/v2/alerts?filter=alertname%3D%22B%22", NULL, &b), 200);
    j = parse(&b);
    assert_int_equal(json_array_size(j), 1);
    json_decref(j);
    assert_int_equal(req(f, "GET", "/api/v2/alerts?receiver=nope", NULL, &b), 200);
    assert_string_equal((const char *)b.data, "[]\n");
    assert_int_equal(req(f, "GET", "/api/v2/alerts?filter=foo", NULL, &b), 400);
    assert_string_equal((const char *)b.data, "\"bad matcher format: foo\"\n");
    /* validation: the valid alert is taken, the others named */
    assert_int_equal(req(f, "POST", "/api/v2/alerts",
                         "[{\"labels\":{}},{\"labels\":{\"a-b\":\"x\"}},{\"labels\":{\"alertname\":\"C\"}},"
                         "{\"labels\":{\"a\":\"1\"},\"startsAt\":\"2023-11-14T22:13:20Z\",\"endsAt\":"
                         "\"2023-11-14T22:00:00Z\"}]",
                         &b),
                     400);
    assert_string_equal((const char *)b.data, "\"at least one label pair required; invalid label set: invalid name "
                                              "\\\"a-b\\\"; start time must be before end time\"\n");
    assert_int_equal(req(f, "GET", "/api/v2/alerts", NULL, &b), 200);
    j = parse(&b);
    assert_int_equal(json_array_size(j), 3);
    json_decref(j);
    assert_int_equal(req(f, "POST", "/api/v2/alerts", "{\"labels\":{}}", &b), 400);
    assert_string_equal((const char *)b.data,
                        "{\"code\":400,\"message\":\"parsing alerts body from \\\"\\\" failed, because json: cannot "
                        "unmarshal object into Go value of type models.PostableAlerts\"}\n");
    /* groups: one per alertname, sorted by labels */
    assert_int_equal(req(f, "GET", "/api/v2/alerts/groups", NULL, &b), 200);
    j = parse(&b);
    assert_int_equal(json_array_size(j), 3);
    json_t *g0 = json_array_get(j, 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(g0, "labels"), "alertname")), "A");
    assert_string_equal(json_string_value(json_object_get(json_object_get(g0, "receiver"), "name")), "r");
    assert_int_equal(json_array_size(json_object_get(g0, "alerts")), 1);
    json_decref(j);
    assert_memory_equal(b.data, "[{\"alerts\":[{\"annotations\":", 27);
    assert_int_equal(req(f, "GET", "/api/v2/alerts/groups?filter=alertname%3D%22C%22", NULL, &b), 200);
    j = parse(&b);
    assert_int_equal(json_array_size(j), 1);
    json_decref(j);
    assert_int_equal(req(f, "GET", "/api/v2/alerts/groups?receiver=other", NULL, &b), 200);
    assert_string_equal((const char *)b.data, "[]\n");
    buf_fini(&b);
}

#define SIL_BODY(extra, start, end)                                                                                    \
    "{" extra "\"matchers\":[{\"name\":\"alertname\",\"value\":\"A\",\"isRegex\":false,\"isEqual\":true}],"            \
    "\"startsAt\":\"" start "\",\"endsAt\":\"" end "\",\"createdBy\":\"me\",\"comment\":\"maint\"}"

static void test_silences(void **state)
{
    fx_t *f = *state;
    buf_t b = { 0 };
    req(f, "POST", "/api/v2/alerts", "[{\"labels\":{\"alertname\":\"A\"}},{\"labels\":{\"alertname\":\"B\"}}]", &b);
    assert_int_equal(
        req(f, "POST", "/api/v2/silences", SIL_BODY("", "2023-11-14T22:00:00Z", "2023-11-15T00:00:00Z"), &b), 200);
    json_t *j = parse(&b);
    char id[64];
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(j, "silenceID")));
    assert_int_equal(strlen(id), 36);
    json_decref(j);
    /* the alert is suppressed, silenced by it */
    assert_int_equal(req(f, "GET", "/api/v2/alerts?filter=alertname%3DA", NULL, &b), 200);
    j = parse(&b);
    json_t *st = json_object_get(json_array_get(j, 0), "status");
    assert_string_equal(json_string_value(json_object_get(st, "state")), "suppressed");
    assert_string_equal(json_string_value(json_array_get(json_object_get(st, "silencedBy"), 0)), id);
    json_decref(j);
    assert_int_equal(req(f, "GET", "/api/v2/alerts?silenced=false", NULL, &b), 200);
    j = parse(&b);
    assert_int_equal(json_array_size(j), 1);
    json_decref(j);
    /* list, get */
    assert_int_equal(req(f, "GET", "/api/v2/silences", NULL, &b), 200);
    j = parse(&b);
    assert_int_equal(json_array_size(j), 1);
    json_t *s0 = json_array_get(j, 0);
    assert_string_equal(json_string_value(json_object_get(json_object_get(s0, "status"), "state")), "active");
    assert_string_equal(json_string_value(json_object_get(s0, "startsAt")), "2023-11-14T22:13:20.000Z");
    json_decref(j);
    assert_int_equal(req(f, "GET", "/api/v2/silences?filter=alertname%3DB", NULL, &b), 200);
    assert_string_equal((const char *)b.data, "[]\n");
    char path[128];
    snprintf(path, sizeof(path), "/api/v2/silence/%s", id);
    assert_int_equal(req(f, "GET", path, NULL, &b), 200);
    j = parse(&b);
    assert_string_equal(json_string_value(json_object_get(j, "comment")), "maint");
    json_decref(j);
    /* update in place: same matchers and start, new end */
    char body[1024];
    snprintf(body, sizeof(body), SIL_BODY("\"id\":\"%s\",", "2023-11-14T22:13:20Z", "2023-11-16T00:00:00Z"), id);
    assert_int_equal(req(f, "POST", "/api/v2/silences", body, &b), 200);
    j = parse(&b);
    assert_string_equal(json_string_value(json_object_get(j, "silenceID")), id);
    json_decref(j);
    /* errors */
    assert_int_equal(
        req(f, "POST", "/api/v2/silences", SIL_BODY("", "2023-11-14T22:00:00Z", "2023-11-14T22:10:00Z"), &b), 400);
    assert_string_equal((const char *)b.data, "\"Failed to create silence: end time can't be in the past\"\n");
    assert_int_equal(
        req(f, "POST", "/api/v2/silences", SIL_BODY("", "2023-11-15T22:00:00Z", "2023-11-15T22:00:00Z"), &b), 400);
    assert_string_equal((const char *)b.data, "\"Failed to create silence: start time must be before end time\"\n");
    assert_int_equal(req(f, "POST", "/api/v2/silences",
                         SIL_BODY("\"id\":\"nope\",", "2023-11-14T22:00:00Z", "2023-11-15T22:10:00Z"), &b),
                     404);
    assert_string_equal((const char *)b.data, "\"silence not found\"\n");
    assert_int_equal(req(f, "POST", "/api/v2/silences", "{\"matchers\":[]}", &b), 422);
    assert_string_equal((const char *)b.data, "{\"code\":602,\"message\":\"comment in body is required\"}\n");
    assert_int_equal(req(f, "POST", "/api/v2/silences",
                         "{\"matchers\":[],\"startsAt\":\"2023-11-14T22:00:00Z\",\"endsAt\":\"2030-11-14T22:00:00Z\","
                         "\"createdBy\":\"me\",\"comment\":\"c\"}",
                         &b),
                     422);
    assert_string_equal((const char *)b.data,
                        "{\"code\":612,\"message\":\"matchers in body should have at least 1 items\"}\n");
    assert_int_equal(
        req(f, "POST", "/api/v2/silences",
            "{\"matchers\":[{\"name\":\"a\",\"value\":\"\",\"isRegex\":false}],\"startsAt\":"
            "\"2023-11-14T22:00:00Z\",\"endsAt\":\"2030-11-14T22:00:00Z\",\"createdBy\":\"me\",\"comment\":\"c\"}",
            &b),
        400);
    assert_string_equal((const char *)b.data,
                        "\"silence invalid: at least one matcher must not match the empty string\"\n");
    assert_int_equal(req(f, "POST", "/api/v2/silences", "nope", &b), 400);
    /* expire, expire again, unknown */
    assert_int_equal(req(f, "DELETE", path, NULL, &b), 200);
    assert_int_equal(req(f, "GET", path, NULL, &b), 200);
    j = parse(&b);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "status"), "state")), "expired");
    json_decref(j);
    /* Alertmanager 0.25: expiring an expired silence is a 200, an unknown
     * one a 500, a malformed id a 422 */
    assert_int_equal(req(f, "DELETE", path, NULL, &b), 200);
    const char *unknown = "/api/v2/silence/0c2b5d8a-5f6b-4ba6-a2a6-3a0fd8a3e5ab";
    assert_int_equal(req(f, "DELETE", unknown, NULL, &b), 500);
    assert_string_equal((const char *)b.data, "\"silence not found\"\n");
    assert_int_equal(req(f, "GET", unknown, NULL, &b), 404);
    assert_int_equal(b.len, 0);
    assert_int_equal(req(f, "GET", "/api/v2/silence/nope", NULL, &b), 422);
    assert_string_equal((const char *)b.data,
                        "{\"code\":601,\"message\":\"silenceID in path must be of type uuid: \\\"nope\\\"\"}\n");
    /* survives a restart */
    alerts_notifier_destroy(f->n);
    f->n = NULL;
    fx_open(f);
    assert_int_equal(req(f, "GET", path, NULL, &b), 200);
    buf_fini(&b);
}

static void test_status_receivers(void **state)
{
    fx_t *f = *state;
    buf_t b = { 0 };
    assert_int_equal(req(f, "GET", "/api/v2/status", NULL, &b), 200);
    json_t *j = parse(&b);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "config"), "original")), cfg_text);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "cluster"), "status")), "disabled");
    assert_string_equal(json_string_value(json_object_get(j, "uptime")), "2023-11-14T22:13:20.000Z");
    json_decref(j);
    assert_int_equal(req(f, "GET", "/api/v2/receivers", NULL, &b), 200);
    assert_string_equal((const char *)b.data, "[{\"name\":\"r\"},{\"name\":\"other\"}]\n");
    /* empty store */
    assert_int_equal(req(f, "GET", "/api/v2/alerts", NULL, &b), 200);
    assert_string_equal((const char *)b.data, "[]\n");
    assert_int_equal(req(f, "GET", "/api/v2/alerts/groups", NULL, &b), 200);
    assert_string_equal((const char *)b.data, "[]\n");
    assert_int_equal(req(f, "GET", "/api/v2/silences", NULL, &b), 200);
    assert_string_equal((const char *)b.data, "[]\n");
    assert_int_equal(req(f, "GET", "/api/v2/nothing", NULL, &b), 404);
    assert_int_equal(req(f, "POST", "/api/v2/status", "{}", &b), 405);
    buf_fini(&b);
}

/* Times are RFC 3339 strings only; bounds on silences and on alerts'
 * label sets are answered 400 and silences refused are counted. */
static void test_bounds(void **state)
{
    fx_t *f = *state;
    buf_t b = { 0 };
    assert_int_equal(req(f, "POST", "/api/v2/silences",
                         "{\"matchers\":[{\"name\":\"a\",\"value\":\"b\",\"isRegex\":false}],\"startsAt\":"
                         "1700000000000,\"endsAt\":\"2030-11-14T22:00:00Z\",\"createdBy\":\"me\",\"comment\":\"c\"}",
                         &b),
                     400);
    assert_string_equal((const char *)b.data,
                        "{\"code\":400,\"message\":\"parsing silence body from \\\"\\\" failed, because json: cannot "
                        "unmarshal number into Go value of type string\"}\n");
    assert_int_equal(req(f, "GET", "/api/v2/silences", NULL, &b), 200);
    assert_string_equal((const char *)b.data, "[]\n");
    /* 65 matchers */
    buf_t body = { 0 };
    buf_puts(&body, "{\"matchers\":[");
    for (int i = 0; i < 65; i++) {
        buf_printf(&body, "%s{\"name\":\"l%d\",\"value\":\"v\",\"isRegex\":false}", i ? "," : "", i);
    }
    buf_puts(&body, "],\"startsAt\":\"2023-11-14T22:00:00Z\",\"endsAt\":\"2030-11-14T22:00:00Z\",\"createdBy\":\"me\","
                    "\"comment\":\"c\"}");
    assert_int_equal(req(f, "POST", "/api/v2/silences", (const char *)body.data, &b), 400);
    assert_string_equal((const char *)b.data, "\"silence invalid: too many matchers (65, at most 64)\"\n");
    /* a 4097-byte comment */
    buf_reset(&body);
    buf_puts(&body, "{\"matchers\":[{\"name\":\"a\",\"value\":\"b\",\"isRegex\":false}],\"startsAt\":"
                    "\"2023-11-14T22:00:00Z\",\"endsAt\":\"2030-11-14T22:00:00Z\",\"createdBy\":\"me\",\"comment\":\"");
    for (int i = 0; i < 4097; i++) {
        buf_putc(&body, 'x');
    }
    buf_puts(&body, "\"}");
    assert_int_equal(req(f, "POST", "/api/v2/silences", (const char *)body.data, &b), 400);
    assert_string_equal((const char *)b.data,
                        "\"silence invalid: comment and createdBy may hold at most 4096 bytes each\"\n");
    /* 10,000 live silences: one more is refused */
    pthread_mutex_lock(&f->n->mu);
    for (size_t i = 0; i < AN_SIL_MAX_LIVE; i++) {
        json_t *j = json_loads("{\"matchers\":[{\"name\":\"a\",\"value\":\"b\",\"isRegex\":false}],\"startsAt\":"
                               "\"2023-11-14T22:00:00Z\",\"endsAt\":\"2030-11-14T22:00:00Z\",\"createdBy\":\"me\","
                               "\"comment\":\"c\"}",
                               0, NULL);
        an_silence_t *sil = NULL;
        buf_t err = { 0 };
        assert_int_equal(alerts_silence_from_json(j, false, &sil, &err), 0);
        char id[40];
        assert_int_equal(alerts_silence_set(&f->n->d.silences, sil, T0, id, &err), 0);
        buf_fini(&err);
        json_decref(j);
    }
    pthread_mutex_unlock(&f->n->mu);
    assert_int_equal(
        req(f, "POST", "/api/v2/silences", SIL_BODY("", "2023-11-14T22:00:00Z", "2023-11-15T00:00:00Z"), &b), 400);
    assert_string_equal((const char *)b.data,
                        "\"too many silences: 10000 are active or pending (at most 10000); expire some first\"\n");
    buf_t m = { 0 };
    alerts_notifier_metrics(f->n, &m);
    assert_non_null(strstr((const char *)m.data, "pharos_notifier_silences_rejected_total 3\n"));
    buf_fini(&m);
    /* alerts: 129 labels; a 64 KiB + 1 value */
    buf_reset(&body);
    buf_puts(&body, "[{\"labels\":{\"alertname\":\"A\"");
    for (int i = 0; i < 128; i++) {
        buf_printf(&body, ",\"l%d\":\"v\"", i);
    }
    buf_puts(&body, "}}]");
    assert_int_equal(req(f, "POST", "/api/v2/alerts", (const char *)body.data, &b), 400);
    assert_string_equal((const char *)b.data, "\"invalid label set: too many labels (129, at most 128)\"\n");
    buf_reset(&body);
    buf_puts(&body, "[{\"labels\":{\"alertname\":\"A\"},\"annotations\":{\"d\":\"");
    for (int i = 0; i < (64 << 10) + 1; i++) {
        buf_putc(&body, 'x');
    }
    buf_puts(&body, "\"}}]");
    assert_int_equal(req(f, "POST", "/api/v2/alerts", (const char *)body.data, &b), 400);
    assert_string_equal((const char *)b.data,
                        "\"invalid annotations: label name longer than 1024 bytes or value longer "
                        "than 65536 bytes\"\n");
    assert_int_equal(req(f, "GET", "/api/v2/alerts", NULL, &b), 200);
    assert_string_equal((const char *)b.data, "[]\n");
    buf_fini(&body);
    buf_fini(&b);
}

/* Every receiver with its secrets inline, block and flow style, quoted,
 * block scalars, and URLs with a password: none of SEKRETnn is served. */
static const char *secret_cfg = "global:\n"
                                "  resolve_timeout: 1m\n"
                                "  slack_api_url: https://hooks.slack.com/services/SEKRET01\n"
                                "  smtp_smarthost: mail.example.com:587\n"
                                "  smtp_from: alerts@example.com\n"
                                "  smtp_auth_username: ops\n"
                                "  smtp_auth_password: \"SEKRET02\"\n"
                                "  smtp_auth_secret: 'SEKRET03'\n"
                                "route:\n"
                                "  receiver: pager\n"
                                "receivers:\n"
                                "  - name: pager\n"
                                "    pagerduty_configs:\n"
                                "      - routing_key: SEKRET04\n"
                                "        url: https://pd:SEKRET05@events.example.com/v2/enqueue\n"
                                "      - {routing_key: SEKRET06, severity: critical}\n"
                                "  - name: mail\n"
                                "    email_configs:\n"
                                "      - to: ops@example.com\n"
                                "        auth_password: SEKRET07 # inline\n"
                                "        auth_secret: |\n"
                                "          SEKRET08\n"
                                "          SEKRET09\n"
                                "        send_resolved: true\n"
                                "  - name: chat\n"
                                "    slack_configs:\n"
                                "      - api_url: https://hooks.slack.com/services/SEKRET10\n"
                                "        channel: '#alerts'\n"
                                "      - {channel: '#b', \"api_url\": \"https://x/SEKRET11\"}\n"
                                "  - name: gh\n"
                                "    github_configs:\n"
                                "      - {owner: o, repo: r, token: SEKRET12}\n"
                                "      - owner: o\n"
                                "        repo: r\n"
                                "        token: >-\n"
                                "          SEKRET13\n"
                                "        api_url: https://u:SEKRET14@github.example.com/api\n";

static void status_text(fx_t *f, buf_t *text)
{
    buf_t b = { 0 };
    assert_int_equal(req(f, "GET", "/api/v2/status", NULL, &b), 200);
    json_t *j = parse(&b);
    buf_reset(text);
    buf_puts(text, json_string_value(json_object_get(json_object_get(j, "config"), "original")));
    json_decref(j);
    buf_fini(&b);
}

static void test_status_redacts_secrets(void **state)
{
    fx_t *f = *state;
    alerts_notifier_destroy(f->n);
    f->n = NULL;
    fake_write(f->cfg, secret_cfg);
    size_t nt = 0;
    alerts_notify_hooks_t hk = { .types = alerts_recv_types(&nt) };
    hk.ntypes = nt;
    alerts_notifier_opts_t o = { .config_file = f->cfg, .data_dir = f->data, .clock = { fake_clock_now, &f->clock } };
    fake_open(&o, &hk, &f->n);
    buf_t text = { 0 };
    status_text(f, &text);
    const char *t = (const char *)text.data;
    if (getenv("SHOW")) {
        fprintf(stderr, "%s", t);
    }
    if (strstr(t, "SEKRET")) {
        fail_msg("a secret is served:\n%s", t);
    }
    /* the rest stays as written */
    assert_non_null(strstr(t, "  slack_api_url: <secret>\n  smtp_smarthost: mail.example.com:587\n"));
    assert_non_null(strstr(t, "      - {routing_key: <secret>, severity: critical}\n"));
    assert_non_null(strstr(t, "        url: https://<secret>@events.example.com/v2/enqueue\n"));
    assert_non_null(strstr(t, "        auth_secret: <secret>\n        send_resolved: true\n"));
    assert_non_null(strstr(t, "      - {channel: '#b', \"api_url\": <secret>}\n"));
    /* a key secret for one receiver (slack's api_url) is redacted for all */
    assert_non_null(strstr(t, "        token: <secret>\n        api_url: <secret>\n"));
    assert_non_null(strstr(t, "        channel: '#alerts'\n"));
    /* a field marked secret in a receiver's table is covered too */
    alerts_notifier_destroy(f->n);
    f->n = NULL;
    fake_write(f->cfg,
               "route:\n  receiver: r\nreceivers:\n  - name: r\n    fake_configs: [{name: f, token: SEKRET15}]\n");
    fx_open(f);
    status_text(f, &text);
    t = (const char *)text.data;
    assert_null(strstr(t, "SEKRET"));
    assert_non_null(strstr(t, "[{name: f, token: <secret>}]"));
    buf_fini(&text);
}

/* Inhibition as the API reports it (one inhibit index per request):
 * inhibitedBy names the source, the metrics count the target suppressed,
 * a resolved source inhibits nothing. */
static void test_inhibited_by(void **state)
{
    fx_t *f = *state;
    alerts_notifier_destroy(f->n);
    f->n = NULL;
    fake_write(f->cfg, "route:\n  receiver: r\nreceivers:\n  - name: r\n    fake_configs: [{name: f}]\n"
                       "inhibit_rules:\n  - source_matchers: [sev=crit]\n    target_matchers: [sev=warn]\n"
                       "    equal: [svc]\n");
    fx_open(f);
    buf_t b = { 0 };
    assert_int_equal(req(f, "POST", "/api/v2/alerts",
                         "[{\"labels\":{\"alertname\":\"S\",\"sev\":\"crit\",\"svc\":\"a\"}},"
                         "{\"labels\":{\"alertname\":\"T\",\"sev\":\"warn\",\"svc\":\"a\"}},"
                         "{\"labels\":{\"alertname\":\"U\",\"sev\":\"warn\",\"svc\":\"b\"}}]",
                         &b),
                     200);
    assert_int_equal(req(f, "GET", "/api/v2/alerts?filter=alertname%3DS", NULL, &b), 200);
    json_t *j = parse(&b);
    char src[32];
    snprintf(src, sizeof(src), "%s", json_string_value(json_object_get(json_array_get(j, 0), "fingerprint")));
    json_decref(j);
    assert_int_equal(req(f, "GET", "/api/v2/alerts/groups", NULL, &b), 200);
    j = parse(&b);
    json_t *as = json_object_get(json_array_get(j, 0), "alerts");
    assert_int_equal(json_array_size(as), 3);
    size_t inhibited = 0;
    for (size_t i = 0; i < json_array_size(as); i++) {
        json_t *a = json_array_get(as, i);
        json_t *st = json_object_get(a, "status");
        const char *name = json_string_value(json_object_get(json_object_get(a, "labels"), "alertname"));
        json_t *by = json_object_get(st, "inhibitedBy");
        if (strcmp(name, "T") == 0) {
            assert_int_equal(json_array_size(by), 1);
            assert_string_equal(json_string_value(json_array_get(by, 0)), src);
            assert_string_equal(json_string_value(json_object_get(st, "state")), "suppressed");
            inhibited++;
        } else {
            assert_int_equal(json_array_size(by), 0);
        }
    }
    assert_int_equal(inhibited, 1);
    json_decref(j);
    buf_t m = { 0 };
    alerts_notifier_metrics(f->n, &m);
    assert_non_null(strstr((const char *)m.data, "alertmanager_alerts{state=\"suppressed\"} 1\n"));
    buf_fini(&m);
    assert_int_equal(req(f, "GET", "/api/v2/alerts?inhibited=false", NULL, &b), 200);
    j = parse(&b);
    assert_int_equal(json_array_size(j), 2);
    json_decref(j);
    buf_fini(&b);
}

/* alerts_notify_redact on named edge cases. */
static void test_redact_cases(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        { "", "" },
        { "api_url:", "api_url: <secret>" },
        { "api_url_file: /x\n", "api_url_file: /x\n" },
        { "x: 'api_url: y'\n", "x: 'api_url: y'\n" },
        { "token: \"a\n  b\"\nz: 1\n", "token: <secret>\nz: 1\n" },
        { "# api_url: http://u:p@h\n", "# api_url: http://<secret>@h\n" },
        { "routing_key:   abc   # c\n", "routing_key: <secret>\n" },
        { "{a: {routing_key: k}, b: 1}", "{a: {routing_key: <secret>}, b: 1}" },
        { "  - password: p\n    user: u\n", "  - password: <secret>\n    user: u\n" },
        { "url: http://a@b.c:1/x@y\n", "url: http://<secret>@b.c:1/x@y\n" },
        { "api_url:\n  http://x\n  /y\nnext: 1\n", "api_url: <secret>\nnext: 1\n" },
    };
    size_t nt = 0;
    const alerts_recv_type_t *types = alerts_recv_types(&nt);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_t b = { 0 };
        alerts_notify_redact(cases[i][0], strlen(cases[i][0]), types, nt, &b);
        assert_string_equal(b.len ? (const char *)b.data : "", cases[i][1]);
        buf_fini(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alerts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silences, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_receivers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_redacts_secrets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
        cmocka_unit_test(test_redact_cases),
        cmocka_unit_test_setup_teardown(test_inhibited_by, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_alerts_notify_api: alerts/alerts_notify_api.c over a real httpd on
 * loopback: POST and GET /api/v2/alerts (fields, filters, validation
 * texts), silences round trips (create, list, get, update, expire, expire
 * again, unknown id, validation), silences surviving a restart, status,
 * receivers, and unknown paths.
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
    buf_t err = { 0 };
    assert_int_equal(alerts_notify_open(&o, &hk, &f->n, &err), 0);
    buf_fini(&err);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_alerts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silences, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_receivers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for alerts/alerts_recv_pagerduty.c against a loopback fake Events
 * API v2: every event checked against PagerDuty's schema (routing_key of
 * 32 chars, event_action, dedup_key <= 255 and stable per group, summary
 * <= 1024 runes, source, severity enum), trigger vs resolve, severity from
 * a label, custom details, the key from a file and from ${VAR}, the
 * answers 202, 500 then 202, 429 + Retry-After, 400 with a body, a hang,
 * and a group of 3000 alerts whose event passes PagerDuty's 512 KB.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "alerts_recv_testlib.h"

#define KEY "0123456789abcdef0123456789abcdef"
#define GROUP "{}:{alertname=\"HighLatency\"}"

typedef struct fx {
    fake_t *f;
    memkv_t kv;
    fakeclock_t clk;
    arena_t *a;
    const alerts_recv_type_t *t;
} fx_t;

/* PagerDuty's answer to an accepted event. */
static void pd_accept(fake_t *f, const fake_req_t *r, http_resp_t *resp)
{
    (void)f;
    (void)r;
    resp->status = 202;
    resp->content_type = "application/json";
    buf_puts(&resp->body, "{\"status\":\"success\",\"message\":\"Event processed\",\"dedup_key\":\"k\"}");
}

static int setup(void **state)
{
    fx_t *x = calloc(1, sizeof(*x));
    x->f = fake_start(pd_accept, NULL);
    x->clk.now = 1700000000000LL;
    x->a = arena_create(4096);
    x->t = test_recv_type("pagerduty_configs");
    *state = x;
    return x->t ? 0 : -1;
}

static int teardown(void **state)
{
    fx_t *x = *state;
    fake_stop(x->f);
    arena_destroy(x->a);
    free(x);
    return 0;
}

static int reset(void **state)
{
    fx_t *x = *state;
    fake_reset(x->f);
    return 0;
}

static void *cfg_for(fx_t *x, const char *key_line, const char *extra)
{
    buf_t y = { 0 };
    buf_printf(&y, "url: %s/v2/enqueue\n%s\n%s", x->f->base, key_line, extra);
    void *cfg = test_cfg(x->t, (const char *)y.data, x->a);
    buf_fini(&y);
    return cfg;
}

static alerts_send_result_t send1(fx_t *x, const void *cfg, void *st, const alerts_notification_t *n, long timeout)
{
    return test_send(x->t, cfg, st, &x->kv, &x->clk, timeout, n);
}

static size_t runes(const char *s)
{
    size_t n = 0;
    for (; *s; s++) {
        n += ((unsigned char)*s & 0xC0) != 0x80;
    }
    return n;
}

/* PagerDuty's Events API v2 schema for an event. */
static json_t *check_event(const fake_req_t *r)
{
    assert_string_equal(r->method, "POST");
    assert_string_equal(r->path, "/v2/enqueue");
    assert_string_equal(r->content_type, "application/json");
    json_error_t e;
    json_t *j = json_loads(r->body, 0, &e);
    assert_non_null(j);
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v)
    {
        static const char *const ok[] = { "routing_key", "event_action", "dedup_key", "payload",
                                          "images",      "links",        "client",    "client_url" };
        bool found = false;
        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
            found = found || strcmp(k, ok[i]) == 0;
        }
        if (!found) {
            fail_msg("unexpected key %s", k);
        }
    }
    const char *rk = json_string_value(json_object_get(j, "routing_key"));
    assert_non_null(rk);
    assert_int_equal(strlen(rk), 32);
    const char *act = json_string_value(json_object_get(j, "event_action"));
    assert_true(act && (!strcmp(act, "trigger") || !strcmp(act, "acknowledge") || !strcmp(act, "resolve")));
    const char *dk = json_string_value(json_object_get(j, "dedup_key"));
    assert_true(dk && strlen(dk) > 0 && strlen(dk) <= 255);
    json_t *p = json_object_get(j, "payload");
    assert_true(json_is_object(p));
    const char *summary = json_string_value(json_object_get(p, "summary"));
    assert_true(summary && runes(summary) <= 1024);
    const char *source = json_string_value(json_object_get(p, "source"));
    assert_true(source && *source);
    const char *sev = json_string_value(json_object_get(p, "severity"));
    assert_true(sev &&
                (!strcmp(sev, "critical") || !strcmp(sev, "error") || !strcmp(sev, "warning") || !strcmp(sev, "info")));
    json_t *cd = json_object_get(p, "custom_details");
    assert_true(cd == NULL || json_is_object(cd));
    return j;
}

static void test_trigger_and_resolve(void **state)
{
    fx_t *x = *state;
    void *cfg = cfg_for(x, "routing_key: " KEY, "");
    void *st = x->t->state_create(cfg);
    test_notif_t tn;
    test_notif_init(&tn, 2, GROUP);
    alerts_send_result_t res = send1(x, cfg, st, &tn.n, 2000);
    if (res.status != ALERTS_SEND_OK) {
        fail_msg("%s", res.msg);
    }
    assert_int_equal(res.http_code, 202);
    test_notif_init(&tn, 0, GROUP);
    res = send1(x, cfg, st, &tn.n, 2000);
    assert_int_equal(res.status, ALERTS_SEND_OK);
    assert_int_equal(x->f->nreqs, 2);

    json_t *a = check_event(&x->f->reqs[0]);
    json_t *b = check_event(&x->f->reqs[1]);
    assert_string_equal(json_string_value(json_object_get(a, "routing_key")), KEY);
    assert_string_equal(json_string_value(json_object_get(a, "event_action")), "trigger");
    assert_string_equal(json_string_value(json_object_get(b, "event_action")), "resolve");
    char gid[33];
    alerts_recv_group_id(GROUP, gid);
    assert_string_equal(json_string_value(json_object_get(a, "dedup_key")), gid);
    assert_string_equal(json_string_value(json_object_get(b, "dedup_key")), gid);
    json_t *p = json_object_get(a, "payload");
    /* Alertmanager's defaults */
    assert_string_equal(json_string_value(json_object_get(p, "severity")), "error");
    assert_string_equal(json_string_value(json_object_get(p, "summary")), "[FIRING:2] HighLatency (critical)");
    assert_string_equal(json_string_value(json_object_get(a, "client")), "Alertmanager");
    assert_string_equal(json_string_value(json_object_get(p, "source")), "Alertmanager");
    assert_string_equal(json_string_value(json_object_get(a, "client_url")),
                        "http://pharos:9090/#/alerts?receiver=team");
    json_t *cd = json_object_get(p, "custom_details");
    assert_string_equal(json_string_value(json_object_get(cd, "num_firing")), "2");
    assert_string_equal(json_string_value(json_object_get(cd, "num_resolved")), "0");
    assert_non_null(strstr(json_string_value(json_object_get(cd, "firing")), "instance = a:9100"));
    json_t *cd2 = json_object_get(json_object_get(b, "payload"), "custom_details");
    assert_string_equal(json_string_value(json_object_get(cd2, "num_resolved")), "2");
    json_decref(a);
    json_decref(b);
    x->t->state_destroy(st);
}

static void test_fields(void **state)
{
    fx_t *x = *state;
    buf_t extra = { 0 };
    buf_puts(&extra, "severity: '{{ .CommonLabels.severity }}'\nsource: 'host-{{ .Receiver }}'\n"
                     "class: cls\ncomponent: comp\ngroup: grp\nclient: pharos\nclient_url: http://x/\n"
                     "details:\n  team: '{{ .Receiver }}'\n  n: '{{ len .Alerts }}'\ndescription: '");
    for (int i = 0; i < 2000; i++) {
        buf_puts(&extra, "\xc3\xa9");
    }
    buf_puts(&extra, "'\n");
    void *cfg = cfg_for(x, "routing_key: " KEY, (const char *)extra.data);
    buf_fini(&extra);
    void *st = x->t->state_create(cfg);
    test_notif_t tn;
    test_notif_init(&tn, 1, GROUP);
    alerts_send_result_t res = send1(x, cfg, st, &tn.n, 2000);
    if (res.status != ALERTS_SEND_OK) {
        fail_msg("%s", res.msg);
    }
    json_t *j = check_event(&x->f->reqs[0]);
    json_t *p = json_object_get(j, "payload");
    assert_string_equal(json_string_value(json_object_get(p, "severity")), "critical");
    assert_string_equal(json_string_value(json_object_get(p, "source")), "host-team");
    assert_string_equal(json_string_value(json_object_get(p, "class")), "cls");
    assert_string_equal(json_string_value(json_object_get(p, "component")), "comp");
    assert_string_equal(json_string_value(json_object_get(p, "group")), "grp");
    assert_string_equal(json_string_value(json_object_get(j, "client")), "pharos");
    assert_string_equal(json_string_value(json_object_get(j, "client_url")), "http://x/");
    const char *summary = json_string_value(json_object_get(p, "summary"));
    assert_int_equal(runes(summary), 1024);
    assert_string_equal(summary + strlen(summary) - 3, "\xe2\x80\xa6");
    json_t *cd = json_object_get(p, "custom_details");
    assert_int_equal(json_object_size(cd), 6); /* and Alertmanager's four defaults */
    assert_string_equal(json_string_value(json_object_get(cd, "num_firing")), "1");
    assert_string_equal(json_string_value(json_object_get(cd, "team")), "team");
    assert_string_equal(json_string_value(json_object_get(cd, "n")), "2");
    json_decref(j);
    x->t->state_destroy(st);
}

/* A severity template rendering something else (an absent label, another
 * case) still gives an accepted event. */
static void test_severity_mapping(void **state)
{
    fx_t *x = *state;
    static const struct {
        const char *tmpl, *want;
    } cases[] = {
        { "'{{ .CommonLabels.nope }}'", "error" },
        { "Warning", "warning" },
        { "' info '", "info" },
        { "page", "error" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fake_reset(x->f);
        char extra[128];
        snprintf(extra, sizeof(extra), "severity: %s\n", cases[i].tmpl);
        void *cfg = cfg_for(x, "routing_key: " KEY, extra);
        void *st = x->t->state_create(cfg);
        test_notif_t tn;
        test_notif_init(&tn, 1, GROUP);
        alerts_send_result_t res = send1(x, cfg, st, &tn.n, 2000);
        assert_int_equal(res.status, ALERTS_SEND_OK);
        json_t *j = check_event(&x->f->reqs[0]);
        assert_string_equal(json_string_value(json_object_get(json_object_get(j, "payload"), "severity")),
                            cases[i].want);
        json_decref(j);
        x->t->state_destroy(st);
    }
}

static void test_answers(void **state)
{
    fx_t *x = *state;
    void *cfg = cfg_for(x, "routing_key: " KEY, "");
    void *st = x->t->state_create(cfg);
    test_notif_t tn;
    test_notif_init(&tn, 1, GROUP);
    static const char ok[] = "{\"status\":\"success\",\"message\":\"Event processed\",\"dedup_key\":\"x\"}";
    fake_push(x->f, (fake_reply_t){ .status = 500, .body = "oops" });
    fake_push(x->f, (fake_reply_t){ .status = 202, .body = ok });
    fake_push(x->f, (fake_reply_t){ .status = 429, .body = "slow down", .hdr = { { "Retry-After", "30" } } });
    fake_push(x->f, (fake_reply_t){ .status = 400,
                                    .body = "{\"status\":\"invalid event\",\"message\":\"Event object is invalid\","
                                            "\"errors\":[\"'routing_key' is invalid\"]}" });
    fake_push(x->f, (fake_reply_t){ .status = 502, .body = "bad gateway" });
    fake_push(x->f, (fake_reply_t){ .status = 202, .body = ok, .delay_ms = 1500 });

    alerts_send_result_t res = send1(x, cfg, st, &tn.n, 2000);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(res.http_code, 500);
    res = send1(x, cfg, st, &tn.n, 2000);
    assert_int_equal(res.status, ALERTS_SEND_OK);
    assert_int_equal(res.http_code, 202);
    res = send1(x, cfg, st, &tn.n, 2000);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(res.http_code, 429);
    assert_int_equal(res.retry_after_ms, 30000);
    res = send1(x, cfg, st, &tn.n, 2000);
    assert_int_equal(res.status, ALERTS_SEND_FAIL);
    assert_int_equal(res.http_code, 400);
    assert_non_null(strstr(res.msg, "Event object is invalid"));
    assert_null(strstr(res.msg, KEY));
    res = send1(x, cfg, st, &tn.n, 2000);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(res.http_code, 502);
    res = send1(x, cfg, st, &tn.n, 300);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(res.http_code, 0);

    /* nothing listening */
    fake_t *dead = fake_start(NULL, NULL);
    char yaml[256];
    snprintf(yaml, sizeof(yaml), "url: %s/v2/enqueue\nrouting_key: " KEY "\n", dead->base);
    fake_stop(dead);
    void *cfg2 = test_cfg(x->t, yaml, x->a);
    res = send1(x, cfg2, st, &tn.n, 2000);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(res.http_code, 0);
    x->t->state_destroy(st);
}

static void test_key_sources(void **state)
{
    fx_t *x = *state;
    char path[] = "/tmp/pharos_pd_XXXXXX";
    test_temp_file(path, KEY "\n");
    char line[128];
    snprintf(line, sizeof(line), "routing_key_file: %s", path);
    void *cfg = cfg_for(x, line, "");
    void *st = x->t->state_create(cfg);
    test_notif_t tn;
    test_notif_init(&tn, 1, GROUP);
    alerts_send_result_t res = send1(x, cfg, st, &tn.n, 2000);
    assert_int_equal(res.status, ALERTS_SEND_OK);
    unlink(path);
    json_t *j = check_event(&x->f->reqs[0]);
    assert_string_equal(json_string_value(json_object_get(j, "routing_key")), KEY);
    json_decref(j);

    setenv("PHAROS_PD_KEY", "fedcba9876543210fedcba9876543210", 1);
    void *cfg2 = cfg_for(x, "routing_key: '${PHAROS_PD_KEY}'", "");
    res = send1(x, cfg2, st, &tn.n, 2000);
    assert_int_equal(res.status, ALERTS_SEND_OK);
    j = check_event(&x->f->reqs[1]);
    assert_string_equal(json_string_value(json_object_get(j, "routing_key")), "fedcba9876543210fedcba9876543210");
    json_decref(j);
    x->t->state_destroy(st);
}

/* PagerDuty refusing events over 512 KB, as the real one does. */
static void pd_limited(fake_t *f, const fake_req_t *r, http_resp_t *resp)
{
    if (r->len > 512000) {
        resp->status = 400;
        resp->content_type = "application/json";
        buf_puts(&resp->body, "{\"status\":\"invalid event\",\"message\":\"Event object is invalid\","
                              "\"errors\":[\"Length of the event payload must be less than 512KB\"]}");
        return;
    }
    pd_accept(f, r, resp);
}

/* A group of 3000 alerts: the event with its custom details is over
 * 512 KB, so it goes without them (an "error" detail says why) and is
 * accepted; the summary and the rest are kept. */
static void test_event_size(void **state)
{
    fx_t *x = *state;
    enum { N = 3000 };
    void *cfg = cfg_for(x, "routing_key: " KEY, "details:\n  team: '{{ .CommonLabels.alertname }}'\n");
    void *st = x->t->state_create(cfg);
    test_notif_t tn;
    test_notif_init(&tn, 2, GROUP);
    alerts_notif_alert_t *alerts = calloc(N, sizeof(*alerts));
    label_t *labels = calloc(N * 3, sizeof(*labels));
    char(*inst)[32] = calloc(N, sizeof(*inst));
    for (size_t i = 0; i < N; i++) {
        snprintf(inst[i], sizeof(inst[i]), "host-%04zu.example.org:9100", i);
        labels[3 * i] = TL("alertname", "HighLatency");
        labels[3 * i + 1] = (label_t){ STR_LIT("instance"), str_cstr(inst[i]) };
        labels[3 * i + 2] = TL("severity", "critical");
        alerts[i] = tn.alerts[0];
        alerts[i].labels = &labels[3 * i];
        alerts[i].fingerprint = 0x1000 + i;
    }
    tn.n.alerts = alerts;
    tn.n.nalerts = N;
    tn.n.nfiring = N;

    pthread_mutex_lock(&x->f->mu);
    x->f->fn = pd_limited;
    pthread_mutex_unlock(&x->f->mu);
    alerts_send_result_t res = send1(x, cfg, st, &tn.n, 5000);
    if (res.status != ALERTS_SEND_OK) {
        fail_msg("%s", res.msg);
    }
    assert_int_equal(x->f->nreqs, 1);
    assert_true(x->f->reqs[0].len <= 512000);
    json_t *j = check_event(&x->f->reqs[0]);
    json_t *p = json_object_get(j, "payload");
    assert_string_equal(json_string_value(json_object_get(p, "summary")), "[FIRING:3000] HighLatency (critical)");
    assert_string_equal(json_string_value(json_object_get(j, "event_action")), "trigger");
    json_t *cd = json_object_get(p, "custom_details");
    assert_int_equal(json_object_size(cd), 1);
    assert_non_null(strstr(json_string_value(json_object_get(cd, "error")), "exceeds the maximum size of 512KB"));
    json_decref(j);

    /* the same config with the usual two alerts: details kept */
    tn.n.alerts = tn.alerts;
    tn.n.nalerts = 2;
    tn.n.nfiring = 2;
    res = send1(x, cfg, st, &tn.n, 2000);
    assert_int_equal(res.status, ALERTS_SEND_OK);
    j = check_event(&x->f->reqs[1]);
    cd = json_object_get(json_object_get(j, "payload"), "custom_details");
    assert_null(json_object_get(cd, "error"));
    assert_string_equal(json_string_value(json_object_get(cd, "team")), "HighLatency");
    assert_string_equal(json_string_value(json_object_get(cd, "num_firing")), "2");
    json_decref(j);

    pthread_mutex_lock(&x->f->mu);
    x->f->fn = pd_accept;
    pthread_mutex_unlock(&x->f->mu);
    free(alerts);
    free(labels);
    free(inst);
    x->t->state_destroy(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_trigger_and_resolve, reset), cmocka_unit_test_setup(test_fields, reset),
        cmocka_unit_test_setup(test_severity_mapping, reset),    cmocka_unit_test_setup(test_answers, reset),
        cmocka_unit_test_setup(test_key_sources, reset),         cmocka_unit_test_setup(test_event_size, reset),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

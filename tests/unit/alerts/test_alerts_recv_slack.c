/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for alerts/alerts_recv_slack.c against a loopback fake webhook:
 * the payload against Slack's schema (text, blocks of mrkdwn sections,
 * channel, username, icon_emoji), the default templates, scripted answers
 * (200 ok, 500 then 200, 429 with Retry-After, 404 channel_not_found, a
 * hang past the timeout), one message per second per webhook, the URL
 * read from api_url_file at send time, a hostile Retry-After (cut to 1 h,
 * no overflow) and a 2 MiB answer (cut at 1 MiB, RETRY).
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "alerts_recv_testlib.h"
#include "common/clock.h"

typedef struct fx {
    fake_t *f;
    memkv_t kv;
    fakeclock_t clk;
    arena_t *a;
    const alerts_recv_type_t *t;
} fx_t;

static int setup(void **state)
{
    fx_t *x = calloc(1, sizeof(*x));
    x->f = fake_start(NULL, NULL);
    x->clk.now = 1700000000000LL;
    x->a = arena_create(4096);
    x->t = test_recv_type("slack_configs");
    *state = x;
    return x->t ? 0 : -1;
}

static int teardown(void **state)
{
    fx_t *x = *state;
    fake_stop(x->f);
    memkv_clear(&x->kv);
    arena_destroy(x->a);
    free(x);
    return 0;
}

/* Parse a config whose api_url is the fake's /hook plus extra lines. */
static void *cfg_for(fx_t *x, const char *extra)
{
    buf_t yaml = { 0 };
    buf_printf(&yaml, "api_url: %s/services/T0/B0/X0\n%s", x->f->base, extra);
    void *cfg = test_cfg(x->t, (const char *)yaml.data, x->a);
    buf_fini(&yaml);
    return cfg;
}

/* Send n and return the result; the clock moves 1 s first so the rate
 * limiter never waits unless a test wants it. */
static alerts_send_result_t send1(fx_t *x, const void *cfg, void *st, const alerts_notification_t *n, long timeout)
{
    x->clk.now += 1000;
    return test_send(x->t, cfg, st, &x->kv, &x->clk, timeout, n);
}

/* Slack's schema for what we send: text (string), blocks of sections with
 * mrkdwn text <= 3000, at most 50; optional channel/username/icon_emoji
 * strings; nothing else. */
static json_t *check_payload(const fake_req_t *r)
{
    assert_string_equal(r->method, "POST");
    assert_string_equal(r->path, "/services/T0/B0/X0");
    assert_string_equal(r->content_type, "application/json");
    json_error_t e;
    json_t *j = json_loads(r->body, 0, &e);
    assert_non_null(j);
    assert_true(json_is_object(j));
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v)
    {
        if (strcmp(k, "text") && strcmp(k, "blocks") && strcmp(k, "channel") && strcmp(k, "username") &&
            strcmp(k, "icon_emoji")) {
            fail_msg("unexpected key %s", k);
        }
        if (strcmp(k, "blocks") != 0) {
            assert_true(json_is_string(v));
        }
    }
    assert_true(json_is_string(json_object_get(j, "text")));
    json_t *blocks = json_object_get(j, "blocks");
    assert_true(json_is_array(blocks));
    assert_true(json_array_size(blocks) >= 1 && json_array_size(blocks) <= 50);
    size_t i;
    json_array_foreach(blocks, i, v)
    {
        assert_string_equal(json_string_value(json_object_get(v, "type")), "section");
        json_t *t = json_object_get(v, "text");
        assert_string_equal(json_string_value(json_object_get(t, "type")), "mrkdwn");
        const char *s = json_string_value(json_object_get(t, "text"));
        assert_non_null(s);
        assert_true(strlen(s) > 0 && strlen(s) <= 3000 * 4);
    }
    return j;
}

static void test_payload(void **state)
{
    fx_t *x = *state;
    void *cfg = cfg_for(x, "channel: '#ops'\nusername: pharos\nicon_emoji: ':fire:'\n"
                           "title: 'T {{ .CommonLabels.alertname }}'\ntext: 'body text'\n");
    void *st = x->t->state_create(cfg);
    test_notif_t tn;
    test_notif_init(&tn, 2, "{}:{alertname=\"HighLatency\"}");
    alerts_send_result_t res = send1(x, cfg, st, &tn.n, 2000);
    assert_int_equal(res.status, ALERTS_SEND_OK);
    assert_int_equal(res.http_code, 200);
    assert_string_equal(res.msg, "");
    assert_int_equal(x->f->nreqs, 1);
    json_t *j = check_payload(&x->f->reqs[0]);
    assert_string_equal(json_string_value(json_object_get(j, "channel")), "#ops");
    assert_string_equal(json_string_value(json_object_get(j, "username")), "pharos");
    assert_string_equal(json_string_value(json_object_get(j, "icon_emoji")), ":fire:");
    assert_string_equal(json_string_value(json_object_get(j, "text")), "T HighLatency");
    json_t *blocks = json_object_get(j, "blocks");
    assert_int_equal(json_array_size(blocks), 2);
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(blocks, 0), "text"), "text")),
                        "*T HighLatency*");
    assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(blocks, 1), "text"), "text")),
                        "body text");
    json_decref(j);
    x->t->state_destroy(st);
}

/* A long text is split into sections of <= 3000 bytes on UTF-8 boundaries. */
static void test_long_text(void **state)
{
    fx_t *x = *state;
    buf_t y = { 0 };
    buf_puts(&y, "title: ''\ntext: '");
    for (int i = 0; i < 2500; i++) {
        buf_puts(&y, "\xc3\xa9\xc3\xa9x");
    }
    buf_puts(&y, "'\n");
    void *cfg = cfg_for(x, (const char *)y.data);
    buf_fini(&y);
    void *st = x->t->state_create(cfg);
    test_notif_t tn;
    test_notif_init(&tn, 1, "g");
    alerts_send_result_t res = send1(x, cfg, st, &tn.n, 2000);
    assert_int_equal(res.status, ALERTS_SEND_OK);
    json_t *j = check_payload(&x->f->reqs[0]);
    json_t *blocks = json_object_get(j, "blocks");
    assert_int_equal(json_array_size(blocks), 5);
    size_t total = 0, i;
    json_t *v;
    json_array_foreach(blocks, i, v)
    {
        const char *s = json_string_value(json_object_get(json_object_get(v, "text"), "text"));
        assert_true(strlen(s) <= 3000);
        total += strlen(s);
    }
    assert_int_equal(total, 2500 * 5);
    json_decref(j);
    x->t->state_destroy(st);
}

static void test_defaults_render(void **state)
{
    fx_t *x = *state;
    void *cfg = cfg_for(x, "");
    void *st = x->t->state_create(cfg);
    test_notif_t tn;
    test_notif_init(&tn, 2, "{}:{alertname=\"HighLatency\"}");
    alerts_send_result_t res = send1(x, cfg, st, &tn.n, 2000);
    if (res.status != ALERTS_SEND_OK) {
        fail_msg("default templates: %s", res.msg);
    }
    json_t *j = check_payload(&x->f->reqs[0]);
    /* Alertmanager's slack.default.title: [FIRING:2] HighLatency ... */
    const char *text = json_string_value(json_object_get(j, "text"));
    assert_non_null(strstr(text, "FIRING:2"));
    assert_non_null(strstr(text, "HighLatency"));
    json_decref(j);
    x->t->state_destroy(st);
}

static void test_answers(void **state)
{
    fx_t *x = *state;
    void *cfg = cfg_for(x, "title: t\ntext: x\n");
    void *st = x->t->state_create(cfg);
    test_notif_t tn;
    test_notif_init(&tn, 1, "g");

    /* 500 then 200 */
    fake_push(x->f, (fake_reply_t){ .status = 500, .body = "rollup_error" });
    alerts_send_result_t res = send1(x, cfg, st, &tn.n, 2000);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(res.http_code, 500);
    assert_string_equal(res.msg, "slack: HTTP 500: rollup_error");
    res = send1(x, cfg, st, &tn.n, 2000);
    assert_int_equal(res.status, ALERTS_SEND_OK);

    /* 404 channel_not_found: FAIL with Slack's answer */
    fake_push(x->f, (fake_reply_t){ .status = 404, .body = "channel_not_found" });
    res = send1(x, cfg, st, &tn.n, 2000);
    assert_int_equal(res.status, ALERTS_SEND_FAIL);
    assert_int_equal(res.http_code, 404);
    assert_string_equal(res.msg, "slack: HTTP 404: channel_not_found");

    /* 400 invalid_payload, 410 channel_is_archived, 403 action_prohibited */
    fake_push(x->f, (fake_reply_t){ .status = 400, .body = "invalid_payload" });
    fake_push(x->f, (fake_reply_t){ .status = 410, .body = "channel_is_archived" });
    fake_push(x->f, (fake_reply_t){ .status = 403, .body = "action_prohibited" });
    for (int i = 0; i < 3; i++) {
        res = send1(x, cfg, st, &tn.n, 2000);
        assert_int_equal(res.status, ALERTS_SEND_FAIL);
    }
    assert_string_equal(res.msg, "slack: HTTP 403: action_prohibited");

    /* 200 with a JSON ok:false body */
    fake_push(x->f, (fake_reply_t){ .status = 200, .body = "{\"ok\":false,\"error\":\"invalid_blocks\"}" });
    res = send1(x, cfg, st, &tn.n, 2000);
    assert_int_equal(res.status, ALERTS_SEND_FAIL);
    assert_non_null(strstr(res.msg, "invalid_blocks"));

    /* 429 + Retry-After: RETRY after it; the next send inside it waits or
     * answers RETRY without a request. */
    fake_push(x->f, (fake_reply_t){ .status = 429, .body = "rate_limited", .hdr = { { "Retry-After", "30" } } });
    res = send1(x, cfg, st, &tn.n, 2000);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(res.http_code, 429);
    assert_int_equal(res.retry_after_ms, 30000);
    size_t before = x->f->nreqs;
    res = send1(x, cfg, st, &tn.n, 2000);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(res.http_code, 0);
    assert_int_equal(res.retry_after_ms, 29000);
    assert_int_equal(x->f->nreqs, before);
    x->clk.now += 30000;
    res = send1(x, cfg, st, &tn.n, 2000);
    assert_int_equal(res.status, ALERTS_SEND_OK);

    /* a hang past the timeout */
    fake_push(x->f, (fake_reply_t){ .status = 200, .body = "ok", .delay_ms = 1500 });
    double t0 = clock_mono_s();
    res = send1(x, cfg, st, &tn.n, 300);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(res.http_code, 0);
    assert_true(clock_mono_s() - t0 < 1.4);
    x->t->state_destroy(st);
}

/* One message per second: a second send at the same instant waits about
 * a second (timeout allowing), or answers RETRY when it does not. */
static void test_rate_limit(void **state)
{
    fx_t *x = *state;
    void *cfg = cfg_for(x, "title: t\ntext: x\n");
    void *st = x->t->state_create(cfg);
    test_notif_t tn;
    test_notif_init(&tn, 1, "g");
    alerts_recv_env_t env = test_env(&x->kv, &x->clk, 2000);
    alerts_send_result_t res;
    x->t->send(cfg, st, &env, &tn.n, &res);
    assert_int_equal(res.status, ALERTS_SEND_OK);
    double t0 = clock_mono_s();
    x->t->send(cfg, st, &env, &tn.n, &res);
    assert_int_equal(res.status, ALERTS_SEND_OK);
    double waited = clock_mono_s() - t0;
    assert_true(waited >= 0.9 && waited < 1.9);
    env.timeout_ms = 500;
    x->clk.now += 200; /* the second message went at now + 1000 */
    x->t->send(cfg, st, &env, &tn.n, &res);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(res.retry_after_ms, 1800);
    assert_int_equal(x->f->nreqs, 2);
    x->t->state_destroy(st);
}

/* A hostile Retry-After (the largest seconds that fit in int64 ms) is
 * taken as 1 h: no overflow, and the webhook stays quiet for that hour. */
static void test_retry_after_huge(void **state)
{
    fx_t *x = *state;
    void *cfg = cfg_for(x, "title: t\ntext: x\n");
    void *st = x->t->state_create(cfg);
    test_notif_t tn;
    test_notif_init(&tn, 1, "g");
    fake_push(x->f, (fake_reply_t){
                        .status = 429, .body = "rate_limited", .hdr = { { "Retry-After", "9223372036854775" } } });
    alerts_send_result_t res = send1(x, cfg, st, &tn.n, 2000);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(res.http_code, 429);
    assert_int_equal(res.retry_after_ms, 3600000);
    size_t before = x->f->nreqs;
    res = send1(x, cfg, st, &tn.n, 2000); /* a second later */
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(res.retry_after_ms, 3600000 - 1000);
    assert_int_equal(x->f->nreqs, before);
    x->clk.now += 3600000;
    res = send1(x, cfg, st, &tn.n, 2000);
    assert_int_equal(res.status, ALERTS_SEND_OK);
    assert_int_equal(x->f->nreqs, before + 1);
    x->t->state_destroy(st);
}

/* An endpoint answering 2 MiB: the receiver reads at most 1 MiB (httpc
 * aborts the transfer) and, the answer unread, retries. */
static void test_huge_answer(void **state)
{
    fx_t *x = *state;
    void *cfg = cfg_for(x, "title: t\ntext: x\n");
    void *st = x->t->state_create(cfg);
    test_notif_t tn;
    test_notif_init(&tn, 1, "g");
    size_t n = (size_t)2 << 20;
    char *big = malloc(n + 1);
    memset(big, 'k', n);
    big[n] = '\0';
    fake_push(x->f, (fake_reply_t){ .status = 200, .body = big });
    alerts_send_result_t res = send1(x, cfg, st, &tn.n, 5000);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(res.http_code, 200);
    assert_non_null(strstr(res.msg, "response body over 1048576 bytes"));
    free(big);
    x->t->state_destroy(st);
}

static void test_url_file(void **state)
{
    fx_t *x = *state;
    char path[] = "/tmp/pharos_slack_XXXXXX";
    char url[128];
    snprintf(url, sizeof(url), "%s/services/T0/B0/X0\n", x->f->base);
    test_temp_file(path, url);
    char yaml[256];
    snprintf(yaml, sizeof(yaml), "api_url_file: %s\ntitle: t\ntext: x\n", path);
    void *cfg = test_cfg(x->t, yaml, x->a);
    void *st = x->t->state_create(cfg);
    test_notif_t tn;
    test_notif_init(&tn, 1, "g");
    alerts_send_result_t res = send1(x, cfg, st, &tn.n, 2000);
    assert_int_equal(res.status, ALERTS_SEND_OK);
    assert_int_equal(x->f->nreqs, 1);
    assert_string_equal(x->f->reqs[0].path, "/services/T0/B0/X0");
    unlink(path);
    res = send1(x, cfg, st, &tn.n, 2000);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_null(strstr(res.msg, "services"));
    x->t->state_destroy(st);
}

static void test_template_error(void **state)
{
    fx_t *x = *state;
    void *cfg = cfg_for(x, "title: '{{ .Nope'\n");
    void *st = x->t->state_create(cfg);
    test_notif_t tn;
    test_notif_init(&tn, 1, "g");
    alerts_send_result_t res = send1(x, cfg, st, &tn.n, 2000);
    assert_int_equal(res.status, ALERTS_SEND_FAIL);
    assert_non_null(strstr(res.msg, "template slack.title"));
    assert_int_equal(x->f->nreqs, 0);
    x->t->state_destroy(st);
}

static int reset(void **state)
{
    fx_t *x = *state;
    fake_reset(x->f);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_payload, reset),         cmocka_unit_test_setup(test_long_text, reset),
        cmocka_unit_test_setup(test_defaults_render, reset), cmocka_unit_test_setup(test_answers, reset),
        cmocka_unit_test_setup(test_rate_limit, reset),      cmocka_unit_test_setup(test_url_file, reset),
        cmocka_unit_test_setup(test_template_error, reset),  cmocka_unit_test_setup(test_retry_after_huge, reset),
        cmocka_unit_test_setup(test_huge_answer, reset),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

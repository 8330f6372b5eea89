/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for alerts/alerts_recv_am.c against a loopback fake Alertmanager:
 * the body Prometheus sends (a JSON array of PostableAlert, RFC 3339 UTC
 * times with milliseconds, zero times omitted), the path under a base URL
 * with or without a trailing slash, the outcome of 200, 400, 429, 500,
 * a refused connection, and credentials in the URL never reaching the
 * message (an endpoint echoing them). tests/integration/
 * alerts_alertmanager.sh runs the same against a real Alertmanager.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "alerts_recv_testlib.h"

static void test_body(void **state)
{
    (void)state;
    fake_t *f = fake_start(NULL, NULL);
    httpc_t *c = httpc_create(2000);
    label_t l1[] = { TL("alertname", "Up"), TL("job", "node") };
    label_t ann[] = { TL("summary", "x \"quoted\" <b>") };
    alerts_alert_t al[2] = {
        { l1, 2, ann, 1, 1700000000123LL, 1700000300000LL, "http://p:9090/graph?g0.expr=up%3D%3D0" },
        { l1, 1, NULL, 0, 0, 0, NULL },
    };
    alerts_send_result_t res;
    char url[96];
    snprintf(url, sizeof(url), "%s/am/", f->base);
    alerts_recv_am_post(c, url, al, 2, &res);
    assert_int_equal(res.status, ALERTS_SEND_OK);
    assert_int_equal(res.http_code, 200);
    assert_int_equal(f->nreqs, 1);
    const fake_req_t *r = &f->reqs[0];
    assert_string_equal(r->method, "POST");
    assert_string_equal(r->path, "/am/api/v2/alerts");
    assert_string_equal(r->content_type, "application/json");
    assert_string_equal(r->body, "[{\"annotations\":{\"summary\":\"x \\\"quoted\\\" \\u003cb\\u003e\"},"
                                 "\"endsAt\":\"2023-11-14T22:18:20.000Z\",\"startsAt\":\"2023-11-14T22:13:20.123Z\","
                                 "\"generatorURL\":\"http://p:9090/graph?g0.expr=up%3D%3D0\","
                                 "\"labels\":{\"alertname\":\"Up\",\"job\":\"node\"}},"
                                 "{\"labels\":{\"alertname\":\"Up\"}}]");
    json_error_t e;
    json_t *j = json_loads(r->body, 0, &e);
    assert_true(json_is_array(j));
    json_decref(j);
    httpc_destroy(c);
    fake_stop(f);
}

static void test_outcomes(void **state)
{
    (void)state;
    fake_t *f = fake_start(NULL, NULL);
    httpc_t *c = httpc_create(2000);
    label_t l1[] = { TL("alertname", "Up") };
    alerts_alert_t al = { l1, 1, NULL, 0, 1, 2, "g" };
    static const struct {
        int status;
        alerts_send_status_t want;
    } cases[] = {
        { 200, ALERTS_SEND_OK },    { 202, ALERTS_SEND_OK },    { 400, ALERTS_SEND_FAIL },
        { 429, ALERTS_SEND_RETRY }, { 500, ALERTS_SEND_RETRY }, { 503, ALERTS_SEND_RETRY },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fake_push(f, (fake_reply_t){ .status = cases[i].status, .body = "{\"message\":\"m\"}" });
        alerts_send_result_t res;
        alerts_recv_am_post(c, f->base, &al, 1, &res);
        assert_int_equal(res.status, cases[i].want);
        assert_int_equal(res.http_code, cases[i].status);
        if (cases[i].want != ALERTS_SEND_OK) {
            char want[64];
            snprintf(want, sizeof(want), "alertmanager: HTTP %d: {\"message\":\"m\"}", cases[i].status);
            assert_string_equal(res.msg, want);
        }
    }
    char base[64];
    snprintf(base, sizeof(base), "%s", f->base);
    fake_stop(f);
    alerts_send_result_t res;
    alerts_recv_am_post(c, base, &al, 1, &res);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(res.http_code, 0);
    httpc_destroy(c);
}

/* An endpoint refusing with an answer that echoes the credentials: the
 * Basic token, decoded and as written in the URL. */
static void am_echo_auth(fake_t *f, const fake_req_t *r, http_resp_t *resp)
{
    (void)f;
    resp->status = 401;
    buf_printf(&resp->body, "denied %s for alice:s3cr@t (s3cr%%40t), hint s3cr@t\nsecond line", r->auth);
}

static void test_credentials_not_in_msg(void **state)
{
    (void)state;
    fake_t *f = fake_start(am_echo_auth, NULL);
    httpc_t *c = httpc_create(2000);
    label_t l1[] = { TL("alertname", "Up") };
    alerts_alert_t al = { l1, 1, NULL, 0, 1, 2, "g" };
    char url[128];
    snprintf(url, sizeof(url), "http://alice:s3cr%%40t@%s/", f->base + strlen("http://"));
    alerts_send_result_t res;
    alerts_recv_am_post(c, url, &al, 1, &res);
    assert_int_equal(res.status, ALERTS_SEND_FAIL);
    assert_int_equal(res.http_code, 401);
    assert_string_equal(f->reqs[0].auth, "Basic YWxpY2U6czNjckB0"); /* the credentials did go */
    if (strstr(res.msg, "s3cr") || strstr(res.msg, "YWxpY2U6czNjckB0") || !strstr(res.msg, "<secret>")) {
        fail_msg("%s", res.msg);
    }
    assert_string_equal(res.msg,
                        "alertmanager: HTTP 401: denied Basic <secret> for <secret> (<secret>), hint <secret>");

    /* a token as the user, and a refused connection: no secret either */
    snprintf(url, sizeof(url), "http://tok3n-value@%s", f->base + strlen("http://"));
    alerts_recv_am_post(c, url, &al, 1, &res);
    assert_int_equal(res.status, ALERTS_SEND_FAIL);
    assert_null(strstr(res.msg, "tok3n"));
    alerts_recv_am_post(c, "http://alice:s3cr3t@127.0.0.1:1/", &al, 1, &res);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_null(strstr(res.msg, "s3cr3t"));
    httpc_destroy(c);
    fake_stop(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body),
        cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_credentials_not_in_msg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

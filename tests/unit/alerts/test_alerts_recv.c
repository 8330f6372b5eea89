/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for alerts/alerts_recv.c: the receiver table (every row complete,
 * every key documented in docs/alerting-receivers.md), the field-table
 * YAML reader's errors and line numbers, secrets (${VAR}, *_file, never in
 * messages), rune truncation, the group id and the result helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "alerts_recv_testlib.h"

static void test_table(void **state)
{
    (void)state;
    size_t n = 0;
    const alerts_recv_type_t *t = alerts_recv_types(&n);
    assert_int_equal(n, 4);
    const char *keys[] = { "slack_configs", "email_configs", "pagerduty_configs", "github_configs" };
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(t[i].key, keys[i]);
        assert_non_null(t[i].name);
        assert_non_null(t[i].parse);
        assert_non_null(t[i].send_resolved);
        assert_non_null(t[i].state_create);
        assert_non_null(t[i].state_destroy);
        assert_non_null(t[i].send);
        assert_non_null(t[i].fields);
        assert_non_null(t[i].fields[0].key);
        t[i].state_destroy(NULL);
    }
}

/* Every key of every row appears in the docs, as `key`. */
static void test_docs_cover_keys(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s/../../docs/alerting-receivers.md", PHAROS_TEST_DATA);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    buf_t doc = { 0 };
    char tmp[4096];
    size_t r;
    while ((r = fread(tmp, 1, sizeof(tmp), fp)) > 0) {
        buf_append(&doc, tmp, r);
    }
    fclose(fp);
    size_t n = 0;
    const alerts_recv_type_t *t = alerts_recv_types(&n);
    for (size_t i = 0; i < n; i++) {
        char want[128];
        snprintf(want, sizeof(want), "`%s`", t[i].key);
        if (!strstr((const char *)doc.data, want)) {
            fail_msg("docs/alerting-receivers.md does not mention %s", want);
        }
        for (const alerts_recv_field_t *f = t[i].fields; f->key; f++) {
            snprintf(want, sizeof(want), "`%s`", f->key);
            if (!strstr((const char *)doc.data, want)) {
                fail_msg("docs/alerting-receivers.md does not mention %s of %s", want, t[i].key);
            }
        }
    }
    buf_fini(&doc);
}

typedef struct cfg_case {
    const char *recv;
    const char *yaml;
    const char *err; /* NULL: parses */
} cfg_case_t;

static const cfg_case_t cfg_cases[] = {
    /* slack */
    { "slack_configs", "api_url: http://x/y\n", NULL },
    { "slack_configs", "channel: '#a'\n", "line 1: api_url: one of api_url or api_url_file must be configured" },
    { "slack_configs", "api_url: http://x\nchanel: '#a'\n", "line 2: chanel: unknown field" },
    { "slack_configs", "api_url: http://x\nsend_resolved: maybe\n", "line 2: send_resolved: expected true or false" },
    { "slack_configs", "api_url: http://x\n\napi_url_file: /f\n",
      "line 3: api_url_file: at most one of api_url & api_url_file must be configured" },
    { "slack_configs", "api_url: http://x\nchannel: [a, b]\n", "line 2: channel: expected a string" },
    { "slack_configs", "api_url: http://x\napi_url: http://y\n", "line 2: api_url: duplicate key" },
    { "slack_configs", "- api_url: http://x\n", "line 1: expected a mapping" },
    /* email */
    { "email_configs", "to: a@b\nfrom: c@d\nsmarthost: h:25\n", NULL },
    { "email_configs", "to: a@b\nsmarthost: h:25\n", "line 1: from: required" },
    { "email_configs", "to: a@b\nfrom: c@d\nsmarthost: h\n", "line 3: smarthost: expected host:port, got \"h\"" },
    { "email_configs", "to: a@b\nfrom: c@d\nsmarthost: h:25\ntls_config:\n  insecure: true\n",
      "line 5: tls_config.insecure: unknown field" },
    { "email_configs", "to: a@b\nfrom: c@d\nsmarthost: h:25\nheaders: [a]\n",
      "line 4: headers: expected a mapping of strings" },
    { "email_configs", "to: a@b\nfrom: c@d\nsmarthost: h:25\nheaders:\n  'X Bad': v\n",
      "line 4: headers: invalid header name \"X Bad\"" },
    { "email_configs", "to: a@b\nfrom: c@d\nsmarthost: h:25\nheaders:\n  X-A: v\n  X-A: w\n",
      "line 6: headers: duplicate key \"X-A\"" },
    { "email_configs", "to: a@b\nfrom: c@d\nsmarthost: h:25\nauth_password: p\nauth_password_file: /f\n",
      "line 5: auth_password_file: at most one of auth_password & auth_password_file must be configured" },
    /* pagerduty */
    { "pagerduty_configs", "routing_key: 0123456789abcdef0123456789abcdef\n", NULL },
    { "pagerduty_configs", "severity: critical\n",
      "line 1: routing_key: one of routing_key or routing_key_file must be configured" },
    { "pagerduty_configs", "routing_key: k\ndetails: x\n", "line 2: details: expected a mapping of strings" },
    { "pagerduty_configs", "routing_key: k\nurl: ftp://x\n", "line 2: url: must be an http(s) URL" },
    { "pagerduty_configs", "routing_key: k\nimages: []\n", "line 2: images: unknown field" },
    /* github */
    { "github_configs", "owner: o\nrepo: r\ntoken: t\nlabels: [alert, pharos]\n", NULL },
    { "github_configs", "owner: o\ntoken: t\n", "line 1: repo: required" },
    { "github_configs", "owner: o\nrepo: 'a/b'\ntoken: t\n",
      "line 2: repo: invalid name \"a/b\" (letters, digits, '-', '_', '.')" },
    { "github_configs", "owner: o\nrepo: r\n", "line 1: token: one of token or token_file must be configured" },
    { "github_configs", "owner: o\nrepo: r\ntoken: t\nlabels: a\n", "line 4: labels: expected a list of strings" },
    { "github_configs", "owner: o\nrepo: r\ntoken: t\nlabels: [[a]]\n", "line 4: labels: expected a string" },
    { "github_configs", "owner: o\nrepo: r\ntoken: t\nreopen: 2\n", "line 4: reopen: expected true or false" },
};

static void test_config_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cfg_cases) / sizeof(cfg_cases[0]); i++) {
        const cfg_case_t *c = &cfg_cases[i];
        const alerts_recv_type_t *t = test_recv_type(c->recv);
        assert_non_null(t);
        arena_t *a = arena_create(4096);
        buf_t err = { 0 };
        void *cfg = NULL;
        int rc = test_parse(t, c->yaml, a, &cfg, &err);
        if (c->err == NULL) {
            if (rc != 0) {
                fail_msg("case %zu: unexpected error \"%s\"", i, err.len ? (const char *)err.data : "");
            }
            assert_non_null(cfg);
        } else if (rc == 0 || strcmp(c->err, err.len ? (const char *)err.data : "") != 0) {
            fail_msg("case %zu: want \"%s\" got rc %d \"%s\"", i, c->err, rc, err.len ? (const char *)err.data : "");
        }
        buf_fini(&err);
        arena_destroy(a);
    }
}

static void test_send_resolved_defaults(void **state)
{
    (void)state;
    static const struct {
        const char *recv, *yaml;
        bool want;
    } cases[] = {
        { "slack_configs", "api_url: u\n", false },
        { "slack_configs", "api_url: u\nsend_resolved: true\n", true },
        { "email_configs", "to: a@b\nfrom: c@d\nsmarthost: h:25\n", false },
        { "pagerduty_configs", "routing_key: k\n", true },
        { "pagerduty_configs", "routing_key: k\nsend_resolved: false\n", false },
        { "github_configs", "owner: o\nrepo: r\ntoken: t\n", true },
        { "slack_configs", "api_url: u\nsend_resolved: ~\n", false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const alerts_recv_type_t *t = test_recv_type(cases[i].recv);
        arena_t *a = arena_create(4096);
        buf_t err = { 0 };
        void *cfg = NULL;
        assert_int_equal(test_parse(t, cases[i].yaml, a, &cfg, &err), 0);
        assert_int_equal(t->send_resolved(cfg), cases[i].want);
        buf_fini(&err);
        arena_destroy(a);
    }
}

static void test_secrets(void **state)
{
    (void)state;
    alerts_send_result_t res;
    buf_t out = { 0 };
    setenv("PHAROS_TEST_SECRET", "s3cr3t", 1);
    unsetenv("PHAROS_TEST_UNSET");

    alerts_recv_secret_t s = { .value = "https://hooks/${PHAROS_TEST_SECRET}/x" };
    assert_int_equal(alerts_recv_secret_get(&s, "api_url", &out, &res), 0);
    assert_string_equal((const char *)out.data, "https://hooks/s3cr3t/x");

    buf_reset(&out);
    s.value = "${PHAROS_TEST_UNSET}";
    assert_int_equal(alerts_recv_secret_get(&s, "token", &out, &res), -1);
    assert_int_equal(res.status, ALERTS_SEND_FAIL);
    assert_string_equal(res.msg, "token: environment variable PHAROS_TEST_UNSET is not set");

    buf_reset(&out);
    s.value = "a$b${not closed";
    assert_int_equal(alerts_recv_secret_get(&s, "token", &out, &res), 0);
    assert_string_equal((const char *)out.data, "a$b${not closed");

    char path[] = "/tmp/pharos_secret_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "  file-secret\n\n", 15), 15);
    close(fd);
    buf_reset(&out);
    alerts_recv_secret_t f = { .file = path };
    assert_int_equal(alerts_recv_secret_get(&f, "routing_key", &out, &res), 0);
    assert_string_equal((const char *)out.data, "file-secret");
    unlink(path);

    buf_reset(&out);
    assert_int_equal(alerts_recv_secret_get(&f, "routing_key", &out, &res), -1);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_non_null(strstr(res.msg, "routing_key_file: cannot read /tmp/pharos_secret_"));
    assert_null(strstr(res.msg, "file-secret"));

    /* An empty file (a rotation truncates it first) is retried, and the
     * fresh buffer it leaves empty is not written through. */
    buf_t fresh = { 0 };
    alerts_recv_secret_t empty = { .file = "/dev/null" };
    assert_int_equal(alerts_recv_secret_get(&empty, "api_url", &fresh, &res), -1);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_string_equal(res.msg, "api_url_file: /dev/null is empty");
    buf_fini(&fresh);

    alerts_recv_secret_t none = { 0 };
    assert_int_equal(alerts_recv_secret_get(&none, "api_url", &out, &res), -1);
    assert_int_equal(res.status, ALERTS_SEND_FAIL);
    buf_fini(&out);
}

static void test_truncate_runes(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t max;
        const char *want;
    } cases[] = {
        { "abc", 3, "abc" },
        { "abcd", 3, "ab\xe2\x80\xa6" },
        { "h\xc3\xa9llo", 4, "h\xc3\xa9l\xe2\x80\xa6" },
        { "\xc3\xa9\xc3\xa9\xc3\xa9", 3, "\xc3\xa9\xc3\xa9\xc3\xa9" },
        { "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 2, "\xc3\xa9\xe2\x80\xa6" },
        { "", 0, "" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_t b = { 0 };
        buf_puts(&b, "P:");
        buf_puts(&b, cases[i].in);
        alerts_recv_truncate_runes(&b, 2, cases[i].max);
        assert_int_equal(b.len, 2 + strlen(cases[i].want));
        assert_memory_equal(b.data + 2, cases[i].want, strlen(cases[i].want));
        buf_fini(&b);
    }
}

static void test_group_id(void **state)
{
    (void)state;
    char a[33], b[33], c[33];
    alerts_recv_group_id("{}:{alertname=\"X\"}", a);
    alerts_recv_group_id("{}:{alertname=\"X\"}", b);
    alerts_recv_group_id("{}:{alertname=\"Y\"}", c);
    assert_int_equal(strlen(a), 32);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    for (size_t i = 0; i < 32; i++) {
        assert_true(strchr("0123456789abcdef", a[i]) != NULL);
    }
}

static void test_result_http(void **state)
{
    (void)state;
    alerts_send_result_t res;
    httpc_result_t hr = { .status = HTTPC_RETRY, .http_code = 503, .retry_after_ms = 2000 };
    snprintf(hr.error, sizeof(hr.error), "busy");
    alerts_recv_result_http(&res, &hr, "svc");
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(res.http_code, 503);
    assert_int_equal(res.retry_after_ms, 2000);
    assert_string_equal(res.msg, "svc: HTTP 503: busy");
    hr = (httpc_result_t){ .status = HTTPC_FATAL, .http_code = 0, .retry_after_ms = -1 };
    snprintf(hr.error, sizeof(hr.error), "URL malformed");
    alerts_recv_result_http(&res, &hr, "svc");
    assert_int_equal(res.status, ALERTS_SEND_FAIL);
    assert_string_equal(res.msg, "svc: URL malformed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),         cmocka_unit_test(test_docs_cover_keys),
        cmocka_unit_test(test_config_errors), cmocka_unit_test(test_send_resolved_defaults),
        cmocka_unit_test(test_secrets),       cmocka_unit_test(test_truncate_runes),
        cmocka_unit_test(test_group_id),      cmocka_unit_test(test_result_http),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

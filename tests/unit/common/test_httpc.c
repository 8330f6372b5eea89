/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for common/httpc.c against a local httpd on 127.0.0.1 port 0: the
 * outcome classification (OK / RETRY / FATAL) for each status a sender
 * meets, Retry-After in both forms (clamped to 1 h, hostile values named),
 * error text from the body's first line, headers and body reaching the
 * server, a refused connection, and the body limit (a Content-Length over
 * it, a close-delimited stream past it, a raised limit).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <pthread.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/httpc.h"
#include "common/httpd.h"

/* Reply with the status named in the path: /status/429?retry=3 */
static void h_status(void *ctx, http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    int code = atoi(http_req_path(req) + strlen("/status/"));
    const char *retry = http_req_arg(req, "retry");
    if (retry) {
        http_resp_header(resp, "Retry-After", retry);
    }
    if (code == 204) {
        resp->status = 204;
        return;
    }
    http_resp_text(resp, code, "line one for %d\nline two", code);
}

/* Echo the request: method, a header and the body. */
static void h_echo(void *ctx, http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    size_t len = 0;
    const uint8_t *p = http_req_body(req, &len);
    const char *enc = http_req_header(req, "Content-Encoding");
    const char *expect = http_req_header(req, "Expect");
    buf_printf(&resp->body, "%s enc=%s expect=%s len=%zu:", http_req_method(req), enc ? enc : "-",
               expect ? expect : "-", len);
    buf_append(&resp->body, p, len);
}

static void h_long(void *ctx, http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    (void)req;
    resp->status = 400;
    for (int i = 0; i < 300; i++) {
        buf_putc(&resp->body, 'e');
    }
}

/* A body of HTTPC_MAX_BODY_SENDER + 1 bytes, status from ?code= (200). */
static void h_big(void *ctx, http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    const char *code = http_req_arg(req, "code");
    resp->status = code ? atoi(code) : 200;
    const char *first = "big first line\n";
    buf_puts(&resp->body, first);
    for (size_t i = strlen(first); i < HTTPC_MAX_BODY_SENDER + 1; i++) {
        buf_putc(&resp->body, 'b');
    }
}

static void h_slow(void *ctx, http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    (void)req;
    usleep(600 * 1000);
    buf_puts(&resp->body, "late");
}

static const httpd_route_t routes[] = {
    { .path = "/status/*", .fn = h_status },
    { .path = "/echo", .fn = h_echo, .max_body = 1 << 20 },
    { .method = "PATCH", .path = "/echo", .fn = h_echo, .max_body = 1 << 20 },
    { .method = "DELETE", .path = "/echo", .fn = h_echo },
    { .path = "/long", .fn = h_long },
    { .path = "/slow", .fn = h_slow },
    { .path = "/big", .fn = h_big },
};

typedef struct fixture {
    httpd_t *h;
    httpc_t *c;
    char base[64];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    httpd_opts_t o = { .listen = "127.0.0.1:0", .routes = routes, .nroutes = sizeof(routes) / sizeof(routes[0]) };
    char err[256];
    if (httpd_start(&o, &f->h, err, sizeof(err)) != 0) {
        free(f);
        return -1;
    }
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", (unsigned)httpd_port(f->h));
    f->c = httpc_create(5000);
    *state = f;
    return f->c ? 0 : -1;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    httpc_destroy(f->c);
    httpd_stop(f->h);
    free(f);
    return 0;
}

typedef struct status_case {
    const char *path;
    bool post;
    httpc_status_t want;
    long code;
    int64_t retry_ms;
    const char *error; /* exact error text */
} status_case_t;

static const status_case_t status_cases[] = {
    { "/status/200", true, HTTPC_OK, 200, -1, "" },
    { "/status/204", true, HTTPC_OK, 204, -1, "" },
    { "/status/202", false, HTTPC_OK, 202, -1, "" },
    { "/status/400", true, HTTPC_FATAL, 400, -1, "line one for 400" },
    { "/status/404", false, HTTPC_FATAL, 404, -1, "line one for 404" },
    { "/status/413", true, HTTPC_FATAL, 413, -1, "line one for 413" },
    { "/status/429?retry=3", true, HTTPC_RETRY, 429, 3000, "line one for 429" },
    { "/status/429?retry=+7+", true, HTTPC_RETRY, 429, 7000, "line one for 429" },
    { "/status/429?retry=soon", true, HTTPC_RETRY, 429, -1, "line one for 429" },
    { "/status/503?retry=0", true, HTTPC_RETRY, 503, 0, "line one for 503" },
    /* Clamped to 1 h: the bound, past it, the largest delay that fits in
     * int64 ms, one that would overflow it, and more digits than int64. */
    { "/status/503?retry=3600", true, HTTPC_RETRY, 503, 3600000, "line one for 503" },
    { "/status/503?retry=3601", true, HTTPC_RETRY, 503, 3600000, "line one for 503" },
    { "/status/503?retry=9223372036854775", true, HTTPC_RETRY, 503, 3600000, "line one for 503" },
    { "/status/429?retry=9223372036854776", true, HTTPC_RETRY, 429, 3600000, "line one for 429" },
    { "/status/429?retry=00000000000000000000000000000000042", true, HTTPC_RETRY, 429, 42000, "line one for 429" },
    { "/status/429?retry=999999999999999999999999999999999999", true, HTTPC_RETRY, 429, 3600000, "line one for 429" },
    { "/status/429?retry=-5", true, HTTPC_RETRY, 429, -1, "line one for 429" },
    { "/status/429?retry=5x", true, HTTPC_RETRY, 429, -1, "line one for 429" },
    { "/status/503", true, HTTPC_RETRY, 503, -1, "line one for 503" },
    { "/status/500", false, HTTPC_RETRY, 500, -1, "line one for 500" },
    { "/status/302", true, HTTPC_FATAL, 302, -1, "line one for 302" },
    { "/status/204?retry=Wed,+21+Oct+2015+07:28:00+GMT", true, HTTPC_OK, 204, 0, "" },
};

static void test_status_table(void **state)
{
    fixture_t *f = *state;
    for (size_t i = 0; i < sizeof(status_cases) / sizeof(status_cases[0]); i++) {
        const status_case_t *c = &status_cases[i];
        char url[256];
        snprintf(url, sizeof(url), "%s%s", f->base, c->path);
        httpc_result_t res;
        memset(&res, 0x5a, sizeof(res));
        if (c->post) {
            static const char *const hdrs[] = { "Content-Type: text/plain", NULL };
            httpc_post(f->c, url, hdrs, "x", 1, NULL, &res);
        } else {
            httpc_get(f->c, url, NULL, NULL, &res);
        }
        if (res.status != c->want || res.http_code != c->code || res.retry_after_ms != c->retry_ms ||
            strcmp(res.error, c->error) != 0) {
            fail_msg("%s: status %d code %ld retry %lld error \"%s\"", c->path, res.status, res.http_code,
                     (long long)res.retry_after_ms, res.error);
        }
    }
}

static void test_retry_after_date(void **state)
{
    fixture_t *f = *state;
    time_t when = time(NULL) + 120;
    struct tm tm;
    gmtime_r(&when, &tm);
    char date[64];
    strftime(date, sizeof(date), "%a,+%d+%b+%Y+%H:%M:%S+GMT", &tm);
    char url[256];
    snprintf(url, sizeof(url), "%s/status/503?retry=%s", f->base, date);
    httpc_result_t res;
    httpc_post(f->c, url, NULL, "", 0, NULL, &res);
    assert_int_equal(res.status, HTTPC_RETRY);
    assert_true(res.retry_after_ms > 110000 && res.retry_after_ms <= 120000);

    /* a date in a century: the 1 h bound */
    when = time(NULL) + 100LL * 365 * 86400;
    gmtime_r(&when, &tm);
    strftime(date, sizeof(date), "%a,+%d+%b+%Y+%H:%M:%S+GMT", &tm);
    snprintf(url, sizeof(url), "%s/status/503?retry=%s", f->base, date);
    httpc_post(f->c, url, NULL, "", 0, NULL, &res);
    assert_int_equal(res.status, HTTPC_RETRY);
    assert_int_equal(res.retry_after_ms, HTTPC_RETRY_AFTER_MAX_MS);
}

/* A raw server for one connection: answers `code` with no Content-Length
 * (the body ends at close) and streams up to total bytes; sent is what
 * the kernel took before the client went away. */
typedef struct stream_srv {
    int lfd;
    uint16_t port;
    pthread_t th;
    int code;
    size_t total;
    size_t sent;
} stream_srv_t;

static void *stream_main(void *arg)
{
    stream_srv_t *s = arg;
    int fd = accept(s->lfd, NULL, NULL);
    if (fd < 0) {
        return NULL;
    }
    char req[4096];
    size_t got = 0;
    while (got + 1 < sizeof(req)) {
        ssize_t r = recv(fd, req + got, sizeof(req) - 1 - got, 0);
        if (r <= 0) {
            break;
        }
        got += (size_t)r;
        req[got] = '\0';
        if (strstr(req, "\r\n\r\n")) {
            break;
        }
    }
    char head[128];
    int hn =
        snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n", s->code);
    if (send(fd, head, (size_t)hn, MSG_NOSIGNAL) == hn) {
        static char chunk[64 * 1024];
        memset(chunk, 'z', sizeof(chunk));
        while (s->sent < s->total) {
            ssize_t w = send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL);
            if (w <= 0) {
                break;
            }
            s->sent += (size_t)w;
        }
    }
    close(fd);
    return NULL;
}

static void stream_start(stream_srv_t *s, int code, size_t total)
{
    memset(s, 0, sizeof(*s));
    s->code = code;
    s->total = total;
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sa);
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(s->lfd, 1), 0);
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sa, &len), 0);
    s->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&s->th, NULL, stream_main, s), 0);
}

static void stream_stop(stream_srv_t *s)
{
    pthread_join(s->th, NULL);
    close(s->lfd);
}

/* Bodies past the limit abort the transfer: a 2xx is RETRY (the answer is
 * unread), a refusal keeps its class; the kept bytes never pass the
 * limit; a caller can raise it. */
static void test_body_limit(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(httpc_max_body(f->c), 0); /* a new client: no limit */
    httpc_set_max_body(f->c, HTTPC_MAX_BODY_SENDER);
    char url[128];
    buf_t out = { 0 };
    httpc_result_t res;

    /* a close-delimited 256 MiB stream: cut after 1 MiB */
    stream_srv_t s;
    stream_start(&s, 200, (size_t)256 << 20);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/stream", (unsigned)s.port);
    httpc_get(f->c, url, NULL, &out, &res);
    stream_stop(&s);
    if (res.status != HTTPC_RETRY || res.http_code != 200 || strstr(res.error, "over 1048576 bytes") == NULL) {
        fail_msg("stream: status %d code %ld error \"%s\"", res.status, res.http_code, res.error);
    }
    assert_true(out.len <= HTTPC_MAX_BODY_SENDER);
    assert_true(s.sent < s.total);

    /* the same without a resp_body: still aborted */
    stream_start(&s, 200, (size_t)256 << 20);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/stream", (unsigned)s.port);
    httpc_post(f->c, url, NULL, "x", 1, NULL, &res);
    stream_stop(&s);
    assert_int_equal(res.status, HTTPC_RETRY);
    assert_non_null(strstr(res.error, "transfer aborted"));
    assert_true(s.sent < s.total);

    /* a 400 streaming past the limit stays FATAL */
    stream_start(&s, 400, (size_t)256 << 20);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/stream", (unsigned)s.port);
    httpc_request(f->c, "PATCH", url, NULL, "{}", 2, NULL, &res);
    stream_stop(&s);
    assert_int_equal(res.status, HTTPC_FATAL);
    assert_int_equal(res.http_code, 400);
    assert_non_null(strstr(res.error, "over 1048576 bytes"));

    /* a Content-Length one byte over: 2xx RETRY, 503 RETRY, 404 FATAL */
    static const struct {
        const char *q;
        httpc_status_t want;
        long code;
    } cl[] = { { "", HTTPC_RETRY, 200 }, { "?code=503", HTTPC_RETRY, 503 }, { "?code=404", HTTPC_FATAL, 404 } };
    for (size_t i = 0; i < sizeof(cl) / sizeof(cl[0]); i++) {
        buf_reset(&out);
        snprintf(url, sizeof(url), "%s/big%s", f->base, cl[i].q);
        httpc_get(f->c, url, NULL, &out, &res);
        if (res.status != cl[i].want || res.http_code != cl[i].code || !strstr(res.error, "over 1048576 bytes")) {
            fail_msg("big%s: status %d code %ld error \"%s\"", cl[i].q, res.status, res.http_code, res.error);
        }
        assert_true(out.len <= HTTPC_MAX_BODY_SENDER);
    }

    /* raised: the whole answer, OK; 0: no limit */
    httpc_set_max_body(f->c, (size_t)4 << 20);
    assert_int_equal(httpc_max_body(f->c), (size_t)4 << 20);
    buf_reset(&out);
    snprintf(url, sizeof(url), "%s/big", f->base);
    httpc_get(f->c, url, NULL, &out, &res);
    assert_int_equal(res.status, HTTPC_OK);
    assert_int_equal(out.len, HTTPC_MAX_BODY_SENDER + 1);
    httpc_set_max_body(f->c, 0);
    assert_int_equal(httpc_max_body(f->c), 0);
    buf_reset(&out);
    httpc_get(f->c, url, NULL, &out, &res);
    assert_int_equal(res.status, HTTPC_OK);
    assert_int_equal(out.len, HTTPC_MAX_BODY_SENDER + 1);
    /* exactly at the limit passes */
    httpc_set_max_body(f->c, HTTPC_MAX_BODY_SENDER + 1);
    buf_reset(&out);
    httpc_get(f->c, url, NULL, &out, &res);
    assert_int_equal(res.status, HTTPC_OK);
    assert_int_equal(out.len, HTTPC_MAX_BODY_SENDER + 1);
    buf_fini(&out);
}

static void test_body_and_headers(void **state)
{
    fixture_t *f = *state;
    char url[128];
    snprintf(url, sizeof(url), "%s/echo", f->base);
    static const char *const hdrs[] = { "Content-Encoding: snappy", "Content-Type: application/x-protobuf", NULL };
    uint8_t body[3000];
    for (size_t i = 0; i < sizeof(body); i++) {
        body[i] = (uint8_t)(i * 13);
    }
    buf_t out = { 0 };
    buf_puts(&out, "prefix|");
    httpc_result_t res;
    httpc_post(f->c, url, hdrs, body, sizeof(body), &out, &res);
    assert_int_equal(res.status, HTTPC_OK);
    assert_string_equal(res.error, "");
    const char want[] = "prefix|POST enc=snappy expect=- len=3000:";
    assert_true(out.len == sizeof(want) - 1 + sizeof(body));
    assert_memory_equal(out.data, want, sizeof(want) - 1);
    assert_memory_equal(out.data + sizeof(want) - 1, body, sizeof(body));

    /* same handle again (keep-alive), now a GET appended to the same buffer */
    buf_reset(&out);
    httpc_get(f->c, url, NULL, &out, &res);
    assert_int_equal(res.status, HTTPC_OK);
    assert_string_equal((const char *)out.data, "GET enc=- expect=- len=0:");
    /* a GET carries the caller's headers */
    static const char *const get_hdrs[] = { "Content-Encoding: gzip", NULL };
    buf_reset(&out);
    httpc_get(f->c, url, get_hdrs, &out, &res);
    assert_int_equal(res.status, HTTPC_OK);
    assert_string_equal((const char *)out.data, "GET enc=gzip expect=- len=0:");
    assert_string_equal(res.content_type, "text/plain; charset=utf-8");
    buf_fini(&out);
}

/* The error line is the body's first line from this response, capped. */
static void test_error_text(void **state)
{
    fixture_t *f = *state;
    char url[128];
    snprintf(url, sizeof(url), "%s/long", f->base);
    buf_t out = { 0 };
    buf_puts(&out, "earlier\n");
    httpc_result_t res;
    httpc_post(f->c, url, NULL, "x", 1, &out, &res);
    assert_int_equal(res.status, HTTPC_FATAL);
    assert_int_equal(strlen(res.error), 200);
    assert_int_equal(res.error[0], 'e');
    assert_int_equal(out.len, 8 + 300);
    buf_fini(&out);
}

static void test_timeout_retries(void **state)
{
    fixture_t *f = *state;
    httpc_t *c = httpc_create(200);
    assert_non_null(c);
    char url[128];
    snprintf(url, sizeof(url), "%s/slow", f->base);
    httpc_result_t res;
    httpc_get(c, url, NULL, NULL, &res);
    assert_int_equal(res.status, HTTPC_RETRY);
    assert_int_equal(res.http_code, 0);
    assert_true(res.error[0] != '\0');
    httpc_destroy(c);
}

/* A port nobody listens on: bind one, note it, close it. */
static void test_connection_refused(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    socklen_t sl = sizeof(sa);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    close(fd);
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v1/write", (unsigned)ntohs(sa.sin_port));
    httpc_t *c = httpc_create(2000);
    httpc_result_t res;
    httpc_post(c, url, NULL, "x", 1, NULL, &res);
    assert_int_equal(res.status, HTTPC_RETRY);
    assert_int_equal(res.http_code, 0);
    assert_int_equal(res.retry_after_ms, -1);
    assert_true(res.error[0] != '\0');
    httpc_destroy(c);
    httpc_destroy(NULL);
}

static void test_bad_url_fatal(void **state)
{
    (void)state;
    httpc_t *c = httpc_create(1000);
    httpc_result_t res;
    httpc_get(c, "nosuchscheme://x/", NULL, NULL, &res);
    assert_int_equal(res.status, HTTPC_FATAL);
    assert_true(res.error[0] != '\0');
    httpc_destroy(c);
}

/* httpc_request with other methods, httpc_last_header, httpc_set_timeout. */
static void test_request_methods(void **state)
{
    fixture_t *f = *state;
    char url[128];
    snprintf(url, sizeof(url), "%s/echo", f->base);
    buf_t out = { 0 };
    httpc_result_t res;
    httpc_request(f->c, "PATCH", url, NULL, "{\"a\":1}", 7, &out, &res);
    assert_int_equal(res.status, HTTPC_OK);
    buf_putc(&out, 0);
    assert_string_equal((const char *)out.data, "PATCH enc=- expect=- len=7:{\"a\":1}");
    buf_reset(&out);
    httpc_request(f->c, "DELETE", url, NULL, NULL, 0, &out, &res);
    assert_int_equal(res.status, HTTPC_OK);
    buf_putc(&out, 0);
    assert_string_equal((const char *)out.data, "DELETE enc=- expect=- len=0:");
    buf_reset(&out);
    httpc_request(f->c, "GET", url, NULL, NULL, 0, &out, &res);
    assert_int_equal(res.status, HTTPC_OK);
    buf_putc(&out, 0);
    assert_string_equal((const char *)out.data, "GET enc=- expect=- len=0:");

    char v[64];
    snprintf(url, sizeof(url), "%s/status/429?retry=12", f->base);
    httpc_request(f->c, "POST", url, NULL, "x", 1, NULL, &res);
    assert_int_equal(res.status, HTTPC_RETRY);
    assert_int_equal(httpc_last_header(f->c, "retry-after", v, sizeof(v)), 1);
    assert_string_equal(v, "12");
    assert_int_equal(httpc_last_header(f->c, "X-Missing", v, sizeof(v)), 0);
    assert_int_equal(httpc_last_header(f->c, "Retry-After", v, 2), 1);
    assert_string_equal(v, "1");

    snprintf(url, sizeof(url), "%s/slow", f->base);
    httpc_set_timeout(f->c, 200);
    httpc_request(f->c, "GET", url, NULL, NULL, 0, NULL, &res);
    assert_int_equal(res.status, HTTPC_RETRY);
    assert_int_equal(res.http_code, 0);
    httpc_set_timeout(f->c, 5000);
    buf_fini(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_status_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_after_date, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_and_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_retries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_methods, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_limit, setup, teardown),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_bad_url_fatal),
    };
    return cmocka_run_group_tests_name("httpc", tests, NULL, NULL);
}

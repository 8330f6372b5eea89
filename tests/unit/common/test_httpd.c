/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for common/httpd.c: a server on 127.0.0.1 port 0 driven with raw
 * HTTP/1.1 over sockets, so every byte of requests (chunked bodies, lying
 * Content-Length, binary payloads) and responses (status, headers, empty
 * 204 body) is visible. Cases are one table; the few that need a built
 * request (chunked, binary) are their own tests.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/httpd.h"

/* ---- handlers ---- */

static void h_hello(void *ctx, http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    (void)req;
    buf_puts(&resp->body, "hello\n");
}

static void h_args(void *ctx, http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    const char **vals = NULL;
    size_t n = http_req_args(req, "match[]", &vals);
    for (size_t i = 0; i < n; i++) {
        buf_printf(&resp->body, "match[]=%s\n", vals[i]);
    }
    const char *q = http_req_arg(req, "query");
    if (q) {
        buf_printf(&resp->body, "query=%s\n", q);
    }
    if (http_req_args(req, "absent", &vals) != 0 || vals != NULL) {
        resp->status = 500;
    }
}

static void h_echo(void *ctx, http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    size_t len = 0;
    const uint8_t *p = http_req_body(req, &len);
    resp->content_type = "application/octet-stream";
    buf_append(&resp->body, p, len);
}

static void h_nothing(void *ctx, http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    (void)req;
    resp->status = 204;
    buf_puts(&resp->body, "must not be sent");
}

static void h_hdr(void *ctx, http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    resp->content_type = "application/json";
    http_resp_header(resp, "X-Test", "yes");
    http_resp_header(resp, "X-Path", arena_strndup(http_req_arena(req), "arena", 5));
    buf_puts(&resp->body, "{}");
}

static void h_path(void *ctx, http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    http_resp_text(resp, 200, "%s %s", http_req_method(req), http_req_path(req));
}

static void h_reqhdr(void *ctx, http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    const char *v = http_req_header(req, "X-Req");
    http_resp_text(resp, v ? 200 : 400, "%s", v ? v : "missing");
}

static void h_ctx(void *ctx, http_req_t *req, http_resp_t *resp)
{
    (void)req;
    http_resp_text(resp, 418, "%s", (const char *)ctx);
}

static const httpd_route_t routes[] = {
    { .method = "GET", .path = "/hello", .fn = h_hello },
    { .method = NULL, .path = "/api/v1/query", .fn = h_args },
    { .method = "POST", .path = "/echo", .fn = h_echo, .max_body = 1024 },
    { .method = "POST", .path = "/echo_default", .fn = h_echo },
    { .method = "GET", .path = "/nothing", .fn = h_nothing },
    { .method = "GET", .path = "/hdr", .fn = h_hdr },
    { .method = "GET", .path = "/prefix/*", .fn = h_path },
    { .method = "GET", .path = "/reqhdr", .fn = h_reqhdr },
    { .method = "GET", .path = "/ctx", .fn = h_ctx },
    { .method = "PUT", .path = "/multi", .fn = h_hello },
    { .method = "DELETE", .path = "/multi", .fn = h_hello },
};

/* ---- raw client ---- */

typedef struct raw_resp {
    int status;
    char head[4096];
    buf_t body;
} raw_resp_t;

static int raw_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = { .tv_sec = 5 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void raw_send(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w <= 0) {
            return; /* the server may close early (413); the reply is still read */
        }
        b += w;
        n -= (size_t)w;
    }
}

/* Read to EOF and split the response. */
static void raw_read(int fd, raw_resp_t *r)
{
    buf_t all = { 0 };
    uint8_t tmp[4096];
    for (;;) {
        ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
        if (n <= 0) {
            break;
        }
        buf_append(&all, tmp, (size_t)n);
    }
    close(fd);
    memset(r, 0, sizeof(*r));
    r->status = -1;
    const char *sep = all.data ? strstr((const char *)all.data, "\r\n\r\n") : NULL;
    if (sep) {
        size_t hl = (size_t)(sep - (const char *)all.data);
        snprintf(r->head, sizeof(r->head), "%.*s", (int)hl, (const char *)all.data);
        sscanf(r->head, "HTTP/1.%*d %d", &r->status);
        buf_append(&r->body, sep + 4, all.len - hl - 4);
    }
    buf_fini(&all);
}

static void raw_request(uint16_t port, const void *req, size_t len, raw_resp_t *r)
{
    int fd = raw_connect(port);
    assert_true(fd >= 0);
    raw_send(fd, req, len);
    raw_read(fd, r);
}

/* Case-insensitive search for "Name: value" in the response head. */
static bool has_header(const raw_resp_t *r, const char *line)
{
    return strcasestr(r->head, line) != NULL;
}

/* ---- fixture ---- */

typedef struct fixture {
    httpd_t *h;
    uint16_t port;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    httpd_opts_t o = {
        .listen = "127.0.0.1:0",
        .threads = 2,
        .default_max_body = 4096,
        .routes = routes,
        .nroutes = sizeof(routes) / sizeof(routes[0]),
        .ctx = "the-context",
    };
    char err[256] = "";
    if (httpd_start(&o, &f->h, err, sizeof(err)) != 0) {
        fprintf(stderr, "httpd_start: %s\n", err);
        free(f);
        return -1;
    }
    f->port = httpd_port(f->h);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    httpd_stop(f->h);
    free(f);
    return 0;
}

/* ---- table ---- */

typedef struct http_case {
    const char *name;
    const char *request; /* without the final CRLF of the head, added with Connection: close */
    const char *body;    /* request body, or NULL */
    int status;
    const char *want_body;   /* exact response body, or NULL for "don't care" */
    const char *want_header; /* a "Name: value" that must appear, or NULL */
} http_case_t;

static const http_case_t cases[] = {
    { "exact route", "GET /hello HTTP/1.1", NULL, 200, "hello\n", "Content-Type: text/plain; charset=utf-8" },
    { "unknown path", "GET /nope HTTP/1.1", NULL, 404, "404 page not found\n", NULL },
    { "prefix route needs its prefix", "GET /prefix HTTP/1.1", NULL, 404, "404 page not found\n", NULL },
    { "wrong method", "POST /hello HTTP/1.1\r\nContent-Length: 0", NULL, 405, NULL, "Allow: GET" },
    { "unknown path with a body", "POST /nope HTTP/1.1", "some body", 404, "404 page not found\n", NULL },
    { "wrong method with a body", "POST /hello HTTP/1.1", "some body", 405, NULL, "Allow: GET" },
    { "wrong method, two routes", "GET /multi HTTP/1.1", NULL, 405, NULL, "Allow: PUT, DELETE" },
    { "NULL method refuses PUT", "PUT /api/v1/query HTTP/1.1\r\nContent-Length: 0", NULL, 405, NULL,
      "Allow: GET, POST" },
    { "repeated GET args in order, + and %XX",
      "GET /api/v1/query?match[]=up&match%5B%5D=a%2Bb&query=rate(x%5B5m%5D)+%3E+0 HTTP/1.1", NULL, 200,
      "match[]=up\nmatch[]=a+b\nquery=rate(x[5m]) > 0\n", NULL },
    { "malformed escapes kept", "GET /api/v1/query?query=100%25%zz%4 HTTP/1.1", NULL, 200, "query=100%%zz%4\n", NULL },
    { "POST form args follow query args",
      "POST /api/v1/query?match[]=q1 HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded",
      "match[]=f1&query=sum+by+(job)+(up)&match[]=f%262&&novalue", 200,
      "match[]=q1\nmatch[]=f1\nmatch[]=f&2\nquery=sum by (job) (up)\n", NULL },
    { "form content type with charset",
      "POST /api/v1/query HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded; charset=UTF-8", "query=up", 200,
      "query=up\n", NULL },
    { "non-form POST body is not parsed", "POST /api/v1/query HTTP/1.1\r\nContent-Type: text/plain", "query=up", 200,
      "", NULL },
    { "Content-Length over route limit",
      "POST /echo HTTP/1.1\r\nContent-Type: application/octet-stream\r\nContent-Length: 2000", NULL, 413,
      "request body too large (limit 1024 bytes)\n", NULL },
    { "Content-Length over default limit", "POST /echo_default HTTP/1.1\r\nContent-Length: 5000", NULL, 413,
      "request body too large (limit 4096 bytes)\n", NULL },
    { "absurd Content-Length", "POST /echo HTTP/1.1\r\nContent-Length: 99999999999999999999999", NULL, 413, NULL,
      NULL },
    { "empty POST body", "POST /echo HTTP/1.1\r\nContent-Length: 0", "", 200, "", NULL },
    { "204 has no body", "GET /nothing HTTP/1.1", NULL, 204, "", NULL },
    { "custom headers and content type", "GET /hdr HTTP/1.1", NULL, 200, "{}", "X-Test: yes" },
    { "arena header value", "GET /hdr HTTP/1.1", NULL, 200, "{}", "X-Path: arena" },
    { "json content type", "GET /hdr HTTP/1.1", NULL, 200, "{}", "Content-Type: application/json" },
    { "prefix route", "GET /prefix/a/b%20c HTTP/1.1", NULL, 200, "GET /prefix/a/b c\n", NULL },
    { "request header, any case", "GET /reqhdr HTTP/1.1\r\nx-req: v1", NULL, 200, "v1\n", NULL },
    { "missing request header", "GET /reqhdr HTTP/1.1", NULL, 400, "missing\n", NULL },
    { "context reaches handler", "GET /ctx HTTP/1.1", NULL, 418, "the-context\n", NULL },
    { "HEAD on a GET route", "HEAD /hello HTTP/1.1", NULL, 200, "", "Content-Length: 6" },
};

static void test_table(void **state)
{
    fixture_t *f = *state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const http_case_t *c = &cases[i];
        buf_t req = { 0 };
        buf_printf(&req, "%s\r\nHost: 127.0.0.1\r\nConnection: close\r\n", c->request);
        if (c->body && !strstr(c->request, "Content-Length")) {
            buf_printf(&req, "Content-Length: %zu\r\n", strlen(c->body));
        }
        buf_puts(&req, "\r\n");
        if (c->body) {
            buf_puts(&req, c->body);
        }
        raw_resp_t r;
        raw_request(f->port, req.data, req.len, &r);
        buf_fini(&req);
        if (r.status != c->status) {
            fail_msg("%s: status %d, want %d\n%s", c->name, r.status, c->status, r.head);
        }
        if (c->want_body) {
            const char *got = r.body.data ? (const char *)r.body.data : "";
            if (strcmp(got, c->want_body) != 0) {
                fail_msg("%s: body \"%s\", want \"%s\"", c->name, got, c->want_body);
            }
        }
        if (c->want_header && !has_header(&r, c->want_header)) {
            fail_msg("%s: no \"%s\" in\n%s", c->name, c->want_header, r.head);
        }
        buf_fini(&r.body);
    }
}

/* A chunked body has no Content-Length: the limit is found while streaming. */
static void test_chunked_over_limit(void **state)
{
    fixture_t *f = *state;
    static const size_t sizes[] = { 1025, 3000, 200000 };
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        buf_t req = { 0 };
        buf_puts(&req, "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n");
        size_t left = sizes[k];
        while (left > 0) {
            size_t n = left < 500 ? left : 500;
            buf_printf(&req, "%zx\r\n", n);
            for (size_t i = 0; i < n; i++) {
                buf_putc(&req, 'a');
            }
            buf_puts(&req, "\r\n");
            left -= n;
        }
        buf_puts(&req, "0\r\n\r\n");
        raw_resp_t r;
        raw_request(f->port, req.data, req.len, &r);
        buf_fini(&req);
        assert_int_equal(r.status, 413);
        assert_string_equal((const char *)r.body.data, "request body too large (limit 1024 bytes)\n");
        buf_fini(&r.body);
    }
    /* under the limit, chunked is fine */
    const char ok[] = "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
                      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    raw_resp_t r;
    raw_request(f->port, ok, sizeof(ok) - 1, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal((const char *)r.body.data, "abcde");
    buf_fini(&r.body);
}

/* Every byte value survives the round trip, at sizes around the limit. */
static void test_binary_round_trip(void **state)
{
    fixture_t *f = *state;
    static const size_t sizes[] = { 1, 255, 256, 1023, 1024 };
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        uint8_t body[1024];
        for (size_t i = 0; i < sizes[k]; i++) {
            body[i] = (uint8_t)(i * 7 + k);
        }
        buf_t req = { 0 };
        buf_printf(&req,
                   "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                   "Content-Type: application/x-protobuf\r\nContent-Length: %zu\r\n\r\n",
                   sizes[k]);
        buf_append(&req, body, sizes[k]);
        raw_resp_t r;
        raw_request(f->port, req.data, req.len, &r);
        buf_fini(&req);
        assert_int_equal(r.status, 200);
        assert_true(has_header(&r, "Content-Type: application/octet-stream"));
        assert_int_equal(r.body.len, sizes[k]);
        assert_memory_equal(r.body.data, body, sizes[k]);
        buf_fini(&r.body);
    }
}

/* Several requests on one keep-alive connection. */
static void test_keep_alive(void **state)
{
    fixture_t *f = *state;
    int fd = raw_connect(f->port);
    assert_true(fd >= 0);
    const char two[] = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    raw_send(fd, two, sizeof(two) - 1);
    raw_resp_t r;
    raw_read(fd, &r);
    assert_int_equal(r.status, 200);
    const char *second = strstr((const char *)r.body.data, "HTTP/1.1 200");
    assert_non_null(second);
    buf_fini(&r.body);
}

typedef struct listen_case {
    const char *listen;
    int rc;
} listen_case_t;

static void test_listen_parsing(void **state)
{
    (void)state;
    static const listen_case_t lc[] = {
        { "127.0.0.1:0", 0 },    { "nonsense", -1 }, { "127.0.0.1:", -1 }, { "127.0.0.1:70000", -1 },
        { "127.0.0.1:12x", -1 }, { "[::1:0", -1 },   { "[::1]0", -1 },     { "no.such.host.invalid:0", -1 },
    };
    for (size_t i = 0; i < sizeof(lc) / sizeof(lc[0]); i++) {
        httpd_opts_t o = { .listen = lc[i].listen, .routes = routes, .nroutes = 1 };
        httpd_t *h = NULL;
        char err[256] = "";
        int rc = httpd_start(&o, &h, err, sizeof(err));
        if (rc != lc[i].rc) {
            fail_msg("%s: rc %d want %d (%s)", lc[i].listen, rc, lc[i].rc, err);
        }
        if (rc == 0) {
            assert_true(httpd_port(h) != 0);
        } else {
            assert_null(h);
            assert_true(err[0] != '\0');
        }
        httpd_stop(h);
    }
    httpd_stop(NULL);
}

/* IPv6 loopback, when the host has it. */
static void test_ipv6(void **state)
{
    (void)state;
    httpd_opts_t o = { .listen = "[::1]:0", .routes = routes, .nroutes = 1 };
    httpd_t *h = NULL;
    char err[256] = "";
    if (httpd_start(&o, &h, err, sizeof(err)) != 0) {
        skip();
    }
    uint16_t port = httpd_port(h);
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    const char req[] = "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    raw_send(fd, req, sizeof(req) - 1);
    raw_resp_t r;
    raw_read(fd, &r);
    assert_int_equal(r.status, 200);
    buf_fini(&r.body);
    httpd_stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chunked_over_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binary_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive, setup, teardown),
        cmocka_unit_test(test_listen_parsing),
        cmocka_unit_test(test_ipv6),
    };
    return cmocka_run_group_tests_name("httpd", tests, NULL, NULL);
}

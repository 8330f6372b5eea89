/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for agent/agent_httpd.c: a server on 127.0.0.1 port 0 driven with
 * raw sockets, so every byte of requests (split, pipelined, hostile) and
 * responses (status line, headers, keep-alive or close) is visible. Hostile
 * request heads are one table; connection behaviour (keep-alive, pipelining,
 * slow and stalled clients, many clients, stop) has a test each. The
 * timeouts are the server's real 5 s, so the two slow-client cases run
 * together in one test to keep the file under ~10 s. /huge (16 MiB) and a
 * small client receive buffer force partial writes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent_int.h"
#include "common/buf.h"
#include "common/clock.h"

#define HUGE_LEN (16u << 20)

/* ---- handler ---- */

static void handler(void *ctx, const char *path, buf_t *body, int *status, const char **content_type)
{
    (void)ctx;
    if (strcmp(path, "/hello") == 0) {
        buf_puts(body, "hello\n");
    } else if (strcmp(path, "/metrics") == 0) {
        *content_type = "text/plain; version=0.0.4; charset=utf-8";
        buf_puts(body, "up 1\n");
    } else if (strncmp(path, "/echo", 5) == 0) {
        buf_puts(body, path);
    } else if (strcmp(path, "/huge") == 0) {
        size_t n = HUGE_LEN;
        buf_reserve(body, n);
        for (size_t i = 0; i < n; i++) {
            body->data[i] = (uint8_t)('a' + i % 26);
        }
        body->len = n;
        body->data[n] = '\0';
    } else if (strcmp(path, "/weird") == 0) {
        *status = 42; /* out of range: sent as 500 */
    } else if (strcmp(path, "/empty") == 0) {
        *status = 204;
        buf_puts(body, "not sent");
    } else {
        *status = 404;
        buf_puts(body, "not found\n");
    }
}

/* ---- raw client ---- */

typedef struct client {
    int fd;
    buf_t in; /* received, not yet consumed */
} client_t;

typedef struct resp {
    int status;
    char head[2048]; /* status line and headers, CRLFs kept */
    buf_t body;
} resp_t;

static int raw_connect_to(int family, uint16_t port, int rcvbuf)
{
    int fd = socket(family, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct timeval tv = { .tv_sec = 10 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (rcvbuf > 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    }
    int rc = -1;
    if (family == AF_INET6) {
        struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = in6addr_loopback };
        rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    } else {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    }
    if (rc != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void client_open(client_t *c, uint16_t port)
{
    memset(c, 0, sizeof(*c));
    c->fd = raw_connect_to(AF_INET, port, 0);
    assert_true(c->fd >= 0);
}

static void client_close(client_t *c)
{
    if (c->fd >= 0) {
        close(c->fd);
    }
    buf_fini(&c->in);
    c->fd = -1;
}

static void client_send(client_t *c, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = send(c->fd, b, n, MSG_NOSIGNAL);
        if (w <= 0) {
            return; /* the server may close early; the reply is still read */
        }
        b += w;
        n -= (size_t)w;
    }
}

static void client_sends(client_t *c, const char *s)
{
    client_send(c, s, strlen(s));
}

/* Receive more into c->in. Bytes read, 0 on EOF, -1 on error or timeout. */
static ssize_t client_fill(client_t *c)
{
    buf_reserve(&c->in, 65536);
    ssize_t n = recv(c->fd, c->in.data + c->in.len, 65536, 0);
    if (n > 0) {
        c->in.len += (size_t)n;
        c->in.data[c->in.len] = '\0';
    }
    return n;
}

static void client_consume(client_t *c, size_t n)
{
    memmove(c->in.data, c->in.data + n, c->in.len - n);
    c->in.len -= n;
    c->in.data[c->in.len] = '\0';
}

/* Read one response (no body after a HEAD). 0, or -1 when the connection
 * ended first. */
static int client_read(client_t *c, bool head_only, resp_t *r)
{
    memset(r, 0, sizeof(*r));
    r->status = -1;
    const char *sep = NULL;
    while (!(sep = c->in.len ? strstr((const char *)c->in.data, "\r\n\r\n") : NULL)) {
        if (client_fill(c) <= 0) {
            return -1;
        }
    }
    size_t hl = (size_t)(sep - (const char *)c->in.data) + 4;
    snprintf(r->head, sizeof(r->head), "%.*s", (int)hl, (const char *)c->in.data);
    sscanf(r->head, "HTTP/1.1 %d", &r->status);
    client_consume(c, hl);
    const char *cl = strstr(r->head, "Content-Length: ");
    size_t want = head_only || !cl ? 0 : strtoul(cl + 16, NULL, 10);
    while (c->in.len < want) {
        if (client_fill(c) <= 0) {
            return -1;
        }
    }
    buf_append(&r->body, c->in.data, want);
    client_consume(c, want);
    return 0;
}

/* True when the server closes the connection (EOF or reset) within wait_ms
 * with nothing more sent. */
static bool client_closed(client_t *c, int wait_ms)
{
    struct pollfd p = { .fd = c->fd, .events = POLLIN };
    if (c->in.len > 0 || poll(&p, 1, wait_ms) != 1) {
        return false;
    }
    ssize_t n = client_fill(c);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* Send req on a new connection and read the one response. Returns whether
 * the server then closed the connection within wait_ms (0: not checked). */
static bool one_request(uint16_t port, const char *req, resp_t *r, int wait_ms)
{
    client_t c;
    client_open(&c, port);
    client_sends(&c, req);
    assert_int_equal(client_read(&c, strncmp(req, "HEAD ", 5) == 0, r), 0);
    bool closed = wait_ms > 0 && client_closed(&c, wait_ms);
    client_close(&c);
    return closed;
}

/* ---- fixture ---- */

typedef struct fixture {
    agent_httpd_t *h;
    uint16_t port;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    char err[256] = "";
    if (agent_httpd_start("127.0.0.1:0", handler, NULL, &f->h, err, sizeof(err)) != 0) {
        fprintf(stderr, "agent_httpd_start: %s\n", err);
        free(f);
        return -1;
    }
    f->port = agent_httpd_port(f->h);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    agent_httpd_stop(f->h);
    free(f);
    return 0;
}

/* ---- basic answers ---- */

static void test_get_exact(void **state)
{
    fixture_t *f = *state;
    client_t c;
    client_open(&c, f->port);
    client_sends(&c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    const char *want = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 6\r\n"
                       "Connection: keep-alive\r\n\r\nhello\n";
    while (c.in.len < strlen(want)) {
        assert_true(client_fill(&c) > 0);
    }
    assert_string_equal((const char *)c.in.data, want);
    client_close(&c);

    resp_t r;
    bool closed = one_request(f->port, "GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n", &r, 3000);
    assert_string_equal(r.head, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                                "Content-Length: 5\r\nConnection: close\r\n\r\n");
    assert_string_equal((const char *)r.body.data, "up 1\n");
    assert_true(closed);
    buf_fini(&r.body);
}

static void test_head(void **state)
{
    fixture_t *f = *state;
    client_t c;
    client_open(&c, f->port);
    client_sends(&c, "HEAD /hello HTTP/1.1\r\n\r\n");
    resp_t r;
    assert_int_equal(client_read(&c, true, &r), 0);
    assert_string_equal(r.head, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 6\r\n"
                                "Connection: keep-alive\r\n\r\n");
    buf_fini(&r.body);
    /* no body followed: the next response starts right after the head */
    client_sends(&c, "GET /hello HTTP/1.1\r\n\r\n");
    assert_int_equal(client_read(&c, false, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal((const char *)r.body.data, "hello\n");
    buf_fini(&r.body);
    client_close(&c);
}

static void test_statuses_and_query(void **state)
{
    fixture_t *f = *state;
    resp_t r;
    one_request(f->port, "GET /nope HTTP/1.1\r\n\r\n", &r, 0);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.head, "HTTP/1.1 404 Not Found\r\n"));
    assert_string_equal((const char *)r.body.data, "not found\n");
    buf_fini(&r.body);

    one_request(f->port, "GET /echo/a%20b?x=1&y=/2?z HTTP/1.1\r\n\r\n", &r, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal((const char *)r.body.data, "/echo/a%20b"); /* not decoded */
    buf_fini(&r.body);
    one_request(f->port, "GET /echo? HTTP/1.1\r\n\r\n", &r, 0);
    assert_string_equal((const char *)r.body.data, "/echo");
    buf_fini(&r.body);

    one_request(f->port, "GET /weird HTTP/1.1\r\n\r\n", &r, 0);
    assert_int_equal(r.status, 500);
    assert_non_null(strstr(r.head, "HTTP/1.1 500 Internal Server Error\r\n"));
    buf_fini(&r.body);
    /* 204: neither body nor Content-Length; value whitespace is trimmed */
    bool closed = one_request(f->port, "GET /empty HTTP/1.1\r\nConnection: \t close \t\r\n\r\n", &r, 3000);
    assert_string_equal(r.head, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
    assert_true(closed);
    buf_fini(&r.body);
}

/* ---- connection handling ---- */

static void test_keep_alive(void **state)
{
    fixture_t *f = *state;
    client_t c;
    client_open(&c, f->port);
    for (int i = 0; i < 3; i++) {
        client_sends(&c, "GET /hello HTTP/1.1\r\nConnection: keep-alive\r\n\r\n");
        resp_t r;
        assert_int_equal(client_read(&c, false, &r), 0);
        assert_int_equal(r.status, 200);
        assert_non_null(strstr(r.head, "Connection: keep-alive\r\n"));
        buf_fini(&r.body);
    }
    client_close(&c);
}

static void test_close_cases(void **state)
{
    fixture_t *f = *state;
    static const struct {
        const char *req;
        bool closes;
    } cases[] = {
        { "GET /hello HTTP/1.0\r\n\r\n", true },
        { "GET /hello HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", false },
        { "GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n", true },
        { "GET /hello HTTP/1.1\r\nConnection: TE, Close\r\n\r\n", true },
        { "GET /hello HTTP/1.1\r\nConnection: closed\r\n\r\n", false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        client_t c;
        client_open(&c, f->port);
        client_sends(&c, cases[i].req);
        resp_t r;
        assert_int_equal(client_read(&c, false, &r), 0);
        assert_int_equal(r.status, 200);
        assert_non_null(strstr(r.head, cases[i].closes ? "Connection: close\r\n" : "Connection: keep-alive\r\n"));
        if (cases[i].closes) {
            assert_true(client_closed(&c, 3000));
        } else {
            assert_false(client_closed(&c, 100));
            client_sends(&c, "GET /hello HTTP/1.1\r\n\r\n");
            buf_fini(&r.body);
            assert_int_equal(client_read(&c, false, &r), 0);
            assert_int_equal(r.status, 200);
        }
        buf_fini(&r.body);
        client_close(&c);
    }
}

static void test_method_not_allowed(void **state)
{
    fixture_t *f = *state;
    resp_t r;
    bool closed = one_request(f->port, "POST /hello HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &r, 200);
    assert_int_equal(r.status, 405);
    assert_non_null(strstr(r.head, "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\n"));
    assert_string_equal((const char *)r.body.data, "Method Not Allowed\n");
    assert_false(closed); /* no body: the connection stays usable */
    buf_fini(&r.body);

    closed = one_request(f->port, "POST /hello HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", &r, 3000);
    assert_int_equal(r.status, 405);
    assert_non_null(strstr(r.head, "Connection: close\r\n"));
    assert_true(closed); /* the body is not read: the connection ends */
    buf_fini(&r.body);
}

/* Hostile or malformed heads: the status, and the connection closes. */
static void test_bad_requests(void **state)
{
    fixture_t *f = *state;
    static const struct {
        const char *name;
        const char *req;
        size_t len; /* 0: strlen */
        int status;
    } cases[] = {
        { "HTTP/0.9 line", "GET /\r\n\r\n", 0, 400 },
        { "double space", "GET  / HTTP/1.1\r\n\r\n", 0, 400 },
        { "trailing space", "GET / HTTP/1.1 \r\n\r\n", 0, 400 },
        { "bad protocol", "GET / FTP/1.1\r\n\r\n", 0, 400 },
        { "bad version", "GET / HTTP/1.x\r\n\r\n", 0, 400 },
        { "HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", 0, 505 },
        { "bad method char", "G(T / HTTP/1.1\r\n\r\n", 0, 400 },
        { "control in target", "GET /a\x01z HTTP/1.1\r\n\r\n", 0, 400 },
        { "DEL in target", "GET /a\x7fz HTTP/1.1\r\n\r\n", 0, 400 },
        { "absolute form", "GET http://x/ HTTP/1.1\r\n\r\n", 0, 400 },
        { "asterisk form", "GET * HTTP/1.1\r\n\r\n", 0, 400 },
        { "NUL in target", "GET /a\0b HTTP/1.1\r\n\r\n", 22, 400 },
        { "NUL in header", "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 27, 400 },
        { "NUL alone", "\0", 1, 400 },
        { "bare CR", "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 0, 400 },
        { "header without colon", "GET / HTTP/1.1\r\nNoColon\r\n\r\n", 0, 400 },
        { "space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 0, 400 },
        { "obs-fold", "GET / HTTP/1.1\r\nX: a\r\n  b\r\n\r\n", 0, 400 },
        { "control in value", "GET / HTTP/1.1\r\nX: a\x02\r\n\r\n", 0, 400 },
        { "GET with body", "GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 0, 400 },
        { "GET chunked", "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0, 400 },
        { "bad Content-Length", "GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 0, 400 },
        { "empty Content-Length", "GET / HTTP/1.1\r\nContent-Length:\r\n\r\n", 0, 400 },
        { "error before the head ends", "BAD\r\nX: y\r\n", 0, 400 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        client_t c;
        client_open(&c, f->port);
        client_send(&c, cases[i].req, cases[i].len ? cases[i].len : strlen(cases[i].req));
        resp_t r;
        int rc = client_read(&c, false, &r);
        if (rc != 0 || r.status != cases[i].status) {
            fail_msg("%s: got %d (rc %d) want %d", cases[i].name, r.status, rc, cases[i].status);
        }
        if (!strstr(r.head, "Connection: close\r\n") || !client_closed(&c, 3000)) {
            fail_msg("%s: connection not closed", cases[i].name);
        }
        buf_fini(&r.body);
        client_close(&c);
    }
    /* GET with Content-Length: 0 is not a body */
    resp_t r;
    one_request(f->port, "GET /hello HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &r, 0);
    assert_int_equal(r.status, 200);
    buf_fini(&r.body);
}

static void test_head_too_large(void **state)
{
    fixture_t *f = *state;
    buf_t req = { 0 };
    buf_puts(&req, "GET /hello HTTP/1.1\r\n");
    while (req.len < 17000) {
        buf_puts(&req, "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    }
    buf_puts(&req, "\r\n");
    client_t c;
    client_open(&c, f->port);
    client_send(&c, req.data, req.len);
    resp_t r;
    assert_int_equal(client_read(&c, false, &r), 0);
    assert_int_equal(r.status, 431);
    assert_true(client_closed(&c, 3000));
    buf_fini(&r.body);
    client_close(&c);

    /* just under the cap is fine */
    buf_reset(&req);
    buf_puts(&req, "GET /hello HTTP/1.1\r\nX-Pad: ");
    while (req.len < 16384 - 4) {
        buf_putc(&req, 'a');
    }
    buf_puts(&req, "\r\n\r\n");
    assert_int_equal(req.len, 16384);
    client_open(&c, f->port);
    client_send(&c, req.data, req.len);
    assert_int_equal(client_read(&c, false, &r), 0);
    assert_int_equal(r.status, 200);
    buf_fini(&r.body);
    client_close(&c);
    buf_fini(&req);
}

static void test_byte_by_byte(void **state)
{
    fixture_t *f = *state;
    const char *req = "\r\nGET /echo/bytes?q HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n";
    client_t c;
    client_open(&c, f->port);
    for (size_t i = 0; req[i]; i++) {
        client_send(&c, req + i, 1);
        if (i % 8 == 0) {
            usleep(1000);
        }
    }
    resp_t r;
    assert_int_equal(client_read(&c, false, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal((const char *)r.body.data, "/echo/bytes");
    buf_fini(&r.body);
    client_close(&c);
}

static void test_pipelined(void **state)
{
    fixture_t *f = *state;
    client_t c;
    client_open(&c, f->port);
    /* LF-only line ends in the second request */
    client_sends(&c, "GET /echo/1 HTTP/1.1\r\n\r\nGET /echo/2 HTTP/1.1\n\nHEAD /hello HTTP/1.1\r\n\r\n"
                     "GET /echo/3 HTTP/1.1\r\nConnection: close\r\n\r\n");
    static const char *want[] = { "/echo/1", "/echo/2", "", "/echo/3" };
    for (size_t i = 0; i < 4; i++) {
        resp_t r;
        assert_int_equal(client_read(&c, i == 2, &r), 0);
        assert_int_equal(r.status, 200);
        assert_memory_equal(r.body.data ? (const char *)r.body.data : "", want[i], strlen(want[i]) + 1);
        buf_fini(&r.body);
    }
    assert_true(client_closed(&c, 3000));
    client_close(&c);
}

/* Read one /huge response and check its bytes. */
static void read_huge(client_t *c)
{
    resp_t r;
    assert_int_equal(client_read(c, false, &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body.len, HUGE_LEN);
    for (size_t i = 0; i < HUGE_LEN; i += 4099) {
        assert_int_equal(r.body.data[i], 'a' + i % 26);
    }
    buf_fini(&r.body);
}

/* A response bigger than the socket buffers goes out in pieces, in order,
 * also when two are pipelined and the client reads late. */
static void test_big_responses(void **state)
{
    fixture_t *f = *state;
    client_t c = { .fd = raw_connect_to(AF_INET, f->port, 65536) };
    assert_true(c.fd >= 0);
    client_sends(&c, "GET /huge HTTP/1.1\r\n\r\nGET /huge HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\n\r\n");
    usleep(200 * 1000);
    read_huge(&c);
    read_huge(&c);
    resp_t r;
    assert_int_equal(client_read(&c, false, &r), 0);
    assert_string_equal((const char *)r.body.data, "hello\n");
    buf_fini(&r.body);
    client_close(&c);
}

/* A client sending half a head and one that stops reading are both dropped
 * after the 5 s timeout, and others are served meanwhile. */
static void test_slow_clients(void **state)
{
    fixture_t *f = *state;
    client_t slow;
    client_open(&slow, f->port);
    client_sends(&slow, "GET /hello HTTP/1.1\r\nHost:");
    client_t stall = { .fd = raw_connect_to(AF_INET, f->port, 4096) };
    assert_true(stall.fd >= 0);
    client_sends(&stall, "GET /huge HTTP/1.1\r\n\r\n");
    double t0 = clock_mono_s();
    for (int i = 0; i < 5; i++) {
        resp_t r;
        one_request(f->port, "GET /hello HTTP/1.1\r\n\r\n", &r, 0);
        assert_int_equal(r.status, 200);
        buf_fini(&r.body);
    }
    assert_true(clock_mono_s() - t0 < 1.0);

    assert_true(client_closed(&slow, 7000)); /* the server closes it at 5 s */
    double waited = clock_mono_s() - t0;
    assert_true(waited > 4.0 && waited < 7.0);
    client_close(&slow);

    sleep(1); /* the stalled reader has been dropped by now */
    size_t got = 0;
    for (;;) {
        ssize_t n = client_fill(&stall);
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
        stall.in.len = 0;
    }
    assert_true(got < HUGE_LEN);
    client_close(&stall);
}

/* More clients than connection slots: all answered (idle keep-alive
 * connections are closed to make room). */
static void test_many_clients(void **state)
{
    fixture_t *f = *state;
    enum { N = 40 };
    client_t cs[N];
    for (int i = 0; i < N; i++) {
        client_open(&cs[i], f->port);
    }
    for (int i = 0; i < N; i++) {
        char req[64];
        snprintf(req, sizeof(req), "GET /echo/%d HTTP/1.1\r\n\r\n", i);
        client_sends(&cs[i], req);
    }
    for (int i = 0; i < N; i++) {
        resp_t r;
        assert_int_equal(client_read(&cs[i], false, &r), 0);
        char want[32];
        snprintf(want, sizeof(want), "/echo/%d", i);
        assert_string_equal((const char *)r.body.data, want);
        buf_fini(&r.body);
        client_close(&cs[i]);
    }
}

static void *stop_thread(void *arg)
{
    agent_httpd_stop(arg);
    return NULL;
}

/* Stop closes idle and half-read connections at once, and finishes a
 * response being written first. */
static void test_stop_with_clients(void **state)
{
    (void)state;
    agent_httpd_t *h = NULL;
    char err[256] = "";
    assert_int_equal(agent_httpd_start("127.0.0.1:0", handler, NULL, &h, err, sizeof(err)), 0);
    client_t idle, half, done;
    client_open(&idle, agent_httpd_port(h));
    client_open(&half, agent_httpd_port(h));
    client_open(&done, agent_httpd_port(h));
    client_sends(&half, "GET /hello HTTP/1.1\r\n");
    client_sends(&done, "GET /hello HTTP/1.1\r\n\r\n");
    resp_t r;
    assert_int_equal(client_read(&done, false, &r), 0);
    buf_fini(&r.body);
    usleep(50 * 1000);
    double t0 = clock_mono_s();
    agent_httpd_stop(h);
    assert_true(clock_mono_s() - t0 < 0.5);
    assert_true(client_closed(&idle, 1000));
    assert_true(client_closed(&half, 1000));
    assert_true(client_closed(&done, 1000));
    client_close(&idle);
    client_close(&half);
    client_close(&done);
    agent_httpd_stop(NULL);

    assert_int_equal(agent_httpd_start("127.0.0.1:0", handler, NULL, &h, err, sizeof(err)), 0);
    client_t big = { .fd = raw_connect_to(AF_INET, agent_httpd_port(h), 65536) };
    assert_true(big.fd >= 0);
    client_sends(&big, "GET /huge HTTP/1.1\r\n\r\n");
    usleep(100 * 1000);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, stop_thread, h), 0);
    read_huge(&big);
    assert_true(client_closed(&big, 1000));
    pthread_join(th, NULL);
    client_close(&big);
}

/* ---- listening ---- */

static void test_listen_errors(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",          "nonsense", "127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:12x", "127.0.0.1:-1",
        "[::1]9465", "[::1",     "::1:9465x", "[]:",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        agent_httpd_t *h = (agent_httpd_t *)1;
        char err[256] = "";
        if (agent_httpd_start(bad[i], handler, NULL, &h, err, sizeof(err)) == 0) {
            fail_msg("%s: accepted", bad[i]);
        }
        assert_null(h);
        assert_non_null(strstr(err, "bad listen address"));
    }
    /* the port is taken */
    agent_httpd_t *a = NULL;
    agent_httpd_t *b = NULL;
    char err[256] = "";
    assert_int_equal(agent_httpd_start("127.0.0.1:0", handler, NULL, &a, err, sizeof(err)), 0);
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", agent_httpd_port(a));
    assert_int_equal(agent_httpd_start(addr, handler, NULL, &b, err, sizeof(err)), -1);
    assert_null(b);
    char want[128];
    snprintf(want, sizeof(want), "listen %s: Address already in use", addr);
    assert_string_equal(err, want);
    agent_httpd_stop(a);
}

static void test_listen_any(void **state)
{
    (void)state;
    agent_httpd_t *h = NULL;
    char err[256] = "";
    assert_int_equal(agent_httpd_start(":0", handler, NULL, &h, err, sizeof(err)), 0);
    assert_true(agent_httpd_port(h) != 0);
    resp_t r;
    one_request(agent_httpd_port(h), "GET /hello HTTP/1.1\r\n\r\n", &r, 0);
    assert_int_equal(r.status, 200);
    buf_fini(&r.body);
    agent_httpd_stop(h);
}

static void test_ipv6(void **state)
{
    (void)state;
    agent_httpd_t *h = NULL;
    char err[256] = "";
    if (agent_httpd_start("[::1]:0", handler, NULL, &h, err, sizeof(err)) != 0) {
        skip(); /* no IPv6 loopback here */
    }
    client_t c = { .fd = raw_connect_to(AF_INET6, agent_httpd_port(h), 0) };
    assert_true(c.fd >= 0);
    client_sends(&c, "GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n");
    resp_t r;
    assert_int_equal(client_read(&c, false, &r), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal((const char *)r.body.data, "hello\n");
    buf_fini(&r.body);
    client_close(&c);
    agent_httpd_stop(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statuses_and_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_alive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_cases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_method_not_allowed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_byte_by_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipelined, setup, teardown),
        cmocka_unit_test_setup_teardown(test_big_responses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_clients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_clients, setup, teardown),
        cmocka_unit_test(test_stop_with_clients),
        cmocka_unit_test(test_listen_errors),
        cmocka_unit_test(test_listen_any),
        cmocka_unit_test(test_ipv6),
    };
    return cmocka_run_group_tests_name("agent_httpd", tests, NULL, NULL);
}

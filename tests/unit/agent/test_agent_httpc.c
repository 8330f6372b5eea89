/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for agent/agent_httpc.c against a scripted raw server on loopback:
 * a thread that answers each request with the next canned byte string of
 * its script (or drops, or hangs), and records every request byte. The
 * cases cover the classification common/httpc.c gives (one table, each
 * reply also sent byte by byte), framing (Content-Length, chunked, until
 * close), keep-alive reuse and reconnects, hostile replies (malformed
 * status, headers, chunks, lengths, huge heads, NUL bytes, early close),
 * the request bytes, URLs, timeouts, and https through the module.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent_int.h"

/* ---- the scripted server ------------------------------------------------ */

typedef enum step_kind {
    STEP_REPLY,       /* answer and keep the connection */
    STEP_REPLY_CLOSE, /* answer and close */
    STEP_TRICKLE,     /* answer one byte at a time, then close */
    STEP_DROP,        /* read the request, close without a byte */
    STEP_HANG,        /* read the request, never answer */
} step_kind_t;

typedef struct step {
    step_kind_t kind;
    const char *reply;
    size_t len; /* 0: strlen(reply) */
} step_t;

typedef struct srv {
    int lfd;
    int stop[2];
    uint16_t port;
    pthread_t th;
    const step_t *steps;
    size_t nsteps;
    size_t next;
    pthread_mutex_t mu;
    int conns;
    buf_t got; /* every request byte received */
} srv_t;

/* Wait for fd readable or stop: true when fd is readable. */
static bool srv_wait(srv_t *s, int fd)
{
    struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = s->stop[0], .events = POLLIN } };
    return poll(p, 2, 10000) > 0 && !(p[1].revents & POLLIN) && (p[0].revents & (POLLIN | POLLHUP | POLLERR));
}

/* Read one request (head plus Content-Length body) into got: 1, or 0. */
static int srv_read_request(srv_t *s, int fd)
{
    char buf[1 << 16];
    size_t n = 0;
    size_t want = SIZE_MAX;
    while (n < want) {
        if (n == sizeof(buf) || !srv_wait(s, fd)) {
            return 0;
        }
        ssize_t r = recv(fd, buf + n, sizeof(buf) - n, 0);
        if (r <= 0) {
            return 0;
        }
        n += (size_t)r;
        const char *end = memmem(buf, n, "\r\n\r\n", 4);
        if (end && want == SIZE_MAX) {
            const char *cl = memmem(buf, (size_t)(end - buf), "Content-Length: ", 16);
            want = (size_t)(end + 4 - buf) + (cl ? strtoul(cl + 16, NULL, 10) : 0);
        }
    }
    pthread_mutex_lock(&s->mu);
    buf_append(&s->got, buf, n);
    pthread_mutex_unlock(&s->mu);
    return 1;
}

/* Answer requests on fd by the script; returns when the connection ends. */
static void srv_serve(srv_t *s, int fd)
{
    while (srv_read_request(s, fd)) {
        pthread_mutex_lock(&s->mu);
        const step_t *st = s->next < s->nsteps ? &s->steps[s->next++] : NULL;
        pthread_mutex_unlock(&s->mu);
        if (!st || st->kind == STEP_DROP) {
            return;
        }
        if (st->kind == STEP_HANG) {
            srv_wait(s, s->stop[0]);
            return;
        }
        size_t len = st->len ? st->len : strlen(st->reply);
        if (st->kind == STEP_TRICKLE) {
            for (size_t i = 0; i < len; i++) {
                (void)!send(fd, st->reply + i, 1, MSG_NOSIGNAL);
                usleep(200);
            }
            return;
        }
        (void)!send(fd, st->reply, len, MSG_NOSIGNAL);
        if (st->kind == STEP_REPLY_CLOSE) {
            return;
        }
    }
}

static void *srv_main(void *arg)
{
    srv_t *s = arg;
    while (srv_wait(s, s->lfd)) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0) {
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        pthread_mutex_lock(&s->mu);
        s->conns++;
        pthread_mutex_unlock(&s->mu);
        srv_serve(s, fd);
        close(fd);
    }
    return NULL;
}

/* Start a server on 127.0.0.1 (or ::1 when v6) with the script; NULL when
 * the address cannot be bound. */
static srv_t *srv_start(const step_t *steps, size_t nsteps, bool v6)
{
    srv_t *s = calloc(1, sizeof(*s));
    s->steps = steps;
    s->nsteps = nsteps;
    pthread_mutex_init(&s->mu, NULL);
    struct sockaddr_storage ss = { 0 };
    socklen_t sl = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (v6) {
        ((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
    } else {
        ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
        ((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
    s->lfd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&ss, sl) != 0 || listen(s->lfd, 8) != 0 ||
        getsockname(s->lfd, (struct sockaddr *)&ss, &sl) != 0) {
        if (s->lfd >= 0) {
            close(s->lfd);
        }
        free(s);
        return NULL;
    }
    s->port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
    assert_int_equal(pipe(s->stop), 0);
    assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
    return s;
}

static void srv_stop(srv_t *s)
{
    (void)!write(s->stop[1], "x", 1);
    pthread_join(s->th, NULL);
    close(s->lfd);
    close(s->stop[0]);
    close(s->stop[1]);
    buf_fini(&s->got);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static int srv_conns(srv_t *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->conns;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the classification table ------------------------------------------ */

typedef struct reply_case {
    const char *name;
    const char *reply;
    size_t reply_len; /* 0: strlen */
    bool get;
    size_t max_body; /* GET only; 0: 1 MiB */
    httpc_status_t want;
    long code;
    int64_t retry_ms;
    const char *error; /* exact when code != 0, else a substring */
    const char *body;  /* appended after "pre|"; NULL: not checked */
    size_t body_len;   /* 0: strlen(body) */
} reply_case_t;

#define H200 "HTTP/1.1 200 OK\r\n"
#define CHUNKED "Transfer-Encoding: chunked\r\n\r\n"
#define LIT(s) s, (sizeof(s) - 1) /* a reply with NUL bytes in it */

static const reply_case_t reply_cases[] = {
    { "200 length", H200 "Content-Length: 5\r\n\r\nhello", 0, false, 0, HTTPC_OK, 200, -1, "", "hello" },
    { "204", "HTTP/1.1 204 No Content\r\n\r\n", 0, false, 0, HTTPC_OK, 204, -1, "", "" },
    { "202 get", "HTTP/1.1 202 Accepted\r\ncontent-length:  2 \r\n\r\nok", 0, true, 0, HTTPC_OK, 202, -1, "", "ok" },
    { "chunked", H200 CHUNKED "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n", 0, false, 0, HTTPC_OK, 200,
      -1, "", "hello world" },
    { "chunked bare LF", H200 "Transfer-Encoding: gzip, chunked\n\nA\nhelloworld\n0\n\n", 0, true, 0, HTTPC_OK, 200, -1,
      "", "helloworld" },
    { "until close", H200 "Connection: close\r\n\r\nuntil close", 0, true, 0, HTTPC_OK, 200, -1, "", "until close" },
    { "http/1.0", "HTTP/1.0 200 OK\r\n\r\nold", 0, true, 0, HTTPC_OK, 200, -1, "", "old" },
    { "no reason", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", 0, false, 0, HTTPC_OK, 200, -1, "", "" },
    { "100 continue", "HTTP/1.1 100 Continue\r\n\r\n" H200 "Content-Length: 2\r\n\r\nok", 0, false, 0, HTTPC_OK, 200,
      -1, "", "ok" },
    { "nul in body", LIT(H200 "Content-Length: 5\r\n\r\na\0b\0c"), true, 0, HTTPC_OK, 200, -1, "", "a\0b\0c", 5 },
    { "503 retry 3", "HTTP/1.1 503 Busy\r\nRetry-After: 3\r\nContent-Length: 9\r\n\r\nbusy\nmore", 0, false, 0,
      HTTPC_RETRY, 503, 3000, "busy", "busy\nmore" },
    { "503 retry 0", "HTTP/1.1 503 Busy\r\nRetry-After: 0\r\nContent-Length: 0\r\n\r\n", 0, false, 0, HTTPC_RETRY, 503,
      0, "HTTP 503", "" },
    { "503 past date", "HTTP/1.1 503 Busy\r\nRetry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\nContent-Length: 0\r\n\r\n",
      0, false, 0, HTTPC_RETRY, 503, 0, "HTTP 503", "" },
    { "503 rfc850 date", "HTTP/1.1 503 Busy\r\nRetry-After: Sunday, 06-Nov-94 08:49:37 GMT\r\n\r\n", 0, false, 0,
      HTTPC_RETRY, 503, 0, "HTTP 503", "" },
    { "503 asctime date", "HTTP/1.1 503 Busy\r\nRetry-After: Sun Nov  6 08:49:37 1994\r\n\r\n", 0, false, 0,
      HTTPC_RETRY, 503, 0, "HTTP 503", "" },
    { "429 retry 7", "HTTP/1.1 429 Slow\r\nRetry-After:  7 \r\nContent-Length: 4\r\n\r\nslow", 0, false, 0, HTTPC_RETRY,
      429, 7000, "slow", "slow" },
    { "429 retry soon", "HTTP/1.1 429 Slow\r\nRetry-After: soon\r\nContent-Length: 4\r\n\r\nslow", 0, false, 0,
      HTTPC_RETRY, 429, -1, "slow", "slow" },
    { "429 retry 3x", "HTTP/1.1 429 Slow\r\nRetry-After: 3x\r\nContent-Length: 0\r\n\r\n", 0, false, 0, HTTPC_RETRY,
      429, -1, "HTTP 429", "" },
    { "429 retry max", "HTTP/1.1 429 Slow\r\nRetry-After: 9223372036854775\r\n\r\n", 0, false, 0, HTTPC_RETRY, 429,
      9223372036854775000LL, "HTTP 429", "" },
    { "429 retry ms overflow", "HTTP/1.1 429 Slow\r\nRetry-After: 9223372036854779\r\n\r\n", 0, false, 0, HTTPC_RETRY,
      429, -1, "HTTP 429", "" },
    { "429 retry 20 digits", "HTTP/1.1 429 Slow\r\nRetry-After: 99999999999999999999\r\n\r\n", 0, false, 0, HTTPC_RETRY,
      429, -1, "HTTP 429", "" },
    { "429 retry leading zeros", "HTTP/1.1 429 Slow\r\nRetry-After: 000000000000000000000002\r\n\r\n", 0, false, 0,
      HTTPC_RETRY, 429, 2000, "HTTP 429", "" },
    { "503 date day 32", "HTTP/1.1 503 Busy\r\nRetry-After: Wed, 32 Oct 2015 07:28:00 GMT\r\n\r\n", 0, false, 0,
      HTTPC_RETRY, 503, -1, "HTTP 503", "" },
    { "503 date no time", "HTTP/1.1 503 Busy\r\nRetry-After: Wed, 21 Oct 2015 GMT\r\n\r\n", 0, false, 0, HTTPC_RETRY,
      503, -1, "HTTP 503", "" },
    { "503 date two years", "HTTP/1.1 503 Busy\r\nRetry-After: 21 10 2015 07:28:00\r\n\r\n", 0, false, 0, HTTPC_RETRY,
      503, -1, "HTTP 503", "" },
    { "503 date no month", "HTTP/1.1 503 Busy\r\nRetry-After: Wed, 21 Foo 2015 07:28:00 GMT\r\n\r\n", 0, false, 0,
      HTTPC_RETRY, 503, -1, "HTTP 503", "" },
    { "500 get", "HTTP/1.1 500 Oops\r\nContent-Length: 4\r\n\r\noops", 0, true, 0, HTTPC_RETRY, 500, -1, "oops",
      "oops" },
    { "400", "HTTP/1.1 400 Bad\r\nContent-Length: 25\r\n\r\nbad line one\r\nsecond line", 0, false, 0, HTTPC_FATAL, 400,
      -1, "bad line one", NULL },
    { "404 get empty", "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 0, true, 0, HTTPC_FATAL, 404, -1,
      "HTTP 404", "" },
    { "404 get body", "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found", 0, true, 0, HTTPC_FATAL, 404, -1,
      "not found", "not found" },
    { "302", "HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n", 0, false, 0, HTTPC_FATAL, 302, -1,
      "HTTP 302", "" },
    { "500 nul error", LIT("HTTP/1.1 500 X\r\nContent-Length: 5\r\n\r\nab\0cd"), false, 0, HTTPC_RETRY, 500, -1, "ab",
      "ab\0cd", 5 },
    { "get over max", H200 "Content-Length: 10\r\n\r\n0123456789", 0, true, 5, HTTPC_FATAL, 0, -1,
      "body larger than 5 bytes", "" },
    { "get over max chunked", H200 CHUNKED "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", 0, true, 5, HTTPC_FATAL, 0, -1,
      "body larger than 5 bytes", "" },
    { "get at max", H200 "Content-Length: 5\r\n\r\n01234", 0, true, 5, HTTPC_OK, 200, -1, "", "01234" },
    { "404 over max", "HTTP/1.1 404 No\r\nContent-Length: 10\r\n\r\ngone 56789", 0, true, 5, HTTPC_FATAL, 404, -1,
      "gone 56789", "gone " },
    { "not http", "HELLO WORLD\r\n\r\n", 0, false, 0, HTTPC_FATAL, 0, -1, "not an HTTP/1.x", "" },
    { "http/2.5", "HTTP/2.5 200 OK\r\nContent-Length: 0\r\n\r\n", 0, false, 0, HTTPC_FATAL, 0, -1, "HTTP/1.x", "" },
    { "bad code", "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n", 0, false, 0, HTTPC_FATAL, 0, -1, "HTTP/1.x", "" },
    { "code 4 digits", "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", 0, false, 0, HTTPC_FATAL, 0, -1, "HTTP/1.x",
      "" },
    { "code 099", "HTTP/1.1 099 X\r\nContent-Length: 0\r\n\r\n", 0, false, 0, HTTPC_FATAL, 0, -1, "HTTP/1.x", "" },
    { "header no colon", H200 "Bogus\r\nContent-Length: 2\r\n\r\nok", 0, false, 0, HTTPC_RETRY, 0, -1,
      "malformed response header", "" },
    { "folded header", H200 " Folded: x\r\nContent-Length: 0\r\n\r\n", 0, false, 0, HTTPC_RETRY, 0, -1,
      "malformed response header", "" },
    { "nul in header", LIT(H200 "X-A: a\0b\r\nContent-Length: 0\r\n\r\n"), false, 0, HTTPC_RETRY, 0, -1,
      "malformed response header", "" },
    { "bad chunk size", H200 CHUNKED "zz\r\nok\r\n0\r\n\r\n", 0, false, 0, HTTPC_RETRY, 0, -1, "malformed chunk size",
      "" },
    { "chunk size overflow", H200 CHUNKED "ffffffffffffffffffff\r\nok\r\n0\r\n\r\n", 0, false, 0, HTTPC_RETRY, 0, -1,
      "malformed chunk size", "" },
    { "chunk size junk", H200 CHUNKED "5 x\r\nhello\r\n0\r\n\r\n", 0, false, 0, HTTPC_RETRY, 0, -1,
      "malformed chunk size", "" },
    { "chunk no crlf", H200 CHUNKED "5\r\nhelloX0\r\n\r\n", 0, false, 0, HTTPC_RETRY, 0, -1, "no CRLF", "" },
    { "chunked truncated", H200 CHUNKED "5\r\nok", 0, false, 0, HTTPC_RETRY, 0, -1, "3 bytes remaining", "" },
    { "chunked no last", H200 CHUNKED "2\r\nok\r\n", 0, false, 0, HTTPC_RETRY, 0, -1, "closed", "" },
    { "negative length", H200 "Content-Length: -1\r\n\r\nok", 0, false, 0, HTTPC_RETRY, 0, -1,
      "malformed response header", "" },
    { "huge length", H200 "Content-Length: 99999999999999999999999\r\n\r\nok", 0, false, 0, HTTPC_RETRY, 0, -1,
      "malformed response header", "" },
    { "two lengths", H200 "Content-Length: 2\r\nContent-Length: 3\r\n\r\nok", 0, false, 0, HTTPC_RETRY, 0, -1,
      "malformed response header", "" },
    { "empty length", H200 "Content-Length:\r\n\r\nok", 0, false, 0, HTTPC_RETRY, 0, -1, "malformed response header",
      "" },
    { "short body", H200 "Content-Length: 10\r\n\r\nok", 0, false, 0, HTTPC_RETRY, 0, -1, "8 bytes remaining", "" },
    { "head cut", H200 "Content-Le", 0, false, 0, HTTPC_RETRY, 0, -1, "closed", "" },
    { "status cut", "HTTP/1.1 2", 0, false, 0, HTTPC_RETRY, 0, -1, "closed", "" },
};

static void run_reply_case(const reply_case_t *rc, bool trickle)
{
    step_t st = { trickle ? STEP_TRICKLE : STEP_REPLY_CLOSE, rc->reply, rc->reply_len };
    srv_t *s = srv_start(&st, 1, false);
    assert_non_null(s);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/x", (unsigned)s->port);
    agent_httpc_t *c = agent_httpc_create(5000);
    buf_t out = { 0 };
    buf_puts(&out, "pre|");
    httpc_result_t res;
    memset(&res, 0x5a, sizeof(res));
    if (rc->get) {
        agent_httpc_get(c, url, NULL, &out, rc->max_body ? rc->max_body : 1 << 20, &res);
    } else {
        agent_httpc_post(c, url, NULL, "x", 1, &out, &res);
    }
    bool err_ok = rc->code != 0 ? strcmp(res.error, rc->error) == 0 : strstr(res.error, rc->error) != NULL;
    if (res.status != rc->want || res.http_code != rc->code || res.retry_after_ms != rc->retry_ms || !err_ok) {
        fail_msg("%s%s: status %d code %ld retry %lld error \"%s\"", rc->name, trickle ? " (trickled)" : "", res.status,
                 res.http_code, (long long)res.retry_after_ms, res.error);
    }
    if (rc->body) {
        size_t bl = rc->body_len ? rc->body_len : strlen(rc->body);
        if (out.len != 4 + bl || memcmp(out.data + 4, rc->body, bl) != 0) {
            fail_msg("%s: body \"%s\" (%zu bytes)", rc->name, (const char *)out.data, out.len);
        }
    }
    assert_int_equal(out.data[out.len], '\0');
    buf_fini(&out);
    agent_httpc_destroy(c);
    srv_stop(s);
}

static void test_reply_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(reply_cases) / sizeof(reply_cases[0]); i++) {
        run_reply_case(&reply_cases[i], false);
    }
}

/* Every reply again, one byte per segment: the parsers resume anywhere. */
static void test_reply_table_trickled(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(reply_cases) / sizeof(reply_cases[0]); i++) {
        run_reply_case(&reply_cases[i], true);
    }
}

/* ---- connections ------------------------------------------------------- */

typedef struct fx {
    srv_t *s;
    agent_httpc_t *c;
    char url[64];
} fx_t;

static void fx_start(fx_t *f, const step_t *steps, size_t n, long timeout_ms)
{
    f->s = srv_start(steps, n, false);
    assert_non_null(f->s);
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u/api/v1/write", (unsigned)f->s->port);
    f->c = agent_httpc_create(timeout_ms);
}

static void fx_stop(fx_t *f)
{
    agent_httpc_destroy(f->c);
    srv_stop(f->s);
}

#define OK_KEEP H200 "Content-Length: 2\r\n\r\nok"

static void post_ok(fx_t *f)
{
    httpc_result_t res;
    agent_httpc_post(f->c, f->url, NULL, "abc", 3, NULL, &res);
    if (res.status != HTTPC_OK) {
        fail_msg("post: %d %ld %s", res.status, res.http_code, res.error);
    }
}

static void test_keepalive_reuse(void **state)
{
    (void)state;
    static const step_t steps[] = { { STEP_REPLY, OK_KEEP, 0 },
                                    { STEP_REPLY, H200 CHUNKED "2\r\nok\r\n0\r\n\r\n", 0 },
                                    { STEP_REPLY, OK_KEEP, 0 } };
    fx_t f;
    fx_start(&f, steps, 3, 5000);
    post_ok(&f);
    post_ok(&f);
    post_ok(&f);
    assert_int_equal(srv_conns(f.s), 1);
    fx_stop(&f);
}

/* A response that ends the connection is followed by a new one. */
static void test_no_reuse_after_close(void **state)
{
    (void)state;
    static const step_t steps[] = { { STEP_REPLY, H200 "Connection: close\r\nContent-Length: 2\r\n\r\nok", 0 },
                                    { STEP_REPLY_CLOSE, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 0 },
                                    { STEP_REPLY, OK_KEEP, 0 } };
    fx_t f;
    fx_start(&f, steps, 3, 5000);
    post_ok(&f);
    post_ok(&f);
    post_ok(&f);
    assert_int_equal(srv_conns(f.s), 3);
    fx_stop(&f);
}

/* The server closes an idle kept connection: the next call reconnects. */
static void test_idle_close_reconnects(void **state)
{
    (void)state;
    static const step_t steps[] = { { STEP_REPLY_CLOSE, OK_KEEP, 0 }, { STEP_REPLY, OK_KEEP, 0 } };
    fx_t f;
    fx_start(&f, steps, 2, 5000);
    post_ok(&f);
    usleep(50 * 1000);
    post_ok(&f);
    assert_int_equal(srv_conns(f.s), 2);
    fx_stop(&f);
}

/* The server closes the kept connection after reading the request (the
 * race with its idle timeout): sent once more on a new connection. */
static void test_reused_dropped_resends(void **state)
{
    (void)state;
    static const step_t steps[] = { { STEP_REPLY, OK_KEEP, 0 }, { STEP_DROP, "", 0 }, { STEP_REPLY, OK_KEEP, 0 } };
    fx_t f;
    fx_start(&f, steps, 3, 5000);
    post_ok(&f);
    post_ok(&f);
    assert_int_equal(srv_conns(f.s), 2);
    fx_stop(&f);
}

/* A fresh connection that ends without a byte is not resent. */
static void test_fresh_dropped_retries(void **state)
{
    (void)state;
    static const step_t steps[] = { { STEP_DROP, "", 0 }, { STEP_REPLY, OK_KEEP, 0 } };
    fx_t f;
    fx_start(&f, steps, 2, 5000);
    httpc_result_t res;
    agent_httpc_post(f.c, f.url, NULL, "abc", 3, NULL, &res);
    assert_int_equal(res.status, HTTPC_RETRY);
    assert_int_equal(res.http_code, 0);
    assert_string_equal(res.error, "empty reply from server");
    assert_int_equal(srv_conns(f.s), 1);
    fx_stop(&f);
}

static void test_timeout_retries(void **state)
{
    (void)state;
    static const step_t steps[] = { { STEP_HANG, "", 0 } };
    fx_t f;
    fx_start(&f, steps, 1, 200);
    httpc_result_t res;
    int64_t t0 = mono_ms();
    agent_httpc_post(f.c, f.url, NULL, "abc", 3, NULL, &res);
    int64_t took = mono_ms() - t0;
    assert_int_equal(res.status, HTTPC_RETRY);
    assert_int_equal(res.http_code, 0);
    assert_int_equal(res.retry_after_ms, -1);
    assert_non_null(strstr(res.error, "timed out after 200 ms"));
    assert_true(took >= 190 && took < 1000);
    fx_stop(&f);
}

static void test_connection_refused(void **state)
{
    (void)state;
    agent_httpc_t *c = agent_httpc_create(2000);
    httpc_result_t res;
    buf_t out = { 0 };
    agent_httpc_post(c, "http://127.0.0.1:1/api/v1/write", NULL, "x", 1, &out, &res);
    assert_int_equal(res.status, HTTPC_RETRY);
    assert_int_equal(res.http_code, 0);
    assert_int_equal(res.retry_after_ms, -1);
    assert_non_null(strstr(res.error, "refused"));
    assert_int_equal(out.len, 0);
    agent_httpc_get(c, "http://no-such-host.invalid/", NULL, &out, 100, &res);
    assert_int_equal(res.status, HTTPC_RETRY);
    assert_non_null(strstr(res.error, "resolve"));
    agent_httpc_destroy(c);
    agent_httpc_destroy(NULL);
}

static void test_retry_after_future_date(void **state)
{
    (void)state;
    time_t when = time(NULL) + 120;
    struct tm tm;
    gmtime_r(&when, &tm);
    char reply[256];
    strftime(reply, sizeof(reply), "HTTP/1.1 503 Busy\r\nRetry-After: %a, %d %b %Y %H:%M:%S GMT\r\n\r\n", &tm);
    step_t steps[] = { { STEP_REPLY_CLOSE, reply, 0 } };
    fx_t f;
    fx_start(&f, steps, 1, 5000);
    httpc_result_t res;
    agent_httpc_post(f.c, f.url, NULL, "", 0, NULL, &res);
    assert_int_equal(res.status, HTTPC_RETRY);
    assert_true(res.retry_after_ms > 110000 && res.retry_after_ms <= 120000);
    fx_stop(&f);
}

/* The response's Content-Type is reported (the scraper picks its parser
 * by it); an overlong one is left out. */
static void test_content_type(void **state)
{
    (void)state;
    static const char ok[] = "HTTP/1.1 200 OK\r\ncontent-type:  application/openmetrics-text; version=1.0.0 \r\n"
                             "Content-Length: 2\r\n\r\nok";
    char longer[512];
    snprintf(longer, sizeof(longer), "HTTP/1.1 200 OK\r\nContent-Type: text/%0200d\r\nContent-Length: 0\r\n\r\n", 0);
    step_t steps[] = { { STEP_REPLY_CLOSE, ok, 0 }, { STEP_REPLY_CLOSE, longer, 0 } };
    fx_t f;
    fx_start(&f, steps, 2, 5000);
    httpc_result_t res;
    buf_t out;
    buf_init(&out);
    agent_httpc_get(f.c, f.url, NULL, &out, 100, &res);
    assert_int_equal(res.status, HTTPC_OK);
    assert_string_equal(res.content_type, "application/openmetrics-text; version=1.0.0");
    agent_httpc_get(f.c, f.url, NULL, &out, 100, &res);
    assert_int_equal(res.status, HTTPC_OK);
    assert_string_equal(res.content_type, "");
    buf_fini(&out);
    fx_stop(&f);
}

/* A head past 64 KiB fails without reading it all; a long error body is
 * quoted up to 200 characters. */
static void test_huge_head_and_long_error(void **state)
{
    (void)state;
    size_t n = 70 * 1024;
    char *big = malloc(n + 64);
    int k = snprintf(big, n + 64, H200 "X-Big: ");
    memset(big + k, 'a', n - (size_t)k);
    strcpy(big + n, "\r\n\r\n");
    char *err = malloc(400);
    k = snprintf(err, 400, "HTTP/1.1 400 Bad\r\nContent-Length: 300\r\n\r\n");
    memset(err + k, 'e', 300);
    err[k + 300] = '\0';
    step_t steps[] = { { STEP_REPLY_CLOSE, big, 0 }, { STEP_REPLY_CLOSE, err, 0 } };
    fx_t f;
    fx_start(&f, steps, 2, 5000);
    httpc_result_t res;
    agent_httpc_post(f.c, f.url, NULL, "", 0, NULL, &res);
    assert_int_equal(res.status, HTTPC_RETRY);
    assert_non_null(strstr(res.error, "larger than 65536"));
    agent_httpc_post(f.c, f.url, NULL, "", 0, NULL, &res);
    assert_int_equal(res.status, HTTPC_FATAL);
    assert_int_equal(strlen(res.error), 200);
    fx_stop(&f);
    free(big);
    free(err);
}

/* A chunk-size line (size plus extensions) is bounded at 4096 bytes and
 * the trailers at 64 KiB, whether one line or many. */
static void test_chunked_bounds(void **state)
{
    (void)state;
    buf_t line_ok = { 0 }, line_long = { 0 }, trailer_long = { 0 }, trailers_many = { 0 };
    buf_puts(&line_ok, H200 CHUNKED "2;");
    for (size_t i = 0; i < 4096 - 3; i++) {
        buf_puts(&line_ok, "x"); /* "2;" + ext + "\r" is exactly 4096 bytes */
    }
    buf_puts(&line_ok, "\r\nok\r\n0\r\n\r\n");
    buf_puts(&line_long, H200 CHUNKED "2;");
    for (size_t i = 0; i < 4096 - 2; i++) {
        buf_puts(&line_long, "x");
    }
    buf_puts(&line_long, "\r\nok\r\n0\r\n\r\n");
    buf_puts(&trailer_long, H200 CHUNKED "2\r\nok\r\n0\r\nX-Big: ");
    for (size_t i = 0; i < 70 * 1024; i++) {
        buf_puts(&trailer_long, "a");
    }
    buf_puts(&trailer_long, "\r\n\r\n");
    buf_puts(&trailers_many, H200 CHUNKED "2\r\nok\r\n0\r\n");
    for (size_t i = 0; i < 8192; i++) {
        buf_puts(&trailers_many, "X-T: aaaaaaa\r\n");
    }
    buf_puts(&trailers_many, "\r\n");
    step_t steps[] = { { STEP_REPLY_CLOSE, (const char *)line_ok.data, 0 },
                       { STEP_REPLY_CLOSE, (const char *)line_long.data, 0 },
                       { STEP_REPLY_CLOSE, (const char *)trailer_long.data, 0 },
                       { STEP_REPLY_CLOSE, (const char *)trailers_many.data, 0 } };
    fx_t f;
    fx_start(&f, steps, 4, 5000);
    httpc_result_t res;
    buf_t out = { 0 };
    agent_httpc_get(f.c, f.url, NULL, &out, 100, &res);
    assert_int_equal(res.status, HTTPC_OK);
    assert_int_equal(out.len, 2);
    agent_httpc_post(f.c, f.url, NULL, "", 0, NULL, &res);
    assert_int_equal(res.status, HTTPC_RETRY);
    assert_non_null(strstr(res.error, "malformed chunk size"));
    agent_httpc_post(f.c, f.url, NULL, "", 0, NULL, &res);
    assert_int_equal(res.status, HTTPC_RETRY);
    assert_non_null(strstr(res.error, "chunked trailers larger than 65536"));
    agent_httpc_post(f.c, f.url, NULL, "", 0, NULL, &res);
    assert_int_equal(res.status, HTTPC_RETRY);
    assert_non_null(strstr(res.error, "chunked trailers larger than 65536"));
    fx_stop(&f);
    buf_fini(&out);
    buf_fini(&line_ok);
    buf_fini(&line_long);
    buf_fini(&trailer_long);
    buf_fini(&trailers_many);
}

/* ---- request bytes ----------------------------------------------------- */

static void test_request_bytes(void **state)
{
    (void)state;
    static const step_t steps[] = { { STEP_REPLY, OK_KEEP, 0 }, { STEP_REPLY, OK_KEEP, 0 } };
    fx_t f;
    fx_start(&f, steps, 2, 5000);
    char url[96];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v1/write?a=1#frag", (unsigned)f.s->port);
    static const char *const post_hdrs[] = { "Content-Type: application/x-protobuf",
                                             "Content-Encoding: snappy",
                                             "Expect:",
                                             "Content-Length: 99",
                                             "Connection: close",
                                             NULL };
    httpc_result_t res;
    agent_httpc_post(f.c, url, post_hdrs, "a\0b\r\n", 5, NULL, &res);
    assert_int_equal(res.status, HTTPC_OK);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)f.s->port);
    static const char *const get_hdrs[] = { "User-Agent: custom/1", "Accept: text/plain", NULL };
    buf_t out = { 0 };
    agent_httpc_get(f.c, url, get_hdrs, &out, 100, &res);
    assert_int_equal(res.status, HTTPC_OK);
    assert_string_equal((const char *)out.data, "ok");
    buf_fini(&out);

    char want[1024];
    int n = snprintf(want, sizeof(want),
                     "POST /api/v1/write?a=1 HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUser-Agent: pharos-agent\r\n"
                     "Accept: */*\r\nContent-Length: 5\r\nConnection: keep-alive\r\n"
                     "Content-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\n\r\na%cb\r\n"
                     "GET / HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: keep-alive\r\nUser-Agent: custom/1\r\n"
                     "Accept: text/plain\r\n\r\n",
                     (unsigned)f.s->port, '\0', (unsigned)f.s->port);
    pthread_mutex_lock(&f.s->mu);
    if (f.s->got.len != (size_t)n || memcmp(f.s->got.data, want, (size_t)n) != 0) {
        fail_msg("request bytes:\n%.*s", (int)f.s->got.len, (const char *)f.s->got.data);
    }
    pthread_mutex_unlock(&f.s->mu);
    assert_int_equal(srv_conns(f.s), 1);
    fx_stop(&f);
}

static void test_bad_request_header_fatal(void **state)
{
    (void)state;
    agent_httpc_t *c = agent_httpc_create(1000);
    static const char *const bad[][2] = { { "X-A: a\r\nX-B: b", NULL }, { "NoColon", NULL }, { ": v", NULL } };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        httpc_result_t res;
        agent_httpc_post(c, "http://127.0.0.1:1/", bad[i], "x", 1, NULL, &res);
        assert_int_equal(res.status, HTTPC_FATAL);
        assert_non_null(strstr(res.error, "invalid request header"));
    }
    agent_httpc_destroy(c);
}

static void test_ipv6(void **state)
{
    (void)state;
    static const step_t steps[] = { { STEP_REPLY, OK_KEEP, 0 } };
    srv_t *s = srv_start(steps, 1, true);
    if (!s) {
        skip(); /* no IPv6 loopback here */
    }
    char url[64];
    snprintf(url, sizeof(url), "http://[::1]:%u/v6", (unsigned)s->port);
    agent_httpc_t *c = agent_httpc_create(2000);
    buf_t out = { 0 };
    httpc_result_t res;
    agent_httpc_get(c, url, NULL, &out, 100, &res);
    assert_int_equal(res.status, HTTPC_OK);
    assert_string_equal((const char *)out.data, "ok");
    char host[64];
    snprintf(host, sizeof(host), "Host: [::1]:%u\r\n", (unsigned)s->port);
    pthread_mutex_lock(&s->mu);
    assert_non_null(strstr((const char *)s->got.data, host));
    pthread_mutex_unlock(&s->mu);
    buf_fini(&out);
    agent_httpc_destroy(c);
    srv_stop(s);
}

/* ---- URLs -------------------------------------------------------------- */

static void test_urls(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "127.0.0.1:80/x",    "ftp://h/",
        "http:///x",         "http://:80/",
        "http://h:99999/",   "http://h:12x/",
        "http://h:0/",       "http://[::1/",
        "http://[]/",        "http://a b/",
        "http://user:pw@h/", "http://h/a b",
        "http://h\r\n/",     "",
        "http://[::1]x/",    "http://h_!/",
        "mailto:x@y",        "http://[g::1]/",
    };
    agent_httpc_t *c = agent_httpc_create(1000);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[128] = "";
        if (agent_httpc_check_url(bad[i], err, sizeof(err)) != -1 || err[0] == '\0') {
            fail_msg("check_url accepted \"%s\"", bad[i]);
        }
        httpc_result_t res;
        buf_t out = { 0 };
        agent_httpc_get(c, bad[i], NULL, &out, 100, &res);
        if (res.status != HTTPC_FATAL || res.http_code != 0 || res.error[0] == '\0') {
            fail_msg("get \"%s\": %d %s", bad[i], res.status, res.error);
        }
        buf_fini(&out);
    }
    static const char *const good[] = { "http://h/",       "http://h:8080", "HTTP://H.example/x?y#z",
                                        "http://[::1]:9/", "http://h:/",    "http://10.0.0.1:65535/p" };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char err[128] = "";
        if (agent_httpc_check_url(good[i], err, sizeof(err)) != 0) {
            fail_msg("check_url refused \"%s\": %s", good[i], err);
        }
    }
    char err[128];
    assert_int_equal(agent_httpc_check_url(NULL, err, sizeof(err)), -1);
    agent_httpc_destroy(c);
}

/* ---- https through the module ------------------------------------------ */

/* Without the module (a child process, so that the parent can still load
 * it): https is FATAL and check_url says why; http still works. */
static void test_https_module_missing(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("PHAROS_AGENT_HTTPS_MODULE", "/nonexistent/pharos-agent-https.so", 1);
        char err[256] = "";
        int bad = agent_httpc_check_url("https://127.0.0.1:1/", err, sizeof(err)) != -1 ||
                  strncmp(err, "https needs pharos-agent-https.so and libcurl: ", 47) != 0;
        agent_httpc_t *c = agent_httpc_create(500);
        httpc_result_t res;
        agent_httpc_post(c, "https://127.0.0.1:1/", NULL, "x", 1, NULL, &res);
        bad = bad || res.status != HTTPC_FATAL || strcmp(res.error, err) != 0;
        bad = bad || agent_httpc_check_url("http://127.0.0.1:1/", err, sizeof(err)) != 0;
        agent_httpc_destroy(c);
        _exit(bad);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_https_via_module(void **state)
{
    (void)state;
    setenv("PHAROS_AGENT_HTTPS_MODULE", PHAROS_BUILD_DIR "/agent/pharos-agent-https.so", 1);
    char err[256] = "";
    if (agent_httpc_check_url("https://127.0.0.1:1/", err, sizeof(err)) != 0) {
        fail_msg("check_url: %s", err);
    }
    agent_httpc_t *c = agent_httpc_create(2000);
    httpc_result_t res;
    buf_t out = { 0 };
    agent_httpc_post(c, "https://127.0.0.1:1/api/v1/write", NULL, "x", 1, &out, &res);
    assert_int_equal(res.status, HTTPC_RETRY);
    assert_int_equal(res.http_code, 0);
    assert_true(res.error[0] != '\0');
    agent_httpc_get(c, "https://127.0.0.1:1/metrics", NULL, &out, 100, &res);
    assert_int_equal(res.status, HTTPC_RETRY);
    assert_int_equal(out.len, 0);
    buf_fini(&out);
    agent_httpc_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reply_table),
        cmocka_unit_test(test_reply_table_trickled),
        cmocka_unit_test(test_keepalive_reuse),
        cmocka_unit_test(test_no_reuse_after_close),
        cmocka_unit_test(test_idle_close_reconnects),
        cmocka_unit_test(test_reused_dropped_resends),
        cmocka_unit_test(test_fresh_dropped_retries),
        cmocka_unit_test(test_timeout_retries),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_retry_after_future_date),
        cmocka_unit_test(test_content_type),
        cmocka_unit_test(test_huge_head_and_long_error),
        cmocka_unit_test(test_chunked_bounds),
        cmocka_unit_test(test_request_bytes),
        cmocka_unit_test(test_bad_request_header_fatal),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_https_module_missing),
        cmocka_unit_test(test_https_via_module),
    };
    return cmocka_run_group_tests_name("agent_httpc", tests, NULL, NULL);
}

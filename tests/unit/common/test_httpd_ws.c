/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for the WebSocket side of common/httpd.c, over real loopback
 * connections with a raw RFC 6455 client written here (frames parsed with
 * ws_frame_parse as a client, so every server byte is checked): the
 * handshake (101, Upgrade, Connection, the RFC's accept key), text both
 * ways, ping/pong, fragmented messages with a ping between fragments, the
 * first frame in the handshake's packet and frames written byte by byte,
 * a 100 KB server message, both sides closing, protocol errors answered
 * with their close codes, refused handshakes (400/405 with the argument
 * freed, the handler's own 400 kept), the connection limit (503, then a
 * slot again once one closes), a peer that vanishes, and httpd_stop with
 * live connections (close 1001, every function returned, every argument
 * freed; ASan checks the rest).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/httpd.h"
#include "common/mem.h"
#include "common/str.h"
#include "common/ws.h"

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

typedef struct fixture {
    httpd_t *h;
    uint16_t port;
    atomic_int started, returned, freed;
} fixture_t;

/* ---- server side ---- */

typedef struct ws_arg {
    fixture_t *f;
    char name[64];
} ws_arg_t;

static void ws_arg_free(void *p)
{
    ws_arg_t *a = p;
    atomic_fetch_add(&a->f->freed, 1);
    mem_free(a);
}

/* Greets, then echoes each message; "big" gets 100 KB back, "close" a
 * close frame 4000 from the server. */
static void ws_echo(void *ctx, http_ws_t *ws, void *arg)
{
    fixture_t *f = ctx;
    ws_arg_t *a = arg;
    atomic_fetch_add(&f->started, 1);
    char greet[96];
    snprintf(greet, sizeof(greet), "hello %s", a->name);
    http_ws_send_text(ws, greet, strlen(greet));
    buf_t msg = { 0 };
    for (;;) {
        int rc = http_ws_recv(ws, 50, &msg);
        if (rc < 0) {
            break;
        }
        if (rc == 0) {
            continue;
        }
        if (msg.len == 3 && memcmp(msg.data, "big", 3) == 0) {
            char *big = mem_alloc(100000);
            memset(big, 'x', 100000);
            http_ws_send_text(ws, big, 100000);
            mem_free(big);
        } else if (msg.len == 5 && memcmp(msg.data, "close", 5) == 0) {
            http_ws_close(ws, 4000, "bye");
        } else {
            buf_t out = { 0 };
            buf_puts(&out, "echo:");
            buf_append(&out, msg.data, msg.len);
            http_ws_send_text(ws, (const char *)out.data, out.len);
            buf_fini(&out);
        }
        buf_reset(&msg);
    }
    buf_fini(&msg);
    if (!http_ws_closed(ws) || http_ws_send_text(ws, "late", 4) != -1) {
        atomic_fetch_add(&f->returned, 1000); /* noticed by the tests' counts */
    }
    atomic_fetch_add(&f->returned, 1);
}

static void h_ws(void *ctx, http_req_t *req, http_resp_t *resp)
{
    const char *name = http_req_arg(req, "name");
    if (name && strcmp(name, "refuse") == 0) {
        http_resp_text(resp, 400, "refused by the handler");
        return;
    }
    ws_arg_t *a = mem_calloc(1, sizeof(*a));
    a->f = ctx;
    snprintf(a->name, sizeof(a->name), "%s", name ? name : "");
    http_resp_websocket(resp, ws_echo, a, ws_arg_free);
}

static void h_plain(void *ctx, http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    (void)req;
    buf_puts(&resp->body, "plain\n");
}

static const httpd_route_t routes[] = {
    { .method = NULL, .path = "/ws", .fn = h_ws },
    { .method = "GET", .path = "/plain", .fn = h_plain },
};

static int setup_n(void **state, size_t max_ws)
{
    fixture_t *f = calloc(1, sizeof(*f));
    httpd_opts_t o = {
        .listen = "127.0.0.1:0",
        .routes = routes,
        .nroutes = sizeof(routes) / sizeof(routes[0]),
        .ctx = f,
        .threads = 2,
        .max_websockets = max_ws,
    };
    char err[256];
    if (httpd_start(&o, &f->h, err, sizeof(err)) != 0) {
        fail_msg("httpd_start: %s", err);
    }
    f->port = httpd_port(f->h);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_n(state, 0);
}

static int setup_two(void **state)
{
    return setup_n(state, 2);
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    httpd_stop(f->h);
    assert_int_equal(atomic_load(&f->started), atomic_load(&f->returned));
    free(f);
    return 0;
}

/* ---- client side ---- */

typedef struct cli {
    int fd;
    int status;
    char head[2048];
    buf_t rb; /* received, not yet parsed */
} cli_t;

static int cli_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void cli_write(cli_t *c, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t w = send(c->fd, b, n, MSG_NOSIGNAL);
        if (w <= 0) {
            return;
        }
        b += w;
        n -= (size_t)w;
    }
}

/* Read into c->rb, waiting up to ms: 1 bytes came, 0 timeout, -1 EOF. */
static int cli_fill(cli_t *c, int ms)
{
    struct pollfd pf = { .fd = c->fd, .events = POLLIN };
    if (poll(&pf, 1, ms) <= 0) {
        return 0;
    }
    uint8_t tmp[65536];
    ssize_t n = recv(c->fd, tmp, sizeof(tmp), 0);
    if (n <= 0) {
        return -1;
    }
    buf_append(&c->rb, tmp, (size_t)n);
    return 1;
}

/* Send the handshake (req: request line and extra headers, without the
 * final CRLF), read the answer's head; [out] c->status, c->head. Extra
 * bytes (first frame) may follow the request in the same write. */
static void cli_open_raw(cli_t *c, uint16_t port, const char *req, const void *extra, size_t nextra)
{
    memset(c, 0, sizeof(*c));
    c->fd = cli_connect(port);
    assert_true(c->fd >= 0);
    buf_t out = { 0 };
    buf_printf(&out, "%s\r\n", req);
    if (nextra) {
        buf_append(&out, extra, nextra);
    }
    cli_write(c, out.data, out.len);
    buf_fini(&out);
    c->status = -1;
    for (int i = 0; i < 100; i++) {
        const char *sep = c->rb.len ? memmem(c->rb.data, c->rb.len, "\r\n\r\n", 4) : NULL;
        if (sep) {
            size_t hl = (size_t)(sep - (const char *)c->rb.data);
            snprintf(c->head, sizeof(c->head), "%.*s", (int)hl, (const char *)c->rb.data);
            sscanf(c->head, "HTTP/1.%*d %d", &c->status);
            memmove(c->rb.data, sep + 4, c->rb.len - hl - 4);
            c->rb.len -= hl + 4;
            return;
        }
        if (cli_fill(c, 5000) <= 0) {
            break;
        }
    }
    fail_msg("no HTTP answer to the handshake");
}

static void cli_open(cli_t *c, uint16_t port, const char *name)
{
    char req[512];
    snprintf(req, sizeof(req),
             "GET /ws?name=%s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
             "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 13\r\n",
             name);
    cli_open_raw(c, port, req, NULL, 0);
    if (c->status != 101) {
        fail_msg("handshake: %d\n%s", c->status, c->head);
    }
}

static void cli_close(cli_t *c)
{
    if (c->fd >= 0) {
        close(c->fd);
    }
    c->fd = -1;
    buf_fini(&c->rb);
}

static void frame_bytes(buf_t *out, uint8_t op, bool fin, const void *p, size_t n)
{
    static const uint8_t key[4] = { 0xa1, 0xb2, 0xc3, 0xd4 };
    uint8_t hdr[WS_MAX_HEADER];
    size_t hl = ws_frame_header(hdr, op, fin, n, key);
    buf_append(out, hdr, hl);
    size_t at = out->len;
    if (n) {
        buf_append(out, p, n);
    }
    ws_unmask(out->data + at, n, key);
}

static void cli_send(cli_t *c, uint8_t op, bool fin, const void *p, size_t n)
{
    buf_t out = { 0 };
    frame_bytes(&out, op, fin, p, n);
    cli_write(c, out.data, out.len);
    buf_fini(&out);
}

/* Next server frame within 5 s: 1 with [out] *op and payload (replaced),
 * -1 at EOF. A server frame that does not parse fails the test. */
static int cli_recv(cli_t *c, uint8_t *op, buf_t *payload)
{
    for (;;) {
        ws_frame_t f;
        ws_error_t err;
        int rc = ws_frame_parse(c->rb.data, c->rb.len, false, SIZE_MAX, &f, &err);
        if (rc == WS_ERROR) {
            fail_msg("server frame: %s at %zu", err.msg, err.pos);
        }
        if (rc == WS_OK) {
            if (!f.fin) {
                fail_msg("server fragmented a message");
            }
            *op = f.opcode;
            buf_reset(payload);
            buf_append(payload, f.payload, f.len);
            size_t used = f.hdr_len + f.len;
            memmove(c->rb.data, c->rb.data + used, c->rb.len - used);
            c->rb.len -= used;
            return 1;
        }
        int fr = cli_fill(c, 5000);
        if (fr < 0) {
            return -1;
        }
        if (fr == 0) {
            fail_msg("no frame from the server in 5 s");
        }
    }
}

static void expect_bytes(cli_t *c, const char *want, size_t n)
{
    uint8_t op = 0;
    buf_t p = { 0 };
    assert_int_equal(cli_recv(c, &op, &p), 1);
    assert_int_equal(op, WS_OP_TEXT);
    if (p.len != n || memcmp(p.data, want, n) != 0) {
        fail_msg("got %.*s, want %.*s", (int)p.len, (const char *)p.data, (int)n, want);
    }
    buf_fini(&p);
}

static void expect_text(cli_t *c, const char *want)
{
    expect_bytes(c, want, strlen(want));
}

static void wait_returned(fixture_t *f, int n)
{
    for (int i = 0; i < 300 && atomic_load(&f->returned) < n; i++) {
        usleep(10000);
    }
    assert_int_equal(atomic_load(&f->returned), n);
}

/* ---- cases ---- */

static void test_handshake_echo(void **state)
{
    fixture_t *f = *state;
    cli_t c;
    cli_open(&c, f->port, "one");
    assert_non_null(strstr(c.head, "HTTP/1.1 101"));
    assert_non_null(strcasestr(c.head, "\r\nUpgrade: websocket"));
    assert_non_null(strcasestr(c.head, "\r\nConnection: Upgrade"));
    assert_non_null(strstr(c.head, "\r\nSec-WebSocket-Accept: " ACCEPT));
    expect_text(&c, "hello one");
    cli_send(&c, WS_OP_TEXT, true, "hi", 2);
    expect_text(&c, "echo:hi");
    cli_send(&c, WS_OP_PING, true, "pp", 2);
    uint8_t op = 0;
    buf_t p = { 0 };
    assert_int_equal(cli_recv(&c, &op, &p), 1);
    assert_int_equal(op, WS_OP_PONG);
    assert_int_equal(p.len, 2);
    assert_memory_equal(p.data, "pp", 2);
    cli_send(&c, WS_OP_PONG, true, "unsolicited", 11); /* ignored */
    cli_send(&c, WS_OP_BINARY, true, "\x00\xff", 2);
    expect_bytes(&c, "echo:\x00\xff", 7);
    cli_send(&c, WS_OP_CLOSE, true, "\x03\xe8ok", 4);
    assert_int_equal(cli_recv(&c, &op, &p), 1);
    assert_int_equal(op, WS_OP_CLOSE);
    assert_int_equal(p.len, 2);
    assert_memory_equal(p.data, "\x03\xe8", 2);
    assert_int_equal(cli_fill(&c, 3000), -1);
    buf_fini(&p);
    cli_close(&c);
    wait_returned(f, 1);
    assert_int_equal(atomic_load(&f->freed), 1);
}

static void test_fragments_and_extra_in(void **state)
{
    fixture_t *f = *state;
    /* The first frames travel in the handshake's packet (MHD's extra_in). */
    buf_t first = { 0 };
    frame_bytes(&first, WS_OP_TEXT, false, "frag", 4);
    frame_bytes(&first, WS_OP_PING, true, "mid", 3);
    frame_bytes(&first, WS_OP_CONT, false, "men", 3);
    frame_bytes(&first, WS_OP_CONT, true, "ted", 3);
    cli_t c;
    cli_open_raw(&c, f->port,
                 "GET /ws?name=two HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\nConnection: upgrade\r\n"
                 "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 13\r\n",
                 first.data, first.len);
    buf_fini(&first);
    assert_int_equal(c.status, 101);
    expect_text(&c, "hello two");
    uint8_t op = 0;
    buf_t p = { 0 };
    assert_int_equal(cli_recv(&c, &op, &p), 1);
    assert_int_equal(op, WS_OP_PONG);
    assert_memory_equal(p.data, "mid", 3);
    expect_text(&c, "echo:fragmented");
    /* A frame written one byte at a time. */
    buf_t slow = { 0 };
    frame_bytes(&slow, WS_OP_TEXT, true, "slowly", 6);
    for (size_t i = 0; i < slow.len; i++) {
        cli_write(&c, slow.data + i, 1);
        usleep(2000);
    }
    buf_fini(&slow);
    expect_text(&c, "echo:slowly");
    /* A big answer: 64-bit length form. */
    cli_send(&c, WS_OP_TEXT, true, "big", 3);
    assert_int_equal(cli_recv(&c, &op, &p), 1);
    assert_int_equal(op, WS_OP_TEXT);
    assert_int_equal(p.len, 100000);
    assert_int_equal(p.data[0], 'x');
    assert_int_equal(p.data[99999], 'x');
    /* The server closes. */
    cli_send(&c, WS_OP_TEXT, true, "close", 5);
    assert_int_equal(cli_recv(&c, &op, &p), 1);
    assert_int_equal(op, WS_OP_CLOSE);
    assert_int_equal(p.len, 5);
    assert_memory_equal(p.data,
                        "\x0f\xa0"
                        "bye",
                        5);
    cli_send(&c, WS_OP_CLOSE, true, "\x0f\xa0", 2);
    assert_int_equal(cli_fill(&c, 3000), -1);
    buf_fini(&p);
    cli_close(&c);
    wait_returned(f, 1);
    assert_int_equal(atomic_load(&f->freed), 1);
}

typedef struct proto_case {
    const char *name;
    uint8_t bytes[16];
    size_t n;
    uint16_t code;
} proto_case_t;

static const proto_case_t proto_cases[] = {
    { "unmasked frame", { 0x81, 0x02, 'h', 'i' }, 4, WS_CLOSE_PROTOCOL },
    { "unknown opcode", { 0x83, 0x80, 1, 2, 3, 4 }, 6, WS_CLOSE_PROTOCOL },
    { "reserved bit", { 0xc1, 0x80, 1, 2, 3, 4 }, 6, WS_CLOSE_PROTOCOL },
    { "frame over the bound", { 0x82, 0xff, 0, 0, 0, 0, 0, 0x10, 0, 0 }, 10, WS_CLOSE_TOO_BIG },
    { "64-bit top bit", { 0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0 }, 10, WS_CLOSE_PROTOCOL },
    { "long ping", { 0x89, 0xfe, 0x00, 0x80 }, 4, WS_CLOSE_PROTOCOL },
    { "continuation first", { 0x80, 0x80, 0, 0, 0, 0 }, 6, WS_CLOSE_PROTOCOL },
    { "text not UTF-8", { 0x81, 0x82, 0, 0, 0, 0, 0xc0, 0x80 }, 8, WS_CLOSE_BAD_DATA },
    { "close of one byte", { 0x88, 0x81, 0, 0, 0, 0, 0x03 }, 7, WS_CLOSE_PROTOCOL },
    { "close code 1005", { 0x88, 0x82, 0, 0, 0, 0, 0x03, 0xed }, 8, WS_CLOSE_PROTOCOL },
    { "close reason not UTF-8", { 0x88, 0x83, 0, 0, 0, 0, 0x03, 0xe8, 0xff }, 9, WS_CLOSE_BAD_DATA },
};

static void test_protocol_errors(void **state)
{
    fixture_t *f = *state;
    for (size_t i = 0; i < sizeof(proto_cases) / sizeof(proto_cases[0]); i++) {
        const proto_case_t *pc = &proto_cases[i];
        cli_t c;
        cli_open(&c, f->port, "p");
        expect_text(&c, "hello p");
        cli_write(&c, pc->bytes, pc->n);
        uint8_t op = 0;
        buf_t p = { 0 };
        assert_int_equal(cli_recv(&c, &op, &p), 1);
        if (op != WS_OP_CLOSE || p.len < 2 || (uint16_t)(p.data[0] << 8 | p.data[1]) != pc->code) {
            fail_msg("%s: opcode %u, code %u, want close %u", pc->name, op,
                     p.len >= 2 ? (unsigned)(p.data[0] << 8 | p.data[1]) : 0, pc->code);
        }
        assert_true(str_utf8_valid((const char *)p.data + 2, p.len - 2));
        assert_int_equal(cli_fill(&c, 3000), -1); /* no reply needed: the server gives up after its linger */
        buf_fini(&p);
        cli_close(&c);
        wait_returned(f, (int)i + 1);
    }
    assert_int_equal(atomic_load(&f->freed), (int)(sizeof(proto_cases) / sizeof(proto_cases[0])));
}

typedef struct hs_case {
    const char *name;
    const char *req;
    int status;
    const char *hdr; /* a header line the answer must have, or NULL */
} hs_case_t;

#define HS_HOST "Host: x\r\n"
#define HS_GOOD_REST "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " KEY "\r\n"

static const hs_case_t hs_cases[] = {
    { "no Upgrade header", "GET /ws HTTP/1.1\r\n" HS_HOST "Connection: Upgrade\r\n" HS_GOOD_REST, 400, NULL },
    { "no Connection upgrade",
      "GET /ws HTTP/1.1\r\n" HS_HOST "Upgrade: websocket\r\nConnection: close\r\n" HS_GOOD_REST, 400, NULL },
    { "Upgrade: h2c", "GET /ws HTTP/1.1\r\n" HS_HOST "Upgrade: h2c\r\nConnection: Upgrade\r\n" HS_GOOD_REST, 400,
      NULL },
    { "version 8",
      "GET /ws HTTP/1.1\r\n" HS_HOST "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\n"
      "Sec-WebSocket-Key: " KEY "\r\n",
      400, "Sec-WebSocket-Version: 13" },
    { "no key",
      "GET /ws HTTP/1.1\r\n" HS_HOST "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n", 400,
      NULL },
    { "short key",
      "GET /ws HTTP/1.1\r\n" HS_HOST "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
      "Sec-WebSocket-Key: abc==\r\n",
      400, NULL },
    { "POST", "POST /ws HTTP/1.1\r\n" HS_HOST "Upgrade: websocket\r\nConnection: Upgrade\r\n" HS_GOOD_REST, 405,
      "Allow: GET" },
    { "handler refuses",
      "GET /ws?name=refuse HTTP/1.1\r\n" HS_HOST "Upgrade: websocket\r\nConnection: Upgrade\r\n" HS_GOOD_REST, 400,
      NULL },
    { "plain route with upgrade headers",
      "GET /plain HTTP/1.1\r\n" HS_HOST "Upgrade: websocket\r\nConnection: Upgrade\r\n" HS_GOOD_REST, 200, NULL },
};

static void test_bad_handshakes(void **state)
{
    fixture_t *f = *state;
    int refused_with_arg = 0;
    for (size_t i = 0; i < sizeof(hs_cases) / sizeof(hs_cases[0]); i++) {
        const hs_case_t *hc = &hs_cases[i];
        char req[1024];
        snprintf(req, sizeof(req), "%sConnection-Extra: x\r\n", hc->req);
        cli_t c;
        cli_open_raw(&c, f->port, req, NULL, 0);
        if (c.status != hc->status) {
            fail_msg("%s: %d, want %d\n%s", hc->name, c.status, hc->status, c.head);
        }
        if (hc->hdr && !strcasestr(c.head, hc->hdr)) {
            fail_msg("%s: no %s in\n%s", hc->name, hc->hdr, c.head);
        }
        cli_close(&c);
        refused_with_arg += hc->status != 200 && strstr(hc->name, "refuses") == NULL;
    }
    assert_int_equal(atomic_load(&f->started), 0);
    assert_int_equal(atomic_load(&f->freed), refused_with_arg);
}

static void test_limit(void **state)
{
    fixture_t *f = *state; /* max_websockets = 2 */
    cli_t a, b, c;
    cli_open(&a, f->port, "a");
    cli_open(&b, f->port, "b");
    expect_text(&a, "hello a");
    expect_text(&b, "hello b");
    char req[512];
    snprintf(req, sizeof(req),
             "GET /ws?name=c HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" HS_GOOD_REST);
    cli_open_raw(&c, f->port, req, NULL, 0);
    assert_int_equal(c.status, 503);
    cli_close(&c);
    assert_int_equal(atomic_load(&f->freed), 1);
    cli_send(&a, WS_OP_CLOSE, true, "\x03\xe8", 2);
    uint8_t op = 0;
    buf_t p = { 0 };
    assert_int_equal(cli_recv(&a, &op, &p), 1);
    assert_int_equal(op, WS_OP_CLOSE);
    buf_fini(&p);
    cli_close(&a);
    wait_returned(f, 1);
    for (int i = 0; i < 100; i++) { /* the thread marks itself done just after the function returns */
        cli_open_raw(&c, f->port, req, NULL, 0);
        if (c.status == 101) {
            break;
        }
        cli_close(&c);
        usleep(10000);
    }
    assert_int_equal(c.status, 101);
    expect_text(&c, "hello c");
    cli_close(&c);
    cli_close(&b);
    wait_returned(f, 3);
}

static void test_peer_vanishes(void **state)
{
    fixture_t *f = *state;
    cli_t c;
    cli_open(&c, f->port, "gone");
    expect_text(&c, "hello gone");
    cli_close(&c); /* no close frame */
    wait_returned(f, 1);
    assert_int_equal(atomic_load(&f->freed), 1);
}

static void test_stop_with_live_sockets(void **state)
{
    fixture_t *f = *state;
    cli_t c[3];
    for (int i = 0; i < 3; i++) {
        cli_open(&c[i], f->port, "s");
        expect_text(&c[i], "hello s");
    }
    /* One is half-way through a fragmented message. */
    cli_send(&c[1], WS_OP_TEXT, false, "part", 4);
    httpd_stop(f->h);
    f->h = NULL;
    assert_int_equal(atomic_load(&f->started), 3);
    assert_int_equal(atomic_load(&f->returned), 3);
    assert_int_equal(atomic_load(&f->freed), 3);
    for (int i = 0; i < 3; i++) {
        uint8_t op = 0;
        buf_t p = { 0 };
        assert_int_equal(cli_recv(&c[i], &op, &p), 1);
        assert_int_equal(op, WS_OP_CLOSE);
        assert_int_equal((uint16_t)(p.data[0] << 8 | p.data[1]), WS_CLOSE_GOING_AWAY);
        buf_fini(&p);
        int r = 0;
        for (int k = 0; k < 50 && r >= 0; k++) {
            r = cli_fill(&c[i], 100);
        }
        assert_int_equal(r, -1);
        cli_close(&c[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_handshake_echo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fragments_and_extra_in, setup, teardown),
        cmocka_unit_test_setup_teardown(test_protocol_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_handshakes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit, setup_two, teardown),
        cmocka_unit_test_setup_teardown(test_peer_vanishes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_with_live_sockets, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

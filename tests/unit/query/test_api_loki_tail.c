/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for query/api_loki_tail.c through pharosd's HTTP surface: a
 * server started in-process (as test_api_loki.c does; at most 150
 * entries per query, so a live window holds 150) gets lines by Loki push
 * and is tailed over a real WebSocket by a raw client written here
 * (frames checked with common/ws.h as a client, JSON with jansson).
 * Cases: bad arguments answered 400 in plain text with Loki's texts and
 * no upgrade; the history frame (the newest `limit` entries since start,
 * oldest first); lines pushed later arriving in later frames, including
 * lines at the very timestamp of the last one sent (no duplicate, no gap)
 * and more lines than one window holds; delay_for holding lines back;
 * the client's close answered; the server stopping with a tail open
 * (close 1001). Every frame is checked for Loki's shape.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/httpc.h"
#include "common/ws.h"
#include "server/server.h"
#include "testsupport.h"

typedef struct fx {
    char dir[128];
    server_t *s;
    server_config_t cfg;
    uint16_t port;
    char base[64];
    httpc_t *http;
} fx_t;

static int64_t now_ns(void)
{
    pclock_t c = clock_real();
    return clock_now_ms(&c) * 1000000LL;
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    assert_int_equal(ts_tempdir("pharos-tail", f->dir, sizeof(f->dir)), 0);
    char listen[64], storage[256];
    f->port = ts_free_port();
    assert_true(f->port != 0);
    snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%u", f->port);
    snprintf(storage, sizeof(storage), "--storage.path=%s/data", f->dir);
    char *argv[] = { "pharosd", listen, storage, "--logs.max-entries-per-query=150" };
    char err[256];
    assert_int_equal(server_config_load(4, argv, &f->cfg, stdout, err, sizeof(err)), SERVER_CFG_OK);
    if (server_start(&f->cfg, &f->s, err, sizeof(err)) != 0) {
        fail_msg("server_start: %s", err);
    }
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", f->port);
    f->http = httpc_create(20000);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    httpc_destroy(f->http);
    server_stop(f->s);
    server_config_free(&f->cfg);
    ts_rmrf(f->dir);
    free(f);
    return 0;
}

/* ---- pushing ---- */

typedef struct entry {
    int64_t ts;
    char host[8];
    char line[64];
} entry_t;

/* Push entries (job="tail", host=<host>), one stream per entry. */
static void push(fx_t *f, const entry_t *es, size_t n)
{
    buf_t b = { 0 };
    buf_puts(&b, "{\"streams\":[");
    for (size_t i = 0; i < n; i++) {
        buf_printf(&b, "%s{\"stream\":{\"job\":\"tail\",\"host\":\"%s\"},\"values\":[[\"%lld\",\"%s\"]]}", i ? "," : "",
                   es[i].host, (long long)es[i].ts, es[i].line);
    }
    buf_puts(&b, "]}");
    const char *headers[] = { "Content-Type: application/json", NULL };
    char url[128];
    snprintf(url, sizeof(url), "%s/loki/api/v1/push", f->base);
    buf_t resp = { 0 };
    httpc_result_t res;
    httpc_post(f->http, url, headers, b.data, b.len, &resp, &res);
    if (res.http_code != 204) {
        fail_msg("push: %ld %.*s", res.http_code, (int)resp.len, (const char *)resp.data);
    }
    buf_fini(&resp);
    buf_fini(&b);
}

/* An entry whose line is "<word> <k>". */
static entry_t mk(int64_t ts, const char *host, const char *word, int k)
{
    entry_t e = { .ts = ts };
    snprintf(e.host, sizeof(e.host), "%s", host);
    snprintf(e.line, sizeof(e.line), "%s %d", word, k);
    return e;
}

/* ---- a raw WebSocket client ---- */

typedef struct cli {
    int fd;
    int status;
    char head[2048];
    buf_t rb;
} cli_t;

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

/* GET target with the handshake's headers (upgrade: false leaves them
 * out); reads the answer's head, and its body when it is not a 101
 * ([out] c->status, c->head; c->rb holds the rest). */
static void cli_open(cli_t *c, uint16_t port, const char *target, bool upgrade)
{
    memset(c, 0, sizeof(*c));
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    char req[2048];
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n", target,
             upgrade ? "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 13\r\n"
                     : "Connection: close\r\n");
    cli_write(c, req, strlen(req));
    c->status = -1;
    for (;;) {
        const char *sep = c->rb.len ? memmem(c->rb.data, c->rb.len, "\r\n\r\n", 4) : NULL;
        if (sep) {
            size_t hl = (size_t)(sep - (const char *)c->rb.data);
            snprintf(c->head, sizeof(c->head), "%.*s", (int)hl, (const char *)c->rb.data);
            sscanf(c->head, "HTTP/1.%*d %d", &c->status);
            memmove(c->rb.data, sep + 4, c->rb.len - hl - 4);
            c->rb.len -= hl + 4;
            break;
        }
        if (cli_fill(c, 5000) <= 0) {
            fail_msg("no answer to GET %s", target);
        }
    }
    const char *cl = strcasestr(c->head, "\r\nContent-Length:");
    size_t body = cl ? strtoul(cl + 17, NULL, 10) : 0;
    while (c->status != 101 && c->rb.len < body && cli_fill(c, 5000) > 0) {
    }
}

static void cli_close(cli_t *c)
{
    close(c->fd);
    buf_fini(&c->rb);
}

static void cli_send(cli_t *c, uint8_t op, const void *p, size_t n)
{
    static const uint8_t key[4] = { 1, 2, 3, 4 };
    uint8_t hdr[WS_MAX_HEADER];
    size_t hl = ws_frame_header(hdr, op, true, n, key);
    buf_t out = { 0 };
    buf_append(&out, hdr, hl);
    if (n) {
        buf_append(&out, p, n);
    }
    ws_unmask(out.data + hl, n, key);
    cli_write(c, out.data, out.len);
    buf_fini(&out);
}

/* Next frame within ms: 1 ([out] *op, payload), 0 on timeout, -1 at EOF. */
static int cli_recv(cli_t *c, int ms, uint8_t *op, buf_t *payload)
{
    double deadline = clock_mono_s() + ms / 1000.0;
    for (;;) {
        ws_frame_t fr;
        ws_error_t err;
        int rc = ws_frame_parse(c->rb.data, c->rb.len, false, SIZE_MAX, &fr, &err);
        if (rc == WS_ERROR) {
            fail_msg("server frame: %s", err.msg);
        }
        if (rc == WS_OK) {
            assert_true(fr.fin);
            *op = fr.opcode;
            buf_reset(payload);
            buf_append(payload, fr.payload, fr.len);
            size_t used = fr.hdr_len + fr.len;
            memmove(c->rb.data, c->rb.data + used, c->rb.len - used);
            c->rb.len -= used;
            return 1;
        }
        double left = deadline - clock_mono_s();
        if (left <= 0) {
            return 0;
        }
        int r = cli_fill(c, (int)(left * 1000) + 1);
        if (r < 0) {
            return -1;
        }
    }
}

/* ---- frames ---- */

typedef struct got {
    entry_t *v;
    size_t n, cap;
    int frames;
} got_t;

/* Check one frame's shape and add its entries to g. */
static void take_frame(const buf_t *p, got_t *g)
{
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)p->data, p->len, 0, &jerr);
    if (!doc) {
        fail_msg("frame is not JSON: %s: %.*s", jerr.text, (int)p->len, (const char *)p->data);
    }
    assert_true(json_is_object(doc));
    assert_int_equal(json_object_size(doc), 1); /* no dropped_entries: nothing was dropped */
    json_t *streams = json_object_get(doc, "streams");
    assert_true(json_is_array(streams));
    assert_true(json_array_size(streams) > 0);
    size_t i;
    json_t *s;
    json_array_foreach(streams, i, s)
    {
        json_t *labels = json_object_get(s, "stream");
        json_t *values = json_object_get(s, "values");
        assert_true(json_is_object(labels) && json_is_array(values));
        assert_string_equal(json_string_value(json_object_get(labels, "job")), "tail");
        const char *host = json_string_value(json_object_get(labels, "host"));
        assert_non_null(host);
        int64_t prev = INT64_MIN;
        size_t k;
        json_t *v;
        json_array_foreach(values, k, v)
        {
            assert_true(json_is_array(v));
            assert_int_equal(json_array_size(v), 2);
            const char *ts = json_string_value(json_array_get(v, 0));
            const char *line = json_string_value(json_array_get(v, 1));
            assert_non_null(ts);
            assert_non_null(line);
            assert_true(strspn(ts, "0123456789") == strlen(ts) && strlen(ts) >= 7);
            entry_t e = { .ts = strtoll(ts, NULL, 10) };
            assert_true(e.ts >= prev); /* oldest first */
            prev = e.ts;
            snprintf(e.host, sizeof(e.host), "%s", host);
            snprintf(e.line, sizeof(e.line), "%s", line);
            if (g->n == g->cap) {
                g->cap = g->cap ? g->cap * 2 : 64;
                g->v = realloc(g->v, g->cap * sizeof(*g->v));
            }
            g->v[g->n++] = e;
        }
    }
    json_decref(doc);
    g->frames++;
}

/* Receive frames until g holds want entries (then wait quiet_ms more for
 * anything extra) or timeout_ms passes. */
static void collect(cli_t *c, got_t *g, size_t want, int timeout_ms, int quiet_ms)
{
    double deadline = clock_mono_s() + timeout_ms / 1000.0;
    buf_t p = { 0 };
    while (g->n < want && clock_mono_s() < deadline) {
        uint8_t op = 0;
        int r = cli_recv(c, (int)((deadline - clock_mono_s()) * 1000) + 1, &op, &p);
        if (r < 0) {
            fail_msg("server closed the tail after %zu of %zu entries", g->n, want);
        }
        if (r == 1) {
            if (op != WS_OP_TEXT) {
                fail_msg("frame opcode %u: %.*s", op, (int)p.len, (const char *)p.data);
            }
            take_frame(&p, g);
        }
    }
    if (quiet_ms > 0) {
        uint8_t op = 0;
        if (cli_recv(c, quiet_ms, &op, &p) == 1) {
            take_frame(&p, g);
        }
    }
    buf_fini(&p);
}

static int entry_cmp(const void *a, const void *b)
{
    const entry_t *x = a, *y = b;
    if (x->ts != y->ts) {
        return x->ts < y->ts ? -1 : 1;
    }
    int c = strcmp(x->host, y->host);
    return c ? c : strcmp(x->line, y->line);
}

/* g's entries from index from on must be exactly want (any order). */
static void expect_entries(got_t *g, size_t from, entry_t *want, size_t n)
{
    size_t have = g->n - from;
    if (have != n) {
        fail_msg("received %zu entries, want %zu", have, n);
    }
    entry_t *got = g->v + from;
    qsort(got, have, sizeof(*got), entry_cmp);
    qsort(want, n, sizeof(*want), entry_cmp);
    for (size_t i = 0; i < n; i++) {
        if (entry_cmp(&got[i], &want[i]) != 0) {
            fail_msg("entry %zu: got %lld %s %s, want %lld %s %s", i, (long long)got[i].ts, got[i].host, got[i].line,
                     (long long)want[i].ts, want[i].host, want[i].line);
        }
    }
}

/* ---- cases ---- */

typedef struct bad_case {
    const char *args; /* already URL-encoded */
    const char *body; /* prefix of the answer */
} bad_case_t;

static const bad_case_t bad_cases[] = {
    { "query=", "parse error" },
    { "query=%7Bjob%3D%22tail%22", "parse error" },
    { "query=count_over_time(%7Bjob%3D%22tail%22%7D%5B1m%5D)", "only log selector is supported" },
    { "query=%7Bjob%3D%22tail%22%7D&delay_for=6", "delay_for can't be greater than 5" },
    { "query=%7Bjob%3D%22tail%22%7D&delay_for=-1", "delay_for can't be greater than 5" },
    { "query=%7Bjob%3D%22tail%22%7D&delay_for=x", "strconv.Atoi: parsing \"x\": invalid syntax" },
    { "query=%7Bjob%3D%22tail%22%7D&limit=0", "limit must be a positive value" },
    { "query=%7Bjob%3D%22tail%22%7D&limit=abc", "strconv.Atoi: parsing \"abc\": invalid syntax" },
    { "query=%7Bjob%3D%22tail%22%7D&limit=151",
      "max entries limit per query exceeded, limit > max_entries_limit_per_query (151 > 150)" },
    { "query=%7Bjob%3D%22tail%22%7D&start=yesterday", "could not parse 'start' parameter: " },
};

static void test_bad_args(void **state)
{
    fx_t *f = *state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        char target[512];
        snprintf(target, sizeof(target), "/loki/api/v1/tail?%s", bad_cases[i].args);
        cli_t c;
        cli_open(&c, f->port, target, true);
        if (c.status != 400 || !strcasestr(c.head, "Content-Type: text/plain; charset=utf-8") ||
            c.rb.len < strlen(bad_cases[i].body) || memcmp(c.rb.data, bad_cases[i].body, strlen(bad_cases[i].body))) {
            fail_msg("%s: %d %.*s, want 400 %s", bad_cases[i].args, c.status, (int)c.rb.len, (const char *)c.rb.data,
                     bad_cases[i].body);
        }
        cli_close(&c);
    }
    /* A good query without the handshake: 400 from httpd, no upgrade. */
    cli_t c;
    cli_open(&c, f->port, "/loki/api/v1/tail?query=%7Bjob%3D%22tail%22%7D", false);
    assert_int_equal(c.status, 400);
    assert_non_null(memmem(c.rb.data, c.rb.len, "websocket", 9));
    cli_close(&c);
}

static void test_history_live_ties(void **state)
{
    fx_t *f = *state;
    int64_t t0 = now_ns() - 60 * 1000000000LL;
    entry_t old[5];
    for (int k = 0; k < 5; k++) {
        old[k] = mk(t0 + k * 1000000000LL, k % 2 ? "b" : "a", "old", k);
    }
    old[4].ts = old[3].ts; /* two streams at the newest history timestamp */
    push(f, old, 5);

    cli_t c;
    cli_open(&c, f->port, "/loki/api/v1/tail?query=%7Bjob%3D%22tail%22%7D&limit=3", true);
    assert_int_equal(c.status, 101);
    got_t g = { 0 };
    collect(&c, &g, 3, 5000, 0);
    assert_int_equal(g.frames, 1); /* the history is one frame */
    entry_t want_hist[3] = { old[2], old[3], old[4] };
    expect_entries(&g, 0, want_hist, 3);

    /* Three lines at one timestamp, then two more at that same timestamp
     * once the first three were sent, plus one later. */
    int64_t t1 = now_ns() - 2000000000LL;
    entry_t a[3] = { mk(t1, "a", "tie", 0), mk(t1, "b", "tie", 1), mk(t1, "a", "tie", 2) };
    push(f, a, 3);
    size_t mark = g.n;
    collect(&c, &g, mark + 3, 5000, 0);
    expect_entries(&g, mark, a, 3);
    entry_t b[3] = { mk(t1, "a", "tie", 3), mk(t1, "b", "tie", 4), mk(t1 + 1, "b", "after", 5) };
    push(f, b, 3);
    mark = g.n;
    collect(&c, &g, mark + 3, 5000, 1500);
    expect_entries(&g, mark, b, 3);

    /* The client closes: the server answers with a close frame and hangs up. */
    cli_send(&c, WS_OP_CLOSE, "\x03\xe8", 2);
    buf_t p = { 0 };
    uint8_t op = 0;
    assert_int_equal(cli_recv(&c, 3000, &op, &p), 1);
    assert_int_equal(op, WS_OP_CLOSE);
    assert_int_equal(p.len, 2);
    assert_memory_equal(p.data, "\x03\xe8", 2);
    assert_int_equal(cli_recv(&c, 3000, &op, &p), -1);
    buf_fini(&p);
    free(g.v);
    cli_close(&c);
}

/* Push one old entry, open a tail on query and wait for the history frame
 * holding it, so that what the test pushes next is live. */
static void open_after_history(fx_t *f, cli_t *c, const char *target, got_t *g)
{
    entry_t marker = mk(now_ns() - 30 * 1000000000LL, "m", "burst marker", 0);
    push(f, &marker, 1);
    cli_open(c, f->port, target, true);
    assert_int_equal(c->status, 101);
    collect(c, g, 1, 5000, 0);
    expect_entries(g, 0, &marker, 1);
}

static void test_more_than_a_window(void **state)
{
    fx_t *f = *state;
    cli_t c;
    got_t g = { 0 };
    open_after_history(f, &c, "/loki/api/v1/tail?query=%7Bjob%3D%22tail%22%7D%20%7C%3D%20%22burst%22", &g);
    /* 300 lines over two streams, more than a window of 150, with 20 at
     * one timestamp across the window's cut (entries 140..159). */
    enum { N = 300 };
    entry_t *es = calloc(N, sizeof(*es));
    int64_t t1 = now_ns() - 3000000000LL;
    for (int k = 0; k < N; k++) {
        es[k] = mk(k >= 140 && k < 160 ? t1 + 140 : t1 + k, k % 2 ? "b" : "a", "burst", k);
    }
    push(f, es, N);
    int frames = g.frames;
    collect(&c, &g, 1 + N, 8000, 1500);
    expect_entries(&g, 1, es, N);
    assert_true(g.frames - frames >= 2);
    free(es);
    free(g.v);
    cli_close(&c); /* no close frame: the server notices the EOF */
}

static void test_delay_for(void **state)
{
    fx_t *f = *state;
    cli_t c;
    got_t g = { 0 };
    open_after_history(f, &c, "/loki/api/v1/tail?query=%7Bjob%3D%22tail%22%7D&delay_for=2", &g);
    entry_t e = mk(now_ns(), "a", "delayed", 1);
    push(f, &e, 1);
    collect(&c, &g, 2, 6000, 0);
    int64_t seen = now_ns();
    expect_entries(&g, 1, &e, 1);
    if (seen < e.ts + 2000000000LL - 1000000) { /* the server's end is now - delay_for, to the ms */
        fail_msg("the line came %lld ms after its time, before delay_for=2", (long long)(seen - e.ts) / 1000000);
    }
    free(g.v);
    cli_close(&c);
}

static void test_server_stop(void **state)
{
    fx_t *f = *state;
    cli_t c;
    cli_open(&c, f->port, "/loki/api/v1/tail?query=%7Bjob%3D%22tail%22%7D", true);
    assert_int_equal(c.status, 101);
    usleep(200000);
    server_stop(f->s);
    f->s = NULL;
    buf_t p = { 0 };
    uint8_t op = 0;
    assert_int_equal(cli_recv(&c, 3000, &op, &p), 1);
    assert_int_equal(op, WS_OP_CLOSE);
    assert_true(p.len >= 2);
    assert_int_equal(p.data[0] << 8 | p.data[1], WS_CLOSE_GOING_AWAY);
    buf_fini(&p);
    cli_close(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_live_ties, setup, teardown),
        cmocka_unit_test_setup_teardown(test_more_than_a_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delay_for, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_stop, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

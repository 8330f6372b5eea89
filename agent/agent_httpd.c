/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent_httpd: a tiny HTTP/1.1 server for /metrics and /-/healthy, written on
 * sockets and poll() so the agent does not load libmicrohttpd and its TLS stack.
 *
 * One thread polls the listening socket, an eventfd (stop) and up to
 * HTTPD_MAX_CONNS non-blocking connections. A connection is a state machine:
 * IDLE (no request bytes) → READ (part of a head in `in`) → WRITE (the
 * unsent tail of a response in `out`) → IDLE again, or DRAIN (our side shut
 * down; input is read and dropped until EOF so the client sees the last
 * response instead of a reset) → closed.
 *
 * Invariants: `in` never holds more than HTTPD_HEAD_MAX bytes (a head not
 * ending within them is answered 431). A connection with unsent output is
 * not read, so pipelined requests are answered in order and no client makes
 * the server buffer without bound. Every state has a deadline (a request's
 * head within 5 s of its first byte, keep-alive idle 5 s, write progress
 * 5 s, drain 1 s), so no client holds a slot for longer. A response is first
 * sent straight from the shared body buffer (sendmsg of head and body); only
 * what the socket does not take is copied into the connection's `out`.
 * Buffers keep their storage, so a steady scraper costs no heap per request.
 * The head parser is pure (httpd_parse). When every slot is taken, the
 * oldest keep-alive idle connection is closed for a new one; failing that,
 * new connections wait in the kernel's backlog. Bodies are refused (400 for
 * GET/HEAD, 405 otherwise), and the connection is then closed.
 */
#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "common/clock.h"
#include "common/mem.h"
#include "common/netaddr.h"

#define HTTPD_MAX_CONNS 16
#define HTTPD_HEAD_MAX 16384 /* request line + headers + blank line */
#define HTTPD_TIMEOUT_S 5.0  /* request head, keep-alive idle, write progress */
#define HTTPD_DRAIN_S 1.0
#define HTTPD_DRAIN_MAX 65536
#define HTTPD_READ_CHUNK 4096
#define HTTPD_BACKLOG 128
#define HTTPD_TEXT "text/plain; charset=utf-8"

typedef enum httpd_state { CONN_FREE = 0, CONN_IDLE, CONN_READ, CONN_WRITE, CONN_DRAIN } httpd_state_t;

typedef struct httpd_conn {
    int fd;
    httpd_state_t state;
    bool served;      /* answered a request: evictable while IDLE */
    bool close_after; /* close (via DRAIN) once out is flushed */
    double deadline;  /* clock_mono_s() at which the connection is closed */
    double idle_since;
    size_t drained;
    size_t out_off;
    buf_t in;
    buf_t out;
} httpd_conn_t;

struct agent_httpd {
    int lfd;
    int wfd; /* eventfd: stop */
    pthread_t thread;
    bool thread_started;
    bool stopping;             /* server thread only */
    double accept_paused_till; /* after EMFILE and the like */
    agent_httpd_fn fn;
    void *ctx;
    uint16_t port;
    httpd_conn_t conns[HTTPD_MAX_CONNS];
    buf_t body; /* fn's output, reused */
    buf_t head; /* response head, reused */
    buf_t path; /* NUL-terminated path for fn, reused */
};

/* One parsed request head; pointers borrow the parsed bytes. */
typedef struct httpd_req {
    const char *method;
    size_t method_len;
    const char *path; /* target up to '?' */
    size_t path_len;
    int minor; /* HTTP/1.minor */
    bool conn_close;
    bool conn_keep_alive;
    bool has_body;
    int status; /* the error to answer when httpd_parse returns -1 */
} httpd_req_t;

/* ---- parser (pure) ---- */

static bool httpd_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool httpd_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* "METHOD SP target SP HTTP/1.x" (no EOL). 0, or the error status. */
static int httpd_parse_reqline(const char *p, size_t n, httpd_req_t *r)
{
    size_t i = 0;
    while (i < n && httpd_tchar((unsigned char)p[i])) {
        i++;
    }
    if (i == 0 || i >= n || p[i] != ' ') {
        return 400;
    }
    r->method = p;
    r->method_len = i;
    size_t t = ++i;
    while (i < n && (unsigned char)p[i] > 0x20 && (unsigned char)p[i] < 0x7f) {
        i++;
    }
    if (i == t || i >= n || p[i] != ' ') {
        return 400;
    }
    r->path = p + t;
    const char *q = memchr(p + t, '?', i - t);
    r->path_len = q ? (size_t)(q - (p + t)) : i - t;
    const char *v = p + i + 1;
    if (n - i - 1 != 8 || memcmp(v, "HTTP/", 5) != 0 || !httpd_is_digit(v[5]) || v[6] != '.' || !httpd_is_digit(v[7])) {
        return 400;
    }
    if (v[5] != '1') {
        return 505;
    }
    r->minor = v[7] - '0';
    return 0;
}

/* Note "close" and "keep-alive" among the comma-separated tokens of v. */
static void httpd_parse_connection(const char *v, size_t n, httpd_req_t *r)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) {
            i++;
        }
        size_t s = i;
        while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t') {
            i++;
        }
        if (i - s == 5 && strncasecmp(v + s, "close", 5) == 0) {
            r->conn_close = true;
        } else if (i - s == 10 && strncasecmp(v + s, "keep-alive", 10) == 0) {
            r->conn_keep_alive = true;
        }
    }
}

static bool httpd_name_is(const char *p, size_t n, const char *name)
{
    return strlen(name) == n && strncasecmp(p, name, n) == 0;
}

/* "Name: value" (no EOL). 0, or the error status. */
static int httpd_parse_header(const char *p, size_t n, httpd_req_t *r)
{
    size_t i = 0;
    while (i < n && httpd_tchar((unsigned char)p[i])) {
        i++;
    }
    if (i == 0 || i >= n || p[i] != ':') {
        return 400; /* also obs-fold and whitespace before the colon */
    }
    size_t nlen = i++;
    while (i < n && (p[i] == ' ' || p[i] == '\t')) {
        i++;
    }
    size_t end = n;
    while (end > i && (p[end - 1] == ' ' || p[end - 1] == '\t')) {
        end--;
    }
    for (size_t k = i; k < end; k++) {
        unsigned char c = (unsigned char)p[k];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return 400;
        }
    }
    if (httpd_name_is(p, nlen, "Content-Length")) {
        if (end == i) {
            return 400;
        }
        for (size_t k = i; k < end; k++) {
            if (!httpd_is_digit(p[k])) {
                return 400;
            }
            r->has_body |= p[k] != '0';
        }
    } else if (httpd_name_is(p, nlen, "Transfer-Encoding")) {
        r->has_body = true;
    } else if (httpd_name_is(p, nlen, "Connection")) {
        httpd_parse_connection(p + i, end - i, r);
    }
    return 0;
}

/* Parse one request head at p[0..len) (leading empty lines skipped; lines
 * end in LF or CRLF). Returns 1 with [out] *r and [out] *used (the bytes the
 * head spans), 0 when it is not complete yet, or -1 with r->status the
 * error to answer: 400 (syntax, NUL, bare CR), 431 (no end within
 * HTTPD_HEAD_MAX bytes) or 505 (not HTTP/1.x). Errors in complete lines are
 * found before the head ends. Pure; O(len). */
static int httpd_parse(const char *p, size_t len, httpd_req_t *r, size_t *used)
{
    memset(r, 0, sizeof(*r));
    *used = 0;
    size_t pos = 0;
    while (pos < len && (p[pos] == '\r' || p[pos] == '\n')) {
        pos++;
    }
    bool first = true;
    for (;;) {
        const char *nl = pos < len ? memchr(p + pos, '\n', len - pos) : NULL;
        size_t end = nl ? (size_t)(nl - p) + 1 : len;
        size_t scan = end < HTTPD_HEAD_MAX ? end : HTTPD_HEAD_MAX;
        if (pos < scan && memchr(p + pos, '\0', scan - pos)) {
            r->status = 400;
            return -1;
        }
        if (!nl || end > HTTPD_HEAD_MAX) {
            r->status = len >= HTTPD_HEAD_MAX ? 431 : 0;
            return r->status ? -1 : 0;
        }
        size_t n = end - 1 - pos;
        if (n > 0 && p[pos + n - 1] == '\r') {
            n--;
        }
        int st = 0;
        if (memchr(p + pos, '\r', n)) {
            st = 400;
        } else if (first) {
            st = httpd_parse_reqline(p + pos, n, r);
            first = false;
        } else if (n == 0) {
            *used = end;
            return 1;
        } else {
            st = httpd_parse_header(p + pos, n, r);
        }
        if (st != 0) {
            r->status = st;
            return -1;
        }
        pos = end;
    }
}

/* ---- responses ---- */

static const struct httpd_reason_row {
    int status;
    const char *reason;
} httpd_reasons[] = {
    { 200, "OK" },
    { 204, "No Content" },
    { 301, "Moved Permanently" },
    { 302, "Found" },
    { 304, "Not Modified" },
    { 400, "Bad Request" },
    { 401, "Unauthorized" },
    { 403, "Forbidden" },
    { 404, "Not Found" },
    { 405, "Method Not Allowed" },
    { 429, "Too Many Requests" },
    { 431, "Request Header Fields Too Large" },
    { 500, "Internal Server Error" },
    { 503, "Service Unavailable" },
    { 505, "HTTP Version Not Supported" },
};

static const char *httpd_reason(int status)
{
    for (size_t i = 0; i < sizeof(httpd_reasons) / sizeof(httpd_reasons[0]); i++) {
        if (httpd_reasons[i].status == status) {
            return httpd_reasons[i].reason;
        }
    }
    return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
}

static void httpd_conn_close(httpd_conn_t *c)
{
    if (c->state != CONN_FREE) {
        close(c->fd);
    }
    buf_fini(&c->in);
    buf_fini(&c->out);
    memset(c, 0, sizeof(*c));
    c->fd = -1;
}

/* The response (if any) is fully sent: close via DRAIN, or wait for the
 * next request. */
static void httpd_conn_done(httpd_conn_t *c, double now)
{
    if (c->close_after) {
        shutdown(c->fd, SHUT_WR);
        c->state = CONN_DRAIN;
        c->deadline = now + HTTPD_DRAIN_S;
        c->drained = 0;
        buf_reset(&c->in);
        return;
    }
    c->served = true;
    c->state = c->in.len > 0 ? CONN_READ : CONN_IDLE;
    c->deadline = now + HTTPD_TIMEOUT_S;
    c->idle_since = now;
}

/* Send head and body now; the part the socket does not take is copied to
 * c->out (state WRITE). 0, or -1 when the connection failed (the caller
 * closes it). One sendmsg. */
static int httpd_conn_send(httpd_conn_t *c, const buf_t *head, const uint8_t *body, size_t blen, double now)
{
    struct iovec iov[2] = { { head->data, head->len }, { (void *)body, blen } };
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = blen > 0 ? 2 : 1 };
    ssize_t w = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return -1;
        }
        w = 0;
    }
    size_t sent = (size_t)w;
    buf_reset(&c->out);
    c->out_off = 0;
    if (sent < head->len) {
        buf_append(&c->out, head->data + sent, head->len - sent);
        sent = head->len;
    }
    if (sent - head->len < blen) {
        buf_append(&c->out, body + (sent - head->len), blen - (sent - head->len));
    }
    if (c->out.len > 0) {
        c->state = CONN_WRITE;
        c->deadline = now + HTTPD_TIMEOUT_S;
        return 0;
    }
    httpd_conn_done(c, now);
    return 0;
}

/* Answer with status and h->body (not sent for HEAD, 1xx, 204, 304). 0 or -1
 * as httpd_conn_send. */
static int httpd_respond(agent_httpd_t *h, httpd_conn_t *c, int status, const char *ctype, bool head_only, bool keep,
                         double now)
{
    if (status < 100 || status > 599) {
        status = 500;
    }
    bool nobody = status < 200 || status == 204 || status == 304;
    buf_reset(&h->head);
    buf_printf(&h->head, "HTTP/1.1 %d %s\r\n", status, httpd_reason(status));
    if (status == 405) {
        buf_puts(&h->head, "Allow: GET, HEAD\r\n");
    }
    if (!nobody) {
        buf_printf(&h->head, "Content-Type: %s\r\nContent-Length: %zu\r\n", ctype ? ctype : HTTPD_TEXT, h->body.len);
    }
    buf_printf(&h->head, "Connection: %s\r\n\r\n", keep ? "keep-alive" : "close");
    c->close_after = !keep;
    bool send_body = !head_only && !nobody;
    return httpd_conn_send(c, &h->head, h->body.data, send_body ? h->body.len : 0, now);
}

/* Server-made answer: status with its reason as the text body. */
static int httpd_respond_error(agent_httpd_t *h, httpd_conn_t *c, int status, bool head_only, bool keep, double now)
{
    buf_reset(&h->body);
    buf_printf(&h->body, "%s\n", httpd_reason(status));
    return httpd_respond(h, c, status, HTTPD_TEXT, head_only, keep, now);
}

/* Answer the parsed request r. 0 or -1 as httpd_conn_send. */
static int httpd_serve(agent_httpd_t *h, httpd_conn_t *c, const httpd_req_t *r, double now)
{
    bool get = r->method_len == 3 && memcmp(r->method, "GET", 3) == 0;
    bool head_only = r->method_len == 4 && memcmp(r->method, "HEAD", 4) == 0;
    bool keep = r->minor == 0 ? r->conn_keep_alive && !r->conn_close : !r->conn_close;
    keep = keep && !r->has_body && !h->stopping; /* an unread body cannot be skipped */
    if (!get && !head_only) {
        return httpd_respond_error(h, c, 405, false, keep, now);
    }
    if (r->has_body || r->path_len == 0 || r->path[0] != '/') {
        return httpd_respond_error(h, c, 400, head_only, false, now);
    }
    buf_reset(&h->path);
    buf_append(&h->path, r->path, r->path_len);
    buf_reset(&h->body);
    int status = 200;
    const char *ctype = HTTPD_TEXT;
    h->fn(h->ctx, (const char *)h->path.data, &h->body, &status, &ctype);
    return httpd_respond(h, c, status, ctype, head_only, keep, now);
}

/* Answer the complete heads buffered in c->in while no output is pending.
 * 0, or -1 when the connection failed (the caller closes it). */
static int httpd_conn_process(agent_httpd_t *h, httpd_conn_t *c, double now)
{
    while ((c->state == CONN_READ || c->state == CONN_IDLE) && c->in.len > 0) {
        httpd_req_t r;
        size_t used = 0;
        int rc = httpd_parse((const char *)c->in.data, c->in.len, &r, &used);
        if (rc == 0) {
            return 0;
        }
        if (rc < 0) {
            return httpd_respond_error(h, c, r.status, false, false, now);
        }
        if (httpd_serve(h, c, &r, now) != 0) {
            return -1;
        }
        if (c->state == CONN_DRAIN) {
            return 0;
        }
        memmove(c->in.data, c->in.data + used, c->in.len - used);
        c->in.len -= used;
        c->in.data[c->in.len] = '\0';
        if (c->in.len == 0 && c->state == CONN_READ) {
            c->state = CONN_IDLE;
        }
    }
    return 0;
}

/* ---- connection I/O ---- */

/* Read what is available into c->in (at most HTTPD_HEAD_MAX buffered). 0,
 * or -1 on EOF or error (the caller closes). */
static int httpd_conn_read(httpd_conn_t *c, double now)
{
    size_t room = HTTPD_HEAD_MAX - c->in.len;
    if (room == 0) {
        return 0;
    }
    room = room < HTTPD_READ_CHUNK ? room : HTTPD_READ_CHUNK;
    buf_reserve(&c->in, room);
    ssize_t n = recv(c->fd, c->in.data + c->in.len, room, 0);
    if (n == 0) {
        return -1;
    }
    if (n < 0) {
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    }
    if (c->state == CONN_IDLE) {
        c->state = CONN_READ;
        if (c->served) {
            c->deadline = now + HTTPD_TIMEOUT_S; /* a fresh connection keeps its accept deadline */
        }
    }
    c->in.len += (size_t)n;
    c->in.data[c->in.len] = '\0';
    return 0;
}

/* Read and drop input after our side shut down. 0, or -1 to close now. */
static int httpd_conn_drain(httpd_conn_t *c)
{
    uint8_t junk[4096];
    ssize_t n = recv(c->fd, junk, sizeof(junk), 0);
    if (n < 0) {
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    }
    c->drained += (size_t)n;
    return n == 0 || c->drained > HTTPD_DRAIN_MAX ? -1 : 0;
}

/* Send more of c->out. 0, or -1 when the connection failed. */
static int httpd_conn_flush(httpd_conn_t *c, double now)
{
    ssize_t w = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    }
    c->out_off += (size_t)w;
    c->deadline = now + HTTPD_TIMEOUT_S;
    if (c->out_off == c->out.len) {
        buf_reset(&c->out);
        c->out_off = 0;
        httpd_conn_done(c, now);
    }
    return 0;
}

/* Handle poll events on c, then answer what it has buffered. */
static void httpd_conn_event(agent_httpd_t *h, httpd_conn_t *c, short revents, double now)
{
    int rc = 0;
    if (c->state == CONN_WRITE) {
        rc = httpd_conn_flush(c, now);
    } else if (c->state == CONN_DRAIN) {
        rc = httpd_conn_drain(c);
    } else if (revents & (POLLIN | POLLHUP | POLLERR)) {
        rc = httpd_conn_read(c, now);
    }
    if (rc == 0 && !h->stopping) {
        rc = httpd_conn_process(h, c, now);
    }
    if (rc != 0) {
        httpd_conn_close(c);
    }
}

/* ---- accepting ---- */

/* A free slot, else the oldest keep-alive idle connection closed for reuse,
 * else NULL. O(HTTPD_MAX_CONNS). */
static httpd_conn_t *httpd_slot(agent_httpd_t *h, bool evict)
{
    httpd_conn_t *oldest = NULL;
    for (size_t i = 0; i < HTTPD_MAX_CONNS; i++) {
        httpd_conn_t *c = &h->conns[i];
        if (c->state == CONN_FREE) {
            return c;
        }
        if (c->state == CONN_IDLE && c->served && (!oldest || c->idle_since < oldest->idle_since)) {
            oldest = c;
        }
    }
    if (oldest && evict) {
        httpd_conn_close(oldest);
    }
    return oldest;
}

static void httpd_accept(agent_httpd_t *h, double now)
{
    for (size_t k = 0; k < HTTPD_MAX_CONNS; k++) {
        httpd_conn_t *c = httpd_slot(h, true);
        if (!c) {
            return;
        }
        int fd = accept4(h->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
                h->accept_paused_till = now + 0.1; /* EMFILE and the like: do not spin */
            }
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c->fd = fd;
        c->state = CONN_IDLE;
        c->deadline = now + HTTPD_TIMEOUT_S;
        c->idle_since = now;
    }
}

/* ---- the server thread ---- */

/* Fill pfd (wake fd, listener when accepting, connections) and [out] idx
 * (the connection of each entry, or -1/-2 for wake/listener) and [out]
 * *timeout_ms until the nearest deadline. Returns the entry count. */
static nfds_t httpd_poll_set(agent_httpd_t *h, struct pollfd *pfd, int *idx, double now, int *timeout_ms)
{
    nfds_t n = 0;
    double next = -1;
    pfd[n] = (struct pollfd){ .fd = h->wfd, .events = POLLIN };
    idx[n++] = -1;
    if (!h->stopping && now >= h->accept_paused_till && httpd_slot(h, false)) {
        pfd[n] = (struct pollfd){ .fd = h->lfd, .events = POLLIN };
        idx[n++] = -2;
    } else if (!h->stopping && now < h->accept_paused_till) {
        next = h->accept_paused_till;
    }
    for (size_t i = 0; i < HTTPD_MAX_CONNS; i++) {
        httpd_conn_t *c = &h->conns[i];
        if (c->state == CONN_FREE) {
            continue;
        }
        pfd[n] = (struct pollfd){ .fd = c->fd, .events = c->state == CONN_WRITE ? POLLOUT : POLLIN };
        idx[n++] = (int)i;
        if (next < 0 || c->deadline < next) {
            next = c->deadline;
        }
    }
    *timeout_ms = next < 0 ? -1 : next <= now ? 0 : (int)((next - now) * 1000.0) + 1;
    return n;
}

/* Once stopping: close every connection that is not writing a response. */
static bool httpd_wind_down(agent_httpd_t *h)
{
    bool busy = false;
    for (size_t i = 0; i < HTTPD_MAX_CONNS; i++) {
        httpd_conn_t *c = &h->conns[i];
        if (c->state == CONN_WRITE) {
            busy = true;
        } else if (c->state != CONN_FREE) {
            httpd_conn_close(c);
        }
    }
    return busy;
}

static void *httpd_thread(void *arg)
{
    agent_httpd_t *h = arg;
    struct pollfd pfd[HTTPD_MAX_CONNS + 2];
    int idx[HTTPD_MAX_CONNS + 2];
    for (;;) {
        if (h->stopping && !httpd_wind_down(h)) {
            break;
        }
        int timeout_ms = -1;
        nfds_t n = httpd_poll_set(h, pfd, idx, clock_mono_s(), &timeout_ms);
        int rc = poll(pfd, n, timeout_ms);
        double now = clock_mono_s();
        for (nfds_t i = 0; rc > 0 && i < n; i++) {
            if (idx[i] >= 0 && pfd[i].revents) {
                httpd_conn_event(h, &h->conns[idx[i]], pfd[i].revents, now);
            }
        }
        if (rc > 0 && (pfd[0].revents & POLLIN)) {
            h->stopping = true;
        }
        if (rc > 0 && n > 1 && idx[1] == -2 && (pfd[1].revents & POLLIN) && !h->stopping) {
            httpd_accept(h, now);
        }
        for (size_t i = 0; i < HTTPD_MAX_CONNS; i++) {
            if (h->conns[i].state != CONN_FREE && now >= h->conns[i].deadline) {
                httpd_conn_close(&h->conns[i]);
            }
        }
    }
    return NULL;
}

/* ---- lifecycle ---- */

/* Open, bind and listen h->lfd; set h->port. 0, or -1 with a reason. */
static int httpd_listen(agent_httpd_t *h, const char *addr, char *err, size_t errlen)
{
    struct sockaddr_storage ss = { 0 };
    socklen_t sslen = 0;
    if (netaddr_listen(addr, &ss, &sslen, err, errlen) != 0) {
        return -1;
    }
    h->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (h->lfd < 0 || setsockopt(h->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(h->lfd, (struct sockaddr *)&ss, sslen) != 0 || listen(h->lfd, HTTPD_BACKLOG) != 0) {
        snprintf(err, errlen, "listen %s: %s", addr, strerror(errno));
        return -1;
    }
    struct sockaddr_storage bound = { 0 };
    socklen_t blen = sizeof(bound);
    if (getsockname(h->lfd, (struct sockaddr *)&bound, &blen) != 0) {
        snprintf(err, errlen, "listen %s: getsockname: %s", addr, strerror(errno));
        return -1;
    }
    h->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                : ((struct sockaddr_in *)&bound)->sin_port);
    return 0;
}

int agent_httpd_start(const char *addr, agent_httpd_fn fn, void *ctx, agent_httpd_t **out, char *err, size_t errlen)
{
    assert(fn && out && err && errlen > 0);
    *out = NULL;
    const char *a = addr ? addr : ":0";
    agent_httpd_t *h = mem_calloc(1, sizeof(*h));
    h->lfd = -1;
    h->wfd = -1;
    h->fn = fn;
    h->ctx = ctx;
    for (size_t i = 0; i < HTTPD_MAX_CONNS; i++) {
        h->conns[i].fd = -1;
    }
    if (httpd_listen(h, a, err, errlen) != 0) {
        goto fail;
    }
    h->wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (h->wfd < 0) {
        snprintf(err, errlen, "listen %s: eventfd: %s", a, strerror(errno));
        goto fail;
    }
    int rc = pthread_create(&h->thread, NULL, httpd_thread, h);
    if (rc != 0) {
        snprintf(err, errlen, "listen %s: cannot start thread: %s", a, strerror(rc));
        goto fail;
    }
    h->thread_started = true;
    *out = h;
    return 0;
fail:
    agent_httpd_stop(h);
    return -1;
}

void agent_httpd_stop(agent_httpd_t *h)
{
    if (!h) {
        return;
    }
    if (h->thread_started) {
        uint64_t one = 1;
        ssize_t w = write(h->wfd, &one, sizeof(one));
        (void)w; /* cannot fail: the counter is far from overflow */
        pthread_join(h->thread, NULL);
    }
    for (size_t i = 0; i < HTTPD_MAX_CONNS; i++) {
        httpd_conn_close(&h->conns[i]);
    }
    if (h->lfd >= 0) {
        close(h->lfd);
    }
    if (h->wfd >= 0) {
        close(h->wfd);
    }
    buf_fini(&h->body);
    buf_fini(&h->head);
    buf_fini(&h->path);
    mem_free(h);
}

uint16_t agent_httpd_port(const agent_httpd_t *h)
{
    assert(h);
    return h->port;
}

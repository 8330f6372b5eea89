/* SPDX-License-Identifier: Apache-2.0 */
/*
 * httpd: libmicrohttpd glue. See httpd.h.
 *
 * MHD calls us three ways per request: the URI log callback (raw URI, before
 * MHD touches it) creates the http_req_t and keeps the raw query string; the
 * access handler is called first with the headers (route lookup, 404/405,
 * Content-Length over the limit → 413 at once, since MHD only lets a reply
 * be queued then or after the whole body), then per body chunk (appended to
 * req->body up to the limit, discarded past it), then once more with no
 * data, when the handler runs; NOTIFY_COMPLETED frees the request.
 *
 * Query and form arguments are parsed by us, not by MHD, so that '+' means
 * space as Go's url.ParseQuery has it (Grafana and promtool send that) while
 * the path keeps MHD's percent-only decoding. Arguments live in the request
 * arena in arrival order: query first, then the form body.
 *
 * The response body buffer is handed to MHD without a copy; MHD frees it
 * with mem_free. A streamed body over the limit is drained and answered 413;
 * past 64 MiB drained the connection is dropped instead.
 *
 * WebSockets: a handler's http_resp_websocket makes httpd_finish check the
 * handshake, reserve a slot (ws_count, under ws_mu) and queue a 101 built
 * by MHD_create_response_for_upgrade; the record waits in req->ws until MHD
 * calls httpd_ws_upgraded with the socket, which starts the connection's
 * thread and links it in ws_list (or the completed callback releases it
 * when the 101 never went out). A finished thread only marks itself done;
 * the next upgrade or httpd_stop joins and frees it, so every thread is
 * joined and ws_count counts reserved + running + unjoined. Stop: set
 * `stopping`, write one byte to stop_pipe (never read, so every poll on it
 * wakes), join all threads (each has sent its close frame and called
 * MHD_upgrade_action CLOSE), then MHD_stop_daemon. Threads never take
 * ws_mu, so joining under it cannot deadlock.
 */
#include "common/httpd.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/netaddr.h"
#include "common/mem.h"
#include "common/str.h"
#include "common/ws.h"

#define HTTPD_DEFAULT_MAX_BODY ((size_t)1 << 20)
#define HTTPD_MAX_DRAIN ((size_t)64 << 20)
#define HTTPD_CONN_MEMORY ((size_t)256 << 10)
#define HTTPD_TEXT "text/plain; charset=utf-8"
#define HTTPD_WS_DEFAULT_MAX 64
#define HTTPD_WS_SEND_TIMEOUT_S 10.0   /* a data frame: no progress for this long and the peer is gone */
#define HTTPD_WS_CONTROL_TIMEOUT_S 1.0 /* pong and close frames */
#define HTTPD_WS_LINGER_S 1.0          /* after our close frame, wait this long for the peer's */
#define HTTPD_WS_LINGER_STOP_S 0.25
#define HTTPD_WS_READ_CHUNK 16384

struct httpd {
    struct MHD_Daemon *d;
    httpd_route_t *routes;
    size_t nroutes;
    size_t default_max_body;
    void *ctx;
    uint16_t port;
    /* WebSockets */
    pthread_mutex_t ws_mu;
    bool ws_mu_ok;
    http_ws_t *ws_list; /* running or done, not yet joined */
    size_t ws_count;    /* reserved + in ws_list (under ws_mu) */
    size_t ws_max;
    atomic_bool stopping;
    int stop_pipe[2]; /* [0] readable once stopping */
};

struct http_ws {
    httpd_t *h;
    httpd_ws_fn fn;
    void *arg;
    void (*arg_free)(void *arg);
    MHD_socket sock;
    struct MHD_UpgradeResponseHandle *urh;
    pthread_t thread;
    atomic_bool done; /* the thread has finished: join it */
    buf_t rbuf;       /* bytes read, parsed up to rpos */
    size_t rpos;
    buf_t wbuf; /* the frame being sent */
    ws_msg_t msg;
    bool close_sent;
    bool peer_closed; /* close frame or EOF from the peer */
    bool broken;      /* I/O failed: nothing more can be sent */
    http_ws_t *next;
};

typedef struct http_arg {
    const char *name;
    const char *value;
} http_arg_t;

struct http_req {
    httpd_t *h;
    struct MHD_Connection *conn;
    arena_t *arena;
    const char *method;
    const char *path;
    char *query; /* raw query string (arena), or NULL */
    const httpd_route_t *route;
    size_t limit;
    bool started;
    bool answered; /* a reply was queued on the first call */
    bool too_large;
    size_t drained;
    buf_t body;
    http_arg_t *args;
    size_t nargs;
    size_t capargs;
    http_ws_t *ws; /* reserved upgrade, until httpd_ws_upgraded takes it */
};

static void httpd_ws_free(http_ws_t *ws);
static enum MHD_Result httpd_upgrade(http_req_t *r, http_resp_t *resp);

/* Decode p[0..n) as form-urlencoded into a new arena string: %XX and '+'
 * as space; a malformed % escape is kept literally. */
static char *httpd_unescape(arena_t *a, const char *p, size_t n)
{
    char *out = arena_alloc(a, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '+') {
            out[o++] = ' ';
        } else if (p[i] == '%' && i + 2 < n && str_hex_digit((unsigned char)p[i + 1]) >= 0 &&
                   str_hex_digit((unsigned char)p[i + 2]) >= 0) {
            out[o++] = (char)(str_hex_digit((unsigned char)p[i + 1]) * 16 + str_hex_digit((unsigned char)p[i + 2]));
            i += 2;
        } else {
            out[o++] = p[i];
        }
    }
    out[o] = '\0';
    return out;
}

static void httpd_add_arg(http_req_t *r, const char *name, const char *value)
{
    if (r->nargs == r->capargs) {
        size_t cap = r->capargs ? r->capargs * 2 : 16;
        http_arg_t *na = arena_alloc(r->arena, cap * sizeof(*na));
        if (r->nargs) {
            memcpy(na, r->args, r->nargs * sizeof(*na));
        }
        r->args = na;
        r->capargs = cap;
    }
    r->args[r->nargs++] = (http_arg_t){ name, value };
}

/* Parse "a=1&b=2&a=3" into r->args, in order. Empty pairs are skipped; a
 * pair without '=' has the empty value. */
static void httpd_parse_args(http_req_t *r, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        const char *amp = memchr(p + i, '&', n - i);
        size_t end = amp ? (size_t)(amp - p) : n;
        if (end > i) {
            const char *eq = memchr(p + i, '=', end - i);
            size_t klen = eq ? (size_t)(eq - (p + i)) : end - i;
            const char *k = httpd_unescape(r->arena, p + i, klen);
            const char *v = eq ? httpd_unescape(r->arena, eq + 1, end - i - klen - 1) : "";
            httpd_add_arg(r, k, v);
        }
        i = end + 1;
    }
}

static void *httpd_uri_cb(void *cls, const char *uri, struct MHD_Connection *conn)
{
    http_req_t *r = mem_calloc(1, sizeof(*r));
    r->h = cls;
    r->conn = conn;
    r->arena = arena_create(4096);
    const char *q = strchr(uri, '?');
    if (q) {
        size_t n = strcspn(q + 1, "#");
        r->query = arena_strndup(r->arena, q + 1, n);
    }
    return r;
}

static void httpd_completed_cb(void *cls, struct MHD_Connection *conn, void **req_cls,
                               enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    http_req_t *r = *req_cls;
    if (!r) {
        return;
    }
    if (r->ws) {
        /* The 101 was queued but never sent: give the slot back. */
        httpd_t *h = r->h;
        pthread_mutex_lock(&h->ws_mu);
        h->ws_count--;
        pthread_mutex_unlock(&h->ws_mu);
        httpd_ws_free(r->ws);
        r->ws = NULL;
    }
    buf_fini(&r->body);
    arena_destroy(r->arena);
    mem_free(r);
    *req_cls = NULL;
}

static bool httpd_method_ok(const httpd_route_t *rt, const char *method)
{
    if (rt->method == NULL) {
        return strcmp(method, "GET") == 0 || strcmp(method, "POST") == 0 || strcmp(method, "HEAD") == 0;
    }
    if (strcmp(rt->method, method) == 0) {
        return true;
    }
    return strcmp(rt->method, "GET") == 0 && strcmp(method, "HEAD") == 0;
}

static bool httpd_path_ok(const httpd_route_t *rt, const char *path)
{
    size_t n = strlen(rt->path);
    if (n > 0 && rt->path[n - 1] == '*') {
        return strncmp(path, rt->path, n - 1) == 0;
    }
    return strcmp(path, rt->path) == 0;
}

/* Queue a response built from resp (takes its body) and clear resp. */
static enum MHD_Result httpd_send(struct MHD_Connection *conn, http_resp_t *resp)
{
    size_t len = 0;
    uint8_t *data = buf_steal(&resp->body, &len);
    struct MHD_Response *mr;
    if (resp->status == 204 || resp->status == 304 || len == 0) {
        mem_free(data);
        mr = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else {
        mr = MHD_create_response_from_buffer_with_free_callback(len, data, mem_free);
        if (!mr) {
            mem_free(data);
        }
    }
    if (!mr) {
        return MHD_NO;
    }
    if (resp->status != 204 && resp->status != 304) {
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type ? resp->content_type : HTTPD_TEXT);
    }
    for (size_t i = 0; i < resp->nhdr; i++) {
        MHD_add_response_header(mr, resp->hdr_names[i], resp->hdr_values[i]);
    }
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)resp->status, mr);
    MHD_destroy_response(mr);
    return rc;
}

static enum MHD_Result httpd_send_text(struct MHD_Connection *conn, int status, const char *extra_name,
                                       const char *extra_value, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static enum MHD_Result httpd_send_text(struct MHD_Connection *conn, int status, const char *extra_name,
                                       const char *extra_value, const char *fmt, ...)
{
    http_resp_t resp = { .status = status };
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&resp.body, fmt, ap);
    va_end(ap);
    buf_putc(&resp.body, '\n');
    if (extra_name) {
        http_resp_header(&resp, extra_name, extra_value);
    }
    return httpd_send(conn, &resp);
}

/* First call: pick the route or answer 404/405/413 at once. */
static enum MHD_Result httpd_begin(http_req_t *r, const char *url, const char *method)
{
    httpd_t *h = r->h;
    r->started = true;
    r->method = arena_strndup(r->arena, method, strlen(method));
    r->path = arena_strndup(r->arena, url, strlen(url));
    bool path_seen = false;
    for (size_t i = 0; i < h->nroutes && !r->route; i++) {
        if (httpd_path_ok(&h->routes[i], url)) {
            path_seen = true;
            if (httpd_method_ok(&h->routes[i], method)) {
                r->route = &h->routes[i];
            }
        }
    }
    if (!r->route && !path_seen) {
        return httpd_send_text(r->conn, 404, NULL, NULL, "404 page not found");
    }
    if (!r->route) {
        buf_t allow = { 0 };
        for (size_t i = 0; i < h->nroutes; i++) {
            if (!httpd_path_ok(&h->routes[i], url)) {
                continue;
            }
            const char *ms[2] = { h->routes[i].method, NULL };
            if (!ms[0]) {
                ms[0] = "GET";
                ms[1] = "POST";
            }
            for (int k = 0; k < 2 && ms[k]; k++) {
                size_t ml = strlen(ms[k]);
                bool dup = false;
                for (const char *p = (const char *)allow.data; p && *p;) {
                    size_t tl = strcspn(p, ",");
                    if (tl == ml && memcmp(p, ms[k], ml) == 0) {
                        dup = true;
                    }
                    p += tl;
                    p += strspn(p, ", ");
                }
                if (!dup) {
                    buf_printf(&allow, "%s%s", allow.len ? ", " : "", ms[k]);
                }
            }
        }
        const char *allow_s = arena_strndup(r->arena, (const char *)allow.data, allow.len);
        buf_fini(&allow);
        return httpd_send_text(r->conn, 405, "Allow", allow_s, "method not allowed");
    }
    r->limit = r->route->max_body ? r->route->max_body : h->default_max_body;
    const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end = NULL;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (end != cl && (errno == ERANGE || n > r->limit)) {
            r->too_large = true;
            return httpd_send_text(r->conn, 413, NULL, NULL, "request body too large (limit %zu bytes)", r->limit);
        }
        if (end != cl && *end == '\0' && n > 0) {
            buf_reserve(&r->body, (size_t)n); /* one allocation, not a doubling chain */
        }
    }
    return MHD_YES;
}

static bool httpd_is_form(http_req_t *r)
{
    const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    static const char form[] = "application/x-www-form-urlencoded";
    if (!ct || strncasecmp(ct, form, sizeof(form) - 1) != 0) {
        return false;
    }
    char c = ct[sizeof(form) - 1];
    return c == '\0' || c == ';' || c == ' ' || c == '\t';
}

/* Last call: parse arguments, run the handler, send its response. */
static enum MHD_Result httpd_finish(http_req_t *r)
{
    if (r->too_large) {
        return httpd_send_text(r->conn, 413, NULL, NULL, "request body too large (limit %zu bytes)", r->limit);
    }
    if (r->query) {
        httpd_parse_args(r, r->query, strlen(r->query));
    }
    if (strcmp(r->method, "POST") == 0 && r->body.len > 0 && httpd_is_form(r)) {
        httpd_parse_args(r, (const char *)r->body.data, r->body.len);
    }
    http_resp_t resp = { .status = 200 };
    r->route->fn(r->h->ctx, r, &resp);
    if (resp.ws_fn) {
        return httpd_upgrade(r, &resp);
    }
    return httpd_send(r->conn, &resp);
}

static enum MHD_Result httpd_access_cb(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                       const char *version, const char *upload_data, size_t *upload_data_size,
                                       void **req_cls)
{
    (void)cls;
    (void)conn;
    (void)version;
    http_req_t *r = *req_cls;
    if (!r) {
        return MHD_NO;
    }
    if (!r->started) {
        enum MHD_Result rc = httpd_begin(r, url, method);
        r->answered = r->route == NULL || rc != MHD_YES || r->too_large;
        return rc;
    }
    if (r->answered) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (!r->too_large && r->body.len + n <= r->limit) {
            buf_append(&r->body, upload_data, n);
            return MHD_YES;
        }
        if (!r->too_large) {
            r->too_large = true;
            buf_fini(&r->body);
        }
        r->drained += n;
        return r->drained > HTTPD_MAX_DRAIN ? MHD_NO : MHD_YES;
    }
    return httpd_finish(r);
}

/* ---- WebSocket connections ---- */

static void httpd_ws_free(http_ws_t *ws)
{
    if (!ws) {
        return;
    }
    if (ws->arg_free) {
        ws->arg_free(ws->arg);
    }
    buf_fini(&ws->rbuf);
    buf_fini(&ws->wbuf);
    ws_msg_fini(&ws->msg);
    mem_free(ws);
}

/* Join and free the finished connections (all: every one, after stop). */
static void httpd_ws_reap_locked(httpd_t *h, bool all)
{
    http_ws_t **pp = &h->ws_list;
    while (*pp) {
        http_ws_t *ws = *pp;
        if (!all && !atomic_load(&ws->done)) {
            pp = &ws->next;
            continue;
        }
        *pp = ws->next;
        pthread_join(ws->thread, NULL);
        httpd_ws_free(ws);
        assert(h->ws_count > 0);
        h->ws_count--;
    }
}

/* Write p[0..n) whole. Gives up (broken, -1) on an error, when no byte
 * moves for timeout_s, or, with honour_stop, when the server stops. */
static int httpd_ws_write(http_ws_t *ws, const uint8_t *p, size_t n, double timeout_s, bool honour_stop)
{
    size_t off = 0;
    double deadline = clock_mono_s() + timeout_s;
    while (off < n) {
        ssize_t k = send(ws->sock, p + off, n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k > 0) {
            off += (size_t)k;
            deadline = clock_mono_s() + timeout_s;
            continue;
        }
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            double left = deadline - clock_mono_s();
            if (left <= 0 || (honour_stop && atomic_load(&ws->h->stopping))) {
                break;
            }
            struct pollfd pf[2] = { { .fd = ws->sock, .events = POLLOUT },
                                    { .fd = ws->h->stop_pipe[0], .events = POLLIN } };
            if (poll(pf, honour_stop ? 2 : 1, (int)(left * 1000) + 1) < 0 && errno != EINTR) {
                break;
            }
            continue;
        }
        break;
    }
    if (off < n) {
        ws->broken = true;
        return -1;
    }
    return 0;
}

static int httpd_ws_send_frame(http_ws_t *ws, uint8_t opcode, const uint8_t *p, size_t len, double timeout_s,
                               bool honour_stop)
{
    if (ws->broken || ws->close_sent) {
        return -1;
    }
    uint8_t hdr[WS_MAX_HEADER];
    size_t hl = ws_frame_header(hdr, opcode, true, len, NULL);
    buf_reset(&ws->wbuf);
    buf_reserve(&ws->wbuf, hl + len);
    buf_append(&ws->wbuf, hdr, hl);
    if (len > 0) {
        buf_append(&ws->wbuf, p, len);
    }
    int rc = httpd_ws_write(ws, ws->wbuf.data, ws->wbuf.len, timeout_s, honour_stop);
    if (ws->wbuf.len > HTTPD_WS_MAX_MESSAGE) {
        buf_fini(&ws->wbuf); /* do not keep a large frame's buffer for the connection's life */
    }
    return rc;
}

static void httpd_ws_close_code(http_ws_t *ws, uint16_t code, const char *reason, size_t rlen)
{
    if (ws->close_sent || ws->broken) {
        ws->close_sent = true;
        return;
    }
    uint8_t p[WS_MAX_CONTROL_PAYLOAD];
    size_t n = 0;
    if (code != WS_CLOSE_NO_STATUS) {
        p[0] = (uint8_t)(code >> 8);
        p[1] = (uint8_t)code;
        if (rlen > sizeof(p) - 2) {
            rlen = sizeof(p) - 2;
            while (rlen > 0 && ((uint8_t)reason[rlen] & 0xC0) == 0x80) {
                rlen--; /* do not cut a UTF-8 sequence */
            }
        }
        if (rlen > 0) {
            memcpy(p + 2, reason, rlen);
        }
        n = 2 + rlen;
    }
    httpd_ws_send_frame(ws, WS_OP_CLOSE, p, n, HTTPD_WS_CONTROL_TIMEOUT_S, false);
    ws->close_sent = true;
}

void http_ws_close(http_ws_t *ws, uint16_t code, const char *reason)
{
    httpd_ws_close_code(ws, code, reason ? reason : "", reason ? strlen(reason) : 0);
}

bool http_ws_closed(const http_ws_t *ws)
{
    return ws->close_sent || ws->peer_closed || ws->broken || atomic_load(&ws->h->stopping);
}

int http_ws_send_text(http_ws_t *ws, const char *p, size_t len)
{
    assert(p || len == 0);
    if (http_ws_closed(ws)) {
        return -1;
    }
    return httpd_ws_send_frame(ws, WS_OP_TEXT, (const uint8_t *)p, len, HTTPD_WS_SEND_TIMEOUT_S, true);
}

/* A protocol error: answer with its close code and stop reading. */
static int httpd_ws_fail(http_ws_t *ws, const ws_error_t *err)
{
    httpd_ws_close_code(ws, err->code, err->msg, strlen(err->msg));
    ws->peer_closed = true;
    return -1;
}

/* Handle the frames complete in rbuf: 1 when a message was appended to
 * msg, 0 when more bytes are needed, -1 when the connection is over. */
static int httpd_ws_process(http_ws_t *ws, buf_t *msg)
{
    while (ws->rpos < ws->rbuf.len) {
        uint8_t *p = ws->rbuf.data + ws->rpos;
        size_t n = ws->rbuf.len - ws->rpos;
        ws_frame_t f;
        ws_error_t err;
        int rc = ws_frame_parse(p, n, true, HTTPD_WS_MAX_MESSAGE, &f, &err);
        if (rc == WS_NEED_MORE) {
            return 0;
        }
        if (rc == WS_ERROR) {
            return httpd_ws_fail(ws, &err);
        }
        uint8_t *pl = p + f.hdr_len;
        ws_unmask(pl, f.len, f.mask);
        ws->rpos += f.hdr_len + f.len;
        switch (f.opcode) {
        case WS_OP_PING:
            if (httpd_ws_send_frame(ws, WS_OP_PONG, pl, f.len, HTTPD_WS_CONTROL_TIMEOUT_S, false) != 0) {
                return -1;
            }
            break;
        case WS_OP_PONG:
            break;
        case WS_OP_CLOSE: {
            uint16_t code = 0;
            const uint8_t *reason = NULL;
            size_t rlen = 0;
            if (ws_close_parse(pl, f.len, &code, &reason, &rlen, &err) != WS_OK) {
                return httpd_ws_fail(ws, &err);
            }
            httpd_ws_close_code(ws, code, "", 0); /* echo the code (RFC 6455 5.5.1) */
            ws->peer_closed = true;
            return -1;
        }
        default:
            rc = ws_msg_add(&ws->msg, &f, pl, &err);
            if (rc == WS_ERROR) {
                return httpd_ws_fail(ws, &err);
            }
            if (rc == 1) {
                bool deliver = msg != NULL;
                if (deliver) {
                    buf_append(msg, ws->msg.data.data ? ws->msg.data.data : (const uint8_t *)"", ws->msg.data.len);
                }
                ws_msg_reset(&ws->msg);
                if (deliver) {
                    return 1;
                }
            }
            break;
        }
    }
    return 0;
}

/* Read what the socket has into rbuf: 0, or -1 at EOF or on an error. */
static int httpd_ws_read(http_ws_t *ws)
{
    if (ws->rpos > 0) {
        memmove(ws->rbuf.data, ws->rbuf.data + ws->rpos, ws->rbuf.len - ws->rpos);
        ws->rbuf.len -= ws->rpos;
        ws->rpos = 0;
    }
    buf_reserve(&ws->rbuf, HTTPD_WS_READ_CHUNK);
    ssize_t k = recv(ws->sock, ws->rbuf.data + ws->rbuf.len, HTTPD_WS_READ_CHUNK, MSG_DONTWAIT);
    if (k > 0) {
        ws->rbuf.len += (size_t)k;
        return 0;
    }
    if (k < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) {
        return 0;
    }
    ws->peer_closed = true;
    if (k < 0) {
        ws->broken = true;
    }
    return -1;
}

int http_ws_recv(http_ws_t *ws, int timeout_ms, buf_t *msg)
{
    assert(timeout_ms >= 0);
    double deadline = clock_mono_s() + timeout_ms / 1000.0;
    for (;;) {
        if (http_ws_closed(ws)) {
            return -1;
        }
        int rc = httpd_ws_process(ws, msg);
        if (rc != 0) {
            return rc;
        }
        double left = deadline - clock_mono_s();
        int wait_ms = left > 0 ? (int)(left * 1000.0 + 0.999) : 0;
        struct pollfd pf[2] = { { .fd = ws->sock, .events = POLLIN }, { .fd = ws->h->stop_pipe[0], .events = POLLIN } };
        int pr = poll(pf, 2, wait_ms);
        if (pr < 0 && errno != EINTR) {
            ws->broken = true;
            return -1;
        }
        if (pr == 0) {
            return 0;
        }
        if (pr > 0 && (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) && httpd_ws_read(ws) != 0) {
            return -1;
        }
    }
}

/* After our close frame: read and drop until the peer's close frame or
 * EOF, for at most limit_s, so closing does not reset unread data. */
static void httpd_ws_linger(http_ws_t *ws, double limit_s)
{
    double deadline = clock_mono_s() + limit_s;
    while (!ws->peer_closed && !ws->broken) {
        while (ws->rpos < ws->rbuf.len) {
            ws_frame_t f;
            ws_error_t err;
            uint8_t *p = ws->rbuf.data + ws->rpos;
            int rc = ws_frame_parse(p, ws->rbuf.len - ws->rpos, true, HTTPD_WS_MAX_MESSAGE, &f, &err);
            if (rc != WS_OK) {
                if (rc == WS_ERROR) {
                    return;
                }
                break;
            }
            ws->rpos += f.hdr_len + f.len;
            if (f.opcode == WS_OP_CLOSE) {
                return;
            }
        }
        double left = deadline - clock_mono_s();
        if (left <= 0) {
            return;
        }
        struct pollfd pf = { .fd = ws->sock, .events = POLLIN };
        int pr = poll(&pf, 1, (int)(left * 1000.0) + 1);
        if (pr < 0 && errno != EINTR) {
            return;
        }
        if (pr > 0 && httpd_ws_read(ws) != 0) {
            return;
        }
    }
}

static void *httpd_ws_main(void *p)
{
    http_ws_t *ws = p;
    ws->fn(ws->h->ctx, ws, ws->arg);
    bool stopping = atomic_load(&ws->h->stopping);
    if (!ws->close_sent) {
        http_ws_close(ws, stopping ? WS_CLOSE_GOING_AWAY : WS_CLOSE_NORMAL, stopping ? "server stopping" : NULL);
    }
    httpd_ws_linger(ws, stopping ? HTTPD_WS_LINGER_STOP_S : HTTPD_WS_LINGER_S);
    if (ws->arg_free) {
        ws->arg_free(ws->arg);
    }
    ws->arg = NULL;
    ws->arg_free = NULL;
    MHD_upgrade_action(ws->urh, MHD_UPGRADE_ACTION_CLOSE);
    atomic_store(&ws->done, true);
    return NULL;
}

/* MHD sent the 101: take the reserved record and start its thread. */
static void httpd_ws_upgraded(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra_in,
                              size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
    (void)conn;
    http_ws_t *ws = cls;
    http_req_t *r = req_cls;
    if (r && r->ws == ws) {
        r->ws = NULL;
    }
    httpd_t *h = ws->h;
    ws->sock = sock;
    ws->urh = urh;
    if (extra_in_size > 0) {
        buf_append(&ws->rbuf, extra_in, extra_in_size);
    }
    pthread_mutex_lock(&h->ws_mu);
    int rc = -1;
    if (!atomic_load(&h->stopping)) {
        rc = pthread_create(&ws->thread, NULL, httpd_ws_main, ws);
    }
    if (rc == 0) {
        ws->next = h->ws_list;
        h->ws_list = ws;
    } else {
        h->ws_count--;
    }
    pthread_mutex_unlock(&h->ws_mu);
    if (rc != 0) {
        if (!atomic_load(&h->stopping)) {
            log_warn("httpd: cannot start a websocket thread: %s", strerror(rc));
        }
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
        httpd_ws_free(ws);
    }
}

/* Whether the comma-separated header value v holds token (any case). */
static bool httpd_has_token(const char *v, const char *token)
{
    size_t tl = strlen(token);
    while (v && *v) {
        v += strspn(v, " \t,");
        size_t n = strcspn(v, ",");
        size_t e = n;
        while (e > 0 && (v[e - 1] == ' ' || v[e - 1] == '\t')) {
            e--;
        }
        if (e == tl && strncasecmp(v, token, tl) == 0) {
            return true;
        }
        v += n;
    }
    return false;
}

/* Check the handshake, reserve a slot, queue the 101. Takes resp's ws_arg
 * on every path. */
static enum MHD_Result httpd_upgrade(http_req_t *r, http_resp_t *resp)
{
    httpd_t *h = r->h;
    buf_fini(&resp->body);
    http_ws_t *ws = mem_calloc(1, sizeof(*ws));
    ws->h = h;
    ws->fn = resp->ws_fn;
    ws->arg = resp->ws_arg;
    ws->arg_free = resp->ws_arg_free;
    ws->sock = MHD_INVALID_SOCKET;
    ws->msg.max = HTTPD_WS_MAX_MESSAGE;
    atomic_init(&ws->done, false);
    static const char bad[] = "websocket: the client is not using the websocket protocol: ";
    const char *conn_h = http_req_header(r, "Connection");
    const char *upg_h = http_req_header(r, "Upgrade");
    const char *ver_h = http_req_header(r, "Sec-WebSocket-Version");
    const char *key_h = http_req_header(r, "Sec-WebSocket-Key");
    char accept[WS_ACCEPT_LEN + 1];
    enum MHD_Result rc;
    if (!httpd_has_token(conn_h, "upgrade")) {
        rc = httpd_send_text(r->conn, 400, NULL, NULL, "%s'upgrade' token not found in 'Connection' header", bad);
        goto refused;
    }
    if (!httpd_has_token(upg_h, "websocket")) {
        rc = httpd_send_text(r->conn, 400, NULL, NULL, "%s'websocket' token not found in 'Upgrade' header", bad);
        goto refused;
    }
    if (strcmp(r->method, "GET") != 0) {
        rc = httpd_send_text(r->conn, 405, "Allow", "GET", "%srequest method is not GET", bad);
        goto refused;
    }
    if (!httpd_has_token(ver_h, "13")) {
        rc = httpd_send_text(r->conn, 400, "Sec-WebSocket-Version", "13",
                             "websocket: unsupported version: 13 not found in 'Sec-Websocket-Version' header");
        goto refused;
    }
    if (!key_h || ws_accept_key(key_h, strlen(key_h), accept) != 0) {
        rc = httpd_send_text(r->conn, 400, NULL, NULL,
                             "websocket: not a websocket handshake: 'Sec-WebSocket-Key' header must be Base64 encoded "
                             "value of 16-byte in length");
        goto refused;
    }
    pthread_mutex_lock(&h->ws_mu);
    httpd_ws_reap_locked(h, false);
    bool stopping = atomic_load(&h->stopping);
    bool full = h->ws_count >= h->ws_max;
    if (!stopping && !full) {
        h->ws_count++;
    }
    pthread_mutex_unlock(&h->ws_mu);
    if (stopping || full) {
        rc = httpd_send_text(r->conn, 503, NULL, NULL, "%s",
                             stopping ? "server stopping" : "too many websocket connections");
        goto refused;
    }
    struct MHD_Response *mr = MHD_create_response_for_upgrade(httpd_ws_upgraded, ws);
    if (!mr) {
        rc = MHD_NO;
        goto unreserve;
    }
    MHD_add_response_header(mr, MHD_HTTP_HEADER_UPGRADE, "websocket");
    MHD_add_response_header(mr, "Sec-WebSocket-Accept", accept);
    r->ws = ws;
    rc = MHD_queue_response(r->conn, MHD_HTTP_SWITCHING_PROTOCOLS, mr);
    MHD_destroy_response(mr);
    if (rc == MHD_YES) {
        return rc;
    }
    r->ws = NULL;
unreserve:
    pthread_mutex_lock(&h->ws_mu);
    h->ws_count--;
    pthread_mutex_unlock(&h->ws_mu);
refused:
    httpd_ws_free(ws);
    return rc;
}

void http_resp_websocket(http_resp_t *resp, httpd_ws_fn fn, void *arg, void (*arg_free)(void *arg))
{
    assert(fn);
    resp->ws_fn = fn;
    resp->ws_arg = arg;
    resp->ws_arg_free = arg_free;
}

static void httpd_log_cb(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void httpd_log_cb(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) {
        msg[--n] = '\0';
    }
    log_warn("httpd: %s", msg);
}

int httpd_start(const httpd_opts_t *opts, httpd_t **out, char *err, size_t errlen)
{
    assert(opts && out && err && errlen > 0);
    assert(opts->nroutes == 0 || opts->routes);
    *out = NULL;
    struct sockaddr_storage ss = { 0 };
    socklen_t sslen = 0;
    if (netaddr_listen(opts->listen ? opts->listen : ":0", &ss, &sslen, err, errlen) != 0) {
        return -1;
    }
    (void)sslen;
    httpd_t *h = mem_calloc(1, sizeof(*h));
    h->nroutes = opts->nroutes;
    h->routes = mem_calloc(opts->nroutes ? opts->nroutes : 1, sizeof(*h->routes));
    if (opts->nroutes) {
        memcpy(h->routes, opts->routes, opts->nroutes * sizeof(*h->routes));
    }
    h->default_max_body = opts->default_max_body ? opts->default_max_body : HTTPD_DEFAULT_MAX_BODY;
    h->ctx = opts->ctx;
    h->ws_max = opts->max_websockets ? opts->max_websockets : HTTPD_WS_DEFAULT_MAX;
    h->stop_pipe[0] = h->stop_pipe[1] = -1;
    atomic_init(&h->stopping, false);
    if (pthread_mutex_init(&h->ws_mu, NULL) != 0) {
        snprintf(err, errlen, "cannot create a mutex");
        goto fail;
    }
    h->ws_mu_ok = true;
    if (pipe(h->stop_pipe) != 0) {
        h->stop_pipe[0] = h->stop_pipe[1] = -1;
        snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
        goto fail;
    }
    for (int i = 0; i < 2; i++) {
        fcntl(h->stop_pipe[i], F_SETFD, FD_CLOEXEC);
        fcntl(h->stop_pipe[i], F_SETFL, O_NONBLOCK);
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_UPGRADE;
    if (MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES) {
        flags |= MHD_USE_EPOLL;
    }
    uint16_t port = 0;
    if (ss.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
        port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    } else {
        port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    unsigned threads = opts->threads ? opts->threads : 2;
    h->d = MHD_start_daemon(flags, port, NULL, NULL, httpd_access_cb, h, MHD_OPTION_EXTERNAL_LOGGER, httpd_log_cb, h,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE, threads,
                            MHD_OPTION_URI_LOG_CALLBACK, httpd_uri_cb, h, MHD_OPTION_NOTIFY_COMPLETED,
                            httpd_completed_cb, h, MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTPD_CONN_MEMORY,
                            MHD_OPTION_CONNECTION_TIMEOUT, 120u, MHD_OPTION_END);
    if (!h->d) {
        snprintf(err, errlen, "cannot listen on %s: %s", opts->listen ? opts->listen : ":0",
                 errno ? strerror(errno) : "libmicrohttpd failed to start");
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : port;
    *out = h;
    return 0;
fail:
    httpd_stop(h);
    return -1;
}

void httpd_stop(httpd_t *h)
{
    if (!h) {
        return;
    }
    if (h->d) {
        atomic_store(&h->stopping, true);
        ssize_t w = write(h->stop_pipe[1], "s", 1);
        (void)w; /* the flag is what counts; the byte only wakes polls early */
        pthread_mutex_lock(&h->ws_mu);
        httpd_ws_reap_locked(h, true);
        pthread_mutex_unlock(&h->ws_mu);
        MHD_stop_daemon(h->d); /* may release reserved slots through httpd_completed_cb */
    }
    assert(h->ws_list == NULL);
    for (int i = 0; i < 2; i++) {
        if (h->stop_pipe[i] >= 0) {
            close(h->stop_pipe[i]);
        }
    }
    if (h->ws_mu_ok) {
        pthread_mutex_destroy(&h->ws_mu);
    }
    mem_free(h->routes);
    mem_free(h);
}

uint16_t httpd_port(const httpd_t *h)
{
    return h->port;
}

const char *http_req_method(const http_req_t *r)
{
    return r->method;
}

const char *http_req_path(const http_req_t *r)
{
    return r->path;
}

const char *http_req_header(http_req_t *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_req_arg(http_req_t *r, const char *name)
{
    for (size_t i = 0; i < r->nargs; i++) {
        if (strcmp(r->args[i].name, name) == 0) {
            return r->args[i].value;
        }
    }
    return NULL;
}

size_t http_req_args(http_req_t *r, const char *name, const char ***vals)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nargs; i++) {
        n += strcmp(r->args[i].name, name) == 0;
    }
    *vals = NULL;
    if (n == 0) {
        return 0;
    }
    const char **v = arena_alloc(r->arena, n * sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i < r->nargs; i++) {
        if (strcmp(r->args[i].name, name) == 0) {
            v[k++] = r->args[i].value;
        }
    }
    *vals = v;
    return n;
}

const uint8_t *http_req_body(const http_req_t *r, size_t *len)
{
    *len = r->body.len;
    return r->body.len ? r->body.data : (const uint8_t *)"";
}

arena_t *http_req_arena(http_req_t *r)
{
    return r->arena;
}

void http_resp_header(http_resp_t *resp, const char *name, const char *value)
{
    if (resp->nhdr >= HTTP_RESP_MAX_HEADERS) {
        log_warn("httpd: response header %s dropped (more than %d)", name, HTTP_RESP_MAX_HEADERS);
        return;
    }
    resp->hdr_names[resp->nhdr] = name;
    resp->hdr_values[resp->nhdr] = value;
    resp->nhdr++;
}

void http_resp_text(http_resp_t *resp, int status, const char *fmt, ...)
{
    resp->status = status;
    resp->content_type = HTTPD_TEXT;
    buf_reset(&resp->body);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&resp->body, fmt, ap);
    va_end(ap);
    buf_putc(&resp->body, '\n');
}

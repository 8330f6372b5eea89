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
 */
#include "common/httpd.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "common/log.h"
#include "common/netaddr.h"
#include "common/mem.h"
#include "common/str.h"

#define HTTPD_DEFAULT_MAX_BODY ((size_t)1 << 20)
#define HTTPD_MAX_DRAIN ((size_t)64 << 20)
#define HTTPD_CONN_MEMORY ((size_t)256 << 10)
#define HTTPD_TEXT "text/plain; charset=utf-8"

struct httpd {
    struct MHD_Daemon *d;
    httpd_route_t *routes;
    size_t nroutes;
    size_t default_max_body;
    void *ctx;
    uint16_t port;
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
};

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
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
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
        MHD_stop_daemon(h->d);
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

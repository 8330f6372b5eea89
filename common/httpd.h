/* SPDX-License-Identifier: Apache-2.0 */
/*
 * httpd: an HTTP server over libmicrohttpd with a route table.
 *
 * Routes are matched by method and path (exact, or prefix when the route's
 * path ends in '*'). The body of a request is collected into memory up to
 * the route's max_body (413 past it, before the handler runs). Query
 * arguments and, for application/x-www-form-urlencoded POSTs, body
 * arguments are both visible through http_req_arg/http_req_args, so GET and
 * POST-form handlers are one handler. Each request has an arena freed when
 * the request ends. Handlers run on libmicrohttpd's thread pool and fill an
 * http_resp_t; the server sends it.
 *
 * WebSocket (RFC 6455): a handler may answer with http_resp_websocket
 * instead, after checking the request's arguments (so bad ones still get a
 * plain HTTP error). The server then checks the handshake headers (400
 * otherwise), takes one of opts->max_websockets slots (503 past them),
 * answers 101 and runs the given function on a thread of its own with the
 * connection; it sends text frames, answers pings and close frames, and
 * reads client messages through http_ws_*. httpd_stop wakes every running
 * function (http_ws_recv returns -1), closes the connections and joins
 * their threads.
 */
#ifndef PHAROS_COMMON_HTTPD_H
#define PHAROS_COMMON_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/str.h"

typedef struct httpd httpd_t;
typedef struct http_req http_req_t;
typedef struct http_ws http_ws_t;

/* Runs a WebSocket connection on its own thread; ctx is the server's
 * (httpd_opts_t.ctx), arg the handler's (http_resp_websocket). When it
 * returns, the server sends a close frame unless one was sent, closes the
 * connection and frees arg. */
typedef void (*httpd_ws_fn)(void *ctx, http_ws_t *ws, void *arg);

#define HTTP_RESP_MAX_HEADERS 8

typedef struct http_resp {
    int status;                                   /* default 200 */
    const char *content_type;                     /* static string; default "text/plain; charset=utf-8" */
    buf_t body;                                   /* owned by the server; the handler appends */
    const char *hdr_names[HTTP_RESP_MAX_HEADERS]; /* static or arena strings */
    const char *hdr_values[HTTP_RESP_MAX_HEADERS];
    size_t nhdr;
    httpd_ws_fn ws_fn; /* set by http_resp_websocket: upgrade instead of answering */
    void *ws_arg;
    void (*ws_arg_free)(void *arg);
} http_resp_t;

typedef void (*httpd_handler_fn)(void *ctx, http_req_t *req, http_resp_t *resp);

typedef struct httpd_route {
    const char *method; /* "GET", "POST", or NULL for GET and POST */
    const char *path;   /* exact ("/api/v1/write"), or a prefix when it ends in '*' */
    httpd_handler_fn fn;
    size_t max_body; /* 0: the server default */
} httpd_route_t;

typedef struct httpd_opts {
    const char *listen;      /* "127.0.0.1:9464", "[::1]:9464", ":9464" */
    unsigned threads;        /* thread pool size (0: 2) */
    size_t default_max_body; /* 0: 1 MiB */
    const httpd_route_t *routes;
    size_t nroutes;
    void *ctx;             /* passed to every handler */
    size_t max_websockets; /* WebSocket connections open at once, 503 past it (0: 64) */
} httpd_opts_t;

/* Bind opts->listen (NULL: ":0", all IPv4 addresses, ephemeral port) and
 * start serving on opts->threads threads. The route table is copied; its
 * strings and ctx are borrowed for the server's life. 0 and [out] *out, or
 * -1 with a reason in err (bad address, bind failure) and *out NULL. */
int httpd_start(const httpd_opts_t *opts, httpd_t **out, char *err, size_t errlen);
/* Stop accepting, finish in-flight requests (waits for running handlers),
 * close every WebSocket (their functions see http_ws_recv return -1 and
 * must then return) and join their threads, free. NULL ok. */
void httpd_stop(httpd_t *h);
/* The port actually bound (useful with port 0). */
uint16_t httpd_port(const httpd_t *h);

/* Every string and pointer below is valid until the request ends. */
const char *http_req_method(const http_req_t *r);
/* The path without the query, percent-decoded ('+' stays '+'). */
const char *http_req_path(const http_req_t *r);
/* Request header (case-insensitive), or NULL. */
const char *http_req_header(http_req_t *r, const char *name);
/* First value of a query/form argument, or NULL. Names and values are
 * decoded as Go's url.ParseQuery does: %XX, and '+' as a space. */
const char *http_req_arg(http_req_t *r, const char *name);
/* All values of a repeated argument (match[]), in order: query string
 * first, then the form body. Returns the count and points [out] *vals at an
 * arena array (NULL when the count is 0). O(number of arguments). */
size_t http_req_args(http_req_t *r, const char *name, const char ***vals);
/* The body ([out] *len bytes; a valid pointer even when empty). */
const uint8_t *http_req_body(const http_req_t *r, size_t *len);
/* The request's arena, freed when the request ends. */
arena_t *http_req_arena(http_req_t *r);

/* Response helpers. */
/* Add a header (name and value borrowed until the response is sent); past
 * HTTP_RESP_MAX_HEADERS it is dropped with a warning. */
void http_resp_header(http_resp_t *resp, const char *name, const char *value);
/* Set status and a text/plain body, replacing any body (a newline is
 * appended). A 204 or 304 status is always sent without a body. */
void http_resp_text(http_resp_t *resp, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Answer by upgrading to a WebSocket that fn(ctx, ws, arg) then serves.
 * Takes arg: the server calls arg_free(arg) (NULL: nothing) once fn has
 * returned, or when the upgrade does not happen (a method other than
 * GET: 405; Upgrade, Connection, Sec-WebSocket-Version 13 or
 * Sec-WebSocket-Key missing or invalid: 400; every slot taken or the
 * server stopping: 503; the client gone before the 101). arg must not point into the request: the request
 * ends when the 101 is sent. Status, body and headers of resp are
 * ignored. */
void http_resp_websocket(http_resp_t *resp, httpd_ws_fn fn, void *arg, void (*arg_free)(void *arg));

/* ---- WebSocket connections: only from the connection's own function ----
 * Client messages are bounded (HTTPD_WS_MAX_MESSAGE): a bigger one, or
 * any violation of RFC 6455 (unmasked frame, bad UTF-8 in a text message
 * or close reason, ...), closes the connection with the matching code. */
#define HTTPD_WS_MAX_MESSAGE ((size_t)64 << 10)

/* Send one text message of len bytes (one frame; UTF-8 is the caller's
 * duty). Blocks until it is written: 0, or -1 when the connection is
 * closed or closing (peer gone, write error, no progress for 10 s, server
 * stopping); the frame is then lost. */
int http_ws_send_text(http_ws_t *ws, const char *p, size_t len);
/* Wait up to timeout_ms (0: only what has arrived) for the client,
 * answering pings with pongs and a close frame with a close frame.
 * Returns 1 when a complete text or binary message arrived: appended to
 * msg ([out]) and returned at once; with msg NULL messages are dropped and
 * the wait goes on. 0 when the time passed with the connection open. -1
 * when it is over: the client closed, broke the protocol or vanished, the
 * server is stopping, or http_ws_close was called. */
int http_ws_recv(http_ws_t *ws, int timeout_ms, buf_t *msg);
/* Whether the connection is over (see http_ws_recv's -1). O(1). */
bool http_ws_closed(const http_ws_t *ws);
/* Send a close frame with code and reason (NULL: none; cut to 123 bytes)
 * unless one was sent; afterwards sends fail and http_ws_recv returns -1. */
void http_ws_close(http_ws_t *ws, uint16_t code, const char *reason);

#endif

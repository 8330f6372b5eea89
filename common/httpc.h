/* SPDX-License-Identifier: Apache-2.0 */
/*
 * httpc: an HTTP client over libcurl for senders (remote-write, Loki push,
 * receivers). One httpc_t per sending thread (it keeps the connection
 * alive). Each call classifies its outcome the way every sender must act on
 * it: retry (connection error, timeout, 5xx, 429) or drop (other 4xx).
 *
 * Limits, so that a misbehaving or hostile endpoint cannot exhaust memory
 * or overflow a caller's time arithmetic:
 *  - httpc_set_max_body bounds a response body: past it the transfer is
 *    aborted, resp_body keeps the first max bytes and error says so. A
 *    non-2xx code keeps its class (429/5xx RETRY, others FATAL); a 2xx
 *    (or no code) is RETRY: the request may have been acted on but the
 *    answer is unread, and for a notifier a duplicate beats a loss (its
 *    backoff bounds the repeats). A new client has no limit (pharosctl,
 *    tests and benches read big answers from our own server); a sender to
 *    an endpoint it does not run sets HTTPC_MAX_BODY_SENDER or more.
 *  - retry_after_ms is clamped to [0, HTTPC_RETRY_AFTER_MAX_MS] (1 h):
 *    a larger Retry-After means "wait the maximum", never an overflow.
 */
#ifndef PHAROS_COMMON_HTTPC_H
#define PHAROS_COMMON_HTTPC_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

typedef struct httpc httpc_t;

#define HTTPC_MAX_BODY_SENDER ((size_t)1 << 20) /* 1 MiB: receivers, webhooks */
#define HTTPC_RETRY_AFTER_MAX_MS 3600000        /* 1 h */

typedef enum httpc_status {
    HTTPC_OK = 0,    /* 2xx */
    HTTPC_RETRY = 1, /* connection error, timeout, 5xx, 429: try again later */
    HTTPC_FATAL = 2, /* other 4xx (and 1xx/3xx): do not retry */
} httpc_status_t;

typedef struct httpc_result {
    httpc_status_t status;
    long http_code;         /* 0 when no response */
    int64_t retry_after_ms; /* Retry-After (seconds or HTTP date), 0..1 h; -1 if none */
    char error[256];        /* curl error or the first line of the body */
    char content_type[96];  /* the response's Content-Type ("" if none or longer) */
} httpc_result_t;

/* A client whose calls each take at most timeout_ms (<= 0: 30 s) for
 * connect plus transfer. NULL only if libcurl cannot initialise. */
httpc_t *httpc_create(long timeout_ms);
/* Close the connection and free. NULL ok. */
void httpc_destroy(httpc_t *c);
/* POST body to url with headers ("Name: value", NULL-terminated list; all
 * borrowed for the call). The response body is appended to resp_body when
 * not NULL (at most max_body bytes of it, when set). Fills [out] res on every path:
 * error is empty on OK, else the curl error, the body limit, or the first
 * line (<= 200 chars) of the body. Blocks up to the client's timeout. */
void httpc_post(httpc_t *c, const char *url, const char *const *headers, const void *body, size_t len, buf_t *resp_body,
                httpc_result_t *res);
/* GET url with headers (as httpc_post; NULL: none); same classification. */
void httpc_get(httpc_t *c, const char *url, const char *const *headers, buf_t *resp_body, httpc_result_t *res);

/* As httpc_post/httpc_get with any method ("GET", "POST", "PATCH", "PUT",
 * "DELETE"): body[0..len) is sent when body is not NULL (a POST or PATCH
 * without a body sends an empty one). Same classification, same [out] res
 * on every path. Blocks up to the client's timeout. */
void httpc_request(httpc_t *c, const char *method, const char *url, const char *const *headers, const void *body,
                   size_t len, buf_t *resp_body, httpc_result_t *res);
/* A header of the last response (name case-insensitive, the last one when
 * repeated) copied into dst (dstlen bytes, NUL-terminated, cut if longer):
 * 1, or 0 when absent or there was no response. Valid until the next
 * request on c. O(headers). */
int httpc_last_header(httpc_t *c, const char *name, char *dst, size_t dstlen);
/* Change the per-call timeout (<= 0: 30 s) for the following calls. */
void httpc_set_timeout(httpc_t *c, long timeout_ms);
/* Change the most body bytes read from one response (0: no limit, as a
 * new client) for the following calls; see the limits above.
 * httpc_max_body reads the current value (to restore it). */
void httpc_set_max_body(httpc_t *c, size_t max_bytes);
size_t httpc_max_body(const httpc_t *c);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * httpc: an HTTP client over libcurl for senders (remote-write, Loki push,
 * receivers). One httpc_t per sending thread (it keeps the connection
 * alive). Each call classifies its outcome the way every sender must act on
 * it: retry (connection error, timeout, 5xx, 429) or drop (other 4xx).
 */
#ifndef PHAROS_COMMON_HTTPC_H
#define PHAROS_COMMON_HTTPC_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

typedef struct httpc httpc_t;

typedef enum httpc_status {
    HTTPC_OK = 0,    /* 2xx */
    HTTPC_RETRY = 1, /* connection error, timeout, 5xx, 429: try again later */
    HTTPC_FATAL = 2, /* other 4xx (and 1xx/3xx): do not retry */
} httpc_status_t;

typedef struct httpc_result {
    httpc_status_t status;
    long http_code;         /* 0 when no response */
    int64_t retry_after_ms; /* from Retry-After (seconds or HTTP date); -1 if none */
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
 * not NULL. Fills [out] res on every path: error is empty on OK, else the
 * curl error or the first line (<= 200 chars) of the body. Blocks up to the
 * client's timeout. */
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

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * httpc: one libcurl easy handle per httpc_t. See httpc.h.
 *
 * Each call starts with curl_easy_reset, which clears options but keeps the
 * handle's live connections, so a sender reuses one keep-alive connection.
 * The body is captured through a write callback: into the caller's buffer
 * when given (so the first line can still be quoted in the error), else
 * only its first bytes into a small scratch buffer. With a max_body set,
 * past it (bytes counted whether kept or not) the callback refuses the
 * rest, so curl aborts the transfer (CURLOPT_MAXFILESIZE_LARGE refuses a
 * Content-Length over it before the body); see httpc.h for the outcome.
 * Retry-After is clamped to [0, HTTPC_RETRY_AFTER_MAX_MS].
 *
 * Classification: 2xx OK; 429 and 5xx RETRY; other codes FATAL. Transport
 * failures RETRY (refused, reset, DNS, timeout, TLS), except those that no
 * retry can fix (malformed URL, unsupported scheme), which are FATAL.
 *
 * httpc_request takes any method (httpc_post and httpc_get are it with
 * POST and GET; PATCH serves the GitHub receiver) and
 * httpc_last_header reads the last response's headers (rate-limit headers)
 * through curl_easy_header, which keeps them until the next transfer.
 *
 * curl_global_init is not thread-safe and must run once per process, so it
 * runs under a pthread_once in httpc_create. The once flag and its result
 * are this file's only globals, written once; curl's API imposes them.
 */
#include "common/httpc.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/mem.h"

#define HTTPC_DEFAULT_TIMEOUT_MS 30000L
#define HTTPC_ERR_LINE 200
#define HTTPC_SCRATCH 512

struct httpc {
    CURL *curl;
    long timeout_ms;
    size_t max_body; /* bytes of one response body; 0: no limit */
    char errbuf[CURL_ERROR_SIZE];
};

typedef struct httpc_sink {
    buf_t *dst;    /* caller's buffer, or NULL */
    size_t start;  /* where this response starts in dst */
    buf_t scratch; /* first bytes when dst is NULL */
    size_t max;    /* the client's max_body (0: no limit) */
    size_t seen;   /* body bytes received, kept or not (<= max when set) */
    bool over;     /* the body went past max: transfer aborted */
} httpc_sink_t;

static pthread_once_t httpc_once = PTHREAD_ONCE_INIT;
static CURLcode httpc_global_rc = CURLE_OK;

static void httpc_global_init(void)
{
    httpc_global_rc = curl_global_init(CURL_GLOBAL_ALL);
}

httpc_t *httpc_create(long timeout_ms)
{
    pthread_once(&httpc_once, httpc_global_init);
    if (httpc_global_rc != CURLE_OK) {
        return NULL;
    }
    httpc_t *c = mem_calloc(1, sizeof(*c));
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : HTTPC_DEFAULT_TIMEOUT_MS;
    c->curl = curl_easy_init();
    if (!c->curl) {
        goto fail;
    }
    return c;
fail:
    httpc_destroy(c);
    return NULL;
}

void httpc_destroy(httpc_t *c)
{
    if (!c) {
        return;
    }
    if (c->curl) {
        curl_easy_cleanup(c->curl);
    }
    mem_free(c);
}

static size_t httpc_write_cb(char *p, size_t size, size_t nmemb, void *ud)
{
    httpc_sink_t *s = ud;
    size_t n = size * nmemb;
    size_t take = n;
    if (s->max > 0 && n > s->max - s->seen) {
        s->over = true;
        take = s->max - s->seen;
    }
    s->seen += take;
    if (s->dst) {
        buf_append(s->dst, p, take);
    } else if (s->scratch.len < HTTPC_SCRATCH) {
        size_t room = HTTPC_SCRATCH - s->scratch.len;
        buf_append(&s->scratch, p, take < room ? take : room);
    }
    return s->over ? 0 : n; /* anything but n aborts the transfer */
}

/* Retry-After as delta-seconds or an HTTP date, in ms from now, clamped
 * to [0, HTTPC_RETRY_AFTER_MAX_MS]; -1 when absent or unparsable. */
static int64_t httpc_retry_after(CURL *curl)
{
    const int64_t max_s = HTTPC_RETRY_AFTER_MAX_MS / 1000;
    struct curl_header *h = NULL;
    if (curl_easy_header(curl, "Retry-After", 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h || !h->value) {
        return -1;
    }
    const char *v = h->value;
    while (*v == ' ' || *v == '\t') {
        v++;
    }
    if (isdigit((unsigned char)*v)) {
        int64_t secs = 0;
        const char *p = v;
        while (isdigit((unsigned char)*p)) {
            if (secs <= max_s) { /* stops growing past max_s: no overflow */
                secs = secs * 10 + (*p - '0');
            }
            p++;
        }
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        return *p == '\0' ? (secs < max_s ? secs : max_s) * 1000 : -1;
    }
    time_t when = curl_getdate(v, NULL);
    if (when == (time_t)-1) {
        return -1;
    }
    time_t now = time(NULL);
    if (when <= now) {
        return 0;
    }
    return when - now < (time_t)max_s ? (int64_t)(when - now) * 1000 : max_s * 1000;
}

static bool httpc_fatal_curl(CURLcode rc)
{
    switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_TOO_MANY_REDIRECTS:
        return true;
    default:
        return false;
    }
}

/* Copy the first line of p[0..n) (≤ HTTPC_ERR_LINE chars) into dst. */
static void httpc_first_line(char *dst, size_t dstlen, const uint8_t *p, size_t n)
{
    size_t k = 0;
    while (k < n && p[k] != '\n' && p[k] != '\r' && k < HTTPC_ERR_LINE) {
        k++;
    }
    snprintf(dst, dstlen, "%.*s", (int)k, (const char *)p);
}

/* The outcome of a response whose body went past max (transfer aborted):
 * a refusal (non-2xx code) keeps its usual class; a 2xx, or no code,
 * RETRY (the request may have been acted on: at least once). */
static void httpc_over(const httpc_sink_t *sink, long code, httpc_result_t *res)
{
    bool refused = code >= 100 && (code < 200 || code >= 300);
    res->status = refused && code != 429 && code < 500 ? HTTPC_FATAL : HTTPC_RETRY;
    snprintf(res->error, sizeof(res->error), "response body over %zu bytes: transfer aborted", sink->max);
}

static void httpc_perform(httpc_t *c, struct curl_slist *hdrs, buf_t *resp_body, httpc_result_t *res)
{
    httpc_sink_t sink = { .dst = resp_body, .start = resp_body ? resp_body->len : 0, .max = c->max_body };
    c->errbuf[0] = '\0';
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, httpc_write_cb);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c->curl, CURLOPT_TCP_KEEPALIVE, 1L);
    if (c->max_body > 0 && c->max_body <= (size_t)INT64_MAX) {
        curl_easy_setopt(c->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_body);
    }

    res->http_code = 0;
    res->retry_after_ms = -1;
    res->error[0] = '\0';
    res->content_type[0] = '\0';
    CURLcode rc = curl_easy_perform(c->curl);
    if (sink.over || rc == CURLE_FILESIZE_EXCEEDED) {
        long code = 0;
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
        res->http_code = code;
        res->retry_after_ms = code ? httpc_retry_after(c->curl) : -1;
        httpc_over(&sink, code, res);
        buf_fini(&sink.scratch);
        return;
    }
    if (rc != CURLE_OK) {
        res->status = httpc_fatal_curl(rc) ? HTTPC_FATAL : HTTPC_RETRY;
        snprintf(res->error, sizeof(res->error), "%s", c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
        buf_fini(&sink.scratch);
        return;
    }
    long code = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
    res->http_code = code;
    res->retry_after_ms = httpc_retry_after(c->curl);
    const char *ct = NULL;
    if (curl_easy_getinfo(c->curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct &&
        strlen(ct) < sizeof(res->content_type)) {
        snprintf(res->content_type, sizeof(res->content_type), "%s", ct);
    }
    if (code >= 200 && code < 300) {
        res->status = HTTPC_OK;
    } else {
        res->status = (code == 429 || (code >= 500 && code < 600)) ? HTTPC_RETRY : HTTPC_FATAL;
        const uint8_t *p = resp_body ? resp_body->data + sink.start : sink.scratch.data;
        size_t n = resp_body ? resp_body->len - sink.start : sink.scratch.len;
        if (n > 0) {
            httpc_first_line(res->error, sizeof(res->error), p, n);
        } else {
            snprintf(res->error, sizeof(res->error), "HTTP %ld", code);
        }
    }
    buf_fini(&sink.scratch);
}

void httpc_request(httpc_t *c, const char *method, const char *url, const char *const *headers, const void *body,
                   size_t len, buf_t *resp_body, httpc_result_t *res)
{
    curl_easy_reset(c->curl);
    struct curl_slist *hdrs = NULL;
    bool expect = false;
    for (size_t i = 0; headers && headers[i]; i++) {
        expect = expect || strncasecmp(headers[i], "Expect:", 7) == 0;
        struct curl_slist *n = curl_slist_append(hdrs, headers[i]);
        if (!n) {
            goto oom;
        }
        hdrs = n;
    }
    bool send_body =
        body != NULL || strcmp(method, "POST") == 0 || strcmp(method, "PATCH") == 0 || strcmp(method, "PUT") == 0;
    if (send_body && !expect) {
        struct curl_slist *n = curl_slist_append(hdrs, "Expect:");
        if (!n) {
            goto oom;
        }
        hdrs = n;
    }
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    if (send_body) {
        curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, len ? body : "");
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else {
        curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
    }
    if (strcmp(method, send_body ? "POST" : "GET") != 0) {
        curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
    }
    httpc_perform(c, hdrs, resp_body, res);
    curl_slist_free_all(hdrs);
    return;
oom:
    curl_slist_free_all(hdrs);
    res->status = HTTPC_RETRY;
    res->http_code = 0;
    res->retry_after_ms = -1;
    snprintf(res->error, sizeof(res->error), "out of memory building request headers");
}

void httpc_post(httpc_t *c, const char *url, const char *const *headers, const void *body, size_t len, buf_t *resp_body,
                httpc_result_t *res)
{
    httpc_request(c, "POST", url, headers, body, len, resp_body, res);
}

void httpc_get(httpc_t *c, const char *url, const char *const *headers, buf_t *resp_body, httpc_result_t *res)
{
    httpc_request(c, "GET", url, headers, NULL, 0, resp_body, res);
}

int httpc_last_header(httpc_t *c, const char *name, char *dst, size_t dstlen)
{
    struct curl_header *h = NULL;
    if (dstlen == 0 || curl_easy_header(c->curl, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h || !h->value) {
        return 0;
    }
    /* index 0 is the first of several; take the last */
    if (h->amount > 1) {
        struct curl_header *last = NULL;
        if (curl_easy_header(c->curl, name, h->amount - 1, CURLH_HEADER, -1, &last) == CURLHE_OK && last &&
            last->value) {
            h = last;
        }
    }
    snprintf(dst, dstlen, "%s", h->value);
    return 1;
}

void httpc_set_timeout(httpc_t *c, long timeout_ms)
{
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : HTTPC_DEFAULT_TIMEOUT_MS;
}

void httpc_set_max_body(httpc_t *c, size_t max_bytes)
{
    c->max_body = max_bytes;
}

size_t httpc_max_body(const httpc_t *c)
{
    return c->max_body;
}

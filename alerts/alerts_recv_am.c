/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_recv_am: alerts posted to an Alertmanager as Prometheus posts
 * them (notifier/notifier.go): POST <url>/api/v2/alerts with a JSON
 * array of PostableAlert
 *   {"annotations":{...},"endsAt":"…","startsAt":"…","generatorURL":"…",
 *    "labels":{...}}
 * times RFC 3339 UTC with milliseconds ("2024-01-02T03:04:05.678Z"),
 * omitted when 0; annotations and generatorURL omitted when empty
 * (omitempty). Keys in the order Prometheus' models.PostableAlert
 * marshals them. 2xx OK; 429, 5xx and connection errors RETRY;
 * other 4xx FAIL (Prometheus drops such a batch).
 *
 * A URL may carry basic-auth credentials (http://user:pass@host). res->msg
 * is logged, so it never holds them: the password (as written and
 * percent-decoded), the whole userinfo and its Basic token are replaced by
 * "<secret>" wherever the endpoint's answer echoes them. The answer is
 * read up to HTTPC_MAX_BODY_SENDER, c's own limit restored after.
 */
#include <string.h>

#include "alerts/alerts_int.h"
#include "common/json_out.h"

#define AM_REDACTED "<secret>"

/* Append ,"key":"<RFC 3339 ms>" (no comma when first), nothing when ms is 0. */
static void am_time(buf_t *b, const char *key, int64_t ms, bool *first)
{
    if (ms <= 0) {
        return;
    }
    char t[40];
    size_t n = time_format_rfc3339(ms, t);
    buf_puts(b, *first ? "" : ",");
    *first = false;
    json_cstr(b, key);
    buf_putc(b, ':');
    json_str(b, t, n);
}

/* The userinfo of url ("user:pass" between "scheme://" and the last '@'
 * of the authority) as [out] url[*off..*off + *len); false when none. */
static bool am_userinfo(const char *url, size_t *off, size_t *len)
{
    const char *p = strstr(url, "://");
    if (!p) {
        return false;
    }
    p += 3;
    size_t auth = strcspn(p, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < auth; i++) {
        at = p[i] == '@' ? p + i : at;
    }
    if (!at) {
        return false;
    }
    *off = (size_t)(p - url);
    *len = (size_t)(at - p);
    return true;
}

static int am_hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Percent-decode p[0..n) into out. */
static void am_unescape(const char *p, size_t n, buf_t *out)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '%' && i + 2 < n && am_hex(p[i + 1]) >= 0 && am_hex(p[i + 2]) >= 0) {
            buf_putc(out, (uint8_t)(am_hex(p[i + 1]) * 16 + am_hex(p[i + 2])));
            i += 2;
        } else {
            buf_putc(out, (uint8_t)p[i]);
        }
    }
}

static void am_base64(const uint8_t *p, size_t n, buf_t *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        buf_putc(out, (uint8_t)t[(v >> 18) & 63]);
        buf_putc(out, (uint8_t)t[(v >> 12) & 63]);
        buf_putc(out, i + 1 < n ? (uint8_t)t[(v >> 6) & 63] : '=');
        buf_putc(out, i + 2 < n ? (uint8_t)t[v & 63] : '=');
    }
}

/* Replace every occurrence of s[0..n) (n > 0) in msg with AM_REDACTED,
 * cutting the result to msgsz - 1 bytes. */
static void am_scrub(char *msg, size_t msgsz, const void *s, size_t n)
{
    if (n == 0) {
        return;
    }
    buf_t out = { 0 };
    size_t mlen = strlen(msg);
    bool hit = false;
    for (size_t i = 0; i < mlen;) {
        if (i + n <= mlen && memcmp(msg + i, s, n) == 0) {
            buf_puts(&out, AM_REDACTED);
            i += n;
            hit = true;
        } else {
            buf_putc(&out, (uint8_t)msg[i++]);
        }
    }
    if (hit) {
        snprintf(msg, msgsz, "%.*s", (int)out.len, (const char *)out.data);
    }
    buf_fini(&out);
}

/* Take url's credentials out of res->msg (see the file comment): the
 * longest forms first, so "user:pass" goes whole. */
static void am_redact(const char *url, alerts_send_result_t *res)
{
    size_t off = 0, len = 0;
    if (!am_userinfo(url, &off, &len)) {
        return;
    }
    const char *ui = url + off;
    const char *colon = memchr(ui, ':', len);
    size_t ulen = colon ? (size_t)(colon - ui) : len;
    buf_t user = { 0 }, pass = { 0 }, both = { 0 }, basic = { 0 };
    am_unescape(ui, ulen, &user);
    if (colon) {
        am_unescape(colon + 1, len - ulen - 1, &pass);
    }
    buf_append(&both, user.data ? user.data : (const uint8_t *)"", user.len);
    buf_putc(&both, ':');
    buf_append(&both, pass.data ? pass.data : (const uint8_t *)"", pass.len);
    am_base64(both.data, both.len, &basic);
    am_scrub(res->msg, sizeof(res->msg), basic.data, basic.len);
    am_scrub(res->msg, sizeof(res->msg), ui, len);
    if (colon) {
        am_scrub(res->msg, sizeof(res->msg), both.data, both.len);
        am_scrub(res->msg, sizeof(res->msg), colon + 1, len - ulen - 1);
        am_scrub(res->msg, sizeof(res->msg), pass.data, pass.len);
    } else { /* a lone user is a token: as secret as a password */
        am_scrub(res->msg, sizeof(res->msg), user.data, user.len);
    }
    buf_t *wipe[] = { &user, &pass, &both, &basic };
    for (size_t i = 0; i < 4; i++) {
        alerts_recv_secret_fini(wipe[i]);
    }
}

void alerts_recv_am_post(httpc_t *c, const char *url, const alerts_alert_t *alerts, size_t n, alerts_send_result_t *res)
{
    buf_t body = { 0 }, target = { 0 };
    size_t ulen = strlen(url);
    while (ulen > 0 && url[ulen - 1] == '/') {
        ulen--;
    }
    buf_printf(&target, "%.*s/api/v2/alerts", (int)ulen, url);
    buf_putc(&body, '[');
    for (size_t i = 0; i < n; i++) {
        const alerts_alert_t *a = &alerts[i];
        bool first = true;
        buf_puts(&body, i ? ",{" : "{");
        if (a->nannotations > 0) {
            buf_puts(&body, "\"annotations\":");
            json_labels(&body, a->annotations, a->nannotations);
            first = false;
        }
        am_time(&body, "endsAt", a->ends_at_ms, &first);
        am_time(&body, "startsAt", a->starts_at_ms, &first);
        if (a->generator_url && *a->generator_url) {
            buf_puts(&body, first ? "\"generatorURL\":" : ",\"generatorURL\":");
            json_cstr(&body, a->generator_url);
            first = false;
        }
        buf_puts(&body, first ? "\"labels\":" : ",\"labels\":");
        json_labels(&body, a->labels, a->nlabels);
        buf_putc(&body, '}');
    }
    buf_putc(&body, ']');
    static const char *const hdrs[] = { "Content-Type: application/json", "User-Agent: Pharos", NULL };
    httpc_result_t hr;
    size_t max_body = httpc_max_body(c);
    httpc_set_max_body(c, HTTPC_MAX_BODY_SENDER); /* the answer is not read: stop a flood early */
    httpc_post(c, (const char *)target.data, hdrs, body.data, body.len, NULL, &hr);
    httpc_set_max_body(c, max_body);
    alerts_recv_result_http(res, &hr, "alertmanager");
    am_redact(url, res);
    buf_fini(&body);
    buf_fini(&target);
}

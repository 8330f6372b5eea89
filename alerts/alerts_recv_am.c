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
 */
#include <string.h>

#include "alerts/alerts_int.h"
#include "common/json_out.h"

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
    httpc_post(c, (const char *)target.data, hdrs, body.data, body.len, NULL, &hr);
    alerts_recv_result_http(res, &hr, "alertmanager");
    buf_fini(&body);
    buf_fini(&target);
}

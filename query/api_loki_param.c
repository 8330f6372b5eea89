/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_loki_param: the Loki API's argument parsers, with the texts of
 * Loki's pkg/loghttp/params.go:
 *
 *   time       parseTimestamp: RFC 3339 (nano) first; then, with a '.', a
 *              Go float (integer part <= 1e10: seconds with the fraction
 *              rounded to ms; else nanoseconds, fraction dropped); else a
 *              Go int64 (<= 1e10: seconds, else nanoseconds)
 *   bounds     end (default now), then start (default min(end, now) -
 *              since, since default 1h); "could not parse 'end' parameter: …"
 *   limit      strconv.Atoi, default 100, "limit must be a positive value"
 *   direction  "forward"/"backward", any case; "invalid direction 'x'"
 *   step       parseSecondsOrDuration: the same rules and texts as the
 *              Prometheus API's parseDuration (api_prom_param_duration)
 *
 * The pure parsers are exposed in logql.h for the fuzzer; the rest answer
 * 400 with the text themselves and return false.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/str.h"
#include "query/api_loki_int.h"
#include "query/promql.h"

#define API_LOKI_SECONDS_MAX 1e10

/* Seconds to ns, clamped one second inside int64 (Go's time.Unix(v,
 * 0).UnixNano() wraps past ±292 years; pharos keeps the time in range). */
static int64_t api_loki_secs_to_ns(int64_t v)
{
    const int64_t lim = INT64_MAX / 1000000000LL - 1;
    return (v > lim ? lim : v < -lim ? -lim : v) * 1000000000LL;
}

int api_loki_param_time(const char *s, size_t len, int64_t def, int64_t *ns, buf_t *err)
{
    if (len == 0) {
        *ns = def;
        return 0;
    }
    if (time_parse_rfc3339_ns(s, len, ns)) {
        return 0;
    }
    if (memchr(s, '.', len)) {
        double t = 0;
        if (!str_parse_double(str_from(s, len), &t)) {
            buf_puts(err, "strconv.ParseFloat: parsing ");
            labels_quote(str_from(s, len), err);
            buf_puts(err, ": invalid syntax");
            return -1;
        }
        if (isnan(t) || isinf(t)) {
            buf_puts(err, "floating point timestamp is NaN or Inf");
            return -1;
        }
        double high = 0;
        double low = modf(t, &high);
        if (high >= 9223372036854775808.0 || high < -9223372036854775808.0) {
            buf_puts(err, "floating point timestamp exceeds integer range");
            return -1;
        }
        if (high <= API_LOKI_SECONDS_MAX) {
            low = round(low * 1000) / 1000;
            *ns =
                api_loki_secs_to_ns((int64_t)high) + (int64_t)(low * 1e9); /* |low| < 1 s: no overflow past the clamp */
            return 0;
        }
        *ns = (int64_t)high;
        return 0;
    }
    int64_t v = 0;
    if (!str_parse_i64(str_from(s, len), &v)) {
        api_prom_param_int_error("ParseInt", s, len, err);
        return -1;
    }
    if ((double)v <= API_LOKI_SECONDS_MAX) {
        *ns = api_loki_secs_to_ns(v);
        return 0;
    }
    *ns = v;
    return 0;
}

int api_loki_param_duration(const char *s, size_t len, int64_t *ns, buf_t *err)
{
    return api_prom_param_duration(s, len, ns, err);
}

const char *api_loki_arg(http_req_t *req, const char *name)
{
    const char *v = http_req_arg(req, name);
    return v ? v : "";
}

void api_loki_error(http_resp_t *resp, int status, const char *fmt, ...)
{
    resp->status = status;
    resp->content_type = "text/plain; charset=utf-8";
    buf_reset(&resp->body);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&resp->body, fmt, ap);
    va_end(ap);
}

static bool api_loki_time_arg(http_resp_t *resp, const char *name, const char *v, int64_t def, int64_t *out)
{
    buf_t err = { 0 };
    bool ok = api_loki_param_time(v, strlen(v), def, out, &err) == 0;
    if (!ok) {
        api_loki_error(resp, 400, "could not parse '%s' parameter: %.*s", name, (int)err.len, (const char *)err.data);
    }
    buf_fini(&err);
    return ok;
}

bool api_loki_bounds(api_loki_t *api, http_req_t *req, http_resp_t *resp, int64_t *start, int64_t *end)
{
    int64_t now = clock_now_ms(&api->clock) * 1000000LL;
    int64_t since = API_LOKI_DEFAULT_SINCE_NS;
    const char *sv = api_loki_arg(req, "since");
    if (*sv) {
        int64_t ms = 0;
        if (!str_parse_duration_ms(str_from(sv, strlen(sv)), &ms) || ms > INT64_MAX / 1000000LL) {
            buf_t q = { 0 };
            labels_quote(str_from(sv, strlen(sv)), &q);
            api_loki_error(resp, 400, "could not parse 'since' parameter: not a valid duration string: %.*s",
                           (int)q.len, (const char *)q.data);
            buf_fini(&q);
            return false;
        }
        since = ms * 1000000LL;
    }
    if (!api_loki_time_arg(resp, "end", api_loki_arg(req, "end"), now, end)) {
        return false;
    }
    int64_t end_or_now = *end > now ? now : *end;
    int64_t def_start = 0;
    if (__builtin_sub_overflow(end_or_now, since, &def_start)) {
        def_start = INT64_MIN;
    }
    return api_loki_time_arg(resp, "start", api_loki_arg(req, "start"), def_start, start);
}

bool api_loki_limit(http_req_t *req, http_resp_t *resp, size_t *limit)
{
    const char *v = api_loki_arg(req, "limit");
    if (!*v) {
        *limit = API_LOKI_DEFAULT_LIMIT;
        return true;
    }
    int64_t l = 0;
    if (!str_parse_i64(str_from(v, strlen(v)), &l)) {
        buf_t err = { 0 };
        api_prom_param_int_error("Atoi", v, strlen(v), &err);
        api_loki_error(resp, 400, "%.*s", (int)err.len, (const char *)err.data);
        buf_fini(&err);
        return false;
    }
    if (l <= 0) {
        api_loki_error(resp, 400, "limit must be a positive value");
        return false;
    }
    *limit = (size_t)(uint32_t)l; /* Loki keeps it as a uint32 */
    return true;
}

bool api_loki_direction(http_req_t *req, http_resp_t *resp, bool *backward)
{
    const char *v = api_loki_arg(req, "direction");
    if (!*v || strcasecmp(v, "backward") == 0) {
        *backward = true;
        return true;
    }
    if (strcasecmp(v, "forward") == 0) {
        *backward = false;
        return true;
    }
    api_loki_error(resp, 400, "invalid direction '%s'", v);
    return false;
}

bool api_loki_matchers(http_req_t *req, http_resp_t *resp, const char *text, matcher_t **ms, size_t *n)
{
    *ms = NULL;
    *n = 0;
    if (!*text) {
        return true;
    }
    char msg[512];
    if (logql_parse_selector(text, strlen(text), http_req_arena(req), ms, n, msg, sizeof(msg)) != 0) {
        api_loki_error(resp, 400, "%s", msg);
        return false;
    }
    return true;
}

void api_loki_matchers_fini(matcher_t *ms, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        matcher_fini(&ms[i]);
    }
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_prom_json: the JSON Prometheus' API writes (envelope in
 * api_prom_int.h), byte for byte.
 *
 * Samples are written as Prometheus' jsonutil writes them: a timestamp
 * as integer seconds, then '.' and exactly three digits of milliseconds
 * unless they are zero (1700000000.500, 1700000000); a value as a JSON
 * string of strconv.FormatFloat(v, 'f', -1), switching to 'e' when
 * |v| < 1e-6 or |v| >= 1e21 ("1e-07", "NaN", "+Inf"). A scalar or string
 * result goes through Go's encoding/json instead (promql.Scalar's and
 * promql.String's MarshalJSON): its time is the float64 T/1000 in Go's
 * shortest form (1700000000.5) and a scalar's value is always 'f'
 * formatted. Strings are escaped as Go does (common/json_out.c). A matrix
 * series without points has no "values" key, as marshalSeriesJSON has it.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "common/json_out.h"
#include "query/api_prom_int.h"

#define API_PROM_MAX_ANNOTATIONS 10

void api_prom_json_begin(http_resp_t *resp)
{
    resp->status = 200;
    resp->content_type = "application/json";
    buf_reset(&resp->body);
    buf_puts(&resp->body, "{\"status\":\"success\",\"data\":");
}

static void json_annotations(buf_t *b, const char *key, const char *kind, char *const *v, size_t n)
{
    if (n == 0) {
        return;
    }
    buf_printf(b, ",\"%s\":[", key);
    size_t k = n > API_PROM_MAX_ANNOTATIONS ? API_PROM_MAX_ANNOTATIONS : n;
    for (size_t i = 0; i < k; i++) {
        buf_puts(b, i ? "," : "");
        json_cstr(b, v[i]);
    }
    if (n > k) {
        buf_printf(b, ",\"%zu more %s annotations omitted\"", n - k, kind);
    }
    buf_putc(b, ']');
}

void api_prom_json_end(http_resp_t *resp, char *const *warnings, size_t nwarnings, char *const *infos, size_t ninfos)
{
    json_annotations(&resp->body, "warnings", "warning", warnings, nwarnings);
    json_annotations(&resp->body, "infos", "info", infos, ninfos);
    buf_putc(&resp->body, '}');
}

void api_prom_json_error(http_resp_t *resp, promql_errtype_t type, const char *msg, size_t len)
{
    static const struct {
        const char *name;
        int status;
    } types[] = {
        [PROMQL_ERR_NONE] = { "internal", 500 },       [PROMQL_ERR_BAD_DATA] = { "bad_data", 400 },
        [PROMQL_ERR_EXECUTION] = { "execution", 422 }, [PROMQL_ERR_TIMEOUT] = { "timeout", 503 },
        [PROMQL_ERR_CANCELED] = { "canceled", 503 },   [PROMQL_ERR_INTERNAL] = { "internal", 500 },
    };
    const char *name = "not_found";
    int status = 404;
    if ((size_t)type < sizeof(types) / sizeof(types[0])) {
        name = types[type].name;
        status = types[type].status;
    }
    resp->status = status;
    resp->content_type = "application/json";
    buf_reset(&resp->body);
    buf_printf(&resp->body, "{\"status\":\"error\",\"errorType\":\"%s\",\"error\":", name);
    json_str(&resp->body, msg, len);
    buf_putc(&resp->body, '}');
}

void api_prom_json_errorf(http_resp_t *resp, promql_errtype_t type, const char *fmt, ...)
{
    buf_t msg = { 0 };
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&msg, fmt, ap);
    va_end(ap);
    api_prom_json_error(resp, type, (const char *)msg.data, msg.len);
    buf_fini(&msg);
}

void api_prom_json_invalid(http_resp_t *resp, const char *param, const buf_t *msg)
{
    api_prom_json_errorf(resp, PROMQL_ERR_BAD_DATA, "invalid parameter \"%s\": %.*s", param, (int)msg->len,
                         msg->data ? (const char *)msg->data : "");
}

void api_prom_json_ts(buf_t *b, int64_t ms)
{
    uint64_t t = (uint64_t)ms;
    if (ms < 0) {
        buf_putc(b, '-');
        t = 0 - t;
    }
    /* Digits by hand: this runs once per point of every answer. */
    char tmp[32];
    int n = (int)sizeof(tmp);
    uint64_t sec = t / 1000;
    unsigned frac = (unsigned)(t % 1000);
    if (frac != 0) {
        tmp[--n] = (char)('0' + frac % 10);
        tmp[--n] = (char)('0' + frac / 10 % 10);
        tmp[--n] = (char)('0' + frac / 100);
        tmp[--n] = '.';
    }
    do {
        tmp[--n] = (char)('0' + sec % 10);
        sec /= 10;
    } while (sec > 0);
    buf_append(b, tmp + n, sizeof(tmp) - (size_t)n);
}

void api_prom_json_float(buf_t *b, double v)
{
    double a = fabs(v);
    buf_putc(b, '"');
    json_go_float(b, v, a != 0 && (a < 1e-6 || a >= 1e21) ? 'e' : 'f');
    buf_putc(b, '"');
}

void api_prom_json_strs(buf_t *b, const str_t *v, size_t n)
{
    buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        buf_puts(b, i ? "," : "");
        json_str(b, v[i].p, v[i].len);
    }
    buf_putc(b, ']');
}

/* encoding/json's float64: shortest digits, 'f' unless the exponent calls
 * for 'e' (never for a millisecond time divided by 1000). */
static void json_go_seconds(buf_t *b, int64_t ms)
{
    json_go_float(b, (double)ms / 1000.0, 'f');
}

static void json_point(buf_t *b, int64_t t, double v)
{
    buf_putc(b, '[');
    api_prom_json_ts(b, t);
    buf_putc(b, ',');
    api_prom_json_float(b, v);
    buf_putc(b, ']');
}

void api_prom_json_result(buf_t *b, const promql_result_t *r)
{
    switch (r->type) {
    case PROMQL_TYPE_SCALAR:
        buf_puts(b, "{\"resultType\":\"scalar\",\"result\":[");
        json_go_seconds(b, r->t);
        buf_puts(b, ",\"");
        json_go_float(b, r->scalar, 'f');
        buf_puts(b, "\"]}");
        return;
    case PROMQL_TYPE_STRING:
        buf_puts(b, "{\"resultType\":\"string\",\"result\":[");
        json_go_seconds(b, r->t);
        buf_putc(b, ',');
        json_str(b, r->str ? r->str : "", r->str ? r->str_len : 0);
        buf_puts(b, "]}");
        return;
    case PROMQL_TYPE_VECTOR:
        buf_puts(b, "{\"resultType\":\"vector\",\"result\":[");
        for (size_t i = 0; i < r->nseries; i++) {
            const promql_series_t *s = &r->series[i];
            buf_puts(b, i ? ",{\"metric\":" : "{\"metric\":");
            json_labels(b, s->labels, s->nlabels);
            buf_puts(b, ",\"value\":");
            json_point(b, s->n ? s->ts[0] : r->t, s->n ? s->vs[0] : NAN);
            buf_putc(b, '}');
        }
        buf_puts(b, "]}");
        return;
    default:
        buf_puts(b, "{\"resultType\":\"matrix\",\"result\":[");
        for (size_t i = 0; i < r->nseries; i++) {
            const promql_series_t *s = &r->series[i];
            buf_puts(b, i ? ",{\"metric\":" : "{\"metric\":");
            json_labels(b, s->labels, s->nlabels);
            for (size_t k = 0; k < s->n; k++) {
                buf_puts(b, k ? "," : ",\"values\":[");
                json_point(b, s->ts[k], s->vs[k]);
            }
            buf_puts(b, s->n ? "]}" : "}");
        }
        buf_puts(b, "]}");
        return;
    }
}

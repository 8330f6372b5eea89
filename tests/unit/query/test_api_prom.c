/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for query/api_prom*.c through pharosd's HTTP surface: a server
 * started in-process (server_start on a free port, temp data dir) gets
 * series and metadata by remote write (ts_rw_encode_meta), then every endpoint
 * is asked by GET and, where Prometheus accepts it, by POST form. Each
 * table row is a request and the exact status, Content-Type and body
 * Prometheus 3 gives for it: results (vector, matrix, scalar, string;
 * timestamps with and without milliseconds; 'e' and 'f' float forms,
 * NaN and ±Inf; Go's string escapes), every parameter error with its
 * text, limits and their warning, methods (405), unknown paths (404).
 * Separate cases cover what a table cannot: the default time of a query
 * (now), the place of the evaluator's warnings and infos, runtime info
 * (times and the host vary), max-samples (422) on a second server, and
 * the argument parsers and the JSON writer called directly (timestamp and
 * float forms, the cap of 10 annotations, error status codes). Waiting
 * for a query slot under contention is not covered (no query is slow
 * enough to hold one reliably); the expired-deadline path is.
 */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "common/buf.h"
#include "common/log.h"
#include "query/api_prom_int.h"
#include "query/promql.h"
#include "server/server.h"
#include "testsupport.h"

#define T0 1700000000000LL

typedef struct fx {
    char dir[128];
    server_t *s;
    server_config_t cfg;
    char base[64];
    CURL *curl;
} fx_t;

/* ---- requests ---- */

typedef struct reply {
    long code;
    char ctype[128];
    buf_t body;
} reply_t;

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    buf_append(ctx, p, size * n);
    return size * n;
}

static void enc_part(const char *p, size_t n, buf_t *out)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~') {
            buf_putc(out, c);
        } else {
            buf_printf(out, "%%%02X", c);
        }
    }
}

/* Percent-encode "name=value&name=value" (the first '=' of a pair splits
 * it; '&' separates pairs and never appears inside a value here). */
static void form_encode(const char *raw, buf_t *out)
{
    const char *p = raw;
    while (*p) {
        size_t n = strcspn(p, "&");
        const char *eq = memchr(p, '=', n);
        if (eq) {
            enc_part(p, (size_t)(eq - p), out);
            buf_putc(out, '=');
            enc_part(eq + 1, n - (size_t)(eq - p) - 1, out);
        } else {
            enc_part(p, n, out);
        }
        p += n;
        if (*p == '&') {
            buf_putc(out, '&');
            p++;
        }
    }
}

/* method "GET" (args in the URL) or "POST" (args as a form body). */
static void request(fx_t *f, const char *method, const char *path, const char *args, reply_t *r)
{
    buf_t url = { 0 }, form = { 0 };
    buf_printf(&url, "%s%s", f->base, path);
    if (args) {
        form_encode(args, &form);
    }
    if (args && strcmp(method, "GET") == 0) {
        buf_printf(&url, "?%s", form.data ? (const char *)form.data : "");
    }
    buf_reset(&r->body);
    r->code = 0;
    r->ctype[0] = '\0';
    CURL *c = f->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, (const char *)url.data);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
    struct curl_slist *hdrs = NULL;
    if (strcmp(method, "POST") == 0) {
        hdrs = curl_slist_append(hdrs, "Content-Type: application/x-www-form-urlencoded");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, form.data ? (const char *)form.data : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)form.len);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    CURLcode rc = curl_easy_perform(c);
    assert_int_equal(rc, CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->code);
    char *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    snprintf(r->ctype, sizeof(r->ctype), "%s", ct ? ct : "");
    buf_putc(&r->body, '\0');
    r->body.len--;
    curl_slist_free_all(hdrs);
    buf_fini(&url);
    buf_fini(&form);
}

/* ---- the server and its data ---- */

static void write_series(fx_t *f)
{
    ts_label_t up_node[] = { { "__name__", "up" }, { "instance", "a:9100" }, { "job", "node" } };
    ts_label_t up_api[] = { { "__name__", "up" }, { "instance", "b:80" }, { "job", "api" } };
    ts_label_t reqs[] = { { "__name__", "http_requests_total" }, { "code", "200" }, { "job", "api" } };
    ts_label_t tiny[] = { { "__name__", "tiny" }, { "le", "<&>\"\n" } };
    ts_label_t huge[] = { { "__name__", "huge" } };
    ts_label_t ninf[] = { { "__name__", "neg_inf" } };
    ts_label_t nan[] = { { "__name__", "not_a_number" } };
    int64_t t3[] = { T0, T0 + 15000, T0 + 30000 };
    int64_t t15[] = { T0 + 15000 };
    int64_t t0[] = { T0 };
    double ones[] = { 1, 1, 1 }, half[] = { 0.5 }, counts[] = { 10, 20, 30 };
    double v_tiny[] = { 1e-7 }, v_huge[] = { 1e21 }, v_ninf[] = { -INFINITY }, v_nan[] = { NAN };
    ts_series_t s[] = {
        { up_node, 3, t3, ones, 3 }, { up_api, 3, t15, half, 1 }, { reqs, 3, t3, counts, 3 },
        { tiny, 2, t0, v_tiny, 1 },  { huge, 1, t0, v_huge, 1 },  { ninf, 1, t0, v_ninf, 1 },
        { nan, 1, t0, v_nan, 1 },
    };
    /* Metadata as remote write carries it; 9 is no MetricType: "unknown". */
    ts_meta_t md[] = { { "up", 2, "1 if the target is up.", NULL },
                       { "http_requests_total", 1, "Requests <served>.", NULL },
                       { "latency_seconds", 3, "Latency.", "seconds" },
                       { "odd", 9, NULL, NULL } };
    buf_t body = { 0 }, resp = { 0 };
    ts_rw_encode_meta(s, sizeof(s) / sizeof(s[0]), md, sizeof(md) / sizeof(md[0]), &body);
    httpc_t *c = httpc_create(5000);
    httpc_result_t res;
    ts_rw_post(c, f->base, &body, &resp, &res);
    assert_int_equal(res.http_code, 204);
    httpc_destroy(c);
    buf_fini(&body);
    buf_fini(&resp);
}

static fx_t *fx_start(const char *const *extra, size_t nextra)
{
    fx_t *f = calloc(1, sizeof(*f));
    assert_int_equal(ts_tempdir("pharos-api", f->dir, sizeof(f->dir)), 0);
    char listen[64], storage[256];
    uint16_t port = ts_free_port();
    assert_true(port != 0);
    snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%u", port);
    snprintf(storage, sizeof(storage), "--storage.path=%s/data", f->dir);
    char *argv[16] = { "pharosd", listen, storage };
    int argc = 3;
    for (size_t i = 0; i < nextra; i++) {
        argv[argc++] = (char *)extra[i];
    }
    char err[256];
    assert_int_equal(server_config_load(argc, argv, &f->cfg, stdout, err, sizeof(err)), SERVER_CFG_OK);
    if (server_start(&f->cfg, &f->s, err, sizeof(err)) != 0) {
        fail_msg("server_start: %s", err);
    }
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", port);
    f->curl = curl_easy_init();
    write_series(f);
    return f;
}

static void fx_stop(fx_t *f)
{
    curl_easy_cleanup(f->curl);
    server_stop(f->s);
    server_config_free(&f->cfg);
    ts_rmrf(f->dir);
    free(f);
}

static int setup(void **state)
{
    *state = fx_start(NULL, 0);
    return 0;
}

static int teardown(void **state)
{
    fx_stop(*state);
    return 0;
}

/* ---- the table ---- */

typedef struct acase {
    const char *method; /* "GET", "POST" or "BOTH" (both give the same answer) */
    const char *path;
    const char *args; /* unencoded; NULL: none */
    long code;
    const char *body; /* exact; a JSON answer also has Content-Type application/json */
} acase_t;

#define OK(data) "{\"status\":\"success\",\"data\":" data "}"
#define ERR(type, msg) "{\"status\":\"error\",\"errorType\":\"" type "\",\"error\":\"" msg "\"}"
#define BAD(msg) ERR("bad_data", msg)
#define VEC(r) OK("{\"resultType\":\"vector\",\"result\":[" r "]}")
#define MAT(r) OK("{\"resultType\":\"matrix\",\"result\":[" r "]}")
#define UP_NODE "{\"__name__\":\"up\",\"instance\":\"a:9100\",\"job\":\"node\"}"
#define UP_API "{\"__name__\":\"up\",\"instance\":\"b:80\",\"job\":\"api\"}"
#define REQS "{\"__name__\":\"http_requests_total\",\"code\":\"200\",\"job\":\"api\"}"
#define TRUNC ",\"warnings\":[\"results truncated due to limit\"]"

static const acase_t cases[] = {
    /* /api/v1/query: results. */
    { "BOTH", "/api/v1/query", "query=up{job=\"node\"}&time=1700000020", 200,
      VEC("{\"metric\":" UP_NODE ",\"value\":[1700000020,\"1\"]}") },
    { "GET", "/api/v1/query", "query=up{job=\"node\"}&time=1700000020.5", 200,
      VEC("{\"metric\":" UP_NODE ",\"value\":[1700000020.500,\"1\"]}") },
    { "GET", "/api/v1/query", "query=up{job=\"node\"}&time=1700000020.007", 200,
      VEC("{\"metric\":" UP_NODE ",\"value\":[1700000020.007,\"1\"]}") },
    { "GET", "/api/v1/query", "query=up{job=\"node\"}&time=2023-11-14T22:13:40Z", 200,
      VEC("{\"metric\":" UP_NODE ",\"value\":[1700000020,\"1\"]}") },
    { "GET", "/api/v1/query", "query=up{job=\"node\"}&time=2023-11-14T23:13:40.25+01:00", 200,
      VEC("{\"metric\":" UP_NODE ",\"value\":[1700000020.250,\"1\"]}") },
    { "GET", "/api/v1/query", "query=sort_desc(up)&time=1700000020", 200,
      VEC("{\"metric\":" UP_NODE ",\"value\":[1700000020,\"1\"]},{\"metric\":" UP_API
          ",\"value\":[1700000020,\"0.5\"]}") },
    { "GET", "/api/v1/query", "query=sort_desc(up)&time=1700000020&limit=1", 200,
      OK("{\"resultType\":\"vector\",\"result\":[{\"metric\":" UP_NODE ",\"value\":[1700000020,\"1\"]}]}" TRUNC) },
    { "GET", "/api/v1/query", "query=sort_desc(up)&time=1700000020&limit=2", 200,
      VEC("{\"metric\":" UP_NODE ",\"value\":[1700000020,\"1\"]},{\"metric\":" UP_API
          ",\"value\":[1700000020,\"0.5\"]}") },
    { "GET", "/api/v1/query", "query=tiny&time=1700000000", 200,
      VEC("{\"metric\":{\"__name__\":\"tiny\",\"le\":\"\\u003c\\u0026\\u003e\\\"\\n\"},"
          "\"value\":[1700000000,\"1e-07\"]}") },
    { "GET", "/api/v1/query", "query=huge&time=1700000000", 200,
      VEC("{\"metric\":{\"__name__\":\"huge\"},\"value\":[1700000000,\"1e+21\"]}") },
    { "GET", "/api/v1/query", "query=huge / 10&time=1700000000", 200,
      VEC("{\"metric\":{},\"value\":[1700000000,\"100000000000000000000\"]}") },
    { "GET", "/api/v1/query", "query=neg_inf&time=1700000000", 200,
      VEC("{\"metric\":{\"__name__\":\"neg_inf\"},\"value\":[1700000000,\"-Inf\"]}") },
    { "GET", "/api/v1/query", "query=not_a_number&time=1700000000", 200,
      VEC("{\"metric\":{\"__name__\":\"not_a_number\"},\"value\":[1700000000,\"NaN\"]}") },
    { "GET", "/api/v1/query", "query=nothing_here&time=1700000000", 200, VEC("") },
    { "GET", "/api/v1/query", "query=up{job=\"node\"}[1m]&time=1700000030", 200,
      MAT("{\"metric\":" UP_NODE ",\"values\":[[1700000000,\"1\"],[1700000015,\"1\"],[1700000030,\"1\"]]}") },
    { "BOTH", "/api/v1/query", "query=1+1&time=1700000020.5", 200,
      OK("{\"resultType\":\"scalar\",\"result\":[1700000020.5,\"2\"]}") },
    { "GET", "/api/v1/query", "query=0.0000001&time=1700000020.25", 200,
      OK("{\"resultType\":\"scalar\",\"result\":[1700000020.25,\"0.0000001\"]}") },
    { "GET", "/api/v1/query", "query=-1/0&time=-1.5", 200,
      OK("{\"resultType\":\"scalar\",\"result\":[-1.5,\"-Inf\"]}") },
    { "GET", "/api/v1/query", "query=\"a<b\"&time=1700000020", 200,
      OK("{\"resultType\":\"string\",\"result\":[1700000020,\"a\\u003cb\"]}") },
    /* /api/v1/query: parameter errors, in Prometheus' order. */
    { "BOTH", "/api/v1/query", "query=up+&time=1", 400,
      BAD("invalid parameter \\\"query\\\": 1:4: parse error: unexpected end of input") },
    { "GET", "/api/v1/query", "time=1", 400,
      BAD("invalid parameter \\\"query\\\": 1:1: parse error: no expression found in input") },
    { "GET", "/api/v1/query", "query=up&time=x", 400,
      BAD("invalid parameter \\\"time\\\": Invalid time value for 'time': cannot parse \\\"x\\\" to a valid "
          "timestamp") },
    { "GET", "/api/v1/query", "query=up+&time=x&limit=x", 400,
      BAD("invalid parameter \\\"limit\\\": strconv.Atoi: parsing \\\"x\\\": invalid syntax") },
    { "GET", "/api/v1/query", "query=up&limit=-1", 400,
      BAD("invalid parameter \\\"limit\\\": limit must be non-negative") },
    { "GET", "/api/v1/query", "query=up&limit=99999999999999999999", 400,
      BAD("invalid parameter \\\"limit\\\": strconv.Atoi: parsing \\\"99999999999999999999\\\": value out of range") },
    { "GET", "/api/v1/query", "query=up&time=1&timeout=soon", 400,
      BAD("invalid parameter \\\"timeout\\\": cannot parse \\\"soon\\\" to a valid duration") },
    { "GET", "/api/v1/query", "query=up&time=1&timeout=1e300", 400,
      BAD("invalid parameter \\\"timeout\\\": cannot parse \\\"1e300\\\" to a valid duration. It overflows int64") },
    { "GET", "/api/v1/query", "query=up&time=1&lookback_delta=x", 400,
      BAD("error parsing lookback delta duration: cannot parse \\\"x\\\" to a valid duration") },
    { "GET", "/api/v1/query", "query=up&time=1&timeout=0", 503, ERR("timeout", "query timed out in query queue") },
    { "GET", "/api/v1/query", "query=up{job=\"node\"}&time=1700000400&lookback_delta=10m", 200,
      VEC("{\"metric\":" UP_NODE ",\"value\":[1700000400,\"1\"]}") },
    { "GET", "/api/v1/query", "query=up{job=\"node\"}&time=1700000400&lookback_delta=1m", 200, VEC("") },
    /* /api/v1/query_range. */
    { "BOTH", "/api/v1/query_range", "query=up{job=\"node\"}&start=1700000000&end=1700000030&step=15", 200,
      MAT("{\"metric\":" UP_NODE ",\"values\":[[1700000000,\"1\"],[1700000015,\"1\"],[1700000030,\"1\"]]}") },
    { "GET", "/api/v1/query_range", "query=up{job=\"node\"}&start=1700000000&end=1700000030&step=15s", 200,
      MAT("{\"metric\":" UP_NODE ",\"values\":[[1700000000,\"1\"],[1700000015,\"1\"],[1700000030,\"1\"]]}") },
    { "GET", "/api/v1/query_range", "query=time()&start=1700000000.5&end=1700000001.5&step=0.5", 200,
      MAT("{\"metric\":{},\"values\":[[1700000000.500,\"1700000000.5\"],[1700000001,\"1700000001\"],"
          "[1700000001.500,\"1700000001.5\"]]}") },
    { "GET", "/api/v1/query_range", "query=up&start=1700000015&end=1700000015&step=15&limit=1", 200,
      /* A range query's matrix is sorted by labels: the first is node's. */
      OK("{\"resultType\":\"matrix\",\"result\":[{\"metric\":" UP_NODE ",\"values\":[[1700000015,\"1\"]]}]}" TRUNC) },
    { "GET", "/api/v1/query_range", "query=up&start=x&end=1&step=1", 400,
      BAD("invalid parameter \\\"start\\\": cannot parse \\\"x\\\" to a valid timestamp") },
    { "GET", "/api/v1/query_range", "query=up&end=1&step=1", 400,
      BAD("invalid parameter \\\"start\\\": cannot parse \\\"\\\" to a valid timestamp") },
    { "GET", "/api/v1/query_range", "query=up&start=1&end=later&step=1", 400,
      BAD("invalid parameter \\\"end\\\": cannot parse \\\"later\\\" to a valid timestamp") },
    { "GET", "/api/v1/query_range", "query=up&start=2&end=1&step=x", 400,
      BAD("invalid parameter \\\"end\\\": end timestamp must not be before start time") },
    { "GET", "/api/v1/query_range", "query=up&start=1&end=2", 400,
      BAD("invalid parameter \\\"step\\\": cannot parse \\\"\\\" to a valid duration") },
    { "GET", "/api/v1/query_range", "query=up&start=1&end=2&step=x", 400,
      BAD("invalid parameter \\\"step\\\": cannot parse \\\"x\\\" to a valid duration") },
    { "GET", "/api/v1/query_range", "query=up&start=1&end=2&step=0", 400,
      BAD("invalid parameter \\\"step\\\": zero or negative query resolution step widths are not accepted. Try a "
          "positive integer") },
    { "GET", "/api/v1/query_range", "query=up&start=1&end=2&step=-15", 400,
      BAD("invalid parameter \\\"step\\\": zero or negative query resolution step widths are not accepted. Try a "
          "positive integer") },
    { "GET", "/api/v1/query_range", "query=up&start=0&end=11001&step=1", 400,
      BAD("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution "
          "(?step=XX)") },
    { "GET", "/api/v1/query_range", "query=up[5m]&start=1&end=2&step=1", 400,
      BAD("invalid parameter \\\"query\\\": invalid expression type \\\"range vector\\\" for range query, must be "
          "Scalar or instant Vector") },
    { "GET", "/api/v1/query_range", "query=\"s\"&start=1&end=2&step=1", 400,
      BAD("invalid parameter \\\"query\\\": invalid expression type \\\"string\\\" for range query, must be Scalar "
          "or instant Vector") },
    { "GET", "/api/v1/query_range", "query=sum(&start=1&end=2&step=1", 400,
      BAD("invalid parameter \\\"query\\\": 1:5: parse error: unclosed left parenthesis") },
    { "GET", "/api/v1/query_range", "query=up&start=1&end=2&step=1&limit=x", 400,
      BAD("invalid parameter \\\"limit\\\": strconv.Atoi: parsing \\\"x\\\": invalid syntax") },
    /* /api/v1/series */
    { "BOTH", "/api/v1/series", "match[]=up", 200, OK("[" UP_NODE "," UP_API "]") },
    { "GET", "/api/v1/series", "match[]=up{job=\"node\"}&match[]={job=\"api\"}", 200,
      OK("[" REQS "," UP_NODE "," UP_API "]") },
    { "GET", "/api/v1/series", "match[]={job=~\".+\"}&start=1700000025", 200, OK("[" REQS "," UP_NODE "]") },
    { "GET", "/api/v1/series", "match[]={job=~\".+\"}&end=1700000000", 200, OK("[" REQS "," UP_NODE "]") },
    { "GET", "/api/v1/series", "match[]={job=~\".+\"}&limit=2", 200, OK("[" REQS "," UP_NODE "]" TRUNC) },
    { "GET", "/api/v1/series", "match[]=nope", 200, OK("[]") },
    { "GET", "/api/v1/series", NULL, 400, BAD("no match[] parameter provided") },
    { "GET", "/api/v1/series", "match[]=up{", 400,
      BAD("invalid parameter \\\"match[]\\\": 1:4: parse error: unexpected end of input inside braces") },
    { "GET", "/api/v1/series", "match[]={a=\"\"}", 400,
      BAD("invalid parameter \\\"match[]\\\": match[] must contain at least one non-empty matcher") },
    { "GET", "/api/v1/labels", "match[]=up&match[]={a=~\".*\"}", 400,
      BAD("match[] must contain at least one non-empty matcher") },
    { "GET", "/api/v1/series", "match[]=up&start=x", 400,
      BAD("invalid parameter \\\"start\\\": Invalid time value for 'start': cannot parse \\\"x\\\" to a valid "
          "timestamp") },
    { "GET", "/api/v1/series", "match[]=up&limit=x&start=x", 400,
      BAD("invalid parameter \\\"limit\\\": strconv.Atoi: parsing \\\"x\\\": invalid syntax") },
    /* /api/v1/labels */
    { "BOTH", "/api/v1/labels", NULL, 200, OK("[\"__name__\",\"code\",\"instance\",\"job\",\"le\"]") },
    { "GET", "/api/v1/labels", "match[]=up", 200, OK("[\"__name__\",\"instance\",\"job\"]") },
    { "GET", "/api/v1/labels", "match[]=tiny&match[]=http_requests_total", 200,
      OK("[\"__name__\",\"code\",\"job\",\"le\"]") },
    { "GET", "/api/v1/labels", "start=1700000025", 200, OK("[\"__name__\",\"code\",\"instance\",\"job\"]") },
    { "GET", "/api/v1/labels", "limit=2", 200, OK("[\"__name__\",\"code\"]" TRUNC) },
    { "GET", "/api/v1/labels", "match[]=nope", 200, OK("[]") },
    { "GET", "/api/v1/labels", "match[]=up)", 400, BAD("1:4: parse error: unexpected right parenthesis ')'") },
    { "GET", "/api/v1/labels", "end=x", 400,
      BAD("invalid parameter \\\"end\\\": Invalid time value for 'end': cannot parse \\\"x\\\" to a valid "
          "timestamp") },
    /* /api/v1/label/<name>/values */
    { "GET", "/api/v1/label/job/values", NULL, 200, OK("[\"api\",\"node\"]") },
    { "GET", "/api/v1/label/__name__/values", NULL, 200,
      OK("[\"http_requests_total\",\"huge\",\"neg_inf\",\"not_a_number\",\"tiny\",\"up\"]") },
    { "GET", "/api/v1/label/__name__/values", "limit=1", 200, OK("[\"http_requests_total\"]" TRUNC) },
    { "GET", "/api/v1/label/__name__/values", "start=1700000020", 200, OK("[\"http_requests_total\",\"up\"]") },
    { "GET", "/api/v1/label/instance/values", "match[]={job=\"api\"}", 200, OK("[\"b:80\"]") },
    { "GET", "/api/v1/label/le/values", NULL, 200, OK("[\"\\u003c\\u0026\\u003e\\\"\\n\"]") },
    { "GET", "/api/v1/label/nope/values", NULL, 200, OK("[]") },
    { "GET", "/api/v1/label/U__j_6f_b/values", NULL, 200, OK("[\"api\",\"node\"]") },
    { "GET", "/api/v1/label/U__a_2e_b/values", NULL, 200, OK("[]") },
    { "GET", "/api/v1/label/U__/values", NULL, 400, BAD("invalid label name: \\\"\\\"") },
    { "GET", "/api/v1/label/%FF/values", NULL, 400, BAD("invalid label name: \\\"\\\\xff\\\"") },
    { "GET", "/api/v1/label/job/values", "match[]={", 400,
      BAD("1:2: parse error: unexpected end of input inside braces") },
    { "GET", "/api/v1/label/job/values", "limit=1.5", 400,
      BAD("invalid parameter \\\"limit\\\": strconv.Atoi: parsing \\\"1.5\\\": invalid syntax") },
    { "POST", "/api/v1/label/job/values", NULL, 405, "method not allowed\n" },
    /* /api/v1/metadata */
    { "GET", "/api/v1/metadata", NULL, 200,
      OK("{\"http_requests_total\":[{\"type\":\"counter\",\"unit\":\"\",\"help\":\"Requests \\u003cserved\\u003e.\"}],"
         "\"latency_seconds\":[{\"type\":\"histogram\",\"unit\":\"seconds\",\"help\":\"Latency.\"}],"
         "\"odd\":[{\"type\":\"unknown\",\"unit\":\"\",\"help\":\"\"}],"
         "\"up\":[{\"type\":\"gauge\",\"unit\":\"\",\"help\":\"1 if the target is up.\"}]}") },
    { "GET", "/api/v1/metadata", "limit=1&limit_per_metric=1", 200,
      OK("{\"http_requests_total\":[{\"type\":\"counter\",\"unit\":\"\",\"help\":\"Requests "
         "\\u003cserved\\u003e.\"}]}") },
    { "GET", "/api/v1/metadata", "metric=up", 200,
      OK("{\"up\":[{\"type\":\"gauge\",\"unit\":\"\",\"help\":\"1 if the target is up.\"}]}") },
    { "GET", "/api/v1/metadata", "metric=nope", 200, OK("{}") },
    { "GET", "/api/v1/metadata", "limit_per_metric=x", 400,
      BAD("invalid parameter \\\"limit_per_metric\\\": strconv.Atoi: parsing \\\"x\\\": invalid syntax") },
    { "POST", "/api/v1/metadata", NULL, 405, "method not allowed\n" },
    /* /api/v1/query_exemplars: nothing is stored. */
    { "BOTH", "/api/v1/query_exemplars", "query=up&start=1&end=2", 200, OK("[]") },
    { "GET", "/api/v1/query_exemplars", "query=1+1", 204, "" },
    { "GET", "/api/v1/query_exemplars", "query=up&start=2&end=1", 400,
      BAD("end timestamp must not be before start timestamp") },
    { "GET", "/api/v1/query_exemplars", "query=up&start=x", 400,
      BAD("invalid parameter \\\"start\\\": Invalid time value for 'start': cannot parse \\\"x\\\" to a valid "
          "timestamp") },
    { "GET", "/api/v1/query_exemplars", "query=up)", 400, BAD("1:4: parse error: unexpected right parenthesis ')'") },
    /* /api/v1/format_query and /api/v1/parse_query */
    { "BOTH", "/api/v1/format_query", "query=sum(rate(x[5m]))by(job)", 200, OK("\"sum by (job) (rate(x[5m]))\"") },
    { "GET", "/api/v1/format_query",
      "query=histogram_quantile(0.99, sum by (le, job) (rate(http_request_duration_seconds_bucket{job=\"api\"}[5m])))",
      200,
      OK("\"histogram_quantile(\\n  0.99,\\n  sum by (le, job) "
         "(rate(http_request_duration_seconds_bucket{job=\\\"api\\\"}[5m]))\\n)\"") },
    { "GET", "/api/v1/format_query", "query=sum(", 400,
      BAD("invalid parameter \\\"query\\\": 1:5: parse error: unclosed left parenthesis") },
    { "BOTH", "/api/v1/parse_query", "query=up", 200,
      OK("{\"matchers\":[{\"name\":\"__name__\",\"type\":\"=\",\"value\":\"up\"}],\"name\":\"up\",\"offset\":0,"
         "\"startOrEnd\":null,\"timestamp\":null,\"type\":\"vectorSelector\"}") },
    { "GET", "/api/v1/parse_query", "query=topk by (job) (2, -rate(x{a!~\"b\"}[5m:1m] offset 1m @ 100)) > bool 1.5",
      200,
      OK("{\"bool\":true,\"lhs\":{\"expr\":{\"expr\":{\"args\":[{\"expr\":{\"matchers\":[{\"name\":\"a\","
         "\"type\":\"!~\",\"value\":\"b\"},{\"name\":\"__name__\",\"type\":\"=\",\"value\":\"x\"}],"
         "\"name\":\"x\",\"offset\":0,\"startOrEnd\":null,\"timestamp\":null,\"type\":\"vectorSelector\"},"
         "\"offset\":60000,\"range\":300000,\"startOrEnd\":null,\"step\":60000,\"timestamp\":100000,"
         "\"type\":\"subquery\"}],\"func\":{\"argTypes\":[\"matrix\"],\"name\":\"rate\",\"returnType\":"
         "\"vector\",\"variadic\":0},\"type\":\"call\"},\"op\":\"-\",\"type\":\"unaryExpr\"},"
         "\"grouping\":[\"job\"],\"op\":\"topk\",\"param\":{\"type\":\"numberLiteral\",\"val\":\"2\"},"
         "\"type\":\"aggregation\",\"without\":false},\"matching\":null,\"op\":\"\\u003e\","
         "\"rhs\":{\"type\":\"numberLiteral\",\"val\":\"1.5\"},\"type\":\"binaryExpr\"}") },
    { "GET", "/api/v1/parse_query", "query=a / on(b) group_left(c) label_replace(d, \"e\", \"f\", \"g\", \"h\")", 200,
      OK("{\"bool\":false,\"lhs\":{\"matchers\":[{\"name\":\"__name__\",\"type\":\"=\",\"value\":\"a\"}],"
         "\"name\":\"a\",\"offset\":0,\"startOrEnd\":null,\"timestamp\":null,\"type\":\"vectorSelector\"},"
         "\"matching\":{\"card\":\"many-to-one\",\"include\":[\"c\"],\"labels\":[\"b\"],\"on\":true},\"op\":\"/\","
         "\"rhs\":{\"args\":[{\"matchers\":[{\"name\":\"__name__\",\"type\":\"=\",\"value\":\"d\"}],\"name\":\"d\","
         "\"offset\":0,\"startOrEnd\":null,\"timestamp\":null,\"type\":\"vectorSelector\"},"
         "{\"type\":\"stringLiteral\",\"val\":\"e\"},{\"type\":\"stringLiteral\",\"val\":\"f\"},"
         "{\"type\":\"stringLiteral\",\"val\":\"g\"},{\"type\":\"stringLiteral\",\"val\":\"h\"}],"
         "\"func\":{\"argTypes\":[\"vector\",\"string\",\"string\",\"string\",\"string\"],\"name\":\"label_replace\","
         "\"returnType\":\"vector\",\"variadic\":0},\"type\":\"call\"},\"type\":\"binaryExpr\"}") },
    { "GET", "/api/v1/parse_query", "query=(rate(y[1m] @ end()))", 200,
      OK("{\"expr\":{\"args\":[{\"matchers\":[{\"name\":\"__name__\",\"type\":\"=\",\"value\":\"y\"}],\"name\":\"y\","
         "\"offset\":0,\"range\":60000,\"startOrEnd\":\"end\",\"timestamp\":null,\"type\":\"matrixSelector\"}],"
         "\"func\":{\"argTypes\":[\"matrix\"],\"name\":\"rate\",\"returnType\":\"vector\",\"variadic\":0},"
         "\"type\":\"call\"},\"type\":\"parenExpr\"}") },
    { "GET", "/api/v1/parse_query", "query=a and", 400,
      BAD("invalid parameter \\\"query\\\": 1:6: parse error: unexpected end of input") },
    /* /api/v1/status */
    { "GET", "/api/v1/status/buildinfo", NULL, 200,
      OK("{\"version\":\"3.0.0\",\"revision\":\"pharos-0.1.0\",\"branch\":\"\",\"buildUser\":\"\",\"buildDate\":\"\","
         "\"goVersion\":\"\"}") },
    { "POST", "/api/v1/status/buildinfo", NULL, 405, "method not allowed\n" },
    /* No rule files yet: empty lists, as Prometheus without rules. */
    { "GET", "/api/v1/rules", NULL, 200, OK("{\"groups\":[]}") },
    { "GET", "/api/v1/alerts", NULL, 200, OK("{\"alerts\":[]}") },
    { "POST", "/api/v1/rules", NULL, 405, "method not allowed\n" },
    /* Unknown paths. */
    { "GET", "/api/v1/label/job", NULL, 404, "404 page not found\n" },
    { "GET", "/api/v1/label/a/b/values", NULL, 404, "404 page not found\n" },
    { "GET", "/api/v1/nope", NULL, 404, "404 page not found\n" },
};

static void run_one(fx_t *f, const acase_t *c, const char *method, reply_t *r)
{
    request(f, method, c->path, c->args, r);
    const char *got = r->body.data ? (const char *)r->body.data : "";
    if (r->code != c->code || strcmp(got, c->body) != 0) {
        fail_msg("%s %s?%s:\n got  %ld %s\n want %ld %s", method, c->path, c->args ? c->args : "", r->code, got,
                 c->code, c->body);
    }
    if (c->body[0] == '{' && strcmp(r->ctype, "application/json") != 0) {
        fail_msg("%s %s: Content-Type %s", method, c->path, r->ctype);
    }
}

static void test_table(void **state)
{
    fx_t *f = *state;
    reply_t r = { 0 };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const acase_t *c = &cases[i];
        if (strcmp(c->method, "BOTH") == 0) {
            run_one(f, c, "GET", &r);
            run_one(f, c, "POST", &r);
        } else {
            run_one(f, c, c->method, &r);
        }
    }
    buf_fini(&r.body);
}

/* Without time, a query runs now: the 2023 samples are out of lookback. */
static void test_default_time(void **state)
{
    fx_t *f = *state;
    reply_t r = { 0 };
    request(f, "GET", "/api/v1/query", "query=up", &r);
    assert_int_equal(r.code, 200);
    assert_string_equal(r.body.data, VEC(""));
    pclock_t wall = clock_real();
    int64_t before = clock_now_ms(&wall) / 1000;
    request(f, "GET", "/api/v1/query", "query=time()", &r);
    int64_t after = clock_now_ms(&wall) / 1000 + 1;
    long long t = 0;
    assert_int_equal(sscanf((const char *)r.body.data,
                            "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
                            "\"result\":[%lld",
                            &t),
                     1);
    assert_true(t >= before && t <= after);
    buf_fini(&r.body);
}

static void test_status(void **state)
{
    fx_t *f = *state;
    reply_t r = { 0 };
    request(f, "GET", "/api/v1/status/runtimeinfo", NULL, &r);
    assert_int_equal(r.code, 200);
    const char *b = (const char *)r.body.data;
    const char *keys[] = { "{\"status\":\"success\",\"data\":{\"startTime\":\"20",
                           "\",\"CWD\":\"",
                           "\",\"hostname\":\"",
                           "\",\"serverTime\":\"20",
                           "Z\",\"reloadConfigSuccess\":true,\"lastConfigTime\":\"20",
                           "Z\",\"corruptionCount\":0,\"goroutineCount\":",
                           ",\"GOMAXPROCS\":",
                           (",\"GOMEMLIMIT\":9223372036854775807,\"GOGC\":\"\",\"GODEBUG\":\"\","
                            "\"storageRetention\":\"15d\"}}") };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *p = strstr(b, keys[i]);
        if (!p) {
            fail_msg("runtimeinfo lacks %s: %s", keys[i], b);
        }
        b = p + strlen(keys[i]);
    }
    request(f, "GET", "/api/v1/status/flags", NULL, &r);
    assert_non_null(strstr((const char *)r.body.data,
                           "\"query.lookback-delta\":\"5m\",\"query.max-concurrency\":\"20\","
                           "\"query.max-samples\":\"50000000\",\"query.timeout\":\"2m\","));
    assert_non_null(strstr((const char *)r.body.data,
                           "{\"status\":\"success\",\"data\":{\"alerting.alertmanager-urls\":\"\","
                           "\"alerting.config-file\":\"\",\"check-config\":\"false\","));
    request(f, "GET", "/api/v1/status/config", NULL, &r);
    assert_non_null(strstr((const char *)r.body.data, "{\"status\":\"success\",\"data\":{\"yaml\":\"web:\\n  "
                                                      "listen-address: \\\"127.0.0.1:"));
    assert_non_null(strstr((const char *)r.body.data,
                           "\\nquery:\\n  timeout: 2m\\n  max-samples: 50000000\\n  "
                           "lookback-delta: 5m\\n  max-concurrency: 20\\nlogs:\\n  retention: "
                           "15d\\n"));
    assert_non_null(strstr((const char *)r.body.data, "\\nlog:\\n  level: info\\n\"}}"));
    buf_fini(&r.body);
}

/* The YAML of /status/config is a valid configuration that loads back. */
static void test_config_yaml_roundtrip(void **state)
{
    fx_t *f = *state;
    server_config_text_t text;
    server_config_text(&f->cfg, &text);
    char path[192];
    snprintf(path, sizeof(path), "%s/back.yml", f->dir);
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    fwrite(text.yaml.data, 1, text.yaml.len, out);
    fclose(out);
    char flag[256];
    snprintf(flag, sizeof(flag), "--config.file=%s", path);
    char *argv[] = { "pharosd", flag };
    server_config_t back;
    char err[256];
    if (server_config_load(2, argv, &back, stdout, err, sizeof(err)) != SERVER_CFG_OK) {
        fail_msg("reload: %s", err);
    }
    server_config_text_t again;
    server_config_text(&back, &again);
    assert_int_equal(again.yaml.len, text.yaml.len);
    assert_memory_equal(again.yaml.data, text.yaml.data, text.yaml.len);
    server_config_text_fini(&again);
    server_config_text_fini(&text);
    server_config_free(&back);
}

/* Annotations of the evaluation: "warnings" then "infos", after "data".
 * Their texts are the evaluator's; only their place is checked here. */
static void test_annotations(void **state)
{
    fx_t *f = *state;
    reply_t r = { 0 };
    request(f, "GET", "/api/v1/query", "query=quantile(2, rate(up[1m]))&time=1700000030", &r);
    assert_int_equal(r.code, 200);
    const char *b = (const char *)r.body.data;
    const char *w = strstr(b, "]}]},\"warnings\":[\"PromQL warning: quantile value should be between 0 and 1");
    const char *i = strstr(b, "],\"infos\":[\"PromQL info: metric might not be a counter");
    if (!w || !i || i < w || b[r.body.len - 1] != '}' || b[r.body.len - 2] != ']') {
        fail_msg("annotations misplaced: %s", b);
    }
    buf_fini(&r.body);
}

/* Over query.max-samples: 422 with Prometheus' text. */
static void test_max_samples(void **state)
{
    (void)state;
    const char *extra[] = { "--query.max-samples=2", "--query.max-concurrency=1", "--query.timeout=30s" };
    fx_t *f = fx_start(extra, 3);
    reply_t r = { 0 };
    request(f, "GET", "/api/v1/query", "query=up{job=\"node\"}[1m]&time=1700000030", &r);
    assert_int_equal(r.code, 422);
    assert_string_equal(r.body.data, ERR("execution", "query processing would load too many samples into memory in "
                                                      "query execution"));
    request(f, "GET", "/api/v1/query", "query=up{job=\"api\"}&time=1700000030", &r);
    assert_string_equal(r.body.data, VEC("{\"metric\":" UP_API ",\"value\":[1700000030,\"0.5\"]}"));
    buf_fini(&r.body);
    fx_stop(f);
}

/* The JSON writer alone: Prometheus' number forms and the annotation cap. */
static void test_json(void **state)
{
    (void)state;
    static const struct {
        int64_t t;
        const char *want;
    } ts[] = { { 0, "0" },          { 5, "0.005" },   { 1500, "1.500" },
               { -1500, "-1.500" }, { -1, "-0.001" }, { 1700000000120, "1700000000.120" } };
    buf_t b = { 0 };
    for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
        buf_reset(&b);
        api_prom_json_ts(&b, ts[i].t);
        assert_string_equal(b.data, ts[i].want);
    }
    static const struct {
        double v;
        const char *want;
    } fs[] = { { 0, "\"0\"" },           { -0.0, "\"-0\"" },
               { 1e-6, "\"0.000001\"" }, { 9.99e-7, "\"9.99e-07\"" },
               { 1e21, "\"1e+21\"" },    { 9.9e20, "\"990000000000000000000\"" },
               { -2.5, "\"-2.5\"" },     { 1.0 / 3, "\"0.3333333333333333\"" },
               { INFINITY, "\"+Inf\"" }, { -INFINITY, "\"-Inf\"" },
               { NAN, "\"NaN\"" } };
    for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) {
        buf_reset(&b);
        api_prom_json_float(&b, fs[i].v);
        assert_string_equal(b.data, fs[i].want);
    }
    buf_fini(&b);
    /* At most 10 annotations of each kind, then how many were left out. */
    char *w[12];
    char text[12][8];
    for (int i = 0; i < 12; i++) {
        snprintf(text[i], sizeof(text[i]), "w%d", i);
        w[i] = text[i];
    }
    http_resp_t resp = { 0 };
    api_prom_json_begin(&resp);
    buf_puts(&resp.body, "null");
    api_prom_json_end(&resp, w, 12, w, 1);
    assert_string_equal(resp.body.data,
                        "{\"status\":\"success\",\"data\":null,\"warnings\":[\"w0\",\"w1\",\"w2\",\"w3\","
                        "\"w4\",\"w5\",\"w6\",\"w7\",\"w8\",\"w9\",\"2 more warning annotations "
                        "omitted\"],\"infos\":[\"w0\"]}");
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.content_type, "application/json");
    api_prom_json_errorf(&resp, PROMQL_ERR_CANCELED, "query was canceled in %s", "expression evaluation");
    assert_int_equal(resp.status, 503);
    assert_string_equal(resp.body.data, ERR("canceled", "query was canceled in expression evaluation"));
    api_prom_json_errorf(&resp, PROMQL_ERR_INTERNAL, "x");
    assert_int_equal(resp.status, 500);
    buf_fini(&resp.body);
}

/* The parsers alone: what the fuzzer checks, with exact values. */
static void test_params(void **state)
{
    (void)state;
    buf_t err = { 0 };
    int64_t v = 0;
    assert_int_equal(api_prom_param_time("1700000000.123", 14, &v, &err), 0);
    assert_int_equal(v, 1700000000123LL);
    assert_int_equal(api_prom_param_time("-0.5", 4, &v, &err), 0);
    assert_int_equal(v, -500);
    assert_int_equal(api_prom_param_time("2015-06-03T13:21:58.555Z", 24, &v, &err), 0);
    assert_int_equal(v, 1433337718555LL);
    assert_int_equal(api_prom_param_time("1h", 2, &v, &err), -1);
    assert_string_equal(err.data, "cannot parse \"1h\" to a valid timestamp");
    struct {
        const char *in;
        int64_t ns;
    } durs[] = {
        { "15", 15000000000LL }, { "0.5", 500000000LL },       { "1m30s", 90000000000LL }, { "1e-9", 1 }, { "0", 0 },
        { "-2", -2000000000LL }, { "1y", 31536000000000000LL }
    };
    for (size_t i = 0; i < sizeof(durs) / sizeof(durs[0]); i++) {
        buf_reset(&err);
        assert_int_equal(api_prom_param_duration(durs[i].in, strlen(durs[i].in), &v, &err), 0);
        assert_int_equal(v, durs[i].ns);
    }
    buf_reset(&err);
    assert_int_equal(api_prom_param_duration("300y", 4, &v, &err), -1);
    assert_string_equal(err.data, "cannot parse \"300y\" to a valid duration");
    buf_reset(&err);
    assert_int_equal(api_prom_param_duration("1m\n", 3, &v, &err), -1);
    assert_string_equal(err.data, "cannot parse \"1m\\n\" to a valid duration");
    buf_reset(&err);
    assert_int_equal(api_prom_param_limit("+7", 2, &v, &err), 0);
    assert_int_equal(v, 7);
    assert_int_equal(api_prom_param_limit("", 0, &v, &err), 0);
    assert_int_equal(v, 0);
    assert_int_equal(api_prom_param_limit("-", 1, &v, &err), -1);
    assert_string_equal(err.data, "strconv.Atoi: parsing \"-\": invalid syntax");
    char name[32];
    assert_int_equal(api_prom_param_name("U__a_2e_b__c", 12, name), 5);
    assert_memory_equal(name, "a.b_c", 5);
    assert_int_equal(api_prom_param_name("U__x_1F600_", 11, name), 5);
    assert_memory_equal(name, "x\xf0\x9f\x98\x80", 5);
    assert_int_equal(api_prom_param_name("U__x_d800_", 10, name), 10); /* a surrogate: left as is */
    assert_int_equal(api_prom_param_name("U__x_1234567_", 13, name), 13);
    assert_int_equal(api_prom_param_name("U__x_", 5, name), 5);
    assert_int_equal(api_prom_param_name("job", 3, name), 3);
    buf_fini(&err);
}

int main(void)
{
    log_set_level(LOG_WARN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_default_time),
        cmocka_unit_test(test_annotations),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_config_yaml_roundtrip),
        cmocka_unit_test(test_max_samples),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_json),
    };
    int rc = cmocka_run_group_tests_name("api_prom", tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}

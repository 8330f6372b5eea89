/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for query/api_loki*.c and server/server_logs.c through pharosd's
 * HTTP surface: a server started in-process (server_start on a free port,
 * temp data dir) gets log streams by Loki push (JSON, gzip'd JSON), then
 * every Loki endpoint is asked by GET (and POST form where Loki takes
 * it). Each table row is a request and the status and body Loki 3 gives
 * for it; JSON bodies are compared after dropping data.stats (its times
 * vary) and with keys sorted, plain-text errors byte for byte. Separate
 * cases cover push's answers (204, 400 with the valid streams kept, 413,
 * 415), the categorize-labels encoding, the default time range, the
 * argument parsers called directly, and that entries pushed survive a
 * restart of the server.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/httpc.h"
#include "query/logql.h"
#include "server/server.h"
#include "testsupport.h"

typedef struct fx {
    char dir[128];
    server_t *s;
    server_config_t cfg;
    char base[64];
    httpc_t *http;
    int64_t t0; /* ns: the data's first timestamp, 10 minutes before the test started */
} fx_t;

/* ---- requests ---- */

typedef struct reply {
    long code;
    char ctype[96];
    buf_t body;
} reply_t;

static void url_part(const char *p, size_t n, buf_t *out)
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

/* GET path?args (args "a=b&c=d", unencoded; '&' separates, the first '='
 * splits), with optional extra headers (NULL-terminated). */
static void get(fx_t *f, const char *path, const char *args, const char *const *headers, reply_t *r)
{
    buf_t url = { 0 };
    buf_printf(&url, "%s%s", f->base, path);
    if (args) {
        buf_putc(&url, '?');
        const char *p = args;
        while (*p) {
            size_t n = strcspn(p, "&");
            const char *eq = memchr(p, '=', n);
            size_t kn = eq ? (size_t)(eq - p) : n;
            url_part(p, kn, &url);
            if (eq) {
                buf_putc(&url, '=');
                url_part(eq + 1, n - kn - 1, &url);
            }
            p += n;
            if (*p == '&') {
                buf_putc(&url, '&');
                p++;
            }
        }
    }
    buf_putc(&url, '\0');
    buf_reset(&r->body);
    httpc_result_t res;
    httpc_get(f->http, (const char *)url.data, headers, &r->body, &res);
    r->code = res.http_code;
    snprintf(r->ctype, sizeof(r->ctype), "%s", res.content_type);
    buf_putc(&r->body, '\0');
    r->body.len--;
    buf_fini(&url);
}

static long push(fx_t *f, const char *ctype, const char *cenc, const void *body, size_t len, reply_t *r)
{
    char ct[128], ce[128];
    snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
    snprintf(ce, sizeof(ce), "Content-Encoding: %s", cenc ? cenc : "");
    const char *headers[] = { ct, cenc ? ce : NULL, NULL };
    char url[128];
    snprintf(url, sizeof(url), "%s/loki/api/v1/push", f->base);
    buf_reset(&r->body);
    httpc_result_t res;
    httpc_post(f->http, url, headers, body, len, &r->body, &res);
    r->code = res.http_code;
    buf_putc(&r->body, '\0');
    r->body.len--;
    return r->code;
}

/* A JSON push body from a printf template where every %lld is t0 + k*1e9
 * for the k-th argument (seconds after t0). */
static void push_json(fx_t *f, const char *json, long want)
{
    reply_t r = { 0 };
    long code = push(f, "application/json", NULL, json, strlen(json), &r);
    if (code != want) {
        fail_msg("push: want %ld, got %ld: %s", want, code, r.body.data ? (const char *)r.body.data : "");
    }
    buf_fini(&r.body);
}

/* The data set: three streams over 60 s from t0; lines in logfmt and JSON. */
static void write_streams(fx_t *f)
{
    buf_t b = { 0 };
    long long t = (long long)f->t0;
    buf_printf(&b,
               "{\"streams\":["
               "{\"stream\":{\"job\":\"api\",\"level\":\"info\"},\"values\":["
               "[\"%lld\",\"level=info msg=\\\"request done\\\" status=200 took=12ms\"],"
               "[\"%lld\",\"level=info msg=\\\"request done\\\" status=500 took=1.5s\",{\"trace_id\":\"abc\"}],"
               "[\"%lld\",\"level=info msg=started\"]]},"
               "{\"stream\":{\"job\":\"api\",\"level\":\"error\"},\"values\":["
               "[\"%lld\",\"level=error msg=\\\"db down\\\" status=503\"],"
               "[\"%lld\",\"level=error msg=\\\"db down\\\" status=503\"]]},"
               "{\"stream\":{\"job\":\"web\",\"level\":\"info\"},\"values\":["
               "[\"%lld\",\"{\\\"user\\\":{\\\"id\\\":7},\\\"path\\\":\\\"/x\\\"}\"]]}"
               "]}",
               t, t + 10000000000LL, t + 20000000000LL, t + 5000000000LL, t + 35000000000LL, t + 15000000000LL);
    push_json(f, (const char *)b.data, 204);
    buf_fini(&b);
}

static fx_t *fx_start(void)
{
    fx_t *f = calloc(1, sizeof(*f));
    assert_int_equal(ts_tempdir("pharos-loki", f->dir, sizeof(f->dir)), 0);
    char listen[64], storage[256];
    uint16_t port = ts_free_port();
    assert_true(port != 0);
    snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%u", port);
    snprintf(storage, sizeof(storage), "--storage.path=%s/data", f->dir);
    char *argv[] = { "pharosd", listen, storage, "--logs.max-entries-per-query=150", "--web.max-body=64KiB" };
    char err[256];
    assert_int_equal(server_config_load(5, argv, &f->cfg, stdout, err, sizeof(err)), SERVER_CFG_OK);
    if (server_start(&f->cfg, &f->s, err, sizeof(err)) != 0) {
        fail_msg("server_start: %s", err);
    }
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", port);
    f->http = httpc_create(20000);
    pclock_t c = clock_real();
    f->t0 = ((clock_now_ms(&c) / 1000 - 600) / 60 * 60) * 1000000000LL; /* on a minute: steps align */
    write_streams(f);
    return f;
}

static void fx_stop(fx_t *f)
{
    httpc_destroy(f->http);
    server_stop(f->s);
    server_config_free(&f->cfg);
    ts_rmrf(f->dir);
    free(f);
}

static int setup(void **state)
{
    *state = fx_start();
    return 0;
}

static int teardown(void **state)
{
    fx_stop(*state);
    return 0;
}

/* ---- comparing answers ---- */

/* Expand "@N" in s to t0 + N seconds in ns, "@sN" to the same in float
 * seconds as Loki's matrix and vector print them. */
static void expand(const fx_t *f, const char *s, buf_t *out)
{
    buf_reset(out);
    while (*s) {
        if (s[0] == '@') {
            bool secs = s[1] == 's';
            char *end = NULL;
            long long k = strtoll(s + (secs ? 2 : 1), &end, 10);
            long long ns = (long long)f->t0 + k * 1000000000LL;
            if (secs) {
                buf_printf(out, "%lld", ns / 1000000000LL);
            } else {
                buf_printf(out, "%lld", ns);
            }
            s = end;
            continue;
        }
        buf_putc(out, (uint8_t)*s++);
    }
    buf_putc(out, '\0');
    out->len--;
}

/* Canonical JSON text of s with data.stats removed; NULL when s is not JSON. */
static char *canon(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, JSON_DECODE_ANY, &e);
    if (!j) {
        return NULL;
    }
    json_t *data = json_object_get(j, "data");
    if (json_is_object(data)) {
        json_object_del(data, "stats");
    }
    char *out = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    json_decref(j);
    return out;
}

typedef struct lcase {
    const char *path;
    const char *args; /* "@N" → t0 + N s in ns */
    long code;
    const char *body; /* JSON (compared canonically, without stats) or exact text */
} lcase_t;

#define OK(data) "{\"status\":\"success\",\"data\":" data "}"
#define STREAMS(r) OK("{\"resultType\":\"streams\",\"result\":[" r "]}")
#define MATRIX(r) OK("{\"resultType\":\"matrix\",\"result\":[" r "]}")
#define VECTOR(r) OK("{\"resultType\":\"vector\",\"result\":[" r "]}")
#define RANGE "start=@0&end=@60"

static const lcase_t cases[] = {
    /* labels, values, series */
    { "/loki/api/v1/labels", RANGE, 200, OK("[\"job\",\"level\"]") },
    { "/loki/api/v1/labels", RANGE "&query={job=\"web\"}", 200, OK("[\"job\",\"level\"]") },
    { "/loki/api/v1/labels", "start=@100&end=@200", 200, OK("[]") },
    { "/loki/api/v1/label/job/values", RANGE, 200, OK("[\"api\",\"web\"]") },
    { "/loki/api/v1/label/level/values", RANGE "&query={job=\"web\"}", 200, OK("[\"info\"]") },
    { "/loki/api/v1/label/nope/values", RANGE, 200, OK("[]") },
    { "/loki/api/v1/series", RANGE "&match[]={level=\"error\"}", 200, OK("[{\"job\":\"api\",\"level\":\"error\"}]") },
    { "/loki/api/v1/series", RANGE "&match[]={job=\"web\"}&match[]={level=\"error\"}", 200,
      OK("[{\"job\":\"api\",\"level\":\"error\"},{\"job\":\"web\",\"level\":\"info\"}]") },
    { "/loki/api/v1/series", RANGE "&match[]={level=\"error\"}&match={level=\"error\"}&match[]={level=\"error\"}", 200,
      OK("[{\"job\":\"api\",\"level\":\"error\"}]") }, /* repeats count once */
    { "/loki/api/v1/series", RANGE, 400, "0 matcher groups supplied" },
    { "/loki/api/v1/index/stats", RANGE "&query={job=\"api\"}", 200, NULL }, /* checked separately */
    /* log queries */
    { "/loki/api/v1/query_range", RANGE "&query={job=\"api\",level=\"error\"}&direction=forward", 200,
      STREAMS("{\"stream\":{\"job\":\"api\",\"level\":\"error\"},\"values\":[[\"@5\",\"level=error msg=\\\"db "
              "down\\\" status=503\"],[\"@35\",\"level=error msg=\\\"db down\\\" status=503\"]]}") },
    { "/loki/api/v1/query_range", RANGE "&query={job=\"api\",level=\"error\"}&limit=1", 200,
      STREAMS("{\"stream\":{\"job\":\"api\",\"level\":\"error\"},\"values\":[[\"@35\",\"level=error msg=\\\"db "
              "down\\\" status=503\"]]}") },
    { "/loki/api/v1/query_range", "start=@0&end=@35&query={job=\"api\",level=\"error\"}", 200,
      STREAMS("{\"stream\":{\"job\":\"api\",\"level\":\"error\"},\"values\":[[\"@5\",\"level=error msg=\\\"db "
              "down\\\" status=503\"]]}") },
    { "/loki/api/v1/query_range", RANGE "&query={job=\"web\"} | json", 200,
      STREAMS("{\"stream\":{\"job\":\"web\",\"level\":\"info\",\"path\":\"/x\",\"user_id\":\"7\"},\"values\":[[\"@15\","
              "\"{\\\"user\\\":{\\\"id\\\":7},\\\"path\\\":\\\"/x\\\"}\"]]}") },
    { "/loki/api/v1/query_range", RANGE "&query={job=\"api\"} |= \"status=500\"", 200,
      STREAMS("{\"stream\":{\"job\":\"api\",\"level\":\"info\",\"trace_id\":\"abc\"},\"values\":[[\"@10\","
              "\"level=info msg=\\\"request done\\\" status=500 took=1.5s\"]]}") },
    /* metric queries */
    { "/loki/api/v1/query", "time=@60&query=vector(1)+vector(1)", 200,
      VECTOR("{\"metric\":{},\"value\":[@s60,\"2\"]}") },
    { "/loki/api/v1/query", "time=@59&query=sum by (level) (count_over_time({job=\"api\"}[1m]))", 200,
      VECTOR("{\"metric\":{\"level\":\"error\"},\"value\":[@s59,\"2\"]},"
             "{\"metric\":{\"level\":\"info\"},\"value\":[@s59,\"3\"]}") },
    { "/loki/api/v1/query", "time=@60&query=sum by (level) (count_over_time({job=\"api\"}[1m]))", 200,
      VECTOR("{\"metric\":{\"level\":\"error\"},\"value\":[@s60,\"2\"]},"
             "{\"metric\":{\"level\":\"info\"},\"value\":[@s60,\"2\"]}") }, /* (t-1m, t]: @0 is out */
    { "/loki/api/v1/query_range", "start=@30&end=@60&step=30s&query=count_over_time({job=\"web\"}[1m])", 200,
      MATRIX("{\"metric\":{\"job\":\"web\",\"level\":\"info\"},\"values\":[[@s30,\"1\"],[@s60,\"1\"]]}") },
    /* argument errors, as Loki's loghttp words them */
    { "/loki/api/v1/query_range", RANGE "&query={job=\"api\"}&limit=0", 400, "limit must be a positive value" },
    { "/loki/api/v1/query_range", RANGE "&query={job=\"api\"}&limit=x", 400,
      "strconv.Atoi: parsing \"x\": invalid syntax" },
    { "/loki/api/v1/query_range", RANGE "&query={job=\"api\"}&direction=up", 400, "invalid direction 'up'" },
    { "/loki/api/v1/query_range", "start=abc&query={job=\"api\"}", 400,
      "could not parse 'start' parameter: strconv.ParseInt: parsing \"abc\": invalid syntax" },
    { "/loki/api/v1/query_range", "start=@60&end=@0&query={job=\"api\"}", 400,
      "end timestamp must not be before or equal to start time" },
    { "/loki/api/v1/query_range", RANGE "&query={job=\"api\"}&step=0", 400,
      "zero or negative query resolution step widths are not accepted. Try a positive integer" },
    { "/loki/api/v1/query_range", RANGE "&query={job=\"api\"}&step=1ms", 400,
      "exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step "
      "parameter" },
    { "/loki/api/v1/query_range", RANGE "&query={job=\"api\"}&step=x", 400, "cannot parse \"x\" to a valid duration" },
    { "/loki/api/v1/query_range", RANGE "&query={job=\"api\"}&limit=151", 400,
      "max entries limit per query exceeded, limit > max_entries_limit_per_query (151 > 150)" },
    { "/loki/api/v1/query", "time=@60&query={job=\"api\"}", 400,
      "log queries are not supported as an instant query type, please change your query to a range query type" },
    { "/loki/api/v1/query", "time=@60&query={job=\"api\"", 400,
      "parse error at line 1, col 11: syntax error: unexpected $end, expecting } or ," },
    { "/loki/api/v1/nope", NULL, 404, "404 page not found\n" },
    /* extreme bounds: end - since and end - start saturate, as Go's Time.Sub does, instead of overflowing */
    { "/loki/api/v1/labels", "end=-9223372036&since=2562047h", 200, OK("[]") },
    { "/loki/api/v1/query_range", "start=-9223372036&end=9223372036854775807&query={job=\"api\"}&step=1", 400,
      "exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step "
      "parameter" },
    /* The API's span is capped at INT64_MAX (Go's Time.Sub); the engine's exact span
     * (2^64 - 2 ns here) must not overflow either. */
    { "/loki/api/v1/query_range",
      "start=-9223372036&end=9223372036854775807&step=1000000&query=count_over_time({job=\"api\"}[1m])", 400, NULL },
    { "/loki/api/v1/query_range", "start=-9223372036&end=9223372036854775807&query={job=\"api\"}&limit=x", 400,
      "strconv.Atoi: parsing \"x\": invalid syntax" },
};

static void check_case(fx_t *f, const lcase_t *c, reply_t *r)
{
    buf_t args = { 0 }, want = { 0 };
    if (c->args) {
        expand(f, c->args, &args);
    }
    get(f, c->path, c->args ? (const char *)args.data : NULL, NULL, r);
    const char *got = r->body.data ? (const char *)r->body.data : "";
    if (r->code != c->code) {
        fail_msg("%s?%s: want %ld, got %ld: %s", c->path, c->args ? c->args : "", c->code, r->code, got);
    }
    if (c->body) {
        expand(f, c->body, &want);
        char *cw = canon((const char *)want.data);
        char *cg = canon(got);
        if (cw && r->code == 200) {
            if (!cg || strcmp(cw, cg) != 0) {
                fail_msg("%s?%s:\nwant %s\ngot  %s", c->path, c->args ? c->args : "", cw, got);
            }
            assert_non_null(strstr(r->ctype, "application/json"));
        } else if (strcmp((const char *)want.data, got) != 0) {
            fail_msg("%s?%s:\nwant %s\ngot  %s", c->path, c->args ? c->args : "", (const char *)want.data, got);
        }
        free(cw);
        free(cg);
    }
    buf_fini(&args);
    buf_fini(&want);
}

static void test_table(void **state)
{
    fx_t *f = *state;
    reply_t r = { 0 };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        check_case(f, &cases[i], &r);
    }
    buf_fini(&r.body);
}

/* Stats: no envelope, the store's counts of the selected streams. */
static void test_index_stats(void **state)
{
    fx_t *f = *state;
    reply_t r = { 0 };
    buf_t args = { 0 };
    expand(f, RANGE "&query={job=\"api\"} |= \"x\"", &args);
    get(f, "/loki/api/v1/index/stats", (const char *)args.data, NULL, &r);
    assert_int_equal(r.code, 200);
    json_error_t e;
    json_t *j = json_loads((const char *)r.body.data, 0, &e);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "streams")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "entries")), 5);
    assert_true(json_integer_value(json_object_get(j, "chunks")) >= 2);
    assert_true(json_integer_value(json_object_get(j, "bytes")) > 100);
    assert_null(json_object_get(j, "status"));
    json_decref(j);
    get(f, "/loki/api/v1/status/buildinfo", NULL, NULL, &r);
    assert_int_equal(r.code, 200);
    j = json_loads((const char *)r.body.data, 0, &e);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "version")), "3.0.0");
    assert_null(json_object_get(j, "status"));
    json_decref(j);
    get(f, "/ready", NULL, NULL, &r);
    assert_int_equal(r.code, 200);
    assert_string_equal((const char *)r.body.data, "ready\n");
    buf_fini(&args);
    buf_fini(&r.body);
}

/* The categorize-labels encoding: stream labels alone, metadata and parsed
 * labels per entry, encodingFlags in data. */
static void check_categorized(fx_t *f, const char *args_tmpl, const char *want_tmpl)
{
    reply_t r = { 0 };
    buf_t args = { 0 }, want = { 0 };
    expand(f, args_tmpl, &args);
    const char *h[] = { "X-Loki-Response-Encoding-Flags: categorize-labels", NULL };
    get(f, "/loki/api/v1/query_range", (const char *)args.data, h, &r);
    assert_int_equal(r.code, 200);
    expand(f, want_tmpl, &want);
    char *cw = canon((const char *)want.data), *cg = canon((const char *)r.body.data);
    assert_non_null(cw);
    if (!cg || strcmp(cw, cg) != 0) {
        fail_msg("want %s\ngot  %s", cw, (const char *)r.body.data);
    }
    free(cw);
    free(cg);
    buf_fini(&args);
    buf_fini(&want);
    buf_fini(&r.body);
}

#define CATEGORIZED(r) OK("{\"resultType\":\"streams\",\"encodingFlags\":[\"categorize-labels\"],\"result\":[" r "]}")

static void test_categorize(void **state)
{
    fx_t *f = *state;
    check_categorized(f, RANGE "&query={job=\"api\",level=\"info\"} |= \"status=500\"",
                      CATEGORIZED("{\"stream\":{\"job\":\"api\",\"level\":\"info\"},\"values\":[[\"@10\",\"level=info "
                                  "msg=\\\"request done\\\" status=500 took=1.5s\",{\"structuredMetadata\":{\"trace_"
                                  "id\":\"abc\"}}]]}"));
    check_categorized(
        f, RANGE "&query={job=\"web\"} | json",
        CATEGORIZED("{\"stream\":{\"job\":\"web\",\"level\":\"info\"},\"values\":[[\"@15\",\"{\\\"user\\\":"
                    "{\\\"id\\\":7},\\\"path\\\":\\\"/x\\\"}\",{\"parsed\":{\"path\":\"/x\",\"user_id\":"
                    "\"7\"}}]]}"));
    check_categorized(f, RANGE "&query={job=\"api\",level=\"error\"}&limit=1",
                      CATEGORIZED("{\"stream\":{\"job\":\"api\",\"level\":\"error\"},\"values\":[[\"@35\",\"level="
                                  "error msg=\\\"db down\\\" status=503\",{}]]}")); /* {}: nothing to categorize */
}

/* Push: partial rejection keeps the valid stream; gzip; bad bodies. */
static void test_push(void **state)
{
    fx_t *f = *state;
    reply_t r = { 0 };
    long long t = (long long)f->t0;
    char body[512];
    snprintf(body, sizeof(body),
             "{\"streams\":[{\"stream\":{\"job\":\"p\"},\"values\":[[\"%lld\",\"kept\"]]},"
             "{\"stream\":{\"bad-name\":\"x\"},\"values\":[[\"%lld\",\"dropped\"]]}]}",
             t + 1000000000LL, t + 1000000000LL);
    assert_int_equal(push(f, "application/json", NULL, body, strlen(body), &r), 400);
    assert_non_null(strstr((const char *)r.body.data, "bad-name"));
    /* gzip'd JSON */
    snprintf(body, sizeof(body), "{\"streams\":[{\"stream\":{\"job\":\"p\"},\"values\":[[\"%lld\",\"zipped\"]]}]}",
             t + 2000000000LL);
    uint8_t z[1024];
    z_stream zs = { 0 };
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = (Bytef *)body;
    zs.avail_in = (uInt)strlen(body);
    zs.next_out = z;
    zs.avail_out = sizeof(z);
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t zlen = zs.total_out;
    deflateEnd(&zs);
    assert_int_equal(push(f, "application/json", "gzip", z, zlen, &r), 204);
    assert_int_equal(push(f, "application/json", "br", body, strlen(body), &r), 415);
    assert_int_equal(push(f, "application/json", NULL, "{\"streams\":[", 12, &r), 400);
    assert_int_equal(push(f, "application/x-protobuf", NULL, "\xff\xff\xff", 3, &r), 400);
    /* Over web.max-body (64 KiB). */
    size_t big = 70 * 1024;
    char *huge = malloc(big);
    memset(huge, 'a', big);
    assert_int_equal(push(f, "application/json", NULL, huge, big, &r), 413);
    free(huge);
    buf_t args = { 0 };
    expand(f, RANGE "&query={job=\"p\"}&direction=forward", &args);
    get(f, "/loki/api/v1/query_range", (const char *)args.data, NULL, &r);
    assert_int_equal(r.code, 200);
    buf_t want = { 0 };
    expand(f, STREAMS("{\"stream\":{\"job\":\"p\"},\"values\":[[\"@1\",\"kept\"],[\"@2\",\"zipped\"]]}"), &want);
    char *cw = canon((const char *)want.data), *cg = canon((const char *)r.body.data);
    if (!cg || strcmp(cw, cg) != 0) {
        fail_msg("want %s\ngot  %s", cw, (const char *)r.body.data);
    }
    free(cw);
    free(cg);
    buf_fini(&want);
    buf_fini(&args);
    buf_fini(&r.body);
}

/* What was acknowledged is there after a restart (WAL replay). */
static void test_restart(void **state)
{
    fx_t *f = *state;
    /* Loki's POST /flush: every head into blocks (the WAL they cover dropped). */
    char url[128];
    snprintf(url, sizeof(url), "%s/flush", f->base);
    buf_t body = { 0 };
    httpc_result_t res;
    httpc_post(f->http, url, NULL, "", 0, &body, &res);
    assert_int_equal(res.http_code, 204);
    buf_fini(&body);
    logs_store_stats_t st;
    logs_store_get_stats(server_logs(f->s), &st);
    assert_int_equal(st.head_entries, 0);
    assert_true(st.blocks >= 1);
    server_stop(f->s);
    char err[256];
    if (server_start(&f->cfg, &f->s, err, sizeof(err)) != 0) {
        fail_msg("server_start: %s", err);
    }
    reply_t r = { 0 };
    const lcase_t *c = NULL; /* the error stream, forward */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]) && !c; i++) {
        c = cases[i].args && strstr(cases[i].args, "level=\"error\"}&direction=forward") ? &cases[i] : NULL;
    }
    assert_non_null(c);
    check_case(f, c, &r);
    buf_fini(&r.body);
}

static void test_params(void **state)
{
    (void)state;
    buf_t err = { 0 };
    int64_t v = 0;
    assert_int_equal(api_loki_param_time("", 0, 42, &v, &err), 0);
    assert_int_equal(v, 42);
    assert_int_equal(api_loki_param_time("1700000000", 10, 0, &v, &err), 0);
    assert_int_equal(v, 1700000000000000000LL);
    assert_int_equal(api_loki_param_time("1700000000123456789", 19, 0, &v, &err), 0);
    assert_int_equal(v, 1700000000123456789LL);
    assert_int_equal(api_loki_param_time("1700000000.1234", 15, 0, &v, &err), 0);
    assert_int_equal(v, 1700000000123000000LL); /* the fraction rounded to ms */
    assert_int_equal(api_loki_param_time("2023-11-14T22:13:20.123456789Z", 30, 0, &v, &err), 0);
    assert_int_equal(v, 1700000000123456789LL);
    assert_int_equal(api_loki_param_time("-5", 2, 0, &v, &err), 0);
    assert_int_equal(v, -5000000000LL);
    assert_int_equal(api_loki_param_time("1e3", 3, 0, &v, &err), -1);
    assert_string_equal((const char *)err.data, "strconv.ParseInt: parsing \"1e3\": invalid syntax");
    buf_reset(&err);
    assert_int_equal(api_loki_param_time("99999999999999999999", 20, 0, &v, &err), -1);
    assert_string_equal((const char *)err.data, "strconv.ParseInt: parsing \"99999999999999999999\": value out of "
                                                "range");
    buf_reset(&err);
    assert_int_equal(api_loki_param_time("NaN.", 4, 0, &v, &err), -1);
    buf_reset(&err);
    assert_int_equal(api_loki_param_duration("250ms", 5, &v, &err), 0);
    assert_int_equal(v, 250000000);
    assert_int_equal(api_loki_param_duration("0.5", 3, &v, &err), 0);
    assert_int_equal(v, 500000000);
    buf_fini(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test_setup_teardown(test_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_categorize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_push, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for ctl/ctl_logs.c. The pure parts first: an entry in each output
 * mode, the merge of an answer's streams into one order (stable at equal
 * timestamps, both directions), hostile and truncated answers, and page
 * reuse. Then whole `pharosctl logs` runs against a stub Loki on
 * 127.0.0.1 port 0 that applies Loki's semantics (start <= ts < end, the
 * oldest or newest `limit` entries over all streams, grouped by stream) to
 * a fixed data set per query, so paging with duplicates at page
 * boundaries, --limit, --follow (entries that appear after the Nth
 * request; stopped by max_polls or by SIGTERM from the stub) and the exit
 * statuses are checked on stdout, stderr and the requests made.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/httpd.h"
#include "common/mem.h"
#include "ctl/ctl.h"

#define NOW_MS 1700000000000LL
#define BASE_NS 1699999990000000000LL /* NOW - 10 s: 2023-11-14T22:13:10Z */
#define MS(x) (BASE_NS + (x)*1000000LL)

/* ---- formatting ---- */

typedef struct format_case {
    int64_t ts_ns;
    const char *line;
    size_t line_len; /* 0: strlen(line) */
    ctl_logs_output_t mode;
    bool labels;
    const char *want;
} format_case_t;

static void test_format(void **state)
{
    (void)state;
    static const format_case_t cases[] = {
        { MS(123) + 456789, "GET /x 200", 0, CTL_LOGS_DEFAULT, true,
          "2023-11-14T22:13:10.123Z {app=\"api\", level=\"info\"} GET /x 200\n" },
        { MS(123) + 456789, "GET /x 200", 0, CTL_LOGS_DEFAULT, false, "2023-11-14T22:13:10.123Z GET /x 200\n" },
        { MS(123), "GET /x 200", 0, CTL_LOGS_RAW, true, "GET /x 200\n" },
        { MS(123) + 456789, "GET /x 200", 0, CTL_LOGS_JSONL, true,
          "{\"ts\":\"2023-11-14T22:13:10.123456789Z\",\"labels\":{\"level\":\"info\",\"app\":\"api\"},"
          "\"line\":\"GET /x 200\"}\n" },
        { MS(0), "a \"q\"\t<b>", 0, CTL_LOGS_JSONL, false,
          "{\"ts\":\"2023-11-14T22:13:10.000000000Z\",\"line\":\"a \\\"q\\\"\\t\\u003cb\\u003e\"}\n" },
        { MS(0), "ends in newline\n", 0, CTL_LOGS_RAW, true, "ends in newline\n" },
        { MS(0), "", 0, CTL_LOGS_DEFAULT, false, "2023-11-14T22:13:10.000Z \n" },
        { -1, "before 1970", 0, CTL_LOGS_DEFAULT, false, "1969-12-31T23:59:59.999Z before 1970\n" },
        { -1, "x", 0, CTL_LOGS_JSONL, false, "{\"ts\":\"1969-12-31T23:59:59.999999999Z\",\"line\":\"x\"}\n" },
        { 0, "nul\0byte", 8, CTL_LOGS_JSONL, false,
          "{\"ts\":\"1970-01-01T00:00:00.000000000Z\",\"line\":\"nul\\u0000byte\"}\n" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const format_case_t *c = &cases[i];
        ctl_logs_entry_t e = {
            .ts_ns = c->ts_ns,
            .labels = STR_LIT("{app=\"api\", level=\"info\"}"),
            .labels_json = STR_LIT("{\"level\":\"info\",\"app\":\"api\"}"),
            .line = str_from(c->line, c->line_len ? c->line_len : strlen(c->line)),
        };
        buf_t out = { 0 };
        ctl_logs_format_entry(&e, c->mode, c->labels, &out);
        buf_putc(&out, 0);
        if (strcmp((const char *)out.data, c->want) != 0) {
            fail_msg("case %zu: got %s want %s", i, (const char *)out.data, c->want);
        }
        buf_fini(&out);
    }
}

/* ---- parsing and merging ---- */

/* Three streams, equal timestamps across them; labels out of order in the
 * answer (they print sorted). */
static const char merge_fwd[] =
    "{\"status\":\"success\",\"data\":{\"resultType\":\"streams\",\"result\":["
    "{\"stream\":{\"b\":\"2\",\"a\":\"x\"},\"values\":[[\"10\",\"x10\"],[\"20\",\"x20\"],[\"30\",\"x30\"]]},"
    "{\"stream\":{\"a\":\"y\"},\"values\":[[\"5\",\"y5\"],[\"20\",\"y20\"],[\"20\",\"y20b\"]]},"
    "{\"stream\":{},\"values\":[]},"
    "{\"stream\":{\"a\":\"z\"},\"values\":[[\"20\",\"z20\"],[\"40\",\"z40\"]]}],"
    "\"stats\":{\"summary\":{}}},\"warnings\":[\"careful\"]}";

static const char merge_bwd[] = "{\"status\":\"success\",\"data\":{\"resultType\":\"streams\",\"result\":["
                                "{\"stream\":{\"a\":\"x\"},\"values\":[[\"30\",\"x30\"],[\"20\",\"x20\"]]},"
                                "{\"stream\":{\"a\":\"y\"},\"values\":[[\"20\",\"y20\"],[\"5\",\"y5\"]]},"
                                "{\"stream\":{\"a\":\"z\"},\"values\":[[\"40\",\"z40\"],[\"20\",\"z20\"]]}]}}";

/* The page as "ts labels line|" items. */
static void page_text(const ctl_logs_page_t *p, buf_t *out)
{
    buf_reset(out);
    for (size_t i = 0; i < ctl_logs_page_count(p); i++) {
        ctl_logs_entry_t e;
        ctl_logs_page_entry(p, i, &e);
        buf_printf(out, "%lld %.*s %.*s|", (long long)e.ts_ns, (int)e.labels.len, e.labels.p, (int)e.line.len,
                   e.line.p);
    }
    buf_putc(out, 0);
}

static void test_merge(void **state)
{
    (void)state;
    ctl_logs_page_t *p = ctl_logs_page_create();
    buf_t err = { 0 }, got = { 0 };
    assert_int_equal(ctl_logs_page_parse(p, merge_fwd, strlen(merge_fwd), false, &err), CTL_LOGS_STREAMS);
    page_text(p, &got);
    assert_string_equal((const char *)got.data, "5 {a=\"y\"} y5|10 {a=\"x\", b=\"2\"} x10|20 {a=\"x\", b=\"2\"} x20|"
                                                "20 {a=\"y\"} y20|20 {a=\"y\"} y20b|20 {a=\"z\"} z20|"
                                                "30 {a=\"x\", b=\"2\"} x30|40 {a=\"z\"} z40|");
    buf_putc(&err, 0);
    assert_string_equal((const char *)err.data, "warning: careful\n");
    ctl_logs_entry_t e;
    ctl_logs_page_entry(p, 1, &e);
    assert_int_equal(e.labels_json.len, strlen("{\"b\":\"2\",\"a\":\"x\"}"));
    assert_memory_equal(e.labels_json.p, "{\"b\":\"2\",\"a\":\"x\"}", e.labels_json.len);

    buf_reset(&err);
    assert_int_equal(ctl_logs_page_parse(p, merge_bwd, strlen(merge_bwd), true, &err), CTL_LOGS_STREAMS);
    page_text(p, &got);
    assert_string_equal((const char *)got.data, "40 {a=\"z\"} z40|30 {a=\"x\"} x30|20 {a=\"x\"} x20|"
                                                "20 {a=\"y\"} y20|20 {a=\"z\"} z20|5 {a=\"y\"} y5|");
    assert_int_equal(err.len, 0);
    /* The same answer read forward is out of order. */
    assert_int_equal(ctl_logs_page_parse(p, merge_bwd, strlen(merge_bwd), false, &err), CTL_LOGS_BAD_RESPONSE);
    assert_int_equal(ctl_logs_page_count(p), 0);
    buf_fini(&got);
    buf_fini(&err);
    ctl_logs_page_destroy(p);
}

typedef struct parse_case {
    const char *json;
    ctl_logs_rc_t rc;
    const char *err; /* prefix */
} parse_case_t;

#define ST(result) "{\"status\":\"success\",\"data\":{\"resultType\":\"streams\",\"result\":" result "}}"

static void test_parse_hostile(void **state)
{
    (void)state;
    static const parse_case_t cases[] = {
        { "", CTL_LOGS_BAD_RESPONSE, "error: malformed response: invalid JSON" },
        { "nope", CTL_LOGS_BAD_RESPONSE, "error: malformed response: invalid JSON" },
        { "[]", CTL_LOGS_BAD_RESPONSE, "error: malformed response: no \"status\" of \"success\"\n" },
        { "{\"status\":\"error\",\"error\":\"x\"}", CTL_LOGS_BAD_RESPONSE,
          "error: malformed response: no \"status\" of \"success\"\n" },
        { "{\"status\":\"success\"}", CTL_LOGS_BAD_RESPONSE,
          "error: malformed response: no \"data\" with \"resultType\" and \"result\"\n" },
        { "{\"status\":\"success\",\"data\":{\"resultType\":\"streams\",\"result\":{}}}", CTL_LOGS_BAD_RESPONSE,
          "error: malformed response: streams result is not an array\n" },
        { ST("[1]"), CTL_LOGS_BAD_RESPONSE, "error: malformed response: stream 0 has no \"values\" array\n" },
        { ST("[{\"values\":[]}]"), CTL_LOGS_BAD_RESPONSE,
          "error: malformed response: stream 0 has no \"stream\" object\n" },
        { ST("[{\"stream\":{\"a\":1},\"values\":[]}]"), CTL_LOGS_BAD_RESPONSE,
          "error: malformed response: label a is not a string (stream 0)\n" },
        { ST("[{\"stream\":{},\"values\":[[1,\"x\"]]}]"), CTL_LOGS_BAD_RESPONSE,
          "error: malformed response: entry 0 of stream 0 is not [\"<ns>\", \"<line>\"]\n" },
        { ST("[{\"stream\":{},\"values\":[[\"1\"]]}]"), CTL_LOGS_BAD_RESPONSE,
          "error: malformed response: entry 0 of stream 0 is not" },
        { ST("[{\"stream\":{},\"values\":[\"1\"]}]"), CTL_LOGS_BAD_RESPONSE,
          "error: malformed response: entry 0 of stream 0 is not" },
        { ST("[{\"stream\":{},\"values\":[[\"1.5\",\"x\"]]}]"), CTL_LOGS_BAD_RESPONSE,
          "error: malformed response: entry 0 of stream 0 has a bad timestamp\n" },
        { ST("[{\"stream\":{},\"values\":[[\"99999999999999999999\",\"x\"]]}]"), CTL_LOGS_BAD_RESPONSE,
          "error: malformed response: entry 0 of stream 0 has a bad timestamp\n" },
        { ST("[{\"stream\":{},\"values\":[[\"\",\"x\"]]}]"), CTL_LOGS_BAD_RESPONSE,
          "error: malformed response: entry 0 of stream 0 has a bad timestamp\n" },
        { ST("[{\"stream\":{},\"values\":[]},{\"stream\":{},\"values\":[[\"2\",\"x\"],[\"1\",\"y\"]]}]"),
          CTL_LOGS_BAD_RESPONSE, "error: malformed response: stream 1 is not in ascending time order\n" },
        { ST("[]"), CTL_LOGS_STREAMS, "" },
        /* a third element (categorize-labels metadata) is ignored */
        { ST("[{\"stream\":{\"a\":\"\\u0000\"},\"values\":[[\"-3\",\"x\\u0000y\",{\"parsed\":{}}]]}]"),
          CTL_LOGS_STREAMS, "" },
        { "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]},\"warnings\":[\"w\",1]}",
          CTL_LOGS_METRIC, "warning: w\n" },
        { "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1,\"2\"]}}", CTL_LOGS_METRIC, "" },
    };
    ctl_logs_page_t *p = ctl_logs_page_create();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const parse_case_t *c = &cases[i];
        buf_t err = { 0 };
        ctl_logs_rc_t rc = ctl_logs_page_parse(p, c->json, strlen(c->json), false, &err);
        buf_putc(&err, 0);
        if (rc != c->rc || strncmp((const char *)err.data, c->err, strlen(c->err)) != 0 ||
            (c->rc != CTL_LOGS_BAD_RESPONSE && strcmp((const char *)err.data, c->err) != 0)) {
            fail_msg("case %zu (%s): rc %d want %d, err %s", i, c->json, rc, c->rc, (const char *)err.data);
        }
        if (rc != CTL_LOGS_STREAMS) {
            assert_int_equal(ctl_logs_page_count(p), 0);
        }
        buf_fini(&err);
    }
    ctl_logs_page_destroy(p);
}

/* Every proper prefix of an answer is malformed, never a shorter page. */
static void test_parse_truncated(void **state)
{
    (void)state;
    ctl_logs_page_t *p = ctl_logs_page_create();
    size_t len = strlen(merge_fwd);
    buf_t err = { 0 };
    for (size_t n = 0; n < len; n++) {
        buf_reset(&err);
        if (ctl_logs_page_parse(p, merge_fwd, n, false, &err) != CTL_LOGS_BAD_RESPONSE) {
            fail_msg("prefix of %zu bytes accepted", n);
        }
    }
    assert_int_equal(ctl_logs_page_parse(p, merge_fwd, len, false, &err), CTL_LOGS_STREAMS);
    assert_int_equal(ctl_logs_page_count(p), 8);
    buf_fini(&err);
    ctl_logs_page_destroy(p);
}

/* A page parsed again holds no more memory than the first time: its
 * arrays are reused and the previous tree is freed. */
static void test_page_reuse(void **state)
{
    (void)state;
    ctl_logs_page_t *p = ctl_logs_page_create();
    buf_t err = { 0 };
    assert_int_equal(ctl_logs_page_parse(p, merge_fwd, strlen(merge_fwd), false, &err), CTL_LOGS_STREAMS);
    size_t used = mem_used();
    for (int i = 0; i < 5; i++) {
        buf_reset(&err);
        assert_int_equal(ctl_logs_page_parse(p, merge_fwd, strlen(merge_fwd), false, &err), CTL_LOGS_STREAMS);
        assert_int_equal(mem_used(), used);
    }
    buf_fini(&err);
    ctl_logs_page_destroy(p);
}

/* ---- the stub Loki ---- */

typedef struct stub_entry {
    int stream;
    int64_t ts;
    const char *line;
    int from_req; /* visible from this request on (1-based; 0: always) */
} stub_entry_t;

typedef struct stub_set {
    const char *query;
    const char *streams[3]; /* each stream's labels as JSON */
    const stub_entry_t *e;
    size_t n;
    bool reverse_ties; /* at equal timestamps pick the later streams first */
} stub_set_t;

static const stub_entry_t paging_entries[] = {
    { 0, MS(10), "a1", 0 }, { 0, MS(20), "a2", 0 }, { 0, MS(30), "a3", 0 }, { 0, MS(30), "a3b", 0 },
    { 1, MS(20), "b2", 0 }, { 1, MS(30), "b3", 0 }, { 1, MS(40), "b4", 0 },
};

static const stub_entry_t follow_entries[] = {
    { 0, MS(10), "one", 0 },   { 0, MS(20), "two", 0 },  { 1, MS(20), "two-late", 3 },
    { 0, MS(30), "three", 3 }, { 1, MS(40), "four", 4 },
};

static const stub_set_t stub_sets[] = {
    { "{job=\"paging\"}", { "{\"app\":\"a\"}", "{\"level\":\"info\",\"app\":\"b\"}" }, paging_entries, 7, false },
    { "{job=\"ties\"}", { "{\"app\":\"a\"}", "{\"level\":\"info\",\"app\":\"b\"}" }, paging_entries, 7, true },
    { "{job=\"follow\"}", { "{\"app\":\"a\"}", "{\"app\":\"b\"}" }, follow_entries, 5, false },
};

typedef struct fixture {
    httpd_t *h;
    char base[64];
    pthread_mutex_t mu;
    int requests;     /* answered since the case began */
    int kill_at;      /* SIGTERM the client after answering this request (0: never) */
    pthread_t client; /* the thread running the command */
    buf_t log;        /* "start end limit direction\n" per request, times relative to BASE_NS in ms */
} fixture_t;

/* Entry order of a stub set: by timestamp, then stream, then position. */
static bool stub_before(const stub_set_t *s, size_t a, size_t b, bool backward)
{
    const stub_entry_t *x = &s->e[a], *y = &s->e[b];
    int c = x->ts != y->ts ? (x->ts < y->ts ? -1 : 1) : 0;
    if (c == 0 && x->stream != y->stream) {
        c = (x->stream < y->stream) != s->reverse_ties ? -1 : 1;
    }
    if (c == 0) {
        c = a < b ? -1 : 1;
    }
    return backward ? c > 0 : c < 0;
}

static int64_t stub_i64(http_req_t *req, const char *name, int64_t def)
{
    const char *v = http_req_arg(req, name);
    return v ? strtoll(v, NULL, 10) : def;
}

static void stub_rel(buf_t *b, int64_t ns)
{
    if ((ns - BASE_NS) % 1000000 == 0) {
        buf_printf(b, "%lld", (long long)((ns - BASE_NS) / 1000000));
    } else {
        buf_printf(b, "%lldns", (long long)(ns - BASE_NS));
    }
}

static void stub_answer(fixture_t *f, const stub_set_t *s, http_req_t *req, http_resp_t *resp, int reqno)
{
    int64_t start = stub_i64(req, "start", 0), end = stub_i64(req, "end", 0);
    int64_t limit = stub_i64(req, "limit", 100);
    const char *dir = http_req_arg(req, "direction");
    bool backward = dir && strcmp(dir, "backward") == 0;
    pthread_mutex_lock(&f->mu);
    stub_rel(&f->log, start);
    buf_putc(&f->log, ' ');
    stub_rel(&f->log, end);
    buf_printf(&f->log, " %lld %s\n", (long long)limit, dir ? dir : "-");
    pthread_mutex_unlock(&f->mu);
    size_t pick[16], n = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->e[i].from_req <= reqno && s->e[i].ts >= start && s->e[i].ts < end) {
            size_t k = n++;
            for (; k > 0 && stub_before(s, i, pick[k - 1], backward); k--) {
                pick[k] = pick[k - 1];
            }
            pick[k] = i;
        }
    }
    n = (int64_t)n > limit ? (size_t)limit : n;
    buf_puts(&resp->body, "{\"status\":\"success\",\"data\":{\"resultType\":\"streams\",\"result\":[");
    bool first_stream = true;
    for (int st = 0; st < 3 && s->streams[st]; st++) {
        bool any = false;
        for (size_t k = 0; k < n; k++) {
            const stub_entry_t *e = &s->e[pick[k]];
            if (e->stream != st) {
                continue;
            }
            if (!any) {
                buf_printf(&resp->body, "%s{\"stream\":%s,\"values\":[", first_stream ? "" : ",", s->streams[st]);
                first_stream = false;
            }
            buf_printf(&resp->body, "%s[\"%lld\",\"%s\"]", any ? "," : "", (long long)e->ts, e->line);
            any = true;
        }
        if (any) {
            buf_puts(&resp->body, "]}");
        }
    }
    buf_puts(&resp->body, "],\"stats\":{}}}");
    resp->content_type = "application/json";
}

static void stub_handler(void *ctx, http_req_t *req, http_resp_t *resp)
{
    fixture_t *f = ctx;
    pthread_mutex_lock(&f->mu);
    int reqno = ++f->requests;
    pthread_mutex_unlock(&f->mu);
    const char *q = http_req_arg(req, "query");
    q = q ? q : "";
    if (strcmp(q, "err") == 0) {
        http_resp_text(resp, 400, "parse error at line 1, col 1: syntax error: unexpected IDENTIFIER");
    } else if (strcmp(q, "timeout") == 0) {
        http_resp_text(resp, 504, "request timed out, decrease the duration of the request");
    } else if (strcmp(q, "html") == 0) {
        http_resp_text(resp, 404, "404 page not found");
    } else if (strcmp(q, "junk") == 0) {
        buf_puts(&resp->body, "nope");
    } else if (strcmp(q, "metric") == 0) {
        buf_printf(&resp->body, "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
                                "{\"metric\":{\"app\":\"a\"},\"values\":[[1700000000,\"2\"],[1700000060.5,\"3\"]]}],"
                                "\"stats\":{}},\"warnings\":[\"w\"]}");
    } else {
        for (size_t i = 0; i < sizeof(stub_sets) / sizeof(stub_sets[0]); i++) {
            if (strcmp(q, stub_sets[i].query) == 0) {
                stub_answer(f, &stub_sets[i], req, resp, reqno);
            }
        }
        if (resp->body.len == 0) {
            http_resp_text(resp, 400, "unknown query %s", q);
        }
    }
    if (f->kill_at == reqno) {
        pthread_kill(f->client, SIGTERM);
    }
}

static const httpd_route_t stub_routes[] = {
    { .path = "/loki/api/v1/query_range", .fn = stub_handler },
};

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (!f) {
        return -1;
    }
    pthread_mutex_init(&f->mu, NULL);
    httpd_opts_t o = { .listen = "127.0.0.1:0", .routes = stub_routes, .nroutes = 1, .ctx = f };
    char err[256];
    if (httpd_start(&o, &f->h, err, sizeof(err)) != 0) {
        free(f);
        return -1;
    }
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", (unsigned)httpd_port(f->h));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    httpd_stop(f->h);
    pthread_mutex_destroy(&f->mu);
    buf_fini(&f->log);
    free(f);
    return 0;
}

static int64_t fixed_now(void *ctx)
{
    (void)ctx;
    return NOW_MS;
}

/* ---- whole runs ---- */

typedef struct run_case {
    const char *argv[14]; /* "@URL" becomes the stub's base URL */
    int rc;
    const char *out; /* NULL: not checked */
    bool sorted;     /* compare out's lines as a sorted multiset (paging may order equal timestamps differently) */
    const char *err; /* "@URL" expanded; compared as a prefix when it ends in '*' */
    const char *log; /* the requests made, NULL: not checked */
    int max_polls;
    int kill_at;
} run_case_t;

#define PAGING_OUT                                                                                                     \
    "2023-11-14T22:13:10.010Z {app=\"a\"} a1\n"                                                                        \
    "2023-11-14T22:13:10.020Z {app=\"a\"} a2\n"                                                                        \
    "2023-11-14T22:13:10.020Z {app=\"b\", level=\"info\"} b2\n"                                                        \
    "2023-11-14T22:13:10.030Z {app=\"a\"} a3\n"                                                                        \
    "2023-11-14T22:13:10.030Z {app=\"a\"} a3b\n"                                                                       \
    "2023-11-14T22:13:10.030Z {app=\"b\", level=\"info\"} b3\n"                                                        \
    "2023-11-14T22:13:10.040Z {app=\"b\", level=\"info\"} b4\n"

#define FOLLOW_OUT                                                                                                     \
    "2023-11-14T22:13:10.010Z {app=\"a\"} one\n"                                                                       \
    "2023-11-14T22:13:10.020Z {app=\"a\"} two\n"                                                                       \
    "2023-11-14T22:13:10.020Z {app=\"b\"} two-late\n"                                                                  \
    "2023-11-14T22:13:10.030Z {app=\"a\"} three\n"                                                                     \
    "2023-11-14T22:13:10.040Z {app=\"b\"} four\n"

/* The range of --since 1h before NOW, relative to BASE_NS in ms. */
#define RANGE "-3590000 10000"

static const run_case_t run_cases[] = {
    /* one page */
    { { "logs", "--url", "@URL", "{job=\"paging\"}" }, CTL_EXIT_OK, PAGING_OUT, false, "", RANGE " 1000 forward\n" },
    /* paging: the first page ends inside a run of equal timestamps, the next ones start at it */
    { { "logs", "--url", "@URL", "--batch=2", "{job=\"paging\"}" },
      CTL_EXIT_OK,
      PAGING_OUT,
      false,
      "",
      RANGE " 2 forward\n20 10000 3 forward\n30 10000 3 forward\n30 10000 5 forward\n" },
    { { "logs", "--url", "@URL", "--batch", "1", "{job=\"paging\"}" }, CTL_EXIT_OK, PAGING_OUT, false, "", NULL },
    { { "logs", "--url", "@URL", "--batch", "3", "{job=\"paging\"}" }, CTL_EXIT_OK, PAGING_OUT, false, "", NULL },
    /* the server cuts pages between equal timestamps in another stream order */
    { { "logs", "--url", "@URL", "--batch=2", "{job=\"ties\"}" }, CTL_EXIT_OK, PAGING_OUT, true, "", NULL },
    { { "logs", "--url", "@URL", "--batch=1", "{job=\"ties\"}" }, CTL_EXIT_OK, PAGING_OUT, true, "", NULL },
    /* newest first, paging by end */
    { { "logs", "--url", "@URL", "--direction=backward", "--output=raw", "{job=\"paging\"}" },
      CTL_EXIT_OK,
      "b4\na3b\na3\nb3\na2\nb2\na1\n",
      false,
      "",
      RANGE " 1000 backward\n" },
    { { "logs", "--url", "@URL", "--direction=backward", "--batch=2", "--output=raw", "{job=\"paging\"}" },
      CTL_EXIT_OK,
      "b4\nb3\na3b\na3\na2\nb2\na1\n",
      false,
      "",
      RANGE " 2 backward\n-3590000 30000001ns 3 backward\n-3590000 30000001ns 5 backward\n"
            "-3590000 20000001ns 4 backward\n" },
    /* --limit stops inside the range and says so */
    { { "logs", "--url", "@URL", "--limit", "3", "--batch=2", "--no-labels", "{job=\"paging\"}" },
      CTL_EXIT_OK,
      "2023-11-14T22:13:10.010Z a1\n2023-11-14T22:13:10.020Z a2\n2023-11-14T22:13:10.020Z b2\n",
      false,
      "note: stopped at --limit 3 lines; the range may hold more\n",
      RANGE " 2 forward\n20 10000 2 forward\n" },
    { { "logs", "--url", "@URL", "--limit=7", "--output=raw", "{job=\"paging\"}" },
      CTL_EXIT_OK,
      "a1\na2\nb2\na3\na3b\nb3\nb4\n",
      false,
      "note: stopped at --limit 7 lines; the range may hold more\n",
      RANGE " 7 forward\n" },
    { { "logs", "--url", "@URL", "--output", "jsonl", "--start", "2023-11-14T22:13:10.015Z", "--end",
        "2023-11-14T22:13:10.031Z", "{job=\"paging\"}" },
      CTL_EXIT_OK,
      "{\"ts\":\"2023-11-14T22:13:10.020000000Z\",\"labels\":{\"app\":\"a\"},\"line\":\"a2\"}\n"
      "{\"ts\":\"2023-11-14T22:13:10.020000000Z\",\"labels\":{\"level\":\"info\",\"app\":\"b\"},\"line\":\"b2\"}\n"
      "{\"ts\":\"2023-11-14T22:13:10.030000000Z\",\"labels\":{\"app\":\"a\"},\"line\":\"a3\"}\n"
      "{\"ts\":\"2023-11-14T22:13:10.030000000Z\",\"labels\":{\"app\":\"a\"},\"line\":\"a3b\"}\n"
      "{\"ts\":\"2023-11-14T22:13:10.030000000Z\",\"labels\":{\"level\":\"info\",\"app\":\"b\"},\"line\":\"b3\"}\n",
      false,
      "",
      "15 31 1000 forward\n" },
    { { "logs", "--url", "@URL", "--since=5m", "--end=-9980ms", "{job=\"paging\"}" },
      CTL_EXIT_OK,
      "2023-11-14T22:13:10.010Z {app=\"a\"} a1\n",
      false,
      "",
      "-299980 20 1000 forward\n" },
    /* --follow: the range, then polls from the last line printed */
    { { "logs", "--url", "@URL", "-f", "--interval=5ms", "{job=\"follow\"}" },
      CTL_EXIT_OK,
      FOLLOW_OUT,
      false,
      "",
      RANGE " 1000 forward\n20 10000 1001 forward\n20 10000 1001 forward\n30 10000 1001 forward\n",
      3 },
    { { "logs", "--url", "@URL", "--follow", "--interval=5ms", "--batch=1", "{job=\"follow\"}" },
      CTL_EXIT_OK,
      FOLLOW_OUT,
      false,
      "",
      NULL,
      6 },
    /* ... stopped by SIGTERM instead */
    { { "logs", "--url", "@URL", "-f", "--interval=5ms", "{job=\"follow\"}" },
      CTL_EXIT_OK,
      FOLLOW_OUT,
      false,
      "",
      RANGE " 1000 forward\n20 10000 1001 forward\n20 10000 1001 forward\n30 10000 1001 forward\n",
      100,
      4 },
    /* --limit cut the range: following resumes at its end */
    { { "logs", "--url", "@URL", "-f", "--interval=5ms", "--limit=1", "--output=raw", "{job=\"follow\"}" },
      CTL_EXIT_OK,
      "one\n",
      false,
      "note: stopped at --limit 1 lines; the range may hold more (not shown: following from the end of the range)\n",
      RANGE " 1 forward\n",
      2 },
    /* metric queries print as query-range does */
    { { "logs", "--url", "@URL", "metric" },
      CTL_EXIT_OK,
      "{app=\"a\"}\n2023-11-14T22:13:20.000Z  2\n2023-11-14T22:14:20.500Z  3\n",
      false,
      "warning: w\n",
      NULL },
    { { "logs", "--url", "@URL", "--step=1m", "-f", "metric" },
      CTL_EXIT_OK,
      NULL,
      false,
      "warning: w\nnote: --follow applies to log queries only\n",
      NULL,
      3 },
    { { "logs", "--url", "@URL", "--output=jsonl", "metric" }, CTL_EXIT_OK, NULL, false, "warning: w\n", NULL },
    /* the server's errors */
    { { "logs", "--url", "@URL", "err" },
      CTL_EXIT_QUERY,
      "",
      false,
      "error: parse error at line 1, col 1: syntax error: unexpected IDENTIFIER\n",
      NULL },
    { { "logs", "--url", "@URL", "-f", "timeout" },
      CTL_EXIT_QUERY,
      "",
      false,
      "error: request timed out, decrease the duration of the request\n",
      NULL },
    { { "logs", "--url", "@URL", "html" },
      CTL_EXIT_QUERY,
      "",
      false,
      "error: @URL/loki/api/v1/query_range answered HTTP 404: 404 page not found\n",
      NULL },
    { { "logs", "--url", "@URL", "junk" },
      CTL_EXIT_QUERY,
      "",
      false,
      "error: malformed response: invalid JSON*",
      NULL },
    { { "logs", "--url", "http://127.0.0.1:1", "{job=\"paging\"}" },
      CTL_EXIT_UNREACHABLE,
      "",
      false,
      "error: cannot reach http://127.0.0.1:1/loki/api/v1/query_range: *",
      NULL },
    /* usage: nothing is sent */
    { { "logs", "--url", "@URL" }, CTL_EXIT_USAGE, "", false, "pharosctl logs: missing QUERY\n*", "" },
    { { "logs", "--url", "@URL", "a", "b" }, CTL_EXIT_USAGE, "", false, "pharosctl logs: more than one QUERY*", "" },
    { { "logs", "--url", "@URL", "--start", "soon", "x" },
      CTL_EXIT_USAGE,
      "",
      false,
      "pharosctl logs: flag --start: invalid time \"soon\"*",
      "" },
    { { "logs", "--url", "@URL", "--start", "9000000000000", "x" },
      CTL_EXIT_USAGE,
      "",
      false,
      "pharosctl logs: flag --start: time \"9000000000000\" is out of range*",
      "" },
    { { "logs", "--url", "@URL", "--start", "-1h", "--end", "-2h", "x" },
      CTL_EXIT_USAGE,
      "",
      false,
      "pharosctl logs: --end is before --start\n*",
      "" },
    { { "logs", "--url", "@URL", "--batch", "5001", "x" },
      CTL_EXIT_USAGE,
      "",
      false,
      "pharosctl logs: flag --batch: *",
      "" },
    { { "logs", "--url", "@URL", "--limit", "0", "x" },
      CTL_EXIT_USAGE,
      "",
      false,
      "pharosctl logs: flag --limit: *",
      "" },
    { { "logs", "--url", "@URL", "--output", "xml", "x" },
      CTL_EXIT_USAGE,
      "",
      false,
      "pharosctl logs: flag --output: *",
      "" },
    { { "logs", "--url", "@URL", "--step", "0", "x" },
      CTL_EXIT_USAGE,
      "",
      false,
      "pharosctl logs: flag --step: invalid step \"0\"*",
      "" },
    { { "logs", "--url", "@URL", "-f", "--direction=backward", "x" },
      CTL_EXIT_USAGE,
      "",
      false,
      "pharosctl logs: --follow reads forward*",
      "" },
    { { "logs", "--url", "@URL", "-x", "x" }, CTL_EXIT_USAGE, "", false, "pharosctl logs: unknown flag -x\n*", "" },
    { { "logs", "--url", "ftp://x", "x" },
      CTL_EXIT_USAGE,
      "",
      false,
      "pharosctl logs: flag --url: want http://host:port or https://host:port, got \"ftp://x\"\n*",
      "" },
};

/* s with every "@URL" replaced by base, into out. */
static void expand(const char *s, const char *base, buf_t *out)
{
    buf_reset(out);
    for (const char *p = s; *p;) {
        if (strncmp(p, "@URL", 4) == 0) {
            buf_puts(out, base);
            p += 4;
        } else {
            buf_putc(out, (uint8_t)*p++);
        }
    }
    buf_putc(out, 0);
    out->len--;
}

static int cmp_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* s's lines sorted, joined again. */
static void sort_lines(const char *s, buf_t *out)
{
    char *copy = strdup(s);
    char *lines[64];
    size_t n = 0;
    for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l && n < 64; l = strtok_r(NULL, "\n", &save)) {
        lines[n++] = l;
    }
    qsort(lines, n, sizeof(lines[0]), cmp_lines);
    buf_reset(out);
    for (size_t i = 0; i < n; i++) {
        buf_printf(out, "%s\n", lines[i]);
    }
    buf_putc(out, 0);
    free(copy);
}

static void run_one(fixture_t *f, size_t i, const run_case_t *c)
{
    buf_t args[14] = { 0 };
    char *argv[14] = { 0 };
    int argc = 0;
    for (; c->argv[argc]; argc++) {
        expand(c->argv[argc], f->base, &args[argc]);
        argv[argc] = (char *)args[argc].data;
    }
    pthread_mutex_lock(&f->mu);
    f->requests = 0;
    f->kill_at = c->kill_at;
    f->client = pthread_self();
    buf_reset(&f->log);
    pthread_mutex_unlock(&f->mu);
    char *out = NULL, *err = NULL;
    size_t outlen = 0, errlen = 0;
    ctl_env_t env = {
        .out = open_memstream(&out, &outlen),
        .err = open_memstream(&err, &errlen),
        .clock = { .now_ms = fixed_now },
        .max_polls = c->max_polls,
    };
    int rc = ctl_logs_run(&env, argc, argv);
    fclose(env.out);
    fclose(env.err);
    buf_t want_err = { 0 }, got_sorted = { 0 }, want_sorted = { 0 };
    expand(c->err, f->base, &want_err);
    bool prefix = want_err.len > 0 && want_err.data[want_err.len - 1] == '*';
    size_t cmp = prefix ? want_err.len - 1 : want_err.len + 1;
    bool out_ok = !c->out || strcmp(out, c->out) == 0;
    if (c->out && c->sorted) {
        sort_lines(out, &got_sorted);
        sort_lines(c->out, &want_sorted);
        out_ok = strcmp((const char *)got_sorted.data, (const char *)want_sorted.data) == 0;
    }
    pthread_mutex_lock(&f->mu);
    buf_putc(&f->log, 0);
    f->log.len--;
    bool log_ok = !c->log || strcmp((const char *)f->log.data, c->log) == 0;
    pthread_mutex_unlock(&f->mu);
    if (rc != c->rc || !out_ok || strncmp(err, (const char *)want_err.data, cmp) != 0 || !log_ok) {
        fail_msg("case %zu (%s): rc %d want %d\nout: %s\nwant: %s\nerr: %s\nwant: %s\nrequests:\n%s\nwant:\n%s", i,
                 argv[argc - 1], rc, c->rc, out, c->out ? c->out : "(any)", err, (const char *)want_err.data,
                 (const char *)f->log.data, c->log ? c->log : "(any)");
    }
    buf_fini(&want_sorted);
    buf_fini(&got_sorted);
    buf_fini(&want_err);
    free(out);
    free(err);
    for (int k = 0; k < argc; k++) {
        buf_fini(&args[k]);
    }
}

static void test_run(void **state)
{
    fixture_t *f = *state;
    for (size_t i = 0; i < sizeof(run_cases) / sizeof(run_cases[0]); i++) {
        run_one(f, i, &run_cases[i]);
    }
}

/* Ordered output at equal timestamps in a paged "ties" run: whatever the
 * server's cut, timestamps never go back. */
static void test_run_monotonic(void **state)
{
    fixture_t *f = *state;
    static const run_case_t c = {
        { "logs", "--url", "@URL", "--batch=2", "{job=\"ties\"}" }, CTL_EXIT_OK, NULL, false, "", NULL
    };
    char *out = NULL;
    size_t outlen = 0;
    buf_t a[5] = { 0 };
    char *argv[5];
    for (int k = 0; k < 5; k++) {
        expand(c.argv[k], f->base, &a[k]);
        argv[k] = (char *)a[k].data;
    }
    ctl_env_t env = { .out = open_memstream(&out, &outlen), .err = stderr, .clock = { .now_ms = fixed_now } };
    assert_int_equal(ctl_logs_run(&env, 5, argv), CTL_EXIT_OK);
    fclose(env.out);
    const char *prev = "";
    for (const char *l = out; *l; l = strchr(l, '\n') + 1) {
        assert_true(strncmp(prev, l, 24) <= 0);
        prev = l;
    }
    free(out);
    for (int k = 0; k < 5; k++) {
        buf_fini(&a[k]);
    }
}

static void *json_alloc(size_t n)
{
    return mem_alloc(n);
}

static void json_free(void *p)
{
    mem_free(p);
}

int main(void)
{
    json_set_alloc_funcs(json_alloc, json_free); /* as pharosctl does, so mem_used() sees the trees */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_parse_hostile),
        cmocka_unit_test(test_parse_truncated),
        cmocka_unit_test(test_page_reuse),
        cmocka_unit_test_setup_teardown(test_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_monotonic, setup, teardown),
    };
    return cmocka_run_group_tests_name("ctl_logs", tests, NULL, NULL);
}

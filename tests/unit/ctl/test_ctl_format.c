/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for ctl/ctl_format.c: one table of Prometheus API answers (vector,
 * matrix, scalar, string, empty results, error envelopes, warnings and
 * infos, label escaping and quoting, NaN/±Inf, native histograms) with the
 * exact stdout and stderr text in table and JSON mode; then malformed
 * answers by name (each must say "malformed response" and print nothing on
 * stdout), every truncation of a valid answer, and hostile bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <stdio.h>

#include "common/buf.h"
#include "ctl/ctl.h"

typedef struct fmt_case {
    const char *name;
    const char *json;
    bool table;
    ctl_format_rc_t rc;
    const char *out;
    const char *err;
} fmt_case_t;

#define OK_ CTL_FORMAT_OK
#define QERR CTL_FORMAT_QUERY_ERROR

#define VEC_UP                                                                                                         \
    "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["                                         \
    "{\"metric\":{\"__name__\":\"up\",\"job\":\"node\",\"instance\":\"a:9100\"},\"value\":[1700000000,\"1\"]},"        \
    "{\"metric\":{\"__name__\":\"up\",\"job\":\"x\"},\"value\":[1700000000.5,\"0\"]}]}}"

#define MATRIX                                                                                                         \
    "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["                                         \
    "{\"metric\":{\"__name__\":\"rate\",\"code\":\"200\"},\"values\":[[1700000000,\"1.5\"],[1700000015.25,\"2\"]]},"   \
    "{\"metric\":{\"code\":\"500\"},\"values\":[[1700000000,\"NaN\"]]}]}}"

#define ERR_BAD_DATA "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"1:5: parse error: unclosed\"}"

#define HIST                                                                                                           \
    "{\"count\":\"4\",\"sum\":\"10.5\",\"buckets\":[[0,\"-1\",\"1\",\"1\"],[1,\"1\",\"2\",\"1\"],[2,\"2\",\"4\","      \
    "\"1\"],[3,\"4\",\"4\",\"1\"]]}"

static const fmt_case_t cases[] = {
    { "vector", VEC_UP, true, OK_,
      "SERIES                             VALUE\n"
      "up{instance=\"a:9100\", job=\"node\"}  1\n"
      "up{job=\"x\"}                        0\n",
      "" },
    { "vector json", VEC_UP, false, OK_, VEC_UP "\n", "" },
    { "json keeps a final newline", "{\"status\":\"success\",\"data\":{}}\n", false, OK_,
      "{\"status\":\"success\",\"data\":{}}\n", "" },
    { "matrix", MATRIX, true, OK_,
      "rate{code=\"200\"}\n"
      "2023-11-14T22:13:20.000Z  1.5\n"
      "2023-11-14T22:13:35.250Z  2\n"
      "\n"
      "{code=\"500\"}\n"
      "2023-11-14T22:13:20.000Z  NaN\n",
      "" },
    { "scalar", "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1700000000,\"2.5\"]}}", true,
      OK_, "2.5\n", "" },
    { "string",
      "{\"status\":\"success\",\"data\":{\"resultType\":\"string\",\"result\":[1700000000,\"say \\\"hi\\\"\"]}}", true,
      OK_, "say \"hi\"\n", "" },
    { "empty vector", "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}", true, OK_, "",
      "" },
    { "empty matrix", "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}", true, OK_, "",
      "" },
    { "error", ERR_BAD_DATA, true, QERR, "", "error (bad_data): 1:5: parse error: unclosed\n" },
    { "error json", "{\"status\":\"error\",\"errorType\":\"timeout\",\"error\":\"query timed out\"}", false, QERR,
      "{\"status\":\"error\",\"errorType\":\"timeout\",\"error\":\"query timed out\"}\n",
      "error (timeout): query timed out\n" },
    { "error without type", "{\"status\":\"error\",\"error\":\"boom\"}", true, QERR, "", "error: boom\n" },
    { "error without message", "{\"status\":\"error\",\"errorType\":\"internal\"}", true, QERR, "",
      "error (internal): (no error message)\n" },
    { "error with warnings",
      "{\"status\":\"error\",\"errorType\":\"execution\",\"error\":\"too many samples\",\"warnings\":[\"w\"]}", true,
      QERR, "", "warning: w\nerror (execution): too many samples\n" },
    { "warnings and infos",
      "{\"status\":\"success\",\"warnings\":[\"PromQL warning: a\",\"b\"],\"infos\":[\"PromQL info: c\"],"
      "\"data\":{\"resultType\":\"scalar\",\"result\":[1,\"1\"]}}",
      true, OK_, "1\n", "warning: PromQL warning: a\nwarning: b\ninfo: PromQL info: c\n" },
    { "warnings in json mode",
      "{\"status\":\"success\",\"warnings\":[\"w\"],\"data\":{\"resultType\":\"scalar\",\"result\":[1,\"1\"]}}", false,
      OK_, "{\"status\":\"success\",\"warnings\":[\"w\"],\"data\":{\"resultType\":\"scalar\",\"result\":[1,\"1\"]}}\n",
      "warning: w\n" },
    { "label escaping",
      "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
      "{\"metric\":{\"__name__\":\"m\",\"a\":\"x\\\"y\\\\z\\nw\\t\",\"b\":\"caf\\u00e9\",\"c\":\"n\\u0000l\"},"
      "\"value\":[1,\"1\"]},"
      "{\"metric\":{\"b\":\"\\u00e9\\u00e9\"},\"value\":[1,\"2\"]}]}}",
      true, OK_,
      "SERIES                                     VALUE\n"
      "m{a=\"x\\\"y\\\\z\\nw\\t\", b=\"caf\xc3\xa9\", c=\"n\\x00l\"}  1\n"
      "{b=\"\xc3\xa9\xc3\xa9\"}                                   2\n",
      "" },
    { "quoted names",
      "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
      "{\"metric\":{\"__name__\":\"my.metric\",\"some.label\":\"v\",\"ok\":\"w\"},\"value\":[1,\"1\"]},"
      "{\"metric\":{\"__name__\":\"only.name\"},\"value\":[1,\"2\"]},"
      "{\"metric\":{\"__name__\":\"name_only\"},\"value\":[1,\"3\"]},"
      "{\"metric\":{},\"value\":[1,\"4\"]}]}}",
      true, OK_,
      "SERIES                                   VALUE\n"
      "{\"my.metric\", ok=\"w\", \"some.label\"=\"v\"}  1\n"
      "{\"only.name\"}                            2\n"
      "name_only                                3\n"
      "{}                                       4\n",
      "" },
    { "special values",
      "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
      "{\"metric\":{\"v\":\"nan\"},\"value\":[1,\"NaN\"]},{\"metric\":{\"v\":\"inf\"},\"value\":[1,\"+Inf\"]},"
      "{\"metric\":{\"v\":\"-inf\"},\"value\":[1,\"-Inf\"]},{\"metric\":{\"v\":\"tiny\"},\"value\":[1,\"1e-300\"]}]}}",
      true, OK_,
      "SERIES      VALUE\n"
      "{v=\"nan\"}   NaN\n"
      "{v=\"inf\"}   +Inf\n"
      "{v=\"-inf\"}  -Inf\n"
      "{v=\"tiny\"}  1e-300\n",
      "" },
    { "vector histogram",
      "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
      "{\"metric\":{\"__name__\":\"h\"},\"histogram\":[1," HIST "]}]}}",
      true, OK_, "SERIES  VALUE\nh       {count:4, sum:10.5, (-1,1]:1, [1,2):1, (2,4):1, [4,4]:1}\n", "" },
    { "matrix floats and histograms merged",
      "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
      "{\"metric\":{\"__name__\":\"h\"},\"values\":[[1,\"1\"],[3,\"3\"]],"
      "\"histograms\":[[2,{\"count\":\"2\",\"sum\":\"2\"}],[4,{\"count\":\"4\",\"sum\":\"4\"}]]}]}}",
      true, OK_,
      "h\n"
      "1970-01-01T00:00:01.000Z  1\n"
      "1970-01-01T00:00:02.000Z  {count:2, sum:2}\n"
      "1970-01-01T00:00:03.000Z  3\n"
      "1970-01-01T00:00:04.000Z  {count:4, sum:4}\n",
      "" },
    { "negative timestamp",
      "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
      "{\"metric\":{},\"values\":[[-1.5,\"7\"]]}]}}",
      true, OK_, "{}\n1969-12-31T23:59:58.500Z  7\n", "" },
    { "json mode does not check data", "{\"status\":\"success\",\"data\":{\"resultType\":\"bogus\"}}", false, OK_,
      "{\"status\":\"success\",\"data\":{\"resultType\":\"bogus\"}}\n", "" },
};

static void check_case(const fmt_case_t *c)
{
    buf_t out = { 0 }, err = { 0 };
    ctl_format_rc_t rc = ctl_format_result(c->json, strlen(c->json), c->table, &out, &err);
    const char *o = out.data ? (const char *)out.data : "";
    const char *e = err.data ? (const char *)err.data : "";
    if (rc != c->rc || strcmp(o, c->out) != 0 || strcmp(e, c->err) != 0) {
        fail_msg("%s: rc %d (want %d)\nout:\n%s\nwant out:\n%s\nerr:\n%s\nwant err:\n%s", c->name, rc, c->rc, o, c->out,
                 e, c->err);
    }
    buf_fini(&out);
    buf_fini(&err);
}

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        check_case(&cases[i]);
    }
}

typedef struct bad_case {
    const char *name;
    const char *json;
    size_t len;       /* 0: strlen */
    const char *want; /* the error line, after "error: malformed response: " */
} bad_case_t;

#define SUCCESS(data) "{\"status\":\"success\",\"data\":" data "}"
#define VECTOR(res) SUCCESS("{\"resultType\":\"vector\",\"result\":" res "}")

static const bad_case_t bad_cases[] = {
    { "empty", "", 0, "invalid JSON at line 1 column " },
    { "garbage", "<html>404</html>", 0, "invalid JSON at line 1 column 1" },
    { "open brace", "{", 0, "invalid JSON at line 1 column " },
    { "top-level array", "[]", 0, "no \"status\" of \"success\" or \"error\"" },
    { "no status", "{\"data\":{}}", 0, "no \"status\" of \"success\" or \"error\"" },
    { "unknown status", "{\"status\":\"ok\"}", 0, "no \"status\" of \"success\" or \"error\"" },
    { "status not a string", "{\"status\":1}", 0, "no \"status\" of \"success\" or \"error\"" },
    { "no data", "{\"status\":\"success\"}", 0, "no \"data\" with \"resultType\" and \"result\"" },
    { "no result", SUCCESS("{\"resultType\":\"vector\"}"), 0, "no \"data\" with \"resultType\" and \"result\"" },
    { "unknown type", SUCCESS("{\"resultType\":\"tensor\",\"result\":[]}"), 0, "unknown resultType \"tensor\"" },
    { "vector not array", VECTOR("{}"), 0, "vector result is not an array" },
    { "element not object", VECTOR("[1]"), 0, "not a series (vector element 0)" },
    { "no metric", VECTOR("[{\"value\":[1,\"1\"]}]"), 0, "\"metric\" is not an object (vector element 0)" },
    { "label not string", VECTOR("[{\"metric\":{\"a\":1},\"value\":[1,\"1\"]}]"), 0,
      "label a is not a string (vector element 0)" },
    { "no value", VECTOR("[{\"metric\":{}}]"), 0, "no value (vector element 0)" },
    { "value not pair", VECTOR("[{\"metric\":{},\"value\":[1]}]"), 0, "a sample is not [timestamp, value]" },
    { "value number", VECTOR("[{\"metric\":{},\"value\":[1,1]}]"), 0, "a sample value is not a string" },
    { "timestamp string", VECTOR("[{\"metric\":{},\"value\":[\"1\",\"1\"]}]"), 0,
      "a sample is not [timestamp, value]" },
    { "timestamp huge", VECTOR("[{\"metric\":{},\"value\":[1e300,\"1\"]}]"), 0, "a sample timestamp is out of range" },
    { "bad histogram", VECTOR("[{\"metric\":{},\"histogram\":[1,{\"count\":\"1\"}]}]"), 0,
      "histogram has no string \"sum\" (vector element 0)" },
    { "bad bucket",
      VECTOR("[{\"metric\":{},\"histogram\":[1,{\"count\":\"1\",\"sum\":\"1\",\"buckets\":[[9,\"\",\"\","
             "\"\"]]}]}]"),
      0, "histogram bucket is not [rule, lower, upper, count] (vector element 0)" },
    { "matrix no values", SUCCESS("{\"resultType\":\"matrix\",\"result\":[{\"metric\":{}}]}"), 0,
      "no \"values\" array (matrix element 0)" },
    { "matrix bad sample",
      SUCCESS("{\"resultType\":\"matrix\",\"result\":[{\"metric\":{},\"values\":[[1,\"1\"],[2]]}]}"), 0,
      "a sample is not [timestamp, value] (matrix element 0)" },
    { "scalar not array", SUCCESS("{\"resultType\":\"scalar\",\"result\":\"1\"}"), 0,
      "a sample is not [timestamp, value]" },
    { "NUL outside strings", "{\"status\":\"success\"\0}", 21, "invalid JSON at line 1 column " },
    { "DEL", "{\"status\":\x7f}", 0, "invalid JSON at line 1 column " },
    { "trailing junk", "{\"status\":\"error\"} x", 0, "invalid JSON at line 1 column " },
};

static void test_malformed(void **state)
{
    (void)state;
    const char prefix[] = "error: malformed response: ";
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const bad_case_t *c = &bad_cases[i];
        size_t len = c->len ? c->len : strlen(c->json);
        for (int table = 0; table < 2; table++) {
            buf_t out = { 0 }, err = { 0 };
            ctl_format_rc_t rc = ctl_format_result(c->json, len, table, &out, &err);
            const char *e = err.data ? (const char *)err.data : "";
            bool structural = strncmp(c->want, "invalid JSON", 12) != 0 && strncmp(c->want, "no \"status\"", 11) != 0;
            if (!table && structural) {
                /* JSON mode passes a well-formed envelope through unchecked. */
                assert_int_equal(rc, CTL_FORMAT_OK);
            } else if (rc != CTL_FORMAT_BAD_RESPONSE || out.len != 0 || strncmp(e, prefix, sizeof(prefix) - 1) != 0 ||
                       strncmp(e + sizeof(prefix) - 1, c->want, strlen(c->want)) != 0 || e[err.len - 1] != '\n') {
                fail_msg("%s (table %d): rc %d, out %zu bytes, err %s", c->name, table, rc, out.len, e);
            }
            buf_fini(&out);
            buf_fini(&err);
        }
    }
}

/* Every proper prefix of valid answers is malformed and prints nothing. */
static void test_truncations(void **state)
{
    (void)state;
    const char *const valid[] = { VEC_UP, MATRIX, ERR_BAD_DATA };
    for (size_t v = 0; v < sizeof(valid) / sizeof(valid[0]); v++) {
        size_t n = strlen(valid[v]);
        for (size_t len = 0; len < n; len++) {
            buf_t out = { 0 }, err = { 0 };
            ctl_format_rc_t rc = ctl_format_result(valid[v], len, len % 2 == 0, &out, &err);
            if (rc != CTL_FORMAT_BAD_RESPONSE || out.len != 0 || err.len == 0) {
                fail_msg("answer %zu cut at %zu: rc %d, out %zu bytes", v, len, rc, out.len);
            }
            buf_fini(&out);
            buf_fini(&err);
        }
    }
}

/* Deep nesting and a long series: errors or output, never a crash. */
static void test_hostile(void **state)
{
    (void)state;
    buf_t doc = { 0 }, out = { 0 }, err = { 0 };
    for (int i = 0; i < 100000; i++) {
        buf_putc(&doc, '[');
    }
    assert_int_equal(ctl_format_result((const char *)doc.data, doc.len, true, &out, &err), CTL_FORMAT_BAD_RESPONSE);
    assert_int_equal(out.len, 0);

    buf_reset(&doc);
    buf_reset(&err);
    buf_puts(&doc,
             "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":{},\"values\":[");
    for (int i = 0; i < 5000; i++) {
        buf_printf(&doc, "%s[%d,\"%d\"]", i ? "," : "", i, i);
    }
    buf_puts(&doc, "]}]}}");
    assert_int_equal(ctl_format_result((const char *)doc.data, doc.len, true, &out, &err), CTL_FORMAT_OK);
    size_t lines = 0;
    for (size_t i = 0; i < out.len; i++) {
        lines += out.data[i] == '\n';
    }
    assert_int_equal(lines, 5001);
    assert_int_equal(err.len, 0);
    buf_fini(&doc);
    buf_fini(&out);
    buf_fini(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests_name("ctl_format", tests, NULL, NULL);
}

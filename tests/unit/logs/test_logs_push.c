/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_logs_push: logs/logs_push*.c and logs/logs_selector.c.
 *
 * Table-driven: protobuf cases are built with protoc-c (pack + snappy),
 * JSON cases are literal bodies; each names the rule it exercises and the
 * exact reason expected. Then truncation of valid bodies at every byte,
 * gzip/deflate, and named hostile inputs (huge lengths, bad wire types,
 * NUL bytes, invalid UTF-8, overflowing timestamps). The clock is fixed at
 * 2023-11-14T22:13:20Z with a 1 h past / 10 min future window.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/compress.h"
#include "logs/logs.h"
#include "proto/push.pb-c.h"

#define NOW_NS 1700000000000000000LL
#define SEC 1000000000LL

static const logs_push_limits_t LIM = {
    .max_line_bytes = 64,
    .max_labels = 3,
    .max_label_name_len = 16,
    .max_label_value_len = 32,
    .reject_older_than_ns = 3600 * SEC,
    .reject_newer_than_ns = 600 * SEC,
    .max_decoded_bytes = 1 << 20,
};

typedef struct tentry {
    int64_t sec;
    int32_t nanos;
    const char *line;
    const char *meta_name, *meta_value; /* one metadata pair or NULL */
} tentry_t;

typedef struct tstream {
    const char *labels;
    tentry_t e[3];
    size_t ne;
} tstream_t;

/* Pack streams as a PushRequest, snappy-compressed into out. */
static void pb_body(const tstream_t *ss, size_t n, buf_t *out)
{
    Logproto__StreamAdapter sa[4], *sp[4];
    Logproto__EntryAdapter ea[4][3], *ep[4][3];
    Logproto__Timestamp ts[4][3];
    Logproto__LabelPairAdapter lp[4][3], *lpp[4][3];
    assert_true(n <= 4);
    for (size_t i = 0; i < n; i++) {
        sa[i] = (Logproto__StreamAdapter)LOGPROTO__STREAM_ADAPTER__INIT;
        sa[i].labels = (char *)ss[i].labels;
        for (size_t j = 0; j < ss[i].ne; j++) {
            const tentry_t *t = &ss[i].e[j];
            ts[i][j] = (Logproto__Timestamp)LOGPROTO__TIMESTAMP__INIT;
            ts[i][j].seconds = t->sec;
            ts[i][j].nanos = t->nanos;
            ea[i][j] = (Logproto__EntryAdapter)LOGPROTO__ENTRY_ADAPTER__INIT;
            ea[i][j].timestamp = &ts[i][j];
            ea[i][j].line = (char *)t->line;
            if (t->meta_name) {
                lp[i][j] = (Logproto__LabelPairAdapter)LOGPROTO__LABEL_PAIR_ADAPTER__INIT;
                lp[i][j].name = (char *)t->meta_name;
                lp[i][j].value = (char *)t->meta_value;
                lpp[i][j] = &lp[i][j];
                ea[i][j].n_structuredmetadata = 1;
                ea[i][j].structuredmetadata = &lpp[i][j];
            }
            ep[i][j] = &ea[i][j];
        }
        sa[i].n_entries = ss[i].ne;
        sa[i].entries = ep[i];
        sp[i] = &sa[i];
    }
    Logproto__PushRequest req = LOGPROTO__PUSH_REQUEST__INIT;
    req.n_streams = n;
    req.streams = sp;
    uint8_t raw[8192];
    assert_true(logproto__push_request__get_packed_size(&req) <= sizeof(raw));
    size_t len = logproto__push_request__pack(&req, raw);
    compress_snappy(raw, len, out);
}

typedef struct pcase {
    const char *name;
    tstream_t s[3];
    size_t ns;
    size_t want_streams, want_entries, rej_streams, rej_entries;
    const char *want_err;
} pcase_t;

#define T0 (NOW_NS / SEC)
#define E(line)                                                                                                        \
    {                                                                                                                  \
        T0, 0, line, NULL, NULL                                                                                        \
    }

static const pcase_t PB_CASES[] = {
    { "basic", { { "{job=\"x\", unit=\"y\"}", { E("a"), E("b") }, 2 } }, 1, 1, 2, 0, 0, "" },
    { "no labels", { { "{}", { E("a") }, 1 } }, 1, 0, 0, 1, 1, "error at least one label pair is required per stream" },
    { "only empty values",
      { { "{a=\"\"}", { E("a") }, 1 } },
      1,
      0,
      0,
      1,
      1,
      "error at least one label pair is required per stream" },
    { "unquoted value",
      { { "{job=x}", { E("a") }, 1 } },
      1,
      0,
      0,
      1,
      1,
      "Error parsing labels '{job=x}' with error: parse error at line 1, col 6: syntax error: unexpected "
      "character, expecting a string" },
    { "regex matcher",
      { { "{job=~\"x\"}", { E("a") }, 1 } },
      1,
      0,
      0,
      1,
      1,
      "Error parsing labels '{job=~\"x\"}' with error: parse error at line 1, col 5: syntax error: unexpected "
      "character, expecting =" },
    { "bad name",
      { { "{1a=\"x\"}", { E("a") }, 1 } },
      1,
      0,
      0,
      1,
      1,
      "Error parsing labels '{1a=\"x\"}' with error: parse error at line 1, col 2: syntax error: unexpected "
      "character, expecting a label name" },
    { "empty string",
      { { "", { E("a") }, 1 } },
      1,
      0,
      0,
      1,
      1,
      "Error parsing labels '' with error: parse error at line 1, col 1: syntax error: unexpected character, "
      "expecting {" },
    { "trailing junk",
      { { "{a=\"1\"} x", { E("a") }, 1 } },
      1,
      0,
      0,
      1,
      1,
      "Error parsing labels '{a=\"1\"} x' with error: parse error at line 1, col 9: syntax error: unexpected "
      "character after }" },
    { "unterminated",
      { { "{a=\"1}", { E("a") }, 1 } },
      1,
      0,
      0,
      1,
      1,
      "Error parsing labels '{a=\"1}' with error: parse error at line 1, col 5: literal not terminated" },
    { "bad escape",
      { { "{a=\"\\q\"}", { E("a") }, 1 } },
      1,
      0,
      0,
      1,
      1,
      "Error parsing labels '{a=\"\\q\"}' with error: parse error at line 1, col 7: unknown escape sequence" },
    { "surrogate escape",
      { { "{a=\"\\ud800\"}", { E("a") }, 1 } },
      1,
      0,
      0,
      1,
      1,
      "Error parsing labels '{a=\"\\ud800\"}' with error: parse error at line 1, col 11: escape sequence is "
      "invalid Unicode code point" },
    { "duplicate name",
      { { "{a=\"1\", a=\"2\"}", { E("a") }, 1 } },
      1,
      0,
      0,
      1,
      1,
      "stream '{a=\"1\", a=\"2\"}' has duplicate label name: 'a'" },
    { "too many labels",
      { { "{a=\"1\",b=\"2\",c=\"3\",d=\"4\"}", { E("a") }, 1 } },
      1,
      0,
      0,
      1,
      1,
      "stream '{a=\"1\", b=\"2\", c=\"3\", d=\"4\"}' has 4 label names; limit 3" },
    { "name too long",
      { { "{abcdefghijklmnopq=\"1\"}", { E("a") }, 1 } },
      1,
      0,
      0,
      1,
      1,
      "stream '{abcdefghijklmnopq=\"1\"}' has label name too long: 'abcdefghijklmnopq'" },
    { "value too long",
      { { "{a=\"0123456789012345678901234567890123\"}", { E("a") }, 1 } },
      1,
      0,
      0,
      1,
      1,
      "stream '{a=\"0123456789012345678901234567890123\"}' has label value too long: "
      "'0123456789012345678901234567890123'" },
    { "invalid utf8 value",
      { { "{a=\"\\xff\"}", { E("a") }, 1 } },
      1,
      0,
      0,
      1,
      1,
      "stream '{a=\"\\xff\"}' has invalid UTF-8 in the value of label 'a'" },
    { "too old",
      { { "{job=\"x\"}", { { T0 - 7200, 0, "old", NULL, NULL }, E("ok") }, 2 } },
      1,
      1,
      1,
      0,
      1,
      "entry for stream '{job=\"x\"}' has timestamp too old: 2023-11-14T20:13:20Z, oldest acceptable timestamp "
      "is: 2023-11-14T21:13:20Z" },
    { "too new",
      { { "{job=\"x\"}", { E("ok"), { T0 + 3600, 0, "new", NULL, NULL } }, 2 } },
      1,
      1,
      1,
      0,
      1,
      "entry for stream '{job=\"x\"}' has timestamp too new: 2023-11-14T23:13:20Z" },
    { "line too long",
      { { "{job=\"x\"}", { E("0123456789012345678901234567890123456789012345678901234567890123x") }, 1 } },
      1,
      0,
      0,
      0,
      1,
      "Max entry size '64' bytes exceeded for stream '{job=\"x\"}' while adding an entry with length '65' bytes" },
    { "timestamp overflow",
      { { "{job=\"x\"}", { { INT64_MAX, 0, "a", NULL, NULL } }, 1 } },
      1,
      0,
      0,
      0,
      1,
      "entry for stream '{job=\"x\"}' has a timestamp out of range" },
    { "valid streams kept",
      { { "{a=\"1\"}", { E("a") }, 1 }, { "{}", { E("b"), E("c") }, 2 }, { "{b=\"2\"}", { E("d") }, 1 } },
      3,
      2,
      2,
      1,
      2,
      "error at least one label pair is required per stream" },
    { "first reason wins",
      { { "{job=\"x\"}", { { T0 - 7200, 0, "old", NULL, NULL } }, 1 }, { "{}", { E("b") }, 1 } },
      2,
      0,
      0,
      1,
      2,
      "entry for stream '{job=\"x\"}' has timestamp too old: 2023-11-14T20:13:20Z, oldest acceptable timestamp "
      "is: 2023-11-14T21:13:20Z" },
    { "no entries", { { "{a=\"1\"}", { E("a") }, 0 } }, 1, 0, 0, 0, 0, "" },
    { "no streams", { { 0 } }, 0, 0, 0, 0, 0, "" },
};

static void decode_ok(logs_push_format_t fmt, const uint8_t *p, size_t len, arena_t *a, logs_push_t *out)
{
    char err[256];
    logs_push_status_t st = logs_push_decode(fmt, LOGS_PUSH_IDENTITY, p, len, &LIM, NOW_NS, a, out, err, sizeof(err));
    if (st != LOGS_PUSH_OK) {
        fail_msg("decode failed: %s", err);
    }
}

static void test_pb_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(PB_CASES) / sizeof(PB_CASES[0]); i++) {
        const pcase_t *c = &PB_CASES[i];
        buf_t body = { 0 };
        pb_body(c->s, c->ns, &body);
        arena_t *a = arena_create(4096);
        logs_push_t out;
        decode_ok(LOGS_PUSH_PROTOBUF, body.data, body.len, a, &out);
        if (out.nstreams != c->want_streams || out.nentries != c->want_entries ||
            out.nrejected_streams != c->rej_streams || out.nrejected_entries != c->rej_entries ||
            strcmp(out.first_error, c->want_err) != 0) {
            fail_msg("%s: got %zu streams %zu entries, rejected %zu/%zu, error [%s]", c->name, out.nstreams,
                     out.nentries, out.nrejected_streams, out.nrejected_entries, out.first_error);
        }
        arena_destroy(a);
        buf_fini(&body);
    }
}

static void assert_label(const label_t *l, const char *name, const char *value, size_t vlen)
{
    assert_true(str_eq_cstr(l->name, name));
    assert_int_equal(l->value.len, vlen);
    assert_memory_equal(l->value.p, value, vlen);
}

static void test_pb_content(void **state)
{
    (void)state;
    tstream_t s = { "{ z = \"1\" ,\n a=`r\\aw\r`, m=\"q\\\"\\\\\\n\\x41\\101\\u00e9\\U0001F600\" }",
                    { { T0, 5, "l1", "trace_id", "abc" }, { T0 - 1, -1, "l2", NULL, NULL } },
                    2 };
    buf_t body = { 0 };
    pb_body(&s, 1, &body);
    arena_t *a = arena_create(4096);
    logs_push_t out;
    decode_ok(LOGS_PUSH_PROTOBUF, body.data, body.len, a, &out);
    assert_int_equal(out.nstreams, 1);
    const logs_stream_t *st = &out.streams[0];
    assert_int_equal(st->nlabels, 3);
    assert_label(&st->labels[0], "a", "r\\aw", 4);
    assert_label(&st->labels[1], "m", "q\"\\\nAA\xc3\xa9\xf0\x9f\x98\x80", 12);
    assert_label(&st->labels[2], "z", "1", 1);
    assert_int_equal(st->nentries, 2);
    assert_int_equal(st->entries[0].ts_ns, NOW_NS + 5);
    assert_true(str_eq_cstr(st->entries[0].line, "l1"));
    assert_int_equal(st->entries[0].nmeta, 1);
    assert_label(&st->entries[0].meta[0], "trace_id", "abc", 3);
    assert_int_equal(st->entries[1].ts_ns, NOW_NS - SEC - 1);
    assert_int_equal(st->entries[1].nmeta, 0);
    arena_destroy(a);
    buf_fini(&body);
}

typedef struct jcase {
    const char *name;
    const char *body;
    int want_rc; /* LOGS_PUSH_OK or LOGS_PUSH_MALFORMED */
    size_t want_streams, want_entries, rej_streams, rej_entries;
    const char *want_err; /* first_error, or err on failure */
} jcase_t;

static const jcase_t JSON_CASES[] = {
    { "basic", "{\"streams\":[{\"stream\":{\"job\":\"x\"},\"values\":[[\"1700000000000000000\",\"a\"]]}]}", 0, 1, 1, 0,
      0, "" },
    { "metadata",
      "{\"streams\":[{\"stream\":{\"job\":\"x\"},\"values\":[[\"1700000000000000000\",\"a\",{\"trace_id\":\"t\"}]]}]}",
      0, 1, 1, 0, 0, "" },
    { "number timestamp", "{\"streams\":[{\"stream\":{\"job\":\"x\"},\"values\":[[1700000000000000000,\"a\"]]}]}",
      LOGS_PUSH_MALFORMED, 0, 0, 0, 0, "JSON: streams[0]: timestamp must be a string of Unix nanoseconds" },
    { "junk timestamp", "{\"streams\":[{\"stream\":{\"job\":\"x\"},\"values\":[[\"17e8\",\"a\"]]}]}",
      LOGS_PUSH_MALFORMED, 0, 0, 0, 0, "JSON: streams[0]: timestamp must be a string of Unix nanoseconds" },
    { "one element", "{\"streams\":[{\"stream\":{\"job\":\"x\"},\"values\":[[\"1\"]]}]}", LOGS_PUSH_MALFORMED, 0, 0, 0,
      0, "JSON: streams[0]: each value must be [\"<ns>\", \"<line>\"] or [\"<ns>\", \"<line>\", {..}]" },
    { "line not string", "{\"streams\":[{\"stream\":{\"job\":\"x\"},\"values\":[[\"1\",5]]}]}", LOGS_PUSH_MALFORMED, 0,
      0, 0, 0, "JSON: streams[0]: log line must be a string" },
    { "metadata not strings", "{\"streams\":[{\"stream\":{\"job\":\"x\"},\"values\":[[\"1\",\"a\",{\"k\":1}]]}]}",
      LOGS_PUSH_MALFORMED, 0, 0, 0, 0, "JSON: streams[0]: structured metadata must be an object of strings" },
    { "label not string", "{\"streams\":[{\"stream\":{\"job\":1},\"values\":[]}]}", LOGS_PUSH_MALFORMED, 0, 0, 0, 0,
      "JSON: streams[0]: \"stream\" must be an object of strings" },
    { "not json", "{\"streams\":[", LOGS_PUSH_MALFORMED, 0, 0, 0, 0, NULL },
    { "array root", "[]", LOGS_PUSH_MALFORMED, 0, 0, 0, 0,
      "JSON: the body must be an object with a \"streams\" array" },
    { "null streams", "{\"streams\":null}", 0, 0, 0, 0, 0, "" },
    { "no labels", "{\"streams\":[{\"stream\":{},\"values\":[[\"1700000000000000000\",\"a\"]]}]}", 0, 0, 0, 1, 1,
      "error at least one label pair is required per stream" },
    { "invalid label name", "{\"streams\":[{\"stream\":{\"a-b\":\"x\"},\"values\":[[\"1700000000000000000\",\"a\"]]}]}",
      0, 0, 0, 1, 1, "stream '{\"a-b\"=\"x\"}' has invalid label name: 'a-b'" },
    { "duplicate key keeps last",
      "{\"streams\":[{\"stream\":{\"a\":\"1\",\"a\":\"2\"},\"values\":[[\"1700000000000000000\",\"a\"]]}]}", 0, 1, 1, 0,
      0, "" },
    { "too old", "{\"streams\":[{\"stream\":{\"job\":\"x\"},\"values\":[[\"1\",\"a\"]]}]}", 0, 0, 0, 0, 1,
      "entry for stream '{job=\"x\"}' has timestamp too old: 1970-01-01T00:00:00Z, oldest acceptable timestamp is: "
      "2023-11-14T21:13:20Z" },
    { "nul in line",
      "{\"streams\":[{\"stream\":{\"job\":\"x\"},\"values\":[[\"1700000000000000000\",\"a\\u0000b\"]]}]}", 0, 1, 1, 0,
      0, "" },
    { "invalid utf8", "{\"streams\":[{\"stream\":{\"job\":\"\xff\"},\"values\":[]}]}", LOGS_PUSH_MALFORMED, 0, 0, 0, 0,
      NULL },
    { "valid streams kept",
      "{\"streams\":[{\"stream\":{\"a\":\"1\"},\"values\":[[\"1700000000000000000\",\"a\"]]},"
      "{\"stream\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\",\"d\":\"4\"},\"values\":[[\"1700000000000000000\",\"a\"]]}]}",
      0, 1, 1, 1, 1, "stream '{a=\"1\", b=\"2\", c=\"3\", d=\"4\"}' has 4 label names; limit 3" },
};

static void test_json_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(JSON_CASES) / sizeof(JSON_CASES[0]); i++) {
        const jcase_t *c = &JSON_CASES[i];
        arena_t *a = arena_create(4096);
        logs_push_t out;
        char err[256];
        int rc = logs_push_decode(LOGS_PUSH_JSON, LOGS_PUSH_IDENTITY, (const uint8_t *)c->body, strlen(c->body), &LIM,
                                  NOW_NS, a, &out, err, sizeof(err));
        const char *got = rc == 0 ? out.first_error : err;
        if (rc != c->want_rc || out.nstreams != c->want_streams || out.nentries != c->want_entries ||
            out.nrejected_streams != c->rej_streams || out.nrejected_entries != c->rej_entries ||
            (c->want_err && strcmp(got, c->want_err) != 0) || (!c->want_err && got[0] == '\0')) {
            fail_msg("%s: rc %d, %zu streams %zu entries, rejected %zu/%zu, [%s]", c->name, rc, out.nstreams,
                     out.nentries, out.nrejected_streams, out.nrejected_entries, got);
        }
        arena_destroy(a);
    }
}

static void test_json_content(void **state)
{
    (void)state;
    const char *body = "{\"streams\":[{\"values\":[[\"1700000000000000001\",\"x\\u0000y\",{\"k\":\"v\",\"k2\":\"\"}],"
                       "[\"+1700000000000000000\",\"second\"]],\"stream\":{\"z\":\"1\",\"a\":\"\\u00e9\"},\"x\":1}],"
                       "\"extra\":true}";
    arena_t *a = arena_create(4096);
    logs_push_t out;
    decode_ok(LOGS_PUSH_JSON, (const uint8_t *)body, strlen(body), a, &out);
    assert_int_equal(out.nstreams, 1);
    const logs_stream_t *s = &out.streams[0];
    assert_int_equal(s->nlabels, 2);
    assert_label(&s->labels[0], "a", "\xc3\xa9", 2);
    assert_label(&s->labels[1], "z", "1", 1);
    assert_int_equal(s->nentries, 2);
    assert_int_equal(s->entries[0].ts_ns, NOW_NS + 1);
    assert_int_equal(s->entries[0].line.len, 3);
    assert_memory_equal(s->entries[0].line.p, "x\0y", 3);
    assert_int_equal(s->entries[0].nmeta, 2);
    assert_label(&s->entries[0].meta[0], "k", "v", 1);
    assert_label(&s->entries[0].meta[1], "k2", "", 0);
    assert_int_equal(s->entries[1].ts_ns, NOW_NS);
    arena_destroy(a);
}

/* Every prefix of a valid body: no crash; failure with a reason, or a
 * consistent prefix of the full result. */
static void truncate_all(logs_push_format_t fmt, const uint8_t *p, size_t len, bool snappy_each)
{
    arena_t *a = arena_create(4096);
    logs_push_t full;
    buf_t b = { 0 };
    if (snappy_each) {
        compress_snappy(p, len, &b);
    }
    decode_ok(fmt, snappy_each ? b.data : p, snappy_each ? b.len : len, a, &full);
    buf_fini(&b);
    for (size_t cut = 0; cut < len; cut++) {
        buf_t z = { 0 };
        if (snappy_each) {
            compress_snappy(p, cut, &z);
        } else {
            buf_append(&z, p, cut); /* exact-size copy: ASan sees over-reads */
        }
        logs_push_t out;
        char err[256];
        arena_reset(a);
        logs_push_status_t st =
            logs_push_decode(fmt, LOGS_PUSH_IDENTITY, z.data, z.len, &LIM, NOW_NS, a, &out, err, sizeof(err));
        if (st != LOGS_PUSH_OK) {
            assert_int_equal(st, LOGS_PUSH_MALFORMED);
            assert_true(err[0] != '\0' && out.nstreams == 0);
        } else {
            assert_true(fmt == LOGS_PUSH_PROTOBUF);
            assert_true(out.nstreams <= full.nstreams && out.nentries <= full.nentries);
        }
        buf_fini(&z);
    }
    arena_destroy(a);
}

static void test_truncation(void **state)
{
    (void)state;
    tstream_t s[2] = { { "{job=\"x\", unit=\"y\"}", { { T0, 5, "line one", "trace_id", "abc" }, E("two") }, 2 },
                       { "{job=\"z\"}", { E("three") }, 1 } };
    buf_t body = { 0 }, raw = { 0 };
    pb_body(s, 2, &body);
    assert_int_equal(decompress_snappy(body.data, body.len, 1 << 20, &raw), COMPRESS_OK);
    truncate_all(LOGS_PUSH_PROTOBUF, raw.data, raw.len, true);    /* the wire walker sees every cut */
    truncate_all(LOGS_PUSH_PROTOBUF, body.data, body.len, false); /* the snappy decoder does */
    const char *js = JSON_CASES[1].body;
    truncate_all(LOGS_PUSH_JSON, (const uint8_t *)js, strlen(js), false);
    buf_fini(&body);
    buf_fini(&raw);
}

typedef struct hcase {
    const char *name;
    const char *bytes; /* raw protobuf, snappy-compressed before decoding */
    size_t len;
    int want_rc;
    const char *want; /* err on failure, first_error on success */
} hcase_t;

#define H(s) s, sizeof(s) - 1

static const hcase_t HOSTILE[] = {
    { "huge stream length", H("\x0a\xff\xff\xff\xff\x0f"), LOGS_PUSH_MALFORMED,
      "protobuf: truncated request field at byte 6" },
    { "11-byte varint tag", H("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"), LOGS_PUSH_MALFORMED,
      "protobuf: invalid tag at byte 0" },
    { "field zero", H("\x00"), LOGS_PUSH_MALFORMED, "protobuf: invalid tag at byte 0" },
    { "group wire type", H("\x0b\x0c"), LOGS_PUSH_MALFORMED,
      "protobuf: request field with the wrong wire type at byte 1" },
    { "unknown group", H("\x1b\x1c"), LOGS_PUSH_MALFORMED, "protobuf: truncated field at byte 1" },
    { "streams as varint", H("\x08\x01"), LOGS_PUSH_MALFORMED,
      "protobuf: request field with the wrong wire type at byte 1" },
    { "entry with huge length", H("\x0a\x05\x12\x03\x12\xff\x7f"), LOGS_PUSH_MALFORMED,
      "protobuf: truncated entry field at byte 7" },
    { "nested garbage", H("\x0a\x04\x12\x02\x0a\x00\x0a\x03\x12\x01\xff"), LOGS_PUSH_MALFORMED,
      "protobuf: invalid tag at byte 10" },
    { "unknown fields skipped", H("\x18\x05\x21\x01\x02\x03\x04\x05\x06\x07\x08\x2d\x01\x02\x03\x04"), 0, "" },
    { "nul in labels and line", H("\x0a\x17\x0a\x08{a=\"\x00x\"}\x12\x0b\x0a\x06\x08\x80\xe2\xcf\xaa\x06\x12\x01\x00"),
      0, "" },
    { "nul in name", H("\x0a\x0a\x0a\x08{a\x00=\"x\"}"), 0,
      "Error parsing labels '{a?=\"x\"}' with error: parse error at line 1, col 3: syntax error: unexpected "
      "character, expecting =" },
    { "invalid utf8 raw value", H("\x0a\x0a\x0a\x08{a=\"\xc3\x28\"}\x12\x00"), 0,
      "stream '{a=\"\\xc3(\"}' has invalid UTF-8 in the value of label 'a'" },
};

static void test_hostile(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(HOSTILE) / sizeof(HOSTILE[0]); i++) {
        const hcase_t *c = &HOSTILE[i];
        buf_t z = { 0 };
        compress_snappy(c->bytes, c->len, &z);
        arena_t *a = arena_create(4096);
        logs_push_t out;
        char err[256];
        int rc = logs_push_decode(LOGS_PUSH_PROTOBUF, LOGS_PUSH_IDENTITY, z.data, z.len, &LIM, NOW_NS, a, &out, err,
                                  sizeof(err));
        const char *got = rc == 0 ? out.first_error : err;
        if (rc != c->want_rc || strcmp(got, c->want) != 0) {
            fail_msg("%s: rc %d [%s]", c->name, rc, got);
        }
        arena_destroy(a);
        buf_fini(&z);
    }
}

static void test_nul_line_content(void **state)
{
    (void)state;
    const char *b = HOSTILE[9].bytes;
    buf_t z = { 0 };
    compress_snappy(b, HOSTILE[9].len, &z);
    arena_t *a = arena_create(4096);
    logs_push_t out;
    decode_ok(LOGS_PUSH_PROTOBUF, z.data, z.len, a, &out);
    assert_int_equal(out.nstreams, 1);
    assert_label(&out.streams[0].labels[0], "a", "\0x", 2);
    assert_int_equal(out.streams[0].entries[0].line.len, 1);
    assert_int_equal(out.streams[0].entries[0].line.p[0], 0);
    assert_int_equal(out.streams[0].entries[0].ts_ns, 1700000000LL * SEC);
    arena_destroy(a);
    buf_fini(&z);
}

static void zlib_wrap(const char *s, size_t len, int bits, buf_t *out)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
    buf_reserve(out, deflateBound(&zs, len));
    zs.next_in = (Bytef *)(uintptr_t)s;
    zs.avail_in = (uInt)len;
    zs.next_out = out->data;
    zs.avail_out = (uInt)deflateBound(&zs, len);
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    out->len = zs.total_out;
    deflateEnd(&zs);
}

static void test_content_encoding(void **state)
{
    (void)state;
    const char *js = JSON_CASES[1].body;
    buf_t gz = { 0 }, df = { 0 }, bomb = { 0 };
    zlib_wrap(js, strlen(js), 31, &gz);
    zlib_wrap(js, strlen(js), -15, &df);
    arena_t *a = arena_create(4096);
    logs_push_t out;
    char err[256];
    assert_int_equal(
        logs_push_decode(LOGS_PUSH_JSON, LOGS_PUSH_GZIP, gz.data, gz.len, &LIM, NOW_NS, a, &out, err, sizeof(err)),
        LOGS_PUSH_OK);
    assert_int_equal(out.nentries, 1);
    assert_int_equal(
        logs_push_decode(LOGS_PUSH_JSON, LOGS_PUSH_DEFLATE, df.data, df.len, &LIM, NOW_NS, a, &out, err, sizeof(err)),
        LOGS_PUSH_OK);
    assert_int_equal(out.nentries, 1);
    assert_int_equal(
        logs_push_decode(LOGS_PUSH_JSON, LOGS_PUSH_GZIP, gz.data, gz.len - 3, &LIM, NOW_NS, a, &out, err, sizeof(err)),
        LOGS_PUSH_MALFORMED);
    assert_string_equal(err, "gzip: unexpected end of input");
    assert_int_equal(logs_push_decode(LOGS_PUSH_JSON, LOGS_PUSH_GZIP, (const uint8_t *)js, strlen(js), &LIM, NOW_NS, a,
                                      &out, err, sizeof(err)),
                     LOGS_PUSH_MALFORMED);
    char *zeros = calloc(2u << 20, 1);
    zlib_wrap(zeros, 2u << 20, 31, &bomb);
    free(zeros);
    assert_int_equal(
        logs_push_decode(LOGS_PUSH_JSON, LOGS_PUSH_GZIP, bomb.data, bomb.len, &LIM, NOW_NS, a, &out, err, sizeof(err)),
        LOGS_PUSH_TOO_LARGE);
    assert_string_equal(err, "decoded body exceeds the limit of 1048576 bytes");
    /* snappy header claiming 4 GiB */
    static const uint8_t claim[] = { 0x80, 0x80, 0x80, 0x80, 0x10, 0x00 };
    assert_int_not_equal(logs_push_decode(LOGS_PUSH_PROTOBUF, LOGS_PUSH_IDENTITY, claim, sizeof(claim), &LIM, NOW_NS, a,
                                          &out, err, sizeof(err)),
                         LOGS_PUSH_OK);
    assert_int_equal(logs_push_decode(LOGS_PUSH_PROTOBUF, LOGS_PUSH_IDENTITY, (const uint8_t *)"\xff", 1, &LIM, NOW_NS,
                                      a, &out, err, sizeof(err)),
                     LOGS_PUSH_MALFORMED);
    arena_destroy(a);
    buf_fini(&gz);
    buf_fini(&df);
    buf_fini(&bomb);
}

/* The decoded-size limit is inclusive for every encoding: a body that
 * decodes to exactly max_decoded_bytes is accepted, one byte more is not. */
static void test_decoded_limit_edge(void **state)
{
    (void)state;
    const char *js = JSON_CASES[1].body;
    size_t max = LIM.max_decoded_bytes;
    char *pad = malloc(max + 1);
    memset(pad, ' ', max + 1);
    memcpy(pad, js, strlen(js));
    arena_t *a = arena_create(4096);
    logs_push_t out;
    char err[256];
    static const struct {
        logs_push_encoding_t enc;
        int bits;
    } encs[] = { { LOGS_PUSH_IDENTITY, 0 }, { LOGS_PUSH_GZIP, 31 }, { LOGS_PUSH_DEFLATE, -15 } };
    for (size_t i = 0; i < sizeof(encs) / sizeof(encs[0]); i++) {
        for (size_t extra = 0; extra < 2; extra++) {
            buf_t z = { 0 };
            const uint8_t *body = (const uint8_t *)pad;
            size_t len = max + extra;
            if (encs[i].bits != 0) {
                zlib_wrap(pad, len, encs[i].bits, &z);
                body = z.data;
                len = z.len;
            }
            logs_push_status_t st =
                logs_push_decode(LOGS_PUSH_JSON, encs[i].enc, body, len, &LIM, NOW_NS, a, &out, err, sizeof(err));
            if (extra == 0) {
                assert_int_equal(st, LOGS_PUSH_OK);
                assert_int_equal(out.nentries, 1);
            } else {
                assert_int_equal(st, LOGS_PUSH_TOO_LARGE);
                assert_string_equal(err, "decoded body exceeds the limit of 1048576 bytes");
            }
            buf_fini(&z);
        }
    }
    arena_destroy(a);
    free(pad);
}

static void test_error_is_utf8(void **state)
{
    (void)state;
    /* A raw label string with invalid UTF-8 and controls is sanitized,
     * and a long one is cut without splitting a character. */
    char lbl[400] = "{a=\"\xe2\x82\xac";
    for (size_t i = strlen(lbl); i < 390; i += 3) {
        memcpy(lbl + i, "\xe2\x82\xac", 3);
    }
    tstream_t s = { lbl, { E("a") }, 1 };
    buf_t body = { 0 };
    pb_body(&s, 1, &body);
    arena_t *a = arena_create(4096);
    logs_push_t out;
    decode_ok(LOGS_PUSH_PROTOBUF, body.data, body.len, a, &out);
    assert_int_equal(out.nrejected_streams, 1);
    assert_true(str_utf8_valid(out.first_error, strlen(out.first_error)));
    assert_true(strncmp(out.first_error, "Error parsing labels '{a=\"\xe2\x82\xac", 25) == 0);
    arena_destroy(a);
    buf_fini(&body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pb_cases),         cmocka_unit_test(test_pb_content),
        cmocka_unit_test(test_json_cases),       cmocka_unit_test(test_json_content),
        cmocka_unit_test(test_truncation),       cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_nul_line_content), cmocka_unit_test(test_content_encoding),
        cmocka_unit_test(test_error_is_utf8),    cmocka_unit_test(test_decoded_limit_edge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

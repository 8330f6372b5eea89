/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_logs_wal: logs/logs_wal.c. Records round-trip (streams, entries
 * with negative and decreasing timestamps, metadata, empty lines); every
 * truncation of a valid record and named hostile records are refused
 * whole (nothing visited); the metadata codec refuses what it cannot
 * decode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/mem.h"
#include "logs/logs_int.h"

typedef struct seen {
    buf_t text;
    int streams, entries;
} seen_t;

static bool on_stream(void *ctx, uint64_t seq, const uint8_t *labels, size_t len)
{
    seen_t *s = ctx;
    label_t ls[8];
    long n = labels_decode(labels, len, ls, 8);
    buf_printf(&s->text, "seq=%llu {", (unsigned long long)seq);
    for (long i = 0; i < n; i++) {
        buf_printf(&s->text, "%.*s=%.*s;", (int)ls[i].name.len, ls[i].name.p, (int)ls[i].value.len, ls[i].value.p);
    }
    buf_puts(&s->text, "}\n");
    s->streams++;
    return true;
}

static void on_entry(void *ctx, int64_t ts, str_t line, str_t meta)
{
    seen_t *s = ctx;
    label_t m[4];
    long nm = logs_meta_get((const uint8_t *)meta.p, meta.len, m, 4);
    buf_printf(&s->text, " %lld [%.*s]", (long long)ts, (int)line.len, line.p);
    for (long i = 0; i < nm; i++) {
        buf_printf(&s->text, " %.*s:%.*s", (int)m[i].name.len, m[i].name.p, (int)m[i].value.len, m[i].value.p);
    }
    buf_puts(&s->text, "\n");
    s->entries++;
}

static void build(buf_t *rec)
{
    label_t a[2] = { { STR_LIT("app"), STR_LIT("x") }, { STR_LIT("job"), STR_LIT("y") } };
    label_t b[1] = { { STR_LIT("job"), STR_LIT("z") } };
    label_t meta[1] = { { STR_LIT("trace"), STR_LIT("t1") } };
    buf_t mb = { 0 };
    logs_meta_put(&mb, meta, 1);
    logs_rec_begin(rec, 300);
    size_t at = logs_rec_add_stream(rec, a, 2);
    int64_t prev = 0;
    logs_rec_add_entry(rec, &prev, 1700000000000000000LL, STR_LIT("hello"), str_from((const char *)mb.data, mb.len));
    logs_rec_add_entry(rec, &prev, -5, STR_LIT(""), STR_LIT(""));
    logs_rec_set_count(rec, at, 2);
    at = logs_rec_add_stream(rec, b, 1);
    prev = 0;
    logs_rec_add_entry(rec, &prev, 7, STR_LIT("bye"), STR_LIT(""));
    logs_rec_set_count(rec, at, 1);
    logs_rec_finish(rec, 2);
    buf_fini(&mb);
}

static void test_round_trip(void **state)
{
    (void)state;
    buf_t rec = { 0 };
    build(&rec);
    seen_t s = { 0 };
    logs_rec_visitor_t v = { &s, on_stream, on_entry };
    uint64_t seq = 0;
    assert_int_equal(logs_rec_decode(rec.data, rec.len, &v, &seq), 0);
    assert_int_equal(seq, 300);
    assert_string_equal((const char *)s.text.data, "seq=300 {app=x;job=y;}\n 1700000000000000000 [hello] trace:t1\n"
                                                   " -5 []\nseq=300 {job=z;}\n 7 [bye]\n");
    buf_fini(&s.text);
    buf_fini(&rec);
}

static void test_truncations_and_hostile(void **state)
{
    (void)state;
    buf_t rec = { 0 };
    build(&rec);
    seen_t s = { 0 };
    logs_rec_visitor_t v = { &s, on_stream, on_entry };
    for (size_t len = 0; len < rec.len; len++) {
        uint8_t *copy = mem_alloc(len ? len : 1);
        memcpy(copy, rec.data, len);
        assert_int_equal(logs_rec_decode(copy, len, &v, NULL), -1);
        mem_free(copy);
    }
    assert_int_equal(s.streams + s.entries, 0); /* refused records visit nothing */
    static const struct {
        const char *name;
        const char *p;
        size_t len;
    } cases[] = {
        { "unknown type", "\x02\x01\x00", 3 },
        { "huge stream count", "\x01\x01\xff\xff\xff\xff\x0f", 7 },
        { "huge label length", "\x01\x01\x01\xff\xff\xff\xff\x0f", 8 },
        { "overlong varint", "\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00", 13 },
        { "trailing byte", "\x01\x01\x00\x00", 4 },
        { "entry count past end", "\x01\x01\x01\x00\x05", 5 },
        { "bad meta", "\x01\x01\x01\x00\x01\x00\x00\x02\x05\x61", 10 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (logs_rec_decode((const uint8_t *)cases[i].p, cases[i].len, &v, NULL) != -1) {
            fail_msg("%s: accepted", cases[i].name);
        }
    }
    assert_int_equal(s.streams + s.entries, 0);
    /* a record with an empty stream list is valid */
    assert_int_equal(logs_rec_decode((const uint8_t *)"\x01\x01\x00", 3, &v, NULL), 0);
    buf_fini(&s.text);
    buf_fini(&rec);
}

static void test_meta_codec(void **state)
{
    (void)state;
    label_t in[3] = { { STR_LIT("a"), STR_LIT("") }, { STR_LIT(""), STR_LIT("b") }, { STR_LIT("k"), STR_LIT("v") } };
    buf_t b = { 0 };
    logs_meta_put(&b, in, 3);
    label_t out[3];
    assert_int_equal(logs_meta_get(b.data, b.len, out, 3), 3);
    assert_true(str_eq(out[2].value, STR_LIT("v")));
    assert_int_equal(logs_meta_get(b.data, b.len, out, 2), -1); /* more than max */
    assert_int_equal(logs_meta_get(b.data, b.len - 1, out, 3), -1);
    assert_int_equal(logs_meta_get(b.data, 0, out, 3), 0);
    buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_truncations_and_hostile),
        cmocka_unit_test(test_meta_codec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for server/server_rw.c, the zero-copy WriteRequest decoder: field
 * decoding against protoc-c's encoding, unknown fields of every wire type,
 * wrong wire types and groups as errors with offsets, every truncation,
 * the label span used as a fingerprint; and, through
 * server_ingest_remote_write, that series found by fingerprint get their
 * samples appended to the right series.
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

#include "common/arena.h"
#include "common/buf.h"
#include "common/compress.h"
#include "common/matcher.h"
#include "server/server.h"
#include "server/server_int.h"
#include "testsupport.h"

static void put_varint(buf_t *b, uint64_t v)
{
    buf_put_uvarint(b, v);
}

static void put_tag(buf_t *b, uint32_t field, uint32_t wt)
{
    put_varint(b, (uint64_t)field << 3 | wt);
}

static void put_bytes(buf_t *b, uint32_t field, const void *p, size_t n)
{
    put_tag(b, field, 2);
    put_varint(b, n);
    buf_append(b, p, n);
}

static void put_label(buf_t *b, const char *name, const char *value)
{
    buf_t l = { 0 };
    put_bytes(&l, 1, name, strlen(name));
    put_bytes(&l, 2, value, strlen(value));
    put_bytes(b, 1, l.data, l.len);
    buf_fini(&l);
}

static void put_sample(buf_t *b, double v, int64_t t)
{
    buf_t s = { 0 };
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    put_tag(&s, 1, 1);
    buf_put_u64le(&s, bits);
    put_tag(&s, 2, 0);
    put_varint(&s, (uint64_t)t);
    put_bytes(b, 2, s.data, s.len);
    buf_fini(&s);
}

static void test_matches_protoc_c(void **state)
{
    (void)state;
    ts_label_t l1[] = { { "__name__", "up" }, { "job", "node" } };
    ts_label_t l2[] = { { "__name__", "x" } };
    int64_t t1[] = { 1000, 2000 }, t2[] = { -5 };
    double v1[] = { 1.5, NAN }, v2[] = { 1e300 };
    ts_series_t s[] = { { l1, 2, t1, v1, 2 }, { l2, 1, t2, v2, 1 } };
    buf_t raw = { 0 };
    ts_rw_encode_raw(s, 2, &raw);
    arena_t *a = arena_create(4096);
    server_rw_request_t r;
    char err[128];
    assert_int_equal(server_rw_decode(raw.data, raw.len, a, &r, err, sizeof(err)), 0);
    assert_int_equal(r.nseries, 2);
    assert_int_equal(r.series[0].nlabels, 2);
    assert_true(str_eq_cstr(r.series[0].labels[1].name, "job"));
    assert_true(str_eq_cstr(r.series[0].labels[1].value, "node"));
    assert_int_equal(r.series[0].nsamples, 2);
    assert_int_equal(r.series[0].samples[1].t, 2000);
    assert_true(isnan(r.series[0].samples[1].v));
    assert_int_equal(r.series[1].samples[0].t, -5);
    assert_true(r.series[1].samples[0].v == 1e300);
    assert_true(r.series[0].labels_contiguous);
    /* The span covers exactly the two label fields. */
    assert_ptr_equal(r.series[0].labels_raw, (const uint8_t *)r.series[0].labels[0].name.p - 4);
    assert_int_equal(r.series[0].labels_raw_len, 2 + (2 + 10 + 2 + 2) + 2 + (2 + 3 + 2 + 4) - 2);
    arena_destroy(a);
    buf_fini(&raw);
}

static void test_unknown_fields_and_interleaving(void **state)
{
    (void)state;
    buf_t ts = { 0 }, req = { 0 };
    put_label(&ts, "__name__", "m");
    put_sample(&ts, 7, 100);
    put_tag(&ts, 9, 0); /* unknown varint */
    put_varint(&ts, 300);
    put_tag(&ts, 10, 1); /* unknown fixed64 */
    buf_put_u64le(&ts, 1);
    put_tag(&ts, 11, 5); /* unknown fixed32 */
    buf_put_u32le(&ts, 1);
    put_bytes(&ts, 12, "zz", 2); /* unknown bytes */
    put_label(&ts, "a", "b");    /* a label after a sample */
    put_bytes(&ts, 3, "", 0);    /* an (empty) exemplar */
    put_bytes(&req, 1, ts.data, ts.len);
    put_tag(&req, 2, 0); /* reserved field 2: skipped */
    put_varint(&req, 1);
    arena_t *a = arena_create(4096);
    server_rw_request_t r;
    char err[128];
    assert_int_equal(server_rw_decode(req.data, req.len, a, &r, err, sizeof(err)), 0);
    assert_int_equal(r.nseries, 1);
    assert_int_equal(r.series[0].nlabels, 2);
    assert_int_equal(r.series[0].nsamples, 1);
    assert_int_equal(r.series[0].nexemplars, 1);
    assert_false(r.series[0].labels_contiguous);
    arena_destroy(a);
    buf_fini(&ts);
    buf_fini(&req);
}

static void test_errors_and_truncations(void **state)
{
    (void)state;
    struct {
        const uint8_t bytes[16];
        size_t len;
        const char *want;
    } cases[] = {
        { { 0x0a, 0x05, 0x0a }, 3, "protobuf:" },           /* length past the end */
        { { 0x08, 0x01 }, 2, "bad field in WriteRequest" }, /* timeseries as varint */
        { { 0x0b }, 1, "bad field in WriteRequest" },       /* group start */
        { { 0x00, 0x01 }, 2, "bad tag" },                   /* field 0 */
        { { 0x0a, 0x02, 0x12, 0x00 }, 4, "protobuf:" },     /* empty sample: fine */
        { { 0x0a, 0x03, 0x12, 0x01, 0x08 }, 5, "bad sample value" },
        { { 0x0a, 0x02, 0x0a, 0x02 }, 4, "protobuf:" }, /* label length past series */
        { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, 11, "bad tag" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        arena_t *a = arena_create(4096);
        server_rw_request_t r;
        char err[128] = "";
        int rc = server_rw_decode(cases[i].bytes, cases[i].len, a, &r, err, sizeof(err));
        if (i == 4) {
            assert_int_equal(rc, 0);
            assert_int_equal(r.series[0].nsamples, 1);
        } else if (rc != -1 || !strstr(err, cases[i].want) || !strstr(err, "at byte")) {
            fail_msg("case %zu: rc %d err \"%s\"", i, rc, err);
        }
        arena_destroy(a);
    }
    /* A body of empty messages would decode to ~70x its size: refused. */
    {
        buf_t many = { 0 };
        for (int i = 0; i < 100000; i++) {
            put_bytes(&many, 1, "", 0);
        }
        arena_t *a = arena_create(4096);
        server_rw_request_t r;
        char err[160] = "";
        assert_int_equal(server_rw_decode(many.data, many.len, a, &r, err, sizeof(err)), -1);
        assert_non_null(strstr(err, "too many empty elements"));
        arena_destroy(a);
        buf_fini(&many);
    }
    /* Every truncation of a valid request: an error or a shorter valid
     * request, never a read past the end (ASan watches). */
    ts_label_t l[] = { { "__name__", "up" }, { "instance", "host:9100" } };
    int64_t t[] = { 1, 2, 3 };
    double v[] = { 1, 2, 3 };
    ts_series_t s[] = { { l, 2, t, v, 3 }, { l, 1, t, v, 2 } };
    buf_t raw = { 0 };
    ts_rw_encode_raw(s, 2, &raw);
    for (size_t cut = 0; cut < raw.len; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, raw.data, cut);
        arena_t *a = arena_create(4096);
        server_rw_request_t r;
        char err[128];
        int rc = server_rw_decode(copy, cut, a, &r, err, sizeof(err));
        assert_true(rc == 0 || rc == -1);
        if (rc == 0) {
            assert_true(r.nseries <= 2);
        }
        arena_destroy(a);
        free(copy);
    }
    buf_fini(&raw);
}

typedef struct fx {
    char dir[64];
    tsdb_t *db;
    int64_t now;
} fx_t;

static int64_t fixed_now(void *ctx)
{
    return *(int64_t *)ctx;
}

static int count_samples(void *ctx, const label_t *ls, size_t nl, const int64_t *ts, const double *vs, size_t n)
{
    (void)ls;
    (void)nl;
    (void)ts;
    (void)vs;
    size_t *c = ctx;
    c[0]++;
    c[1] += n;
    return 0;
}

static void test_fingerprint_path(void **state)
{
    (void)state;
    fx_t f = { .now = 1700000000000LL };
    assert_int_equal(ts_tempdir("pharos-rw", f.dir, sizeof(f.dir)), 0);
    tsdb_opts_t o = { .dir = f.dir, .ooo_window_ms = 3600000, .clock = { fixed_now, &f.now } };
    char err[256];
    assert_int_equal(tsdb_open(&o, &f.db, err, sizeof(err)), 0);
    server_ingest_limits_t lim = { { 1024, 16384, 128, false }, 1 << 20 };
    /* The same series sent with labels in two orders, three times each. */
    ts_label_t a[] = { { "__name__", "m" }, { "job", "j" } };
    ts_label_t b[] = { { "job", "j" }, { "__name__", "m" } };
    for (int round = 0; round < 6; round++) {
        int64_t t = f.now - 100000 + round * 1000;
        double v = round;
        ts_series_t s = { round % 2 ? b : a, 2, &t, &v, 1 };
        buf_t body = { 0 };
        ts_rw_encode(&s, 1, &body);
        server_ingest_stats_t st;
        char msg[256];
        assert_int_equal(server_ingest_remote_write(f.db, &lim, body.data, body.len, NULL, &st, msg, sizeof(msg)), 204);
        buf_fini(&body);
    }
    /* An invalid series stays invalid when sent again (never cached). */
    ts_label_t bad[] = { { "__name__", "m" }, { "a-b", "x" } };
    for (int round = 0; round < 2; round++) {
        int64_t t = f.now;
        double v = 1;
        ts_series_t s = { bad, 2, &t, &v, 1 };
        buf_t body = { 0 };
        ts_rw_encode(&s, 1, &body);
        server_ingest_stats_t st;
        char msg[256];
        assert_int_equal(server_ingest_remote_write(f.db, &lim, body.data, body.len, NULL, &st, msg, sizeof(msg)), 400);
        buf_fini(&body);
    }
    size_t c[2] = { 0, 0 };
    assert_int_equal(ts_select(f.db, "m", INT64_MIN, INT64_MAX, count_samples, c, err, sizeof(err)), 0);
    assert_int_equal(c[0], 1); /* one series */
    assert_int_equal(c[1], 6); /* all six samples */
    tsdb_close(f.db);
    ts_rmrf(f.dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_protoc_c),
        cmocka_unit_test(test_unknown_fields_and_interleaving),
        cmocka_unit_test(test_errors_and_truncations),
        cmocka_unit_test(test_fingerprint_path),
    };
    return cmocka_run_group_tests_name("server_rw", tests, NULL, NULL);
}

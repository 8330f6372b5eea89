/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for common/varint.c: golden encodings, zigzag, varint_len, random
 * round trips, and the decoder fed every truncation, over-long encodings,
 * 64-bit overflow in the tenth byte, and empty input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/varint.h"

typedef struct enc_case {
    uint64_t v;
    size_t len;
    uint8_t bytes[10];
} enc_case_t;

static const enc_case_t enc_cases[] = {
    { 0, 1, { 0x00 } },
    { 1, 1, { 0x01 } },
    { 127, 1, { 0x7f } },
    { 128, 2, { 0x80, 0x01 } },
    { 300, 2, { 0xac, 0x02 } },
    { 16383, 2, { 0xff, 0x7f } },
    { 16384, 3, { 0x80, 0x80, 0x01 } },
    { 0xFFFFFFFFull, 5, { 0xff, 0xff, 0xff, 0xff, 0x0f } },
    { 1ull << 63, 10, { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 } },
    { UINT64_MAX, 10, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 } },
};

static void test_golden(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(enc_cases) / sizeof(enc_cases[0]); i++) {
        const enc_case_t *c = &enc_cases[i];
        uint8_t out[VARINT_MAX_LEN];
        memset(out, 0xEE, sizeof(out));
        assert_int_equal(varint_put_u64(out, c->v), c->len);
        assert_memory_equal(out, c->bytes, c->len);
        assert_int_equal(varint_len_u64(c->v), c->len);
        uint64_t v = 0;
        assert_int_equal(varint_get_u64(c->bytes, c->len, &v), c->len);
        assert_true(v == c->v);
        /* Extra bytes after the varint are not consumed. */
        uint8_t ext[12];
        memcpy(ext, c->bytes, c->len);
        ext[c->len] = 0x7f;
        assert_int_equal(varint_get_u64(ext, c->len + 1, &v), c->len);
        assert_true(v == c->v);
        /* Every truncation fails and leaves *out alone. */
        for (size_t n = 0; n < c->len; n++) {
            uint64_t w = 12345;
            assert_int_equal(varint_get_u64(c->bytes, n, &w), 0);
            assert_int_equal(w, 12345);
        }
    }
}

static void test_zigzag(void **state)
{
    (void)state;
    const struct {
        int64_t s;
        uint64_t u;
    } cases[] = {
        { 0, 0 }, { -1, 1 }, { 1, 2 }, { -2, 3 }, { 2, 4 }, { INT64_MAX, UINT64_MAX - 1 }, { INT64_MIN, UINT64_MAX },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_true(varint_zigzag(cases[i].s) == cases[i].u);
        assert_true(varint_unzigzag(cases[i].u) == cases[i].s);
    }
    uint8_t buf[VARINT_MAX_LEN];
    assert_int_equal(varint_put_i64(buf, -1), 1);
    assert_int_equal(buf[0], 0x01);
    assert_int_equal(varint_put_i64(buf, INT64_MIN), 10);
    int64_t v = 0;
    assert_int_equal(varint_get_i64(buf, 10, &v), 10);
    assert_true(v == INT64_MIN);
    assert_int_equal(varint_get_i64(buf, 9, &v), 0);
}

static void test_hostile(void **state)
{
    (void)state;
    uint64_t v = 7;
    assert_int_equal(varint_get_u64(NULL, 0, &v), 0);
    /* Tenth byte may only carry bit 63. */
    const uint8_t ovf2[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 };
    assert_int_equal(varint_get_u64(ovf2, sizeof(ovf2), &v), 0);
    const uint8_t ovf7f[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f };
    assert_int_equal(varint_get_u64(ovf7f, sizeof(ovf7f), &v), 0);
    /* Eleven bytes: continuation on the tenth. */
    const uint8_t eleven[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0x00 };
    assert_int_equal(varint_get_u64(eleven, sizeof(eleven), &v), 0);
    const uint8_t zeros11[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
    assert_int_equal(varint_get_u64(zeros11, sizeof(zeros11), &v), 0);
    /* All continuation bytes, long buffer: stops at 10, no overread. */
    uint8_t conts[64];
    memset(conts, 0xff, sizeof(conts));
    assert_int_equal(varint_get_u64(conts, sizeof(conts), &v), 0);
    assert_int_equal(v, 7);
    /* Non-minimal but in-range encodings are accepted, as protobuf does. */
    const uint8_t padded[] = { 0x81, 0x80, 0x00 };
    assert_int_equal(varint_get_u64(padded, sizeof(padded), &v), 3);
    assert_int_equal(v, 1);
    /* A NUL is a complete one-byte varint for zero. */
    assert_int_equal(varint_get_u64((const uint8_t *)"\0", 1, &v), 1);
    assert_int_equal(v, 0);
}

static void test_random_stream(void **state)
{
    (void)state;
    uint8_t stream[4000 * VARINT_MAX_LEN];
    uint64_t vals[4000];
    uint64_t seed = 0xDEADBEEFCAFEull;
    size_t off = 0;
    for (int i = 0; i < 4000; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        vals[i] = seed >> (seed % 64); /* every length class */
        size_t n = varint_put_u64(stream + off, vals[i]);
        assert_int_equal(n, varint_len_u64(vals[i]));
        off += n;
    }
    size_t pos = 0;
    for (int i = 0; i < 4000; i++) {
        uint64_t v = 0;
        size_t n = varint_get_u64(stream + pos, off - pos, &v);
        assert_true(n > 0);
        assert_true(v == vals[i]);
        pos += n;
    }
    assert_int_equal(pos, off);
    /* Byte-by-byte feeding: a decoder given a growing window succeeds
     * exactly when the window holds the whole varint. */
    pos = 0;
    for (int i = 0; i < 200; i++) {
        size_t need = varint_len_u64(vals[i]);
        for (size_t w = 0; w <= need; w++) {
            uint64_t v = 0;
            size_t n = varint_get_u64(stream + pos, w, &v);
            assert_int_equal(n, w == need ? need : 0);
        }
        pos += need;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_zigzag),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_random_stream),
    };
    return cmocka_run_group_tests_name("varint", tests, NULL, NULL);
}

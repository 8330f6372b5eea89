/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for common/crc32c.c: golden vectors (RFC 3720 B.4 and the "check"
 * value), hardware vs software on every length and alignment, and the
 * incremental property crc(crc(a), b) == crc(a || b).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/crc32c.h"

typedef struct crc_case {
    const char *name;
    uint8_t data[32];
    size_t len;
    uint32_t want;
} crc_case_t;

static void test_golden(void **state)
{
    (void)state;
    crc_case_t cases[4] = {
        { .name = "zeros", .len = 32, .want = 0x8A9136AAu },
        { .name = "ones", .len = 32, .want = 0x62A8AB43u },
        { .name = "incrementing", .len = 32, .want = 0x46DD794Eu },
        { .name = "decrementing", .len = 32, .want = 0x113FDB5Cu },
    };
    for (int i = 0; i < 32; i++) {
        cases[0].data[i] = 0;
        cases[1].data[i] = 0xFF;
        cases[2].data[i] = (uint8_t)i;
        cases[3].data[i] = (uint8_t)(31 - i);
    }
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(crc32c(0, cases[i].data, cases[i].len), cases[i].want);
        assert_int_equal(crc32c_sw(0, cases[i].data, cases[i].len), cases[i].want);
    }
    assert_int_equal(crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(crc32c_sw(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(crc32c(0, "a", 1), 0xC1D04330u);
    assert_int_equal(crc32c(0, "", 0), 0u);
    assert_int_equal(crc32c(0, NULL, 0), 0u);
    assert_int_equal(crc32c_sw(0, NULL, 0), 0u);
    /* An empty extension leaves any crc unchanged. */
    assert_int_equal(crc32c(0xDEADBEEFu, NULL, 0), 0xDEADBEEFu);
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_hw_equals_sw(void **state)
{
    (void)state;
    uint8_t data[1100];
    uint64_t seed = 0x1234567887654321ull;
    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)rng_next(&seed);
    }
    for (size_t off = 0; off < 8; off++) {
        for (size_t len = 0; len + off <= 1090; len += (len < 80 ? 1 : 37)) {
            assert_int_equal(crc32c(0, data + off, len), crc32c_sw(0, data + off, len));
            assert_int_equal(crc32c(0x5A5A5A5Au, data + off, len), crc32c_sw(0x5A5A5A5Au, data + off, len));
        }
    }
}

static void test_incremental(void **state)
{
    (void)state;
    uint8_t data[777];
    uint64_t seed = 42;
    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)rng_next(&seed);
    }
    uint32_t whole = crc32c(0, data, sizeof(data));
    for (size_t cut = 0; cut <= sizeof(data); cut += 13) {
        uint32_t a = crc32c(0, data, cut);
        assert_int_equal(crc32c(a, data + cut, sizeof(data) - cut), whole);
        uint32_t b = crc32c_sw(0, data, cut);
        assert_int_equal(crc32c_sw(b, data + cut, sizeof(data) - cut), whole);
    }
    /* Byte by byte. */
    uint32_t c = 0;
    for (size_t i = 0; i < sizeof(data); i++) {
        c = crc32c(c, data + i, 1);
    }
    assert_int_equal(c, whole);
}

static void test_detects_changes(void **state)
{
    (void)state;
    uint8_t data[64];
    memset(data, 0x33, sizeof(data));
    uint32_t base = crc32c(0, data, sizeof(data));
    for (size_t i = 0; i < sizeof(data); i++) {
        for (int bit = 0; bit < 8; bit++) {
            data[i] ^= (uint8_t)(1u << bit);
            assert_int_not_equal(crc32c(0, data, sizeof(data)), base);
            data[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* A NUL byte counts: "a\0" differs from "a". */
    assert_int_not_equal(crc32c(0, "a\0", 2), crc32c(0, "a", 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden),
        cmocka_unit_test(test_hw_equals_sw),
        cmocka_unit_test(test_incremental),
        cmocka_unit_test(test_detects_changes),
    };
    return cmocka_run_group_tests_name("crc32c", tests, NULL, NULL);
}

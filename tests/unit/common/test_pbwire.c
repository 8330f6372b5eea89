/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for common/pbwire.c: tags, varints, fixed64, sub-messages and
 * skipping on good bytes, and every malformed shape failing in bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/pbwire.h"

static void test_walk(void **state)
{
    (void)state;
    /* field 1 varint 150; field 2 len "hi"; field 3 fixed64 1; field 4 fixed32; field 5 len {field 1 varint 7} */
    static const uint8_t msg[] = { 0x08, 0x96, 0x01, 0x12, 0x02, 'h', 'i', 0x19, 1,    0,    0,    0,   0,
                                   0,    0,    0,    0x25, 9,    9,   9,   9,    0x2a, 0x02, 0x08, 0x07 };
    pbwire_t c = pbwire_init(msg, sizeof(msg));
    uint32_t f, wt;
    bool bad = false;
    uint64_t v;
    assert_true(pbwire_tag(&c, &f, &wt, &bad) && f == 1 && wt == PBWIRE_VARINT);
    assert_true(pbwire_varint(&c, &v) && v == 150);
    assert_true(pbwire_tag(&c, &f, &wt, &bad) && f == 2 && wt == PBWIRE_LEN);
    pbwire_t sub;
    assert_true(pbwire_sub(&c, &sub) && sub.len == 2 && memcmp(sub.p, "hi", 2) == 0);
    assert_true(pbwire_tag(&c, &f, &wt, &bad) && f == 3 && wt == PBWIRE_I64);
    assert_true(pbwire_fixed64(&c, &v) && v == 1);
    assert_true(pbwire_tag(&c, &f, &wt, &bad) && f == 4 && wt == PBWIRE_I32);
    assert_true(pbwire_skip(&c, wt));
    assert_true(pbwire_tag(&c, &f, &wt, &bad) && f == 5 && wt == PBWIRE_LEN);
    assert_true(pbwire_sub(&c, &sub));
    assert_true(pbwire_tag(&sub, &f, &wt, &bad) && f == 1);
    assert_true(pbwire_varint(&sub, &v) && v == 7);
    assert_false(pbwire_tag(&sub, &f, &wt, &bad));
    assert_false(pbwire_tag(&c, &f, &wt, &bad));
    assert_false(bad);
    char err[64];
    assert_int_equal(pbwire_fail(err, sizeof(err), &sub, "x"), -1);
    assert_string_equal(err, "protobuf: x at byte 25");
}

static void test_malformed(void **state)
{
    (void)state;
    uint32_t f, wt;
    uint64_t v;
    pbwire_t sub;
    static const uint8_t field0[] = { 0x00, 0x01 };
    bool bad = false;
    pbwire_t c = pbwire_init(field0, sizeof(field0));
    assert_false(pbwire_tag(&c, &f, &wt, &bad));
    assert_true(bad);
    static const uint8_t cut_varint[] = { 0x08, 0x96 };
    c = pbwire_init(cut_varint, sizeof(cut_varint));
    bad = false;
    assert_true(pbwire_tag(&c, &f, &wt, &bad));
    assert_false(pbwire_varint(&c, &v));
    static const uint8_t long_len[] = { 0x12, 0x7f, 'a' };
    c = pbwire_init(long_len, sizeof(long_len));
    assert_true(pbwire_tag(&c, &f, &wt, &bad));
    assert_false(pbwire_sub(&c, &sub));
    static const uint8_t short64[] = { 0x19, 1, 2, 3 };
    c = pbwire_init(short64, sizeof(short64));
    assert_true(pbwire_tag(&c, &f, &wt, &bad));
    assert_false(pbwire_fixed64(&c, &v));
    assert_false(pbwire_skip(&c, PBWIRE_I64));
    assert_false(pbwire_skip(&c, 3)); /* groups */
    assert_false(pbwire_skip(&c, 6));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_logs_filter: logs/logs_filter.c. No false negatives (every
 * substring of every line added may occur), absent literals are mostly
 * refused, short literals always pass, the builder resets between
 * chunks, and hostile filter bytes (empty, bad k, truncated) never crash
 * and never refuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "logs/logs_int.h"

static const char *const LINES[] = {
    "level=info msg=\"request served\" path=/api/v1/query status=200",
    "Nov 22 07:07:01 host CRON[1234]: (root) CMD (command -v debian-sa1 > /dev/null)",
    "\x01\x02\xff binary \x00 bytes",
    "ab",
};

static void test_no_false_negatives(void **state)
{
    (void)state;
    logs_filter_builder_t b;
    logs_filter_builder_init(&b);
    for (size_t i = 0; i < 4; i++) {
        logs_filter_add(&b, LINES[i], i == 2 ? 18 : strlen(LINES[i]));
    }
    buf_t f = { 0 };
    logs_filter_finish(&b, &f);
    for (size_t i = 0; i < 4; i++) {
        size_t len = i == 2 ? 18 : strlen(LINES[i]);
        for (size_t s = 0; s < len; s++) {
            for (size_t e = s; e <= len; e++) {
                assert_true(logs_filter_may_contain(f.data, f.len, str_from(LINES[i] + s, e - s)));
            }
        }
    }
    /* absent literals: at most a few false positives */
    int fp = 0;
    for (int i = 0; i < 1000; i++) {
        char lit[32];
        snprintf(lit, sizeof(lit), "zq%dxj", i);
        fp += logs_filter_may_contain(f.data, f.len, str_cstr(lit));
    }
    assert_true(fp < 50);
    /* under 3 bytes: always possible */
    assert_true(logs_filter_may_contain(f.data, f.len, STR_LIT("zz")));
    /* the builder starts over: an empty chunk refuses every 3-byte literal */
    buf_reset(&f);
    logs_filter_finish(&b, &f);
    assert_int_equal(f.len, 1);
    assert_false(logs_filter_may_contain(f.data, f.len, STR_LIT("abc")));
    logs_filter_add(&b, "xyz", 3);
    buf_reset(&f);
    logs_filter_finish(&b, &f);
    assert_true(logs_filter_may_contain(f.data, f.len, STR_LIT("xyz")));
    assert_false(logs_filter_may_contain(f.data, f.len, STR_LIT("request")));
    buf_fini(&f);
    logs_filter_builder_fini(&b);
}

static void test_hostile_filters(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const uint8_t *p;
        size_t len;
    } cases[] = {
        { "empty", (const uint8_t *)"", 0 },
        { "k zero", (const uint8_t *)"\x00\xff\xff", 3 },
        { "k too big", (const uint8_t *)"\x11\xff\xff", 3 },
        { "k 255", (const uint8_t *)"\xff", 1 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (!logs_filter_may_contain(cases[i].p, cases[i].len, STR_LIT("needle"))) {
            fail_msg("%s: refused", cases[i].name);
        }
    }
    uint8_t ones[9];
    memset(ones, 0xff, sizeof(ones));
    ones[0] = 16;
    assert_true(logs_filter_may_contain(ones, sizeof(ones), STR_LIT("anything at all")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_false_negatives),
        cmocka_unit_test(test_hostile_filters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for common/clock.c: injected and real clocks, timestamp parsing
 * (float seconds and RFC 3339, goldens and hostile inputs, every prefix),
 * RFC 3339 formatting checked against gmtime_r over a random sweep.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <stdio.h>
#include <time.h>

#include "common/clock.h"

static int64_t fixed_now(void *ctx)
{
    return *(const int64_t *)ctx;
}

static void test_clocks(void **state)
{
    (void)state;
    int64_t t = 1700000000123;
    pclock_t fixed = { .now_ms = fixed_now, .ctx = &t };
    assert_int_equal(clock_now_ms(&fixed), 1700000000123);
    t += 5;
    assert_int_equal(clock_now_ms(&fixed), 1700000000128);

    pclock_t real = clock_real();
    int64_t now = clock_now_ms(&real);
    assert_true(now > 1577836800000); /* after 2020-01-01 */
    assert_true(now < 4102444800000); /* before 2100-01-01 */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t sys = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    assert_true(sys - now >= 0 && sys - now < 5000);

    double a = clock_mono_s();
    double b = clock_mono_s();
    assert_true(a > 0);
    assert_true(b >= a);
}

typedef struct parse_case {
    const char *in;
    bool ok;
    int64_t want;
} parse_case_t;

static void test_parse(void **state)
{
    (void)state;
    const parse_case_t cases[] = {
        { "1700000000", true, 1700000000000 },
        { "1700000000.123", true, 1700000000123 },
        { "1700000000.1239", true, 1700000000124 },
        { "0", true, 0 },
        { "-1.5", true, -1500 },
        { "-0.001", true, -1 },
        { "0.0005", true, 1 },
        { "-0.0005", true, -1 },
        { "0.0004", true, 0 },
        { "1e3", true, 1000000 },
        { "+5", true, 5000 },
        { "0x1p4", true, 16000 },
        { "9007199254740991", true, 9007199254740991000 },
        { "9007199254740992", false, 0 },
        { "1e300", false, 0 },
        { "NaN", false, 0 },
        { "Inf", false, 0 },
        { "-Inf", false, 0 },
        { "2023-11-14T22:13:20.123Z", true, 1700000000123 },
        { "2023-11-14T22:13:20Z", true, 1700000000000 },
        { "2023-11-15T00:13:20.123+02:00", true, 1700000000123 },
        { "2023-11-14T20:43:20.123-01:30", true, 1700000000123 },
        { "2023-11-14T22:13:20.1Z", true, 1700000000100 },
        { "2023-11-14T22:13:20.1234567Z", true, 1700000000123 },
        { "2023-11-14T22:13:20.123456789Z", true, 1700000000123 },
        { "2023-11-14T22:13:20.9995Z", true, 1700000001000 }, /* rounds, carries */
        { "2023-11-14T22:13:20.0005Z", true, 1700000000001 },
        { "2023-11-14T22:13:20.00049Z", true, 1700000000000 },
        { "1970-01-01T00:00:00Z", true, 0 },
        { "1969-12-31T23:59:59.999Z", true, -1 },
        { "1969-12-31T23:59:59.9995Z", true, 0 },
        { "2000-02-29T00:00:00Z", true, 951782400000 },
        { "1600-02-29T12:00:00Z", true, -11670955200000 },
        { "0000-01-01T00:00:00Z", true, -62167219200000 },
        { "9999-12-31T23:59:59.999Z", true, 253402300799999 },
        { "2023-11-14T22:13:20+23:59", true, 1700000000000 - (23 * 3600 + 59 * 60) * 1000LL },
        { "-292273086-05-16T16:47:06Z", true, -9223309901258974000 },         /* Prometheus minTime */
        { "292277025-08-18T07:12:54.999999999Z", true, 9223309901258974999 }, /* Prometheus maxTime */
        { "-292273086-05-16T16:47:07Z", false, 0 },
        { "292277025-08-18T07:12:54.999Z", false, 0 },
        { "2023-02-29T00:00:00Z", false, 0 },
        { "1900-02-29T00:00:00Z", false, 0 },
        { "2023-04-31T00:00:00Z", false, 0 },
        { "2023-00-10T00:00:00Z", false, 0 },
        { "2023-13-10T00:00:00Z", false, 0 },
        { "2023-11-00T00:00:00Z", false, 0 },
        { "2023-11-14T24:00:00Z", false, 0 },
        { "2023-11-14T22:60:00Z", false, 0 },
        { "2023-11-14T22:13:60Z", false, 0 },
        { "2023-11-14 22:13:20Z", false, 0 },
        { "2023-11-14t22:13:20Z", false, 0 },
        { "2023-11-14T22:13:20z", false, 0 },
        { "2023-11-14T22:13:20", false, 0 },
        { "2023-11-14T22:13:20.Z", false, 0 },
        { "2023-11-14T22:13:20.1234567890Z", false, 0 },
        { "2023-11-14T22:13:20+0200", false, 0 },
        { "2023-11-14T22:13:20+02", false, 0 },
        { "2023-11-14T22:13:20+24:00", false, 0 },
        { "2023-11-14T22:13:20+02:60", false, 0 },
        { "2023-11-14T22:13:20Z ", false, 0 },
        { " 2023-11-14T22:13:20Z", false, 0 },
        { "23-11-14T22:13:20Z", false, 0 },
        { "2023-1-14T22:13:20Z", false, 0 },
        { "+2023-11-14T22:13:20Z", false, 0 },
        { "2023-11-14T22:13:20.12a3Z", false, 0 },
        { "", false, 0 },
        { " 1", false, 0 },
        { "1s", false, 0 },
        { "now", false, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t v = 424242;
        bool ok = time_parse_ms(cases[i].in, strlen(cases[i].in), &v);
        if (ok != cases[i].ok) {
            fail_msg("time_parse_ms(\"%s\") = %d", cases[i].in, ok);
        }
        if (ok && v != cases[i].want) {
            fail_msg("time_parse_ms(\"%s\") = %lld want %lld", cases[i].in, (long long)v, (long long)cases[i].want);
        }
        if (!ok) {
            assert_int_equal(v, 424242);
        }
    }
    int64_t v = 0;
    assert_false(time_parse_ms("2023-11-14T22:13:20Z\0", 21, &v));
    assert_false(time_parse_ms("2023-11-14T22:13\0:20Z", 20, &v));
    assert_false(time_parse_ms("1\0", 2, &v));
    /* A slice: the bytes after len are not looked at. */
    assert_true(time_parse_ms("2023-11-14T22:13:20ZZZZ", 20, &v));
    assert_int_equal(v, 1700000000000);
}

static void test_parse_prefixes(void **state)
{
    (void)state;
    const char *full = "2023-11-14T22:13:20.123+02:00";
    size_t len = strlen(full);
    for (size_t n = 0; n < len; n++) {
        int64_t v = 0;
        bool ok = time_parse_ms(full, n, &v);
        bool want = n >= 1 && n <= 4; /* "2", "20", "202", "2023" are seconds */
        if (ok != want) {
            fail_msg("prefix %zu: %d", n, ok);
        }
    }
    int64_t v = 0;
    assert_true(time_parse_ms(full, len, &v));
    assert_int_equal(v, 1700000000123 - 2 * 3600 * 1000);
}

typedef struct fmt_case {
    int64_t ms;
    const char *want;
} fmt_case_t;

static void test_format(void **state)
{
    (void)state;
    const fmt_case_t cases[] = {
        { 1700000000123, "2023-11-14T22:13:20.123Z" },
        { 0, "1970-01-01T00:00:00.000Z" },
        { -1, "1969-12-31T23:59:59.999Z" },
        { -86400000, "1969-12-31T00:00:00.000Z" },
        { 951782400000, "2000-02-29T00:00:00.000Z" },
        { 253402300799999, "9999-12-31T23:59:59.999Z" },
        { -62167219200000, "0000-01-01T00:00:00.000Z" },
        { 4102444800000, "2100-01-01T00:00:00.000Z" },
        { INT64_MAX, "292278994-08-17T07:12:55.807Z" },
        { INT64_MIN, "-292275055-05-16T16:47:04.192Z" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[32];
        memset(buf, 'X', sizeof(buf));
        size_t n = time_format_rfc3339(cases[i].ms, buf);
        assert_int_equal(n, strlen(cases[i].want));
        assert_string_equal(buf, cases[i].want);
    }
}

static void test_format_vs_gmtime(void **state)
{
    (void)state;
    uint64_t seed = 0xABCDEF0123456789ull;
    for (int i = 0; i < 20000; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        /* Years 0000..9999. */
        int64_t ms = -62167219200000 + (int64_t)(seed % (253402300799999ull + 62167219200000ull + 1));
        char buf[32];
        size_t n = time_format_rfc3339(ms, buf);
        int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
        time_t t = (time_t)secs;
        struct tm tm;
        assert_non_null(gmtime_r(&t, &tm));
        char want[64];
        snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms - secs * 1000));
        assert_string_equal(buf, want);
        /* And it parses back. */
        int64_t back = 0;
        assert_true(time_parse_ms(buf, n, &back));
        assert_int_equal(back, ms);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clocks),           cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_prefixes),   cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_vs_gmtime),
    };
    return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}

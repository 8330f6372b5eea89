/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for common/str.c: slice helpers, integer/float/duration/bool parsers
 * (table-driven, with hostile inputs: NUL, blanks, overflow, junk, every
 * prefix of valid input), duration formatting and UTF-8 validation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <locale.h>
#include <math.h>

#include "common/str.h"

#define S(lit) str_from((lit), sizeof(lit) - 1)

static void test_slices(void **state)
{
    (void)state;
    assert_true(str_eq(STR_LIT("abc"), str_cstr("abc")));
    assert_false(str_eq(STR_LIT("abc"), STR_LIT("abd")));
    assert_false(str_eq(STR_LIT("ab"), STR_LIT("abc")));
    assert_true(str_eq(str_from(NULL, 0), STR_LIT("")));
    assert_true(str_eq_cstr(STR_LIT("x"), "x"));
    assert_false(str_eq_cstr(S("x\0"), "x"));
    assert_int_equal(str_cstr(NULL).len, 0);
    assert_int_equal(str_cmp(STR_LIT("a"), STR_LIT("b")), -1);
    assert_int_equal(str_cmp(STR_LIT("b"), STR_LIT("a")), 1);
    assert_int_equal(str_cmp(STR_LIT("ab"), STR_LIT("abc")), -1);
    assert_int_equal(str_cmp(STR_LIT("abc"), STR_LIT("ab")), 1);
    assert_int_equal(str_cmp(STR_LIT(""), STR_LIT("")), 0);
    assert_int_equal(str_cmp(STR_LIT("\xff"), STR_LIT("\x01")), 1); /* unsigned bytes */
    assert_int_equal(str_cmp(str_from(NULL, 0), STR_LIT("a")), -1);
    assert_true(str_has_prefix(STR_LIT("prometheus"), "prom"));
    assert_true(str_has_prefix(STR_LIT("prom"), ""));
    assert_false(str_has_prefix(STR_LIT("pro"), "prom"));
}

typedef struct int_case {
    const char *in;
    bool ok;
    int64_t want;
} int_case_t;

static void test_parse_i64(void **state)
{
    (void)state;
    const int_case_t cases[] = {
        { "0", true, 0 },
        { "-0", true, 0 },
        { "+17", true, 17 },
        { "-17", true, -17 },
        { "007", true, 7 },
        { "9223372036854775807", true, INT64_MAX },
        { "-9223372036854775808", true, INT64_MIN },
        { "9223372036854775808", false, 0 },
        { "-9223372036854775809", false, 0 },
        { "99999999999999999999999", false, 0 },
        { "", false, 0 },
        { "-", false, 0 },
        { "+", false, 0 },
        { " 1", false, 0 },
        { "1 ", false, 0 },
        { "1_000", false, 0 },
        { "0x10", false, 0 },
        { "1e3", false, 0 },
        { "--1", false, 0 },
        { "1.0", false, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t v = 12345;
        bool ok = str_parse_i64(str_cstr(cases[i].in), &v);
        if (ok != cases[i].ok) {
            fail_msg("str_parse_i64(\"%s\") = %d", cases[i].in, ok);
        }
        if (ok) {
            assert_int_equal(v, cases[i].want);
        } else {
            assert_int_equal(v, 12345); /* out untouched on failure */
        }
    }
    int64_t v = 0;
    assert_false(str_parse_i64(S("12\0003"), &v));        /* embedded NUL */
    assert_true(str_parse_i64(str_from("12345", 3), &v)); /* slice, not C string */
    assert_int_equal(v, 123);
}

static void test_parse_u64(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_true(str_parse_u64(STR_LIT("18446744073709551615"), &v));
    assert_true(v == UINT64_MAX);
    assert_false(str_parse_u64(STR_LIT("18446744073709551616"), &v));
    assert_false(str_parse_u64(STR_LIT("-1"), &v));
    assert_true(str_parse_u64(STR_LIT("+5"), &v));
    assert_int_equal(v, 5);
    assert_false(str_parse_u64(STR_LIT(""), &v));
    assert_false(str_parse_u64(STR_LIT("5x"), &v));
    assert_false(str_parse_u64(S("\0"), &v));
}

typedef struct dbl_case {
    const char *in;
    bool ok;
    double want; /* compared bitwise unless NaN */
} dbl_case_t;

static void test_parse_double(void **state)
{
    (void)state;
    const dbl_case_t cases[] = {
        { "0", true, 0.0 },
        { "-0", true, -0.0 },
        { "1", true, 1.0 },
        { "+1.5", true, 1.5 },
        { "-2.25e3", true, -2250.0 },
        { "1.", true, 1.0 },
        { ".5", true, 0.5 },
        { "1e10", true, 1e10 },
        { "1E-2", true, 0.01 },
        { "1e+2", true, 100.0 },
        { "0.1", true, 0.1 },
        { "1700000000.123", true, 1700000000.123 },
        { "1.7976931348623157e308", true, 1.7976931348623157e308 },
        { "4.9e-324", true, 4.9e-324 },
        { "1e-400", true, 0.0 }, /* underflow is not an error in Go */
        { "1e400", false, 0 },   /* overflow is (ErrRange) */
        { "-1e400", false, 0 },
        { "0x1p-2", true, 0.25 },
        { "0X1.8P1", true, 3.0 },
        { "0x.8p1", true, 1.0 },
        { "-0x10p0", true, -16.0 },
        { "0x10", false, 0 }, /* hex mantissa needs p exponent */
        { "0x1e3", false, 0 },
        { "0xp1", false, 0 },
        { "0x1p", false, 0 },
        { "Inf", true, INFINITY },
        { "inf", true, INFINITY },
        { "+Inf", true, INFINITY },
        { "-inf", true, -INFINITY },
        { "INFINITY", true, INFINITY },
        { "-Infinity", true, -INFINITY },
        { "infin", false, 0 },
        { "", false, 0 },
        { "+", false, 0 },
        { ".", false, 0 },
        { "e5", false, 0 },
        { "1e", false, 0 },
        { "1e+", false, 0 },
        { "1.2.3", false, 0 },
        { " 1", false, 0 },
        { "1 ", false, 0 },
        { "\t1", false, 0 },
        { "1_000", false, 0 },
        { "1,5", false, 0 },
        { "nan(1)", false, 0 },
        { "+NaN", false, 0 }, /* Go takes no sign on NaN */
        { "-nan", false, 0 },
        { "1f", false, 0 },
        { "0b101", false, 0 },
        { "--1", false, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double v = 777.0;
        bool ok = str_parse_double(str_cstr(cases[i].in), &v);
        if (ok != cases[i].ok) {
            fail_msg("str_parse_double(\"%s\") = %d", cases[i].in, ok);
        }
        if (ok) {
            if (memcmp(&v, &cases[i].want, sizeof(v)) != 0) {
                fail_msg("str_parse_double(\"%s\") = %.17g, want %.17g", cases[i].in, v, cases[i].want);
            }
        } else {
            assert_true(v == 777.0);
        }
    }
    const char *nans[] = { "NaN", "nan", "NAN", "nAn" };
    for (size_t i = 0; i < 4; i++) {
        double v = 0;
        assert_true(str_parse_double(str_cstr(nans[i]), &v));
        assert_true(isnan(v));
    }
    double v = 0;
    assert_false(str_parse_double(S("1\0"), &v));
    assert_false(str_parse_double(S("\0001"), &v));
    assert_true(str_parse_double(str_from("2.5xyz", 3), &v)); /* slice, not C string */
    assert_true(v == 2.5);
}

static void test_parse_double_long(void **state)
{
    (void)state;
    /* Longer than any stack copy: 300 digits of 1 followed by e-299. */
    char s[400];
    memset(s, '1', 300);
    memcpy(s + 300, "e-299", 5);
    double v = 0;
    assert_true(str_parse_double(str_from(s, 305), &v));
    assert_true(fabs(v - 1.1111111111111111) < 1e-15);
    s[150] = 'x';
    assert_false(str_parse_double(str_from(s, 305), &v));
}

static void test_parse_double_locale(void **state)
{
    (void)state;
    /* With a decimal-comma locale installed, "." must still be the point. */
    const char *names[] = { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "ru_RU.UTF-8" };
    bool set = false;
    for (size_t i = 0; i < 4 && !set; i++) {
        set = setlocale(LC_NUMERIC, names[i]) != NULL;
    }
    double v = 0;
    assert_true(str_parse_double(STR_LIT("1.5"), &v));
    assert_true(v == 1.5);
    assert_false(str_parse_double(STR_LIT("1,5"), &v));
    setlocale(LC_NUMERIC, "C");
    /* Without any such locale installed this ran in "C" only. */
    (void)set;
}

typedef struct dur_case {
    const char *in;
    bool ok;
    int64_t want;
} dur_case_t;

static void test_parse_duration(void **state)
{
    (void)state;
    const int64_t S1 = 1000, M = 60 * S1, H = 60 * M, D = 24 * H, W = 7 * D, Y = 365 * D;
    const dur_case_t cases[] = {
        { "0", true, 0 },
        { "0s", true, 0 },
        { "15s", true, 15 * S1 },
        { "250ms", true, 250 },
        { "1h30m", true, H + 30 * M },
        { "1d", true, D },
        { "1w", true, W },
        { "1y", true, Y },
        { "1y2w3d4h5m6s7ms", true, Y + 2 * W + 3 * D + 4 * H + 5 * M + 6 * S1 + 7 },
        { "90m", true, 90 * M },
        { "1m30s500ms", true, M + 30 * S1 + 500 },
        { "0h0m", true, 0 },
        { "9223372036854775807ms", true, INT64_MAX },
        { "9223372036854775808ms", false, 0 },
        { "106751991167d", true, 106751991167 * D },
        { "106751991168d", false, 0 },
        { "292471208y", true, 292471208 * Y },
        { "292471209y", false, 0 },
        { "292471208y35w", true, 292471208 * Y + 35 * W },
        { "292471208y36w", false, 0 }, /* sum overflows */
        { "", false, 0 },
        { "00", false, 0 },
        { "1", false, 0 },
        { "s", false, 0 },
        { "1x", false, 0 },
        { "30m1h", false, 0 }, /* ascending */
        { "1h1h", false, 0 },  /* repeated */
        { "1ms1s", false, 0 },
        { "-1s", false, 0 },
        { "+1s", false, 0 },
        { "1.5h", false, 0 },
        { " 1s", false, 0 },
        { "1s ", false, 0 },
        { "1S", false, 0 },
        { "1us", false, 0 },
        { "1sm", false, 0 },
        { "1mss", false, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t v = -1;
        bool ok = str_parse_duration_ms(str_cstr(cases[i].in), &v);
        if (ok != cases[i].ok) {
            fail_msg("str_parse_duration_ms(\"%s\") = %d", cases[i].in, ok);
        }
        if (ok) {
            assert_int_equal(v, cases[i].want);
        }
    }
    int64_t v = 0;
    assert_false(str_parse_duration_ms(S("1s\0"), &v));
    assert_false(str_parse_duration_ms(S("1\0s"), &v));
    /* Prefixes: valid exactly when they end on a unit that keeps the order. */
    const char *full = "1y2w3d4h5m6s7ms";
    for (size_t n = 1; n < strlen(full); n++) {
        bool ok = str_parse_duration_ms(str_from(full, n), &v);
        bool ends_with_unit = full[n - 1] >= 'a' && full[n - 1] <= 'z';
        bool want = ends_with_unit && n != strlen(full) - 1; /* "…6s7m": m after s */
        if (ok != want) {
            fail_msg("prefix %zu of %s: %d", n, full, ok);
        }
    }
}

typedef struct fmt_case {
    int64_t ms;
    const char *want;
} fmt_case_t;

static void test_format_duration(void **state)
{
    (void)state;
    const int64_t S1 = 1000, M = 60 * S1, H = 60 * M, D = 24 * H, W = 7 * D, Y = 365 * D;
    const fmt_case_t cases[] = {
        { 0, "0s" },
        { 1, "1ms" },
        { 15 * S1, "15s" },
        { H + 30 * M, "1h30m" },
        { M + 30 * S1 + 500, "1m30s500ms" },
        { D, "1d" },
        { W, "1w" },
        { 2 * W, "2w" },
        { Y, "1y" },
        { 90 * D, "90d" }, /* not 12w6d: weeks only when exact */
        { Y + D, "366d" }, /* years only when exact */
        { 2 * Y, "2y" },
        { W + H, "7d1h" }, /* weeks only when exact */
        { 3 * D + 4 * H + 5 * M + 6 * S1 + 7, "3d4h5m6s7ms" },
        { -15 * S1, "-15s" },
        { INT64_MAX, "106751991167d7h12m55s807ms" },
        { INT64_MIN, "-106751991167d7h12m55s808ms" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[32];
        memset(buf, 'X', sizeof(buf));
        size_t n = str_format_duration_ms(cases[i].ms, buf);
        assert_int_equal(n, strlen(cases[i].want));
        assert_string_equal(buf, cases[i].want);
    }
}

static void test_duration_round_trip(void **state)
{
    (void)state;
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 20000; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        int64_t ms = (int64_t)(seed >> (1 + seed % 63)); /* wide spread of magnitudes */
        char buf[32];
        size_t n = str_format_duration_ms(ms, buf);
        assert_true(n < 32);
        int64_t back = -1;
        if (!str_parse_duration_ms(str_from(buf, n), &back)) {
            fail_msg("cannot parse formatted %s", buf);
        }
        assert_int_equal(back, ms);
    }
}

static void test_parse_bool(void **state)
{
    (void)state;
    const char *yes[] = { "true", "TRUE", "True", "yes", "1" };
    const char *no[] = { "false", "False", "no", "NO", "0" };
    const char *bad[] = { "", "t", "2", "truee", " true", "on", "y" };
    for (size_t i = 0; i < 5; i++) {
        bool v = false;
        assert_true(str_parse_bool(str_cstr(yes[i]), &v));
        assert_true(v);
        v = true;
        assert_true(str_parse_bool(str_cstr(no[i]), &v));
        assert_false(v);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bool v = false;
        assert_false(str_parse_bool(str_cstr(bad[i]), &v));
    }
    bool v = false;
    assert_false(str_parse_bool(S("true\0"), &v));
}

typedef struct utf8_case {
    const char *name;
    const char *in;
    size_t len;
    bool ok;
} utf8_case_t;

#define U(name, lit, ok)                                                                                               \
    {                                                                                                                  \
        name, lit, sizeof(lit) - 1, ok                                                                                 \
    }

static void test_utf8(void **state)
{
    (void)state;
    const utf8_case_t cases[] = {
        U("empty", "", true),
        U("ascii", "hello", true),
        U("nul", "a\0b", true),
        U("2-byte", "\xc3\xa9", true),
        U("3-byte", "\xe2\x82\xac", true),
        U("4-byte", "\xf0\x9f\x98\x80", true),
        U("max", "\xf4\x8f\xbf\xbf", true),
        U("bom", "\xef\xbb\xbf", true),
        U("U+D7FF", "\xed\x9f\xbf", true),
        U("U+E000", "\xee\x80\x80", true),
        U("overlong /", "\xc0\xaf", false),
        U("overlong C1", "\xc1\xbf", false),
        U("overlong 3", "\xe0\x80\xaf", false),
        U("overlong 3 max", "\xe0\x9f\xbf", false),
        U("overlong 4", "\xf0\x80\x80\xaf", false),
        U("overlong 4 max", "\xf0\x8f\xbf\xbf", false),
        U("surrogate lo", "\xed\xa0\x80", false),
        U("surrogate hi", "\xed\xbf\xbf", false),
        U("above max", "\xf4\x90\x80\x80", false),
        U("f5", "\xf5\x80\x80\x80", false),
        U("ff", "\xff", false),
        U("lone cont", "\x80", false),
        U("trunc 2", "\xc3", false),
        U("trunc 3", "\xe2\x82", false),
        U("trunc 4", "\xf0\x9f\x98", false),
        U("bad cont", "\xe2\x28\xa1", false),
        U("bad cont 4th", "\xf0\x9f\x98\x28", false),
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (str_utf8_valid(cases[i].in, cases[i].len) != cases[i].ok) {
            fail_msg("utf8 case %s", cases[i].name);
        }
    }
    /* Byte-by-byte truncation of a valid multi-byte string. */
    const char *s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z";
    size_t len = strlen(s);
    const bool boundary[] = { true, true, false, true, false, false, true, false, false, false, true, true };
    for (size_t n = 0; n <= len; n++) {
        if (str_utf8_valid(s, n) != boundary[n]) {
            fail_msg("prefix %zu", n);
        }
    }
    assert_true(str_utf8_valid(NULL, 0));
}

static void test_utf8_exhaustive_2_3(void **state)
{
    (void)state;
    /* Compare with a decode-and-check reference over all 2- and 3-byte inputs. */
    for (unsigned a = 0; a < 256; a++) {
        for (unsigned b = 0; b < 256; b++) {
            unsigned char s[2] = { (unsigned char)a, (unsigned char)b };
            bool want = false;
            if (a < 0x80) {
                want = b < 0x80;
            } else if ((a & 0xE0) == 0xC0 && (b & 0xC0) == 0x80) {
                want = (((a & 0x1F) << 6) | (b & 0x3F)) >= 0x80;
            }
            assert_int_equal(str_utf8_valid((const char *)s, 2), want);
        }
    }
    for (unsigned a = 0xE0; a < 0xF0; a++) {
        for (unsigned b = 0; b < 256; b++) {
            for (unsigned c = 0; c < 256; c += 1) {
                unsigned char s[3] = { (unsigned char)a, (unsigned char)b, (unsigned char)c };
                bool want = false;
                if ((b & 0xC0) == 0x80 && (c & 0xC0) == 0x80) {
                    unsigned cp = ((a & 0x0F) << 12) | ((b & 0x3F) << 6) | (c & 0x3F);
                    want = cp >= 0x800 && !(cp >= 0xD800 && cp <= 0xDFFF);
                }
                assert_int_equal(str_utf8_valid((const char *)s, 3), want);
            }
        }
    }
}

static void test_hex_digit(void **state)
{
    (void)state;
    static const char digits[] = "0123456789abcdefABCDEF";
    static const int values[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 10, 11, 12, 13, 14, 15 };
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        assert_int_equal(str_hex_digit(digits[i]), values[i]);
    }
    static const int bad[] = { 'g', 'G', '/', ':', '@', '`', ' ', 0, -1, 0x100 + '1', 0x7f };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(str_hex_digit(bad[i]), -1);
    }
}

static void test_utf8_encode(void **state)
{
    (void)state;
    static const struct {
        uint32_t r;
        const char *want;
    } cases[] = {
        { 0x41, "A" },
        { 0x7F, "\x7f" },
        { 0x80, "\xc2\x80" },
        { 0xE9, "\xc3\xa9" },
        { 0x7FF, "\xdf\xbf" },
        { 0x800, "\xe0\xa0\x80" },
        { 0x20AC, "\xe2\x82\xac" },
        { 0xFFFF, "\xef\xbf\xbf" },
        { 0x10000, "\xf0\x90\x80\x80" },
        { 0x1F600, "\xf0\x9f\x98\x80" },
        { 0x10FFFF, "\xf4\x8f\xbf\xbf" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char dst[4];
        size_t n = str_utf8_encode(cases[i].r, dst);
        assert_int_equal(n, strlen(cases[i].want));
        assert_memory_equal(dst, cases[i].want, n);
        assert_true(str_utf8_valid(dst, n));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_encode),
        cmocka_unit_test(test_hex_digit),
        cmocka_unit_test(test_slices),
        cmocka_unit_test(test_parse_i64),
        cmocka_unit_test(test_parse_u64),
        cmocka_unit_test(test_parse_double),
        cmocka_unit_test(test_parse_double_long),
        cmocka_unit_test(test_parse_double_locale),
        cmocka_unit_test(test_parse_duration),
        cmocka_unit_test(test_format_duration),
        cmocka_unit_test(test_duration_round_trip),
        cmocka_unit_test(test_parse_bool),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_utf8_exhaustive_2_3),
    };
    return cmocka_run_group_tests_name("str", tests, NULL, NULL);
}

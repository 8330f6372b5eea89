/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for common/json_out.c. Strings: Go encoding/json escapes, invalid
 * UTF-8 byte by byte. Floats: goldens of Go's FormatFloat(f, 'g'|'e'|'f',
 * -1, 64) (the table below was produced by an independent model: shortest
 * digits from CPython's repr, laid out by Go's fmtE/fmtF rules), and random
 * doubles checked against a brute-force shortest-digit search.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/buf.h"
#include "common/json_out.h"

typedef struct str_case {
    const char *name;
    const char *in;
    size_t len;
    const char *want;
} str_case_t;

#define SC(name, lit, want)                                                                                            \
    {                                                                                                                  \
        name, lit, sizeof(lit) - 1, want                                                                               \
    }

static void test_strings(void **state)
{
    (void)state;
    const str_case_t cases[] = {
        SC("empty", "", "\"\""),
        SC("plain", "hello world", "\"hello world\""),
        SC("quote", "a\"b", "\"a\\\"b\""),
        SC("backslash", "a\\b", "\"a\\\\b\""),
        SC("newline", "a\nb\rc\td", "\"a\\nb\\rc\\td\""),
        SC("controls", "\x01\x08\x0c\x1f", "\"\\u0001\\u0008\\u000c\\u001f\""),
        SC("nul", "a\0b", "\"a\\u0000b\""),
        SC("del kept", "\x7f", "\"\x7f\""),
        SC("html", "<a href='x'>&</a>", "\"\\u003ca href='x'\\u003e\\u0026\\u003c/a\\u003e\""),
        SC("slash kept", "a/b", "\"a/b\""),
        SC("utf8 kept", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""),
        SC("u2028",
           "a\xe2\x80\xa8"
           "b\xe2\x80\xa9",
           "\"a\\u2028b\\u2029\""),
        SC("fffd kept", "\xef\xbf\xbd", "\"\xef\xbf\xbd\""),
        SC("lone cont", "\x80", "\"\\ufffd\""),
        SC("ff",
           "a\xff"
           "b",
           "\"a\\ufffdb\""),
        SC("overlong", "\xc0\xaf", "\"\\ufffd\\ufffd\""),
        SC("surrogate", "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""),
        SC("above max", "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""),
        SC("trunc 3", "\xe2\x82", "\"\\ufffd\\ufffd\""),
        SC("trunc then ascii",
           "\xe2\x82"
           "A",
           "\"\\ufffd\\ufffdA\""),
        SC("trunc 4 at end", "x\xf0\x9f\x98", "\"x\\ufffd\\ufffd\\ufffd\""),
        SC("bad then good", "\xc3\xc3\xa9", "\"\\ufffd\xc3\xa9\""),
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_t b;
        buf_init(&b);
        buf_puts(&b, "pre:");
        json_str(&b, cases[i].in, cases[i].len);
        if (b.len != 4 + strlen(cases[i].want) || memcmp(b.data + 4, cases[i].want, b.len - 4) != 0) {
            fail_msg("case %s: got %s want %s", cases[i].name, (char *)b.data + 4, cases[i].want);
        }
        assert_int_equal(b.data[b.len], 0);
        buf_fini(&b);
    }
    buf_t b;
    buf_init(&b);
    json_cstr(&b, "x<y");
    assert_string_equal((char *)b.data, "\"x\\u003cy\"");
    buf_fini(&b);
}

static void test_strings_all_bytes(void **state)
{
    (void)state;
    /* Every single byte: output is valid, quoted, and has no raw control. */
    for (unsigned c = 0; c < 256; c++) {
        buf_t b;
        buf_init(&b);
        char in = (char)c;
        json_str(&b, &in, 1);
        assert_true(b.len >= 3);
        assert_int_equal(b.data[0], '"');
        assert_int_equal(b.data[b.len - 1], '"');
        for (size_t k = 0; k < b.len; k++) {
            assert_true(b.data[k] >= 0x20);
        }
        if (c >= 0x80) {
            assert_string_equal((char *)b.data, "\"\\ufffd\"");
        }
        buf_fini(&b);
    }
}

static void test_strings_long(void **state)
{
    (void)state;
    /* Longer than the initial buffer, mixing runs and escapes. */
    buf_t b;
    buf_init(&b);
    char in[5000];
    for (size_t i = 0; i < sizeof(in); i++) {
        in[i] = (i % 100 == 0) ? '\n' : (char)('a' + i % 26);
    }
    json_str(&b, in, sizeof(in));
    assert_int_equal(b.len, 2 + sizeof(in) + 50);
    assert_memory_equal(b.data + 1, "\\nbcd", 5);
    buf_fini(&b);
}

typedef struct float_case {
    uint64_t bits;
    const char *g;
    const char *e;
    const char *f; /* NULL: long output not listed */
} float_case_t;

static const float_case_t float_cases[] = {
    { 0x0000000000000000ull, "0", "0e+00", "0" },
    { 0x8000000000000000ull, "-0", "-0e+00", "-0" },
    { 0x3ff0000000000000ull, "1", "1e+00", "1" },
    { 0xbff0000000000000ull, "-1", "-1e+00", "-1" },
    { 0x3fb999999999999aull, "0.1", "1e-01", "0.1" },
    { 0x3fe0000000000000ull, "0.5", "5e-01", "0.5" },
    { 0x3ff8000000000000ull, "1.5", "1.5e+00", "1.5" },
    { 0x4004000000000000ull, "2.5", "2.5e+00", "2.5" },
    { 0x4059000000000000ull, "100", "1e+02", "100" },
    { 0x412e848000000000ull, "1e+06", "1e+06", "1000000" },
    { 0x40fe240000000000ull, "123456", "1.23456e+05", "123456" },
    { 0x4132d68700000000ull, "1.234567e+06", "1.234567e+06", "1234567" },
    { 0x412e847e00000000ull, "999999", "9.99999e+05", "999999" },
    { 0x3f1a36e2eb1c432dull, "0.0001", "1e-04", "0.0001" },
    { 0x3ee4f8b588e368f1ull, "1e-05", "1e-05", "0.00001" },
    { 0x3f202e4b6ce5dc68ull, "0.00012345", "1.2345e-04", "0.00012345" },
    { 0x444b1ae4d6e2ef50ull, "1e+21", "1e+21", "1000000000000000000000" },
    { 0x4415af1d78b58c40ull, "1e+20", "1e+20", "100000000000000000000" },
    { 0x4480f0cf064dd592ull, "1e+22", "1e+22", "10000000000000000000000" },
    { 0x44b52d02c7e14af6ull, "1e+23", "1e+23", "100000000000000000000000" },
    { 0x0000000000000001ull, "5e-324", "5e-324", NULL },
    { 0x0010000000000000ull, "2.2250738585072014e-308", "2.2250738585072014e-308", NULL },
    { 0x7fefffffffffffffull, "1.7976931348623157e+308", "1.7976931348623157e+308", NULL },
    { 0x41d954fc4007df3bull, "1.700000000123e+09", "1.700000000123e+09", "1700000000.123" },
    { 0x3fd5555555555555ull, "0.3333333333333333", "3.333333333333333e-01", "0.3333333333333333" },
    { 0x3fe5555555555555ull, "0.6666666666666666", "6.666666666666666e-01", "0.6666666666666666" },
    { 0x3fd3333333333333ull, "0.3", "3e-01", "0.3" },
    { 0x3fd3333333333334ull, "0.30000000000000004", "3.0000000000000004e-01", "0.30000000000000004" },
    { 0x4340000000000000ull, "9.007199254740992e+15", "9.007199254740992e+15", "9007199254740992" },
    { 0x4340000000000000ull, "9.007199254740992e+15", "9.007199254740992e+15", "9007199254740992" },
    { 0x4350000000000000ull, "1.8014398509481984e+16", "1.8014398509481984e+16", "18014398509481984" },
    { 0x43e0000000000000ull, "9.223372036854776e+18", "9.223372036854776e+18", "9223372036854776000" },
    { 0x437b69b4ba630f35ull, "1.2345678901234568e+17", "1.2345678901234568e+17", "123456789012345680" },
    { 0x400921f9f01b866eull, "3.14159", "3.14159e+00", "3.14159" },
    /* The exact-arithmetic path (1e-3 <= v < 1e21, 16-17 digits, powers of two). */
    { 0x3fc9999999999999ull, "0.19999999999999998", "1.9999999999999998e-01", "0.19999999999999998" },
    { 0x43b0000000000000ull, "1.152921504606847e+18", "1.152921504606847e+18", "1152921504606847000" },
    { 0x3f50624dd2f1a9fcull, "0.001", "1e-03", "0.001" },
    { 0x3f50624dd2f1a9fbull, "0.0009999999999999998", "9.999999999999998e-04", "0.0009999999999999998" },
    { 0x3f60000000000000ull, "0.001953125", "1.953125e-03", "0.001953125" },
    { 0x42d6bcc41e900000ull, "1e+14", "1e+14", "100000000000000" },
    { 0x40b9d00000000001ull, "6608.000000000001", "6.608000000000001e+03", "6608.000000000001" },
    { 0xc005bf0a8b145769ull, "-2.718281828459045", "-2.718281828459045e+00", "-2.718281828459045" },
    { 0x3e7ad7f29abcaf48ull, "1e-07", "1e-07", "0.0000001" },
    { 0x3e8421f5f40d8376ull, "1.5e-07", "1.5e-07", "0.00000015" },
    { 0x54b249ad2594c37dull, "1e+100", "1e+100", NULL },
    { 0x2b2bff2ee48e0530ull, "1e-100", "1e-100", NULL },
    { 0x4011666666666666ull, "4.35", "4.35e+00", "4.35" },
    { 0x3eb0c6f7a0b5ed8dull, "1e-06", "1e-06", "0.000001" },
    { 0x430c6bf526340000ull, "1e+15", "1e+15", "1000000000000000" },
    { 0x4341c37937e08000ull, "1e+16", "1e+16", "10000000000000000" },
    { 0x40c81cd6c8b43958ull, "12345.678", "1.2345678e+04", "12345.678" },
    { 0x0060000000000000ull, "7.120236347223045e-307", "7.120236347223045e-307", NULL },
    { 0x0100000000000000ull, "7.291122019556398e-304", "7.291122019556398e-304", NULL },
    { 0x0420000000000000ull, "8.209073602596753e-289", "8.209073602596753e-289", NULL },
    { 0x0d70000000000000ull, "5.858190679279809e-244", "5.858190679279809e-244", NULL },
    { 0x447c7e83209e90b2ull, "8.41e+21", "8.41e+21", "8410000000000000000000" },
    { 0x00005c0ab9347ed7ull, "5e-310", "5e-310", NULL },
    { 0xf2a74de452e6b438ull, "-1.989032661366619e+244", "-1.989032661366619e+244", NULL },
    { 0x6513270e269e0d37ull, "7.761117632285041e+178", "7.761117632285041e+178", NULL },
    { 0x0c5c7fd0a6a3a450ull, "3.980498358697587e-249", "3.980498358697587e-249", NULL },
    { 0xd23f0824128b2f33ull, "-1.5432835417340557e+88", "-1.5432835417340557e+88", NULL },
    { 0x1818e811892f902bull, "1.3647584518757569e-192", "1.3647584518757569e-192", NULL },
    { 0x9531985d5d9dc9f8ull, "-1.3701135617873088e-206", "-1.3701135617873088e-206", NULL },
    { 0xe8e25d940ed90475ull, "-1.7160537630466207e+197", "-1.7160537630466207e+197", NULL },
    { 0x36f675cc81e74ef5ull, "6.294675241195386e-44", "6.294675241195386e-44",
      "0.00000000000000000000000000000000000000000006294675241195386" },
    { 0x1600a35a099950d8ull, "1.0613447212142254e-202", "1.0613447212142254e-202", NULL },
    { 0x6b0d549b6f03675aull, "4.708325160387546e+207", "4.708325160387546e+207", NULL },
    { 0x3d9c172411e20b8full, "6.387016158513563e-12", "6.387016158513563e-12", "0.000000000006387016158513563" },
    { 0x8d116ece1738f7d9ull, "-9.973130378568733e-246", "-9.973130378568733e-246", NULL },
    { 0x0f21ddb66cad4a26ull, "8.779753225680271e-236", "8.779753225680271e-236", NULL },
    { 0x90c192cfd3ac94afull, "-5.795503248498993e-228", "-5.795503248498993e-228", NULL },
    { 0xf28c105d1fb17c23ull, "-5.988180159386011e+243", "-5.988180159386011e+243", NULL },
    { 0xa170b33839263059ull, "-1.306052388527796e-147", "-1.306052388527796e-147", NULL },
    { 0x953f48f1a09f76b5ull, "-2.436117699484841e-206", "-2.436117699484841e-206", NULL },
    { 0x0fd630f1f29d0da9ull, "2.233386999150174e-232", "2.233386999150174e-232", NULL },
    { 0x95e60af593bd04cfull, "-3.51527970626667e-203", "-3.51527970626667e-203", NULL },
    { 0x0cb1e29c658cda14ull, "1.5987381841032883e-247", "1.5987381841032883e-247", NULL },
    { 0x3898d190f9ebdaccull, "4.6678633181812096e-36", "4.6678633181812096e-36",
      "0.0000000000000000000000000000000000046678633181812096" },
    { 0x8e81973e0becd7b0ull, "-8.441872792105456e-239", "-8.441872792105456e-239", NULL },
    { 0x2217beaddbc496cbull, "1.9015657400796622e-144", "1.9015657400796622e-144", NULL },
    { 0x6b4cb2424a23d596ull, "7.370437700706684e+208", "7.370437700706684e+208", NULL },
    { 0x8a6a63ec24ede6a4ull, "-1.7163996725272777e-258", "-1.7163996725272777e-258", NULL },
    { 0x922766581e27a1c0ull, "-3.2367190832119987e-221", "-3.2367190832119987e-221", NULL },
    { 0x8f6d05584ef8aa38ull, "-2.2818334634712625e-234", "-2.2818334634712625e-234", NULL },
    { 0xae97ba94d0eda82full, "-3.0536383926309363e-84", "-3.0536383926309363e-84", NULL },
    { 0x1a61dbe22e44158bull, "1.3449551894627777e-181", "1.3449551894627777e-181", NULL },
    { 0x923a736994e3bf91ull, "-7.317495976062606e-221", "-7.317495976062606e-221", NULL },
    { 0x40a5b48a3d70a3d7ull, "2778.27", "2.77827e+03", "2778.27" },
    { 0xc0bf7363736cdf26ull, "-8051.38848", "-8.05138848e+03", "-8051.38848" },
    { 0xc0c1140000000000ull, "-8744", "-8.744e+03", "-8744" },
    { 0x40a298624dd2f1aaull, "2380.192", "2.380192e+03", "2380.192" },
    { 0x40ac2fff7ced9168ull, "3607.999", "3.607999e+03", "3607.999" },
    { 0x40b5a89333333333ull, "5544.575", "5.544575e+03", "5544.575" },
    { 0x409abcf2b020c49cull, "1711.237", "1.711237e+03", "1711.237" },
    { 0xc0a5a0cccccccccdull, "-2768.4", "-2.7684e+03", "-2768.4" },
    { 0x40b6ff96f1fddebeull, "5887.58963", "5.88758963e+03", "5887.58963" },
    { 0x40b5dd0000000000ull, "5597", "5.597e+03", "5597" },
};

static double from_bits(uint64_t bits)
{
    double d = 0;
    memcpy(&d, &bits, sizeof(d));
    return d;
}

static void check_float(double f, char fmt, const char *want)
{
    buf_t b;
    buf_init(&b);
    json_go_float(&b, f, fmt);
    char got[400];
    snprintf(got, sizeof(got), "%s", (char *)b.data);
    bool same = b.len == strlen(want) && strcmp(got, want) == 0;
    buf_fini(&b);
    if (!same) {
        fail_msg("FormatFloat(%.17g, '%c') = %s, want %s", f, fmt, got, want);
    }
}

static void test_float_brief(void **state)
{
    (void)state;
    check_float(1e6, 'g', "1e+06");
    check_float(123456, 'g', "123456");
    check_float(1234567, 'g', "1.234567e+06");
    check_float(0.0001, 'g', "0.0001");
    check_float(0.00001, 'g', "1e-05");
    check_float(0.1, 'f', "0.1");
    check_float(1e21, 'f', "1000000000000000000000");
    check_float(-0.0, 'g', "-0");
    check_float(5e-324, 'g', "5e-324");
    check_float(1.7976931348623157e308, 'g', "1.7976931348623157e+308");
    check_float(100, 'e', "1e+02");
    check_float(1e100, 'g', "1e+100");
    check_float(1.5e-7, 'g', "1.5e-07");
    check_float(NAN, 'g', "NaN");
    check_float(NAN, 'f', "NaN");
    check_float(INFINITY, 'f', "+Inf");
    check_float(-INFINITY, 'e', "-Inf");
    check_float(1700000000.123, 'f', "1700000000.123");
    check_float(1, 'x', "1"); /* unknown fmt acts as 'g' */
}

static void test_float_golden(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(float_cases) / sizeof(float_cases[0]); i++) {
        double f = from_bits(float_cases[i].bits);
        check_float(f, 'g', float_cases[i].g);
        check_float(f, 'e', float_cases[i].e);
        if (float_cases[i].f) {
            check_float(f, 'f', float_cases[i].f);
        }
    }
}

/* Brute force: for each digit count, try the correctly rounded value and
 * both decimal neighbours; the first count with a round trip wins, nearest
 * first. Returns the mantissa digits (no trailing zeros) and exponent. */
static void brute_shortest(double f, char *digits, int *exp10)
{
    for (int p = 1; p <= 17; p++) {
        char tmp[64];
        snprintf(tmp, sizeof(tmp), "%.*e", p - 1, f);
        char *e = strchr(tmp, 'e');
        int ex = atoi(e + 1);
        char d[32];
        int nd = 0;
        for (char *q = tmp; q < e; q++) {
            if (*q >= '0' && *q <= '9') {
                d[nd++] = *q;
            }
        }
        d[nd] = 0;
        long long m = atoll(d);
        const long long cand[3] = { m, m - 1, m + 1 };
        for (int k = 0; k < 3; k++) {
            char t[64];
            snprintf(t, sizeof(t), "%llde%d", cand[k], ex - (p - 1));
            if (cand[k] > 0 && strtod(t, NULL) == f) {
                snprintf(digits, 32, "%lld", cand[k]);
                *exp10 = ex - (p - 1) + (int)strlen(digits) - 1;
                size_t n = strlen(digits);
                while (n > 1 && digits[n - 1] == '0') {
                    digits[--n] = 0;
                }
                return;
            }
        }
    }
    fail_msg("no round trip for %a", f);
}

static void test_float_random(void **state)
{
    (void)state;
    uint64_t seed = 0xC0FFEE1234ull;
    for (int i = 0; i < 30000; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        double f = from_bits(seed);
        if (i % 3 == 0) {
            f = (double)(int64_t)(seed % 2000000) / 1000.0; /* sample-like values */
        }
        if (i % 3 == 1) {
            f = ldexp(1.0, (int)(seed % 2098) - 1074); /* powers of two */
        }
        if (!isfinite(f) || f == 0) {
            continue;
        }
        f = fabs(f);
        char want_d[32];
        int want_e = 0;
        brute_shortest(f, want_d, &want_e);
        char want[64];
        if (want_d[1]) {
            snprintf(want, sizeof(want), "%c.%se%c%02d", want_d[0], want_d + 1, want_e < 0 ? '-' : '+', abs(want_e));
        } else {
            snprintf(want, sizeof(want), "%ce%c%02d", want_d[0], want_e < 0 ? '-' : '+', abs(want_e));
        }
        check_float(f, 'e', want);
        /* 'g' and 'f' read back to the same double. */
        buf_t b;
        buf_init(&b);
        json_go_float(&b, f, 'g');
        assert_true(strtod((char *)b.data, NULL) == f);
        buf_reset(&b);
        json_go_float(&b, -f, 'f');
        assert_true(strtod((char *)b.data, NULL) == -f);
        buf_fini(&b);
    }
}

static void test_float_appends(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b);
    buf_puts(&b, "[");
    json_go_float(&b, 1.5, 'f');
    buf_putc(&b, ',');
    json_go_float(&b, -INFINITY, 'f');
    buf_putc(&b, ']');
    assert_string_equal((char *)b.data, "[1.5,-Inf]");
    buf_fini(&b);
}

/* Random doubles across the fast paths and the exact-arithmetic path:
 * the 'e' output must read back as the same double and carry exactly the
 * digits of the shortest correctly rounded "%.*e" that reads back (the
 * reference is libc; powers of two, where Go may pick the other
 * neighbour, are left to the table above). */
static void test_float_random_shortest(void **state)
{
    (void)state;
    uint64_t x = 0x2545f4914f6cdd1dULL;
    buf_t b = { 0 };
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double f;
        switch (i % 3) {
        case 0: /* anywhere in the finite range */
            memcpy(&f, &x, sizeof(f));
            break;
        case 1: /* where queries live */
            f = (double)(x >> 11) / 9007199254740992.0 * pow(10, (double)(int)(x % 26) - 4);
            break;
        default: /* short decimals */
            f = (double)(x % 1000000007) / pow(10, (double)(x % 13));
            break;
        }
        uint64_t bits;
        memcpy(&bits, &f, sizeof(bits));
        if (!isfinite(f) || f == 0 || (bits & ((1ULL << 52) - 1)) == 0) {
            continue;
        }
        buf_reset(&b);
        json_go_float(&b, f, 'e');
        assert_true(strtod((const char *)b.data, NULL) == f);
        char ref[40];
        for (int p = 1; p <= 17; p++) {
            snprintf(ref, sizeof(ref), "%.*e", p - 1, f);
            if (strtod(ref, NULL) == f) {
                break;
            }
        }
        /* Same significant digits and exponent (our 'e' trims zeros). */
        char *re = strchr(ref, 'e');
        char *oe = strchr((char *)b.data, 'e');
        assert_non_null(re);
        assert_non_null(oe);
        assert_int_equal(atoi(re + 1), atoi(oe + 1));
        char rd[24] = { 0 }, od[24] = { 0 };
        size_t rn = 0, on = 0;
        for (char *c = ref; c < re; c++) {
            if (*c >= '0' && *c <= '9') {
                rd[rn++] = *c;
            }
        }
        for (char *c = (char *)b.data; c < oe; c++) {
            if (*c >= '0' && *c <= '9') {
                od[on++] = *c;
            }
        }
        while (rn > 1 && rd[rn - 1] == '0') {
            rd[--rn] = 0;
        }
        assert_string_equal(od, rd);
    }
    buf_fini(&b);
}

/* json_labels: the given order kept, names and values escaped, appended
 * to what the buffer holds, embedded NULs carried by length. */
static void test_labels(void **state)
{
    (void)state;
    const label_t ls[] = {
        { STR_LIT("job"), STR_LIT("api") },
        { STR_LIT("a\"b"), STR_LIT("line\nnext\\") },
        { STR_LIT(""), STR_LIT("") },
        { STR_LIT("nul"), { "x\0y", 3 } },
    };
    static const struct {
        size_t n;
        const char *want;
    } cases[] = {
        { 0, "<{}" },
        { 1, "<{\"job\":\"api\"}" },
        { 2, "<{\"job\":\"api\",\"a\\\"b\":\"line\\nnext\\\\\"}" },
        { 4, "<{\"job\":\"api\",\"a\\\"b\":\"line\\nnext\\\\\",\"\":\"\",\"nul\":\"x\\u0000y\"}" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_t b = { 0 };
        buf_putc(&b, '<');
        json_labels(&b, ls, cases[i].n);
        assert_string_equal((const char *)b.data, cases[i].want);
        buf_fini(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_random_shortest),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_strings_all_bytes),
        cmocka_unit_test(test_strings_long),
        cmocka_unit_test(test_float_brief),
        cmocka_unit_test(test_float_golden),
        cmocka_unit_test(test_float_random),
        cmocka_unit_test(test_float_appends),
        cmocka_unit_test(test_labels),
    };
    return cmocka_run_group_tests_name("json_out", tests, NULL, NULL);
}

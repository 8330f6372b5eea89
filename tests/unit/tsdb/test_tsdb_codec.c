/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for tsdb/tsdb_codec.c: block timestamp and value columns.
 *
 * Round trips are bit-exact over seeded value families (counters, counters
 * past 2^53, decimal gauges with 1-6 places, NaN payloads, StaleNaN, ±Inf,
 * -0.0, 1e±300, denormals, random bit patterns, constants, decimals with
 * stale markers) and timestamp shapes (15 s grid, jitter, big gaps,
 * negative, int64 extremes) at n = 1, 2, 3, 120, 1000, 8192. Every decoder
 * is fed every truncation of valid encodings from exact-size heap copies
 * (ASan sees overreads), byte flips, random garbage and named hostile
 * headers. Size pins fix the encodings; one case prints bytes/sample
 * (raw and after zstd, as a block page would be) for information.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <zstd.h>

#include "common/buf.h"
#include "common/mem.h"
#include "tsdb/tsdb_int.h"

typedef struct rng {
    uint64_t s;
} rng_t;

static uint64_t rng_next(rng_t *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rng_below(rng_t *r, uint64_t n)
{
    return rng_next(r) % n;
}

static double bits_dbl(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static uint64_t dbl_bits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

enum vfam {
    VF_COUNTER,
    VF_COUNTER_HUGE,
    VF_GAUGE_DEC,
    VF_SPECIALS,
    VF_RANDBITS,
    VF_CONST,
    VF_DEC_STALE,
    VF_HUGE_TINY,
    VF_STEP_COUNTER,
    VF_BIG_DEC_MIX,
    VF_COUNT,
};

static const char *const vfam_name[VF_COUNT] = {
    "counter", "counter-huge", "gauge-dec", "specials",     "randbits",
    "const",   "dec+stale",    "huge-tiny", "step-counter", "dec-mix",
};

static double special(rng_t *r)
{
    static const uint64_t sp[] = {
        0x7ff0000000000002ULL, 0x7ff8000000000000ULL, 0xfff8000000000001ULL, 0x7ff0000000000000ULL,
        0xfff0000000000000ULL, 0x8000000000000000ULL, 0x0000000000000000ULL, 0x0000000000000001ULL,
        0x000fffffffffffffULL, 0x7fefffffffffffffULL,
    };
    size_t nsp = sizeof sp / sizeof sp[0];
    uint64_t k = rng_below(r, nsp + 3);
    if (k < nsp) {
        return bits_dbl(sp[k]);
    }
    if (k == nsp) {
        return 1e300;
    }
    if (k == nsp + 1) {
        return 1e-300;
    }
    return bits_dbl(rng_next(r));
}

static void gen_values(rng_t *r, int fam, double *v, size_t n)
{
    int places = 1 + (int)rng_below(r, 6);
    double scale = pow(10, places);
    int64_t m = (int64_t)rng_below(r, 100000) - 50000;
    double c = rng_below(r, 2) ? 42.5 : bits_dbl(rng_next(r));
    double x = fam == VF_COUNTER_HUGE ? 9007199254740992.0 - (double)(n * 500) : (double)rng_below(r, 1000000);
    for (size_t i = 0; i < n; i++) {
        switch (fam) {
        case VF_COUNTER:
            x += (double)(rng_below(r, 4) == 0 ? 0 : rng_below(r, 1000));
            v[i] = x;
            break;
        case VF_COUNTER_HUGE:
            x += (double)rng_below(r, 1000);
            v[i] = x;
            break;
        case VF_GAUGE_DEC:
            m += (int64_t)rng_below(r, 201) - 100;
            v[i] = (double)m / scale;
            break;
        case VF_SPECIALS:
            v[i] = special(r);
            break;
        case VF_RANDBITS:
            v[i] = bits_dbl(rng_next(r));
            break;
        case VF_CONST:
            v[i] = c;
            break;
        case VF_DEC_STALE:
            m += (int64_t)rng_below(r, 21) - 10;
            v[i] = rng_below(r, 50) == 0 ? bits_dbl(TSDB_STALE_NAN_BITS) : (double)m / 100.0;
            break;
        case VF_HUGE_TINY:
            v[i] = (rng_below(r, 2) ? 1e300 : 1e-300) * (double)(1 + rng_below(r, 1000));
            break;
        case VF_STEP_COUNTER:
            v[i] = 1000.0 + 5.0 * (double)i;
            break;
        default: /* decimals of mixed scale: 1200, 0.25, 3e-7, 1.5e12 */
            switch (rng_below(r, 4)) {
            case 0:
                v[i] = (double)(rng_below(r, 100) * 100);
                break;
            case 1:
                v[i] = (double)rng_below(r, 100) / 4.0;
                break;
            case 2:
                v[i] = (double)rng_below(r, 10) / 1e7;
                break;
            default:
                v[i] = 1.5e12 + (double)rng_below(r, 1000);
                break;
            }
            break;
        }
    }
}

enum tfam { TF_GRID, TF_JITTER, TF_GAPS, TF_NEGATIVE, TF_EXTREME, TF_COUNT };

static const char *const tfam_name[TF_COUNT] = { "grid", "jitter", "gaps", "negative", "extreme" };

static void gen_ts(rng_t *r, int fam, int64_t *t, size_t n)
{
    int64_t base = 1700000000000LL;
    for (size_t i = 0; i < n; i++) {
        switch (fam) {
        case TF_GRID:
            t[i] = base + (int64_t)i * 15000;
            break;
        case TF_JITTER:
            t[i] = base + (int64_t)i * 15000 + (int64_t)rng_below(r, 5) - 2;
            break;
        case TF_GAPS:
            t[i] = i == 0 ? base : t[i - 1] + (rng_below(r, 10) == 0 ? (int64_t)rng_below(r, 1LL << 40) + 1 : 15000);
            break;
        case TF_NEGATIVE:
            t[i] = -1000000000000LL + (int64_t)i * 10000 + (int64_t)rng_below(r, 3);
            break;
        default: {
            uint64_t span = n > 1 ? UINT64_MAX / (n - 1) : 0;
            t[i] = (int64_t)((uint64_t)INT64_MIN + (uint64_t)i * span - (i ? rng_below(r, 3) : 0));
            if (i == n - 1 && n > 1) {
                t[i] = INT64_MAX;
            }
            break;
        }
        }
    }
}

static uint8_t *heap_copy(const uint8_t *p, size_t len)
{
    uint8_t *c = mem_alloc(len ? len : 1);
    if (len) {
        memcpy(c, p, len);
    }
    return c;
}

/* Decode proper prefixes of enc[0..len) from exact-size copies: all of them
 * when stride is 1, else the first and last 64 and every stride-th. Each
 * gives -1 or a consistent result (consumed <= prefix, the originals). */
static void check_ts_truncations(const uint8_t *enc, size_t len, const int64_t *t, size_t n, size_t stride)
{
    int64_t *out = mem_alloc(n * sizeof *out);
    for (size_t l = 0; l < len; l += (l < 64 || l + 64 >= len ? 1 : stride)) {
        uint8_t *cut = heap_copy(enc, l);
        long k = tsdb_codec_get_ts(cut, l, out, n);
        if (k != -1) {
            assert_true(k > 0 && (size_t)k <= l);
            assert_memory_equal(out, t, n * sizeof *t);
        }
        mem_free(cut);
    }
    mem_free(out);
}

static void check_values_truncations(const uint8_t *enc, size_t len, const double *v, size_t n, size_t stride)
{
    double *out = mem_alloc(n * sizeof *out);
    for (size_t l = 0; l < len; l += (l < 64 || l + 64 >= len ? 1 : stride)) {
        uint8_t *cut = heap_copy(enc, l);
        long k = tsdb_codec_get_values(cut, l, out, n);
        if (k != -1) {
            assert_true(k > 0 && (size_t)k <= l);
            assert_memory_equal(out, v, n * sizeof *v);
        }
        mem_free(cut);
    }
    mem_free(out);
}

static const size_t sizes[] = { 1, 2, 3, 120, 1000, 8192 };
#define NSIZES (sizeof sizes / sizeof sizes[0])

static void test_ts_roundtrip(void **state)
{
    (void)state;
    rng_t r = { 11 };
    for (int tf = 0; tf < TF_COUNT; tf++) {
        for (size_t s = 0; s < NSIZES; s++) {
            size_t n = sizes[s];
            int64_t *t = mem_alloc(n * sizeof *t);
            int64_t *out = mem_alloc(n * sizeof *out);
            gen_ts(&r, tf, t, n);
            buf_t b;
            buf_init(&b);
            buf_putc(&b, 0xEE); /* appends after existing bytes */
            tsdb_codec_put_ts(&b, t, n);
            assert_int_equal(b.data[0], 0xEE);
            size_t len = b.len - 1;
            uint8_t *enc = heap_copy(b.data + 1, len);
            if (n <= 2 || tf == TF_GRID) {
                assert_int_equal(enc[0], TSDB_TS_STEP);
            }
            assert_int_equal(tsdb_codec_get_ts(enc, len, out, n), (long)len);
            assert_memory_equal(out, t, n * sizeof *t);
            /* Every truncation: all of them for n <= 1000, strided beyond. */
            check_ts_truncations(enc, len, t, n, n > 1000 ? 97 : 1);
            mem_free(enc);
            buf_fini(&b);
            mem_free(t);
            mem_free(out);
        }
    }
}

static void test_ts_pins(void **state)
{
    (void)state;
    int64_t t[1000];
    for (int i = 0; i < 1000; i++) {
        t[i] = 1700000000000LL + (int64_t)i * 15000;
    }
    buf_t b;
    buf_init(&b);
    tsdb_codec_put_ts(&b, t, 1000);
    assert_int_equal(b.data[0], TSDB_TS_STEP);
    assert_true(b.len <= 16);
    buf_reset(&b);
    /* n == 1 is a step column with step 0: kind, varint(-5), uvarint(0). */
    int64_t one = -5;
    tsdb_codec_put_ts(&b, &one, 1);
    assert_int_equal(b.len, 3);
    assert_int_equal(b.data[0], TSDB_TS_STEP);
    assert_int_equal(b.data[1], 9);
    assert_int_equal(b.data[2], 0);
    buf_reset(&b);
    /* A single missed scrape makes a DOD column of ~1 byte per sample. */
    t[500] = t[499] + 30000;
    for (int i = 501; i < 1000; i++) {
        t[i] = t[i - 1] + 15000;
    }
    tsdb_codec_put_ts(&b, t, 1000);
    assert_int_equal(b.data[0], TSDB_TS_DOD);
    assert_true(b.len <= 1000 + 12);
    buf_fini(&b);
}

static void test_ts_hostile(void **state)
{
    (void)state;
    int64_t out[8];
    /* n == 0, empty input, unknown kind. */
    static const uint8_t step[] = { TSDB_TS_STEP, 0x02, 0x0a };
    assert_int_equal(tsdb_codec_get_ts(step, sizeof step, out, 0), -1);
    assert_int_equal(tsdb_codec_get_ts(step, 0, out, 1), -1);
    static const uint8_t bad_kind[] = { 0x07, 0x02, 0x0a };
    assert_int_equal(tsdb_codec_get_ts(bad_kind, sizeof bad_kind, out, 3), -1);
    assert_int_equal(tsdb_codec_get_ts(step, sizeof step, out, 3), 3);
    assert_int_equal(out[2], 1 + 20);
    /* Step 0 with n > 1: not increasing. */
    static const uint8_t step0[] = { TSDB_TS_STEP, 0x02, 0x00 };
    assert_int_equal(tsdb_codec_get_ts(step0, sizeof step0, out, 2), -1);
    assert_int_equal(tsdb_codec_get_ts(step0, sizeof step0, out, 1), 3);
    /* Step overflowing int64: t0 = 0, step 2^62, n = 3. */
    static const uint8_t stepovf[] = { TSDB_TS_STEP, 0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40 };
    assert_int_equal(tsdb_codec_get_ts(stepovf, sizeof stepovf, out, 2), (long)sizeof stepovf);
    assert_int_equal(tsdb_codec_get_ts(stepovf, sizeof stepovf, out, 3), -1);
    /* Overlong varint (11 bytes). */
    static const uint8_t longv[] = { TSDB_TS_STEP, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff,         0xff, 0xff, 0xff, 0x01, 0x02 };
    assert_int_equal(tsdb_codec_get_ts(longv, sizeof longv, out, 1), -1);
    /* DOD with a dod making Δ zero, negative, or n < 3. */
    static const uint8_t dodz[] = { TSDB_TS_DOD, 0x00, 0x0a, 0x13 };
    assert_int_equal(tsdb_codec_get_ts(dodz, sizeof dodz, out, 3), -1);
    static const uint8_t dodok[] = { TSDB_TS_DOD, 0x00, 0x0a, 0x02 };
    assert_int_equal(tsdb_codec_get_ts(dodok, sizeof dodok, out, 3), 4);
    assert_int_equal(out[1], 10);
    assert_int_equal(out[2], 21);
    assert_int_equal(tsdb_codec_get_ts(dodok, sizeof dodok, out, 2), -1);
    assert_int_equal(tsdb_codec_get_ts(dodok, sizeof dodok, out, 4), -1);
    /* DOD wrapping past INT64_MAX: t0 = INT64_MAX - 1 (zigzag ff..fe 01), Δ 1, dod +1. */
    static const uint8_t dodwrap[] = { TSDB_TS_DOD, 0xfc, 0xff, 0xff, 0xff, 0xff, 0xff,
                                       0xff,        0xff, 0xff, 0x01, 0x01, 0x02 };
    assert_int_equal(tsdb_codec_get_ts(dodwrap, sizeof dodwrap, out, 3), -1);
    assert_int_equal(tsdb_codec_get_ts(dodwrap, sizeof dodwrap - 1, out, 3), -1);
}

static void test_ts_garbage(void **state)
{
    (void)state;
    rng_t r = { 12345 };
    int64_t out[200];
    for (int round = 0; round < 20000; round++) {
        size_t len = rng_below(&r, 40);
        uint8_t *g = mem_alloc(len ? len : 1);
        for (size_t i = 0; i < len; i++) {
            g[i] = (uint8_t)(rng_below(&r, 3) ? rng_next(&r) : rng_below(&r, 4));
        }
        size_t n = 1 + rng_below(&r, 200);
        long k = tsdb_codec_get_ts(g, len, out, n);
        assert_true(k == -1 || (k > 0 && (size_t)k <= len));
        for (size_t i = 1; k > 0 && i < n; i++) {
            assert_true(out[i] > out[i - 1]);
        }
        mem_free(g);
    }
}

static void test_values_roundtrip(void **state)
{
    (void)state;
    rng_t r = { 2024 };
    for (int vf = 0; vf < VF_COUNT; vf++) {
        for (size_t s = 0; s < NSIZES; s++) {
            size_t n = sizes[s];
            double *v = mem_alloc(n * sizeof *v);
            double *out = mem_alloc(n * sizeof *out);
            gen_values(&r, vf, v, n);
            buf_t b;
            buf_init(&b);
            buf_putc(&b, 0xEE);
            tsdb_codec_put_values(&b, v, n);
            assert_int_equal(b.data[0], 0xEE);
            size_t len = b.len - 1;
            uint8_t *enc = heap_copy(b.data + 1, len);
            uint8_t kind = enc[0];
            if (vf == VF_RANDBITS && n >= 3) {
                assert_int_equal(kind, TSDB_V_XOR);
            }
            if ((vf == VF_GAUGE_DEC || vf == VF_COUNTER || vf == VF_DEC_STALE || vf == VF_STEP_COUNTER ||
                 vf == VF_BIG_DEC_MIX) &&
                n >= 120) {
                if (kind != TSDB_V_DEC) {
                    print_error("family %s n=%zu: kind %d\n", vfam_name[vf], n, kind);
                }
                assert_int_equal(kind, TSDB_V_DEC);
            }
            if (vf == VF_CONST) {
                assert_true(kind == TSDB_V_CONST || kind == TSDB_V_DEC);
                assert_true(len <= 9);
            }
            assert_int_equal(tsdb_codec_get_values(enc, len, out, n), (long)len);
            for (size_t i = 0; i < n; i++) {
                assert_int_equal(dbl_bits(out[i]), dbl_bits(v[i]));
            }
            check_values_truncations(enc, len, v, n, n > 1000 ? 101 : 1);
            mem_free(enc);
            buf_fini(&b);
            mem_free(v);
            mem_free(out);
        }
    }
}

/* Table of single values and their exact V_DEC bytes. */
static void test_values_decimal_forms(void **state)
{
    (void)state;
    static const struct {
        double v;
        uint8_t hdr; /* mode<<6 | (e+22) */
        int64_t m;
    } cases[] = {
        { 0.25, 22 - 2, 25 },      { 1200, 22 + 2, 12 },         { 0, 22, 0 },
        { -1.234, 22 - 3, -1234 }, { 1e22, 22 + 22, 1 },         { 1.5e-7, 22 - 8, 15 },
        { 0.1, 22 - 1, 1 },        { 123456789, 22, 123456789 }, { -1234567.8, 22 - 1, -12345678 },
        { 3e20, 22 + 20, 3 },      { 0.3, 22 - 1, 3 },           { 1e-22, 0, 1 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf_t b;
        buf_init(&b);
        tsdb_codec_put_values(&b, &cases[i].v, 1);
        assert_int_equal(b.data[0], TSDB_V_DEC);
        assert_int_equal(b.data[1], cases[i].hdr);
        assert_int_equal(b.data[2], 0); /* no exceptions */
        buf_t want;
        buf_init(&want);
        buf_put_varint(&want, cases[i].m);
        assert_int_equal(b.len, 3 + want.len);
        assert_memory_equal(b.data + 3, want.data, want.len);
        double out = 0;
        assert_int_equal(tsdb_codec_get_values(b.data, b.len, &out, 1), (long)b.len);
        assert_int_equal(dbl_bits(out), dbl_bits(cases[i].v));
        buf_fini(&want);
        buf_fini(&b);
    }
    /* Mantissas up to 2^53 - 1 are decimal; 2^53 + 2 is not (a 9-byte V_CONST
     * beats a 10-byte V_DEC for a lone 15-digit value, so use columns). */
    double big[100];
    for (int i = 0; i < 100; i++) {
        big[i] = 9007199254740991.0 - 99 + i;
    }
    buf_t b;
    buf_init(&b);
    tsdb_codec_put_values(&b, big, 100);
    assert_int_equal(b.data[0], TSDB_V_DEC);
    assert_int_equal(b.data[1], 22); /* step mode, e = 0 */
    assert_int_equal(b.data[2], 0);
    assert_true(b.len <= 3 + 8 + 1);
    double back[100];
    assert_int_equal(tsdb_codec_get_values(b.data, b.len, back, 100), (long)b.len);
    assert_memory_equal(back, big, sizeof big);
    buf_reset(&b);
    big[50] = 9007199254740994.0;
    tsdb_codec_put_values(&b, big, 100);
    assert_int_equal(b.data[0], TSDB_V_DEC);
    assert_int_equal(b.data[2], 1 << 2); /* one exception (nexc << 2 | form)... */
    assert_int_equal(b.data[3], 50);     /* ...at row 50, the step run intact */
    assert_true(b.len <= 3 + 1 + 8 + 8 + 1);
    assert_int_equal(tsdb_codec_get_values(b.data, b.len, back, 100), (long)b.len);
    assert_memory_equal(back, big, sizeof big);
    buf_reset(&b);
    /* Not decimal: 0.1+0.2 (17 digits), 2^53+2, 1e300, -0.0, 1e-300, 1e-23. */
    static const double nondec[] = { 0.1 + 0.2, 9007199254740994.0, 1e300, -0.0, 1e-300, 1e-23 };
    for (size_t i = 0; i < sizeof nondec / sizeof nondec[0]; i++) {
        tsdb_codec_put_values(&b, &nondec[i], 1);
        assert_int_equal(b.data[0], TSDB_V_CONST);
        buf_reset(&b);
    }
    buf_fini(&b);
}

static void test_values_pins(void **state)
{
    (void)state;
    double v[1000];
    buf_t b;
    buf_init(&b);
    /* Constant-increment counter: kind, hdr, nexc, m0, d. */
    for (int i = 0; i < 1000; i++) {
        v[i] = 1000.0 + 5.0 * i;
    }
    tsdb_codec_put_values(&b, v, 1000);
    assert_int_equal(b.data[0], TSDB_V_DEC);
    assert_true(b.len <= 8);
    buf_reset(&b);
    /* The same counter with stale markers: each costs its 9-10 bytes only. */
    v[10] = bits_dbl(TSDB_STALE_NAN_BITS);
    v[500] = bits_dbl(TSDB_STALE_NAN_BITS);
    v[999] = bits_dbl(TSDB_STALE_NAN_BITS);
    tsdb_codec_put_values(&b, v, 1000);
    assert_int_equal(b.data[0], TSDB_V_DEC);
    assert_true(b.len <= 8 + 3 * 11);
    buf_reset(&b);
    /* Stale markers at rows 0, 1 and the end keep the step run. */
    static const size_t stale_rows[][3] = { { 0, 1, 999 }, { 0, 2, 3 }, { 1, 998, 999 } };
    for (size_t k = 0; k < 3; k++) {
        for (int i = 0; i < 1000; i++) {
            v[i] = 1000.0 + 5.0 * i;
        }
        for (int j = 0; j < 3; j++) {
            v[stale_rows[k][j]] = bits_dbl(TSDB_STALE_NAN_BITS);
        }
        buf_reset(&b);
        tsdb_codec_put_values(&b, v, 1000);
        assert_int_equal(b.data[0], TSDB_V_DEC);
        assert_int_equal(b.data[1] >> 6, 0); /* step mode */
        assert_true(b.len <= 8 + 3 * 11);
        double back[1000];
        assert_int_equal(tsdb_codec_get_values(b.data, b.len, back, 1000), (long)b.len);
        assert_memory_equal(back, v, sizeof back);
    }
    /* A gauge random walk with stale rows: the delta run is not disturbed. */
    rng_t r = { 3 };
    int64_t m = 500;
    for (int i = 0; i < 1000; i++) {
        m += (int64_t)rng_below(&r, 7) - 3;
        v[i] = i % 97 == 5 ? bits_dbl(TSDB_STALE_NAN_BITS) : (double)m / 10.0;
    }
    buf_reset(&b);
    tsdb_codec_put_values(&b, v, 1000);
    assert_int_equal(b.data[0], TSDB_V_DEC);
    assert_true(b.len <= 1000 + 11 * 11 + 8);
    double back[1000];
    assert_int_equal(tsdb_codec_get_values(b.data, b.len, back, 1000), (long)b.len);
    assert_memory_equal(back, v, sizeof back);
    buf_reset(&b);
    /* Constant decimal gauge: smaller than V_CONST. */
    for (int i = 0; i < 1000; i++) {
        v[i] = 0.5;
    }
    tsdb_codec_put_values(&b, v, 1000);
    assert_int_equal(b.data[0], TSDB_V_DEC);
    assert_true(b.len <= 5);
    buf_reset(&b);
    /* Constant StaleNaN: V_CONST. */
    for (int i = 0; i < 1000; i++) {
        v[i] = bits_dbl(TSDB_STALE_NAN_BITS);
    }
    tsdb_codec_put_values(&b, v, 1000);
    assert_int_equal(b.len, 9);
    assert_int_equal(b.data[0], TSDB_V_CONST);
    buf_reset(&b);
    /* More than n/4 exceptions: V_XOR. */
    for (int i = 0; i < 1000; i++) {
        v[i] = i % 3 == 0 ? bits_dbl(TSDB_STALE_NAN_BITS) : (double)i;
    }
    tsdb_codec_put_values(&b, v, 1000);
    assert_int_equal(b.data[0], TSDB_V_XOR);
    buf_fini(&b);
}

static void test_values_hostile(void **state)
{
    (void)state;
    double out[16];
    static const uint8_t cst[] = { TSDB_V_CONST, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f };
    assert_int_equal(tsdb_codec_get_values(cst, sizeof cst, out, 0), -1);
    assert_int_equal(tsdb_codec_get_values(cst, 0, out, 1), -1);
    assert_int_equal(tsdb_codec_get_values(cst, sizeof cst, out, 16), 9);
    assert_true(out[15] == 1.0);
    static const uint8_t kind[] = { 0x09, 20, 0, 2 };
    assert_int_equal(tsdb_codec_get_values(kind, sizeof kind, out, 1), -1);
    /* Valid base: 0.1 at e=-1. */
    static const uint8_t ok[] = { TSDB_V_DEC, 21, 0, 2 };
    assert_int_equal(tsdb_codec_get_values(ok, sizeof ok, out, 1), 4);
    assert_true(out[0] == 0.1);
    /* e out of range (e+22 = 45), mode 3. */
    static const uint8_t bad_e[] = { TSDB_V_DEC, 45, 0, 2 };
    assert_int_equal(tsdb_codec_get_values(bad_e, sizeof bad_e, out, 1), -1);
    static const uint8_t bad_mode[] = { TSDB_V_DEC, 0xc0 | 21, 0, 2 };
    assert_int_equal(tsdb_codec_get_values(bad_mode, sizeof bad_mode, out, 1), -1);
    /* nexc > n/4. */
    static const uint8_t many[] = { TSDB_V_DEC, 21, 1 << 2, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    assert_int_equal(tsdb_codec_get_values(many, sizeof many, out, 3), -1);
    assert_int_equal(tsdb_codec_get_values(many, sizeof many, out, 4), -1); /* short mantissas */
    /* Exception index out of range (gap 4 with n = 4). */
    static const uint8_t far[] = { TSDB_V_DEC, 21, 1 << 2, 4, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0 };
    assert_int_equal(tsdb_codec_get_values(far, sizeof far, out, 4), -1);
    /* Two exceptions, second gap past the end (n = 8: 2 allowed). */
    static const uint8_t far2[] = { TSDB_V_DEC, 21, 2 << 2, 6, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0,
                                    0,          0,  0,      0, 0, 0, 0, 2, 0, 0, 0, 0, 0 };
    assert_int_equal(tsdb_codec_get_values(far2, sizeof far2, out, 8), -1);
    /* Valid exception at index 3 of 4, mode 0 step 0: m = 1,1,1. */
    static const uint8_t exc[] = { TSDB_V_DEC, 22, 1 << 2, 3, 2, 0, 0, 0, 0, 0, 0xf0, 0x7f, 2, 0 };
    assert_int_equal(tsdb_codec_get_values(exc, sizeof exc, out, 4), (long)sizeof exc);
    assert_true(out[0] == 1 && out[1] == 1 && out[2] == 1);
    assert_int_equal(dbl_bits(out[3]), TSDB_STALE_NAN_BITS);
    /* Mantissa reaching 2^53 through a delta (mode 1): m0 = 2^53-1, +1. */
    buf_t b;
    buf_init(&b);
    buf_putc(&b, TSDB_V_DEC);
    buf_putc(&b, (1 << 6) | 22);
    buf_put_uvarint(&b, 0);
    buf_put_varint(&b, ((int64_t)1 << 53) - 1);
    buf_put_varint(&b, 1);
    assert_int_equal(tsdb_codec_get_values(b.data, b.len, out, 1), (long)b.len - 1);
    assert_int_equal(tsdb_codec_get_values(b.data, b.len, out, 2), -1);
    buf_reset(&b);
    /* Mode 2 with wrapping deltas: INT64_MAX dods must not trap (UBSan). */
    buf_putc(&b, TSDB_V_DEC);
    buf_putc(&b, (2 << 6) | 22);
    buf_put_uvarint(&b, 0);
    buf_put_varint(&b, 0);
    buf_put_varint(&b, INT64_MAX);
    buf_put_varint(&b, INT64_MAX);
    assert_int_equal(tsdb_codec_get_values(b.data, b.len, out, 3), -1);
    buf_reset(&b);
    /* Mode 0: step applied n-1 times goes out of range. */
    buf_putc(&b, TSDB_V_DEC);
    buf_putc(&b, 22);
    buf_put_uvarint(&b, 0);
    buf_put_varint(&b, 0);
    buf_put_varint(&b, (int64_t)1 << 51);
    assert_int_equal(tsdb_codec_get_values(b.data, b.len, out, 4), (long)b.len);
    assert_int_equal(tsdb_codec_get_values(b.data, b.len, out, 5), -1);
    buf_fini(&b);
    /* V_XOR: '10' with no window after the first value. */
    static const uint8_t xw[] = { TSDB_V_XOR, 0, 0, 0, 0, 0, 0, 0, 0, 0x80 };
    assert_int_equal(tsdb_codec_get_values(xw, sizeof xw, out, 2), -1);
    assert_int_equal(tsdb_codec_get_values(xw, sizeof xw, out, 1), 9);
}

static void test_values_garbage_and_flips(void **state)
{
    (void)state;
    rng_t r = { 777 };
    double out[300];
    for (int round = 0; round < 20000; round++) {
        size_t len = rng_below(&r, 64);
        uint8_t *g = mem_alloc(len ? len : 1);
        for (size_t i = 0; i < len; i++) {
            g[i] = (uint8_t)(rng_below(&r, 3) ? rng_next(&r) : rng_below(&r, 4));
        }
        if (len > 0) {
            g[0] = (uint8_t)(1 + rng_below(&r, 3)); /* mostly valid kinds */
        }
        long k = tsdb_codec_get_values(g, len, out, 1 + rng_below(&r, 300));
        assert_true(k == -1 || (k > 0 && (size_t)k <= len));
        mem_free(g);
    }
    /* Flip each byte of valid encodings to random values. */
    for (int vf = 0; vf < VF_COUNT; vf++) {
        double v[200];
        gen_values(&r, vf, v, 200);
        buf_t b;
        buf_init(&b);
        tsdb_codec_put_values(&b, v, 200);
        for (size_t i = 0; i < b.len; i++) {
            uint8_t *c = heap_copy(b.data, b.len);
            c[i] ^= (uint8_t)(1 + rng_below(&r, 255));
            long k = tsdb_codec_get_values(c, b.len, out, 200);
            assert_true(k == -1 || (k > 0 && (size_t)k <= b.len));
            mem_free(c);
        }
        buf_fini(&b);
    }
}

static size_t zstd_len(const uint8_t *p, size_t len)
{
    size_t cap = ZSTD_compressBound(len);
    void *dst = mem_alloc(cap);
    size_t z = ZSTD_compress(dst, cap, p, len, 3);
    assert_false(ZSTD_isError(z));
    mem_free(dst);
    return z;
}

static void test_bytes_per_sample_info(void **state)
{
    (void)state;
    rng_t r = { 5 };
    static const struct {
        int tf, vf;
    } series[] = {
        { TF_GRID, VF_STEP_COUNTER }, { TF_GRID, VF_COUNTER },     { TF_GRID, VF_GAUGE_DEC },
        { TF_GRID, VF_DEC_STALE },    { TF_JITTER, VF_COUNTER },   { TF_JITTER, VF_GAUGE_DEC },
        { TF_GAPS, VF_CONST },        { TF_GRID, VF_BIG_DEC_MIX }, { TF_GRID, VF_RANDBITS },
    };
    static const size_t ns[] = { 120, 8192 };
    for (size_t s = 0; s < sizeof series / sizeof series[0]; s++) {
        for (size_t k = 0; k < 2; k++) {
            size_t n = ns[k];
            int64_t *t = mem_alloc(n * sizeof *t);
            double *v = mem_alloc(n * sizeof *v);
            gen_ts(&r, series[s].tf, t, n);
            gen_values(&r, series[s].vf, v, n);
            buf_t bt;
            buf_t bv;
            buf_init(&bt);
            buf_init(&bv);
            tsdb_codec_put_ts(&bt, t, n);
            tsdb_codec_put_values(&bv, v, n);
            size_t zt = zstd_len(bt.data, bt.len);
            size_t zv = zstd_len(bv.data, bv.len);
            size_t best = (bt.len < zt ? bt.len : zt) + (bv.len < zv ? bv.len : zv);
            print_message("%-6s %-12s n=%-5zu ts %5zu B (zstd %5zu)  values kind %d %6zu B "
                          "(zstd %6zu)  => %5.3f B/sample\n",
                          tfam_name[series[s].tf], vfam_name[series[s].vf], n, bt.len, zt, bv.data[0], bv.len, zv,
                          (double)best / (double)n);
            buf_fini(&bt);
            buf_fini(&bv);
            mem_free(t);
            mem_free(v);
        }
    }
}

/* The three forms of mantissa codes: each chosen where it is smallest, each
 * round-trips bit-exactly, and every truncation of each is rejected or
 * decodes consistently. The form is the low 2 bits of the nexc varint. */
static void test_values_code_forms(void **state)
{
    (void)state;
    rng_t r = { 4242 };
    enum { N = 480 };
    static double v[3][N];
    double m = 1365;
    int64_t c = 1000000;
    int64_t bytes = 8000000000LL;
    for (size_t i = 0; i < N; i++) {
        /* a gauge random walk on 1e-8 steps: small zigzag codes -> Rice */
        if (rng_below(&r, 5)) {
            m += (double)((int64_t)rng_below(&r, 9) - 4);
        }
        v[0][i] = m / 1e8;
        /* a counter with uniform increments in [1000, 1999]: packed */
        c += 1000 + (int64_t)rng_below(&r, 1000);
        v[1][i] = (double)c;
        /* a byte gauge moving in 4096-byte pages: gcd */
        bytes += 4096 * ((int64_t)rng_below(&r, 2001) - 1000);
        v[2][i] = (double)bytes;
    }
    static const int want_form[3] = { 2, 1, -1 };
    for (int k = 0; k < 3; k++) {
        buf_t b;
        buf_init(&b);
        tsdb_codec_put_values(&b, v[k], N);
        assert_int_equal(b.data[0], TSDB_V_DEC);
        if (want_form[k] >= 0) {
            assert_int_equal(b.data[2] & 3, want_form[k]);
        }
        /* Sizes that pin the gains: ~4 bits, ~10 bits, ~11 bits per code. */
        static const size_t max_len[3] = { N * 4 / 8 + 16, N * 10 / 8 + 16, N * 11 / 8 + 24 };
        if (b.len > max_len[k]) {
            fail_msg("series %d: %zu bytes, want <= %zu", k, b.len, max_len[k]);
        }
        static double back[N];
        assert_int_equal(tsdb_codec_get_values(b.data, b.len, back, N), (long)b.len);
        for (size_t i = 0; i < N; i++) {
            assert_int_equal(dbl_bits(back[i]), dbl_bits(v[k][i]));
        }
        for (size_t l = 0; l < b.len; l++) {
            uint8_t *cut = heap_copy(b.data, l);
            long got = tsdb_codec_get_values(cut, l, back, N);
            assert_true(got == -1 || (got > 0 && (size_t)got <= l));
            mem_free(cut);
        }
        buf_fini(&b);
    }
    double out[8];
    /* Packed width over 64, Rice parameter over 63, Rice with a step mode,
     * an unterminated Rice quotient, form 3. */
    static const uint8_t wide[] = { TSDB_V_DEC, (1 << 6) | 22, 1, 2, 0, 1, 65, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    assert_int_equal(tsdb_codec_get_values(wide, sizeof wide, out, 2), -1);
    static const uint8_t rk[] = { TSDB_V_DEC, (1 << 6) | 22, 2, 2, 1, 64, 0 };
    assert_int_equal(tsdb_codec_get_values(rk, sizeof rk, out, 2), -1);
    static const uint8_t rstep[] = { TSDB_V_DEC, 22, 2, 2, 1, 0, 0 };
    assert_int_equal(tsdb_codec_get_values(rstep, sizeof rstep, out, 2), -1);
    static const uint8_t runary[] = { TSDB_V_DEC, (1 << 6) | 22, 2,    2,    1,    0,    0xff, 0xff,
                                      0xff,       0xff,          0xff, 0xff, 0xff, 0xff, 0xff };
    assert_int_equal(tsdb_codec_get_values(runary, sizeof runary, out, 2), -1);
    static const uint8_t form3[] = { TSDB_V_DEC, (1 << 6) | 22, 3, 2, 0 };
    assert_int_equal(tsdb_codec_get_values(form3, sizeof form3, out, 2), -1);
    /* A valid Rice column by hand: m0 = 1, g = 1, k = 0, codes +1, -1:
     * zigzag 2 -> '110', zigzag 1 -> '10' (LSB first: 0b01011 = 0x0b). */
    static const uint8_t rice[] = { TSDB_V_DEC, (1 << 6) | 22, 2, 2, 1, 0, 0x0b };
    assert_int_equal(tsdb_codec_get_values(rice, sizeof rice, out, 3), (long)sizeof rice);
    assert_true(out[0] == 1 && out[1] == 2 && out[2] == 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ts_roundtrip),
        cmocka_unit_test(test_ts_pins),
        cmocka_unit_test(test_ts_hostile),
        cmocka_unit_test(test_ts_garbage),
        cmocka_unit_test(test_values_roundtrip),
        cmocka_unit_test(test_values_decimal_forms),
        cmocka_unit_test(test_values_pins),
        cmocka_unit_test(test_values_hostile),
        cmocka_unit_test(test_values_code_forms),
        cmocka_unit_test(test_values_garbage_and_flips),
        cmocka_unit_test(test_bytes_per_sample_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for tsdb/tsdb_xor.c: the head's Gorilla/Prometheus XOR chunk and the
 * values-only stream used by V_XOR block columns.
 *
 * Round trips are bit-exact over seeded families (counters, decimal gauges,
 * NaN payloads, StaleNaN, ±Inf, -0.0, denormals, random bit patterns) and
 * timestamp shapes (grid, jitter, big gaps, negative, int64 extremes). The
 * reader is fed every truncation of valid streams from exact-size heap
 * copies (so ASan sees any overread), random garbage, single-bit flips and
 * named malformed codes. One case prints bytes/sample for information.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

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
    VF_COUNT,
};

static const char *const vfam_name[VF_COUNT] = {
    "counter", "counter-huge", "gauge-dec", "specials", "randbits", "const", "dec+stale", "huge-tiny", "step-counter",
};

static double special(rng_t *r)
{
    static const uint64_t sp[] = {
        0x7ff0000000000002ULL, /* StaleNaN */
        0x7ff8000000000000ULL, /* NaN */
        0xfff8000000000001ULL, /* negative NaN with payload */
        0x7ff0000000000000ULL, /* +Inf */
        0xfff0000000000000ULL, /* -Inf */
        0x8000000000000000ULL, /* -0.0 */
        0x0000000000000000ULL, /* 0 */
        0x0000000000000001ULL, /* smallest denormal */
        0x000fffffffffffffULL, /* largest denormal */
        0x7fefffffffffffffULL, /* DBL_MAX */
    };
    uint64_t k = rng_below(r, sizeof sp / sizeof sp[0] + 3);
    if (k < sizeof sp / sizeof sp[0]) {
        return bits_dbl(sp[k]);
    }
    if (k == sizeof sp / sizeof sp[0]) {
        return 1e300;
    }
    if (k == sizeof sp / sizeof sp[0] + 1) {
        return 1e-300;
    }
    return bits_dbl(rng_next(r));
}

static void gen_values(rng_t *r, int fam, double *v, size_t n)
{
    double x = 0;
    int places = 1 + (int)rng_below(r, 6);
    double scale = pow(10, places);
    int64_t m = (int64_t)rng_below(r, 100000) - 50000;
    double c = bits_dbl(rng_next(r));
    if (rng_below(r, 2)) {
        c = 42.5;
    }
    if (fam == VF_COUNTER_HUGE) {
        x = 9007199254740992.0 - (double)(n * 500);
    } else {
        x = (double)rng_below(r, 1000000);
    }
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
        default:
            v[i] = 1000.0 + 5.0 * (double)i;
            break;
        }
    }
}

enum tfam { TF_GRID, TF_JITTER, TF_GAPS, TF_NEGATIVE, TF_EXTREME, TF_COUNT };

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
            /* Spread from INT64_MIN to INT64_MAX in n steps. */
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

static void build(tsdb_xor_t *c, const int64_t *t, const double *v, size_t n)
{
    tsdb_xor_init(c);
    for (size_t i = 0; i < n; i++) {
        tsdb_xor_append(c, t[i], v[i]);
    }
}

/* Iterate (data, nbits, n) from an exact-size heap copy; returns the samples
 * read, each checked against (t, v). */
static size_t iterate_copy(const uint8_t *data, uint32_t nbits, uint16_t n, const int64_t *t, const double *v)
{
    size_t bytes = ((size_t)nbits + 7) / 8;
    uint8_t *copy = mem_alloc(bytes ? bytes : 1);
    if (bytes) {
        memcpy(copy, data, bytes);
    }
    tsdb_xor_iter_t it;
    tsdb_xor_iter_init(&it, copy, nbits, n);
    size_t k = 0;
    int64_t tt = 0;
    double vv = 0;
    while (tsdb_xor_iter_next(&it, &tt, &vv)) {
        assert_true(k < n);
        assert_int_equal(tt, t[k]);
        assert_int_equal(dbl_bits(vv), dbl_bits(v[k]));
        k++;
    }
    assert_false(tsdb_xor_iter_next(&it, &tt, &vv)); /* sticky */
    mem_free(copy);
    return k;
}

static void test_xor_roundtrip(void **state)
{
    (void)state;
    static const size_t sizes[] = { 1, 2, 3, 120, 240, 4000 };
    rng_t r = { 20240601 };
    for (int vf = 0; vf < VF_COUNT; vf++) {
        for (int tf = 0; tf < TF_COUNT; tf++) {
            for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
                size_t n = sizes[s];
                int64_t *t = mem_alloc(n * sizeof *t);
                double *v = mem_alloc(n * sizeof *v);
                gen_ts(&r, tf, t, n);
                gen_values(&r, vf, v, n);
                tsdb_xor_t c;
                build(&c, t, v, n);
                assert_int_equal(c.n, n);
                assert_int_equal(c.t_first, t[0]);
                assert_int_equal(iterate_copy(c.data, c.nbits, c.n, t, v), n);
                tsdb_xor_trim(&c);
                assert_int_equal(tsdb_xor_bytes(&c), (c.nbits + 7) / 8);
                assert_int_equal(iterate_copy(c.data, c.nbits, c.n, t, v), n);
                tsdb_xor_fini(&c);
                mem_free(t);
                mem_free(v);
            }
        }
    }
}

static void test_xor_named_values(void **state)
{
    (void)state;
    static const uint64_t bits[] = {
        0x7ff0000000000002ULL, 0x7ff0000000000002ULL, 0x8000000000000000ULL, 0x0000000000000000ULL,
        0x7ff0000000000000ULL, 0xfff0000000000000ULL, 0x7ff8000000000000ULL, 0xfff8000000000001ULL,
        0x0000000000000001ULL, 0x3ff0000000000000ULL, 0x3ff0000000000001ULL, 0xbff0000000000000ULL,
        0x7fefffffffffffffULL, 0xffffffffffffffffULL, 0x0000000000000000ULL,
    };
    size_t n = sizeof bits / sizeof bits[0];
    int64_t t[sizeof bits / sizeof bits[0]];
    double v[sizeof bits / sizeof bits[0]];
    for (size_t i = 0; i < n; i++) {
        t[i] = (int64_t)i * 15000 - 30000;
        v[i] = bits_dbl(bits[i]);
    }
    tsdb_xor_t c;
    build(&c, t, v, n);
    assert_int_equal(iterate_copy(c.data, c.nbits, c.n, t, v), n);
    tsdb_xor_fini(&c);
    tsdb_xor_fini(NULL);
}

static void test_xor_growth_and_trim(void **state)
{
    (void)state;
    tsdb_xor_t c;
    tsdb_xor_init(&c);
    assert_int_equal(tsdb_xor_bytes(&c), 0);
    tsdb_xor_trim(&c); /* empty: no-op */
    assert_null(c.data);
    tsdb_xor_append(&c, 1000, 1.0);
    assert_int_equal(tsdb_xor_bytes(&c), 16);
    assert_int_equal(c.nbits, 128);
    size_t grows = 0;
    size_t last = tsdb_xor_bytes(&c);
    for (int i = 1; i < 120; i++) {
        tsdb_xor_append(&c, 1000 + (int64_t)i * 15000, 1.0 + i);
        if (tsdb_xor_bytes(&c) != last) {
            grows++;
            last = tsdb_xor_bytes(&c);
        }
        /* Slack is bounded by the ×1.5 growth over used bytes + a worst sample. */
        assert_true(2 * tsdb_xor_bytes(&c) <= 3 * ((c.nbits + 7) / 8 + 19) + 16);
    }
    assert_true(grows <= 10);
    tsdb_xor_trim(&c);
    assert_int_equal(tsdb_xor_bytes(&c), (c.nbits + 7) / 8);
    /* Appending after trim still works. */
    tsdb_xor_append(&c, 1000 + 120 * 15000, -0.0);
    assert_int_equal(c.n, 121);
    tsdb_xor_fini(&c);
    assert_int_equal(c.n, 0);
    assert_null(c.data);
}

static void test_xor_truncations(void **state)
{
    (void)state;
    rng_t r = { 7 };
    size_t n = 60;
    int64_t t[60];
    double v[60];
    for (int vf = 0; vf < VF_COUNT; vf++) {
        gen_ts(&r, vf % TF_COUNT, t, n);
        gen_values(&r, vf, v, n);
        tsdb_xor_t c;
        build(&c, t, v, n);
        size_t prev = 0;
        for (uint32_t nb = 0; nb <= c.nbits; nb++) {
            size_t k = iterate_copy(c.data, nb, c.n, t, v);
            assert_true(k >= prev); /* more bits never give fewer samples */
            prev = k;
        }
        assert_int_equal(prev, n);
        /* A count larger than the stream holds ends cleanly too. */
        assert_int_equal(iterate_copy(c.data, c.nbits, (uint16_t)(n + 5), t, v), n);
        tsdb_xor_fini(&c);
    }
}

static void test_xor_garbage(void **state)
{
    (void)state;
    rng_t r = { 99 };
    for (int round = 0; round < 3000; round++) {
        size_t bytes = rng_below(&r, 64);
        uint8_t *g = mem_alloc(bytes ? bytes : 1);
        for (size_t i = 0; i < bytes; i++) {
            g[i] = (uint8_t)rng_next(&r);
        }
        uint16_t n = (uint16_t)rng_below(&r, 600);
        tsdb_xor_iter_t it;
        tsdb_xor_iter_init(&it, g, (uint32_t)(bytes * 8 - rng_below(&r, 8) * (bytes > 0)), n);
        int64_t t = 0;
        double v = 0;
        size_t k = 0;
        int64_t last = INT64_MIN;
        while (tsdb_xor_iter_next(&it, &t, &v)) {
            assert_true(k == 0 || t > last);
            last = t;
            k++;
        }
        assert_true(k <= n);
        mem_free(g);
    }
}

static void test_xor_bit_flips(void **state)
{
    (void)state;
    rng_t r = { 31337 };
    size_t n = 120;
    int64_t t[120];
    double v[120];
    gen_ts(&r, TF_JITTER, t, n);
    gen_values(&r, VF_DEC_STALE, v, n);
    tsdb_xor_t c;
    build(&c, t, v, n);
    tsdb_xor_trim(&c);
    for (uint32_t b = 0; b < c.nbits; b++) {
        uint8_t *copy = mem_alloc(c.cap);
        memcpy(copy, c.data, c.cap);
        copy[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
        tsdb_xor_iter_t it;
        tsdb_xor_iter_init(&it, copy, c.nbits, c.n);
        int64_t tt = 0;
        double vv = 0;
        size_t k = 0;
        while (tsdb_xor_iter_next(&it, &tt, &vv)) {
            k++;
        }
        assert_true(k <= n);
        mem_free(copy);
    }
    tsdb_xor_fini(&c);
}

/* Hand-built streams: each must stop the iterator at the named sample. */
static void test_xor_named_corrupt(void **state)
{
    (void)state;
    /* sample 0 (t=0, v=0), then dod '0' (Δt 0: not increasing). */
    uint8_t zero_delta[17] = { 0 };
    tsdb_xor_iter_t it;
    int64_t t = 0;
    double v = 0;
    tsdb_xor_iter_init(&it, zero_delta, 129 + 1, 2);
    assert_true(tsdb_xor_iter_next(&it, &t, &v));
    assert_false(tsdb_xor_iter_next(&it, &t, &v));

    /* sample 1: dod '10'+14b = 1, then value '10' with no window. */
    uint8_t no_window[19] = { 0 };
    /* bits 128.. : 1 0 | 00000000000001 | 1 0 */
    size_t pos = 128;
    const char *s = "10000000000000011011";
    for (const char *q = s; *q; q++, pos++) {
        if (*q == '1') {
            no_window[pos / 8] |= (uint8_t)(0x80 >> (pos % 8));
        }
    }
    tsdb_xor_iter_init(&it, no_window, (uint32_t)(128 + 18), 2);
    assert_true(tsdb_xor_iter_next(&it, &t, &v));
    assert_false(tsdb_xor_iter_next(&it, &t, &v));

    /* value '11' lead 31 + len 40 > 64. */
    uint8_t wide[24] = { 0 };
    pos = 128;
    s = "1000000000000001"
        "11"
        "11111"
        "101000";
    for (const char *q = s; *q; q++, pos++) {
        if (*q == '1') {
            wide[pos / 8] |= (uint8_t)(0x80 >> (pos % 8));
        }
    }
    tsdb_xor_iter_init(&it, wide, (uint32_t)(sizeof wide * 8), 2);
    assert_true(tsdb_xor_iter_next(&it, &t, &v));
    assert_false(tsdb_xor_iter_next(&it, &t, &v));

    /* Timestamp wrapping past INT64_MAX: t0 = INT64_MAX - 1, dod '1111' + 64b = 5. */
    uint8_t wrap[26] = { 0 };
    uint64_t t0 = (uint64_t)INT64_MAX - 1;
    for (int i = 0; i < 8; i++) {
        wrap[i] = (uint8_t)(t0 >> (56 - 8 * i));
    }
    wrap[16] = 0xf0;
    wrap[24] = 0x50; /* 64-bit field at bits 132..195: value 5 ends at bit 195 */
    tsdb_xor_iter_init(&it, wrap, (uint32_t)(sizeof wrap * 8), 2);
    assert_true(tsdb_xor_iter_next(&it, &t, &v));
    assert_int_equal(t, INT64_MAX - 1);
    assert_false(tsdb_xor_iter_next(&it, &t, &v));

    /* n == 0 and nbits == 0. */
    tsdb_xor_iter_init(&it, NULL, 0, 0);
    assert_false(tsdb_xor_iter_next(&it, &t, &v));
    tsdb_xor_iter_init(&it, NULL, 0, 3);
    assert_false(tsdb_xor_iter_next(&it, &t, &v));
}

static void test_xor_values_stream(void **state)
{
    (void)state;
    rng_t r = { 4242 };
    static const size_t sizes[] = { 1, 2, 3, 100, 1000 };
    for (int vf = 0; vf < VF_COUNT; vf++) {
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            size_t n = sizes[s];
            double *v = mem_alloc(n * sizeof *v);
            double *w = mem_alloc(n * sizeof *w);
            gen_values(&r, vf, v, n);
            buf_t b;
            buf_init(&b);
            buf_putc(&b, 0xAB); /* appends after existing bytes */
            tsdb_xor_put_values(&b, v, n);
            assert_int_equal(b.data[0], 0xAB);
            size_t len = b.len - 1;
            uint8_t *copy = mem_alloc(len);
            memcpy(copy, b.data + 1, len);
            assert_int_equal(tsdb_xor_get_values(copy, len, w, n), (long)len);
            for (size_t i = 0; i < n; i++) {
                assert_int_equal(dbl_bits(w[i]), dbl_bits(v[i]));
            }
            if (n <= 100) {
                for (size_t l = 0; l < len; l++) {
                    uint8_t *cut = mem_alloc(l ? l : 1);
                    memcpy(cut, copy, l);
                    assert_int_equal(tsdb_xor_get_values(cut, l, w, n), -1);
                    mem_free(cut);
                }
            }
            assert_int_equal(tsdb_xor_get_values(copy, len, w, 0), -1);
            mem_free(copy);
            buf_fini(&b);
            mem_free(v);
            mem_free(w);
        }
    }
    /* Garbage: bounded result, no overread. */
    double w[300];
    for (int round = 0; round < 2000; round++) {
        size_t len = rng_below(&r, 48);
        uint8_t *g = mem_alloc(len ? len : 1);
        for (size_t i = 0; i < len; i++) {
            g[i] = (uint8_t)rng_next(&r);
        }
        long k = tsdb_xor_get_values(g, len, w, 1 + rng_below(&r, 300));
        assert_true(k == -1 || (k >= 8 && (size_t)k <= len));
        mem_free(g);
    }
}

static void test_xor_bytes_per_sample_info(void **state)
{
    (void)state;
    rng_t r = { 1 };
    static const int fams[] = { VF_STEP_COUNTER, VF_COUNTER, VF_GAUGE_DEC, VF_DEC_STALE, VF_CONST, VF_RANDBITS };
    int64_t t[120];
    double v[120];
    for (size_t f = 0; f < sizeof fams / sizeof fams[0]; f++) {
        for (int tf = TF_GRID; tf <= TF_JITTER; tf++) {
            gen_ts(&r, tf, t, 120);
            gen_values(&r, fams[f], v, 120);
            tsdb_xor_t c;
            build(&c, t, v, 120);
            size_t cap = tsdb_xor_bytes(&c);
            tsdb_xor_trim(&c);
            print_message("xor chunk 120 %-13s %-6s: %6.2f B/sample (%zu B, %zu B before trim)\n", vfam_name[fams[f]],
                          tf == TF_GRID ? "grid" : "jitter", (double)tsdb_xor_bytes(&c) / 120, tsdb_xor_bytes(&c), cap);
            tsdb_xor_fini(&c);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xor_roundtrip),
        cmocka_unit_test(test_xor_named_values),
        cmocka_unit_test(test_xor_growth_and_trim),
        cmocka_unit_test(test_xor_truncations),
        cmocka_unit_test(test_xor_garbage),
        cmocka_unit_test(test_xor_bit_flips),
        cmocka_unit_test(test_xor_named_corrupt),
        cmocka_unit_test(test_xor_values_stream),
        cmocka_unit_test(test_xor_bytes_per_sample_info),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for common/compress.c: round trips of empty, small, compressible
 * and random inputs; known snappy bytes; size caps enforced before
 * allocation (a tiny input claiming a huge size); every truncation and
 * single-byte corruption of valid frames; appending to a non-empty buf.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <zstd.h>

#include "common/buf.h"
#include "common/compress.h"
#include "common/mem.h"

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* len bytes; compressible when text is true. */
static uint8_t *make_input(size_t len, bool text, uint64_t seed)
{
    uint8_t *p = mem_alloc(len ? len : 1);
    const char words[] = "up{job=\"node\",instance=\"host:9100\"} 1 1700000000123\n";
    for (size_t i = 0; i < len; i++) {
        p[i] = text ? (uint8_t)words[i % (sizeof(words) - 1)] : (uint8_t)rng_next(&seed);
    }
    if (text && len > 10) {
        p[len / 2] = (uint8_t)rng_next(&seed);
    }
    return p;
}

typedef compress_status_t (*decode_fn)(const void *, size_t, size_t, buf_t *);

static void round_trip(bool zstd, size_t len, bool text)
{
    uint8_t *in = make_input(len, text, len * 7 + 1);
    buf_t enc;
    buf_init(&enc);
    buf_puts(&enc, "HDR");
    if (zstd) {
        compress_zstd(in, len, 3, &enc);
    } else {
        compress_snappy(in, len, &enc);
    }
    assert_true(enc.len > 3);
    assert_memory_equal(enc.data, "HDR", 3);
    if (text && len >= 4096) {
        assert_true(enc.len - 3 < len / 2);
    }
    buf_t dec;
    buf_init(&dec);
    buf_puts(&dec, "pre");
    decode_fn fn = zstd ? decompress_zstd : decompress_snappy;
    assert_int_equal(fn(enc.data + 3, enc.len - 3, len, &dec), COMPRESS_OK);
    assert_int_equal(dec.len, 3 + len);
    assert_memory_equal(dec.data, "pre", 3);
    if (len) {
        assert_memory_equal(dec.data + 3, in, len);
    }
    assert_int_equal(dec.data[dec.len], 0);
    /* One byte under the size cap is refused, and out is untouched. */
    if (len > 0) {
        buf_reset(&dec);
        assert_int_equal(fn(enc.data + 3, enc.len - 3, len - 1, &dec), COMPRESS_TOO_LARGE);
        assert_int_equal(dec.len, 0);
    }
    buf_fini(&dec);
    buf_fini(&enc);
    mem_free(in);
}

static void test_round_trips(void **state)
{
    (void)state;
    const size_t lens[] = { 0, 1, 2, 17, 64, 1000, 4096, 65536, 65537, 300000 };
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        for (int z = 0; z < 2; z++) {
            round_trip(z, lens[i], true);
            round_trip(z, lens[i], false);
        }
    }
}

static void test_zstd_levels(void **state)
{
    (void)state;
    uint8_t *in = make_input(20000, true, 5);
    const int levels[] = { -5, 0, 1, 19, 22, 1000 };
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        buf_t enc;
        buf_t dec;
        buf_init(&enc);
        buf_init(&dec);
        compress_zstd(in, 20000, levels[i], &enc);
        assert_int_equal(decompress_zstd(enc.data, enc.len, 20000, &dec), COMPRESS_OK);
        assert_memory_equal(dec.data, in, 20000);
        buf_fini(&enc);
        buf_fini(&dec);
    }
    mem_free(in);
}

static void test_snappy_known(void **state)
{
    (void)state;
    /* Literal-only block: varint length 5, literal tag (5-1)<<2, bytes. */
    const uint8_t block[] = { 0x05, 0x10, 'h', 'e', 'l', 'l', 'o' };
    buf_t out;
    buf_init(&out);
    assert_int_equal(decompress_snappy(block, sizeof(block), 5, &out), COMPRESS_OK);
    assert_int_equal(out.len, 5);
    assert_memory_equal(out.data, "hello", 5);
    buf_reset(&out);
    /* A copy: "ab" then copy-1 offset 2 length 4 -> "ababab". */
    const uint8_t copy[] = { 0x06, 0x04, 'a', 'b', 0x01, 0x02 };
    assert_int_equal(decompress_snappy(copy, sizeof(copy), 100, &out), COMPRESS_OK);
    assert_int_equal(out.len, 6);
    assert_memory_equal(out.data, "ababab", 6);
    buf_reset(&out);
    /* The empty block is one zero byte. */
    compress_snappy("", 0, &out);
    assert_int_equal(out.len, 1);
    assert_int_equal(out.data[0], 0);
    buf_fini(&out);
}

static void test_hostile_sizes(void **state)
{
    (void)state;
    buf_t out;
    buf_init(&out);
    /* Snappy preamble claiming 4 GiB - 1 (varint 0xFFFFFFFF) with no body. */
    const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00 };
    assert_int_equal(decompress_snappy(huge, sizeof(huge), 1 << 20, &out), COMPRESS_TOO_LARGE);
    assert_int_equal(out.cap, 0); /* nothing was allocated */
    /* Same claim under a cap large enough: the body does not back it up. */
    const uint8_t lie[] = { 0x0a, 0x10, 'h', 'e', 'l', 'l', 'o' };
    assert_int_equal(decompress_snappy(lie, sizeof(lie), 100, &out), COMPRESS_CORRUPT);
    assert_int_equal(out.len, 0);
    /* Unterminated, overlong or over-32-bit preambles. */
    const uint8_t over32[] = { 0x80, 0x80, 0x80, 0x80, 0x10, 0x00 };
    assert_int_equal(decompress_snappy(over32, sizeof(over32), SIZE_MAX, &out), COMPRESS_CORRUPT);
    const uint8_t bad_varint[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    assert_int_equal(decompress_snappy(bad_varint, sizeof(bad_varint), SIZE_MAX, &out), COMPRESS_CORRUPT);
    assert_int_equal(decompress_snappy("", 0, 100, &out), COMPRESS_CORRUPT);
    assert_int_equal(decompress_zstd("", 0, 100, &out), COMPRESS_CORRUPT);
    /* Copy reaching before the start of the output. */
    const uint8_t back[] = { 0x06, 0x04, 'a', 'b', 0x01, 0x09 };
    assert_int_equal(decompress_snappy(back, sizeof(back), 100, &out), COMPRESS_CORRUPT);

    /* zstd frame declaring one byte over the cap: refused on the header alone. */
    uint8_t *big = make_input(1 << 16, true, 9);
    buf_t enc;
    buf_init(&enc);
    compress_zstd(big, 1 << 16, 1, &enc);
    assert_int_equal(decompress_zstd(enc.data, enc.len, (1 << 16) - 1, &out), COMPRESS_TOO_LARGE);
    assert_int_equal(out.cap, 0);
    buf_fini(&enc);
    mem_free(big);

    /* zstd frame without a content size (streamed) is refused. */
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
    uint8_t frame[256];
    size_t n = ZSTD_compress2(cctx, frame, sizeof(frame), "abcabcabc", 9);
    assert_false(ZSTD_isError(n));
    ZSTD_freeCCtx(cctx);
    assert_int_equal(decompress_zstd(frame, n, 100, &out), COMPRESS_CORRUPT);
    assert_int_equal(out.len, 0);
    buf_fini(&out);
}

static void test_truncation_and_corruption(void **state)
{
    (void)state;
    uint8_t *in = make_input(3000, true, 11);
    for (int z = 0; z < 2; z++) {
        buf_t enc;
        buf_init(&enc);
        if (z) {
            compress_zstd(in, 3000, 3, &enc);
        } else {
            compress_snappy(in, 3000, &enc);
        }
        decode_fn fn = z ? decompress_zstd : decompress_snappy;
        buf_t out;
        buf_init(&out);
        /* Every strict prefix fails; out stays empty. */
        for (size_t n = 0; n < enc.len; n++) {
            buf_reset(&out);
            if (fn(enc.data, n, 3000, &out) == COMPRESS_OK) {
                fail_msg("%s: prefix %zu of %zu accepted", z ? "zstd" : "snappy", n, enc.len);
            }
            assert_int_equal(out.len, 0);
        }
        /* Trailing junk fails. */
        uint8_t *ext = mem_alloc(enc.len + 1);
        memcpy(ext, enc.data, enc.len);
        ext[enc.len] = 0;
        buf_reset(&out);
        if (z) {
            assert_int_not_equal(fn(ext, enc.len + 1, 3000, &out), COMPRESS_OK);
        }
        mem_free(ext);
        /* Flipping any byte never crashes; if accepted, output size holds. */
        for (size_t i = 0; i < enc.len; i++) {
            for (int bit = 0; bit < 8; bit += 3) {
                enc.data[i] ^= (uint8_t)(1u << bit);
                buf_reset(&out);
                compress_status_t st = fn(enc.data, enc.len, 3000, &out);
                if (st == COMPRESS_OK) {
                    assert_true(out.len <= 3000);
                } else {
                    assert_int_equal(out.len, 0);
                }
                enc.data[i] ^= (uint8_t)(1u << bit);
            }
        }
        buf_fini(&out);
        buf_fini(&enc);
    }
    mem_free(in);
}

/* Prefixed frames through one reused context pair: each decodes only with
 * its prefix, a failed frame leaves the context fit for the next, and a
 * plain frame after a prefixed one does not inherit the prefix. */
static void test_zstd_prefix_reused_context(void **state)
{
    (void)state;
    uint8_t *pre = make_input(4000, false, 5);
    uint8_t *in = mem_alloc(4000);
    memcpy(in, pre, 4000);
    in[100] ^= 1; /* resembles the prefix */
    compress_zctx_t z = { 0 };
    buf_t plain, enc, out;
    buf_init(&plain);
    buf_init(&enc);
    buf_init(&out);
    compress_zstd(in, 4000, 3, &plain);
    for (int round = 0; round < 3; round++) {
        buf_reset(&enc);
        compress_zstd_prefix(&z, in, 4000, 3, pre, 4000, &enc);
        assert_true(enc.len < plain.len / 4);
        buf_reset(&out);
        assert_int_equal(decompress_zstd_prefix(&z, enc.data, enc.len, 4000, pre, 4000, &out), COMPRESS_OK);
        assert_memory_equal(out.data, in, 4000);
        /* Without its prefix the frame's matches point nowhere. */
        buf_reset(&out);
        assert_int_equal(decompress_zstd_prefix(&z, enc.data, enc.len, 4000, NULL, 0, &out), COMPRESS_CORRUPT);
        assert_int_equal(out.len, 0);
        assert_int_equal(decompress_zstd(enc.data, enc.len, 4000, &out), COMPRESS_CORRUPT);
        /* The cap holds for prefixed frames too. */
        assert_int_equal(decompress_zstd_prefix(&z, enc.data, enc.len, 3999, pre, 4000, &out), COMPRESS_TOO_LARGE);
        /* A plain frame through the same contexts. */
        buf_reset(&enc);
        compress_zstd_prefix(&z, in, 4000, 3, NULL, 0, &enc);
        assert_memory_equal(enc.data, plain.data, plain.len);
        assert_int_equal(decompress_zstd_prefix(&z, enc.data, enc.len, 4000, NULL, 0, &out), COMPRESS_OK);
        assert_memory_equal(out.data, in, 4000);
    }
    compress_zctx_fini(&z);
    compress_zctx_fini(&z); /* a finished one is a zeroed one */
    buf_fini(&plain);
    buf_fini(&enc);
    buf_fini(&out);
    mem_free(in);
    mem_free(pre);
}

static void test_status_str(void **state)
{
    (void)state;
    assert_string_equal(compress_status_str(COMPRESS_OK), "ok");
    assert_string_equal(compress_status_str(COMPRESS_CORRUPT), "corrupt input");
    assert_string_equal(compress_status_str(COMPRESS_TOO_LARGE), "decoded size exceeds limit");
    assert_string_equal(compress_status_str((compress_status_t)42), "unknown status");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_zstd_levels),
        cmocka_unit_test(test_snappy_known),
        cmocka_unit_test(test_hostile_sizes),
        cmocka_unit_test(test_truncation_and_corruption),
        cmocka_unit_test(test_zstd_prefix_reused_context),
        cmocka_unit_test(test_status_str),
    };
    return cmocka_run_group_tests_name("compress", tests, NULL, NULL);
}

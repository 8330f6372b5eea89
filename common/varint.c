/* SPDX-License-Identifier: Apache-2.0 */
/*
 * varint: LEB128 encode/decode with strict bounds. See varint.h.
 */
#include "common/varint.h"

size_t varint_put_u64(uint8_t *dst, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        dst[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    dst[n++] = (uint8_t)v;
    return n;
}

size_t varint_put_i64(uint8_t *dst, int64_t v)
{
    return varint_put_u64(dst, varint_zigzag(v));
}

size_t varint_get_u64_slow(const uint8_t *p, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < len && i < VARINT_MAX_LEN; i++) {
        uint8_t b = p[i];
        if (i == 9 && b > 1) {
            return 0; /* overflows 64 bits */
        }
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return i + 1;
        }
    }
    return 0;
}

size_t varint_get_i64(const uint8_t *p, size_t len, int64_t *out)
{
    uint64_t u;
    size_t n = varint_get_u64(p, len, &u);
    if (n) {
        *out = varint_unzigzag(u);
    }
    return n;
}

size_t varint_len_u64(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * varint: LEB128 unsigned varints and zigzag signed varints, as protobuf
 * encodes them. Decoders are bounds-checked: they never read past len and
 * reject encodings longer than 10 bytes or overflowing 64 bits.
 */
#ifndef PHAROS_COMMON_VARINT_H
#define PHAROS_COMMON_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define VARINT_MAX_LEN 10

static inline uint64_t varint_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static inline int64_t varint_unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Write v to dst (room for VARINT_MAX_LEN bytes); returns bytes written. */
size_t varint_put_u64(uint8_t *dst, uint64_t v);
size_t varint_put_i64(uint8_t *dst, int64_t v);
/* Decode from p[0..len). Returns bytes consumed (>0), or 0 when the input is
 * truncated, longer than 10 bytes, or overflows. */
size_t varint_get_u64_slow(const uint8_t *p, size_t len, uint64_t *out);
static inline size_t varint_get_u64(const uint8_t *p, size_t len, uint64_t *out)
{
    if (len > 0 && p[0] < 0x80) {
        *out = p[0];
        return 1;
    }
    return varint_get_u64_slow(p, len, out);
}
size_t varint_get_i64(const uint8_t *p, size_t len, int64_t *out);
/* Encoded size of v. */
size_t varint_len_u64(uint64_t v);

#endif

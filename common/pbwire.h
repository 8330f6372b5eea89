/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pbwire: a zero-copy reader of the protobuf wire format, for decoders
 * that walk a message in place instead of unpacking it into allocated
 * structs (remote-write and Loki push bodies can hold millions of
 * strings). A cursor covers one message; a length-delimited field gives
 * a sub-cursor over its bytes. Every read is bounds-checked and returns
 * false on malformed input; nothing is allocated.
 */
#ifndef PHAROS_COMMON_PBWIRE_H
#define PHAROS_COMMON_PBWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { PBWIRE_VARINT = 0, PBWIRE_I64 = 1, PBWIRE_LEN = 2, PBWIRE_I32 = 5 };

typedef struct pbwire {
    const uint8_t *base; /* start of the whole body, for error offsets */
    const uint8_t *p;    /* this message */
    size_t len, pos;
} pbwire_t;

/* A cursor over body[0..len). */
pbwire_t pbwire_init(const uint8_t *body, size_t len);
/* Write "protobuf: <what> at byte N" (N from the start of the body);
 * returns -1. */
int pbwire_fail(char *err, size_t errlen, const pbwire_t *c, const char *what);
/* The next tag: true with [out] *field and *wt; false at the end of the
 * message, or when malformed (then *bad is set: field 0 or > 2^29-1, a
 * broken varint). */
bool pbwire_tag(pbwire_t *c, uint32_t *field, uint32_t *wt, bool *bad);
bool pbwire_varint(pbwire_t *c, uint64_t *v);
/* Little-endian 8 bytes (double, fixed64). */
bool pbwire_fixed64(pbwire_t *c, uint64_t *v);
/* A length-delimited field as [out] *sub over its bytes. */
bool pbwire_sub(pbwire_t *c, pbwire_t *sub);
/* Skip a field of wire type wt (groups are malformed). */
bool pbwire_skip(pbwire_t *c, uint32_t wt);

#endif

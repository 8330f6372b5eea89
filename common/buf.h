/* SPDX-License-Identifier: Apache-2.0 */
/*
 * buf: growable byte buffer. Appends never truncate: they grow the buffer
 * (aborting on OOM, the mem_alloc policy). data is always NUL-terminated
 * after the last byte when cap > 0, so text built here can be passed to
 * C string functions. A zeroed buf_t is a valid empty buffer.
 */
#ifndef PHAROS_COMMON_BUF_H
#define PHAROS_COMMON_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} buf_t;

void buf_init(buf_t *b);
/* Free the storage; the buf is empty and reusable afterwards. */
void buf_fini(buf_t *b);
/* Ensure room for extra more bytes (plus the NUL). */
void buf_reserve(buf_t *b, size_t extra);
void buf_append(buf_t *b, const void *p, size_t n);
void buf_putc(buf_t *b, uint8_t c);
void buf_puts(buf_t *b, const char *s);
void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(buf_t *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Append v as LEB128 / zigzag LEB128. */
void buf_put_uvarint(buf_t *b, uint64_t v);
void buf_put_varint(buf_t *b, int64_t v);
/* Little-endian fixed-width appends. */
void buf_put_u32le(buf_t *b, uint32_t v);
void buf_put_u64le(buf_t *b, uint64_t v);
/* Set len to 0, keeping the storage. */
/* Append p[0..len) escaped as Go's url.QueryEscape: A-Z a-z 0-9 - _ . ~
 * as is, space as '+', every other byte as %XX (upper-case hex). */
void buf_put_query_escaped(buf_t *b, const char *p, size_t len);

void buf_reset(buf_t *b);
/* Take the storage: returns data (caller frees with mem_free), buf becomes empty. */
uint8_t *buf_steal(buf_t *b, size_t *len);

#endif

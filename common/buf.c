/* SPDX-License-Identifier: Apache-2.0 */
/*
 * buf: growable bytes; capacity doubles, data stays NUL-terminated. See buf.h.
 */
#include "common/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/mem.h"
#include "common/varint.h"

void buf_init(buf_t *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void buf_fini(buf_t *b)
{
    mem_free(b->data);
    buf_init(b);
}

void buf_reserve(buf_t *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1) {
        mem_alloc(SIZE_MAX); /* cannot be satisfied: the OOM policy aborts */
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap) {
        return;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    }
    b->data = mem_realloc(b->data, cap);
    b->cap = cap;
}

void buf_append(buf_t *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    if (n) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
    b->data[b->len] = 0;
}

void buf_putc(buf_t *b, uint8_t c)
{
    buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = 0;
}

void buf_puts(buf_t *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void buf_vprintf(buf_t *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if ((size_t)n < sizeof(tmp)) {
        buf_append(b, tmp, (size_t)n);
    } else {
        buf_reserve(b, (size_t)n);
        vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

void buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void buf_put_uvarint(buf_t *b, uint64_t v)
{
    buf_reserve(b, VARINT_MAX_LEN);
    b->len += varint_put_u64(b->data + b->len, v);
    b->data[b->len] = 0;
}

void buf_put_varint(buf_t *b, int64_t v)
{
    buf_put_uvarint(b, varint_zigzag(v));
}

void buf_put_u32le(buf_t *b, uint32_t v)
{
    uint8_t t[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    buf_append(b, t, 4);
}

void buf_put_u64le(buf_t *b, uint64_t v)
{
    buf_put_u32le(b, (uint32_t)v);
    buf_put_u32le(b, (uint32_t)(v >> 32));
}

void buf_reset(buf_t *b)
{
    b->len = 0;
    if (b->cap) {
        b->data[0] = 0;
    }
}

uint8_t *buf_steal(buf_t *b, size_t *len)
{
    uint8_t *d = b->data;
    if (len) {
        *len = b->len;
    }
    buf_init(b);
    return d;
}

void buf_put_query_escaped(buf_t *b, const char *p, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~') {
            buf_putc(b, c);
        } else if (c == ' ') {
            buf_putc(b, '+');
        } else {
            buf_putc(b, '%');
            buf_putc(b, (uint8_t)hex[c >> 4]);
            buf_putc(b, (uint8_t)hex[c & 15]);
        }
    }
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pbwire: bounds-checked protobuf wire reading over borrowed bytes. See
 * pbwire.h.
 */
#include "common/pbwire.h"

#include <stdio.h>

#include "common/varint.h"

pbwire_t pbwire_init(const uint8_t *body, size_t len)
{
    return (pbwire_t){ body, body, len, 0 };
}

int pbwire_fail(char *err, size_t errlen, const pbwire_t *c, const char *what)
{
    snprintf(err, errlen, "protobuf: %s at byte %zu", what, (size_t)(c->p - c->base) + c->pos);
    return -1;
}

bool pbwire_tag(pbwire_t *c, uint32_t *field, uint32_t *wt, bool *bad)
{
    if (c->pos >= c->len) {
        return false;
    }
    uint64_t v;
    size_t n = varint_get_u64(c->p + c->pos, c->len - c->pos, &v);
    if (n == 0 || (v >> 3) == 0 || (v >> 3) > 0x1fffffff) {
        *bad = true;
        return false;
    }
    c->pos += n;
    *field = (uint32_t)(v >> 3);
    *wt = (uint32_t)(v & 7);
    return true;
}

bool pbwire_varint(pbwire_t *c, uint64_t *v)
{
    size_t n = varint_get_u64(c->p + c->pos, c->len - c->pos, v);
    c->pos += n;
    return n > 0;
}

bool pbwire_fixed64(pbwire_t *c, uint64_t *v)
{
    if (c->len - c->pos < 8) {
        return false;
    }
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--) {
        x = (x << 8) | c->p[c->pos + (size_t)i];
    }
    c->pos += 8;
    *v = x;
    return true;
}

bool pbwire_sub(pbwire_t *c, pbwire_t *sub)
{
    uint64_t n;
    if (!pbwire_varint(c, &n) || n > c->len - c->pos) {
        return false;
    }
    *sub = (pbwire_t){ c->base, c->p + c->pos, (size_t)n, 0 };
    c->pos += (size_t)n;
    return true;
}

bool pbwire_skip(pbwire_t *c, uint32_t wt)
{
    uint64_t v;
    pbwire_t sub;
    switch (wt) {
    case PBWIRE_VARINT:
        return pbwire_varint(c, &v);
    case PBWIRE_I64:
    case PBWIRE_I32: {
        size_t fixed = wt == PBWIRE_I64 ? 8 : 4;
        if (c->len - c->pos < fixed) {
            return false;
        }
        c->pos += fixed;
        return true;
    }
    case PBWIRE_LEN:
        return pbwire_sub(c, &sub);
    default:
        return false; /* groups (3, 4) and 6, 7 */
    }
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tsdb_xor: the head's append-only chunk, Gorilla compression with the
 * Prometheus millisecond buckets. The bit layout is drawn in tsdb_int.h.
 *
 * Core idea: one MSB-first bit stream per chunk. The writer keeps the last
 * timestamp, Δt, value bits and XOR window in the struct, so an append is
 * O(1) and never rereads the stream. data grows geometrically (×1.5 from 16
 * bytes, rounded to 8) because tens of thousands of mostly idle series each
 * hold one; tsdb_xor_trim returns the slack when the chunk is closed.
 *
 * The writer clears a byte when its first bit lands, so grown memory needs
 * no memset. Before each sample it reserves the worst case (145 bits), so
 * the bit writer itself never checks bounds.
 *
 * The reader trusts nothing: every field is read through a bounds check
 * against nbits, a window must exist before '10' reuses it, lead+len must
 * fit 64 bits, and timestamps must strictly increase (arithmetic is modulo
 * 2^64, so corrupt deltas cannot overflow). A failure is sticky.
 *
 * The value half is shared with V_XOR block columns (tsdb_xor_put_values).
 * The encoder opens a new window instead of reusing the old one when that
 * is cheaper; the reader does not care which it chose.
 */
#include <assert.h>
#include <limits.h>
#include <string.h>

#include "common/mem.h"
#include "tsdb/tsdb_int.h"

#define XOR_START_BYTES 16
#define XOR_NO_WINDOW 0xff
#define XOR_FIRST_BITS 128u /* raw t and v */
#define XOR_VALUE_MAX_BITS (2u + 5 + 6 + 64)
#define XOR_SAMPLE_MAX_BITS (4u + 64 + XOR_VALUE_MAX_BITS)

typedef struct bitw {
    uint8_t *d;
    size_t pos; /* bits written */
} bitw_t;

typedef struct bitr {
    const uint8_t *d;
    size_t nbits;
    size_t pos; /* bits read; pos <= nbits */
} bitr_t;

/* Append the low k (<= 64) bits of v; room was reserved by the caller. */
static void bitw_put(bitw_t *w, uint64_t v, unsigned k)
{
    assert(k <= 64);
    while (k > 0) {
        size_t byte = w->pos >> 3;
        unsigned used = (unsigned)(w->pos & 7);
        unsigned room = 8 - used;
        unsigned take = k < room ? k : room;
        if (used == 0) {
            w->d[byte] = 0;
        }
        unsigned bits = (unsigned)(v >> (k - take)) & ((1u << take) - 1);
        w->d[byte] |= (uint8_t)(bits << (room - take));
        w->pos += take;
        k -= take;
    }
}

/* Read k (<= 64) bits into *out; false, consuming nothing, past nbits. */
static bool bitr_get(bitr_t *r, unsigned k, uint64_t *out)
{
    assert(k <= 64 && r->pos <= r->nbits);
    if (k > r->nbits - r->pos) {
        return false;
    }
    uint64_t v = 0;
    while (k > 0) {
        size_t byte = r->pos >> 3;
        unsigned used = (unsigned)(r->pos & 7);
        unsigned room = 8 - used;
        unsigned take = k < room ? k : room;
        unsigned bits = ((unsigned)r->d[byte] >> (room - take)) & ((1u << take) - 1);
        v = (v << take) | bits;
        r->pos += take;
        k -= take;
    }
    *out = v;
    return true;
}

static bool fits_signed(int64_t v, unsigned width)
{
    int64_t lim = (int64_t)1 << (width - 1);
    return v >= -lim && v < lim;
}

static void put_dod(bitw_t *w, int64_t dod)
{
    if (dod == 0) {
        bitw_put(w, 0, 1);
    } else if (fits_signed(dod, 14)) {
        bitw_put(w, 0x2, 2);
        bitw_put(w, (uint64_t)dod & 0x3fff, 14);
    } else if (fits_signed(dod, 17)) {
        bitw_put(w, 0x6, 3);
        bitw_put(w, (uint64_t)dod & 0x1ffff, 17);
    } else if (fits_signed(dod, 20)) {
        bitw_put(w, 0xe, 4);
        bitw_put(w, (uint64_t)dod & 0xfffff, 20);
    } else {
        bitw_put(w, 0xf, 4);
        bitw_put(w, (uint64_t)dod, 64);
    }
}

static const unsigned dod_widths[4] = { 14, 17, 20, 64 };

static bool get_dod(bitr_t *r, uint64_t *dod)
{
    unsigned bucket = 0;
    for (;;) {
        uint64_t bit = 0;
        if (!bitr_get(r, 1, &bit)) {
            return false;
        }
        if (bit == 0) {
            break;
        }
        if (++bucket == 4) {
            break;
        }
    }
    if (bucket == 0) {
        *dod = 0;
        return true;
    }
    unsigned width = dod_widths[bucket - 1];
    uint64_t u = 0;
    if (!bitr_get(r, width, &u)) {
        return false;
    }
    if (width < 64 && (u >> (width - 1)) & 1) {
        u |= ~(uint64_t)0 << width; /* sign-extend */
    }
    *dod = u;
    return true;
}

static unsigned clz64(uint64_t x)
{
    return (unsigned)__builtin_clzll(x);
}
static unsigned ctz64(uint64_t x)
{
    return (unsigned)__builtin_ctzll(x);
}

/* Code cur against prev, updating the window (*lead, *trail). */
static void xor_put_value(bitw_t *w, uint64_t prev, uint64_t cur, uint8_t *lead, uint8_t *trail)
{
    uint64_t x = prev ^ cur;
    if (x == 0) {
        bitw_put(w, 0, 1);
        return;
    }
    unsigned l = clz64(x);
    unsigned t = ctz64(x);
    if (l > 31) {
        l = 31;
    }
    unsigned sig = 64 - l - t;
    if (*lead != XOR_NO_WINDOW && l >= *lead && t >= *trail) {
        unsigned psig = 64u - *lead - *trail;
        if (psig <= sig + 11) { /* reuse costs 2+psig, a new window 13+sig */
            bitw_put(w, 0x2, 2);
            bitw_put(w, x >> *trail, psig);
            return;
        }
    }
    bitw_put(w, 0x3, 2);
    bitw_put(w, l, 5);
    bitw_put(w, sig & 63, 6);
    bitw_put(w, x >> t, sig);
    *lead = (uint8_t)l;
    *trail = (uint8_t)t;
}

/* Decode one XOR code into *val (holding the previous bits). */
static bool xor_get_value(bitr_t *r, uint64_t *val, uint8_t *lead, uint8_t *trail)
{
    uint64_t bit = 0;
    if (!bitr_get(r, 1, &bit)) {
        return false;
    }
    if (bit == 0) {
        return true;
    }
    if (!bitr_get(r, 1, &bit)) {
        return false;
    }
    if (bit == 0) {
        if (*lead == XOR_NO_WINDOW) {
            return false;
        }
    } else {
        uint64_t l = 0;
        uint64_t sig = 0;
        if (!bitr_get(r, 5, &l) || !bitr_get(r, 6, &sig)) {
            return false;
        }
        if (sig == 0) {
            sig = 64;
        }
        if (l + sig > 64) {
            return false;
        }
        *lead = (uint8_t)l;
        *trail = (uint8_t)(64 - l - sig);
    }
    unsigned sig = 64u - *lead - *trail;
    uint64_t bits = 0;
    if (!bitr_get(r, sig, &bits)) {
        return false;
    }
    *val ^= bits << *trail;
    return true;
}

static uint64_t dbl_bits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static double bits_dbl(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

void tsdb_xor_init(tsdb_xor_t *c)
{
    memset(c, 0, sizeof *c);
    c->leading = XOR_NO_WINDOW;
}

void tsdb_xor_fini(tsdb_xor_t *c)
{
    if (c == NULL) {
        return;
    }
    mem_free(c->data);
    tsdb_xor_init(c);
}

/* Make room for `bits` more bits: ×1.5 growth, at least what is needed. */
static void xor_reserve(tsdb_xor_t *c, unsigned bits)
{
    size_t need = ((size_t)c->nbits + bits + 7) / 8;
    if (need <= c->cap) {
        return;
    }
    size_t cap = c->cap ? (size_t)c->cap + c->cap / 2 : XOR_START_BYTES;
    if (cap < need) {
        cap = need;
    }
    cap = (cap + 7) & ~(size_t)7;
    assert(cap <= UINT32_MAX);
    c->data = mem_realloc(c->data, cap);
    c->cap = (uint32_t)cap;
}

void tsdb_xor_append(tsdb_xor_t *c, int64_t t, double v)
{
    assert(c->n < UINT16_MAX);
    assert(c->n == 0 || t > c->t);
    uint64_t vb = dbl_bits(v);
    xor_reserve(c, c->n == 0 ? XOR_FIRST_BITS : XOR_SAMPLE_MAX_BITS);
    bitw_t w = { c->data, c->nbits };
    if (c->n == 0) {
        bitw_put(&w, (uint64_t)t, 64);
        bitw_put(&w, vb, 64);
        c->t_first = t;
        c->tdelta = 0;
    } else {
        uint64_t delta = (uint64_t)t - (uint64_t)c->t;
        put_dod(&w, (int64_t)(delta - (uint64_t)c->tdelta));
        xor_put_value(&w, c->vbits, vb, &c->leading, &c->trailing);
        c->tdelta = (int64_t)delta;
    }
    c->t = t;
    c->vbits = vb;
    c->nbits = (uint32_t)w.pos;
    c->n++;
}

void tsdb_xor_trim(tsdb_xor_t *c)
{
    size_t used = ((size_t)c->nbits + 7) / 8;
    if (used == c->cap) {
        return;
    }
    if (used == 0) {
        mem_free(c->data);
        c->data = NULL;
    } else {
        c->data = mem_realloc(c->data, used);
    }
    c->cap = (uint32_t)used;
}

void tsdb_xor_iter_init(tsdb_xor_iter_t *it, const uint8_t *data, uint32_t nbits, uint16_t n)
{
    memset(it, 0, sizeof *it);
    it->data = data;
    it->nbits = nbits;
    it->n = n;
    it->leading = XOR_NO_WINDOW;
}

bool tsdb_xor_iter_next(tsdb_xor_iter_t *it, int64_t *t, double *v)
{
    if (it->i >= it->n) {
        return false;
    }
    bitr_t r = { it->data, it->nbits, it->pos };
    if (it->i == 0) {
        uint64_t tb = 0;
        if (!bitr_get(&r, 64, &tb) || !bitr_get(&r, 64, &it->vbits)) {
            goto fail;
        }
        it->t = (int64_t)tb;
        it->tdelta = 0;
    } else {
        uint64_t dod = 0;
        if (!get_dod(&r, &dod)) {
            goto fail;
        }
        uint64_t delta = (uint64_t)it->tdelta + dod;
        int64_t tn = (int64_t)((uint64_t)it->t + delta);
        if (tn <= it->t || !xor_get_value(&r, &it->vbits, &it->leading, &it->trailing)) {
            goto fail;
        }
        it->t = tn;
        it->tdelta = (int64_t)delta;
    }
    it->pos = (uint32_t)r.pos;
    it->i++;
    *t = it->t;
    *v = bits_dbl(it->vbits);
    return true;
fail:
    it->n = it->i; /* sticky */
    return false;
}

void tsdb_xor_put_values(buf_t *out, const double *v, size_t n)
{
    assert(n >= 1);
    size_t start = out->len;
    buf_reserve(out, (64 + (n - 1) * XOR_VALUE_MAX_BITS + 7) / 8);
    bitw_t w = { out->data + start, 0 };
    uint64_t prev = dbl_bits(v[0]);
    uint8_t lead = XOR_NO_WINDOW;
    uint8_t trail = 0;
    bitw_put(&w, prev, 64);
    for (size_t i = 1; i < n; i++) {
        uint64_t cur = dbl_bits(v[i]);
        xor_put_value(&w, prev, cur, &lead, &trail);
        prev = cur;
    }
    out->len = start + (w.pos + 7) / 8;
    out->data[out->len] = 0;
}

long tsdb_xor_get_values(const uint8_t *p, size_t len, double *v, size_t n)
{
    if (n == 0 || len > (size_t)LONG_MAX / 8) {
        return -1;
    }
    bitr_t r = { p, len * 8, 0 };
    uint64_t cur = 0;
    uint8_t lead = XOR_NO_WINDOW;
    uint8_t trail = 0;
    if (!bitr_get(&r, 64, &cur)) {
        return -1;
    }
    v[0] = bits_dbl(cur);
    for (size_t i = 1; i < n; i++) {
        if (!xor_get_value(&r, &cur, &lead, &trail)) {
            return -1;
        }
        v[i] = bits_dbl(cur);
    }
    return (long)((r.pos + 7) / 8);
}

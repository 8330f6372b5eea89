/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tsdb_codec: block column encodings, before the page's zstd pass. The byte
 * layouts are drawn in tsdb_int.h.
 *
 * Timestamps: one step when the grid is regular (~9 bytes per column),
 * else varints of delta-of-deltas, which zstd squeezes further.
 *
 * Values: metrics are mostly short decimals printed by exporters, so each
 * value gets its natural form m·10^e (largest e, |m| < 2^53) found by
 * arithmetic, not printf: for k decimals, m = llround(v·10^k) and the value
 * is kept only if the decoder's own expression, (double)m / 1e<k> or
 * (double)m * 1e<e>, gives back its exact bits. With exact powers (|e| <= 22)
 * and |m| < 2^53 that expression is the correctly rounded decimal: the
 * %.17g round trip without printf/strtod. One exponent serves the column
 * (the one keeping most rows); the rest are exceptions stored raw. Exception
 * rows store no mantissa code (it is implicitly 0), so a stale marker keeps
 * a counter's step or delta-of-delta run. Mantissas go as one step, deltas
 * or dods, and codes as varints, bit-packed past a minimum and common
 * divisor (random counter increments, byte gauges in pages), or Rice-coded
 * (gauge walks: small codes near zero), whichever is smallest. V_CONST and
 * V_XOR compete on size, XOR only if 25% smaller than V_DEC.
 *
 * Decoders are pure: bounded by len and n, arithmetic modulo 2^64 (no
 * signed overflow on garbage), and -1 on anything an encoder cannot emit.
 */
#include <assert.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "common/mem.h"
#include "common/varint.h"
#include "tsdb/tsdb_int.h"

#define DEC_EMAX 22                 /* 1e22 is the largest exact power */
#define DEC_MLIM ((int64_t)1 << 53) /* |m| < DEC_MLIM */
#define DEC_NONE INT8_MAX           /* natural exponent of an exception */
#define DEC_MAX_EXC_DIV 4           /* V_DEC needs nexc <= n / 4 */

enum { MANT_STEP = 0, MANT_DELTA = 1, MANT_DOD = 2 };

static const double pow10_dbl[DEC_EMAX + 1] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static const int64_t pow10_i64[16] = {
    1LL,
    10LL,
    100LL,
    1000LL,
    10000LL,
    100000LL,
    1000000LL,
    10000000LL,
    100000000LL,
    1000000000LL,
    10000000000LL,
    100000000000LL,
    1000000000000LL,
    10000000000000LL,
    100000000000000LL,
    1000000000000000LL,
};

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

static uint64_t get_u64le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* ---- timestamps ---------------------------------------------------- */

void tsdb_codec_put_ts(buf_t *out, const int64_t *ts, size_t n)
{
    assert(n >= 1);
    uint64_t step = n > 1 ? (uint64_t)ts[1] - (uint64_t)ts[0] : 0;
    bool regular = true;
    for (size_t i = 2; i < n && regular; i++) {
        regular = (uint64_t)ts[i] - (uint64_t)ts[i - 1] == step;
    }
    buf_putc(out, regular ? TSDB_TS_STEP : TSDB_TS_DOD);
    buf_put_varint(out, ts[0]);
    buf_put_uvarint(out, step);
    if (regular) {
        return;
    }
    uint64_t prev = step;
    for (size_t i = 2; i < n; i++) {
        uint64_t d = (uint64_t)ts[i] - (uint64_t)ts[i - 1];
        buf_put_varint(out, (int64_t)(d - prev));
        prev = d;
    }
}

long tsdb_codec_get_ts(const uint8_t *p, size_t len, int64_t *ts, size_t n)
{
    if (n == 0 || len < 1 || len > LONG_MAX) {
        return -1;
    }
    uint8_t kind = p[0];
    size_t off = 1;
    int64_t t0 = 0;
    uint64_t d = 0;
    size_t k = varint_get_i64(p + off, len - off, &t0);
    if (k == 0) {
        return -1;
    }
    off += k;
    k = varint_get_u64(p + off, len - off, &d);
    if (k == 0) {
        return -1;
    }
    off += k;
    ts[0] = t0;
    if (kind == TSDB_TS_STEP) {
        if (n > 1 && (d == 0 || d > ((uint64_t)INT64_MAX - (uint64_t)t0) / (n - 1))) {
            return -1;
        }
        for (size_t i = 1; i < n; i++) {
            ts[i] = (int64_t)((uint64_t)t0 + (uint64_t)i * d);
        }
        return (long)off;
    }
    if (kind != TSDB_TS_DOD || n < 3) {
        return -1; /* a DOD column always has n >= 3 */
    }
    for (size_t i = 1; i < n; i++) {
        if (i >= 2) {
            int64_t dod = 0;
            k = varint_get_i64(p + off, len - off, &dod);
            if (k == 0) {
                return -1;
            }
            off += k;
            d += (uint64_t)dod;
        }
        int64_t t = (int64_t)((uint64_t)ts[i - 1] + d);
        if (t <= ts[i - 1]) {
            return -1;
        }
        ts[i] = t;
    }
    return (long)off;
}

/* ---- decimal analysis ---------------------------------------------- */

static double dec_value(int64_t m, int e)
{
    return e >= 0 ? (double)m * pow10_dbl[e] : (double)m / pow10_dbl[-e];
}

static bool dec_check(int64_t m, int e, uint64_t bits)
{
    return m > -DEC_MLIM && m < DEC_MLIM && dbl_bits(dec_value(m, e)) == bits;
}

/* Try llround(s) and, when s is so large that rounding may be off by one,
 * its neighbours, as the mantissa of v at exponent e. */
static bool dec_try(double s, int e, uint64_t bits, int64_t *m)
{
    int64_t c = llround(s);
    if (dec_check(c, e, bits)) {
        *m = c;
        return true;
    }
    if (fabs(s) < 0x1p51) {
        return false;
    }
    for (int64_t adj = -1; adj <= 1; adj += 2) {
        if (dec_check(c + adj, e, bits)) {
            *m = c + adj;
            return true;
        }
    }
    return false;
}

/* Natural decimal form of v: the largest e in [-22, 22], with m, such that
 * dec_value(m, e) has v's bits. false if none (NaN, ±Inf, -0.0, too many
 * digits or out of range). +0.0 gives m = 0, e = DEC_EMAX. <= 66 tries. */
static bool dec_split(double v, int64_t *m, int *e)
{
    uint64_t bits = dbl_bits(v);
    double a = fabs(v);
    if (!isfinite(v) || (v == 0 && signbit(v))) {
        return false;
    }
    if (v == 0) {
        *m = 0;
        *e = DEC_EMAX;
        return true;
    }
    if (a < 0x1p53 && v == trunc(v)) {
        int64_t mi = (int64_t)v;
        int ei = 0;
        while (ei < DEC_EMAX && mi % 10 == 0) {
            mi /= 10;
            ei++;
        }
        *m = mi;
        *e = ei;
        return dec_check(mi, ei, bits);
    }
    if (a >= 0x1p53) {
        for (int ei = DEC_EMAX; ei >= 1; ei--) {
            double q = v / pow10_dbl[ei];
            if (fabs(q) >= 0x1p53) {
                return false;
            }
            if (dec_try(q, ei, bits, m)) {
                *e = ei;
                return true;
            }
        }
        return false;
    }
    if (a < 1e-22) {
        return false;
    }
    for (int k = 1; k <= DEC_EMAX; k++) {
        double s = v * pow10_dbl[k];
        if (fabs(s) >= 0x1p53) {
            return false;
        }
        int64_t mi = 0;
        if (dec_try(s, -k, bits, &mi)) {
            while (k > 1 && mi % 10 == 0 && dec_check(mi / 10, -(k - 1), bits)) {
                mi /= 10;
                k--;
            }
            *m = mi;
            *e = -k;
            return true;
        }
    }
    return false;
}

/* Can natural (m, en) be rescaled to exponent e <= en, keeping |m| < 2^53? */
static bool dec_fits(int64_t m, int en, int e)
{
    if (m == 0) {
        return true;
    }
    if (en < e || en - e > 15) {
        return false;
    }
    int64_t am = m < 0 ? -m : m;
    return am <= (DEC_MLIM - 1) / pow10_i64[en - e];
}

static size_t ilen(int64_t v)
{
    return varint_len_u64(varint_zigzag(v));
}

/*
 * The mantissa row model, shared with dec_decode: row 0 holds m0; each later
 * row applies one code, which is 0 and not stored for an exception row, so
 * a stale marker keeps a counter's step or delta-of-delta run intact:
 *   MANT_STEP:  M += d (d stored once)     MANT_DELTA: M += code
 *   MANT_DOD:   D += code; M += D          (D starts at 0)
 * All modulo 2^64, exactly as the decoder computes.
 */
/* How the codes of a DELTA or DOD plan are written. */
enum { FORM_VARINT = 0, FORM_PACKED = 1, FORM_RICE = 2 };

typedef struct mant_plan {
    int mode;
    int64_t m0;
    int64_t d; /* MANT_STEP */
    int form;
    uint64_t min;   /* packed: code = min + g·k, k in width bits */
    uint64_t g;     /* packed: gcd of code - min; rice: gcd of the codes */
    unsigned width; /* packed: bits per code; rice: the parameter k */
} mant_plan_t;

#define RICE_MAX_Q 64 /* longest unary quotient a decoder accepts */

/* Codes under zstd: varints shrink by about this much (percent), packed
 * bits hardly at all, so packing must win by more than that. */
#define PACK_GAIN_PCT 100

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* LSB-first bit writer over a buf. */
typedef struct bitw {
    buf_t *out;
    uint64_t acc;
    unsigned nacc;
} bitw_t;

static void bitw_put(bitw_t *w, uint64_t v, unsigned width)
{
    while (width > 0) {
        unsigned take = 64 - w->nacc < width ? 64 - w->nacc : width;
        uint64_t part = take == 64 ? v : v & ((1ULL << take) - 1);
        w->acc |= part << w->nacc;
        w->nacc += take;
        v = take == 64 ? 0 : v >> take;
        width -= take;
        if (w->nacc == 64) {
            buf_put_u64le(w->out, w->acc);
            w->acc = 0;
            w->nacc = 0;
        }
    }
}

static void bitw_flush(bitw_t *w)
{
    for (unsigned i = 0; i < w->nacc; i += 8) {
        buf_putc(w->out, (uint8_t)(w->acc >> i));
    }
    w->acc = 0;
    w->nacc = 0;
}

/* Read width bits at bit position pos of p (the caller checked bounds). */
static uint64_t bits_get(const uint8_t *p, uint64_t pos, unsigned width)
{
    uint64_t v = 0;
    unsigned got = 0;
    while (got < width) {
        unsigned sh = (unsigned)(pos & 7);
        unsigned take = 8 - sh < width - got ? 8 - sh : width - got;
        uint64_t b = ((uint64_t)p[pos >> 3] >> sh) & ((1ULL << take) - 1);
        v |= b << got;
        got += take;
        pos += take;
    }
    return v;
}

/* The codes of a DELTA or DOD plan over rows m[0..n) (exception rows have
 * en[i] == DEC_NONE and no code) into codes; returns their count. */
static size_t mant_collect(int mode, int64_t m0, const int64_t *m, const int8_t *en, size_t n, uint64_t *codes)
{
    uint64_t cur = (uint64_t)m0;
    uint64_t d = 0;
    size_t k = 0;
    for (size_t i = 1; i < n; i++) {
        if (en[i] == DEC_NONE) {
            cur += mode == MANT_DOD ? d : 0;
            continue;
        }
        uint64_t code = (uint64_t)m[i] - cur;
        if (mode == MANT_DOD) {
            code -= d;
            d += code;
        }
        cur = (uint64_t)m[i];
        codes[k++] = code;
    }
    return k;
}

/* Size of codes as varints, and the packed alternative's parameters and
 * size in *p. */
static size_t mant_price(const uint64_t *codes, size_t k, mant_plan_t *p, size_t *packed_sz)
{
    size_t vsz = 0;
    int64_t lo = INT64_MAX;
    for (size_t i = 0; i < k; i++) {
        vsz += ilen((int64_t)codes[i]);
        if ((int64_t)codes[i] < lo) {
            lo = (int64_t)codes[i];
        }
    }
    uint64_t g = 0, hi = 0;
    for (size_t i = 0; i < k; i++) {
        g = gcd_u64(g, codes[i] - (uint64_t)lo);
    }
    for (size_t i = 0; i < k && g; i++) {
        uint64_t q = (codes[i] - (uint64_t)lo) / g;
        hi = q > hi ? q : hi;
    }
    p->min = (uint64_t)(k ? lo : 0);
    p->g = g;
    p->width = hi ? 64 - (unsigned)__builtin_clzll(hi) : 0;
    *packed_sz = ilen(k ? lo : 0) + varint_len_u64(g) + 1 + (k * p->width + 7) / 8;
    return vsz;
}

/* Rice coding of zigzag(code / g), g the gcd of the codes: the best
 * parameter in *kbest and the size, or SIZE_MAX when it does not apply. */
static size_t mant_price_rice(const uint64_t *codes, size_t k, uint64_t *gout, unsigned *kbest)
{
    uint64_t g = 0;
    for (size_t i = 0; i < k; i++) {
        g = gcd_u64(g, (int64_t)codes[i] < 0 ? (uint64_t)0 - codes[i] : codes[i]);
    }
    if (g == 0 || g > (uint64_t)INT64_MAX) {
        return SIZE_MAX;
    }
    /* bits(kk) = sum (z >> kk) + n·(kk + 1) for each candidate kk. */
    uint64_t sums[64] = { 0 };
    for (size_t i = 0; i < k; i++) {
        uint64_t z = varint_zigzag((int64_t)codes[i] / (int64_t)g);
        for (unsigned kk = 0; kk < 64; kk++) {
            uint64_t q = z >> kk;
            sums[kk] += q;
            if (q == 0) {
                break;
            }
        }
    }
    size_t best = SIZE_MAX;
    for (unsigned kk = 0; kk < 64; kk++) {
        bool fits = true;
        for (size_t i = 0; i < k && fits; i++) {
            fits = (varint_zigzag((int64_t)codes[i] / (int64_t)g) >> kk) < RICE_MAX_Q;
        }
        if (!fits) {
            continue;
        }
        uint64_t bits = sums[kk] + (uint64_t)k * (kk + 1);
        size_t sz = varint_len_u64(g) + 1 + (size_t)((bits + 7) / 8);
        if (sz < best) {
            best = sz;
            *kbest = kk;
        }
    }
    *gout = g;
    return best;
}

/* Append varint(m0), the step or the codes of plan p. */
static void mant_emit(buf_t *out, const mant_plan_t *p, const int64_t *m, const int8_t *en, size_t n)
{
    buf_put_varint(out, p->m0);
    if (p->mode == MANT_STEP) {
        if (n >= 2) {
            buf_put_varint(out, p->d);
        }
        return;
    }
    uint64_t *codes = mem_alloc((n ? n : 1) * sizeof(uint64_t));
    size_t k = mant_collect(p->mode, p->m0, m, en, n, codes);
    if (p->form == FORM_PACKED) {
        buf_put_varint(out, (int64_t)p->min);
        buf_put_uvarint(out, p->g);
        buf_putc(out, (uint8_t)p->width);
        bitw_t w = { out, 0, 0 };
        for (size_t i = 0; i < k && p->width; i++) {
            bitw_put(&w, (codes[i] - p->min) / p->g, p->width);
        }
        bitw_flush(&w);
    } else if (p->form == FORM_RICE) {
        buf_put_uvarint(out, p->g);
        buf_putc(out, (uint8_t)p->width);
        bitw_t w = { out, 0, 0 };
        for (size_t i = 0; i < k; i++) {
            uint64_t z = varint_zigzag((int64_t)codes[i] / (int64_t)p->g);
            uint64_t q = z >> p->width;
            bitw_put(&w, (1ULL << q) - 1, (unsigned)q); /* q ones (q < 64) */
            bitw_put(&w, 0, 1);
            if (p->width) {
                bitw_put(&w, z, p->width);
            }
        }
        bitw_flush(&w);
    } else {
        for (size_t i = 0; i < k; i++) {
            buf_put_varint(out, (int64_t)codes[i]);
        }
    }
    mem_free(codes);
}

/* The smallest plan for rows m[0..n): one step, or deltas or
 * delta-of-deltas as varints or bit-packed. O(n). */
static mant_plan_t mant_choose(const int64_t *m, const int8_t *en, size_t n)
{
    size_t first = n;
    size_t second = n;
    for (size_t i = 0; i < n && second == n; i++) {
        if (en[i] == DEC_NONE) {
            continue;
        }
        if (first == n) {
            first = i;
        } else {
            second = i;
        }
    }
    int64_t m0 = first < n ? m[first] : 0;
    mant_plan_t best = { MANT_STEP, m0, 0, FORM_VARINT, 0, 0, 0 };
    bool step = true;
    if (second < n) {
        int64_t diff = m[second] - m[first];
        int64_t gap = (int64_t)(second - first);
        best.d = diff / gap;
        best.m0 = (int64_t)((uint64_t)m[first] - (uint64_t)first * (uint64_t)best.d);
        step = diff % gap == 0;
    }
    for (size_t i = first; i < n && step; i++) {
        step = en[i] == DEC_NONE || (uint64_t)best.m0 + (uint64_t)i * (uint64_t)best.d == (uint64_t)m[i];
    }
    /* Scaled by 100 so varint and packed sizes compare under zstd. */
    size_t best_cost = step ? 100 * (ilen(best.m0) + (n >= 2 ? ilen(best.d) : 0)) : SIZE_MAX;
    uint64_t *codes = mem_alloc((n ? n : 1) * sizeof(uint64_t));
    for (int mode = MANT_DELTA; mode <= MANT_DOD; mode++) {
        mant_plan_t p = { mode, m0, 0, FORM_VARINT, 0, 0, 0 };
        size_t k = mant_collect(mode, m0, m, en, n, codes);
        size_t psz;
        size_t vsz = mant_price(codes, k, &p, &psz);
        size_t cost = 100 * (ilen(m0) + vsz);
        size_t pcost = (100 * (ilen(m0) + psz) * 100) / PACK_GAIN_PCT;
        if (pcost < cost) {
            p.form = FORM_PACKED;
            cost = pcost;
        }
        uint64_t rg = 0;
        unsigned rk = 0;
        size_t rsz = mant_price_rice(codes, k, &rg, &rk);
        if (rsz != SIZE_MAX && (100 * (ilen(m0) + rsz) * 100) / PACK_GAIN_PCT < cost) {
            p.form = FORM_RICE;
            p.g = rg;
            p.width = rk;
            cost = (100 * (ilen(m0) + rsz) * 100) / PACK_GAIN_PCT;
        }
        if (cost < best_cost) {
            best = p;
            best_cost = cost;
        }
    }
    mem_free(codes);
    return best;
}

/* Append a V_DEC column for v[0..n), or return false (appending nothing)
 * when more than n/4 rows would be exceptions. O(n · distinct exponents). */
static bool dec_encode(buf_t *out, const double *v, size_t n)
{
    int64_t *m = mem_alloc(n * sizeof *m);
    int8_t *en = mem_alloc(n);
    bool seen[2 * DEC_EMAX + 1] = { false };
    bool ok = false;
    for (size_t i = 0; i < n; i++) {
        int e = 0;
        if (dec_split(v[i], &m[i], &e)) {
            en[i] = (int8_t)e;
            seen[e + DEC_EMAX] = seen[e + DEC_EMAX] || m[i] != 0;
        } else {
            en[i] = DEC_NONE;
        }
    }
    int best_e = 0;
    size_t best_cnt = 0;
    for (int cand = DEC_EMAX; cand >= -DEC_EMAX; cand--) {
        if (!seen[cand + DEC_EMAX] && !(cand == 0 && best_cnt == 0)) {
            continue;
        }
        size_t cnt = 0;
        for (size_t i = 0; i < n; i++) {
            cnt += en[i] != DEC_NONE && dec_fits(m[i], en[i], cand);
        }
        if (cnt > best_cnt) {
            best_cnt = cnt;
            best_e = cand;
        }
    }
    if ((n - best_cnt) > n / DEC_MAX_EXC_DIV) {
        goto done;
    }
    /* Rescale the kept rows to best_e; the others become exceptions. */
    size_t nexc = 0;
    for (size_t i = 0; i < n; i++) {
        if (en[i] != DEC_NONE && dec_fits(m[i], en[i], best_e)) {
            m[i] *= pow10_i64[m[i] == 0 ? 0 : en[i] - best_e];
            if (dec_check(m[i], best_e, dbl_bits(v[i]))) {
                continue;
            }
        }
        en[i] = DEC_NONE;
        nexc++;
    }
    if (nexc > n / DEC_MAX_EXC_DIV) {
        goto done;
    }
    mant_plan_t plan = mant_choose(m, en, n);
    buf_putc(out, TSDB_V_DEC);
    buf_putc(out, (uint8_t)(plan.mode << 6 | (best_e + DEC_EMAX)));
    buf_put_uvarint(out, (uint64_t)nexc << 2 | (uint64_t)plan.form);
    size_t next = 0; /* previous exception + 1 */
    for (size_t i = 0; i < n; i++) {
        if (en[i] == DEC_NONE) {
            buf_put_uvarint(out, i - next);
            buf_put_u64le(out, dbl_bits(v[i]));
            next = i + 1;
        }
    }
    mant_emit(out, &plan, m, en, n);
    ok = true;
done:
    mem_free(m);
    mem_free(en);
    return ok;
}

/* ---- values -------------------------------------------------------- */

void tsdb_codec_put_values(buf_t *out, const double *v, size_t n)
{
    assert(n >= 1);
    uint64_t b0 = dbl_bits(v[0]);
    bool same = true;
    for (size_t i = 1; i < n && same; i++) {
        same = dbl_bits(v[i]) == b0;
    }
    buf_t dec;
    buf_t xr;
    buf_init(&dec);
    buf_init(&xr);
    bool have_dec = dec_encode(&dec, v, n);
    const buf_t *best = NULL;
    size_t best_len = SIZE_MAX;
    if (same) {
        best_len = 9;
    }
    if (have_dec && dec.len < best_len) {
        best = &dec;
        best_len = dec.len;
    }
    if (!same) {
        buf_putc(&xr, TSDB_V_XOR);
        tsdb_xor_put_values(&xr, v, n);
        /* Varints shrink ~25% under the page's zstd, XOR bits do not. */
        bool beats_dec = best != &dec || xr.len * 4 < dec.len * 3;
        if (xr.len < best_len && beats_dec) {
            best = &xr;
        }
    }
    if (best == NULL) {
        buf_putc(out, TSDB_V_CONST);
        buf_put_u64le(out, b0);
    } else {
        buf_append(out, best->data, best->len);
    }
    buf_fini(&dec);
    buf_fini(&xr);
}

/* Read the next exception header at *off: sets *idx (> prev) and leaves *off
 * at its u64le bits. prev_next is prev + 1. */
static bool exc_next(const uint8_t *p, size_t len, size_t *off, size_t prev_next, size_t n, size_t *idx)
{
    uint64_t gap = 0;
    size_t k = varint_get_u64(p + *off, len - *off, &gap);
    if (k == 0 || gap >= n - prev_next || len - *off - k < 8) {
        return false;
    }
    *off += k;
    *idx = prev_next + (size_t)gap;
    return true;
}

/* Reader of the codes of one V_DEC column in any form. The varint form
 * reads from the shared offset; the bit forms from their own stream. */
typedef struct code_reader {
    int form;
    const uint8_t *bits;
    uint64_t bitpos, bitlen;
    uint64_t min, g;
    unsigned width;
} code_reader_t;

/* Read the form's header at *off (ncodes codes follow). False if corrupt. */
static bool code_reader_init(code_reader_t *r, int form, const uint8_t *p, size_t len, size_t *off, size_t ncodes)
{
    memset(r, 0, sizeof(*r));
    r->form = form;
    if (form == FORM_VARINT) {
        return true;
    }
    int64_t mn = 0;
    size_t k = form == FORM_PACKED ? varint_get_i64(p + *off, len - *off, &mn) : 1;
    if (k == 0) {
        return false;
    }
    *off += form == FORM_PACKED ? k : 0;
    r->min = (uint64_t)mn;
    k = varint_get_u64(p + *off, len - *off, &r->g);
    if (k == 0 || *off + k >= len) {
        return false;
    }
    *off += k;
    r->width = p[(*off)++];
    r->bits = p + *off;
    if (form == FORM_RICE) {
        r->bitlen = (uint64_t)(len - *off) * 8;
        return r->width <= 63 && r->g != 0 && r->g <= (uint64_t)INT64_MAX;
    }
    uint64_t nbytes = ((uint64_t)ncodes * r->width + 7) / 8;
    if (r->width > 64 || nbytes > len - *off) {
        return false;
    }
    r->bitlen = nbytes * 8;
    *off += (size_t)nbytes;
    return true;
}

/* The next code; false if corrupt. */
static bool code_reader_next(code_reader_t *r, const uint8_t *p, size_t len, size_t *off, uint64_t *code)
{
    if (r->form == FORM_VARINT) {
        int64_t x = 0;
        size_t k = varint_get_i64(p + *off, len - *off, &x);
        *off += k;
        *code = (uint64_t)x;
        return k > 0;
    }
    if (r->form == FORM_PACKED) {
        *code = r->min + r->g * (r->width ? bits_get(r->bits, r->bitpos, r->width) : 0);
        r->bitpos += r->width;
        return true;
    }
    uint64_t q = 0;
    while (r->bitpos < r->bitlen && bits_get(r->bits, r->bitpos, 1)) {
        r->bitpos++;
        if (++q >= RICE_MAX_Q) {
            return false;
        }
    }
    if (r->bitpos + 1 + r->width > r->bitlen) {
        return false;
    }
    r->bitpos++; /* the 0 that ends the quotient */
    uint64_t z = (q << r->width) | (r->width ? bits_get(r->bits, r->bitpos, r->width) : 0);
    r->bitpos += r->width;
    *code = (uint64_t)varint_unzigzag(z) * r->g;
    return true;
}

/* Validate the exception list at *off (advancing past it); counts those
 * at rows >= 1, which carry no code. */
static bool dec_exceptions(const uint8_t *p, size_t len, size_t *off, uint64_t nexc, size_t n, size_t *exc_ge1)
{
    size_t next = 0;
    *exc_ge1 = 0;
    for (uint64_t j = 0; j < nexc; j++) {
        size_t idx = 0;
        if (!exc_next(p, len, off, next, n, &idx)) {
            return false;
        }
        *off += 8;
        next = idx + 1;
        *exc_ge1 += idx >= 1;
    }
    return true;
}

static long dec_decode(const uint8_t *p, size_t len, double *v, size_t n)
{
    if (len < 2) {
        return -1;
    }
    int mode = p[1] >> 6;
    int e = (p[1] & 63) - DEC_EMAX;
    size_t off = 2;
    uint64_t nexc = 0;
    size_t k = varint_get_u64(p + off, len - off, &nexc);
    int form = (int)(nexc & 3);
    nexc >>= 2;
    if (k == 0 || mode > MANT_DOD || e > DEC_EMAX || nexc > n / DEC_MAX_EXC_DIV || form > FORM_RICE ||
        (form != FORM_VARINT && mode == MANT_STEP)) {
        return -1;
    }
    off += k;
    size_t eoff = off;
    size_t exc_ge1;
    int64_t m0 = 0, step = 0;
    if (!dec_exceptions(p, len, &off, nexc, n, &exc_ge1) || (k = varint_get_i64(p + off, len - off, &m0)) == 0) {
        return -1;
    }
    off += k;
    if (mode == MANT_STEP && n >= 2) {
        if ((k = varint_get_i64(p + off, len - off, &step)) == 0) {
            return -1;
        }
        off += k;
    }
    code_reader_t cr;
    if (!code_reader_init(&cr, form, p, len, &off, n - 1 - exc_ge1)) {
        return -1;
    }
    /* Rows in order, with a second cursor on the exceptions. */
    uint64_t cur = (uint64_t)m0, d = mode == MANT_STEP ? (uint64_t)step : 0;
    size_t exc_idx = n;
    uint64_t left = nexc;
    if (left > 0 && exc_next(p, len, &eoff, 0, n, &exc_idx)) {
        left--;
    }
    for (size_t i = 0; i < n; i++) {
        bool exc = i == exc_idx;
        if (i > 0) {
            uint64_t code = 0;
            if (!exc && mode != MANT_STEP && !code_reader_next(&cr, p, len, &off, &code)) {
                return -1;
            }
            d += mode == MANT_DOD ? code : 0;
            cur += mode == MANT_DELTA ? code : d;
        }
        if (exc) {
            v[i] = bits_dbl(get_u64le(p + eoff));
            eoff += 8;
            exc_idx = n;
            if (left > 0 && exc_next(p, len, &eoff, i + 1, n, &exc_idx)) {
                left--;
            }
            continue;
        }
        int64_t ms = (int64_t)cur;
        if (ms <= -DEC_MLIM || ms >= DEC_MLIM) {
            return -1;
        }
        v[i] = dec_value(ms, e);
    }
    if (form == FORM_RICE) {
        off += (size_t)((cr.bitpos + 7) / 8);
    }
    return (long)off;
}

long tsdb_codec_get_values(const uint8_t *p, size_t len, double *v, size_t n)
{
    if (n == 0 || len < 1 || len > LONG_MAX) {
        return -1;
    }
    switch (p[0]) {
    case TSDB_V_CONST: {
        if (len < 9) {
            return -1;
        }
        double c = bits_dbl(get_u64le(p + 1));
        for (size_t i = 0; i < n; i++) {
            v[i] = c;
        }
        return 9;
    }
    case TSDB_V_DEC:
        return dec_decode(p, len, v, n);
    case TSDB_V_XOR: {
        long k = tsdb_xor_get_values(p + 1, len - 1, v, n);
        return k < 0 ? -1 : k + 1;
    }
    default:
        return -1;
    }
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json_out: Go-compatible JSON strings and floats. See json_out.h.
 *
 * Strings: bytes are decoded as UTF-8 exactly like Go's utf8.DecodeRune
 * (no overlongs, no surrogates, <= U+10FFFF); a byte that does not start a
 * valid sequence becomes \ufffd and decoding resumes at the next byte.
 * U+2028/U+2029 are escaped (as Go does for JavaScript safety), DEL is not.
 *
 * Floats: Go's shortest formatting picks the fewest significant digits that
 * read back to the same double and, among those, the nearest. Most values
 * (up to 15 digits, not too small) take an exact arithmetic fast path
 * (json_shortest_fast); for the others we find that
 * digit count P by binary search over libc's correctly rounded "%.*e"
 * (round-tripping is monotonic in the precision), then check the other
 * P-1 digit neighbour: next to a power of two the rounding interval is
 * lopsided, so the nearest P-1 digit value can miss while the one on the
 * far side still reads back (Go's roundShortest finds it). Read-back uses
 * str_parse_double (strtod in the C locale). The digits and decimal point
 * position are then laid out by Go's fmtE/fmtF rules. For 'g' with the
 * shortest precision Go fixes eprec = 6: exponent form when the decimal
 * exponent is < -4 or >= 6 (1e+06, 123456, 1e-05, 0.0001). Any fmt other
 * than 'e' or 'f' is treated as 'g'.
 */
#include "common/json_out.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/str.h"

static const char json_hex[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence at s[0..n) (n > 0), 0 if invalid. */
static size_t json_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t need = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    uint32_t v = 0;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        v = c & 0x0F;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        v = c & 0x07;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (n - 1 < need || s[1] < lo || s[1] > hi) {
        return 0;
    }
    v = (v << 6) | (s[1] & 0x3F);
    for (size_t k = 2; k <= need; k++) {
        if (s[k] < 0x80 || s[k] > 0xBF) {
            return 0;
        }
        v = (v << 6) | (s[k] & 0x3F);
    }
    *cp = v;
    return need + 1;
}

static bool json_byte_safe(unsigned char c)
{
    return c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&';
}

void json_str(buf_t *b, const char *p, size_t len)
{
    const unsigned char *s = (const unsigned char *)p;
    buf_reserve(b, len + 2);
    buf_putc(b, '"');
    size_t i = 0;
    size_t start = 0; /* s[start..i) is pending verbatim output */
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if (json_byte_safe(c)) {
                i++;
                continue;
            }
            buf_append(b, s + start, i - start);
            switch (c) {
            case '"':
                buf_append(b, "\\\"", 2);
                break;
            case '\\':
                buf_append(b, "\\\\", 2);
                break;
            case '\n':
                buf_append(b, "\\n", 2);
                break;
            case '\r':
                buf_append(b, "\\r", 2);
                break;
            case '\t':
                buf_append(b, "\\t", 2);
                break;
            default: {
                char esc[6] = { '\\', 'u', '0', '0', json_hex[c >> 4], json_hex[c & 0xF] };
                buf_append(b, esc, 6);
                break;
            }
            }
            start = ++i;
            continue;
        }
        uint32_t cp = 0;
        size_t n = json_utf8_seq(s + i, len - i, &cp);
        if (n == 0) {
            buf_append(b, s + start, i - start);
            buf_append(b, "\\ufffd", 6);
            start = ++i;
            continue;
        }
        if (cp == 0x2028 || cp == 0x2029) {
            buf_append(b, s + start, i - start);
            buf_append(b, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
            i += n;
            start = i;
            continue;
        }
        i += n;
    }
    buf_append(b, s + start, i - start);
    buf_putc(b, '"');
}

void json_cstr(buf_t *b, const char *s)
{
    json_str(b, s, strlen(s));
}

/* Decimal digits d[0..nd) with value 0.d1d2... * 10^dp, as Go's decimalSlice. */
typedef struct json_digits {
    char d[24];
    int nd;
    int dp;
} json_digits_t;

/* f > 0 finite, rounded to prec significant digits by libc (correctly). */
static void json_digits_at(double f, int prec, json_digits_t *out)
{
    char tmp[64];
    int n = snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, f);
    out->nd = 0;
    int i = 0;
    /* Skip the locale's decimal point, whatever it is; stop at 'e'. */
    for (; i < n && tmp[i] != 'e'; i++) {
        if (tmp[i] >= '0' && tmp[i] <= '9' && out->nd < (int)sizeof(out->d)) {
            out->d[out->nd++] = tmp[i];
        }
    }
    int exp = 0;
    int sign = 1;
    i++;
    if (i < n && (tmp[i] == '-' || tmp[i] == '+')) {
        sign = tmp[i] == '-' ? -1 : 1;
        i++;
    }
    for (; i < n; i++) {
        exp = exp * 10 + (tmp[i] - '0');
    }
    out->dp = sign * exp + 1;
}

/* True when the digits read back as exactly f. */
static bool json_digits_roundtrip(const json_digits_t *g, double f)
{
    char tmp[64];
    int n = snprintf(tmp, sizeof(tmp), "0.%.*se%d", g->nd, g->d, g->dp);
    double v = 0;
    return n > 0 && str_parse_double(str_from(tmp, (size_t)n), &v) && v == f;
}

/* Step g (nd digits) one unit in its last digit, up or down. */
static void json_digits_step(json_digits_t *g, bool up)
{
    int k = g->nd - 1;
    if (up) {
        while (k >= 0 && g->d[k] == '9') {
            g->d[k--] = '0';
        }
        if (k < 0) {
            g->d[0] = '1'; /* 99..9 -> 100..0, one decade up */
            g->dp++;
        } else {
            g->d[k]++;
        }
        return;
    }
    while (k >= 0 && g->d[k] == '0') {
        g->d[k--] = '9';
    }
    g->d[k]--;
    if (g->d[0] == '0') {
        /* 100..0 -> 099..9: the same count of digits one decade down. */
        memmove(g->d, g->d + 1, (size_t)g->nd - 1);
        g->d[g->nd - 1] = '9';
        g->dp--;
    }
}

static void json_trim(json_digits_t *g)
{
    while (g->nd > 0 && g->d[g->nd - 1] == '0') {
        g->nd--;
    }
}

/* Fast path for finite f > 0 whose shortest decimal has at most 15
 * significant digits and at most 22 fractional digits: the first k with
 * m = round(f * 10^k) < 2^50 and m / 10^k == f. The division is correctly
 * rounded (m and 10^k exact), so the test is exact; below 2^50 the
 * decimals m / 10^k lie several ulps apart, so only one can read back as
 * f, and it has the fewest digits since k is the smallest. true and *out
 * set when found; *at_least_16 says, when not found, that some k was tried
 * and the next one reached 2^50: then the shortest has at least 16
 * digits (one with fewer would have been found). */
static bool json_shortest_fast(double f, json_digits_t *out, bool *at_least_16)
{
    static const double pow10[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
    const double limit = 1125899906842624.0; /* 2^50 */
    *at_least_16 = false;
    for (int k = 0; k <= 22; k++) {
        double x = f * pow10[k];
        if (x >= limit) {
            *at_least_16 = k > 0;
            return false;
        }
        double m = nearbyint(x);
        if (m == 0 || m / pow10[k] != f) {
            continue;
        }
        uint64_t u = (uint64_t)m;
        char rev[24];
        int n = 0;
        while (u > 0) {
            rev[n++] = (char)('0' + u % 10);
            u /= 10;
        }
        out->nd = 0;
        for (int i = n - 1; i >= 0; i--) {
            out->d[out->nd++] = rev[i];
        }
        out->dp = n - k;
        json_trim(out);
        return true;
    }
    return false;
}

__extension__ typedef unsigned __int128 json_u128;

/* x / 10, with a 64-bit division once x fits (most of the steps). */
static json_u128 json_div10(json_u128 x)
{
    return x <= UINT64_MAX ? (json_u128)((uint64_t)x / 10) : x / 10;
}

/* The digit-removal state of json_shortest_exact. */
typedef struct json_removal {
    json_u128 vr, vp, vm;
    unsigned last; /* the last digit removed from vr */
    bool vr_zeros; /* every digit removed before it was 0 (and vr was exact) */
    int removed;
} json_removal_t;

static void json_drop_digit(json_removal_t *st)
{
    st->vr_zeros = st->vr_zeros && st->last == 0;
    json_u128 q = json_div10(st->vr);
    st->last = (unsigned)(st->vr - q * 10);
    st->vr = q;
    st->vp = json_div10(st->vp);
    st->vm = json_div10(st->vm);
    st->removed++;
}

/* Shortest digits for normal f in [1e-3, 1e21) by exact integer
 * arithmetic (Ryu's digit removal on exact bounds instead of its tables):
 * f = m * 2^e; scaled by 10^k (k = 20 - digits before the point, at most
 * 22), f and the ends of its rounding interval become V, U, L over 2^t,
 * all below 2^128; the interval is then at least 100 units wide, so at
 * least one digit is removed and the last removed digit decides the
 * rounding (ties to even). Bounds are included when m is even, as in
 * round-to-nearest-even reading. true and *out set, false when f is
 * outside the range handled here. */
static bool json_shortest_exact(double f, json_digits_t *out)
{
    typedef json_u128 u128;
    if (!(f >= 1e-3 && f < 1e21)) {
        return false;
    }
    uint64_t bits;
    memcpy(&bits, &f, sizeof(bits));
    int be = (int)((bits >> 52) & 0x7ff);
    uint64_t frac = bits & ((1ULL << 52) - 1);
    uint64_t m = frac | (1ULL << 52);
    int e = be - 1075;
    int d = (int)floor(log10(f)) + 1;
    int k = 20 - d;
    if (k < 0) {
        k = 0;
    }
    if (k > 22) {
        return false;
    }
    bool lopsided = frac == 0 && be > 1; /* the gap below is half the gap above */
    u128 p10 = 1;
    for (int i = 0; i < k; i++) {
        p10 *= 10;
    }
    uint64_t mult = lopsided ? 4 : 2;
    u128 V = (u128)(mult * m) * p10;
    u128 U = (u128)(mult * m + (lopsided ? 2 : 1)) * p10;
    u128 L = (u128)(mult * m - 1) * p10;
    int t = (lopsided ? 2 : 1) - e; /* the values are V / 2^t */
    if (t < 0) {
        V <<= -t;
        U <<= -t;
        L <<= -t;
        t = 0;
    }
    if (t > 126) {
        return false;
    }
    u128 mask = ((u128)1 << t) - 1;
    bool accept = (m & 1) == 0;
    u128 vr = V >> t, vp = U >> t, vm = L >> t;
    bool vr_zeros = (V & mask) == 0;
    bool vm_zeros = (L & mask) == 0;
    if (!accept && (U & mask) == 0) {
        vp--;
    }
    json_removal_t st = { vr, vp, vm, 0, vr_zeros, 0 };
    while (json_div10(st.vp) > json_div10(st.vm)) {
        vm_zeros = vm_zeros && st.vm % 10 == 0;
        json_drop_digit(&st);
    }
    if (accept && vm_zeros) {
        while (st.vm % 10 == 0 && st.vm != 0) {
            json_drop_digit(&st);
        }
    }
    if (st.vr > UINT64_MAX) {
        return false; /* cannot happen for the range above; be safe */
    }
    uint64_t r = (uint64_t)st.vr, q = (uint64_t)st.vm;
    unsigned last = st.last;
    int removed = st.removed;
    if (st.vr_zeros && last == 5 && r % 2 == 0) {
        last = 4; /* exactly half way: to even */
    }
    uint64_t o = r + (((r == q && (!accept || !vm_zeros)) || last >= 5) ? 1 : 0);
    char rev[40];
    int n = 0;
    while (o > 0) {
        rev[n++] = (char)('0' + o % 10);
        o /= 10;
    }
    if (n == 0 || n > (int)sizeof(out->d)) {
        return false;
    }
    out->nd = 0;
    for (int i = n - 1; i >= 0; i--) {
        out->d[out->nd++] = rev[i];
    }
    out->dp = n + removed - k;
    json_trim(out);
    return true;
}

/* Go's shortest decimal for finite f > 0. */
static void json_shortest(double f, json_digits_t *out)
{
    bool at_least_16;
    if (json_shortest_exact(f, out) || json_shortest_fast(f, out, &at_least_16)) {
        return;
    }
    int lo = at_least_16 ? 16 : 1;
    int hi = 17;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        json_digits_t g;
        json_digits_at(f, mid, &g);
        if (json_digits_roundtrip(&g, f)) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    json_digits_at(f, lo, out);
    if (lo > 1) {
        json_digits_t g;
        json_digits_at(f, lo - 1, &g);
        char tmp[64];
        snprintf(tmp, sizeof(tmp), "0.%.*se%d", g.nd, g.d, g.dp);
        double v = 0;
        if (str_parse_double(str_cstr(tmp), &v) && v != f) {
            json_digits_step(&g, v < f);
            if (json_digits_roundtrip(&g, f)) {
                *out = g;
            }
        }
    }
    json_trim(out);
}

static void json_fmt_e(buf_t *b, const json_digits_t *g, int prec, char e)
{
    buf_putc(b, g->nd ? (uint8_t)g->d[0] : '0');
    if (prec > 0) {
        buf_putc(b, '.');
        int i = 1;
        int m = g->nd < prec + 1 ? g->nd : prec + 1;
        if (i < m) {
            buf_append(b, g->d + i, (size_t)(m - i));
            i = m;
        }
        for (; i <= prec; i++) {
            buf_putc(b, '0');
        }
    }
    buf_putc(b, (uint8_t)e);
    int exp = g->nd ? g->dp - 1 : 0;
    buf_putc(b, exp < 0 ? '-' : '+');
    if (exp < 0) {
        exp = -exp;
    }
    if (exp < 10) {
        buf_putc(b, '0');
        buf_putc(b, (uint8_t)('0' + exp));
    } else if (exp < 100) {
        buf_putc(b, (uint8_t)('0' + exp / 10));
        buf_putc(b, (uint8_t)('0' + exp % 10));
    } else {
        buf_putc(b, (uint8_t)('0' + exp / 100));
        buf_putc(b, (uint8_t)('0' + exp / 10 % 10));
        buf_putc(b, (uint8_t)('0' + exp % 10));
    }
}

static void json_fmt_f(buf_t *b, const json_digits_t *g, int prec)
{
    if (g->dp > 0) {
        int m = g->nd < g->dp ? g->nd : g->dp;
        buf_append(b, g->d, (size_t)m);
        for (; m < g->dp; m++) {
            buf_putc(b, '0');
        }
    } else {
        buf_putc(b, '0');
    }
    if (prec > 0) {
        buf_putc(b, '.');
        for (int i = 1; i <= prec; i++) {
            int j = g->dp + i - 1;
            buf_putc(b, (j >= 0 && j < g->nd) ? (uint8_t)g->d[j] : '0');
        }
    }
}

void json_go_float(buf_t *b, double f, char fmt)
{
    if (isnan(f)) {
        buf_append(b, "NaN", 3);
        return;
    }
    if (isinf(f)) {
        buf_append(b, f > 0 ? "+Inf" : "-Inf", 4);
        return;
    }
    json_digits_t g = { .nd = 0, .dp = 0 };
    if (f != 0) {
        json_shortest(fabs(f), &g);
    }
    if (signbit(f)) {
        buf_putc(b, '-');
    }
    int max0 = 0;
    switch (fmt) {
    case 'e':
        json_fmt_e(b, &g, g.nd - 1 > max0 ? g.nd - 1 : max0, 'e');
        return;
    case 'f':
        json_fmt_f(b, &g, g.nd - g.dp > max0 ? g.nd - g.dp : max0);
        return;
    default: {
        int exp = g.dp - 1;
        if (exp < -4 || exp >= 6) {
            json_fmt_e(b, &g, g.nd - 1 > max0 ? g.nd - 1 : max0, 'e');
        } else {
            json_fmt_f(b, &g, g.nd - g.dp > max0 ? g.nd - g.dp : max0);
        }
        return;
    }
    }
}

void json_labels(buf_t *b, const label_t *ls, size_t n)
{
    buf_putc(b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i) {
            buf_putc(b, ',');
        }
        json_str(b, ls[i].name.p, ls[i].name.len);
        buf_putc(b, ':');
        json_str(b, ls[i].value.p, ls[i].value.len);
    }
    buf_putc(b, '}');
}

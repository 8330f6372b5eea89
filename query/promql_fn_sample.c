/* SPDX-License-Identifier: Apache-2.0 */
/*
 * promql_fn_sample: PromQL's per-sample functions (abs ... year), one
 * designated-initialiser table behind pq_sample_fn_lookup().
 *
 * Exactness: Prometheus calls Go's math package, whose results differ from
 * glibc's in the last bit for many inputs (and Go's amd64 Exp flushes to 0
 * below 2^-1022 and overflows at 2^1024 after rounding the exponent). So
 * the transcendental functions are C ports of Go's algorithms as an amd64
 * Prometheus runs them: Log is log_amd64.s (f1 <= Sqrt2/2 folds, subnormal
 * exponents are not renormalised), Exp is exp_amd64.s on its FMA path (CPUs
 * with AVX2+FMA; fma() reproduces VFMADD), everything else the pure-Go code
 * (no fused operations: GOAMD64=v1). Go folds constant expressions exactly
 * and rounds once, so 4/Pi, 1/Ln2 and 1/Ln10 are written as hex floats.
 * Floating-point contraction is switched off for this file: a fused
 * multiply-add where Go rounds twice would change results.
 *
 * Dates: Prometheus converts with time.Unix(int64(v), 0).UTC(). On amd64
 * int64(NaN / ±Inf / out of range) is INT64_MIN, and Go's calendar code
 * works in uint64 seconds since March 1 of year -292277022400, wrapping
 * silently; both are replicated, so year(NaN) is 292277026596 as in
 * Prometheus. clamp with max < min drops the sample (Prometheus returns an
 * empty vector); Go's Min/Max return +-Inf before NaN and order signed zeros.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "query/promql_int.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

/* ---- Go math helpers ---- */

#define GO_SIGN_BIT 0x8000000000000000ULL
#define GO_POS_INF_BITS 0x7FF0000000000000ULL
#define GO_NEG_INF_BITS 0xFFF0000000000000ULL
#define GO_PI 0x1.921fb54442d18p+1           /* math.Pi */
#define GO_PI_2 0x1.921fb54442d18p+0         /* Pi/2, rounded once */
#define GO_PI_4 0x1.921fb54442d18p-1         /* Pi/4 */
#define GO_4_PI 0x1.45f306dc9c883p+0         /* 4/Pi: not 4/M_PI, which rounds twice */
#define GO_INV_LN2 0x1.71547652b82fep+0      /* 1/Ln2 */
#define GO_INV_LN10 0x1.bcb7b1526e50ep-2     /* 1/Ln10: 1/log(10) in double is one ulp low */
#define GO_HSQRT2 7.07106781186547524401e-01 /* Sqrt2/2 as log_amd64.s spells it */
#define GO_REDUCE_THRESHOLD 536870912.0      /* 1<<29: Payne-Hanek above */

static uint64_t go_bits(double f)
{
    uint64_t u = 0;
    memcpy(&u, &f, sizeof(u));
    return u;
}

static double go_frombits(uint64_t u)
{
    double f = 0;
    memcpy(&f, &u, sizeof(f));
    return f;
}

/* math.Max: +Inf wins over NaN, NaN over numbers, +0 over -0. */
static double go_max(double x, double y)
{
    if (isinf(x) && x > 0) {
        return x;
    }
    if (isinf(y) && y > 0) {
        return y;
    }
    if (isnan(x) || isnan(y)) {
        return NAN;
    }
    if (x == 0 && x == y) {
        return signbit(x) ? y : x;
    }
    return x > y ? x : y;
}

/* math.Min: -Inf wins over NaN, NaN over numbers, -0 over +0. */
static double go_min(double x, double y)
{
    if (isinf(x) && x < 0) {
        return x;
    }
    if (isinf(y) && y < 0) {
        return y;
    }
    if (isnan(x) || isnan(y)) {
        return NAN;
    }
    if (x == 0 && x == y) {
        return signbit(x) ? x : y;
    }
    return x < y ? x : y;
}

/* math.Frexp: C's frexp for finite non-zero values; 0, ±Inf and NaN come
 * back unchanged with exponent 0. */
static double go_frexp(double f, int *e)
{
    *e = 0;
    if (f == 0 || isinf(f) || isnan(f)) {
        return f;
    }
    return frexp(f, e);
}

/* math.Log as log_amd64.s computes it. */
static double go_log(double x)
{
    const double ln2_hi = 6.93147180369123816490e-01;
    const double ln2_lo = 1.90821492927058770002e-10;
    const double l1 = 6.666666666666735130e-01, l2 = 3.999999999940941908e-01;
    const double l3 = 2.857142874366239149e-01, l4 = 2.222219843214978396e-01;
    const double l5 = 1.818357216161805012e-01, l6 = 1.531383769920937332e-01;
    const double l7 = 1.479819860511658591e-01;
    uint64_t bx = go_bits(x);
    if ((bx & ~GO_SIGN_BIT) == 0) {
        return -INFINITY;
    }
    if ((bx & GO_SIGN_BIT) != 0) {
        return NAN; /* negative, -Inf, or NaN with the sign bit */
    }
    if (bx >= GO_POS_INF_BITS) {
        return x;
    }
    /* Frexp without renormalising subnormals, as the assembly does. */
    double f1 = go_frombits((bx & 0x000FFFFFFFFFFFFFULL) | 0x3FE0000000000000ULL);
    double k = (double)((int32_t)((bx >> 52) & 0x7FF) - 0x3FE);
    if (!(GO_HSQRT2 < f1)) { /* CMPSD NLT: also folds f1 == Sqrt2/2 */
        k -= 1.0;
        f1 *= 2.0;
    }
    double f = f1 - 1.0;
    double s = f / (2.0 + f);
    double s2 = s * s;
    double s4 = s2 * s2;
    double t1 = s2 * (l1 + s4 * (l3 + s4 * (l5 + s4 * l7)));
    double t2 = s4 * (l2 + s4 * (l4 + s4 * l6));
    double r = t1 + t2;
    double hfsq = 0.5 * f * f;
    return k * ln2_hi - ((hfsq - (s * (hfsq + r) + k * ln2_lo)) - f);
}

/* math.Log1p (pure Go, FreeBSD s_log1p.c). */
static double go_log1p(double x)
{
    const double sqrt2m1 = 4.142135623730950488017e-01;
    const double sqrt2_half_m1 = -2.928932188134524755992e-01;
    const double small = 0x1p-29, tiny = 0x1p-54, two53 = 0x1p53;
    const double ln2_hi = 6.93147180369123816490e-01;
    const double ln2_lo = 1.90821492927058770002e-10;
    const double lp1 = 6.666666666666735130e-01, lp2 = 3.999999999940941908e-01;
    const double lp3 = 2.857142874366239149e-01, lp4 = 2.222219843214978396e-01;
    const double lp5 = 1.818357216161805012e-01, lp6 = 1.531383769920937332e-01;
    const double lp7 = 1.479819860511658591e-01;
    if (x < -1 || isnan(x)) {
        return NAN;
    }
    if (x == -1) {
        return -INFINITY;
    }
    if (isinf(x)) {
        return INFINITY;
    }
    double absx = fabs(x);
    double f = 0;
    uint64_t iu = 0;
    int k = 1;
    if (absx < sqrt2m1) {
        if (absx < small) {
            if (absx < tiny) {
                return x;
            }
            return x - x * x * 0.5;
        }
        if (x > sqrt2_half_m1) {
            k = 0;
            f = x;
            iu = 1;
        }
    }
    double c = 0;
    if (k != 0) {
        double u = 0;
        if (absx < two53) {
            u = 1.0 + x;
            iu = go_bits(u);
            k = (int)((int64_t)(iu >> 52) - 1023);
            c = k > 0 ? 1.0 - (u - x) : x - (u - 1.0);
            c /= u;
        } else {
            u = x;
            iu = go_bits(u);
            k = (int)((int64_t)(iu >> 52) - 1023);
            c = 0;
        }
        iu &= 0x000fffffffffffffULL;
        if (iu < 0x0006a09e667f3bcdULL) {
            u = go_frombits(iu | 0x3ff0000000000000ULL);
        } else {
            k++;
            u = go_frombits(iu | 0x3fe0000000000000ULL);
            iu = (0x0010000000000000ULL - iu) >> 2;
        }
        f = u - 1.0;
    }
    double hfsq = 0.5 * f * f;
    double fk = (double)k;
    if (iu == 0) {
        if (f == 0) {
            if (k == 0) {
                return 0;
            }
            c += fk * ln2_lo;
            return fk * ln2_hi + c;
        }
        double r = hfsq * (1.0 - 0.66666666666666666 * f);
        if (k == 0) {
            return f - r;
        }
        return fk * ln2_hi - ((r - (fk * ln2_lo + c)) - f);
    }
    double s = f / (2.0 + f);
    double z = s * s;
    double r = z * (lp1 + z * (lp2 + z * (lp3 + z * (lp4 + z * (lp5 + z * (lp6 + z * lp7))))));
    if (k == 0) {
        return f - (hfsq - s * (hfsq + r));
    }
    return fk * ln2_hi - ((hfsq - (s * (hfsq + r) + (fk * ln2_lo + c))) - f);
}

static double go_log2(double x)
{
    int e = 0;
    double frac = go_frexp(x, &e);
    if (frac == 0.5) {
        return (double)(e - 1);
    }
    return go_log(frac) * GO_INV_LN2 + (double)e;
}

static double go_log10(double x)
{
    return go_log(x) * GO_INV_LN10;
}

/* CVTSD2SL: round to nearest even; NaN and out-of-range give INT32_MIN. */
static int32_t go_cvtsd2sl(double x)
{
    double r = nearbyint(x);
    if (!(r >= -2147483648.0 && r <= 2147483647.0)) {
        return INT32_MIN;
    }
    return (int32_t)r;
}

/* math.Exp as exp_amd64.s computes it on its FMA path. */
static double go_exp(double x)
{
    const double log2e = 1.4426950408889634073599246810018920;
    const double ln2u = 0.69314718055966295651160180568695068359375;
    const double ln2l = 0.28235290563031577122588448175013436025525412068e-12;
    uint64_t bx = go_bits(x);
    if ((bx & ~GO_SIGN_BIT) >= GO_POS_INF_BITS) {
        return bx == GO_NEG_INF_BITS ? 0 : x;
    }
    if (x > 7.09782712893384e+02) {
        return INFINITY;
    }
    int32_t k = go_cvtsd2sl(log2e * x);
    double kd = (double)k;
    double r = fma(-kd, ln2u, x);
    r = fma(-kd, ln2l, r);
    r *= 0.0625;
    double p = 2.4801587301587301587e-5;
    p = fma(p, r, 1.9841269841269841270e-4);
    p = fma(p, r, 1.3888888888888888889e-3);
    p = fma(p, r, 8.3333333333333333333e-3);
    p = fma(p, r, 4.1666666666666666667e-2);
    p = fma(p, r, 1.6666666666666666667e-1);
    p = fma(p, r, 0.5);
    p = fma(p, r, 1.0);
    r *= p; /* e^(r/16) - 1, then squared four times: (y+1)^2 - 1 = y(y+2) */
    for (int i = 0; i < 3; i++) {
        r *= r + 2.0;
    }
    r = fma(r, r + 2.0, 1.0);
    int64_t be = (int64_t)k + 0x3FF;
    if (be <= 0) {
        return 0;
    }
    if (be >= 0x7FF) {
        return INFINITY;
    }
    return r * go_frombits((uint64_t)be << 52);
}

/* 64x64 -> 128 bit multiply (math/bits.Mul64). */
static void go_mul64(uint64_t x, uint64_t y, uint64_t *hi, uint64_t *lo)
{
    const uint64_t mask32 = 0xFFFFFFFFULL;
    uint64_t x0 = x & mask32, x1 = x >> 32;
    uint64_t y0 = y & mask32, y1 = y >> 32;
    uint64_t w0 = x0 * y0;
    uint64_t t = x1 * y0 + (w0 >> 32);
    uint64_t w1 = (t & mask32) + x0 * y1;
    *hi = x1 * y1 + (t >> 32) + (w1 >> 32);
    *lo = x * y;
}

/* Go shifts: a count of 64 or more gives 0. */
static uint64_t go_shl(uint64_t x, unsigned n)
{
    return n >= 64 ? 0 : x << n;
}

static uint64_t go_shr(uint64_t x, unsigned n)
{
    return n >= 64 ? 0 : x >> n;
}

/* Binary digits of 4/pi (trig_reduce.go's mPi4). */
static const uint64_t go_mpi4[20] = {
    0x0000000000000001ULL, 0x45f306dc9c882a53ULL, 0xf84eafa3ea69bb81ULL, 0xb6c52b3278872083ULL, 0xfca2c757bd778ac3ULL,
    0x6e48dc74849ba5c0ULL, 0x0c925dd413a32439ULL, 0xfc3bd63962534e7dULL, 0xd1046bea5d768909ULL, 0xd338e04d68befc82ULL,
    0x7323ac7306a673e9ULL, 0x3908bf177bf25076ULL, 0x3ff12fffbc0b301fULL, 0xde5e2316b414da3eULL, 0xda6cfd9e4f96136eULL,
    0x9e8c7ecd3cbfd45aULL, 0xea4f758fd7cbe2f6ULL, 0x7a0e73ef14a525d4ULL, 0xd7f6bf623f1aba10ULL, 0xac06608df8f6d757ULL,
};

/* Payne-Hanek reduction of x >= 2^29 by Pi/4: octant in *j, remainder
 * returned (trig_reduce.go). */
static double go_trig_reduce(double x, uint64_t *j)
{
    if (x < GO_PI_4) {
        *j = 0;
        return x;
    }
    uint64_t ix = go_bits(x);
    int ex = (int)((ix >> 52) & 0x7FF) - 1023 - 52;
    ix &= ~(0x7FFULL << 52);
    ix |= 1ULL << 52;
    unsigned digit = (unsigned)(ex + 61) / 64, bitshift = (unsigned)(ex + 61) % 64;
    uint64_t z0 = go_shl(go_mpi4[digit], bitshift) | go_shr(go_mpi4[digit + 1], 64 - bitshift);
    uint64_t z1 = go_shl(go_mpi4[digit + 1], bitshift) | go_shr(go_mpi4[digit + 2], 64 - bitshift);
    uint64_t z2 = go_shl(go_mpi4[digit + 2], bitshift) | go_shr(go_mpi4[digit + 3], 64 - bitshift);
    uint64_t z2hi = 0, z2lo = 0, z1hi = 0, z1lo = 0;
    go_mul64(z2, ix, &z2hi, &z2lo);
    go_mul64(z1, ix, &z1hi, &z1lo);
    uint64_t z0lo = z0 * ix;
    uint64_t lo = z1lo + z2hi;
    uint64_t carry = lo < z1lo ? 1 : 0;
    uint64_t hi = z0lo + z1hi + carry;
    *j = hi >> 61;
    hi = hi << 3 | lo >> 61;
    unsigned lz = hi == 0 ? 64 : (unsigned)__builtin_clzll(hi);
    uint64_t e = (uint64_t)(1023 - (int)(lz + 1));
    hi = go_shl(hi, lz + 1) | go_shr(lo, 64 - (lz + 1));
    hi >>= 64 - 52;
    hi |= e << 52;
    double z = go_frombits(hi);
    if ((*j & 1) == 1) {
        *j = (*j + 1) & 7;
        z -= 1;
    }
    return z * GO_PI_4;
}

static const double go_sin_c[6] = {
    1.58962301576546568060e-10, -2.50507477628578072866e-8, 2.75573136213857245213e-6,
    -1.98412698295895385996e-4, 8.33333333332211858878e-3,  -1.66666666666666307295e-1,
};
static const double go_cos_c[6] = {
    -1.13585365213876817300e-11, 2.08757008419747316778e-9,  -2.75573141792967388112e-7,
    2.48015872888517045348e-5,   -1.38888888888730564116e-3, 4.16666666666665929218e-2,
};

/* Octant j and remainder z of x >= 0 (sin.go's reduction). */
static double go_trig_octant(double x, uint64_t *j)
{
    const double pi4a = 7.85398125648498535156e-1;
    const double pi4b = 3.77489470793079817668e-8;
    const double pi4c = 2.69515142907905952645e-15;
    if (x >= GO_REDUCE_THRESHOLD) {
        return go_trig_reduce(x, j);
    }
    *j = (uint64_t)(x * GO_4_PI);
    double y = (double)*j;
    if ((*j & 1) == 1) {
        (*j)++;
        y++;
    }
    *j &= 7;
    return ((x - y * pi4a) - y * pi4b) - y * pi4c;
}

static double go_sin_poly(double z, double zz)
{
    const double *s = go_sin_c;
    return z + z * zz * ((((((s[0] * zz) + s[1]) * zz + s[2]) * zz + s[3]) * zz + s[4]) * zz + s[5]);
}

static double go_cos_poly(double zz)
{
    const double *c = go_cos_c;
    return 1.0 - 0.5 * zz + zz * zz * ((((((c[0] * zz) + c[1]) * zz + c[2]) * zz + c[3]) * zz + c[4]) * zz + c[5]);
}

static double go_sin(double x)
{
    if (x == 0 || isnan(x)) {
        return x;
    }
    if (isinf(x)) {
        return NAN;
    }
    bool sign = false;
    if (x < 0) {
        x = -x;
        sign = true;
    }
    uint64_t j = 0;
    double z = go_trig_octant(x, &j);
    if (j > 3) {
        sign = !sign;
        j -= 4;
    }
    double zz = z * z;
    double y = (j == 1 || j == 2) ? go_cos_poly(zz) : go_sin_poly(z, zz);
    return sign ? -y : y;
}

static double go_cos(double x)
{
    if (isnan(x) || isinf(x)) {
        return NAN;
    }
    bool sign = false;
    x = fabs(x);
    uint64_t j = 0;
    double z = go_trig_octant(x, &j);
    if (j > 3) {
        j -= 4;
        sign = !sign;
    }
    if (j > 1) {
        sign = !sign;
    }
    double zz = z * z;
    double y = (j == 1 || j == 2) ? go_sin_poly(z, zz) : go_cos_poly(zz);
    return sign ? -y : y;
}

static double go_tan(double x)
{
    const double pi4a = 7.85398125648498535156e-1;
    const double pi4b = 3.77489470793079817668e-8;
    const double pi4c = 2.69515142907905952645e-15;
    const double p0 = -1.30936939181383777646e4, p1 = 1.15351664838587416140e6, p2 = -1.79565251976484877988e7;
    const double q1 = 1.36812963470692954678e4, q2 = -1.32089234440210967447e6;
    const double q3 = 2.50083801823357915839e7, q4 = -5.38695755929454629881e7;
    if (x == 0 || isnan(x)) {
        return x;
    }
    if (isinf(x)) {
        return NAN;
    }
    bool sign = false;
    if (x < 0) {
        x = -x;
        sign = true;
    }
    uint64_t j = 0;
    double z = 0;
    if (x >= GO_REDUCE_THRESHOLD) {
        z = go_trig_reduce(x, &j);
    } else {
        j = (uint64_t)(x * GO_4_PI);
        double y = (double)j;
        if ((j & 1) == 1) { /* tan does not reduce j mod 8 */
            j++;
            y++;
        }
        z = ((x - y * pi4a) - y * pi4b) - y * pi4c;
    }
    double zz = z * z;
    double y = z;
    if (zz > 1e-14) {
        y = z + z * (zz * (((p0 * zz) + p1) * zz + p2) / ((((zz + q1) * zz + q2) * zz + q3) * zz + q4));
    }
    if ((j & 2) == 2) {
        y = -1 / y;
    }
    return sign ? -y : y;
}

/* atan.go: xatan on [0, 0.66], satan reduces a positive argument. */
static double go_xatan(double x)
{
    const double p0 = -8.750608600031904122785e-01, p1 = -1.615753718733365076637e+01;
    const double p2 = -7.500855792314704667340e+01, p3 = -1.228866684490136173410e+02;
    const double p4 = -6.485021904942025371773e+01;
    const double q0 = +2.485846490142306297962e+01, q1 = +1.650270098316988542046e+02;
    const double q2 = +4.328810604912902668951e+02, q3 = +4.853903996359136964868e+02;
    const double q4 = +1.945506571482613964425e+02;
    double z = x * x;
    z = z * ((((p0 * z + p1) * z + p2) * z + p3) * z + p4) / (((((z + q0) * z + q1) * z + q2) * z + q3) * z + q4);
    return x * z + x;
}

static double go_satan(double x)
{
    const double morebits = 6.123233995736765886130e-17;
    const double tan3pio8 = 2.41421356237309504880;
    if (x <= 0.66) {
        return go_xatan(x);
    }
    if (x > tan3pio8) {
        return GO_PI_2 - go_xatan(1 / x) + morebits;
    }
    return GO_PI_4 + go_xatan((x - 1) / (x + 1)) + 0.5 * morebits;
}

static double go_atan(double x)
{
    if (x == 0) {
        return x;
    }
    return x > 0 ? go_satan(x) : -go_satan(-x);
}

static double go_asin(double x)
{
    if (x == 0) {
        return x;
    }
    bool sign = false;
    if (x < 0) {
        x = -x;
        sign = true;
    }
    if (x > 1) {
        return NAN;
    }
    double temp = sqrt(1 - x * x);
    temp = x > 0.7 ? GO_PI_2 - go_satan(temp / x) : go_satan(x / temp);
    return sign ? -temp : temp;
}

static double go_acos(double x)
{
    return GO_PI_2 - go_asin(x);
}

static double go_sinh(double x)
{
    const double p0 = -0.6307673640497716991184787251e+6, p1 = -0.8991272022039509355398013511e+5;
    const double p2 = -0.2894211355989563807284660366e+4, p3 = -0.2630563213397497062819489e+2;
    const double q0 = -0.6307673640497716991212077277e+6, q1 = 0.1521517378790019070696485176e+5;
    const double q2 = -0.173678953558233699533450911e+3;
    bool sign = false;
    if (x < 0) {
        x = -x;
        sign = true;
    }
    double temp = 0;
    if (x > 21) {
        temp = go_exp(x) / 2;
    } else if (x > 0.5) {
        temp = (go_exp(x) - go_exp(-x)) / 2;
    } else {
        double sq = x * x;
        temp = (((p3 * sq + p2) * sq + p1) * sq + p0) * x;
        temp = temp / (((sq + q2) * sq + q1) * sq + q0);
    }
    return sign ? -temp : temp;
}

static double go_cosh(double x)
{
    x = fabs(x);
    if (x > 21) {
        return go_exp(x) / 2;
    }
    return (go_exp(x) + go_exp(-x)) / 2;
}

static double go_tanh(double x)
{
    const double maxlog = 8.8029691931113054295988e+01;
    const double tp0 = -9.64399179425052238628E-1, tp1 = -9.92877231001918586564E1, tp2 = -1.61468768441708447952E3;
    const double tq0 = 1.12811678491632931402E2, tq1 = 2.23548839060100448583E3, tq2 = 4.84406305325125486048E3;
    double z = fabs(x);
    if (z > 0.5 * maxlog) {
        return x < 0 ? -1 : 1;
    }
    if (z >= 0.625) {
        double s = go_exp(2 * z);
        z = 1 - 2 / (s + 1);
        return x < 0 ? -z : z;
    }
    if (x == 0) {
        return x;
    }
    double s = x * x;
    return x + x * s * ((tp0 * s + tp1) * s + tp2) / (((s + tq0) * s + tq1) * s + tq2);
}

static double go_asinh(double x)
{
    const double ln2 = 6.93147180559945286227e-01;
    const double near_zero = 0x1p-28, large = 0x1p28;
    if (isnan(x) || isinf(x)) {
        return x;
    }
    bool sign = false;
    if (x < 0) {
        x = -x;
        sign = true;
    }
    double temp = 0;
    if (x > large) {
        temp = go_log(x) + ln2;
    } else if (x > 2) {
        temp = go_log(2 * x + 1 / (sqrt(x * x + 1) + x));
    } else if (x < near_zero) {
        temp = x;
    } else {
        temp = go_log1p(x + x * x / (1 + sqrt(1 + x * x)));
    }
    return sign ? -temp : temp;
}

static double go_acosh(double x)
{
    const double ln2 = 6.93147180559945286227e-01;
    const double large = 0x1p28;
    if (x < 1 || isnan(x)) {
        return NAN;
    }
    if (x == 1) {
        return 0;
    }
    if (x >= large) {
        return go_log(x) + ln2;
    }
    if (x > 2) {
        return go_log(2 * x - 1 / (x + sqrt(x * x - 1)));
    }
    double t = x - 1;
    return go_log1p(t + sqrt(2 * t + t * t));
}

static double go_atanh(double x)
{
    const double near_zero = 0x1p-28;
    if (x < -1 || x > 1 || isnan(x)) {
        return NAN;
    }
    if (x == 1) {
        return INFINITY;
    }
    if (x == -1) {
        return -INFINITY;
    }
    bool sign = false;
    if (x < 0) {
        x = -x;
        sign = true;
    }
    double temp = 0;
    if (x < near_zero) {
        temp = x;
    } else if (x < 0.5) {
        temp = x + x;
        temp = 0.5 * go_log1p(temp + temp * x / (1 - x));
    } else {
        temp = 0.5 * go_log1p((x + x) / (1 - x));
    }
    return sign ? -temp : temp;
}

/* ---- Go time, UTC only ---- */

#define GO_SECS_PER_DAY 86400ULL
#define GO_ABS_YEARS 292277022400ULL /* absolute zero: March 1 of -292277022400 */
#define GO_MARCH_THRU_DEC 306U       /* days from March 1 to the year's end */
/* Unix seconds -> absolute seconds: (1969 years + absoluteYears*365.2425 +
 * marchThruDecember days) * 86400; exact, and below 2^63. */
#define GO_UNIX_TO_ABS (62135596800ULL + ((GO_ABS_YEARS / 400) * 146097ULL + GO_MARCH_THRU_DEC) * GO_SECS_PER_DAY)

typedef struct go_date {
    uint64_t century; /* since the absolute zero */
    uint32_t cyear;   /* year within the century */
    uint32_t ayday;   /* day of the March-based year */
} go_date_t;

/* int64(v) as amd64 converts (CVTTSD2SQ): truncation, INT64_MIN for NaN,
 * ±Inf and anything out of range. */
static int64_t go_unix_seconds(double v)
{
    if (v >= -9223372036854775808.0 && v < 9223372036854775808.0) {
        return (int64_t)v;
    }
    return INT64_MIN;
}

static uint64_t go_abs_seconds(double v)
{
    return (uint64_t)go_unix_seconds(v) + GO_UNIX_TO_ABS; /* wraps like Go's int64 add */
}

/* absDays.split (Neri-Schneider). */
static go_date_t go_split_days(uint64_t days)
{
    go_date_t d;
    uint64_t n = 4 * days + 3;
    d.century = n / 146097;
    uint32_t cd = (uint32_t)(n % 146097) | 3;
    uint64_t m = 2939745ULL * cd;
    d.cyear = (uint32_t)(m >> 32);
    d.ayday = (uint32_t)m / 2939745 / 4;
    return d;
}

static uint32_t go_janfeb(const go_date_t *d)
{
    return d->ayday >= GO_MARCH_THRU_DEC ? 1 : 0;
}

static int64_t go_year(const go_date_t *d)
{
    return (int64_t)(d->century * 100 - GO_ABS_YEARS + d->cyear + go_janfeb(d));
}

static void go_month_day(const go_date_t *d, int *month, int *mday)
{
    uint32_t x = 2141 * d->ayday + 197913;
    *month = (int)(x >> 16) - 12 * (int)go_janfeb(d);
    *mday = 1 + (int)((x & 0xFFFF) / 2141);
}

static go_date_t go_date_of(double v)
{
    return go_split_days(go_abs_seconds(v) / GO_SECS_PER_DAY);
}

/* ---- the functions ---- */

#define PQ_UNARY(name, expr)                                                                                           \
    static bool fn_##name(double v, const double *args, double *out)                                                   \
    {                                                                                                                  \
        (void)args;                                                                                                    \
        *out = (expr);                                                                                                 \
        return true;                                                                                                   \
    }

PQ_UNARY(abs, fabs(v))
PQ_UNARY(ceil, ceil(v))
PQ_UNARY(floor, floor(v))
PQ_UNARY(exp, go_exp(v))
PQ_UNARY(ln, go_log(v))
PQ_UNARY(log2, go_log2(v))
PQ_UNARY(log10, go_log10(v))
PQ_UNARY(sqrt, sqrt(v))
PQ_UNARY(sgn, v < 0 ? -1.0 : (v > 0 ? 1.0 : v))
PQ_UNARY(deg, v * 180 / GO_PI)
PQ_UNARY(rad, v *GO_PI / 180)
PQ_UNARY(sin, go_sin(v))
PQ_UNARY(cos, go_cos(v))
PQ_UNARY(tan, go_tan(v))
PQ_UNARY(asin, go_asin(v))
PQ_UNARY(acos, go_acos(v))
PQ_UNARY(atan, go_atan(v))
PQ_UNARY(sinh, go_sinh(v))
PQ_UNARY(cosh, go_cosh(v))
PQ_UNARY(tanh, go_tanh(v))
PQ_UNARY(asinh, go_asinh(v))
PQ_UNARY(acosh, go_acosh(v))
PQ_UNARY(atanh, go_atanh(v))

/* Prometheus' clamp(vec, min, max): an empty result when max < min. */
static bool pq_clamp(double v, double lo, double hi, double *out)
{
    if (hi < lo) {
        return false;
    }
    *out = go_max(lo, go_min(hi, v));
    return true;
}

static bool fn_clamp(double v, const double *args, double *out)
{
    return pq_clamp(v, args[0], args[1], out);
}

static bool fn_clamp_min(double v, const double *args, double *out)
{
    return pq_clamp(v, args[0], INFINITY, out);
}

static bool fn_clamp_max(double v, const double *args, double *out)
{
    return pq_clamp(v, -INFINITY, args[0], out);
}

/* round(v, to_nearest): ties round up; the inverse is used as in Prometheus. */
static bool fn_round(double v, const double *args, double *out)
{
    double inv = 1.0 / args[0];
    *out = floor(v * inv + 0.5) / inv;
    return true;
}

static bool fn_year(double v, const double *args, double *out)
{
    (void)args;
    go_date_t d = go_date_of(v);
    *out = (double)go_year(&d);
    return true;
}

/* The month (1-12) and day of the month of unix time v. */
static void go_month_day_of(double v, int *month, int *mday)
{
    go_date_t d = go_date_of(v);
    go_month_day(&d, month, mday);
}

static bool fn_month(double v, const double *args, double *out)
{
    (void)args;
    int month = 0, mday = 0;
    go_month_day_of(v, &month, &mday);
    *out = (double)month;
    return true;
}

static bool fn_day_of_month(double v, const double *args, double *out)
{
    (void)args;
    int month = 0, mday = 0;
    go_month_day_of(v, &month, &mday);
    *out = (double)mday;
    return true;
}

static bool fn_day_of_year(double v, const double *args, double *out)
{
    (void)args;
    go_date_t d = go_date_of(v);
    uint32_t janfeb = go_janfeb(&d);
    uint32_t leap = (d.cyear % 4 == 0) & ((d.cyear != 0) | (d.century % 4 == 0));
    *out = (double)((int)d.ayday + 1 + 31 + 28 + (int)(leap & ~janfeb) - 365 * (int)janfeb);
    return true;
}

static bool fn_day_of_week(double v, const double *args, double *out)
{
    (void)args;
    uint64_t days = go_abs_seconds(v) / GO_SECS_PER_DAY;
    *out = (double)((days + 3) % 7); /* March 1 of the absolute year was a Wednesday */
    return true;
}

static bool fn_hour(double v, const double *args, double *out)
{
    (void)args;
    *out = (double)(go_abs_seconds(v) % GO_SECS_PER_DAY / 3600);
    return true;
}

static bool fn_minute(double v, const double *args, double *out)
{
    (void)args;
    *out = (double)(go_abs_seconds(v) % 3600 / 60);
    return true;
}

/* 32 - time.Date(year, month, 32, 0, 0, 0, 0, UTC).Day(), with Go's
 * dateToAbsDays and its uint64 wrap-around. */
static bool fn_days_in_month(double v, const double *args, double *out)
{
    (void)args;
    go_date_t d = go_date_of(v);
    int month = 0, mday = 0;
    go_month_day(&d, &month, &mday);
    uint32_t amonth = (uint32_t)month;
    uint32_t janfeb = amonth < 3 ? 1 : 0;
    amonth += 12 * janfeb;
    uint64_t y = (uint64_t)go_year(&d) - janfeb + GO_ABS_YEARS;
    uint32_t ayday = (979 * amonth - 2919) >> 5;
    uint64_t century = y / 100;
    uint32_t cyear = (uint32_t)(y % 100);
    uint32_t cday = 1461 * cyear / 4;
    uint64_t centurydays = 146097 * century / 4;
    uint64_t absdays = centurydays + (uint64_t)((int64_t)(cday + ayday) + 32 - 1);
    go_date_t first = go_split_days(absdays * GO_SECS_PER_DAY / GO_SECS_PER_DAY);
    int month2 = 0, day2 = 0;
    go_month_day(&first, &month2, &day2);
    *out = (double)(32 - day2);
    return true;
}

typedef struct pq_sample_entry {
    const char *name;
    pq_sample_fn fn;
} pq_sample_entry_t;

static const pq_sample_entry_t pq_sample_fns[] = {
    { .name = "abs", .fn = fn_abs },
    { .name = "acos", .fn = fn_acos },
    { .name = "acosh", .fn = fn_acosh },
    { .name = "asin", .fn = fn_asin },
    { .name = "asinh", .fn = fn_asinh },
    { .name = "atan", .fn = fn_atan },
    { .name = "atanh", .fn = fn_atanh },
    { .name = "ceil", .fn = fn_ceil },
    { .name = "clamp", .fn = fn_clamp },
    { .name = "clamp_max", .fn = fn_clamp_max },
    { .name = "clamp_min", .fn = fn_clamp_min },
    { .name = "cos", .fn = fn_cos },
    { .name = "cosh", .fn = fn_cosh },
    { .name = "day_of_month", .fn = fn_day_of_month },
    { .name = "day_of_week", .fn = fn_day_of_week },
    { .name = "day_of_year", .fn = fn_day_of_year },
    { .name = "days_in_month", .fn = fn_days_in_month },
    { .name = "deg", .fn = fn_deg },
    { .name = "exp", .fn = fn_exp },
    { .name = "floor", .fn = fn_floor },
    { .name = "hour", .fn = fn_hour },
    { .name = "ln", .fn = fn_ln },
    { .name = "log10", .fn = fn_log10 },
    { .name = "log2", .fn = fn_log2 },
    { .name = "minute", .fn = fn_minute },
    { .name = "month", .fn = fn_month },
    { .name = "rad", .fn = fn_rad },
    { .name = "round", .fn = fn_round },
    { .name = "sgn", .fn = fn_sgn },
    { .name = "sin", .fn = fn_sin },
    { .name = "sinh", .fn = fn_sinh },
    { .name = "sqrt", .fn = fn_sqrt },
    { .name = "tan", .fn = fn_tan },
    { .name = "tanh", .fn = fn_tanh },
    { .name = "year", .fn = fn_year },
};

/* Implementation of a per-sample function by name, or NULL (name NULL
 * too). Linear in the table's size; no allocation. */
pq_sample_fn pq_sample_fn_lookup(const char *name)
{
    if (!name) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof(pq_sample_fns) / sizeof(pq_sample_fns[0]); i++) {
        if (strcmp(pq_sample_fns[i].name, name) == 0) {
            return pq_sample_fns[i].fn;
        }
    }
    return NULL;
}

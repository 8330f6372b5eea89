/* SPDX-License-Identifier: Apache-2.0 */
/*
 * str: borrowed slices and strict, locale-free parsers. See str.h.
 *
 * Every parser checks the syntax itself, byte by byte, before converting, so
 * the accepted language is ours and not the C library's: strtod alone would
 * take leading blanks, "0x10" without a 'p' exponent, "nan(123)" and the
 * locale's decimal comma. Floats follow Go's strconv.ParseFloat grammar
 * (Prometheus parses sample values with it) minus digit-separating
 * underscores; NaN takes no sign, as in Go. Out-of-range magnitudes are
 * rejected (Go reports ErrRange); underflow to zero or a subnormal is fine.
 * The conversion itself is strtod_l in the "C" locale on a NUL-terminated
 * copy. That locale object is created once under pthread_once and never
 * changed: the one process-wide value in this file.
 *
 * Durations are Prometheus' model.Duration: y(=365d) w d h m s ms, descending,
 * each at most once, or a bare "0". Formatting mirrors Duration.String():
 * years and weeks only when they divide the value exactly ("90d", not
 * "12w6d"), other units largest first, zero units skipped, 0 as "0s".
 * Negative durations (which Go prints as "") get a leading '-'.
 */
#define _GNU_SOURCE
#include "common/str.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

str_t str_cstr(const char *s)
{
    return s ? str_from(s, strlen(s)) : str_from("", 0);
}

bool str_eq(str_t a, str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

bool str_eq_cstr(str_t a, const char *s)
{
    return str_eq(a, str_cstr(s));
}

int str_cmp(str_t a, str_t b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.p, b.p, n) : 0;
    if (c != 0) {
        return c < 0 ? -1 : 1;
    }
    if (a.len == b.len) {
        return 0;
    }
    return a.len < b.len ? -1 : 1;
}

bool str_has_prefix(str_t s, const char *prefix)
{
    size_t n = strlen(prefix);
    return s.len >= n && (n == 0 || memcmp(s.p, prefix, n) == 0);
}

static bool str_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Digits only, at least one; false on overflow past max. */
static bool str_parse_digits(const char *p, size_t len, uint64_t max, uint64_t *out)
{
    if (len == 0) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!str_is_digit(p[i])) {
            return false;
        }
        uint64_t d = (uint64_t)(p[i] - '0');
        if (v > (max - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

bool str_parse_u64(str_t s, uint64_t *out)
{
    const char *p = s.p;
    size_t len = s.len;
    if (len > 0 && p[0] == '+') {
        p++;
        len--;
    }
    return str_parse_digits(p, len, UINT64_MAX, out);
}

bool str_parse_i64(str_t s, int64_t *out)
{
    const char *p = s.p;
    size_t len = s.len;
    bool neg = false;
    if (len > 0 && (p[0] == '+' || p[0] == '-')) {
        neg = p[0] == '-';
        p++;
        len--;
    }
    uint64_t max = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    if (!str_parse_digits(p, len, max, &v)) {
        return false;
    }
    if (neg) {
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        *out = (int64_t)v;
    }
    return true;
}

static char str_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool str_ieq(const char *p, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    if (len != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (str_lower(p[i]) != lit[i]) {
            return false;
        }
    }
    return true;
}

static bool str_is_xdigit(char c)
{
    char l = str_lower(c);
    return str_is_digit(c) || (l >= 'a' && l <= 'f');
}

/* Go's float literal grammar without underscores, sign already removed. */
static bool str_float_syntax_ok(const char *p, size_t len)
{
    size_t i = 0;
    bool hex = len >= 2 && p[0] == '0' && str_lower(p[1]) == 'x';
    if (hex) {
        i = 2;
    }
    size_t ndigits = 0;
    bool dot = false;
    for (; i < len; i++) {
        if (p[i] == '.' && !dot) {
            dot = true;
        } else if (hex ? str_is_xdigit(p[i]) : str_is_digit(p[i])) {
            ndigits++;
        } else {
            break;
        }
    }
    if (ndigits == 0) {
        return false;
    }
    if (i == len) {
        return !hex; /* a hex mantissa requires a 'p' exponent */
    }
    char e = str_lower(p[i]);
    if (e != (hex ? 'p' : 'e')) {
        return false;
    }
    i++;
    if (i < len && (p[i] == '+' || p[i] == '-')) {
        i++;
    }
    if (i == len) {
        return false;
    }
    for (; i < len; i++) {
        if (!str_is_digit(p[i])) {
            return false;
        }
    }
    return true;
}

static locale_t str_c_locale;
static pthread_once_t str_c_locale_once = PTHREAD_ONCE_INIT;

static void str_c_locale_init(void)
{
    str_c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

bool str_parse_double(str_t s, double *out)
{
    const char *p = s.p;
    size_t len = s.len;
    if (len == 0) {
        return false;
    }
    bool neg = false;
    size_t start = 0;
    if (p[0] == '+' || p[0] == '-') {
        neg = p[0] == '-';
        start = 1;
    }
    const char *body = p + start;
    size_t blen = len - start;
    if (str_ieq(body, blen, "inf") || str_ieq(body, blen, "infinity")) {
        *out = neg ? -INFINITY : INFINITY;
        return true;
    }
    if (start == 0 && str_ieq(body, blen, "nan")) {
        *out = NAN;
        return true;
    }
    if (!str_float_syntax_ok(body, blen)) {
        return false;
    }
    pthread_once(&str_c_locale_once, str_c_locale_init);
    if (str_c_locale == (locale_t)0) {
        return false;
    }
    char small[64];
    char *copy = len < sizeof(small) ? small : mem_alloc(len + 1);
    memcpy(copy, p, len);
    copy[len] = '\0';
    char *end = NULL;
    errno = 0;
    double v = strtod_l(copy, &end, str_c_locale);
    bool ok = end == copy + len && !(errno == ERANGE && isinf(v));
    if (copy != small) {
        mem_free(copy);
    }
    if (ok) {
        *out = v;
    }
    return ok;
}

typedef struct str_dur_unit {
    const char *name;
    int64_t ms;
    bool exact_only; /* formatting: only when it divides the value */
} str_dur_unit_t;

static const str_dur_unit_t str_dur_units[] = {
    { .name = "y", .ms = 365LL * 24 * 3600 * 1000, .exact_only = true },
    { .name = "w", .ms = 7LL * 24 * 3600 * 1000, .exact_only = true },
    { .name = "d", .ms = 24LL * 3600 * 1000 },
    { .name = "h", .ms = 3600LL * 1000 },
    { .name = "m", .ms = 60LL * 1000 },
    { .name = "s", .ms = 1000 },
    { .name = "ms", .ms = 1 },
};
#define STR_DUR_NUNITS (sizeof(str_dur_units) / sizeof(str_dur_units[0]))

bool str_parse_duration_ms(str_t s, int64_t *out)
{
    if (s.len == 1 && s.p[0] == '0') {
        *out = 0;
        return true;
    }
    if (s.len == 0) {
        return false;
    }
    size_t i = 0;
    size_t next_unit = 0; /* units before this index are no longer allowed */
    int64_t total = 0;
    while (i < s.len) {
        size_t d0 = i;
        while (i < s.len && str_is_digit(s.p[i])) {
            i++;
        }
        uint64_t v = 0;
        if (!str_parse_digits(s.p + d0, i - d0, (uint64_t)INT64_MAX, &v)) {
            return false;
        }
        size_t u0 = i;
        while (i < s.len && !str_is_digit(s.p[i])) {
            i++;
        }
        size_t ulen = i - u0;
        size_t k = next_unit;
        while (k < STR_DUR_NUNITS &&
               !(strlen(str_dur_units[k].name) == ulen && memcmp(str_dur_units[k].name, s.p + u0, ulen) == 0)) {
            k++;
        }
        if (k == STR_DUR_NUNITS) {
            return false; /* unknown, repeated or out-of-order unit */
        }
        next_unit = k + 1;
        int64_t part = 0;
        if (__builtin_mul_overflow((int64_t)v, str_dur_units[k].ms, &part) ||
            __builtin_add_overflow(total, part, &total)) {
            return false;
        }
    }
    *out = total;
    return true;
}

size_t str_format_duration_ms(int64_t ms, char *dst)
{
    size_t n = 0;
    if (ms == 0) {
        memcpy(dst, "0s", 3);
        return 2;
    }
    uint64_t rest = (uint64_t)ms;
    if (ms < 0) {
        dst[n++] = '-';
        rest = 0 - rest;
    }
    for (size_t k = 0; k < STR_DUR_NUNITS; k++) {
        uint64_t unit = (uint64_t)str_dur_units[k].ms;
        if (str_dur_units[k].exact_only && rest % unit != 0) {
            continue;
        }
        uint64_t v = rest / unit;
        if (v == 0) {
            continue;
        }
        rest -= v * unit;
        char digits[24];
        size_t nd = 0;
        do {
            digits[nd++] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        while (nd) {
            dst[n++] = digits[--nd];
        }
        for (const char *u = str_dur_units[k].name; *u; u++) {
            dst[n++] = *u;
        }
    }
    dst[n] = '\0';
    return n;
}

bool str_parse_bool(str_t s, bool *out)
{
    if (str_ieq(s.p, s.len, "true") || str_ieq(s.p, s.len, "yes") || str_eq_cstr(s, "1")) {
        *out = true;
        return true;
    }
    if (str_ieq(s.p, s.len, "false") || str_ieq(s.p, s.len, "no") || str_eq_cstr(s, "0")) {
        *out = false;
        return true;
    }
    return false;
}

size_t str_utf8_encode(uint32_t r, char *dst)
{
    if (r < 0x80) {
        dst[0] = (char)r;
        return 1;
    }
    size_t n = r < 0x800 ? 2 : r < 0x10000 ? 3 : 4;
    dst[0] = (char)(n == 2 ? 0xC0 | (r >> 6) : n == 3 ? 0xE0 | (r >> 12) : 0xF0 | (r >> 18));
    for (size_t i = 1; i < n; i++) {
        dst[i] = (char)(0x80 | ((r >> (6 * (n - 1 - i))) & 0x3F));
    }
    return n;
}

bool str_utf8_valid(const char *p, size_t len)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need = 0;
        unsigned char lo = 0x80;
        unsigned char hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            lo = c == 0xE0 ? 0xA0 : 0x80; /* no overlongs */
            hi = c == 0xED ? 0x9F : 0xBF; /* no surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            lo = c == 0xF0 ? 0x90 : 0x80; /* no overlongs */
            hi = c == 0xF4 ? 0x8F : 0xBF; /* <= U+10FFFF */
        } else {
            return false;
        }
        if (len - i - 1 < need) {
            return false;
        }
        if (s[i + 1] < lo || s[i + 1] > hi) {
            return false;
        }
        for (size_t k = 2; k <= need; k++) {
            if (s[i + k] < 0x80 || s[i + k] > 0xBF) {
                return false;
            }
        }
        i += need + 1;
    }
    return true;
}

int str_hex_digit(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

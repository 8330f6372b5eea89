/* SPDX-License-Identifier: Apache-2.0 */
/*
 * str: borrowed byte slices and locale-free parsing of numbers, durations
 * and booleans. A str_t never owns its bytes. Parsers take the whole slice
 * and fail (returning false) unless every byte was consumed.
 */
#ifndef PHAROS_COMMON_STR_H
#define PHAROS_COMMON_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct str {
    const char *p;
    size_t len;
} str_t;

#define STR_LIT(s) ((str_t){ (s), sizeof(s) - 1 })
static inline str_t str_from(const char *p, size_t len)
{
    return (str_t){ p, len };
}
str_t str_cstr(const char *s);

bool str_eq(str_t a, str_t b);
bool str_eq_cstr(str_t a, const char *s);
/* memcmp order, shorter first on a common prefix. */
int str_cmp(str_t a, str_t b);
bool str_has_prefix(str_t s, const char *prefix);

/* Decimal integer with optional sign; false on overflow or junk. */
bool str_parse_i64(str_t s, int64_t *out);
bool str_parse_u64(str_t s, uint64_t *out);
/* Float as Go's ParseFloat accepts it: decimal, exponent, hex float,
 * "Inf", "+Inf", "-Inf", "NaN" (case-insensitive). */
bool str_parse_double(str_t s, double *out);
/* Prometheus duration: one or more <int><unit> with units y w d h m s ms,
 * in descending order, each at most once ("1h30m", "15s", "250ms"), or
 * "0". Result in milliseconds; false on overflow or junk. */
bool str_parse_duration_ms(str_t s, int64_t *out);
/* "true"/"false" (also 1/0, yes/no). */
bool str_parse_bool(str_t s, bool *out);
/* Format ms as a Prometheus duration ("1h30m", "15s", "0s") into dst
 * (room for 32 bytes); returns the length. */
size_t str_format_duration_ms(int64_t ms, char *dst);
/* Value of an ASCII hex digit (0..15), or -1 for anything else. */
int str_hex_digit(int c);
/* Write code point r (<= U+10FFFF, not a surrogate) as UTF-8 into dst
 * (room for 4 bytes); returns the byte count (1..4). */
size_t str_utf8_encode(uint32_t r, char *dst);
/* True when p[0..len) is valid UTF-8 (no overlongs, no surrogates). */
bool str_utf8_valid(const char *p, size_t len);

#endif

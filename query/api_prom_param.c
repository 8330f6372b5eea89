/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_prom_param: the Prometheus API's argument parsers, pure functions of
 * their bytes (fuzzed by tests/fuzz/fuzz_api_params.c), with the error
 * texts of web/api/v1/api.go:
 *
 *   time      parseTime: Unix seconds as a Go float, or RFC 3339, or the
 *             printed MinTime/MaxTime (common/clock.c time_parse_ms);
 *             "cannot parse \"x\" to a valid timestamp"
 *   duration  parseDuration: float seconds first (times 1e9, truncated to
 *             nanoseconds; "cannot parse \"x\" to a valid duration. It
 *             overflows int64"), then a Prometheus duration ("5m", "1h30m");
 *             "cannot parse \"x\" to a valid duration"
 *   limit     parseLimitParam: strconv.Atoi, "" is 0, negatives refused;
 *             "strconv.Atoi: parsing \"x\": invalid syntax" / "value out of
 *             range", "limit must be non-negative"
 *   name      a label name from a URL path, "U__"-escaped names decoded as
 *             model.UnescapeName(…, ValueEncodingEscaping) does
 *
 * Quoted values in messages are Go's %q (labels_quote). Deliberate
 * difference: a time given as a float that is not finite or is beyond
 * ±2^53 seconds is refused (Prometheus turns it into an overflowed time).
 */
#include <math.h>
#include <string.h>

#include "common/clock.h"
#include "common/str.h"
#include "query/promql.h"

static void param_quote(const char *s, size_t len, buf_t *out)
{
    labels_quote(str_from(s, len), out);
}

int api_prom_param_time(const char *s, size_t len, int64_t *ms, buf_t *err)
{
    if (time_parse_ms(s, len, ms)) {
        return 0;
    }
    buf_puts(err, "cannot parse ");
    param_quote(s, len, err);
    buf_puts(err, " to a valid timestamp");
    return -1;
}

int api_prom_param_duration(const char *s, size_t len, int64_t *ns, buf_t *err)
{
    double d = 0;
    if (str_parse_double(str_from(s, len), &d)) {
        double t = d * 1e9;
        /* float64(math.MaxInt64) is 2^63, which does not fit either. */
        if (t >= 9223372036854775808.0 || t < -9223372036854775808.0) {
            buf_puts(err, "cannot parse ");
            param_quote(s, len, err);
            buf_puts(err, " to a valid duration. It overflows int64");
            return -1;
        }
        *ns = isnan(t) ? INT64_MIN : (int64_t)t; /* Go's conversion of NaN on amd64 */
        return 0;
    }
    int64_t v = 0;
    if (str_parse_duration_ms(str_from(s, len), &v) && v <= INT64_MAX / 1000000) {
        *ns = v * 1000000;
        return 0;
    }
    buf_puts(err, "cannot parse ");
    param_quote(s, len, err);
    buf_puts(err, " to a valid duration");
    return -1;
}

void api_prom_param_int_error(const char *fn, const char *s, size_t len, buf_t *err)
{
    /* strconv's two failures: digits that overflow, or anything else. */
    size_t i = len > 0 && (s[0] == '+' || s[0] == '-') ? 1 : 0;
    bool digits = i < len;
    for (size_t k = i; k < len; k++) {
        digits = digits && s[k] >= '0' && s[k] <= '9';
    }
    buf_printf(err, "strconv.%s: parsing ", fn);
    param_quote(s, len, err);
    buf_puts(err, digits ? ": value out of range" : ": invalid syntax");
}

int api_prom_param_limit(const char *s, size_t len, int64_t *limit, buf_t *err)
{
    *limit = 0;
    if (len == 0) {
        return 0;
    }
    int64_t v = 0;
    if (!str_parse_i64(str_from(s, len), &v)) {
        api_prom_param_int_error("Atoi", s, len, err);
        return -1;
    }
    if (v < 0) {
        buf_puts(err, "limit must be non-negative");
        return -1;
    }
    *limit = v;
    return 0;
}

/* Decode the body of a U__ name into dst; false when it is malformed. */
static bool param_unescape(const char *e, size_t len, char *dst, size_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (e[i] != '_') {
            dst[o++] = e[i];
            continue;
        }
        if (++i >= len) {
            return false;
        }
        if (e[i] == '_') {
            dst[o++] = '_';
            continue;
        }
        uint32_t v = 0;
        size_t j = 0;
        for (; i < len && e[i] != '_'; i++, j++) {
            int h = str_hex_digit((unsigned char)e[i]);
            if (j >= 6 || h < 0) {
                return false;
            }
            v = v * 16 + (uint32_t)h;
        }
        if (i >= len || v > 0x10FFFF || (v >= 0xD800 && v < 0xE000)) {
            return false; /* no closing underscore, or not a valid rune */
        }
        o += str_utf8_encode(v, dst + o);
    }
    *out = o;
    return true;
}

size_t api_prom_param_name(const char *s, size_t len, char *dst)
{
    size_t n = 0;
    if (len >= 3 && memcmp(s, "U__", 3) == 0 && param_unescape(s + 3, len - 3, dst, &n)) {
        return n;
    }
    memcpy(dst, s, len);
    return len;
}

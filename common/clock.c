/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clock: the real clock, and timestamp parsing/formatting. See clock.h.
 *
 * Calendar arithmetic uses the days-from-civil / civil-from-days mapping of
 * the proleptic Gregorian calendar over 400-year eras (146097 days each),
 * never timegm/gmtime, so the result depends neither on TZ nor on the C
 * library and covers the whole int64 millisecond range when formatting.
 *
 * Parsing follows Prometheus' parseTime: first a float of Unix seconds
 * (Go ParseFloat syntax, via str_parse_double), split into whole seconds
 * and a fraction rounded to the millisecond; otherwise RFC 3339 as Go's
 * time.RFC3339Nano layout accepts it: "YYYY-MM-DDTHH:MM:SS", an optional
 * fraction of 1..9 digits, then "Z" or "+hh:mm"/"-hh:mm". Fields are range
 * checked (day against the month's length, no leap second). Prometheus'
 * own min/max time sentinels (Go's formatting of its out-of-range years)
 * are matched verbatim and mapped to the ms values Prometheus uses. Unlike
 * Prometheus, which truncates RFC 3339 fractions, the header's contract is
 * to round to the nearest millisecond (half up), and we do.
 */
#include "common/clock.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/str.h"

#define CLOCK_MS_PER_DAY 86400000LL

static int64_t clock_real_now_ms(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

pclock_t clock_real(void)
{
    return (pclock_t){ .now_ms = clock_real_now_ms, .ctx = NULL };
}

void clock_mono_deadline(int64_t ms, struct timespec *ts)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

double clock_mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t clock_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 of y-m-d (m 1..12, d 1..31). */
static int64_t clock_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = clock_floor_div(y, 400);
    int64_t yoe = y - era * 400;                                  /* 0..399 */
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* 0..146096 */
    return era * 146097 + doe - 719468;
}

static void clock_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = clock_floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool clock_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int clock_month_days(int64_t y, int m)
{
    static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return (m == 2 && clock_leap(y)) ? 29 : days[m - 1];
}

/* n decimal digits at s[*i]; false unless all are digits. */
static bool clock_num(const char *s, size_t len, size_t *i, size_t n, int *out)
{
    if (len - *i < n) {
        return false;
    }
    int v = 0;
    for (size_t k = 0; k < n; k++) {
        char c = s[*i + k];
        if (c < '0' || c > '9') {
            return false;
        }
        v = v * 10 + (c - '0');
    }
    *i += n;
    *out = v;
    return true;
}

static bool clock_lit(const char *s, size_t len, size_t *i, char c)
{
    if (*i >= len || s[*i] != c) {
        return false;
    }
    (*i)++;
    return true;
}

/* RFC 3339 into whole seconds and nanoseconds (0..999999999). */
static bool clock_parse_rfc3339(const char *s, size_t len, int64_t *secs_out, int64_t *nanos_out)
{
    size_t i = 0;
    int year = 0, mon = 0, day = 0, hh = 0, mm = 0, ss = 0;
    if (!clock_num(s, len, &i, 4, &year) || !clock_lit(s, len, &i, '-') || !clock_num(s, len, &i, 2, &mon) ||
        !clock_lit(s, len, &i, '-') || !clock_num(s, len, &i, 2, &day) || !clock_lit(s, len, &i, 'T') ||
        !clock_num(s, len, &i, 2, &hh) || !clock_lit(s, len, &i, ':') || !clock_num(s, len, &i, 2, &mm) ||
        !clock_lit(s, len, &i, ':') || !clock_num(s, len, &i, 2, &ss)) {
        return false;
    }
    if (mon < 1 || mon > 12 || day < 1 || day > clock_month_days(year, mon) || hh > 23 || mm > 59 || ss > 59) {
        return false;
    }
    int64_t nanos = 0;
    if (i < len && s[i] == '.') {
        i++;
        size_t nd = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (nd == 9) {
                return false;
            }
            nanos = nanos * 10 + (s[i] - '0');
            nd++;
            i++;
        }
        if (nd == 0) {
            return false;
        }
        while (nd++ < 9) {
            nanos *= 10;
        }
    }
    int64_t off_s = 0;
    if (clock_lit(s, len, &i, 'Z')) {
        off_s = 0;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i] == '-' ? -1 : 1;
        i++;
        int oh = 0, om = 0;
        if (!clock_num(s, len, &i, 2, &oh) || !clock_lit(s, len, &i, ':') || !clock_num(s, len, &i, 2, &om) ||
            oh > 23 || om > 59) {
            return false;
        }
        off_s = sign * (oh * 3600 + om * 60);
    } else {
        return false;
    }
    if (i != len) {
        return false;
    }
    *secs_out = clock_days_from_civil(year, mon, day) * 86400 + hh * 3600 + mm * 60 + ss - off_s;
    *nanos_out = nanos;
    return true;
}

bool time_parse_rfc3339_ns(const char *s, size_t len, int64_t *out)
{
    int64_t secs = 0, nanos = 0;
    if (!clock_parse_rfc3339(s, len, &secs, &nanos) || secs > INT64_MAX / 1000000000 - 1 ||
        secs < INT64_MIN / 1000000000 + 1) {
        return false;
    }
    *out = secs * 1000000000 + nanos;
    return true;
}

/* Prometheus' minTime/maxTime as time.RFC3339Nano strings, and their ms. */
#define CLOCK_MIN_TIME_STR "-292273086-05-16T16:47:06Z"
#define CLOCK_MAX_TIME_STR "292277025-08-18T07:12:54.999999999Z"
#define CLOCK_MIN_TIME_MS (-9223309901258974000LL)
#define CLOCK_MAX_TIME_MS 9223309901258974999LL

bool time_parse_ms(const char *s, size_t len, int64_t *out)
{
    if (len == sizeof(CLOCK_MIN_TIME_STR) - 1 && memcmp(s, CLOCK_MIN_TIME_STR, len) == 0) {
        *out = CLOCK_MIN_TIME_MS;
        return true;
    }
    if (len == sizeof(CLOCK_MAX_TIME_STR) - 1 && memcmp(s, CLOCK_MAX_TIME_STR, len) == 0) {
        *out = CLOCK_MAX_TIME_MS;
        return true;
    }
    double f = 0;
    if (str_parse_double(str_from(s, len), &f)) {
        /* |f| < 2^53 s keeps whole seconds exact and ms in int64 range. */
        if (!isfinite(f) || fabs(f) >= 9007199254740992.0) {
            return false;
        }
        double whole = 0;
        double frac = modf(f, &whole);
        *out = (int64_t)whole * 1000 + (int64_t)round(frac * 1000);
        return true;
    }
    int64_t secs = 0, nanos = 0;
    if (!clock_parse_rfc3339(s, len, &secs, &nanos)) {
        return false;
    }
    *out = secs * 1000 + (nanos + 500000) / 1000000;
    return true;
}

size_t time_format_rfc3339(int64_t ms, char *dst)
{
    int64_t days = ms / CLOCK_MS_PER_DAY;
    int64_t rem = ms % CLOCK_MS_PER_DAY;
    if (rem < 0) {
        rem += CLOCK_MS_PER_DAY; /* now 0..86399999; no product can overflow */
        days--;
    }
    int64_t y = 0;
    int m = 0, d = 0;
    clock_civil_from_days(days, &y, &m, &d);
    int hh = (int)(rem / 3600000);
    int mi = (int)(rem / 60000 % 60);
    int ss = (int)(rem / 1000 % 60);
    int frac = (int)(rem % 1000);
    char tmp[64];
    int n = snprintf(tmp, sizeof(tmp), "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, m, d, hh, mi, ss, frac);
    size_t len = n < 0 ? 0 : (size_t)n;
    if (len > 31) {
        len = 31;
    }
    memcpy(dst, tmp, len);
    dst[len] = '\0';
    return len;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent_cri: the CRI container log line format, as kubelet's runtimes
 * (containerd, CRI-O) write /var/log/pods/<ns>_<pod>_<uid>/<container>/
 * <n>.log:
 *
 *   <RFC 3339 time with nanoseconds> SP <stdout|stderr> SP <tags> SP <content>
 *
 * The tags are ':'-separated and the first is P (partial: the runtime cut
 * a long line, the next line continues it) or F (full: the line ends
 * here). The content is the rest of the line, any bytes, possibly empty
 * (then the space after the tags may be missing too). The time is
 * YYYY-MM-DDTHH:MM:SS[.1-9 digits](Z|+HH:MM|-HH:MM), as Go's
 * time.RFC3339Nano writes it, checked field by field. Pure: one line in
 * (without its '\n'), a parsed line out, or the byte position of the
 * first error. Reassembly of P lines is the file input's job.
 */
#include <string.h>

#include "agent/agent_int.h"

/* Longest timestamp: "2006-01-02T15:04:05.999999999-07:00". */
#define CRI_TS_MAX 35

/* n decimal digits at p into *v; false on a non-digit. */
static bool cri_digits(const char *p, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return false;
        }
        *v = *v * 10 + (p[i] - '0');
    }
    return true;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t cri_days(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* RFC 3339 with optional fraction, p[0..len) exactly. */
static bool cri_time(const char *p, size_t len, int64_t *ns)
{
    static const uint8_t mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y, mo, d, h, mi, se;
    if (len < 20 || !cri_digits(p, 4, &y) || p[4] != '-' || !cri_digits(p + 5, 2, &mo) || p[7] != '-' ||
        !cri_digits(p + 8, 2, &d) || (p[10] != 'T' && p[10] != 't') || !cri_digits(p + 11, 2, &h) || p[13] != ':' ||
        !cri_digits(p + 14, 2, &mi) || p[16] != ':' || !cri_digits(p + 17, 2, &se)) {
        return false;
    }
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 ||
        se > 59) {
        return false;
    }
    size_t i = 19;
    int64_t frac = 0;
    if (i < len && p[i] == '.') {
        size_t k = 0;
        for (i++; i < len && p[i] >= '0' && p[i] <= '9'; i++, k++) {
            if (k >= 9) {
                return false;
            }
            frac = frac * 10 + (p[i] - '0');
        }
        if (k == 0) {
            return false;
        }
        for (; k < 9; k++) {
            frac *= 10;
        }
    }
    int64_t off = 0;
    if (i + 1 == len && (p[i] == 'Z' || p[i] == 'z')) {
        off = 0;
    } else if (i + 6 == len && (p[i] == '+' || p[i] == '-') && p[i + 3] == ':') {
        int oh, om;
        if (!cri_digits(p + i + 1, 2, &oh) || !cri_digits(p + i + 4, 2, &om) || oh > 23 || om > 59) {
            return false;
        }
        off = (oh * 60 + om) * 60 * (p[i] == '-' ? -1 : 1);
    } else {
        return false;
    }
    int64_t secs = cri_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
    *ns = secs * 1000000000 + frac;
    return true;
}

static const char *cri_space(const char *p, const char *end)
{
    const char *sp = memchr(p, ' ', (size_t)(end - p));
    return sp ? sp : end;
}

int agent_cri_parse(const char *p, size_t len, agent_cri_line_t *out, size_t *errpos)
{
    const char *end = p + len;
    const char *q = cri_space(p, end);
    *errpos = 0;
    if (q == end || q == p || q - p > CRI_TS_MAX) {
        *errpos = (size_t)(q - p);
        return -1;
    }
    if (!cri_time(p, (size_t)(q - p), &out->ts_ns)) {
        return -1;
    }
    const char *s = q + 1;
    q = cri_space(s, end);
    if (q - s == 6 && memcmp(s, "stdout", 6) == 0) {
        out->stream = AGENT_CRI_STDOUT;
    } else if (q - s == 6 && memcmp(s, "stderr", 6) == 0) {
        out->stream = AGENT_CRI_STDERR;
    } else {
        *errpos = (size_t)(s - p);
        return -1;
    }
    if (q == end) {
        *errpos = len;
        return -1;
    }
    const char *t = q + 1;
    q = cri_space(t, end);
    const char *colon = memchr(t, ':', (size_t)(q - t));
    const char *tag_end = colon ? colon : q;
    if (tag_end - t != 1 || (t[0] != 'P' && t[0] != 'F')) {
        *errpos = (size_t)(t - p);
        return -1;
    }
    out->partial = t[0] == 'P';
    out->content = q == end ? str_from(end, 0) : str_from(q + 1, (size_t)(end - q - 1));
    return 0;
}

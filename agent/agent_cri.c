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
 * time.RFC3339Nano writes it, read by common/clock's parser (every field
 * checked, times outside int64 nanoseconds refused). Pure: one line in
 * (without its '\n'), a parsed line out, or the byte position of the
 * first error. Reassembly of P lines is the file input's job.
 */
#include <string.h>

#include "agent/agent_int.h"
#include "common/clock.h"

/* Longest timestamp: "2006-01-02T15:04:05.999999999-07:00". */
#define CRI_TS_MAX 35

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
    if (!time_parse_rfc3339_ns(p, (size_t)(q - p), &out->ts_ns)) {
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

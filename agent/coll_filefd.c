/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_filefd: /proc/sys/fs/file-nr -> node_filefd_allocated and
 * node_filefd_maximum (gauges), as node_exporter 1.5's filefd collector.
 *
 * The file is "allocated\tfree\tmaximum\n". As node_exporter, the content
 * is trimmed and split on tabs only; at least three parts are needed, the
 * first and third are parsed like Go's ParseFloat and the second (always
 * 0 since Linux 2.6) is not used. Stricter than it: content without the
 * kernel's final '\n' is a cut read and is refused.
 */
#include <stdio.h>
#include <string.h>

#include "agent/agent_int.h"
#include "agent/coll_text.h"

#define COLL_FILEFD_MAX 4096

/* Parse p[0..len) into [out] *allocated and *maximum. 0, or -1 with the
 * reason in why. Pure. */
static int coll_filefd_parse(const char *p, size_t len, double *allocated, double *maximum, char *why, size_t whylen)
{
    if (len == 0 || p[len - 1] != '\n') {
        snprintf(why, whylen, "truncated (no end of line)");
        return -1;
    }
    while (len > 0 && coll_text_space(p[len - 1])) {
        len--;
    }
    while (len > 0 && coll_text_space(p[0])) {
        p++;
        len--;
    }
    str_t part[3];
    size_t n = 0, start = 0;
    for (size_t i = 0; i <= len && n < 3; i++) {
        if (i == len || p[i] == '\t') {
            part[n++] = str_from(p + start, i - start);
            start = i + 1;
        }
    }
    if (n < 3) {
        snprintf(why, whylen, "malformed line 1: %zu tab-separated values, want 3", n);
        return -1;
    }
    if (!str_parse_double(part[0], allocated) || !str_parse_double(part[2], maximum)) {
        snprintf(why, whylen, "malformed line 1: bad value");
        return -1;
    }
    return 0;
}

static int coll_filefd_collect(coll_ctx_t *c, msink_t *s, char *err, size_t errlen)
{
    const char *root = c->paths->procfs;
    int rc = coll_read_file(root, "/sys/fs/file-nr", c->scratch, COLL_FILEFD_MAX);
    if (rc < 0) {
        snprintf(err, errlen, "%s/sys/fs/file-nr: %s", root, strerror(-rc));
        return -1;
    }
    double allocated = 0, maximum = 0;
    char why[128];
    if (coll_filefd_parse((const char *)c->scratch->data, c->scratch->len, &allocated, &maximum, why, sizeof(why)) <
        0) {
        snprintf(err, errlen, "%s/sys/fs/file-nr: %s", root, why);
        return -1;
    }
    msink_addv(s, "node_filefd_allocated", "File descriptor statistics: allocated.", METRIC_GAUGE, allocated, 0);
    msink_addv(s, "node_filefd_maximum", "File descriptor statistics: maximum.", METRIC_GAUGE, maximum, 0);
    return 0;
}

const coll_def_t coll_filefd_def = {
    .name = "filefd",
    .init = NULL,
    .fini = NULL,
    .collect = coll_filefd_collect,
};

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_loadavg: /proc/loadavg -> node_load1, node_load5, node_load15
 * (gauges), as node_exporter 1.5's loadavg collector.
 *
 * The file is one line, "0.04 0.50 0.88 1/89 19488\n". As node_exporter,
 * the first three whitespace-separated fields are the averages (parsed
 * like Go's ParseFloat) and the rest is ignored. Stricter than it: the
 * kernel always ends the line with '\n', so content without one is a cut
 * read and is refused ("truncated") rather than risk a cut number.
 */
#include <stdio.h>
#include <string.h>

#include "agent/agent_int.h"
#include "agent/coll_text.h"

#define COLL_LOADAVG_MAX 4096

/* Parse the file's bytes p[0..len) into out[3]. 0, or -1 with the reason
 * in why. Pure. */
static int coll_loadavg_parse(const char *p, size_t len, double out[3], char *why, size_t whylen)
{
    if (len == 0 || p[len - 1] != '\n') {
        snprintf(why, whylen, "truncated (no end of line)");
        return -1;
    }
    size_t i = 0;
    for (int k = 0; k < 3; k++) {
        while (i < len && coll_text_space(p[i])) {
            i++;
        }
        size_t start = i;
        while (i < len && !coll_text_space(p[i])) {
            i++;
        }
        if (start == i) {
            snprintf(why, whylen, "malformed line 1: %d fields, want at least 3", k);
            return -1;
        }
        if (!str_parse_double(str_from(p + start, i - start), &out[k])) {
            snprintf(why, whylen, "malformed line 1: bad load average '%.*s'", (int)(i - start), p + start);
            return -1;
        }
    }
    return 0;
}

static int coll_loadavg_collect(coll_ctx_t *c, msink_t *s, char *err, size_t errlen)
{
    const char *root = c->paths->procfs;
    int rc = coll_read_file(root, "/loadavg", c->scratch, COLL_LOADAVG_MAX);
    if (rc < 0) {
        snprintf(err, errlen, "%s/loadavg: %s", root, strerror(-rc));
        return -1;
    }
    double load[3];
    char why[160];
    if (coll_loadavg_parse((const char *)c->scratch->data, c->scratch->len, load, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s/loadavg: %s", root, why);
        return -1;
    }
    msink_addv(s, "node_load1", "1m load average.", METRIC_GAUGE, load[0], 0);
    msink_addv(s, "node_load5", "5m load average.", METRIC_GAUGE, load[1], 0);
    msink_addv(s, "node_load15", "15m load average.", METRIC_GAUGE, load[2], 0);
    return 0;
}

const coll_def_t coll_loadavg_def = {
    .name = "loadavg",
    .init = NULL,
    .fini = NULL,
    .collect = coll_loadavg_collect,
};

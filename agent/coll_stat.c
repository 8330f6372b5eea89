/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_stat: the system-wide counters of /proc/stat, as node_exporter
 * 1.5's stat collector (softirq detail off, its default):
 *   node_intr_total, node_context_switches_total, node_forks_total
 *   (counters), node_boot_time_seconds, node_procs_running,
 *   node_procs_blocked (gauges).
 *
 * Lines are "key value…"; lines with fewer than two fields and unknown keys
 * are skipped, a repeated key keeps its last value. As procfs, every
 * number of the intr line and the first eleven of the softirq line must
 * parse even though only the totals are used. Stricter than node_exporter
 * (which reports 0 for an absent key): all six keys must be present and
 * the file must end with '\n', so a cut read is refused, never shown as
 * zeros. The cpu lines are coll_cpu's business and are not checked here.
 */
#include <stdio.h>
#include <string.h>

#include "agent/agent_int.h"
#include "agent/coll_text.h"

#define COLL_STAT_MAX (4u << 20) /* intr lines grow with IRQs, cpu lines with CPUs */

enum {
    COLL_STAT_BTIME,
    COLL_STAT_INTR,
    COLL_STAT_CTXT,
    COLL_STAT_PROCESSES,
    COLL_STAT_RUNNING,
    COLL_STAT_BLOCKED,
    COLL_STAT_NKEYS
};

typedef struct coll_stat_row {
    const char *key;
    const char *metric;
    const char *help;
    metric_type_t type;
} coll_stat_row_t;

static const coll_stat_row_t coll_stat_rows[COLL_STAT_NKEYS] = {
    [COLL_STAT_BTIME] = { "btime", "node_boot_time_seconds", "Node boot time, in unixtime.", METRIC_GAUGE },
    [COLL_STAT_INTR] = { "intr", "node_intr_total", "Total number of interrupts serviced.", METRIC_COUNTER },
    [COLL_STAT_CTXT] = { "ctxt", "node_context_switches_total", "Total number of context switches.", METRIC_COUNTER },
    [COLL_STAT_PROCESSES] = { "processes", "node_forks_total", "Total number of forks.", METRIC_COUNTER },
    [COLL_STAT_RUNNING] = { "procs_running", "node_procs_running", "Number of processes in runnable state.",
                            METRIC_GAUGE },
    [COLL_STAT_BLOCKED] = { "procs_blocked", "node_procs_blocked",
                            "Number of processes blocked waiting for I/O to complete.", METRIC_GAUGE },
};

/* Every remaining field of the line (at most max of them, at least min)
 * is a decimal integer. */
static bool coll_stat_all_u64(const char *p, const char *end, size_t min, size_t max)
{
    size_t n = 0;
    for (str_t f = coll_text_field(&p, end); f.len > 0 && n < max; f = coll_text_field(&p, end)) {
        uint64_t v;
        if (!str_parse_u64(f, &v)) {
            return false;
        }
        n++;
    }
    return n >= min;
}

/* Check one line and store a known key's value into out/seen. */
static bool coll_stat_line(const char *p, const char *end, double out[COLL_STAT_NKEYS], bool seen[COLL_STAT_NKEYS])
{
    str_t key = coll_text_field(&p, end);
    const char *rest = p;
    str_t val = coll_text_field(&p, end);
    if (val.len == 0) {
        return true; /* fewer than two fields: skipped, as procfs does */
    }
    if (str_eq_cstr(key, "softirq")) {
        return coll_stat_all_u64(rest, end, 11, 11);
    }
    for (size_t k = 0; k < COLL_STAT_NKEYS; k++) {
        if (!str_eq_cstr(key, coll_stat_rows[k].key)) {
            continue;
        }
        uint64_t v;
        if (!str_parse_u64(val, &v) || (k == COLL_STAT_INTR && !coll_stat_all_u64(p, end, 0, SIZE_MAX))) {
            return false;
        }
        out[k] = (double)v;
        seen[k] = true;
        return true;
    }
    return true; /* another key (cpu lines included): not ours */
}

/* Parse /proc/stat's bytes p[0..len) into out (indexed by COLL_STAT_*).
 * 0, or -1 with the reason in why. Pure; O(len). */
static int coll_stat_parse(const char *p, size_t len, double out[COLL_STAT_NKEYS], char *why, size_t whylen)
{
    if (len == 0 || p[len - 1] != '\n') {
        snprintf(why, whylen, "truncated (no end of line)");
        return -1;
    }
    bool seen[COLL_STAT_NKEYS] = { false };
    const char *end = p + len;
    size_t lineno = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        lineno++;
        if (!coll_stat_line(p, nl, out, seen)) {
            snprintf(why, whylen, "malformed line %zu", lineno);
            return -1;
        }
        p = nl + 1;
    }
    for (size_t k = 0; k < COLL_STAT_NKEYS; k++) {
        if (!seen[k]) {
            snprintf(why, whylen, "no %s line", coll_stat_rows[k].key);
            return -1;
        }
    }
    return 0;
}

static int coll_stat_collect(coll_ctx_t *c, msink_t *s, char *err, size_t errlen)
{
    const char *root = c->paths->procfs;
    int rc = coll_read_file(root, "/stat", c->scratch, COLL_STAT_MAX);
    if (rc < 0) {
        snprintf(err, errlen, "%s/stat: %s", root, strerror(-rc));
        return -1;
    }
    double v[COLL_STAT_NKEYS] = { 0 };
    char why[128];
    if (coll_stat_parse((const char *)c->scratch->data, c->scratch->len, v, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s/stat: %s", root, why);
        return -1;
    }
    for (size_t k = 0; k < COLL_STAT_NKEYS; k++) {
        const coll_stat_row_t *r = &coll_stat_rows[k];
        msink_addv(s, r->metric, r->help, r->type, v[k], 0);
    }
    return 0;
}

const coll_def_t coll_stat_def = {
    .name = "stat",
    .init = NULL,
    .fini = NULL,
    .collect = coll_stat_collect,
};

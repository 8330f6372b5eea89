/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_pressure: /proc/pressure/{cpu,io,memory} (PSI) -> the five counters
 * node_exporter 1.5's pressure collector has:
 *   node_pressure_cpu_waiting_seconds_total     cpu "some"
 *   node_pressure_io_waiting_seconds_total      io "some"
 *   node_pressure_io_stalled_seconds_total      io "full"
 *   node_pressure_memory_waiting_seconds_total  memory "some"
 *   node_pressure_memory_stalled_seconds_total  memory "full"
 * 1.5 has no cpu "full" (Linux >= 5.13) and no irq resource: not emitted.
 *
 * A line is "<kind> avg10=F avg60=F avg300=F total=U" (kind "some" or
 * "full", the prefix before the first space; other kinds are ignored). The
 * value is total (µs) / 1000.0 / 1000.0, two divisions as node_exporter
 * does, so the doubles are identical. An absent file means the kernel has
 * no PSI (< 4.20 or CONFIG_PSI off): -1 "no data", node_exporter's
 * ErrNoData. Also -1: a needed line missing (node_exporter would crash), a
 * bad field, content without the final '\n'.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent_int.h"

#define COLL_PRESSURE_MAX 4096

typedef struct coll_pressure_row {
    const char *resource; /* file under <procfs>/pressure/ */
    const char *some, *some_help;
    const char *full, *full_help; /* NULL: not emitted */
} coll_pressure_row_t;

static const coll_pressure_row_t coll_pressure_rows[] = {
    { "cpu", "node_pressure_cpu_waiting_seconds_total", "Total time in seconds that processes have waited for CPU time",
      NULL, NULL },
    { "io", "node_pressure_io_waiting_seconds_total",
      "Total time in seconds that processes have waited due to IO congestion", "node_pressure_io_stalled_seconds_total",
      "Total time in seconds no process could make progress due to IO congestion" },
    { "memory", "node_pressure_memory_waiting_seconds_total",
      "Total time in seconds that processes have waited for memory", "node_pressure_memory_stalled_seconds_total",
      "Total time in seconds no process could make progress due to memory congestion" },
};

typedef struct coll_pressure_totals {
    uint64_t some, full;
    bool has_some, has_full;
} coll_pressure_totals_t;

/* "<name>value" at *p (name given with its '='), value up to the next space
 * or end: a u64 into *u when integer, else a float (checked, not kept).
 * Advances *p past the space. */
static bool coll_pressure_kv(const char **p, const char *end, const char *name, bool integer, uint64_t *u)
{
    size_t nl = strlen(name);
    if ((size_t)(end - *p) < nl || memcmp(*p, name, nl) != 0) {
        return false;
    }
    const char *v = *p + nl;
    const char *q = v;
    while (q < end && *q != ' ') {
        q++;
    }
    *p = q < end ? q + 1 : q;
    double d;
    return integer ? str_parse_u64(str_from(v, (size_t)(q - v)), u)
                   : str_parse_double(str_from(v, (size_t)(q - v)), &d);
}

/* One "some"/"full" line after its kind and space: [p, end). */
static bool coll_pressure_values(const char *p, const char *end, uint64_t *total)
{
    return coll_pressure_kv(&p, end, "avg10=", false, NULL) && coll_pressure_kv(&p, end, "avg60=", false, NULL) &&
           coll_pressure_kv(&p, end, "avg300=", false, NULL) && coll_pressure_kv(&p, end, "total=", true, total) &&
           p == end;
}

/* Parse one PSI file's bytes p[0..len) into out. 0, or -1 with the reason
 * in why. Pure. */
static int coll_pressure_parse(const char *p, size_t len, coll_pressure_totals_t *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof(*out));
    if (len == 0 || p[len - 1] != '\n') {
        snprintf(why, whylen, "truncated (no end of line)");
        return -1;
    }
    const char *end = p + len;
    for (size_t lineno = 1; p < end; lineno++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *sp = memchr(p, ' ', (size_t)(nl - p));
        str_t kind = str_from(p, (size_t)((sp ? sp : nl) - p));
        bool some = str_eq_cstr(kind, "some"), full = str_eq_cstr(kind, "full");
        if ((some || full) && (!sp || !coll_pressure_values(sp + 1, nl, some ? &out->some : &out->full))) {
            snprintf(why, whylen, "malformed line %zu", lineno);
            return -1;
        }
        out->has_some |= some;
        out->has_full |= full;
        p = nl + 1;
    }
    return 0;
}

static int coll_pressure_collect(coll_ctx_t *c, msink_t *s, char *err, size_t errlen)
{
    const char *root = c->paths->procfs;
    for (size_t i = 0; i < sizeof(coll_pressure_rows) / sizeof(coll_pressure_rows[0]); i++) {
        const coll_pressure_row_t *r = &coll_pressure_rows[i];
        char rel[32];
        snprintf(rel, sizeof(rel), "/pressure/%s", r->resource);
        int rc = coll_read_file(root, rel, c->scratch, COLL_PRESSURE_MAX);
        if (rc == -ENOENT) {
            snprintf(err, errlen, "%s%s: no data (pressure information needs Linux >= 4.20 with CONFIG_PSI)", root,
                     rel);
            return -1;
        }
        if (rc < 0) {
            snprintf(err, errlen, "%s%s: %s", root, rel, strerror(-rc));
            return -1;
        }
        coll_pressure_totals_t t;
        char why[96];
        if (coll_pressure_parse((const char *)c->scratch->data, c->scratch->len, &t, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "%s%s: %s", root, rel, why);
            return -1;
        }
        if (!t.has_some || (r->full && !t.has_full)) {
            snprintf(err, errlen, "%s%s: no %s line", root, rel, t.has_some ? "full" : "some");
            return -1;
        }
        msink_addv(s, r->some, r->some_help, METRIC_COUNTER, (double)t.some / 1000.0 / 1000.0, 0);
        if (r->full) {
            msink_addv(s, r->full, r->full_help, METRIC_COUNTER, (double)t.full / 1000.0 / 1000.0, 0);
        }
    }
    return 0;
}

const coll_def_t coll_pressure_def = {
    .name = "pressure",
    .init = NULL,
    .fini = NULL,
    .collect = coll_pressure_collect,
};

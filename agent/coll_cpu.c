/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_cpu: CPU time per CPU and mode, as node_exporter 1.5's cpu
 * collector with its defaults (guest on, info off):
 *   node_cpu_seconds_total{cpu,mode}        /proc/stat, ticks / USER_HZ (100)
 *   node_cpu_guest_seconds_total{cpu,mode}  guest -> user, guest_nice -> nice
 *   node_cpu_isolated{cpu}                  <sysfs>/devices/system/cpu/isolated
 *   node_cpu_core_throttles_total{core,package}, node_cpu_package_throttles_total
 *     {package}                             cpuN/thermal_throttle (x86 hardware)
 *
 * 1.5 keeps the per-CPU values in an array indexed by CPU number, so an
 * offline CPU below the highest online one is reported with zeros; we do
 * the same. The state (made by init) holds the last reported values: when
 * the number of CPUs changes the array is reset to zeros; a CPU whose idle
 * went back by 3 s or more (hotplug) is reset; then each value is taken
 * only if not below the kept one, so a counter never goes backwards.
 *
 * Throttles follow node_exporter: cpu[0-9]* in name order; a CPU without a
 * readable topology/{physical_package_id,core_id} is skipped; the first
 * readable core_throttle_count per (package, core) and package_throttle_
 * count per package wins. The isolated list is re-read each collection
 * (node_exporter reads it once at start). Stricter than node_exporter:
 * a cpu line needs all ten values (Linux >= 2.6.33), at least one cpuN line
 * and the final '\n' (a cut read) are required; isolated ranges must rise.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"
#include "agent/coll_text.h"
#include "common/mem.h"

#define COLL_CPU_STAT_MAX (4u << 20)
#define COLL_CPU_MAX_ID 65535 /* ids above are refused (kernel NR_CPUS <= 8192) */
#define COLL_CPU_JUMP_BACK 3.0
#define COLL_CPU_NVALUES 10
#define COLL_CPU_NAME 24
#define COLL_CPU_SYS "/devices/system/cpu"

enum { COLL_CPU_GUEST = 8, COLL_CPU_GUEST_NICE = 9 };

/* The /proc/stat columns in order; the first eight are node_cpu modes. */
static const char *const coll_cpu_modes[COLL_CPU_NVALUES] = {
    "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice",
};

static const char *const coll_cpu_time_labels[2] = { "cpu", "mode" };

typedef struct coll_cpu_times {
    double v[COLL_CPU_NVALUES];
} coll_cpu_times_t;

typedef struct coll_cpu_throttle {
    uint64_t pkg, core, count;
} coll_cpu_throttle_t;

typedef struct coll_cpu_state {
    coll_cpu_times_t *kept; /* reported values per CPU number */
    size_t nkept;
    coll_cpu_times_t *next; /* this collection's parse */
    size_t nnext, capnext;
    char (*dirs)[COLL_CPU_NAME]; /* cpu[0-9]* names, sorted */
    size_t ndirs, capdirs;
    coll_cpu_throttle_t *cores, *pkgs; /* pkgs use .pkg and .count */
    size_t ncores, capcores, npkgs, cappkgs;
} coll_cpu_state_t;

/* Grow *arr (elements of sz bytes) to hold need. Amortised: a steady
 * workload stops allocating. */
static void coll_cpu_grow(void **arr, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap) {
        return;
    }
    size_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need) {
        ncap *= 2;
    }
    *arr = mem_realloc(*arr, ncap * sz);
    *cap = ncap;
}

static int coll_cpu_init(const coll_opts_t *o, void **state, char *err, size_t errlen)
{
    (void)o;
    (void)err;
    (void)errlen;
    *state = mem_calloc(1, sizeof(coll_cpu_state_t));
    return 0;
}

static void coll_cpu_fini(void *state)
{
    coll_cpu_state_t *st = state;
    if (!st) {
        return;
    }
    mem_free(st->kept);
    mem_free(st->next);
    mem_free(st->dirs);
    mem_free(st->cores);
    mem_free(st->pkgs);
    mem_free(st);
}

/* One "cpu…" line (its first field already read as key). Fills [out] *id
 * (-1 for the total) and t. False when malformed. */
static bool coll_cpu_line(str_t key, const char *p, const char *end, long *id, coll_cpu_times_t *t)
{
    *id = -1;
    if (key.len > 3) {
        uint64_t n = 0;
        str_t num = str_from(key.p + 3, key.len - 3);
        if (num.p[0] < '0' || num.p[0] > '9' || !str_parse_u64(num, &n) || n > COLL_CPU_MAX_ID) {
            return false;
        }
        *id = (long)n;
    }
    for (size_t k = 0; k < COLL_CPU_NVALUES; k++) {
        uint64_t ticks = 0;
        if (!str_parse_u64(coll_text_field(&p, end), &ticks)) {
            return false;
        }
        t->v[k] = (double)ticks / 100.0;
    }
    return true;
}

/* Parse the cpu lines of /proc/stat p[0..len) into st->next (index = CPU
 * number, gaps zero). 0, or -1 with the reason in why. No I/O; O(len). */
static int coll_cpu_parse(coll_cpu_state_t *st, const char *p, size_t len, char *why, size_t whylen)
{
    st->nnext = 0;
    if (len == 0 || p[len - 1] != '\n') {
        snprintf(why, whylen, "truncated (no end of line)");
        return -1;
    }
    const char *end = p + len;
    for (size_t lineno = 1; p < end; lineno++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *q = p;
        str_t key = coll_text_field(&q, nl);
        const char *rest = q;
        p = nl + 1;
        if (!str_has_prefix(key, "cpu") || coll_text_field(&q, nl).len == 0) {
            continue; /* not a cpu line, or fewer than two fields: skipped as procfs does */
        }
        long id = -1;
        coll_cpu_times_t t;
        if (!coll_cpu_line(key, rest, nl, &id, &t)) {
            snprintf(why, whylen, "malformed line %zu", lineno);
            return -1;
        }
        if (id < 0) {
            continue;
        }
        if ((size_t)id >= st->nnext) {
            coll_cpu_grow((void **)&st->next, &st->capnext, (size_t)id + 1, sizeof(*st->next));
            memset(st->next + st->nnext, 0, ((size_t)id + 1 - st->nnext) * sizeof(*st->next));
            st->nnext = (size_t)id + 1;
        }
        st->next[id] = t;
    }
    if (st->nnext == 0) {
        snprintf(why, whylen, "no cpuN line");
        return -1;
    }
    return 0;
}

/* Merge st->next into st->kept: reset on a CPU count change or an idle
 * jump back of COLL_CPU_JUMP_BACK s, else keep each value monotonic. */
static void coll_cpu_merge(coll_cpu_state_t *st)
{
    if (st->nkept != st->nnext) {
        mem_free(st->kept);
        st->kept = mem_calloc(st->nnext, sizeof(*st->kept));
        st->nkept = st->nnext;
    }
    for (size_t i = 0; i < st->nnext; i++) {
        coll_cpu_times_t *k = &st->kept[i];
        const coll_cpu_times_t *n = &st->next[i];
        if (k->v[3] - n->v[3] >= COLL_CPU_JUMP_BACK) {
            memset(k, 0, sizeof(*k));
        }
        for (size_t m = 0; m < COLL_CPU_NVALUES; m++) {
            if (n->v[m] >= k->v[m]) {
                k->v[m] = n->v[m];
            }
        }
    }
}

static void coll_cpu_emit_times(const coll_cpu_state_t *st, msink_t *s)
{
    const char *const *names = coll_cpu_time_labels;
    uint32_t secs = msink_family_c(s, "node_cpu_seconds_total", "Seconds the CPUs spent in each mode.", METRIC_COUNTER);
    uint32_t guest = msink_family_c(s, "node_cpu_guest_seconds_total",
                                    "Seconds the CPUs spent in guests (VMs) for each mode.", METRIC_COUNTER);
    for (size_t i = 0; i < st->nkept; i++) {
        char cpu[24];
        snprintf(cpu, sizeof(cpu), "%zu", i);
        const coll_cpu_times_t *k = &st->kept[i];
        for (size_t m = 0; m < 8; m++) {
            const char *vals[2] = { cpu, coll_cpu_modes[m] };
            msink_add(s, secs, k->v[m], 2, names, vals);
        }
        const char *gu[2] = { cpu, "user" }, *gn[2] = { cpu, "nice" };
        msink_add(s, guest, k->v[COLL_CPU_GUEST], 2, names, gu);
        msink_add(s, guest, k->v[COLL_CPU_GUEST_NICE], 2, names, gn);
    }
}

/* The next item of a CPU list ("0-3,5,8-9") in [*p, end): [out] *a..*b.
 * 1 with a range, 0 at the end, -1 when malformed. Empty items are
 * skipped, as procfs does. Pure. */
static int coll_cpu_range_next(const char **p, const char *end, uint64_t *a, uint64_t *b)
{
    while (*p < end && **p == ',') {
        (*p)++;
    }
    if (*p == end) {
        return 0;
    }
    const char *comma = memchr(*p, ',', (size_t)(end - *p));
    const char *stop = comma ? comma : end;
    const char *dash = memchr(*p, '-', (size_t)(stop - *p));
    const char *first_end = dash ? dash : stop;
    bool ok = str_parse_u64(str_from(*p, (size_t)(first_end - *p)), a);
    *b = *a;
    if (ok && dash) {
        ok = str_parse_u64(str_from(dash + 1, (size_t)(stop - dash - 1)), b);
    }
    *p = stop;
    return ok && *a <= *b && *b <= COLL_CPU_MAX_ID ? 1 : -1;
}

/* <sysfs>/devices/system/cpu/isolated ("0-3,5\n") -> node_cpu_isolated
 * {cpu} 1 per listed CPU. Absent file: nothing. 0, or -1 with err. */
static int coll_cpu_isolated(coll_ctx_t *c, msink_t *s, char *err, size_t errlen)
{
    const char *root = c->paths->sysfs;
    int rc = coll_read_file(root, COLL_CPU_SYS "/isolated", c->scratch, 65536);
    if (rc == -ENOENT) {
        return 0;
    }
    if (rc < 0) {
        snprintf(err, errlen, "%s" COLL_CPU_SYS "/isolated: %s", root, strerror(-rc));
        return -1;
    }
    const char *p = (const char *)c->scratch->data;
    const char *end = p + c->scratch->len;
    if (p == end || end[-1] != '\n') {
        snprintf(err, errlen, "%s" COLL_CPU_SYS "/isolated: truncated (no end of line)", root);
        return -1;
    }
    while (end > p && end[-1] == '\n') {
        end--;
    }
    long prev = -1;
    uint64_t a = 0, b = 0;
    for (int r = coll_cpu_range_next(&p, end, &a, &b); r != 0; r = coll_cpu_range_next(&p, end, &a, &b)) {
        if (r < 0 || (long)a <= prev) {
            snprintf(err, errlen, "%s" COLL_CPU_SYS "/isolated: malformed line 1", root);
            return -1;
        }
        for (uint64_t cpu = a; cpu <= b; cpu++) {
            char num[24];
            snprintf(num, sizeof(num), "%llu", (unsigned long long)cpu);
            msink_addv(s, "node_cpu_isolated",
                       "Whether each core is isolated, information from /sys/devices/system/cpu/isolated.",
                       METRIC_GAUGE, 1, 1, "cpu", num);
        }
        prev = (long)b;
    }
    return 0;
}

static int coll_cpu_cmp_name(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* The cpu[0-9]* entries of <sysfs>/devices/system/cpu, sorted by name as
 * Go's filepath.Glob returns them, into st->dirs. An unreadable directory
 * lists nothing (Glob ignores I/O errors). */
static void coll_cpu_list_dirs(coll_ctx_t *c, coll_cpu_state_t *st)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s" COLL_CPU_SYS, c->paths->sysfs);
    st->ndirs = 0;
    DIR *d = opendir(path);
    if (!d) {
        return;
    }
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        const char *nm = e->d_name;
        if (strncmp(nm, "cpu", 3) != 0 || nm[3] < '0' || nm[3] > '9' || strlen(nm) >= COLL_CPU_NAME) {
            continue;
        }
        coll_cpu_grow((void **)&st->dirs, &st->capdirs, st->ndirs + 1, sizeof(*st->dirs));
        memcpy(st->dirs[st->ndirs++], nm, strlen(nm) + 1);
    }
    closedir(d);
    qsort(st->dirs, st->ndirs, sizeof(*st->dirs), coll_cpu_cmp_name);
}

/* <sysfs>/devices/system/cpu/<dir>/<file> holding one unsigned integer
 * (surrounding whitespace allowed). False when unreadable or not one. */
static bool coll_cpu_read_u64(coll_ctx_t *c, const char *dir, const char *file, uint64_t *out)
{
    char rel[128];
    snprintf(rel, sizeof(rel), COLL_CPU_SYS "/%s/%s", dir, file);
    if (coll_read_file(c->paths->sysfs, rel, c->scratch, 4096) < 0) {
        return false;
    }
    const char *p = (const char *)c->scratch->data;
    size_t len = c->scratch->len;
    while (len > 0 && coll_text_space(p[len - 1])) {
        len--;
    }
    while (len > 0 && coll_text_space(*p)) {
        p++;
        len--;
    }
    return str_parse_u64(str_from(p, len), out);
}

/* Index of (pkg, core) in arr[0..n) (core ignored when any_core), or n. */
static size_t coll_cpu_find(const coll_cpu_throttle_t *arr, size_t n, uint64_t pkg, uint64_t core, bool any_core)
{
    for (size_t i = 0; i < n; i++) {
        if (arr[i].pkg == pkg && (any_core || arr[i].core == core)) {
            return i;
        }
    }
    return n;
}

/* Gather the thermal throttle counters into st->cores and st->pkgs. Work:
 * up to four small reads per CPU, O(CPUs x cores) lookups. */
static void coll_cpu_gather_throttles(coll_ctx_t *c, coll_cpu_state_t *st)
{
    coll_cpu_list_dirs(c, st);
    st->ncores = 0;
    st->npkgs = 0;
    for (size_t i = 0; i < st->ndirs; i++) {
        const char *dir = st->dirs[i];
        uint64_t pkg = 0, core = 0, n = 0;
        if (!coll_cpu_read_u64(c, dir, "topology/physical_package_id", &pkg) ||
            !coll_cpu_read_u64(c, dir, "topology/core_id", &core)) {
            continue;
        }
        if (coll_cpu_find(st->cores, st->ncores, pkg, core, false) == st->ncores &&
            coll_cpu_read_u64(c, dir, "thermal_throttle/core_throttle_count", &n)) {
            coll_cpu_grow((void **)&st->cores, &st->capcores, st->ncores + 1, sizeof(*st->cores));
            st->cores[st->ncores++] = (coll_cpu_throttle_t){ pkg, core, n };
        }
        if (coll_cpu_find(st->pkgs, st->npkgs, pkg, 0, true) == st->npkgs &&
            coll_cpu_read_u64(c, dir, "thermal_throttle/package_throttle_count", &n)) {
            coll_cpu_grow((void **)&st->pkgs, &st->cappkgs, st->npkgs + 1, sizeof(*st->pkgs));
            st->pkgs[st->npkgs++] = (coll_cpu_throttle_t){ pkg, 0, n };
        }
    }
}

static void coll_cpu_emit_throttles(const coll_cpu_state_t *st, msink_t *s)
{
    for (size_t i = 0; i < st->npkgs; i++) {
        char pkg[24];
        snprintf(pkg, sizeof(pkg), "%llu", (unsigned long long)st->pkgs[i].pkg);
        msink_addv(s, "node_cpu_package_throttles_total", "Number of times this CPU package has been throttled.",
                   METRIC_COUNTER, (double)st->pkgs[i].count, 1, "package", pkg);
    }
    for (size_t i = 0; i < st->ncores; i++) {
        char pkg[24], core[24];
        snprintf(pkg, sizeof(pkg), "%llu", (unsigned long long)st->cores[i].pkg);
        snprintf(core, sizeof(core), "%llu", (unsigned long long)st->cores[i].core);
        msink_addv(s, "node_cpu_core_throttles_total", "Number of times this CPU core has been throttled.",
                   METRIC_COUNTER, (double)st->cores[i].count, 2, "package", pkg, "core", core);
    }
}

static int coll_cpu_collect(coll_ctx_t *c, msink_t *s, char *err, size_t errlen)
{
    coll_cpu_state_t *st = c->state;
    const char *root = c->paths->procfs;
    int rc = coll_read_file(root, "/stat", c->scratch, COLL_CPU_STAT_MAX);
    if (rc < 0) {
        snprintf(err, errlen, "%s/stat: %s", root, strerror(-rc));
        return -1;
    }
    char why[96];
    if (coll_cpu_parse(st, (const char *)c->scratch->data, c->scratch->len, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s/stat: %s", root, why);
        return -1;
    }
    coll_cpu_merge(st);
    coll_cpu_emit_times(st, s);
    if (coll_cpu_isolated(c, s, err, errlen) < 0) {
        return -1;
    }
    coll_cpu_gather_throttles(c, st);
    coll_cpu_emit_throttles(st, s);
    return 0;
}

const coll_def_t coll_cpu_def = {
    .name = "cpu",
    .init = coll_cpu_init,
    .fini = coll_cpu_fini,
    .collect = coll_cpu_collect,
};

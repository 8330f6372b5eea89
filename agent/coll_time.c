/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_time: the clock and clocksources, as node_exporter 1.5's time
 * collector (all gauges):
 *   node_time_seconds                       the collection's timestamp
 *   node_time_zone_offset_seconds{time_zone} local zone abbreviation, offset
 *   node_time_clocksource_available_info{clocksource,device} 1
 *   node_time_clocksource_current_info{clocksource,device}   1
 *
 * node_time_seconds is ctx->now_ms / 1000 (node_exporter reads the wall
 * clock while serving the scrape): the collection's own timestamp, so it
 * sits on the scrape grid and tests at a fixed time are deterministic. The
 * zone is localtime_r's at that instant (TZ, else /etc/localtime, as Go).
 *
 * Clocksources come from <sysfs>/devices/system/clocksource/clocksource[0-9]*
 * sorted by name as Go's filepath.Glob sorts them; device is the index in
 * that sorted list (not the number in the name), as node_exporter has it.
 * available_clocksource is split on whitespace, current_clocksource trimmed.
 * A missing directory or no clocksource is not an error (node_exporter
 * reports only the two clock metrics then); a clocksource directory
 * without either file is (-1). Stricter than node_exporter: a file without
 * its final '\n' (a cut read; node_exporter reads at most 128 bytes and
 * would cut a long list itself), a name seen twice in one list, a name not
 * valid UTF-8, or more than COLL_TIME_MAX_CS clocksources are refused.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent_int.h"
#include "agent/coll_text.h"

#define COLL_TIME_MAX_CS 64   /* clocksource directories (one in practice) */
#define COLL_TIME_NAME 48     /* "clocksourceN" with its NUL */
#define COLL_TIME_MAX_LIST 32 /* names in one available_clocksource */
#define COLL_TIME_DIR "/devices/system/clocksource"

static int coll_time_cmp_name(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* The clocksource[0-9]* entries of the directory, sorted, into names.
 * Returns the count (0 when the directory is absent), or -1 with err. */
static int coll_time_list(const char *root, char (*names)[COLL_TIME_NAME], char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s" COLL_TIME_DIR, root);
    DIR *d = opendir(path);
    if (!d) {
        if (errno == ENOENT || errno == ENOTDIR) {
            return 0;
        }
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    int n = 0;
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        const char *nm = e->d_name;
        if (strncmp(nm, "clocksource", 11) != 0 || nm[11] < '0' || nm[11] > '9') {
            continue;
        }
        if (n == COLL_TIME_MAX_CS || strlen(nm) >= COLL_TIME_NAME) {
            snprintf(err, errlen, "%s: too many clocksources or name too long", path);
            closedir(d);
            return -1;
        }
        memcpy(names[n++], nm, strlen(nm) + 1);
    }
    closedir(d);
    qsort(names, (size_t)n, COLL_TIME_NAME, coll_time_cmp_name);
    return n;
}

/* Split p[0..len) (a whole file) into at most max names. Returns the
 * count, or -1 when the content is cut, has too many names, a duplicate or
 * a name that is not UTF-8. Pure. */
static int coll_time_parse_list(const char *p, size_t len, str_t *out, size_t max)
{
    if (len == 0 || p[len - 1] != '\n') {
        return -1;
    }
    size_t n = 0, i = 0;
    for (;;) {
        while (i < len && coll_text_space(p[i])) {
            i++;
        }
        size_t start = i;
        while (i < len && !coll_text_space(p[i])) {
            i++;
        }
        if (start == i) {
            return (int)n;
        }
        str_t f = str_from(p + start, i - start);
        if (n == max || !str_utf8_valid(f.p, f.len)) {
            return -1;
        }
        for (size_t k = 0; k < n; k++) {
            if (str_eq(out[k], f)) {
                return -1;
            }
        }
        out[n++] = f;
    }
}

/* Read <sysfs>/devices/system/clocksource/<cs>/<file> into the scratch. */
static int coll_time_read(coll_ctx_t *c, const char *cs, const char *file, char *err, size_t errlen)
{
    char rel[160];
    int rl = snprintf(rel, sizeof(rel), COLL_TIME_DIR "/%s/%s", cs, file);
    if (rl < 0 || (size_t)rl >= sizeof(rel)) {
        snprintf(err, errlen, "%s" COLL_TIME_DIR "/%s: name too long", c->paths->sysfs, cs);
        return -1;
    }
    int rc = coll_read_file(c->paths->sysfs, rel, c->scratch, 4096);
    if (rc < 0) {
        snprintf(err, errlen, "%s%s: %s", c->paths->sysfs, rel, strerror(-rc));
        return -1;
    }
    return 0;
}

static void coll_time_add(msink_t *s, bool current, str_t clocksource, const char *dev)
{
    uint32_t fam =
        current ? msink_family_c(s, "node_time_clocksource_current_info",
                                 "Current clocksource read from '/sys/devices/system/clocksource'.", METRIC_GAUGE)
                : msink_family_c(s, "node_time_clocksource_available_info",
                                 "Available clocksources read from '/sys/devices/system/clocksource'.", METRIC_GAUGE);
    label_t ls[2] = { { STR_LIT("clocksource"), clocksource }, { STR_LIT("device"), str_cstr(dev) } };
    msink_add_full(s, fam, str_from("", 0), ls, 2, 1, MSINK_NO_TS);
}

/* One clocksource directory cs at index dev: its available and current. */
static int coll_time_clocksource(coll_ctx_t *c, msink_t *s, const char *cs, int dev, char *err, size_t errlen)
{
    char devs[16];
    snprintf(devs, sizeof(devs), "%d", dev);
    if (coll_time_read(c, cs, "current_clocksource", err, errlen) < 0) {
        return -1;
    }
    str_t one[1] = { { "", 0 } };
    char cur[COLL_TIME_NAME * 2];
    int n = coll_time_parse_list((const char *)c->scratch->data, c->scratch->len, one, 1);
    if (n < 0 || one[0].len >= sizeof(cur)) {
        snprintf(err, errlen, "%s" COLL_TIME_DIR "/%s/current_clocksource: malformed or truncated", c->paths->sysfs,
                 cs);
        return -1;
    }
    memcpy(cur, one[0].p, one[0].len); /* the scratch is reused below */
    str_t current = str_from(cur, one[0].len);
    if (coll_time_read(c, cs, "available_clocksource", err, errlen) < 0) {
        return -1;
    }
    str_t list[COLL_TIME_MAX_LIST];
    n = coll_time_parse_list((const char *)c->scratch->data, c->scratch->len, list, COLL_TIME_MAX_LIST);
    if (n < 0) {
        snprintf(err, errlen, "%s" COLL_TIME_DIR "/%s/available_clocksource: malformed or truncated", c->paths->sysfs,
                 cs);
        return -1;
    }
    for (int k = 0; k < n; k++) {
        coll_time_add(s, false, list[k], devs);
    }
    coll_time_add(s, true, current, devs);
    return 0;
}

static int coll_time_collect(coll_ctx_t *c, msink_t *s, char *err, size_t errlen)
{
    char names[COLL_TIME_MAX_CS][COLL_TIME_NAME];
    int n = coll_time_list(c->paths->sysfs, names, err, errlen);
    if (n < 0) {
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (coll_time_clocksource(c, s, names[i], i, err, errlen) < 0) {
            return -1;
        }
    }
    int64_t ms = c->now_ms;
    time_t sec = (time_t)(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
    struct tm tm;
    if (!localtime_r(&sec, &tm)) {
        snprintf(err, errlen, "time: localtime_r failed for %lld", (long long)sec);
        return -1;
    }
    msink_addv(s, "node_time_seconds", "System time in seconds since epoch (1970).", METRIC_GAUGE, (double)ms / 1000.0,
               0);
    msink_addv(s, "node_time_zone_offset_seconds", "System time zone offset in seconds.", METRIC_GAUGE,
               (double)tm.tm_gmtoff, 1, "time_zone", tm.tm_zone ? tm.tm_zone : "");
    return 0;
}

const coll_def_t coll_time_def = {
    .name = "time",
    .init = NULL,
    .fini = NULL,
    .collect = coll_time_collect,
};

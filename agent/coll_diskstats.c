/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_diskstats: /proc/diskstats -> node_disk_*, as node_exporter 1.5.
 *
 * Each line is "major minor name" and 11 (kernel < 4.18), 15 (< 5.5) or
 * 17 counters; a counter is emitted only when the kernel gave it. Sectors
 * are 512 bytes and times are milliseconds, scaled as node_exporter does
 * (v * 512, v * 0.001). Devices matching the default exclude regex
 * (compiled once in init) are skipped. Per device, the udev database file
 * <udev_data>/b<major>:<minor> adds node_disk_info labels and, when its
 * E: properties say so, node_disk_filesystem_info, _device_mapper_info
 * and the node_disk_ata_* gauges; a missing udev file only empties those
 * labels.
 *
 * Invariants: a line with any other field count (20 or more is fine), a
 * non-numeric counter or an overflow fails the whole collection
 * (node_exporter skips lines of fewer than 14 fields and emits partial
 * rows for 15-17 fields; we refuse to guess), and so does a file not
 * ending in '\n' (the kernel always ends it so: it was cut). Blank lines
 * are skipped. Slices borrow the scratch buffer and the state's udev
 * buffer, so steady collections do not allocate.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "agent/agent_int.h"
#include "agent/coll_text.h"
#include "common/mem.h"

#define COLL_DISKSTATS_MAX_FILE (16u << 20)
#define COLL_DISKSTATS_MAX_UDEV (1u << 20)
#define COLL_DISKSTATS_NSTATS 17

typedef struct coll_diskstats_state {
    coll_regex_t exclude; /* collect.diskstats.device-exclude */
    buf_t udev;           /* the current device's udev data file */
} coll_diskstats_state_t;

typedef struct coll_diskstats_row {
    str_t name;
    uint32_t major, minor;
    size_t nstats; /* 11, 15 or 17 */
    uint64_t v[COLL_DISKSTATS_NSTATS];
} coll_diskstats_row_t;

typedef struct coll_diskstats_stat {
    const char *name;
    const char *help;
    metric_type_t type;
    double scale;
} coll_diskstats_stat_t;

/* In /proc/diskstats column order. */
static const coll_diskstats_stat_t coll_diskstats_stats[COLL_DISKSTATS_NSTATS] = {
    { "node_disk_reads_completed_total", "The total number of reads completed successfully.", METRIC_COUNTER, 1 },
    { "node_disk_reads_merged_total", "The total number of reads merged.", METRIC_COUNTER, 1 },
    { "node_disk_read_bytes_total", "The total number of bytes read successfully.", METRIC_COUNTER, 512 },
    { "node_disk_read_time_seconds_total", "The total number of seconds spent by all reads.", METRIC_COUNTER, 0.001 },
    { "node_disk_writes_completed_total", "The total number of writes completed successfully.", METRIC_COUNTER, 1 },
    { "node_disk_writes_merged_total", "The number of writes merged.", METRIC_COUNTER, 1 },
    { "node_disk_written_bytes_total", "The total number of bytes written successfully.", METRIC_COUNTER, 512 },
    { "node_disk_write_time_seconds_total", "This is the total number of seconds spent by all writes.", METRIC_COUNTER,
      0.001 },
    { "node_disk_io_now", "The number of I/Os currently in progress.", METRIC_GAUGE, 1 },
    { "node_disk_io_time_seconds_total", "Total seconds spent doing I/Os.", METRIC_COUNTER, 0.001 },
    { "node_disk_io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.", METRIC_COUNTER,
      0.001 },
    { "node_disk_discards_completed_total", "The total number of discards completed successfully.", METRIC_COUNTER, 1 },
    { "node_disk_discards_merged_total", "The total number of discards merged.", METRIC_COUNTER, 1 },
    { "node_disk_discarded_sectors_total", "The total number of sectors discarded successfully.", METRIC_COUNTER, 1 },
    { "node_disk_discard_time_seconds_total", "This is the total number of seconds spent by all discards.",
      METRIC_COUNTER, 0.001 },
    { "node_disk_flush_requests_total", "The total number of flush requests completed successfully", METRIC_COUNTER,
      1 },
    { "node_disk_flush_requests_time_seconds_total", "This is the total number of seconds spent by all flush requests.",
      METRIC_COUNTER, 0.001 },
};

/* The udev properties node_exporter 1.5 reads, indexes into udev_t.v. */
enum {
    UDEV_ID_PATH,
    UDEV_ID_WWN,
    UDEV_ID_MODEL,
    UDEV_ID_SERIAL_SHORT,
    UDEV_ID_REVISION,
    UDEV_ID_FS_TYPE,
    UDEV_ID_FS_USAGE,
    UDEV_ID_FS_UUID,
    UDEV_ID_FS_VERSION,
    UDEV_DM_NAME,
    UDEV_DM_UUID,
    UDEV_DM_VG_NAME,
    UDEV_DM_LV_NAME,
    UDEV_DM_LV_LAYER,
    UDEV_ID_ATA,
    UDEV_ID_ATA_WRITE_CACHE,
    UDEV_ID_ATA_WRITE_CACHE_ENABLED,
    UDEV_ID_ATA_ROTATION_RATE_RPM,
    UDEV_NKEYS
};

static const char *const coll_diskstats_udev_keys[UDEV_NKEYS] = {
    [UDEV_ID_PATH] = "ID_PATH",
    [UDEV_ID_WWN] = "ID_WWN",
    [UDEV_ID_MODEL] = "ID_MODEL",
    [UDEV_ID_SERIAL_SHORT] = "ID_SERIAL_SHORT",
    [UDEV_ID_REVISION] = "ID_REVISION",
    [UDEV_ID_FS_TYPE] = "ID_FS_TYPE",
    [UDEV_ID_FS_USAGE] = "ID_FS_USAGE",
    [UDEV_ID_FS_UUID] = "ID_FS_UUID",
    [UDEV_ID_FS_VERSION] = "ID_FS_VERSION",
    [UDEV_DM_NAME] = "DM_NAME",
    [UDEV_DM_UUID] = "DM_UUID",
    [UDEV_DM_VG_NAME] = "DM_VG_NAME",
    [UDEV_DM_LV_NAME] = "DM_LV_NAME",
    [UDEV_DM_LV_LAYER] = "DM_LV_LAYER",
    [UDEV_ID_ATA] = "ID_ATA",
    [UDEV_ID_ATA_WRITE_CACHE] = "ID_ATA_WRITE_CACHE",
    [UDEV_ID_ATA_WRITE_CACHE_ENABLED] = "ID_ATA_WRITE_CACHE_ENABLED",
    [UDEV_ID_ATA_ROTATION_RATE_RPM] = "ID_ATA_ROTATION_RATE_RPM",
};

typedef struct coll_diskstats_udev {
    str_t v[UDEV_NKEYS]; /* p == NULL: the property is absent */
} coll_diskstats_udev_t;

static const struct {
    int key;
    const char *name;
    const char *help;
} coll_diskstats_ata[] = {
    { UDEV_ID_ATA_WRITE_CACHE, "node_disk_ata_write_cache", "ATA disk has a write cache." },
    { UDEV_ID_ATA_WRITE_CACHE_ENABLED, "node_disk_ata_write_cache_enabled", "ATA disk has its write cache enabled." },
    { UDEV_ID_ATA_ROTATION_RATE_RPM, "node_disk_ata_rotation_rate_rpm",
      "ATA disk rotation rate in RPMs (0 for SSDs)." },
};

static void coll_diskstats_fini(void *state)
{
    coll_diskstats_state_t *st = state;
    if (st == NULL) {
        return;
    }
    coll_regex_fini(&st->exclude);
    buf_fini(&st->udev);
    mem_free(st);
}

static int coll_diskstats_init(const coll_opts_t *o, void **state, char *err, size_t errlen)
{
    coll_diskstats_state_t *st = mem_calloc(1, sizeof(*st));
    buf_init(&st->udev);
    if (coll_regex_init(&st->exclude, o->diskstats_device_exclude, "collect.diskstats.device-exclude", err, errlen) !=
        0) {
        coll_diskstats_fini(st);
        return -1;
    }
    *state = st;
    return 0;
}

/* Split line at spaces and tabs into at most max fields; the return value
 * counts every field, including those past max. */
static size_t coll_diskstats_fields(str_t line, str_t *out, size_t max)
{
    size_t n = 0, i = 0;
    while (i < line.len) {
        while (i < line.len && (line.p[i] == ' ' || line.p[i] == '\t')) {
            i++;
        }
        if (i == line.len) {
            break;
        }
        size_t start = i;
        while (i < line.len && line.p[i] != ' ' && line.p[i] != '\t') {
            i++;
        }
        if (n < max) {
            out[n] = str_from(line.p + start, i - start);
        }
        n++;
    }
    return n;
}

static bool coll_diskstats_u32(str_t s, uint32_t *out)
{
    uint64_t v = 0;
    if (s.len == 0 || s.p[0] == '+' || s.p[0] == '-' || !str_parse_u64(s, &v) || v > UINT32_MAX) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

/* Pure parser of one line. 1: a row in *row; 0: blank line; -1: malformed
 * (wrong field count, junk or overflow). */
static int coll_diskstats_parse_line(str_t line, coll_diskstats_row_t *row)
{
    str_t f[3 + COLL_DISKSTATS_NSTATS];
    size_t n = coll_diskstats_fields(line, f, sizeof(f) / sizeof(f[0]));
    if (n == 0) {
        return 0;
    }
    if (n != 14 && n != 18 && n < 20) {
        return -1;
    }
    row->nstats = (n >= 20 ? 20 : n) - 3;
    if (!coll_diskstats_u32(f[0], &row->major) || !coll_diskstats_u32(f[1], &row->minor)) {
        return -1;
    }
    row->name = f[2];
    for (size_t i = 0; i < row->nstats; i++) {
        str_t t = f[3 + i];
        if (t.len == 0 || t.p[0] == '+' || t.p[0] == '-' || !str_parse_u64(t, &row->v[i])) {
            return -1;
        }
    }
    return 1;
}

/* Pure parser of a udev data file: the last value of each wanted E:
 * property, borrowing from p. Lines are '\n'-separated; a trailing '\r'
 * is dropped, as Go's line scanner does. */
static void coll_diskstats_parse_udev(const buf_t *b, coll_diskstats_udev_t *u)
{
    memset(u, 0, sizeof(*u));
    size_t pos = 0;
    str_t line;
    while (coll_text_next_line((const char *)b->data, b->len, &pos, &line)) {
        if (line.len > 0 && line.p[line.len - 1] == '\r') {
            line.len--;
        }
        if (!str_has_prefix(line, "E:")) {
            continue;
        }
        const char *kp = line.p + 2;
        const char *eq = memchr(kp, '=', line.len - 2);
        if (eq == NULL) {
            continue;
        }
        str_t key = str_from(kp, (size_t)(eq - kp));
        for (size_t k = 0; k < UDEV_NKEYS; k++) {
            if (str_eq_cstr(key, coll_diskstats_udev_keys[k])) {
                u->v[k] = str_from(eq + 1, (size_t)(line.p + line.len - eq - 1));
                break;
            }
        }
    }
}

static str_t coll_diskstats_prop(const coll_diskstats_udev_t *u, int k)
{
    return u->v[k].p ? u->v[k] : STR_LIT("");
}

static void coll_diskstats_add(msink_t *s, const char *name, const char *help, metric_type_t type, double v,
                               const label_t *ls, size_t n)
{
    uint32_t fam = msink_family_c(s, name, help, type);
    msink_add_full(s, fam, (str_t){ NULL, 0 }, ls, n, v, MSINK_NO_TS);
}

/* node_disk_info and the udev-driven info metrics of one device. */
static void coll_diskstats_emit_udev(msink_t *s, const coll_diskstats_row_t *r, const coll_diskstats_udev_t *u)
{
    char major[16], minor[16];
    snprintf(major, sizeof(major), "%u", r->major);
    snprintf(minor, sizeof(minor), "%u", r->minor);
    label_t info[] = {
        { STR_LIT("device"), r->name },
        { STR_LIT("major"), str_cstr(major) },
        { STR_LIT("minor"), str_cstr(minor) },
        { STR_LIT("path"), coll_diskstats_prop(u, UDEV_ID_PATH) },
        { STR_LIT("wwn"), coll_diskstats_prop(u, UDEV_ID_WWN) },
        { STR_LIT("model"), coll_diskstats_prop(u, UDEV_ID_MODEL) },
        { STR_LIT("serial"), coll_diskstats_prop(u, UDEV_ID_SERIAL_SHORT) },
        { STR_LIT("revision"), coll_diskstats_prop(u, UDEV_ID_REVISION) },
    };
    coll_diskstats_add(s, "node_disk_info", "Info of /sys/block/<block_device>.", METRIC_GAUGE, 1, info, 8);
    if (coll_diskstats_prop(u, UDEV_ID_FS_TYPE).len > 0) {
        label_t fs[] = {
            { STR_LIT("device"), r->name },
            { STR_LIT("type"), coll_diskstats_prop(u, UDEV_ID_FS_TYPE) },
            { STR_LIT("usage"), coll_diskstats_prop(u, UDEV_ID_FS_USAGE) },
            { STR_LIT("uuid"), coll_diskstats_prop(u, UDEV_ID_FS_UUID) },
            { STR_LIT("version"), coll_diskstats_prop(u, UDEV_ID_FS_VERSION) },
        };
        coll_diskstats_add(s, "node_disk_filesystem_info", "Info about disk filesystem.", METRIC_GAUGE, 1, fs, 5);
    }
    if (coll_diskstats_prop(u, UDEV_DM_NAME).len > 0) {
        label_t dm[] = {
            { STR_LIT("device"), r->name },
            { STR_LIT("name"), coll_diskstats_prop(u, UDEV_DM_NAME) },
            { STR_LIT("uuid"), coll_diskstats_prop(u, UDEV_DM_UUID) },
            { STR_LIT("vg_name"), coll_diskstats_prop(u, UDEV_DM_VG_NAME) },
            { STR_LIT("lv_name"), coll_diskstats_prop(u, UDEV_DM_LV_NAME) },
            { STR_LIT("lv_layer"), coll_diskstats_prop(u, UDEV_DM_LV_LAYER) },
        };
        coll_diskstats_add(s, "node_disk_device_mapper_info", "Info about disk device mapper.", METRIC_GAUGE, 1, dm, 6);
    }
    if (coll_diskstats_prop(u, UDEV_ID_ATA).len == 0) {
        return;
    }
    label_t dev[] = { { STR_LIT("device"), r->name } };
    for (size_t i = 0; i < sizeof(coll_diskstats_ata) / sizeof(coll_diskstats_ata[0]); i++) {
        double v = 0;
        if (u->v[coll_diskstats_ata[i].key].p != NULL && str_parse_double(u->v[coll_diskstats_ata[i].key], &v)) {
            coll_diskstats_add(s, coll_diskstats_ata[i].name, coll_diskstats_ata[i].help, METRIC_GAUGE, v, dev, 1);
        }
    }
}

static bool coll_diskstats_excluded(coll_diskstats_state_t *st, str_t name)
{
    return coll_regex_match(&st->exclude, name.p, name.len);
}

static void coll_diskstats_emit(coll_ctx_t *c, coll_diskstats_state_t *st, msink_t *s, const coll_diskstats_row_t *r)
{
    char rel[64];
    snprintf(rel, sizeof(rel), "/b%u:%u", r->major, r->minor);
    coll_diskstats_udev_t u;
    buf_reset(&st->udev);
    if (coll_read_file(c->paths->udev_data, rel, &st->udev, COLL_DISKSTATS_MAX_UDEV) != 0) {
        buf_reset(&st->udev);
    }
    coll_diskstats_parse_udev(&st->udev, &u);
    coll_diskstats_emit_udev(s, r, &u);
    label_t dev[] = { { STR_LIT("device"), r->name } };
    for (size_t i = 0; i < r->nstats; i++) {
        const coll_diskstats_stat_t *m = &coll_diskstats_stats[i];
        coll_diskstats_add(s, m->name, m->help, m->type, (double)r->v[i] * m->scale, dev, 1);
    }
}

static int coll_diskstats_collect(coll_ctx_t *c, msink_t *s, char *err, size_t errlen)
{
    coll_diskstats_state_t *st = c->state;
    int rc = coll_read_file(c->paths->procfs, "/diskstats", c->scratch, COLL_DISKSTATS_MAX_FILE);
    if (rc != 0) {
        snprintf(err, errlen, "/proc/diskstats: %s", rc == -ENOENT ? "no data (file absent)" : strerror(-rc));
        return -1;
    }
    if (c->scratch->len > 0 && c->scratch->data[c->scratch->len - 1] != '\n') {
        snprintf(err, errlen, "/proc/diskstats: truncated (no final newline)");
        return -1;
    }
    size_t pos = 0, lineno = 0;
    str_t line;
    while (coll_text_next_line((const char *)c->scratch->data, c->scratch->len, &pos, &line)) {
        lineno++;
        coll_diskstats_row_t row;
        int pr = coll_diskstats_parse_line(line, &row);
        if (pr < 0) {
            snprintf(err, errlen, "/proc/diskstats: malformed line %zu", lineno);
            return -1;
        }
        if (pr == 0 || coll_diskstats_excluded(st, row.name)) {
            continue;
        }
        coll_diskstats_emit(c, st, s, &row);
    }
    return 0;
}

const coll_def_t coll_diskstats_def = {
    .name = "diskstats",
    .init = coll_diskstats_init,
    .fini = coll_diskstats_fini,
    .collect = coll_diskstats_collect,
};

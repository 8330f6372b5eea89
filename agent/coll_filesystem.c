/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_filesystem: mounted filesystems -> node_filesystem_*, as
 * node_exporter 1.5.
 *
 * The mount table is <procfs>/1/mounts (the host's, when the agent runs in
 * a container), or <procfs>/mounts when that is absent. Each line is
 * "device mountpoint fstype options ..."; \040 and \011 in the mount point
 * are unescaped and a leading rootfs prefix is stripped (the label is the
 * host's path). Mounts whose point or type match the default exclude
 * regexes (compiled in init) are skipped; a (device, mountpoint, fstype)
 * seen before is skipped, first wins. statfs(2) on <rootfs><mountpoint>
 * gives size/free/avail (blocks * f_bsize), files, files_free; readonly is
 * 1 when the options hold "ro". When statfs fails only device_error 1 is
 * emitted.
 *
 * Test seam: the state starts with a statfs function pointer (statfs(2)
 * after init) that tests replace to get fixed sizes. The call goes through
 * coll_statfs with node_exporter's 5 s limit: a mount whose statfs hangs
 * (an NFS server gone) reports device_error 1, and is skipped the same
 * way until its call returns, instead of blocking the collection.
 *
 * Invariants: a line of fewer than 4 fields fails the collection (as in
 * node_exporter), and so does a table not ending in '\n' (cut short).
 * Slices borrow the scratch buffer, which is unescaped in place; the seen
 * list keeps its capacity, so steady collections do not allocate.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "agent/agent_int.h"
#include "agent/coll_text.h"
#include "common/hash.h"
#include "common/mem.h"

#define COLL_FILESYSTEM_MAX_FILE (16u << 20)

#define COLL_FILESYSTEM_STATFS_TIMEOUT_MS 5000

typedef int (*coll_filesystem_statfs_fn)(const char *path, struct statfs *out);

typedef struct coll_filesystem_mount {
    str_t device, mountpoint, fstype, options;
} coll_filesystem_mount_t;

typedef struct coll_filesystem_seen {
    uint64_t hash;
    coll_filesystem_mount_t m;
} coll_filesystem_seen_t;

typedef struct coll_filesystem_state {
    coll_filesystem_statfs_fn statfs_fn; /* first member: the test seam */
    coll_statfs_t *watchdog;             /* made at the first collection, with statfs_fn */
    coll_regex_t mp_exclude;             /* collect.filesystem.mount-points-exclude */
    coll_regex_t fs_exclude;             /* collect.filesystem.fs-types-exclude */
    coll_filesystem_seen_t *seen;        /* mounts emitted this collection */
    size_t nseen, cap_seen;
} coll_filesystem_state_t;

static void coll_filesystem_fini(void *state)
{
    coll_filesystem_state_t *st = state;
    if (st == NULL) {
        return;
    }
    coll_statfs_destroy(st->watchdog);
    coll_regex_fini(&st->mp_exclude);
    coll_regex_fini(&st->fs_exclude);
    mem_free(st->seen);
    mem_free(st);
}

static int coll_filesystem_init(const coll_opts_t *o, void **state, char *err, size_t errlen)
{
    coll_filesystem_state_t *st = mem_calloc(1, sizeof(*st));
    st->statfs_fn = statfs;
    if (coll_regex_init(&st->mp_exclude, o->filesystem_mount_points_exclude, "collect.filesystem.mount-points-exclude",
                        err, errlen) != 0 ||
        coll_regex_init(&st->fs_exclude, o->filesystem_fs_types_exclude, "collect.filesystem.fs-types-exclude", err,
                        errlen) != 0) {
        goto fail;
    }
    *state = st;
    return 0;
fail:
    coll_filesystem_fini(st);
    return -1;
}

/* Undo the kernel's \040 (space) and \011 (tab) escapes in place; returns
 * the new length. Other escapes stay as they are, as in node_exporter. */
static size_t coll_filesystem_unescape(char *p, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        if (p[i] == '\\' && i + 4 <= len && p[i + 1] == '0' &&
            ((p[i + 2] == '4' && p[i + 3] == '0') || (p[i + 2] == '1' && p[i + 3] == '1'))) {
            p[o++] = p[i + 2] == '4' ? ' ' : '\t';
            i += 4;
        } else {
            p[o++] = p[i++];
        }
    }
    return o;
}

/* Pure parser of one mount table line (modified in place: the mount point
 * is unescaped). 0 and [out] *m, or -1 when it has fewer than 4 fields. */
static int coll_filesystem_parse_line(char *p, size_t len, coll_filesystem_mount_t *m)
{
    str_t f[4];
    size_t n = 0, i = 0;
    while (n < 4) {
        while (i < len && coll_text_space(p[i])) {
            i++;
        }
        if (i == len) {
            break;
        }
        size_t start = i;
        while (i < len && !coll_text_space(p[i])) {
            i++;
        }
        f[n++] = str_from(p + start, i - start);
    }
    if (n < 4) {
        return -1;
    }
    char *mp = p + (f[1].p - p);
    m->device = f[0];
    m->mountpoint = str_from(mp, coll_filesystem_unescape(mp, f[1].len));
    m->fstype = f[2];
    m->options = f[3];
    return 0;
}

/* The mount point as node_exporter labels it: rootfs prefix removed. */
static str_t coll_filesystem_strip_rootfs(str_t mp, const char *rootfs)
{
    size_t rl = strlen(rootfs);
    if (rl == 0 || (rl == 1 && rootfs[0] == '/')) {
        return mp;
    }
    if (mp.len >= rl && memcmp(mp.p, rootfs, rl) == 0) {
        mp = str_from(mp.p + rl, mp.len - rl);
        if (mp.len == 0) {
            return STR_LIT("/");
        }
    }
    return mp;
}

static bool coll_filesystem_match(coll_regex_t *re, str_t s)
{
    return coll_regex_match(re, s.len ? s.p : "", s.len);
}

static bool coll_filesystem_has_ro(str_t options)
{
    size_t i = 0;
    while (i <= options.len) {
        const char *comma = memchr(options.p + i, ',', options.len - i);
        size_t end = comma ? (size_t)(comma - options.p) : options.len;
        if (end - i == 2 && options.p[i] == 'r' && options.p[i + 1] == 'o') {
            return true;
        }
        i = end + 1;
    }
    return false;
}

/* True when m was emitted before in this collection; else remembers it. */
static bool coll_filesystem_seen_before(coll_filesystem_state_t *st, const coll_filesystem_mount_t *m)
{
    uint64_t h = hash_bytes(m->device.p, m->device.len);
    h = hash_bytes_seed(m->mountpoint.p, m->mountpoint.len, h);
    h = hash_bytes_seed(m->fstype.p, m->fstype.len, h);
    for (size_t i = 0; i < st->nseen; i++) {
        const coll_filesystem_mount_t *o = &st->seen[i].m;
        if (st->seen[i].hash == h && str_eq(o->device, m->device) && str_eq(o->mountpoint, m->mountpoint) &&
            str_eq(o->fstype, m->fstype)) {
            return true;
        }
    }
    if (st->nseen == st->cap_seen) {
        st->cap_seen = st->cap_seen ? st->cap_seen * 2 : 64;
        st->seen = mem_realloc(st->seen, st->cap_seen * sizeof(*st->seen));
    }
    st->seen[st->nseen++] = (coll_filesystem_seen_t){ .hash = h, .m = *m };
    return false;
}

static void coll_filesystem_add(msink_t *s, const char *name, const char *help, double v,
                                const coll_filesystem_mount_t *m)
{
    label_t ls[] = {
        { STR_LIT("device"), m->device },
        { STR_LIT("mountpoint"), m->mountpoint },
        { STR_LIT("fstype"), m->fstype },
    };
    uint32_t fam = msink_family_c(s, name, help, METRIC_GAUGE);
    msink_add_full(s, fam, (str_t){ NULL, 0 }, ls, 3, v, MSINK_NO_TS);
}

/* statfs on <rootfs>/<mountpoint> and the samples of one mount. */
static void coll_filesystem_emit(coll_filesystem_state_t *st, const char *rootfs, const coll_filesystem_mount_t *m,
                                 msink_t *s)
{
    char path[4096];
    size_t rl = strlen(rootfs);
    bool root = rl == 0 || (rl == 1 && rootfs[0] == '/');
    int pl = snprintf(path, sizeof(path), "%s%s%.*s", root ? "" : rootfs,
                      (m->mountpoint.len > 0 && m->mountpoint.p[0] == '/') ? "" : "/", (int)m->mountpoint.len,
                      m->mountpoint.p);
    struct statfs sf;
    memset(&sf, 0, sizeof(sf));
    bool ok = pl > 0 && (size_t)pl < sizeof(path) && memchr(m->mountpoint.p, 0, m->mountpoint.len) == NULL &&
              coll_statfs_call(st->watchdog, path, &sf) == 0;
    coll_filesystem_add(s, "node_filesystem_device_error",
                        "Whether an error occurred while getting statistics for the given device.", ok ? 0 : 1, m);
    if (!ok) {
        return;
    }
    double bsize = (double)sf.f_bsize;
    coll_filesystem_add(s, "node_filesystem_size_bytes", "Filesystem size in bytes.", (double)sf.f_blocks * bsize, m);
    coll_filesystem_add(s, "node_filesystem_free_bytes", "Filesystem free space in bytes.", (double)sf.f_bfree * bsize,
                        m);
    coll_filesystem_add(s, "node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes.",
                        (double)sf.f_bavail * bsize, m);
    coll_filesystem_add(s, "node_filesystem_files", "Filesystem total file nodes.", (double)sf.f_files, m);
    coll_filesystem_add(s, "node_filesystem_files_free", "Filesystem total free file nodes.", (double)sf.f_ffree, m);
    coll_filesystem_add(s, "node_filesystem_readonly", "Filesystem read-only status.",
                        coll_filesystem_has_ro(m->options) ? 1 : 0, m);
}

static int coll_filesystem_read_table(coll_ctx_t *c, const char **which, char *err, size_t errlen)
{
    *which = "/proc/1/mounts";
    int rc = coll_read_file(c->paths->procfs, "/1/mounts", c->scratch, COLL_FILESYSTEM_MAX_FILE);
    if (rc == -ENOENT) {
        *which = "/proc/mounts";
        rc = coll_read_file(c->paths->procfs, "/mounts", c->scratch, COLL_FILESYSTEM_MAX_FILE);
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", *which, rc == -ENOENT ? "no data (file absent)" : strerror(-rc));
        return -1;
    }
    if (c->scratch->len > 0 && c->scratch->data[c->scratch->len - 1] != '\n') {
        snprintf(err, errlen, "%s: truncated (no final newline)", *which);
        return -1;
    }
    return 0;
}

static int coll_filesystem_collect(coll_ctx_t *c, msink_t *s, char *err, size_t errlen)
{
    coll_filesystem_state_t *st = c->state;
    if (st->watchdog == NULL) {
        st->watchdog = coll_statfs_create(st->statfs_fn, COLL_FILESYSTEM_STATFS_TIMEOUT_MS);
    }
    const char *which = NULL;
    if (coll_filesystem_read_table(c, &which, err, errlen) != 0) {
        return -1;
    }
    st->nseen = 0;
    char *data = (char *)c->scratch->data;
    size_t len = c->scratch->len, pos = 0, lineno = 0;
    while (pos < len) {
        char *line = data + pos;
        char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        pos += ll + (nl ? 1 : 0);
        lineno++;
        coll_filesystem_mount_t m;
        if (coll_filesystem_parse_line(line, ll, &m) != 0) {
            snprintf(err, errlen, "%s: malformed line %zu", which, lineno);
            return -1;
        }
        m.mountpoint = coll_filesystem_strip_rootfs(m.mountpoint, c->paths->rootfs);
        if (coll_filesystem_match(&st->mp_exclude, m.mountpoint) || coll_filesystem_match(&st->fs_exclude, m.fstype) ||
            coll_filesystem_seen_before(st, &m)) {
            continue;
        }
        coll_filesystem_emit(st, c->paths->rootfs, &m, s);
    }
    return 0;
}

const coll_def_t coll_filesystem_def = {
    .name = "filesystem",
    .init = coll_filesystem_init,
    .fini = coll_filesystem_fini,
    .collect = coll_filesystem_collect,
};

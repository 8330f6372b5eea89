/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for agent/coll_filesystem.c: fixture trees (ok and fallback against
 * node_exporter 1.5's own output on the same tree, with the sizes masked
 * since they come from the disk the tree sits on; malformed, truncated,
 * missing), fixed sizes through the statfs seam, rootfs prefix stripping,
 * every prefix of the ok mount table, and a second collection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent_int.h"

extern const coll_def_t coll_filesystem_def;

#define DATA PHAROS_TEST_DATA "/agent/filesystem"

typedef int (*statfs_fn)(const char *path, struct statfs *out);

/* Real statfs for whether the path exists, then fixed numbers. */
static int fake_statfs(const char *path, struct statfs *out)
{
    if (statfs(path, out) != 0) {
        return -1;
    }
    out->f_bsize = 4096;
    out->f_blocks = 1000;
    out->f_bfree = 500;
    out->f_bavail = 400;
    out->f_files = 100;
    out->f_ffree = 50;
    return 0;
}

/* Run the collector once (statfs replaced when fn); render on success. */
static int run(const coll_paths_t *p, statfs_fn fn, buf_t *out, char *err, size_t errlen)
{
    void *state = NULL;
    assert_int_equal(coll_filesystem_def.init(&state, err, errlen), 0);
    if (fn != NULL) {
        memcpy(state, &fn, sizeof(fn)); /* the state's first member */
    }
    msink_t s;
    msink_init(&s);
    buf_t scratch;
    buf_init(&scratch);
    coll_ctx_t c = { .paths = p, .now_ms = 0, .scratch = &scratch, .state = state };
    err[0] = 0;
    int rc = coll_filesystem_def.collect(&c, &s, err, errlen);
    buf_reset(out);
    if (rc == 0) {
        agent_expo_write(&s, out);
    }
    buf_fini(&scratch);
    msink_fini(&s);
    coll_filesystem_def.fini(state);
    return rc;
}

/* Replace the values of the size-like families with "X". */
static void mask_sizes(buf_t *b)
{
    static const char *const fams[] = { "node_filesystem_size_bytes{", "node_filesystem_free_bytes{",
                                        "node_filesystem_avail_bytes{", "node_filesystem_files{",
                                        "node_filesystem_files_free{" };
    buf_t o;
    buf_init(&o);
    const char *p = b->len ? (const char *)b->data : "";
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t ll = nl ? (size_t)(nl - p) : strlen(p);
        bool mask = false;
        for (size_t i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
            mask = mask || strncmp(p, fams[i], strlen(fams[i])) == 0;
        }
        const char *sp = NULL;
        for (size_t k = ll; mask && k > 0 && sp == NULL; k--) {
            sp = p[k - 1] == ' ' ? p + k - 1 : NULL;
        }
        if (sp != NULL) {
            buf_append(&o, p, (size_t)(sp - p));
            buf_puts(&o, " X\n");
        } else {
            buf_append(&o, p, ll);
            buf_putc(&o, '\n');
        }
        p += ll + (nl ? 1 : 0);
    }
    buf_reset(b);
    buf_append(b, o.data, o.len);
    buf_fini(&o);
}

static void test_fixtures(void **unused)
{
    (void)unused;
    static const struct {
        const char *name;
        int rc;
        const char *reason;
    } cases[] = {
        { "ok", 0, NULL },
        { "fallback", 0, NULL },
        { "malformed", -1, "/proc/1/mounts: malformed line 2" },
        { "truncated", -1, "/proc/1/mounts: truncated" },
        { "missing", -1, "/proc/mounts: no data" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char proc[600], root[600], dir[512];
        snprintf(dir, sizeof(dir), "%s/%s", DATA, cases[i].name);
        snprintf(proc, sizeof(proc), "%s/proc", dir);
        snprintf(root, sizeof(root), "%s/root", dir);
        coll_paths_t p = { .procfs = proc, .sysfs = "/sys", .rootfs = root, .udev_data = "/run/udev/data" };
        buf_t out, want;
        buf_init(&out);
        buf_init(&want);
        char err[256];
        int rc = run(&p, NULL, &out, err, sizeof(err));
        if (rc != cases[i].rc) {
            fail_msg("case %s: rc %d, want %d (%s)", cases[i].name, rc, cases[i].rc, err);
        }
        if (rc == 0) {
            assert_int_equal(coll_read_file(dir, "/expected.prom", &want, 1 << 20), 0);
            mask_sizes(&out);
            mask_sizes(&want);
            assert_string_equal((const char *)out.data, (const char *)want.data);
        } else if (strstr(err, cases[i].reason) == NULL) {
            fail_msg("case %s: reason %s", cases[i].name, err);
        }
        buf_fini(&out);
        buf_fini(&want);
    }
}

/* The seam gives fixed sizes: exact values, readonly from "ro". */
static void test_sizes(void **unused)
{
    (void)unused;
    coll_paths_t p = {
        .procfs = DATA "/ok/proc", .sysfs = "/sys", .rootfs = DATA "/ok/root", .udev_data = "/run/udev/data"
    };
    buf_t out;
    buf_init(&out);
    char err[256];
    assert_int_equal(run(&p, fake_statfs, &out, err, sizeof(err)), 0);
    const char *t = (const char *)out.data;
    static const char *const want[] = {
        "node_filesystem_size_bytes{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"} 4.096e+06\n",
        "node_filesystem_free_bytes{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"} 2.048e+06\n",
        "node_filesystem_avail_bytes{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"} 1.6384e+06\n",
        "node_filesystem_files{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"} 100\n",
        "node_filesystem_files_free{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"} 50\n",
        "node_filesystem_readonly{device=\"/dev/mapper/vg0-data\",fstype=\"xfs\",mountpoint=\"/data\"} 1\n",
        "node_filesystem_readonly{device=\"/dev/vdb2\",fstype=\"ext4\",mountpoint=\"/srv/my files\"} 0\n",
        "node_filesystem_device_error{device=\"/dev/vdc1\",fstype=\"ext4\",mountpoint=\"/gone\"} 1\n",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (strstr(t, want[i]) == NULL) {
            fail_msg("%s not in\n%s", want[i], t);
        }
    }
    assert_null(strstr(t, "node_filesystem_readonly{device=\"/dev/vdc1\""));
    assert_null(strstr(t, "mountpoint=\"/proc\""));
    assert_null(strstr(t, "mountpoint=\"/home/auto\""));
    buf_fini(&out);
}

static char tmpdir[64];

static void write_mounts(const char *text, size_t len)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/proc/1/mounts", tmpdir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

/* Mount points under rootfs lose the prefix ("/host" + "/data" -> "/data",
 * the rootfs itself -> "/"); a plain string prefix, as node_exporter's
 * TrimPrefix ("<rootfs>less" -> "less"); others keep their path and are
 * looked up under rootfs. */
static void test_rootfs_prefix(void **unused)
{
    (void)unused;
    char root[128], text[1024], proc[128];
    snprintf(root, sizeof(root), "%s/root", tmpdir);
    snprintf(proc, sizeof(proc), "%s/proc", tmpdir);
    int n = snprintf(text, sizeof(text),
                     "/dev/a %s ext4 rw 0 0\n/dev/b %s/data ext4 ro 0 0\n/dev/c /data xfs rw 0 0\n"
                     "/dev/d %sless xfs rw 0 0\n/dev/e /gone xfs rw 0 0\n",
                     root, root, root);
    write_mounts(text, (size_t)n);
    coll_paths_t p = { .procfs = proc, .sysfs = "/sys", .rootfs = root, .udev_data = "/run/udev/data" };
    buf_t out;
    buf_init(&out);
    char err[256];
    assert_int_equal(run(&p, fake_statfs, &out, err, sizeof(err)), 0);
    const char *want = "# HELP node_filesystem_device_error Whether an error occurred while getting statistics for "
                       "the given device.\n"
                       "# TYPE node_filesystem_device_error gauge\n"
                       "node_filesystem_device_error{device=\"/dev/a\",fstype=\"ext4\",mountpoint=\"/\"} 0\n"
                       "node_filesystem_device_error{device=\"/dev/b\",fstype=\"ext4\",mountpoint=\"/data\"} 0\n"
                       "node_filesystem_device_error{device=\"/dev/c\",fstype=\"xfs\",mountpoint=\"/data\"} 0\n"
                       "node_filesystem_device_error{device=\"/dev/d\",fstype=\"xfs\",mountpoint=\"less\"} 0\n"
                       "node_filesystem_device_error{device=\"/dev/e\",fstype=\"xfs\",mountpoint=\"/gone\"} 1\n";
    assert_non_null(strstr((const char *)out.data, want));
    assert_non_null(strstr((const char *)out.data, "node_filesystem_readonly{device=\"/dev/b\",fstype=\"ext4\","
                                                   "mountpoint=\"/data\"} 1\n"));
    /* The real root: "/" and "" both mean no prefix. */
    const char *real = "/dev/x / ext4 ro 0 0\n/dev/y /nonexistent-pharos-test ext4 rw 0 0\n";
    write_mounts(real, strlen(real));
    static const char *const roots[] = { "/", "" };
    for (size_t i = 0; i < 2; i++) {
        p.rootfs = roots[i];
        assert_int_equal(run(&p, fake_statfs, &out, err, sizeof(err)), 0);
        const char *t = (const char *)out.data;
        assert_non_null(strstr(t, "node_filesystem_readonly{device=\"/dev/x\",fstype=\"ext4\",mountpoint=\"/\"} 1\n"));
        assert_non_null(strstr(t, "node_filesystem_device_error{device=\"/dev/y\",fstype=\"ext4\","
                                  "mountpoint=\"/nonexistent-pharos-test\"} 1\n"));
    }
    buf_fini(&out);
}

/* Named lines: field counts, escapes, options, duplicates. */
static void test_lines(void **unused)
{
    (void)unused;
    static const struct {
        const char *text;
        int rc;
        const char *want;
    } cases[] = {
        { "/dev/a / ext4 rw\n", 0, "node_filesystem_readonly{device=\"/dev/a\",fstype=\"ext4\",mountpoint=\"/\"} 0\n" },
        { "/dev/a / ext4 rw,ro\n", 0,
          "node_filesystem_readonly{device=\"/dev/a\",fstype=\"ext4\",mountpoint=\"/\"} 1\n" },
        { "/dev/a / ext4 rw,rox,xro\n", 0,
          "node_filesystem_readonly{device=\"/dev/a\",fstype=\"ext4\",mountpoint=\"/\"} 0\n" },
        { "/dev/a\t/\text4\tro\r\n", 0,
          "node_filesystem_readonly{device=\"/dev/a\",fstype=\"ext4\",mountpoint=\"/\"} 1\n" },
        { "/dev/a /x\\134y\\040z ext4 rw\n", 0, "mountpoint=\"/x\\\\134y z\"" },
        { "/dev/a / ext4 rw\n/dev/a / ext4 ro\n", 0,
          "node_filesystem_readonly{device=\"/dev/a\",fstype=\"ext4\",mountpoint=\"/\"} 0\n" },
        { "/dev/a / ext4\n", -1, NULL },
        { "/dev/a / ext4 rw\n\n/dev/b /b ext4 rw\n", -1, NULL },
        { "/dev/a / ext4 rw", -1, NULL },
        { "", 0, NULL },
        { "proc /proc proc rw\nsysfs /sys/x sysfs rw\n/dev/a /mnt ext4 rw\n/dev/a /mnt/x ext4 rw\n"
          "/dev/a /var/lib/docker/x ext4 rw\n/dev/a /dev ext4 rw\nx /y cgroup2 rw\nx /z cgroup rw\n",
          0, NULL },
    };
    char proc[128];
    snprintf(proc, sizeof(proc), "%s/proc", tmpdir);
    coll_paths_t p = { .procfs = proc, .sysfs = "/sys", .rootfs = "/", .udev_data = "/run/udev/data" };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        write_mounts(cases[i].text, strlen(cases[i].text));
        buf_t out;
        buf_init(&out);
        char err[256];
        int rc = run(&p, fake_statfs, &out, err, sizeof(err));
        if (rc != cases[i].rc) {
            fail_msg("case %zu: rc %d, want %d (%s)", i, rc, cases[i].rc, err);
        }
        if (rc == 0 && cases[i].want == NULL) {
            assert_int_equal(out.len, 0);
        } else if (rc == 0 && strstr((const char *)out.data, cases[i].want) == NULL) {
            fail_msg("case %zu: %s not in\n%s", i, cases[i].want, (const char *)out.data);
        }
        buf_fini(&out);
    }
}

/* Every prefix of the ok table fails unless it ends at a line boundary,
 * and then yields only samples of the whole table. */
static void test_prefixes(void **unused)
{
    (void)unused;
    buf_t full, whole, out;
    buf_init(&full);
    buf_init(&whole);
    buf_init(&out);
    assert_int_equal(coll_read_file(DATA "/ok/proc", "/1/mounts", &full, 1 << 20), 0);
    char proc[128], err[256];
    snprintf(proc, sizeof(proc), "%s/proc", tmpdir);
    coll_paths_t p = { .procfs = proc, .sysfs = "/sys", .rootfs = DATA "/ok/root", .udev_data = "/run/udev/data" };
    write_mounts((const char *)full.data, full.len);
    assert_int_equal(run(&p, fake_statfs, &whole, err, sizeof(err)), 0);
    for (size_t n = 0; n <= full.len; n++) {
        write_mounts((const char *)full.data, n);
        int rc = run(&p, fake_statfs, &out, err, sizeof(err));
        assert_int_equal(rc, n == 0 || full.data[n - 1] == '\n' ? 0 : -1);
        for (const char *line = rc == 0 && out.len ? (const char *)out.data : ""; *line;) {
            const char *nl = strchr(line, '\n');
            assert_non_null(nl);
            char want[512];
            snprintf(want, sizeof(want), "%.*s", (int)(nl - line + 1), line);
            assert_non_null(strstr((const char *)whole.data, want));
            line = nl + 1;
        }
    }
    buf_fini(&full);
    buf_fini(&whole);
    buf_fini(&out);
}

/* Two collections on one state (the seen list is reset) agree. */
static void test_steady(void **unused)
{
    (void)unused;
    coll_paths_t p = {
        .procfs = DATA "/ok/proc", .sysfs = "/sys", .rootfs = DATA "/ok/root", .udev_data = "/run/udev/data"
    };
    void *state = NULL;
    char err[256];
    assert_int_equal(coll_filesystem_def.init(&state, err, sizeof(err)), 0);
    statfs_fn fn = fake_statfs;
    memcpy(state, &fn, sizeof(fn));
    buf_t scratch, a, b;
    buf_init(&scratch);
    buf_init(&a);
    buf_init(&b);
    msink_t s;
    msink_init(&s);
    coll_ctx_t c = { .paths = &p, .scratch = &scratch, .state = state };
    assert_int_equal(coll_filesystem_def.collect(&c, &s, err, sizeof(err)), 0);
    agent_expo_write(&s, &a);
    msink_reset(&s);
    assert_int_equal(coll_filesystem_def.collect(&c, &s, err, sizeof(err)), 0);
    agent_expo_write(&s, &b);
    assert_string_equal((const char *)a.data, (const char *)b.data);
    msink_fini(&s);
    buf_fini(&scratch);
    buf_fini(&a);
    buf_fini(&b);
    coll_filesystem_def.fini(state);
    coll_filesystem_def.fini(NULL);
}

static int setup(void **unused)
{
    (void)unused;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_coll_filesystem.XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        return -1;
    }
    char path[256];
    static const char *const dirs[] = { "/proc", "/proc/1", "/root", "/root/data", "/rootless" };
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", tmpdir, dirs[i]);
        if (mkdir(path, 0755) != 0) {
            return -1;
        }
    }
    /* "<root>less" is looked up as "<root>/less". */
    snprintf(path, sizeof(path), "%s/root/less", tmpdir);
    return mkdir(path, 0755);
}

static int teardown(void **unused)
{
    (void)unused;
    static const char *const paths[] = { "/proc/1/mounts", "/proc/1", "/proc",     "/root/data",
                                         "/root/less",     "/root",   "/rootless", "" };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        char path[256];
        snprintf(path, sizeof(path), "%s%s", tmpdir, paths[i]);
        if (unlink(path) != 0) {
            rmdir(path);
        }
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures), cmocka_unit_test(test_sizes),    cmocka_unit_test(test_rootfs_prefix),
        cmocka_unit_test(test_lines),    cmocka_unit_test(test_prefixes), cmocka_unit_test(test_steady),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

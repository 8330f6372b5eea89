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
#include <sys/statfs.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent_int.h"
#include "coll_testlib.h"

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

/* Collect rounds times on fresh state (statfs replaced when fn), every
 * round rendering the same; the last round's text on success. */
static int run_rounds(const coll_paths_t *p, statfs_fn fn, unsigned rounds, buf_t *out, char *err, size_t errlen)
{
    coll_test_runner_t r;
    coll_test_runner_init(&r, &coll_filesystem_def);
    if (fn != NULL) {
        memcpy(r.state, &fn, sizeof(fn)); /* the state's first member */
    }
    int rc = coll_test_runner_rounds(&r, p, 0, rounds, out);
    snprintf(err, errlen, "%.*s", (int)(errlen - 1), r.err);
    coll_test_runner_fini(&r);
    return rc;
}

static int run(const coll_paths_t *p, statfs_fn fn, buf_t *out, char *err, size_t errlen)
{
    return run_rounds(p, fn, 1, out, err, errlen);
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
    static const coll_test_case_t cases[] = {
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
        buf_t out;
        buf_init(&out);
        char err[256], golden[600];
        int rc = run(&p, NULL, &out, err, sizeof(err));
        coll_test_expect_rc(cases[i].name, rc, cases[i].rc, err, cases[i].reason);
        if (rc == 0) {
            snprintf(golden, sizeof(golden), "%s/expected.prom", dir);
            coll_test_expect_golden(&out, golden, mask_sizes);
        }
        buf_fini(&out);
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
    coll_test_put(tmpdir, "/proc/1/mounts", text, len);
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
        coll_test_expect_case(i, rc, cases[i].rc, err, &out, cases[i].want);
        buf_fini(&out);
    }
}

/* The mount table text as tmpdir's, over the ok tree's root, fixed sizes. */
static int run_mounts(const char *text, size_t len, buf_t *out, char *err, size_t errlen)
{
    write_mounts(text, len);
    char proc[128];
    snprintf(proc, sizeof(proc), "%s/proc", tmpdir);
    coll_paths_t p = { .procfs = proc, .sysfs = "/sys", .rootfs = DATA "/ok/root", .udev_data = "/run/udev/data" };
    return run(&p, fake_statfs, out, err, errlen);
}

/* Every prefix of the ok table fails unless it ends at a line boundary,
 * and then yields only samples of the whole table. */
static void test_prefixes(void **unused)
{
    (void)unused;
    coll_test_prefixes(DATA "/ok/proc", "/1/mounts", run_mounts, true);
}

/* Two collections on one state (the seen list is reset) agree. */
static void test_steady(void **unused)
{
    (void)unused;
    coll_paths_t p = {
        .procfs = DATA "/ok/proc", .sysfs = "/sys", .rootfs = DATA "/ok/root", .udev_data = "/run/udev/data"
    };
    buf_t out;
    buf_init(&out);
    char err[256];
    assert_int_equal(run_rounds(&p, fake_statfs, 2, &out, err, sizeof(err)), 0);
    buf_fini(&out);
    coll_filesystem_def.fini(NULL);
}

static int setup(void **unused)
{
    (void)unused;
    if (coll_test_mkdtemp(tmpdir, sizeof(tmpdir), "test_coll_filesystem") != 0) {
        return -1;
    }
    /* "<root>less" is looked up as "<root>/less". */
    static const char *const dirs[] = { "/proc/1", "/root/data", "/root/less", "/rootless" };
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        coll_test_mkdir(tmpdir, dirs[i]);
    }
    return 0;
}

static int teardown(void **unused)
{
    (void)unused;
    coll_test_rmtree(tmpdir, "");
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

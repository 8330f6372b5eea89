/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for agent/coll_hwmon.c: fixture sysfs trees (ok and garbage
 * against node_exporter 1.5's own output on the same trees; a dangling
 * chip link, class/hwmon not a directory, and no class/hwmon fail), the
 * shared-error quirk, file name splitting and chip naming on trees built
 * at run time, and a second collection on the same state. */
#define _GNU_SOURCE
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent_int.h"

extern const coll_def_t coll_hwmon_def;

#define DATA PHAROS_TEST_DATA "/agent/hwmon"

static char tmpdir[64];

/* Run the collector once on fresh state; render into out on success. */
static int run(const char *sysfs, buf_t *out, char *err, size_t errlen)
{
    coll_paths_t p = { .procfs = "/proc", .sysfs = sysfs, .rootfs = "/", .udev_data = "/run/udev/data" };
    void *state = NULL;
    assert_int_equal(coll_hwmon_def.init(&state, err, errlen), 0);
    msink_t s;
    msink_init(&s);
    buf_t scratch;
    buf_init(&scratch);
    coll_ctx_t c = { .paths = &p, .now_ms = 0, .scratch = &scratch, .state = state };
    err[0] = 0;
    int rc = coll_hwmon_def.collect(&c, &s, err, errlen);
    buf_reset(out);
    if (rc == 0) {
        agent_expo_write(&s, out);
    }
    buf_fini(&scratch);
    msink_fini(&s);
    coll_hwmon_def.fini(state);
    return rc;
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
        { "garbage", 0, NULL },
        { "dangling", -1, "/sys/class/hwmon/hwmon7" },
        { "notdir", -1, "/sys/class/hwmon: Not a directory" },
        { "missing", -1, "/sys/class/hwmon: no data" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char dir[512], sys[600];
        snprintf(dir, sizeof(dir), "%s/%s", DATA, cases[i].name);
        snprintf(sys, sizeof(sys), "%s/sys", dir);
        buf_t out, want;
        buf_init(&out);
        buf_init(&want);
        char err[512];
        int rc = run(sys, &out, err, sizeof(err));
        if (rc != cases[i].rc) {
            fail_msg("case %s: rc %d, want %d (%s)", cases[i].name, rc, cases[i].rc, err);
        }
        if (rc == 0) {
            assert_int_equal(coll_read_file(dir, "/expected.prom", &want, 1 << 20), 0);
            assert_string_equal((const char *)out.data, (const char *)want.data);
        } else if (strstr(err, cases[i].reason) == NULL) {
            fail_msg("case %s: reason %s", cases[i].name, err);
        }
        buf_fini(&out);
        buf_fini(&want);
    }
}

static void put(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s%s", tmpdir, rel);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void dir(const char *rel)
{
    char path[512];
    snprintf(path, sizeof(path), "%s%s", tmpdir, rel);
    assert_int_equal(mkdir(path, 0755), 0);
}

static void link_to(const char *target, const char *rel)
{
    char path[512];
    snprintf(path, sizeof(path), "%s%s", tmpdir, rel);
    assert_int_equal(symlink(target, path), 0);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void clear(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/sys", tmpdir);
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* node_exporter 1.5 keeps one error variable: a dangling link fails the
 * collection unless a later chip link (in name order) resolves; a later
 * plain directory does not clear it. */
static void test_shared_error(void **unused)
{
    (void)unused;
    char sys[128], err[512];
    snprintf(sys, sizeof(sys), "%s/sys", tmpdir);
    buf_t out;
    buf_init(&out);
    clear();
    dir("/sys");
    dir("/sys/class");
    dir("/sys/class/hwmon");
    dir("/sys/devices");
    dir("/sys/devices/hwmon1");
    put("/sys/devices/hwmon1/temp1_input", "1000\n");
    link_to("../../devices/hwmon0", "/sys/class/hwmon/hwmon0");
    link_to("../../devices/hwmon1", "/sys/class/hwmon/hwmon1");
    assert_int_equal(run(sys, &out, err, sizeof(err)), 0);
    assert_non_null(strstr((const char *)out.data, "node_hwmon_temp_celsius{chip=\"hwmon1\",sensor=\"temp1\"} 1\n"));
    clear();
    dir("/sys");
    dir("/sys/class");
    dir("/sys/class/hwmon");
    dir("/sys/class/hwmon/hwmon1");
    put("/sys/class/hwmon/hwmon1/temp1_input", "1000\n");
    link_to("../../devices/hwmon0", "/sys/class/hwmon/hwmon0");
    assert_int_equal(run(sys, &out, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "hwmon0"));
    buf_fini(&out);
}

/* File names as Go's ^([^0-9]+)([0-9]*)?(_(.+))?$ splits them, and the
 * chip named by its name file when the device link names nothing. */
static void test_names(void **unused)
{
    (void)unused;
    char sys[128], err[512];
    snprintf(sys, sizeof(sys), "%s/sys", tmpdir);
    clear();
    dir("/sys");
    dir("/sys/class");
    dir("/sys/class/hwmon");
    dir("/sys/class/hwmon/hwmon0");
    dir("/sys/devices");
    dir("/sys/devices/__");
    dir("/sys/devices/__/___");
    link_to("../../../devices/__/___", "/sys/class/hwmon/hwmon0/device");
    put("/sys/class/hwmon/hwmon0/name", "Chip Name!\n");
    put("/sys/class/hwmon/hwmon0/fan_x1y", "5\n");
    put("/sys/class/hwmon/hwmon0/in0_", "6\n");
    put("/sys/class/hwmon/hwmon0/temp_2_max", "7\n");
    put("/sys/class/hwmon/hwmon0/curr_a_b", "8\n");
    put("/sys/class/hwmon/hwmon0/power", "9\n");
    buf_t out;
    buf_init(&out);
    assert_int_equal(run(sys, &out, err, sizeof(err)), 0);
    assert_string_equal((const char *)out.data,
                        "# HELP node_hwmon_chip_names Annotation metric for human-readable chip names\n"
                        "# TYPE node_hwmon_chip_names gauge\n"
                        "node_hwmon_chip_names{chip=\"chip_name\",chip_name=\"chip_name\"} 1\n"
                        "# HELP node_hwmon_fan_x1y Hardware monitor fan element x1y\n"
                        "# TYPE node_hwmon_fan_x1y gauge\n"
                        "node_hwmon_fan_x1y{chip=\"chip_name\",sensor=\"fan0\"} 5\n"
                        "# HELP node_hwmon_power_watt Hardware monitor for power usage in watts ()\n"
                        "# TYPE node_hwmon_power_watt gauge\n"
                        "node_hwmon_power_watt{chip=\"chip_name\",sensor=\"power0\"} 9e-06\n");
    buf_fini(&out);
    clear();
}

/* Two chips of one name (thermal zones without a device link): the
 * first chip's series win, the second adds only new ones, as
 * client_golang's duplicate check leaves node_exporter's output. */
static void test_duplicate_chips(void **unused)
{
    (void)unused;
    char sys[128], err[512];
    snprintf(sys, sizeof(sys), "%s/sys", tmpdir);
    clear();
    dir("/sys");
    dir("/sys/class");
    dir("/sys/class/hwmon");
    dir("/sys/class/hwmon/hwmon0");
    dir("/sys/class/hwmon/hwmon1");
    put("/sys/class/hwmon/hwmon0/name", "acpitz\n");
    put("/sys/class/hwmon/hwmon0/temp1_input", "20000\n");
    put("/sys/class/hwmon/hwmon1/name", "acpitz\n");
    put("/sys/class/hwmon/hwmon1/temp1_input", "21000\n");
    put("/sys/class/hwmon/hwmon1/temp2_input", "99000\n");
    buf_t out;
    buf_init(&out);
    assert_int_equal(run(sys, &out, err, sizeof(err)), 0);
    assert_string_equal((const char *)out.data,
                        "# HELP node_hwmon_chip_names Annotation metric for human-readable chip names\n"
                        "# TYPE node_hwmon_chip_names gauge\n"
                        "node_hwmon_chip_names{chip=\"acpitz\",chip_name=\"acpitz\"} 1\n"
                        "# HELP node_hwmon_temp_celsius Hardware monitor for temperature (input)\n"
                        "# TYPE node_hwmon_temp_celsius gauge\n"
                        "node_hwmon_temp_celsius{chip=\"acpitz\",sensor=\"temp1\"} 20\n"
                        "node_hwmon_temp_celsius{chip=\"acpitz\",sensor=\"temp2\"} 99\n");
    buf_fini(&out);
    clear();
}

/* Two collections on one state give the same output. */
static void test_steady(void **unused)
{
    (void)unused;
    coll_paths_t p = { .procfs = "/proc", .sysfs = DATA "/ok/sys", .rootfs = "/", .udev_data = "/run/udev/data" };
    void *state = NULL;
    char err[256];
    assert_int_equal(coll_hwmon_def.init(&state, err, sizeof(err)), 0);
    buf_t scratch, a, b;
    buf_init(&scratch);
    buf_init(&a);
    buf_init(&b);
    msink_t s;
    msink_init(&s);
    coll_ctx_t c = { .paths = &p, .scratch = &scratch, .state = state };
    assert_int_equal(coll_hwmon_def.collect(&c, &s, err, sizeof(err)), 0);
    agent_expo_write(&s, &a);
    msink_reset(&s);
    assert_int_equal(coll_hwmon_def.collect(&c, &s, err, sizeof(err)), 0);
    agent_expo_write(&s, &b);
    assert_string_equal((const char *)a.data, (const char *)b.data);
    msink_fini(&s);
    buf_fini(&scratch);
    buf_fini(&a);
    buf_fini(&b);
    coll_hwmon_def.fini(state);
    coll_hwmon_def.fini(NULL);
}

static int setup(void **unused)
{
    (void)unused;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_coll_hwmon.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **unused)
{
    (void)unused;
    clear();
    rmdir(tmpdir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures),        cmocka_unit_test(test_shared_error), cmocka_unit_test(test_names),
        cmocka_unit_test(test_duplicate_chips), cmocka_unit_test(test_steady),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for agent/coll_hwmon.c: fixture sysfs trees (ok and garbage
 * against node_exporter 1.5's own output on the same trees; a dangling
 * chip link, class/hwmon not a directory, and no class/hwmon fail), the
 * shared-error quirk, file name splitting and chip naming on trees built
 * at run time, and a second collection on the same state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/agent_int.h"
#include "coll_testlib.h"

extern const coll_def_t coll_hwmon_def;

#define DATA PHAROS_TEST_DATA "/agent/hwmon"

static char tmpdir[64];

/* Collect rounds times on fresh state, every round rendering the same;
 * the last round's text in out on success. */
static int run_rounds(const char *sysfs, unsigned rounds, buf_t *out, char *err, size_t errlen)
{
    coll_paths_t p = { .procfs = "/proc", .sysfs = sysfs, .rootfs = "/", .udev_data = "/run/udev/data" };
    return coll_test_run(&coll_hwmon_def, &p, 0, rounds, out, err, errlen);
}

static int run(const char *sysfs, buf_t *out, char *err, size_t errlen)
{
    return run_rounds(sysfs, 1, out, err, errlen);
}

static void test_fixtures(void **unused)
{
    (void)unused;
    static const coll_test_case_t cases[] = {
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
        buf_t out;
        buf_init(&out);
        char err[512], golden[600];
        int rc = run(sys, &out, err, sizeof(err));
        coll_test_expect_rc(cases[i].name, rc, cases[i].rc, err, cases[i].reason);
        if (rc == 0) {
            snprintf(golden, sizeof(golden), "%s/expected.prom", dir);
            coll_test_expect_golden(&out, golden, NULL);
        }
        buf_fini(&out);
    }
}

/* Files and links under tmpdir; parents are made. */
static void put(const char *rel, const char *text)
{
    coll_test_put(tmpdir, rel, text, strlen(text));
}

static void link_to(const char *target, const char *rel)
{
    coll_test_symlink(tmpdir, target, rel);
}

static void clear(void)
{
    coll_test_rmtree(tmpdir, "/sys");
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
    put("/sys/devices/hwmon1/temp1_input", "1000\n");
    link_to("../../devices/hwmon0", "/sys/class/hwmon/hwmon0");
    link_to("../../devices/hwmon1", "/sys/class/hwmon/hwmon1");
    assert_int_equal(run(sys, &out, err, sizeof(err)), 0);
    assert_non_null(strstr((const char *)out.data, "node_hwmon_temp_celsius{chip=\"hwmon1\",sensor=\"temp1\"} 1\n"));
    clear();
    put("/sys/class/hwmon/hwmon1/temp1_input", "1000\n");
    link_to("../../devices/hwmon0", "/sys/class/hwmon/hwmon0");
    assert_int_equal(run(sys, &out, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "hwmon0"));
    buf_fini(&out);
}

/* The tree built under tmpdir/sys collects, on fresh state, to exactly want. */
static void expect_tree(const char *want)
{
    char sys[128], err[512];
    snprintf(sys, sizeof(sys), "%s/sys", tmpdir);
    buf_t out;
    buf_init(&out);
    assert_int_equal(run(sys, &out, err, sizeof(err)), 0);
    assert_string_equal(coll_test_text(&out), want);
    buf_fini(&out);
}

/* File names as Go's ^([^0-9]+)([0-9]*)?(_(.+))?$ splits them, and the
 * chip named by its name file when the device link names nothing. */
static void test_names(void **unused)
{
    (void)unused;
    clear();
    coll_test_mkdir(tmpdir, "/sys/devices/__/___");
    link_to("../../../devices/__/___", "/sys/class/hwmon/hwmon0/device");
    put("/sys/class/hwmon/hwmon0/name", "Chip Name!\n");
    put("/sys/class/hwmon/hwmon0/fan_x1y", "5\n");
    put("/sys/class/hwmon/hwmon0/in0_", "6\n");
    put("/sys/class/hwmon/hwmon0/temp_2_max", "7\n");
    put("/sys/class/hwmon/hwmon0/curr_a_b", "8\n");
    put("/sys/class/hwmon/hwmon0/power", "9\n");
    expect_tree("# HELP node_hwmon_chip_names Annotation metric for human-readable chip names\n"
                "# TYPE node_hwmon_chip_names gauge\n"
                "node_hwmon_chip_names{chip=\"chip_name\",chip_name=\"chip_name\"} 1\n"
                "# HELP node_hwmon_fan_x1y Hardware monitor fan element x1y\n"
                "# TYPE node_hwmon_fan_x1y gauge\n"
                "node_hwmon_fan_x1y{chip=\"chip_name\",sensor=\"fan0\"} 5\n"
                "# HELP node_hwmon_power_watt Hardware monitor for power usage in watts ()\n"
                "# TYPE node_hwmon_power_watt gauge\n"
                "node_hwmon_power_watt{chip=\"chip_name\",sensor=\"power0\"} 9e-06\n");
    clear();
}

/* Two chips of one name (thermal zones without a device link): the
 * first chip's series win, the second adds only new ones, as
 * client_golang's duplicate check leaves node_exporter's output. */
static void test_duplicate_chips(void **unused)
{
    (void)unused;
    clear();
    put("/sys/class/hwmon/hwmon0/name", "acpitz\n");
    put("/sys/class/hwmon/hwmon0/temp1_input", "20000\n");
    put("/sys/class/hwmon/hwmon1/name", "acpitz\n");
    put("/sys/class/hwmon/hwmon1/temp1_input", "21000\n");
    put("/sys/class/hwmon/hwmon1/temp2_input", "99000\n");
    expect_tree("# HELP node_hwmon_chip_names Annotation metric for human-readable chip names\n"
                "# TYPE node_hwmon_chip_names gauge\n"
                "node_hwmon_chip_names{chip=\"acpitz\",chip_name=\"acpitz\"} 1\n"
                "# HELP node_hwmon_temp_celsius Hardware monitor for temperature (input)\n"
                "# TYPE node_hwmon_temp_celsius gauge\n"
                "node_hwmon_temp_celsius{chip=\"acpitz\",sensor=\"temp1\"} 20\n"
                "node_hwmon_temp_celsius{chip=\"acpitz\",sensor=\"temp2\"} 99\n");
    clear();
}

/* Two collections on one state give the same output. */
static void test_steady(void **unused)
{
    (void)unused;
    buf_t out;
    buf_init(&out);
    char err[256];
    assert_int_equal(run_rounds(DATA "/ok/sys", 2, &out, err, sizeof(err)), 0);
    buf_fini(&out);
    coll_hwmon_def.fini(NULL);
}

static int setup(void **unused)
{
    (void)unused;
    return coll_test_mkdtemp(tmpdir, sizeof(tmpdir), "test_coll_hwmon");
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
        cmocka_unit_test(test_fixtures),        cmocka_unit_test(test_shared_error), cmocka_unit_test(test_names),
        cmocka_unit_test(test_duplicate_chips), cmocka_unit_test(test_steady),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

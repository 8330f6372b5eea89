/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for agent/coll_diskstats.c: fixture trees (ok against node_exporter
 * 1.5's own output on the same tree, malformed, truncated, missing), every
 * prefix of the ok file, field-count and overflow cases, and a second
 * collection on the same state. */
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

extern const coll_def_t coll_diskstats_def;

#define DATA PHAROS_TEST_DATA "/agent/diskstats"

/* Run the collector once on fresh state; render into out when it succeeds. */
static int run(const coll_paths_t *p, buf_t *out, char *err, size_t errlen)
{
    return coll_test_run(&coll_diskstats_def, p, 0, 1, out, err, errlen);
}

static void tree(const char *name, char *buf, size_t n, const char *sub)
{
    snprintf(buf, n, "%s/%s/%s", DATA, name, sub);
}

static void test_fixtures(void **unused)
{
    (void)unused;
    static const coll_test_case_t cases[] = {
        { "ok", 0, NULL },
        { "malformed", -1, "/proc/diskstats" },
        { "truncated", -1, "/proc/diskstats" },
        { "missing", -1, "/proc/diskstats" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char proc[512], sys[512];
        tree(cases[i].name, proc, sizeof(proc), "proc");
        tree(cases[i].name, sys, sizeof(sys), "sys");
        coll_paths_t p = { .procfs = proc, .sysfs = sys, .rootfs = "/", .udev_data = DATA "/ok/udev" };
        buf_t out;
        buf_init(&out);
        char err[256];
        int rc = run(&p, &out, err, sizeof(err));
        coll_test_expect_rc(cases[i].name, rc, cases[i].rc, err, cases[i].reason);
        if (rc == 0) {
            coll_test_expect_golden(&out, DATA "/ok/expected.prom", NULL);
        }
        buf_fini(&out);
    }
}

/* Without udev data every device still has node_disk_info, with empty
 * labels, and no udev-driven metric appears. */
static void test_no_udev(void **unused)
{
    (void)unused;
    coll_paths_t p = { .procfs = DATA "/ok/proc", .sysfs = DATA "/ok/sys", .rootfs = "/", .udev_data = DATA "/absent" };
    buf_t out;
    buf_init(&out);
    char err[256];
    assert_int_equal(run(&p, &out, err, sizeof(err)), 0);
    const char *t = (const char *)out.data;
    assert_non_null(strstr(t, "node_disk_info{device=\"sda\",major=\"8\",minor=\"0\",model=\"\",path=\"\","
                              "revision=\"\",serial=\"\",wwn=\"\"} 1\n"));
    assert_null(strstr(t, "node_disk_ata_"));
    assert_null(strstr(t, "node_disk_filesystem_info"));
    assert_null(strstr(t, "node_disk_device_mapper_info"));
    buf_fini(&out);
}

static char tmpdir[64];

static int run_text(const char *text, size_t len, buf_t *out, char *err, size_t errlen)
{
    coll_test_put(tmpdir, "/diskstats", text, len);
    coll_paths_t p = { .procfs = tmpdir, .sysfs = tmpdir, .rootfs = "/", .udev_data = tmpdir };
    return run(&p, out, err, errlen);
}

/* Every prefix of the ok file either fails or, when it ends at a line
 * boundary, yields only samples the whole file yields too. */
static void test_prefixes(void **unused)
{
    (void)unused;
    coll_test_prefixes(DATA "/ok/proc", "/diskstats", run_text, true);
}

/* Field counts and values: 14/18/20+ accepted, others refused. */
static void test_lines(void **unused)
{
    (void)unused;
#define T(s) s, sizeof(s) - 1
    static const struct {
        const char *text;
        size_t len;
        int rc;
        const char *want; /* a line of the output, or NULL */
    } cases[] = {
        { T("8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n"), 0,
          "node_disk_io_time_weighted_seconds_total{device=\"sda\"} 0.011\n" },
        { T("8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n"), 0,
          "node_disk_discard_time_seconds_total{device=\"sda\"} 0.015\n" },
        { T("8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19\n"), 0,
          "node_disk_flush_requests_time_seconds_total{device=\"sda\"} 0.017\n" },
        { T("8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 x y\n"), 0,
          "node_disk_flush_requests_total{device=\"sda\"} 16\n" },
        { T("\n\t \n8\t0\tsda 1 2 3 4 5 6 7 8 9 10 11\n\n"), 0, "node_disk_reads_completed_total{device=\"sda\"} 1\n" },
        { T("8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12\n"), -1, NULL },
        { T("8 0 sda 1 2 3 4 5 6 7 8 9 10\n"), -1, NULL },
        { T("8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"), -1, NULL },
        { T("8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18\n"), 0,
          "node_disk_flush_requests_time_seconds_total{device=\"sda\"} 0.017\n" },
        { T("8 0 sda 1 2 3 4 5 6 7 8 9 10 -11\n"), -1, NULL },
        { T("8 0 sda 1 2 3 4 5 6 7 8 9 10 +11\n"), -1, NULL },
        { T("8 0 sda 1 2 3 4 5 6 7 8 9 10 18446744073709551616\n"), -1, NULL },
        { T("8 0 sda 1 2 3 4 5 6 7 8 9 10 18446744073709551615\n"), 0,
          "node_disk_io_time_weighted_seconds_total{device=\"sda\"} 1.844674407370955e+16\n" },
        { T("4294967296 0 sda 1 2 3 4 5 6 7 8 9 10 11\n"), -1, NULL },
        { T("4294967295 0 sda 1 2 3 4 5 6 7 8 9 10 11\n"), 0, "major=\"4294967295\"" },
        { T("8 0 sda 1 2 3 4 5 6 7 8 9 10 1\x00"
            "1\n"),
          -1, NULL },
        { T("8 0 sda 1 2 3 4 5 6 7 8 9 10 11"), -1, NULL },
        { T(""), 0, NULL },
        { T("7 0 loop0 1 2 3 4 5 6 7 8 9 10 11\n1 1 ram1 1 2 3 4 5 6 7 8 9 10 11\n"), 0, NULL },
        { T("8 1 sda1 1 2 3 4 5 6 7 8 9 10 11\n259 1 nvme0n1p1 1 2 3 4 5 6 7 8 9 10 11\n"), 0, NULL },
        { T("8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n8 1 sda1\n"), -1, NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_t out;
        buf_init(&out);
        char err[256];
        int rc = run_text(cases[i].text, cases[i].len, &out, err, sizeof(err));
        coll_test_expect_case(i, rc, cases[i].rc, err, &out, cases[i].want);
        buf_fini(&out);
    }
#undef T
}

/* Two collections on one state give the same output. */
static void test_steady(void **unused)
{
    (void)unused;
    coll_paths_t p = {
        .procfs = DATA "/ok/proc", .sysfs = DATA "/ok/sys", .rootfs = "/", .udev_data = DATA "/ok/udev"
    };
    buf_t out;
    buf_init(&out);
    char err[256];
    assert_int_equal(coll_test_run(&coll_diskstats_def, &p, 0, 2, &out, err, sizeof(err)), 0);
    buf_fini(&out);
    coll_diskstats_def.fini(NULL);
}

static int setup(void **unused)
{
    (void)unused;
    return coll_test_mkdtemp(tmpdir, sizeof(tmpdir), "test_coll_diskstats");
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
        cmocka_unit_test(test_fixtures), cmocka_unit_test(test_no_udev), cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_lines),    cmocka_unit_test(test_steady),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for agent/coll_mdadm.c: fixture trees (ok against node_exporter
 * 1.5's own output on the same tree: raid0/1/5/6/linear, inactive,
 * recovery, resync, check, PENDING/DELAYED, bitmaps; malformed, truncated,
 * missing), every prefix of the ok file, and named hostile arrays. */
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

extern const coll_def_t coll_mdadm_def;

#define DATA PHAROS_TEST_DATA "/agent/mdadm"

static char tmpdir[64];

/* Run the collector once; render into out when it succeeds. */
static int run(const char *procfs, buf_t *out, char *err, size_t errlen)
{
    coll_paths_t p = { .procfs = procfs, .sysfs = "/sys", .rootfs = "/", .udev_data = "/run/udev/data" };
    return coll_test_run(&coll_mdadm_def, &p, 0, 1, out, err, errlen);
}

static int run_text(const char *text, size_t len, buf_t *out, char *err, size_t errlen)
{
    coll_test_put(tmpdir, "/mdstat", text, len);
    return run(tmpdir, out, err, errlen);
}

static void test_fixtures(void **unused)
{
    (void)unused;
    static const coll_test_case_t cases[] = {
        { "ok", 0, NULL },
        { "malformed", -1, "malformed array at line 5" },
        { "truncated", -1, "malformed array at line 5" },
        { "missing", -1, "no data" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char proc[512];
        snprintf(proc, sizeof(proc), "%s/%s/proc", DATA, cases[i].name);
        buf_t out;
        buf_init(&out);
        char err[256];
        int rc = run(proc, &out, err, sizeof(err));
        coll_test_expect_rc(cases[i].name, rc, cases[i].rc, err, cases[i].reason);
        coll_test_expect_rc(cases[i].name, rc, cases[i].rc, err, "/proc/mdstat");
        if (rc == 0) {
            coll_test_expect_golden(&out, DATA "/ok/expected.prom", NULL);
        }
        buf_fini(&out);
    }
}

/* Every prefix of the ok file fails, or yields only samples that the
 * whole file yields too (mdstat as the kernel writes it: the sync line
 * comes before the bitmap line). */
static void test_prefixes(void **unused)
{
    (void)unused;
    assert_true(coll_test_prefixes(DATA "/ok/proc", "/mdstat", run_text, false) > 10);
}

static void test_arrays(void **unused)
{
    (void)unused;
    static const struct {
        const char *text;
        int rc;
        const char *want; /* one output line, or NULL */
    } cases[] = {
        /* state and synced blocks from the sync line */
        { "md1 : active raid1 a[0] b[1]\n      100 blocks [2/2] [UU]\n      [=>..]  check = 5.0% (5/100) "
          "finish=1.0min speed=10K/sec\n\n",
          0, "node_md_blocks_synced{device=\"md1\"} 5\n" },
        { "md1 : active raid1 a[0] b[1]\n      100 blocks [2/2] [UU]\n      resync=PENDING\n\n", 0,
          "node_md_state{device=\"md1\",state=\"resync\"} 1\n" },
        /* "(auto-read-only)" right after the name: no state label is 1 */
        { "md1 : active(auto-read-only) raid1 a[0] b[1]\n      100 blocks [2/2] [UU]\n\n\n", 0,
          "node_md_state{device=\"md1\",state=\"active\"} 0\n" },
        /* the last [t/a] [U_] of the status line counts */
        { "md1 : active raid1 a[0]\n      100 blocks [9/9] [UU] x [3/2] [U_]\n\n\n", 0,
          "node_md_disks{device=\"md1\",state=\"active\"} 2\n" },
        /* raid0 and linear count their disks from the first line */
        { "md1 : active linear a[0] b[1] c[2]\n      100 blocks 0k rounding\n\n\n", 0,
          "node_md_disks_required{device=\"md1\"} 3\n" },
        /* a tab-indented line is an array line to procfs, too short here */
        { "md1 : active raid1 a[0] b[1]\n      100 blocks [2/2] [UU]\n\tbitmap\n\n", -1, NULL },
        { "md1 : active raid1 a[0] b[1]\n      -100 blocks [2/2] [UU]\n\n\n", -1, NULL },
        { "md1 : active raid1 a[0] b[1]\n      100 blocks [2/2] [UX]\n\n\n", -1, NULL },
        { "md1 : active raid1 a[0] b[1]\n      100 blocks [2/] [UU]\n\n\n", -1, NULL },
        { "md1 : active raid1 a[0] b[1]\n      100 blocks [99999999999999999999/2] [UU]\n\n\n", -1, NULL },
        { "md1 : active raid1 a[0] b[1]\n      100 blocks\n\n\n", -1, NULL },
        { "md1 : active raid1 a[0] b[1]\n\n\n\n", -1, NULL },
        { "md1 : active\n      100 blocks [2/2] [UU]\n\n\n", 0, "node_md_blocks{device=\"md1\"} 100\n" },
        { "md1 :\n      100 blocks [2/2] [UU]\n\n\n", -1, NULL },
        { "md1 : active raid1 a[0] b[1]\n      100 blocks [2/2] [UU]\n      recovery = 1% (1/100) "
          "finish=1min\n\n",
          -1, NULL },
        { "md1 : active raid1 a[0] b[1]\n      100 blocks [2/2] [UU]\n      recovery = x% (1/100) "
          "finish=1min speed=1K/s\n\n",
          -1, NULL },
        { "md1 : active raid1 a[0] b[1]\n      100 blocks [2/2] [UU]\n      recovery = 1% (1/) "
          "finish=1min speed=1K/s\n\n",
          -1, NULL },
        { "md1 : active raid1 a[0] b[1]\n      100 blocks [2/2] [UU]\n      recovery = 1% (7/100) "
          "finish=1min speed=1.5e3K/s\n\n",
          0, "node_md_blocks_synced{device=\"md1\"} 7\n" },
        { "Personalities : [raid1]\nunused devices: <none>\n", 0, NULL },
        { "", 0, NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_t out;
        buf_init(&out);
        char err[256];
        int rc = run_text(cases[i].text, strlen(cases[i].text), &out, err, sizeof(err));
        coll_test_expect_case(i, rc, cases[i].rc, err, &out, cases[i].want);
        buf_fini(&out);
    }
}

static int setup(void **unused)
{
    (void)unused;
    return coll_test_mkdtemp(tmpdir, sizeof(tmpdir), "test_coll_mdadm");
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
        cmocka_unit_test(test_fixtures),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_arrays),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

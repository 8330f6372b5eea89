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
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent_int.h"

extern const coll_def_t coll_mdadm_def;

#define DATA PHAROS_TEST_DATA "/agent/mdadm"

static char tmpdir[64];

/* Run the collector once; render into out when it succeeds. */
static int run(const char *procfs, buf_t *out, char *err, size_t errlen)
{
    coll_paths_t p = { .procfs = procfs, .sysfs = "/sys", .rootfs = "/", .udev_data = "/run/udev/data" };
    msink_t s;
    msink_init(&s);
    buf_t scratch;
    buf_init(&scratch);
    coll_ctx_t c = { .paths = &p, .now_ms = 0, .scratch = &scratch, .state = NULL };
    err[0] = 0;
    int rc = coll_mdadm_def.collect(&c, &s, err, errlen);
    buf_reset(out);
    if (rc == 0) {
        agent_expo_write(&s, out);
    }
    buf_fini(&scratch);
    msink_fini(&s);
    return rc;
}

static int run_text(const char *text, size_t len, buf_t *out, char *err, size_t errlen)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/mdstat", tmpdir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
    return run(tmpdir, out, err, errlen);
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
        { "malformed", -1, "malformed array at line 5" },
        { "truncated", -1, "malformed array at line 5" },
        { "missing", -1, "no data" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char proc[512];
        snprintf(proc, sizeof(proc), "%s/%s/proc", DATA, cases[i].name);
        buf_t out, want;
        buf_init(&out);
        buf_init(&want);
        char err[256];
        int rc = run(proc, &out, err, sizeof(err));
        if (rc != cases[i].rc) {
            fail_msg("case %s: rc %d, want %d (%s)", cases[i].name, rc, cases[i].rc, err);
        }
        if (rc == 0) {
            assert_int_equal(coll_read_file(DATA "/ok", "/expected.prom", &want, 1 << 20), 0);
            assert_string_equal((const char *)out.data, (const char *)want.data);
        } else if (strstr(err, cases[i].reason) == NULL || strstr(err, "/proc/mdstat") == NULL) {
            fail_msg("case %s: reason %s", cases[i].name, err);
        }
        buf_fini(&out);
        buf_fini(&want);
    }
}

/* Every prefix of the ok file fails, or yields only samples that the
 * whole file yields too (mdstat as the kernel writes it: the sync line
 * comes before the bitmap line). */
static void test_prefixes(void **unused)
{
    (void)unused;
    buf_t full, whole, out;
    buf_init(&full);
    buf_init(&whole);
    buf_init(&out);
    assert_int_equal(coll_read_file(DATA "/ok/proc", "/mdstat", &full, 1 << 20), 0);
    char err[256];
    assert_int_equal(run_text((const char *)full.data, full.len, &whole, err, sizeof(err)), 0);
    size_t ok = 0;
    for (size_t n = 0; n <= full.len; n++) {
        int rc = run_text((const char *)full.data, n, &out, err, sizeof(err));
        if (n > 0 && full.data[n - 1] != '\n') {
            assert_int_equal(rc, -1);
        }
        if (rc != 0) {
            continue;
        }
        ok++;
        for (const char *line = out.len ? (const char *)out.data : ""; *line;) {
            const char *nl = strchr(line, '\n');
            assert_non_null(nl);
            char want[512];
            snprintf(want, sizeof(want), "%.*s", (int)(nl - line + 1), line);
            if (strstr((const char *)whole.data, want) == NULL) {
                fail_msg("prefix %zu: %s not in the whole output", n, want);
            }
            line = nl + 1;
        }
    }
    assert_true(ok > 10);
    buf_fini(&full);
    buf_fini(&whole);
    buf_fini(&out);
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

static int setup(void **unused)
{
    (void)unused;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_coll_mdadm.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **unused)
{
    (void)unused;
    char path[256];
    snprintf(path, sizeof(path), "%s/mdstat", tmpdir);
    unlink(path);
    rmdir(tmpdir);
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

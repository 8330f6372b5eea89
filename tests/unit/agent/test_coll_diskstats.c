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
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent_int.h"

extern const coll_def_t coll_diskstats_def;

#define DATA PHAROS_TEST_DATA "/agent/diskstats"

typedef struct tcase {
    const char *name;
    int rc;
} tcase_t;

/* Run the collector once on fresh state; render into out when it succeeds. */
static int run(const coll_paths_t *p, buf_t *out, char *err, size_t errlen)
{
    void *state = NULL;
    assert_int_equal(coll_diskstats_def.init(&state, err, errlen), 0);
    msink_t s;
    msink_init(&s);
    buf_t scratch;
    buf_init(&scratch);
    coll_ctx_t c = { .paths = p, .now_ms = 0, .scratch = &scratch, .state = state };
    err[0] = 0;
    int rc = coll_diskstats_def.collect(&c, &s, err, errlen);
    buf_reset(out);
    if (rc == 0) {
        agent_expo_write(&s, out);
    }
    buf_fini(&scratch);
    msink_fini(&s);
    coll_diskstats_def.fini(state);
    return rc;
}

static void tree(const char *name, char *buf, size_t n, const char *sub)
{
    snprintf(buf, n, "%s/%s/%s", DATA, name, sub);
}

static void test_fixtures(void **unused)
{
    (void)unused;
    static const tcase_t cases[] = {
        { "ok", 0 },
        { "malformed", -1 },
        { "truncated", -1 },
        { "missing", -1 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char proc[512], sys[512];
        tree(cases[i].name, proc, sizeof(proc), "proc");
        tree(cases[i].name, sys, sizeof(sys), "sys");
        coll_paths_t p = { .procfs = proc, .sysfs = sys, .rootfs = "/", .udev_data = DATA "/ok/udev" };
        buf_t out, want;
        buf_init(&out);
        buf_init(&want);
        char err[256];
        int rc = run(&p, &out, err, sizeof(err));
        if (rc != cases[i].rc) {
            fail_msg("case %s: rc %d, want %d (%s)", cases[i].name, rc, cases[i].rc, err);
        }
        if (rc == 0) {
            assert_int_equal(coll_read_file(DATA "/ok", "/expected.prom", &want, 1 << 20), 0);
            assert_string_equal((const char *)out.data, (const char *)want.data);
        } else {
            assert_non_null(strstr(err, "/proc/diskstats"));
        }
        buf_fini(&out);
        buf_fini(&want);
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

static void write_file(const char *rel, const char *data, size_t len)
{
    char path[256];
    snprintf(path, sizeof(path), "%s%s", tmpdir, rel);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static int run_text(const char *text, size_t len, buf_t *out, char *err, size_t errlen)
{
    write_file("/diskstats", text, len);
    coll_paths_t p = { .procfs = tmpdir, .sysfs = tmpdir, .rootfs = "/", .udev_data = tmpdir };
    return run(&p, out, err, errlen);
}

/* Every prefix of the ok file either fails or, when it ends at a line
 * boundary, yields only samples the whole file yields too. */
static void test_prefixes(void **unused)
{
    (void)unused;
    buf_t full, whole, out;
    buf_init(&full);
    buf_init(&whole);
    buf_init(&out);
    assert_int_equal(coll_read_file(DATA "/ok/proc", "/diskstats", &full, 1 << 20), 0);
    char err[256];
    assert_int_equal(run_text((const char *)full.data, full.len, &whole, err, sizeof(err)), 0);
    for (size_t n = 0; n <= full.len; n++) {
        int rc = run_text((const char *)full.data, n, &out, err, sizeof(err));
        bool boundary = n == 0 || full.data[n - 1] == '\n';
        assert_int_equal(rc, boundary ? 0 : -1);
        if (rc != 0) {
            continue;
        }
        const char *line = (const char *)out.data;
        while (line && *line) {
            const char *nl = strchr(line, '\n');
            assert_non_null(nl);
            char want[1024];
            snprintf(want, sizeof(want), "%.*s", (int)(nl - line + 1), line);
            assert_non_null(strstr((const char *)whole.data, want));
            line = nl + 1;
        }
    }
    buf_fini(&full);
    buf_fini(&whole);
    buf_fini(&out);
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
#undef T
}

/* Two collections on one state give the same output. */
static void test_steady(void **unused)
{
    (void)unused;
    coll_paths_t p = {
        .procfs = DATA "/ok/proc", .sysfs = DATA "/ok/sys", .rootfs = "/", .udev_data = DATA "/ok/udev"
    };
    void *state = NULL;
    char err[256];
    assert_int_equal(coll_diskstats_def.init(&state, err, sizeof(err)), 0);
    buf_t scratch, a, b;
    buf_init(&scratch);
    buf_init(&a);
    buf_init(&b);
    msink_t s;
    msink_init(&s);
    coll_ctx_t c = { .paths = &p, .scratch = &scratch, .state = state };
    assert_int_equal(coll_diskstats_def.collect(&c, &s, err, sizeof(err)), 0);
    agent_expo_write(&s, &a);
    msink_reset(&s);
    assert_int_equal(coll_diskstats_def.collect(&c, &s, err, sizeof(err)), 0);
    agent_expo_write(&s, &b);
    assert_string_equal((const char *)a.data, (const char *)b.data);
    msink_fini(&s);
    buf_fini(&scratch);
    buf_fini(&a);
    buf_fini(&b);
    coll_diskstats_def.fini(state);
    coll_diskstats_def.fini(NULL);
}

static int setup(void **unused)
{
    (void)unused;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_coll_diskstats.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **unused)
{
    (void)unused;
    char path[256];
    snprintf(path, sizeof(path), "%s/diskstats", tmpdir);
    unlink(path);
    rmdir(tmpdir);
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

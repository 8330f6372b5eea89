/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for agent/agent_journal.c. Journal files are made inside the test
 * from hand-written export files (tests/data/agent/journal/NAME.export) with
 * systemd-journal-remote, then read through opts.path: entries in order
 * with labels, metadata and message; unit and priority filters; resume
 * from a cursor (exact entry skipped, nearest entry kept when the exact
 * one is gone); following a new file; binary and oversized fields; a
 * 10,000-entry journal with its throughput printed (not asserted). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent_int.h"

#define JREMOTE "/usr/lib/systemd/systemd-journal-remote"
#define JDATA PHAROS_TEST_DATA "/agent/journal/"

typedef struct fx {
    char dir[64];
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/pharos-journal-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

/* <dir>/<sub>/<name>.journal from an export file (appended when it exists).
 * Skips the test when systemd-journal-remote is not installed. */
static void make_journal(const fx_t *f, const char *sub, const char *name, const char *export_path)
{
    if (access(JREMOTE, X_OK) != 0) {
        print_message("skipped: %s not found (Debian package systemd-journal-remote; scripts/deps.sh test)\n", JREMOTE);
        skip();
    }
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "mkdir -p %s/%s && %s -o %s/%s/%s.journal %s 2>/dev/null", f->dir, sub, JREMOTE, f->dir,
             sub, name, export_path);
    assert_int_equal(system(cmd), 0);
}

static agent_journal_t *open_j(const fx_t *f, const char *sub, const char *const *units, size_t nunits, int maxp,
                               const char *cursor)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", f->dir, sub);
    agent_journal_opts_t o = { .path = path, .units = units, .nunits = nunits, .max_priority = maxp };
    agent_journal_t *j = NULL;
    char err[256] = "";
    int r = agent_journal_open(&o, cursor, &j, err, sizeof(err));
    if (r != 0) {
        fail_msg("open: %s", err);
    }
    return j;
}

static bool str_is(str_t s, const char *c)
{
    return s.len == strlen(c) && memcmp(s.p, c, s.len) == 0;
}

/* Read every entry; returns the messages joined by '|'. */
static void read_msgs(agent_journal_t *j, char *out, size_t outlen)
{
    agent_journal_entry_t e;
    char err[256] = "";
    size_t n = 0;
    out[0] = 0;
    int r;
    while ((r = agent_journal_next(j, &e, err, sizeof(err))) == 1) {
        int w = snprintf(out + n, outlen - n, "%s%.*s", n ? "|" : "", (int)e.message.len, e.message.p);
        assert_true(w > 0 && (size_t)w < outlen - n);
        n += (size_t)w;
    }
    assert_int_equal(r, 0);
}

/* labels or meta as "name=value,..." */
static void join(const label_t *ls, size_t n, char *out, size_t outlen)
{
    size_t k = 0;
    out[0] = 0;
    for (size_t i = 0; i < n; i++) {
        k += (size_t)snprintf(out + k, outlen - k, "%s%.*s=%.*s", i ? "," : "", (int)ls[i].name.len, ls[i].name.p,
                              (int)ls[i].value.len, ls[i].value.p);
    }
}

typedef struct want {
    int64_t ts_ns;
    const char *msg;
    const char *labels;
    const char *meta;
} want_t;

#define BOOT "boot_id=5c1f2e3d4b5a69788796a5b4c3d2e1f0"
static const want_t basic_want[] = {
    { 1700000001000000000, "Accepted publickey for root from 10.0.0.7 port 50022 ssh2",
      "host=node1,identifier=sshd,level=info,transport=syslog,unit=sshd.service",
      BOOT ",cmdline=sshd: root [priv],comm=sshd,exe=/usr/sbin/sshd,gid=0,machine_id=0f1e2d3c4b5a69788796a5b4c3d2e1f0,"
           "pid=101,syslog_facility=4,syslog_pid=101,systemd_slice=system.slice,uid=0" },
    { 1700000002000000000, "(root) FAILED to open PAM security session",
      "host=node1,identifier=CRON,level=error,transport=stdout,unit=cron.service", BOOT ",comm=cron,pid=202" },
    { 1700000003000000000, "Failed password for invalid user admin from 10.0.0.9",
      "host=node1,identifier=sshd,level=warning,transport=syslog,unit=sshd.service", BOOT ",comm=sshd,pid=103" },
    { 1700000004000000000, "Kernel panic - not syncing: VFS: Unable to mount root fs",
      "host=node1,identifier=kernel,level=emerg,transport=kernel", BOOT ",syslog_facility=0" },
    { 1700000005000000000, "bare entry", "level=9", BOOT },
    { 1700000006000000000, "", "host=node1,identifier=sshd,level=debug,transport=journal,unit=sshd.service",
      BOOT ",code_file=src/auth.c,code_func=auth_check,code_line=42,errno=13,pid=104" },
};

static void test_all_entries(void **state)
{
    fx_t *f = *state;
    make_journal(f, "j", "x", JDATA "basic.export");
    agent_journal_t *j = open_j(f, "j", NULL, 0, -1, NULL);
    agent_journal_entry_t e;
    char err[256] = "", got[1024];
    for (size_t i = 0; i < sizeof(basic_want) / sizeof(basic_want[0]); i++) {
        assert_int_equal(agent_journal_next(j, &e, err, sizeof(err)), 1);
        assert_int_equal(e.ts_ns, basic_want[i].ts_ns);
        assert_true(str_is(e.message, basic_want[i].msg));
        join(e.labels, e.nlabels, got, sizeof(got));
        assert_string_equal(got, basic_want[i].labels);
        join(e.meta, e.nmeta, got, sizeof(got));
        assert_string_equal(got, basic_want[i].meta);
        assert_false(e.truncated);
        const char *c = agent_journal_cursor(j);
        assert_non_null(c);
        assert_non_null(strstr(c, "i="));
    }
    assert_int_equal(agent_journal_next(j, &e, err, sizeof(err)), 0);
    assert_int_equal(agent_journal_next(j, &e, err, sizeof(err)), 0);
    agent_journal_stats_t st;
    agent_journal_stats(j, &st);
    assert_int_equal(st.corrupt, 0);
    assert_int_equal(st.truncated, 0);
    agent_journal_close(j);
}

#define M1 "Accepted publickey for root from 10.0.0.7 port 50022 ssh2"
#define M2 "(root) FAILED to open PAM security session"
#define M3 "Failed password for invalid user admin from 10.0.0.9"
#define M4 "Kernel panic - not syncing: VFS: Unable to mount root fs"
#define M5 "bare entry"

typedef struct filter_case {
    const char *units[2];
    size_t nunits;
    int maxp;
    const char *want;
} filter_case_t;

static void test_filters(void **state)
{
    fx_t *f = *state;
    make_journal(f, "j", "x", JDATA "basic.export");
    static const filter_case_t cases[] = {
        { { "sshd.service" }, 1, -1, M1 "|" M3 "|" },
        { { "sshd.service", "cron.service" }, 2, -1, M1 "|" M2 "|" M3 "|" },
        { { "nope.service" }, 1, -1, "" },
        { { NULL }, 0, 3, M2 "|" M4 },
        { { NULL }, 0, 0, M4 },
        { { "sshd.service" }, 1, 4, M3 },
        { { "sshd.service", "cron.service" }, 2, 4, M2 "|" M3 },
        { { NULL }, 0, 7, M1 "|" M2 "|" M3 "|" M4 "|" M5 "|" },
        { { NULL }, 0, -1, M1 "|" M2 "|" M3 "|" M4 "|" M5 "|" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        agent_journal_t *j = open_j(f, "j", cases[i].units, cases[i].nunits, cases[i].maxp, NULL);
        char got[1024];
        read_msgs(j, got, sizeof(got));
        if (strcmp(got, cases[i].want) != 0) {
            fail_msg("case %zu: got '%s' want '%s'", i, got, cases[i].want);
        }
        agent_journal_close(j);
    }
}

/* The cursor of the n-th entry (1-based) of sub, into out. */
static void cursor_of(const fx_t *f, const char *sub, int n, char *out, size_t outlen)
{
    agent_journal_t *j = open_j(f, sub, NULL, 0, -1, NULL);
    agent_journal_entry_t e;
    char err[256] = "";
    for (int i = 0; i < n; i++) {
        assert_int_equal(agent_journal_next(j, &e, err, sizeof(err)), 1);
    }
    snprintf(out, outlen, "%s", agent_journal_cursor(j));
    agent_journal_close(j);
}

static void test_resume(void **state)
{
    fx_t *f = *state;
    make_journal(f, "j", "x", JDATA "basic.export");
    make_journal(f, "gap", "x", JDATA "gap.export");
    char c3[512], c6[512], got[1024];
    cursor_of(f, "j", 3, c3, sizeof(c3));
    cursor_of(f, "j", 6, c6, sizeof(c6));

    /* Same journal: exactly the entries after the cursor's. */
    agent_journal_t *j = open_j(f, "j", NULL, 0, -1, c3);
    read_msgs(j, got, sizeof(got));
    assert_string_equal(got, M4 "|" M5 "|");
    agent_journal_close(j);
    j = open_j(f, "j", NULL, 0, -1, c6);
    read_msgs(j, got, sizeof(got));
    assert_string_equal(got, "");
    agent_journal_close(j);

    /* A filter that excludes the cursor's entry: the nearest match is kept. */
    static const char *const sshd[] = { "sshd.service" };
    char c2[512];
    cursor_of(f, "j", 2, c2, sizeof(c2));
    j = open_j(f, "j", sshd, 1, -1, c2);
    read_msgs(j, got, sizeof(got));
    assert_string_equal(got, M3 "|");
    agent_journal_close(j);

    /* A journal without entry 3: the seek lands on entry 4, which is new. */
    j = open_j(f, "gap", NULL, 0, -1, c3);
    read_msgs(j, got, sizeof(got));
    assert_string_equal(got, M4 "|" M5 "|");
    agent_journal_close(j);
}

/* Two files as after a rotation; vacuuming the first removes the cursor's
 * entry, and the seek then lands on the next file's first entry. */
static void test_vacuum(void **state)
{
    fx_t *f = *state;
    make_journal(f, "r", "x1", JDATA "rot1.export");
    make_journal(f, "r", "x2", JDATA "rot2.export");
    char got[1024], c3[512], path[256];
    agent_journal_t *j = open_j(f, "r", NULL, 0, -1, NULL);
    read_msgs(j, got, sizeof(got));
    assert_string_equal(got, "r1|r2|r3|r4|r5|r6");
    agent_journal_close(j);
    cursor_of(f, "r", 3, c3, sizeof(c3));
    j = open_j(f, "r", NULL, 0, -1, c3);
    read_msgs(j, got, sizeof(got));
    assert_string_equal(got, "r4|r5|r6");
    agent_journal_close(j);

    snprintf(path, sizeof(path), "%s/r/x1.journal", f->dir);
    assert_int_equal(unlink(path), 0);
    j = open_j(f, "r", NULL, 0, -1, c3);
    read_msgs(j, got, sizeof(got));
    assert_string_equal(got, "r4|r5|r6");
    agent_journal_close(j);
}

/* A file appearing in the directory (rotation) is followed after wait. */
static void test_follow(void **state)
{
    fx_t *f = *state;
    make_journal(f, "r", "x1", JDATA "rot1.export");
    agent_journal_t *j = open_j(f, "r", NULL, 0, -1, NULL);
    char got[1024];
    read_msgs(j, got, sizeof(got));
    assert_string_equal(got, "r1|r2|r3");
    assert_true(agent_journal_wait(j, 0) >= 0);
    make_journal(f, "r", "x2", JDATA "rot2.export");
    agent_journal_entry_t e;
    char err[256] = "";
    size_t n = 0;
    for (int tries = 0; tries < 50 && n < 3; tries++) {
        int r = agent_journal_next(j, &e, err, sizeof(err));
        assert_true(r >= 0);
        if (r == 1) {
            char want[8];
            snprintf(want, sizeof(want), "r%zu", 4 + n++);
            assert_true(str_is(e.message, want));
        } else {
            assert_true(agent_journal_wait(j, 100) >= 0);
        }
    }
    assert_int_equal(n, 3);
    assert_int_equal(agent_journal_next(j, &e, err, sizeof(err)), 0);
    agent_journal_close(j);
}

static void test_binary(void **state)
{
    fx_t *f = *state;
    make_journal(f, "j", "x", JDATA "binary.export");
    agent_journal_t *j = open_j(f, "j", NULL, 0, -1, NULL);
    agent_journal_entry_t e;
    char err[256] = "", got[256];
    assert_int_equal(agent_journal_next(j, &e, err, sizeof(err)), 1);
    static const char want[] = "bin\0\xff\xfe\n\001tail";
    assert_int_equal(e.message.len, sizeof(want) - 1);
    assert_memory_equal(e.message.p, want, sizeof(want) - 1);
    join(e.labels, e.nlabels, got, sizeof(got));
    assert_string_equal(got, "level=notice,unit=bin.service");
    assert_int_equal(agent_journal_next(j, &e, err, sizeof(err)), 1);
    assert_true(str_is(e.message, "text after binary"));
    assert_int_equal(e.nlabels, 0);
    assert_int_equal(agent_journal_next(j, &e, err, sizeof(err)), 0);
    agent_journal_close(j);
}

/* A 70,000-byte MESSAGE and a 100-byte one (binary export form). */
static void test_truncate(void **state)
{
    fx_t *f = *state;
    char path[256];
    snprintf(path, sizeof(path), "%s/big.export", f->dir);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    static const uint64_t sizes[] = { 70000, 100 };
    for (int i = 0; i < 2; i++) {
        fprintf(fp, "__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=5c1f2e3d4b5a69788796a5b4c3d2e1f0\n",
                1000000 * (i + 1), 1000 * (i + 1));
        fputs("MESSAGE\n", fp);
        uint8_t le[8];
        for (int b = 0; b < 8; b++) {
            le[b] = (uint8_t)(sizes[i] >> (8 * b));
        }
        fwrite(le, 1, 8, fp);
        for (uint64_t k = 0; k < sizes[i]; k++) {
            fputc('a' + (int)(k % 26), fp);
        }
        fputs("\n\n", fp);
    }
    assert_int_equal(fclose(fp), 0);
    make_journal(f, "j", "x", path);
    agent_journal_t *j = open_j(f, "j", NULL, 0, -1, NULL);
    agent_journal_entry_t e;
    char err[256] = "";
    assert_int_equal(agent_journal_next(j, &e, err, sizeof(err)), 1);
    assert_int_equal(e.message.len, AGENT_JOURNAL_FIELD_MAX);
    assert_true(e.truncated);
    assert_int_equal(e.message.p[0], 'a');
    assert_int_equal(e.message.p[AGENT_JOURNAL_FIELD_MAX - 1], 'a' + (AGENT_JOURNAL_FIELD_MAX - 1) % 26);
    assert_int_equal(agent_journal_next(j, &e, err, sizeof(err)), 1);
    assert_int_equal(e.message.len, 100);
    assert_false(e.truncated);
    agent_journal_stats_t st;
    agent_journal_stats(j, &st);
    assert_int_equal(st.truncated, 1);
    agent_journal_close(j);
}

/* A realtime stamp past int64 nanoseconds (a damaged or hostile file)
 * would wrap to a negative time: the entry is skipped as corrupt. */
static void test_time_overflow(void **state)
{
    fx_t *f = *state;
    char path[256];
    snprintf(path, sizeof(path), "%s/late.export", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    static const unsigned long long stamps[] = { 1000000ULL, 18000000000000000ULL };
    for (int i = 0; i < 2; i++) {
        fprintf(fp,
                "__REALTIME_TIMESTAMP=%llu\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=5c1f2e3d4b5a69788796a5b4c3d2e1f0\n"
                "MESSAGE=m%d\n\n",
                stamps[i], 1000 * (i + 1), i);
    }
    assert_int_equal(fclose(fp), 0);
    make_journal(f, "j", "x", path);
    agent_journal_t *j = open_j(f, "j", NULL, 0, -1, NULL);
    agent_journal_entry_t e;
    char err[256] = "";
    assert_int_equal(agent_journal_next(j, &e, err, sizeof(err)), 1);
    assert_true(str_is(e.message, "m0"));
    assert_int_equal(e.ts_ns, 1000000000LL);
    assert_int_equal(agent_journal_next(j, &e, err, sizeof(err)), 0);
    agent_journal_stats_t st;
    agent_journal_stats(j, &st);
    assert_int_equal(st.corrupt, 1);
    agent_journal_close(j);
}

static void test_bad_cursor(void **state)
{
    fx_t *f = *state;
    make_journal(f, "j", "x", JDATA "rot1.export");
    char path[256], err[256] = "";
    snprintf(path, sizeof(path), "%s/j", f->dir);
    agent_journal_opts_t o = { .path = path, .max_priority = -1 };
    agent_journal_t *j = (agent_journal_t *)1;
    assert_int_equal(agent_journal_open(&o, "not a cursor", &j, err, sizeof(err)), -1);
    assert_null(j);
    assert_non_null(strstr(err, "seek"));
}

#define BIG_N 10000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_many(void **state)
{
    fx_t *f = *state;
    char path[256];
    snprintf(path, sizeof(path), "%s/many.export", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    static const char *const transports[] = { "syslog", "journal", "stdout" };
    for (int i = 0; i < BIG_N; i++) {
        fprintf(fp,
                "__REALTIME_TIMESTAMP=%lld\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=5c1f2e3d4b5a69788796a5b4c3d2e1f0\n"
                "_HOSTNAME=node1\n_TRANSPORT=%s\n_SYSTEMD_UNIT=svc%d.service\nSYSLOG_IDENTIFIER=svc%d\nPRIORITY=%d\n"
                "_PID=%d\n_UID=1000\n_GID=1000\n_COMM=svc%d\n_EXE=/usr/bin/svc%d\n"
                "MESSAGE=request %d served in %d ms status=200 path=/api/v1/items/%d\n\n",
                1700000000000000LL + i * 1000LL, 1000 + i, transports[i % 3], i % 20, i % 20, i % 8, 1000 + i % 50,
                i % 20, i % 20, i, i % 97, i * 7);
    }
    assert_int_equal(fclose(fp), 0);
    make_journal(f, "j", "x", path);

    agent_journal_t *j = open_j(f, "j", NULL, 0, -1, NULL);
    agent_journal_entry_t e;
    char err[256] = "";
    size_t n = 0, bytes = 0;
    int64_t last = 0;
    double t0 = now_s();
    int r;
    while ((r = agent_journal_next(j, &e, err, sizeof(err))) == 1) {
        assert_true(e.ts_ns > last);
        last = e.ts_ns;
        assert_int_equal(e.nlabels, 5);
        bytes += e.message.len;
        n++;
    }
    double dt = now_s() - t0;
    assert_int_equal(r, 0);
    assert_int_equal(n, BIG_N);
    print_message("journal read: %zu entries (%zu message bytes) in %.3f s: %.0f entries/s (one core)\n", n, bytes, dt,
                  (double)n / dt);
    agent_journal_close(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_all_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vacuum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_overflow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_cursor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

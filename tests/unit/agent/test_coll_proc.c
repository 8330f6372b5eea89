/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for the /proc and /sys collectors agent/coll_{cpu,stat,meminfo,
 * loadavg,pressure,vmstat,uname,time,filefd}.c, on the fixture trees in
 * tests/data/agent/<collector>/<case>/{proc,sys}.
 *
 * - Cases: every tree is collected; "ok"-like trees are rendered with
 *   agent_expo_write and compared byte for byte with expected.prom, which
 *   is node_exporter 1.5.0's own output on that tree (other collectors'
 *   and scrape metrics stripped). Two adjustments, made in the golden
 *   files: node_time_seconds is the test's fixed clock (1700000000123 ms)
 *   and uname's machine is this host's (the goldens say x86_64; the test
 *   substitutes uname(2)'s machine).
 * - Malformed, truncated and missing trees must fail with a reason.
 * - Truncation: each collector's main file is cut at every length in a
 *   temporary copy of its ok tree; a cut without the final '\n' must fail,
 *   and a collection that succeeds may only report samples (name, labels,
 *   value) that the whole file reports.
 * - Hostile inputs, the cpu collector's counter state across collections
 *   (checked against node_exporter's behaviour), the time zone, and that a
 *   steady collection allocates nothing through mem_*.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent_int.h"
#include "agent/coll_text.h"
#include "coll_testlib.h"
#include "common/mem.h"

extern const coll_def_t coll_cpu_def;
extern const coll_def_t coll_stat_def;
extern const coll_def_t coll_meminfo_def;
extern const coll_def_t coll_loadavg_def;
extern const coll_def_t coll_pressure_def;
extern const coll_def_t coll_vmstat_def;
extern const coll_def_t coll_uname_def;
extern const coll_def_t coll_time_def;
extern const coll_def_t coll_filefd_def;

#define DATA PHAROS_TEST_DATA "/agent"
#define NOW_MS 1700000000123LL

/* ---- helpers ------------------------------------------------------------ */

/* Collect from the tree at root into the runner's reset sink at NOW_MS;
 * returns collect's rc (on failure the sink is rolled back). */
static int runner_collect(coll_test_runner_t *r, const char *root)
{
    coll_test_tree_paths_t t;
    return coll_test_runner_collect(r, coll_test_tree_paths(&t, root), NOW_MS);
}

/* The sink as exposition text, NUL-terminated (caller frees). */
static char *render(const msink_t *s)
{
    buf_t b;
    buf_init(&b);
    agent_expo_write(s, &b);
    buf_putc(&b, 0);
    size_t len;
    return (char *)buf_steal(&b, &len);
}

/* ---- temporary trees ------------------------------------------------------ */

typedef struct tree {
    char root[256];
} tree_t;

/* Copy the tree at src into the existing directory dst. */
static void copy_tree(const char *src, const char *dst)
{
    DIR *d = opendir(src);
    assert_non_null(d);
    buf_t data;
    buf_init(&data);
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        char from[1024], to[1024];
        snprintf(from, sizeof(from), "%s/%s", src, e->d_name);
        snprintf(to, sizeof(to), "%s/%s", dst, e->d_name);
        struct stat sb;
        assert_int_equal(lstat(from, &sb), 0);
        if (S_ISDIR(sb.st_mode)) {
            coll_test_mkdir(dst, e->d_name);
            copy_tree(from, to);
        } else if (S_ISREG(sb.st_mode)) {
            assert_int_equal(coll_read_file(from, "", &data, 1 << 20), 0);
            coll_test_put(dst, e->d_name, data.data, data.len);
        }
    }
    buf_fini(&data);
    closedir(d);
}

/* A fresh temporary copy of the tree at src (NULL: empty). */
static void tree_make(tree_t *t, const char *src)
{
    assert_int_equal(coll_test_mkdtemp(t->root, sizeof(t->root), "pharos_coll_proc"), 0);
    if (src) {
        copy_tree(src, t->root);
    }
}

/* Write rel (relative to the tree; parents made). */
static void tree_put(tree_t *t, const char *rel, const char *content, size_t len)
{
    coll_test_put(t->root, rel, content, len);
}

static void tree_drop(tree_t *t)
{
    coll_test_rmtree(t->root, "");
}

/* ---- fixture cases --------------------------------------------------------- */

typedef struct fixture_case {
    const coll_def_t *def;
    const char *dir;    /* under tests/data/agent */
    int rc;             /* expected collect result */
    const char *reason; /* substring of err when rc == -1 */
    bool golden;        /* compare with <dir>/expected.prom */
} fixture_case_t;

static const fixture_case_t fixture_cases[] = {
    { &coll_cpu_def, "cpu/ok", 0, NULL, true },
    { &coll_cpu_def, "cpu/malformed", -1, "/proc/stat: malformed line 3", false },
    { &coll_cpu_def, "cpu/badid", -1, "/proc/stat: malformed line 4", false },
    { &coll_cpu_def, "cpu/truncated", -1, "/proc/stat: truncated", false },
    { &coll_cpu_def, "cpu/short", -1, "/proc/stat: malformed line 3", false },
    { &coll_cpu_def, "cpu/missing", -1, "/proc/stat: No such file", false },
    { &coll_stat_def, "stat/ok", 0, NULL, true },
    { &coll_stat_def, "stat/malformed", -1, "/proc/stat: malformed line 6", false },
    { &coll_stat_def, "stat/truncated", -1, "/proc/stat: truncated", false },
    { &coll_stat_def, "stat/nobtime", -1, "/proc/stat: no btime line", false },
    { &coll_stat_def, "stat/missing", -1, "/proc/stat: No such file", false },
    { &coll_meminfo_def, "meminfo/ok", 0, NULL, true },
    { &coll_meminfo_def, "meminfo/malformed", -1, "/proc/meminfo: malformed line 2", false },
    { &coll_meminfo_def, "meminfo/truncated", -1, "/proc/meminfo: truncated", false },
    { &coll_meminfo_def, "meminfo/onefield", -1, "/proc/meminfo: malformed line 20", false },
    { &coll_meminfo_def, "meminfo/dup", -1, "duplicate field MemFree_bytes", false },
    { &coll_meminfo_def, "meminfo/missing", -1, "/proc/meminfo: No such file", false },
    { &coll_loadavg_def, "loadavg/ok", 0, NULL, true },
    { &coll_loadavg_def, "loadavg/malformed", -1, "/proc/loadavg: malformed line 1", false },
    { &coll_loadavg_def, "loadavg/truncated", -1, "/proc/loadavg: truncated", false },
    { &coll_loadavg_def, "loadavg/missing", -1, "/proc/loadavg: No such file", false },
    { &coll_pressure_def, "pressure/ok", 0, NULL, true },
    { &coll_pressure_def, "pressure/malformed", -1, "/proc/pressure/io: malformed line 1", false },
    { &coll_pressure_def, "pressure/truncated", -1, "/proc/pressure/io: truncated", false },
    { &coll_pressure_def, "pressure/nofull", -1, "/proc/pressure/memory: no full line", false },
    { &coll_pressure_def, "pressure/missing", -1, "/proc/pressure/cpu: no data", false },
    { &coll_vmstat_def, "vmstat/ok", 0, NULL, true },
    { &coll_vmstat_def, "vmstat/malformed", -1, "/proc/vmstat: malformed line 1", false },
    { &coll_vmstat_def, "vmstat/truncated", -1, "/proc/vmstat: truncated", false },
    { &coll_vmstat_def, "vmstat/missing", -1, "/proc/vmstat: No such file", false },
    { &coll_uname_def, "uname/ok", 0, NULL, true },
    { &coll_uname_def, "uname/malformed", -1, "/proc/sys/kernel/hostname: malformed line 1", false },
    { &coll_uname_def, "uname/truncated", -1, "/proc/sys/kernel/osrelease: truncated", false },
    { &coll_uname_def, "uname/missing", -1, "/proc/sys/kernel/version: No such file", false },
    { &coll_time_def, "time/ok", 0, NULL, true },
    { &coll_time_def, "time/multi", 0, NULL, true },
    { &coll_time_def, "time/none", 0, NULL, true },
    { &coll_time_def, "time/malformed", -1, "clocksource0/available_clocksource: malformed or truncated", false },
    { &coll_time_def, "time/truncated", -1, "clocksource0/available_clocksource: malformed or truncated", false },
    { &coll_time_def, "time/missing", -1, "clocksource0/current_clocksource: No such file", false },
    { &coll_filefd_def, "filefd/ok", 0, NULL, true },
    { &coll_filefd_def, "filefd/malformed", -1, "/proc/sys/fs/file-nr: malformed line 1", false },
    { &coll_filefd_def, "filefd/truncated", -1, "/proc/sys/fs/file-nr: truncated", false },
    { &coll_filefd_def, "filefd/missing", -1, "/proc/sys/fs/file-nr: No such file", false },
};

/* b with this host's uname machine in place of x86_64 (the goldens'). */
static void fix_machine(buf_t *b)
{
    static const char from[] = "machine=\"x86_64\"";
    struct utsname u;
    assert_int_equal(uname(&u), 0);
    char to[128];
    snprintf(to, sizeof(to), "machine=\"%s\"", u.machine);
    buf_t o;
    buf_init(&o);
    const char *p = coll_test_text(b);
    for (const char *q; (q = strstr(p, from)) != NULL; p = q + strlen(from)) {
        buf_append(&o, p, (size_t)(q - p));
        buf_puts(&o, to);
    }
    buf_puts(&o, p);
    buf_reset(b);
    buf_append(b, o.data, o.len);
    buf_fini(&o);
}

static void test_fixture_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(fixture_cases) / sizeof(fixture_cases[0]); i++) {
        const fixture_case_t *fc = &fixture_cases[i];
        char root[1024];
        snprintf(root, sizeof(root), DATA "/%s", fc->dir);
        coll_test_runner_t r;
        coll_test_runner_init(&r, fc->def);
        int rc = runner_collect(&r, root);
        coll_test_expect_rc(fc->dir, rc, fc->rc, r.err, fc->reason);
        if (rc < 0) {
            assert_int_equal(r.sink.nsamples, 0);
        }
        if (fc->golden) {
            char path[1100];
            snprintf(path, sizeof(path), "%s/expected.prom", root);
            buf_t got;
            buf_init(&got);
            agent_expo_write(&r.sink, &got);
            coll_test_expect_golden(&got, path, fix_machine);
            buf_fini(&got);
        }
        coll_test_runner_fini(&r);
    }
}

/* ---- truncation at every length ------------------------------------------ */

typedef struct trunc_case {
    const coll_def_t *def;
    const char *tree; /* ok tree under tests/data/agent */
    const char *rel;  /* the file cut, relative to the tree */
} trunc_case_t;

static const trunc_case_t trunc_cases[] = {
    { &coll_cpu_def, "cpu/ok", "proc/stat" },
    { &coll_stat_def, "stat/ok", "proc/stat" },
    { &coll_meminfo_def, "meminfo/ok", "proc/meminfo" },
    { &coll_loadavg_def, "loadavg/ok", "proc/loadavg" },
    { &coll_pressure_def, "pressure/ok", "proc/pressure/io" },
    { &coll_vmstat_def, "vmstat/ok", "proc/vmstat" },
    { &coll_uname_def, "uname/ok", "proc/sys/kernel/version" },
    { &coll_time_def, "time/ok", "sys/devices/system/clocksource/clocksource0/available_clocksource" },
    { &coll_filefd_def, "filefd/ok", "proc/sys/fs/file-nr" },
    { &coll_cpu_def, "cpu/ok", "sys/devices/system/cpu/isolated" },
};

/* Every sample line of got is a line of full. */
static void assert_subset(const char *got, const char *full, const char *what, size_t cut)
{
    buf_t needle;
    buf_init(&needle);
    for (const char *p = got; *p;) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        if (p[0] != '#') {
            buf_reset(&needle);
            buf_putc(&needle, '\n');
            buf_append(&needle, p, (size_t)(nl - p) + 1);
            buf_putc(&needle, 0);
            if (!strstr(full, (const char *)needle.data)) {
                fail_msg("%s cut at %zu: sample \"%.*s\" not in the whole file's output", what, cut, (int)(nl - p), p);
            }
        }
        p = nl + 1;
    }
    buf_fini(&needle);
}

static void test_truncation(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(trunc_cases) / sizeof(trunc_cases[0]); i++) {
        const trunc_case_t *tc = &trunc_cases[i];
        char src[1024], path[2048];
        snprintf(src, sizeof(src), DATA "/%s", tc->tree);
        snprintf(path, sizeof(path), "%s/%s", src, tc->rel);
        buf_t whole;
        buf_init(&whole);
        assert_int_equal(coll_read_file(path, "", &whole, 1 << 20), 0);
        size_t len = whole.len;
        tree_t t;
        tree_make(&t, src);
        coll_test_runner_t r;
        coll_test_runner_init(&r, tc->def);
        assert_int_equal(runner_collect(&r, t.root), 0);
        char *full = render(&r.sink); /* every sample line follows a '\n' */
        coll_test_runner_fini(&r);
        for (size_t cut = 0; cut < len; cut++) {
            tree_put(&t, tc->rel, (const char *)whole.data, cut);
            coll_test_runner_init(&r, tc->def);
            int rc = runner_collect(&r, t.root);
            if (cut > 0 && whole.data[cut - 1] != '\n' && rc == 0) {
                fail_msg("%s cut at %zu (mid-line) was accepted", tc->rel, cut);
            }
            if (rc == 0) {
                char *got = render(&r.sink);
                assert_subset(got, full, tc->rel, cut);
                mem_free(got);
            } else {
                assert_true(r.err[0] != 0);
            }
            coll_test_runner_fini(&r);
        }
        mem_free(full);
        buf_fini(&whole);
        tree_drop(&t);
    }
}

/* ---- hostile and edge inputs ---------------------------------------------- */

typedef struct edge_case {
    const coll_def_t *def;
    const char *tree;    /* ok tree copied first */
    const char *rel;     /* file replaced (NULL content: removed) */
    const char *content; /* NUL-terminated unless len is set */
    size_t len;          /* 0: strlen(content) */
    int rc;
    const char *want; /* a line the output must hold when rc == 0, or NULL */
} edge_case_t;

#define STAT_TAIL "ctxt 1\nbtime 2\nprocesses 3\nprocs_running 4\nprocs_blocked 5\n"

static const edge_case_t edge_cases[] = {
    { &coll_loadavg_def, "loadavg/ok", "proc/loadavg", "\n", 0, -1, NULL },
    { &coll_loadavg_def, "loadavg/ok", "proc/loadavg", "0.1 0.2\n", 0, -1, NULL },
    { &coll_loadavg_def, "loadavg/ok", "proc/loadavg", "0.1\0 0.2 0.3 1/1 1\n", 20, -1, NULL },
    { &coll_loadavg_def, "loadavg/ok", "proc/loadavg", "0x1p-2 1e3 +5\n", 0, 0, "node_load1 0.25\n" },
    { &coll_filefd_def, "filefd/ok", "proc/sys/fs/file-nr", "1\t0\n", 0, -1, NULL },
    { &coll_filefd_def, "filefd/ok", "proc/sys/fs/file-nr", " 1\t0\t2\t9 \n", 0, 0, "node_filefd_maximum 2\n" },
    { &coll_stat_def, "stat/ok", "proc/stat", "intr 5 1 x\n" STAT_TAIL, 0, -1, NULL },
    { &coll_stat_def, "stat/ok", "proc/stat", "intr 5 1 2\nsoftirq 1 2 3 4 5 6 7 8 9 10\n" STAT_TAIL, 0, -1, NULL },
    { &coll_stat_def, "stat/ok", "proc/stat", "intr 99999999999999999999\n" STAT_TAIL, 0, -1, NULL },
    { &coll_stat_def, "stat/ok", "proc/stat", "intr 5\nctxt\n" STAT_TAIL, 0, 0, "node_procs_blocked 5\n" },
    { &coll_cpu_def, "cpu/ok", "proc/stat", "cpu01 1 2 3 4 5 6 7 8 9 10 11\n", 0, 0,
      "node_cpu_seconds_total{cpu=\"1\",mode=\"steal\"} 0.08\n" },
    { &coll_cpu_def, "cpu/ok", "proc/stat", "cpu99999999 1 2 3 4 5 6 7 8 9 10\n", 0, -1, NULL },
    { &coll_cpu_def, "cpu/ok", "proc/stat", "cpu-1 1 2 3 4 5 6 7 8 9 10\n", 0, -1, NULL },
    { &coll_cpu_def, "cpu/ok", "proc/stat", "cpu0 -1 2 3 4 5 6 7 8 9 10\n", 0, -1, NULL },
    { &coll_cpu_def, "cpu/ok", "proc/stat", "cpu 1 2 3 4 5 6 7 8 9 10\nintr 1\n", 0, -1, NULL },
    { &coll_cpu_def, "cpu/ok", "sys/devices/system/cpu/isolated", "\n", 0, 0, NULL },
    { &coll_cpu_def, "cpu/ok", "sys/devices/system/cpu/isolated", "3,1\n", 0, -1, NULL },
    { &coll_cpu_def, "cpu/ok", "sys/devices/system/cpu/isolated", "2-1\n", 0, -1, NULL },
    { &coll_cpu_def, "cpu/ok", "sys/devices/system/cpu/isolated", "1-2-3\n", 0, -1, NULL },
    { &coll_cpu_def, "cpu/ok", "sys/devices/system/cpu/isolated", "5-7\n", 0, 0, "node_cpu_isolated{cpu=\"6\"} 1\n" },
    { &coll_cpu_def, "cpu/ok", "sys/devices/system/cpu/isolated", NULL, 0, 0, NULL },
    { &coll_meminfo_def, "meminfo/ok", "proc/meminfo", "MemTotal: 1 kB extra\n", 0, -1, NULL },
    { &coll_meminfo_def, "meminfo/ok", "proc/meminfo", "Bad-Name: 1 kB\n", 0, -1, NULL },
    { &coll_meminfo_def, "meminfo/ok", "proc/meminfo", "Foo(: 1\n", 0, -1, NULL },
    { &coll_meminfo_def, "meminfo/ok", "proc/meminfo", "A(b)c(d)e: 1\n", 0, -1, NULL },
    { &coll_meminfo_def, "meminfo/ok", "proc/meminfo", "MemTotal:\t1\tkB\n", 0, 0,
      "node_memory_MemTotal_bytes 1024\n" },
    { &coll_meminfo_def, "meminfo/ok", "proc/meminfo", "Foo(x)y: 2\n", 0, 0, "node_memory_Foo_xy 2\n" },
    { &coll_vmstat_def, "vmstat/ok", "proc/vmstat", "pgfault\n", 0, -1, NULL },
    { &coll_vmstat_def, "vmstat/ok", "proc/vmstat", "pgfault 1\npgfault 2\n", 0, -1, NULL },
    { &coll_vmstat_def, "vmstat/ok", "proc/vmstat", "pg-fault 1\n", 0, -1, NULL },
    { &coll_vmstat_def, "vmstat/ok", "proc/vmstat", "nr_x 1\npgfault 1 2\n", 0, 0, "node_vmstat_pgfault 1\n" },
    { &coll_vmstat_def, "vmstat/ok", "proc/vmstat", "xpgfault 1\noom_kill_x 3\n", 0, 0, "node_vmstat_oom_kill_x 3\n" },
    { &coll_pressure_def, "pressure/ok", "proc/pressure/io", NULL, 0, -1, NULL },
    { &coll_pressure_def, "pressure/ok", "proc/pressure/cpu", "some avg10=0.00 avg60=0.00 avg300=0.00 total=-1\n", 0,
      -1, NULL },
    { &coll_pressure_def, "pressure/ok", "proc/pressure/cpu", "some avg10=0.00 avg60=0.00 avg300=0.00\n", 0, -1, NULL },
    { &coll_pressure_def, "pressure/ok", "proc/pressure/cpu", "other x\nsome avg10=1 avg60=2 avg300=3 total=1500000\n",
      0, 0, "node_pressure_cpu_waiting_seconds_total 1.5\n" },
    { &coll_uname_def, "uname/ok", "proc/sys/kernel/hostname",
      "a123456789b123456789c123456789d123456789e123456789f123456789g1234\n", 0, -1, NULL },
    { &coll_uname_def, "uname/ok", "proc/sys/kernel/hostname", "\xff\n", 0, -1, NULL },
    { &coll_uname_def, "uname/ok", "proc/sys/kernel/hostname", "h\0x\n", 4, -1, NULL },
    { &coll_time_def, "time/ok", "sys/devices/system/clocksource/clocksource0/current_clocksource", "\n", 0, 0,
      "node_time_clocksource_current_info{clocksource=\"\",device=\"0\"} 1\n" },
    { &coll_time_def, "time/ok", "sys/devices/system/clocksource/clocksource0/current_clocksource", "a b\n", 0, -1,
      NULL },
    { &coll_time_def, "time/ok", "sys/devices/system/clocksource/clocksource0/available_clocksource", "\xc3\x28\n", 0,
      -1, NULL },
};

static void test_edge_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(edge_cases) / sizeof(edge_cases[0]); i++) {
        const edge_case_t *ec = &edge_cases[i];
        char src[1024];
        snprintf(src, sizeof(src), DATA "/%s", ec->tree);
        tree_t t;
        tree_make(&t, src);
        if (ec->content) {
            tree_put(&t, ec->rel, ec->content, ec->len ? ec->len : strlen(ec->content));
        } else {
            char path[1024];
            snprintf(path, sizeof(path), "%s/%s", t.root, ec->rel);
            assert_int_equal(unlink(path), 0);
        }
        coll_test_runner_t r;
        coll_test_runner_init(&r, ec->def);
        int rc = runner_collect(&r, t.root);
        if (rc != ec->rc) {
            fail_msg("edge case %zu (%s): rc %d, want %d (err: %s)", i, ec->rel, rc, ec->rc, r.err);
        }
        if (rc < 0) {
            assert_true(r.err[0] != 0);
        }
        if (ec->want) {
            char *got = render(&r.sink);
            if (!strstr(got, ec->want)) {
                fail_msg("edge case %zu: output lacks %s\n%s", i, ec->want, got);
            }
            mem_free(got);
        }
        coll_test_runner_fini(&r);
        tree_drop(&t);
    }
}

/* ---- cpu: counters never go backwards ------------------------------------- */

/* The value of name{cpu,mode} in the sink; fails when absent. */
static double cpu_value(const msink_t *s, const char *name, const char *cpu, const char *mode)
{
    for (size_t i = 0; i < s->nsamples; i++) {
        const msink_sample_t *x = &s->samples[i];
        label_t ls[2];
        if (!str_eq_cstr(msink_sample_name(s, x), name) || msink_sample_labels(s, x, ls, 2) != 2) {
            continue;
        }
        if (str_eq_cstr(ls[0].value, cpu) && str_eq_cstr(ls[1].value, mode)) {
            return x->value;
        }
    }
    fail_msg("no %s{cpu=%s,mode=%s}", name, cpu, mode);
    return 0;
}

typedef struct cpu_step {
    const char *lines;                                  /* cpu lines of /proc/stat */
    double user, nice, system, idle, guest, guest_nice; /* cpu 0 afterwards */
    size_t ncpu;
} cpu_step_t;

/* The sequence node_exporter 1.5.0 was run through (same results). */
static const cpu_step_t cpu_steps[] = {
    { "cpu0 1000 10 1000 1000 0 0 0 0 5 5\n", 10, 0.1, 10, 10, 0.05, 0.05, 1 },
    /* small jumps back are ignored per value */
    { "cpu0 900 20 1100 900 0 0 0 0 4 6\n", 10, 0.2, 11, 10, 0.05, 0.06, 1 },
    { "cpu0 900 20 1100 750 0 0 0 0 4 6\n", 10, 0.2, 11, 10, 0.05, 0.06, 1 },
    /* idle back by >= 3 s: hotplug, the CPU's values restart */
    { "cpu0 900 20 1100 600 0 0 0 0 4 6\n", 9, 0.2, 11, 6, 0.04, 0.06, 1 },
    { "cpu0 950 20 1100 600 0 0 0 0 4 6\n", 9.5, 0.2, 11, 6, 0.04, 0.06, 1 },
    /* CPU count changed: everything restarts */
    { "cpu0 10 1 1 1 1 1 1 1 1 1\ncpu1 1 1 1 1 1 1 1 1 1 1\n", 0.1, 0.01, 0.01, 0.01, 0.01, 0.01, 2 },
    /* a gap: cpu1 offline, cpu2 online -> cpu1 reported as zeros */
    { "cpu0 10 1 1 1 1 1 1 1 1 1\ncpu2 1 1 1 1 1 1 1 1 1 1\n", 0.1, 0.01, 0.01, 0.01, 0.01, 0.01, 3 },
};

static void test_cpu_state(void **state)
{
    (void)state;
    tree_t t;
    tree_make(&t, NULL);
    coll_test_runner_t r;
    coll_test_runner_init(&r, &coll_cpu_def);
    for (size_t i = 0; i < sizeof(cpu_steps) / sizeof(cpu_steps[0]); i++) {
        const cpu_step_t *st = &cpu_steps[i];
        char stat[512];
        snprintf(stat, sizeof(stat), "cpu  0 0 0 0 0 0 0 0 0 0\n%sintr 1\n", st->lines);
        tree_put(&t, "proc/stat", stat, strlen(stat));
        if (runner_collect(&r, t.root) != 0) {
            fail_msg("step %zu: %s", i, r.err);
        }
        const char *secs = "node_cpu_seconds_total", *guest = "node_cpu_guest_seconds_total";
        assert_true(cpu_value(&r.sink, secs, "0", "user") == st->user);
        assert_true(cpu_value(&r.sink, secs, "0", "nice") == st->nice);
        assert_true(cpu_value(&r.sink, secs, "0", "system") == st->system);
        assert_true(cpu_value(&r.sink, secs, "0", "idle") == st->idle);
        assert_true(cpu_value(&r.sink, guest, "0", "user") == st->guest);
        assert_true(cpu_value(&r.sink, guest, "0", "nice") == st->guest_nice);
        assert_int_equal(r.sink.nsamples, st->ncpu * 10);
    }
    assert_true(cpu_value(&r.sink, "node_cpu_seconds_total", "1", "idle") == 0);
    /* A failed collection leaves the kept values alone: user going back
     * a little afterwards is still ignored (no reset happened). */
    const char *bad = "cpu0 1 2\n", *back = "cpu0 5 1 1 1 1 1 1 1 1 1\ncpu2 1 1 1 1 1 1 1 1 1 1\n";
    tree_put(&t, "proc/stat", bad, strlen(bad));
    assert_int_equal(runner_collect(&r, t.root), -1);
    tree_put(&t, "proc/stat", back, strlen(back));
    assert_int_equal(runner_collect(&r, t.root), 0);
    assert_true(cpu_value(&r.sink, "node_cpu_seconds_total", "0", "user") == 0.1);
    coll_test_runner_fini(&r);
    tree_drop(&t);
}

/* ---- uname on other values, time zone, steady state ----------------------- */

static void test_uname_other(void **state)
{
    (void)state;
    coll_test_runner_t r;
    coll_test_runner_init(&r, &coll_uname_def);
    assert_int_equal(runner_collect(&r, DATA "/uname/other"), 0);
    struct utsname u;
    assert_int_equal(uname(&u), 0);
    char want[1024];
    snprintf(want, sizeof(want),
             "# HELP node_uname_info Labeled system information as provided by the uname system call.\n"
             "# TYPE node_uname_info gauge\n"
             "node_uname_info{domainname=\"\",machine=\"%s\",nodename=\"web-01.example\",release=\"5.15.0-91-generic\","
             "sysname=\"Linux\",version=\"#101-Ubuntu SMP Tue Nov 14 13:30:08 UTC 2023\"} 1\n",
             u.machine);
    char *got = render(&r.sink);
    assert_string_equal(got, want);
    mem_free(got);
    coll_test_runner_fini(&r);
}

static void test_time_zone(void **state)
{
    (void)state;
    setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
    tzset();
    coll_test_runner_t r;
    coll_test_runner_init(&r, &coll_time_def);
    assert_int_equal(runner_collect(&r, DATA "/time/none"), 0);
    char *got = render(&r.sink);
    assert_non_null(strstr(got, "node_time_zone_offset_seconds{time_zone=\"CET\"} 3600\n"));
    mem_free(got);
    coll_test_runner_fini(&r);
    setenv("TZ", "UTC", 1);
    tzset();
}

typedef struct steady_case {
    const coll_def_t *def;
    const char *tree;
} steady_case_t;

static const steady_case_t steady_cases[] = {
    { &coll_cpu_def, "cpu/ok" },         { &coll_stat_def, "stat/ok" },         { &coll_meminfo_def, "meminfo/ok" },
    { &coll_loadavg_def, "loadavg/ok" }, { &coll_pressure_def, "pressure/ok" }, { &coll_vmstat_def, "vmstat/ok" },
    { &coll_uname_def, "uname/ok" },     { &coll_time_def, "time/ok" },         { &coll_filefd_def, "filefd/ok" },
};

static void test_steady_no_alloc(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(steady_cases) / sizeof(steady_cases[0]); i++) {
        const steady_case_t *sc = &steady_cases[i];
        char root[1024];
        snprintf(root, sizeof(root), DATA "/%s", sc->tree);
        coll_test_tree_paths_t t;
        coll_test_expect_no_alloc(sc->def, coll_test_tree_paths(&t, root), NOW_MS, sc->tree);
    }
    coll_cpu_def.fini(NULL);
    coll_vmstat_def.fini(NULL);
}

/* coll_text, which every collector here scans with: fields split at any
 * ASCII space (Go's strings.Fields, '\n' included), never past end; lines
 * split at '\n' only, the last one with or without it. */
static void test_text_scanning(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t len;
        const char *want[5]; /* the fields, then NULL */
    } fields[] = {
        { "", 0, { NULL } },
        { " \t\v\f\r\n", 6, { NULL } },
        { "cpu 1 2", 7, { "cpu", "1", "2", NULL } },
        { "\tcpu0\v\f1\r\n2 ", 12, { "cpu0", "1", "2", NULL } },
        { "a\0b c", 5, { "a\0b", "c", NULL } }, /* NUL is a byte of a field */
        { "abc def", 5, { "abc", "d", NULL } }, /* end bounds the last field */
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        const char *p = fields[i].in, *end = fields[i].in + fields[i].len;
        size_t k = 0;
        for (str_t f = coll_text_field(&p, end); f.len > 0; f = coll_text_field(&p, end), k++) {
            assert_non_null(fields[i].want[k]);
            size_t wl = k == 0 && i == 4 ? 3 : strlen(fields[i].want[k]);
            assert_int_equal(f.len, wl);
            assert_memory_equal(f.p, fields[i].want[k], wl);
        }
        assert_null(fields[i].want[k]);
        assert_ptr_equal(p, end);
    }
    static const struct {
        const char *in;
        const char *want[4];
    } lines[] = {
        { "", { NULL } },
        { "\n", { "", NULL } },
        { "a\n\nb c\n", { "a", "", "b c", NULL } },
        { "a\r\nb", { "a\r", "b", NULL } }, /* '\r' stays; the last line lacks '\n' */
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        size_t len = strlen(lines[i].in), pos = 0, k = 0;
        str_t line = STR_LIT("untouched");
        while (coll_text_next_line(lines[i].in, len, &pos, &line)) {
            assert_non_null(lines[i].want[k]);
            assert_true(str_eq_cstr(line, lines[i].want[k]));
            assert_true(pos <= len);
            k++;
        }
        assert_null(lines[i].want[k]);
        assert_int_equal(pos, len);
        if (k == 0) {
            assert_true(str_eq_cstr(line, "untouched"));
        }
    }
}

static int group_setup(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_cases),   cmocka_unit_test(test_truncation),    cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_cpu_state),       cmocka_unit_test(test_uname_other),   cmocka_unit_test(test_time_zone),
        cmocka_unit_test(test_steady_no_alloc), cmocka_unit_test(test_text_scanning),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for agent/coll_netdev.c, coll_netstat.c and coll_sockstat.c: every
 * fixture tree under tests/data/agent/{netdev,netstat,sockstat}/ (ok cases
 * compared byte for byte with node_exporter 1.5's output on the same tree),
 * hostile inputs written to a temporary tree, every truncation of the ok
 * files, and a steady second collection that allocates nothing. */
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
#include "common/mem.h"

extern const coll_def_t coll_netdev_def;
extern const coll_def_t coll_netstat_def;
extern const coll_def_t coll_sockstat_def;

#define DATA PHAROS_TEST_DATA "/agent"

typedef struct net_case {
    const coll_def_t *def;
    const char *dir;     /* under DATA: "<collector>/<case>" */
    int rc;              /* 0 or -1 */
    const char *err_sub; /* on -1: a substring of the reason */
    bool golden;         /* compare with <dir>/expected.prom */
    bool page_4k;        /* the golden assumes 4 KiB pages */
} net_case_t;

static const net_case_t net_cases[] = {
    /* netdev: ok was captured in a network namespace (two veths) with
     * node_exporter in its default netlink mode; the others come from
     * --no-collector.netdev.netlink (no sysfs: no receive_nohandler). */
    { &coll_netdev_def, "netdev/ok", 0, NULL, true, false },
    { &coll_netdev_def, "netdev/ok_procfs", 0, NULL, true, false },
    { &coll_netdev_def, "netdev/ok_quirks", 0, NULL, true, false },
    { &coll_netdev_def, "netdev/malformed", -1, "malformed line 4: bad counter '-4'", false, false },
    { &coll_netdev_def, "netdev/truncated", -1, "malformed line 4: 11 counters, want 16", false, false },
    { &coll_netdev_def, "netdev/malformed_sysfs", -1, "eth1/statistics/rx_nohandler: malformed", false, false },
    { &coll_netdev_def, "netdev/missing", -1, "/net/dev: No such file or directory", false, false },
    { &coll_netstat_def, "netstat/ok", 0, NULL, true, false },
    { &coll_netstat_def, "netstat/ok_nosnmp6", 0, NULL, true, false },
    { &coll_netstat_def, "netstat/ok_quirks", 0, NULL, true, false },
    { &coll_netstat_def, "netstat/malformed", -1, "/net/snmp: bad value '2x0' for TcpRtoMin", false, false },
    { &coll_netstat_def, "netstat/truncated", -1, "/net/netstat: truncated", false, false },
    { &coll_netstat_def, "netstat/mismatch", -1, "/net/snmp: line 10: field count mismatch for Udp", false, false },
    { &coll_netstat_def, "netstat/missing", -1, "/net/netstat: No such file or directory", false, false },
    { &coll_sockstat_def, "sockstat/ok", 0, NULL, true, true },
    { &coll_sockstat_def, "sockstat/ok_nov6", 0, NULL, true, true },
    { &coll_sockstat_def, "sockstat/ok_quirks", 0, NULL, true, true },
    { &coll_sockstat_def, "sockstat/malformed", -1, "line 3: bad value 'nine'", false, false },
    { &coll_sockstat_def, "sockstat/truncated", -1, "line 3: odd number of fields", false, false },
    /* Both files absent: node_exporter succeeds with no samples. */
    { &coll_sockstat_def, "sockstat/missing", 0, NULL, true, false },
};

/* Run def once on the tree at root into s (reset first). */
static int run_coll(const coll_def_t *def, const char *root, msink_t *s, char *err, size_t errlen)
{
    char proc[512], sys[512];
    snprintf(proc, sizeof(proc), "%s/proc", root);
    snprintf(sys, sizeof(sys), "%s/sys", root);
    coll_paths_t paths = { .procfs = proc, .sysfs = sys, .rootfs = root, .udev_data = "/nonexistent" };
    buf_t scratch;
    buf_init(&scratch);
    void *state = NULL;
    if (def->init) {
        assert_int_equal(def->init(&state, err, errlen), 0);
    }
    coll_ctx_t c = { .paths = &paths, .now_ms = 1700000000000, .scratch = &scratch, .state = state };
    msink_reset(s);
    err[0] = '\0';
    int rc = def->collect(&c, s, err, errlen);
    if (def->fini) {
        def->fini(state);
    }
    buf_fini(&scratch);
    return rc;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        *len = 0;
        return NULL;
    }
    buf_t b;
    buf_init(&b);
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
        buf_append(&b, tmp, n);
    }
    fclose(f);
    return (char *)buf_steal(&b, len);
}

static void test_fixtures(void **state)
{
    (void)state;
    msink_t s;
    msink_init(&s);
    for (size_t i = 0; i < sizeof(net_cases) / sizeof(net_cases[0]); i++) {
        const net_case_t *tc = &net_cases[i];
        char root[512], err[512];
        snprintf(root, sizeof(root), "%s/%s", DATA, tc->dir);
        int rc = run_coll(tc->def, root, &s, err, sizeof(err));
        if (rc != tc->rc) {
            fail_msg("%s: rc %d, want %d (%s)", tc->dir, rc, tc->rc, err);
        }
        if (rc < 0 && strstr(err, tc->err_sub) == NULL) {
            fail_msg("%s: reason '%s' lacks '%s'", tc->dir, err, tc->err_sub);
        }
        if (!tc->golden || (tc->page_4k && sysconf(_SC_PAGESIZE) != 4096)) {
            continue;
        }
        char path[600];
        snprintf(path, sizeof(path), "%s/expected.prom", root);
        size_t wlen = 0;
        char *want = slurp(path, &wlen);
        buf_t out;
        buf_init(&out);
        agent_expo_write(&s, &out);
        if (out.len != wlen || (wlen > 0 && memcmp(out.data, want, wlen) != 0)) {
            fail_msg("%s: output differs from expected.prom:\n%.*s", tc->dir, (int)out.len, (const char *)out.data);
        }
        buf_fini(&out);
        mem_free(want);
    }
    msink_fini(&s);
}

/* A temporary tree: root/proc/net and root/sys/class/net. */
typedef struct tmp_tree {
    char root[64];
} tmp_tree_t;

static void tree_make(tmp_tree_t *t)
{
    snprintf(t->root, sizeof(t->root), "/tmp/test_coll_net.XXXXXX");
    assert_non_null(mkdtemp(t->root));
    char p[256];
    snprintf(p, sizeof(p), "%s/proc", t->root);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/proc/net", t->root);
    assert_int_equal(mkdir(p, 0755), 0);
}

static void tree_put(const tmp_tree_t *t, const char *rel, const void *data, size_t len)
{
    char p[256];
    snprintf(p, sizeof(p), "%s%s", t->root, rel);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void tree_rm(const tmp_tree_t *t, const char *rel)
{
    char p[256];
    snprintf(p, sizeof(p), "%s%s", t->root, rel);
    unlink(p);
}

static void tree_destroy(const tmp_tree_t *t)
{
    static const char *const files[] = { "/proc/net/dev",   "/proc/net/netstat",  "/proc/net/snmp",
                                         "/proc/net/snmp6", "/proc/net/sockstat", "/proc/net/sockstat6" };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        tree_rm(t, files[i]);
    }
    char p[256];
    snprintf(p, sizeof(p), "%s/proc/net", t->root);
    rmdir(p);
    snprintf(p, sizeof(p), "%s/proc", t->root);
    rmdir(p);
    rmdir(t->root);
}

typedef struct hostile {
    const coll_def_t *def;
    const char *file; /* under proc/net */
    const char *data;
    size_t len; /* 0: strlen(data) */
    const char *err_sub;
} hostile_t;

#define LIT(s) s, sizeof(s) - 1
#define NETDEV_HDR "Inter-|   Receive |  Transmit\n face |bytes packets|bytes packets\n"
#define NETSTAT_OK "TcpExt: ListenDrops\nTcpExt: 1\n"

/* Inputs where node_exporter panics, or that a cut or broken file gives. */
static const hostile_t hostile_cases[] = {
    { &coll_netdev_def, "dev", NETDEV_HDR "\n", 0, "missing colon" },
    { &coll_netdev_def, "dev", NETDEV_HDR "  : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", 0, "empty interface" },
    { &coll_netdev_def, "dev", NETDEV_HDR "e0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 18446744073709551616\n", 0,
      "bad counter" },
    { &coll_netdev_def, "dev", NETDEV_HDR "e0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 +16\n", 0, "bad counter" },
    { &coll_netdev_def, "dev", LIT(NETDEV_HDR "e\0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"),
      "no valid label value" },
    { &coll_netdev_def, "dev", NETDEV_HDR "\xff: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", 0, "no valid label" },
    { &coll_netdev_def, "dev", NETDEV_HDR "e0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", 0, "truncated" },
    { &coll_netstat_def, "netstat", NETSTAT_OK "\n", 0, "line 3: no protocol" },
    { &coll_netstat_def, "netstat", " ListenDrops\n 1\n", 0, "line 2: no protocol" },
    { &coll_netstat_def, "netstat", "TcpExt: ListenDrops \nTcpExt: 1 \n", 0, "bad value ''" },
    { &coll_netstat_def, "netstat", "TcpExt: ListenDrops\nTcpExt: 1e400\n", 0, "bad value '1e400'" },
    { &coll_netstat_def, "netstat", "TcpExt: ListenDrops\nTcpExt: 1__0\n", 0, "bad value '1__0'" },
    { &coll_netstat_def, "netstat", "TcpExt: ListenDrops\nTcpExt: 0x10\n", 0, "bad value '0x10'" },
    { &coll_netstat_def, "netstat", "T-p: InErrs\nT-p: 1\n", 0, "'T-p_InErrs' makes no valid metric name" },
    { &coll_netstat_def, "netstat", "TcpExt: ListenDrops\nTcpExt: 1", 0, "truncated" },
    { &coll_netstat_def, "netstat", "TcpExt: ListenDrops\nTcpExt: 1 2\n", 0, "field count mismatch for TcpExt" },
    { &coll_netstat_def, "netstat", "TcpExt: ListenDrops\n", 0, "field count mismatch" },
    { &coll_netstat_def, "snmp6", "Ip6InOctets x\n", 0, "/net/snmp6: bad value 'x' for Ip6InOctets" },
    { &coll_sockstat_def, "sockstat", "\n", 0, "malformed line 1" },
    { &coll_sockstat_def, "sockstat", "TCP: inuse 1 \n", 0, "odd number" },
    { &coll_sockstat_def, "sockstat", "TCP:  inuse 1\n", 0, "odd number" },
    { &coll_sockstat_def, "sockstat", "TCP: inuse 9223372036854775808\n", 0, "bad value" },
    { &coll_sockstat_def, "sockstat", "TCP: inuse 08\n", 0, "bad value '08'" },
    { &coll_sockstat_def, "sockstat", "TCP: inuse 0x\n", 0, "bad value '0x'" },
    { &coll_sockstat_def, "sockstat", "TCP: inuse 1_\n", 0, "bad value '1_'" },
    { &coll_sockstat_def, "sockstat", "T-P: inuse 1\n", 0, "protocol 'T-P' makes no valid metric name" },
    { &coll_sockstat_def, "sockstat", "TCP: inuse 1", 0, "truncated" },
    { &coll_sockstat_def, "sockstat6", "TCP6: inuse\n", 0, "/net/sockstat6: malformed line 1" },
};

static void test_hostile(void **state)
{
    (void)state;
    msink_t s;
    msink_init(&s);
    for (size_t i = 0; i < sizeof(hostile_cases) / sizeof(hostile_cases[0]); i++) {
        const hostile_t *h = &hostile_cases[i];
        tmp_tree_t t;
        tree_make(&t);
        /* Valid companions, so only the file under test can fail. */
        tree_put(&t, "/proc/net/netstat", NETSTAT_OK, strlen(NETSTAT_OK));
        tree_put(&t, "/proc/net/snmp", "", 0);
        char rel[64];
        snprintf(rel, sizeof(rel), "/proc/net/%s", h->file);
        tree_put(&t, rel, h->data, h->len ? h->len : strlen(h->data));
        char err[512];
        int rc = run_coll(h->def, t.root, &s, err, sizeof(err));
        tree_destroy(&t);
        if (rc != -1 || strstr(err, h->err_sub) == NULL) {
            fail_msg("hostile case %zu: rc %d reason '%s', want -1 with '%s'", i, rc, err, h->err_sub);
        }
    }
    msink_fini(&s);
}

/* Every prefix of each ok file: a collection succeeds only on a prefix
 * that ends a line, and never crashes or reads past the data. */
static void test_truncations(void **state)
{
    (void)state;
    static const struct {
        const coll_def_t *def;
        const char *src, *file;
    } sweeps[] = {
        { &coll_netdev_def, "netdev/ok_procfs", "dev" },          { &coll_netstat_def, "netstat/ok", "netstat" },
        { &coll_netstat_def, "netstat/ok_quirks", "snmp" },       { &coll_netstat_def, "netstat/ok", "snmp6" },
        { &coll_sockstat_def, "sockstat/ok_quirks", "sockstat" },
    };
    msink_t s;
    msink_init(&s);
    for (size_t k = 0; k < sizeof(sweeps) / sizeof(sweeps[0]); k++) {
        tmp_tree_t t;
        tree_make(&t);
        static const char *const companions[] = { "netstat", "snmp", "snmp6" };
        for (size_t j = 0; j < 3; j++) {
            char src[512], rel[64];
            snprintf(src, sizeof(src), "%s/%s/proc/net/%s", DATA, sweeps[k].src, companions[j]);
            snprintf(rel, sizeof(rel), "/proc/net/%s", companions[j]);
            size_t n = 0;
            char *d = slurp(src, &n);
            if (d != NULL) {
                tree_put(&t, rel, d, n);
            }
            mem_free(d);
        }
        char src[512], rel[64];
        snprintf(src, sizeof(src), "%s/%s/proc/net/%s", DATA, sweeps[k].src, sweeps[k].file);
        snprintf(rel, sizeof(rel), "/proc/net/%s", sweeps[k].file);
        size_t len = 0;
        char *data = slurp(src, &len);
        assert_non_null(data);
        for (size_t cut = 0; cut <= len; cut++) {
            tree_put(&t, rel, data, cut);
            char err[512];
            int rc = run_coll(sweeps[k].def, t.root, &s, err, sizeof(err));
            bool whole_lines = cut == 0 || data[cut - 1] == '\n';
            if (rc == 0 && !whole_lines) {
                fail_msg("%s/%s cut at %zu: accepted a cut line", sweeps[k].src, sweeps[k].file, cut);
            }
        }
        mem_free(data);
        tree_destroy(&t);
    }
    msink_fini(&s);
}

/* A second collection into a reset sink with the same state allocates
 * nothing (no per-sample heap on the steady path). */
static void test_steady_state(void **state)
{
    (void)state;
    static const struct {
        const coll_def_t *def;
        const char *dir;
    } runs[] = {
        { &coll_netdev_def, "netdev/ok" },
        { &coll_netstat_def, "netstat/ok" },
        { &coll_sockstat_def, "sockstat/ok" },
    };
    for (size_t k = 0; k < sizeof(runs) / sizeof(runs[0]); k++) {
        char root[400], proc[512], sys[512], err[256];
        snprintf(root, sizeof(root), "%s/%s", DATA, runs[k].dir);
        snprintf(proc, sizeof(proc), "%s/proc", root);
        snprintf(sys, sizeof(sys), "%s/sys", root);
        coll_paths_t paths = { .procfs = proc, .sysfs = sys, .rootfs = root, .udev_data = "/nonexistent" };
        buf_t scratch;
        buf_init(&scratch);
        msink_t s;
        msink_init(&s);
        void *st = NULL;
        if (runs[k].def->init) {
            assert_int_equal(runs[k].def->init(&st, err, sizeof(err)), 0);
        }
        coll_ctx_t c = { .paths = &paths, .now_ms = 0, .scratch = &scratch, .state = st };
        size_t used = 0;
        for (int round = 0; round < 3; round++) {
            msink_reset(&s);
            assert_int_equal(runs[k].def->collect(&c, &s, err, sizeof(err)), 0);
            if (round == 1) {
                used = mem_used();
            } else if (round == 2) {
                assert_int_equal(mem_used(), used);
            }
        }
        assert_true(s.nsamples > 0);
        if (runs[k].def->fini) {
            runs[k].def->fini(st);
        }
        msink_fini(&s);
        buf_fini(&scratch);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_steady_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

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
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent_int.h"
#include "coll_testlib.h"

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

/* Run def once on fresh state over the tree at root; its text in out. */
static int run_coll(const coll_def_t *def, const char *root, buf_t *out, char *err, size_t errlen)
{
    coll_test_tree_paths_t t;
    return coll_test_run(def, coll_test_tree_paths(&t, root), 1700000000000, 1, out, err, errlen);
}

static void test_fixtures(void **state)
{
    (void)state;
    buf_t out;
    buf_init(&out);
    for (size_t i = 0; i < sizeof(net_cases) / sizeof(net_cases[0]); i++) {
        const net_case_t *tc = &net_cases[i];
        char root[512], err[512];
        snprintf(root, sizeof(root), "%s/%s", DATA, tc->dir);
        int rc = run_coll(tc->def, root, &out, err, sizeof(err));
        coll_test_expect_rc(tc->dir, rc, tc->rc, err, tc->err_sub);
        if (!tc->golden || (tc->page_4k && sysconf(_SC_PAGESIZE) != 4096)) {
            continue;
        }
        char path[600];
        snprintf(path, sizeof(path), "%s/expected.prom", root);
        coll_test_expect_golden(&out, path, NULL);
    }
    buf_fini(&out);
}

/* A temporary tree with root/proc/net; removed whole. */
typedef struct tmp_tree {
    char root[64];
} tmp_tree_t;

static void tree_make(tmp_tree_t *t)
{
    assert_int_equal(coll_test_mkdtemp(t->root, sizeof(t->root), "test_coll_net"), 0);
    coll_test_mkdir(t->root, "/proc/net");
}

static void tree_put(const tmp_tree_t *t, const char *rel, const void *data, size_t len)
{
    coll_test_put(t->root, rel, data, len);
}

static void tree_destroy(const tmp_tree_t *t)
{
    coll_test_rmtree(t->root, "");
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
    { &coll_netdev_def, "dev", NETDEV_HDR "e0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 -16\n", 0, "bad counter" },
    { &coll_netdev_def, "dev", NETDEV_HDR "e0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 1_6\n", 0, "bad counter" },
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
    { &coll_sockstat_def, "sockstat", "TCP: inuse 0b12\n", 0, "bad value '0b12'" },
    { &coll_sockstat_def, "sockstat", "TCP: inuse 0o8\n", 0, "bad value '0o8'" },
    { &coll_sockstat_def, "sockstat", "TCP: inuse 0xfg\n", 0, "bad value '0xfg'" },
    { &coll_sockstat_def, "sockstat", "TCP: inuse 1:\n", 0, "bad value '1:'" },
    { &coll_sockstat_def, "sockstat", "TCP: inuse 0x8000000000000000\n", 0, "bad value" },
    { &coll_sockstat_def, "sockstat", "TCP: inuse 1_\n", 0, "bad value '1_'" },
    { &coll_sockstat_def, "sockstat", "T-P: inuse 1\n", 0, "protocol 'T-P' makes no valid metric name" },
    { &coll_sockstat_def, "sockstat", "TCP: inuse 1", 0, "truncated" },
    { &coll_sockstat_def, "sockstat6", "TCP6: inuse\n", 0, "/net/sockstat6: malformed line 1" },
};

static void test_hostile(void **state)
{
    (void)state;
    buf_t out;
    buf_init(&out);
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
        int rc = run_coll(h->def, t.root, &out, err, sizeof(err));
        tree_destroy(&t);
        if (rc != -1 || strstr(err, h->err_sub) == NULL) {
            fail_msg("hostile case %zu: rc %d reason '%s', want -1 with '%s'", i, rc, err, h->err_sub);
        }
    }
    buf_fini(&out);
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
    buf_t out, data;
    buf_init(&out);
    buf_init(&data);
    for (size_t k = 0; k < sizeof(sweeps) / sizeof(sweeps[0]); k++) {
        tmp_tree_t t;
        tree_make(&t);
        char src[512], rel[64];
        snprintf(src, sizeof(src), "%s/%s", DATA, sweeps[k].src);
        static const char *const companions[] = { "netstat", "snmp", "snmp6" };
        for (size_t j = 0; j < 3; j++) {
            snprintf(rel, sizeof(rel), "/proc/net/%s", companions[j]);
            if (coll_read_file(src, rel, &data, 1 << 20) == 0) {
                tree_put(&t, rel, data.data, data.len);
            }
        }
        snprintf(rel, sizeof(rel), "/proc/net/%s", sweeps[k].file);
        assert_int_equal(coll_read_file(src, rel, &data, 1 << 20), 0);
        for (size_t cut = 0; cut <= data.len; cut++) {
            tree_put(&t, rel, data.data, cut);
            char err[512];
            int rc = run_coll(sweeps[k].def, t.root, &out, err, sizeof(err));
            bool whole_lines = cut == 0 || data.data[cut - 1] == '\n';
            if (rc == 0 && !whole_lines) {
                fail_msg("%s/%s cut at %zu: accepted a cut line", sweeps[k].src, sweeps[k].file, cut);
            }
        }
        tree_destroy(&t);
    }
    buf_fini(&data);
    buf_fini(&out);
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
        char root[400];
        snprintf(root, sizeof(root), "%s/%s", DATA, runs[k].dir);
        coll_test_tree_paths_t t;
        assert_true(coll_test_expect_no_alloc(runs[k].def, coll_test_tree_paths(&t, root), 0, runs[k].dir) > 0);
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

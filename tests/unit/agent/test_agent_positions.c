/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for agent/agent_positions.c: the text form round-trips (paths
 * with spaces, backslashes and newlines), deltas merge (set, move,
 * forget, counts), malformed lines are refused with the lines before
 * them applied, save/load through a real file (tmp + rename, no tmp left),
 * the least advanced of two states, pruning. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent_int.h"
#include "coll_testlib.h"

static void test_roundtrip(void **state)
{
    (void)state;
    agent_positions_t p;
    agent_positions_init(&p);
    buf_t d = { 0 };
    agent_positions_put_journal(&d, 1700000000000000001, "s=abc;i=1f;b=x;m=2;t=5;x=9");
    agent_pos_file_t f1 = { 2049, 77, 1234, 256, 0xdeadbeef, "/var/log/pods/ns_p_u/c/0.log" };
    agent_pos_file_t f2 = { 2049, 78, 0, 0, 0, "/tmp/we ird\\name\nx" };
    agent_positions_put_file(&d, &f1);
    agent_positions_put_file(&d, &f2);
    agent_positions_put_count(&d, AGENT_LOGS_JOURNAL, 5);
    agent_positions_put_count(&d, AGENT_LOGS_FILES, 7);
    uint64_t counts[AGENT_LOGS_NINPUTS] = { 0 };
    assert_int_equal(agent_positions_apply(&p, (const char *)d.data, d.len, counts), 0);
    assert_int_equal(counts[0], 5);
    assert_int_equal(counts[1], 7);
    assert_string_equal(p.cursor, "s=abc;i=1f;b=x;m=2;t=5;x=9");
    assert_int_equal(p.cursor_ts_ns, 1700000000000000001);
    assert_int_equal(p.nfiles, 2);
    const agent_pos_file_t *g = agent_positions_file(&p, 2049, 78);
    assert_non_null(g);
    assert_string_equal(g->path, "/tmp/we ird\\name\nx");
    g = agent_positions_file(&p, 2049, 77);
    assert_int_equal(g->off, 1234);
    assert_int_equal(g->fp_len, 256);
    assert_int_equal(g->fp_crc, 0xdeadbeef);
    /* The whole state written and read again is the same. */
    buf_t w = { 0 };
    agent_positions_write(&p, &w);
    agent_positions_t q;
    agent_positions_init(&q);
    assert_int_equal(agent_positions_apply(&q, (const char *)w.data, w.len, NULL), 0);
    buf_t w2 = { 0 };
    agent_positions_write(&q, &w2);
    assert_int_equal(w.len, w2.len);
    assert_memory_equal(w.data, w2.data, w.len);
    /* A delta moves one file and forgets the other. */
    buf_reset(&d);
    f1.off = 5000;
    agent_positions_put_file(&d, &f1);
    agent_positions_put_forget(&d, 2049, 78);
    assert_int_equal(agent_positions_apply(&q, (const char *)d.data, d.len, NULL), 0);
    assert_int_equal(q.nfiles, 1);
    assert_int_equal(agent_positions_file(&q, 2049, 77)->off, 5000);
    assert_null(agent_positions_file(&q, 2049, 78));
    agent_positions_fini(&p);
    agent_positions_fini(&q);
    buf_fini(&d);
    buf_fini(&w);
    buf_fini(&w2);
}

static void test_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "J\n",
        "J 12\n",
        "J x cursor\n",
        "F 1 2 3 4\n",
        "F 1 2 3 257 0 p\n",
        "F 1 2 3 4 99999999999 p\n",
        "X 1\n",
        "N 2 5\n",
        "Q 1 2\n",
        "F -1 2 3 4 5 p\n",
        "Fx\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        agent_positions_t p;
        agent_positions_init(&p);
        char text[128];
        snprintf(text, sizeof(text), "F 1 1 10 0 0 /a\n%s", bad[i]);
        if (agent_positions_apply(&p, text, strlen(text), NULL) != -1) {
            fail_msg("case %zu accepted: %s", i, bad[i]);
        }
        assert_int_equal(p.nfiles, 1); /* the line before it was applied */
        agent_positions_fini(&p);
    }
    agent_positions_t p;
    agent_positions_init(&p);
    const char *t = "# comment\n\nF 1 1 10 0 0 no newline";
    assert_int_equal(agent_positions_apply(&p, t, strlen(t), NULL), 0);
    assert_int_equal(agent_positions_file(&p, 1, 1)->off, 10);
    agent_positions_fini(&p);
}

static void test_save_load(void **state)
{
    (void)state;
    char dir[256];
    assert_int_equal(coll_test_mkdtemp(dir, sizeof(dir), "pharos-pos"), 0);
    char path[300], tmp[310];
    snprintf(path, sizeof(path), "%s/positions", dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    agent_positions_t p, q;
    agent_positions_init(&p);
    agent_positions_init(&q);
    buf_t scratch = { 0 };
    char err[256];
    assert_int_equal(agent_positions_load(&q, path, &scratch, err, sizeof(err)), 0); /* absent: empty */
    assert_null(q.cursor);
    agent_pos_file_t f = { 1, 2, 3, 4, 5, "/x" };
    agent_positions_set_file(&p, &f);
    assert_int_equal(agent_positions_apply(&p, "J 9 cur", 7, NULL), 0);
    assert_int_equal(agent_positions_save(&p, path, &scratch, err, sizeof(err)), 0);
    assert_int_equal(access(tmp, F_OK), -1);
    assert_int_equal(agent_positions_load(&q, path, &scratch, err, sizeof(err)), 0);
    assert_string_equal(q.cursor, "cur");
    assert_int_equal(agent_positions_file(&q, 1, 2)->off, 3);
    /* A damaged file is an error naming it. */
    coll_test_put(dir, "positions", "F 1\n", 4);
    agent_positions_t r;
    agent_positions_init(&r);
    assert_int_equal(agent_positions_load(&r, path, &scratch, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "positions"));
    /* Saving into a missing directory fails cleanly. */
    char nodir[300];
    snprintf(nodir, sizeof(nodir), "%s/none/positions", dir);
    assert_int_equal(agent_positions_save(&p, nodir, &scratch, err, sizeof(err)), -1);
    agent_positions_fini(&p);
    agent_positions_fini(&q);
    agent_positions_fini(&r);
    buf_fini(&scratch);
    coll_test_rmtree(dir, "");
}

static bool keep_odd(void *ctx, uint64_t dev, uint64_t ino)
{
    (void)ctx;
    (void)dev;
    return ino % 2 == 1;
}

static void test_min_and_prune(void **state)
{
    (void)state;
    agent_positions_t a, b;
    agent_positions_init(&a);
    agent_positions_init(&b);
    const char *ta = "J 200 late\nF 1 1 100 0 0 /a\nF 1 2 10 0 0 /b\n";
    const char *tb = "J 100 early\nF 1 1 50 0 0 /a\nF 1 2 20 0 0 /b\nF 1 3 5 0 0 /c\n";
    assert_int_equal(agent_positions_apply(&a, ta, strlen(ta), NULL), 0);
    assert_int_equal(agent_positions_apply(&b, tb, strlen(tb), NULL), 0);
    agent_positions_t m;
    agent_positions_init(&m);
    agent_positions_min(&m, &a);
    agent_positions_min(&m, &b);
    assert_string_equal(m.cursor, "early");
    assert_int_equal(agent_positions_file(&m, 1, 1)->off, 50);
    assert_int_equal(agent_positions_file(&m, 1, 2)->off, 10);
    assert_int_equal(agent_positions_file(&m, 1, 3)->off, 5);
    agent_positions_prune(&m, keep_odd, NULL);
    assert_int_equal(m.nfiles, 2);
    assert_null(agent_positions_file(&m, 1, 2));
    agent_positions_fini(&a);
    agent_positions_fini(&b);
    agent_positions_fini(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_min_and_prune),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for agent/agent_logfile.c on real files in a temp dir: plain
 * lines (a line still being written waits for its '\n'), labels of plain
 * and pod files, CRI P/F reassembly (a chain cut at EOF is not emitted and
 * holds the checkpoint at its start), the line bound for reassembled and
 * physical lines (cut, counted, rest skipped), rotation by rename (old
 * file finished first, nothing lost or doubled, then forgotten),
 * copytruncate, resume from a checkpoint (exact offset; fingerprint or
 * size mismatch restarts at 0), and a file rotated while stopped. */
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
#include "coll_testlib.h"

#define MAXE 4096

typedef struct got {
    size_t n;
    char labels[MAXE][160];
    char *line[MAXE];
    size_t len[MAXE];
    int64_t ts[MAXE];
} got_t;

typedef struct fx {
    char dir[256];
    got_t got;
    uint64_t clock;
    label_t statics[1];
    agent_logfile_source_t src[2];
    char glob[2][300];
} fx_t;

static void emit(void *ctx, str_t labels, int64_t ts, str_t line)
{
    got_t *g = ctx;
    assert_true(g->n < MAXE);
    snprintf(g->labels[g->n], sizeof(g->labels[0]), "%.*s", (int)labels.len, labels.p);
    g->line[g->n] = malloc(line.len + 1);
    memcpy(g->line[g->n], line.p, line.len);
    g->line[g->n][line.len] = 0;
    g->len[g->n] = line.len;
    g->ts[g->n] = ts;
    g->n++;
}

static void got_reset(got_t *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->line[i]);
    }
    g->n = 0;
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    if (coll_test_mkdtemp(f->dir, sizeof(f->dir), "pharos-logfile") != 0) {
        return -1;
    }
    f->statics[0] = (label_t){ STR_LIT("env"), STR_LIT("test") };
    snprintf(f->glob[0], sizeof(f->glob[0]), "%s/plain/*.log", f->dir);
    snprintf(f->glob[1], sizeof(f->glob[1]), "%s/pods/*/*/*.log", f->dir);
    f->src[0] = (agent_logfile_source_t){ f->glob[0], false, f->statics, 1 };
    f->src[1] = (agent_logfile_source_t){ f->glob[1], true, f->statics, 1 };
    coll_test_mkdir(f->dir, "plain");
    coll_test_mkdir(f->dir, "pods");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    got_reset(&f->got);
    coll_test_rmtree(f->dir, "");
    free(f);
    return 0;
}

static agent_logfile_t *open_lf(fx_t *f, size_t max_line, const agent_positions_t *resume)
{
    agent_logfile_opts_t o = { f->src, 2, max_line, &f->clock, emit, &f->got };
    agent_logfile_t *lf = NULL;
    char err[256];
    assert_int_equal(agent_logfile_create(&o, resume, &lf, err, sizeof(err)), 0);
    return lf;
}

static void append(const fx_t *f, const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
    FILE *fp = fopen(path, "a");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void expect_lines(const got_t *g, size_t from, const char *const *want, size_t n)
{
    assert_int_equal(g->n - from, n);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(g->line[from + i], want[i]) != 0) {
            fail_msg("line %zu: '%s', want '%s'", i, g->line[from + i], want[i]);
        }
    }
}

/* The checkpoint of everything (since 0) applied to a fresh state. */
static void checkpoint(agent_logfile_t *lf, agent_positions_t *p)
{
    buf_t b = { 0 };
    agent_logfile_checkpoint(lf, 0, &b);
    assert_int_equal(agent_positions_apply(p, (const char *)b.data, b.len, NULL), 0);
    buf_fini(&b);
}

static uint64_t offset_of(const fx_t *f, agent_logfile_t *lf, const char *rel)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    agent_positions_t p;
    agent_positions_init(&p);
    checkpoint(lf, &p);
    const agent_pos_file_t *x = agent_positions_file(&p, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
    assert_non_null(x);
    uint64_t off = x->off;
    agent_positions_fini(&p);
    return off;
}

static void test_plain(void **state)
{
    fx_t *f = *state;
    coll_test_put(f->dir, "plain/a.log", "one\ntwo\nthr", 11);
    agent_logfile_t *lf = open_lf(f, 1024, NULL);
    assert_int_equal(agent_logfile_poll(lf, 1 << 20, 42), 2);
    static const char *const w1[] = { "one", "two" };
    expect_lines(&f->got, 0, w1, 2);
    char want[300];
    snprintf(want, sizeof(want), "{env=\"test\", filename=\"%s/plain/a.log\"}", f->dir);
    assert_string_equal(f->got.labels[0], want);
    assert_int_equal(f->got.ts[0], 42);
    assert_int_equal(f->got.ts[1], 43); /* one poll, strictly increasing stamps */
    assert_int_equal(offset_of(f, lf, "plain/a.log"), 8);
    append(f, "plain/a.log", "ee\n\nfour\n");
    assert_int_equal(agent_logfile_poll(lf, 1 << 20, 43), 3);
    assert_int_equal(f->got.ts[2], 44); /* the clock says 43: still after the last stamp */
    assert_int_equal(f->got.ts[4], 46);
    static const char *const w2[] = { "three", "", "four" };
    expect_lines(&f->got, 2, w2, 3);
    assert_int_equal(offset_of(f, lf, "plain/a.log"), 20);
    assert_int_equal(agent_logfile_poll(lf, 1 << 20, 44), 0);
    agent_logfile_stats_t st;
    agent_logfile_stats(lf, &st);
    assert_int_equal(st.files, 1);
    assert_int_equal(st.lines, 5);
    agent_logfile_destroy(lf);
}

#define TS1 "2024-01-02T03:04:05.000000001Z"
#define TS2 "2024-01-02T03:04:05.000000002Z"

static void test_cri_reassembly(void **state)
{
    fx_t *f = *state;
    const char *rel = "pods/kube-system_coredns-5d78c9869d-abcde_0f1e2d3c/coredns/0.log";
    const char *text = TS1 " stdout P hel\n" TS1 " stderr F err line\n";
    coll_test_put(f->dir, rel, text, strlen(text));
    agent_logfile_t *lf = open_lf(f, 1024, NULL);
    assert_int_equal(agent_logfile_poll(lf, 1 << 20, 1), 1);
    /* The stderr line ends its own record here, but the stdout chain is
     * open: the checkpoint stays at the chain's start. */
    assert_string_equal(f->got.labels[0], "{container=\"coredns\", env=\"test\", namespace=\"kube-system\", "
                                          "pod=\"coredns-5d78c9869d-abcde\", stream=\"stderr\"}");
    assert_int_equal(offset_of(f, lf, rel), 0);
    append(f, rel, TS2 " stdout P lo \n" TS2 " stdout F world\n" TS2 " stdout F next\n");
    assert_int_equal(agent_logfile_poll(lf, 1 << 20, 2), 2);
    static const char *const w[] = { "err line", "hello world", "next" };
    expect_lines(&f->got, 0, w, 3);
    assert_int_equal(f->got.ts[1], 1704164645000000001); /* the first part's time */
    assert_true(strstr(f->got.labels[1], "stream=\"stdout\"") != NULL);
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(offset_of(f, lf, rel), (uint64_t)st.st_size);
    /* A malformed line is shipped as it is, without a stream label. */
    append(f, rel, "not a cri line\n");
    assert_int_equal(agent_logfile_poll(lf, 1 << 20, 3), 1);
    assert_string_equal(f->got.line[3], "not a cri line");
    assert_null(strstr(f->got.labels[3], "stream="));
    agent_logfile_stats_t s;
    agent_logfile_stats(lf, &s);
    assert_int_equal(s.malformed, 1);
    agent_logfile_destroy(lf);
}

static void test_line_bounds(void **state)
{
    fx_t *f = *state;
    /* A reassembled CRI line over the bound: cut, counted once. */
    const char *rel = "pods/ns_pod_uid/c/0.log";
    buf_t t = { 0 };
    for (int i = 0; i < 5; i++) {
        buf_puts(&t, TS1 " stdout P ");
        for (int k = 0; k < 300; k++) {
            buf_putc(&t, (uint8_t)('a' + i));
        }
        buf_putc(&t, '\n');
    }
    buf_puts(&t, TS1 " stdout F end\n" TS1 " stdout F after\n");
    coll_test_put(f->dir, rel, t.data, t.len);
    /* A plain line longer than the read buffer (1024 + 4096). */
    buf_reset(&t);
    for (int k = 0; k < 9000; k++) {
        buf_putc(&t, 'x');
    }
    buf_puts(&t, "\nshort\n");
    coll_test_put(f->dir, "plain/long.log", t.data, t.len);
    agent_logfile_t *lf = open_lf(f, 1024, NULL);
    assert_int_equal(agent_logfile_poll(lf, 1 << 20, 1), 4);
    size_t long_i = f->got.len[0] == 1024 && f->got.line[0][0] == 'x' ? 0 : 2;
    size_t cri_i = long_i == 0 ? 2 : 0;
    assert_int_equal(f->got.len[long_i], 1024);
    assert_string_equal(f->got.line[long_i + 1], "short");
    assert_int_equal(f->got.len[cri_i], 1024);
    assert_int_equal(f->got.line[cri_i][0], 'a');
    assert_int_equal(f->got.line[cri_i][1023], 'd');
    assert_string_equal(f->got.line[cri_i + 1], "after");
    agent_logfile_stats_t s;
    agent_logfile_stats(lf, &s);
    assert_int_equal(s.truncated_lines, 2);
    assert_int_equal(offset_of(f, lf, "plain/long.log"), 9007);
    buf_fini(&t);
    agent_logfile_destroy(lf);
}

static void test_rotation(void **state)
{
    fx_t *f = *state;
    coll_test_put(f->dir, "plain/app.log", "a1\na2\n", 6);
    agent_logfile_t *lf = open_lf(f, 1024, NULL);
    assert_int_equal(agent_logfile_poll(lf, 1 << 20, 1), 2);
    char from[512], to[512];
    snprintf(from, sizeof(from), "%s/plain/app.log", f->dir);
    snprintf(to, sizeof(to), "%s/plain/app.log.1", f->dir);
    assert_int_equal(rename(from, to), 0);
    append(f, "plain/app.log.1", "a3\n"); /* the writer's last line, after the rename */
    coll_test_put(f->dir, "plain/app.log", "b1\nb2\n", 6);
    agent_logfile_scan(lf);
    size_t n = 0;
    for (int i = 0; i < 5; i++) {
        n += agent_logfile_poll(lf, 1 << 20, 2);
    }
    assert_int_equal(n, 3);
    static const char *const w[] = { "a1", "a2", "a3", "b1", "b2" };
    expect_lines(&f->got, 0, w, 5);
    agent_logfile_stats_t s;
    agent_logfile_stats(lf, &s);
    assert_int_equal(s.files, 1); /* the old file is finished and closed */
    assert_int_equal(s.rotations, 1);
    buf_t ck = { 0 };
    agent_logfile_checkpoint(lf, 0, &ck);
    assert_non_null(strstr((const char *)ck.data, "X "));
    buf_fini(&ck);
    agent_logfile_destroy(lf);
}

static void test_truncation(void **state)
{
    fx_t *f = *state;
    coll_test_put(f->dir, "plain/t.log", "long line one\nlong line two\n", 28);
    agent_logfile_t *lf = open_lf(f, 1024, NULL);
    assert_int_equal(agent_logfile_poll(lf, 1 << 20, 1), 2);
    char path[512];
    snprintf(path, sizeof(path), "%s/plain/t.log", f->dir);
    assert_int_equal(truncate(path, 0), 0);
    append(f, "plain/t.log", "new\n");
    assert_int_equal(agent_logfile_poll(lf, 1 << 20, 2), 1);
    assert_string_equal(f->got.line[2], "new");
    agent_logfile_stats_t s;
    agent_logfile_stats(lf, &s);
    assert_int_equal(s.truncations, 1);
    assert_int_equal(offset_of(f, lf, "plain/t.log"), 4);
    agent_logfile_destroy(lf);
}

static void test_resume(void **state)
{
    fx_t *f = *state;
    coll_test_put(f->dir, "plain/r.log", "r1\nr2\n", 6);
    agent_logfile_t *lf = open_lf(f, 1024, NULL);
    assert_int_equal(agent_logfile_poll(lf, 1 << 20, 1), 2);
    agent_positions_t p;
    agent_positions_init(&p);
    checkpoint(lf, &p);
    agent_logfile_destroy(lf);
    append(f, "plain/r.log", "r3\n");
    got_reset(&f->got);
    /* Exact resume: only the new line. */
    lf = open_lf(f, 1024, &p);
    assert_int_equal(agent_logfile_poll(lf, 1 << 20, 2), 1);
    assert_string_equal(f->got.line[0], "r3");
    agent_logfile_destroy(lf);
    /* A fingerprint that does not match (another file on this inode). */
    got_reset(&f->got);
    p.files[0].fp_crc ^= 1;
    lf = open_lf(f, 1024, &p);
    assert_int_equal(agent_logfile_poll(lf, 1 << 20, 3), 3);
    agent_logfile_destroy(lf);
    /* An offset past the end (truncated while stopped). */
    got_reset(&f->got);
    p.files[0].fp_crc ^= 1;
    p.files[0].off = 1000;
    lf = open_lf(f, 1024, &p);
    assert_int_equal(agent_logfile_poll(lf, 1 << 20, 4), 3);
    agent_logfile_destroy(lf);
    agent_positions_fini(&p);
}

static void test_rotated_while_stopped(void **state)
{
    fx_t *f = *state;
    const char *rel = "pods/ns_pod_uid/c/0.log";
    const char *t1 = TS1 " stdout F one\n";
    coll_test_put(f->dir, rel, t1, strlen(t1));
    agent_logfile_t *lf = open_lf(f, 1024, NULL);
    assert_int_equal(agent_logfile_poll(lf, 1 << 20, 1), 1);
    agent_positions_t p;
    agent_positions_init(&p);
    checkpoint(lf, &p);
    agent_logfile_destroy(lf);
    /* While stopped: one more line, then the runtime rotates the file. */
    append(f, rel, TS1 " stdout F two\n");
    char from[512], to[512];
    snprintf(from, sizeof(from), "%s/%s", f->dir, rel);
    snprintf(to, sizeof(to), "%s/%s.20240102-030405", f->dir, rel);
    assert_int_equal(rename(from, to), 0);
    const char *t3 = TS2 " stdout F three\n";
    coll_test_put(f->dir, rel, t3, strlen(t3));
    got_reset(&f->got);
    lf = open_lf(f, 1024, &p);
    size_t n = 0;
    for (int i = 0; i < 5; i++) {
        n += agent_logfile_poll(lf, 1 << 20, 2);
    }
    static const char *const w[] = { "two", "three" };
    expect_lines(&f->got, 0, w, 2);
    assert_int_equal(n, 2);
    assert_string_equal(f->got.labels[0], f->got.labels[1]);
    agent_logfile_destroy(lf);
    agent_positions_fini(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cri_reassembly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotated_while_stopped, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

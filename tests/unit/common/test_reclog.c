/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for common/reclog.c: round trips across segment rolls, torn tails
 * cut at every length, corrupt records mid-log (bit flips, hostile lengths,
 * zero fill), concurrent appenders, segment deletion, sync mode and the
 * read-only state after a failed write. Each test gets a fresh mkdtemp dir.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/mem.h"
#include "common/reclog.h"

typedef struct fixture {
    char dir[64];
} fixture_t;

typedef struct seen {
    size_t n;
    size_t cap;
    char **recs;
    uint32_t *segs;
    int abort_at; /* return 42 at this record (-1: never) */
} seen_t;

static int collect(void *ctx, uint32_t seg, const uint8_t *p, size_t len)
{
    seen_t *s = ctx;
    if (s->abort_at >= 0 && (size_t)s->abort_at == s->n) {
        return 42;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->recs = realloc(s->recs, s->cap * sizeof(*s->recs));
        s->segs = realloc(s->segs, s->cap * sizeof(*s->segs));
    }
    s->recs[s->n] = strndup((const char *)p, len);
    s->segs[s->n] = seg;
    s->n++;
    return 0;
}

static void seen_free(seen_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->recs[i]);
    }
    free(s->recs);
    free(s->segs);
    memset(s, 0, sizeof(*s));
}

static int rm_cb(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/pharos-reclog-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void rec_text(char *dst, size_t n, int i)
{
    /* sizes vary from ~10 to ~90 bytes */
    int pad = (i * 37) % 80;
    snprintf(dst, n, "record-%05d-%.*s", i, pad,
             "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz0123456789");
}

static void append_n(reclog_t *l, int from, int to, bool commit_each)
{
    uint64_t pos = 0;
    for (int i = from; i < to; i++) {
        char r[128];
        rec_text(r, sizeof(r), i);
        assert_int_equal(reclog_append(l, r, strlen(r), &pos), 0);
        if (commit_each) {
            assert_int_equal(reclog_commit(l, pos), 0);
        }
    }
    assert_int_equal(reclog_commit(l, pos), 0);
}

static void check_seq(const seen_t *s, int from, int to)
{
    assert_int_equal(s->n, (size_t)(to - from));
    for (int i = from; i < to; i++) {
        char r[128];
        rec_text(r, sizeof(r), i);
        assert_string_equal(s->recs[i - from], r);
    }
}

static void seg_path(const fixture_t *f, uint32_t idx, char *dst, size_t n)
{
    snprintf(dst, n, "%s/%08u", f->dir, idx);
}

static off_t file_size(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        return -1;
    }
    return sb.st_size;
}

static uint64_t dir_bytes(const fixture_t *f, uint32_t upto)
{
    uint64_t sum = 0;
    for (uint32_t i = 1; i <= upto; i++) {
        char p[128];
        seg_path(f, i, p, sizeof(p));
        off_t sz = file_size(p);
        sum += sz > 0 ? (uint64_t)sz : 0;
    }
    return sum;
}

static void reopen(const fixture_t *f, const reclog_opts_t *o, seen_t *s, reclog_stats_t *st)
{
    reclog_t *l = NULL;
    s->abort_at = -1;
    assert_int_equal(reclog_open(f->dir, o, collect, s, st, &l), 0);
    reclog_close(l);
}

static void test_round_trip_rolls(void **state)
{
    fixture_t *f = *state;
    reclog_opts_t o = { .segment_bytes = 512 };
    reclog_t *l = NULL;
    reclog_stats_t st;
    assert_int_equal(reclog_open(f->dir, &o, NULL, NULL, &st, &l), 0);
    assert_int_equal(st.segments, 0);
    assert_int_equal(reclog_current_segment(l), 1);
    append_n(l, 0, 50, true);    /* many small commits */
    append_n(l, 50, 200, false); /* one big batch, split across segments by the writer */
    uint32_t seg = 0;
    assert_int_equal(reclog_roll(l, &seg), 0);
    assert_int_equal(reclog_current_segment(l), seg);
    append_n(l, 200, 210, false);
    uint32_t last = reclog_current_segment(l);
    assert_true(last > 5);
    assert_int_equal(reclog_size(l), dir_bytes(f, last));
    reclog_close(l);

    for (uint32_t i = 1; i < last; i++) {
        char p[128];
        seg_path(f, i, p, sizeof(p));
        assert_true(file_size(p) <= 512);
    }
    seen_t s = { 0 };
    reopen(f, &o, &s, &st);
    check_seq(&s, 0, 210);
    assert_int_equal(st.records, 210);
    assert_int_equal(st.segments, last);
    assert_int_equal(st.cuts, 0);
    for (size_t i = 1; i < s.n; i++) {
        assert_true(s.segs[i] >= s.segs[i - 1]);
    }
    seen_free(&s);

    /* a record larger than a segment gets a segment of its own */
    assert_int_equal(reclog_open(f->dir, &o, NULL, NULL, NULL, &l), 0);
    char big[2000];
    memset(big, 'x', sizeof(big));
    uint64_t pos = 0;
    assert_int_equal(reclog_append(l, "small", 5, &pos), 0);
    assert_int_equal(reclog_append(l, big, sizeof(big), &pos), 0);
    assert_int_equal(reclog_append(l, "after", 5, &pos), 0);
    assert_int_equal(reclog_commit(l, pos), 0);
    reclog_close(l);
    reopen(f, &o, &s, &st);
    assert_int_equal(s.n, 213);
    assert_string_equal(s.recs[210], "small");
    assert_int_equal(strlen(s.recs[211]), sizeof(big));
    assert_string_equal(s.recs[212], "after");
    assert_true(s.segs[210] < s.segs[211] && s.segs[211] < s.segs[212]);
    seen_free(&s);
}

static void test_append_errors(void **state)
{
    fixture_t *f = *state;
    reclog_opts_t o = { .max_record = 100 };
    reclog_t *l = NULL;
    assert_int_equal(reclog_open(f->dir, &o, NULL, NULL, NULL, &l), 0);
    uint64_t pos = 7;
    char buf[101] = { 0 };
    assert_int_equal(reclog_append(l, buf, 0, &pos), -EINVAL);
    assert_int_equal(reclog_append(l, buf, 101, &pos), -EMSGSIZE);
    assert_int_equal(reclog_append(l, buf, 100, &pos), 0);
    assert_int_equal(pos, 108);
    assert_int_equal(reclog_commit(l, 0), 0);
    assert_int_equal(reclog_commit(l, pos), 0);
    reclog_close(l);
    reclog_close(NULL);
}

/* Truncate the last record of segment 1 by each of these byte counts. */
static void test_torn_tail(void **state)
{
    fixture_t *f = *state;
    static const size_t cuts[] = { 1, 2, 3, 4, 7, 8, 9, 12, 20 };
    for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
        nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        assert_int_equal(mkdir(f->dir, 0755), 0);
        reclog_t *l = NULL;
        assert_int_equal(reclog_open(f->dir, NULL, NULL, NULL, NULL, &l), 0);
        append_n(l, 0, 10, false);
        reclog_close(l);
        char last[128];
        rec_text(last, sizeof(last), 9);
        size_t last_frame = 8 + strlen(last);
        assert_true(cuts[c] <= last_frame);
        char p[128];
        seg_path(f, 1, p, sizeof(p));
        off_t full = file_size(p);
        assert_int_equal(truncate(p, full - (off_t)cuts[c]), 0);

        seen_t s = { 0 };
        reclog_stats_t st;
        reopen(f, NULL, &s, &st);
        check_seq(&s, 0, 9);
        assert_int_equal(st.cuts, 1);
        assert_int_equal(st.cut_bytes, last_frame - cuts[c]);
        assert_int_equal(file_size(p), full - (off_t)last_frame);
        seen_free(&s);

        /* the cut is durable: a second replay is clean */
        reopen(f, NULL, &s, &st);
        check_seq(&s, 0, 9);
        assert_int_equal(st.cuts, 0);
        seen_free(&s);
    }
}

typedef struct corrupt_case {
    const char *name;
    uint8_t tail[16]; /* bytes appended to segment 1 */
    size_t ntail;
} corrupt_case_t;

/* Hostile bytes after valid records: each is cut, earlier records survive. */
static void test_hostile_tail(void **state)
{
    fixture_t *f = *state;
    static const corrupt_case_t cases[] = {
        { "huge length", { 0xf0, 0xff, 0xff, 0xff, 1, 2, 3, 4, 'a', 'b' }, 10 },
        { "length past max_record", { 0x01, 0x00, 0x00, 0x40, 0, 0, 0, 0, 'a' }, 9 },
        { "zero fill", { 0 }, 16 },
        { "bad crc", { 3, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 'a', 'b', 'c' }, 11 },
        { "lone byte", { 0x7f }, 1 },
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        assert_int_equal(mkdir(f->dir, 0755), 0);
        reclog_t *l = NULL;
        assert_int_equal(reclog_open(f->dir, NULL, NULL, NULL, NULL, &l), 0);
        append_n(l, 0, 5, false);
        reclog_close(l);
        char p[128];
        seg_path(f, 1, p, sizeof(p));
        off_t good = file_size(p);
        FILE *fp = fopen(p, "ab");
        assert_non_null(fp);
        assert_int_equal(fwrite(cases[c].tail, 1, cases[c].ntail, fp), cases[c].ntail);
        fclose(fp);

        seen_t s = { 0 };
        reclog_stats_t st;
        reopen(f, NULL, &s, &st);
        check_seq(&s, 0, 5);
        assert_int_equal(st.cuts, 1);
        assert_int_equal(st.cut_bytes, cases[c].ntail);
        assert_int_equal(file_size(p), good);
        seen_free(&s);
    }
}

/* A bit flip in one segment cuts that segment from the flip; later ones replay. */
static void test_bit_flip_mid_log(void **state)
{
    fixture_t *f = *state;
    reclog_opts_t o = { .segment_bytes = 300 };
    reclog_t *l = NULL;
    assert_int_equal(reclog_open(f->dir, &o, NULL, NULL, NULL, &l), 0);
    append_n(l, 0, 60, true);
    uint32_t last = reclog_current_segment(l);
    reclog_close(l);
    assert_true(last >= 4);

    seen_t s = { 0 };
    reclog_stats_t st;
    reopen(f, &o, &s, &st);
    check_seq(&s, 0, 60);
    /* find the records of segment 2 */
    size_t first2 = 0;
    size_t n2 = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.segs[i] == 2) {
            if (n2 == 0) {
                first2 = i;
            }
            n2++;
        }
    }
    assert_true(n2 >= 3);
    seen_free(&s);

    /* flip a payload bit of segment 2's second record */
    char first_rec[128];
    rec_text(first_rec, sizeof(first_rec), (int)first2);
    off_t off = (off_t)(8 + strlen(first_rec) + 8 + 3);
    char p[128];
    seg_path(f, 2, p, sizeof(p));
    int fd = open(p, O_RDWR);
    assert_true(fd >= 0);
    uint8_t b = 0;
    assert_int_equal(pread(fd, &b, 1, off), 1);
    b ^= 0x10;
    assert_int_equal(pwrite(fd, &b, 1, off), 1);
    close(fd);

    reopen(f, &o, &s, &st);
    assert_int_equal(st.cuts, 1);
    assert_int_equal(s.n, 60 - (n2 - 1));
    assert_int_equal(file_size(p), (off_t)(8 + strlen(first_rec)));
    size_t k = 0;
    for (int i = 0; i < 60; i++) {
        if ((size_t)i > first2 && (size_t)i < first2 + n2) {
            continue;
        }
        char r[128];
        rec_text(r, sizeof(r), i);
        assert_string_equal(s.recs[k], r);
        k++;
    }
    seen_free(&s);
}

typedef struct worker {
    reclog_t *l;
    int id;
    int n;
} worker_t;

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    for (int i = 0; i < w->n; i++) {
        char r[64];
        int len = snprintf(r, sizeof(r), "t%d-%06d", w->id, i);
        uint64_t pos = 0;
        if (reclog_append(w->l, r, (size_t)len, &pos) != 0 || reclog_commit(w->l, pos) != 0) {
            return (void *)1;
        }
    }
    return NULL;
}

static void test_concurrent_appenders(void **state)
{
    fixture_t *f = *state;
    enum { THREADS = 4, PER = 2000 };
    reclog_opts_t o = { .segment_bytes = 8192 };
    reclog_t *l = NULL;
    assert_int_equal(reclog_open(f->dir, &o, NULL, NULL, NULL, &l), 0);
    pthread_t th[THREADS];
    worker_t w[THREADS];
    for (int t = 0; t < THREADS; t++) {
        w[t] = (worker_t){ l, t, PER };
        assert_int_equal(pthread_create(&th[t], NULL, worker_main, &w[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        void *rv = NULL;
        pthread_join(th[t], &rv);
        assert_null(rv);
    }
    reclog_close(l);

    seen_t s = { 0 };
    reclog_stats_t st;
    reopen(f, &o, &s, &st);
    assert_int_equal(s.n, THREADS * PER);
    assert_int_equal(st.cuts, 0);
    int next[THREADS] = { 0 };
    for (size_t i = 0; i < s.n; i++) {
        int t = -1;
        int seq = -1;
        assert_int_equal(sscanf(s.recs[i], "t%d-%d", &t, &seq), 2);
        assert_true(t >= 0 && t < THREADS);
        assert_int_equal(seq, next[t]); /* each exactly once, in order per thread */
        next[t]++;
    }
    seen_free(&s);
}

static void test_drop_before(void **state)
{
    fixture_t *f = *state;
    reclog_t *l = NULL;
    assert_int_equal(reclog_open(f->dir, NULL, NULL, NULL, NULL, &l), 0);
    uint32_t seg = 0;
    for (int i = 0; i < 4; i++) {
        append_n(l, i * 10, i * 10 + 10, false);
        assert_int_equal(reclog_roll(l, &seg), 0);
    }
    append_n(l, 40, 50, false);
    assert_int_equal(seg, 5);
    assert_int_equal(reclog_size(l), dir_bytes(f, 5));
    assert_int_equal(reclog_drop_before(l, 3), 0);
    char p[128];
    seg_path(f, 2, p, sizeof(p));
    assert_int_equal(file_size(p), -1);
    assert_int_equal(reclog_size(l), dir_bytes(f, 5));
    /* never the current segment */
    assert_int_equal(reclog_drop_before(l, 100), 0);
    assert_int_equal(reclog_size(l), dir_bytes(f, 5));
    seg_path(f, 5, p, sizeof(p));
    assert_true(file_size(p) > 0);
    reclog_close(l);

    seen_t s = { 0 };
    reclog_stats_t st;
    reopen(f, NULL, &s, &st);
    check_seq(&s, 40, 50);
    assert_int_equal(st.segments, 1);
    seen_free(&s);
}

static void test_sync_mode(void **state)
{
    fixture_t *f = *state;
    reclog_opts_t o = { .sync = true, .segment_bytes = 256 };
    reclog_t *l = NULL;
    assert_int_equal(reclog_open(f->dir, &o, NULL, NULL, NULL, &l), 0);
    uint64_t c0 = 0;
    double s0 = 0;
    reclog_sync_stats(l, &c0, &s0);
    append_n(l, 0, 20, true);
    uint64_t c1 = 0;
    double s1 = 0;
    reclog_sync_stats(l, &c1, &s1);
    assert_true(c1 >= c0 + 20);
    assert_true(s1 >= s0);
    reclog_close(l);
    seen_t s = { 0 };
    reclog_stats_t st;
    reopen(f, &o, &s, &st);
    check_seq(&s, 0, 20);
    seen_free(&s);
}

static void test_replay_abort(void **state)
{
    fixture_t *f = *state;
    reclog_t *l = NULL;
    assert_int_equal(reclog_open(f->dir, NULL, NULL, NULL, NULL, &l), 0);
    append_n(l, 0, 10, false);
    reclog_close(l);
    seen_t s = { .abort_at = 4 };
    l = (reclog_t *)1;
    assert_int_equal(reclog_open(f->dir, NULL, collect, &s, NULL, &l), 42);
    assert_null(l);
    assert_int_equal(s.n, 4);
    seen_free(&s);
}

/* A write that fails (file size limit) makes the log read-only. */
static void test_write_failure_read_only(void **state)
{
    fixture_t *f = *state;
    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    if (old.rlim_max != RLIM_INFINITY && old.rlim_max < 4096) {
        skip();
    }
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    reclog_t *l = NULL;
    assert_int_equal(reclog_open(f->dir, NULL, NULL, NULL, NULL, &l), 0);
    struct rlimit lim = { 4096, old.rlim_max };
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    char big[6000];
    memset(big, 'z', sizeof(big));
    uint64_t pos = 0;
    assert_int_equal(reclog_append(l, big, sizeof(big), &pos), 0);
    int rc = reclog_commit(l, pos);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);
    assert_int_equal(rc, -EFBIG);
    assert_int_equal(reclog_append(l, "x", 1, &pos), -EFBIG);
    assert_int_equal(reclog_commit(l, pos), -EFBIG);
    reclog_close(l);
    /* the partial record is cut on the next open */
    seen_t s = { 0 };
    reclog_stats_t st;
    reopen(f, NULL, &s, &st);
    assert_int_equal(s.n, 0);
    assert_int_equal(st.cuts, 1);
    seen_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_rolls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bit_flip_mid_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_appenders, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_before, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_failure_read_only, setup, teardown),
    };
    return cmocka_run_group_tests_name("reclog", tests, NULL, NULL);
}

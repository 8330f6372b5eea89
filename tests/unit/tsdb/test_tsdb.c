/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for tsdb/tsdb.c, tsdb_head.c, tsdb_series.c, tsdb_compact.c and
 * tsdb_block.c through the store's API: append and select round trips
 * (bit-exact values, StaleNaN), duplicates and the out-of-order window,
 * WAL replay and torn tails, head cuts, compaction, retention, matcher
 * semantics, and corrupt blocks. Each test gets a fresh mkdtemp dir and a
 * fixed clock; the background thread is off so cuts happen when the test
 * says.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
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

#include "common/buf.h"
#include "common/matcher.h"
#include "common/mem.h"
#include "tsdb/tsdb.h"
#include "tsdb/tsdb_int.h"
#include "testsupport.h"

#define H (3600 * 1000LL)
#define T0 (1700000000000LL - (1700000000000LL % (168 * H))) /* a week boundary */

typedef struct fx {
    char dir[64];
    int64_t now;
    tsdb_t *db;
    tsdb_opts_t o;
} fx_t;

static int64_t fixed_now(void *ctx)
{
    return *(int64_t *)ctx;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void fx_open(fx_t *f)
{
    char err[256];
    int rc = tsdb_open(&f->o, &f->db, err, sizeof(err));
    if (rc != 0) {
        fail_msg("tsdb_open: %s", err);
    }
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/pharos-tsdb-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->now = T0 + 48 * H;
    f->o =
        (tsdb_opts_t){ .dir = f->dir, .block_range_ms = H, .ooo_window_ms = 24 * H, .clock = { fixed_now, &f->now } };
    fx_open(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    tsdb_close(f->db);
    nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void fx_reopen(fx_t *f)
{
    tsdb_close(f->db);
    f->db = NULL;
    fx_open(f);
}

/* Append one series given as "name", optional "k=v" pairs. */
static tsdb_append_result_t put(fx_t *f, const char *name, const char *k, const char *v, const int64_t *ts,
                                const double *vs, size_t n)
{
    label_t ls[2] = { { STR_LIT("__name__"), str_cstr(name) } };
    size_t nl = 1;
    if (k) {
        ls[1].name = str_cstr(k);
        ls[1].value = str_cstr(v);
        nl = labels_normalize(ls, 2);
    }
    tsdb_sample_t *s = calloc(n ? n : 1, sizeof(*s));
    for (size_t i = 0; i < n; i++) {
        s[i].t = ts[i];
        s[i].v = vs[i];
    }
    tsdb_input_t in = { ls, nl, s, n };
    tsdb_append_result_t res;
    assert_int_equal(tsdb_append(f->db, &in, 1, &res), 0);
    free(s);
    return res;
}

static void put1(fx_t *f, const char *name, int64_t t, double v)
{
    tsdb_append_result_t r = put(f, name, NULL, NULL, &t, &v, 1);
    (void)r;
}

typedef struct got {
    size_t nseries;
    char labels[16][256];
    int64_t ts[16][8192];
    double vs[16][8192];
    size_t n[16];
} got_t;

static int collect(void *ctx, const label_t *ls, size_t nl, const int64_t *ts, const double *vs, size_t n)
{
    got_t *g = ctx;
    assert_true(g->nseries < 16);
    assert_true(n <= 8192);
    buf_t b = { 0 };
    labels_format(ls, nl, &b);
    snprintf(g->labels[g->nseries], 256, "%s", (const char *)b.data);
    buf_fini(&b);
    memcpy(g->ts[g->nseries], ts, n * sizeof(int64_t));
    memcpy(g->vs[g->nseries], vs, n * sizeof(double));
    g->n[g->nseries] = n;
    for (size_t i = 1; i < n; i++) {
        assert_true(ts[i] > ts[i - 1]); /* strictly increasing, no duplicates */
    }
    g->nseries++;
    return 0;
}

static got_t *sel(fx_t *f, const char *selector, int64_t mint, int64_t maxt)
{
    char err[256];
    got_t *g = calloc(1, sizeof(*g));
    if (ts_select(f->db, selector, mint, maxt, collect, g, err, sizeof(err)) != 0) {
        fail_msg("selector %s: %s", selector, err);
    }
    return g;
}

/* A counter-like series over [T0, T0 + n*15s). */
static void fill(fx_t *f, const char *name, const char *k, const char *v, int64_t start, size_t n, int64_t step)
{
    int64_t *ts = malloc(n * sizeof(int64_t));
    double *vs = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        ts[i] = start + (int64_t)i * step;
        vs[i] = (double)(i * 3) + 0.25 * (double)(i % 4);
    }
    tsdb_append_result_t r = put(f, name, k, v, ts, vs, n);
    free(ts);
    free(vs);
    assert_int_equal(r.accepted, n);
}

static void check_fill(const got_t *g, size_t idx, int64_t start, size_t n, int64_t step)
{
    assert_int_equal(g->n[idx], n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(g->ts[idx][i], start + (int64_t)i * step);
        assert_true(g->vs[idx][i] == (double)(i * 3) + 0.25 * (double)(i % 4));
    }
}

static void test_append_select(void **state)
{
    fx_t *f = *state;
    fill(f, "up", "job", "a", T0, 100, 15000);
    fill(f, "up", "job", "b", T0, 50, 15000);
    fill(f, "other", NULL, NULL, T0, 10, 15000);
    got_t *g = sel(f, "up", INT64_MIN, INT64_MAX);
    assert_int_equal(g->nseries, 2);
    assert_string_equal(g->labels[0], "{__name__=\"up\", job=\"a\"}");
    check_fill(g, 0, T0, 100, 15000);
    check_fill(g, 1, T0, 50, 15000);
    free(g);
    /* Range bounds are inclusive. */
    g = sel(f, "{job=\"a\"}", T0 + 15000, T0 + 45000);
    assert_int_equal(g->nseries, 1);
    assert_int_equal(g->n[0], 3);
    assert_int_equal(g->ts[0][0], T0 + 15000);
    free(g);
    /* A series with no samples in the range is not returned. */
    g = sel(f, "other", T0 + 11 * 15000, INT64_MAX);
    assert_int_equal(g->nseries, 0);
    free(g);
}

static void test_special_values_exact(void **state)
{
    fx_t *f = *state;
    uint64_t specials[] = { TSDB_STALE_NAN_BITS, 0x7ff8000000000001ULL,
                            ts_bits(INFINITY),   ts_bits(-INFINITY),
                            ts_bits(-0.0),       ts_bits(0.0),
                            ts_bits(1e-310),     ts_bits(1.7976931348623157e308),
                            ts_bits(0.1),        ts_bits(42) };
    size_t n = sizeof(specials) / sizeof(specials[0]);
    int64_t ts[16];
    double vs[16];
    for (size_t i = 0; i < n; i++) {
        ts[i] = T0 + (int64_t)i * 1000;
        vs[i] = ts_from_bits(specials[i]);
    }
    put(f, "weird", NULL, NULL, ts, vs, n);
    for (int round = 0; round < 3; round++) {
        got_t *g = sel(f, "weird", INT64_MIN, INT64_MAX);
        assert_int_equal(g->nseries, 1);
        assert_int_equal(g->n[0], n);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(ts_bits(g->vs[0][i]), specials[i]);
        }
        free(g);
        if (round == 0) {
            fx_reopen(f); /* from the WAL */
        } else if (round == 1) {
            assert_int_equal(tsdb_flush(f->db), 0); /* from a block */
            fx_reopen(f);
        }
    }
}

static void test_duplicates(void **state)
{
    fx_t *f = *state;
    int64_t ts[3] = { T0, T0 + 1000, T0 + 2000 };
    double vs[3] = { 1, 2, 3 };
    tsdb_append_result_t r = put(f, "m", NULL, NULL, ts, vs, 3);
    assert_int_equal(r.accepted, 3);
    /* The same samples again: accepted silently, nothing stored twice. */
    r = put(f, "m", NULL, NULL, ts, vs, 3);
    assert_int_equal(r.accepted, 0);
    assert_int_equal(r.duplicates_identical, 3);
    assert_int_equal(r.rejected[TSDB_REJ_DUPLICATE], 0);
    /* Same timestamp, other value: rejected and counted; the rest stored. */
    int64_t t2[2] = { T0 + 1000, T0 + 3000 };
    double v2[2] = { 99, 4 };
    r = put(f, "m", NULL, NULL, t2, v2, 2);
    assert_int_equal(r.accepted, 1);
    assert_int_equal(r.rejected[TSDB_REJ_DUPLICATE], 1);
    assert_non_null(strstr(r.first_error, "duplicate sample"));
    assert_non_null(strstr(r.first_error, "m"));
    got_t *g = sel(f, "m", INT64_MIN, INT64_MAX);
    assert_int_equal(g->n[0], 4);
    assert_true(g->vs[0][1] == 2);
    assert_true(g->vs[0][3] == 4);
    free(g);
    tsdb_stats_t st;
    tsdb_get_stats(f->db, &st);
    assert_int_equal(st.samples_rejected[TSDB_REJ_DUPLICATE], 1);
    assert_int_equal(st.samples_appended, 4);
}

static void test_out_of_order(void **state)
{
    fx_t *f = *state;
    tsdb_close(f->db);
    f->o.ooo_window_ms = 2 * H;
    fx_open(f);
    fill(f, "m", NULL, NULL, T0 + 3 * H, 10, 15000);
    /* Older than the newest but within the 2h window: accepted, merged. */
    int64_t ts[3] = { T0 + 3 * H - 1000, T0 + 2 * H, T0 + 3 * H + 7000 };
    double vs[3] = { -1, -2, -3 };
    tsdb_append_result_t r = put(f, "m", NULL, NULL, ts, vs, 3);
    assert_int_equal(r.accepted, 3);
    /* Older than the window: rejected. In the future: rejected. */
    int64_t old = T0 + 3 * H - 2 * H - 1 + 9 * 15000;
    double v = 5;
    r = put(f, "m", NULL, NULL, &old, &v, 1);
    assert_int_equal(r.rejected[TSDB_REJ_TOO_OLD], 1);
    int64_t fut = f->now + 2 * H;
    r = put(f, "m", NULL, NULL, &fut, &v, 1);
    assert_int_equal(r.rejected[TSDB_REJ_FUTURE], 1);
    /* Timestamps near the ends of int64 never reach the time arithmetic. */
    int64_t extreme[2] = { INT64_MIN + 1, INT64_MAX };
    double ev[2] = { 1, 2 };
    r = put(f, "extreme", NULL, NULL, extreme, ev, 2);
    assert_int_equal(r.rejected[TSDB_REJ_TOO_OLD], 1);
    assert_int_equal(r.rejected[TSDB_REJ_FUTURE], 1);
    for (int round = 0; round < 3; round++) {
        got_t *g = sel(f, "m", INT64_MIN, INT64_MAX);
        assert_int_equal(g->n[0], 13);
        assert_int_equal(g->ts[0][0], T0 + 2 * H);
        assert_true(g->vs[0][0] == -2);
        assert_int_equal(g->ts[0][1], T0 + 3 * H - 1000);
        assert_int_equal(g->ts[0][2], T0 + 3 * H);
        assert_int_equal(g->ts[0][3], T0 + 3 * H + 7000);
        free(g);
        if (round == 0) {
            fx_reopen(f);
        } else {
            assert_int_equal(tsdb_flush(f->db), 0);
            fx_reopen(f);
        }
    }
}

static void test_replay_after_close(void **state)
{
    fx_t *f = *state;
    fill(f, "a", "i", "1", T0, 500, 15000);
    fill(f, "a", "i", "2", T0, 300, 15000);
    fx_reopen(f);
    got_t *g = sel(f, "a", INT64_MIN, INT64_MAX);
    assert_int_equal(g->nseries, 2);
    check_fill(g, 0, T0, 500, 15000);
    check_fill(g, 1, T0, 300, 15000);
    free(g);
    /* New samples after the restart continue the series. */
    fill(f, "a", "i", "3", T0, 5, 15000);
    put1(f, "a", T0, 1);
    fx_reopen(f);
    g = sel(f, "a", INT64_MIN, INT64_MAX);
    assert_int_equal(g->nseries, 4);
    free(g);
}

static void test_flush_and_restart(void **state)
{
    fx_t *f = *state;
    fill(f, "a", "i", "1", T0, 1000, 15000);
    fill(f, "a", "i", "2", T0, 1000, 15000);
    assert_int_equal(tsdb_flush(f->db), 0);
    tsdb_stats_t st;
    tsdb_get_stats(f->db, &st);
    assert_int_equal(st.head_samples, 0);
    assert_true(st.blocks >= 1);
    got_t *g = sel(f, "a", INT64_MIN, INT64_MAX);
    check_fill(g, 0, T0, 1000, 15000);
    check_fill(g, 1, T0, 1000, 15000);
    free(g);
    /* After the flush, appends continue; a restart shows both. */
    fill(f, "a", "i", "1", T0 + 1000 * 15000, 10, 15000);
    fx_reopen(f);
    g = sel(f, "{i=\"1\"}", INT64_MIN, INT64_MAX);
    assert_int_equal(g->n[0], 1010);
    free(g);
    tsdb_get_stats(f->db, &st);
    /* 2000 samples in blocks + the WAL holding 10: well under 2 bytes/sample. */
    assert_true(st.disk_bytes < 8000);
}

static void test_cuts_resume_after_flush(void **state)
{
    fx_t *f = *state;
    fill(f, "a", NULL, NULL, T0, 240, 15000);
    assert_int_equal(tsdb_flush(f->db), 0);
    assert_int_equal(tsdb_due_boundary(f->db), INT64_MIN); /* nothing new */
    for (int round = 0; round < 2; round++) {
        if (round == 1) {
            fx_reopen(f); /* the flush's mark must not stop cuts after a restart either */
        }
        fill(f, "a", NULL, NULL, T0 + (1 + 3 * round) * H, 3 * 240, 15000);
        assert_int_equal(tsdb_due_boundary(f->db), T0 + (3 + 3 * round) * H);
        assert_int_equal(tsdb_cut(f->db, tsdb_due_boundary(f->db)), 0);
        assert_int_equal(tsdb_due_boundary(f->db), INT64_MIN);
    }
}

static void test_checkpoint_restart(void **state)
{
    fx_t *f = *state;
    fill(f, "c", "i", "1", T0, 600, 15000); /* spans three 1h windows: closed + open chunks */
    fill(f, "c", "i", "2", T0 + 60000, 5, 15000);
    int64_t late = T0 + 7500; /* an out-of-order sample */
    double lv = -1;
    assert_int_equal(put(f, "c", "i", "1", &late, &lv, 1).accepted, 1);
    for (int round = 0; round < 2; round++) {
        fx_reopen(f); /* a clean close writes the checkpoint; the open loads it */
        tsdb_stats_t st;
        tsdb_get_stats(f->db, &st);
        assert_int_equal(st.head_samples, 606);
        assert_true(st.wal_bytes < 3000); /* XOR chunks, not 606 sample records */
        got_t *g = sel(f, "c", INT64_MIN, INT64_MAX);
        assert_int_equal(g->nseries, 2);
        assert_int_equal(g->n[0], 601);
        assert_int_equal(g->ts[0][1], late);
        assert_true(g->vs[0][1] == -1);
        assert_int_equal(g->n[1], 5);
        free(g);
        /* The last-sample state came back: a resend is an identical
         * duplicate, another value at that time a rejected one. */
        int64_t t = T0 + 599 * 15000;
        double v = (double)(599 * 3) + 0.25 * (double)(599 % 4);
        assert_int_equal(put(f, "c", "i", "1", &t, &v, 1).duplicates_identical, 1);
        v += 1;
        assert_int_equal(put(f, "c", "i", "1", &t, &v, 1).rejected[TSDB_REJ_DUPLICATE], 1);
    }
    /* Appends after the checkpoint land in a newer segment; a crash now
     * (no checkpoint) replays the checkpoint and then those samples. */
    fill(f, "c", "i", "1", T0 + 600 * 15000, 10, 15000);
    tsdb_close(f->db);
    f->o.no_checkpoint = true;
    fx_open(f);
    got_t *g = sel(f, "{i=\"1\"}", INT64_MIN, INT64_MAX);
    assert_int_equal(g->n[0], 611);
    free(g);
    /* A crash after the checkpoint was written but before the older
     * segments were deleted: both replay, and nothing is doubled. */
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "cp -r %s/wal %s/wal.keep", f->dir, f->dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(tsdb_checkpoint(f->db), 0);
    tsdb_close(f->db);
    snprintf(cmd, sizeof(cmd), "cp -n %s/wal.keep/* %s/wal/ && rm -r %s/wal.keep && : > %s/head.marks", f->dir, f->dir,
             f->dir, f->dir);
    assert_int_equal(system(cmd), 0);
    fx_open(f);
    g = sel(f, "{i=\"1\"}", INT64_MIN, INT64_MAX);
    assert_int_equal(g->n[0], 611);
    free(g);
    tsdb_stats_t st;
    tsdb_get_stats(f->db, &st);
    assert_int_equal(st.head_samples, 616);
}

/* The block range may change between runs: chunks checkpointed under one
 * range are loaded under another (a 1h chunk spans many 1m windows) and
 * must stay alive until a cut covers all of them. ASan checks the memory;
 * the data must come back whole. */
static void test_block_range_change(void **state)
{
    fx_t *f = *state;
    static const int64_t ranges[] = { 60000, H, 60000, H, H, 60000 };
    int64_t t = T0;
    for (int round = 0; round < 6; round++) {
        tsdb_close(f->db);
        f->o.block_range_ms = ranges[round];
        f->o.no_checkpoint = round % 2 == 1;
        fx_open(f);
        for (int k = 0; k < 400; k++, t += 37500) {
            for (int i = 0; i < 5; i++) {
                char v[8];
                snprintf(v, sizeof(v), "%d", i);
                /* an in-order sample and a late one: the duplicate check
                 * of the late one reads the head's closed chunks */
                int64_t ts[2] = { t, t - 200000 };
                double vs[2] = { (double)k, k + 0.5 };
                tsdb_append_result_t r = put(f, "rc", "i", v, ts, vs, 2);
                assert_int_equal(r.rejected[TSDB_REJ_DUPLICATE] + r.rejected[TSDB_REJ_TOO_OLD], 0);
            }
            int64_t b = tsdb_due_boundary(f->db);
            if (b != INT64_MIN) {
                assert_int_equal(tsdb_cut(f->db, b), 0);
            }
            if (k % 97 == 0) {
                assert_int_equal(tsdb_compact(f->db), 0);
            }
            if (k == 250 && round == 2) {
                assert_int_equal(tsdb_flush(f->db), 0);
            }
        }
    }
    got_t *g = sel(f, "{i=\"3\"}", INT64_MIN, INT64_MAX);
    assert_int_equal(g->nseries, 1);
    assert_int_equal(g->n[0], 2 * 6 * 400);
    free(g);
}

/* A series log with a gap and an unreadable record (say a record lost to
 * damage): the ids after them keep their series and their samples. */
static void test_series_log_damage(void **state)
{
    fx_t *f = *state;
    tsdb_close(f->db);
    f->db = NULL;
    char path[128];
    snprintf(path, sizeof(path), "%s/series", f->dir);
    reclog_opts_t lo = { 0 };
    reclog_t *slog, *wal;
    assert_int_equal(reclog_open(path, &lo, NULL, NULL, NULL, &slog), 0);
    snprintf(path, sizeof(path), "%s/wal", f->dir);
    assert_int_equal(reclog_open(path, &lo, NULL, NULL, NULL, &wal), 0);
    buf_t rec = { 0 }, scratch = { 0 }, enc = { 0 };
    uint64_t pos;
    static const char *const names[4] = { "a", NULL, NULL, "d" }; /* 1 unreadable, 2 missing */
    for (uint32_t id = 0; id < 4; id++) {
        if (id == 2) {
            continue;
        }
        tsdb_rec_begin(&rec, TSDB_REC_SERIES);
        buf_reset(&enc);
        if (names[id]) {
            label_t ls[1] = { { STR_LIT("__name__"), str_cstr(names[id]) } };
            labels_encode(ls, 1, &enc);
        } else {
            buf_append(&enc, "\xff\xff", 2);
        }
        tsdb_rec_add_series(&rec, id, enc.data, enc.len);
        tsdb_rec_finish(&rec, 1, &scratch);
        assert_int_equal(reclog_append(slog, rec.data, rec.len, &pos), 0);
    }
    tsdb_rec_begin(&rec, TSDB_REC_SAMPLES);
    int64_t prev = 0;
    for (uint32_t id = 0; id < 4; id++) {
        tsdb_rec_add_sample(&rec, &prev, id, T0 + id, (double)id);
    }
    tsdb_rec_finish(&rec, 4, &scratch);
    assert_int_equal(reclog_append(wal, rec.data, rec.len, &pos), 0);
    reclog_close(slog);
    reclog_close(wal);
    buf_fini(&rec);
    buf_fini(&scratch);
    buf_fini(&enc);
    fx_open(f);
    got_t *g = sel(f, "d", INT64_MIN, INT64_MAX);
    assert_int_equal(g->nseries, 1);
    assert_true(g->vs[0][0] == 3);
    free(g);
    g = sel(f, "a", INT64_MIN, INT64_MAX);
    assert_true(g->nseries == 1 && g->vs[0][0] == 0);
    free(g);
    g = sel(f, "pharos_lost_series", INT64_MIN, INT64_MAX);
    assert_int_equal(g->nseries, 2); /* ids 1 and 2 hold their places */
    free(g);
}

static void test_torn_wal_tail(void **state)
{
    fx_t *f = *state;
    tsdb_close(f->db);
    f->o.no_checkpoint = true; /* as after a crash: the samples are only in the WAL */
    fx_open(f);
    for (int i = 0; i < 20; i++) {
        put1(f, "torn", T0 + i * 1000, i);
    }
    tsdb_close(f->db);
    f->db = NULL;
    /* Cut 3 bytes off the newest non-empty WAL segment. */
    char path[256];
    struct stat st;
    int found = 0;
    for (int seg = 99; seg >= 1 && !found; seg--) {
        snprintf(path, sizeof(path), "%s/wal/%08d", f->dir, seg);
        if (stat(path, &st) == 0 && st.st_size > 0) {
            found = 1;
        }
    }
    assert_true(found);
    assert_int_equal(truncate(path, st.st_size - 3), 0);
    fx_open(f);
    got_t *g = sel(f, "torn", INT64_MIN, INT64_MAX);
    assert_int_equal(g->nseries, 1);
    assert_int_equal(g->n[0], 19); /* the last record was torn */
    for (size_t i = 0; i < 19; i++) {
        assert_true(g->vs[0][i] == (double)i);
    }
    free(g);
    tsdb_stats_t s;
    tsdb_get_stats(f->db, &s);
    assert_int_equal(s.wal_replay_cuts, 1);
    /* And it keeps working. */
    put1(f, "torn", T0 + 100000, 7);
    fx_reopen(f);
    g = sel(f, "torn", INT64_MIN, INT64_MAX);
    assert_int_equal(g->n[0], 20);
    free(g);
}

static void test_cut_compact(void **state)
{
    fx_t *f = *state;
    /* 10 hours of 15 s samples for 3 series, cut every hour. */
    size_t per_hour = 240;
    for (int h = 0; h < 10; h++) {
        fill(f, "c", "i", "1", T0 + h * H, per_hour, 15000);
        fill(f, "c", "i", "2", T0 + h * H, per_hour, 15000);
        fill(f, "c", "i", "3", T0 + h * H, per_hour, 15000);
        if (h > 0) {
            assert_int_equal(tsdb_cut(f->db, T0 + h * H), 0);
        }
    }
    tsdb_stats_t st;
    tsdb_get_stats(f->db, &st);
    assert_int_equal(st.blocks, 9);
    assert_int_equal(st.head_samples, 3 * per_hour);
    assert_int_equal(tsdb_compact(f->db), 0);
    tsdb_get_stats(f->db, &st);
    /* [T0, T0+4h) and [T0+4h, T0+8h) are passed windows: merged. */
    assert_int_equal(st.blocks, 3);
    assert_int_equal(st.compactions, 2);
    for (int round = 0; round < 2; round++) {
        got_t *g = sel(f, "c", INT64_MIN, INT64_MAX);
        assert_int_equal(g->nseries, 3);
        for (size_t s = 0; s < 3; s++) {
            assert_int_equal(g->n[s], 10 * per_hour);
            for (size_t i = 0; i < g->n[s]; i++) {
                assert_int_equal(g->ts[s][i], T0 + (int64_t)i * 15000);
            }
        }
        free(g);
        fx_reopen(f);
    }
    /* The WAL only holds what the head holds. */
    tsdb_get_stats(f->db, &st);
    assert_true(st.wal_bytes < 3 * per_hour * 14 + 4096);
}

static void test_ooo_after_cut_overlap(void **state)
{
    fx_t *f = *state;
    fill(f, "o", NULL, NULL, T0, 240, 15000);
    fill(f, "o", NULL, NULL, T0 + H, 240, 15000);
    assert_int_equal(tsdb_cut(f->db, T0 + H), 0);
    /* A late sample for the hour already in a block (within the window). */
    int64_t t = T0 + 7500;
    double v = -7;
    tsdb_append_result_t r = put(f, "o", NULL, NULL, &t, &v, 1);
    assert_int_equal(r.accepted, 1);
    assert_int_equal(tsdb_flush(f->db), 0);
    tsdb_stats_t st;
    tsdb_get_stats(f->db, &st);
    assert_int_equal(st.blocks, 1); /* the overlapping blocks were merged */
    got_t *g = sel(f, "o", INT64_MIN, INT64_MAX);
    assert_int_equal(g->n[0], 481);
    assert_int_equal(g->ts[0][1], T0 + 7500);
    assert_true(g->vs[0][1] == -7);
    free(g);
}

static void test_retention(void **state)
{
    fx_t *f = *state;
    tsdb_close(f->db);
    f->o.retention_ms = 3 * H;
    f->o.ooo_window_ms = 0;
    fx_open(f);
    for (int h = 0; h < 8; h++) {
        fill(f, "r", NULL, NULL, T0 + h * H, 240, 15000);
        if (h > 0) {
            assert_int_equal(tsdb_cut(f->db, T0 + h * H), 0);
        }
    }
    assert_int_equal(tsdb_compact(f->db), 0);
    tsdb_stats_t st;
    tsdb_get_stats(f->db, &st);
    assert_true(st.retention_dropped_blocks >= 1);
    got_t *g = sel(f, "r", INT64_MIN, INT64_MAX);
    /* Nothing older than newest - 3h survives in blocks. */
    assert_true(g->ts[0][0] >= T0 + 8 * H - 15000 - 3 * H - H);
    assert_int_equal(g->ts[0][g->n[0] - 1], T0 + 8 * H - 15000);
    free(g);
}

static void test_matchers(void **state)
{
    fx_t *f = *state;
    put1(f, "m", T0, 1);                 /* {__name__="m"} */
    fill(f, "m", "job", "a", T0, 1, 1);  /* job=a */
    fill(f, "m", "job", "b", T0, 1, 1);  /* job=b */
    fill(f, "m", "job", "ab", T0, 1, 1); /* job=ab */
    fill(f, "n", "job", "a", T0, 1, 1);
    struct {
        const char *sel;
        size_t want;
    } cases[] = {
        { "m", 4 },
        { "m{job=\"a\"}", 1 },
        { "m{job!=\"a\"}", 3 }, /* includes the series without job */
        { "m{job=\"\"}", 1 },   /* only the series without job */
        { "m{job!=\"\"}", 3 },
        { "m{job=~\"a\"}", 1 }, /* anchored: not "ab" */
        { "m{job=~\"a.*\"}", 2 },
        { "m{job=~\"a|b\"}", 2 },
        { "m{job=~\"a|b|\"}", 3 }, /* matches empty: plus the one without job */
        { "m{job!~\"a.*\"}", 2 },
        { "m{job=~\".*\"}", 4 },
        { "m{job=~\".+\"}", 3 },
        { "{job=\"a\"}", 2 },
        { "{__name__=~\"m|n\",job=\"a\"}", 2 },
        { "{__name__=~\"[mn]\",job!~\"a|b\"}", 2 },
        { "m{job=\"zzz\"}", 0 },
        { "nope", 0 },
        { "{job=~\"x|y\"}", 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        got_t *g = sel(f, cases[i].sel, INT64_MIN, INT64_MAX);
        if (g->nseries != cases[i].want) {
            fail_msg("%s: got %zu series, want %zu", cases[i].sel, g->nseries, cases[i].want);
        }
        free(g);
    }
}

static void test_corrupt_block(void **state)
{
    fx_t *f = *state;
    fill(f, "b", "i", "1", T0, 240, 15000);
    fill(f, "good", NULL, NULL, T0 + 2 * H, 10, 15000);
    assert_int_equal(tsdb_cut(f->db, T0 + H), 0);
    tsdb_close(f->db);
    f->db = NULL;
    /* Flip a byte in the index of the block file. */
    char path[256];
    snprintf(path, sizeof(path), "%s/blocks/%016x.blk", f->dir, 1);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    struct stat st;
    fstat(fd, &st);
    off_t at = st.st_size - TSDB_BLOCK_FOOTER - 5;
    uint8_t c;
    assert_int_equal(pread(fd, &c, 1, at), 1);
    c ^= 0x40;
    assert_int_equal(pwrite(fd, &c, 1, at), 1);
    close(fd);
    fx_open(f);
    tsdb_stats_t s;
    tsdb_get_stats(f->db, &s);
    assert_int_equal(s.corrupt_blocks, 1);
    assert_int_equal(s.blocks, 0);
    char aside[300];
    snprintf(aside, sizeof(aside), "%s.corrupt", path);
    assert_int_equal(access(aside, F_OK), 0);
    /* The head data (not in the block) is still there. */
    got_t *g = sel(f, "good", INT64_MIN, INT64_MAX);
    assert_int_equal(g->n[0], 10);
    free(g);
}

static void test_many_series_index(void **state)
{
    fx_t *f = *state;
    /* 5000 series in one batch; ids and postings scale. */
    size_t n = 5000;
    label_t *ls = calloc(n * 2, sizeof(label_t));
    char(*vals)[16] = calloc(n, 16);
    tsdb_sample_t *s = calloc(n, sizeof(*s));
    tsdb_input_t *in = calloc(n, sizeof(*in));
    for (size_t i = 0; i < n; i++) {
        snprintf(vals[i], 16, "h%05zu", i);
        ls[2 * i] = (label_t){ STR_LIT("__name__"), STR_LIT("node_x") };
        ls[2 * i + 1] = (label_t){ STR_LIT("instance"), str_cstr(vals[i]) };
        s[i] = (tsdb_sample_t){ T0, (double)i };
        in[i] = (tsdb_input_t){ &ls[2 * i], 2, &s[i], 1 };
    }
    tsdb_append_result_t r;
    assert_int_equal(tsdb_append(f->db, in, n, &r), 0);
    assert_int_equal(r.accepted, n);
    assert_int_equal(r.new_series, n);
    got_t *g = sel(f, "node_x{instance=~\"h0004.\"}", INT64_MIN, INT64_MAX);
    assert_int_equal(g->nseries, 10);
    free(g);
    fx_reopen(f);
    g = sel(f, "node_x{instance=\"h04999\"}", INT64_MIN, INT64_MAX);
    assert_int_equal(g->nseries, 1);
    assert_true(g->vs[0][0] == 4999);
    free(g);
    free(ls);
    free(vals);
    free(s);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_select, setup, teardown),
        cmocka_unit_test_setup_teardown(test_special_values_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_after_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_and_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cuts_resume_after_flush, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_block_range_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_series_log_damage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_wal_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_compact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ooo_after_cut_overlap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_matchers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_series_index, setup, teardown),
    };
    return cmocka_run_group_tests_name("tsdb", tests, NULL, NULL);
}

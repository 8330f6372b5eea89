/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_logs_store: the log store through its public API (logs_store.c,
 * logs_stream.c, logs_head.c, logs_block.c, logs_merge.c, logs_compact.c,
 * logs_select.c): append/select round trips forward and backward, ranges,
 * duplicates and out-of-order entries, matchers, label/series/index-stats
 * queries, head cuts, compaction, retention, WAL replay after a close and
 * after SIGKILL, a torn WAL tail, corrupt block files, token-filter
 * skipping, early stream stops and the maintenance thread. Each test gets
 * a fresh mkdtemp dir and an injected clock.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/arena.h"
#include "common/matcher.h"
#include "logs/logs.h"
#include "logs/logs_int.h"

#define SEC 1000000000LL
#define T0 (1700000000LL * SEC)

typedef struct fx {
    char dir[64];
    int64_t now_ms;
    logs_store_opts_t o;
    logs_store_t *s;
    arena_t *a;
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
    int rc = logs_store_open(&f->o, &f->s, err, sizeof(err));
    if (rc != 0) {
        fail_msg("logs_store_open: %s", err);
    }
}

static void fx_reopen(fx_t *f)
{
    logs_store_close(f->s);
    f->s = NULL;
    fx_open(f);
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/pharos-logs-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->now_ms = T0 / 1000000 + 3600 * 1000;
    f->o = (logs_store_opts_t){ .dir = f->dir, .clock = { fixed_now, &f->now_ms } };
    f->a = arena_create(1 << 16);
    fx_open(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    logs_store_close(f->s);
    arena_destroy(f->a);
    nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* ---- building pushes ---- */

/* labels "a=1,b=2" (sorted by the caller) into an arena array. */
static size_t parse_labels(arena_t *a, const char *spec, label_t **out)
{
    size_t n = 1;
    for (const char *p = spec; *p; p++) {
        n += *p == ',';
    }
    label_t *ls = arena_calloc(a, n, sizeof(label_t));
    char *copy = arena_strndup(a, spec, strlen(spec));
    size_t k = 0;
    for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        *eq = 0;
        ls[k].name = str_cstr(tok);
        ls[k].value = str_cstr(eq + 1);
        k++;
    }
    *out = ls;
    return k;
}

typedef struct ent {
    int64_t ts;
    const char *line;
} ent_t;

static void push1(fx_t *f, const char *labels, const ent_t *e, size_t n, logs_append_result_t *res)
{
    logs_push_t p = { 0 };
    logs_stream_t st = { 0 };
    label_t *ls;
    st.nlabels = parse_labels(f->a, labels, &ls);
    st.labels = ls;
    logs_entry_t *es = arena_calloc(f->a, n, sizeof(logs_entry_t));
    for (size_t i = 0; i < n; i++) {
        es[i].ts_ns = e[i].ts;
        es[i].line = str_cstr(e[i].line);
    }
    st.entries = es;
    st.nentries = n;
    p.streams = &st;
    p.nstreams = 1;
    p.nentries = n;
    logs_append_result_t r;
    assert_int_equal(logs_store_append(f->s, &p, &r), 0);
    if (res) {
        *res = r;
    }
}

/* ---- collecting selections ---- */

typedef struct got {
    char buf[1 << 16];
    size_t len;
    size_t n;
    int stop_after; /* > 0: return LOGS_SELECT_NEXT_STREAM after this many entries of a stream */
    int per_stream;
    int calls;
} got_t;

static int collect(void *ctx, const label_t *ls, size_t nls, const logs_entry_t *e, size_t n)
{
    got_t *g = ctx;
    g->calls++;
    for (size_t i = 0; i < n; i++) {
        char lab[256] = "";
        size_t lp = 0;
        for (size_t k = 0; k < nls; k++) {
            lp += (size_t)snprintf(lab + lp, sizeof(lab) - lp, "%s%.*s=%.*s", k ? "," : "", (int)ls[k].name.len,
                                   ls[k].name.p, (int)ls[k].value.len, ls[k].value.p);
        }
        char meta[128] = "";
        size_t mp = 0;
        for (size_t k = 0; k < e[i].nmeta; k++) {
            mp += (size_t)snprintf(meta + mp, sizeof(meta) - mp, " %.*s:%.*s", (int)e[i].meta[k].name.len,
                                   e[i].meta[k].name.p, (int)e[i].meta[k].value.len, e[i].meta[k].value.p);
        }
        if (g->len < sizeof(g->buf) - 512) {
            g->len += (size_t)snprintf(g->buf + g->len, sizeof(g->buf) - g->len, "{%s} %lld %.*s%s\n", lab,
                                       (long long)((e[i].ts_ns - T0) / SEC), (int)e[i].line.len, e[i].line.p, meta);
        }
        g->n++;
        g->per_stream++;
        if (g->stop_after && g->per_stream >= g->stop_after) {
            g->per_stream = 0;
            return LOGS_SELECT_NEXT_STREAM;
        }
    }
    return 0;
}

static void sel(fx_t *f, const char *name, match_type_t t, const char *value, int64_t start, int64_t end, bool backward,
                got_t *g)
{
    matcher_t m;
    char err[128];
    size_t nm = 0;
    if (name) {
        assert_int_equal(matcher_init(&m, t, str_cstr(name), str_cstr(value), err, sizeof(err)), 0);
        nm = 1;
    }
    logs_select_t q = { .ms = &m, .nms = nm, .start_ns = start, .end_ns = end, .backward = backward };
    memset(g->buf, 0, 16);
    g->len = g->n = 0;
    g->per_stream = 0;
    g->calls = 0;
    int rc = logs_store_select(f->s, &q, collect, g);
    if (name) {
        matcher_fini(&m);
    }
    assert_int_equal(rc, 0);
    g->buf[g->len] = 0;
}

#define ALL T0 - 1000 * SEC, T0 + 100000 * SEC

/* ---- tests ---- */

static void test_round_trip(void **state)
{
    fx_t *f = *state;
    const ent_t a[] = {
        { T0 + 3 * SEC, "three" }, { T0 + 1 * SEC, "one" }, { T0 + 2 * SEC, "two" }, { T0 + 2 * SEC, "two-b" }
    };
    logs_append_result_t r;
    push1(f, "job=a", a, 4, &r);
    assert_int_equal(r.accepted, 4);
    assert_int_equal(r.new_streams, 1);
    const ent_t b[] = { { T0 + 2 * SEC, "bee" } };
    push1(f, "inst=x,job=b", b, 1, NULL);
    got_t *g = calloc(1, sizeof(*g));
    sel(f, "job", MATCH_EQ, "a", ALL, false, g);
    assert_string_equal(g->buf, "{job=a} 1 one\n{job=a} 2 two\n{job=a} 2 two-b\n{job=a} 3 three\n");
    sel(f, "job", MATCH_EQ, "a", ALL, true, g);
    assert_string_equal(g->buf, "{job=a} 3 three\n{job=a} 2 two-b\n{job=a} 2 two\n{job=a} 1 one\n");
    /* [start, end) */
    sel(f, "job", MATCH_EQ, "a", T0 + 2 * SEC, T0 + 3 * SEC, false, g);
    assert_string_equal(g->buf, "{job=a} 2 two\n{job=a} 2 two-b\n");
    sel(f, "job", MATCH_EQ, "a", T0 + 3 * SEC, T0 + 3 * SEC, false, g);
    assert_int_equal(g->n, 0);
    /* the same after a cut into a block */
    assert_int_equal(logs_store_flush(f->s), 0);
    sel(f, "job", MATCH_EQ, "a", ALL, true, g);
    assert_string_equal(g->buf, "{job=a} 3 three\n{job=a} 2 two-b\n{job=a} 2 two\n{job=a} 1 one\n");
    sel(f, "job", MATCH_EQ, "a", T0 + 2 * SEC, T0 + 3 * SEC, false, g);
    assert_string_equal(g->buf, "{job=a} 2 two\n{job=a} 2 two-b\n");
    logs_store_stats_t st;
    logs_store_get_stats(f->s, &st);
    assert_int_equal(st.blocks, 1);
    assert_int_equal(st.head_entries, 0);
    assert_int_equal(st.streams, 2);
    assert_int_equal(st.entries_appended, 5);
    /* a head entry older than the block merges in order */
    const ent_t c[] = { { T0 + 2 * SEC, "two-c" }, { T0, "zero" } };
    push1(f, "job=a", c, 2, NULL);
    sel(f, "job", MATCH_EQ, "a", ALL, false, g);
    assert_string_equal(g->buf,
                        "{job=a} 0 zero\n{job=a} 1 one\n{job=a} 2 two\n{job=a} 2 two-b\n{job=a} 2 two-c\n{job=a} 3 "
                        "three\n");
    free(g);
}

static void test_duplicates(void **state)
{
    fx_t *f = *state;
    const ent_t a[] = { { T0 + 1 * SEC, "x" }, { T0 + 2 * SEC, "y" }, { T0 + 2 * SEC, "y" }, { T0 + 2 * SEC, "z" } };
    logs_append_result_t r;
    push1(f, "job=a", a, 4, &r);
    assert_int_equal(r.accepted, 3);
    assert_int_equal(r.duplicates, 1);
    push1(f, "job=a", a, 4, &r); /* the agent re-sends */
    assert_int_equal(r.accepted, 0);
    assert_int_equal(r.duplicates, 4);
    got_t *g = calloc(1, sizeof(*g));
    sel(f, "job", MATCH_EQ, "a", ALL, false, g);
    assert_string_equal(g->buf, "{job=a} 1 x\n{job=a} 2 y\n{job=a} 2 z\n");
    /* once in a block, a re-send lands in the head; reads drop it */
    assert_int_equal(logs_store_flush(f->s), 0);
    push1(f, "job=a", a, 4, &r);
    sel(f, "job", MATCH_EQ, "a", ALL, false, g);
    assert_string_equal(g->buf, "{job=a} 1 x\n{job=a} 2 y\n{job=a} 2 z\n");
    sel(f, "job", MATCH_EQ, "a", ALL, true, g);
    assert_string_equal(g->buf, "{job=a} 2 z\n{job=a} 2 y\n{job=a} 1 x\n");
    /* and compaction drops it on disk */
    for (int i = 0; i < 4; i++) {
        push1(f, "job=a", a, 4, NULL);
        assert_int_equal(logs_store_flush(f->s), 0);
    }
    logs_store_stats_t st;
    logs_store_get_stats(f->s, &st);
    assert_true(st.compactions >= 1);
    assert_true(st.blocks < 5);
    sel(f, "job", MATCH_EQ, "a", ALL, false, g);
    assert_string_equal(g->buf, "{job=a} 1 x\n{job=a} 2 y\n{job=a} 2 z\n");
    logs_index_stats_t is;
    logs_store_index_stats(f->s, NULL, 0, ALL, &is);
    assert_int_equal(is.streams, 1);
    /* the merged block and the block of the last re-send: whole chunks,
     * as Loki counts chunks, so the re-sent copy counts here */
    assert_int_equal(is.entries, 6);
    free(g);
}

static void test_matchers(void **state)
{
    fx_t *f = *state;
    const ent_t e[] = { { T0 + SEC, "l" } };
    push1(f, "env=prod,job=api", e, 1, NULL);
    push1(f, "env=dev,job=api", e, 1, NULL);
    push1(f, "job=db", e, 1, NULL);
    push1(f, "job=web,team=core", e, 1, NULL);
    static const struct {
        const char *name;
        match_type_t t;
        const char *value;
        size_t want;
    } cases[] = {
        { "job", MATCH_EQ, "api", 2 },    { "job", MATCH_NEQ, "api", 2 },  { "job", MATCH_RE, "api|db", 3 },
        { "job", MATCH_RE, "a.*", 2 },    { "job", MATCH_NRE, "a.*", 2 },  { "env", MATCH_EQ, "", 2 },
        { "env", MATCH_NEQ, "", 2 },      { "env", MATCH_RE, "prod|", 3 }, { "nope", MATCH_EQ, "", 4 },
        { "nope", MATCH_EQ, "x", 0 },     { "env", MATCH_NRE, "prod", 3 }, { "job", MATCH_RE, ".+", 4 },
        { "team", MATCH_NEQ, "core", 3 }, { "job", MATCH_EQ, "zzz", 0 },
    };
    got_t *g = calloc(1, sizeof(*g));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sel(f, cases[i].name, cases[i].t, cases[i].value, ALL, false, g);
        if (g->n != cases[i].want) {
            fail_msg("case %zu: %s %s %s: got %zu want %zu", i, cases[i].name, match_type_str(cases[i].t),
                     cases[i].value, g->n, cases[i].want);
        }
    }
    sel(f, NULL, MATCH_EQ, NULL, ALL, false, g);
    assert_int_equal(g->n, 4);
    free(g);
}

static void test_labels_series_stats(void **state)
{
    fx_t *f = *state;
    const ent_t early[] = { { T0 + 10 * SEC, "a" }, { T0 + 11 * SEC, "bb" } };
    const ent_t late[] = { { T0 + 100 * SEC, "ccc" } };
    push1(f, "env=prod,job=api", early, 2, NULL);
    push1(f, "job=db,zone=z1", late, 1, NULL);
    assert_int_equal(logs_store_flush(f->s), 0);
    push1(f, "job=db,zone=z1", late, 1, NULL); /* duplicate: not counted */
    const ent_t later[] = { { T0 + 200 * SEC, "dddd" } };
    push1(f, "job=db,zone=z2", later, 1, NULL); /* in the head */
    str_t *v;
    size_t n = logs_store_label_names(f->s, NULL, 0, ALL, f->a, &v);
    assert_int_equal(n, 3);
    assert_true(str_eq_cstr(v[0], "env") && str_eq_cstr(v[1], "job") && str_eq_cstr(v[2], "zone"));
    n = logs_store_label_names(f->s, NULL, 0, T0 + 50 * SEC, T0 + 150 * SEC, f->a, &v);
    assert_int_equal(n, 2);
    assert_true(str_eq_cstr(v[0], "job") && str_eq_cstr(v[1], "zone"));
    n = logs_store_label_values(f->s, STR_LIT("job"), NULL, 0, ALL, f->a, &v);
    assert_int_equal(n, 2);
    assert_true(str_eq_cstr(v[0], "api") && str_eq_cstr(v[1], "db"));
    n = logs_store_label_values(f->s, STR_LIT("zone"), NULL, 0, T0 + 150 * SEC, T0 + 300 * SEC, f->a, &v);
    assert_int_equal(n, 1);
    assert_true(str_eq_cstr(v[0], "z2"));
    /* inclusive end */
    n = logs_store_label_values(f->s, STR_LIT("job"), NULL, 0, T0, T0 + 10 * SEC, f->a, &v);
    assert_int_equal(n, 1);
    matcher_t m[2];
    char err[64];
    assert_int_equal(matcher_init(&m[0], MATCH_EQ, STR_LIT("job"), STR_LIT("db"), err, sizeof(err)), 0);
    assert_int_equal(matcher_init(&m[1], MATCH_EQ, STR_LIT("env"), STR_LIT("prod"), err, sizeof(err)), 0);
    logs_matchset_t sets[2] = { { &m[0], 1 }, { &m[1], 1 } };
    logs_series_t *ser;
    n = logs_store_series(f->s, sets, 1, ALL, f->a, &ser);
    assert_int_equal(n, 2);
    assert_true(str_eq_cstr(ser[0].labels[1].value, "z1") && str_eq_cstr(ser[1].labels[1].value, "z2"));
    n = logs_store_series(f->s, sets, 2, ALL, f->a, &ser);
    assert_int_equal(n, 3);
    assert_true(str_eq_cstr(ser[0].labels[0].name, "env"));
    logs_index_stats_t is;
    logs_store_index_stats(f->s, sets, 1, ALL, &is);
    assert_int_equal(is.streams, 2);
    assert_int_equal(is.chunks, 3); /* z1: block chunk + head (the dup re-send is not stored); z2: head */
    logs_store_index_stats(f->s, &sets[1], 1, ALL, &is);
    assert_int_equal(is.streams, 1);
    assert_int_equal(is.chunks, 1);
    assert_int_equal(is.entries, 2);
    assert_int_equal(is.bytes, 3);
    logs_store_index_stats(f->s, sets, 2, T0 + 1000 * SEC, T0 + 2000 * SEC, &is);
    assert_int_equal(is.streams, 0);
    matcher_fini(&m[0]);
    matcher_fini(&m[1]);
}

static void test_meta_round_trip(void **state)
{
    fx_t *f = *state;
    label_t meta[2] = { { STR_LIT("trace_id"), STR_LIT("abc") }, { STR_LIT("user"), STR_LIT("u1") } };
    logs_entry_t es[2] = { { T0 + SEC, STR_LIT("with meta"), meta, 2 }, { T0 + 2 * SEC, STR_LIT("plain"), NULL, 0 } };
    label_t ls[1] = { { STR_LIT("job"), STR_LIT("m") } };
    logs_stream_t st = { ls, 1, es, 2 };
    logs_push_t p = { .streams = &st, .nstreams = 1, .nentries = 2 };
    assert_int_equal(logs_store_append(f->s, &p, NULL), 0);
    got_t *g = calloc(1, sizeof(*g));
    const char *want = "{job=m} 1 with meta trace_id:abc user:u1\n{job=m} 2 plain\n";
    sel(f, "job", MATCH_EQ, "m", ALL, false, g);
    assert_string_equal(g->buf, want);
    assert_int_equal(logs_store_flush(f->s), 0);
    sel(f, "job", MATCH_EQ, "m", ALL, false, g);
    assert_string_equal(g->buf, want);
    fx_reopen(f);
    sel(f, "job", MATCH_EQ, "m", ALL, false, g);
    assert_string_equal(g->buf, want);
    free(g);
}

static void test_replay_after_close(void **state)
{
    fx_t *f = *state;
    const ent_t a[] = { { T0 + 1 * SEC, "one" }, { T0 + 2 * SEC, "two" } };
    push1(f, "job=a", a, 2, NULL);
    assert_int_equal(logs_store_flush(f->s), 0);
    const ent_t b[] = { { T0 + 3 * SEC, "three" } };
    push1(f, "job=a", b, 1, NULL);
    push1(f, "job=b", b, 1, NULL);
    fx_reopen(f);
    got_t *g = calloc(1, sizeof(*g));
    sel(f, "job", MATCH_RE, "a|b", ALL, false, g);
    assert_int_equal(g->n, 4);
    assert_non_null(strstr(g->buf, "{job=a} 1 one\n{job=a} 2 two\n{job=a} 3 three\n"));
    logs_store_stats_t st;
    logs_store_get_stats(f->s, &st);
    assert_int_equal(st.head_entries, 2); /* the flushed entries were not replayed into the head */
    assert_int_equal(st.blocks, 1);
    /* twice, with the replayed heads cut in between */
    assert_int_equal(logs_store_flush(f->s), 0);
    fx_reopen(f);
    sel(f, "job", MATCH_RE, "a|b", ALL, false, g);
    assert_int_equal(g->n, 4);
    logs_store_get_stats(f->s, &st);
    assert_int_equal(st.head_entries, 0);
    free(g);
}

static void test_crash_kill9(void **state)
{
    fx_t *f = *state;
    logs_store_close(f->s);
    f->s = NULL;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        fx_open(f);
        char line[64];
        for (int i = 0;; i++) {
            snprintf(line, sizeof(line), "line %d", i);
            ent_t e = { T0 + i * SEC / 10, line };
            push1(f, i % 2 ? "job=odd" : "job=even", &e, 1, NULL);
            if (i % 50 == 49) {
                logs_store_flush(f->s);
            }
            if (write(fds[1], &i, sizeof(i)) != sizeof(i)) {
                _exit(1);
            }
        }
    }
    close(fds[1]);
    int last = -1, v;
    while (last < 300 && read(fds[0], &v, sizeof(v)) == sizeof(v)) {
        last = v;
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    while (read(fds[0], &v, sizeof(v)) == sizeof(v)) {
        last = v; /* acknowledged before the kill */
    }
    close(fds[0]);
    fx_open(f);
    got_t *g = calloc(1, sizeof(*g));
    sel(f, "job", MATCH_RE, "odd|even", ALL, false, g);
    assert_true(g->n >= (size_t)last + 1);
    for (int i = 0; i <= last; i++) {
        char want[64];
        snprintf(want, sizeof(want), " line %d\n", i);
        if (!strstr(g->buf, want)) {
            fail_msg("acknowledged entry %d missing after SIGKILL", i);
        }
    }
    free(g);
}

/* The newest WAL segment file with data. */
static void newest_segment(const char *dir, char *out, size_t outlen)
{
    char wal[128];
    snprintf(wal, sizeof(wal), "%s/wal", dir);
    DIR *d = opendir(wal);
    assert_non_null(d);
    struct dirent *e;
    char best[256] = "";
    while ((e = readdir(d)) != NULL) {
        char p[512];
        struct stat st;
        snprintf(p, sizeof(p), "%s/%s", wal, e->d_name);
        if (e->d_name[0] != '.' && stat(p, &st) == 0 && st.st_size > 0 && strcmp(e->d_name, best) > 0) {
            snprintf(best, sizeof(best), "%s", e->d_name);
        }
    }
    closedir(d);
    assert_true(best[0]);
    snprintf(out, outlen, "%s/%s", wal, best);
}

static void test_torn_wal_tail(void **state)
{
    fx_t *f = *state;
    const ent_t a[] = { { T0 + 1 * SEC, "kept" } };
    const ent_t b[] = { { T0 + 2 * SEC, "torn away with its record" } };
    push1(f, "job=a", a, 1, NULL);
    push1(f, "job=a", b, 1, NULL);
    logs_store_close(f->s);
    f->s = NULL;
    char seg[512];
    newest_segment(f->dir, seg, sizeof(seg));
    struct stat st;
    assert_int_equal(stat(seg, &st), 0);
    assert_int_equal(truncate(seg, st.st_size - 5), 0);
    fx_open(f);
    got_t *g = calloc(1, sizeof(*g));
    sel(f, "job", MATCH_EQ, "a", ALL, false, g);
    assert_string_equal(g->buf, "{job=a} 1 kept\n");
    logs_store_stats_t s;
    logs_store_get_stats(f->s, &s);
    assert_int_equal(s.wal_replay_cuts, 1);
    /* garbage appended to a segment is cut as well */
    push1(f, "job=a", b, 1, NULL);
    logs_store_close(f->s);
    f->s = NULL;
    newest_segment(f->dir, seg, sizeof(seg));
    int fd = open(seg, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "\x10\0\0\0garbagegarbage", 19), 19);
    close(fd);
    fx_open(f);
    sel(f, "job", MATCH_EQ, "a", ALL, false, g);
    assert_string_equal(g->buf, "{job=a} 1 kept\n{job=a} 2 torn away with its record\n");
    free(g);
}

/* Path of the only block file. */
static void only_block(const char *dir, char *out, size_t outlen)
{
    char bd[128];
    snprintf(bd, sizeof(bd), "%s/blocks", dir);
    DIR *d = opendir(bd);
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".lblk") == 0) {
            snprintf(out, outlen, "%s/%s", bd, e->d_name);
            n++;
        }
    }
    closedir(d);
    assert_int_equal(n, 1);
}

static void fill_block(fx_t *f)
{
    char lines[40][32];
    ent_t e[40];
    for (int i = 0; i < 40; i++) {
        snprintf(lines[i], sizeof(lines[i]), "entry number %d", i);
        e[i] = (ent_t){ T0 + i * SEC, lines[i] };
    }
    push1(f, "job=a", e, 40, NULL);
    push1(f, "job=b", e, 40, NULL);
    assert_int_equal(logs_store_flush(f->s), 0);
}

static void flip(const char *path, long off)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    struct stat st;
    fstat(fd, &st);
    if (off < 0) {
        off += st.st_size;
    }
    uint8_t c;
    assert_int_equal(pread(fd, &c, 1, off), 1);
    c ^= 0x10;
    assert_int_equal(pwrite(fd, &c, 1, off), 1);
    close(fd);
}

static void test_corrupt_block_data(void **state)
{
    fx_t *f = *state;
    fill_block(f);
    char path[512];
    only_block(f->dir, path, sizeof(path));
    logs_store_close(f->s);
    f->s = NULL;
    flip(path, 40); /* inside the first chunk */
    fx_open(f);
    got_t *g = calloc(1, sizeof(*g));
    sel(f, NULL, MATCH_EQ, NULL, ALL, false, g); /* one stream's chunk is skipped, no crash */
    assert_int_equal(g->n, 40);
    logs_store_stats_t st;
    logs_store_get_stats(f->s, &st);
    assert_int_equal(st.corrupt_blocks, 1);
    sel(f, NULL, MATCH_EQ, NULL, ALL, true, g);
    logs_store_get_stats(f->s, &st);
    assert_int_equal(st.corrupt_blocks, 1); /* counted once per block */
    free(g);
}

static void test_corrupt_block_files(void **state)
{
    fx_t *f = *state;
    /* every kind of damage: index bytes, footer, truncation, emptiness */
    static const struct {
        long flip_at;  /* 0: none */
        long trunc_to; /* -1: none; < -1: size + trunc_to */
    } cases[] = { { -30, -1 }, { -45, -1 }, { -3, -1 }, { 0, -50 }, { 0, 20 }, { 0, 0 }, { 2, -1 } };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fill_block(f);
        char path[512];
        only_block(f->dir, path, sizeof(path));
        logs_store_close(f->s);
        f->s = NULL;
        if (cases[i].flip_at) {
            flip(path, cases[i].flip_at);
        }
        if (cases[i].trunc_to != -1) {
            struct stat st;
            stat(path, &st);
            long to = cases[i].trunc_to < -1 ? st.st_size + cases[i].trunc_to : cases[i].trunc_to;
            assert_int_equal(truncate(path, to), 0);
        }
        fx_open(f);
        logs_store_stats_t st;
        logs_store_get_stats(f->s, &st);
        if (st.corrupt_blocks != 1 || st.blocks != 0) {
            fail_msg("case %zu: corrupt %llu blocks %llu", i, (unsigned long long)st.corrupt_blocks,
                     (unsigned long long)st.blocks);
        }
        got_t g = { 0 };
        sel(f, NULL, MATCH_EQ, NULL, ALL, false, &g);
        /* set aside, so the next round starts clean */
        char aside[600];
        snprintf(aside, sizeof(aside), "%s.corrupt", path);
        assert_int_equal(unlink(aside), 0);
        fx_reopen(f);
    }
}

static void test_filter_skips(void **state)
{
    fx_t *f = *state;
    char lines[8][64];
    for (int b = 0; b < 8; b++) {
        snprintf(lines[b], sizeof(lines[b]), "GET /index.html status=200 block%d%s", b, b == 5 ? " needle" : "");
        ent_t e[2] = { { T0 + b * 10 * SEC, lines[b] }, { T0 + b * 10 * SEC + 1, "filler line of text" } };
        push1(f, "job=web", e, 2, NULL);
        assert_int_equal(logs_store_flush(f->s), 0);
    }
    logs_store_stats_t st0, st1;
    logs_store_get_stats(f->s, &st0);
    matcher_t m;
    char err[64];
    assert_int_equal(matcher_init(&m, MATCH_EQ, STR_LIT("job"), STR_LIT("web"), err, sizeof(err)), 0);
    str_t must[1] = { STR_LIT("needle") };
    logs_select_t q = { .ms = &m, .nms = 1, .start_ns = T0, .end_ns = T0 + 1000 * SEC, .must = must, .nmust = 1 };
    got_t *g = calloc(1, sizeof(*g));
    assert_int_equal(logs_store_select(f->s, &q, collect, g), 0);
    logs_store_get_stats(f->s, &st1);
    assert_non_null(strstr(g->buf, "block5 needle"));
    assert_true(st1.blocks_skipped_by_filter - st0.blocks_skipped_by_filter >= 1);
    assert_true(st1.blocks_read - st0.blocks_read < st0.blocks * 2);
    /* a literal shorter than a trigram never skips; an absent one skips all */
    must[0] = STR_LIT("ne");
    memset(g, 0, sizeof(*g));
    assert_int_equal(logs_store_select(f->s, &q, collect, g), 0);
    assert_int_equal(g->n, 16);
    must[0] = STR_LIT("no such text anywhere");
    memset(g, 0, sizeof(*g));
    assert_int_equal(logs_store_select(f->s, &q, collect, g), 0);
    logs_store_stats_t st2;
    logs_store_get_stats(f->s, &st2);
    assert_true(g->n <= 2);
    assert_true(st2.blocks_skipped_by_filter - st1.blocks_skipped_by_filter >= st2.blocks - 1);
    matcher_fini(&m);
    free(g);
}

typedef struct needle_hunt {
    size_t rows;
    int found;
} needle_hunt_t;

static int hunt(void *ctx, const label_t *ls, size_t nls, const logs_entry_t *e, size_t n)
{
    needle_hunt_t *h = ctx;
    (void)ls;
    (void)nls;
    for (size_t i = 0; i < n; i++) {
        h->found += memmem(e[i].line.p, e[i].line.len, "11321 NEEDLE-q7z", 16) != NULL;
    }
    h->rows += n;
    return 0;
}

/* A chunk of several frames (LOGS_FRAME_RAW each): a needle in one
 * frame is found, and the store hands over only the frames whose filter
 * admits it (plus nothing else), so far fewer rows than the chunk holds;
 * without a literal every row comes back, identical across reopen. */
static void test_frames_partial_read(void **state)
{
    fx_t *f = *state;
    enum { N = 12000 }; /* 12000 x ~85 B = ~1 MB: frames of 512, 256 and ~250 KiB in one chunk */
    ent_t *e = calloc(N, sizeof(*e));
    char(*ls)[160] = calloc(N, 160);
    for (int i = 0; i < N; i++) {
        snprintf(ls[i], 160, "%05d %s level=info msg=\"request handled\" path=/api/v1/items/%d took=%dms user=u%d", i,
                 i == 11321 ? "NEEDLE-q7z" : "plain", i % 97, i % 13, i % 31);
        e[i] = (ent_t){ T0 + i * SEC, ls[i] };
    }
    push1(f, "job=frames", e, N, NULL);
    assert_int_equal(logs_store_flush(f->s), 0);
    matcher_t m;
    char err[64];
    assert_int_equal(matcher_init(&m, MATCH_EQ, STR_LIT("job"), STR_LIT("frames"), err, sizeof(err)), 0);
    str_t must[1] = { STR_LIT("NEEDLE-q7z") };
    logs_select_t q = { .ms = &m, .nms = 1, .start_ns = T0, .end_ns = T0 + N * SEC, .must = must, .nmust = 1 };
    needle_hunt_t h = { 0 };
    assert_int_equal(logs_store_select(f->s, &q, hunt, &h), 0);
    assert_int_equal(h.found, 1);
    assert_true(h.rows > 0 && h.rows < N / 4); /* the needle's frame (~2700 rows), not the chunk */
    q.nmust = 0;
    memset(&h, 0, sizeof(h));
    assert_int_equal(logs_store_select(f->s, &q, hunt, &h), 0);
    assert_int_equal(h.rows, N);
    assert_int_equal(h.found, 1);
    fx_reopen(f);
    memset(&h, 0, sizeof(h));
    q.nmust = 1;
    assert_int_equal(logs_store_select(f->s, &q, hunt, &h), 0);
    assert_int_equal(h.found, 1);
    matcher_fini(&m);
    free(ls);
    free(e);
}

/* A head cut alone in its 6 h window stays at the cut's fast zstd level
 * while the window is open, and is rewritten by the compaction level once
 * the clock has left the window (no flush needed). */
static void test_lone_cut_compacted_after_window(void **state)
{
    fx_t *f = *state;
    const ent_t e[] = { { T0, "lone line" } };
    push1(f, "job=lone", e, 1, NULL);
    assert_int_equal(logs_cut(f->s, true), 0);
    assert_int_equal(logs_compact(f->s, false), 0);
    assert_int_equal(f->s->nblocks, 1);
    assert_int_equal(f->s->blocks[0]->level, 0); /* the window (T0's 6 h) is still open */
    f->now_ms += 7 * 3600 * 1000;
    assert_int_equal(logs_compact(f->s, false), 0);
    assert_int_equal(f->s->nblocks, 1);
    assert_int_equal(f->s->blocks[0]->level, 1);
    logs_store_stats_t st;
    logs_store_get_stats(f->s, &st);
    assert_int_equal(st.compactions, 1);
    got_t *g = calloc(1, sizeof(*g));
    sel(f, "job", MATCH_EQ, "lone", ALL, false, g);
    assert_non_null(strstr(g->buf, "lone line"));
    free(g);
}

static void test_backward_limit_reads_newest(void **state)
{
    fx_t *f = *state;
    f->o.block_bytes = 4096;
    fx_reopen(f);
    char line[64];
    for (int b = 0; b < 20; b++) {
        ent_t e[200];
        char(*ls)[64] = calloc(200, 64);
        for (int i = 0; i < 200; i++) {
            snprintf(ls[i], 64, "line %d of batch %d with some padding", i, b);
            e[i] = (ent_t){ T0 + (b * 200 + i) * SEC, ls[i] };
        }
        push1(f, "job=x", e, 200, NULL);
        push1(f, "job=y", e, 10, NULL);
        free(ls);
    }
    (void)line;
    assert_int_equal(logs_store_flush(f->s), 0);
    logs_store_stats_t st0, st1;
    logs_store_get_stats(f->s, &st0);
    got_t *g = calloc(1, sizeof(*g));
    g->stop_after = 100;
    sel(f, "job", MATCH_RE, "x|y", ALL, true, g);
    logs_store_get_stats(f->s, &st1);
    assert_int_equal(g->n, 200);
    assert_non_null(strstr(g->buf, "{job=x} 3999 line 199 of batch 19"));
    /* The flush compacted: 16 KiB chunks (block_bytes x LOGS_COMPACT_CHUNK_MUL)
     * of ~40-byte lines, so 100 lines span one or two chunks per stream,
     * out of ~10 per stream. */
    assert_true(st1.blocks_read - st0.blocks_read <= 4);
    free(g);
}

static void test_retention(void **state)
{
    fx_t *f = *state;
    f->o.retention_ns = 24 * 3600 * SEC;
    fx_reopen(f);
    const ent_t old[] = { { T0, "old" } };
    push1(f, "job=a", old, 1, NULL);
    assert_int_equal(logs_store_flush(f->s), 0);
    f->now_ms += 2 * 3600 * 1000;
    const ent_t fresh[] = { { T0 + 2 * 3600 * SEC, "fresh" } };
    push1(f, "job=a", fresh, 1, NULL);
    assert_int_equal(logs_store_flush(f->s), 0);
    logs_store_stats_t st;
    logs_store_get_stats(f->s, &st);
    assert_int_equal(st.blocks, 2);
    f->now_ms += 23 * 3600 * 1000; /* the first block is now past retention */
    assert_int_equal(logs_store_flush(f->s), 0);
    logs_store_get_stats(f->s, &st);
    assert_int_equal(st.blocks, 1);
    assert_int_equal(st.retention_dropped_blocks, 1);
    got_t *g = calloc(1, sizeof(*g));
    sel(f, "job", MATCH_EQ, "a", ALL, false, g);
    assert_string_equal(g->buf, "{job=a} 7200 fresh\n");
    fx_reopen(f);
    sel(f, "job", MATCH_EQ, "a", ALL, false, g);
    assert_string_equal(g->buf, "{job=a} 7200 fresh\n");
    free(g);
}

static void test_compaction_equivalence(void **state)
{
    fx_t *f = *state;
    got_t *before = calloc(1, sizeof(*before)), *after = calloc(1, sizeof(*after));
    char lines[64][48];
    for (int r = 0; r < 6; r++) {
        ent_t e[16];
        for (int i = 0; i < 16; i++) {
            int k = r * 8 + i; /* rounds overlap by half */
            snprintf(lines[(r * 16 + i) % 64], 48, "event %d", k);
            e[i] = (ent_t){ T0 + k * SEC, lines[(r * 16 + i) % 64] };
        }
        push1(f, r % 2 ? "job=a" : "job=a,shard=1", e, 16, NULL);
        push1(f, "job=b", e, 16, NULL);
        if (r < 5) {
            assert_int_equal(logs_store_flush(f->s), 0);
        }
    }
    sel(f, NULL, MATCH_EQ, NULL, ALL, false, before);
    logs_store_stats_t st;
    logs_store_get_stats(f->s, &st);
    /* Each flush rewrites its head cut at the compaction level (5), and the
     * fourth flush's four compacted blocks of one window merge (1). */
    assert_int_equal(st.compactions, 6);
    assert_int_equal(logs_store_flush(f->s), 0);
    sel(f, NULL, MATCH_EQ, NULL, ALL, false, after);
    assert_string_equal(before->buf, after->buf);
    sel(f, NULL, MATCH_EQ, NULL, ALL, true, after);
    assert_int_equal(after->n, before->n);
    fx_reopen(f);
    sel(f, NULL, MATCH_EQ, NULL, ALL, false, after);
    assert_string_equal(before->buf, after->buf);
    free(before);
    free(after);
}

static void test_background_cuts(void **state)
{
    fx_t *f = *state;
    f->o.background = true;
    f->o.block_bytes = 1024;
    fx_reopen(f);
    char lines[100][64];
    ent_t e[100];
    for (int i = 0; i < 100; i++) {
        snprintf(lines[i], sizeof(lines[i]), "background line %d", i);
        e[i] = (ent_t){ T0 + i * SEC, lines[i] };
    }
    push1(f, "job=bg", e, 100, NULL);
    logs_store_stats_t st = { 0 };
    for (int i = 0; i < 200 && st.blocks == 0; i++) {
        usleep(20000);
        logs_store_get_stats(f->s, &st);
    }
    assert_true(st.blocks >= 1);
    got_t *g = calloc(1, sizeof(*g));
    sel(f, "job", MATCH_EQ, "bg", ALL, false, g);
    assert_int_equal(g->n, 100);
    free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_matchers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_labels_series_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_after_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_kill9, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_wal_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_block_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_block_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filter_skips, setup, teardown),
        cmocka_unit_test_setup_teardown(test_frames_partial_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lone_cut_compacted_after_window, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backward_limit_reads_newest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compaction_equivalence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_background_cuts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

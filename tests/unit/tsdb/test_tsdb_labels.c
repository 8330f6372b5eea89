/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for tsdb/tsdb_labels.c: label names, label values, series and
 * metadata lookups over a store with series in the head, in blocks (after
 * a flush), and in both. Each case table row gives the matcher sets, the
 * time range and the limit, and the expected answer joined by '|' (series
 * as "name=value,name=value"). Checked: unions of sets, the time-range
 * filter by series bounds (head chunks, out-of-order samples, blocks),
 * empty-value matchers, byte order of the results, limit and truncation,
 * and metadata lookup by family.
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/matcher.h"
#include "tsdb/tsdb.h"

#define MIN 60000LL
#define T0 1700000000000LL

typedef struct fx {
    char dir[64];
    int64_t now;
    tsdb_t *db;
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

/* Append series "name{k=v,...}" (pairs as "k=v" strings) with samples. */
static void put(fx_t *f, const char *const *pairs, size_t np, const int64_t *ts, size_t n)
{
    label_t ls[8];
    char copy[8][64];
    for (size_t i = 0; i < np; i++) {
        snprintf(copy[i], sizeof(copy[i]), "%s", pairs[i]);
        char *eq = strchr(copy[i], '=');
        *eq = '\0';
        ls[i].name = str_cstr(copy[i]);
        ls[i].value = str_cstr(eq + 1);
    }
    size_t nl = labels_normalize(ls, np);
    tsdb_sample_t s[16];
    for (size_t i = 0; i < n; i++) {
        s[i].t = ts[i];
        s[i].v = (double)i;
    }
    tsdb_input_t in = { ls, nl, s, n };
    tsdb_append_result_t res;
    assert_int_equal(tsdb_append(f->db, &in, 1, &res), 0);
    assert_int_equal(res.accepted, n);
}

static void load(fx_t *f)
{
    /* a: T0..T0+10m; b: T0+60m..T0+70m; c: T0+120m; d: T0+30m; e: out of
     * order at T0+190m after a sample at T0+200m. */
    const char *a[] = { "__name__=up", "job=node", "instance=h1" };
    const char *b[] = { "__name__=up", "job=api", "instance=h2" };
    const char *c[] = { "__name__=requests_total", "job=node", "env=prod" };
    const char *d[] = { "__name__=Up", "job=node" };
    const char *e[] = { "__name__=late", "zone=z" };
    int64_t ta[] = { T0, T0 + 5 * MIN, T0 + 10 * MIN };
    int64_t tb[] = { T0 + 60 * MIN, T0 + 70 * MIN };
    int64_t tc[] = { T0 + 120 * MIN };
    int64_t td[] = { T0 + 30 * MIN };
    int64_t te1[] = { T0 + 200 * MIN };
    int64_t te2[] = { T0 + 190 * MIN };
    put(f, a, 3, ta, 3);
    put(f, b, 3, tb, 2);
    put(f, c, 3, tc, 1);
    put(f, d, 2, td, 1);
    put(f, e, 2, te1, 1);
    put(f, e, 2, te2, 1);
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/pharos-labels-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->now = T0 + 300 * MIN;
    tsdb_opts_t o = {
        .dir = f->dir, .block_range_ms = 60 * MIN, .ooo_window_ms = 24 * 60 * MIN, .clock = { fixed_now, &f->now }
    };
    char err[256];
    if (tsdb_open(&o, &f->db, err, sizeof(err)) != 0) {
        fail_msg("tsdb_open: %s", err);
    }
    f->a = arena_create(4096);
    load(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    tsdb_close(f->db);
    arena_destroy(f->a);
    nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* Matcher sets from text: sets separated by ';', matchers by ',', each
 * "name<op>value" with op = != =~ !~ (no quoting). */
typedef struct msets {
    matcher_t ms[8][4];
    tsdb_matchset_t sets[8];
    size_t nsets;
} msets_t;

static void msets_parse(msets_t *m, const char *text)
{
    memset(m, 0, sizeof(*m));
    if (!text) {
        return;
    }
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", text);
    char *save1 = NULL;
    for (char *set = strtok_r(buf, ";", &save1); set; set = strtok_r(NULL, ";", &save1)) {
        tsdb_matchset_t *s = &m->sets[m->nsets];
        s->ms = m->ms[m->nsets];
        char *save2 = NULL;
        for (char *one = strtok_r(set, ",", &save2); one; one = strtok_r(NULL, ",", &save2)) {
            size_t nl = strcspn(one, "=!");
            const char *op = one + nl;
            match_type_t t = strncmp(op, "=~", 2) == 0   ? MATCH_RE
                             : strncmp(op, "!~", 2) == 0 ? MATCH_NRE
                             : strncmp(op, "!=", 2) == 0 ? MATCH_NEQ
                                                         : MATCH_EQ;
            const char *val = op + (t == MATCH_EQ ? 1 : 2);
            char err[128];
            assert_int_equal(matcher_init(&s->ms[s->n], t, str_from(one, nl), str_cstr(val), err, sizeof(err)), 0);
            s->n++;
        }
        m->nsets++;
    }
}

static void msets_fini(msets_t *m)
{
    for (size_t i = 0; i < m->nsets; i++) {
        for (size_t k = 0; k < m->sets[i].n; k++) {
            matcher_fini(&m->sets[i].ms[k]);
        }
    }
}

static void join(const str_t *v, size_t n, buf_t *out)
{
    for (size_t i = 0; i < n; i++) {
        buf_printf(out, "%s%.*s", i ? "|" : "", (int)v[i].len, v[i].p);
    }
}

typedef struct lcase {
    const char *what; /* "names", "values:<name>", "series" */
    const char *sets; /* NULL: no match[] */
    int64_t mint, maxt;
    size_t limit;
    const char *want;
    bool truncated;
} lcase_t;

#define ALL INT64_MIN, INT64_MAX

static const lcase_t cases[] = {
    { "names", NULL, ALL, 0, "__name__|env|instance|job|zone", false },
    { "names", "job=api", ALL, 0, "__name__|instance|job", false },
    { "names", "job=api;__name__=late", ALL, 0, "__name__|instance|job|zone", false },
    { "names", "job=nope", ALL, 0, "", false },
    { "names", "__name__=~.+", T0 + 100 * MIN, INT64_MAX, 0, "__name__|env|job|zone", false },
    { "names", NULL, T0 + 100 * MIN, INT64_MAX, 0, "__name__|env|job|zone", false },
    { "names", NULL, ALL, 2, "__name__|env", true },
    { "names", NULL, ALL, 5, "__name__|env|instance|job|zone", false },
    { "names", NULL, T0 + 60 * MIN, T0 + 65 * MIN, 0, "__name__|instance|job", false },
    { "names", NULL, T0 + 11 * MIN, T0 + 29 * MIN, 0, "", false },
    { "names", NULL, T0 + 4 * MIN, T0 + 6 * MIN, 0, "__name__|instance|job", false },
    { "names", NULL, T0 + 189 * MIN, T0 + 191 * MIN, 0, "__name__|zone", false },
    { "values:job", NULL, ALL, 0, "api|node", false },
    { "values:job", "__name__=up", ALL, 0, "api|node", false },
    { "values:job", "__name__=Up;__name__=late", ALL, 0, "node", false },
    { "values:job", "__name__=~.+", ALL, 0, "api|node", false },
    { "values:job", "__name__=~.+", ALL, 1, "api", true },
    { "values:job", "__name__=~.+", T0 + 100 * MIN, INT64_MAX, 0, "node", false },
    { "values:job", NULL, T0 + 100 * MIN, INT64_MAX, 0, "node", false },
    { "values:__name__", NULL, ALL, 0, "Up|late|requests_total|up", false },
    { "values:__name__", NULL, ALL, 3, "Up|late|requests_total", true },
    { "values:__name__", "env=", ALL, 0, "Up|late|up", false },
    { "values:__name__", "__name__=~.*u.*", T0 + 100 * MIN, INT64_MAX, 0, "requests_total", false },
    { "values:__name__", "job!=node", ALL, 0, "late|up", false },
    { "values:nope", NULL, ALL, 0, "", false },
    { "values:instance", NULL, T0 + 200 * MIN, INT64_MAX, 0, "", false },
    { "series", "job=node", ALL, 0,
      "__name__=Up,job=node|__name__=requests_total,env=prod,job=node|"
      "__name__=up,instance=h1,job=node",
      false },
    { "series", "job=node", ALL, 1, "__name__=Up,job=node", true },
    { "series", "__name__=up;instance=h2", ALL, 0, "__name__=up,instance=h1,job=node|__name__=up,instance=h2,job=api",
      false },
    { "series", "__name__=~.+", T0 + 4 * MIN, T0 + 30 * MIN, 0, "__name__=Up,job=node|__name__=up,instance=h1,job=node",
      false },
    { "series", NULL, T0 + 300 * MIN, INT64_MAX, 0, "", false },
};

static void run_case(fx_t *f, const lcase_t *c, const char *phase)
{
    msets_t m;
    msets_parse(&m, c->sets);
    buf_t got = { 0 };
    bool trunc = !c->truncated;
    if (strcmp(c->what, "names") == 0) {
        str_t *v = NULL;
        size_t n = tsdb_labels_names(f->db, m.sets, m.nsets, c->mint, c->maxt, c->limit, f->a, &v, &trunc);
        join(v, n, &got);
    } else if (strncmp(c->what, "values:", 7) == 0) {
        str_t *v = NULL;
        size_t n = tsdb_labels_values(f->db, str_cstr(c->what + 7), m.sets, m.nsets, c->mint, c->maxt, c->limit, f->a,
                                      &v, &trunc);
        join(v, n, &got);
    } else {
        tsdb_series_labels_t *s = NULL;
        size_t n = tsdb_labels_series(f->db, m.sets, m.nsets, c->mint, c->maxt, c->limit, f->a, &s, &trunc);
        for (size_t i = 0; i < n; i++) {
            buf_puts(&got, i ? "|" : "");
            for (size_t k = 0; k < s[i].n; k++) {
                buf_printf(&got, "%s%.*s=%.*s", k ? "," : "", (int)s[i].labels[k].name.len, s[i].labels[k].name.p,
                           (int)s[i].labels[k].value.len, s[i].labels[k].value.p);
            }
        }
    }
    const char *g = got.data ? (const char *)got.data : "";
    if (strcmp(g, c->want) != 0 || trunc != c->truncated) {
        fail_msg("%s: %s match %s limit %zu: got \"%s\" (truncated %d), want \"%s\" (truncated %d)", phase, c->what,
                 c->sets ? c->sets : "-", c->limit, g, trunc, c->want, c->truncated);
    }
    buf_fini(&got);
    msets_fini(&m);
    arena_reset(f->a);
}

static void run_all(fx_t *f, const char *phase)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run_case(f, &cases[i], phase);
    }
}

static void test_head(void **state)
{
    run_all(*state, "head");
}

static void test_blocks(void **state)
{
    fx_t *f = *state;
    assert_int_equal(tsdb_flush(f->db), 0);
    tsdb_stats_t st;
    tsdb_get_stats(f->db, &st);
    assert_true(st.blocks > 0);
    assert_int_equal(st.head_samples, 0);
    run_all(f, "blocks");
}

static void test_head_and_blocks(void **state)
{
    fx_t *f = *state;
    assert_int_equal(tsdb_flush(f->db), 0);
    /* New samples in the head for a series now in blocks, and a new one. */
    const char *b[] = { "__name__=up", "job=api", "instance=h2" };
    const char *g[] = { "__name__=fresh" };
    int64_t tb[] = { T0 + 250 * MIN };
    put(f, b, 3, tb, 1);
    put(f, g, 1, tb, 1);
    msets_t m;
    msets_parse(&m, "__name__=~.+");
    tsdb_series_labels_t *s = NULL;
    bool trunc = true;
    assert_int_equal(tsdb_labels_series(f->db, m.sets, m.nsets, T0 + 240 * MIN, INT64_MAX, 0, f->a, &s, &trunc), 2);
    assert_false(trunc);
    assert_true(str_eq_cstr(s[0].labels[0].value, "fresh"));
    assert_true(str_eq_cstr(s[1].labels[1].value, "h2"));
    str_t *v = NULL;
    assert_int_equal(tsdb_labels_values(f->db, STR_LIT("instance"), NULL, 0, ALL, 0, f->a, &v, &trunc), 2);
    msets_fini(&m);
}

static void test_metadata(void **state)
{
    fx_t *f = *state;
    tsdb_meta_t *md = NULL;
    assert_int_equal(tsdb_labels_metadata(f->db, STR_LIT(""), 0, f->a, &md), 0);
    tsdb_set_metadata(f->db, STR_LIT("up"), 2, STR_LIT("Target is up."), STR_LIT(""));
    tsdb_set_metadata(f->db, STR_LIT("http_requests"), 1, STR_LIT("Requests <served> & \"done\"."), STR_LIT(""));
    tsdb_set_metadata(f->db, STR_LIT("latency"), 3, STR_LIT("Latency."), STR_LIT("seconds"));
    tsdb_set_metadata(f->db, STR_LIT("up"), 2, STR_LIT("Target is up (new)."), STR_LIT(""));
    assert_int_equal(tsdb_labels_metadata(f->db, STR_LIT(""), 0, f->a, &md), 3);
    assert_true(str_eq_cstr(md[0].family, "http_requests"));
    assert_int_equal(md[0].type, 1);
    assert_true(str_eq_cstr(md[1].family, "latency"));
    assert_true(str_eq_cstr(md[1].unit, "seconds"));
    assert_true(str_eq_cstr(md[2].help, "Target is up (new)."));
    assert_int_equal(tsdb_labels_metadata(f->db, STR_LIT(""), 2, f->a, &md), 2);
    assert_true(str_eq_cstr(md[1].family, "latency"));
    assert_int_equal(tsdb_labels_metadata(f->db, STR_LIT("up"), 0, f->a, &md), 1);
    assert_int_equal(md[0].type, 2);
    assert_int_equal(tsdb_labels_metadata(f->db, STR_LIT("nope"), 0, f->a, &md), 0);
}

int main(void)
{
    log_set_level(LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_head, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_and_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metadata, setup, teardown),
    };
    return cmocka_run_group_tests_name("tsdb_labels", tests, NULL, NULL);
}

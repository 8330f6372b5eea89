/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for server/server_ingest.c: server_ingest_remote_write against a
 * real store in a mkdtemp dir (fixed clock, no background thread), then
 * once through pharosd's HTTP surface (server_start on a free port).
 *
 * The case table builds WriteRequests from protoc-c structs directly (not
 * ts_rw_encode) so labels may hold NULs and invalid UTF-8 and series may
 * carry exemplars, native histograms and metadata. Each case runs on a
 * fresh store: an optional priming request, then the request under test;
 * it checks the status, a substring of the message, the stats, and a dump
 * of everything stored (tsdb_select), so "the valid series ARE stored" is
 * checked alongside each rejection. Times in dumps are relative to T0.
 *
 * Hostile bodies are separate tests: random bytes, every truncation of a
 * valid snappy body, and valid snappy around a bad protobuf (random bytes,
 * every truncation, wrong wire types, huge declared lengths). None of them
 * may store anything, and none may answer anything but 204/400/413.
 *
 * Decision: a NUL byte in a label value is valid UTF-8 (U+0000), and
 * Prometheus' receiver accepts it, so it is stored as given.
 */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/compress.h"
#include "common/httpc.h"
#include "common/log.h"
#include "common/matcher.h"
#include "proto/remote.pb-c.h"
#include "server/server.h"
#include "testsupport.h"
#include "tsdb/tsdb.h"

#define T0 1700000000000LL
#define HOUR (3600 * 1000LL)
#define MAXL 10 /* labels per test series */
#define MAXS 4  /* samples per test series */
#define MAXSER 5
#define LIMIT_VALUE 64
#define LIMIT_LABELS 8
#define MAX_DECODED (64 * 1024)

#define VAL64 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

/* ---- request builder ---- */

typedef struct tl {
    const char *n;
    size_t nl;
    const char *v;
    size_t vl;
} tl_t;

/* Lengths from sizeof, so literals may embed NUL bytes. */
#define L(n, v)                                                                                                        \
    {                                                                                                                  \
        (n), sizeof(n) - 1, (v), sizeof(v) - 1                                                                         \
    }

typedef struct tser {
    tl_t l[MAXL]; /* up to the first .n == NULL */
    int64_t t[MAXS];
    double v[MAXS];
    size_t ns;
    size_t nex;   /* exemplars attached */
    size_t nhist; /* native histogram samples attached */
} tser_t;

typedef struct treq {
    tser_t s[MAXSER];
    size_t n;
    bool meta; /* three metadata entries: one valid, one without family, one with bad UTF-8 help */
} treq_t;

static void bytes_set(ProtobufCBinaryData *d, const char *p, size_t len)
{
    d->data = (uint8_t *)p;
    d->len = len;
}

/* Encode r as a WriteRequest protobuf into out (reset first). */
static void enc_raw(const treq_t *r, buf_t *out)
{
    Prometheus__WriteRequest wr = PROMETHEUS__WRITE_REQUEST__INIT;
    Prometheus__TimeSeries ts[MAXSER];
    Prometheus__TimeSeries *tsp[MAXSER];
    Prometheus__Label ls[MAXSER][MAXL];
    Prometheus__Label *lsp[MAXSER][MAXL];
    Prometheus__Sample ss[MAXSER][MAXS];
    Prometheus__Sample *ssp[MAXSER][MAXS];
    Prometheus__Label exl = PROMETHEUS__LABEL__INIT;
    Prometheus__Label *exlp[1] = { &exl };
    Prometheus__Exemplar ex = PROMETHEUS__EXEMPLAR__INIT;
    Prometheus__Exemplar *exp[4] = { &ex, &ex, &ex, &ex };
    Prometheus__Histogram h = PROMETHEUS__HISTOGRAM__INIT;
    Prometheus__Histogram *hp[4] = { &h, &h, &h, &h };
    Prometheus__MetricMetadata md[3];
    Prometheus__MetricMetadata *mdp[3] = { &md[0], &md[1], &md[2] };

    bytes_set(&exl.name, "trace_id", 8);
    bytes_set(&exl.value, "abc", 3);
    ex.labels = exlp;
    ex.n_labels = 1;
    ex.value = 1.5;
    ex.timestamp = T0;
    h.count_case = PROMETHEUS__HISTOGRAM__COUNT_COUNT_INT;
    h.count_int = 3;
    h.sum = 4.5;
    h.timestamp = T0;
    assert_true(r->n <= MAXSER);
    for (size_t i = 0; i < r->n; i++) {
        const tser_t *s = &r->s[i];
        prometheus__time_series__init(&ts[i]);
        size_t nl = 0;
        while (nl < MAXL && s->l[nl].n) {
            prometheus__label__init(&ls[i][nl]);
            bytes_set(&ls[i][nl].name, s->l[nl].n, s->l[nl].nl);
            bytes_set(&ls[i][nl].value, s->l[nl].v, s->l[nl].vl);
            lsp[i][nl] = &ls[i][nl];
            nl++;
        }
        ts[i].labels = lsp[i];
        ts[i].n_labels = nl;
        assert_true(s->ns <= MAXS);
        for (size_t k = 0; k < s->ns; k++) {
            prometheus__sample__init(&ss[i][k]);
            ss[i][k].timestamp = s->t[k];
            ss[i][k].value = s->v[k];
            ssp[i][k] = &ss[i][k];
        }
        ts[i].samples = ssp[i];
        ts[i].n_samples = s->ns;
        assert_true(s->nex <= 4 && s->nhist <= 4);
        ts[i].exemplars = exp;
        ts[i].n_exemplars = s->nex;
        ts[i].histograms = hp;
        ts[i].n_histograms = s->nhist;
        tsp[i] = &ts[i];
    }
    wr.timeseries = tsp;
    wr.n_timeseries = r->n;
    if (r->meta) {
        for (int i = 0; i < 3; i++) {
            prometheus__metric_metadata__init(&md[i]);
            md[i].type = PROMETHEUS__METRIC_METADATA__METRIC_TYPE__COUNTER;
        }
        bytes_set(&md[0].metric_family_name, "m_total", 7);
        bytes_set(&md[0].help, "Things.", 7);
        bytes_set(&md[1].help, "No family.", 10);
        bytes_set(&md[2].metric_family_name, "m2", 2);
        bytes_set(&md[2].help, "bad \xff", 5);
        wr.metadata = mdp;
        wr.n_metadata = 3;
    }
    size_t len = prometheus__write_request__get_packed_size(&wr);
    buf_reset(out);
    buf_reserve(out, len);
    prometheus__write_request__pack(&wr, out->data);
    out->len = len;
    out->data[len] = 0;
}

static void enc_snappy(const uint8_t *raw, size_t len, buf_t *out)
{
    buf_reset(out);
    compress_snappy(raw, len, out);
}

static void enc(const treq_t *r, buf_t *out)
{
    buf_t raw = { 0 };
    enc_raw(r, &raw);
    enc_snappy(raw.data, raw.len, out);
    buf_fini(&raw);
}

/* ---- fixture ---- */

typedef struct fx {
    char dir[128];
    int64_t now;
    tsdb_t *db;
    server_ingest_limits_t lim;
    server_ingest_stats_t st;
    char msg[1024];
} fx_t;

static int64_t fixed_now(void *ctx)
{
    return *(int64_t *)ctx;
}

static void fx_open(fx_t *f)
{
    ts_rmrf(f->dir);
    tsdb_opts_t o = { .dir = f->dir,
                      .block_range_ms = 2 * HOUR,
                      .ooo_window_ms = HOUR,
                      .background = false,
                      .clock = { fixed_now, &f->now } };
    char err[256];
    if (tsdb_open(&o, &f->db, err, sizeof(err)) != 0) {
        fail_msg("tsdb_open: %s", err);
    }
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    assert_int_equal(ts_tempdir("pharos-ingest", f->dir, sizeof(f->dir)), 0);
    f->now = T0;
    f->lim = (server_ingest_limits_t){
        .labels = { .max_name_len = 32, .max_value_len = LIMIT_VALUE, .max_labels = LIMIT_LABELS },
        .max_decoded = MAX_DECODED,
    };
    fx_open(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    tsdb_close(f->db);
    ts_rmrf(f->dir);
    free(f);
    return 0;
}

/* Fresh, empty store in the same dir. */
static void fx_reset(fx_t *f)
{
    tsdb_close(f->db);
    f->db = NULL;
    fx_open(f);
}

static int ingest(fx_t *f, const uint8_t *body, size_t len)
{
    memset(f->msg, 'Z', sizeof(f->msg));
    int rc = server_ingest_remote_write(f->db, &f->lim, body, len, NULL, &f->st, f->msg, sizeof(f->msg));
    assert_non_null(memchr(f->msg, 0, sizeof(f->msg)));
    if (rc == 204) {
        assert_string_equal(f->msg, "");
    } else {
        assert_true(f->msg[0] != '\0');
        assert_null(strchr(f->msg, '\n'));
    }
    return rc;
}

/* ---- dump of the store: one line per series, "labels t:v t:v" ---- */

static void fmt_value(double v, buf_t *b)
{
    if (ts_bits(v) == TSDB_STALE_NAN_BITS) {
        buf_puts(b, "stale");
    } else if (isnan(v)) {
        buf_puts(b, "nan");
    } else {
        buf_printf(b, "%.17g", v);
    }
}

static int dump_one(void *ctx, const label_t *ls, size_t nl, const int64_t *ts, const double *vs, size_t n)
{
    buf_t *b = ctx;
    labels_format(ls, nl, b);
    for (size_t i = 0; i < n; i++) {
        buf_printf(b, " %lld:", (long long)(ts[i] - T0));
        fmt_value(vs[i], b);
    }
    buf_putc(b, '\n');
    return 0;
}

static void dump(fx_t *f, buf_t *out)
{
    char err[128];
    buf_reset(out);
    buf_puts(out, ""); /* data is a C string even when nothing is selected */
    assert_int_equal(ts_select(f->db, "{__name__=~\".+\"}", INT64_MIN, INT64_MAX, dump_one, out, err, sizeof(err)), 0);
}

/* ctx: uint64_t[3], the bits of the first three values. */
static int collect_bits(void *ctx, const label_t *ls, size_t nl, const int64_t *ts, const double *vs, size_t n)
{
    (void)ls;
    (void)nl;
    (void)ts;
    uint64_t *out = ctx;
    for (size_t i = 0; i < n && i < 3; i++) {
        out[i] = ts_bits(vs[i]);
    }
    return 0;
}

static void assert_nothing_stored(fx_t *f)
{
    buf_t d = { 0 };
    dump(f, &d);
    assert_string_equal((const char *)d.data, "");
    buf_fini(&d);
}

/* ---- the case table ---- */

typedef struct icase {
    const char *name;
    treq_t pre; /* ingested first when it has series or metadata; must answer 204 */
    treq_t req;
    int status;
    const char *msg;    /* substring of the answer (NULL for 204) */
    const char *stored; /* dump after the request */
    uint64_t exemplars, metadata, histograms, accepted;
} icase_t;

#define M(name) L("__name__", name)
#define S1(t0, v0) .t = { (t0) }, .v = { (v0) }, .ns = 1
#define STALE 0x1.5p-1000 /* replaced by the StaleNaN in prepare() */

static const icase_t cases[] = {
    {
        .name = "valid: exact values, StaleNaN, +-Inf",
        .req = { .n = 2, .s = {
            { .l = { M("up"), L("job", "a") }, .t = { -3000, -2000, -1000, 0 },
              .v = { 1, STALE, 1e-300, INFINITY }, .ns = 4 },
            { .l = { M("temp") }, .t = { -1000, 0 }, .v = { -INFINITY, 0.1 }, .ns = 2 },
        } },
        .status = 204,
        .stored = "{__name__=\"up\", job=\"a\"} -3000:1 -2000:stale -1000:1e-300 0:inf\n"
                  "{__name__=\"temp\"} -1000:-inf 0:0.10000000000000001\n",
        .accepted = 6,
    },
    {
        .name = "series without __name__",
        .req = { .n = 1, .s = { { .l = { L("job", "a") }, S1(0, 1) } } },
        .status = 400, .msg = "1 of 1 series rejected (first: series has no __name__ label)", .stored = "",
    },
    {
        .name = "duplicate label names, sorted",
        .req = { .n = 1, .s = { { .l = { M("m"), L("job", "x"), L("job", "y") }, S1(0, 1) } } },
        .status = 400, .msg = "duplicate label name \"job\"", .stored = "",
    },
    {
        .name = "duplicate label names, unsorted",
        .req = { .n = 1, .s = { { .l = { L("job", "x"), M("m"), L("a", "1"), L("job", "y") }, S1(0, 1) } } },
        .status = 400, .msg = "duplicate label name \"job\"", .stored = "",
    },
    {
        .name = "unsorted without duplicates: sorted by us",
        .req = { .n = 1, .s = { { .l = { L("zone", "z"), M("m"), L("inst", "b") }, S1(0, 1) } } },
        .status = 204, .stored = "{__name__=\"m\", inst=\"b\", zone=\"z\"} 0:1\n", .accepted = 1,
    },
    {
        .name = "invalid label name a-b",
        .req = { .n = 1, .s = { { .l = { M("m"), L("a-b", "1") }, S1(0, 1) } } },
        .status = 400, .msg = "invalid label name \"a-b\"", .stored = "",
    },
    {
        .name = "invalid metric name 1abc",
        .req = { .n = 1, .s = { { .l = { M("1abc") }, S1(0, 1) } } },
        .status = 400, .msg = "invalid metric name \"1abc\"", .stored = "",
    },
    {
        .name = "invalid UTF-8 in a value",
        .req = { .n = 1, .s = { { .l = { M("m"), L("v", "ok\xff") }, S1(0, 1) } } },
        .status = 400, .msg = "label value of \"v\" is not valid UTF-8", .stored = "",
    },
    {
        .name = "overlong UTF-8 (C0 80) in a value",
        .req = { .n = 1, .s = { { .l = { M("m"), L("v", "\xc0\x80") }, S1(0, 1) } } },
        .status = 400, .msg = "not valid UTF-8", .stored = "",
    },
    {
        .name = "NUL in a value: valid UTF-8, stored",
        .req = { .n = 1, .s = { { .l = { M("m"), L("v", "a\0b") }, S1(0, 1) } } },
        .status = 204, .stored = "{__name__=\"m\", v=\"a\\x00b\"} 0:1\n", .accepted = 1,
    },
    {
        .name = "NUL in a label name",
        .req = { .n = 1, .s = { { .l = { M("m"), L("a\0b", "1") }, S1(0, 1) } } },
        .status = 400, .msg = "invalid label name \"a\\x00b\"", .stored = "",
    },
    {
        .name = "label value at the limit",
        .req = { .n = 1, .s = { { .l = { M("m"), L("v", VAL64) }, S1(0, 1) } } },
        .status = 204, .stored = "{__name__=\"m\", v=\"" VAL64 "\"} 0:1\n", .accepted = 1,
    },
    {
        .name = "label value over the limit",
        .req = { .n = 1, .s = { { .l = { M("m"), L("v", VAL64 "x") }, S1(0, 1) } } },
        .status = 400, .msg = "label \"v\" value length 65 exceeds limit 64", .stored = "",
    },
    {
        .name = "too many labels",
        .req = { .n = 1, .s = { { .l = { M("m"), L("a", "1"), L("b", "1"), L("c", "1"), L("d", "1"), L("e", "1"),
                                         L("f", "1"), L("g", "1"), L("h", "1") }, S1(0, 1) } } },
        .status = 400, .msg = "series has 9 labels, limit is 8", .stored = "",
    },
    {
        .name = "empty label value dropped",
        .req = { .n = 1, .s = { { .l = { M("m"), L("job", ""), L("a", "1") }, S1(0, 1) } } },
        .status = 204, .stored = "{__name__=\"m\", a=\"1\"} 0:1\n", .accepted = 1,
    },
    {
        .name = "mixed valid and invalid series",
        .req = { .n = 4, .s = {
            { .l = { M("good1") }, S1(0, 1) },
            { .l = { L("job", "x") }, .t = { 0, 1000 }, .v = { 1, 2 }, .ns = 2 },
            { .l = { M("good2"), L("j", "y") }, .t = { 0, 1000 }, .v = { 3, 4 }, .ns = 2 },
            { .l = { M("m"), L("a-b", "1") }, S1(0, 1) },
        } },
        .status = 400,
        .msg = "2 of 4 series rejected (first: series has no __name__ label); 3 samples stored",
        .stored = "{__name__=\"good1\"} 0:1\n{__name__=\"good2\", j=\"y\"} 0:3 1000:4\n",
        .accepted = 3,
    },
    {
        .name = "duplicate sample, same value: not doubled",
        .pre = { .n = 1, .s = { { .l = { M("m") }, S1(0, 1) } } },
        .req = { .n = 1, .s = { { .l = { M("m") }, .t = { 0, 1000 }, .v = { 1, 2 }, .ns = 2 } } },
        .status = 204, .stored = "{__name__=\"m\"} 0:1 1000:2\n", .accepted = 1,
    },
    {
        .name = "duplicate StaleNaN: same bits, not doubled",
        .pre = { .n = 1, .s = { { .l = { M("m") }, S1(0, STALE) } } },
        .req = { .n = 1, .s = { { .l = { M("m") }, S1(0, STALE) } } },
        .status = 204, .stored = "{__name__=\"m\"} 0:stale\n",
    },
    {
        .name = "same timestamp, other value",
        .pre = { .n = 1, .s = { { .l = { M("m") }, S1(0, 1) } } },
        .req = { .n = 2, .s = {
            { .l = { M("m") }, .t = { 0, 1000 }, .v = { 5, 6 }, .ns = 2 },
            { .l = { M("n") }, S1(0, 7) },
        } },
        .status = 400, .msg = "1 samples rejected (first: duplicate sample for timestamp",
        .stored = "{__name__=\"m\"} 0:1 1000:6\n{__name__=\"n\"} 0:7\n", .accepted = 2,
    },
    {
        .name = "too-old sample",
        .pre = { .n = 1, .s = { { .l = { M("m") }, S1(0, 1) } } },
        .req = { .n = 2, .s = {
            { .l = { M("m") }, S1(-2 * HOUR, 5) },
            { .l = { M("n") }, S1(0, 7) },
        } },
        .status = 400, .msg = "sample too old", .stored = "{__name__=\"m\"} 0:1\n{__name__=\"n\"} 0:7\n",
        .accepted = 1,
    },
    {
        .name = "exemplars: ignored",
        .req = { .n = 1, .s = { { .l = { M("m") }, S1(0, 1), .nex = 2 } } },
        .status = 204, .stored = "{__name__=\"m\"} 0:1\n", .exemplars = 2, .accepted = 1,
    },
    {
        .name = "native histogram series rejected, others stored",
        .req = { .n = 2, .s = {
            { .l = { M("h") }, .nhist = 2 },
            { .l = { M("m") }, S1(0, 1) },
        } },
        .status = 400, .msg = "1 of 2 series rejected (first: native histograms are not supported)",
        .stored = "{__name__=\"m\"} 0:1\n", .histograms = 1, .accepted = 1,
    },
    {
        .name = "metadata counted",
        .req = { .n = 1, .s = { { .l = { M("m_total") }, S1(0, 1) } }, .meta = true },
        .status = 204, .stored = "{__name__=\"m_total\"} 0:1\n", .metadata = 1, .accepted = 1,
    },
    {
        .name = "metadata again: same entries, empty unit",
        .pre = { .meta = true },
        .req = { .meta = true },
        .status = 204, .stored = "", .metadata = 1,
    },
    {
        .name = "metadata only",
        .req = { .meta = true },
        .status = 204, .stored = "", .metadata = 1,
    },
    {
        .name = "empty WriteRequest",
        .req = { .n = 0 },
        .status = 204, .stored = "",
    },
};

/* Table times are relative to T0, and STALE stands for the StaleNaN,
 * which no C literal spells. */
static void prepare(treq_t *r)
{
    for (size_t i = 0; i < r->n; i++) {
        for (size_t k = 0; k < r->s[i].ns; k++) {
            r->s[i].t[k] += T0;
            if (r->s[i].v[k] == STALE) {
                r->s[i].v[k] = ts_from_bits(TSDB_STALE_NAN_BITS);
            }
        }
    }
}

static void run_case(fx_t *f, const icase_t *c)
{
    print_message("case: %s\n", c->name);
    fx_reset(f);
    buf_t body = { 0 };
    treq_t r;
    if (c->pre.n || c->pre.meta) {
        r = c->pre;
        prepare(&r);
        enc(&r, &body);
        assert_int_equal(ingest(f, body.data, body.len), 204);
    }
    r = c->req;
    prepare(&r);
    enc(&r, &body);
    int rc = ingest(f, body.data, body.len);
    if (rc != c->status) {
        fail_msg("%s: status %d, want %d (%s)", c->name, rc, c->status, f->msg);
    }
    if (c->msg && !strstr(f->msg, c->msg)) {
        fail_msg("%s: message \"%s\" lacks \"%s\"", c->name, f->msg, c->msg);
    }
    assert_int_equal(f->st.series_total, c->req.n);
    assert_int_equal(f->st.exemplars_ignored, c->exemplars);
    assert_int_equal(f->st.metadata, c->metadata);
    assert_int_equal(f->st.series_rejected[7], c->histograms);
    assert_int_equal(f->st.samples_accepted, c->accepted);
    buf_t d = { 0 };
    dump(f, &d);
    if (strcmp((const char *)d.data, c->stored) != 0) {
        fail_msg("%s: stored\n%s\nwant\n%s", c->name, (const char *)d.data, c->stored);
    }
    buf_fini(&d);
    buf_fini(&body);
}

static void test_table(void **state)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run_case(*state, &cases[i]);
    }
}

/* The per-reason series counters follow labels_status_t. */
static void test_reject_counters(void **state)
{
    fx_t *f = *state;
    treq_t r = { .n = 5,
                 .s = {
                     { .l = { L("job", "x") }, S1(T0, 1) },
                     { .l = { M("m"), L("a", "1"), L("a", "2") }, S1(T0, 1) },
                     { .l = { M("m"), L("a-b", "1") }, S1(T0, 1) },
                     { .l = { M("m"), L("a", "\xfe") }, .t = { T0, T0 + 1 }, .v = { 1, 2 }, .ns = 2 },
                     { .l = { M("m"), L("a", VAL64 "y") }, S1(T0, 1) },
                 } };
    buf_t body = { 0 };
    enc(&r, &body);
    assert_int_equal(ingest(f, body.data, body.len), 400);
    assert_int_equal(f->st.series_rejected[LABELS_NO_NAME], 1);
    assert_int_equal(f->st.series_rejected[LABELS_DUP_NAME], 1);
    assert_int_equal(f->st.series_rejected[LABELS_BAD_NAME], 1);
    assert_int_equal(f->st.series_rejected[LABELS_BAD_UTF8], 1);
    assert_int_equal(f->st.series_rejected[LABELS_TOO_LONG], 1);
    assert_int_equal(f->st.samples_dropped_with_series, 6);
    assert_int_equal(f->st.samples_accepted, 0);
    assert_non_null(strstr(f->msg, "5 of 5 series rejected"));
    assert_nothing_stored(f);
    buf_fini(&body);
}

static void put_varint(buf_t *b, uint64_t v)
{
    while (v >= 0x80) {
        buf_putc(b, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    buf_putc(b, (uint8_t)v);
}

/* Append a length-delimited field (key byte given) holding inner. */
static void put_msg(buf_t *b, uint8_t key, const buf_t *inner)
{
    buf_putc(b, key);
    put_varint(b, inner->len);
    buf_append(b, inner->data, inner->len);
}

/* protoc-c (like gogo-protobuf in Prometheus) omits a proto3 double that
 * compares equal to 0, so -0.0 never reaches the wire from those senders;
 * other encoders send it. Hand-built bytes check that a -0.0 and a NaN
 * payload that is on the wire are stored bit-exactly. */
static void test_wire_values_bit_exact(void **state)
{
    fx_t *f = *state;
    static const uint64_t want[] = { 0x8000000000000000ULL, 0x7ff8000000000001ULL, TSDB_STALE_NAN_BITS };
    buf_t label = { 0 }, ts = { 0 }, wr = { 0 }, body = { 0 };
    buf_putc(&label, 0x0a);
    put_varint(&label, 8);
    buf_puts(&label, "__name__");
    buf_putc(&label, 0x12);
    put_varint(&label, 1);
    buf_puts(&label, "z");
    put_msg(&ts, 0x0a, &label);
    for (size_t i = 0; i < 3; i++) {
        buf_t sample = { 0 };
        buf_putc(&sample, 0x09);
        for (int k = 0; k < 8; k++) {
            buf_putc(&sample, (uint8_t)(want[i] >> (8 * k)));
        }
        buf_putc(&sample, 0x10);
        put_varint(&sample, (uint64_t)(T0 + (int64_t)i));
        put_msg(&ts, 0x12, &sample);
        buf_fini(&sample);
    }
    put_msg(&wr, 0x0a, &ts);
    enc_snappy(wr.data, wr.len, &body);
    assert_int_equal(ingest(f, body.data, body.len), 204);
    buf_t d = { 0 };
    dump(f, &d);
    assert_string_equal((const char *)d.data, "{__name__=\"z\"} 0:-0 1:nan 2:stale\n");
    matcher_t m;
    assert_int_equal(matcher_init(&m, MATCH_EQ, STR_LIT("__name__"), STR_LIT("z"), NULL, 0), 0);
    uint64_t got[3] = { 0 };
    assert_int_equal(tsdb_select(f->db, &m, 1, INT64_MIN, INT64_MAX, collect_bits, got), 0);
    matcher_fini(&m);
    assert_int_equal(got[0], want[0]);
    assert_int_equal(got[1], want[1]);
    assert_int_equal(got[2], want[2]);
    buf_fini(&d);
    buf_fini(&label);
    buf_fini(&ts);
    buf_fini(&wr);
    buf_fini(&body);
}

/* ---- hostile bodies ---- */

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static const treq_t valid_req = { .n = 2,
                                  .s = {
                                      { .l = { M("up"), L("job", "node"), L("instance", "h:9100") },
                                        .t = { T0 - 1000, T0 },
                                        .v = { 1, 2 },
                                        .ns = 2 },
                                      { .l = { M("temp"), L("zone", "z") }, S1(T0, 21.5), .nex = 1 },
                                  } };

static void test_empty_body(void **state)
{
    fx_t *f = *state;
    assert_int_equal(ingest(f, (const uint8_t *)"", 0), 400);
    assert_non_null(strstr(f->msg, "snappy"));
    assert_nothing_stored(f);
}

static void test_random_bytes(void **state)
{
    fx_t *f = *state;
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    uint8_t b[512];
    for (int iter = 0; iter < 300; iter++) {
        size_t len = 2 + (size_t)(rng_next(&seed) % (sizeof(b) - 2));
        for (size_t i = 0; i < len; i++) {
            b[i] = (uint8_t)rng_next(&seed);
        }
        int rc = ingest(f, b, len);
        assert_true(rc == 400 || rc == 413);
        if (rc == 413) {
            assert_non_null(strstr(f->msg, "exceeds the limit"));
        } else {
            assert_non_null(strstr(f->msg, "snappy"));
        }
    }
    assert_nothing_stored(f);
}

static void test_truncated_snappy(void **state)
{
    fx_t *f = *state;
    buf_t body = { 0 };
    enc(&valid_req, &body);
    for (size_t len = 0; len < body.len; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, body.data, len);
        int rc = ingest(f, copy, len); /* exact-size copy: ASan sees any overread */
        free(copy);
        if (rc != 400 || !strstr(f->msg, "snappy")) {
            fail_msg("truncated at %zu: %d %s", len, rc, f->msg);
        }
    }
    assert_nothing_stored(f);
    assert_int_equal(ingest(f, body.data, body.len), 204);
    buf_fini(&body);
}

/* Snappy-wrap raw and expect a protobuf rejection that stores nothing. */
static void expect_bad_pb(fx_t *f, const uint8_t *raw, size_t len, const char *what)
{
    buf_t body = { 0 };
    enc_snappy(raw, len, &body);
    int rc = ingest(f, body.data, body.len);
    if (rc != 400 || !strstr(f->msg, "protobuf")) {
        fail_msg("%s (%zu bytes): %d %s", what, len, rc, f->msg);
    }
    buf_fini(&body);
}

static void test_truncated_protobuf(void **state)
{
    fx_t *f = *state;
    buf_t raw = { 0 };
    treq_t one = valid_req;
    one.n = 1; /* one top-level field: every proper, non-empty prefix is malformed */
    enc_raw(&one, &raw);
    for (size_t len = 1; len < raw.len; len++) {
        char what[64];
        snprintf(what, sizeof(what), "truncated protobuf at %zu", len);
        expect_bad_pb(f, raw.data, len, what);
    }
    assert_nothing_stored(f);
    buf_fini(&raw);
}

typedef struct pbcase {
    const char *name;
    const char *bytes;
    size_t len;
} pbcase_t;

#define PB(name, b)                                                                                                    \
    {                                                                                                                  \
        name, b, sizeof(b) - 1                                                                                         \
    }

static const pbcase_t bad_pbs[] = {
    PB("timeseries as varint", "\x08\x01"),
    PB("timeseries as fixed64", "\x09\x01\x02\x03\x04\x05\x06\x07\x08"),
    PB("timeseries as fixed32", "\x0d\x01\x02\x03\x04"),
    PB("start-group wire type", "\x0b\x0c"),
    PB("wire type 6", "\x0e\x00"),
    PB("wire type 7", "\x0f\x00"),
    PB("field number 0", "\x02\x00"),
    PB("label as varint", "\x0a\x02\x08\x01"),
    PB("sample value as varint", "\x0a\x04\x12\x02\x08\x01"),
    PB("sample timestamp as length", "\x0a\x05\x12\x03\x12\x01\x00"),
    PB("label name as varint", "\x0a\x04\x0a\x02\x08\x01"),
    PB("huge timeseries length", "\x0a\xff\xff\xff\xff\x0f"),
    PB("huge 64-bit length", "\x0a\xff\xff\xff\xff\xff\xff\xff\xff\x7f"),
    PB("overlong varint length", "\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
    PB("huge label length", "\x0a\x08\x0a\x06\x0a\xff\xff\xff\xff\x07"),
    PB("nested length past parent", "\x0a\x03\x0a\x05\x0a\x01\x61\x12\x01\x62"),
    PB("metadata truncated", "\x1a\x05\x08\x01\x12"),
    PB("truncated varint key", "\x80"),
    PB("fixed64 truncated", "\x0a\x04\x12\x02\x09\x00"),
};

static void test_bad_protobuf(void **state)
{
    fx_t *f = *state;
    for (size_t i = 0; i < sizeof(bad_pbs) / sizeof(bad_pbs[0]); i++) {
        expect_bad_pb(f, (const uint8_t *)bad_pbs[i].bytes, bad_pbs[i].len, bad_pbs[i].name);
    }
    /* Random protobuf bodies: malformed or, when they parse, nothing valid. */
    uint64_t seed = 42;
    uint8_t b[256];
    int malformed = 0;
    for (int iter = 0; iter < 300; iter++) {
        size_t len = 1 + (size_t)(rng_next(&seed) % sizeof(b));
        for (size_t i = 0; i < len; i++) {
            b[i] = (uint8_t)rng_next(&seed);
        }
        buf_t body = { 0 };
        enc_snappy(b, len, &body);
        int rc = ingest(f, body.data, body.len);
        assert_true(rc == 400 || rc == 204);
        malformed += rc == 400 && strstr(f->msg, "protobuf") != NULL;
        buf_fini(&body);
    }
    assert_true(malformed > 250);
    assert_nothing_stored(f);
}

static void test_decoded_too_large(void **state)
{
    fx_t *f = *state;
    /* Many samples of one series: a small compressed body, a large decoded one. */
    size_t n = 8000;
    ProtobufCBinaryData nm = { 8, (uint8_t *)"__name__" }, v = { 1, (uint8_t *)"m" };
    Prometheus__Label l = PROMETHEUS__LABEL__INIT;
    l.name = nm;
    l.value = v;
    Prometheus__Label *lp = &l;
    Prometheus__Sample *ss = calloc(n, sizeof(*ss));
    Prometheus__Sample **ssp = calloc(n, sizeof(*ssp));
    for (size_t i = 0; i < n; i++) {
        prometheus__sample__init(&ss[i]);
        ss[i].timestamp = T0;
        ss[i].value = 1;
        ssp[i] = &ss[i];
    }
    Prometheus__TimeSeries ts = PROMETHEUS__TIME_SERIES__INIT;
    ts.labels = &lp;
    ts.n_labels = 1;
    ts.samples = ssp;
    ts.n_samples = n;
    Prometheus__TimeSeries *tsp = &ts;
    Prometheus__WriteRequest wr = PROMETHEUS__WRITE_REQUEST__INIT;
    wr.timeseries = &tsp;
    wr.n_timeseries = 1;
    size_t len = prometheus__write_request__get_packed_size(&wr);
    assert_true(len > MAX_DECODED);
    uint8_t *raw = malloc(len);
    prometheus__write_request__pack(&wr, raw);
    buf_t body = { 0 };
    enc_snappy(raw, len, &body);
    assert_true(body.len < MAX_DECODED);
    assert_int_equal(ingest(f, body.data, body.len), 413);
    assert_non_null(strstr(f->msg, "decoded body exceeds the limit of 65536 bytes"));
    assert_nothing_stored(f);
    /* Exactly at the limit is accepted. */
    f->lim.max_decoded = len;
    assert_int_equal(ingest(f, body.data, body.len), 204);
    buf_fini(&body);
    free(raw);
    free(ss);
    free(ssp);
}

/* A snappy header claiming 4 GiB - 1 in a 6-byte body: 413 before allocating. */
static void test_snappy_claims_huge(void **state)
{
    fx_t *f = *state;
    static const uint8_t b[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00 };
    assert_int_equal(ingest(f, b, sizeof(b)), 413);
    assert_nothing_stored(f);
}

/* ---- through HTTP ---- */

static long http_post(httpc_t *c, const char *base, const buf_t *body, buf_t *resp)
{
    httpc_result_t res;
    buf_reset(resp);
    ts_rw_post(c, base, body, resp, &res);
    return res.http_code;
}

static long http_get(httpc_t *c, const char *base, const char *path, buf_t *resp)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", base, path);
    httpc_result_t res;
    buf_reset(resp);
    httpc_get(c, url, NULL, resp, &res);
    return res.http_code;
}

static void assert_metric(const buf_t *metrics, const char *line)
{
    if (!strstr((const char *)metrics->data, line)) {
        fail_msg("/metrics lacks \"%s\"", line);
    }
}

static void test_http(void **state)
{
    fx_t *f = *state;
    char data[192], listen[64], storage[256];
    snprintf(data, sizeof(data), "%s/http", f->dir);
    uint16_t port = ts_free_port();
    assert_true(port != 0);
    snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%u", port);
    snprintf(storage, sizeof(storage), "--storage.path=%s", data);
    char *argv[] = { "pharosd", listen, storage, "--web.max-body=1KiB", "--ingest.max-decoded-body=1KiB", NULL };
    server_config_t cfg;
    char err[256];
    assert_int_equal(server_config_load(5, argv, &cfg, stdout, err, sizeof(err)), SERVER_CFG_OK);
    server_t *s = NULL;
    if (server_start(&cfg, &s, err, sizeof(err)) != 0) {
        server_config_free(&cfg);
        fail_msg("server_start: %s", err);
    }
    assert_int_equal(server_port(s), port);
    char base[64];
    snprintf(base, sizeof(base), "http://127.0.0.1:%u", port);
    httpc_t *c = httpc_create(5000);
    buf_t body = { 0 }, resp = { 0 };

    /* 204: real-clock timestamps, as the server's store uses the wall clock. */
    pclock_t wall = clock_real();
    int64_t now = clock_now_ms(&wall);
    treq_t ok = { .n = 1, .s = { { .l = { M("http_up"), L("job", "j") }, S1(now, 1) } } };
    enc(&ok, &body);
    assert_int_equal(http_post(c, base, &body, &resp), 204);
    /* 400: one bad series next to a good one; the good one is stored. */
    treq_t mixed = { .n = 2,
                     .s = {
                         { .l = { L("job", "j") }, S1(now, 1) },
                         { .l = { M("http_other") }, S1(now, 2) },
                     } };
    enc(&mixed, &body);
    assert_int_equal(http_post(c, base, &body, &resp), 400);
    assert_non_null(strstr((const char *)resp.data, "series has no __name__ label"));
    /* 400: not snappy. */
    buf_reset(&body);
    buf_puts(&body, "not snappy at all");
    assert_int_equal(http_post(c, base, &body, &resp), 400);
    /* 413 from the handler: 2 KiB of zeros decodes past 1 KiB. */
    uint8_t zeros[2048] = { 0 };
    enc_snappy(zeros, sizeof(zeros), &body);
    assert_true(body.len < 1024);
    assert_int_equal(http_post(c, base, &body, &resp), 413);
    /* 413 from the body limit, before the handler. */
    buf_reset(&body);
    for (int i = 0; i < 1100; i++) {
        buf_putc(&body, (uint8_t)i);
    }
    assert_int_equal(http_post(c, base, &body, &resp), 413);
    assert_int_equal(http_get(c, base, "/api/v1/write", &resp), 405);
    assert_int_equal(http_get(c, base, "/api/v1/nope", &resp), 404);

    ts_exported_t *e = NULL;
    size_t ne = 0;
    assert_int_equal(ts_export(c, base, "{__name__=~\"http_.*\"}", &e, &ne), 0);
    assert_int_equal(ne, 2);
    assert_string_equal(e[0].labels, "__name__=http_up,job=j");
    assert_string_equal(e[1].labels, "__name__=http_other");
    assert_int_equal(e[1].n, 1);
    assert_true(e[1].vs[0] == 2);
    ts_exported_free(e, ne);

    assert_int_equal(http_get(c, base, "/metrics", &resp), 200);
    assert_metric(&resp, "pharos_remote_write_requests_total{code=\"204\"} 1\n");
    assert_metric(&resp, "pharos_remote_write_requests_total{code=\"400\"} 2\n");
    assert_metric(&resp, "pharos_remote_write_requests_total{code=\"413\"} 1\n");
    assert_metric(&resp, "pharos_remote_write_series_rejected_total{reason=\"no_name\"} 1\n");
    assert_metric(&resp, "pharos_tsdb_samples_rejected_total{reason=\"invalid_series\"} 1\n");
    assert_metric(&resp, "pharos_tsdb_samples_appended_total 2\n");

    buf_fini(&body);
    buf_fini(&resp);
    httpc_destroy(c);
    server_stop(s);
    server_config_free(&cfg);
}

int main(void)
{
    log_set_level(LOG_WARN); /* every case opens a store; keep the output to the results */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reject_counters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wire_values_bit_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_snappy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_protobuf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_protobuf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decoded_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snappy_claims_huge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_alerts_mgr: the rule manager over a real tsdb in a temp dir, at
 * injected times: recording rules and chains, the alert state machine
 * (pending, firing, resolved, dropped, keep_firing_for), ALERTS and
 * ALERTS_FOR_STATE, stale markers, limits and label clashes, what is sent
 * and when, reloads (state kept, bad files refused with file:line), the
 * for-state restore, and the group slot.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "alerts/alerts.h"
#include "alerts/alerts_int.h"
#include "common/mem.h"
#include "testsupport.h"
#include "tsdb/tsdb.h"

#define T0 1700000000000LL /* a minute boundary */
#define MIN 60000LL

typedef struct sent {
    char labels[512];
    char annotations[512];
    int64_t starts, ends;
    char url[512];
    int64_t now;
} sent_t;

typedef struct fx {
    char dir[256];
    tsdb_t *db;
    alerts_mgr_t *m;
    int64_t now;
    sent_t sent[256];
    size_t nsent;
} fx_t;

static int64_t fx_now(void *ctx)
{
    return ((fx_t *)ctx)->now;
}

static int fx_append(void *ctx, const tsdb_input_t *in, size_t n)
{
    tsdb_append_result_t res;
    return tsdb_append(((fx_t *)ctx)->db, in, n, &res);
}

static void fx_send(void *ctx, const alerts_alert_t *a, size_t n, int64_t now)
{
    fx_t *f = ctx;
    for (size_t i = 0; i < n && f->nsent < 256; i++) {
        sent_t *s = &f->sent[f->nsent++];
        buf_t b;
        buf_init(&b);
        labels_format(a[i].labels, a[i].nlabels, &b);
        snprintf(s->labels, sizeof(s->labels), "%.*s", (int)b.len, (const char *)b.data);
        buf_reset(&b);
        labels_format(a[i].annotations, a[i].nannotations, &b);
        snprintf(s->annotations, sizeof(s->annotations), "%.*s", (int)b.len, (const char *)b.data);
        buf_fini(&b);
        s->starts = a[i].starts_at_ms;
        s->ends = a[i].ends_at_ms;
        snprintf(s->url, sizeof(s->url), "%s", a[i].generator_url);
        s->now = now;
    }
}

static void fx_open_db(fx_t *f)
{
    tsdb_opts_t o = { .dir = f->dir, .ooo_window_ms = 1LL << 40, .future_ms = 1LL << 40 };
    o.clock = (pclock_t){ .now_ms = fx_now, .ctx = f };
    char err[256];
    assert_int_equal(tsdb_open(&o, &f->db, err, sizeof(err)), 0);
}

static alerts_mgr_t *fx_mgr(fx_t *f, bool no_restore)
{
    static const char *const ext[] = { "cluster", "c1" };
    alerts_mgr_opts_t o = {
        .src = promql_source_tsdb(f->db),
        .append = fx_append,
        .append_ctx = f,
        .send = fx_send,
        .send_ctx = f,
        .external_labels = ext,
        .nexternal_labels = 1,
        .external_url = "http://pharos:9747",
        .no_restore = no_restore,
        .clock = { .now_ms = fx_now, .ctx = f },
    };
    return alerts_mgr_create(&o);
}

static int setup(void **state)
{
    fx_t *f = mem_calloc(1, sizeof(*f));
    assert_int_equal(ts_tempdir("mgr", f->dir, sizeof(f->dir)), 0);
    f->now = T0;
    fx_open_db(f);
    f->m = fx_mgr(f, true);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    alerts_mgr_destroy(f->m);
    tsdb_close(f->db);
    ts_rmrf(f->dir);
    mem_free(f);
    return 0;
}

static void write_file(fx_t *f, const char *name, const char *text, char *path, size_t len)
{
    snprintf(path, len, "%s/%s", f->dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static int load(fx_t *f, const char *text, buf_t *err)
{
    char path[512];
    write_file(f, "rules.yml", text, path, sizeof(path));
    const char *globs[] = { path };
    return alerts_mgr_load(f->m, globs, 1, NULL, 0, err);
}

static void load_ok(fx_t *f, const char *text)
{
    buf_t err;
    buf_init(&err);
    int rc = load(f, text, &err);
    if (rc != 0) {
        fprintf(stderr, "%.*s", (int)err.len, (const char *)err.data);
    }
    assert_int_equal(rc, 0);
    buf_fini(&err);
}

static void put(fx_t *f, const char *name, const char *l1, const char *v1, int64_t t, double v)
{
    label_t ls[2] = { { STR_LIT("__name__"), str_from(name, strlen(name)) },
                      { str_from(l1, strlen(l1)), str_from(v1, strlen(v1)) } };
    labels_sort(ls, 2);
    tsdb_sample_t s = { .t = t, .v = v };
    tsdb_input_t in = { .labels = ls, .nlabels = 2, .samples = &s, .nsamples = 1 };
    assert_int_equal(fx_append(f, &in, 1), 0);
}

/* Every sample of series matching sel in [mint, maxt], as "t=v ..." text;
 * a stale marker prints as "t=stale". */
typedef struct dump {
    buf_t b;
} dump_t;

static int dump_fn(void *ctx, const label_t *ls, size_t nl, const int64_t *ts, const double *vs, size_t n)
{
    dump_t *d = ctx;
    labels_format(ls, nl, &d->b);
    buf_puts(&d->b, ":");
    for (size_t i = 0; i < n; i++) {
        if (ts_bits(vs[i]) == TSDB_STALE_NAN_BITS) {
            buf_printf(&d->b, " %lld=stale", (long long)((ts[i] - T0) / 1000));
        } else {
            buf_printf(&d->b, " %lld=%g", (long long)((ts[i] - T0) / 1000), vs[i]);
        }
    }
    buf_puts(&d->b, "\n");
    return 0;
}

static char *dump(fx_t *f, const char *sel)
{
    dump_t d;
    buf_init(&d.b);
    char err[256];
    assert_int_equal(ts_select(f->db, sel, T0 - 3600000, T0 + 24 * 3600000LL, dump_fn, &d, err, sizeof(err)), 0);
    buf_putc(&d.b, 0);
    size_t len;
    return (char *)buf_steal(&d.b, &len);
}

static void assert_dump(fx_t *f, const char *sel, const char *want)
{
    char *got = dump(f, sel);
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "selector %s\n got: %s\nwant: %s\n", sel, got, want);
    }
    assert_string_equal(got, want);
    mem_free(got);
}

static void eval_at(fx_t *f, size_t gi, int64_t ts)
{
    f->now = ts;
    assert_int_equal(alerts_mgr_eval_group(f->m, gi, ts), 0);
}

/* ---- recording rules ---- */

static void test_recording_chain(void **state)
{
    fx_t *f = *state;
    put(f, "reqs", "job", "a", T0, 10);
    put(f, "reqs", "job", "b", T0, 5);
    load_ok(f, "groups:\n"
               "- name: rec\n"
               "  rules:\n"
               "  - record: job:reqs:sum\n"
               "    expr: sum(reqs)\n"
               "    labels: {team: x}\n"
               "  - record: job:reqs:double\n"
               "    expr: job:reqs:sum * 2\n"
               "  - record: scalar:one\n"
               "    expr: '1'\n");
    eval_at(f, 0, T0 + 1000);
    assert_dump(f, "job:reqs:sum", "{__name__=\"job:reqs:sum\", team=\"x\"}: 1=15\n");
    /* The second rule saw the first one's output at the same timestamp. */
    assert_dump(f, "job:reqs:double", "{__name__=\"job:reqs:double\", team=\"x\"}: 1=30\n");
    assert_dump(f, "scalar:one", "{__name__=\"scalar:one\"}: 1=1\n");
}

static void test_recording_stale_and_errors(void **state)
{
    fx_t *f = *state;
    put(f, "up", "job", "a", T0, 1);
    put(f, "up", "job", "b", T0, 1);
    put(f, "up", "job", "a", T0 + 2 * MIN, 1);
    load_ok(f, "groups:\n"
               "- name: rec\n"
               "  rules:\n"
               "  - record: up:copy\n"
               "    expr: up\n"
               "  - record: clash\n"
               "    expr: up\n"
               "    labels: {job: same}\n"
               "  - record: lim\n"
               "    expr: up\n"
               "- name: limited\n"
               "  limit: 1\n"
               "  rules:\n"
               "  - record: lim\n"
               "    expr: up\n"
               "  - record: matrix\n"
               "    expr: up[1m]\n");
    eval_at(f, 0, T0);
    eval_at(f, 1, T0);
    pthread_mutex_lock(&f->m->mu);
    mgr_group_t *g0 = &f->m->rs->groups[0], *g1 = &f->m->rs->groups[1];
    assert_int_equal(g0->rules[1].health, MGR_HEALTH_ERR);
    assert_string_equal(g0->rules[1].last_error,
                        "vector contains metrics with the same labelset after applying rule labels");
    assert_int_equal(g1->rules[0].health, MGR_HEALTH_ERR);
    assert_string_equal(g1->rules[0].last_error, "exceeded limit 1 with 2 series");
    assert_string_equal(g1->rules[1].last_error, "rule result is not a vector or scalar");
    assert_int_equal(g0->rules[0].health, MGR_HEALTH_OK);
    assert_null(g0->rules[0].last_error);
    pthread_mutex_unlock(&f->m->mu);
    /* The lookback is (t - 5m, t]: at T0+6m only job a remains. */
    eval_at(f, 0, T0 + 6 * MIN);
    assert_dump(f, "up:copy",
                "{__name__=\"up:copy\", job=\"a\"}: 0=1 360=1\n"
                "{__name__=\"up:copy\", job=\"b\"}: 0=1 360=stale\n");
    /* A clash is an error (nothing written) until only one series is left. */
    assert_dump(f, "clash", "{__name__=\"clash\", job=\"same\"}: 360=1\n");
    assert_dump(f, "{__name__=\"lim\"}",
                "{__name__=\"lim\", job=\"a\"}: 0=1 360=1\n"
                "{__name__=\"lim\", job=\"b\"}: 0=1 360=stale\n");

    pthread_mutex_lock(&f->m->mu);
    assert_int_equal(f->m->rs->groups[0].rules[1].health, MGR_HEALTH_OK);
    assert_null(f->m->rs->groups[0].rules[1].last_error);
    pthread_mutex_unlock(&f->m->mu);
}

static void test_group_labels(void **state)
{
    fx_t *f = *state;
    put(f, "up", "job", "a", T0, 0);
    load_ok(f, "groups:\n"
               "- name: g\n"
               "  labels: {team: db, tier: x}\n"
               "  rules:\n"
               "  - record: r\n"
               "    expr: up\n"
               "    labels: {tier: y}\n"
               "  - alert: A\n"
               "    expr: up == 0\n");
    eval_at(f, 0, T0);
    /* Group labels apply to every rule; a rule's own label wins. */
    assert_dump(f, "r", "{__name__=\"r\", job=\"a\", team=\"db\", tier=\"y\"}: 0=0\n");
    arena_t *a = arena_create(4096);
    alerts_active_t *al;
    assert_int_equal(alerts_mgr_alerts(f->m, a, &al), 1);
    buf_t b;
    buf_init(&b);
    labels_format(al[0].labels, al[0].nlabels, &b);
    buf_putc(&b, 0);
    assert_string_equal((char *)b.data, "{alertname=\"A\", job=\"a\", team=\"db\", tier=\"x\"}");
    buf_reset(&b);
    const char *file, *name;
    assert_int_equal(alerts_mgr_group_info(f->m, 0, &file, &name), 0);
    assert_string_equal(name, "g");
    assert_non_null(strstr(file, "rules.yml"));
    assert_int_equal(alerts_mgr_group_info(f->m, 1, &file, &name), -1);
    assert_int_equal(alerts_mgr_group_errors(f->m, 0, &b), 0);
    buf_fini(&b);
    arena_destroy(a);
}

/* ---- alerting rules ---- */

static const char *alert_rules = "groups:\n"
                                 "- name: al\n"
                                 "  rules:\n"
                                 "  - alert: Down\n"
                                 "    expr: up == 0\n"
                                 "    for: 2m\n"
                                 "    labels: {severity: page, inst: '{{ $labels.job }}-x'}\n"
                                 "    annotations:\n"
                                 "      summary: '{{ $labels.job }} down, value {{ $value }}'\n"
                                 "      cluster: '{{ $externalLabels.cluster }}'\n";

static size_t alerts_now(fx_t *f, alerts_active_t **out, arena_t *a)
{
    return alerts_mgr_alerts(f->m, a, out);
}

static void test_alert_lifecycle(void **state)
{
    fx_t *f = *state;
    load_ok(f, alert_rules);
    arena_t *a = arena_create(4096);
    alerts_active_t *al;
    for (int i = 0; i <= 10; i++) {
        put(f, "up", "job", "a", T0 + i * MIN, i >= 1 && i <= 5 ? 0 : 1);
    }
    eval_at(f, 0, T0);
    assert_int_equal(alerts_now(f, &al, a), 0);
    eval_at(f, 0, T0 + 1 * MIN); /* pending from 1m */
    assert_int_equal(alerts_now(f, &al, a), 1);
    assert_int_equal(al[0].state, ALERTS_STATE_PENDING);
    assert_int_equal(al[0].active_at_ms, T0 + MIN);
    buf_t b;
    buf_init(&b);
    labels_format(al[0].labels, al[0].nlabels, &b);
    buf_putc(&b, 0);
    assert_string_equal((char *)b.data, "{alertname=\"Down\", inst=\"a-x\", job=\"a\", severity=\"page\"}");
    buf_reset(&b);
    labels_format(al[0].annotations, al[0].nannotations, &b);
    buf_putc(&b, 0);
    assert_string_equal((char *)b.data, "{cluster=\"c1\", summary=\"a down, value 0\"}");
    buf_fini(&b);
    assert_int_equal(f->nsent, 0); /* pending is never sent */
    eval_at(f, 0, T0 + 2 * MIN);
    assert_int_equal(alerts_now(f, &al, a), 1);
    assert_int_equal(al[0].state, ALERTS_STATE_PENDING);
    eval_at(f, 0, T0 + 3 * MIN); /* 2m after 1m: fires */
    assert_int_equal(alerts_now(f, &al, a), 1);
    assert_int_equal(al[0].state, ALERTS_STATE_FIRING);
    assert_int_equal(al[0].fired_at_ms, T0 + 3 * MIN);
    assert_int_equal(f->nsent, 1);
    assert_string_equal(f->sent[0].labels,
                        "{alertname=\"Down\", cluster=\"c1\", inst=\"a-x\", job=\"a\", severity=\"page\"}");
    assert_int_equal(f->sent[0].starts, T0 + 3 * MIN);
    assert_int_equal(f->sent[0].ends, T0 + 3 * MIN + 4 * MIN);
    assert_string_equal(f->sent[0].url, "http://pharos:9747/graph?g0.expr=up+%3D%3D+0&g0.tab=1");
    eval_at(f, 0, T0 + 4 * MIN); /* resend delay 1m not yet passed (strictly before) */
    assert_int_equal(f->nsent, 1);
    eval_at(f, 0, T0 + 5 * MIN);
    assert_int_equal(f->nsent, 2);
    eval_at(f, 0, T0 + 6 * MIN); /* up is 1 again: resolved, sent at once */
    assert_int_equal(alerts_now(f, &al, a), 1);
    assert_int_equal(al[0].state, ALERTS_STATE_INACTIVE);
    assert_int_equal(al[0].resolved_at_ms, T0 + 6 * MIN);
    assert_int_equal(f->nsent, 3);
    assert_int_equal(f->sent[2].ends, T0 + 6 * MIN);
    /* The resolved alert is kept (and resent) for 15 minutes, then dropped. */
    eval_at(f, 0, T0 + 21 * MIN);
    assert_int_equal(alerts_now(f, &al, a), 1);
    eval_at(f, 0, T0 + 22 * MIN);
    assert_int_equal(alerts_now(f, &al, a), 0);
    assert_dump(f, "ALERTS",
                "{__name__=\"ALERTS\", alertname=\"Down\", alertstate=\"pending\", inst=\"a-x\", job=\"a\", "
                "severity=\"page\"}: 60=1 120=1 180=stale\n"
                "{__name__=\"ALERTS\", alertname=\"Down\", alertstate=\"firing\", inst=\"a-x\", job=\"a\", "
                "severity=\"page\"}: 180=1 240=1 300=1 360=stale\n");
    assert_dump(f, "ALERTS_FOR_STATE",
                "{__name__=\"ALERTS_FOR_STATE\", alertname=\"Down\", inst=\"a-x\", job=\"a\", "
                "severity=\"page\"}: 60=1.7e+09 120=1.7e+09 180=1.7e+09 240=1.7e+09 "
                "300=1.7e+09 360=stale\n");
    arena_destroy(a);
}

/* An active alert keeps its ActiveAt while its value and annotations
 * change from one evaluation to the next (and when they do not). */
static void test_alert_value_and_annotations_follow(void **state)
{
    fx_t *f = *state;
    load_ok(f, "groups:\n- name: g\n  rules:\n  - alert: High\n    expr: load > 1\n    for: 5m\n"
               "    annotations: {v: '{{ $value }}', fixed: same}\n");
    double vals[] = { 2, 3, 3 };
    arena_t *a = arena_create(4096);
    alerts_active_t *al;
    for (int i = 0; i < 3; i++) {
        put(f, "load", "host", "h", T0 + i * MIN, vals[i]);
        eval_at(f, 0, T0 + i * MIN);
        assert_int_equal(alerts_mgr_alerts(f->m, a, &al), 1);
        assert_int_equal(al[0].active_at_ms, T0);
        assert_true(al[0].value == vals[i]);
        char want[16];
        snprintf(want, sizeof(want), "%g", vals[i]);
        assert_string_equal(al[0].annotations[1].value.p, want);
        assert_string_equal(al[0].annotations[0].value.p, "same");
    }
    arena_destroy(a);
}

static void test_pending_dropped_and_keep_firing(void **state)
{
    fx_t *f = *state;
    load_ok(f, "groups:\n"
               "- name: al\n"
               "  rules:\n"
               "  - alert: Slow\n"
               "    expr: up == 0\n"
               "    for: 5m\n"
               "  - alert: Kept\n"
               "    expr: up == 0\n"
               "    keep_firing_for: 3m\n");
    arena_t *a = arena_create(4096);
    alerts_active_t *al;
    put(f, "up", "job", "a", T0, 0);
    put(f, "up", "job", "a", T0 + MIN, 1);
    eval_at(f, 0, T0);
    assert_int_equal(alerts_now(f, &al, a), 2);
    assert_int_equal(al[0].state, ALERTS_STATE_PENDING);
    assert_int_equal(al[1].state, ALERTS_STATE_FIRING);
    eval_at(f, 0, T0 + MIN);
    /* Slow was pending: dropped, never resolved. Kept keeps firing. */
    assert_int_equal(alerts_now(f, &al, a), 1);
    assert_string_equal(al[0].alertname, "Kept");
    assert_int_equal(al[0].state, ALERTS_STATE_FIRING);
    assert_int_equal(al[0].keep_firing_since_ms, T0 + MIN);
    eval_at(f, 0, T0 + 3 * MIN);
    assert_int_equal(alerts_now(f, &al, a), 1);
    assert_int_equal(al[0].state, ALERTS_STATE_FIRING);
    eval_at(f, 0, T0 + 4 * MIN);
    assert_int_equal(alerts_now(f, &al, a), 1);
    assert_int_equal(al[0].state, ALERTS_STATE_INACTIVE);
    assert_int_equal(al[0].resolved_at_ms, T0 + 4 * MIN);
    arena_destroy(a);
}

static void test_alert_clash_and_limit(void **state)
{
    fx_t *f = *state;
    put(f, "up", "job", "a", T0, 0);
    put(f, "up", "job", "b", T0, 0);
    load_ok(f, "groups:\n"
               "- name: al\n"
               "  rules:\n"
               "  - alert: Clash\n"
               "    expr: up == 0\n"
               "    labels: {job: x}\n"
               "- name: lim\n"
               "  limit: 1\n"
               "  rules:\n"
               "  - alert: Many\n"
               "    expr: up == 0\n");
    eval_at(f, 0, T0);
    eval_at(f, 1, T0);
    arena_t *a = arena_create(4096);
    alerts_active_t *al;
    assert_int_equal(alerts_now(f, &al, a), 0);
    pthread_mutex_lock(&f->m->mu);
    assert_string_equal(f->m->rs->groups[0].rules[0].last_error,
                        "vector contains metrics with the same labelset after applying alert labels");
    assert_string_equal(f->m->rs->groups[1].rules[0].last_error, "exceeded limit of 1 with 2 alerts");
    pthread_mutex_unlock(&f->m->mu);
    buf_t errs;
    buf_init(&errs);
    assert_int_equal(alerts_mgr_group_errors(f->m, 1, &errs), 1);
    buf_putc(&errs, 0);
    assert_string_equal((char *)errs.data, "Many\texceeded limit of 1 with 2 alerts\n");
    buf_fini(&errs);
    assert_dump(f, "ALERTS", "");
    arena_destroy(a);
}

/* ---- reloads ---- */

static void test_reload_keeps_state_and_refuses_bad_files(void **state)
{
    fx_t *f = *state;
    load_ok(f, alert_rules);
    put(f, "up", "job", "a", T0, 0);
    eval_at(f, 0, T0);
    buf_t err;
    buf_init(&err);
    assert_int_equal(load(f, "groups:\n- name: al\n  rules:\n  - alert: Down\n    expr: up ==\n", &err), -1);
    buf_putc(&err, 0);
    assert_non_null(strstr((char *)err.data, "rules.yml:5:"));
    assert_non_null(strstr((char *)err.data, "parse error"));
    buf_reset(&err);
    /* The old rules still run, with their state. */
    arena_t *a = arena_create(4096);
    alerts_active_t *al;
    assert_int_equal(alerts_now(f, &al, a), 1);
    /* Same group and rule, a new annotation: the alert keeps its ActiveAt. */
    load_ok(f, "groups:\n"
               "- name: al\n"
               "  rules:\n"
               "  - alert: Down\n"
               "    expr: up == 0\n"
               "    for: 2m\n"
               "    labels: {severity: page, inst: '{{ $labels.job }}-x'}\n"
               "    annotations: {summary: changed}\n"
               "  - record: extra\n"
               "    expr: up\n");
    assert_int_equal(alerts_now(f, &al, a), 1);
    assert_int_equal(al[0].active_at_ms, T0);
    eval_at(f, 0, T0 + 2 * MIN);
    assert_int_equal(alerts_now(f, &al, a), 1);
    assert_int_equal(al[0].state, ALERTS_STATE_FIRING);
    assert_string_equal(al[0].annotations[0].value.p, "changed");
    /* A missing file is refused with its name. */
    const char *globs[] = { "/nonexistent/rules.yml" };
    assert_int_equal(alerts_mgr_load(f->m, globs, 1, NULL, 0, &err), -1);
    buf_putc(&err, 0);
    assert_non_null(strstr((char *)err.data, "/nonexistent/rules.yml"));
    /* Removing the group marks its series stale. */
    load_ok(f, "groups: []\n");
    assert_int_equal(alerts_mgr_ngroups(f->m), 0);
    char *d = dump(f, "extra");
    assert_null(strstr(d, "stale") == NULL ? NULL : d); /* extra was never evaluated: nothing to mark */
    mem_free(d);
    d = dump(f, "ALERTS");
    assert_non_null(strstr(d, "=stale"));
    mem_free(d);
    buf_fini(&err);
    arena_destroy(a);
}

/* A rule added by a reload to a group that survives it writes ALERTS;
 * writing a rule's labels in another order keeps its alerts. */
static void test_reload_added_rule_writes_alerts(void **state)
{
    fx_t *f = *state;
    alerts_mgr_destroy(f->m);
    f->m = fx_mgr(f, false); /* restore on: rules of the first load wait for it */
    put(f, "up", "job", "a", T0, 0);
    load_ok(f, "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    for: 1h\n"
               "    labels: {x: '1', y: '2'}\n");
    eval_at(f, 0, T0);
    eval_at(f, 0, T0 + 1000); /* the restore runs after the second evaluation */
    load_ok(f, "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    for: 1h\n"
               "    labels: {y: '2', x: '1'}\n  - alert: B\n    expr: up == 0\n");
    eval_at(f, 0, T0 + 2000);
    char *d = dump(f, "ALERTS{alertname=\"B\"}");
    assert_non_null(strstr(d, "2=1"));
    mem_free(d);
    arena_t *a = arena_create(4096);
    alerts_active_t *al;
    assert_int_equal(alerts_mgr_alerts(f->m, a, &al), 2);
    assert_string_equal(al[0].alertname, "A");
    assert_int_equal(al[0].active_at_ms, T0); /* kept across the reload */
    arena_destroy(a);
}

/* A value in ALERTS_FOR_STATE that no evaluation wrote (remote-written,
 * huge) is not restored from, and does no arithmetic overflow. */
static void test_restore_ignores_hostile_values(void **state)
{
    fx_t *f = *state;
    alerts_mgr_destroy(f->m);
    f->m = fx_mgr(f, false);
    for (int i = 0; i <= 5; i++) {
        put(f, "up", "job", "a", T0 + i * MIN, 0);
    }
    label_t ls[3] = { { STR_LIT("__name__"), STR_LIT("ALERTS_FOR_STATE") },
                      { STR_LIT("alertname"), STR_LIT("Long") },
                      { STR_LIT("job"), STR_LIT("a") } };
    tsdb_sample_t sm = { .t = T0 + 30000, .v = 1e20 };
    tsdb_input_t in = { .labels = ls, .nlabels = 3, .samples = &sm, .nsamples = 1 };
    assert_int_equal(fx_append(f, &in, 1), 0);
    load_ok(f, "groups:\n- name: al\n  rules:\n  - alert: Long\n    expr: up == 0\n    for: 20m\n");
    eval_at(f, 0, T0 + MIN);
    eval_at(f, 0, T0 + 2 * MIN);
    arena_t *a = arena_create(4096);
    alerts_active_t *al;
    assert_int_equal(alerts_mgr_alerts(f->m, a, &al), 1);
    assert_int_equal(al[0].active_at_ms, T0 + MIN);
    arena_destroy(a);
}

/* ---- restore ---- */

/* One life of pharosd that evaluates `up == 0` (for: for_min) every
 * minute from 0 to last_min, a restart at restart_min and two evaluations
 * (the restore runs after the second, at now = restart_min + 1). Returns
 * the restored ActiveAt, in minutes after T0. */
static int64_t restore_after_restart(fx_t *f, int for_min, int last_min, int restart_min)
{
    char rules[256];
    snprintf(rules, sizeof(rules), "groups:\n- name: al\n  rules:\n  - alert: Long\n    expr: up == 0\n    for: %dm\n",
             for_min);
    load_ok(f, rules);
    for (int i = 0; i <= restart_min + 30; i++) {
        put(f, "up", "job", "a", T0 + i * MIN, 0);
    }
    for (int i = 0; i <= last_min; i++) {
        eval_at(f, 0, T0 + i * MIN);
    }
    alerts_mgr_destroy(f->m);
    f->m = fx_mgr(f, false);
    load_ok(f, rules);
    eval_at(f, 0, T0 + restart_min * MIN);
    eval_at(f, 0, T0 + (restart_min + 1) * MIN);
    arena_t *a = arena_create(4096);

    alerts_active_t *al;
    assert_int_equal(alerts_now(f, &al, a), 1);
    int64_t at = al[0].active_at_ms;
    arena_destroy(a);
    assert_int_equal((at - T0) % MIN, 0);
    return (at - T0) / MIN;
}

/* Prometheus' RestoreForState cases (grace period 10m). */
static void test_restore_for_state(void **state)
{
    fx_t *f = *state;
    static const struct {
        int for_min, last_min, restart_min;
        int64_t want; /* restored ActiveAt, minutes */
    } cases[] = {
        /* Pending 3m of 20m, down 3m: 17m remain >= grace: ActiveAt moves by the downtime, 0 + (7 - 3). */
        { 20, 3, 6, 4 },
        /* Pending 10m of 15m: 5m remain < grace: fires a grace period after now, 13 + 10 - 15. */
        { 15, 10, 12, 8 },
        /* It was firing (25m > 20m): ActiveAt stays, so the next evaluation fires it again. */
        { 20, 25, 27, 0 },
        /* for < grace: not restored, pending again from the first evaluation after the start. */
        { 5, 3, 6, 6 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (i > 0) {
            /* A fresh store and manager for each case. */
            teardown(state);
            setup(state);
            f = *state;
        }
        int64_t got = restore_after_restart(f, cases[i].for_min, cases[i].last_min, cases[i].restart_min);
        if (got != cases[i].want) {
            fail_msg("case %zu: ActiveAt %lldm, want %lldm", i, (long long)got, (long long)cases[i].want);
        }
    }
    /* The first case fires at 4m + 20m, not before. */
    teardown(state);
    setup(state);
    f = *state;
    assert_int_equal(restore_after_restart(f, 20, 3, 6), 4);
    arena_t *a = arena_create(4096);
    alerts_active_t *al;
    eval_at(f, 0, T0 + 23 * MIN);
    assert_int_equal(alerts_now(f, &al, a), 1);
    assert_int_equal(al[0].state, ALERTS_STATE_PENDING);
    eval_at(f, 0, T0 + 24 * MIN);
    assert_int_equal(alerts_now(f, &al, a), 1);
    assert_int_equal(al[0].state, ALERTS_STATE_FIRING);
    arena_destroy(a);
}

/* ---- the schedule ---- */

static void test_scheduler_runs_groups(void **state)
{
    fx_t *f = *state;
    alerts_mgr_destroy(f->m);
    alerts_mgr_opts_t o = {
        .src = promql_source_tsdb(f->db),
        .append = fx_append,
        .append_ctx = f,
        .eval_interval_ms = 1000,
        .no_restore = true,
    };
    f->m = alerts_mgr_create(&o);
    buf_t err;
    buf_init(&err);
    assert_int_equal(
        load(f, "groups:\n- name: g\n  interval: 100ms\n  rules:\n  - record: one\n    expr: vector(1)\n", &err), 0);
    buf_fini(&err);
    assert_int_equal(alerts_mgr_start(f->m), 0);
    struct timespec ts = { 0, 450 * 1000000L };
    nanosleep(&ts, NULL);
    alerts_mgr_stop(f->m);
    buf_t out;
    buf_init(&out);
    alerts_mgr_metrics(f->m, &out);
    buf_putc(&out, 0);
    const char *line = strstr((char *)out.data, "prometheus_rule_group_iterations_total{rule_group=");
    assert_non_null(line);
    unsigned long long iters = 0;
    const char *sp = strchr(line, '}');
    assert_non_null(sp);
    iters = strtoull(sp + 2, NULL, 10);
    assert_true(iters >= 2 && iters <= 6);
    buf_fini(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_recording_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recording_stale_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_labels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alert_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alert_value_and_annotations_follow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_dropped_and_keep_firing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alert_clash_and_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_keeps_state_and_refuses_bad_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_added_rule_writes_alerts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_ignores_hostile_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_for_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scheduler_runs_groups, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_alerts_dispatch: alerts/alerts_dispatch.c through a running
 * notifier on an injected clock with the fake receiver. needsUpdate's
 * rules as a table; group_wait, group_interval and repeat_interval to the
 * millisecond; an old alert flushing at once; new firing, new resolved
 * with and without send_resolved, all resolved; silences and inhibition
 * muting; the store's merge of a re-sent alert; group deletion; reload
 * keeping a group's timers; on a bare dispatcher: jobs that could not be
 * queued keep their group due, and a firing alert's endsAt is hidden.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "notify_fake.h"

#define T0 1700000000000LL
#define S 1000LL
#define M (60 * S)
#define H (60 * M)

/* ---- needsUpdate ---- */

typedef struct nu_case {
    const char *name;
    bool have_entry;
    uint64_t ef[3], er[3];
    size_t nef, ner;
    int64_t ets;
    uint64_t f[3], r[3];
    size_t nf, nr;
    bool send_resolved;
    bool want;
} nu_case_t;

static const nu_case_t nu_cases[] = {
    { "first, firing", false, { 0 }, { 0 }, 0, 0, 0, { 1 }, { 0 }, 1, 0, true, true },
    { "first, only resolved", false, { 0 }, { 0 }, 0, 0, 0, { 0 }, { 1 }, 0, 1, true, false },
    { "same firing", true, { 1, 2 }, { 0 }, 2, 0, T0, { 1, 2 }, { 0 }, 2, 0, true, false },
    { "firing subset", true, { 1, 2 }, { 0 }, 2, 0, T0, { 2 }, { 0 }, 1, 0, false, false },
    { "new firing", true, { 1 }, { 0 }, 1, 0, T0, { 1, 2 }, { 0 }, 2, 0, true, true },
    { "all resolved after firing", true, { 1 }, { 0 }, 1, 0, T0, { 0 }, { 1 }, 0, 1, false, true },
    { "all resolved, none notified firing", true, { 0 }, { 1 }, 0, 1, T0, { 0 }, { 1, 2 }, 0, 2, true, false },
    { "new resolved, send_resolved", true, { 1, 2 }, { 0 }, 2, 0, T0, { 2 }, { 1 }, 1, 1, true, true },
    { "new resolved, no send_resolved", true, { 1, 2 }, { 0 }, 2, 0, T0, { 2 }, { 1 }, 1, 1, false, false },
    { "resolved already notified", true, { 2 }, { 1 }, 1, 1, T0, { 2 }, { 1 }, 1, 1, true, false },
    { "repeat elapsed", true, { 1 }, { 0 }, 1, 0, T0 - H - 1, { 1 }, { 0 }, 1, 0, true, true },
    { "repeat exactly", true, { 1 }, { 0 }, 1, 0, T0 - H, { 1 }, { 0 }, 1, 0, true, false },
};

static void test_needs_update(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(nu_cases) / sizeof(nu_cases[0]); i++) {
        const nu_case_t *c = &nu_cases[i];
        nflog_entry_t e = { .firing = (uint64_t *)c->ef,
                            .nfiring = c->nef,
                            .resolved = (uint64_t *)c->er,
                            .nresolved = c->ner,
                            .ts_ms = c->ets };
        bool got =
            alerts_dispatch_needs_update(c->have_entry ? &e : NULL, c->f, c->nf, c->r, c->nr, c->send_resolved, H, T0);
        if (got != c->want) {
            fprintf(stderr, "case %s: got %d\n", c->name, got);
        }
        assert_int_equal(got, c->want);
    }
}

/* ---- a notifier on a fake clock ---- */

typedef struct fx {
    char dir[256];
    char cfg[300];
    fake_clock_t clock;
    alerts_notifier_t *n;
} fx_t;

static const char *cfg_text = "route:\n"
                              "  receiver: r\n"
                              "  group_by: [alertname]\n"
                              "  group_wait: 30s\n"
                              "  group_interval: 5m\n"
                              "  repeat_interval: 1h\n"
                              "  routes:\n"
                              "    - receiver: quiet\n"
                              "      matchers: [team=quiet]\n"
                              "    - receiver: r\n"
                              "      matchers: [team=dup]\n"
                              "      continue: true\n"
                              "    - receiver: quiet\n"
                              "      matchers: [team=dup]\n"
                              "receivers:\n"
                              "  - name: r\n"
                              "    fake_configs: [{name: f}]\n"
                              "  - name: quiet\n"
                              "    fake_configs: [{name: q, send_resolved: false}]\n"
                              "inhibit_rules:\n"
                              "  - source_matchers: [severity=critical]\n"
                              "    target_matchers: [severity=warning]\n"
                              "    equal: [alertname]\n";

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    fake_reset();
    fake_tmpdir(f->dir);
    snprintf(f->cfg, sizeof(f->cfg), "%s/am.yml", f->dir);
    fake_write(f->cfg, cfg_text);
    pthread_mutex_init(&f->clock.mu, NULL);
    f->clock.now = T0;
    char data[300];
    snprintf(data, sizeof(data), "%s/data", f->dir);
    alerts_notifier_opts_t o = {
        .config_file = f->cfg, .data_dir = data, .clock = { fake_clock_now, &f->clock }, .external_url = "http://pharos"
    };
    alerts_notify_hooks_t h = fake_hooks();
    fake_open(&o, &h, &f->n);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    alerts_notifier_destroy(f->n);
    fake_rmrf(f->dir);
    pthread_mutex_destroy(&f->clock.mu);
    free(f);
    return 0;
}

static void at(fx_t *f, int64_t t)
{
    fake_clock_set(&f->clock, t);
    assert_int_equal(alerts_notify_sync(f->n, 10000), 0);
}

/* Put one alert {alertname=name, x=x (, team, severity)} now. */
static void put(fx_t *f, const char *name, const char *x, const char *team, const char *sev, int64_t starts,
                int64_t ends)
{
    label_t ls[4];
    size_t n = 0;
    ls[n++] = (label_t){ STR_LIT("alertname"), str_cstr(name) };
    if (sev) {
        ls[n++] = (label_t){ STR_LIT("severity"), str_cstr(sev) };
    }
    if (team) {
        ls[n++] = (label_t){ STR_LIT("team"), str_cstr(team) };
    }
    ls[n++] = (label_t){ STR_LIT("x"), str_cstr(x) };
    label_t an[1] = { { STR_LIT("summary"), STR_LIT("s") } };
    alerts_alert_t a = { .labels = ls,
                         .nlabels = n,
                         .annotations = an,
                         .nannotations = 1,
                         .starts_at_ms = starts,
                         .ends_at_ms = ends,
                         .generator_url = "http://gen" };
    alerts_notifier_put(f->n, &a, 1, fake_clock_now(&f->clock));
}

static void test_timers(void **state)
{
    fx_t *f = *state;
    put(f, "A", "1", NULL, NULL, T0, T0 + 10 * H);
    at(f, T0);
    assert_int_equal(fake_count(), 0);
    at(f, T0 + 30 * S - 1);
    assert_int_equal(fake_count(), 0);
    at(f, T0 + 30 * S);
    assert_int_equal(fake_count(), 1);
    assert_string_equal(fake.got[0].group_key, "{}:{alertname=\"A\"}");
    assert_string_equal(fake.got[0].status, "firing");
    assert_int_equal(fake.got[0].nfiring, 1);
    assert_false(fake.got[0].repeat);
    /* a second alert waits for group_interval */
    fake_clock_set(&f->clock, T0 + M);
    put(f, "A", "2", NULL, NULL, T0 + M, T0 + 10 * H);
    at(f, T0 + M);
    at(f, T0 + 30 * S + 5 * M - 1);
    assert_int_equal(fake_count(), 1);
    at(f, T0 + 30 * S + 5 * M);
    assert_int_equal(fake_count(), 2);
    assert_int_equal(fake.got[1].nfiring, 2);
    assert_true(fake.got[1].fps[0] < fake.got[1].fps[1]);
    /* nothing new: silent until repeat_interval has passed since the last notification */
    at(f, T0 + 30 * S + 10 * M);
    at(f, T0 + 30 * S + 65 * M);
    assert_int_equal(fake_count(), 2);
    at(f, T0 + 30 * S + 70 * M);
    assert_int_equal(fake_count(), 3);
    assert_true(fake.got[2].repeat);
    /* one resolves: send_resolved -> notified, firing first */
    fake_clock_set(&f->clock, T0 + 72 * M);
    put(f, "A", "1", NULL, NULL, T0, T0 + 72 * M);
    at(f, T0 + 30 * S + 75 * M);
    assert_int_equal(fake_count(), 4);
    assert_string_equal(fake.got[3].status, "firing");
    assert_int_equal(fake.got[3].nalerts, 2);
    assert_int_equal(fake.got[3].nfiring, 1);
    /* all resolved */
    fake_clock_set(&f->clock, T0 + 76 * M);
    put(f, "A", "2", NULL, NULL, T0 + M, T0 + 76 * M);
    at(f, T0 + 30 * S + 80 * M);
    assert_int_equal(fake_count(), 5);
    assert_string_equal(fake.got[4].status, "resolved");
    /* then nothing, and the group goes away */
    at(f, T0 + 30 * S + 85 * M);
    at(f, T0 + 30 * S + 90 * M);
    assert_int_equal(fake_count(), 5);
    pthread_mutex_lock(&f->n->mu);
    size_t ng = f->n->d.ngroups, ns = f->n->d.store.n;
    pthread_mutex_unlock(&f->n->mu);
    assert_int_equal(ng, 0);
    assert_int_equal(ns, 0);
}

static void test_old_alert_flushes_at_once(void **state)
{
    fx_t *f = *state;
    put(f, "Old", "1", NULL, NULL, T0 - H, T0 + H);
    at(f, T0);
    assert_int_equal(fake_count(), 1);
}

static void test_send_resolved_false(void **state)
{
    fx_t *f = *state;
    put(f, "Q", "1", "quiet", NULL, T0, T0 + H);
    put(f, "Q", "2", "quiet", NULL, T0, T0 + H);
    at(f, T0 + 30 * S);
    assert_int_equal(fake_count(), 1);
    assert_string_equal(fake.got[0].name, "q");
    assert_string_equal(fake.got[0].group_key, "{}/{team=\"quiet\"}:{alertname=\"Q\"}");
    fake_clock_set(&f->clock, T0 + M);
    put(f, "Q", "1", "quiet", NULL, T0, T0 + M);
    at(f, T0 + 30 * S + 5 * M);
    assert_int_equal(fake_count(), 1);
    /* all resolved: the nflog is cleared without a send (no resolved alerts to show) */
    fake_clock_set(&f->clock, T0 + 6 * M);
    put(f, "Q", "2", "quiet", NULL, T0, T0 + 6 * M);
    at(f, T0 + 30 * S + 10 * M);
    assert_int_equal(fake_count(), 1);
    pthread_mutex_lock(&f->n->mu);
    buf_t key = { 0 };
    alerts_nflog_key("{}/{team=\"quiet\"}:{alertname=\"Q\"}", "quiet", "fake", 0, &key);
    const nflog_entry_t *e = alerts_nflog_get(&f->n->d.nflog, (const char *)key.data);
    size_t ef = e ? e->nfiring : 99, er = e ? e->nresolved : 99;
    pthread_mutex_unlock(&f->n->mu);
    /* firing cleared; the alert resolved at the previous flush left the group then */
    assert_int_equal(ef, 0);
    assert_int_equal(er, 1);
    buf_fini(&key);
    /* a new firing alert in the group is notified again */
    fake_clock_set(&f->clock, T0 + 11 * M);
    put(f, "Q", "1", "quiet", NULL, T0 + 11 * M, T0 + H);
    at(f, T0 + 11 * M + 30 * S);
    assert_int_equal(fake_count(), 2);
}

static void test_silence_and_inhibit(void **state)
{
    fx_t *f = *state;
    /* silence alertname=S until T0+10m */
    pthread_mutex_lock(&f->n->mu);
    json_t *j = json_loads("{\"matchers\":[{\"name\":\"alertname\",\"value\":\"S\",\"isRegex\":false}],"
                           "\"startsAt\":\"2023-11-14T22:13:20Z\",\"endsAt\":\"2023-11-14T22:23:20Z\","
                           "\"createdBy\":\"t\",\"comment\":\"c\"}",
                           0, NULL);
    an_silence_t *sil = NULL;
    buf_t err = { 0 };
    alerts_silence_from_json(j, false, &sil, &err);
    char id[40];
    int rc = alerts_silence_set(&f->n->d.silences, sil, T0, id, &err);
    pthread_mutex_unlock(&f->n->mu);
    assert_int_equal(rc, 0);
    json_decref(j);
    buf_fini(&err);
    put(f, "S", "1", NULL, NULL, T0, T0 + H);
    /* inhibited: warning with a critical source of the same alertname */
    put(f, "I", "1", NULL, "warning", T0, T0 + H);
    put(f, "I", "2", NULL, "critical", T0, T0 + H);
    at(f, T0 + 30 * S);
    assert_int_equal(fake_count(), 1);
    assert_int_equal(fake.got[0].nalerts, 1); /* only the critical one */
    /* the silence expires at T0+10m: S is notified at the next flush */
    at(f, T0 + 30 * S + 5 * M);
    assert_int_equal(fake_count(), 1);
    at(f, T0 + 30 * S + 10 * M);
    assert_int_equal(fake_count(), 2);
    assert_string_equal(fake.got[1].group_key, "{}:{alertname=\"S\"}");
    /* the source resolves: the warning is notified */
    fake_clock_set(&f->clock, T0 + 12 * M);
    put(f, "I", "2", NULL, "critical", T0, T0 + 12 * M);
    at(f, T0 + 30 * S + 15 * M);
    assert_int_equal(fake_count(), 3);
    assert_int_equal(fake.got[2].nalerts, 2);
    assert_int_equal(fake.got[2].nfiring, 1);
}

/* Two sibling routes with the same matchers: the same group key text (as
 * in Alertmanager), two groups, both receivers notified; a reload keeps
 * both. */
static void test_equal_route_keys(void **state)
{
    fx_t *f = *state;
    put(f, "D", "1", "dup", NULL, T0, T0 + H);
    at(f, T0 + 30 * S);
    assert_int_equal(fake_count(), 2);
    assert_string_equal(fake.got[0].group_key, fake.got[1].group_key);
    assert_string_not_equal(fake.got[0].name, fake.got[1].name);
    buf_t err = { 0 };
    assert_int_equal(alerts_notifier_reload(f->n, &err), 0);
    buf_fini(&err);
    pthread_mutex_lock(&f->n->mu);
    size_t ng = f->n->d.ngroups;
    unsigned i0 = f->n->d.groups[0]->route->idx, i1 = f->n->d.groups[1]->route->idx;
    pthread_mutex_unlock(&f->n->mu);
    assert_int_equal(ng, 2);
    assert_int_not_equal(i0, i1);
    at(f, T0 + 30 * S + 5 * M);
    assert_int_equal(fake_count(), 2);
}

static void test_store_merge(void **state)
{
    (void)state;
    an_store_t s;
    alerts_store_init(&s);
    label_t ls[] = { { STR_LIT("a"), STR_LIT("1") }, { STR_LIT("e"), STR_LIT("") } };
    label_t an1[] = { { STR_LIT("s"), STR_LIT("old") } };
    label_t an2[] = { { STR_LIT("s"), STR_LIT("new") } };
    alerts_alert_t a = { .labels = ls, .nlabels = 2, .annotations = an1, .nannotations = 1, .starts_at_ms = T0 };
    an_alert_t *x = alerts_store_put(&s, &a, T0, 5 * M, NULL);
    assert_int_equal(x->nlabels, 1); /* the empty label is dropped */
    assert_true(x->timeout);
    assert_int_equal(x->ends_at_ms, T0 + 5 * M);
    /* re-sent later with a later start: earliest start kept, newest annotations, explicit end */
    a.annotations = an2;
    a.starts_at_ms = T0 + M;
    a.ends_at_ms = T0 + 4 * M;
    an_alert_t *y = alerts_store_put(&s, &a, T0 + M, 5 * M, NULL);
    assert_ptr_equal(x, y);
    assert_int_equal(y->starts_at_ms, T0);
    assert_string_equal(y->annotations[0].value.p, "new");
    assert_int_equal(y->ends_at_ms, T0 + 4 * M);
    assert_false(y->timeout);
    /* no end again: the explicit later end of the old one wins over a timeout */
    a.ends_at_ms = 0;
    a.starts_at_ms = T0 + 2 * M;
    y = alerts_store_put(&s, &a, T0 + 2 * M, M, NULL);
    assert_int_equal(y->ends_at_ms, T0 + 4 * M);
    /* resolved and outside the old interval: replaced */
    a.starts_at_ms = T0 + 10 * M;
    a.ends_at_ms = T0 + 11 * M;
    y = alerts_store_put(&s, &a, T0 + 12 * M, M, NULL);
    assert_int_equal(y->starts_at_ms, T0 + 10 * M);
    assert_int_equal(alerts_store_gc(&s, T0 + 12 * M), 1);
    assert_int_equal(s.n, 0);
    /* invalid UTF-8 is stored as U+FFFD, so the state file keeps the alert as it is */
    label_t bad[] = { { STR_LIT("a"), STR_LIT("x\xffy") } };
    label_t badan[] = { { STR_LIT("s"), STR_LIT("\xc3") } };
    alerts_alert_t b = { .labels = bad,
                         .nlabels = 1,
                         .annotations = badan,
                         .nannotations = 1,
                         .starts_at_ms = T0,
                         .generator_url = "http://g/\xfe" };
    an_alert_t *z = alerts_store_put(&s, &b, T0, M, NULL);
    assert_string_equal(z->labels[0].value.p, "x\xef\xbf\xbdy");
    assert_string_equal(z->annotations[0].value.p, "\xef\xbf\xbd");
    assert_string_equal(z->generator_url, "http://g/\xef\xbf\xbd");
    json_t *j = alerts_store_dump(&s);
    an_store_t back;
    alerts_store_init(&back);
    assert_int_equal(alerts_store_load(&back, j), 0);
    assert_int_equal(back.n, 1);
    assert_int_equal(back.v[0]->fp, z->fp);
    json_decref(j);
    /* a state file past the API's AN_ALERT_MAX_* bounds is refused whole */
    for (int k = 0; k < 3; k++) {
        json_t *over = alerts_store_dump(&s);
        json_t *e = json_array_get(over, 0);
        if (k == 0) {
            json_t *lo = json_object_get(e, "labels");
            for (int i = 0; json_object_size(lo) <= AN_ALERT_MAX_LABELS; i++) {
                char name[16];
                snprintf(name, sizeof(name), "l%d", i);
                json_object_set_new(lo, name, json_string("v"));
            }
        } else {
            size_t len = k == 1 ? AN_ALERT_MAX_VALUE + 1 : AN_ALERT_MAX_NAME + 1;
            char *big = calloc(1, len + 1);
            memset(big, 'n', len);
            if (k == 1) {
                json_object_set_new(json_object_get(e, "annotations"), "big", json_string(big));
            } else {
                json_object_set_new(json_object_get(e, "labels"), big, json_string("v"));
            }
            free(big);
        }
        assert_int_equal(alerts_store_load(&back, over), -1);
        assert_int_equal(back.n, 1);
        json_decref(over);
    }
    /* a label value that is not a string */
    json_t *nonstr = json_loads("[{\"labels\":{\"a\":1},\"annotations\":{},\"startsAt\":1,\"endsAt\":0,"
                                "\"updatedAt\":1,\"generatorURL\":\"\"}]",
                                0, NULL);
    assert_int_equal(alerts_store_load(&back, nonstr), -1);
    assert_int_equal(back.n, 1);
    json_decref(nonstr);
    alerts_store_fini(&back);
    alerts_store_fini(&s);
}

static void test_reload_keeps_groups(void **state)
{
    fx_t *f = *state;
    put(f, "R", "1", NULL, NULL, T0, T0 + 10 * H);
    at(f, T0 + 30 * S);
    assert_int_equal(fake_count(), 1);
    /* same route tree, one more receiver: the group keeps its timer and nflog */
    char more[2048];
    const char *rp = strstr(cfg_text, "receivers:\n");
    snprintf(more, sizeof(more), "%.*sreceivers:\n  - name: extra\n%s", (int)(rp - cfg_text), cfg_text, rp + 11);
    fake_write(f->cfg, more);
    buf_t err = { 0 };
    assert_int_equal(alerts_notifier_reload(f->n, &err), 0);
    at(f, T0 + 31 * S);
    at(f, T0 + 30 * S + 5 * M);
    assert_int_equal(fake_count(), 1);
    /* a broken file keeps the running config */
    fake_write(f->cfg, "route: {}\n");
    assert_int_equal(alerts_notifier_reload(f->n, &err), -1);
    assert_non_null(strstr((const char *)err.data, "am.yml:1: route: root route must specify a default receiver"));
    buf_fini(&err);
    pthread_mutex_lock(&f->n->mu);
    size_t nr = f->n->d.cfg->nreceivers;
    pthread_mutex_unlock(&f->n->mu);
    assert_int_equal(nr, 3);
}

/* ---- flush_due on a bare dispatcher ---- */

typedef struct cap {
    bool accept;
    an_job_t *got[4];
    size_t n;
} cap_t;

static bool cap_enqueue(void *ctx, an_job_t *j)
{
    cap_t *c = ctx;
    if (!c->accept || c->n == 4) {
        alerts_job_free(j);
        return false;
    }
    c->got[c->n++] = j;
    return true;
}

static void bare_open(an_disp_t *d)
{
    static const char *cfg = "route:\n  receiver: r\n  group_by: [alertname]\n  group_wait: 30s\n"
                             "  group_interval: 5m\nreceivers:\n  - name: r\n    fake_configs: [{name: x}]\n";
    alerts_dispatch_init(d);
    buf_t err = { 0 };
    assert_int_equal(alerts_amcfg_parse("am.yml", cfg, strlen(cfg), fake_types, NFAKE_TYPES, &d->cfg, &err), 0);
    buf_fini(&err);
    label_t ls[1] = { { STR_LIT("alertname"), STR_LIT("A") } };
    alerts_alert_t a = { .labels = ls, .nlabels = 1, .starts_at_ms = T0, .ends_at_ms = T0 + H };
    an_alert_t *st = alerts_store_put(&d->store, &a, T0, 5 * M, NULL);
    alerts_dispatch_insert(d, st, T0);
}

static void bare_close(an_disp_t *d, cap_t *c)
{
    for (size_t i = 0; i < c->n; i++) {
        alerts_job_free(c->got[i]);
    }
    amcfg_t *cfg = d->cfg;
    alerts_dispatch_fini(d);
    alerts_amcfg_free(cfg);
}

/* Jobs that could not be queued (no sender during a reload) leave their
 * group due: the next pass sends, not one group_interval later. */
static void test_rejected_jobs_keep_group_due(void **state)
{
    (void)state;
    an_disp_t d;
    bare_open(&d);
    cap_t c = { .accept = false };
    assert_int_equal(alerts_dispatch_flush_due(&d, T0 + 30 * S, cap_enqueue, &c), T0 + 30 * S);
    assert_int_equal(d.groups[0]->next_flush_ms, T0 + 30 * S);
    c.accept = true;
    assert_int_equal(alerts_dispatch_flush_due(&d, T0 + 31 * S, cap_enqueue, &c), T0 + 31 * S + 5 * M);
    assert_int_equal(c.n, 1);
    /* a job dropped before it was tried makes its group due again */
    alerts_dispatch_job_dropped(&d, c.got[0], T0 + 40 * S);
    assert_int_equal(d.groups[0]->next_flush_ms, T0 + 40 * S);
    bare_close(&d, &c);
}

/* types.Alerts: a firing alert's endsAt is not exposed (explicit or from
 * resolve_timeout); a resolved one's is. */
static void test_firing_ends_at_hidden(void **state)
{
    (void)state;
    an_disp_t d;
    bare_open(&d);
    cap_t c = { .accept = true };
    alerts_dispatch_flush_due(&d, T0 + 30 * S, cap_enqueue, &c);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.got[0]->notif.nalerts, 1);
    assert_true(c.got[0]->notif.alerts[0].firing);
    assert_int_equal(c.got[0]->notif.alerts[0].ends_at_ms, 0);
    const an_job_t *j = c.got[0]; /* delivered */
    alerts_nflog_set(&d.nflog, j->nflog_key, j->firing, j->nfiring, j->resolved, j->nresolved, j->flush_ms,
                     j->expires_ms);
    label_t ls[1] = { { STR_LIT("alertname"), STR_LIT("A") } };
    alerts_alert_t a = { .labels = ls, .nlabels = 1, .starts_at_ms = T0, .ends_at_ms = T0 + M };
    alerts_store_put(&d.store, &a, T0 + 2 * M, 5 * M, NULL);
    alerts_dispatch_flush_due(&d, T0 + 30 * S + 5 * M, cap_enqueue, &c);
    assert_int_equal(c.n, 2);
    assert_false(c.got[1]->notif.alerts[0].firing);
    assert_int_equal(c.got[1]->notif.alerts[0].ends_at_ms, T0 + M);
    bare_close(&d, &c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_needs_update),
        cmocka_unit_test(test_store_merge),
        cmocka_unit_test(test_rejected_jobs_keep_group_due),
        cmocka_unit_test(test_firing_ends_at_hidden),
        cmocka_unit_test_setup_teardown(test_timers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_alert_flushes_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_resolved_false, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silence_and_inhibit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_keeps_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_equal_route_keys, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_alerts_notify: alerts/alerts_notify.c and alerts_nflog.c: delivery
 * with retries (500 then 200 delivered once; 429 with Retry-After waited
 * for; a hung receiver times out and is retried while another integration
 * delivers meanwhile; 400 fails permanently, counted; giving up at the
 * group's next flush, then the next flush delivers), persistence across
 * destroy/create (nflog, silences, kv), a corrupt state file set aside,
 * a forked notifier SIGKILLed before and after its delivery (exactly one
 * delivery overall), forwarding to Alertmanagers (Retry-After capped,
 * URLs logged redacted), and the metrics text; a Retry-After of INT64_MAX;
 * reloads (an unchanged file is a no-op; a job dropped by the swap is
 * sent at once); an alerts.json write error not taken as written.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "notify_fake.h"

#define T0 1700000000000LL
#define S 1000LL
#define M (60 * S)
#define H (60 * M)

typedef struct fx {
    char dir[256];
    char cfg[300];
    char data[300];
    fake_clock_t clock;
    alerts_notifier_t *n;
    alerts_notify_hooks_t hooks;
    const char *const *am_urls;
    size_t nam;
    int64_t restore_hold_ms;
} fx_t;

static const char *cfg_text = "route:\n"
                              "  receiver: r\n"
                              "  group_by: [alertname]\n"
                              "  group_wait: 30s\n"
                              "  group_interval: 1m\n"
                              "  repeat_interval: 1h\n"
                              "receivers:\n"
                              "  - name: r\n"
                              "    fake_configs: [{name: slow, kv: true}, {name: fast}]\n";

static void fx_open(fx_t *f)
{
    alerts_notifier_opts_t o = { .config_file = f->cfg,
                                 .data_dir = f->data,
                                 .clock = { fake_clock_now, &f->clock },
                                 .alertmanager_urls = f->am_urls,
                                 .nalertmanager_urls = f->nam,
                                 .restore_hold_ms = f->restore_hold_ms };
    fake_open(&o, &f->hooks, &f->n);
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    fake_reset();
    fake_tmpdir(f->dir);
    snprintf(f->cfg, sizeof(f->cfg), "%s/am.yml", f->dir);
    snprintf(f->data, sizeof(f->data), "%s/data", f->dir);
    fake_write(f->cfg, cfg_text);
    pthread_mutex_init(&f->clock.mu, NULL);
    f->clock.now = T0;
    f->hooks = fake_hooks();
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
    assert_int_equal(alerts_notify_sync(f->n, 20000), 0);
}

static void put(fx_t *f, const char *name, int64_t starts, int64_t ends)
{
    label_t ls[1] = { { STR_LIT("alertname"), str_cstr(name) } };
    alerts_alert_t a = { .labels = ls, .nlabels = 1, .starts_at_ms = starts, .ends_at_ms = ends };
    alerts_notifier_put(f->n, &a, 1, fake_clock_now(&f->clock));
}

static size_t count_name(const char *name, bool ok_only)
{
    (void)ok_only;
    size_t k = 0;
    pthread_mutex_lock(&fake.mu);
    for (size_t i = 0; i < fake.ngot; i++) {
        k += strcmp(fake.got[i].name, name) == 0;
    }
    pthread_mutex_unlock(&fake.mu);
    return k;
}

static bool metrics_has(alerts_notifier_t *n, const char *line)
{
    buf_t out = { 0 };
    alerts_notifier_metrics(n, &out);
    bool has = strstr((const char *)out.data, line) != NULL;
    if (!has) {
        fprintf(stderr, "metrics lack \"%s\":\n%s\n", line, (const char *)out.data);
    }
    buf_fini(&out);
    return has;
}

static void test_retry_500_then_200(void **state)
{
    fx_t *f = *state;
    fx_open(f);
    strcpy(fake.script_for, "slow");
    fake_script(ALERTS_SEND_RETRY, 500, -1, 0);
    fake_script(ALERTS_SEND_RETRY, 503, -1, 0);
    put(f, "A", T0, T0 + H);
    at(f, T0 + 30 * S);
    assert_int_equal(count_name("slow", false), 3);
    assert_int_equal(count_name("fast", false), 1);
    assert_int_equal(fake_count(), 2);
    /* backoff doubles: 20 ms, then 40 ms */
    double t[3];
    size_t k = 0;
    for (size_t i = 0; i < fake.ngot && k < 3; i++) {
        if (strcmp(fake.got[i].name, "slow") == 0) {
            t[k++] = fake.got[i].at;
        }
    }
    assert_true(t[1] - t[0] >= 0.019);
    assert_true(t[2] - t[1] >= 0.039);
    at(f, T0 + 30 * S + M);
    at(f, T0 + 30 * S + 2 * M);
    assert_int_equal(fake_count(), 2);
    assert_true(metrics_has(f->n, "alertmanager_notifications_total{integration=\"fake\"} 2\n"));
    assert_true(metrics_has(f->n, "alertmanager_notification_requests_failed_total{integration=\"fake\"} 2\n"));
}

static void test_retry_after(void **state)
{
    fx_t *f = *state;
    fx_open(f);
    strcpy(fake.script_for, "slow");
    fake_script(ALERTS_SEND_RETRY, 429, 300, 0);
    put(f, "A", T0, T0 + H);
    at(f, T0 + 30 * S);
    assert_int_equal(count_name("slow", false), 2);
    double d = -1;
    double first = -1;
    for (size_t i = 0; i < fake.ngot; i++) {
        if (strcmp(fake.got[i].name, "slow") == 0) {
            if (first < 0) {
                first = fake.got[i].at;
            } else {
                d = fake.got[i].at - first;
            }
        }
    }
    assert_true(d >= 0.3);
}

static void test_hang_does_not_block_others(void **state)
{
    fx_t *f = *state;
    fx_open(f);
    strcpy(fake.script_for, "slow");
    fake_script(ALERTS_SEND_RETRY, 0, -1, 600); /* hangs until "its timeout", then a timeout error */
    put(f, "A", T0, T0 + H);
    at(f, T0 + 30 * S);
    assert_int_equal(fake_count(), 2);
    double slow_ok = 0, fast_ok = 0, slow_first = 0;
    for (size_t i = 0; i < fake.ngot; i++) {
        if (strcmp(fake.got[i].name, "fast") == 0) {
            fast_ok = fake.got[i].at;
        } else if (slow_first == 0) {
            slow_first = fake.got[i].at;
        } else {
            slow_ok = fake.got[i].at;
        }
    }
    assert_true(fast_ok - slow_first < 0.5);
    assert_true(slow_ok - slow_first >= 0.6);
}

static void test_permanent_failure(void **state)
{
    fx_t *f = *state;
    fx_open(f);
    strcpy(fake.script_for, "slow");
    fake_script(ALERTS_SEND_FAIL, 400, -1, 0);
    put(f, "A", T0, T0 + H);
    at(f, T0 + 30 * S);
    assert_int_equal(count_name("slow", false), 1);
    assert_true(
        metrics_has(f->n, "alertmanager_notifications_failed_total{integration=\"fake\",reason=\"clientError\"} 1\n"));
    /* not in the nflog: the next flush tries again */
    at(f, T0 + 30 * S + M);
    assert_int_equal(count_name("slow", false), 2);
    assert_int_equal(count_name("fast", false), 1);
}

static void test_give_up_at_deadline(void **state)
{
    fx_t *f = *state;
    f->hooks.backoff_initial_ms = 200;
    fx_open(f);
    strcpy(fake.script_for, "slow");
    for (int i = 0; i < 3; i++) {
        fake_script(ALERTS_SEND_RETRY, 502, -1, 0);
    }
    put(f, "A", T0, T0 + H);
    fake_clock_set(&f->clock, T0 + 30 * S);
    alerts_notify_sync(f->n, 1); /* kick: the first attempt fails; the sender waits 200 ms */
    for (int i = 0; i < 2000 && count_name("slow", false) == 0; i++) {
        usleep(1000);
    }
    assert_int_equal(count_name("slow", false), 1);
    fake_clock_set(&f->clock, T0 + 30 * S + M + 1); /* past the job's deadline: given up */
    /* the flush due now waits behind it, then retries until it gets through */
    assert_int_equal(alerts_notify_sync(f->n, 20000), 0);
    assert_true(metrics_has(f->n, "reason=\"contextDeadlineExceeded\"} 1\n"));
    assert_int_equal(count_name("slow", false), 4);
    pthread_mutex_lock(&fake.mu);
    size_t ok = fake.nok;
    pthread_mutex_unlock(&fake.mu);
    assert_int_equal(ok, 2);
}

static void test_persistence_restart(void **state)
{
    fx_t *f = *state;
    fx_open(f);
    put(f, "A", T0, T0 + H);
    at(f, T0 + 30 * S);
    assert_int_equal(fake_count(), 2);
    /* a silence and the kv survive too */
    pthread_mutex_lock(&f->n->mu);
    json_t *j = json_loads("{\"matchers\":[{\"name\":\"alertname\",\"value\":\"B\",\"isRegex\":false}],"
                           "\"startsAt\":\"2023-11-14T22:13:20Z\",\"endsAt\":\"2023-11-15T22:23:20Z\","
                           "\"createdBy\":\"t\",\"comment\":\"c\"}",
                           0, NULL);
    an_silence_t *sil = NULL;
    buf_t err = { 0 };
    alerts_silence_from_json(j, false, &sil, &err);
    char id[40];
    int rc = alerts_silence_set(&f->n->d.silences, sil, T0, id, &err);
    alerts_notify_save_silences(f->n);
    pthread_mutex_unlock(&f->n->mu);
    assert_int_equal(rc, 0);
    json_decref(j);
    buf_fini(&err);
    alerts_notifier_destroy(f->n);
    f->n = NULL;

    fake_clock_set(&f->clock, T0 + 2 * M);
    fx_open(f);
    at(f, T0 + 2 * M);
    at(f, T0 + 2 * M + 30 * S);
    at(f, T0 + 4 * M);
    assert_int_equal(fake_count(), 2); /* nothing twice */
    pthread_mutex_lock(&f->n->mu);
    size_t nsil = f->n->d.silences.n;
    const char *kv = alerts_nflog_kv_get(&f->n->kv, "r/fake/0", "count");
    char kvv[16];
    snprintf(kvv, sizeof(kvv), "%s", kv ? kv : "");
    pthread_mutex_unlock(&f->n->mu);
    assert_int_equal(nsil, 1);
    assert_string_equal(kvv, "1");
    /* a new alert in the restored group goes out at its next flush, and the kv counts on */
    put(f, "A2", T0 + 4 * M, T0 + H);
    at(f, T0 + 4 * M + 30 * S);
    assert_int_equal(fake_count(), 4);
    pthread_mutex_lock(&f->n->mu);
    kv = alerts_nflog_kv_get(&f->n->kv, "r/fake/0", "count");
    snprintf(kvv, sizeof(kvv), "%s", kv ? kv : "");
    pthread_mutex_unlock(&f->n->mu);
    assert_string_equal(kvv, "2");
}

static int64_t file_ends_at(fx_t *f)
{
    char p[400];
    snprintf(p, sizeof(p), "%s/alerts.json", f->data);
    json_t *j = json_load_file(p, 0, NULL);
    assert_non_null(j);
    int64_t e = json_integer_value(json_object_get(json_array_get(j, 0), "endsAt"));
    json_decref(j);
    return e;
}

/* Re-sent alerts that only move endsAt are written when half of the
 * validity on file has run out; a changed annotation at once. */
static void test_alerts_file_writes(void **state)
{
    fx_t *f = *state;
    fx_open(f);
    put(f, "A", T0, T0 + 4 * M);
    assert_int_equal(file_ends_at(f), T0 + 4 * M);
    fake_clock_set(&f->clock, T0 + M);
    put(f, "A", T0, T0 + 5 * M); /* 3m left on file, 4m in the new one */
    assert_int_equal(file_ends_at(f), T0 + 4 * M);
    fake_clock_set(&f->clock, T0 + 3 * M);
    put(f, "A", T0, T0 + 7 * M); /* 1m left on file < 4m / 2 */
    assert_int_equal(file_ends_at(f), T0 + 7 * M);
    label_t ls[1] = { { STR_LIT("alertname"), STR_LIT("A") } };
    label_t an[1] = { { STR_LIT("summary"), STR_LIT("changed") } };
    alerts_alert_t a = { .labels = ls,
                         .nlabels = 1,
                         .annotations = an,
                         .nannotations = 1,
                         .starts_at_ms = T0,
                         .ends_at_ms = T0 + 7 * M + 1 };
    alerts_notifier_put(f->n, &a, 1, T0 + 3 * M);
    assert_int_equal(file_ends_at(f), T0 + 7 * M + 1);
}

static void test_corrupt_state(void **state)
{
    fx_t *f = *state;
    char p[400];
    mkdir(f->data, 0755);
    snprintf(p, sizeof(p), "%s/nflog.json", f->data);
    fake_write(p, "{\"truncated\": [");
    snprintf(p, sizeof(p), "%s/alerts.json", f->data);
    fake_write(p, "[{\"labels\": 3}]");
    fx_open(f);
    assert_true(metrics_has(f->n, "pharos_notifier_state_corrupt_total 2\n"));
    snprintf(p, sizeof(p), "%s/nflog.json.corrupt", f->data);
    assert_int_equal(access(p, F_OK), 0);
    snprintf(p, sizeof(p), "%s/alerts.json.corrupt", f->data);
    assert_int_equal(access(p, F_OK), 0);
    put(f, "A", T0, T0 + H);
    at(f, T0 + 30 * S);
    assert_int_equal(fake_count(), 2);
}

static size_t lines_in(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        return 0;
    }
    size_t n = 0;
    int c;
    while ((c = fgetc(fp)) != EOF) {
        n += c == '\n';
    }
    fclose(fp);
    return n;
}

/* A child runs a notifier until told; the parent SIGKILLs it. deliver:
 * whether the child reaches its flush (and delivers) before the kill. */
static void run_child_and_kill(fx_t *f, const char *record, bool deliver)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        fake_reset();
        fake.record_path = record;
        fake_clock_set(&f->clock, T0);
        fx_open(f);
        put(f, "K", T0, T0 + H);
        if (deliver) {
            fake_clock_set(&f->clock, T0 + 30 * S);
            alerts_notify_sync(f->n, 20000);
        } else {
            alerts_notify_sync(f->n, 20000);
        }
        if (write(fds[1], "x", 1) != 1) {
            _exit(2);
        }
        for (;;) {
            pause();
        }
    }
    close(fds[1]);
    char c;
    assert_int_equal(read(fds[0], &c, 1), 1);
    close(fds[0]);
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFSIGNALED(st));
}

static void test_sigkill(void **state)
{
    fx_t *f = *state;
    char record[400];
    snprintf(record, sizeof(record), "%s/record", f->dir);
    /* killed before the flush: the restarted notifier delivers, once */
    run_child_and_kill(f, record, false);
    assert_int_equal(lines_in(record), 0);
    fake.record_path = record;
    fake_clock_set(&f->clock, T0 + 31 * S);
    fx_open(f);
    at(f, T0 + 31 * S);
    assert_int_equal(lines_in(record), 2);
    alerts_notifier_destroy(f->n);
    f->n = NULL;
    fake_clock_set(&f->clock, T0 + 3 * M);
    fx_open(f);
    at(f, T0 + 3 * M);
    at(f, T0 + 5 * M);
    assert_int_equal(lines_in(record), 2);
    alerts_notifier_destroy(f->n);
    f->n = NULL;

    /* killed after delivering: no second delivery after the restart */
    fake_rmrf(f->data);
    unlink(record);
    run_child_and_kill(f, record, true);
    assert_int_equal(lines_in(record), 2);
    fake_clock_set(&f->clock, T0 + 40 * S);
    fx_open(f);
    at(f, T0 + 40 * S);
    at(f, T0 + 2 * M);
    assert_int_equal(lines_in(record), 2);
}

/* ---- forwarding ---- */

typedef struct am_rec {
    pthread_mutex_t mu;
    size_t calls, alerts;
    char url[128];
} am_rec_t;

static am_rec_t am_rec = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void fake_am_post(httpc_t *c, const char *url, const alerts_alert_t *alerts, size_t n, alerts_send_result_t *res)
{
    (void)c;
    pthread_mutex_lock(&am_rec.mu);
    am_rec.calls++;
    bool fail = am_rec.calls == 1;
    if (!fail) {
        am_rec.alerts += n;
        snprintf(am_rec.url, sizeof(am_rec.url), "%s", url);
    }
    assert_true(n == 0 || alerts[0].nlabels == 1);
    pthread_mutex_unlock(&am_rec.mu);
    memset(res, 0, sizeof(*res));
    res->status = fail ? ALERTS_SEND_RETRY : ALERTS_SEND_OK;
    res->http_code = fail ? 503 : 200;
    res->retry_after_ms = -1;
}

static void test_forwarding(void **state)
{
    fx_t *f = *state;
    static const char *const urls[] = { "http://am1:9093" };
    f->am_urls = urls;
    f->nam = 1;
    f->hooks.am_post = fake_am_post;
    fx_open(f);
    put(f, "A", T0, T0 + H);
    put(f, "B", T0, T0 + H);
    assert_int_equal(alerts_notify_sync(f->n, 20000), 0);
    pthread_mutex_lock(&am_rec.mu);
    size_t calls = am_rec.calls, na = am_rec.alerts;
    pthread_mutex_unlock(&am_rec.mu);
    assert_int_equal(calls, 3); /* one retried */
    assert_int_equal(na, 2);
    assert_string_equal(am_rec.url, "http://am1:9093");
    assert_true(metrics_has(f->n, "pharos_notifier_forwarded_alerts_total{result=\"sent\"} 2\n"));
}

/* A Retry-After of hours is capped at fwd_wait_max_ms: one slow
 * Alertmanager does not stall forwarding. */
static size_t am_ra_calls;

static void fake_am_post_retry_after(httpc_t *c, const char *url, const alerts_alert_t *alerts, size_t n,
                                     alerts_send_result_t *res)
{
    (void)c;
    (void)url;
    (void)alerts;
    (void)n;
    pthread_mutex_lock(&am_rec.mu);
    bool fail = am_ra_calls++ == 0;
    pthread_mutex_unlock(&am_rec.mu);
    memset(res, 0, sizeof(*res));
    res->status = fail ? ALERTS_SEND_RETRY : ALERTS_SEND_OK;
    res->http_code = fail ? 429 : 200;
    res->retry_after_ms = fail ? 3 * H : -1;
}

static void test_forwarding_retry_after_capped(void **state)
{
    fx_t *f = *state;
    static const char *const urls[] = { "http://am1:9093" };
    f->am_urls = urls;
    f->nam = 1;
    f->hooks.am_post = fake_am_post_retry_after;
    f->hooks.fwd_wait_max_ms = 50;
    am_ra_calls = 0;
    fx_open(f);
    put(f, "A", T0, T0 + H);
    assert_int_equal(alerts_notify_sync(f->n, 5000), 0);
    pthread_mutex_lock(&am_rec.mu);
    size_t calls = am_ra_calls;
    pthread_mutex_unlock(&am_rec.mu);
    assert_int_equal(calls, 2);
}

static void test_redact_url(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        { "http://user:pw@am:9093/x", "http://<secret>@am:9093/x" },
        { "https://am:9093/api?x=a@b", "https://am:9093/api?x=a@b" },
        { "http://:p%40w@am", "http://<secret>@am" },
        { "am:9093", "am:9093" },
        { "", "" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_t b = { 0 };
        alerts_notify_redact_url(cases[i][0], &b);
        assert_string_equal(b.len ? (const char *)b.data : "", cases[i][1]);
        buf_fini(&b);
    }
}

/* A huge Retry-After (receivers clamp it, the sender saturates anyway)
 * gives up at the job's deadline instead of overflowing. */
static void test_retry_after_int64_max(void **state)
{
    fx_t *f = *state;
    fx_open(f);
    strcpy(fake.script_for, "slow");
    fake_script(ALERTS_SEND_RETRY, 429, INT64_MAX, 0);
    put(f, "A", T0, T0 + H);
    at(f, T0 + 30 * S);
    assert_int_equal(count_name("slow", false), 1);
    assert_true(metrics_has(f->n, "reason=\"contextDeadlineExceeded\"} 1\n"));
    at(f, T0 + 30 * S + M); /* the next flush delivers */
    assert_int_equal(count_name("slow", false), 2);
}

/* A reload of an unchanged file keeps the senders (and their queues). */
static void test_reload_unchanged(void **state)
{
    fx_t *f = *state;
    fx_open(f);
    pthread_mutex_lock(&fake.mu);
    size_t before = fake.nstates;
    pthread_mutex_unlock(&fake.mu);
    assert_int_equal(before, 2);
    buf_t err = { 0 };
    assert_int_equal(alerts_notifier_reload(f->n, &err), 0);
    pthread_mutex_lock(&fake.mu);
    size_t after = fake.nstates;
    pthread_mutex_unlock(&fake.mu);
    assert_int_equal(after, 2);
    /* a changed one swaps them */
    char text[1024];
    snprintf(text, sizeof(text), "%s# changed\n", cfg_text);
    fake_write(f->cfg, text);
    assert_int_equal(alerts_notifier_reload(f->n, &err), 0);
    pthread_mutex_lock(&fake.mu);
    after = fake.nstates;
    pthread_mutex_unlock(&fake.mu);
    assert_int_equal(after, 4);
    buf_fini(&err);
}

/* A job queued behind a slow one when a reload swaps the senders is not
 * lost for a group_interval: its group is due again at once. */
static void test_reload_keeps_due_groups(void **state)
{
    fx_t *f = *state;
    fx_open(f);
    strcpy(fake.script_for, "slow");
    fake_script(ALERTS_SEND_OK, 200, -1, 400);
    put(f, "A", T0, T0 + H);
    put(f, "B", T0, T0 + H);
    fake_clock_set(&f->clock, T0 + 30 * S);
    alerts_notify_sync(f->n, 1); /* kick: slow takes one job, the other waits behind it */
    for (int i = 0; i < 2000 && count_name("slow", false) == 0; i++) {
        usleep(1000);
    }
    assert_int_equal(count_name("slow", false), 1);
    char text[1024];
    snprintf(text, sizeof(text), "%s# changed\n", cfg_text);
    fake_write(f->cfg, text);
    buf_t err = { 0 };
    assert_int_equal(alerts_notifier_reload(f->n, &err), 0);
    buf_fini(&err);
    at(f, T0 + 30 * S); /* same time: no group_interval passed */
    assert_int_equal(count_name("slow", false), 2);
    assert_int_equal(fake_count(), 4);
}

/* alerts.json that could not be written is not taken as written: the
 * next put writes it, though it only extends the validity. */
static void test_alerts_file_write_error(void **state)
{
    fx_t *f = *state;
    fx_open(f);
    fake_rmrf(f->data);
    put(f, "A", T0, T0 + 4 * M);
    pthread_mutex_lock(&f->n->mu);
    int64_t persisted = f->n->d.store.v[0]->persisted_ends_ms;
    pthread_mutex_unlock(&f->n->mu);
    assert_int_equal(persisted, 0);
    assert_true(metrics_has(f->n, "pharos_notifier_state_write_errors_total 1\n"));
    assert_int_equal(mkdir(f->data, 0755), 0);
    fake_clock_set(&f->clock, T0 + S);
    put(f, "A", T0, T0 + 4 * M + S);
    assert_int_equal(file_ends_at(f), T0 + 4 * M + S);
}

static void test_metrics_text(void **state)
{
    fx_t *f = *state;
    fx_open(f);
    put(f, "A", T0, T0 + H);
    at(f, T0 + 30 * S);
    assert_true(metrics_has(f->n, "# TYPE alertmanager_notifications_total counter\n"));
    assert_true(metrics_has(f->n, "alertmanager_alerts{state=\"active\"} 1\n"));
    assert_true(metrics_has(f->n, "alertmanager_silences{state=\"active\"} 0\n"));
    assert_true(metrics_has(f->n, "alertmanager_notification_latency_seconds_count{integration=\"fake\"} 2\n"));
    assert_true(metrics_has(f->n, "pharos_notifier_queue_length{receiver=\"r\",integration=\"fake\",idx=\"1\"} 0\n"));
    assert_true(metrics_has(f->n, "alertmanager_nflog_entries 2\n"));
}

/* A receiver name is free text: /metrics escapes it as a label value. */
static void test_metrics_receiver_escaped(void **state)
{
    fx_t *f = *state;
    fake_write(f->cfg,
               "route:\n  receiver: 'a\"b\\c'\nreceivers:\n  - name: 'a\"b\\c'\n    fake_configs: [{name: x}]\n");
    fx_open(f);
    assert_true(
        metrics_has(f->n, "pharos_notifier_queue_length{receiver=\"a\\\"b\\\\c\",integration=\"fake\",idx=\"0\"} 0\n"));
}

/* A restart while an alert fires, with the state files as a SIGKILL
 * leaves them (alerts.json holds an endsAt only a little ahead): the
 * firing alert read back stays firing for restore_hold_ms, until the rule
 * manager sends it again, so no "resolved" notification goes out. */
static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    if (in == NULL) {
        return;
    }
    FILE *out = fopen(to, "wb");
    assert_non_null(out);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
        assert_int_equal(fwrite(buf, 1, n, out), n);
    }
    fclose(in);
    fclose(out);
}

static void snapshot(fx_t *f, bool save)
{
    static const char *const names[] = { "alerts.json", "nflog.json", "silences.json", "kv.json" };
    for (size_t i = 0; i < 4; i++) {
        char a[600], b[600];
        snprintf(a, sizeof(a), "%s/%s", f->data, names[i]);
        snprintf(b, sizeof(b), "%s/%s.snap", f->data, names[i]);
        if (save) {
            copy_file(a, b);
        } else {
            copy_file(b, a);
        }
    }
}

static void test_restart_keeps_firing_alerts_firing(void **state)
{
    fx_t *f = *state;
    f->restore_hold_ms = 10 * M;
    fx_open(f);
    put(f, "A", T0, T0 + 4 * M); /* as the rule manager sends: endsAt 4 resend delays ahead */
    at(f, T0 + 30 * S);
    fake_clock_set(&f->clock, T0 + M);
    put(f, "A", T0, T0 + 5 * M);
    at(f, T0 + M);
    fake_clock_set(&f->clock, T0 + 2 * M);
    put(f, "A", T0, T0 + 6 * M);
    at(f, T0 + 2 * M);
    snapshot(f, true);
    alerts_notifier_destroy(f->n);
    f->n = NULL;
    snapshot(f, false);
    size_t before = fake_count();
    /* Back 20 s later; the rules send again only after their restore. */
    fake_clock_set(&f->clock, T0 + 2 * M + 20 * S);
    fx_open(f);
    for (int s = 0; s <= 400; s += 10) {
        at(f, T0 + 2 * M + 20 * S + s * S);
    }
    fake_clock_set(&f->clock, T0 + 9 * M);
    put(f, "A", T0, T0 + 13 * M);
    for (int s = 0; s <= 120; s += 10) {
        at(f, T0 + 9 * M + s * S);
    }
    pthread_mutex_lock(&fake.mu);
    for (size_t i = before; i < fake.ngot; i++) {
        if (strcmp(fake.got[i].status, "resolved") == 0) {
            fail_msg("a resolved notification after the restart (nfiring %zu)", fake.got[i].nfiring);
        }
    }
    pthread_mutex_unlock(&fake.mu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_retry_500_then_200, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hang_does_not_block_others, setup, teardown),
        cmocka_unit_test_setup_teardown(test_permanent_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_give_up_at_deadline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persistence_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alerts_file_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigkill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_keeps_firing_alerts_firing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forwarding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_receiver_escaped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forwarding_retry_after_capped, setup, teardown),
        cmocka_unit_test(test_redact_url),
        cmocka_unit_test_setup_teardown(test_retry_after_int64_max, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_keeps_due_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alerts_file_write_error, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_notify: the notifier's lifecycle and threads.
 *
 * Threads: one dispatcher, one sender per receiver integration, one
 * forwarder (only with alertmanager_urls). One mutex (mu) guards all state,
 * never held across a receiver call or HTTP request: a hung receiver only
 * stalls its own sender. The dispatcher wakes at the next group flush (at
 * most every second, or when kicked), flushes due groups and queues jobs.
 * A queued job for the same (group, integration) is replaced by the newer
 * one; one built while an older one is tried waits, and the sender asks
 * needsUpdate again before trying it.
 *
 * Sender: on RETRY wait 0.5-1 s (jittered), x2 per attempt, capped at 60 s,
 * at least Retry-After (saturating), and give up at the job's deadline (its
 * group's next flush, >= 10 s). FAIL is logged, counted, not retried. After
 * a 2xx the nflog entry is persisted before the next job: a crash between
 * the 2xx and that write is the one window for a repeat after a restart.
 *
 * Persistence: alerts.json after a put that changed an alert (or when the
 * validity on file is half used; only a successful write counts),
 * silences.json after every change, nflog.json after every delivery,
 * kv.json inside kv put.
 * Reload: an unchanged config text is a no-op; else the dispatcher pauses
 * (reloading) while senders are swapped, and groups whose jobs the old
 * senders dropped are due at once. Forwarding waits at most
 * fwd_wait_max_ms per retry and logs URLs without their userinfo.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "alerts/alerts_int.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/mem.h"

static const char *const fail_reason[AN_FAIL_REASONS] = { "clientError", "serverError", "other",
                                                          "contextDeadlineExceeded" };
static const double lat_bounds[AN_LAT_BUCKETS] = { 1, 5, 10, 15, 20 };

/* ---- persistence (mu held) ---- */

/* 0 written (or nothing to write), -1 failed (counted). */
static int save(alerts_notifier_t *n, const char *name, json_t *j, size_t *bytes)
{
    int rc = 0;
    if (n->data_dir && j) {
        if (alerts_nflog_write_state(n->data_dir, name, j, bytes) != 0) {
            n->state_write_errors++;
            rc = -1;
        }
    }
    json_decref(j);
    return rc;
}

void alerts_notify_save_alerts(alerts_notifier_t *n)
{
    if (save(n, "alerts.json", n->data_dir ? alerts_store_dump(&n->d.store) : NULL, NULL) != 0) {
        return; /* not persisted: the next put writes again */
    }
    for (size_t i = 0; i < n->d.store.n; i++) {
        n->d.store.v[i]->persisted_ends_ms = n->d.store.v[i]->ends_at_ms;
    }
}

void alerts_notify_save_silences(alerts_notifier_t *n)
{
    save(n, "silences.json", n->data_dir ? alerts_silence_dump(&n->d.silences) : NULL, &n->silences_bytes);
}

static void save_nflog(alerts_notifier_t *n)
{
    save(n, "nflog.json", n->data_dir ? alerts_nflog_dump(&n->d.nflog) : NULL, &n->nflog_bytes);
}

static int save_kv(alerts_notifier_t *n)
{
    if (!n->data_dir) {
        return 0;
    }
    json_t *j = alerts_nflog_kv_dump(&n->kv);
    int rc = alerts_nflog_write_state(n->data_dir, "kv.json", j, NULL);
    json_decref(j);
    if (rc != 0) {
        n->state_write_errors++;
    }
    return rc;
}

static void restore(alerts_notifier_t *n)
{
    static const char *const names[] = { "nflog.json", "silences.json", "alerts.json", "kv.json" };
    for (size_t i = 0; i < 4; i++) {
        json_t *j = NULL;
        int rc = alerts_nflog_read_state(n->data_dir, names[i], &j);
        if (rc == 0) {
            continue;
        }
        if (rc > 0) {
            switch (i) {
            case 0:
                rc = alerts_nflog_load(&n->d.nflog, j);
                break;
            case 1:
                rc = alerts_silence_load(&n->d.silences, j);
                break;
            case 2:
                rc = alerts_store_load(&n->d.store, j);
                break;
            default:
                rc = alerts_nflog_kv_load(&n->kv, j);
                break;
            }
            json_decref(j);
            if (rc != 0) {
                alerts_nflog_set_aside(n->data_dir, names[i]);
            }
        }
        if (rc != 0) {
            n->state_corrupt++;
        }
    }
}

/* ---- kv for receivers ---- */

static int kv_get(void *ctx, const char *key, buf_t *val)
{
    an_sender_t *s = ctx;
    pthread_mutex_lock(&s->n->mu);
    const char *v = alerts_nflog_kv_get(&s->n->kv, s->ns, key);
    if (v) {
        buf_puts(val, v);
    }
    pthread_mutex_unlock(&s->n->mu);
    return v ? 1 : 0;
}

static int kv_put(void *ctx, const char *key, const char *val)
{
    an_sender_t *s = ctx;
    pthread_mutex_lock(&s->n->mu);
    alerts_nflog_kv_put(&s->n->kv, s->ns, key, val);
    int rc = save_kv(s->n);
    pthread_mutex_unlock(&s->n->mu);
    return rc == 0 ? 0 : -1;
}

/* ---- senders ---- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ULL;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

static size_t reason_of(const alerts_send_result_t *r)
{
    if (r->http_code >= 400 && r->http_code < 500) {
        return 0;
    }
    if (r->http_code >= 500) {
        return 1;
    }
    return 2;
}

static void cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t ms)
{
    struct timespec ts;
    clock_mono_deadline(ms, &ts);
    pthread_cond_timedwait(cv, mu, &ts);
}

static void observe_latency(an_type_metrics_t *m, double s)
{
    for (size_t i = 0; i < AN_LAT_BUCKETS; i++) {
        if (s <= lat_bounds[i]) {
            m->lat_buckets[i]++;
        }
    }
    m->lat_count++;
    m->lat_sum += s;
}

/* a - b, saturating at the int64 limits. */
static int64_t sat_sub(int64_t a, int64_t b)
{
    if (b < 0 && a > INT64_MAX + b) {
        return INT64_MAX;
    }
    if (b > 0 && a < INT64_MIN + b) {
        return INT64_MIN;
    }
    return a - b;
}

/* Try job j until it is delivered, fails permanently, passes its deadline
 * or the sender stops: true when delivered. Called and returns with mu
 * held. */
static bool run_job(an_sender_t *s, an_job_t *j)
{
    alerts_notifier_t *n = s->n;
    an_type_metrics_t *m = &n->tm[s->type_idx];
    const alerts_recv_type_t *t = s->integ->type;
    alerts_recv_env_t env = { .kv = { kv_get, kv_put, s },
                              .clock = n->clock,
                              .timeout_ms = n->hooks.send_timeout_ms ? n->hooks.send_timeout_ms : 30000 };
    /* DedupStage at send time: a job queued behind one for the same group
     * may have been made redundant by it. */
    const nflog_entry_t *e = alerts_nflog_get(&n->d.nflog, j->nflog_key);
    if (e && !alerts_dispatch_needs_update(e, j->firing, j->nfiring, j->resolved, j->nresolved, j->send_resolved,
                                           j->repeat_ms, j->flush_ms)) {
        return true;
    }
    m->notifications++;
    int64_t delay =
        n->hooks.backoff_initial_ms ? n->hooks.backoff_initial_ms : 500 + (int64_t)(rng_next(&s->rng) % 501);
    int64_t cap = n->hooks.backoff_max_ms ? n->hooks.backoff_max_ms : 60000;
    for (unsigned attempt = 1;; attempt++) {
        alerts_send_result_t res = { .status = ALERTS_SEND_OK, .retry_after_ms = -1 };
        if (j->send) {
            m->requests++;
            pthread_mutex_unlock(&n->mu);
            double t0 = clock_mono_s();
            t->send(s->integ->cfg, s->state, &env, &j->notif, &res);
            double took = clock_mono_s() - t0;
            pthread_mutex_lock(&n->mu);
            observe_latency(m, took);
        }
        if (res.status == ALERTS_SEND_OK) {
            alerts_nflog_set(&n->d.nflog, j->nflog_key, j->firing, j->nfiring, j->resolved, j->nresolved, j->flush_ms,
                             j->expires_ms);
            save_nflog(n);
            return true;
        }
        m->requests_failed++;
        res.msg[sizeof(res.msg) - 1] = 0;
        if (res.status == ALERTS_SEND_FAIL) {
            m->failed[reason_of(&res)]++;
            log_error("notify: %s/%s[%u]: group %s: failed permanently (HTTP %ld): %s", s->recv->name, t->name,
                      s->integ->idx, j->notif.group_key, res.http_code, res.msg);
            return false;
        }
        if (s->stop) {
            return false;
        }
        int64_t wait = delay;
        if (res.retry_after_ms > wait) {
            wait = res.retry_after_ms;
        }
        int64_t now = clock_now_ms(&n->clock);
        if (wait > sat_sub(j->deadline_ms, now)) {
            m->failed[3]++;
            log_warn("notify: %s/%s[%u]: group %s: giving up after %u attempts until the next flush (HTTP %ld): %s",
                     s->recv->name, t->name, s->integ->idx, j->notif.group_key, attempt, res.http_code, res.msg);
            return false;
        }
        log_debug("notify: %s/%s[%u]: attempt %u failed (HTTP %ld): %s; retry in %lld ms", s->recv->name, t->name,
                  s->integ->idx, attempt, res.http_code, res.msg, (long long)wait);
        double until = clock_mono_s() + (double)wait / 1000.0;
        while (!s->stop) {
            double left = until - clock_mono_s();
            if (left <= 0) {
                break;
            }
            cond_wait_ms(&s->cv, &n->mu, (int64_t)(left * 1000.0) + 1);
        }
        if (s->stop) {
            return false;
        }
        delay = delay * 2 > cap ? cap : delay * 2;
    }
}

static void *sender_main(void *arg)
{
    an_sender_t *s = arg;
    alerts_notifier_t *n = s->n;
    pthread_mutex_lock(&n->mu);
    while (!s->stop) {
        an_job_t *j = s->head;
        if (!j) {
            pthread_cond_wait(&s->cv, &n->mu);
            continue;
        }
        s->head = j->next;
        if (!s->head) {
            s->tail = NULL;
        }
        s->qlen--;
        s->busy = true;
        bool ok = run_job(s, j);
        int64_t now = clock_now_ms(&n->clock);
        alerts_dispatch_job_done(&n->d, j, ok, now);
        if (!ok && s->stop) { /* cut short by a reload or stop: the group is due again */
            alerts_dispatch_job_dropped(&n->d, j, now);
        }
        s->busy = false;
        alerts_job_free(j);
        pthread_cond_broadcast(&n->idle_cv);
    }
    pthread_mutex_unlock(&n->mu);
    return NULL;
}

static void cond_init_mono(pthread_cond_t *cv)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &ca);
    pthread_condattr_destroy(&ca);
}

static void sender_free(an_sender_t *s)
{
    while (s->head) {
        an_job_t *j = s->head;
        s->head = j->next;
        alerts_job_free(j);
    }
    if (s->integ->type->state_destroy) {
        s->integ->type->state_destroy(s->state);
    }
    pthread_cond_destroy(&s->cv);
    mem_free(s);
}

/* Create (not start) one sender per integration of cfg. */
static void senders_create(alerts_notifier_t *n, const amcfg_t *cfg)
{
    size_t total = 0;
    for (size_t i = 0; cfg && i < cfg->nreceivers; i++) {
        total += cfg->receivers[i].ninteg;
    }
    n->senders = mem_calloc(total + 1, sizeof(*n->senders));
    n->nsenders = 0;
    for (size_t i = 0; cfg && i < cfg->nreceivers; i++) {
        const amcfg_receiver_t *rc = &cfg->receivers[i];
        for (size_t k = 0; k < rc->ninteg; k++) {
            an_sender_t *s = mem_calloc(1, sizeof(*s));
            s->n = n;
            s->recv = rc;
            s->integ = &rc->integs[k];
            s->type_idx = (size_t)(s->integ->type - n->hooks.types);
            if (s->type_idx >= n->hooks.ntypes) {
                s->type_idx = 0;
            }
            snprintf(s->ns, sizeof(s->ns), "%s/%s/%u", rc->name, s->integ->type->name, s->integ->idx);
            s->state = s->integ->type->state_create ? s->integ->type->state_create(s->integ->cfg) : NULL;
            s->rng = hash_bytes(s->ns, strlen(s->ns)) ^ (uint64_t)(clock_mono_s() * 1e9);
            cond_init_mono(&s->cv);
            n->senders[n->nsenders++] = s;
        }
    }
}

static int senders_start(alerts_notifier_t *n, buf_t *err)
{
    for (size_t i = 0; i < n->nsenders; i++) {
        an_sender_t *s = n->senders[i];
        if (pthread_create(&s->th, NULL, sender_main, s) != 0) {
            buf_printf(err, "notifier: cannot start a sender thread");
            return -1;
        }
        s->started = true;
    }
    return 0;
}

/* Stop and free every sender; called without mu. */
static void senders_stop(alerts_notifier_t *n)
{
    pthread_mutex_lock(&n->mu);
    for (size_t i = 0; i < n->nsenders; i++) {
        n->senders[i]->stop = true;
        pthread_cond_broadcast(&n->senders[i]->cv);
    }
    pthread_mutex_unlock(&n->mu);
    for (size_t i = 0; i < n->nsenders; i++) {
        if (n->senders[i]->started) {
            pthread_join(n->senders[i]->th, NULL);
        }
    }
    pthread_mutex_lock(&n->mu);
    int64_t now = clock_now_ms(&n->clock);
    for (size_t i = 0; i < n->nsenders; i++) {
        for (an_job_t *j = n->senders[i]->head; j; j = j->next) {
            alerts_dispatch_job_dropped(&n->d, j, now);
        }
        sender_free(n->senders[i]);
    }
    mem_free(n->senders);
    n->senders = NULL;
    n->nsenders = 0;
    pthread_mutex_unlock(&n->mu);
}

/* Hand job j to its sender (mu held; takes j): false when there is no
 * running sender for it (j freed). */
static bool enqueue(void *ctx, an_job_t *j)
{
    alerts_notifier_t *n = ctx;
    an_sender_t *s = NULL;
    for (size_t i = 0; i < n->nsenders && !s; i++) {
        if (n->senders[i]->integ == j->integ) {
            s = n->senders[i];
        }
    }
    if (!s || s->stop) {
        alerts_job_free(j);
        return false;
    }
    for (an_job_t **p = &s->head; *p; p = &(*p)->next) {
        if (strcmp((*p)->nflog_key, j->nflog_key) == 0) {
            j->next = (*p)->next;
            if (s->tail == *p) {
                s->tail = j;
            }
            alerts_job_free(*p);
            *p = j;
            return true;
        }
    }
    j->next = NULL;
    if (s->tail) {
        s->tail->next = j;
    } else {
        s->head = j;
    }
    s->tail = j;
    s->qlen++;
    pthread_cond_signal(&s->cv);
    return true;
}

/* ---- dispatcher ---- */

void alerts_notify_kick(alerts_notifier_t *n)
{
    n->kick_seq++;
    pthread_cond_signal(&n->disp_cv);
}

static void *disp_main(void *arg)
{
    alerts_notifier_t *n = arg;
    int64_t last_gc = 0;
    pthread_mutex_lock(&n->mu);
    while (!n->stop) {
        uint64_t seq = n->kick_seq;
        int64_t now = clock_now_ms(&n->clock);
        int64_t next = n->reloading ? INT64_MAX : alerts_dispatch_flush_due(&n->d, now, enqueue, n);
        alerts_store_gc(&n->d.store, now);
        if (now - last_gc >= 60000 || now < last_gc) {
            last_gc = now;
            if (alerts_nflog_gc(&n->d.nflog, now) > 0) {
                save_nflog(n);
            }
            if (alerts_silence_gc(&n->d.silences, now, n->d.retention_ms) > 0) {
                alerts_notify_save_silences(n);
            }
        }
        n->done_seq = seq;
        pthread_cond_broadcast(&n->idle_cv);
        if (n->kick_seq != seq || n->stop) {
            continue;
        }
        int64_t wait = next == INT64_MAX ? 1000 : next - now;
        wait = wait < 10 ? 10 : (wait > 1000 ? 1000 : wait);
        cond_wait_ms(&n->disp_cv, &n->mu, wait);
    }
    pthread_mutex_unlock(&n->mu);
    return NULL;
}

/* ---- forwarding to Alertmanagers ---- */

static void *fwd_main(void *arg)
{
    alerts_notifier_t *n = arg;
    httpc_t *c = httpc_create(10000);
    pthread_mutex_lock(&n->mu);
    while (!n->stop) {
        an_fwd_batch_t *b = n->fwd_head;
        if (!b) {
            pthread_cond_wait(&n->fwd_cv, &n->mu);
            continue;
        }
        n->fwd_head = b->next;
        if (!n->fwd_head) {
            n->fwd_tail = NULL;
        }
        n->fwd_alerts -= b->n;
        n->fwd_busy = true;
        int64_t wait_max = n->hooks.fwd_wait_max_ms > 0 ? n->hooks.fwd_wait_max_ms : 60000;
        for (size_t u = 0; u < n->nam_urls && !n->stop; u++) {
            int64_t delay = n->hooks.backoff_initial_ms ? n->hooks.backoff_initial_ms : 500;
            for (unsigned attempt = 1; attempt <= 3; attempt++) {
                alerts_send_result_t res = { .retry_after_ms = -1 };
                pthread_mutex_unlock(&n->mu);
                n->hooks.am_post(c, n->am_urls[u], b->alerts, b->n, &res);
                pthread_mutex_lock(&n->mu);
                if (res.status == ALERTS_SEND_OK) {
                    n->fwd_sent += b->n;
                    break;
                }
                res.msg[sizeof(res.msg) - 1] = 0;
                if (res.status == ALERTS_SEND_FAIL || attempt == 3 || n->stop) {
                    n->fwd_failed += b->n;
                    buf_t url = { 0 };
                    alerts_notify_redact_url(n->am_urls[u], &url);
                    log_warn("notify: forwarding %zu alerts to %s failed (HTTP %ld): %s", b->n, (const char *)url.data,
                             res.http_code, res.msg);
                    buf_fini(&url);
                    break;
                }
                int64_t wait = res.retry_after_ms > delay ? res.retry_after_ms : delay;
                wait = wait > wait_max ? wait_max : wait; /* one URL must not stall forwarding */
                double until = clock_mono_s() + (double)wait / 1000.0;
                for (double left = wait / 1000.0; left > 0 && !n->stop; left = until - clock_mono_s()) {
                    cond_wait_ms(&n->fwd_cv, &n->mu, (int64_t)(left * 1000.0) + 1);
                }
                delay = delay > wait_max / 2 ? wait_max : delay * 2;
            }
        }
        arena_destroy(b->arena);
        mem_free(b);
        n->fwd_busy = false;
        pthread_cond_broadcast(&n->idle_cv);
    }
    pthread_mutex_unlock(&n->mu);
    httpc_destroy(c);
    return NULL;
}

static const label_t *copy_ls(arena_t *a, const label_t *ls, size_t n)
{
    label_t *o = arena_alloc(a, (n + 1) * sizeof(label_t));
    for (size_t i = 0; i < n; i++) {
        o[i].name = str_from(arena_strndup(a, ls[i].name.p, ls[i].name.len), ls[i].name.len);
        o[i].value = str_from(arena_strndup(a, ls[i].value.p, ls[i].value.len), ls[i].value.len);
    }
    return o;
}

#define AN_FWD_MAX_ALERTS 10000

static void forward(alerts_notifier_t *n, const alerts_alert_t *alerts, size_t nalerts)
{
    if (!n->fwd_started || nalerts == 0) {
        return;
    }
    an_fwd_batch_t *b = mem_calloc(1, sizeof(*b));
    b->arena = arena_create(8 << 10);
    b->alerts = arena_calloc(b->arena, nalerts, sizeof(*b->alerts));
    b->n = nalerts;
    for (size_t i = 0; i < nalerts; i++) {
        const alerts_alert_t *a = &alerts[i];
        alerts_alert_t *o = &b->alerts[i];
        *o = *a;
        o->labels = copy_ls(b->arena, a->labels, a->nlabels);
        o->annotations = copy_ls(b->arena, a->annotations, a->nannotations);
        o->generator_url = arena_strndup(b->arena, a->generator_url ? a->generator_url : "",
                                         a->generator_url ? strlen(a->generator_url) : 0);
    }
    while (n->fwd_head && n->fwd_alerts + nalerts > AN_FWD_MAX_ALERTS) {
        an_fwd_batch_t *old = n->fwd_head;
        n->fwd_head = old->next;
        if (!n->fwd_head) {
            n->fwd_tail = NULL;
        }
        n->fwd_alerts -= old->n;
        n->fwd_dropped += old->n;
        arena_destroy(old->arena);
        mem_free(old);
    }
    if (n->fwd_tail) {
        n->fwd_tail->next = b;
    } else {
        n->fwd_head = b;
    }
    n->fwd_tail = b;
    n->fwd_alerts += nalerts;
    pthread_cond_signal(&n->fwd_cv);
}

/* ---- public ---- */

void alerts_notifier_put(void *vn, const alerts_alert_t *alerts, size_t nalerts, int64_t now_ms)
{
    (void)now_ms;
    alerts_notify_put(vn, alerts, nalerts, true);
}

void alerts_notify_put(alerts_notifier_t *n, const alerts_alert_t *alerts, size_t nalerts, bool fwd)
{
    if (!n || nalerts == 0) {
        return;
    }
    pthread_mutex_lock(&n->mu);
    int64_t now = clock_now_ms(&n->clock);
    int64_t rt = n->d.cfg ? n->d.cfg->resolve_timeout_ms : 5 * 60 * 1000;
    bool dirty = false;
    for (size_t i = 0; i < nalerts; i++) {
        bool changed = false;
        an_alert_t *a = alerts_store_put(&n->d.store, &alerts[i], now, rt, &changed);
        n->alerts_received[alerts_alert_resolved(a, now) ? 1 : 0]++;
        alerts_dispatch_insert(&n->d, a, now);
        /* A re-sent alert that only extends its validity is written when
         * half of what the file holds has run out. */
        dirty |=
            changed || (a->ends_at_ms > a->persisted_ends_ms && a->persisted_ends_ms - now < (a->ends_at_ms - now) / 2);
    }
    if (dirty) {
        alerts_notify_save_alerts(n);
    }
    if (fwd) {
        forward(n, alerts, nalerts);
    }
    alerts_notify_kick(n);
    pthread_mutex_unlock(&n->mu);
}

/* The text /api/v2/status serves for cfg: secrets redacted (heap). */
static char *served_text(const alerts_notifier_t *n, const amcfg_t *cfg)
{
    if (!cfg || !cfg->original) {
        return NULL;
    }
    buf_t b = { 0 };
    alerts_notify_redact(cfg->original, strlen(cfg->original), n->hooks.types, n->hooks.ntypes, &b);
    char *s = mem_strdup(b.len ? (const char *)b.data : "");
    buf_fini(&b);
    return s;
}

static char *dup_or_null(const char *s)
{
    return s ? mem_strdup(s) : NULL;
}

static int mkdir_p(const char *dir)
{
    char *p = mem_strdup(dir);
    int rc = 0;
    for (char *s = p + 1; *s && rc == 0; s++) {
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                rc = -errno;
            }
            *s = '/';
        }
    }
    if (rc == 0 && mkdir(p, 0755) != 0 && errno != EEXIST) {
        rc = -errno;
    }
    mem_free(p);
    return rc;
}

int alerts_notify_open(const alerts_notifier_opts_t *o, const alerts_notify_hooks_t *h, alerts_notifier_t **out,
                       buf_t *err)
{
    *out = NULL;
    alerts_notifier_t *n = mem_calloc(1, sizeof(*n));
    n->hooks = *h;
    n->config_file = dup_or_null(o->config_file);
    n->data_dir = dup_or_null(o->data_dir);
    n->external_url = mem_strdup(o->external_url ? o->external_url : "");
    n->am_urls = mem_calloc(o->nalertmanager_urls + 1, sizeof(char *));
    for (size_t i = 0; i < o->nalertmanager_urls; i++) {
        n->am_urls[n->nam_urls++] = mem_strdup(o->alertmanager_urls[i]);
    }
    n->clock = o->clock.now_ms ? o->clock : clock_real();
    n->restore_hold_ms = o->restore_hold_ms;
    n->tm = mem_calloc(h->ntypes + 1, sizeof(*n->tm));
    pthread_mutex_init(&n->mu, NULL);
    pthread_mutex_init(&n->reload_mu, NULL);
    cond_init_mono(&n->disp_cv);
    cond_init_mono(&n->idle_cv);
    cond_init_mono(&n->fwd_cv);
    alerts_dispatch_init(&n->d);
    n->d.external_url = n->external_url;
    n->start_ms = clock_now_ms(&n->clock);
    if (n->config_file && alerts_amcfg_load(n->config_file, h->types, h->ntypes, &n->d.cfg, err) != 0) {
        goto fail;
    }
    n->cfg_served = served_text(n, n->d.cfg);
    if (n->nam_urls > 0 && !h->am_post) {
        buf_puts(err, "notifier: no Alertmanager client");
        goto fail;
    }
    if (n->data_dir) {
        int rc = mkdir_p(n->data_dir);
        if (rc != 0) {
            buf_printf(err, "mkdir %s: %s", n->data_dir, strerror(-rc));
            goto fail;
        }
        restore(n);
    }
    int64_t now = clock_now_ms(&n->clock);
    /* Firing alerts read back (sent with an endsAt ahead of their last
     * update, not timed out) stay firing until the senders had time to
     * send them again. */
    for (size_t i = 0; i < n->d.store.n && n->restore_hold_ms > 0; i++) {
        an_alert_t *a = n->d.store.v[i];
        if (!a->timeout && a->ends_at_ms > a->updated_at_ms && a->ends_at_ms < now + n->restore_hold_ms) {
            a->ends_at_ms = now + n->restore_hold_ms;
        }
    }
    for (size_t i = 0; i < n->d.store.n; i++) {
        alerts_dispatch_insert(&n->d, n->d.store.v[i], now);
    }
    senders_create(n, n->d.cfg);
    if (senders_start(n, err) != 0) {
        goto fail;
    }
    if (pthread_create(&n->disp_th, NULL, disp_main, n) != 0) {
        buf_puts(err, "notifier: cannot start the dispatcher thread");
        goto fail;
    }
    n->disp_started = true;
    if (n->nam_urls > 0) {
        if (pthread_create(&n->fwd_th, NULL, fwd_main, n) != 0) {
            buf_puts(err, "notifier: cannot start the forwarder thread");
            goto fail;
        }
        n->fwd_started = true;
    }
    *out = n;
    return 0;
fail:
    alerts_notifier_destroy(n);
    return -1;
}

void alerts_notifier_destroy(alerts_notifier_t *n)
{
    if (!n) {
        return;
    }
    pthread_mutex_lock(&n->mu);
    n->stop = true;
    pthread_cond_broadcast(&n->disp_cv);
    pthread_cond_broadcast(&n->fwd_cv);
    pthread_mutex_unlock(&n->mu);
    if (n->disp_started) {
        pthread_join(n->disp_th, NULL);
    }
    if (n->fwd_started) {
        pthread_join(n->fwd_th, NULL);
    }
    senders_stop(n);
    pthread_mutex_lock(&n->mu);
    if (n->data_dir && n->disp_started) {
        alerts_notify_save_alerts(n);
        save_nflog(n);
        alerts_notify_save_silences(n);
    }
    pthread_mutex_unlock(&n->mu);
    while (n->fwd_head) {
        an_fwd_batch_t *b = n->fwd_head;
        n->fwd_head = b->next;
        arena_destroy(b->arena);
        mem_free(b);
    }
    alerts_amcfg_free(n->d.cfg);
    alerts_dispatch_fini(&n->d);
    alerts_nflog_kv_fini(&n->kv);
    pthread_cond_destroy(&n->disp_cv);
    pthread_cond_destroy(&n->idle_cv);
    pthread_cond_destroy(&n->fwd_cv);
    pthread_mutex_destroy(&n->mu);
    pthread_mutex_destroy(&n->reload_mu);
    for (size_t i = 0; i < n->nam_urls; i++) {
        mem_free(n->am_urls[i]);
    }
    mem_free(n->am_urls);
    mem_free(n->tm);
    mem_free(n->config_file);
    mem_free(n->data_dir);
    mem_free(n->external_url);
    mem_free(n->cfg_served);
    mem_free(n);
}

/* Does path hold exactly text (NUL-terminated)? false when unreadable. */
static bool file_is(const char *path, const char *text)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return false;
    }
    size_t len = strlen(text), off = 0;
    bool same = true;
    char chunk[8192];
    size_t got;
    while (same && (got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        same = got <= len - off && memcmp(chunk, text + off, got) == 0;
        off += got;
    }
    same = same && !ferror(f) && off == len;
    fclose(f);
    return same;
}

int alerts_notifier_reload(alerts_notifier_t *n, buf_t *err)
{
    if (!n || !n->config_file) {
        return 0;
    }
    pthread_mutex_lock(&n->reload_mu);
    /* d.cfg changes only here, under reload_mu: read without mu (no I/O under mu) */
    bool same = n->d.cfg && file_is(n->config_file, n->d.cfg->original);
    if (same) { /* an unchanged text: senders, queues and timers stay as they are */
        pthread_mutex_unlock(&n->reload_mu);
        return 0;
    }
    amcfg_t *cfg = NULL;
    if (alerts_amcfg_load(n->config_file, n->hooks.types, n->hooks.ntypes, &cfg, err) != 0) {
        pthread_mutex_unlock(&n->reload_mu);
        return -1;
    }
    char *served = served_text(n, cfg);
    pthread_mutex_lock(&n->mu);
    n->reloading = true; /* no flush while no sender can take its jobs */
    pthread_mutex_unlock(&n->mu);
    senders_stop(n); /* groups of dropped jobs become due now */
    pthread_mutex_lock(&n->mu);
    amcfg_t *old = n->d.cfg;
    n->d.cfg = cfg;
    mem_free(n->cfg_served);
    n->cfg_served = served;
    alerts_dispatch_rebuild(&n->d, clock_now_ms(&n->clock));
    senders_create(n, cfg);
    int rc = senders_start(n, err);
    n->reloading = false;
    alerts_notify_kick(n);
    pthread_mutex_unlock(&n->mu);
    alerts_amcfg_free(old);
    pthread_mutex_unlock(&n->reload_mu);
    return rc;
}

int alerts_notify_check(const char *path, const alerts_recv_type_t *types, size_t ntypes, buf_t *err)
{
    amcfg_t *c = NULL;
    int rc = alerts_amcfg_load(path, types, ntypes, &c, err);
    alerts_amcfg_free(c);
    return rc;
}

static bool idle(const alerts_notifier_t *n, uint64_t target)
{
    if (n->done_seq < target || n->fwd_head || n->fwd_busy) {
        return false;
    }
    for (size_t i = 0; i < n->nsenders; i++) {
        if (n->senders[i]->head || n->senders[i]->busy) {
            return false;
        }
    }
    return true;
}

int alerts_notify_sync(alerts_notifier_t *n, long timeout_ms)
{
    double until = clock_mono_s() + (double)timeout_ms / 1000.0;
    pthread_mutex_lock(&n->mu);
    alerts_notify_kick(n);
    uint64_t target = n->kick_seq;
    int rc = 0;
    while (!idle(n, target)) {
        double left = until - clock_mono_s();
        if (left <= 0) {
            rc = -1;
            break;
        }
        cond_wait_ms(&n->idle_cv, &n->mu, (int64_t)(left * 1000.0) + 1);
    }
    pthread_mutex_unlock(&n->mu);
    return rc;
}

/* ---- metrics ---- */

static void help(buf_t *out, const char *name, const char *type, const char *text)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/* Append s as an exposition-format label value: \\, \" and \n escaped
 * (receiver names are free text). */
static void label_value(buf_t *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"') {
            buf_putc(out, '\\');
            buf_putc(out, *s);
        } else if (*s == '\n') {
            buf_puts(out, "\\n");
        } else {
            buf_putc(out, *s);
        }
    }
}

void alerts_notifier_metrics(alerts_notifier_t *n, buf_t *out)
{
    if (!n) {
        return;
    }
    pthread_mutex_lock(&n->mu);
    const alerts_recv_type_t *t = n->hooks.types;
    size_t nt = n->hooks.ntypes;
    help(out, "alertmanager_notifications_total", "counter", "The total number of attempted notifications.");
    for (size_t i = 0; i < nt; i++) {
        buf_printf(out, "alertmanager_notifications_total{integration=\"%s\"} %llu\n", t[i].name,
                   (unsigned long long)n->tm[i].notifications);
    }
    help(out, "alertmanager_notifications_failed_total", "counter", "The total number of failed notifications.");
    for (size_t i = 0; i < nt; i++) {
        for (size_t r = 0; r < AN_FAIL_REASONS; r++) {
            buf_printf(out, "alertmanager_notifications_failed_total{integration=\"%s\",reason=\"%s\"} %llu\n",
                       t[i].name, fail_reason[r], (unsigned long long)n->tm[i].failed[r]);
        }
    }
    help(out, "alertmanager_notification_requests_total", "counter",
         "The total number of attempted notification requests.");
    for (size_t i = 0; i < nt; i++) {
        buf_printf(out, "alertmanager_notification_requests_total{integration=\"%s\"} %llu\n", t[i].name,
                   (unsigned long long)n->tm[i].requests);
    }
    help(out, "alertmanager_notification_requests_failed_total", "counter",
         "The total number of failed notification requests.");
    for (size_t i = 0; i < nt; i++) {
        buf_printf(out, "alertmanager_notification_requests_failed_total{integration=\"%s\"} %llu\n", t[i].name,
                   (unsigned long long)n->tm[i].requests_failed);
    }
    help(out, "alertmanager_notification_latency_seconds", "histogram", "The latency of notifications in seconds.");
    for (size_t i = 0; i < nt; i++) {
        for (size_t b = 0; b < AN_LAT_BUCKETS; b++) {
            buf_printf(out, "alertmanager_notification_latency_seconds_bucket{integration=\"%s\",le=\"%g\"} %llu\n",
                       t[i].name, lat_bounds[b], (unsigned long long)n->tm[i].lat_buckets[b]);
        }
        buf_printf(out, "alertmanager_notification_latency_seconds_bucket{integration=\"%s\",le=\"+Inf\"} %llu\n",
                   t[i].name, (unsigned long long)n->tm[i].lat_count);
        buf_printf(out, "alertmanager_notification_latency_seconds_sum{integration=\"%s\"} %.6f\n", t[i].name,
                   n->tm[i].lat_sum);
        buf_printf(out, "alertmanager_notification_latency_seconds_count{integration=\"%s\"} %llu\n", t[i].name,
                   (unsigned long long)n->tm[i].lat_count);
    }
    int64_t now = clock_now_ms(&n->clock);
    size_t active = 0, suppressed = 0;
    an_inhibit_idx_t ix = { 0 };
    alerts_inhibit_index(n->d.cfg, &n->d.store, now, &ix);
    for (size_t i = 0; i < n->d.store.n; i++) {
        const an_alert_t *a = n->d.store.v[i];
        if (alerts_alert_resolved(a, now)) {
            continue;
        }
        if (alerts_dispatch_muted(&n->d, &ix, a, now, NULL, NULL, NULL)) {
            suppressed++;
        } else {
            active++;
        }
    }
    alerts_inhibit_index_fini(&ix);
    help(out, "alertmanager_alerts", "gauge", "How many alerts by state.");
    buf_printf(out,
               "alertmanager_alerts{state=\"active\"} %zu\nalertmanager_alerts{state=\"suppressed\"} %zu\n"
               "alertmanager_alerts{state=\"unprocessed\"} 0\n",
               active, suppressed);
    help(out, "alertmanager_alerts_received_total", "counter", "The total number of received alerts.");
    buf_printf(out,
               "alertmanager_alerts_received_total{status=\"firing\"} %llu\n"
               "alertmanager_alerts_received_total{status=\"resolved\"} %llu\n",
               (unsigned long long)n->alerts_received[0], (unsigned long long)n->alerts_received[1]);
    help(out, "alertmanager_alerts_invalid_total", "counter", "The total number of received alerts that were invalid.");
    buf_printf(out, "alertmanager_alerts_invalid_total %llu\n", (unsigned long long)n->alerts_invalid);
    size_t sst[3] = { 0 };
    for (size_t i = 0; i < n->d.silences.n; i++) {
        sst[alerts_silence_state(n->d.silences.v[i], now)]++;
    }
    help(out, "alertmanager_silences", "gauge", "How many silences by state.");
    for (size_t i = 0; i < 3; i++) {
        buf_printf(out, "alertmanager_silences{state=\"%s\"} %zu\n", alerts_silence_state_name((an_silence_state_t)i),
                   sst[i]);
    }
    help(out, "pharos_notifier_silences_rejected_total", "counter",
         "Silences the API refused because a bound was reached (count, matchers, text size).");
    buf_printf(out, "pharos_notifier_silences_rejected_total %llu\n", (unsigned long long)n->silences_rejected);
    help(out, "alertmanager_nflog_snapshot_size_bytes", "gauge",
         "Size of the last notification log snapshot in bytes.");
    buf_printf(out, "alertmanager_nflog_snapshot_size_bytes %zu\n", n->nflog_bytes);
    help(out, "alertmanager_nflog_entries", "gauge", "Entries in the notification log.");
    buf_printf(out, "alertmanager_nflog_entries %zu\n", n->d.nflog.n);
    help(out, "alertmanager_silences_snapshot_size_bytes", "gauge", "Size of the last silence snapshot in bytes.");
    buf_printf(out, "alertmanager_silences_snapshot_size_bytes %zu\n", n->silences_bytes);
    help(out, "alertmanager_dispatcher_aggregation_groups", "gauge", "Number of active aggregation groups.");
    buf_printf(out, "alertmanager_dispatcher_aggregation_groups %zu\n", n->d.ngroups);
    help(out, "pharos_notifier_queue_length", "gauge", "Notifications waiting for a sender, per integration.");
    for (size_t i = 0; i < n->nsenders; i++) {
        const an_sender_t *s = n->senders[i];
        buf_puts(out, "pharos_notifier_queue_length{receiver=\"");
        label_value(out, s->recv->name);
        buf_printf(out, "\",integration=\"%s\",idx=\"%u\"} %zu\n", s->integ->type->name, s->integ->idx,
                   s->qlen + (s->busy ? 1 : 0));
    }
    help(out, "pharos_notifier_state_corrupt_total", "counter", "State files set aside as corrupt at start.");
    buf_printf(out, "pharos_notifier_state_corrupt_total %llu\n", (unsigned long long)n->state_corrupt);
    help(out, "pharos_notifier_state_write_errors_total", "counter", "State files that could not be written.");
    buf_printf(out, "pharos_notifier_state_write_errors_total %llu\n", (unsigned long long)n->state_write_errors);
    help(out, "pharos_notifier_forwarded_alerts_total", "counter",
         "Alerts sent to the configured Alertmanagers, by result.");
    buf_printf(out,
               "pharos_notifier_forwarded_alerts_total{result=\"sent\"} %llu\n"
               "pharos_notifier_forwarded_alerts_total{result=\"failed\"} %llu\n"
               "pharos_notifier_forwarded_alerts_total{result=\"dropped\"} %llu\n",
               (unsigned long long)n->fwd_sent, (unsigned long long)n->fwd_failed, (unsigned long long)n->fwd_dropped);
    pthread_mutex_unlock(&n->mu);
}

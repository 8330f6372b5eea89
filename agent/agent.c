/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent: the composition root. One thread (agent_run) collects the host
 * on the wall-clock grid of collect.interval: a collection at tick T
 * stamps every sample with T exactly, so a series' timestamps are
 * evenly spaced whatever the scheduling jitter (the store then encodes
 * them in almost no bits). Ticks missed because a collection overran are
 * skipped and counted, never collected late.
 *
 * Each collector runs under a sink mark: on failure its samples are
 * withdrawn and node_scrape_collector_success{collector} is 0, and the
 * others go on. Series the previous collection had and this one lacks get
 * a stale marker (msink_stale), as a Prometheus scraping the host would
 * write. Then the agent's own metrics are added, every sample is
 * queued to every endpoint (agent_emit), and the sink is swapped with the
 * one /metrics serves: two sinks alternate, so a steady collection
 * allocates nothing.
 *
 * Scrape targets (agent_scrape.c) run on threads of their own and emit
 * through the same function; the shippers are guarded by ship_mu. The
 * log inputs (agent_logs.c) run on a thread of their own with their own
 * Loki shippers.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/agent_int.h"
#include "common/clock.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/mem.h"

#define AGENT_MAX_SERIES_LABELS (1 + MSINK_MAX_LABELS + 2 + AGENT_MAX_STATIC_LABELS)

struct agent {
    const agent_config_t *cfg;
    coll_paths_t paths;
    size_t ncoll;
    const coll_def_t **coll;
    void **coll_state;
    bool *coll_ok;           /* last outcome, to log changes only */
    msink_t host, pub, meta; /* meta: up and scrape_* of the host job */
    msink_t stale;           /* markers for series the last collection lost */
    pthread_mutex_t pub_mu;  /* guards pub */
    bool pub_preview;        /* pub holds the start-up preview: nothing of it was shipped */
    buf_t scratch, series_scratch;
    label_t *series;
    label_t *host_target;
    size_t nhost_target;
    char hostname[256];
    shipper_t **ship;
    size_t nship;
    pthread_mutex_t ship_mu;
    agent_scrape_t **scrapes;
    size_t nscrapes;
    agent_httpd_t *http;
    struct agent_logs *logs; /* the log inputs and their Loki endpoints, or NULL */
    pthread_mutex_t mu;      /* guards stop */
    pthread_cond_t cv;
    bool stop;
    agent_self_t self;
};

int64_t agent_wall_ms(void)
{
    pclock_t c = clock_real();
    return clock_now_ms(&c);
}

int64_t agent_grid_next(int64_t interval_ms)
{
    return (agent_wall_ms() / interval_ms + 1) * interval_ms;
}

bool agent_grid_wait(pthread_mutex_t *mu, pthread_cond_t *cv, const bool *stop, int64_t until_ms)
{
    struct timespec ts = { until_ms / 1000, (until_ms % 1000) * 1000000L };
    pthread_mutex_lock(mu);
    while (!*stop) {
        if (pthread_cond_timedwait(cv, mu, &ts) == ETIMEDOUT) {
            break;
        }
    }
    bool stopping = *stop;
    pthread_mutex_unlock(mu);
    return stopping;
}

void agent_emit(agent_t *a, const msink_t *s, const label_t *target, size_t nt, bool honor_labels, bool honor_ts,
                int64_t ts_ms)
{
    if (a->nship == 0) {
        return;
    }
    int64_t now = agent_wall_ms();
    pthread_mutex_lock(&a->ship_mu);
    for (size_t i = 0; i < s->nsamples; i++) {
        const msink_sample_t *x = &s->samples[i];
        size_t n =
            agent_rw_series(s, x, target, nt, honor_labels, &a->series_scratch, a->series, AGENT_MAX_SERIES_LABELS);
        if (n == 0) {
            continue;
        }
        uint64_t h = labels_hash(a->series, n);
        int64_t ts = honor_ts && x->ts_ms != MSINK_NO_TS ? x->ts_ms : ts_ms;
        for (size_t e = 0; e < a->nship; e++) {
            ship_add(a->ship[e], a->series, n, h, x->value, ts, now);
        }
    }
    for (size_t e = 0; e < a->nship; e++) {
        ship_flush(a->ship[e], now, false);
    }
    pthread_mutex_unlock(&a->ship_mu);
}

static void agent_collectors_run(agent_t *a, int64_t tick)
{
    msink_t *s = &a->host;
    uint32_t fdur = msink_family_c(s, "node_scrape_collector_duration_seconds",
                                   "node_exporter: Duration of a collector scrape.", METRIC_GAUGE);
    uint32_t fok = msink_family_c(s, "node_scrape_collector_success", "node_exporter: Whether a collector succeeded.",
                                  METRIC_GAUGE);
    for (size_t i = 0; i < a->ncoll; i++) {
        const coll_def_t *c = a->coll[i];
        coll_ctx_t ctx = { .paths = &a->paths, .now_ms = tick, .scratch = &a->scratch, .state = a->coll_state[i] };
        char err[256] = "";
        msink_mark_t m = msink_mark(s);
        double t0 = clock_mono_s();
        int rc = c->collect(&ctx, s, err, sizeof(err));
        double d = clock_mono_s() - t0;
        if (rc != 0) {
            msink_rollback(s, m);
            if (a->coll_ok[i]) {
                log_warn("collector %s failed: %s", c->name, err[0] ? err : "no data");
            }
        } else if (!a->coll_ok[i]) {
            log_info("collector %s succeeds", c->name);
        }
        a->coll_ok[i] = rc == 0;
        const char *ln[1] = { "collector" }, *lv[1] = { c->name };
        msink_add(s, fdur, d, 1, ln, lv);
        msink_add(s, fok, rc == 0 ? 1 : 0, 1, ln, lv);
    }
}

/* One host collection at grid tick T. */
static void agent_collect(agent_t *a, int64_t tick)
{
    double t0 = clock_mono_s();
    msink_reset(&a->host);
    agent_collectors_run(a, tick);
    size_t host_samples = a->host.nsamples;
    agent_self_metrics(&a->self, a->ship, a->nship, &a->scratch, &a->host);
    agent_logs_metrics(a->logs, &a->host);
    agent_emit(a, &a->host, a->host_target, a->nhost_target, false, false, tick);
    /* pub still holds the previous collection: series it had and this
     * one lacks (a disk or interface gone, a collector failing) get a
     * stale marker, as Prometheus writes when a scraped series vanishes. */
    if (!a->pub_preview) {
        msink_stale(&a->pub, &a->host, &a->scratch, &a->stale);
        agent_emit(a, &a->stale, a->host_target, a->nhost_target, false, false, tick);
    }
    a->pub_preview = false;
    double d = clock_mono_s() - t0;
    /* What Prometheus would record scraping this job. */
    if (a->nship > 0) {
        msink_t *up = &a->meta;
        msink_reset(up);
        msink_addv(up, "up", NULL, METRIC_GAUGE, 1, 0);
        msink_addv(up, "scrape_duration_seconds", NULL, METRIC_GAUGE, d, 0);
        msink_addv(up, "scrape_samples_scraped", NULL, METRIC_GAUGE, (double)host_samples, 0);
        agent_emit(a, up, a->host_target, a->nhost_target, false, false, tick);
    }
    a->self.collections++;
    a->self.last_duration_s = d;
    pthread_mutex_lock(&a->pub_mu);
    msink_t tmp = a->pub;
    a->pub = a->host;
    a->host = tmp;
    pthread_mutex_unlock(&a->pub_mu);
}

/* Fill what /metrics serves before the first grid tick (up to one
 * collect.interval away): the collectors and the agent's own metrics,
 * read now and shipped nowhere. The first collection replaces it. */
static void agent_collect_preview(agent_t *a)
{
    int64_t now = agent_wall_ms();
    msink_reset(&a->host);
    agent_collectors_run(a, now);
    agent_self_metrics(&a->self, a->ship, a->nship, &a->scratch, &a->host);
    agent_logs_metrics(a->logs, &a->host);
    pthread_mutex_lock(&a->pub_mu);
    msink_t tmp = a->pub;
    a->pub = a->host;
    a->host = tmp;
    a->pub_preview = true;
    pthread_mutex_unlock(&a->pub_mu);
}

void agent_run(agent_t *a)
{
    agent_collect_preview(a);
    int64_t iv = a->cfg->interval_ms;
    int64_t next = agent_grid_next(iv);
    for (;;) {
        int64_t due = next;
        pthread_mutex_lock(&a->ship_mu);
        for (size_t e = 0; e < a->nship; e++) {
            int64_t d = ship_next_deadline(a->ship[e]);
            due = d < due ? d : due;
        }
        pthread_mutex_unlock(&a->ship_mu);
        if (agent_grid_wait(&a->mu, &a->cv, &a->stop, due)) {
            break;
        }
        int64_t now = agent_wall_ms();
        if (now < next) {
            pthread_mutex_lock(&a->ship_mu);
            for (size_t e = 0; e < a->nship; e++) {
                ship_flush(a->ship[e], now, false);
            }
            pthread_mutex_unlock(&a->ship_mu);
            continue;
        }
        agent_collect(a, next);
        int64_t after = agent_wall_ms();
        int64_t upcoming = (after / iv + 1) * iv;
        if (upcoming > next + iv) {
            a->self.missed += (uint64_t)((upcoming - next) / iv - 1);
        }
        next = upcoming;
    }
}

void agent_stop(agent_t *a)
{
    pthread_mutex_lock(&a->mu);
    a->stop = true;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

uint16_t agent_port(const agent_t *a)
{
    return agent_httpd_port(a->http);
}

static void agent_http_metrics(agent_t *a, buf_t *body)
{
    pthread_mutex_lock(&a->pub_mu);
    if (a->nscrapes == 0) {
        agent_expo_write(&a->pub, body);
        pthread_mutex_unlock(&a->pub_mu);
        return;
    }
    msink_t merged;
    msink_init(&merged);
    msink_append(&merged, &a->pub, NULL, 0);
    pthread_mutex_unlock(&a->pub_mu);
    for (size_t i = 0; i < a->nscrapes; i++) {
        agent_scrape_snapshot(a->scrapes[i], &merged);
    }
    agent_expo_write(&merged, body);
    msink_fini(&merged);
}

/* The agent's HTTP routes: /metrics, /-/healthy, /-/ready. */
static void agent_http(void *ctx, const char *path, buf_t *body, int *status, const char **content_type)
{
    agent_t *a = ctx;
    if (strcmp(path, "/metrics") == 0) {
        *content_type = "text/plain; version=0.0.4; charset=utf-8";
        agent_http_metrics(a, body);
    } else if (strcmp(path, "/-/healthy") == 0 || strcmp(path, "/-/ready") == 0) {
        buf_puts(body, "pharos-agent is Healthy.\n");
    } else {
        *status = 404;
        buf_puts(body, "404 page not found\n");
    }
}

static bool agent_disabled(const agent_config_t *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->disabled.n; i++) {
        if (strcmp(cfg->disabled.v[i], name) == 0) {
            return true;
        }
    }
    return false;
}

static int agent_init_collectors(agent_t *a, char *err, size_t errlen)
{
    coll_opts_t o = agent_config_coll_opts(a->cfg);
    a->coll = mem_calloc(coll_table_len + 1, sizeof(*a->coll));
    a->coll_state = mem_calloc(coll_table_len + 1, sizeof(*a->coll_state));
    a->coll_ok = mem_calloc(coll_table_len + 1, sizeof(*a->coll_ok));
    for (size_t i = 0; i < coll_table_len; i++) {
        const coll_def_t *c = coll_table[i];
        if (agent_disabled(a->cfg, c->name)) {
            continue;
        }
        void *st = NULL;
        char why[256] = "";
        if (c->init && c->init(&o, &st, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "collector %s: %s", c->name, why);
            return -1;
        }
        a->coll[a->ncoll] = c;
        a->coll_state[a->ncoll] = st;
        a->coll_ok[a->ncoll] = true;
        a->ncoll++;
    }
    return 0;
}

/* job, instance and collect.labels of the host series. */
static void agent_host_target(agent_t *a)
{
    const agent_config_t *cfg = a->cfg;
    if (gethostname(a->hostname, sizeof(a->hostname) - 1) != 0) {
        snprintf(a->hostname, sizeof(a->hostname), "localhost");
    }
    a->host_target = mem_calloc(2 + cfg->labels.n / 2, sizeof(label_t));
    const char *inst = cfg->instance && cfg->instance[0] ? cfg->instance : a->hostname;
    a->host_target[a->nhost_target++] = (label_t){ STR_LIT("instance"), str_cstr(inst) };
    a->host_target[a->nhost_target++] = (label_t){ STR_LIT("job"), str_cstr(cfg->job) };
    for (size_t i = 0; i + 1 < cfg->labels.n; i += 2) {
        a->host_target[a->nhost_target++] = (label_t){ str_cstr(cfg->labels.v[i]), str_cstr(cfg->labels.v[i + 1]) };
    }
}

/* One shipper for url with auth (NULL: none). */
static int agent_open_shipper(agent_t *a, const char *url, const agent_auth_t *auth, char *err, size_t errlen)
{
    const agent_config_t *cfg = a->cfg;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/spool/%016llx", cfg->storage_path, (unsigned long long)hash_bytes(url, strlen(url)));
    ship_opts_t o = {
        .url = url,
        .dir = dir,
        .shards = (uint32_t)cfg->rw_shards,
        .max_bytes = (uint64_t)cfg->spool_max_bytes,
        .sync = cfg->spool_sync,
        .max_samples_per_send = (uint32_t)cfg->rw_max_samples,
        .batch_deadline_ms = cfg->rw_deadline_ms,
        .min_backoff_ms = cfg->rw_min_backoff_ms,
        .max_backoff_ms = cfg->rw_max_backoff_ms,
        .timeout_ms = (long)cfg->rw_timeout_ms,
    };
    if (auth) {
        o.auth = *auth;
    }
    if (ship_create(&o, &a->ship[a->nship], err, errlen) != 0) {
        return -1;
    }
    a->nship++;
    return 0;
}

static int agent_open_shippers(agent_t *a, char *err, size_t errlen)
{
    const agent_config_t *cfg = a->cfg;
    a->ship = mem_calloc(cfg->rw_urls.n + cfg->rw_endpoints.n + 1, sizeof(*a->ship));
    for (size_t i = 0; i < cfg->rw_urls.n; i++) {
        if (agent_open_shipper(a, cfg->rw_urls.v[i], NULL, err, errlen) != 0) {
            return -1;
        }
    }
    const agent_endpoint_config_t *ep = cfg->rw_endpoints.v;
    for (size_t i = 0; i < cfg->rw_endpoints.n; i++) {
        agent_auth_t auth = { ep[i].bearer_token_file, ep[i].basic_user, ep[i].basic_password_file, ep[i].headers };
        if (agent_open_shipper(a, ep[i].url, &auth, err, errlen) != 0) {
            return -1;
        }
    }
    return 0;
}

static int agent_start_scrapes(agent_t *a, char *err, size_t errlen)
{
    const agent_config_t *cfg = a->cfg;
    const agent_target_config_t *t = cfg->targets.v;
    size_t total = 0;
    for (size_t i = 0; i < cfg->targets.n; i++) {
        total += t[i].urls.n;
    }
    a->scrapes = mem_calloc(total + 1, sizeof(*a->scrapes));
    for (size_t i = 0; i < cfg->targets.n; i++) {
        for (size_t j = 0; j < t[i].urls.n; j++) {
            if (agent_scrape_start(a, &t[i], t[i].urls.v[j], cfg, &a->scrapes[a->nscrapes], err, errlen) != 0) {
                return -1;
            }
            a->nscrapes++;
        }
    }
    return 0;
}

int agent_create(const agent_config_t *cfg, agent_t **out, char *err, size_t errlen)
{
    *out = NULL;
    agent_t *a = mem_calloc(1, sizeof(*a));
    a->cfg = cfg;
    a->paths = (coll_paths_t){ cfg->procfs, cfg->sysfs, cfg->rootfs, cfg->udev_data };
    msink_init(&a->host);
    msink_init(&a->pub);
    msink_init(&a->meta);
    msink_init(&a->stale);
    pthread_mutex_init(&a->pub_mu, NULL);
    pthread_mutex_init(&a->ship_mu, NULL);
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    a->series = mem_calloc(AGENT_MAX_SERIES_LABELS, sizeof(*a->series));
    struct sysinfo si;
    a->self.boot_time_s = sysinfo(&si) == 0 ? (double)(time(NULL) - si.uptime) : 0;
    agent_host_target(a);
    if (agent_init_collectors(a, err, errlen) != 0 || agent_open_shippers(a, err, errlen) != 0 ||
        agent_start_scrapes(a, err, errlen) != 0 || agent_logs_create(cfg, &a->logs, err, errlen) != 0) {
        agent_destroy(a);
        return -1;
    }
    if (agent_httpd_start(cfg->listen, agent_http, a, &a->http, err, errlen) != 0) {
        agent_destroy(a);
        return -1;
    }
    *out = a;
    return 0;
}

void agent_destroy(agent_t *a)
{
    if (!a) {
        return;
    }
    agent_httpd_stop(a->http);
    for (size_t i = 0; i < a->nscrapes; i++) {
        agent_scrape_stop(a->scrapes[i]);
    }
    agent_logs_destroy(a->logs, a->cfg->rw_drain_ms);
    for (size_t i = 0; i < a->nship; i++) {
        ship_destroy(a->ship[i], a->cfg->rw_drain_ms);
    }
    for (size_t i = 0; i < a->ncoll; i++) {
        if (a->coll[i]->fini) {
            a->coll[i]->fini(a->coll_state[i]);
        }
    }
    mem_free(a->scrapes);
    mem_free(a->ship);
    mem_free(a->coll);
    mem_free(a->coll_state);
    mem_free(a->coll_ok);
    mem_free(a->series);
    mem_free(a->host_target);
    msink_fini(&a->host);
    msink_fini(&a->pub);
    msink_fini(&a->meta);
    msink_fini(&a->stale);
    buf_fini(&a->scratch);
    buf_fini(&a->series_scratch);
    pthread_mutex_destroy(&a->pub_mu);
    pthread_mutex_destroy(&a->ship_mu);
    pthread_mutex_destroy(&a->mu);
    pthread_cond_destroy(&a->cv);
    mem_free(a);
}

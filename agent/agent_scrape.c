/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent_scrape: one scrape target (one URL of a scrape.targets entry) on
 * a thread of its own, as Prometheus scrapes it.
 *
 * At each tick of the target's interval grid the URL is fetched (within
 * the timeout), asking for OpenMetrics first as Prometheus does, and the
 * body parsed by expo_parse as its Content-Type says: OpenMetrics for
 * application/openmetrics-text, else the Prometheus text format. A scrape that
 * fails (connection, non-2xx, parse error) yields no samples; every
 * scrape yields up (1 or 0), scrape_duration_seconds and
 * scrape_samples_scraped with the target's labels. Samples are stamped
 * with the tick, or with the exposition's own timestamp when
 * honor-timestamps is set (the default, as in Prometheus). A series of
 * the last successful scrape that this scrape lacks (all of them when it
 * failed) gets a stale marker (Prometheus' StaleNaN; not one that carried
 * its own timestamp), so queries stop showing it at once instead of 5
 * minutes later.
 *
 * A series exposed twice in one scrape keeps its first sample only.
 *
 * Target labels: job, instance (host:port of the URL), then the static
 * labels; clashes with scraped labels follow honor-labels.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "agent/agent.h"
#include "agent/agent_int.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/mem.h"

#define SCRAPE_MAX_BODY (64u << 20)

struct agent_scrape {
    agent_t *agent;
    const agent_target_config_t *t;
    char *url;
    char *instance;
    int64_t interval_ms, timeout_ms;
    label_t *target;
    size_t ntarget;
    msink_t sink, pub, meta, stale;
    agent_auth_t auth;
    agent_auth_buf_t authbuf;
    pthread_mutex_t pub_mu; /* guards pub (served by /metrics) */
    buf_t body;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu; /* guards stop */
    pthread_cond_t cv;
    bool stop;
    bool last_ok;
};

/* host:port of an http(s) URL into a new string. */
static char *scrape_instance(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *at = NULL;
    const char *end = p;
    while (*end && *end != '/' && *end != '?' && *end != '#') {
        if (*end == '@') {
            at = end;
        }
        end++;
    }
    if (at) {
        p = at + 1;
    }
    return mem_strndup(p, (size_t)(end - p));
}

/* Fetch and parse into s->sink. 0, or -1 with a reason. */
static int scrape_once(agent_scrape_t *s, agent_httpc_t *hc, char *err, size_t errlen)
{
    /* Prometheus 2.42's Accept: OpenMetrics preferred. */
    static const char *const base[] = { "Accept: application/openmetrics-text;version=1.0.0,"
                                        "application/openmetrics-text;version=0.0.1;q=0.75,"
                                        "text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
                                        "User-Agent: pharos-agent/" AGENT_VERSION, NULL };
    buf_reset(&s->body);
    msink_reset(&s->sink); /* a failed scrape leaves it empty */
    httpc_result_t res;
    const char **headers = NULL;
    if (agent_auth_headers(&s->auth, base, &s->authbuf, &headers, err, errlen) != 0) {
        return -1;
    }
    agent_httpc_get(hc, s->url, headers, &s->body, SCRAPE_MAX_BODY, &res);
    if (res.status != HTTPC_OK) {
        if (res.http_code) {
            snprintf(err, errlen, "HTTP %ld: %s", res.http_code, res.error);
        } else {
            snprintf(err, errlen, "%s", res.error);
        }
        return -1;
    }
    const char *p = s->body.len ? (const char *)s->body.data : "";
    size_t len = s->body.len;
    bool om = strncasecmp(res.content_type, "application/openmetrics-text", 28) == 0;
    expo_error_t pe;
    if (expo_parse(p, len, om, &s->sink, &pe) != 0) {
        msink_reset(&s->sink);
        snprintf(err, errlen, "%s parse error at line %zu column %zu: %s", om ? "OpenMetrics" : "text", pe.line, pe.col,
                 pe.msg);
        return -1;
    }
    return 0;
}

static void scrape_tick(agent_scrape_t *s, agent_httpc_t *hc, int64_t tick)
{
    char err[512] = "";
    double t0 = clock_mono_s();
    int rc = scrape_once(s, hc, err, sizeof(err));
    double d = clock_mono_s() - t0;
    /* Stale markers for the series of the last success that this scrape
     * lacks (all of them when it failed: the sink is then empty). */
    msink_stale(&s->pub, &s->sink, &s->body, &s->stale);
    agent_emit(s->agent, &s->stale, s->target, s->ntarget, s->t->honor_labels, false, tick);
    if (rc == 0) {
        agent_emit(s->agent, &s->sink, s->target, s->ntarget, s->t->honor_labels, s->t->honor_timestamps, tick);
        if (!s->last_ok) {
            log_info("scrape %s: up", s->url);
        }
        pthread_mutex_lock(&s->pub_mu);
        msink_t tmp = s->pub;
        s->pub = s->sink;
        s->sink = tmp;
        pthread_mutex_unlock(&s->pub_mu);
    } else {
        if (s->last_ok) {
            log_warn("scrape %s failed: %s", s->url, err);
        }
        pthread_mutex_lock(&s->pub_mu);
        msink_reset(&s->pub);
        pthread_mutex_unlock(&s->pub_mu);
    }
    s->last_ok = rc == 0;
    msink_reset(&s->meta);
    msink_addv(&s->meta, "up", NULL, METRIC_GAUGE, rc == 0 ? 1 : 0, 0);
    msink_addv(&s->meta, "scrape_duration_seconds", NULL, METRIC_GAUGE, d, 0);
    msink_addv(&s->meta, "scrape_samples_scraped", NULL, METRIC_GAUGE, rc == 0 ? (double)s->pub.nsamples : 0, 0);
    agent_emit(s->agent, &s->meta, s->target, s->ntarget, false, false, tick);
}

static void *scrape_main(void *arg)
{
    agent_scrape_t *s = arg;
    agent_httpc_t *hc = agent_httpc_create((long)s->timeout_ms);
    s->last_ok = true;
    int64_t iv = s->interval_ms;
    int64_t next = agent_grid_next(iv);
    while (hc && !agent_grid_wait(&s->mu, &s->cv, &s->stop, next)) {
        scrape_tick(s, hc, next);
        next = agent_grid_next(iv);
    }
    agent_httpc_destroy(hc);
    return NULL;
}

void agent_scrape_stop(agent_scrape_t *s)
{
    if (!s) {
        return;
    }
    if (s->started) {
        pthread_mutex_lock(&s->mu);
        s->stop = true;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
    }
    msink_fini(&s->sink);
    msink_fini(&s->pub);
    msink_fini(&s->meta);
    msink_fini(&s->stale);
    buf_fini(&s->body);
    agent_auth_buf_fini(&s->authbuf);
    mem_free(s->target);
    mem_free(s->url);
    mem_free(s->instance);
    pthread_mutex_destroy(&s->pub_mu);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    mem_free(s);
}

int agent_scrape_start(agent_t *a, const agent_target_config_t *t, const char *url, const agent_config_t *cfg,
                       agent_scrape_t **out, char *err, size_t errlen)
{
    agent_scrape_t *s = mem_calloc(1, sizeof(*s));
    s->agent = a;
    s->t = t;
    s->url = mem_strdup(url);
    s->instance = scrape_instance(url);
    s->interval_ms = t->interval_ms > 0 ? t->interval_ms : cfg->interval_ms;
    s->timeout_ms = t->timeout_ms > 0 && t->timeout_ms < s->interval_ms ? t->timeout_ms : s->interval_ms;
    s->auth = (agent_auth_t){ t->bearer_token_file, t->basic_user, t->basic_password_file, t->headers };
    msink_init(&s->sink);
    msink_init(&s->pub);
    msink_init(&s->meta);
    msink_init(&s->stale);
    pthread_mutex_init(&s->pub_mu, NULL);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->target = mem_calloc(2 + t->labels.n / 2 + cfg->labels.n / 2, sizeof(label_t));
    s->target[s->ntarget++] = (label_t){ STR_LIT("instance"), str_cstr(s->instance) };
    s->target[s->ntarget++] = (label_t){ STR_LIT("job"), str_cstr(t->job) };
    for (size_t i = 0; i + 1 < t->labels.n; i += 2) {
        s->target[s->ntarget++] = (label_t){ str_cstr(t->labels.v[i]), str_cstr(t->labels.v[i + 1]) };
    }
    for (size_t i = 0; i + 1 < cfg->labels.n; i += 2) {
        s->target[s->ntarget++] = (label_t){ str_cstr(cfg->labels.v[i]), str_cstr(cfg->labels.v[i + 1]) };
    }
    if (pthread_create(&s->thread, NULL, scrape_main, s) != 0) {
        snprintf(err, errlen, "scrape %s: cannot start thread", url);
        agent_scrape_stop(s);
        *out = NULL;
        return -1;
    }
    s->started = true;
    *out = s;
    return 0;
}

void agent_scrape_snapshot(agent_scrape_t *s, msink_t *into)
{
    pthread_mutex_lock(&s->pub_mu);
    msink_append(into, &s->pub, s->target, s->ntarget);
    pthread_mutex_unlock(&s->pub_mu);
}

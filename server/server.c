/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server: pharosd's HTTP surface. The route table below is the whole API
 * of this binary; each handler parses its arguments, calls one module
 * function and maps the result to a status. The Prometheus query API is
 * one module (query/api_prom.c): its paths all go to api_prom_handle; the
 * Loki query API likewise goes to api_loki_handle, and Loki push to
 * server_logs.c. Metrics and logs live in two stores under storage.path
 * (the TSDB at its top, the log store in logs/). Ingest is bounded by
 * ingest.max-inflight concurrent requests: past it the answer is 503 with
 * Retry-After, so remote-write senders back off and retry instead of
 * piling memory up here. Rules, alerts and reloads go to
 * server_alerts.c.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/httpd.h"
#include "common/log.h"
#include "common/mem.h"
#include "server/server.h"
#include "server/server_int.h"

static void handle_write(void *ctx, http_req_t *req, http_resp_t *resp)
{
    server_t *s = ctx;
    int inflight = atomic_fetch_add(&s->inflight, 1) + 1;
    if (inflight > s->cfg.max_inflight) {
        atomic_fetch_sub(&s->inflight, 1);
        atomic_fetch_add(&s->m.write_overload, 1);
        http_resp_header(resp, "Retry-After", "1");
        http_resp_text(resp, 503, "too many concurrent ingest requests (%" PRId64 "); retry later",
                       s->cfg.max_inflight);
        return;
    }
    size_t len;
    const uint8_t *body = http_req_body(req, &len);
    server_ingest_limits_t lim = {
        .labels = { (size_t)s->cfg.label_name_len, (size_t)s->cfg.label_value_len, (size_t)s->cfg.labels_per_series,
                    false },
        .max_decoded = (size_t)s->cfg.max_decoded_bytes,
    };
    server_ingest_stats_t st;
    char msg[1024];
    pthread_mutex_lock(&s->scratch_mu);
    server_ingest_scratch_t *scr = s->nscratch ? s->scratch[--s->nscratch] : NULL;
    pthread_mutex_unlock(&s->scratch_mu);
    if (!scr) {
        scr = mem_calloc(1, sizeof(*scr));
    }
    int status = server_ingest_remote_write(s->db, &lim, body, len, scr, &st, msg, sizeof(msg));
    pthread_mutex_lock(&s->scratch_mu);
    if (s->nscratch < SERVER_SCRATCH_MAX) {
        s->scratch[s->nscratch++] = scr;
        scr = NULL;
    }
    pthread_mutex_unlock(&s->scratch_mu);
    if (scr) {
        server_ingest_scratch_fini(scr);
        mem_free(scr);
    }
    atomic_fetch_sub(&s->inflight, 1);
    server_metrics_count_write(s, status, &st);
    if (status == 204) {
        resp->status = 204;
        return;
    }
    if (status == 503) {
        http_resp_header(resp, "Retry-After", "5");
    }
    if (status == 400) {
        log_debug("remote write rejected: %s", msg);
    }
    http_resp_text(resp, status, "%s", msg);
}

static bool parse_time_arg(http_req_t *req, const char *name, int64_t def, int64_t *out, http_resp_t *resp)
{
    const char *v = http_req_arg(req, name);
    if (!v || !*v) {
        *out = def;
        return true;
    }
    if (!time_parse_ms(v, strlen(v), out)) {
        http_resp_text(resp, 400, "cannot parse \"%s\" to a valid timestamp (argument %s)", v, name);
        return false;
    }
    return true;
}

static void handle_export(void *ctx, http_req_t *req, http_resp_t *resp)
{
    server_t *s = ctx;
    const char **match;
    size_t n = http_req_args(req, "match[]", &match);
    int64_t mint, maxt;
    if (!parse_time_arg(req, "start", INT64_MIN, &mint, resp) || !parse_time_arg(req, "end", INT64_MAX, &maxt, resp)) {
        return;
    }
    char err[512];
    int st = server_export(s->db, match, n, mint, maxt, &resp->body, err, sizeof(err));
    if (st != 0) {
        buf_reset(&resp->body);
        http_resp_text(resp, st, "%s", err);
        return;
    }
    resp->content_type = "application/x-ndjson";
}

static void handle_flush(void *ctx, http_req_t *req, http_resp_t *resp)
{
    server_t *s = ctx;
    (void)req;
    double t0 = clock_mono_s();
    if (tsdb_flush(s->db) != 0) {
        http_resp_text(resp, 500, "flush failed: see the server log");
        return;
    }
    log_info("flush done in %.3fs", clock_mono_s() - t0);
    resp->status = 204;
}

/* Loki's POST /flush: cut every log stream's head into blocks, compact,
 * apply retention and drop the log WAL the blocks cover. */
static void handle_logs_flush(void *ctx, http_req_t *req, http_resp_t *resp)
{
    server_t *s = ctx;
    (void)req;
    double t0 = clock_mono_s();
    if (logs_store_flush(s->logs) != 0) {
        http_resp_text(resp, 500, "log flush failed: see the server log");
        return;
    }
    log_info("log flush done in %.3fs", clock_mono_s() - t0);
    resp->status = 204;
}

static void handle_prom(void *ctx, http_req_t *req, http_resp_t *resp)
{
    server_t *s = ctx;
    api_prom_handle(s->prom, req, resp);
}

static void handle_loki(void *ctx, http_req_t *req, http_resp_t *resp)
{
    server_t *s = ctx;
    api_loki_handle(s->loki, req, resp);
}

/* Loki's readiness probe answers "ready". */
static void handle_loki_ready(void *ctx, http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    (void)req;
    http_resp_text(resp, 200, "ready");
}

static void handle_loki_push(void *ctx, http_req_t *req, http_resp_t *resp)
{
    server_logs_push(ctx, req, resp);
}

static void handle_metrics(void *ctx, http_req_t *req, http_resp_t *resp)
{
    (void)req;
    server_metrics_write(ctx, &resp->body);
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

static void handle_healthy(void *ctx, http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    (void)req;
    http_resp_text(resp, 200, "Pharos is Healthy.");
}

static void handle_ready(void *ctx, http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    (void)req;
    http_resp_text(resp, 200, "Pharos is Ready.");
}

int server_start(const server_config_t *cfg, server_t **out, char *err, size_t errlen)
{
    *out = NULL;
    server_t *s = mem_calloc(1, sizeof(*s));
    s->cfg = *cfg;
    pthread_mutex_init(&s->scratch_mu, NULL);
    pthread_mutex_init(&s->reload_mu, NULL);
    s->started = clock_mono_s();
    s->clock = clock_real();
    tsdb_opts_t o = {
        .dir = cfg->storage_path,
        .retention_ms = cfg->retention_ms,
        .block_range_ms = cfg->block_range_ms,
        .page_cache_bytes = (size_t)cfg->page_cache_bytes,
        .ooo_window_ms = cfg->ooo_window_ms,
        .wal_sync = cfg->wal_sync == 1,
        .wal_segment_bytes = (size_t)cfg->wal_segment_bytes,
        .background = true,
    };
    int rc = tsdb_open(&o, &s->db, err, errlen);
    if (rc != 0) {
        server_stop(s);
        return -1;
    }
    char logs_dir[4096];
    snprintf(logs_dir, sizeof(logs_dir), "%s/logs", cfg->storage_path);
    logs_store_opts_t lo = {
        .dir = logs_dir,
        .retention_ns = cfg->logs_retention_ms * 1000000LL,
        .block_bytes = (size_t)cfg->logs_block_bytes,
        .wal_sync = cfg->wal_sync == 1,
        .wal_segment_bytes = (size_t)cfg->wal_segment_bytes,
        .background = true,
    };
    if (logs_store_open(&lo, &s->logs, err, errlen) != 0) {
        server_stop(s);
        return -1;
    }
    api_loki_opts_t lko = {
        .store = s->logs,
        .limits = { .max_entries = (size_t)cfg->logs_max_entries,
                    .max_series = (size_t)cfg->logs_max_series,
                    .timeout_s = (double)cfg->query_timeout_ms / 1000.0 },
        .max_concurrency = (int)cfg->query_max_concurrency,
    };
    s->loki = api_loki_create(&lko);
    server_config_text_t text;
    server_config_text(cfg, &text);
    char retention[40];
    str_format_duration_ms(cfg->retention_ms, retention);
    api_prom_opts_t po = {
        .db = s->db,
        .engine = { .lookback_ms = cfg->query_lookback_ms,
                    .timeout_s = (double)cfg->query_timeout_ms / 1000.0,
                    .max_samples = (uint64_t)cfg->query_max_samples },
        .max_concurrency = (int)cfg->query_max_concurrency,
        .config_yaml = text.yaml.data ? (const char *)text.yaml.data : "",
        .flags = (const char *const *)text.flags,
        .nflags = text.nflags,
        .storage_retention = retention,
    };
    s->prom = api_prom_create(&po);
    server_config_text_fini(&text);
    if (server_alerts_start(s, err, errlen) != 0) {
        server_stop(s);
        return -1;
    }
    const httpd_route_t routes[] = {
        { "POST", "/api/v1/write", handle_write, (size_t)cfg->max_body_bytes },
        { "GET", "/api/v1/export", handle_export, 0 },
        { NULL, "/api/v1/admin/tsdb/flush", handle_flush, 0 },
        { "GET", "/metrics", handle_metrics, 0 },
        /* The Prometheus HTTP API (query/api_prom.c), with Prometheus' methods. */
        { NULL, "/api/v1/query", handle_prom, 0 },
        { NULL, "/api/v1/query_range", handle_prom, 0 },
        { NULL, "/api/v1/query_exemplars", handle_prom, 0 },
        { NULL, "/api/v1/series", handle_prom, 0 },
        { NULL, "/api/v1/labels", handle_prom, 0 },
        { "GET", "/api/v1/label/*", handle_prom, 0 },
        { "GET", "/api/v1/metadata", handle_prom, 0 },
        { NULL, "/api/v1/format_query", handle_prom, 0 },
        { NULL, "/api/v1/parse_query", handle_prom, 0 },
        { "GET", "/api/v1/status/buildinfo", handle_prom, 0 },
        { "GET", "/api/v1/status/runtimeinfo", handle_prom, 0 },
        { "GET", "/api/v1/status/flags", handle_prom, 0 },
        { "GET", "/api/v1/status/config", handle_prom, 0 },
        /* Rules and alerts (server_alerts.c). */
        { "GET", "/api/v1/rules", server_handle_rules, 0 },
        { "GET", "/api/v1/alerts", server_handle_alerts, 0 },
        { "POST", "/-/reload", server_handle_reload, 0 },
        /* Alertmanager's API v2: alerts, silences, status, receivers. */
        { NULL, "/api/v2/*", server_handle_am, 0 },
        { "DELETE", "/api/v2/silence/*", server_handle_am, 0 },
        /* Loki push and the Loki HTTP API (query/api_loki.c). */
        { "POST", "/loki/api/v1/push", handle_loki_push, (size_t)cfg->max_body_bytes },
        { NULL, "/loki/api/v1/query", handle_loki, 0 },
        { NULL, "/loki/api/v1/query_range", handle_loki, 0 },
        { NULL, "/loki/api/v1/labels", handle_loki, 0 },
        { NULL, "/loki/api/v1/label/*", handle_loki, 0 },
        { NULL, "/loki/api/v1/series", handle_loki, 0 },
        { NULL, "/loki/api/v1/index/stats", handle_loki, 0 },
        { "GET", "/loki/api/v1/status/buildinfo", handle_loki, 0 },
        { "GET", "/loki/api/v1/tail", handle_loki, 0 },
        { "POST", "/flush", handle_logs_flush, 0 },
        { "GET", "/ready", handle_loki_ready, 0 },
        { "GET", "/-/healthy", handle_healthy, 0 },
        { "GET", "/-/ready", handle_ready, 0 },
    };
    s->routes = mem_alloc(sizeof(routes));
    memcpy(s->routes, routes, sizeof(routes));
    httpd_opts_t ho = {
        .listen = cfg->listen,
        .threads = (unsigned)cfg->threads,
        .default_max_body = 1 << 20,
        .routes = s->routes,
        .nroutes = sizeof(routes) / sizeof(routes[0]),
        .ctx = s,
    };
    if (httpd_start(&ho, &s->http, err, errlen) != 0) {
        server_stop(s);
        return -1;
    }
    *out = s;
    return 0;
}

void server_stop(server_t *s)
{
    if (!s) {
        return;
    }
    httpd_stop(s->http);
    server_alerts_stop(s);
    api_prom_destroy(s->prom);
    api_loki_destroy(s->loki);
    logs_store_close(s->logs);
    tsdb_close(s->db);
    for (size_t i = 0; i < s->nscratch; i++) {
        server_ingest_scratch_fini(s->scratch[i]);
        mem_free(s->scratch[i]);
    }
    pthread_mutex_destroy(&s->scratch_mu);
    pthread_mutex_destroy(&s->reload_mu);
    mem_free(s->routes);
    mem_free(s);
}

uint16_t server_port(const server_t *s)
{
    return httpd_port(s->http);
}

tsdb_t *server_tsdb(server_t *s)
{
    return s->db;
}

struct logs_store *server_logs(server_t *s)
{
    return s->logs;
}

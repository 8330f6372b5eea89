/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server_int.h: the server struct and the metrics it keeps, shared by
 * server.c (handlers) and server_metrics.c (/metrics).
 */
#ifndef PHAROS_SERVER_INT_H
#define PHAROS_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "alerts/alerts.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/httpd.h"
#include "logs/logs.h"
#include "query/logql.h"
#include "query/promql.h"
#include "server/server.h"

typedef struct server_metrics {
    _Atomic uint64_t write_requests[6]; /* by status: 204, 400, 413, 503, 429, other */
    _Atomic uint64_t write_overload;
    _Atomic uint64_t series_rejected[8]; /* labels_status_t; [7] native histograms */
    _Atomic uint64_t samples_rejected_with_series;
    _Atomic uint64_t metadata;
    _Atomic uint64_t exemplars_ignored;
    _Atomic uint64_t push_requests[6]; /* Loki push by status: 204, 400, 413, 503, 429, other */
    _Atomic uint64_t push_entries_rejected;
} server_metrics_t;

#define SERVER_SCRATCH_MAX 64

struct server {
    server_config_t cfg;
    tsdb_t *db;
    api_prom_t *prom; /* the Prometheus query API */
    logs_store_t *logs;
    api_loki_t *loki;            /* the Loki query API */
    alerts_mgr_t *rules;         /* rule evaluation (server_alerts.c) */
    alerts_notifier_t *notifier; /* routing, silences, receivers (server_alerts.c) */
    pthread_mutex_t reload_mu;   /* one reload at a time */
    httpd_t *http;
    httpd_route_t *routes;
    pclock_t clock;
    _Atomic int inflight;
    pthread_mutex_t scratch_mu; /* idle ingest scratch, reused LIFO */
    server_ingest_scratch_t *scratch[SERVER_SCRATCH_MAX];
    size_t nscratch;
    double started;
    server_metrics_t m;
};

void server_metrics_count_write(server_t *s, int status, const server_ingest_stats_t *st);
/* The slot of an ingest answer's status in the *_requests arrays. */
int server_metrics_status_slot(int status);

/* ---- server_alerts.c: rules, alerts, reload ---- */

/* Create the rule manager and load the configured rule files: 0, or -1
 * with the reason (every bad file and line) in err. */
int server_alerts_start(server_t *s, char *err, size_t errlen);
/* Stop the evaluation and free; safe on a server that never started it. */
void server_alerts_stop(server_t *s);
void server_handle_rules(void *ctx, http_req_t *req, http_resp_t *resp);
void server_handle_alerts(void *ctx, http_req_t *req, http_resp_t *resp);
void server_handle_reload(void *ctx, http_req_t *req, http_resp_t *resp);
void server_handle_am(void *ctx, http_req_t *req, http_resp_t *resp);

/* ---- server_logs.c: Loki push ---- */

/* POST /loki/api/v1/push: decode (protobuf+snappy or JSON, gzip/deflate),
 * append the valid streams, answer 204, or 400 naming the first rejected
 * stream or entry (the valid ones are stored), 413 past the decoded-body
 * limit, 503 with Retry-After when the log WAL cannot be written. */
void server_logs_push(server_t *s, http_req_t *req, http_resp_t *resp);

/* ---- server_rw.c: zero-copy WriteRequest decoder ---- */

typedef struct server_rw_series {
    label_t *labels; /* slices into the request buffer, wire order */
    size_t nlabels;
    tsdb_sample_t *samples;
    size_t nsamples;
    size_t nexemplars;
    size_t nhistograms;
    const uint8_t *labels_raw; /* the leading label fields' bytes */
    size_t labels_raw_len;
    bool labels_contiguous; /* no label field after a non-label field */
} server_rw_series_t;

typedef struct server_rw_meta {
    int type;
    str_t family, help, unit;
} server_rw_meta_t;

typedef struct server_rw_request {
    server_rw_series_t *series;
    size_t nseries;
    server_rw_meta_t *meta;
    size_t nmeta;
    label_t *labels; /* backing arrays, in the arena */
    tsdb_sample_t *samples;
} server_rw_request_t;

/* Bytes a decoded series costs in total (its struct here and what
 * ingest adds per series), and the largest allowed ratio of decoded
 * structures to request bytes. */
#define SERVER_RW_SERIES_COST (sizeof(server_rw_series_t) + 72)
#define SERVER_RW_MAX_EXPANSION 8

/* Decode a WriteRequest from p[0..len) (which must outlive *out); arrays
 * come from arena a. 0, or -1 with "protobuf: … at byte N" in err. Work:
 * two linear passes over the bytes. */
int server_rw_decode(const uint8_t *p, size_t len, arena_t *a, server_rw_request_t *out, char *err, size_t errlen);
/* Append the Prometheus text exposition of pharosd's own metrics. */
void server_metrics_write(server_t *s, buf_t *out);

#endif

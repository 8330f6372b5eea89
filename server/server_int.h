/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server_int.h: the server struct and the metrics it keeps, shared by
 * server.c (handlers) and server_metrics.c (/metrics).
 */
#ifndef PHAROS_SERVER_INT_H
#define PHAROS_SERVER_INT_H

#include <stdatomic.h>

#include "common/buf.h"
#include "common/httpd.h"
#include "server/server.h"

typedef struct server_metrics {
    _Atomic uint64_t write_requests[6];   /* by status: 204, 400, 413, 503, 429, other */
    _Atomic uint64_t write_overload;
    _Atomic uint64_t series_rejected[8];  /* labels_status_t; [7] native histograms */
    _Atomic uint64_t samples_rejected_with_series;
    _Atomic uint64_t metadata;
    _Atomic uint64_t exemplars_ignored;
} server_metrics_t;

struct server {
    server_config_t cfg;
    tsdb_t *db;
    httpd_t *http;
    httpd_route_t *routes;
    _Atomic int inflight;
    double started;
    server_metrics_t m;
};

void server_metrics_count_write(server_t *s, int status, const server_ingest_stats_t *st);
/* Append the Prometheus text exposition of pharosd's own metrics. */
void server_metrics_write(server_t *s, buf_t *out);

#endif

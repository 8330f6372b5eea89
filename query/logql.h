/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logql: LogQL evaluation, the query module's public interface for logs
 * (query/promql.h is the one for metrics; the parser itself is private,
 * in logql_int.h).
 *
 * An evaluation parses a query, reads log entries through a
 * logql_source_t (the log store's select, or a test's), and leaves a
 * result in the caller's arena with Loki's semantics:
 *  - a log query gives STREAMS: entries with start <= ts < end, after the
 *    pipeline, grouped by their final label set (stream labels, then
 *    structured metadata, then labels the pipeline extracted), at most
 *    limit entries over all streams, the newest (backward) or oldest
 *    (forward) ones;
 *  - a metric query gives a MATRIX (range query: steps start, start+step,
 *    ..., end) or a VECTOR (instant query at end), or a SCALAR.
 * Timestamps are ns throughout. The evaluator holds no state between
 * calls; it is thread-safe as long as each call has its own arena.
 */
#ifndef PHAROS_QUERY_LOGQL_H
#define PHAROS_QUERY_LOGQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/clock.h"
#include "common/httpd.h"
#include "common/labels.h"
#include "logs/logs.h"

/* Where entries come from: logs_store_select's contract, with ctx. */
typedef struct logql_source {
    int (*select)(void *ctx, const logs_select_t *q, logs_select_fn fn, void *fn_ctx);
    void *ctx;
} logql_source_t;

/* A source reading s (borrowed for the source's life). */
logql_source_t logql_source_store(logs_store_t *s);

typedef struct logql_query {
    const char *q; /* the LogQL text */
    size_t len;
    int64_t start_ns, end_ns; /* instant: start_ns == end_ns (the evaluation time) */
    int64_t step_ns;          /* range metric queries; 0 for instant */
    int64_t interval_ns;      /* log range queries: at most one entry per interval (0: all) */
    size_t limit;             /* log queries: entries over all streams (0: 100) */
    bool backward;            /* direction=backward (Loki's default) */
    bool instant;             /* /query rather than /query_range */
} logql_query_t;

typedef struct logql_limits {
    size_t max_entries;        /* largest limit accepted (Loki's max_entries_limit_per_query); 0: 5000 */
    size_t max_series;         /* series a metric query may return (max_query_series); 0: 500 */
    size_t max_points;         /* steps of a range query; 0: 11000 */
    uint64_t max_entries_read; /* entries a query may read; 0: unlimited */
    double timeout_s;          /* wall time; 0: none */
} logql_limits_t;

typedef enum logql_result_type {
    LOGQL_STREAMS = 0,
    LOGQL_MATRIX,
    LOGQL_VECTOR,
    LOGQL_SCALAR,
} logql_result_type_t;

typedef struct logql_entry {
    int64_t ts_ns;
    str_t line;          /* after line_format */
    const label_t *meta; /* structured metadata of the entry */
    size_t nmeta;
    const label_t *parsed; /* labels the pipeline added or changed (json, logfmt, label_format, ...) */
    size_t nparsed;
} logql_entry_t;

typedef struct logql_stream {
    label_t *labels; /* the final label set, sorted by name */
    size_t nlabels;
    const label_t *stream_labels; /* the labels of the stored stream alone (categorized responses) */
    size_t nstream_labels;
    logql_entry_t *entries; /* in the query's direction */
    size_t n;
} logql_stream_t;

typedef struct logql_series {
    label_t *labels; /* sorted by name */
    size_t nlabels;
    int64_t *ts_ns; /* time order; one point for a VECTOR */
    double *vs;
    size_t n;
} logql_series_t;

typedef struct logql_stats {
    uint64_t entries_read, bytes_read; /* before the pipeline */
    uint64_t entries_returned;
    double exec_seconds;
} logql_stats_t;

typedef struct logql_result {
    logql_result_type_t type;
    logql_stream_t *streams; /* STREAMS: sorted as Loki sorts them (by labels) */
    size_t nstreams;
    logql_series_t *series; /* MATRIX, VECTOR: sorted by labels */
    size_t nseries;
    int64_t scalar_ts_ns; /* SCALAR */
    double scalar;
    logql_stats_t stats;
    char **warnings;
    size_t nwarnings;
} logql_result_t;

typedef enum logql_errtype {
    LOGQL_ERR_NONE = 0,
    LOGQL_ERR_PARSE,    /* 400: syntax or semantic error in the query ("parse error at line 1, col 5: ...") */
    LOGQL_ERR_BAD_DATA, /* 400: the query cannot be run as asked (limit too large, step too small, ...) */
    LOGQL_ERR_LIMIT,    /* 400: a limit was reached while running (series, entries read) */
    LOGQL_ERR_TIMEOUT,  /* 504 */
    LOGQL_ERR_INTERNAL, /* 500: the source failed */
} logql_errtype_t;

typedef struct logql_eval_error {
    logql_errtype_t type;
    char msg[512]; /* Loki's text */
} logql_eval_error_t;

/* Parse and evaluate q. Returns 0 and [out] *res (allocated from a), or
 * -1 with *err filled. Work: the entries of the selected streams in the
 * range (plus the largest range of the query before start), bounded by
 * lim. */
int logql_eval(const logql_source_t *src, const logql_limits_t *lim, const logql_query_t *q, arena_t *a,
               logql_result_t *res, logql_eval_error_t *err);

/* Parse q only: 0, or -1 with Loki's parse error text in msg. [out]
 * *is_metric says whether q is a metric (sample) query. For the API's
 * early checks and pharosctl. */
int logql_check(const char *q, size_t len, bool *is_metric, char *msg, size_t msglen);

/* The matchers of a query's stream selector, as /series' match[],
 * /labels' and /index/stats' query parameters use them: q is a selector
 * ("{job="x"}") or any query, whose first selector is taken. Returns 0
 * and [out] *ms (an array in a of *nms matchers initialised with
 * matcher_init: the caller calls matcher_fini on each), or -1 with Loki's
 * parse error text in msg. */
int logql_parse_selector(const char *q, size_t len, arena_t *a, matcher_t **ms, size_t *nms, char *msg, size_t msglen);

/* ---- the Loki HTTP API (api_loki*.c) ----
 *
 * Loki 3's /loki/api/v1 query, label, series and status endpoints over a
 * log store, answering what Loki answers (JSON envelope and encodings,
 * parameter defaults and checks, plain-text errors with Loki's status
 * codes), so Grafana's Loki data source works unmodified. The server's
 * route table sends those paths to api_loki_handle, which dispatches on
 * the path. Push is not here: it writes, and lives with ingest. */

typedef struct api_loki api_loki_t;

typedef struct api_loki_opts {
    logs_store_t *store; /* borrowed for the API's life */
    logql_limits_t limits;
    int max_concurrency; /* queries evaluated at once (0: 8); more wait within their timeout */
    pclock_t clock;      /* zeroed: the real clock */
    const char *version; /* buildinfo (copied; NULL: the build's) */
} api_loki_opts_t;

/* A new API over o->store. Aborts on OOM. */
api_loki_t *api_loki_create(const api_loki_opts_t *o);
/* Free; NULL ok. No request may be running. */
void api_loki_destroy(api_loki_t *api);
/* Answer one request for a path under /loki/api/v1/ (404 for paths this
 * module does not serve). Per-request memory from the request's arena. */
void api_loki_handle(api_loki_t *api, http_req_t *req, http_resp_t *resp);

/* Loki's parseTimestamp: RFC 3339 (nano), a float ("1700000000.5": s, or
 * ns when the integer part is > 1e10), or an integer (<= 1e10: s, else
 * ns). Empty: def. 0 and [out] *ns, or -1 with Go's error text in err. */
int api_loki_param_time(const char *s, size_t len, int64_t def, int64_t *ns, buf_t *err);
/* Loki's parseSecondsOrDuration (step, interval): float seconds or a
 * Prometheus duration ("1m", "250ms"), in ns. 0, or -1 with the error. */
int api_loki_param_duration(const char *s, size_t len, int64_t *ns, buf_t *err);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_loki_int: private to query/api_loki*.c: the API's state and the
 * helpers its files share (a third private header of the query module,
 * like api_prom_int.h: the handlers need none of the engine's internals).
 *
 * Answers, as Loki 3 writes them:
 *   query, query_range  {"status":"success","data":{"resultType":"streams"|"matrix"|"vector"|"scalar",
 *                        "result":[…],"stats":{…}[,"encodingFlags":["categorize-labels"]]}}
 *   labels, values      {"status":"success","data":["a","b"]}
 *   series              {"status":"success","data":[{"a":"b"},…]}
 *   index/stats         {"streams":N,"chunks":N,"entries":N,"bytes":N}   (no envelope)
 *   buildinfo           {"version":…,"revision":…,"branch":…,"buildUser":…,"buildDate":…,"goVersion":…}
 *   errors              plain text (text/plain; charset=utf-8): 400 for bad parameters, parse errors
 *                       and limits, 504 for timeouts, 500 otherwise
 */
#ifndef PHAROS_QUERY_API_LOKI_INT_H
#define PHAROS_QUERY_API_LOKI_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/httpd.h"
#include "common/qslot.h"
#include "query/logql.h"

struct api_loki {
    logs_store_t *store;
    logql_source_t src;
    logql_limits_t limits;
    int max_concurrency;
    pclock_t clock;
    char *version;
    qslot_t slots; /* queries evaluated at once */
};

/* buildinfo: the Loki API version pharosd answers as (Grafana reads it to
 * pick features), and pharos' own version as the revision. */
#define API_LOKI_COMPAT_VERSION "3.0.0"
#define API_LOKI_REVISION "pharos-0.1.0"

/* Loki's defaults (pkg/loghttp/params.go). */
#define API_LOKI_DEFAULT_LIMIT 100
#define API_LOKI_DEFAULT_SINCE_NS (3600LL * 1000000000LL)
#define API_LOKI_MAX_POINTS 11000

/* ---- api_loki_param.c: request arguments ---- */

/* Value of a form argument, "" when absent. */
const char *api_loki_arg(http_req_t *req, const char *name);
/* Loki's bounds(): start, end, since → [out] *start, *end (ns). False
 * after answering 400 with Loki's text. */
bool api_loki_bounds(api_loki_t *api, http_req_t *req, http_resp_t *resp, int64_t *start, int64_t *end);
/* limit (default 100, must be > 0) and direction (default backward). */
bool api_loki_limit(http_req_t *req, http_resp_t *resp, size_t *limit);
bool api_loki_direction(http_req_t *req, http_resp_t *resp, bool *backward);
/* A plain-text error answer. */
void api_loki_error(http_resp_t *resp, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The matchers of a selector argument (labels' query=, series' match[]);
 * false after answering 400. Empty text: no matchers. The caller
 * releases them with api_loki_matchers_fini. */
bool api_loki_matchers(http_req_t *req, http_resp_t *resp, const char *text, matcher_t **ms, size_t *n);
void api_loki_matchers_fini(matcher_t *ms, size_t n);

/* ---- api_loki_json.c: answers ---- */

/* The success envelope of a query result; categorize: the
 * categorize-labels encoding (stream labels alone, then metadata and
 * parsed labels per entry). */
void api_loki_json_result(http_resp_t *resp, const logql_result_t *r, bool categorize);
/* A live tail frame, appended to b: {"streams":[…]} with r's streams
 * (final labels, two-element values); Loki's dropped_entries is left out
 * as Loki leaves it out when nothing was dropped. */
void api_loki_json_tail(buf_t *b, const logql_result_t *r);
/* {"status":"success","data":["a",…]} */
void api_loki_json_strs(http_resp_t *resp, const str_t *v, size_t n);
/* {"status":"success","data":[{…},…]} */
void api_loki_json_series(http_resp_t *resp, const logs_series_t *v, size_t n);

/* ---- api_loki_labels.c: label, series, stats and status endpoints ---- */

void api_loki_labels_names(api_loki_t *api, http_req_t *req, http_resp_t *resp);
void api_loki_labels_values(api_loki_t *api, http_req_t *req, http_resp_t *resp, const char *name, size_t len);
void api_loki_labels_series(api_loki_t *api, http_req_t *req, http_resp_t *resp);
void api_loki_labels_index_stats(api_loki_t *api, http_req_t *req, http_resp_t *resp);
void api_loki_labels_buildinfo(api_loki_t *api, http_req_t *req, http_resp_t *resp);

/* ---- api_loki_tail.c: the live tail (a WebSocket) ---- */

void api_loki_tail(api_loki_t *api, http_req_t *req, http_resp_t *resp);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_prom_int: private to query/api_prom*.c: the API's state and the
 * helpers its files share. It is a second private header of the query
 * module (promql_int.h is the PromQL engine's), kept apart because the
 * HTTP handlers need none of the engine's internals and the engine none
 * of these; only api_prom*.c include it.
 *
 * Envelope (Prometheus' Response struct, in field order, empty fields
 * left out):
 *   {"status":"success","data":<data>[,"warnings":[…]][,"infos":[…]]}
 *   {"status":"error","errorType":"<type>","error":"<text>"}
 * with Content-Type application/json and the status code of the error
 * type: bad_data 400, execution 422, timeout and canceled 503,
 * internal 500, not_found 404.
 */
#ifndef PHAROS_QUERY_API_PROM_INT_H
#define PHAROS_QUERY_API_PROM_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/httpd.h"
#include "common/qslot.h"
#include "query/promql.h"

struct api_prom {
    tsdb_t *db;
    promql_source_t src;
    promql_engine_opts_t engine;
    int max_concurrency;
    pclock_t clock;
    int64_t start_ms;
    char *config_yaml;
    char **flags; /* 2 * nflags strings: name, value */
    size_t nflags;
    char *retention;
    qslot_t slots; /* queries evaluated at once */
};

/* Prometheus' MinTime and MaxTime (web/api/v1/api.go) in ms: the default
 * range of the label, series and exemplar endpoints. */
#define API_PROM_MIN_TIME (-9223309901257974000LL)
#define API_PROM_MAX_TIME 9223309901257974999LL

/* Error types beyond promql_errtype_t. */
#define API_PROM_ERR_NOT_FOUND ((promql_errtype_t)100)

/* ---- api_prom_json.c ---- */

/* Start a success answer: status 200, JSON type, body `{"status":"success","data":`. */
void api_prom_json_begin(http_resp_t *resp);
/* Close it: the warnings and infos arrays (at most 10 each, then "N more
 * warning annotations omitted", as Prometheus' AsStrings), then `}`. */
void api_prom_json_end(http_resp_t *resp, char *const *warnings, size_t nwarnings, char *const *infos, size_t ninfos);
/* Replace the body by an error answer with msg[0..len) as its text. */
void api_prom_json_error(http_resp_t *resp, promql_errtype_t type, const char *msg, size_t len);
/* As api_prom_json_error with a printf-formatted text. */
void api_prom_json_errorf(http_resp_t *resp, promql_errtype_t type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* `invalid parameter "<param>": <msg>`, bad_data (Prometheus' invalidParamError). */
void api_prom_json_invalid(http_resp_t *resp, const char *param, const buf_t *msg);
/* Prometheus' jsonutil.MarshalTimestamp: seconds, then '.' and three
 * digits of milliseconds unless they are 0. */
void api_prom_json_ts(buf_t *b, int64_t ms);
/* Prometheus' jsonutil.MarshalFloat: a JSON string of FormatFloat(v, 'f'),
 * or 'e' when |v| < 1e-6 or >= 1e21 (v != 0); NaN, +Inf, -Inf. */
void api_prom_json_float(buf_t *b, double v);
/* ["a","b"] */
void api_prom_json_strs(buf_t *b, const str_t *v, size_t n);
/* {"resultType":…,"result":…} of a query result. */
void api_prom_json_result(buf_t *b, const promql_result_t *r);

/* ---- api_prom_ast.c ---- */

/* Prometheus' translateAST (web/api/v1/translate_ast.go) as JSON. */
void api_prom_ast_json(const promql_node_t *n, buf_t *b);

/* ---- api_prom_labels.c ---- */

void api_prom_labels_series(api_prom_t *api, http_req_t *req, http_resp_t *resp);
void api_prom_labels_names(api_prom_t *api, http_req_t *req, http_resp_t *resp);
/* /api/v1/label/<name>/values; name is the raw path segment. */
void api_prom_labels_values(api_prom_t *api, http_req_t *req, http_resp_t *resp, const char *name, size_t len);
void api_prom_labels_metadata(api_prom_t *api, http_req_t *req, http_resp_t *resp);

/* ---- api_prom_status.c ---- */

void api_prom_status_buildinfo(api_prom_t *api, http_req_t *req, http_resp_t *resp);
void api_prom_status_runtimeinfo(api_prom_t *api, http_req_t *req, http_resp_t *resp);
void api_prom_status_flags(api_prom_t *api, http_req_t *req, http_resp_t *resp);
void api_prom_status_config(api_prom_t *api, http_req_t *req, http_resp_t *resp);

/* ---- shared argument helpers (api_prom.c) ---- */

/* Value of a form argument as Go's FormValue sees it: "" when absent. */
const char *api_prom_arg(http_req_t *req, const char *name);
/* Parse an optional time argument (Prometheus' parseTimeParam): def when
 * absent or empty. On error answers `invalid parameter "<name>": Invalid
 * time value for '<name>': …` and returns false. */
bool api_prom_time_arg(http_req_t *req, http_resp_t *resp, const char *name, int64_t def, int64_t *out);
/* Parse the "limit" argument (or another limit-like one); false after
 * answering the error. */
bool api_prom_limit_arg(http_req_t *req, http_resp_t *resp, const char *name, int64_t *out);

#endif

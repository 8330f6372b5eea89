/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_prom: the Prometheus HTTP API (contract in promql.h): the state,
 * the path dispatch table, and the query endpoints (query, query_range,
 * query_exemplars, format_query, parse_query). Label, series and metadata
 * endpoints live in api_prom_labels.c, status ones in api_prom_status.c,
 * the JSON writer in api_prom_json.c.
 *
 * Each handler checks its arguments in the order web/api/v1/api.go does,
 * so the first error reported is Prometheus' first, with its text. A
 * query then waits for one of max_concurrency slots (common/qslot.h)
 * until its deadline: the earlier of
 * now + query.timeout and now + the request's timeout argument, as
 * Prometheus' engine timeout and request context both count the queue.
 * Past the deadline it answers 503 "query timed out in query queue"; the
 * evaluation gets what is left as its timeout. Parse and evaluation use
 * the request's arena; the parsed tree is always released (its matchers
 * hold compiled regexes on the heap).
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/json_out.h"
#include "common/mem.h"
#include "query/api_prom_int.h"

#define API_PROM_MAX_POINTS 11000
#define API_PROM_DEFAULT_CONCURRENCY 20

typedef void (*api_prom_fn)(api_prom_t *api, http_req_t *req, http_resp_t *resp);

static char *api_prom_dup(const char *s)
{
    return mem_strdup(s ? s : "");
}

api_prom_t *api_prom_create(const api_prom_opts_t *o)
{
    api_prom_t *api = mem_calloc(1, sizeof(*api));
    api->db = o->db;
    api->src = promql_source_tsdb(o->db);
    api->engine = o->engine;
    api->max_concurrency = o->max_concurrency > 0 ? o->max_concurrency : API_PROM_DEFAULT_CONCURRENCY;
    api->clock = o->clock.now_ms ? o->clock : clock_real();
    api->start_ms = clock_now_ms(&api->clock);
    api->config_yaml = api_prom_dup(o->config_yaml);
    api->retention = api_prom_dup(o->storage_retention);
    api->nflags = o->nflags;
    api->flags = mem_calloc(o->nflags * 2 + 1, sizeof(char *));
    for (size_t i = 0; i < o->nflags * 2; i++) {
        api->flags[i] = api_prom_dup(o->flags[i]);
    }
    qslot_init(&api->slots, api->max_concurrency);
    return api;
}

void api_prom_destroy(api_prom_t *api)
{
    if (!api) {
        return;
    }
    for (size_t i = 0; i < api->nflags * 2; i++) {
        mem_free(api->flags[i]);
    }
    mem_free(api->flags);
    mem_free(api->config_yaml);
    mem_free(api->retention);
    qslot_fini(&api->slots);
    mem_free(api);
}

/* ---- arguments ---- */

const char *api_prom_arg(http_req_t *req, const char *name)
{
    const char *v = http_req_arg(req, name);
    return v ? v : "";
}

bool api_prom_time_arg(http_req_t *req, http_resp_t *resp, const char *name, int64_t def, int64_t *out)
{
    const char *v = api_prom_arg(req, name);
    if (!*v) {
        *out = def;
        return true;
    }
    buf_t err = { 0 };
    buf_printf(&err, "Invalid time value for '%s': ", name);
    bool ok = api_prom_param_time(v, strlen(v), out, &err) == 0;
    if (!ok) {
        api_prom_json_invalid(resp, name, &err);
    }
    buf_fini(&err);
    return ok;
}

bool api_prom_limit_arg(http_req_t *req, http_resp_t *resp, const char *name, int64_t *out)
{
    const char *v = api_prom_arg(req, name);
    buf_t err = { 0 };
    bool ok = api_prom_param_limit(v, strlen(v), out, &err) == 0;
    if (!ok) {
        api_prom_json_invalid(resp, name, &err);
    }
    buf_fini(&err);
    return ok;
}

/* A required time (query_range's start and end: parseTime, no default). */
static bool api_prom_req_time(http_req_t *req, http_resp_t *resp, const char *name, int64_t *out)
{
    const char *v = api_prom_arg(req, name);
    buf_t err = { 0 };
    bool ok = api_prom_param_time(v, strlen(v), out, &err) == 0;
    if (!ok) {
        api_prom_json_invalid(resp, name, &err);
    }
    buf_fini(&err);
    return ok;
}

/* A duration argument in ns; present is false when it is absent. */
static bool api_prom_dur_arg(http_req_t *req, http_resp_t *resp, const char *name, bool required, int64_t *ns,
                             bool *present)
{
    const char *v = api_prom_arg(req, name);
    *present = *v != '\0';
    if (!*present && !required) {
        return true;
    }
    buf_t err = { 0 };
    bool ok = api_prom_param_duration(v, strlen(v), ns, &err) == 0;
    if (!ok) {
        api_prom_json_invalid(resp, name, &err);
    }
    buf_fini(&err);
    return ok;
}

/* The engine options of a request: timeout (wall seconds from now, 0 =
 * none) and lookback_delta (extractQueryOpts). False after answering. */
static bool api_prom_query_opts(api_prom_t *api, http_req_t *req, http_resp_t *resp, promql_engine_opts_t *o,
                                double *timeout_s)
{
    *o = api->engine;
    *timeout_s = api->engine.timeout_s;
    int64_t ns = 0;
    bool present = false;
    if (!api_prom_dur_arg(req, resp, "timeout", false, &ns, &present)) {
        return false;
    }
    if (present && (*timeout_s <= 0 || (double)ns / 1e9 < *timeout_s)) {
        *timeout_s = ns > 0 ? (double)ns / 1e9 : -1; /* -1: already expired */
    }
    const char *lb = api_prom_arg(req, "lookback_delta");
    if (*lb) {
        buf_t err = { 0 };
        buf_puts(&err, "error parsing lookback delta duration: ");
        if (api_prom_param_duration(lb, strlen(lb), &ns, &err) != 0) {
            api_prom_json_error(resp, PROMQL_ERR_BAD_DATA, (const char *)err.data, err.len);
            buf_fini(&err);
            return false;
        }
        buf_fini(&err);
        if (ns / 1000000 > 0) {
            o->lookback_ms = ns / 1000000;
        }
    }
    return true;
}

/* Parse the query argument; on error answer `invalid parameter "query": …`. */
static promql_node_t *api_prom_parse_arg(http_req_t *req, http_resp_t *resp, bool wrap)
{
    const char *q = api_prom_arg(req, "query");
    promql_node_t *root = NULL;
    promql_error_t perr;
    if (promql_parse(q, strlen(q), http_req_arena(req), &root, &perr) != 0) {
        if (wrap) {
            api_prom_json_errorf(resp, PROMQL_ERR_BAD_DATA, "invalid parameter \"query\": %s", perr.msg);
        } else {
            api_prom_json_error(resp, PROMQL_ERR_BAD_DATA, perr.msg, strlen(perr.msg));
        }
        return NULL;
    }
    return root;
}

/* ---- running a query ---- */

/* Evaluate root and answer; limit (0: none) cuts vectors and matrices. */
static void api_prom_run(api_prom_t *api, http_req_t *req, http_resp_t *resp, const promql_node_t *root,
                         promql_engine_opts_t *o, double timeout_s, int64_t start, int64_t end, int64_t step,
                         int64_t limit)
{
    double t0 = clock_mono_s();
    double deadline = timeout_s > 0 ? t0 + timeout_s : 0;
    if (timeout_s < 0 || !qslot_take(&api->slots, deadline)) {
        api_prom_json_errorf(resp, PROMQL_ERR_TIMEOUT, "query timed out in query queue");
        return;
    }
    o->timeout_s = 0;
    if (deadline > 0) {
        o->timeout_s = deadline - clock_mono_s();
        if (o->timeout_s <= 0) {
            o->timeout_s = 1e-9; /* expired while queued: the engine times out at once */
        }
    }
    const char *text = api_prom_arg(req, "query"); /* for annotation positions */
    o->query = text;
    o->query_len = strlen(text);
    promql_result_t res;
    promql_eval_error_t err;
    memset(&res, 0, sizeof(res));
    memset(&err, 0, sizeof(err));
    int rc = promql_eval(&api->src, o, root, start, end, step, http_req_arena(req), &res, &err);
    qslot_give(&api->slots);
    if (rc != 0) {
        api_prom_json_error(resp, err.type == PROMQL_ERR_NONE ? PROMQL_ERR_INTERNAL : err.type, err.msg,
                            strnlen(err.msg, sizeof(err.msg)));
        return;
    }
    char **warnings = res.warnings;
    size_t nwarnings = res.nwarnings;
    if (limit > 0 && (res.type == PROMQL_TYPE_VECTOR || res.type == PROMQL_TYPE_MATRIX) &&
        res.nseries > (uint64_t)limit) {
        res.nseries = (size_t)limit;
        warnings = arena_alloc(http_req_arena(req), (nwarnings + 1) * sizeof(char *));
        for (size_t i = 0; i < nwarnings; i++) {
            warnings[i] = res.warnings[i];
        }
        warnings[nwarnings++] = "results truncated due to limit";
    }
    api_prom_json_begin(resp);
    api_prom_json_result(&resp->body, &res);
    api_prom_json_end(resp, warnings, nwarnings, res.infos, res.ninfos);
}

static int64_t api_prom_clamp(int64_t t)
{
    return t < TSDB_MIN_TIME ? TSDB_MIN_TIME : t > TSDB_MAX_TIME ? TSDB_MAX_TIME : t;
}

static void api_prom_query(api_prom_t *api, http_req_t *req, http_resp_t *resp)
{
    int64_t limit = 0, t = 0;
    promql_engine_opts_t o;
    double timeout_s = 0;
    if (!api_prom_limit_arg(req, resp, "limit", &limit) ||
        !api_prom_time_arg(req, resp, "time", clock_now_ms(&api->clock), &t) ||
        !api_prom_query_opts(api, req, resp, &o, &timeout_s)) {
        return;
    }
    promql_node_t *root = api_prom_parse_arg(req, resp, true);
    if (!root) {
        return;
    }
    t = api_prom_clamp(t);
    api_prom_run(api, req, resp, root, &o, timeout_s, t, t, 0, limit);
    promql_release(root);
}

/* end - start in ns as Go's Time.Sub gives it (saturated), over step. */
static bool api_prom_too_many_points(int64_t start, int64_t end, int64_t step_ns)
{
    int64_t d = 0;
    if (__builtin_sub_overflow(end, start, &d) || __builtin_mul_overflow(d, (int64_t)1000000, &d)) {
        d = INT64_MAX; /* end >= start here */
    }
    return d / step_ns > API_PROM_MAX_POINTS;
}

static void api_prom_query_range(api_prom_t *api, http_req_t *req, http_resp_t *resp)
{
    int64_t limit = 0, start = 0, end = 0, step = 0;
    bool present = false;
    if (!api_prom_limit_arg(req, resp, "limit", &limit) || !api_prom_req_time(req, resp, "start", &start) ||
        !api_prom_req_time(req, resp, "end", &end)) {
        return;
    }
    if (end < start) {
        buf_t msg = { 0 };
        buf_puts(&msg, "end timestamp must not be before start time");
        api_prom_json_invalid(resp, "end", &msg);
        buf_fini(&msg);
        return;
    }
    if (!api_prom_dur_arg(req, resp, "step", true, &step, &present)) {
        return;
    }
    if (step / 1000000 <= 0) {
        buf_t msg = { 0 };
        buf_puts(&msg, "zero or negative query resolution step widths are not accepted. Try a positive integer");
        api_prom_json_invalid(resp, "step", &msg);
        buf_fini(&msg);
        return;
    }
    if (api_prom_too_many_points(start, end, step)) {
        api_prom_json_errorf(resp, PROMQL_ERR_BAD_DATA,
                             "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query "
                             "resolution (?step=XX)");
        return;
    }
    promql_engine_opts_t o;
    double timeout_s = 0;
    if (!api_prom_query_opts(api, req, resp, &o, &timeout_s)) {
        return;
    }
    promql_node_t *root = api_prom_parse_arg(req, resp, true);
    if (!root) {
        return;
    }
    promql_type_t type = promql_node_type(root);
    if (type != PROMQL_TYPE_VECTOR && type != PROMQL_TYPE_SCALAR) {
        api_prom_json_errorf(resp, PROMQL_ERR_BAD_DATA,
                             "invalid parameter \"query\": invalid expression type \"%s\" for range query, must be "
                             "Scalar or instant Vector",
                             promql_type_str(type));
    } else {
        api_prom_run(api, req, resp, root, &o, timeout_s, api_prom_clamp(start), api_prom_clamp(end), step / 1000000,
                     limit);
    }
    promql_release(root);
}

static bool api_prom_has_selector(const promql_node_t *n)
{
    switch (n->kind) {
    case PROMQL_VECTOR_SEL:
    case PROMQL_MATRIX_SEL:
        return true;
    case PROMQL_SUBQUERY:
        return api_prom_has_selector(n->u.sq.expr);
    case PROMQL_CALL:
        for (size_t i = 0; i < n->u.call.nargs; i++) {
            if (api_prom_has_selector(n->u.call.args[i])) {
                return true;
            }
        }
        return false;
    case PROMQL_AGGREGATE:
        return api_prom_has_selector(n->u.agg.expr) || (n->u.agg.param && api_prom_has_selector(n->u.agg.param));
    case PROMQL_BINARY:
        return api_prom_has_selector(n->u.bin.lhs) || api_prom_has_selector(n->u.bin.rhs);
    case PROMQL_UNARY:
        return api_prom_has_selector(n->u.unary.expr);
    case PROMQL_PAREN:
        return api_prom_has_selector(n->u.paren.expr);
    case PROMQL_NUMBER:
    case PROMQL_STRING:
        return false;
    }
    return false;
}

/* Exemplars are accepted by ingest and not stored: every selection is
 * empty. Arguments are still checked as Prometheus checks them. */
static void api_prom_query_exemplars(api_prom_t *api, http_req_t *req, http_resp_t *resp)
{
    (void)api;
    int64_t start = 0, end = 0;
    if (!api_prom_time_arg(req, resp, "start", API_PROM_MIN_TIME, &start) ||
        !api_prom_time_arg(req, resp, "end", API_PROM_MAX_TIME, &end)) {
        return;
    }
    if (end < start) {
        api_prom_json_errorf(resp, PROMQL_ERR_BAD_DATA, "end timestamp must not be before start timestamp");
        return;
    }
    promql_node_t *root = api_prom_parse_arg(req, resp, false);
    if (!root) {
        return;
    }
    if (!api_prom_has_selector(root)) {
        resp->status = 204; /* Prometheus answers no content when nothing is selected */
    } else {
        api_prom_json_begin(resp);
        buf_puts(&resp->body, "[]");
        api_prom_json_end(resp, NULL, 0, NULL, 0);
    }
    promql_release(root);
}

static void api_prom_format_query(api_prom_t *api, http_req_t *req, http_resp_t *resp)
{
    (void)api;
    promql_node_t *root = api_prom_parse_arg(req, resp, true);
    if (!root) {
        return;
    }
    buf_t pretty = { 0 };
    promql_pretty(root, &pretty);
    api_prom_json_begin(resp);
    json_str(&resp->body, (const char *)pretty.data, pretty.len);
    api_prom_json_end(resp, NULL, 0, NULL, 0);
    buf_fini(&pretty);
    promql_release(root);
}

static void api_prom_parse_query(api_prom_t *api, http_req_t *req, http_resp_t *resp)
{
    (void)api;
    promql_node_t *root = api_prom_parse_arg(req, resp, true);
    if (!root) {
        return;
    }
    api_prom_json_begin(resp);
    api_prom_ast_json(root, &resp->body);
    api_prom_json_end(resp, NULL, 0, NULL, 0);
    promql_release(root);
}

/* ---- dispatch ---- */

static const struct {
    const char *path;
    api_prom_fn fn;
} api_prom_routes[] = {
    { .path = "/api/v1/query", .fn = api_prom_query },
    { .path = "/api/v1/query_range", .fn = api_prom_query_range },
    { .path = "/api/v1/query_exemplars", .fn = api_prom_query_exemplars },
    { .path = "/api/v1/format_query", .fn = api_prom_format_query },
    { .path = "/api/v1/parse_query", .fn = api_prom_parse_query },
    { .path = "/api/v1/series", .fn = api_prom_labels_series },
    { .path = "/api/v1/labels", .fn = api_prom_labels_names },
    { .path = "/api/v1/metadata", .fn = api_prom_labels_metadata },
    { .path = "/api/v1/status/buildinfo", .fn = api_prom_status_buildinfo },
    { .path = "/api/v1/status/runtimeinfo", .fn = api_prom_status_runtimeinfo },
    { .path = "/api/v1/status/flags", .fn = api_prom_status_flags },
    { .path = "/api/v1/status/config", .fn = api_prom_status_config },
};

void api_prom_handle(api_prom_t *api, http_req_t *req, http_resp_t *resp)
{
    const char *path = http_req_path(req);
    for (size_t i = 0; i < sizeof(api_prom_routes) / sizeof(api_prom_routes[0]); i++) {
        if (strcmp(path, api_prom_routes[i].path) == 0) {
            api_prom_routes[i].fn(api, req, resp);
            return;
        }
    }
    static const char label[] = "/api/v1/label/";
    static const char values[] = "/values";
    size_t len = strlen(path);
    size_t pre = sizeof(label) - 1;
    size_t suf = sizeof(values) - 1;
    if (len >= pre + suf && memcmp(path, label, pre) == 0 && memcmp(path + len - suf, values, suf) == 0 &&
        memchr(path + pre, '/', len - pre - suf) == NULL) {
        api_prom_labels_values(api, req, resp, path + pre, len - pre - suf);
        return;
    }
    http_resp_text(resp, 404, "404 page not found");
}

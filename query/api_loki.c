/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_loki: the Loki HTTP API (contract in logql.h): the state, the path
 * dispatch table, and the query endpoints (query, query_range). Label,
 * series, stats and status endpoints live in api_loki_labels.c, argument
 * parsing in api_loki_param.c, the JSON writer in api_loki_json.c.
 *
 * Arguments are checked in the order Loki's ParseInstantQuery and
 * ParseRangeQuery check them, so the first error reported is Loki's
 * first, as plain text with status 400. A query then waits for one of
 * max_concurrency slots (common/qslot.h) until its timeout (504 past it,
 * with Loki's text) and runs logql_eval on the request's arena. Errors of
 * the evaluation map to Loki's statuses: parse errors and limits 400,
 * timeouts 504, failures of the store 500.
 */
#include <string.h>

#include "common/clock.h"
#include "common/mem.h"
#include "query/api_loki_int.h"

#define API_LOKI_DEFAULT_CONCURRENCY 8

/* Loki's ErrDeadlineExceeded text (pkg/util/server/error.go). */
#define API_LOKI_TIMEOUT_TEXT                                                                                          \
    "request timed out, decrease the duration of the request or add more label matchers (prefer exact match over "     \
    "regex match) to reduce the amount of data processed"

api_loki_t *api_loki_create(const api_loki_opts_t *o)
{
    api_loki_t *api = mem_calloc(1, sizeof(*api));
    api->store = o->store;
    api->src = logql_source_store(o->store);
    api->limits = o->limits;
    api->max_concurrency = o->max_concurrency > 0 ? o->max_concurrency : API_LOKI_DEFAULT_CONCURRENCY;
    api->clock = o->clock.now_ms ? o->clock : clock_real();
    api->version = mem_strdup(o->version ? o->version : API_LOKI_COMPAT_VERSION);
    qslot_init(&api->slots, api->max_concurrency);
    return api;
}

void api_loki_destroy(api_loki_t *api)
{
    if (!api) {
        return;
    }
    qslot_fini(&api->slots);
    mem_free(api->version);
    mem_free(api);
}

/* Run q and answer. */
static void api_loki_run(api_loki_t *api, http_req_t *req, http_resp_t *resp, logql_query_t *q)
{
    double timeout_s = api->limits.timeout_s;
    double deadline = timeout_s > 0 ? clock_mono_s() + timeout_s : 0;
    if (!qslot_take(&api->slots, deadline)) {
        api_loki_error(resp, 504, "%s", API_LOKI_TIMEOUT_TEXT);
        return;
    }
    logql_limits_t lim = api->limits;
    if (deadline > 0) {
        lim.timeout_s = deadline - clock_mono_s();
        if (lim.timeout_s <= 0) {
            lim.timeout_s = 1e-9; /* expired while queued: the evaluation times out at once */
        }
    }
    logql_result_t res;
    logql_eval_error_t err;
    memset(&res, 0, sizeof(res));
    memset(&err, 0, sizeof(err));
    int rc = logql_eval(&api->src, &lim, q, http_req_arena(req), &res, &err);
    qslot_give(&api->slots);
    if (rc != 0) {
        switch (err.type) {
        case LOGQL_ERR_PARSE:
        case LOGQL_ERR_BAD_DATA:
        case LOGQL_ERR_LIMIT:
            api_loki_error(resp, 400, "%s", err.msg);
            return;
        case LOGQL_ERR_TIMEOUT:
            api_loki_error(resp, 504, "%s", API_LOKI_TIMEOUT_TEXT);
            return;
        case LOGQL_ERR_NONE:
        case LOGQL_ERR_INTERNAL:
            break;
        }
        api_loki_error(resp, 500, "%s", err.msg[0] ? err.msg : "internal error");
        return;
    }
    const char *flags = http_req_header(req, "X-Loki-Response-Encoding-Flags");
    bool categorize = flags && strstr(flags, "categorize-labels") != NULL;
    api_loki_json_result(resp, &res, categorize);
}

static void api_loki_query(api_loki_t *api, http_req_t *req, http_resp_t *resp)
{
    logql_query_t q = { 0 };
    q.q = api_loki_arg(req, "query");
    q.len = strlen(q.q);
    buf_t err = { 0 };
    int64_t now = clock_now_ms(&api->clock) * 1000000LL;
    int64_t t = 0;
    if (!api_loki_limit(req, resp, &q.limit)) {
        return;
    }
    const char *tv = api_loki_arg(req, "time");
    if (api_loki_param_time(tv, strlen(tv), now, &t, &err) != 0) {
        api_loki_error(resp, 400, "%.*s", (int)err.len, (const char *)err.data);
        buf_fini(&err);
        return;
    }
    if (!api_loki_direction(req, resp, &q.backward)) {
        return;
    }
    bool metric = false;
    char msg[512];
    if (logql_check(q.q, q.len, &metric, msg, sizeof(msg)) != 0) {
        api_loki_error(resp, 400, "%s", msg);
        return;
    }
    if (!metric) {
        api_loki_error(resp, 400,
                       "log queries are not supported as an instant query type, please change your query to a range "
                       "query type");
        return;
    }
    q.start_ns = q.end_ns = t;
    q.instant = true;
    api_loki_run(api, req, resp, &q);
}

/* end - start (end >= start) as Go's Time.Sub gives it: saturated at the
 * largest duration instead of overflowing. */
static int64_t api_loki_span(int64_t start, int64_t end)
{
    int64_t d = 0;
    return __builtin_sub_overflow(end, start, &d) ? INT64_MAX : d;
}

static void api_loki_query_range(api_loki_t *api, http_req_t *req, http_resp_t *resp)
{
    logql_query_t q = { 0 };
    q.q = api_loki_arg(req, "query");
    q.len = strlen(q.q);
    if (!api_loki_bounds(api, req, resp, &q.start_ns, &q.end_ns)) {
        return;
    }
    if (q.end_ns < q.start_ns) {
        api_loki_error(resp, 400, "end timestamp must not be before or equal to start time");
        return;
    }
    if (!api_loki_limit(req, resp, &q.limit) || !api_loki_direction(req, resp, &q.backward)) {
        return;
    }
    buf_t err = { 0 };
    const char *sv = api_loki_arg(req, "step");
    if (*sv) {
        if (api_loki_param_duration(sv, strlen(sv), &q.step_ns, &err) != 0) {
            api_loki_error(resp, 400, "%.*s", (int)err.len, (const char *)err.data);
            buf_fini(&err);
            return;
        }
    } else {
        /* defaultQueryRangeStep: max(floor((end - start) / 250 s), 1) seconds. */
        int64_t s = api_loki_span(q.start_ns, q.end_ns) / 1000000000LL / 250;
        q.step_ns = (s < 1 ? 1 : s) * 1000000000LL;
    }
    if (q.step_ns <= 0) {
        api_loki_error(resp, 400,
                       "zero or negative query resolution step widths are not accepted. Try a positive "
                       "integer");
        return;
    }
    if (api_loki_span(q.start_ns, q.end_ns) / q.step_ns > API_LOKI_MAX_POINTS) {
        api_loki_error(resp, 400,
                       "exceeded maximum resolution of 11,000 points per time series. Try increasing the "
                       "value of the step parameter");
        return;
    }
    const char *iv = api_loki_arg(req, "interval");
    if (*iv && api_loki_param_duration(iv, strlen(iv), &q.interval_ns, &err) != 0) {
        api_loki_error(resp, 400, "%.*s", (int)err.len, (const char *)err.data);
        buf_fini(&err);
        return;
    }
    if (q.interval_ns < 0) {
        api_loki_error(resp, 400, "interval must be >= 0");
        return;
    }
    bool metric = false;
    char msg[512];
    if (logql_check(q.q, q.len, &metric, msg, sizeof(msg)) != 0) {
        api_loki_error(resp, 400, "%s", msg);
        return;
    }
    api_loki_run(api, req, resp, &q);
}

typedef void (*api_loki_fn)(api_loki_t *api, http_req_t *req, http_resp_t *resp);

static const struct {
    const char *path; /* under /loki/api/v1/ */
    api_loki_fn fn;
} api_loki_routes[] = {
    { "query", api_loki_query },
    { "query_range", api_loki_query_range },
    { "labels", api_loki_labels_names },
    { "series", api_loki_labels_series },
    { "index/stats", api_loki_labels_index_stats },
    { "status/buildinfo", api_loki_labels_buildinfo },
    { "tail", api_loki_tail },
};

#define API_LOKI_PREFIX "/loki/api/v1/"

void api_loki_handle(api_loki_t *api, http_req_t *req, http_resp_t *resp)
{
    const char *path = http_req_path(req);
    size_t plen = sizeof(API_LOKI_PREFIX) - 1;
    if (strncmp(path, API_LOKI_PREFIX, plen) != 0) {
        api_loki_error(resp, 404, "404 page not found\n");
        return;
    }
    const char *rest = path + plen;
    for (size_t i = 0; i < sizeof(api_loki_routes) / sizeof(api_loki_routes[0]); i++) {
        if (strcmp(rest, api_loki_routes[i].path) == 0) {
            api_loki_routes[i].fn(api, req, resp);
            return;
        }
    }
    /* label/<name>/values */
    if (strncmp(rest, "label/", 6) == 0) {
        const char *name = rest + 6;
        const char *slash = strchr(name, '/');
        if (slash && slash > name && strcmp(slash, "/values") == 0) {
            api_loki_labels_values(api, req, resp, name, (size_t)(slash - name));
            return;
        }
    }
    api_loki_error(resp, 404, "404 page not found\n");
}

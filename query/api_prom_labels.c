/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_prom_labels: /api/v1/series, /api/v1/labels,
 * /api/v1/label/<name>/values and /api/v1/metadata over the tsdb's
 * lookups (tsdb_labels_*).
 *
 * Arguments are checked in Prometheus' order with its texts: series needs
 * a match[] ("no match[] parameter provided"); every match[] is a series
 * selector (promql_parse_selector) with at least one matcher that rejects
 * the empty string ("match[] must contain at least one non-empty
 * matcher"); start and end default to Prometheus' MinTime and MaxTime;
 * limit cuts the sorted answer and adds the warning "results truncated
 * due to limit". Names and values answer [] rather than null. Metadata is
 * one entry per family (the store keeps the last one written), so
 * limit_per_metric never cuts; limit keeps the first families by name.
 * Types are Prometheus' lowercase names of the remote-write MetricType.
 */
#include <string.h>

#include "common/json_out.h"
#include "query/api_prom_int.h"

typedef struct labels_args {
    int64_t limit, start, end;
    tsdb_matchset_t *sets;
    size_t nsets;
    promql_node_t **sel; /* to release */
} labels_args_t;

static void labels_release(labels_args_t *a)
{
    for (size_t i = 0; i < a->nsets; i++) {
        promql_release(a->sel[i]);
    }
    a->nsets = 0;
}

/* Parse the match[] arguments into a->sets. On error answer with the
 * parse error, as "invalid parameter "match[]": …" when wrap. */
static bool labels_matchers(http_req_t *req, http_resp_t *resp, bool wrap, labels_args_t *a)
{
    const char **match = NULL;
    size_t n = http_req_args(req, "match[]", &match);
    arena_t *ar = http_req_arena(req);
    a->sets = arena_alloc(ar, (n ? n : 1) * sizeof(tsdb_matchset_t));
    a->sel = arena_alloc(ar, (n ? n : 1) * sizeof(promql_node_t *));
    a->nsets = 0;
    const char *fail = NULL;
    promql_error_t perr;
    for (size_t i = 0; i < n && !fail; i++) {
        promql_node_t *sel = NULL;
        if (promql_parse_selector(match[i], strlen(match[i]), ar, &sel, &perr) != 0) {
            /* Prometheus' ParseMetricSelectors checks syntax only; the
             * empty-matcher rule is the API's own, with its own text. */
            fail = strstr(perr.msg, "vector selector must contain at least one non-empty matcher")
                       ? "match[] must contain at least one non-empty matcher"
                       : perr.msg;
            break;
        }
        a->sel[a->nsets] = sel;
        a->sets[a->nsets].ms = sel->u.vs.matchers;
        a->sets[a->nsets].n = sel->u.vs.nmatchers;
        a->nsets++;
    }
    for (size_t i = 0; i < a->nsets && !fail; i++) {
        bool nonempty = false;
        for (size_t k = 0; k < a->sets[i].n; k++) {
            nonempty = nonempty || !matcher_matches_empty(&a->sets[i].ms[k]);
        }
        if (!nonempty) {
            fail = "match[] must contain at least one non-empty matcher";
        }
    }
    if (fail) {
        if (wrap) {
            api_prom_json_errorf(resp, PROMQL_ERR_BAD_DATA, "invalid parameter \"match[]\": %s", fail);
        } else {
            api_prom_json_error(resp, PROMQL_ERR_BAD_DATA, fail, strlen(fail));
        }
        labels_release(a);
        return false;
    }
    return true;
}

/* limit, start, end, then match[] (wrapped in "invalid parameter" when
 * wrap), as Prometheus' labelNames, labelValues and series read them. */
static bool labels_args(http_req_t *req, http_resp_t *resp, bool wrap, labels_args_t *a)
{
    memset(a, 0, sizeof(*a));
    return api_prom_limit_arg(req, resp, "limit", &a->limit) &&
           api_prom_time_arg(req, resp, "start", API_PROM_MIN_TIME, &a->start) &&
           api_prom_time_arg(req, resp, "end", API_PROM_MAX_TIME, &a->end) && labels_matchers(req, resp, wrap, a);
}

static void labels_answer_strs(http_resp_t *resp, const str_t *v, size_t n, bool truncated)
{
    char *warn[1] = { "results truncated due to limit" };
    api_prom_json_begin(resp);
    api_prom_json_strs(&resp->body, v, n);
    api_prom_json_end(resp, warn, truncated ? 1 : 0, NULL, 0);
}

void api_prom_labels_series(api_prom_t *api, http_req_t *req, http_resp_t *resp)
{
    const char **match = NULL;
    if (http_req_args(req, "match[]", &match) == 0) {
        api_prom_json_errorf(resp, PROMQL_ERR_BAD_DATA, "no match[] parameter provided");
        return;
    }
    labels_args_t a;
    if (!labels_args(req, resp, true, &a)) {
        return;
    }
    tsdb_series_labels_t *s = NULL;
    bool truncated = false;
    size_t n = tsdb_labels_series(api->db, a.sets, a.nsets, a.start, a.end, (size_t)a.limit, http_req_arena(req), &s,
                                  &truncated);
    labels_release(&a);
    char *warn[1] = { "results truncated due to limit" };
    api_prom_json_begin(resp);
    buf_putc(&resp->body, '[');
    for (size_t i = 0; i < n; i++) {
        buf_puts(&resp->body, i ? "," : "");
        json_labels(&resp->body, s[i].labels, s[i].n);
    }
    buf_putc(&resp->body, ']');
    api_prom_json_end(resp, warn, truncated ? 1 : 0, NULL, 0);
}

void api_prom_labels_names(api_prom_t *api, http_req_t *req, http_resp_t *resp)
{
    labels_args_t a;
    if (!labels_args(req, resp, false, &a)) {
        return;
    }
    str_t *v = NULL;
    bool truncated = false;
    size_t n = tsdb_labels_names(api->db, a.sets, a.nsets, a.start, a.end, (size_t)a.limit, http_req_arena(req), &v,
                                 &truncated);
    labels_release(&a);
    labels_answer_strs(resp, v, n, truncated);
}

void api_prom_labels_values(api_prom_t *api, http_req_t *req, http_resp_t *resp, const char *name, size_t len)
{
    char *dec = arena_alloc(http_req_arena(req), len + 1);
    size_t dlen = api_prom_param_name(name, len, dec);
    if (dlen == 0 || !str_utf8_valid(dec, dlen)) {
        buf_t q = { 0 };
        labels_quote(str_from(dec, dlen), &q);
        api_prom_json_errorf(resp, PROMQL_ERR_BAD_DATA, "invalid label name: %.*s", (int)q.len, (const char *)q.data);
        buf_fini(&q);
        return;
    }
    labels_args_t a;
    if (!labels_args(req, resp, false, &a)) {
        return;
    }
    str_t *v = NULL;
    bool truncated = false;
    size_t n = tsdb_labels_values(api->db, str_from(dec, dlen), a.sets, a.nsets, a.start, a.end, (size_t)a.limit,
                                  http_req_arena(req), &v, &truncated);
    labels_release(&a);
    labels_answer_strs(resp, v, n, truncated);
}

static const char *labels_type_name(int type)
{
    static const char *const names[] = { "unknown",        "counter", "gauge", "histogram",
                                         "gaugehistogram", "summary", "info",  "stateset" };
    return type >= 0 && (size_t)type < sizeof(names) / sizeof(names[0]) ? names[type] : "unknown";
}

void api_prom_labels_metadata(api_prom_t *api, http_req_t *req, http_resp_t *resp)
{
    int64_t limit = 0, per_metric = 0;
    if (!api_prom_limit_arg(req, resp, "limit", &limit) ||
        !api_prom_limit_arg(req, resp, "limit_per_metric", &per_metric)) {
        return;
    }
    tsdb_meta_t *md = NULL;
    size_t n =
        tsdb_labels_metadata(api->db, str_cstr(api_prom_arg(req, "metric")), (size_t)limit, http_req_arena(req), &md);
    api_prom_json_begin(resp);
    buf_t *b = &resp->body;
    buf_putc(b, '{');
    for (size_t i = 0; i < n; i++) {
        buf_puts(b, i ? "," : "");
        json_str(b, md[i].family.p, md[i].family.len);
        buf_printf(b, ":[{\"type\":\"%s\",\"unit\":", labels_type_name(md[i].type));
        json_str(b, md[i].unit.p, md[i].unit.len);
        buf_puts(b, ",\"help\":");
        json_str(b, md[i].help.p, md[i].help.len);
        buf_puts(b, "}]");
    }
    buf_putc(b, '}');
    api_prom_json_end(resp, NULL, 0, NULL, 0);
}

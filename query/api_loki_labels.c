/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_loki_labels: the Loki API's label, series, index-stats and status
 * endpoints over the log store's index lookups (no block reads):
 *
 *   labels                 start/end/since, optional query= selector
 *   label/<name>/values    the same; <name> from the path
 *   series                 match[] (also match), one or more selectors,
 *                          "0 matcher groups supplied" without any
 *   index/stats            query= (any LogQL query: its first selector),
 *                          start/end/since; a flat object, no envelope
 *   status/buildinfo       a flat object, as Loki answers it
 *
 * Every handler releases the matchers it parsed (they hold compiled
 * regexes on the heap) on every path.
 */
#include <stdlib.h>
#include <string.h>

#include "common/json_out.h"
#include "query/api_loki_int.h"

/* The range and optional query= selector of labels and values. */
static bool api_loki_label_args(api_loki_t *api, http_req_t *req, http_resp_t *resp, int64_t *start, int64_t *end,
                                matcher_t **ms, size_t *nms)
{
    if (!api_loki_bounds(api, req, resp, start, end)) {
        return false;
    }
    if (*end < *start) {
        api_loki_error(resp, 400, "end timestamp must not be before or equal to start time");
        return false;
    }
    return api_loki_matchers(req, resp, api_loki_arg(req, "query"), ms, nms);
}

void api_loki_labels_names(api_loki_t *api, http_req_t *req, http_resp_t *resp)
{
    int64_t start = 0, end = 0;
    matcher_t *ms = NULL;
    size_t nms = 0;
    if (!api_loki_label_args(api, req, resp, &start, &end, &ms, &nms)) {
        return;
    }
    logs_matchset_t set = { ms, nms };
    str_t *names = NULL;
    size_t n = logs_store_label_names(api->store, &set, nms ? 1 : 0, start, end, http_req_arena(req), &names);
    api_loki_matchers_fini(ms, nms);
    api_loki_json_strs(resp, names, n);
}

void api_loki_labels_values(api_loki_t *api, http_req_t *req, http_resp_t *resp, const char *name, size_t len)
{
    int64_t start = 0, end = 0;
    matcher_t *ms = NULL;
    size_t nms = 0;
    if (!api_loki_label_args(api, req, resp, &start, &end, &ms, &nms)) {
        return;
    }
    logs_matchset_t set = { ms, nms };
    str_t *values = NULL;
    size_t n = logs_store_label_values(api->store, str_from(name, len), &set, nms ? 1 : 0, start, end,
                                       http_req_arena(req), &values);
    api_loki_matchers_fini(ms, nms);
    api_loki_json_strs(resp, values, n);
}

typedef struct api_loki_arg_ref {
    const char *text;
    size_t at;
} api_loki_arg_ref_t;

static int api_loki_arg_ref_cmp(const void *x, const void *y)
{
    const api_loki_arg_ref_t *p = x, *q = y;
    int c = strcmp(p->text, q->text);
    return c ? c : p->at < q->at ? -1 : p->at > q->at;
}

/* all[0..na+nb) = a then b; [out] true at every argument equal to an
 * earlier one. O(n log n): the count of match[] is bounded only by the
 * request's size. */
static bool *api_loki_mark_repeats(arena_t *ar, const char **a, size_t na, const char **b, size_t nb, const char **all)
{
    size_t n = na + nb;
    bool *dup = arena_calloc(ar, n ? n : 1, sizeof(bool));
    api_loki_arg_ref_t *ref = arena_alloc(ar, (n ? n : 1) * sizeof(*ref));
    for (size_t i = 0; i < n; i++) {
        all[i] = i < na ? a[i] : b[i - na];
        ref[i] = (api_loki_arg_ref_t){ all[i], i };
    }
    if (n > 1) {
        qsort(ref, n, sizeof(*ref), api_loki_arg_ref_cmp);
    }
    for (size_t i = 1; i < n; i++) {
        dup[ref[i].at] = strcmp(ref[i].text, ref[i - 1].text) == 0;
    }
    return dup;
}

void api_loki_labels_series(api_loki_t *api, http_req_t *req, http_resp_t *resp)
{
    int64_t start = 0, end = 0;
    if (!api_loki_bounds(api, req, resp, &start, &end)) {
        return;
    }
    const char **a = NULL, **b = NULL;
    size_t na = http_req_args(req, "match[]", &a);
    size_t nb = http_req_args(req, "match", &b);
    if (na + nb == 0) {
        api_loki_error(resp, 400, "0 matcher groups supplied");
        return;
    }
    arena_t *ar = http_req_arena(req);
    logs_matchset_t *sets = arena_alloc(ar, (na + nb) * sizeof(*sets));
    const char **all = arena_alloc(ar, (na + nb) * sizeof(*all));
    bool *dup = api_loki_mark_repeats(ar, a, na, b, nb, all);
    size_t nsets = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < na + nb; i++) {
        const char *text = all[i];
        if (dup[i]) { /* Loki takes the union of distinct selectors */
            continue;
        }
        ok = api_loki_matchers(req, resp, text, &sets[nsets].ms, &sets[nsets].n);
        if (ok && sets[nsets].n == 0) {
            api_loki_error(resp, 400, "0 matchers in group: %s", text);
            ok = false;
        }
        if (ok) {
            nsets++;
        }
    }
    if (ok) {
        logs_series_t *series = NULL;
        size_t n = logs_store_series(api->store, sets, nsets, start, end, ar, &series);
        api_loki_json_series(resp, series, n);
    }
    for (size_t i = 0; i < nsets; i++) {
        api_loki_matchers_fini(sets[i].ms, sets[i].n);
    }
}

void api_loki_labels_index_stats(api_loki_t *api, http_req_t *req, http_resp_t *resp)
{
    int64_t start = 0, end = 0;
    if (!api_loki_bounds(api, req, resp, &start, &end)) {
        return;
    }
    if (end < start) {
        api_loki_error(resp, 400, "end timestamp must not be before or equal to start time");
        return;
    }
    matcher_t *ms = NULL;
    size_t nms = 0;
    if (!api_loki_matchers(req, resp, api_loki_arg(req, "query"), &ms, &nms)) {
        return;
    }
    logs_matchset_t set = { ms, nms };
    logs_index_stats_t st = { 0 };
    logs_store_index_stats(api->store, &set, nms ? 1 : 0, start, end, &st);
    api_loki_matchers_fini(ms, nms);
    resp->status = 200;
    resp->content_type = "application/json; charset=UTF-8";
    buf_reset(&resp->body);
    buf_printf(&resp->body, "{\"streams\":%llu,\"chunks\":%llu,\"entries\":%llu,\"bytes\":%llu}",
               (unsigned long long)st.streams, (unsigned long long)st.chunks, (unsigned long long)st.entries,
               (unsigned long long)st.bytes);
}

void api_loki_labels_buildinfo(api_loki_t *api, http_req_t *req, http_resp_t *resp)
{
    (void)req;
    resp->status = 200;
    resp->content_type = "application/json; charset=UTF-8";
    buf_reset(&resp->body);
    buf_puts(&resp->body, "{\"version\":");
    json_cstr(&resp->body, api->version);
    buf_puts(&resp->body,
             ",\"revision\":\"" API_LOKI_REVISION "\",\"branch\":\"\",\"buildUser\":\"\",\"buildDate\":\"\","
             "\"goVersion\":\"\"}");
}

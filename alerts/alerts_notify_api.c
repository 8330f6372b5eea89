/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_notify_api: Alertmanager 0.25's API v2 (api/v2/openapi.yaml) on
 * the notifier: GET/POST /api/v2/alerts, GET /api/v2/alerts/groups,
 * GET/POST /api/v2/silences,
 * GET/DELETE /api/v2/silence/{id}, GET /api/v2/status, GET
 * /api/v2/receivers.
 *
 * Bodies are parsed with jansson and answered with json_out, field order
 * as go-swagger writes it (allOf parts concatenated, each part's fields in
 * alphabetical order), times as RFC 3339 with milliseconds, fingerprints
 * as 16 hex digits. Errors are JSON strings with Alertmanager's texts
 * (400 for validation, 404 for an unknown silence). Every handler takes
 * the notifier's lock for the time it reads or changes state, never
 * across I/O other than the state file written after a change. Reads
 * build the inhibit index once per request (O(rules x alerts)), then ask
 * it per alert. GET /api/v2/status serves the config text with its
 * secrets redacted (alerts_notify_redact, done once per load).
 *
 * Bounds on the unauthenticated writes: silences (AN_SIL_MAX_*: live
 * count, matchers, comment and createdBy bytes; rejections counted) and
 * alerts (AN_ALERT_MAX_*: labels and annotations per alert, name and
 * value bytes); a POSTed batch is bounded by the server's body limit.
 */
#include <stdlib.h>
#include <string.h>

#include "alerts/alerts_int.h"
#include "common/json_out.h"
#include "common/mem.h"

/* ---- redaction of the config text ---- */

/* Secret keys that are not in a receiver's field table: the global
 * defaults merged into receivers, PagerDuty's v1 key and the secrets of
 * Alertmanager's http_config. */
static const char *const extra_secret_keys[] = { "slack_api_url", "smtp_auth_password", "smtp_auth_secret",
                                                 "service_key",   "password",           "bearer_token",
                                                 "credentials",   "client_secret" };
#define NEXTRA_KEYS (sizeof(extra_secret_keys) / sizeof(extra_secret_keys[0]))

static bool url_authority_end(char c)
{
    return strchr("/?# \t\r\n\"'`,}]<>", c) != NULL;
}

/* s[0..len) with every URL's userinfo ("://user:pw@") as "<secret>". */
static void redact_userinfo(const char *s, size_t len, buf_t *out)
{
    size_t i = 0;
    while (i < len) {
        size_t sep = i;
        while (sep + 3 <= len && memcmp(s + sep, "://", 3) != 0) {
            sep++;
        }
        if (sep + 3 > len) {
            buf_append(out, s + i, len - i);
            return;
        }
        size_t start = sep + 3;
        size_t end = start, at = SIZE_MAX;
        while (end < len && s[end] && !url_authority_end(s[end])) {
            if (s[end] == '@') {
                at = end;
            }
            end++;
        }
        buf_append(out, s + i, start - i);
        if (at != SIZE_MAX) {
            buf_puts(out, "<secret>");
            i = at;
        } else {
            i = start;
        }
    }
}

void alerts_notify_redact_url(const char *url, buf_t *out)
{
    redact_userinfo(url ? url : "", url ? strlen(url) : 0, out);
}

/* Does a secret key (optionally quoted) start at t[i], followed by
 * blanks and ':'? [out] *after: the position after the ':'. */
static bool secret_key_at(const char *t, size_t len, size_t i, const char *const *keys, size_t nkeys, size_t *after)
{
    char qc = t[i] == '"' || t[i] == '\'' ? t[i] : 0;
    size_t k = i + (qc ? 1 : 0);
    for (size_t j = 0; j < nkeys; j++) {
        size_t kl = strlen(keys[j]);
        if (len - k < kl || memcmp(t + k, keys[j], kl) != 0) {
            continue;
        }
        size_t p = k + kl;
        if (qc) {
            if (p >= len || t[p] != qc) {
                continue;
            }
            p++;
        }
        while (p < len && (t[p] == ' ' || t[p] == '\t')) {
            p++;
        }
        if (p < len && t[p] == ':') {
            *after = p + 1;
            return true;
        }
    }
    return false;
}

/* Skip the value starting at t[p] of a key at column col: up to the end
 * of the line (block) or the next ',', '}', ']' (flow), a quoted value
 * whole, and in block style the following lines indented deeper than
 * the key (a block scalar or a continued plain scalar). Returns where the
 * copy resumes. */
static size_t skip_value(const char *t, size_t len, size_t p, bool flow, size_t col)
{
    size_t e = p;
    while (e < len && (t[e] == ' ' || t[e] == '\t')) {
        e++;
    }
    if (e < len && (t[e] == '"' || t[e] == '\'')) {
        char q = t[e++];
        while (e < len) {
            if (q == '"' && t[e] == '\\' && e + 1 < len) {
                e += 2;
                continue;
            }
            if (t[e] == q) {
                if (q == '\'' && e + 1 < len && t[e + 1] == '\'') {
                    e += 2;
                    continue;
                }
                e++;
                break;
            }
            e++;
        }
    }
    while (e < len && t[e] != '\n' && !(flow && (t[e] == ',' || t[e] == '}' || t[e] == ']'))) {
        e++;
    }
    if (flow) {
        return e;
    }
    while (e < len) { /* t[e] == '\n': swallow deeper-indented lines */
        size_t k = e + 1;
        while (k < len && t[k] == ' ') {
            k++;
        }
        bool blank = k >= len || t[k] == '\n' || t[k] == '\r';
        if (k >= len || (!blank && k - (e + 1) <= col)) {
            break;
        }
        e = k;
        while (e < len && t[e] != '\n') {
            e++;
        }
    }
    return e;
}

void alerts_notify_redact(const char *t, size_t len, const alerts_recv_type_t *types, size_t ntypes, buf_t *out)
{
    size_t cap = NEXTRA_KEYS;
    for (size_t i = 0; i < ntypes; i++) {
        for (const alerts_recv_field_t *f = types[i].fields; f && f->key; f++) {
            cap++;
        }
    }
    const char **keys = mem_alloc((cap + 1) * sizeof(*keys));
    size_t nkeys = 0;
    for (size_t i = 0; i < NEXTRA_KEYS; i++) {
        keys[nkeys++] = extra_secret_keys[i];
    }
    for (size_t i = 0; i < ntypes; i++) {
        for (const alerts_recv_field_t *f = types[i].fields; f && f->key; f++) {
            if (f->type == ALERTS_RECV_F_SECRET) {
                keys[nkeys++] = f->key;
            }
        }
    }
    buf_t tmp = { 0 };
    size_t depth = 0, line = 0;
    char q = 0;
    for (size_t i = 0; i < len;) {
        char c = t[i];
        if (q) {
            if (q == '"' && c == '\\' && i + 1 < len) {
                buf_append(&tmp, t + i, 2);
                i += 2;
                continue;
            }
            if (c == q) {
                q = 0;
            }
            if (c == '\n') {
                line = i + 1;
            }
            buf_putc(&tmp, c);
            i++;
            continue;
        }
        if (c == '\n') {
            line = i + 1;
            buf_putc(&tmp, c);
            i++;
            continue;
        }
        bool boundary = i == 0 || strchr(" \t{,[\n", t[i - 1]) != NULL;
        if (c == '#' && boundary) { /* a comment: copied (URLs still redacted) */
            size_t e = i;
            while (e < len && t[e] != '\n') {
                e++;
            }
            buf_append(&tmp, t + i, e - i);
            i = e;
            continue;
        }
        size_t after;
        if (boundary && secret_key_at(t, len, i, keys, nkeys, &after)) {
            buf_append(&tmp, t + i, after - i);
            buf_puts(&tmp, " <secret>");
            i = skip_value(t, len, after, depth > 0, i - line);
            continue;
        }
        if (c == '"' || c == '\'') {
            q = c;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
        buf_putc(&tmp, c);
        i++;
    }
    redact_userinfo(tmp.len ? (const char *)tmp.data : "", tmp.len, out);
    buf_fini(&tmp);
    mem_free(keys);
}

/* ---- answers ---- */

static void json_err(http_resp_t *resp, int status, const char *msg)
{
    resp->status = status;
    resp->content_type = "application/json";
    buf_reset(&resp->body);
    json_cstr(&resp->body, msg);
    buf_putc(&resp->body, '\n');
}

/* go-swagger's error object: {"code":N,"message":"..."}. */
static void swagger_err(http_resp_t *resp, int status, int code, const char *msg)
{
    resp->status = status;
    resp->content_type = "application/json";
    buf_reset(&resp->body);
    buf_printf(&resp->body, "{\"code\":%d,\"message\":", code);
    json_cstr(&resp->body, msg);
    buf_puts(&resp->body, "}\n");
}

/* go-openapi's strfmt UUID: 8-4-4-4-12 hex digits (hyphens optional),
 * version 1-5, variant 8-b. */
static bool is_uuid(const char *s)
{
    static const int groups[] = { 8, 4, 4, 4, 12 };
    size_t k = 0;
    for (size_t g = 0; g < 5; g++) {
        if (g > 0 && s[k] == '-') {
            k++;
        }
        for (int i = 0; i < groups[g]; i++, k++) {
            if (str_hex_digit((unsigned char)s[k]) < 0) {
                return false;
            }
            if ((g == 2 && i == 0 && (s[k] < '1' || s[k] > '5')) || (g == 3 && i == 0 && !strchr("89abAB", s[k]))) {
                return false;
            }
        }
    }
    return s[k] == 0;
}

static void json_time(buf_t *b, int64_t ms)
{
    char t[40];
    size_t n = time_format_rfc3339(ms, t);
    json_str(b, t, n);
}

static bool arg_bool(http_req_t *req, const char *name, bool def, bool *bad)
{
    const char *v = http_req_arg(req, name);
    if (!v) {
        return def;
    }
    bool b;
    if (!str_parse_bool(str_cstr(v), &b)) {
        *bad = true;
        return def;
    }
    return b;
}

/* filter= matchers of the request: 0, or -1 after answering 400. */
static int parse_filters(http_req_t *req, http_resp_t *resp, matcher_t **ms, size_t *n)
{
    const char **vals = NULL;
    size_t nv = http_req_args(req, "filter", &vals);
    for (size_t i = 0; i < nv; i++) {
        buf_t err = { 0 };
        if (alerts_route_parse_matchers(vals[i], strlen(vals[i]), ms, n, &err) != 0) {
            json_err(resp, 400, (const char *)err.data);
            buf_fini(&err);
            return -1;
        }
        buf_fini(&err);
    }
    return 0;
}

static void free_matchers(matcher_t *ms, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        matcher_fini(&ms[i]);
    }
    mem_free(ms);
}

static bool filters_match(matcher_t *ms, size_t n, const label_t *ls, size_t nls)
{
    for (size_t i = 0; i < n; i++) {
        if (!matcher_matches(&ms[i], labels_get(ls, nls, ms[i].name))) {
            return false;
        }
    }
    return true;
}

static int cmp_alert_hex(const void *x, const void *y)
{
    uint64_t a = (*(an_alert_t *const *)x)->fp, b = (*(an_alert_t *const *)y)->fp;
    return a < b ? -1 : a > b;
}

/* GettableAlert JSON of a (fields in go-swagger's order). */
static void alert_json(buf_t *b, const an_alert_t *a, const amcfg_route_t *const *routes, size_t nr, bool muted,
                       bool inh, uint64_t by, const buf_t *sil)
{
    buf_puts(b, "{\"annotations\":");
    json_labels(b, a->annotations, a->nannotations);
    buf_puts(b, ",\"endsAt\":");
    json_time(b, a->ends_at_ms);
    buf_printf(b, ",\"fingerprint\":\"%016llx\",\"receivers\":[", (unsigned long long)a->fp);
    for (size_t r = 0; r < nr; r++) { /* one per matching route, as Alertmanager lists them */
        buf_puts(b, r ? ",{\"name\":" : "{\"name\":");
        json_cstr(b, routes[r]->receiver);
        buf_putc(b, '}');
    }
    buf_puts(b, "],\"startsAt\":");
    json_time(b, a->starts_at_ms);
    buf_puts(b, ",\"status\":{\"inhibitedBy\":[");
    if (inh) {
        buf_printf(b, "\"%016llx\"", (unsigned long long)by);
    }
    buf_puts(b, "],\"silencedBy\":[");
    const char *p = sil->len ? (const char *)sil->data : NULL;
    bool f2 = true;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        if (!f2) {
            buf_putc(b, ',');
        }
        f2 = false;
        json_str(b, p, (size_t)(nl - p));
        p = nl + 1;
    }
    buf_puts(b, "],\"state\":");
    json_cstr(b, muted ? "suppressed" : "active");
    buf_puts(b, "},\"updatedAt\":");
    json_time(b, a->updated_at_ms);
    if (a->generator_url[0]) { /* omitempty */
        buf_puts(b, ",\"generatorURL\":");
        json_cstr(b, a->generator_url);
    }
    buf_puts(b, ",\"labels\":");
    json_labels(b, a->labels, a->nlabels);
    buf_putc(b, '}');
}

/* The query parameters of GET /api/v2/alerts and /alerts/groups. */
typedef struct alert_filter {
    bool active, silenced, inhibited;
    matcher_t *fms;
    size_t nf;
    matcher_t recv_re;
    bool has_recv;
} alert_filter_t;

static void filter_fini(alert_filter_t *f)
{
    free_matchers(f->fms, f->nf);
    if (f->has_recv) {
        matcher_fini(&f->recv_re);
    }
}

/* 0, or -1 after answering 400. */
static int filter_parse(http_req_t *req, http_resp_t *resp, alert_filter_t *f)
{
    memset(f, 0, sizeof(*f));
    bool bad = false;
    f->active = arg_bool(req, "active", true, &bad);
    f->silenced = arg_bool(req, "silenced", true, &bad);
    f->inhibited = arg_bool(req, "inhibited", true, &bad);
    arg_bool(req, "unprocessed", true, &bad);
    if (bad) {
        json_err(resp, 400, "active, silenced, inhibited and unprocessed must be booleans");
        return -1;
    }
    if (parse_filters(req, resp, &f->fms, &f->nf) != 0) {
        return -1;
    }
    const char *rv = http_req_arg(req, "receiver");
    if (rv) {
        char why[256];
        if (matcher_init(&f->recv_re, MATCH_RE, STR_LIT("receiver"), str_cstr(rv), why, sizeof(why)) != 0) {
            json_err(resp, 400, why);
            return -1;
        }
        f->has_recv = true;
    }
    return 0;
}

/* The state of a and whether f shows it (ix: the request's inhibit
 * index); [out] routes (room for AN_MAX_ROUTES), *nr, sil (ids), *by, *inh, *muted.
 * mu held. */
static bool filter_alert(alerts_notifier_t *n, const an_inhibit_idx_t *ix, alert_filter_t *f, const an_alert_t *a,
                         int64_t now, const amcfg_route_t **routes, size_t *nr, buf_t *sil, uint64_t *by, bool *inh,
                         bool *muted)
{
    if (alerts_alert_resolved(a, now) || !filters_match(f->fms, f->nf, a->labels, a->nlabels)) {
        return false;
    }
    *nr = n->d.cfg ? alerts_route_match(n->d.cfg->root, a->labels, a->nlabels, routes, AN_MAX_ROUTES) : 0;
    if (f->has_recv) {
        bool any = false;
        for (size_t r = 0; r < *nr && !any; r++) {
            any = matcher_matches(&f->recv_re, str_cstr(routes[r]->receiver));
        }
        if (!any) {
            return false;
        }
    }
    buf_reset(sil);
    *by = 0;
    *inh = false;
    *muted = alerts_dispatch_muted(&n->d, ix, a, now, sil, by, inh);
    return !((!*muted && !f->active) || (sil->len > 0 && !f->silenced) || (*inh && !f->inhibited));
}

/* Append the alerts of v[0..nv) that f shows to b, comma-separated, and
 * return how many; sil is scratch. O(nv) route matches. mu held. */
static size_t emit_alerts(alerts_notifier_t *n, const an_inhibit_idx_t *ix, alert_filter_t *f, an_alert_t *const *v,
                          size_t nv, int64_t now, buf_t *sil, buf_t *b)
{
    size_t shown = 0;
    for (size_t i = 0; i < nv; i++) {
        const amcfg_route_t *routes[AN_MAX_ROUTES];
        size_t nr;
        uint64_t by;
        bool inh, muted;
        if (!filter_alert(n, ix, f, v[i], now, routes, &nr, sil, &by, &inh, &muted)) {
            continue;
        }
        buf_puts(b, shown ? "," : "");
        shown++;
        alert_json(b, v[i], routes, nr, muted, inh, by, sil);
    }
    return shown;
}

/* A mem_alloc copy (the caller frees) of the n elements of size bytes at
 * v, sorted by cmp: the API's order without touching the store's. */
static void *sorted_copy(const void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    void *c = mem_alloc((n + 1) * size);
    if (n) {
        memcpy(c, v, n * size);
    }
    qsort(c, n, size, cmp);
    return c;
}

static void get_alerts(alerts_notifier_t *n, http_req_t *req, http_resp_t *resp)
{
    alert_filter_t f;
    if (filter_parse(req, resp, &f) != 0) {
        filter_fini(&f);
        return;
    }
    pthread_mutex_lock(&n->mu);
    int64_t now = clock_now_ms(&n->clock);
    an_alert_t **v = sorted_copy(n->d.store.v, n->d.store.n, sizeof(*v), cmp_alert_hex);
    an_inhibit_idx_t ix = { 0 };
    alerts_inhibit_index(n->d.cfg, &n->d.store, now, &ix);
    buf_t *b = &resp->body;
    buf_putc(b, '[');
    buf_t sil = { 0 };
    emit_alerts(n, &ix, &f, v, n->d.store.n, now, &sil, b);
    buf_puts(b, "]\n");
    alerts_inhibit_index_fini(&ix);
    pthread_mutex_unlock(&n->mu);
    resp->content_type = "application/json";
    buf_fini(&sil);
    mem_free(v);
    filter_fini(&f);
}

/* AlertGroups order: by labels (model.LabelSet.Before), then receiver. */
static int cmp_group(const void *x, const void *y)
{
    const an_group_t *a = *(an_group_t *const *)x, *b = *(an_group_t *const *)y;
    for (size_t i = 0; i < a->nglabels && i < b->nglabels; i++) {
        int c = str_cmp(a->glabels[i].name, b->glabels[i].name);
        if (c == 0) {
            c = str_cmp(a->glabels[i].value, b->glabels[i].value);
        }
        if (c != 0) {
            return c;
        }
    }
    if (a->nglabels != b->nglabels) {
        return a->nglabels < b->nglabels ? -1 : 1;
    }
    return strcmp(a->route->receiver, b->route->receiver);
}

static void get_groups(alerts_notifier_t *n, http_req_t *req, http_resp_t *resp)
{
    alert_filter_t f;
    if (filter_parse(req, resp, &f) != 0) {
        filter_fini(&f);
        return;
    }
    pthread_mutex_lock(&n->mu);
    int64_t now = clock_now_ms(&n->clock);
    an_group_t **gs = sorted_copy(n->d.groups, n->d.ngroups, sizeof(*gs), cmp_group);
    an_inhibit_idx_t ix = { 0 };
    alerts_inhibit_index(n->d.cfg, &n->d.store, now, &ix);
    buf_t *b = &resp->body;
    buf_putc(b, '[');
    bool gfirst = true;
    buf_t sil = { 0 };
    for (size_t g = 0; g < n->d.ngroups; g++) {
        const an_group_t *grp = gs[g];
        if (f.has_recv && !matcher_matches(&f.recv_re, str_cstr(grp->route->receiver))) {
            continue;
        }
        an_alert_t **v = mem_alloc((grp->nfps + 1) * sizeof(*v));
        size_t nv = 0;
        for (size_t i = 0; i < grp->nfps; i++) {
            an_alert_t *a = alerts_store_get(&n->d.store, grp->fps[i]);
            if (a) {
                v[nv++] = a;
            }
        }
        qsort(v, nv, sizeof(*v), cmp_alert_hex);
        size_t mark = b->len;
        buf_puts(b, gfirst ? "{\"alerts\":[" : ",{\"alerts\":[");
        size_t shown = emit_alerts(n, &ix, &f, v, nv, now, &sil, b);
        mem_free(v);
        if (shown == 0) { /* no alert shown: no group */
            b->len = mark;
            b->data[mark] = 0;
            continue;
        }
        gfirst = false;
        buf_puts(b, "],\"labels\":");
        json_labels(b, grp->glabels, grp->nglabels);
        buf_puts(b, ",\"receiver\":{\"name\":");
        json_cstr(b, grp->route->receiver);
        buf_puts(b, "}}");
    }
    buf_puts(b, "]\n");
    alerts_inhibit_index_fini(&ix);
    pthread_mutex_unlock(&n->mu);
    resp->content_type = "application/json";
    buf_fini(&sil);
    mem_free(gs);
    filter_fini(&f);
}

/* Optional member o (absent: no labels) as labels borrowed from it;
 * NULL and *bad when present but not an object of strings. */
static label_t *obj_labels(json_t *o, size_t *n, bool *bad)
{
    *n = 0;
    if (!o) {
        return NULL;
    }
    label_t *ls = alerts_json_labels(o, n);
    *bad = ls == NULL;
    return ls;
}

/* model.LabelSet.Validate plus the AN_ALERT_MAX_* bounds: 0, or -1 with
 * what, ": " and the first problem appended to err. */
static int validate_set(const label_t *ls, size_t n, const char *what, buf_t *err)
{
    if (n > AN_ALERT_MAX_LABELS) {
        buf_printf(err, "%s: too many labels (%zu, at most %d)", what, n, AN_ALERT_MAX_LABELS);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (ls[i].name.len > AN_ALERT_MAX_NAME || ls[i].value.len > AN_ALERT_MAX_VALUE) {
            buf_printf(err, "%s: label name longer than %d bytes or value longer than %d bytes", what,
                       AN_ALERT_MAX_NAME, AN_ALERT_MAX_VALUE);
            return -1;
        }
        if (!labels_valid_label_name(ls[i].name)) {
            buf_printf(err, "%s: invalid name ", what);
            labels_quote(ls[i].name, err);
            return -1;
        }
        if (!str_utf8_valid(ls[i].value.p, ls[i].value.len)) {
            buf_printf(err, "%s: invalid value ", what);
            labels_quote(ls[i].value, err);
            return -1;
        }
    }
    return 0;
}

static bool opt_time(json_t *a, const char *key, int64_t *ms)
{
    json_t *v = json_object_get(a, key);
    *ms = 0;
    if (!v || json_is_null(v)) {
        return true;
    }
    int64_t ns;
    if (!json_is_string(v) || !time_parse_rfc3339_ns(json_string_value(v), json_string_length(v), &ns)) {
        return false;
    }
    *ms = ns / 1000000;
    return true;
}

static void post_alerts(alerts_notifier_t *n, http_req_t *req, http_resp_t *resp)
{
    size_t blen;
    const uint8_t *body = http_req_body(req, &blen);
    json_error_t je;
    json_t *j = json_loadb((const char *)body, blen, 0, &je);
    if (!json_is_array(j)) {
        buf_t m = { 0 };
        buf_puts(&m, "parsing alerts body from \"\" failed, because ");
        if (j) {
            buf_printf(&m, "json: cannot unmarshal %s into Go value of type models.PostableAlerts",
                       json_is_object(j)   ? "object"
                       : json_is_string(j) ? "string"
                       : json_is_number(j) ? "number"
                                           : "value");
        } else {
            buf_puts(&m, je.text);
        }
        swagger_err(resp, 400, 400, (const char *)m.data);
        buf_fini(&m);
        json_decref(j);
        return;
    }
    size_t na = json_array_size(j);
    alerts_alert_t *as = mem_calloc(na + 1, sizeof(*as));
    label_t **owned = mem_calloc(2 * na + 1, sizeof(*owned));
    size_t nvalid = 0;
    buf_t errs = { 0 };
    int64_t now = clock_now_ms(&n->clock);
    size_t invalid = 0;
    for (size_t i = 0; i < na; i++) {
        json_t *a = json_array_get(j, i);
        bool bad = !json_is_object(a);
        size_t nl = 0, nn = 0;
        label_t *ls = bad ? NULL : obj_labels(json_object_get(a, "labels"), &nl, &bad);
        label_t *an = bad ? NULL : obj_labels(json_object_get(a, "annotations"), &nn, &bad);
        owned[2 * i] = ls;
        owned[2 * i + 1] = an;
        int64_t st = 0, en = 0;
        json_t *gen = bad ? NULL : json_object_get(a, "generatorURL");
        buf_t e = { 0 };
        if (bad || !opt_time(a, "startsAt", &st) || !opt_time(a, "endsAt", &en) || (gen && !json_is_string(gen))) {
            buf_puts(&e, "parsing alert: labels and annotations must be objects of strings, startsAt and endsAt "
                         "RFC 3339 times");
        } else {
            if (ls) {
                nl = labels_normalize(ls, nl);
            }
            if (en != 0 && st == 0) {
                st = en;
            }
            int64_t st_eff = st ? st : now;
            if (en != 0 && en < st_eff) {
                buf_puts(&e, "start time must be before end time");
            } else if (validate_set(ls, nl, "invalid label set", &e) == 0) {
                if (nl == 0) {
                    buf_puts(&e, "at least one label pair required");
                } else {
                    validate_set(an, nn, "invalid annotations", &e);
                }
            }
        }
        if (e.len) {
            if (errs.len) {
                buf_puts(&errs, "; ");
            }
            buf_append(&errs, e.data, e.len);
            invalid++;
        } else {
            if (an) {
                nn = labels_normalize(an, nn);
            }
            as[nvalid++] = (alerts_alert_t){ .labels = ls,
                                             .nlabels = nl,
                                             .annotations = an,
                                             .nannotations = nn,
                                             .starts_at_ms = st,
                                             .ends_at_ms = en,
                                             .generator_url = gen ? json_string_value(gen) : "" };
        }
        buf_fini(&e);
    }
    alerts_notify_put(n, as, nvalid, false);
    if (invalid) {
        pthread_mutex_lock(&n->mu);
        n->alerts_invalid += invalid;
        pthread_mutex_unlock(&n->mu);
        json_err(resp, 400, (const char *)errs.data);
    } else {
        resp->status = 200;
    }
    for (size_t i = 0; i < 2 * na; i++) {
        mem_free(owned[i]);
    }
    mem_free(owned);
    mem_free(as);
    buf_fini(&errs);
    json_decref(j);
}

/* Silence order of GET /api/v2/silences: active by endsAt, pending by
 * startsAt, expired by endsAt descending. */
typedef struct sil_ord {
    an_silence_t *s;
    int state;
} sil_ord_t;

static int cmp_sil(const void *x, const void *y)
{
    const sil_ord_t *a = x, *b = y;
    static const int rank[] = { 2, 0, 1 }; /* expired, active, pending */
    if (rank[a->state] != rank[b->state]) {
        return rank[a->state] - rank[b->state];
    }
    int64_t ka, kb;
    if (a->state == AN_SIL_PENDING) {
        ka = a->s->starts_at_ms;
        kb = b->s->starts_at_ms;
    } else if (a->state == AN_SIL_ACTIVE) {
        ka = a->s->ends_at_ms;
        kb = b->s->ends_at_ms;
    } else {
        ka = b->s->ends_at_ms;
        kb = a->s->ends_at_ms;
    }
    return ka < kb ? -1 : ka > kb;
}

static void get_silences(alerts_notifier_t *n, http_req_t *req, http_resp_t *resp)
{
    matcher_t *fms = NULL;
    size_t nf = 0;
    if (parse_filters(req, resp, &fms, &nf) != 0) {
        free_matchers(fms, nf);
        return;
    }
    pthread_mutex_lock(&n->mu);
    int64_t now = clock_now_ms(&n->clock);
    sil_ord_t *v = mem_alloc((n->d.silences.n + 1) * sizeof(*v));
    size_t nv = 0;
    size_t lcap = 1; /* ls: one scratch set for every silence */
    label_t *ls = mem_alloc(lcap * sizeof(label_t));
    for (size_t i = 0; i < n->d.silences.n; i++) {
        an_silence_t *s = n->d.silences.v[i];
        if (s->nm > lcap) {
            lcap = s->nm;
            ls = mem_realloc(ls, lcap * sizeof(label_t));
        }
        size_t nl = 0;
        for (size_t k = 0; k < s->nm; k++) {
            if (s->sm[k].is_equal && !s->sm[k].is_regex) {
                ls[nl].name = str_cstr(s->sm[k].name);
                ls[nl].value = str_cstr(s->sm[k].value);
                nl++;
            }
        }
        labels_sort(ls, nl);
        if (filters_match(fms, nf, ls, nl)) {
            v[nv].s = s;
            v[nv].state = (int)alerts_silence_state(s, now);
            nv++;
        }
    }
    mem_free(ls);
    qsort(v, nv, sizeof(*v), cmp_sil);
    buf_putc(&resp->body, '[');
    for (size_t i = 0; i < nv; i++) {
        if (i) {
            buf_putc(&resp->body, ',');
        }
        alerts_silence_json(v[i].s, now, &resp->body);
    }
    buf_puts(&resp->body, "]\n");
    pthread_mutex_unlock(&n->mu);
    resp->content_type = "application/json";
    mem_free(v);
    free_matchers(fms, nf);
}

static void post_silences(alerts_notifier_t *n, http_req_t *req, http_resp_t *resp)
{
    size_t blen;
    const uint8_t *body = http_req_body(req, &blen);
    json_error_t je;
    json_t *j = json_loadb((const char *)body, blen, 0, &je);
    buf_t err = { 0 };
    an_silence_t *sil = NULL;
    if (!j) {
        buf_printf(&err, "parsing silence body from \"\" failed, because %s", je.text);
        swagger_err(resp, 400, 400, (const char *)err.data);
        buf_fini(&err);
        return;
    }
    int prc = alerts_silence_from_json(j, false, &sil, &err);
    if (prc == -3 || prc == -4) {
        swagger_err(resp, 422, prc == -3 ? 602 : 612, (const char *)err.data);
        goto out;
    }
    if (prc == -5) {
        buf_t m = { 0 };
        buf_printf(&m, "parsing silence body from \"\" failed, because %s", (const char *)err.data);
        swagger_err(resp, 400, 400, (const char *)m.data);
        buf_fini(&m);
        goto out;
    }
    if (prc != 0) {
        json_err(resp, 400, (const char *)err.data);
        goto out;
    }
    pthread_mutex_lock(&n->mu);
    int64_t now = clock_now_ms(&n->clock);
    if (sil->starts_at_ms >= sil->ends_at_ms) {
        pthread_mutex_unlock(&n->mu);
        alerts_silence_free(sil);
        json_err(resp, 400, "Failed to create silence: start time must be before end time");
        goto out;
    }
    if (sil->ends_at_ms < now) {
        pthread_mutex_unlock(&n->mu);
        alerts_silence_free(sil);
        json_err(resp, 400, "Failed to create silence: end time can't be in the past");
        goto out;
    }
    if (alerts_silence_check_limits(&n->d.silences, sil, now, &err) != 0) {
        n->silences_rejected++;
        pthread_mutex_unlock(&n->mu);
        alerts_silence_free(sil);
        json_err(resp, 400, (const char *)err.data);
        goto out;
    }
    char id[40];
    int rc = alerts_silence_set(&n->d.silences, sil, now, id, &err);
    if (rc == 0) {
        alerts_notify_save_silences(n);
        alerts_notify_kick(n);
    }
    pthread_mutex_unlock(&n->mu);
    if (rc == -2) {
        json_err(resp, 404, (const char *)err.data);
    } else if (rc != 0) {
        json_err(resp, 400, (const char *)err.data);
    } else {
        resp->content_type = "application/json";
        buf_puts(&resp->body, "{\"silenceID\":");
        json_cstr(&resp->body, id);
        buf_puts(&resp->body, "}\n");
    }
out:
    buf_fini(&err);
    json_decref(j);
}

/* GET and DELETE /api/v2/silence/{id}, as Alertmanager 0.25 answers:
 * a malformed id 422; GET of an unknown id 404 without a body; DELETE of
 * an unknown id 500 "silence not found"; DELETE of an expired silence 200
 * (nothing changes). */
static void silence_id(alerts_notifier_t *n, const char *method, const char *id, http_resp_t *resp)
{
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (!get && strcmp(method, "DELETE") != 0) {
        json_err(resp, 405, "method not allowed");
        return;
    }
    if (!is_uuid(id)) {
        buf_t m = { 0 };
        buf_puts(&m, "silenceID in path must be of type uuid: ");
        labels_quote(str_cstr(id), &m);
        swagger_err(resp, 422, 601, (const char *)m.data);
        buf_fini(&m);
        return;
    }
    pthread_mutex_lock(&n->mu);
    int64_t now = clock_now_ms(&n->clock);
    if (get) {
        an_silence_t *s = alerts_silence_get(&n->d.silences, id);
        if (s) {
            resp->content_type = "application/json";
            alerts_silence_json(s, now, &resp->body);
            buf_putc(&resp->body, '\n');
        } else {
            resp->status = 404;
        }
    } else {
        buf_t err = { 0 };
        int rc = alerts_silence_expire(&n->d.silences, id, now, &err);
        if (rc == 0) {
            alerts_notify_save_silences(n);
            alerts_notify_kick(n);
        }
        if (rc == -2) {
            json_err(resp, 500, "silence not found");
        } else {
            resp->status = 200;
        }
        buf_fini(&err);
    }
    pthread_mutex_unlock(&n->mu);
}

static void get_status(alerts_notifier_t *n, http_resp_t *resp)
{
    pthread_mutex_lock(&n->mu);
    int64_t now = clock_now_ms(&n->clock);
    buf_t *b = &resp->body;
    buf_puts(b, "{\"cluster\":{\"peers\":[],\"status\":\"disabled\"},\"config\":{\"original\":");
    json_cstr(b, n->cfg_served ? n->cfg_served : "");
    buf_puts(b, "},\"uptime\":");
    json_time(b, n->start_ms);
    buf_puts(b, ",\"versionInfo\":{\"branch\":\"\",\"buildDate\":\"\",\"buildUser\":\"\",\"goVersion\":\"\","
                "\"revision\":\"\",\"version\":\"pharos\"}}\n");
    (void)now;
    pthread_mutex_unlock(&n->mu);
    resp->content_type = "application/json";
}

static void get_receivers(alerts_notifier_t *n, http_resp_t *resp)
{
    pthread_mutex_lock(&n->mu);
    buf_putc(&resp->body, '[');
    for (size_t i = 0; n->d.cfg && i < n->d.cfg->nreceivers; i++) {
        buf_puts(&resp->body, i ? ",{\"name\":" : "{\"name\":");
        json_cstr(&resp->body, n->d.cfg->receivers[i].name);
        buf_putc(&resp->body, '}');
    }
    buf_puts(&resp->body, "]\n");
    pthread_mutex_unlock(&n->mu);
    resp->content_type = "application/json";
}

void alerts_notifier_api(alerts_notifier_t *n, http_req_t *req, http_resp_t *resp)
{
    if (!n) {
        json_err(resp, 503, "the notifier is not running");
        return;
    }
    const char *path = http_req_path(req);
    const char *m = http_req_method(req);
    bool get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
    bool post = strcmp(m, "POST") == 0;
    if (strcmp(path, "/api/v2/alerts/groups") == 0 && get) {
        get_groups(n, req, resp);
    } else if (strcmp(path, "/api/v2/alerts") == 0 && (get || post)) {
        if (get) {
            get_alerts(n, req, resp);
        } else {
            post_alerts(n, req, resp);
        }
    } else if (strcmp(path, "/api/v2/silences") == 0 && (get || post)) {
        if (get) {
            get_silences(n, req, resp);
        } else {
            post_silences(n, req, resp);
        }
    } else if (strncmp(path, "/api/v2/silence/", 16) == 0 && path[16]) {
        silence_id(n, m, path + 16, resp);
    } else if (strcmp(path, "/api/v2/status") == 0 && get) {
        get_status(n, resp);
    } else if (strcmp(path, "/api/v2/receivers") == 0 && get) {
        get_receivers(n, resp);
    } else if (strcmp(path, "/api/v2/alerts") == 0 || strcmp(path, "/api/v2/silences") == 0 ||
               strcmp(path, "/api/v2/status") == 0 || strcmp(path, "/api/v2/receivers") == 0) {
        json_err(resp, 405, "method not allowed");
    } else {
        json_err(resp, 404, "not found");
    }
}

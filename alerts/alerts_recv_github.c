/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_recv_github: one GitHub issue per aggregation group (ours).
 *
 * env->kv maps the group id (alerts_recv_group_id) to "creating <ms>",
 * "open <n>", "resolving <n>" (resolve comment posted, close not yet) or
 * "closed <n>". Each step is stored before the next, so a retry or a
 * restart redoes only what is not done:
 *   firing:   none, or closed and !reopen -> POST .../issues (new issue)
 *             open, resolving             -> comment
 *             closed and reopen           -> PATCH state open, comment
 *   resolved: open -> comment, PATCH closed;  resolving -> PATCH closed
 * Never created twice: "creating <ms>" is stored before the POST, and the
 * body ends with <!-- pharos:group=<id> --> <!-- pharos:created=<ms> -->.
 * A send that finds "creating" lists the issues updated since ms - 10 min
 * (state=all, one page of 100, up to 16 MiB) and adopts the one with both
 * markers; only if none has them is the issue created. A mapped issue
 * lost (404/410 on its comment or PATCH: deleted, transferred, issues
 * off; 403 naming a lock) is forgotten and a firing group opens a new one
 * (a locked one is closed first: never two open); resolved, it is done.
 *
 * Rate limits: 403/429 with Retry-After (<= 1 h) -> RETRY after it; with
 * x-ratelimit-remaining 0 -> RETRY until x-ratelimit-reset (at most 1 h),
 * no request before; a 403/429 naming a secondary rate limit -> RETRY
 * after 60 s. Other 4xx FAIL; 5xx and connection errors RETRY.
 */
#define _GNU_SOURCE /* strcasestr */
#include <assert.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alerts/alerts_int.h"
#include "common/json_out.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/str.h"

#define GH_TITLE_MAX 256
#define GH_BODY_MAX 60000
#define GH_SEARCH_SLACK_MS (10 * 60 * 1000)
#define GH_SECONDARY_WAIT_MS 60000
#define GH_RESET_WAIT_MAX_MS (3600 * 1000)
#define GH_LIST_MAX_BODY ((size_t)16 << 20) /* 100 issues of up to 65536 chars, JSON-escaped */

/* The group's labels, without the status (the title outlives it). */
#define GH_DEFAULT_TITLE                                                                                               \
    "{{ join \" \" .GroupLabels.SortedPairs.Values }}{{ if gt (len .CommonLabels) (len .GroupLabels) }} "              \
    "({{ with .CommonLabels.Remove .GroupLabels.Names }}{{ join \" \" .Values }}{{ end }}){{ end }}"
#define GH_DEFAULT_BODY                                                                                                \
    "**{{ template \"__subject\" . }}**\n"                                                                             \
    "{{ if gt (len .Alerts.Firing) 0 }}\n### Firing\n{{ template \"__text_alert_list_markdown\" .Alerts.Firing }}"     \
    "{{ end }}{{ if gt (len .Alerts.Resolved) 0 }}\n### Resolved\n"                                                    \
    "{{ template \"__text_alert_list_markdown\" .Alerts.Resolved }}{{ end }}"

typedef struct gh_cfg {
    const char *api_url;
    const char *owner;
    const char *repo;
    alerts_recv_secret_t token;
    alerts_recv_list_t labels;
    const char *title;
    const char *body;
    bool reopen;
    bool send_resolved;
} gh_cfg_t;

typedef struct gh_state {
    httpc_t *http;
    int64_t blocked_until_ms; /* x-ratelimit-remaining reached 0: no request before */
} gh_state_t;

const alerts_recv_field_t alerts_recv_github_fields[] = {
    { "api_url", ALERTS_RECV_F_STRING, offsetof(gh_cfg_t, api_url), "https://api.github.com",
      "REST API base URL (GitHub Enterprise: https://HOST/api/v3)" },
    { "owner", ALERTS_RECV_F_STRING, offsetof(gh_cfg_t, owner), NULL, "repository owner (required)" },
    { "repo", ALERTS_RECV_F_STRING, offsetof(gh_cfg_t, repo), NULL, "repository name (required)" },
    { "token", ALERTS_RECV_F_SECRET, offsetof(gh_cfg_t, token), NULL,
      "token sent as Bearer (secret; ${VAR} expanded)" },
    { "token_file", ALERTS_RECV_F_SECRET_FILE, offsetof(gh_cfg_t, token), NULL,
      "file holding the token, read at each send" },
    { "labels", ALERTS_RECV_F_LIST, offsetof(gh_cfg_t, labels), NULL, "labels of created issues" },
    { "title", ALERTS_RECV_F_STRING, offsetof(gh_cfg_t, title), GH_DEFAULT_TITLE,
      "issue title (template; rendered when the issue is created)" },
    { "body", ALERTS_RECV_F_STRING, offsetof(gh_cfg_t, body), GH_DEFAULT_BODY, "issue body and comments (template)" },
    { "reopen", ALERTS_RECV_F_BOOL, offsetof(gh_cfg_t, reopen), "false",
      "firing again after resolve: reopen the closed issue (true) or open a new one (false)" },
    { "send_resolved", ALERTS_RECV_F_BOOL, offsetof(gh_cfg_t, send_resolved), "true",
      "comment and close the issue when the group's alerts resolve" },
    { NULL },
};

static bool gh_name_ok(const char *s)
{
    if (!s || !*s) {
        return false;
    }
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.')) {
            return false;
        }
    }
    return true;
}

int alerts_recv_github_parse(yaml_document_t *doc, yaml_node_t *node, arena_t *a, void **cfg, buf_t *err)
{
    gh_cfg_t *c = arena_calloc(a, 1, sizeof(*c));
    if (alerts_recv_parse_fields(doc, node, alerts_recv_github_fields, a, c, err) != 0) {
        return -1;
    }
    static const char *const req[] = { "owner", "repo" };
    const char *vals[] = { c->owner, c->repo };
    for (size_t i = 0; i < 2; i++) {
        if (!vals[i]) {
            buf_printf(err, "line %u: %s: required", alerts_recv_key_line(doc, node, req[i]), req[i]);
            return -1;
        }
        if (!gh_name_ok(vals[i])) {
            buf_printf(err, "line %u: %s: invalid name \"%s\" (letters, digits, '-', '_', '.')",
                       alerts_recv_key_line(doc, node, req[i]), req[i], vals[i]);
            return -1;
        }
    }
    if (alerts_recv_secret_required(doc, node, &c->token, "token", err) != 0) {
        return -1;
    }
    if (strncmp(c->api_url, "http", 4) != 0) {
        buf_printf(err, "line %u: api_url: must be an http(s) URL", alerts_recv_key_line(doc, node, "api_url"));
        return -1;
    }
    *cfg = c;
    return 0;
}

bool alerts_recv_github_send_resolved(const void *cfg)
{
    return ((const gh_cfg_t *)cfg)->send_resolved;
}

void *alerts_recv_github_state_create(const void *cfg)
{
    (void)cfg;
    gh_state_t *s = mem_calloc(1, sizeof(*s));
    s->http = httpc_create(0);
    if (!s->http) {
        alerts_recv_github_state_destroy(s);
        return NULL;
    }
    httpc_set_max_body(s->http, HTTPC_MAX_BODY_SENDER);
    return s;
}

void alerts_recv_github_state_destroy(void *st)
{
    gh_state_t *s = st;
    if (!s) {
        return;
    }
    httpc_destroy(s->http);
    mem_free(s);
}

/* ---- one send ---- */

typedef enum gh_phase {
    GH_NONE,
    GH_CREATING,
    GH_OPEN,
    GH_RESOLVING,
    GH_CLOSED,
} gh_phase_t;

static const char *const gh_phase_names[] = { "", "creating", "open", "resolving", "closed" };

typedef enum gh_lost {
    GH_LOST_NO,
    GH_LOST_GONE,   /* 404 or 410: deleted, transferred, issues disabled */
    GH_LOST_LOCKED, /* 403 naming a lock: no comment will ever go in */
} gh_lost_t;

typedef struct gh_send {
    const gh_cfg_t *c;
    gh_state_t *s;
    const alerts_recv_env_t *env;
    const alerts_notification_t *n;
    alerts_send_result_t *res;
    char gid[33];
    buf_t auth; /* "Authorization: Bearer ..." */
    buf_t base; /* api_url/repos/owner/repo */
    gh_phase_t phase;
    int64_t num;    /* issue number, or the creating marker's ms */
    gh_lost_t lost; /* what the last answer says of the issue it named */
} gh_send_t;

static void gh_parse_mapping(const char *v, gh_phase_t *phase, int64_t *num)
{
    *phase = GH_NONE;
    *num = 0;
    for (int p = GH_CREATING; p <= GH_CLOSED; p++) {
        size_t k = strlen(gh_phase_names[p]);
        if (strncmp(v, gh_phase_names[p], k) == 0 && v[k] == ' ') {
            const char *d = v + k + 1;
            int64_t x = 0;
            /* digits only: no sign, no blanks, no overflow */
            if (*d >= '0' && *d <= '9' && str_parse_i64(str_cstr(d), &x)) {
                *phase = (gh_phase_t)p;
                *num = x;
            }
            return;
        }
    }
}

/* Persist (phase, num); 0, or -1 with res RETRY naming what is done. */
static int gh_put(gh_send_t *g, gh_phase_t phase, int64_t num, const char *done)
{
    char v[64];
    snprintf(v, sizeof(v), "%s %lld", gh_phase_names[phase], (long long)num);
    if (g->env->kv.put(g->env->kv.ctx, g->gid, phase == GH_NONE ? NULL : v) != 0) {
        alerts_recv_result(g->res, ALERTS_SEND_RETRY, 0, -1, "github: %s; storing the issue mapping failed", done);
        return -1;
    }
    g->phase = phase;
    g->num = num;
    return 0;
}

/* The wait until x-ratelimit-reset (epoch seconds) from now, in
 * [0, GH_RESET_WAIT_MAX_MS]; -1 when reset is not a number. No overflow
 * whatever the header holds. */
static int64_t gh_reset_wait(const char *reset, int64_t now)
{
    char *end = NULL;
    long long secs = strtoll(reset, &end, 10); /* saturates at LLONG_MIN/MAX */
    if (end == reset || *end != '\0') {
        return -1;
    }
    int64_t now_s = now / 1000;
    if (secs <= now_s) {
        return 0;
    }
    if (secs - now_s > GH_RESET_WAIT_MAX_MS / 1000) {
        return GH_RESET_WAIT_MAX_MS;
    }
    int64_t wait = (int64_t)secs * 1000 - now;
    return wait < 0 ? 0 : wait;
}

/* Classify one answer into g->res (OK leaves res OK) and g->lost; 0 on
 * 2xx, else -1. */
static int gh_check(gh_send_t *g, const httpc_result_t *hr, const char *what)
{
    char rem[32], reset[32];
    int64_t now = clock_now_ms(&g->env->clock);
    g->lost = GH_LOST_NO;
    if (httpc_last_header(g->s->http, "x-ratelimit-remaining", rem, sizeof(rem)) && strcmp(rem, "0") == 0 &&
        httpc_last_header(g->s->http, "x-ratelimit-reset", reset, sizeof(reset))) {
        int64_t wait = gh_reset_wait(reset, now);
        if (wait > 0) {
            g->s->blocked_until_ms = now + wait; /* now is a clock reading: + 1 h fits */
        }
    }
    if (hr->status == HTTPC_OK) {
        alerts_recv_result(g->res, ALERTS_SEND_OK, hr->http_code, -1, "%s", "");
        return 0;
    }
    alerts_recv_result_http(g->res, hr, what);
    if (hr->http_code == 403 || hr->http_code == 429) {
        int64_t wait = -1;
        if (hr->retry_after_ms >= 0) {
            wait = hr->retry_after_ms;
        } else if (g->s->blocked_until_ms > now) {
            wait = g->s->blocked_until_ms - now;
        } else if (hr->http_code == 429 || strcasestr(hr->error, "rate limit")) {
            wait = GH_SECONDARY_WAIT_MS;
        }
        if (wait >= 0) {
            g->res->status = ALERTS_SEND_RETRY;
            g->res->retry_after_ms = wait;
        } else if (hr->http_code == 403 && strcasestr(hr->error, "locked")) {
            g->lost = GH_LOST_LOCKED;
        }
    }
    if (hr->http_code == 404 || hr->http_code == 410) {
        g->lost = GH_LOST_GONE;
    }
    return -1;
}

static void gh_headers(gh_send_t *g, const char *hdrs[6])
{
    hdrs[0] = "Accept: application/vnd.github+json";
    hdrs[1] = "X-GitHub-Api-Version: 2022-11-28";
    hdrs[2] = "User-Agent: Pharos";
    hdrs[3] = "Content-Type: application/json";
    hdrs[4] = (const char *)g->auth.data;
    hdrs[5] = NULL;
}

/* One request; 0 on 2xx (response in resp), else -1 with g->res. */
static int gh_call(gh_send_t *g, const char *method, const char *url, const buf_t *body, buf_t *resp, const char *what)
{
    int64_t now = clock_now_ms(&g->env->clock);
    g->lost = GH_LOST_NO;
    if (g->s->blocked_until_ms > now) {
        int64_t wait = g->s->blocked_until_ms - now;
        alerts_recv_result(g->res, ALERTS_SEND_RETRY, 0, wait < GH_RESET_WAIT_MAX_MS ? wait : GH_RESET_WAIT_MAX_MS,
                           "github: rate limit exhausted until x-ratelimit-reset");
        return -1;
    }
    const char *hdrs[6];
    gh_headers(g, hdrs);
    httpc_result_t hr;
    httpc_set_timeout(g->s->http, g->env->timeout_ms);
    httpc_request(g->s->http, method, url, hdrs, body ? body->data : NULL, body ? body->len : 0, resp, &hr);
    return gh_check(g, &hr, what);
}

/* Rendered body (cut to GH_BODY_MAX runes) into out; with_markers adds the
 * hidden markers. 0 or -1 (template error in res). */
static int gh_render_body(gh_send_t *g, bool with_markers, int64_t created_ms, buf_t *out)
{
    if (alerts_recv_render("github.body", g->c->body, g->n, out, g->res) != 0) {
        return -1;
    }
    alerts_recv_truncate_runes(out, 0, GH_BODY_MAX);
    if (with_markers) {
        buf_printf(out, "\n\n<!-- pharos:group=%s --> <!-- pharos:created=%lld -->\n", g->gid, (long long)created_ms);
    }
    return 0;
}

static int gh_comment(gh_send_t *g)
{
    buf_t text = { 0 }, body = { 0 }, url = { 0 }, resp = { 0 };
    int rc = -1;
    if (gh_render_body(g, false, 0, &text) != 0) {
        goto out;
    }
    buf_puts(&body, "{\"body\":");
    json_str(&body, text.len ? (const char *)text.data : "", text.len);
    buf_putc(&body, '}');
    buf_printf(&url, "%s/issues/%lld/comments", (const char *)g->base.data, (long long)g->num);
    rc = gh_call(g, "POST", (const char *)url.data, &body, &resp, "github: comment");
out:
    buf_fini(&text);
    buf_fini(&body);
    buf_fini(&url);
    buf_fini(&resp);
    return rc;
}

static int gh_set_state(gh_send_t *g, bool open)
{
    buf_t url = { 0 }, resp = { 0 }, body = { 0 };
    buf_puts(&body, open ? "{\"state\":\"open\"}" : "{\"state\":\"closed\",\"state_reason\":\"completed\"}");
    buf_printf(&url, "%s/issues/%lld", (const char *)g->base.data, (long long)g->num);
    int rc = gh_call(g, "PATCH", (const char *)url.data, &body, &resp, open ? "github: reopen" : "github: close");
    buf_fini(&url);
    buf_fini(&resp);
    buf_fini(&body);
    return rc;
}

/* Whether an answer's "number" is an issue number (a positive integer):
 * it goes into URLs and the mapping. */
static bool gh_issue_number(const json_t *num)
{
    return json_is_integer(num) && json_integer_value(num) > 0;
}

/* Look for the issue a "creating <ms>" marker stands for. 1 found (phase
 * and num set, mapping stored), 0 not found, -1 error (res set). */
static int gh_find(gh_send_t *g)
{
    int64_t created_ms = g->num;
    char since[40];
    time_format_rfc3339(created_ms > GH_SEARCH_SLACK_MS ? created_ms - GH_SEARCH_SLACK_MS : 0, since);
    buf_t url = { 0 }, resp = { 0 };
    buf_printf(&url, "%s/issues?state=all&sort=created&direction=desc&per_page=100&since=%s",
               (const char *)g->base.data, since);
    size_t max_body = httpc_max_body(g->s->http);
    httpc_set_max_body(g->s->http, GH_LIST_MAX_BODY);
    int rc = gh_call(g, "GET", (const char *)url.data, NULL, &resp, "github: list issues");
    httpc_set_max_body(g->s->http, max_body);
    buf_fini(&url);
    if (rc != 0) {
        buf_fini(&resp);
        return -1;
    }
    char gmark[64], cmark[64];
    snprintf(gmark, sizeof(gmark), "<!-- pharos:group=%s -->", g->gid);
    snprintf(cmark, sizeof(cmark), "<!-- pharos:created=%lld -->", (long long)created_ms);
    json_error_t jerr;
    json_t *root = json_loadb((const char *)resp.data, resp.len, 0, &jerr);
    buf_fini(&resp);
    if (!json_is_array(root)) {
        json_decref(root);
        alerts_recv_result(g->res, ALERTS_SEND_RETRY, 200, -1, "github: list issues: unexpected answer");
        return -1;
    }
    int found = 0;
    size_t i;
    json_t *it;
    json_array_foreach(root, i, it)
    {
        const char *body = json_string_value(json_object_get(it, "body"));
        json_t *num = json_object_get(it, "number");
        const char *state = json_string_value(json_object_get(it, "state"));
        if (!body || !gh_issue_number(num) || json_object_get(it, "pull_request") || !strstr(body, gmark) ||
            !strstr(body, cmark)) {
            continue;
        }
        bool open = !state || strcmp(state, "closed") != 0;
        found = 1;
        if (gh_put(g, open ? GH_OPEN : GH_CLOSED, (int64_t)json_integer_value(num), "issue found") != 0) {
            found = -1;
        }
        break;
    }
    json_decref(root);
    return found;
}

static int gh_create(gh_send_t *g)
{
    int64_t created_ms = clock_now_ms(&g->env->clock);
    buf_t title = { 0 }, text = { 0 }, body = { 0 }, url = { 0 }, resp = { 0 };
    int rc = -1;
    if (alerts_recv_render("github.title", g->c->title, g->n, &title, g->res) != 0 ||
        gh_render_body(g, true, created_ms, &text) != 0) {
        goto out;
    }
    alerts_recv_truncate_runes(&title, 0, GH_TITLE_MAX);
    if (gh_put(g, GH_CREATING, created_ms, "nothing done") != 0) {
        goto out;
    }
    buf_puts(&body, "{\"title\":");
    json_str(&body, title.len ? (const char *)title.data : "Pharos alert", title.len ? title.len : 12);
    buf_puts(&body, ",\"body\":");
    json_str(&body, (const char *)text.data, text.len);
    buf_puts(&body, ",\"labels\":[");
    for (size_t i = 0; i < g->c->labels.n; i++) {
        buf_puts(&body, i ? "," : "");
        json_cstr(&body, g->c->labels.v[i]);
    }
    buf_puts(&body, "]}");
    buf_printf(&url, "%s/issues", (const char *)g->base.data);
    if (gh_call(g, "POST", (const char *)url.data, &body, &resp, "github: create issue") != 0) {
        if (g->res->status == ALERTS_SEND_FAIL) {
            /* Refused (4xx): nothing was created, drop the marker. */
            alerts_send_result_t keep = *g->res;
            (void)gh_put(g, GH_NONE, 0, "create refused");
            *g->res = keep;
        }
        goto out;
    }
    json_error_t jerr;
    json_t *root = json_loadb((const char *)resp.data, resp.len, 0, &jerr);
    json_t *num = json_object_get(root, "number");
    if (!gh_issue_number(num)) {
        json_decref(root);
        alerts_recv_result(g->res, ALERTS_SEND_RETRY, 201, -1, "github: create issue: answer without a number");
        goto out;
    }
    int64_t number = (int64_t)json_integer_value(num);
    json_decref(root);
    char done[64];
    snprintf(done, sizeof(done), "issue #%lld created", (long long)number);
    rc = gh_put(g, GH_OPEN, number, done);
out:
    buf_fini(&title);
    buf_fini(&text);
    buf_fini(&body);
    buf_fini(&url);
    buf_fini(&resp);
    return rc;
}

/* The mapped issue answered g->lost: forget it (a locked one is closed
 * first, best effort: a group never keeps two open issues). 0, or -1
 * with res RETRY when the mapping could not be dropped. */
static int gh_forget(gh_send_t *g)
{
    assert(g->lost != GH_LOST_NO);
    log_warn("github: issue #%lld of %s/%s is %s (%s); group %s forgets it%s", (long long)g->num, g->c->owner,
             g->c->repo, g->lost == GH_LOST_GONE ? "gone" : "locked", g->res->msg, g->gid,
             g->n->nfiring > 0 ? " and opens a new issue" : "");
    if (g->lost == GH_LOST_LOCKED && g->phase != GH_CLOSED) {
        alerts_send_result_t keep = *g->res;
        (void)gh_set_state(g, false);
        *g->res = keep;
    }
    return gh_put(g, GH_NONE, 0, "issue lost");
}

/* Firing, with an open issue mapped: comment, or replace a lost issue. */
static void gh_fire_open(gh_send_t *g)
{
    if (gh_comment(g) != 0 && g->lost != GH_LOST_NO && gh_forget(g) == 0) {
        (void)gh_create(g);
    }
}

static void gh_run(gh_send_t *g)
{
    bool firing = g->n->nfiring > 0;
    if (g->phase == GH_CREATING) {
        int f = gh_find(g);
        if (f < 0) {
            return;
        }
        if (f == 0) {
            g->phase = GH_NONE;
        }
    }
    char done[64];
    snprintf(done, sizeof(done), "issue #%lld updated", (long long)g->num);
    if (firing) {
        switch (g->phase) {
        case GH_NONE:
        case GH_CREATING:
            (void)gh_create(g);
            return;
        case GH_CLOSED:
            if (!g->c->reopen) {
                (void)gh_create(g);
                return;
            }
            if (gh_set_state(g, true) != 0) {
                if (g->lost != GH_LOST_NO && gh_forget(g) == 0) {
                    (void)gh_create(g);
                }
                return;
            }
            if (gh_put(g, GH_OPEN, g->num, done) != 0) {
                return;
            }
            gh_fire_open(g);
            return;
        case GH_RESOLVING:
            /* resolve comment posted, close not: the issue is still open */
            if (gh_put(g, GH_OPEN, g->num, "nothing done") != 0) {
                return;
            }
            gh_fire_open(g);
            return;
        case GH_OPEN:
            gh_fire_open(g);
            return;
        }
        return;
    }
    switch (g->phase) {
    case GH_OPEN:
        if (gh_comment(g) != 0) {
            if (g->lost == GH_LOST_GONE) {
                if (gh_forget(g) == 0) {
                    alerts_recv_result(g->res, ALERTS_SEND_OK, 0, -1, "%s", "");
                }
                return;
            }
            if (g->lost != GH_LOST_LOCKED) {
                return;
            }
            /* locked: no resolve comment can go in; close it all the same */
        }
        if (gh_put(g, GH_RESOLVING, g->num, done) != 0) {
            return;
        }
        /* fall through */
    case GH_RESOLVING:
        if (gh_set_state(g, false) != 0) {
            if (g->lost == GH_LOST_GONE && gh_forget(g) == 0) {
                alerts_recv_result(g->res, ALERTS_SEND_OK, 0, -1, "%s", "");
            }
            return;
        }
        (void)gh_put(g, GH_CLOSED, g->num, done);
        return;
    default:
        alerts_recv_result(g->res, ALERTS_SEND_OK, 0, -1, "%s", "");
        return;
    }
}

void alerts_recv_github_send(const void *cfg, void *st, const alerts_recv_env_t *env, const alerts_notification_t *n,
                             alerts_send_result_t *res)
{
    gh_send_t g = { .c = cfg, .s = st, .env = env, .n = n, .res = res };
    buf_t token = { 0 }, val = { 0 };
    alerts_recv_result(res, ALERTS_SEND_OK, 0, -1, "%s", "");
    if (!g.s) {
        alerts_recv_result(res, ALERTS_SEND_RETRY, 0, -1, "github: no HTTP client");
        return;
    }
    if (!env->kv.get || !env->kv.put) {
        alerts_recv_result(res, ALERTS_SEND_FAIL, 0, -1, "github: no state store for the issue mapping");
        return;
    }
    if (alerts_recv_secret_get(&g.c->token, "token", &token, res) != 0) {
        goto out;
    }
    buf_puts(&g.auth, "Authorization: Bearer ");
    buf_append(&g.auth, token.data, token.len);
    size_t ulen = strlen(g.c->api_url);
    while (ulen > 0 && g.c->api_url[ulen - 1] == '/') {
        ulen--;
    }
    buf_printf(&g.base, "%.*s/repos/%s/%s", (int)ulen, g.c->api_url, g.c->owner, g.c->repo);
    alerts_recv_group_id(n->group_key ? n->group_key : "", g.gid);
    if (env->kv.get(env->kv.ctx, g.gid, &val) == 1) {
        gh_parse_mapping(val.len ? (const char *)val.data : "", &g.phase, &g.num);
    }
    gh_run(&g);
out:
    alerts_recv_secret_fini(&g.auth);
    alerts_recv_secret_fini(&token);
    buf_fini(&g.base);
    buf_fini(&val);
}

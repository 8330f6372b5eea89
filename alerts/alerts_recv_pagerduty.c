/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_recv_pagerduty: PagerDuty Events API v2 (pagerduty_configs).
 *
 * One event per aggregation group, as Alertmanager sends:
 *   {"routing_key", "event_action": "trigger" (any alert firing) or
 *    "resolve", "dedup_key", "payload": {"summary" (<= 1024 runes, cut
 *    with "…"), "source", "severity", "component"?, "group"?, "class"?,
 *    "custom_details": {details}}, "client"?, "client_url"?}
 * dedup_key is the group's stable id: the hex of the 128-bit XXH3 of its
 * group key (32 chars; alerts_recv_group_id), so a trigger, its repeats
 * and its resolve land on one PagerDuty alert across restarts
 * (Alertmanager: sha256 hex of the same key; same property).
 *
 * severity is a template (e.g. '{{ .CommonLabels.severity }}'); its
 * output is lower-cased and, when not one of critical, error, warning,
 * info (an absent label renders ""), replaced by "error" so the event is
 * still accepted. source defaults to client, as in Alertmanager.
 *
 * PagerDuty refuses events over 512 KB (400: the page would be lost):
 * an event over PD_EVENT_MAX is rebuilt with custom_details replaced by
 * {"error": ...} and a warning logged, as Alertmanager does.
 *
 * Answers: 202 (any 2xx) OK; 429 and 5xx RETRY (Retry-After honoured);
 * other 4xx FAIL with PagerDuty's answer in msg.
 */
#include <ctype.h>
#include <string.h>

#include "alerts/alerts_int.h"
#include "common/json_out.h"
#include "common/log.h"
#include "common/mem.h"

#define PD_SUMMARY_MAX 1024
/* Alertmanager's maxEventSize: "512 KB" read as 512000, under 512 KiB too. */
#define PD_EVENT_MAX 512000
#define PD_DETAILS_REMOVED                                                                                             \
    "Custom details have been removed because the original event exceeds the maximum size of 512KB"

typedef struct pd_cfg {
    const char *url;
    alerts_recv_secret_t routing_key;
    const char *severity;
    const char *description;
    const char *client;
    const char *client_url;
    const char *source;
    const char *class_;
    const char *component;
    const char *group;
    alerts_recv_map_t details;
    bool send_resolved;
} pd_cfg_t;

typedef struct pd_state {
    httpc_t *http;
} pd_state_t;

const alerts_recv_field_t alerts_recv_pagerduty_fields[] = {
    { "url", ALERTS_RECV_F_STRING, offsetof(pd_cfg_t, url), "https://events.pagerduty.com/v2/enqueue",
      "Events API v2 endpoint" },
    { "routing_key", ALERTS_RECV_F_SECRET, offsetof(pd_cfg_t, routing_key), NULL,
      "integration key, 32 characters (secret; ${VAR} expanded)" },
    { "routing_key_file", ALERTS_RECV_F_SECRET_FILE, offsetof(pd_cfg_t, routing_key), NULL,
      "file holding the integration key, read at each send" },
    { "severity", ALERTS_RECV_F_STRING, offsetof(pd_cfg_t, severity), "error",
      "critical, error, warning or info (template; anything else becomes error)" },
    { "description", ALERTS_RECV_F_STRING, offsetof(pd_cfg_t, description),
      "{{ template \"pagerduty.default.description\" . }}", "payload.summary (template; cut to 1024 runes)" },
    { "summary", ALERTS_RECV_F_STRING, offsetof(pd_cfg_t, description), NULL, "same as description (overrides it)" },
    { "client", ALERTS_RECV_F_STRING, offsetof(pd_cfg_t, client), "{{ template \"pagerduty.default.client\" . }}",
      "client shown in PagerDuty (template)" },
    { "client_url", ALERTS_RECV_F_STRING, offsetof(pd_cfg_t, client_url),
      "{{ template \"pagerduty.default.clientURL\" . }}", "link back to the client (template)" },
    { "details", ALERTS_RECV_F_MAP, offsetof(pd_cfg_t, details), NULL,
      "payload.custom_details: map of templates, added to the defaults firing, resolved, num_firing, num_resolved" },
    { "source", ALERTS_RECV_F_STRING, offsetof(pd_cfg_t, source), NULL,
      "payload.source (template; default: the client)" },
    { "class", ALERTS_RECV_F_STRING, offsetof(pd_cfg_t, class_), NULL, "payload.class (template)" },
    { "component", ALERTS_RECV_F_STRING, offsetof(pd_cfg_t, component), NULL, "payload.component (template)" },
    { "group", ALERTS_RECV_F_STRING, offsetof(pd_cfg_t, group), NULL, "payload.group (template)" },
    { "send_resolved", ALERTS_RECV_F_BOOL, offsetof(pd_cfg_t, send_resolved), "true",
      "also notify when the group's alerts resolve" },
    { NULL },
};

static const char *const pd_default_details[] = {
    "firing",       "{{ template \"pagerduty.default.instances\" .Alerts.Firing }}",
    "num_firing",   "{{ .Alerts.Firing | len }}",
    "num_resolved", "{{ .Alerts.Resolved | len }}",
    "resolved",     "{{ template \"pagerduty.default.instances\" .Alerts.Resolved }}",
};

int alerts_recv_pagerduty_parse(yaml_document_t *doc, yaml_node_t *node, arena_t *a, void **cfg, buf_t *err)
{
    pd_cfg_t *c = arena_calloc(a, 1, sizeof(*c));
    if (alerts_recv_parse_fields(doc, node, alerts_recv_pagerduty_fields, a, c, err) != 0) {
        return -1;
    }
    if (alerts_recv_secret_required(doc, node, &c->routing_key, "routing_key", err) != 0) {
        return -1;
    }
    if (!c->url || strncmp(c->url, "http", 4) != 0) {
        buf_printf(err, "line %u: url: must be an http(s) URL", alerts_recv_key_line(doc, node, "url"));
        return -1;
    }
    /* Alertmanager adds each default detail the user did not set. */
    size_t nd = sizeof(pd_default_details) / sizeof(pd_default_details[0]) / 2;
    alerts_recv_map_t m = { .k = arena_calloc(a, c->details.n + nd, sizeof(*m.k)),
                            .v = arena_calloc(a, c->details.n + nd, sizeof(*m.v)) };
    for (size_t i = 0; i < c->details.n; i++) {
        m.k[m.n] = c->details.k[i];
        m.v[m.n++] = c->details.v[i];
    }
    for (size_t i = 0; i < nd; i++) {
        bool have = false;
        for (size_t j = 0; j < c->details.n; j++) {
            have = have || strcmp(c->details.k[j], pd_default_details[2 * i]) == 0;
        }
        if (!have) {
            m.k[m.n] = pd_default_details[2 * i];
            m.v[m.n++] = pd_default_details[2 * i + 1];
        }
    }
    c->details = m;
    *cfg = c;
    return 0;
}

bool alerts_recv_pagerduty_send_resolved(const void *cfg)
{
    return ((const pd_cfg_t *)cfg)->send_resolved;
}

void *alerts_recv_pagerduty_state_create(const void *cfg)
{
    (void)cfg;
    pd_state_t *s = mem_calloc(1, sizeof(*s));
    s->http = httpc_create(0);
    if (!s->http) {
        alerts_recv_pagerduty_state_destroy(s);
        return NULL;
    }
    httpc_set_max_body(s->http, HTTPC_MAX_BODY_SENDER);
    return s;
}

void alerts_recv_pagerduty_state_destroy(void *st)
{
    pd_state_t *s = st;
    if (!s) {
        return;
    }
    httpc_destroy(s->http);
    mem_free(s);
}

/* Render text as template name and append it to b as "key":"value",
 * (nothing when text is NULL or renders empty and omit_empty). */
static int pd_field(buf_t *b, const char *key, const char *name, const char *text, bool omit_empty,
                    const alerts_notification_t *n, alerts_send_result_t *res)
{
    if (!text) {
        return 0;
    }
    buf_t v = { 0 };
    if (alerts_recv_render(name, text, n, &v, res) != 0) {
        buf_fini(&v);
        return -1;
    }
    if (v.len > 0 || !omit_empty) {
        json_cstr(b, key);
        buf_putc(b, ':');
        json_str(b, v.len ? (const char *)v.data : "", v.len);
        buf_putc(b, ',');
    }
    buf_fini(&v);
    return 0;
}

static void pd_severity(const buf_t *in, buf_t *out)
{
    static const char *const ok[] = { "critical", "error", "warning", "info" };
    char low[16];
    size_t k = 0;
    for (size_t i = 0; i < in->len; i++) {
        char ch = (char)in->data[i];
        if (ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r') {
            continue;
        }
        if (k + 1 >= sizeof(low)) {
            k = 0;
            break;
        }
        low[k++] = (char)tolower((unsigned char)ch);
    }
    low[k] = '\0';
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (strcmp(low, ok[i]) == 0) {
            buf_puts(out, ok[i]);
            return;
        }
    }
    buf_puts(out, "error");
}

/* The event for n into b; with_details false puts PD_DETAILS_REMOVED in
 * custom_details instead of the rendered details. 0, or -1 (res set). */
static int pd_payload(const pd_cfg_t *c, const alerts_notification_t *n, const buf_t *key, bool with_details, buf_t *b,
                      alerts_send_result_t *res)
{
    char gid[33];
    alerts_recv_group_id(n->group_key ? n->group_key : "", gid);
    buf_t summary = { 0 }, sev = { 0 }, sev_raw = { 0 }, client = { 0 }, source = { 0 };
    int rc = -1;
    if (alerts_recv_render("pagerduty.description", c->description, n, &summary, res) != 0 ||
        alerts_recv_render("pagerduty.severity", c->severity, n, &sev_raw, res) != 0 ||
        alerts_recv_render("pagerduty.client", c->client, n, &client, res) != 0 ||
        alerts_recv_render("pagerduty.source", c->source, n, &source, res) != 0) {
        goto out;
    }
    alerts_recv_truncate_runes(&summary, 0, PD_SUMMARY_MAX);
    pd_severity(&sev_raw, &sev);
    const buf_t *src = source.len ? &source : &client;

    buf_puts(b, "{\"routing_key\":");
    json_str(b, (const char *)key->data, key->len);
    buf_puts(b, ",\"event_action\":");
    json_cstr(b, n->nfiring > 0 ? "trigger" : "resolve");
    buf_puts(b, ",\"dedup_key\":");
    json_cstr(b, gid);
    buf_puts(b, ",");
    if (client.len) {
        buf_puts(b, "\"client\":");
        json_str(b, (const char *)client.data, client.len);
        buf_putc(b, ',');
    }
    if (pd_field(b, "client_url", "pagerduty.client_url", c->client_url, true, n, res) != 0) {
        goto out;
    }
    buf_puts(b, "\"payload\":{\"summary\":");
    json_str(b, summary.len ? (const char *)summary.data : "", summary.len);
    buf_puts(b, ",\"source\":");
    json_str(b, src->len ? (const char *)src->data : "pharos", src->len ? src->len : 6);
    buf_puts(b, ",\"severity\":");
    json_str(b, (const char *)sev.data, sev.len);
    buf_putc(b, ',');
    if (pd_field(b, "class", "pagerduty.class", c->class_, true, n, res) != 0 ||
        pd_field(b, "component", "pagerduty.component", c->component, true, n, res) != 0 ||
        pd_field(b, "group", "pagerduty.group", c->group, true, n, res) != 0) {
        goto out;
    }
    buf_puts(b, "\"custom_details\":{");
    if (!with_details) {
        buf_puts(b, "\"error\":\"" PD_DETAILS_REMOVED "\",");
    }
    for (size_t i = 0; with_details && i < c->details.n; i++) {
        char name[96];
        snprintf(name, sizeof(name), "pagerduty.details.%s", c->details.k[i]);
        if (pd_field(b, c->details.k[i], name, c->details.v[i], false, n, res) != 0) {
            goto out;
        }
    }
    if (b->data[b->len - 1] == ',') {
        b->len--;
    }
    buf_puts(b, "}}}");
    rc = 0;
out:
    buf_fini(&summary);
    buf_fini(&sev);
    buf_fini(&sev_raw);
    buf_fini(&client);
    buf_fini(&source);
    return rc;
}

void alerts_recv_pagerduty_send(const void *cfg, void *st, const alerts_recv_env_t *env, const alerts_notification_t *n,
                                alerts_send_result_t *res)
{
    const pd_cfg_t *c = cfg;
    pd_state_t *s = st;
    buf_t key = { 0 }, body = { 0 }, resp = { 0 };
    if (!s) {
        alerts_recv_result(res, ALERTS_SEND_RETRY, 0, -1, "pagerduty: no HTTP client");
        return;
    }
    if (alerts_recv_secret_get(&c->routing_key, "routing_key", &key, res) != 0 ||
        pd_payload(c, n, &key, true, &body, res) != 0) {
        goto out;
    }
    if (body.len > PD_EVENT_MAX) {
        size_t full = body.len;
        buf_reset(&body);
        if (pd_payload(c, n, &key, false, &body, res) != 0) {
            goto out;
        }
        log_warn("pagerduty: receiver %s: event of %zu bytes (%zu alerts) over the %d-byte limit; custom_details "
                 "removed (%zu bytes sent)",
                 n->receiver ? n->receiver : "", full, n->nalerts, PD_EVENT_MAX, body.len);
    }
    httpc_set_timeout(s->http, env->timeout_ms);
    static const char *const hdrs[] = { "Content-Type: application/json", "User-Agent: Pharos", NULL };
    httpc_result_t hr;
    httpc_post(s->http, c->url, hdrs, body.data, body.len, &resp, &hr);
    alerts_recv_result_http(res, &hr, "pagerduty");
out:
    alerts_recv_secret_fini(&key);
    alerts_recv_secret_fini(&body); /* holds routing_key */
    buf_fini(&resp);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_recv_slack: Slack incoming webhooks (slack_configs).
 *
 * Payload: {"channel"?, "username"?, "icon_emoji"?, "text", "blocks"}:
 * text is the rendered title (Slack's notification fallback); blocks are a
 * section with the title in bold mrkdwn, then the text in sections of at
 * most 3000 characters (Slack's limit per section), at most 50 blocks.
 * Success is HTTP 200 with the body "ok" (a JSON {"ok":false} body is a
 * failure).
 *
 * Rate: Slack allows about one message per second per webhook. The state
 * keeps the earliest time the next message may go (per integration, i.e.
 * per configured webhook); send waits for it when the wait fits in the
 * timeout, else answers RETRY with that wait. A 429 answer's Retry-After
 * (seconds, at most 1 h: httpc clamps it; times add saturating) moves
 * that time and is returned as retry_after_ms; unlike
 * Alertmanager (which never retries Slack), 429 and 5xx are RETRY. Other
 * 4xx are FAIL with Slack's answer ("channel_not_found") in msg.
 */
#include <string.h>

#include "alerts/alerts_int.h"
#include "common/json_out.h"
#include "common/mem.h"

#define SLACK_MIN_INTERVAL_MS 1000
#define SLACK_SECTION_MAX 3000
#define SLACK_BLOCKS_MAX 50

/* a + b for b >= 0, saturating at INT64_MAX. */
static int64_t slack_add_sat(int64_t a, int64_t b)
{
    return b > 0 && a > INT64_MAX - b ? INT64_MAX : a + b;
}

typedef struct slack_cfg {
    alerts_recv_secret_t api_url;
    const char *channel;
    const char *username;
    const char *icon_emoji;
    const char *title;
    const char *text;
    bool send_resolved;
} slack_cfg_t;

typedef struct slack_state {
    httpc_t *http;
    int64_t next_ms; /* earliest time of the next message (env clock) */
} slack_state_t;

const alerts_recv_field_t alerts_recv_slack_fields[] = {
    { "api_url", ALERTS_RECV_F_SECRET, offsetof(slack_cfg_t, api_url), NULL,
      "the incoming webhook URL (secret; ${VAR} expanded)" },
    { "api_url_file", ALERTS_RECV_F_SECRET_FILE, offsetof(slack_cfg_t, api_url), NULL,
      "file holding the webhook URL, read at each send" },
    { "channel", ALERTS_RECV_F_STRING, offsetof(slack_cfg_t, channel), NULL,
      "channel or user to send to (template); the webhook's own when unset" },
    { "username", ALERTS_RECV_F_STRING, offsetof(slack_cfg_t, username), NULL, "sender name shown (template)" },
    { "icon_emoji", ALERTS_RECV_F_STRING, offsetof(slack_cfg_t, icon_emoji), NULL, "sender icon, e.g. :fire:" },
    { "title", ALERTS_RECV_F_STRING, offsetof(slack_cfg_t, title), "{{ template \"slack.default.title\" . }}",
      "message title (template)" },
    { "text", ALERTS_RECV_F_STRING, offsetof(slack_cfg_t, text), "{{ template \"slack.default.text\" . }}",
      "message body (template)" },
    { "send_resolved", ALERTS_RECV_F_BOOL, offsetof(slack_cfg_t, send_resolved), "false",
      "also notify when the group's alerts resolve" },
    { NULL },
};

int alerts_recv_slack_parse(yaml_document_t *doc, yaml_node_t *node, arena_t *a, void **cfg, buf_t *err)
{
    slack_cfg_t *c = arena_calloc(a, 1, sizeof(*c));
    if (alerts_recv_parse_fields(doc, node, alerts_recv_slack_fields, a, c, err) != 0) {
        return -1;
    }
    if (alerts_recv_secret_required(doc, node, &c->api_url, "api_url", err) != 0) {
        return -1;
    }
    *cfg = c;
    return 0;
}

bool alerts_recv_slack_send_resolved(const void *cfg)
{
    return ((const slack_cfg_t *)cfg)->send_resolved;
}

void *alerts_recv_slack_state_create(const void *cfg)
{
    (void)cfg;
    slack_state_t *s = mem_calloc(1, sizeof(*s));
    s->http = httpc_create(0);
    if (!s->http) {
        alerts_recv_slack_state_destroy(s);
        return NULL;
    }
    httpc_set_max_body(s->http, HTTPC_MAX_BODY_SENDER);
    return s;
}

void alerts_recv_slack_state_destroy(void *st)
{
    slack_state_t *s = st;
    if (!s) {
        return;
    }
    httpc_destroy(s->http);
    mem_free(s);
}

/* Length of the longest prefix of p[0..len) of at most max bytes that
 * ends on a UTF-8 boundary, preferring the last newline in it. */
static size_t slack_chunk(const uint8_t *p, size_t len, size_t max)
{
    if (len <= max) {
        return len;
    }
    size_t n = max;
    while (n > 0 && (p[n] & 0xC0) == 0x80) {
        n--;
    }
    for (size_t i = n; i > max / 2; i--) {
        if (p[i - 1] == '\n') {
            return i;
        }
    }
    return n > 0 ? n : max;
}

static void slack_section(buf_t *b, const uint8_t *p, size_t len, bool *first)
{
    buf_puts(b, *first ? "" : ",");
    *first = false;
    buf_puts(b, "{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":");
    json_str(b, (const char *)p, len);
    buf_puts(b, "}}");
}

static void slack_opt(buf_t *b, const char *key, const buf_t *v)
{
    if (v->len > 0) {
        json_cstr(b, key);
        buf_putc(b, ':');
        json_str(b, (const char *)v->data, v->len);
        buf_putc(b, ',');
    }
}

/* Build the payload into body; 0 or -1 (template error in res). */
static int slack_payload(const slack_cfg_t *c, const alerts_notification_t *n, buf_t *body, alerts_send_result_t *res)
{
    buf_t title = { 0 }, text = { 0 }, channel = { 0 }, user = { 0 }, icon = { 0 };
    int rc = -1;
    if (alerts_recv_render("slack.title", c->title, n, &title, res) != 0 ||
        alerts_recv_render("slack.text", c->text, n, &text, res) != 0 ||
        alerts_recv_render("slack.channel", c->channel, n, &channel, res) != 0 ||
        alerts_recv_render("slack.username", c->username, n, &user, res) != 0 ||
        alerts_recv_render("slack.icon_emoji", c->icon_emoji, n, &icon, res) != 0) {
        goto fail;
    }
    buf_putc(body, '{');
    slack_opt(body, "channel", &channel);
    slack_opt(body, "username", &user);
    slack_opt(body, "icon_emoji", &icon);
    /* The fallback text: the title, else the start of the text. */
    const buf_t *fb = title.len ? &title : &text;
    size_t fblen = slack_chunk(fb->data, fb->len, SLACK_SECTION_MAX);
    buf_puts(body, "\"text\":");
    json_str(body, fblen ? (const char *)fb->data : "", fblen);
    buf_puts(body, ",\"blocks\":[");
    bool first = true;
    size_t nblocks = 0;
    if (title.len) {
        buf_t bold = { 0 };
        buf_putc(&bold, '*');
        buf_append(&bold, title.data, slack_chunk(title.data, title.len, SLACK_SECTION_MAX - 2));
        buf_putc(&bold, '*');
        slack_section(body, bold.data, bold.len, &first);
        buf_fini(&bold);
        nblocks++;
    }
    for (size_t off = 0; off < text.len && nblocks < SLACK_BLOCKS_MAX; nblocks++) {
        size_t k = slack_chunk(text.data + off, text.len - off, SLACK_SECTION_MAX);
        slack_section(body, text.data + off, k, &first);
        off += k;
    }
    buf_puts(body, "]}");
    rc = 0;
fail:
    buf_fini(&title);
    buf_fini(&text);
    buf_fini(&channel);
    buf_fini(&user);
    buf_fini(&icon);
    return rc;
}

void alerts_recv_slack_send(const void *cfg, void *st, const alerts_recv_env_t *env, const alerts_notification_t *n,
                            alerts_send_result_t *res)
{
    const slack_cfg_t *c = cfg;
    slack_state_t *s = st;
    buf_t url = { 0 }, body = { 0 }, resp = { 0 };
    if (!s) {
        alerts_recv_result(res, ALERTS_SEND_RETRY, 0, -1, "slack: no HTTP client");
        return;
    }
    if (alerts_recv_secret_get(&c->api_url, "api_url", &url, res) != 0 || slack_payload(c, n, &body, res) != 0) {
        goto out;
    }
    int64_t now = clock_now_ms(&env->clock);
    if (s->next_ms > now) {
        int64_t wait = s->next_ms - now;
        if (wait > env->timeout_ms) {
            alerts_recv_result(res, ALERTS_SEND_RETRY, 0, wait, "slack: rate limited for %lld ms", (long long)wait);
            goto out;
        }
        alerts_recv_sleep_ms(wait);
        now = s->next_ms;
    }
    httpc_set_timeout(s->http, env->timeout_ms);
    static const char *const hdrs[] = { "Content-Type: application/json", "User-Agent: Pharos", NULL };
    httpc_result_t hr;
    httpc_post(s->http, (const char *)url.data, hdrs, body.data, body.len, &resp, &hr);
    s->next_ms = slack_add_sat(now, SLACK_MIN_INTERVAL_MS);
    if (hr.http_code == 429) {
        int64_t ra = hr.retry_after_ms >= 0 ? hr.retry_after_ms : SLACK_MIN_INTERVAL_MS;
        s->next_ms = slack_add_sat(now, ra);
        alerts_recv_result(res, ALERTS_SEND_RETRY, 429, ra, "slack: HTTP 429: %s", hr.error);
        goto out;
    }
    alerts_recv_result_http(res, &hr, "slack");
    if (res->status == ALERTS_SEND_OK && resp.len > 0 && resp.data[0] == '{' &&
        (strstr((const char *)resp.data, "\"ok\":false") || strstr((const char *)resp.data, "\"ok\": false"))) {
        alerts_recv_result(res, ALERTS_SEND_FAIL, hr.http_code, -1, "slack: %.200s", (const char *)resp.data);
    }
out:
    alerts_recv_secret_fini(&url); /* the webhook URL is the secret */
    buf_fini(&body);
    buf_fini(&resp);
}

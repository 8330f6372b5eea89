/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_loki_tail: GET /loki/api/v1/tail, Loki's live tail over a WebSocket
 * (Grafana's "Live" mode). Arguments are checked as Loki's ParseTailQuery
 * checks them (query, limit, start/end/since, delay_for <= 5) and a
 * metric query is refused, all with a plain-text 400 before the upgrade.
 *
 * The connection's thread (common/httpd.h) then polls the store: every
 * API_LOKI_TAIL_INTERVAL_MS it evaluates the log query forward over
 * [from, end), end = now - delay_for (exclusive), and sends the new
 * entries as one text frame {"streams":[…]}. The first evaluation is the
 * history: the newest `limit` entries since start, sent oldest first.
 *
 * No duplicates, no gaps: last_ts is the newest timestamp sent and `sent`
 * the multiset of entries (final labels, line) sent at it. The next
 * window starts at last_ts inclusive, so entries that arrive later with
 * that same timestamp are found, and `sent` drops the ones already sent.
 * When a window was not cut by its limit, every entry older than its end
 * has been seen, so the next window may start later, at end - LOOKBACK
 * (bounding the work of a quiet tail; a line arriving more than LOOKBACK
 * behind its timestamp, or older than last_ts, is not sent, which is
 * what delay_for is for, as in Loki). A window cut by its limit continues
 * at last_ts at once. The tail ends when the client closes, the server
 * stops, a send fails, or an evaluation fails (close 1011 with the text).
 */
#include <string.h>

#include "common/clock.h"
#include "common/hash.h"
#include "common/mem.h"
#include "common/str.h"
#include "common/ws.h"
#include "query/api_loki_int.h"
#include "query/promql.h"

#define API_LOKI_TAIL_INTERVAL_MS 1000
#define API_LOKI_TAIL_MAX_DELAY 5 /* Loki's maxDelayForInTailing, seconds */
#define API_LOKI_TAIL_LOOKBACK_NS (10LL * 1000000000LL)
#define API_LOKI_TAIL_DEFAULT_BATCH 5000 /* live windows: at most this many entries each */

typedef struct api_loki_tail_key {
    uint64_t hash;
    char *key; /* labels, then line (api_loki_tail_keyof) */
    size_t len;
    size_t count; /* sent this many times at last_ts */
    size_t used;  /* matched in the current window */
} api_loki_tail_key_t;

typedef struct api_loki_tail {
    api_loki_t *api;
    char *query;
    size_t qlen;
    size_t limit; /* history */
    size_t batch; /* live windows */
    int64_t start_ns;
    int64_t delay_ns;
    bool history_done;
    int64_t from_ns; /* the next live window's start */
    bool have_last;
    int64_t last_ts;
    api_loki_tail_key_t *sent; /* the entries sent at last_ts */
    size_t nsent, capsent;
    buf_t key; /* scratch */
    buf_t frame;
} api_loki_tail_t;

static void api_loki_tail_clear_sent(api_loki_tail_t *t)
{
    for (size_t i = 0; i < t->nsent; i++) {
        mem_free(t->sent[i].key);
    }
    t->nsent = 0;
}

static void api_loki_tail_free(void *arg)
{
    api_loki_tail_t *t = arg;
    if (!t) {
        return;
    }
    api_loki_tail_clear_sent(t);
    mem_free(t->sent);
    mem_free(t->query);
    buf_fini(&t->key);
    buf_fini(&t->frame);
    mem_free(t);
}

/* The identity of an entry within one timestamp, into t->key. */
static void api_loki_tail_keyof(api_loki_tail_t *t, const logql_stream_t *s, const logql_entry_t *e)
{
    buf_reset(&t->key);
    for (size_t i = 0; i < s->nlabels; i++) {
        buf_append(&t->key, s->labels[i].name.p, s->labels[i].name.len);
        buf_putc(&t->key, 0);
        buf_append(&t->key, s->labels[i].value.p, s->labels[i].value.len);
        buf_putc(&t->key, 0);
    }
    buf_putc(&t->key, 1);
    buf_append(&t->key, e->line.p, e->line.len);
}

/* Whether the entry in t->key was already sent at last_ts: consumes one
 * of its sends for this window. */
static bool api_loki_tail_was_sent(api_loki_tail_t *t, uint64_t h)
{
    for (size_t i = 0; i < t->nsent; i++) {
        api_loki_tail_key_t *k = &t->sent[i];
        if (k->hash == h && k->len == t->key.len && memcmp(k->key, t->key.data, k->len) == 0 && k->used < k->count) {
            k->used++;
            return true;
        }
    }
    return false;
}

/* Record the entry in t->key as sent at last_ts. */
static void api_loki_tail_mark_sent(api_loki_tail_t *t, uint64_t h)
{
    for (size_t i = 0; i < t->nsent; i++) {
        api_loki_tail_key_t *k = &t->sent[i];
        if (k->hash == h && k->len == t->key.len && memcmp(k->key, t->key.data, k->len) == 0) {
            k->count++;
            k->used++;
            return;
        }
    }
    if (t->nsent == t->capsent) {
        t->capsent = t->capsent ? t->capsent * 2 : 16;
        t->sent = mem_realloc(t->sent, t->capsent * sizeof(*t->sent));
    }
    t->sent[t->nsent++] = (api_loki_tail_key_t){
        .hash = h, .key = mem_strndup((const char *)t->key.data, t->key.len), .len = t->key.len, .count = 1, .used = 1
    };
}

/* Run the query over [from, end) (limit entries, the newest when
 * backward). 0 and [out] *res; 1 when every query slot stayed busy for a
 * tick (nothing was evaluated); -1 after closing ws with the error. */
static int api_loki_tail_eval(api_loki_tail_t *t, http_ws_t *ws, int64_t from, int64_t end, bool backward, size_t limit,
                              arena_t *a, logql_result_t *res)
{
    api_loki_t *api = t->api;
    logql_query_t q = {
        .q = t->query, .len = t->qlen, .start_ns = from, .end_ns = end, .limit = limit, .backward = backward
    };
    logql_eval_error_t err;
    memset(res, 0, sizeof(*res));
    memset(&err, 0, sizeof(err));
    if (!qslot_take(&api->slots, clock_mono_s() + API_LOKI_TAIL_INTERVAL_MS / 1000.0)) {
        return 1;
    }
    int rc = logql_eval(&api->src, &api->limits, &q, a, res, &err);
    qslot_give(&api->slots);
    if (rc != 0) {
        http_ws_close(ws, WS_CLOSE_INTERNAL, err.msg[0] ? err.msg : "internal error");
        return -1;
    }
    return 0;
}

/* Keep in res only the entries not sent yet, oldest first in each
 * stream, and record them as sent. [out] *n: entries kept. */
static void api_loki_tail_select(api_loki_tail_t *t, logql_result_t *res, bool backward, arena_t *a, size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < t->nsent; i++) {
        t->sent[i].used = 0;
    }
    /* The newest timestamp of the window, and whether it passes last_ts. */
    bool any = false;
    int64_t newest = 0;
    for (size_t i = 0; i < res->nstreams; i++) {
        for (size_t k = 0; k < res->streams[i].n; k++) {
            int64_t ts = res->streams[i].entries[k].ts_ns;
            newest = !any || ts > newest ? ts : newest;
            any = true;
        }
    }
    if (!any) {
        res->nstreams = 0;
        return;
    }
    bool advance = !t->have_last || newest > t->last_ts;
    size_t out = 0;
    for (size_t i = 0; i < res->nstreams; i++) {
        logql_stream_t *s = &res->streams[i];
        logql_entry_t *keep = arena_alloc(a, (s->n ? s->n : 1) * sizeof(*keep));
        size_t m = 0;
        for (size_t k = 0; k < s->n; k++) {
            const logql_entry_t *e = &s->entries[backward ? s->n - 1 - k : k];
            bool at_last = t->have_last && e->ts_ns == t->last_ts;
            bool at_newest = e->ts_ns == newest;
            if (!at_last && !at_newest) {
                keep[m++] = *e;
                continue;
            }
            api_loki_tail_keyof(t, s, e);
            uint64_t h = hash_bytes(t->key.data, t->key.len);
            if (at_last && api_loki_tail_was_sent(t, h)) {
                continue;
            }
            keep[m++] = *e;
            if (at_newest && !advance) {
                api_loki_tail_mark_sent(t, h);
            }
        }
        if (m > 0) {
            s->entries = keep;
            s->n = m;
            res->streams[out++] = *s;
            *n += m;
        }
    }
    res->nstreams = out;
    if (advance) {
        /* A new newest timestamp: remember what this window sent at it. */
        api_loki_tail_clear_sent(t);
        t->have_last = true;
        t->last_ts = newest;
        for (size_t i = 0; i < res->nstreams; i++) {
            const logql_stream_t *s = &res->streams[i];
            for (size_t k = 0; k < s->n; k++) {
                if (s->entries[k].ts_ns == newest) {
                    api_loki_tail_keyof(t, s, &s->entries[k]);
                    api_loki_tail_mark_sent(t, hash_bytes(t->key.data, t->key.len));
                }
            }
        }
    }
}

/* One window: evaluate, send what is new, move from_ns. Returns 1 when
 * the window was cut by its limit (run the next one at once), 0 when it
 * was not, -1 when the tail is over. */
static int api_loki_tail_window(api_loki_tail_t *t, http_ws_t *ws, arena_t *a)
{
    bool history = !t->history_done;
    int64_t now_ns = (clock_now_ms(&t->api->clock) + 1) * 1000000LL;
    int64_t end = now_ns - t->delay_ns;
    int64_t from = history ? t->start_ns : t->from_ns;
    if (end <= from) {
        return 0;
    }
    size_t limit = history ? t->limit : t->batch;
    logql_result_t res;
    int rc = api_loki_tail_eval(t, ws, from, end, history, limit, a, &res);
    if (rc != 0) {
        return rc < 0 ? -1 : 0; /* busy: the same window again next tick */
    }
    t->history_done = true;
    size_t total = 0;
    for (size_t i = 0; i < res.nstreams; i++) {
        total += res.streams[i].n;
    }
    bool cut = !history && total >= limit;
    size_t n = 0;
    api_loki_tail_select(t, &res, history, a, &n);
    if (n > 0) {
        buf_reset(&t->frame);
        api_loki_json_tail(&t->frame, &res);
        if (http_ws_send_text(ws, (const char *)t->frame.data, t->frame.len) != 0) {
            return -1;
        }
    }
    if (cut && n == 0) {
        /* More than a whole batch at last_ts, all sent: give up on the
         * rest of that timestamp rather than loop on it. */
        api_loki_tail_clear_sent(t);
        t->last_ts++;
    }
    if (cut) {
        t->from_ns = t->last_ts;
        return 1;
    }
    int64_t oldest = end - API_LOKI_TAIL_LOOKBACK_NS;
    int64_t base = t->have_last ? t->last_ts : t->start_ns;
    t->from_ns = base > oldest ? base : oldest;
    return 0;
}

static void api_loki_tail_run(void *ctx, http_ws_t *ws, void *arg)
{
    (void)ctx;
    api_loki_tail_t *t = arg;
    arena_t *a = arena_create(64 << 10);
    for (;;) {
        int rc = api_loki_tail_window(t, ws, a);
        arena_reset(a);
        if (rc < 0 || http_ws_recv(ws, rc == 1 ? 0 : API_LOKI_TAIL_INTERVAL_MS, NULL) < 0) {
            break;
        }
    }
    arena_destroy(a);
}

void api_loki_tail(api_loki_t *api, http_req_t *req, http_resp_t *resp)
{
    const char *query = api_loki_arg(req, "query");
    bool metric = false;
    char msg[512];
    if (logql_check(query, strlen(query), &metric, msg, sizeof(msg)) != 0) {
        api_loki_error(resp, 400, "%s", msg);
        return;
    }
    size_t limit = 0;
    int64_t start = 0;
    int64_t end = 0;
    if (!api_loki_limit(req, resp, &limit) || !api_loki_bounds(api, req, resp, &start, &end)) {
        return;
    }
    const char *dv = api_loki_arg(req, "delay_for");
    int64_t delay = 0;
    if (*dv && !str_parse_i64(str_from(dv, strlen(dv)), &delay)) {
        buf_t err = { 0 };
        api_prom_param_int_error("Atoi", dv, strlen(dv), &err);
        api_loki_error(resp, 400, "%.*s", (int)err.len, (const char *)err.data);
        buf_fini(&err);
        return;
    }
    if ((uint32_t)delay > API_LOKI_TAIL_MAX_DELAY) { /* Loki keeps it as a uint32 */
        api_loki_error(resp, 400, "delay_for can't be greater than %d", API_LOKI_TAIL_MAX_DELAY);
        return;
    }
    if (metric) {
        api_loki_error(resp, 400, "only log selector is supported");
        return;
    }
    size_t max_entries = api->limits.max_entries ? api->limits.max_entries : API_LOKI_TAIL_DEFAULT_BATCH;
    if (limit > max_entries) {
        api_loki_error(resp, 400,
                       "max entries limit per query exceeded, limit > max_entries_limit_per_query (%zu > %zu)", limit,
                       max_entries);
        return;
    }
    api_loki_tail_t *t = mem_calloc(1, sizeof(*t));
    t->api = api;
    t->qlen = strlen(query);
    t->query = mem_strndup(query, t->qlen);
    t->limit = limit;
    t->batch = max_entries;
    t->start_ns = start;
    t->delay_ns = (int64_t)(uint32_t)delay * 1000000000LL;
    t->from_ns = start;
    http_resp_websocket(resp, api_loki_tail_run, t, api_loki_tail_free);
}

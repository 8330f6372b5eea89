/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_logs: `pharosctl logs`, log lines from pharosd's Loki API
 * (GET /loki/api/v1/query_range) in the terminal, oldest first, and with
 * --follow the new ones as they arrive.
 *
 * Paging: an answer holds at most `limit` entries over all its streams
 * (Loki refuses a limit above max_entries_limit_per_query, 5000 by
 * default), so a range is read page by page. Each request starts at the
 * timestamp of the last line printed (backward: ends 1 ns after it, end
 * being exclusive), and the lines already printed at exactly that
 * timestamp (the "edge": labels and line, a multiset) are dropped from the
 * next page. A page with fewer entries than asked ends the range.
 * Invariant: the edge never holds more than one page, and each page is
 * written and flushed before the next request, so memory is bounded by
 * the page size whatever the number of lines; the page's arrays, the URL
 * and the output text are reused from page to page.
 *
 * --follow polls [edge, now) forward every --interval until SIGINT or
 * SIGTERM. Both are blocked while following and taken with sigtimedwait
 * (no handler, no global): a signal takes effect between requests.
 * env->max_polls ends the loop in tests. A metric query prints as
 * query-range prints (ctl_format_result).
 *
 * ctl_logs_page_* and ctl_logs_format_entry are pure and exported for tests.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/httpc.h"
#include "common/json_out.h"
#include "common/mem.h"
#include "ctl/ctl_int.h"

#define CTL_LOGS_MAX_PAGE 5000  /* Loki's default max_entries_limit_per_query */
#define CTL_LOGS_WAIT_MS 130000 /* pharosd's default query timeout (2m) plus 10 s */
#define CTL_LOGS_NS_PER_MS 1000000LL
#define CTL_LOGS_SECONDS_MAX_NS 10000000000LL /* Loki reads integers up to 1e10 as seconds */

/* ---- the answer: parse and merge ---- */

typedef struct ctl_logs_stream {
    size_t lab_off, lab_len;   /* {a="b"} in text */
    size_t json_off, json_len; /* {"a":"b"} in text */
    size_t first, n;           /* its entries in raw[] */
    size_t next;               /* merge cursor */
} ctl_logs_stream_t;

typedef struct ctl_logs_item {
    int64_t ts_ns;
    size_t stream;
    const char *line; /* borrowed from root */
    size_t line_len;
} ctl_logs_item_t;

struct ctl_logs_page {
    json_t *root;
    buf_t text; /* every stream's labels, both forms */
    ctl_logs_stream_t *streams;
    size_t nstreams, cap_streams;
    ctl_logs_item_t *raw;    /* stream by stream */
    ctl_logs_item_t *merged; /* one order */
    size_t n, cap_items;
    size_t *heap; /* stream indexes, cap_streams of room */
};

ctl_logs_page_t *ctl_logs_page_create(void)
{
    return mem_calloc(1, sizeof(ctl_logs_page_t));
}

void ctl_logs_page_destroy(ctl_logs_page_t *p)
{
    if (!p) {
        return;
    }
    json_decref(p->root);
    buf_fini(&p->text);
    mem_free(p->streams);
    mem_free(p->raw);
    mem_free(p->merged);
    mem_free(p->heap);
    mem_free(p);
}

size_t ctl_logs_page_count(const ctl_logs_page_t *p)
{
    return p->n;
}

void ctl_logs_page_entry(const ctl_logs_page_t *p, size_t i, ctl_logs_entry_t *e)
{
    assert(i < p->n);
    const ctl_logs_item_t *it = &p->merged[i];
    const ctl_logs_stream_t *s = &p->streams[it->stream];
    const char *text = (const char *)p->text.data;
    e->ts_ns = it->ts_ns;
    e->labels = str_from(text + s->lab_off, s->lab_len);
    e->labels_json = str_from(text + s->json_off, s->json_len);
    e->line = str_from(it->line, it->line_len);
}

/* Room for one more stream (and its heap slot). */
static ctl_logs_stream_t *ctl_logs_page_add_stream(ctl_logs_page_t *p)
{
    if (p->nstreams == p->cap_streams) {
        p->cap_streams = p->cap_streams ? p->cap_streams * 2 : 16;
        p->streams = mem_realloc(p->streams, p->cap_streams * sizeof(*p->streams));
        p->heap = mem_realloc(p->heap, p->cap_streams * sizeof(*p->heap));
    }
    ctl_logs_stream_t *s = &p->streams[p->nstreams++];
    memset(s, 0, sizeof(*s));
    return s;
}

/* Room for need items in raw[] and merged[]. */
static void ctl_logs_page_reserve(ctl_logs_page_t *p, size_t need)
{
    if (need <= p->cap_items) {
        return;
    }
    size_t cap = p->cap_items ? p->cap_items : 256;
    while (cap < need) {
        cap *= 2;
    }
    p->raw = mem_realloc(p->raw, cap * sizeof(*p->raw));
    p->merged = mem_realloc(p->merged, cap * sizeof(*p->merged));
    p->cap_items = cap;
}

/* The labels object as compact JSON, keys in the answer's order. */
static void ctl_logs_labels_json(const json_t *labels, buf_t *out)
{
    const char *key = NULL;
    const json_t *val = NULL;
    bool first = true;
    buf_putc(out, '{');
    json_object_foreach((json_t *)labels, key, val)
    {
        buf_puts(out, first ? "" : ",");
        first = false;
        json_cstr(out, key);
        buf_putc(out, ':');
        json_str(out, json_string_value(val), json_string_length(val));
    }
    buf_putc(out, '}');
}

/* Stream i of the answer into the page: labels, then its entries, which
 * must be in the query's direction. -1 with the reason in why. */
static int ctl_logs_page_stream(ctl_logs_page_t *p, const json_t *el, size_t i, bool backward, buf_t *why)
{
    const json_t *labels = json_object_get(el, "stream");
    const json_t *values = json_object_get(el, "values");
    if (!json_is_object(el) || !json_is_array(values)) {
        buf_printf(why, "stream %zu has no \"values\" array", i);
        return -1;
    }
    if (!json_is_object(labels)) {
        buf_printf(why, "stream %zu has no \"stream\" object", i);
        return -1;
    }
    ctl_logs_stream_t *s = ctl_logs_page_add_stream(p);
    s->lab_off = p->text.len;
    if (ctl_format_labels(labels, &p->text, why) != 0) {
        buf_printf(why, " (stream %zu)", i);
        return -1;
    }
    s->lab_len = p->text.len - s->lab_off;
    s->json_off = p->text.len;
    ctl_logs_labels_json(labels, &p->text);
    s->json_len = p->text.len - s->json_off;
    s->first = p->n;
    s->n = json_array_size(values);
    ctl_logs_page_reserve(p, p->n + s->n);
    for (size_t k = 0; k < s->n; k++) {
        const json_t *v = json_array_get(values, k);
        const json_t *ts = json_array_get(v, 0);
        const json_t *line = json_array_get(v, 1);
        int64_t ns = 0;
        if (!json_is_array(v) || json_array_size(v) < 2 || !json_is_string(ts) || !json_is_string(line)) {
            buf_printf(why, "entry %zu of stream %zu is not [\"<ns>\", \"<line>\"]", k, i);
            return -1;
        }
        if (!str_parse_i64(str_from(json_string_value(ts), json_string_length(ts)), &ns)) {
            buf_printf(why, "entry %zu of stream %zu has a bad timestamp", k, i);
            return -1;
        }
        if (k > 0 && (backward ? ns > p->raw[p->n - 1].ts_ns : ns < p->raw[p->n - 1].ts_ns)) {
            buf_printf(why, "stream %zu is not in %s time order", i, backward ? "descending" : "ascending");
            return -1;
        }
        p->raw[p->n++] = (ctl_logs_item_t){ .ts_ns = ns,
                                            .stream = p->nstreams - 1,
                                            .line = json_string_value(line),
                                            .line_len = json_string_length(line) };
    }
    return 0;
}

/* Heap order: the stream whose next entry comes first; ties by stream
 * index, which makes the merge stable. */
static bool ctl_logs_before(const ctl_logs_page_t *p, size_t a, size_t b, bool backward)
{
    int64_t ta = p->raw[p->streams[a].first + p->streams[a].next].ts_ns;
    int64_t tb = p->raw[p->streams[b].first + p->streams[b].next].ts_ns;
    if (ta != tb) {
        return backward ? ta > tb : ta < tb;
    }
    return a < b;
}

static void ctl_logs_sift_down(ctl_logs_page_t *p, size_t len, size_t i, bool backward)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < len && ctl_logs_before(p, p->heap[l], p->heap[m], backward)) {
            m = l;
        }
        if (r < len && ctl_logs_before(p, p->heap[r], p->heap[m], backward)) {
            m = r;
        }
        if (m == i) {
            return;
        }
        size_t t = p->heap[i];
        p->heap[i] = p->heap[m];
        p->heap[m] = t;
        i = m;
    }
}

/* k-way merge of raw[] into merged[]: O(n log k). */
static void ctl_logs_page_merge(ctl_logs_page_t *p, bool backward)
{
    size_t len = 0;
    for (size_t i = 0; i < p->nstreams; i++) {
        if (p->streams[i].n > 0) {
            p->heap[len++] = i;
        }
    }
    for (size_t i = len / 2; i-- > 0;) {
        ctl_logs_sift_down(p, len, i, backward);
    }
    size_t out = 0;
    while (len > 0) {
        ctl_logs_stream_t *s = &p->streams[p->heap[0]];
        p->merged[out++] = p->raw[s->first + s->next];
        if (++s->next == s->n) {
            p->heap[0] = p->heap[--len];
        }
        ctl_logs_sift_down(p, len, 0, backward);
    }
    assert(out == p->n);
}

ctl_logs_rc_t ctl_logs_page_parse(ctl_logs_page_t *p, const char *json, size_t len, bool backward, buf_t *err)
{
    assert(p && err);
    json_decref(p->root);
    buf_reset(&p->text);
    p->nstreams = p->n = 0;
    json_error_t jerr;
    p->root = json_loadb(json, len, JSON_ALLOW_NUL, &jerr);
    if (!p->root) {
        buf_printf(err, "error: malformed response: invalid JSON at line %d column %d: %s\n", jerr.line, jerr.column,
                   jerr.text);
        return CTL_LOGS_BAD_RESPONSE;
    }
    buf_t why = { 0 };
    ctl_logs_rc_t rc = CTL_LOGS_BAD_RESPONSE;
    const json_t *status = json_object_get(p->root, "status");
    const json_t *data = json_object_get(p->root, "data");
    const json_t *type = json_object_get(data, "resultType");
    const json_t *result = json_object_get(data, "result");
    if (!json_is_string(status) || strcmp(json_string_value(status), "success") != 0) {
        buf_puts(&why, "no \"status\" of \"success\"");
    } else if (!json_is_string(type) || !result) {
        buf_puts(&why, "no \"data\" with \"resultType\" and \"result\"");
    } else if (strcmp(json_string_value(type), "streams") != 0) {
        rc = CTL_LOGS_METRIC;
    } else if (!json_is_array(result)) {
        buf_puts(&why, "streams result is not an array");
    } else {
        rc = CTL_LOGS_STREAMS;
        for (size_t i = 0; i < json_array_size(result) && rc == CTL_LOGS_STREAMS; i++) {
            if (ctl_logs_page_stream(p, json_array_get(result, i), i, backward, &why) != 0) {
                rc = CTL_LOGS_BAD_RESPONSE;
            }
        }
    }
    if (rc == CTL_LOGS_BAD_RESPONSE) {
        buf_printf(err, "error: malformed response: %.*s\n", (int)why.len, why.data ? (const char *)why.data : "");
        p->nstreams = p->n = 0;
    } else {
        const json_t *w = json_object_get(p->root, "warnings");
        for (size_t i = 0; i < json_array_size(w); i++) {
            const json_t *s = json_array_get(w, i);
            if (json_is_string(s)) {
                buf_printf(err, "warning: %.*s\n", (int)json_string_length(s), json_string_value(s));
            }
        }
        if (rc == CTL_LOGS_STREAMS) {
            ctl_logs_page_merge(p, backward);
        }
    }
    buf_fini(&why);
    return rc;
}

/* ---- one entry as text ---- */

/* ns as RFC 3339 UTC with 9 fractional digits into dst (room for 40). */
static size_t ctl_logs_rfc3339_ns(int64_t ns, char *dst)
{
    int64_t ms = ns / CTL_LOGS_NS_PER_MS;
    int64_t sub = ns % CTL_LOGS_NS_PER_MS;
    if (sub < 0) {
        sub += CTL_LOGS_NS_PER_MS;
        ms--;
    }
    size_t n = time_format_rfc3339(ms, dst); /* "…ss.mmmZ" */
    n--;
    n += (size_t)snprintf(dst + n, 40 - n, "%06" PRId64 "Z", sub);
    return n;
}

void ctl_logs_format_entry(const ctl_logs_entry_t *e, ctl_logs_output_t mode, bool labels, buf_t *out)
{
    char t[48];
    switch (mode) {
    case CTL_LOGS_JSONL:
        buf_puts(out, "{\"ts\":\"");
        buf_append(out, t, ctl_logs_rfc3339_ns(e->ts_ns, t));
        buf_putc(out, '"');
        if (labels) {
            buf_puts(out, ",\"labels\":");
            buf_append(out, e->labels_json.p, e->labels_json.len);
        }
        buf_puts(out, ",\"line\":");
        json_str(out, e->line.p, e->line.len);
        buf_puts(out, "}\n");
        return;
    case CTL_LOGS_DEFAULT: {
        size_t n = ctl_logs_rfc3339_ns(e->ts_ns, t);
        buf_append(out, t, n - 7); /* milliseconds: drop six digits, keep 'Z' */
        buf_puts(out, "Z ");
        if (labels) {
            buf_append(out, e->labels.p, e->labels.len);
            buf_putc(out, ' ');
        }
        break;
    }
    case CTL_LOGS_RAW:
        break;
    }
    buf_append(out, e->line.p, e->line.len);
    if (e->line.len == 0 || e->line.p[e->line.len - 1] != '\n') {
        buf_putc(out, '\n');
    }
}

/* ---- the command ---- */

typedef struct ctl_logs_opts {
    char *url;
    char *start;
    char *end;
    int64_t since_ms;
    int64_t limit;
    int64_t batch;
    int direction; /* index into ctl_logs_directions */
    int output;    /* ctl_logs_output_t */
    bool no_labels;
    bool follow;
    int64_t interval_ms;
    char *step;
} ctl_logs_opts_t;

static const char *const ctl_logs_directions[] = { "forward", "backward", NULL };
static const char *const ctl_logs_outputs[] = { "default", "raw", "jsonl", NULL };

static const config_field_t ctl_logs_fields[] = {
    { .key = "url",
      .type = CFG_STR,
      .offset = offsetof(ctl_logs_opts_t, url),
      .help = "pharosd's base URL (default: $PHAROS_URL, else " CTL_DEFAULT_URL ")" },
    { .key = "since",
      .type = CFG_DURATION,
      .offset = offsetof(ctl_logs_opts_t, since_ms),
      .def = "1h",
      .min = 1,
      .max = 1LL << 42,
      .help = "Without --start, the range is this long, ending at --end" },
    { .key = "start",
      .type = CFG_STR,
      .offset = offsetof(ctl_logs_opts_t, start),
      .help = "Start of the range (overrides --since): now, now-<duration>, -<duration>, Unix seconds or RFC 3339" },
    { .key = "end",
      .type = CFG_STR,
      .offset = offsetof(ctl_logs_opts_t, end),
      .def = "now",
      .help = "End of the range (exclusive), same forms as --start" },
    { .key = "limit",
      .type = CFG_INT,
      .offset = offsetof(ctl_logs_opts_t, limit),
      .def = "1000",
      .min = 1,
      .max = 1LL << 50,
      .help = "Most lines printed from the range (--follow then prints every new line after it)" },
    { .key = "batch",
      .type = CFG_INT,
      .offset = offsetof(ctl_logs_opts_t, batch),
      .def = "1000",
      .min = 1,
      .max = CTL_LOGS_MAX_PAGE,
      .help = "Lines asked per request; more requests page through the range" },
    { .key = "direction",
      .type = CFG_ENUM,
      .offset = offsetof(ctl_logs_opts_t, direction),
      .def = "forward",
      .enum_values = ctl_logs_directions,
      .help = "forward: oldest first; backward: newest first" },
    { .key = "output",
      .type = CFG_ENUM,
      .offset = offsetof(ctl_logs_opts_t, output),
      .def = "default",
      .enum_values = ctl_logs_outputs,
      .help = "default: time, labels, line; raw: the line alone; jsonl: {\"ts\",\"labels\",\"line\"} per line" },
    { .key = "no-labels",
      .type = CFG_BOOL,
      .offset = offsetof(ctl_logs_opts_t, no_labels),
      .help = "Leave out the stream labels" },
    { .key = "follow",
      .type = CFG_BOOL,
      .offset = offsetof(ctl_logs_opts_t, follow),
      .help = "-f: after the range, print new lines as they arrive, until Ctrl-C" },
    { .key = "interval",
      .type = CFG_DURATION,
      .offset = offsetof(ctl_logs_opts_t, interval_ms),
      .def = "1s",
      .min = 1,
      .max = 1LL << 40,
      .help = "--follow: time between two polls" },
    { .key = "step",
      .type = CFG_STR,
      .offset = offsetof(ctl_logs_opts_t, step),
      .help = "Metric queries: resolution, a duration or seconds (default: the server's, range/250 and >= 1s)" },
};

static const ctl_args_short_t ctl_logs_shorts[] = { { 'f', "follow" } };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

void ctl_logs_usage(FILE *out)
{
    fprintf(out, "Usage: pharosctl logs [flags] [--] QUERY\n\n"
                 "Print the log lines a LogQL query selects, oldest first, as \"TIME {LABELS} LINE\"\n"
                 "(GET /loki/api/v1/query_range). A metric query prints as query-range does.\n\nFlags:\n");
    config_print_help(out, ctl_logs_fields, NELEM(ctl_logs_fields));
    fprintf(out, "\nExit status: 0 ok, 1 the server answered an error, 2 usage error, 3 server unreachable.\n");
}

/* One line printed at the edge timestamp: labels text then line, in edge_text. */
typedef struct ctl_logs_seen {
    size_t off, lab_len, line_len;
    bool matched; /* already dropped from the current page */
} ctl_logs_seen_t;

typedef struct ctl_logs_ctx {
    const ctl_env_t *env;
    const ctl_logs_opts_t *o;
    const char *query;
    const char *base;
    size_t blen;
    bool backward;
    httpc_t *http;
    ctl_logs_page_t *page;
    buf_t url, form, body, out, err;
    /* the edge: the last timestamp printed and the lines printed at it */
    bool have_edge;
    int64_t edge_ts;
    buf_t edge_text;
    ctl_logs_seen_t *seen;
    size_t nseen, cap_seen;
    bool warned;   /* warnings are printed once */
    bool stop;     /* SIGINT/SIGTERM while following */
    sigset_t sigs; /* SIGINT, SIGTERM */
} ctl_logs_ctx_t;

/* Sleep ms, or less when SIGINT/SIGTERM is pending (they are blocked
 * while following); sets c->stop when one was taken. ms 0: only check. */
static void ctl_logs_wait(ctl_logs_ctx_t *c, int64_t ms)
{
    if (!c->o->follow) {
        return;
    }
    struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L };
    int sig = 0;
    do {
        sig = sigtimedwait(&c->sigs, NULL, &ts);
    } while (sig < 0 && errno == EINTR);
    if (sig > 0) {
        c->stop = true;
    }
}

/* ns as a Loki time parameter: integer ns, unless Loki would read it as
 * seconds (|ns| <= 1e10), then RFC 3339. */
static void ctl_logs_form_time(buf_t *b, const char *key, int64_t ns)
{
    char t[48];
    if (ns > CTL_LOGS_SECONDS_MAX_NS || ns < -CTL_LOGS_SECONDS_MAX_NS) {
        snprintf(t, sizeof(t), "%" PRId64, ns);
    } else {
        ctl_logs_rfc3339_ns(ns, t);
    }
    ctl_query_form(b, key, t);
}

/* The server's answer to a failed request on stderr. */
static void ctl_logs_server_error(ctl_logs_ctx_t *c, const httpc_result_t *res)
{
    const char *u = (const char *)c->url.data;
    int path_len = (int)(strchr(u, '?') - u);
    size_t n = c->body.len;
    while (n > 0 && (c->body.data[n - 1] == '\n' || c->body.data[n - 1] == '\r' || c->body.data[n - 1] == ' ')) {
        n--;
    }
    bool text = strncmp(res->content_type, "text/plain", 10) == 0;
    if (res->http_code != 404 && text && n > 0) {
        fprintf(c->env->err, "error: %.*s\n", (int)n, (const char *)c->body.data);
    } else {
        fprintf(c->env->err, "error: %.*s answered HTTP %ld: %s\n", path_len, u, res->http_code,
                res->error[0] ? res->error : "(no message)");
    }
}

/* One request for [start, end) into c->page. CTL_EXIT_OK with *metric
 * set for a metric answer (left in c->body), or the exit status after
 * printing why. */
static int ctl_logs_fetch(ctl_logs_ctx_t *c, int64_t start, int64_t end, size_t limit, bool *metric)
{
    buf_reset(&c->url);
    buf_reset(&c->body);
    buf_reset(&c->err);
    buf_printf(&c->url, "%.*s/loki/api/v1/query_range?", (int)c->blen, c->base);
    size_t qoff = c->url.len;
    buf_reset(&c->form);
    ctl_query_form(&c->form, "query", c->query);
    ctl_logs_form_time(&c->form, "start", start);
    ctl_logs_form_time(&c->form, "end", end);
    buf_printf(&c->form, "&limit=%zu&direction=%s", limit, c->backward ? "backward" : "forward");
    if (c->o->step) {
        ctl_query_form(&c->form, "step", c->o->step);
    }
    buf_append(&c->url, c->form.data, c->form.len);
    static const char *const headers[] = { "Accept: application/json", NULL };
    httpc_result_t res;
    httpc_get(c->http, (const char *)c->url.data, headers, &c->body, &res);
    if (res.http_code == 0) {
        fprintf(c->env->err, "error: cannot reach %.*s: %s\n", (int)(qoff - 1), (const char *)c->url.data, res.error);
        return CTL_EXIT_UNREACHABLE;
    }
    if (res.status != HTTPC_OK) {
        ctl_logs_server_error(c, &res);
        return CTL_EXIT_QUERY;
    }
    ctl_logs_rc_t rc =
        ctl_logs_page_parse(c->page, c->body.data ? (const char *)c->body.data : "", c->body.len, c->backward, &c->err);
    *metric = rc == CTL_LOGS_METRIC;
    if (rc == CTL_LOGS_BAD_RESPONSE || (rc == CTL_LOGS_STREAMS && !c->warned && c->err.len > 0)) {
        fwrite(c->err.data, 1, c->err.len, c->env->err);
        fflush(c->env->err);
        c->warned = true;
    }
    return rc == CTL_LOGS_BAD_RESPONSE ? CTL_EXIT_QUERY : CTL_EXIT_OK;
}

/* Was e printed at the edge already (and not yet matched on this page)?
 * Marks the match. O(lines at the edge). */
static bool ctl_logs_edge_take(ctl_logs_ctx_t *c, const ctl_logs_entry_t *e)
{
    if (!c->have_edge || e->ts_ns != c->edge_ts) {
        return false;
    }
    for (size_t i = 0; i < c->nseen; i++) {
        ctl_logs_seen_t *s = &c->seen[i];
        const uint8_t *t = c->edge_text.data + s->off;
        if (!s->matched && s->lab_len == e->labels.len && s->line_len == e->line.len &&
            memcmp(t, e->labels.p, s->lab_len) == 0 && memcmp(t + s->lab_len, e->line.p, s->line_len) == 0) {
            s->matched = true;
            return true;
        }
    }
    return false;
}

/* e was printed: it is the edge now. */
static void ctl_logs_edge_add(ctl_logs_ctx_t *c, const ctl_logs_entry_t *e)
{
    if (!c->have_edge || e->ts_ns != c->edge_ts) {
        c->have_edge = true;
        c->edge_ts = e->ts_ns;
        c->nseen = 0;
        buf_reset(&c->edge_text);
    }
    if (c->nseen == c->cap_seen) {
        c->cap_seen = c->cap_seen ? c->cap_seen * 2 : 64;
        c->seen = mem_realloc(c->seen, c->cap_seen * sizeof(*c->seen));
    }
    c->seen[c->nseen++] = (ctl_logs_seen_t){
        .off = c->edge_text.len, .lab_len = e->labels.len, .line_len = e->line.len, .matched = true
    };
    buf_append(&c->edge_text, e->labels.p, e->labels.len);
    buf_append(&c->edge_text, e->line.p, e->line.len);
}

/* Print the page's lines not printed before, up to *remaining of them;
 * [out] *printed their count, *all whether the whole page was seen. */
static void ctl_logs_emit(ctl_logs_ctx_t *c, size_t *remaining, size_t *printed, bool *all)
{
    for (size_t i = 0; i < c->nseen; i++) {
        c->seen[i].matched = false;
    }
    buf_reset(&c->out);
    size_t n = ctl_logs_page_count(c->page), i = 0;
    *printed = 0;
    for (; i<n && * remaining> 0; i++) {
        ctl_logs_entry_t e;
        ctl_logs_page_entry(c->page, i, &e);
        if (ctl_logs_edge_take(c, &e)) {
            continue;
        }
        ctl_logs_format_entry(&e, (ctl_logs_output_t)c->o->output, !c->o->no_labels, &c->out);
        ctl_logs_edge_add(c, &e);
        (*remaining)--;
        (*printed)++;
    }
    *all = i == n;
    fwrite(c->out.data ? c->out.data : (const uint8_t *)"", 1, c->out.len, c->env->out);
    fflush(c->env->out);
}

/* Print [start, end) page by page, at most *remaining lines (decremented).
 * CTL_EXIT_OK, or the exit status of a failed request. [out] *metric: the
 * answer was a metric one (in c->body, nothing printed); [out] *cut: it
 * stopped at *remaining == 0 while more lines may exist. */
static int ctl_logs_range(ctl_logs_ctx_t *c, int64_t start, int64_t end, size_t *remaining, bool *metric, bool *cut)
{
    *cut = false;
    for (;;) {
        size_t want = *remaining < (size_t)c->o->batch ? *remaining : (size_t)c->o->batch;
        size_t limit = c->have_edge ? want + c->nseen : want;
        limit = limit > CTL_LOGS_MAX_PAGE ? CTL_LOGS_MAX_PAGE : limit;
        int rc = ctl_logs_fetch(c, start, end, limit, metric);
        if (rc != CTL_EXIT_OK || *metric) {
            return rc;
        }
        size_t printed = 0;
        bool all = false;
        ctl_logs_emit(c, remaining, &printed, &all);
        if (!all || (*remaining == 0 && ctl_logs_page_count(c->page) >= limit)) {
            *cut = true;
            return CTL_EXIT_OK;
        }
        if (ctl_logs_page_count(c->page) < limit || *remaining == 0) {
            return CTL_EXIT_OK;
        }
        if (printed == 0) {
            /* A full page of lines printed before: more than a page share one nanosecond. */
            char t[48];
            ctl_logs_rfc3339_ns(c->edge_ts, t);
            fprintf(c->env->err, "warning: more than %zu lines at %s; the rest of them are skipped\n", limit, t);
            c->nseen = 0;
            if (c->edge_ts == (c->backward ? INT64_MIN : INT64_MAX)) {
                return CTL_EXIT_OK;
            }
            c->edge_ts += c->backward ? -1 : 1;
        }
        if (c->backward) {
            end = c->edge_ts == INT64_MAX ? INT64_MAX : c->edge_ts + 1;
        } else {
            start = c->edge_ts;
        }
        ctl_logs_wait(c, 0);
        if (c->stop) {
            return CTL_EXIT_OK;
        }
    }
}

/* A metric answer (in c->body) as query-range prints it. */
static int ctl_logs_metric(ctl_logs_ctx_t *c)
{
    buf_reset(&c->out);
    buf_reset(&c->err);
    ctl_format_rc_t frc = ctl_format_result(c->body.data ? (const char *)c->body.data : "", c->body.len,
                                            c->o->output != CTL_LOGS_JSONL, &c->out, &c->err);
    fwrite(c->err.data ? c->err.data : (const uint8_t *)"", 1, c->err.len, c->env->err);
    fflush(c->env->err);
    fwrite(c->out.data ? c->out.data : (const uint8_t *)"", 1, c->out.len, c->env->out);
    if (frc == CTL_FORMAT_OK && c->o->follow) {
        fprintf(c->env->err, "note: --follow applies to log queries only\n");
    }
    return frc == CTL_FORMAT_OK ? CTL_EXIT_OK : CTL_EXIT_QUERY;
}

/* After the range: poll [edge, now) until a signal or env->max_polls. */
static int ctl_logs_follow(ctl_logs_ctx_t *c, int64_t from)
{
    for (int polls = 0; c->env->max_polls <= 0 || polls < c->env->max_polls; polls++) {
        ctl_logs_wait(c, c->o->interval_ms);
        if (c->stop) {
            break;
        }
        int64_t now = clock_now_ms(&c->env->clock);
        if (now > INT64_MAX / CTL_LOGS_NS_PER_MS || now * CTL_LOGS_NS_PER_MS <= from) {
            continue;
        }
        size_t remaining = SIZE_MAX;
        bool metric = false, cut = false;
        int rc = ctl_logs_range(c, from, now * CTL_LOGS_NS_PER_MS, &remaining, &metric, &cut);
        if (rc != CTL_EXIT_OK || metric || c->stop) {
            return rc;
        }
        from = c->have_edge && c->edge_ts > from ? c->edge_ts : from;
    }
    return CTL_EXIT_OK;
}

static int ctl_logs_usage_error(const ctl_env_t *env, const char *msg)
{
    fprintf(env->err, "pharosctl logs: %s\nRun 'pharosctl logs --help' for usage.\n", msg);
    return CTL_EXIT_USAGE;
}

/* A time flag in ns; false after printing the usage error. */
static bool ctl_logs_time(const ctl_env_t *env, const char *flag, const char *v, int64_t now_ms, int64_t *ns)
{
    int64_t ms = 0;
    char msg[512];
    if (!ctl_query_parse_time(v, now_ms, &ms)) {
        snprintf(msg, sizeof(msg),
                 "flag --%s: invalid time \"%s\" (now, now-<duration>, -<duration>, Unix seconds or RFC 3339)", flag,
                 v);
    } else if (__builtin_mul_overflow(ms, CTL_LOGS_NS_PER_MS, ns)) {
        snprintf(msg, sizeof(msg), "flag --%s: time \"%s\" is out of range (years 1678 to 2262)", flag, v);
    } else {
        return true;
    }
    ctl_logs_usage_error(env, msg);
    return false;
}

/* Flags into a range; CTL_EXIT_OK or a usage error already printed. */
static int ctl_logs_check(const ctl_env_t *env, const ctl_logs_opts_t *o, int64_t *start, int64_t *end)
{
    int64_t now = clock_now_ms(&env->clock);
    if (!ctl_logs_time(env, "end", o->end, now, end)) {
        return CTL_EXIT_USAGE;
    }
    if (o->start) {
        if (!ctl_logs_time(env, "start", o->start, now, start)) {
            return CTL_EXIT_USAGE;
        }
    } else if (__builtin_sub_overflow(*end, o->since_ms * CTL_LOGS_NS_PER_MS, start)) {
        return ctl_logs_usage_error(env, "flag --since: the range starts before year 1678");
    }
    if (*end < *start) {
        return ctl_logs_usage_error(env, "--end is before --start");
    }
    int64_t step = 0;
    if (o->step && !ctl_query_parse_step(o->step, &step)) {
        char msg[300];
        snprintf(msg, sizeof(msg), "flag --step: invalid step \"%.200s\" (a positive duration or seconds)", o->step);
        return ctl_logs_usage_error(env, msg);
    }
    if (o->follow && o->direction != 0) {
        return ctl_logs_usage_error(env, "--follow reads forward: drop --direction=backward");
    }
    return CTL_EXIT_OK;
}

/* The range, then --follow. */
static int ctl_logs_exec(ctl_logs_ctx_t *c, int64_t start, int64_t end)
{
    size_t remaining = (size_t)c->o->limit;
    bool metric = false, cut = false;
    int rc = ctl_logs_range(c, start, end, &remaining, &metric, &cut);
    if (rc != CTL_EXIT_OK) {
        return rc;
    }
    if (metric) {
        return ctl_logs_metric(c);
    }
    if (cut) {
        fprintf(c->env->err, "note: stopped at --limit %" PRId64 " lines; the range may hold more%s\n", c->o->limit,
                c->o->follow ? " (not shown: following from the end of the range)" : "");
        fflush(c->env->err);
    }
    if (!c->o->follow || c->stop) {
        return CTL_EXIT_OK;
    }
    int64_t from = !cut && c->have_edge ? c->edge_ts : end;
    return ctl_logs_follow(c, from);
}

int ctl_logs_run(const ctl_env_t *env, int argc, char **argv)
{
    ctl_logs_opts_t o;
    memset(&o, 0, sizeof(o));
    const char **pos = mem_calloc((size_t)argc, sizeof(*pos));
    size_t npos = 0;
    char err[600];
    int rc = CTL_EXIT_USAGE;
    ctl_logs_ctx_t c;
    memset(&c, 0, sizeof(c));
    sigset_t old;
    bool masked = false;
    if (config_defaults(ctl_logs_fields, NELEM(ctl_logs_fields), &o, err, sizeof(err)) != 0 ||
        ctl_args_parse_short(argc, argv, ctl_logs_fields, NELEM(ctl_logs_fields), ctl_logs_shorts,
                             NELEM(ctl_logs_shorts), &o, pos, &npos, err, sizeof(err)) != 0) {
        rc = ctl_logs_usage_error(env, err);
        goto done;
    }
    if (npos != 1) {
        rc = ctl_logs_usage_error(env, npos == 0 ? "missing QUERY" : "more than one QUERY (quote it)");
        goto done;
    }
    const char *base = o.url ? o.url : env->default_url && env->default_url[0] ? env->default_url : CTL_DEFAULT_URL;
    if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0) {
        snprintf(err, sizeof(err), "%s: want http://host:port or https://host:port, got \"%.200s\"",
                 o.url ? "flag --url" : "$PHAROS_URL", base);
        rc = ctl_logs_usage_error(env, err);
        goto done;
    }
    int64_t start = 0, end = 0;
    rc = ctl_logs_check(env, &o, &start, &end);
    if (rc != CTL_EXIT_OK) {
        goto done;
    }
    c.env = env;
    c.o = &o;
    c.query = pos[0];
    c.base = base;
    c.blen = strlen(base);
    while (c.blen > 0 && base[c.blen - 1] == '/') {
        c.blen--;
    }
    c.backward = o.direction == 1;
    c.http = httpc_create(CTL_LOGS_WAIT_MS);
    c.page = ctl_logs_page_create();
    if (!c.http) {
        fprintf(env->err, "error: cannot initialise libcurl\n");
        rc = CTL_EXIT_UNREACHABLE;
        goto done;
    }
    if (o.follow) {
        sigemptyset(&c.sigs);
        sigaddset(&c.sigs, SIGINT);
        sigaddset(&c.sigs, SIGTERM);
        masked = pthread_sigmask(SIG_BLOCK, &c.sigs, &old) == 0;
    }
    rc = ctl_logs_exec(&c, start, end);
done:
    if (masked) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    httpc_destroy(c.http);
    ctl_logs_page_destroy(c.page);
    buf_fini(&c.url);
    buf_fini(&c.form);
    buf_fini(&c.body);
    buf_fini(&c.out);
    buf_fini(&c.err);
    buf_fini(&c.edge_text);
    mem_free(c.seen);
    mem_free(pos);
    config_free(ctl_logs_fields, NELEM(ctl_logs_fields), &o);
    return rc;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for alerts/alerts_recv_github.c against a loopback fake GitHub
 * (issues, comments, state, listing) that checks paths, headers and
 * bodies: the flow fire -> repeat -> resolve -> fire again with both
 * `reopen` settings, never two open issues for a group, the mapping
 * surviving a destroyed and recreated state, a kv put failing after the
 * issue was created and a create that timed out after GitHub made the
 * issue (found by its marker, never created twice), a refused create,
 * a close that failed after the resolve comment (not commented twice),
 * the rate-limit answers (Retry-After, x-ratelimit-remaining 0,
 * secondary limits, plain 403, hostile reset times), and a mapped issue
 * lost (404, 410, locked) in every phase.
 */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "alerts_recv_testlib.h"

#define GROUP "{}:{alertname=\"HighLatency\"}"
#define MAX_ISSUES 16

typedef struct gh_issue {
    int number;
    bool open;
    char *title;
    char *body;
    char labels[128];
    int comments;
    char *last_comment;
    int gone;    /* 404 or 410: deleted, transferred, issues disabled */
    bool locked; /* comments answer 403 */
} gh_issue_t;

typedef struct gh_fake {
    gh_issue_t issues[MAX_ISSUES];
    int n;
    int bad_headers; /* requests missing a required header */
    int bad_bodies;  /* requests whose body breaks GitHub's schema */
    int create_delay_ms;
    int lists;
} gh_fake_t;

static void gh_fake_clear(gh_fake_t *g)
{
    for (int i = 0; i < g->n; i++) {
        free(g->issues[i].title);
        free(g->issues[i].body);
        free(g->issues[i].last_comment);
    }
    memset(g, 0, sizeof(*g));
}

static void gh_json(http_resp_t *resp, int status, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    resp->status = status;
    resp->content_type = "application/json; charset=utf-8";
    buf_puts(&resp->body, s);
    free(s);
    json_decref(j);
}

static json_t *gh_issue_json(const gh_issue_t *is)
{
    return json_pack("{s:i, s:s, s:s, s:s, s:s}", "number", is->number, "state", is->open ? "open" : "closed", "title",
                     is->title, "body", is->body, "html_url", "https://github.com/o/r/issues/x");
}

static void gh_handler(fake_t *f, const fake_req_t *r, http_resp_t *resp)
{
    gh_fake_t *g = f->ctx;
    if (strcmp(r->auth, "Bearer tok-123") != 0 || strcmp(r->accept, "application/vnd.github+json") != 0 ||
        strcmp(r->api_version, "2022-11-28") != 0 || r->user_agent[0] == '\0') {
        g->bad_headers++;
        http_resp_text(resp, 401, "{\"message\":\"Bad credentials\"}");
        return;
    }
    const char *prefix = "/repos/o/r/issues";
    if (strncmp(r->path, prefix, strlen(prefix)) != 0) {
        http_resp_text(resp, 404, "{\"message\":\"Not Found\"}");
        return;
    }
    const char *rest = r->path + strlen(prefix);
    json_error_t e;
    json_t *in = r->len ? json_loads(r->body, 0, &e) : NULL;
    if (strcmp(rest, "") == 0 && strcmp(r->method, "POST") == 0) {
        const char *title = json_string_value(json_object_get(in, "title"));
        const char *body = json_string_value(json_object_get(in, "body"));
        json_t *labels = json_object_get(in, "labels");
        if (!title || !*title || !body || !json_is_array(labels) || g->n >= MAX_ISSUES) {
            g->bad_bodies++;
            http_resp_text(resp, 422, "{\"message\":\"Validation Failed\"}");
            json_decref(in);
            return;
        }
        gh_issue_t *is = &g->issues[g->n++];
        is->number = g->n;
        is->open = true;
        is->title = strdup(title);
        is->body = strdup(body);
        size_t i;
        json_t *l;
        json_array_foreach(labels, i, l)
        {
            const char *ls = json_string_value(l);
            if (!ls) {
                g->bad_bodies++;
                continue;
            }
            strncat(is->labels, ls, sizeof(is->labels) - strlen(is->labels) - 2);
            strcat(is->labels, ",");
        }
        gh_json(resp, 201, gh_issue_json(is));
        json_decref(in);
        if (g->create_delay_ms) {
            usleep((useconds_t)g->create_delay_ms * 1000);
            g->create_delay_ms = 0;
        }
        return;
    }
    if (strcmp(rest, "") == 0 && strcmp(r->method, "GET") == 0) {
        g->lists++;
        if (r->since[0] == '\0') {
            g->bad_bodies++;
        }
        json_t *arr = json_array();
        for (int i = g->n - 1; i >= 0; i--) {
            json_array_append_new(arr, gh_issue_json(&g->issues[i]));
        }
        gh_json(resp, 200, arr);
        return;
    }
    int num = 0;
    char tail[32] = "";
    if (sscanf(rest, "/%d%31s", &num, tail) < 1 || num < 1 || num > g->n) {
        http_resp_text(resp, 404, "{\"message\":\"Not Found\"}");
        json_decref(in);
        return;
    }
    gh_issue_t *is = &g->issues[num - 1];
    if (is->gone) {
        http_resp_text(resp, is->gone,
                       is->gone == 410 ? "{\"message\":\"This issue was deleted\"}" : "{\"message\":\"Not Found\"}");
        json_decref(in);
        return;
    }
    if (is->locked && strcmp(tail, "/comments") == 0) {
        http_resp_text(resp, 403,
                       "{\"message\":\"Unable to create comment because issue is locked.\",\"documentation_url\":"
                       "\"https://docs.github.com/articles/locking-conversations/\"}");
        json_decref(in);
        return;
    }
    if (strcmp(tail, "/comments") == 0 && strcmp(r->method, "POST") == 0) {
        const char *body = json_string_value(json_object_get(in, "body"));
        if (!body || !*body) {
            g->bad_bodies++;
            http_resp_text(resp, 422, "{\"message\":\"Validation Failed\"}");
        } else {
            is->comments++;
            free(is->last_comment);
            is->last_comment = strdup(body);
            gh_json(resp, 201, json_pack("{s:i}", "id", 1000 + is->comments));
        }
    } else if (tail[0] == '\0' && strcmp(r->method, "PATCH") == 0) {
        const char *st = json_string_value(json_object_get(in, "state"));
        const char *reason = json_string_value(json_object_get(in, "state_reason"));
        if (st && strcmp(st, "closed") == 0 && reason && strcmp(reason, "completed") == 0) {
            is->open = false;
            gh_json(resp, 200, gh_issue_json(is));
        } else if (st && strcmp(st, "open") == 0) {
            is->open = true;
            gh_json(resp, 200, gh_issue_json(is));
        } else {
            g->bad_bodies++;
            http_resp_text(resp, 422, "{\"message\":\"Validation Failed\"}");
        }
    } else {
        http_resp_text(resp, 404, "{\"message\":\"Not Found\"}");
    }
    json_decref(in);
}

typedef struct fx {
    fake_t *f;
    gh_fake_t g;
    memkv_t kv;
    fakeclock_t clk;
    arena_t *a;
    const alerts_recv_type_t *t;
} fx_t;

static int setup(void **state)
{
    fx_t *x = calloc(1, sizeof(*x));
    x->f = fake_start(gh_handler, &x->g);
    x->a = arena_create(4096);
    x->t = test_recv_type("github_configs");
    *state = x;
    return x->t ? 0 : -1;
}

static int teardown(void **state)
{
    fx_t *x = *state;
    fake_stop(x->f);
    gh_fake_clear(&x->g);
    memkv_clear(&x->kv);
    arena_destroy(x->a);
    free(x);
    return 0;
}

static int reset(void **state)
{
    fx_t *x = *state;
    fake_reset(x->f);
    pthread_mutex_lock(&x->f->mu);
    gh_fake_clear(&x->g);
    pthread_mutex_unlock(&x->f->mu);
    memkv_clear(&x->kv);
    x->clk.now = (int64_t)time(NULL) * 1000;
    return 0;
}

static void *cfg_for(fx_t *x, const char *extra)
{
    buf_t y = { 0 };
    buf_printf(&y, "api_url: %s/\nowner: o\nrepo: r\ntoken: tok-123\nlabels: [alert, pharos]\n%s", x->f->base, extra);
    void *cfg = test_cfg(x->t, (const char *)y.data, x->a);
    buf_fini(&y);
    return cfg;
}

/* Send with nfiring alerts firing (0: all resolved). */
static alerts_send_result_t send_n(fx_t *x, const void *cfg, void *st, size_t nfiring, bool repeat, long timeout)
{
    test_notif_t tn;
    test_notif_init(&tn, nfiring, GROUP);
    tn.n.repeat = repeat;
    x->clk.now += 60000;
    return test_send(x->t, cfg, st, &x->kv, &x->clk, timeout, &tn.n);
}

#define SEND_OK(x, cfg, st, nf, rep)                                                                                   \
    do {                                                                                                               \
        alerts_send_result_t r_ = send_n((x), (cfg), (st), (nf), (rep), 2000);                                         \
        if (r_.status != ALERTS_SEND_OK) {                                                                             \
            fail_msg("send: status %d: %s", r_.status, r_.msg);                                                        \
        }                                                                                                              \
    } while (0)

static int open_issues(fx_t *x)
{
    int n = 0;
    for (int i = 0; i < x->g.n; i++) {
        n += x->g.issues[i].open && !x->g.issues[i].gone;
    }
    return n;
}

static const char *mapping(fx_t *x)
{
    char gid[33];
    alerts_recv_group_id(GROUP, gid);
    for (size_t i = 0; i < x->kv.n; i++) {
        if (strcmp(x->kv.k[i], gid) == 0) {
            return x->kv.v[i];
        }
    }
    return "";
}

static void check_clean(fx_t *x)
{
    assert_int_equal(x->g.bad_headers, 0);
    assert_int_equal(x->g.bad_bodies, 0);
    assert_true(open_issues(x) <= 1);
}

static void test_flow_new_issue(void **state)
{
    fx_t *x = *state;
    void *cfg = cfg_for(x, "");
    void *st = x->t->state_create(cfg);

    SEND_OK(x, cfg, st, 2, false);
    assert_int_equal(x->g.n, 1);
    gh_issue_t *is = &x->g.issues[0];
    assert_true(is->open);
    assert_string_equal(is->title, "HighLatency (critical)");
    assert_string_equal(is->labels, "alert,pharos,");
    char gid[33], marker[64];
    alerts_recv_group_id(GROUP, gid);
    snprintf(marker, sizeof(marker), "<!-- pharos:group=%s -->", gid);
    assert_non_null(strstr(is->body, marker));
    assert_non_null(strstr(is->body, "[FIRING:2] HighLatency (critical)"));
    assert_non_null(strstr(is->body, "instance = b:9100"));
    assert_string_equal(mapping(x), "open 1");

    SEND_OK(x, cfg, st, 2, true); /* repeat */
    assert_int_equal(x->g.issues[0].comments, 1);
    SEND_OK(x, cfg, st, 1, false); /* one resolved: still firing */
    assert_int_equal(x->g.issues[0].comments, 2);
    assert_int_equal(x->g.n, 1);

    SEND_OK(x, cfg, st, 0, false); /* resolved: comment and close */
    assert_int_equal(x->g.issues[0].comments, 3);
    assert_non_null(strstr(x->g.issues[0].last_comment, "RESOLVED"));
    assert_false(x->g.issues[0].open);
    assert_string_equal(mapping(x), "closed 1");
    SEND_OK(x, cfg, st, 0, false); /* resolved again: nothing */
    assert_int_equal(x->g.issues[0].comments, 3);

    SEND_OK(x, cfg, st, 1, false); /* fires again: a new issue */
    assert_int_equal(x->g.n, 2);
    assert_false(x->g.issues[0].open);
    assert_true(x->g.issues[1].open);
    assert_string_equal(mapping(x), "open 2");
    SEND_OK(x, cfg, st, 0, false);
    assert_int_equal(open_issues(x), 0);
    assert_int_equal(x->g.lists, 0);
    check_clean(x);
    x->t->state_destroy(st);
}

static void test_flow_reopen(void **state)
{
    fx_t *x = *state;
    void *cfg = cfg_for(x, "reopen: true\n");
    void *st = x->t->state_create(cfg);
    SEND_OK(x, cfg, st, 2, false);
    SEND_OK(x, cfg, st, 0, false);
    assert_false(x->g.issues[0].open);
    SEND_OK(x, cfg, st, 2, false);
    assert_int_equal(x->g.n, 1);
    assert_true(x->g.issues[0].open);
    assert_int_equal(x->g.issues[0].comments, 2); /* the resolve one, the re-fire one */
    assert_non_null(strstr(x->g.issues[0].last_comment, "FIRING:2"));
    assert_string_equal(mapping(x), "open 1");
    SEND_OK(x, cfg, st, 2, true);
    assert_int_equal(x->g.issues[0].comments, 3);
    check_clean(x);
    x->t->state_destroy(st);
}

/* The mapping lives in the kv: a new state (a restart) continues it. */
static void test_restart(void **state)
{
    fx_t *x = *state;
    void *cfg = cfg_for(x, "");
    void *st = x->t->state_create(cfg);
    SEND_OK(x, cfg, st, 2, false);
    x->t->state_destroy(st);
    st = x->t->state_create(cfg);
    SEND_OK(x, cfg, st, 2, true);
    assert_int_equal(x->g.n, 1);
    assert_int_equal(x->g.issues[0].comments, 1);
    x->t->state_destroy(st);
    st = x->t->state_create(cfg);
    SEND_OK(x, cfg, st, 0, false);
    assert_false(x->g.issues[0].open);
    check_clean(x);
    x->t->state_destroy(st);
}

/* The issue is created but storing its number fails: RETRY, and the retry
 * finds the issue by its marker instead of creating another. */
static void test_put_fails_after_create(void **state)
{
    fx_t *x = *state;
    void *cfg = cfg_for(x, "");
    void *st = x->t->state_create(cfg);
    x->kv.ok_puts = 1; /* "creating" is stored, "open 1" is not */
    x->kv.fail_puts = 1;
    alerts_send_result_t res = send_n(x, cfg, st, 2, false, 2000);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_non_null(strstr(res.msg, "issue #1 created"));
    assert_int_equal(x->g.n, 1);
    assert_true(strncmp(mapping(x), "creating ", 9) == 0);
    x->t->state_destroy(st);
    st = x->t->state_create(cfg); /* and a restart in between */
    SEND_OK(x, cfg, st, 2, false);
    assert_int_equal(x->g.n, 1);
    assert_int_equal(x->g.lists, 1);
    assert_int_equal(x->g.issues[0].comments, 1);
    assert_string_equal(mapping(x), "open 1");

    /* the first put failing: nothing is done */
    SEND_OK(x, cfg, st, 0, false);
    x->kv.fail_puts = 1;
    res = send_n(x, cfg, st, 1, false, 2000);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(x->g.n, 1);
    SEND_OK(x, cfg, st, 1, false);
    assert_int_equal(x->g.n, 2);
    check_clean(x);
    x->t->state_destroy(st);
}

/* GitHub creates the issue but the answer comes after our timeout. */
static void test_create_timeout(void **state)
{
    fx_t *x = *state;
    void *cfg = cfg_for(x, "");
    void *st = x->t->state_create(cfg);
    x->g.create_delay_ms = 1200;
    alerts_send_result_t res = send_n(x, cfg, st, 2, false, 300);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(res.http_code, 0);
    usleep(1300 * 1000);
    SEND_OK(x, cfg, st, 2, false);
    assert_int_equal(x->g.n, 1);
    assert_int_equal(x->g.lists, 1);
    assert_string_equal(mapping(x), "open 1");
    /* a marker whose issue does not exist: created after the listing */
    memkv_put(&x->kv, x->kv.k[0], "creating 5");
    SEND_OK(x, cfg, st, 2, false);
    assert_int_equal(x->g.n, 2);
    assert_int_equal(x->g.lists, 2);
    x->t->state_destroy(st);
}

static void test_create_refused(void **state)
{
    fx_t *x = *state;
    void *cfg = cfg_for(x, "");
    void *st = x->t->state_create(cfg);
    fake_push(x->f, (fake_reply_t){ .status = 410, .body = "{\"message\":\"Issues are disabled for this repo\"}" });
    alerts_send_result_t res = send_n(x, cfg, st, 2, false, 2000);
    assert_int_equal(res.status, ALERTS_SEND_FAIL);
    assert_int_equal(res.http_code, 410);
    assert_non_null(strstr(res.msg, "Issues are disabled"));
    assert_null(strstr(res.msg, "tok-123"));
    assert_string_equal(mapping(x), "");
    SEND_OK(x, cfg, st, 2, false);
    assert_int_equal(x->g.n, 1);
    assert_int_equal(x->g.lists, 0);
    x->t->state_destroy(st);
}

/* The resolve comment is posted, the close fails: the retry only closes. */
static void test_close_fails(void **state)
{
    fx_t *x = *state;
    void *cfg = cfg_for(x, "");
    void *st = x->t->state_create(cfg);
    SEND_OK(x, cfg, st, 2, false);
    /* the comment goes to the handler; the PATCH gets a 502 */
    fake_push(x->f, (fake_reply_t){ .status = 201, .body = "{\"id\":1}" });
    fake_push(x->f, (fake_reply_t){ .status = 502, .body = "bad gateway" });
    alerts_send_result_t res = send_n(x, cfg, st, 0, false, 2000);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(res.http_code, 502);
    assert_string_equal(mapping(x), "resolving 1");
    size_t before = x->f->nreqs;
    SEND_OK(x, cfg, st, 0, false);
    assert_int_equal(x->f->nreqs, before + 1);
    assert_string_equal(x->f->reqs[before].method, "PATCH");
    assert_false(x->g.issues[0].open);
    assert_string_equal(mapping(x), "closed 1");
    x->t->state_destroy(st);
}

static void test_rate_limits(void **state)
{
    fx_t *x = *state;
    void *cfg = cfg_for(x, "");
    void *st = x->t->state_create(cfg);
    char reset_at[32];
    snprintf(reset_at, sizeof(reset_at), "%lld", (long long)(x->clk.now / 1000 + 60 + 120));

    /* primary limit exhausted: 403, remaining 0, reset in 2 min */
    fake_push(x->f, (fake_reply_t){ .status = 403,
                                    .body = "{\"message\":\"API rate limit exceeded\"}",
                                    .hdr = { { "x-ratelimit-remaining", "0" }, { "x-ratelimit-reset", reset_at } } });
    alerts_send_result_t res = send_n(x, cfg, st, 2, false, 2000);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(res.http_code, 403);
    assert_int_equal(res.retry_after_ms, 120000);
    size_t before = x->f->nreqs;
    res = send_n(x, cfg, st, 2, false, 2000); /* a minute later: still blocked, no request */
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(res.retry_after_ms, 60000);
    assert_int_equal(x->f->nreqs, before);
    x->clk.now += 60000;
    SEND_OK(x, cfg, st, 2, false);
    assert_int_equal(x->g.n, 1);

    /* secondary: 429 with Retry-After; 403 naming it without one */
    fake_push(x->f, (fake_reply_t){ .status = 429, .body = "{}", .hdr = { { "Retry-After", "7" } } });
    res = send_n(x, cfg, st, 2, true, 2000);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(res.retry_after_ms, 7000);
    fake_push(x->f,
              (fake_reply_t){ .status = 403,
                              .body = "{\"message\":\"You have exceeded a secondary rate limit. Please wait\"}" });
    res = send_n(x, cfg, st, 2, true, 2000);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(res.retry_after_ms, 60000);
    fake_push(x->f, (fake_reply_t){
                        .status = 403, .body = "{\"message\":\"Retry later\"}", .hdr = { { "Retry-After", "3" } } });
    res = send_n(x, cfg, st, 2, true, 2000);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(res.retry_after_ms, 3000);

    /* permissions: FAIL; server errors: RETRY */
    fake_push(x->f,
              (fake_reply_t){ .status = 403, .body = "{\"message\":\"Resource not accessible by integration\"}" });
    res = send_n(x, cfg, st, 2, true, 2000);
    assert_int_equal(res.status, ALERTS_SEND_FAIL);
    assert_non_null(strstr(res.msg, "Resource not accessible"));
    fake_push(x->f, (fake_reply_t){ .status = 500, .body = "{}" });
    res = send_n(x, cfg, st, 2, true, 2000);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    SEND_OK(x, cfg, st, 2, true);
    assert_int_equal(x->g.issues[0].comments, 1);
    check_clean(x);
    x->t->state_destroy(st);
}

/* x-ratelimit-reset far away or past int64: the wait is cut to 1 h, with
 * no overflow (UBSan would name one), and requests resume after it. */
static void test_rate_limit_reset_hostile(void **state)
{
    fx_t *x = *state;
    void *cfg = cfg_for(x, "");
    char far[32];
    snprintf(far, sizeof(far), "%lld", (long long)(x->clk.now / 1000 + 60 + 10LL * 365 * 86400));
    const char *resets[] = { far, "9223372036854775", "99999999999999999999999999" };
    void *st0 = x->t->state_create(cfg);
    SEND_OK(x, cfg, st0, 2, false); /* the issue: what follows are comments */
    x->t->state_destroy(st0);
    for (size_t i = 0; i < 3; i++) {
        void *st = x->t->state_create(cfg);
        fake_push(x->f,
                  (fake_reply_t){ .status = 403,
                                  .body = "{\"message\":\"API rate limit exceeded\"}",
                                  .hdr = { { "x-ratelimit-remaining", "0" }, { "x-ratelimit-reset", resets[i] } } });
        alerts_send_result_t res = send_n(x, cfg, st, 2, true, 2000);
        assert_int_equal(res.status, ALERTS_SEND_RETRY);
        assert_int_equal(res.http_code, 403);
        assert_int_equal(res.retry_after_ms, 3600000);
        size_t before = x->f->nreqs;
        res = send_n(x, cfg, st, 2, true, 2000); /* a minute later: blocked */
        assert_int_equal(res.status, ALERTS_SEND_RETRY);
        assert_int_equal(res.retry_after_ms, 3600000 - 60000);
        assert_int_equal(x->f->nreqs, before);
        x->clk.now += 3600000;
        SEND_OK(x, cfg, st, 2, true);
        assert_int_equal(x->f->nreqs, before + 1);
        x->t->state_destroy(st);
    }
    assert_int_equal(x->g.n, 1);
    assert_int_equal(x->g.issues[0].comments, 3);
    /* a reset in the past or not a number: no block */
    const char *noblock[] = { "1", "-99999999999999999999", "soon", "" };
    for (size_t i = 0; i < 4; i++) {
        void *st = x->t->state_create(cfg);
        fake_push(x->f,
                  (fake_reply_t){ .status = 403,
                                  .body = "{\"message\":\"API rate limit exceeded\"}",
                                  .hdr = { { "x-ratelimit-remaining", "0" }, { "x-ratelimit-reset", noblock[i] } } });
        alerts_send_result_t res = send_n(x, cfg, st, 2, true, 2000);
        assert_int_equal(res.status, ALERTS_SEND_RETRY);
        assert_int_equal(res.retry_after_ms, 60000); /* the secondary-limit wait: "rate limit" named */
        size_t before = x->f->nreqs;
        SEND_OK(x, cfg, st, 2, true);
        assert_int_equal(x->f->nreqs, before + 1);
        x->t->state_destroy(st);
    }
    check_clean(x);
}

/* Hostile numbers: a stored mapping that is not "<phase> <digits>" (a
 * sign, a blank, an overflow) counts as no mapping, so nothing is asked
 * of a made-up issue; an answer whose issue number is not positive is
 * not stored. */
static void test_hostile_numbers(void **state)
{
    fx_t *x = *state;
    void *cfg = cfg_for(x, "");
    void *st = x->t->state_create(cfg);
    char gid[33];
    alerts_recv_group_id(GROUP, gid);
    static const char *const bad_maps[] = { "open +7", "open  7", "open 99999999999999999999", "open -7", "open 7x" };
    for (size_t i = 0; i < sizeof(bad_maps) / sizeof(bad_maps[0]); i++) {
        fake_reset(x->f);
        assert_int_equal(memkv_put(&x->kv, gid, bad_maps[i]), 0);
        SEND_OK(x, cfg, st, 2, false);
        assert_true(x->f->nreqs >= 1);
        assert_string_equal(x->f->reqs[0].method, "POST");
        assert_string_equal(x->f->reqs[0].path, "/repos/o/r/issues");
        assert_int_equal(memkv_put(&x->kv, gid, NULL), 0);
    }
    static const char *const bad_answers[] = { "{\"number\":0}", "{\"number\":-3}", "{\"number\":\"4\"}" };
    for (size_t i = 0; i < sizeof(bad_answers) / sizeof(bad_answers[0]); i++) {
        fake_push(x->f, (fake_reply_t){ .status = 201, .body = bad_answers[i] });
        alerts_send_result_t res = send_n(x, cfg, st, 2, false, 2000);
        assert_int_equal(res.status, ALERTS_SEND_RETRY);
        assert_non_null(strstr(res.msg, "answer without a number"));
        assert_true(strncmp(mapping(x), "creating ", 9) == 0);
        assert_int_equal(memkv_put(&x->kv, gid, NULL), 0);
    }
    x->t->state_destroy(st);
}

/* The listing that finds a created issue may pass httpc's default 1 MiB
 * body limit (100 issues of up to 65536 chars): it reads up to 16 MiB. */
static void test_list_big(void **state)
{
    fx_t *x = *state;
    void *cfg = cfg_for(x, "");
    void *st = x->t->state_create(cfg);
    SEND_OK(x, cfg, st, 2, false);
    const char *cm = strstr(x->g.issues[0].body, "pharos:created=");
    assert_non_null(cm);
    char marker[64];
    snprintf(marker, sizeof(marker), "creating %lld", atoll(cm + strlen("pharos:created=")));
    char gid[33];
    alerts_recv_group_id(GROUP, gid);
    assert_int_equal(memkv_put(&x->kv, gid, marker), 0);
    for (int i = 0; i < 12; i++) { /* 12 newer issues of 200 KB each */
        gh_issue_t *is = &x->g.issues[x->g.n++];
        is->number = x->g.n;
        is->title = strdup("other");
        is->body = malloc(200001);
        memset(is->body, 'x', 200000);
        is->body[200000] = '\0';
    }
    SEND_OK(x, cfg, st, 2, true);
    assert_int_equal(x->g.lists, 1);
    assert_string_equal(mapping(x), "open 1");
    assert_int_equal(x->g.issues[0].comments, 1);
    check_clean(x);
    x->t->state_destroy(st);
}

/* The mapped issue lost: deleted (404, 410) or locked (403). A firing
 * group opens a new issue (a locked one is closed first); a resolving
 * group is done; never two open issues, never stuck. */
static void test_issue_lost(void **state)
{
    fx_t *x = *state;
    void *cfg = cfg_for(x, "");
    void *st = x->t->state_create(cfg);

    /* open, then deleted: the repeat opens issue 2 */
    SEND_OK(x, cfg, st, 2, false);
    assert_string_equal(mapping(x), "open 1");
    x->g.issues[0].gone = 404;
    SEND_OK(x, cfg, st, 2, true);
    assert_int_equal(x->g.n, 2);
    assert_true(x->g.issues[1].open);
    assert_string_equal(mapping(x), "open 2");
    SEND_OK(x, cfg, st, 2, true); /* and comments on it from then on */
    assert_int_equal(x->g.issues[1].comments, 1);

    /* locked: issue 2 closed, issue 3 opened */
    x->g.issues[1].locked = true;
    SEND_OK(x, cfg, st, 2, true);
    assert_int_equal(x->g.n, 3);
    assert_false(x->g.issues[1].open);
    assert_true(x->g.issues[2].open);
    assert_string_equal(mapping(x), "open 3");

    /* gone (410) when resolving: done, mapping dropped, no new issue */
    x->g.issues[2].gone = 410;
    SEND_OK(x, cfg, st, 0, false);
    assert_string_equal(mapping(x), "");
    assert_int_equal(x->g.n, 3);
    SEND_OK(x, cfg, st, 0, false); /* resolved again: nothing */
    assert_int_equal(x->g.n, 3);

    /* locked when resolving: no comment possible, closed all the same */
    SEND_OK(x, cfg, st, 1, false);
    assert_int_equal(x->g.n, 4);
    x->g.issues[3].locked = true;
    SEND_OK(x, cfg, st, 0, false);
    assert_false(x->g.issues[3].open);
    assert_string_equal(mapping(x), "closed 4");

    /* resolving (comment posted, close not) and then deleted: done */
    SEND_OK(x, cfg, st, 1, false);
    assert_int_equal(x->g.n, 5);
    char gid[33];
    alerts_recv_group_id(GROUP, gid);
    assert_int_equal(memkv_put(&x->kv, gid, "resolving 5"), 0);
    x->g.issues[4].gone = 404;
    SEND_OK(x, cfg, st, 0, false);
    assert_string_equal(mapping(x), "");
    assert_true(open_issues(x) <= 1);
    check_clean(x);
    x->t->state_destroy(st);

    /* reopen: the closed issue deleted, the PATCH 404s: a new issue */
    void *rcfg = cfg_for(x, "reopen: true\n");
    st = x->t->state_create(rcfg);
    SEND_OK(x, rcfg, st, 1, false);
    int n = x->g.n;
    SEND_OK(x, rcfg, st, 0, false);
    char want[32];
    snprintf(want, sizeof(want), "closed %d", n);
    assert_string_equal(mapping(x), want);
    x->g.issues[n - 1].gone = 410;
    SEND_OK(x, rcfg, st, 1, false);
    assert_int_equal(x->g.n, n + 1);
    snprintf(want, sizeof(want), "open %d", n + 1);
    assert_string_equal(mapping(x), want);
    assert_int_equal(open_issues(x), 1);

    /* a plain 403 (no lock, no rate limit) stays a failure: kept */
    x->g.issues[n].gone = 0;
    fake_push(x->f,
              (fake_reply_t){ .status = 403, .body = "{\"message\":\"Resource not accessible by integration\"}" });
    alerts_send_result_t res = send_n(x, rcfg, st, 1, true, 2000);
    assert_int_equal(res.status, ALERTS_SEND_FAIL);
    assert_string_equal(mapping(x), want);
    /* the kv refusing to drop the mapping: RETRY, nothing created */
    x->g.issues[n].gone = 404;
    x->kv.fail_puts = 1;
    res = send_n(x, rcfg, st, 1, true, 2000);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(x->g.n, n + 1);
    SEND_OK(x, rcfg, st, 1, true);
    assert_int_equal(x->g.n, n + 2);
    check_clean(x);
    x->t->state_destroy(st);
}

/* Every request carries the token and GitHub's headers; the token comes
 * from token_file at send time. */
static void test_headers_token_file(void **state)
{
    fx_t *x = *state;
    char path[] = "/tmp/pharos_gh_XXXXXX";
    test_temp_file(path, "tok-123\n");
    buf_t y = { 0 };
    buf_printf(&y, "api_url: %s\nowner: o\nrepo: r\ntoken_file: %s\ntitle: 'T {{ .Status }}'\nbody: B\n", x->f->base,
               path);
    void *cfg = test_cfg(x->t, (const char *)y.data, x->a);
    void *st = x->t->state_create(cfg);
    SEND_OK(x, cfg, st, 1, false);
    SEND_OK(x, cfg, st, 0, false);
    assert_int_equal(x->g.n, 1);
    assert_string_equal(x->g.issues[0].title, "T firing");
    assert_true(strncmp(x->g.issues[0].body, "B\n\n<!-- pharos:group=", 21) == 0);
    assert_string_equal(x->g.issues[0].labels, "");
    for (size_t i = 0; i < x->f->nreqs; i++) {
        assert_string_equal(x->f->reqs[i].auth, "Bearer tok-123");
        assert_string_equal(x->f->reqs[i].user_agent, "Pharos");
        assert_string_equal(x->f->reqs[i].content_type, "application/json");
    }
    assert_string_equal(x->f->reqs[0].path, "/repos/o/r/issues");
    assert_string_equal(x->f->reqs[1].path, "/repos/o/r/issues/1/comments");
    assert_string_equal(x->f->reqs[2].path, "/repos/o/r/issues/1");
    assert_string_equal(x->f->reqs[2].method, "PATCH");
    unlink(path);
    alerts_send_result_t res = send_n(x, cfg, st, 1, false, 2000);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_null(strstr(res.msg, "tok-123"));
    check_clean(x);
    buf_fini(&y);
    x->t->state_destroy(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_flow_new_issue, reset),
        cmocka_unit_test_setup(test_flow_reopen, reset),
        cmocka_unit_test_setup(test_restart, reset),
        cmocka_unit_test_setup(test_put_fails_after_create, reset),
        cmocka_unit_test_setup(test_create_timeout, reset),
        cmocka_unit_test_setup(test_create_refused, reset),
        cmocka_unit_test_setup(test_close_fails, reset),
        cmocka_unit_test_setup(test_rate_limits, reset),
        cmocka_unit_test_setup(test_headers_token_file, reset),
        cmocka_unit_test_setup(test_rate_limit_reset_hostile, reset),
        cmocka_unit_test_setup(test_issue_lost, reset),
        cmocka_unit_test_setup(test_list_big, reset),
        cmocka_unit_test_setup(test_hostile_numbers, reset),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

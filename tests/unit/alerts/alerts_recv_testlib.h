/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the receiver tests share (not a test itself): a loopback fake
 * service on common/httpd that records every request and answers from a
 * script (status, body, headers, a delay) or, when the script is empty,
 * from a per-test handler; an in-memory kv with an injectable put
 * failure; a settable clock; a notification with two alerts; and a YAML
 * parse helper for receiver configs. Header-only: each test includes it.
 */
#ifndef PHAROS_TESTS_ALERTS_RECV_TESTLIB_H
#define PHAROS_TESTS_ALERTS_RECV_TESTLIB_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerts/alerts_int.h"
#include "common/httpd.h"

#define FAKE_MAX_REQS 64
#define FAKE_MAX_SCRIPT 16

typedef struct fake_req {
    char method[8];
    char path[256];
    char since[64]; /* the `since` query argument, if any */
    char auth[256];
    char accept[64];
    char api_version[32];
    char user_agent[64];
    char content_type[64];
    char *body; /* malloc'd, NUL-terminated */
    size_t len;
} fake_req_t;

typedef struct fake_reply {
    int status;
    const char *body;
    const char *hdr[2][2]; /* name, value */
    int delay_ms;
} fake_reply_t;

typedef struct fake fake_t;
/* Answer a request the script does not cover. Runs under f->mu. */
typedef void (*fake_fn)(fake_t *f, const fake_req_t *r, http_resp_t *resp);

struct fake {
    httpd_t *h;
    pthread_mutex_t mu;
    fake_req_t reqs[FAKE_MAX_REQS];
    size_t nreqs;
    fake_reply_t script[FAKE_MAX_SCRIPT];
    size_t nscript, next;
    fake_fn fn;
    void *ctx;
    char base[64];
};

static inline void fake_copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

static inline void fake_handler(void *ctx, http_req_t *req, http_resp_t *resp)
{
    fake_t *f = ctx;
    fake_req_t r = { 0 };
    fake_copy(r.method, sizeof(r.method), http_req_method(req));
    fake_copy(r.path, sizeof(r.path), http_req_path(req));
    fake_copy(r.since, sizeof(r.since), http_req_arg(req, "since"));
    fake_copy(r.auth, sizeof(r.auth), http_req_header(req, "Authorization"));
    fake_copy(r.accept, sizeof(r.accept), http_req_header(req, "Accept"));
    fake_copy(r.api_version, sizeof(r.api_version), http_req_header(req, "X-GitHub-Api-Version"));
    fake_copy(r.user_agent, sizeof(r.user_agent), http_req_header(req, "User-Agent"));
    fake_copy(r.content_type, sizeof(r.content_type), http_req_header(req, "Content-Type"));
    size_t len = 0;
    const uint8_t *p = http_req_body(req, &len);
    r.body = malloc(len + 1);
    memcpy(r.body, p, len);
    r.body[len] = '\0';
    r.len = len;

    pthread_mutex_lock(&f->mu);
    const fake_req_t *saved = &r;
    if (f->nreqs < FAKE_MAX_REQS) {
        f->reqs[f->nreqs] = r;
        saved = &f->reqs[f->nreqs++];
    }
    fake_reply_t rep = { 0 };
    bool scripted = f->next < f->nscript;
    if (scripted) {
        rep = f->script[f->next++];
    } else if (f->fn) {
        f->fn(f, saved, resp);
    } else {
        rep.status = 200;
        rep.body = "ok";
    }
    pthread_mutex_unlock(&f->mu);
    if (saved == &r) {
        free(r.body);
    }
    if (scripted || !f->fn) {
        if (rep.delay_ms) {
            usleep((useconds_t)rep.delay_ms * 1000);
        }
        resp->status = rep.status;
        if (rep.body) {
            buf_puts(&resp->body, rep.body);
        }
        for (int i = 0; i < 2; i++) {
            if (rep.hdr[i][0]) {
                http_resp_header(resp, rep.hdr[i][0], rep.hdr[i][1]);
            }
        }
    }
}

static const httpd_route_t fake_routes[] = {
    { .method = NULL, .path = "/*", .fn = fake_handler, .max_body = 1 << 20 },
    { .method = "PATCH", .path = "/*", .fn = fake_handler, .max_body = 1 << 20 },
    { .method = "PUT", .path = "/*", .fn = fake_handler, .max_body = 1 << 20 },
};

static inline fake_t *fake_start(fake_fn fn, void *ctx)
{
    fake_t *f = calloc(1, sizeof(*f));
    pthread_mutex_init(&f->mu, NULL);
    f->fn = fn;
    f->ctx = ctx;
    httpd_opts_t o = { .listen = "127.0.0.1:0", .routes = fake_routes, .nroutes = 3, .ctx = f, .threads = 4 };
    char err[256];
    if (httpd_start(&o, &f->h, err, sizeof(err)) != 0) {
        fprintf(stderr, "fake: %s\n", err);
        abort();
    }
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", (unsigned)httpd_port(f->h));
    return f;
}

static inline void fake_reset(fake_t *f)
{
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < f->nreqs; i++) {
        free(f->reqs[i].body);
    }
    f->nreqs = 0;
    f->nscript = f->next = 0;
    pthread_mutex_unlock(&f->mu);
}

static inline void fake_stop(fake_t *f)
{
    if (!f) {
        return;
    }
    httpd_stop(f->h);
    fake_reset(f);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

static inline void fake_push(fake_t *f, fake_reply_t r)
{
    pthread_mutex_lock(&f->mu);
    if (f->nscript < FAKE_MAX_SCRIPT) {
        f->script[f->nscript++] = r;
    }
    pthread_mutex_unlock(&f->mu);
}

/* ---- kv ---- */

#define MEMKV_MAX 32

typedef struct memkv {
    char *k[MEMKV_MAX];
    char *v[MEMKV_MAX];
    size_t n;
    int ok_puts;   /* this many more puts succeed, then */
    int fail_puts; /* this many fail */
    int puts;
} memkv_t;

static inline int memkv_get(void *ctx, const char *key, buf_t *val)
{
    memkv_t *kv = ctx;
    for (size_t i = 0; i < kv->n; i++) {
        if (strcmp(kv->k[i], key) == 0) {
            buf_puts(val, kv->v[i]);
            return 1;
        }
    }
    return 0;
}

static inline int memkv_put(void *ctx, const char *key, const char *val)
{
    memkv_t *kv = ctx;
    if (kv->ok_puts > 0) {
        kv->ok_puts--;
    } else if (kv->fail_puts > 0) {
        kv->fail_puts--;
        return -1;
    }
    kv->puts++;
    for (size_t i = 0; i < kv->n; i++) {
        if (strcmp(kv->k[i], key) == 0) {
            free(kv->v[i]);
            if (val) {
                kv->v[i] = strdup(val);
            } else {
                free(kv->k[i]);
                kv->k[i] = kv->k[kv->n - 1];
                kv->v[i] = kv->v[kv->n - 1];
                kv->n--;
            }
            return 0;
        }
    }
    if (val && kv->n < MEMKV_MAX) {
        kv->k[kv->n] = strdup(key);
        kv->v[kv->n] = strdup(val);
        kv->n++;
    }
    return 0;
}

static inline void memkv_clear(memkv_t *kv)
{
    for (size_t i = 0; i < kv->n; i++) {
        free(kv->k[i]);
        free(kv->v[i]);
    }
    memset(kv, 0, sizeof(*kv));
}

/* ---- clock ---- */

typedef struct fakeclock {
    int64_t now;
} fakeclock_t;

static inline int64_t fakeclock_now(void *ctx)
{
    return ((fakeclock_t *)ctx)->now;
}

static inline alerts_recv_env_t test_env(memkv_t *kv, fakeclock_t *clk, long timeout_ms)
{
    alerts_recv_env_t e = {
        .kv = { .get = memkv_get, .put = memkv_put, .ctx = kv },
        .clock = { .now_ms = fakeclock_now, .ctx = clk },
        .timeout_ms = timeout_ms,
    };
    return e;
}

/* ---- a notification ---- */

typedef struct test_notif {
    label_t l1[3], l2[3], ann[1], group[1], common[2];
    alerts_notif_alert_t alerts[2];
    alerts_notification_t n;
} test_notif_t;

#define TL(a, b) ((label_t){ STR_LIT(a), STR_LIT(b) })

/* Two alerts of group {alertname="HighLatency"}; nfiring of them firing
 * (0..2), the rest resolved. */
static inline void test_notif_init(test_notif_t *t, size_t nfiring, const char *group_key)
{
    memset(t, 0, sizeof(*t));
    t->l1[0] = TL("alertname", "HighLatency");
    t->l1[1] = TL("instance", "a:9100");
    t->l1[2] = TL("severity", "critical");
    t->l2[0] = TL("alertname", "HighLatency");
    t->l2[1] = TL("instance", "b:9100");
    t->l2[2] = TL("severity", "critical");
    t->ann[0] = TL("summary", "latency is high");
    t->group[0] = TL("alertname", "HighLatency");
    t->common[0] = TL("alertname", "HighLatency");
    t->common[1] = TL("severity", "critical");
    for (size_t i = 0; i < 2; i++) {
        alerts_notif_alert_t *a = &t->alerts[i];
        a->labels = i ? t->l2 : t->l1;
        a->nlabels = 3;
        a->annotations = t->ann;
        a->nannotations = 1;
        a->starts_at_ms = 1700000000000LL;
        a->firing = i < nfiring;
        a->ends_at_ms = a->firing ? 0 : 1700000600000LL;
        a->generator_url = "http://pharos:9090/graph";
        a->fingerprint = 0x1234 + i;
    }
    alerts_notification_t *n = &t->n;
    n->receiver = "team";
    n->status = nfiring ? "firing" : "resolved";
    n->group_key = group_key;
    n->group_hash = 42;
    n->group_labels = t->group;
    n->ngroup_labels = 1;
    n->common_labels = t->common;
    n->ncommon_labels = 2;
    n->common_annotations = t->ann;
    n->ncommon_annotations = 1;
    n->external_url = "http://pharos:9090";
    n->alerts = t->alerts;
    n->nalerts = 2;
    n->nfiring = nfiring;
    n->now_ms = 1700000700000LL;
}

/* ---- config ---- */

/* Find the row for key in the receiver table. */
static inline const alerts_recv_type_t *test_recv_type(const char *key)
{
    size_t n = 0;
    const alerts_recv_type_t *t = alerts_recv_types(&n);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(t[i].key, key) == 0) {
            return &t[i];
        }
    }
    return NULL;
}

/* Parse yaml (one mapping) with the row's parser: 0 and *cfg, or -1 with
 * the error in err. */
static inline int test_parse(const alerts_recv_type_t *t, const char *yaml, arena_t *a, void **cfg, buf_t *err)
{
    yaml_parser_t p;
    yaml_document_t doc;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)yaml, strlen(yaml));
    if (!yaml_parser_load(&p, &doc)) {
        yaml_parser_delete(&p);
        buf_puts(err, "yaml error");
        return -1;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    int rc = root ? t->parse(&doc, root, a, cfg, err) : -1;
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    return rc;
}

/* Parse yaml with the row's parser and return the config (in a); a parse
 * error fails the calling test. */
static inline void *test_cfg(const alerts_recv_type_t *t, const char *yaml, arena_t *a)
{
    buf_t err = { 0 };
    void *cfg = NULL;
    if (test_parse(t, yaml, a, &cfg, &err) != 0) {
        fail_msg("parse: %s", err.data ? (const char *)err.data : "");
    }
    buf_fini(&err);
    return cfg;
}

/* Create the file named by the mkstemp template path (rewritten in
 * place) holding text: a secret file for *_file keys. The caller unlinks. */
static inline void test_temp_file(char *path, const char *text)
{
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

/* ---- send ---- */

/* Send n through t with a fresh env over kv and clk. The result is filled
 * with 0x5a first so a field the receiver leaves unset shows. */
static inline alerts_send_result_t test_send(const alerts_recv_type_t *t, const void *cfg, void *st, memkv_t *kv,
                                             fakeclock_t *clk, long timeout_ms, const alerts_notification_t *n)
{
    alerts_recv_env_t env = test_env(kv, clk, timeout_ms);
    alerts_send_result_t res;
    memset(&res, 0x5a, sizeof(res));
    t->send(cfg, st, &env, n, &res);
    return res;
}

#endif

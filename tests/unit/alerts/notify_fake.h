/* SPDX-License-Identifier: Apache-2.0 */
/*
 * notify_fake.h: what the notifier's tests share (header-only, included by
 * one test executable at a time): a fake receiver type "fake_configs"
 * whose sends are recorded and whose answers are scripted, an injectable
 * clock, and temporary directories with a config file.
 *
 * The fake's config keys: name (recorded with each delivery),
 * send_resolved (default true), kv (bool: store the group key in the kv
 * store on each send), token (a secret: marked ALERTS_RECV_F_SECRET in
 * the fake's field table, so /api/v2/status must redact it). State
 * create calls are counted (a reload that recreates senders shows).
 * State is process-global because a receiver row has
 * no context pointer; tests reset it in setup.
 */
#ifndef PHAROS_TESTS_NOTIFY_FAKE_H
#define PHAROS_TESTS_NOTIFY_FAKE_H

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alerts/alerts_int.h"
#include "common/mem.h"

typedef struct fake_cfg {
    const char *name;
    bool send_resolved;
    bool kv;
} fake_cfg_t;

typedef struct fake_delivery {
    char name[64];
    char group_key[256];
    char status[16];
    size_t nalerts, nfiring;
    bool repeat;
    uint64_t fps[16];
    double at; /* monotonic seconds */
} fake_delivery_t;

#define FAKE_MAX 256

typedef struct fake_state {
    pthread_mutex_t mu;
    fake_delivery_t got[FAKE_MAX]; /* every attempt, in order */
    size_t ngot;
    size_t nok;
    alerts_send_result_t script[16]; /* answers of attempts 0.. (then OK) */
    long sleep_ms[16];               /* sleep before answering */
    size_t nscript;
    const char *record_path; /* append "group_key status\n" per OK delivery */
    char script_for[64];     /* "": the script answers every integration; else only this name's */
    size_t nscripted;        /* calls that consumed the script */
    size_t nstates;          /* state_create calls */
} fake_state_t;

static fake_state_t fake __attribute__((unused)) = { .mu = PTHREAD_MUTEX_INITIALIZER };

static inline void fake_reset(void)
{
    pthread_mutex_lock(&fake.mu);
    memset(fake.got, 0, sizeof(fake.got));
    fake.ngot = 0;
    fake.nok = 0;
    memset(fake.script, 0, sizeof(fake.script));
    memset(fake.sleep_ms, 0, sizeof(fake.sleep_ms));
    fake.nscript = 0;
    fake.record_path = NULL;
    fake.script_for[0] = 0;
    fake.nscripted = 0;
    fake.nstates = 0;
    pthread_mutex_unlock(&fake.mu);
}

static inline void fake_script(alerts_send_status_t st, long code, int64_t retry_after_ms, long sleep_ms)
{
    pthread_mutex_lock(&fake.mu);
    alerts_send_result_t *r = &fake.script[fake.nscript];
    memset(r, 0, sizeof(*r));
    r->status = st;
    r->http_code = code;
    r->retry_after_ms = retry_after_ms;
    snprintf(r->msg, sizeof(r->msg), "scripted %ld", code);
    fake.sleep_ms[fake.nscript] = sleep_ms;
    fake.nscript++;
    pthread_mutex_unlock(&fake.mu);
}

static inline size_t fake_count(void)
{
    pthread_mutex_lock(&fake.mu);
    size_t n = fake.nok;
    pthread_mutex_unlock(&fake.mu);
    return n;
}

static inline int fake_parse(yaml_document_t *doc, yaml_node_t *node, arena_t *a, void **cfg, buf_t *err)
{
    fake_cfg_t *c = arena_calloc(a, 1, sizeof(*c));
    c->name = "";
    c->send_resolved = true;
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        yaml_node_t *v = yaml_document_get_node(doc, p->value);
        const char *key = (const char *)k->data.scalar.value;
        const char *val = v->type == YAML_SCALAR_NODE ? (const char *)v->data.scalar.value : "";
        if (strcmp(key, "name") == 0) {
            c->name = arena_strndup(a, val, strlen(val));
        } else if (strcmp(key, "send_resolved") == 0) {
            c->send_resolved = strcmp(val, "true") == 0;
        } else if (strcmp(key, "kv") == 0) {
            c->kv = strcmp(val, "true") == 0;
        } else if (strcmp(key, "token") == 0) {
            continue;
        } else if (strcmp(key, "api_url") == 0) {
            c->name = arena_strndup(a, val, strlen(val)); /* the merged global default lands here */
        } else {
            buf_printf(err, "line %u: %s: unknown field", (unsigned)k->start_mark.line + 1, key);
            return -1;
        }
    }
    *cfg = c;
    return 0;
}

static inline void *fake_state_create(const void *cfg)
{
    (void)cfg;
    pthread_mutex_lock(&fake.mu);
    fake.nstates++;
    pthread_mutex_unlock(&fake.mu);
    return NULL;
}

static const alerts_recv_field_t fake_fields[] __attribute__((unused)) = {
    { "name", ALERTS_RECV_F_STRING, 0, "", "recorded with each delivery" },
    { "token", ALERTS_RECV_F_SECRET, 0, NULL, "a secret the fake ignores" },
    { NULL, ALERTS_RECV_F_STRING, 0, NULL, NULL },
};

static inline bool fake_send_resolved(const void *cfg)
{
    return ((const fake_cfg_t *)cfg)->send_resolved;
}

static inline void fake_send(const void *cfg, void *st, const alerts_recv_env_t *env, const alerts_notification_t *n,
                             alerts_send_result_t *res)
{
    (void)st;
    const fake_cfg_t *c = cfg;
    pthread_mutex_lock(&fake.mu);
    size_t i = fake.ngot;
    bool scripted = !fake.script_for[0] || strcmp(fake.script_for, c->name) == 0;
    size_t si = scripted ? fake.nscripted++ : SIZE_MAX;
    long sleep_ms = si < fake.nscript ? fake.sleep_ms[si] : 0;
    alerts_send_result_t r = { .status = ALERTS_SEND_OK, .http_code = 200, .retry_after_ms = -1 };
    if (si < fake.nscript) {
        r = fake.script[si];
    }
    if (i < FAKE_MAX) {
        fake_delivery_t *d = &fake.got[i];
        snprintf(d->name, sizeof(d->name), "%s", c->name);
        snprintf(d->group_key, sizeof(d->group_key), "%s", n->group_key);
        snprintf(d->status, sizeof(d->status), "%s", n->status);
        d->nalerts = n->nalerts;
        d->nfiring = n->nfiring;
        d->repeat = n->repeat;
        for (size_t k = 0; k < n->nalerts && k < 16; k++) {
            d->fps[k] = n->alerts[k].fingerprint;
        }
        d->at = clock_mono_s();
        fake.ngot++;
    }
    pthread_mutex_unlock(&fake.mu);
    if (sleep_ms > 0) {
        struct timespec ts = { sleep_ms / 1000, (sleep_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    if (c->kv) {
        buf_t v = { 0 };
        env->kv.get(env->kv.ctx, "count", &v);
        char next[32];
        snprintf(next, sizeof(next), "%d", v.len ? atoi((const char *)v.data) + 1 : 1);
        env->kv.put(env->kv.ctx, "count", next);
        buf_fini(&v);
    }
    pthread_mutex_lock(&fake.mu);
    if (r.status == ALERTS_SEND_OK) {
        fake.nok++;
        if (fake.record_path) {
            int fd = open(fake.record_path, O_WRONLY | O_APPEND | O_CREAT, 0644);
            if (fd >= 0) {
                char line[512];
                int len = snprintf(line, sizeof(line), "%s %s\n", n->group_key, n->status);
                if (write(fd, line, (size_t)len) != len) {
                    abort();
                }
                fsync(fd);
                close(fd);
            }
        }
    }
    pthread_mutex_unlock(&fake.mu);
    *res = r;
}

static const alerts_recv_type_t fake_types[] __attribute__((unused)) = {
    {
        .key = "fake_configs",
        .name = "fake",
        .parse = fake_parse,
        .send_resolved = fake_send_resolved,
        .state_create = fake_state_create,
        .send = fake_send,
        .fields = fake_fields,
    },
    {
        .key = "slack_configs",
        .name = "slackish",
        .parse = fake_parse,
        .send_resolved = fake_send_resolved,
        .send = fake_send,
    },
};
#define NFAKE_TYPES (sizeof(fake_types) / sizeof(fake_types[0]))

/* An injectable clock. */
typedef struct fake_clock {
    int64_t now;
    pthread_mutex_t mu;
} fake_clock_t;

static inline int64_t fake_clock_now(void *ctx)
{
    fake_clock_t *c = ctx;
    pthread_mutex_lock(&c->mu);
    int64_t v = c->now;
    pthread_mutex_unlock(&c->mu);
    return v;
}

static inline void fake_clock_set(fake_clock_t *c, int64_t v)
{
    pthread_mutex_lock(&c->mu);
    c->now = v;
    pthread_mutex_unlock(&c->mu);
}

/* A fresh temporary directory ([out] dir, 256 bytes). */
static inline void fake_tmpdir(char *dir)
{
    snprintf(dir, 256, "/tmp/pharos-notify-XXXXXX");
    if (!mkdtemp(dir)) {
        abort();
    }
}

static inline void fake_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        abort();
    }
    fputs(text, f);
    fclose(f);
}

static inline void fake_rmrf(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot remove %s\n", dir);
    }
}

static inline alerts_notify_hooks_t fake_hooks(void)
{
    alerts_notify_hooks_t h = { .types = fake_types,
                                .ntypes = NFAKE_TYPES,
                                .backoff_initial_ms = 20,
                                .backoff_max_ms = 200,
                                .send_timeout_ms = 300 };
    return h;
}

/* alerts_notify_open into *n; a failure fails the calling test with the
 * reason (the includer has cmocka.h). */
static inline void fake_open(const alerts_notifier_opts_t *o, const alerts_notify_hooks_t *h, alerts_notifier_t **n)
{
    buf_t err = { 0 };
    if (alerts_notify_open(o, h, n, &err) != 0) {
        fail_msg("alerts_notify_open: %s", err.data ? (const char *)err.data : "");
    }
    buf_fini(&err);
}

#endif

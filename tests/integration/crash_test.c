/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crash_test: every remote-write sample pharosd acknowledges with 2xx must
 * survive kill -9, replay, head cuts, WAL truncation and compaction.
 *
 * Two sender threads post requests; each takes a slot [t, t+step) of one
 * shared virtual clock, so no two requests share a timestamp and every
 * series can be written by both threads. A request carries, for 40 fixed
 * series and one "churn" series (a new one every 64 requests), the samples
 * t, t+q, t+3q (q = step/4), plus t'+2q of the sender's previous slot t',
 * which arrives out of order. Values are a pure function of (series, t):
 * stale markers, NaN, ±Inf and assorted floats. Only the slots of each
 * request and whether it was acknowledged are recorded; samples are
 * recomputed when verifying. A failed request is resent after the restart
 * (duplicates must be accepted); a few acknowledged ones are resent too.
 *
 * The main thread runs rounds: start pharosd on the same data dir (new
 * port), wait 20-400 ms (+1-2 s when cuts should run), SIGKILL it (a few
 * rounds SIGTERM). Rounds vary --wal.sync, --storage.block-range=1m with
 * minutes-long slots, and a flusher thread. At the end a clean restart is
 * exported and compared bit for bit: every acknowledged sample present,
 * nothing never sent. The server log must hold no error or sanitizer
 * report. Env: CRASH_SEED, CRASH_ROUNDS (30), CRASH_SECONDS (90),
 * CRASH_KEEP=1 keeps the temp dir. The one mutable state is crash_t,
 * shared by the threads under its mutex or through atomics.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testsupport.h"

#define CRASH_NSERIES 40
#define CRASH_SENDERS 2
#define CRASH_CHURN_PERIOD 64
#define CRASH_RESEND_EVERY 29
#define CRASH_STEP_SLOW 1000
#define CRASH_STEP_FAST 150000
#define CRASH_STEP_TINY 40
#define CRASH_OOO_MAX (3 * 3600 * 1000LL) /* half the server's 6h window */
#define CRASH_TOO_OLD (5 * 3600 * 1000LL) /* give up a slot this far behind */
#define CRASH_MAX_ERRORS 20
#define CRASH_STALE_BITS 0x7ff0000000000002ULL

typedef struct crash_req {
    int64_t t;      /* slot start */
    int64_t prev_t; /* the sender's previous slot (its t+2q rides along), or INT64_MIN */
    uint32_t step, prev_step;
    uint32_t churn; /* churn series generation */
    bool acked;
} crash_req_t;

typedef struct crash_sender {
    pthread_t th;
    int idx;
    struct crash *c;
    crash_req_t *reqs;
    size_t n, cap;
    uint64_t resent;
} crash_sender_t;

typedef struct crash {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char url[64]; /* under mu: the live server, valid while up */
    bool up;
    bool stop;
    bool failed;
    char fail_msg[1024];
    atomic_int_fast64_t vclock;
    atomic_uint_fast64_t nreq;
    atomic_int fast;
    atomic_bool flush_stop;
    atomic_uint flushes;
    uint64_t flush_seed; /* set by the main thread before each flusher */
    int64_t t_ceiling;   /* slots stay below this (server rejects the future) */
    char names[CRASH_NSERIES][2][16];
    crash_sender_t senders[CRASH_SENDERS];
} crash_t;

static double crash_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t crash_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t crash_rand(uint64_t *state)
{
    *state += 1;
    return crash_mix(*state);
}

static void crash_fail(crash_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void crash_fail(crash_t *c, const char *fmt, ...)
{
    pthread_mutex_lock(&c->mu);
    if (!c->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->fail_msg, sizeof(c->fail_msg), fmt, ap);
        va_end(ap);
        c->failed = true;
    }
    c->stop = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static const char *const crash_kinds[4] = { "counter", "gauge", "decimal", "special" };

/* The value of series key at t: pure, so verification recomputes it. */
static double crash_value(uint32_t key, int64_t t)
{
    uint64_t h = crash_mix(((uint64_t)key << 40) ^ (uint64_t)t);
    double v;
    if (h % 19 == 0) {
        uint64_t bits = CRASH_STALE_BITS;
        memcpy(&v, &bits, sizeof(v));
        return v;
    }
    switch (key % 4) {
    case 0:
        return (double)(t % 100000000) * 0.5;
    case 1:
        return (double)(int64_t)(h >> 12) * 0x1p-20 - 2147483648.0;
    case 2:
        return (double)(h % 100000000) / 100.0;
    default:
        if (h % 7 == 1) {
            return (h & 8) ? INFINITY : -INFINITY;
        }
        if (h % 7 == 2) {
            return NAN;
        }
        return -(double)(h % 100000 + 1) / 1000.0;
    }
}

static uint64_t crash_bits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof(b));
    return b;
}

/* Timestamps a request holds for a fixed series (n <= 4); the churn
 * series holds only the first three. */
static size_t crash_req_times(const crash_req_t *r, bool churn, int64_t *ts)
{
    int64_t q = r->step / 4;
    size_t n = 0;
    ts[n++] = r->t;
    ts[n++] = r->t + q;
    ts[n++] = r->t + 3 * q;
    if (!churn && r->prev_t != INT64_MIN) {
        ts[n++] = r->prev_t + 2 * (int64_t)(r->prev_step / 4);
    }
    return n;
}

static void crash_encode(crash_t *c, const crash_req_t *r, buf_t *body)
{
    ts_label_t labels[CRASH_NSERIES + 1][3];
    int64_t ts[CRASH_NSERIES + 1][4];
    double vs[CRASH_NSERIES + 1][4];
    ts_series_t ser[CRASH_NSERIES + 1];
    char churn[16];
    snprintf(churn, sizeof(churn), "%u", r->churn);
    for (uint32_t i = 0; i <= CRASH_NSERIES; i++) {
        bool is_churn = i == CRASH_NSERIES;
        uint32_t key = is_churn ? 1000000u + r->churn : i;
        if (is_churn) {
            labels[i][0] = (ts_label_t){ "__name__", "crash_churn" };
            labels[i][1] = (ts_label_t){ "gen", churn };
        } else {
            labels[i][0] = (ts_label_t){ "__name__", "crash_test" };
            labels[i][1] = (ts_label_t){ "kind", c->names[i][0] };
            labels[i][2] = (ts_label_t){ "series", c->names[i][1] };
        }
        size_t n = crash_req_times(r, is_churn, ts[i]);
        if (n == 4 && i % 2) {
            /* the out-of-order sample first in every other series */
            int64_t t = ts[i][3];
            memmove(&ts[i][1], &ts[i][0], 3 * sizeof(int64_t));
            ts[i][0] = t;
        }
        for (size_t k = 0; k < n; k++) {
            vs[i][k] = crash_value(key, ts[i][k]);
        }
        ser[i] = (ts_series_t){ labels[i], is_churn ? 2 : 3, ts[i], vs[i], n };
    }
    ts_rw_encode(ser, CRASH_NSERIES + 1, body);
}

/* Wait until a server is up; false when the test stops. [out] url. */
static bool crash_wait_up(crash_t *c, char *url, size_t len)
{
    pthread_mutex_lock(&c->mu);
    while (!c->up && !c->stop) {
        pthread_cond_wait(&c->cv, &c->mu);
    }
    bool ok = !c->stop;
    snprintf(url, len, "%s", c->url);
    pthread_mutex_unlock(&c->mu);
    return ok;
}

static void crash_pause(crash_t *c, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&c->mu);
    if (!c->stop) {
        pthread_cond_timedwait(&c->cv, &c->mu, &ts);
    }
    pthread_mutex_unlock(&c->mu);
}

/* Post body until a 2xx; false if the test stops first, or the slot has
 * fallen out of the server's window. A 4xx fails the test. */
static bool crash_post(crash_sender_t *s, httpc_t *h, const buf_t *body, int64_t slot)
{
    crash_t *c = s->c;
    char url[64];
    buf_t resp = { 0 };
    bool ok = false;
    while (crash_wait_up(c, url, sizeof(url))) {
        if (atomic_load(&c->vclock) - slot > CRASH_TOO_OLD) {
            break;
        }
        httpc_result_t res;
        buf_reset(&resp);
        ts_rw_post(h, url, body, &resp, &res);
        if (res.status == HTTPC_OK) {
            ok = true;
            break;
        }
        if (res.status == HTTPC_FATAL) {
            crash_fail(c, "sender %d: remote write of slot %" PRId64 " answered %ld: %s", s->idx, slot, res.http_code,
                       res.error);
            break;
        }
        crash_pause(c, res.http_code ? 20 : 5);
    }
    buf_fini(&resp);
    return ok;
}

static crash_req_t *crash_new_req(crash_sender_t *s)
{
    crash_t *c = s->c;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->reqs = realloc(s->reqs, s->cap * sizeof(crash_req_t));
        if (!s->reqs) {
            abort();
        }
    }
    int64_t now = atomic_load(&c->vclock);
    uint32_t step = CRASH_STEP_SLOW;
    if (now > c->t_ceiling) {
        step = CRASH_STEP_TINY;
    } else if (atomic_load(&c->fast) && now < c->t_ceiling - 24 * 3600 * 1000LL) {
        step = CRASH_STEP_FAST;
    }
    crash_req_t *r = &s->reqs[s->n];
    memset(r, 0, sizeof(*r));
    r->step = step;
    r->t = atomic_fetch_add(&c->vclock, step);
    r->churn = (uint32_t)(atomic_fetch_add(&c->nreq, 1) / CRASH_CHURN_PERIOD);
    r->prev_t = INT64_MIN;
    if (s->n > 0 && r->t - s->reqs[s->n - 1].t <= CRASH_OOO_MAX) {
        r->prev_t = s->reqs[s->n - 1].t;
        r->prev_step = s->reqs[s->n - 1].step;
    }
    s->n++;
    return r;
}

static void *crash_sender_main(void *arg)
{
    crash_sender_t *s = arg;
    crash_t *c = s->c;
    httpc_t *h = httpc_create(15000);
    buf_t body = { 0 };
    for (;;) {
        pthread_mutex_lock(&c->mu);
        bool stop = c->stop;
        pthread_mutex_unlock(&c->mu);
        if (stop) {
            break;
        }
        crash_req_t *r = crash_new_req(s);
        size_t at = s->n - 1;
        int64_t slot = r->t;
        crash_encode(c, r, &body);
        bool acked = crash_post(s, h, &body, slot);
        s->reqs[at].acked = acked;
        if (acked && at % CRASH_RESEND_EVERY == 0) {
            /* An acknowledged request again: identical duplicates pass. */
            if (crash_post(s, h, &body, slot)) {
                s->resent++;
            }
        }
    }
    buf_fini(&body);
    httpc_destroy(h);
    return NULL;
}

static void *crash_flusher_main(void *arg)
{
    crash_t *c = arg;
    httpc_t *h = httpc_create(60000);
    char base[64], url[128];
    pthread_mutex_lock(&c->mu);
    snprintf(base, sizeof(base), "%s", c->url);
    pthread_mutex_unlock(&c->mu);
    snprintf(url, sizeof(url), "%s/api/v1/admin/tsdb/flush", base);
    uint64_t rnd = c->flush_seed;
    while (!atomic_load(&c->flush_stop)) {
        httpc_result_t res;
        httpc_post(h, url, NULL, "", 0, NULL, &res);
        if (res.status == HTTPC_OK) {
            atomic_fetch_add(&c->flushes, 1);
        } else if (res.http_code != 0) {
            crash_fail(c, "flush answered %ld: %s", res.http_code, res.error);
            break;
        }
        usleep((useconds_t)(20000 + crash_rand(&rnd) % 150000));
    }
    httpc_destroy(h);
    return NULL;
}

/* ---- verification ---- */

typedef struct crash_exp {
    int64_t t;
    bool acked;
} crash_exp_t;

typedef struct crash_stats {
    uint64_t requests, acked_requests, resent;
    uint64_t sent_samples, acked_samples, verified;
    uint64_t errors;
} crash_stats_t;

static void crash_report(crash_stats_t *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void crash_report(crash_stats_t *st, const char *fmt, ...)
{
    if (++st->errors > CRASH_MAX_ERRORS) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    fputs("crash_test: FAIL: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
}

static int crash_exp_cmp(const void *a, const void *b)
{
    int64_t x = ((const crash_exp_t *)a)->t;
    int64_t y = ((const crash_exp_t *)b)->t;
    return x < y ? -1 : x > y;
}

static void crash_fmt_value(double v, char *out, size_t len)
{
    uint64_t b = crash_bits(v);
    if (b == CRASH_STALE_BITS) {
        snprintf(out, len, "StaleNaN");
    } else {
        snprintf(out, len, "%.17g (bits %016" PRIx64 ")", v, b);
    }
}

/* Check one series: exported samples (got, may be NULL) against the
 * expected timestamps; exp is sorted here. */
static void crash_compare(const char *name, uint32_t key, crash_exp_t *exp, size_t ne, const ts_exported_t *got,
                          crash_stats_t *st)
{
    qsort(exp, ne, sizeof(*exp), crash_exp_cmp);
    for (size_t i = 1; i < ne; i++) {
        if (exp[i].t == exp[i - 1].t) {
            crash_report(st, "test bug: %s: timestamp %" PRId64 " generated twice", name, exp[i].t);
        }
    }
    size_t gn = got ? got->n : 0;
    for (size_t j = 1; j < gn; j++) {
        if (got->ts[j] <= got->ts[j - 1]) {
            crash_report(st, "%s: export not in strict time order at %" PRId64 " after %" PRId64, name, got->ts[j],
                         got->ts[j - 1]);
        }
    }
    size_t i = 0, j = 0;
    char a[64], b[64];
    while (i < ne || j < gn) {
        if (j >= gn || (i < ne && exp[i].t < got->ts[j])) {
            if (exp[i].acked) {
                crash_fmt_value(crash_value(key, exp[i].t), a, sizeof(a));
                crash_report(st, "%s: LOST acknowledged sample t=%" PRId64 " expected %s, got nothing", name, exp[i].t,
                             a);
            }
            i++;
        } else if (i >= ne || got->ts[j] < exp[i].t) {
            crash_fmt_value(got->vs[j], b, sizeof(b));
            crash_report(st, "%s: sample t=%" PRId64 " value %s was never sent", name, got->ts[j], b);
            j++;
        } else {
            double want = crash_value(key, exp[i].t);
            if (crash_bits(want) != crash_bits(got->vs[j])) {
                crash_fmt_value(want, a, sizeof(a));
                crash_fmt_value(got->vs[j], b, sizeof(b));
                crash_report(st, "%s: WRONG value at t=%" PRId64 " (%s): expected %s, got %s", name, exp[i].t,
                             exp[i].acked ? "acknowledged" : "unacknowledged", a, b);
            } else if (exp[i].acked) {
                st->verified++;
            }
            i++;
            j++;
        }
    }
}

static void crash_push_exp(crash_exp_t **v, size_t *n, size_t *cap, int64_t t, bool acked)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        *v = realloc(*v, *cap * sizeof(crash_exp_t));
        if (!*v) {
            abort();
        }
    }
    (*v)[(*n)++] = (crash_exp_t){ t, acked };
}

/* Export one selector; -1 (reported) when the call fails. */
static int crash_export(httpc_t *h, const char *url, const char *sel, ts_exported_t **out, size_t *n, crash_stats_t *st)
{
    if (ts_export(h, url, sel, out, n) != 0) {
        crash_report(st, "export of %s failed", sel);
        return -1;
    }
    return 0;
}

static void crash_verify_fixed(crash_t *c, httpc_t *h, const char *url, crash_stats_t *st)
{
    crash_exp_t *exp = NULL;
    size_t cap = 0;
    for (uint32_t i = 0; i < CRASH_NSERIES; i++) {
        size_t ne = 0;
        for (int k = 0; k < CRASH_SENDERS; k++) {
            const crash_sender_t *s = &c->senders[k];
            for (size_t r = 0; r < s->n; r++) {
                int64_t ts[4];
                size_t n = crash_req_times(&s->reqs[r], false, ts);
                for (size_t x = 0; x < n; x++) {
                    crash_push_exp(&exp, &ne, &cap, ts[x], s->reqs[r].acked);
                    st->sent_samples++;
                    st->acked_samples += s->reqs[r].acked;
                }
            }
        }
        char sel[128], name[128];
        snprintf(sel, sizeof(sel), "crash_test{series=\"%s\"}", c->names[i][1]);
        snprintf(name, sizeof(name), "crash_test{kind=\"%s\",series=\"%s\"}", c->names[i][0], c->names[i][1]);
        ts_exported_t *got = NULL;
        size_t ng = 0;
        if (crash_export(h, url, sel, &got, &ng, st) == 0) {
            char want[128];
            snprintf(want, sizeof(want), "__name__=crash_test,kind=%s,series=%s", c->names[i][0], c->names[i][1]);
            if (ng > 1 || (ng == 1 && strcmp(got[0].labels, want) != 0)) {
                crash_report(st, "%s: export returned %zu series (first: %s)", sel, ng, got[0].labels);
            }
            crash_compare(name, i, exp, ne, ng ? &got[0] : NULL, st);
            ts_exported_free(got, ng);
        }
    }
    free(exp);
}

static int crash_req_churn_cmp(const void *a, const void *b)
{
    uint32_t x = (*(const crash_req_t *const *)a)->churn;
    uint32_t y = (*(const crash_req_t *const *)b)->churn;
    return x < y ? -1 : x > y;
}

static void crash_verify_churn(crash_t *c, httpc_t *h, const char *url, crash_stats_t *st)
{
    size_t nr = 0;
    for (int k = 0; k < CRASH_SENDERS; k++) {
        nr += c->senders[k].n;
    }
    const crash_req_t **rs = calloc(nr ? nr : 1, sizeof(*rs));
    size_t at = 0;
    uint32_t maxgen = 0;
    for (int k = 0; k < CRASH_SENDERS; k++) {
        for (size_t r = 0; r < c->senders[k].n; r++) {
            rs[at] = &c->senders[k].reqs[r];
            maxgen = rs[at]->churn > maxgen ? rs[at]->churn : maxgen;
            at++;
        }
    }
    qsort(rs, nr, sizeof(*rs), crash_req_churn_cmp);
    ts_exported_t *got = NULL;
    size_t ng = 0;
    if (crash_export(h, url, "crash_churn", &got, &ng, st) != 0) {
        free(rs);
        return;
    }
    long *by_gen = malloc(((size_t)maxgen + 1) * sizeof(long));
    for (uint32_t g = 0; g <= maxgen; g++) {
        by_gen[g] = -1;
    }
    for (size_t e = 0; e < ng; e++) {
        unsigned g;
        int used = 0;
        if (sscanf(got[e].labels, "__name__=crash_churn,gen=%u%n", &g, &used) != 1 || got[e].labels[used] ||
            g > maxgen || by_gen[g] >= 0) {
            crash_report(st, "unexpected churn series exported: {%s}", got[e].labels);
            continue;
        }
        by_gen[g] = (long)e;
    }
    crash_exp_t *exp = NULL;
    size_t cap = 0;
    for (size_t r = 0; r < nr;) {
        uint32_t g = rs[r]->churn;
        size_t ne = 0;
        for (; r < nr && rs[r]->churn == g; r++) {
            int64_t ts[4];
            size_t n = crash_req_times(rs[r], true, ts);
            for (size_t x = 0; x < n; x++) {
                crash_push_exp(&exp, &ne, &cap, ts[x], rs[r]->acked);
                st->sent_samples++;
                st->acked_samples += rs[r]->acked;
            }
        }
        char name[64];
        snprintf(name, sizeof(name), "crash_churn{gen=\"%u\"}", g);
        crash_compare(name, 1000000u + g, exp, ne, by_gen[g] >= 0 ? &got[by_gen[g]] : NULL, st);
    }
    free(exp);
    free(by_gen);
    free(rs);
    ts_exported_free(got, ng);
}

static void crash_verify(crash_t *c, const char *url, crash_stats_t *st)
{
    httpc_t *h = httpc_create(120000);
    crash_verify_fixed(c, h, url, st);
    crash_verify_churn(c, h, url, st);
    static const char *const strays[] = { "{__name__=~\"crash_.*\",__name__!~\"crash_test|crash_churn\"}",
                                          "crash_test{series!~\"[0-3][0-9]\"}" };
    for (size_t i = 0; i < sizeof(strays) / sizeof(strays[0]); i++) {
        ts_exported_t *got = NULL;
        size_t ng = 0;
        if (crash_export(h, url, strays[i], &got, &ng, st) == 0 && ng > 0) {
            crash_report(st, "series never sent exported: {%s}", got[0].labels);
        }
        ts_exported_free(got, ng);
    }
    httpc_destroy(h);
}

/* ---- the server log ---- */

/* Count the lines of the log that show a crash or a store error (printed),
 * and the torn WAL tails replay cut. */
static unsigned crash_scan_log(const char *path, unsigned *torn, unsigned *starts)
{
    static const char *const bad[] = { "level=error",  "Sanitizer",    "runtime error", "Assertion",
                                       "Segmentation", "stack-buffer", "heap-use" };
    FILE *f = fopen(path, "r");
    unsigned nbad = 0;
    *torn = 0;
    *starts = 0;
    if (!f) {
        printf("crash_test: FAIL: cannot read the server log %s\n", path);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        *torn += strstr(line, "cutting segment") != NULL;
        *starts += strstr(line, "msg=\"replayed") != NULL;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            if (strstr(line, bad[i])) {
                if (++nbad <= CRASH_MAX_ERRORS) {
                    printf("crash_test: FAIL: server log: %s", line);
                }
                break;
            }
        }
    }
    free(line);
    fclose(f);
    return nbad;
}

static void crash_log_tail(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        return;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, size > 4096 ? size - 4096 : 0, SEEK_SET);
    char buf[4097];
    size_t n = fread(buf, 1, 4096, f);
    buf[n] = '\0';
    printf("crash_test: --- tail of %s ---\n%s\ncrash_test: ---\n", path, buf);
    fclose(f);
}

/* ---- rounds ---- */

typedef struct crash_run {
    crash_t *c;
    char root[256];
    char datadir[300];
    ts_proc_t proc;
    uint64_t rnd;
    unsigned rounds, kills, terms, flush_rounds;
    uint64_t cuts, compactions; /* seen in /metrics just before the kills */
    uint64_t round_cuts, round_compactions;
} crash_run_t;

/* Value of a counter in the /metrics text (0 when absent). */
static uint64_t crash_metric(const buf_t *b, const char *name)
{
    size_t len = strlen(name);
    const char *p = (const char *)b->data;
    const char *end = p + b->len;
    while (p && p < end) {
        if ((size_t)(end - p) > len && memcmp(p, name, len) == 0 && p[len] == ' ') {
            return strtoull(p + len + 1, NULL, 10);
        }
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : NULL;
    }
    return 0;
}

/* Add the cuts and compactions the live server has done. */
static void crash_scrape(crash_run_t *run)
{
    httpc_t *h = httpc_create(5000);
    buf_t b = { 0 };
    char url[128];
    snprintf(url, sizeof(url), "%s/metrics", run->proc.url);
    httpc_result_t res;
    httpc_get(h, url, NULL, &b, &res);
    run->round_cuts = 0;
    run->round_compactions = 0;
    if (res.status == HTTPC_OK) {
        run->round_cuts = crash_metric(&b, "pharos_tsdb_head_cuts_total");
        run->round_compactions = crash_metric(&b, "pharos_tsdb_compactions_total");
        run->cuts += run->round_cuts;
        run->compactions += run->round_compactions;
    }
    buf_fini(&b);
    httpc_destroy(h);
}

/* Start pharosd on the data dir and publish it to the senders. 0 or -1
 * (the test is failed). */
static int crash_start(crash_run_t *run, bool sync_always, bool small_range)
{
    /* Data time runs far ahead of real time here (a slot per request), so a
     * request re-sent after a restart may be days behind the newest
     * sample: the window must cover it, or the resend is rightly refused. */
    const char *extra[4] = { sync_always ? "--wal.sync=always" : "--wal.sync=write",
                             "--storage.out-of-order-window=8760h", NULL, NULL };
    if (small_range) {
        extra[2] = "--storage.block-range=1m";
    }
    if (ts_pharosd_start(&run->proc, run->datadir, extra, 120) != 0) {
        crash_log_tail(run->proc.log_path);
        crash_fail(run->c, "restart %u (wal.sync=%s%s) failed: pharosd did not become ready (replay failed?)",
                   run->rounds, sync_always ? "always" : "write", small_range ? ", block-range=1m" : "");
        return -1;
    }
    pthread_mutex_lock(&run->c->mu);
    snprintf(run->c->url, sizeof(run->c->url), "%s", run->proc.url);
    run->c->up = true;
    pthread_cond_broadcast(&run->c->cv);
    pthread_mutex_unlock(&run->c->mu);
    return 0;
}

/* Stop pharosd with sig and take it from the senders; false (the test is
 * failed) if it had died by itself or a SIGTERM did not end cleanly. */
static bool crash_stop(crash_run_t *run, int sig)
{
    int st = ts_proc_stop(&run->proc, sig);
    pthread_mutex_lock(&run->c->mu);
    run->c->up = false;
    pthread_mutex_unlock(&run->c->mu);
    int want = sig == SIGKILL ? 128 + SIGKILL : 0;
    if (st != want) {
        crash_log_tail(run->proc.log_path);
        crash_fail(run->c, "round %u: pharosd ended with status %d, expected %d (a crash?)", run->rounds, st, want);
        return false;
    }
    return true;
}

static bool crash_failed(crash_t *c)
{
    pthread_mutex_lock(&c->mu);
    bool f = c->failed;
    pthread_mutex_unlock(&c->mu);
    return f;
}

static void crash_round(crash_run_t *run)
{
    crash_t *c = run->c;
    bool sync_always = crash_rand(&run->rnd) % 3 == 0;
    bool small = crash_rand(&run->rnd) % 3 == 0;
    bool flush = crash_rand(&run->rnd) % 4 == 0;
    bool term = crash_rand(&run->rnd) % 10 == 0;
    int delay = 20 + (int)(crash_rand(&run->rnd) % 381);
    if (small) {
        delay += 1000 + (int)(crash_rand(&run->rnd) % 2) * 1000;
    }
    atomic_store(&c->fast, small ? 1 : 0);
    if (crash_start(run, sync_always, small) != 0) {
        return;
    }
    pthread_t flusher;
    if (flush) {
        atomic_store(&c->flush_stop, false);
        c->flush_seed = crash_rand(&run->rnd);
        pthread_create(&flusher, NULL, crash_flusher_main, c);
        run->flush_rounds++;
    }
    double end = crash_now() + delay / 1000.0;
    while (crash_now() < end && !crash_failed(c)) {
        usleep(5000);
    }
    if (!crash_failed(c)) {
        crash_scrape(run);
    }
    bool ok = crash_stop(run, term ? SIGTERM : SIGKILL);
    run->kills += !term;
    run->terms += term;
    if (flush) {
        atomic_store(&c->flush_stop, true);
        pthread_join(flusher, NULL);
    }
    run->rounds++;
    if (ok && getenv("CRASH_VERBOSE")) {
        printf("crash_test: round %u: wal.sync=%s block-range=%s%s, %s after %d ms (%" PRIu64 " cuts, %" PRIu64
               " compactions)\n",
               run->rounds, sync_always ? "always" : "write", small ? "1m" : "1h", flush ? ", flushing" : "",
               term ? "SIGTERM" : "SIGKILL", delay, run->round_cuts, run->round_compactions);
    }
}

static long crash_env(const char *name, long def)
{
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : def;
}

static void crash_init(crash_t *c)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t wall = (int64_t)now.tv_sec * 1000;
    atomic_store(&c->vclock, wall - 6 * 24 * 3600 * 1000LL);
    c->t_ceiling = wall - 3600 * 1000LL;
    for (int i = 0; i < CRASH_NSERIES; i++) {
        snprintf(c->names[i][0], sizeof(c->names[i][0]), "%s", crash_kinds[i % 4]);
        snprintf(c->names[i][1], sizeof(c->names[i][1]), "%02d", i);
    }
    for (int k = 0; k < CRASH_SENDERS; k++) {
        c->senders[k].idx = k;
        c->senders[k].c = c;
    }
}

/* Stop the senders, restart cleanly, verify, stop with SIGTERM. */
static void crash_finish(crash_run_t *run, crash_stats_t *st)
{
    crash_t *c = run->c;
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    for (int k = 0; k < CRASH_SENDERS; k++) {
        pthread_join(c->senders[k].th, NULL);
        st->resent += c->senders[k].resent;
        st->requests += c->senders[k].n;
        for (size_t r = 0; r < c->senders[k].n; r++) {
            st->acked_requests += c->senders[k].reqs[r].acked;
        }
    }
    if (crash_failed(c) || ts_pharosd_start(&run->proc, run->datadir, NULL, 120) != 0) {
        if (!crash_failed(c)) {
            crash_log_tail(run->proc.log_path);
            crash_report(st, "final restart failed: pharosd did not become ready (replay failed?)");
        }
        return;
    }
    crash_verify(c, run->proc.url, st);
    int rc = ts_proc_stop(&run->proc, SIGTERM);
    if (rc != 0) {
        crash_report(st, "pharosd exited with status %d after the final SIGTERM", rc);
    }
}

int main(void)
{
    double t0 = crash_now();
    uint64_t seed = (uint64_t)crash_env("CRASH_SEED", 0);
    if (seed == 0) {
        seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
    }
    long max_rounds = crash_env("CRASH_ROUNDS", 30);
    double max_seconds = (double)crash_env("CRASH_SECONDS", 90);
    printf("crash_test: seed %" PRIu64 " (CRASH_SEED=%" PRIu64 " repeats the choices), up to %ld rounds in %.0f s, "
           "pharosd %s\n",
           seed, seed, max_rounds, max_seconds, ts_pharosd_bin());
    fflush(stdout);
    crash_t c;
    crash_init(&c);
    crash_run_t run = { .c = &c, .rnd = seed };
    if (ts_tempdir("pharos-crash", run.root, sizeof(run.root)) != 0) {
        printf("crash_test: FAIL: cannot create a temp dir: %s\n", strerror(errno));
        return 1;
    }
    snprintf(run.datadir, sizeof(run.datadir), "%s/data", run.root);
    httpc_t *warm = httpc_create(1000); /* libcurl's global init, before any thread */
    httpc_destroy(warm);
    for (int k = 0; k < CRASH_SENDERS; k++) {
        pthread_create(&c.senders[k].th, NULL, crash_sender_main, &c.senders[k]);
    }
    while ((long)run.rounds < max_rounds && crash_now() - t0 < max_seconds && !crash_failed(&c)) {
        crash_round(&run);
    }
    crash_stats_t st = { 0 };
    crash_finish(&run, &st);
    if (run.proc.pid > 0) {
        ts_proc_stop(&run.proc, SIGKILL);
    }
    if (c.failed) {
        crash_report(&st, "%s", c.fail_msg);
    }
    char log_path[512];
    snprintf(log_path, sizeof(log_path), "%s.log", run.datadir);
    unsigned torn = 0, starts = 0;
    unsigned bad = crash_scan_log(log_path, &torn, &starts);
    if (bad) {
        st.errors += bad;
        printf("crash_test: FAIL: %u error or crash lines in the server log %s\n", bad, log_path);
    }
    printf("crash_test: %s: seed %" PRIu64 ", %u rounds (%u SIGKILL, %u SIGTERM, %u flushing, %u flushes), "
           "%" PRIu64 " cuts and %" PRIu64 " compactions seen, %u replays (%u torn WAL tails cut), %" PRIu64
           " requests (%" PRIu64 " acknowledged, %" PRIu64 " resent), %" PRIu64 " samples sent, %" PRIu64
           " acknowledged, %" PRIu64 " verified, %" PRIu64 " errors, %.1f s\n",
           st.errors ? "FAILED" : "ok", seed, run.rounds, run.kills, run.terms, run.flush_rounds,
           atomic_load(&c.flushes), run.cuts, run.compactions, starts, torn, st.requests, st.acked_requests, st.resent,
           st.sent_samples, st.acked_samples, st.verified, st.errors, crash_now() - t0);
    if (getenv("CRASH_KEEP")) {
        printf("crash_test: data dir kept: %s\n", run.root);
    } else {
        ts_rmrf(run.root);
    }
    for (int k = 0; k < CRASH_SENDERS; k++) {
        free(c.senders[k].reqs);
    }
    return st.errors ? 1 : 0;
}

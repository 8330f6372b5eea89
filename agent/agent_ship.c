/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent_ship: one endpoint, remote-write (metrics) or Loki push (logs):
 * its shards, their spools and sender threads. Both kinds go through the
 * same batching, spool, retry and drop rules below; they differ only in
 * the pending batch's encoding, the request headers and the sharding.
 *
 * A sample goes to the shard its series hash picks, so a series always
 * travels through one shard, in order (what a Prometheus receiver
 * without out-of-order ingestion requires). Each shard appends samples
 * to a pending batch in memory; the batch is snappy-compressed into the
 * shard's spool when it holds max_samples samples or is older than the
 * batch deadline (ship_flush), and at shutdown. Log entries (SHIP_LOKI)
 * all go through one shard, so a stream's entries keep their order; a
 * log batch is cut at max_samples_per_send entries or max_bytes_per_send
 * bytes. When a batch is cut the checkpoint hook gives the input
 * positions it covers; they are spooled with it and handed to the ack
 * hook when the batch is done with (2xx, or a 4xx drop), on the sender
 * thread, in spool order: inputs persist positions only after the store
 * has the entries. Every batch goes through
 * the spool, so what was collected survives an outage of the store and
 * a restart of the agent; memory does not grow with the outage.
 *
 * A sender thread per shard sends the oldest spooled batch: 2xx pops it;
 * 5xx, 429 and connection errors retry the same batch after an
 * exponential backoff with jitter (at least Retry-After when the answer
 * has one); other 4xx drop it, counted as reason="rejected" and logged
 * with the receiver's answer. Oldest-first drops past the spool bound
 * are counted as reason="spool_full".
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/agent_int.h"
#include "common/clock.h"
#include "common/compress.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/mem.h"

typedef struct ship_shard {
    struct shipper *owner;
    uint32_t index;
    spool_t *spool;
    rw_batch_t pending;    /* SHIP_REMOTE_WRITE; touched by the adding thread only */
    loki_batch_t lpending; /* SHIP_LOKI; adding thread only */
    buf_t raw, packed, ck; /* encoded and snappy output, checkpoint: adding thread only */
    agent_auth_buf_t auth; /* request headers, sender thread only */
    pthread_t thread;
    bool started;
    uint64_t rng;
} ship_shard_t;

struct shipper {
    ship_opts_t o;
    char *url;
    ship_shard_t *shards;
    pthread_mutex_t mu; /* guards stop and the stop condition */
    pthread_cond_t cv;
    bool stopping;
    int64_t drain_until_ms; /* monotonic; senders quit when empty or past it */
    _Atomic uint64_t queued_samples, sent_samples, sent_batches, sent_bytes, retries, rejected_samples;
    _Atomic int64_t last_success_ms;
};

static int64_t ship_mono_ms(void)
{
    return (int64_t)(clock_mono_s() * 1000.0);
}

/* xorshift64*: jitter only, never security. */
static uint64_t ship_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* Sleep up to ms, or until a stopping shipper's drain time is over.
 * Returns true when the sender must quit now. */
static bool ship_sleep(shipper_t *sh, int64_t ms)
{
    struct timespec ts;
    clock_mono_deadline(ms, &ts);
    pthread_mutex_lock(&sh->mu);
    bool quit = false;
    for (;;) {
        quit = sh->stopping && ship_mono_ms() >= sh->drain_until_ms;
        if (quit || pthread_cond_timedwait(&sh->cv, &sh->mu, &ts) == ETIMEDOUT) {
            break;
        }
    }
    quit = sh->stopping && ship_mono_ms() >= sh->drain_until_ms;
    pthread_mutex_unlock(&sh->mu);
    return quit;
}

static bool ship_should_quit(shipper_t *sh, bool empty)
{
    pthread_mutex_lock(&sh->mu);
    bool quit = sh->stopping && (empty || ship_mono_ms() >= sh->drain_until_ms);
    pthread_mutex_unlock(&sh->mu);
    return quit;
}

static const char *ship_kind_name(const shipper_t *sh)
{
    return sh->o.kind == SHIP_LOKI ? "loki push" : "remote-write";
}

/* The batch is done with: pop it, then hand its checkpoint to the ack hook. */
static void ship_done(ship_shard_t *sd, uint64_t seq, const buf_t *ck, uint32_t n, bool delivered)
{
    shipper_t *sh = sd->owner;
    spool_pop(sd->spool, seq);
    if (sh->o.ack) {
        sh->o.ack(sh->o.hook_ctx, ck->data, ck->len, n, delivered);
    }
}

/* Send one batch until it is acknowledged, rejected, or we stop.
 * Returns true when the batch is done with (popped). */
static bool ship_send_batch(ship_shard_t *sd, agent_httpc_t *hc, const buf_t *body, const buf_t *ck, uint64_t seq,
                            uint32_t n)
{
    shipper_t *sh = sd->owner;
    static const char *const rw_base[] = { "Content-Encoding: snappy", "Content-Type: application/x-protobuf",
                                           "X-Prometheus-Remote-Write-Version: 0.1.0",
                                           "User-Agent: pharos-agent/" AGENT_VERSION, NULL };
    /* Loki's push: a raw snappy block with no Content-Encoding, as
     * Promtail sends it. */
    static const char *const loki_base[] = { "Content-Type: application/x-protobuf",
                                             "User-Agent: pharos-agent/" AGENT_VERSION, NULL };
    const char *const *base = sh->o.kind == SHIP_LOKI ? loki_base : rw_base;
    const char *what = sh->o.kind == SHIP_LOKI ? "entries" : "samples";
    int64_t backoff = sh->o.min_backoff_ms;
    for (;;) {
        httpc_result_t res;
        const char **headers = NULL;
        char why[256];
        if (agent_auth_headers(&sh->o.auth, base, &sd->auth, &headers, why, sizeof(why)) != 0) {
            /* A secret file missing or bad: retry, it may be mounted later. */
            res = (httpc_result_t){ .status = HTTPC_RETRY, .retry_after_ms = -1 };
            snprintf(res.error, sizeof(res.error), "%s", why);
            log_warn("%s %s: %s", ship_kind_name(sh), sh->url, why);
        } else {
            agent_httpc_post(hc, sh->url, headers, body->data, body->len, NULL, &res);
        }
        if (res.status == HTTPC_OK) {
            atomic_fetch_add(&sh->sent_samples, n);
            atomic_fetch_add(&sh->sent_batches, 1);
            atomic_fetch_add(&sh->sent_bytes, body->len);
            atomic_store(&sh->last_success_ms, agent_wall_ms());
            ship_done(sd, seq, ck, n, true);
            return true;
        }
        if (res.status == HTTPC_FATAL) {
            log_warn("%s %s: batch of %" PRIu32 " %s rejected with HTTP %ld, dropped: %s", ship_kind_name(sh), sh->url,
                     n, what, res.http_code, res.error);
            atomic_fetch_add(&sh->rejected_samples, n);
            ship_done(sd, seq, ck, n, false);
            return true;
        }
        atomic_fetch_add(&sh->retries, 1);
        log_debug("%s %s: retrying in %" PRId64 " ms: %s", ship_kind_name(sh), sh->url, backoff, res.error);
        int64_t wait = backoff / 2 + (int64_t)(ship_rand(&sd->rng) % (uint64_t)(backoff / 2 + 1));
        if (res.retry_after_ms > wait) {
            wait = res.retry_after_ms;
        }
        if (ship_sleep(sh, wait)) {
            spool_release(sd->spool);
            return false;
        }
        backoff = backoff * 2 > sh->o.max_backoff_ms ? sh->o.max_backoff_ms : backoff * 2;
    }
}

static void *ship_sender_main(void *arg)
{
    ship_shard_t *sd = arg;
    shipper_t *sh = sd->owner;
    agent_httpc_t *hc = agent_httpc_create(sh->o.timeout_ms);
    buf_t body, ck;
    buf_init(&body);
    buf_init(&ck);
    for (;;) {
        uint64_t seq = 0;
        uint32_t n = 0;
        int rc = hc ? spool_peek(sd->spool, &body, &ck, &seq, &n) : 0;
        if (rc == 0) {
            if (ship_should_quit(sh, true)) {
                break;
            }
            spool_wait(sd->spool, 1000);
            continue;
        }
        if (!ship_send_batch(sd, hc, &body, &ck, seq, n)) {
            break;
        }
        if (ship_should_quit(sh, false)) {
            break;
        }
    }
    buf_fini(&body);
    buf_fini(&ck);
    agent_httpc_destroy(hc);
    return NULL;
}

static void ship_free(shipper_t *sh)
{
    for (uint32_t i = 0; sh->shards && i < sh->o.shards; i++) {
        ship_shard_t *sd = &sh->shards[i];
        spool_close(sd->spool);
        buf_fini(&sd->pending.pb);
        agent_loki_fini(&sd->lpending);
        buf_fini(&sd->raw);
        buf_fini(&sd->packed);
        buf_fini(&sd->ck);
        agent_auth_buf_fini(&sd->auth);
    }
    mem_free(sh->shards);
    mem_free(sh->url);
    pthread_mutex_destroy(&sh->mu);
    pthread_cond_destroy(&sh->cv);
    mem_free(sh);
}

int ship_create(const ship_opts_t *o, shipper_t **out, char *err, size_t errlen)
{
    *out = NULL;
    shipper_t *sh = mem_calloc(1, sizeof(*sh));
    sh->o = *o;
    sh->o.shards = o->shards && o->kind != SHIP_LOKI ? o->shards : 1;
    sh->url = mem_strdup(o->url);
    sh->o.url = sh->url;
    pthread_mutex_init(&sh->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&sh->cv, &ca);
    pthread_condattr_destroy(&ca);
    sh->shards = mem_calloc(sh->o.shards, sizeof(*sh->shards));
    uint64_t per_shard = o->max_bytes / sh->o.shards;
    for (uint32_t i = 0; i < sh->o.shards; i++) {
        ship_shard_t *sd = &sh->shards[i];
        sd->owner = sh;
        sd->index = i;
        sd->rng = hash_bytes(o->url, strlen(o->url)) ^ ((uint64_t)i + 1) * 0x9E3779B97F4A7C15ULL;
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/shard-%02" PRIu32, o->dir, i);
        if (spool_open(dir, per_shard, o->sync, &sd->spool, err, errlen) != 0) {
            ship_free(sh);
            return -1;
        }
    }
    for (uint32_t i = 0; i < sh->o.shards; i++) {
        ship_shard_t *sd = &sh->shards[i];
        if (pthread_create(&sd->thread, NULL, ship_sender_main, sd) != 0) {
            snprintf(err, errlen, "%s %s: cannot start sender thread", ship_kind_name(sh), o->url);
            ship_destroy(sh, 0);
            return -1;
        }
        sd->started = true;
    }
    *out = sh;
    return 0;
}

static uint32_t ship_pending(const ship_shard_t *sd)
{
    return sd->owner->o.kind == SHIP_LOKI ? sd->lpending.nentries : sd->pending.nsamples;
}

static int64_t ship_pending_since(const ship_shard_t *sd)
{
    return sd->owner->o.kind == SHIP_LOKI ? sd->lpending.first_ms : sd->pending.first_ms;
}

/* Compress and spool a shard's pending batch with its checkpoint. */
static void ship_flush_shard(ship_shard_t *sd)
{
    shipper_t *sh = sd->owner;
    uint32_t n = ship_pending(sd);
    if (n == 0) {
        return;
    }
    buf_reset(&sd->packed);
    if (sh->o.kind == SHIP_LOKI) {
        buf_reset(&sd->raw);
        agent_loki_finish(&sd->lpending, &sd->raw);
        compress_snappy(sd->raw.data, sd->raw.len, &sd->packed);
    } else {
        compress_snappy(sd->pending.pb.data, sd->pending.pb.len, &sd->packed);
    }
    buf_reset(&sd->ck);
    if (sh->o.checkpoint) {
        sh->o.checkpoint(sh->o.hook_ctx, &sd->ck);
    }
    int rc = spool_put(sd->spool, n, sd->packed.data, sd->packed.len, sd->ck.data, sd->ck.len);
    if (rc != 0) {
        log_error("%s %s: cannot spool %" PRIu32 " %s: %s", ship_kind_name(sh), sh->url, n,
                  sh->o.kind == SHIP_LOKI ? "entries" : "samples", strerror(-rc));
    }
    agent_rw_reset(&sd->pending);
    agent_loki_reset(&sd->lpending);
}

void ship_add(shipper_t *sh, const label_t *ls, size_t n, uint64_t hash, double v, int64_t ts_ms, int64_t now_ms)
{
    ship_shard_t *sd = &sh->shards[hash % sh->o.shards];
    atomic_fetch_add_explicit(&sh->queued_samples, 1, memory_order_relaxed);
    if (sd->pending.nsamples == 0) {
        sd->pending.first_ms = now_ms;
    }
    agent_rw_add(&sd->pending, ls, n, v, ts_ms);
    if (sd->pending.nsamples >= sh->o.max_samples_per_send ||
        (sh->o.max_bytes_per_send && sd->pending.pb.len >= sh->o.max_bytes_per_send)) {
        ship_flush_shard(sd);
    }
}

void ship_add_entry(shipper_t *sh, str_t labels, int64_t ts_ns, str_t line, const label_t *meta, size_t nmeta,
                    int64_t now_ms)
{
    ship_shard_t *sd = &sh->shards[0];
    atomic_fetch_add_explicit(&sh->queued_samples, 1, memory_order_relaxed);
    if (sd->lpending.nentries == 0) {
        sd->lpending.first_ms = now_ms;
    }
    agent_loki_add(&sd->lpending, labels, ts_ns, line, meta, nmeta);
    if (sd->lpending.nentries >= sh->o.max_samples_per_send ||
        (sh->o.max_bytes_per_send && sd->lpending.bytes >= sh->o.max_bytes_per_send)) {
        ship_flush_shard(sd);
    }
}

void ship_flush(shipper_t *sh, int64_t now_ms, bool force)
{
    for (uint32_t i = 0; i < sh->o.shards; i++) {
        ship_shard_t *sd = &sh->shards[i];
        if (ship_pending(sd) > 0 && (force || now_ms - ship_pending_since(sd) >= sh->o.batch_deadline_ms)) {
            ship_flush_shard(sd);
        }
    }
}

int64_t ship_next_deadline(const shipper_t *sh)
{
    int64_t next = INT64_MAX;
    for (uint32_t i = 0; i < sh->o.shards; i++) {
        const ship_shard_t *sd = &sh->shards[i];
        if (ship_pending(sd) > 0 && ship_pending_since(sd) + sh->o.batch_deadline_ms < next) {
            next = ship_pending_since(sd) + sh->o.batch_deadline_ms;
        }
    }
    return next;
}

void ship_destroy(shipper_t *sh, int64_t drain_ms)
{
    if (!sh) {
        return;
    }
    for (uint32_t i = 0; i < sh->o.shards; i++) {
        ship_flush_shard(&sh->shards[i]);
    }
    pthread_mutex_lock(&sh->mu);
    sh->stopping = true;
    sh->drain_until_ms = ship_mono_ms() + drain_ms;
    int64_t until = sh->drain_until_ms;
    pthread_mutex_unlock(&sh->mu);
    /* Senders with queued batches go on until drained or the deadline;
     * waiting ones are woken to see the stop. */
    for (uint32_t i = 0; i < sh->o.shards; i++) {
        spool_wake(sh->shards[i].spool);
    }
    while (ship_mono_ms() < until) {
        bool all_empty = true;
        for (uint32_t i = 0; i < sh->o.shards; i++) {
            spool_stats_t st;
            spool_stats(sh->shards[i].spool, &st);
            all_empty = all_empty && st.files == 0;
        }
        if (all_empty) {
            break;
        }
        struct timespec ts = { 0, 20 * 1000000L };
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&sh->mu);
    sh->drain_until_ms = 0;
    pthread_cond_broadcast(&sh->cv);
    pthread_mutex_unlock(&sh->mu);
    for (uint32_t i = 0; i < sh->o.shards; i++) {
        if (sh->shards[i].started) {
            pthread_join(sh->shards[i].thread, NULL);
        }
    }
    ship_stats_t st;
    ship_stats(sh, &st);
    log_info("%s %s stopped: queued=%" PRIu64 " sent=%" PRIu64 " dropped_spool_full=%" PRIu64
             " dropped_rejected=%" PRIu64 " dropped_corrupt=%" PRIu64 " spooled_batches=%" PRIu64,
             ship_kind_name(sh), sh->url, st.queued_samples, st.sent_samples, st.dropped_spool_full,
             st.dropped_rejected, st.dropped_corrupt, st.spool_batches);
    ship_free(sh);
}

void ship_stats(shipper_t *sh, ship_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    out->url = sh->url;
    out->kind = sh->o.kind;
    out->spool_max_bytes = sh->o.max_bytes;
    out->queued_samples = atomic_load(&sh->queued_samples);
    out->sent_samples = atomic_load(&sh->sent_samples);
    out->sent_batches = atomic_load(&sh->sent_batches);
    out->sent_bytes = atomic_load(&sh->sent_bytes);
    out->retries = atomic_load(&sh->retries);
    out->dropped_rejected = atomic_load(&sh->rejected_samples);
    out->last_success_ms = atomic_load(&sh->last_success_ms);
    for (uint32_t i = 0; i < sh->o.shards; i++) {
        spool_stats_t st;
        spool_stats(sh->shards[i].spool, &st);
        out->spool_bytes += st.bytes;
        out->spool_batches += st.files;
        out->dropped_spool_full += st.dropped_full;
        out->dropped_corrupt += st.dropped_corrupt;
    }
}

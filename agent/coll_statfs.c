/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_statfs: statfs(2) with a time limit, so that one hung mount (an
 * NFS server gone away) cannot stop the collection thread and with it
 * every other collector.
 *
 * A worker thread makes the call; the collector waits for it at most the
 * timeout. On timeout the path is put on a stuck list (answered -ETIMEDOUT
 * at once from then on, as node_exporter's stuck-mount tracking does),
 * the worker is abandoned to finish its call on its own, and the next
 * call starts a new worker. When the abandoned call finally returns, its
 * path leaves the stuck list and the worker exits. At most
 * COLL_STATFS_STUCK_MAX calls hang at once: past that, calls are refused
 * (-ETIMEDOUT) until one returns, so hung mounts cannot pile up threads. The shared control
 * block is reference-counted: the collector and every worker hold one, so
 * it outlives whichever finishes last. Steady state: one idle worker, no
 * allocation per call.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <time.h>

#include "agent/agent_int.h"
#include "common/clock.h"
#include "common/mem.h"

#define COLL_STATFS_STUCK_MAX 16
#define COLL_STATFS_PATH 4096

struct coll_statfs {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC */
    coll_statfs_fn fn;
    int64_t timeout_ms;
    unsigned refs;
    uint64_t live;    /* id of the worker taking requests; 0: none */
    uint64_t next_id; /* ids handed out */
    bool pending, done, closing;
    char path[COLL_STATFS_PATH];
    struct statfs result;
    int rc;
    char stuck[COLL_STATFS_STUCK_MAX][COLL_STATFS_PATH];
    size_t nstuck;
};

typedef struct coll_statfs_worker {
    coll_statfs_t *w;
    uint64_t id;
} coll_statfs_worker_t;

/* Drop one reference (mu held); frees when it was the last. */
static void coll_statfs_unref_locked(coll_statfs_t *w)
{
    bool last = --w->refs == 0;
    pthread_mutex_unlock(&w->mu);
    if (last) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        mem_free(w);
    }
}

static void coll_statfs_unstick(coll_statfs_t *w, const char *path)
{
    for (size_t i = 0; i < w->nstuck; i++) {
        if (strcmp(w->stuck[i], path) == 0) {
            memmove(w->stuck[i], w->stuck[w->nstuck - 1], COLL_STATFS_PATH);
            w->nstuck--;
            return;
        }
    }
}

static void *coll_statfs_main(void *arg)
{
    coll_statfs_worker_t self = *(coll_statfs_worker_t *)arg;
    mem_free(arg);
    coll_statfs_t *w = self.w;
    char path[COLL_STATFS_PATH];
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->live == self.id && !w->closing && !(w->pending && !w->done)) {
            pthread_cond_wait(&w->cv, &w->mu);
        }
        if (w->live != self.id || w->closing) {
            break;
        }
        memcpy(path, w->path, sizeof(path));
        pthread_mutex_unlock(&w->mu);
        struct statfs sf;
        int rc = w->fn(path, &sf) == 0 ? 0 : -errno;
        pthread_mutex_lock(&w->mu);
        if (w->live != self.id) { /* abandoned while we were stuck */
            coll_statfs_unstick(w, path);
            break;
        }
        w->result = sf;
        w->rc = rc;
        w->done = true;
        pthread_cond_broadcast(&w->cv);
    }
    coll_statfs_unref_locked(w);
    return NULL;
}

/* Start a worker if none is live (mu held). 0, or -errno. */
static int coll_statfs_spawn(coll_statfs_t *w)
{
    if (w->live != 0) {
        return 0;
    }
    coll_statfs_worker_t *arg = mem_alloc(sizeof(*arg));
    uint64_t id = ++w->next_id; /* arg belongs to the thread once it runs */
    arg->w = w;
    arg->id = id;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 128 * 1024);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_t th;
    int rc = pthread_create(&th, &at, coll_statfs_main, arg);
    pthread_attr_destroy(&at);
    if (rc != 0) {
        mem_free(arg);
        return -rc;
    }
    w->live = id;
    w->refs++;
    return 0;
}

coll_statfs_t *coll_statfs_create(coll_statfs_fn fn, int64_t timeout_ms)
{
    coll_statfs_t *w = mem_calloc(1, sizeof(*w));
    w->fn = fn;
    w->timeout_ms = timeout_ms;
    w->refs = 1;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    return w;
}

void coll_statfs_destroy(coll_statfs_t *w)
{
    if (!w) {
        return;
    }
    pthread_mutex_lock(&w->mu);
    w->closing = true;
    pthread_cond_broadcast(&w->cv);
    coll_statfs_unref_locked(w);
}

bool coll_statfs_stuck(coll_statfs_t *w, const char *path)
{
    pthread_mutex_lock(&w->mu);
    bool stuck = false;
    for (size_t i = 0; i < w->nstuck && !stuck; i++) {
        stuck = strcmp(w->stuck[i], path) == 0;
    }
    pthread_mutex_unlock(&w->mu);
    return stuck;
}

int coll_statfs_call(coll_statfs_t *w, const char *path, struct statfs *out)
{
    if (strlen(path) >= COLL_STATFS_PATH) {
        return -ENAMETOOLONG;
    }
    if (coll_statfs_stuck(w, path)) {
        return -ETIMEDOUT;
    }
    pthread_mutex_lock(&w->mu);
    if (w->nstuck >= COLL_STATFS_STUCK_MAX) {
        /* Every stuck call holds a thread: past the bound, no new call is
         * made until one returns, so threads cannot pile up. */
        pthread_mutex_unlock(&w->mu);
        return -ETIMEDOUT;
    }
    int rc = coll_statfs_spawn(w);
    if (rc != 0) {
        pthread_mutex_unlock(&w->mu);
        return rc;
    }
    snprintf(w->path, sizeof(w->path), "%s", path);
    w->pending = true;
    w->done = false;
    pthread_cond_broadcast(&w->cv);
    struct timespec ts;
    clock_mono_deadline(w->timeout_ms, &ts);
    while (!w->done) {
        if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) == ETIMEDOUT && !w->done) {
            break;
        }
    }
    if (w->done) {
        *out = w->result;
        rc = w->rc;
    } else {
        /* Abandon the worker to its call; the path is stuck until it returns. */
        snprintf(w->stuck[w->nstuck++], COLL_STATFS_PATH, "%s", path);
        w->live = 0;
        rc = -ETIMEDOUT;
    }
    w->pending = false;
    w->done = false;
    pthread_mutex_unlock(&w->mu);
    return rc;
}

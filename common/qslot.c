/* SPDX-License-Identifier: Apache-2.0 */
/*
 * qslot: the counting semaphore of qslot.h. The condvar uses
 * CLOCK_MONOTONIC, so deadlines from clock_mono_s() compare directly and
 * a wall-clock step cannot stretch or cut a wait.
 */
#include "common/qslot.h"

#include <errno.h>
#include <time.h>

void qslot_init(qslot_t *q, int max)
{
    q->running = 0;
    q->max = max > 0 ? max : 1;
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cond, &ca);
    pthread_condattr_destroy(&ca);
}

void qslot_fini(qslot_t *q)
{
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cond);
}

bool qslot_take(qslot_t *q, double deadline)
{
    pthread_mutex_lock(&q->mu);
    bool ok = true;
    while (ok && q->running >= q->max) {
        if (deadline <= 0) {
            pthread_cond_wait(&q->cond, &q->mu);
            continue;
        }
        struct timespec ts;
        ts.tv_sec = (time_t)deadline;
        ts.tv_nsec = (long)((deadline - (double)ts.tv_sec) * 1e9);
        if (pthread_cond_timedwait(&q->cond, &q->mu, &ts) == ETIMEDOUT) {
            ok = q->running < q->max;
        }
    }
    if (ok) {
        q->running++;
    }
    pthread_mutex_unlock(&q->mu);
    return ok;
}

void qslot_give(qslot_t *q)
{
    pthread_mutex_lock(&q->mu);
    q->running--;
    pthread_cond_signal(&q->cond);
    pthread_mutex_unlock(&q->mu);
}

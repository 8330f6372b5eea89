/* SPDX-License-Identifier: Apache-2.0 */
/*
 * qslot: a counting semaphore with a deadline, the query APIs' bound on
 * queries evaluated at once. A query takes a slot before it runs and
 * gives it back after; past max it waits on a CLOCK_MONOTONIC condvar
 * until a slot frees or its deadline passes. Embedded (init/fini).
 */
#ifndef PHAROS_COMMON_QSLOT_H
#define PHAROS_COMMON_QSLOT_H

#include <pthread.h>
#include <stdbool.h>

typedef struct qslot {
    pthread_mutex_t mu; /* guards running */
    pthread_cond_t cond;
    int running;
    int max;
} qslot_t;

/* max >= 1 slots. */
void qslot_init(qslot_t *q, int max);
/* No slot may be held. */
void qslot_fini(qslot_t *q);
/* Take a slot, waiting until deadline (clock_mono_s() seconds; 0: no
 * deadline). True when taken; false when the deadline passed first. */
bool qslot_take(qslot_t *q, double deadline);
/* Give back a slot taken by qslot_take. */
void qslot_give(qslot_t *q);

#endif

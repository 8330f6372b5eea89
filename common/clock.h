/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clock: an injectable "now" and timestamp parsing.
 *
 * Components that need the time take a clock_t; tests pass a fixed one.
 * Timestamps are int64 milliseconds since the Unix epoch throughout Pharos.
 */
#ifndef PHAROS_COMMON_CLOCK_H
#define PHAROS_COMMON_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pclock {
    int64_t (*now_ms)(void *ctx);
    void *ctx;
} pclock_t;

/* The real wall clock (CLOCK_REALTIME). */
pclock_t clock_real(void);
static inline int64_t clock_now_ms(const pclock_t *c)
{
    return c->now_ms(c->ctx);
}
/* Monotonic seconds, for measuring durations. */
double clock_mono_s(void);
/* [out] *ts = CLOCK_MONOTONIC now + ms, the absolute deadline of a
 * pthread_cond_timedwait on a condvar whose clock is CLOCK_MONOTONIC. */
struct timespec;
void clock_mono_deadline(int64_t ms, struct timespec *ts);

/* Parse a timestamp as the Prometheus API accepts it: Unix seconds as a
 * float ("1700000000.123") or RFC 3339 ("2023-11-14T22:13:20.123Z",
 * "…+02:00"). Result in ms (rounded to the nearest ms). False on junk. */
bool time_parse_ms(const char *s, size_t len, int64_t *out);
/* Parse RFC 3339 with up to 9 fractional digits ("…T22:13:20.123456789Z",
 * "…+02:00") into ns since the epoch. False on junk or out of int64 range. */
bool time_parse_rfc3339_ns(const char *s, size_t len, int64_t *out);
/* Format ms as RFC 3339 UTC with milliseconds into dst (room for 32). */
size_t time_format_rfc3339(int64_t ms, char *dst);

#endif

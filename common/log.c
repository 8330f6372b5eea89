/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log: one logfmt line per call, formatted into a stack buffer and written
 * with a single write(2) to stderr. See log.h.
 */
#include "common/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static _Atomic int log_threshold = LOG_INFO;

static const char *const log_names[] = { "debug", "info", "warn", "error" };

void log_set_level(log_level_t level)
{
    atomic_store(&log_threshold, (int)level);
}

bool log_level_parse(const char *s, log_level_t *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, log_names[i]) == 0) {
            *out = (log_level_t)i;
            return true;
        }
    }
    return false;
}

void log_msg(log_level_t level, const char *fmt, ...)
{
    if ((int)level < atomic_load(&log_threshold)) {
        return;
    }
    char line[2048];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03dZ level=%s msg=\"", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000),
                     log_names[level]);
    char msg[1800];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    for (const char *m = msg; *m && n < (int)sizeof(line) - 3; m++) {
        if (*m == '"' || *m == '\\') {
            line[n++] = '\\';
            line[n++] = *m;
        } else if (*m == '\n') {
            line[n++] = '\\';
            line[n++] = 'n';
        } else {
            line[n++] = *m;
        }
    }
    line[n++] = '"';
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, (size_t)n);
    (void)w;
}

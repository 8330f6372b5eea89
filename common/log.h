/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log: levelled, line-oriented logging to stderr in logfmt
 * (ts=… level=… msg="…" key=value). One line per call, written with one
 * write(2) so lines from threads never interleave. The level threshold is
 * process-wide (set once at start, read everywhere).
 */
#ifndef PHAROS_COMMON_LOG_H
#define PHAROS_COMMON_LOG_H

#include <stdbool.h>

typedef enum log_level {
    LOG_DEBUG = 0,
    LOG_INFO = 1,
    LOG_WARN = 2,
    LOG_ERROR = 3,
} log_level_t;

void log_set_level(log_level_t level);
/* Parse "debug", "info", "warn", "error"; false if unknown. */
bool log_level_parse(const char *s, log_level_t *out);
void log_msg(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif

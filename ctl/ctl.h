/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl: pharosctl, the command-line client of pharosd. ctl_main.c is the
 * composition root (command table, exit codes); each command lives in its
 * own file and is a function of a ctl_env_t, so tests can run it with their
 * own streams, clock and default URL. The parts that do no I/O (argument
 * splitting, time parsing, response formatting) are exported for tests.
 */
#ifndef PHAROS_CTL_CTL_H
#define PHAROS_CTL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/str.h"

/* pharosctl's exit status, the same for every command. */
typedef enum ctl_exit {
    CTL_EXIT_OK = 0,          /* done; for a query: the server answered success */
    CTL_EXIT_QUERY = 1,       /* the server answered with an error (or an unreadable answer) */
    CTL_EXIT_USAGE = 2,       /* bad command line: nothing was sent */
    CTL_EXIT_UNREACHABLE = 3, /* no answer: connection refused, DNS, timeout */
} ctl_exit_t;

#define CTL_DEFAULT_URL "http://127.0.0.1:9747"

/* What a command may touch besides its arguments. All borrowed. */
typedef struct ctl_env {
    FILE *out;               /* results */
    FILE *err;               /* errors, warnings, infos */
    pclock_t clock;          /* "now" for relative times */
    const char *default_url; /* $PHAROS_URL, or NULL for CTL_DEFAULT_URL */
    int max_polls;           /* logs --follow: stop after this many polls; 0: until SIGINT/SIGTERM (tests only) */
} ctl_env_t;

/* One row of the command table in ctl_main.c. run gets argv[0] = the
 * command name and returns a ctl_exit_t; usage prints its --help. */
typedef struct ctl_command {
    const char *name;
    const char *summary;
    int (*run)(const ctl_env_t *env, int argc, char **argv);
    void (*usage)(FILE *out);
} ctl_command_t;

/* pharosctl query / query-range (ctl_query.c). */
int ctl_query_run(const ctl_env_t *env, int argc, char **argv);
void ctl_query_usage(FILE *out);
int ctl_query_range_run(const ctl_env_t *env, int argc, char **argv);
void ctl_query_range_usage(FILE *out);
/* pharosctl logs (ctl_logs.c). */
int ctl_logs_run(const ctl_env_t *env, int argc, char **argv);
void ctl_logs_usage(FILE *out);
/* pharosctl check rules (ctl_check.c): promtool check rules, offline. */
int ctl_check_run(const ctl_env_t *env, int argc, char **argv);
void ctl_check_usage(FILE *out);

/* A time argument: "now", "now-<duration>", "now+<duration>",
 * "-<duration>" (= now-<duration>), Unix seconds ("1700000000.5") or
 * RFC 3339 ("2023-11-14T22:13:20Z"). Durations are Prometheus durations
 * ("1h30m"). Result in ms in [out]; false on junk or overflow. Pure. */
bool ctl_query_parse_time(const char *s, int64_t now_ms, int64_t *out);
/* A step: a Prometheus duration ("15s", "1m") or seconds ("30", "0.5").
 * Result in ms in [out]; false unless it is > 0 (and >= 1 ms). Pure. */
bool ctl_query_parse_step(const char *s, int64_t *out);

/* Split argv[1..argc) into flags of table f (set into dst with
 * config_set: "--key=value", "--key value", a bare "--key" for a BOOL)
 * and positional arguments, stored in order into [out] pos (room for argc
 * entries, borrowed from argv) with their count in [out] npos. "--" ends
 * the flags; any other argument starting with '-' (but "-" alone) is a
 * flag and must be in the table. 0, or -1 with "flag --key: reason" or
 * "unknown flag -x" in err. O(argc * n). */
int ctl_args_parse(int argc, char **argv, const config_field_t *f, size_t n, void *dst, const char **pos, size_t *npos,
                   char *err, size_t errlen);
/* A one-letter alias of a long flag: { 'f', "follow" } makes "-f" mean
 * "--follow" (a BOOL alias sets it; any other takes the next argument). */
typedef struct ctl_args_short {
    char letter;
    const char *key;
} ctl_args_short_t;
/* ctl_args_parse with the aliases shorts[0..nshort) (borrowed). */
int ctl_args_parse_short(int argc, char **argv, const config_field_t *f, size_t n, const ctl_args_short_t *shorts,
                         size_t nshort, void *dst, const char **pos, size_t *npos, char *err, size_t errlen);

typedef enum ctl_format_rc {
    CTL_FORMAT_OK = 0,           /* status "success" */
    CTL_FORMAT_QUERY_ERROR = 1,  /* status "error": "error (type): message" written to err */
    CTL_FORMAT_BAD_RESPONSE = 2, /* not a Prometheus API answer: "error: malformed response: …" */
} ctl_format_rc_t;

/* Format a Prometheus API query answer json[0..len) (borrowed).
 * table: vector as aligned "SERIES  VALUE" rows under a header, matrix as
 * one block per series (labels line, then "RFC3339  VALUE" rows, blocks
 * separated by a blank line), scalar and string as their value; an empty
 * vector or matrix prints nothing. !table: the JSON verbatim (plus a final
 * newline) for any well-formed envelope, success or error. Either way
 * warnings and infos are appended to err as "warning: …" / "info: …"
 * lines, and an error envelope as "error (type): message". out is only
 * appended to on CTL_FORMAT_OK or (JSON) CTL_FORMAT_QUERY_ERROR; err gets
 * the reason on every other path. Work is linear in len plus sorting each
 * series' labels. */
ctl_format_rc_t ctl_format_result(const char *json, size_t len, bool table, buf_t *out, buf_t *err);

/* ---- pharosctl logs: a Loki query_range answer as lines (ctl_logs.c) ---- */

/* How an entry prints (--output). */
typedef enum ctl_logs_output {
    CTL_LOGS_DEFAULT = 0, /* "<RFC 3339 ms UTC> <{labels}> <line>" */
    CTL_LOGS_RAW = 1,     /* "<line>" */
    CTL_LOGS_JSONL = 2,   /* {"ts":"<RFC 3339 ns UTC>","labels":{…},"line":"…"} */
} ctl_logs_output_t;

/* One log entry of a page; every slice is borrowed from the page and
 * valid until its next parse or destroy. */
typedef struct ctl_logs_entry {
    int64_t ts_ns;
    str_t labels;      /* the stream's labels as {a="b", c="d"}, sorted by name */
    str_t labels_json; /* the same as a JSON object, in the answer's order */
    str_t line;        /* may hold NUL bytes */
} ctl_logs_entry_t;

typedef enum ctl_logs_rc {
    CTL_LOGS_STREAMS = 0,      /* a log answer: entries merged into one order */
    CTL_LOGS_METRIC = 1,       /* success, but a matrix/vector/scalar: format it with ctl_format_result */
    CTL_LOGS_BAD_RESPONSE = 2, /* not a Loki answer: "error: malformed response: …" in err */
} ctl_logs_rc_t;

/* One parsed answer. Its arrays and text buffer are kept between parses,
 * so paging through a range allocates only while a page outgrows all the
 * pages before it (plus jansson's tree of the answer itself). */
typedef struct ctl_logs_page ctl_logs_page_t;

ctl_logs_page_t *ctl_logs_page_create(void);
/* Free the page and its tree. NULL ok. */
void ctl_logs_page_destroy(ctl_logs_page_t *p);
/* Parse a query_range answer json[0..len) (copied into the page's tree).
 * For "streams", the entries of all streams are merged into one order by
 * timestamp: ascending, or descending when backward; entries with equal
 * timestamps keep the answer's stream order (a k-way merge, each stream
 * already in the query's direction). Top-level "warnings" strings are
 * appended to err as "warning: …" lines on every path but a malformed
 * answer. O(n log k) for n entries in k streams plus sorting labels. */
ctl_logs_rc_t ctl_logs_page_parse(ctl_logs_page_t *p, const char *json, size_t len, bool backward, buf_t *err);
/* The page's entries after CTL_LOGS_STREAMS (0 otherwise), and the i-th
 * of them in merged order into [out] e. */
size_t ctl_logs_page_count(const ctl_logs_page_t *p);
void ctl_logs_page_entry(const ctl_logs_page_t *p, size_t i, ctl_logs_entry_t *e);

/* Append e as one output line (with its '\n') to out. labels: false drops
 * them (--no-labels). The time is UTC, milliseconds for DEFAULT (floored),
 * nanoseconds for JSONL. Pure; O(length of e). */
void ctl_logs_format_entry(const ctl_logs_entry_t *e, ctl_logs_output_t mode, bool labels, buf_t *out);

#endif

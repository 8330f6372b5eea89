/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server: pharosd, the store server. The composition root: it reads the
 * configuration, opens the TSDB, and serves the HTTP API on one
 * libmicrohttpd server. Everything here is thin; behaviour lives in the
 * modules (tsdb/, common/).
 *
 * server_config_load: defaults, then the YAML file named by
 * --config.file, then the flags (flags override). server_start opens the
 * store and binds; server_stop stops accepting, finishes in-flight
 * requests and commits the WAL (nothing acknowledged is lost).
 */
#ifndef PHAROS_SERVER_H
#define PHAROS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/config.h"
#include "common/labels.h"
#include "tsdb/tsdb.h"

typedef struct server_config {
    char *config_file;
    char *listen;
    char *storage_path;
    int64_t retention_ms;
    int64_t block_range_ms;
    int64_t ooo_window_ms;
    int64_t page_cache_bytes;
    int wal_sync; /* 0 write, 1 always */
    int64_t wal_segment_bytes;
    int64_t max_body_bytes;    /* compressed request body */
    int64_t max_decoded_bytes; /* decompressed remote-write body */
    int64_t max_inflight;      /* concurrent ingest requests before 503 */
    int64_t threads;
    int64_t label_name_len;
    int64_t label_value_len;
    int64_t labels_per_series;
    int64_t query_timeout_ms;       /* wall time per query, queueing included */
    int64_t query_max_samples;      /* samples a query may hold at once */
    int64_t query_lookback_ms;      /* how far back an instant selector looks */
    int64_t query_max_concurrency;  /* queries evaluated at once; more wait */
    int64_t logs_retention_ms;      /* log blocks older than this are dropped (0: keep) */
    int64_t logs_block_bytes;       /* a stream's head is cut into a block past this many line bytes */
    int64_t logs_max_line_bytes;    /* longest log line accepted */
    int64_t logs_max_labels;        /* labels per log stream */
    int64_t logs_reject_old_ms;     /* entries older than now - this are refused (0: off) */
    int64_t logs_creation_grace_ms; /* entries newer than now + this are refused */
    int64_t logs_max_entries;       /* largest limit a log query may ask for */
    int64_t logs_max_series;        /* series a LogQL metric query may return */
    config_strlist_t rule_files;    /* Prometheus rule files (globs) */
    config_strlist_t slo_files;     /* SLO files (globs) */
    int64_t rules_interval_ms;      /* groups without their own interval */
    int64_t rules_query_offset_ms;  /* groups without their own query_offset */
    int64_t rules_outage_tolerance_ms;
    int64_t rules_grace_period_ms;
    int64_t rules_resend_delay_ms;
    config_strlist_t external_labels; /* name, value, ... */
    char *external_url;
    char *alerting_config_file;         /* Alertmanager-format routing and receivers */
    config_strlist_t alertmanager_urls; /* Alertmanagers every alert is also sent to */
    int log_level;
    bool check_config;
    int argc; /* the command line (borrowed), read again by a reload */
    char **argv;
} server_config_t;

typedef enum server_cfg_rc {
    SERVER_CFG_OK = 0,
    SERVER_CFG_ERROR = 1, /* message in err */
    SERVER_CFG_HELP = 2,  /* --help was given: help printed to out */
} server_cfg_rc_t;

/* Fill cfg from defaults, file and flags. Strings are owned by cfg. */
server_cfg_rc_t server_config_load(int argc, char **argv, server_config_t *cfg, FILE *out, char *err, size_t errlen);
void server_config_free(server_config_t *cfg);
/* Write the configuration reference (Markdown) generated from the table. */
void server_config_doc(FILE *out);

/* The effective configuration as text, for /api/v1/status/config and
 * /api/v1/status/flags: yaml holds every key accepted in the file, nested
 * by its dotted path, with its current value (strings double-quoted with
 * JSON escapes, which YAML reads back); flags holds every key of the table
 * as name, value pairs (heap strings). Free with server_config_text_fini. */
typedef struct server_config_text {
    buf_t yaml;
    char **flags;
    size_t nflags; /* pairs */
} server_config_text_t;

void server_config_text(const server_config_t *cfg, server_config_text_t *out);
void server_config_text_fini(server_config_text_t *t);

/* ---- remote-write ingest (pure: body in, store appends out) ---- */

typedef struct server_ingest_stats {
    uint64_t series_total;
    uint64_t series_rejected[8]; /* indexed by labels_status_t; [7] = native histograms */
    uint64_t samples_accepted;
    uint64_t samples_rejected[TSDB_REJ_COUNT];
    uint64_t samples_dropped_with_series;
    uint64_t metadata;
    uint64_t exemplars_ignored;
} server_ingest_stats_t;

typedef struct server_ingest_limits {
    labels_limits_t labels;
    size_t max_decoded;
} server_ingest_limits_t;

/* Reusable memory of one ingest request (decoded body, decode arena), so
 * that a busy server does not allocate and fault in fresh pages for every
 * request. A zeroed struct is valid; fini frees it. */
typedef struct server_ingest_scratch {
    buf_t raw;
    arena_t *arena;
} server_ingest_scratch_t;

void server_ingest_scratch_fini(server_ingest_scratch_t *scr);

/* Decode a snappy-compressed remote-write 1.0 WriteRequest and append
 * its valid series. Returns the HTTP status to answer: 204 when all was
 * stored; 400 with a one-line reason in msg when the body is malformed
 * (nothing stored) or some series or samples were rejected (the valid
 * ones are stored); 413 when the decoded body is over the limit; 503 when
 * the WAL could not be written (retry). */
int server_ingest_remote_write(tsdb_t *db, const server_ingest_limits_t *lim, const uint8_t *body, size_t len,
                               server_ingest_scratch_t *scr, server_ingest_stats_t *st, char *msg, size_t msglen);

/* ---- export ---- */

/* Append the export of matching series (JSON lines) to out. Returns 0 or
 * 400 with a reason in err. */
int server_export(tsdb_t *db, const char *const *match, size_t nmatch, int64_t mint, int64_t maxt, buf_t *out,
                  char *err, size_t errlen);

/* ---- the server ---- */

typedef struct server server_t;

int server_start(const server_config_t *cfg, server_t **out, char *err, size_t errlen);
void server_stop(server_t *s);
uint16_t server_port(const server_t *s);
/* Read the configuration again (file and flags of cfg->argv) and apply
 * what can change while running: the rule and SLO files and the alerting
 * configuration. All or nothing: on error the running rules stay and -1
 * is returned with every problem in err ("file:line:col: reason" lines).
 * What SIGHUP and POST /-/reload do. */
int server_reload(server_t *s, buf_t *err);
/* Check the rule files, SLO files and alerting configuration of cfg
 * without starting anything (--check-config): 0, or -1 with the problems
 * in err. */
int server_check_alerting(const server_config_t *cfg, buf_t *err);
tsdb_t *server_tsdb(server_t *s);
/* The log store (for tests). */
struct logs_store;
struct logs_store *server_logs(server_t *s);

#endif

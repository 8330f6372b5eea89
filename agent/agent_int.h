/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent_int.h: the agent's private interfaces, shared by its files.
 *
 * - msink (agent_msink.c): one collection's samples. Families (name, HELP,
 *   TYPE) and samples (name, labels, value, optional timestamp) are kept
 *   in flat arrays whose strings live in one byte buffer; reset keeps the
 *   storage, so a steady collection allocates nothing. A mark/rollback
 *   pair lets a failing collector withdraw what it added.
 * - collectors (coll_*.c): one file per kernel source, each exporting a
 *   coll_def_t; agent_collectors.c lists them in one table. A collector
 *   reads through the injected roots (coll_paths_t), parses with a pure
 *   function, then adds samples. It returns 0, or -1 with a reason in err
 *   (missing, malformed or truncated input, or no data); on -1 the caller
 *   rolls back whatever it added and reports
 *   node_scrape_collector_success{collector} 0, as node_exporter does.
 * - expo (agent_expo*.c): the Prometheus text exposition format, written
 *   from a sink and parsed (pure, fuzzed) into one.
 */
#ifndef PHAROS_AGENT_INT_H
#define PHAROS_AGENT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "common/buf.h"
#include "common/labels.h"
#include "common/str.h"

/* ---- msink: one collection's samples ---------------------------------- */

typedef enum metric_type {
    METRIC_UNTYPED = 0,
    METRIC_COUNTER,
    METRIC_GAUGE,
    METRIC_SUMMARY,
    METRIC_HISTOGRAM,
    METRIC_GAUGE_HISTOGRAM, /* OpenMetrics */
    METRIC_INFO,            /* OpenMetrics */
    METRIC_STATESET,        /* OpenMetrics */
} metric_type_t;

/* The exposition keyword of a type ("counter", …, "untyped"). */
const char *metric_type_name(metric_type_t t);

typedef struct msink_family {
    uint32_t name_off, name_len;
    uint32_t help_off, help_len;
    metric_type_t type;
    bool has_help;
} msink_family_t;

typedef struct msink_label {
    uint32_t name_off, name_len;
    uint32_t value_off, value_len;
} msink_label_t;

#define MSINK_NO_TS INT64_MIN

typedef struct msink_sample {
    uint32_t family; /* index into families */
    uint32_t name_off, name_len;
    uint32_t labels; /* index of the first label in labels[] */
    uint32_t nlabels;
    double value;
    int64_t ts_ms; /* MSINK_NO_TS: the collection's timestamp */
} msink_sample_t;

typedef struct msink {
    buf_t strings; /* every name, help text and label string */
    msink_family_t *families;
    size_t nfamilies, cap_families;
    msink_sample_t *samples;
    size_t nsamples, cap_samples;
    msink_label_t *labels;
    size_t nlabels, cap_labels;
    uint32_t *fam_index; /* open addressing: family index + 1, 0 empty */
    size_t fam_index_cap;
} msink_t;

typedef struct msink_mark {
    size_t strings, families, samples, labels;
} msink_mark_t;

void msink_init(msink_t *s);
void msink_fini(msink_t *s);
/* Empty the sink, keeping its storage. O(families). */
void msink_reset(msink_t *s);
/* The family named name: found, or added with help (NULL: no HELP line)
 * and type. A family found keeps its first help and type. Returns its
 * index. Amortised O(len name). */
uint32_t msink_family(msink_t *s, str_t name, const char *help, metric_type_t type);
/* As msink_family with C strings. */
uint32_t msink_family_c(msink_t *s, const char *name, const char *help, metric_type_t type);
/* Add a sample of family fam named like the family, with n labels given as
 * parallel arrays of C strings (copied), at the collection's timestamp. */
void msink_add(msink_t *s, uint32_t fam, double v, size_t n, const char *const *names, const char *const *values);
/* Add a sample of family fam with labels as str_t pairs (copied). The
 * sample's name is name when name.len > 0 (histogram/summary children
 * such as foo_bucket), else the family's name. ts_ms is MSINK_NO_TS or an
 * explicit timestamp. */
void msink_add_full(msink_t *s, uint32_t fam, str_t name, const label_t *ls, size_t n, double v, int64_t ts_ms);
/* Shorthand: the family name/help/type is looked up (or added) and one
 * sample added with nlabel pairs of C strings given as varargs
 * (name1, value1, name2, value2, …). */
void msink_addv(msink_t *s, const char *name, const char *help, metric_type_t type, double v, size_t nlabel, ...);

/* Where the sink is now; rollback drops everything added after the mark
 * (families included). O(1) plus the dropped families' index entries. */
msink_mark_t msink_mark(const msink_t *s);
void msink_rollback(msink_t *s, msink_mark_t m);

/* Accessors: slices into the sink, valid until the next add or reset. */
str_t msink_str(const msink_t *s, uint32_t off, uint32_t len);
str_t msink_sample_name(const msink_t *s, const msink_sample_t *x);
/* The sample's labels into out[0..max) as borrowed slices, in the order
 * they were added; returns the count (at most max). */
size_t msink_sample_labels(const msink_t *s, const msink_sample_t *x, label_t *out, size_t max);

/* ---- exposition text ------------------------------------------------- */

/* Append the sink as Prometheus text 0.0.4, laid out as client_golang
 * writes it (families by name, samples by label values, Go 'g' floats).
 * Families without samples are not written. O(S log S). */
void agent_expo_write(const msink_t *s, buf_t *out);

/* Labels one sample may carry (the exposition parser's bound). */
#define MSINK_MAX_LABELS 256

/* Keep the first sample of each series (name and label set) and drop
 * the later ones, as Prometheus' scrape loop does with a series exposed
 * twice. scratch is reused. Returns the number dropped. O(S log S); no
 * allocation once scratch has grown. */
size_t msink_drop_duplicates(msink_t *s, buf_t *scratch);

/* Prometheus' staleness marker, a NaN with this bit pattern. */
#define MSINK_STALE_NAN_BITS 0x7ff0000000000002ULL

/* Into out (reset): a stale marker for every series of prev that cur
 * lacks, as Prometheus writes one for a series that vanished from a
 * target's exposition (not for samples with their own timestamp). A hash
 * collision can at worst skip a marker. scratch is reused. O((P + C) log
 * C); no allocation once out and scratch have grown. */
void msink_stale(const msink_t *prev, const msink_t *cur, buf_t *scratch, msink_t *out);

/* Append src's samples to dst with the labels extra[0..nx) added (a
 * sample's own label of the same name wins), families merged by name.
 * A sample keeps at most MSINK_MAX_LABELS + 64 labels: its own first (at
 * most that bound less nx), then extra; the rest are dropped, whatever nx.
 * O(samples in src). */
void msink_append(msink_t *dst, const msink_t *src, const label_t *extra, size_t nx);

/* ---- exposition parsing (agent_expo_parse.c) ---------------------------- */

#define AGENT_EXPO_PARSE_DECLARED 1
typedef struct expo_error {
    size_t line, col; /* 1-based position of the error */
    char msg[160];    /* Prometheus-style reason */
} expo_error_t;
/* Parse an exposition (openmetrics: OpenMetrics 1.0 text, else Prometheus
 * text 0.0.4) into s (appended). Timestamps: text format ms integers;
 * OpenMetrics float seconds -> ms. Returns 0, or -1 with *err filled; on
 * -1 s may hold a prefix (the caller rolls back with msink_mark/rollback).
 * O(len). Never reads past len. */
int expo_parse(const char *p, size_t len, bool openmetrics, msink_t *s, expo_error_t *err);

/* ---- remote-write encoding (agent_rw.c) ------------------------------ */

/* A WriteRequest under construction: its protobuf bytes so far. */
typedef struct rw_batch {
    buf_t pb;
    uint32_t nsamples;
    int64_t first_ms; /* wall time the first sample was added (batch age) */
} rw_batch_t;

/* Append one TimeSeries with one sample; ls (sorted by name, __name__
 * included) is copied. O(size of the labels); no allocation once pb has
 * grown to its working size. */
void agent_rw_add(rw_batch_t *b, const label_t *ls, size_t n, double v, int64_t ts_ms);
/* Empty the batch, keeping its storage. */
void agent_rw_reset(rw_batch_t *b);
/* The series of sample x: __name__, its labels (empty values dropped),
 * and target (job, instance, static labels); clashes become
 * exported_<name> unless honor. Sorted into out[0..max); the slices
 * borrow from s, target and scratch (reset here). Returns the count, 0
 * when max is too small. */
size_t agent_rw_series(const msink_t *s, const msink_sample_t *x, const label_t *target, size_t ntarget, bool honor,
                       buf_t *scratch, label_t *out, size_t max);

/* ---- spool (agent_spool.c): one shard's on-disk FIFO of batches ------ */

typedef struct spool spool_t;
typedef struct spool_stats {
    uint64_t files, bytes;
    uint64_t dropped_full;    /* samples dropped oldest-first past the bound */
    uint64_t dropped_corrupt; /* samples in files that failed their checks */
} spool_stats_t;

/* Create dir if needed and resume the batches already in it. 0 and
 * [out] *out, or -1 with a reason. */
int spool_open(const char *dir, uint64_t max_bytes, bool sync, spool_t **out, char *err, size_t errlen);
/* Free (files stay on disk). NULL ok. */
void spool_close(spool_t *s);
/* Write a batch of nsamples items (samples or log entries) whose body is
 * body[0..len) and whose input checkpoint is ck[0..cklen) (cklen 0: none),
 * both copied to disk; then drop oldest batches past the bound. 0, or
 * -errno (the batch is then counted as dropped). O(len + cklen) plus one
 * file per dropped batch. */
int spool_put(spool_t *s, uint32_t nsamples, const void *body, size_t len, const void *ck, size_t cklen);
/* The oldest batch into body (reset) and its checkpoint into ck (reset;
 * ck may be NULL), marked in flight so the bound never drops it: 1 with
 * [out] *seq and *nsamples, 0 when empty. Corrupt files met on the way
 * are removed and counted. */
int spool_peek(spool_t *s, buf_t *body, buf_t *ck, uint64_t *seq, uint32_t *nsamples);
/* Remove batch seq (acknowledged or permanently rejected). 0 or -errno. */
int spool_pop(spool_t *s, uint64_t seq);
/* Clear the in-flight mark (the batch stays queued for a retry). */
void spool_release(spool_t *s);
/* Sleep until a batch is queued, spool_wake is called, or timeout_ms
 * passes. Returns true once spool_wake has been called. */
bool spool_wait(spool_t *s, int64_t timeout_ms);
void spool_wake(spool_t *s);
void spool_stats(spool_t *s, spool_stats_t *out);

/* ---- request authentication (agent_auth.c) ------------------------------ */

#include "common/config.h"
#include "common/mem.h"

#define AGENT_AUTH_MAX_HEADERS 32
/* Static labels (collect.labels plus a target's labels) a series may get,
 * besides job and instance; checked by the configuration. */
#define AGENT_MAX_STATIC_LABELS 32

/* An endpoint's or target's credentials and extra headers (borrowed). */
typedef struct agent_auth {
    const char *bearer_token_file;   /* "Authorization: Bearer <contents>" */
    const char *basic_user;          /* "Authorization: Basic …" when set */
    const char *basic_password_file; /* the password (may be unset) */
    config_strlist_t headers;        /* name, value, name, value, … */
} agent_auth_t;

/* Storage for built headers, reused from call to call. Zeroed is empty. */
typedef struct agent_auth_buf {
    buf_t text, tmp;
    const char **list;
    size_t cap;
} agent_auth_buf_t;

/* The NULL-terminated header list base + a's headers into [out] *out
 * (valid until the next call on b). Secret files are read now. 0, or -1
 * with a reason naming the file (never its contents). a may be NULL. */
int agent_auth_headers(const agent_auth_t *a, const char *const *base, agent_auth_buf_t *b, const char ***out,
                       char *err, size_t errlen);
/* Free b (the secret bytes are overwritten first). */
void agent_auth_buf_fini(agent_auth_buf_t *b);

/* ---- Loki push encoding (agent_loki.c) -------------------------------- */

/* Streams a batch keeps open at once; a further stream closes the oldest
 * (its entries are final; a later entry of it opens a new StreamAdapter). */
#define LOKI_OPEN_STREAMS 16

typedef struct loki_open {
    buf_t labels;  /* the stream's label string, {a="b", c="d"} */
    buf_t entries; /* its EntryAdapter fields (tag, length, bytes) so far */
    uint64_t hash; /* of labels */
} loki_open_t;

/* A PushRequest under construction. Zeroed is empty; storage is kept
 * across resets, so a steady shipper allocates nothing per entry. */
typedef struct loki_batch {
    buf_t pb;                            /* closed StreamAdapters */
    loki_open_t open[LOKI_OPEN_STREAMS]; /* open streams, oldest first */
    size_t nopen;
    uint32_t nentries;
    size_t bytes;     /* encoded size so far (approximate batch size) */
    int64_t first_ms; /* wall time the first entry was added (batch age) */
} loki_batch_t;

/* Append one entry of the stream whose label string is labels (as
 * agent_loki_labels writes it; copied): timestamp ts_ns, line bytes as
 * they are, structured metadata meta[0..nmeta) in that order. O(size of
 * the entry + LOKI_OPEN_STREAMS); no allocation once the buffers grew. */
void agent_loki_add(loki_batch_t *b, str_t labels, int64_t ts_ns, str_t line, const label_t *meta, size_t nmeta);
/* The whole PushRequest into out (appended). b is left closed: reset it
 * before adding again. O(size). */
void agent_loki_finish(loki_batch_t *b, buf_t *out);
/* Empty the batch, keeping its storage. */
void agent_loki_reset(loki_batch_t *b);
void agent_loki_fini(loki_batch_t *b);
/* The label string of ls[0..n) (sorted, unique names) into out (reset):
 * {a="b", c="d"} with Go-quoted values, as Loki's clients send it. */
void agent_loki_labels(const label_t *ls, size_t n, buf_t *out);

/* ---- shipper (agent_ship.c): one endpoint (remote-write or Loki push) --- */

#define AGENT_VERSION "0.1.0"

typedef enum ship_kind {
    SHIP_REMOTE_WRITE = 0, /* samples; snappy WriteRequest; shards by series */
    SHIP_LOKI,             /* log entries; snappy PushRequest; one shard */
} ship_kind_t;

/* Called on the thread that adds (ship_add_entry, ship_flush,
 * ship_destroy) when a pending batch is cut: append the input checkpoint
 * the batch covers to out (empty: none). */
typedef void (*ship_checkpoint_fn)(void *ctx, buf_t *out);
/* Called on the sender thread, in spool order, once a batch is done
 * with: delivered (2xx) or rejected (a 4xx, dropped). ck is the batch's
 * checkpoint (borrowed for the call); n its items. */
typedef void (*ship_ack_fn)(void *ctx, const uint8_t *ck, size_t cklen, uint32_t n, bool delivered);

typedef struct ship_opts {
    ship_kind_t kind;
    const char *url;
    const char *dir;               /* this endpoint's spool directory */
    uint32_t shards;               /* concurrent senders (series hashed); 1 for SHIP_LOKI */
    uint64_t max_bytes;            /* spool bound for the endpoint */
    bool sync;                     /* fdatasync each spooled batch */
    uint32_t max_samples_per_send; /* items (samples or entries) per batch */
    uint64_t max_bytes_per_send;   /* encoded bytes per batch (0: no bound) */
    int64_t batch_deadline_ms;     /* a pending batch is spooled at this age */
    int64_t min_backoff_ms, max_backoff_ms;
    long timeout_ms;               /* per request */
    agent_auth_t auth;             /* credentials and extra headers (borrowed) */
    ship_checkpoint_fn checkpoint; /* optional */
    ship_ack_fn ack;               /* optional */
    void *hook_ctx;                /* for checkpoint and ack */
} ship_opts_t;

typedef struct shipper shipper_t;

typedef struct ship_stats {
    const char *url;
    ship_kind_t kind;
    uint64_t queued_samples; /* items given to ship_add / ship_add_entry */
    uint64_t sent_samples, sent_batches, sent_bytes, retries;
    uint64_t dropped_rejected, dropped_spool_full, dropped_corrupt;
    uint64_t spool_bytes, spool_batches, spool_max_bytes;
    int64_t last_success_ms;
} ship_stats_t;

/* Open the endpoint's spools (resuming what they hold) and start one
 * sender per shard. 0 and [out] *out, or -1 with a reason. */
int ship_create(const ship_opts_t *o, shipper_t **out, char *err, size_t errlen);
/* Spool what is pending, let the senders drain for up to drain_ms, stop
 * them and free. What is not sent stays spooled. NULL ok. */
void ship_destroy(shipper_t *sh, int64_t drain_ms);
/* Queue one sample of the series ls (sorted; copied) whose labels hash
 * is hash; now_ms is the wall time (batch age). Collection thread only.
 * No allocation once the batches have grown. SHIP_REMOTE_WRITE only. */
void ship_add(shipper_t *sh, const label_t *ls, size_t n, uint64_t hash, double v, int64_t ts_ms, int64_t now_ms);
/* Queue one log entry (see agent_loki_add); the batch is cut when it
 * reaches max_samples_per_send entries or max_bytes_per_send bytes. One
 * adding thread. SHIP_LOKI only. */
void ship_add_entry(shipper_t *sh, str_t labels, int64_t ts_ns, str_t line, const label_t *meta, size_t nmeta,
                    int64_t now_ms);
/* Spool pending batches at least batch-deadline old (all when force). */
void ship_flush(shipper_t *sh, int64_t now_ms, bool force);
/* Wall time when the oldest pending batch is due, INT64_MAX if none. */
int64_t ship_next_deadline(const shipper_t *sh);
void ship_stats(shipper_t *sh, ship_stats_t *out);

/* ---- self metrics (agent_self.c) -------------------------------------- */

typedef struct agent_self {
    double boot_time_s; /* for process_start_time_seconds */
    uint64_t collections, missed;
    double last_duration_s;
} agent_self_t;

/* Add the agent's process_* and pharos_agent_* metrics to s. */
void agent_self_metrics(const agent_self_t *st, shipper_t *const *sh, size_t nsh, buf_t *scratch, msink_t *s);

/* ---- the agent's core (agent.c) and scrape targets (agent_scrape.c) ---- */

#include <pthread.h>

struct agent;
struct agent_config;
struct agent_target_config;

/* Queue every sample of s to every endpoint as series of the target
 * labels (honor_labels: see agent_rw_series), stamped ts_ms (or the
 * sample's own timestamp when honor_ts and it has one). Thread-safe. */
void agent_emit(struct agent *a, const msink_t *s, const label_t *target, size_t nt, bool honor_labels, bool honor_ts,
                int64_t ts_ms);

/* Wall time now in ms (CLOCK_REALTIME), the time of grids and batch ages. */
int64_t agent_wall_ms(void);
/* The first tick of the interval_ms wall-clock grid after now. */
int64_t agent_grid_next(int64_t interval_ms);
/* Wait on cv (a default, CLOCK_REALTIME condvar guarded by mu) until wall
 * time until_ms or until *stop is set. Returns *stop. */
bool agent_grid_wait(pthread_mutex_t *mu, pthread_cond_t *cv, const bool *stop, int64_t until_ms);

typedef struct agent_scrape agent_scrape_t;
/* Start scraping url of target t on its own thread. 0 and [out] *out,
 * or -1 with a reason. t and cfg are borrowed for the scrape's life. */
int agent_scrape_start(struct agent *a, const struct agent_target_config *t, const char *url,
                       const struct agent_config *cfg, agent_scrape_t **out, char *err, size_t errlen);
/* Stop the thread and free. NULL ok. */
void agent_scrape_stop(agent_scrape_t *s);
/* Append the last successful scrape's samples, with the target labels. */
void agent_scrape_snapshot(agent_scrape_t *s, msink_t *into);

/* ---- HTTP client (agent_httpc.c) --------------------------------------- */
/* The agent's own HTTP/1.1 client, so that the agent does not map
 * libcurl and its TLS stack (several MiB of resident pages) to talk
 * plain http; https URLs go through libcurl, loaded at first use. Each
 * call classifies its outcome as common/httpc does (httpc_result_t). */

#include "common/httpc.h"

typedef struct agent_httpc agent_httpc_t;

/* A client for one thread; it keeps one connection alive. Every call
 * takes at most timeout_ms (connect, send, receive). */
agent_httpc_t *agent_httpc_create(long timeout_ms);
void agent_httpc_destroy(agent_httpc_t *c); /* NULL ok */
/* POST body to url with extra headers ("Name: value", NULL-terminated;
 * borrowed). The response body is appended to resp when not NULL (at
 * most 1 MiB kept). Fills [out] res on every path. */
void agent_httpc_post(agent_httpc_t *c, const char *url, const char *const *headers, const void *body, size_t len,
                      buf_t *resp, httpc_result_t *res);
/* GET url; the body is appended to resp; past max_body bytes the call
 * fails (HTTPC_FATAL, "body larger than …"). */
void agent_httpc_get(agent_httpc_t *c, const char *url, const char *const *headers, buf_t *resp, size_t max_body,
                     httpc_result_t *res);
/* 0 when url can be used (http://host[:port]/path, or https:// when
 * libcurl can be loaded), else -1 with a reason. */
int agent_httpc_check_url(const char *url, char *err, size_t errlen);

/* ---- HTTP server (agent_httpd.c) --------------------------------------- */
/* A small HTTP/1.1 server for /metrics and /-/healthy on one thread. */

typedef struct agent_httpd agent_httpd_t;
/* Answer GET (or HEAD) path (without the query): set *status (200
 * preset) and *content_type (static string; text/plain preset) and
 * append the body. Called on the server's thread. */
typedef void (*agent_httpd_fn)(void *ctx, const char *path, buf_t *body, int *status, const char **content_type);
/* Bind listen ("127.0.0.1:9465", "[::1]:9465", ":9465"; port 0: any) and
 * serve on a thread. 0 and [out] *out, or -1 with a reason. */
int agent_httpd_start(const char *listen, agent_httpd_fn fn, void *ctx, agent_httpd_t **out, char *err, size_t errlen);
/* Stop serving (in-flight request finished first) and free. NULL ok. */
void agent_httpd_stop(agent_httpd_t *h);
uint16_t agent_httpd_port(const agent_httpd_t *h);

/* ---- journald reader (agent_journal.c) ------------------------------- */

#define AGENT_JOURNAL_NLABELS 5
#define AGENT_JOURNAL_NMETA 16
#define AGENT_JOURNAL_FIELD_MAX (64 * 1024)
typedef struct agent_journal agent_journal_t;
typedef struct agent_journal_opts {
    const char *path;         /* directory of journal files; NULL: the local journal */
    const char *const *units; /* _SYSTEMD_UNIT values (OR); nunits 0: all */
    size_t nunits;
    int max_priority; /* entries with PRIORITY <= this (0..6); -1 or >= 7: all */
    int64_t since_ns; /* without a cursor: start at this realtime (0: the oldest entry) */
} agent_journal_opts_t;
typedef struct agent_journal_entry {
    int64_t ts_ns;                         /* realtime */
    str_t message;                         /* MESSAGE bytes, possibly binary; empty when missing */
    label_t labels[AGENT_JOURNAL_NLABELS]; /* sorted by name */
    size_t nlabels;
    label_t meta[AGENT_JOURNAL_NMETA]; /* structured metadata, sorted by name */
    size_t nmeta;
    bool truncated; /* a field was cut at AGENT_JOURNAL_FIELD_MAX */
} agent_journal_entry_t;
typedef struct agent_journal_stats {
    uint64_t corrupt;   /* entries skipped as corrupt (-EBADMSG) */
    uint64_t truncated; /* entries with a field cut */
} agent_journal_stats_t;
int agent_journal_open(const agent_journal_opts_t *o, const char *cursor, agent_journal_t **out, char *err,
                       size_t errlen);
int agent_journal_next(agent_journal_t *j, agent_journal_entry_t *e, char *err, size_t errlen);
const char *agent_journal_cursor(const agent_journal_t *j);
int agent_journal_wait(agent_journal_t *j, int64_t timeout_ms);
void agent_journal_stats(const agent_journal_t *j, agent_journal_stats_t *st);
void agent_journal_close(agent_journal_t *j);

/* ---- CRI log lines (agent_cri.c) --------------------------------------- */

enum { AGENT_CRI_STDOUT = 0, AGENT_CRI_STDERR = 1 };
typedef struct agent_cri_line {
    int64_t ts_ns;
    int stream;    /* AGENT_CRI_STDOUT or AGENT_CRI_STDERR */
    bool partial;  /* tag P: the next line continues this one */
    str_t content; /* borrows the input; may be empty */
} agent_cri_line_t;
/* Parse one CRI log line p[0..len) (without its '\n'). 0 and [out] *out,
 * or -1 with [out] *errpos the byte offset of the first bad field. Pure;
 * O(len); never reads past len. */
int agent_cri_parse(const char *p, size_t len, agent_cri_line_t *out, size_t *errpos);

/* ---- log input positions (agent_positions.c) --------------------------- */
/* What the log inputs have shipped: the journal cursor (with its entry's
 * time, to compare cursors) and, per file (dev, inode), the offset to
 * resume at with a fingerprint of the file's first bytes. The same text
 * form is a batch's checkpoint (a delta: only what the batch moved, plus
 * "N <input> <entries>" counts) and the persisted file (the whole state):
 *   J <ts_ns> <cursor>
 *   F <dev> <ino> <offset> <fp_len> <fp_crc32c> <path, \\ and \n escaped>
 *   X <dev> <ino>                (the file is finished: forget it)
 *   N <input> <count>            (entries of input 0 journal / 1 files)
 */

#define AGENT_POS_FP_MAX 256 /* bytes of a file's start fingerprinted */
enum { AGENT_LOGS_JOURNAL = 0, AGENT_LOGS_FILES = 1, AGENT_LOGS_NINPUTS = 2 };

typedef struct agent_pos_file {
    uint64_t dev, ino, off;
    uint32_t fp_len, fp_crc;
    char *path;
} agent_pos_file_t;

typedef struct agent_positions {
    char *cursor; /* NULL: none */
    int64_t cursor_ts_ns;
    agent_pos_file_t *files;
    size_t nfiles, cap;
} agent_positions_t;

void agent_positions_init(agent_positions_t *p);
void agent_positions_fini(agent_positions_t *p);
/* Merge the text t[0..len) into p; counts (may be NULL; AGENT_LOGS_NINPUTS
 * long) get the N lines added. 0, or -1 at the first malformed line (the
 * lines before it are applied). O(lines x files). */
int agent_positions_apply(agent_positions_t *p, const char *t, size_t len, uint64_t *counts);
/* p's whole state as text into out (appended). */
void agent_positions_write(const agent_positions_t *p, buf_t *out);
/* Persist p at path: write path.tmp, fsync, rename, fsync the directory.
 * 0, or -1 with a reason. scratch is reused. */
int agent_positions_save(const agent_positions_t *p, const char *path, buf_t *scratch, char *err, size_t errlen);
/* Merge the file at path into p (absent: nothing). 0, or -1 with a reason. */
int agent_positions_load(agent_positions_t *p, const char *path, buf_t *scratch, char *err, size_t errlen);
const agent_pos_file_t *agent_positions_file(const agent_positions_t *p, uint64_t dev, uint64_t ino);
void agent_positions_set_file(agent_positions_t *p, const agent_pos_file_t *f);
void agent_positions_forget(agent_positions_t *p, uint64_t dev, uint64_t ino);
/* Into dst: the least advanced of dst and src (per file the lower offset;
 * the cursor with the older entry); what only one has is taken. */
void agent_positions_min(agent_positions_t *dst, const agent_positions_t *src);
/* Keep only the files keep(ctx, dev, ino) says are still there. */
void agent_positions_prune(agent_positions_t *p, bool (*keep)(void *ctx, uint64_t dev, uint64_t ino), void *ctx);
/* One line of the text form, appended to out. */
void agent_positions_put_journal(buf_t *out, int64_t ts_ns, const char *cursor);
void agent_positions_put_file(buf_t *out, const agent_pos_file_t *f);
void agent_positions_put_forget(buf_t *out, uint64_t dev, uint64_t ino);
void agent_positions_put_count(buf_t *out, int input, uint64_t n);

/* ---- file input (agent_logfile.c) -------------------------------------- */

typedef struct agent_logfile_source {
    const char *glob;      /* path pattern (glob(3)) */
    bool cri;              /* CRI lines; pod labels from the /var/log/pods layout */
    const label_t *labels; /* static labels (borrowed; names valid) */
    size_t nlabels;
} agent_logfile_source_t;

/* An entry read: the file's stream label string, time, line. */
typedef void (*agent_logfile_emit_fn)(void *ctx, str_t labels, int64_t ts_ns, str_t line);

typedef struct agent_logfile_opts {
    const agent_logfile_source_t *sources;
    size_t nsources;
    size_t max_line; /* bytes of a line kept (longer: cut, counted) */
    uint64_t *clock; /* the pipeline's change counter (ticked per change) */
    agent_logfile_emit_fn emit;
    void *emit_ctx;
} agent_logfile_opts_t;

typedef struct agent_logfile_stats {
    uint64_t lines, truncated_lines, malformed, rotations, truncations, files;
} agent_logfile_stats_t;

typedef struct agent_logfile agent_logfile_t;
/* The input over o's sources (borrowed for its life). resume (may be
 * NULL; borrowed for the call) gives the positions to start from: a file
 * found with its (dev, inode) and fingerprint resumes at its offset (at 0
 * when the file is now shorter), any other at 0; a remembered file
 * renamed out of the pattern in its directory (rotated while the agent
 * was down) is read to its end first. 0 and [out] *out, or -1. */
int agent_logfile_create(const agent_logfile_opts_t *o, const agent_positions_t *resume, agent_logfile_t **out,
                         char *err, size_t errlen);
void agent_logfile_destroy(agent_logfile_t *lf); /* NULL ok */
/* Find new files and rotated ones. O(files matched). */
void agent_logfile_scan(agent_logfile_t *lf);
/* Read what the files have (up to budget bytes per file), emitting
 * entries (the file's position is updated before each emit). Rotated
 * files are read to their end, then closed and forgotten; a file shorter
 * than its offset (truncated) restarts at 0. Returns entries emitted. */
size_t agent_logfile_poll(agent_logfile_t *lf, size_t budget, int64_t now_ns);
/* F lines for files whose position changed after clock value since, X
 * lines for files forgotten after it, appended to out. */
void agent_logfile_checkpoint(agent_logfile_t *lf, uint64_t since, buf_t *out);
/* Drop forget records at or before clock value upto. */
void agent_logfile_prune(agent_logfile_t *lf, uint64_t upto);
/* Is (dev, ino) a file the input follows? */
bool agent_logfile_known(void *lf, uint64_t dev, uint64_t ino);
void agent_logfile_stats(const agent_logfile_t *lf, agent_logfile_stats_t *st);

/* ---- log pipeline (agent_logs.c) ---------------------------------------- */

struct agent_logs;
/* Start the log inputs configured in cfg (journal, files) and their Loki
 * endpoints: positions loaded, shippers started, the reading thread
 * running. [out] *out is NULL when no log input or endpoint is set. 0, or
 * -1 with a reason. */
int agent_logs_create(const struct agent_config *cfg, struct agent_logs **out, char *err, size_t errlen);
/* Stop reading, spool what is pending, drain for drain_ms, free. NULL ok. */
void agent_logs_destroy(struct agent_logs *l, int64_t drain_ms);
/* Add the log inputs' and endpoints' metrics to s. NULL ok. */
void agent_logs_metrics(struct agent_logs *l, msink_t *s);
/* One endpoint's pharos_agent_* metrics (either kind). */
void agent_self_shipper(const ship_stats_t *x, msink_t *s);

/* ---- collectors ------------------------------------------------------- */

/* Filesystem roots, each without a trailing '/'. */
typedef struct coll_paths {
    const char *procfs;    /* /proc */
    const char *sysfs;     /* /sys */
    const char *rootfs;    /* / (mount points are read under it) */
    const char *udev_data; /* /run/udev/data */
} coll_paths_t;

typedef struct coll_ctx {
    const coll_paths_t *paths;
    int64_t now_ms; /* the collection's timestamp */
    buf_t *scratch; /* reusable read buffer owned by the caller */
    void *state;    /* the collector's own state (from init), or NULL */
} coll_ctx_t;

/* The collectors' settings (collect.<collector>.* keys): regexes as
 * node_exporter's flags of the same names take them. Borrowed strings. */
typedef struct coll_opts {
    const char *diskstats_device_exclude;
    const char *filesystem_mount_points_exclude;
    const char *filesystem_fs_types_exclude;
    const char *netdev_device_exclude;
    const char *netstat_fields;
    const char *vmstat_fields;
} coll_opts_t;

/* node_exporter 1.5's defaults (as Debian's build prints them). */
#define COLL_DISKSTATS_DEVICE_EXCLUDE "^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$"
#define COLL_FILESYSTEM_MOUNT_POINTS_EXCLUDE                                                                           \
    "^/(dev|proc|run|sys|mnt|media|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)"
#define COLL_FILESYSTEM_FS_TYPES_EXCLUDE                                                                               \
    "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|"        \
    "overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$"
#define COLL_NETDEV_DEVICE_EXCLUDE "^lo$"
#define COLL_NETSTAT_FIELDS                                                                                            \
    "^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|"    \
    "Syncookies.*|TCPSynRetrans|TCPTimeouts)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|"        \
    "CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$"
#define COLL_VMSTAT_FIELDS "^(oom_kill|pgpg|pswp|pg.*fault).*"

/* The defaults above, as a coll_opts_t. */
coll_opts_t coll_opts_default(void);
struct agent_config;
/* The collectors' settings of a configuration (borrowing its strings). */
coll_opts_t agent_config_coll_opts(const struct agent_config *cfg);

typedef struct coll_def {
    const char *name; /* "cpu", the collector label */
    /* Optional: make the collector's state (compiled regexes, previous
     * values) from o (borrowed for the call). 0 and [out] *state, or -1
     * with a reason. */
    int (*init)(const coll_opts_t *o, void **state, char *err, size_t errlen);
    void (*fini)(void *state); /* NULL-safe on state */
    /* Add this collection's samples. 0, or -1 with a reason in err. */
    int (*collect)(coll_ctx_t *c, msink_t *s, char *err, size_t errlen);
} coll_def_t;

/* The table of every host collector, in node_exporter's name order. */
extern const coll_def_t *const coll_table[];
extern const size_t coll_table_len;

/* A collector's filter regex (coll_regex.c), matched as Go's regexp
 * matches (unanchored search, "$" at the end only). */
typedef struct coll_regex {
    pcre2_code *re;
    pcre2_match_data *md;
} coll_regex_t;
/* Compile pattern. 0, or -1 with "<what>: bad regex "…": reason at
 * offset N" (r is then empty; fini is still safe). */
int coll_regex_init(coll_regex_t *r, const char *pattern, const char *what, char *err, size_t errlen);
void coll_regex_fini(coll_regex_t *r); /* safe on a zeroed or failed r */
/* Does s[0..len) contain a match? No allocation. */
bool coll_regex_match(coll_regex_t *r, const char *s, size_t len);

/* statfs(2) with a time limit (coll_statfs.c): a hung mount is answered
 * -ETIMEDOUT and skipped until its call returns, instead of blocking the
 * collection. */
struct statfs;
typedef int (*coll_statfs_fn)(const char *path, struct statfs *out);
typedef struct coll_statfs coll_statfs_t;
coll_statfs_t *coll_statfs_create(coll_statfs_fn fn, int64_t timeout_ms);
/* Stop the idle worker; a stuck one exits when its call returns. NULL ok. */
void coll_statfs_destroy(coll_statfs_t *w);
/* 0 and [out] *out, -errno of statfs, or -ETIMEDOUT (now, or at once for
 * a path whose earlier call has not returned yet). */
int coll_statfs_call(coll_statfs_t *w, const char *path, struct statfs *out);
/* Is path's earlier call still running? */
bool coll_statfs_stuck(coll_statfs_t *w, const char *path);

/* Read a whole file under a root into b (reset first): "<root><rel>".
 * 0, or -errno (ENOENT when absent). Reads at most max bytes (-EFBIG
 * past it). The contents are NUL-terminated. */
int coll_read_file(const char *root, const char *rel, buf_t *b, size_t max);

#endif

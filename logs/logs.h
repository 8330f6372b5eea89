/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logs: the log store's public interface: decoding of Loki push requests
 * (POST /loki/api/v1/push) into validated streams, and the store those
 * streams are appended to and selected from (logs_store_*, below).
 *
 * logs_push_decode is pure: bytes in, an arena-backed logs_push_t out. It
 * reports a malformed body (bad gzip/snappy, bad protobuf, bad JSON) as a
 * whole-request failure, and a bad stream or entry (unparsable labels, a
 * limit, a timestamp outside the accept window) as a rejection counted in
 * the result, with the first reason in Loki's words; the valid streams of
 * the same request are kept, as Loki's distributor keeps them.
 *
 * Invariants of a successful result: every stream has 1..max_labels labels
 * sorted by name, with unique names matching [a-zA-Z_][a-zA-Z0-9_]*, valid
 * UTF-8 non-empty values and lengths within the limits; every stream has at
 * least one entry; entries keep request order and lie inside the window;
 * every line is at most max_line_bytes. Lines and structured metadata are
 * bytes as sent (Loki does not check them for UTF-8 either).
 */
#ifndef PHAROS_LOGS_LOGS_H
#define PHAROS_LOGS_LOGS_H
#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#include "common/arena.h"
#include "common/clock.h"
#include "common/labels.h"
#include "common/matcher.h"
#include "common/str.h"

typedef struct logs_entry {
    int64_t ts_ns;
    str_t line;
    const label_t *meta; /* structured metadata, in request order */
    size_t nmeta;
} logs_entry_t;

typedef struct logs_stream {
    const label_t *labels; /* sorted by name, validated */
    size_t nlabels;
    const logs_entry_t *entries; /* request order; nentries >= 1 */
    size_t nentries;
} logs_stream_t;

typedef struct logs_push {
    logs_stream_t *streams; /* the valid streams */
    size_t nstreams;
    size_t nentries;          /* accepted entries over all streams */
    size_t nrejected_streams; /* streams dropped whole (labels) */
    size_t nrejected_entries; /* entries dropped, including those of rejected streams */
    char first_error[256];    /* first rejection reason, valid UTF-8; "" when none */
} logs_push_t;

typedef struct logs_push_limits {
    size_t max_line_bytes;        /* 0 = unlimited (Loki: 256 KiB) */
    size_t max_labels;            /* label names per stream; 0 = unlimited (Loki: 15) */
    size_t max_label_name_len;    /* 0 = unlimited (Loki: 1024) */
    size_t max_label_value_len;   /* 0 = unlimited (Loki: 2048) */
    int64_t reject_older_than_ns; /* entries with ts < now - this are rejected; 0 = off */
    int64_t reject_newer_than_ns; /* entries with ts > now + this are rejected; 0 = off */
    size_t max_decoded_bytes;     /* cap on the gunzipped/unsnappied body; 0 = 64 MiB */
} logs_push_limits_t;

typedef enum logs_push_format {
    LOGS_PUSH_PROTOBUF, /* snappy block of a logproto.PushRequest */
    LOGS_PUSH_JSON,     /* {"streams":[{"stream":{..},"values":[["<ns>","line"(,{meta})]]}]} */
} logs_push_format_t;

typedef enum logs_push_encoding {
    LOGS_PUSH_IDENTITY, /* no Content-Encoding (or "snappy" for protobuf) */
    LOGS_PUSH_GZIP,     /* Content-Encoding: gzip, around either format */
    LOGS_PUSH_DEFLATE,  /* Content-Encoding: deflate (raw DEFLATE, as Go's flate) */
} logs_push_encoding_t;

typedef enum logs_push_status {
    LOGS_PUSH_OK = 0,
    LOGS_PUSH_MALFORMED = -1, /* the body cannot be decoded: 400 */
    LOGS_PUSH_TOO_LARGE = -2, /* the decoded body exceeds max_decoded_bytes: 413 */
} logs_push_status_t;

/* Decode a push body of format fmt under Content-Encoding enc.
 * Returns LOGS_PUSH_OK with *out filled (possibly with rejections, see
 * first_error), or a negative status with a one-line reason in err (errlen
 * bytes, NUL-terminated) and *out zeroed. Every pointer in *out points into
 * arena (body is copied; the caller may free it). Work and memory are
 * O(decoded size); JSON goes through jansson's heap DOM, freed before
 * returning. */
logs_push_status_t logs_push_decode(logs_push_format_t fmt, logs_push_encoding_t enc, const uint8_t *body, size_t len,
                                    const logs_push_limits_t *lim, int64_t now_ns, arena_t *arena, logs_push_t *out,
                                    char *err, size_t errlen);

/* Parse a stream selector as Loki's push accepts it: {name="value", ...}
 * with Go-quoted ("…" with escapes, or `…` raw) values and only '='. Names
 * are [a-zA-Z_][a-zA-Z0-9_]*. [out] *ls is an arena array of *n labels in
 * the order written (values unescaped; slices borrow s when no escape).
 * Returns 0, or -1 with a reason naming the byte position in err. O(len). */
int logs_selector_parse(str_t s, arena_t *arena, label_t **ls, size_t *n, char *err, size_t errlen);

/* ---- the log store (logs_store*.c) ----
 *
 * A stream is a label set (sorted, validated as logs_push_decode leaves
 * it). Entries are (ns timestamp, line bytes, structured metadata). A 0
 * from logs_store_append means every accepted entry is in the WAL (written,
 * and synced with wal_sync), so it survives kill -9. Entries of a stream
 * may arrive in any order; the store keeps each stream in time order and
 * keeps one copy of an entry sent twice (same stream, timestamp and line:
 * dropped at append while the first copy is in the head, and on read and
 * compaction otherwise), so an at-least-once sender never shows a line
 * twice. Entries with equal timestamps keep arrival order.
 *
 * All entry points are thread-safe. Selections never run the caller's
 * callback with a store lock held. A background thread cuts heads into
 * blocks, compacts and applies retention; logs_store_flush does it now.
 * Errors: int status, 0 on success, LOGS_ERR_* below, reasons through err
 * buffers. Bad data on disk never aborts: a torn WAL tail is cut, a
 * corrupt block is skipped and counted.
 */

typedef struct logs_store logs_store_t;

enum {
    LOGS_OK = 0,
    LOGS_ERR_IO = -1,      /* disk error: retryable (answer 5xx) */
    LOGS_ERR_CORRUPT = -2, /* data dir unreadable */
    LOGS_ERR_CLOSED = -3,
    LOGS_ERR_LIMIT = -4, /* a selection went past a limit of the caller */
};

typedef struct logs_store_opts {
    const char *dir;          /* data directory (created if missing) */
    int64_t retention_ns;     /* blocks whose newest entry is older than now - retention are dropped; 0: keep */
    size_t block_bytes;       /* a stream's head is cut into a block past this many line bytes; 0: 1 MiB */
    int64_t head_max_age_ns;  /* ... or when its oldest entry is this much older than its newest, or
                                 has been in the head this long (wall clock); 0: 1h */
    bool wal_sync;            /* fdatasync the WAL on every commit */
    size_t wal_segment_bytes; /* 0: 64 MiB */
    bool background;          /* run the maintenance thread */
    pclock_t clock;           /* zeroed: the real clock */
} logs_store_opts_t;

typedef struct logs_append_result {
    uint64_t accepted;    /* entries stored */
    uint64_t duplicates;  /* entries already stored (same stream, ts, line): not errors */
    uint64_t new_streams; /* streams created by this append */
} logs_append_result_t;

/* Open or create the store in o->dir, replaying the WAL. 0 and [out] *out,
 * or a LOGS_ERR_* with a reason in err and *out NULL. */
int logs_store_open(const logs_store_opts_t *o, logs_store_t **out, char *err, size_t errlen);
/* Stop the maintenance thread, commit the WAL, free. NULL ok. */
void logs_store_close(logs_store_t *s);

/* Append every stream of p (as logs_push_decode returns it). Returns 0
 * when everything accepted is durable (per wal_sync), LOGS_ERR_IO when the
 * WAL could not be written (nothing is promised: answer 5xx). p is
 * borrowed. Work: O(entries + bytes). */
int logs_store_append(logs_store_t *s, const logs_push_t *p, logs_append_result_t *res);

/* Cut every head into blocks, compact, apply retention, drop the WAL the
 * blocks cover; returns when durable. 0 or LOGS_ERR_IO. */
int logs_store_flush(logs_store_t *s);

/* A selection: the streams matching every matcher (a label absent from a
 * stream matches as ""), their entries with start_ns <= ts < end_ns.
 * must/nmust: literal byte strings every line the caller wants contains
 * (from `|= "x"` filters); the store may skip blocks whose token filter
 * proves a literal absent, but it does not filter lines itself: the caller
 * still applies its filters to what it receives. */
typedef struct logs_select {
    matcher_t *ms; /* used by one thread at a time (see matcher.h) */
    size_t nms;
    int64_t start_ns, end_ns;
    bool backward; /* entries newest first */
    const str_t *must;
    size_t nmust;
} logs_select_t;

/* Returned by a logs_select_fn to skip the rest of the current stream. */
#define LOGS_SELECT_NEXT_STREAM 1

/* Called with a stream's entries in chunks: all chunks of one stream
 * before the next stream's, streams in an unspecified order, entries in
 * time order (newest first when backward; equal timestamps keep their
 * arrival order, reversed when backward). Arrays and strings are borrowed
 * for the call. Return 0 for more, LOGS_SELECT_NEXT_STREAM to skip to the
 * next stream, anything else to stop (logs_store_select returns it). */
typedef int (*logs_select_fn)(void *ctx, const label_t *labels, size_t nlabels, const logs_entry_t *e, size_t n);

/* Run a selection. 0 when every stream was delivered, the callback's stop
 * value, or LOGS_ERR_IO. Work: the matching streams' blocks overlapping
 * the range (less what the token filters skip) and their heads. */
int logs_store_select(logs_store_t *s, const logs_select_t *q, logs_select_fn fn, void *ctx);

/* A union of matcher sets, as /series' repeated match[] gives them; no set
 * at all selects every stream. */
typedef struct logs_matchset {
    matcher_t *ms;
    size_t n;
} logs_matchset_t;

typedef struct logs_series {
    label_t *labels; /* sorted by name, strings in the caller's arena */
    size_t n;
} logs_series_t;

/* Streams selected by sets with an entry (judged by block and head time
 * bounds) in [start_ns, end_ns]: their label names, the values of name, or
 * their label sets; sorted (names and values by bytes, sets as labels
 * compare), copied into a. Return the count, [out] *out. Work: the
 * streams' index entries, no block reads. */
size_t logs_store_label_names(logs_store_t *s, const logs_matchset_t *sets, size_t nsets, int64_t start_ns,
                              int64_t end_ns, arena_t *a, str_t **out);
size_t logs_store_label_values(logs_store_t *s, str_t name, const logs_matchset_t *sets, size_t nsets, int64_t start_ns,
                               int64_t end_ns, arena_t *a, str_t **out);
size_t logs_store_series(logs_store_t *s, const logs_matchset_t *sets, size_t nsets, int64_t start_ns, int64_t end_ns,
                         arena_t *a, logs_series_t **out);

/* What /loki/api/v1/index/stats reports for the streams selected by sets
 * over [start_ns, end_ns]: streams, chunks (blocks and heads), entries and
 * line bytes, counted over the blocks and heads overlapping the range
 * (whole blocks, as Loki counts whole chunks). */
typedef struct logs_index_stats {
    uint64_t streams, chunks, entries, bytes;
} logs_index_stats_t;
void logs_store_index_stats(logs_store_t *s, const logs_matchset_t *sets, size_t nsets, int64_t start_ns,
                            int64_t end_ns, logs_index_stats_t *out);

/* Counters and gauges for /metrics. */
typedef struct logs_store_stats {
    uint64_t entries_appended, bytes_appended, duplicates;
    uint64_t streams; /* streams known */
    uint64_t head_entries, head_bytes;
    uint64_t blocks, block_bytes; /* on disk */
    uint64_t head_cuts, compactions, compactions_failed, corrupt_blocks, retention_dropped_blocks;
    uint64_t blocks_read, blocks_skipped_by_filter; /* by selections */
    uint64_t wal_bytes, wal_fsyncs, wal_replay_cuts;
    double wal_fsync_seconds;
    uint64_t disk_bytes; /* everything under dir */
} logs_store_stats_t;
void logs_store_get_stats(logs_store_t *s, logs_store_stats_t *st);

#endif

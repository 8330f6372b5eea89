/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tsdb: the metrics store. Series are label sets; samples are
 * (ms timestamp, float64) pairs stored bit-exactly (StaleNaN included).
 *
 * Writers call tsdb_append with validated, normalized label sets; a 0
 * return means every accepted sample is in the WAL (written, and synced in
 * sync mode), so it survives kill -9. Readers call tsdb_select with
 * matchers and a time range and receive each matching series once, its
 * samples merged from the head and the blocks in time order. All entry
 * points are thread-safe. A background thread cuts the head into blocks,
 * compacts blocks and applies retention; tsdb_flush does all of it now.
 *
 * Errors: int status, 0 on success; TSDB_ERR_* below; messages through
 * err buffers. The store never aborts on bad data on disk: a torn WAL tail
 * is cut and reported, a corrupt block is skipped and counted.
 */
#ifndef PHAROS_TSDB_H
#define PHAROS_TSDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/clock.h"
#include "common/labels.h"
#include "common/matcher.h"

typedef struct tsdb tsdb_t;

/* Most labels a series may have (tsdb_append drops larger series). */
#define TSDB_MAX_LABELS 256

/* Timestamps accepted: well inside int64, so time arithmetic cannot overflow. */
#define TSDB_MIN_TIME (-(1LL << 62))
#define TSDB_MAX_TIME (1LL << 62)

/* The Prometheus stale marker: a NaN with this exact bit pattern. */
#define TSDB_STALE_NAN_BITS 0x7ff0000000000002ULL

typedef struct tsdb_opts {
    const char *dir;          /* data directory (created if missing) */
    int64_t retention_ms;     /* blocks older than newest - retention are dropped (0: keep) */
    int64_t block_range_ms;   /* span of a head cut (level-0 block); 0: 1h */
    int64_t ooo_window_ms;    /* accept samples this much older than the newest */
    int64_t future_ms;        /* reject samples this far past the clock (0: 1h) */
    bool wal_sync;            /* fdatasync the WAL on every commit */
    size_t wal_segment_bytes; /* 0: 64 MiB */
    bool background;          /* run the maintenance threads */
    bool no_checkpoint;       /* close without writing the head checkpoint */
    size_t page_cache_bytes;  /* decoded block pages kept for queries; 0: 64 MiB */
    pclock_t clock;           /* zeroed: the real clock */
} tsdb_opts_t;

enum {
    TSDB_OK = 0,
    TSDB_ERR_IO = -1,      /* disk error: retryable (answer 5xx) */
    TSDB_ERR_CORRUPT = -2, /* data dir unreadable */
    TSDB_ERR_CLOSED = -3,
};

typedef struct tsdb_sample {
    int64_t t;
    double v;
} tsdb_sample_t;

/* A caller's fingerprint of a series: a 128-bit hash of however the
 * caller receives its labels (e.g. the raw protobuf label bytes), so that
 * a series seen before is found without decoding, validating and
 * hashing its labels again. Two label encodings may map to one series;
 * one fingerprint never maps to two (a 96-bit check guards collisions). */
typedef struct tsdb_fp {
    uint64_t lo, hi;
} tsdb_fp_t;

/* One series of an append batch, named either by ref (from
 * tsdb_lookup_fps) or by labels normalized and validated by the caller
 * (labels_normalize + labels_validate). Samples in any order. */
typedef struct tsdb_input {
    const label_t *labels; /* when ref == 0 */
    size_t nlabels;
    const tsdb_sample_t *samples;
    size_t nsamples;
    uint32_t ref;        /* series id + 1, or 0 */
    const tsdb_fp_t *fp; /* optional: remember fp for this series */
} tsdb_input_t;

/* refs[i] = series id + 1 of the series remembered for fps[i], or 0. */
void tsdb_lookup_fps(tsdb_t *db, const tsdb_fp_t *fps, size_t n, uint32_t *refs);

/* Why a sample was not stored. Identical duplicates are not rejections. */
typedef enum tsdb_reject {
    TSDB_REJ_DUPLICATE = 0, /* same timestamp, different value */
    TSDB_REJ_TOO_OLD,       /* older than newest - ooo window */
    TSDB_REJ_FUTURE,        /* too far in the future */
    TSDB_REJ_COUNT
} tsdb_reject_t;

typedef struct tsdb_append_result {
    uint64_t accepted;
    uint64_t duplicates_identical;
    uint64_t rejected[TSDB_REJ_COUNT];
    uint64_t new_series;
    char first_error[256]; /* first rejection, naming the series and sample */
} tsdb_append_result_t;

/* Open or create the store in opts->dir, replaying the WAL. 0, or a
 * TSDB_ERR_* with a reason in err. */
int tsdb_open(const tsdb_opts_t *opts, tsdb_t **out, char *err, size_t errlen);
/* Stop the background thread, commit the WAL, free. NULL ok. */
void tsdb_close(tsdb_t *db);

/* Append n series. Result counts per sample. Returns 0 when everything
 * accepted is durable (per wal_sync), TSDB_ERR_IO when the WAL could not
 * be written (nothing can be promised: answer 5xx so senders retry). */
int tsdb_append(tsdb_t *db, const tsdb_input_t *in, size_t n, tsdb_append_result_t *res);

/* Record metric metadata (last write wins). */
void tsdb_set_metadata(tsdb_t *db, str_t family, int type, str_t help, str_t unit);

/* Called once per selected series, in series-id (creation) order, with
 * its labels and samples (time order, no duplicate timestamps). Arrays are
 * borrowed for the call. Return nonzero to stop the selection
 * (tsdb_select returns it). */
typedef int (*tsdb_select_fn)(void *ctx, const label_t *labels, size_t nlabels, const int64_t *ts, const double *vs,
                              size_t n);
/* Every series matching all matchers with at least one sample in
 * [mint, maxt] (inclusive), with those samples. */
int tsdb_select(tsdb_t *db, matcher_t *ms, size_t nms, int64_t mint, int64_t maxt, tsdb_select_fn fn, void *ctx);

/* Cut everything in the head into blocks, compact, apply retention, drop
 * the WAL it covered; returns when durable. 0 or TSDB_ERR_IO. */
int tsdb_flush(tsdb_t *db);

/* ---- label, series and metadata lookups (tsdb_labels.c) ----
 *
 * What the Prometheus API's /labels, /label/<name>/values, /series and
 * /metadata need. A selection is the union of matcher sets (each set ANDs
 * its matchers as tsdb_select does; no set at all selects every series),
 * kept to the series with data in [mint, maxt]. "Data in the range" is
 * judged by time bounds, not by reading samples: a series counts when one
 * of its head chunks, an out-of-order sample, or its extent in a block
 * overlaps the range. A series whose chunk or block extent straddles the
 * range with no sample inside it is therefore kept (it may be kept where
 * Prometheus, which reads postings per block, would drop it); a series
 * with no samples at all is never kept. Results are copied into the
 * caller's arena under the store's read lock (no callback runs under it),
 * sorted by bytes, and cut to limit entries (0: no limit); [out]
 * *truncated says whether anything was cut. Work: the postings of the
 * matchers, plus per selected series one bounds check per block. */

typedef struct tsdb_matchset {
    matcher_t *ms; /* used by one thread at a time (see matcher.h) */
    size_t n;
} tsdb_matchset_t;

typedef struct tsdb_series_labels {
    label_t *labels; /* sorted by name; strings in the caller's arena */
    size_t n;
} tsdb_series_labels_t;

/* Label names of the selected series. Returns the count; [out] *out. */
size_t tsdb_labels_names(tsdb_t *db, const tsdb_matchset_t *sets, size_t nsets, int64_t mint, int64_t maxt,
                         size_t limit, arena_t *a, str_t **out, bool *truncated);
/* Values of label name among the selected series (series without it
 * contribute nothing). Returns the count; [out] *out. */
size_t tsdb_labels_values(tsdb_t *db, str_t name, const tsdb_matchset_t *sets, size_t nsets, int64_t mint, int64_t maxt,
                          size_t limit, arena_t *a, str_t **out, bool *truncated);
/* Label sets of the selected series, sorted as Prometheus' labels.Compare
 * orders them. Returns the count; [out] *out. */
size_t tsdb_labels_series(tsdb_t *db, const tsdb_matchset_t *sets, size_t nsets, int64_t mint, int64_t maxt,
                          size_t limit, arena_t *a, tsdb_series_labels_t **out, bool *truncated);

/* One metric family's metadata as tsdb_set_metadata stored it. */
typedef struct tsdb_meta {
    str_t family, help, unit; /* in the caller's arena */
    int type;                 /* remote-write MetricType: 0 unknown, 1 counter, 2 gauge, 3 histogram,
                                 4 gaugehistogram, 5 summary, 6 info, 7 stateset */
} tsdb_meta_t;

/* Metadata of family, or of every family when family.len == 0, sorted by
 * family and cut to limit families (0: no limit). Returns the count;
 * [out] *out from a. Work: one pass over the families kept (at most
 * TSDB_META_MAX_FAMILIES) under the metadata lock. */
size_t tsdb_labels_metadata(tsdb_t *db, str_t family, size_t limit, arena_t *a, tsdb_meta_t **out);

typedef struct tsdb_stats {
    uint64_t samples_appended;
    uint64_t samples_rejected[TSDB_REJ_COUNT];
    uint64_t series;      /* series known (head or blocks) */
    uint64_t head_series; /* series with samples in the head */
    uint64_t head_chunks;
    uint64_t head_samples;
    uint64_t head_bytes; /* chunk bytes in memory */
    uint64_t wal_bytes;
    uint64_t wal_fsyncs;
    double wal_fsync_seconds;
    uint64_t wal_replay_cuts;
    uint64_t blocks;
    uint64_t block_bytes;
    uint64_t compactions;
    uint64_t compactions_failed;
    uint64_t head_cuts;
    uint64_t corrupt_blocks;
    uint64_t retention_dropped_blocks;
    uint64_t disk_bytes; /* everything under dir */
    int64_t head_mint, head_maxt;
    uint64_t page_cache_hits, page_cache_misses, page_cache_bytes;
} tsdb_stats_t;

void tsdb_get_stats(tsdb_t *db, tsdb_stats_t *st);

#endif

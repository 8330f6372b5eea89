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
} tsdb_stats_t;

void tsdb_get_stats(tsdb_t *db, tsdb_stats_t *st);

#endif

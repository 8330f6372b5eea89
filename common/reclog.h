/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reclog: a segmented, append-only log of CRC-checked records, the WAL
 * mechanism of both stores.
 *
 * A directory holds segment files named by an 8-digit index (00000001, …).
 * Record framing, little-endian:
 *   | u32 length of payload | u32 crc32c(payload) | payload |
 * Appends are buffered in memory and given a position (a byte sequence
 * number); reclog_commit(pos) makes everything up to pos reach the file
 * (write(2), so it survives kill -9) and, in sync mode, stable storage
 * (fdatasync). Concurrent committers share one write/fsync: group commit.
 *
 * Replay reads every segment in order. A torn or corrupt record (short
 * read, bad length, bad CRC) ends that segment: the file is cut there and
 * the cut is reported in the stats; later segments are still replayed.
 * Opening for append always starts a new segment.
 */
#ifndef PHAROS_COMMON_RECLOG_H
#define PHAROS_COMMON_RECLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct reclog reclog_t;

typedef struct reclog_opts {
    size_t segment_bytes; /* roll to a new segment past this size (0: 64 MiB) */
    bool sync;            /* fdatasync on commit */
    size_t max_record;    /* records larger are corrupt on replay (0: 256 MiB) */
} reclog_opts_t;

typedef struct reclog_stats {
    uint64_t records;   /* records replayed */
    uint64_t bytes;     /* payload bytes replayed */
    uint32_t segments;  /* segments read */
    uint32_t cuts;      /* segments cut at a torn/corrupt record */
    uint64_t cut_bytes; /* bytes removed by those cuts */
} reclog_stats_t;

/* Called for each valid record during replay, in order. seg is the
 * segment index. Return 0 to go on, nonzero to abort the replay (returned
 * by reclog_open). The payload is borrowed for the call. */
typedef int (*reclog_replay_fn)(void *ctx, uint32_t seg, const uint8_t *p, size_t len);

/* Create dir if needed, replay its segments through fn (NULL: skip
 * replay), then open a new segment for appending. 0 on success, -errno or
 * the callback's nonzero result on failure. */
int reclog_open(const char *dir, const reclog_opts_t *opts, reclog_replay_fn fn, void *ctx, reclog_stats_t *stats,
                reclog_t **out);
/* Commit what is pending (not synced unless opts.sync) and close. NULL ok. */
void reclog_close(reclog_t *l);
/* Buffer (copy) one record; sets [out] *pos to the position to commit.
 * Thread-safe; O(len) under the log's mutex. 0, -EINVAL when len is 0,
 * -EMSGSIZE when len exceeds max_record, or the error that made the log
 * read-only. */
int reclog_append(reclog_t *l, const void *p, size_t len, uint64_t *pos);
/* Ensure everything up to pos is written (and synced in sync mode); may
 * block on another thread's write, then writes every pending record, not
 * only those up to pos. A pos past the last append is treated as the last
 * append. 0, or -errno of a failed write/fsync (the log is then read-only). */
int reclog_commit(reclog_t *l, uint64_t pos);
/* Commit everything and fdatasync the current segment, whatever the sync
 * mode. 0 or -errno. */
int reclog_sync(reclog_t *l);
/* Commit everything and start a new segment; returns its index in *seg. */
int reclog_roll(reclog_t *l, uint32_t *seg);
/* Delete segments with index < seg; the current segment is never deleted.
 * 0 or the first -errno from unlink (the others are still tried). */
int reclog_drop_before(reclog_t *l, uint32_t seg);
/* Index of the segment being appended to. */
uint32_t reclog_current_segment(reclog_t *l);
/* Bytes in all segment files. */
uint64_t reclog_size(reclog_t *l);
/* Cumulative fsync count and seconds, for /metrics. */
void reclog_sync_stats(reclog_t *l, uint64_t *count, double *seconds);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logs_int: private interface between the parts of the logs module.
 *
 * Push decoding is split by format: logs_push_pb.c walks the protobuf
 * wire format (zero copy over the arena copy of the decoded body),
 * logs_push_json.c walks jansson's DOM; both hand each stream to
 * logs_push_add_stream (logs_push.c), which applies Loki's validation and
 * appends what survives to the result. Decoders announce the number of
 * streams first (logs_push_begin), so the result array is allocated once.
 *
 * Wire layout of logproto.PushRequest (proto/push.proto):
 *   PushRequest   1: StreamAdapter (LEN, repeated)   2: format (LEN)
 *   StreamAdapter 1: labels (LEN)  2: EntryAdapter (LEN, repeated)  3: hash (VARINT)
 *   EntryAdapter  1: Timestamp (LEN)  2: line (LEN)  3: structuredMetadata (LEN, rep.)
 *                 4: parsed (LEN, repeated; ignored)
 *   Timestamp     1: seconds (VARINT int64)  2: nanos (VARINT int32)
 *   LabelPair     1: name (LEN)  2: value (LEN)
 */
#ifndef PHAROS_LOGS_LOGS_INT_H
#define PHAROS_LOGS_LOGS_INT_H
#include <stdbool.h>

#include "logs/logs.h"

typedef struct logs_push_ctx {
    const logs_push_limits_t *lim;
    int64_t now_ns;
    arena_t *arena;
    logs_push_t *out;
    size_t cap; /* room in out->streams */
} logs_push_ctx_t;

/* Allocate room for nstreams streams in ctx->out. */
void logs_push_begin(logs_push_ctx_t *ctx, size_t nstreams);

/* Validate one stream and append what survives to ctx->out.
 * raw: the label string as sent (protobuf; for messages), or empty (JSON).
 * parse_err: non-NULL when raw did not parse (the stream is rejected).
 * ls[0..n) is sorted and normalized in place (arena memory). entries[i]
 * with ts_bad[i] set (ts_bad may be NULL) has an unrepresentable time.
 * Entries are filtered in place. Never fails: rejections are counted. */
void logs_push_add_stream(logs_push_ctx_t *ctx, str_t raw, const char *parse_err, label_t *ls, size_t n,
                          logs_entry_t *entries, size_t nentries, const bool *ts_bad);

/* The body decoders. p[0..len) must outlive the result (it is the arena
 * copy). Return 0, or -1 with a reason in err. */
int logs_push_pb_decode(logs_push_ctx_t *ctx, const uint8_t *p, size_t len, char *err, size_t errlen);
int logs_push_json_decode(logs_push_ctx_t *ctx, const uint8_t *p, size_t len, char *err, size_t errlen);

/* ================================================================== */
/* The store (logs_store*.c and friends). Parts, one file each:        */
/*   logs_store.c   lifecycle, append, the maintenance thread, stats   */
/*   logs_stream.c  streams by labels, inverted index, matchers        */
/*   logs_head.c    per-stream in-memory entries (sorted, deduplicated)*/
/*   logs_wal.c     WAL records on common/reclog                       */
/*   logs_filter.c  per-chunk trigram bloom filters                    */
/*   logs_block.c   immutable block files: writer and reader           */
/*   logs_merge.c   time-ordered, deduplicated merge of chunk sources  */
/*   logs_compact.c head cuts, compaction, retention, WAL dropping     */
/*   logs_select.c  selections, label names/values, series, stats      */
/* ================================================================== */
#include <pthread.h>

#include "common/buf.h"
#include "common/compress.h"
#include "common/hmap.h"
#include "common/reclog.h"

#define LOGS_NS_PER_MS 1000000LL

/* An entry as the parts pass it around: meta is the encoded structured
 * metadata (logs_meta_put), line and meta borrow. */
typedef struct logs_row {
    int64_t ts;
    str_t line;
    str_t meta;
} logs_row_t;

/* Structured metadata encoding (WAL, head and blocks): per pair
 * uvarint(len name) name uvarint(len value) value; the count is implied. */
void logs_meta_put(buf_t *out, const label_t *meta, size_t n);
/* Decode up to max pairs borrowing p: the count, or -1 when malformed or
 * longer than max. O(len). */
long logs_meta_get(const uint8_t *p, size_t len, label_t *out, size_t max);
#define LOGS_MAX_META 1024 /* pairs per entry; an append keeps the first LOGS_MAX_META */

/* ------------------------------------------------------------------ */
/* logs_filter.c: trigram bloom filter of a chunk's lines.             */
/* ------------------------------------------------------------------ */
/*
 * Filter bytes: | u8 k (1..16) | m bytes of bits (bit i = byte i/8, bit i%8) |
 * Every 3-byte window inside a line is a key; h = hash_bytes(key, 3),
 * probe j (0..k-1) sets bit (lo32(h) + j * (hi32(h) | 1)) mod 8m. m is
 * sized LOGS_FILTER_BITS_PER_KEY bits per distinct key (rounded up to 8
 * bytes); m == 0 means "no keys" (every literal of 3+ bytes is absent).
 * A literal may occur only if all its windows are present; literals under
 * 3 bytes always may.
 */
/* 3 bits and 2 probes per key: a window is a false positive ~24% of the
 * time, a literal of w windows ~0.24^w (an 8-byte needle: ~2e-4), at 3/8
 * the bytes of 8 bits/key; the filter is stored raw, so it is the part of
 * a block that compression cannot shrink. */
#define LOGS_FILTER_BITS_PER_KEY 3
#define LOGS_FILTER_K 2

typedef struct logs_filter_builder {
    uint64_t *seen; /* 2^24 bits: keys seen in the current chunk */
    uint32_t *keys; /* distinct keys, in first-seen order */
    size_t nkeys, capkeys;
} logs_filter_builder_t;

void logs_filter_builder_init(logs_filter_builder_t *b);
void logs_filter_builder_fini(logs_filter_builder_t *b);
/* Add the windows of one line. O(len). */
void logs_filter_add(logs_filter_builder_t *b, const char *p, size_t len);
/* Append the filter of what was added to out and reset the builder.
 * O(distinct keys). */
void logs_filter_finish(logs_filter_builder_t *b, buf_t *out);
/* Can a line of the chunk contain lit? false only when proven absent.
 * f[0..len) is the filter (a malformed one answers true). O(len(lit)). */
bool logs_filter_may_contain(const uint8_t *f, size_t len, str_t lit);

/* ------------------------------------------------------------------ */
/* logs_head.c: a stream's entries in memory.                          */
/* ------------------------------------------------------------------ */
/*
 * Entries sorted by (ts, arrival); each one's line then its encoded
 * metadata sit at off in data (append-only). hash is 32 bits of the
 * line's hash, to compare candidates of equal ts cheaply.
 */
typedef struct logs_hent {
    int64_t ts;
    uint32_t off, len, mlen, hash;
} logs_hent_t;

typedef struct logs_head {
    logs_hent_t *e;
    uint32_t n, cap;
    buf_t data;
    uint64_t line_bytes;
    int64_t mint, maxt; /* valid when n > 0 */
} logs_head_t;

#define LOGS_HEAD_MAX_DATA (1u << 30) /* a stream's head refuses entries past this */

void logs_head_fini(logs_head_t *h);
/* Insert one entry in time order after the entries of equal ts. Returns 1
 * when stored, 0 when (ts, line) is already there, -1 when the head is at
 * LOGS_HEAD_MAX_DATA. O(log n + equal-ts run) plus the memmove of an
 * out-of-order insert. */
int logs_head_insert(logs_head_t *h, int64_t ts, str_t line, str_t meta);
/* Is (ts, line) in h? */
bool logs_head_contains(const logs_head_t *h, int64_t ts, str_t line, uint32_t hash);
/* The 32-bit line hash logs_head_* compare. */
uint32_t logs_head_hash(str_t line);
/* Rows of h with start <= ts < end, in order, borrowing h ([out] *rows in
 * a, *n). O(log n + rows). */
void logs_head_rows(const logs_head_t *h, int64_t start, int64_t end, arena_t *a, logs_row_t **rows, size_t *n);
/* As logs_head_rows, with line and meta bytes copied into a. */
void logs_head_copy(const logs_head_t *h, int64_t start, int64_t end, arena_t *a, logs_row_t **rows, size_t *n);

/* ------------------------------------------------------------------ */
/* logs_stream.c: streams and the inverted index.                      */
/* ------------------------------------------------------------------ */
/*
 * Stream ids are dense (0..n-1) in creation order and live only in
 * memory: blocks and WAL records carry label sets, and open rebuilds the
 * index from them. A name=value pair is interned once and has the sorted
 * postings (stream ids) of the streams carrying it; each name lists its
 * pairs, for regex matchers and label values. Labels of a stream point
 * into the index arena: stable for the store's lifetime.
 */
typedef struct logs_ids {
    uint32_t *v;
    uint32_t n, cap;
} logs_ids_t;

typedef struct logs_strm {
    label_t *labels; /* sorted, strings in the index arena */
    uint32_t nlabels;
    uint32_t *pairs;
    logs_head_t head;
    logs_head_t *frozen;   /* the head being written into a block by a cut */
    uint64_t last_rec;     /* newest WAL record that added to the head */
    uint64_t frozen_rec;   /* last_rec when the frozen head was taken */
    uint64_t wal_cover;    /* WAL records <= this are in blocks (replay skips them) */
    uint32_t head_seg;     /* no head entry is in a WAL segment below this */
    uint32_t frozen_seg;   /* head_seg of the frozen head */
    int64_t head_since_ms; /* wall clock when the head got its first entry */
} logs_strm_t;

typedef struct logs_index {
    arena_t *strs;
    struct logs_iname *names;
    uint32_t nnames, capnames;
    hmap_t name_map;
    struct logs_ipair *pairs;
    uint32_t npairs, cappairs;
    hmap_t pair_map;
    logs_strm_t **streams;
    uint32_t nstreams, capstreams;
    hmap_t stream_map; /* labels_hash -> id; collisions resolved by comparing labels */
} logs_index_t;

void logs_ids_push(logs_ids_t *ids, uint32_t v);
void logs_ids_fini(logs_ids_t *ids);
void logs_index_init(logs_index_t *ix);
void logs_index_fini(logs_index_t *ix);
/* The id of the stream with these sorted labels, creating it when new
 * ([out] *created). */
uint32_t logs_index_get(logs_index_t *ix, const label_t *ls, size_t n, bool *created);
/* As logs_index_get from canonical label bytes; -1 when malformed. */
int64_t logs_index_get_encoded(logs_index_t *ix, const uint8_t *p, size_t len, bool *created);
/* Stream ids matching every matcher, ascending, into out (reset first).
 * Work: the postings touched plus, for regexes without literal
 * alternatives, the values of that name. */
void logs_index_select(logs_index_t *ix, matcher_t *ms, size_t n, logs_ids_t *out);

/* ------------------------------------------------------------------ */
/* logs_wal.c: WAL records.                                            */
/* ------------------------------------------------------------------ */
/*
 * One record per append, little-endian varints:
 *   | u8 type = 1 (ENTRIES) | uvarint seq | uvarint nstreams (5 bytes) |
 *   per stream: | uvarint len | canonical label bytes (labels_encode) |
 *               | uvarint nentries (5 bytes) |
 *     per entry: | varint (ts - previous ts of the stream, from 0) |
 *                | uvarint len | line | uvarint len | meta (logs_meta_put) |
 * Counts are written as 5-byte (non-minimal) varints so the appender can
 * patch them once it knows how many entries it accepted.
 * seq increases by one per record over the store's life (it continues
 * from the highest seq seen in the WAL and the blocks' covers at open).
 * A block stream's cover says every entry of that stream in a record with
 * seq <= cover is in blocks, so replay skips it.
 */
enum {
    LOGS_REC_ENTRIES = 1,
};

typedef struct logs_rec_visitor {
    void *ctx;
    /* A stream of the record; return false to skip its entries. */
    bool (*stream)(void *ctx, uint64_t seq, const uint8_t *labels, size_t len);
    void (*entry)(void *ctx, int64_t ts, str_t line, str_t meta);
} logs_rec_visitor_t;

/* Builders: begin, then per stream add_stream (returns where its count
 * goes), its entries and set_count(at, n); finish patches nstreams. */
void logs_rec_begin(buf_t *rec, uint64_t seq);
size_t logs_rec_add_stream(buf_t *rec, const label_t *ls, size_t n);
void logs_rec_add_entry(buf_t *rec, int64_t *prev_ts, int64_t ts, str_t line, str_t meta);
void logs_rec_set_count(buf_t *rec, size_t at, uint32_t n);
void logs_rec_finish(buf_t *rec, uint32_t nstreams);
/* Validate the whole record, then visit it. 0, or -1 if malformed (then
 * nothing is visited). [out] *seq (may be NULL). O(len). */
int logs_rec_decode(const uint8_t *p, size_t len, const logs_rec_visitor_t *v, uint64_t *seq);

/* ------------------------------------------------------------------ */
/* logs_block.c: immutable block files.                                */
/* ------------------------------------------------------------------ */
/*
 * One file per block, blocks/<seq as 16 hex digits>.lblk, written as
 * .tmp, fsynced, renamed, directory fsynced. A block holds chunks of any
 * number of streams; a chunk is up to a target of line bytes of one
 * stream, in time order, without duplicates. Little-endian:
 *
 *   | offset        | size | field                                     |
 *   |---------------|------|-------------------------------------------|
 *   | 0             | 8    | magic "PHLGBLK1"                          |
 *   | 8             | …    | chunks, each: filter | cols | lines | meta |
 *   | index_off     | …    | index: one zstd frame                     |
 *   | size - 40     | 8    | u64 index_off                             |
 *   | size - 32     | 4    | u32 index_len (compressed)                |
 *   | size - 28     | 4    | u32 crc32c of the compressed index        |
 *   | size - 24     | 8    | i64 mint (ns)                             |
 *   | size - 16     | 8    | i64 maxt (ns)                             |
 *   | size - 8      | 8    | magic "PHLGEND1"                          |
 *
 * A chunk's lines are cut into frames of whole lines of about
 * LOGS_FRAME_RAW bytes; each frame has its own filter and its own zstd
 * frame, and every frame but the first is compressed with the first
 * one's bytes as its zstd prefix. A `|= "x"` read so decompresses only
 * the frames whose filter admits x (and frame 0), while compression
 * still sees the whole chunk's repetitions through frame 0.
 *
 * A chunk's parts, each but the filters one zstd frame:
 *
 *   | part   | content                                                   |
 *   |--------|-----------------------------------------------------------|
 *   | filter | the frames' logs_filter bytes, concatenated (raw)         |
 *   | cols   | per frame, one zstd frame each (frame 0's columns are the |
 *   |        | others' zstd prefix): varint(ts_0) (zigzag),              |
 *   |        | uvarint(ts_1 - ts_0), then for i >= 2                     |
 *   |        | varint((ts_i - ts_i-1) - (ts_i-1 - ts_i-2)) (delta of     |
 *   |        | deltas: regular spacing costs nothing after zstd), then   |
 *   |        | uvarint(len line_i) per entry of the frame                |
 *   | lines  | the frames, concatenated: frame 0's zstd frame, then the  |
 *   |        | others' (prefix: frame 0's bytes); a frame of only empty  |
 *   |        | lines has no bytes                                        |
 *   | meta   | per entry uvarint len + logs_meta bytes; absent (0 bytes) |
 *   |        | when no entry has metadata                                |
 *
 * Index payload (uvarints; i64 as zigzag):
 *   | version = 1 | rank | level | nstreams | nchunks |
 *   per stream (in order): | len | canonical labels | cover | nchunks |
 *   per chunk (grouped by stream, each stream's by mint):
 *   | mint | maxt - mint | n | line bytes | off | filter_len | cols_len |
 *   | lines_len | meta_len | u32le crc32c(filter) | u32le crc32c(cols..meta) |
 *   | nframes | per frame: rows | cols_len | line bytes | filter_len |
 *   | lines zstd bytes |
 * rank orders blocks for "arrival order" of equal timestamps: a cut's seq,
 * or the smallest rank of a compaction's inputs. level: 0 for a head cut
 * (fast zstd, block_bytes chunks), 1 for a compaction's output.
 */
#define LOGS_BLOCK_MAGIC "PHLGBLK1"
#define LOGS_BLOCK_END "PHLGEND1"
#define LOGS_BLOCK_FOOTER 40
#define LOGS_BLOCK_MAX_INDEX (256u << 20)
#define LOGS_CHUNK_MAX_RAW (64u << 20)  /* line bytes of one chunk, reader's bound */
#define LOGS_CHUNK_MAX_ROWS (16u << 20) /* entries of one chunk, reader's bound */

#define LOGS_FRAME_RAW (256u << 10)  /* line bytes of a frame (a line never splits) */
#define LOGS_FRAME0_RAW (512u << 10) /* ... of frame 0, every other frame's zstd prefix */
#define LOGS_CHUNK_MAX_FRAMES 64     /* frames of a chunk: skip masks are one uint64_t */

typedef struct logs_frame_ref {
    uint32_t rows; /* entries */
    uint32_t cols; /* zstd bytes of its columns */
    uint32_t raw;  /* line bytes */
    uint32_t flen; /* filter bytes */
    uint32_t clen; /* zstd bytes of its lines (0 when raw is 0) */
} logs_frame_ref_t;

typedef struct logs_chunk_ref {
    int64_t mint, maxt;
    uint64_t off;
    uint64_t raw_bytes;
    uint32_t n;
    uint32_t stream; /* local stream index */
    uint32_t flen, clen, llen, mlen;
    uint32_t fcrc, dcrc;
    uint32_t frame0, nframes; /* the block's frames[frame0..frame0+nframes) */
} logs_chunk_ref_t;

typedef struct logs_bstream {
    const uint8_t *labels; /* canonical bytes, in the block's index buffer */
    size_t labels_len;
    uint64_t cover;
    uint32_t first, nchunks; /* chunks[first..first+nchunks) */
    uint32_t gid;            /* the store's stream id (set by the store) */
} logs_bstream_t;

typedef struct logs_block {
    char *path;
    uint64_t seq, rank;
    uint32_t level; /* 0: a head cut; 1: compacted */
    int fd;
    uint64_t size;
    int64_t mint, maxt;
    uint8_t *index; /* decompressed index payload */
    uint32_t nstreams, nchunks;
    logs_bstream_t *streams;
    logs_chunk_ref_t *chunks;
    logs_frame_ref_t *frames; /* every chunk's, in chunk order */
    uint32_t nframes_total;
    uint32_t *by_gid; /* local stream indices sorted by gid (set by logs_block_bind) */
    uint64_t entries, raw_bytes;
    int refs;     /* atomic */
    bool doomed;  /* unlink when the last reference goes */
    bool corrupt; /* a chunk failed its checks (counted once) */
} logs_block_t;

/* A chunk decoded: rows borrowing raw. */
typedef struct logs_decoded {
    buf_t cols, cols0, lines, meta, file; /* cols0: frame 0's columns, the others' prefix */
    compress_zctx_t zctx;                 /* reused by every frame of every chunk read */
    logs_row_t *rows;
    size_t n, cap;
} logs_decoded_t;

typedef struct logs_block_writer logs_block_writer_t;

/* Start a block file of level (0 cut, 1 compacted). zlevel: zstd level of
 * the chunks; chunk_raw: line bytes a chunk is closed at. 0 or -errno. */
int logs_block_writer_open(const char *dir, uint64_t seq, uint64_t rank, uint32_t level, int zlevel, size_t chunk_raw,
                           logs_block_writer_t **out);
/* Start the next stream (each stream once), writing the previous one's
 * last chunk. 0 or -errno. */
int logs_block_writer_stream(logs_block_writer_t *w, const label_t *ls, size_t n, uint64_t cover);
/* Add rows of the current stream (ts ascending across calls, no
 * duplicates): copied; chunks are written as they fill. 0 or -errno. */
int logs_block_writer_add(logs_block_writer_t *w, const logs_row_t *rows, size_t n);
/* Write the index and footer, fsync, rename, open the result ([out] *out;
 * NULL when nothing was added, the file removed). 0 or -errno. */
int logs_block_writer_finish(logs_block_writer_t *w, logs_block_t **out);
/* Remove the partial file and free. NULL ok. */
void logs_block_writer_abort(logs_block_writer_t *w);

/* Open and validate a block file (footer, index CRC and structure; chunk
 * data is checked when read). 0, or LOGS_ERR_CORRUPT / LOGS_ERR_IO with a
 * reason. */
int logs_block_open(const char *path, uint64_t seq, logs_block_t **out, char *err, size_t errlen);
/* Close and free (unlink when doomed). NULL ok. */
void logs_block_free(logs_block_t *b);
/* Sort by_gid once every streams[].gid is set. */
void logs_block_bind(logs_block_t *b);
/* Local index of store stream gid, or -1. O(log nstreams). */
int64_t logs_block_find(const logs_block_t *b, uint32_t gid);
/* The frames of chunk c whose filter proves one of the literals absent
 * (bit i: frame i); the chunk cannot match when this is every frame
 * (logs_block_frames_all). Filters failing their CRC prove nothing (0:
 * the read will report the damage). Reads the filter bytes (scratch). */
uint64_t logs_block_frames_absent(const logs_block_t *b, uint32_t c, const str_t *lits, size_t n, buf_t *scratch);
/* The mask of all of chunk c's frames (bit i: frame i). */
uint64_t logs_block_frames_all(const logs_block_t *b, uint32_t c);
/* Read and decode chunk c into d (reset first), leaving out the rows of
 * the frames in skip (a logs_block_frames_absent mask; 0: every row).
 * 0, LOGS_ERR_CORRUPT (CRC, zstd, or columns disagree) or LOGS_ERR_IO. */
int logs_block_read(const logs_block_t *b, uint32_t c, uint64_t skip, logs_decoded_t *d);
void logs_decoded_fini(logs_decoded_t *d);

/* ------------------------------------------------------------------ */
/* logs_merge.c: one stream's sources in time order.                   */
/* ------------------------------------------------------------------ */
/*
 * A source is a block chunk or a run of rows in memory (a head), with
 * time bounds and a rank (lower = arrived earlier). Sources whose time
 * ranges overlap form a cluster; clusters are emitted in time order
 * (reverse when backward), each as one row array sorted by (ts, rank,
 * position) with exact duplicates (ts, line) dropped. Only one cluster is
 * decoded at a time, so reading the newest 100 lines of a long stream
 * decodes only its newest chunks.
 */
typedef struct logs_source {
    int64_t mint, maxt;
    uint64_t rank;
    logs_block_t *block; /* NULL: rows below */
    uint32_t chunk;
    uint64_t skip; /* frames of the chunk proven not to match (0: read all) */
    const logs_row_t *rows;
    size_t nrows;
} logs_source_t;

/* Called with each cluster's rows (ascending; the callback reverses for
 * backward reading). Return 0 to continue; anything else stops the walk
 * and is returned. */
typedef int (*logs_merge_fn)(void *ctx, const logs_row_t *rows, size_t n);
/* Called for a chunk that failed to read (corrupt or I/O): skipped. */
typedef void (*logs_merge_bad_fn)(void *ctx, logs_block_t *b, int rc);

/* A merge's reusable memory: decode buffers (one per source of the
 * largest cluster seen), the merged rows, the cluster table. A zeroed
 * struct is valid; one selection or compaction keeps one for all its
 * streams, so steady reads allocate nothing. */
typedef struct logs_merge {
    logs_decoded_t *dec;
    size_t ndec;
    logs_row_t *out;
    size_t outcap;
    const logs_row_t **rows;
    size_t *nrows, *pos;
    size_t *ends;
    size_t endscap;
    uint64_t reads; /* chunks read from blocks (for stats) */
} logs_merge_t;

/* Walk one stream's sources (reordered in place) with m's memory. 0, or
 * the callback's stop value. Rows are valid for the call only. */
int logs_merge(logs_merge_t *m, logs_source_t *src, size_t n, bool backward, logs_merge_fn fn, logs_merge_bad_fn bad,
               void *ctx);
void logs_merge_fini(logs_merge_t *m);
/* Drop exact duplicates from rows sorted by ts, keeping the first of each
 * (ts, line); returns the new count. */
size_t logs_rows_dedup(logs_row_t *rows, size_t n);

/* ------------------------------------------------------------------ */
/* logs_store.c / logs_compact.c / logs_select.c: the store.           */
/* ------------------------------------------------------------------ */
/*
 * Locks, in order: maint_mu (one head cut at a time) or compact_mu (one
 * compaction or retention pass at a time; cuts and compactions run on
 * their own threads so a long compaction never holds up the cuts that
 * relieve memory) → lock (index,
 * heads, the block list; readers share it). Block references are atomic:
 * a reader takes references under the read lock and reads the files with
 * no lock held; a block dropped from the list is freed (and unlinked when
 * doomed) by its last reference. Appends queue their WAL record under the
 * write lock and commit it after releasing it (group commit).
 */
#define LOGS_DEFAULT_BLOCK_BYTES ((size_t)1 << 20)
#define LOGS_DEFAULT_MAX_AGE_NS (3600LL * 1000000000LL)
#define LOGS_HEAD_TOTAL_MAX ((uint64_t)32 << 20) /* every head is cut past this many bytes in all heads */
#define LOGS_APPEND_WAIT_MS 5000                 /* longest an append waits for a cut past 2 x LOGS_HEAD_TOTAL_MAX */
#define LOGS_ZLEVEL_CUT 3
/* Compaction rewrites chunks at zstd level 15 in chunks of block_bytes x
 * LOGS_COMPACT_CHUNK_MUL (4 MiB by default) of 256 KiB frames: frame 0
 * as every frame's prefix lets zstd see the chunk's repetitions, so on
 * log text the chunk costs about what level 15 gives on 4 MiB (~0.75x
 * the bytes of level 3 on the same text), at ~13-20 MB/s of background
 * CPU; a `|= "rare"` read still decompresses only frame 0 and the frames
 * whose filter admits the needle. */
#define LOGS_ZLEVEL_COMPACT 15
#define LOGS_COMPACT_CHUNK_MUL 4
#define LOGS_COMPACT_MIN_BLOCKS 4
#define LOGS_COMPACT_MAX_BYTES ((uint64_t)256 << 20) /* a block this big is not merged further */
#define LOGS_COMPACT_WINDOW_NS (6 * 3600LL * 1000000000LL)

struct logs_store {
    logs_store_opts_t o;
    char *dir, *wal_dir, *blocks_dir;
    pthread_rwlock_t lock;
    logs_index_t ix;
    reclog_t *wal;
    uint64_t wal_seq;                  /* last record seq given (lock) */
    buf_t rec, meta;                   /* append scratch (write lock) */
    uint64_t head_entries, head_bytes; /* lock */
    logs_block_t **blocks;             /* ascending rank, then seq (lock) */
    uint32_t nblocks, capblocks;
    uint64_t next_block_seq; /* __atomic: cuts and compactions both name blocks */
    pthread_mutex_t maint_mu;
    pthread_mutex_t compact_mu;

    pthread_t bg, cbg; /* the cut thread and the compaction thread */
    bool bg_running, cbg_running, stopping, bg_kick;
    pthread_mutex_t bg_mu;
    pthread_cond_t bg_cond;

    /* counters (__atomic) */
    uint64_t c_entries, c_bytes, c_dups, c_cuts, c_compactions, c_compactions_failed, c_corrupt, c_retention;
    uint64_t c_blocks_read, c_blocks_skipped, c_replay_cuts;
};

int64_t logs_now_ns(logs_store_t *s);
/* Count a corrupt chunk or block once per block. */
void logs_count_corrupt(logs_store_t *s, logs_block_t *b, int rc);
/* Referenced snapshot of the blocks overlapping [mint, maxt] (lock held
 * by the caller, shared). */
logs_block_t **logs_blocks_snapshot_locked(logs_store_t *s, int64_t mint, int64_t maxt, uint32_t *n);
void logs_blocks_release(logs_block_t **snap, uint32_t n);
void logs_block_unref(logs_block_t *b);
/* Insert b into the block list in rank order; binds its streams. Write
 * lock held. */
void logs_blocks_add_locked(logs_store_t *s, logs_block_t *b);

/* Cut the heads of the streams due (all when all is set) into one block,
 * then drop the WAL segments no head needs. 0 or LOGS_ERR_IO. maint_mu
 * held. */
int logs_cut(logs_store_t *s, bool all);
/* Merge small blocks of a time window while a plan applies (force: from
 * two blocks on), then drop blocks past retention. 0 or LOGS_ERR_IO.
 * maint_mu held. */
int logs_compact(logs_store_t *s, bool force);
/* Is a cut due (size, age, or total head bytes)? Lock held (shared). */
bool logs_cut_due_locked(logs_store_t *s, int64_t now_ms);

#endif

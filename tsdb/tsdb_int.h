/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tsdb_int.h: private structures and on-disk formats of the metrics store.
 * Only the tsdb sources and tests/unit/tsdb include it.
 */
#ifndef PHAROS_TSDB_INT_H
#define PHAROS_TSDB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#include "tsdb/tsdb.h"

/* ------------------------------------------------------------------ */
/* tsdb_xor.c: the head's append-only chunk, Gorilla/Prometheus XOR.   */
/* ------------------------------------------------------------------ */
/*
 * Bit stream, MSB first:
 *   sample 0: t as 64 raw bits (two's complement), v as 64 raw bits
 *   sample k >= 1: dod = Δt_k - Δt_{k-1}, with Δt_0 = 0 (so sample 1 codes
 *             Δt_1 itself), in buckets of two's-complement fields
 *             '0' (dod 0) | '10'+14b | '110'+17b | '1110'+20b | '1111'+64b;
 *             a w-bit field holds [-2^(w-1), 2^(w-1)); Δt and dod are
 *             computed modulo 2^64, so any strictly increasing int64 works.
 *             Then v XOR the previous value's bits x:
 *               '0'                        x == 0
 *               '10' + bits                x fits the current window: the
 *                                          64-lead-trail bits of x>>trail
 *               '11' + 5b lead + 6b len    new window (lead capped at 31,
 *                    + len bits of x      len 0 means 64; lead+len <= 64)
 *             There is no window before the first '11'; '10' there is corrupt.
 * Values are bit-exact: NaN payloads (StaleNaN), -0.0, ±Inf survive.
 * Timestamps must be strictly increasing within a chunk (the caller keeps
 * out-of-order samples elsewhere); the reader rejects a stream that is not.
 */
typedef struct tsdb_xor {
    uint8_t *data; /* mem_* owned; cap bytes */
    uint32_t cap;
    uint32_t nbits;  /* bits written */
    uint16_t n;      /* samples */
    uint8_t leading; /* previous XOR window */
    uint8_t trailing;
    int64_t t;      /* last timestamp */
    int64_t tdelta; /* last Δt */
    uint64_t vbits; /* last value's bits */
    int64_t t_first;
} tsdb_xor_t;

typedef struct tsdb_xor_iter {
    const uint8_t *data;
    uint32_t nbits;
    uint32_t pos; /* bit position */
    uint16_t n, i;
    uint8_t leading, trailing;
    int64_t t, tdelta;
    uint64_t vbits;
} tsdb_xor_iter_t;

void tsdb_xor_init(tsdb_xor_t *c);
void tsdb_xor_fini(tsdb_xor_t *c);
/* Append (t, v); t must be > the last t (asserted by the caller). Grows
 * data as needed (aborts on OOM). */
void tsdb_xor_append(tsdb_xor_t *c, int64_t t, double v);
/* Shrink data to the bytes used (called when a chunk is closed). */
void tsdb_xor_trim(tsdb_xor_t *c);
/* Bytes held by the chunk's data. */
static inline size_t tsdb_xor_bytes(const tsdb_xor_t *c)
{
    return c->cap;
}
/* Iterate a chunk (borrowing data, nbits, n). */
void tsdb_xor_iter_init(tsdb_xor_iter_t *it, const uint8_t *data, uint32_t nbits, uint16_t n);
/* Next sample: true and (*t, *v) set, or false at the end or on a
 * malformed stream (never reads past nbits). */
bool tsdb_xor_iter_next(tsdb_xor_iter_t *it, int64_t *t, double *v);
/* The value half of the stream alone, for V_XOR block columns: v[0] as 64
 * raw bits, then the XOR codes above, zero-padded to a byte. put appends
 * (n >= 1); get decodes exactly n values from p[0..len) and returns the
 * bytes consumed, or -1 if the stream is short or malformed. O(n) work. */
void tsdb_xor_put_values(buf_t *out, const double *v, size_t n);
long tsdb_xor_get_values(const uint8_t *p, size_t len, double *v, size_t n);

/* ------------------------------------------------------------------ */
/* tsdb_codec.c: block column encodings (before zstd of the page).    */
/* ------------------------------------------------------------------ */
/*
 * A column starts with a kind byte. The row count n is not stored (the
 * block header has it). Integers are LEB128 (uvarint) or zigzag (varint).
 * Timestamps (strictly increasing, n >= 1); deltas are taken modulo 2^64:
 *   TS_STEP:  varint(t0) uvarint(step)            all deltas equal (n==1: 0)
 *   TS_DOD:   varint(t0) uvarint(Δ1) varint(dod_2) … varint(dod_{n-1})
 * Values (n >= 1), bit-exact; the encoder keeps the smallest candidate:
 *   V_CONST:  u64le bits                           all bit patterns equal
 *   V_DEC:    u8 hdr = mode<<6 | (e+22), e in [-22, 22]
 *             uvarint(nexc << 2 | form), nexc <= n/4, form below
 *             nexc × { uvarint(gap) u64le(bits) }   index = prev+1+gap,
 *                                                   prev = -1 at first
 *             varint(m0), then the mantissa M_i of every row i, modulo 2^64:
 *               mode 0 (step):  varint(d) if n >= 2;   M_i = m0 + i·d
 *               mode 1 (delta): M_0 = m0, M_i = M_{i-1} + c_i       (gauges)
 *               mode 2 (dod):   D_0 = 0, D_i = D_{i-1} + c_i,
 *                               M_0 = m0, M_i = M_{i-1} + D_i     (counters)
 *               one code c_i per non-exception row i >= 1; an exception
 *               row stores no code (c_i = 0) and its M_i is ignored
 *             the codes of modes 1 and 2, by form:
 *               0 varint:  varint(c_i) each
 *               1 packed:  varint(min) uvarint(g) u8 width, then
 *                          (c_i - min) / g in width bits each, LSB first
 *               2 rice:    uvarint(g) u8 k, then zigzag(c_i / g) Rice-coded
 *                          with parameter k (quotient in unary: q ones and
 *                          a zero, q < 64; then k bits), LSB first
 *               (mode 0 uses form 0); the encoder keeps the smallest
 *             row value = M_i·10^e as (double)M_i * 1e<e> or (double)M_i /
 *             1e<-e> (powers exact, |M_i| < 2^53: one correct rounding); the
 *             encoder keeps a row only if that reproduces its bits, else it
 *             is an exception (NaN, StaleNaN, ±Inf, -0.0, >15-16 digits).
 *             e maximises the rows kept, then is the largest such.
 *   V_XOR:    tsdb_xor_put_values stream            > n/4 exceptions, or
 *                                                   25% smaller than V_DEC
 * Decoders bound every read by len and validate kind, mode, e, counts,
 * exception order, |M_i| < 2^53 and timestamp order: corrupt input gives -1,
 * never a crash, in O(n + len) work.
 */
enum {
    TSDB_TS_STEP = 1,
    TSDB_TS_DOD = 2,
    TSDB_V_CONST = 1,
    TSDB_V_DEC = 2,
    TSDB_V_XOR = 3,
};

/* Append the encoding of n timestamps (n >= 1, strictly increasing). */
void tsdb_codec_put_ts(buf_t *out, const int64_t *ts, size_t n);
/* Decode exactly n timestamps; returns bytes consumed, or -1 if corrupt. */
long tsdb_codec_get_ts(const uint8_t *p, size_t len, int64_t *ts, size_t n);
/* Append the encoding of n values (n >= 1). */
void tsdb_codec_put_values(buf_t *out, const double *v, size_t n);
/* Decode exactly n values; returns bytes consumed, or -1 if corrupt. */
long tsdb_codec_get_values(const uint8_t *p, size_t len, double *v, size_t n);

/* ------------------------------------------------------------------ */
/* tsdb_series.c: interned label pairs, series table, postings.        */
/* ------------------------------------------------------------------ */
/*
 * Series ids are dense (0..nseries-1), assigned in creation order, and
 * persisted in the series log; postings lists are therefore sorted by
 * appending. A label pair (name=value) is interned once: its id indexes
 * pairs[], and pair_map maps hash(name, value) to it. Each label name has
 * the list of its pairs (for regex matchers and label values).
 */
#include <pthread.h>

#include "common/arena.h"
#include "common/hmap.h"
#include "common/labels.h"
#include "common/matcher.h"
#include "common/reclog.h"
#include "tsdb/tsdb.h"

typedef struct tsdb_ids {
    uint32_t *v;
    uint32_t n, cap;
} tsdb_ids_t;

typedef struct tsdb_name {
    const char *s;
    uint32_t len;
    tsdb_ids_t pairs; /* pair ids with this name */
} tsdb_name_t;

typedef struct tsdb_pair {
    uint32_t name; /* name id */
    uint32_t vlen;
    const char *v;
    tsdb_ids_t postings; /* series ids, sorted */
} tsdb_pair_t;

typedef struct tsdb_ooo {
    tsdb_sample_t *v; /* sorted by t, unique t */
    uint32_t n, cap;
} tsdb_ooo_t;

/* A closed head chunk: immutable, allocated with its data in the arena of
 * its block-range window (tsdb_pool), linked in time order. */
typedef struct tsdb_cchunk {
    struct tsdb_cchunk *next;
    int64_t t_first, t_last;
    uint32_t nbits;
    uint16_t n;
    uint8_t data[];
} tsdb_cchunk_t;

typedef struct tsdb_clist {
    tsdb_cchunk_t *head, *tail;
} tsdb_clist_t;

typedef struct tsdb_series {
    bool has_last; /* last_t/last_bits hold the newest in-order sample */
    uint16_t npairs;
    uint32_t hint; /* bytes of the last closed chunk: sizes the next one */
    int64_t last_t;
    uint64_t last_bits;
    tsdb_xor_t open;       /* the chunk being appended (n may be 0); data in a window arena */
    tsdb_clist_t closed;   /* closed chunks not yet in a block */
    tsdb_clist_t frozen;   /* chunks being written into a block by a cut */
    tsdb_ooo_t ooo;        /* out-of-order samples not yet in a block */
    tsdb_ooo_t ooo_frozen; /* out-of-order samples being written by a cut */
    uint32_t pairs[];      /* pair ids in label-name order */
} tsdb_series_t;

/* ------------------------------------------------------------------ */
/* tsdb_pool.c: memory of head chunks.                                 */
/* ------------------------------------------------------------------ */
/*
 * All chunks of one block-range window leave the head together, at the
 * cut that covers the window. So a chunk (header and bit stream) is
 * bump-allocated in the arena of its window, sized from the series' last
 * closed chunk so that it rarely has to grow; a grown chunk leaves its old
 * buffer behind until the window goes. A cut seals the windows it covers;
 * freeing the sealed arenas releases every chunk of those windows at once,
 * with no per-chunk work and no holes in the heap. Callers hold the
 * store's write lock.
 */
typedef struct tsdb_window_arena {
    int64_t window; /* window start (multiple of the range) */
    arena_t *arena;
} tsdb_window_arena_t;

typedef struct tsdb_pool {
    tsdb_window_arena_t *wins;
    size_t nwins, capwins;
    tsdb_window_arena_t *sealed;
    size_t nsealed, capsealed;
    int64_t range;
} tsdb_pool_t;

void tsdb_pool_init(tsdb_pool_t *p, int64_t range);
void tsdb_pool_fini(tsdb_pool_t *p);
/* Give the open chunk c room for its next sample at time t (its first
 * buffer sized for hint bytes, the size of the series' last chunk). */
void tsdb_pool_reserve(tsdb_pool_t *p, tsdb_xor_t *c, int64_t t, uint32_t hint);
/* Turn the open chunk c into a closed chunk (no copy) and reset c. */
tsdb_cchunk_t *tsdb_pool_close(tsdb_pool_t *p, tsdb_xor_t *c);
/* Seal the window arenas that lie before boundary (all for INT64_MAX):
 * chunks opened later get fresh arenas. */
void tsdb_pool_seal(tsdb_pool_t *p, int64_t boundary);
/* Free the sealed arenas (their chunks were dropped by a publish). */
void tsdb_pool_free_sealed(tsdb_pool_t *p);
/* Bytes held by the window arenas. */
uint64_t tsdb_pool_bytes(const tsdb_pool_t *p);
/* A closed chunk holding a copy of a stored bit stream (replay). */
tsdb_cchunk_t *tsdb_pool_adopt(tsdb_pool_t *p, int64_t t_first, int64_t t_last, uint16_t n, uint32_t nbits,
                               const uint8_t *data);

typedef struct tsdb_index {
    arena_t *strs; /* interned strings */
    tsdb_name_t *names;
    uint32_t nnames, capnames;
    hmap_t name_map;
    tsdb_pair_t *pairs;
    uint32_t npairs, cappairs;
    hmap_t pair_map;
    tsdb_series_t **series;
    uint32_t nseries, capseries;
    hmap_t series_map; /* labels hash -> series id */
    hmap_t fp_map;     /* fp.lo -> (fp.hi >> 32) << 32 | series id */
} tsdb_index_t;

void tsdb_ids_push(tsdb_ids_t *ids, uint32_t v);
void tsdb_ids_fini(tsdb_ids_t *ids);

void tsdb_index_init(tsdb_index_t *ix);
void tsdb_index_fini(tsdb_index_t *ix);
/* Find the series with these (normalized) labels: its id, or -1. */
int64_t tsdb_index_find(const tsdb_index_t *ix, const label_t *ls, size_t n, uint64_t hash);
/* Create a series (the caller checked it does not exist); returns its id.
 * The series lives in the index's arena until the index goes. */
uint32_t tsdb_index_add(tsdb_index_t *ix, const label_t *ls, size_t n, uint64_t hash);
/* Labels of series id as borrowed slices into ls (room for max). */
size_t tsdb_index_labels(const tsdb_index_t *ix, uint32_t id, label_t *ls, size_t max);
/* Fingerprint map (see tsdb_fp_t): the id remembered for fp, or -1. */
int64_t tsdb_index_find_fp(const tsdb_index_t *ix, const tsdb_fp_t *fp);
void tsdb_index_add_fp(tsdb_index_t *ix, const tsdb_fp_t *fp, uint32_t id);
/* Series ids matching all matchers (sorted) into out. Work: the sizes of
 * the postings lists touched plus, for regexes, the values of that name. */
void tsdb_index_select(tsdb_index_t *ix, matcher_t *ms, size_t n, tsdb_ids_t *out);
/* Sorted set operations on id lists. */
void tsdb_ids_intersect(tsdb_ids_t *a, const tsdb_ids_t *b);
void tsdb_ids_subtract(tsdb_ids_t *a, const tsdb_ids_t *b);
void tsdb_ids_union_into(tsdb_ids_t *dst, const tsdb_ids_t *a, const tsdb_ids_t *b);

/* ------------------------------------------------------------------ */
/* tsdb_head.c: per-series in-memory samples.                          */
/* ------------------------------------------------------------------ */
#define TSDB_CHUNK_MAX_SAMPLES 480

typedef enum tsdb_head_res {
    TSDB_HEAD_APPENDED = 0,
    TSDB_HEAD_IDENTICAL, /* same t, same bits: nothing to store */
    TSDB_HEAD_DUPLICATE, /* same t, other value: rejected */
} tsdb_head_res_t;

/* Append one sample to s; chunks are closed at multiples of range_ms and
 * after TSDB_CHUNK_MAX_SAMPLES. Out-of-order samples go to s->ooo. */
tsdb_head_res_t tsdb_head_append(tsdb_series_t *s, tsdb_pool_t *pool, int64_t t, double v);
/* Append samples of s within [mint, maxt] (any source, merged, time
 * order, no duplicates) to ts/vs (grown with mem_realloc; *cap tracks). */
void tsdb_head_read(const tsdb_series_t *s, int64_t mint, int64_t maxt, int64_t **ts, double **vs, size_t *n,
                    size_t *cap);
/* Move chunks and ooo samples with t < boundary into the frozen lists.
 * Returns true if anything was frozen. */
bool tsdb_head_freeze(tsdb_series_t *s, tsdb_pool_t *pool, int64_t boundary);
/* Replay of a checkpoint: add a stored closed chunk, unless the series
 * already holds samples up to its start (replayed from the samples). */
void tsdb_head_add_chunk(tsdb_series_t *s, tsdb_pool_t *pool, int64_t t_first, int64_t t_last, uint16_t n,
                         uint32_t nbits, const uint8_t *data);
/* Forget the frozen lists (their data is now in a published block; the
 * chunk memory goes with the sealed window arenas). */
void tsdb_head_drop_frozen(tsdb_series_t *s);
/* Samples of the frozen lists, merged, into ts/vs as tsdb_head_read. */
void tsdb_head_read_frozen(const tsdb_series_t *s, int64_t **ts, double **vs, size_t *n, size_t *cap);
/* Free what the series holds outside the pool (out-of-order arrays). */
void tsdb_head_series_fini(tsdb_series_t *s);
/* Memory and counts for stats. */
void tsdb_head_series_stats(const tsdb_series_t *s, uint64_t *chunks, uint64_t *samples, uint64_t *bytes);
/* min time of the samples held (INT64_MAX if none). */
int64_t tsdb_head_series_mint(const tsdb_series_t *s);

/* Merge two sorted sample runs into out (first wins on equal t). */
void tsdb_merge_samples(const int64_t *ta, const double *va, size_t na, const int64_t *tb, const double *vb, size_t nb,
                        int64_t **ts, double **vs, size_t *n, size_t *cap);

/* ------------------------------------------------------------------ */
/* tsdb_block.c: immutable columnar block files.                       */
/* ------------------------------------------------------------------ */
/*
 * One file per block, blocks/<seq as 16 hex digits>.blk, written as .tmp,
 * fsynced and renamed. Little-endian:
 *
 *   | offset         | size | field                                    |
 *   |----------------|------|------------------------------------------|
 *   | 0              | 8    | magic "PHRSBLK1"                         |
 *   | 8              | …    | pages: each one zstd frame               |
 *   | index_off      | …    | index: one zstd frame                    |
 *   | size - 40      | 8    | u64 index_off                            |
 *   | size - 32      | 4    | u32 index_len (compressed)               |
 *   | size - 28      | 4    | u32 crc32c of the compressed index       |
 *   | size - 24      | 8    | i64 mint                                 |
 *   | size - 16      | 8    | i64 maxt                                 |
 *   | size - 8       | 8    | magic "PHRSEND1"                         |
 *
 * Index payload (varints): version(1) level nseries nsamples npages, then
 * per page: file_off comp_len raw_len crc32c(u32le, of the compressed
 * frame); then per series, ids ascending: id_delta page off_in_page n
 * zigzag(mint) (maxt - mint). A page payload is the concatenation, per
 * series, of its timestamp column then its value column (tsdb_codec).
 * Series ids are the store's global ids (the series log maps them to
 * labels), so a block holds no label strings.
 */
#define TSDB_BLOCK_MAGIC "PHRSBLK1"
#define TSDB_BLOCK_END "PHRSEND1"
#define TSDB_BLOCK_FOOTER 40
#define TSDB_PAGE_TARGET (256 * 1024)
#define TSDB_BLOCK_MAX_SAMPLES_PER_SERIES (1u << 26)
/* A page holds whole series: the largest the writer can make is one series
 * at the sample limit (< 20 bytes a sample before zstd). */
#define TSDB_PAGE_MAX_RAW (TSDB_BLOCK_MAX_SAMPLES_PER_SERIES * 20u + TSDB_PAGE_TARGET)

typedef struct tsdb_page_ref {
    uint64_t off;
    uint32_t clen, rlen, crc;
} tsdb_page_ref_t;

typedef struct tsdb_block {
    char *path;
    uint64_t seq;
    int fd;
    const uint8_t *map;
    size_t size;
    int64_t mint, maxt;
    uint32_t level;
    uint32_t nseries;
    uint64_t nsamples;
    uint32_t npages;
    tsdb_page_ref_t *pages;
    uint32_t *ids;  /* ascending */
    uint32_t *page; /* per series */
    uint32_t *off;
    uint32_t *cnt;
    int64_t *smint, *smaxt;
    int refs;      /* guarded by the store's block lock */
    bool doomed;   /* unlink when the last reference goes */
    bool no_merge; /* a merge with it would exceed a limit: plans skip it */
} tsdb_block_t;

/* tsdb_pcache.c: decoded pages shared by readers (see its comment). */
typedef struct tsdb_pcache tsdb_pcache_t;
/* budget: bytes of decoded pages kept (a page in use is never freed). */
tsdb_pcache_t *tsdb_pcache_create(size_t budget);
void tsdb_pcache_destroy(tsdb_pcache_t *c);
/* Page `page` (< b->npages) of b, CRC-checked and decompressed into out
 * (reset first; [out] out->len is the page's raw length). 0, or
 * TSDB_ERR_CORRUPT when the CRC, zstd or the length disagrees. */
int tsdb_pcache_decode(const tsdb_block_t *b, uint32_t page, buf_t *out);
/* Decoded page `page` of b ([out] *data, *len), held until
 * tsdb_pcache_put(*handle). 0, or TSDB_ERR_CORRUPT (CRC or zstd). */
int tsdb_pcache_get(tsdb_pcache_t *c, const tsdb_block_t *b, uint32_t page, const uint8_t **data, size_t *len,
                    uint32_t *handle);
void tsdb_pcache_put(tsdb_pcache_t *c, uint32_t handle);
void tsdb_pcache_stats(tsdb_pcache_t *c, uint64_t *hits, uint64_t *misses, uint64_t *bytes);

/* A reader's current page of one block: from the shared cache when
 * shared is set (queries), else decoded into raw (compaction). */
typedef struct tsdb_page_cache {
    const tsdb_block_t *block;
    uint32_t page;
    tsdb_pcache_t *shared;
    uint32_t handle;
    bool held;
    const uint8_t *data;
    size_t len;
    buf_t raw;
    int64_t *ts; /* scratch for decoding */
    double *vs;
    size_t cap;
} tsdb_page_cache_t;

typedef struct tsdb_block_writer tsdb_block_writer_t;

/* Start a block file in dir. 0 or -errno. */
int tsdb_block_writer_open(const char *dir, uint64_t seq, uint32_t level, int zlevel, tsdb_block_writer_t **out);
/* Add one series (ids strictly ascending, n >= 1, ts increasing). 0 or -errno. */
int tsdb_block_writer_add(tsdb_block_writer_t *w, uint32_t id, const int64_t *ts, const double *vs, size_t n);
/* Write the index and footer, fsync, rename, open the result. With no
 * series added, removes the file and sets *out NULL. 0 or -errno. */
int tsdb_block_writer_finish(tsdb_block_writer_t *w, tsdb_block_t **out);
/* Remove the partial file and free. NULL ok. */
void tsdb_block_writer_abort(tsdb_block_writer_t *w);

/* Open and validate a block file. 0, or TSDB_ERR_CORRUPT / TSDB_ERR_IO
 * with a reason. */
int tsdb_block_open(const char *path, uint64_t seq, tsdb_block_t **out, char *err, size_t errlen);
/* Unmap and free (and unlink when doomed). NULL ok. */
void tsdb_block_free(tsdb_block_t *b);
/* Position of series id in the block, or -1. */
int64_t tsdb_block_find(const tsdb_block_t *b, uint32_t id);
/* Samples of the series at position idx within [mint, maxt] appended to
 * ts/vs (as tsdb_head_read). 0, or TSDB_ERR_CORRUPT. */
int tsdb_block_read(const tsdb_block_t *b, uint32_t idx, tsdb_page_cache_t *pc, int64_t mint, int64_t maxt,
                    int64_t **ts, double **vs, size_t *n, size_t *cap);
void tsdb_page_cache_fini(tsdb_page_cache_t *pc);

/* ------------------------------------------------------------------ */
/* tsdb_wal.c: records of the WAL and of the series log (reclog).      */
/* ------------------------------------------------------------------ */
/*
 * Every record starts with a type byte.
 *   SAMPLES (1): uvarint count, then per sample uvarint series id,
 *                varint (t - previous t in the record, starting at 0),
 *                u64le value bits.
 *   SERIES  (2): uvarint count, then per series uvarint id, uvarint len,
 *                canonical label bytes (labels_encode).
 *   META    (3): uvarint type, then three uvarint-length strings:
 *                family, help, unit.
 *   CHUNKS  (4): a head checkpoint (written at a clean stop): uvarint
 *                count, then per series uvarint id, u8 has_last,
 *                varint last_t, u64le last_bits, uvarint nchunks, and per
 *                chunk varint t_first, uvarint (t_last - t_first),
 *                uvarint n, uvarint nbits, the (nbits+7)/8 XOR bytes.
 *   ZSTD    (9): a zstd frame whose content is one record of the above.
 * The WAL holds SAMPLES; the series log holds SERIES and META. Records
 * over 4 KiB are written as ZSTD.
 */
enum {
    TSDB_REC_SAMPLES = 1,
    TSDB_REC_SERIES = 2,
    TSDB_REC_META = 3,
    TSDB_REC_CHUNKS = 4,
    TSDB_REC_ZSTD = 9,
};
#define TSDB_REC_COMPRESS_MIN 4096
#define TSDB_REC_MAX_RAW (64u << 20)

typedef struct tsdb_rec_visitor {
    void *ctx;
    void (*sample)(void *ctx, uint32_t id, int64_t t, double v);
    void (*series)(void *ctx, uint32_t id, const uint8_t *labels, size_t len);
    void (*meta)(void *ctx, int type, str_t family, str_t help, str_t unit);
    void (*last)(void *ctx, uint32_t id, bool has_last, int64_t last_t, uint64_t last_bits);
    void (*chunk)(void *ctx, uint32_t id, int64_t t_first, int64_t t_last, uint16_t n, uint32_t nbits,
                  const uint8_t *data);
} tsdb_rec_visitor_t;

/* Builders: start a record, add entries, then finish (which may replace
 * the content by its ZSTD form). */
void tsdb_rec_begin(buf_t *rec, int type);
void tsdb_rec_add_sample(buf_t *rec, int64_t *prev_t, uint32_t id, int64_t t, double v);
void tsdb_rec_add_series(buf_t *rec, uint32_t id, const uint8_t *labels, size_t len);
/* Patch the count (kept as a fixed 5-byte varint after the type) and
 * compress when large; scratch is reused. */
void tsdb_rec_finish(buf_t *rec, uint32_t count, buf_t *scratch);
void tsdb_rec_meta(buf_t *rec, int type, str_t family, str_t help, str_t unit);
/* Add one series' head to a CHUNKS record: its last-sample state and its
 * chunks (closed list first, then the open chunk). */
void tsdb_rec_add_head(buf_t *rec, uint32_t id, const tsdb_series_t *s);
/* Decode one record and call the visitor. 0, or -1 if malformed (nothing
 * after the malformed entry is visited). */
int tsdb_rec_decode(const uint8_t *p, size_t len, const tsdb_rec_visitor_t *v);

/* ------------------------------------------------------------------ */
/* tsdb.c / tsdb_compact.c: the store.                                 */
/* ------------------------------------------------------------------ */
/*
 * Locks, in order: cut_mu (one cut at a time) → compact_mu (one compaction
 * at a time) → lock (index and head; readers share it) → blocks_mu (the
 * block list and refs). Cuts and compactions run on two threads so that a
 * long merge never holds the head back.
 *
 * WAL truncation: the WAL is divided into epochs, each starting at the
 * segment a cut rolled to, with the newest sample time appended in it.
 * After a cut at boundary B is durable, the oldest epochs whose newest
 * sample is < B are deleted. The cut marks (B, first segment after the
 * cut) are kept in the file "head.marks" (text, one "B seg" per line,
 * replaced atomically) so that replay skips the samples of segments
 * before seg that are older than B: they are already in blocks.
 */
typedef struct tsdb_epoch {
    uint32_t seg;
    int64_t maxt;
} tsdb_epoch_t;

typedef struct tsdb_mark {
    int64_t boundary;
    uint32_t seg;
} tsdb_mark_t;

/* Metadata bounds: families kept, and the longest family, help or unit. */
#define TSDB_META_MAX_FAMILIES 100000
#define TSDB_META_MAX_TEXT 4096
#define TSDB_META_MAX_TYPE 16

typedef struct tsdb_meta_entry {
    char *family;
    char *help;
    char *unit;
    int type;
} tsdb_meta_entry_t;

struct tsdb {
    tsdb_opts_t o;
    tsdb_pool_t pool; /* head chunk memory, under lock */
    char *dir, *wal_dir, *series_dir, *blocks_dir, *marks_path;
    pthread_rwlock_t lock;
    tsdb_index_t ix;
    int64_t head_maxt;    /* newest sample time accepted (INT64_MIN: none) */
    int64_t cut_boundary; /* data before this was cut (except later ooo) */
    reclog_t *wal;
    reclog_t *slog;
    uint64_t slog_bytes_at_rewrite;
    tsdb_epoch_t *epochs;
    uint32_t nepochs, capepochs;
    tsdb_mark_t *marks;
    uint32_t nmarks, capmarks;
    buf_t rec, series_rec, scratch; /* append scratch, under lock */

    tsdb_pcache_t *pcache; /* decoded pages for queries */

    pthread_mutex_t blocks_mu;
    tsdb_block_t **blocks;
    uint32_t nblocks, capblocks;
    uint64_t next_seq;

    pthread_mutex_t cut_mu;     /* one cut at a time */
    pthread_mutex_t compact_mu; /* one compaction or retention pass at a time */

    pthread_mutex_t meta_mu;
    hmap_t meta_map; /* hash(family) -> index into meta */
    tsdb_meta_entry_t *meta;
    uint32_t nmeta, capmeta;

    pthread_t bg;        /* cuts the head when due */
    pthread_t compactor; /* compacts and applies retention after cuts */
    bool bg_running;
    bool compact_pending;
    bool loaded; /* open completed: a clean close checkpoints the head */
    bool stopping;
    pthread_mutex_t bg_mu;
    pthread_cond_t bg_cond;
    pthread_cond_t compact_cond;

    /* counters (atomics via __atomic builtins) */
    uint64_t c_appended;
    uint64_t c_rejected[TSDB_REJ_COUNT];
    uint64_t c_compactions, c_compactions_failed, c_cuts, c_corrupt_blocks, c_retention;
    uint64_t c_replay_cuts;
};

/* The boundary a regular cut may use now (whole block ranges lying more
 * than TSDB_CUT_MARGIN, at most half a range, behind the newest sample,
 * past the last cut), or INT64_MIN. */
int64_t tsdb_due_boundary(tsdb_t *db);
/* Cut the head before boundary into a level-0 block. 0 or TSDB_ERR_IO. */
int tsdb_cut(tsdb_t *db, int64_t boundary);
/* Merge blocks while a plan applies, then apply retention. 0 or TSDB_ERR_IO. */
int tsdb_compact(tsdb_t *db);
/* Block list helpers (blocks_mu held by the caller for add/remove). */
void tsdb_blocks_add_locked(tsdb_t *db, tsdb_block_t *b);
void tsdb_block_unref(tsdb_t *db, tsdb_block_t *b);
/* Referenced snapshot of the blocks overlapping [mint, maxt], in seq order. */
tsdb_block_t **tsdb_blocks_snapshot(tsdb_t *db, int64_t mint, int64_t maxt, uint32_t *n);
void tsdb_blocks_release(tsdb_t *db, tsdb_block_t **snap, uint32_t n);
/* Persist the cut marks; 0 or -errno. */
int tsdb_marks_save(tsdb_t *db);
/* At a clean stop (no writers): write the head to a new WAL segment as
 * CHUNKS records and drop the older segments, so the next start loads
 * chunks instead of replaying samples. 0 or -errno. */
int tsdb_checkpoint(tsdb_t *db);
/* Rewrite the series log as compressed batches; caller holds cut_mu. */
int tsdb_series_log_rewrite(tsdb_t *db);
/* Append samples of id from a block snapshot, merged first-wins, into
 * ts/vs (starting from *n == 0). Counts corrupt pages in db stats. */
void tsdb_read_blocks(tsdb_t *db, tsdb_block_t **bl, uint32_t nb, tsdb_page_cache_t *pcs, uint32_t id, int64_t mint,
                      int64_t maxt, int64_t **ts, double **vs, size_t *n, size_t *cap);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logs_block: writer and reader of the immutable block files drawn in
 * logs_int.h.
 *
 * The writer takes streams one after the other and each stream's rows in
 * time order, cutting a chunk whenever its line bytes reach the target:
 * per chunk a trigram filter, then timestamps and line lengths, line
 * bytes and metadata as separate zstd frames (columns compress better
 * apart than interleaved). The index, written last, names every stream by
 * its labels, so a block is readable without any other file.
 *
 * The reader keeps the file descriptor and the decoded index; chunk bytes
 * are read with pread on demand (no mapping: a file damaged under us is
 * an error, never SIGBUS). Every length, offset and count read from the
 * file is bounded before use and every chunk part is CRC-checked, so a
 * corrupt block yields LOGS_ERR_CORRUPT, never a crash or an overread.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/compress.h"
#include "common/crc32c.h"
#include "common/fileio.h"
#include "common/mem.h"
#include "common/varint.h"
#include "logs/logs_int.h"

typedef struct logs_wstream {
    size_t labels_off, labels_len; /* in w->labels */
    uint64_t cover;
    uint32_t nchunks;
} logs_wstream_t;

struct logs_block_writer {
    char *tmp_path, *final_path, *dir;
    uint64_t seq, rank;
    uint32_t level;
    int fd;
    int zlevel;
    size_t chunk_raw;
    uint64_t off;
    /* the chunk being filled */
    int64_t *ts;
    uint32_t *lens;
    size_t n, cap;
    buf_t lines, meta;
    bool has_meta;
    logs_filter_builder_t fb;
    /* its frames: closed ones, then the open one from fr_row0/fr_off0 */
    logs_frame_ref_t fr[LOGS_CHUNK_MAX_FRAMES];
    uint32_t nframes;
    size_t fr_row0, fr_off0;
    /* scratch */
    buf_t filter, cols, cols0, comp;
    compress_zctx_t zctx; /* one zstd context for every frame */
    /* index */
    buf_t labels, chunks;
    logs_wstream_t *streams;
    uint32_t nstreams, capstreams, nchunks;
    int64_t mint, maxt;
};

/* fileio_pread_all with the store's codes: a file shorter than its index
 * says is corrupt, anything else an I/O error. */
static int logs_pread_all(int fd, void *p, size_t n, uint64_t off)
{
    int rc = fileio_pread_all(fd, p, n, off);
    return rc == 0 ? 0 : rc == -ENODATA ? LOGS_ERR_CORRUPT : LOGS_ERR_IO;
}

static void logs_put_u32le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static uint32_t logs_get_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t logs_get_u64le(const uint8_t *p)
{
    return (uint64_t)logs_get_u32le(p) | (uint64_t)logs_get_u32le(p + 4) << 32;
}

static char *logs_block_path(const char *dir, uint64_t seq, const char *suffix)
{
    size_t len = strlen(dir) + 40;
    char *p = mem_alloc(len);
    snprintf(p, len, "%s/%016llx.lblk%s", dir, (unsigned long long)seq, suffix);
    return p;
}

int logs_block_writer_open(const char *dir, uint64_t seq, uint64_t rank, uint32_t level, int zlevel, size_t chunk_raw,
                           logs_block_writer_t **out)
{
    logs_block_writer_t *w = mem_calloc(1, sizeof(*w));
    w->dir = mem_strdup(dir);
    w->tmp_path = logs_block_path(dir, seq, ".tmp");
    w->final_path = logs_block_path(dir, seq, "");
    w->seq = seq;
    w->rank = rank;
    w->level = level;
    w->zlevel = zlevel;
    w->chunk_raw = chunk_raw ? chunk_raw : LOGS_DEFAULT_BLOCK_BYTES;
    if (w->chunk_raw > (size_t)LOGS_FRAME_RAW * LOGS_CHUNK_MAX_FRAMES) {
        w->chunk_raw = (size_t)LOGS_FRAME_RAW * LOGS_CHUNK_MAX_FRAMES;
    }
    w->mint = INT64_MAX;
    w->maxt = INT64_MIN;
    logs_filter_builder_init(&w->fb);
    w->fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = w->fd < 0 ? -errno : fileio_write_all(w->fd, LOGS_BLOCK_MAGIC, 8);
    if (rc != 0) {
        logs_block_writer_abort(w);
        *out = NULL;
        return rc;
    }
    w->off = 8;
    *out = w;
    return 0;
}

/* Add w->comp to *crc and write it (nothing when empty). 0 or -errno. */
static int logs_writer_put_comp(logs_block_writer_t *w, uint32_t *crc)
{
    *crc = crc32c(*crc, w->comp.data, w->comp.len);
    return w->comp.len ? fileio_write_all(w->fd, w->comp.data, w->comp.len) : 0;
}

/* Compress src into w->comp (reset) unless empty; write it. */
static int logs_writer_frame(logs_block_writer_t *w, const buf_t *src, uint32_t *len, uint32_t *crc)
{
    buf_reset(&w->comp);
    if (src->len > 0) {
        compress_zstd_prefix(&w->zctx, src->data, src->len, w->zlevel, NULL, 0, &w->comp);
    }
    *len = (uint32_t)w->comp.len;
    return logs_writer_put_comp(w, crc);
}

/* Close the open frame of the chunk (if it has rows): its filter is
 * appended to w->filter. */
static void logs_writer_close_frame(logs_block_writer_t *w)
{
    if (w->n == w->fr_row0) {
        return;
    }
    size_t before = w->filter.len;
    logs_filter_finish(&w->fb, &w->filter);
    w->fr[w->nframes++] = (logs_frame_ref_t){ .rows = (uint32_t)(w->n - w->fr_row0),
                                              .raw = (uint32_t)(w->lines.len - w->fr_off0),
                                              .flen = (uint32_t)(w->filter.len - before) };
    w->fr_row0 = w->n;
    w->fr_off0 = w->lines.len;
}

/* Compress and write the chunk's frames: frame 0 alone, every other one
 * with frame 0's bytes as its zstd prefix. [out] *llen, crc updated. */
static int logs_writer_frames(logs_block_writer_t *w, uint32_t *llen, uint32_t *crc)
{
    size_t off = 0;
    *llen = 0;
    for (uint32_t f = 0; f < w->nframes; f++) {
        logs_frame_ref_t *fr = &w->fr[f];
        buf_reset(&w->comp);
        if (fr->raw > 0) {
            compress_zstd_prefix(&w->zctx, w->lines.data + off, fr->raw, w->zlevel, w->lines.data, f ? w->fr[0].raw : 0,
                                 &w->comp);
        }
        fr->clen = (uint32_t)w->comp.len;
        int rc = logs_writer_put_comp(w, crc);
        if (rc != 0) {
            return rc;
        }
        *llen += fr->clen;
        off += fr->raw;
    }
    return 0;
}

/* Write the pending chunk of the current stream. */
static int logs_writer_chunk(logs_block_writer_t *w)
{
    if (w->n == 0) {
        return 0;
    }
    logs_writer_close_frame(w);
    uint64_t off = w->off;
    int rc = fileio_write_all(w->fd, w->filter.data, w->filter.len);
    uint32_t fcrc = crc32c(0, w->filter.data, w->filter.len);
    uint32_t clen = 0, llen = 0, mlen = 0, dcrc = 0;
    /* Columns per frame, so a read of some frames decodes only theirs. */
    size_t row0 = 0;
    for (uint32_t f = 0; f < w->nframes && rc == 0; f++) {
        size_t end = row0 + w->fr[f].rows;
        buf_reset(&w->cols);
        buf_put_varint(&w->cols, w->ts[row0]);
        uint64_t prev_dt = 0;
        for (size_t i = row0 + 1; i < end; i++) {
            uint64_t dt = (uint64_t)w->ts[i] - (uint64_t)w->ts[i - 1]; /* sorted: 0 <= dt < 2^63 */
            if (i == row0 + 1) {
                buf_put_uvarint(&w->cols, dt);
            } else {
                buf_put_varint(&w->cols, (int64_t)(dt - prev_dt)); /* delta of deltas */
            }
            prev_dt = dt;
        }
        for (size_t i = row0; i < end; i++) {
            buf_put_uvarint(&w->cols, w->lens[i]);
        }
        /* Frame 0's columns are the others' zstd prefix, as for lines. */
        buf_reset(&w->comp);
        compress_zstd_prefix(&w->zctx, w->cols.data, w->cols.len, w->zlevel, w->cols0.data, f ? w->cols0.len : 0,
                             &w->comp);
        w->fr[f].cols = (uint32_t)w->comp.len;
        rc = logs_writer_put_comp(w, &dcrc);
        if (f == 0) {
            buf_reset(&w->cols0);
            buf_append(&w->cols0, w->cols.data, w->cols.len);
        }
        clen += w->fr[f].cols;
        row0 = end;
    }
    if (rc == 0) {
        rc = logs_writer_frames(w, &llen, &dcrc);
    }
    if (rc == 0 && w->has_meta) {
        rc = logs_writer_frame(w, &w->meta, &mlen, &dcrc);
    }
    if (rc != 0) {
        return rc;
    }
    w->off += w->filter.len + clen + llen + mlen;
    int64_t mint = w->ts[0], maxt = w->ts[w->n - 1];
    buf_put_varint(&w->chunks, mint);
    buf_put_uvarint(&w->chunks, (uint64_t)maxt - (uint64_t)mint);
    buf_put_uvarint(&w->chunks, w->n);
    buf_put_uvarint(&w->chunks, w->lines.len);
    buf_put_uvarint(&w->chunks, off);
    buf_put_uvarint(&w->chunks, w->filter.len);
    buf_put_uvarint(&w->chunks, clen);
    buf_put_uvarint(&w->chunks, llen);
    buf_put_uvarint(&w->chunks, mlen);
    buf_put_u32le(&w->chunks, fcrc);
    buf_put_u32le(&w->chunks, dcrc);
    buf_put_uvarint(&w->chunks, w->nframes);
    for (uint32_t f = 0; f < w->nframes; f++) {
        buf_put_uvarint(&w->chunks, w->fr[f].rows);
        buf_put_uvarint(&w->chunks, w->fr[f].cols);
        buf_put_uvarint(&w->chunks, w->fr[f].raw);
        buf_put_uvarint(&w->chunks, w->fr[f].flen);
        buf_put_uvarint(&w->chunks, w->fr[f].clen);
    }
    w->streams[w->nstreams - 1].nchunks++;
    w->nchunks++;
    w->mint = mint < w->mint ? mint : w->mint;
    w->maxt = maxt > w->maxt ? maxt : w->maxt;
    w->n = 0;
    buf_reset(&w->lines);
    buf_reset(&w->meta);
    buf_reset(&w->filter);
    w->has_meta = false;
    w->nframes = 0;
    w->fr_row0 = 0;
    w->fr_off0 = 0;
    return 0;
}

int logs_block_writer_stream(logs_block_writer_t *w, const label_t *ls, size_t n, uint64_t cover)
{
    int rc = logs_writer_chunk(w); /* the previous stream's last chunk */
    if (rc != 0) {
        return rc;
    }
    if (w->nstreams == w->capstreams) {
        w->capstreams = w->capstreams ? w->capstreams * 2 : 64;
        w->streams = mem_realloc(w->streams, w->capstreams * sizeof(logs_wstream_t));
    }
    size_t at = w->labels.len;
    labels_encode(ls, n, &w->labels);
    w->streams[w->nstreams++] = (logs_wstream_t){ at, w->labels.len - at, cover, 0 };
    return 0;
}

int logs_block_writer_add(logs_block_writer_t *w, const logs_row_t *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (w->n == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 1024;
            w->ts = mem_realloc(w->ts, w->cap * sizeof(int64_t));
            w->lens = mem_realloc(w->lens, w->cap * sizeof(uint32_t));
        }
        w->ts[w->n] = rows[i].ts;
        w->lens[w->n] = (uint32_t)rows[i].line.len;
        w->n++;
        buf_append(&w->lines, rows[i].line.p, rows[i].line.len);
        buf_put_uvarint(&w->meta, rows[i].meta.len);
        buf_append(&w->meta, rows[i].meta.p, rows[i].meta.len);
        w->has_meta |= rows[i].meta.len > 0;
        logs_filter_add(&w->fb, rows[i].line.p, rows[i].line.len);
        if (w->lines.len - w->fr_off0 >= (w->nframes ? LOGS_FRAME_RAW : LOGS_FRAME0_RAW)) {
            logs_writer_close_frame(w);
        }
        if (w->lines.len >= w->chunk_raw || w->n >= LOGS_CHUNK_MAX_ROWS || w->nframes == LOGS_CHUNK_MAX_FRAMES) {
            int rc = logs_writer_chunk(w);
            if (rc != 0) {
                return rc;
            }
        }
    }
    return 0;
}

int logs_block_writer_finish(logs_block_writer_t *w, logs_block_t **out)
{
    *out = NULL;
    int rc = logs_writer_chunk(w);
    if (rc != 0) {
        logs_block_writer_abort(w);
        return rc;
    }
    if (w->nchunks == 0) {
        logs_block_writer_abort(w);
        return 0;
    }
    buf_t ix = { 0 };
    buf_put_uvarint(&ix, 1);
    buf_put_uvarint(&ix, w->rank);
    buf_put_uvarint(&ix, w->level);
    buf_put_uvarint(&ix, w->nstreams);
    buf_put_uvarint(&ix, w->nchunks);
    for (uint32_t i = 0; i < w->nstreams; i++) {
        const logs_wstream_t *s = &w->streams[i];
        buf_put_uvarint(&ix, s->labels_len);
        buf_append(&ix, w->labels.data + s->labels_off, s->labels_len);
        buf_put_uvarint(&ix, s->cover);
        buf_put_uvarint(&ix, s->nchunks);
    }
    buf_append(&ix, w->chunks.data, w->chunks.len);
    buf_reset(&w->comp);
    compress_zstd(ix.data, ix.len, 3, &w->comp);
    buf_fini(&ix);
    uint8_t foot[LOGS_BLOCK_FOOTER];
    uint64_t ioff = w->off;
    for (int i = 0; i < 8; i++) {
        foot[i] = (uint8_t)(ioff >> (8 * i));
        foot[16 + i] = (uint8_t)((uint64_t)w->mint >> (8 * i));
        foot[24 + i] = (uint8_t)((uint64_t)w->maxt >> (8 * i));
    }
    logs_put_u32le(foot + 8, (uint32_t)w->comp.len);
    logs_put_u32le(foot + 12, crc32c(0, w->comp.data, w->comp.len));
    memcpy(foot + 32, LOGS_BLOCK_END, 8);
    rc = fileio_write_all(w->fd, w->comp.data, w->comp.len);
    if (rc == 0) {
        rc = fileio_write_all(w->fd, foot, sizeof(foot));
    }
    if (rc == 0) {
        rc = fileio_publish(w->fd, w->tmp_path, w->final_path, w->dir);
    }
    if (rc != 0) {
        logs_block_writer_abort(w);
        return rc;
    }
    char err[256];
    int orc = logs_block_open(w->final_path, w->seq, out, err, sizeof(err));
    if (orc != 0) {
        unlink(w->final_path);
        rc = orc == LOGS_ERR_IO ? -EIO : -EINVAL;
    }
    mem_free(w->tmp_path);
    w->tmp_path = NULL; /* renamed: nothing to remove */
    logs_block_writer_abort(w);
    return rc;
}

void logs_block_writer_abort(logs_block_writer_t *w)
{
    if (!w) {
        return;
    }
    if (w->fd >= 0) {
        close(w->fd);
    }
    if (w->tmp_path) {
        unlink(w->tmp_path);
    }
    mem_free(w->tmp_path);
    mem_free(w->final_path);
    mem_free(w->dir);
    mem_free(w->ts);
    mem_free(w->lens);
    buf_fini(&w->lines);
    buf_fini(&w->meta);
    buf_fini(&w->filter);
    buf_fini(&w->cols);
    buf_fini(&w->cols0);
    buf_fini(&w->comp);
    compress_zctx_fini(&w->zctx);
    buf_fini(&w->labels);
    buf_fini(&w->chunks);
    mem_free(w->streams);
    logs_filter_builder_fini(&w->fb);
    mem_free(w);
}

/* ---- reader ---- */

typedef struct logs_rd {
    const uint8_t *p;
    size_t len, pos;
    bool bad;
} logs_rd_t;

static uint64_t logs_rd_u(logs_rd_t *r)
{
    uint64_t v = 0;
    size_t n = r->bad ? 0 : varint_get_u64(r->p + r->pos, r->len - r->pos, &v);
    if (n == 0) {
        r->bad = true;
        return 0;
    }
    r->pos += n;
    return v;
}

static uint32_t logs_rd_u32(logs_rd_t *r, uint64_t max)
{
    uint64_t v = logs_rd_u(r);
    if (v > max) {
        r->bad = true;
        return 0;
    }
    return (uint32_t)v;
}

static uint32_t logs_rd_fixed32(logs_rd_t *r)
{
    if (r->bad || r->len - r->pos < 4) {
        r->bad = true;
        return 0;
    }
    uint32_t v = logs_get_u32le(r->p + r->pos);
    r->pos += 4;
    return v;
}

/* Read chunk k's frame table into b->frames (grown as needed): 1 to
 * LOGS_CHUNK_MAX_FRAMES frames whose rows, line bytes, filter and zstd
 * bytes add up to the chunk's, none empty of rows, and zstd bytes only
 * for frames with line bytes. 0 or -1. */
static int logs_block_parse_frames(logs_block_t *b, logs_rd_t *r, logs_chunk_ref_t *k, uint32_t *cap)
{
    uint32_t nf = logs_rd_u32(r, LOGS_CHUNK_MAX_FRAMES);
    if (r->bad || nf == 0) {
        return -1;
    }
    k->frame0 = b->nframes_total;
    k->nframes = nf;
    if (b->nframes_total + nf > *cap) {
        *cap = (*cap ? *cap * 2 : 64) + nf;
        b->frames = mem_realloc(b->frames, *cap * sizeof(logs_frame_ref_t));
    }
    uint64_t rows = 0, cols = 0, raw = 0, flen = 0, clen = 0;
    for (uint32_t f = 0; f < nf; f++) {
        logs_frame_ref_t *fr = &b->frames[b->nframes_total++];
        fr->rows = logs_rd_u32(r, LOGS_CHUNK_MAX_ROWS);
        fr->cols = logs_rd_u32(r, UINT32_MAX);
        fr->raw = logs_rd_u32(r, LOGS_CHUNK_MAX_RAW);
        fr->flen = logs_rd_u32(r, UINT32_MAX);
        fr->clen = logs_rd_u32(r, UINT32_MAX);
        if (r->bad || fr->rows == 0 || fr->cols == 0 || (fr->raw > 0) != (fr->clen > 0)) {
            return -1;
        }
        cols += fr->cols;
        rows += fr->rows;
        raw += fr->raw;
        flen += fr->flen;
        clen += fr->clen;
    }
    return rows == k->n && cols == k->clen && raw == k->raw_bytes && flen == k->flen && clen == k->llen ? 0 : -1;
}

/* The fewest index bytes of a stream entry (len, labels, cover, nchunks)
 * and of a chunk entry (nine uvarints, two u32le, nframes, one frame). */
#define LOGS_IX_MIN_STREAM 4
#define LOGS_IX_MIN_CHUNK 23

/* Parse the index payload into b. 0 or -1 with a reason. */
static int logs_block_parse_index(logs_block_t *b, size_t ilen, uint64_t index_off, char *why, size_t whylen)
{
    logs_rd_t r = { b->index, ilen, 0, false };
    uint64_t version = logs_rd_u(&r);
    b->rank = logs_rd_u(&r);
    b->level = logs_rd_u32(&r, 1);
    b->nstreams = logs_rd_u32(&r, ilen);
    b->nchunks = logs_rd_u32(&r, ilen);
    /* Every stream takes at least LOGS_IX_MIN_STREAM bytes of the index and
     * every chunk LOGS_IX_MIN_CHUNK: bound the counts by what is left before
     * allocating their tables (a small zstd frame can inflate to 256 MiB). */
    if (r.bad || version != 1 || b->nstreams == 0 || b->nchunks == 0 ||
        (uint64_t)b->nstreams * LOGS_IX_MIN_STREAM + (uint64_t)b->nchunks * LOGS_IX_MIN_CHUNK > r.len - r.pos) {
        snprintf(why, whylen, "bad index header");
        return -1;
    }
    b->streams = mem_calloc(b->nstreams, sizeof(logs_bstream_t));
    b->chunks = mem_calloc(b->nchunks, sizeof(logs_chunk_ref_t));
    b->by_gid = mem_calloc(b->nstreams, sizeof(uint32_t));
    uint64_t first = 0;
    for (uint32_t i = 0; i < b->nstreams && !r.bad; i++) {
        logs_bstream_t *s = &b->streams[i];
        uint64_t ll = logs_rd_u(&r);
        if (r.bad || ll > r.len - r.pos) {
            r.bad = true;
            break;
        }
        s->labels = r.p + r.pos;
        s->labels_len = (size_t)ll;
        r.pos += (size_t)ll;
        label_t tmp[128];
        if (labels_decode(s->labels, s->labels_len, tmp, 128) <= 0) {
            r.bad = true;
            break;
        }
        s->cover = logs_rd_u(&r);
        s->nchunks = logs_rd_u32(&r, b->nchunks);
        s->first = (uint32_t)first;
        first += s->nchunks;
        s->gid = UINT32_MAX;
    }
    if (r.bad || first != b->nchunks) {
        snprintf(why, whylen, "bad stream table");
        return -1;
    }
    uint32_t stream = 0;
    uint32_t capframes = 0;
    for (uint32_t c = 0; c < b->nchunks && !r.bad; c++) {
        while (b->streams[stream].first + b->streams[stream].nchunks <= c) {
            stream++;
        }
        logs_chunk_ref_t *k = &b->chunks[c];
        k->stream = stream;
        uint64_t mint_z = logs_rd_u(&r);
        uint64_t span = logs_rd_u(&r);
        k->mint = varint_unzigzag(mint_z);
        k->n = logs_rd_u32(&r, LOGS_CHUNK_MAX_ROWS);
        k->raw_bytes = logs_rd_u(&r);
        k->off = logs_rd_u(&r);
        k->flen = logs_rd_u32(&r, UINT32_MAX);
        k->clen = logs_rd_u32(&r, UINT32_MAX);
        k->llen = logs_rd_u32(&r, UINT32_MAX);
        k->mlen = logs_rd_u32(&r, UINT32_MAX);
        k->fcrc = logs_rd_fixed32(&r);
        k->dcrc = logs_rd_fixed32(&r);
        if (logs_block_parse_frames(b, &r, k, &capframes) != 0) {
            r.bad = true;
            break;
        }
        uint64_t end = k->off + (uint64_t)k->flen + k->clen + k->llen + k->mlen;
        if (r.bad || span > (uint64_t)INT64_MAX || k->mint > INT64_MAX - (int64_t)span || k->n == 0 ||
            k->raw_bytes > LOGS_CHUNK_MAX_RAW || k->off < 8 || k->off > index_off || end > index_off || k->clen == 0 ||
            (k->raw_bytes > 0) != (k->llen > 0)) {
            r.bad = true;
            break;
        }
        k->maxt = k->mint + (int64_t)span;
        if (k->mint < b->mint || k->maxt > b->maxt) {
            r.bad = true;
            break;
        }
        b->entries += k->n;
        b->raw_bytes += k->raw_bytes;
    }
    if (r.bad || r.pos != r.len) {
        snprintf(why, whylen, "bad chunk table");
        return -1;
    }
    return 0;
}

int logs_block_open(const char *path, uint64_t seq, logs_block_t **out, char *err, size_t errlen)
{
    *out = NULL;
    logs_block_t *b = mem_calloc(1, sizeof(*b));
    b->path = mem_strdup(path);
    b->seq = seq;
    b->fd = open(path, O_RDONLY | O_CLOEXEC);
    char why[128] = "";
    int rc = LOGS_ERR_CORRUPT;
    struct stat st;
    uint8_t head[8], foot[LOGS_BLOCK_FOOTER];
    buf_t comp = { 0 }, raw = { 0 };
    if (b->fd < 0 || fstat(b->fd, &st) != 0) {
        snprintf(why, sizeof(why), "%s", strerror(errno));
        rc = LOGS_ERR_IO;
        goto fail;
    }
    b->size = (uint64_t)st.st_size;
    if (b->size < 8 + LOGS_BLOCK_FOOTER) {
        snprintf(why, sizeof(why), "too short (%llu bytes)", (unsigned long long)b->size);
        goto fail;
    }
    int prc = logs_pread_all(b->fd, head, 8, 0);
    if (prc == 0) {
        prc = logs_pread_all(b->fd, foot, sizeof(foot), b->size - LOGS_BLOCK_FOOTER);
    }
    if (prc != 0) {
        snprintf(why, sizeof(why), "read error");
        rc = prc;
        goto fail;
    }
    if (memcmp(head, LOGS_BLOCK_MAGIC, 8) != 0 || memcmp(foot + 32, LOGS_BLOCK_END, 8) != 0) {
        snprintf(why, sizeof(why), "bad magic");
        goto fail;
    }
    uint64_t ioff = logs_get_u64le(foot);
    uint32_t ilen = logs_get_u32le(foot + 8);
    uint32_t icrc = logs_get_u32le(foot + 12);
    b->mint = (int64_t)logs_get_u64le(foot + 16);
    b->maxt = (int64_t)logs_get_u64le(foot + 24);
    if (ioff < 8 || ioff > b->size - LOGS_BLOCK_FOOTER || ilen != b->size - LOGS_BLOCK_FOOTER - ioff ||
        b->mint > b->maxt) {
        snprintf(why, sizeof(why), "bad footer");
        goto fail;
    }
    buf_reserve(&comp, ilen);
    prc = logs_pread_all(b->fd, comp.data, ilen, ioff);
    if (prc != 0) {
        snprintf(why, sizeof(why), "read error");
        rc = prc;
        goto fail;
    }
    comp.len = ilen;
    if (crc32c(0, comp.data, comp.len) != icrc) {
        snprintf(why, sizeof(why), "index checksum mismatch");
        goto fail;
    }
    if (decompress_zstd(comp.data, comp.len, LOGS_BLOCK_MAX_INDEX, &raw) != COMPRESS_OK) {
        snprintf(why, sizeof(why), "index does not decompress");
        goto fail;
    }
    size_t rawlen = raw.len;
    b->index = buf_steal(&raw, &rawlen);
    if (logs_block_parse_index(b, rawlen, ioff, why, sizeof(why)) != 0) {
        goto fail;
    }
    buf_fini(&comp);
    b->refs = 1;
    *out = b;
    return 0;
fail:
    snprintf(err, errlen, "block %s: %s", path, why);
    buf_fini(&comp);
    buf_fini(&raw);
    logs_block_free(b);
    return rc;
}

void logs_block_free(logs_block_t *b)
{
    if (!b) {
        return;
    }
    if (b->fd >= 0) {
        close(b->fd);
    }
    if (b->doomed) {
        unlink(b->path);
    }
    mem_free(b->path);
    mem_free(b->index);
    mem_free(b->streams);
    mem_free(b->chunks);
    mem_free(b->frames);
    mem_free(b->by_gid);
    mem_free(b);
}

static int logs_u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void logs_block_bind(logs_block_t *b)
{
    uint64_t *keys = mem_alloc(b->nstreams * sizeof(uint64_t));
    for (uint32_t i = 0; i < b->nstreams; i++) {
        keys[i] = (uint64_t)b->streams[i].gid << 32 | i;
    }
    if (b->nstreams > 1) {
        qsort(keys, b->nstreams, sizeof(uint64_t), logs_u64_cmp);
    }
    for (uint32_t i = 0; i < b->nstreams; i++) {
        b->by_gid[i] = (uint32_t)keys[i];
    }
    mem_free(keys);
}

int64_t logs_block_find(const logs_block_t *b, uint32_t gid)
{
    uint32_t lo = 0, hi = b->nstreams;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint32_t g = b->streams[b->by_gid[mid]].gid;
        if (g == gid) {
            return b->by_gid[mid];
        }
        if (g < gid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return -1;
}

uint64_t logs_block_frames_all(const logs_block_t *b, uint32_t c)
{
    uint32_t nf = b->chunks[c].nframes;
    return nf >= 64 ? UINT64_MAX : (1ULL << nf) - 1;
}

uint64_t logs_block_frames_absent(const logs_block_t *b, uint32_t c, const str_t *lits, size_t n, buf_t *scratch)
{
    const logs_chunk_ref_t *k = &b->chunks[c];
    buf_reset(scratch);
    buf_reserve(scratch, k->flen);
    if (logs_pread_all(b->fd, scratch->data, k->flen, k->off) != 0 || crc32c(0, scratch->data, k->flen) != k->fcrc) {
        return 0; /* the read reports the damage */
    }
    uint64_t absent = 0;
    size_t off = 0;
    for (uint32_t f = 0; f < k->nframes; f++) {
        const logs_frame_ref_t *fr = &b->frames[k->frame0 + f];
        for (size_t i = 0; i < n; i++) {
            if (!logs_filter_may_contain(scratch->data + off, fr->flen, lits[i])) {
                absent |= 1ULL << f;
                break;
            }
        }
        off += fr->flen;
    }
    return absent;
}

void logs_decoded_fini(logs_decoded_t *d)
{
    buf_fini(&d->cols);
    buf_fini(&d->cols0);
    buf_fini(&d->lines);
    buf_fini(&d->meta);
    buf_fini(&d->file);
    compress_zctx_fini(&d->zctx);
    mem_free(d->rows);
    memset(d, 0, sizeof(*d));
}

/* Decode frame fr's columns (cols) into d->rows from *kept: its
 * lines start at line_off in d->lines and meta advances m. Timestamps
 * must ascend inside [k->mint, k->maxt] from *prev_ts; keep false just
 * advances m. 0 or LOGS_ERR_CORRUPT. */
static int logs_frame_rows(const logs_chunk_ref_t *k, const logs_frame_ref_t *fr, const buf_t *cols, bool keep,
                           uint64_t line_off, int64_t *prev_ts, logs_rd_t *m, logs_decoded_t *d, size_t *kept)
{
    logs_rd_t r = { cols->data, cols->len, 0, false };
    logs_rd_t lr = r; /* the lengths follow the timestamps: found by a first pass */
    int64_t ts = 0;
    if (keep) {
        ts = varint_unzigzag(logs_rd_u(&lr));
        uint64_t dt = 0;
        int64_t t = ts;
        if (lr.bad || ts < *prev_ts || ts < k->mint || ts > k->maxt) {
            return LOGS_ERR_CORRUPT;
        }
        for (uint32_t i = 1; i < fr->rows && !lr.bad; i++) {
            dt = i == 1 ? logs_rd_u(&lr) : dt + (uint64_t)varint_unzigzag(logs_rd_u(&lr));
            if (dt > (uint64_t)k->maxt - (uint64_t)t) {
                return LOGS_ERR_CORRUPT;
            }
            t = (int64_t)((uint64_t)t + dt);
        }
        r.pos = 0;
        (void)logs_rd_u(&r); /* ts_0 again: r now reads the deltas */
        *prev_ts = t;
    }
    const char *lines = d->lines.data ? (const char *)d->lines.data : "";
    uint64_t off = line_off, end = line_off + fr->raw, dt = 0;
    for (uint32_t j = 0; j < fr->rows; j++) {
        str_t meta = str_from("", 0);
        if (k->mlen != 0) {
            uint64_t len = logs_rd_u(m);
            if (m->bad || len > m->len - m->pos) {
                return LOGS_ERR_CORRUPT;
            }
            meta = str_from((const char *)m->p + m->pos, (size_t)len);
            m->pos += (size_t)len;
            if (keep && logs_meta_get((const uint8_t *)meta.p, meta.len, NULL, LOGS_MAX_META) < 0) {
                return LOGS_ERR_CORRUPT;
            }
        }
        if (!keep) {
            continue;
        }
        if (j > 0) {
            dt = j == 1 ? logs_rd_u(&r) : dt + (uint64_t)varint_unzigzag(logs_rd_u(&r));
            ts = (int64_t)((uint64_t)ts + dt); /* bounded by the first pass */
        }
        uint64_t len = logs_rd_u(&lr);
        if (lr.bad || len > end - off) {
            return LOGS_ERR_CORRUPT; /* a line must lie inside its frame */
        }
        d->rows[(*kept)++] = (logs_row_t){ ts, str_from(lines + off, (size_t)len), meta };
        off += len;
    }
    if (keep && (r.bad || lr.pos != lr.len || off != end)) {
        return LOGS_ERR_CORRUPT;
    }
    return 0;
}

int logs_block_read(const logs_block_t *b, uint32_t c, uint64_t skip, logs_decoded_t *d)
{
    const logs_chunk_ref_t *k = &b->chunks[c];
    d->n = 0;
    buf_reset(&d->file);
    buf_reset(&d->lines);
    buf_reset(&d->meta);
    size_t total = (size_t)k->flen + k->clen + k->llen + k->mlen;
    buf_reserve(&d->file, total);
    int rc = logs_pread_all(b->fd, d->file.data, total, k->off);
    if (rc != 0) {
        return rc;
    }
    d->file.len = total;
    /* A damaged filter could hide the chunk from selections: report it. */
    if (crc32c(0, d->file.data, k->flen) != k->fcrc || crc32c(0, d->file.data + k->flen, total - k->flen) != k->dcrc) {
        return LOGS_ERR_CORRUPT;
    }
    const uint8_t *pc = d->file.data + k->flen; /* the frames' columns */
    const uint8_t *pl = pc + k->clen;           /* their lines */
    if (k->mlen &&
        decompress_zstd_prefix(&d->zctx, pl + k->llen, k->mlen, LOGS_CHUNK_MAX_RAW, NULL, 0, &d->meta) != COMPRESS_OK) {
        return LOGS_ERR_CORRUPT;
    }
    if (d->cap < k->n) {
        d->cap = k->n;
        d->rows = mem_realloc(d->rows, d->cap * sizeof(logs_row_t));
    }
    /* Frames land at their offsets in d->lines; frame 0 is every other
     * frame's prefix, so it is decoded whenever any frame is. */
    uint64_t all = logs_block_frames_all(b, c);
    buf_reserve(&d->lines, k->raw_bytes);
    const logs_frame_ref_t *f0 = &b->frames[k->frame0];
    logs_rd_t m = { d->meta.data, d->meta.len, 0, false };
    uint64_t off = 0;
    int64_t prev_ts = k->mint;
    size_t kept = 0;
    for (uint32_t f = 0; f < k->nframes; f++) {
        const logs_frame_ref_t *fr = &b->frames[k->frame0 + f];
        bool keep = !(skip >> f & 1);
        bool lines = keep || (f == 0 && (skip & all) != all);
        if (lines && fr->raw > 0) {
            d->lines.len = (size_t)off;
            if (decompress_zstd_prefix(&d->zctx, pl, fr->clen, fr->raw, d->lines.data, f ? f0->raw : 0, &d->lines) !=
                    COMPRESS_OK ||
                d->lines.len != off + fr->raw) {
                return LOGS_ERR_CORRUPT;
            }
        }
        if (f == 0 && (skip & all) != all) { /* frame 0's columns: the others' prefix */
            buf_reset(&d->cols0);
            if (decompress_zstd_prefix(&d->zctx, pc, fr->cols, (size_t)fr->rows * 2 * VARINT_MAX_LEN, NULL, 0,
                                       &d->cols0) != COMPRESS_OK) {
                return LOGS_ERR_CORRUPT;
            }
        }
        const buf_t *cols = &d->cols0; /* frame 0's, or unread when !keep */
        if (keep && f > 0) {
            buf_reset(&d->cols);
            if (decompress_zstd_prefix(&d->zctx, pc, fr->cols, (size_t)fr->rows * 2 * VARINT_MAX_LEN, d->cols0.data,
                                       d->cols0.len, &d->cols) != COMPRESS_OK) {
                return LOGS_ERR_CORRUPT;
            }
            cols = &d->cols;
        }
        rc = logs_frame_rows(k, fr, cols, keep, off, &prev_ts, &m, d, &kept);
        if (rc != 0) {
            return rc;
        }
        pc += fr->cols;
        pl += fr->clen;
        off += fr->raw;
    }
    d->lines.len = (size_t)off;
    if (m.pos != m.len || (skip == 0 && prev_ts != k->maxt)) {
        return LOGS_ERR_CORRUPT;
    }
    d->n = kept;
    return 0;
}

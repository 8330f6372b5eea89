/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tsdb_block: writer and reader of the immutable block files whose layout
 * tsdb_int.h draws. The writer packs series columns into pages of about
 * TSDB_PAGE_TARGET raw bytes, each compressed as one zstd frame, so series
 * that look alike (adjacent ids are usually the same metric on other
 * hosts) share a compression window. The reader maps the file, checks the
 * footer and the index CRC, and keeps the index as flat arrays; every
 * length and offset read from the file is bounded before use, so a
 * corrupt block is an error, never a crash. Pages are decompressed on
 * demand into a caller-owned cache (one page per reader).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/compress.h"
#include "common/crc32c.h"
#include "common/fileio.h"
#include "common/mem.h"
#include "common/varint.h"
#include "tsdb/tsdb_int.h"

struct tsdb_block_writer {
    char *dir;
    char *tmp_path;
    char *final_path;
    uint64_t seq;
    int fd;
    uint32_t level;
    int zlevel;
    uint64_t file_off;
    buf_t page;           /* raw page being filled */
    buf_t comp;           /* scratch for compression */
    compress_zctx_t zctx; /* one zstd context for every page */
    buf_t series;         /* index entries of the series, varint-coded */
    buf_t pages;          /* index entries of the pages */
    uint32_t npages;
    uint32_t nseries;
    uint64_t nsamples;
    int64_t last_id;
    int64_t mint, maxt;
};

static char *tsdb_path(const char *dir, uint64_t seq, const char *suffix)
{
    size_t len = strlen(dir) + 40;
    char *p = mem_alloc(len);
    snprintf(p, len, "%s/%016llx.blk%s", dir, (unsigned long long)seq, suffix);
    return p;
}

int tsdb_block_writer_open(const char *dir, uint64_t seq, uint32_t level, int zlevel, tsdb_block_writer_t **out)
{
    tsdb_block_writer_t *w = mem_calloc(1, sizeof(*w));
    w->dir = mem_strdup(dir);
    w->seq = seq;
    w->level = level;
    w->zlevel = zlevel;
    w->last_id = -1;
    w->mint = INT64_MAX;
    w->maxt = INT64_MIN;
    w->tmp_path = tsdb_path(dir, seq, ".tmp");
    w->final_path = tsdb_path(dir, seq, "");
    w->fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        int rc = -errno;
        tsdb_block_writer_abort(w);
        return rc;
    }
    int rc = fileio_write_all(w->fd, TSDB_BLOCK_MAGIC, 8);
    if (rc < 0) {
        tsdb_block_writer_abort(w);
        return rc;
    }
    w->file_off = 8;
    *out = w;
    return 0;
}

static int tsdb_block_writer_flush_page(tsdb_block_writer_t *w)
{
    if (w->page.len == 0) {
        return 0;
    }
    buf_reset(&w->comp);
    compress_zstd_prefix(&w->zctx, w->page.data, w->page.len, w->zlevel, NULL, 0, &w->comp);
    int rc = fileio_write_all(w->fd, w->comp.data, w->comp.len);
    if (rc < 0) {
        return rc;
    }
    buf_put_uvarint(&w->pages, w->file_off);
    buf_put_uvarint(&w->pages, w->comp.len);
    buf_put_uvarint(&w->pages, w->page.len);
    buf_put_u32le(&w->pages, crc32c(0, w->comp.data, w->comp.len));
    w->file_off += w->comp.len;
    w->npages++;
    buf_reset(&w->page);
    return 0;
}

int tsdb_block_writer_add(tsdb_block_writer_t *w, uint32_t id, const int64_t *ts, const double *vs, size_t n)
{
    if (n == 0) {
        return 0;
    }
    if ((int64_t)id <= w->last_id || n > TSDB_BLOCK_MAX_SAMPLES_PER_SERIES) {
        return -EINVAL;
    }
    if (w->page.len >= TSDB_PAGE_TARGET) {
        int rc = tsdb_block_writer_flush_page(w);
        if (rc < 0) {
            return rc;
        }
    }
    size_t off = w->page.len;
    tsdb_codec_put_ts(&w->page, ts, n);
    tsdb_codec_put_values(&w->page, vs, n);
    buf_put_uvarint(&w->series, (uint64_t)((int64_t)id - w->last_id));
    buf_put_uvarint(&w->series, w->npages);
    buf_put_uvarint(&w->series, off);
    buf_put_uvarint(&w->series, n);
    buf_put_varint(&w->series, ts[0]);
    buf_put_uvarint(&w->series, (uint64_t)(ts[n - 1] - ts[0]));
    w->last_id = id;
    w->nseries++;
    w->nsamples += n;
    if (ts[0] < w->mint) {
        w->mint = ts[0];
    }
    if (ts[n - 1] > w->maxt) {
        w->maxt = ts[n - 1];
    }
    return 0;
}

int tsdb_block_writer_finish(tsdb_block_writer_t *w, tsdb_block_t **out)
{
    *out = NULL;
    if (w->nseries == 0) {
        tsdb_block_writer_abort(w);
        return 0;
    }
    int rc = tsdb_block_writer_flush_page(w);
    buf_t index = { 0 };
    buf_t comp = { 0 };
    if (rc < 0) {
        goto fail;
    }
    buf_put_uvarint(&index, 1);
    buf_put_uvarint(&index, w->level);
    buf_put_uvarint(&index, w->nseries);
    buf_put_uvarint(&index, w->nsamples);
    buf_put_uvarint(&index, w->npages);
    buf_append(&index, w->pages.data, w->pages.len);
    buf_append(&index, w->series.data, w->series.len);
    compress_zstd(index.data, index.len, 3, &comp);
    uint64_t index_off = w->file_off;
    buf_t footer = { 0 };
    buf_put_u64le(&footer, index_off);
    buf_put_u32le(&footer, (uint32_t)comp.len);
    buf_put_u32le(&footer, crc32c(0, comp.data, comp.len));
    buf_put_u64le(&footer, (uint64_t)w->mint);
    buf_put_u64le(&footer, (uint64_t)w->maxt);
    buf_append(&footer, TSDB_BLOCK_END, 8);
    rc = fileio_write_all(w->fd, comp.data, comp.len);
    if (rc == 0) {
        rc = fileio_write_all(w->fd, footer.data, footer.len);
    }
    buf_fini(&footer);
    if (rc == 0) {
        rc = fileio_publish(w->fd, w->tmp_path, w->final_path, w->dir);
    }
    if (rc < 0) {
        goto fail;
    }
    close(w->fd);
    w->fd = -1;
    char err[256];
    rc = tsdb_block_open(w->final_path, w->seq, out, err, sizeof(err));
    if (rc < 0) {
        unlink(w->final_path);
        rc = -EIO;
        goto fail;
    }
    mem_free(w->tmp_path);
    w->tmp_path = NULL;
    buf_fini(&index);
    buf_fini(&comp);
    tsdb_block_writer_abort(w);
    return 0;
fail:
    buf_fini(&index);
    buf_fini(&comp);
    tsdb_block_writer_abort(w);
    return rc;
}

void tsdb_block_writer_abort(tsdb_block_writer_t *w)
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
    buf_fini(&w->page);
    buf_fini(&w->comp);
    compress_zctx_fini(&w->zctx);
    buf_fini(&w->series);
    buf_fini(&w->pages);
    mem_free(w);
}

static uint64_t tsdb_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

static uint32_t tsdb_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Cursor over the index payload; any overrun sets bad. */
typedef struct tsdb_cur {
    const uint8_t *p;
    size_t len, pos;
    bool bad;
} tsdb_cur_t;

static uint64_t tsdb_cur_u(tsdb_cur_t *c)
{
    uint64_t v = 0;
    size_t n = c->bad ? 0 : varint_get_u64(c->p + c->pos, c->len - c->pos, &v);
    if (n == 0) {
        c->bad = true;
        return 0;
    }
    c->pos += n;
    return v;
}

static int64_t tsdb_cur_i(tsdb_cur_t *c)
{
    return varint_unzigzag(tsdb_cur_u(c));
}

static uint32_t tsdb_cur_u32le(tsdb_cur_t *c)
{
    if (c->bad || c->len - c->pos < 4) {
        c->bad = true;
        return 0;
    }
    uint32_t v = tsdb_le32(c->p + c->pos);
    c->pos += 4;
    return v;
}

static int tsdb_block_fail(char *err, size_t errlen, const char *path, const char *why)
{
    snprintf(err, errlen, "block %s: %s", path, why);
    return TSDB_ERR_CORRUPT;
}

static int tsdb_block_parse_index(tsdb_block_t *b, const uint8_t *p, size_t len, char *err, size_t errlen)
{
    tsdb_cur_t c = { p, len, 0, false };
    uint64_t version = tsdb_cur_u(&c);
    uint64_t level = tsdb_cur_u(&c);
    uint64_t nseries = tsdb_cur_u(&c);
    uint64_t nsamples = tsdb_cur_u(&c);
    uint64_t npages = tsdb_cur_u(&c);
    if (c.bad || version != 1 || level > 64 || nseries > len || npages > len || (nseries > 0 && npages == 0)) {
        return tsdb_block_fail(err, errlen, b->path, "bad index header");
    }
    b->level = (uint32_t)level;
    b->nseries = (uint32_t)nseries;
    b->nsamples = nsamples;
    b->npages = (uint32_t)npages;
    b->pages = mem_calloc(npages ? npages : 1, sizeof(tsdb_page_ref_t));
    for (uint64_t i = 0; i < npages; i++) {
        tsdb_page_ref_t *pr = &b->pages[i];
        pr->off = tsdb_cur_u(&c);
        uint64_t clen = tsdb_cur_u(&c);
        uint64_t rlen = tsdb_cur_u(&c);
        pr->crc = tsdb_cur_u32le(&c);
        if (c.bad || pr->off < 8 || clen > b->size || pr->off > b->size - clen || rlen > TSDB_PAGE_MAX_RAW) {
            return tsdb_block_fail(err, errlen, b->path, "bad page entry");
        }
        pr->clen = (uint32_t)clen;
        pr->rlen = (uint32_t)rlen;
    }
    size_t ns = nseries ? nseries : 1;
    b->ids = mem_alloc(ns * sizeof(uint32_t));
    b->page = mem_alloc(ns * sizeof(uint32_t));
    b->off = mem_alloc(ns * sizeof(uint32_t));
    b->cnt = mem_alloc(ns * sizeof(uint32_t));
    b->smint = mem_alloc(ns * sizeof(int64_t));
    b->smaxt = mem_alloc(ns * sizeof(int64_t));
    int64_t id = -1;
    for (uint64_t i = 0; i < nseries; i++) {
        uint64_t delta = tsdb_cur_u(&c);
        uint64_t page = tsdb_cur_u(&c);
        uint64_t off = tsdb_cur_u(&c);
        uint64_t n = tsdb_cur_u(&c);
        int64_t mint = tsdb_cur_i(&c);
        uint64_t span = tsdb_cur_u(&c);
        if (c.bad || delta == 0 || delta > UINT32_MAX || id + (int64_t)delta > (int64_t)UINT32_MAX || page >= npages ||
            off >= b->pages[page].rlen || n == 0 || n > TSDB_BLOCK_MAX_SAMPLES_PER_SERIES ||
            span > (uint64_t)INT64_MAX || mint > INT64_MAX - (int64_t)span) {
            return tsdb_block_fail(err, errlen, b->path, "bad series entry");
        }
        id += (int64_t)delta;
        b->ids[i] = (uint32_t)id;
        b->page[i] = (uint32_t)page;
        b->off[i] = (uint32_t)off;
        b->cnt[i] = (uint32_t)n;
        b->smint[i] = mint;
        b->smaxt[i] = mint + (int64_t)span;
    }
    return 0;
}

int tsdb_block_open(const char *path, uint64_t seq, tsdb_block_t **out, char *err, size_t errlen)
{
    *out = NULL;
    tsdb_block_t *b = mem_calloc(1, sizeof(*b));
    b->path = mem_strdup(path);
    b->seq = seq;
    b->fd = open(path, O_RDONLY | O_CLOEXEC);
    buf_t index = { 0 };
    int rc;
    if (b->fd < 0) {
        snprintf(err, errlen, "block %s: %s", path, strerror(errno));
        rc = TSDB_ERR_IO;
        goto fail;
    }
    struct stat st;
    if (fstat(b->fd, &st) < 0) {
        snprintf(err, errlen, "block %s: %s", path, strerror(errno));
        rc = TSDB_ERR_IO;
        goto fail;
    }
    b->size = (size_t)st.st_size;
    if (b->size < 8 + TSDB_BLOCK_FOOTER) {
        rc = tsdb_block_fail(err, errlen, path, "file too short");
        goto fail;
    }
    void *m = mmap(NULL, b->size, PROT_READ, MAP_SHARED, b->fd, 0);
    if (m == MAP_FAILED) {
        snprintf(err, errlen, "block %s: mmap: %s", path, strerror(errno));
        rc = TSDB_ERR_IO;
        goto fail;
    }
    b->map = m;
    const uint8_t *f = b->map + b->size - TSDB_BLOCK_FOOTER;
    if (memcmp(b->map, TSDB_BLOCK_MAGIC, 8) != 0 || memcmp(f + 32, TSDB_BLOCK_END, 8) != 0) {
        rc = tsdb_block_fail(err, errlen, path, "bad magic");
        goto fail;
    }
    uint64_t index_off = tsdb_le64(f);
    uint32_t index_len = tsdb_le32(f + 8);
    uint32_t index_crc = tsdb_le32(f + 12);
    b->mint = (int64_t)tsdb_le64(f + 16);
    b->maxt = (int64_t)tsdb_le64(f + 24);
    size_t body_end = b->size - TSDB_BLOCK_FOOTER;
    if (index_off < 8 || index_off > body_end || index_len > body_end - index_off || b->mint > b->maxt) {
        rc = tsdb_block_fail(err, errlen, path, "bad footer");
        goto fail;
    }
    if (crc32c(0, b->map + index_off, index_len) != index_crc) {
        rc = tsdb_block_fail(err, errlen, path, "index checksum mismatch");
        goto fail;
    }
    if (decompress_zstd(b->map + index_off, index_len, 256u << 20, &index) != COMPRESS_OK) {
        rc = tsdb_block_fail(err, errlen, path, "index does not decompress");
        goto fail;
    }
    rc = tsdb_block_parse_index(b, index.data, index.len, err, errlen);
    if (rc < 0) {
        goto fail;
    }
    buf_fini(&index);
    *out = b;
    return 0;
fail:
    buf_fini(&index);
    tsdb_block_free(b);
    return rc;
}

void tsdb_block_free(tsdb_block_t *b)
{
    if (!b) {
        return;
    }
    if (b->map) {
        munmap((void *)b->map, b->size);
    }
    if (b->fd >= 0) {
        close(b->fd);
    }
    if (b->doomed && b->path) {
        unlink(b->path);
    }
    mem_free(b->path);
    mem_free(b->pages);
    mem_free(b->ids);
    mem_free(b->page);
    mem_free(b->off);
    mem_free(b->cnt);
    mem_free(b->smint);
    mem_free(b->smaxt);
    mem_free(b);
}

int64_t tsdb_block_find(const tsdb_block_t *b, uint32_t id)
{
    uint32_t lo = 0, hi = b->nseries;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (b->ids[mid] < id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return (lo < b->nseries && b->ids[lo] == id) ? (int64_t)lo : -1;
}

static int tsdb_page_load(const tsdb_block_t *b, uint32_t page, tsdb_page_cache_t *pc)
{
    if (pc->block == b && pc->page == page) {
        return 0;
    }
    pc->block = NULL;
    if (pc->held) {
        tsdb_pcache_put(pc->shared, pc->handle);
        pc->held = false;
    }
    if (pc->shared) {
        int rc = tsdb_pcache_get(pc->shared, b, page, &pc->data, &pc->len, &pc->handle);
        if (rc != 0) {
            return rc;
        }
        pc->held = true;
    } else {
        if (tsdb_pcache_decode(b, page, &pc->raw) != 0) {
            return TSDB_ERR_CORRUPT;
        }
        pc->data = pc->raw.data;
        pc->len = pc->raw.len;
    }
    pc->block = b;
    pc->page = page;
    return 0;
}

int tsdb_block_read(const tsdb_block_t *b, uint32_t idx, tsdb_page_cache_t *pc, int64_t mint, int64_t maxt,
                    int64_t **ts, double **vs, size_t *n, size_t *cap)
{
    if (b->smaxt[idx] < mint || b->smint[idx] > maxt) {
        return 0;
    }
    int rc = tsdb_page_load(b, b->page[idx], pc);
    if (rc < 0) {
        return rc;
    }
    size_t cnt = b->cnt[idx];
    if (cnt > pc->cap) {
        pc->ts = mem_realloc(pc->ts, cnt * sizeof(int64_t));
        pc->vs = mem_realloc(pc->vs, cnt * sizeof(double));
        pc->cap = cnt;
    }
    if (b->off[idx] > pc->len) {
        return TSDB_ERR_CORRUPT;
    }
    const uint8_t *p = pc->data + b->off[idx];
    size_t len = pc->len - b->off[idx];
    long used = tsdb_codec_get_ts(p, len, pc->ts, cnt);
    if (used < 0) {
        return TSDB_ERR_CORRUPT;
    }
    if (tsdb_codec_get_values(p + used, len - (size_t)used, pc->vs, cnt) < 0) {
        return TSDB_ERR_CORRUPT;
    }
    size_t lo = 0;
    while (lo < cnt && pc->ts[lo] < mint) {
        lo++;
    }
    size_t hi = lo;
    while (hi < cnt && pc->ts[hi] <= maxt) {
        hi++;
    }
    if (hi > lo) {
        tsdb_merge_samples(pc->ts + lo, pc->vs + lo, hi - lo, NULL, NULL, 0, ts, vs, n, cap);
    }
    return 0;
}

void tsdb_page_cache_fini(tsdb_page_cache_t *pc)
{
    if (pc->held) {
        tsdb_pcache_put(pc->shared, pc->handle);
    }
    buf_fini(&pc->raw);
    mem_free(pc->ts);
    mem_free(pc->vs);
    memset(pc, 0, sizeof(*pc));
}

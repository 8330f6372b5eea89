/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tsdb_wal: encoding and decoding of the records that the WAL and the
 * series log carry on top of reclog (format in tsdb_int.h). The count of
 * a record is written as a fixed-width 5-byte varint so the builder can
 * patch it once the entries are in. Decoding is bounded by the record
 * length at every step; a malformed record stops at the first bad entry.
 */
#include <string.h>

#include "common/compress.h"
#include "common/varint.h"
#include "tsdb/tsdb_int.h"

void tsdb_rec_begin(buf_t *rec, int type)
{
    buf_reset(rec);
    buf_putc(rec, (uint8_t)type);
    uint8_t placeholder[5] = { 0x80, 0x80, 0x80, 0x80, 0x00 };
    buf_append(rec, placeholder, 5);
}

void tsdb_rec_add_sample(buf_t *rec, int64_t *prev_t, uint32_t id, int64_t t, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    buf_put_uvarint(rec, id);
    buf_put_varint(rec, (int64_t)((uint64_t)t - (uint64_t)*prev_t));
    buf_put_u64le(rec, bits);
    *prev_t = t;
}

void tsdb_rec_add_series(buf_t *rec, uint32_t id, const uint8_t *labels, size_t len)
{
    buf_put_uvarint(rec, id);
    buf_put_uvarint(rec, len);
    buf_append(rec, labels, len);
}

void tsdb_rec_finish(buf_t *rec, uint32_t count, buf_t *scratch)
{
    uint8_t *p = rec->data + 1;
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)((count >> (7 * i)) & 0x7f) | 0x80;
    }
    p[4] = (uint8_t)(count >> 28);
    if (rec->len < TSDB_REC_COMPRESS_MIN) {
        return;
    }
    buf_reset(scratch);
    buf_putc(scratch, TSDB_REC_ZSTD);
    compress_zstd(rec->data, rec->len, 1, scratch);
    if (scratch->len < rec->len) {
        buf_reset(rec);
        buf_append(rec, scratch->data, scratch->len);
    }
}

static void tsdb_put_str(buf_t *b, str_t s)
{
    buf_put_uvarint(b, s.len);
    buf_append(b, s.p, s.len);
}

void tsdb_rec_meta(buf_t *rec, int type, str_t family, str_t help, str_t unit)
{
    buf_reset(rec);
    buf_putc(rec, TSDB_REC_META);
    buf_put_uvarint(rec, (uint64_t)(type < 0 ? 0 : type));
    tsdb_put_str(rec, family);
    tsdb_put_str(rec, help);
    tsdb_put_str(rec, unit);
}

static void tsdb_rec_add_chunk(buf_t *rec, int64_t t_first, int64_t t_last, uint16_t n, uint32_t nbits,
                               const uint8_t *data)
{
    buf_put_varint(rec, t_first);
    buf_put_uvarint(rec, (uint64_t)(t_last - t_first));
    buf_put_uvarint(rec, n);
    buf_put_uvarint(rec, nbits);
    buf_append(rec, data, ((size_t)nbits + 7) / 8);
}

void tsdb_rec_add_head(buf_t *rec, uint32_t id, const tsdb_series_t *s)
{
    buf_put_uvarint(rec, id);
    buf_putc(rec, s->has_last ? 1 : 0);
    buf_put_varint(rec, s->last_t);
    buf_put_u64le(rec, s->last_bits);
    uint32_t nchunks = s->open.n ? 1 : 0;
    const tsdb_clist_t *lists[2] = { &s->frozen, &s->closed };
    for (int k = 0; k < 2; k++) {
        for (const tsdb_cchunk_t *c = lists[k]->head; c; c = c->next) {
            nchunks++;
        }
    }
    buf_put_uvarint(rec, nchunks);
    for (int k = 0; k < 2; k++) {
        for (const tsdb_cchunk_t *c = lists[k]->head; c; c = c->next) {
            tsdb_rec_add_chunk(rec, c->t_first, c->t_last, c->n, c->nbits, c->data);
        }
    }
    if (s->open.n) {
        tsdb_rec_add_chunk(rec, s->open.t_first, s->open.t, s->open.n, s->open.nbits, s->open.data);
    }
}

static bool tsdb_get_u(const uint8_t *p, size_t len, size_t *pos, uint64_t *out)
{
    size_t n = varint_get_u64(p + *pos, len - *pos, out);
    *pos += n;
    return n > 0;
}

static bool tsdb_get_str(const uint8_t *p, size_t len, size_t *pos, str_t *out)
{
    uint64_t n;
    if (!tsdb_get_u(p, len, pos, &n) || n > len - *pos) {
        return false;
    }
    *out = str_from((const char *)p + *pos, (size_t)n);
    *pos += (size_t)n;
    return true;
}

/* One series entry of a CHUNKS record, after its id. */
static int tsdb_rec_decode_head(const uint8_t *p, size_t len, size_t *pos, uint32_t id, const tsdb_rec_visitor_t *v)
{
    uint64_t last_t, nchunks;
    if (len - *pos < 1) {
        return -1;
    }
    bool has_last = p[(*pos)++] != 0;
    if (!tsdb_get_u(p, len, pos, &last_t) || len - *pos < 8) {
        return -1;
    }
    uint64_t bits = 0;
    for (int k = 7; k >= 0; k--) {
        bits = (bits << 8) | p[*pos + (size_t)k];
    }
    *pos += 8;
    if (!tsdb_get_u(p, len, pos, &nchunks) || nchunks > len) {
        return -1;
    }
    if (v->last) {
        v->last(v->ctx, id, has_last, varint_unzigzag(last_t), bits);
    }
    for (uint64_t c = 0; c < nchunks; c++) {
        uint64_t t0, span, n, nbits;
        if (!tsdb_get_u(p, len, pos, &t0) || !tsdb_get_u(p, len, pos, &span) || !tsdb_get_u(p, len, pos, &n) ||
            !tsdb_get_u(p, len, pos, &nbits) || n == 0 || n > UINT16_MAX || nbits > UINT32_MAX - 7 ||
            (nbits + 7) / 8 > len - *pos || span > (uint64_t)INT64_MAX) {
            return -1;
        }
        int64_t t_first = varint_unzigzag(t0);
        if (t_first > INT64_MAX - (int64_t)span) {
            return -1;
        }
        if (v->chunk) {
            v->chunk(v->ctx, id, t_first, t_first + (int64_t)span, (uint16_t)n, (uint32_t)nbits, p + *pos);
        }
        *pos += (size_t)((nbits + 7) / 8);
    }
    return 0;
}

static int tsdb_rec_decode_plain(const uint8_t *p, size_t len, const tsdb_rec_visitor_t *v)
{
    if (len < 1) {
        return -1;
    }
    int type = p[0];
    size_t pos = 1;
    if (type == TSDB_REC_META) {
        uint64_t mtype;
        str_t fam, help, unit;
        if (!tsdb_get_u(p, len, &pos, &mtype) || !tsdb_get_str(p, len, &pos, &fam) ||
            !tsdb_get_str(p, len, &pos, &help) || !tsdb_get_str(p, len, &pos, &unit) || pos != len || mtype > 16) {
            return -1;
        }
        if (v->meta) {
            v->meta(v->ctx, (int)mtype, fam, help, unit);
        }
        return 0;
    }
    uint64_t count;
    if (!tsdb_get_u(p, len, &pos, &count) || count > len) {
        return -1;
    }
    int64_t prev_t = 0;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t id;
        if (!tsdb_get_u(p, len, &pos, &id) || id > UINT32_MAX) {
            return -1;
        }
        if (type == TSDB_REC_SAMPLES) {
            uint64_t dt;
            if (!tsdb_get_u(p, len, &pos, &dt) || len - pos < 8) {
                return -1;
            }
            uint64_t bits = 0;
            for (int k = 7; k >= 0; k--) {
                bits = (bits << 8) | p[pos + (size_t)k];
            }
            pos += 8;
            prev_t = (int64_t)((uint64_t)prev_t + (uint64_t)varint_unzigzag(dt));
            double val;
            memcpy(&val, &bits, sizeof(val));
            if (v->sample) {
                v->sample(v->ctx, (uint32_t)id, prev_t, val);
            }
        } else if (type == TSDB_REC_CHUNKS) {
            if (tsdb_rec_decode_head(p, len, &pos, (uint32_t)id, v) != 0) {
                return -1;
            }
        } else if (type == TSDB_REC_SERIES) {
            uint64_t n;
            if (!tsdb_get_u(p, len, &pos, &n) || n > len - pos) {
                return -1;
            }
            if (v->series) {
                v->series(v->ctx, (uint32_t)id, p + pos, (size_t)n);
            }
            pos += (size_t)n;
        } else {
            return -1;
        }
    }
    return pos == len ? 0 : -1;
}

int tsdb_rec_decode(const uint8_t *p, size_t len, const tsdb_rec_visitor_t *v)
{
    if (len >= 1 && p[0] == TSDB_REC_ZSTD) {
        buf_t raw = { 0 };
        int rc = -1;
        if (decompress_zstd(p + 1, len - 1, TSDB_REC_MAX_RAW, &raw) == COMPRESS_OK && raw.len > 0 &&
            raw.data[0] != TSDB_REC_ZSTD) {
            rc = tsdb_rec_decode_plain(raw.data, raw.len, v);
        }
        buf_fini(&raw);
        return rc;
    }
    return tsdb_rec_decode_plain(p, len, v);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logs_wal: the WAL records of the log store on top of common/reclog
 * (format in logs_int.h), and the structured-metadata encoding that WAL,
 * head and blocks share.
 *
 * A record is self-contained: it names its streams by their canonical
 * label bytes, so there is no series log to keep in step with the WAL and
 * replay needs no state but the blocks' covers. One record per append
 * call; reclog frames and CRC-checks it, so decoding sees either a whole
 * record or none. The decoder still bounds every read by the record
 * length and validates the whole record before visiting it, so a record
 * is applied entirely or not at all.
 */
#include <string.h>

#include "common/varint.h"
#include "logs/logs_int.h"

void logs_meta_put(buf_t *out, const label_t *meta, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        buf_put_uvarint(out, meta[i].name.len);
        buf_append(out, meta[i].name.p, meta[i].name.len);
        buf_put_uvarint(out, meta[i].value.len);
        buf_append(out, meta[i].value.p, meta[i].value.len);
    }
}

static bool logs_get_u(const uint8_t *p, size_t len, size_t *pos, uint64_t *out)
{
    size_t n = varint_get_u64(p + *pos, len - *pos, out);
    *pos += n;
    return n > 0;
}

static bool logs_get_str(const uint8_t *p, size_t len, size_t *pos, str_t *out)
{
    uint64_t n;
    if (!logs_get_u(p, len, pos, &n) || n > len - *pos) {
        return false;
    }
    *out = str_from((const char *)p + *pos, (size_t)n);
    *pos += (size_t)n;
    return true;
}

long logs_meta_get(const uint8_t *p, size_t len, label_t *out, size_t max)
{
    size_t pos = 0;
    long n = 0;
    while (pos < len) {
        label_t l;
        if ((size_t)n == max || !logs_get_str(p, len, &pos, &l.name) || !logs_get_str(p, len, &pos, &l.value)) {
            return -1;
        }
        if (out) {
            out[n] = l;
        }
        n++;
    }
    return n;
}

static void logs_put_fixed5(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)((v >> (7 * i)) & 0x7f) | 0x80;
    }
    p[4] = (uint8_t)(v >> 28);
}

void logs_rec_begin(buf_t *rec, uint64_t seq)
{
    buf_reset(rec);
    buf_putc(rec, LOGS_REC_ENTRIES);
    buf_put_uvarint(rec, seq);
    uint8_t zero[5] = { 0x80, 0x80, 0x80, 0x80, 0 };
    buf_append(rec, zero, 5);
}

size_t logs_rec_add_stream(buf_t *rec, const label_t *ls, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        len += varint_len_u64(ls[i].name.len) + ls[i].name.len + varint_len_u64(ls[i].value.len) + ls[i].value.len;
    }
    buf_put_uvarint(rec, len);
    labels_encode(ls, n, rec);
    size_t at = rec->len;
    uint8_t zero[5] = { 0x80, 0x80, 0x80, 0x80, 0 };
    buf_append(rec, zero, 5);
    return at;
}

void logs_rec_set_count(buf_t *rec, size_t at, uint32_t n)
{
    logs_put_fixed5(rec->data + at, n);
}

void logs_rec_finish(buf_t *rec, uint32_t nstreams)
{
    size_t at = 1;
    uint64_t seq;
    at += varint_get_u64(rec->data + 1, rec->len - 1, &seq);
    logs_put_fixed5(rec->data + at, nstreams);
}

void logs_rec_add_entry(buf_t *rec, int64_t *prev_ts, int64_t ts, str_t line, str_t meta)
{
    buf_put_varint(rec, (int64_t)((uint64_t)ts - (uint64_t)*prev_ts));
    *prev_ts = ts;
    buf_put_uvarint(rec, line.len);
    buf_append(rec, line.p, line.len);
    buf_put_uvarint(rec, meta.len);
    buf_append(rec, meta.p, meta.len);
}

/* One pass over the record: validates, and visits when v is set. */
static int logs_rec_walk(const uint8_t *p, size_t len, const logs_rec_visitor_t *v, uint64_t *seq)
{
    size_t pos = 1;
    uint64_t nstreams;
    if (len < 1 || p[0] != LOGS_REC_ENTRIES || !logs_get_u(p, len, &pos, seq) || !logs_get_u(p, len, &pos, &nstreams) ||
        nstreams > len) {
        return -1;
    }
    for (uint64_t s = 0; s < nstreams; s++) {
        str_t labels;
        uint64_t n;
        if (!logs_get_str(p, len, &pos, &labels) || !logs_get_u(p, len, &pos, &n) || n > len) {
            return -1;
        }
        bool take = true;
        if (v && v->stream) {
            take = v->stream(v->ctx, *seq, (const uint8_t *)labels.p, labels.len);
        }
        int64_t ts = 0;
        for (uint64_t i = 0; i < n; i++) {
            uint64_t dt;
            str_t line, meta;
            if (!logs_get_u(p, len, &pos, &dt) || !logs_get_str(p, len, &pos, &line) ||
                !logs_get_str(p, len, &pos, &meta)) {
                return -1;
            }
            ts = (int64_t)((uint64_t)ts + (uint64_t)varint_unzigzag(dt));
            if (!v && logs_meta_get((const uint8_t *)meta.p, meta.len, NULL, LOGS_MAX_META) < 0) {
                return -1;
            }
            if (v && take && v->entry) {
                v->entry(v->ctx, ts, line, meta);
            }
        }
    }
    return pos == len ? 0 : -1;
}

int logs_rec_decode(const uint8_t *p, size_t len, const logs_rec_visitor_t *v, uint64_t *seq)
{
    uint64_t s = 0;
    if (logs_rec_walk(p, len, NULL, &s) != 0) {
        return -1;
    }
    if (seq) {
        *seq = s;
    }
    if (v) {
        logs_rec_walk(p, len, v, &s);
    }
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent_loki: Loki push encoding (logproto.PushRequest, the wire table in
 * logs/logs_int.h), written by hand into reusable buffers as agent_rw.c
 * writes remote-write, so that shipping allocates nothing per entry.
 *
 * A PushRequest is a sequence of field 1 (StreamAdapter: 1 labels string,
 * 2 EntryAdapter repeated). An entry is {1: Timestamp{1: seconds, 2:
 * nanos}, 2: line, 3: LabelPair{1: name, 2: value} repeated}. Entries of
 * a stream should travel together, but a stream's length prefix comes
 * before its entries; so a batch keeps up to LOKI_OPEN_STREAMS streams
 * open, each with its entries encoded in a buffer of its own, and writes
 * a stream out (labels, then the entries' bytes) when it is closed: when
 * a new stream needs the slot of the oldest one, and at finish. A stream
 * closed and met again opens a second StreamAdapter with the same labels,
 * which Loki accepts; the entries of one stream stay in the order added.
 *
 * Encoding is proto3 canonical: zero seconds/nanos and an empty line are
 * left out (decoders read them as zero and "").
 */
#include <string.h>

#include "agent/agent_int.h"
#include "common/hash.h"
#include "common/varint.h"

static size_t loki_str_len(str_t s)
{
    return 1 + varint_len_u64(s.len) + s.len;
}

static void loki_put_str(buf_t *b, uint8_t tag, str_t s)
{
    buf_putc(b, tag);
    buf_put_uvarint(b, s.len);
    buf_append(b, s.p, s.len);
}

void agent_loki_labels(const label_t *ls, size_t n, buf_t *out)
{
    buf_reset(out);
    labels_format(ls, n, out);
}

/* Write open stream i to pb and free its slot (storage kept at the end). */
static void loki_close(loki_batch_t *b, size_t i)
{
    loki_open_t *o = &b->open[i];
    str_t labels = str_from((const char *)o->labels.data, o->labels.len);
    size_t inner = loki_str_len(labels) + o->entries.len;
    buf_reserve(&b->pb, 1 + varint_len_u64(inner) + inner);
    buf_putc(&b->pb, 0x0a);
    buf_put_uvarint(&b->pb, inner);
    loki_put_str(&b->pb, 0x0a, labels);
    buf_append(&b->pb, o->entries.data, o->entries.len);
    /* Keep the slot's buffers: move it past the open ones. */
    loki_open_t done = *o;
    memmove(&b->open[i], &b->open[i + 1], (b->nopen - i - 1) * sizeof(b->open[0]));
    b->nopen--;
    b->open[b->nopen] = done;
    buf_reset(&b->open[b->nopen].labels);
    buf_reset(&b->open[b->nopen].entries);
}

static loki_open_t *loki_stream(loki_batch_t *b, str_t labels)
{
    uint64_t h = hash_bytes(labels.p, labels.len);
    for (size_t i = 0; i < b->nopen; i++) {
        loki_open_t *o = &b->open[i];
        if (o->hash == h && o->labels.len == labels.len && memcmp(o->labels.data, labels.p, labels.len) == 0) {
            return o;
        }
    }
    if (b->nopen == LOKI_OPEN_STREAMS) {
        loki_close(b, 0);
    }
    loki_open_t *o = &b->open[b->nopen++];
    buf_reset(&o->labels);
    buf_reset(&o->entries);
    buf_append(&o->labels, labels.p, labels.len);
    o->hash = h;
    b->bytes += 8 + labels.len;
    return o;
}

void agent_loki_add(loki_batch_t *b, str_t labels, int64_t ts_ns, str_t line, const label_t *meta, size_t nmeta)
{
    loki_open_t *o = loki_stream(b, labels);
    int64_t sec = ts_ns / 1000000000;
    int64_t nsec = ts_ns % 1000000000;
    if (nsec < 0) {
        sec--;
        nsec += 1000000000;
    }
    size_t tslen = (sec ? 1 + varint_len_u64((uint64_t)sec) : 0) + (nsec ? 1 + varint_len_u64((uint64_t)nsec) : 0);
    size_t entry = 1 + varint_len_u64(tslen) + tslen + (line.len ? loki_str_len(line) : 0);
    for (size_t i = 0; i < nmeta; i++) {
        size_t pl = loki_str_len(meta[i].name) + loki_str_len(meta[i].value);
        entry += 1 + varint_len_u64(pl) + pl;
    }
    buf_t *e = &o->entries;
    buf_reserve(e, 1 + varint_len_u64(entry) + entry);
    buf_putc(e, 0x12);
    buf_put_uvarint(e, entry);
    buf_putc(e, 0x0a);
    buf_put_uvarint(e, tslen);
    if (sec) {
        buf_putc(e, 0x08);
        buf_put_uvarint(e, (uint64_t)sec);
    }
    if (nsec) {
        buf_putc(e, 0x10);
        buf_put_uvarint(e, (uint64_t)nsec);
    }
    if (line.len) {
        loki_put_str(e, 0x12, line);
    }
    for (size_t i = 0; i < nmeta; i++) {
        size_t pl = loki_str_len(meta[i].name) + loki_str_len(meta[i].value);
        buf_putc(e, 0x1a);
        buf_put_uvarint(e, pl);
        loki_put_str(e, 0x0a, meta[i].name);
        loki_put_str(e, 0x12, meta[i].value);
    }
    b->nentries++;
    b->bytes += 1 + varint_len_u64(entry) + entry;
}

void agent_loki_finish(loki_batch_t *b, buf_t *out)
{
    while (b->nopen > 0) {
        loki_close(b, 0);
    }
    buf_append(out, b->pb.data, b->pb.len);
}

void agent_loki_reset(loki_batch_t *b)
{
    while (b->nopen > 0) {
        b->nopen--;
        buf_reset(&b->open[b->nopen].labels);
        buf_reset(&b->open[b->nopen].entries);
    }
    buf_reset(&b->pb);
    b->nentries = 0;
    b->bytes = 0;
    b->first_ms = 0;
}

void agent_loki_fini(loki_batch_t *b)
{
    for (size_t i = 0; i < LOKI_OPEN_STREAMS; i++) {
        buf_fini(&b->open[i].labels);
        buf_fini(&b->open[i].entries);
    }
    buf_fini(&b->pb);
    memset(b, 0, sizeof(*b));
}

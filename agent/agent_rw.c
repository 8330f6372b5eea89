/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent_rw: remote-write 1.0 encoding, written by hand into a reusable
 * buffer so that shipping allocates nothing per sample.
 *
 * A WriteRequest is a sequence of field 1 (TimeSeries, length-delimited);
 * each TimeSeries holds its labels (field 1: Label{1: name, 2: value}) and
 * one Sample (field 2: {1: double value as fixed64, 2: int64 timestamp
 * ms as varint}). Every sample gets its own TimeSeries, as Prometheus'
 * own sender writes them; a batch is the concatenation, so appending a
 * sample is appending bytes. Labels must come sorted by name (the series
 * builder below does it), __name__ included.
 *
 * Series of a sink sample: __name__, the sample's labels, then the
 * target's labels (job, instance, static labels). A sample label that the
 * target also sets is kept as exported_<name> (Prometheus' honor_labels:
 * false), unless honor is set, in which case the sample's wins.
 */
#include <string.h>

#include "agent/agent_int.h"
#include "common/varint.h"

static size_t rw_label_len(const label_t *l)
{
    return 1 + varint_len_u64(l->name.len) + l->name.len + 1 + varint_len_u64(l->value.len) + l->value.len;
}

static void rw_put_string(buf_t *b, uint8_t tag, str_t s)
{
    buf_putc(b, tag);
    buf_put_uvarint(b, s.len);
    buf_append(b, s.p, s.len);
}

void agent_rw_add(rw_batch_t *b, const label_t *ls, size_t n, double v, int64_t ts_ms)
{
    size_t labels = 0;
    for (size_t i = 0; i < n; i++) {
        size_t ll = rw_label_len(&ls[i]);
        labels += 1 + varint_len_u64(ll) + ll;
    }
    size_t sample = 1 + 8 + 1 + varint_len_u64((uint64_t)ts_ms);
    size_t series = labels + 1 + varint_len_u64(sample) + sample;
    buf_reserve(&b->pb, 1 + varint_len_u64(series) + series);
    buf_putc(&b->pb, 0x0a);
    buf_put_uvarint(&b->pb, series);
    for (size_t i = 0; i < n; i++) {
        buf_putc(&b->pb, 0x0a);
        buf_put_uvarint(&b->pb, rw_label_len(&ls[i]));
        rw_put_string(&b->pb, 0x0a, ls[i].name);
        rw_put_string(&b->pb, 0x12, ls[i].value);
    }
    buf_putc(&b->pb, 0x12);
    buf_put_uvarint(&b->pb, sample);
    buf_putc(&b->pb, 0x09);
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    buf_put_u64le(&b->pb, bits);
    buf_putc(&b->pb, 0x10);
    buf_put_uvarint(&b->pb, (uint64_t)ts_ms);
    b->nsamples++;
}

void agent_rw_reset(rw_batch_t *b)
{
    buf_reset(&b->pb);
    b->nsamples = 0;
    b->first_ms = 0;
}

static bool rw_has(const label_t *ls, size_t n, str_t name)
{
    for (size_t i = 0; i < n; i++) {
        if (str_eq(ls[i].name, name)) {
            return true;
        }
    }
    return false;
}

size_t agent_rw_series(const msink_t *s, const msink_sample_t *x, const label_t *target, size_t ntarget, bool honor,
                       buf_t *scratch, label_t *out, size_t max)
{
    if (max < 1 + ntarget) {
        return 0;
    }
    size_t n = 0;
    out[n++] = (label_t){ STR_LIT("__name__"), msink_sample_name(s, x) };
    size_t own = msink_sample_labels(s, x, out + n, max - n - ntarget);
    /* exported_ names are built in scratch; reserve first so the slices
     * taken below stay valid. */
    buf_reset(scratch);
    size_t need = 0;
    for (size_t i = 0; i < own; i++) {
        need += 9 + out[n + i].name.len;
    }
    buf_reserve(scratch, need);
    size_t kept = n;
    for (size_t i = 0; i < own; i++) {
        label_t l = out[n + i];
        if (l.value.len == 0) {
            continue;
        }
        if (rw_has(target, ntarget, l.name) && !honor) {
            size_t at = scratch->len;
            buf_append(scratch, "exported_", 9);
            buf_append(scratch, l.name.p, l.name.len);
            l.name = str_from((const char *)scratch->data + at, 9 + l.name.len);
        }
        out[kept++] = l;
    }
    for (size_t i = 0; i < ntarget; i++) {
        if (honor && rw_has(out + 1, kept - 1, target[i].name)) {
            continue;
        }
        out[kept++] = target[i];
    }
    labels_sort(out, kept);
    return kept;
}

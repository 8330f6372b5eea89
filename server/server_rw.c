/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server_rw: a zero-copy decoder of the remote-write 1.0 WriteRequest
 * (proto/remote.proto) for the ingest hot path.
 *
 * protoc-c's generic unpacker allocates and copies every label; this
 * decoder walks the wire format once to count, once to fill arrays from an
 * arena, and leaves every label name and value as a slice of the request
 * buffer. It is pure (bytes in, structs out) and bounded: every length is
 * checked against its enclosing message, unknown fields are skipped by
 * wire type, a known field with the wrong wire type or a group is an
 * error with its byte offset. Field semantics follow proto3: the last
 * occurrence of a scalar wins; absent scalars are zero.
 *
 * For each series it also reports the span of its leading label fields
 * (labels_raw): senders encode the labels of a series identically every
 * time, so those bytes are a cheap fingerprint of the label set.
 */
#include <stdio.h>
#include <string.h>

#include "common/pbwire.h"
#include "server/server_int.h"

static str_t rw_str(const pbwire_t *sub)
{
    return str_from(sub->len ? (const char *)sub->p : "", sub->len);
}

/* Decode a Label into *l. */
static int rw_label(pbwire_t *c, label_t *l, char *err, size_t errlen)
{
    uint32_t f, wt;
    bool bad = false;
    l->name = str_from("", 0);
    l->value = str_from("", 0);
    while (pbwire_tag(c, &f, &wt, &bad)) {
        if (f == 1 || f == 2) {
            pbwire_t s;
            if (wt != PBWIRE_LEN || !pbwire_sub(c, &s)) {
                return pbwire_fail(err, errlen, c, "bad label field");
            }
            if (f == 1) {
                l->name = rw_str(&s);
            } else {
                l->value = rw_str(&s);
            }
        } else if (!pbwire_skip(c, wt)) {
            return pbwire_fail(err, errlen, c, "bad field in Label");
        }
    }
    return bad ? pbwire_fail(err, errlen, c, "bad tag in Label") : 0;
}

static int rw_sample(pbwire_t *c, tsdb_sample_t *s, char *err, size_t errlen)
{
    uint32_t f, wt;
    bool bad = false;
    s->t = 0;
    s->v = 0;
    while (pbwire_tag(c, &f, &wt, &bad)) {
        if (f == 1) {
            uint64_t bits;
            if (wt != PBWIRE_I64 || !pbwire_fixed64(c, &bits)) {
                return pbwire_fail(err, errlen, c, "bad sample value");
            }
            memcpy(&s->v, &bits, sizeof(bits));
        } else if (f == 2) {
            uint64_t t;
            if (wt != PBWIRE_VARINT || !pbwire_varint(c, &t)) {
                return pbwire_fail(err, errlen, c, "bad sample timestamp");
            }
            s->t = (int64_t)t;
        } else if (!pbwire_skip(c, wt)) {
            return pbwire_fail(err, errlen, c, "bad field in Sample");
        }
    }
    return bad ? pbwire_fail(err, errlen, c, "bad tag in Sample") : 0;
}

/* One TimeSeries: counts only (fill == false) or fills s. */
static int rw_series(pbwire_t *c, bool fill, server_rw_series_t *s, char *err, size_t errlen)
{
    uint32_t f, wt;
    bool bad = false;
    bool in_labels = true;
    size_t nl = 0, ns = 0;
    s->labels_raw = c->p;
    s->labels_raw_len = 0;
    s->labels_contiguous = true;
    while (pbwire_tag(c, &f, &wt, &bad)) {
        pbwire_t sub;
        if ((f >= 1 && f <= 4) && (wt != PBWIRE_LEN || !pbwire_sub(c, &sub))) {
            return pbwire_fail(err, errlen, c, "bad field in TimeSeries");
        }
        switch (f) {
        case 1:
            if (!in_labels) {
                s->labels_contiguous = false;
            }
            if (fill && rw_label(&sub, &s->labels[nl], err, errlen) != 0) {
                return -1;
            }
            nl++;
            if (in_labels) {
                s->labels_raw_len = c->pos;
            }
            break;
        case 2:
            in_labels = false;
            if (fill && rw_sample(&sub, &s->samples[ns], err, errlen) != 0) {
                return -1;
            }
            ns++;
            break;
        case 3:
            in_labels = false;
            s->nexemplars++;
            break;
        case 4:
            in_labels = false;
            s->nhistograms++;
            break;
        default:
            in_labels = false;
            if (!pbwire_skip(c, wt)) {
                return pbwire_fail(err, errlen, c, "bad field in TimeSeries");
            }
        }
    }
    if (bad) {
        return pbwire_fail(err, errlen, c, "bad tag in TimeSeries");
    }
    s->nlabels = nl;
    s->nsamples = ns;
    return 0;
}

static int rw_meta(pbwire_t *c, server_rw_meta_t *m, char *err, size_t errlen)
{
    uint32_t f, wt;
    bool bad = false;
    memset(m, 0, sizeof(*m));
    m->family = m->help = m->unit = str_from("", 0);
    while (pbwire_tag(c, &f, &wt, &bad)) {
        if (f == 1) {
            uint64_t v;
            if (wt != PBWIRE_VARINT || !pbwire_varint(c, &v)) {
                return pbwire_fail(err, errlen, c, "bad metadata type");
            }
            m->type = (int)(v & 0xff);
        } else if (f == 2 || f == 4 || f == 5) {
            pbwire_t s;
            if (wt != PBWIRE_LEN || !pbwire_sub(c, &s)) {
                return pbwire_fail(err, errlen, c, "bad metadata field");
            }
            *(f == 2 ? &m->family : f == 4 ? &m->help : &m->unit) = rw_str(&s);
        } else if (!pbwire_skip(c, wt)) {
            return pbwire_fail(err, errlen, c, "bad field in MetricMetadata");
        }
    }
    return bad ? pbwire_fail(err, errlen, c, "bad tag in MetricMetadata") : 0;
}

int server_rw_decode(const uint8_t *p, size_t len, arena_t *a, server_rw_request_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    /* Pass 1: count series, labels and samples, validating the framing. */
    size_t nseries = 0, nmeta = 0, nlabels = 0, nsamples = 0;
    for (int pass = 0; pass < 2; pass++) {
        pbwire_t c = pbwire_init(p, len);
        uint32_t f, wt;
        bool bad = false;
        size_t si = 0, mi = 0, li = 0, smi = 0;
        while (pbwire_tag(&c, &f, &wt, &bad)) {
            pbwire_t sub;
            if ((f == 1 || f == 3) && (wt != PBWIRE_LEN || !pbwire_sub(&c, &sub))) {
                return pbwire_fail(err, errlen, &c, "bad field in WriteRequest");
            }
            if (f == 1) {
                server_rw_series_t tmp = { 0 };
                server_rw_series_t *s = pass ? &out->series[si] : &tmp;
                if (pass) {
                    memset(s, 0, sizeof(*s));
                    s->labels = out->labels + li;
                    s->samples = out->samples + smi;
                }
                if (rw_series(&sub, pass == 1, s, err, errlen) != 0) {
                    return -1;
                }
                li += s->nlabels;
                smi += s->nsamples;
                si++;
            } else if (f == 3) {
                if (pass && rw_meta(&sub, &out->meta[mi], err, errlen) != 0) {
                    return -1;
                }
                mi++;
            } else if (!pbwire_skip(&c, wt)) {
                return pbwire_fail(err, errlen, &c, "bad field in WriteRequest");
            }
        }
        if (bad) {
            return pbwire_fail(err, errlen, &c, "bad tag in WriteRequest");
        }
        if (pass == 0) {
            nseries = si;
            nmeta = mi;
            nlabels = li;
            nsamples = smi;
            /* What decoding will allocate, bounded by the request's size:
             * real requests need ~3x their bytes; a body of empty
             * messages would need ~70x (a cheap way to exhaust memory). */
            uint64_t need = (uint64_t)nseries * SERVER_RW_SERIES_COST + (uint64_t)nmeta * sizeof(server_rw_meta_t) +
                            (uint64_t)nlabels * sizeof(label_t) + (uint64_t)nsamples * sizeof(tsdb_sample_t);
            if (need > (uint64_t)len * SERVER_RW_MAX_EXPANSION + 65536) {
                snprintf(err, errlen,
                         "protobuf: %zu series, %zu labels, %zu samples in %zu bytes: too many empty elements", nseries,
                         nlabels, nsamples, len);
                return -1;
            }
            out->series = arena_alloc(a, (nseries ? nseries : 1) * sizeof(server_rw_series_t));
            out->meta = arena_alloc(a, (nmeta ? nmeta : 1) * sizeof(server_rw_meta_t));
            out->labels = arena_alloc(a, (nlabels ? nlabels : 1) * sizeof(label_t));
            out->samples = arena_alloc(a, (nsamples ? nsamples : 1) * sizeof(tsdb_sample_t));
        }
    }
    out->nseries = nseries;
    out->nmeta = nmeta;
    return 0;
}

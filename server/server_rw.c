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

#include "common/varint.h"
#include "server/server_int.h"

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

typedef struct rw_cur {
    const uint8_t *base; /* start of the whole request, for offsets */
    const uint8_t *p;
    size_t len, pos;
} rw_cur_t;

static int rw_fail(char *err, size_t errlen, const rw_cur_t *c, const char *what)
{
    snprintf(err, errlen, "protobuf: %s at byte %zu", what, (size_t)(c->p - c->base) + c->pos);
    return -1;
}

/* Read a tag; false at the end of the message. *bad on malformed. */
static bool rw_tag(rw_cur_t *c, uint32_t *field, uint32_t *wt, bool *bad)
{
    if (c->pos >= c->len) {
        return false;
    }
    uint64_t v;
    size_t n = varint_get_u64(c->p + c->pos, c->len - c->pos, &v);
    if (n == 0 || (v >> 3) == 0 || (v >> 3) > 0x1fffffff) {
        *bad = true;
        return false;
    }
    c->pos += n;
    *field = (uint32_t)(v >> 3);
    *wt = (uint32_t)(v & 7);
    return true;
}

static bool rw_varint(rw_cur_t *c, uint64_t *v)
{
    size_t n = varint_get_u64(c->p + c->pos, c->len - c->pos, v);
    c->pos += n;
    return n > 0;
}

/* A length-delimited field: a sub-cursor over its bytes. */
static bool rw_sub(rw_cur_t *c, rw_cur_t *sub)
{
    uint64_t n;
    if (!rw_varint(c, &n) || n > c->len - c->pos) {
        return false;
    }
    sub->base = c->base;
    sub->p = c->p + c->pos;
    sub->len = (size_t)n;
    sub->pos = 0;
    c->pos += (size_t)n;
    return true;
}

static bool rw_skip(rw_cur_t *c, uint32_t wt)
{
    uint64_t v;
    rw_cur_t sub;
    switch (wt) {
    case WT_VARINT:
        return rw_varint(c, &v);
    case WT_I64:
        if (c->len - c->pos < 8) {
            return false;
        }
        c->pos += 8;
        return true;
    case WT_I32:
        if (c->len - c->pos < 4) {
            return false;
        }
        c->pos += 4;
        return true;
    case WT_LEN:
        return rw_sub(c, &sub);
    default:
        return false; /* groups (3, 4) and 6, 7 */
    }
}

static bool rw_fixed64(rw_cur_t *c, uint64_t *v)
{
    if (c->len - c->pos < 8) {
        return false;
    }
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--) {
        x = (x << 8) | c->p[c->pos + (size_t)i];
    }
    *v = x;
    c->pos += 8;
    return true;
}

static str_t rw_str(const rw_cur_t *sub)
{
    return str_from(sub->len ? (const char *)sub->p : "", sub->len);
}

/* Decode a Label into *l. */
static int rw_label(rw_cur_t *c, label_t *l, char *err, size_t errlen)
{
    uint32_t f, wt;
    bool bad = false;
    l->name = str_from("", 0);
    l->value = str_from("", 0);
    while (rw_tag(c, &f, &wt, &bad)) {
        if (f == 1 || f == 2) {
            rw_cur_t s;
            if (wt != WT_LEN || !rw_sub(c, &s)) {
                return rw_fail(err, errlen, c, "bad label field");
            }
            if (f == 1) {
                l->name = rw_str(&s);
            } else {
                l->value = rw_str(&s);
            }
        } else if (!rw_skip(c, wt)) {
            return rw_fail(err, errlen, c, "bad field in Label");
        }
    }
    return bad ? rw_fail(err, errlen, c, "bad tag in Label") : 0;
}

static int rw_sample(rw_cur_t *c, tsdb_sample_t *s, char *err, size_t errlen)
{
    uint32_t f, wt;
    bool bad = false;
    s->t = 0;
    s->v = 0;
    while (rw_tag(c, &f, &wt, &bad)) {
        if (f == 1) {
            uint64_t bits;
            if (wt != WT_I64 || !rw_fixed64(c, &bits)) {
                return rw_fail(err, errlen, c, "bad sample value");
            }
            memcpy(&s->v, &bits, sizeof(bits));
        } else if (f == 2) {
            uint64_t t;
            if (wt != WT_VARINT || !rw_varint(c, &t)) {
                return rw_fail(err, errlen, c, "bad sample timestamp");
            }
            s->t = (int64_t)t;
        } else if (!rw_skip(c, wt)) {
            return rw_fail(err, errlen, c, "bad field in Sample");
        }
    }
    return bad ? rw_fail(err, errlen, c, "bad tag in Sample") : 0;
}

/* One TimeSeries: counts only (fill == false) or fills s. */
static int rw_series(rw_cur_t *c, bool fill, server_rw_series_t *s, char *err, size_t errlen)
{
    uint32_t f, wt;
    bool bad = false;
    bool in_labels = true;
    size_t nl = 0, ns = 0;
    s->labels_raw = c->p;
    s->labels_raw_len = 0;
    s->labels_contiguous = true;
    while (rw_tag(c, &f, &wt, &bad)) {
        rw_cur_t sub;
        if ((f >= 1 && f <= 4) && (wt != WT_LEN || !rw_sub(c, &sub))) {
            return rw_fail(err, errlen, c, "bad field in TimeSeries");
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
            if (!rw_skip(c, wt)) {
                return rw_fail(err, errlen, c, "bad field in TimeSeries");
            }
        }
    }
    if (bad) {
        return rw_fail(err, errlen, c, "bad tag in TimeSeries");
    }
    s->nlabels = nl;
    s->nsamples = ns;
    return 0;
}

static int rw_meta(rw_cur_t *c, server_rw_meta_t *m, char *err, size_t errlen)
{
    uint32_t f, wt;
    bool bad = false;
    memset(m, 0, sizeof(*m));
    m->family = m->help = m->unit = str_from("", 0);
    while (rw_tag(c, &f, &wt, &bad)) {
        if (f == 1) {
            uint64_t v;
            if (wt != WT_VARINT || !rw_varint(c, &v)) {
                return rw_fail(err, errlen, c, "bad metadata type");
            }
            m->type = (int)(v & 0xff);
        } else if (f == 2 || f == 4 || f == 5) {
            rw_cur_t s;
            if (wt != WT_LEN || !rw_sub(c, &s)) {
                return rw_fail(err, errlen, c, "bad metadata field");
            }
            *(f == 2 ? &m->family : f == 4 ? &m->help : &m->unit) = rw_str(&s);
        } else if (!rw_skip(c, wt)) {
            return rw_fail(err, errlen, c, "bad field in MetricMetadata");
        }
    }
    return bad ? rw_fail(err, errlen, c, "bad tag in MetricMetadata") : 0;
}

int server_rw_decode(const uint8_t *p, size_t len, arena_t *a, server_rw_request_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    /* Pass 1: count series, labels and samples, validating the framing. */
    size_t nseries = 0, nmeta = 0, nlabels = 0, nsamples = 0;
    for (int pass = 0; pass < 2; pass++) {
        rw_cur_t c = { p, p, len, 0 };
        uint32_t f, wt;
        bool bad = false;
        size_t si = 0, mi = 0, li = 0, smi = 0;
        while (rw_tag(&c, &f, &wt, &bad)) {
            rw_cur_t sub;
            if ((f == 1 || f == 3) && (wt != WT_LEN || !rw_sub(&c, &sub))) {
                return rw_fail(err, errlen, &c, "bad field in WriteRequest");
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
            } else if (!rw_skip(&c, wt)) {
                return rw_fail(err, errlen, &c, "bad field in WriteRequest");
            }
        }
        if (bad) {
            return rw_fail(err, errlen, &c, "bad tag in WriteRequest");
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

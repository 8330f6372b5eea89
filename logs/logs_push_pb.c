/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logs_push_pb: a zero-copy decoder of logproto.PushRequest (layout in
 * logs_int.h) for the ingest hot path.
 *
 * protoc-c's unpacker would allocate and copy every line; this walker
 * reads the wire format in place: each message is walked once to count
 * its repeated children and once to fill arena arrays of exactly that
 * size, and every line, label string and metadata pair stays a slice of
 * the (arena) body. It is bounded: each length is checked against its
 * enclosing message, unknown fields are skipped by wire type, and a known
 * field with the wrong wire type, a group or a truncated field fails the
 * whole request with its byte offset. Proto3 rules: the last occurrence of
 * a scalar wins, a repeated singular message (timestamp) merges, absent
 * fields are zero.
 *
 * Time: seconds * 1e9 + nanos as Go's time.Unix(s, n).UnixNano() would
 * give for representable times; an entry whose time does not fit in int64
 * ns is rejected (logs_push_add_stream), not wrapped.
 */
#include <stdio.h>
#include <string.h>

#include "common/pbwire.h"
#include "logs/logs_int.h"

static str_t pb_str(const pbwire_t *sub)
{
    return str_from((const char *)sub->p, sub->len);
}

/* The next tag of c: 1 = got one, 0 = end of message, -1 = malformed. */
static int pb_next(pbwire_t *c, uint32_t *field, uint32_t *wt, char *err, size_t errlen)
{
    bool bad = false;
    if (!pbwire_tag(c, field, wt, &bad)) {
        return bad ? pbwire_fail(err, errlen, c, "invalid tag") : 0;
    }
    return 1;
}

/* Timestamp (merged into *sec, *nanos). */
static int pb_timestamp(pbwire_t c, int64_t *sec, int32_t *nanos, char *err, size_t errlen)
{
    uint32_t f, wt;
    int rc;
    while ((rc = pb_next(&c, &f, &wt, err, errlen)) == 1) {
        uint64_t v;
        if ((f == 1 || f == 2) && wt != PBWIRE_VARINT) {
            return pbwire_fail(err, errlen, &c, "timestamp field with the wrong wire type");
        }
        if (f == 1 || f == 2) {
            if (!pbwire_varint(&c, &v)) {
                return pbwire_fail(err, errlen, &c, "truncated varint");
            }
            if (f == 1) {
                *sec = (int64_t)v;
            } else {
                *nanos = (int32_t)(uint32_t)v;
            }
        } else if (!pbwire_skip(&c, wt)) {
            return pbwire_fail(err, errlen, &c, "truncated field");
        }
    }
    return rc;
}

/* LabelPairAdapter into *l (both slices borrow the body). */
static int pb_pair(pbwire_t c, label_t *l, char *err, size_t errlen)
{
    uint32_t f, wt;
    int rc;
    *l = (label_t){ STR_LIT(""), STR_LIT("") };
    while ((rc = pb_next(&c, &f, &wt, err, errlen)) == 1) {
        pbwire_t sub;
        if ((f == 1 || f == 2) && wt != PBWIRE_LEN) {
            return pbwire_fail(err, errlen, &c, "label pair field with the wrong wire type");
        }
        if (f == 1 || f == 2) {
            if (!pbwire_sub(&c, &sub)) {
                return pbwire_fail(err, errlen, &c, "truncated label pair");
            }
            *(f == 1 ? &l->name : &l->value) = pb_str(&sub);
        } else if (!pbwire_skip(&c, wt)) {
            return pbwire_fail(err, errlen, &c, "truncated field");
        }
    }
    return rc;
}

/* One pass over an EntryAdapter: with meta == NULL count the metadata
 * pairs into *nmeta; otherwise fill e and meta[0..*nmeta). */
static int pb_entry_pass(pbwire_t c, logs_entry_t *e, label_t *meta, size_t *nmeta, bool *ts_bad, char *err,
                         size_t errlen)
{
    uint32_t f, wt;
    int rc;
    int64_t sec = 0;
    int32_t nanos = 0;
    size_t k = 0;
    while ((rc = pb_next(&c, &f, &wt, err, errlen)) == 1) {
        pbwire_t sub;
        if (f >= 1 && f <= 4 && wt != PBWIRE_LEN) {
            return pbwire_fail(err, errlen, &c, "entry field with the wrong wire type");
        }
        if (f >= 1 && f <= 4) {
            if (!pbwire_sub(&c, &sub)) {
                return pbwire_fail(err, errlen, &c, "truncated entry field");
            }
            if (f == 1 && pb_timestamp(sub, &sec, &nanos, err, errlen) != 0) {
                return -1;
            }
            if (f == 2) {
                e->line = pb_str(&sub);
            }
            if (f == 3 && meta && pb_pair(sub, &meta[k], err, errlen) != 0) {
                return -1;
            }
            k += f == 3;
        } else if (!pbwire_skip(&c, wt)) {
            return pbwire_fail(err, errlen, &c, "truncated field");
        }
    }
    if (rc != 0) {
        return rc;
    }
    *nmeta = k;
    int64_t ns = 0;
    *ts_bad = __builtin_mul_overflow(sec, (int64_t)1000000000, &ns) || __builtin_add_overflow(ns, nanos, &ns);
    e->ts_ns = *ts_bad ? 0 : ns;
    return 0;
}

static int pb_entry(logs_push_ctx_t *ctx, pbwire_t c, logs_entry_t *e, bool *ts_bad, char *err, size_t errlen)
{
    size_t nmeta = 0;
    *e = (logs_entry_t){ 0, STR_LIT(""), NULL, 0 };
    if (pb_entry_pass(c, e, NULL, &nmeta, ts_bad, err, errlen) != 0) {
        return -1;
    }
    label_t *meta = nmeta ? arena_alloc(ctx->arena, nmeta * sizeof(label_t)) : NULL;
    if (meta && pb_entry_pass(c, e, meta, &nmeta, ts_bad, err, errlen) != 0) {
        return -1;
    }
    e->meta = meta;
    e->nmeta = nmeta;
    return 0;
}

/* One pass over a StreamAdapter: with entries == NULL only count them. */
static int pb_stream_pass(logs_push_ctx_t *ctx, pbwire_t c, str_t *labels, logs_entry_t *entries, bool *ts_bad,
                          size_t *n, char *err, size_t errlen)
{
    uint32_t f, wt;
    int rc;
    size_t k = 0;
    while ((rc = pb_next(&c, &f, &wt, err, errlen)) == 1) {
        pbwire_t sub;
        if ((f == 1 || f == 2) && wt != PBWIRE_LEN) {
            return pbwire_fail(err, errlen, &c, "stream field with the wrong wire type");
        }
        if (f == 3 && wt != PBWIRE_VARINT) {
            return pbwire_fail(err, errlen, &c, "stream hash with the wrong wire type");
        }
        if (f == 1 || f == 2) {
            if (!pbwire_sub(&c, &sub)) {
                return pbwire_fail(err, errlen, &c, "truncated stream field");
            }
            if (f == 1) {
                *labels = pb_str(&sub);
            } else if (entries && pb_entry(ctx, sub, &entries[k], &ts_bad[k], err, errlen) != 0) {
                return -1;
            }
            k += f == 2;
        } else if (!pbwire_skip(&c, wt)) {
            return pbwire_fail(err, errlen, &c, "truncated field");
        }
    }
    *n = k;
    return rc;
}

static int pb_stream(logs_push_ctx_t *ctx, pbwire_t c, char *err, size_t errlen)
{
    str_t raw = STR_LIT("");
    size_t n = 0;
    if (pb_stream_pass(ctx, c, &raw, NULL, NULL, &n, err, errlen) != 0) {
        return -1;
    }
    logs_entry_t *entries = arena_alloc(ctx->arena, (n ? n : 1) * sizeof(logs_entry_t));
    bool *ts_bad = arena_calloc(ctx->arena, n ? n : 1, sizeof(bool));
    if (n && pb_stream_pass(ctx, c, &raw, entries, ts_bad, &n, err, errlen) != 0) {
        return -1;
    }
    char perr[160];
    label_t *ls = NULL;
    size_t nl = 0;
    int prc = logs_selector_parse(raw, ctx->arena, &ls, &nl, perr, sizeof(perr));
    logs_push_add_stream(ctx, raw, prc == 0 ? NULL : perr, ls, nl, entries, n, ts_bad);
    return 0;
}

/* One pass over the PushRequest: count streams, or (fill) decode them. */
static int pb_request_pass(logs_push_ctx_t *ctx, pbwire_t c, bool fill, size_t *n, char *err, size_t errlen)
{
    uint32_t f, wt;
    int rc;
    size_t k = 0;
    while ((rc = pb_next(&c, &f, &wt, err, errlen)) == 1) {
        pbwire_t sub;
        if ((f == 1 || f == 2) && wt != PBWIRE_LEN) {
            return pbwire_fail(err, errlen, &c, "request field with the wrong wire type");
        }
        if (f == 1 || f == 2) {
            if (!pbwire_sub(&c, &sub)) {
                return pbwire_fail(err, errlen, &c, "truncated request field");
            }
            if (f == 1 && fill && pb_stream(ctx, sub, err, errlen) != 0) {
                return -1;
            }
            k += f == 1;
        } else if (!pbwire_skip(&c, wt)) {
            return pbwire_fail(err, errlen, &c, "truncated field");
        }
    }
    *n = k;
    return rc;
}

int logs_push_pb_decode(logs_push_ctx_t *ctx, const uint8_t *p, size_t len, char *err, size_t errlen)
{
    pbwire_t c = pbwire_init(p, len);
    size_t n = 0;
    if (pb_request_pass(ctx, c, false, &n, err, errlen) != 0) {
        return -1;
    }
    logs_push_begin(ctx, n);
    return pb_request_pass(ctx, c, true, &n, err, errlen);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server_ingest: Prometheus remote-write 1.0 into the store.
 *
 * body --snappy--> WriteRequest --protobuf-c (arena allocator)--> series
 * --labels_normalize/validate--> tsdb_append (one WAL record per request).
 *
 * A malformed body (bad snappy, bad protobuf) stores nothing: 400. A bad
 * series (no __name__, duplicate or invalid names, invalid UTF-8, over a
 * limit, native histograms) is skipped and counted; the rest of the
 * request is stored and the answer is 400 naming the first problem and
 * the counts, as Prometheus' receiver does. Everything the request
 * allocates lives in one arena freed at the end.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/compress.h"
#include "common/mem.h"
#include "proto/remote.pb-c.h"
#include "server/server.h"

#define INGEST_HISTOGRAM_SLOT 7

static void *ingest_pb_alloc(void *ctx, size_t size)
{
    return arena_try_alloc(ctx, size);
}

static void ingest_pb_free(void *ctx, void *p)
{
    (void)ctx;
    (void)p;
}

/* protobuf-c leaves data NULL for empty bytes; slices always point somewhere
 * (str_t consumers may memcmp/memcpy them, which NULL forbids even at 0). */
static str_t ingest_str(ProtobufCBinaryData b)
{
    return str_from(b.data ? (const char *)b.data : "", b.len);
}

int server_ingest_remote_write(tsdb_t *db, const server_ingest_limits_t *lim, const uint8_t *body, size_t len,
                               server_ingest_stats_t *st, char *msg, size_t msglen)
{
    memset(st, 0, sizeof(*st));
    msg[0] = '\0';
    buf_t raw = { 0 };
    compress_status_t cs = decompress_snappy(body, len, lim->max_decoded, &raw);
    if (cs == COMPRESS_TOO_LARGE) {
        snprintf(msg, msglen, "decoded body exceeds the limit of %zu bytes", lim->max_decoded);
        buf_fini(&raw);
        return 413;
    }
    if (cs != COMPRESS_OK) {
        snprintf(msg, msglen, "snappy: corrupt input (the body must be snappy block-compressed)");
        buf_fini(&raw);
        return 400;
    }
    arena_t *arena = arena_create(1 << 20);
    ProtobufCAllocator alloc = { ingest_pb_alloc, ingest_pb_free, arena };
    Prometheus__WriteRequest *wr = prometheus__write_request__unpack(&alloc, raw.len, raw.data);
    buf_fini(&raw);
    if (!wr) {
        snprintf(msg, msglen, "protobuf: cannot decode WriteRequest");
        arena_destroy(arena);
        return 400;
    }
    for (size_t i = 0; i < wr->n_metadata; i++) {
        const Prometheus__MetricMetadata *m = wr->metadata[i];
        str_t fam = ingest_str(m->metric_family_name);
        str_t help = ingest_str(m->help);
        str_t unit = ingest_str(m->unit);
        if (fam.len == 0 || !str_utf8_valid(fam.p, fam.len) || !str_utf8_valid(help.p, help.len) ||
            !str_utf8_valid(unit.p, unit.len)) {
            continue;
        }
        tsdb_set_metadata(db, fam, (int)m->type, help, unit);
        st->metadata++;
    }
    tsdb_input_t *in = arena_alloc(arena, (wr->n_timeseries ? wr->n_timeseries : 1) * sizeof(tsdb_input_t));
    size_t nin = 0;
    char first_bad[256] = "";
    uint64_t bad_series = 0;
    for (size_t i = 0; i < wr->n_timeseries; i++) {
        const Prometheus__TimeSeries *ts = wr->timeseries[i];
        st->series_total++;
        st->exemplars_ignored += ts->n_exemplars;
        size_t nl = ts->n_labels;
        char why[192] = "";
        labels_status_t ls_st = LABELS_OK;
        label_t *ls = NULL;
        if (ts->n_histograms > 0) {
            snprintf(why, sizeof(why), "native histograms are not supported");
            st->series_rejected[INGEST_HISTOGRAM_SLOT]++;
            ls_st = LABELS_TOO_MANY; /* any non-OK marker */
        } else if (lim->labels.max_labels && nl > lim->labels.max_labels) {
            ls_st = LABELS_TOO_MANY;
            snprintf(why, sizeof(why), "series has %zu labels, limit is %zu", nl, lim->labels.max_labels);
            st->series_rejected[ls_st]++;
        } else {
            ls = arena_alloc(arena, (nl ? nl : 1) * sizeof(label_t));
            for (size_t k = 0; k < nl; k++) {
                ls[k].name = ingest_str(ts->labels[k]->name);
                ls[k].value = ingest_str(ts->labels[k]->value);
            }
            nl = labels_normalize(ls, nl);
            ls_st = labels_validate(ls, nl, &lim->labels, why, sizeof(why));
            if (ls_st != LABELS_OK) {
                st->series_rejected[ls_st]++;
            }
        }
        if (ls_st != LABELS_OK) {
            bad_series++;
            st->samples_dropped_with_series += ts->n_samples;
            if (!first_bad[0]) {
                snprintf(first_bad, sizeof(first_bad), "%s", why);
            }
            continue;
        }
        if (ts->n_samples == 0) {
            continue;
        }
        tsdb_sample_t *samples = arena_alloc(arena, ts->n_samples * sizeof(tsdb_sample_t));
        for (size_t k = 0; k < ts->n_samples; k++) {
            samples[k].t = ts->samples[k]->timestamp;
            samples[k].v = ts->samples[k]->value;
        }
        in[nin++] = (tsdb_input_t){ ls, nl, samples, ts->n_samples };
    }
    tsdb_append_result_t res;
    int rc = tsdb_append(db, in, nin, &res);
    arena_destroy(arena);
    st->samples_accepted = res.accepted;
    uint64_t rejected = 0;
    for (int k = 0; k < TSDB_REJ_COUNT; k++) {
        st->samples_rejected[k] = res.rejected[k];
        rejected += res.rejected[k];
    }
    if (rc != 0) {
        snprintf(msg, msglen, "storage unavailable: cannot write the WAL; retry later");
        return 503;
    }
    if (bad_series == 0 && rejected == 0) {
        return 204;
    }
    size_t off = 0;
    if (bad_series) {
        off += (size_t)snprintf(msg + off, msglen - off, "%" PRIu64 " of %" PRIu64 " series rejected (first: %s)",
                                bad_series, st->series_total, first_bad);
    }
    if (rejected && off < msglen) {
        off += (size_t)snprintf(msg + off, msglen - off, "%s%" PRIu64 " samples rejected (first: %s)",
                                bad_series ? "; " : "", rejected, res.first_error);
    }
    if (off < msglen) {
        snprintf(msg + off, msglen - off, "; %" PRIu64 " samples stored", res.accepted);
    }
    return 400;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server_ingest: Prometheus remote-write 1.0 into the store.
 *
 * body --snappy--> WriteRequest --server_rw_decode (zero copy)--> series.
 * Each series' leading label bytes are fingerprinted (XXH3-128); series the
 * store has seen under that fingerprint are appended by reference, with no
 * label work at all. The others go through labels_normalize and
 * labels_validate and are appended by labels (remembering the
 * fingerprint). All of a request goes to tsdb_append at once: one WAL
 * record.
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
#include "common/hash.h"
#include "common/mem.h"
#include "server/server_int.h"

#define INGEST_HISTOGRAM_SLOT 7

/* Validate series s (a cache miss); fills *in or returns false with why. */
static bool ingest_check(const server_ingest_limits_t *lim, server_rw_series_t *s, tsdb_input_t *in,
                         server_ingest_stats_t *st, char *why, size_t whylen)
{
    if (lim->labels.max_labels && s->nlabels > lim->labels.max_labels) {
        snprintf(why, whylen, "series has %zu labels, limit is %zu", s->nlabels, lim->labels.max_labels);
        st->series_rejected[LABELS_TOO_MANY]++;
        return false;
    }
    size_t nl = labels_normalize(s->labels, s->nlabels);
    labels_status_t ls_st = labels_validate(s->labels, nl, &lim->labels, why, whylen);
    if (ls_st != LABELS_OK) {
        st->series_rejected[ls_st]++;
        return false;
    }
    in->labels = s->labels;
    in->nlabels = nl;
    return true;
}

/* Scratch memory kept between requests is capped: a rare huge request
 * does not pin its buffers. */
#define INGEST_SCRATCH_KEEP (16u << 20)

void server_ingest_scratch_fini(server_ingest_scratch_t *scr)
{
    buf_fini(&scr->raw);
    arena_destroy(scr->arena);
    scr->arena = NULL;
}

static int server_ingest_body(tsdb_t *db, const server_ingest_limits_t *lim, const uint8_t *body, size_t len,
                              server_ingest_scratch_t *scr, server_ingest_stats_t *st, char *msg, size_t msglen)
{
    compress_status_t cs = decompress_snappy(body, len, lim->max_decoded, &scr->raw);
    if (cs == COMPRESS_TOO_LARGE) {
        snprintf(msg, msglen, "decoded body exceeds the limit of %zu bytes", lim->max_decoded);
        return 413;
    }
    if (cs != COMPRESS_OK) {
        snprintf(msg, msglen, "snappy: corrupt input (the body must be snappy block-compressed)");
        return 400;
    }
    if (!scr->arena) {
        scr->arena = arena_create(1 << 20);
    }
    arena_t *arena = scr->arena;
    server_rw_request_t wr;
    if (server_rw_decode(scr->raw.data, scr->raw.len, arena, &wr, msg, msglen) != 0) {
        return 400;
    }
    for (size_t i = 0; i < wr.nmeta; i++) {
        const server_rw_meta_t *m = &wr.meta[i];
        if (m->family.len == 0 || !str_utf8_valid(m->family.p, m->family.len) ||
            !str_utf8_valid(m->help.p, m->help.len) || !str_utf8_valid(m->unit.p, m->unit.len)) {
            continue;
        }
        tsdb_set_metadata(db, m->family, m->type, m->help, m->unit);
        st->metadata++;
    }
    size_t n = wr.nseries;
    tsdb_input_t *in = arena_calloc(arena, n ? n : 1, sizeof(tsdb_input_t));
    tsdb_fp_t *fps = arena_alloc(arena, (n ? n : 1) * sizeof(tsdb_fp_t));
    uint32_t *refs = arena_calloc(arena, n ? n : 1, sizeof(uint32_t));
    bool *has_fp = arena_calloc(arena, n ? n : 1, sizeof(bool));
    for (size_t i = 0; i < n; i++) {
        const server_rw_series_t *s = &wr.series[i];
        if (s->labels_contiguous && s->labels_raw_len > 0) {
            hash_bytes128(s->labels_raw, s->labels_raw_len, &fps[i].lo, &fps[i].hi);
            has_fp[i] = true;
        } else {
            fps[i] = (tsdb_fp_t){ 0, 0 };
        }
    }
    tsdb_lookup_fps(db, fps, n, refs);
    size_t nin = 0;
    char first_bad[256] = "";
    uint64_t bad_series = 0;
    for (size_t i = 0; i < n; i++) {
        server_rw_series_t *s = &wr.series[i];
        st->series_total++;
        st->exemplars_ignored += s->nexemplars;
        char why[192] = "";
        bool ok = true;
        tsdb_input_t *x = &in[nin];
        if (s->nhistograms > 0) {
            snprintf(why, sizeof(why), "native histograms are not supported");
            st->series_rejected[INGEST_HISTOGRAM_SLOT]++;
            ok = false;
        } else if (has_fp[i] && refs[i]) {
            x->ref = refs[i];
        } else {
            ok = ingest_check(lim, s, x, st, why, sizeof(why));
            x->fp = ok && has_fp[i] ? &fps[i] : NULL;
        }
        if (!ok) {
            bad_series++;
            st->samples_dropped_with_series += s->nsamples;
            if (!first_bad[0]) {
                snprintf(first_bad, sizeof(first_bad), "%s", why);
            }
            continue;
        }
        if (s->nsamples == 0) {
            memset(x, 0, sizeof(*x));
            continue;
        }
        x->samples = s->samples;
        x->nsamples = s->nsamples;
        nin++;
    }
    tsdb_append_result_t res;
    int rc = tsdb_append(db, in, nin, &res);
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

int server_ingest_remote_write(tsdb_t *db, const server_ingest_limits_t *lim, const uint8_t *body, size_t len,
                               server_ingest_scratch_t *scr, server_ingest_stats_t *st, char *msg, size_t msglen)
{
    memset(st, 0, sizeof(*st));
    msg[0] = '\0';
    server_ingest_scratch_t local = { 0 };
    if (!scr) {
        scr = &local;
    }
    int status = server_ingest_body(db, lim, body, len, scr, st, msg, msglen);
    if (scr == &local || scr->raw.cap > INGEST_SCRATCH_KEEP ||
        (scr->arena && arena_used(scr->arena) > INGEST_SCRATCH_KEEP)) {
        server_ingest_scratch_fini(scr);
    } else {
        buf_reset(&scr->raw);
        arena_reset(scr->arena);
    }
    return status;
}

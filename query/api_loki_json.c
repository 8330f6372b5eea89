/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_loki_json: the JSON Loki's API writes (shapes in api_loki_int.h).
 *
 * Samples are written as Prometheus' model package marshals them, which
 * is what Loki's matrix and vector encoders use: the time as the float64
 * ms/1000 in Go's shortest 'f' form (1700000000.5, 1700000000), the value
 * as a JSON string of FormatFloat(v, 'f', -1) ("NaN", "+Inf"). Log
 * entries are ["<ns>","<line>"]; in the categorize-labels encoding a
 * third element {"structuredMetadata":{…},"parsed":{…}} carries the
 * entry's metadata and extracted labels (keys left out when empty: {}
 * when both are), the stream's labels are the stored stream's alone, and
 * data gains "encodingFlags":["categorize-labels"] before "result" (Loki's
 * order, and Grafana picks its parser from the flags it has seen when it
 * reaches the result).
 * Statistics are Loki's stats.Result summary with our counts.
 */
#include <inttypes.h>
#include <stdio.h>

#include "common/json_out.h"
#include "query/api_loki_int.h"

static void api_loki_json_begin(http_resp_t *resp)
{
    resp->status = 200;
    resp->content_type = "application/json; charset=UTF-8";
    buf_reset(&resp->body);
    buf_puts(&resp->body, "{\"status\":\"success\",\"data\":");
}

static void api_loki_json_ts(buf_t *b, int64_t ns)
{
    json_go_float(b, (double)(ns / 1000000) / 1000.0, 'f');
}

static void api_loki_json_value(buf_t *b, double v)
{
    buf_putc(b, '"');
    json_go_float(b, v, 'f');
    buf_putc(b, '"');
}

static void api_loki_json_entry(buf_t *b, const logql_entry_t *e, bool categorize)
{
    buf_printf(b, "[\"%" PRId64 "\",", e->ts_ns);
    json_str(b, e->line.p, e->line.len);
    if (categorize) {
        buf_puts(b, ",{");
        if (e->nmeta) {
            buf_puts(b, "\"structuredMetadata\":");
            json_labels(b, e->meta, e->nmeta);
        }
        if (e->nparsed) {
            buf_puts(b, e->nmeta ? ",\"parsed\":" : "\"parsed\":");
            json_labels(b, e->parsed, e->nparsed);
        }
        buf_putc(b, '}');
    }
    buf_putc(b, ']');
}

static void api_loki_json_streams(buf_t *b, const logql_result_t *r, bool categorize)
{
    buf_putc(b, '[');
    for (size_t i = 0; i < r->nstreams; i++) {
        const logql_stream_t *s = &r->streams[i];
        buf_puts(b, i ? ",{\"stream\":" : "{\"stream\":");
        if (categorize) {
            json_labels(b, s->stream_labels, s->nstream_labels);
        } else {
            json_labels(b, s->labels, s->nlabels);
        }
        buf_puts(b, ",\"values\":[");
        for (size_t k = 0; k < s->n; k++) {
            buf_puts(b, k ? "," : "");
            api_loki_json_entry(b, &s->entries[k], categorize);
        }
        buf_puts(b, "]}");
    }
    buf_putc(b, ']');
}

static void api_loki_json_matrix(buf_t *b, const logql_result_t *r)
{
    buf_putc(b, '[');
    for (size_t i = 0; i < r->nseries; i++) {
        const logql_series_t *s = &r->series[i];
        buf_puts(b, i ? ",{\"metric\":" : "{\"metric\":");
        json_labels(b, s->labels, s->nlabels);
        buf_puts(b, ",\"values\":[");
        for (size_t k = 0; k < s->n; k++) {
            buf_puts(b, k ? ",[" : "[");
            api_loki_json_ts(b, s->ts_ns[k]);
            buf_putc(b, ',');
            api_loki_json_value(b, s->vs[k]);
            buf_putc(b, ']');
        }
        buf_puts(b, "]}");
    }
    buf_putc(b, ']');
}

static void api_loki_json_vector(buf_t *b, const logql_result_t *r)
{
    buf_putc(b, '[');
    bool first = true;
    for (size_t i = 0; i < r->nseries; i++) {
        const logql_series_t *s = &r->series[i];
        if (s->n == 0) {
            continue;
        }
        buf_puts(b, first ? "{\"metric\":" : ",{\"metric\":");
        first = false;
        json_labels(b, s->labels, s->nlabels);
        buf_puts(b, ",\"value\":[");
        api_loki_json_ts(b, s->ts_ns[0]);
        buf_putc(b, ',');
        api_loki_json_value(b, s->vs[0]);
        buf_puts(b, "]}");
    }
    buf_putc(b, ']');
}

/* Loki's stats.Result, with the summary filled from our counts. */
static void api_loki_json_stats(buf_t *b, const logql_stats_t *st)
{
    double secs = st->exec_seconds > 0 ? st->exec_seconds : 0;
    uint64_t bps = secs > 0 ? (uint64_t)((double)st->bytes_read / secs) : 0;
    uint64_t lps = secs > 0 ? (uint64_t)((double)st->entries_read / secs) : 0;
    buf_printf(b,
               "{\"summary\":{\"bytesProcessedPerSecond\":%" PRIu64 ",\"linesProcessedPerSecond\":%" PRIu64
               ",\"totalBytesProcessed\":%" PRIu64 ",\"totalLinesProcessed\":%" PRIu64 ",\"execTime\":",
               bps, lps, st->bytes_read, st->entries_read);
    json_go_float(b, secs, 'g');
    buf_printf(b,
               ",\"queueTime\":0,\"subqueries\":0,\"totalEntriesReturned\":%" PRIu64
               ",\"splits\":0,\"shards\":0,\"totalPostFilterLines\":%" PRIu64
               ",\"totalStructuredMetadataBytesProcessed\":0},"
               "\"querier\":{\"store\":{\"totalChunksRef\":0,\"totalChunksDownloaded\":0,\"chunksDownloadTime\":0,"
               "\"queryReferencedStructured\":false,\"chunk\":{\"headChunkBytes\":0,\"headChunkLines\":0,"
               "\"decompressedBytes\":%" PRIu64 ",\"decompressedLines\":%" PRIu64
               ",\"compressedBytes\":0,\"totalDuplicates\":0,\"postFilterLines\":%" PRIu64
               ",\"headChunkStructuredMetadataBytes\":0,\"decompressedStructuredMetadataBytes\":0}}},"
               "\"ingester\":{\"totalReached\":0,\"totalChunksMatched\":0,\"totalBatches\":0,\"totalLinesSent\":0,"
               "\"store\":{\"totalChunksRef\":0,\"totalChunksDownloaded\":0,\"chunksDownloadTime\":0,"
               "\"queryReferencedStructured\":false,\"chunk\":{\"headChunkBytes\":0,\"headChunkLines\":0,"
               "\"decompressedBytes\":0,\"decompressedLines\":0,\"compressedBytes\":0,\"totalDuplicates\":0,"
               "\"postFilterLines\":0,\"headChunkStructuredMetadataBytes\":0,"
               "\"decompressedStructuredMetadataBytes\":0}}}}",
               st->entries_returned, st->entries_returned, st->bytes_read, st->entries_read, st->entries_returned);
}

void api_loki_json_result(http_resp_t *resp, const logql_result_t *r, bool categorize)
{
    api_loki_json_begin(resp);
    buf_t *b = &resp->body;
    switch (r->type) {
    case LOGQL_STREAMS:
        buf_puts(b, "{\"resultType\":\"streams\",");
        if (categorize) {
            buf_puts(b, "\"encodingFlags\":[\"categorize-labels\"],");
        }
        buf_puts(b, "\"result\":");
        api_loki_json_streams(b, r, categorize);
        break;
    case LOGQL_MATRIX:
        buf_puts(b, "{\"resultType\":\"matrix\",\"result\":");
        api_loki_json_matrix(b, r);
        break;
    case LOGQL_VECTOR:
        buf_puts(b, "{\"resultType\":\"vector\",\"result\":");
        api_loki_json_vector(b, r);
        break;
    case LOGQL_SCALAR:
        buf_puts(b, "{\"resultType\":\"scalar\",\"result\":[");
        api_loki_json_ts(b, r->scalar_ts_ns);
        buf_putc(b, ',');
        api_loki_json_value(b, r->scalar);
        buf_putc(b, ']');
        break;
    }
    buf_puts(b, ",\"stats\":");
    api_loki_json_stats(b, &r->stats);
    buf_puts(b, "}}");
}

void api_loki_json_tail(buf_t *b, const logql_result_t *r)
{
    buf_puts(b, "{\"streams\":");
    api_loki_json_streams(b, r, false);
    buf_putc(b, '}');
}

void api_loki_json_strs(http_resp_t *resp, const str_t *v, size_t n)
{
    api_loki_json_begin(resp);
    buf_t *b = &resp->body;
    buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        buf_puts(b, i ? "," : "");
        json_str(b, v[i].p, v[i].len);
    }
    buf_puts(b, "]}");
}

void api_loki_json_series(http_resp_t *resp, const logs_series_t *v, size_t n)
{
    api_loki_json_begin(resp);
    buf_t *b = &resp->body;
    buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        buf_puts(b, i ? "," : "");
        json_labels(b, v[i].labels, v[i].n);
    }
    buf_puts(b, "]}");
}

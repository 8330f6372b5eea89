/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server_metrics: pharosd's own /metrics in the Prometheus text format
 * (version 0.0.4). Counters are atomics bumped by the handlers; store
 * figures are read from tsdb_get_stats at scrape time; process figures
 * from /proc/self.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/mem.h"
#include "server/server_int.h"

static const char *const reject_reasons[TSDB_REJ_COUNT] = { "duplicate", "too_old", "too_far_in_future" };
static const char *const series_reasons[8] = { "ok",           "no_name",  "duplicate_label_name", "invalid_label_name",
                                               "invalid_utf8", "too_long", "too_many_labels",      "native_histogram" };

int server_metrics_status_slot(int status)
{
    return status == 204 ? 0 : status == 400 ? 1 : status == 413 ? 2 : status == 503 ? 3 : status == 429 ? 4 : 5;
}

void server_metrics_count_write(server_t *s, int status, const server_ingest_stats_t *st)
{
    atomic_fetch_add(&s->m.write_requests[server_metrics_status_slot(status)], 1);
    for (int i = 1; i < 8; i++) {
        if (st->series_rejected[i]) {
            atomic_fetch_add(&s->m.series_rejected[i], st->series_rejected[i]);
        }
    }
    atomic_fetch_add(&s->m.samples_rejected_with_series, st->samples_dropped_with_series);
    atomic_fetch_add(&s->m.metadata, st->metadata);
    atomic_fetch_add(&s->m.exemplars_ignored, st->exemplars_ignored);
}

static void metric_head(buf_t *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void metric_u(buf_t *b, const char *name, const char *type, const char *help, uint64_t v)
{
    metric_head(b, name, type, help);
    buf_printf(b, "%s %" PRIu64 "\n", name, v);
}

static void metric_f(buf_t *b, const char *name, const char *type, const char *help, double v)
{
    metric_head(b, name, type, help);
    buf_printf(b, "%s %.17g\n", name, v);
}

/* A counter family by the response code of an ingest endpoint (the slots
 * of server_metrics_status_slot). */
static void metric_by_code(buf_t *b, const char *name, const char *help, _Atomic uint64_t *counts)
{
    static const char *const codes[6] = { "204", "400", "413", "503", "429", "other" };
    metric_head(b, name, "counter", help);
    for (int i = 0; i < 6; i++) {
        buf_printf(b, "%s{code=\"%s\"} %" PRIu64 "\n", name, codes[i], (uint64_t)atomic_load(&counts[i]));
    }
}

/* A WAL's fsync latency as a summary without quantiles. */
static void metric_fsyncs(buf_t *b, const char *name, const char *help, double seconds, uint64_t count)
{
    metric_head(b, name, "summary", help);
    buf_printf(b, "%s_sum %.9f\n%s_count %" PRIu64 "\n", name, seconds, name, count);
}

static void process_stats(double *cpu, uint64_t *rss)
{
    *cpu = 0;
    *rss = 0;
    FILE *f = fopen("/proc/self/stat", "r");
    if (f) {
        char line[1024];
        if (fgets(line, sizeof(line), f)) {
            const char *p = strrchr(line, ')');
            unsigned long ut = 0, stt = 0;
            if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &stt) == 2) {
                *cpu = (double)(ut + stt) / (double)sysconf(_SC_CLK_TCK);
            }
        }
        fclose(f);
    }
    f = fopen("/proc/self/statm", "r");
    if (f) {
        unsigned long size, res;
        if (fscanf(f, "%lu %lu", &size, &res) == 2) {
            *rss = (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
        }
        fclose(f);
    }
}

/* The log store's and Loki push's figures. */
static void server_metrics_logs(server_t *s, buf_t *b)
{
    metric_by_code(b, "pharos_loki_push_requests_total", "Loki push requests, by response code.", s->m.push_requests);
    metric_u(b, "pharos_loki_push_entries_rejected_total", "counter",
             "Log entries refused by push validation (bad labels, line too long, out of the time window).",
             atomic_load(&s->m.push_entries_rejected));
    logs_store_stats_t st;
    logs_store_get_stats(s->logs, &st);
    metric_u(b, "pharos_logs_entries_appended_total", "counter", "Log entries stored.", st.entries_appended);
    metric_u(b, "pharos_logs_bytes_appended_total", "counter", "Log line bytes stored.", st.bytes_appended);
    metric_u(b, "pharos_logs_duplicates_total", "counter",
             "Log entries received again (same stream, timestamp and line) and kept once.", st.duplicates);
    metric_u(b, "pharos_logs_streams", "gauge", "Log streams known to the store.", st.streams);
    metric_u(b, "pharos_logs_head_entries", "gauge", "Log entries in stream heads (not yet in blocks).",
             st.head_entries);
    metric_u(b, "pharos_logs_head_bytes", "gauge", "Line bytes in stream heads.", st.head_bytes);
    metric_u(b, "pharos_logs_blocks", "gauge", "Log blocks on disk.", st.blocks);
    metric_u(b, "pharos_logs_block_bytes", "gauge", "Bytes of log block files.", st.block_bytes);
    metric_u(b, "pharos_logs_head_cuts_total", "counter", "Stream heads cut into blocks.", st.head_cuts);
    metric_u(b, "pharos_logs_compactions_total", "counter", "Log block compactions done.", st.compactions);
    metric_u(b, "pharos_logs_compactions_failed_total", "counter", "Log block compactions failed.",
             st.compactions_failed);
    metric_u(b, "pharos_logs_corrupt_blocks_total", "counter", "Corrupt log blocks found and skipped.",
             st.corrupt_blocks);
    metric_u(b, "pharos_logs_retention_dropped_blocks_total", "counter", "Log blocks deleted by retention.",
             st.retention_dropped_blocks);
    metric_u(b, "pharos_logs_blocks_read_total", "counter", "Log blocks read by queries.", st.blocks_read);
    metric_u(b, "pharos_logs_blocks_skipped_total", "counter",
             "Log blocks queries skipped because their token filter ruled out a line filter.",
             st.blocks_skipped_by_filter);
    metric_u(b, "pharos_logs_wal_bytes", "gauge", "Bytes in log WAL segment files.", st.wal_bytes);
    metric_fsyncs(b, "pharos_logs_wal_fsync_duration_seconds", "Log WAL fsync latency.", st.wal_fsync_seconds,
                  st.wal_fsyncs);
    metric_u(b, "pharos_logs_wal_replay_cuts_total", "counter", "Torn or corrupt log WAL segments cut at replay.",
             st.wal_replay_cuts);
    metric_u(b, "pharos_logs_storage_bytes", "gauge", "Bytes of everything in the log data directory.", st.disk_bytes);
}

void server_metrics_write(server_t *s, buf_t *b)
{
    tsdb_stats_t st;
    tsdb_get_stats(s->db, &st);
    metric_u(b, "pharos_tsdb_samples_appended_total", "counter", "Samples stored.", st.samples_appended);
    metric_head(b, "pharos_tsdb_samples_rejected_total", "counter", "Samples not stored, by reason.");
    for (int i = 0; i < TSDB_REJ_COUNT; i++) {
        buf_printf(b, "pharos_tsdb_samples_rejected_total{reason=\"%s\"} %" PRIu64 "\n", reject_reasons[i],
                   st.samples_rejected[i]);
    }
    buf_printf(b, "pharos_tsdb_samples_rejected_total{reason=\"invalid_series\"} %" PRIu64 "\n",
               (uint64_t)atomic_load(&s->m.samples_rejected_with_series));
    metric_head(b, "pharos_remote_write_series_rejected_total", "counter", "Remote-write series rejected, by reason.");
    for (int i = 1; i < 8; i++) {
        buf_printf(b, "pharos_remote_write_series_rejected_total{reason=\"%s\"} %" PRIu64 "\n", series_reasons[i],
                   (uint64_t)atomic_load(&s->m.series_rejected[i]));
    }
    metric_by_code(b, "pharos_remote_write_requests_total", "Remote-write requests, by response code.",
                   s->m.write_requests);
    metric_u(b, "pharos_remote_write_metadata_total", "counter", "Metric metadata entries received.",
             atomic_load(&s->m.metadata));
    metric_u(b, "pharos_remote_write_exemplars_ignored_total", "counter", "Exemplars received and not stored.",
             atomic_load(&s->m.exemplars_ignored));
    metric_u(b, "pharos_tsdb_series", "gauge", "Series known to the store.", st.series);
    metric_u(b, "pharos_tsdb_head_series", "gauge", "Active series: series with samples in the head.", st.head_series);
    metric_u(b, "pharos_tsdb_head_chunks", "gauge", "Chunks in the head.", st.head_chunks);
    metric_u(b, "pharos_tsdb_head_samples", "gauge", "Samples in the head.", st.head_samples);
    metric_u(b, "pharos_tsdb_head_chunk_bytes", "gauge",
             "Bytes held for head chunks (open-chunk slabs and closed-chunk arenas).", st.head_bytes);
    metric_u(b, "pharos_tsdb_head_cuts_total", "counter", "Head cuts into blocks.", st.head_cuts);
    metric_u(b, "pharos_tsdb_wal_bytes", "gauge", "Bytes in WAL segment files.", st.wal_bytes);
    metric_fsyncs(b, "pharos_tsdb_wal_fsync_duration_seconds", "WAL fsync latency.", st.wal_fsync_seconds,
                  st.wal_fsyncs);
    metric_u(b, "pharos_tsdb_wal_replay_cuts_total", "counter", "Torn or corrupt WAL segments cut at replay.",
             st.wal_replay_cuts);
    metric_u(b, "pharos_tsdb_blocks", "gauge", "Blocks on disk.", st.blocks);
    metric_u(b, "pharos_tsdb_block_bytes", "gauge", "Bytes of block files.", st.block_bytes);
    metric_u(b, "pharos_tsdb_compactions_total", "counter", "Block compactions done.", st.compactions);
    metric_u(b, "pharos_tsdb_compactions_failed_total", "counter", "Block compactions failed.", st.compactions_failed);
    metric_u(b, "pharos_tsdb_corrupt_blocks_total", "counter", "Corrupt blocks or pages found.", st.corrupt_blocks);
    metric_u(b, "pharos_tsdb_page_cache_hits_total", "counter", "Block pages queries found decoded.",
             st.page_cache_hits);
    metric_u(b, "pharos_tsdb_page_cache_misses_total", "counter", "Block pages queries had to decode.",
             st.page_cache_misses);
    metric_u(b, "pharos_tsdb_page_cache_bytes", "gauge", "Decoded block page bytes kept for queries.",
             st.page_cache_bytes);
    metric_u(b, "pharos_tsdb_retention_dropped_blocks_total", "counter", "Blocks deleted by retention.",
             st.retention_dropped_blocks);
    metric_u(b, "pharos_tsdb_storage_bytes", "gauge", "Bytes of everything in the data directory.", st.disk_bytes);
    metric_f(b, "pharos_tsdb_head_min_time_seconds", "gauge", "Oldest sample in the head.", (double)st.head_mint / 1e3);
    metric_f(b, "pharos_tsdb_head_max_time_seconds", "gauge", "Newest sample in the head.", (double)st.head_maxt / 1e3);
    server_metrics_logs(s, b);
    metric_u(b, "pharos_memory_allocated_bytes", "gauge", "Heap bytes held through the accounted allocator.",
             mem_used());
    double cpu;
    uint64_t rss;
    process_stats(&cpu, &rss);
    metric_f(b, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.", cpu);
    metric_u(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", rss);
    metric_f(b, "pharos_uptime_seconds", "gauge", "Seconds since pharosd started.", clock_mono_s() - s->started);
    if (s->rules != NULL) {
        alerts_mgr_metrics(s->rules, b);
    }
    if (s->notifier != NULL) {
        alerts_notifier_metrics(s->notifier, b);
    }
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent_self: the agent's own metrics, added to each collection (so they
 * are shipped and served like the host's): the standard process_*
 * metrics of the agent process (names and HELP as client_golang's
 * process collector), collection counters, and per remote-write
 * endpoint what was sent, retried, spooled and dropped
 * (pharos_agent_dropped_samples_total{reason,url}).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "agent/agent_int.h"

/* From /proc/self/stat (fields after the command, counted from 3):
 * utime 14, stime 15 (ticks), starttime 22 (ticks since boot), vsize 23. */
static int agent_self_stat(buf_t *scratch, double *cpu_s, double *vsize, double *start_s)
{
    if (coll_read_file("/proc/self/stat", "", scratch, 1 << 16) != 0) {
        return -1;
    }
    const char *p = strrchr((const char *)scratch->data, ')');
    if (!p) {
        return -1;
    }
    unsigned long long f[24] = { 0 };
    size_t field = 3;
    for (p++; *p && field <= 23; field++) {
        while (*p == ' ') {
            p++;
        }
        char *end = NULL;
        f[field] = strtoull(p, &end, 10);
        while (*end && *end != ' ') {
            end++;
        }
        p = end;
    }
    if (field <= 23) {
        return -1;
    }
    double hz = (double)sysconf(_SC_CLK_TCK);
    *cpu_s = (double)(f[14] + f[15]) / hz;
    *start_s = (double)f[22] / hz;
    *vsize = (double)f[23];
    return 0;
}

static double agent_self_rss(buf_t *scratch)
{
    if (coll_read_file("/proc/self/statm", "", scratch, 4096) != 0) {
        return 0;
    }
    unsigned long long size = 0, res = 0;
    if (sscanf((const char *)scratch->data, "%llu %llu", &size, &res) != 2) {
        return 0;
    }
    return (double)res * (double)sysconf(_SC_PAGESIZE);
}

static double agent_self_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        return 0;
    }
    double n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        n += e->d_name[0] != '.';
    }
    closedir(d);
    return n - 1; /* the directory stream's own fd */
}

static void agent_self_process(const agent_self_t *st, buf_t *scratch, msink_t *s)
{
    double cpu = 0, vsize = 0, start = 0;
    if (agent_self_stat(scratch, &cpu, &vsize, &start) == 0) {
        msink_addv(s, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", METRIC_COUNTER,
                   cpu, 0);
        msink_addv(s, "process_virtual_memory_bytes", "Virtual memory size in bytes.", METRIC_GAUGE, vsize, 0);
        msink_addv(s, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                   METRIC_GAUGE, st->boot_time_s + start, 0);
    }
    msink_addv(s, "process_resident_memory_bytes", "Resident memory size in bytes.", METRIC_GAUGE,
               agent_self_rss(scratch), 0);
    msink_addv(s, "process_open_fds", "Number of open file descriptors.", METRIC_GAUGE, agent_self_fds(), 0);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        msink_addv(s, "process_max_fds", "Maximum number of open file descriptors.", METRIC_GAUGE, (double)rl.rlim_cur,
                   0);
    }
}

/* Loki push endpoints report under pharos_agent_loki_push_* and
 * pharos_agent_dropped_log_entries_total; the spool gauges are shared,
 * with kind="metrics" or kind="logs". */
void agent_self_shipper(const ship_stats_t *x, msink_t *s)
{
    bool logs = x->kind == SHIP_LOKI;
    const char *kind = logs ? "logs" : "metrics";
    if (logs) {
        msink_addv(s, "pharos_agent_loki_push_entries_queued_total", "Log entries queued for the endpoint.",
                   METRIC_COUNTER, (double)x->queued_samples, 1, "url", x->url);
        msink_addv(s, "pharos_agent_loki_push_entries_sent_total", "Log entries acknowledged by the endpoint.",
                   METRIC_COUNTER, (double)x->sent_samples, 1, "url", x->url);
        msink_addv(s, "pharos_agent_loki_push_requests_sent_total", "Batches acknowledged by the endpoint.",
                   METRIC_COUNTER, (double)x->sent_batches, 1, "url", x->url);
        msink_addv(s, "pharos_agent_loki_push_bytes_sent_total", "Compressed bytes acknowledged by the endpoint.",
                   METRIC_COUNTER, (double)x->sent_bytes, 1, "url", x->url);
        msink_addv(s, "pharos_agent_loki_push_retries_total",
                   "Requests that failed with a retryable error (5xx, 429, connection).", METRIC_COUNTER,
                   (double)x->retries, 1, "url", x->url);
        msink_addv(s, "pharos_agent_loki_push_last_success_timestamp_seconds",
                   "When the endpoint last acknowledged a batch (0: never).", METRIC_GAUGE,
                   (double)x->last_success_ms / 1000.0, 1, "url", x->url);
    } else {
        msink_addv(s, "pharos_agent_remote_write_samples_queued_total", "Samples queued for the endpoint.",
                   METRIC_COUNTER, (double)x->queued_samples, 1, "url", x->url);
        msink_addv(s, "pharos_agent_remote_write_samples_sent_total", "Samples acknowledged by the endpoint.",
                   METRIC_COUNTER, (double)x->sent_samples, 1, "url", x->url);
        msink_addv(s, "pharos_agent_remote_write_requests_sent_total", "Batches acknowledged by the endpoint.",
                   METRIC_COUNTER, (double)x->sent_batches, 1, "url", x->url);
        msink_addv(s, "pharos_agent_remote_write_bytes_sent_total", "Compressed bytes acknowledged by the endpoint.",
                   METRIC_COUNTER, (double)x->sent_bytes, 1, "url", x->url);
        msink_addv(s, "pharos_agent_remote_write_retries_total",
                   "Requests that failed with a retryable error (5xx, 429, connection).", METRIC_COUNTER,
                   (double)x->retries, 1, "url", x->url);
        msink_addv(s, "pharos_agent_remote_write_last_success_timestamp_seconds",
                   "When the endpoint last acknowledged a batch (0: never).", METRIC_GAUGE,
                   (double)x->last_success_ms / 1000.0, 1, "url", x->url);
    }
    msink_addv(s, "pharos_agent_spool_bytes", "Bytes of batches waiting in the endpoint's spool.", METRIC_GAUGE,
               (double)x->spool_bytes, 2, "kind", kind, "url", x->url);
    msink_addv(s, "pharos_agent_spool_batches", "Batches waiting in the endpoint's spool.", METRIC_GAUGE,
               (double)x->spool_batches, 2, "kind", kind, "url", x->url);
    const char *name = logs ? "pharos_agent_dropped_log_entries_total" : "pharos_agent_dropped_samples_total";
    const char *help = logs ? "Log entries dropped before the endpoint acknowledged them, by reason."
                            : "Samples dropped before the endpoint acknowledged them, by reason.";
    msink_addv(s, name, help, METRIC_COUNTER, (double)x->dropped_spool_full, 2, "reason", "spool_full", "url", x->url);
    msink_addv(s, name, help, METRIC_COUNTER, (double)x->dropped_rejected, 2, "reason", "rejected", "url", x->url);
    msink_addv(s, name, help, METRIC_COUNTER, (double)x->dropped_corrupt, 2, "reason", "corrupt", "url", x->url);
}

void agent_self_metrics(const agent_self_t *st, shipper_t *const *sh, size_t nsh, buf_t *scratch, msink_t *s)
{
    agent_self_process(st, scratch, s);
    msink_addv(s, "pharos_agent_build_info", "A metric with a constant '1' value labeled by version.", METRIC_GAUGE, 1,
               1, "version", AGENT_VERSION);
    msink_addv(s, "pharos_agent_collections_total", "Host collections run.", METRIC_COUNTER, (double)st->collections,
               0);
    msink_addv(s, "pharos_agent_collection_duration_seconds", "Duration of the last host collection.", METRIC_GAUGE,
               st->last_duration_s, 0);
    msink_addv(s, "pharos_agent_collections_missed_total",
               "Grid ticks skipped because a collection overran its interval.", METRIC_COUNTER, (double)st->missed, 0);
    for (size_t i = 0; i < nsh; i++) {
        ship_stats_t x;
        ship_stats(sh[i], &x);
        agent_self_shipper(&x, s);
    }
}

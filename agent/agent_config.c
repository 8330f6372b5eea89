/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent_config: pharos-agent's options as one table (key = YAML path =
 * flag name, default, help), loaded as defaults, then the file, then
 * flags. docs/agent.md's configuration table is generated from it
 * (pharos-agent --help-md) and checked by the docs test. After loading,
 * the values are checked as a whole: collector names must exist,
 * remote-write and target URLs must be http(s), job names non-empty.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/agent_int.h"
#include "common/config.h"
#include "common/labels.h"
#include "common/mem.h"

static const char *const log_level_values[] = { "debug", "info", "warn", "error", NULL };

#define F(k_, t_, m_, d_, h_)                                                                                          \
    {                                                                                                                  \
        .key = k_, .type = t_, .offset = offsetof(agent_config_t, m_), .def = d_, .help = h_                           \
    }
#define FB(k_, t_, m_, d_, lo_, hi_, h_)                                                                               \
    {                                                                                                                  \
        .key = k_, .type = t_, .offset = offsetof(agent_config_t, m_), .def = d_, .help = h_, .min = lo_, .max = hi_   \
    }
#define T(k_, t_, m_, d_, h_)                                                                                          \
    {                                                                                                                  \
        .key = k_, .type = t_, .offset = offsetof(agent_target_config_t, m_), .def = d_, .help = h_                    \
    }

static const config_field_t agent_target_fields[] = {
    T("job", CFG_STR, job, NULL, "The job label of the target's series"),
    T("urls", CFG_STRLIST, urls, NULL, "URLs to scrape (http or https); each is one instance"),
    T("interval", CFG_DURATION, interval_ms, "0s", "Scrape interval (0s: collect.interval)"),
    T("timeout", CFG_DURATION, timeout_ms, "10s", "Scrape timeout (at most the interval)"),
    T("labels", CFG_MAP, labels, NULL, "Static labels added to the target's series"),
    T("honor-labels", CFG_BOOL, honor_labels, "false",
      "Keep the target's job/instance/static labels on clash (else they become exported_<name>)"),
    T("honor-timestamps", CFG_BOOL, honor_timestamps, "true", "Use timestamps given in the exposition"),
    T("bearer-token-file", CFG_STR, bearer_token_file, NULL,
      "File holding a bearer token sent as Authorization (read at every scrape)"),
    T("basic-auth-username", CFG_STR, basic_user, NULL, "User name for HTTP basic authentication"),
    T("basic-auth-password-file", CFG_STR, basic_password_file, NULL, "File holding the basic-auth password"),
    T("headers", CFG_MAP, headers, NULL, "Extra request headers"),
};

#define E(k_, t_, m_, d_, h_)                                                                                          \
    {                                                                                                                  \
        .key = k_, .type = t_, .offset = offsetof(agent_endpoint_config_t, m_), .def = d_, .help = h_                  \
    }

static const config_field_t agent_endpoint_fields[] = {
    E("url", CFG_STR, url, NULL, "Remote-write URL (http or https)"),
    E("bearer-token-file", CFG_STR, bearer_token_file, NULL,
      "File holding a bearer token sent as Authorization (read at every request)"),
    E("basic-auth-username", CFG_STR, basic_user, NULL, "User name for HTTP basic authentication"),
    E("basic-auth-password-file", CFG_STR, basic_password_file, NULL, "File holding the basic-auth password"),
    E("headers", CFG_MAP, headers, NULL, "Extra request headers (X-Scope-OrgID: tenant, …)"),
};

static const config_field_t agent_logs_endpoint_fields[] = {
    E("url", CFG_STR, url, NULL, "Loki push URL (http or https), e.g. http://127.0.0.1:9747/loki/api/v1/push"),
    E("bearer-token-file", CFG_STR, bearer_token_file, NULL,
      "File holding a bearer token sent as Authorization (read at every request)"),
    E("basic-auth-username", CFG_STR, basic_user, NULL, "User name for HTTP basic authentication"),
    E("basic-auth-password-file", CFG_STR, basic_password_file, NULL, "File holding the basic-auth password"),
    E("headers", CFG_MAP, headers, NULL, "Extra request headers (X-Scope-OrgID: tenant, …)"),
};

static const char *const logfile_format_values[] = { "plain", "cri", NULL };

#define L(k_, t_, m_, d_, h_)                                                                                          \
    {                                                                                                                  \
        .key = k_, .type = t_, .offset = offsetof(agent_logfile_config_t, m_), .def = d_, .help = h_                   \
    }

static const config_field_t agent_logfile_fields[] = {
    L("path", CFG_STR, path, NULL, "Glob of the files to follow (e.g. /var/log/*.log)"),
    L("pods-dir", CFG_STR, pods_dir, NULL,
      "Instead of path: a kubelet pod log directory (/var/log/pods); its <ns>_<pod>_<uid>/<container>/*.log files "
      "are read as CRI with labels namespace, pod, container, stream"),
    { .key = "format",
      .type = CFG_ENUM,
      .offset = offsetof(agent_logfile_config_t, format),
      .def = "plain",
      .help = "Line format of path's files: plain (timestamp: read time; label filename) or cri",
      .enum_values = logfile_format_values },
    L("labels", CFG_MAP, labels, NULL, "Static labels of these files' streams"),
};

static const config_field_t agent_fields[] = {
    { .key = "config.file",
      .type = CFG_STR,
      .offset = offsetof(agent_config_t, config_file),
      .help = "YAML configuration file; flags override its values",
      .flag_only = true },
    F("web.listen-address", CFG_STR, listen, "127.0.0.1:9465", "Address to serve /metrics and /-/healthy on"),
    FB("collect.interval", CFG_DURATION, interval_ms, "15s", 100, 1LL << 32,
       "Collection interval; samples are stamped on its grid (multiples of it)"),
    F("collect.job", CFG_STR, job, "node", "The job label of the host metrics"),
    F("collect.instance", CFG_STR, instance, NULL, "The instance label of the host metrics (empty: the host name)"),
    F("collect.disable", CFG_STRLIST, disabled, NULL, "Host collectors not to run (names as in docs/agent.md)"),
    F("collect.labels", CFG_MAP, labels, NULL, "Static labels added to every shipped series (key=value as a flag)"),
    F("collect.diskstats.device-exclude", CFG_STR, diskstats_exclude, COLL_DISKSTATS_DEVICE_EXCLUDE,
      "Regex of block devices diskstats leaves out"),
    F("collect.filesystem.mount-points-exclude", CFG_STR, mp_exclude, COLL_FILESYSTEM_MOUNT_POINTS_EXCLUDE,
      "Regex of mount points filesystem leaves out"),
    F("collect.filesystem.fs-types-exclude", CFG_STR, fs_exclude, COLL_FILESYSTEM_FS_TYPES_EXCLUDE,
      "Regex of file system types filesystem leaves out"),
    F("collect.netdev.device-exclude", CFG_STR, netdev_exclude, COLL_NETDEV_DEVICE_EXCLUDE,
      "Regex of network devices netdev leaves out"),
    F("collect.netstat.fields", CFG_STR, netstat_fields, COLL_NETSTAT_FIELDS,
      "Regex of the <Proto>_<Field> names netstat reports"),
    F("collect.vmstat.fields", CFG_STR, vmstat_fields, COLL_VMSTAT_FIELDS,
      "Regex of the /proc/vmstat fields vmstat reports"),
    F("path.procfs", CFG_STR, procfs, "/proc", "procfs mount point"),
    F("path.sysfs", CFG_STR, sysfs, "/sys", "sysfs mount point"),
    F("path.rootfs", CFG_STR, rootfs, "/", "Root of the host's file systems (mount points are read under it)"),
    F("path.udev.data", CFG_STR, udev_data, "/run/udev/data", "udev database directory"),
    F("remote-write.url", CFG_STRLIST, rw_urls, NULL, "Remote-write endpoints (repeatable); none: only serve /metrics"),
    { .key = "remote-write.endpoints",
      .type = CFG_TABLE,
      .offset = offsetof(agent_config_t, rw_endpoints),
      .help = "Remote-write endpoints with credentials or headers (config file only): mappings with the keys below",
      .sub = agent_endpoint_fields,
      .nsub = sizeof(agent_endpoint_fields) / sizeof(agent_endpoint_fields[0]),
      .elem_size = sizeof(agent_endpoint_config_t) },
    FB("remote-write.shards", CFG_INT, rw_shards, "2", 1, 64, "Concurrent senders per endpoint"),
    FB("remote-write.max-samples-per-send", CFG_INT, rw_max_samples, "2000", 1, 1000000, "Samples per request"),
    FB("remote-write.batch-deadline", CFG_DURATION, rw_deadline_ms, "5s", 0, 1LL << 32,
       "Longest a partial batch waits before it is spooled"),
    FB("remote-write.min-backoff", CFG_DURATION, rw_min_backoff_ms, "30ms", 1, 1LL << 32,
       "First retry delay (doubles on each failure, with jitter)"),
    FB("remote-write.max-backoff", CFG_DURATION, rw_max_backoff_ms, "5s", 1, 1LL << 32, "Longest retry delay"),
    FB("remote-write.timeout", CFG_DURATION, rw_timeout_ms, "30s", 1, 1LL << 32, "Time limit of one request"),
    FB("remote-write.drain-timeout", CFG_DURATION, rw_drain_ms, "5s", 0, 1LL << 32,
       "At shutdown, how long senders may go on sending what is spooled"),
    F("storage.path", CFG_STR, storage_path, "./data-agent", "Directory of the spools"),
    FB("storage.spool-max-size", CFG_BYTES, spool_max_bytes, "512MiB", 4096, 1LL << 44,
       "Spool bound per endpoint; past it the oldest batches are dropped and counted"),
    F("storage.spool-sync", CFG_BOOL, spool_sync, "false", "fdatasync every spooled batch (survives power loss)"),
    { .key = "scrape.targets",
      .type = CFG_TABLE,
      .offset = offsetof(agent_config_t, targets),
      .help = "Scrape targets (config file only): a list of mappings with the keys below",
      .sub = agent_target_fields,
      .nsub = sizeof(agent_target_fields) / sizeof(agent_target_fields[0]),
      .elem_size = sizeof(agent_target_config_t) },
    F("logs.url", CFG_STRLIST, logs_urls, NULL,
      "Loki push endpoints for the log inputs (repeatable), e.g. http://127.0.0.1:9747/loki/api/v1/push"),
    { .key = "logs.endpoints",
      .type = CFG_TABLE,
      .offset = offsetof(agent_config_t, logs_endpoints),
      .help = "Loki push endpoints with credentials or headers (config file only): mappings with the keys below",
      .sub = agent_logs_endpoint_fields,
      .nsub = sizeof(agent_logs_endpoint_fields) / sizeof(agent_logs_endpoint_fields[0]),
      .elem_size = sizeof(agent_endpoint_config_t) },
    F("logs.labels", CFG_MAP, logs_labels, NULL, "Static labels added to every log stream (key=value as a flag)"),
    FB("logs.max-entries-per-send", CFG_INT, logs_max_entries, "1000", 1, 1000000, "Log entries per push request"),
    FB("logs.max-bytes-per-send", CFG_BYTES, logs_max_bytes, "1MiB", 1024, 64LL << 20,
       "Encoded bytes per push request (before compression)"),
    FB("logs.batch-deadline", CFG_DURATION, logs_deadline_ms, "1s", 0, 1LL << 32,
       "Longest a partial log batch waits before it is spooled"),
    FB("logs.max-line-size", CFG_BYTES, logs_max_line, "256KiB", 1024, 64LL << 20,
       "Longest line kept (a file line, or a reassembled CRI line); longer ones are cut and counted"),
    FB("logs.rescan-interval", CFG_DURATION, logs_rescan_ms, "10s", 100, 1LL << 32,
       "How often the logs.files patterns are matched again (new files, rotations)"),
    FB("logs.poll-interval", CFG_DURATION, logs_poll_ms, "250ms", 10, 60000,
       "How long the log reader sleeps when every input is idle"),
    F("logs.journal.enabled", CFG_BOOL, journal_enabled, "false", "Ship the systemd journal"),
    F("logs.journal.path", CFG_STR, journal_path, NULL,
      "Directory of journal files to read (empty: this machine's journal)"),
    { .key = "journal.path",
      .type = CFG_STR,
      .offset = offsetof(agent_config_t, journal_path_flag),
      .help = "Shorthand for --logs.journal.enabled --logs.journal.path=DIR",
      .flag_only = true },
    F("logs.journal.units", CFG_STRLIST, journal_units, NULL, "Only these systemd units (_SYSTEMD_UNIT; any of them)"),
    FB("logs.journal.max-priority", CFG_INT, journal_max_priority, "7", 0, 7,
       "Only entries with PRIORITY at most this (0 emerg … 7 debug: all)"),
    F("logs.journal.labels", CFG_MAP, journal_labels, "job=systemd-journal",
      "Static labels of the journal's streams (besides unit, level, host, identifier, transport)"),
    FB("logs.journal.max-age", CFG_DURATION, journal_max_age_ms, "7h", 0, 1LL << 40,
       "Without a saved cursor, start this far back (0s: at the oldest entry)"),
    { .key = "logs.files",
      .type = CFG_TABLE,
      .offset = offsetof(agent_config_t, logs_files),
      .help = "Log files to follow (config file only): mappings with the keys below",
      .sub = agent_logfile_fields,
      .nsub = sizeof(agent_logfile_fields) / sizeof(agent_logfile_fields[0]),
      .elem_size = sizeof(agent_logfile_config_t) },
    { .key = "log.level",
      .type = CFG_ENUM,
      .offset = offsetof(agent_config_t, log_level),
      .def = "info",
      .help = "Log level",
      .enum_values = log_level_values },
    { .key = "check-config",
      .type = CFG_BOOL,
      .offset = offsetof(agent_config_t, check_config),
      .def = "false",
      .help = "Validate the configuration and exit",
      .flag_only = true },
};

#define NFIELDS (sizeof(agent_fields) / sizeof(agent_fields[0]))

static void agent_usage(FILE *out)
{
    fprintf(out, "Usage: pharos-agent [flags]\n\npharos-agent collects this node's metrics under node_exporter's "
                 "names, scrapes targets, and ships everything by Prometheus remote-write.\n\n"
                 "Flags (each also a YAML key of the config file, except --config.file and --check-config):\n");
    config_print_help(out, agent_fields, NFIELDS);
}

static const coll_def_t *agent_find_collector(const char *name)
{
    for (size_t i = 0; i < coll_table_len; i++) {
        if (strcmp(coll_table[i]->name, name) == 0) {
            return coll_table[i];
        }
    }
    return NULL;
}

coll_opts_t agent_config_coll_opts(const agent_config_t *cfg)
{
    return (coll_opts_t){
        .diskstats_device_exclude = cfg->diskstats_exclude,
        .filesystem_mount_points_exclude = cfg->mp_exclude,
        .filesystem_fs_types_exclude = cfg->fs_exclude,
        .netdev_device_exclude = cfg->netdev_exclude,
        .netstat_fields = cfg->netstat_fields,
        .vmstat_fields = cfg->vmstat_fields,
    };
}

/* Every collector's settings compile (init then fini). */
static int agent_config_check_collectors(const agent_config_t *cfg, char *err, size_t errlen)
{
    coll_opts_t o = agent_config_coll_opts(cfg);
    for (size_t i = 0; i < coll_table_len; i++) {
        void *st = NULL;
        if (coll_table[i]->init && coll_table[i]->init(&o, &st, err, errlen) != 0) {
            return -1;
        }
        if (coll_table[i]->fini) {
            coll_table[i]->fini(st);
        }
    }
    return 0;
}

/* Whole-configuration checks the field table cannot express. */
/* Static labels and extra headers are bounded: a series must keep room
 * for a sample's own labels (MSINK_MAX_LABELS), and a request for its
 * built headers (AGENT_AUTH_MAX_HEADERS). */
static int agent_config_check_bounds(const agent_config_t *cfg, char *err, size_t errlen)
{
    size_t host = cfg->labels.n / 2;
    if (host > AGENT_MAX_STATIC_LABELS) {
        snprintf(err, errlen, "collect.labels: %zu labels; at most %d", host, AGENT_MAX_STATIC_LABELS);
        return -1;
    }
    const agent_target_config_t *t = cfg->targets.v;
    for (size_t i = 0; i < cfg->targets.n; i++) {
        if (t[i].labels.n / 2 + host > AGENT_MAX_STATIC_LABELS) {
            snprintf(err, errlen, "scrape.targets[%zu].labels: with collect.labels, more than %d labels", i,
                     AGENT_MAX_STATIC_LABELS);
            return -1;
        }
        if (t[i].headers.n / 2 > AGENT_AUTH_MAX_HEADERS - 1) {
            snprintf(err, errlen, "scrape.targets[%zu].headers: at most %d", i, AGENT_AUTH_MAX_HEADERS - 1);
            return -1;
        }
    }
    const agent_endpoint_config_t *ep = cfg->rw_endpoints.v;
    for (size_t i = 0; i < cfg->rw_endpoints.n; i++) {
        if (ep[i].headers.n / 2 > AGENT_AUTH_MAX_HEADERS - 1) {
            snprintf(err, errlen, "remote-write.endpoints[%zu].headers: at most %d", i, AGENT_AUTH_MAX_HEADERS - 1);
            return -1;
        }
    }
    return 0;
}

/* Static label maps of the log streams: valid names, bounded. */
static int agent_config_check_map(const config_strlist_t *m, const char *key, char *err, size_t errlen)
{
    if (m->n / 2 > AGENT_MAX_STATIC_LABELS) {
        snprintf(err, errlen, "%s: %zu labels; at most %d", key, m->n / 2, AGENT_MAX_STATIC_LABELS);
        return -1;
    }
    for (size_t i = 0; i + 1 < m->n; i += 2) {
        if (!labels_valid_label_name(str_cstr(m->v[i])) || strncmp(m->v[i], "__", 2) == 0) {
            snprintf(err, errlen, "%s: invalid label name \"%s\"", key, m->v[i]);
            return -1;
        }
    }
    return 0;
}

static int agent_config_check_logs(agent_config_t *cfg, char *err, size_t errlen)
{
    if (cfg->journal_path_flag && cfg->journal_path_flag[0]) {
        mem_free(cfg->journal_path);
        cfg->journal_path = mem_strdup(cfg->journal_path_flag);
        cfg->journal_enabled = true;
    }
    char why[256];
    for (size_t i = 0; i < cfg->logs_urls.n; i++) {
        if (agent_httpc_check_url(cfg->logs_urls.v[i], why, sizeof(why)) != 0) {
            snprintf(err, errlen, "logs.url: \"%s\": %s", cfg->logs_urls.v[i], why);
            return -1;
        }
    }
    const agent_endpoint_config_t *ep = cfg->logs_endpoints.v;
    for (size_t i = 0; i < cfg->logs_endpoints.n; i++) {
        if (!ep[i].url || agent_httpc_check_url(ep[i].url, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "logs.endpoints[%zu].url: %s", i, ep[i].url ? why : "missing");
            return -1;
        }
        if (ep[i].headers.n / 2 > AGENT_AUTH_MAX_HEADERS - 1) {
            snprintf(err, errlen, "logs.endpoints[%zu].headers: at most %d", i, AGENT_AUTH_MAX_HEADERS - 1);
            return -1;
        }
    }
    if (agent_config_check_map(&cfg->logs_labels, "logs.labels", err, errlen) != 0 ||
        agent_config_check_map(&cfg->journal_labels, "logs.journal.labels", err, errlen) != 0) {
        return -1;
    }
    const agent_logfile_config_t *lf = cfg->logs_files.v;
    for (size_t i = 0; i < cfg->logs_files.n; i++) {
        char key[64];
        snprintf(key, sizeof(key), "logs.files[%zu].labels", i);
        if (agent_config_check_map(&lf[i].labels, key, err, errlen) != 0) {
            return -1;
        }
        bool has_path = lf[i].path && lf[i].path[0], has_pods = lf[i].pods_dir && lf[i].pods_dir[0];
        if (has_path == has_pods) {
            snprintf(err, errlen, "logs.files[%zu]: exactly one of path and pods-dir", i);
            return -1;
        }
    }
    bool inputs = cfg->journal_enabled || cfg->logs_files.n > 0;
    bool outputs = cfg->logs_urls.n + cfg->logs_endpoints.n > 0;
    if (inputs && !outputs) {
        snprintf(err, errlen, "logs: inputs are configured but no logs.url or logs.endpoints to ship them to");
        return -1;
    }
    return 0;
}

static int agent_config_check(agent_config_t *cfg, char *err, size_t errlen)
{
    if (agent_config_check_logs(cfg, err, errlen) != 0) {
        return -1;
    }
    if (agent_config_check_collectors(cfg, err, errlen) != 0 || agent_config_check_bounds(cfg, err, errlen) != 0) {
        return -1;
    }
    for (size_t i = 0; i < cfg->disabled.n; i++) {
        if (!agent_find_collector(cfg->disabled.v[i])) {
            snprintf(err, errlen, "collect.disable: unknown collector \"%s\"", cfg->disabled.v[i]);
            return -1;
        }
    }
    char why[256];
    for (size_t i = 0; i < cfg->rw_urls.n; i++) {
        if (agent_httpc_check_url(cfg->rw_urls.v[i], why, sizeof(why)) != 0) {
            snprintf(err, errlen, "remote-write.url: \"%s\": %s", cfg->rw_urls.v[i], why);
            return -1;
        }
    }
    const agent_endpoint_config_t *ep = cfg->rw_endpoints.v;
    for (size_t i = 0; i < cfg->rw_endpoints.n; i++) {
        if (!ep[i].url || agent_httpc_check_url(ep[i].url, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "remote-write.endpoints[%zu].url: %s", i, ep[i].url ? why : "missing");
            return -1;
        }
    }
    if (cfg->rw_min_backoff_ms > cfg->rw_max_backoff_ms) {
        snprintf(err, errlen, "remote-write.min-backoff is larger than remote-write.max-backoff");
        return -1;
    }
    const agent_target_config_t *t = cfg->targets.v;
    for (size_t i = 0; i < cfg->targets.n; i++) {
        if (!t[i].job || !t[i].job[0]) {
            snprintf(err, errlen, "scrape.targets[%zu].job: missing", i);
            return -1;
        }
        if (t[i].urls.n == 0) {
            snprintf(err, errlen, "scrape.targets[%zu].urls: missing", i);
            return -1;
        }
        for (size_t j = 0; j < t[i].urls.n; j++) {
            if (agent_httpc_check_url(t[i].urls.v[j], why, sizeof(why)) != 0) {
                snprintf(err, errlen, "scrape.targets[%zu].urls: \"%s\": %s", i, t[i].urls.v[j], why);
                return -1;
            }
        }
    }
    return 0;
}

agent_cfg_rc_t agent_config_load(int argc, char **argv, agent_config_t *cfg, FILE *out, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            agent_usage(out);
            return AGENT_CFG_HELP;
        }
        if (strcmp(argv[i], "--help-md") == 0) {
            config_print_markdown(out, agent_fields, NFIELDS);
            return AGENT_CFG_HELP;
        }
    }
    if (config_load_cli(argc, argv, agent_fields, NFIELDS, offsetof(agent_config_t, config_file), cfg, err, errlen) !=
        0) {
        return AGENT_CFG_ERROR;
    }
    return agent_config_check(cfg, err, errlen) == 0 ? AGENT_CFG_OK : AGENT_CFG_ERROR;
}

void agent_config_free(agent_config_t *cfg)
{
    config_free(agent_fields, NFIELDS, cfg);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent: pharos-agent, the per-node collector and shipper. The
 * composition root: it reads the configuration, runs the host
 * collectors and the scrape targets on their grids, ships every sample
 * by remote-write through per-endpoint on-disk spools, and serves
 * /metrics and /-/healthy.
 *
 * agent_config_load: defaults, then the YAML file named by
 * --config.file, then the flags (flags override). agent_create binds and
 * starts the senders; agent_run collects until agent_stop; agent_destroy
 * spools what is pending and lets the senders drain for
 * remote-write.drain-timeout (what is left stays in the spool for the
 * next start).
 */
#ifndef PHAROS_AGENT_H
#define PHAROS_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/config.h"

typedef struct agent_target_config {
    char *job;
    config_strlist_t urls;
    int64_t interval_ms; /* 0: collect.interval */
    int64_t timeout_ms;
    config_strlist_t labels; /* k, v, k, v, … */
    bool honor_labels;
    bool honor_timestamps;
    char *bearer_token_file, *basic_user, *basic_password_file;
    config_strlist_t headers; /* name, value, … */
} agent_target_config_t;

/* A remote-write endpoint with settings (remote-write.endpoints). */
typedef struct agent_endpoint_config {
    char *url;
    char *bearer_token_file, *basic_user, *basic_password_file;
    config_strlist_t headers; /* name, value, … */
} agent_endpoint_config_t;

/* A set of log files to follow (logs.files). */
typedef struct agent_logfile_config {
    char *path;              /* glob of files */
    char *pods_dir;          /* or a /var/log/pods directory (CRI files) */
    int format;              /* 0 plain, 1 cri */
    config_strlist_t labels; /* k, v, … */
} agent_logfile_config_t;

typedef struct agent_config {
    char *config_file;
    char *listen;
    int64_t interval_ms;
    char *job;
    char *instance;            /* empty: the host name */
    config_strlist_t disabled; /* collector names */
    config_strlist_t labels;   /* k, v, …: added to every shipped series */
    char *diskstats_exclude, *mp_exclude, *fs_exclude, *netdev_exclude, *netstat_fields, *vmstat_fields;
    char *procfs, *sysfs, *rootfs, *udev_data;
    config_strlist_t rw_urls;
    config_table_t rw_endpoints; /* agent_endpoint_config_t */
    int64_t rw_shards;
    int64_t rw_max_samples;
    int64_t rw_deadline_ms;
    int64_t rw_min_backoff_ms, rw_max_backoff_ms;
    int64_t rw_timeout_ms;
    int64_t rw_drain_ms;
    char *storage_path;
    int64_t spool_max_bytes;
    bool spool_sync;
    config_table_t targets; /* agent_target_config_t */
    /* log shipping (logs.*) */
    config_strlist_t logs_urls;
    config_table_t logs_endpoints; /* agent_endpoint_config_t */
    config_strlist_t logs_labels;  /* k, v, …: added to every log stream */
    int64_t logs_max_entries, logs_max_bytes, logs_deadline_ms;
    int64_t logs_max_line;
    int64_t logs_rescan_ms, logs_poll_ms;
    bool journal_enabled;
    char *journal_path; /* empty: the local journal */
    char *journal_path_flag;
    config_strlist_t journal_units;
    int64_t journal_max_priority;
    config_strlist_t journal_labels;
    int64_t journal_max_age_ms;
    config_table_t logs_files; /* agent_logfile_config_t */
    int log_level;
    bool check_config;
} agent_config_t;

typedef enum agent_cfg_rc {
    AGENT_CFG_OK = 0,
    AGENT_CFG_ERROR = 1, /* message in err */
    AGENT_CFG_HELP = 2,  /* --help or --help-md printed to out */
} agent_cfg_rc_t;

/* Fill cfg from defaults, file and flags, then check it (collector
 * names, URLs). Strings are owned by cfg: agent_config_free. */
agent_cfg_rc_t agent_config_load(int argc, char **argv, agent_config_t *cfg, FILE *out, char *err, size_t errlen);
void agent_config_free(agent_config_t *cfg);

typedef struct agent agent_t;

/* Bind the HTTP listener, open the spools and start the senders and
 * scrapers. 0 and [out] *out, or -1 with a reason. cfg is borrowed for
 * the agent's life. */
int agent_create(const agent_config_t *cfg, agent_t **out, char *err, size_t errlen);
/* Collect on the interval grid until agent_stop. */
void agent_run(agent_t *a);
/* Make agent_run return (thread-safe, async-signal-unsafe). */
void agent_stop(agent_t *a);
/* Spool pending samples, drain, stop threads, free. NULL ok. */
void agent_destroy(agent_t *a);
uint16_t agent_port(const agent_t *a);

#endif

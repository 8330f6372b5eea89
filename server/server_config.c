/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server_config: pharosd's options as one table (key = YAML path = flag
 * name, default, help), loaded as defaults, then the file, then flags.
 * docs/configuration.md is generated from the same table
 * (pharosd --help-md), so the docs and the binary cannot disagree, and so
 * is the effective configuration the API shows (server_config_text; keys
 * of one YAML section must stay adjacent in the table).
 */
#include <stddef.h>
#include <string.h>

#include "common/config.h"
#include "common/json_out.h"
#include "common/mem.h"
#include "common/str.h"
#include "server/server.h"

static const char *const wal_sync_values[] = { "write", "always", NULL };
static const char *const log_level_values[] = { "debug", "info", "warn", "error", NULL };

#define F(key, type, member, def, help)                                                                                \
    {                                                                                                                  \
        key, type, offsetof(server_config_t, member), def, help, NULL, 0, 0, false                                     \
    }
#define FB(key, type, member, def, lo, hi, help)                                                                       \
    {                                                                                                                  \
        key, type, offsetof(server_config_t, member), def, help, NULL, lo, hi, false                                   \
    }

static const config_field_t server_fields[] = {
    { "config.file", CFG_STR, offsetof(server_config_t, config_file), NULL,
      "YAML configuration file; flags override its values", NULL, 0, 0, true },
    F("web.listen-address", CFG_STR, listen, "127.0.0.1:9747", "Address to listen on for the HTTP API"),
    FB("web.threads", CFG_INT, threads, "4", 1, 256, "HTTP worker threads"),
    FB("web.max-body", CFG_BYTES, max_body_bytes, "32MiB", 1024, 1LL << 34,
       "Largest request body accepted (413 past it)"),
    F("web.external-url", CFG_STR, external_url, NULL,
      "URL under which pharosd is reached, used in alerts' generator URLs and notifications (default: "
      "http://<web.listen-address>)"),
    F("storage.path", CFG_STR, storage_path, "./data", "Data directory: metrics at its top, logs in its logs/ folder"),
    FB("storage.retention", CFG_DURATION, retention_ms, "15d", 0, 1LL << 50, "How long to keep blocks (0: forever)"),
    FB("storage.block-range", CFG_DURATION, block_range_ms, "30m", 60000, 1LL << 40,
       "Span of data cut from the head into one block"),
    FB("storage.page-cache-size", CFG_BYTES, page_cache_bytes, "64MiB", 1LL << 20, 1LL << 40,
       "Decoded block pages kept in memory for queries"),
    FB("storage.out-of-order-window", CFG_DURATION, ooo_window_ms, "6h", 0, 1LL << 40,
       "Accept samples up to this much older than the newest sample"),
    { "wal.sync", CFG_ENUM, offsetof(server_config_t, wal_sync), "write",
      "write: acknowledged samples survive a crash of pharosd; always: they also survive power loss (fdatasync)",
      wal_sync_values, 0, 0, false },
    FB("wal.segment-size", CFG_BYTES, wal_segment_bytes, "64MiB", 1LL << 20, 1LL << 32, "WAL segment file size"),
    FB("ingest.max-decoded-body", CFG_BYTES, max_decoded_bytes, "64MiB", 1024, 1LL << 32,
       "Largest decompressed remote-write or Loki push body (413 past it)"),
    FB("ingest.max-inflight", CFG_INT, max_inflight, "16", 1, 4096,
       "Concurrent ingest requests (remote-write and Loki push); more are answered 503 so senders retry"),
    FB("limits.label-name-length", CFG_INT, label_name_len, "1024", 1, 1 << 20, "Longest label name accepted"),
    FB("limits.label-value-length", CFG_INT, label_value_len, "16384", 1, 1 << 24, "Longest label value accepted"),
    FB("limits.labels-per-series", CFG_INT, labels_per_series, "128", 1, TSDB_MAX_LABELS, "Most labels in one series"),
    FB("query.timeout", CFG_DURATION, query_timeout_ms, "2m", 1, 1LL << 40,
       "Longest a query may take, waiting for a slot included (503 past it)"),
    FB("query.max-samples", CFG_INT, query_max_samples, "50000000", 1, 1LL << 40,
       "Most samples a query may hold in memory at once (422 past it)"),
    FB("query.lookback-delta", CFG_DURATION, query_lookback_ms, "5m", 1, 1LL << 40,
       "How far back an instant vector selector looks for a sample"),
    FB("query.max-concurrency", CFG_INT, query_max_concurrency, "20", 1, 4096,
       "Queries evaluated at once; more wait for a slot within their timeout"),
    FB("logs.retention", CFG_DURATION, logs_retention_ms, "15d", 0, 1LL << 50,
       "How long to keep log blocks (0: forever)"),
    FB("logs.block-size", CFG_BYTES, logs_block_bytes, "1MiB", 4096, 16LL << 20,
       "Line bytes of a stream collected in memory before they are cut into a compressed block"),
    FB("logs.max-line-size", CFG_BYTES, logs_max_line_bytes, "256KiB", 1, 1LL << 30,
       "Longest log line accepted by /loki/api/v1/push (400 past it)"),
    FB("logs.max-labels-per-stream", CFG_INT, logs_max_labels, "15", 1, TSDB_MAX_LABELS,
       "Most labels in one log stream, as Loki's max_label_names_per_series"),
    FB("logs.reject-old-samples-max-age", CFG_DURATION, logs_reject_old_ms, "1w", 0, 1LL << 50,
       "Refuse log entries older than this (0: accept any age), as Loki's reject_old_samples_max_age"),
    FB("logs.creation-grace-period", CFG_DURATION, logs_creation_grace_ms, "10m", 0, 1LL << 50,
       "Refuse log entries further than this in the future, as Loki's creation_grace_period"),
    FB("logs.max-entries-per-query", CFG_INT, logs_max_entries, "5000", 1, 1LL << 31,
       "Largest limit a log query may ask for (400 past it), as Loki's max_entries_limit_per_query"),
    FB("logs.max-query-series", CFG_INT, logs_max_series, "500", 1, 1LL << 31,
       "Most series a LogQL metric query may return (400 past it), as Loki's max_query_series"),
    F("rules.files", CFG_STRLIST, rule_files, NULL,
      "Prometheus rule files to evaluate (globs); reloaded on SIGHUP and POST /-/reload"),
    F("rules.slo-files", CFG_STRLIST, slo_files, NULL,
      "SLO files (globs) expanded into burn-rate recording and alerting rules (docs/alerting-slo.md)"),
    FB("rules.evaluation-interval", CFG_DURATION, rules_interval_ms, "1m", 1, 1LL << 40,
       "How often rule groups without their own interval are evaluated"),
    FB("rules.query-offset", CFG_DURATION, rules_query_offset_ms, "0s", 0, 1LL << 40,
       "How far in the past rules of groups without their own query_offset evaluate"),
    FB("rules.for-outage-tolerance", CFG_DURATION, rules_outage_tolerance_ms, "1h", 1, 1LL << 40,
       "Max time to tolerate a pharosd outage for restoring the for state of alerts"),
    FB("rules.for-grace-period", CFG_DURATION, rules_grace_period_ms, "10m", 0, 1LL << 40,
       "Minimum duration between an alert's restored for state and its firing"),
    FB("rules.resend-delay", CFG_DURATION, rules_resend_delay_ms, "1m", 1, 1LL << 40,
       "Minimum time to wait before resending a firing alert to the notifier"),
    F("rules.external-labels", CFG_MAP, external_labels, NULL,
      "Labels added to every alert sent (and available as $externalLabels in templates)"),
    F("alerting.config-file", CFG_STR, alerting_config_file, NULL,
      "Alertmanager-format file of routes, receivers and inhibit rules (docs/alerting-notifications.md)"),
    F("alerting.alertmanager-urls", CFG_STRLIST, alertmanager_urls, NULL,
      "Alertmanagers (base URLs) every alert is also posted to, as Prometheus does"),
    { "log.level", CFG_ENUM, offsetof(server_config_t, log_level), "info", "Log level", log_level_values, 0, 0, false },
    { "check-config", CFG_BOOL, offsetof(server_config_t, check_config), "false", "Validate the configuration and exit",
      NULL, 0, 0, true },
};

#define NFIELDS (sizeof(server_fields) / sizeof(server_fields[0]))

static void server_usage(FILE *out)
{
    fprintf(out,
            "Usage: pharosd [flags]\n\npharosd stores metrics received by Prometheus remote-write and logs received by "
            "Loki push, and answers the Prometheus and Loki query APIs.\n\n"
            "Flags (each also a YAML key of the config file, except --config.file and --check-config):\n");
    config_print_help(out, server_fields, NFIELDS);
}

server_cfg_rc_t server_config_load(int argc, char **argv, server_config_t *cfg, FILE *out, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            server_usage(out);
            return SERVER_CFG_HELP;
        }
        if (strcmp(argv[i], "--help-md") == 0) {
            server_config_doc(out);
            return SERVER_CFG_HELP;
        }
    }
    cfg->argc = argc;
    cfg->argv = argv;
    if (config_load_cli(argc, argv, server_fields, NFIELDS, offsetof(server_config_t, config_file), cfg, err, errlen) !=
        0) {
        return SERVER_CFG_ERROR;
    }
    return SERVER_CFG_OK;
}

void server_config_free(server_config_t *cfg)
{
    config_free(server_fields, NFIELDS, cfg);
}

void server_config_doc(FILE *out)
{
    config_print_markdown(out, server_fields, NFIELDS);
}

/* A bytes value as the config reads it back: the largest exact binary unit. */
static void server_config_bytes(int64_t v, buf_t *out)
{
    static const struct {
        const char *unit;
        int64_t mult;
    } units[] = { { "GiB", 1LL << 30 }, { "MiB", 1LL << 20 }, { "KiB", 1LL << 10 } };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (v != 0 && v % units[i].mult == 0) {
            buf_printf(out, "%lld%s", (long long)(v / units[i].mult), units[i].unit);
            return;
        }
    }
    buf_printf(out, "%lld", (long long)v);
}

/* The value of field f in cfg as text; quote: strings as YAML/JSON strings. */
static void server_config_value(const config_field_t *f, const server_config_t *cfg, bool quote, buf_t *out)
{
    const char *base = (const char *)cfg + f->offset;
    switch (f->type) {
    case CFG_STR: {
        const char *v = *(char *const *)base;
        if (quote) {
            json_cstr(out, v ? v : "");
        } else {
            buf_puts(out, v ? v : "");
        }
        return;
    }
    case CFG_INT:
        buf_printf(out, "%lld", (long long)*(const int64_t *)base);
        return;
    case CFG_BOOL:
        buf_puts(out, *(const bool *)base ? "true" : "false");
        return;
    case CFG_DURATION: {
        char tmp[40];
        size_t n = str_format_duration_ms(*(const int64_t *)base, tmp);
        buf_append(out, tmp, n);
        return;
    }
    case CFG_BYTES:
        server_config_bytes(*(const int64_t *)base, out);
        return;
    case CFG_ENUM:
        buf_puts(out, f->enum_values[*(const int *)base]);
        return;
    case CFG_STRLIST: {
        const config_strlist_t *l = (const config_strlist_t *)base;
        buf_t joined = { 0 };
        for (size_t i = 0; i < l->n; i++) {
            buf_printf(&joined, "%s%s", i ? "," : "", l->v[i]);
        }
        if (quote) {
            buf_putc(out, '[');
            for (size_t i = 0; i < l->n; i++) {
                if (i) {
                    buf_puts(out, ", ");
                }
                json_cstr(out, l->v[i]);
            }
            buf_putc(out, ']');
        } else {
            buf_append(out, joined.data, joined.len);
        }
        buf_fini(&joined);
        return;
    }
    case CFG_MAP: {
        const config_strlist_t *l = (const config_strlist_t *)base;
        if (quote) {
            buf_putc(out, '{');
        }
        for (size_t i = 0; i + 1 < l->n; i += 2) {
            if (quote) {
                buf_puts(out, i ? ", " : "");
                json_cstr(out, l->v[i]);
                buf_puts(out, ": ");
                json_cstr(out, l->v[i + 1]);
            } else {
                buf_printf(out, "%s%s=%s", i ? "," : "", l->v[i], l->v[i + 1]);
            }
        }
        if (quote) {
            buf_putc(out, '}');
        }
        return;
    }
    case CFG_TABLE:
        return; /* pharosd has no table options */
    }
}

void server_config_text(const server_config_t *cfg, server_config_text_t *out)
{
    memset(out, 0, sizeof(*out));
    out->flags = mem_calloc(NFIELDS * 2, sizeof(char *));
    const char *group = NULL;
    size_t glen = 0;
    for (size_t i = 0; i < NFIELDS; i++) {
        const config_field_t *f = &server_fields[i];
        buf_t v = { 0 };
        server_config_value(f, cfg, false, &v);
        out->flags[2 * out->nflags] = mem_strdup(f->key);
        out->flags[2 * out->nflags + 1] = mem_strndup(v.data ? (const char *)v.data : "", v.len);
        out->nflags++;
        buf_fini(&v);
        const char *dot = strchr(f->key, '.');
        if (f->flag_only || !dot) {
            continue;
        }
        if (!group || (size_t)(dot - f->key) != glen || strncmp(group, f->key, glen) != 0) {
            group = f->key;
            glen = (size_t)(dot - f->key);
            buf_printf(&out->yaml, "%.*s:\n", (int)glen, group);
        }
        buf_printf(&out->yaml, "  %s: ", dot + 1);
        server_config_value(f, cfg, true, &out->yaml);
        buf_putc(&out->yaml, '\n');
    }
}

void server_config_text_fini(server_config_text_t *t)
{
    for (size_t i = 0; i < t->nflags * 2; i++) {
        mem_free(t->flags[i]);
    }
    mem_free(t->flags);
    buf_fini(&t->yaml);
    memset(t, 0, sizeof(*t));
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server_config: pharosd's options as one table (key = YAML path = flag
 * name, default, help), loaded as defaults, then the file, then flags.
 * docs/configuration.md is generated from the same table
 * (pharosd --help-md), so the docs and the binary cannot disagree.
 */
#include <stddef.h>
#include <string.h>

#include "common/config.h"
#include "common/mem.h"
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
    F("storage.path", CFG_STR, storage_path, "./data", "Data directory"),
    FB("storage.retention", CFG_DURATION, retention_ms, "15d", 0, 1LL << 50, "How long to keep blocks (0: forever)"),
    FB("storage.block-range", CFG_DURATION, block_range_ms, "30m", 60000, 1LL << 40,
       "Span of data cut from the head into one block"),
    FB("storage.out-of-order-window", CFG_DURATION, ooo_window_ms, "6h", 0, 1LL << 40,
       "Accept samples up to this much older than the newest sample"),
    { "wal.sync", CFG_ENUM, offsetof(server_config_t, wal_sync), "write",
      "write: acknowledged samples survive a crash of pharosd; always: they also survive power loss (fdatasync)",
      wal_sync_values, 0, 0, false },
    FB("wal.segment-size", CFG_BYTES, wal_segment_bytes, "64MiB", 1LL << 20, 1LL << 32, "WAL segment file size"),
    FB("ingest.max-decoded-body", CFG_BYTES, max_decoded_bytes, "64MiB", 1024, 1LL << 32,
       "Largest decompressed remote-write body (413 past it)"),
    FB("ingest.max-inflight", CFG_INT, max_inflight, "16", 1, 4096,
       "Concurrent ingest requests; more are answered 503 so senders retry"),
    FB("limits.label-name-length", CFG_INT, label_name_len, "1024", 1, 1 << 20, "Longest label name accepted"),
    FB("limits.label-value-length", CFG_INT, label_value_len, "16384", 1, 1 << 24, "Longest label value accepted"),
    FB("limits.labels-per-series", CFG_INT, labels_per_series, "128", 1, TSDB_MAX_LABELS, "Most labels in one series"),
    { "log.level", CFG_ENUM, offsetof(server_config_t, log_level), "info", "Log level", log_level_values, 0, 0, false },
    { "check-config", CFG_BOOL, offsetof(server_config_t, check_config), "false", "Validate the configuration and exit",
      NULL, 0, 0, true },
};

#define NFIELDS (sizeof(server_fields) / sizeof(server_fields[0]))

static void server_usage(FILE *out)
{
    fprintf(out, "Usage: pharosd [flags]\n\npharosd stores metrics received by Prometheus remote-write.\n\n"
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
    if (config_defaults(server_fields, NFIELDS, cfg, err, errlen) != 0) {
        return SERVER_CFG_ERROR;
    }
    /* The file first (its name is itself a flag), then every flag. */
    server_config_t probe;
    memset(&probe, 0, sizeof(probe));
    if (config_defaults(server_fields, NFIELDS, &probe, err, errlen) != 0 ||
        config_parse_flags(argc, argv, server_fields, NFIELDS, &probe, NULL, NULL, err, errlen) != 0) {
        config_free(server_fields, NFIELDS, &probe);
        return SERVER_CFG_ERROR;
    }
    if (probe.config_file) {
        if (config_load_file(probe.config_file, server_fields, NFIELDS, cfg, err, errlen) != 0) {
            config_free(server_fields, NFIELDS, &probe);
            return SERVER_CFG_ERROR;
        }
    }
    config_free(server_fields, NFIELDS, &probe);
    if (config_parse_flags(argc, argv, server_fields, NFIELDS, cfg, NULL, NULL, err, errlen) != 0) {
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
    static const char *const type_names[] = { "string", "integer", "boolean", "duration", "bytes", "enum", "list" };
    fprintf(out, "| key / flag | type | default | description |\n|---|---|---|---|\n");
    for (size_t i = 0; i < NFIELDS; i++) {
        const config_field_t *f = &server_fields[i];
        fprintf(out, "| `%s%s` | %s | %s%s%s | %s", f->flag_only ? "--" : "", f->key, type_names[f->type],
                f->def ? "`" : "", f->def ? f->def : "", f->def ? "`" : "", f->help);
        if (f->enum_values) {
            fprintf(out, " (one of:");
            for (const char *const *e = f->enum_values; *e; e++) {
                fprintf(out, " `%s`", *e);
            }
            fprintf(out, ")");
        }
        if (f->flag_only) {
            fprintf(out, " (flag only)");
        }
        fprintf(out, " |\n");
    }
}

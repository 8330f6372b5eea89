/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for server/server_config.c: defaults, the YAML file over them,
 * flags over the file, and errors that name the file, line and key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/server.h"

static char *write_tmp(const char *text)
{
    static char path[64];
    strcpy(path, "/tmp/pharos-cfg-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static server_cfg_rc_t load(const char *file, const char *flag, server_config_t *cfg, char *err, size_t errlen)
{
    char fileflag[128];
    char *argv[4] = { "pharosd", NULL, NULL, NULL };
    int argc = 1;
    if (file) {
        snprintf(fileflag, sizeof(fileflag), "--config.file=%s", file);
        argv[argc++] = fileflag;
    }
    if (flag) {
        argv[argc++] = (char *)flag;
    }
    FILE *devnull = fopen("/dev/null", "w");
    server_cfg_rc_t rc = server_config_load(argc, argv, cfg, devnull, err, errlen);
    fclose(devnull);
    return rc;
}

static void test_defaults(void **state)
{
    (void)state;
    server_config_t cfg;
    char err[256];
    assert_int_equal(load(NULL, NULL, &cfg, err, sizeof(err)), SERVER_CFG_OK);
    assert_string_equal(cfg.listen, "127.0.0.1:9747");
    assert_string_equal(cfg.storage_path, "./data");
    assert_int_equal(cfg.retention_ms, 15LL * 24 * 3600 * 1000);
    assert_int_equal(cfg.wal_sync, 0);
    assert_int_equal(cfg.max_body_bytes, 32LL << 20);
    assert_int_equal(cfg.query_timeout_ms, 120000);
    assert_int_equal(cfg.query_max_samples, 50000000);
    assert_int_equal(cfg.query_lookback_ms, 300000);
    assert_int_equal(cfg.query_max_concurrency, 20);
    assert_false(cfg.check_config);
    server_config_free(&cfg);
}

static void test_file_then_flags(void **state)
{
    (void)state;
    char *path = write_tmp("storage:\n  path: /var/lib/pharos\n  retention: 30d\nwal:\n  sync: always\n");
    server_config_t cfg;
    char err[256];
    assert_int_equal(load(path, NULL, &cfg, err, sizeof(err)), SERVER_CFG_OK);
    assert_string_equal(cfg.storage_path, "/var/lib/pharos");
    assert_int_equal(cfg.retention_ms, 30LL * 24 * 3600 * 1000);
    assert_int_equal(cfg.wal_sync, 1);
    server_config_free(&cfg);
    /* A flag overrides the file. */
    assert_int_equal(load(path, "--storage.retention=2h", &cfg, err, sizeof(err)), SERVER_CFG_OK);
    assert_int_equal(cfg.retention_ms, 2LL * 3600 * 1000);
    assert_string_equal(cfg.storage_path, "/var/lib/pharos");
    server_config_free(&cfg);
    unlink(path);
}

static void test_errors_name_file_line_key(void **state)
{
    (void)state;
    struct {
        const char *yaml;
        const char *flag;
        const char *want; /* substring, after the file name */
    } cases[] = {
        { "storage:\n  retention: 15x\n", NULL, ":2: storage.retention: invalid duration \"15x\"" },
        { "storag:\n  path: x\n", NULL, ":1: unknown key \"storag\"" },
        { "web:\n  listen-address: [a, b]\n", NULL, ":2: web.listen-address:" },
        { "wal:\n  sync: sometimes\n", NULL, ":2: wal.sync:" },
        { "web: [\n", NULL, ":2: syntax error" },
        { "web:\n  threads: 0\n", NULL, ":2: web.threads:" },
        { "limits:\n  labels-per-series: 300\n", NULL, ":2: limits.labels-per-series:" },
        { "", "--wal.sync=never", "wal.sync" },
        { "", "--no-such-flag=1", "--no-such-flag" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *path = write_tmp(cases[i].yaml);
        server_config_t cfg;
        char err[256] = "";
        server_cfg_rc_t rc = load(path, cases[i].flag, &cfg, err, sizeof(err));
        if (rc != SERVER_CFG_ERROR || !strstr(err, cases[i].want)) {
            fail_msg("case %zu: rc %d, err \"%s\", want \"%s\"", i, rc, err, cases[i].want);
        }
        if (!cases[i].flag && !strstr(err, path)) {
            fail_msg("case %zu: error \"%s\" does not name the file", i, err);
        }
        server_config_free(&cfg);
        unlink(path);
    }
}

static void test_help_and_check(void **state)
{
    (void)state;
    server_config_t cfg;
    char err[256];
    assert_int_equal(load(NULL, "--help", &cfg, err, sizeof(err)), SERVER_CFG_HELP);
    assert_int_equal(load(NULL, "--check-config", &cfg, err, sizeof(err)), SERVER_CFG_OK);
    assert_true(cfg.check_config);
    server_config_free(&cfg);
    char *path = write_tmp("");
    assert_int_equal(load(path, NULL, &cfg, err, sizeof(err)), SERVER_CFG_OK); /* empty file: defaults */
    assert_string_equal(cfg.storage_path, "./data");
    server_config_free(&cfg);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_file_then_flags),
        cmocka_unit_test(test_errors_name_file_line_key),
        cmocka_unit_test(test_help_and_check),
    };
    return cmocka_run_group_tests_name("server_config", tests, NULL, NULL);
}

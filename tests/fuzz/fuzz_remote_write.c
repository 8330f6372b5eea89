/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_remote_write: libFuzzer target for server_ingest_remote_write, the
 * whole remote-write path from untrusted bytes to tsdb_append.
 *
 * Each input is ingested twice: as the body itself (snappy decoder, then
 * protobuf on whatever survives) and snappy-compressed (so the protobuf
 * decoder, label validation and the append path see the raw bytes). The
 * status must be one of 204/400/413; 503 (WAL write failure) would mean
 * the store broke under us, so it aborts.
 *
 * libFuzzer gives no context pointer, so the store lives in file-scope
 * state (the one place Pharos allows it: a test harness). It is opened at
 * the first call in a mkdtemp dir with the background thread off and a
 * fixed clock (under $TMPDIR), and rebuilt empty when its head or WAL passes a bound so
 * long runs stay within -rss_limit_mb and the disk; the dir is removed at
 * exit. A crash may therefore depend on earlier inputs in the same run;
 * the reproducer libFuzzer saves is replayed against a fresh store.
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/compress.h"
#include "common/log.h"
#include "server/server.h"
#include "tsdb/tsdb.h"

#define FUZZ_NOW_MS 1700000000000LL
#define FUZZ_MAX_HEAD_SAMPLES 2000000u
#define FUZZ_MAX_HEAD_SERIES 200000u
#define FUZZ_MAX_WAL_BYTES (256u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fuzz_rw {
    char dir[4096];
    int64_t now;
    tsdb_t *db;
} fuzz_rw_t;

static fuzz_rw_t g_rw;

static int64_t fuzz_now(void *ctx)
{
    return *(const int64_t *)ctx;
}

static int fuzz_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void fuzz_rw_close(void)
{
    tsdb_close(g_rw.db);
    g_rw.db = NULL;
    if (g_rw.dir[0]) {
        nftw(g_rw.dir, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    }
}

static void fuzz_rw_open(void)
{
    if (!g_rw.dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(g_rw.dir, sizeof(g_rw.dir), "%s/pharos-fuzz-rw-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(g_rw.dir)) {
            perror("mkdtemp");
            abort();
        }
        log_set_level(LOG_ERROR);
        atexit(fuzz_rw_close);
    }
    g_rw.now = FUZZ_NOW_MS;
    tsdb_opts_t o = {
        .dir = g_rw.dir,
        .ooo_window_ms = 3600 * 1000LL,
        .background = false,
        .clock = { fuzz_now, &g_rw.now },
    };
    char err[256];
    if (tsdb_open(&o, &g_rw.db, err, sizeof(err)) != 0) {
        fprintf(stderr, "tsdb_open %s: %s\n", g_rw.dir, err);
        abort();
    }
}

static void fuzz_rw_check(const uint8_t *body, size_t len)
{
    static const server_ingest_limits_t lim = {
        .labels = { .max_name_len = 1024, .max_value_len = 4096, .max_labels = 64 },
        .max_decoded = 1u << 20,
    };
    server_ingest_stats_t st;
    char msg[512];
    int rc = server_ingest_remote_write(g_rw.db, &lim, body, len, NULL, &st, msg, sizeof(msg));
    if (rc != 204 && rc != 400 && rc != 413) {
        fprintf(stderr, "unexpected status %d: %s\n", rc, msg);
        abort();
    }
    if (memchr(msg, 0, sizeof(msg)) == NULL || (rc == 204) != (msg[0] == '\0')) {
        fprintf(stderr, "bad message for status %d\n", rc);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_rw.db) {
        fuzz_rw_open();
    }
    fuzz_rw_check(data, size);
    buf_t body = { 0 };
    compress_snappy(data, size, &body);
    fuzz_rw_check(body.data, body.len);
    buf_fini(&body);

    tsdb_stats_t ts;
    tsdb_get_stats(g_rw.db, &ts);
    if (ts.head_samples > FUZZ_MAX_HEAD_SAMPLES || ts.head_series > FUZZ_MAX_HEAD_SERIES ||
        ts.wal_bytes > FUZZ_MAX_WAL_BYTES) {
        fuzz_rw_close();
        fuzz_rw_open();
    }
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * testsupport: what integration tests, fuzzers and benchmarks share:
 * starting and killing a pharosd on 127.0.0.1 with a temp data dir,
 * building snappy-compressed remote-write requests with the protoc-c
 * code, and reading /api/v1/export back (jansson).
 *
 * Processes are always killed by PID; ports come from the kernel (bind to
 * port 0, read it back, close) so parallel tests do not collide.
 */
#ifndef PHAROS_TESTSUPPORT_H
#define PHAROS_TESTSUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/httpc.h"
#include "tsdb/tsdb.h"

typedef struct ts_proc {
    pid_t pid;
    uint16_t port;
    char url[64];       /* http://127.0.0.1:<port> */
    char log_path[512]; /* stdout+stderr of the process */
} ts_proc_t;

/* A free TCP port on 127.0.0.1 (0 on failure). */
uint16_t ts_free_port(void);
/* Path of the pharosd binary in the build tree. */
const char *ts_pharosd_bin(void);
/* Start pharosd on a free port with --storage.path=datadir plus extra
 * args (NULL-terminated, may be NULL); wait until /-/ready answers (up to
 * timeout_s). Output goes to datadir/../<basename>.log. 0 or -1. */
int ts_pharosd_start(ts_proc_t *p, const char *datadir, const char *const *extra, double timeout_s);
/* Send sig to the process and reap it; returns its exit status (or
 * 128+signal). */
int ts_proc_stop(ts_proc_t *p, int sig);
/* Wait until url answers 200 on GET, up to timeout_s. */
bool ts_wait_ready(const char *url, double timeout_s);

typedef struct ts_label {
    const char *name;
    const char *value;
} ts_label_t;

typedef struct ts_series {
    const ts_label_t *labels;
    size_t nlabels;
    const int64_t *ts;
    const double *vs;
    size_t n;
} ts_series_t;

/* Encode a WriteRequest (protobuf, then snappy) into out (reset first). */
void ts_rw_encode(const ts_series_t *s, size_t n, buf_t *out);

/* Metric metadata of a WriteRequest (type: the remote-write MetricType,
 * 0 unknown, 1 counter, 2 gauge, 3 histogram, ...; help and unit may be NULL). */
typedef struct ts_meta {
    const char *family;
    int type;
    const char *help;
    const char *unit;
} ts_meta_t;

/* As ts_rw_encode, with metadata entries m[0..nm). */
void ts_rw_encode_meta(const ts_series_t *s, size_t n, const ts_meta_t *m, size_t nm, buf_t *out);
/* The raw protobuf without snappy (for hostile-input tests). */
void ts_rw_encode_raw(const ts_series_t *s, size_t n, buf_t *out);
/* POST a remote-write body with the standard headers. */
void ts_rw_post(httpc_t *c, const char *base_url, const buf_t *body, buf_t *resp, httpc_result_t *res);

/* A series read back from the export endpoint. */
typedef struct ts_exported {
    char *labels; /* canonical "name=value,name=value" in name order */
    int64_t *ts;
    double *vs; /* "StaleNaN" decoded to the stale bit pattern */
    size_t n;
} ts_exported_t;

/* GET the export endpoint of base_url for one selector; parse the JSON lines.
 * 0 with *out and *n set (free with ts_exported_free), or -1. */
int ts_export(httpc_t *c, const char *base_url, const char *selector, ts_exported_t **out, size_t *n);
void ts_exported_free(ts_exported_t *e, size_t n);

/* The bits of a double and back (for bit-exact comparisons). */
static inline uint64_t ts_bits(double v)
{
    uint64_t b;
    __builtin_memcpy(&b, &v, sizeof(b));
    return b;
}

static inline double ts_from_bits(uint64_t b)
{
    double v;
    __builtin_memcpy(&v, &b, sizeof(v));
    return v;
}

/* tsdb_select with a series selector in PromQL syntax. The selection's
 * result, or -1 (message in err) when the selector does not parse. */
struct tsdb;
typedef int (*ts_select_fn)(void *ctx, const struct label *ls, size_t nl, const int64_t *ts, const double *vs,
                            size_t n);
int ts_select(struct tsdb *db, const char *selector, int64_t mint, int64_t maxt, ts_select_fn fn, void *ctx, char *err,
              size_t errlen);

/* mkdtemp under /tmp with the given prefix; path written to dir. */
int ts_tempdir(const char *prefix, char *dir, size_t len);
/* rm -rf dir. */
void ts_rmrf(const char *dir);

#endif

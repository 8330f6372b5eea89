/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_wal_record: libFuzzer target for tsdb_rec_decode (tsdb/tsdb_wal.c),
 * the decoder WAL and series-log replay runs on every record it finds on
 * disk after a crash, so it must survive any bytes.
 *
 * The input is one record. The visitor's callbacks only read what they are
 * given (summing the bytes, so ASan sees any slice that points past the
 * record) and keep nothing. A harness may include tsdb_int.h: the record
 * codec is private to tsdb/ and has no public entry point.
 */
#include <stdint.h>
#include <stdlib.h>

#include "tsdb/tsdb_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t fuzz_sum(const void *p, size_t len)
{
    const uint8_t *b = p;
    uint64_t s = 0;
    for (size_t i = 0; i < len; i++) {
        s += b[i];
    }
    return s;
}

static void fuzz_sample(void *ctx, uint32_t id, int64_t t, double v)
{
    (void)v;
    *(uint64_t *)ctx += id + (uint64_t)t;
}

static void fuzz_series(void *ctx, uint32_t id, const uint8_t *labels, size_t len)
{
    *(uint64_t *)ctx += id + fuzz_sum(labels, len);
}

static void fuzz_meta(void *ctx, int type, str_t family, str_t help, str_t unit)
{
    *(uint64_t *)ctx +=
        (uint64_t)type + fuzz_sum(family.p, family.len) + fuzz_sum(help.p, help.len) + fuzz_sum(unit.p, unit.len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t sum = 0;
    tsdb_rec_visitor_t v = { &sum, fuzz_sample, fuzz_series, fuzz_meta };
    int rc = tsdb_rec_decode(data, size, &v);
    if (rc != 0 && rc != -1) {
        abort();
    }
    return 0;
}

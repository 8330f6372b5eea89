/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_logs_block: libFuzzer target for the log store's block reader
 * (logs/logs_block.c) and WAL record decoder (logs/logs_wal.c), the two
 * decoders that read what a crash or a bad disk left behind.
 *
 * The input is written to a scratch file in TMPDIR and opened as a block;
 * when the index validates, every chunk's filter is probed and every
 * chunk is read and decoded, and the rows are summed so ASan sees any
 * slice that points outside its buffer. The same bytes are then decoded
 * as one WAL record. Both must fail cleanly (an error code), never crash.
 * A harness may include logs_int.h: these codecs have no public entry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "logs/logs_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t fuzz_sum(const char *p, size_t len)
{
    uint64_t s = 0;
    for (size_t i = 0; i < len; i++) {
        s += (uint8_t)p[i];
    }
    return s;
}

static bool fuzz_stream(void *ctx, uint64_t seq, const uint8_t *labels, size_t len)
{
    *(uint64_t *)ctx += seq + fuzz_sum((const char *)labels, len);
    return true;
}

static void fuzz_entry(void *ctx, int64_t ts, str_t line, str_t meta)
{
    *(uint64_t *)ctx += (uint64_t)ts + fuzz_sum(line.p, line.len) + fuzz_sum(meta.p, meta.len);
}

static void fuzz_block(const uint8_t *data, size_t size)
{
    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/fuzz_logs_block.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        abort();
    }
    if (size && write(fd, data, size) != (ssize_t)size) {
        abort();
    }
    close(fd);
    logs_block_t *b;
    char err[256];
    int rc = logs_block_open(path, 1, &b, err, sizeof(err));
    if (rc == 0) {
        for (uint32_t i = 0; i < b->nstreams; i++) {
            b->streams[i].gid = i;
        }
        logs_block_bind(b);
        logs_decoded_t d = { 0 };
        buf_t scratch = { 0 };
        str_t lit[1] = { STR_LIT("error") };
        uint64_t sum = 0;
        for (uint32_t c = 0; c < b->nchunks; c++) {
            uint64_t absent = logs_block_frames_absent(b, c, lit, 1, &scratch);
            sum += absent == logs_block_frames_all(b, c);
            if (logs_block_read(b, c, absent, &d) == 0) {
                for (size_t k = 0; k < d.n; k++) {
                    sum += (uint64_t)d.rows[k].ts + fuzz_sum(d.rows[k].line.p, d.rows[k].line.len) +
                           fuzz_sum(d.rows[k].meta.p, d.rows[k].meta.len);
                }
            }
        }
        if (b->nstreams && logs_block_find(b, 0) != 0) {
            abort();
        }
        (void)sum;
        buf_fini(&scratch);
        logs_decoded_fini(&d);
        logs_block_free(b);
    } else if (rc != LOGS_ERR_CORRUPT && rc != LOGS_ERR_IO) {
        abort();
    }
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_block(data, size);
    uint64_t sum = 0;
    logs_rec_visitor_t v = { &sum, fuzz_stream, fuzz_entry };
    int rc = logs_rec_decode(data, size, &v, NULL);
    if (rc != 0 && rc != -1) {
        abort();
    }
    return 0;
}

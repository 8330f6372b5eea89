/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_loki_push: libFuzzer target for logs_push_decode, both formats.
 *
 * The first input byte picks a variant (format x encoding x "snappy the
 * rest first"), so one corpus covers raw protobuf bytes under the snappy
 * decoder, protobuf bytes reaching the wire walker and selector parser
 * (compressed here), and JSON. Tight limits and a fixed clock make every
 * validation branch reachable. Invariants checked on every result: the
 * status is one of the three; a failure leaves *out zeroed and err set;
 * a success has sorted, unique, valid, non-empty label sets within the
 * limits, non-empty streams whose entries lie in the window with lines in
 * the limit, counts that add up, and a NUL-terminated UTF-8 first_error
 * that is empty exactly when nothing was rejected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/compress.h"
#include "logs/logs.h"

#define FUZZ_NOW_NS 1700000000000000000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check_stream(const logs_stream_t *s, const logs_push_limits_t *lim)
{
    if (s->nlabels == 0 || s->nlabels > lim->max_labels || s->nentries == 0) {
        abort();
    }
    for (size_t i = 0; i < s->nlabels; i++) {
        const label_t *l = &s->labels[i];
        if (!labels_valid_label_name(l->name) || l->value.len == 0 || l->name.len > lim->max_label_name_len ||
            l->value.len > lim->max_label_value_len || !str_utf8_valid(l->value.p, l->value.len)) {
            abort();
        }
        if (i > 0 && str_cmp(s->labels[i - 1].name, l->name) >= 0) {
            abort();
        }
    }
    for (size_t i = 0; i < s->nentries; i++) {
        const logs_entry_t *e = &s->entries[i];
        if (e->line.len > lim->max_line_bytes || e->ts_ns < FUZZ_NOW_NS - lim->reject_older_than_ns ||
            e->ts_ns > FUZZ_NOW_NS + lim->reject_newer_than_ns || (e->nmeta && !e->meta)) {
            abort();
        }
        volatile char sink = 0;
        if (e->line.len) {
            sink ^= e->line.p[e->line.len - 1];
        }
        for (size_t m = 0; m < e->nmeta; m++) {
            sink ^= e->meta[m].name.len ? e->meta[m].name.p[0] : 0;
            sink ^= e->meta[m].value.len ? e->meta[m].value.p[e->meta[m].value.len - 1] : 0;
        }
        (void)sink;
    }
}

static void fuzz_check(logs_push_format_t fmt, logs_push_encoding_t enc, const uint8_t *body, size_t len)
{
    static const logs_push_limits_t lim = {
        .max_line_bytes = 64,
        .max_labels = 4,
        .max_label_name_len = 16,
        .max_label_value_len = 32,
        .reject_older_than_ns = 3600LL * 1000000000,
        .reject_newer_than_ns = 600LL * 1000000000,
        .max_decoded_bytes = 1u << 20,
    };
    arena_t *a = arena_create(1 << 16);
    logs_push_t out;
    char err[256];
    logs_push_status_t st = logs_push_decode(fmt, enc, body, len, &lim, FUZZ_NOW_NS, a, &out, err, sizeof(err));
    if (st != LOGS_PUSH_OK) {
        if ((st != LOGS_PUSH_MALFORMED && st != LOGS_PUSH_TOO_LARGE) || err[0] == '\0' || out.nstreams != 0 ||
            memchr(err, 0, sizeof(err)) == NULL) {
            abort();
        }
        arena_destroy(a);
        return;
    }
    size_t total = 0;
    for (size_t i = 0; i < out.nstreams; i++) {
        fuzz_check_stream(&out.streams[i], &lim);
        total += out.streams[i].nentries;
    }
    size_t elen = strnlen(out.first_error, sizeof(out.first_error));
    bool rejected = out.nrejected_streams > 0 || out.nrejected_entries > 0;
    if (total != out.nentries || elen == sizeof(out.first_error) || (elen > 0) != rejected ||
        !str_utf8_valid(out.first_error, elen)) {
        abort();
    }
    arena_destroy(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    uint8_t mode = data[0];
    data++;
    size--;
    logs_push_format_t fmt = (mode & 1) ? LOGS_PUSH_JSON : LOGS_PUSH_PROTOBUF;
    logs_push_encoding_t enc = (mode >> 2) % 3 == 1   ? LOGS_PUSH_GZIP
                               : (mode >> 2) % 3 == 2 ? LOGS_PUSH_DEFLATE
                                                      : LOGS_PUSH_IDENTITY;
    if (fmt == LOGS_PUSH_PROTOBUF && (mode & 2)) {
        buf_t b = { 0 };
        compress_snappy(data, size, &b);
        fuzz_check(fmt, LOGS_PUSH_IDENTITY, b.data, b.len);
        buf_fini(&b);
        return 0;
    }
    fuzz_check(fmt, enc, data, size);
    return 0;
}

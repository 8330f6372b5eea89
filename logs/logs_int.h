/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logs_int: private interface between the parts of the logs module.
 *
 * Push decoding is split by format: logs_push_pb.c walks the protobuf
 * wire format (zero copy over the arena copy of the decoded body),
 * logs_push_json.c walks jansson's DOM; both hand each stream to
 * logs_push_add_stream (logs_push.c), which applies Loki's validation and
 * appends what survives to the result. Decoders announce the number of
 * streams first (logs_push_begin), so the result array is allocated once.
 *
 * Wire layout of logproto.PushRequest (proto/push.proto):
 *   PushRequest   1: StreamAdapter (LEN, repeated)   2: format (LEN)
 *   StreamAdapter 1: labels (LEN)  2: EntryAdapter (LEN, repeated)  3: hash (VARINT)
 *   EntryAdapter  1: Timestamp (LEN)  2: line (LEN)  3: structuredMetadata (LEN, rep.)
 *                 4: parsed (LEN, repeated; ignored)
 *   Timestamp     1: seconds (VARINT int64)  2: nanos (VARINT int32)
 *   LabelPair     1: name (LEN)  2: value (LEN)
 */
#ifndef PHAROS_LOGS_LOGS_INT_H
#define PHAROS_LOGS_LOGS_INT_H
#include <stdbool.h>

#include "logs/logs.h"

typedef struct logs_push_ctx {
    const logs_push_limits_t *lim;
    int64_t now_ns;
    arena_t *arena;
    logs_push_t *out;
    size_t cap; /* room in out->streams */
} logs_push_ctx_t;

/* Allocate room for nstreams streams in ctx->out. */
void logs_push_begin(logs_push_ctx_t *ctx, size_t nstreams);

/* Validate one stream and append what survives to ctx->out.
 * raw: the label string as sent (protobuf; for messages), or empty (JSON).
 * parse_err: non-NULL when raw did not parse (the stream is rejected).
 * ls[0..n) is sorted and normalized in place (arena memory). entries[i]
 * with ts_bad[i] set (ts_bad may be NULL) has an unrepresentable time.
 * Entries are filtered in place. Never fails: rejections are counted. */
void logs_push_add_stream(logs_push_ctx_t *ctx, str_t raw, const char *parse_err, label_t *ls, size_t n,
                          logs_entry_t *entries, size_t nentries, const bool *ts_bad);

/* The body decoders. p[0..len) must outlive the result (it is the arena
 * copy). Return 0, or -1 with a reason in err. */
int logs_push_pb_decode(logs_push_ctx_t *ctx, const uint8_t *p, size_t len, char *err, size_t errlen);
int logs_push_json_decode(logs_push_ctx_t *ctx, const uint8_t *p, size_t len, char *err, size_t errlen);

#endif

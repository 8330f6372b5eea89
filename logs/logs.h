/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logs: the log store's public interface. For now: decoding of Loki push
 * requests (POST /loki/api/v1/push) into validated streams.
 *
 * logs_push_decode is pure: bytes in, an arena-backed logs_push_t out. It
 * reports a malformed body (bad gzip/snappy, bad protobuf, bad JSON) as a
 * whole-request failure, and a bad stream or entry (unparsable labels, a
 * limit, a timestamp outside the accept window) as a rejection counted in
 * the result, with the first reason in Loki's words; the valid streams of
 * the same request are kept, as Loki's distributor keeps them.
 *
 * Invariants of a successful result: every stream has 1..max_labels labels
 * sorted by name, with unique names matching [a-zA-Z_][a-zA-Z0-9_]*, valid
 * UTF-8 non-empty values and lengths within the limits; every stream has at
 * least one entry; entries keep request order and lie inside the window;
 * every line is at most max_line_bytes. Lines and structured metadata are
 * bytes as sent (Loki does not check them for UTF-8 either).
 */
#ifndef PHAROS_LOGS_LOGS_H
#define PHAROS_LOGS_LOGS_H
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/labels.h"
#include "common/str.h"

typedef struct logs_entry {
    int64_t ts_ns;
    str_t line;
    const label_t *meta; /* structured metadata, in request order */
    size_t nmeta;
} logs_entry_t;

typedef struct logs_stream {
    const label_t *labels; /* sorted by name, validated */
    size_t nlabels;
    const logs_entry_t *entries; /* request order; nentries >= 1 */
    size_t nentries;
} logs_stream_t;

typedef struct logs_push {
    logs_stream_t *streams; /* the valid streams */
    size_t nstreams;
    size_t nentries;          /* accepted entries over all streams */
    size_t nrejected_streams; /* streams dropped whole (labels) */
    size_t nrejected_entries; /* entries dropped, including those of rejected streams */
    char first_error[256];    /* first rejection reason, valid UTF-8; "" when none */
} logs_push_t;

typedef struct logs_push_limits {
    size_t max_line_bytes;        /* 0 = unlimited (Loki: 256 KiB) */
    size_t max_labels;            /* label names per stream; 0 = unlimited (Loki: 15) */
    size_t max_label_name_len;    /* 0 = unlimited (Loki: 1024) */
    size_t max_label_value_len;   /* 0 = unlimited (Loki: 2048) */
    int64_t reject_older_than_ns; /* entries with ts < now - this are rejected; 0 = off */
    int64_t reject_newer_than_ns; /* entries with ts > now + this are rejected; 0 = off */
    size_t max_decoded_bytes;     /* cap on the gunzipped/unsnappied body; 0 = 64 MiB */
} logs_push_limits_t;

typedef enum logs_push_format {
    LOGS_PUSH_PROTOBUF, /* snappy block of a logproto.PushRequest */
    LOGS_PUSH_JSON,     /* {"streams":[{"stream":{..},"values":[["<ns>","line"(,{meta})]]}]} */
} logs_push_format_t;

typedef enum logs_push_encoding {
    LOGS_PUSH_IDENTITY, /* no Content-Encoding (or "snappy" for protobuf) */
    LOGS_PUSH_GZIP,     /* Content-Encoding: gzip, around either format */
    LOGS_PUSH_DEFLATE,  /* Content-Encoding: deflate (raw DEFLATE, as Go's flate) */
} logs_push_encoding_t;

typedef enum logs_push_status {
    LOGS_PUSH_OK = 0,
    LOGS_PUSH_MALFORMED = -1, /* the body cannot be decoded: 400 */
    LOGS_PUSH_TOO_LARGE = -2, /* the decoded body exceeds max_decoded_bytes: 413 */
} logs_push_status_t;

/* Decode a push body of format fmt under Content-Encoding enc.
 * Returns LOGS_PUSH_OK with *out filled (possibly with rejections, see
 * first_error), or a negative status with a one-line reason in err (errlen
 * bytes, NUL-terminated) and *out zeroed. Every pointer in *out points into
 * arena (body is copied; the caller may free it). Work and memory are
 * O(decoded size); JSON goes through jansson's heap DOM, freed before
 * returning. */
logs_push_status_t logs_push_decode(logs_push_format_t fmt, logs_push_encoding_t enc, const uint8_t *body, size_t len,
                                    const logs_push_limits_t *lim, int64_t now_ns, arena_t *arena, logs_push_t *out,
                                    char *err, size_t errlen);

/* Parse a stream selector as Loki's push accepts it: {name="value", ...}
 * with Go-quoted ("…" with escapes, or `…` raw) values and only '='. Names
 * are [a-zA-Z_][a-zA-Z0-9_]*. [out] *ls is an arena array of *n labels in
 * the order written (values unescaped; slices borrow s when no escape).
 * Returns 0, or -1 with a reason naming the byte position in err. O(len). */
int logs_selector_parse(str_t s, arena_t *arena, label_t **ls, size_t *n, char *err, size_t errlen);

#endif

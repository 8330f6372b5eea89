/* SPDX-License-Identifier: Apache-2.0 */
/*
 * compress: snappy (block format, as remote-write and Loki push use it) and
 * zstd behind one shape: (src, len) in, bytes appended to a buf out.
 * Decoders are given a cap on the decoded size and refuse larger output
 * before allocating it (a 1 KiB body must not claim 4 GiB).
 */
#ifndef PHAROS_COMMON_COMPRESS_H
#define PHAROS_COMMON_COMPRESS_H

#include <stddef.h>

#include "common/buf.h"

typedef enum compress_status {
    COMPRESS_OK = 0,
    COMPRESS_CORRUPT = -1,   /* input is not valid for the format */
    COMPRESS_TOO_LARGE = -2, /* decoded size would exceed max_out */
} compress_status_t;

/* Append snappy-block encoding of src to out. */
void compress_snappy(const void *src, size_t len, buf_t *out);
/* Append the decoded bytes to out. */
compress_status_t decompress_snappy(const void *src, size_t len, size_t max_out, buf_t *out);
/* Append a zstd frame (level 1..19) of src to out. */
void compress_zstd(const void *src, size_t len, int level, buf_t *out);
/* Append the decoded frame; the frame must declare its content size. */
compress_status_t decompress_zstd(const void *src, size_t len, size_t max_out, buf_t *out);
/* Reusable zstd contexts for a run of frames (one block writer, one chunk
 * decoder): zero-initialised is ready, each context is created on first
 * use and kept until compress_zctx_fini (which accepts a zeroed one). */
typedef struct compress_zctx {
    void *cctx, *dctx;
} compress_zctx_t;
void compress_zctx_fini(compress_zctx_t *z);
/* As compress_zstd, with prefix[0..plen) as the frame's history (zstd's
 * referenced prefix): matches may point into it, so a frame of text that
 * resembles the prefix costs little. Decoding needs the same prefix
 * bytes (decompress_zstd_prefix). plen 0: a plain frame. z: contexts to
 * reuse, or NULL for a context made and freed by this call. */
void compress_zstd_prefix(compress_zctx_t *z, const void *src, size_t len, int level, const void *prefix, size_t plen,
                          buf_t *out);
compress_status_t decompress_zstd_prefix(compress_zctx_t *z, const void *src, size_t len, size_t max_out,
                                         const void *prefix, size_t plen, buf_t *out);
const char *compress_status_str(compress_status_t st);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * compress: thin wrappers over libsnappy's C API and libzstd. See compress.h.
 *
 * Encoders reserve the library's worst-case bound in the output buf and
 * encode in place, so they cannot fail short of OOM (which aborts in buf).
 * Decoders never trust a size they have not checked: the size the input
 * declares (snappy's varint preamble, zstd's frame content size) is compared
 * with max_out before any allocation, the whole input is validated, and the
 * decoded length must equal the declared one. On any error out is left as
 * it was (its length is restored; capacity may have grown).
 */
#include "common/compress.h"

#include <snappy-c.h>
#include <zstd.h>

void compress_snappy(const void *src, size_t len, buf_t *out)
{
    size_t cap = snappy_max_compressed_length(len);
    buf_reserve(out, cap);
    size_t n = cap;
    snappy_status st = snappy_compress(len ? src : "", len, (char *)out->data + out->len, &n);
    if (st != SNAPPY_OK) {
        /* Only an undersized output fails, and cap is the library's bound. */
        n = 0;
    }
    out->len += n;
    out->data[out->len] = 0;
}

compress_status_t decompress_snappy(const void *src, size_t len, size_t max_out, buf_t *out)
{
    if (len == 0) {
        return COMPRESS_CORRUPT;
    }
    size_t n = 0;
    if (snappy_uncompressed_length(src, len, &n) != SNAPPY_OK) {
        return COMPRESS_CORRUPT;
    }
    if (n > max_out) {
        return COMPRESS_TOO_LARGE;
    }
    if (snappy_validate_compressed_buffer(src, len) != SNAPPY_OK) {
        return COMPRESS_CORRUPT;
    }
    buf_reserve(out, n);
    size_t got = n;
    if (snappy_uncompress(src, len, (char *)out->data + out->len, &got) != SNAPPY_OK || got != n) {
        out->data[out->len] = 0;
        return COMPRESS_CORRUPT;
    }
    out->len += n;
    out->data[out->len] = 0;
    return COMPRESS_OK;
}

void compress_zctx_fini(compress_zctx_t *z)
{
    ZSTD_freeCCtx(z->cctx);
    ZSTD_freeDCtx(z->dctx);
    z->cctx = NULL;
    z->dctx = NULL;
}

void compress_zstd(const void *src, size_t len, int level, buf_t *out)
{
    compress_zstd_prefix(NULL, src, len, level, NULL, 0, out);
}

void compress_zstd_prefix(compress_zctx_t *z, const void *src, size_t len, int level, const void *prefix, size_t plen,
                          buf_t *out)
{
    if (level < 1) {
        level = 1;
    } else if (level > 19) {
        level = 19;
    }
    compress_zctx_t own = { 0 };
    if (!z) {
        z = &own;
    }
    if (!z->cctx) {
        z->cctx = ZSTD_createCCtx();
    }
    ZSTD_CCtx *cx = z->cctx;
    size_t cap = ZSTD_compressBound(len);
    buf_reserve(out, cap);
    size_t n = 0;
    /* The level is sticky, the prefix serves one frame; compress2 starts
     * a new frame whatever the context held. */
    if (cx && !ZSTD_isError(ZSTD_CCtx_setParameter(cx, ZSTD_c_compressionLevel, level)) &&
        (plen == 0 || !ZSTD_isError(ZSTD_CCtx_refPrefix(cx, prefix, plen)))) {
        n = ZSTD_compress2(cx, out->data + out->len, cap, len ? src : "", len);
    }
    if (!cx || ZSTD_isError(n)) {
        /* Unreachable with cap = ZSTD_compressBound (OOM inside zstd aside). */
        n = 0;
    }
    compress_zctx_fini(&own);
    out->len += n;
    out->data[out->len] = 0;
}

compress_status_t decompress_zstd(const void *src, size_t len, size_t max_out, buf_t *out)
{
    return decompress_zstd_prefix(NULL, src, len, max_out, NULL, 0, out);
}

compress_status_t decompress_zstd_prefix(compress_zctx_t *z, const void *src, size_t len, size_t max_out,
                                         const void *prefix, size_t plen, buf_t *out)
{
    if (len == 0) {
        return COMPRESS_CORRUPT;
    }
    unsigned long long declared = ZSTD_getFrameContentSize(src, len);
    if (declared == ZSTD_CONTENTSIZE_UNKNOWN || declared == ZSTD_CONTENTSIZE_ERROR) {
        return COMPRESS_CORRUPT;
    }
    if (declared > max_out) {
        return COMPRESS_TOO_LARGE;
    }
    size_t frame = ZSTD_findFrameCompressedSize(src, len);
    if (ZSTD_isError(frame) || frame != len) {
        return COMPRESS_CORRUPT; /* truncated, or trailing bytes/frames */
    }
    size_t n = (size_t)declared;
    buf_reserve(out, n);
    compress_zctx_t own = { 0 };
    if (!z) {
        z = &own;
    }
    if (!z->dctx) {
        z->dctx = ZSTD_createDCtx();
    }
    ZSTD_DCtx *dx = z->dctx;
    /* A reset first: a prefix left by a frame that failed must not serve this one. */
    size_t got = dx ? ZSTD_DCtx_reset(dx, ZSTD_reset_session_and_parameters) : (size_t)-1;
    if (!ZSTD_isError(got) && plen > 0) {
        got = ZSTD_DCtx_refPrefix(dx, prefix, plen);
    }
    if (!ZSTD_isError(got)) {
        got = ZSTD_decompressDCtx(dx, out->data + out->len, n, src, len);
    }
    compress_zctx_fini(&own);
    if (ZSTD_isError(got) || got != n) {
        out->data[out->len] = 0;
        return COMPRESS_CORRUPT;
    }
    out->len += n;
    out->data[out->len] = 0;
    return COMPRESS_OK;
}

const char *compress_status_str(compress_status_t st)
{
    switch (st) {
    case COMPRESS_OK:
        return "ok";
    case COMPRESS_CORRUPT:
        return "corrupt input";
    case COMPRESS_TOO_LARGE:
        return "decoded size exceeds limit";
    }
    return "unknown status";
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logs_push: entry point of Loki push decoding, and Loki's validation.
 *
 * body --gzip/deflate (optional)--> --snappy (protobuf)--> arena copy -->
 * logs_push_pb / logs_push_json --> logs_push_add_stream --> result.
 *
 * Validation follows Loki's distributor (pkg/distributor/validator.go and
 * pkg/validation/validate.go), in its order: per stream, labels that do
 * not parse, no labels, too many labels, then per label a name or value
 * too long and a duplicate name (after sorting); per entry, too old, too
 * new, line too long. A rejected stream counts all its entries as rejected.
 * Messages use Loki's text; the stream is named by its canonical labels
 * ({a="b", c="d"}) and times print as Go's RFC 3339 in UTC. Only the first
 * reason is formatted (the rest are counted), so rejection is cheap.
 *
 * Labels with an empty value are dropped before validation (Prometheus and
 * LogQL treat a="" as absent), so {a=""} has no labels at all.
 */
#define _POSIX_C_SOURCE 200809L
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "common/buf.h"
#include "common/compress.h"
#include "logs/logs_int.h"

#define LOGS_PUSH_DEFAULT_MAX (64u << 20)
#define LOGS_PUSH_STREAM_MSG 160 /* bytes of a stream's labels quoted in a reason */

/* Copy msg into dst (dstlen > 0) as valid UTF-8: invalid bytes and ASCII
 * controls become '?', and a multi-byte character is never cut. */
static void logs_push_copy_utf8(char *dst, size_t dstlen, const char *msg, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)msg[i];
        size_t k = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        bool ok = k <= len - i && str_utf8_valid(msg + i, k) && c >= 0x20 && c != 0x7f;
        if (!ok) {
            k = 1;
        }
        if (o + k >= dstlen) {
            break;
        }
        if (ok) {
            memcpy(dst + o, msg + i, k);
        } else {
            dst[o] = '?';
        }
        o += k;
        i += k;
    }
    dst[o] = '\0';
}

/* The stream's name in reasons: canonical labels, or the raw string. */
static void logs_push_stream_name(str_t raw, const label_t *ls, size_t n, char *dst, size_t dstlen)
{
    buf_t b = { 0 };
    if (ls) {
        labels_format(ls, n, &b);
    } else {
        buf_append(&b, raw.p, raw.len);
    }
    logs_push_copy_utf8(dst, dstlen, b.len ? (const char *)b.data : "", b.len);
    buf_fini(&b);
}

static void logs_push_reject(logs_push_t *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void logs_push_reject(logs_push_t *out, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;
    logs_push_copy_utf8(out->first_error, sizeof(out->first_error), msg, len);
}

/* Go's time.Format(time.RFC3339) of ns, in UTC. dst has room for 48. */
static void logs_push_fmt_time(int64_t ns, char *dst, size_t dstlen)
{
    int64_t s = ns / 1000000000;
    if (ns % 1000000000 < 0) {
        s--;
    }
    time_t t = (time_t)s;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
        snprintf(dst, dstlen, "%lld ns", (long long)ns);
        return;
    }
    strftime(dst, dstlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void logs_push_begin(logs_push_ctx_t *ctx, size_t nstreams)
{
    ctx->out->streams = arena_calloc(ctx->arena, nstreams ? nstreams : 1, sizeof(logs_stream_t));
    ctx->cap = nstreams;
}

/* Loki's ValidateLabels. Returns true when the (normalized) set passes;
 * otherwise records the first reason. */
static bool logs_push_check_labels(logs_push_ctx_t *ctx, const label_t *ls, size_t n)
{
    const logs_push_limits_t *lim = ctx->lim;
    char sn[LOGS_PUSH_STREAM_MSG];
    bool first = ctx->out->first_error[0] == '\0';
    if (n == 0) {
        if (first) {
            logs_push_reject(ctx->out, "error at least one label pair is required per stream");
        }
        return false;
    }
    if (lim->max_labels && n > lim->max_labels) {
        if (first) {
            logs_push_stream_name(STR_LIT(""), ls, n, sn, sizeof(sn));
            logs_push_reject(ctx->out, "stream '%s' has %zu label names; limit %zu", sn, n, lim->max_labels);
        }
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const char *why = NULL;
        str_t what = ls[i].name;
        if (!labels_valid_label_name(ls[i].name)) {
            why = "stream '%s' has invalid label name: '%.*s'";
        } else if (lim->max_label_name_len && ls[i].name.len > lim->max_label_name_len) {
            why = "stream '%s' has label name too long: '%.*s'";
        } else if (lim->max_label_value_len && ls[i].value.len > lim->max_label_value_len) {
            why = "stream '%s' has label value too long: '%.*s'";
            what = ls[i].value;
        } else if (i > 0 && str_eq(ls[i - 1].name, ls[i].name)) {
            why = "stream '%s' has duplicate label name: '%.*s'";
        } else if (!str_utf8_valid(ls[i].value.p, ls[i].value.len)) {
            why = "stream '%s' has invalid UTF-8 in the value of label '%.*s'";
        }
        if (why) {
            if (first) {
                logs_push_stream_name(STR_LIT(""), ls, n, sn, sizeof(sn));
                int wl = what.len > 128 ? 128 : (int)what.len;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
                logs_push_reject(ctx->out, why, sn, wl, what.p);
#pragma GCC diagnostic pop
            }
            return false;
        }
    }
    return true;
}

/* Loki's ValidateEntry. Returns true to keep e; otherwise records why. */
static bool logs_push_check_entry(logs_push_ctx_t *ctx, const label_t *ls, size_t n, const logs_entry_t *e, bool ts_bad)
{
    const logs_push_limits_t *lim = ctx->lim;
    char sn[LOGS_PUSH_STREAM_MSG], t1[48], t2[48];
    bool first = ctx->out->first_error[0] == '\0';
    int64_t old = INT64_MIN, young = INT64_MAX;
    if (lim->reject_older_than_ns > 0 && __builtin_sub_overflow(ctx->now_ns, lim->reject_older_than_ns, &old)) {
        old = INT64_MIN;
    }
    if (lim->reject_newer_than_ns > 0 && __builtin_add_overflow(ctx->now_ns, lim->reject_newer_than_ns, &young)) {
        young = INT64_MAX;
    }
    bool bad =
        ts_bad || e->ts_ns < old || e->ts_ns > young || (lim->max_line_bytes && e->line.len > lim->max_line_bytes);
    if (!bad) {
        return true;
    }
    if (!first) {
        return false;
    }
    logs_push_stream_name(STR_LIT(""), ls, n, sn, sizeof(sn));
    logs_push_fmt_time(e->ts_ns, t1, sizeof(t1));
    if (ts_bad) {
        logs_push_reject(ctx->out, "entry for stream '%s' has a timestamp out of range", sn);
    } else if (e->ts_ns < old) {
        logs_push_fmt_time(old, t2, sizeof(t2));
        logs_push_reject(ctx->out,
                         "entry for stream '%s' has timestamp too old: %s, oldest acceptable timestamp is: %s", sn, t1,
                         t2);
    } else if (e->ts_ns > young) {
        logs_push_reject(ctx->out, "entry for stream '%s' has timestamp too new: %s", sn, t1);
    } else {
        logs_push_reject(ctx->out,
                         "Max entry size '%zu' bytes exceeded for stream '%s' while adding an entry with length '%zu' "
                         "bytes",
                         lim->max_line_bytes, sn, e->line.len);
    }
    return false;
}

void logs_push_add_stream(logs_push_ctx_t *ctx, str_t raw, const char *parse_err, label_t *ls, size_t n,
                          logs_entry_t *entries, size_t nentries, const bool *ts_bad)
{
    logs_push_t *out = ctx->out;
    if (parse_err) {
        if (out->first_error[0] == '\0') {
            char sn[LOGS_PUSH_STREAM_MSG];
            logs_push_stream_name(raw, NULL, 0, sn, sizeof(sn));
            logs_push_reject(out, "Error parsing labels '%s' with error: %s", sn, parse_err);
        }
        out->nrejected_streams++;
        out->nrejected_entries += nentries;
        return;
    }
    n = labels_normalize(ls, n);
    if (!logs_push_check_labels(ctx, ls, n)) {
        out->nrejected_streams++;
        out->nrejected_entries += nentries;
        return;
    }
    size_t kept = 0;
    for (size_t i = 0; i < nentries; i++) {
        if (logs_push_check_entry(ctx, ls, n, &entries[i], ts_bad && ts_bad[i])) {
            entries[kept++] = entries[i];
        } else {
            out->nrejected_entries++;
        }
    }
    assert(out->nstreams < ctx->cap);
    if (kept == 0 || out->nstreams >= ctx->cap) {
        return;
    }
    out->streams[out->nstreams++] = (logs_stream_t){ ls, n, entries, kept };
    out->nentries += kept;
}

/* Inflate gzip (windowBits 15+16) or raw deflate (-15) into out. */
static logs_push_status_t logs_push_inflate(const uint8_t *p, size_t len, logs_push_encoding_t enc, size_t max,
                                            buf_t *out, char *err, size_t errlen)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, enc == LOGS_PUSH_GZIP ? 15 + 16 : -15) != Z_OK) {
        snprintf(err, errlen, "%s: cannot initialise zlib", enc == LOGS_PUSH_GZIP ? "gzip" : "deflate");
        return LOGS_PUSH_MALFORMED;
    }
    logs_push_status_t st = LOGS_PUSH_MALFORMED;
    zs.next_in = (Bytef *)(uintptr_t)p;
    zs.avail_in = (uInt)(len > UINT32_MAX ? UINT32_MAX : len);
    for (;;) {
        if (out->len >= max) {
            st = LOGS_PUSH_TOO_LARGE;
            snprintf(err, errlen, "decoded body exceeds the limit of %zu bytes", max);
            break;
        }
        size_t room = max - out->len < (64u << 10) ? max - out->len : (64u << 10);
        buf_reserve(out, room);
        zs.next_out = out->data + out->len;
        zs.avail_out = (uInt)room;
        int rc = inflate(&zs, Z_NO_FLUSH);
        out->len += room - zs.avail_out;
        if (rc == Z_STREAM_END) {
            st = LOGS_PUSH_OK;
            break;
        }
        if (rc != Z_OK && !(rc == Z_BUF_ERROR && zs.avail_out == 0)) {
            snprintf(err, errlen, "%s: %s", enc == LOGS_PUSH_GZIP ? "gzip" : "deflate",
                     rc == Z_BUF_ERROR ? "unexpected end of input"
                     : zs.msg          ? zs.msg
                                       : "corrupt input");
            break;
        }
    }
    inflateEnd(&zs);
    return st;
}

/* Undo Content-Encoding and snappy: [out] *body = the arena copy of the
 * decoded request. */
static logs_push_status_t logs_push_unwrap(logs_push_format_t fmt, logs_push_encoding_t enc, const uint8_t *p,
                                           size_t len, size_t max, arena_t *arena, const uint8_t **body, size_t *blen,
                                           char *err, size_t errlen)
{
    buf_t z = { 0 }, s = { 0 };
    logs_push_status_t st = LOGS_PUSH_OK;
    if (enc != LOGS_PUSH_IDENTITY) {
        st = logs_push_inflate(p, len, enc, max, &z, err, errlen);
        if (st != LOGS_PUSH_OK) {
            goto fail;
        }
        p = z.data;
        len = z.len;
    }
    if (fmt == LOGS_PUSH_PROTOBUF) {
        compress_status_t cs = decompress_snappy(p, len, max, &s);
        if (cs == COMPRESS_TOO_LARGE) {
            snprintf(err, errlen, "decoded body exceeds the limit of %zu bytes", max);
            st = LOGS_PUSH_TOO_LARGE;
            goto fail;
        }
        if (cs != COMPRESS_OK) {
            snprintf(err, errlen, "snappy: corrupt input (the body must be snappy block-compressed)");
            st = LOGS_PUSH_MALFORMED;
            goto fail;
        }
        p = s.data;
        len = s.len;
    } else if (len > max) {
        snprintf(err, errlen, "decoded body exceeds the limit of %zu bytes", max);
        st = LOGS_PUSH_TOO_LARGE;
        goto fail;
    }
    uint8_t *copy = arena_alloc(arena, len ? len : 1);
    if (len) {
        memcpy(copy, p, len);
    }
    *body = copy;
    *blen = len;
fail:
    buf_fini(&z);
    buf_fini(&s);
    return st;
}

logs_push_status_t logs_push_decode(logs_push_format_t fmt, logs_push_encoding_t enc, const uint8_t *body, size_t len,
                                    const logs_push_limits_t *lim, int64_t now_ns, arena_t *arena, logs_push_t *out,
                                    char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (errlen) {
        err[0] = '\0';
    }
    size_t max = lim->max_decoded_bytes ? lim->max_decoded_bytes : LOGS_PUSH_DEFAULT_MAX;
    const uint8_t *p = NULL;
    size_t plen = 0;
    logs_push_status_t st = logs_push_unwrap(fmt, enc, body, len, max, arena, &p, &plen, err, errlen);
    if (st != LOGS_PUSH_OK) {
        return st;
    }
    logs_push_ctx_t ctx = { .lim = lim, .now_ns = now_ns, .arena = arena, .out = out };
    int rc = fmt == LOGS_PUSH_PROTOBUF ? logs_push_pb_decode(&ctx, p, plen, err, errlen)
                                       : logs_push_json_decode(&ctx, p, plen, err, errlen);
    if (rc != 0) {
        memset(out, 0, sizeof(*out));
        return LOGS_PUSH_MALFORMED;
    }
    return LOGS_PUSH_OK;
}

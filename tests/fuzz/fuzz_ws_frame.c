/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_ws_frame: libFuzzer target for common/ws.c, the WebSocket framing
 * httpd runs on every byte a WebSocket client sends.
 *
 * The first input byte picks the role (bit 0: parse as a server, frames
 * masked) and the payload bound (bits 1-3: 0, 1, 125, 126, 65535, 65536,
 * 1 MiB, SIZE_MAX); the rest is a byte stream parsed frame after frame as
 * httpd does: each payload is copied to an exact-size heap block
 * (ASan sees any overread), unmasked, then given to ws_close_parse
 * (close) or ws_msg_add (data, bounded by 4 KiB). Invariants: a frame
 * lies inside the input, its header length and size match ws_frame_header
 * for the same fields, every proper prefix of it is NEED_MORE, and an
 * error names a position inside the input and a close code the server
 * may send. The same bytes' first 24 are also tried as a handshake key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/ws.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const size_t fuzz_bounds[8] = { 0, 1, 125, 126, 65535, 65536, 1 << 20, SIZE_MAX };

static void fuzz_check_error(const ws_error_t *err, size_t n)
{
    if (err->pos >= n || !err->msg ||
        (err->code != WS_CLOSE_PROTOCOL && err->code != WS_CLOSE_TOO_BIG && err->code != WS_CLOSE_BAD_DATA)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    bool from_client = data[0] & 1;
    size_t bound = fuzz_bounds[(data[0] >> 1) & 7];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    char accept[WS_ACCEPT_LEN + 1];
    if (ws_accept_key((const char *)p, n < 24 ? n : 24, accept) == 0 && strlen(accept) != WS_ACCEPT_LEN) {
        abort();
    }
    ws_msg_t msg = { .max = 4096 };
    size_t pos = 0;
    while (pos < n) {
        ws_frame_t f;
        ws_error_t err;
        int rc = ws_frame_parse(p + pos, n - pos, from_client, bound, &f, &err);
        if (rc == WS_NEED_MORE) {
            break;
        }
        if (rc == WS_ERROR) {
            fuzz_check_error(&err, n - pos);
            break;
        }
        if (rc != WS_OK || f.len > bound || f.hdr_len + f.len > n - pos || f.payload != p + pos + f.hdr_len ||
            f.masked != from_client) {
            abort();
        }
        uint8_t hdr[WS_MAX_HEADER];
        if (ws_frame_header(hdr, f.opcode, f.fin, f.len, f.masked ? f.mask : NULL) != f.hdr_len ||
            memcmp(hdr, p + pos, f.hdr_len) != 0) {
            abort();
        }
        size_t total = f.hdr_len + f.len;
        for (size_t k = total > 16 ? total - 16 : 0; k < total; k++) {
            ws_frame_t g;
            if (ws_frame_parse(p + pos, k, from_client, bound, &g, &err) != WS_NEED_MORE) {
                abort();
            }
        }
        uint8_t *pl = malloc(f.len ? f.len : 1);
        memcpy(pl, f.payload, f.len);
        ws_unmask(pl, f.len, f.mask);
        if (f.opcode == WS_OP_CLOSE) {
            uint16_t code = 0;
            const uint8_t *reason = NULL;
            size_t rlen = 0;
            if (ws_close_parse(pl, f.len, &code, &reason, &rlen, &err) == WS_OK) {
                if (rlen > f.len || (rlen && (reason < pl || reason + rlen > pl + f.len))) {
                    abort();
                }
            } else {
                fuzz_check_error(&err, f.len);
            }
        } else if (f.opcode < WS_OP_CLOSE) {
            rc = ws_msg_add(&msg, &f, pl, &err);
            if (rc == 1) {
                if (msg.data.len > msg.max || msg.opcode == 0) {
                    abort();
                }
                ws_msg_reset(&msg);
            } else if (rc == WS_ERROR) {
                if (msg.opcode != 0) {
                    abort();
                }
            } else if (rc != 0 || msg.data.len > msg.max) {
                abort();
            }
        }
        free(pl);
        pos += total;
    }
    ws_msg_fini(&msg);
    return 0;
}

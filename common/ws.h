/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ws: WebSocket (RFC 6455) framing, pure: no I/O, no threads. httpd.c
 * does the connection and uses these; tests and the fuzzer call them
 * directly.
 *
 * A frame on the wire (5.2; all lengths big-endian):
 *
 *   byte 0      FIN (0x80), RSV1-3 (0x70, must be 0: no extension is
 *               negotiated), opcode (0x0F)
 *   byte 1      MASK (0x80), payload length 0..125, or 126 / 127
 *   +2 or +8    extended length when 126 (16 bits, >= 126) or 127
 *               (64 bits, top bit 0, >= 65536): the shortest form only
 *   +4          masking key, present iff MASK (client frames always,
 *               server frames never)
 *   payload     XORed with key[i % 4] when masked
 *
 * Control frames (close 0x8, ping 0x9, pong 0xA) have FIN set and at most
 * 125 bytes; a close payload is empty or a 2-byte status code plus a
 * UTF-8 reason. Data messages (text 0x1, binary 0x2) may be split into a
 * first frame and continuations (0x0), the last with FIN; control frames
 * may come between them. ws_msg_* reassembles, bounded by a size limit.
 */
#ifndef PHAROS_COMMON_WS_H
#define PHAROS_COMMON_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define WS_OK 0
#define WS_ERROR (-1)
#define WS_NEED_MORE (-2)

#define WS_MAX_HEADER 14 /* 2 + 8 (length) + 4 (mask) */
#define WS_MAX_CONTROL_PAYLOAD 125
#define WS_ACCEPT_LEN 28 /* base64 of a SHA-1 digest */

enum {
    WS_OP_CONT = 0x0,
    WS_OP_TEXT = 0x1,
    WS_OP_BINARY = 0x2,
    WS_OP_CLOSE = 0x8,
    WS_OP_PING = 0x9,
    WS_OP_PONG = 0xA,
};

/* Close status codes (7.4.1) used here. */
enum {
    WS_CLOSE_NORMAL = 1000,
    WS_CLOSE_GOING_AWAY = 1001,
    WS_CLOSE_PROTOCOL = 1002,
    WS_CLOSE_NO_STATUS = 1005, /* never sent: an empty close payload */
    WS_CLOSE_BAD_DATA = 1007,
    WS_CLOSE_TOO_BIG = 1009,
    WS_CLOSE_INTERNAL = 1011,
};

typedef struct ws_frame {
    bool fin;
    uint8_t opcode;
    bool masked;
    uint8_t mask[4];
    size_t hdr_len;         /* bytes before the payload */
    size_t len;             /* payload bytes */
    const uint8_t *payload; /* into the parsed input, still masked */
} ws_frame_t;

typedef struct ws_error {
    size_t pos;      /* offset of the offending byte in the input */
    uint16_t code;   /* the close code to answer with (1002, 1007, 1009) */
    const char *msg; /* static text, usable as the close reason */
} ws_error_t;

/* Parse the frame at the start of p[0..n). from_client: the frame must be
 * masked (a server reading), else it must not be (a client reading).
 * Returns WS_OK with [out] *f (f->hdr_len + f->len bytes consumed; the
 * payload borrows p); WS_NEED_MORE when p is a valid but incomplete
 * prefix; WS_ERROR with [out] *err as soon as the bytes present break a
 * rule of the header above or the payload exceeds max_payload (1009).
 * O(1): the payload is not read. */
int ws_frame_parse(const uint8_t *p, size_t n, bool from_client, size_t max_payload, ws_frame_t *f, ws_error_t *err);

/* XOR p[0..n) in place with mask, starting at key byte 0. */
void ws_unmask(uint8_t *p, size_t n, const uint8_t mask[4]);

/* Write the header of a frame with FIN set (fin: else clear) into out;
 * mask NULL: unmasked (server frames), else the key is written and the
 * caller masks the payload with ws_unmask. Returns the header's length. */
size_t ws_frame_header(uint8_t out[WS_MAX_HEADER], uint8_t opcode, bool fin, uint64_t len, const uint8_t *mask);

/* The (unmasked) payload of a close frame: [out] *code (1005 when empty),
 * *reason and *rlen (borrowing p). WS_OK, or WS_ERROR with *err for a 1-byte
 * payload, a code that must not be sent (< 1000, 1004-1006, 1015,
 * 1016-2999, >= 5000), or a reason that is not UTF-8. */
int ws_close_parse(const uint8_t *p, size_t n, uint16_t *code, const uint8_t **reason, size_t *rlen, ws_error_t *err);

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key (4.2.2): base64 of the
 * SHA-1 of the key and the RFC's GUID, NUL-terminated into out. The key,
 * surrounding spaces and tabs trimmed, must be 24 base64 characters
 * ending in "==" (16 bytes): 0, or -1 when it is not (out untouched). */
int ws_accept_key(const char *key, size_t len, char out[WS_ACCEPT_LEN + 1]);

/* A data message being reassembled from frames, at most max bytes. A
 * zeroed struct with max set is ready; ws_msg_fini frees it. */
typedef struct ws_msg {
    buf_t data;     /* the message so far, unmasked */
    uint8_t opcode; /* WS_OP_TEXT or WS_OP_BINARY inside a message, 0 between messages */
    size_t max;
} ws_msg_t;

/* Add the data frame f (opcode text, binary or continuation) whose
 * unmasked payload is payload[0..f->len). Returns 1 when it completed the
 * message (m->data and m->opcode hold it until ws_msg_reset), 0 when more
 * frames are needed, WS_ERROR with *err when the sequence is wrong (a
 * continuation outside a message or a new message inside one: 1002), the
 * message passes m->max (1009), or a complete text message is not UTF-8
 * (1007). After an error, m is reset. O(f->len). */
int ws_msg_add(ws_msg_t *m, const ws_frame_t *f, const uint8_t *payload, ws_error_t *err);
/* Forget the current message (keeps the buffer's capacity). */
void ws_msg_reset(ws_msg_t *m);
void ws_msg_fini(ws_msg_t *m);

#endif

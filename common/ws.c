/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ws: WebSocket framing (RFC 6455). See ws.h for the frame layout.
 *
 * ws_frame_parse checks the header byte by byte in wire order and stops
 * at the first byte that breaks a rule, so a hostile peer is refused as
 * soon as its header says so: a 2^63-byte length is an error after 3
 * bytes, not a wait. It never reads the payload, so its cost does not
 * depend on the frame's size; the caller unmasks in place.
 *
 * The handshake's SHA-1 and base64 come from OpenSSL's libcrypto
 * (EVP_Digest, EVP_EncodeBlock); UTF-8 checks are str_utf8_valid's
 * (no overlongs, surrogates, or code points past U+10FFFF).
 */
#include "common/ws.h"

#include <assert.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/str.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_KEY_LEN 24

static int ws_fail(ws_error_t *err, size_t pos, uint16_t code, const char *msg)
{
    err->pos = pos;
    err->code = code;
    err->msg = msg;
    return WS_ERROR;
}

static bool ws_opcode_known(uint8_t op)
{
    return op <= WS_OP_BINARY || (op >= WS_OP_CLOSE && op <= WS_OP_PONG);
}

/* The 16- or 64-bit length after byte 1 (*len is 126 or 127 on entry):
 * WS_OK with [out] *len and *hdr, WS_NEED_MORE, or WS_ERROR. */
static int ws_frame_ext_len(const uint8_t *p, size_t n, uint64_t *len, size_t *hdr, ws_error_t *err)
{
    if (*len == 126) {
        if (n < 4) {
            return WS_NEED_MORE;
        }
        *len = (uint64_t)p[2] << 8 | p[3];
        if (*len < 126) {
            return ws_fail(err, 2, WS_CLOSE_PROTOCOL, "length not in its shortest form");
        }
        *hdr = 4;
        return WS_OK;
    }
    if (n < 3) {
        return WS_NEED_MORE;
    }
    if (p[2] & 0x80) {
        return ws_fail(err, 2, WS_CLOSE_PROTOCOL, "64-bit length with its top bit set");
    }
    if (n < 10) {
        return WS_NEED_MORE;
    }
    *len = 0;
    for (size_t i = 2; i < 10; i++) {
        *len = *len << 8 | p[i];
    }
    if (*len < 65536) {
        return ws_fail(err, 2, WS_CLOSE_PROTOCOL, "length not in its shortest form");
    }
    *hdr = 10;
    return WS_OK;
}

int ws_frame_parse(const uint8_t *p, size_t n, bool from_client, size_t max_payload, ws_frame_t *f, ws_error_t *err)
{
    assert(p || n == 0);
    assert(f && err);
    if (n < 1) {
        return WS_NEED_MORE;
    }
    uint8_t b0 = p[0];
    uint8_t op = b0 & 0x0F;
    bool control = (op & 0x08) != 0;
    if (b0 & 0x70) {
        return ws_fail(err, 0, WS_CLOSE_PROTOCOL, "reserved bits set");
    }
    if (!ws_opcode_known(op)) {
        return ws_fail(err, 0, WS_CLOSE_PROTOCOL, "unknown opcode");
    }
    if (control && !(b0 & 0x80)) {
        return ws_fail(err, 0, WS_CLOSE_PROTOCOL, "fragmented control frame");
    }
    if (n < 2) {
        return WS_NEED_MORE;
    }
    uint8_t b1 = p[1];
    bool masked = (b1 & 0x80) != 0;
    if (masked != from_client) {
        return ws_fail(err, 1, WS_CLOSE_PROTOCOL, from_client ? "client frame not masked" : "server frame masked");
    }
    uint64_t len = b1 & 0x7F;
    size_t hdr = 2;
    if (control && len > WS_MAX_CONTROL_PAYLOAD) {
        return ws_fail(err, 1, WS_CLOSE_PROTOCOL, "control frame over 125 bytes");
    }
    if (len >= 126) {
        int rc = ws_frame_ext_len(p, n, &len, &hdr, err);
        if (rc != WS_OK) {
            return rc;
        }
    }
    if (len > max_payload) {
        return ws_fail(err, 1, WS_CLOSE_TOO_BIG, "frame too big");
    }
    if (masked) {
        if (n < hdr + 4) {
            return WS_NEED_MORE;
        }
        memcpy(f->mask, p + hdr, 4);
        hdr += 4;
    } else {
        memset(f->mask, 0, 4);
    }
    if (n - hdr < len) {
        return WS_NEED_MORE;
    }
    f->fin = (b0 & 0x80) != 0;
    f->opcode = op;
    f->masked = masked;
    f->hdr_len = hdr;
    f->len = (size_t)len;
    f->payload = p + hdr;
    return WS_OK;
}

void ws_unmask(uint8_t *p, size_t n, const uint8_t mask[4])
{
    for (size_t i = 0; i < n; i++) {
        p[i] ^= mask[i & 3];
    }
}

size_t ws_frame_header(uint8_t out[WS_MAX_HEADER], uint8_t opcode, bool fin, uint64_t len, const uint8_t *mask)
{
    assert((opcode & 0xF0) == 0);
    assert(len >> 63 == 0);
    size_t h = 0;
    out[h++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
    uint8_t m = mask ? 0x80 : 0;
    if (len < 126) {
        out[h++] = (uint8_t)(m | len);
    } else if (len < 65536) {
        out[h++] = m | 126;
        out[h++] = (uint8_t)(len >> 8);
        out[h++] = (uint8_t)len;
    } else {
        out[h++] = m | 127;
        for (int s = 56; s >= 0; s -= 8) {
            out[h++] = (uint8_t)(len >> s);
        }
    }
    if (mask) {
        memcpy(out + h, mask, 4);
        h += 4;
    }
    return h;
}

static bool ws_close_code_ok(uint16_t c)
{
    return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
}

int ws_close_parse(const uint8_t *p, size_t n, uint16_t *code, const uint8_t **reason, size_t *rlen, ws_error_t *err)
{
    assert(p || n == 0);
    *code = WS_CLOSE_NO_STATUS;
    *reason = p;
    *rlen = 0;
    if (n == 0) {
        return WS_OK;
    }
    if (n == 1) {
        return ws_fail(err, 0, WS_CLOSE_PROTOCOL, "close payload of one byte");
    }
    uint16_t c = (uint16_t)(p[0] << 8 | p[1]);
    if (!ws_close_code_ok(c)) {
        return ws_fail(err, 0, WS_CLOSE_PROTOCOL, "invalid close code");
    }
    if (!str_utf8_valid((const char *)p + 2, n - 2)) {
        return ws_fail(err, 2, WS_CLOSE_BAD_DATA, "close reason is not UTF-8");
    }
    *code = c;
    *reason = p + 2;
    *rlen = n - 2;
    return WS_OK;
}

static bool ws_b64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int ws_accept_key(const char *key, size_t len, char out[WS_ACCEPT_LEN + 1])
{
    assert(key || len == 0);
    while (len > 0 && (key[0] == ' ' || key[0] == '\t')) {
        key++;
        len--;
    }
    while (len > 0 && (key[len - 1] == ' ' || key[len - 1] == '\t')) {
        len--;
    }
    if (len != WS_KEY_LEN || key[22] != '=' || key[23] != '=') {
        return -1;
    }
    for (size_t i = 0; i < 22; i++) {
        if (!ws_b64_char(key[i])) {
            return -1;
        }
    }
    uint8_t in[WS_KEY_LEN + sizeof(WS_GUID) - 1];
    memcpy(in, key, WS_KEY_LEN);
    memcpy(in + WS_KEY_LEN, WS_GUID, sizeof(WS_GUID) - 1);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(in, sizeof(in), md, &mdlen, EVP_sha1(), NULL) != 1 || mdlen != 20) {
        return -1;
    }
    unsigned char b64[WS_ACCEPT_LEN + 1];
    if (EVP_EncodeBlock(b64, md, (int)mdlen) != WS_ACCEPT_LEN) {
        return -1;
    }
    memcpy(out, b64, WS_ACCEPT_LEN + 1);
    return 0;
}

void ws_msg_reset(ws_msg_t *m)
{
    buf_reset(&m->data);
    m->opcode = 0;
}

void ws_msg_fini(ws_msg_t *m)
{
    buf_fini(&m->data);
    m->opcode = 0;
}

int ws_msg_add(ws_msg_t *m, const ws_frame_t *f, const uint8_t *payload, ws_error_t *err)
{
    assert(f->opcode == WS_OP_CONT || f->opcode == WS_OP_TEXT || f->opcode == WS_OP_BINARY);
    assert(payload || f->len == 0);
    if (f->opcode == WS_OP_CONT && m->opcode == 0) {
        return ws_fail(err, 0, WS_CLOSE_PROTOCOL, "continuation frame outside a message");
    }
    if (f->opcode != WS_OP_CONT && m->opcode != 0) {
        ws_msg_reset(m);
        return ws_fail(err, 0, WS_CLOSE_PROTOCOL, "new message inside a fragmented one");
    }
    if (f->opcode != WS_OP_CONT) {
        buf_reset(&m->data);
        m->opcode = f->opcode;
    }
    if (f->len > m->max - m->data.len) {
        ws_msg_reset(m);
        return ws_fail(err, 0, WS_CLOSE_TOO_BIG, "message too big");
    }
    if (f->len > 0) {
        buf_append(&m->data, payload, f->len);
    }
    if (!f->fin) {
        return 0;
    }
    if (m->opcode == WS_OP_TEXT && !str_utf8_valid((const char *)m->data.data, m->data.len)) {
        ws_msg_reset(m);
        return ws_fail(err, 0, WS_CLOSE_BAD_DATA, "text message is not UTF-8");
    }
    return 1;
}

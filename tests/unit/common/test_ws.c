/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for common/ws.c, the pure WebSocket framing: valid frames (RFC
 * 6455's own examples among them) parsed whole, with trailing bytes, and
 * as every prefix (NEED_MORE each time); hostile headers (reserved bits,
 * unknown opcodes, NUL and DEL bytes, unmasked client frames, long or
 * fragmented control frames, non-shortest lengths, the 64-bit top bit,
 * sizes over the limit) refused at exactly the byte that decides, with
 * position and close code; header encoding round trips; close payloads
 * (codes, UTF-8 reasons); the handshake's accept key; message reassembly
 * (UTF-8 across fragments); and a stream of frames fed at once and byte
 * by byte giving the same events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/ws.h"

#define MAXB 32

typedef struct frame_case {
    const char *name;
    bool from_client;
    size_t n;
    uint8_t bytes[MAXB];
    uint8_t opcode;
    bool fin;
    const char *payload; /* unmasked; NULL when not text */
    size_t len;
} frame_case_t;

static const frame_case_t frame_cases[] = {
    /* RFC 6455 5.7 */
    { "single unmasked text", false, 7, { 0x81, 0x05, 'H', 'e', 'l', 'l', 'o' }, WS_OP_TEXT, true, "Hello", 5 },
    { "single masked text",
      true,
      11,
      { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 },
      WS_OP_TEXT,
      true,
      "Hello",
      5 },
    { "first fragment", false, 5, { 0x01, 0x03, 'H', 'e', 'l' }, WS_OP_TEXT, false, "Hel", 3 },
    { "last fragment", false, 4, { 0x80, 0x02, 'l', 'o' }, WS_OP_CONT, true, "lo", 2 },
    { "unmasked ping", false, 7, { 0x89, 0x05, 'H', 'e', 'l', 'l', 'o' }, WS_OP_PING, true, "Hello", 5 },
    { "masked pong",
      true,
      11,
      { 0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 },
      WS_OP_PONG,
      true,
      "Hello",
      5 },
    { "empty masked text", true, 6, { 0x81, 0x80, 1, 2, 3, 4 }, WS_OP_TEXT, true, "", 0 },
    { "empty close", true, 6, { 0x88, 0x80, 9, 9, 9, 9 }, WS_OP_CLOSE, true, "", 0 },
    { "NUL header: empty unfinished continuation", true, 6, { 0x00, 0x80, 0, 0, 0, 0 }, WS_OP_CONT, false, "", 0 },
    { "masked binary, zero key", true, 9, { 0x82, 0x83, 0, 0, 0, 0, 0x00, 0x7f, 0xff }, WS_OP_BINARY, true, NULL, 3 },
    { "125-byte ping header only", false, 2, { 0x89, 0x7d }, WS_OP_PING, true, NULL, 125 },
};

static void check_frame_case(const frame_case_t *c)
{
    /* Payload bytes past bytes[] (the 125-byte ping) are zeros. */
    uint8_t in[256 + MAXB];
    memset(in, 0, sizeof(in));
    memcpy(in, c->bytes, c->n);
    size_t hdr = (c->n > c->len ? c->n - c->len : 2);
    size_t total = hdr + c->len;
    ws_frame_t f;
    ws_error_t err;
    for (size_t k = 0; k < total; k++) {
        int rc = ws_frame_parse(in, k, c->from_client, 1 << 20, &f, &err);
        if (rc != WS_NEED_MORE) {
            fail_msg("%s: prefix of %zu bytes: %d, want NEED_MORE", c->name, k, rc);
        }
    }
    for (size_t extra = 0; extra <= 3; extra++) {
        int rc = ws_frame_parse(in, total + extra, c->from_client, 1 << 20, &f, &err);
        if (rc != WS_OK) {
            fail_msg("%s: %d (%s at %zu)", c->name, rc, err.msg, err.pos);
        }
        assert_int_equal(f.hdr_len + f.len, total);
        assert_int_equal(f.opcode, c->opcode);
        assert_int_equal(f.fin, c->fin);
        assert_int_equal(f.masked, c->from_client);
        assert_int_equal(f.len, c->len);
        assert_ptr_equal(f.payload, in + f.hdr_len);
    }
    if (c->payload) {
        uint8_t pl[64];
        memcpy(pl, f.payload, f.len);
        ws_unmask(pl, f.len, f.mask);
        assert_memory_equal(pl, c->payload, c->len);
    }
}

static void test_frames(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(frame_cases) / sizeof(frame_cases[0]); i++) {
        check_frame_case(&frame_cases[i]);
    }
}

typedef struct bad_case {
    const char *name;
    bool from_client;
    size_t max;
    size_t n;
    uint8_t bytes[MAXB];
    size_t at; /* the error appears once this many bytes are present */
    size_t pos;
    uint16_t code;
} bad_case_t;

static const bad_case_t bad_cases[] = {
    { "RSV1 set", true, 100, 2, { 0xc1, 0x80 }, 1, 0, WS_CLOSE_PROTOCOL },
    { "RSV3 set", true, 100, 2, { 0x91, 0x80 }, 1, 0, WS_CLOSE_PROTOCOL },
    { "DEL byte", true, 100, 2, { 0x7f, 0x80 }, 1, 0, WS_CLOSE_PROTOCOL },
    { "0xFF byte", true, 100, 2, { 0xff, 0xff }, 1, 0, WS_CLOSE_PROTOCOL },
    { "opcode 3", true, 100, 2, { 0x83, 0x80 }, 1, 0, WS_CLOSE_PROTOCOL },
    { "opcode 7", true, 100, 2, { 0x87, 0x80 }, 1, 0, WS_CLOSE_PROTOCOL },
    { "opcode 0xB", true, 100, 2, { 0x8b, 0x80 }, 1, 0, WS_CLOSE_PROTOCOL },
    { "opcode 0xF", true, 100, 2, { 0x8f, 0x80 }, 1, 0, WS_CLOSE_PROTOCOL },
    { "fragmented ping", true, 100, 2, { 0x09, 0x80 }, 1, 0, WS_CLOSE_PROTOCOL },
    { "fragmented close", true, 100, 2, { 0x08, 0x80 }, 1, 0, WS_CLOSE_PROTOCOL },
    { "unmasked client frame", true, 100, 3, { 0x81, 0x01, 'x' }, 2, 1, WS_CLOSE_PROTOCOL },
    { "masked server frame", false, 100, 2, { 0x81, 0x81 }, 2, 1, WS_CLOSE_PROTOCOL },
    { "NUL unmasked client frame", true, 100, 2, { 0x00, 0x00 }, 2, 1, WS_CLOSE_PROTOCOL },
    { "ping of 126 bytes", true, 1000, 4, { 0x89, 0xfe, 0x00, 0x7e }, 2, 1, WS_CLOSE_PROTOCOL },
    { "close of 127-form length", true, 1000, 2, { 0x88, 0xff }, 2, 1, WS_CLOSE_PROTOCOL },
    { "16-bit length 125", true, 1000, 4, { 0x81, 0xfe, 0x00, 0x7d }, 4, 2, WS_CLOSE_PROTOCOL },
    { "16-bit length 0", true, 1000, 4, { 0x81, 0xfe, 0x00, 0x00 }, 4, 2, WS_CLOSE_PROTOCOL },
    { "64-bit top bit", true, SIZE_MAX, 3, { 0x81, 0xff, 0x80 }, 3, 2, WS_CLOSE_PROTOCOL },
    { "64-bit all ones",
      true,
      SIZE_MAX,
      10,
      { 0x82, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
      3,
      2,
      WS_CLOSE_PROTOCOL },
    { "64-bit length 65535",
      true,
      SIZE_MAX,
      10,
      { 0x82, 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff },
      10,
      2,
      WS_CLOSE_PROTOCOL },
    { "64-bit length 5", true, SIZE_MAX, 10, { 0x82, 0xff, 0, 0, 0, 0, 0, 0, 0, 5 }, 10, 2, WS_CLOSE_PROTOCOL },
    { "7-bit length over limit", true, 10, 2, { 0x81, 0x8b }, 2, 1, WS_CLOSE_TOO_BIG },
    { "16-bit length over limit", true, 1000, 4, { 0x82, 0xfe, 0x03, 0xe9 }, 4, 1, WS_CLOSE_TOO_BIG },
    { "64-bit 2^62 over limit", true, 1 << 20, 10, { 0x82, 0xff, 0x40, 0, 0, 0, 0, 0, 0, 0 }, 10, 1, WS_CLOSE_TOO_BIG },
    { "limit 0, one byte", true, 0, 2, { 0x82, 0x81 }, 2, 1, WS_CLOSE_TOO_BIG },
};

static void test_hostile(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const bad_case_t *c = &bad_cases[i];
        ws_frame_t f;
        for (size_t k = 0; k <= c->n; k++) {
            ws_error_t err = { 0 };
            int rc = ws_frame_parse(c->bytes, k, c->from_client, c->max, &f, &err);
            int want = k < c->at ? WS_NEED_MORE : WS_ERROR;
            if (rc != want) {
                fail_msg("%s: %zu bytes: %d, want %d", c->name, k, rc, want);
            }
            if (rc == WS_ERROR) {
                if (err.pos != c->pos || err.code != c->code || !err.msg || !*err.msg) {
                    fail_msg("%s: error at %zu code %u (%s), want %zu %u", c->name, err.pos, err.code,
                             err.msg ? err.msg : "(null)", c->pos, c->code);
                }
            }
        }
    }
}

static void test_header_round_trip(void **state)
{
    (void)state;
    static const uint64_t lens[] = { 0, 1, 125, 126, 127, 65535, 65536, 1u << 20 };
    static const size_t hlen[] = { 2, 2, 2, 4, 4, 4, 10, 10 };
    static const uint8_t key[4] = { 0xde, 0xad, 0xbe, 0xef };
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        for (int masked = 0; masked < 2; masked++) {
            uint8_t hdr[WS_MAX_HEADER];
            size_t n = ws_frame_header(hdr, WS_OP_BINARY, masked, lens[i], masked ? key : NULL);
            assert_int_equal(n, hlen[i] + (masked ? 4 : 0));
            uint8_t *frame = test_calloc(1, n + (size_t)lens[i]);
            memcpy(frame, hdr, n);
            ws_frame_t f;
            ws_error_t err;
            assert_int_equal(ws_frame_parse(frame, n + (size_t)lens[i], masked, SIZE_MAX, &f, &err), WS_OK);
            assert_int_equal(f.len, lens[i]);
            assert_int_equal(f.hdr_len, n);
            assert_int_equal(f.fin, masked != 0);
            assert_int_equal(f.opcode, WS_OP_BINARY);
            if (masked) {
                assert_memory_equal(f.mask, key, 4);
            }
            test_free(frame);
        }
    }
    /* RFC 6455 5.7: 256 bytes and 64 KiB binary headers. */
    uint8_t hdr[WS_MAX_HEADER];
    static const uint8_t h256[] = { 0x82, 0x7e, 0x01, 0x00 };
    static const uint8_t h64k[] = { 0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0, 0 };
    assert_int_equal(ws_frame_header(hdr, WS_OP_BINARY, true, 256, NULL), 4);
    assert_memory_equal(hdr, h256, 4);
    assert_int_equal(ws_frame_header(hdr, WS_OP_BINARY, true, 65536, NULL), 10);
    assert_memory_equal(hdr, h64k, 10);
}

static void test_unmask(void **state)
{
    (void)state;
    uint8_t p[] = { 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
    static const uint8_t key[4] = { 0x37, 0xfa, 0x21, 0x3d };
    ws_unmask(p, sizeof(p), key);
    assert_memory_equal(p, "Hello", 5);
    ws_unmask(p, sizeof(p), key);
    ws_unmask(p, sizeof(p), key);
    assert_memory_equal(p, "Hello", 5);
    ws_unmask(NULL, 0, key);
}

typedef struct close_case {
    const char *name;
    const char *p;
    size_t n;
    int rc;
    uint16_t code; /* or the error's close code */
    const char *reason;
} close_case_t;

#define C(name, lit, rc, code, reason)                                                                                 \
    {                                                                                                                  \
        name, lit, sizeof(lit) - 1, rc, code, reason                                                                   \
    }

static const close_case_t close_cases[] = {
    C("empty", "", WS_OK, WS_CLOSE_NO_STATUS, ""),
    C("one byte", "\x03", WS_ERROR, WS_CLOSE_PROTOCOL, NULL),
    C("1000", "\x03\xe8", WS_OK, 1000, ""),
    C("1000 bye",
      "\x03\xe8"
      "bye",
      WS_OK, 1000, "bye"),
    C("1001", "\x03\xe9", WS_OK, 1001, ""),
    C("1011", "\x03\xf3", WS_OK, 1011, ""),
    C("3000", "\x0b\xb8", WS_OK, 3000, ""),
    C("4999", "\x13\x87", WS_OK, 4999, ""),
    C("0", "\x00\x00", WS_ERROR, WS_CLOSE_PROTOCOL, NULL),
    C("999", "\x03\xe7", WS_ERROR, WS_CLOSE_PROTOCOL, NULL),
    C("1004", "\x03\xec", WS_ERROR, WS_CLOSE_PROTOCOL, NULL),
    C("1005", "\x03\xed", WS_ERROR, WS_CLOSE_PROTOCOL, NULL),
    C("1006", "\x03\xee", WS_ERROR, WS_CLOSE_PROTOCOL, NULL),
    C("1015", "\x03\xf7", WS_ERROR, WS_CLOSE_PROTOCOL, NULL),
    C("2999", "\x0b\xb7", WS_ERROR, WS_CLOSE_PROTOCOL, NULL),
    C("5000", "\x13\x88", WS_ERROR, WS_CLOSE_PROTOCOL, NULL),
    C("65535", "\xff\xff", WS_ERROR, WS_CLOSE_PROTOCOL, NULL),
    C("reason not UTF-8", "\x03\xe8\xff", WS_ERROR, WS_CLOSE_BAD_DATA, NULL),
    C("reason with NUL",
      "\x03\xe8"
      "a\0b",
      WS_OK, 1000, "a\0b"),
};

static void test_close_payload(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(close_cases) / sizeof(close_cases[0]); i++) {
        const close_case_t *c = &close_cases[i];
        uint16_t code = 0;
        const uint8_t *reason = NULL;
        size_t rlen = 99;
        ws_error_t err = { 0 };
        int rc = ws_close_parse((const uint8_t *)c->p, c->n, &code, &reason, &rlen, &err);
        if (rc != c->rc) {
            fail_msg("close %s: %d, want %d", c->name, rc, c->rc);
        }
        if (rc == WS_OK) {
            assert_int_equal(code, c->code);
            assert_int_equal(rlen, c->n > 2 ? c->n - 2 : 0);
            assert_memory_equal(reason, c->reason, rlen);
        } else {
            assert_int_equal(err.code, c->code);
        }
    }
}

static void test_accept_key(void **state)
{
    (void)state;
    char out[WS_ACCEPT_LEN + 1];
    /* RFC 6455 1.3 and 4.2.2 */
    static const char *const good[] = { "dGhlIHNhbXBsZSBub25jZQ==", " dGhlIHNhbXBsZSBub25jZQ==\t",
                                        "\tdGhlIHNhbXBsZSBub25jZQ==  " };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        memset(out, 0, sizeof(out));
        assert_int_equal(ws_accept_key(good[i], strlen(good[i]), out), 0);
        assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }
    static const char *const bad[] = {
        "",
        "dGhlIHNhbXBsZSBub25jZQ=",   /* 23 */
        "dGhlIHNhbXBsZSBub25jZQ===", /* 25 */
        "dGhlIHNhbXBsZSBub25jZQAA",  /* no padding: 18 bytes */
        "dGhlIHNhbXBsZSBub25j*Q==",  /* not base64 */
        "dGhlIHNhbXBsZSBub25jZ\x00==",
        "dGhlIHNhbXBsZSBu b25jZQ==",
        "                        ",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = i == 5 ? 24 : strlen(bad[i]);
        memset(out, 'x', sizeof(out));
        if (ws_accept_key(bad[i], n, out) != -1) {
            fail_msg("key %zu accepted", i);
        }
        assert_int_equal(out[0], 'x');
    }
    /* Two known pairs computed independently (Python hashlib/base64). */
    assert_int_equal(ws_accept_key("AAAAAAAAAAAAAAAAAAAAAA==", 24, out), 0);
    assert_string_equal(out, "ICX+Yqv66kxgM0FcWaLWlFLwTAI=");
}

static ws_frame_t mkframe(uint8_t op, bool fin, size_t len)
{
    ws_frame_t f = { .fin = fin, .opcode = op, .len = len };
    return f;
}

static void test_msg(void **state)
{
    (void)state;
    ws_msg_t m = { .max = 10 };
    ws_error_t err;
    ws_frame_t f = mkframe(WS_OP_TEXT, false, 3);
    assert_int_equal(ws_msg_add(&m, &f, (const uint8_t *)"abc", &err), 0);
    f = mkframe(WS_OP_CONT, false, 0);
    assert_int_equal(ws_msg_add(&m, &f, NULL, &err), 0);
    f = mkframe(WS_OP_CONT, true, 2);
    assert_int_equal(ws_msg_add(&m, &f, (const uint8_t *)"de", &err), 1);
    assert_int_equal(m.opcode, WS_OP_TEXT);
    assert_int_equal(m.data.len, 5);
    assert_memory_equal(m.data.data, "abcde", 5);
    ws_msg_reset(&m);

    /* continuation with no message */
    f = mkframe(WS_OP_CONT, true, 1);
    assert_int_equal(ws_msg_add(&m, &f, (const uint8_t *)"x", &err), WS_ERROR);
    assert_int_equal(err.code, WS_CLOSE_PROTOCOL);

    /* new message inside a fragmented one */
    f = mkframe(WS_OP_BINARY, false, 1);
    assert_int_equal(ws_msg_add(&m, &f, (const uint8_t *)"x", &err), 0);
    f = mkframe(WS_OP_TEXT, true, 1);
    assert_int_equal(ws_msg_add(&m, &f, (const uint8_t *)"y", &err), WS_ERROR);
    assert_int_equal(err.code, WS_CLOSE_PROTOCOL);
    assert_int_equal(m.opcode, 0);

    /* exactly the limit, then one past it across fragments */
    f = mkframe(WS_OP_BINARY, true, 10);
    assert_int_equal(ws_msg_add(&m, &f, (const uint8_t *)"0123456789", &err), 1);
    ws_msg_reset(&m);
    f = mkframe(WS_OP_BINARY, false, 6);
    assert_int_equal(ws_msg_add(&m, &f, (const uint8_t *)"012345", &err), 0);
    f = mkframe(WS_OP_CONT, true, 5);
    assert_int_equal(ws_msg_add(&m, &f, (const uint8_t *)"67890", &err), WS_ERROR);
    assert_int_equal(err.code, WS_CLOSE_TOO_BIG);
    assert_int_equal(m.opcode, 0);

    /* UTF-8 split across fragments is fine; invalid text is 1007; binary is not checked */
    f = mkframe(WS_OP_TEXT, false, 1);
    assert_int_equal(ws_msg_add(&m, &f, (const uint8_t *)"\xce", &err), 0);
    f = mkframe(WS_OP_CONT, true, 1);
    assert_int_equal(ws_msg_add(&m, &f, (const uint8_t *)"\xba", &err), 1);
    ws_msg_reset(&m);
    f = mkframe(WS_OP_TEXT, true, 2);
    assert_int_equal(ws_msg_add(&m, &f, (const uint8_t *)"\xc0\x80", &err), WS_ERROR);
    assert_int_equal(err.code, WS_CLOSE_BAD_DATA);
    f = mkframe(WS_OP_BINARY, true, 2);
    assert_int_equal(ws_msg_add(&m, &f, (const uint8_t *)"\xc0\x80", &err), 1);
    ws_msg_fini(&m);
}

/* ---- a stream of frames, at once and byte by byte ---- */

/* Masked client frame into out. */
static void put_frame(buf_t *out, uint8_t op, bool fin, const char *p, size_t n)
{
    static const uint8_t key[4] = { 0x11, 0x22, 0x33, 0x44 };
    uint8_t hdr[WS_MAX_HEADER];
    size_t hl = ws_frame_header(hdr, op, fin, n, key);
    buf_append(out, hdr, hl);
    size_t at = out->len;
    if (n > 0) {
        buf_append(out, p, n);
    }
    ws_unmask(out->data + at, n, key);
}

/* Parse everything in, as a server would, writing one line per event. */
static void run_events(const uint8_t *in, size_t n, size_t step, buf_t *log)
{
    buf_t pending = { 0 };
    ws_msg_t m = { .max = 1000 };
    size_t fed = 0;
    while (fed < n) {
        size_t k = n - fed < step ? n - fed : step;
        buf_append(&pending, in + fed, k);
        fed += k;
        size_t pos = 0;
        for (;;) {
            ws_frame_t f;
            ws_error_t err;
            int rc = ws_frame_parse(pending.data + pos, pending.len - pos, true, 1000, &f, &err);
            if (rc == WS_NEED_MORE) {
                break;
            }
            if (rc == WS_ERROR) {
                buf_printf(log, "error %u at %zu\n", err.code, fed - (pending.len - pos) + err.pos);
                goto out;
            }
            uint8_t *pl = pending.data + pos + f.hdr_len;
            ws_unmask(pl, f.len, f.mask);
            pos += f.hdr_len + f.len;
            if (f.opcode >= WS_OP_CLOSE) {
                buf_printf(log, "control %u ", f.opcode);
                buf_append(log, pl, f.len);
                buf_putc(log, '\n');
                continue;
            }
            rc = ws_msg_add(&m, &f, pl, &err);
            if (rc == 1) {
                buf_printf(log, "message %u ", m.opcode);
                buf_append(log, m.data.data, m.data.len);
                buf_putc(log, '\n');
                ws_msg_reset(&m);
            } else if (rc == WS_ERROR) {
                buf_printf(log, "msg error %u\n", err.code);
            }
        }
        memmove(pending.data, pending.data + pos, pending.len - pos);
        pending.len -= pos;
    }
out:
    buf_fini(&pending);
    ws_msg_fini(&m);
}

static void test_stream_byte_by_byte(void **state)
{
    (void)state;
    buf_t in = { 0 };
    put_frame(&in, WS_OP_PING, true, "p1", 2);
    put_frame(&in, WS_OP_TEXT, false, "hel", 3);
    put_frame(&in, WS_OP_PING, true, "", 0);
    put_frame(&in, WS_OP_CONT, false, "lo ", 3);
    char big[300];
    memset(big, 'z', sizeof(big));
    put_frame(&in, WS_OP_CONT, true, big, sizeof(big));
    put_frame(&in, WS_OP_BINARY, true, "\x00\xff", 2);
    put_frame(&in, WS_OP_CONT, true, "x", 1); /* continuation outside a message */
    put_frame(&in, WS_OP_CLOSE, true, "\x03\xe8", 2);
    size_t good_len = in.len;
    buf_putc(&in, 0x83); /* unknown opcode */
    buf_putc(&in, 0x80);
    buf_t want = { 0 };
    buf_printf(&want, "control 9 p1\ncontrol 9 \nmessage 1 hello %.300s\nmessage 2 ", big);
    static const char mid[] = "\x00\xff\nmsg error 1002\ncontrol 8 \x03\xe8\n";
    buf_append(&want, mid, sizeof(mid) - 1);
    buf_printf(&want, "error 1002 at %zu\n", good_len);
    buf_t whole = { 0 };
    run_events(in.data, in.len, in.len, &whole);
    assert_int_equal(whole.len, want.len);
    assert_memory_equal(whole.data, want.data, want.len);
    for (size_t step = 1; step <= 7; step++) {
        buf_t log = { 0 };
        run_events(in.data, in.len, step, &log);
        if (log.len != want.len || memcmp(log.data, want.data, log.len) != 0) {
            fail_msg("step %zu: events differ", step);
        }
        buf_fini(&log);
    }
    buf_fini(&want);
    buf_fini(&whole);
    buf_fini(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frames),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_header_round_trip),
        cmocka_unit_test(test_unmask),
        cmocka_unit_test(test_close_payload),
        cmocka_unit_test(test_accept_key),
        cmocka_unit_test(test_msg),
        cmocka_unit_test(test_stream_byte_by_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

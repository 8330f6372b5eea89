/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for common/buf.c: appends never truncate and keep a trailing NUL,
 * printf on both sides of its 256-byte stack buffer, varint and fixed-width
 * little-endian appends, reset/steal/fini, a zeroed buf_t, and a reserve
 * that cannot be satisfied (abort, never a wrapped size).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/mem.h"
#include "common/varint.h"

const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

static void test_append_grows(void **state)
{
    (void)state;
    buf_t b = { 0 }; /* zeroed is a valid empty buffer */
    assert_int_equal(b.len, 0);
    for (int i = 0; i < 10000; i++) {
        buf_putc(&b, (uint8_t)('a' + i % 26));
        assert_int_equal(b.data[b.len], 0);
        assert_true(b.cap > b.len);
    }
    assert_int_equal(b.len, 10000);
    for (int i = 0; i < 10000; i++) {
        assert_int_equal(b.data[i], 'a' + i % 26);
    }
    buf_append(&b, "\0x", 2); /* binary-safe */
    assert_int_equal(b.len, 10002);
    assert_int_equal(b.data[10000], 0);
    assert_int_equal(b.data[10001], 'x');
    buf_append(&b, NULL, 0);
    assert_int_equal(b.len, 10002);
    buf_fini(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    buf_fini(&b); /* twice is fine */
}

static void test_puts_printf(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b);
    buf_puts(&b, "ab");
    buf_printf(&b, "%d-%s", 42, "x");
    assert_string_equal((char *)b.data, "ab42-x");
    /* Exactly 255, 256 and 257 bytes of output cross the stack buffer. */
    char big[1000];
    memset(big, 'q', sizeof(big));
    for (int n = 254; n <= 258; n++) {
        buf_reset(&b);
        buf_printf(&b, "%.*s", n, big);
        assert_int_equal(b.len, (size_t)n);
        assert_int_equal(b.data[n], 0);
        assert_int_equal(b.data[n - 1], 'q');
    }
    buf_reset(&b);
    buf_puts(&b, "head:");
    buf_printf(&b, "%.*s|%d", 900, big, 7);
    assert_int_equal(b.len, 5 + 900 + 2);
    assert_memory_equal(b.data, "head:qq", 7);
    assert_string_equal((char *)b.data + 905, "|7");
    buf_reset(&b);
    buf_printf(&b, "%s", "");
    assert_int_equal(b.len, 0);
    assert_int_equal(b.data[0], 0);
    buf_fini(&b);
}

static void test_reserve(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b);
    buf_reserve(&b, 1000);
    assert_true(b.cap >= 1001);
    uint8_t *before = b.data;
    for (int i = 0; i < 1000; i++) {
        buf_putc(&b, 1);
    }
    assert_ptr_equal(b.data, before); /* no regrowth within the reservation */
    buf_reserve(&b, 0);
    assert_true(b.cap >= b.len + 1);
    buf_fini(&b);
}

static void test_varints_fixed(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b);
    buf_put_uvarint(&b, 300);
    buf_put_varint(&b, -1);
    buf_put_uvarint(&b, UINT64_MAX);
    buf_put_u32le(&b, 0x04030201u);
    buf_put_u64le(&b, 0x0807060504030201ull);
    const uint8_t want[] = { 0xac, 0x02, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
                             1,    2,    3,    4,    1,    2,    3,    4,    5,    6,    7,    8 };
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    assert_int_equal(b.data[b.len], 0);
    /* Random round trips through the decoder. */
    buf_reset(&b);
    uint64_t seed = 99;
    int64_t vals[500];
    for (int i = 0; i < 500; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        vals[i] = (int64_t)(seed >> (seed % 64));
        if (i % 2) {
            vals[i] = -vals[i];
        }
        buf_put_varint(&b, vals[i]);
    }
    size_t off = 0;
    for (int i = 0; i < 500; i++) {
        int64_t v = 0;
        size_t n = varint_get_i64(b.data + off, b.len - off, &v);
        assert_true(n > 0);
        assert_int_equal(v, vals[i]);
        off += n;
    }
    assert_int_equal(off, b.len);
    buf_fini(&b);
}

static void test_reset_steal(void **state)
{
    (void)state;
    size_t base = mem_used();
    buf_t b;
    buf_init(&b);
    buf_reset(&b); /* on an empty, unallocated buf */
    assert_int_equal(b.len, 0);
    size_t len = 99;
    assert_null(buf_steal(&b, &len));
    assert_int_equal(len, 0);
    buf_puts(&b, "hello");
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.data[0], 0);
    buf_puts(&b, "world");
    uint8_t *d = buf_steal(&b, &len);
    assert_int_equal(len, 5);
    assert_string_equal((char *)d, "world");
    assert_null(b.data);
    assert_int_equal(b.cap, 0);
    buf_puts(&b, "again"); /* usable after steal */
    uint8_t *d2 = buf_steal(&b, NULL);
    assert_string_equal((char *)d2, "again");
    assert_null(b.data);
    mem_free(d);
    mem_free(d2);
    assert_int_equal(mem_used(), base);
}

static void abort_child(int which)
{
    buf_t b;
    buf_init(&b);
    buf_puts(&b, "abc");
    if (which == 0) {
        buf_reserve(&b, SIZE_MAX); /* len + extra + 1 wraps */
    } else if (which == 1) {
        buf_reserve(&b, SIZE_MAX - 3);
    } else {
        buf_reserve(&b, SIZE_MAX / 2 + 10); /* doubling would overflow */
    }
    /* Reaching here without abort means the reservation silently failed. */
    _exit(0);
}

/* Go's url.QueryEscape, byte by byte: unreserved kept, space '+', the
 * rest %XX upper-case (NUL and bytes over 0x7f included). */
static void test_query_escaped(void **state)
{
    (void)state;
    buf_t b = { 0 };
    static const char in[] = "up == 0 & a~b_c.d-e/f?g=h\x00\xc3\xa9";
    buf_put_query_escaped(&b, in, sizeof(in) - 1);
    buf_putc(&b, 0);
    assert_string_equal((char *)b.data, "up+%3D%3D+0+%26+a~b_c.d-e%2Ff%3Fg%3Dh%00%C3%A9");
    buf_reset(&b);
    buf_put_query_escaped(&b, "", 0);
    assert_int_equal(b.len, 0);
    buf_fini(&b);
}

static void test_reserve_impossible(void **state)
{
    (void)state;
    for (int which = 0; which < 3; which++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            int fd = open("/dev/null", O_WRONLY);
            if (fd >= 0) {
                dup2(fd, STDERR_FILENO);
            }
            alarm(10); /* a looping doubling would be killed by SIGALRM */
            abort_child(which);
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT) {
            fail_msg("case %d: child status %#x, want SIGABRT", which, status);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_grows),  cmocka_unit_test(test_puts_printf),
        cmocka_unit_test(test_reserve),       cmocka_unit_test(test_varints_fixed),
        cmocka_unit_test(test_reset_steal),   cmocka_unit_test(test_reserve_impossible),
        cmocka_unit_test(test_query_escaped),
    };
    return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for common/arena.c: alignment, non-overlap of many mixed-size
 * allocations (each filled and re-checked), big requests in their own
 * chunk, reset keeping one chunk, calloc zeroing reused memory, the
 * accounting, and hostile sizes (NULL from try_alloc, abort otherwise).
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

#include "common/arena.h"
#include "common/mem.h"

const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

typedef struct span {
    uint8_t *p;
    size_t n;
    uint8_t fill;
} span_t;

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void test_mixed_sizes(void **state)
{
    (void)state;
    arena_t *a = arena_create(4096);
    span_t spans[2000];
    uint64_t seed = 77;
    size_t used = 0;
    for (size_t i = 0; i < 2000; i++) {
        uint64_t r = rng_next(&seed);
        size_t n = (r % 10 == 0) ? (size_t)(r % 20000) : (size_t)(r % 200);
        uint8_t *p = arena_alloc(a, n);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        spans[i] = (span_t){ .p = p, .n = n, .fill = (uint8_t)i };
        memset(p, spans[i].fill, n);
        used += (n + 15) & ~(size_t)15;
    }
    assert_int_equal(arena_used(a), used);
    for (size_t i = 0; i < 2000; i++) {
        for (size_t k = 0; k < spans[i].n; k++) {
            if (spans[i].p[k] != spans[i].fill) {
                fail_msg("allocation %zu overwritten at %zu", i, k);
            }
        }
    }
    arena_destroy(a);
}

static void test_reset_and_accounting(void **state)
{
    (void)state;
    size_t base = mem_used();
    arena_t *a = arena_create(1024);
    size_t empty = mem_used();
    for (int i = 0; i < 100; i++) {
        arena_alloc(a, 100);
    }
    arena_alloc(a, 100000); /* its own chunk */
    assert_true(mem_used() >= empty + 100000);
    assert_int_equal(arena_used(a), 100 * 112 + 100000);
    arena_reset(a);
    assert_int_equal(arena_used(a), 0);
    /* Only one standard chunk is kept. */
    assert_true(mem_used() - empty < 2048 + 256);
    size_t kept = mem_used();
    /* Reuse: small allocations come from the kept chunk without new heap. */
    uint8_t *p = arena_alloc(a, 64);
    memset(p, 0xEE, 64);
    assert_int_equal(mem_used(), kept);
    arena_reset(a);
    uint8_t *z = arena_calloc(a, 8, 8);
    for (int i = 0; i < 64; i++) {
        assert_int_equal(z[i], 0); /* zeroed although the bytes were dirty */
    }
    arena_destroy(a);
    assert_int_equal(mem_used(), base);
    arena_destroy(NULL);
}

static void test_big_first_and_small_chunks(void **state)
{
    (void)state;
    /* A big request on an empty arena, then small ones still work. */
    arena_t *a = arena_create(0); /* clamped to a minimum */
    uint8_t *big = arena_alloc(a, 10000);
    memset(big, 1, 10000);
    uint8_t *s1 = arena_alloc(a, 10);
    uint8_t *s2 = arena_alloc(a, 10);
    memset(s1, 2, 10);
    memset(s2, 3, 10);
    assert_true(s2 >= s1 + 16 || s1 >= s2 + 16);
    assert_int_equal(big[9999], 1);
    assert_int_equal(s1[0], 2);
    void *zero = arena_alloc(a, 0);
    assert_non_null(zero);
    arena_reset(a);
    arena_reset(a);
    assert_non_null(arena_alloc(a, 1));
    arena_destroy(a);
}

static void test_strndup(void **state)
{
    (void)state;
    arena_t *a = arena_create(256);
    char *s = arena_strndup(a, "labels{a=\"b\"}", 6);
    assert_string_equal(s, "labels");
    char *e = arena_strndup(a, NULL, 0);
    assert_string_equal(e, "");
    char *n = arena_strndup(a, "a\0b", 3);
    assert_memory_equal(n, "a\0b\0", 4);
    arena_destroy(a);
}

static void test_hostile_sizes(void **state)
{
    (void)state;
    size_t base = mem_used();
    arena_t *a = arena_create(4096);
    assert_null(arena_try_alloc(a, SIZE_MAX));
    assert_null(arena_try_alloc(a, SIZE_MAX - 15));
    assert_null(arena_try_alloc(a, SIZE_MAX - 20)); /* chunk header would wrap */
    assert_null(arena_try_alloc(a, SIZE_MAX / 2));
    assert_int_equal(arena_used(a), 0);
    /* The arena still works afterwards. */
    uint8_t *p = arena_try_alloc(a, 100);
    assert_non_null(p);
    memset(p, 0, 100);
    arena_destroy(a);
    assert_int_equal(mem_used(), base);
}

typedef void (*abort_fn)(arena_t *a);

static void abort_alloc(arena_t *a)
{
    arena_alloc(a, SIZE_MAX - 20);
}

static void abort_calloc(arena_t *a)
{
    arena_calloc(a, SIZE_MAX / 4, 8);
}

static void abort_strndup(arena_t *a)
{
    arena_strndup(a, "x", SIZE_MAX);
}

static void expect_abort(abort_fn fn, const char *name)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
        }
        arena_t *a = arena_create(4096);
        fn(a);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT) {
        fail_msg("%s: child status %#x, want SIGABRT", name, status);
    }
}

static void test_abort_policy(void **state)
{
    (void)state;
    expect_abort(abort_alloc, "alloc");
    expect_abort(abort_calloc, "calloc");
    expect_abort(abort_strndup, "strndup");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mixed_sizes),
        cmocka_unit_test(test_reset_and_accounting),
        cmocka_unit_test(test_big_first_and_small_chunks),
        cmocka_unit_test(test_strndup),
        cmocka_unit_test(test_hostile_sizes),
        cmocka_unit_test(test_abort_policy),
    };
    return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}

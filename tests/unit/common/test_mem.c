/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for common/mem.c: byte accounting, zeroing, copies, the try_*
 * variants returning NULL, and the abort-on-OOM policy (checked in a forked
 * child). Under ASan the allocator is told to return NULL for impossible
 * sizes, so the OOM paths are ours and not the sanitizer's.
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

#include "common/mem.h"

const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

static void test_accounting(void **state)
{
    (void)state;
    size_t base = mem_used();
    void *p = mem_alloc(1000);
    assert_true(mem_used() >= base + 1000);
    void *z = mem_alloc(0);
    assert_non_null(z);
    assert_true(mem_used() > base + 1000);
    p = mem_realloc(p, 5000);
    assert_true(mem_used() >= base + 5000);
    mem_free(p);
    mem_free(z);
    assert_int_equal(mem_used(), base);
    mem_free(NULL);
    assert_int_equal(mem_used(), base);
}

static void test_calloc_and_copies(void **state)
{
    (void)state;
    size_t base = mem_used();
    uint8_t *c = mem_calloc(100, 7);
    for (size_t i = 0; i < 700; i++) {
        assert_int_equal(c[i], 0);
    }
    void *c0 = mem_calloc(0, 5);
    assert_non_null(c0);
    mem_free(c0);
    mem_free(c);
    char *d = mem_strndup("hello world", 5);
    assert_string_equal(d, "hello");
    mem_free(d);
    d = mem_strndup("a\0b", 3); /* embedded NUL copied verbatim */
    assert_memory_equal(d, "a\0b\0", 4);
    mem_free(d);
    d = mem_strndup(NULL, 0);
    assert_string_equal(d, "");
    mem_free(d);
    d = mem_strdup("pharos");
    assert_string_equal(d, "pharos");
    mem_free(d);
    assert_int_equal(mem_used(), base);
}

static void test_realloc_keeps_content(void **state)
{
    (void)state;
    uint8_t *p = mem_realloc(NULL, 16);
    for (int i = 0; i < 16; i++) {
        p[i] = (uint8_t)i;
    }
    p = mem_realloc(p, 1 << 20);
    for (int i = 0; i < 16; i++) {
        assert_int_equal(p[i], i);
    }
    p = mem_realloc(p, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(p[i], i);
    }
    mem_free(p);
}

static void test_try_variants(void **state)
{
    (void)state;
    size_t base = mem_used();
    assert_null(mem_try_alloc(SIZE_MAX));
    assert_null(mem_try_alloc(SIZE_MAX / 2));
    assert_int_equal(mem_used(), base);
    uint8_t *p = mem_try_alloc(32);
    assert_non_null(p);
    memset(p, 0xAB, 32);
    assert_null(mem_try_realloc(p, SIZE_MAX - 4096));
    /* p is still valid and unchanged after the failed resize. */
    for (int i = 0; i < 32; i++) {
        assert_int_equal(p[i], 0xAB);
    }
    size_t held = mem_used();
    assert_true(held >= base + 32);
    p = mem_try_realloc(p, 64);
    assert_non_null(p);
    assert_int_equal(p[31], 0xAB);
    mem_free(p);
    assert_int_equal(mem_used(), base);
}

typedef void (*oom_fn)(void);

static void oom_alloc(void)
{
    mem_free(mem_alloc(SIZE_MAX));
}

static void oom_calloc_overflow(void)
{
    mem_free(mem_calloc(SIZE_MAX / 2, 3));
}

static void oom_realloc(void)
{
    void *p = mem_alloc(8);
    mem_free(mem_realloc(p, SIZE_MAX - 4096));
}

static void oom_strndup(void)
{
    mem_free(mem_strndup("x", SIZE_MAX));
}

static void expect_abort(oom_fn fn, const char *name)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* Silence the OOM message in the child. */
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
        }
        fn();
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT) {
        fail_msg("%s: child status %#x, want SIGABRT", name, status);
    }
}

static void test_oom_aborts(void **state)
{
    (void)state;
    expect_abort(oom_alloc, "oom_alloc");
    expect_abort(oom_calloc_overflow, "oom_calloc_overflow");
    expect_abort(oom_realloc, "oom_realloc");
    expect_abort(oom_strndup, "oom_strndup");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accounting),
        cmocka_unit_test(test_calloc_and_copies),
        cmocka_unit_test(test_realloc_keeps_content),
        cmocka_unit_test(test_try_variants),
        cmocka_unit_test(test_oom_aborts),
    };
    return cmocka_run_group_tests_name("mem", tests, NULL, NULL);
}

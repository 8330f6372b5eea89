/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for agent/coll_statfs.c: answers pass through; a call that hangs
 * is answered -ETIMEDOUT, its path stays stuck (answered without a new
 * call) until the call returns, and other paths are served meanwhile.
 * "At once" is checked by counting calls of the fake, not by timing. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent_int.h"

/* The fake file systems: "/hang" blocks until released; "/missing" fails. */
static pthread_mutex_t fake_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fake_cv = PTHREAD_COND_INITIALIZER;
static int fake_released;
static int fake_returned;
static int fake_calls;

static int fake_calls_now(void)
{
    pthread_mutex_lock(&fake_mu);
    int n = fake_calls;
    pthread_mutex_unlock(&fake_mu);
    return n;
}

static int fake_statfs(const char *path, struct statfs *out)
{
    pthread_mutex_lock(&fake_mu);
    fake_calls++;
    pthread_mutex_unlock(&fake_mu);
    memset(out, 0, sizeof(*out));
    if (strncmp(path, "/hang", 5) == 0) {
        pthread_mutex_lock(&fake_mu);
        while (!fake_released) {
            pthread_cond_wait(&fake_cv, &fake_mu);
        }
        fake_returned++;
        pthread_mutex_unlock(&fake_mu);
        out->f_blocks = 1;
        return 0;
    }
    if (strcmp(path, "/missing") == 0) {
        errno = ENOENT;
        return -1;
    }
    out->f_blocks = strlen(path);
    return 0;
}

static void test_pass_through(void **state)
{
    (void)state;
    coll_statfs_t *w = coll_statfs_create(fake_statfs, 1000);
    struct statfs sf;
    for (int i = 0; i < 100; i++) {
        assert_int_equal(coll_statfs_call(w, "/abc", &sf), 0);
        assert_int_equal(sf.f_blocks, 4);
    }
    assert_int_equal(coll_statfs_call(w, "/missing", &sf), -ENOENT);
    coll_statfs_destroy(w);
}

static void test_hung_mount(void **state)
{
    (void)state;
    coll_statfs_t *w = coll_statfs_create(fake_statfs, 200);
    struct statfs sf;
    assert_int_equal(coll_statfs_call(w, "/hang", &sf), -ETIMEDOUT);
    assert_true(coll_statfs_stuck(w, "/hang"));
    /* Stuck: answered without calling statfs again; other mounts still
     * served by a new worker. */
    int calls = fake_calls_now();
    assert_int_equal(coll_statfs_call(w, "/hang", &sf), -ETIMEDOUT);
    assert_int_equal(fake_calls_now(), calls);
    assert_int_equal(coll_statfs_call(w, "/ok", &sf), 0);
    assert_int_equal(sf.f_blocks, 3);
    /* The hung call returns: the path is no longer stuck. */
    pthread_mutex_lock(&fake_mu);
    fake_released = 1;
    pthread_cond_broadcast(&fake_cv);
    pthread_mutex_unlock(&fake_mu);
    for (int i = 0; i < 500 && coll_statfs_stuck(w, "/hang"); i++) {
        usleep(10000);
    }
    assert_false(coll_statfs_stuck(w, "/hang"));
    assert_int_equal(coll_statfs_call(w, "/hang", &sf), 0);
    assert_int_equal(fake_returned, 2);
    /* 16 distinct hung mounts fill the stuck list; then no further call
     * (no further thread) is made, even for a healthy mount, until one
     * returns. */
    pthread_mutex_lock(&fake_mu);
    fake_released = 0;
    pthread_mutex_unlock(&fake_mu);
    char p[32];
    for (int i = 0; i < 16; i++) {
        snprintf(p, sizeof(p), "/hang%d", i);
        assert_int_equal(coll_statfs_call(w, p, &sf), -ETIMEDOUT);
    }
    calls = fake_calls_now();
    assert_int_equal(coll_statfs_call(w, "/hang99", &sf), -ETIMEDOUT);
    assert_int_equal(coll_statfs_call(w, "/ok", &sf), -ETIMEDOUT);
    assert_int_equal(fake_calls_now(), calls);
    pthread_mutex_lock(&fake_mu);
    fake_released = 1;
    pthread_cond_broadcast(&fake_cv);
    pthread_mutex_unlock(&fake_mu);
    for (int i = 0; i < 500 && coll_statfs_stuck(w, "/hang15"); i++) {
        usleep(10000);
    }
    for (int i = 0; i < 500 && coll_statfs_call(w, "/ok", &sf) != 0; i++) {
        usleep(10000);
    }
    assert_int_equal(coll_statfs_call(w, "/ok", &sf), 0);
    assert_int_equal(fake_returned, 18);
    coll_statfs_destroy(w);
    usleep(50000); /* let the idle worker see the close before the leak check */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pass_through),
        cmocka_unit_test(test_hung_mount),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

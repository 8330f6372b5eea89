/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for agent/agent_spool.c: FIFO order, resume after reopen, the
 * byte bound dropping oldest-first (never the batch in flight) with the
 * samples counted, corrupt and torn files. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent_int.h"

typedef struct fx {
    char dir[64];
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/pharos-spool-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static spool_t *open_spool(const fx_t *f, uint64_t max)
{
    spool_t *s = NULL;
    char err[256];
    assert_int_equal(spool_open(f->dir, max, false, &s, err, sizeof(err)), 0);
    return s;
}

static void put(spool_t *s, uint32_t n, const char *body)
{
    assert_int_equal(spool_put(s, n, body, strlen(body), NULL, 0), 0);
}

/* Peek the oldest and check it; pop it when pop. */
static void expect_head(spool_t *s, uint32_t n, const char *body, bool pop)
{
    buf_t b;
    buf_init(&b);
    uint64_t seq = 0;
    uint32_t got = 0;
    assert_int_equal(spool_peek(s, &b, NULL, &seq, &got), 1);
    assert_int_equal(got, n);
    assert_int_equal(b.len, strlen(body));
    assert_memory_equal(b.data, body, b.len);
    if (pop) {
        assert_int_equal(spool_pop(s, seq), 0);
    } else {
        spool_release(s);
    }
    buf_fini(&b);
}

static void expect_empty(spool_t *s)
{
    buf_t b;
    buf_init(&b);
    uint64_t seq;
    uint32_t n;
    assert_int_equal(spool_peek(s, &b, NULL, &seq, &n), 0);
    buf_fini(&b);
}

static void test_fifo_and_resume(void **state)
{
    fx_t *f = *state;
    spool_t *s = open_spool(f, 1 << 20);
    put(s, 10, "one");
    put(s, 20, "two");
    put(s, 30, "three");
    expect_head(s, 10, "one", false); /* released: still the head */
    expect_head(s, 10, "one", true);
    spool_close(s);
    s = open_spool(f, 1 << 20);
    spool_stats_t st;
    spool_stats(s, &st);
    assert_int_equal(st.files, 2);
    assert_int_equal(st.bytes, 2 * 16 + 3 + 5);
    put(s, 40, "four");
    expect_head(s, 20, "two", true);
    expect_head(s, 30, "three", true);
    expect_head(s, 40, "four", true);
    expect_empty(s);
    spool_stats(s, &st);
    assert_int_equal(st.files, 0);
    assert_int_equal(st.bytes, 0);
    assert_int_equal(st.dropped_full, 0);
    spool_close(s);
}

static void test_bound_drops_oldest_not_inflight(void **state)
{
    fx_t *f = *state;
    /* Each file is 16 + 4 bytes: the bound holds three. */
    spool_t *s = open_spool(f, 60);
    put(s, 1, "aaaa");
    put(s, 2, "bbbb");
    put(s, 3, "cccc");
    buf_t b;
    buf_init(&b);
    uint64_t seq;
    uint32_t n;
    assert_int_equal(spool_peek(s, &b, NULL, &seq, &n), 1); /* "aaaa" in flight */
    put(s, 4, "dddd");                                      /* drops "bbbb", not the one in flight */
    spool_stats_t st;
    spool_stats(s, &st);
    assert_int_equal(st.dropped_full, 2);
    assert_int_equal(st.files, 3);
    assert_int_equal(spool_pop(s, seq), 0);
    expect_head(s, 3, "cccc", true);
    put(s, 5, "eeee");
    put(s, 6, "ffff");
    put(s, 7, "gggg"); /* drops dddd */
    spool_stats(s, &st);
    assert_int_equal(st.dropped_full, 6);
    expect_head(s, 5, "eeee", true);
    expect_head(s, 6, "ffff", true);
    expect_head(s, 7, "gggg", true);
    expect_empty(s);
    buf_fini(&b);
    spool_close(s);
}

static void write_file(const char *dir, const char *name, const void *p, size_t len)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(p, 1, len, fp), len);
    fclose(fp);
}

static void test_corrupt_and_torn_files(void **state)
{
    fx_t *f = *state;
    spool_t *s = open_spool(f, 1 << 20);
    put(s, 5, "good1");
    put(s, 6, "good2");
    spool_close(s);
    /* Flip a body byte of the first file: its CRC no longer matches. */
    char path[256];
    snprintf(path, sizeof(path), "%s/%016x.rw", f->dir, 0);
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    fseek(fp, 17, SEEK_SET);
    fputc('X', fp);
    fclose(fp);
    /* A torn temp file and a short file with a final name. */
    write_file(f->dir, "0000000000000002.tmp", "PHRW", 4);
    write_file(f->dir, "0000000000000005.rw", "PHR", 3);
    write_file(f->dir, "notes.txt", "ignored", 7);
    s = open_spool(f, 1 << 20);
    expect_head(s, 6, "good2", true);
    expect_empty(s);
    spool_stats_t st;
    spool_stats(s, &st);
    assert_int_equal(st.dropped_corrupt, 5); /* the header of the flipped file was intact */
    assert_int_equal(st.files, 0);
    spool_close(s);
    snprintf(path, sizeof(path), "%s/0000000000000002.tmp", f->dir);
    assert_int_not_equal(access(path, F_OK), 0);
}

typedef struct race {
    spool_t *s;
    int n;
} race_t;

static void *race_writer(void *arg)
{
    race_t *r = arg;
    char body[32];
    for (int i = 0; i < r->n; i++) {
        int len = snprintf(body, sizeof(body), "batch-%d", i);
        assert_int_equal(spool_put(r->s, (uint32_t)i, body, (size_t)len, NULL, 0), 0);
    }
    return NULL;
}

/* A reader racing the writer sees every batch once, in order: a number
 * is never taken before its file has its final name. */
static void test_reader_races_writer(void **state)
{
    fx_t *f = *state;
    race_t r = { open_spool(f, 1 << 30), 3000 };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, race_writer, &r), 0);
    buf_t b;
    buf_init(&b);
    for (int want = 0; want < r.n;) {
        uint64_t seq;
        uint32_t n;
        if (spool_peek(r.s, &b, NULL, &seq, &n) == 0) {
            spool_wait(r.s, 10);
            continue;
        }
        char body[32];
        int len = snprintf(body, sizeof(body), "batch-%d", want);
        assert_int_equal(n, (uint32_t)want);
        assert_int_equal(b.len, (size_t)len);
        assert_memory_equal(b.data, body, b.len);
        assert_int_equal(spool_pop(r.s, seq), 0);
        want++;
    }
    pthread_join(th, NULL);
    expect_empty(r.s);
    spool_stats_t st;
    spool_stats(r.s, &st);
    assert_int_equal(st.files + st.bytes + st.dropped_full + st.dropped_corrupt, 0);
    buf_fini(&b);
    spool_close(r.s);
}

static void test_open_error(void **state)
{
    (void)state;
    spool_t *s = (spool_t *)1;
    char err[256];
    assert_int_equal(spool_open("/proc/version/spool", 100, false, &s, err, sizeof(err)), -1);
    assert_null(s);
    assert_non_null(strstr(err, "/proc/version/spool"));
}

/* dir under f->dir, made of 200-byte components, exactly len bytes long. */
static void long_dir(const fx_t *f, char *dst, size_t len)
{
    size_t n = strlen(f->dir);
    memcpy(dst, f->dir, n);
    while (n < len) {
        dst[n++] = '/';
        for (size_t i = 0; i < 200 && n < len; i++) {
            dst[n++] = 'd';
        }
    }
    dst[len] = 0;
}

/* The longest dir accepted still reads its batches back (every file path
 * fits); one past the bound is refused at open, not later dropped batch
 * by batch as unreadable. */
static void test_long_dir(void **state)
{
    fx_t *f = *state;
    static char dir[4200], err[4400];
    spool_t *s = NULL;
    long_dir(f, dir, 3999);
    assert_int_equal(spool_open(dir, 1 << 20, false, &s, err, sizeof(err)), 0);
    put(s, 3, "far");
    expect_head(s, 3, "far", true);
    expect_empty(s);
    spool_close(s);
    long_dir(f, dir, 4000);
    s = (spool_t *)1;
    assert_int_equal(spool_open(dir, 1 << 20, false, &s, err, sizeof(err)), -1);
    assert_null(s);
    assert_non_null(strstr(err, "too long"));
    long_dir(f, dir, 4080);
    assert_int_equal(spool_open(dir, 1 << 20, false, &s, err, sizeof(err)), -1);
}

/* A batch's checkpoint travels with it, across a reopen; a damaged
 * checkpoint length makes the file corrupt (dropped, counted). */
static void test_checkpoint(void **state)
{
    fx_t *f = *state;
    spool_t *s = open_spool(f, 1 << 20);
    assert_int_equal(spool_put(s, 3, "body1", 5, "F 1 2 3 0 0 /x\n", 15), 0);
    assert_int_equal(spool_put(s, 4, "body2", 5, NULL, 0), 0);
    spool_close(s);
    s = open_spool(f, 1 << 20);
    buf_t b = { 0 }, ck = { 0 };
    uint64_t seq;
    uint32_t n;
    assert_int_equal(spool_peek(s, &b, &ck, &seq, &n), 1);
    assert_int_equal(n, 3);
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.data, "body1", 5);
    assert_int_equal(ck.len, 15);
    assert_memory_equal(ck.data, "F 1 2 3 0 0 /x\n", 15);
    assert_int_equal(spool_pop(s, seq), 0);
    assert_int_equal(spool_peek(s, &b, &ck, &seq, &n), 1);
    assert_int_equal(ck.len, 0);
    assert_memory_equal(b.data, "body2", 5);
    assert_int_equal(spool_pop(s, seq), 0);
    /* A checkpoint length past the file: corrupt. */
    assert_int_equal(spool_put(s, 7, "body3", 5, "ck", 2), 0);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "printf '\\377' | dd of=$(ls %s/*.rw) bs=1 seek=19 conv=notrunc 2>/dev/null", f->dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(spool_peek(s, &b, &ck, &seq, &n), 0);
    spool_stats_t st;
    spool_stats(s, &st);
    assert_int_equal(st.dropped_corrupt, 7);
    buf_fini(&b);
    buf_fini(&ck);
    spool_close(s);
}

/* A checkpoint longer than its u32 length field is refused before a
 * byte of it is read (it would be spooled with a cut length). */
static void test_checkpoint_too_long(void **state)
{
    fx_t *f = *state;
    spool_t *s = open_spool(f, 1 << 20);
    static const char ck[] = "F 1 2 3 0 0 /x\n";
    assert_int_equal(spool_put(s, 5, "body", 4, ck, (size_t)UINT32_MAX + 1), -EFBIG);
    spool_stats_t st;
    spool_stats(s, &st);
    assert_int_equal(st.files, 0);
    assert_int_equal(st.dropped_full, 5);
    spool_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_checkpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_and_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bound_drops_oldest_not_inflight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_and_torn_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_races_writer, setup, teardown),
        cmocka_unit_test(test_open_error),
        cmocka_unit_test_setup_teardown(test_long_dir, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

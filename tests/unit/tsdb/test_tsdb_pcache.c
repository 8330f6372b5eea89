/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for tsdb/tsdb_pcache.c: a block with several pages is written with
 * the block writer; the shared cache must decode each page once (a second
 * read is a hit), keep pages in use past its budget, free unused ones
 * from the cold end when over budget, and report a corrupt page as
 * TSDB_ERR_CORRUPT without caching it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/mem.h"
#include "tsdb/tsdb.h"
#include "tsdb/tsdb_int.h"
#include "testsupport.h"

typedef struct fx {
    char dir[256];
    tsdb_block_t *b;
} fx_t;

/* 400 series of 1000 noisy samples: several 256 KiB pages. */
static int setup(void **state)
{
    fx_t *f = mem_calloc(1, sizeof(*f));
    assert_int_equal(ts_tempdir("pcache", f->dir, sizeof(f->dir)), 0);
    tsdb_block_writer_t *w;
    assert_int_equal(tsdb_block_writer_open(f->dir, 1, 0, 1, &w), 0);
    int64_t ts[1000];
    double vs[1000];
    uint64_t x = 88172645463325252ULL;
    for (uint32_t id = 0; id < 400; id++) {
        for (int i = 0; i < 1000; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ts[i] = (int64_t)i * 15000 + (int64_t)(x % 7);
            vs[i] = (double)(x % 1000000) / 7.0;
        }
        assert_int_equal(tsdb_block_writer_add(w, id, ts, vs, 1000), 0);
    }
    assert_int_equal(tsdb_block_writer_finish(w, &f->b), 0);
    assert_non_null(f->b);
    assert_true(f->b->npages >= 3);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    tsdb_block_free(f->b);
    ts_rmrf(f->dir);
    mem_free(f);
    return 0;
}

static void test_hit_after_miss(void **state)
{
    fx_t *f = *state;
    tsdb_pcache_t *c = tsdb_pcache_create(64 << 20);
    const uint8_t *d1, *d2;
    size_t l1, l2;
    uint32_t h1, h2;
    assert_int_equal(tsdb_pcache_get(c, f->b, 0, &d1, &l1, &h1), 0);
    assert_int_equal(l1, f->b->pages[0].rlen);
    assert_int_equal(tsdb_pcache_get(c, f->b, 0, &d2, &l2, &h2), 0);
    assert_ptr_equal(d1, d2);
    assert_int_equal(h1, h2);
    uint64_t hits, misses, bytes;
    tsdb_pcache_stats(c, &hits, &misses, &bytes);
    assert_int_equal(hits, 1);
    assert_int_equal(misses, 1);
    assert_int_equal(bytes, l1);
    tsdb_pcache_put(c, h1);
    tsdb_pcache_put(c, h2);
    tsdb_pcache_destroy(c);
}

static void test_budget(void **state)
{
    fx_t *f = *state;
    /* A budget smaller than one page: pages in use stay, unused go. */
    tsdb_pcache_t *c = tsdb_pcache_create(1024);
    const uint8_t *d[3];
    size_t l[3];
    uint32_t h[3];
    for (uint32_t p = 0; p < 3; p++) {
        assert_int_equal(tsdb_pcache_get(c, f->b, p, &d[p], &l[p], &h[p]), 0);
    }
    uint64_t hits, misses, bytes;
    tsdb_pcache_stats(c, &hits, &misses, &bytes);
    assert_int_equal(bytes, l[0] + l[1] + l[2]); /* all held */
    tsdb_pcache_put(c, h[0]);
    tsdb_pcache_put(c, h[1]);
    tsdb_pcache_stats(c, &hits, &misses, &bytes);
    assert_int_equal(bytes, l[2]); /* the released ones were freed */
    tsdb_pcache_put(c, h[2]);
    tsdb_pcache_stats(c, &hits, &misses, &bytes);
    assert_int_equal(bytes, 0);
    /* Page 0 again: decoded anew. */
    assert_int_equal(tsdb_pcache_get(c, f->b, 0, &d[0], &l[0], &h[0]), 0);
    tsdb_pcache_stats(c, &hits, &misses, &bytes);
    assert_int_equal(misses, 4);
    tsdb_pcache_put(c, h[0]);
    tsdb_pcache_destroy(c);
}

static void test_corrupt_page(void **state)
{
    fx_t *f = *state;
    /* A copy of the block's bytes with page 1 damaged. */
    tsdb_block_t copy = *f->b;
    uint8_t *map = mem_alloc(f->b->size);
    memcpy(map, f->b->map, f->b->size);
    map[f->b->pages[1].off + f->b->pages[1].clen / 2] ^= 0x5a;
    copy.map = map;
    copy.seq = 99;
    tsdb_pcache_t *c = tsdb_pcache_create(64 << 20);
    const uint8_t *d;
    size_t l;
    uint32_t h;
    assert_int_equal(tsdb_pcache_get(c, &copy, 1, &d, &l, &h), TSDB_ERR_CORRUPT);
    uint64_t hits, misses, bytes;
    tsdb_pcache_stats(c, &hits, &misses, &bytes);
    assert_int_equal(bytes, 0);
    /* Undamaged pages of the same copy still read. */
    assert_int_equal(tsdb_pcache_get(c, &copy, 0, &d, &l, &h), 0);
    tsdb_pcache_put(c, h);
    tsdb_pcache_destroy(c);
    mem_free(map);
}

/* tsdb_pcache_decode: the page the cache holds, into a reused buffer;
 * a raw length that disagrees with the page (CRC intact) is corrupt. */
static void test_decode(void **state)
{
    fx_t *f = *state;
    tsdb_pcache_t *c = tsdb_pcache_create(64 << 20);
    const uint8_t *d;
    size_t l;
    uint32_t h;
    assert_int_equal(tsdb_pcache_get(c, f->b, 1, &d, &l, &h), 0);
    buf_t out = { 0 };
    buf_puts(&out, "stale");
    assert_int_equal(tsdb_pcache_decode(f->b, 1, &out), 0);
    assert_int_equal(out.len, l);
    assert_memory_equal(out.data, d, l);
    tsdb_pcache_put(c, h);
    tsdb_pcache_destroy(c);

    tsdb_block_t copy = *f->b;
    tsdb_page_ref_t *pages = mem_alloc(f->b->npages * sizeof(*pages));
    memcpy(pages, f->b->pages, f->b->npages * sizeof(*pages));
    copy.pages = pages;
    pages[0].rlen -= 1;
    assert_int_equal(tsdb_pcache_decode(&copy, 0, &out), TSDB_ERR_CORRUPT);
    pages[0].rlen += 2;
    assert_int_equal(tsdb_pcache_decode(&copy, 0, &out), TSDB_ERR_CORRUPT);
    pages[0].rlen -= 1;
    pages[0].crc ^= 1;
    assert_int_equal(tsdb_pcache_decode(&copy, 0, &out), TSDB_ERR_CORRUPT);
    pages[0].crc ^= 1;
    assert_int_equal(tsdb_pcache_decode(&copy, 0, &out), 0);
    mem_free(pages);
    buf_fini(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hit_after_miss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

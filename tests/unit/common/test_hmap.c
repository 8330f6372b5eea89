/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for common/hmap.c: basic put/get/del, duplicates and shared hashes
 * resolved by the caller's predicate, wrap-around runs, and a long random
 * sequence checked against a plain array model after every step
 * (backward-shift deletion must keep every survivor reachable).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/hmap.h"
#include "common/mem.h"

static bool eq_value(void *ctx, uint64_t value)
{
    return value == *(const uint64_t *)ctx;
}

static bool has(const hmap_t *m, uint64_t hash, uint64_t value)
{
    uint64_t want = value;
    uint64_t got = 0;
    return hmap_get(m, hash, eq_value, &want, &got) && got == value;
}

static void test_basic(void **state)
{
    (void)state;
    hmap_t m;
    hmap_init(&m);
    uint64_t out = 99;
    assert_false(hmap_get(&m, 1, NULL, NULL, &out)); /* empty, unallocated */
    assert_false(hmap_del(&m, 1, 1));
    assert_int_equal(hmap_len(&m), 0);
    hmap_put(&m, 10, 100);
    hmap_put(&m, 20, 200);
    assert_int_equal(hmap_len(&m), 2);
    assert_true(hmap_get(&m, 10, NULL, NULL, &out));
    assert_int_equal(out, 100);
    assert_true(hmap_get(&m, 20, NULL, NULL, &out));
    assert_int_equal(out, 200);
    assert_false(hmap_get(&m, 30, NULL, NULL, &out));
    assert_false(hmap_del(&m, 10, 200)); /* hash matches, value does not */
    assert_true(hmap_del(&m, 10, 100));
    assert_false(hmap_del(&m, 10, 100));
    assert_false(hmap_get(&m, 10, NULL, NULL, &out));
    assert_int_equal(hmap_len(&m), 1);
    hmap_fini(&m);
    assert_int_equal(hmap_len(&m), 0);
    hmap_fini(&m); /* twice is fine */
    hmap_fini(NULL);
}

static void test_shared_hash(void **state)
{
    (void)state;
    hmap_t m;
    hmap_init(&m);
    /* 1000 values under one hash: the caller's predicate picks. */
    for (uint64_t v = 0; v < 1000; v++) {
        hmap_put(&m, 0xABCDEF, v);
    }
    hmap_put(&m, 0xABCDEE, 5); /* neighbour hash, same value */
    assert_int_equal(hmap_len(&m), 1001);
    assert_true(m.cap >= 2 * hmap_len(&m));
    for (uint64_t v = 0; v < 1000; v++) {
        assert_true(has(&m, 0xABCDEF, v));
    }
    uint64_t missing = 5000;
    uint64_t out = 0;
    assert_false(hmap_get(&m, 0xABCDEF, eq_value, &missing, &out));
    /* Delete the even ones; the odd ones and the neighbour survive. */
    for (uint64_t v = 0; v < 1000; v += 2) {
        assert_true(hmap_del(&m, 0xABCDEF, v));
    }
    for (uint64_t v = 0; v < 1000; v++) {
        assert_int_equal(has(&m, 0xABCDEF, v), v % 2 == 1);
    }
    assert_true(has(&m, 0xABCDEE, 5));
    assert_int_equal(hmap_len(&m), 501);
    /* Exact duplicates: both stored, deleted one at a time. */
    hmap_put(&m, 7, 7);
    hmap_put(&m, 7, 7);
    assert_true(hmap_del(&m, 7, 7));
    assert_true(has(&m, 7, 7));
    assert_true(hmap_del(&m, 7, 7));
    assert_false(has(&m, 7, 7));
    hmap_fini(&m);
}

typedef struct model_entry {
    uint64_t hash;
    uint64_t value;
} model_entry_t;

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void check_against_model(const hmap_t *m, const model_entry_t *model, size_t n)
{
    assert_int_equal(hmap_len(m), n);
    assert_true(m->cap == 0 || 2 * hmap_len(m) <= m->cap);
    for (size_t i = 0; i < n; i++) {
        assert_true(has(m, model[i].hash, model[i].value));
    }
}

static void test_random_vs_model(void **state)
{
    (void)state;
    hmap_t m;
    hmap_init(&m);
    size_t cap = 4096;
    model_entry_t *model = mem_alloc(cap * sizeof(*model));
    size_t n = 0;
    uint64_t seed = 0x5EED5EED5EEDull;
    for (int step = 0; step < 40000; step++) {
        uint64_t r = rng_next(&seed);
        /* Few distinct hashes so runs are long and collide; values unique. */
        uint64_t hash = (r >> 8) % 97;
        if (step % 3 == 0) {
            hash = (r >> 8) * 0x100000000ull; /* low 32 bits zero: weak hashes */
        }
        if ((r & 3) != 0 && n < cap) {
            uint64_t value = (uint64_t)step;
            hmap_put(&m, hash, value);
            model[n++] = (model_entry_t){ .hash = hash, .value = value };
        } else if (n > 0) {
            size_t k = (size_t)((r >> 20) % n);
            assert_true(hmap_del(&m, model[k].hash, model[k].value));
            assert_false(has(&m, model[k].hash, model[k].value));
            model[k] = model[--n];
        }
        if (step % 97 == 0 || n < 64) {
            check_against_model(&m, model, n);
        }
    }
    check_against_model(&m, model, n);
    /* Drain everything. */
    while (n > 0) {
        n--;
        assert_true(hmap_del(&m, model[n].hash, model[n].value));
    }
    assert_int_equal(hmap_len(&m), 0);
    uint64_t out = 0;
    for (uint64_t h = 0; h < 97; h++) {
        assert_false(hmap_get(&m, h, NULL, NULL, &out));
    }
    mem_free(model);
    hmap_fini(&m);
}

static void test_extreme_keys(void **state)
{
    (void)state;
    hmap_t m;
    hmap_init(&m);
    const uint64_t keys[] = { 0, 1, UINT64_MAX, UINT64_MAX - 1, 1ull << 63, 0x8000000000000001ull };
    for (size_t i = 0; i < 6; i++) {
        hmap_put(&m, keys[i], ~keys[i]);
    }
    for (size_t i = 0; i < 6; i++) {
        uint64_t out = 0;
        assert_true(hmap_get(&m, keys[i], NULL, NULL, &out));
        assert_true(out == ~keys[i]);
    }
    for (size_t i = 0; i < 6; i += 2) {
        assert_true(hmap_del(&m, keys[i], ~keys[i]));
    }
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(has(&m, keys[i], ~keys[i]), i % 2 == 1);
    }
    hmap_fini(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_shared_hash),
        cmocka_unit_test(test_random_vs_model),
        cmocka_unit_test(test_extreme_keys),
    };
    return cmocka_run_group_tests_name("hmap", tests, NULL, NULL);
}

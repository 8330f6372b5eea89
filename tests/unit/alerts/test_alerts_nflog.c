/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_alerts_nflog: alerts/alerts_nflog.c. Entries keyed by (group key,
 * receiver, integration, index): set replaces, get finds, GC drops
 * expired ones; the JSON round trip; malformed entries refuse the whole
 * file; the kv store's namespaces, delete and round trip; state files
 * written atomically (no temporary left), read back, absent, and a
 * corrupt one renamed to *.corrupt.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "notify_fake.h"

static void test_entries(void **state)
{
    (void)state;
    nflog_t l;
    alerts_nflog_init(&l);
    buf_t k1 = { 0 }, k2 = { 0 };
    alerts_nflog_key("{}:{a=\"1\"}", "r", "slack", 0, &k1);
    alerts_nflog_key("{}:{a=\"1\"}", "r", "slack", 1, &k2);
    assert_null(alerts_nflog_get(&l, (const char *)k1.data));
    uint64_t f[] = { 1, 0xffffffffffffffffULL }, r[] = { 7 };
    alerts_nflog_set(&l, (const char *)k1.data, f, 2, r, 1, 1000, 5000);
    alerts_nflog_set(&l, (const char *)k2.data, f, 1, NULL, 0, 2000, 9000);
    alerts_nflog_set(&l, (const char *)k1.data, f, 1, NULL, 0, 3000, 6000);
    assert_int_equal(l.n, 2);
    const nflog_entry_t *e = alerts_nflog_get(&l, (const char *)k1.data);
    assert_int_equal(e->nfiring, 1);
    assert_int_equal(e->ts_ms, 3000);
    json_t *j = alerts_nflog_dump(&l);
    nflog_t back;
    alerts_nflog_init(&back);
    assert_int_equal(alerts_nflog_load(&back, j), 0);
    json_decref(j);
    e = alerts_nflog_get(&back, (const char *)k2.data);
    assert_non_null(e);
    assert_int_equal(e->firing[0], 1);
    assert_int_equal(e->expires_ms, 9000);
    assert_int_equal(alerts_nflog_gc(&back, 6000), 1);
    assert_null(alerts_nflog_get(&back, (const char *)k1.data));
    assert_non_null(alerts_nflog_get(&back, (const char *)k2.data));
    /* malformed: nothing loaded */
    static const char *const bad[] = {
        "{}",
        "[{\"key\":\"k\"}]",
        "[{\"key\":\"k\",\"firing\":[\"xyz\"],\"resolved\":[],\"ts\":1,\"expires\":2}]",
        "[{\"key\":\"k\",\"firing\":[\"00000000000000zz\"],\"resolved\":[],\"ts\":1,\"expires\":2}]",
        /* 16 characters strtoull would take: a sign, leading blanks */
        "[{\"key\":\"k\",\"firing\":[\"-000000000000001\"],\"resolved\":[],\"ts\":1,\"expires\":2}]",
        "[{\"key\":\"k\",\"firing\":[],\"resolved\":[\"+00000000000000f\"],\"ts\":1,\"expires\":2}]",
        "[{\"key\":\"k\",\"firing\":[\" 00000000000000f\"],\"resolved\":[],\"ts\":1,\"expires\":2}]",
        "[{\"key\":\"k\",\"firing\":[\"0x0000000000000f\"],\"resolved\":[],\"ts\":1,\"expires\":2}]",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *b = json_loads(bad[i], 0, NULL);
        assert_int_equal(alerts_nflog_load(&back, b), -1);
        json_decref(b);
    }
    assert_int_equal(back.n, 1);
    alerts_nflog_fini(&back);
    alerts_nflog_fini(&l);
    buf_fini(&k1);
    buf_fini(&k2);
}

static void test_kv(void **state)
{
    (void)state;
    nf_kv_t kv = { 0 };
    alerts_nflog_kv_put(&kv, "r/github/0", "g1", "17");
    alerts_nflog_kv_put(&kv, "r/github/1", "g1", "18");
    alerts_nflog_kv_put(&kv, "r/github/0", "g1", "19");
    assert_string_equal(alerts_nflog_kv_get(&kv, "r/github/0", "g1"), "19");
    assert_string_equal(alerts_nflog_kv_get(&kv, "r/github/1", "g1"), "18");
    assert_null(alerts_nflog_kv_get(&kv, "r/github/2", "g1"));
    json_t *j = alerts_nflog_kv_dump(&kv);
    alerts_nflog_kv_put(&kv, "r/github/0", "g1", NULL);
    assert_null(alerts_nflog_kv_get(&kv, "r/github/0", "g1"));
    alerts_nflog_kv_put(&kv, "r/github/0", "nothing", NULL);
    assert_int_equal(alerts_nflog_kv_load(&kv, j), 0);
    assert_string_equal(alerts_nflog_kv_get(&kv, "r/github/0", "g1"), "19");
    json_decref(j);
    j = json_loads("{\"a\":1}", 0, NULL);
    assert_int_equal(alerts_nflog_kv_load(&kv, j), -1);
    assert_string_equal(alerts_nflog_kv_get(&kv, "r/github/1", "g1"), "18");
    json_decref(j);
    alerts_nflog_kv_fini(&kv);
}

static void test_state_files(void **state)
{
    (void)state;
    char dir[256];
    fake_tmpdir(dir);
    json_t *j = NULL;
    assert_int_equal(alerts_nflog_read_state(dir, "x.json", &j), 0);
    json_t *w = json_pack("{s:i}", "a", 1);
    size_t bytes = 0;
    assert_int_equal(alerts_nflog_write_state(dir, "x.json", w, &bytes), 0);
    assert_int_equal(bytes, 7);
    json_decref(w);
    char p[400];
    snprintf(p, sizeof(p), "%s/x.json.tmp", dir);
    assert_int_not_equal(access(p, F_OK), 0);
    assert_int_equal(alerts_nflog_read_state(dir, "x.json", &j), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "a")), 1);
    json_decref(j);
    snprintf(p, sizeof(p), "%s/x.json", dir);
    fake_write(p, "{\"a\":");
    assert_int_equal(alerts_nflog_read_state(dir, "x.json", &j), -1);
    assert_null(j);
    assert_int_not_equal(access(p, F_OK), 0);
    snprintf(p, sizeof(p), "%s/x.json.corrupt", dir);
    assert_int_equal(access(p, F_OK), 0);
    /* an unwritable directory is an error, not a crash */
    assert_true(alerts_nflog_write_state("/nonexistent/dir", "x.json", w = json_object(), NULL) < 0);
    json_decref(w);
    fake_rmrf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entries),
        cmocka_unit_test(test_kv),
        cmocka_unit_test(test_state_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for agent/agent_msink.c: families found by name, samples and
 * labels kept through buffer growth, rollback, reset reusing storage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "agent/agent_int.h"

static void test_family_lookup(void **state)
{
    (void)state;
    msink_t s;
    msink_init(&s);
    uint32_t a = msink_family_c(&s, "node_load1", "1m load average.", METRIC_GAUGE);
    uint32_t b = msink_family_c(&s, "node_load5", "5m load average.", METRIC_GAUGE);
    assert_int_not_equal(a, b);
    assert_int_equal(msink_family_c(&s, "node_load1", "other", METRIC_COUNTER), a);
    assert_int_equal(s.families[a].type, METRIC_GAUGE);
    str_t help = msink_str(&s, s.families[a].help_off, s.families[a].help_len);
    assert_true(str_eq_cstr(help, "1m load average."));
    /* Many families: the index grows and every one is still found. */
    char name[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof(name), "fam_%d", i);
        msink_family_c(&s, name, NULL, METRIC_UNTYPED);
    }
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof(name), "fam_%d", i);
        uint32_t f = msink_family_c(&s, name, NULL, METRIC_UNTYPED);
        assert_true(str_eq_cstr(msink_str(&s, s.families[f].name_off, s.families[f].name_len), name));
    }
    assert_int_equal(s.nfamilies, 1002);
    msink_fini(&s);
}

static void test_samples_and_labels(void **state)
{
    (void)state;
    msink_t s;
    msink_init(&s);
    char cpu[16];
    for (int i = 0; i < 500; i++) {
        snprintf(cpu, sizeof(cpu), "%d", i);
        msink_addv(&s, "node_cpu_seconds_total", "Seconds the CPUs spent in each mode.", METRIC_COUNTER, i * 1.5, 2,
                   "cpu", cpu, "mode", "user");
    }
    assert_int_equal(s.nsamples, 500);
    assert_int_equal(s.nfamilies, 1);
    label_t ls[4];
    size_t n = msink_sample_labels(&s, &s.samples[321], ls, 4);
    assert_int_equal(n, 2);
    assert_true(str_eq_cstr(ls[0].name, "cpu"));
    assert_true(str_eq_cstr(ls[0].value, "321"));
    assert_true(str_eq_cstr(ls[1].value, "user"));
    assert_true(str_eq_cstr(msink_sample_name(&s, &s.samples[321]), "node_cpu_seconds_total"));
    assert_true(s.samples[321].value == 321 * 1.5);
    assert_true(s.samples[321].ts_ms == MSINK_NO_TS);

    uint32_t h = msink_family_c(&s, "rpc", "RPC latency.", METRIC_HISTOGRAM);
    label_t le[1] = { { STR_LIT("le"), STR_LIT("+Inf") } };
    msink_add_full(&s, h, STR_LIT("rpc_bucket"), le, 1, 7, 1700000000123);
    const msink_sample_t *x = &s.samples[s.nsamples - 1];
    assert_true(str_eq_cstr(msink_sample_name(&s, x), "rpc_bucket"));
    assert_true(x->ts_ms == 1700000000123);
    msink_fini(&s);
}

static void test_rollback(void **state)
{
    (void)state;
    msink_t s;
    msink_init(&s);
    msink_addv(&s, "keep", NULL, METRIC_GAUGE, 1, 0);
    msink_mark_t m = msink_mark(&s);
    msink_addv(&s, "gone", NULL, METRIC_GAUGE, 2, 1, "a", "b");
    msink_addv(&s, "keep", NULL, METRIC_GAUGE, 3, 1, "x", "y");
    msink_rollback(&s, m);
    assert_int_equal(s.nsamples, 1);
    assert_int_equal(s.nfamilies, 1);
    assert_int_equal(s.nlabels, 0);
    /* "gone" is no longer in the index: adding it makes a new family. */
    uint32_t g = msink_family_c(&s, "gone", "now with help", METRIC_COUNTER);
    assert_int_equal(g, 1);
    assert_int_equal(s.families[g].type, METRIC_COUNTER);
    assert_int_equal(msink_family_c(&s, "keep", NULL, METRIC_UNTYPED), 0);
    msink_fini(&s);
}

static void test_reset_keeps_storage(void **state)
{
    (void)state;
    msink_t s;
    msink_init(&s);
    for (int round = 0; round < 3; round++) {
        msink_reset(&s);
        for (int i = 0; i < 300; i++) {
            msink_addv(&s, "node_network_receive_bytes_total", "Network device statistic receive_bytes.",
                       METRIC_COUNTER, i, 1, "device", "eth0");
        }
        assert_int_equal(s.nsamples, 300);
        assert_int_equal(s.nfamilies, 1);
    }
    void *samples = s.samples;
    uint8_t *strings = s.strings.data;
    msink_reset(&s);
    for (int i = 0; i < 300; i++) {
        msink_addv(&s, "node_network_receive_bytes_total", "Network device statistic receive_bytes.", METRIC_COUNTER, i,
                   1, "device", "eth0");
    }
    assert_ptr_equal(samples, s.samples);
    assert_ptr_equal(strings, s.strings.data);
    msink_fini(&s);
}

static void test_drop_duplicates(void **state)
{
    (void)state;
    msink_t s;
    msink_init(&s);
    buf_t scratch;
    buf_init(&scratch);
    uint32_t f = msink_family_c(&s, "m", NULL, METRIC_GAUGE);
    label_t ab[2] = { { STR_LIT("a"), STR_LIT("1") }, { STR_LIT("b"), STR_LIT("2") } };
    label_t ba[2] = { { STR_LIT("b"), STR_LIT("2") }, { STR_LIT("a"), STR_LIT("1") } };
    label_t a2[1] = { { STR_LIT("a"), STR_LIT("2") } };
    label_t empty[2] = { { STR_LIT("a"), STR_LIT("2") }, { STR_LIT("c"), STR_LIT("") } };
    msink_add_full(&s, f, (str_t){ NULL, 0 }, ab, 2, 1, MSINK_NO_TS);
    msink_add_full(&s, f, (str_t){ NULL, 0 }, a2, 1, 2, MSINK_NO_TS);
    msink_add_full(&s, f, (str_t){ NULL, 0 }, ba, 2, 3, MSINK_NO_TS);    /* same series as the first */
    msink_add_full(&s, f, STR_LIT("m_other"), ab, 2, 4, MSINK_NO_TS);    /* another name */
    msink_add_full(&s, f, (str_t){ NULL, 0 }, empty, 2, 5, MSINK_NO_TS); /* c="" is no label: same as a2 */
    msink_add_full(&s, f, (str_t){ NULL, 0 }, a2, 1, 6, MSINK_NO_TS);
    assert_int_equal(msink_drop_duplicates(&s, &scratch), 3);
    assert_int_equal(s.nsamples, 3);
    assert_true(s.samples[0].value == 1);
    assert_true(s.samples[1].value == 2);
    assert_true(s.samples[2].value == 4);
    assert_int_equal(msink_drop_duplicates(&s, &scratch), 0);
    buf_fini(&scratch);
    msink_fini(&s);
}

static void test_stale(void **state)
{
    (void)state;
    msink_t prev, cur, out;
    msink_init(&prev);
    msink_init(&cur);
    msink_init(&out);
    buf_t scratch;
    buf_init(&scratch);
    msink_addv(&prev, "m", "help m", METRIC_GAUGE, 1, 1, "dev", "a");
    msink_addv(&prev, "m", "help m", METRIC_GAUGE, 2, 1, "dev", "b");
    msink_addv(&prev, "n", NULL, METRIC_COUNTER, 3, 0);
    uint32_t f = msink_family_c(&prev, "t", NULL, METRIC_GAUGE);
    msink_add_full(&prev, f, (str_t){ NULL, 0 }, NULL, 0, 4, 1700000000000); /* own timestamp: no marker */
    msink_addv(&cur, "m", "help m", METRIC_GAUGE, 5, 1, "dev", "a");
    msink_stale(&prev, &cur, &scratch, &out);
    assert_int_equal(out.nsamples, 2);
    label_t ls[2];
    assert_int_equal(msink_sample_labels(&out, &out.samples[0], ls, 2), 1);
    assert_true(str_eq_cstr(ls[0].value, "b"));
    assert_true(str_eq_cstr(msink_sample_name(&out, &out.samples[1]), "n"));
    for (size_t i = 0; i < out.nsamples; i++) {
        uint64_t bits;
        memcpy(&bits, &out.samples[i].value, sizeof(bits));
        assert_true(bits == MSINK_STALE_NAN_BITS);
        assert_true(out.samples[i].ts_ms == MSINK_NO_TS);
    }
    assert_int_equal(out.families[out.samples[0].family].type, METRIC_GAUGE);
    /* Nothing vanished: nothing to mark; an empty current marks all but t. */
    msink_stale(&cur, &cur, &scratch, &out);
    assert_int_equal(out.nsamples, 0);
    msink_reset(&cur);
    msink_stale(&prev, &cur, &scratch, &out);
    assert_int_equal(out.nsamples, 3);
    buf_fini(&scratch);
    msink_fini(&prev);
    msink_fini(&cur);
    msink_fini(&out);
}

/* Extra labels are added unless the sample has its own of the name, and
 * families merge by name; more extra labels than a sample may hold are cut
 * at the bound instead of overrunning it. */
static void test_append(void **state)
{
    (void)state;
    msink_t src, dst;
    msink_init(&src);
    msink_init(&dst);
    msink_addv(&src, "m", "help m", METRIC_GAUGE, 1, 1, "job", "own");
    msink_addv(&src, "n", NULL, METRIC_COUNTER, 2, 0);
    msink_addv(&dst, "m", "help m", METRIC_GAUGE, 3, 0);
    label_t extra[2] = { { STR_LIT("job"), STR_LIT("x") }, { STR_LIT("instance"), STR_LIT("h:1") } };
    msink_append(&dst, &src, extra, 2);
    assert_int_equal(dst.nsamples, 3);
    assert_int_equal(dst.nfamilies, 2);
    assert_int_equal(dst.samples[1].family, dst.samples[0].family);
    label_t ls[4];
    assert_int_equal(msink_sample_labels(&dst, &dst.samples[1], ls, 4), 2);
    assert_true(str_eq_cstr(ls[0].value, "own"));
    assert_true(str_eq_cstr(ls[1].value, "h:1"));
    assert_int_equal(msink_sample_labels(&dst, &dst.samples[2], ls, 4), 2);
    assert_true(str_eq_cstr(ls[0].value, "x"));

    enum { NX = 400, CAP = MSINK_MAX_LABELS + 64 };
    static label_t many[NX];
    static char names[NX][8];
    for (int i = 0; i < NX; i++) {
        snprintf(names[i], sizeof(names[i]), "l%d", i);
        many[i] = (label_t){ str_cstr(names[i]), STR_LIT("v") };
    }
    msink_reset(&dst);
    msink_append(&dst, &src, many, NX);
    assert_int_equal(dst.nsamples, 2);
    static label_t got[NX + 1];
    assert_int_equal(msink_sample_labels(&dst, &dst.samples[0], got, NX + 1), CAP);
    assert_true(str_eq_cstr(got[CAP - 1].name, "l319"));
    assert_int_equal(msink_sample_labels(&dst, &dst.samples[1], got, NX + 1), CAP);
    msink_fini(&src);
    msink_fini(&dst);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_family_lookup),   cmocka_unit_test(test_samples_and_labels),
        cmocka_unit_test(test_rollback),        cmocka_unit_test(test_reset_keeps_storage),
        cmocka_unit_test(test_drop_duplicates), cmocka_unit_test(test_stale),
        cmocka_unit_test(test_append),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for agent/agent_expo_write.c: the layout client_golang writes
 * (families by name, samples by label values, escapes, Go 'g' floats). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent/agent_int.h"

static void expect_text(const msink_t *s, const char *want)
{
    buf_t out;
    buf_init(&out);
    agent_expo_write(s, &out);
    assert_string_equal(out.len ? (const char *)out.data : "", want);
    buf_fini(&out);
}

static void test_sorted_layout(void **state)
{
    (void)state;
    msink_t s;
    msink_init(&s);
    const char *help = "Seconds the CPUs spent in each mode.";
    msink_addv(&s, "node_load1", "1m load average.", METRIC_GAUGE, 0.52, 0);
    msink_addv(&s, "node_cpu_seconds_total", help, METRIC_COUNTER, 10171.82, 2, "cpu", "1", "mode", "idle");
    msink_addv(&s, "node_cpu_seconds_total", help, METRIC_COUNTER, 4.1776715e+07, 2, "mode", "user", "cpu", "0");
    msink_addv(&s, "node_cpu_seconds_total", help, METRIC_COUNTER, 0, 2, "cpu", "0", "mode", "idle");
    msink_addv(&s, "node_boot_time_seconds", "Node boot time, in unixtime.", METRIC_GAUGE, 1.795307872e+09, 0);
    expect_text(&s, "# HELP node_boot_time_seconds Node boot time, in unixtime.\n"
                    "# TYPE node_boot_time_seconds gauge\n"
                    "node_boot_time_seconds 1.795307872e+09\n"
                    "# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.\n"
                    "# TYPE node_cpu_seconds_total counter\n"
                    "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 0\n"
                    "node_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 4.1776715e+07\n"
                    "node_cpu_seconds_total{cpu=\"1\",mode=\"idle\"} 10171.82\n"
                    "# HELP node_load1 1m load average.\n"
                    "# TYPE node_load1 gauge\n"
                    "node_load1 0.52\n");
    msink_fini(&s);
}

static void test_escapes_and_special_values(void **state)
{
    (void)state;
    msink_t s;
    msink_init(&s);
    msink_addv(&s, "x", "a \\ b\nc \"q\"", METRIC_UNTYPED, 1.0 / 0.0, 1, "l", "v\"\\\n");
    msink_addv(&s, "y", NULL, METRIC_GAUGE, -0.0, 0);
    msink_addv(&s, "z", NULL, METRIC_GAUGE, 11.027000000000001, 0);
    expect_text(&s, "# HELP x a \\\\ b\\nc \"q\"\n"
                    "# TYPE x untyped\n"
                    "x{l=\"v\\\"\\\\\\n\"} +Inf\n"
                    "# TYPE y gauge\n"
                    "y 0\n"
                    "# TYPE z gauge\n"
                    "z 11.027000000000001\n");
    msink_fini(&s);
}

static void test_histogram_keeps_order_and_timestamps(void **state)
{
    (void)state;
    msink_t s;
    msink_init(&s);
    uint32_t h = msink_family_c(&s, "rpc_seconds", "RPC latency.", METRIC_HISTOGRAM);
    label_t b1[1] = { { STR_LIT("le"), STR_LIT("0.5") } };
    label_t b2[1] = { { STR_LIT("le"), STR_LIT("+Inf") } };
    msink_add_full(&s, h, STR_LIT("rpc_seconds_bucket"), b1, 1, 3, MSINK_NO_TS);
    msink_add_full(&s, h, STR_LIT("rpc_seconds_bucket"), b2, 1, 5, MSINK_NO_TS);
    msink_add_full(&s, h, STR_LIT("rpc_seconds_sum"), NULL, 0, 1.25, MSINK_NO_TS);
    msink_add_full(&s, h, STR_LIT("rpc_seconds_count"), NULL, 0, 5, 1700000000000);
    uint32_t fewer = msink_family_c(&s, "a", NULL, METRIC_GAUGE);
    label_t two[2] = { { STR_LIT("a"), STR_LIT("1") }, { STR_LIT("b"), STR_LIT("1") } };
    msink_add_full(&s, fewer, (str_t){ NULL, 0 }, two, 2, 2, MSINK_NO_TS);
    msink_add_full(&s, fewer, (str_t){ NULL, 0 }, two + 1, 1, 1, MSINK_NO_TS);
    expect_text(&s, "# TYPE a gauge\n"
                    "a{b=\"1\"} 1\n"
                    "a{a=\"1\",b=\"1\"} 2\n"
                    "# HELP rpc_seconds RPC latency.\n"
                    "# TYPE rpc_seconds histogram\n"
                    "rpc_seconds_bucket{le=\"0.5\"} 3\n"
                    "rpc_seconds_bucket{le=\"+Inf\"} 5\n"
                    "rpc_seconds_sum 1.25\n"
                    "rpc_seconds_count 5 1700000000000\n");
    msink_fini(&s);
}

static void test_empty(void **state)
{
    (void)state;
    msink_t s;
    msink_init(&s);
    msink_family_c(&s, "declared_only", "no samples", METRIC_GAUGE);
    expect_text(&s, "");
    msink_fini(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sorted_layout),
        cmocka_unit_test(test_escapes_and_special_values),
        cmocka_unit_test(test_histogram_keeps_order_and_timestamps),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

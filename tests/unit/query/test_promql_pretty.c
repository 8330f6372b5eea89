/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for query/promql_pretty.c against Prometheus' own expectations:
 * every case of promql/parser/prettier_test.go (TestAggregateExprPretty,
 * TestBinaryExprPretty, TestCallExprPretty, TestParenExprPretty,
 * TestStepInvariantExpr, TestExprPretty, TestUnaryPretty; they run with
 * maxCharactersPerLine = 10), except TestDurationExprPretty, whose
 * duration arithmetic our parser does not accept. Then cases at the real
 * width of 100, and a property over all of them: the pretty text parses
 * back to a tree that prints (promql_format) as the original does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/arena.h"
#include "common/buf.h"
#include "query/promql.h"

typedef struct pcase {
    const char *in;
    const char *out;
} pcase_t;

/* prettier_test.go, maxCharactersPerLine = 10. */
static const pcase_t narrow[] = {
    /* TestAggregateExprPretty */
    { "sum(foo)", "sum(foo)" },
    { "sum by() (task:errors:rate10s{job=\"s\"})", "sum(\n  task:errors:rate10s{job=\"s\"}\n)" },
    { "sum without(job,foo) (task:errors:rate10s{job=\"s\"})",
      "sum without (job, foo) (\n  task:errors:rate10s{job=\"s\"}\n)" },
    { "sum(task:errors:rate10s{job=\"s\"}) without(job,foo)",
      "sum without (job, foo) (\n  task:errors:rate10s{job=\"s\"}\n)" },
    { "sum by(job,foo) (task:errors:rate10s{job=\"s\"})", "sum by (job, foo) (\n  task:errors:rate10s{job=\"s\"}\n)" },
    { "sum (task:errors:rate10s{job=\"s\"}) by(job,foo)", "sum by (job, foo) (\n  task:errors:rate10s{job=\"s\"}\n)" },
    { "topk(10, ask:errors:rate10s{job=\"s\"})", "topk(\n  10,\n  ask:errors:rate10s{job=\"s\"}\n)" },
    { "sum by(job,foo) (sum by(job,foo) (task:errors:rate10s{job=\"s\"}))",
      "sum by (job, foo) (\n  sum by (job, foo) (\n    task:errors:rate10s{job=\"s\"}\n  )\n)" },
    { "sum by(job,foo) (sum by(job,foo) (sum by(job,foo) (task:errors:rate10s{job=\"s\"})))",
      "sum by (job, foo) (\n  sum by (job, foo) (\n    sum by (job, foo) (\n      task:errors:rate10s{job=\"s\"}\n    "
      ")\n  "
      ")\n)" },
    { "sum by(job,foo)\n(sum by(job,foo) (task:errors:rate10s{job=\"s\"}))",
      "sum by (job, foo) (\n  sum by (job, foo) (\n    task:errors:rate10s{job=\"s\"}\n  )\n)" },
    { "sum by(job,foo)\n(sum(task:errors:rate10s{job=\"s\"}) without(job,foo))",
      "sum by (job, foo) (\n  sum without (job, foo) (\n    task:errors:rate10s{job=\"s\"}\n  )\n)" },
    { "sum by(job,foo) # Comment 1.\n(sum by(job,foo) ( # Comment 2.\ntask:errors:rate10s{job=\"s\"}))",
      "sum by (job, foo) (\n  sum by (job, foo) (\n    task:errors:rate10s{job=\"s\"}\n  )\n)" },
    /* TestBinaryExprPretty */
    { "a+b", "a + b" },
    { "a == bool 1", "  a\n== bool\n  1" },
    { "a + ignoring(job) b", "  a\n+ ignoring (job)\n  b" },
    { "foo_1 + foo_2", "  foo_1\n+\n  foo_2" },
    { "foo_1 + foo_2 + foo_3", "    foo_1\n  +\n    foo_2\n+\n  foo_3" },
    { "foo + baar + foo_3", "  foo + baar\n+\n  foo_3" },
    { "foo_1 + foo_2 + foo_3 + foo_4", "      foo_1\n    +\n      foo_2\n  +\n    foo_3\n+\n  foo_4" },
    { "foo_1 + ignoring(foo) foo_2 + ignoring(job) group_left foo_3 + on(instance) group_right foo_4",
      "      foo_1\n    + ignoring (foo)\n      foo_2\n  + ignoring (job) group_left ()\n    foo_3\n+ on (instance) "
      "group_right ()\n  foo_4" },
    /* TestCallExprPretty */
    { "rate(foo[1m])", "rate(\n  foo[1m]\n)" },
    { "sum_over_time(foo[1m])", "sum_over_time(\n  foo[1m]\n)" },
    { "rate(long_vector_selector[10m:1m] @ start() offset 1m)",
      "rate(\n  long_vector_selector[10m:1m] @ start() offset 1m\n)" },
    { "histogram_quantile(0.9, rate(foo[1m]))", "histogram_quantile(\n  0.9,\n  rate(\n    foo[1m]\n  )\n)" },
    { "max_over_time(rate(demo_api_request_duration_seconds_count[1m])[1m:] @ start() offset 1m)",
      "max_over_time(\n  rate(\n    demo_api_request_duration_seconds_count[1m]\n  )[1m:] @ start() offset 1m\n)" },
    { "label_replace(up{job=\"api-server\",service=\"a:c\"}, \"foo\", \"$1\", \"service\", \"(.*):.*\")",
      "label_replace(\n  up{job=\"api-server\",service=\"a:c\"},\n  \"foo\",\n  \"$1\",\n  \"service\",\n  "
      "\"(.*):.*\"\n)" },
    { "label_replace(label_replace(up{job=\"api-server\",service=\"a:c\"}, \"foo\", \"$1\", \"service\", "
      "\"(.*):.*\"), \"foo\", \"$1\", \"service\", \"(.*):.*\")",
      "label_replace(\n  label_replace(\n    up{job=\"api-server\",service=\"a:c\"},\n    \"foo\",\n    \"$1\",\n    "
      "\"service\",\n    \"(.*):.*\"\n  ),\n  \"foo\",\n  \"$1\",\n  \"service\",\n  \"(.*):.*\"\n)" },
    /* TestParenExprPretty */
    { "(foo)", "(foo)" },
    { "(_foo_long_)", "(\n  _foo_long_\n)" },
    { "((foo_long))", "(\n  (foo_long)\n)" },
    { "((_foo_long_))", "(\n  (\n    _foo_long_\n  )\n)" },
    { "(((foo_long)))", "(\n  (\n    (foo_long)\n  )\n)" },
    /* TestStepInvariantExpr */
    { "a @ 1", "a @ 1.000" },
    { "a @ start()", "a @ start()" },
    { "vector_selector @ start()", "vector_selector @ start()" },
    /* TestExprPretty */
    { "(1 + 2)", "(1 + 2)" },
    { "(foo + bar)", "(\n  foo + bar\n)" },
    { "(foo_long + bar_long)", "(\n    foo_long\n  +\n    bar_long\n)" },
    { "(foo_long + bar_long + bar_2_long)", "(\n      foo_long\n    +\n      bar_long\n  +\n    bar_2_long\n)" },
    { "((foo_long + bar_long) + bar_2_long)",
      "(\n    (\n        foo_long\n      +\n        bar_long\n    )\n  +\n    bar_2_long\n)" },
    { "(1111 + 2222)", "(\n    1111\n  +\n    2222\n)" },
    { "(sum_over_time(foo[1m]))", "(\n  sum_over_time(\n    foo[1m]\n  )\n)" },
    { "histogram_quantile(0.9, rate(foo[1m] @ start()))",
      "histogram_quantile(\n  0.9,\n  rate(\n    foo[1m] @ start()\n  )\n)" },
    { "(label_replace(up{job=\"api-server\",service=\"a:c\"}, \"foo\", \"$1\", \"service\", \"(.*):.*\"))",
      "(\n  label_replace(\n    up{job=\"api-server\",service=\"a:c\"},\n    \"foo\",\n    \"$1\",\n    \"service\",\n "
      "   "
      "\"(.*):.*\"\n  )\n)" },
    { "(label_replace(label_replace(up{job=\"api-server\",service=\"a:c\"}, \"foo\", \"$1\", \"service\", "
      "\"(.*):.*\"), \"foo\", \"$1\", \"service\", \"(.*):.*\"))",
      "(\n  label_replace(\n    label_replace(\n      up{job=\"api-server\",service=\"a:c\"},\n      \"foo\",\n      "
      "\"$1\",\n      \"service\",\n      \"(.*):.*\"\n    ),\n    \"foo\",\n    \"$1\",\n    \"service\",\n    "
      "\"(.*):.*\"\n  )\n)" },
    { "(label_replace(label_replace((up{job=\"api-server\",service=\"a:c\"}), \"foo\", \"$1\", \"service\", "
      "\"(.*):.*\"), \"foo\", \"$1\", \"service\", \"(.*):.*\"))",
      "(\n  label_replace(\n    label_replace(\n      (\n        up{job=\"api-server\",service=\"a:c\"}\n      ),\n    "
      "  "
      "\"foo\",\n      \"$1\",\n      \"service\",\n      \"(.*):.*\"\n    ),\n    \"foo\",\n    \"$1\",\n    "
      "\"service\",\n    \"(.*):.*\"\n  )\n)" },
    { "(node_filesystem_avail_bytes{job=\"node\",fstype!=\"\"} / node_filesystem_size_bytes{job=\"node\",fstype!=\"\"} "
      "* 100 < 40 and predict_linear(node_filesystem_avail_bytes{job=\"node\",fstype!=\"\"}[6h], 24*60*60) < 0 and "
      "node_filesystem_readonly{job=\"node\",fstype!=\"\"} == 0)",
      "(\n            node_filesystem_avail_bytes{fstype!=\"\",job=\"node\"}\n          /\n            "
      "node_filesystem_size_bytes{fstype!=\"\",job=\"node\"}\n        *\n          100\n      <\n        40\n    "
      "and\n        predict_linear(\n          node_filesystem_avail_bytes{fstype!=\"\",job=\"node\"}[6h],\n          "
      "  24 * 60\n          *\n            60\n        )\n      <\n        0\n  and\n      "
      "node_filesystem_readonly{fstype!=\"\",job=\"node\"}\n    ==\n      0\n)" },
    { "(node_filesystem_avail_bytes{job=\"node\",fstype!=\"\"} / node_filesystem_size_bytes{job=\"node\",fstype!=\"\"} "
      "* 100 < 20 and predict_linear(node_filesystem_avail_bytes{job=\"node\",fstype!=\"\"}[6h], 4*60*60) < 0 and "
      "node_filesystem_readonly{job=\"node\",fstype!=\"\"} == 0)",
      "(\n            node_filesystem_avail_bytes{fstype!=\"\",job=\"node\"}\n          /\n            "
      "node_filesystem_size_bytes{fstype!=\"\",job=\"node\"}\n        *\n          100\n      <\n        20\n    "
      "and\n        predict_linear(\n          node_filesystem_avail_bytes{fstype!=\"\",job=\"node\"}[6h],\n          "
      "  4 * 60\n          *\n            60\n        )\n      <\n        0\n  and\n      "
      "node_filesystem_readonly{fstype!=\"\",job=\"node\"}\n    ==\n      0\n)" },
    { "(node_timex_offset_seconds > 0.05 and deriv(node_timex_offset_seconds[5m]) >= 0) or (node_timex_offset_seconds "
      "< -0.05 and deriv(node_timex_offset_seconds[5m]) <= 0)",
      "  (\n        node_timex_offset_seconds\n      >\n        0.05\n    and\n        deriv(\n          "
      "node_timex_offset_seconds[5m]\n        )\n      >=\n        0\n  )\nor\n  (\n        "
      "node_timex_offset_seconds\n      <\n        -0.05\n    and\n        deriv(\n          "
      "node_timex_offset_seconds[5m]\n        )\n      <=\n        0\n  )" },
    { "1 - ((node_memory_MemAvailable_bytes{job=\"node\"} or (node_memory_Buffers_bytes{job=\"node\"} + "
      "node_memory_Cached_bytes{job=\"node\"} + node_memory_MemFree_bytes{job=\"node\"} + "
      "node_memory_Slab_bytes{job=\"node\"}) ) / node_memory_MemTotal_bytes{job=\"node\"})",
      "  1\n-\n  (\n      (\n          node_memory_MemAvailable_bytes{job=\"node\"}\n        or\n          (\n    "
      "              node_memory_Buffers_bytes{job=\"node\"}\n                +\n                  "
      "node_memory_Cached_bytes{job=\"node\"}\n              +\n                "
      "node_memory_MemFree_bytes{job=\"node\"}\n            +\n              node_memory_Slab_bytes{job=\"node\"}\n "
      "         )\n      )\n    /\n      node_memory_MemTotal_bytes{job=\"node\"}\n  )" },
    { "min by (job, integration) (rate(alertmanager_notifications_failed_total{job=\"alertmanager\", "
      "integration=~\".*\"}[5m]) / rate(alertmanager_notifications_total{job=\"alertmanager\", "
      "integration=\"~.*\"}[5m])) > 0.01",
      "  min by (job, integration) (\n      rate(\n        "
      "alertmanager_notifications_failed_total{integration=~\".*\",job=\"alertmanager\"}[5m]\n      )\n    /\n      "
      "rate(\n        alertmanager_notifications_total{integration=\"~.*\",job=\"alertmanager\"}[5m]\n      )\n  "
      ")\n>\n  0.01" },
    { "(count by (job) (changes(process_start_time_seconds{job=\"alertmanager\"}[10m]) > 4) / count by (job) "
      "(up{job=\"alertmanager\"})) >= 0.5",
      "  (\n      count by (job) (\n          changes(\n            "
      "process_start_time_seconds{job=\"alertmanager\"}[10m]\n          )\n        >\n          4\n      )\n    /\n "
      "     count by (job) (\n        up{job=\"alertmanager\"}\n      )\n  )\n>=\n  0.5" },
    /* TestUnaryPretty */
    { "-1", "-1" },
    { "-vector_selector", "-vector_selector" },
    { "(-vector_selector)", "(\n  -vector_selector\n)" },
    { "-histogram_quantile(0.9,rate(foo[1m]))", "-histogram_quantile(\n  0.9,\n  rate(\n    foo[1m]\n  )\n)" },
    { "-histogram_quantile(0.99, sum by (le) (rate(foo[1m])))",
      "-histogram_quantile(\n  0.99,\n  sum by (le) (\n    rate(\n      foo[1m]\n    )\n  )\n)" },
    { "-histogram_quantile(0.9, -rate(foo[1m] @ start()))",
      "-histogram_quantile(\n  0.9,\n  -rate(\n    foo[1m] @ start()\n  )\n)" },
    { "(-histogram_quantile(0.9, -rate(foo[1m] @ start())))",
      "(\n  -histogram_quantile(\n    0.9,\n    -rate(\n      foo[1m] @ start()\n    )\n  )\n)" },
};

/* At Prometheus' real width of 100 (these follow from the same rules). */
static const pcase_t wide[] = {
    { "sum by (job) (rate(http_requests_total[5m]))", "sum by (job) (rate(http_requests_total[5m]))" },
    { "histogram_quantile(0.99, sum by (le, job) (rate(http_request_duration_seconds_bucket{job=\"api\"}[5m])))",
      "histogram_quantile(\n  0.99,\n  sum by (le, job) "
      "(rate(http_request_duration_seconds_bucket{job=\"api\"}[5m]))\n)" },
    { "sum by (namespace) (rate(container_cpu_usage_seconds_total{namespace=~\"kube-.*\"}[5m])) / on (namespace) "
      "group_left sum by (namespace) (kube_pod_container_resource_requests{resource=\"cpu\"})",
      "  sum by (namespace) (rate(container_cpu_usage_seconds_total{namespace=~\"kube-.*\"}[5m]))\n/ on (namespace) "
      "group_left ()\n  sum by (namespace) (kube_pod_container_resource_requests{resource=\"cpu\"})" },
    { "max_over_time(rate(some_really_quite_long_metric_name_total{with=\"labels\",and=\"more labels\"}[1m])[30m:1m]) "
      "> 1",
      /* A subquery that fits is not indented: Prometheus' SubqueryExpr.Pretty. */
      "  max_over_time(\nrate(some_really_quite_long_metric_name_total{and=\"more labels\",with=\"labels\"}[1m])"
      "[30m:1m]\n  )\n>\n  1" },
};

static void check(const pcase_t *c, size_t width)
{
    arena_t *a = arena_create(1 << 14);
    promql_node_t *n = NULL;
    promql_error_t err;
    if (promql_parse(c->in, strlen(c->in), a, &n, &err) != 0) {
        fail_msg("parse of %s: %s", c->in, err.msg);
    }
    buf_t got = { 0 };
    promql_pretty_width(n, width, &got);
    if (strcmp((const char *)got.data, c->out) != 0) {
        fail_msg("pretty(%s, %zu):\n--- got\n%s\n--- want\n%s", c->in, width, got.data, c->out);
    }
    /* The pretty text means the same query. */
    buf_t once = { 0 }, again = { 0 };
    promql_format(n, &once);
    promql_node_t *n2 = NULL;
    if (promql_parse((const char *)got.data, got.len, a, &n2, &err) != 0) {
        fail_msg("re-parse of the pretty form of %s: %s", c->in, err.msg);
    }
    promql_format(n2, &again);
    assert_string_equal(once.data, again.data);
    promql_release(n);
    promql_release(n2);
    buf_fini(&got);
    buf_fini(&once);
    buf_fini(&again);
    arena_destroy(a);
}

static void test_prometheus_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(narrow) / sizeof(narrow[0]); i++) {
        check(&narrow[i], 10);
    }
}

static void test_width_100(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++) {
        check(&wide[i], PROMQL_PRETTY_WIDTH);
    }
    /* promql_pretty is the width-100 form. */
    arena_t *a = arena_create(4096);
    promql_node_t *n = NULL;
    promql_error_t err;
    assert_int_equal(promql_parse(wide[1].in, strlen(wide[1].in), a, &n, &err), 0);
    buf_t got = { 0 };
    promql_pretty(n, &got);
    assert_string_equal(got.data, wide[1].out);
    promql_release(n);
    buf_fini(&got);
    arena_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prometheus_cases),
        cmocka_unit_test(test_width_100),
    };
    return cmocka_run_group_tests_name("promql_pretty", tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for agent/agent_ship.c and agent/agent_rw.c against a receiver
 * on 127.0.0.1 that decodes every request with protobuf-c: samples and
 * labels arrive exactly; 5xx and 429 are retried until accepted; other
 * 4xx are dropped and counted; a receiver that is down loses nothing
 * (the spool carries the batches into a new shipper); per-series order
 * holds across shards. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/agent_int.h"
#include "common/compress.h"
#include "common/hash.h"
#include "common/httpd.h"
#include "common/mem.h"
#include "remote.pb-c.h"

#define MAXS 4096

typedef struct rx {
    pthread_mutex_t mu;
    int fail_next; /* answer the next requests with fail_code */
    int fail_code;
    int requests;
    size_t n;
    char series[MAXS][96]; /* "name{a=b} ts" per received sample, in arrival order */
    double value[MAXS];
    bool headers_ok;
    char auth[128], org[64]; /* last Authorization and X-Scope-OrgID */
} rx_t;

static void rx_handler(void *ctx, http_req_t *req, http_resp_t *resp)
{
    rx_t *rx = ctx;
    pthread_mutex_lock(&rx->mu);
    rx->requests++;
    if (rx->fail_next > 0) {
        rx->fail_next--;
        int code = rx->fail_code;
        pthread_mutex_unlock(&rx->mu);
        if (code == 429) {
            http_resp_header(resp, "Retry-After", "0");
        }
        http_resp_text(resp, code, "injected failure %d", code);
        return;
    }
    const char *ce = http_req_header(req, "Content-Encoding");
    const char *rv = http_req_header(req, "X-Prometheus-Remote-Write-Version");
    rx->headers_ok = ce && strcmp(ce, "snappy") == 0 && rv && strcmp(rv, "0.1.0") == 0;
    const char *au = http_req_header(req, "Authorization"), *org = http_req_header(req, "X-Scope-OrgID");
    snprintf(rx->auth, sizeof(rx->auth), "%s", au ? au : "");
    snprintf(rx->org, sizeof(rx->org), "%s", org ? org : "");
    size_t len = 0;
    const uint8_t *body = http_req_body(req, &len);
    buf_t raw;
    buf_init(&raw);
    assert_int_equal(decompress_snappy(body, len, 1 << 26, &raw), COMPRESS_OK);
    Prometheus__WriteRequest *wr = prometheus__write_request__unpack(NULL, raw.len, raw.data);
    assert_non_null(wr);
    for (size_t i = 0; i < wr->n_timeseries; i++) {
        const Prometheus__TimeSeries *ts = wr->timeseries[i];
        assert_int_equal(ts->n_samples, 1);
        char *dst = rx->series[rx->n];
        size_t o = 0;
        for (size_t j = 0; j < ts->n_labels; j++) {
            o += (size_t)snprintf(dst + o, 96 - o, "%s%.*s=%.*s", j ? "," : "", (int)ts->labels[j]->name.len,
                                  (const char *)ts->labels[j]->name.data, (int)ts->labels[j]->value.len,
                                  (const char *)ts->labels[j]->value.data);
        }
        snprintf(dst + o, 96 - o, " %lld", (long long)ts->samples[0]->timestamp);
        rx->value[rx->n] = ts->samples[0]->value;
        rx->n++;
    }
    prometheus__write_request__free_unpacked(wr, NULL);
    buf_fini(&raw);
    pthread_mutex_unlock(&rx->mu);
    resp->status = 204;
}

typedef struct fx {
    char dir[64];
    rx_t rx;
    httpd_t *http;
    char url[64];
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/pharos-ship-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    pthread_mutex_init(&f->rx.mu, NULL);
    static const httpd_route_t routes[] = { { .method = "POST", .path = "/api/v1/write", .fn = rx_handler } };
    httpd_opts_t o = { .listen = "127.0.0.1:0", .routes = routes, .nroutes = 1, .ctx = &f->rx };
    char err[256];
    assert_int_equal(httpd_start(&o, &f->http, err, sizeof(err)), 0);
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u/api/v1/write", httpd_port(f->http));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    httpd_stop(f->http);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    pthread_mutex_destroy(&f->rx.mu);
    free(f);
    return 0;
}

static shipper_t *new_shipper(const fx_t *f, const char *url, uint32_t shards, uint32_t max_samples)
{
    ship_opts_t o = { .url = url,
                      .dir = f->dir,
                      .shards = shards,
                      .max_bytes = 1 << 20,
                      .max_samples_per_send = max_samples,
                      .batch_deadline_ms = 0,
                      .min_backoff_ms = 5,
                      .max_backoff_ms = 20,
                      .timeout_ms = 2000 };
    shipper_t *sh = NULL;
    char err[256];
    assert_int_equal(ship_create(&o, &sh, err, sizeof(err)), 0);
    return sh;
}

/* Queue n samples of series s<i % nseries>, value i, timestamp 1000 + i. */
static void add_samples(shipper_t *sh, int first, int n, int nseries)
{
    for (int i = first; i < first + n; i++) {
        char v[16];
        snprintf(v, sizeof(v), "%d", i % nseries);
        label_t ls[3] = { { STR_LIT("__name__"), STR_LIT("m") },
                          { STR_LIT("job"), STR_LIT("node") },
                          { STR_LIT("s"), str_cstr(v) } };
        ship_add(sh, ls, 3, labels_hash(ls, 3), i, 1000 + i, 0);
    }
    ship_flush(sh, 0, true);
}

static void wait_received(rx_t *rx, size_t n)
{
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&rx->mu);
        size_t got = rx->n;
        pthread_mutex_unlock(&rx->mu);
        if (got >= n) {
            return;
        }
        usleep(10000);
    }
    fail_msg("received %zu of %zu samples", rx->n, n);
}

/* Every value 0..n-1 received exactly once, each series in order. */
static void check_exactly_once(const rx_t *rx, int n, int nseries)
{
    assert_int_equal(rx->n, (size_t)n);
    int *seen = calloc((size_t)n, sizeof(int));
    long long *last = calloc((size_t)nseries, sizeof(long long));
    for (size_t i = 0; i < rx->n; i++) {
        int v = (int)rx->value[i];
        assert_true(v >= 0 && v < n);
        seen[v]++;
        char want[96];
        snprintf(want, sizeof(want), "__name__=m,job=node,s=%d %d", v % nseries, 1000 + v);
        assert_string_equal(rx->series[i], want);
        assert_true(1000 + v > last[v % nseries]);
        last[v % nseries] = 1000 + v;
    }
    for (int v = 0; v < n; v++) {
        assert_int_equal(seen[v], 1);
    }
    free(seen);
    free(last);
}

static void test_delivers_in_order(void **state)
{
    fx_t *f = *state;
    shipper_t *sh = new_shipper(f, f->url, 3, 7);
    add_samples(sh, 0, 500, 13);
    wait_received(&f->rx, 500);
    ship_stats_t st;
    ship_stats(sh, &st);
    ship_destroy(sh, 1000);
    check_exactly_once(&f->rx, 500, 13);
    assert_true(f->rx.headers_ok);
    assert_int_equal(st.dropped_rejected + st.dropped_spool_full, 0);
}

static void test_retries_5xx_and_429(void **state)
{
    fx_t *f = *state;
    f->rx.fail_next = 3;
    f->rx.fail_code = 503;
    shipper_t *sh = new_shipper(f, f->url, 1, 100);
    add_samples(sh, 0, 50, 5);
    wait_received(&f->rx, 50);
    pthread_mutex_lock(&f->rx.mu);
    f->rx.fail_next = 2;
    f->rx.fail_code = 429;
    pthread_mutex_unlock(&f->rx.mu);
    add_samples(sh, 50, 50, 5);
    wait_received(&f->rx, 100);
    ship_stats_t st;
    ship_stats(sh, &st);
    ship_destroy(sh, 1000);
    check_exactly_once(&f->rx, 100, 5);
    /* Every injected failure was answered, and each one was retried (a
     * loaded machine may add a timeout or two). */
    assert_int_equal(f->rx.fail_next, 0);
    assert_true(st.retries >= 5);
    assert_int_equal(st.sent_samples, 100);
}

static void test_4xx_dropped_and_counted(void **state)
{
    fx_t *f = *state;
    f->rx.fail_next = 1;
    f->rx.fail_code = 400;
    shipper_t *sh = new_shipper(f, f->url, 1, 10);
    add_samples(sh, 0, 30, 3); /* three batches of 10: the first is rejected */
    wait_received(&f->rx, 20);
    ship_stats_t st;
    for (int i = 0; i < 100; i++) {
        ship_stats(sh, &st);
        if (st.sent_samples == 20) {
            break;
        }
        usleep(10000);
    }
    ship_destroy(sh, 1000);
    assert_int_equal(st.dropped_rejected, 10);
    assert_int_equal(st.sent_samples, 20);
    assert_int_equal(st.retries, 0);
    assert_int_equal(f->rx.n, 20);
    assert_int_equal((int)f->rx.value[0], 10);
}

static void test_outage_survives_restart(void **state)
{
    fx_t *f = *state;
    /* Nothing listens on this port: every send fails to connect. */
    char down[64];
    snprintf(down, sizeof(down), "http://127.0.0.1:1/api/v1/write");
    shipper_t *sh = new_shipper(f, down, 2, 25);
    add_samples(sh, 0, 200, 11);
    usleep(100000);
    ship_stats_t st;
    ship_stats(sh, &st);
    assert_true(st.retries > 0);
    assert_int_equal(st.sent_samples, 0);
    assert_true(st.spool_batches >= 8);
    ship_destroy(sh, 50); /* gives up: the batches stay spooled */
    /* The same spool directory, now pointed at the live receiver. */
    sh = new_shipper(f, f->url, 2, 25);
    wait_received(&f->rx, 200);
    ship_destroy(sh, 1000);
    check_exactly_once(&f->rx, 200, 11);
}

static void test_encoding_escapes_and_values(void **state)
{
    fx_t *f = *state;
    shipper_t *sh = new_shipper(f, f->url, 1, 100);
    label_t ls[2] = { { STR_LIT("__name__"), STR_LIT("x") }, { STR_LIT("v"), STR_LIT("a\"b\\\n\xc3\xa9") } };
    ship_add(sh, ls, 2, 1, -1.5e300, -5, 0);
    ship_add(sh, ls, 2, 1, 0.1, INT64_MAX / 2, 0);
    ship_flush(sh, 0, true);
    wait_received(&f->rx, 2);
    ship_destroy(sh, 1000);
    assert_string_equal(f->rx.series[0], "__name__=x,v=a\"b\\\n\xc3\xa9 -5");
    assert_true(f->rx.value[0] == -1.5e300);
    char want[96];
    snprintf(want, sizeof(want), "__name__=x,v=a\"b\\\n\xc3\xa9 %lld", (long long)(INT64_MAX / 2));
    assert_string_equal(f->rx.series[1], want);
    assert_true(f->rx.value[1] == 0.1);
}

/* Once its buffers have grown, queueing and spooling allocate nothing
 * through mem_* (the store is down, so the senders only retry). */
static void test_steady_state_allocates_nothing(void **state)
{
    fx_t *f = *state;
    shipper_t *sh = new_shipper(f, "http://127.0.0.1:1/api/v1/write", 2, 300);
    for (int round = 0; round < 3; round++) {
        add_samples(sh, round * 1000, 1000, 97);
    }
    usleep(50000);
    size_t before = mem_used();
    for (int round = 3; round < 10; round++) {
        add_samples(sh, round * 1000, 1000, 97);
    }
    usleep(50000);
    assert_int_equal(mem_used(), before);
    ship_stats_t st;
    ship_stats(sh, &st);
    assert_int_equal(st.queued_samples, 10000);
    ship_destroy(sh, 0);
}

/* An endpoint's credentials and headers go with every request. */
static void test_auth_headers(void **state)
{
    fx_t *f = *state;
    char tok[128];
    snprintf(tok, sizeof(tok), "%s/token", f->dir);
    FILE *fp = fopen(tok, "w");
    assert_non_null(fp);
    fputs("tok-123\n", fp);
    fclose(fp);
    char *hv[] = { "X-Scope-OrgID", "team-a" };
    ship_opts_t o = { .url = f->url,
                      .dir = f->dir,
                      .shards = 1,
                      .max_bytes = 1 << 20,
                      .max_samples_per_send = 100,
                      .min_backoff_ms = 5,
                      .max_backoff_ms = 20,
                      .timeout_ms = 2000,
                      .auth = { .bearer_token_file = tok, .headers = { hv, 2 } } };
    shipper_t *sh = NULL;
    char err[256];
    assert_int_equal(ship_create(&o, &sh, err, sizeof(err)), 0);
    add_samples(sh, 0, 10, 2);
    wait_received(&f->rx, 10);
    ship_destroy(sh, 1000);
    assert_string_equal(f->rx.auth, "Bearer tok-123");
    assert_string_equal(f->rx.org, "team-a");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_delivers_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retries_5xx_and_429, setup, teardown),
        cmocka_unit_test_setup_teardown(test_4xx_dropped_and_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outage_survives_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encoding_escapes_and_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_steady_state_allocates_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auth_headers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for agent/agent_logs.c (the log pipeline) with the shared
 * shipper and spool (agent_ship.c, agent_spool.c, kind SHIP_LOKI), against
 * a Loki receiver on 127.0.0.1 that decodes every push with pharos' own
 * decoder: the request carries Content-Type application/x-protobuf and
 * no Content-Encoding; a store that fails every request never advances
 * the positions; the spooled batches survive a restart and are sent, and
 * only then are positions saved (ack before persist); a restart resumes
 * after what was acknowledged; a 4xx-rejected batch is dropped, counted,
 * and moves the positions on; the journal cursor is saved after the ack
 * and a restart skips exactly the entries shipped. */
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

#include "agent/agent.h"
#include "agent/agent_int.h"
#include "coll_testlib.h"
#include "common/arena.h"
#include "common/httpd.h"
#include "logs/logs.h"

#define JREMOTE "/usr/lib/systemd/systemd-journal-remote"
#define JDATA PHAROS_TEST_DATA "/agent/journal/"
#define MAXL 4096

typedef struct rx {
    pthread_mutex_t mu;
    int fail_code; /* answer every request with this (0: accept) */
    int requests;
    bool headers_ok;
    size_t n;
    char *lines[MAXL];
    char labels[MAXL][200];
} rx_t;

static void rx_handler(void *ctx, http_req_t *req, http_resp_t *resp)
{
    rx_t *rx = ctx;
    pthread_mutex_lock(&rx->mu);
    rx->requests++;
    if (rx->fail_code) {
        int code = rx->fail_code;
        pthread_mutex_unlock(&rx->mu);
        http_resp_text(resp, code, "injected failure %d", code);
        return;
    }
    const char *ct = http_req_header(req, "Content-Type"), *ce = http_req_header(req, "Content-Encoding");
    rx->headers_ok = ct && strcmp(ct, "application/x-protobuf") == 0 && ce == NULL;
    size_t len = 0;
    const uint8_t *body = http_req_body(req, &len);
    arena_t *arena = arena_create(0);
    logs_push_t p;
    logs_push_limits_t lim = { 0 };
    char err[256];
    assert_int_equal(
        logs_push_decode(LOGS_PUSH_PROTOBUF, LOGS_PUSH_IDENTITY, body, len, &lim, 0, arena, &p, err, sizeof(err)),
        LOGS_PUSH_OK);
    for (size_t s = 0; s < p.nstreams; s++) {
        buf_t lab = { 0 };
        labels_format(p.streams[s].labels, p.streams[s].nlabels, &lab);
        for (size_t e = 0; e < p.streams[s].nentries && rx->n < MAXL; e++) {
            str_t l = p.streams[s].entries[e].line;
            rx->lines[rx->n] = strndup(l.p, l.len);
            snprintf(rx->labels[rx->n], sizeof(rx->labels[0]), "%s", (const char *)lab.data);
            rx->n++;
        }
        buf_fini(&lab);
    }
    arena_destroy(arena);
    pthread_mutex_unlock(&rx->mu);
    resp->status = 204;
}

typedef struct fx {
    char dir[256];
    rx_t rx;
    httpd_t *http;
    char url[96];
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof(*f));
    if (coll_test_mkdtemp(f->dir, sizeof(f->dir), "pharos-logs") != 0) {
        return -1;
    }
    pthread_mutex_init(&f->rx.mu, NULL);
    static const httpd_route_t routes[] = { { .method = "POST", .path = "/loki/api/v1/push", .fn = rx_handler } };
    httpd_opts_t o = { .listen = "127.0.0.1:0", .routes = routes, .nroutes = 1, .ctx = &f->rx };
    char err[256];
    assert_int_equal(httpd_start(&o, &f->http, err, sizeof(err)), 0);
    snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%u/loki/api/v1/push", httpd_port(f->http));
    coll_test_mkdir(f->dir, "logs");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    httpd_stop(f->http);
    for (size_t i = 0; i < f->rx.n; i++) {
        free(f->rx.lines[i]);
    }
    coll_test_rmtree(f->dir, "");
    pthread_mutex_destroy(&f->rx.mu);
    free(f);
    return 0;
}

/* Load a configuration: logs to f->url, files under dir/logs, extra flags. */
static void load_cfg(fx_t *f, agent_config_t *cfg, const char *extra)
{
    char yml[1024], file[300], a1[400], a2[400], a3[128];
    snprintf(yml, sizeof(yml), "logs:\n  files:\n    - path: %s/logs/*.log\n      labels: {app: demo}\n", f->dir);
    coll_test_put(f->dir, "agent.yml", yml, strlen(yml));
    snprintf(file, sizeof(file), "--config.file=%s/agent.yml", f->dir);
    snprintf(a1, sizeof(a1), "--storage.path=%s/data", f->dir);
    snprintf(a2, sizeof(a2), "--logs.url=%s", f->url);
    snprintf(a3, sizeof(a3), "%s", extra ? extra : "--log.level=info");
    char *argv[] = { "pharos-agent",
                     file,
                     a1,
                     a2,
                     "--logs.batch-deadline=0s",
                     "--logs.max-entries-per-send=10",
                     "--logs.poll-interval=20ms",
                     "--remote-write.min-backoff=5ms",
                     "--remote-write.max-backoff=20ms",
                     "--logs.journal.max-age=0s",
                     a3,
                     NULL };
    char err[512];
    if (agent_config_load(11, argv, cfg, stdout, err, sizeof(err)) != AGENT_CFG_OK) {
        fail_msg("config: %s", err);
    }
}

static size_t rx_count(rx_t *rx)
{
    pthread_mutex_lock(&rx->mu);
    size_t n = rx->n;
    pthread_mutex_unlock(&rx->mu);
    return n;
}

static void wait_lines(rx_t *rx, size_t n)
{
    for (int i = 0; i < 1000 && rx_count(rx) < n; i++) {
        usleep(10000);
    }
    if (rx_count(rx) < n) {
        fail_msg("received %zu of %zu lines", rx_count(rx), n);
    }
}

static void write_lines(fx_t *f, const char *rel, int from, int to)
{
    buf_t b = { 0 };
    for (int i = from; i < to; i++) {
        buf_printf(&b, "line-%05d\n", i);
    }
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
    FILE *fp = fopen(path, "a");
    assert_non_null(fp);
    fwrite(b.data, 1, b.len, fp);
    fclose(fp);
    buf_fini(&b);
}

/* The saved positions of the single Loki endpoint (empty when none). */
static void read_positions(fx_t *f, agent_positions_t *p)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "ls %s/data/spool/logs-*/positions 2>/dev/null | head -1", f->dir);
    FILE *ls = popen(cmd, "r");
    char path[512] = "";
    if (fgets(path, sizeof(path), ls) == NULL) {
        path[0] = 0;
    }
    pclose(ls);
    path[strcspn(path, "\n")] = 0;
    agent_positions_init(p);
    if (path[0]) {
        buf_t scratch = { 0 };
        char err[256];
        assert_int_equal(agent_positions_load(p, path, &scratch, err, sizeof(err)), 0);
        buf_fini(&scratch);
    }
}

/* Every line-NNNNN for NNNNN in [0, n) received once, those below twice
 * twice (read again after a restart that found them unacknowledged). */
static void expect_times(rx_t *rx, int n, int twice)
{
    int *seen = calloc((size_t)n, sizeof(int));
    pthread_mutex_lock(&rx->mu);
    for (size_t i = 0; i < rx->n; i++) {
        int v = -1;
        assert_int_equal(sscanf(rx->lines[i], "line-%d", &v), 1);
        assert_true(v >= 0 && v < n);
        seen[v]++;
    }
    pthread_mutex_unlock(&rx->mu);
    for (int v = 0; v < n; v++) {
        if (seen[v] != (v < twice ? 2 : 1)) {
            fail_msg("line-%05d received %d times", v, seen[v]);
        }
    }
    free(seen);
}

static void test_failing_store_then_ack(void **state)
{
    fx_t *f = *state;
    f->rx.fail_code = 503;
    write_lines(f, "logs/a.log", 0, 35);
    agent_config_t cfg;
    load_cfg(f, &cfg, NULL);
    struct agent_logs *l = NULL;
    char err[512];
    assert_int_equal(agent_logs_create(&cfg, &l, err, sizeof(err)), 0);
    assert_non_null(l);
    for (int i = 0; i < 300; i++) {
        pthread_mutex_lock(&f->rx.mu);
        int r = f->rx.requests;
        pthread_mutex_unlock(&f->rx.mu);
        if (r >= 5) {
            break;
        }
        usleep(10000);
    }
    agent_logs_destroy(l, 0);
    /* Nothing acknowledged: nothing persisted. */
    agent_positions_t p;
    read_positions(f, &p);
    assert_int_equal(p.nfiles, 0);
    agent_positions_fini(&p);
    assert_int_equal(rx_count(&f->rx), 0);
    /* The store is back: a new agent sends the spooled batches, and reads
     * the file again from the last acknowledged position (none): at least
     * once, the store drops the exact duplicates. */
    pthread_mutex_lock(&f->rx.mu);
    f->rx.fail_code = 0;
    pthread_mutex_unlock(&f->rx.mu);
    assert_int_equal(agent_logs_create(&cfg, &l, err, sizeof(err)), 0);
    wait_lines(&f->rx, 70);
    write_lines(f, "logs/a.log", 35, 50);
    wait_lines(&f->rx, 85);
    usleep(100000);
    agent_logs_destroy(l, 1000);
    expect_times(&f->rx, 50, 35);
    assert_true(f->rx.headers_ok);
    assert_non_null(strstr(f->rx.labels[0], "app=\"demo\""));
    read_positions(f, &p);
    assert_int_equal(p.nfiles, 1);
    assert_int_equal(p.files[0].off, 50 * 11);
    agent_positions_fini(&p);
    /* A restart resumes after what was acknowledged. */
    write_lines(f, "logs/a.log", 50, 60);
    assert_int_equal(agent_logs_create(&cfg, &l, err, sizeof(err)), 0);
    wait_lines(&f->rx, 95);
    usleep(100000);
    agent_logs_destroy(l, 1000);
    expect_times(&f->rx, 60, 35);
    agent_config_free(&cfg);
}

static void test_rejected_moves_on(void **state)
{
    fx_t *f = *state;
    f->rx.fail_code = 400;
    write_lines(f, "logs/b.log", 0, 10);
    agent_config_t cfg;
    load_cfg(f, &cfg, NULL);
    struct agent_logs *l = NULL;
    char err[512];
    assert_int_equal(agent_logs_create(&cfg, &l, err, sizeof(err)), 0);
    agent_positions_t p;
    for (int i = 0; i < 300; i++) {
        read_positions(f, &p);
        bool done = p.nfiles == 1 && p.files[0].off == 110;
        agent_positions_fini(&p);
        if (done) {
            break;
        }
        usleep(10000);
    }
    msink_t s;
    msink_init(&s);
    agent_logs_metrics(l, &s);
    buf_t text = { 0 };
    agent_expo_write(&s, &text);
    assert_non_null(strstr((const char *)text.data, "pharos_agent_logs_entries_dropped_total{input=\"files\","
                                                    "reason=\"rejected\",url=\""));
    assert_non_null(strstr((const char *)text.data, "pharos_agent_logs_files_watched 1\n"));
    assert_non_null(strstr((const char *)text.data, "pharos_agent_dropped_log_entries_total{reason=\"rejected\""));
    buf_fini(&text);
    msink_fini(&s);
    agent_logs_destroy(l, 0);
    read_positions(f, &p);
    assert_int_equal(p.nfiles, 1);
    assert_int_equal(p.files[0].off, 110);
    agent_positions_fini(&p);
    agent_config_free(&cfg);
}

static void make_journal(const fx_t *f, const char *export_path)
{
    if (access(JREMOTE, X_OK) != 0) {
        print_message("skipped: %s not found\n", JREMOTE);
        skip();
    }
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "mkdir -p %s/j && %s -o %s/j/x.journal %s 2>/dev/null", f->dir, JREMOTE, f->dir,
             export_path);
    assert_int_equal(system(cmd), 0);
}

static void test_journal_cursor_after_ack(void **state)
{
    fx_t *f = *state;
    make_journal(f, JDATA "basic.export");
    char flag[400];
    snprintf(flag, sizeof(flag), "--journal.path=%s/j", f->dir);
    /* (the entries are from 2023: --logs.journal.max-age=0s is set by load_cfg) */
    agent_config_t cfg;
    load_cfg(f, &cfg, flag);
    assert_true(cfg.journal_enabled);
    f->rx.fail_code = 503;
    struct agent_logs *l = NULL;
    char err[512];
    assert_int_equal(agent_logs_create(&cfg, &l, err, sizeof(err)), 0);
    usleep(200000);
    agent_logs_destroy(l, 0);
    agent_positions_t p;
    read_positions(f, &p);
    assert_null(p.cursor); /* never acknowledged: no cursor saved */
    agent_positions_fini(&p);
    pthread_mutex_lock(&f->rx.mu);
    f->rx.fail_code = 0;
    pthread_mutex_unlock(&f->rx.mu);
    /* The spooled six, and the six read again (no cursor was saved). */
    assert_int_equal(agent_logs_create(&cfg, &l, err, sizeof(err)), 0);
    wait_lines(&f->rx, 12);
    usleep(100000);
    agent_logs_destroy(l, 1000);
    assert_int_equal(rx_count(&f->rx), 12);
    read_positions(f, &p);
    assert_non_null(p.cursor);
    assert_int_equal(p.cursor_ts_ns, 1700000006000000000);
    agent_positions_fini(&p);
    bool found = false;
    for (size_t i = 0; i < f->rx.n; i++) {
        found = found || (strstr(f->rx.labels[i], "job=\"systemd-journal\"") &&
                          strstr(f->rx.labels[i], "unit=\"sshd.service\"") && strstr(f->rx.labels[i], "app=") == NULL);
    }
    assert_true(found);
    /* More entries; a restart ships only those. */
    make_journal(f, JDATA "more.export");
    assert_int_equal(agent_logs_create(&cfg, &l, err, sizeof(err)), 0);
    usleep(500000);
    agent_logs_destroy(l, 1000);
    size_t total = rx_count(&f->rx);
    assert_int_equal(total, 15);
    for (size_t i = 12; i < total; i++) {
        for (size_t k = 0; k < 12; k++) {
            if (strcmp(f->rx.lines[i], f->rx.lines[k]) == 0 && strcmp(f->rx.labels[i], f->rx.labels[k]) == 0) {
                fail_msg("entry %zu re-sent after the restart: %s", k, f->rx.lines[k]);
            }
        }
    }
    agent_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_failing_store_then_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejected_moves_on, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_cursor_after_ack, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

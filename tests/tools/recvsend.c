/* SPDX-License-Identifier: Apache-2.0 */
/*
 * recvsend: drive one receiver from the command line, for the integration
 * tests that run real peers (tests/integration/alerts_email.sh,
 * alerts_alertmanager.sh).
 *
 *   recvsend recv <configs key> <config.yaml> <nfiring 0..2> [timeout ms]
 *     parse the YAML mapping in the file with the row of that key and
 *     send a fixed notification of group {alertname="PharosTest"} with
 *     two alerts, nfiring of them firing;
 *   recvsend am <base url> firing|resolved
 *     alerts_recv_am_post two alerts (PharosTest, instance a and b),
 *     firing (endsAt in 5 min) or resolved (endsAt now).
 *
 * Prints "status=<OK|RETRY|FAIL> code=<n> msg=<text>" and exits 0 (OK),
 * 1 (RETRY), 2 (FAIL) or 3 (usage or config error).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/alerts_int.h"
#include "common/mem.h"

#define L(a, b) ((label_t){ STR_LIT(a), STR_LIT(b) })

static int64_t now_ms(void *ctx)
{
    (void)ctx;
    pclock_t c = clock_real();
    return clock_now_ms(&c);
}

static int kv_get(void *ctx, const char *key, buf_t *val)
{
    (void)ctx;
    (void)key;
    (void)val;
    return 0;
}

static int kv_put(void *ctx, const char *key, const char *val)
{
    (void)ctx;
    (void)key;
    (void)val;
    return 0;
}

static int report(const alerts_send_result_t *res)
{
    static const char *const names[] = { "OK", "RETRY", "FAIL" };
    printf("status=%s code=%ld msg=%s\n", names[res->status], res->http_code, res->msg);
    return (int)res->status;
}

static int cmd_recv(const char *key, const char *path, int nfiring, long timeout)
{
    size_t nt = 0;
    const alerts_recv_type_t *types = alerts_recv_types(&nt);
    const alerts_recv_type_t *t = NULL;
    for (size_t i = 0; i < nt; i++) {
        if (strcmp(types[i].key, key) == 0) {
            t = &types[i];
        }
    }
    FILE *fp = fopen(path, "rb");
    if (!t || !fp) {
        fprintf(stderr, "recvsend: unknown receiver %s or unreadable %s\n", key, path);
        if (fp) {
            fclose(fp);
        }
        return 3;
    }
    yaml_parser_t p;
    yaml_document_t doc;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_file(&p, fp);
    if (!yaml_parser_load(&p, &doc)) {
        fprintf(stderr, "recvsend: %s: YAML error\n", path);
        yaml_parser_delete(&p);
        fclose(fp);
        return 3;
    }
    arena_t *a = arena_create(4096);
    buf_t err = { 0 };
    void *cfg = NULL;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    int rc = root ? t->parse(&doc, root, a, &cfg, &err) : -1;
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    fclose(fp);
    if (rc != 0) {
        fprintf(stderr, "recvsend: %s: %s\n", path, err.len ? (const char *)err.data : "empty");
        buf_fini(&err);
        arena_destroy(a);
        return 3;
    }
    label_t l1[] = { L("alertname", "PharosTest"), L("instance", "a:9100"), L("severity", "critical") };
    label_t l2[] = { L("alertname", "PharosTest"), L("instance", "b:9100"), L("severity", "critical") };
    label_t ann[] = { L("summary", "Latenz \xc3\xbc"
                                   "ber 1s") };
    label_t group[] = { L("alertname", "PharosTest") };
    int64_t now = now_ms(NULL);
    alerts_notif_alert_t al[2] = {
        { l1, 3, ann, 1, now - 60000, nfiring >= 1 ? 0 : now, "http://pharos:9090/graph?g0.expr=up", 0x1111,
          nfiring >= 1 },
        { l2, 3, ann, 1, now - 60000, nfiring >= 2 ? 0 : now, "http://pharos:9090/graph?g0.expr=up", 0x2222,
          nfiring >= 2 },
    };
    alerts_notification_t n = {
        .receiver = "team",
        .status = nfiring ? "firing" : "resolved",
        .group_key = "{}:{alertname=\"PharosTest\"}",
        .group_hash = 1,
        .group_labels = group,
        .ngroup_labels = 1,
        .common_annotations = ann,
        .ncommon_annotations = 1,
        .external_url = "http://pharos:9090",
        .alerts = al,
        .nalerts = 2,
        .nfiring = (size_t)nfiring,
        .now_ms = now,
    };
    label_t common[] = { L("alertname", "PharosTest"), L("severity", "critical") };
    n.common_labels = common;
    n.ncommon_labels = 2;
    alerts_recv_env_t env = {
        .kv = { kv_get, kv_put, NULL },
        .clock = { now_ms, NULL },
        .timeout_ms = timeout,
    };
    void *st = t->state_create(cfg);
    alerts_send_result_t res = { 0 };
    t->send(cfg, st, &env, &n, &res);
    t->state_destroy(st);
    buf_fini(&err);
    arena_destroy(a);
    return report(&res);
}

static int cmd_am(const char *url, bool firing)
{
    label_t l1[] = { L("alertname", "PharosTest"), L("instance", "a:9100"), L("severity", "critical") };
    label_t l2[] = { L("alertname", "PharosTest"), L("instance", "b:9100"), L("severity", "critical") };
    label_t ann[] = { L("summary", "latency high") };
    int64_t now = now_ms(NULL);
    int64_t end = firing ? now + 5 * 60000 : now;
    alerts_alert_t al[2] = {
        { l1, 3, ann, 1, now - 60000, end, "http://pharos:9090/graph?g0.expr=up" },
        { l2, 3, ann, 1, now - 60000, end, "http://pharos:9090/graph?g0.expr=up" },
    };
    httpc_t *c = httpc_create(5000);
    if (!c) {
        return 3;
    }
    alerts_send_result_t res = { 0 };
    alerts_recv_am_post(c, url, al, 2, &res);
    httpc_destroy(c);
    return report(&res);
}

int main(int argc, char **argv)
{
    if (argc >= 5 && strcmp(argv[1], "recv") == 0) {
        return cmd_recv(argv[2], argv[3], atoi(argv[4]), argc >= 6 ? atol(argv[5]) : 10000);
    }
    if (argc == 4 && strcmp(argv[1], "am") == 0) {
        return cmd_am(argv[2], strcmp(argv[3], "firing") == 0);
    }
    fprintf(stderr, "usage: recvsend recv <key> <config.yaml> <nfiring> [timeout ms]\n"
                    "       recvsend am <url> firing|resolved\n");
    return 3;
}

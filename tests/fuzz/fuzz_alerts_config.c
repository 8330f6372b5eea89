/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_alerts_config: libFuzzer target for alerts_amcfg_parse
 * (alerts/alerts_amcfg.c), which reads the Alertmanager-format config an
 * operator (or a reload) hands to pharosd, with the real receiver table.
 *
 * The input is the file text. Either the parse succeeds with a config
 * whose root route has a receiver, no matchers and a resolved receiver,
 * every route's repeat_interval >= group_interval > 0, and whose route
 * keys start with "{}"; or it fails with one non-empty error that starts
 * with the file name and no config. The routing of a fixed label set runs
 * on every accepted config.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/alerts_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_route(const amcfg_route_t *r)
{
    if (!r->recv || r->group_interval_ms <= 0 || r->repeat_interval_ms < r->group_interval_ms ||
        strncmp(r->key, "{}", 2) != 0) {
        fprintf(stderr, "bad route %s\n", r->key);
        abort();
    }
    for (size_t i = 0; i < r->nroutes; i++) {
        check_route(&r->routes[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t ntypes = 0;
    const alerts_recv_type_t *types = alerts_recv_types(&ntypes);
    amcfg_t *c = NULL;
    buf_t err = { 0 };
    int rc = alerts_amcfg_parse("am.yml", (const char *)data, size, types, ntypes, &c, &err);
    if (rc == 0) {
        if (!c || err.len != 0 || c->root->nmatchers != 0 || !*c->root->receiver) {
            abort();
        }
        check_route(c->root);
        label_t ls[] = { { STR_LIT("alertname"), STR_LIT("X") }, { STR_LIT("severity"), STR_LIT("page") } };
        const amcfg_route_t *out[16];
        size_t n = alerts_route_match(c->root, ls, 2, out, 16);
        if (n == 0) {
            abort();
        }
        buf_t key = { 0 };
        label_t gl[2];
        alerts_route_group_key(out[0], gl, alerts_route_group_labels(out[0], ls, 2, gl), &key);
        buf_fini(&key);
    } else if (rc != -1 || c || err.len == 0 || strncmp((const char *)err.data, "am.yml", 6) != 0) {
        fprintf(stderr, "bad failure: %s\n", err.len ? (const char *)err.data : "(empty)");
        abort();
    }
    alerts_amcfg_free(c);
    buf_fini(&err);
    return 0;
}

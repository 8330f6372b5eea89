/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server_export: /api/v1/export, VictoriaMetrics' JSON-lines format:
 *   {"metric":{"__name__":"up","job":"x"},"values":[1,0],"timestamps":[1700000000000,1700000015000]}
 * one series per line, so tests and tools read back exactly what was
 * stored. Finite values are JSON numbers (Go 'g' formatting, shortest
 * round-trip); the non-finite ones are strings: "NaN", "+Inf", "-Inf", and
 * the Prometheus stale marker as "StaleNaN" (its bit pattern is kept in
 * storage and shown apart from other NaNs). Several match[] select the
 * union: a series matching two selectors is written once.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/hash.h"
#include "common/hmap.h"
#include "common/json_out.h"
#include "common/arena.h"
#include "query/promql.h"
#include "server/server.h"

typedef struct export_ctx {
    buf_t *out;
    hmap_t seen; /* labels hash -> offset of the labels in keys */
    buf_t keys;  /* u32le length + canonical labels, per series written */
    buf_t key;
    bool dedupe;
} export_ctx_t;

static bool export_key_eq(void *vctx, uint64_t off)
{
    export_ctx_t *c = vctx;
    uint32_t len;
    memcpy(&len, c->keys.data + off, 4);
    return len == c->key.len && memcmp(c->keys.data + off + 4, c->key.data, len) == 0;
}

static void export_value(buf_t *out, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    if (bits == TSDB_STALE_NAN_BITS) {
        buf_puts(out, "\"StaleNaN\"");
    } else if (isnan(v)) {
        buf_puts(out, "\"NaN\"");
    } else if (isinf(v)) {
        buf_puts(out, v > 0 ? "\"+Inf\"" : "\"-Inf\"");
    } else {
        json_go_float(out, v, 'g');
    }
}

static int export_series(void *vctx, const label_t *ls, size_t nl, const int64_t *ts, const double *vs, size_t n)
{
    export_ctx_t *c = vctx;
    if (c->dedupe) {
        buf_reset(&c->key);
        labels_encode(ls, nl, &c->key);
        uint64_t h = labels_hash(ls, nl);
        uint64_t off;
        if (hmap_get(&c->seen, h, export_key_eq, c, &off)) {
            return 0;
        }
        hmap_put(&c->seen, h, c->keys.len);
        buf_put_u32le(&c->keys, (uint32_t)c->key.len);
        buf_append(&c->keys, c->key.data, c->key.len);
    }
    buf_t *out = c->out;
    buf_puts(out, "{\"metric\":");
    json_labels(out, ls, nl);
    buf_puts(out, ",\"values\":[");
    for (size_t i = 0; i < n; i++) {
        if (i) {
            buf_putc(out, ',');
        }
        export_value(out, vs[i]);
    }
    buf_puts(out, "],\"timestamps\":[");
    for (size_t i = 0; i < n; i++) {
        buf_printf(out, i ? ",%lld" : "%lld", (long long)ts[i]);
    }
    buf_puts(out, "]}\n");
    return 0;
}

int server_export(tsdb_t *db, const char *const *match, size_t nmatch, int64_t mint, int64_t maxt, buf_t *out,
                  char *err, size_t errlen)
{
    if (nmatch == 0) {
        snprintf(err, errlen, "missing match[] argument");
        return 400;
    }
    export_ctx_t c = { .out = out, .dedupe = nmatch > 1 };
    hmap_init(&c.seen);
    int status = 0;
    arena_t *a = arena_create(4096);
    for (size_t i = 0; i < nmatch && status == 0; i++) {
        promql_node_t *sel;
        promql_error_t perr;
        if (promql_parse_selector(match[i], strlen(match[i]), a, &sel, &perr) != 0) {
            snprintf(err, errlen, "%s", perr.msg);
            status = 400;
            break;
        }
        tsdb_select(db, sel->u.vs.matchers, sel->u.vs.nmatchers, mint, maxt, export_series, &c);
        promql_release(sel);
        arena_reset(a);
    }
    arena_destroy(a);
    hmap_fini(&c.seen);
    buf_fini(&c.key);
    buf_fini(&c.keys);
    return status;
}

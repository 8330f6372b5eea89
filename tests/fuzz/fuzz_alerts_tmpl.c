/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_alerts_tmpl: libFuzzer target for the alert template engine
 * (alerts/alerts_tmpl*.c), which parses and runs label and annotation
 * templates taken from rule files.
 *
 * The input is the template text. It is expanded as an alert field
 * (definitions prepended) with fixed data and a query callback answering
 * two fixed samples, so parsing, every function and range over query
 * results are reached. The output must stay within the configured bound
 * plus the error text; an error must start with "<error expanding
 * template: ". The input is also parsed alone: an error then must read
 * "template: fuzz:<line>: ...". Finally it is rendered as a notification
 * template (alerts_tmpl_notify: Alertmanager's data, functions and default
 * templates), plain and HTML-escaping, for a fixed group of a firing and
 * a resolved alert: an error must read "template: " and leave no output;
 * output stays under the renderer's bound (1 MiB).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/alerts.h"
#include "alerts/alerts_int.h"
#include "common/arena.h"
#include "common/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_L(n, v)                                                                                                     \
    {                                                                                                                  \
        { n, sizeof(n) - 1 },                                                                                          \
        {                                                                                                              \
            v, sizeof(v) - 1                                                                                           \
        }                                                                                                              \
    }
#define FZ_MAX_OUT 65536

static const label_t fz_labels[] = { FZ_L("__name__", "up"), FZ_L("instance", "h:9100"), FZ_L("job", "node") };
static const label_t fz_b[] = { FZ_L("instance", "b"), FZ_L("__value__", "7") };

static int fz_query(void *ctx, const char *q, size_t qlen, int64_t ts_ms, arena_t *a, alerts_tmpl_sample_t **out,
                    size_t *n, buf_t *err)
{
    (void)ctx, (void)ts_ms;
    if (qlen > 0 && q[0] == '!') {
        buf_puts(err, "bad query");
        return -1;
    }
    alerts_tmpl_sample_t *s = arena_alloc(a, 2 * sizeof(*s));
    s[0] = (alerts_tmpl_sample_t){ fz_b, 2, 7 };
    s[1] = (alerts_tmpl_sample_t){ fz_labels, 3, 0.25 };
    *out = s;
    *n = 2;
    return 0;
}

static const label_t fz_common[] = { FZ_L("alertname", "Fuzz"), FZ_L("job", "node") };
static const label_t fz_ann[] = { FZ_L("summary", "<b>&\"x\"") };
static const alerts_notif_alert_t fz_alerts[] = {
    { fz_labels, 3, fz_ann, 1, 1700000000123, 0, "http://p/g?x=1", 0x1234, true },
    { fz_common, 2, NULL, 0, 1700000000000, 1700000060000, "", 0xffffffffffffffffULL, false },
};

/* A notification render's contract: an error reads "template: " and
 * leaves no output; output stays under the renderer's bound (1 MiB). */
static void fz_check_notify(const char *what, int rc, const buf_t *out, const buf_t *err)
{
    if (rc != 0 && (out->len != 0 || err->len < 10 || memcmp(err->data, "template: ", 10) != 0)) {
        fprintf(stderr, "bad %s error: %.200s\n", what, err->data ? (char *)err->data : "");
        abort();
    }
    if (rc == 0 && out->len > (1u << 20) + 65536) {
        fprintf(stderr, "%s output over bound: %zu\n", what, out->len);
        abort();
    }
}

static void fz_notify(const char *text, size_t size)
{
    alerts_notification_t n = {
        .receiver = "team.ops",
        .status = "firing",
        .group_labels = fz_common,
        .ngroup_labels = 1,
        .common_labels = fz_common,
        .ncommon_labels = 2,
        .common_annotations = fz_ann,
        .ncommon_annotations = 1,
        .external_url = "http://am:9093",
        .alerts = fz_alerts,
        .nalerts = 2,
        .nfiring = 1,
        .now_ms = 1700000100000,
    };
    buf_t out = { 0 }, err = { 0 };
    fz_check_notify("notify", alerts_tmpl_notify("fuzz", text, size, &n, &out, &err), &out, &err);
    buf_reset(&out);
    buf_reset(&err);
    fz_check_notify("notify_html", alerts_tmpl_notify_html("fuzz", text, size, &n, &out, &err), &out, &err);
    buf_fini(&out);
    buf_fini(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16) {
        return 0;
    }
    char *text = malloc(size ? size : 1); /* exact size, unterminated: ASan sees overreads */
    if (size > 0) {
        memcpy(text, data, size);
    }
    alerts_tmpl_data_t d = {
        .labels = fz_labels,
        .nlabels = 3,
        .external_labels = fz_labels,
        .nexternal_labels = 1,
        .external_url = "http://example.org:9090/prom",
        .value = 1234.5,
        .eval_ms = 1700000000000,
        .query = fz_query,
        .max_output = FZ_MAX_OUT,
    };
    buf_t out = { 0 };
    int rc = alerts_tmpl_expand("__alert_Fuzz", text, size, &d, &out);
    if (rc != 0 && (out.len < 28 || memcmp(out.data, "<error expanding template: ", 27) != 0)) {
        fprintf(stderr, "bad error text: %.200s\n", (char *)out.data);
        abort();
    }
    if (rc == 0 && out.len > FZ_MAX_OUT + 64) {
        fprintf(stderr, "output over bound: %zu\n", out.len);
        abort();
    }
    buf_fini(&out);

    arena_t *a = arena_create(4096);
    buf_t err = { 0 };
    alerts_tmpl_t *t = NULL;
    if (alerts_tmpl_parse(a, "fuzz", text, size, &t, &err) != 0 &&
        (err.len < 15 || memcmp(err.data, "template: fuzz:", 15) != 0)) {
        fprintf(stderr, "bad parse error: %.200s\n", (char *)err.data);
        abort();
    }
    buf_fini(&err);
    arena_destroy(a);
    fz_notify(text, size);
    free(text);
    return 0;
}

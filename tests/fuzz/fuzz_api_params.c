/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_api_params: libFuzzer target for the Prometheus API's argument
 * parsers (query/api_prom_param.c), which read time=, start=, end=,
 * step=, timeout=, lookback_delta=, limit= and the label name of
 * /api/v1/label/<name>/values straight from HTTP requests.
 *
 * It also covers the Loki API's time parser (query/api_loki_param.c),
 * which reads start=, end= and time= of /loki/api/v1 requests.
 *
 * The first input byte picks the parser (mod 5: time, duration, limit,
 * label name, Loki time); the rest is the argument, NULs and all. Every parser must
 * either succeed with an empty error buffer or fail with a non-empty one
 * that starts as Prometheus' texts do. On success: a limit is >= 0 and
 * prints back to the same value; a time or duration given as a decimal
 * integer of seconds equals it times 1000 (ms) or 1e9 (ns) (Loki: 1e9); a decoded
 * label name is no longer than its input and decoding is idempotent for
 * names without the "U__" prefix. ASan and UBSan watch every read.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "query/logql.h"
#include "query/promql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(int rc, const buf_t *err, const char *prefix)
{
    if (rc == 0 && err->len != 0) {
        fprintf(stderr, "success with an error text: %.*s\n", (int)err->len, (const char *)err->data);
        abort();
    }
    if (rc != 0 && (err->len == 0 || (prefix && strncmp((const char *)err->data, prefix, strlen(prefix)) != 0))) {
        fprintf(stderr, "bad error text: %.*s\n", (int)err->len, err->data ? (const char *)err->data : "");
        abort();
    }
}

/* s[0..len) is [+-]?[0-9]{1,9}: [out] *v. */
static bool small_int(const char *s, size_t len, int64_t *v)
{
    size_t i = (len > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    if (len <= i || len - i > 9) {
        return false;
    }
    int64_t x = 0;
    for (size_t k = i; k < len; k++) {
        if (s[k] < '0' || s[k] > '9') {
            return false;
        }
        x = x * 10 + (s[k] - '0');
    }
    *v = s[0] == '-' ? -x : x;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    /* An exact-size copy so that ASan sees any read past the argument. */
    size_t len = size - 1;
    char *arg = malloc(len ? len : 1);
    memcpy(arg, data + 1, len);
    buf_t err = { 0 };
    int64_t v = 0;
    int64_t want = 0;
    switch (data[0] % 5) {
    case 0: {
        int rc = api_prom_param_time(arg, len, &v, &err);
        check_error(rc, &err, "cannot parse \"");
        if (rc == 0 && small_int(arg, len, &want) && v != want * 1000) {
            fprintf(stderr, "time %.*s gave %" PRId64 "\n", (int)len, arg, v);
            abort();
        }
        break;
    }
    case 1: {
        int rc = api_prom_param_duration(arg, len, &v, &err);
        check_error(rc, &err, "cannot parse \"");
        if (rc == 0 && small_int(arg, len, &want) && v != want * 1000000000) {
            fprintf(stderr, "duration %.*s gave %" PRId64 "\n", (int)len, arg, v);
            abort();
        }
        break;
    }
    case 2: {
        int rc = api_prom_param_limit(arg, len, &v, &err);
        check_error(rc, &err, NULL);
        if (rc == 0) {
            char back[32];
            int n = snprintf(back, sizeof(back), "%" PRId64, v);
            int64_t again = -1;
            buf_t err2 = { 0 };
            if (v < 0 || api_prom_param_limit(back, (size_t)n, &again, &err2) != 0 || again != v) {
                fprintf(stderr, "limit %.*s gave %" PRId64 "\n", (int)len, arg, v);
                abort();
            }
            buf_fini(&err2);
        }
        break;
    }
    case 4: {
        int rc = api_loki_param_time(arg, len, -1, &v, &err);
        check_error(rc, &err, NULL);
        if (rc == 0 && small_int(arg, len, &want) && v != want * 1000000000) {
            fprintf(stderr, "loki time %.*s gave %" PRId64 "\n", (int)len, arg, v);
            abort();
        }
        break;
    }
    default: {
        char *out = malloc(len ? len : 1);
        size_t n = api_prom_param_name(arg, len, out);
        if (n > len) {
            abort();
        }
        if (len < 3 || memcmp(arg, "U__", 3) != 0) {
            if (n != len || memcmp(out, arg, len) != 0) {
                abort(); /* plain names pass through unchanged */
            }
        }
        free(out);
        break;
    }
    }
    buf_fini(&err);
    free(arg);
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_format: a Prometheus API query answer (JSON) as the text pharosctl
 * prints. Pure: bytes in, text out, no I/O, so every shape is a unit test.
 *
 *   envelope  {"status":"success"|"error", "data":…, "errorType":…,
 *             "error":…, "warnings":[…], "infos":[…]}
 *   vector    [{"metric":{…}, "value":[ts,"v"]} | "histogram":[ts,{…}]]
 *   matrix    [{"metric":{…}, "values":[[ts,"v"],…], "histograms":[…]}]
 *   scalar    [ts,"v"]      string  [ts,"s"]
 *
 * Values are printed as the server wrote them ("NaN", "+Inf", "1e-05"):
 * the server already formats floats the way Prometheus does, so reparsing
 * could only lose that. Series print the way PromQL reads them,
 * name{a="b", c="d"}, labels sorted by name, values quoted as Go's %q
 * (common/labels.c labels_quote), names that are not legacy identifiers
 * quoted as Prometheus 3 does ({"a.b", "c.d"="e"}). A native histogram
 * prints as Prometheus' FloatHistogram.String(): {count:N, sum:S, [lo,hi):c}.
 * Columns are aligned on display width (UTF-8 code points).
 *
 * A table is built in a scratch buffer and appended to out only when the
 * whole answer was understood, so a malformed answer never prints half a
 * table. Labels and values are borrowed from the jansson tree while it lives.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/labels.h"
#include "common/mem.h"
#include "common/str.h"
#include "ctl/ctl_int.h"

#define CTL_FORMAT_GAP "  "

typedef struct ctl_format_row {
    size_t lab_off, lab_len; /* in the labels buffer */
    const char *val;         /* borrowed from the tree, or NULL when val_off is used */
    size_t val_len;
    size_t val_off; /* in the labels buffer when val is NULL (histograms) */
} ctl_format_row_t;

/* Display width of p[0..len): UTF-8 code points (continuation bytes do not count). */
static size_t ctl_format_width(const uint8_t *p, size_t len)
{
    size_t w = 0;
    for (size_t i = 0; i < len; i++) {
        w += (p[i] & 0xC0) != 0x80;
    }
    return w;
}

static int ctl_format_cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static str_t ctl_format_jstr(const json_t *s)
{
    return str_from(json_string_value(s), json_string_length(s));
}

/* Contract in ctl_int.h. */
int ctl_format_labels(const json_t *metric, buf_t *out, buf_t *why)
{
    if (!json_is_object(metric)) {
        buf_puts(why, "\"metric\" is not an object");
        return -1;
    }
    size_t n = json_object_size(metric);
    const char **keys = mem_calloc(n ? n : 1, sizeof(*keys));
    size_t k = 0;
    const char *key = NULL;
    const json_t *val = NULL;
    json_object_foreach((json_t *)metric, key, val)
    {
        if (!json_is_string(val)) {
            buf_printf(why, "label %s is not a string", key);
            mem_free(keys);
            return -1;
        }
        keys[k++] = key;
    }
    qsort(keys, k, sizeof(*keys), ctl_format_cmp_keys);
    const json_t *name = json_object_get(metric, "__name__");
    bool bare_name = name && labels_valid_metric_name(ctl_format_jstr(name));
    if (bare_name) {
        buf_append(out, json_string_value(name), json_string_length(name));
    }
    bool first = true;
    bool braces = !bare_name || k > 1;
    if (braces) {
        buf_putc(out, '{');
    }
    if (name && !bare_name) {
        labels_quote(ctl_format_jstr(name), out);
        first = false;
    }
    for (size_t i = 0; i < k; i++) {
        if (strcmp(keys[i], "__name__") == 0) {
            continue;
        }
        buf_puts(out, first ? "" : ", ");
        first = false;
        str_t lname = str_cstr(keys[i]);
        if (labels_valid_label_name(lname)) {
            buf_append(out, lname.p, lname.len);
        } else {
            labels_quote(lname, out);
        }
        buf_putc(out, '=');
        labels_quote(ctl_format_jstr(json_object_get(metric, keys[i])), out);
    }
    if (braces) {
        buf_putc(out, '}');
    }
    mem_free(keys);
    return 0;
}

/* A [ts, x] pair: ts (seconds, a number) as ms into [out] ts_ms and x into
 * [out] x. -1 with the reason in why. */
static int ctl_format_pair(const json_t *pair, int64_t *ts_ms, const json_t **x, buf_t *why)
{
    if (!json_is_array(pair) || json_array_size(pair) != 2 || !json_is_number(json_array_get(pair, 0))) {
        buf_puts(why, "a sample is not [timestamp, value]");
        return -1;
    }
    double ts = json_number_value(json_array_get(pair, 0));
    if (!isfinite(ts) || fabs(ts) > 9.0e15) {
        buf_puts(why, "a sample timestamp is out of range");
        return -1;
    }
    *ts_ms = llround(ts * 1000.0);
    *x = json_array_get(pair, 1);
    return 0;
}

/* The value of a float sample [ts, "v"]. */
static int ctl_format_float(const json_t *pair, int64_t *ts_ms, str_t *v, buf_t *why)
{
    const json_t *x = NULL;
    if (ctl_format_pair(pair, ts_ms, &x, why) != 0) {
        return -1;
    }
    if (!json_is_string(x)) {
        buf_puts(why, "a sample value is not a string");
        return -1;
    }
    *v = ctl_format_jstr(x);
    return 0;
}

/* A string field of a histogram object, or -1. */
static int ctl_format_hfield(const json_t *h, const char *key, str_t *v, buf_t *why)
{
    const json_t *x = json_object_get(h, key);
    if (!json_is_string(x)) {
        buf_printf(why, "histogram has no string \"%s\"", key);
        return -1;
    }
    *v = ctl_format_jstr(x);
    return 0;
}

/* A native histogram object as {count:N, sum:S, [lo,hi):c, …}. Bucket
 * boundary rules (Prometheus' JSON): 0 (lo,hi]  1 [lo,hi)  2 (lo,hi)  3 [lo,hi]. */
static int ctl_format_histogram(const json_t *h, buf_t *out, buf_t *why)
{
    str_t count = { 0 }, sum = { 0 };
    if (!json_is_object(h) || ctl_format_hfield(h, "count", &count, why) != 0 ||
        ctl_format_hfield(h, "sum", &sum, why) != 0) {
        if (why->len == 0) {
            buf_puts(why, "histogram is not an object");
        }
        return -1;
    }
    buf_printf(out, "{count:%.*s, sum:%.*s", (int)count.len, count.p, (int)sum.len, sum.p);
    const json_t *buckets = json_object_get(h, "buckets");
    for (size_t i = 0; i < json_array_size(buckets); i++) {
        const json_t *b = json_array_get(buckets, i);
        const json_t *rule = json_array_get(b, 0);
        if (json_array_size(b) != 4 || !json_is_integer(rule) || json_integer_value(rule) < 0 ||
            json_integer_value(rule) > 3 || !json_is_string(json_array_get(b, 1)) ||
            !json_is_string(json_array_get(b, 2)) || !json_is_string(json_array_get(b, 3))) {
            buf_puts(why, "histogram bucket is not [rule, lower, upper, count]");
            return -1;
        }
        json_int_t r = json_integer_value(rule);
        str_t lo = ctl_format_jstr(json_array_get(b, 1));
        str_t hi = ctl_format_jstr(json_array_get(b, 2));
        str_t c = ctl_format_jstr(json_array_get(b, 3));
        buf_printf(out, ", %c%.*s,%.*s%c:%.*s", (r == 1 || r == 3) ? '[' : '(', (int)lo.len, lo.p, (int)hi.len, hi.p,
                   (r == 0 || r == 3) ? ']' : ')', (int)c.len, c.p);
    }
    buf_putc(out, '}');
    return 0;
}

/* Vector: header plus one aligned row per series. */
static int ctl_format_vector(const json_t *result, buf_t *out, buf_t *why)
{
    size_t n = json_array_size(result);
    if (n == 0) {
        return 0;
    }
    ctl_format_row_t *rows = mem_calloc(n, sizeof(*rows));
    buf_t text = { 0 };
    size_t width = strlen("SERIES");
    int rc = -1;
    for (size_t i = 0; i < n; i++) {
        const json_t *el = json_array_get(result, i);
        ctl_format_row_t *r = &rows[i];
        r->lab_off = text.len;
        if (!json_is_object(el) || ctl_format_labels(json_object_get(el, "metric"), &text, why) != 0) {
            buf_printf(why, "%s(vector element %zu)", why->len ? " " : "not a series ", i);
            goto fail;
        }
        r->lab_len = text.len - r->lab_off;
        size_t w = ctl_format_width(text.data + r->lab_off, r->lab_len);
        width = w > width ? w : width;
        int64_t ts = 0;
        const json_t *value = json_object_get(el, "value");
        const json_t *hist = json_object_get(el, "histogram");
        str_t v = { 0 };
        if (value) {
            if (ctl_format_float(value, &ts, &v, why) != 0) {
                goto fail;
            }
            r->val = v.p;
            r->val_len = v.len;
        } else {
            const json_t *h = NULL;
            r->val_off = text.len;
            if (!hist || ctl_format_pair(hist, &ts, &h, why) != 0 || ctl_format_histogram(h, &text, why) != 0) {
                buf_printf(why, "%s(vector element %zu)", why->len ? " " : "no value ", i);
                goto fail;
            }
            r->val_len = text.len - r->val_off;
        }
    }
    buf_printf(out, "%-*s%sVALUE\n", (int)width, "SERIES", CTL_FORMAT_GAP);
    for (size_t i = 0; i < n; i++) {
        const ctl_format_row_t *r = &rows[i];
        buf_append(out, text.data + r->lab_off, r->lab_len);
        size_t pad = width - ctl_format_width(text.data + r->lab_off, r->lab_len);
        for (size_t j = 0; j < pad; j++) {
            buf_putc(out, ' ');
        }
        buf_puts(out, CTL_FORMAT_GAP);
        buf_append(out, r->val ? (const uint8_t *)r->val : text.data + r->val_off, r->val_len);
        buf_putc(out, '\n');
    }
    rc = 0;
fail:
    buf_fini(&text);
    mem_free(rows);
    return rc;
}

/* One matrix row "RFC3339  value". */
static void ctl_format_time_row(int64_t ts_ms, buf_t *out)
{
    char t[32];
    size_t tl = time_format_rfc3339(ts_ms, t);
    buf_append(out, t, tl);
    buf_puts(out, CTL_FORMAT_GAP);
}

/* One matrix series: labels line, then its float and histogram samples
 * merged in timestamp order (each list is already in order). */
static int ctl_format_series(const json_t *el, buf_t *out, buf_t *why)
{
    if (!json_is_object(el) || ctl_format_labels(json_object_get(el, "metric"), out, why) != 0) {
        return -1;
    }
    buf_putc(out, '\n');
    const json_t *values = json_object_get(el, "values");
    const json_t *hists = json_object_get(el, "histograms");
    if ((values && !json_is_array(values)) || (hists && !json_is_array(hists)) || (!values && !hists)) {
        buf_puts(why, "no \"values\" array");
        return -1;
    }
    size_t nv = json_array_size(values), nh = json_array_size(hists);
    size_t iv = 0, ih = 0;
    while (iv < nv || ih < nh) {
        int64_t tv = 0, th = 0;
        str_t v = { 0 };
        const json_t *h = NULL;
        if (iv < nv && ctl_format_float(json_array_get(values, iv), &tv, &v, why) != 0) {
            return -1;
        }
        if (ih < nh && ctl_format_pair(json_array_get(hists, ih), &th, &h, why) != 0) {
            return -1;
        }
        if (iv < nv && (ih >= nh || tv <= th)) {
            ctl_format_time_row(tv, out);
            buf_append(out, v.p, v.len);
            iv++;
        } else {
            ctl_format_time_row(th, out);
            if (ctl_format_histogram(h, out, why) != 0) {
                return -1;
            }
            ih++;
        }
        buf_putc(out, '\n');
    }
    return 0;
}

static int ctl_format_matrix(const json_t *result, buf_t *out, buf_t *why)
{
    for (size_t i = 0; i < json_array_size(result); i++) {
        if (i > 0) {
            buf_putc(out, '\n');
        }
        if (ctl_format_series(json_array_get(result, i), out, why) != 0) {
            buf_printf(why, "%s(matrix element %zu)", why->len ? " " : "not a series ", i);
            return -1;
        }
    }
    return 0;
}

/* Scalar and string: [ts, "x"] prints x. */
static int ctl_format_single(const json_t *result, buf_t *out, buf_t *why)
{
    int64_t ts = 0;
    str_t v = { 0 };
    if (ctl_format_float(result, &ts, &v, why) != 0) {
        return -1;
    }
    buf_append(out, v.p, v.len);
    buf_putc(out, '\n');
    return 0;
}

/* data → table text into out; -1 with the reason in why. */
static int ctl_format_data(const json_t *data, buf_t *out, buf_t *why)
{
    const json_t *type = json_object_get(data, "resultType");
    const json_t *result = json_object_get(data, "result");
    if (!json_is_object(data) || !json_is_string(type) || !result) {
        buf_puts(why, "no \"data\" with \"resultType\" and \"result\"");
        return -1;
    }
    const char *t = json_string_value(type);
    bool series = strcmp(t, "vector") == 0 || strcmp(t, "matrix") == 0;
    if (series && !json_is_array(result)) {
        buf_printf(why, "%s result is not an array", t);
        return -1;
    }
    if (strcmp(t, "vector") == 0) {
        return ctl_format_vector(result, out, why);
    }
    if (strcmp(t, "matrix") == 0) {
        return ctl_format_matrix(result, out, why);
    }
    if (strcmp(t, "scalar") == 0 || strcmp(t, "string") == 0) {
        return ctl_format_single(result, out, why);
    }
    buf_puts(why, "unknown resultType ");
    labels_quote(ctl_format_jstr(type), why);
    return -1;
}

/* "warnings" / "infos": each string as "<prefix>: text" on its own line. */
static void ctl_format_notes(const json_t *root, const char *key, const char *prefix, buf_t *err)
{
    const json_t *a = json_object_get(root, key);
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *s = json_array_get(a, i);
        if (json_is_string(s)) {
            buf_printf(err, "%s: %.*s\n", prefix, (int)json_string_length(s), json_string_value(s));
        }
    }
}

ctl_format_rc_t ctl_format_result(const char *json, size_t len, bool table, buf_t *out, buf_t *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_ALLOW_NUL, &jerr);
    if (!root) {
        buf_printf(err, "error: malformed response: invalid JSON at line %d column %d: %s\n", jerr.line, jerr.column,
                   jerr.text);
        return CTL_FORMAT_BAD_RESPONSE;
    }
    ctl_format_rc_t rc = CTL_FORMAT_BAD_RESPONSE;
    buf_t text = { 0 };
    buf_t why = { 0 };
    const json_t *status = json_object_get(root, "status");
    const char *st = json_is_string(status) ? json_string_value(status) : "";
    if (!json_is_object(root) || (strcmp(st, "success") != 0 && strcmp(st, "error") != 0)) {
        buf_puts(err, "error: malformed response: no \"status\" of \"success\" or \"error\"\n");
        goto done;
    }
    ctl_format_notes(root, "warnings", "warning", err);
    ctl_format_notes(root, "infos", "info", err);
    if (strcmp(st, "error") == 0) {
        const json_t *type = json_object_get(root, "errorType");
        const json_t *msg = json_object_get(root, "error");
        buf_puts(err, "error");
        if (json_is_string(type)) {
            buf_printf(err, " (%.*s)", (int)json_string_length(type), json_string_value(type));
        }
        str_t m = json_is_string(msg) ? ctl_format_jstr(msg) : STR_LIT("(no error message)");
        buf_printf(err, ": %.*s\n", (int)m.len, m.p);
        rc = CTL_FORMAT_QUERY_ERROR;
    } else if (table && ctl_format_data(json_object_get(root, "data"), &text, &why) != 0) {
        buf_printf(err, "error: malformed response: %.*s\n", (int)why.len, why.data ? (const char *)why.data : "");
        goto done;
    } else {
        rc = CTL_FORMAT_OK;
    }
    if (!table) {
        buf_append(out, json, len);
        if (len == 0 || json[len - 1] != '\n') {
            buf_putc(out, '\n');
        }
    } else {
        buf_append(out, text.data, text.len);
    }
done:
    buf_fini(&why);
    buf_fini(&text);
    json_decref(root);
    return rc;
}

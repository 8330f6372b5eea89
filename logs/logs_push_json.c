/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logs_push_json: the JSON push body, through jansson's DOM.
 *
 *   {"streams":[{"stream":{"k":"v",..},
 *                "values":[["<ns>","line"],["<ns>","line",{"meta":"v",..}],..]}]}
 *
 * As Go's encoding/json decodes it into Loki's types: a missing or null
 * "streams", "stream" or "values" is empty; a duplicate key keeps the last
 * value; unknown keys are ignored. Any value of the wrong type fails the
 * whole request, like a failed Unmarshal: notably a timestamp that is not a
 * string of decimal Unix nanoseconds (a JSON number is an error), a label
 * or metadata value that is not a string, and a value tuple that is not 2
 * or 3 elements. Strings may hold NUL (\u0000). jansson rejects invalid
 * UTF-8 in the document (Go would replace it with U+FFFD): that is a
 * malformed body here.
 *
 * Every string is copied into the arena; the DOM is freed before return.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "logs/logs_int.h"

static str_t js_copy(arena_t *a, const char *p, size_t len)
{
    char *d = arena_alloc(a, len ? len : 1);
    if (len) {
        memcpy(d, p, len);
    }
    return str_from(d, len);
}

static int js_fail(char *err, size_t errlen, size_t si, const char *what)
{
    snprintf(err, errlen, "JSON: streams[%zu]: %s", si, what);
    return -1;
}

/* A flat {"k":"v"} object (or null) into an arena array. */
static int js_pairs(arena_t *a, json_t *obj, label_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!obj || json_is_null(obj)) {
        return 0;
    }
    if (!json_is_object(obj)) {
        return -1;
    }
    size_t cap = json_object_size(obj);
    label_t *ls = arena_alloc(a, (cap ? cap : 1) * sizeof(label_t));
    const char *key;
    size_t klen, k = 0;
    json_t *v;
    json_object_keylen_foreach(obj, key, klen, v)
    {
        if (!json_is_string(v) || k >= cap) {
            return -1;
        }
        ls[k].name = js_copy(a, key, klen);
        ls[k].value = js_copy(a, json_string_value(v), json_string_length(v));
        k++;
    }
    *out = ls;
    *n = k;
    return 0;
}

/* One ["<ns>","line"(,{meta})] tuple. */
static int js_entry(arena_t *a, json_t *t, logs_entry_t *e, size_t si, char *err, size_t errlen)
{
    size_t n = json_is_array(t) ? json_array_size(t) : 0;
    if (n < 2 || n > 3) {
        return js_fail(err, errlen, si, "each value must be [\"<ns>\", \"<line>\"] or [\"<ns>\", \"<line>\", {..}]");
    }
    json_t *ts = json_array_get(t, 0), *line = json_array_get(t, 1);
    int64_t ns = 0;
    if (!json_is_string(ts) || !str_parse_i64(str_from(json_string_value(ts), json_string_length(ts)), &ns)) {
        return js_fail(err, errlen, si, "timestamp must be a string of Unix nanoseconds");
    }
    if (!json_is_string(line)) {
        return js_fail(err, errlen, si, "log line must be a string");
    }
    label_t *meta = NULL;
    size_t nmeta = 0;
    if (n == 3 && js_pairs(a, json_array_get(t, 2), &meta, &nmeta) != 0) {
        return js_fail(err, errlen, si, "structured metadata must be an object of strings");
    }
    *e = (logs_entry_t){ ns, js_copy(a, json_string_value(line), json_string_length(line)), meta, nmeta };
    return 0;
}

static int js_stream(logs_push_ctx_t *ctx, json_t *s, size_t si, char *err, size_t errlen)
{
    if (!json_is_object(s)) {
        return js_fail(err, errlen, si, "a stream must be an object");
    }
    label_t *ls = NULL;
    size_t nl = 0;
    if (js_pairs(ctx->arena, json_object_get(s, "stream"), &ls, &nl) != 0) {
        return js_fail(err, errlen, si, "\"stream\" must be an object of strings");
    }
    json_t *vals = json_object_get(s, "values");
    if (vals && !json_is_null(vals) && !json_is_array(vals)) {
        return js_fail(err, errlen, si, "\"values\" must be an array");
    }
    size_t n = json_is_array(vals) ? json_array_size(vals) : 0;
    logs_entry_t *entries = arena_alloc(ctx->arena, (n ? n : 1) * sizeof(logs_entry_t));
    for (size_t i = 0; i < n; i++) {
        if (js_entry(ctx->arena, json_array_get(vals, i), &entries[i], si, err, errlen) != 0) {
            return -1;
        }
    }
    logs_push_add_stream(ctx, STR_LIT(""), NULL, ls, nl, entries, n, NULL);
    return 0;
}

int logs_push_json_decode(logs_push_ctx_t *ctx, const uint8_t *p, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb((const char *)p, len, JSON_ALLOW_NUL, &je);
    if (!root) {
        snprintf(err, errlen, "JSON: %s at line %d, column %d", je.text, je.line, je.column);
        return -1;
    }
    int rc = -1;
    json_t *streams = json_is_object(root) ? json_object_get(root, "streams") : NULL;
    if (!json_is_object(root) || (streams && !json_is_null(streams) && !json_is_array(streams))) {
        snprintf(err, errlen, "JSON: the body must be an object with a \"streams\" array");
        goto out;
    }
    size_t n = json_is_array(streams) ? json_array_size(streams) : 0;
    logs_push_begin(ctx, n);
    for (size_t i = 0; i < n; i++) {
        if (js_stream(ctx, json_array_get(streams, i), i, err, errlen) != 0) {
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}

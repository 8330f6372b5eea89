/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_recv: the receiver table (one row per integration, designated
 * initialisers) and what the receivers share: a field-table YAML reader
 * for their configs, secrets, template rendering, results.
 *
 * Config: each receiver declares its keys as a NULL-terminated table of
 * alerts_recv_field_t (key, type, offset, default, help); the same table
 * feeds docs/alerting-receivers.md (a unit test checks every key is
 * documented). Errors name the 1-based line: "line 7: channel: ...".
 *
 * Secrets (api_url, routing_key, token, auth_password) are kept as written
 * and resolved at send time, so a rotated *_file is picked up without a
 * reload and no secret lives in parsed configs that may be printed:
 * `${VAR}` references are expanded from the environment, `*_file` keys
 * name a file whose trimmed contents are the secret. Neither the value
 * nor anything derived from it is put in a result message or a log.
 *
 * Invariant: every send path fills its result (OK, RETRY or FAIL), and a
 * template error is always FAIL (Alertmanager drops such notifications).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alerts/alerts_int.h"
#include "common/hash.h"
#include "common/yamldoc.h"

#define RECV_SECRET_MAX (64 << 10)

/* One row per receiver: the key is "<name>_configs" and every hook is
 * alerts_recv_<name>_<hook> (rule 1), so a row is its name. */
#define RECV_TYPE(nm)                                                                                                  \
    {                                                                                                                  \
        .key = #nm "_configs", .name = #nm, .parse = alerts_recv_##nm##_parse,                                         \
        .send_resolved = alerts_recv_##nm##_send_resolved, .state_create = alerts_recv_##nm##_state_create,            \
        .state_destroy = alerts_recv_##nm##_state_destroy, .send = alerts_recv_##nm##_send,                            \
        .fields = alerts_recv_##nm##_fields,                                                                           \
    }

static const alerts_recv_type_t alerts_recv_table[] = {
    RECV_TYPE(slack),
    RECV_TYPE(email),
    RECV_TYPE(pagerduty),
    RECV_TYPE(github),
};
#undef RECV_TYPE

const alerts_recv_type_t *alerts_recv_types(size_t *n)
{
    *n = sizeof(alerts_recv_table) / sizeof(alerts_recv_table[0]);
    return alerts_recv_table;
}

/* ---- YAML ---- */

static const char *recv_scalar(const yaml_node_t *v, arena_t *a)
{
    return arena_strndup(a, (const char *)v->data.scalar.value, v->data.scalar.length);
}

/* Called after alerts_recv_parse_fields accepted node, so every key is
 * exactly a field's key (none holds a NUL) and the C-string search of
 * yamldoc_map_find finds the same pair as a byte comparison. */
unsigned alerts_recv_key_line(yaml_document_t *doc, yaml_node_t *node, const char *key)
{
    long i = yamldoc_map_find(doc, node, 0, key);
    if (i < 0) {
        return yamldoc_line(node);
    }
    const yaml_node_t *k = NULL, *v = NULL;
    yamldoc_map_at(doc, node, (size_t)i, &k, &v);
    return yamldoc_line(k);
}

static int recv_bool(const yaml_node_t *v, const char *key, bool *out, buf_t *err)
{
    if (v->type != YAML_SCALAR_NODE ||
        !str_parse_bool(str_from((const char *)v->data.scalar.value, v->data.scalar.length), out)) {
        buf_printf(err, "line %u: %s: expected true or false", yamldoc_line(v), key);
        return -1;
    }
    return 0;
}

static int recv_list(yaml_document_t *doc, const yaml_node_t *v, const char *key, arena_t *a, alerts_recv_list_t *out,
                     buf_t *err)
{
    if (v->type != YAML_SEQUENCE_NODE) {
        buf_printf(err, "line %u: %s: expected a list of strings", yamldoc_line(v), key);
        return -1;
    }
    size_t n = yamldoc_seq_len(v);
    out->v = arena_calloc(a, n ? n : 1, sizeof(*out->v));
    out->n = 0;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *e = yamldoc_seq_at(doc, v, i);
        if (!e || e->type != YAML_SCALAR_NODE) {
            buf_printf(err, "line %u: %s: expected a string", yamldoc_line(e ? e : v), key);
            return -1;
        }
        out->v[out->n++] = recv_scalar(e, a);
    }
    return 0;
}

static int recv_map(yaml_document_t *doc, const yaml_node_t *v, const char *key, arena_t *a, alerts_recv_map_t *out,
                    buf_t *err)
{
    if (v->type != YAML_MAPPING_NODE) {
        buf_printf(err, "line %u: %s: expected a mapping of strings", yamldoc_line(v), key);
        return -1;
    }
    size_t n = yamldoc_map_len(v);
    out->k = arena_calloc(a, n ? n : 1, sizeof(*out->k));
    out->v = arena_calloc(a, n ? n : 1, sizeof(*out->v));
    out->n = 0;
    size_t *first = arena_alloc(a, (n ? n : 1) * sizeof(*first));
    yamldoc_map_repeats(doc, v, first, NULL);
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *k = NULL, *e = NULL;
        yamldoc_map_at(doc, v, i, &k, &e);
        if (!k || !e || k->type != YAML_SCALAR_NODE || e->type != YAML_SCALAR_NODE) {
            buf_printf(err, "line %u: %s: expected a mapping of strings", yamldoc_line(k ? k : v), key);
            return -1;
        }
        const char *name = recv_scalar(k, a);
        /* every earlier key is a scalar (else we returned): a first match
         * before i is a repeat */
        if (first[i] < i) {
            buf_printf(err, "line %u: %s: duplicate key \"%s\"", yamldoc_line(k), key, name);
            return -1;
        }
        out->k[out->n] = name;
        out->v[out->n] = recv_scalar(e, a);
        out->n++;
    }
    return 0;
}

static int recv_tls(yaml_document_t *doc, const yaml_node_t *v, const char *key, arena_t *a, alerts_recv_tls_t *out,
                    buf_t *err)
{
    if (v->type != YAML_MAPPING_NODE) {
        buf_printf(err, "line %u: %s: expected a mapping", yamldoc_line(v), key);
        return -1;
    }
    for (size_t i = 0; i < yamldoc_map_len(v); i++) {
        const yaml_node_t *k = NULL, *e = NULL;
        yamldoc_map_at(doc, v, i, &k, &e);
        if (!k || !e || k->type != YAML_SCALAR_NODE) {
            buf_printf(err, "line %u: %s: expected a mapping", yamldoc_line(v), key);
            return -1;
        }
        const char *name = (const char *)k->data.scalar.value;
        if (strcmp(name, "insecure_skip_verify") == 0) {
            if (recv_bool(e, "tls_config.insecure_skip_verify", &out->insecure_skip_verify, err) != 0) {
                return -1;
            }
        } else if (strcmp(name, "ca_file") == 0 && e->type == YAML_SCALAR_NODE) {
            out->ca_file = yamldoc_plain_null(e) ? NULL : recv_scalar(e, a);
        } else {
            buf_printf(err, "line %u: %s.%s: unknown field", yamldoc_line(k), key, name);
            return -1;
        }
    }
    return 0;
}

static const alerts_recv_field_t *recv_find(const alerts_recv_field_t *f, const char *key, size_t len, size_t *idx)
{
    for (size_t i = 0; f[i].key; i++) {
        if (strlen(f[i].key) == len && memcmp(f[i].key, key, len) == 0) {
            *idx = i;
            return &f[i];
        }
    }
    return NULL;
}

static int recv_defaults(const alerts_recv_field_t *f, void *cfg)
{
    for (size_t i = 0; f[i].key; i++) {
        char *p = (char *)cfg + f[i].offset;
        if (!f[i].def) {
            continue;
        }
        switch (f[i].type) {
        case ALERTS_RECV_F_STRING:
            *(const char **)p = f[i].def;
            break;
        case ALERTS_RECV_F_SECRET:
            ((alerts_recv_secret_t *)p)->value = f[i].def;
            break;
        case ALERTS_RECV_F_BOOL:
            if (!str_parse_bool(str_cstr(f[i].def), (bool *)p)) {
                return -1;
            }
            break;
        default:
            break;
        }
    }
    return 0;
}

/* Store the (non-null) value v of field fd into cfg. 0 or -1 (err). */
static int recv_set_field(yaml_document_t *doc, const alerts_recv_field_t *fd, const char *key, const yaml_node_t *v,
                          arena_t *a, void *cfg, buf_t *err)
{
    char *dst = (char *)cfg + fd->offset;
    switch (fd->type) {
    case ALERTS_RECV_F_STRING:
    case ALERTS_RECV_F_SECRET:
    case ALERTS_RECV_F_SECRET_FILE:
        if (v->type != YAML_SCALAR_NODE) {
            buf_printf(err, "line %u: %s: expected a string", yamldoc_line(v), key);
            return -1;
        }
        if (fd->type == ALERTS_RECV_F_STRING) {
            *(const char **)dst = recv_scalar(v, a);
        } else {
            alerts_recv_secret_t *s = (alerts_recv_secret_t *)dst;
            *(fd->type == ALERTS_RECV_F_SECRET ? &s->value : &s->file) = recv_scalar(v, a);
        }
        return 0;
    case ALERTS_RECV_F_BOOL:
        return recv_bool(v, key, (bool *)dst, err);
    case ALERTS_RECV_F_LIST:
        return recv_list(doc, v, key, a, (alerts_recv_list_t *)dst, err);
    case ALERTS_RECV_F_MAP:
        return recv_map(doc, v, key, a, (alerts_recv_map_t *)dst, err);
    case ALERTS_RECV_F_TLS:
        return recv_tls(doc, v, key, a, (alerts_recv_tls_t *)dst, err);
    }
    return -1;
}

/* A secret given both inline and as a file: Alertmanager's wording. */
static int recv_check_secrets(yaml_document_t *doc, yaml_node_t *node, const alerts_recv_field_t *f, const void *cfg,
                              buf_t *err)
{
    for (size_t i = 0; f[i].key; i++) {
        if (f[i].type != ALERTS_RECV_F_SECRET_FILE) {
            continue;
        }
        const alerts_recv_secret_t *s = (const alerts_recv_secret_t *)((const char *)cfg + f[i].offset);
        for (size_t j = 0; f[j].key; j++) {
            if (f[j].type == ALERTS_RECV_F_SECRET && f[j].offset == f[i].offset && s->value && s->file &&
                (!f[j].def || s->value != f[j].def)) {
                buf_printf(err, "line %u: %s: at most one of %s & %s must be configured",
                           alerts_recv_key_line(doc, node, f[i].key), f[i].key, f[j].key, f[i].key);
                return -1;
            }
        }
    }
    return 0;
}

int alerts_recv_parse_fields(yaml_document_t *doc, yaml_node_t *node, const alerts_recv_field_t *f, arena_t *a,
                             void *cfg, buf_t *err)
{
    if (node->type != YAML_MAPPING_NODE) {
        buf_printf(err, "line %u: expected a mapping", yamldoc_line(node));
        return -1;
    }
    if (recv_defaults(f, cfg) != 0) {
        buf_printf(err, "line %u: bad default in the receiver's field table", yamldoc_line(node));
        return -1;
    }
    uint64_t seen = 0;
    for (size_t i = 0; i < yamldoc_map_len(node); i++) {
        const yaml_node_t *k = NULL, *v = NULL;
        yamldoc_map_at(doc, node, i, &k, &v);
        if (!k || !v || k->type != YAML_SCALAR_NODE) {
            buf_printf(err, "line %u: expected a string key", yamldoc_line(k ? k : node));
            return -1;
        }
        const char *key = (const char *)k->data.scalar.value;
        size_t idx = 0;
        const alerts_recv_field_t *fd = recv_find(f, key, k->data.scalar.length, &idx);
        if (!fd) {
            buf_printf(err, "line %u: %s: unknown field", yamldoc_line(k), key);
            return -1;
        }
        uint64_t bit = idx < 64 ? (uint64_t)1 << idx : 0;
        if (seen & bit) {
            buf_printf(err, "line %u: %s: duplicate key", yamldoc_line(k), key);
            return -1;
        }
        seen |= bit;
        /* as Go's yaml: null leaves the default */
        if (!yamldoc_plain_null(v) && recv_set_field(doc, fd, key, v, a, cfg, err) != 0) {
            return -1;
        }
    }
    return recv_check_secrets(doc, node, f, cfg, err);
}

/* ---- secrets ---- */

static int recv_read_file(const char *path, buf_t *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    size_t start = out->len;
    char tmp[4096];
    for (;;) {
        ssize_t r = read(fd, tmp, sizeof(tmp));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            int e = -errno;
            close(fd);
            return e;
        }
        if (r == 0) {
            break;
        }
        if (out->len - start + (size_t)r > RECV_SECRET_MAX) {
            close(fd);
            return -EFBIG;
        }
        buf_append(out, tmp, (size_t)r);
    }
    close(fd);
    /* Trim as Go's strings.TrimSpace. */
    size_t b = start;
    while (b < out->len &&
           (out->data[b] == ' ' || out->data[b] == '\t' || out->data[b] == '\n' || out->data[b] == '\r')) {
        b++;
    }
    size_t e = out->len;
    while (e > b && (out->data[e - 1] == ' ' || out->data[e - 1] == '\t' || out->data[e - 1] == '\n' ||
                     out->data[e - 1] == '\r')) {
        e--;
    }
    buf_reserve(out, 1); /* an empty file leaves data NULL */
    memmove(out->data + start, out->data + b, e - b);
    out->len = start + (e - b);
    out->data[out->len] = '\0';
    return 0;
}

static bool recv_var_char(char c, bool first)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || (!first && c >= '0' && c <= '9');
}

int alerts_recv_secret_get(const alerts_recv_secret_t *s, const char *key, buf_t *out, alerts_send_result_t *res)
{
    if (s->file) {
        size_t start = out->len;
        int rc = recv_read_file(s->file, out);
        if (rc != 0) {
            alerts_recv_result(res, ALERTS_SEND_RETRY, 0, -1, "%s_file: cannot read %s: %s", key, s->file,
                               strerror(-rc));
            return -1;
        }
        if (out->len == start) {
            /* Being rewritten (a rotation truncates first) or not mounted yet. */
            alerts_recv_result(res, ALERTS_SEND_RETRY, 0, -1, "%s_file: %s is empty", key, s->file);
            return -1;
        }
        return 0;
    }
    if (!s->value || !*s->value) {
        alerts_recv_result(res, ALERTS_SEND_FAIL, 0, -1, "%s: not configured", key);
        return -1;
    }
    for (const char *p = s->value; *p;) {
        if (p[0] == '$' && p[1] == '{') {
            const char *name = p + 2;
            size_t len = 0;
            while (recv_var_char(name[len], len == 0)) {
                len++;
            }
            if (len > 0 && name[len] == '}') {
                char var[128];
                if (len >= sizeof(var)) {
                    alerts_recv_result(res, ALERTS_SEND_FAIL, 0, -1, "%s: environment variable name too long", key);
                    return -1;
                }
                memcpy(var, name, len);
                var[len] = '\0';
                const char *val = getenv(var);
                if (!val) {
                    alerts_recv_result(res, ALERTS_SEND_FAIL, 0, -1, "%s: environment variable %s is not set", key,
                                       var);
                    return -1;
                }
                buf_puts(out, val);
                p = name + len + 1;
                continue;
            }
        }
        buf_putc(out, (uint8_t)*p);
        p++;
    }
    return 0;
}

/* ---- templates and results ---- */

static int recv_render(bool html, const char *name, const char *text, const alerts_notification_t *n, buf_t *out,
                       alerts_send_result_t *res)
{
    if (!text) {
        return 0;
    }
    buf_t err = { 0 };
    int rc = html ? alerts_tmpl_notify_html(name, text, strlen(text), n, out, &err)
                  : alerts_tmpl_notify(name, text, strlen(text), n, out, &err);
    if (rc != 0) {
        alerts_recv_result(res, ALERTS_SEND_FAIL, 0, -1, "template %s: %s", name,
                           err.len ? (const char *)err.data : "error");
        buf_fini(&err);
        return -1;
    }
    buf_fini(&err);
    return 0;
}

int alerts_recv_render(const char *name, const char *text, const alerts_notification_t *n, buf_t *out,
                       alerts_send_result_t *res)
{
    return recv_render(false, name, text, n, out, res);
}

int alerts_recv_render_html(const char *name, const char *text, const alerts_notification_t *n, buf_t *out,
                            alerts_send_result_t *res)
{
    return recv_render(true, name, text, n, out, res);
}

void alerts_recv_result(alerts_send_result_t *res, alerts_send_status_t st, long code, int64_t retry_ms,
                        const char *fmt, ...)
{
    res->status = st;
    res->http_code = code;
    res->retry_after_ms = retry_ms;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->msg, sizeof(res->msg), fmt, ap);
    va_end(ap);
}

void alerts_recv_result_http(alerts_send_result_t *res, const httpc_result_t *hr, const char *service)
{
    alerts_send_status_t st = hr->status == HTTPC_OK      ? ALERTS_SEND_OK
                              : hr->status == HTTPC_RETRY ? ALERTS_SEND_RETRY
                                                          : ALERTS_SEND_FAIL;
    if (st == ALERTS_SEND_OK) {
        alerts_recv_result(res, st, hr->http_code, -1, "%s", "");
    } else if (hr->http_code) {
        alerts_recv_result(res, st, hr->http_code, hr->retry_after_ms, "%s: HTTP %ld: %s", service, hr->http_code,
                           hr->error);
    } else {
        alerts_recv_result(res, st, 0, hr->retry_after_ms, "%s: %s", service, hr->error);
    }
}

void alerts_recv_group_id(const char *group_key, char dst[33])
{
    uint64_t lo = 0, hi = 0;
    hash_bytes128(group_key, strlen(group_key), &lo, &hi);
    snprintf(dst, 33, "%016llx%016llx", (unsigned long long)hi, (unsigned long long)lo);
}

void alerts_recv_truncate_runes(buf_t *b, size_t start, size_t max)
{
    size_t runes = 0;
    size_t cut = b->len; /* byte offset where rune number max-1 (0-based) starts */
    for (size_t i = start; i < b->len; i++) {
        if ((b->data[i] & 0xC0) != 0x80) {
            if (runes == (max > 0 ? max - 1 : 0)) {
                cut = i;
            }
            runes++;
        }
    }
    if (runes <= max) {
        return;
    }
    b->len = cut;
    if (max > 0) {
        buf_puts(b, "\xe2\x80\xa6"); /* … */
    } else {
        b->data[b->len] = '\0';
    }
}

void alerts_recv_sleep_ms(int64_t ms)
{
    if (ms <= 0) {
        return;
    }
    struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

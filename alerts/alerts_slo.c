/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_slo: SLO files expanded into Prometheus rule groups, the
 * multi-window multi-burn-rate alerts of the SRE workbook with Sloth's
 * rule names (docs/alerting-slo.md has the format and the output).
 *
 * Three steps, kept apart: decode (libyaml document -> slo_def_t, every
 * error with its line and field path, unknown keys are errors), expand
 * (slo_def_t -> alerts_rules_group_t, each expr built as text, parsed with
 * promql_parse, type-checked and printed back with promql_format), check
 * (each SLO's groups printed as a plain rule file by alerts_slo_write_yaml
 * and run through alerts_rules_parse, the rule loader's own validation).
 * An SLO with a decode error is not expanded; all errors are reported.
 *
 * Burn-rate rows (budget b = 1 - objective): page (5m,1h) at 14.4b and
 * (30m,6h) at 6b; ticket (2h,1d) at 3b and (6h,3d) at 1b, for a 30d
 * window. Each row alerts when a share of the whole budget (2%, 5%, 10%,
 * 10%) is spent within its long window, so its factor is share x window /
 * long window and scales with the SLO's window (28d: 13.44, 5.6, 2.8,
 * 0.933...), as Sloth's window specs compute it. The (2h,1d) row
 * is Sloth's, not the workbook's: with steady traffic (6h,3d) implies it,
 * but a quiet day with a high error ratio after busy clean days fires it
 * while the 3d ratio stays diluted below b; and it keeps the rules Sloth's,
 * rule for rule (docs/alerting-slo.md).
 *
 * Invariants: everything returned lives in the caller's arena; PromQL
 * trees and the libyaml document live in scratch memory released on every
 * path; a returned file passed alerts_rules_parse.
 */
#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "alerts/alerts.h"
#include "alerts/alerts_int.h"
#include "common/json_out.h"
#include "common/mem.h"
#include "common/str.h"
#include "common/yamldoc.h"
#include "query/promql.h"

#define SLO_DEFAULT_WINDOW_MS (30LL * 24 * 3600 * 1000)
#define SLO_DAY_MS (24LL * 3600 * 1000)
#define SLO_MIN_WINDOW_MS (7 * SLO_DAY_MS)
#define SLO_MAX_WINDOW_MS (90 * SLO_DAY_MS)

/* The SLI windows recorded for every SLO, shortest first. */
static const char *const slo_windows[] = { "5m", "30m", "1h", "2h", "6h", "1d", "3d" };
#define SLO_NWINDOWS (sizeof(slo_windows) / sizeof(slo_windows[0]))

/* The multi-window multi-burn-rate table: two rows per severity, ORed. */
typedef struct slo_burn {
    const char *severity;
    const char *short_w;
    const char *long_w;
    int long_hours;
    int budget_permille; /* share of the window's budget spent within long_w */
} slo_burn_t;

static const slo_burn_t slo_burns[] = {
    { .severity = "page", .short_w = "5m", .long_w = "1h", .long_hours = 1, .budget_permille = 20 },
    { .severity = "page", .short_w = "30m", .long_w = "6h", .long_hours = 6, .budget_permille = 50 },
    { .severity = "ticket", .short_w = "2h", .long_w = "1d", .long_hours = 24, .budget_permille = 100 },
    { .severity = "ticket", .short_w = "6h", .long_w = "3d", .long_hours = 72, .budget_permille = 100 },
};

/* What sloth_slo_info says about the generator. */
#define SLO_INFO_MODE "pharos"
#define SLO_INFO_SPEC "pharos/v1"
#define SLO_INFO_VERSION "pharos"

/* A label or annotation list; set() replaces an existing name. */
typedef struct kvl {
    alerts_rules_kv_t *v;
    size_t n, cap;
} kvl_t;

typedef struct slo_sev {
    kvl_t labels, annotations;
    bool disable;
} slo_sev_t;

typedef struct slo_def {
    alerts_rules_pos_t pos;
    const char *path; /* "slos[3]" */
    const char *service, *name, *description, *id;
    double objective;
    bool has_objective;
    int64_t window_ms;
    kvl_t labels;
    const char *error_q, *good_q, *total_q; /* NULL when absent */
    alerts_rules_pos_t error_pos, good_pos, total_pos;
    const char *alert_name; /* NULL: derived */
    kvl_t alert_labels, alert_annotations;
    slo_sev_t page, ticket;
    bool bad; /* a decode error: not expanded */
} slo_def_t;

typedef struct sp {
    arena_t *a;       /* the caller's: results and error texts */
    arena_t *scratch; /* PromQL trees, check round trips */
    yaml_document_t *doc;
    alerts_rules_error_t *errs;
    size_t nerrs, cap;
    slo_def_t *cur; /* marked bad by sp_err */
} sp_t;

static char *sp_fmt(arena_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *sp_fmt(arena_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_t b = { 0 };
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    char *s = arena_strndup(a, b.data ? (const char *)b.data : "", b.len);
    buf_fini(&b);
    return s;
}

static void sp_push(sp_t *p, unsigned line, unsigned col, const char *text)
{
    alerts_rules_err_push(p->a, &p->errs, &p->nerrs, &p->cap, line, col, text);
    if (p->cur) {
        p->cur->bad = true;
    }
}

static alerts_rules_pos_t npos(const yaml_node_t *n)
{
    return (alerts_rules_pos_t){ yamldoc_line(n), yamldoc_col(n) };
}

/* An error at node n about field path: "<path>: <why>". */
static void sp_err(sp_t *p, const yaml_node_t *n, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void sp_err(sp_t *p, const yaml_node_t *n, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_t b = { 0 };
    buf_printf(&b, "%s: ", path);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    alerts_rules_pos_t pos = n ? npos(n) : (alerts_rules_pos_t){ 0, 0 };
    sp_push(p, pos.line, pos.col, arena_strndup(p->a, (const char *)b.data, b.len));
    buf_fini(&b);
}

/* ---- small helpers ---- */

static void kvl_set(arena_t *a, kvl_t *l, const char *name, const char *value)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->v[i].name, name) == 0) {
            l->v[i].value = value;
            return;
        }
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        alerts_rules_kv_t *v = arena_alloc(a, cap * sizeof(*v));
        if (l->n) {
            memcpy(v, l->v, l->n * sizeof(*v));
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (alerts_rules_kv_t){ .name = name, .value = value };
}

static void kvl_merge(arena_t *a, kvl_t *dst, const kvl_t *src)
{
    for (size_t i = 0; i < src->n; i++) {
        kvl_set(a, dst, src->v[i].name, src->v[i].value);
    }
}

static int kv_name_cmp(const void *x, const void *y)
{
    return strcmp(((const alerts_rules_kv_t *)x)->name, ((const alerts_rules_kv_t *)y)->name);
}

/* Sorted by name, as Sloth (Go's yaml of a map) prints them. */
static void kvl_sort(kvl_t *l)
{
    if (l->n > 1) {
        qsort(l->v, l->n, sizeof(*l->v), kv_name_cmp);
    }
}

/* Service and SLO names: they become label values, group names and
 * PromQL string literals, so we keep them to identifier characters. */
static bool valid_ident(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'))) {
        return false;
    }
    for (; *s; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
              *s == '-' || *s == '.')) {
            return false;
        }
    }
    return true;
}

/* strconv.FormatFloat(v, fmt, -1, 64), fmt 'f' or 'g', in arena a. */
static const char *go_float(arena_t *a, double v, char fmt)
{
    buf_t b = { 0 };
    json_go_float(&b, v, fmt);
    const char *r = arena_strndup(a, (const char *)b.data, b.len);
    buf_fini(&b);
    return r;
}

/* "requests-availability" -> "RequestsAvailability". */
static void camel(buf_t *b, const char *s)
{
    bool up = true;
    for (; *s; s++) {
        bool alnum = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9');
        if (!alnum) {
            up = true;
            continue;
        }
        buf_putc(b, (uint8_t)(up && *s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s));
        up = false;
    }
}

/* ---- decoding ---- */

static bool is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE) {
        return false;
    }
    const char *tag = (const char *)n->tag;
    if (tag && strcmp(tag, YAML_NULL_TAG) == 0) {
        return true;
    }
    return (!tag || strcmp(tag, YAML_DEFAULT_SCALAR_TAG) == 0) && yamldoc_plain_null(n);
}

static const char *kind_name(const yaml_node_t *n)
{
    return n->type == YAML_MAPPING_NODE ? "a mapping" : n->type == YAML_SEQUENCE_NODE ? "a sequence" : "a scalar";
}

/* path.key, or key at the top level (path ""). */
static char *sub_path(sp_t *p, const char *path, const char *key)
{
    return *path ? sp_fmt(p->a, "%s.%s", path, key) : sp_fmt(p->a, "%s", key);
}

/* A walk over the fields of a mapping: sp_next fills k, v, key and kp
 * (the field's path) [out] with the next pair whose key is a scalar
 * (sp_mapping has reported the others), false after the last. */
typedef struct sp_iter {
    const yaml_node_t *map;
    const char *path;
    size_t i;
    const yaml_node_t *k, *v;
    const char *key, *kp;
} sp_iter_t;

static bool sp_next(sp_t *p, sp_iter_t *it)
{
    while (it->i < yamldoc_map_len(it->map)) {
        yamldoc_map_at(p->doc, it->map, it->i++, &it->k, &it->v);
        if (it->k && it->k->type == YAML_SCALAR_NODE && it->v) {
            it->key = yamldoc_str(it->k);
            it->kp = sub_path(p, it->path, it->key);
            return true;
        }
    }
    return false;
}

/* A mapping whose keys are all distinct scalars: true. Null: false with
 * no error. Anything else: false with errors. */
static bool sp_mapping(sp_t *p, const yaml_node_t *n, const char *path)
{
    if (is_null(n)) {
        return false;
    }
    if (n->type != YAML_MAPPING_NODE) {
        sp_err(p, n, path, "expected a mapping, got %s", kind_name(n));
        return false;
    }
    bool ok = true;
    size_t len = yamldoc_map_len(n);
    size_t *first = mem_alloc((len ? len : 1) * sizeof(*first));
    yamldoc_map_repeats(p->doc, n, first, NULL);
    for (size_t i = 0; i < len; i++) {
        const yaml_node_t *ki = NULL, *vi = NULL;
        yamldoc_map_at(p->doc, n, i, &ki, &vi);
        if (!ki || ki->type != YAML_SCALAR_NODE) {
            sp_err(p, ki ? ki : n, path, "keys must be strings");
            ok = false;
            continue;
        }
        if (first[i] < i) {
            const yaml_node_t *kj = NULL, *vj = NULL;
            yamldoc_map_at(p->doc, n, first[i], &kj, &vj);
            sp_err(p, ki, sub_path(p, path, yamldoc_str(ki)), "repeated key (first at line %u)", yamldoc_line(kj));
            ok = false;
        }
    }
    mem_free(first);
    return ok;
}

/* A string field: any scalar; null is "". */
static bool dec_str(sp_t *p, const yaml_node_t *n, const char *path, const char **dst)
{
    if (n->type != YAML_SCALAR_NODE) {
        sp_err(p, n, path, "expected a string, got %s", kind_name(n));
        return false;
    }
    if (strlen(yamldoc_str(n)) != n->data.scalar.length) {
        sp_err(p, n, path, "contains a NUL character");
        return false;
    }
    *dst = is_null(n) ? "" : arena_strndup(p->a, yamldoc_str(n), n->data.scalar.length);
    return true;
}

static void dec_bool(sp_t *p, const yaml_node_t *n, const char *path, bool *dst)
{
    if (yamldoc_plain_bool(n, dst)) {
        return;
    }
    if (n->type == YAML_SCALAR_NODE) {
        sp_err(p, n, path, "expected true or false, got \"%s\"", yamldoc_str(n));
    } else {
        sp_err(p, n, path, "expected true or false, got %s", kind_name(n));
    }
}

/* A map of label names (labels = true) or annotation names to strings. */
static void dec_kv(sp_t *p, const yaml_node_t *n, const char *path, bool labels, const char *tmpl_name, kvl_t *out)
{
    if (!sp_mapping(p, n, path)) {
        return;
    }
    for (sp_iter_t it = { .map = n, .path = path }; sp_next(p, &it);) {
        const yaml_node_t *k = it.k, *v = it.v;
        const char *name = it.key, *kp = it.kp;
        const char *value = NULL;
        if (!dec_str(p, v, kp, &value)) {
            continue;
        }
        if (!labels_valid_label_name(str_from(name, k->data.scalar.length))) { /* a NUL in a key is invalid */
            sp_err(p, k, kp, "invalid %s name", labels ? "label" : "annotation");
            continue;
        }
        if (labels && strcmp(name, "__name__") == 0) {
            sp_err(p, k, kp, "__name__ cannot be set");
            continue;
        }
        if (labels && strncmp(name, "sloth_", 6) == 0) {
            sp_err(p, k, kp, "labels starting with sloth_ are set by the generator");
            continue;
        }
        if (!str_utf8_valid(value, strlen(value))) {
            sp_err(p, v, kp, "invalid UTF-8");
            continue;
        }
        if (tmpl_name) {
            const char *why = alerts_rules_template_check(tmpl_name, value, p->a);
            if (why) {
                sp_err(p, v, kp, "%s", why);
                continue;
            }
        }
        kvl_set(p->a, out, arena_strndup(p->a, name, strlen(name)), value);
    }
}

static void dec_sev(sp_t *p, const yaml_node_t *n, const char *path, const char *tmpl_name, slo_sev_t *s)
{
    if (!sp_mapping(p, n, path)) {
        return;
    }
    for (sp_iter_t it = { .map = n, .path = path }; sp_next(p, &it);) {
        const yaml_node_t *k = it.k, *v = it.v;
        const char *key = it.key, *kp = it.kp;
        if (strcmp(key, "labels") == 0) {
            dec_kv(p, v, kp, true, tmpl_name, &s->labels);
        } else if (strcmp(key, "annotations") == 0) {
            dec_kv(p, v, kp, false, tmpl_name, &s->annotations);
        } else if (strcmp(key, "disable") == 0) {
            dec_bool(p, v, kp, &s->disable);
        } else {
            sp_err(p, k, kp, "unknown field");
        }
    }
}

/* The alert name, found before the rest of `alerting` (templates are
 * checked under it, as the rule loader does). */
static const char *alert_name_of(sp_t *p, const yaml_node_t *n)
{
    if (n->type != YAML_MAPPING_NODE) {
        return NULL;
    }
    for (size_t i = 0; i < yamldoc_map_len(n); i++) {
        const yaml_node_t *k = NULL, *v = NULL;
        yamldoc_map_at(p->doc, n, i, &k, &v);
        if (v && yamldoc_key_is(k, "name") && v->type == YAML_SCALAR_NODE && !is_null(v)) {
            return yamldoc_str(v);
        }
    }
    return NULL;
}

static const char *derived_alert_name(sp_t *p, const slo_def_t *s)
{
    buf_t b = { 0 };
    camel(&b, s->service);
    camel(&b, s->name);
    buf_puts(&b, "SLO");
    char *r = arena_strndup(p->a, (const char *)b.data, b.len);
    buf_fini(&b);
    return r;
}

static void dec_alerting(sp_t *p, const yaml_node_t *n, const char *path, slo_def_t *s)
{
    if (!sp_mapping(p, n, path)) {
        return;
    }
    const char *aname = alert_name_of(p, n);
    char *tmpl_name = sp_fmt(p->a, "__alert_%s", aname ? aname : derived_alert_name(p, s));
    for (sp_iter_t it = { .map = n, .path = path }; sp_next(p, &it);) {
        const yaml_node_t *k = it.k, *v = it.v;
        const char *key = it.key, *kp = it.kp;
        if (strcmp(key, "name") == 0) {
            const char *name = NULL;
            if (dec_str(p, v, kp, &name)) {
                if (*name == 0) {
                    sp_err(p, v, kp, "must not be empty");
                } else if (!str_utf8_valid(name, strlen(name))) {
                    sp_err(p, v, kp, "invalid UTF-8");
                } else {
                    s->alert_name = name;
                }
            }
        } else if (strcmp(key, "labels") == 0) {
            dec_kv(p, v, kp, true, tmpl_name, &s->alert_labels);
        } else if (strcmp(key, "annotations") == 0) {
            dec_kv(p, v, kp, false, tmpl_name, &s->alert_annotations);
        } else if (strcmp(key, "page") == 0) {
            dec_sev(p, v, kp, tmpl_name, &s->page);
        } else if (strcmp(key, "ticket") == 0) {
            dec_sev(p, v, kp, tmpl_name, &s->ticket);
        } else {
            sp_err(p, k, kp, "unknown field");
        }
    }
}

/* Replace every {{.window}} (spaces allowed inside the braces, as Go's
 * template does) in q with w. NULL with *why set when q holds another
 * action or no {{.window}} at all. */
static char *subst_window(arena_t *a, const char *q, const char *w, const char **why)
{
    buf_t b = { 0 };
    size_t hits = 0;
    char *r = NULL;
    *why = NULL;
    for (const char *s = q; *s;) {
        if (s[0] != '{' || s[1] != '{') {
            buf_putc(&b, (uint8_t)*s++);
            continue;
        }
        const char *t = s + 2;
        while (*t == ' ' || *t == '\t') {
            t++;
        }
        if (strncmp(t, ".window", 7) != 0) {
            *why = "only the {{.window}} placeholder is allowed";
            goto done;
        }
        t += 7;
        while (*t == ' ' || *t == '\t') {
            t++;
        }
        if (t[0] != '}' || t[1] != '}') {
            *why = "only the {{.window}} placeholder is allowed";
            goto done;
        }
        buf_puts(&b, w);
        hits++;
        s = t + 2;
    }
    if (hits == 0) {
        *why = "must use the {{.window}} placeholder as its rate window";
        goto done;
    }
    r = arena_strndup(a, b.data ? (const char *)b.data : "", b.len);
done:
    buf_fini(&b);
    return r;
}

/* A user query: a non-empty string whose every window substitution is a
 * PromQL instant vector or scalar. */
static void dec_query(sp_t *p, const yaml_node_t *n, const char *path, const char **dst, alerts_rules_pos_t *pos)
{
    const char *q = NULL;
    if (!dec_str(p, n, path, &q)) {
        return;
    }
    if (*q == 0) {
        sp_err(p, n, path, "must not be empty");
        return;
    }
    const char *why = NULL;
    char *text = subst_window(p->scratch, q, "5m", &why);
    if (!text) {
        sp_err(p, n, path, "%s", why);
        return;
    }
    promql_node_t *tree = NULL;
    promql_error_t perr;
    if (promql_parse(text, strlen(text), p->scratch, &tree, &perr) != 0) {
        sp_err(p, n, path, "%s", perr.msg);
        return;
    }
    promql_type_t t = promql_node_type(tree);
    promql_release(tree);
    if (t != PROMQL_TYPE_VECTOR && t != PROMQL_TYPE_SCALAR) {
        sp_err(p, n, path, "expected an instant vector or a scalar, got %s", promql_type_str(t));
        return;
    }
    *dst = q;
    *pos = npos(n);
}

static void dec_sli(sp_t *p, const yaml_node_t *n, const char *path, slo_def_t *s)
{
    if (is_null(n)) {
        sp_err(p, n, path, "needs error_query or good_query, and total_query");
        return;
    }
    if (!sp_mapping(p, n, path)) {
        return;
    }
    for (sp_iter_t it = { .map = n, .path = path }; sp_next(p, &it);) {
        const yaml_node_t *k = it.k, *v = it.v;
        const char *key = it.key, *kp = it.kp;
        if (strcmp(key, "error_query") == 0) {
            dec_query(p, v, kp, &s->error_q, &s->error_pos);
        } else if (strcmp(key, "good_query") == 0) {
            dec_query(p, v, kp, &s->good_q, &s->good_pos);
        } else if (strcmp(key, "total_query") == 0) {
            dec_query(p, v, kp, &s->total_q, &s->total_pos);
        } else {
            sp_err(p, k, kp, "unknown field");
        }
    }
    if (s->bad) {
        return;
    }
    if (s->error_q && s->good_q) {
        sp_err(p, n, path, "error_query and good_query are exclusive");
    } else if (!s->error_q && !s->good_q) {
        sp_err(p, n, path, "needs error_query or good_query");
    }
    if (!s->total_q) {
        sp_err(p, n, path, "needs total_query");
    }
}

static void dec_objective(sp_t *p, const yaml_node_t *n, const char *path, slo_def_t *s)
{
    double v = 0;
    bool num = false;
    if (n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        const char *t = yamldoc_str(n);
        num = *t && strspn(t, "0123456789.eE+-") == strlen(t) && str_parse_double(str_cstr(t), &v) && isfinite(v);
    }
    if (!num) {
        if (n->type == YAML_SCALAR_NODE) {
            sp_err(p, n, path, "expected a number (percent), got \"%s\"", yamldoc_str(n));
        } else {
            sp_err(p, n, path, "expected a number (percent), got %s", kind_name(n));
        }
        return;
    }
    if (!(v > 0 && v < 100)) {
        sp_err(p, n, path, "must be greater than 0 and less than 100 (a percentage), got %s", yamldoc_str(n));
        return;
    }
    s->objective = v;
    s->has_objective = true;
}

static void dec_window(sp_t *p, const yaml_node_t *n, const char *path, slo_def_t *s)
{
    const char *t = NULL;
    if (!dec_str(p, n, path, &t)) {
        return;
    }
    int64_t ms = 0;
    const char *why = alerts_rules_parse_duration(t, &ms, p->a);
    if (why) {
        sp_err(p, n, path, "%s", why);
        return;
    }
    if (ms % SLO_DAY_MS != 0 || ms < SLO_MIN_WINDOW_MS || ms > SLO_MAX_WINDOW_MS) {
        sp_err(p, n, path, "must be a whole number of days from 7d to 90d, got %s", t);
        return;
    }
    s->window_ms = ms;
}

static void dec_slo(sp_t *p, const yaml_node_t *n, size_t idx, slo_def_t *s)
{
    s->path = sp_fmt(p->a, "slos[%zu]", idx);
    s->pos = npos(n);
    s->window_ms = SLO_DEFAULT_WINDOW_MS;
    s->description = "";
    p->cur = s;
    if (is_null(n)) {
        sp_err(p, n, s->path, "expected a mapping, got null");
        return;
    }
    if (!sp_mapping(p, n, s->path)) {
        return;
    }
    const yaml_node_t *alerting = NULL;
    const yaml_node_t *sli = NULL;
    for (sp_iter_t it = { .map = n, .path = s->path }; sp_next(p, &it);) {
        const yaml_node_t *k = it.k, *v = it.v;
        const char *key = it.key, *kp = it.kp;
        if (strcmp(key, "service") == 0 || strcmp(key, "name") == 0) {
            const char *val = NULL;
            if (!dec_str(p, v, kp, &val)) {
                continue;
            }
            if (!valid_ident(val)) {
                sp_err(p, v, kp, "must start with a letter or digit and hold only letters, digits, '_', '-' and '.'");
                continue;
            }
            *(key[0] == 's' ? &s->service : &s->name) = val;
        } else if (strcmp(key, "objective") == 0) {
            dec_objective(p, v, kp, s);
        } else if (strcmp(key, "window") == 0) {
            dec_window(p, v, kp, s);
        } else if (strcmp(key, "description") == 0) {
            dec_str(p, v, kp, &s->description);
        } else if (strcmp(key, "labels") == 0) {
            dec_kv(p, v, kp, true, NULL, &s->labels);
        } else if (strcmp(key, "sli") == 0) {
            sli = v;
        } else if (strcmp(key, "alerting") == 0) {
            alerting = v;
        } else {
            sp_err(p, k, kp, "unknown field");
        }
    }
    static const char *const required[] = { "service", "name", "objective", "sli" };
    const void *have[] = { s->service, s->name, s->has_objective ? s : NULL, sli };
    for (size_t i = 0; i < 4; i++) {
        if (!have[i]) {
            /* present but invalid: already reported */
            if (yamldoc_map_find(p->doc, n, 0, required[i]) < 0) {
                sp_err(p, n, s->path, "missing field %s", required[i]);
            }
        }
    }
    if (sli) {
        dec_sli(p, sli, sub_path(p, s->path, "sli"), s);
    }
    if (s->service && s->name) {
        s->id = sp_fmt(p->a, "%s-%s", s->service, s->name);
        if (alerting) {
            dec_alerting(p, alerting, sub_path(p, s->path, "alerting"), s);
        }
    }
}

/* ---- expansion ---- */

typedef struct gen {
    sp_t *p;
    const slo_def_t *s;
    const char *filter; /* {sloth_id="…", sloth_service="…", sloth_slo="…"} */
    const char *budget; /* (100 - objective) / 100, shortest */
    const char *window; /* the SLO window, Prometheus-formatted */
} gen_t;

/* Parse text, check its type, and return it as promql_format prints it
 * (in the caller's arena); NULL after an error naming the SLO. */
static const char *gen_expr(gen_t *g, const char *text, const char *what)
{
    promql_node_t *tree = NULL;
    promql_error_t perr;
    if (promql_parse(text, strlen(text), g->p->scratch, &tree, &perr) != 0) {
        sp_push(g->p, g->s->pos.line, g->s->pos.col,
                sp_fmt(g->p->a, "%s: generated %s does not parse: %s: %s", g->s->path, what, perr.msg, text));
        return NULL;
    }
    promql_type_t t = promql_node_type(tree);
    if (t != PROMQL_TYPE_VECTOR && t != PROMQL_TYPE_SCALAR) {
        promql_release(tree);
        sp_push(g->p, g->s->pos.line, g->s->pos.col,
                sp_fmt(g->p->a, "%s: generated %s is a %s: %s", g->s->path, what, promql_type_str(t), text));
        return NULL;
    }
    buf_t b = { 0 };
    promql_format(tree, &b);
    promql_release(tree);
    const char *r = arena_strndup(g->p->a, (const char *)b.data, b.len);
    buf_fini(&b);
    return r;
}

static alerts_rule_t *gen_rule(gen_t *g, alerts_rules_group_t *grp, const char *record, const char *alert,
                               const char *expr, alerts_rules_pos_t expr_pos, kvl_t *labels, kvl_t *annotations)
{
    alerts_rule_t *r = &grp->rules[grp->nrules++];
    *r = (alerts_rule_t){ .record = record ? record : "",
                          .alert = alert ? alert : "",
                          .expr = expr,
                          .record_pos = record ? g->s->pos : (alerts_rules_pos_t){ 0, 0 },
                          .alert_pos = alert ? g->s->pos : (alerts_rules_pos_t){ 0, 0 },
                          .expr_pos = expr_pos };
    if (labels) {
        kvl_sort(labels);
        r->labels = labels->v;
        r->nlabels = labels->n;
    }
    if (annotations) {
        kvl_sort(annotations);
        r->annotations = annotations->v;
        r->nannotations = annotations->n;
    }
    return r;
}

/* sloth_id, sloth_service, sloth_slo, then the SLO's labels. */
static kvl_t gen_labels(gen_t *g)
{
    kvl_t l = { 0 };
    kvl_set(g->p->a, &l, "sloth_id", g->s->id);
    kvl_set(g->p->a, &l, "sloth_service", g->s->service);
    kvl_set(g->p->a, &l, "sloth_slo", g->s->name);
    kvl_merge(g->p->a, &l, &g->s->labels);
    return l;
}

static bool gen_sli_group(gen_t *g, alerts_rules_group_t *grp)
{
    const slo_def_t *s = g->s;
    arena_t *a = g->p->a;
    *grp = (alerts_rules_group_t){ 0 };
    grp->name = sp_fmt(a, "sloth-slo-sli-recordings-%s", s->id);
    grp->pos = s->pos;
    grp->rules = arena_calloc(a, SLO_NWINDOWS + 1, sizeof(*grp->rules));
    bool ok = true;
    for (size_t i = 0; i < SLO_NWINDOWS; i++) {
        const char *w = slo_windows[i];
        const char *why = NULL;
        const char *total = subst_window(g->p->scratch, s->total_q, w, &why);
        const char *text = NULL;
        alerts_rules_pos_t pos = s->total_pos;
        if (s->error_q) {
            text =
                sp_fmt(g->p->scratch, "(%s\n)\n/\n(%s\n)\n", subst_window(g->p->scratch, s->error_q, w, &why), total);
            pos = s->error_pos;
        } else {
            text = sp_fmt(g->p->scratch, "1 - ((%s\n)\n/\n(%s\n))\n", subst_window(g->p->scratch, s->good_q, w, &why),
                          total);
            pos = s->good_pos;
        }
        const char *record = sp_fmt(a, "slo:sli_error:ratio_rate%s", w);
        const char *expr = gen_expr(g, text, record);
        if (!expr) {
            ok = false;
            continue;
        }
        kvl_t l = gen_labels(g);
        kvl_set(a, &l, "sloth_window", w);
        gen_rule(g, grp, record, NULL, expr, pos, &l, NULL);
    }
    /* The period ratio from the 5m ratio (Sloth's "optimized" rule): the
     * source series carry the SLO's labels, only the window changes. */
    const char *text = sp_fmt(g->p->scratch,
                              "sum_over_time(slo:sli_error:ratio_rate5m%s[%s])\n/ ignoring (sloth_window)\n"
                              "count_over_time(slo:sli_error:ratio_rate5m%s[%s])\n",
                              g->filter, g->window, g->filter, g->window);
    const char *record = sp_fmt(a, "slo:sli_error:ratio_rate%s", g->window);
    const char *expr = gen_expr(g, text, record);
    if (!expr) {
        return false;
    }
    kvl_t l = { 0 };
    kvl_set(a, &l, "sloth_window", g->window);
    gen_rule(g, grp, record, NULL, expr, s->pos, &l, NULL);
    return ok;
}

static bool gen_meta_group(gen_t *g, alerts_rules_group_t *grp)
{
    const slo_def_t *s = g->s;
    arena_t *a = g->p->a;
    arena_t *t = g->p->scratch;
    *grp = (alerts_rules_group_t){ 0 };
    grp->name = sp_fmt(a, "sloth-slo-meta-recordings-%s", s->id);
    grp->pos = s->pos;
    grp->rules = arena_calloc(a, 7, sizeof(*grp->rules));
    const char *ratio = go_float(t, s->objective / 100, 'g');
    const char *pct = go_float(a, s->objective, 'f');
    char days[32];
    snprintf(days, sizeof(days), "%lld", (long long)(s->window_ms / SLO_DAY_MS));
    static const char burn_fmt[] = "%s%s\n/ on (sloth_id, sloth_slo, sloth_service) group_left\n"
                                   "slo:error_budget:ratio%s\n";
    const struct {
        const char *record;
        const char *text;
    } rows[] = {
        { "slo:objective:ratio", sp_fmt(t, "vector(%s)", ratio) },
        { "slo:error_budget:ratio", sp_fmt(t, "vector(1-%s)", ratio) },
        { "slo:time_period:days", sp_fmt(t, "vector(%s)", days) },
        { "slo:current_burn_rate:ratio", sp_fmt(t, burn_fmt, "slo:sli_error:ratio_rate5m", g->filter, g->filter) },
        { "slo:period_burn_rate:ratio",
          sp_fmt(t, burn_fmt, sp_fmt(t, "slo:sli_error:ratio_rate%s", g->window), g->filter, g->filter) },
        { "slo:period_error_budget_remaining:ratio", sp_fmt(t, "1 - slo:period_burn_rate:ratio%s", g->filter) },
        { "sloth_slo_info", "vector(1)" },
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *expr = gen_expr(g, rows[i].text, rows[i].record);
        if (!expr) {
            return false;
        }
        kvl_t l = gen_labels(g);
        if (i == 6) {
            kvl_set(a, &l, "sloth_mode", SLO_INFO_MODE);
            kvl_set(a, &l, "sloth_objective", pct);
            kvl_set(a, &l, "sloth_spec", SLO_INFO_SPEC);
            kvl_set(a, &l, "sloth_version", SLO_INFO_VERSION);
        }
        gen_rule(g, grp, rows[i].record, NULL, expr, s->pos, &l, NULL);
    }
    return true;
}

/* One severity's alert: its two burn-rate rows ORed. */
static bool gen_alert(gen_t *g, alerts_rules_group_t *grp, const char *severity, const slo_sev_t *sev)
{
    const slo_def_t *s = g->s;
    arena_t *a = g->p->a;
    buf_t b = { 0 };
    size_t rows = 0;
    for (size_t i = 0; i < sizeof(slo_burns) / sizeof(slo_burns[0]); i++) {
        const slo_burn_t *r = &slo_burns[i];
        if (strcmp(r->severity, severity) != 0) {
            continue;
        }
        /* share x window / long window, e.g. 0.02 x 720h / 1h = 14.4. */
        buf_t fb = { 0 };
        int64_t window_h = s->window_ms / 3600000;
        json_go_float(&fb, (double)(r->budget_permille * window_h) / (1000.0 * (double)r->long_hours), 'g');
        char factor[40];
        snprintf(factor, sizeof(factor), "%.*s", (int)fb.len, (const char *)fb.data);
        buf_fini(&fb);
        buf_printf(&b,
                   "%s(\n    (slo:sli_error:ratio_rate%s%s > (%s * %s))\n    and ignoring (sloth_window)\n"
                   "    (slo:sli_error:ratio_rate%s%s > (%s * %s))\n)\n",
                   rows++ ? "or ignoring (sloth_window)\n" : "", r->short_w, g->filter, factor, g->budget, r->long_w,
                   g->filter, factor, g->budget);
    }
    buf_putc(&b, 0);
    const char *name = s->alert_name ? s->alert_name : derived_alert_name(g->p, s);
    const char *expr = gen_expr(g, (const char *)b.data, sp_fmt(g->p->scratch, "%s alert", severity));
    buf_fini(&b);
    if (!expr) {
        return false;
    }
    kvl_t l = { 0 };
    kvl_set(a, &l, "sloth_severity", severity);
    kvl_merge(a, &l, &s->alert_labels);
    kvl_merge(a, &l, &sev->labels);
    kvl_t an = { 0 };
    kvl_set(a, &an, "title",
            sp_fmt(a, "(%s) {{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate is too fast.",
                   severity));
    kvl_set(a, &an, "summary",
            "{{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate is over "
            "expected.");
    kvl_merge(a, &an, &s->alert_annotations);
    kvl_merge(a, &an, &sev->annotations);
    gen_rule(g, grp, NULL, name, expr, s->pos, &l, &an);
    return true;
}

/* Append the groups of SLO s to f (room reserved by the caller). */
static bool gen_slo(sp_t *p, const slo_def_t *s, alerts_rules_file_t *f)
{
    gen_t g = { .p = p, .s = s };
    g.filter = sp_fmt(p->a, "{sloth_id=\"%s\", sloth_service=\"%s\", sloth_slo=\"%s\"}", s->id, s->service, s->name);
    g.budget = go_float(p->a, (100 - s->objective) / 100, 'g');
    char window[64];
    g.window = arena_strndup(p->a, window, str_format_duration_ms(s->window_ms, window));
    size_t first = f->ngroups;
    bool ok = gen_sli_group(&g, &f->groups[f->ngroups++]);
    ok = ok && gen_meta_group(&g, &f->groups[f->ngroups++]);
    if (ok && !(s->page.disable && s->ticket.disable)) {
        alerts_rules_group_t *grp = &f->groups[f->ngroups++];
        *grp = (alerts_rules_group_t){ 0 };
        grp->name = sp_fmt(p->a, "sloth-slo-alerts-%s", s->id);
        grp->pos = s->pos;
        grp->rules = arena_calloc(p->a, 2, sizeof(*grp->rules));
        if (!s->page.disable) {
            ok = ok && gen_alert(&g, grp, "page", &s->page);
        }
        if (!s->ticket.disable) {
            ok = ok && gen_alert(&g, grp, "ticket", &s->ticket);
        }
    }
    if (!ok) {
        f->ngroups = first;
    }
    return ok;
}

/* The rule loader's validation of s's groups (f->groups[first..]): the
 * groups printed as a rule file and parsed back. */
static void check_slo(sp_t *p, const slo_def_t *s, const alerts_rules_file_t *f, size_t first)
{
    alerts_rules_file_t one = { .groups = f->groups + first, .ngroups = f->ngroups - first };
    buf_t y = { 0 };
    alerts_slo_write_yaml(&one, &y);
    alerts_rules_file_t *back = NULL;
    alerts_rules_error_t *errs = NULL;
    size_t nerrs = 0;
    if (alerts_rules_parse((const char *)y.data, y.len, p->scratch, &back, &errs, &nerrs) != 0) {
        for (size_t i = 0; i < nerrs; i++) {
            sp_push(p, s->pos.line, s->pos.col, sp_fmt(p->a, "%s: generated rules: %s", s->path, errs[i].text));
        }
    }
    buf_fini(&y);
}

/* ---- the whole file ---- */

static void sp_syntax(sp_t *p, const yamldoc_error_t *e)
{
    const yaml_mark_t *m = e->context ? &e->context_mark : &e->problem_mark;
    if (e->problem_mark.line || e->problem_mark.column) {
        m = &e->problem_mark;
    }
    sp_push(p, (unsigned)m->line + 1, (unsigned)m->column + 1,
            sp_fmt(p->a, "yaml: %s%s%s", e->context ? e->context : "", e->context ? ": " : "",
                   e->problem ? e->problem : "syntax error"));
}

static void decode_all(sp_t *p, const yaml_node_t *root, slo_def_t **defs, size_t *ndefs)
{
    *defs = NULL;
    *ndefs = 0;
    if (!root || is_null(root)) {
        return;
    }
    if (root->type != YAML_MAPPING_NODE) {
        sp_err(p, root, "top level", "expected a mapping with the key slos, got %s", kind_name(root));
        return;
    }
    if (!sp_mapping(p, root, "")) {
        return;
    }
    for (size_t i = 0; i < yamldoc_map_len(root); i++) {
        const yaml_node_t *k = NULL, *v = NULL;
        yamldoc_map_at(p->doc, root, i, &k, &v);
        if (!k || k->type != YAML_SCALAR_NODE || !v) {
            continue;
        }
        if (strcmp(yamldoc_str(k), "slos") != 0) {
            sp_err(p, k, yamldoc_str(k), "unknown field (an SLO file has only slos)");
            continue;
        }
        if (is_null(v)) {
            continue;
        }
        if (v->type != YAML_SEQUENCE_NODE) {
            sp_err(p, v, "slos", "expected a sequence, got %s", kind_name(v));
            continue;
        }
        size_t cnt = yamldoc_seq_len(v);
        *defs = arena_calloc(p->a, cnt ? cnt : 1, sizeof(**defs));
        for (size_t j = 0; j < cnt; j++) {
            slo_def_t *s = &(*defs)[(*ndefs)++];
            dec_slo(p, yamldoc_seq_at(p->doc, v, j), *ndefs - 1, s);
            p->cur = NULL;
        }
    }
    for (size_t i = 0; i < *ndefs; i++) {
        for (size_t j = 0; j < i && (*defs)[i].id; j++) {
            if ((*defs)[j].id && strcmp((*defs)[i].id, (*defs)[j].id) == 0) {
                p->cur = &(*defs)[i];
                sp_push(p, (*defs)[i].pos.line, (*defs)[i].pos.col,
                        sp_fmt(p->a, "%s: SLO %s is repeated (first at line %u)", (*defs)[i].path, (*defs)[i].id,
                               (*defs)[j].pos.line));
                p->cur = NULL;
                break;
            }
        }
    }
}

int alerts_slo_parse(const char *text, size_t len, arena_t *a, alerts_rules_file_t **out, alerts_rules_error_t **errs,
                     size_t *nerrs)
{
    assert(a && out && errs && nerrs);
    sp_t p = { .a = a, .scratch = arena_create(1 << 16) };
    *out = NULL;
    *errs = NULL;
    *nerrs = 0;
    alerts_rules_file_t *f = arena_calloc(a, 1, sizeof(*f));
    yaml_document_t doc;
    yamldoc_error_t ye;
    bool have_doc = false;
    yamldoc_status_t st = yamldoc_load(text, len, &doc, &ye);
    if (st == YAMLDOC_ENOMEM) {
        sp_push(&p, 0, 0, "yaml: out of memory");
        goto done;
    }
    if (st != YAMLDOC_OK) {
        sp_syntax(&p, &ye);
        goto done;
    }
    have_doc = true;
    p.doc = &doc;
    slo_def_t *defs = NULL;
    size_t ndefs = 0;
    decode_all(&p, yaml_document_get_root_node(&doc), &defs, &ndefs);
    f->groups = arena_calloc(a, ndefs * 3 + 1, sizeof(*f->groups));
    for (size_t i = 0; i < ndefs; i++) {
        if (defs[i].bad) {
            continue;
        }
        size_t first = f->ngroups;
        if (gen_slo(&p, &defs[i], f)) {
            check_slo(&p, &defs[i], f, first);
        }
    }
    for (size_t j = 0; j < f->ngroups; j++) {
        f->nrules += f->groups[j].nrules;
    }
done:
    if (have_doc) {
        yaml_document_delete(&doc);
    }
    arena_destroy(p.scratch);
    if (p.nerrs) {
        *errs = p.errs;
        *nerrs = p.nerrs;
        return -1;
    }
    *out = f;
    return 0;
}

int alerts_slo_load(const char *path, arena_t *a, alerts_rules_file_t **out, alerts_rules_error_t **errs, size_t *nerrs)
{
    assert(path && a && out && errs && nerrs);
    return alerts_rules_load_with(path, a, alerts_slo_parse, out, errs, nerrs);
}

/* ---- writing a rule file ---- */

/* Plain when it reads back as the same string (no YAML indicator, not a
 * null, bool or number). */
static bool yaml_plain_ok(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_')) {
        return false;
    }
    for (const char *c = s; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' ||
              *c == ':' || *c == '.' || *c == '-' || *c == '/')) {
            return false;
        }
    }
    static const char *const words[] = { "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE",
                                         "yes",  "Yes",  "YES",  "no",   "No",   "NO",   "on",    "On",    "ON",
                                         "off",  "Off",  "OFF",  "y",    "Y",    "n",    "N" };
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strcmp(s, words[i]) == 0) {
            return false;
        }
    }
    return s[strlen(s) - 1] != ':';
}

/* Code point at s (valid UTF-8 assumed where the lead byte says so). */
static uint32_t utf8_cp(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    uint32_t cp = n == 2 ? u[0] & 0x1f : n == 3 ? u[0] & 0x0f : u[0] & 0x07;
    for (size_t i = 1; i < n; i++) {
        cp = (cp << 6) | (u[i] & 0x3f);
    }
    return cp;
}

/* Bytes YAML would not keep as-is in a single-quoted one-line scalar. */
static bool yaml_needs_escape(const char *s)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            return true;
        }
        if (c >= 0x80) {
            size_t n = alerts_rules_utf8_len(s + i, len - i);
            if (n == 0) {
                return true;
            }
            uint32_t cp = utf8_cp(s + i, n);
            if (cp == 0x85 || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff || (cp >= 0x80 && cp < 0xa0)) {
                return true;
            }
            i += n - 1;
        }
    }
    /* Leading or trailing blanks survive quoting; nothing else to do. */
    return false;
}

static void yaml_scalar(buf_t *b, const char *s)
{
    if (*s && yaml_plain_ok(s)) {
        buf_puts(b, s);
        return;
    }
    if (!yaml_needs_escape(s)) {
        buf_putc(b, '\'');
        for (const char *c = s; *c; c++) {
            if (*c == '\'') {
                buf_putc(b, '\'');
            }
            buf_putc(b, (uint8_t)*c);
        }
        buf_putc(b, '\'');
        return;
    }
    buf_putc(b, '"');
    size_t len = strlen(s);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            buf_putc(b, '\\');
            buf_putc(b, c);
        } else if (c == '\n') {
            buf_puts(b, "\\n");
        } else if (c == '\t') {
            buf_puts(b, "\\t");
        } else if (c < 0x20 || c == 0x7f) {
            buf_printf(b, "\\x%02x", c);
        } else if (c < 0x80) {
            buf_putc(b, c);
        } else {
            size_t n = alerts_rules_utf8_len(s + i, len - i);
            if (n == 0) {
                buf_printf(b, "\\x%02x", c); /* not UTF-8: libyaml refuses the text anyway */
                continue;
            }
            uint32_t cp = utf8_cp(s + i, n);
            if (cp == 0x85 || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff || (cp >= 0x80 && cp < 0xa0)) {
                buf_printf(b, "\\u%04x", (unsigned)cp);
            } else {
                buf_append(b, s + i, n);
            }
            i += n - 1;
        }
    }
    buf_putc(b, '"');
}

static void yaml_kvs(buf_t *b, const char *indent, const char *key, const alerts_rules_kv_t *kv, size_t n)
{
    if (n == 0) {
        return;
    }
    buf_printf(b, "%s%s:\n", indent, key);
    for (size_t i = 0; i < n; i++) {
        buf_printf(b, "%s  ", indent);
        yaml_scalar(b, kv[i].name);
        buf_puts(b, ": ");
        yaml_scalar(b, kv[i].value);
        buf_putc(b, '\n');
    }
}

static void yaml_duration(buf_t *b, const char *indent, const char *key, int64_t ms)
{
    char d[64];
    str_format_duration_ms(ms, d);
    buf_printf(b, "%s%s: %s\n", indent, key, d);
}

void alerts_slo_write_yaml(const alerts_rules_file_t *f, buf_t *out)
{
    assert(f && out);
    buf_puts(out, f->ngroups ? "groups:\n" : "groups: []\n");
    for (size_t j = 0; j < f->ngroups; j++) {
        const alerts_rules_group_t *g = &f->groups[j];
        buf_puts(out, "  - name: ");
        yaml_scalar(out, g->name);
        buf_putc(out, '\n');
        if (g->interval_ms) {
            yaml_duration(out, "    ", "interval", g->interval_ms);
        }
        if (g->has_query_offset) {
            yaml_duration(out, "    ", "query_offset", g->query_offset_ms);
        }
        if (g->limit) {
            buf_printf(out, "    limit: %lld\n", (long long)g->limit);
        }
        yaml_kvs(out, "    ", "labels", g->labels, g->nlabels);
        buf_puts(out, g->nrules ? "    rules:\n" : "    rules: []\n");
        for (size_t i = 0; i < g->nrules; i++) {
            const alerts_rule_t *r = &g->rules[i];
            bool rec = *r->record != 0;
            buf_puts(out, rec ? "      - record: " : "      - alert: ");
            yaml_scalar(out, rec ? r->record : r->alert);
            buf_puts(out, "\n        expr: ");
            yaml_scalar(out, r->expr);
            buf_putc(out, '\n');
            if (r->for_ms) {
                yaml_duration(out, "        ", "for", r->for_ms);
            }
            if (r->keep_firing_for_ms) {
                yaml_duration(out, "        ", "keep_firing_for", r->keep_firing_for_ms);
            }
            yaml_kvs(out, "        ", "labels", r->labels, r->nlabels);
            yaml_kvs(out, "        ", "annotations", r->annotations, r->nannotations);
        }
    }
}

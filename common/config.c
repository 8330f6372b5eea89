/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config: YAML file and command-line flags into a struct, driven by a field
 * table. See config.h.
 *
 * The YAML file is loaded with libyaml's document API and walked as a tree:
 * a mapping key K under path P is the dotted key "P.K"; if a field has that
 * key its node is converted, if some field key starts with "P.K." the node
 * must be a mapping and is walked, otherwise K is unknown. The walk only
 * descends along field-key prefixes, so its depth is bounded by the table
 * (a recursive YAML alias cannot loop). Every error carries the 1-based line
 * of its node (or libyaml's problem line); dst stays safe to config_free.
 * libyaml's transient memory (plain malloc) is not in mem_used().
 *
 * One converter (config_parse_value) turns text into a field's value for
 * defaults, YAML scalars and flags alike. A plain YAML null sets a string
 * to "" and a list, map or table to empty; for other types it is a
 * "missing value" error. Booleans are YAML 1.2's true/false only. Byte
 * sizes take B, KB, MB, GB, TB (powers of 1000) and KiB .. TiB (1024).
 *
 * A MAP is a string list of pairs whose keys never repeat (O(n) scan per
 * insert, fine for label sets). A TABLE element is walked like the top
 * level with the element as dst, the sub-table as fields, and L->base where
 * relative keys start in "scrape.targets[1].interval"; descent still follows
 * the tables, so it is bounded unless a sub-table contains itself.
 */
#include "common/config.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <yaml.h>

#include "common/buf.h"
#include "common/mem.h"
#include "common/str.h"

#define CONFIG_FILE_MAX (16u << 20) /* bytes of YAML we agree to read */
#define CONFIG_QUOTE_MAX 64         /* bytes of a value echoed in errors */

static void *field_ptr(const config_field_t *f, void *dst)
{
    return (char *)dst + f->offset;
}

/* Append s quoted for an error message, escaping non-printables. */
static void config_quote(buf_t *b, str_t s)
{
    bool cut = s.len > CONFIG_QUOTE_MAX;
    size_t n = cut ? CONFIG_QUOTE_MAX : s.len;
    buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c == '"' || c == '\\') {
            buf_putc(b, '\\');
            buf_putc(b, c);
        } else if (c < 0x20 || c == 0x7F) {
            buf_printf(b, "\\x%02x", c);
        } else {
            buf_putc(b, c);
        }
    }
    buf_putc(b, '"');
    if (cut) {
        buf_puts(b, "...");
    }
}

static void copy_err(const buf_t *b, char *err, size_t errlen)
{
    if (err && errlen) {
        snprintf(err, errlen, "%s", b->len ? (const char *)b->data : "");
    }
}

static void strlist_clear(config_strlist_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        mem_free(l->v[i]);
    }
    mem_free(l->v);
    l->v = NULL;
    l->n = 0;
}

static void strlist_push(config_strlist_t *l, str_t s)
{
    l->v = mem_realloc(l->v, (l->n + 1) * sizeof(char *));
    l->v[l->n++] = s.len ? mem_strndup(s.p, s.len) : mem_strdup("");
}

/* Append the pair (k, v) to a MAP list. 0, or -1 with the reason appended
 * to why if k is empty or already present. O(pairs). */
static int map_put(config_strlist_t *l, str_t k, str_t v, buf_t *why)
{
    assert(l->n % 2 == 0);
    if (k.len == 0) {
        buf_puts(why, "empty key");
        return -1;
    }
    for (size_t i = 0; i < l->n; i += 2) {
        if (str_eq_cstr(k, l->v[i])) {
            buf_puts(why, "duplicate key ");
            config_quote(why, k);
            return -1;
        }
    }
    strlist_push(l, k);
    strlist_push(l, v);
    return 0;
}

/* "k=v" (split at the first '=') into a MAP list; see map_put. */
static int map_put_text(config_strlist_t *l, str_t s, buf_t *why)
{
    const char *eq = s.len ? memchr(s.p, '=', s.len) : NULL;
    if (!eq) {
        buf_puts(why, "invalid entry ");
        config_quote(why, s);
        buf_puts(why, " (want key=value)");
        return -1;
    }
    size_t klen = (size_t)(eq - s.p);
    return map_put(l, str_from(s.p, klen), str_from(eq + 1, s.len - klen - 1), why);
}

static void table_clear(const config_field_t *f, config_table_t *t)
{
    assert(f->type == CFG_TABLE);
    for (size_t i = 0; i < t->n; i++) {
        config_free(f->sub, f->nsub, (char *)t->v + i * f->elem_size);
    }
    mem_free(t->v);
    t->v = NULL;
    t->n = 0;
}

static bool parse_bool_strict(str_t s, bool *out)
{
    if (str_eq_cstr(s, "true") || str_eq_cstr(s, "True") || str_eq_cstr(s, "TRUE")) {
        *out = true;
        return true;
    }
    if (str_eq_cstr(s, "false") || str_eq_cstr(s, "False") || str_eq_cstr(s, "FALSE")) {
        *out = false;
        return true;
    }
    return false;
}

/* <digits>[ ]<unit>? with the units in the design comment. */
static bool parse_bytes(str_t s, int64_t *out)
{
    static const struct {
        const char *unit;
        int64_t mul;
    } units[] = {
        { "", 1 },
        { "B", 1 },
        { "KB", 1000LL },
        { "MB", 1000LL * 1000 },
        { "GB", 1000LL * 1000 * 1000 },
        { "TB", 1000LL * 1000 * 1000 * 1000 },
        { "KiB", 1LL << 10 },
        { "MiB", 1LL << 20 },
        { "GiB", 1LL << 30 },
        { "TiB", 1LL << 40 },
    };
    size_t i = 0;
    while (i < s.len && s.p[i] >= '0' && s.p[i] <= '9') {
        i++;
    }
    int64_t v = 0;
    if (i == 0 || !str_parse_i64(str_from(s.p, i), &v)) {
        return false;
    }
    size_t u = i;
    if (u < s.len && s.p[u] == ' ') {
        u++;
    }
    str_t unit = str_from(s.p + u, s.len - u);
    if (u > i && unit.len == 0) {
        return false; /* "12 " */
    }
    for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
        if (str_eq_cstr(unit, units[k].unit)) {
            return !__builtin_mul_overflow(v, units[k].mul, out);
        }
    }
    return false;
}

static void bound_text(config_type_t t, int64_t v, char *dst, size_t dstlen)
{
    if (t == CFG_DURATION && v >= 0) {
        char d[40];
        size_t n = str_format_duration_ms(v, d);
        snprintf(dst, dstlen, "%.*s", (int)n, d);
    } else {
        snprintf(dst, dstlen, "%lld", (long long)v);
    }
}

static int check_bounds(const config_field_t *f, int64_t v, str_t text, buf_t *why)
{
    if (f->min < f->max && (v < f->min || v > f->max)) {
        char lo[48], hi[48];
        bound_text(f->type, f->min, lo, sizeof(lo));
        bound_text(f->type, f->max, hi, sizeof(hi));
        buf_puts(why, "value ");
        config_quote(why, text);
        buf_printf(why, " out of range [%s, %s]", lo, hi);
        return -1;
    }
    return 0;
}

static int parse_enum(const config_field_t *f, str_t s, int *out, buf_t *why)
{
    for (int i = 0; f->enum_values && f->enum_values[i]; i++) {
        if (str_eq_cstr(s, f->enum_values[i])) {
            *out = i;
            return 0;
        }
    }
    buf_puts(why, "invalid value ");
    config_quote(why, s);
    buf_puts(why, " (want one of:");
    for (int i = 0; f->enum_values && f->enum_values[i]; i++) {
        buf_printf(why, "%s %s", i ? "," : "", f->enum_values[i]);
    }
    buf_putc(why, ')');
    return -1;
}

/* Convert text into f's slot (a list gets s appended). 0, or -1 with the
 * reason (no key prefix) appended to why. */
static int config_parse_value(const config_field_t *f, void *dst, str_t s, buf_t *why)
{
    void *slot = field_ptr(f, dst);
    int64_t v = 0;
    const char *what = NULL;
    switch (f->type) {
    case CFG_STR:
        mem_free(*(char **)slot);
        *(char **)slot = s.len ? mem_strndup(s.p, s.len) : mem_strdup("");
        return 0;
    case CFG_STRLIST:
        strlist_push(slot, s);
        return 0;
    case CFG_MAP:
        return map_put_text(slot, s, why);
    case CFG_TABLE:
        buf_puts(why, "only accepted in the config file");
        return -1;
    case CFG_BOOL:
        if (!parse_bool_strict(s, (bool *)slot)) {
            buf_puts(why, "invalid boolean ");
            config_quote(why, s);
            buf_puts(why, " (want true or false)");
            return -1;
        }
        return 0;
    case CFG_ENUM:
        return parse_enum(f, s, (int *)slot, why);
    case CFG_INT:
        what = str_parse_i64(s, &v) ? NULL : "integer";
        break;
    case CFG_DURATION:
        what = str_parse_duration_ms(s, &v) ? NULL : "duration";
        break;
    case CFG_BYTES:
        what = parse_bytes(s, &v) ? NULL : "size";
        break;
    default:
        buf_printf(why, "field has unknown type %d", (int)f->type);
        return -1;
    }
    if (what) {
        buf_printf(why, "invalid %s ", what);
        config_quote(why, s);
        return -1;
    }
    if (check_bounds(f, v, s, why) != 0) {
        return -1;
    }
    *(int64_t *)slot = v;
    return 0;
}

static void zero_field(const config_field_t *f, void *dst)
{
    void *slot = field_ptr(f, dst);
    switch (f->type) {
    case CFG_STR:
        *(char **)slot = NULL;
        break;
    case CFG_STRLIST:
    case CFG_MAP:
        *(config_strlist_t *)slot = (config_strlist_t){ 0 };
        break;
    case CFG_TABLE:
        *(config_table_t *)slot = (config_table_t){ 0 };
        break;
    case CFG_BOOL:
        *(bool *)slot = false;
        break;
    case CFG_ENUM:
        *(int *)slot = 0;
        break;
    default:
        *(int64_t *)slot = 0;
        break;
    }
}

int config_defaults(const config_field_t *f, size_t n, void *dst, char *err, size_t errlen)
{
    assert(f || n == 0);
    for (size_t i = 0; i < n; i++) {
        zero_field(&f[i], dst);
    }
    buf_t why = { 0 };
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *def = f[i].def;
        if (!def) {
            continue;
        }
        buf_reset(&why);
        buf_printf(&why, "%s: bad default: ", f[i].key);
        if (f[i].type == CFG_TABLE) {
            buf_puts(&why, "a table has no default text");
            rc = -1;
        } else if (f[i].type != CFG_STRLIST && f[i].type != CFG_MAP) {
            rc = config_parse_value(&f[i], dst, str_cstr(def), &why);
        } else {
            for (const char *p = def; *p && rc == 0;) {
                const char *comma = strchr(p, ',');
                size_t len = comma ? (size_t)(comma - p) : strlen(p);
                rc = config_parse_value(&f[i], dst, str_from(p, len), &why);
                p += len + (comma ? 1 : 0);
            }
        }
    }
    if (rc != 0) {
        copy_err(&why, err, errlen);
    }
    buf_fini(&why);
    return rc;
}

const config_field_t *config_find(const config_field_t *f, size_t n, const char *key, size_t keylen)
{
    for (size_t i = 0; i < n; i++) {
        if (strlen(f[i].key) == keylen && memcmp(f[i].key, key, keylen) == 0) {
            return &f[i];
        }
    }
    return NULL;
}

int config_set(const config_field_t *f, void *dst, const char *value, char *err, size_t errlen)
{
    buf_t why = { 0 };
    buf_printf(&why, "%s: ", f->key);
    int rc = config_parse_value(f, dst, str_cstr(value), &why);
    if (rc != 0) {
        copy_err(&why, err, errlen);
    }
    buf_fini(&why);
    return rc;
}

void config_free(const config_field_t *f, size_t n, void *dst)
{
    if (!dst) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        void *slot = field_ptr(&f[i], dst);
        if (f[i].type == CFG_STR) {
            mem_free(*(char **)slot);
            *(char **)slot = NULL;
        } else if (f[i].type == CFG_STRLIST || f[i].type == CFG_MAP) {
            strlist_clear(slot);
        } else if (f[i].type == CFG_TABLE) {
            table_clear(&f[i], slot);
        }
    }
}

/* ---- YAML ---- */

typedef struct cfg_load {
    const char *name;
    const config_field_t *f; /* the table being walked: top level or a TABLE's sub-table */
    size_t n;
    void *dst;   /* struct or table element that f's offsets are within */
    size_t base; /* bytes of path before the keys of f ("scrape.targets[1]." in an element) */
    yaml_document_t *doc;
    buf_t path; /* full dotted key of the node being walked, for messages */
    buf_t msg;
} cfg_load_t;

static int load_fail(cfg_load_t *L, size_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int load_fail(cfg_load_t *L, size_t line, const char *fmt, ...)
{
    buf_reset(&L->msg);
    buf_printf(&L->msg, "%s:%zu: ", L->name, line);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&L->msg, fmt, ap);
    va_end(ap);
    return -1;
}

static size_t node_line(const yaml_node_t *node)
{
    return node->start_mark.line + 1;
}

static str_t node_str(const yaml_node_t *node)
{
    return str_from((const char *)node->data.scalar.value, node->data.scalar.length);
}

static const char *node_kind(const yaml_node_t *node)
{
    switch (node->type) {
    case YAML_SCALAR_NODE:
        return "a scalar";
    case YAML_SEQUENCE_NODE:
        return "a sequence";
    case YAML_MAPPING_NODE:
        return "a mapping";
    default:
        return "nothing";
    }
}

static bool node_is_null(const yaml_node_t *node)
{
    if (node->type != YAML_SCALAR_NODE || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        return false;
    }
    str_t s = node_str(node);
    return s.len == 0 || str_eq_cstr(s, "~") || str_eq_cstr(s, "null") || str_eq_cstr(s, "Null") ||
           str_eq_cstr(s, "NULL");
}

/* The full dotted key of the node being walked, NUL-terminated. */
static const char *cur_path(const cfg_load_t *L)
{
    return L->path.len ? (const char *)L->path.data : "";
}

static void path_truncate(cfg_load_t *L, size_t len)
{
    L->path.len = len;
    if (L->path.cap) {
        L->path.data[len] = 0;
    }
}

static int load_scalar(cfg_load_t *L, const config_field_t *f, const yaml_node_t *node)
{
    buf_t why = { 0 };
    int rc = config_parse_value(f, L->dst, node_str(node), &why);
    if (rc != 0) {
        load_fail(L, node_line(node), "%s: %s", cur_path(L), (const char *)why.data);
    }
    buf_fini(&why);
    return rc;
}

static int load_strlist(cfg_load_t *L, const config_field_t *f, const yaml_node_t *node)
{
    strlist_clear(field_ptr(f, L->dst));
    if (node_is_null(node)) {
        return 0;
    }
    if (node->type != YAML_SEQUENCE_NODE) {
        return load_fail(L, node_line(node), "%s: expected a sequence, got %s", cur_path(L), node_kind(node));
    }
    for (yaml_node_item_t *it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++) {
        const yaml_node_t *item = yaml_document_get_node(L->doc, *it);
        if (!item || item->type != YAML_SCALAR_NODE) {
            return load_fail(L, item ? node_line(item) : node_line(node), "%s: expected a scalar in the list, got %s",
                             cur_path(L), item ? node_kind(item) : "nothing");
        }
        if (load_scalar(L, f, item) != 0) {
            return -1;
        }
    }
    return 0;
}

/* A MAP: scalar keys to scalar values (a null value is ""), in file order. */
static int load_map(cfg_load_t *L, const config_field_t *f, const yaml_node_t *node)
{
    config_strlist_t *l = field_ptr(f, L->dst);
    strlist_clear(l);
    if (node_is_null(node)) {
        return 0;
    }
    if (node->type != YAML_MAPPING_NODE) {
        return load_fail(L, node_line(node), "%s: expected a mapping, got %s", cur_path(L), node_kind(node));
    }
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = yaml_document_get_node(L->doc, p->key);
        const yaml_node_t *v = yaml_document_get_node(L->doc, p->value);
        if (!k || !v) {
            return load_fail(L, node_line(node), "malformed YAML document");
        }
        if (k->type != YAML_SCALAR_NODE) {
            return load_fail(L, node_line(k), "%s: expected a scalar key, got %s", cur_path(L), node_kind(k));
        }
        buf_t why = { 0 };
        if (v->type != YAML_SCALAR_NODE) {
            config_quote(&why, node_str(k));
            load_fail(L, node_line(v), "%s: expected a scalar value for key %s, got %s", cur_path(L),
                      (const char *)why.data, node_kind(v));
        } else if (map_put(l, node_str(k), node_is_null(v) ? str_cstr("") : node_str(v), &why) != 0) {
            load_fail(L, node_line(k), "%s: %s", cur_path(L), (const char *)why.data);
        }
        bool bad = why.len > 0;
        buf_fini(&why);
        if (bad) {
            return -1;
        }
    }
    return 0;
}

static int load_mapping(cfg_load_t *L, const yaml_node_t *map);

/* One TABLE element: path gets "[index]", the element gets its sub-table's
 * defaults and then the mapping item, walked with the sub-table. The
 * element is counted in t->n before it is filled, so config_free reaches it
 * on every error. */
static int load_element(cfg_load_t *L, const config_field_t *f, config_table_t *t, const yaml_node_t *item)
{
    size_t saved = L->path.len;
    buf_printf(&L->path, "[%zu]", t->n);
    if (item->type != YAML_MAPPING_NODE) {
        int rc = load_fail(L, node_line(item), "%s: expected a mapping, got %s", cur_path(L), node_kind(item));
        path_truncate(L, saved);
        return rc;
    }
    t->v = mem_realloc(t->v, (t->n + 1) * f->elem_size);
    void *elem = (char *)t->v + t->n * f->elem_size;
    memset(elem, 0, f->elem_size);
    t->n++;
    char derr[256] = "";
    int rc = 0;
    if (config_defaults(f->sub, f->nsub, elem, derr, sizeof(derr)) != 0) {
        rc = load_fail(L, node_line(item), "%s: %s", cur_path(L), derr);
    } else {
        cfg_load_t outer = *L;
        L->f = f->sub;
        L->n = f->nsub;
        L->dst = elem;
        L->base = L->path.len + 1;
        rc = load_mapping(L, item);
        L->f = outer.f;
        L->n = outer.n;
        L->dst = outer.dst;
        L->base = outer.base;
    }
    path_truncate(L, saved);
    return rc;
}

static int load_table(cfg_load_t *L, const config_field_t *f, const yaml_node_t *node)
{
    assert(f->sub && f->elem_size > 0);
    config_table_t *t = field_ptr(f, L->dst);
    table_clear(f, t);
    if (node_is_null(node)) {
        return 0;
    }
    if (node->type != YAML_SEQUENCE_NODE) {
        return load_fail(L, node_line(node), "%s: expected a sequence of mappings, got %s", cur_path(L),
                         node_kind(node));
    }
    for (yaml_node_item_t *it = node->data.sequence.items.start; it < node->data.sequence.items.top; it++) {
        const yaml_node_t *item = yaml_document_get_node(L->doc, *it);
        if (!item) {
            return load_fail(L, node_line(node), "malformed YAML document");
        }
        if (load_element(L, f, t, item) != 0) {
            return -1;
        }
    }
    return 0;
}

static int load_field(cfg_load_t *L, const config_field_t *f, const yaml_node_t *node)
{
    switch (f->type) {
    case CFG_STRLIST:
        return load_strlist(L, f, node);
    case CFG_MAP:
        return load_map(L, f, node);
    case CFG_TABLE:
        return load_table(L, f, node);
    default:
        break;
    }
    if (node->type != YAML_SCALAR_NODE) {
        return load_fail(L, node_line(node), "%s: expected a scalar, got %s", cur_path(L), node_kind(node));
    }
    if (node_is_null(node) && f->type != CFG_STR) {
        return load_fail(L, node_line(node), "%s: missing value", cur_path(L));
    }
    return load_scalar(L, f, node);
}

/* Does some field key start with prefix "." ? */
static bool is_section(const cfg_load_t *L, str_t prefix)
{
    for (size_t i = 0; i < L->n; i++) {
        const char *k = L->f[i].key;
        if (strlen(k) > prefix.len && memcmp(k, prefix.p, prefix.len) == 0 && k[prefix.len] == '.') {
            return true;
        }
    }
    return false;
}

static int load_pair(cfg_load_t *L, const yaml_node_pair_t *pair, const yaml_node_pair_t *first)
{
    const yaml_node_t *k = yaml_document_get_node(L->doc, pair->key);
    const yaml_node_t *v = yaml_document_get_node(L->doc, pair->value);
    if (!k || !v) {
        return load_fail(L, 1, "malformed YAML document");
    }
    if (k->type != YAML_SCALAR_NODE) {
        return load_fail(L, node_line(k), "expected a scalar key, got %s", node_kind(k));
    }
    str_t ks = node_str(k);
    for (const yaml_node_pair_t *q = first; q < pair; q++) {
        const yaml_node_t *qk = yaml_document_get_node(L->doc, q->key);
        if (qk && qk->type == YAML_SCALAR_NODE && str_eq(node_str(qk), ks)) {
            buf_t kq = { 0 };
            config_quote(&kq, ks);
            load_fail(L, node_line(k), "duplicate key %s", (const char *)kq.data);
            buf_fini(&kq);
            return -1;
        }
    }
    size_t saved = L->path.len;
    if (saved) {
        buf_putc(&L->path, '.');
    }
    buf_append(&L->path, ks.p, ks.len);
    str_t full = str_from((const char *)L->path.data, L->path.len);
    str_t rel = str_from(full.p + L->base, full.len - L->base);
    int rc = 0;
    const config_field_t *f = config_find(L->f, L->n, rel.p, rel.len);
    if (f && f->flag_only) {
        rc = load_fail(L, node_line(k), "%s: only accepted as a command-line flag", cur_path(L));
    } else if (f) {
        rc = load_field(L, f, v);
    } else if (is_section(L, rel)) {
        if (v->type == YAML_MAPPING_NODE) {
            rc = load_mapping(L, v);
        } else if (!node_is_null(v)) {
            rc = load_fail(L, node_line(v), "%.*s: expected a mapping, got %s", (int)full.len, full.p, node_kind(v));
        }
    } else {
        buf_t kq = { 0 };
        config_quote(&kq, full);
        rc = load_fail(L, node_line(k), "unknown key %s", (const char *)kq.data);
        buf_fini(&kq);
    }
    path_truncate(L, saved);
    return rc;
}

static int load_mapping(cfg_load_t *L, const yaml_node_t *map)
{
    const yaml_node_pair_t *first = map->data.mapping.pairs.start;
    for (const yaml_node_pair_t *p = first; p < map->data.mapping.pairs.top; p++) {
        if (load_pair(L, p, first) != 0) {
            return -1;
        }
    }
    return 0;
}

static size_t offset_line(const char *text, size_t len, size_t off)
{
    size_t line = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        line += text[i] == '\n';
    }
    return line;
}

static int yaml_syntax_fail(cfg_load_t *L, const yaml_parser_t *ps, const char *text, size_t len)
{
    size_t line =
        ps->error == YAML_READER_ERROR ? offset_line(text, len, ps->problem_offset) : ps->problem_mark.line + 1;
    return load_fail(L, line, "syntax error: %s", ps->problem ? ps->problem : "malformed YAML");
}

int config_load_text(const char *name, const char *text, size_t len, const config_field_t *f, size_t n, void *dst,
                     char *err, size_t errlen)
{
    assert(text || len == 0);
    cfg_load_t L = { .name = name ? name : "<config>", .f = f, .n = n, .dst = dst };
    yaml_parser_t ps;
    yaml_document_t doc;
    bool have_doc = false;
    int rc = -1;
    if (!yaml_parser_initialize(&ps)) {
        load_fail(&L, 1, "out of memory");
        goto done;
    }
    yaml_parser_set_input_string(&ps, (const unsigned char *)(text ? text : ""), len);
    if (!yaml_parser_load(&ps, &doc)) {
        yaml_syntax_fail(&L, &ps, text, len);
        goto done;
    }
    have_doc = true;
    L.doc = &doc;
    const yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root && root->type == YAML_MAPPING_NODE) {
        if (load_mapping(&L, root) != 0) {
            goto done;
        }
    } else if (root && !node_is_null(root)) {
        load_fail(&L, node_line(root), "expected a mapping at the top level, got %s", node_kind(root));
        goto done;
    }
    yaml_document_t next;
    if (!yaml_parser_load(&ps, &next)) {
        yaml_syntax_fail(&L, &ps, text, len);
        goto done;
    }
    const yaml_node_t *next_root = yaml_document_get_root_node(&next);
    size_t next_line = next_root ? node_line(next_root) : 0;
    yaml_document_delete(&next);
    if (next_root) {
        load_fail(&L, next_line, "multiple YAML documents are not supported");
        goto done;
    }
    rc = 0;
done:
    if (rc != 0) {
        copy_err(&L.msg, err, errlen);
    }
    if (have_doc) {
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&ps);
    buf_fini(&L.path);
    buf_fini(&L.msg);
    return rc;
}

int config_load_file(const char *path, const config_field_t *f, size_t n, void *dst, char *err, size_t errlen)
{
    buf_t text = { 0 };
    int rc = -1;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        goto done;
    }
    for (;;) {
        buf_reserve(&text, 64 * 1024);
        size_t got = fread(text.data + text.len, 1, text.cap - text.len - 1, fp);
        text.len += got;
        text.data[text.len] = 0;
        if (text.len > CONFIG_FILE_MAX) {
            snprintf(err, errlen, "%s: file is larger than %u bytes", path, CONFIG_FILE_MAX);
            goto done;
        }
        if (got == 0) {
            break;
        }
    }
    if (ferror(fp)) {
        snprintf(err, errlen, "%s: read error", path);
        goto done;
    }
    rc = config_load_text(path, (const char *)text.data, text.len, f, n, dst, err, errlen);
done:
    if (fp) {
        fclose(fp);
    }
    buf_fini(&text);
    return rc;
}

/* ---- help and flags ---- */

/* The type as a flag's "=<type>" (yaml false) or a YAML key's ": <type>". */
static void type_text(const config_field_t *f, bool yaml, buf_t *b)
{
    if (f->type == CFG_BOOL && !yaml) {
        return;
    }
    buf_puts(b, yaml ? ": " : "=");
    switch (f->type) {
    case CFG_STR:
        buf_puts(b, "<string>");
        break;
    case CFG_INT:
        buf_puts(b, "<int>");
        break;
    case CFG_BOOL:
        buf_puts(b, "<true|false>");
        break;
    case CFG_DURATION:
        buf_puts(b, "<duration>");
        break;
    case CFG_BYTES:
        buf_puts(b, "<bytes>");
        break;
    case CFG_ENUM:
        buf_putc(b, '<');
        for (size_t i = 0; f->enum_values && f->enum_values[i]; i++) {
            buf_printf(b, "%s%s", i ? "|" : "", f->enum_values[i]);
        }
        buf_putc(b, '>');
        break;
    case CFG_STRLIST:
        buf_puts(b, yaml ? "[<string>, ...]" : "<string>...");
        break;
    case CFG_MAP:
        buf_puts(b, yaml ? "{<key>: <value>, ...}" : "<key>=<value>...");
        break;
    case CFG_TABLE:
        buf_puts(b, "<list of mappings>");
        break;
    }
}

/* The first help column of f: "--key=<type>" at the top level, "key: <type>"
 * for a TABLE, and "- key: <type>" / "  key: <type>" indented by depth for
 * the fields of a TABLE element (first: the element's first field). */
static void help_col(const config_field_t *f, size_t depth, bool first, buf_t *col)
{
    buf_reset(col);
    if (depth == 0 && f->type != CFG_TABLE) {
        buf_printf(col, "--%s", f->key);
        type_text(f, false, col);
        return;
    }
    if (depth > 0) {
        buf_printf(col, "%*s%s", (int)(4 * depth - 2), "", first ? "- " : "  ");
    }
    buf_puts(col, f->key);
    type_text(f, true, col);
}

static size_t help_width(const config_field_t *f, size_t n, size_t depth, buf_t *col)
{
    size_t width = 0;
    for (size_t i = 0; i < n; i++) {
        help_col(&f[i], depth, i == 0, col);
        width = col->len > width ? col->len : width;
        if (f[i].type == CFG_TABLE) {
            size_t w = help_width(f[i].sub, f[i].nsub, depth + 1, col);
            width = w > width ? w : width;
        }
    }
    return width;
}

static void help_rows(FILE *out, const config_field_t *f, size_t n, size_t depth, size_t width, buf_t *col)
{
    for (size_t i = 0; i < n; i++) {
        help_col(&f[i], depth, i == 0, col);
        fprintf(out, "  %-*s  %s", (int)width, (const char *)col->data, f[i].help ? f[i].help : "");
        if (f[i].def && f[i].def[0]) {
            fprintf(out, " (default: %s)", f[i].def);
        }
        if (f[i].flag_only) {
            fputs(" [flag only]", out);
        }
        if (f[i].type == CFG_TABLE && depth == 0) {
            fputs(" [config file only]", out);
        }
        fputc('\n', out);
        if (f[i].type == CFG_TABLE) {
            help_rows(out, f[i].sub, f[i].nsub, depth + 1, width, col);
        }
    }
}

void config_print_help(FILE *out, const config_field_t *f, size_t n)
{
    buf_t col = { 0 };
    size_t width = help_width(f, n, 0, &col);
    help_rows(out, f, n, 0, width, &col);
    buf_fini(&col);
}

/* One "--key[=value]" at argv[*i]; advances *i past a separate value. */
static int parse_one_flag(int argc, char **argv, int *i, const config_field_t *f, size_t n, void *dst, bool *seen,
                          config_extra_fn extra, void *extra_ctx, buf_t *msg)
{
    const char *arg = argv[*i];
    bool dashdash = arg[0] == '-' && arg[1] == '-';
    if (arg[0] != '-' || arg[1] == '\0' || (dashdash && arg[2] == '\0')) {
        buf_puts(msg, "unexpected argument ");
        config_quote(msg, str_cstr(arg));
        return -1;
    }
    const char *key = arg + (dashdash ? 2 : 1);
    const char *eq = strchr(key, '=');
    size_t keylen = eq ? (size_t)(eq - key) : strlen(key);
    const char *value = eq ? eq + 1 : NULL;
    const config_field_t *fld = dashdash ? config_find(f, n, key, keylen) : NULL;
    if (!fld) {
        char *k = mem_strndup(key, keylen);
        int rc = extra ? extra(extra_ctx, k, value) : 1;
        mem_free(k);
        if (rc != 0) {
            buf_printf(msg, "unknown flag %s%.*s", dashdash ? "--" : "-", (int)keylen, key);
            return -1;
        }
        return 0;
    }
    if (fld->type == CFG_TABLE) {
        buf_printf(msg, "flag --%s: only accepted in the config file", fld->key);
        return -1;
    }
    if (!value && fld->type == CFG_BOOL) {
        value = "true";
    } else if (!value) {
        if (*i + 1 >= argc) {
            buf_printf(msg, "flag --%s needs a value", fld->key);
            return -1;
        }
        value = argv[++*i];
    }
    size_t idx = (size_t)(fld - f);
    if ((fld->type == CFG_STRLIST || fld->type == CFG_MAP) && !seen[idx]) {
        strlist_clear(field_ptr(fld, dst));
    }
    seen[idx] = true;
    buf_printf(msg, "flag --%s: ", fld->key);
    if (config_parse_value(fld, dst, str_cstr(value), msg) != 0) {
        return -1;
    }
    buf_reset(msg);
    return 0;
}

int config_parse_flags(int argc, char **argv, const config_field_t *f, size_t n, void *dst, config_extra_fn extra,
                       void *extra_ctx, char *err, size_t errlen)
{
    bool *seen = mem_calloc(n ? n : 1, sizeof(bool));
    buf_t msg = { 0 };
    int rc = 0;
    for (int i = 1; i < argc && rc == 0; i++) {
        rc = parse_one_flag(argc, argv, &i, f, n, dst, seen, extra, extra_ctx, &msg);
    }
    if (rc != 0) {
        copy_err(&msg, err, errlen);
    }
    buf_fini(&msg);
    mem_free(seen);
    return rc;
}

/* The last value given to flag key in argv (as config_parse_flags reads
 * flags: "--k=v", or "--k v" taking the next argument), into [out] *value
 * (heap; NULL when absent). Other flags' values are skipped over. */
static void config_flag_value(int argc, char **argv, const config_field_t *f, size_t n, const char *key, char **value)
{
    *value = NULL;
    size_t klen = strlen(key);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] != '-') {
            continue;
        }
        const char *k = a + 2, *eq = strchr(k, '=');
        size_t kl = eq ? (size_t)(eq - k) : strlen(k);
        const config_field_t *fld = config_find(f, n, k, kl);
        const char *v = eq ? eq + 1 : NULL;
        if (!v && fld && fld->type != CFG_BOOL && fld->type != CFG_TABLE && i + 1 < argc) {
            v = argv[++i];
        }
        if (v && kl == klen && memcmp(k, key, klen) == 0) {
            mem_free(*value);
            *value = mem_strdup(v);
        }
    }
}

int config_load_cli(int argc, char **argv, const config_field_t *f, size_t n, size_t file_offset, void *dst, char *err,
                    size_t errlen)
{
    if (config_defaults(f, n, dst, err, errlen) != 0) {
        return -1;
    }
    /* The file's name is itself a flag: read the flags once on the side
     * to find it, load the file, then apply the flags for real. */
    const config_field_t *ff = NULL;
    for (size_t i = 0; i < n; i++) {
        ff = f[i].offset == file_offset && f[i].type == CFG_STR ? &f[i] : ff;
    }
    if (ff) {
        char *file = NULL;
        int rc = 0;
        config_flag_value(argc, argv, f, n, ff->key, &file);
        if (file) {
            rc = config_load_file(file, f, n, dst, err, errlen);
        }
        mem_free(file);
        if (rc != 0) {
            return -1;
        }
    }
    return config_parse_flags(argc, argv, f, n, dst, NULL, NULL, err, errlen);
}

static const char *config_md_type(const config_field_t *f)
{
    static const char *const names[] = {
        [CFG_STR] = "string",        [CFG_INT] = "integer", [CFG_BOOL] = "boolean",
        [CFG_DURATION] = "duration", [CFG_BYTES] = "bytes", [CFG_ENUM] = "enum",
        [CFG_STRLIST] = "list",      [CFG_MAP] = "map",     [CFG_TABLE] = "list of mappings"
    };
    return names[f->type];
}

/* s with '|' escaped, as a Markdown table cell needs (even in code). */
static void config_md_cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|') {
            fputc('\\', out);
        }
        fputc(*s, out);
    }
}

static void config_md_row(FILE *out, const char *prefix, const config_field_t *f)
{
    fprintf(out, "| `%s%s%s` | %s | ", f->flag_only ? "--" : "", prefix, f->key, config_md_type(f));
    if (f->def) {
        fputc('`', out);
        config_md_cell(out, f->def);
        fputc('`', out);
    }
    fputs(" | ", out);
    config_md_cell(out, f->help);
    if (f->enum_values) {
        fprintf(out, " (one of:");
        for (const char *const *e = f->enum_values; *e; e++) {
            fprintf(out, " `%s`", *e);
        }
        fprintf(out, ")");
    }
    if (f->flag_only) {
        fprintf(out, " (flag only)");
    }
    fprintf(out, " |\n");
}

void config_print_markdown(FILE *out, const config_field_t *f, size_t n)
{
    fprintf(out, "| key / flag | type | default | description |\n|---|---|---|---|\n");
    for (size_t i = 0; i < n; i++) {
        config_md_row(out, "", &f[i]);
        if (f[i].type == CFG_TABLE) {
            char prefix[256];
            snprintf(prefix, sizeof(prefix), "%s[].", f[i].key);
            for (size_t j = 0; j < f[i].nsub; j++) {
                config_md_row(out, prefix, &f[i].sub[j]);
            }
        }
    }
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_rules: Prometheus rule files loaded and checked exactly as
 * Prometheus 2.42's rulefmt.Parse and `promtool check rules` do.
 *
 * rulefmt decodes a file twice with Go's yaml.v3: strictly into typed
 * structs (unknown fields, type mismatches and duplicate keys collected as
 * "yaml: unmarshal errors:"; a bad duration aborts that decode with its own
 * text), then loosely into yaml.Node values (which only checks the top
 * level). A syntax error fails both decodes, so it is reported twice. Only
 * a file with no decode error is validated (rulefmt's Validate), and only a
 * valid file is linted for duplicate rules. We reproduce the two decodes as
 * two walks of one libyaml document, then Validate, in the same order.
 *
 * Go iterates label and annotation maps in random order; where that order
 * shows (several bad labels in one rule) we use sorted order. Invariants:
 * every string and array lives in the caller's arena; the libyaml document
 * is freed before return on every path; PromQL trees are released at once.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yaml.h>

#include "alerts/alerts.h"
#include "alerts/alerts_int.h"
#include "common/mem.h"
#include "common/yamldoc.h"
#include "query/promql.h"

typedef struct rp {
    arena_t *a;
    yaml_document_t *doc;
    yamldoc_goerrs_t terr; /* "line N: …" lines of the current decode */
    char *abort;           /* a failed custom unmarshaler (durations): the decode stops */
    alerts_rules_error_t *errs;
    size_t nerrs, cap;
} rp_t;

static char *rp_vfmt(arena_t *a, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static char *rp_vfmt(arena_t *a, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    char *s = arena_alloc(a, (size_t)(n < 0 ? 0 : n) + 1);
    vsnprintf(s, (size_t)(n < 0 ? 0 : n) + 1, fmt, ap);
    return s;
}

static char *rp_fmt(arena_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *rp_fmt(arena_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = rp_vfmt(a, fmt, ap);
    va_end(ap);
    return s;
}

void alerts_rules_err_push(arena_t *a, alerts_rules_error_t **errs, size_t *n, size_t *cap, unsigned line, unsigned col,
                           const char *text)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        alerts_rules_error_t *v = arena_alloc(a, ncap * sizeof(*v));
        if (*n) {
            memcpy(v, *errs, *n * sizeof(*v));
        }
        *errs = v;
        *cap = ncap;
    }
    (*errs)[(*n)++] = (alerts_rules_error_t){ .line = line, .col = col, .text = text };
}

static void rp_push(rp_t *p, unsigned line, unsigned col, const char *text)
{
    alerts_rules_err_push(p->a, &p->errs, &p->nerrs, &p->cap, line, col, text);
}

/* Go's strconv.Quote (%q), treating every valid multi-byte UTF-8
 * sequence as printable. */
void alerts_rules_goquote(buf_t *b, const char *s, size_t len)
{
    buf_putc(b, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            buf_puts(b, "\\\"");
            continue;
        case '\\':
            buf_puts(b, "\\\\");
            continue;
        case '\a':
            buf_puts(b, "\\a");
            continue;
        case '\b':
            buf_puts(b, "\\b");
            continue;
        case '\f':
            buf_puts(b, "\\f");
            continue;
        case '\n':
            buf_puts(b, "\\n");
            continue;
        case '\r':
            buf_puts(b, "\\r");
            continue;
        case '\t':
            buf_puts(b, "\\t");
            continue;
        case '\v':
            buf_puts(b, "\\v");
            continue;
        default:
            break;
        }
        if (c < 0x20 || c == 0x7f) {
            buf_printf(b, "\\x%02x", c);
            continue;
        }
        if (c < 0x80) {
            buf_putc(b, c);
            continue;
        }
        size_t n = alerts_rules_utf8_len(s + i, len - i);
        if (n == 0) {
            buf_printf(b, "\\x%02x", c);
            continue;
        }
        buf_append(b, s + i, n);
        i += n - 1;
    }
    buf_putc(b, '"');
}

size_t alerts_rules_utf8_len(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = 0;
    uint32_t cp = 0;
    if (u[0] >= 0xc2 && u[0] <= 0xdf) {
        n = 2;
        cp = u[0] & 0x1f;
    } else if (u[0] >= 0xe0 && u[0] <= 0xef) {
        n = 3;
        cp = u[0] & 0x0f;
    } else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
        n = 4;
        cp = u[0] & 0x07;
    } else {
        return 0;
    }
    if (n > len) {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((u[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (u[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
        return 0;
    }
    return n;
}

static bool utf8_valid(const char *s)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] >= 0x80) {
            size_t n = alerts_rules_utf8_len(s + i, len - i);
            if (n == 0) {
                return false;
            }
            i += n - 1;
        }
    }
    return true;
}

static char *rp_quote(arena_t *a, const char *s)
{
    buf_t b = { 0 };
    alerts_rules_goquote(&b, s, strlen(s));
    char *r = arena_strndup(a, (const char *)b.data, b.len);
    buf_fini(&b);
    return r;
}

/* ---- Prometheus durations (prometheus/common model.ParseDuration) ---- */

const char *alerts_rules_parse_duration(const char *s, int64_t *ms, arena_t *a)
{
    *ms = 0;
    if (strcmp(s, "0") == 0) {
        return NULL;
    }
    if (*s == 0) {
        return "empty duration string";
    }
    static const struct {
        const char *unit;
        int64_t mult;
    } units[] = { { "y", 365LL * 24 * 3600 * 1000 },
                  { "w", 7LL * 24 * 3600 * 1000 },
                  { "d", 24LL * 3600 * 1000 },
                  { "h", 3600LL * 1000 },
                  { "m", 60LL * 1000 },
                  { "s", 1000 },
                  { "ms", 1 } };
    size_t next = 0;
    int64_t total = 0;
    bool overflow = false;
    const char *p = s;
    while (*p) {
        const char *d = p;
        uint64_t n = 0;
        bool big = false;
        while (*p >= '0' && *p <= '9') {
            n = n * 10 + (uint64_t)(*p - '0');
            big |= n > (uint64_t)INT64_MAX / 10;
            p++;
        }
        if (p == d) {
            goto bad;
        }
        size_t u = 7;
        if (p[0] == 'm' && p[1] == 's') {
            u = 6;
        } else {
            for (size_t k = 0; k < 6; k++) {
                if (*p == units[k].unit[0]) {
                    u = k;
                }
            }
        }
        if (u == 7 || u < next) {
            goto bad;
        }
        p += strlen(units[u].unit);
        next = u + 1;
        if (big || n > (uint64_t)(INT64_MAX / units[u].mult)) {
            overflow = true;
            continue;
        }
        int64_t add = (int64_t)n * units[u].mult;
        if (total > INT64_MAX - add) {
            overflow = true;
            continue;
        }
        total += add;
    }
    if (overflow) {
        return "duration out of range";
    }
    *ms = total;
    return NULL;
bad:
    return rp_fmt(a, "not a valid duration string: %s", rp_quote(a, s));
}

/* ---- yaml.v3 decoding ---- */

static bool all_digits(const char *s, const char *set)
{
    if (*s == 0) {
        return false;
    }
    for (; *s; s++) {
        if (*s != '_' && !strchr(set, *s)) {
            return false;
        }
    }
    return true;
}

static bool is_float(const char *s)
{
    static const char *const special[] = { ".inf",  ".Inf",  ".INF",  "+.inf", "+.Inf", "+.INF",
                                           "-.inf", "-.Inf", "-.INF", ".nan",  ".NaN",  ".NAN" };
    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
        if (strcmp(s, special[i]) == 0) {
            return true;
        }
    }
    const char *q = s + (*s == '+' || *s == '-');
    bool digits = false;
    while (*q >= '0' && *q <= '9') {
        q++;
        digits = true;
    }
    if (*q == '.') {
        q++;
        while (*q >= '0' && *q <= '9') {
            q++;
            digits = true;
        }
    }
    if (!digits) {
        return false;
    }
    if (*q == 'e' || *q == 'E') {
        q++;
        q += (*q == '+' || *q == '-');
        if (!(*q >= '0' && *q <= '9')) {
            return false;
        }
        while (*q >= '0' && *q <= '9') {
            q++;
        }
    }
    return *q == 0;
}

/* yaml.v3's short tag of a node after implicit resolution. */
static const char *rp_tag(const yaml_node_t *n)
{
    if (n->type == YAML_SEQUENCE_NODE) {
        return "!!seq";
    }
    if (n->type == YAML_MAPPING_NODE) {
        return "!!map";
    }
    const char *tag = (const char *)n->tag;
    if (tag && strcmp(tag, YAML_DEFAULT_SCALAR_TAG) != 0 && strncmp(tag, "tag:yaml.org,2002:", 18) == 0) {
        const char *t = tag + 18;
        if (strcmp(t, "int") == 0) {
            return "!!int";
        }
        if (strcmp(t, "float") == 0) {
            return "!!float";
        }
        if (strcmp(t, "bool") == 0) {
            return "!!bool";
        }
        if (strcmp(t, "null") == 0) {
            return "!!null";
        }
        return "!!str";
    }
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        return "!!str";
    }
    if (yamldoc_plain_null(n)) {
        return "!!null";
    }
    bool b = false;
    if (yamldoc_plain_bool(n, &b)) {
        return "!!bool";
    }
    const char *s = yamldoc_str(n);
    const char *d = s + (*s == '+' || *s == '-');
    if (all_digits(d, "0123456789") ||
        (d[0] == '0' && (d[1] == 'x' || d[1] == 'X') && all_digits(d + 2, "0123456789abcdefABCDEF")) ||
        (d[0] == '0' && d[1] == 'o' && all_digits(d + 2, "01234567")) ||
        (d[0] == '0' && d[1] == 'b' && all_digits(d + 2, "01"))) {
        return "!!int";
    }
    if (is_float(s)) {
        return "!!float";
    }
    return "!!str";
}

static bool rp_null(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && strcmp(rp_tag(n), "!!null") == 0;
}

/* yaml.v3's d.terror: "cannot unmarshal !!str `abcdefg...` into T". */
static void rp_type_err(rp_t *p, const yaml_node_t *n, const char *into)
{
    yamldoc_goerrs_type(&p->terr, n, rp_tag(n), into);
}

/* yaml.v3's uniqueKeys check, done before a mapping is decoded: false
 * (with an error per repeat) when a key repeats. */
static bool rp_unique_keys(rp_t *p, const yaml_node_t *map)
{
    bool ok = true;
    size_t n = yamldoc_map_len(map);
    size_t *next = mem_alloc((n ? n : 1) * sizeof(*next));
    yamldoc_map_repeats(p->doc, map, NULL, next);
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *ki = NULL, *vi = NULL;
        yamldoc_map_at(p->doc, map, i, &ki, &vi);
        for (size_t j = next[i]; j < n; j = next[j]) {
            const yaml_node_t *kj = NULL, *vj = NULL;
            yamldoc_map_at(p->doc, map, j, &kj, &vj);
            yamldoc_goerrs_add(&p->terr, "line %u: mapping key %s already defined at line %u", yamldoc_line(kj),
                               rp_quote(p->a, yamldoc_str(kj)), yamldoc_line(ki));
            ok = false;
        }
    }
    mem_free(next);
    return ok;
}

static const char *rp_key(const yaml_node_t *k)
{
    return k && k->type == YAML_SCALAR_NODE ? yamldoc_str(k) : "";
}

static void dec_string(rp_t *p, const yaml_node_t *n, const char **dst)
{
    if (n->type == YAML_SCALAR_NODE) {
        *dst = rp_null(n) ? "" : arena_strndup(p->a, yamldoc_str(n), n->data.scalar.length);
    } else {
        rp_type_err(p, n, "string");
    }
}

/* A yaml.Node field (record, alert, expr): anything decodes; the value is
 * a scalar's text. */
static void dec_node(rp_t *p, const yaml_node_t *n, const char **dst, alerts_rules_pos_t *pos)
{
    *dst = n->type == YAML_SCALAR_NODE ? arena_strndup(p->a, yamldoc_str(n), n->data.scalar.length) : "";
    *pos = (alerts_rules_pos_t){ yamldoc_line(n), yamldoc_col(n) };
}

static void dec_duration(rp_t *p, const yaml_node_t *n, int64_t *ms, bool *set)
{
    if (rp_null(n)) {
        return;
    }
    if (n->type != YAML_SCALAR_NODE) {
        rp_type_err(p, n, "string");
        return;
    }
    const char *why = alerts_rules_parse_duration(yamldoc_str(n), ms, p->a);
    if (why) {
        p->abort = (char *)why;
    } else if (set) {
        *set = true;
    }
}

static void dec_int(rp_t *p, const yaml_node_t *n, int64_t *dst)
{
    if (rp_null(n)) {
        return;
    }
    const char *tag = rp_tag(n);
    if (strcmp(tag, "!!int") == 0) {
        /* as long as the scalar: "0…03" (any number of zeros) is 3 in Go */
        char *tmp = arena_alloc(p->a, n->data.scalar.length + 1);
        size_t k = 0;
        for (const char *s = yamldoc_str(n); *s; s++) {
            if (*s != '_') {
                tmp[k++] = *s;
            }
        }
        tmp[k] = 0;
        errno = 0;
        const char *q = tmp + (tmp[0] == '+' || tmp[0] == '-');
        int base = (q[0] == '0' && (q[1] == 'o' || q[1] == 'b')) ? (q[1] == 'o' ? 8 : 2) : 0;
        long long v = base ? strtoll(q + 2, NULL, base) * (tmp[0] == '-' ? -1 : 1) : strtoll(tmp, NULL, 0);
        if (errno == 0) {
            *dst = v;
            return;
        }
    } else if (strcmp(tag, "!!float") == 0) {
        double v = strtod(yamldoc_str(n), NULL);
        if (v == v && v <= 9.2e18 && v >= -9.2e18) {
            *dst = (int64_t)v;
            return;
        }
    }
    rp_type_err(p, n, "int");
}

/* A mapping to decode into Go type gotype: false (after reporting what
 * Go's yaml decoder reports) when n is null, not a mapping, or repeats a
 * key. */
static bool rp_mapping(rp_t *p, const yaml_node_t *n, const char *gotype)
{
    if (rp_null(n)) {
        return false;
    }
    if (n->type != YAML_MAPPING_NODE) {
        rp_type_err(p, n, gotype);
        return false;
    }
    return rp_unique_keys(p, n);
}

static void dec_strmap(rp_t *p, const yaml_node_t *n, alerts_rules_kv_t **kv, size_t *nkv)
{
    if (!rp_mapping(p, n, "map[string]string")) {
        return;
    }
    size_t cap = yamldoc_map_len(n);
    *kv = arena_calloc(p->a, cap ? cap : 1, sizeof(**kv));
    for (size_t i = 0; i < yamldoc_map_len(n) && !p->abort; i++) {
        const yaml_node_t *k = NULL, *v = NULL;
        yamldoc_map_at(p->doc, n, i, &k, &v);
        alerts_rules_kv_t *e = &(*kv)[*nkv];
        e->name = "";
        e->value = "";
        dec_string(p, k, &e->name);
        dec_string(p, v, &e->value);
        (*nkv)++;
    }
}

static void dec_rule(rp_t *p, const yaml_node_t *n, alerts_rule_t *r)
{
    r->record = r->alert = r->expr = "";
    if (!rp_mapping(p, n, "rulefmt.RuleNode")) {
        return;
    }
    for (size_t i = 0; i < yamldoc_map_len(n) && !p->abort; i++) {
        const yaml_node_t *k = NULL, *v = NULL;
        yamldoc_map_at(p->doc, n, i, &k, &v);
        const char *key = rp_key(k);
        if (strcmp(key, "record") == 0) {
            dec_node(p, v, &r->record, &r->record_pos);
        } else if (strcmp(key, "alert") == 0) {
            dec_node(p, v, &r->alert, &r->alert_pos);
        } else if (strcmp(key, "expr") == 0) {
            dec_node(p, v, &r->expr, &r->expr_pos);
        } else if (strcmp(key, "for") == 0) {
            dec_duration(p, v, &r->for_ms, NULL);
        } else if (strcmp(key, "keep_firing_for") == 0) {
            dec_duration(p, v, &r->keep_firing_for_ms, NULL);
        } else if (strcmp(key, "labels") == 0) {
            dec_strmap(p, v, &r->labels, &r->nlabels);
        } else if (strcmp(key, "annotations") == 0) {
            dec_strmap(p, v, &r->annotations, &r->nannotations);
        } else {
            yamldoc_goerrs_add(&p->terr, "line %u: field %s not found in type rulefmt.RuleNode", yamldoc_line(k), key);
        }
    }
}

static void dec_group(rp_t *p, const yaml_node_t *n, alerts_rules_group_t *g)
{
    g->name = "";
    g->pos = (alerts_rules_pos_t){ yamldoc_line(n), yamldoc_col(n) };
    if (!rp_mapping(p, n, "rulefmt.RuleGroup")) {
        return;
    }
    for (size_t i = 0; i < yamldoc_map_len(n) && !p->abort; i++) {
        const yaml_node_t *k = NULL, *v = NULL;
        yamldoc_map_at(p->doc, n, i, &k, &v);
        const char *key = rp_key(k);
        if (strcmp(key, "name") == 0) {
            dec_string(p, v, &g->name);
        } else if (strcmp(key, "interval") == 0) {
            dec_duration(p, v, &g->interval_ms, NULL);
        } else if (strcmp(key, "query_offset") == 0) {
            dec_duration(p, v, &g->query_offset_ms, &g->has_query_offset);
        } else if (strcmp(key, "limit") == 0) {
            dec_int(p, v, &g->limit);
        } else if (strcmp(key, "labels") == 0) {
            dec_strmap(p, v, &g->labels, &g->nlabels);
        } else if (strcmp(key, "rules") == 0) {
            if (rp_null(v)) {
                continue;
            }
            if (v->type != YAML_SEQUENCE_NODE) {
                rp_type_err(p, v, "[]rulefmt.RuleNode");
                continue;
            }
            size_t cnt = yamldoc_seq_len(v);
            g->rules = arena_calloc(p->a, cnt ? cnt : 1, sizeof(*g->rules));
            for (size_t j = 0; j < cnt && !p->abort; j++) {
                dec_rule(p, yamldoc_seq_at(p->doc, v, j), &g->rules[g->nrules++]);
            }
        } else {
            yamldoc_goerrs_add(&p->terr, "line %u: field %s not found in type rulefmt.RuleGroup", yamldoc_line(k), key);
        }
    }
}

/* The strict decode into rulefmt.RuleGroups. */
static void dec_strict(rp_t *p, const yaml_node_t *root, alerts_rules_file_t *f)
{
    if (!root || rp_null(root)) {
        return;
    }
    if (root->type != YAML_MAPPING_NODE) {
        rp_type_err(p, root, "rulefmt.RuleGroups");
        return;
    }
    if (!rp_unique_keys(p, root)) {
        return;
    }
    for (size_t i = 0; i < yamldoc_map_len(root) && !p->abort; i++) {
        const yaml_node_t *k = NULL, *v = NULL;
        yamldoc_map_at(p->doc, root, i, &k, &v);
        const char *key = rp_key(k);
        if (strcmp(key, "groups") != 0) {
            yamldoc_goerrs_add(&p->terr, "line %u: field %s not found in type rulefmt.RuleGroups", yamldoc_line(k),
                               key);
            continue;
        }
        if (rp_null(v)) {
            continue;
        }
        if (v->type != YAML_SEQUENCE_NODE) {
            rp_type_err(p, v, "[]rulefmt.RuleGroup");
            continue;
        }
        size_t cnt = yamldoc_seq_len(v);
        f->groups = arena_calloc(p->a, cnt ? cnt : 1, sizeof(*f->groups));
        f->ngroups = 0;
        for (size_t j = 0; j < cnt && !p->abort; j++) {
            dec_group(p, yamldoc_seq_at(p->doc, v, j), &f->groups[f->ngroups++]);
        }
    }
}

/* The loose decode into rulefmt's ruleGroups{Groups []yaml.Node}. */
static void dec_loose(rp_t *p, const yaml_node_t *root)
{
    if (!root || rp_null(root)) {
        return;
    }
    if (root->type != YAML_MAPPING_NODE) {
        rp_type_err(p, root, "rulefmt.ruleGroups");
        return;
    }
    if (!rp_unique_keys(p, root)) {
        return;
    }
    for (size_t i = 0; i < yamldoc_map_len(root); i++) {
        const yaml_node_t *k = NULL, *v = NULL;
        yamldoc_map_at(p->doc, root, i, &k, &v);
        if (strcmp(rp_key(k), "groups") == 0 && !rp_null(v) && v->type != YAML_SEQUENCE_NODE) {
            rp_type_err(p, v, "[]yaml.Node");
        }
    }
}

/* Ends one decode: its errors become one rulefmt error. */
static void dec_finish(rp_t *p)
{
    if (p->abort) {
        rp_push(p, 0, 0, p->abort);
    } else if (p->terr.n) {
        rp_push(p, 0, 0,
                rp_fmt(p->a, "yaml: unmarshal errors:\n  %.*s", (int)p->terr.b.len, (const char *)p->terr.b.data));
    }
    p->abort = NULL;
    yamldoc_goerrs_reset(&p->terr);
}

/* go-yaml's parser.fail(): "yaml: line N: problem", N from the context
 * mark (or the problem mark), 0-based, plus one for scanner errors. */
static char *syntax_error(arena_t *a, const yamldoc_error_t *ye, const char *text, size_t len)
{
    if (ye->type == YAML_COMPOSER_ERROR && ye->problem && strstr(ye->problem, "undefined alias")) {
        size_t i = ye->problem_mark.index;
        size_t j = i < len && text[i] == '*' ? i + 1 : i;
        size_t e = j;
        while (e < len && !strchr(" \t\r\n,[]{}", text[e])) {
            e++;
        }
        return rp_fmt(a, "yaml: unknown anchor '%.*s' referenced", (int)(e - j), text + j);
    }
    size_t line = 0;
    if (ye->context_mark.line != 0) {
        line = ye->context_mark.line + (ye->type == YAML_SCANNER_ERROR);
    } else if (ye->problem_mark.line != 0) {
        line = ye->problem_mark.line + (ye->type == YAML_SCANNER_ERROR);
    }
    const char *problem = ye->problem ? ye->problem : "unknown problem parsing YAML content";
    if (line) {
        return rp_fmt(a, "yaml: line %zu: %s", line, problem);
    }
    return rp_fmt(a, "yaml: %s", problem);
}

/* ---- rulefmt's Validate ---- */

static bool valid_name(const char *s, bool colon)
{
    if (*s == 0) {
        return false;
    }
    for (const char *c = s; *c; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '_' || (colon && *c == ':') ||
                  (c > s && *c >= '0' && *c <= '9');
        if (!ok) {
            return false;
        }
    }
    return true;
}

static int kv_cmp(const void *x, const void *y)
{
    const alerts_rules_kv_t *a = x;
    const alerts_rules_kv_t *b = y;
    int c = strcmp(a->name, b->name);
    return c ? c : strcmp(a->value, b->value);
}

/* A sorted copy of kv (Go ranges over maps in random order; we pick one). */
static alerts_rules_kv_t *kv_sorted(arena_t *a, const alerts_rules_kv_t *kv, size_t n)
{
    alerts_rules_kv_t *s = arena_alloc(a, (n ? n : 1) * sizeof(*s));
    if (n) {
        memcpy(s, kv, n * sizeof(*s));
        qsort(s, n, sizeof(*s), kv_cmp);
    }
    return s;
}

static void rule_err(rp_t *p, const alerts_rules_group_t *g, size_t i, const alerts_rule_t *r,
                     const alerts_rules_pos_t *pos, const alerts_rules_pos_t *alt, const char *msg)
{
    const char *rname = *r->alert ? r->alert : r->record;
    char *head = rp_fmt(p->a, "group %s, rule %zu, %s: %s", rp_quote(p->a, g->name), i + 1, rp_quote(p->a, rname), msg);
    if (alt) {
        rp_push(p, pos->line, pos->col,
                rp_fmt(p->a, "%u:%u: %u:%u: %s", pos->line, pos->col, alt->line, alt->col, head));
    } else if (pos) {
        rp_push(p, pos->line, pos->col, rp_fmt(p->a, "%u:%u: %s", pos->line, pos->col, head));
    } else {
        rp_push(p, 0, 0, head);
    }
}

static void validate_rule(rp_t *p, const alerts_rules_group_t *g, size_t i, const alerts_rule_t *r)
{
    if (*r->record && *r->alert) {
        rule_err(p, g, i, r, &r->record_pos, &r->alert_pos, "only one of 'record' and 'alert' must be set");
    }
    if (!*r->record && !*r->alert) {
        rule_err(p, g, i, r, &r->record_pos, NULL, "one of 'record' or 'alert' must be set");
    }
    if (!*r->expr) {
        rule_err(p, g, i, r, &r->expr_pos, NULL, "field 'expr' must be set in rule");
    } else {
        promql_node_t *tree = NULL;
        promql_error_t perr;
        if (promql_parse(r->expr, strlen(r->expr), p->a, &tree, &perr) == 0) {
            promql_release(tree);
        } else {
            rule_err(p, g, i, r, &r->expr_pos, NULL,
                     rp_fmt(p->a, "could not parse expression: %s", alerts_rules_promql_msg(perr.msg, p->a)));
        }
    }
    if (*r->record) {
        if (r->nannotations) {
            rule_err(p, g, i, r, &r->record_pos, NULL, "invalid field 'annotations' in recording rule");
        }
        if (r->for_ms) {
            rule_err(p, g, i, r, &r->record_pos, NULL, "invalid field 'for' in recording rule");
        }
        if (r->keep_firing_for_ms) {
            rule_err(p, g, i, r, &r->record_pos, NULL, "invalid field 'keep_firing_for' in recording rule");
        }
        if (!valid_name(r->record, true)) {
            rule_err(p, g, i, r, &r->record_pos, NULL, rp_fmt(p->a, "invalid recording rule name: %s", r->record));
        }
    }
    alerts_rules_kv_t *ls = kv_sorted(p->a, r->labels, r->nlabels);
    for (size_t k = 0; k < r->nlabels; k++) {
        if (!valid_name(ls[k].name, false) || strcmp(ls[k].name, "__name__") == 0) {
            rule_err(p, g, i, r, NULL, NULL, rp_fmt(p->a, "invalid label name: %s", ls[k].name));
        }
        if (!utf8_valid(ls[k].value)) {
            rule_err(p, g, i, r, NULL, NULL, rp_fmt(p->a, "invalid label value: %s", ls[k].value));
        }
    }
    alerts_rules_kv_t *as = kv_sorted(p->a, r->annotations, r->nannotations);
    for (size_t k = 0; k < r->nannotations; k++) {
        if (!valid_name(as[k].name, false)) {
            rule_err(p, g, i, r, NULL, NULL, rp_fmt(p->a, "invalid annotation name: %s", as[k].name));
        }
    }
    if (!*r->alert) {
        return;
    }
    /* testTemplateParsing: templates are parsed with the alert's name. */
    char *tname = rp_fmt(p->a, "__alert_%s", r->alert);
    for (size_t k = 0; k < r->nlabels; k++) {
        const char *why = alerts_rules_template_check(tname, ls[k].value, p->a);
        if (why) {
            rule_err(p, g, i, r, NULL, NULL, rp_fmt(p->a, "label %s: %s", rp_quote(p->a, ls[k].name), why));
        }
    }
    for (size_t k = 0; k < r->nannotations; k++) {
        const char *why = alerts_rules_template_check(tname, as[k].value, p->a);
        if (why) {
            rule_err(p, g, i, r, NULL, NULL, rp_fmt(p->a, "annotation %s: %s", rp_quote(p->a, as[k].name), why));
        }
    }
}

static void validate(rp_t *p, const alerts_rules_file_t *f)
{
    for (size_t j = 0; j < f->ngroups; j++) {
        const alerts_rules_group_t *g = &f->groups[j];
        if (!*g->name) {
            rp_push(p, g->pos.line, g->pos.col,
                    rp_fmt(p->a, "%u:%u: Groupname must not be empty", g->pos.line, g->pos.col));
        }
        for (size_t k = 0; k < j; k++) {
            if (strcmp(f->groups[k].name, g->name) == 0) {
                rp_push(p, g->pos.line, g->pos.col,
                        rp_fmt(p->a, "%u:%u: groupname: \"%s\" is repeated in the same file", g->pos.line, g->pos.col,
                               g->name));
                break;
            }
        }
        alerts_rules_kv_t *ls = kv_sorted(p->a, g->labels, g->nlabels);
        for (size_t k = 0; k < g->nlabels; k++) {
            if (!valid_name(ls[k].name, false) || strcmp(ls[k].name, "__name__") == 0) {
                rp_push(p, 0, 0, rp_fmt(p->a, "invalid label name: %s", ls[k].name));
            }
            if (!utf8_valid(ls[k].value)) {
                rp_push(p, 0, 0, rp_fmt(p->a, "invalid label value: %s", ls[k].value));
            }
        }
        for (size_t i = 0; i < g->nrules; i++) {
            validate_rule(p, g, i, &g->rules[i]);
        }
    }
}

int alerts_rules_parse(const char *text, size_t len, arena_t *a, alerts_rules_file_t **out, alerts_rules_error_t **errs,
                       size_t *nerrs)
{
    assert(a && out && errs && nerrs);
    rp_t p = { .a = a };
    *out = NULL;
    *errs = NULL;
    *nerrs = 0;
    alerts_rules_file_t *f = arena_calloc(a, 1, sizeof(*f));
    yaml_document_t doc;
    yamldoc_error_t ye;
    bool have_doc = false;
    yamldoc_status_t st = yamldoc_load(text, len, &doc, &ye);
    if (st == YAMLDOC_ENOMEM) {
        rp_push(&p, 0, 0, "yaml: out of memory");
        goto done;
    }
    if (st != YAMLDOC_OK) {
        char *msg = syntax_error(a, &ye, text, len);
        unsigned line = (unsigned)ye.problem_mark.line + 1;
        unsigned col = (unsigned)ye.problem_mark.column + 1;
        rp_push(&p, line, col, msg);
        rp_push(&p, line, col, msg);
        goto done;
    }
    have_doc = true;
    p.doc = &doc;
    const yaml_node_t *root = yaml_document_get_root_node(&doc);
    dec_strict(&p, root, f);
    dec_finish(&p);
    dec_loose(&p, root);
    dec_finish(&p);
    if (p.nerrs == 0) {
        for (size_t j = 0; j < f->ngroups; j++) {
            f->nrules += f->groups[j].nrules;
        }
        validate(&p, f);
    }
done:
    if (have_doc) {
        yaml_document_delete(&doc);
    }
    yamldoc_goerrs_fini(&p.terr);
    if (p.nerrs) {
        *errs = p.errs;
        *nerrs = p.nerrs;
        return -1;
    }
    *out = f;
    return 0;
}

int alerts_rules_load(const char *path, arena_t *a, alerts_rules_file_t **out, alerts_rules_error_t **errs,
                      size_t *nerrs)
{
    return alerts_rules_load_with(path, a, alerts_rules_parse, out, errs, nerrs);
}

int alerts_rules_load_with(const char *path, arena_t *a, alerts_rules_parse_fn parse, alerts_rules_file_t **out,
                           alerts_rules_error_t **errs, size_t *nerrs)
{
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    buf_t b = { 0 };
    if (!fp) {
        goto fail;
    }
    char chunk[65536];
    size_t n = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
        buf_append(&b, chunk, n);
    }
    bool bad = ferror(fp);
    fclose(fp);
    if (bad) {
        goto fail;
    }
    int rc = parse(b.len ? (const char *)b.data : "", b.len, a, out, errs, nerrs);
    buf_fini(&b);
    return rc;
fail:;
    int e = errno;
    buf_fini(&b);
    alerts_rules_error_t *err = arena_calloc(a, 1, sizeof(*err));
    err->text = rp_fmt(a, "open %s: %s", path, e == ENOENT ? "no such file or directory" : strerror(e));
    *errs = err;
    *nerrs = 1;
    return -1;
}

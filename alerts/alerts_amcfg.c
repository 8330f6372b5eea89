/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_amcfg: the Alertmanager configuration file (config/config.go):
 * global, route, receivers, inhibit_rules. libyaml's document API loads
 * the text; a recursive walk builds an amcfg_t in one arena and stops at
 * the first problem with "file:line: path: reason" (Alertmanager reports
 * one error too). Unknown keys are errors, as Go's strict decoding makes
 * them.
 *
 * Receivers: each element of a `<type>_configs` list goes to the receiver
 * table row with that key (row->parse). The global smtp_*, slack_api_url*
 * and pagerduty_url defaults reach those parsers by being merged into each
 * element beforehand (a pair added to the YAML mapping when the element
 * lacks the key), so a receiver parser sees one self-contained mapping.
 *
 * Route inheritance: a child's unset receiver, group_by and timings come
 * from its parent; continue and matchers do not. Validation is
 * Alertmanager's (root receiver required, no matchers or continue on the
 * root, unique receiver names, every referenced receiver defined, zero
 * intervals refused) plus repeat_interval >= group_interval, which
 * Alertmanager only logs. `templates`, time intervals and http_config are
 * refused with an explicit "not supported" error rather than ignored.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/alerts_int.h"
#include "common/mem.h"
#include "common/yamldoc.h"

typedef struct cp {
    const char *file;
    yaml_document_t *doc;
    amcfg_t *c;
    arena_t *a;
    buf_t *err;
    const alerts_recv_type_t *types;
    size_t ntypes;
    unsigned nroutes;
} cp_t;

static yaml_node_t *node(cp_t *p, int id)
{
    return yaml_document_get_node(p->doc, id);
}

static int cp_fail(cp_t *p, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int cp_fail(cp_t *p, const yaml_node_t *n, const char *fmt, ...)
{
    buf_printf(p->err, "%s:%u: ", p->file, yamldoc_line(n));
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(p->err, fmt, ap);
    va_end(ap);
    return -1;
}

static int want_scalar(cp_t *p, const yaml_node_t *v, const char *path, const char *key)
{
    if (v->type != YAML_SCALAR_NODE) {
        return cp_fail(p, v, "%s: %s: expected a string", path, key);
    }
    return 0;
}

static int get_string(cp_t *p, const yaml_node_t *v, const char *path, const char *key, const char **dst)
{
    if (want_scalar(p, v, path, key) != 0) {
        return -1;
    }
    *dst = yamldoc_plain_null(v) ? "" : arena_strndup(p->a, yamldoc_str(v), v->data.scalar.length);
    return 0;
}

static int get_bool(cp_t *p, const yaml_node_t *v, const char *path, const char *key, bool *dst)
{
    if (v->type == YAML_SCALAR_NODE && strcmp(yamldoc_str(v), "true") == 0) {
        *dst = true;
        return 0;
    }
    if (v->type == YAML_SCALAR_NODE && strcmp(yamldoc_str(v), "false") == 0) {
        *dst = false;
        return 0;
    }
    return cp_fail(p, v, "%s: %s: expected true or false", path, key);
}

static int get_duration(cp_t *p, const yaml_node_t *v, const char *path, const char *key, int64_t *ms)
{
    if (want_scalar(p, v, path, key) != 0) {
        return -1;
    }
    const char *why = alerts_rules_parse_duration(yamldoc_str(v), ms, p->a);
    if (why) {
        return cp_fail(p, v, "%s: %s: %s", path, key, why);
    }
    return 0;
}

static int want_map(cp_t *p, const yaml_node_t *v, const char *path)
{
    if (v->type != YAML_MAPPING_NODE) {
        if (yamldoc_plain_null(v)) {
            return 0;
        }
        return cp_fail(p, v, "%s: expected a mapping", path);
    }
    size_t n = yamldoc_map_len(v);
    size_t *next = mem_alloc((n ? n : 1) * sizeof(*next));
    yamldoc_map_repeats(p->doc, v, NULL, next);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const yaml_node_t *ki = NULL, *vi = NULL;
        yamldoc_map_at(p->doc, v, i, &ki, &vi);
        if (ki->type != YAML_SCALAR_NODE) {
            rc = cp_fail(p, ki, "%s: keys must be strings", path);
        } else if (next[i] < n) {
            const yaml_node_t *kj = NULL, *vj = NULL;
            yamldoc_map_at(p->doc, v, next[i], &kj, &vj);
            rc = cp_fail(p, kj, "%s: key \"%s\" already set", path, yamldoc_str(kj));
        }
    }
    mem_free(next);
    return rc;
}

static int want_seq(cp_t *p, const yaml_node_t *v, const char *path, const char *key)
{
    if (v->type != YAML_SEQUENCE_NODE && !yamldoc_plain_null(v)) {
        return cp_fail(p, v, "%s: %s: expected a list", path, key);
    }
    return 0;
}

/* A copy of the pointer array v[0..n) with room for extra more (arena). */
static matcher_t **arena_realloc_ptrs(cp_t *p, matcher_t **v, size_t n, size_t extra)
{
    matcher_t **nv = arena_alloc(p->a, (n + extra + 1) * sizeof(*nv));
    if (n) {
        memcpy(nv, v, n * sizeof(*nv));
    }
    return nv;
}

static matcher_t *keep_matcher(cp_t *p, const matcher_t *m)
{
    amcfg_t *c = p->c;
    if (c->nallm == c->capm) {
        c->capm = c->capm ? c->capm * 2 : 16;
        c->allm = mem_realloc(c->allm, c->capm * sizeof(*c->allm));
    }
    matcher_t *k = mem_alloc(sizeof(*k));
    *k = *m;
    c->allm[c->nallm++] = k;
    return k;
}

/* Append the matchers of a `matchers:` list (strings) to *out. */
static int parse_matcher_list(cp_t *p, const yaml_node_t *v, const char *path, const char *key, matcher_t ***out,
                              size_t *nout)
{
    if (want_seq(p, v, path, key) != 0) {
        return -1;
    }
    for (size_t i = 0; i < yamldoc_seq_len(v); i++) {
        const yaml_node_t *it = yamldoc_seq_at(p->doc, v, i);
        if (it->type != YAML_SCALAR_NODE) {
            return cp_fail(p, it, "%s: %s: expected a string", path, key);
        }
        matcher_t *ms = NULL;
        size_t n = 0;
        buf_t why = { 0 };
        int rc = alerts_route_parse_matchers(yamldoc_str(it), it->data.scalar.length, &ms, &n, &why);
        if (rc != 0) {
            cp_fail(p, it, "%s: %s: %s", path, key, (const char *)why.data);
            for (size_t k = 0; k < n; k++) {
                matcher_fini(&ms[k]);
            }
        }
        *out = arena_realloc_ptrs(p, *out, *nout, n);
        for (size_t k = 0; rc == 0 && k < n; k++) {
            (*out)[(*nout)++] = keep_matcher(p, &ms[k]);
        }
        mem_free(ms);
        buf_fini(&why);
        if (rc != 0) {
            return -1;
        }
    }
    return 0;
}

static char *pfmt(arena_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *pfmt(arena_t *a, const char *fmt, ...)
{
    buf_t b = { 0 };
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    char *s = arena_strndup(a, b.len ? (const char *)b.data : "", b.len);
    buf_fini(&b);
    return s;
}

/* match: / match_re: (deprecated): name -> value maps. */
static int parse_match_map(cp_t *p, const yaml_node_t *v, const char *path, const char *key, match_type_t type,
                           matcher_t ***out, size_t *nout)
{
    if (want_map(p, v, path) != 0) {
        return -1;
    }
    *out = arena_realloc_ptrs(p, *out, *nout, yamldoc_map_len(v));
    for (size_t i = 0; i < yamldoc_map_len(v); i++) {
        const yaml_node_t *k = NULL, *val = NULL;
        yamldoc_map_at(p->doc, v, i, &k, &val);
        if (want_scalar(p, val, path, key) != 0) {
            return -1;
        }
        str_t name = str_from(yamldoc_str(k), k->data.scalar.length);
        if (!labels_valid_label_name(name)) {
            return cp_fail(p, k, "%s: %s: invalid label name %s", path, key, yamldoc_str(k));
        }
        /* Alertmanager keeps match_re values as anchored regexes, and the
         * anchored text is what route keys show: env=~"^(?:a|b)$". */
        const char *value = type == MATCH_RE ? pfmt(p->a, "^(?:%s)$", yamldoc_str(val)) : yamldoc_str(val);
        matcher_t m;
        char why[256];
        if (matcher_init(&m, type, name, str_cstr(value), why, sizeof(why)) != 0) {
            return cp_fail(p, val, "%s: %s: %s", path, key, why);
        }
        (*out)[(*nout)++] = keep_matcher(p, &m);
    }
    return 0;
}

/* labels.Matchers order: name, then value, then type. */
static int matcher_cmp(const void *x, const void *y)
{
    const matcher_t *a = *(matcher_t *const *)x, *b = *(matcher_t *const *)y;
    int c = str_cmp(str_from(a->name, a->name_len), str_from(b->name, b->name_len));
    if (c == 0) {
        c = str_cmp(str_from(a->value, a->value_len), str_from(b->value, b->value_len));
    }
    if (c == 0) {
        c = (int)a->type - (int)b->type;
    }
    return c;
}

static int parse_group_by(cp_t *p, const yaml_node_t *v, const char *path, amcfg_route_t *r)
{
    if (want_seq(p, v, path, "group_by") != 0) {
        return -1;
    }
    size_t n = yamldoc_seq_len(v);
    r->group_by = arena_alloc(p->a, (n + 1) * sizeof(char *));
    r->ngroup_by = 0;
    r->group_by_all = false;
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *it = yamldoc_seq_at(p->doc, v, i);
        if (it->type != YAML_SCALAR_NODE) {
            return cp_fail(p, it, "%s: group_by: expected a string", path);
        }
        const char *s = yamldoc_str(it);
        if (strcmp(s, "...") == 0) {
            if (n != 1) {
                return cp_fail(p, it,
                               "%s: group_by: cannot have wildcard group_by (`...`) and other other labels at the "
                               "same time",
                               path);
            }
            r->group_by_all = true;
            continue;
        }
        if (!labels_valid_label_name(str_cstr(s))) {
            return cp_fail(p, it, "%s: group_by: invalid label name \"%s\" in group_by list", path, s);
        }
        for (size_t j = 0; j < r->ngroup_by; j++) {
            if (strcmp(r->group_by[j], s) == 0) {
                return cp_fail(p, it, "%s: group_by: duplicated label \"%s\" in group_by", path, s);
            }
        }
        r->group_by[r->ngroup_by++] = arena_strndup(p->a, s, it->data.scalar.length);
    }
    return 0;
}

/* Which fields a route set itself (the rest are inherited or default). */
typedef struct route_set {
    bool has_recv, has_gb, has_gw, has_gi, has_ri;
    const yaml_node_t *cont_node, *gi_node, *ri_node;
} route_set_t;

/* Inherit from parent, apply defaults, validate, sort matchers, build
 * the route key. */
static int route_finish(cp_t *p, const yaml_node_t *v, const char *path, amcfg_route_t *r, const amcfg_route_t *parent,
                        const route_set_t *set)
{
    if (set->has_gi && r->group_interval_ms == 0) {
        return cp_fail(p, set->gi_node, "%s: group_interval cannot be zero", path);
    }
    if (set->has_ri && r->repeat_interval_ms == 0) {
        return cp_fail(p, set->ri_node, "%s: repeat_interval cannot be zero", path);
    }
    if (!parent) {
        if (!set->has_recv) {
            return cp_fail(p, v, "%s: root route must specify a default receiver", path);
        }
        if (r->nmatchers > 0) {
            return cp_fail(p, v, "%s: root route must not have any matchers", path);
        }
        if (r->cont) {
            return cp_fail(p, set->cont_node, "%s: cannot have continue in root route", path);
        }
    }
    if (parent) {
        if (!set->has_recv) {
            r->receiver = parent->receiver;
        }
        if (!set->has_gb) {
            r->group_by = parent->group_by;
            r->ngroup_by = parent->ngroup_by;
            r->group_by_all = parent->group_by_all;
        }
        r->group_wait_ms = set->has_gw ? r->group_wait_ms : parent->group_wait_ms;
        r->group_interval_ms = set->has_gi ? r->group_interval_ms : parent->group_interval_ms;
        r->repeat_interval_ms = set->has_ri ? r->repeat_interval_ms : parent->repeat_interval_ms;
    } else {
        r->group_wait_ms = set->has_gw ? r->group_wait_ms : 30 * 1000;
        r->group_interval_ms = set->has_gi ? r->group_interval_ms : 5 * 60 * 1000;
        r->repeat_interval_ms = set->has_ri ? r->repeat_interval_ms : 4 * 3600 * 1000;
        if (!r->group_by) {
            r->group_by = arena_alloc(p->a, sizeof(char *));
        }
    }
    if (r->repeat_interval_ms < r->group_interval_ms) {
        char ri[32], gi[32];
        str_format_duration_ms(r->repeat_interval_ms, ri);
        str_format_duration_ms(r->group_interval_ms, gi);
        return cp_fail(p, set->ri_node ? set->ri_node : (set->gi_node ? set->gi_node : v),
                       "%s: repeat_interval (%s) must not be less than group_interval (%s)", path, ri, gi);
    }
    if (r->nmatchers > 1) {
        qsort(r->matchers, r->nmatchers, sizeof(*r->matchers), matcher_cmp);
    }
    buf_t key = { 0 };
    if (parent) {
        buf_puts(&key, parent->key);
        buf_putc(&key, '/');
    }
    alerts_route_fmt_matchers(r->matchers, r->nmatchers, &key);
    r->key = arena_strndup(p->a, (const char *)key.data, key.len);
    buf_fini(&key);
    return 0;
}

static int parse_route(cp_t *p, const yaml_node_t *v, const char *path, amcfg_route_t *r, const amcfg_route_t *parent)
{
    if (want_map(p, v, path) != 0) {
        return -1;
    }
    if (v->type != YAML_MAPPING_NODE) {
        return cp_fail(p, v, "%s: expected a mapping", path);
    }
    r->parent = parent;
    r->line = yamldoc_line(v);
    r->idx = p->nroutes++;
    unsigned depth = 0;
    for (const amcfg_route_t *q = parent; q; q = q->parent) {
        depth++;
    }
    if (depth > 64) {
        return cp_fail(p, v, "%s: routes nested deeper than 64 levels", path);
    }
    bool has_recv = false, has_gb = false, has_gw = false, has_gi = false, has_ri = false;
    const yaml_node_t *routes = NULL, *cont_node = NULL, *gi_node = NULL, *ri_node = NULL;
    for (size_t i = 0; i < yamldoc_map_len(v); i++) {
        const yaml_node_t *k = NULL, *val = NULL;
        yamldoc_map_at(p->doc, v, i, &k, &val);
        const char *key = yamldoc_str(k);
        int rc = 0;
        if (strcmp(key, "receiver") == 0) {
            rc = get_string(p, val, path, key, &r->receiver);
            has_recv = rc == 0 && *r->receiver;
        } else if (strcmp(key, "group_by") == 0) {
            rc = parse_group_by(p, val, path, r);
            has_gb = true;
        } else if (strcmp(key, "continue") == 0) {
            rc = get_bool(p, val, path, key, &r->cont);
            cont_node = val;
        } else if (strcmp(key, "matchers") == 0) {
            rc = parse_matcher_list(p, val, path, key, &r->matchers, &r->nmatchers);
        } else if (strcmp(key, "match") == 0) {
            rc = parse_match_map(p, val, path, key, MATCH_EQ, &r->matchers, &r->nmatchers);
        } else if (strcmp(key, "match_re") == 0) {
            rc = parse_match_map(p, val, path, key, MATCH_RE, &r->matchers, &r->nmatchers);
        } else if (strcmp(key, "group_wait") == 0) {
            rc = get_duration(p, val, path, key, &r->group_wait_ms);
            has_gw = true;
        } else if (strcmp(key, "group_interval") == 0) {
            rc = get_duration(p, val, path, key, &r->group_interval_ms);
            has_gi = true;
            gi_node = val;
        } else if (strcmp(key, "repeat_interval") == 0) {
            rc = get_duration(p, val, path, key, &r->repeat_interval_ms);
            has_ri = true;
            ri_node = val;
        } else if (strcmp(key, "routes") == 0) {
            rc = want_seq(p, val, path, key);
            routes = val;
        } else if (strcmp(key, "mute_time_intervals") == 0 || strcmp(key, "active_time_intervals") == 0) {
            rc = cp_fail(p, k, "%s: %s: time intervals are not supported", path, key);
        } else {
            rc = cp_fail(p, k, "%s: field %s not found", path, key);
        }
        if (rc != 0) {
            return -1;
        }
    }
    route_set_t set = { has_recv, has_gb, has_gw, has_gi, has_ri, cont_node, gi_node, ri_node };
    if (route_finish(p, v, path, r, parent, &set) != 0) {
        return -1;
    }
    if (routes && yamldoc_seq_len(routes) > 0) {
        r->nroutes = yamldoc_seq_len(routes);
        r->routes = arena_calloc(p->a, r->nroutes, sizeof(*r->routes));
        for (size_t i = 0; i < r->nroutes; i++) {
            const yaml_node_t *it = yamldoc_seq_at(p->doc, routes, i);
            if (parse_route(p, it, pfmt(p->a, "%s.routes[%zu]", path, i), &r->routes[i], r) != 0) {
                return -1;
            }
        }
    }
    return 0;
}

static const alerts_recv_type_t *find_type(cp_t *p, const char *key)
{
    for (size_t i = 0; i < p->ntypes; i++) {
        if (strcmp(p->types[i].key, key) == 0) {
            return &p->types[i];
        }
    }
    return NULL;
}

/* A receiver parser's "line L: key: reason" as "file:L: path: key: reason". */
static int recv_fail(cp_t *p, const yaml_node_t *elem, const char *path, const char *why)
{
    unsigned long l = 0;
    if (strncmp(why, "line ", 5) == 0) {
        char *end = NULL;
        l = strtoul(why + 5, &end, 10);
        if (end && end[0] == ':' && end[1] == ' ' && l > 0) {
            buf_printf(p->err, "%s:%lu: %s: %s", p->file, l, path, end + 2);
            return -1;
        }
    }
    return cp_fail(p, elem, "%s: %s", path, why);
}

static int parse_receiver(cp_t *p, const yaml_node_t *v, size_t ri, amcfg_receiver_t *rc)
{
    const char *path = pfmt(p->a, "receivers[%zu]", ri);
    if (want_map(p, v, path) != 0) {
        return -1;
    }
    if (v->type != YAML_MAPPING_NODE) {
        return cp_fail(p, v, "%s: expected a mapping", path);
    }
    rc->name = "";
    size_t total = 0;
    for (size_t i = 0; i < yamldoc_map_len(v); i++) {
        const yaml_node_t *k = NULL, *val = NULL;
        yamldoc_map_at(p->doc, v, i, &k, &val);
        total += yamldoc_seq_len(val);
    }
    rc->integs = arena_calloc(p->a, total + 1, sizeof(*rc->integs));
    for (size_t i = 0; i < yamldoc_map_len(v); i++) {
        const yaml_node_t *k = NULL, *val = NULL;
        yamldoc_map_at(p->doc, v, i, &k, &val);
        if (strcmp(yamldoc_str(k), "name") == 0) {
            if (get_string(p, val, path, "name", &rc->name) != 0) {
                return -1;
            }
        }
    }
    if (!*rc->name) {
        return cp_fail(p, v, "%s: missing name in receiver", path);
    }
    path = pfmt(p->a, "receivers[%zu] (%s)", ri, rc->name);
    for (size_t i = 0; i < yamldoc_map_len(v); i++) {
        const yaml_node_t *k = NULL, *val = NULL;
        yamldoc_map_at(p->doc, v, i, &k, &val);
        const char *key = yamldoc_str(k);
        if (strcmp(key, "name") == 0) {
            continue;
        }
        const alerts_recv_type_t *t = find_type(p, key);
        if (!t) {
            size_t kl = strlen(key);
            if (kl > 8 && strcmp(key + kl - 8, "_configs") == 0) {
                return cp_fail(p, k, "%s: %s: receiver type not supported", path, key);
            }
            return cp_fail(p, k, "%s: field %s not found", path, key);
        }
        if (want_seq(p, val, path, key) != 0) {
            return -1;
        }
        for (size_t j = 0; j < yamldoc_seq_len(val); j++) {
            yaml_node_t *elem = yamldoc_seq_at(p->doc, val, j);
            if (elem->type != YAML_MAPPING_NODE) {
                return cp_fail(p, elem, "%s: %s[%zu]: expected a mapping", path, key, j);
            }
            buf_t why = { 0 };
            void *cfg = NULL;
            if (t->parse(p->doc, elem, p->a, &cfg, &why) != 0) {
                int r = recv_fail(p, elem, pfmt(p->a, "%s: %s[%zu]", path, key, j),
                                  why.len ? (const char *)why.data : "invalid");
                buf_fini(&why);
                return r;
            }
            buf_fini(&why);
            amcfg_integ_t *ig = &rc->integs[rc->ninteg++];
            ig->type = t;
            ig->cfg = cfg;
            ig->idx = (unsigned)j;
        }
    }
    return 0;
}

static int parse_inhibit(cp_t *p, const yaml_node_t *v, size_t ii, amcfg_inhibit_t *r)
{
    const char *path = pfmt(p->a, "inhibit_rules[%zu]", ii);
    if (want_map(p, v, path) != 0) {
        return -1;
    }
    for (size_t i = 0; i < yamldoc_map_len(v); i++) {
        const yaml_node_t *k = NULL, *val = NULL;
        yamldoc_map_at(p->doc, v, i, &k, &val);
        const char *key = yamldoc_str(k);
        int rc = 0;
        if (strcmp(key, "source_matchers") == 0) {
            rc = parse_matcher_list(p, val, path, key, &r->src, &r->nsrc);
        } else if (strcmp(key, "target_matchers") == 0) {
            rc = parse_matcher_list(p, val, path, key, &r->tgt, &r->ntgt);
        } else if (strcmp(key, "source_match") == 0) {
            rc = parse_match_map(p, val, path, key, MATCH_EQ, &r->src, &r->nsrc);
        } else if (strcmp(key, "source_match_re") == 0) {
            rc = parse_match_map(p, val, path, key, MATCH_RE, &r->src, &r->nsrc);
        } else if (strcmp(key, "target_match") == 0) {
            rc = parse_match_map(p, val, path, key, MATCH_EQ, &r->tgt, &r->ntgt);
        } else if (strcmp(key, "target_match_re") == 0) {
            rc = parse_match_map(p, val, path, key, MATCH_RE, &r->tgt, &r->ntgt);
        } else if (strcmp(key, "equal") == 0) {
            rc = want_seq(p, val, path, key);
            r->equal = arena_alloc(p->a, (yamldoc_seq_len(val) + 1) * sizeof(char *));
            for (size_t j = 0; rc == 0 && j < yamldoc_seq_len(val); j++) {
                const yaml_node_t *it = yamldoc_seq_at(p->doc, val, j);
                if (it->type != YAML_SCALAR_NODE || !labels_valid_label_name(str_cstr(yamldoc_str(it)))) {
                    rc = cp_fail(p, it, "%s: equal: \"%s\" is not a valid label name", path,
                                 it->type == YAML_SCALAR_NODE ? yamldoc_str(it) : "");
                    break;
                }
                r->equal[r->nequal++] = arena_strndup(p->a, yamldoc_str(it), it->data.scalar.length);
            }
        } else {
            rc = cp_fail(p, k, "%s: field %s not found", path, key);
        }
        if (rc != 0) {
            return -1;
        }
    }
    return 0;
}

/* Global defaults merged into receiver elements; keys of one group are
 * merged only into an element that sets none of them. */
static const struct gdef {
    const char *gkey, *type_key, *field;
    int group;
} gdefs[] = {
    { "smtp_from", "email_configs", "from", 1 },
    { "smtp_hello", "email_configs", "hello", 2 },
    { "smtp_smarthost", "email_configs", "smarthost", 3 },
    { "smtp_auth_username", "email_configs", "auth_username", 4 },
    { "smtp_auth_password", "email_configs", "auth_password", 5 },
    { "smtp_auth_password_file", "email_configs", "auth_password_file", 5 },
    { "smtp_auth_secret", "email_configs", "auth_secret", 6 },
    { "smtp_auth_identity", "email_configs", "auth_identity", 7 },
    { "smtp_require_tls", "email_configs", "require_tls", 8 },
    { "slack_api_url", "slack_configs", "api_url", 9 },
    { "slack_api_url_file", "slack_configs", "api_url_file", 9 },
    { "pagerduty_url", "pagerduty_configs", "url", 10 },
};
#define NGDEFS (sizeof(gdefs) / sizeof(gdefs[0]))

static int parse_global(cp_t *p, const yaml_node_t *v, int *gval)
{
    const char *path = "global";
    if (want_map(p, v, path) != 0) {
        return -1;
    }
    for (size_t i = 0; i < yamldoc_map_len(v); i++) {
        const yaml_node_t *k = NULL, *val = NULL;
        yamldoc_map_at(p->doc, v, i, &k, &val);
        int vid = v->data.mapping.pairs.start[i].value; /* merge_globals works on ids */
        const char *key = yamldoc_str(k);
        if (strcmp(key, "resolve_timeout") == 0) {
            if (get_duration(p, val, path, key, &p->c->resolve_timeout_ms) != 0) {
                return -1;
            }
            if (p->c->resolve_timeout_ms == 0) {
                return cp_fail(p, val, "%s: resolve_timeout cannot be zero", path);
            }
            continue;
        }
        size_t g = 0;
        while (g < NGDEFS && strcmp(gdefs[g].gkey, key) != 0) {
            g++;
        }
        if (g == NGDEFS) {
            if (strcmp(key, "http_config") == 0 || strstr(key, "_api_url") || strstr(key, "_url")) {
                return cp_fail(p, k, "%s: %s: not supported", path, key);
            }
            return cp_fail(p, k, "%s: field %s not found", path, key);
        }
        if (strcmp(key, "smtp_require_tls") == 0) {
            bool b;
            if (get_bool(p, val, path, key, &b) != 0) {
                return -1;
            }
        } else if (want_scalar(p, val, path, key) != 0) {
            return -1;
        }
        gval[g] = vid;
    }
    return 0;
}

/* The value id of key in mapping map_id, or 0. */
static int find_key(cp_t *p, int map_id, const char *key)
{
    const yaml_node_t *m = node(p, map_id);
    long i = yamldoc_map_find(p->doc, m, 0, key);
    return i < 0 ? 0 : m->data.mapping.pairs.start[i].value;
}

/* Add the global defaults to each receiver element lacking them. Works on
 * node ids only: adding nodes may move the document's node array. */
static void merge_globals(cp_t *p, int root_id, const int *gval)
{
    int recvs = find_key(p, root_id, "receivers");
    if (!recvs || node(p, recvs)->type != YAML_SEQUENCE_NODE) {
        return;
    }
    size_t nr = yamldoc_seq_len(node(p, recvs));
    for (size_t r = 0; r < nr; r++) {
        int rid = node(p, recvs)->data.sequence.items.start[r];
        if (node(p, rid)->type != YAML_MAPPING_NODE) {
            continue;
        }
        for (size_t g = 0; g < NGDEFS; g++) {
            if (!gval[g]) {
                continue;
            }
            int list = find_key(p, rid, gdefs[g].type_key);
            if (!list || node(p, list)->type != YAML_SEQUENCE_NODE) {
                continue;
            }
            size_t ne = yamldoc_seq_len(node(p, list));
            for (size_t e = 0; e < ne; e++) {
                int eid = node(p, list)->data.sequence.items.start[e];
                if (node(p, eid)->type != YAML_MAPPING_NODE) {
                    continue;
                }
                bool has = false;
                for (size_t o = 0; o < NGDEFS; o++) {
                    if (gdefs[o].group == gdefs[g].group && strcmp(gdefs[o].type_key, gdefs[g].type_key) == 0) {
                        has |= yamldoc_map_find(p->doc, node(p, eid), 0, gdefs[o].field) >= 0;
                    }
                }
                if (has) {
                    continue;
                }
                int kid = yaml_document_add_scalar(p->doc, NULL, (yaml_char_t *)gdefs[g].field,
                                                   (int)strlen(gdefs[g].field), YAML_PLAIN_SCALAR_STYLE);
                if (!kid) {
                    continue;
                }
                node(p, kid)->start_mark = node(p, gval[g])->start_mark;
                yaml_document_append_mapping_pair(p->doc, eid, kid, gval[g]);
            }
        }
    }
}

static const amcfg_receiver_t *find_receiver(const amcfg_t *c, const char *name)
{
    for (size_t i = 0; i < c->nreceivers; i++) {
        if (strcmp(c->receivers[i].name, name) == 0) {
            return &c->receivers[i];
        }
    }
    return NULL;
}

static int resolve_receivers(cp_t *p, amcfg_route_t *r)
{
    r->recv = find_receiver(p->c, r->receiver);
    if (!r->recv) {
        buf_printf(p->err, "%s:%u: route: undefined receiver \"%s\" used in route", p->file, r->line, r->receiver);
        return -1;
    }
    for (size_t i = 0; i < r->nroutes; i++) {
        if (resolve_receivers(p, &r->routes[i]) != 0) {
            return -1;
        }
    }
    return 0;
}

static int parse_doc(cp_t *p)
{
    yaml_node_t *root = yaml_document_get_root_node(p->doc);
    if (!root || yamldoc_plain_null(root)) {
        buf_printf(p->err, "%s:1: no routes provided", p->file);
        return -1;
    }
    if (root->type != YAML_MAPPING_NODE) {
        return cp_fail(p, root, "the top level must be a mapping");
    }
    if (want_map(p, root, "config") != 0) {
        return -1;
    }
    int root_id = 1;
    int gval[NGDEFS] = { 0 };
    int gid = find_key(p, root_id, "global");
    if (gid && parse_global(p, node(p, gid), gval) != 0) {
        return -1;
    }
    merge_globals(p, root_id, gval);
    root = node(p, root_id);
    const yaml_node_t *route = NULL, *recvs = NULL, *inh = NULL;
    for (size_t i = 0; i < yamldoc_map_len(root); i++) {
        const yaml_node_t *k = NULL, *val = NULL;
        yamldoc_map_at(p->doc, root, i, &k, &val);
        const char *key = yamldoc_str(k);
        if (strcmp(key, "global") == 0) {
            continue;
        } else if (strcmp(key, "route") == 0) {
            route = val;
        } else if (strcmp(key, "receivers") == 0) {
            recvs = val;
            if (want_seq(p, val, "config", key) != 0) {
                return -1;
            }
        } else if (strcmp(key, "inhibit_rules") == 0) {
            inh = val;
            if (want_seq(p, val, "config", key) != 0) {
                return -1;
            }
        } else if (strcmp(key, "templates") == 0) {
            if (yamldoc_seq_len(val) > 0 || (val->type != YAML_SEQUENCE_NODE && !yamldoc_plain_null(val))) {
                return cp_fail(p, k,
                               "templates: custom notification template files are not supported (receivers "
                               "use Alertmanager's default templates and their own text fields)");
            }
        } else if (strcmp(key, "time_intervals") == 0 || strcmp(key, "mute_time_intervals") == 0) {
            return cp_fail(p, k, "%s: time intervals are not supported", key);
        } else {
            return cp_fail(p, k, "config: field %s not found", key);
        }
    }
    if (!route || yamldoc_plain_null(route)) {
        return cp_fail(p, root, "no routes provided");
    }
    if (recvs) {
        p->c->nreceivers = yamldoc_seq_len(recvs);
        p->c->receivers = arena_calloc(p->a, p->c->nreceivers + 1, sizeof(amcfg_receiver_t));
        for (size_t i = 0; i < p->c->nreceivers; i++) {
            const yaml_node_t *it = yamldoc_seq_at(p->doc, recvs, i);
            if (parse_receiver(p, it, i, &p->c->receivers[i]) != 0) {
                return -1;
            }
            for (size_t j = 0; j < i; j++) {
                if (strcmp(p->c->receivers[j].name, p->c->receivers[i].name) == 0) {
                    return cp_fail(p, it, "receivers[%zu]: notification config name \"%s\" is not unique", i,
                                   p->c->receivers[i].name);
                }
            }
        }
    }
    p->c->root = arena_calloc(p->a, 1, sizeof(amcfg_route_t));
    if (parse_route(p, route, "route", p->c->root, NULL) != 0) {
        return -1;
    }
    if (resolve_receivers(p, p->c->root) != 0) {
        return -1;
    }
    if (inh) {
        p->c->ninhibits = yamldoc_seq_len(inh);
        p->c->inhibits = arena_calloc(p->a, p->c->ninhibits + 1, sizeof(amcfg_inhibit_t));
        for (size_t i = 0; i < p->c->ninhibits; i++) {
            if (parse_inhibit(p, yamldoc_seq_at(p->doc, inh, i), i, &p->c->inhibits[i]) != 0) {
                return -1;
            }
        }
    }
    return 0;
}

int alerts_amcfg_parse(const char *file, const char *text, size_t len, const alerts_recv_type_t *types, size_t ntypes,
                       amcfg_t **out, buf_t *err)
{
    *out = NULL;
    amcfg_t *c = mem_calloc(1, sizeof(*c));
    c->arena = arena_create(16 << 10);
    c->resolve_timeout_ms = 5 * 60 * 1000;
    c->original = arena_strndup(c->arena, text, len);
    cp_t p = { .file = file, .c = c, .a = c->arena, .err = err, .types = types, .ntypes = ntypes };
    yaml_document_t doc;
    yamldoc_error_t ye;
    yamldoc_status_t st = yamldoc_load(text, len, &doc, &ye);
    if (st == YAMLDOC_ENOMEM) {
        buf_printf(err, "%s: yaml: cannot initialise the parser", file);
        goto fail;
    }
    if (st != YAMLDOC_OK) {
        buf_printf(err, "%s:%zu: yaml: %s", file, ye.problem_mark.line + 1, ye.problem ? ye.problem : "syntax error");
        if (ye.context) {
            buf_printf(err, " %s", ye.context);
        }
        goto fail;
    }
    p.doc = &doc;
    int rc = parse_doc(&p);
    yaml_document_delete(&doc);
    if (rc != 0) {
        goto fail;
    }
    *out = c;
    return 0;
fail:
    alerts_amcfg_free(c);
    return -1;
}

int alerts_amcfg_load(const char *path, const alerts_recv_type_t *types, size_t ntypes, amcfg_t **out, buf_t *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        buf_printf(err, "open %s: %s", path, strerror(errno));
        return -1;
    }
    buf_t text = { 0 };
    char chunk[8192];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        buf_append(&text, chunk, got);
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        buf_fini(&text);
        buf_printf(err, "read %s: I/O error", path);
        return -1;
    }
    const char *base = strrchr(path, '/');
    int rc = alerts_amcfg_parse(base ? base + 1 : path, text.len ? (const char *)text.data : "", text.len, types,
                                ntypes, out, err);
    buf_fini(&text);
    return rc;
}

void alerts_amcfg_free(amcfg_t *c)
{
    if (!c) {
        return;
    }
    for (size_t i = 0; i < c->nallm; i++) {
        matcher_fini(c->allm[i]);
        mem_free(c->allm[i]);
    }
    mem_free(c->allm);
    arena_destroy(c->arena);
    mem_free(c);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_dispatch: the alerts store, aggregation groups and the notify
 * decision (Alertmanager's provider/mem, dispatch/dispatch.go and
 * notify.DedupStage), all under the notifier's lock.
 *
 * Store: alerts by fingerprint. A put whose interval overlaps the stored
 * one merges as Alert.Merge does (earliest start; the newest copy's
 * annotations; the latest explicit end); otherwise it replaces. A missing
 * end means now + resolve_timeout. Resolved alerts stay until no group
 * holds them, then alerts_store_gc drops them.
 *
 * Groups: an alert joins one group per matching route, keyed by the
 * route key and its group labels. A new group flushes after group_wait
 * (at once when the alert started more than group_wait ago), then every
 * group_interval. A flush drops muted alerts (inhibited or silenced),
 * splits the rest into firing and resolved fingerprint sets and, per
 * integration of the receiver, asks needsUpdate against the notification
 * log; each "yes" becomes a job with a self-contained notification
 * (firing first, then resolved, each in fingerprint order; resolved ones
 * dropped when the integration has send_resolved false; a firing alert's
 * endsAt is not exposed, as types.Alerts does). A group whose jobs could
 * not all be queued (no sender, during a reload) stays due. When no
 * integration needs anything, the group's resolved alerts are done and
 * leave the group; an empty group is deleted (its nflog entries stay).
 */
#include <stdlib.h>
#include <string.h>

#include "alerts/alerts_int.h"
#include "common/hash.h"
#include "common/mem.h"

/* ---- store ---- */

void alerts_store_init(an_store_t *s)
{
    memset(s, 0, sizeof(*s));
    hmap_init(&s->idx);
}

static void alert_free(an_alert_t *a)
{
    if (a) {
        mem_free(a->blob);
        mem_free(a);
    }
}

void alerts_store_fini(an_store_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        alert_free(s->v[i]);
    }
    mem_free(s->v);
    hmap_fini(&s->idx);
    memset(s, 0, sizeof(*s));
}

typedef struct fp_eq {
    const an_store_t *s;
    uint64_t fp;
} fp_eq_t;

static bool eq_fp(void *ctx, uint64_t v)
{
    fp_eq_t *e = ctx;
    return e->s->v[v]->fp == e->fp;
}

an_alert_t *alerts_store_get(const an_store_t *s, uint64_t fp)
{
    fp_eq_t e = { s, fp };
    uint64_t pos;
    return hmap_get(&s->idx, fp, eq_fp, &e, &pos) ? s->v[pos] : NULL;
}

static size_t labels_bytes(const label_t *ls, size_t n)
{
    size_t b = 0;
    for (size_t i = 0; i < n; i++) {
        b += ls[i].name.len + ls[i].value.len + 2;
    }
    return b;
}

static char *copy_labels(label_t *dst, const label_t *src, size_t n, char *p)
{
    for (size_t i = 0; i < n; i++) {
        if (src[i].name.len) {
            memcpy(p, src[i].name.p, src[i].name.len);
        }
        p[src[i].name.len] = 0;
        dst[i].name = str_from(p, src[i].name.len);
        p += src[i].name.len + 1;
        if (src[i].value.len) {
            memcpy(p, src[i].value.p, src[i].value.len);
        }
        p[src[i].value.len] = 0;
        dst[i].value = str_from(p, src[i].value.len);
        p += src[i].value.len + 1;
    }
    return p;
}

/* Fill a's labels, annotations and generator URL as one heap block. The
 * label sets are normalised (sorted, empty values dropped). */
/* s with each byte that is not part of valid UTF-8 replaced by U+FFFD,
 * appended to out (state files and JSON answers need valid UTF-8). */
static void utf8_fix(str_t s, buf_t *out)
{
    for (size_t i = 0; i < s.len;) {
        unsigned char c = (unsigned char)s.p[i];
        size_t k = c < 0x80 ? 1 : alerts_rules_utf8_len(s.p + i, s.len - i);
        if (k == 0) {
            buf_append(out, "\xef\xbf\xbd", 3);
            i++;
        } else {
            buf_append(out, s.p + i, k);
            i += k;
        }
    }
}

/* Point every invalid name or value of ls at a fixed copy kept in *keep
 * (one heap string per fix, NUL-separated offsets resolved afterwards). */
static void fix_labels(label_t *ls, size_t n, buf_t *keep, size_t *offs)
{
    for (size_t i = 0; i < 2 * n; i++) {
        str_t *f = i % 2 ? &ls[i / 2].value : &ls[i / 2].name;
        offs[i] = SIZE_MAX;
        if (!str_utf8_valid(f->p, f->len)) {
            offs[i] = keep->len;
            utf8_fix(*f, keep);
            f->len = keep->len - offs[i];
        }
    }
}

static void fix_resolve(label_t *ls, size_t n, const buf_t *keep, const size_t *offs)
{
    for (size_t i = 0; i < 2 * n; i++) {
        if (offs[i] != SIZE_MAX) {
            str_t *f = i % 2 ? &ls[i / 2].value : &ls[i / 2].name;
            f->p = (const char *)keep->data + offs[i];
        }
    }
}

static void alert_set_blob(an_alert_t *a, const label_t *ls, size_t n, const label_t *an, size_t nan, const char *gen)
{
    label_t *tl = mem_alloc((n + 1) * sizeof(label_t));
    label_t *ta = mem_alloc((nan + 1) * sizeof(label_t));
    if (n) {
        memcpy(tl, ls, n * sizeof(label_t));
    }
    if (nan) {
        memcpy(ta, an, nan * sizeof(label_t));
    }
    buf_t keep = { 0 };
    size_t *offs = mem_alloc((2 * (n + nan) + 1) * sizeof(size_t));
    fix_labels(tl, n, &keep, offs);
    fix_labels(ta, nan, &keep, offs + 2 * n);
    fix_resolve(tl, n, &keep, offs);
    fix_resolve(ta, nan, &keep, offs + 2 * n);
    n = labels_normalize(tl, n);
    nan = labels_normalize(ta, nan);
    size_t goff = keep.len;
    if (gen && !str_utf8_valid(gen, strlen(gen))) {
        utf8_fix(str_cstr(gen), &keep);
        buf_putc(&keep, 0);
        gen = (const char *)keep.data + goff;
    }
    size_t glen = gen ? strlen(gen) : 0;
    size_t bytes = (n + nan) * sizeof(label_t) + labels_bytes(tl, n) + labels_bytes(ta, nan) + glen + 1;
    label_t *bl = mem_alloc(bytes);
    char *p = (char *)(bl + n + nan);
    p = copy_labels(bl, tl, n, p);
    p = copy_labels(bl + n, ta, nan, p);
    if (glen) {
        memcpy(p, gen, glen);
    }
    p[glen] = 0;
    mem_free(a->blob);
    a->blob = bl;
    a->labels = bl;
    a->nlabels = n;
    a->annotations = bl + n;
    a->nannotations = nan;
    a->generator_url = p;
    mem_free(tl);
    mem_free(ta);
    mem_free(offs);
    buf_fini(&keep);
}

static void store_add(an_store_t *s, an_alert_t *a)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->v = mem_realloc(s->v, s->cap * sizeof(*s->v));
    }
    hmap_put(&s->idx, a->fp, s->n);
    s->v[s->n++] = a;
}

static bool same_labels(const label_t *a, size_t na, const label_t *b, size_t nb)
{
    if (na != nb) {
        return false;
    }
    for (size_t i = 0; i < na; i++) {
        if (!str_eq(a[i].name, b[i].name) || !str_eq(a[i].value, b[i].value)) {
            return false;
        }
    }
    return true;
}

an_alert_t *alerts_store_put(an_store_t *s, const alerts_alert_t *in, int64_t now_ms, int64_t resolve_timeout_ms,
                             bool *changed)
{
    an_alert_t nw = { 0 };
    nw.ends_at_ms = in->ends_at_ms;
    nw.starts_at_ms = in->starts_at_ms;
    if (nw.starts_at_ms == 0) {
        nw.starts_at_ms = nw.ends_at_ms ? nw.ends_at_ms : now_ms;
    }
    if (nw.ends_at_ms == 0) {
        nw.timeout = true;
        nw.ends_at_ms = now_ms + resolve_timeout_ms;
    }
    nw.updated_at_ms = now_ms;
    alert_set_blob(&nw, in->labels, in->nlabels, in->annotations, in->nannotations, in->generator_url);
    nw.fp = alerts_route_fingerprint(nw.labels, nw.nlabels);
    an_alert_t *old = alerts_store_get(s, nw.fp);
    if (!old) {
        an_alert_t *a = mem_alloc(sizeof(*a));
        *a = nw;
        store_add(s, a);
        if (changed) {
            *changed = true;
        }
        return a;
    }
    bool overlap = (nw.ends_at_ms > old->starts_at_ms && nw.ends_at_ms < old->ends_at_ms) ||
                   (nw.starts_at_ms > old->starts_at_ms && nw.starts_at_ms < old->ends_at_ms);
    if (overlap) {
        /* Alert.Merge(old, new): new is the younger. */
        if (old->starts_at_ms < nw.starts_at_ms) {
            nw.starts_at_ms = old->starts_at_ms;
        }
        if (alerts_alert_resolved(&nw, now_ms)) {
            if (alerts_alert_resolved(old, now_ms) && old->ends_at_ms > nw.ends_at_ms) {
                nw.ends_at_ms = old->ends_at_ms;
            }
        } else if (old->ends_at_ms > nw.ends_at_ms && !old->timeout) {
            nw.ends_at_ms = old->ends_at_ms;
            nw.timeout = false;
        }
    }
    if (changed) {
        *changed = nw.starts_at_ms != old->starts_at_ms || nw.timeout != old->timeout ||
                   alerts_alert_resolved(&nw, now_ms) != alerts_alert_resolved(old, now_ms) ||
                   strcmp(nw.generator_url, old->generator_url) != 0 ||
                   !same_labels(nw.annotations, nw.nannotations, old->annotations, old->nannotations);
    }
    mem_free(old->blob);
    nw.refs = old->refs;
    nw.persisted_ends_ms = old->persisted_ends_ms;
    *old = nw;
    return old;
}

size_t alerts_store_gc(an_store_t *s, int64_t now_ms)
{
    size_t k = 0, dropped = 0;
    for (size_t i = 0; i < s->n; i++) {
        an_alert_t *a = s->v[i];
        if (a->refs == 0 && alerts_alert_resolved(a, now_ms)) {
            alert_free(a);
            dropped++;
        } else {
            s->v[k++] = a;
        }
    }
    s->n = k;
    if (dropped) {
        hmap_fini(&s->idx);
        hmap_init(&s->idx);
        for (size_t i = 0; i < s->n; i++) {
            hmap_put(&s->idx, s->v[i]->fp, i);
        }
    }
    return dropped;
}

static json_t *labels_obj(const label_t *ls, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++) {
        json_object_setn_new(o, ls[i].name.p, ls[i].name.len, json_stringn(ls[i].value.p, ls[i].value.len));
    }
    return o;
}

json_t *alerts_store_dump(const an_store_t *s)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < s->n; i++) {
        const an_alert_t *a = s->v[i];
        json_array_append_new(
            arr, json_pack("{s:o,s:o,s:I,s:I,s:I,s:b,s:s}", "labels", labels_obj(a->labels, a->nlabels), "annotations",
                           labels_obj(a->annotations, a->nannotations), "startsAt", (json_int_t)a->starts_at_ms,
                           "endsAt", (json_int_t)a->ends_at_ms, "updatedAt", (json_int_t)a->updated_at_ms, "timeout",
                           a->timeout, "generatorURL", a->generator_url));
    }
    return arr;
}

label_t *alerts_json_labels(json_t *o, size_t *n)
{
    *n = 0;
    if (!json_is_object(o)) {
        return NULL;
    }
    label_t *ls = mem_alloc((json_object_size(o) + 1) * sizeof(label_t));
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (!json_is_string(v)) {
            mem_free(ls);
            *n = 0;
            return NULL;
        }
        ls[*n].name = str_cstr(k);
        ls[*n].value = str_from(json_string_value(v), json_string_length(v));
        (*n)++;
    }
    return ls;
}

/* Whether ls[0..n) is within the AN_ALERT_MAX_* bounds. */
static bool labels_bounded(const label_t *ls, size_t n)
{
    if (n > AN_ALERT_MAX_LABELS) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (ls[i].name.len > AN_ALERT_MAX_NAME || ls[i].value.len > AN_ALERT_MAX_VALUE) {
            return false;
        }
    }
    return true;
}

int alerts_store_load(an_store_t *s, json_t *j)
{
    if (!json_is_array(j)) {
        return -1;
    }
    an_store_t tmp;
    alerts_store_init(&tmp);
    for (size_t i = 0; i < json_array_size(j); i++) {
        json_t *e = json_array_get(j, i);
        json_t *st = json_object_get(e, "startsAt"), *en = json_object_get(e, "endsAt");
        json_t *up = json_object_get(e, "updatedAt"), *gen = json_object_get(e, "generatorURL");
        size_t nl, na;
        label_t *ls = alerts_json_labels(json_object_get(e, "labels"), &nl);
        label_t *as = alerts_json_labels(json_object_get(e, "annotations"), &na);
        bool ok = ls && as && labels_bounded(ls, nl) && labels_bounded(as, na) && json_is_integer(st) &&
                  json_is_integer(en) && json_is_integer(up) && json_is_string(gen);
        if (ok) {
            an_alert_t *a = mem_calloc(1, sizeof(*a));
            alert_set_blob(a, ls, nl, as, na, json_string_value(gen));
            a->fp = alerts_route_fingerprint(a->labels, a->nlabels);
            a->starts_at_ms = json_integer_value(st);
            a->ends_at_ms = json_integer_value(en);
            a->updated_at_ms = json_integer_value(up);
            a->timeout = json_is_true(json_object_get(e, "timeout"));
            a->persisted_ends_ms = a->ends_at_ms;
            if (alerts_store_get(&tmp, a->fp)) {
                alert_free(a);
            } else {
                store_add(&tmp, a);
            }
        }
        mem_free(ls);
        mem_free(as);
        if (!ok) {
            alerts_store_fini(&tmp);
            return -1;
        }
    }
    alerts_store_fini(s);
    *s = tmp;
    return 0;
}

/* ---- groups ---- */

void alerts_dispatch_init(an_disp_t *d)
{
    memset(d, 0, sizeof(*d));
    alerts_store_init(&d->store);
    alerts_silence_init(&d->silences);
    alerts_nflog_init(&d->nflog);
    d->retention_ms = 120LL * 3600 * 1000;
}

static void group_free(an_group_t *g)
{
    if (g) {
        mem_free(g->key);
        mem_free(g->blob);
        mem_free(g->fps);
        mem_free(g);
    }
}

static void group_release(an_disp_t *d, an_group_t *g)
{
    for (size_t i = 0; i < g->nfps; i++) {
        an_alert_t *a = alerts_store_get(&d->store, g->fps[i]);
        if (a && a->refs > 0) {
            a->refs--;
        }
    }
    g->nfps = 0;
}

void alerts_dispatch_fini(an_disp_t *d)
{
    for (size_t i = 0; i < d->ngroups; i++) {
        group_free(d->groups[i]);
    }
    mem_free(d->groups);
    alerts_store_fini(&d->store);
    alerts_silence_fini(&d->silences);
    alerts_nflog_fini(&d->nflog);
}

static an_group_t *group_find(an_disp_t *d, const amcfg_route_t *r, uint64_t h, const char *key)
{
    for (size_t i = 0; i < d->ngroups; i++) {
        if (d->groups[i]->route == r && d->groups[i]->hash == h && strcmp(d->groups[i]->key, key) == 0) {
            return d->groups[i];
        }
    }
    return NULL;
}

static an_group_t *group_new(an_disp_t *d, const amcfg_route_t *r, const char *key, uint64_t h, const label_t *gl,
                             size_t ngl, int64_t now_ms)
{
    an_group_t *g = mem_calloc(1, sizeof(*g));
    g->route = r;
    g->key = mem_strdup(key);
    g->hash = h;
    g->blob = mem_alloc(ngl * sizeof(label_t) + labels_bytes(gl, ngl) + 1);
    g->glabels = g->blob;
    copy_labels(g->glabels, gl, ngl, (char *)(g->glabels + ngl));
    g->nglabels = ngl;
    g->next_flush_ms = now_ms + r->group_wait_ms;
    if (d->ngroups == d->capgroups) {
        d->capgroups = d->capgroups ? d->capgroups * 2 : 32;
        d->groups = mem_realloc(d->groups, d->capgroups * sizeof(*d->groups));
    }
    d->groups[d->ngroups++] = g;
    return g;
}

void alerts_dispatch_insert(an_disp_t *d, an_alert_t *a, int64_t now_ms)
{
    if (!d->cfg) {
        return;
    }
    const amcfg_route_t *routes[AN_MAX_ROUTES];
    size_t nr = alerts_route_match(d->cfg->root, a->labels, a->nlabels, routes, AN_MAX_ROUTES);
    label_t *gl = mem_alloc((a->nlabels + 1) * sizeof(label_t));
    buf_t key = { 0 };
    for (size_t i = 0; i < nr; i++) {
        const amcfg_route_t *r = routes[i];
        size_t ngl = alerts_route_group_labels(r, a->labels, a->nlabels, gl);
        buf_reset(&key);
        alerts_route_group_key(r, gl, ngl, &key);
        uint64_t h = hash_bytes(key.data, key.len);
        an_group_t *g = group_find(d, r, h, (const char *)key.data);
        if (!g) {
            g = group_new(d, r, (const char *)key.data, h, gl, ngl, now_ms);
        }
        bool have = false;
        for (size_t k = 0; k < g->nfps && !have; k++) {
            have = g->fps[k] == a->fp;
        }
        if (!have) {
            if (g->nfps == g->cap) {
                g->cap = g->cap ? g->cap * 2 : 8;
                g->fps = mem_realloc(g->fps, g->cap * sizeof(*g->fps));
            }
            g->fps[g->nfps++] = a->fp;
            a->refs++;
        }
        if (!g->flushed && a->starts_at_ms + r->group_wait_ms < now_ms && g->next_flush_ms > now_ms) {
            g->next_flush_ms = now_ms;
        }
    }
    buf_fini(&key);
    mem_free(gl);
}

/* The route of the new tree with this key: the one at the same
 * depth-first position if its key matches, else the first. */
static const amcfg_route_t *route_by_key(const amcfg_route_t *r, const char *key, unsigned idx,
                                         const amcfg_route_t **first)
{
    if (strcmp(r->key, key) == 0) {
        if (r->idx == idx) {
            return r;
        }
        if (!*first) {
            *first = r;
        }
    }
    for (size_t i = 0; i < r->nroutes; i++) {
        const amcfg_route_t *f = route_by_key(&r->routes[i], key, idx, first);
        if (f) {
            return f;
        }
    }
    return NULL;
}

void alerts_dispatch_rebuild(an_disp_t *d, int64_t now_ms)
{
    size_t k = 0;
    for (size_t i = 0; i < d->ngroups; i++) {
        an_group_t *g = d->groups[i];
        group_release(d, g);
        const amcfg_route_t *first = NULL;
        const amcfg_route_t *r = d->cfg ? route_by_key(d->cfg->root, g->route->key, g->route->idx, &first) : NULL;
        r = r ? r : first;
        for (size_t k2 = 0; r && k2 < k; k2++) {
            if (d->groups[k2]->route == r && strcmp(d->groups[k2]->key, g->key) == 0) {
                r = NULL; /* two old groups mapped to one new route: keep one */
            }
        }
        if (r) {
            g->route = r;
            d->groups[k++] = g;
        } else {
            group_free(g);
        }
    }
    d->ngroups = k;
    for (size_t i = 0; i < d->store.n; i++) {
        alerts_dispatch_insert(d, d->store.v[i], now_ms);
    }
    k = 0;
    for (size_t i = 0; i < d->ngroups; i++) {
        if (d->groups[i]->nfps > 0) {
            d->groups[k++] = d->groups[i];
        } else {
            group_free(d->groups[i]);
        }
    }
    d->ngroups = k;
}

/* ---- the notify decision ---- */

/* Every element of sub (sorted) is in set (sorted). */
static bool subset(const uint64_t *sub, size_t nsub, const uint64_t *set, size_t nset)
{
    size_t j = 0;
    for (size_t i = 0; i < nsub; i++) {
        while (j < nset && set[j] < sub[i]) {
            j++;
        }
        if (j == nset || set[j] != sub[i]) {
            return false;
        }
    }
    return true;
}

bool alerts_dispatch_needs_update(const nflog_entry_t *e, const uint64_t *firing, size_t nf, const uint64_t *resolved,
                                  size_t nr, bool send_resolved, int64_t repeat_ms, int64_t now_ms)
{
    if (!e) {
        return nf > 0;
    }
    if (!subset(firing, nf, e->firing, e->nfiring)) {
        return true;
    }
    if (nf == 0) {
        return e->nfiring > 0;
    }
    if (send_resolved && !subset(resolved, nr, e->resolved, e->nresolved)) {
        return true;
    }
    return e->ts_ms < now_ms - repeat_ms;
}

bool alerts_dispatch_muted(an_disp_t *d, const an_inhibit_idx_t *ix, const an_alert_t *a, int64_t now_ms,
                           buf_t *silenced_by, uint64_t *inhibited_by, bool *inhibited)
{
    uint64_t by = 0;
    bool inh = false;
    if (d->cfg) {
        inh = ix ? alerts_inhibit_mutes_idx(d->cfg, ix, a->labels, a->nlabels, &by)
                 : alerts_inhibit_mutes(d->cfg, &d->store, a->labels, a->nlabels, now_ms, &by);
    }
    if (inhibited) {
        *inhibited = inh;
    }
    if (inhibited_by) {
        *inhibited_by = by;
    }
    size_t sil = alerts_silence_mutes(&d->silences, a->labels, a->nlabels, now_ms, silenced_by);
    return inh || sil > 0;
}

static int cmp_alert_fp(const void *x, const void *y)
{
    uint64_t a = (*(an_alert_t *const *)x)->fp, b = (*(an_alert_t *const *)y)->fp;
    return a < b ? -1 : a > b;
}

static label_t *arena_labels(arena_t *ar, const label_t *ls, size_t n)
{
    label_t *out = arena_alloc(ar, (n + 1) * sizeof(label_t));
    for (size_t i = 0; i < n; i++) {
        out[i].name = str_from(arena_strndup(ar, ls[i].name.p, ls[i].name.len), ls[i].name.len);
        out[i].value = str_from(arena_strndup(ar, ls[i].value.p, ls[i].value.len), ls[i].value.len);
    }
    return out;
}

/* Labels with the same value in every set (sets borrowed from alerts). */
static size_t common_labels(arena_t *ar, const alerts_notif_alert_t *as, size_t n, bool annotations, label_t **out)
{
    *out = NULL;
    if (n == 0) {
        return 0;
    }
    const label_t *first = annotations ? as[0].annotations : as[0].labels;
    size_t nfirst = annotations ? as[0].nannotations : as[0].nlabels;
    label_t *c = arena_alloc(ar, (nfirst + 1) * sizeof(label_t));
    size_t k = 0;
    for (size_t i = 0; i < nfirst; i++) {
        bool all = true;
        for (size_t j = 1; j < n && all; j++) {
            const label_t *ls = annotations ? as[j].annotations : as[j].labels;
            size_t nls = annotations ? as[j].nannotations : as[j].nlabels;
            str_t v = labels_get(ls, nls, first[i].name.p);
            all = v.p && str_eq(v, first[i].value);
        }
        if (all) {
            c[k++] = first[i];
        }
    }
    *out = c;
    return k;
}

void alerts_job_free(an_job_t *j)
{
    if (j) {
        arena_destroy(j->arena);
        mem_free(j);
    }
}

static an_job_t *build_job(an_disp_t *d, const an_group_t *g, const amcfg_receiver_t *rc, const amcfg_integ_t *ig,
                           an_alert_t **fir, size_t nf, an_alert_t **res, size_t nr, const uint64_t *ffp,
                           const uint64_t *rfp, const char *nkey, bool repeat, int64_t now_ms)
{
    an_job_t *j = mem_calloc(1, sizeof(*j));
    j->arena = arena_create(8 << 10);
    arena_t *ar = j->arena;
    j->recv = rc;
    j->integ = ig;
    j->nflog_key = arena_strndup(ar, nkey, strlen(nkey));
    j->firing = arena_alloc(ar, (nf + 1) * sizeof(uint64_t));
    j->resolved = arena_alloc(ar, (nr + 1) * sizeof(uint64_t));
    memcpy(j->firing, ffp, nf * sizeof(uint64_t));
    memcpy(j->resolved, rfp, nr * sizeof(uint64_t));
    j->nfiring = nf;
    j->nresolved = nr;
    j->group_hash = g->hash;
    j->flush_ms = now_ms;
    int64_t gi = g->route->group_interval_ms < 10000 ? 10000 : g->route->group_interval_ms;
    j->deadline_ms = now_ms + gi;
    j->expires_ms = now_ms + d->retention_ms;
    bool sr = ig->type->send_resolved ? ig->type->send_resolved(ig->cfg) : true;
    j->send_resolved = sr;
    j->repeat_ms = g->route->repeat_interval_ms;
    size_t nsend = nf + (sr ? nr : 0);
    j->send = nsend > 0;
    alerts_notif_alert_t *as = arena_calloc(ar, nsend + 1, sizeof(*as));
    for (size_t i = 0; i < nsend; i++) {
        const an_alert_t *a = i < nf ? fir[i] : res[i - nf];
        alerts_notif_alert_t *o = &as[i];
        o->labels = arena_labels(ar, a->labels, a->nlabels);
        o->nlabels = a->nlabels;
        o->annotations = arena_labels(ar, a->annotations, a->nannotations);
        o->nannotations = a->nannotations;
        o->starts_at_ms = a->starts_at_ms;
        o->firing = i < nf;
        /* types.Alerts: an end not reached yet is not exposed */
        o->ends_at_ms = o->firing ? 0 : a->ends_at_ms;
        o->generator_url = arena_strndup(ar, a->generator_url, strlen(a->generator_url));
        o->fingerprint = a->fp;
    }
    alerts_notification_t *n = &j->notif;
    n->receiver = rc->name;
    n->status = nf > 0 ? "firing" : "resolved";
    n->group_key = arena_strndup(ar, g->key, strlen(g->key));
    n->group_hash = g->hash;
    n->group_labels = arena_labels(ar, g->glabels, g->nglabels);
    n->ngroup_labels = g->nglabels;
    label_t *cl;
    n->ncommon_labels = common_labels(ar, as, nsend, false, &cl);
    n->common_labels = cl;
    n->ncommon_annotations = common_labels(ar, as, nsend, true, &cl);
    n->common_annotations = cl;
    n->external_url = d->external_url ? arena_strndup(ar, d->external_url, strlen(d->external_url)) : "";
    n->alerts = as;
    n->nalerts = nsend;
    n->nfiring = nf;
    n->repeat = repeat;
    n->now_ms = now_ms;
    return j;
}

/* Flush one group; returns whether any integration needed an update;
 * [out] *rejected: some job was not queued. */
static bool flush_group(an_disp_t *d, an_group_t *g, const an_inhibit_idx_t *ix, int64_t now_ms, an_enqueue_fn enqueue,
                        void *ctx, bool *rejected)
{
    size_t n = g->nfps;
    an_alert_t **fir = mem_alloc((n + 1) * sizeof(*fir));
    an_alert_t **res = mem_alloc((n + 1) * sizeof(*res));
    uint64_t *ffp = mem_alloc((n + 1) * sizeof(*ffp));
    uint64_t *rfp = mem_alloc((n + 1) * sizeof(*rfp));
    size_t nf = 0, nr = 0;
    for (size_t i = 0; i < n; i++) {
        an_alert_t *a = alerts_store_get(&d->store, g->fps[i]);
        if (!a || alerts_inhibit_mutes_idx(d->cfg, ix, a->labels, a->nlabels, NULL) ||
            alerts_silence_mutes(&d->silences, a->labels, a->nlabels, now_ms, NULL) > 0) {
            continue;
        }
        if (alerts_alert_resolved(a, now_ms)) {
            res[nr++] = a;
        } else {
            fir[nf++] = a;
        }
    }
    qsort(fir, nf, sizeof(*fir), cmp_alert_fp);
    qsort(res, nr, sizeof(*res), cmp_alert_fp);
    for (size_t i = 0; i < nf; i++) {
        ffp[i] = fir[i]->fp;
    }
    for (size_t i = 0; i < nr; i++) {
        rfp[i] = res[i]->fp;
    }
    bool any = false;
    uint64_t seq = g->flush_seq + 1;
    unsigned njobs = 0;
    const amcfg_receiver_t *rc = g->route->recv;
    buf_t key = { 0 };
    for (size_t i = 0; nf + nr > 0 && i < rc->ninteg; i++) {
        const amcfg_integ_t *ig = &rc->integs[i];
        buf_reset(&key);
        alerts_nflog_key(g->key, rc->name, ig->type->name, ig->idx, &key);
        const nflog_entry_t *e = alerts_nflog_get(&d->nflog, (const char *)key.data);
        bool sr = ig->type->send_resolved ? ig->type->send_resolved(ig->cfg) : true;
        if (!alerts_dispatch_needs_update(e, ffp, nf, rfp, nr, sr, g->route->repeat_interval_ms, now_ms)) {
            continue;
        }
        if (!any) {
            g->flush_seq = seq;
            g->pending = 0;
            g->pending_failed = false;
        }
        any = true;
        bool repeat = e && nf > 0 && subset(ffp, nf, e->firing, e->nfiring);
        an_job_t *j = build_job(d, g, rc, ig, fir, nf, res, nr, ffp, rfp, (const char *)key.data, repeat, now_ms);
        j->flush_seq = seq;
        if (enqueue(ctx, j)) {
            g->pending = ++njobs;
        } else {
            g->pending_failed = true;
            *rejected = true;
        }
    }
    buf_fini(&key);
    mem_free(fir);
    mem_free(res);
    mem_free(ffp);
    mem_free(rfp);
    return any;
}

/* Drop the group's resolved alerts (all were handled). */
static void drop_resolved(an_disp_t *d, an_group_t *g, int64_t now_ms)
{
    size_t k = 0;
    for (size_t i = 0; i < g->nfps; i++) {
        an_alert_t *a = alerts_store_get(&d->store, g->fps[i]);
        if (!a || alerts_alert_resolved(a, now_ms)) {
            if (a && a->refs > 0) {
                a->refs--;
            }
            continue;
        }
        g->fps[k++] = g->fps[i];
    }
    g->nfps = k;
}

void alerts_dispatch_job_done(an_disp_t *d, const an_job_t *j, bool ok, int64_t now_ms)
{
    for (size_t i = 0; i < d->ngroups; i++) {
        an_group_t *g = d->groups[i];
        if (g->hash != j->group_hash || g->flush_seq != j->flush_seq || strcmp(g->key, j->notif.group_key) != 0) {
            continue;
        }
        g->pending_failed |= !ok;
        if (g->pending > 0 && --g->pending == 0 && !g->pending_failed) {
            size_t k = 0;
            for (size_t a = 0; a < g->nfps; a++) {
                an_alert_t *al = alerts_store_get(&d->store, g->fps[a]);
                bool was_resolved = false;
                for (size_t r = 0; r < j->nresolved && !was_resolved; r++) {
                    was_resolved = j->resolved[r] == g->fps[a];
                }
                if (!al || (was_resolved && alerts_alert_resolved(al, now_ms))) {
                    if (al && al->refs > 0) {
                        al->refs--;
                    }
                    continue;
                }
                g->fps[k++] = g->fps[a];
            }
            g->nfps = k;
            if (g->nfps == 0) {
                group_free(g);
                d->groups[i] = d->groups[--d->ngroups];
            }
        }
        return;
    }
}

void alerts_dispatch_job_dropped(an_disp_t *d, const an_job_t *j, int64_t now_ms)
{
    for (size_t i = 0; i < d->ngroups; i++) {
        an_group_t *g = d->groups[i];
        if (g->hash == j->group_hash && strcmp(g->key, j->notif.group_key) == 0 && g->next_flush_ms > now_ms) {
            g->next_flush_ms = now_ms;
        }
    }
}

int64_t alerts_dispatch_flush_due(an_disp_t *d, int64_t now_ms, an_enqueue_fn enqueue, void *ctx)
{
    int64_t next = INT64_MAX;
    size_t k = 0;
    an_inhibit_idx_t ix = { 0 };
    bool have_ix = false;
    for (size_t i = 0; i < d->ngroups; i++) {
        an_group_t *g = d->groups[i];
        if (g->next_flush_ms <= now_ms) {
            if (!have_ix) {
                alerts_inhibit_index(d->cfg, &d->store, now_ms, &ix);
                have_ix = true;
            }
            bool rejected = false;
            bool any = flush_group(d, g, &ix, now_ms, enqueue, ctx, &rejected);
            if (!rejected) { /* else still due: the next pass tries again */
                g->flushed = true;
                g->next_flush_ms = now_ms + g->route->group_interval_ms;
            }
            if (!any) {
                drop_resolved(d, g, now_ms);
            }
        }
        if (g->nfps == 0) {
            group_free(g);
            continue;
        }
        if (g->next_flush_ms < next) {
            next = g->next_flush_ms;
        }
        d->groups[k++] = g;
    }
    d->ngroups = k;
    if (have_ix) {
        alerts_inhibit_index_fini(&ix);
    }
    return next;
}

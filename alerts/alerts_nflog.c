/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_nflog: the notification log (Alertmanager's nflog), the receivers'
 * key-value store and the notifier's state files.
 *
 * An nflog entry is keyed by (group key, receiver, integration, index)
 * and holds the fingerprints of the firing and resolved alerts of the
 * last successful notification, its time, and when the entry expires
 * (Alertmanager's retention, 120h). The dispatcher's needsUpdate decision
 * reads it; a sender sets it right after a 2xx.
 *
 * State files live in the data directory as JSON (layout in the
 * "notifier state files" table of docs/alerting-notifications.md):
 * nflog.json, silences.json, alerts.json, kv.json. Each is rewritten
 * whole and published atomically (tmp file, fdatasync, rename, fsync of
 * the directory), so a crash leaves the old or the new version, never a
 * mix. A file that does not parse is renamed to <name>.corrupt and
 * logged; the notifier starts without it and counts it.
 *
 * The kv store maps "<namespace>\x1f<key>" to a string; namespaces are
 * "<receiver>/<integration>/<index>". Linear lookups: receivers keep few
 * keys (one per aggregation group at most).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerts/alerts_int.h"
#include "common/fileio.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/str.h"

void alerts_nflog_init(nflog_t *l)
{
    memset(l, 0, sizeof(*l));
    hmap_init(&l->idx);
}

static void entry_free(nflog_entry_t *e)
{
    if (e) {
        mem_free(e->key);
        mem_free(e->firing);
        mem_free(e->resolved);
        mem_free(e);
    }
}

void alerts_nflog_fini(nflog_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        entry_free(l->v[i]);
    }
    mem_free(l->v);
    hmap_fini(&l->idx);
    memset(l, 0, sizeof(*l));
}

void alerts_nflog_key(const char *group_key, const char *receiver, const char *integ, unsigned idx, buf_t *out)
{
    buf_printf(out, "%s\x1f%s\x1f%s\x1f%u", group_key, receiver, integ, idx);
}

typedef struct key_eq {
    const nflog_t *l;
    const char *key;
} key_eq_t;

static bool eq_key(void *ctx, uint64_t v)
{
    key_eq_t *k = ctx;
    return strcmp(k->l->v[v]->key, k->key) == 0;
}

static bool find(const nflog_t *l, const char *key, uint64_t *pos)
{
    key_eq_t k = { l, key };
    return hmap_get(&l->idx, hash_bytes(key, strlen(key)), eq_key, &k, pos);
}

const nflog_entry_t *alerts_nflog_get(const nflog_t *l, const char *key)
{
    uint64_t pos;
    return find(l, key, &pos) ? l->v[pos] : NULL;
}

static uint64_t *copy_fps(const uint64_t *v, size_t n)
{
    uint64_t *c = mem_alloc((n + 1) * sizeof(*c));
    if (n) {
        memcpy(c, v, n * sizeof(*c));
    }
    return c;
}

void alerts_nflog_set(nflog_t *l, const char *key, const uint64_t *firing, size_t nf, const uint64_t *resolved,
                      size_t nr, int64_t ts_ms, int64_t expires_ms)
{
    uint64_t pos;
    nflog_entry_t *e;
    if (find(l, key, &pos)) {
        e = l->v[pos];
        mem_free(e->firing);
        mem_free(e->resolved);
    } else {
        e = mem_calloc(1, sizeof(*e));
        e->key = mem_strdup(key);
        if (l->n == l->cap) {
            l->cap = l->cap ? l->cap * 2 : 64;
            l->v = mem_realloc(l->v, l->cap * sizeof(*l->v));
        }
        hmap_put(&l->idx, hash_bytes(key, strlen(key)), l->n);
        l->v[l->n++] = e;
    }
    e->firing = copy_fps(firing, nf);
    e->nfiring = nf;
    e->resolved = copy_fps(resolved, nr);
    e->nresolved = nr;
    e->ts_ms = ts_ms;
    e->expires_ms = expires_ms;
}

size_t alerts_nflog_gc(nflog_t *l, int64_t now_ms)
{
    size_t k = 0, dropped = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i]->expires_ms && l->v[i]->expires_ms <= now_ms) {
            entry_free(l->v[i]);
            dropped++;
        } else {
            l->v[k++] = l->v[i];
        }
    }
    l->n = k;
    if (dropped) {
        hmap_fini(&l->idx);
        hmap_init(&l->idx);
        for (size_t i = 0; i < l->n; i++) {
            hmap_put(&l->idx, hash_bytes(l->v[i]->key, strlen(l->v[i]->key)), i);
        }
    }
    return dropped;
}

static json_t *fps_json(const uint64_t *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        char hex[24];
        snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)v[i]);
        json_array_append_new(a, json_string(hex));
    }
    return a;
}

json_t *alerts_nflog_dump(const nflog_t *l)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < l->n; i++) {
        const nflog_entry_t *e = l->v[i];
        json_array_append_new(arr, json_pack("{s:s,s:o,s:o,s:I,s:I}", "key", e->key, "firing",
                                             fps_json(e->firing, e->nfiring), "resolved",
                                             fps_json(e->resolved, e->nresolved), "ts", (json_int_t)e->ts_ms, "expires",
                                             (json_int_t)e->expires_ms));
    }
    return arr;
}

static int fps_load(json_t *a, uint64_t **out, size_t *n)
{
    if (!json_is_array(a)) {
        return -1;
    }
    *n = json_array_size(a);
    *out = mem_alloc((*n + 1) * sizeof(**out));
    for (size_t i = 0; i < *n; i++) {
        json_t *s = json_array_get(a, i);
        if (!json_is_string(s) || json_string_length(s) != 16) {
            return -1;
        }
        const char *p = json_string_value(s);
        uint64_t fp = 0;
        for (size_t k = 0; k < 16; k++) {
            int d = str_hex_digit((unsigned char)p[k]);
            if (d < 0) {
                return -1;
            }
            fp = fp << 4 | (uint64_t)d;
        }
        (*out)[i] = fp;
    }
    return 0;
}

int alerts_nflog_load(nflog_t *l, json_t *j)
{
    if (!json_is_array(j)) {
        return -1;
    }
    nflog_t tmp;
    alerts_nflog_init(&tmp);
    for (size_t i = 0; i < json_array_size(j); i++) {
        json_t *e = json_array_get(j, i);
        json_t *key = json_object_get(e, "key"), *ts = json_object_get(e, "ts"), *ex = json_object_get(e, "expires");
        uint64_t *f = NULL, *r = NULL;
        size_t nf = 0, nr = 0;
        int rc = json_is_string(key) && json_is_integer(ts) && json_is_integer(ex) ? 0 : -1;
        if (rc == 0) {
            rc = fps_load(json_object_get(e, "firing"), &f, &nf);
        }
        if (rc == 0) {
            rc = fps_load(json_object_get(e, "resolved"), &r, &nr);
        }
        if (rc == 0) {
            alerts_nflog_set(&tmp, json_string_value(key), f, nf, r, nr, json_integer_value(ts),
                             json_integer_value(ex));
        }
        mem_free(f);
        mem_free(r);
        if (rc != 0) {
            alerts_nflog_fini(&tmp);
            return -1;
        }
    }
    alerts_nflog_fini(l);
    *l = tmp;
    return 0;
}

/* ---- kv ---- */

static char *kv_join(const char *ns, const char *key)
{
    buf_t b = { 0 };
    buf_printf(&b, "%s\x1f%s", ns, key);
    size_t len;
    return (char *)buf_steal(&b, &len);
}

void alerts_nflog_kv_fini(nf_kv_t *kv)
{
    for (size_t i = 0; i < kv->n; i++) {
        mem_free(kv->keys[i]);
        mem_free(kv->vals[i]);
    }
    mem_free(kv->keys);
    mem_free(kv->vals);
    memset(kv, 0, sizeof(*kv));
}

static long kv_find(const nf_kv_t *kv, const char *full)
{
    for (size_t i = 0; i < kv->n; i++) {
        if (strcmp(kv->keys[i], full) == 0) {
            return (long)i;
        }
    }
    return -1;
}

const char *alerts_nflog_kv_get(const nf_kv_t *kv, const char *ns, const char *key)
{
    char *full = kv_join(ns, key);
    long i = kv_find(kv, full);
    mem_free(full);
    return i < 0 ? NULL : kv->vals[i];
}

static void kv_put_full(nf_kv_t *kv, char *full, const char *val)
{
    long i = kv_find(kv, full);
    if (i >= 0) {
        mem_free(full);
        mem_free(kv->vals[i]);
        if (val) {
            kv->vals[i] = mem_strdup(val);
            return;
        }
        mem_free(kv->keys[i]);
        kv->keys[i] = kv->keys[kv->n - 1];
        kv->vals[i] = kv->vals[kv->n - 1];
        kv->n--;
        return;
    }
    if (!val) {
        mem_free(full);
        return;
    }
    if (kv->n == kv->cap) {
        kv->cap = kv->cap ? kv->cap * 2 : 16;
        kv->keys = mem_realloc(kv->keys, kv->cap * sizeof(char *));
        kv->vals = mem_realloc(kv->vals, kv->cap * sizeof(char *));
    }
    kv->keys[kv->n] = full;
    kv->vals[kv->n] = mem_strdup(val);
    kv->n++;
}

void alerts_nflog_kv_put(nf_kv_t *kv, const char *ns, const char *key, const char *val)
{
    kv_put_full(kv, kv_join(ns, key), val);
}

json_t *alerts_nflog_kv_dump(const nf_kv_t *kv)
{
    json_t *o = json_object();
    for (size_t i = 0; i < kv->n; i++) {
        json_object_set_new(o, kv->keys[i], json_string(kv->vals[i]));
    }
    return o;
}

int alerts_nflog_kv_load(nf_kv_t *kv, json_t *j)
{
    if (!json_is_object(j)) {
        return -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v)
    {
        if (!json_is_string(v)) {
            return -1;
        }
    }
    alerts_nflog_kv_fini(kv);
    json_object_foreach(j, k, v)
    {
        kv_put_full(kv, mem_strdup(k), json_string_value(v));
    }
    return 0;
}

/* ---- state files ---- */

int alerts_nflog_write_state(const char *dir, const char *name, const json_t *j, size_t *bytes)
{
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (!text) {
        return -ENOMEM;
    }
    size_t len = strlen(text);
    buf_t tmp = { 0 }, fin = { 0 };
    buf_printf(&tmp, "%s/%s.tmp", dir, name);
    buf_printf(&fin, "%s/%s", dir, name);
    int rc = 0;
    int fd = open((const char *)tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = -errno;
    } else {
        rc = fileio_write_all(fd, text, len);
        if (rc == 0) {
            rc = fileio_publish(fd, (const char *)tmp.data, (const char *)fin.data, dir);
        }
        close(fd);
    }
    if (rc != 0) {
        log_error("notifier: cannot write state file %s: %s", (const char *)fin.data, strerror(-rc));
    }
    if (bytes) {
        *bytes = len;
    }
    free(text);
    buf_fini(&tmp);
    buf_fini(&fin);
    return rc;
}

int alerts_nflog_read_state(const char *dir, const char *name, json_t **j)
{
    *j = NULL;
    buf_t path = { 0 };
    buf_printf(&path, "%s/%s", dir, name);
    json_error_t je;
    FILE *f = fopen((const char *)path.data, "rb");
    if (!f) {
        int e = errno;
        buf_fini(&path);
        return e == ENOENT ? 0 : -1;
    }
    *j = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
    fclose(f);
    if (*j) {
        buf_fini(&path);
        return 1;
    }
    log_warn("notifier: state file %s does not parse: line %d: %s", (const char *)path.data, je.line, je.text);
    buf_fini(&path);
    alerts_nflog_set_aside(dir, name);
    return -1;
}

void alerts_nflog_set_aside(const char *dir, const char *name)
{
    buf_t path = { 0 }, bad = { 0 };
    buf_printf(&path, "%s/%s", dir, name);
    buf_printf(&bad, "%s/%s.corrupt", dir, name);
    int rc = rename((const char *)path.data, (const char *)bad.data);
    log_warn("notifier: corrupt state file %s set aside as %s%s", (const char *)path.data, (const char *)bad.data,
             rc ? " (rename failed)" : "");
    buf_fini(&bad);
    buf_fini(&path);
}

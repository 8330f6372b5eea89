/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logs_stream: the streams of the store and their inverted index.
 *
 * A stream is found by labels_hash (XXH3 of the canonical label bytes) in
 * a multimap; candidates with an equal hash are compared label by label,
 * so a 64-bit collision makes two streams, never one. Each name=value
 * pair is interned once (strings in the index arena, stable until the
 * index goes) and holds the postings of its streams: ids are given in
 * creation order, so postings stay sorted by appending. Matchers become
 * set operations: = and regexes made of literal alternatives look their
 * values up directly; other regexes and != scan the values of their name;
 * matchers that accept the empty string (the label may be absent) are
 * applied by subtracting the streams that fail them.
 */
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/mem.h"
#include "logs/logs_int.h"

typedef struct logs_iname {
    const char *s;
    uint32_t len;
    logs_ids_t pairs;
} logs_iname_t;

typedef struct logs_ipair {
    uint32_t name;
    uint32_t vlen;
    const char *v;
    logs_ids_t postings;
} logs_ipair_t;

void logs_ids_push(logs_ids_t *ids, uint32_t v)
{
    if (ids->n == ids->cap) {
        ids->cap = ids->cap ? ids->cap * 2 : 4;
        ids->v = mem_realloc(ids->v, ids->cap * sizeof(uint32_t));
    }
    ids->v[ids->n++] = v;
}

void logs_ids_fini(logs_ids_t *ids)
{
    mem_free(ids->v);
    memset(ids, 0, sizeof(*ids));
}

void logs_index_init(logs_index_t *ix)
{
    memset(ix, 0, sizeof(*ix));
    ix->strs = arena_create(64 << 10);
    hmap_init(&ix->name_map);
    hmap_init(&ix->pair_map);
    hmap_init(&ix->stream_map);
}

void logs_index_fini(logs_index_t *ix)
{
    for (uint32_t i = 0; i < ix->nnames; i++) {
        logs_ids_fini(&ix->names[i].pairs);
    }
    for (uint32_t i = 0; i < ix->npairs; i++) {
        logs_ids_fini(&ix->pairs[i].postings);
    }
    for (uint32_t i = 0; i < ix->nstreams; i++) {
        logs_strm_t *st = ix->streams[i];
        logs_head_fini(&st->head);
        if (st->frozen) {
            logs_head_fini(st->frozen);
            mem_free(st->frozen);
        }
    }
    mem_free(ix->names);
    mem_free(ix->pairs);
    mem_free(ix->streams);
    hmap_fini(&ix->name_map);
    hmap_fini(&ix->pair_map);
    hmap_fini(&ix->stream_map);
    arena_destroy(ix->strs);
    memset(ix, 0, sizeof(*ix));
}

typedef struct logs_key {
    const logs_index_t *ix;
    const char *s;
    size_t len;
    uint32_t name;
} logs_key_t;

static bool logs_name_eq(void *ctx, uint64_t value)
{
    const logs_key_t *k = ctx;
    const logs_iname_t *nm = &k->ix->names[value];
    return nm->len == k->len && memcmp(nm->s, k->s, k->len) == 0;
}

static bool logs_pair_eq(void *ctx, uint64_t value)
{
    const logs_key_t *k = ctx;
    const logs_ipair_t *pr = &k->ix->pairs[value];
    return pr->name == k->name && pr->vlen == k->len && memcmp(pr->v, k->s, k->len) == 0;
}

static uint64_t logs_pair_hash(uint32_t name, const char *v, size_t len)
{
    return hash_bytes_seed(v, len, name + 1);
}

static int64_t logs_name_find(const logs_index_t *ix, const char *s, size_t len)
{
    logs_key_t k = { ix, s, len, 0 };
    uint64_t id;
    return hmap_get(&ix->name_map, hash_bytes(s, len), logs_name_eq, &k, &id) ? (int64_t)id : -1;
}

static int64_t logs_pair_find(const logs_index_t *ix, uint32_t name, const char *v, size_t len)
{
    logs_key_t k = { ix, v, len, name };
    uint64_t id;
    return hmap_get(&ix->pair_map, logs_pair_hash(name, v, len), logs_pair_eq, &k, &id) ? (int64_t)id : -1;
}

static uint32_t logs_pair_intern(logs_index_t *ix, str_t name, str_t value)
{
    int64_t nid = logs_name_find(ix, name.p, name.len);
    if (nid < 0) {
        if (ix->nnames == ix->capnames) {
            ix->capnames = ix->capnames ? ix->capnames * 2 : 64;
            ix->names = mem_realloc(ix->names, ix->capnames * sizeof(logs_iname_t));
        }
        nid = ix->nnames++;
        ix->names[nid] = (logs_iname_t){ arena_strndup(ix->strs, name.p, name.len), (uint32_t)name.len, { 0 } };
        hmap_put(&ix->name_map, hash_bytes(name.p, name.len), (uint64_t)nid);
    }
    int64_t pid = logs_pair_find(ix, (uint32_t)nid, value.p, value.len);
    if (pid >= 0) {
        return (uint32_t)pid;
    }
    if (ix->npairs == ix->cappairs) {
        ix->cappairs = ix->cappairs ? ix->cappairs * 2 : 256;
        ix->pairs = mem_realloc(ix->pairs, ix->cappairs * sizeof(logs_ipair_t));
    }
    pid = ix->npairs++;
    ix->pairs[pid] =
        (logs_ipair_t){ (uint32_t)nid, (uint32_t)value.len, arena_strndup(ix->strs, value.p, value.len), { 0 } };
    hmap_put(&ix->pair_map, logs_pair_hash((uint32_t)nid, value.p, value.len), (uint64_t)pid);
    logs_ids_push(&ix->names[nid].pairs, (uint32_t)pid);
    return (uint32_t)pid;
}

typedef struct logs_skey {
    const logs_index_t *ix;
    const label_t *ls;
    size_t n;
} logs_skey_t;

static bool logs_stream_eq(void *ctx, uint64_t value)
{
    const logs_skey_t *k = ctx;
    const logs_strm_t *st = k->ix->streams[value];
    if (st->nlabels != k->n) {
        return false;
    }
    for (size_t i = 0; i < k->n; i++) {
        if (!str_eq(st->labels[i].name, k->ls[i].name) || !str_eq(st->labels[i].value, k->ls[i].value)) {
            return false;
        }
    }
    return true;
}

uint32_t logs_index_get(logs_index_t *ix, const label_t *ls, size_t n, bool *created)
{
    uint64_t hash = labels_hash(ls, n);
    logs_skey_t k = { ix, ls, n };
    uint64_t id;
    if (hmap_get(&ix->stream_map, hash, logs_stream_eq, &k, &id)) {
        *created = false;
        return (uint32_t)id;
    }
    if (ix->nstreams == ix->capstreams) {
        ix->capstreams = ix->capstreams ? ix->capstreams * 2 : 256;
        ix->streams = mem_realloc(ix->streams, ix->capstreams * sizeof(logs_strm_t *));
    }
    uint32_t sid = ix->nstreams++;
    logs_strm_t *st = arena_calloc(ix->strs, 1, sizeof(*st));
    st->labels = arena_calloc(ix->strs, n ? n : 1, sizeof(label_t));
    st->pairs = arena_calloc(ix->strs, n ? n : 1, sizeof(uint32_t));
    st->nlabels = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        uint32_t pid = logs_pair_intern(ix, ls[i].name, ls[i].value);
        const logs_ipair_t *pr = &ix->pairs[pid];
        const logs_iname_t *nm = &ix->names[pr->name];
        st->labels[i] = (label_t){ str_from(nm->s, nm->len), str_from(pr->v, pr->vlen) };
        st->pairs[i] = pid;
        logs_ids_push(&ix->pairs[pid].postings, sid);
    }
    ix->streams[sid] = st;
    hmap_put(&ix->stream_map, hash, sid);
    *created = true;
    return sid;
}

int64_t logs_index_get_encoded(logs_index_t *ix, const uint8_t *p, size_t len, bool *created)
{
    label_t ls[128];
    long n = labels_decode(p, len, ls, 128);
    if (n <= 0) {
        return -1;
    }
    for (long i = 1; i < n; i++) {
        if (str_cmp(ls[i - 1].name, ls[i].name) >= 0) {
            return -1; /* not canonical: unsorted or repeated names */
        }
    }
    return logs_index_get(ix, ls, (size_t)n, created);
}

static int logs_u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void logs_ids_sort_unique(logs_ids_t *ids)
{
    if (ids->n > 1) {
        qsort(ids->v, ids->n, sizeof(uint32_t), logs_u32_cmp);
    }
    uint32_t k = 0;
    for (uint32_t i = 0; i < ids->n; i++) {
        if (k == 0 || ids->v[k - 1] != ids->v[i]) {
            ids->v[k++] = ids->v[i];
        }
    }
    ids->n = k;
}

/* Union of the postings of name's pairs whose value satisfies m (want)
 * or fails it (!want), sorted and unique, into out (reset first). */
static void logs_index_union(logs_index_t *ix, matcher_t *m, bool want, logs_ids_t *out)
{
    out->n = 0;
    int64_t name = logs_name_find(ix, m->name, m->name_len);
    if (name < 0) {
        return;
    }
    uint32_t lists = 0;
    if (want && (m->type == MATCH_EQ || (m->type == MATCH_RE && m->alts))) {
        size_t nv = m->type == MATCH_EQ ? 1 : m->nalts;
        for (size_t i = 0; i < nv; i++) {
            const char *v = m->type == MATCH_EQ ? m->value : m->alts[i];
            size_t len = m->type == MATCH_EQ ? m->value_len : m->alt_lens[i];
            int64_t pid = logs_pair_find(ix, (uint32_t)name, v, len);
            if (pid < 0) {
                continue;
            }
            const logs_ids_t *p = &ix->pairs[pid].postings;
            for (uint32_t j = 0; j < p->n; j++) {
                logs_ids_push(out, p->v[j]);
            }
            lists++;
        }
    } else {
        const logs_ids_t *prs = &ix->names[name].pairs;
        for (uint32_t i = 0; i < prs->n; i++) {
            const logs_ipair_t *pr = &ix->pairs[prs->v[i]];
            if (matcher_matches(m, str_from(pr->v, pr->vlen)) != want) {
                continue;
            }
            for (uint32_t j = 0; j < pr->postings.n; j++) {
                logs_ids_push(out, pr->postings.v[j]);
            }
            lists++;
        }
    }
    if (lists > 1) {
        logs_ids_sort_unique(out);
    }
}

/* a = a ∩ b (keep) or a \ b (!keep); both sorted. */
static void logs_ids_filter(logs_ids_t *a, const logs_ids_t *b, bool keep)
{
    uint32_t k = 0, j = 0;
    for (uint32_t i = 0; i < a->n; i++) {
        while (j < b->n && b->v[j] < a->v[i]) {
            j++;
        }
        bool in = j < b->n && b->v[j] == a->v[i];
        if (in == keep) {
            a->v[k++] = a->v[i];
        }
    }
    a->n = k;
}

void logs_index_select(logs_index_t *ix, matcher_t *ms, size_t n, logs_ids_t *out)
{
    out->n = 0;
    bool have = false;
    logs_ids_t tmp = { 0 };
    for (size_t i = 0; i < n; i++) {
        if (matcher_matches_empty(&ms[i])) {
            continue;
        }
        logs_index_union(ix, &ms[i], true, have ? &tmp : out);
        if (have) {
            logs_ids_filter(out, &tmp, true);
        }
        have = true;
        if (out->n == 0) {
            logs_ids_fini(&tmp);
            return;
        }
    }
    if (!have) {
        for (uint32_t id = 0; id < ix->nstreams; id++) {
            logs_ids_push(out, id);
        }
    }
    for (size_t i = 0; i < n && out->n > 0; i++) {
        if (matcher_matches_empty(&ms[i])) {
            logs_index_union(ix, &ms[i], false, &tmp);
            logs_ids_filter(out, &tmp, false);
        }
    }
    logs_ids_fini(&tmp);
}

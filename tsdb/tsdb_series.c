/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tsdb_series: the in-memory series index. Label names and name=value
 * pairs are interned into an arena once; a series is its sorted array of
 * pair ids plus its head state. Lookups by label set go through a hash of
 * the canonical label bytes (labels_hash) with full comparison on
 * candidates, so a 64-bit collision creates two series, never merges them.
 *
 * Matchers select series the Prometheus way (PostingsForMatchers): a
 * matcher that rejects "" contributes the union of the postings of the
 * values it accepts (intersected); a matcher that accepts "" removes the
 * union of the postings of the values it rejects; with no matcher of the
 * first kind the start set is every series. Not thread-safe: the store's
 * lock protects it.
 */
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/mem.h"
#include "tsdb/tsdb_int.h"

void tsdb_ids_push(tsdb_ids_t *ids, uint32_t v)
{
    if (ids->n == ids->cap) {
        ids->cap = ids->cap ? ids->cap * 2 : 4;
        ids->v = mem_realloc(ids->v, ids->cap * sizeof(uint32_t));
    }
    ids->v[ids->n++] = v;
}

void tsdb_ids_fini(tsdb_ids_t *ids)
{
    mem_free(ids->v);
    memset(ids, 0, sizeof(*ids));
}

void tsdb_ids_intersect(tsdb_ids_t *a, const tsdb_ids_t *b)
{
    uint32_t i = 0, j = 0, k = 0;
    while (i < a->n && j < b->n) {
        if (a->v[i] < b->v[j]) {
            i++;
        } else if (a->v[i] > b->v[j]) {
            j++;
        } else {
            a->v[k++] = a->v[i];
            i++;
            j++;
        }
    }
    a->n = k;
}

void tsdb_ids_subtract(tsdb_ids_t *a, const tsdb_ids_t *b)
{
    uint32_t i = 0, j = 0, k = 0;
    while (i < a->n) {
        while (j < b->n && b->v[j] < a->v[i]) {
            j++;
        }
        if (j < b->n && b->v[j] == a->v[i]) {
            i++;
            continue;
        }
        a->v[k++] = a->v[i++];
    }
    a->n = k;
}

void tsdb_ids_union_into(tsdb_ids_t *dst, const tsdb_ids_t *a, const tsdb_ids_t *b)
{
    dst->n = 0;
    uint32_t i = 0, j = 0;
    while (i < a->n || j < b->n) {
        uint32_t v;
        if (j >= b->n || (i < a->n && a->v[i] < b->v[j])) {
            v = a->v[i++];
        } else if (i >= a->n || b->v[j] < a->v[i]) {
            v = b->v[j++];
        } else {
            v = a->v[i++];
            j++;
        }
        tsdb_ids_push(dst, v);
    }
}

void tsdb_index_init(tsdb_index_t *ix)
{
    memset(ix, 0, sizeof(*ix));
    ix->strs = arena_create(64 * 1024);
    hmap_init(&ix->name_map);
    hmap_init(&ix->pair_map);
    hmap_init(&ix->series_map);
    hmap_init(&ix->fp_map);
}

void tsdb_index_fini(tsdb_index_t *ix)
{
    for (uint32_t i = 0; i < ix->nseries; i++) {
        tsdb_head_series_fini(ix->series[i]); /* the series itself is in the arena */
    }
    mem_free(ix->series);
    for (uint32_t i = 0; i < ix->npairs; i++) {
        tsdb_ids_fini(&ix->pairs[i].postings);
    }
    mem_free(ix->pairs);
    for (uint32_t i = 0; i < ix->nnames; i++) {
        tsdb_ids_fini(&ix->names[i].pairs);
    }
    mem_free(ix->names);
    hmap_fini(&ix->name_map);
    hmap_fini(&ix->pair_map);
    hmap_fini(&ix->series_map);
    hmap_fini(&ix->fp_map);
    arena_destroy(ix->strs);
    memset(ix, 0, sizeof(*ix));
}

typedef struct name_key {
    const tsdb_index_t *ix;
    const char *p;
    size_t len;
} name_key_t;

static bool tsdb_name_eq(void *ctx, uint64_t value)
{
    const name_key_t *k = ctx;
    const tsdb_name_t *nm = &k->ix->names[value];
    return nm->len == k->len && memcmp(nm->s, k->p, k->len) == 0;
}

static int64_t tsdb_name_find(const tsdb_index_t *ix, const char *p, size_t len)
{
    name_key_t k = { ix, p, len };
    uint64_t id;
    if (hmap_get(&ix->name_map, hash_bytes(p, len), tsdb_name_eq, &k, &id)) {
        return (int64_t)id;
    }
    return -1;
}

static uint32_t tsdb_name_intern(tsdb_index_t *ix, const char *p, size_t len)
{
    int64_t found = tsdb_name_find(ix, p, len);
    if (found >= 0) {
        return (uint32_t)found;
    }
    if (ix->nnames == ix->capnames) {
        ix->capnames = ix->capnames ? ix->capnames * 2 : 64;
        ix->names = mem_realloc(ix->names, ix->capnames * sizeof(tsdb_name_t));
    }
    uint32_t id = ix->nnames++;
    tsdb_name_t *nm = &ix->names[id];
    memset(nm, 0, sizeof(*nm));
    nm->s = arena_strndup(ix->strs, p, len);
    nm->len = (uint32_t)len;
    hmap_put(&ix->name_map, hash_bytes(p, len), id);
    return id;
}

static uint64_t tsdb_pair_hash(uint32_t name, const char *v, size_t len)
{
    return hash_bytes_seed(v, len, (uint64_t)name * 0x9E3779B97F4A7C15ULL + 1);
}

typedef struct pair_key {
    const tsdb_index_t *ix;
    uint32_t name;
    const char *v;
    size_t len;
} pair_key_t;

static bool tsdb_pair_eq(void *ctx, uint64_t value)
{
    const pair_key_t *k = ctx;
    const tsdb_pair_t *pr = &k->ix->pairs[value];
    return pr->name == k->name && pr->vlen == k->len && memcmp(pr->v, k->v, k->len) == 0;
}

static int64_t tsdb_pair_find(const tsdb_index_t *ix, uint32_t name, const char *v, size_t len)
{
    pair_key_t k = { ix, name, v, len };
    uint64_t id;
    if (hmap_get(&ix->pair_map, tsdb_pair_hash(name, v, len), tsdb_pair_eq, &k, &id)) {
        return (int64_t)id;
    }
    return -1;
}

static uint32_t tsdb_pair_intern(tsdb_index_t *ix, uint32_t name, const char *v, size_t len)
{
    int64_t found = tsdb_pair_find(ix, name, v, len);
    if (found >= 0) {
        return (uint32_t)found;
    }
    if (ix->npairs == ix->cappairs) {
        ix->cappairs = ix->cappairs ? ix->cappairs * 2 : 256;
        ix->pairs = mem_realloc(ix->pairs, ix->cappairs * sizeof(tsdb_pair_t));
    }
    uint32_t id = ix->npairs++;
    tsdb_pair_t *pr = &ix->pairs[id];
    memset(pr, 0, sizeof(*pr));
    pr->name = name;
    pr->v = arena_strndup(ix->strs, v, len);
    pr->vlen = (uint32_t)len;
    hmap_put(&ix->pair_map, tsdb_pair_hash(name, v, len), id);
    tsdb_ids_push(&ix->names[name].pairs, id);
    return id;
}

typedef struct series_key {
    const tsdb_index_t *ix;
    const label_t *ls;
    size_t n;
} series_key_t;

static bool tsdb_series_eq(void *ctx, uint64_t value)
{
    const series_key_t *k = ctx;
    const tsdb_series_t *s = k->ix->series[value];
    if (s->npairs != k->n) {
        return false;
    }
    for (size_t i = 0; i < k->n; i++) {
        const tsdb_pair_t *pr = &k->ix->pairs[s->pairs[i]];
        const tsdb_name_t *nm = &k->ix->names[pr->name];
        if (nm->len != k->ls[i].name.len || pr->vlen != k->ls[i].value.len ||
            memcmp(nm->s, k->ls[i].name.p, nm->len) != 0 || memcmp(pr->v, k->ls[i].value.p, pr->vlen) != 0) {
            return false;
        }
    }
    return true;
}

int64_t tsdb_index_find(const tsdb_index_t *ix, const label_t *ls, size_t n, uint64_t hash)
{
    series_key_t k = { ix, ls, n };
    uint64_t id;
    if (hmap_get(&ix->series_map, hash, tsdb_series_eq, &k, &id)) {
        return (int64_t)id;
    }
    return -1;
}

uint32_t tsdb_index_add(tsdb_index_t *ix, const label_t *ls, size_t n, uint64_t hash)
{
    if (ix->nseries == ix->capseries) {
        ix->capseries = ix->capseries ? ix->capseries * 2 : 1024;
        ix->series = mem_realloc(ix->series, ix->capseries * sizeof(tsdb_series_t *));
    }
    uint32_t id = ix->nseries++;
    tsdb_series_t *s = arena_calloc(ix->strs, 1, sizeof(*s) + n * sizeof(uint32_t));
    s->npairs = (uint16_t)n;
    for (size_t i = 0; i < n; i++) {
        uint32_t name = tsdb_name_intern(ix, ls[i].name.p, ls[i].name.len);
        uint32_t pair = tsdb_pair_intern(ix, name, ls[i].value.p, ls[i].value.len);
        s->pairs[i] = pair;
        tsdb_ids_push(&ix->pairs[pair].postings, id);
    }
    tsdb_xor_init(&s->open);
    ix->series[id] = s;
    hmap_put(&ix->series_map, hash, id);
    return id;
}

size_t tsdb_index_labels(const tsdb_index_t *ix, uint32_t id, label_t *ls, size_t max)
{
    const tsdb_series_t *s = ix->series[id];
    size_t n = s->npairs < max ? s->npairs : max;
    for (size_t i = 0; i < n; i++) {
        const tsdb_pair_t *pr = &ix->pairs[s->pairs[i]];
        const tsdb_name_t *nm = &ix->names[pr->name];
        ls[i].name = str_from(nm->s, nm->len);
        ls[i].value = str_from(pr->v, pr->vlen);
    }
    return n;
}

typedef struct fp_key {
    uint32_t hi;
    uint64_t found;
} fp_key_t;

static bool tsdb_fp_eq(void *ctx, uint64_t value)
{
    fp_key_t *k = ctx;
    if ((uint32_t)(value >> 32) != k->hi) {
        return false;
    }
    k->found = value & 0xffffffffu;
    return true;
}

int64_t tsdb_index_find_fp(const tsdb_index_t *ix, const tsdb_fp_t *fp)
{
    fp_key_t k = { (uint32_t)(fp->hi >> 32), 0 };
    uint64_t v;
    if (hmap_get(&ix->fp_map, fp->lo, tsdb_fp_eq, &k, &v) && k.found < ix->nseries) {
        return (int64_t)k.found;
    }
    return -1;
}

void tsdb_index_add_fp(tsdb_index_t *ix, const tsdb_fp_t *fp, uint32_t id)
{
    if (tsdb_index_find_fp(ix, fp) < 0) {
        hmap_put(&ix->fp_map, fp->lo, (fp->hi >> 32) << 32 | id);
    }
}

static int tsdb_u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a;
    uint32_t y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Union of the postings of the name's pairs whose value satisfies m
 * (want == true) or fails it (want == false), sorted and unique. */
static void tsdb_index_union(tsdb_index_t *ix, matcher_t *m, bool want, tsdb_ids_t *out)
{
    out->n = 0;
    int64_t name = tsdb_name_find(ix, m->name, m->name_len);
    if (name < 0) {
        return;
    }
    uint32_t lists = 0;
    bool direct = want && (m->type == MATCH_EQ || (m->type == MATCH_RE && m->alts));
    if (direct) {
        /* Look the accepted values up instead of scanning every value. */
        size_t nv = m->type == MATCH_EQ ? 1 : m->nalts;
        for (size_t i = 0; i < nv; i++) {
            const char *v = m->type == MATCH_EQ ? m->value : m->alts[i];
            size_t len = m->type == MATCH_EQ ? m->value_len : m->alt_lens[i];
            int64_t pair = tsdb_pair_find(ix, (uint32_t)name, v, len);
            if (pair < 0) {
                continue;
            }
            const tsdb_ids_t *p = &ix->pairs[pair].postings;
            for (uint32_t j = 0; j < p->n; j++) {
                tsdb_ids_push(out, p->v[j]);
            }
            lists++;
        }
    } else {
        const tsdb_ids_t *prs = &ix->names[name].pairs;
        for (uint32_t i = 0; i < prs->n; i++) {
            const tsdb_pair_t *pr = &ix->pairs[prs->v[i]];
            if (matcher_matches(m, str_from(pr->v, pr->vlen)) != want) {
                continue;
            }
            for (uint32_t j = 0; j < pr->postings.n; j++) {
                tsdb_ids_push(out, pr->postings.v[j]);
            }
            lists++;
        }
    }
    if (lists > 1) {
        qsort(out->v, out->n, sizeof(uint32_t), tsdb_u32_cmp);
        uint32_t k = 0;
        for (uint32_t i = 0; i < out->n; i++) {
            if (k == 0 || out->v[k - 1] != out->v[i]) {
                out->v[k++] = out->v[i];
            }
        }
        out->n = k;
    }
}

void tsdb_index_select(tsdb_index_t *ix, matcher_t *ms, size_t n, tsdb_ids_t *out)
{
    out->n = 0;
    bool have = false;
    tsdb_ids_t tmp = { 0 };
    for (size_t i = 0; i < n; i++) {
        if (matcher_matches_empty(&ms[i])) {
            continue;
        }
        tsdb_index_union(ix, &ms[i], true, have ? &tmp : out);
        if (have) {
            tsdb_ids_intersect(out, &tmp);
        }
        have = true;
        if (out->n == 0) {
            tsdb_ids_fini(&tmp);
            return;
        }
    }
    if (!have) {
        for (uint32_t id = 0; id < ix->nseries; id++) {
            tsdb_ids_push(out, id);
        }
    }
    for (size_t i = 0; i < n && out->n > 0; i++) {
        if (!matcher_matches_empty(&ms[i])) {
            continue;
        }
        tsdb_index_union(ix, &ms[i], false, &tmp);
        tsdb_ids_subtract(out, &tmp);
    }
    tsdb_ids_fini(&tmp);
}

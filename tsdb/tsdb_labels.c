/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tsdb_labels: label names, label values, series and metadata lookups for
 * the Prometheus API (contracts in tsdb.h).
 *
 * Under the read lock: the ids of every matcher set are computed with the
 * index's postings operations and merged (sorted unions); each candidate
 * is kept when its time bounds overlap [mint, maxt] (head chunks and
 * out-of-order samples, then its extent in each block of a snapshot taken
 * like tsdb_select's). Without matchers, a name or value counts as soon
 * as one series of its postings is in range (usually the first, so the
 * answer costs about one check per name or value); with matchers, the
 * selected series' own labels are collected (one check per series).
 * Series are viewed in place (borrowed label slices) in a scratch arena.
 * The result is sorted by bytes, and only the first limit entries are
 * copied into the caller's arena; everything else is freed before return.
 *
 * Invariant: nothing here writes to the index or the head; the metadata
 * table is read under meta_mu alone (it is not covered by the store lock).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "tsdb/tsdb_int.h"

/* A view of the selection: the store locked, the block snapshot. */
typedef struct tsdb_lsel {
    tsdb_t *db;
    tsdb_block_t **bl;
    uint32_t nb;
    int64_t mint, maxt;
} tsdb_lsel_t;

static bool tsdb_labels_ooo_overlaps(const tsdb_ooo_t *o, int64_t mint, int64_t maxt)
{
    uint32_t lo = 0, hi = o->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (o->v[mid].t < mint) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < o->n && o->v[lo].t <= maxt;
}

static bool tsdb_labels_head_overlaps(const tsdb_series_t *s, int64_t mint, int64_t maxt)
{
    if (s->open.n > 0 && s->open.t_first <= maxt && s->open.t >= mint) {
        return true;
    }
    const tsdb_clist_t *lists[2] = { &s->closed, &s->frozen };
    for (int k = 0; k < 2; k++) {
        for (const tsdb_cchunk_t *c = lists[k]->head; c; c = c->next) {
            if (c->n > 0 && c->t_first <= maxt && c->t_last >= mint) {
                return true;
            }
        }
    }
    return tsdb_labels_ooo_overlaps(&s->ooo, mint, maxt) || tsdb_labels_ooo_overlaps(&s->ooo_frozen, mint, maxt);
}

/* Does series id have data in the selection's range (by bounds)? */
static bool tsdb_labels_in_range(const tsdb_lsel_t *sel, uint32_t id)
{
    if (tsdb_labels_head_overlaps(sel->db->ix.series[id], sel->mint, sel->maxt)) {
        return true;
    }
    for (uint32_t i = 0; i < sel->nb; i++) {
        int64_t idx = tsdb_block_find(sel->bl[i], id);
        if (idx >= 0 && sel->bl[i]->smint[idx] <= sel->maxt && sel->bl[i]->smaxt[idx] >= sel->mint) {
            return true;
        }
    }
    return false;
}

/* Lock the store and snapshot the blocks of the range. */
static void tsdb_lsel_begin(tsdb_lsel_t *sel, tsdb_t *db, int64_t mint, int64_t maxt)
{
    sel->db = db;
    sel->mint = mint;
    sel->maxt = maxt;
    pthread_rwlock_rdlock(&db->lock);
    sel->bl = tsdb_blocks_snapshot(db, mint, maxt, &sel->nb);
}

static void tsdb_lsel_end(tsdb_lsel_t *sel)
{
    pthread_rwlock_unlock(&sel->db->lock);
    tsdb_blocks_release(sel->db, sel->bl, sel->nb);
    sel->bl = NULL;
    sel->nb = 0;
}

/* The ids of the union of the sets, sorted, into out; false. Without
 * sets, out stays empty and the result is true: every series is a
 * candidate, and callers walk them without materialising the list. */
static bool tsdb_labels_candidates(tsdb_t *db, const tsdb_matchset_t *sets, size_t nsets, tsdb_ids_t *out)
{
    out->n = 0;
    if (nsets == 0) {
        return true;
    }
    tsdb_index_select(&db->ix, sets[0].ms, sets[0].n, out);
    tsdb_ids_t one = { 0 }, merged = { 0 };
    for (size_t i = 1; i < nsets; i++) {
        tsdb_index_select(&db->ix, sets[i].ms, sets[i].n, &one);
        tsdb_ids_union_into(&merged, out, &one);
        tsdb_ids_t t = *out;
        *out = merged;
        merged = t;
    }
    tsdb_ids_fini(&one);
    tsdb_ids_fini(&merged);
    return false;
}

/* Keep the in-range ids of cand (all series when every is true). */
static void tsdb_labels_keep(const tsdb_lsel_t *sel, const tsdb_ids_t *cand, bool every, tsdb_ids_t *out)
{
    out->n = 0;
    uint32_t n = every ? sel->db->ix.nseries : cand->n;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t id = every ? i : cand->v[i];
        if (tsdb_labels_in_range(sel, id)) {
            tsdb_ids_push(out, id);
        }
    }
}

static int tsdb_labels_str_cmp(const void *a, const void *b)
{
    return str_cmp(*(const str_t *)a, *(const str_t *)b);
}

/* Sort the borrowed slices v[0..n), copy the first limit into a. */
static size_t tsdb_labels_emit(str_t *v, size_t n, size_t limit, arena_t *a, str_t **out, bool *truncated)
{
    if (n > 1) {
        qsort(v, n, sizeof(str_t), tsdb_labels_str_cmp);
    }
    *truncated = limit > 0 && n > limit;
    size_t k = *truncated ? limit : n;
    str_t *res = arena_alloc(a, (k ? k : 1) * sizeof(str_t));
    for (size_t i = 0; i < k; i++) {
        res[i] = str_from(arena_strndup(a, v[i].p, v[i].len), v[i].len);
    }
    *out = res;
    return k;
}

/* Is any series of the sorted postings p in the range? Stops at the
 * first one, so a value or name with data costs little. */
static bool tsdb_labels_postings_hit(const tsdb_lsel_t *sel, const tsdb_ids_t *p)
{
    for (uint32_t i = 0; i < p->n; i++) {
        if (tsdb_labels_in_range(sel, p->v[i])) {
            return true;
        }
    }
    return false;
}

size_t tsdb_labels_names(tsdb_t *db, const tsdb_matchset_t *sets, size_t nsets, int64_t mint, int64_t maxt,
                         size_t limit, arena_t *a, str_t **out, bool *truncated)
{
    tsdb_lsel_t sel;
    tsdb_lsel_begin(&sel, db, mint, maxt);
    tsdb_index_t *ix = &db->ix;
    tsdb_ids_t cand = { 0 }, keep = { 0 };
    uint8_t *seen = mem_calloc(ix->nnames ? ix->nnames : 1, 1);
    if (tsdb_labels_candidates(db, sets, nsets, &cand)) {
        /* Every series: a name counts once one of its values has data. */
        for (uint32_t i = 0; i < ix->nnames; i++) {
            const tsdb_ids_t *prs = &ix->names[i].pairs;
            for (uint32_t k = 0; k < prs->n && !seen[i]; k++) {
                seen[i] = tsdb_labels_postings_hit(&sel, &ix->pairs[prs->v[k]].postings);
            }
        }
    } else {
        tsdb_labels_keep(&sel, &cand, false, &keep);
        for (uint32_t i = 0; i < keep.n; i++) {
            const tsdb_series_t *s = ix->series[keep.v[i]];
            for (uint16_t k = 0; k < s->npairs; k++) {
                seen[ix->pairs[s->pairs[k]].name] = 1;
            }
        }
    }
    str_t *v = mem_alloc((ix->nnames ? ix->nnames : 1) * sizeof(str_t));
    size_t n = 0;
    for (uint32_t i = 0; i < ix->nnames; i++) {
        if (seen[i]) {
            v[n++] = str_from(ix->names[i].s, ix->names[i].len);
        }
    }
    size_t k = tsdb_labels_emit(v, n, limit, a, out, truncated);
    tsdb_lsel_end(&sel);
    mem_free(v);
    mem_free(seen);
    tsdb_ids_fini(&cand);
    tsdb_ids_fini(&keep);
    return k;
}

static int tsdb_labels_u32_cmp(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x;
    uint32_t b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

size_t tsdb_labels_values(tsdb_t *db, str_t name, const tsdb_matchset_t *sets, size_t nsets, int64_t mint, int64_t maxt,
                          size_t limit, arena_t *a, str_t **out, bool *truncated)
{
    tsdb_lsel_t sel;
    tsdb_lsel_begin(&sel, db, mint, maxt);
    tsdb_index_t *ix = &db->ix;
    int64_t nid = -1;
    for (uint32_t i = 0; i < ix->nnames && nid < 0; i++) {
        if (str_eq(str_from(ix->names[i].s, ix->names[i].len), name)) {
            nid = i;
        }
    }
    tsdb_ids_t cand = { 0 }, keep = { 0 }, prs = { 0 };
    if (nid >= 0 && tsdb_labels_candidates(db, sets, nsets, &cand)) {
        /* Every series: a value counts once one of its series has data. */
        const tsdb_ids_t *all = &ix->names[nid].pairs;
        for (uint32_t i = 0; i < all->n; i++) {
            if (tsdb_labels_postings_hit(&sel, &ix->pairs[all->v[i]].postings)) {
                tsdb_ids_push(&prs, all->v[i]);
            }
        }
    } else if (nid >= 0) {
        /* The selected series' own pairs of this name, deduplicated. */
        tsdb_labels_keep(&sel, &cand, false, &keep);
        for (uint32_t i = 0; i < keep.n; i++) {
            const tsdb_series_t *s = ix->series[keep.v[i]];
            for (uint16_t k = 0; k < s->npairs; k++) {
                if (ix->pairs[s->pairs[k]].name == (uint32_t)nid) {
                    tsdb_ids_push(&prs, s->pairs[k]);
                    break;
                }
            }
        }
        if (prs.n > 1) {
            qsort(prs.v, prs.n, sizeof(uint32_t), tsdb_labels_u32_cmp);
        }
    }
    str_t *v = mem_alloc((prs.n ? prs.n : 1) * sizeof(str_t));
    size_t n = 0;
    for (uint32_t i = 0; i < prs.n; i++) {
        if (i == 0 || prs.v[i] != prs.v[i - 1]) {
            const tsdb_pair_t *pr = &ix->pairs[prs.v[i]];
            v[n++] = str_from(pr->v, pr->vlen);
        }
    }
    size_t k = tsdb_labels_emit(v, n, limit, a, out, truncated);
    tsdb_lsel_end(&sel);
    mem_free(v);
    tsdb_ids_fini(&cand);
    tsdb_ids_fini(&keep);
    tsdb_ids_fini(&prs);
    return k;
}

/* Prometheus' labels.Compare: name then value, pair by pair, then length. */
static int tsdb_labels_series_cmp(const void *x, const void *y)
{
    const tsdb_series_labels_t *a = x;
    const tsdb_series_labels_t *b = y;
    size_t n = a->n < b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++) {
        int c = str_cmp(a->labels[i].name, b->labels[i].name);
        if (c == 0) {
            c = str_cmp(a->labels[i].value, b->labels[i].value);
        }
        if (c != 0) {
            return c;
        }
    }
    return (a->n > b->n) - (a->n < b->n);
}

size_t tsdb_labels_series(tsdb_t *db, const tsdb_matchset_t *sets, size_t nsets, int64_t mint, int64_t maxt,
                          size_t limit, arena_t *a, tsdb_series_labels_t **out, bool *truncated)
{
    tsdb_lsel_t sel;
    tsdb_lsel_begin(&sel, db, mint, maxt);
    tsdb_index_t *ix = &db->ix;
    tsdb_ids_t cand = { 0 }, keep = { 0 };
    bool every = tsdb_labels_candidates(db, sets, nsets, &cand);
    tsdb_labels_keep(&sel, &cand, every, &keep);
    arena_t *scratch = arena_create(64 * 1024);
    tsdb_series_labels_t *views = mem_alloc((keep.n ? keep.n : 1) * sizeof(*views));
    for (uint32_t i = 0; i < keep.n; i++) {
        const tsdb_series_t *s = ix->series[keep.v[i]];
        views[i].labels = arena_alloc(scratch, (s->npairs ? s->npairs : 1) * sizeof(label_t));
        views[i].n = tsdb_index_labels(ix, keep.v[i], views[i].labels, s->npairs);
    }
    qsort(views, keep.n, sizeof(*views), tsdb_labels_series_cmp);
    *truncated = limit > 0 && keep.n > limit;
    size_t k = *truncated ? limit : keep.n;
    tsdb_series_labels_t *res = arena_alloc(a, (k ? k : 1) * sizeof(*res));
    for (size_t i = 0; i < k; i++) {
        res[i].n = views[i].n;
        res[i].labels = arena_alloc(a, (views[i].n ? views[i].n : 1) * sizeof(label_t));
        for (size_t j = 0; j < views[i].n; j++) {
            const label_t *l = &views[i].labels[j];
            res[i].labels[j].name = str_from(arena_strndup(a, l->name.p, l->name.len), l->name.len);
            res[i].labels[j].value = str_from(arena_strndup(a, l->value.p, l->value.len), l->value.len);
        }
    }
    tsdb_lsel_end(&sel);
    *out = res;
    mem_free(views);
    arena_destroy(scratch);
    tsdb_ids_fini(&cand);
    tsdb_ids_fini(&keep);
    return k;
}

static int tsdb_labels_meta_cmp(const void *x, const void *y)
{
    const tsdb_meta_entry_t *a = *(const tsdb_meta_entry_t *const *)x;
    const tsdb_meta_entry_t *b = *(const tsdb_meta_entry_t *const *)y;
    return str_cmp(str_cstr(a->family), str_cstr(b->family));
}

static str_t tsdb_labels_copy(arena_t *a, const char *s)
{
    size_t len = strlen(s);
    return str_from(arena_strndup(a, s, len), len);
}

size_t tsdb_labels_metadata(tsdb_t *db, str_t family, size_t limit, arena_t *a, tsdb_meta_t **out)
{
    pthread_mutex_lock(&db->meta_mu);
    const tsdb_meta_entry_t **sel = mem_alloc((db->nmeta ? db->nmeta : 1) * sizeof(*sel));
    size_t n = 0;
    for (uint32_t i = 0; i < db->nmeta; i++) {
        if (family.len == 0 || str_eq(str_cstr(db->meta[i].family), family)) {
            sel[n++] = &db->meta[i];
        }
    }
    qsort(sel, n, sizeof(*sel), tsdb_labels_meta_cmp);
    size_t k = limit > 0 && n > limit ? limit : n;
    tsdb_meta_t *res = arena_alloc(a, (k ? k : 1) * sizeof(*res));
    for (size_t i = 0; i < k; i++) {
        res[i].family = tsdb_labels_copy(a, sel[i]->family);
        res[i].help = tsdb_labels_copy(a, sel[i]->help);
        res[i].unit = tsdb_labels_copy(a, sel[i]->unit);
        res[i].type = sel[i]->type;
    }
    pthread_mutex_unlock(&db->meta_mu);
    mem_free(sel);
    *out = res;
    return k;
}

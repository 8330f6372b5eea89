/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tsdb_compact: moving data out of the head and reshaping blocks.
 *
 * Cut: under the write lock, every series freezes what lies before the
 * boundary and the WAL rolls to a new epoch; the frozen samples are then
 * written to a level-0 block without the lock (readers still see them in
 * the head); publishing the block and dropping the frozen data happen
 * together under the write lock, so a reader sees each sample exactly
 * once. Only after the block is durable are the cut mark saved and the
 * WAL epochs it covers deleted.
 *
 * Compaction plans, in order: (1) blocks whose time ranges overlap are
 * merged; (2) for ranges of 4, 24 and 168 block ranges (capped at a tenth
 * of the retention), the blocks that lie inside one aligned window that
 * the head has passed are merged into one. Merging reads every input in
 * sequence order (older first wins on equal timestamps) and writes one
 * block at a higher zstd level. Retention deletes whole blocks whose
 * newest sample is older than the newest data minus the retention.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"
#include "tsdb/tsdb_int.h"

#define TSDB_ZLEVEL_CUT 3
#define TSDB_ZLEVEL_COMPACT 9

void tsdb_blocks_add_locked(tsdb_t *db, tsdb_block_t *b)
{
    if (db->nblocks == db->capblocks) {
        db->capblocks = db->capblocks ? db->capblocks * 2 : 16;
        db->blocks = mem_realloc(db->blocks, db->capblocks * sizeof(tsdb_block_t *));
    }
    /* Keep the list in sequence order: merge order is "older first". */
    uint32_t at = db->nblocks;
    while (at > 0 && db->blocks[at - 1]->seq > b->seq) {
        at--;
    }
    memmove(&db->blocks[at + 1], &db->blocks[at], (db->nblocks - at) * sizeof(tsdb_block_t *));
    db->blocks[at] = b;
    db->nblocks++;
}

static void tsdb_blocks_remove_locked(tsdb_t *db, tsdb_block_t *b)
{
    for (uint32_t i = 0; i < db->nblocks; i++) {
        if (db->blocks[i] == b) {
            memmove(&db->blocks[i], &db->blocks[i + 1], (db->nblocks - i - 1) * sizeof(tsdb_block_t *));
            db->nblocks--;
            return;
        }
    }
}

void tsdb_block_unref(tsdb_t *db, tsdb_block_t *b)
{
    pthread_mutex_lock(&db->blocks_mu);
    bool last = --b->refs == 0;
    pthread_mutex_unlock(&db->blocks_mu);
    if (last) {
        tsdb_block_free(b);
    }
}

tsdb_block_t **tsdb_blocks_snapshot(tsdb_t *db, int64_t mint, int64_t maxt, uint32_t *n)
{
    pthread_mutex_lock(&db->blocks_mu);
    tsdb_block_t **snap = mem_alloc((db->nblocks ? db->nblocks : 1) * sizeof(tsdb_block_t *));
    uint32_t k = 0;
    for (uint32_t i = 0; i < db->nblocks; i++) {
        tsdb_block_t *b = db->blocks[i];
        if (b->maxt >= mint && b->mint <= maxt) {
            b->refs++;
            snap[k++] = b;
        }
    }
    pthread_mutex_unlock(&db->blocks_mu);
    *n = k;
    return snap;
}

void tsdb_blocks_release(tsdb_t *db, tsdb_block_t **snap, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        tsdb_block_unref(db, snap[i]);
    }
    mem_free(snap);
}

void tsdb_read_blocks(tsdb_t *db, tsdb_block_t **bl, uint32_t nb, tsdb_page_cache_t *pcs, uint32_t id, int64_t mint,
                      int64_t maxt, int64_t **ts, double **vs, size_t *n, size_t *cap)
{
    int64_t *bt = NULL, *mt = NULL;
    double *bv = NULL, *mv = NULL;
    size_t bcap = 0, mcap = 0;
    for (uint32_t i = 0; i < nb; i++) {
        int64_t idx = tsdb_block_find(bl[i], id);
        if (idx < 0) {
            continue;
        }
        if (*n == 0) {
            if (tsdb_block_read(bl[i], (uint32_t)idx, &pcs[i], mint, maxt, ts, vs, n, cap) < 0) {
                __atomic_add_fetch(&db->c_corrupt_blocks, 1, __ATOMIC_RELAXED);
                log_error("corrupt page in block %s (series %u)", bl[i]->path, id);
            }
            continue;
        }
        size_t bn = 0;
        if (tsdb_block_read(bl[i], (uint32_t)idx, &pcs[i], mint, maxt, &bt, &bv, &bn, &bcap) < 0) {
            __atomic_add_fetch(&db->c_corrupt_blocks, 1, __ATOMIC_RELAXED);
            log_error("corrupt page in block %s (series %u)", bl[i]->path, id);
            continue;
        }
        if (bn == 0) {
            continue;
        }
        if (bt[0] > (*ts)[*n - 1]) {
            /* The usual case, blocks in time order: append. */
            tsdb_merge_samples(bt, bv, bn, NULL, NULL, 0, ts, vs, n, cap);
            continue;
        }
        size_t mn = 0;
        tsdb_merge_samples(*ts, *vs, *n, bt, bv, bn, &mt, &mv, &mn, &mcap);
        /* Swap the merged run into the output. */
        int64_t *st = *ts;
        double *sv = *vs;
        size_t sc = *cap;
        *ts = mt;
        *vs = mv;
        *n = mn;
        *cap = mcap;
        mt = st;
        mv = sv;
        mcap = sc;
    }
    mem_free(bt);
    mem_free(bv);
    mem_free(mt);
    mem_free(mv);
}

int tsdb_marks_save(tsdb_t *db)
{
    size_t len = strlen(db->marks_path) + 8;
    char *tmp = mem_alloc(len);
    snprintf(tmp, len, "%s.tmp", db->marks_path);
    FILE *f = fopen(tmp, "w");
    int rc = 0;
    if (!f) {
        rc = -errno;
        mem_free(tmp);
        return rc;
    }
    for (uint32_t i = 0; i < db->nmarks; i++) {
        fprintf(f, "%" PRId64 " %u\n", db->marks[i].boundary, db->marks[i].seg);
    }
    if (fflush(f) != 0 || fdatasync(fileno(f)) != 0) {
        rc = -errno;
    }
    fclose(f);
    if (rc == 0 && rename(tmp, db->marks_path) != 0) {
        rc = -errno;
    }
    mem_free(tmp);
    return rc;
}

/* Delete the oldest WAL epochs that hold nothing at or after boundary,
 * and the marks that only concern deleted segments. */
static void tsdb_wal_truncate(tsdb_t *db, int64_t boundary)
{
    pthread_rwlock_wrlock(&db->lock);
    uint32_t drop = 0;
    while (drop + 1 < db->nepochs && db->epochs[drop].maxt < boundary) {
        drop++;
    }
    uint32_t keep_seg = db->epochs[drop].seg;
    memmove(db->epochs, db->epochs + drop, (db->nepochs - drop) * sizeof(tsdb_epoch_t));
    db->nepochs -= drop;
    uint32_t k = 0;
    for (uint32_t i = 0; i < db->nmarks; i++) {
        if (db->marks[i].seg > keep_seg) {
            db->marks[k++] = db->marks[i];
        }
    }
    db->nmarks = k;
    pthread_rwlock_unlock(&db->lock);
    if (drop > 0) {
        reclog_drop_before(db->wal, keep_seg);
    }
    tsdb_marks_save(db);
}

int tsdb_cut(tsdb_t *db, int64_t boundary)
{
    /* 1. Freeze and roll, under the write lock. */
    pthread_rwlock_wrlock(&db->lock);
    tsdb_ids_t frozen = { 0 };
    for (uint32_t id = 0; id < db->ix.nseries; id++) {
        tsdb_series_t *s = db->ix.series[id];
        if (tsdb_head_freeze(s, &db->pool, boundary) || s->frozen.head || s->ooo_frozen.n) {
            tsdb_ids_push(&frozen, id);
        }
    }
    tsdb_pool_seal(&db->pool, boundary);
    tsdb_series_t **ptrs = mem_alloc((frozen.n ? frozen.n : 1) * sizeof(tsdb_series_t *));
    for (uint32_t i = 0; i < frozen.n; i++) {
        ptrs[i] = db->ix.series[frozen.v[i]];
    }
    uint32_t seg = 0;
    /* Series records before the samples that use them reach the disk. */
    int rc = reclog_commit(db->slog, UINT64_MAX);
    if (rc == 0) {
        rc = reclog_roll(db->wal, &seg);
    }
    if (rc == 0) {
        if (db->nepochs == db->capepochs) {
            db->capepochs *= 2;
            db->epochs = mem_realloc(db->epochs, db->capepochs * sizeof(tsdb_epoch_t));
        }
        db->epochs[db->nepochs++] = (tsdb_epoch_t){ seg, INT64_MIN };
    }
    uint64_t seq = db->next_seq++;
    /* What this cut covers: a flush (boundary INT64_MAX) covers only the
     * data there is, so regular cuts resume once newer data is due. */
    int64_t covered = boundary;
    if (db->head_maxt < boundary) {
        covered = db->head_maxt == INT64_MIN ? INT64_MIN : db->head_maxt + 1;
    }
    pthread_rwlock_unlock(&db->lock);
    if (rc != 0) {
        log_error("head cut: WAL roll failed: %s", strerror(-rc));
        goto fail_keep;
    }

    /* 2. Write the block without the lock: frozen lists only change here. */
    tsdb_block_t *b = NULL;
    if (frozen.n > 0) {
        tsdb_block_writer_t *w;
        rc = tsdb_block_writer_open(db->blocks_dir, seq, 0, TSDB_ZLEVEL_CUT, &w);
        int64_t *ts = NULL;
        double *vs = NULL;
        size_t cap = 0;
        for (uint32_t i = 0; i < frozen.n && rc == 0; i++) {
            size_t n = 0;
            tsdb_head_read_frozen(ptrs[i], &ts, &vs, &n, &cap);
            rc = tsdb_block_writer_add(w, frozen.v[i], ts, vs, n);
            if (rc == 0 && (i & 1023) == 1023 && __atomic_load_n(&db->stopping, __ATOMIC_ACQUIRE)) {
                rc = -ECANCELED; /* a clean stop checkpoints the frozen data instead */
            }
        }
        mem_free(ts);
        mem_free(vs);
        if (rc == 0) {
            rc = tsdb_block_writer_finish(w, &b);
        } else {
            tsdb_block_writer_abort(w);
        }
        if (rc == -ECANCELED) {
            goto fail_keep;
        }
        if (rc != 0) {
            log_error("head cut: writing block failed: %s", strerror(-rc));
            goto fail_keep;
        }
    }

    /* 3. Publish: the block appears as the frozen data goes. */
    pthread_rwlock_wrlock(&db->lock);
    pthread_mutex_lock(&db->blocks_mu);
    if (b) {
        b->refs = 1;
        tsdb_blocks_add_locked(db, b);
    }
    pthread_mutex_unlock(&db->blocks_mu);
    for (uint32_t i = 0; i < frozen.n; i++) {
        tsdb_head_drop_frozen(ptrs[i]);
    }
    tsdb_pool_free_sealed(&db->pool);
    if (covered > db->cut_boundary) {
        db->cut_boundary = covered;
    }
    if (db->nmarks == db->capmarks) {
        db->capmarks = db->capmarks ? db->capmarks * 2 : 8;
        db->marks = mem_realloc(db->marks, db->capmarks * sizeof(tsdb_mark_t));
    }
    db->marks[db->nmarks++] = (tsdb_mark_t){ boundary, seg };
    pthread_rwlock_unlock(&db->lock);
    __atomic_add_fetch(&db->c_cuts, 1, __ATOMIC_RELAXED);

    /* 4. The WAL it covers can go. */
    tsdb_wal_truncate(db, boundary);
    mem_free(ptrs);
    tsdb_ids_fini(&frozen);
    return 0;

fail_keep:
    /* The frozen data stays readable in the head; the next cut retries it. */
    mem_free(ptrs);
    tsdb_ids_fini(&frozen);
    return TSDB_ERR_IO;
}

int tsdb_checkpoint(tsdb_t *db)
{
    uint32_t seg;
    int rc = db->slog ? reclog_commit(db->slog, UINT64_MAX) : -EIO;
    if (rc == 0) {
        rc = reclog_roll(db->wal, &seg);
    }
    buf_t rec = { 0 }, scratch = { 0 };
    uint64_t pos = 0;
    uint32_t count = 0;
    int64_t prev_t = 0;
    for (uint32_t id = 0; rc == 0 && id <= db->ix.nseries; id++) {
        const tsdb_series_t *s = id < db->ix.nseries ? db->ix.series[id] : NULL;
        if (s && count == 0) {
            tsdb_rec_begin(&rec, TSDB_REC_CHUNKS);
        }
        if (s && (s->open.n || s->closed.head || s->frozen.head)) {
            tsdb_rec_add_head(&rec, id, s);
            count++;
        }
        if (count > 0 && (!s || rec.len >= (1u << 20))) {
            tsdb_rec_finish(&rec, count, &scratch);
            rc = reclog_append(db->wal, rec.data, rec.len, &pos);
            count = 0;
        }
    }
    /* Out-of-order samples go as plain samples. */
    for (uint32_t id = 0; rc == 0 && id <= db->ix.nseries; id++) {
        const tsdb_series_t *s = id < db->ix.nseries ? db->ix.series[id] : NULL;
        if (s && count == 0) {
            tsdb_rec_begin(&rec, TSDB_REC_SAMPLES);
            prev_t = 0;
        }
        const tsdb_ooo_t *o[2] = { s ? &s->ooo : NULL, s ? &s->ooo_frozen : NULL };
        for (int k = 0; k < 2 && s; k++) {
            for (uint32_t i = 0; i < o[k]->n; i++) {
                tsdb_rec_add_sample(&rec, &prev_t, id, o[k]->v[i].t, o[k]->v[i].v);
                count++;
            }
        }
        if (count > 0 && (!s || rec.len >= (1u << 20))) {
            tsdb_rec_finish(&rec, count, &scratch);
            rc = reclog_append(db->wal, rec.data, rec.len, &pos);
            count = 0;
        }
    }
    buf_fini(&rec);
    buf_fini(&scratch);
    if (rc == 0) {
        rc = reclog_commit(db->wal, pos);
    }
    if (rc == 0) {
        rc = reclog_sync(db->wal);
    }
    if (rc != 0) {
        return rc;
    }
    /* Segments before seg hold nothing the checkpoint does not: skip them
     * at replay (mark) until they are deleted, then forget the mark. */
    if (db->nmarks == db->capmarks) {
        db->capmarks = db->capmarks ? db->capmarks * 2 : 8;
        db->marks = mem_realloc(db->marks, db->capmarks * sizeof(tsdb_mark_t));
    }
    db->marks[db->nmarks++] = (tsdb_mark_t){ INT64_MAX, seg };
    rc = tsdb_marks_save(db);
    if (rc == 0) {
        rc = reclog_drop_before(db->wal, seg);
    }
    if (rc == 0) {
        db->nmarks = 0;
        rc = tsdb_marks_save(db);
    }
    return rc;
}

/* Merge the given blocks (seq order) into one; publish it in their place. */
static int tsdb_merge_blocks(tsdb_t *db, tsdb_block_t **in, uint32_t nin)
{
    uint32_t level = 0;
    uint32_t nb = 0;
    for (uint32_t i = 0; i < nin; i++) {
        if (in[i]->level + 1 > level) {
            level = in[i]->level + 1;
        }
        nb += in[i]->nseries;
    }
    pthread_rwlock_wrlock(&db->lock);
    uint64_t seq = db->next_seq++;
    pthread_rwlock_unlock(&db->lock);
    tsdb_block_writer_t *w;
    /* Early merges are rewritten again soon: the cheap level; later ones keep. */
    int zlevel = level >= 2 ? TSDB_ZLEVEL_COMPACT : TSDB_ZLEVEL_CUT;
    int rc = tsdb_block_writer_open(db->blocks_dir, seq, level, zlevel, &w);
    if (rc != 0) {
        return rc;
    }
    tsdb_page_cache_t *pcs = mem_calloc(nin, sizeof(tsdb_page_cache_t));
    uint32_t *pos = mem_calloc(nin, sizeof(uint32_t));
    int64_t *ts = NULL;
    double *vs = NULL;
    size_t cap = 0;
    for (;;) {
        uint32_t next = UINT32_MAX;
        bool any = false;
        for (uint32_t i = 0; i < nin; i++) {
            if (pos[i] < in[i]->nseries && (!any || in[i]->ids[pos[i]] < next)) {
                next = in[i]->ids[pos[i]];
                any = true;
            }
        }
        if (!any) {
            break;
        }
        size_t n = 0;
        tsdb_read_blocks(db, in, nin, pcs, next, INT64_MIN, INT64_MAX, &ts, &vs, &n, &cap);
        for (uint32_t i = 0; i < nin; i++) {
            if (pos[i] < in[i]->nseries && in[i]->ids[pos[i]] == next) {
                pos[i]++;
            }
        }
        if (n > TSDB_BLOCK_MAX_SAMPLES_PER_SERIES) {
            rc = -E2BIG; /* the merged series would not fit one block */
            break;
        }
        if (n > 0) {
            rc = tsdb_block_writer_add(w, next, ts, vs, n);
            if (rc != 0) {
                break;
            }
        }
        if (__atomic_load_n(&db->stopping, __ATOMIC_ACQUIRE)) {
            rc = -ECANCELED; /* a clean stop does not wait for a merge */
            break;
        }
    }
    (void)nb;
    for (uint32_t i = 0; i < nin; i++) {
        tsdb_page_cache_fini(&pcs[i]);
    }
    mem_free(pcs);
    mem_free(pos);
    mem_free(ts);
    mem_free(vs);
    tsdb_block_t *out = NULL;
    if (rc == 0) {
        rc = tsdb_block_writer_finish(w, &out);
    } else {
        tsdb_block_writer_abort(w);
    }
    if (rc != 0) {
        return rc;
    }
    pthread_mutex_lock(&db->blocks_mu);
    if (out) {
        out->refs = 1;
        tsdb_blocks_add_locked(db, out);
    }
    pthread_mutex_unlock(&db->blocks_mu);
    for (uint32_t i = 0; i < nin; i++) {
        pthread_mutex_lock(&db->blocks_mu);
        tsdb_blocks_remove_locked(db, in[i]);
        in[i]->doomed = true;
        pthread_mutex_unlock(&db->blocks_mu);
        tsdb_block_unref(db, in[i]); /* the list's reference */
    }
    __atomic_add_fetch(&db->c_compactions, 1, __ATOMIC_RELAXED);
    return 0;
}

static int64_t tsdb_floor(int64_t a, int64_t r)
{
    int64_t q = a / r;
    if (a % r != 0 && a < 0) {
        q--;
    }
    return q * r;
}

/* Find one group of blocks to merge; fills group (referenced) and *n. */
static bool tsdb_plan(tsdb_t *db, tsdb_block_t ***group, uint32_t *n)
{
    uint32_t nb = 0;
    tsdb_block_t **bl = tsdb_blocks_snapshot(db, INT64_MIN, INT64_MAX, &nb);
    uint32_t kept = 0;
    for (uint32_t i = 0; i < nb; i++) {
        if (__atomic_load_n(&bl[i]->no_merge, __ATOMIC_RELAXED)) {
            tsdb_block_unref(db, bl[i]);
        } else {
            bl[kept++] = bl[i];
        }
    }
    nb = kept;
    bool *pick = mem_calloc(nb ? nb : 1, sizeof(bool));
    uint32_t npick = 0;
    /* (1) overlapping blocks, grown to a closed group. */
    for (uint32_t i = 0; i < nb && npick == 0; i++) {
        for (uint32_t j = i + 1; j < nb; j++) {
            if (bl[i]->mint <= bl[j]->maxt && bl[j]->mint <= bl[i]->maxt) {
                pick[i] = pick[j] = true;
                npick = 2;
                break;
            }
        }
    }
    if (npick) {
        bool grew = true;
        while (grew) {
            grew = false;
            for (uint32_t i = 0; i < nb; i++) {
                if (pick[i]) {
                    continue;
                }
                for (uint32_t j = 0; j < nb; j++) {
                    if (pick[j] && bl[i]->mint <= bl[j]->maxt && bl[j]->mint <= bl[i]->maxt) {
                        pick[i] = true;
                        npick++;
                        grew = true;
                        break;
                    }
                }
            }
        }
    }
    /* (2) blocks inside one passed, aligned window of a larger range. */
    pthread_rwlock_rdlock(&db->lock);
    int64_t passed = db->cut_boundary;
    pthread_rwlock_unlock(&db->lock);
    static const int mult[] = { 4, 24, 168 };
    for (size_t m = 0; m < 3 && npick == 0; m++) {
        int64_t range = db->o.block_range_ms * mult[m];
        if (db->o.retention_ms > 0 && range > db->o.retention_ms / 10 && m > 0) {
            break;
        }
        for (uint32_t i = 0; i < nb && npick == 0; i++) {
            int64_t w0 = tsdb_floor(bl[i]->mint, range);
            if (bl[i]->maxt >= w0 + range || w0 + range > passed) {
                continue;
            }
            uint32_t cnt = 0;
            for (uint32_t j = 0; j < nb; j++) {
                if (bl[j]->mint >= w0 && bl[j]->maxt < w0 + range) {
                    cnt++;
                }
            }
            if (cnt < 2) {
                continue;
            }
            for (uint32_t j = 0; j < nb; j++) {
                if (bl[j]->mint >= w0 && bl[j]->maxt < w0 + range) {
                    pick[j] = true;
                    npick++;
                }
            }
        }
    }
    tsdb_block_t **g = mem_alloc((npick ? npick : 1) * sizeof(tsdb_block_t *));
    uint32_t k = 0;
    for (uint32_t i = 0; i < nb; i++) {
        if (pick[i]) {
            g[k++] = bl[i];
        } else {
            tsdb_block_unref(db, bl[i]);
        }
    }
    mem_free(bl);
    mem_free(pick);
    *group = g;
    *n = k;
    return k > 1;
}

static void tsdb_retention(tsdb_t *db)
{
    if (db->o.retention_ms <= 0) {
        return;
    }
    pthread_rwlock_rdlock(&db->lock);
    int64_t newest = db->head_maxt;
    pthread_rwlock_unlock(&db->lock);
    pthread_mutex_lock(&db->blocks_mu);
    for (uint32_t i = 0; i < db->nblocks; i++) {
        if (db->blocks[i]->maxt > newest) {
            newest = db->blocks[i]->maxt;
        }
    }
    uint32_t i = 0;
    while (i < db->nblocks) {
        tsdb_block_t *b = db->blocks[i];
        if (newest != INT64_MIN && b->maxt < newest - db->o.retention_ms) {
            tsdb_blocks_remove_locked(db, b);
            b->doomed = true;
            log_info("retention: dropping block %s (maxt %" PRId64 ")", b->path, b->maxt);
            db->c_retention++;
            if (--b->refs == 0) {
                pthread_mutex_unlock(&db->blocks_mu);
                tsdb_block_free(b);
                pthread_mutex_lock(&db->blocks_mu);
            }
            continue;
        }
        i++;
    }
    pthread_mutex_unlock(&db->blocks_mu);
}

int tsdb_compact(tsdb_t *db)
{
    tsdb_retention(db);
    for (int rounds = 0; rounds < 64; rounds++) {
        tsdb_block_t **g;
        uint32_t n;
        bool go = tsdb_plan(db, &g, &n);
        int rc = 0;
        if (go) {
            rc = tsdb_merge_blocks(db, g, n);
        }
        if (rc == -E2BIG) {
            pthread_mutex_lock(&db->blocks_mu);
            for (uint32_t i = 0; i < n; i++) {
                g[i]->no_merge = true;
            }
            pthread_mutex_unlock(&db->blocks_mu);
        }
        for (uint32_t i = 0; i < n; i++) {
            tsdb_block_unref(db, g[i]);
        }
        mem_free(g);
        if (!go) {
            break;
        }
        if (rc == -ECANCELED) {
            log_info("compaction interrupted by the stop; it runs again at the next start");
            return 0;
        }
        if (rc == -E2BIG) {
            /* The blocks stay as they are rather than be retried forever. */
            log_warn("compaction: a series would exceed %u samples in one block; %u blocks stay unmerged",
                     TSDB_BLOCK_MAX_SAMPLES_PER_SERIES, n);
            continue;
        }
        if (rc != 0) {
            __atomic_add_fetch(&db->c_compactions_failed, 1, __ATOMIC_RELAXED);
            log_error("compaction failed: %s", strerror(-rc));
            return TSDB_ERR_IO;
        }
    }
    tsdb_retention(db);
    return 0;
}

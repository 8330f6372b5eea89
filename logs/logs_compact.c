/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logs_compact: everything that turns memory into blocks and blocks into
 * fewer blocks: head cuts, compaction, retention and WAL dropping.
 *
 * A cut freezes the due heads under the write lock (a pointer move),
 * writes them into one block with no lock held (selections still read
 * the frozen heads), then publishes the block and forgets the frozen
 * heads in one write-locked step, so every entry is visible exactly once
 * at every moment. Each block stream records the newest WAL record of its
 * frozen head (its cover): replay skips what blocks hold. The WAL keeps
 * every segment at or after the oldest segment a remaining head needs.
 *
 * Compaction merges small blocks whose data starts in the same time
 * window (so retention can still drop old windows whole), stream by
 * stream through logs_merge, which also drops the duplicates that an
 * at-least-once sender left across blocks. The inputs leave the list in
 * the same step the output enters it; readers holding them finish first
 * (references), then the files are unlinked. Retention drops blocks whose
 * newest entry is older than now - retention.
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"
#include "logs/logs_int.h"

static bool logs_strm_due(const logs_store_t *s, const logs_strm_t *st, int64_t now_ms)
{
    if (st->head.n == 0) {
        return false;
    }
    return st->head.line_bytes >= s->o.block_bytes || st->head.maxt - st->head.mint >= s->o.head_max_age_ns ||
           (now_ms - st->head_since_ms) * LOGS_NS_PER_MS >= s->o.head_max_age_ns;
}

bool logs_cut_due_locked(logs_store_t *s, int64_t now_ms)
{
    if (s->head_bytes > LOGS_HEAD_TOTAL_MAX) {
        return true;
    }
    for (uint32_t i = 0; i < s->ix.nstreams; i++) {
        if (logs_strm_due(s, s->ix.streams[i], now_ms)) {
            return true;
        }
    }
    return false;
}

/* Drop the WAL segments no head needs. */
static void logs_wal_drop(logs_store_t *s)
{
    pthread_rwlock_rdlock(&s->lock);
    uint32_t keep = reclog_current_segment(s->wal);
    for (uint32_t i = 0; i < s->ix.nstreams; i++) {
        const logs_strm_t *st = s->ix.streams[i];
        if (st->head.n > 0 && st->head_seg < keep) {
            keep = st->head_seg;
        }
        if (st->frozen && st->frozen_seg < keep) {
            keep = st->frozen_seg;
        }
    }
    pthread_rwlock_unlock(&s->lock);
    if (reclog_drop_before(s->wal, keep) != 0) {
        log_warn("logs: cannot delete old WAL segments");
    }
}

int logs_cut(logs_store_t *s, bool all)
{
    int64_t now_ms = clock_now_ms(&s->o.clock);
    logs_strm_t **cut = NULL;
    uint32_t *ids = NULL;
    uint32_t ncut = 0;
    pthread_rwlock_wrlock(&s->lock);
    if (all) {
        uint32_t seg;
        if (reclog_roll(s->wal, &seg) != 0) {
            log_warn("logs: cannot roll the WAL");
        }
    }
    bool every = all || s->head_bytes > LOGS_HEAD_TOTAL_MAX;
    for (uint32_t i = 0; i < s->ix.nstreams; i++) {
        logs_strm_t *st = s->ix.streams[i];
        if (st->frozen || st->head.n == 0 || (!every && !logs_strm_due(s, st, now_ms))) {
            continue;
        }
        if (ncut % 64 == 0) {
            cut = mem_realloc(cut, (ncut + 64) * sizeof(*cut));
            ids = mem_realloc(ids, (ncut + 64) * sizeof(*ids));
        }
        st->frozen = mem_alloc(sizeof(logs_head_t));
        *st->frozen = st->head;
        memset(&st->head, 0, sizeof(st->head));
        st->frozen_rec = st->last_rec;
        st->frozen_seg = st->head_seg;
        cut[ncut] = st;
        ids[ncut++] = i;
    }
    pthread_rwlock_unlock(&s->lock);
    if (ncut == 0) {
        if (all) {
            logs_wal_drop(s);
        }
        return 0;
    }
    uint64_t seq = __atomic_fetch_add(&s->next_block_seq, 1, __ATOMIC_RELAXED);
    logs_block_writer_t *w = NULL;
    logs_block_t *b = NULL;
    arena_t *a = arena_create(64 << 10);
    int rc = logs_block_writer_open(s->blocks_dir, seq, seq, 0, LOGS_ZLEVEL_CUT, s->o.block_bytes, &w);
    for (uint32_t i = 0; i < ncut && rc == 0; i++) {
        logs_row_t *rows;
        size_t n;
        logs_head_rows(cut[i]->frozen, INT64_MIN, INT64_MAX, a, &rows, &n);
        rc = logs_block_writer_stream(w, cut[i]->labels, cut[i]->nlabels, cut[i]->frozen_rec);
        if (rc == 0) {
            rc = logs_block_writer_add(w, rows, n);
        }
        arena_reset(a);
    }
    if (rc == 0) {
        rc = logs_block_writer_finish(w, &b);
    } else {
        logs_block_writer_abort(w);
    }
    arena_destroy(a);
    uint64_t entries = 0, bytes = 0;
    pthread_rwlock_wrlock(&s->lock);
    if (rc == 0 && b) {
        for (uint32_t i = 0; i < b->nstreams; i++) {
            b->streams[i].gid = ids[i];
        }
        logs_blocks_add_locked(s, b);
    }
    for (uint32_t i = 0; i < ncut; i++) {
        logs_strm_t *st = cut[i];
        logs_head_t *fz = st->frozen;
        st->frozen = NULL;
        if (rc == 0) {
            st->wal_cover = st->frozen_rec;
            entries += fz->n;
            bytes += fz->line_bytes;
        } else {
            /* Put the entries back; later appends may have refilled the head. */
            if (st->head.n == 0 || st->frozen_seg < st->head_seg) {
                st->head_seg = st->frozen_seg;
            }
            if (st->head.n == 0) {
                st->head_since_ms = now_ms;
            }
            for (uint32_t k = 0; k < fz->n; k++) {
                const logs_hent_t *e = &fz->e[k];
                const char *p = (const char *)fz->data.data + e->off;
                if (logs_head_insert(&st->head, e->ts, str_from(p, e->len), str_from(p + e->len, e->mlen)) != 1) {
                    s->head_entries--;
                    s->head_bytes -= e->len;
                }
            }
        }
        logs_head_fini(fz);
        mem_free(fz);
    }
    s->head_entries -= entries;
    s->head_bytes -= bytes;
    pthread_rwlock_unlock(&s->lock);
    mem_free(cut);
    mem_free(ids);
    if (rc != 0) {
        log_error("logs: head cut failed: %s", strerror(rc < 0 ? -rc : 5));
        return LOGS_ERR_IO;
    }
    __atomic_add_fetch(&s->c_cuts, 1, __ATOMIC_RELAXED);
    logs_wal_drop(s);
    return 0;
}

/* ---- compaction ---- */

typedef struct logs_compact_ctx {
    logs_store_t *s;
    logs_block_writer_t *w;
    int rc;
} logs_compact_ctx_t;

static int logs_compact_rows(void *ctx, const logs_row_t *rows, size_t n)
{
    logs_compact_ctx_t *c = ctx;
    c->rc = logs_block_writer_add(c->w, rows, n);
    return c->rc;
}

static void logs_compact_bad(void *ctx, logs_block_t *b, int rc)
{
    logs_compact_ctx_t *c = ctx;
    logs_count_corrupt(c->s, b, rc);
    if (rc == LOGS_ERR_IO) {
        c->rc = -5; /* do not drop an input we could not read */
    }
}

static int logs_u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Merge in[0..n) into one block ([out] *out, NULL when empty). 0 or <0. */
static int logs_merge_blocks(logs_store_t *s, logs_block_t **in, uint32_t n, logs_block_t **out)
{
    *out = NULL;
    uint64_t rank = UINT64_MAX;
    uint32_t ngids = 0;
    for (uint32_t i = 0; i < n; i++) {
        rank = in[i]->rank < rank ? in[i]->rank : rank;
        ngids += in[i]->nstreams;
    }
    uint32_t *gids = mem_alloc(ngids * sizeof(uint32_t));
    ngids = 0;
    for (uint32_t i = 0; i < n; i++) {
        for (uint32_t k = 0; k < in[i]->nstreams; k++) {
            gids[ngids++] = in[i]->streams[k].gid;
        }
    }
    if (ngids > 1) {
        qsort(gids, ngids, sizeof(uint32_t), logs_u32_cmp);
    }
    uint32_t u = 0;
    for (uint32_t i = 0; i < ngids; i++) {
        if (u == 0 || gids[u - 1] != gids[i]) {
            gids[u++] = gids[i];
        }
    }
    ngids = u;
    logs_strm_t **sts = mem_alloc((ngids ? ngids : 1) * sizeof(*sts));
    pthread_rwlock_rdlock(&s->lock);
    for (uint32_t i = 0; i < ngids; i++) {
        sts[i] = s->ix.streams[gids[i]];
    }
    pthread_rwlock_unlock(&s->lock);
    uint64_t seq = __atomic_fetch_add(&s->next_block_seq, 1, __ATOMIC_RELAXED);
    logs_compact_ctx_t c = { s, NULL, 0 };
    c.rc = logs_block_writer_open(s->blocks_dir, seq, rank, 1, LOGS_ZLEVEL_COMPACT,
                                  s->o.block_bytes * LOGS_COMPACT_CHUNK_MUL, &c.w);
    logs_source_t *src = NULL;
    size_t cap = 0;
    logs_merge_t merge = { 0 };
    uint32_t *streams_out = mem_alloc((ngids ? ngids : 1) * sizeof(uint32_t));
    uint32_t nout = 0;
    for (uint32_t g = 0; g < ngids && c.rc == 0; g++) {
        size_t ns = 0;
        uint64_t cover = 0;
        for (uint32_t i = 0; i < n; i++) {
            int64_t local = logs_block_find(in[i], gids[g]);
            if (local < 0) {
                continue;
            }
            const logs_bstream_t *bs = &in[i]->streams[local];
            cover = bs->cover > cover ? bs->cover : cover;
            for (uint32_t k = bs->first; k < bs->first + bs->nchunks; k++) {
                if (ns == cap) {
                    cap = cap ? cap * 2 : 16;
                    src = mem_realloc(src, cap * sizeof(*src));
                }
                const logs_chunk_ref_t *ck = &in[i]->chunks[k];
                src[ns++] = (logs_source_t){
                    .mint = ck->mint, .maxt = ck->maxt, .rank = in[i]->rank, .block = in[i], .chunk = k
                };
            }
        }
        c.rc = logs_block_writer_stream(c.w, sts[g]->labels, sts[g]->nlabels, cover);
        if (c.rc != 0) {
            break;
        }
        streams_out[nout++] = gids[g];
        int mrc = logs_merge(&merge, src, ns, false, logs_compact_rows, logs_compact_bad, &c);
        if (mrc != 0 && c.rc == 0) {
            c.rc = mrc;
        }
    }
    int rc = c.rc;
    if (rc == 0) {
        rc = logs_block_writer_finish(c.w, out);
    } else {
        logs_block_writer_abort(c.w);
    }
    if (rc == 0 && *out) {
        /* A stream whose chunks were all unreadable wrote no chunk but
         * still has its entry: the writer keeps every stream it was given. */
        for (uint32_t i = 0; i < (*out)->nstreams && i < nout; i++) {
            (*out)->streams[i].gid = streams_out[i];
        }
    }
    mem_free(streams_out);
    logs_merge_fini(&merge);
    mem_free(src);
    mem_free(sts);
    mem_free(gids);
    return rc;
}

static int64_t logs_compact_window(const logs_block_t *b)
{
    return b->mint / LOGS_COMPACT_WINDOW_NS - (b->mint < 0);
}

static bool logs_compact_eligible(const logs_block_t *b, uint32_t level)
{
    return b->level == level && b->size < LOGS_COMPACT_MAX_BYTES && !b->corrupt;
}

/* Pick the inputs of one merge: the blocks of one level (head cuts first,
 * then compacted blocks) in the time window that has the most of them,
 * when there are at least LOGS_COMPACT_MIN_BLOCKS. Head cuts of a window
 * that has ended (now_win is later) are rewritten even alone, and so are
 * all head cuts with force (a flush), so no head-cut block stays behind
 * at the fast zstd level. Returns the count. */
static uint32_t logs_compact_plan(logs_block_t **bl, uint32_t n, bool force, int64_t now_win, logs_block_t **pick)
{
    for (uint32_t level = 0; level <= 1; level++) {
        int64_t best_win = 0;
        uint32_t best = 0;
        bool alone_ok = false;
        for (uint32_t i = 0; i < n; i++) {
            if (!logs_compact_eligible(bl[i], level)) {
                continue;
            }
            int64_t win = logs_compact_window(bl[i]);
            uint32_t cnt = 0;
            for (uint32_t k = 0; k < n; k++) {
                cnt += logs_compact_eligible(bl[k], level) && logs_compact_window(bl[k]) == win;
            }
            bool lone = level == 0 && (force || win < now_win);
            if (cnt > best || (lone && !alone_ok && best < LOGS_COMPACT_MIN_BLOCKS)) {
                best = cnt;
                best_win = win;
                alone_ok = lone;
            }
        }
        if (best == 0 || (best < LOGS_COMPACT_MIN_BLOCKS && !alone_ok)) {
            continue;
        }
        uint32_t k = 0;
        uint64_t bytes = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (logs_compact_eligible(bl[i], level) && logs_compact_window(bl[i]) == best_win &&
                bytes < LOGS_COMPACT_MAX_BYTES) {
                pick[k++] = bl[i];
                bytes += bl[i]->size;
            }
        }
        if (k >= (alone_ok ? 1u : 2u)) {
            return k;
        }
    }
    return 0;
}

/* Remove the listed blocks from the store's list (doomed: unlinked when
 * the last reader lets go). Write lock held. */
static void logs_blocks_remove_locked(logs_store_t *s, logs_block_t **rm, uint32_t n)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < s->nblocks; i++) {
        bool gone = false;
        for (uint32_t j = 0; j < n && !gone; j++) {
            gone = s->blocks[i] == rm[j];
        }
        if (gone) {
            s->blocks[i]->doomed = true;
            logs_block_unref(s->blocks[i]);
        } else {
            s->blocks[k++] = s->blocks[i];
        }
    }
    s->nblocks = k;
}

static int logs_retention(logs_store_t *s)
{
    if (s->o.retention_ns <= 0) {
        return 0;
    }
    int64_t limit = logs_now_ns(s) - s->o.retention_ns;
    pthread_rwlock_wrlock(&s->lock);
    logs_block_t **old = mem_alloc((s->nblocks ? s->nblocks : 1) * sizeof(*old));
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->nblocks; i++) {
        if (s->blocks[i]->maxt < limit) {
            old[n++] = s->blocks[i];
        }
    }
    logs_blocks_remove_locked(s, old, n);
    pthread_rwlock_unlock(&s->lock);
    mem_free(old);
    __atomic_add_fetch(&s->c_retention, n, __ATOMIC_RELAXED);
    return 0;
}

int logs_compact(logs_store_t *s, bool force)
{
    int rc = 0;
    logs_retention(s);
    for (;;) {
        pthread_rwlock_rdlock(&s->lock);
        uint32_t n;
        logs_block_t **snap = logs_blocks_snapshot_locked(s, INT64_MIN, INT64_MAX, &n);
        pthread_rwlock_unlock(&s->lock);
        logs_block_t **pick = mem_alloc((n ? n : 1) * sizeof(*pick));
        int64_t now_ns = clock_now_ms(&s->o.clock) * LOGS_NS_PER_MS;
        int64_t now_win = now_ns / LOGS_COMPACT_WINDOW_NS;
        uint32_t np = logs_compact_plan(snap, n, force, now_win, pick);
        logs_block_t *out = NULL;
        int mrc = np ? logs_merge_blocks(s, pick, np, &out) : 0;
        if (np && mrc == 0) {
            pthread_rwlock_wrlock(&s->lock);
            if (out) {
                logs_blocks_add_locked(s, out);
            }
            logs_blocks_remove_locked(s, pick, np);
            pthread_rwlock_unlock(&s->lock);
            __atomic_add_fetch(&s->c_compactions, 1, __ATOMIC_RELAXED);
        } else if (np) {
            __atomic_add_fetch(&s->c_compactions_failed, 1, __ATOMIC_RELAXED);
            log_error("logs: compaction of %u blocks failed", np);
            rc = LOGS_ERR_IO;
        }
        mem_free(pick);
        logs_blocks_release(snap, n);
        if (np == 0 || mrc != 0) {
            break;
        }
    }
    return rc;
}

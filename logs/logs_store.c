/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logs_store: the log store's lifecycle, append path, maintenance thread
 * and counters; the composition of index, heads, WAL and blocks (locking
 * in logs_int.h).
 *
 * Data dir layout:
 *   wal/       reclog of ENTRIES records (segments dropped once no head
 *              needs them)
 *   blocks/    <seq>.lblk immutable block files (*.corrupt: set aside)
 *
 * Open loads the blocks first: their stream tables rebuild the index and
 * their covers tell replay which WAL records are already in blocks. Then
 * the WAL is replayed into the heads (a torn tail is cut by reclog and
 * counted). Append resolves streams, fills heads (dropping duplicates)
 * and queues one WAL record under the write lock, then commits it with
 * no lock held, so concurrent appenders share a write and an fdatasync.
 * The maintenance thread wakes every second, or when an append pushes a
 * head past its size, to cut heads, compact and apply retention.
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"
#include "logs/logs_int.h"

static char *logs_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = mem_alloc(la + lb + 2);
    memcpy(p, a, la);
    p[la] = '/';
    memcpy(p + la + 1, b, lb + 1);
    return p;
}

int64_t logs_now_ns(logs_store_t *s)
{
    return clock_now_ms(&s->o.clock) * LOGS_NS_PER_MS;
}

void logs_count_corrupt(logs_store_t *s, logs_block_t *b, int rc)
{
    if (rc == LOGS_ERR_IO) {
        log_error("read error in block %s", b->path);
        return;
    }
    if (!__atomic_exchange_n(&b->corrupt, true, __ATOMIC_ACQ_REL)) {
        __atomic_add_fetch(&s->c_corrupt, 1, __ATOMIC_RELAXED);
        log_error("corrupt chunk in block %s: skipped", b->path);
    }
}

/* ---- block list ---- */

void logs_block_unref(logs_block_t *b)
{
    if (b && __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        logs_block_free(b);
    }
}

logs_block_t **logs_blocks_snapshot_locked(logs_store_t *s, int64_t mint, int64_t maxt, uint32_t *n)
{
    logs_block_t **snap = mem_alloc((s->nblocks ? s->nblocks : 1) * sizeof(*snap));
    uint32_t k = 0;
    for (uint32_t i = 0; i < s->nblocks; i++) {
        logs_block_t *b = s->blocks[i];
        if (b->maxt >= mint && b->mint <= maxt) {
            __atomic_add_fetch(&b->refs, 1, __ATOMIC_ACQ_REL);
            snap[k++] = b;
        }
    }
    *n = k;
    return snap;
}

void logs_blocks_release(logs_block_t **snap, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        logs_block_unref(snap[i]);
    }
    mem_free(snap);
}

void logs_blocks_add_locked(logs_store_t *s, logs_block_t *b)
{
    if (s->nblocks == s->capblocks) {
        s->capblocks = s->capblocks ? s->capblocks * 2 : 16;
        s->blocks = mem_realloc(s->blocks, s->capblocks * sizeof(*s->blocks));
    }
    uint32_t at = s->nblocks;
    while (at > 0 && (s->blocks[at - 1]->rank > b->rank ||
                      (s->blocks[at - 1]->rank == b->rank && s->blocks[at - 1]->seq > b->seq))) {
        s->blocks[at] = s->blocks[at - 1];
        at--;
    }
    s->blocks[at] = b;
    s->nblocks++;
    logs_block_bind(b);
}

/* Bind a loaded block's streams to store streams (creating them). false
 * when a label set is not canonical. Write lock held (or open). */
static bool logs_block_attach(logs_store_t *s, logs_block_t *b)
{
    for (uint32_t i = 0; i < b->nstreams; i++) {
        bool created;
        int64_t gid = logs_index_get_encoded(&s->ix, b->streams[i].labels, b->streams[i].labels_len, &created);
        if (gid < 0) {
            return false;
        }
        b->streams[i].gid = (uint32_t)gid;
    }
    for (uint32_t i = 0; i < b->nstreams; i++) {
        logs_strm_t *st = s->ix.streams[b->streams[i].gid];
        if (b->streams[i].cover > st->wal_cover) {
            st->wal_cover = b->streams[i].cover;
        }
        if (b->streams[i].cover > s->wal_seq) {
            s->wal_seq = b->streams[i].cover;
        }
    }
    return true;
}

static void logs_set_aside(const char *path)
{
    char *aside = mem_alloc(strlen(path) + 10);
    sprintf(aside, "%s.corrupt", path);
    if (rename(path, aside) != 0) {
        log_warn("cannot rename %s: %s", path, strerror(errno));
    }
    mem_free(aside);
}

static int logs_blocks_load(logs_store_t *s)
{
    DIR *d = opendir(s->blocks_dir);
    if (!d) {
        return -errno;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        char *path = logs_join(s->blocks_dir, e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".tmp") == 0) {
            unlink(path); /* an interrupted write */
        } else if (len == 21 && strcmp(e->d_name + 16, ".lblk") == 0) {
            uint64_t seq = strtoull(e->d_name, NULL, 16);
            logs_block_t *b;
            char err[512];
            int rc = logs_block_open(path, seq, &b, err, sizeof(err));
            if (rc == 0 && !logs_block_attach(s, b)) {
                snprintf(err, sizeof(err), "block %s: bad label set", path);
                logs_block_free(b);
                rc = LOGS_ERR_CORRUPT;
            }
            if (rc == 0) {
                logs_blocks_add_locked(s, b);
            } else {
                log_error("skipping corrupt block: %s", err);
                s->c_corrupt++;
                logs_set_aside(path);
            }
            if (seq >= s->next_block_seq) {
                s->next_block_seq = seq + 1;
            }
        }
        mem_free(path);
    }
    closedir(d);
    return 0;
}

/* ---- replay ---- */

typedef struct logs_replay {
    logs_store_t *s;
    uint32_t seg;
    logs_strm_t *cur; /* NULL: skip the entries of this stream */
    uint64_t seq;
    int64_t min_ts;
    uint64_t entries, covered, bad;
} logs_replay_t;

static bool logs_replay_stream(void *ctx, uint64_t seq, const uint8_t *labels, size_t len)
{
    logs_replay_t *r = ctx;
    bool created;
    int64_t gid = logs_index_get_encoded(&r->s->ix, labels, len, &created);
    r->cur = NULL;
    if (gid < 0) {
        r->bad++;
        return false;
    }
    logs_strm_t *st = r->s->ix.streams[gid];
    if (seq <= st->wal_cover) {
        r->covered++;
        return false;
    }
    r->cur = st;
    r->seq = seq;
    return true;
}

static void logs_replay_entry(void *ctx, int64_t ts, str_t line, str_t meta)
{
    logs_replay_t *r = ctx;
    logs_strm_t *st = r->cur;
    if (!st || ts < r->min_ts) {
        return;
    }
    if (st->head.n == 0) {
        st->head_seg = r->seg;
        st->head_since_ms = clock_now_ms(&r->s->o.clock);
    }
    if (logs_head_insert(&st->head, ts, line, meta) == 1) {
        r->s->head_entries++;
        r->s->head_bytes += line.len;
        r->entries++;
        st->last_rec = r->seq;
    }
}

static int logs_replay_rec(void *ctx, uint32_t seg, const uint8_t *p, size_t len)
{
    logs_replay_t *r = ctx;
    r->seg = seg;
    logs_rec_visitor_t v = { r, logs_replay_stream, logs_replay_entry };
    uint64_t seq;
    if (logs_rec_decode(p, len, &v, &seq) != 0) {
        r->bad++;
        return 0;
    }
    if (seq > r->s->wal_seq) {
        r->s->wal_seq = seq;
    }
    return 0;
}

/* ---- lifecycle ---- */

static void *logs_bg_main(void *arg);
static void *logs_compact_main(void *arg);

static logs_store_t *logs_new(const logs_store_opts_t *o)
{
    logs_store_t *s = mem_calloc(1, sizeof(*s));
    s->o = *o;
    if (!s->o.block_bytes) {
        s->o.block_bytes = LOGS_DEFAULT_BLOCK_BYTES;
    }
    if (s->o.head_max_age_ns <= 0) {
        s->o.head_max_age_ns = LOGS_DEFAULT_MAX_AGE_NS;
    }
    if (!s->o.clock.now_ms) {
        s->o.clock = clock_real();
    }
    s->dir = mem_strdup(o->dir ? o->dir : ".");
    s->o.dir = s->dir;
    s->wal_dir = logs_join(s->dir, "wal");
    s->blocks_dir = logs_join(s->dir, "blocks");
    s->next_block_seq = 1;
    pthread_rwlock_init(&s->lock, NULL);
    pthread_mutex_init(&s->maint_mu, NULL);
    pthread_mutex_init(&s->compact_mu, NULL);
    pthread_mutex_init(&s->bg_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->bg_cond, &ca);
    pthread_condattr_destroy(&ca);
    logs_index_init(&s->ix);
    return s;
}

static int logs_load(logs_store_t *s, char *err, size_t errlen)
{
    if ((mkdir(s->dir, 0755) != 0 && errno != EEXIST) || (mkdir(s->blocks_dir, 0755) != 0 && errno != EEXIST)) {
        snprintf(err, errlen, "cannot create %s: %s", s->blocks_dir, strerror(errno));
        return LOGS_ERR_IO;
    }
    int rc = logs_blocks_load(s);
    if (rc < 0) {
        snprintf(err, errlen, "cannot read %s: %s", s->blocks_dir, strerror(-rc));
        return LOGS_ERR_IO;
    }
    logs_replay_t r = { .s = s, .min_ts = INT64_MIN };
    if (s->o.retention_ns > 0) {
        r.min_ts = logs_now_ns(s) - s->o.retention_ns;
    }
    reclog_opts_t lo = { .segment_bytes = s->o.wal_segment_bytes, .sync = s->o.wal_sync };
    reclog_stats_t st = { 0 };
    double t0 = clock_mono_s();
    rc = reclog_open(s->wal_dir, &lo, logs_replay_rec, &r, &st, &s->wal);
    if (rc != 0) {
        snprintf(err, errlen, "cannot open WAL %s: %s", s->wal_dir, strerror(rc < 0 ? -rc : EIO));
        return LOGS_ERR_IO;
    }
    s->c_replay_cuts = st.cuts;
    if (r.bad || st.cuts) {
        log_warn("logs replay: %" PRIu64 " malformed records, %u torn segments cut (%" PRIu64 " bytes)", r.bad, st.cuts,
                 st.cut_bytes);
    }
    log_info("logs: %u streams, %u blocks, %" PRIu64 " entries replayed (%" PRIu64 " stream records already in "
             "blocks) from %u WAL segments in %.3fs",
             s->ix.nstreams, s->nblocks, r.entries, r.covered, st.segments, clock_mono_s() - t0);
    return 0;
}

int logs_store_open(const logs_store_opts_t *o, logs_store_t **out, char *err, size_t errlen)
{
    *out = NULL;
    logs_store_t *s = logs_new(o);
    int rc = logs_load(s, err, errlen);
    if (rc == 0 && o->background) {
        if (pthread_create(&s->bg, NULL, logs_bg_main, s) != 0) {
            snprintf(err, errlen, "cannot start the maintenance thread");
            rc = LOGS_ERR_IO;
        } else {
            s->bg_running = true;
        }
    }
    if (rc == 0 && o->background) {
        if (pthread_create(&s->cbg, NULL, logs_compact_main, s) != 0) {
            snprintf(err, errlen, "cannot start the compaction thread");
            rc = LOGS_ERR_IO;
        } else {
            s->cbg_running = true;
        }
    }
    if (rc != 0) {
        logs_store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void logs_store_close(logs_store_t *s)
{
    if (!s) {
        return;
    }
    pthread_mutex_lock(&s->bg_mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->bg_cond);
    pthread_mutex_unlock(&s->bg_mu);
    if (s->bg_running) {
        pthread_join(s->bg, NULL);
    }
    if (s->cbg_running) {
        pthread_join(s->cbg, NULL);
    }
    reclog_close(s->wal);
    for (uint32_t i = 0; i < s->nblocks; i++) {
        logs_block_unref(s->blocks[i]);
    }
    mem_free(s->blocks);
    logs_index_fini(&s->ix);
    buf_fini(&s->rec);
    buf_fini(&s->meta);
    pthread_rwlock_destroy(&s->lock);
    pthread_mutex_destroy(&s->maint_mu);
    pthread_mutex_destroy(&s->compact_mu);
    pthread_mutex_destroy(&s->bg_mu);
    pthread_cond_destroy(&s->bg_cond);
    mem_free(s->dir);
    mem_free(s->wal_dir);
    mem_free(s->blocks_dir);
    mem_free(s);
}

/* ---- append ---- */

static void logs_kick(logs_store_t *s)
{
    pthread_mutex_lock(&s->bg_mu);
    s->bg_kick = true;
    pthread_cond_broadcast(&s->bg_cond); /* the cut thread; the compaction thread just looks again */
    pthread_mutex_unlock(&s->bg_mu);
}

/* Backpressure: while the heads hold more than twice the total bound the
 * maintenance thread is behind; wait for it (up to LOGS_APPEND_WAIT_MS,
 * then append anyway), so memory stays bounded under any ingest rate. */
static void logs_wait_for_room(logs_store_t *s)
{
    for (int waited = 0; waited < LOGS_APPEND_WAIT_MS; waited += 2) {
        pthread_rwlock_rdlock(&s->lock);
        uint64_t hb = s->head_bytes;
        pthread_rwlock_unlock(&s->lock);
        if (hb <= 2 * LOGS_HEAD_TOTAL_MAX) {
            return;
        }
        logs_kick(s);
        struct timespec ts = { 0, 2000000 };
        nanosleep(&ts, NULL);
    }
}

int logs_store_append(logs_store_t *s, const logs_push_t *p, logs_append_result_t *res)
{
    assert(s && p);
    if (s->bg_running) {
        logs_wait_for_room(s);
    }
    logs_append_result_t r = { 0 };
    int rc = 0;
    uint64_t bytes = 0;
    bool kick = false;
    int64_t now_ms = clock_now_ms(&s->o.clock);
    pthread_rwlock_wrlock(&s->lock);
    uint64_t seq = s->wal_seq + 1;
    uint32_t seg = reclog_current_segment(s->wal);
    logs_rec_begin(&s->rec, seq);
    uint32_t nrec = 0;
    for (size_t i = 0; i < p->nstreams; i++) {
        const logs_push_t *pp = p;
        const label_t *ls = pp->streams[i].labels;
        size_t nls = pp->streams[i].nlabels;
        bool created;
        uint32_t gid = logs_index_get(&s->ix, ls, nls, &created);
        r.new_streams += created;
        logs_strm_t *st = s->ix.streams[gid];
        size_t mark = s->rec.len;
        size_t at = logs_rec_add_stream(&s->rec, st->labels, st->nlabels);
        int64_t prev_ts = 0;
        uint32_t accepted = 0;
        for (size_t k = 0; k < pp->streams[i].nentries; k++) {
            const logs_entry_t *e = &pp->streams[i].entries[k];
            buf_reset(&s->meta);
            logs_meta_put(&s->meta, e->meta, e->nmeta < LOGS_MAX_META ? e->nmeta : LOGS_MAX_META);
            str_t meta = str_from(s->meta.data ? (const char *)s->meta.data : "", s->meta.len);
            if (st->frozen && logs_head_contains(st->frozen, e->ts_ns, e->line, logs_head_hash(e->line))) {
                r.duplicates++;
                continue;
            }
            bool was_empty = st->head.n == 0;
            int ins = logs_head_insert(&st->head, e->ts_ns, e->line, meta);
            if (ins == 0) {
                r.duplicates++;
                continue;
            }
            if (ins < 0) {
                rc = LOGS_ERR_IO;
                kick = true;
                break;
            }
            if (was_empty) {
                st->head_seg = seg;
                st->head_since_ms = now_ms;
            }
            logs_rec_add_entry(&s->rec, &prev_ts, e->ts_ns, e->line, meta);
            accepted++;
            bytes += e->line.len;
        }
        if (accepted == 0) {
            s->rec.len = mark;
            continue;
        }
        logs_rec_set_count(&s->rec, at, accepted);
        nrec++;
        r.accepted += accepted;
        st->last_rec = seq;
        if (st->head.line_bytes >= s->o.block_bytes) {
            kick = true;
        }
    }
    s->head_entries += r.accepted;
    s->head_bytes += bytes;
    if (s->head_bytes > LOGS_HEAD_TOTAL_MAX) {
        kick = true;
    }
    uint64_t pos = 0;
    int arc = 0;
    if (nrec > 0) {
        s->wal_seq = seq;
        logs_rec_finish(&s->rec, nrec);
        arc = reclog_append(s->wal, s->rec.data, s->rec.len, &pos);
    }
    pthread_rwlock_unlock(&s->lock);
    if (nrec > 0 && (arc != 0 || reclog_commit(s->wal, pos) != 0)) {
        rc = LOGS_ERR_IO;
    }
    __atomic_add_fetch(&s->c_entries, r.accepted, __ATOMIC_RELAXED);
    __atomic_add_fetch(&s->c_bytes, bytes, __ATOMIC_RELAXED);
    __atomic_add_fetch(&s->c_dups, r.duplicates, __ATOMIC_RELAXED);
    if (kick && s->bg_running) {
        logs_kick(s);
    }
    if (res) {
        *res = r;
    }
    return rc;
}

/* ---- maintenance ---- */

int logs_store_flush(logs_store_t *s)
{
    pthread_mutex_lock(&s->maint_mu);
    int rc = logs_cut(s, true);
    pthread_mutex_unlock(&s->maint_mu);
    pthread_mutex_lock(&s->compact_mu);
    int crc = logs_compact(s, true);
    pthread_mutex_unlock(&s->compact_mu);
    return rc != 0 ? rc : crc;
}

static void *logs_bg_main(void *arg)
{
    logs_store_t *s = arg;
    pthread_mutex_lock(&s->bg_mu);
    while (!s->stopping) {
        if (!s->bg_kick) {
            struct timespec ts;
            clock_mono_deadline(1000, &ts);
            pthread_cond_timedwait(&s->bg_cond, &s->bg_mu, &ts);
        }
        s->bg_kick = false;
        if (s->stopping) {
            break;
        }
        pthread_mutex_unlock(&s->bg_mu);
        pthread_rwlock_rdlock(&s->lock);
        bool due = logs_cut_due_locked(s, clock_now_ms(&s->o.clock));
        pthread_rwlock_unlock(&s->lock);
        pthread_mutex_lock(&s->maint_mu);
        if (due && logs_cut(s, false) != 0) {
            log_warn("logs: head cut failed; retrying");
        }
        pthread_mutex_unlock(&s->maint_mu);
        pthread_mutex_lock(&s->bg_mu);
    }
    pthread_mutex_unlock(&s->bg_mu);
    return NULL;
}

/* Compaction and retention, once a second, apart from the cuts. */
static void *logs_compact_main(void *arg)
{
    logs_store_t *s = arg;
    pthread_mutex_lock(&s->bg_mu);
    while (!s->stopping) {
        struct timespec ts;
        clock_mono_deadline(1000, &ts);
        pthread_cond_timedwait(&s->bg_cond, &s->bg_mu, &ts);
        if (s->stopping) {
            break;
        }
        pthread_mutex_unlock(&s->bg_mu);
        pthread_mutex_lock(&s->compact_mu);
        logs_compact(s, false);
        pthread_mutex_unlock(&s->compact_mu);
        pthread_mutex_lock(&s->bg_mu);
    }
    pthread_mutex_unlock(&s->bg_mu);
    return NULL;
}

/* ---- stats ---- */

void logs_store_get_stats(logs_store_t *s, logs_store_stats_t *st)
{
    memset(st, 0, sizeof(*st));
    st->entries_appended = __atomic_load_n(&s->c_entries, __ATOMIC_RELAXED);
    st->bytes_appended = __atomic_load_n(&s->c_bytes, __ATOMIC_RELAXED);
    st->duplicates = __atomic_load_n(&s->c_dups, __ATOMIC_RELAXED);
    st->head_cuts = __atomic_load_n(&s->c_cuts, __ATOMIC_RELAXED);
    st->compactions = __atomic_load_n(&s->c_compactions, __ATOMIC_RELAXED);
    st->compactions_failed = __atomic_load_n(&s->c_compactions_failed, __ATOMIC_RELAXED);
    st->corrupt_blocks = __atomic_load_n(&s->c_corrupt, __ATOMIC_RELAXED);
    st->retention_dropped_blocks = __atomic_load_n(&s->c_retention, __ATOMIC_RELAXED);
    st->blocks_read = __atomic_load_n(&s->c_blocks_read, __ATOMIC_RELAXED);
    st->blocks_skipped_by_filter = __atomic_load_n(&s->c_blocks_skipped, __ATOMIC_RELAXED);
    st->wal_replay_cuts = s->c_replay_cuts;
    pthread_rwlock_rdlock(&s->lock);
    st->streams = s->ix.nstreams;
    st->head_entries = s->head_entries;
    st->head_bytes = s->head_bytes;
    st->blocks = s->nblocks;
    for (uint32_t i = 0; i < s->nblocks; i++) {
        st->block_bytes += s->blocks[i]->size;
    }
    pthread_rwlock_unlock(&s->lock);
    st->wal_bytes = reclog_size(s->wal);
    reclog_sync_stats(s->wal, &st->wal_fsyncs, &st->wal_fsync_seconds);
    st->disk_bytes = st->block_bytes + st->wal_bytes;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tsdb: lifecycle, append and select; the composition of index, head, WAL
 * and blocks (locking and WAL epochs are described in tsdb_int.h).
 *
 * Data dir layout:
 *   series/      reclog of SERIES and META records (never truncated;
 *                rewritten compressed by flush)
 *   wal/         reclog of SAMPLES records (dropped by epochs after cuts)
 *   blocks/      <seq>.blk immutable block files
 *   head.marks   cut marks for replay
 *
 * Append holds the write lock while it resolves series and fills the
 * head, queues its WAL record, then commits outside the lock (group
 * commit). Open replays the series log, then the WAL; a torn tail is cut
 * by reclog and reported. A corrupt block is renamed *.corrupt, logged and
 * counted, and the store opens without it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/mem.h"
#include "tsdb/tsdb_int.h"

#define TSDB_DEFAULT_RANGE (3600 * 1000LL)
/* A cut waits until the newest sample is this far past a range boundary,
 * so samples arriving a little late still land in the head. */
#define TSDB_CUT_MARGIN (5 * 60 * 1000LL)

static char *tsdb_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = mem_alloc(n);
    snprintf(p, n, "%s/%s", a, b);
    return p;
}

static int tsdb_mkdir(const char *p)
{
    if (mkdir(p, 0755) < 0 && errno != EEXIST) {
        return -errno;
    }
    return 0;
}

/* ---- replay ---- */

typedef struct tsdb_replay {
    tsdb_t *db;
    uint32_t seg;
    int64_t skip_before;
    uint64_t samples, skipped, unknown, bad_records, series;
    bool last_ok; /* the series of the current CHUNKS entry had no samples */
    buf_t scratch;
} tsdb_replay_t;

/* Keep ids dense when a series record is missing or unreadable: a
 * placeholder {__name__="pharos_lost_series", id="N"} takes the id, so the
 * series after it keep theirs and the samples of the lost one stay apart. */
static void tsdb_replay_placeholder(tsdb_index_t *ix)
{
    char idbuf[16];
    snprintf(idbuf, sizeof(idbuf), "%u", ix->nseries);
    label_t ls[2] = { { STR_LIT("__name__"), STR_LIT("pharos_lost_series") }, { STR_LIT("id"), str_cstr(idbuf) } };
    tsdb_index_add(ix, ls, 2, labels_hash(ls, 2));
}

static void tsdb_replay_series(void *ctx, uint32_t id, const uint8_t *p, size_t len)
{
    tsdb_replay_t *r = ctx;
    tsdb_index_t *ix = &r->db->ix;
    if (id < ix->nseries) {
        r->bad_records++; /* ids are written once, in order */
        return;
    }
    if (id - ix->nseries > (1u << 20)) {
        r->bad_records++; /* a damaged id, not a gap worth filling */
        return;
    }
    while (ix->nseries < id) {
        r->bad_records++;
        tsdb_replay_placeholder(ix);
    }
    label_t ls[TSDB_MAX_LABELS];
    long n = labels_decode(p, len, ls, TSDB_MAX_LABELS);
    if (n < 0 || tsdb_index_find(ix, ls, (size_t)n, labels_hash(ls, (size_t)n)) >= 0) {
        r->bad_records++;
        tsdb_replay_placeholder(ix);
        return;
    }
    tsdb_index_add(ix, ls, (size_t)n, labels_hash(ls, (size_t)n));
    r->series++;
}

static void tsdb_replay_meta(void *ctx, int type, str_t family, str_t help, str_t unit)
{
    tsdb_replay_t *r = ctx;
    tsdb_set_metadata(r->db, family, type, help, unit);
}

static void tsdb_replay_sample(void *ctx, uint32_t id, int64_t t, double v)
{
    tsdb_replay_t *r = ctx;
    tsdb_t *db = r->db;
    if (id >= db->ix.nseries) {
        r->unknown++;
        return;
    }
    if (t < r->skip_before) {
        r->skipped++;
        return;
    }
    if (tsdb_head_append(db->ix.series[id], &db->pool, t, v) == TSDB_HEAD_APPENDED) {
        r->samples++;
        if (t > db->head_maxt) {
            db->head_maxt = t;
        }
    }
}

static void tsdb_replay_last(void *ctx, uint32_t id, bool has_last, int64_t last_t, uint64_t last_bits)
{
    tsdb_replay_t *r = ctx;
    if (id >= r->db->ix.nseries) {
        r->unknown++;
        return;
    }
    tsdb_series_t *s = r->db->ix.series[id];
    r->last_ok = !s->has_last; /* the chunks that follow are new to the head */
    if (has_last && (!s->has_last || last_t > s->last_t)) {
        s->has_last = true;
        s->last_t = last_t;
        s->last_bits = last_bits;
    }
}

static void tsdb_replay_chunk(void *ctx, uint32_t id, int64_t t_first, int64_t t_last, uint16_t n, uint32_t nbits,
                              const uint8_t *data)
{
    tsdb_replay_t *r = ctx;
    tsdb_t *db = r->db;
    if (id >= db->ix.nseries || t_last < r->skip_before || !r->last_ok) {
        return;
    }
    tsdb_series_t *s = db->ix.series[id];
    bool had = s->has_last;
    s->has_last = false; /* the state was set from this checkpoint; add its chunks */
    tsdb_head_add_chunk(s, &db->pool, t_first, t_last, n, nbits, data);
    s->has_last = had;
    r->samples += n;
    if (t_last > db->head_maxt) {
        db->head_maxt = t_last;
    }
}

static int tsdb_replay_slog_rec(void *ctx, uint32_t seg, const uint8_t *p, size_t len)
{
    tsdb_replay_t *r = ctx;
    (void)seg;
    tsdb_rec_visitor_t v = { r, NULL, tsdb_replay_series, tsdb_replay_meta };
    if (tsdb_rec_decode(p, len, &v) < 0) {
        r->bad_records++;
    }
    return 0;
}

static int tsdb_replay_wal_rec(void *ctx, uint32_t seg, const uint8_t *p, size_t len)
{
    tsdb_replay_t *r = ctx;
    if (seg != r->seg) {
        r->seg = seg;
        r->skip_before = INT64_MIN;
        for (uint32_t i = 0; i < r->db->nmarks; i++) {
            if (r->db->marks[i].seg > seg && r->db->marks[i].boundary > r->skip_before) {
                r->skip_before = r->db->marks[i].boundary;
            }
        }
    }
    tsdb_rec_visitor_t v = { r, tsdb_replay_sample, NULL, NULL, tsdb_replay_last, tsdb_replay_chunk };
    if (tsdb_rec_decode(p, len, &v) < 0) {
        r->bad_records++;
    }
    return 0;
}

static void tsdb_marks_load(tsdb_t *db)
{
    FILE *f = fopen(db->marks_path, "r");
    if (!f) {
        return;
    }
    long long b;
    unsigned seg;
    while (fscanf(f, "%lld %u", &b, &seg) == 2) {
        if (db->nmarks == db->capmarks) {
            db->capmarks = db->capmarks ? db->capmarks * 2 : 8;
            db->marks = mem_realloc(db->marks, db->capmarks * sizeof(tsdb_mark_t));
        }
        db->marks[db->nmarks].boundary = b;
        db->marks[db->nmarks].seg = seg;
        db->nmarks++;
        if (b > db->cut_boundary) {
            db->cut_boundary = b;
        }
    }
    fclose(f);
}

static int tsdb_blocks_load(tsdb_t *db)
{
    DIR *d = opendir(db->blocks_dir);
    if (!d) {
        return -errno;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        char *path = tsdb_join(db->blocks_dir, e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".tmp") == 0) {
            unlink(path); /* an interrupted write */
        } else if (len == 20 && strcmp(e->d_name + 16, ".blk") == 0) {
            uint64_t seq = strtoull(e->d_name, NULL, 16);
            tsdb_block_t *b;
            char err[512];
            if (tsdb_block_open(path, seq, &b, err, sizeof(err)) == 0) {
                b->refs = 1;
                pthread_mutex_lock(&db->blocks_mu);
                tsdb_blocks_add_locked(db, b);
                pthread_mutex_unlock(&db->blocks_mu);
                if (b->maxt > db->head_maxt) {
                    db->head_maxt = b->maxt;
                }
            } else {
                log_error("skipping corrupt block: %s", err);
                db->c_corrupt_blocks++;
                char *aside = mem_alloc(strlen(path) + 10);
                sprintf(aside, "%s.corrupt", path);
                rename(path, aside);
                mem_free(aside);
            }
            if (seq >= db->next_seq) {
                db->next_seq = seq + 1;
            }
        }
        mem_free(path);
    }
    closedir(d);
    return 0;
}

static void *tsdb_bg_main(void *arg);
static void *tsdb_compactor_main(void *arg);

/* A new store struct with options defaulted; nothing on disk yet. */
static tsdb_t *tsdb_new(const tsdb_opts_t *opts)
{
    tsdb_t *db = mem_calloc(1, sizeof(*db));
    db->o = *opts;
    db->pcache = tsdb_pcache_create(opts->page_cache_bytes ? opts->page_cache_bytes : (size_t)64 << 20);
    if (db->o.block_range_ms <= 0) {
        db->o.block_range_ms = TSDB_DEFAULT_RANGE;
    }
    if (db->o.future_ms <= 0) {
        db->o.future_ms = 3600 * 1000LL;
    }
    if (db->o.ooo_window_ms < 0) {
        db->o.ooo_window_ms = 0;
    }
    if (!db->o.clock.now_ms) {
        db->o.clock = clock_real();
    }
    db->dir = mem_strdup(opts->dir);
    db->wal_dir = tsdb_join(db->dir, "wal");
    db->series_dir = tsdb_join(db->dir, "series");
    db->blocks_dir = tsdb_join(db->dir, "blocks");
    db->marks_path = tsdb_join(db->dir, "head.marks");
    db->head_maxt = INT64_MIN;
    db->cut_boundary = INT64_MIN;
    db->next_seq = 1;
    pthread_rwlock_init(&db->lock, NULL);
    pthread_mutex_init(&db->blocks_mu, NULL);
    pthread_mutex_init(&db->cut_mu, NULL);
    pthread_mutex_init(&db->compact_mu, NULL);
    pthread_mutex_init(&db->meta_mu, NULL);
    hmap_init(&db->meta_map);
    pthread_mutex_init(&db->bg_mu, NULL);
    pthread_cond_init(&db->bg_cond, NULL);
    pthread_cond_init(&db->compact_cond, NULL);
    tsdb_index_init(&db->ix);
    tsdb_pool_init(&db->pool, db->o.block_range_ms);
    return db;
}

/* Read everything on disk: series log, cut marks, blocks, then replay the
 * WAL into the head. TSDB_OK or TSDB_ERR_IO with a reason. */
static int tsdb_load(tsdb_t *db, char *err, size_t errlen)
{
    int rc = tsdb_mkdir(db->dir);
    if (rc == 0) {
        rc = tsdb_mkdir(db->blocks_dir);
    }
    if (rc < 0) {
        snprintf(err, errlen, "cannot create data dir %s: %s", db->dir, strerror(-rc));
        return TSDB_ERR_IO;
    }
    /* A series log rewrite interrupted between its two renames. */
    char *old = tsdb_join(db->dir, "series.old");
    struct stat sst;
    if (stat(db->series_dir, &sst) < 0 && stat(old, &sst) == 0) {
        rename(old, db->series_dir);
    }
    mem_free(old);
    tsdb_replay_t r = { .db = db, .seg = 0, .skip_before = INT64_MIN };
    reclog_stats_t st = { 0 };
    reclog_opts_t lo = { .segment_bytes = 64u << 20, .sync = db->o.wal_sync };
    rc = reclog_open(db->series_dir, &lo, tsdb_replay_slog_rec, &r, &st, &db->slog);
    if (rc != 0) {
        snprintf(err, errlen, "cannot open series log %s: %s", db->series_dir, strerror(rc < 0 ? -rc : EIO));
        return TSDB_ERR_IO;
    }
    db->c_replay_cuts += st.cuts;
    db->slog_bytes_at_rewrite = reclog_size(db->slog);
    tsdb_marks_load(db);
    rc = tsdb_blocks_load(db);
    if (rc < 0) {
        snprintf(err, errlen, "cannot read %s: %s", db->blocks_dir, strerror(-rc));
        return TSDB_ERR_IO;
    }
    double t0 = clock_mono_s();
    lo.segment_bytes = db->o.wal_segment_bytes ? db->o.wal_segment_bytes : (64u << 20);
    memset(&st, 0, sizeof(st));
    rc = reclog_open(db->wal_dir, &lo, tsdb_replay_wal_rec, &r, &st, &db->wal);
    if (rc != 0) {
        snprintf(err, errlen, "cannot open WAL %s: %s", db->wal_dir, strerror(rc < 0 ? -rc : EIO));
        return TSDB_ERR_IO;
    }
    db->c_replay_cuts += st.cuts;
    if (r.bad_records || r.unknown || st.cuts) {
        log_warn("replay: %" PRIu64 " malformed records, %" PRIu64 " samples of unknown series, %u torn segments "
                 "cut (%" PRIu64 " bytes)",
                 r.bad_records, r.unknown, st.cuts, st.cut_bytes);
    }
    log_info("replayed %u series, %" PRIu64 " samples (%" PRIu64 " already in blocks) from %u WAL segments in "
             "%.3fs",
             db->ix.nseries, r.samples, r.skipped, st.segments, clock_mono_s() - t0);
    /* A flush's mark says INT64_MAX: regular cuts resume past the data. */
    if (db->cut_boundary != INT64_MIN && db->head_maxt != INT64_MIN && db->cut_boundary > db->head_maxt) {
        db->cut_boundary = db->head_maxt + 1;
    }
    /* One epoch for everything replayed, one for what comes now. */
    db->capepochs = 8;
    db->epochs = mem_alloc(db->capepochs * sizeof(tsdb_epoch_t));
    db->epochs[0] = (tsdb_epoch_t){ 0, db->head_maxt };
    db->epochs[1] = (tsdb_epoch_t){ reclog_current_segment(db->wal), INT64_MIN };
    db->nepochs = 2;
    db->loaded = true;
    return TSDB_OK;
}

/* Start the cut and compaction threads. 0 or -1. */
static int tsdb_start_threads(tsdb_t *db)
{
    if (pthread_create(&db->bg, NULL, tsdb_bg_main, db) != 0) {
        return -1;
    }
    if (pthread_create(&db->compactor, NULL, tsdb_compactor_main, db) != 0) {
        pthread_mutex_lock(&db->bg_mu);
        db->stopping = true;
        pthread_cond_broadcast(&db->bg_cond);
        pthread_mutex_unlock(&db->bg_mu);
        pthread_join(db->bg, NULL);
        return -1;
    }
    db->bg_running = true;
    return 0;
}

int tsdb_open(const tsdb_opts_t *opts, tsdb_t **out, char *err, size_t errlen)
{
    *out = NULL;
    tsdb_t *db = tsdb_new(opts);
    int rc = tsdb_load(db, err, errlen);
    if (rc == TSDB_OK && opts->background && tsdb_start_threads(db) != 0) {
        snprintf(err, errlen, "cannot start the maintenance threads");
        rc = TSDB_ERR_IO;
    }
    if (rc != TSDB_OK) {
        tsdb_close(db);
        return rc;
    }
    *out = db;
    return 0;
}

void tsdb_close(tsdb_t *db)
{
    if (!db) {
        return;
    }
    if (db->bg_running) {
        pthread_mutex_lock(&db->bg_mu);
        __atomic_store_n(&db->stopping, true, __ATOMIC_RELEASE);
        pthread_cond_broadcast(&db->bg_cond);
        pthread_cond_broadcast(&db->compact_cond);
        pthread_mutex_unlock(&db->bg_mu);
        pthread_join(db->bg, NULL);
        pthread_join(db->compactor, NULL);
    }
    if (db->loaded && db->wal && !db->o.no_checkpoint && tsdb_checkpoint(db) != 0) {
        log_warn("head checkpoint failed: the next start replays the WAL");
    }
    reclog_close(db->wal);
    reclog_close(db->slog);
    for (uint32_t i = 0; i < db->nblocks; i++) {
        tsdb_block_free(db->blocks[i]);
    }
    mem_free(db->blocks);
    tsdb_pcache_destroy(db->pcache);
    tsdb_index_fini(&db->ix);
    tsdb_pool_fini(&db->pool);
    for (uint32_t i = 0; i < db->nmeta; i++) {
        mem_free(db->meta[i].family);
        mem_free(db->meta[i].help);
        mem_free(db->meta[i].unit);
    }
    mem_free(db->meta);
    hmap_fini(&db->meta_map);
    mem_free(db->epochs);
    mem_free(db->marks);
    buf_fini(&db->rec);
    buf_fini(&db->series_rec);
    buf_fini(&db->scratch);
    pthread_rwlock_destroy(&db->lock);
    pthread_mutex_destroy(&db->blocks_mu);
    pthread_mutex_destroy(&db->cut_mu);
    pthread_mutex_destroy(&db->compact_mu);
    pthread_mutex_destroy(&db->meta_mu);
    pthread_mutex_destroy(&db->bg_mu);
    pthread_cond_destroy(&db->bg_cond);
    pthread_cond_destroy(&db->compact_cond);
    mem_free(db->dir);
    mem_free(db->wal_dir);
    mem_free(db->series_dir);
    mem_free(db->blocks_dir);
    mem_free(db->marks_path);
    mem_free(db);
}

/* ---- append ---- */

static int64_t tsdb_due_locked(const tsdb_t *db);

static void tsdb_reject(tsdb_t *db, tsdb_append_result_t *res, tsdb_reject_t why, uint32_t id, int64_t t)
{
    res->rejected[why]++;
    if (res->first_error[0]) {
        return;
    }
    static const char *const what[] = { "duplicate sample for timestamp", "sample too old (out of window)",
                                        "sample timestamp too far in the future" };
    buf_t b = { 0 };
    label_t ls[TSDB_MAX_LABELS];
    labels_format(ls, tsdb_index_labels(&db->ix, id, ls, TSDB_MAX_LABELS), &b);
    snprintf(res->first_error, sizeof(res->first_error), "%s: timestamp=%" PRId64 " series=%.160s", what[why], t,
             b.data ? (const char *)b.data : "{}");
    buf_fini(&b);
}

/* The id of input s's series, creating it (and queueing its series
 * record) when new; -1 for a ref this store never gave. Lock held. */
static int64_t tsdb_resolve(tsdb_t *db, const tsdb_input_t *s, buf_t *enc, uint32_t *nseries_new,
                            tsdb_append_result_t *res)
{
    int64_t found;
    uint64_t hash = 0;
    if (s->ref > 0 && s->ref <= db->ix.nseries) {
        found = (int64_t)s->ref - 1;
    } else if (s->ref == 0 && s->nlabels <= TSDB_MAX_LABELS) {
        hash = labels_hash(s->labels, s->nlabels);
        found = tsdb_index_find(&db->ix, s->labels, s->nlabels, hash);
    } else {
        return -1;
    }
    if (found < 0) {
        found = tsdb_index_add(&db->ix, s->labels, s->nlabels, hash);
        buf_reset(enc);
        labels_encode(s->labels, s->nlabels, enc);
        tsdb_rec_add_series(&db->series_rec, (uint32_t)found, enc->data, enc->len);
        (*nseries_new)++;
        res->new_series++;
    }
    if (s->fp) {
        tsdb_index_add_fp(&db->ix, s->fp, (uint32_t)found);
    }
    return found;
}

/* Append the samples of s to series id, queueing the accepted ones in the
 * WAL record. Lock held. */
static void tsdb_append_series(tsdb_t *db, uint32_t id, const tsdb_input_t *s, int64_t future_limit, int64_t *prev_t,
                               uint32_t *nsamples, tsdb_append_result_t *res)
{
    tsdb_series_t *ser = db->ix.series[id];
    for (size_t k = 0; k < s->nsamples; k++) {
        int64_t t = s->samples[k].t;
        double v = s->samples[k].v;
        if (t > future_limit || t > TSDB_MAX_TIME) {
            tsdb_reject(db, res, TSDB_REJ_FUTURE, id, t);
            continue;
        }
        if (t < TSDB_MIN_TIME ||
            (db->head_maxt > INT64_MIN + db->o.ooo_window_ms && t < db->head_maxt - db->o.ooo_window_ms)) {
            tsdb_reject(db, res, TSDB_REJ_TOO_OLD, id, t);
            continue;
        }
        switch (tsdb_head_append(ser, &db->pool, t, v)) {
        case TSDB_HEAD_APPENDED:
            tsdb_rec_add_sample(&db->rec, prev_t, id, t, v);
            (*nsamples)++;
            res->accepted++;
            if (t > db->head_maxt) {
                db->head_maxt = t;
            }
            if (t > db->epochs[db->nepochs - 1].maxt) {
                db->epochs[db->nepochs - 1].maxt = t;
            }
            break;
        case TSDB_HEAD_IDENTICAL:
            res->duplicates_identical++;
            break;
        case TSDB_HEAD_DUPLICATE:
            tsdb_reject(db, res, TSDB_REJ_DUPLICATE, id, t);
            break;
        }
    }
}

/* Make the queued records durable: the series log, then the WAL. */
static int tsdb_append_commit(tsdb_t *db, bool have_wal, uint64_t wal_pos)
{
    /* Every series record queued so far, not only ours: our samples may use
     * a series that another appender created and has not committed yet,
     * and no sample may be durable before its series. Under the read lock,
     * since a series log rewrite closes and replaces db->slog under the
     * write lock (the new log holds every series). */
    pthread_rwlock_rdlock(&db->lock);
    int rc = db->slog ? reclog_commit(db->slog, UINT64_MAX) : -EIO;
    pthread_rwlock_unlock(&db->lock);
    if (rc == 0 && have_wal) {
        rc = reclog_commit(db->wal, wal_pos);
    }
    return rc;
}

int tsdb_append(tsdb_t *db, const tsdb_input_t *in, size_t n, tsdb_append_result_t *res)
{
    memset(res, 0, sizeof(*res));
    int64_t future_limit = clock_now_ms(&db->o.clock) + db->o.future_ms;
    uint32_t nsamples = 0, nseries_new = 0;
    int64_t prev_t = 0;
    uint64_t wal_pos = 0, slog_pos = 0;
    buf_t enc = { 0 };

    pthread_rwlock_wrlock(&db->lock);
    tsdb_rec_begin(&db->rec, TSDB_REC_SAMPLES);
    tsdb_rec_begin(&db->series_rec, TSDB_REC_SERIES);
    for (size_t i = 0; i < n; i++) {
        int64_t id = in[i].nsamples ? tsdb_resolve(db, &in[i], &enc, &nseries_new, res) : -1;
        if (id >= 0) {
            tsdb_append_series(db, (uint32_t)id, &in[i], future_limit, &prev_t, &nsamples, res);
        }
    }
    int rc = 0;
    if (nseries_new) {
        tsdb_rec_finish(&db->series_rec, nseries_new, &db->scratch);
        rc = reclog_append(db->slog, db->series_rec.data, db->series_rec.len, &slog_pos);
    }
    if (rc == 0 && nsamples) {
        tsdb_rec_finish(&db->rec, nsamples, &db->scratch);
        rc = reclog_append(db->wal, db->rec.data, db->rec.len, &wal_pos);
    }
    bool cut_due = res->accepted && db->bg_running && tsdb_due_locked(db) != INT64_MIN;
    pthread_rwlock_unlock(&db->lock);
    buf_fini(&enc);
    if (cut_due) {
        /* Wake the maintenance thread now: a head that waits for its next
         * tick grows past its range under a fast writer. */
        pthread_mutex_lock(&db->bg_mu);
        pthread_cond_signal(&db->bg_cond);
        pthread_mutex_unlock(&db->bg_mu);
    }
    __atomic_add_fetch(&db->c_appended, res->accepted, __ATOMIC_RELAXED);
    for (int k = 0; k < TSDB_REJ_COUNT; k++) {
        __atomic_add_fetch(&db->c_rejected[k], res->rejected[k], __ATOMIC_RELAXED);
    }
    if (rc == 0 && (nseries_new || nsamples)) {
        rc = tsdb_append_commit(db, nsamples > 0, wal_pos);
    } else if (rc == 0 && res->duplicates_identical) {
        /* Identical resends add nothing, but their originals may still be
         * on their way to disk (another writer's commit, or one that
         * failed): answer only once everything appended is durable. */
        rc = reclog_commit(db->wal, UINT64_MAX);
    }
    if (rc != 0) {
        log_error("WAL write failed: %s", strerror(rc < 0 ? -rc : EIO));
        return TSDB_ERR_IO;
    }
    return 0;
}

typedef struct tsdb_meta_key {
    const tsdb_t *db;
    str_t family;
} tsdb_meta_key_t;

static bool tsdb_meta_eq(void *ctx, uint64_t value)
{
    const tsdb_meta_key_t *k = ctx;
    return str_eq(str_cstr(k->db->meta[value].family), k->family);
}

void tsdb_set_metadata(tsdb_t *db, str_t family, int type, str_t help, str_t unit)
{
    if (type < 0 || type > TSDB_META_MAX_TYPE || family.len > TSDB_META_MAX_TEXT || help.len > TSDB_META_MAX_TEXT ||
        unit.len > TSDB_META_MAX_TEXT) {
        return;
    }
    pthread_mutex_lock(&db->meta_mu);
    tsdb_meta_key_t key = { db, family };
    uint64_t h = hash_bytes(family.p, family.len);
    uint64_t idx;
    tsdb_meta_entry_t *e = NULL;
    if (hmap_get(&db->meta_map, h, tsdb_meta_eq, &key, &idx)) {
        e = &db->meta[idx];
    }
    bool changed = true;
    if (e) {
        changed = e->type != type || !str_eq(str_cstr(e->help), help) || !str_eq(str_cstr(e->unit), unit);
        if (changed) {
            mem_free(e->help);
            mem_free(e->unit);
        }
    } else if (db->nmeta >= TSDB_META_MAX_FAMILIES) {
        changed = false; /* bounded: later families are not kept */
    } else {
        if (db->nmeta == db->capmeta) {
            db->capmeta = db->capmeta ? db->capmeta * 2 : 64;
            db->meta = mem_realloc(db->meta, db->capmeta * sizeof(tsdb_meta_entry_t));
        }
        hmap_put(&db->meta_map, h, db->nmeta);
        e = &db->meta[db->nmeta++];
        e->family = mem_strndup(family.p, family.len);
    }
    if (changed) {
        e->type = type;
        e->help = mem_strndup(help.p, help.len);
        e->unit = mem_strndup(unit.p, unit.len);
    }
    pthread_mutex_unlock(&db->meta_mu);
    if (changed) {
        /* Queued in the series log, written with the next commit of it
         * (every append commits it): metadata never costs an fsync of its own. */
        buf_t rec = { 0 };
        uint64_t pos;
        tsdb_rec_meta(&rec, type, family, help, unit);
        pthread_rwlock_rdlock(&db->lock);
        if (db->slog && reclog_append(db->slog, rec.data, rec.len, &pos) != 0) {
            log_error("metadata of %.*s not persisted", (int)(family.len > 200 ? 200 : family.len), family.p);
        }
        pthread_rwlock_unlock(&db->lock);
        buf_fini(&rec);
    }
}

void tsdb_lookup_fps(tsdb_t *db, const tsdb_fp_t *fps, size_t n, uint32_t *refs)
{
    pthread_rwlock_rdlock(&db->lock);
    for (size_t i = 0; i < n; i++) {
        int64_t id = tsdb_index_find_fp(&db->ix, &fps[i]);
        refs[i] = id < 0 ? 0 : (uint32_t)id + 1;
    }
    pthread_rwlock_unlock(&db->lock);
}

/* ---- select ---- */

int tsdb_select(tsdb_t *db, matcher_t *ms, size_t nms, int64_t mint, int64_t maxt, tsdb_select_fn fn, void *ctx)
{
    pthread_rwlock_rdlock(&db->lock);
    tsdb_ids_t ids = { 0 };
    tsdb_index_select(&db->ix, ms, nms, &ids);
    uint32_t nb = 0;
    tsdb_block_t **bl = tsdb_blocks_snapshot(db, mint, maxt, &nb);
    tsdb_page_cache_t *pcs = mem_calloc(nb ? nb : 1, sizeof(tsdb_page_cache_t));
    for (uint32_t i = 0; i < nb; i++) {
        pcs[i].shared = db->pcache;
    }
    int64_t *ts = NULL, *ht = NULL, *mt = NULL;
    double *vs = NULL, *hv = NULL, *mv = NULL;
    size_t cap = 0, hcap = 0, mcap = 0;
    label_t ls[TSDB_MAX_LABELS];
    int rc = 0;
    for (uint32_t i = 0; i < ids.n && rc == 0; i++) {
        uint32_t id = ids.v[i];
        size_t n = 0, hn = 0, mn = 0;
        tsdb_read_blocks(db, bl, nb, pcs, id, mint, maxt, &ts, &vs, &n, &cap);
        tsdb_head_read(db->ix.series[id], mint, maxt, &ht, &hv, &hn, &hcap);
        const int64_t *rt = ts;
        const double *rv = vs;
        size_t rn = n;
        if (hn && n) {
            tsdb_merge_samples(ts, vs, n, ht, hv, hn, &mt, &mv, &mn, &mcap);
            rt = mt;
            rv = mv;
            rn = mn;
        } else if (hn) {
            rt = ht;
            rv = hv;
            rn = hn;
        }
        if (rn == 0) {
            continue;
        }
        size_t nl = tsdb_index_labels(&db->ix, id, ls, TSDB_MAX_LABELS);
        rc = fn(ctx, ls, nl, rt, rv, rn);
    }
    pthread_rwlock_unlock(&db->lock);
    for (uint32_t i = 0; i < nb; i++) {
        tsdb_page_cache_fini(&pcs[i]);
    }
    mem_free(pcs);
    tsdb_blocks_release(db, bl, nb);
    tsdb_ids_fini(&ids);
    mem_free(ts);
    mem_free(vs);
    mem_free(ht);
    mem_free(hv);
    mem_free(mt);
    mem_free(mv);
    return rc;
}

/* ---- maintenance ---- */

/* The due boundary from head_maxt and cut_boundary (lock held). */
static int64_t tsdb_due_locked(const tsdb_t *db)
{
    int64_t maxt = db->head_maxt;
    if (maxt == INT64_MIN) {
        return INT64_MIN;
    }
    int64_t r = db->o.block_range_ms;
    int64_t margin = r / 2 < TSDB_CUT_MARGIN ? r / 2 : TSDB_CUT_MARGIN;
    int64_t x = maxt - margin;
    int64_t b = (x >= 0 ? x / r : (x - r + 1) / r) * r;
    return b > db->cut_boundary ? b : INT64_MIN;
}

int64_t tsdb_due_boundary(tsdb_t *db)
{
    pthread_rwlock_rdlock(&db->lock);
    int64_t b = tsdb_due_locked(db);
    pthread_rwlock_unlock(&db->lock);
    return b;
}

int tsdb_flush(tsdb_t *db)
{
    pthread_mutex_lock(&db->cut_mu);
    pthread_mutex_lock(&db->compact_mu);
    int rc = tsdb_cut(db, INT64_MAX);
    if (rc == 0) {
        rc = tsdb_compact(db);
    }
    if (rc == 0) {
        rc = tsdb_series_log_rewrite(db) == 0 ? 0 : TSDB_ERR_IO;
    }
    pthread_mutex_unlock(&db->compact_mu);
    pthread_mutex_unlock(&db->cut_mu);
    return rc;
}

/* Wait on cond for up to one second or until stopping; false when stopping. */
static bool tsdb_bg_wait(tsdb_t *db, pthread_cond_t *cond)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;
    pthread_mutex_lock(&db->bg_mu);
    if (!db->stopping) {
        pthread_cond_timedwait(cond, &db->bg_mu, &ts);
    }
    bool go = !db->stopping;
    pthread_mutex_unlock(&db->bg_mu);
    return go;
}

static void *tsdb_bg_main(void *arg)
{
    tsdb_t *db = arg;
    while (tsdb_bg_wait(db, &db->bg_cond)) {
        int64_t b = tsdb_due_boundary(db);
        if (b == INT64_MIN) {
            continue;
        }
        pthread_mutex_lock(&db->cut_mu);
        int rc = tsdb_cut(db, b);
        pthread_mutex_unlock(&db->cut_mu);
        if (rc == 0) {
            pthread_mutex_lock(&db->bg_mu);
            db->compact_pending = true;
            pthread_cond_signal(&db->compact_cond);
            pthread_mutex_unlock(&db->bg_mu);
        }
    }
    return NULL;
}

static void *tsdb_compactor_main(void *arg)
{
    tsdb_t *db = arg;
    int idle = 0;
    while (tsdb_bg_wait(db, &db->compact_cond)) {
        pthread_mutex_lock(&db->bg_mu);
        bool pending = db->compact_pending;
        db->compact_pending = false;
        pthread_mutex_unlock(&db->bg_mu);
        /* After each cut, and once a minute for retention. */
        if (!pending && ++idle < 60) {
            continue;
        }
        idle = 0;
        pthread_mutex_lock(&db->compact_mu);
        tsdb_compact(db);
        pthread_mutex_unlock(&db->compact_mu);
    }
    return NULL;
}

/* ---- stats ---- */

/* Bytes of the regular files under path (recursively). */
static uint64_t tsdb_du(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        return 0;
    }
    uint64_t total = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        char *p = tsdb_join(path, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                total += tsdb_du(p);
            } else if (S_ISREG(st.st_mode)) {
                total += (uint64_t)st.st_size;
            }
        }
        mem_free(p);
    }
    closedir(d);
    return total;
}

/* Remove a directory of plain files. */
static void tsdb_rmdir(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        char *p = tsdb_join(path, e->d_name);
        unlink(p);
        mem_free(p);
    }
    closedir(d);
    rmdir(path);
}

int tsdb_series_log_rewrite(tsdb_t *db)
{
    char *tmp = tsdb_join(db->dir, "series.new");
    char *old = tsdb_join(db->dir, "series.old");
    tsdb_rmdir(tmp);
    tsdb_rmdir(old);
    pthread_rwlock_wrlock(&db->lock);
    reclog_opts_t lo = { .segment_bytes = 64u << 20, .sync = true };
    reclog_t *nl = NULL;
    int rc = reclog_open(tmp, &lo, NULL, NULL, NULL, &nl);
    buf_t enc = { 0 };
    uint64_t pos = 0;
    for (uint32_t start = 0; rc == 0 && start < db->ix.nseries; start += 4096) {
        uint32_t end = start + 4096 < db->ix.nseries ? start + 4096 : db->ix.nseries;
        tsdb_rec_begin(&db->series_rec, TSDB_REC_SERIES);
        for (uint32_t id = start; id < end; id++) {
            label_t ls[TSDB_MAX_LABELS];
            size_t n = tsdb_index_labels(&db->ix, id, ls, TSDB_MAX_LABELS);
            buf_reset(&enc);
            labels_encode(ls, n, &enc);
            tsdb_rec_add_series(&db->series_rec, id, enc.data, enc.len);
        }
        tsdb_rec_finish(&db->series_rec, end - start, &db->scratch);
        rc = reclog_append(nl, db->series_rec.data, db->series_rec.len, &pos);
    }
    pthread_mutex_lock(&db->meta_mu);
    for (uint32_t i = 0; rc == 0 && i < db->nmeta; i++) {
        tsdb_meta_entry_t *m = &db->meta[i];
        tsdb_rec_meta(&enc, m->type, str_cstr(m->family), str_cstr(m->help), str_cstr(m->unit));
        rc = reclog_append(nl, enc.data, enc.len, &pos);
    }
    pthread_mutex_unlock(&db->meta_mu);
    buf_fini(&enc);
    if (rc == 0) {
        rc = reclog_commit(nl, pos);
    }
    reclog_close(nl);
    if (rc == 0) {
        reclog_close(db->slog);
        db->slog = NULL;
        if (rename(db->series_dir, old) != 0) {
            rc = -errno;
        } else if (rename(tmp, db->series_dir) != 0) {
            rc = -errno;
            rename(old, db->series_dir); /* put the old log back before reopening it */
        }
        int dfd = open(db->dir, O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        lo.sync = db->o.wal_sync;
        int rc2 = reclog_open(db->series_dir, &lo, NULL, NULL, NULL, &db->slog);
        if (rc == 0) {
            rc = rc2;
        }
        db->slog_bytes_at_rewrite = db->slog ? reclog_size(db->slog) : 0;
    }
    pthread_rwlock_unlock(&db->lock);
    if (rc == 0) {
        tsdb_rmdir(old);
    } else {
        log_error("series log rewrite failed: %s", strerror(rc < 0 ? -rc : EIO));
    }
    mem_free(tmp);
    mem_free(old);
    return rc;
}

void tsdb_get_stats(tsdb_t *db, tsdb_stats_t *st)
{
    memset(st, 0, sizeof(*st));
    pthread_rwlock_rdlock(&db->lock);
    st->series = db->ix.nseries;
    st->head_mint = INT64_MAX;
    for (uint32_t i = 0; i < db->ix.nseries; i++) {
        const tsdb_series_t *s = db->ix.series[i];
        uint64_t before = st->head_samples;
        tsdb_head_series_stats(s, &st->head_chunks, &st->head_samples, &st->head_bytes);
        if (st->head_samples > before) {
            st->head_series++;
            int64_t m = tsdb_head_series_mint(s);
            if (m < st->head_mint) {
                st->head_mint = m;
            }
        }
    }
    st->head_maxt = db->head_maxt;
    st->head_bytes = tsdb_pool_bytes(&db->pool); /* what the chunks hold, slack included */
    pthread_rwlock_unlock(&db->lock);
    if (st->head_samples == 0) {
        st->head_mint = 0;
        st->head_maxt = 0;
    }
    st->samples_appended = __atomic_load_n(&db->c_appended, __ATOMIC_RELAXED);
    for (int k = 0; k < TSDB_REJ_COUNT; k++) {
        st->samples_rejected[k] = __atomic_load_n(&db->c_rejected[k], __ATOMIC_RELAXED);
    }
    st->wal_bytes = reclog_size(db->wal);
    reclog_sync_stats(db->wal, &st->wal_fsyncs, &st->wal_fsync_seconds);
    st->wal_replay_cuts = db->c_replay_cuts;
    pthread_mutex_lock(&db->blocks_mu);
    st->blocks = db->nblocks;
    for (uint32_t i = 0; i < db->nblocks; i++) {
        st->block_bytes += db->blocks[i]->size;
    }
    st->compactions = db->c_compactions;
    st->compactions_failed = db->c_compactions_failed;
    st->head_cuts = db->c_cuts;
    st->corrupt_blocks = db->c_corrupt_blocks;
    tsdb_pcache_stats(db->pcache, &st->page_cache_hits, &st->page_cache_misses, &st->page_cache_bytes);
    st->retention_dropped_blocks = db->c_retention;
    pthread_mutex_unlock(&db->blocks_mu);
    st->disk_bytes = tsdb_du(db->dir);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * reclog: segmented record log with group commit. See reclog.h.
 *
 * Appenders frame a record (len, crc, payload) into `pending` under `mu` and
 * get its end position: the count of framed bytes appended since open.
 * reclog_commit(pos) returns at once when `written` >= pos; otherwise one
 * committer becomes the writer (`writing`), swaps `pending` with the empty
 * `spare`, drops the lock, write(2)s the batch (and fdatasyncs in sync mode),
 * then publishes `written` and wakes the waiters on `cv`. Appends go on into
 * the fresh pending buffer meanwhile, so one write serves many committers.
 *
 * Invariants:
 *  - only the thread that set `writing` touches fd, cur_bytes, unsynced;
 *  - records never span segments: the writer walks the batch's frames and
 *    rolls before a record that would push a non-empty segment past
 *    segment_bytes (a single larger record gets a segment of its own);
 *  - `err` is sticky: after a failed write or fsync the log is read-only and
 *    appends and commits return that error;
 *  - sizes of closed segments live in `segs`, so reclog_size never stats.
 * Zero-length records are refused on append and treated as corrupt on
 * replay: a zero-filled tail (left by some filesystems after a crash) would
 * otherwise read as valid empty records, since crc32c of nothing is 0.
 * The fsync counters include the directory fsyncs done when creating segments.
 */
#include "common/reclog.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/crc32c.h"
#include "common/log.h"
#include "common/mem.h"

#define RECLOG_HDR 8
#define RECLOG_DEFAULT_SEGMENT ((size_t)64 << 20)
#define RECLOG_DEFAULT_MAX_RECORD ((size_t)256 << 20)
#define RECLOG_SPARE_KEEP ((size_t)4 << 20)

typedef struct reclog_seg {
    uint32_t idx;
    uint64_t bytes;
} reclog_seg_t;

struct reclog {
    char *dir;
    reclog_opts_t opts;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* under mu */
    buf_t pending;
    buf_t spare;
    uint64_t appended;
    uint64_t written;
    bool writing;
    int err;
    uint32_t seg;       /* current segment index */
    uint64_t cur_size;  /* published size of the current segment */
    reclog_seg_t *segs; /* closed segments on disk, ascending */
    size_t nsegs;
    size_t capsegs;
    uint64_t closed_bytes; /* sum of segs[].bytes */
    uint64_t sync_count;
    double sync_seconds;
    /* writer-owned */
    int fd;
    uint64_t cur_bytes;
    bool unsynced;
};

static double reclog_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t reclog_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void reclog_wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void reclog_seg_path(const reclog_t *l, uint32_t idx, char *dst, size_t n)
{
    snprintf(dst, n, "%s/%08" PRIu32, l->dir, idx);
}

/* fsync (fdatasync when data_only) that adds to the caller's counters,
 * which the caller folds into the log's totals under mu. */
static int reclog_timed_sync(int fd, bool data_only, uint64_t *count, double *secs)
{
    double t0 = reclog_now();
    int rc = data_only ? fdatasync(fd) : fsync(fd);
    int saved = errno;
    *secs += reclog_now() - t0;
    (*count)++;
    return rc == 0 ? 0 : -saved;
}

static int reclog_sync_dir(const char *dir, uint64_t *count, double *secs)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    int rc = reclog_timed_sync(fd, false, count, secs);
    close(fd);
    return rc;
}

static int reclog_mkdir_p(const char *dir)
{
    char *tmp = mem_strdup(dir);
    int rc = 0;
    for (char *p = tmp + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
                rc = -errno;
                break;
            }
            *p = c;
            if (c == '\0') {
                break;
            }
        }
    }
    mem_free(tmp);
    return rc;
}

static void reclog_push_seg(reclog_t *l, uint32_t idx, uint64_t bytes)
{
    if (l->nsegs == l->capsegs) {
        l->capsegs = l->capsegs ? l->capsegs * 2 : 16;
        l->segs = mem_realloc(l->segs, l->capsegs * sizeof(*l->segs));
    }
    l->segs[l->nsegs++] = (reclog_seg_t){ idx, bytes };
    l->closed_bytes += bytes;
}

static int reclog_seg_cmp(const void *a, const void *b)
{
    uint32_t x = ((const reclog_seg_t *)a)->idx;
    uint32_t y = ((const reclog_seg_t *)b)->idx;
    return x < y ? -1 : x > y;
}

/* Fill l->segs with the segment files in dir, ascending. 0 or -errno. */
static int reclog_scan(reclog_t *l)
{
    DIR *d = opendir(l->dir);
    if (!d) {
        return -errno;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *n = e->d_name;
        if (strlen(n) != 8 || strspn(n, "0123456789") != 8) {
            continue;
        }
        uint32_t idx = (uint32_t)strtoul(n, NULL, 10);
        if (idx == 0) {
            continue;
        }
        reclog_push_seg(l, idx, 0);
    }
    closedir(d);
    if (l->nsegs > 1) {
        qsort(l->segs, l->nsegs, sizeof(*l->segs), reclog_seg_cmp);
    }
    return 0;
}

/* Replay one segment; cut it at the first bad record. Sets seg->bytes to
 * the size left. 0, -errno, or the callback's nonzero result. */
static int reclog_replay_seg(reclog_t *l, reclog_seg_t *seg, reclog_replay_fn fn, void *ctx, reclog_stats_t *st)
{
    char path[4096];
    reclog_seg_path(l, seg->idx, path, sizeof(path));
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return -EINVAL;
    }
    size_t size = (size_t)sb.st_size;
    st->segments++;
    seg->bytes = size;
    if (size == 0) {
        close(fd);
        return 0;
    }
    const uint8_t *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    size_t off = 0;
    const char *why = NULL;
    int rc = 0;
    while (off < size) {
        if (size - off < RECLOG_HDR) {
            why = "torn header";
            break;
        }
        uint32_t len = reclog_rd32(m + off);
        uint32_t crc = reclog_rd32(m + off + 4);
        if (len == 0 || len > l->opts.max_record) {
            why = "bad length";
            break;
        }
        if (size - off - RECLOG_HDR < len) {
            why = "torn payload";
            break;
        }
        const uint8_t *p = m + off + RECLOG_HDR;
        if (crc32c(0, p, len) != crc) {
            why = "crc mismatch";
            break;
        }
        if (fn) {
            rc = fn(ctx, seg->idx, p, len);
            if (rc != 0) {
                break;
            }
        }
        st->records++;
        st->bytes += len;
        off += RECLOG_HDR + len;
    }
    munmap((void *)m, size);
    if (rc == 0 && why) {
        log_warn("reclog: cutting segment %s at offset %zu (%s), dropping %zu bytes", path, off, why, size - off);
        if (ftruncate(fd, (off_t)off) != 0) {
            rc = -errno;
        } else {
            rc = reclog_timed_sync(fd, false, &l->sync_count, &l->sync_seconds);
        }
        st->cuts++;
        st->cut_bytes += size - off;
        seg->bytes = off;
    }
    close(fd);
    return rc;
}

/* Writer: create segment idx and make it current. 0 or -errno. */
static int reclog_create_seg(reclog_t *l, uint32_t idx, uint64_t *count, double *secs)
{
    char path[4096];
    reclog_seg_path(l, idx, path, sizeof(path));
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        return -errno;
    }
    int rc = reclog_sync_dir(l->dir, count, secs);
    if (rc != 0) {
        close(fd);
        unlink(path);
        return rc;
    }
    l->fd = fd;
    l->cur_bytes = 0;
    l->unsynced = false;
    return 0;
}

/* Writer: close the current segment (synced in sync mode) and open the next. */
static int reclog_next_seg(reclog_t *l, uint64_t *count, double *secs)
{
    if (l->opts.sync && l->unsynced) {
        int rc = reclog_timed_sync(l->fd, true, count, secs);
        if (rc != 0) {
            return rc;
        }
        l->unsynced = false;
    }
    pthread_mutex_lock(&l->mu);
    uint32_t old = l->seg;
    pthread_mutex_unlock(&l->mu);
    close(l->fd);
    l->fd = -1;
    int rc = reclog_create_seg(l, old + 1, count, secs);
    if (rc != 0) {
        return rc;
    }
    pthread_mutex_lock(&l->mu);
    reclog_push_seg(l, old, l->cur_size);
    l->seg = old + 1;
    l->cur_size = 0;
    pthread_mutex_unlock(&l->mu);
    return 0;
}

/* Writer: write p[0..n) fully to the current segment. 0 or -errno. */
static int reclog_put(reclog_t *l, const uint8_t *p, size_t n)
{
    size_t done = 0;
    int rc = 0;
    while (done < n) {
        ssize_t w = write(l->fd, p + done, n - done);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            rc = -errno;
            break;
        }
        if (w == 0) {
            rc = -EIO;
            break;
        }
        done += (size_t)w;
    }
    l->cur_bytes += done;
    l->unsynced = l->unsynced || done > 0;
    pthread_mutex_lock(&l->mu);
    l->cur_size = l->cur_bytes;
    pthread_mutex_unlock(&l->mu);
    return rc;
}

/* Writer: write a batch of whole frames, rolling segments as needed, then
 * sync in sync mode and roll once more when force_roll. */
static int reclog_write_batch(reclog_t *l, const buf_t *b, bool force_roll, uint64_t *count, double *secs)
{
    size_t start = 0;
    size_t off = 0;
    int rc = 0;
    while (off < b->len) {
        size_t rec = RECLOG_HDR + reclog_rd32(b->data + off);
        uint64_t seg_now = l->cur_bytes + (off - start);
        if (seg_now > 0 && seg_now + rec > l->opts.segment_bytes) {
            rc = reclog_put(l, b->data + start, off - start);
            if (rc == 0) {
                rc = reclog_next_seg(l, count, secs);
            }
            if (rc != 0) {
                return rc;
            }
            start = off;
        }
        off += rec;
    }
    rc = reclog_put(l, b->data + start, off - start);
    if (rc == 0 && l->opts.sync && l->unsynced) {
        rc = reclog_timed_sync(l->fd, true, count, secs);
        l->unsynced = rc != 0;
    }
    if (rc == 0 && force_roll) {
        rc = reclog_next_seg(l, count, secs);
    }
    return rc;
}

/* With mu held: make everything up to pos written (or, when roll, write all
 * that is pending and start a new segment). 0 or the sticky error. */
static int reclog_drive_locked(reclog_t *l, uint64_t pos, bool roll)
{
    for (;;) {
        if (l->err != 0) {
            return l->err;
        }
        if (!roll && l->written >= pos) {
            return 0;
        }
        if (l->writing) {
            pthread_cond_wait(&l->cv, &l->mu);
            continue;
        }
        l->writing = true;
        buf_t batch = l->pending;
        l->pending = l->spare;
        l->spare = batch;
        uint64_t target = l->appended;
        pthread_mutex_unlock(&l->mu);
        uint64_t count = 0;
        double secs = 0;
        int rc = reclog_write_batch(l, &l->spare, roll, &count, &secs);
        pthread_mutex_lock(&l->mu);
        if (l->spare.cap > RECLOG_SPARE_KEEP) {
            buf_fini(&l->spare);
        } else {
            buf_reset(&l->spare);
        }
        l->sync_count += count;
        l->sync_seconds += secs;
        l->writing = false;
        if (rc != 0) {
            l->err = rc;
            log_warn("reclog: %s: write failed (%s); log is read-only", l->dir, strerror(-rc));
        } else {
            l->written = target;
        }
        pthread_cond_broadcast(&l->cv);
        if (rc == 0 && roll) {
            return 0;
        }
    }
}

int reclog_open(const char *dir, const reclog_opts_t *opts, reclog_replay_fn fn, void *ctx, reclog_stats_t *stats,
                reclog_t **out)
{
    assert(dir && out);
    *out = NULL;
    if (dir[0] == '\0') {
        return -EINVAL;
    }
    reclog_stats_t st = { 0 };
    reclog_t *l = mem_calloc(1, sizeof(*l));
    l->fd = -1;
    l->dir = mem_strdup(dir);
    if (opts) {
        l->opts = *opts;
    }
    if (l->opts.segment_bytes == 0) {
        l->opts.segment_bytes = RECLOG_DEFAULT_SEGMENT;
    }
    if (l->opts.max_record == 0) {
        l->opts.max_record = RECLOG_DEFAULT_MAX_RECORD;
    }
    if (l->opts.max_record > UINT32_MAX) {
        l->opts.max_record = UINT32_MAX;
    }
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    int rc = reclog_mkdir_p(dir);
    if (rc != 0) {
        goto fail;
    }
    rc = reclog_scan(l);
    if (rc != 0) {
        goto fail;
    }
    for (size_t i = 0; i < l->nsegs; i++) {
        rc = reclog_replay_seg(l, &l->segs[i], fn, ctx, &st);
        if (rc != 0) {
            goto fail;
        }
        l->closed_bytes += l->segs[i].bytes;
    }
    l->seg = l->nsegs ? l->segs[l->nsegs - 1].idx + 1 : 1;
    rc = reclog_create_seg(l, l->seg, &l->sync_count, &l->sync_seconds);
    if (rc != 0) {
        goto fail;
    }
    if (stats) {
        *stats = st;
    }
    *out = l;
    return 0;
fail:
    if (stats) {
        *stats = st;
    }
    reclog_close(l);
    return rc;
}

void reclog_close(reclog_t *l)
{
    if (!l) {
        return;
    }
    if (l->fd >= 0) {
        pthread_mutex_lock(&l->mu);
        (void)reclog_drive_locked(l, l->appended, false);
        pthread_mutex_unlock(&l->mu);
        close(l->fd);
    }
    buf_fini(&l->pending);
    buf_fini(&l->spare);
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    mem_free(l->segs);
    mem_free(l->dir);
    mem_free(l);
}

int reclog_append(reclog_t *l, const void *p, size_t len, uint64_t *pos)
{
    assert(l && pos && (p || len == 0));
    if (len == 0) {
        return -EINVAL;
    }
    if (len > l->opts.max_record) {
        return -EMSGSIZE;
    }
    uint8_t hdr[RECLOG_HDR];
    reclog_wr32(hdr, (uint32_t)len);
    reclog_wr32(hdr + 4, crc32c(0, p, len));
    pthread_mutex_lock(&l->mu);
    int rc = l->err;
    if (rc == 0) {
        buf_reserve(&l->pending, RECLOG_HDR + len);
        buf_append(&l->pending, hdr, RECLOG_HDR);
        buf_append(&l->pending, p, len);
        l->appended += RECLOG_HDR + len;
        *pos = l->appended;
    }
    pthread_mutex_unlock(&l->mu);
    return rc;
}

int reclog_commit(reclog_t *l, uint64_t pos)
{
    assert(l);
    pthread_mutex_lock(&l->mu);
    if (pos > l->appended) {
        pos = l->appended; /* never wait for bytes nobody appended */
    }
    int rc = reclog_drive_locked(l, pos, false);
    pthread_mutex_unlock(&l->mu);
    return rc;
}

int reclog_sync(reclog_t *l)
{
    pthread_mutex_lock(&l->mu);
    int rc = reclog_drive_locked(l, l->appended, false);
    if (rc == 0 && l->fd >= 0) {
        rc = reclog_timed_sync(l->fd, true, &l->sync_count, &l->sync_seconds);
    }
    pthread_mutex_unlock(&l->mu);
    return rc;
}

int reclog_roll(reclog_t *l, uint32_t *seg)
{
    pthread_mutex_lock(&l->mu);
    int rc = reclog_drive_locked(l, 0, true);
    if (rc == 0 && seg) {
        *seg = l->seg;
    }
    pthread_mutex_unlock(&l->mu);
    return rc;
}

int reclog_drop_before(reclog_t *l, uint32_t seg)
{
    pthread_mutex_lock(&l->mu);
    size_t n = 0;
    while (n < l->nsegs && l->segs[n].idx < seg) {
        n++;
    }
    uint32_t *victims = mem_alloc((n ? n : 1) * sizeof(*victims));
    for (size_t i = 0; i < n; i++) {
        victims[i] = l->segs[i].idx;
        l->closed_bytes -= l->segs[i].bytes;
    }
    if (n > 0) {
        memmove(l->segs, l->segs + n, (l->nsegs - n) * sizeof(*l->segs));
        l->nsegs -= n;
    }
    pthread_mutex_unlock(&l->mu);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        reclog_seg_path(l, victims[i], path, sizeof(path));
        if (unlink(path) != 0 && errno != ENOENT && rc == 0) {
            rc = -errno;
        }
    }
    mem_free(victims);
    return rc;
}

uint32_t reclog_current_segment(reclog_t *l)
{
    pthread_mutex_lock(&l->mu);
    uint32_t s = l->seg;
    pthread_mutex_unlock(&l->mu);
    return s;
}

uint64_t reclog_size(reclog_t *l)
{
    pthread_mutex_lock(&l->mu);
    uint64_t s = l->closed_bytes + l->cur_size;
    pthread_mutex_unlock(&l->mu);
    return s;
}

void reclog_sync_stats(reclog_t *l, uint64_t *count, double *seconds)
{
    pthread_mutex_lock(&l->mu);
    if (count) {
        *count = l->sync_count;
    }
    if (seconds) {
        *seconds = l->sync_seconds;
    }
    pthread_mutex_unlock(&l->mu);
}

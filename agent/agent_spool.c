/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent_spool: an on-disk FIFO of encoded batches for one shard of one
 * remote-write endpoint, bounded in bytes.
 *
 * Each batch is one file named by a 64-bit sequence number
 * ("%016llx.rw"), written as "next.tmp" and renamed (one writer), so a
 * file with the final name is always complete. The queue is the range
 * [head, tail) of sequence numbers; a number with no file (dropped) is
 * skipped. After a restart the directory is scanned and sending resumes
 * at the oldest file. Memory is O(1) whatever the backlog: no list of
 * files is kept, only the range, the byte total and the file count.
 *
 * File layout (little-endian):
 *   version 1: | "PHRW" | u32 1 | u32 items | u32 crc32c(body) | body |
 *   version 2: | "PHRW" | u32 2 | u32 items | u32 crc32c(ck_len, ck, body)
 *              | u32 ck_len | ck | body |
 * body is the request body (snappy-compressed WriteRequest or Loki
 * PushRequest), sent as is; ck is the batch's input checkpoint (what the
 * log inputs had read when the batch was cut), handed back with the
 * batch so the shipper's ack hook can persist it. A batch without one is
 * written as version 1.
 *
 * Past the bound the oldest files are dropped (never the one being
 * sent) and their samples counted. A file that fails its checks when
 * read is removed and counted as corrupt. Thread-safe: one writer (the
 * collection loop) and one reader (the shard's sender).
 */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "common/fileio.h"
#include "common/clock.h"
#include "common/crc32c.h"
#include "common/mem.h"

#define SPOOL_MAGIC "PHRW"
#define SPOOL_HDR 16
#define SPOOL_NONE UINT64_MAX
/* spool_open refuses a dir of SPOOL_DIR_MAX bytes or more, so every path
 * below ("<dir>/<16 hex>.rw", "<dir>/next.tmp") fits SPOOL_PATH_MAX. */
#define SPOOL_DIR_MAX 4000
#define SPOOL_PATH_MAX (SPOOL_DIR_MAX + 32)

struct spool {
    char *dir;
    uint64_t max_bytes;
    bool sync;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t head, tail; /* pending sequence numbers [head, tail) */
    uint64_t bytes, files;
    uint64_t inflight; /* seq being sent, or SPOOL_NONE */
    uint64_t dropped_full, dropped_corrupt;
    bool woken;
};

static void spool_path(const spool_t *s, uint64_t seq, const char *ext, char *dst, size_t len)
{
    snprintf(dst, len, "%s/%016" PRIx64 ".%s", s->dir, seq, ext);
}

static int spool_mkdirs(const char *dir)
{
    char tmp[SPOOL_DIR_MAX];
    size_t n = strlen(dir);
    assert(n < sizeof(tmp));
    memcpy(tmp, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] == '/' || tmp[i] == 0) {
            char c = tmp[i];
            tmp[i] = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
                return -errno;
            }
            tmp[i] = c;
        }
    }
    return 0;
}

/* Rebuild head/tail/bytes from the directory; remove torn temp files. */
static int spool_scan(spool_t *s)
{
    DIR *d = opendir(s->dir);
    if (!d) {
        return -errno;
    }
    uint64_t lo = UINT64_MAX, hi = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char ext[8] = { 0 };
        unsigned long long seq = 0;
        int consumed = 0;
        if (sscanf(e->d_name, "%16llx.%7[a-z]%n", &seq, ext, &consumed) != 2 || e->d_name[consumed] != 0) {
            continue;
        }
        char path[SPOOL_PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", s->dir, e->d_name);
        if (strcmp(ext, "tmp") == 0) {
            unlink(path);
            continue;
        }
        struct stat st;
        if (strcmp(ext, "rw") != 0 || stat(path, &st) != 0) {
            continue;
        }
        s->bytes += (uint64_t)st.st_size;
        s->files++;
        lo = seq < lo ? seq : lo;
        hi = seq > hi ? seq : hi;
    }
    closedir(d);
    s->head = s->files ? lo : 0;
    s->tail = s->files ? hi + 1 : 0;
    return 0;
}

void spool_close(spool_t *s)
{
    if (!s) {
        return;
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    mem_free(s->dir);
    mem_free(s);
}

int spool_open(const char *dir, uint64_t max_bytes, bool sync, spool_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (strlen(dir) >= SPOOL_DIR_MAX) {
        snprintf(err, errlen, "spool %s: %s", dir, strerror(ENAMETOOLONG));
        return -1;
    }
    spool_t *s = mem_calloc(1, sizeof(*s));
    s->dir = mem_strdup(dir);
    s->max_bytes = max_bytes;
    s->sync = sync;
    s->inflight = SPOOL_NONE;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    int rc = spool_mkdirs(dir);
    if (rc == 0) {
        rc = spool_scan(s);
    }
    char tmp[SPOOL_PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s/next.tmp", dir);
    unlink(tmp);
    if (rc != 0) {
        snprintf(err, errlen, "spool %s: %s", dir, strerror(-rc));
        spool_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

/* Samples recorded in the header of file seq, or 0 if unreadable. */
static uint32_t spool_file_samples(const spool_t *s, uint64_t seq, uint64_t *size)
{
    char path[SPOOL_PATH_MAX];
    spool_path(s, seq, "rw", path, sizeof(path));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    *size = 0;
    if (fd < 0) {
        return 0;
    }
    uint8_t hdr[SPOOL_HDR];
    uint32_t n = 0;
    struct stat st;
    if (fstat(fd, &st) == 0) {
        *size = (uint64_t)st.st_size;
    }
    if (read(fd, hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr) && memcmp(hdr, SPOOL_MAGIC, 4) == 0) {
        memcpy(&n, hdr + 8, 4);
    }
    close(fd);
    return n;
}

/* Drop oldest files (not the inflight one) until bytes <= max_bytes.
 * Called with mu held. */
static void spool_enforce_bound(spool_t *s)
{
    uint64_t seq = s->head;
    while (s->bytes > s->max_bytes && seq < s->tail) {
        if (seq == s->inflight) {
            seq++;
            continue;
        }
        uint64_t size = 0;
        uint32_t n = spool_file_samples(s, seq, &size);
        char path[SPOOL_PATH_MAX];
        spool_path(s, seq, "rw", path, sizeof(path));
        if (size > 0 && unlink(path) == 0) {
            s->bytes -= size < s->bytes ? size : s->bytes;
            s->files--;
            s->dropped_full += n;
        }
        if (seq == s->head) {
            s->head++;
        }
        seq++;
    }
}

int spool_put(spool_t *s, uint32_t nsamples, const void *body, size_t len, const void *ck, size_t cklen)
{
    if (cklen > UINT32_MAX) {
        /* ck_len is a u32 on disk: a longer checkpoint would be read back cut. */
        pthread_mutex_lock(&s->mu);
        s->dropped_full += nsamples;
        pthread_mutex_unlock(&s->mu);
        return -EFBIG;
    }
    char tmp[SPOOL_PATH_MAX], path[SPOOL_PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s/next.tmp", s->dir);
    uint8_t hdr[SPOOL_HDR + 4];
    size_t hlen = SPOOL_HDR;
    uint32_t version = cklen > 0 ? 2 : 1, crc = 0;
    if (cklen > 0) {
        uint32_t ck32 = (uint32_t)cklen;
        memcpy(hdr + SPOOL_HDR, &ck32, 4);
        hlen += 4;
        crc = crc32c(crc, hdr + SPOOL_HDR, 4);
        crc = crc32c(crc, ck, cklen);
    }
    crc = crc32c(crc, body, len);
    memcpy(hdr, SPOOL_MAGIC, 4);
    memcpy(hdr + 4, &version, 4);
    memcpy(hdr + 8, &nsamples, 4);
    memcpy(hdr + 12, &crc, 4);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = fd < 0 ? -errno : 0;
    if (rc == 0) {
        rc = fileio_write_all(fd, hdr, hlen);
    }
    if (rc == 0 && cklen > 0) {
        rc = fileio_write_all(fd, ck, cklen);
    }
    if (rc == 0) {
        rc = fileio_write_all(fd, body, len);
    }
    if (rc == 0 && s->sync && fdatasync(fd) != 0) {
        rc = -errno;
    }
    if (fd >= 0) {
        close(fd);
    }
    /* The sequence number is taken and the file given its final name in
     * one step under the lock: the reader never meets a number in
     * [head, tail) whose file is still being written. */
    pthread_mutex_lock(&s->mu);
    if (rc == 0) {
        spool_path(s, s->tail, "rw", path, sizeof(path));
        rc = rename(tmp, path) == 0 ? 0 : -errno;
    }
    if (rc != 0) {
        unlink(tmp);
        s->dropped_full += nsamples;
    } else {
        s->tail++;
        s->bytes += hlen + cklen + len;
        s->files++;
        spool_enforce_bound(s);
    }
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* Read and check file seq into body (and its checkpoint into ck, reset,
 * when ck is not NULL). 1 ok, 0 absent, -1 corrupt. */
static int spool_read(spool_t *s, uint64_t seq, buf_t *body, buf_t *ck, uint32_t *nsamples, uint64_t *size)
{
    char path[SPOOL_PATH_MAX];
    spool_path(s, seq, "rw", path, sizeof(path));
    int rc = coll_read_file(path, "", body, 1u << 30);
    if (rc == -ENOENT) {
        return 0;
    }
    *size = body->len;
    *nsamples = 0;
    if (ck) {
        buf_reset(ck);
    }
    if (rc != 0 || body->len < SPOOL_HDR || memcmp(body->data, SPOOL_MAGIC, 4) != 0) {
        return -1;
    }
    uint32_t version, crc, cklen = 0;
    memcpy(&version, body->data + 4, 4);
    memcpy(nsamples, body->data + 8, 4);
    memcpy(&crc, body->data + 12, 4);
    size_t start = SPOOL_HDR;
    if (version == 2) {
        if (body->len < SPOOL_HDR + 4) {
            return -1;
        }
        memcpy(&cklen, body->data + SPOOL_HDR, 4);
        if (cklen > body->len - SPOOL_HDR - 4) {
            return -1;
        }
        start = SPOOL_HDR + 4 + cklen;
    } else if (version != 1) {
        return -1;
    }
    if (crc32c(0, body->data + SPOOL_HDR, body->len - SPOOL_HDR) != crc) {
        return -1;
    }
    if (ck && cklen > 0) {
        buf_append(ck, body->data + SPOOL_HDR + 4, cklen);
    }
    memmove(body->data, body->data + start, body->len - start);
    body->len -= start;
    return 1;
}

int spool_peek(spool_t *s, buf_t *body, buf_t *ck, uint64_t *seq, uint32_t *nsamples)
{
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (s->head >= s->tail) {
            pthread_mutex_unlock(&s->mu);
            return 0;
        }
        uint64_t q = s->head;
        uint64_t size = 0;
        int rc = spool_read(s, q, body, ck, nsamples, &size);
        if (rc == 1) {
            s->inflight = q;
            *seq = q;
            pthread_mutex_unlock(&s->mu);
            return 1;
        }
        if (rc < 0) {
            char path[SPOOL_PATH_MAX];
            spool_path(s, q, "rw", path, sizeof(path));
            unlink(path);
            s->bytes -= size < s->bytes ? size : s->bytes;
            s->files--;
            s->dropped_corrupt += *nsamples;
        }
        s->head++;
    }
}

int spool_pop(spool_t *s, uint64_t seq)
{
    char path[SPOOL_PATH_MAX];
    spool_path(s, seq, "rw", path, sizeof(path));
    pthread_mutex_lock(&s->mu);
    struct stat st;
    int rc = 0;
    if (stat(path, &st) == 0) {
        if (unlink(path) != 0) {
            rc = -errno;
        } else {
            uint64_t size = (uint64_t)st.st_size;
            s->bytes -= size < s->bytes ? size : s->bytes;
            s->files--;
        }
    }
    if (s->inflight == seq) {
        s->inflight = SPOOL_NONE;
    }
    if (seq == s->head) {
        s->head++;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void spool_release(spool_t *s)
{
    pthread_mutex_lock(&s->mu);
    s->inflight = SPOOL_NONE;
    pthread_mutex_unlock(&s->mu);
}

bool spool_wait(spool_t *s, int64_t timeout_ms)
{
    struct timespec ts;
    clock_mono_deadline(timeout_ms, &ts);
    pthread_mutex_lock(&s->mu);
    while (!s->woken && s->head >= s->tail) {
        if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT) {
            break;
        }
    }
    bool woken = s->woken;
    pthread_mutex_unlock(&s->mu);
    return woken;
}

void spool_wake(spool_t *s)
{
    pthread_mutex_lock(&s->mu);
    s->woken = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void spool_stats(spool_t *s, spool_stats_t *out)
{
    pthread_mutex_lock(&s->mu);
    out->files = s->files;
    out->bytes = s->bytes;
    out->dropped_full = s->dropped_full;
    out->dropped_corrupt = s->dropped_corrupt;
    pthread_mutex_unlock(&s->mu);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent_positions: what the log inputs have shipped, as one small text
 * form (agent_int.h) used twice: a batch's checkpoint (only what the
 * batch moved) and the persisted positions file (the whole state, one per
 * Loki endpoint in its spool directory). The ack hook applies a batch's
 * checkpoint to the endpoint's state and saves it; the inputs start from
 * the least advanced state over the endpoints.
 *
 * Saving writes "<path>.tmp", fsyncs it, renames it over the file and
 * fsyncs the directory, so a crash leaves either the old or the new state,
 * never a torn one. Files are few (the ones followed), so they are kept
 * in an array searched linearly.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "common/fileio.h"
#include "common/mem.h"

#define POS_HEADER "# pharos-agent positions 1\n"

void agent_positions_init(agent_positions_t *p)
{
    memset(p, 0, sizeof(*p));
}

void agent_positions_fini(agent_positions_t *p)
{
    mem_free(p->cursor);
    for (size_t i = 0; i < p->nfiles; i++) {
        mem_free(p->files[i].path);
    }
    mem_free(p->files);
    memset(p, 0, sizeof(*p));
}

static agent_pos_file_t *pos_find(const agent_positions_t *p, uint64_t dev, uint64_t ino)
{
    for (size_t i = 0; i < p->nfiles; i++) {
        if (p->files[i].dev == dev && p->files[i].ino == ino) {
            return &p->files[i];
        }
    }
    return NULL;
}

const agent_pos_file_t *agent_positions_file(const agent_positions_t *p, uint64_t dev, uint64_t ino)
{
    return pos_find(p, dev, ino);
}

/* Set f's entry, taking path (f->path is ignored). */
static void pos_set_file_take(agent_positions_t *p, const agent_pos_file_t *f, char *path)
{
    agent_pos_file_t *x = pos_find(p, f->dev, f->ino);
    if (x == NULL) {
        if (p->nfiles == p->cap) {
            p->cap = p->cap ? p->cap * 2 : 8;
            p->files = mem_realloc(p->files, p->cap * sizeof(*p->files));
        }
        x = &p->files[p->nfiles++];
        memset(x, 0, sizeof(*x));
    }
    mem_free(x->path);
    *x = *f;
    x->path = path;
}

void agent_positions_set_file(agent_positions_t *p, const agent_pos_file_t *f)
{
    pos_set_file_take(p, f, mem_strdup(f->path ? f->path : ""));
}

void agent_positions_forget(agent_positions_t *p, uint64_t dev, uint64_t ino)
{
    agent_pos_file_t *x = pos_find(p, dev, ino);
    if (x != NULL) {
        mem_free(x->path);
        *x = p->files[--p->nfiles];
    }
}

static void pos_set_cursor(agent_positions_t *p, const char *c, size_t len, int64_t ts)
{
    mem_free(p->cursor);
    p->cursor = mem_strndup(c, len);
    p->cursor_ts_ns = ts;
}

void agent_positions_put_journal(buf_t *out, int64_t ts_ns, const char *cursor)
{
    buf_printf(out, "J %" PRId64 " %s\n", ts_ns, cursor);
}

void agent_positions_put_file(buf_t *out, const agent_pos_file_t *f)
{
    buf_printf(out, "F %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu32 " %" PRIu32 " ", f->dev, f->ino, f->off, f->fp_len,
               f->fp_crc);
    for (const char *c = f->path ? f->path : ""; *c; c++) {
        if (*c == '\\') {
            buf_puts(out, "\\\\");
        } else if (*c == '\n') {
            buf_puts(out, "\\n");
        } else {
            buf_putc(out, (uint8_t)*c);
        }
    }
    buf_putc(out, '\n');
}

void agent_positions_put_forget(buf_t *out, uint64_t dev, uint64_t ino)
{
    buf_printf(out, "X %" PRIu64 " %" PRIu64 "\n", dev, ino);
}

void agent_positions_put_count(buf_t *out, int input, uint64_t n)
{
    buf_printf(out, "N %d %" PRIu64 "\n", input, n);
}

/* Next space-separated unsigned field of [*p, end); false when missing. */
static bool pos_u64(const char **p, const char *end, uint64_t *v)
{
    const char *s = *p;
    while (s < end && *s == ' ') {
        s++;
    }
    const char *e = s;
    while (e < end && *e != ' ') {
        e++;
    }
    if (e == s || !str_parse_u64(str_from(s, (size_t)(e - s)), v)) {
        return false;
    }
    *p = e < end ? e + 1 : e;
    return true;
}

static bool pos_i64(const char **p, const char *end, int64_t *v)
{
    const char *s = *p;
    const char *e = memchr(s, ' ', (size_t)(end - s));
    e = e ? e : end;
    if (e == s || !str_parse_i64(str_from(s, (size_t)(e - s)), v)) {
        return false;
    }
    *p = e < end ? e + 1 : e;
    return true;
}

/* Apply one line (without '\n'). */
static int pos_line(agent_positions_t *p, const char *s, const char *end, uint64_t *counts)
{
    if (s == end || *s == '#') {
        return 0;
    }
    if (end - s < 2 || s[1] != ' ') {
        return -1;
    }
    char kind = s[0];
    const char *q = s + 2;
    if (kind == 'J') {
        int64_t ts = 0;
        if (!pos_i64(&q, end, &ts) || q == end) {
            return -1;
        }
        pos_set_cursor(p, q, (size_t)(end - q), ts);
        return 0;
    }
    if (kind == 'F') {
        uint64_t v[5];
        for (int i = 0; i < 5; i++) {
            if (!pos_u64(&q, end, &v[i])) {
                return -1;
            }
        }
        if (v[3] > AGENT_POS_FP_MAX || v[4] > UINT32_MAX) {
            return -1;
        }
        char *path = mem_alloc((size_t)(end - q) + 1);
        size_t n = 0;
        for (const char *c = q; c < end; c++) {
            if (*c == '\\' && c + 1 < end) {
                c++;
                path[n++] = *c == 'n' ? '\n' : *c;
            } else {
                path[n++] = *c;
            }
        }
        path[n] = 0;
        agent_pos_file_t f = { v[0], v[1], v[2], (uint32_t)v[3], (uint32_t)v[4], NULL };
        pos_set_file_take(p, &f, path);
        return 0;
    }
    if (kind == 'X') {
        uint64_t dev, ino;
        if (!pos_u64(&q, end, &dev) || !pos_u64(&q, end, &ino)) {
            return -1;
        }
        agent_positions_forget(p, dev, ino);
        return 0;
    }
    if (kind == 'N') {
        uint64_t in, n;
        if (!pos_u64(&q, end, &in) || !pos_u64(&q, end, &n) || in >= AGENT_LOGS_NINPUTS) {
            return -1;
        }
        if (counts) {
            counts[in] += n;
        }
        return 0;
    }
    return -1;
}

int agent_positions_apply(agent_positions_t *p, const char *t, size_t len, uint64_t *counts)
{
    const char *end = t + len;
    while (t < end) {
        const char *nl = memchr(t, '\n', (size_t)(end - t));
        const char *le = nl ? nl : end;
        if (pos_line(p, t, le, counts) != 0) {
            return -1;
        }
        t = nl ? nl + 1 : end;
    }
    return 0;
}

void agent_positions_write(const agent_positions_t *p, buf_t *out)
{
    buf_puts(out, POS_HEADER);
    if (p->cursor) {
        agent_positions_put_journal(out, p->cursor_ts_ns, p->cursor);
    }
    for (size_t i = 0; i < p->nfiles; i++) {
        agent_positions_put_file(out, &p->files[i]);
    }
}

int agent_positions_save(const agent_positions_t *p, const char *path, buf_t *scratch, char *err, size_t errlen)
{
    char tmp[4200];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
        snprintf(err, errlen, "positions %s: path too long", path);
        return -1;
    }
    buf_reset(scratch);
    agent_positions_write(p, scratch);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = fd < 0 ? -errno : fileio_write_all(fd, scratch->data, scratch->len);
    if (rc == 0 && fsync(fd) != 0) {
        rc = -errno;
    }
    if (fd >= 0) {
        close(fd);
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = -errno;
    }
    if (rc != 0) {
        unlink(tmp);
        snprintf(err, errlen, "positions %s: %s", path, strerror(-rc));
        return -1;
    }
    /* The rename itself must survive a crash. */
    char dir[4200];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash != NULL) {
        *slash = 0;
        (void)fileio_fsync_dir(dir[0] ? dir : "/");
    }
    return 0;
}

int agent_positions_load(agent_positions_t *p, const char *path, buf_t *scratch, char *err, size_t errlen)
{
    int rc = coll_read_file(path, "", scratch, 1u << 30);
    if (rc == -ENOENT) {
        return 0;
    }
    if (rc != 0) {
        snprintf(err, errlen, "positions %s: %s", path, strerror(-rc));
        return -1;
    }
    if (agent_positions_apply(p, (const char *)scratch->data, scratch->len, NULL) != 0) {
        snprintf(err, errlen, "positions %s: malformed", path);
        return -1;
    }
    return 0;
}

void agent_positions_min(agent_positions_t *dst, const agent_positions_t *src)
{
    if (src->cursor && (!dst->cursor || src->cursor_ts_ns < dst->cursor_ts_ns)) {
        pos_set_cursor(dst, src->cursor, strlen(src->cursor), src->cursor_ts_ns);
    }
    for (size_t i = 0; i < src->nfiles; i++) {
        const agent_pos_file_t *s = &src->files[i];
        agent_pos_file_t *d = pos_find(dst, s->dev, s->ino);
        if (d == NULL || s->off < d->off) {
            agent_positions_set_file(dst, s);
        }
    }
}

void agent_positions_prune(agent_positions_t *p, bool (*keep)(void *ctx, uint64_t dev, uint64_t ino), void *ctx)
{
    size_t i = 0;
    while (i < p->nfiles) {
        if (keep(ctx, p->files[i].dev, p->files[i].ino)) {
            i++;
        } else {
            mem_free(p->files[i].path);
            p->files[i] = p->files[--p->nfiles];
        }
    }
}

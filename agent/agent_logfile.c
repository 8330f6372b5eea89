/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent_logfile: the file input. Follows the files its sources' globs
 * match (rescanned, no inotify), reads whole lines by each file's open
 * fd and emits one entry per line: plain files with the read time (made
 * strictly increasing per file, so equal lines read together stay
 * distinct), labels filename + static; CRI files (pod logs) with the
 * line's own time, P parts reassembled up to the F part, labels
 * namespace, pod, container (from <ns>_<pod>_<uid>/<container>/<n>.log),
 * stream + static.
 *
 * Positions: a file is known by (dev, inode); off is the next byte to
 * read, ckpt where a restart resumes (the end of the last line emitted,
 * held at the start of an open CRI P chain or an over-long line). Each
 * change ticks the pipeline's clock; agent_logfile_checkpoint writes the
 * files changed since a clock value. A CRC32C fingerprint of the first
 * bytes tells a file from another that got its inode.
 *
 * Rotation: a path naming another inode, or a file no longer matched, is
 * read to its end by its fd (twice at EOF), then forgotten; the path's
 * new file is read after. Truncation: a file shorter than its offset
 * restarts at 0. Bounds: one read buffer of max_line + 4 KiB; a longer
 * line (or reassembled CRI line) is cut to max_line, the rest skipped and
 * counted.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "common/crc32c.h"
#include "common/log.h"
#include "common/mem.h"

#define LF_SLACK 4096
#define LF_ASM_KEEP (64 * 1024) /* reassembly buffers larger are freed after use */
#define LF_EOF_POLLS 2          /* polls at EOF before a rotated file is closed */

enum { LF_STDOUT = 0, LF_STDERR = 1, LF_NONE = 2 }; /* label strings of a CRI file */

typedef struct lf_file {
    char *path;
    uint32_t source;
    int fd;
    uint64_t dev, ino;
    uint64_t off, ckpt;
    uint32_t fp_len, fp_crc;
    uint64_t changed; /* clock value of the last position change */
    bool rotated, seen, skipping;
    unsigned eof_polls;
    /* CRI reassembly, per stream (stdout and stderr chains may interleave) */
    struct lf_chain {
        bool on, cut;
        int64_t ts;
        uint64_t start; /* file offset of the chain's first part */
        buf_t buf;
    } chain[2];
    buf_t labels[3];      /* plain: [0]; CRI: stdout, stderr, none */
    int64_t last_read_ts; /* plain lines: the last read-time stamp given */
} lf_file_t;

typedef struct lf_forget {
    uint64_t dev, ino, at;
} lf_forget_t;

struct agent_logfile {
    agent_logfile_opts_t o;
    lf_file_t *files;
    size_t nfiles, cap;
    lf_forget_t *forgets;
    size_t nforgets, cap_forgets;
    buf_t chunk;
    label_t *ls;
    size_t cap_ls;
    agent_logfile_stats_t st;
};

static void lf_tick(agent_logfile_t *lf, lf_file_t *f)
{
    f->changed = ++*lf->o.clock;
}

/* Fingerprint the first bytes of f (up to AGENT_POS_FP_MAX). */
static void lf_fingerprint(int fd, uint32_t *len, uint32_t *crc)
{
    uint8_t b[AGENT_POS_FP_MAX];
    ssize_t n = pread(fd, b, sizeof(b), 0);
    *len = n > 0 ? (uint32_t)n : 0;
    *crc = crc32c(0, b, *len);
}

static bool lf_fp_matches(int fd, uint32_t len, uint32_t crc)
{
    uint8_t b[AGENT_POS_FP_MAX];
    if (len > sizeof(b)) {
        return false;
    }
    ssize_t n = pread(fd, b, len, 0);
    return n == (ssize_t)len && crc32c(0, b, len) == crc;
}

/* The labels of a file of source s at path into f->labels. */
static void lf_labels(agent_logfile_t *lf, lf_file_t *f)
{
    const agent_logfile_source_t *s = &lf->o.sources[f->source];
    size_t need = s->nlabels + 4;
    if (lf->cap_ls < need) {
        lf->ls = mem_realloc(lf->ls, need * sizeof(*lf->ls));
        lf->cap_ls = need;
    }
    label_t own[4];
    size_t nown = 0;
    if (s->cri) {
        /* .../<ns>_<pod>_<uid>/<container>/<n>.log */
        const char *p = f->path;
        size_t end = strlen(p), cut[3] = { 0, 0, 0 }; /* starts of the last three components */
        int k = 0;
        while (k < 3) {
            size_t j = end;
            while (j > 0 && p[j - 1] != '/') {
                j--;
            }
            cut[2 - k++] = j;
            if (j == 0) {
                break;
            }
            end = j - 1;
        }
        if (k == 3 && cut[1] > cut[0] && cut[2] > cut[1] + 1) {
            str_t dir = str_from(p + cut[0], cut[1] - 1 - cut[0]);
            str_t cont = str_from(p + cut[1], cut[2] - 1 - cut[1]);
            const char *u1 = memchr(dir.p, '_', dir.len);
            const char *u2 = u1 ? memchr(u1 + 1, '_', dir.len - (size_t)(u1 + 1 - dir.p)) : NULL;
            if (u1 && u2 && u1 > dir.p && u2 > u1 + 1) {
                own[nown++] = (label_t){ STR_LIT("container"), cont };
                own[nown++] = (label_t){ STR_LIT("namespace"), str_from(dir.p, (size_t)(u1 - dir.p)) };
                own[nown++] = (label_t){ STR_LIT("pod"), str_from(u1 + 1, (size_t)(u2 - u1 - 1)) };
            }
        }
        if (nown == 0) {
            own[nown++] = (label_t){ STR_LIT("filename"), str_cstr(f->path) };
        }
    } else {
        own[nown++] = (label_t){ STR_LIT("filename"), str_cstr(f->path) };
    }
    static const char *const streams[3] = { "stdout", "stderr", NULL };
    for (int v = 0; v < (s->cri ? 3 : 1); v++) {
        size_t n = 0;
        for (size_t i = 0; i < nown; i++) {
            lf->ls[n++] = own[i];
        }
        if (s->cri && streams[v]) {
            lf->ls[n++] = (label_t){ STR_LIT("stream"), str_cstr(streams[v]) };
        }
        size_t nderived = n;
        for (size_t i = 0; i < s->nlabels; i++) {
            bool clash = false;
            for (size_t j = 0; j < nderived; j++) {
                clash = clash || str_eq(lf->ls[j].name, s->labels[i].name);
            }
            if (!clash) {
                lf->ls[n++] = s->labels[i];
            }
        }
        labels_sort(lf->ls, n);
        agent_loki_labels(lf->ls, n, &f->labels[v]);
    }
}

static lf_file_t *lf_find_inode(agent_logfile_t *lf, uint64_t dev, uint64_t ino)
{
    for (size_t i = 0; i < lf->nfiles; i++) {
        if (lf->files[i].dev == dev && lf->files[i].ino == ino) {
            return &lf->files[i];
        }
    }
    return NULL;
}

bool agent_logfile_known(void *ctx, uint64_t dev, uint64_t ino)
{
    return lf_find_inode(ctx, dev, ino) != NULL;
}

/* Open path of source src and follow it from its resume position (or 0). */
static lf_file_t *lf_add(agent_logfile_t *lf, const char *path, uint32_t src, const agent_positions_t *resume,
                         bool rotated)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || lf_find_inode(lf, (uint64_t)st.st_dev, (uint64_t)st.st_ino)) {
        close(fd);
        return NULL;
    }
    if (lf->nfiles == lf->cap) {
        lf->cap = lf->cap ? lf->cap * 2 : 16;
        lf->files = mem_realloc(lf->files, lf->cap * sizeof(*lf->files));
    }
    lf_file_t *f = &lf->files[lf->nfiles++];
    memset(f, 0, sizeof(*f));
    f->path = mem_strdup(path);
    f->source = src;
    f->fd = fd;
    f->dev = (uint64_t)st.st_dev;
    f->ino = (uint64_t)st.st_ino;
    f->rotated = rotated;
    f->seen = true;
    const agent_pos_file_t *p = resume ? agent_positions_file(resume, f->dev, f->ino) : NULL;
    if (p && lf_fp_matches(fd, p->fp_len, p->fp_crc)) {
        f->off = p->off <= (uint64_t)st.st_size ? p->off : 0;
    }
    f->ckpt = f->off;
    lf_fingerprint(fd, &f->fp_len, &f->fp_crc);
    lf_labels(lf, f);
    lf_tick(lf, f);
    lf->st.files++;
    return f;
}

static void lf_forget(agent_logfile_t *lf, size_t i)
{
    lf_file_t *f = &lf->files[i];
    if (lf->nforgets == lf->cap_forgets) {
        lf->cap_forgets = lf->cap_forgets ? lf->cap_forgets * 2 : 16;
        lf->forgets = mem_realloc(lf->forgets, lf->cap_forgets * sizeof(*lf->forgets));
    }
    lf->forgets[lf->nforgets++] = (lf_forget_t){ f->dev, f->ino, ++*lf->o.clock };
    close(f->fd);
    mem_free(f->path);
    buf_fini(&f->chain[0].buf);
    buf_fini(&f->chain[1].buf);
    for (int v = 0; v < 3; v++) {
        buf_fini(&f->labels[v]);
    }
    /* Keep the order (older files first: a rotated file is read before
     * the new one of its path). */
    memmove(f, f + 1, (lf->nfiles - i - 1) * sizeof(*f));
    lf->nfiles--;
    lf->st.files--;
}

/* The first source whose pattern matches path, or -1. */
static int lf_source_of(const agent_logfile_t *lf, const char *path)
{
    for (size_t s = 0; s < lf->o.nsources; s++) {
        if (fnmatch(lf->o.sources[s].glob, path, FNM_PATHNAME) == 0) {
            return (int)s;
        }
    }
    return -1;
}

/* Remembered files not matched now: look for their inode in their
 * directory (renamed by a rotation while the agent was down). */
static void lf_recover_rotated(agent_logfile_t *lf, const agent_positions_t *resume)
{
    for (size_t i = 0; i < resume->nfiles; i++) {
        const agent_pos_file_t *p = &resume->files[i];
        if (lf_find_inode(lf, p->dev, p->ino) || p->path == NULL) {
            continue;
        }
        int src = lf_source_of(lf, p->path);
        const char *slash = strrchr(p->path, '/');
        if (src < 0 || slash == NULL) {
            continue;
        }
        char dir[4096];
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - p->path), p->path);
        DIR *d = opendir(dir[0] ? dir : "/");
        if (d == NULL) {
            continue;
        }
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if ((uint64_t)e->d_ino != p->ino) {
                continue;
            }
            char path[4400];
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            struct stat st;
            if (stat(path, &st) == 0 && (uint64_t)st.st_dev == p->dev && (uint64_t)st.st_ino == p->ino) {
                /* Labels come from the name it was followed under. */
                lf_file_t *f = lf_add(lf, path, (uint32_t)src, resume, true);
                if (f) {
                    mem_free(f->path);
                    f->path = mem_strdup(p->path);
                    lf_labels(lf, f);
                    log_info("logs: following %s, rotated to %s while stopped", p->path, path);
                }
            }
            break;
        }
        closedir(d);
    }
}

static void lf_scan(agent_logfile_t *lf, const agent_positions_t *resume)
{
    for (size_t i = 0; i < lf->nfiles; i++) {
        lf->files[i].seen = false;
    }
    for (size_t s = 0; s < lf->o.nsources; s++) {
        glob_t g;
        memset(&g, 0, sizeof(g));
        if (glob(lf->o.sources[s].glob, 0, NULL, &g) != 0) {
            globfree(&g);
            continue;
        }
        for (size_t k = 0; k < g.gl_pathc; k++) {
            const char *path = g.gl_pathv[k];
            struct stat st;
            if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
                continue;
            }
            lf_file_t *f = lf_find_inode(lf, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
            if (f != NULL) {
                if (strcmp(f->path, path) != 0) {
                    /* Renamed to a name the pattern matches too: go on
                     * following it there (its labels stay). */
                    mem_free(f->path);
                    f->path = mem_strdup(path);
                    f->rotated = false;
                }
                f->seen = true;
                continue;
            }
            for (size_t i = 0; i < lf->nfiles; i++) {
                if (!lf->files[i].rotated && strcmp(lf->files[i].path, path) == 0) {
                    lf->files[i].rotated = true;
                    lf->files[i].seen = false;
                    lf->st.rotations++;
                }
            }
            lf_add(lf, path, (uint32_t)s, resume, false);
        }
        globfree(&g);
    }
    for (size_t i = 0; i < lf->nfiles; i++) {
        if (!lf->files[i].seen && !lf->files[i].rotated) {
            lf->files[i].rotated = true;
            lf->st.rotations++;
        }
    }
}

void agent_logfile_scan(agent_logfile_t *lf)
{
    lf_scan(lf, NULL);
}

void agent_logfile_destroy(agent_logfile_t *lf)
{
    if (lf == NULL) {
        return;
    }
    while (lf->nfiles > 0) {
        lf_forget(lf, lf->nfiles - 1);
    }
    mem_free(lf->files);
    mem_free(lf->forgets);
    mem_free(lf->ls);
    buf_fini(&lf->chunk);
    mem_free(lf);
}

int agent_logfile_create(const agent_logfile_opts_t *o, const agent_positions_t *resume, agent_logfile_t **out,
                         char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    agent_logfile_t *lf = mem_calloc(1, sizeof(*lf));
    lf->o = *o;
    buf_reserve(&lf->chunk, o->max_line + LF_SLACK);
    lf_scan(lf, resume);
    if (resume) {
        lf_recover_rotated(lf, resume);
    }
    *out = lf;
    return 0;
}

static void lf_emit(agent_logfile_t *lf, lf_file_t *f, int which, int64_t ts, str_t line)
{
    if (line.len > lf->o.max_line) {
        line.len = lf->o.max_line;
        lf->st.truncated_lines++;
    }
    lf->st.lines++;
    str_t labels = str_from((const char *)f->labels[which].data, f->labels[which].len);
    lf->o.emit(lf->o.emit_ctx, labels, ts, line);
}

/* Append content to a chain, bounded by max_line. */
static void lf_chain_append(agent_logfile_t *lf, struct lf_chain *c, str_t x)
{
    size_t room = lf->o.max_line - c->buf.len;
    if (x.len > room) {
        x.len = room;
        c->cut = true;
    }
    buf_append(&c->buf, x.p, x.len);
}

static void lf_chain_done(struct lf_chain *c)
{
    c->on = false;
    c->cut = false;
    if (c->buf.cap > LF_ASM_KEEP) {
        buf_fini(&c->buf);
    }
    buf_reset(&c->buf);
}

/* A record ended at end: the checkpoint moves there, or to the start of
 * a chain still open (which a restart must read whole). */
static void lf_advance(agent_logfile_t *lf, lf_file_t *f, uint64_t end)
{
    for (int i = 0; i < 2; i++) {
        if (f->chain[i].on && f->chain[i].start < end) {
            end = f->chain[i].start;
        }
    }
    if (end > f->ckpt) {
        f->ckpt = end;
        lf_tick(lf, f);
    }
}

/* One physical line [p, p+len) at file offsets [start, end) (end: the
 * byte after its '\n'); cut: the line was longer than the read buffer
 * (the rest is skipped, and the position moves when the skip ends). */
static void lf_line(agent_logfile_t *lf, lf_file_t *f, const char *p, size_t len, uint64_t start, uint64_t end,
                    bool cut, int64_t now_ns)
{
    const agent_logfile_source_t *s = &lf->o.sources[f->source];
    if (!s->cri) {
        if (!cut) {
            lf_advance(lf, f, end);
        }
        /* Read-time stamps strictly increase per file: lines read in one
         * poll would otherwise share one, and a store (pharosd, Loki)
         * keeps one copy of equal lines at an equal time in a stream. */
        f->last_read_ts = now_ns > f->last_read_ts ? now_ns : f->last_read_ts + 1;
        lf_emit(lf, f, 0, f->last_read_ts, str_from(p, len));
        return;
    }
    agent_cri_line_t c;
    size_t errpos = 0;
    if (agent_cri_parse(p, len, &c, &errpos) != 0) {
        lf->st.malformed++;
        if (!cut) {
            lf_advance(lf, f, end);
        }
        lf_emit(lf, f, LF_NONE, now_ns, str_from(p, len));
        return;
    }
    struct lf_chain *ch = &f->chain[c.stream == AGENT_CRI_STDERR ? 1 : 0];
    if (!ch->on) {
        ch->on = true;
        ch->ts = c.ts_ns;
        ch->start = start;
        buf_reset(&ch->buf);
    }
    ch->cut = ch->cut || cut;
    if (c.partial) {
        lf_chain_append(lf, ch, c.content);
        return;
    }
    str_t line = c.content;
    if (ch->buf.len > 0 || ch->cut) {
        lf_chain_append(lf, ch, c.content);
        line = str_from((const char *)ch->buf.data, ch->buf.len);
    }
    if (ch->cut) {
        lf->st.truncated_lines++;
    }
    int64_t ts = ch->ts;
    ch->on = false; /* closed before the checkpoint moves past it */
    if (!cut) {
        lf_advance(lf, f, end);
    }
    lf_emit(lf, f, c.stream == AGENT_CRI_STDERR ? LF_STDERR : LF_STDOUT, ts, line);
    lf_chain_done(ch);
}

/* Read f from off: whole lines, up to budget bytes. Returns entries. */
static size_t lf_read(agent_logfile_t *lf, lf_file_t *f, size_t budget, int64_t now_ns, bool *at_eof)
{
    size_t before = lf->st.lines;
    size_t cap = lf->o.max_line + LF_SLACK;
    size_t done = 0;
    *at_eof = false;
    while (done < budget) {
        ssize_t n = pread(f->fd, lf->chunk.data, cap, (off_t)f->off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            *at_eof = true;
            break;
        }
        const char *b = (const char *)lf->chunk.data, *end = b + n, *p = b;
        if (f->skipping) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (nl == NULL) {
                f->off += (uint64_t)n;
                done += (size_t)n;
                continue;
            }
            p = nl + 1;
            f->skipping = false;
            lf_advance(lf, f, f->off + (uint64_t)(p - b));
        }
        const char *nl;
        while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            lf_line(lf, f, p, (size_t)(nl - p), f->off + (uint64_t)(p - b), f->off + (uint64_t)(nl + 1 - b), false,
                    now_ns);
            p = nl + 1;
        }
        if (p == b && (size_t)n == cap) {
            /* One line longer than the buffer: keep its start, skip the rest. */
            lf_line(lf, f, p, (size_t)n, f->off, 0, true, now_ns);
            f->skipping = true;
            p = end;
        }
        f->off += (uint64_t)(p - b);
        done += (size_t)(p - b);
        if ((size_t)n < cap) {
            *at_eof = true; /* the file's end (or a line still being written) */
            break;
        }
    }
    return lf->st.lines - before;
}

/* Is a rotated file with f's path still being read? */
static bool lf_blocked(const agent_logfile_t *lf, const lf_file_t *f)
{
    for (size_t i = 0; i < lf->nfiles; i++) {
        const lf_file_t *g = &lf->files[i];
        if (g != f && g->rotated && !f->rotated && strcmp(g->path, f->path) == 0) {
            return true;
        }
    }
    return false;
}

size_t agent_logfile_poll(agent_logfile_t *lf, size_t budget, int64_t now_ns)
{
    size_t total = 0;
    size_t i = 0;
    while (i < lf->nfiles) {
        lf_file_t *f = &lf->files[i];
        if (lf_blocked(lf, f)) {
            i++;
            continue;
        }
        struct stat st;
        if (fstat(f->fd, &st) == 0 && (uint64_t)st.st_size < f->off) {
            log_info("logs: %s truncated (size %lld < offset %llu), reading from the start", f->path,
                     (long long)st.st_size, (unsigned long long)f->off);
            f->off = f->ckpt = 0;
            f->skipping = false;
            lf_chain_done(&f->chain[0]);
            lf_chain_done(&f->chain[1]);
            lf_fingerprint(f->fd, &f->fp_len, &f->fp_crc);
            lf_tick(lf, f);
            lf->st.truncations++;
        }
        bool eof = false;
        size_t n = lf_read(lf, f, budget, now_ns, &eof);
        total += n;
        if (f->fp_len < AGENT_POS_FP_MAX && n > 0) {
            lf_fingerprint(f->fd, &f->fp_len, &f->fp_crc);
        }
        if (f->rotated && eof && n == 0 && ++f->eof_polls >= LF_EOF_POLLS) {
            lf_forget(lf, i);
            continue;
        }
        if (n > 0) {
            f->eof_polls = 0;
        }
        i++;
    }
    return total;
}

void agent_logfile_checkpoint(agent_logfile_t *lf, uint64_t since, buf_t *out)
{
    for (size_t i = 0; i < lf->nfiles; i++) {
        const lf_file_t *f = &lf->files[i];
        if (f->changed > since) {
            agent_pos_file_t p = { f->dev, f->ino, f->ckpt, f->fp_len, f->fp_crc, f->path };
            agent_positions_put_file(out, &p);
        }
    }
    for (size_t i = 0; i < lf->nforgets; i++) {
        if (lf->forgets[i].at > since) {
            agent_positions_put_forget(out, lf->forgets[i].dev, lf->forgets[i].ino);
        }
    }
}

void agent_logfile_prune(agent_logfile_t *lf, uint64_t upto)
{
    size_t k = 0;
    for (size_t i = 0; i < lf->nforgets; i++) {
        if (lf->forgets[i].at > upto) {
            lf->forgets[k++] = lf->forgets[i];
        }
    }
    lf->nforgets = k;
}

void agent_logfile_stats(const agent_logfile_t *lf, agent_logfile_stats_t *st)
{
    *st = lf->st;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logs_merge: one stream's entries, from any number of block chunks and
 * heads, in time order and without exact duplicates.
 *
 * Sources are sorted by start time and grouped into clusters of
 * overlapping time ranges; two clusters never share a timestamp, so
 * duplicates (equal ts and line) always meet inside one cluster, and a
 * cluster can be emitted as soon as it is merged. Clusters are walked
 * oldest first, or newest first when reading backward, and only the
 * current one is decoded: a reader that stops early never touches older
 * chunks. Inside a cluster, sources are merged k-way in rank order, so
 * equal timestamps keep arrival order (the earlier block first, the head
 * last); a single-source cluster is passed through without copying.
 */
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/mem.h"
#include "logs/logs_int.h"

#define LOGS_DEDUP_SCAN 16 /* equal-ts runs up to this size are compared pairwise */

typedef struct logs_dedup_key {
    const logs_row_t *rows;
    str_t line;
} logs_dedup_key_t;

static bool logs_dedup_eq(void *ctx, uint64_t value)
{
    const logs_dedup_key_t *k = ctx;
    return str_eq(k->rows[value].line, k->line);
}

size_t logs_rows_dedup(logs_row_t *rows, size_t n)
{
    size_t out = 0;
    hmap_t seen;
    hmap_init(&seen);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && rows[j].ts == rows[i].ts) {
            j++;
        }
        size_t run = out;
        if (j - i > LOGS_DEDUP_SCAN) {
            hmap_fini(&seen);
            hmap_init(&seen);
        }
        for (size_t k = i; k < j; k++) {
            bool dup = false;
            if (j - i <= LOGS_DEDUP_SCAN) {
                for (size_t r = run; r < out && !dup; r++) {
                    dup = str_eq(rows[r].line, rows[k].line);
                }
            } else {
                uint64_t h = hash_bytes(rows[k].line.p, rows[k].line.len), found;
                logs_dedup_key_t key = { rows, rows[k].line };
                dup = hmap_get(&seen, h, logs_dedup_eq, &key, &found);
                if (!dup) {
                    hmap_put(&seen, h, out);
                }
            }
            if (!dup) {
                rows[out++] = rows[k];
            }
        }
        i = j;
    }
    hmap_fini(&seen);
    return out;
}

static int logs_src_cmp(const void *a, const void *b)
{
    const logs_source_t *x = a, *y = b;
    if (x->mint != y->mint) {
        return x->mint < y->mint ? -1 : 1;
    }
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

static int logs_src_rank_cmp(const void *a, const void *b)
{
    const logs_source_t *x = a, *y = b;
    return x->rank < y->rank ? -1 : x->rank > y->rank;
}

/* Merge cluster src[0..n) and call fn. */
static int logs_merge_cluster(logs_merge_t *m, logs_source_t *src, size_t n, logs_merge_fn fn, logs_merge_bad_fn bad,
                              void *ctx)
{
    if (m->ndec < n) {
        m->dec = mem_realloc(m->dec, n * sizeof(logs_decoded_t));
        memset(m->dec + m->ndec, 0, (n - m->ndec) * sizeof(logs_decoded_t));
        m->rows = mem_realloc(m->rows, n * sizeof(*m->rows));
        m->nrows = mem_realloc(m->nrows, n * sizeof(size_t));
        m->pos = mem_realloc(m->pos, n * sizeof(size_t));
        m->ndec = n;
    }
    if (n > 1) {
        qsort(src, n, sizeof(*src), logs_src_rank_cmp);
    }
    size_t total = 0, live = 0;
    for (size_t i = 0; i < n; i++) {
        m->rows[i] = src[i].rows;
        m->nrows[i] = src[i].nrows;
        m->pos[i] = 0;
        if (src[i].block) {
            int rc = logs_block_read(src[i].block, src[i].chunk, src[i].skip, &m->dec[i]);
            m->reads++;
            if (rc != 0) {
                if (bad) {
                    bad(ctx, src[i].block, rc);
                }
                m->nrows[i] = 0;
                continue;
            }
            m->rows[i] = m->dec[i].rows;
            m->nrows[i] = m->dec[i].n;
        }
        total += m->nrows[i];
        live += m->nrows[i] > 0;
    }
    if (total == 0) {
        return 0;
    }
    if (live == 1) {
        for (size_t i = 0; i < n; i++) {
            if (m->nrows[i]) {
                return fn(ctx, m->rows[i], m->nrows[i]);
            }
        }
    }
    if (m->outcap < total) {
        m->outcap = total;
        m->out = mem_realloc(m->out, total * sizeof(logs_row_t));
    }
    for (size_t k = 0; k < total; k++) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < n; i++) {
            if (m->pos[i] < m->nrows[i] &&
                (best == SIZE_MAX || m->rows[i][m->pos[i]].ts < m->rows[best][m->pos[best]].ts)) {
                best = i;
            }
        }
        m->out[k] = m->rows[best][m->pos[best]++];
    }
    return fn(ctx, m->out, logs_rows_dedup(m->out, total));
}

void logs_merge_fini(logs_merge_t *m)
{
    for (size_t i = 0; i < m->ndec; i++) {
        logs_decoded_fini(&m->dec[i]);
    }
    mem_free(m->dec);
    mem_free(m->out);
    mem_free(m->rows);
    mem_free(m->nrows);
    mem_free(m->pos);
    mem_free(m->ends);
    memset(m, 0, sizeof(*m));
}

int logs_merge(logs_merge_t *m, logs_source_t *src, size_t n, bool backward, logs_merge_fn fn, logs_merge_bad_fn bad,
               void *ctx)
{
    if (n == 0) {
        return 0;
    }
    if (n > 1) {
        qsort(src, n, sizeof(*src), logs_src_cmp);
    }
    /* Cluster starts: ends[c] is one past the last source of cluster c. */
    if (m->endscap < n) {
        m->endscap = n;
        m->ends = mem_realloc(m->ends, n * sizeof(size_t));
    }
    size_t *ends = m->ends;
    size_t nc = 0;
    int64_t maxt = src[0].maxt;
    for (size_t i = 1; i < n; i++) {
        if (src[i].mint > maxt) {
            ends[nc++] = i;
        }
        maxt = src[i].maxt > maxt ? src[i].maxt : maxt;
    }
    ends[nc++] = n;
    int rc = 0;
    for (size_t k = 0; k < nc && rc == 0; k++) {
        size_t c = backward ? nc - 1 - k : k;
        size_t from = c == 0 ? 0 : ends[c - 1];
        rc = logs_merge_cluster(m, src + from, ends[c] - from, fn, bad, ctx);
    }
    return rc;
}

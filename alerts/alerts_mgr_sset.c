/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_mgr_sset: the set of label sets a rule wrote in its last
 * evaluation, so that the next evaluation can write a stale marker for
 * every series that vanished (Prometheus' seriesInPreviousEval).
 *
 * A set is one byte buffer of canonical label encodings (labels_encode)
 * plus an entry array (hash, offset, length). Adds append; finish sorts
 * by (hash, bytes) and drops repeats, after which membership is a binary
 * search. One set is built per evaluation and moved over the previous
 * one, so the steady state allocates nothing new.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "alerts/alerts_int.h"
#include "common/mem.h"
#include "tsdb/tsdb.h"

void mgr_sset_init(mgr_sset_t *s)
{
    memset(s, 0, sizeof(*s));
    buf_init(&s->bytes);
}

void mgr_sset_fini(mgr_sset_t *s)
{
    buf_fini(&s->bytes);
    mem_free(s->e);
    memset(s, 0, sizeof(*s));
}

void mgr_sset_add(mgr_sset_t *s, const label_t *ls, size_t n)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->e = mem_realloc(s->e, s->cap * sizeof(*s->e));
    }
    size_t off = s->bytes.len;
    labels_encode(ls, n, &s->bytes);
    s->e[s->n++] =
        (mgr_sset_entry_t){ .hash = labels_hash(ls, n), .off = (uint32_t)off, .len = (uint32_t)(s->bytes.len - off) };
}

/* The sort needs the bytes: entries are compared through a context. */
typedef struct sset_cmp_ctx {
    const uint8_t *base;
} sset_cmp_ctx_t;

static int sset_cmp(const mgr_sset_entry_t *a, const uint8_t *abase, const mgr_sset_entry_t *b, const uint8_t *bbase)
{
    if (a->hash != b->hash) {
        return a->hash < b->hash ? -1 : 1;
    }
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(abase + a->off, bbase + b->off, n);
    if (c != 0) {
        return c;
    }
    return a->len < b->len ? -1 : a->len > b->len;
}

static int sset_qsort_cmp(const void *x, const void *y, void *ctx)
{
    const uint8_t *base = ((sset_cmp_ctx_t *)ctx)->base;
    return sset_cmp(x, base, y, base);
}

void mgr_sset_finish(mgr_sset_t *s)
{
    if (s->n == 0) {
        return;
    }
    sset_cmp_ctx_t ctx = { .base = s->bytes.data };
    qsort_r(s->e, s->n, sizeof(*s->e), sset_qsort_cmp, &ctx);
    size_t w = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (w > 0 && sset_cmp(&s->e[w - 1], s->bytes.data, &s->e[i], s->bytes.data) == 0) {
            continue;
        }
        s->e[w++] = s->e[i];
    }
    s->n = w;
}

bool mgr_sset_has(const mgr_sset_t *s, const mgr_sset_t *in, size_t i)
{
    const mgr_sset_entry_t *k = &in->e[i];
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = sset_cmp(&s->e[mid], s->bytes.data, k, in->bytes.data);
        if (c == 0) {
            return true;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return false;
}

size_t mgr_sset_get(const mgr_sset_t *s, size_t i, label_t *ls)
{
    long n = labels_decode(s->bytes.data + s->e[i].off, s->e[i].len, ls, TSDB_MAX_LABELS);
    return n < 0 ? 0 : (size_t)n;
}

void mgr_sset_move(mgr_sset_t *dst, mgr_sset_t *src)
{
    mgr_sset_fini(dst);
    *dst = *src;
    mgr_sset_init(src);
}

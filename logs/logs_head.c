/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logs_head: a stream's entries in memory until a cut writes them into a
 * block.
 *
 * Entries are kept sorted by (ts, arrival) in one array of small fixed
 * records; line and metadata bytes go to an append-only buffer, so an
 * out-of-order entry moves 24-byte records, never line bytes. In-order
 * entries (the common case) append in O(1). An entry whose (ts, line) is
 * already present is refused: entries of equal ts are compared by a
 * 32-bit line hash, then length, then bytes, so an agent re-sending a
 * batch costs one binary search and a short scan per entry.
 *
 * Invariants: e[0..n) sorted by ts, equal ts in arrival order; no two
 * entries with equal (ts, line); mint/maxt are e[0].ts and e[n-1].ts;
 * line_bytes is the sum of len.
 */
#include <string.h>

#include "common/hash.h"
#include "common/mem.h"
#include "logs/logs_int.h"

void logs_head_fini(logs_head_t *h)
{
    mem_free(h->e);
    buf_fini(&h->data);
    memset(h, 0, sizeof(*h));
}

uint32_t logs_head_hash(str_t line)
{
    return (uint32_t)hash_bytes(line.p, line.len);
}

/* First index with e[i].ts >= ts (lower) or > ts (upper). */
static uint32_t logs_head_bound(const logs_head_t *h, int64_t ts, bool upper)
{
    uint32_t lo = 0, hi = h->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        bool go_right = upper ? h->e[mid].ts <= ts : h->e[mid].ts < ts;
        if (go_right) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

bool logs_head_contains(const logs_head_t *h, int64_t ts, str_t line, uint32_t hash)
{
    if (h->n == 0 || ts < h->mint || ts > h->maxt) {
        return false;
    }
    for (uint32_t i = logs_head_bound(h, ts, false); i < h->n && h->e[i].ts == ts; i++) {
        const logs_hent_t *e = &h->e[i];
        if (e->hash == hash && e->len == line.len && memcmp(h->data.data + e->off, line.p, line.len) == 0) {
            return true;
        }
    }
    return false;
}

int logs_head_insert(logs_head_t *h, int64_t ts, str_t line, str_t meta)
{
    uint32_t hash = logs_head_hash(line);
    if (logs_head_contains(h, ts, line, hash)) {
        return 0;
    }
    if (h->data.len + line.len + meta.len > LOGS_HEAD_MAX_DATA) {
        return -1;
    }
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 64;
        h->e = mem_realloc(h->e, h->cap * sizeof(logs_hent_t));
    }
    logs_hent_t ent = { ts, (uint32_t)h->data.len, (uint32_t)line.len, (uint32_t)meta.len, hash };
    buf_append(&h->data, line.p, line.len);
    buf_append(&h->data, meta.p, meta.len);
    uint32_t at = h->n;
    if (h->n > 0 && ts < h->maxt) {
        at = logs_head_bound(h, ts, true);
        memmove(&h->e[at + 1], &h->e[at], (h->n - at) * sizeof(logs_hent_t));
    }
    h->e[at] = ent;
    h->n++;
    h->line_bytes += line.len;
    h->mint = h->e[0].ts;
    h->maxt = h->e[h->n - 1].ts;
    return 1;
}

static void logs_head_range(const logs_head_t *h, int64_t start, int64_t end, uint32_t *from, uint32_t *to)
{
    *from = logs_head_bound(h, start, false);
    *to = end == INT64_MIN ? 0 : logs_head_bound(h, end - 1, true);
    if (*to < *from) {
        *to = *from;
    }
}

void logs_head_rows(const logs_head_t *h, int64_t start, int64_t end, arena_t *a, logs_row_t **rows, size_t *n)
{
    uint32_t from, to;
    logs_head_range(h, start, end, &from, &to);
    *n = to - from;
    *rows = arena_alloc(a, (*n ? *n : 1) * sizeof(logs_row_t));
    for (uint32_t i = from; i < to; i++) {
        const logs_hent_t *e = &h->e[i];
        const char *p = (const char *)h->data.data + e->off;
        (*rows)[i - from] = (logs_row_t){ e->ts, str_from(p, e->len), str_from(p + e->len, e->mlen) };
    }
}

void logs_head_copy(const logs_head_t *h, int64_t start, int64_t end, arena_t *a, logs_row_t **rows, size_t *n)
{
    logs_head_rows(h, start, end, a, rows, n);
    size_t total = 0;
    for (size_t i = 0; i < *n; i++) {
        total += (*rows)[i].line.len + (*rows)[i].meta.len;
    }
    char *dst = arena_alloc(a, total ? total : 1);
    for (size_t i = 0; i < *n; i++) {
        logs_row_t *r = &(*rows)[i];
        memcpy(dst, r->line.p, r->line.len);
        r->line.p = dst;
        dst += r->line.len;
        if (r->meta.len) {
            memcpy(dst, r->meta.p, r->meta.len);
        }
        r->meta.p = dst;
        dst += r->meta.len;
    }
}

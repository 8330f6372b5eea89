/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logs_filter: the per-chunk token filter that lets `|= "needle"` skip
 * chunks (format in logs_int.h).
 *
 * Keys are the 3-byte windows of each line, so a substring query can be
 * answered: a literal occurs in a line only if every one of its windows
 * does. The builder first collects the distinct windows in a 2^24-bit
 * set (one bit per possible window, 2 MiB, allocated once per builder and
 * cleared key by key), so the bloom filter is sized from the exact number
 * of distinct keys and each key is hashed once, whatever the chunk size.
 * Probes use double hashing over hash_bytes (common/hash.h), so the query
 * side needs only the literal. False positives cost a chunk read; there
 * are no false negatives.
 */
#include <string.h>

#include "common/hash.h"
#include "common/mem.h"
#include "logs/logs_int.h"

#define LOGS_FILTER_SPACE (1u << 24)

void logs_filter_builder_init(logs_filter_builder_t *b)
{
    memset(b, 0, sizeof(*b));
}

void logs_filter_builder_fini(logs_filter_builder_t *b)
{
    mem_free(b->seen);
    mem_free(b->keys);
    memset(b, 0, sizeof(*b));
}

void logs_filter_add(logs_filter_builder_t *b, const char *p, size_t len)
{
    if (len < 3) {
        return;
    }
    if (!b->seen) {
        b->seen = mem_calloc(LOGS_FILTER_SPACE / 64, sizeof(uint64_t));
    }
    const uint8_t *u = (const uint8_t *)p;
    uint32_t key = (uint32_t)u[0] << 8 | u[1];
    for (size_t i = 2; i < len; i++) {
        key = ((key << 8) | u[i]) & (LOGS_FILTER_SPACE - 1);
        uint64_t bit = 1ull << (key & 63);
        uint64_t *w = &b->seen[key >> 6];
        if (*w & bit) {
            continue;
        }
        *w |= bit;
        if (b->nkeys == b->capkeys) {
            b->capkeys = b->capkeys ? b->capkeys * 2 : 4096;
            b->keys = mem_realloc(b->keys, b->capkeys * sizeof(uint32_t));
        }
        b->keys[b->nkeys++] = key;
    }
}

static void logs_filter_probe(uint32_t key, uint64_t *h1, uint64_t *h2)
{
    uint8_t k[3] = { (uint8_t)(key >> 16), (uint8_t)(key >> 8), (uint8_t)key };
    uint64_t h = hash_bytes(k, 3);
    *h1 = (uint32_t)h;
    *h2 = (h >> 32) | 1;
}

void logs_filter_finish(logs_filter_builder_t *b, buf_t *out)
{
    size_t m = 0;
    if (b->nkeys > 0) {
        m = (b->nkeys * LOGS_FILTER_BITS_PER_KEY + 63) / 64 * 8;
    }
    buf_putc(out, LOGS_FILTER_K);
    buf_reserve(out, m);
    uint8_t *bits = out->data + out->len;
    memset(bits, 0, m);
    uint64_t mbits = (uint64_t)m * 8;
    for (size_t i = 0; i < b->nkeys; i++) {
        uint32_t key = b->keys[i];
        b->seen[key >> 6] &= ~(1ull << (key & 63));
        uint64_t h1, h2;
        logs_filter_probe(key, &h1, &h2);
        for (uint64_t j = 0; j < LOGS_FILTER_K; j++) {
            uint64_t bit = (h1 + j * h2) % mbits;
            bits[bit >> 3] |= (uint8_t)(1u << (bit & 7));
        }
    }
    out->len += m;
    out->data[out->len] = 0;
    b->nkeys = 0;
}

bool logs_filter_may_contain(const uint8_t *f, size_t len, str_t lit)
{
    if (lit.len < 3) {
        return true;
    }
    if (len < 1 || f[0] < 1 || f[0] > 16) {
        return true;
    }
    uint64_t mbits = (uint64_t)(len - 1) * 8;
    if (mbits == 0) {
        return false;
    }
    const uint8_t *bits = f + 1;
    const uint8_t *u = (const uint8_t *)lit.p;
    for (size_t i = 2; i < lit.len; i++) {
        uint32_t key = (uint32_t)u[i - 2] << 16 | (uint32_t)u[i - 1] << 8 | u[i];
        uint64_t h1, h2;
        logs_filter_probe(key, &h1, &h2);
        for (uint64_t j = 0; j < f[0]; j++) {
            uint64_t bit = (h1 + j * h2) % mbits;
            if (!(bits[bit >> 3] & (1u << (bit & 7)))) {
                return false;
            }
        }
    }
    return true;
}

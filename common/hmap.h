/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hmap: open-addressing hash multimap from a 64-bit hash to a 64-bit value.
 *
 * The caller computes the hash and resolves collisions: several entries may
 * share a hash, and lookups visit each candidate value until the caller's
 * predicate accepts one. Linear probing, power-of-two capacity, load factor
 * at most 1/2, deletion by backward shift (no tombstones). Not thread-safe.
 */
#ifndef PHAROS_COMMON_HMAP_H
#define PHAROS_COMMON_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hmap_entry {
    uint64_t hash;
    uint64_t value;
} hmap_entry_t;

typedef struct hmap {
    hmap_entry_t *slots; /* cap slots; a slot is empty when used[] bit clear */
    uint8_t *used;
    size_t cap;
    size_t len;
} hmap_t;

/* Predicate: true when value is the entry the caller looks for. */
typedef bool (*hmap_eq_fn)(void *ctx, uint64_t value);

void hmap_init(hmap_t *m);
void hmap_fini(hmap_t *m);
/* Add an entry (duplicates of hash allowed). O(1) amortised. */
void hmap_put(hmap_t *m, uint64_t hash, uint64_t value);
/* First value with this hash accepted by eq (eq NULL accepts any): true and
 * *out set, or false. */
bool hmap_get(const hmap_t *m, uint64_t hash, hmap_eq_fn eq, void *ctx, uint64_t *out);
/* Remove the entry (hash, value); true if it was present. */
bool hmap_del(hmap_t *m, uint64_t hash, uint64_t value);
static inline size_t hmap_len(const hmap_t *m)
{
    return m->len;
}

#endif

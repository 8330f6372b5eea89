/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hmap: linear-probing multimap from a caller's 64-bit hash to a 64-bit
 * value. See hmap.h.
 *
 * Layout: cap slots (a power of two, 0 before the first put) and a bitmap
 * used[] with one bit per slot. An entry's home slot is the hash mixed by a
 * Fibonacci multiply and taken from the top bits, so callers whose hashes
 * are weak in the low bits (sequential ids) still spread.
 *
 * Invariants: len <= cap / 2 after every put (the table doubles first);
 * every entry sits in the probe run that starts at its home slot, with no
 * empty slot between home and entry. Deletion keeps that without tombstones
 * by backward shift: after emptying slot i, each following entry of the run
 * whose home is not cyclically inside (i, j] moves back into the hole.
 */
#include "common/hmap.h"

#include <assert.h>
#include <string.h>

#include "common/mem.h"

#define HMAP_MIN_CAP 8

static size_t hmap_home(size_t cap, uint64_t hash)
{
    unsigned bits = (unsigned)__builtin_ctzll((unsigned long long)cap);
    uint64_t mixed = hash * 0x9E3779B97F4A7C15ull;
    return bits ? (size_t)(mixed >> (64 - bits)) : 0;
}

static bool hmap_used(const uint8_t *used, size_t i)
{
    return (used[i >> 3] >> (i & 7)) & 1;
}

static void hmap_set_used(uint8_t *used, size_t i, bool on)
{
    if (on) {
        used[i >> 3] |= (uint8_t)(1u << (i & 7));
    } else {
        used[i >> 3] &= (uint8_t) ~(1u << (i & 7));
    }
}

void hmap_init(hmap_t *m)
{
    m->slots = NULL;
    m->used = NULL;
    m->cap = 0;
    m->len = 0;
}

void hmap_fini(hmap_t *m)
{
    if (!m) {
        return;
    }
    mem_free(m->slots);
    mem_free(m->used);
    hmap_init(m);
}

static void hmap_insert(hmap_entry_t *slots, uint8_t *used, size_t cap, uint64_t hash, uint64_t value)
{
    size_t mask = cap - 1;
    size_t i = hmap_home(cap, hash);
    while (hmap_used(used, i)) {
        i = (i + 1) & mask;
    }
    slots[i] = (hmap_entry_t){ .hash = hash, .value = value };
    hmap_set_used(used, i, true);
}

static void hmap_grow(hmap_t *m)
{
    size_t cap = m->cap ? m->cap * 2 : HMAP_MIN_CAP;
    hmap_entry_t *slots = mem_calloc(cap, sizeof(*slots));
    uint8_t *used = mem_calloc(cap / 8, 1);
    for (size_t i = 0; i < m->cap; i++) {
        if (hmap_used(m->used, i)) {
            hmap_insert(slots, used, cap, m->slots[i].hash, m->slots[i].value);
        }
    }
    mem_free(m->slots);
    mem_free(m->used);
    m->slots = slots;
    m->used = used;
    m->cap = cap;
}

void hmap_put(hmap_t *m, uint64_t hash, uint64_t value)
{
    if ((m->len + 1) * 2 > m->cap) {
        hmap_grow(m);
    }
    hmap_insert(m->slots, m->used, m->cap, hash, value);
    m->len++;
}

bool hmap_get(const hmap_t *m, uint64_t hash, hmap_eq_fn eq, void *ctx, uint64_t *out)
{
    if (m->cap == 0) {
        return false;
    }
    size_t mask = m->cap - 1;
    for (size_t i = hmap_home(m->cap, hash); hmap_used(m->used, i); i = (i + 1) & mask) {
        const hmap_entry_t *e = &m->slots[i];
        if (e->hash == hash && (!eq || eq(ctx, e->value))) {
            *out = e->value;
            return true;
        }
    }
    return false;
}

bool hmap_del(hmap_t *m, uint64_t hash, uint64_t value)
{
    if (m->cap == 0) {
        return false;
    }
    size_t mask = m->cap - 1;
    size_t i = hmap_home(m->cap, hash);
    while (hmap_used(m->used, i) && !(m->slots[i].hash == hash && m->slots[i].value == value)) {
        i = (i + 1) & mask;
    }
    if (!hmap_used(m->used, i)) {
        return false;
    }
    /* i is the hole; pull back later entries of the run that may fill it. */
    for (size_t j = (i + 1) & mask; hmap_used(m->used, j); j = (j + 1) & mask) {
        size_t home = hmap_home(m->cap, m->slots[j].hash);
        if (((j - home) & mask) >= ((j - i) & mask)) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    hmap_set_used(m->used, i, false);
    m->len--;
    assert(m->len < m->cap);
    return true;
}

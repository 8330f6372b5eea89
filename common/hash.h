/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hash: the one 64-bit hash of Pharos (XXH3 from libxxhash). Series ids,
 * hash maps and bloom filters all use it, so equal bytes hash equally
 * everywhere.
 */
#ifndef PHAROS_COMMON_HASH_H
#define PHAROS_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t hash_bytes(const void *p, size_t n);
uint64_t hash_bytes_seed(const void *p, size_t n, uint64_t seed);
/* 128-bit XXH3 of p[0..n) as two halves. */
void hash_bytes128(const void *p, size_t n, uint64_t *lo, uint64_t *hi);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hash: XXH3-64 from libxxhash. See hash.h.
 */
#include "common/hash.h"

#include <xxhash.h>

uint64_t hash_bytes(const void *p, size_t n)
{
    return XXH3_64bits(p, n);
}

uint64_t hash_bytes_seed(const void *p, size_t n, uint64_t seed)
{
    return XXH3_64bits_withSeed(p, n, seed);
}

void hash_bytes128(const void *p, size_t n, uint64_t *lo, uint64_t *hi)
{
    XXH128_hash_t h = XXH3_128bits(p, n);
    *lo = h.low64;
    *hi = h.high64;
}

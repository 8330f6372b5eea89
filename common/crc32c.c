/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crc32c: CRC-32C (reflected polynomial 0x82F63B78), pre- and post-inverted
 * so that crc32c(crc32c(0, a), b) == crc32c(0, a || b). See crc32c.h.
 *
 * Two paths give identical results:
 *   - hardware: the SSE4.2 crc32 instruction, 8 bytes per step, chosen at
 *     run time with __builtin_cpu_supports (the function is compiled with
 *     target("sse4.2") so the rest of the file needs no special flags);
 *   - software: slicing-by-8, eight 256-entry tables where table k maps a
 *     byte to its CRC contribution k bytes further back in the stream.
 *
 * The tables are the one piece of process-wide state. They are written
 * exactly once, under pthread_once, and are read-only afterwards; this is
 * the sanctioned exception to "no mutable globals" (STYLE.md rule 8) because
 * a 8 KiB literal would be unreadable and recomputing per call too slow.
 * Unaligned loads go through memcpy; the code assumes a little-endian host
 * (checked at compile time).
 */
#include "common/crc32c.h"

#include <pthread.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "crc32c.c assumes a little-endian host"
#endif

#define CRC32C_POLY 0x82F63B78u

static uint32_t crc32c_table[8][256];
static pthread_once_t crc32c_table_once = PTHREAD_ONCE_INIT;

static void crc32c_table_build(void)
{
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t c = b;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
        }
        crc32c_table[0][b] = c;
    }
    for (uint32_t b = 0; b < 256; b++) {
        uint32_t c = crc32c_table[0][b];
        for (int t = 1; t < 8; t++) {
            c = (c >> 8) ^ crc32c_table[0][c & 0xff];
            crc32c_table[t][b] = c;
        }
    }
}

uint32_t crc32c_sw(uint32_t crc, const void *p, size_t n)
{
    pthread_once(&crc32c_table_once, crc32c_table_build);
    const uint8_t *s = p;
    uint32_t c = ~crc;
    while (n >= 8) {
        uint64_t w = 0;
        memcpy(&w, s, 8);
        w ^= c;
        c = crc32c_table[7][w & 0xff] ^ crc32c_table[6][(w >> 8) & 0xff] ^ crc32c_table[5][(w >> 16) & 0xff] ^
            crc32c_table[4][(w >> 24) & 0xff] ^ crc32c_table[3][(w >> 32) & 0xff] ^ crc32c_table[2][(w >> 40) & 0xff] ^
            crc32c_table[1][(w >> 48) & 0xff] ^ crc32c_table[0][w >> 56];
        s += 8;
        n -= 8;
    }
    while (n--) {
        c = (c >> 8) ^ crc32c_table[0][(c ^ *s++) & 0xff];
    }
    return ~c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const void *p, size_t n)
{
    const uint8_t *s = p;
    uint64_t c = ~crc;
    while (n >= 8) {
        uint64_t w = 0;
        memcpy(&w, s, 8);
        c = __builtin_ia32_crc32di(c, w);
        s += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    if (n >= 4) {
        uint32_t w = 0;
        memcpy(&w, s, 4);
        c32 = __builtin_ia32_crc32si(c32, w);
        s += 4;
        n -= 4;
    }
    while (n--) {
        c32 = __builtin_ia32_crc32qi(c32, *s++);
    }
    return ~c32;
}
#endif

uint32_t crc32c(uint32_t crc, const void *p, size_t n)
{
#if defined(__x86_64__)
    if (__builtin_cpu_supports("sse4.2")) {
        return crc32c_hw(crc, p, n);
    }
#endif
    return crc32c_sw(crc, p, n);
}

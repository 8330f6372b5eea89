/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crc32c: CRC-32C (Castagnoli), the checksum of WAL records and block pages.
 * Uses the SSE4.2 instruction when the CPU has it, a slicing table otherwise;
 * both give the same result. crc32c(0, "123456789", 9) == 0xE3069283.
 */
#ifndef PHAROS_COMMON_CRC32C_H
#define PHAROS_COMMON_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extend crc (0 to start) over p[0..n). */
uint32_t crc32c(uint32_t crc, const void *p, size_t n);
/* The portable path, exposed so tests can compare both. */
uint32_t crc32c_sw(uint32_t crc, const void *p, size_t n);

#endif

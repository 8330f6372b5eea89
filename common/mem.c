/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mem: malloc wrappers that count the usable bytes held, and the OOM
 * policy (abort, except mem_try_*). See mem.h.
 */
#include "common/mem.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Atomic size_t mem_bytes;

static void mem_oom(size_t n)
{
    fprintf(stderr, "pharos: out of memory allocating %zu bytes\n", n);
    abort();
}

void *mem_try_alloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p) {
        atomic_fetch_add_explicit(&mem_bytes, malloc_usable_size(p), memory_order_relaxed);
    }
    return p;
}

void *mem_alloc(size_t n)
{
    void *p = mem_try_alloc(n);
    if (!p) {
        mem_oom(n);
    }
    return p;
}

void *mem_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        mem_oom(SIZE_MAX);
    }
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        mem_oom(n * size);
    }
    atomic_fetch_add_explicit(&mem_bytes, malloc_usable_size(p), memory_order_relaxed);
    return p;
}

void *mem_try_realloc(void *p, size_t n)
{
    size_t old = p ? malloc_usable_size(p) : 0;
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        return NULL;
    }
    atomic_fetch_sub_explicit(&mem_bytes, old, memory_order_relaxed);
    atomic_fetch_add_explicit(&mem_bytes, malloc_usable_size(q), memory_order_relaxed);
    return q;
}

void *mem_realloc(void *p, size_t n)
{
    void *q = mem_try_realloc(p, n);
    if (!q) {
        mem_oom(n);
    }
    return q;
}

void mem_free(void *p)
{
    if (!p) {
        return;
    }
    atomic_fetch_sub_explicit(&mem_bytes, malloc_usable_size(p), memory_order_relaxed);
    free(p);
}

char *mem_strndup(const char *s, size_t len)
{
    if (len == SIZE_MAX) {
        mem_oom(len); /* len + 1 would wrap to 0 */
    }
    char *d = mem_alloc(len + 1);
    if (len) {
        memcpy(d, s, len);
    }
    d[len] = '\0';
    return d;
}

char *mem_strdup(const char *s)
{
    return mem_strndup(s, strlen(s));
}

size_t mem_used(void)
{
    return atomic_load_explicit(&mem_bytes, memory_order_relaxed);
}

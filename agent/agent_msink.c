/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent_msink: one collection's samples in flat, reusable arrays.
 *
 * Strings (names, help texts, label names and values) are appended to one
 * byte buffer and referred to by offset, so growing it never invalidates a
 * sample. Families are found by name through a small open-addressing
 * index (hash of the name -> family index + 1) rebuilt on rollback. Reset
 * keeps every array's capacity: after the first few collections a steady
 * workload allocates nothing.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"
#include "common/hash.h"
#include "common/mem.h"

static const char *const metric_type_names[] = {
    [METRIC_UNTYPED] = "untyped", [METRIC_COUNTER] = "counter",     [METRIC_GAUGE] = "gauge",
    [METRIC_SUMMARY] = "summary", [METRIC_HISTOGRAM] = "histogram", [METRIC_GAUGE_HISTOGRAM] = "gaugehistogram",
    [METRIC_INFO] = "info",       [METRIC_STATESET] = "stateset",
};

const char *metric_type_name(metric_type_t t)
{
    if ((size_t)t >= sizeof(metric_type_names) / sizeof(metric_type_names[0])) {
        return "untyped";
    }
    return metric_type_names[t];
}

void msink_init(msink_t *s)
{
    memset(s, 0, sizeof(*s));
    buf_init(&s->strings);
}

void msink_fini(msink_t *s)
{
    buf_fini(&s->strings);
    mem_free(s->families);
    mem_free(s->samples);
    mem_free(s->labels);
    mem_free(s->fam_index);
    memset(s, 0, sizeof(*s));
}

void msink_reset(msink_t *s)
{
    buf_reset(&s->strings);
    s->nfamilies = 0;
    s->nsamples = 0;
    s->nlabels = 0;
    if (s->fam_index) {
        memset(s->fam_index, 0, s->fam_index_cap * sizeof(*s->fam_index));
    }
}

/* Grow *arr (elements of size sz) so that it holds at least need. */
static void msink_grow(void **arr, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap) {
        return;
    }
    size_t ncap = *cap ? *cap * 2 : 64;
    while (ncap < need) {
        ncap *= 2;
    }
    *arr = mem_realloc(*arr, ncap * sz);
    *cap = ncap;
}

static uint32_t msink_put_str(msink_t *s, const char *p, size_t len)
{
    uint32_t off = (uint32_t)s->strings.len;
    buf_append(&s->strings, p, len);
    return off;
}

str_t msink_str(const msink_t *s, uint32_t off, uint32_t len)
{
    return str_from((const char *)s->strings.data + off, len);
}

static void msink_index_put(msink_t *s, uint32_t fam)
{
    const msink_family_t *f = &s->families[fam];
    size_t mask = s->fam_index_cap - 1;
    size_t i = hash_bytes(s->strings.data + f->name_off, f->name_len) & mask;
    while (s->fam_index[i] != 0) {
        i = (i + 1) & mask;
    }
    s->fam_index[i] = fam + 1;
}

static void msink_index_rebuild(msink_t *s, size_t cap)
{
    if (cap != s->fam_index_cap) {
        mem_free(s->fam_index);
        s->fam_index = mem_calloc(cap, sizeof(*s->fam_index));
        s->fam_index_cap = cap;
    } else {
        memset(s->fam_index, 0, cap * sizeof(*s->fam_index));
    }
    for (size_t i = 0; i < s->nfamilies; i++) {
        msink_index_put(s, (uint32_t)i);
    }
}

/* The family named name, added with help[0..hl) (has_help false: no
 * HELP line) when new. help may point into another sink. */
static uint32_t msink_family_help(msink_t *s, str_t name, const char *help, size_t hl, bool has_help,
                                  metric_type_t type)
{
    if (s->fam_index_cap == 0) {
        msink_index_rebuild(s, 256);
    }
    size_t mask = s->fam_index_cap - 1;
    size_t i = hash_bytes(name.p, name.len) & mask;
    while (s->fam_index[i] != 0) {
        const msink_family_t *f = &s->families[s->fam_index[i] - 1];
        if (f->name_len == name.len && memcmp(s->strings.data + f->name_off, name.p, name.len) == 0) {
            return s->fam_index[i] - 1;
        }
        i = (i + 1) & mask;
    }
    msink_grow((void **)&s->families, &s->cap_families, s->nfamilies + 1, sizeof(*s->families));
    uint32_t fam = (uint32_t)s->nfamilies++;
    msink_family_t *f = &s->families[fam];
    f->name_off = msink_put_str(s, name.p, name.len);
    f->name_len = (uint32_t)name.len;
    f->has_help = has_help;
    f->help_off = msink_put_str(s, help ? help : "", hl);
    f->help_len = (uint32_t)hl;
    f->type = type;
    if (s->nfamilies * 2 > s->fam_index_cap) {
        msink_index_rebuild(s, s->fam_index_cap * 2);
    } else {
        s->fam_index[i] = fam + 1;
    }
    return fam;
}

uint32_t msink_family(msink_t *s, str_t name, const char *help, metric_type_t type)
{
    return msink_family_help(s, name, help, help ? strlen(help) : 0, help != NULL, type);
}

uint32_t msink_family_c(msink_t *s, const char *name, const char *help, metric_type_t type)
{
    return msink_family(s, str_cstr(name), help, type);
}

static msink_sample_t *msink_new_sample(msink_t *s, uint32_t fam, str_t name, size_t n, double v, int64_t ts_ms)
{
    msink_grow((void **)&s->samples, &s->cap_samples, s->nsamples + 1, sizeof(*s->samples));
    msink_grow((void **)&s->labels, &s->cap_labels, s->nlabels + n, sizeof(*s->labels));
    msink_sample_t *x = &s->samples[s->nsamples++];
    x->family = fam;
    if (name.len > 0) {
        x->name_off = msink_put_str(s, name.p, name.len);
        x->name_len = (uint32_t)name.len;
    } else {
        x->name_off = s->families[fam].name_off;
        x->name_len = s->families[fam].name_len;
    }
    x->labels = (uint32_t)s->nlabels;
    x->nlabels = (uint32_t)n;
    x->value = v;
    x->ts_ms = ts_ms;
    return x;
}

static void msink_put_label(msink_t *s, const char *n, size_t nl, const char *v, size_t vl)
{
    msink_label_t *l = &s->labels[s->nlabels++];
    l->name_off = msink_put_str(s, n, nl);
    l->name_len = (uint32_t)nl;
    l->value_off = msink_put_str(s, v, vl);
    l->value_len = (uint32_t)vl;
}

void msink_add(msink_t *s, uint32_t fam, double v, size_t n, const char *const *names, const char *const *values)
{
    msink_new_sample(s, fam, (str_t){ NULL, 0 }, n, v, MSINK_NO_TS);
    for (size_t i = 0; i < n; i++) {
        msink_put_label(s, names[i], strlen(names[i]), values[i], strlen(values[i]));
    }
}

void msink_add_full(msink_t *s, uint32_t fam, str_t name, const label_t *ls, size_t n, double v, int64_t ts_ms)
{
    msink_new_sample(s, fam, name, n, v, ts_ms);
    for (size_t i = 0; i < n; i++) {
        msink_put_label(s, ls[i].name.p, ls[i].name.len, ls[i].value.p, ls[i].value.len);
    }
}

void msink_addv(msink_t *s, const char *name, const char *help, metric_type_t type, double v, size_t nlabel, ...)
{
    uint32_t fam = msink_family_c(s, name, help, type);
    msink_new_sample(s, fam, (str_t){ NULL, 0 }, nlabel, v, MSINK_NO_TS);
    va_list ap;
    va_start(ap, nlabel);
    for (size_t i = 0; i < nlabel; i++) {
        const char *ln = va_arg(ap, const char *);
        const char *lv = va_arg(ap, const char *);
        msink_put_label(s, ln, strlen(ln), lv, strlen(lv));
    }
    va_end(ap);
}

msink_mark_t msink_mark(const msink_t *s)
{
    return (msink_mark_t){ s->strings.len, s->nfamilies, s->nsamples, s->nlabels };
}

void msink_rollback(msink_t *s, msink_mark_t m)
{
    bool fams = m.families < s->nfamilies;
    s->strings.len = m.strings;
    if (s->strings.cap > 0) {
        s->strings.data[s->strings.len] = 0;
    }
    s->nfamilies = m.families;
    s->nsamples = m.samples;
    s->nlabels = m.labels;
    if (fams) {
        msink_index_rebuild(s, s->fam_index_cap);
    }
}

str_t msink_sample_name(const msink_t *s, const msink_sample_t *x)
{
    return msink_str(s, x->name_off, x->name_len);
}

size_t msink_sample_labels(const msink_t *s, const msink_sample_t *x, label_t *out, size_t max)
{
    size_t n = x->nlabels < max ? x->nlabels : max;
    for (size_t i = 0; i < n; i++) {
        const msink_label_t *l = &s->labels[x->labels + i];
        out[i].name = msink_str(s, l->name_off, l->name_len);
        out[i].value = msink_str(s, l->value_off, l->value_len);
    }
    return n;
}

void msink_append(msink_t *dst, const msink_t *src, const label_t *extra, size_t nx)
{
    label_t ls[MSINK_MAX_LABELS + 64];
    const size_t cap = sizeof(ls) / sizeof(ls[0]);
    for (size_t i = 0; i < src->nsamples; i++) {
        const msink_sample_t *x = &src->samples[i];
        const msink_family_t *f = &src->families[x->family];
        uint32_t fam =
            msink_family_help(dst, msink_str(src, f->name_off, f->name_len),
                              (const char *)src->strings.data + f->help_off, f->help_len, f->has_help, f->type);
        size_t n = msink_sample_labels(src, x, ls, nx < cap ? cap - nx : 0);
        size_t own = n;
        for (size_t j = 0; j < nx && n < cap; j++) {
            bool clash = false;
            for (size_t k = 0; k < own && !clash; k++) {
                clash = str_eq(ls[k].name, extra[j].name);
            }
            if (!clash) {
                ls[n++] = extra[j];
            }
        }
        msink_add_full(dst, fam, msink_sample_name(src, x), ls, n, x->value, x->ts_ms);
    }
}

/* The series hash of sample i: its name and labels in name order. */
static uint64_t msink_series_hash(const msink_t *s, size_t i, label_t *ls, size_t max)
{
    const msink_sample_t *x = &s->samples[i];
    ls[0] = (label_t){ STR_LIT("__name__"), msink_sample_name(s, x) };
    size_t n = labels_normalize(ls, 1 + msink_sample_labels(s, x, ls + 1, max - 1));
    return labels_hash(ls, n);
}

typedef struct msink_hidx {
    uint64_t hash;
    uint32_t idx;
} msink_hidx_t;

static int msink_hidx_cmp(const void *a, const void *b)
{
    const msink_hidx_t *x = a, *y = b;
    if (x->hash != y->hash) {
        return x->hash < y->hash ? -1 : 1;
    }
    return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

static bool msink_same_series(const msink_t *s, uint32_t i, uint32_t j)
{
    label_t a[MSINK_MAX_LABELS + 1], b[MSINK_MAX_LABELS + 1];
    size_t na = 1 + msink_sample_labels(s, &s->samples[i], a + 1, MSINK_MAX_LABELS);
    size_t nb = 1 + msink_sample_labels(s, &s->samples[j], b + 1, MSINK_MAX_LABELS);
    a[0] = (label_t){ STR_LIT("__name__"), msink_sample_name(s, &s->samples[i]) };
    b[0] = (label_t){ STR_LIT("__name__"), msink_sample_name(s, &s->samples[j]) };
    na = labels_normalize(a, na);
    nb = labels_normalize(b, nb);
    if (na != nb) {
        return false;
    }
    for (size_t k = 0; k < na; k++) {
        if (!str_eq(a[k].name, b[k].name) || !str_eq(a[k].value, b[k].value)) {
            return false;
        }
    }
    return true;
}

size_t msink_drop_duplicates(msink_t *s, buf_t *scratch)
{
    if (s->nsamples < 2) {
        return 0;
    }
    buf_reset(scratch);
    buf_reserve(scratch, s->nsamples * sizeof(msink_hidx_t) + s->nsamples);
    msink_hidx_t *h = (msink_hidx_t *)(void *)scratch->data;
    uint8_t *drop = scratch->data + s->nsamples * sizeof(msink_hidx_t);
    label_t ls[MSINK_MAX_LABELS + 1];
    for (size_t i = 0; i < s->nsamples; i++) {
        h[i] = (msink_hidx_t){ msink_series_hash(s, i, ls, MSINK_MAX_LABELS + 1), (uint32_t)i };
        drop[i] = 0;
    }
    qsort(h, s->nsamples, sizeof(*h), msink_hidx_cmp);
    size_t dropped = 0;
    for (size_t i = 0; i < s->nsamples; i++) {
        for (size_t j = i + 1; j < s->nsamples && h[j].hash == h[i].hash; j++) {
            if (!drop[h[j].idx] && !drop[h[i].idx] && msink_same_series(s, h[i].idx, h[j].idx)) {
                drop[h[j].idx] = 1; /* h is sorted by index within a hash: the first stays */
                dropped++;
            }
        }
    }
    size_t kept = 0;
    for (size_t i = 0; i < s->nsamples; i++) {
        if (!drop[i]) {
            s->samples[kept++] = s->samples[i];
        }
    }
    s->nsamples = kept;
    return dropped;
}

static int msink_u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : (x > y);
}

static bool msink_u64_find(const uint64_t *v, size_t n, uint64_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] == key) {
            return true;
        }
        if (v[mid] < key) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return false;
}

void msink_stale(const msink_t *prev, const msink_t *cur, buf_t *scratch, msink_t *out)
{
    msink_reset(out);
    buf_reset(scratch);
    buf_reserve(scratch, (cur->nsamples + 1) * sizeof(uint64_t));
    uint64_t *h = (uint64_t *)(void *)scratch->data;
    label_t ls[MSINK_MAX_LABELS + 1];
    for (size_t i = 0; i < cur->nsamples; i++) {
        h[i] = msink_series_hash(cur, i, ls, MSINK_MAX_LABELS + 1);
    }
    qsort(h, cur->nsamples, sizeof(*h), msink_u64_cmp);
    double stale;
    uint64_t bits = MSINK_STALE_NAN_BITS;
    memcpy(&stale, &bits, sizeof(stale));
    for (size_t i = 0; i < prev->nsamples; i++) {
        const msink_sample_t *x = &prev->samples[i];
        if (x->ts_ms != MSINK_NO_TS ||
            msink_u64_find(h, cur->nsamples, msink_series_hash(prev, i, ls, MSINK_MAX_LABELS + 1))) {
            continue;
        }
        const msink_family_t *f = &prev->families[x->family];
        uint32_t fam =
            msink_family_help(out, msink_str(prev, f->name_off, f->name_len),
                              (const char *)prev->strings.data + f->help_off, f->help_len, f->has_help, f->type);
        size_t n = msink_sample_labels(prev, x, ls, MSINK_MAX_LABELS);
        msink_add_full(out, fam, msink_sample_name(prev, x), ls, n, stale, MSINK_NO_TS);
    }
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * labels: a series' label set as a sorted array of borrowed (name, value)
 * slices, its canonical byte encoding, hash and validation.
 *
 * Canonical bytes: for each label in name order, uvarint(len name) name
 * uvarint(len value) value. Two label sets are equal iff their canonical
 * bytes are equal; the series hash is hash_bytes() of them. Labels with an
 * empty value are absent (Prometheus semantics): labels_normalize drops them.
 */
#ifndef PHAROS_COMMON_LABELS_H
#define PHAROS_COMMON_LABELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/str.h"

typedef struct label {
    str_t name;
    str_t value;
} label_t;

typedef struct labels_limits {
    size_t max_name_len;  /* bytes; 0 = unlimited */
    size_t max_value_len; /* bytes; 0 = unlimited */
    size_t max_labels;    /* labels per series; 0 = unlimited */
    bool utf8_names;      /* accept any UTF-8 name (Prometheus 3 scheme) */
} labels_limits_t;

typedef enum labels_status {
    LABELS_OK = 0,
    LABELS_NO_NAME,  /* no __name__ label */
    LABELS_DUP_NAME, /* a label name appears twice */
    LABELS_BAD_NAME, /* name not [a-zA-Z_][a-zA-Z0-9_]* (or metric name rule) */
    LABELS_BAD_UTF8, /* name or value is not valid UTF-8 */
    LABELS_TOO_LONG, /* a name or value over its limit */
    LABELS_TOO_MANY, /* more labels than max_labels */
} labels_status_t;

/* Sort ls by name, stably (insertion sort: n is small), keeping every
 * label. */
void labels_sort(label_t *ls, size_t n);
/* Sort ls by name (stable; n is small) and drop empty-valued labels.
 * Returns the new count. */
size_t labels_normalize(label_t *ls, size_t n);
/* Validate a normalized set. On failure, writes a one-line reason naming
 * the offending label into err (errlen bytes, NUL-terminated). */
labels_status_t labels_validate(const label_t *ls, size_t n, const labels_limits_t *lim, char *err, size_t errlen);
/* Name of a status, for metrics ("no_name", "dup_name", …). */
const char *labels_status_name(labels_status_t st);
/* Append the canonical bytes of a normalized set. */
void labels_encode(const label_t *ls, size_t n, buf_t *out);
/* Decode canonical bytes into at most max labels borrowing from p.
 * Returns the count, or -1 when malformed or more than max. */
long labels_decode(const uint8_t *p, size_t len, label_t *ls, size_t max);
/* hash_bytes() of the canonical bytes, without building them. */
uint64_t labels_hash(const label_t *ls, size_t n);
/* Order of two sorted sets as Prometheus' labels.Compare: name by name,
 * then value, then the shorter set first. <0, 0 or >0. */
int labels_compare(const label_t *a, size_t na, const label_t *b, size_t nb);
/* Value of name, or an empty slice when absent. */
str_t labels_get(const label_t *ls, size_t n, const char *name);
/* Legacy Prometheus name rules. */
bool labels_valid_metric_name(str_t s);
bool labels_valid_label_name(str_t s);
/* Append {a="b", c="d"} in Prometheus' text form (values escaped). */
void labels_format(const label_t *ls, size_t n, buf_t *out);
/* Append s as Go's strconv.Quote writes it: "…" with \" \\ \n \xNN \uNNNN
 * escapes; each invalid UTF-8 byte becomes \xNN. O(len). */
void labels_quote(str_t s, buf_t *out);

#endif

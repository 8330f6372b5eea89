/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json_out: append JSON text to a buf. Strings are escaped as Go's
 * encoding/json does (\" \\ \n \r \t, \u00XX for other controls, <>& as
 * \u003c \u003e \u0026, invalid UTF-8 bytes as \ufffd), so our answers are
 * byte-compatible with Prometheus'. Floats are formatted as Go's
 * strconv.FormatFloat(f, fmt, -1, 64) does, for fmt 'f', 'g' or 'e'.
 */
#ifndef PHAROS_COMMON_JSON_OUT_H
#define PHAROS_COMMON_JSON_OUT_H

#include <stddef.h>

#include "common/buf.h"
#include "common/labels.h"

/* Append "…" with escapes. */
void json_str(buf_t *b, const char *p, size_t len);
void json_cstr(buf_t *b, const char *s);
/* Append a label set as an object {"name":"value",...}, in the given order. */
void json_labels(buf_t *b, const label_t *ls, size_t n);
/* Append Go's FormatFloat(f, fmt, -1, 64): shortest round-trip digits.
 * NaN → NaN, ±Inf → +Inf/-Inf (no quotes added). */
void json_go_float(buf_t *b, double f, char fmt);

#endif

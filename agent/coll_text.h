/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_text: the text scanning the /proc and /sys collectors share. Kernel
 * text files are lines of fields separated by ASCII white space (Go's
 * strings.Fields, which node_exporter uses). Every function borrows its
 * input and never reads past the end it is given.
 */
#ifndef PHAROS_AGENT_COLL_TEXT_H
#define PHAROS_AGENT_COLL_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/str.h"

/* ' ', '\t', '\n', '\v', '\f' or '\r' (Go's unicode.IsSpace below 0x80,
 * less U+0085). */
bool coll_text_space(char ch);

/* The next field of [*p, end), advancing *p past it; empty at the end.
 * O(end - *p). */
str_t coll_text_field(const char **p, const char *end);

/* The next line of p[0..len) from *pos, without its '\n' (the last line
 * may lack one), advancing *pos past it. false, *line untouched, when
 * *pos >= len. O(line). */
bool coll_text_next_line(const char *p, size_t len, size_t *pos, str_t *line);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_int: private to the files of ctl/: the helpers one command's file lends
 * another (ctl_logs.c formats stream labels as ctl_format.c formats
 * series, and encodes its request as ctl_query.c encodes forms).
 */
#ifndef PHAROS_CTL_CTL_INT_H
#define PHAROS_CTL_CTL_INT_H

#include <jansson.h>

#include "common/buf.h"
#include "ctl/ctl.h"

/* metric: a JSON object of string values (borrowed). Appends
 * name{a="b", …} to out, labels sorted by name, quoted as PromQL reads
 * them ({} when empty); 0, or -1 with the reason appended to why when it
 * is not an object of strings. O(k log k) for k labels. */
int ctl_format_labels(const json_t *metric, buf_t *out, buf_t *why);

/* Append "key=value" to b, after a '&' unless b is empty, value
 * percent-encoded for a form or a query string (only unreserved bytes
 * stay raw). */
void ctl_query_form(buf_t *b, const char *key, const char *value);

#endif

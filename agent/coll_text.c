/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_text: field and line scanning shared by the collectors (see
 * coll_text.h). Pure, allocation-free, bounded by the caller's end.
 */
#include <string.h>

#include "agent/coll_text.h"

bool coll_text_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' || ch == '\f' || ch == '\r';
}

str_t coll_text_field(const char **p, const char *end)
{
    const char *q = *p;
    while (q < end && coll_text_space(*q)) {
        q++;
    }
    const char *start = q;
    while (q < end && !coll_text_space(*q)) {
        q++;
    }
    *p = q;
    return str_from(start, (size_t)(q - start));
}

bool coll_text_next_line(const char *p, size_t len, size_t *pos, str_t *line)
{
    if (*pos >= len) {
        return false;
    }
    const char *start = p + *pos;
    const char *nl = memchr(start, '\n', len - *pos);
    size_t n = nl ? (size_t)(nl - start) : len - *pos;
    *line = str_from(start, n);
    *pos += n + (nl ? 1 : 0);
    return true;
}

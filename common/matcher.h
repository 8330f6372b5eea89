/* SPDX-License-Identifier: Apache-2.0 */
/*
 * matcher: label matchers (=, !=, =~, !~) with Prometheus semantics.
 * Series selectors ({job="x"}, up{a=~"b.*"}) are parsed by the PromQL
 * parser (query/promql.h), which builds these.
 *
 * Regexes are fully anchored (as ^(?s:re)$: "." matches a newline, as in
 * Prometheus 3) and compiled with PCRE2 (JIT when available); a value that
 * is not valid UTF-8 never matches a regex. A label absent from a series matches as the empty string, so
 * {foo=""} selects series without foo. A matcher owns its copies of name and
 * value; it holds PCRE2 match data, so one matcher is used by one thread at
 * a time.
 */
#ifndef PHAROS_COMMON_MATCHER_H
#define PHAROS_COMMON_MATCHER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/str.h"

typedef enum match_type {
    MATCH_EQ = 0,
    MATCH_NEQ,
    MATCH_RE,
    MATCH_NRE,
} match_type_t;

typedef struct matcher {
    match_type_t type;
    char *name;
    size_t name_len;
    char *value;
    size_t value_len;
    void *re;         /* pcre2_code * for RE/NRE */
    void *match_data; /* pcre2_match_data * */
    /* For RE/NRE whose regex is a plain literal or alternation of literals
     * ("a|b|c"), the literals, so the index can look them up directly. */
    char **alts;
    size_t *alt_lens;
    size_t nalts;
} matcher_t;

/* Initialise m; for RE/NRE compile the regex. On a bad regex returns -1
 * and writes "error parsing regexp: …" into err. */
int matcher_init(matcher_t *m, match_type_t type, str_t name, str_t value, char *err, size_t errlen);
void matcher_fini(matcher_t *m);
/* Does value (empty when the label is absent) satisfy m? */
bool matcher_matches(matcher_t *m, str_t value);
/* Does the empty string satisfy m (the series may lack the label)? */
bool matcher_matches_empty(matcher_t *m);
const char *match_type_str(match_type_t t);

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * matcher: label matchers. See matcher.h. (Series selectors are parsed by
 * the PromQL parser, query/promql.h.)
 *
 * Regexes follow Prometheus 3 (Go RE2, "^(?s:re)$"): "." also matches a
 * newline. PCRE2 gets the pattern unchanged with ANCHORED | ENDANCHORED
 * instead of a textual "^(?:" re ")$" wrapper: the same language, but error
 * offsets point into the user's text and "a)|(b" cannot escape the anchors.
 * DOLLAR_ENDONLY makes "$" mean end of text, as in RE2. Subjects that are
 * not valid UTF-8 never match (PCRE2 reports a UTF error; we say "no").
 * PCRE2's default match limit bounds backtracking; a subject that hits it
 * counts as not matching. PCRE2 allocates through mem_* (a general context
 * per compile, copied into the code, so nothing is shared between threads).
 *
 * A regex that is a plain literal or an alternation of literals (escaped
 * punctuation allowed: "a\.b|c") fills alts; short lists are matched by
 * comparing bytes instead of running PCRE2.
 */
#include "common/matcher.h"

#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "common/buf.h"
#include "common/labels.h"
#include "common/mem.h"

#define MATCHER_ALT_FAST_MAX 16 /* alternations compared byte-wise */
#define SEL_DESC_MAX 64         /* source bytes of a token quoted in errors */

static void *matcher_pcre_alloc(PCRE2_SIZE n, void *ud)
{
    (void)ud;
    return mem_try_alloc(n);
}

static void matcher_pcre_free(void *p, void *ud)
{
    (void)ud;
    mem_free(p);
}

static char *dup_slice(str_t s)
{
    return s.len ? mem_strndup(s.p, s.len) : mem_strdup("");
}

static bool is_regex_meta(char c)
{
    return strchr(".+*?()[]{}^$", c) != NULL && c != '\0';
}

/* If re is a literal or an alternation of literals, store them in m->alts. */
static void matcher_find_alts(matcher_t *m)
{
    const char *re = m->value;
    size_t len = m->value_len;
    size_t count = 1;
    for (size_t i = 0; i < len; i++) {
        char c = re[i];
        if (c == '\\') {
            if (i + 1 >= len) {
                return;
            }
            unsigned char e = (unsigned char)re[i + 1];
            bool punct =
                e >= 0x21 && e < 0x7F && !(e >= '0' && e <= '9') && !(e >= 'a' && e <= 'z') && !(e >= 'A' && e <= 'Z');
            if (!punct) {
                return;
            }
            i++;
        } else if (c == '|') {
            count++;
        } else if (is_regex_meta(c)) {
            return;
        }
    }
    m->alts = mem_calloc(count, sizeof(char *));
    m->alt_lens = mem_calloc(count, sizeof(size_t));
    m->nalts = count;
    buf_t cur = { 0 };
    size_t k = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || re[i] == '|') {
            m->alt_lens[k] = cur.len;
            m->alts[k] = cur.len ? (char *)buf_steal(&cur, NULL) : mem_strdup("");
            k++;
            continue;
        }
        if (re[i] == '\\') {
            i++;
        }
        buf_putc(&cur, (uint8_t)re[i]);
    }
    buf_fini(&cur);
    assert(k == count);
}

static int matcher_compile(matcher_t *m, char *err, size_t errlen)
{
    int rc = -1;
    pcre2_general_context *gc = pcre2_general_context_create(matcher_pcre_alloc, matcher_pcre_free, NULL);
    pcre2_compile_context *cc = gc ? pcre2_compile_context_create(gc) : NULL;
    if (!cc) {
        snprintf(err, errlen, "error parsing regexp: out of memory");
        goto fail;
    }
    uint32_t opts =
        PCRE2_UTF | PCRE2_DOTALL | PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_DOLLAR_ENDONLY | PCRE2_NEVER_BACKSLASH_C;
    int ec = 0;
    PCRE2_SIZE eoff = 0;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)m->value, m->value_len, opts, &ec, &eoff, cc);
    if (!re) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(ec, msg, sizeof(msg)) < 0) {
            snprintf((char *)msg, sizeof(msg), "error %d", ec);
        }
        snprintf(err, errlen, "error parsing regexp: %s at offset %zu: `%s`", (const char *)msg, (size_t)eoff,
                 m->value);
        goto fail;
    }
    m->re = re;
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* interpreter fallback */
    m->match_data = pcre2_match_data_create(1, gc);
    if (!m->match_data) {
        snprintf(err, errlen, "error parsing regexp: out of memory");
        goto fail;
    }
    rc = 0;
fail:
    pcre2_compile_context_free(cc);
    pcre2_general_context_free(gc);
    return rc;
}

int matcher_init(matcher_t *m, match_type_t type, str_t name, str_t value, char *err, size_t errlen)
{
    assert(m);
    memset(m, 0, sizeof(*m));
    m->type = type;
    m->name = dup_slice(name);
    m->name_len = name.len;
    m->value = dup_slice(value);
    m->value_len = value.len;
    if (type == MATCH_RE || type == MATCH_NRE) {
        if (matcher_compile(m, err, errlen) != 0) {
            matcher_fini(m);
            return -1;
        }
        matcher_find_alts(m);
    } else if (type != MATCH_EQ && type != MATCH_NEQ) {
        snprintf(err, errlen, "invalid match type %d", (int)type);
        matcher_fini(m);
        return -1;
    }
    return 0;
}

void matcher_fini(matcher_t *m)
{
    if (!m) {
        return;
    }
    mem_free(m->name);
    mem_free(m->value);
    pcre2_match_data_free(m->match_data);
    pcre2_code_free(m->re);
    for (size_t i = 0; i < m->nalts; i++) {
        mem_free(m->alts[i]);
    }
    mem_free(m->alts);
    mem_free(m->alt_lens);
    memset(m, 0, sizeof(*m));
}

static bool matcher_re_match(matcher_t *m, str_t v)
{
    if (m->nalts > 0 && m->nalts <= MATCHER_ALT_FAST_MAX) {
        for (size_t i = 0; i < m->nalts; i++) {
            if (m->alt_lens[i] == v.len && (v.len == 0 || memcmp(m->alts[i], v.p, v.len) == 0)) {
                return true;
            }
        }
        return false;
    }
    if (!m->re) {
        return false;
    }
    const char *p = v.p ? v.p : "";
    int rc = pcre2_match(m->re, (PCRE2_SPTR)p, v.len, 0, 0, m->match_data, NULL);
    return rc >= 0;
}

bool matcher_matches(matcher_t *m, str_t value)
{
    switch (m->type) {
    case MATCH_EQ:
        return value.len == m->value_len && (value.len == 0 || memcmp(value.p, m->value, value.len) == 0);
    case MATCH_NEQ:
        return !(value.len == m->value_len && (value.len == 0 || memcmp(value.p, m->value, value.len) == 0));
    case MATCH_RE:
        return matcher_re_match(m, value);
    case MATCH_NRE:
        return !matcher_re_match(m, value);
    }
    return false;
}

bool matcher_matches_empty(matcher_t *m)
{
    return matcher_matches(m, str_from("", 0));
}

const char *match_type_str(match_type_t t)
{
    switch (t) {
    case MATCH_EQ:
        return "=";
    case MATCH_NEQ:
        return "!=";
    case MATCH_RE:
        return "=~";
    case MATCH_NRE:
        return "!~";
    }
    return "?";
}

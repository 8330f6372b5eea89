/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for common/matcher.c: matching semantics for = != =~ !~ (anchoring,
 * dot-all, "$" at the very end, invalid UTF-8 subjects, NUL bytes,
 * catastrophic backtracking), regex error texts, literal-alternation
 * detection. (Series selectors are parsed and tested in query/.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/matcher.h"
#include "common/mem.h"

#define S(x)                                                                                                           \
    {                                                                                                                  \
        (x), sizeof(x) - 1                                                                                             \
    }

static void test_matches_table(void **state)
{
    (void)state;
    const struct {
        match_type_t type;
        str_t re;
        str_t subject;
        bool want;
    } t[] = {
        { MATCH_EQ, S("a"), S("a"), true },         { MATCH_EQ, S("a"), S("ab"), false },
        { MATCH_EQ, S(""), S(""), true },           { MATCH_EQ, S("a\0b"), S("a\0b"), true },
        { MATCH_EQ, S("a\0b"), S("a\0c"), false },  { MATCH_NEQ, S("a"), S("a"), false },
        { MATCH_NEQ, S("a"), S(""), true },         { MATCH_RE, S("a.*"), S("abc"), true },
        { MATCH_RE, S("a.*"), S("xabc"), false },   { MATCH_RE, S("b"), S("abc"), false },
        { MATCH_RE, S("a|b"), S("ab"), false },     { MATCH_RE, S("a|b"), S("b"), true },
        { MATCH_RE, S("a.b"), S("a\nb"), true },    { MATCH_RE, S(".*"), S("x\ny\n"), true },
        { MATCH_RE, S("foo$"), S("foo\n"), false }, { MATCH_RE, S("foo"), S("foo\n"), false },
        { MATCH_RE, S("^foo$"), S("foo"), true },   { MATCH_RE, S("(?i)FOO"), S("foo"), true },
        { MATCH_RE, S(""), S(""), true },           { MATCH_RE, S(""), S("a"), false },
        { MATCH_RE, S(".*"), S(""), true },         { MATCH_RE, S(".+"), S(""), false },
        { MATCH_RE, S(".*"), S("\xff"), false },    { MATCH_RE, S("\xc3\xa9."), S("\xc3\xa9\xc3\xa9"), true },
        { MATCH_RE, S("a\0b"), S("a\0b"), true },   { MATCH_RE, S("a.b"), S("a\0b"), true },
        { MATCH_RE, S("a\\.b|c"), S("a.b"), true }, { MATCH_RE, S("a\\.b|c"), S("axb"), false },
        { MATCH_RE, S("[0-9]+"), S("123"), true },  { MATCH_RE, S("[0-9]+"), S("12a"), false },
        { MATCH_NRE, S("a.*"), S("abc"), false },   { MATCH_NRE, S("a.*"), S("bc"), true },
        { MATCH_NRE, S(".*"), S("\xff"), true },    { MATCH_NRE, S(""), S(""), false },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        matcher_t m;
        char err[256] = "";
        if (matcher_init(&m, t[i].type, STR_LIT("l"), t[i].re, err, sizeof(err)) != 0) {
            fail_msg("case %zu: init failed: %s", i, err);
        }
        if (matcher_matches(&m, t[i].subject) != t[i].want) {
            fail_msg("case %zu: %s /%.*s/ on \"%.*s\" want %d", i, match_type_str(t[i].type), (int)t[i].re.len,
                     t[i].re.p, (int)t[i].subject.len, t[i].subject.p, t[i].want);
        }
        matcher_fini(&m);
    }
}

static void test_matches_empty(void **state)
{
    (void)state;
    const struct {
        match_type_t type;
        const char *v;
        bool want;
    } t[] = {
        { MATCH_EQ, "", true },   { MATCH_EQ, "x", false },  { MATCH_NEQ, "", false },   { MATCH_NEQ, "x", true },
        { MATCH_RE, ".*", true }, { MATCH_RE, ".+", false }, { MATCH_NRE, ".*", false }, { MATCH_NRE, "x", true },
        { MATCH_RE, "x|", true }, { MATCH_RE, "x?", true },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        matcher_t m;
        char err[128];
        assert_int_equal(matcher_init(&m, t[i].type, STR_LIT("a"), str_cstr(t[i].v), err, sizeof(err)), 0);
        if (matcher_matches_empty(&m) != t[i].want) {
            fail_msg("case %zu", i);
        }
        assert_string_equal(m.name, "a");
        assert_int_equal(m.name_len, 1);
        matcher_fini(&m);
    }
    assert_string_equal(match_type_str(MATCH_EQ), "=");
    assert_string_equal(match_type_str(MATCH_NEQ), "!=");
    assert_string_equal(match_type_str(MATCH_RE), "=~");
    assert_string_equal(match_type_str(MATCH_NRE), "!~");
}

static void test_bad_regex(void **state)
{
    (void)state;
    const struct {
        str_t re;
        const char *want; /* prefix of the error */
    } t[] = {
        { S("(abc"), "error parsing regexp: missing closing parenthesis at offset 4: `(abc`" },
        { S("*"), "error parsing regexp: quantifier does not follow a repeatable item at offset 0" },
        { S("a)|(b"), "error parsing regexp: unmatched closing parenthesis at offset 1" },
        { S("[a-"), "error parsing regexp: missing terminating ] for character class at offset 3" },
        { S("\\"), "error parsing regexp: \\ at end of pattern at offset 1" },
        { S("a\xff"), "error parsing regexp: UTF-8 error: illegal byte (0xfe or 0xff) at offset 1" },
        { S("\\C"), "error parsing regexp: using \\C is disabled" },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        matcher_t m;
        char err[256] = "";
        if (matcher_init(&m, MATCH_RE, STR_LIT("a"), t[i].re, err, sizeof(err)) != -1) {
            fail_msg("case %zu compiled", i);
        }
        if (strncmp(err, t[i].want, strlen(t[i].want)) != 0) {
            fail_msg("case %zu: got \"%s\" want \"%s\"", i, err, t[i].want);
        }
        /* A failed init leaves m zeroed: fini again is harmless. */
        assert_null(m.name);
        matcher_fini(&m);
    }
    matcher_t m;
    char err[64];
    assert_int_equal(matcher_init(&m, (match_type_t)9, STR_LIT("a"), STR_LIT("b"), err, sizeof(err)), -1);
    matcher_fini(NULL);
}

static void test_alts(void **state)
{
    (void)state;
    const struct {
        const char *re;
        size_t nalts;
        const char *alts[4];
    } t[] = {
        { "foo", 1, { "foo" } }, { "a|b|c", 3, { "a", "b", "c" } }, { "a\\.b|c\\|d", 2, { "a.b", "c|d" } },
        { "", 1, { "" } },       { "a|", 2, { "a", "" } },          { "caf\xc3\xa9|x y", 2, { "caf\xc3\xa9", "x y" } },
        { "a.*", 0, { NULL } },  { "(a|b)", 0, { NULL } },          { "\\d", 0, { NULL } },
        { "a+", 0, { NULL } },   { "a{2}", 0, { NULL } },           { "[ab]", 0, { NULL } },
        { "^a$", 0, { NULL } },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        matcher_t m;
        char err[128];
        assert_int_equal(matcher_init(&m, MATCH_RE, STR_LIT("x"), str_cstr(t[i].re), err, sizeof(err)), 0);
        if (m.nalts != t[i].nalts) {
            fail_msg("case %s: nalts %zu want %zu", t[i].re, m.nalts, t[i].nalts);
        }
        for (size_t k = 0; k < m.nalts; k++) {
            assert_int_equal(m.alt_lens[k], strlen(t[i].alts[k]));
            assert_memory_equal(m.alts[k], t[i].alts[k], m.alt_lens[k]);
        }
        matcher_fini(&m);
    }
    /* EQ/NEQ never have alts; a long alternation still matches via PCRE2. */
    matcher_t m;
    char err[128];
    assert_int_equal(matcher_init(&m, MATCH_EQ, STR_LIT("x"), STR_LIT("a|b"), err, sizeof(err)), 0);
    assert_int_equal(m.nalts, 0);
    assert_null(m.re);
    matcher_fini(&m);
    const char *many = "a0|a1|a2|a3|a4|a5|a6|a7|a8|a9|b0|b1|b2|b3|b4|b5|b6|b7|b8|b9";
    assert_int_equal(matcher_init(&m, MATCH_RE, STR_LIT("x"), str_cstr(many), err, sizeof(err)), 0);
    assert_int_equal(m.nalts, 20);
    assert_true(matcher_matches(&m, STR_LIT("b7")));
    assert_false(matcher_matches(&m, STR_LIT("b")));
    matcher_fini(&m);
}

static void test_backtracking_bounded(void **state)
{
    (void)state;
    matcher_t m;
    char err[128];
    assert_int_equal(matcher_init(&m, MATCH_RE, STR_LIT("x"), STR_LIT("(a+)+[^a]"), err, sizeof(err)), 0);
    char subject[40];
    memset(subject, 'a', sizeof(subject));
    assert_false(matcher_matches(&m, str_from(subject, sizeof(subject))));
    matcher_fini(&m);
}

typedef struct want_m {
    const char *name;
    match_type_t type;
    const char *value;
    size_t value_len; /* 0: strlen(value) */
} want_m_t;

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_table),
        cmocka_unit_test(test_matches_empty),
        cmocka_unit_test(test_bad_regex),
        cmocka_unit_test(test_alts),
        cmocka_unit_test(test_backtracking_bounded),
    };
    return cmocka_run_group_tests_name("matcher", tests, NULL, NULL);
}

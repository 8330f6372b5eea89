/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for common/matcher.c: matching semantics for = != =~ !~ (anchoring,
 * dot-all, "$" at the very end, invalid UTF-8 subjects, NUL bytes,
 * catastrophic backtracking), regex error texts, literal-alternation
 * detection, and selector_parse on good input, every error with its
 * position, and every truncation of good input.
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

static void test_selector_ok(void **state)
{
    (void)state;
    const struct {
        const char *in;
        size_t n;
        want_m_t m[4];
    } t[] = {
        { "up", 1, { { "__name__", MATCH_EQ, "up" } } },
        { "  up  ", 1, { { "__name__", MATCH_EQ, "up" } } },
        { "a:b_c:1", 1, { { "__name__", MATCH_EQ, "a:b_c:1" } } },
        { "up{job=\"x\"}", 2, { { "__name__", MATCH_EQ, "up" }, { "job", MATCH_EQ, "x" } } },
        { "{job=\"x\"}", 1, { { "job", MATCH_EQ, "x" } } },
        { " up { job = \"x\" , } ", 2, { { "__name__", MATCH_EQ, "up" }, { "job", MATCH_EQ, "x" } } },
        { "{a=~\"x.*\", b!=\"\",\n\tc!~'y', d=`z`}",
          4,
          { { "a", MATCH_RE, "x.*" }, { "b", MATCH_NEQ, "" }, { "c", MATCH_NRE, "y" }, { "d", MATCH_EQ, "z" } } },
        { "{a=`r\\n\"'`}", 1, { { "a", MATCH_EQ, "r\\n\"'" } } },
        { "{a=\"\\x41\\u00e9\\101\\n\\\"\\\\\\t\"}",
          1,
          { { "a", MATCH_EQ,
              "A\xc3\xa9"
              "A\n\"\\\t" } } },
        { "{a='it\\'s'}", 1, { { "a", MATCH_EQ, "it's" } } },
        { "{a=\"\\U0001F600\\a\\b\\f\\r\\v\"}", 1, { { "a", MATCH_EQ, "\xf0\x9f\x98\x80\a\b\f\r\v" } } },
        { "{a=\"\\xff\"}", 1, { { "a", MATCH_EQ, "\xff" } } },
        { "{a=\"\\000\"}", 1, { { "a", MATCH_EQ, "\0", 1 } } },
        { "{a=\"caf\xc3\xa9\"}", 1, { { "a", MATCH_EQ, "caf\xc3\xa9" } } },
        { "{\"utf8.name\"=\"x\"}", 1, { { "utf8.name", MATCH_EQ, "x" } } },
        { "{\"my.metric\"}", 1, { { "__name__", MATCH_EQ, "my.metric" } } },
        { "{\"my.metric\", job=\"x\",}", 2, { { "__name__", MATCH_EQ, "my.metric" }, { "job", MATCH_EQ, "x" } } },
        { "{job=\"x\", \"my.metric\"}", 2, { { "job", MATCH_EQ, "x" }, { "__name__", MATCH_EQ, "my.metric" } } },
        { "{__name__=~\"up|down\"}", 1, { { "__name__", MATCH_RE, "up|down" } } },
        { "{on=\"x\", by=\"y\"}", 2, { { "on", MATCH_EQ, "x" }, { "by", MATCH_EQ, "y" } } },
        { "up{}", 1, { { "__name__", MATCH_EQ, "up" } } },
        { "{a=\"\", b=\"x\"}", 2, { { "a", MATCH_EQ, "" }, { "b", MATCH_EQ, "x" } } },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        matcher_t ms[4];
        size_t n = 99;
        char err[256] = "";
        if (selector_parse(t[i].in, strlen(t[i].in), ms, 4, &n, err, sizeof(err)) != 0) {
            fail_msg("case %s: %s", t[i].in, err);
        }
        if (n != t[i].n) {
            fail_msg("case %s: n %zu want %zu", t[i].in, n, t[i].n);
        }
        for (size_t k = 0; k < n; k++) {
            const want_m_t *w = &t[i].m[k];
            size_t vlen = w->value_len ? w->value_len : strlen(w->value);
            if (strcmp(ms[k].name, w->name) != 0 || ms[k].type != w->type || ms[k].value_len != vlen ||
                memcmp(ms[k].value, w->value, vlen) != 0) {
                fail_msg("case %s: matcher %zu is %s%s\"%s\"", t[i].in, k, ms[k].name, match_type_str(ms[k].type),
                         ms[k].value);
            }
            matcher_fini(&ms[k]);
        }
    }
}

static void test_selector_errors(void **state)
{
    (void)state;
    const struct {
        const char *in;
        size_t len; /* 0: strlen */
        const char *err;
    } t[] = {
        { "", 0, "1:1: parse error: no expression found in input" },
        { "  \n ", 0, "2:2: parse error: no expression found in input" },
        { "up{%", 0, "1:4: parse error: unexpected character inside braces: '%'" },
        { "up{a%", 0, "1:5: parse error: unexpected character inside braces: '%'" },
        { "up{\n  a=%}", 0, "2:5: parse error: unexpected character inside braces: '%'" },
        { "up{\0}", 5, "1:4: parse error: unexpected character inside braces: '\\x00'" },
        { "up{\x7f}", 0, "1:4: parse error: unexpected character inside braces: '\\x7f'" },
        { "up{\xc3\xa9}", 0, "1:4: parse error: unexpected character inside braces: '\xc3\xa9'" },
        { "up{\xff}", 0, "1:4: parse error: unexpected character inside braces: '\xef\xbf\xbd'" },
        { "up{\\}", 0, "1:4: parse error: unexpected character inside braces: '\\\\'" },
        { "{}", 0, "1:1: parse error: vector selector must contain at least one non-empty matcher" },
        { "{a=\"\"}", 0, "1:1: parse error: vector selector must contain at least one non-empty matcher" },
        { " {a=~\".*\", b!=\"x\", c!~\"y\"}", 0,
          "1:2: parse error: vector selector must contain at least one non-empty matcher" },
        { "up{job}", 0, "1:7: parse error: unexpected \"}\" in label matching, expected label matching operator" },
        { "up{job=}", 0, "1:8: parse error: unexpected \"}\" in label matching, expected string" },
        { "up{job=x}", 0, "1:8: parse error: unexpected identifier \"x\" in label matching, expected string" },
        { "up{=\"x\"}", 0, "1:4: parse error: unexpected \"=\" in label matching, expected identifier or \"}\"" },
        { "up{,}", 0, "1:4: parse error: unexpected \",\" in label matching, expected identifier or \"}\"" },
        { "up{a=\"b\",,}", 0, "1:10: parse error: unexpected \",\" in label matching, expected identifier or \"}\"" },
        { "up{a=\"b\" c=\"d\"}", 0,
          "1:10: parse error: unexpected identifier \"c\" in label matching, expected \",\" or \"}\"" },
        { "up{a=\"b\" \"c\"}", 0,
          "1:10: parse error: unexpected string \"\\\"c\\\"\" in label matching, expected \",\" or \"}\"" },
        { "up{a \"b\"}", 0,
          "1:6: parse error: unexpected string \"\\\"b\\\"\" in label matching, expected label matching operator" },
        { "up{a=\"b\"", 0, "1:9: parse error: unexpected end of input inside braces" },
        { "up{a=", 0, "1:6: parse error: unexpected end of input inside braces" },
        { "up{", 0, "1:4: parse error: unexpected end of input inside braces" },
        { "up{a!", 0, "1:5: parse error: unexpected end of input inside braces" },
        { "up{a!b=\"c\"}", 0, "1:5: parse error: unexpected character after '!' inside braces: 'b'" },
        { "up{a=\"b", 0, "1:6: parse error: unterminated quoted string" },
        { "up{a=\"b\nc\"}", 0, "1:6: parse error: unterminated quoted string" },
        { "up{a=\"b\\", 0, "1:6: parse error: unterminated quoted string" },
        { "up{a=\"\\x4", 0, "1:6: parse error: unterminated quoted string" },
        { "up{a=`b", 0, "1:6: parse error: unterminated raw string" },
        { "up{a=\"b\\q\"}", 0, "1:6: parse error: unknown escape sequence U+0071 'q'" },
        { "up{a=\"b\\'\"}", 0, "1:6: parse error: unknown escape sequence U+0027 '''" },
        { "up{a='b\\\"'}", 0, "1:6: parse error: unknown escape sequence U+0022 '\"'" },
        { "up{a=\"\\400\"}", 0, "1:6: parse error: octal escape value > 255: 256" },
        { "up{a=\"\\08\"}", 0, "1:6: parse error: illegal character U+0038 in escape sequence" },
        { "up{a=\"\\xZZ\"}", 0, "1:6: parse error: illegal character U+005A in escape sequence" },
        { "up{a=\"\\uD800\"}", 0, "1:6: parse error: escape sequence is an invalid Unicode code point" },
        { "up{a=\"\\U00110000\"}", 0, "1:6: parse error: escape sequence is an invalid Unicode code point" },
        { "up{a=\"\xff\"}", 0, "1:6: parse error: invalid UTF-8 rune" },
        { "up{a=`\xc0\xaf`}", 0, "1:6: parse error: invalid UTF-8 rune" },
        { "up{a=~\"(abc\"}", 0,
          "1:4: parse error: error parsing regexp: missing closing parenthesis at offset 4: `(abc`" },
        { "up{\"\"=\"x\"}", 0, "1:4: parse error: invalid label name \"\"" },
        { "up{__name__=\"x\"}", 0, "1:1: parse error: metric name must not be set twice: \"up\" or \"x\"" },
        { "up{\"down\"}", 0, "1:1: parse error: metric name must not be set twice: \"up\" or \"down\"" },
        { "{\"a\", \"b\"}", 0, "1:1: parse error: metric name must not be set twice: \"a\" or \"b\"" },
        { "up x", 0, "1:4: parse error: unexpected character after selector: 'x'" },
        { "up{a=\"b\"}[5m]", 0, "1:10: parse error: unexpected character after selector: '['" },
        { "up{a=\"b\"}}", 0, "1:10: parse error: unexpected character after selector: '}'" },
        { "1up", 0, "1:1: parse error: unexpected character: '1'" },
        { "\"up\"", 0, "1:1: parse error: unexpected character: '\"'" },
        { "up-down", 0, "1:3: parse error: unexpected character after selector: '-'" },
        { "{a=\"1\",b=\"2\",c=\"3\",d=\"4\",e=\"5\"}", 0, "1:26: parse error: too many matchers (limit 4)" },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        matcher_t ms[4];
        size_t n = 99;
        char err[256] = "";
        size_t len = t[i].len ? t[i].len : strlen(t[i].in);
        if (selector_parse(t[i].in, len, ms, 4, &n, err, sizeof(err)) != -1) {
            fail_msg("case %zu \"%s\" parsed", i, t[i].in);
        }
        if (strcmp(err, t[i].err) != 0) {
            fail_msg("case %zu: got\n  %s\nwant\n  %s", i, err, t[i].err);
        }
        assert_int_equal(n, 0);
    }
}

/* Every prefix of good selectors, and every single-byte corruption, must
 * either parse or fail with a positioned message, never crash or leak. */
static void test_selector_truncations(void **state)
{
    (void)state;
    const char *good[] = {
        "up{job=~\"a.*|b\", env!=`prod`, x!~'y\\n', \"utf8.name\"=\"\\u00e9\\x41\\101\"}",
        "{\"my.metric\", a=\"b\",}",
    };
    static const char hostile[] = { '\0', '\xff', '"', '\'', '`', '\\', '{', '}', ',', '=', '!', '~', '\n' };
    for (size_t g = 0; g < sizeof(good) / sizeof(good[0]); g++) {
        size_t len = strlen(good[g]);
        for (size_t cut = 0; cut <= len; cut++) {
            matcher_t ms[8];
            size_t n = 99;
            char err[256] = "";
            int rc = selector_parse(good[g], cut, ms, 8, &n, err, sizeof(err));
            if (rc == 0) {
                for (size_t k = 0; k < n; k++) {
                    matcher_fini(&ms[k]);
                }
            } else {
                assert_int_equal(n, 0);
                assert_non_null(strstr(err, ": parse error: "));
            }
            if (cut == len) {
                assert_int_equal(rc, 0);
            }
        }
        char *copy = mem_strdup(good[g]);
        for (size_t pos = 0; pos < len; pos++) {
            for (size_t h = 0; h < sizeof(hostile); h++) {
                char saved = copy[pos];
                copy[pos] = hostile[h];
                matcher_t ms[8];
                size_t n = 0;
                char err[256] = "";
                if (selector_parse(copy, len, ms, 8, &n, err, sizeof(err)) == 0) {
                    for (size_t k = 0; k < n; k++) {
                        matcher_fini(&ms[k]);
                    }
                } else {
                    assert_non_null(strstr(err, ": parse error: "));
                }
                copy[pos] = saved;
            }
        }
        mem_free(copy);
    }
    /* Zero room for matchers; tiny error buffer. */
    size_t n = 1;
    char err[12];
    assert_int_equal(selector_parse("up", 2, NULL, 0, &n, err, sizeof(err)), -1);
    assert_string_equal(err, "1:1: parse ");
    assert_int_equal(n, 0);
    assert_int_equal(selector_parse(NULL, 0, NULL, 0, &n, NULL, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_table),
        cmocka_unit_test(test_matches_empty),
        cmocka_unit_test(test_bad_regex),
        cmocka_unit_test(test_alts),
        cmocka_unit_test(test_backtracking_bounded),
        cmocka_unit_test(test_selector_ok),
        cmocka_unit_test(test_selector_errors),
        cmocka_unit_test(test_selector_truncations),
    };
    return cmocka_run_group_tests_name("matcher", tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for query/promql_fn_label.c: label_replace and label_join with the
 * cases of Prometheus' functions.test and name_label_dropping.test, then
 * Go regexp semantics case by case (what RE2 rejects, what PCRE2 would
 * read differently: \s and \v, octal, "{" literals, "[\d-z]", unanchored
 * alternation escaping the wrapper, duplicate group names, nested repeat
 * limits), Go Regexp.Expand templates ($ at the end, ${, $$, leading
 * zeros, Unicode names, missing and unset groups, huge templates), error
 * texts, label ordering, and hostile subjects (NUL bytes, invalid UTF-8,
 * catastrophic backtracking, deep nesting, megabyte values).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/labels.h"
#include "common/mem.h"
#include "query/promql_int.h"

#define N(x) (sizeof(x) / sizeof((x)[0]))
#define L(n, v)                                                                                                        \
    {                                                                                                                  \
        STR_LIT(n), STR_LIT(v)                                                                                         \
    }
#define MAXL 6

typedef struct fixture {
    arena_t *a;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = mem_calloc(1, sizeof(*f));
    f->a = arena_create(1 << 16);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    arena_destroy(f->a);
    mem_free(f);
    return 0;
}

static void fmt(const label_t *ls, size_t n, buf_t *out)
{
    buf_reset(out);
    labels_format(ls, n, out);
}

/* label_replace(in, dst, repl, src, regex): 0 and the formatted result in
 * out ("=" when the input came back unchanged), or -1 and the error. */
static int replace(arena_t *a, const label_t *in, size_t n, str_t dst, str_t repl, str_t src, str_t regex, buf_t *out,
                   char *err, size_t errlen)
{
    pq_relabel_t *r = NULL;
    err[0] = '\0';
    if (pq_relabel_create(dst.p, dst.len, repl.p, repl.len, src.p, src.len, regex.p, regex.len, &r, err, errlen) != 0) {
        assert_null(r);
        return -1;
    }
    assert_non_null(r);
    label_t *res = NULL;
    size_t m = pq_relabel_apply(r, in, n, a, &res);
    if (res == in) {
        assert_int_equal(m, n);
        buf_reset(out);
        buf_puts(out, "=");
    } else {
        fmt(res, m, out);
        for (size_t i = 0; i < m; i++) { /* every string is a fresh copy */
            for (size_t k = 0; k < n; k++) {
                assert_true(res[i].name.p != in[k].name.p || res[i].name.len == 0);
                assert_true(res[i].value.p != in[k].value.p || res[i].value.len == 0);
            }
        }
    }
    pq_relabel_destroy(r);
    return 0;
}

typedef struct rcase {
    const char *name;
    label_t in[MAXL];
    size_t n;
    const char *dst, *repl, *src, *regex;
    const char *want; /* formatted, "=" for unchanged, or NULL on error */
    const char *err;
} rcase_t;

#define TM10 { L("dst", "original-destination-value"), L("src", "source-value-10") }, 2
#define NAMED { L("__name__", "metric_total"), L("env", "1") }, 2

static void run_replace(arena_t *a, const rcase_t *cases, size_t n)
{
    buf_t out = { 0 };
    char err[256];
    for (size_t i = 0; i < n; i++) {
        const rcase_t *c = &cases[i];
        int rc = replace(a, c->in, c->n, str_cstr(c->dst), str_cstr(c->repl), str_cstr(c->src), str_cstr(c->regex),
                         &out, err, sizeof(err));
        if (c->want == NULL) {
            if (rc == 0) {
                fail_msg("%s: regex %s compiled, want error", c->name, c->regex);
            }
            if (c->err && strcmp(err, c->err) != 0) {
                fail_msg("%s: error \"%s\", want \"%s\"", c->name, err, c->err);
            }
            continue;
        }
        if (rc != 0) {
            fail_msg("%s: error %s", c->name, err);
        }
        if (strcmp((const char *)out.data, c->want) != 0) {
            fail_msg("%s: got %s want %s", c->name, (const char *)out.data, c->want);
        }
    }
    buf_fini(&out);
}

/* functions.test "Tests for label_replace" and name_label_dropping.test. */
static void test_replace_prometheus(void **state)
{
    fixture_t *f = *state;
    const rcase_t cases[] = {
        { "full match", TM10, "dst", "destination-value-$1", "src", "source-value-(.*)",
          "{dst=\"destination-value-10\", src=\"source-value-10\"}", NULL },
        { "no substring match", TM10, "dst", "destination-value-$1", "src", "value-(.*)", "=", NULL },
        { "two groups", TM10, "dst", "$1-value-$2", "src", "(.*)-value-(.*)",
          "{dst=\"source-value-10\", src=\"source-value-10\"}", NULL },
        { "missing source", TM10, "dst", "value-$1", "nonexistent-src", "source-value-(.*)", "=", NULL },
        { "missing source matched as empty", TM10, "dst", "value-$1", "nonexistent-src", "(.*)",
          "{dst=\"value-\", src=\"source-value-10\"}", NULL },
        { "no match", TM10, "dst", "value-$1", "src", "non-matching-regex", "=", NULL },
        { "empty value drops", TM10, "dst", "", "dst", ".*", "{src=\"source-value-10\"}", NULL },
        { "bad regex", TM10, "dst", "value-$1", "src", "(.*", NULL,
          "invalid regular expression in label_replace(): (.*" },
        { "bad dst", TM10, "\xff", "", "src", "(.*)", NULL, "invalid destination label name in label_replace(): \xff" },
        { "empty dst", TM10, "", "", "src", "(.*)", NULL, "invalid destination label name in label_replace(): " },
        { "surrogate dst", TM10, "\xed\xa0\x80", "x", "src", "(.*)", NULL, NULL },
        { "regex error wins", TM10, "", "", "src", "(", NULL, "invalid regular expression in label_replace(): (" },
        { "utf8 dst", TM10, "d\xc3\xbc", "x", "src", ".*",
          "{dst=\"original-destination-value\", \"d\xc3\xbc\"=\"x\", src=\"source-value-10\"}", NULL },
        { "rename from name", NAMED, "my_name", "rate_$1", "__name__", "(.+)",
          "{__name__=\"metric_total\", env=\"1\", my_name=\"rate_metric_total\"}", NULL },
        { "set name", NAMED, "__name__", "rate_$1", "__name__", "(.+)", "{__name__=\"rate_metric_total\", env=\"1\"}",
          NULL },
        { "empty regex matches empty source", NAMED, "job", "1", "", "",
          "{__name__=\"metric_total\", env=\"1\", job=\"1\"}", NULL },
        { "first position", NAMED, "A", "x", "env", "1", "{A=\"x\", __name__=\"metric_total\", env=\"1\"}", NULL },
        { "empty over absent", NAMED, "zz", "", "env", ".*", "{__name__=\"metric_total\", env=\"1\"}", NULL },
    };
    run_replace(f->a, cases, N(cases));
}

typedef struct xcase {
    const char *regex;
    const char *subject;
    const char *repl;
    const char *want; /* dst value, "=" unchanged, NULL compile error */
} xcase_t;

static void run_regex(arena_t *a, const xcase_t *cases, size_t n)
{
    buf_t out = { 0 }, want = { 0 };
    char err[512];
    for (size_t i = 0; i < n; i++) {
        const xcase_t *c = &cases[i];
        label_t in[1] = { { STR_LIT("s"), str_cstr(c->subject) } };
        int rc = replace(a, in, 1, STR_LIT("d"), str_cstr(c->repl), STR_LIT("s"), str_cstr(c->regex), &out, err,
                         sizeof(err));
        if (!c->want) {
            if (rc == 0) {
                fail_msg("case %zu: regex \"%s\" compiled, Go rejects it", i, c->regex);
            }
            char expect[512];
            snprintf(expect, sizeof(expect), "invalid regular expression in label_replace(): %s", c->regex);
            assert_string_equal(err, expect);
            continue;
        }
        if (rc != 0) {
            fail_msg("case %zu: regex \"%s\": %s", i, c->regex, err);
        }
        buf_reset(&want);
        if (strcmp(c->want, "=") == 0) {
            buf_puts(&want, "=");
        } else {
            label_t w[2] = { { STR_LIT("d"), str_cstr(c->want) }, { STR_LIT("s"), str_cstr(c->subject) } };
            size_t wn = 2;
            if (c->want[0] == '\0') {
                w[0] = w[1];
                wn = 1;
            }
            labels_format(w, wn, &want);
        }
        if (strcmp((const char *)out.data, (const char *)want.data) != 0) {
            fail_msg("case %zu: regex \"%s\" on \"%s\" -> %s, want %s", i, c->regex, c->subject, (const char *)out.data,
                     (const char *)want.data);
        }
    }
    buf_fini(&out);
    buf_fini(&want);
}

/* Regexes Go accepts, with the matches Go finds. */
static void test_regex_go_semantics(void **state)
{
    fixture_t *f = *state;
    const xcase_t cases[] = {
        /* The textual wrapper: "a)|(b" escapes it, exactly as in Prometheus. */
        { "a)|(b", "zzb", "<$1>", "<b>" },
        { "a)|(b", "abc", "<$1>", "<>" },
        { "a)|(b", "zzc", "<$1>", "=" },
        { "(?s:.*", "x", "y", NULL },
        /* Anchored: no substring matches; "." matches a newline. */
        { "b", "abc", "x", "=" },
        { "a.c", "a\nc", "x", "x" },
        { "(?-s)a.c", "a\nc", "x", "=" },
        { "a$", "a\n", "x", "=" },
        { "(?m)a$\n", "a\n", "x", "x" },
        /* "{" that is not a valid repeat is a literal in Go. */
        { "a{,3}", "a{,3}", "x", "x" },
        { "a{,3}", "aaa", "x", "=" },
        { "x{01}", "x{01}", "x", "x" },
        { "x{1", "x{1", "x", "x" },
        { "x{1,2", "x{1,2", "x", "x" },
        { "a{2}", "aa", "x", "x" },
        { "a{2,}", "aaaa", "x", "x" },
        { "a{0}b", "b", "x", "x" },
        { "a{1000}", "a", "x", "=" },
        { "(a{10}){100}", "a", "x", "=" },
        { "((a{2}){0}){1000}", "", "x", "x" },
        { "(a{10})*", "", "x", "x" },
        /* A hyphen after a class escape is literal. */
        { "[\\d-z]", "-", "x", "x" },
        { "[\\d-z]", "m", "x", "=" },
        { "[a\\-z]", "-", "x", "x" },
        { "[]a]", "]", "x", "x" },
        { "[^]a]", "b", "x", "x" },
        { "[a-]", "-", "x", "x" },
        /* \s is [\t\n\f\r ]: no vertical tab, unlike PCRE2. */
        { "\\s", "\v", "x", "=" },
        { "\\s", "\t", "x", "x" },
        { "\\S", "\v", "x", "x" },
        { "[\\s]", "\v", "x", "=" },
        { "[^\\S]", "\v", "x", "=" },
        { "[^\\S]", " ", "x", "x" },
        { "[\\S]", "\v", "x", "x" },
        { "[[:space:]]", "\v", "x", "x" },
        { "[[:^alpha:]]", "1", "x", "x" },
        { "[[:word:]]+", "a_1", "x", "x" },
        /* \v is one character in Go, a class in PCRE2. */
        { "\\v", "\v", "x", "x" },
        { "\\v", "\n", "x", "=" },
        /* Octal and hex escapes. */
        { "\\12", "\n", "x", "x" },
        { "\\0", "\x01", "x", "=" },
        { "\\101\\x41\\x{41}", "AAA", "x", "x" },
        { "\\x{263a}", "\xe2\x98\xba", "x", "x" },
        { "[\\x00-\\x{10FFFF}]", "\xf4\x8f\xbf\xbf", "x", "x" },
        { "\\Qa.b\\E+", "a.bb", "x", "x" },
        { "\\Qa.b\\E", "axb", "x", "=" },
        { "\\Q\\E*", "", "x", NULL },
        { "\\a\\f\\t\\r\\n", "\a\f\t\r\n", "x", "x" },
        { "\\_\\-\\ \\#", "_- #", "x", "x" },
        /* Flags and groups. */
        { "(?i)abc", "ABC", "x", "x" },
        { "(?i:a)b", "aB", "x", "=" },
        { "(?i:a)b", "Ab", "x", "x" },
        { "(?U)(a+)", "aaa", "$1", "aaa" },
        { "(?U)(a+?)a*", "aaa", "[$1]", "[aaa]" },
        { "(a+?)(a*)", "aaa", "[$1][$2]", "[a][aa]" },
        { "(?)a", "a", "x", "x" },
        { "(?i-s:a.)", "A\n", "x", "=" },
        { "^*a", "a", "x", "x" },
        { "\\b*a", "a", "x", "x" },
        { "(?i)k", "\xe2\x84\xaa", "x", "x" }, /* KELVIN SIGN folds to k */
        { "\\p{Greek}+", "\xce\xb1\xce\xb2", "x", "x" },
        { "\\pL", "\xc3\xa9", "x", "x" },
        { "\\PL", "1", "x", "x" },
        { "\\p{^Greek}", "a", "x", "x" },
        { "[\\p{Lu}]", "A", "x", "x" },
        /* Go 1.25 names: loose spelling, aliases, ASCII, Assigned, LC, Cn. */
        { "\\p{greek}", "\xce\xb1", "x", "x" },
        { "\\pl", "q", "x", "x" },
        { "\\p{old italic}", "\xf0\x90\x8c\x80", "x", "x" },
        { "\\p{Old_Italic}", "\xf0\x90\x8c\x80", "x", "x" },
        { "\\p{Letter}", "q", "x", "x" },
        { "\\p{decimal-number}+", "123", "x", "x" },
        { "\\p{ASCII}", "\x7f", "x", "x" },
        { "\\p{ASCII}", "\xc3\xa9", "x", "=" },
        { "\\P{ascii}", "\xc3\xa9", "x", "x" },
        { "[\\p{ASCII}]", "a", "x", "x" },
        { "[^\\P{ASCII}]", "a", "x", "x" },
        { "\\p{Assigned}", "a", "x", "x" },
        { "\\p{^Assigned}", "a", "x", "=" },
        { "\\p{Cn}", "\xf4\x8f\xbf\xbf", "x", "x" },
        { "\\p{LC}", "a", "x", "x" },
        { "\\p{LC}", "1", "x", "=" },
        { "a|", "", "x", "x" },
        { "|", "", "x", "x" },
        { "()", "", "[$1]", "[]" },
        /* Leftmost-first alternation and captures. */
        { "(a|ab)(c|bcd)(d*)", "abcd", "$1-$2-$3", "a-bcd-" },
        { "(a)|(b)", "b", "[$1][$2]", "[][b]" },
        { "(a*)*", "b", "x", "=" },
        { "(a*)+", "", "[$1]", "[]" },
        /* Surrogates: accepted by Go, never matched. */
        { "\\x{d800}", "a", "x", "=" },
        { "[\\x{d800}]", "a", "x", "=" },
        { "[^\\x{d800}]", "a", "x", "x" },
        { "[\\x{d000}-\\x{e000}]", "\xee\x80\x80", "x", "x" },
    };
    run_regex(f->a, cases, N(cases));
}

/* Regexes Go rejects even where PCRE2 would accept them. */
static void test_regex_go_rejects(void **state)
{
    fixture_t *f = *state;
    static const char *const bad[] = {
        "(.*",
        "(",
        ")",
        "a)",
        "[a",
        "[z-a]",
        "[[:foo:]]",
        "a**",
        "a*+",
        "a++",
        "a*??",
        "x{2}{3}",
        "a{2}*",
        "*a",
        "+",
        "?",
        "(*)",
        "a|*",
        "(*FAIL)",
        "(*UTF)a",
        "a{1001}",
        "a{2,1}",
        "a{0,1001}",
        "a{100000000}",
        "(a{10}){101}",
        "((a{10}){10}){11}",
        "(?=a)",
        "(?!a)",
        "(?<=a)b",
        "(?<!a)b",
        "(?>a)",
        "(?#c)",
        "(?x)a",
        "(?-)a",
        "(?i-)a",
        "(?--i)a",
        "(?P=x)",
        "(?P>x)",
        "(?|a)",
        "(?R)",
        "(?1)",
        "(?'n'a)",
        "(?P<>a)",
        "(?P<n-m>a)",
        "(?<n",
        "(?i",
        "(?",
        "\\1",
        "(a)\\1",
        "\\8",
        "\\9",
        "\\e",
        "\\h",
        "\\H",
        "\\R",
        "\\X",
        "\\Z",
        "\\K",
        "\\G",
        "\\C",
        "\\N",
        "\\g1",
        "\\k<x>",
        "\\o{1}",
        "\\cA",
        "\\u0041",
        "\\E",
        "\\x4",
        "\\xZZ",
        "\\x{}",
        "\\x{110000}",
        "\\x{12",
        "a\\",
        "[\\b]",
        "[\\Q]",
        "[a-\\d]",
        "\\p{L&}",
        "\\p{Xan}",
        "\\p{Alphabetic}",
        "\\p{Foo}",
        "\\p{Greek",
        "\\p{",
        "\\p",
        "\\pX",
        "\\p\xff",
        "\xff",
        "a\xc3",
        "\\Qabc",
    };
    for (size_t i = 0; i < N(bad); i++) {
        const xcase_t c[1] = { { bad[i], "a", "x", NULL } };
        run_regex(f->a, c, 1);
    }
}

/* Go's Regexp.Expand on "(?P<name>a)(b)?" matching "a". */
static void test_template(void **state)
{
    fixture_t *f = *state;
    const char *re = "(?P<name>a)(b)?";
    const struct {
        const char *repl;
        const char *want;
    } cases[] = {
        { "$1", "a" },
        { "${1}", "a" },
        { "$0", "a" },
        { "${0}", "a" },
        { "$2", "" },        /* unset group */
        { "$3", "" },        /* no such group */
        { "$99999999", "" }, /* a number, too big */
        { "$100000000", "" },
        { "$name", "a" },
        { "${name}x", "ax" },
        { "$namex", "" }, /* the name runs on */
        { "$name-x", "a-x" },
        { "$$", "$" },
        { "$$1", "$1" },
        { "$$$1", "$a" },
        { "$", "$" },
        { "x$", "x$" },
        { "${", "${" },
        { "${1", "${1" },
        { "${}", "${}" },
        { "${name", "${name" },
        { "$-1", "$-1" },
        { "$ 1", "$ 1" },
        { "$00", "" }, /* leading zero: a name, and no group has it */
        { "$01", "" },
        { "$1x", "" },
        { "$1_", "" },
        { "$_", "" },
        { "$1-", "a-" },
        { "$1\xc3\xa9", "" }, /* é is a letter: the name is "1é" */
        { "$\xc3\xa9", "" },  /* name "é" */
        { "${\xc3\xa9}", "" },
        { "$1\xd9\xa1", "" },                  /* ARABIC-INDIC DIGIT ONE is a digit */
        { "$1\xe2\x82\xac", "a\xe2\x82\xac" }, /* € is not */
        { "$1\xff", "a\xff" },                 /* an invalid byte ends the name */
        { "$1$1$1", "aaa" },
        { "${1}${name}${2}", "aa" },
        { "pre-$1-post", "pre-a-post" },
        { "", "" },
    };
    for (size_t i = 0; i < N(cases); i++) {
        const xcase_t c[1] = { { re, "a", cases[i].repl, cases[i].want } };
        run_regex(f->a, c, 1);
    }
    /* Go allows duplicate names; $n is the first group that took part. */
    const xcase_t dup[] = {
        { "(?P<n>a)(?P<n>b)", "ab", "$n", "a" },
        { "(?P<n>x)?(?P<n>b)", "b", "$n", "b" },
        { "(?<y>\\w+)", "hi", "${y}!", "hi!" },
        { "(?P<1a>.)", "q", "$1a", "q" },
    };
    run_regex(f->a, dup, N(dup));
}

/* Huge templates and values, NUL bytes, invalid UTF-8, backtracking. */
static void test_hostile(void **state)
{
    fixture_t *f = *state;
    buf_t out = { 0 }, big = { 0 };
    char err[256];
    /* 100k references expand to 100k copies. */
    for (int i = 0; i < 100000; i++) {
        buf_puts(&big, "$1");
    }
    label_t in[1] = { { STR_LIT("s"), STR_LIT("a") } };
    assert_int_equal(replace(f->a, in, 1, STR_LIT("d"), str_from((const char *)big.data, big.len), STR_LIT("s"),
                             STR_LIT("(a)"), &out, err, sizeof(err)),
                     0);
    assert_int_equal(out.len, strlen("{d=\"\", s=\"a\"}") + 100000);
    /* A megabyte value through "(.*)". */
    buf_reset(&big);
    for (int i = 0; i < (1 << 20); i++) {
        buf_putc(&big, (uint8_t)('a' + i % 26));
    }
    label_t in2[1] = { { STR_LIT("s"), str_from((const char *)big.data, big.len) } };
    assert_int_equal(
        replace(f->a, in2, 1, STR_LIT("d"), STR_LIT("<$1>"), STR_LIT("s"), STR_LIT("(.*)"), &out, err, sizeof(err)), 0);
    assert_int_equal(out.len, 2 * big.len + strlen("{d=\"<>\", s=\"\"}"));
    /* NUL bytes in the regex, subject, template and names. */
    label_t nul[1] = { { str_from("s\0t", 3), str_from("a\0b", 3) } };
    assert_int_equal(replace(f->a, nul, 1, str_from("d\0", 2), str_from("$1\0", 3), str_from("s\0t", 3),
                             str_from("a\0(b)", 5), &out, err, sizeof(err)),
                     0);
    assert_string_equal((const char *)out.data, "{\"d\\x00\"=\"b\\x00\", \"s\\x00t\"=\"a\\x00b\"}");
    /* A subject that is not UTF-8 never matches (Go would read U+FFFD). */
    label_t bad[1] = { { STR_LIT("s"), STR_LIT("\xff") } };
    assert_int_equal(
        replace(f->a, bad, 1, STR_LIT("d"), STR_LIT("x"), STR_LIT("s"), STR_LIT("(.*)"), &out, err, sizeof(err)), 0);
    assert_string_equal((const char *)out.data, "=");
    /* Catastrophic backtracking ends (no match) instead of hanging. */
    buf_reset(&big);
    for (int i = 0; i < 40; i++) {
        buf_putc(&big, 'a');
    }
    label_t redos[1] = { { STR_LIT("s"), str_from((const char *)big.data, big.len) } };
    assert_int_equal(
        replace(f->a, redos, 1, STR_LIT("d"), STR_LIT("x"), STR_LIT("s"), STR_LIT("(a+)+b"), &out, err, sizeof(err)),
        0);
    assert_string_equal((const char *)out.data, "=");
    /* Nesting: 200 groups compile, 2000 exceed Go's limit. */
    for (size_t depth = 200; depth <= 2000; depth += 1800) {
        buf_reset(&big);
        for (size_t i = 0; i < depth; i++) {
            buf_putc(&big, '(');
        }
        buf_putc(&big, 'a');
        for (size_t i = 0; i < depth; i++) {
            buf_putc(&big, ')');
        }
        int rc = replace(f->a, in, 1, STR_LIT("d"), STR_LIT("<$200>"), STR_LIT("s"),
                         str_from((const char *)big.data, big.len), &out, err, sizeof(err));
        if (depth == 200) {
            assert_int_equal(rc, 0);
            assert_string_equal((const char *)out.data, "{d=\"<a>\", s=\"a\"}");
        } else {
            assert_int_equal(rc, -1);
        }
    }
    /* A long literal regex and a long alternation. */
    buf_reset(&big);
    for (int i = 0; i < 3000; i++) {
        buf_printf(&big, "%sv%d", i ? "|" : "", i);
    }
    label_t alt[1] = { { STR_LIT("s"), STR_LIT("v2999") } };
    assert_int_equal(replace(f->a, alt, 1, STR_LIT("d"), STR_LIT("$0"), STR_LIT("s"),
                             str_from((const char *)big.data, big.len), &out, err, sizeof(err)),
                     0);
    assert_string_equal((const char *)out.data, "{d=\"v2999\", s=\"v2999\"}");
    /* destroy accepts NULL; a relabel is reusable across series. */
    pq_relabel_destroy(NULL);
    pq_relabel_t *r = NULL;
    assert_int_equal(pq_relabel_create("d", 1, "<$1>", 4, "s", 1, "(.)", 3, &r, err, sizeof(err)), 0);
    for (int i = 0; i < 3; i++) {
        label_t one[1] = { { STR_LIT("s"), str_from(&"xyz"[i], 1) } };
        label_t *res = NULL;
        assert_int_equal(pq_relabel_apply(r, one, 1, f->a, &res), 2);
        assert_int_equal(res[0].value.len, 3);
        assert_int_equal(res[0].value.p[1], "xyz"[i]);
    }
    pq_relabel_destroy(r);
    /* A tiny error buffer truncates. */
    char small[8];
    assert_int_equal(pq_relabel_create("d", 1, "", 0, "s", 1, "(", 1, &r, small, sizeof(small)), -1);
    assert_string_equal(small, "invalid");
    buf_fini(&out);
    buf_fini(&big);
}

typedef struct jcase {
    const char *name;
    label_t in[MAXL];
    size_t n;
    const char *dst, *sep;
    const char *src[4];
    size_t nsrc;
    const char *want;
} jcase_t;

#define JM1 { L("dst", "original-destination-value"), L("src", "a"), L("src1", "b"), L("src2", "c") }, 4

/* functions.test "Tests for label_join" and name_label_dropping.test. */
static void test_join(void **state)
{
    fixture_t *f = *state;
    const jcase_t cases[] = {
        { "in order",
          JM1,
          "dst",
          "-",
          { "src", "src1", "src2" },
          3,
          "{dst=\"a-b-c\", src=\"a\", src1=\"b\", src2=\"c\"}" },
        { "missing source is empty",
          JM1,
          "dst",
          "-",
          { "src", "src3", "src1" },
          3,
          "{dst=\"a--b\", src=\"a\", src1=\"b\", src2=\"c\"}" },
        { "empty result drops",
          JM1,
          "dst",
          "",
          { "emptysrc", "emptysrc1", "emptysrc2" },
          3,
          "{src=\"a\", src1=\"b\", src2=\"c\"}" },
        { "no sources drops", JM1, "dst", ", ", { NULL }, 0, "{src=\"a\", src1=\"b\", src2=\"c\"}" },
        { "creates dst",
          { L("src", "foo"), L("src1", "bar"), L("src2", "foobar") },
          3,
          "dst",
          ", ",
          { "src", "src1", "src2" },
          3,
          "{dst=\"foo, bar, foobar\", src=\"foo\", src1=\"bar\", src2=\"foobar\"}" },
        { "same label twice",
          { L("idx", "1"), L("label", "a") },
          2,
          "idx",
          ",",
          { "label", "label" },
          2,
          "{idx=\"a,a\", label=\"a\"}" },
        { "name from name",
          NAMED,
          "my_name",
          "_",
          { "__name__" },
          1,
          "{__name__=\"metric_total\", env=\"1\", my_name=\"metric_total\"}" },
        { "set name", NAMED, "__name__", "_", { "__name__", "env" }, 2, "{__name__=\"metric_total_1\", env=\"1\"}" },
        { "dst first", NAMED, "A", "", { "env" }, 1, "{A=\"1\", __name__=\"metric_total\", env=\"1\"}" },
        { "dst last", NAMED, "zz", "+", { "env", "env" }, 2, "{__name__=\"metric_total\", env=\"1\", zz=\"1+1\"}" },
        { "separators only",
          NAMED,
          "x",
          "-",
          { "a", "b", "c" },
          3,
          "{__name__=\"metric_total\", env=\"1\", x=\"--\"}" },
        { "empty input", { { { 0 } } }, 0, "x", "-", { "a" }, 1, "{}" },
    };
    buf_t out = { 0 };
    for (size_t i = 0; i < N(cases); i++) {
        const jcase_t *c = &cases[i];
        str_t src[4];
        for (size_t k = 0; k < c->nsrc; k++) {
            src[k] = str_cstr(c->src[k]);
        }
        label_t *res = NULL;
        size_t m = pq_label_join(c->in, c->n, str_cstr(c->dst), str_cstr(c->sep), src, c->nsrc, f->a, &res);
        fmt(res, m, &out);
        if (strcmp((const char *)out.data, c->want) != 0) {
            fail_msg("%s: got %s want %s", c->name, (const char *)out.data, c->want);
        }
    }
    /* NUL bytes in the separator and in values. */
    label_t in[2] = { { STR_LIT("a"), str_from("x\0y", 3) }, { STR_LIT("b"), STR_LIT("z") } };
    str_t src[2] = { STR_LIT("a"), STR_LIT("b") };
    label_t *res = NULL;
    size_t m = pq_label_join(in, 2, STR_LIT("c"), str_from("\0", 1), src, 2, f->a, &res);
    assert_int_equal(m, 3);
    assert_int_equal(res[2].value.len, 5);
    assert_memory_equal(res[2].value.p, "x\0y\0z", 5);
    buf_fini(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replace_prometheus),
        cmocka_unit_test(test_regex_go_semantics),
        cmocka_unit_test(test_regex_go_rejects),
        cmocka_unit_test(test_template),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_join),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

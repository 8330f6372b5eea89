/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for tests/promqltest/promqltest_parse.c, the parser of Prometheus'
 * PromQL test scripts: the expanding value notation (a+bxn, a-bxn, axn,
 * _xn, stale, Inf/NaN, and "0x3" as a repetition, not hex), series
 * selectors with Go string escapes, expect lines, scalar result numbers
 * (Go's ParseInt base 0, then ParseFloat), whole scripts with every
 * command form, malformed blocks that must yield one diagnostic each and
 * not stop the parse, and hostile input (every truncation, NUL/DEL/0xFF at
 * every position) that must never crash.
 */
#include <math.h>
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
#include "common/mem.h"
#include "promqltest.h"
#include "tsdb/tsdb.h"

static bool is_stale(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof(b));
    return b == TSDB_STALE_NAN_BITS;
}

/* "1 _ stale NaN +Inf" */
static void format_points(const promqltest_point_t *p, size_t n, buf_t *out)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            buf_putc(out, ' ');
        }
        if (p[i].omitted) {
            buf_putc(out, '_');
        } else if (is_stale(p[i].v)) {
            buf_puts(out, "stale");
        } else if (isnan(p[i].v)) {
            buf_puts(out, "NaN");
        } else if (isinf(p[i].v)) {
            buf_puts(out, p[i].v > 0 ? "+Inf" : "-Inf");
        } else {
            buf_printf(out, "%.15g", p[i].v);
        }
    }
}

static void format_labels(const label_t *ls, size_t n, buf_t *out)
{
    buf_putc(out, '{');
    for (size_t i = 0; i < n; i++) {
        buf_printf(out, "%s%.*s=%.*s", i ? "," : "", (int)ls[i].name.len, ls[i].name.p, (int)ls[i].value.len,
                   ls[i].value.p);
    }
    buf_putc(out, '}');
}

static void test_values(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *want; /* NULL: an error */
    } t[] = {
        { "1 2 3", "1 2 3" },
        { "0+10x3", "0 10 20 30" },
        { "5-2x2", "5 3 1" },
        { "7x2", "7 7 7" },
        { "_", "_" },
        { "_x3", "_ _ _" },
        { "_x0", "" },
        { "1 _x3 stale", "1 _ _ _ stale" },
        { "-1x1", "-1 -1" },
        { "-1-1x2", "-1 -2 -3" },
        { "+2+1x1", "2 3" },
        { "1e3 -1.5e-1 .5 5.", "1000 -0.15 0.5 5" },
        { "1e+2x1", "100 100" },
        { "1E2-1e1x1", "100 90" },
        { "Inf -Inf +Inf inf NaN nan -NaN", "+Inf -Inf +Inf +Inf NaN NaN NaN" },
        { "NaN+1x1", "NaN NaN" },
        { "0x3", "0 0 0 0" }, /* not hex: "0 three more times" */
        { "0x0", "0" },
        { "  1 \t 2  ", "1 2" },
        { "", "" },
        { "abc", NULL },
        { "1x", NULL },
        { "1+2", NULL },
        { "1+x2", NULL },
        { "0x1f", NULL },
        { "1m", NULL },
        { "stalex2", NULL },
        { "-stale", NULL },
        { "Stale", NULL },
        { "1+-1x2", NULL },
        { "1+Infx2", NULL },
        { "1..2", NULL },
        { "1.5.3", NULL },
        { "_x", NULL },
        { "_y", NULL },
        { "__", NULL },
        { "1x1e3", NULL },
        { "1x-1", NULL },
        { "1x99999999999999999999", NULL },
        { "1x18446744073709551615", NULL },
        { "1x2000000", NULL },
        { "_x2000000", NULL },
        { "+", NULL },
        { "-", NULL },
        { ".", NULL },
        { "{{schema:0}}", NULL },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        arena_t *a = arena_create(4096);
        promqltest_point_t *p = NULL;
        size_t n = 0;
        char err[200] = "";
        int rc = promqltest_parse_values(t[i].in, strlen(t[i].in), a, &p, &n, err, sizeof(err));
        if (t[i].want == NULL) {
            if (rc != -1 || err[0] == '\0') {
                fail_msg("\"%s\": rc %d, want an error with a reason", t[i].in, rc);
            }
        } else {
            buf_t b;
            buf_init(&b);
            format_points(p, n, &b);
            if (rc != 0 || strcmp(b.len ? (const char *)b.data : "", t[i].want) != 0) {
                fail_msg("\"%s\": rc %d (%s), got \"%s\", want \"%s\"", t[i].in, rc, err,
                         b.len ? (const char *)b.data : "", t[i].want);
            }
            buf_fini(&b);
        }
        arena_destroy(a);
    }
}

/* a+bxn adds b n times (upstream's grammar), so 0.1+0.1x2 ends at 0.1+0.1+0.1. */
static void test_values_repeated_addition(void **state)
{
    (void)state;
    arena_t *a = arena_create(4096);
    promqltest_point_t *p = NULL;
    size_t n = 0;
    char err[200];
    assert_int_equal(promqltest_parse_values("0.1+0.1x2", 9, a, &p, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 3);
    double want = 0.1;
    for (size_t i = 0; i < n; i++) {
        assert_memory_equal(&p[i].v, &want, sizeof(want));
        want += 0.1;
    }
    assert_int_equal(promqltest_parse_values("stale", 5, a, &p, &n, err, sizeof(err)), 0);
    uint64_t bits;
    memcpy(&bits, &p[0].v, sizeof(bits));
    assert_true(bits == TSDB_STALE_NAN_BITS);
    arena_destroy(a);
}

static void test_series(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *labels; /* NULL: an error */
        const char *values; /* "H": histogram */
    } t[] = {
        { "foo{a=\"b\", c=\"d\"} 1 2", "{__name__=foo,a=b,c=d}", "1 2" },
        { "{__name__=\"foo\"} 1", "{__name__=foo}", "1" },
        { "foo 1", "{__name__=foo}", "1" },
        { "foo", "{__name__=foo}", "" },
        { "{} 1", "{}", "1" },
        { "{ } 1", "{}", "1" },
        { "foo:bar_baz 1", "{__name__=foo:bar_baz}", "1" },
        { "foo{a=\"\"} 1", "{__name__=foo}", "1" },
        { "foo{a=\"b\",} 1", "{__name__=foo,a=b}", "1" },
        { "foo{ a = \"b\" , c=\"d\" } 1", "{__name__=foo,a=b,c=d}", "1" },
        { "foo{z=\"1\", a=\"2\"} 1", "{__name__=foo,a=2,z=1}", "1" },
        { "foo{a=\"x\\\"y\\\\\"} 1", "{__name__=foo,a=x\"y\\}", "1" },
        { "foo{a='sin\"gle'} 1", "{__name__=foo,a=sin\"gle}", "1" },
        { "foo{a=`raw\\n`} 1", "{__name__=foo,a=raw\\n}", "1" },
        { "foo{a=\"\\u00e9\\x41\\101\"} 1",
          "{__name__=foo,a=\xc3\xa9"
          "AA}",
          "1" },
        { "foo{\"a.b\"=\"c\"} 1", "{__name__=foo,a.b=c}", "1" },
        { "{\"my.metric\", a=\"b\"} 1", "{__name__=my.metric,a=b}", "1" },
        { "foo{a=\"{x}\"} 3", "{__name__=foo,a={x}}", "3" },
        { "foo{a=\"b c\"} 3", "{__name__=foo,a=b c}", "3" },
        { "foo{__name__=\"bar\"} 1", "{__name__=foo}", "1" }, /* the identifier wins */
        { "foo{a=\"1\", a=\"2\"} 1", "{__name__=foo,a=2}", "1" },
        { "h{a=\"b\"} {{schema:0 sum:1 count:2}} 1", "{__name__=h,a=b}", "H" },
        { "h 1 {{count:1}}+{{count:1}}x2", "{__name__=h}", "H" },
        { "foo{a=~\"b\"} 1", NULL, NULL },
        { "foo{a!=\"b\"} 1", NULL, NULL },
        { "foo{a=\"b\" 1", NULL, NULL },
        { "foo{a=b} 1", NULL, NULL },
        { "foo{a=\"b\"}x 1", NULL, NULL },
        { "foo{a=\"b\\q\"} 1", NULL, NULL },
        { "foo{a=\"b\n\"} 1", NULL, NULL },
        { "foo{1a=\"b\"} 1", NULL, NULL },
        { "foo{a=\"b\"", NULL, NULL },
        { "foo{", NULL, NULL },
        { "1 2", NULL, NULL },
        { "", NULL, NULL },
        { "foo 1x", NULL, NULL },
        { "foo{a=\"\\uD800\"} 1", NULL, NULL },
        { "foo{a=\"\\400\"} 1", NULL, NULL },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        arena_t *a = arena_create(4096);
        promqltest_series_t s;
        char err[200] = "";
        int rc = promqltest_parse_series(t[i].in, strlen(t[i].in), a, &s, err, sizeof(err));
        if (t[i].labels == NULL) {
            if (rc != -1 || err[0] == '\0') {
                fail_msg("\"%s\": rc %d, want an error with a reason", t[i].in, rc);
            }
            arena_destroy(a);
            continue;
        }
        if (rc != 0) {
            fail_msg("\"%s\": %s", t[i].in, err);
        }
        buf_t l, v;
        buf_init(&l);
        buf_init(&v);
        format_labels(s.labels, s.nlabels, &l);
        if (s.histogram) {
            buf_putc(&v, 'H');
        } else {
            format_points(s.pts, s.npts, &v);
        }
        if (strcmp((const char *)l.data, t[i].labels) != 0 || strcmp(v.len ? (const char *)v.data : "", t[i].values)) {
            fail_msg("\"%s\": got %s \"%s\", want %s \"%s\"", t[i].in, (const char *)l.data,
                     v.len ? (const char *)v.data : "", t[i].labels, t[i].values);
        }
        buf_fini(&l);
        buf_fini(&v);
        arena_destroy(a);
    }
}

static void test_expect(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int rc;
        promqltest_expect_kind_t kind;
        promqltest_match_t match;
        const char *text;
    } t[] = {
        { "expect fail", 0, PROMQLTEST_EXPECT_FAIL, PROMQLTEST_MATCH_ANY, "" },
        { "expect fail msg: something bad ", 0, PROMQLTEST_EXPECT_FAIL, PROMQLTEST_MATCH_MSG, "something bad" },
        { "expect fail msg:invalid label name \"a\\xc5z\"", 0, PROMQLTEST_EXPECT_FAIL, PROMQLTEST_MATCH_MSG,
          "invalid label name \"a\\xc5z\"" },
        { "expect warn regex: foo.*bar \\(1:5\\)", 0, PROMQLTEST_EXPECT_WARN, PROMQLTEST_MATCH_REGEX,
          "foo.*bar \\(1:5\\)" },
        { "expect info msg: PromQL info: x (1:1)", 0, PROMQLTEST_EXPECT_INFO, PROMQLTEST_MATCH_MSG,
          "PromQL info: x (1:1)" },
        { "expect ordered", 0, PROMQLTEST_EXPECT_ORDERED, PROMQLTEST_MATCH_ANY, "" },
        { "expect no_warn", 0, PROMQLTEST_EXPECT_NO_WARN, PROMQLTEST_MATCH_ANY, "" },
        { "expect  no_info ", 0, PROMQLTEST_EXPECT_NO_INFO, PROMQLTEST_MATCH_ANY, "" },
        { "expect\tinfo", 0, PROMQLTEST_EXPECT_INFO, PROMQLTEST_MATCH_ANY, "" },
        { "expect", -1, 0, 0, NULL },
        { "expect failure", -1, 0, 0, NULL },
        { "expect FAIL", -1, 0, 0, NULL },
        { "expect fail msg:", -1, 0, 0, NULL },
        { "expect fail message: x", -1, 0, 0, NULL },
        { "expect warn foo", -1, 0, 0, NULL },
        { "expectfail", -1, 0, 0, NULL },
        { "foo", -1, 0, 0, NULL },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        arena_t *a = arena_create(4096);
        promqltest_expect_t e;
        char err[200] = "";
        int rc = promqltest_parse_expect(t[i].in, strlen(t[i].in), a, &e, err, sizeof(err));
        if (rc != t[i].rc) {
            fail_msg("\"%s\": rc %d (%s), want %d", t[i].in, rc, err, t[i].rc);
        }
        if (rc == 0 && (e.kind != t[i].kind || e.match != t[i].match || strcmp(e.text, t[i].text) != 0 ||
                        e.text_len != strlen(t[i].text))) {
            fail_msg("\"%s\": kind %d match %d text \"%s\"", t[i].in, (int)e.kind, (int)e.match, e.text);
        }
        arena_destroy(a);
    }
}

static void test_number(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        bool ok;
        double want;
    } t[] = {
        { "1", true, 1 },
        { "-3", true, -3 },
        { "+3", true, 3 },
        { "0", true, 0 },
        { "0x1f", true, 31 },
        { "0X1F", true, 31 },
        { "-0x10", true, -16 },
        { "010", true, 8 },
        { "08", true, 8 },
        { "0o17", true, 15 },
        { "0b101", true, 5 },
        { "1_000", true, 1000 },
        { "0x_1f", true, 31 },
        { "1e3", true, 1000 },
        { ".5", true, 0.5 },
        { "0.00001234", true, 0.00001234 },
        { "9223372036854775807", true, 9223372036854775807.0 },
        { "9223372036854775808", true, 9223372036854775808.0 },
        { "-9223372036854775808", true, -9223372036854775808.0 },
        { "+Inf", true, INFINITY },
        { "-Inf", true, -INFINITY },
        { "", false, 0 },
        { "abc", false, 0 },
        { "1_", false, 0 },
        { "_1", false, 0 },
        { "1__0", false, 0 },
        { "0x", false, 0 },
        { "1 2", false, 0 },
        { "{} 1", false, 0 },
        { "foo", false, 0 },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        double v = 0;
        bool ok = promqltest_parse_number(t[i].in, strlen(t[i].in), &v);
        if (ok != t[i].ok || (ok && v != t[i].want)) {
            fail_msg("\"%s\": ok %d value %.17g, want ok %d value %.17g", t[i].in, ok, v, t[i].ok, t[i].want);
        }
    }
    double v = 0;
    assert_true(promqltest_parse_number("NaN", 3, &v));
    assert_true(isnan(v));
}

static const char script[] = "# a comment\n"
                             "load 5m\n"
                             "  http_requests{job=\"api\", instance=\"0\"} 0+10x10\n"
                             "  other 1 _ stale\n"
                             "  hist {{schema:0 sum:1 count:1}}\n"
                             "\n"
                             "load_with_nhcb 1m\n"
                             "\tfoo_bucket{le=\"1\"} 1 2\n"
                             "\tfoo@st 1s 2s\n"
                             "\n"
                             "eval instant at 50m sum(http_requests)\n"
                             "  expect no_warn\n"
                             "  {} 100\n"
                             "\n"
                             "eval range from 0 to 10m step 5m http_requests\n"
                             "  expect warn msg: PromQL warning: x (1:1)\n"
                             "  http_requests{job=\"api\", instance=\"0\"} 0 10 _\n"
                             "\n"
                             "eval instant at 1m time()\n"
                             "  60\n"
                             "clear\n"
                             "eval_fail instant at 0 foo\n"
                             "  expected_fail_message some error\n"
                             "eval_ordered instant at 1h sort(x)\n"
                             "  x{a=\"1\"} 1\n"
                             "  x{a=\"2\"} 2\n"
                             "# this comment ends the block\n"
                             "eval instant at 1m some_metric[1m]\n"
                             "  expect range vector from 10s to 1m step 10s\n"
                             "  some_metric{env=\"a\"} 2 3 4 5 6\n"
                             "\n"
                             "eval instant at 50m (\"Foo\")\n"
                             "  expect string `Foo`\n"
                             "\n"
                             "eval instant at 1m x\n"
                             "  expect fail regex: bad .*\n"
                             "  # empty\n"
                             "eval instant at 0 y\n"
                             "  y {{count:1}}\n";

static void test_script(void **state)
{
    (void)state;
    arena_t *a = arena_create(4096);
    promqltest_script_t sc;
    size_t nd = promqltest_parse(script, sizeof(script) - 1, a, &sc);
    for (size_t i = 0; i < sc.ndiags; i++) {
        print_message("line %u: %s\n", sc.diags[i].line, sc.diags[i].msg);
    }
    assert_int_equal(nd, 0);
    assert_int_equal(sc.ncmds, 12);

    const promqltest_load_t *ld = &sc.cmds[0].u.load;
    assert_int_equal(sc.cmds[0].kind, PROMQLTEST_CMD_LOAD);
    assert_int_equal(sc.cmds[0].line, 2);
    assert_int_equal(ld->interval_ms, 300000);
    assert_false(ld->nhcb);
    assert_int_equal(ld->nseries, 3);
    assert_int_equal(ld->series[0].npts, 11);
    assert_int_equal(ld->series[0].line, 3);
    assert_true(ld->series[1].pts[1].omitted);
    assert_true(is_stale(ld->series[1].pts[2].v));
    assert_true(ld->series[2].histogram);

    ld = &sc.cmds[1].u.load;
    assert_true(ld->nhcb);
    assert_int_equal(ld->interval_ms, 60000);
    assert_int_equal(ld->nseries, 1);
    assert_int_equal(ld->st_lines, 1);

    const promqltest_eval_t *ev = &sc.cmds[2].u.eval;
    assert_int_equal(sc.cmds[2].kind, PROMQLTEST_CMD_EVAL);
    assert_false(ev->range);
    assert_int_equal(ev->start, 3000000);
    assert_int_equal(ev->end, 3000000);
    assert_string_equal(ev->query, "sum(http_requests)");
    assert_int_equal(ev->nexpects, 1);
    assert_int_equal(ev->expects[0].kind, PROMQLTEST_EXPECT_NO_WARN);
    assert_int_equal(ev->nseries, 1);
    assert_int_equal(ev->series[0].nlabels, 0);

    ev = &sc.cmds[3].u.eval;
    assert_true(ev->range);
    assert_int_equal(ev->start, 0);
    assert_int_equal(ev->end, 600000);
    assert_int_equal(ev->step, 300000);
    assert_int_equal(ev->expects[0].match, PROMQLTEST_MATCH_MSG);
    assert_int_equal(ev->series[0].npts, 3);

    ev = &sc.cmds[4].u.eval;
    assert_true(ev->expect_scalar);
    assert_true(ev->scalar == 60);
    assert_int_equal(sc.cmds[5].kind, PROMQLTEST_CMD_CLEAR);
    assert_int_equal(sc.cmds[5].line, 21);

    ev = &sc.cmds[6].u.eval;
    assert_true(ev->fail);
    assert_int_equal(ev->nexpects, 1);
    assert_int_equal(ev->expects[0].match, PROMQLTEST_MATCH_MSG);
    assert_string_equal(ev->expects[0].text, "some error");

    ev = &sc.cmds[7].u.eval;
    assert_true(ev->ordered);
    assert_int_equal(ev->nseries, 2);

    ev = &sc.cmds[8].u.eval;
    assert_true(ev->range_vector);
    assert_int_equal(ev->rv_start, 10000);
    assert_int_equal(ev->rv_end, 60000);
    assert_int_equal(ev->rv_step, 10000);
    assert_int_equal(ev->series[0].npts, 5);

    ev = &sc.cmds[9].u.eval;
    assert_true(ev->has_string);
    assert_int_equal(ev->string_len, 3);
    assert_memory_equal(ev->string, "Foo", 3);

    ev = &sc.cmds[10].u.eval;
    assert_true(ev->fail);
    assert_int_equal(ev->nseries, 0);
    assert_int_equal(ev->expects[0].match, PROMQLTEST_MATCH_REGEX);

    ev = &sc.cmds[11].u.eval;
    assert_true(ev->histogram);
    assert_int_equal(ev->nseries, 1);
    assert_true(ev->series[0].histogram);
    arena_destroy(a);
}

/* Each malformed script yields its diagnostics at the given lines and still
 * parses the commands of the good blocks. */
static void test_diagnostics(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        unsigned lines[3];
        size_t ncmds;
    } t[] = {
        { "foo bar\n\nload 1m\n  x 1\n", { 1 }, 1 },
        { "load abc\n  x 1\n\neval instant at 0 x\n  x 1\n", { 1 }, 1 },
        { "load\n", { 1 }, 0 },
        { "loadx 1m\n", { 1 }, 0 },
        { "eval instant at 1m x\n  x 1 2\n", { 2 }, 0 },
        { "eval instant at zz x\n", { 1 }, 0 },
        { "eval instant 1m x\n", { 1 }, 0 },
        { "eval instant at 1m\n", { 1 }, 0 },
        { "eval sometime at 1m x\n", { 1 }, 0 },
        { "eval_ordered range from 0 to 1m step 1m x\n", { 1 }, 0 },
        { "eval range from 1m to 0 step 1m x\n", { 1 }, 0 },
        { "eval range from 0 to 1m step 0 x\n", { 1 }, 0 },
        { "eval range from 0 until 1m step 1m x\n", { 1 }, 0 },
        { "eval instant at 0 x\n expect info\n expect no_info\n", { 3 }, 0 },
        { "eval instant at 0 x\n expect warn\n expect no_warn\n", { 3 }, 0 },
        { "eval instant at 0 x\n expect fail\n expect fail\n", { 3 }, 0 },
        { "eval instant at 0 x\n expect bogus\n", { 2 }, 0 },
        { "eval instant at 0 x\n expect string Foo\n", { 2 }, 0 },
        { "eval instant at 0 x\n expect string\n", { 2 }, 0 },
        { "eval instant at 0 x\n expect range vector from 1m to 0 step 1s\n", { 2 }, 0 },
        { "load 1m\n x{ 1\n y 2\n", { 2 }, 1 },
        { "load 1m\n x 1\n y 1x\n z 3\n\nclear\n", { 3 }, 2 },
        { "eval instant at 0 x\n 1\n y 2\n", { 3 }, 1 },
        { "eval instant at 0 x\n x{a=\"b\"} 1\n {a 2\n\neval instant at 0 y\n", { 3 }, 1 },
        { "clear\nbogus\nclear\n", { 2 }, 1 },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        arena_t *a = arena_create(4096);
        promqltest_script_t sc;
        size_t nd = promqltest_parse(t[i].in, strlen(t[i].in), a, &sc);
        size_t want = 0;
        while (want < 3 && t[i].lines[want]) {
            want++;
        }
        bool ok = nd == want && sc.ncmds == t[i].ncmds;
        for (size_t k = 0; ok && k < nd; k++) {
            ok = sc.diags[k].line == t[i].lines[k] && sc.diags[k].msg[0] != '\0';
        }
        if (!ok) {
            fail_msg("case %zu: %zu diags (first at line %u: %s), %zu commands; want %zu diags, %zu commands", i, nd,
                     nd ? sc.diags[0].line : 0, nd ? sc.diags[0].msg : "", sc.ncmds, want, t[i].ncmds);
        }
        arena_destroy(a);
    }
}

/* Every prefix of the script, and the script with NUL, DEL or 0xFF at each
 * position: the parser must not crash (ASan) and must keep its counts sane. */
static void test_hostile(void **state)
{
    (void)state;
    size_t len = sizeof(script) - 1;
    char *copy = mem_alloc(len);
    for (size_t cut = 0; cut <= len; cut++) {
        arena_t *a = arena_create(4096);
        memcpy(copy, script, cut);
        promqltest_script_t sc;
        promqltest_parse(copy, cut, a, &sc);
        assert_true(sc.ncmds <= 13);
        arena_destroy(a);
    }
    static const char bad[] = { '\0', 0x7f, (char)0xff, '{', '"', '\n' };
    for (size_t b = 0; b < sizeof(bad); b++) {
        for (size_t pos = 0; pos < len; pos++) {
            arena_t *a = arena_create(4096);
            memcpy(copy, script, len);
            copy[pos] = bad[b];
            promqltest_script_t sc;
            promqltest_parse(copy, len, a, &sc);
            assert_true(sc.ncmds <= 13);
            arena_destroy(a);
        }
    }
    mem_free(copy);
    promqltest_script_t sc;
    arena_t *a = arena_create(4096);
    assert_int_equal(promqltest_parse(NULL, 0, a, &sc), 0);
    assert_int_equal(sc.ncmds, 0);
    arena_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),      cmocka_unit_test(test_values_repeated_addition),
        cmocka_unit_test(test_series),      cmocka_unit_test(test_expect),
        cmocka_unit_test(test_number),      cmocka_unit_test(test_script),
        cmocka_unit_test(test_diagnostics), cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

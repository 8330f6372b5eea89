/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for agent/agent_expo_parse.c. Each case of the table is parsed
 * whole and compared with its expected rendering (families, samples, or
 * the error with its position); then every truncation of it is parsed and
 * must either fail or agree with the whole parse on all samples but the
 * last; hostile bytes are written over every position of a few inputs.
 * The corpus in tests/data/agent/expo/ holds inputs whose verdict,
 * message, samples and metadata were checked against Prometheus 2.42
 * scraping them (see its README); their renderings are golden files
 * (EXPO_PARSE_WRITE_GOLDEN=1 rewrites them).
 */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/agent_int.h"
#include "common/mem.h"

/* ---- rendering ---------------------------------------------------------- */

static void quote(buf_t *out, str_t s)
{
    buf_putc(out, '"');
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c == '"' || c == '\\') {
            buf_printf(out, "\\%c", c);
        } else if (c == '\n') {
            buf_puts(out, "\\n");
        } else if (c < 0x20 || c >= 0x7f) {
            buf_printf(out, "\\x%02x", c);
        } else {
            buf_putc(out, c);
        }
    }
    buf_putc(out, '"');
}

static void put_value(buf_t *out, double v)
{
    if (isnan(v)) {
        buf_puts(out, "NaN");
        return;
    }
    if (isinf(v)) {
        buf_puts(out, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    char tmp[40];
    if (v == floor(v) && fabs(v) < 1e15) {
        buf_printf(out, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
        if (strtod(tmp, NULL) == v) {
            break;
        }
    }
    buf_puts(out, tmp);
}

static void render_sample(buf_t *out, const msink_t *s, const msink_sample_t *x)
{
    const msink_family_t *f = &s->families[x->family];
    buf_puts(out, "S ");
    buf_append(out, s->strings.data + f->name_off, f->name_len);
    buf_putc(out, ' ');
    str_t name = msink_sample_name(s, x);
    buf_append(out, name.p, name.len);
    buf_putc(out, '{');
    for (uint32_t k = 0; k < x->nlabels; k++) {
        const msink_label_t *l = &s->labels[x->labels + k];
        buf_printf(out, "%s%.*s=", k ? "," : "", (int)l->name_len, (const char *)s->strings.data + l->name_off);
        quote(out, msink_str(s, l->value_off, l->value_len));
    }
    buf_puts(out, "} ");
    put_value(out, x->value);
    if (x->ts_ms != MSINK_NO_TS) {
        buf_printf(out, " @%lld", (long long)x->ts_ms);
    }
    buf_putc(out, '\n');
}

/* Families ("F name type [help]"), then samples ("S family name{..} v"). */
static void render(buf_t *out, const msink_t *s, size_t from_family, int rc, const expo_error_t *e)
{
    if (rc != 0) {
        buf_printf(out, "E %zu:%zu %s\n", e->line, e->col, e->msg);
    }
    for (size_t i = from_family; i < s->nfamilies; i++) {
        const msink_family_t *f = &s->families[i];
        buf_puts(out, "F ");
        buf_append(out, s->strings.data + f->name_off, f->name_len);
        buf_printf(out, " %s", metric_type_name(f->type));
        if (f->has_help) {
            buf_putc(out, ' ');
            quote(out, msink_str(s, f->help_off, f->help_len));
        }
        buf_putc(out, '\n');
    }
    for (size_t i = 0; i < s->nsamples; i++) {
        render_sample(out, s, &s->samples[i]);
    }
}

/* Structural invariants of a sink after any parse. */
static void check_sink(const msink_t *s)
{
    for (size_t i = 0; i < s->nfamilies; i++) {
        const msink_family_t *f = &s->families[i];
        assert_true((size_t)f->name_off + f->name_len <= s->strings.len);
        assert_true((size_t)f->help_off + f->help_len <= s->strings.len);
        assert_true(f->name_len > 0);
    }
    for (size_t i = 0; i < s->nsamples; i++) {
        const msink_sample_t *x = &s->samples[i];
        assert_true(x->family < s->nfamilies);
        assert_true((size_t)x->labels + x->nlabels <= s->nlabels);
        str_t name = msink_sample_name(s, x);
        assert_true(labels_valid_metric_name(name));
        for (uint32_t k = 0; k < x->nlabels; k++) {
            const msink_label_t *l = &s->labels[x->labels + k];
            assert_true((size_t)l->value_off + l->value_len <= s->strings.len);
            assert_true(l->value_len > 0);
            assert_true(labels_valid_label_name(msink_str(s, l->name_off, l->name_len)));
        }
    }
}

typedef struct parsed {
    int rc;
    expo_error_t err;
    buf_t out;
    size_t nsamples;
} parsed_t;

static void parse_render(const char *in, size_t len, bool om, parsed_t *r)
{
    msink_t s;
    msink_init(&s);
    memset(&r->err, 0, sizeof(r->err));
    r->rc = expo_parse(in, len, om, &s, &r->err);
    assert_true(r->rc == 0 || r->rc == -1);
    if (r->rc != 0) {
        assert_true(r->err.line >= 1 && r->err.col >= 1 && r->err.msg[0] != '\0');
    }
    check_sink(&s);
    buf_init(&r->out);
    render(&r->out, &s, 0, r->rc, &r->err);
    r->nsamples = s.nsamples;
    msink_fini(&s);
}

/* ---- the table ---------------------------------------------------------- */

typedef struct tcase {
    const char *name;
    bool om;
    const char *in;
    size_t len;
    const char *want; /* rendering; an error's line first */
} tcase_t;

#define IN(s) s, sizeof(s) - 1

static const tcase_t cases[] = {
    /* -- text format: families and children */
    { "client_golang", false,
      IN("# HELP go_gc_duration_seconds A summary of the pause duration.\n"
         "# TYPE go_gc_duration_seconds summary\n"
         "go_gc_duration_seconds{quantile=\"0\"} 2.1e-05\n"
         "go_gc_duration_seconds_sum 0.5\n"
         "go_gc_duration_seconds_count 12\n"
         "# HELP rpc RPC latency.\n"
         "# TYPE rpc histogram\n"
         "rpc_bucket{code=\"200\",le=\"0.1\"} 3\n"
         "rpc_bucket{code=\"200\",le=\"+Inf\"} 5\n"
         "rpc_sum{code=\"200\"} 1.5\n"
         "rpc_count{code=\"200\"} 5\n"
         "# TYPE up_total counter\n"
         "up_total 7\n"),
      "F go_gc_duration_seconds summary \"A summary of the pause duration.\"\n"
      "F rpc histogram \"RPC latency.\"\n"
      "F up_total counter\n"
      "S go_gc_duration_seconds go_gc_duration_seconds{quantile=\"0\"} 2.1e-05\n"
      "S go_gc_duration_seconds go_gc_duration_seconds_sum{} 0.5\n"
      "S go_gc_duration_seconds go_gc_duration_seconds_count{} 12\n"
      "S rpc rpc_bucket{code=\"200\",le=\"0.1\"} 3\n"
      "S rpc rpc_bucket{code=\"200\",le=\"+Inf\"} 5\n"
      "S rpc rpc_sum{code=\"200\"} 1.5\n"
      "S rpc rpc_count{code=\"200\"} 5\n"
      "S up_total up_total{} 7\n" },
    { "untyped_children_own_family", false, IN("foo_bucket{le=\"1\"} 1\nfoo_sum 1\nfoo_bucket 2\n"),
      "F foo_bucket untyped\nF foo_sum untyped\nS foo_bucket foo_bucket{le=\"1\"} 1\nS foo_sum foo_sum{} 1\n"
      "S foo_bucket foo_bucket{} 2\n" },
    { "children_follow_last_metadata", false,
      IN("# TYPE a histogram\n# TYPE b gauge\na_sum 1\nb 2\n# TYPE a histogram\na_count 3\n"),
      "F a histogram\nF b gauge\nF a_sum untyped\nS a_sum a_sum{} 1\nS b b{} 2\nS a a_count{} 3\n" },
    { "children_by_type", false, IN("# TYPE c counter\nc_total 1\nc_created 2\nc_sum 3\n# TYPE g gauge\ng_sum 4\n"),
      "F c counter\nF c_sum untyped\nF g gauge\nF g_sum untyped\nS c c_total{} 1\nS c c_created{} 2\n"
      "S c_sum c_sum{} 3\nS g_sum g_sum{} 4\n" },
    { "no_final_newline", false, IN("foo 1\nbar 2"), "F foo untyped\nF bar untyped\nS foo foo{} 1\nS bar bar{} 2\n" },
    { "empty", false, IN(""), "" },
    { "blank_lines_and_comments", false, IN("\n  \n\t\n# a comment\n#x\n#\n  # HELP foo x\nfoo 1\n\n"),
      "F foo untyped \"x\"\nS foo foo{} 1\n" },
    /* -- HELP and TYPE */
    { "help_escapes_text", false, IN("# HELP foo a\\\"b\\\\c\\nd\\te\\\nfoo 1\n"),
      "F foo untyped \"a\\\\\\\"b\\\\c\\nd\\\\te\\\\\"\nS foo foo{} 1\n" },
    { "help_empty_forms", false, IN("# HELP a\n# HELP b   \n# HELP  c  two\n# HELP d-dash\n# HELP e-\n"),
      "F a untyped \"\"\nF b untyped \"\"\nF c untyped \" two\"\nF d untyped \"dash\"\nF e untyped \"\"\n" },
    { "help_word_alone_is_comment", false, IN("# HELP\n# HELPER x\n# TYPEx\nfoo 1\n"),
      "F foo untyped\nS foo foo{} 1\n" },
    { "type_keywords_text", false,
      IN("# TYPE a counter\n# TYPE b gauge\n# TYPE c histogram\n# TYPE d summary\n# TYPE e untyped\n"
         "# TYPE f-counter\n#\tTYPE\tg\tgauge\n"),
      "F a counter\nF b gauge\nF c histogram\nF d summary\nF e untyped\nF f counter\nF g gauge\n" },
    { "metadata_last_wins", false,
      IN("foo 1\n# HELP foo first\n# TYPE foo counter\n# HELP foo later\n# TYPE foo gauge\nfoo 2\n"),
      "F foo gauge \"later\"\nS foo foo{} 1\nS foo foo{} 2\n" },
    { "type_unknown_text", false, IN("foo 1\n# TYPE foo unknown\n"),
      "E 2:12 invalid metric type \"unknown\"\nF foo untyped\nS foo foo{} 1\n" },
    { "type_trailing_blank", false, IN("# TYPE foo counter \n"), "E 1:12 invalid metric type \"counter \"\n" },
    { "help_bad_utf8", false, IN("# HELP foo \xff\n"), "E 1:12 help text is not a valid utf8 string\n" },
    { "help_no_name", false, IN("# HELP 0x\n"), "E 1:8 expected metric name after HELP, got \"INVALID\"\n" },
    { "help_nul_first", false, IN("# HELP foo\0bar\n"), "E 1:11 linebreak expected after metadata, got \"EOF\"\n" },
    { "help_nul_inside", false, IN("# HELP foo a\0b\nfoo 1\n"), "F foo untyped \"a\\x00b\"\nS foo foo{} 1\n" },
    { "comment_bad_utf8_ok", false, IN("# \xff\xfe\nfoo 1\n"), "F foo untyped\nS foo foo{} 1\n" },
    /* -- labels */
    { "label_escapes", false, IN("foo{a=\"x\\\"y\\\\z\\n\",b=\"\\t\",c=\"end\\\\\"} 1\n"),
      "F foo untyped\nS foo foo{a=\"x\\\"y\\\\z\\n\",b=\"\\\\t\",c=\"end\\\\\"} 1\n" },
    { "label_raw_newline_text", false, IN("foo{a=\"x\ny\"} 1\nbar 2\n"),
      "F foo untyped\nF bar untyped\nS foo foo{a=\"x\\ny\"} 1\nS bar bar{} 2\n" },
    { "label_commas", false, IN("a{x=\"1\",} 1\nb{x=\"1\" y=\"2\"} 2\nc{} 3\n"),
      "F a untyped\nF b untyped\nF c untyped\nS a a{x=\"1\"} 1\nS b b{x=\"1\",y=\"2\"} 2\nS c c{} 3\n" },
    { "label_blanks", false, IN("foo\t{ a = \"b\"\t,\tc=\"d\" , }\t1\t\n"),
      "F foo untyped\nS foo foo{a=\"b\",c=\"d\"} 1\n" },
    { "value_glued", false, IN("foo{a=\"b\"}1\n"), "F foo untyped\nS foo foo{a=\"b\"} 1\n" },
    { "label_empty_dropped", false, IN("foo{a=\"\",b=\"1\",c=\"\",b2=\"\"} 1\n"),
      "F foo untyped\nS foo foo{b=\"1\"} 1\n" },
    { "label_empty_drops_all_of_name", false, IN("foo{a=\"1\",b=\"\",b=\"2\"} 1\n"),
      "F foo untyped\nS foo foo{a=\"1\"} 1\n" },
    { "label_dup", false, IN("foo 1\nfoo{b=\"1\",a=\"1\",b=\"2\",a=\"2\"} 1\n"),
      "E 2:23 label name \"a\" is not unique: invalid sample\nF foo untyped\nS foo foo{} 1\n" },
    { "label_dup_name", false, IN("foo{__name__=\"foo\"} 1\n"),
      "E 1:5 label name \"__name__\" is not unique: invalid sample\n" },
    { "label_name_invalid", false, IN("foo{__name__=\"0bad\"} 1\n"),
      "E 1:1 invalid metric name or label names: {__name__=\"foo\", __name__=\"0bad\"}\n" },
    { "label_empty_name", false, IN("foo{__name__=\"\"} 1\n"), "E 1:1 missing metric name (__name__ label)\n" },
    { "label_utf8", false, IN("foo{a=\"\xc3\xa9\xf0\x9f\x98\x80\"} 1\n"),
      "F foo untyped\nS foo foo{a=\"\\xc3\\xa9\\xf0\\x9f\\x98\\x80\"} 1\n" },
    { "label_bad_utf8", false, IN("foo{a=\"\xff\"} 1\n"), "E 1:7 invalid UTF-8 label value\n" },
    { "label_surrogate", false, IN("foo{a=\"\xed\xa0\x80\"} 1\n"), "E 1:7 invalid UTF-8 label value\n" },
    { "label_overlong", false, IN("foo{a=\"\xc0\xaf\"} 1\n"), "E 1:7 invalid UTF-8 label value\n" },
    { "label_ctrl_ok", false, IN("foo{a=\"\x01\x1f\r\"} 1\n"), "F foo untyped\nS foo foo{a=\"\\x01\\x1f\\x0d\"} 1\n" },
    { "label_name_digit", false, IN("foo{0a=\"b\"} 1\n"), "E 1:5 expected label name, got \"INVALID\"\n" },
    { "label_name_colon", false, IN("foo{a:b=\"1\"} 1\n"), "E 1:6 expected equal, got \"INVALID\"\n" },
    { "label_comma_first", false, IN("foo{,} 1\n"), "E 1:5 expected label name, got \"COMMA\"\n" },
    { "label_double_comma", false, IN("foo{a=\"b\",,} 1\n"), "E 1:11 expected label name, got \"COMMA\"\n" },
    { "label_unterminated", false, IN("foo{a=\"b"), "E 1:7 expected label value, got \"INVALID\"\n" },
    { "label_backslash_newline", false, IN("foo{a=\"x\\\ny\"} 1\n"), "E 1:7 expected label value, got \"INVALID\"\n" },
    { "label_unquoted", false, IN("foo{a=b} 1\n"), "E 1:7 expected label value, got \"INVALID\"\n" },
    { "label_nul_in_value", false, IN("foo{a=\"x\0y\"} 1\n"), "F foo untyped\nS foo foo{a=\"x\\x00y\"} 1\n" },
    { "label_nul_before_quote", false, IN("foo{a=\0\"b\"} 1\n"), "E 1:7 expected label value, got \"INVALID\"\n" },
    { "label_blank_nul_before_quote", false, IN("foo{a= \0\"b\"} 1\n"), "F foo untyped\nS foo foo{a=\"b\"} 1\n" },
    { "label_nul_after_quote", false, IN("foo{a=\"x\"\0} 1\n"), "F foo untyped\nS foo foo{a=\"x\\\"\"} 1\n" },
    /* -- names */
    { "name_colons", false, IN("foo:bar:baz 1\n:x 2\n"),
      "F foo:bar:baz untyped\nF :x untyped\nS foo:bar:baz foo:bar:baz{} 1\nS :x :x{} 2\n" },
    { "name_leading_blank", false, IN("foo 1\n  bar 1\n"),
      "E 2:1 invalid metric name or label names: {__name__=\"  bar\"}\nF foo untyped\nS foo foo{} 1\n" },
    { "name_digit", false, IN("0foo 1\n"), "E 1:1 \"INVALID\" is not a valid start token\n" },
    { "name_brace_start", false, IN("{a=\"b\"} 1\n"), "E 1:1 \"INVALID\" is not a valid start token\n" },
    { "name_bom", false,
      IN("\xef\xbb\xbf"
         "foo 1\n"),
      "E 1:1 \"INVALID\" is not a valid start token\n" },
    { "name_del", false, IN("fo\x7fo 1\n"), "E 1:3 strconv.ParseFloat: parsing \"\\x7fo\": invalid syntax\n" },
    /* -- values */
    { "floats", false,
      IN("a 1e3\na .5\na 5.\na +Inf\na -inf\na infinity\na nan\na NaN\na 1e-400\na -0\na +1.5E+2\na 00012\n"),
      "F a untyped\nS a a{} 1000\nS a a{} 0.5\nS a a{} 5\nS a a{} +Inf\nS a a{} -Inf\nS a a{} +Inf\nS a a{} NaN\n"
      "S a a{} NaN\nS a a{} 0\nS a a{} -0\nS a a{} 150\nS a a{} 12\n" },
    { "float_hex_exponent", false, IN("a 0x1p3\n"), "E 1:3 unsupported character in float\n" },
    { "float_underscore", false, IN("a 1_0\n"), "E 1:3 unsupported character in float\n" },
    { "float_range", false, IN("a 1e400\n"), "E 1:3 strconv.ParseFloat: parsing \"1e400\": value out of range\n" },
    { "float_range_digits", false,
      IN("a 1000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
         "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
         "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\n"),
      "E 1:3 strconv.ParseFloat: parsing \"100000000000000000000000000000000000000000000000...\": value out of "
      "range\n" },
    { "float_signed_nan", false, IN("a +nan\n"), "E 1:3 strconv.ParseFloat: parsing \"+nan\": invalid syntax\n" },
    { "float_hex", false, IN("a 0x10\n"), "E 1:3 strconv.ParseFloat: parsing \"0x10\": invalid syntax\n" },
    { "float_comma", false, IN("a 1,5\n"), "E 1:3 strconv.ParseFloat: parsing \"1,5\": invalid syntax\n" },
    { "float_crlf", false, IN("a 1\r\n"), "E 1:3 strconv.ParseFloat: parsing \"1\\r\": invalid syntax\n" },
    { "value_missing", false, IN("foo\n"), "E 1:4 expected value after metric, got \"INVALID\"\n" },
    { "value_then_brace", false, IN("foo 1{\n"), "E 1:6 expected timestamp or new record, got \"INVALID\"\n" },
    { "value_then_labels", false, IN("foo{} {a=\"b\"} 1\n"), "E 1:7 expected value after metric, got \"BOPEN\"\n" },
    /* -- timestamps (ms) */
    { "timestamps", false, IN("a 1 1700000000123\na 2 9223372036854775807 \t\na 3 0001\n"),
      "F a untyped\nS a a{} 1 @1700000000123\nS a a{} 2 @9223372036854775807\nS a a{} 3 @1\n" },
    { "ts_overflow", false, IN("a 1 9223372036854775808\n"),
      "E 1:5 strconv.ParseInt: parsing \"9223372036854775808\": value out of range\n" },
    { "ts_negative", false, IN("a 1 -5\n"), "E 1:5 expected timestamp or new record, got \"INVALID\"\n" },
    { "ts_junk", false, IN("a 1 123abc\n"), "E 1:8 expected next entry after timestamp, got \"INVALID\"\n" },
    { "ts_two", false, IN("a 1 2 3\n"), "E 1:7 expected next entry after timestamp, got \"TIMESTAMP\"\n" },
    { "ts_comment", false, IN("a 1 2 # c\n"), "E 1:7 expected next entry after timestamp, got \"INVALID\"\n" },
    /* -- NUL bytes */
    { "nul_line_start_ends", false, IN("foo 1\n\0garbage }{\n"), "F foo untyped\nS foo foo{} 1\n" },
    { "nul_only", false, IN("\0"), "" },
    { "nul_comment_blank", false, IN("# a\0b\nfoo 1\n"), "F foo untyped\nS foo foo{} 1\n" },
    { "nul_comment_ends", false, IN("#a\0b\nfoo 1\n"), "" },
    { "nul_after_hash_blank_ends", false, IN("# \0\nfoo 1\n"), "" },
    { "nul_after_value", false, IN("foo 1\0\n"), "E 1:6 expected timestamp or new record, got \"INVALID\"\n" },
    /* -- limits */
    { "label_bound", false, IN("foo{l0=\"v\",l1=\"v\",l2=\"v\",l3=\"v\"} 1\n"),
      "F foo untyped\nS foo foo{l0=\"v\",l1=\"v\",l2=\"v\",l3=\"v\"} 1\n" },

    /* -- OpenMetrics */
    { "om_families", true,
      IN("# TYPE foo counter\n# HELP foo A \\\"counter\\\".\nfoo_total 17.0 1520879607.789\n"
         "foo_created 1520430000.123\n# TYPE hist_seconds histogram\n# UNIT hist_seconds seconds\n"
         "hist_seconds_bucket{le=\"1\"} 0\nhist_seconds_bucket{le=\"+Inf\"} 1 # {trace_id=\"KOO5S4vxi0o\"} 0.67\n"
         "hist_seconds_sum 0.5\nhist_seconds_count 1\nhist_seconds_created 1\n# TYPE i info\ni_info{v=\"1\"} 1\n"
         "# TYPE ss stateset\nss{ss=\"a\"} 1\n# TYPE gh gaugehistogram\ngh_bucket{le=\"+Inf\"} 1\ngh_gsum 2\n"
         "gh_gcount 1\n# TYPE u unknown\nu 1\n# EOF\n"),
      "F foo counter \"A \\\"counter\\\".\"\nF hist_seconds histogram\nF i info\nF ss stateset\n"
      "F gh gaugehistogram\nF u untyped\n"
      "S foo foo_total{} 17 @1520879607789\nS foo foo_created{} 1520430000.123\n"
      "S hist_seconds hist_seconds_bucket{le=\"1\"} 0\nS hist_seconds hist_seconds_bucket{le=\"+Inf\"} 1\n"
      "S hist_seconds hist_seconds_sum{} 0.5\nS hist_seconds hist_seconds_count{} 1\n"
      "S hist_seconds hist_seconds_created{} 1\nS i i_info{v=\"1\"} 1\nS ss ss{ss=\"a\"} 1\n"
      "S gh gh_bucket{le=\"+Inf\"} 1\nS gh gh_gsum{} 2\nS gh gh_gcount{} 1\nS u u{} 1\n" },
    { "om_eof_only", true, IN("# EOF\n"), "" },
    { "om_eof_no_newline", true, IN("a 1\n# EOF"), "F a untyped\nS a a{} 1\n" },
    { "om_empty", true, IN(""), "E 1:1 data does not end with # EOF\n" },
    { "om_no_eof", true, IN("a 1\n"), "E 2:1 data does not end with # EOF\nF a untyped\nS a a{} 1\n" },
    { "om_no_eof_mid_line", true, IN("a 1"), "E 1:4 data does not end with # EOF\n" },
    { "om_after_eof", true, IN("a 1\n# EOF\nb 2\n"), "E 3:1 unexpected data after # EOF\nF a untyped\nS a a{} 1\n" },
    { "om_blank_after_eof", true, IN("# EOF\n\n"), "E 2:1 unexpected data after # EOF\n" },
    { "om_eof_cut", true, IN("# EO"), "E 1:1 \"INVALID\" \" \" is not a valid start token\n" },
    { "om_eof_crlf", true, IN("# EOF\r\n"), "E 1:6 unexpected data after # EOF\n" },
    { "om_eofx", true, IN("# EOFx\n"), "E 1:6 unexpected data after # EOF\n" },
    { "om_blank_line", true, IN("a 1\n\n# EOF\n"),
      "E 2:1 \"INVALID\" \"\\n\" is not a valid start token\nF a untyped\nS a a{} 1\n" },
    { "om_comment", true, IN("# hello\n# EOF\n"), "E 1:1 \"INVALID\" \"h\" is not a valid start token\n" },
    { "om_hash_nospace", true, IN("#x\n# EOF\n"), "E 1:1 \"INVALID\" \"x\" is not a valid start token\n" },
    { "om_leading_space", true, IN(" a 1\n# EOF\n"), "E 1:1 \"INVALID\" \" \" is not a valid start token\n" },
    { "om_double_space", true, IN("a  1\n# EOF\n"), "E 1:2 expected value after metric, got \"INVALID\"\n" },
    { "om_tab", true, IN("a\t1\n# EOF\n"), "E 1:2 expected value after metric, got \"INVALID\"\n" },
    { "om_trailing_space", true, IN("a 1 \n# EOF\n"), "E 1:4 expected timestamp or # symbol, got \"INVALID\"\n" },
    { "om_glued_labels", true, IN("a{} 1\na{b=\"c\"}1\n# EOF\n"),
      "E 2:9 expected value after metric, got \"INVALID\"\nF a untyped\nS a a{} 1\n" },
    { "om_untyped", true, IN("# TYPE a untyped\n# EOF\n"), "E 1:10 invalid metric type \"untyped\"\n" },
    { "om_type_two_spaces", true, IN("# TYPE  a counter\n# EOF\n"),
      "E 1:8 expected metric name after TYPE, got \"INVALID\"\n" },
    { "om_help_no_text", true, IN("# HELP a\n# EOF\n"), "E 1:9 expected text in HELP\n" },
    { "om_help_empty", true, IN("# HELP a \n# EOF\n"), "F a untyped \"\"\n" },
    { "om_help_at_end", true, IN("# HELP a x"), "E 1:9 expected text in HELP\n" },
    { "om_help_nul", true, IN("# HELP a x\0y\n# EOF\n"), "F a untyped \"x\\x00y\"\n" },
    { "om_help_bad_utf8", true, IN("# HELP a \xff\n# EOF\n"), "E 1:10 help text is not a valid utf8 string\n" },
    { "om_unit", true, IN("# UNIT a_bytes bytes\n# UNIT b \n# EOF\n"), "F a_bytes untyped\nF b untyped\n" },
    { "om_unit_mismatch", true, IN("# UNIT a_seconds bytes\n# EOF\n"),
      "E 1:18 unit not a suffix of metric \"a_seconds\"\n" },
    { "om_unit_whole_name", true, IN("# UNIT bytes bytes\n# EOF\n"), "E 1:14 unit not a suffix of metric \"bytes\"\n" },
    { "om_labels", true, IN("a{} 1\nb{x=\"1\",y=\"\\\"\\n\\\\\"} 2\n# EOF\n"),
      "F a untyped\nF b untyped\nS a a{} 1\nS b b{x=\"1\",y=\"\\\"\\n\\\\\"} 2\n" },
    { "om_label_trailing_comma", true, IN("a{x=\"1\",} 1\n# EOF\n"), "E 1:9 expected label name, got \"BCLOSE\"\n" },
    { "om_label_comma_first", true, IN("a{,x=\"1\"} 1\n# EOF\n"),
      "E 1:3 expected label name or left brace, got \"COMMA\"\n" },
    { "om_label_no_comma", true, IN("a{x=\"1\" y=\"2\"} 1\n# EOF\n"),
      "E 1:8 expected comma or left brace, got \"INVALID\"\n" },
    { "om_label_newline", true, IN("a{x=\"1\n\"} 1\n# EOF\n"), "E 1:5 expected label value, got \"INVALID\"\n" },
    { "om_label_nul", true, IN("a{x=\"1\0\"} 1\n# EOF\n"), "F a untyped\nS a a{x=\"1\\x00\"} 1\n" },
    { "om_label_dup", true, IN("a{x=\"1\",x=\"2\"} 1\n# EOF\n"),
      "E 1:9 label name \"x\" is not unique: invalid sample\n" },
    { "om_timestamps", true, IN("a 1 -1.5\na 2 1.0005\na 3 1e300\na 4 0\n# EOF\n"),
      "F a untyped\nS a a{} 1 @-1500\nS a a{} 2 @1000\nS a a{} 3 @-9223372036854775807\nS a a{} 4 @0\n" },
    { "om_ts_nan", true, IN("a 1 NaN\n# EOF\n"), "E 1:5 invalid timestamp\n" },
    { "om_ts_inf", true, IN("a 1 +Inf\n# EOF\n"), "E 1:5 invalid timestamp\n" },
    { "om_ts_range", true, IN("a 1 1e400\n# EOF\n"),
      "E 1:5 strconv.ParseFloat: parsing \"1e400\": value out of range\n" },
    { "om_ts_hash", true, IN("a 1 #\n# EOF\n"), "E 1:5 strconv.ParseFloat: parsing \"#\": invalid syntax\n" },
    { "om_value_hex", true, IN("a 0x1p3\n# EOF\n"), "E 1:3 unsupported character in float\n" },
    { "om_value_brace", true, IN("a 1{\n# EOF\n"), "E 1:3 strconv.ParseFloat: parsing \"1{\": invalid syntax\n" },
    { "om_value_nul", true, IN("a 1\0\n# EOF\n"), "E 1:4 expected timestamp or # symbol, got \"INVALID\"\n" },
    { "om_exemplars", true,
      IN("a_total 1 # {t=\"x\"} 1 1520879607.7\na_total 2 123 # {} 2\nb_bucket{le=\"1\"} 3 # {a=\"1\",b=\"2\"} -Inf\n"
         "# EOF\n"),
      "F a_total untyped\nF b_bucket untyped\nS a_total a_total{} 1\nS a_total a_total{} 2 @123000\n"
      "S b_bucket b_bucket{le=\"1\"} 3\n" },
    { "om_exemplar_not_allowed", true, IN("a 1 # {t=\"x\"} 1\n# EOF\n"),
      "E 1:4 metric name a does not support exemplars\n" },
    { "om_exemplar_bad_value", true, IN("a_total 1 # {} x\n# EOF\n"),
      "E 1:16 strconv.ParseFloat: parsing \"x\": invalid syntax\n" },
    { "om_exemplar_extra", true, IN("a_total 1 # {} 1 2 3\n# EOF\n"),
      "E 1:19 expected next entry after exemplar timestamp, got \"TIMESTAMP\"\n" },
    { "om_exemplar_ts_nan", true, IN("a_total 1 # {} 1 NaN\n# EOF\n"), "E 1:18 invalid exemplar timestamp\n" },
    { "om_exemplar_nul", true, IN("a_total 1 # {a=\"b\0\"} 1\n# EOF\n"),
      "E 1:16 expected label value, got \"INVALID\"\n" },
    { "om_exemplar_trailing_comma", true, IN("a_total 1 # {a=\"b\",} 1\n# EOF\n"),
      "E 1:20 expected label name, got \"BCLOSE\"\n" },
    { "om_exemplar_no_brace", true, IN("a_total 1 # x\n# EOF\n"),
      "E 1:10 expected timestamp or # symbol, got \"INVALID\"\n" },
    { "om_exemplar_at_end", true, IN("a_total 1 # {} 1"), "E 1:17 data does not end with # EOF\n" },
};

/* 0 when the case renders as wanted; else prints both. */
static int check_case(const tcase_t *c)
{
    parsed_t r;
    parse_render(c->in, c->len, c->om, &r);
    const char *got = r.out.len ? (const char *)r.out.data : "";
    int bad = strcmp(got, c->want) != 0;
    if (bad) {
        print_error("case %s:\n-- got\n%s-- want\n%s", c->name, got, c->want);
    }
    buf_fini(&r.out);
    return bad;
}

static void test_cases(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bad += check_case(&cases[i]);
    }
    assert_int_equal(bad, 0);
}

/* Line i of a rendering (without its '\n'), or NULL. */
static str_t nth_sample_line(const buf_t *b, size_t i)
{
    const char *p = (const char *)b->data;
    const char *end = p + b->len;
    size_t n = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)(nl - p);
        if (len > 1 && p[0] == 'S' && n++ == i) {
            return str_from(p, len);
        }
        p = nl + 1;
    }
    return str_from(NULL, 0);
}

static bool contains(const char *p, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++) {
        if (memcmp(p + i, needle, m) == 0) {
            return true;
        }
    }
    return false;
}

/* Every truncation: an error, or the whole parse's samples but the last. */
static void test_truncations(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const tcase_t *c = &cases[i];
        parsed_t full;
        parse_render(c->in, c->len, c->om, &full);
        for (size_t k = 0; k < c->len; k++) {
            char *cut = mem_alloc(k + 1); /* exact size: ASan catches reads past k */
            memcpy(cut, c->in, k);
            parsed_t r;
            parse_render(cut, k, c->om, &r);
            if (r.rc == 0 && full.rc == 0) {
                assert_true(r.nsamples <= full.nsamples);
                for (size_t j = 0; j + 1 < r.nsamples; j++) {
                    assert_true(str_eq(nth_sample_line(&r.out, j), nth_sample_line(&full.out, j)));
                }
            }
            if (r.rc == 0 && c->om) {
                assert_true(contains(cut, k, "# EOF"));
            }
            buf_fini(&r.out);
            mem_free(cut);
        }
        buf_fini(&full.out);
    }
}

/* Hostile bytes over every position of every case: never a crash, always
 * a well-formed sink. */
static void test_hostile_bytes(void **state)
{
    (void)state;
    static const char bytes[] = { 0, 0x7f, (char)0xff, '\n', '"', '\\', '{', ' ', '#', ',' };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const tcase_t *c = &cases[i];
        char *m = mem_alloc(c->len + 1);
        for (size_t k = 0; k < c->len; k++) {
            for (size_t b = 0; b < sizeof(bytes); b++) {
                memcpy(m, c->in, c->len);
                m[k] = bytes[b];
                for (int om = 0; om < 2; om++) {
                    parsed_t r;
                    parse_render(m, c->len, om, &r);
                    buf_fini(&r.out);
                }
            }
        }
        mem_free(m);
    }
}

/* Long names, values (escaped, past the stack buffer) and help. */
static void test_long_strings(void **state)
{
    (void)state;
    size_t n = 1 << 20;
    buf_t in;
    buf_init(&in);
    buf_puts(&in, "# HELP ");
    for (size_t i = 0; i < n; i++) {
        buf_putc(&in, 'm');
    }
    buf_puts(&in, " ");
    for (size_t i = 0; i < n; i++) {
        buf_puts(&in, i % 2 ? "\\n" : "h");
    }
    buf_puts(&in, "\n");
    for (size_t i = 0; i < n; i++) {
        buf_putc(&in, 'm');
    }
    buf_puts(&in, "{a=\"");
    for (size_t i = 0; i < n; i++) {
        buf_puts(&in, "\\\"");
    }
    buf_puts(&in, "\",b=\"\\\\\"} 1\n");
    msink_t s;
    msink_init(&s);
    expo_error_t e;
    assert_int_equal(expo_parse((const char *)in.data, in.len, false, &s, &e), 0);
    assert_int_equal(s.nfamilies, 1);
    assert_int_equal(s.nsamples, 1);
    assert_int_equal(s.families[0].name_len, n);
    assert_int_equal(s.families[0].help_len, n);
    label_t ls[2];
    assert_int_equal(msink_sample_labels(&s, &s.samples[0], ls, 2), 2);
    assert_int_equal(ls[0].value.len, n);
    assert_true(ls[0].value.p[0] == '"' && ls[0].value.p[n - 1] == '"');
    assert_true(str_eq_cstr(ls[1].value, "\\"));
    msink_fini(&s);
    buf_fini(&in);
}

/* 256 labels parse; one more is refused (a bound of ours: Prometheus
 * has none by default). */
static void test_label_limit(void **state)
{
    (void)state;
    for (int extra = 0; extra < 2; extra++) {
        buf_t in;
        buf_init(&in);
        buf_puts(&in, "foo{");
        for (int i = 0; i < 256 + extra; i++) {
            buf_printf(&in, "l%d=\"v\",", i);
        }
        buf_puts(&in, "} 1\n");
        msink_t s;
        msink_init(&s);
        expo_error_t e;
        int rc = expo_parse((const char *)in.data, in.len, false, &s, &e);
        if (extra == 0) {
            assert_int_equal(rc, 0);
            assert_int_equal(s.samples[0].nlabels, 256);
        } else {
            assert_int_equal(rc, -1);
            assert_non_null(strstr(e.msg, "too many labels"));
        }
        msink_fini(&s);
        buf_fini(&in);
    }
}

/* Parsing appends: a family that was in the sink before keeps its help
 * and type; a failed parse rolls back to the caller's mark. */
static void test_append_and_rollback(void **state)
{
    (void)state;
    msink_t s;
    msink_init(&s);
    msink_addv(&s, "foo", "old help", METRIC_GAUGE, 1, 0);
    static const char ok[] = "# HELP foo new help\n# TYPE foo counter\nfoo{a=\"1\"} 2\n# HELP bar b\nbar 3\n";
    expo_error_t e;
    assert_int_equal(expo_parse(ok, sizeof(ok) - 1, false, &s, &e), 0);
    buf_t out;
    buf_init(&out);
    render(&out, &s, 0, 0, &e);
    assert_string_equal((const char *)out.data, "F foo gauge \"old help\"\nF bar untyped \"b\"\nS foo foo{} 1\n"
                                                "S foo foo{a=\"1\"} 2\nS bar bar{} 3\n");
    msink_mark_t m = msink_mark(&s);
    static const char bad[] = "# TYPE baz counter\nbaz 1\nfoo{a=\"1\"} 5\nbaz{ 2\n";
    assert_int_equal(expo_parse(bad, sizeof(bad) - 1, false, &s, &e), -1);
    assert_int_equal(e.line, 4);
    assert_int_equal(s.nsamples, 5);
    msink_rollback(&s, m);
    buf_reset(&out);
    render(&out, &s, 0, 0, &e);
    assert_string_equal((const char *)out.data, "F foo gauge \"old help\"\nF bar untyped \"b\"\nS foo foo{} 1\n"
                                                "S foo foo{a=\"1\"} 2\nS bar bar{} 3\n");
    buf_fini(&out);
    msink_fini(&s);
}

/* The corpus checked against Prometheus 2.42: tests/data/agent/expo/cases
 * holds <name>.prom / <name>.om inputs and <name>.want renderings. */
static void test_corpus(void **state)
{
    (void)state;
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/agent/expo/cases", PHAROS_TEST_DATA);
    DIR *d = opendir(dir);
    assert_non_null(d);
    bool write = getenv("EXPO_PARSE_WRITE_GOLDEN") != NULL;
    size_t seen = 0;
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        size_t nl = strlen(de->d_name);
        bool om = nl > 3 && strcmp(de->d_name + nl - 3, ".om") == 0;
        if (!om && !(nl > 5 && strcmp(de->d_name + nl - 5, ".prom") == 0)) {
            continue;
        }
        char path[1024], want_path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        snprintf(want_path, sizeof(want_path), "%s/%.*s.want", dir, (int)(nl - (om ? 3 : 5)), de->d_name);
        buf_t in, want;
        buf_init(&in);
        buf_init(&want);
        assert_int_equal(coll_read_file("", path, &in, 1 << 20), 0);
        parsed_t r;
        parse_render(in.len ? (const char *)in.data : "", in.len, om, &r);
        if (write) {
            FILE *f = fopen(want_path, "wb");
            assert_non_null(f);
            fwrite(r.out.data ? (const char *)r.out.data : "", 1, r.out.len, f);
            fclose(f);
        } else {
            assert_int_equal(coll_read_file("", want_path, &want, 1 << 20), 0);
            if (r.out.len != want.len || (want.len > 0 && memcmp(r.out.data, want.data, want.len) != 0)) {
                print_error("corpus %s:\n-- got\n%.*s-- want\n%.*s", de->d_name, (int)r.out.len,
                            r.out.data ? (const char *)r.out.data : "", (int)want.len,
                            want.data ? (const char *)want.data : "");
                fail();
            }
        }
        seen++;
        buf_fini(&r.out);
        buf_fini(&in);
        buf_fini(&want);
    }
    closedir(d);
    assert_true(seen >= 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),         cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_hostile_bytes), cmocka_unit_test(test_long_strings),
        cmocka_unit_test(test_label_limit),   cmocka_unit_test(test_append_and_rollback),
        cmocka_unit_test(test_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

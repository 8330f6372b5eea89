/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for alerts/alerts_tmpl*.c: the template engine. A golden table of
 * (template, query fixture, expected output or error text) mirroring
 * Prometheus' template/template_test.go ("P:" cases, each naming the Go test
 * scenario), Go text/template behaviour that rule files hit ("G:" cases),
 * and alert-field expansion as rules/alerting.go does it ("A:" cases; the
 * ones marked "promtool" are promtool 2.42's output). Every case without a
 * query fixture was also expanded as an annotation by promtool 2.42 (parse
 * errors through its load-time check) and gave the same text.
 * Then hostile input: every truncation and byte substitution of every case
 * parses and executes without crashing; depth, step and output bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "alerts/alerts.h"

#define L(n, v)                                                                                                        \
    {                                                                                                                  \
        { n, sizeof(n) - 1 },                                                                                          \
        {                                                                                                              \
            v, sizeof(v) - 1                                                                                           \
        }                                                                                                              \
    }

static const label_t lab_a[] = { L("__name__", "metric"), L("instance", "a") };
static const label_t lab_b[] = { L("__name__", "metric"), L("instance", "b") };
static const label_t lab_v[] = { L("__name__", "metric"), L("__value__", "a") };

static alerts_tmpl_sample_t q_one[] = { { lab_a, 2, 11 } };
static alerts_tmpl_sample_t q_two[] = { { lab_b, 2, 21 }, { lab_a, 2, 11 } };
static alerts_tmpl_sample_t q_strv[] = { { lab_v, 2, 11 } };
static alerts_tmpl_sample_t q_nolab[] = { { NULL, 0, 1.5 } };

enum { Q_EMPTY, Q_ONE, Q_TWO, Q_STRV, Q_NOLAB, Q_ERR, Q_BIG };

#define BIG_N 3000
static alerts_tmpl_sample_t q_big[BIG_N];

static int fixture_query(void *ctx, const char *q, size_t qlen, int64_t ts_ms, arena_t *a, alerts_tmpl_sample_t **out,
                         size_t *n, buf_t *err)
{
    (void)q, (void)qlen, (void)ts_ms, (void)a;
    int which = *(const int *)ctx;
    *out = NULL;
    *n = 0;
    switch (which) {
    case Q_ONE:
        *out = q_one, *n = 1;
        break;
    case Q_TWO:
        *out = q_two, *n = 2;
        break;
    case Q_STRV:
        *out = q_strv, *n = 1;
        break;
    case Q_NOLAB:
        *out = q_nolab, *n = 1;
        break;
    case Q_ERR:
        buf_puts(err, "boom");
        return -1;
    case Q_BIG:
        *out = q_big, *n = BIG_N;
        break;
    default:
        break;
    }
    return 0;
}

/* The alert's labels as promtool 2.42 gives them to templates. */
static const label_t alert_labels[] = { L("__name__", "up"), L("job", "node"), L("instance", "h:9100") };
static const label_t ext_labels[] = { L("cluster", "eu1") };

typedef enum mode {
    M_RAW,   /* Prometheus' Expander with name "test", as template_test.go */
    M_ALERT, /* rules/alerting.go: defs prepended, name __alert_HighCPU */
} tmode_t;

typedef struct tcase {
    const char *cite;
    tmode_t mode;
    const char *text;
    int q;
    const char *want;
} tcase_t;

#define ALERT_ERR(col, at, msg)                                                                                        \
    "<error expanding template: error executing template __alert_HighCPU: template: __alert_HighCPU:1:" col            \
    ": executing \"__alert_HighCPU\" at <" at ">: " msg ">"

static const tcase_t cases[] = {
    /* ---- Prometheus template/template_test.go, TestTemplateExpansion ---- */
    { "P: No template", M_RAW, "plain text", 0, "plain text" },
    { "P: Simple value", M_RAW, "{{ 1 }}", 0, "1" },
    { "P: Non-ASCII space", M_RAW, "{{\xc2\xa0}}", 0,
      "error parsing template test: template: test:1: unrecognized character in action: U+00A0" },
    { "P: HTML escaping doesn't apply to non-html", M_RAW, "{{ \"<b>\" }}", 0, "<b>" },
    { "P: Disabling HTML escaping (text mode)", M_RAW, "{{ \"<b>\" | safeHtml }}", 0, "<b>" },
    { "P: query 1.5 first value", M_RAW, "{{ query \"1.5\" | first | value }}", Q_NOLAB, "1.5" },
    { "P: Get value from query", M_RAW, "{{ query \"metric{instance='a'}\" | first | value }}", Q_ONE, "11" },
    { "P: Get label from query", M_RAW, "{{ query \"metric{instance='a'}\" | first | label \"instance\" }}", Q_ONE,
      "a" },
    { "P: Get label __value__ from query", M_RAW, "{{ query \"metric{__value__='a'}\" | first | strvalue }}", Q_STRV,
      "a" },
    { "P: Missing label is empty when using label function", M_RAW,
      "{{ query \"metric{instance='a'}\" | first | label \"foo\" }}", Q_ONE, "" },
    { "P: Missing label is empty when not using label function", M_RAW,
      "{{ $x := query \"metric\" | first }}{{ $x.Labels.foo }}", Q_ONE, "" },
    { "P: Range over query and sort by label", M_RAW,
      "{{ range query \"metric\" | sortByLabel \"instance\" }}{{.Labels.instance}}:{{.Value}}: {{end}}", Q_TWO,
      "a:11: b:21: " },
    { "P: stripPort Simple hostname", M_RAW, "{{ \"foo.example.com\" | stripPort }}", 0, "foo.example.com" },
    { "P: stripPort Hostname with port", M_RAW, "{{ \"foo.example.com:12345\" | stripPort }}", 0, "foo.example.com" },
    { "P: stripPort Simple IPv4 address", M_RAW, "{{ \"192.0.2.1\" | stripPort }}", 0, "192.0.2.1" },
    { "P: stripPort IPv4 address with port", M_RAW, "{{ \"192.0.2.1:12345\" | stripPort }}", 0, "192.0.2.1" },
    { "P: stripPort Simple IPv6 address", M_RAW, "{{ \"2001:0DB8::1\" | stripPort }}", 0, "2001:0DB8::1" },
    { "P: stripPort IPv6 address with port", M_RAW, "{{ \"[2001:0DB8::1]:12345\" | stripPort }}", 0, "2001:0DB8::1" },
    { "P: stripPort Value can't be split", M_RAW, "{{ \"[2001:0DB8::1]::12345\" | stripPort }}", 0,
      "[2001:0DB8::1]::12345" },
    { "P: Unparsable template", M_RAW, "{{", 0, "error parsing template test: template: test:1: unclosed action" },
    { "P: Error in function", M_RAW, "{{ query \"missing\" | first }}", Q_EMPTY,
      "error executing template test: template: test:1:21: executing \"test\" at <first>: error calling first: "
      "first() called on vector with no elements" },
    { "P: Panic", M_RAW, "{{ (query \"missing\").banana }}", Q_EMPTY,
      "error executing template test: template: test:1:10: executing \"test\" at <\"missing\">: can't evaluate "
      "field banana in type template.queryResult" },
    { "P: Regex replacement", M_RAW, "{{ reReplaceAll \"(a)b\" \"x$1\" \"ab\" }}", 0, "xa" },
    { "P: Humanize - float64", M_RAW,
      "{{ humanize 0.0 }}:{{ humanize 1.0 }}:{{ humanize 1234567.0 }}:{{ humanize .12 }}:", 0, "0:1:1.235M:120m:" },
    { "P: Humanize - string", M_RAW,
      "{{ humanize \"0.0\" }}:{{ humanize \"1.0\" }}:{{ humanize \"1234567.0\" }}:{{ humanize \".12\" }}:", 0,
      "0:1:1.235M:120m:" },
    { "P: Humanize - string with error", M_RAW, "{{ humanize \"one\" }}", 0,
      "error executing template test: template: test:1:3: executing \"test\" at <humanize \"one\">: error calling "
      "humanize: strconv.ParseFloat: parsing \"one\": invalid syntax" },
    { "P: Humanize - int", M_RAW,
      "{{ humanize 0 }}:{{ humanize -1 }}:{{ humanize 1 }}:{{ humanize 1234567 }}:{{ humanize 9223372036854775807 "
      "}}:",
      0, "0:-1:1:1.235M:9.223E:" },
    { "P: Humanize1024 - float64", M_RAW,
      "{{ humanize1024 0.0 }}:{{ humanize1024 1.0 }}:{{ humanize1024 1048576.0 }}:{{ humanize1024 .12 }}:", 0,
      "0:1:1Mi:0.12:" },
    { "P: Humanize1024 - string", M_RAW,
      "{{ humanize1024 \"0.0\" }}:{{ humanize1024 \"1.0\" }}:{{ humanize1024 \"1048576.0\" }}:{{ humanize1024 "
      "\".12\" }}:",
      0, "0:1:1Mi:0.12:" },
    { "P: Humanize1024 - string with error", M_RAW, "{{ humanize1024 \"one\" }}", 0,
      "error executing template test: template: test:1:3: executing \"test\" at <humanize1024 \"one\">: error "
      "calling humanize1024: strconv.ParseFloat: parsing \"one\": invalid syntax" },
    { "P: Humanize1024 - int", M_RAW,
      "{{ humanize1024 0 }}:{{ humanize1024 -1 }}:{{ humanize1024 1 }}:{{ humanize1024 1234567 }}:{{ humanize1024 "
      "9223372036854775807 }}:",
      0, "0:-1:1:1.177Mi:8Ei:" },
    { "P: HumanizeDuration - seconds - float64", M_RAW,
      "{{ humanizeDuration 0.0 }}:{{ humanizeDuration 1.0 }}:{{ humanizeDuration 60.0 }}:{{ humanizeDuration 3600.0 "
      "}}:{{ humanizeDuration 86400.0 }}:{{ humanizeDuration 90000.0 }}:{{ humanizeDuration -183845.0 }}:{{ "
      "humanizeDuration 899.99 }}:",
      0, "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:" },
    { "P: HumanizeDuration - seconds - string", M_RAW,
      "{{ humanizeDuration \"0\" }}:{{ humanizeDuration \"1\" }}:{{ humanizeDuration \"60\" }}:{{ humanizeDuration "
      "\"3600\" }}:{{ humanizeDuration \"86400\" }}:",
      0, "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:" },
    { "P: HumanizeDuration - subsecond and fractional seconds - float64", M_RAW,
      "{{ humanizeDuration .1 }}:{{ humanizeDuration .0001 }}:{{ humanizeDuration .12345 }}:{{ humanizeDuration 60.1 "
      "}}:{{ humanizeDuration 60.5 }}:{{ humanizeDuration 1.2345 }}:{{ humanizeDuration 12.345 }}:",
      0, "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:" },
    { "P: HumanizeDuration - subsecond and fractional seconds - string", M_RAW,
      "{{ humanizeDuration \".1\" }}:{{ humanizeDuration \".0001\" }}:{{ humanizeDuration \".12345\" }}:{{ "
      "humanizeDuration \"60.1\" }}:{{ humanizeDuration \"60.5\" }}:{{ humanizeDuration \"1.2345\" }}:{{ "
      "humanizeDuration \"12.345\" }}:",
      0, "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:" },
    { "P: HumanizeDuration - string with error", M_RAW, "{{ humanizeDuration \"one\" }}", 0,
      "error executing template test: template: test:1:3: executing \"test\" at <humanizeDuration \"one\">: error "
      "calling humanizeDuration: strconv.ParseFloat: parsing \"one\": invalid syntax" },
    { "P: HumanizeDuration - int", M_RAW,
      "{{ humanizeDuration 0 }}:{{ humanizeDuration -1 }}:{{ humanizeDuration 1 }}:{{ humanizeDuration 1234567 }}:", 0,
      "0s:-1s:1s:14d 6h 56m 7s:" },
    { "P: Humanize* Inf and NaN - string", M_RAW,
      "{{ range $x := query \"x\" }}{{ end }}{{ humanize \"+Inf\" }}:{{ humanize1024 \"+Inf\" }}:{{ humanizeDuration "
      "\"+Inf\" }}:{{ humanizeTimestamp \"+Inf\" }}:{{ humanize \"-Inf\" }}:{{ humanize1024 \"-Inf\" }}:{{ "
      "humanizeDuration \"-Inf\" }}:{{ humanizeTimestamp \"-Inf\" }}:{{ humanize \"NaN\" }}:{{ humanize1024 \"NaN\" "
      "}}:{{ humanizeDuration \"NaN\" }}:{{ humanizeTimestamp \"NaN\" }}:",
      Q_EMPTY, "+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:" },
    { "P: HumanizePercentage - float64", M_RAW,
      "{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:{{ 0.1234567 | humanizePercentage }}:{{ "
      "1.23456 | humanizePercentage }}",
      0, "-22.22%:0%:12.35%:123.5%" },
    { "P: HumanizePercentage - int", M_RAW,
      "{{ humanizePercentage 0 }}:{{ humanizePercentage -1 }}:{{ humanizePercentage 1 }}:{{ humanizePercentage "
      "1234567 }}:{{ humanizePercentage 9223372036854775807 }}:",
      0, "0%:-100%:100%:1.235e+08%:9.223e+20%:" },
    { "P: HumanizePercentage - string", M_RAW,
      "{{ \"-0.22222\" | humanizePercentage }}:{{ \"0.0\" | humanizePercentage }}:{{ \"0.1234567\" | "
      "humanizePercentage }}:{{ \"1.23456\" | humanizePercentage }}",
      0, "-22.22%:0%:12.35%:123.5%" },
    { "P: HumanizePercentage - string with error", M_RAW, "{{ \"one\" | humanizePercentage }}", 0,
      "error executing template test: template: test:1:11: executing \"test\" at <humanizePercentage>: error "
      "calling humanizePercentage: strconv.ParseFloat: parsing \"one\": invalid syntax" },
    { "P: HumanizeTimestamp - int", M_RAW,
      "{{ humanizeTimestamp 0 }}:{{ humanizeTimestamp -1 }}:{{ humanizeTimestamp 1 }}:{{ humanizeTimestamp 1234567 "
      "}}:{{ humanizeTimestamp 9223372036 }}:",
      0,
      "1970-01-01 00:00:00 +0000 UTC:1969-12-31 23:59:59 +0000 UTC:1970-01-01 00:00:01 +0000 UTC:1970-01-15 "
      "06:56:07 +0000 UTC:2262-04-11 23:47:16 +0000 UTC:" },
    { "P: HumanizeTimestamp - int with error (literal instead of range)", M_RAW,
      "{{ humanizeTimestamp -9223372036854775808 }}", 0,
      "error executing template test: template: test:1:3: executing \"test\" at <humanizeTimestamp "
      "-9223372036854775808>: error calling humanizeTimestamp: -9.223372036854776e+18 cannot be represented as a "
      "nanoseconds timestamp since it overflows int64" },
    { "P: HumanizeTimestamp - model.SampleValue input - float64", M_RAW, "{{ 1435065584.128 | humanizeTimestamp }}", 0,
      "2015-06-23 13:19:44.128 +0000 UTC" },
    { "P: HumanizeTimestamp - model.SampleValue input - string", M_RAW, "{{ \"1435065584.128\" | humanizeTimestamp }}",
      0, "2015-06-23 13:19:44.128 +0000 UTC" },
    { "P: ToTime (printed; .Format is not supported)", M_RAW, "{{ 1435065584.128 | toTime }}", 0,
      "2015-06-23 13:19:44.128 +0000 UTC" },
    { "P: ToTime - string, .Unix", M_RAW, "{{ (\"1435065584.128\" | toTime).Unix }}", 0, "1435065584" },
    { "P: Title", M_RAW, "{{ \"aa bb CC\" | title }}", 0, "Aa Bb CC" },
    { "P: toUpper", M_RAW, "{{ \"aa bb CC\" | toUpper }}", 0, "AA BB CC" },
    { "P: toLower", M_RAW, "{{ \"aA bB CC\" | toLower }}", 0, "aa bb cc" },
    { "P: Match", M_RAW, "{{ match \"a+\" \"aa\" }} {{ match \"a+\" \"b\" }}", 0, "true false" },
    { "P: graphLink", M_RAW, "{{ graphLink \"up\" }}", 0, "/graph?g0.expr=up&g0.tab=0" },
    { "P: tableLink", M_RAW, "{{ tableLink \"up\" }}", 0, "/graph?g0.expr=up&g0.tab=1" },
    { "P: pathPrefix", M_RAW, "{{ pathPrefix }}", 0, "/path/prefix" },
    { "P: externalURL", M_RAW, "{{ externalURL }}", 0, "http://testhost:9090/path/prefix" },
    { "P: parseDuration", M_RAW, "{{ printf \"%0.2f\" (parseDuration \"1h2m10ms\") }}", 0, "3720.01" },
    { "P: stripDomain Simple hostname", M_RAW, "{{ \"foo.example.com\" | stripDomain }}", 0, "foo" },
    { "P: stripDomain Hostname with port", M_RAW, "{{ \"foo.example.com:12345\" | stripDomain }}", 0, "foo:12345" },
    { "P: stripDomain Simple IPv4 address", M_RAW, "{{ \"192.0.2.1\" | stripDomain }}", 0, "192.0.2.1" },
    { "P: stripDomain IPv4 address with port", M_RAW, "{{ \"192.0.2.1:12345\" | stripDomain }}", 0, "192.0.2.1:12345" },
    { "P: stripDomain Simple IPv6 address", M_RAW, "{{ \"2001:0DB8::1\" | stripDomain }}", 0, "2001:0DB8::1" },
    { "P: stripDomain IPv6 address with port", M_RAW, "{{ \"[2001:0DB8::1]:12345\" | stripDomain }}", 0,
      "[2001:0DB8::1]:12345" },
    { "P: stripDomain Value can't be split", M_RAW, "{{ \"[2001:0DB8::1]::12345\" | stripDomain }}", 0,
      "[2001:0DB8::1]::12345" },

    /* ---- alert fields, rules/alerting.go (promtool 2.42 checked) ---- */
    { "A: promtool $externalURL, $value, printf", M_ALERT,
      "{{ $externalURL }}|{{ $value }}|{{ printf \"%.2f\" $value }}", 0, "|0.8523|0.85" },
    { "A: promtool gt float64 with int constant", M_ALERT, "{{ if gt $value 80 }}x{{ end }}", 0,
      ALERT_ERR("118", "gt $value 80", "error calling gt: incompatible types for comparison") },
    { "A: promtool missing field on the data struct", M_ALERT, "{{ .Foo }}", 0,
      ALERT_ERR("115", ".Foo",
                "can't evaluate field Foo in type struct { Labels map[string]string; ExternalLabels "
                "map[string]string; ExternalURL string; Value float64 }") },
    { "A: promtool humanize error", M_ALERT, "{{ humanize \"one\" }}", 0,
      ALERT_ERR("115", "humanize \"one\"",
                "error calling humanize: strconv.ParseFloat: parsing \"one\": invalid syntax") },
    { "A: promtool range $k, $v over $labels", M_ALERT, "{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}", 0,
      "__name__=up;instance=h:9100;job=node;" },
    { "A: promtool field of a string", M_ALERT, "{{ $labels.instance.x }}", 0,
      ALERT_ERR("122", "$labels.instance.x", "can't evaluate field x in type string") },
    { "A: promtool argument to a non-function", M_ALERT, "{{ 1 2 }}", 0,
      ALERT_ERR("115", "1", "can't give argument to non-function 1") },
    { "A: promtool printf bad verbs and EXTRA", M_ALERT,
      "{{ printf \"%d|%s|%v|%x|%5.1f|%q\" 1.5 3 123456789.0 255 3.14159 \"a\\\"b\" }}{{ printf \"a\" 1 }}", 0,
      "%!d(float64=1.5)|%!s(int=3)|1.23456789e+08|ff|  3.1|\"a\\\"b\"a%!(EXTRA int=1)" },
    { "A: promtool humanize edges and title", M_ALERT,
      "{{ 0.1 | humanize }} {{ humanize 999.99 }} {{ humanize1024 1023.99 }} {{ humanizeDuration 59.99 }} {{ "
      "humanizeDuration 0.0000001 }} {{ humanizePercentage 0.000001 }} {{ title \"hello-world foo_bar x.y\" }}",
      0, "100m 1000 1024 59.99s 100ns 0.0001% Hello-World Foo_bar X.Y" },
    { "A: promtool printf %v %.3v widths, %x of a string, %c %U", M_ALERT,
      "{{ printf \"%v %.3v %8.3f|%-8.2e|\" 1e20 3.14159 -2.5 12345.678 }}{{ printf \"%x %X %c %U\" \"hi\" 255 65 65 "
      "}}|{{ 1e100 }}",
      0, "1e+20 3.14   -2.500|1.23e+04|6869 FF A U+0041|1e+100" },
    { "A: instance label", M_ALERT, "{{ $labels.instance }} of job {{ $labels.job }} is down", 0,
      "h:9100 of job node is down" },
    { "A: .Labels and .Value", M_ALERT, "{{ .Labels.job }}={{ .Value }}", 0, "node=0.8523" },
    { "A: external labels", M_ALERT, "{{ $externalLabels.cluster }}/{{ .ExternalLabels.cluster }}", 0, "eu1/eu1" },
    { "A: missing label is empty (missingkey=zero)", M_ALERT, "[{{ $labels.nope }}]", 0, "[]" },
    { "A: humanizePercentage $value", M_ALERT, "{{ $value | humanizePercentage }}", 0, "85.23%" },
    { "A: humanize $value", M_ALERT, "{{ humanize $value }}", 0, "852.3m" },
    { "A: gt with float constant", M_ALERT, "{{ if gt $value 0.5 }}high{{ else }}low{{ end }}", 0, "high" },
    { "A: else if chain", M_ALERT,
      "{{ if eq $labels.job \"api\" }}A{{ else if eq $labels.job \"node\" }}N{{ else }}O{{ end }}", 0, "N" },
    { "A: with / else", M_ALERT,
      "{{ with $labels.job }}job={{ . }}{{ end }}{{ with $labels.nope }}x{{ else }} none{{ end }}", 0,
      "job=node none" },
    { "A: query | first | value | humanize", M_ALERT,
      "{{ with query \"up\" }}{{ . | first | value | humanize }}{{ end }}", Q_ONE, "11" },
    { "A: range over empty query with else", M_ALERT, "{{ range query \"up\" }}x{{ else }}none{{ end }}", Q_EMPTY,
      "none" },
    { "A: query error", M_ALERT, "{{ query \"up\" }}", Q_ERR,
      ALERT_ERR("115", "query \"up\"", "error calling query: boom") },
    { "A: len of query", M_ALERT, "{{ query \"up\" | len }}", Q_TWO, "2" },
    { "A: index labels", M_ALERT, "{{ index $labels \"job\" }}{{ index $labels \"nope\" }}", 0, "node" },
    { "A: parse error keeps Prometheus' wrapping", M_ALERT, "{{ foo }}", 0,
      "<error expanding template: error parsing template __alert_HighCPU: template: __alert_HighCPU:1: function "
      "\"foo\" not defined>" },
    { "A: reReplaceAll on a label", M_ALERT, "{{ reReplaceAll \":.*\" \"\" $labels.instance }}", 0, "h" },
    { "A: stripPort on a label", M_ALERT, "{{ $labels.instance | stripPort }}", 0, "h" },
    { "A: toUpper title", M_ALERT, "{{ $labels.job | toUpper }} {{ title \"node exporter\" }}", 0,
      "NODE Node Exporter" },
    { "A: print a map", M_ALERT, "{{ $labels }}", 0, "map[__name__:up instance:h:9100 job:node]" },

    /* ---- Go text/template behaviour ---- */
    { "G: trim markers", M_RAW, "a  {{- \" b \" -}}  c", 0, "a b c" },
    { "G: comment", M_RAW, "x{{/* comment */}}y", 0, "xy" },
    { "G: trimmed comment", M_RAW, "x {{- /* c */ -}} y", 0, "xy" },
    { "G: declare and assign", M_RAW, "{{ $x := 1 }}{{ $x = 2 }}{{ $x }}", 0, "2" },
    { "G: variable scope ends with if", M_RAW, "{{ if true }}{{ $y := 1 }}{{ end }}{{ $y }}", 0,
      "error parsing template test: template: test:1: undefined variable \"$y\"" },
    { "G: and returns the deciding value", M_RAW, "{{ and 1 0 2 }}|{{ and 1 2 }}", 0, "0|2" },
    { "G: or returns the deciding value", M_RAW, "{{ or 0 \"\" \"z\" }}|{{ or 0 false }}", 0, "z|false" },
    { "G: not", M_RAW, "{{ not false }} {{ not 1 }} {{ not \"\" }}", 0, "true false true" },
    { "G: len of string", M_RAW, "{{ len \"abc\" }}", 0, "3" },
    { "G: len of int", M_RAW, "{{ len 3 }}", 0,
      "error executing template test: template: test:1:3: executing \"test\" at <len 3>: error calling len: len "
      "of type int" },
    { "G: print spacing", M_RAW, "{{ print 1 2 \"a\" 3 \"b\" \"c\" }}", 0, "1 2a3bc" },
    { "G: println", M_RAW, "{{ println 1 \"a\" }}", 0, "1 a\n" },
    { "G: printf %d int", M_RAW, "{{ printf \"%d\" 3 }}", 0, "3" },
    { "G: printf star width and precision", M_RAW,
      "{{ printf \"%*d|%-*d|%.*f|%*d|%0*d|\" 5 42 4 7 2 3.14159 -4 7 -3 1 }}", 0, "   42|7   |3.14|7   |1  |" },
    { "G: printf bad star arguments", M_RAW, "{{ printf \"%*d|%.*d|%.*d|%*d|%*d\" \"x\" 1 -1 2 \"y\" 3 1000001 4 }}", 0,
      "%!(BADWIDTH)1|%!(BADPREC)2|%!(BADPREC)3|%!(BADWIDTH)4|%!(BADWIDTH)%!d(MISSING)" },
    { "G: empty regexp from a missing key", M_ALERT,
      "{{ match (index $labels \"nosuch\") \"abc\" }}|{{ reReplaceAll $labels.nosuch \"-\" \"ab\" }}|{{ match \"\" "
      "$labels.nosuch }}",
      0, "true|-a-b-|true" },
    { "G: printf widths", M_RAW, "{{ printf \"%-5s|%5s|%05d|%+d|%x|%X|%o\" \"ab\" \"cd\" -42 7 255 255 8 }}", 0,
      "ab   |   cd|-0042|+7|ff|FF|10" },
    { "G: printf floats", M_RAW,
      "{{ printf \"%v %g %e %.3e %f %.0f %G\" 1e21 0.000012 1234.5678 1234.5678 0.5 2.5 1e-7 }}", 0,
      "1e+21 1.2e-05 1.234568e+03 1.235e+03 0.500000 2 1E-07" },
    { "G: printf missing and noverb", M_RAW, "{{ printf \"%s %d %\" \"a\" }}", 0, "a %!d(MISSING) %!(NOVERB)" },
    { "G: printf bool, %%, %q", M_RAW, "{{ printf \"%t %v 100%% %q\" true false \"x\" }}", 0, "true false 100% \"x\"" },
    { "G: printf string precision", M_RAW, "{{ printf \"%.2s\" \"abc\" }}", 0, "ab" },
    { "G: printf string precision counts runes", M_RAW,
      "{{ printf \"%.2s|%.0s|%.9s|%.1q\" \"\\u00e9\\u00e0x\" \"ab\" \"\\u00e9\" \"xy\" }}", 0,
      "\xc3\xa9\xc3\xa0||\xc3\xa9|\"x\"" },
    { "G: printf Inf", M_RAW, "{{ printf \"%f %v\" (humanize \"x\" | len) 1.0 }}", 0,
      "error executing template test: template: test:1:19: executing \"test\" at <humanize \"x\">: error calling "
      "humanize: strconv.ParseFloat: parsing \"x\": invalid syntax" },
    { "G: number literals", M_RAW, "{{ 1.5 }} {{ 1e3 }} {{ 0x10 }} {{ -5 }} {{ 'a' }} {{ 1.0 }}", 0,
      "1.5 1000 16 -5 97 1" },
    { "G: string escapes and raw strings", M_RAW, "{{ \"a\\tb\\u00e9\" }}|{{ `a\\tb` }}", 0, "a\tb\xc3\xa9|a\\tb" },
    { "G: bools and eq", M_RAW, "{{ true }} {{ eq 1 1 }} {{ eq \"a\" \"b\" \"a\" }} {{ ne 1 2 }}", 0,
      "true true true true" },
    { "G: lt le gt ge", M_RAW, "{{ lt 1 2 }}{{ le 2 2 }}{{ gt 1 2 }}{{ ge 1 2 }}{{ lt 1.5 2.5 }}{{ lt \"a\" \"b\" }}",
      0, "truetruefalsefalsetruetrue" },
    { "G: eq float with int", M_RAW, "{{ eq 1.0 1 }}", 0,
      "error executing template test: template: test:1:3: executing \"test\" at <eq 1.0 1>: error calling eq: "
      "incompatible types for comparison" },
    { "G: nil is not a command", M_RAW, "{{ nil }}", 0,
      "error executing template test: template: test:1:3: executing \"test\" at <nil>: nil is not a command" },
    { "G: range over an int", M_RAW, "{{ range 1 }}{{ end }}", 0,
      "error executing template test: template: test:1:9: executing \"test\" at <1>: range can't iterate over "
      "1" },
    { "G: range with index", M_RAW, "{{ range $i, $s := query \"m\" }}{{ $i }}={{ $s.Labels.instance }} {{ end }}",
      Q_TWO, "0=b 1=a " },
    { "G: index query result", M_RAW, "{{ (index (query \"m\") 1).Value }}", Q_TWO, "11" },
    { "G: index at the length (reflect's panic)", M_RAW, "{{ index \"ab\" 2 }}", 0,
      "error executing template test: template: test:1:3: executing \"test\" at <index \"ab\" 2>: error calling index: "
      "reflect: string index out of range" },
    { "G: index out of range", M_RAW, "{{ index (query \"m\") 5 }}", Q_TWO,
      "error executing template test: template: test:1:3: executing \"test\" at <index (query \"m\") 5>: error "
      "calling index: index out of range: 5" },
    { "G: print a sample", M_RAW, "{{ query \"m\" | first }}", Q_ONE, "{map[__name__:metric instance:a] 11}" },
    { "G: wrong type for value", M_RAW, "{{ 1.5 | toUpper }}", 0,
      "error executing template test: template: test:1:9: executing \"test\" at <toUpper>: wrong type for value; "
      "expected string; got float64" },
    { "G: non executable command in a pipeline", M_RAW, "{{ \"a\" | 1 }}", 0,
      "error parsing template test: template: test:1: non executable command in pipeline stage 2" },
    { "G: wrong type for value (evaluated)", M_RAW, "{{ toUpper (humanize 1) }}{{ toUpper (len \"a\") }}", 0,
      "error executing template test: template: test:1:42: executing \"test\" at <\"a\">: wrong type for "
      "value; expected string; got int" },
    { "G: expected string; found constant", M_RAW, "{{ toUpper 1 }}", 0,
      "error executing template test: template: test:1:11: executing \"test\" at <1>: expected string; found 1" },
    { "G: wrong number of args", M_RAW, "{{ humanize 1 2 }}", 0,
      "error executing template test: template: test:1:3: executing \"test\" at <humanize>: wrong number of args "
      "for humanize: want 1 got 2" },
    { "G: label on a nil sample", M_RAW, "{{ label \"a\" nil }}", 0,
      "error executing template test: template: test:1:3: executing \"test\" at <label \"a\" nil>: error calling "
      "label: runtime error: invalid memory address or nil pointer dereference" },
    { "G: reReplaceAll empty matches", M_RAW, "{{ reReplaceAll \"x*\" \"-\" \"abc\" }}", 0, "-a-b-c-" },
    { "G: reReplaceAll named and braced groups", M_RAW,
      "{{ reReplaceAll \"(?P<h>[a-z]+):(\\\\d+)\" \"${2}@$h$$\" \"web:8080\" }}", 0, "8080@web$" },
    { "G: humanize small and large", M_RAW,
      "{{ humanize 0.000001234 }} {{ humanize 1e30 }} {{ humanize -1500 }} {{ humanize1024 1073741824 }}", 0,
      "1.234u 1e+06Y -1.5k 1Gi" },
    { "G: toDuration", M_RAW, "{{ toDuration 3723.5 }} {{ toDuration 0.0015 }}", 0, "1h2m3.5s 1.5ms" },
    { "G: urlquery and html", M_RAW, "{{ urlquery \"a b&c\" }} {{ html \"<a href='x'>\" }}", 0,
      "a+b%26c &lt;a href=&#39;x&#39;&gt;" },
    { "G: graphLink escapes", M_RAW, "{{ graphLink \"rate(x{a=\\\"b\\\"}[5m])\" }}", 0,
      "/graph?g0.expr=rate%28x%7Ba%3D%22b%22%7D%5B5m%5D%29&g0.tab=0" },
    { "G: gt and le look at equality", M_RAW,
      "{{ gt 2 2 }}{{ ge 2 2 }}{{ le 1 2 }}{{ le 3 2 }}{{ gt \"b\" \"a\" }}{{ ge 1.5 2.5 }}", 0,
      "falsetruetruefalsetruefalse" },
    { "G: lt on bools", M_RAW, "{{ lt true false }}", 0,
      "error executing template test: template: test:1:3: executing \"test\" at <lt true false>: error calling lt: "
      "invalid type for comparison" },
    { "G: ge with nil", M_RAW, "{{ ge 1 nil }}", 0,
      "error executing template test: template: test:1:3: executing \"test\" at <ge 1 nil>: error calling ge: "
      "invalid type for comparison" },
    { "G: cannot assign nil to string", M_RAW, "{{ toUpper nil }}", 0,
      "error executing template test: template: test:1:11: executing \"test\" at <nil>: cannot assign nil to string" },
    { "G: missing label is the empty string (missingkey=zero)", M_ALERT, "{{ $labels.nosuch | toUpper }}", 0, "" },
    { "G: nil is an empty query result", M_RAW, "{{ first nil }}", 0,
      "error executing template test: template: test:1:3: executing \"test\" at <first nil>: error calling first: "
      "first() called on vector with no elements" },
    { "G: urlquery prints non-strings as Sprint", M_RAW, "{{ urlquery 1 2 \"a b\" }}", 0, "1+2a+b" },
    { "G: case mapping of two-byte runes", M_RAW, "{{ toUpper \"caf\u00e9 \u03b4\" }} {{ toLower \"\u00c9COLE\" }}", 0,
      "CAF\xc3\x89 \xce\x94 \xc3\xa9"
      "cole" },
    { "G: parse: unexpected end", M_RAW, "{{ end }}", 0,
      "error parsing template test: template: test:1: unexpected {{end}}" },
    { "G: parse: unexpected EOF", M_RAW, "{{ if 1 }}", 0,
      "error parsing template test: template: test:1: unexpected EOF" },
    { "G: parse: undefined variable", M_RAW, "\n{{ $x }}", 0,
      "error parsing template test: template: test:2: undefined variable \"$x\"" },
    { "G: parse: unterminated string", M_RAW, "{{ \"abc }}", 0,
      "error parsing template test: template: test:1: unterminated quoted string" },
    { "G: parse: newline in a string", M_RAW, "{{ \"a\nb\" }}", 0,
      "error parsing template test: template: test:1: unterminated quoted string" },
    { "G: parse: escaped quote does not close", M_RAW, "{{ \"a\\\" }}", 0,
      "error parsing template test: template: test:1: unterminated quoted string" },
    { "G: parse: unterminated character constant", M_RAW, "{{ 'a }}", 0,
      "error parsing template test: template: test:1: unterminated character constant" },
    { "G: parse: escaped quote in a character constant", M_RAW, "{{ '\\'' }}", 0, "39" },
    { "G: parse: unterminated raw string", M_RAW, "{{ `a\nb }}", 0,
      "error parsing template test: template: test:1: unterminated raw quoted string" },
    { "G: string escapes: hex, octal, long unicode", M_RAW, "{{ \"\\x41\\101\\U0001F600\\a\" }}", 0,
      "AA\xf0\x9f\x98\x80\a" },
    { "G: string escapes: one character", M_RAW, "{{ \"\\n\\r\\b\\f\\v\\\\\\\"\" }}|{{ '\\n' }}", 0,
      "\n\r\b\f\v\\\"|10" },
    { "G: parse: short hex escape", M_RAW, "{{ \"\\x4\" }}", 0,
      "error parsing template test: template: test:1: invalid syntax" },
    { "G: parse: bad octal escape", M_RAW, "{{ \"\\400\" }}", 0,
      "error parsing template test: template: test:1: invalid syntax" },
    { "G: parse: surrogate escape", M_RAW, "{{ \"\\ud800\" }}", 0,
      "error parsing template test: template: test:1: invalid syntax" },
    { "G: parse: unclosed comment", M_RAW, "{{/* x", 0,
      "error parsing template test: template: test:1: unclosed comment" },
    { "G: parse: missing value for if", M_RAW, "{{ if }}{{ end }}", 0,
      "error parsing template test: template: test:1: missing value for if" },
    /* ---- define / template / block (Go 1.x, as Prometheus' Expander parses them) ---- */
    { "G: define alone renders nothing", M_RAW, "{{ define \"x\" }}X{{ end }}", 0, "" },
    { "G: template with a pipeline", M_RAW, "{{ define \"x\" }}[{{ . }}]{{ end }}{{ template \"x\" 1 }}", 0, "[1]" },
    { "G: template without a pipeline: dot is nil", M_RAW, "{{ define \"x\" }}[{{ . }}]{{ end }}{{ template \"x\" }}",
      0, "[<no value>]" },
    { "G: template before its define", M_RAW, "{{ template `x` 2 }}{{ define \"x\" }}<{{ $ }}>{{ end }}", 0, "<2>" },
    { "G: block defines and runs", M_RAW, "a{{ block \"b\" 2 }}<{{ . }}>{{ end }}z", 0, "a<2>z" },
    { "G: later define replaces an empty one", M_RAW,
      "{{ define \"a\" }} {{ end }}{{ define \"a\" }}A{{ end }}{{ template \"a\" }}", 0, "A" },
    { "G: empty define keeps the first", M_RAW,
      "{{ define \"a\" }}A{{ end }}{{ define \"a\" }}\n{{ end }}{{ template \"a\" }}", 0, "A" },
    { "G: called template sees no caller variables", M_RAW,
      "{{ define \"v\" }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x := 1 }}{{ template \"v\" }}{{ $x }}", 0, "21" },
    { "G: template variables persist", M_RAW, "{{ define \"v\" }}{{ end }}{{ template \"v\" $y := 3 }}{{ $y }}", 0,
      "3" },
    { "G: template not defined", M_RAW, "{{ template \"y\" }}", 0,
      "error executing template test: template: test:1:12: executing \"test\" at <{{template \"y\"}}>: template \"y\" "
      "not "
      "defined" },
    { "G: error inside a defined template names it", M_RAW,
      "{{ define \"e\" }}\n{{ .X.Y }}{{ end }}{{ template \"e\" 1 }}", 0,
      "error executing template test: template: test:2:5: executing \"e\" at <.X.Y>: can't evaluate field X in type "
      "int" },
    { "G: recursion is bounded", M_RAW, "{{ define \"r\" }}{{ template \"r\" . }}{{ end }}{{ template \"r\" . }}", 0,
      "error executing template test: template: test:1:28: executing \"r\" at <{{template \"r\" .}}>: exceeded "
      "maximum template depth (100)" },
    { "G: parse: define in a body", M_RAW, "{{ if 1 }}{{ define \"a\" }}{{ end }}{{ end }}", 0,
      "error parsing template test: template: test:1: unexpected <define> in command" },
    { "G: parse: define without a name", M_RAW, "{{ define x }}{{ end }}", 0,
      "error parsing template test: template: test:1: unexpected \"x\" in define clause" },
    { "G: parse: define name not a string", M_RAW, "{{ define 1 }}{{ end }}", 0,
      "error parsing template test: template: test:1: unexpected \"1\" in define clause" },
    { "G: parse: define unclosed", M_RAW, "{{ define \"a\" }}", 0,
      "error parsing template test: template: test:1: unexpected EOF" },
    { "G: parse: define with else", M_RAW, "{{ define \"a\" }}{{ else }}{{ end }}", 0,
      "error parsing template test: template: test:1: unexpected {{else}} in define clause" },
    { "G: parse: multiple definition", M_RAW, "{{ define \"a\" }}1{{ end }}\n{{ define \"a\" }}2{{ end }}", 0,
      "error parsing template test: template: test:2: template: multiple definition of template \"a\"" },
    { "G: parse: block without pipeline", M_RAW, "{{ block \"b\" }}{{ end }}", 0,
      "error parsing template test: template: test:1: missing value for block clause" },
    { "G: parse: define body has its own variables", M_RAW, "{{ $x := 1 }}{{ define \"v\" }}{{ $x }}{{ end }}", 0,
      "error parsing template test: template: test:1: undefined variable \"$x\"" },
    { "G: break and continue", M_RAW,
      "{{ range query \"m\" }}{{ if eq .Labels.instance \"b\" }}{{ continue }}{{ end }}{{ .Labels.instance }}{{ break "
      "}}x{{ end }}.",
      Q_TWO, "a." },
    { "G: parse: break outside range", M_RAW, "{{ if 1 }}{{ break }}{{ end }}", 0,
      "error parsing template test: template: test:1: {{break}} outside {{range}}" },
    { "G: parse: continue in range else", M_RAW, "{{ range 1 }}{{ else }}{{ continue }}{{ end }}", 0,
      "error parsing template test: template: test:1: {{continue}} outside {{range}}" },
    { "G: parse: break in a define inside range", M_RAW,
      "{{ range 1 }}{{ block \"b\" . }}{{ break }}{{ end }}{{ end }}", 0,
      "error parsing template test: template: test:1: {{break}} outside {{range}}" },
    { "G: parse: break with arguments", M_RAW, "{{ range 1 }}{{ break 1 }}{{ end }}", 0,
      "error parsing template test: template: test:1: unexpected \"1\" in {{break}}" },
    { "G: slice", M_RAW, "{{ slice \"abcdef\" 1 3 }}{{ range slice (query \"m\") 1 }}{{ .Labels.instance }}{{ end }}",
      Q_TWO, "bca" },
    { "G: Alertmanager's functions are not Prometheus'", M_RAW, "{{ join \",\" 1 }}", 0,
      "error parsing template test: template: test:1: function \"join\" not defined" },
};

static const alerts_tmpl_data_t base_data = {
    .labels = alert_labels,
    .nlabels = 3,
    .external_labels = ext_labels,
    .nexternal_labels = 1,
    .value = 0.8523,
    .eval_ms = 1435065584128,
    .query = fixture_query,
};

/* Run one case; returns the text as Prometheus would produce it. */
static void run_case(const tcase_t *c, const char *text, size_t len, buf_t *out)
{
    int q = c->q;
    alerts_tmpl_data_t d = base_data;
    d.query_ctx = &q;
    if (c->mode == M_ALERT) {
        d.external_url = "";
        (void)alerts_tmpl_expand("__alert_HighCPU", text, len, &d, out);
        return;
    }
    d.external_url = "http://testhost:9090/path/prefix";
    arena_t *a = arena_create(4096);
    buf_t err = { 0 };
    alerts_tmpl_t *t = NULL;
    if (alerts_tmpl_parse(a, "test", text, len, &t, &err) != 0) {
        buf_puts(out, "error parsing template test: ");
        buf_append(out, err.data, err.len);
    } else {
        size_t start = out->len;
        if (alerts_tmpl_exec(t, &d, a, out, &err) != 0) {
            out->len = start;
            buf_puts(out, "error executing template test: ");
            buf_append(out, err.data, err.len);
        }
    }
    buf_fini(&err);
    arena_destroy(a);
}

static void test_golden(void **state)
{
    (void)state;
    size_t n = sizeof(cases) / sizeof(cases[0]);
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        buf_t out = { 0 };
        run_case(&cases[i], cases[i].text, strlen(cases[i].text), &out);
        const char *got = out.data ? (const char *)out.data : "";
        if (out.len != strlen(cases[i].want) || memcmp(got, cases[i].want, out.len) != 0) {
            print_error("case %zu (%s):\n  text: %s\n  want: %s\n  got:  %.*s\n", i, cases[i].cite, cases[i].text,
                        cases[i].want, (int)out.len, got);
            failed++;
        }
        buf_fini(&out);
    }
    print_message("%zu golden cases\n", n);
    assert_int_equal(failed, 0);
}

/* Run c on a heap copy of text[0..len) of exactly that size (ASan catches
 * overreads), discarding the output. */
static void run_exact(const tcase_t *c, const char *text, size_t len)
{
    char *copy = malloc(len + (len == 0));
    memcpy(copy, text, len);
    buf_t out = { 0 };
    run_case(c, copy, len, &out);
    buf_fini(&out);
    free(copy);
}

/* Every prefix of every case parses (or fails) and runs without crashing. */
static void test_truncations(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = strlen(cases[i].text);
        for (size_t k = 0; k < len; k++) {
            run_exact(&cases[i], cases[i].text, k);
        }
    }
}

/* Every byte replaced by hostile bytes: NUL, DEL, 0xff, delimiters, quotes. */
static void test_hostile_bytes(void **state)
{
    (void)state;
    static const char hostile[] = { '\0', 0x7f, (char)0xff, (char)0xc2, '{',  '}',  '"',  '`', '(', ')',
                                    '|',  '$',  '.',        '-',        '\'', '\\', '\n', ':', '=' };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = strlen(cases[i].text);
        char *text = malloc(len + 1);
        memcpy(text, cases[i].text, len);
        for (size_t k = 0; k < len; k++) {
            for (size_t h = 0; h < sizeof(hostile); h++) {
                text[k] = hostile[h];
                run_exact(&cases[i], text, len);
            }
            text[k] = cases[i].text[k];
        }
        free(text);
    }
}

/* Run text[0..len) as case c; its output must contain needle. */
static void expect_output(const tcase_t *c, const char *text, size_t len, const char *needle)
{
    buf_t out = { 0 };
    run_case(c, text, len, &out);
    if (out.data == NULL || strstr((const char *)out.data, needle) == NULL) {
        print_error("want \"%s\" in: %.*s\n", needle, (int)out.len, out.data ? (const char *)out.data : "");
        fail();
    }
    buf_fini(&out);
}

static void test_bounds(void **state)
{
    (void)state;
    tcase_t c = { "bounds", M_RAW, NULL, 0, NULL };
    /* parse depth */
    buf_t t = { 0 };
    buf_puts(&t, "{{ ");
    for (int i = 0; i < 500; i++) {
        buf_putc(&t, '(');
    }
    buf_putc(&t, '1');
    for (int i = 0; i < 500; i++) {
        buf_putc(&t, ')');
    }
    buf_puts(&t, " }}");
    expect_output(&c, (char *)t.data, t.len, "max expression depth exceeded");
    buf_reset(&t);
    for (int i = 0; i < 300; i++) {
        buf_puts(&t, "{{ if 1 }}");
    }
    expect_output(&c, (char *)t.data, t.len, "max expression depth exceeded");

    /* steps: nested ranges over a large result */
    for (size_t i = 0; i < BIG_N; i++) {
        q_big[i] = (alerts_tmpl_sample_t){ lab_a, 2, (double)i };
    }
    const char *nested =
        "{{ range query \"a\" }}{{ range query \"b\" }}{{ range query \"c\" }}{{ end }}{{ end }}{{ end }}";
    c.q = Q_BIG;
    expect_output(&c, nested, strlen(nested), "template execution exceeds");

    /* output size */
    const char *wide = "{{ range query \"a\" }}{{ printf \"%1000d\" 1 }}{{ end }}";
    expect_output(&c, wide, strlen(wide), "template output exceeds");

    /* values: a variable doubled 24 times (160 MiB) stops at 1 MiB */
    buf_reset(&t);
    buf_puts(&t, "{{ $x := \"0123456789\" }}");
    for (int i = 0; i < 24; i++) {
        buf_puts(&t, "{{ $x = printf \"%s%s\" $x $x }}");
    }
    c.q = 0;
    expect_output(&c, (char *)t.data, t.len, "error calling printf: result exceeds 1048576 bytes");
    /* reReplaceAll whose replacement multiplies every match */
    buf_reset(&t);
    buf_puts(&t, "{{ $x := printf \"%100000s\" \"\" }}{{ $y := printf \"%200s\" \"\" }}");
    buf_puts(&t, "{{ reReplaceAll \" \" $y $x }}");
    expect_output(&c, (char *)t.data, t.len, "error calling reReplaceAll: result exceeds 1048576 bytes");
    buf_fini(&t);
}

/* A NUL verb is a bad verb, not the end of the verb list (strchr). The
 * golden table cannot hold a NUL in its want. */
static void test_printf_nul_verb(void **state)
{
    (void)state;
    static const char text[] = "{{ printf \"%\\x00|%\\x00\" 1 1.5 }}";
    static const char want[] = "%!\0(int=1)|%!\0(float64=1.5)";
    tcase_t c = { "nul verb", M_RAW, NULL, 0, NULL };
    buf_t out = { 0 };
    run_case(&c, text, sizeof(text) - 1, &out);
    assert_int_equal(out.len, sizeof(want) - 1);
    assert_memory_equal(out.data, want, sizeof(want) - 1);
    buf_fini(&out);
}

#define EXPAND(name, lit) alerts_tmpl_expand(name, lit, sizeof(lit) - 1, &d, &out)

static void test_expand_api(void **state)
{
    (void)state;
    alerts_tmpl_data_t d = base_data;
    int q = Q_EMPTY;
    d.query_ctx = &q;
    buf_t out = { 0 };
    buf_puts(&out, "keep:");
    assert_int_equal(EXPAND("__alert_X", "{{ $value }}"), 0);
    assert_string_equal((char *)out.data, "keep:0.8523");
    assert_int_equal(EXPAND("__alert_X", "{{ if }}"), -1);
    assert_string_equal((char *)out.data, "keep:0.8523<error expanding template: error parsing template __alert_X: "
                                          "template: __alert_X:1: missing value for if>");
    buf_reset(&out);
    d.value = NAN;
    assert_int_equal(EXPAND("__alert_X", "{{ $value }} {{ humanize $value }}"), 0);
    assert_string_equal((char *)out.data, "NaN NaN");
    buf_reset(&out);
    d.query = NULL;
    assert_int_equal(EXPAND("x", "{{ query \"up\" }}"), -1);
    assert_non_null(strstr((char *)out.data, "no query engine"));
    buf_reset(&out);
    assert_int_equal(alerts_tmpl_check("__alert_X", "{{ $labels.job }}", 17, &out), 0);
    assert_int_equal(out.len, 0);
    assert_int_equal(alerts_tmpl_check("__alert_X", "{{/* x", 6, &out), -1);
    assert_string_equal((char *)out.data, "template: __alert_X:1: unclosed comment");
    buf_fini(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden), cmocka_unit_test(test_truncations),     cmocka_unit_test(test_hostile_bytes),
        cmocka_unit_test(test_bounds), cmocka_unit_test(test_printf_nul_verb), cmocka_unit_test(test_expand_api),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

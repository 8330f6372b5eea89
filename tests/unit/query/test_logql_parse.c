/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for query/logql_lex.c, logql_parse.c and logql_ast.c: valid LogQL
 * queries with the text Loki's String() prints for them (every one is
 * printed, re-parsed and printed again, which must give the same text),
 * invalid queries with Loki's exact error texts and positions (many taken
 * from Loki's pkg/logql/syntax/parser_test.go and rewritten here), every
 * truncation of long queries, and hostile bytes at every position.
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
#include "query/logql_int.h"

typedef struct fixture {
    arena_t *a;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = mem_calloc(1, sizeof(*f));
    f->a = arena_create(1 << 14);
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

/* Parse and print q; on success print(parse(print)) must equal print.
 * Returns 0 with the text in out (NUL-terminated), or -1 with err. */
static int roundtrip(arena_t *a, const char *q, size_t len, buf_t *out, logql_error_t *err)
{
    logql_node_t *n = NULL;
    if (logql_parse(q, len, a, &n, err) != 0) {
        assert_null(n);
        assert_non_null(memchr(err->msg, 0, sizeof(err->msg)));
        return -1;
    }
    logql_format(n, out);
    logql_node_t *n2 = NULL;
    logql_error_t err2;
    if (logql_parse((const char *)out->data, out->len, a, &n2, &err2) != 0) {
        fail_msg("re-parse of \"%.*s\" failed: %s", (int)out->len, out->data, err2.msg);
    }
    buf_t again = { 0 };
    logql_format(n2, &again);
    if (again.len != out->len || memcmp(again.data, out->data, out->len) != 0) {
        fail_msg("unstable: \"%.*s\" then \"%.*s\"", (int)out->len, out->data, (int)again.len, again.data);
    }
    buf_fini(&again);
    buf_putc(out, 0);
    return 0;
}

typedef struct valid_case {
    const char *in;
    const char *want; /* NULL: same as in */
} valid_case_t;

static const valid_case_t valid[] = {
    /* stream selectors */
    { "{foo=\"bar\"}", NULL },
    { "{ foo = \"bar\" }", "{foo=\"bar\"}" },
    { "{ namespace=\"buzz\", foo != \"bar\" }", "{namespace=\"buzz\", foo!=\"bar\"}" },
    { "{ foo =~ \"bar\" }", "{foo=~\"bar\"}" },
    { "{ namespace=\"buzz\", foo !~ \"bar\" }", "{namespace=\"buzz\", foo!~\"bar\"}" },
    { "{app=~\".+\"}", NULL },
    { "{app=\"#\"}", NULL },
    { "{app=\"foo\",cluster=~\".+bar\",bar!~\".?boo\"}", "{app=\"foo\", cluster=~\".+bar\", bar!~\".?boo\"}" },
    { "{foo=`bar\\w+`}", "{foo=\"bar\\\\w+\"}" },
    { "{a=\"\\u00e9t\\u00e9\"}", "{a=\"été\"}" },
    { "{a=\"tab\\there\"}", NULL },
    { "{a=\"b\", c=\"\"}", NULL },
    { "{a!=\"\"}", NULL },
    { "{a=~\"x\", b!=\"y\"}", NULL },
    { "{app=\"foo\"} # |= \"bar\" | json", "{app=\"foo\"}" },
    { "{app=\"foo\"}\n#\n|= \"bar\"\n| json", "{app=\"foo\"} |= \"bar\" | json" },
    { "{app=\"foo\"} | json #", "{app=\"foo\"} | json" },
    /* line filters */
    { "{foo=\"bar\"} |= \"baz\"", NULL },
    { "{foo=\"bar\"} |= \"baz\" |~ \"blip\" != \"flip\" !~ \"flap\"", NULL },
    { "{app=\"foo\"} |= \"#\"", NULL },
    { "{a=\"b\"} |= \"x\" or \"y\"", NULL },
    { "{a=\"b\"} |= \"x\" or \"y\" or \"z\"", NULL },
    { "{a=\"b\"} |~ \"x\" or \"y\"", NULL },
    { "{a=\"b\"} != \"x\" or \"y\"", "{a=\"b\"} != \"x\" != \"y\"" },
    { "{a=\"b\"} !~ \"x\" or \"y\" or \"z\"", "{a=\"b\"} !~ \"x\" !~ \"y\" !~ \"z\"" },
    { "{a=\"b\"} |> \"<_> error <_>\"", NULL },
    { "{a=\"b\"} !> \"<_> debug <_>\"", NULL },
    { "{a=\"b\"} |> \"a <_>\" or \"b <_>\"", NULL },
    { "{a=\"b\"} |= `raw \\ string`", "{a=\"b\"} |= \"raw \\\\ string\"" },
    { "{a=\"b\"} |= \"\"", NULL },
    { "{a=\"b\"}|=\"x\"|~\"y\"", "{a=\"b\"} |= \"x\" |~ \"y\"" },
    /* parsers */
    { "{a=\"b\"} | json", NULL },
    { "{a=\"b\"} | logfmt", NULL },
    { "{a=\"b\"} | logfmt --strict", NULL },
    { "{a=\"b\"} | logfmt --keep-empty", NULL },
    { "{a=\"b\"} | logfmt --keep-empty --strict", "{a=\"b\"} | logfmt --strict --keep-empty" },
    { "{a=\"b\"} | logfmt --strict msg=\"message\"", "{a=\"b\"} | logfmt --strict msg=\"message\"" },
    { "{a=\"b\"} | logfmt msg=\"message\", lvl=\"level\"", "{a=\"b\"} | logfmt msg=\"message\",lvl=\"level\"" },
    { "{a=\"b\"} | logfmt msg", "{a=\"b\"} | logfmt msg=\"msg\"" },
    { "{app=\"foo\"} | json bob=\"top.sub[\\\"index\\\"]\"", NULL },
    { "{app=\"foo\"} | json bob=\"top.params[0]\"", NULL },
    { "{app=\"foo\"} | json response_code=\"response.code\", api_key=\"request.headers[\\\"X-API-KEY\\\"]\"",
      "{app=\"foo\"} | json response_code=\"response.code\",api_key=\"request.headers[\\\"X-API-KEY\\\"]\"" },
    { "{a=\"b\"} | json first, second=\"x.y\"", "{a=\"b\"} | json first=\"first\",second=\"x.y\"" },
    { "{a=\"b\"} | regexp \"(?P<method>\\\\w+) (?P<path>[\\\\w|/]+)\"", NULL },
    { "{a=\"b\"} | pattern \"<ip> - - <_> \\\"<method> <uri> <_>\\\" <status>\"", NULL },
    { "{a=\"b\"} | unpack", NULL },
    { "{a=\"b\"} |= \"x\" | unpack | json", NULL },
    { "{a=\"b\"} | regexp \"\"", NULL },
    /* label filters */
    { "{foo=\"bar\"}|logfmt|rate=\"a\"", "{foo=\"bar\"} | logfmt | rate=\"a\"" },
    { "{app=\"foo\"} | bar=\"#\"", NULL },
    { "{a=\"b\"} | json | level=\"error\"", NULL },
    { "{a=\"b\"} | json | level!=\"debug\"", NULL },
    { "{a=\"b\"} | json | level=~\"err.*\"", NULL },
    { "{a=\"b\"} | json | level!~\"info|debug\"", NULL },
    { "{a=\"b\"} | json | status==200", NULL },
    { "{a=\"b\"} | json | status=200", "{a=\"b\"} | json | status==200" },
    { "{a=\"b\"} | json | status!=200", NULL },
    { "{a=\"b\"} | json | status>=200", NULL },
    { "{a=\"b\"} | json | status > 200.5", "{a=\"b\"} | json | status>200.5" },
    { "{a=\"b\"} | json | status<-1", NULL },
    { "{a=\"b\"} | json | status <= +3", "{a=\"b\"} | json | status<=3" },
    { "{a=\"b\"} | json | ratio < .5", "{a=\"b\"} | json | ratio<0.5" },
    { "{a=\"b\"} | json | big > 1e3", "{a=\"b\"} | json | big>1000" },
    { "{a=\"b\"} | json | latency > 10s", "{a=\"b\"} | json | latency>10s" },
    { "{a=\"b\"} | json | latency >= 250ms", "{a=\"b\"} | json | latency>=250ms" },
    { "{a=\"b\"} | json | latency > 1h30m", "{a=\"b\"} | json | latency>1h30m0s" },
    { "{a=\"b\"} | json | latency > 1.5s", "{a=\"b\"} | json | latency>1.5s" },
    { "{a=\"b\"} | json | latency > 5m", "{a=\"b\"} | json | latency>5m0s" },
    { "{a=\"b\"} | json | latency < 1d", "{a=\"b\"} | json | latency<24h0m0s" },
    { "{a=\"b\"} | json | size > 20MB", "{a=\"b\"} | json | size>20MB" },
    { "{a=\"b\"} | json | size > 1KiB", "{a=\"b\"} | json | size>1.0kB" },
    { "{a=\"b\"} | json | size >= 2.5KiB", "{a=\"b\"} | json | size>=2.6kB" },
    { "{a=\"b\"} | json | size < 5B", "{a=\"b\"} | json | size<5B" },
    { "{a=\"b\"} | json | size < 100GB", "{a=\"b\"} | json | size<100GB" },
    { "{app=\"foo\"} |= \"bar\" | json | latency >= 250ms or ( status_code < 500 and status_code > 200)",
      "{app=\"foo\"} |= \"bar\" | json | ( latency>=250ms or ( status_code<500 , status_code>200 ) )" },
    { "{app=\"foo\"} |= \"bar\" | json | (duration > 1s or status!= 200) and method!=\"POST\"",
      "{app=\"foo\"} |= \"bar\" | json | ( ( duration>1s or status!=200 ) , method!=\"POST\" )" },
    { "{app=\"foo\"} |= \"bar\" | json | ( status_code < 500 and status_code > 200) or latency >= 250ms ",
      "{app=\"foo\"} |= \"bar\" | json | ( ( status_code<500 , status_code>200 ) or latency>=250ms )" },
    { "{app=\"foo\"} |= \"bar\" | json |  status_code < 500 or status_code > 200 and latency >= 250ms ",
      "{app=\"foo\"} |= \"bar\" | json | ( status_code<500 or ( status_code>200 , latency>=250ms ) )" },
    { "{app=\"foo\"} | json | foo=\"bar\" buzz!=\"blip\", blop=~\"boop\" or fuzz==5",
      "{app=\"foo\"} | json | ( foo=\"bar\" , ( buzz!=\"blip\" , ( blop=~\"boop\" or fuzz==5 ) ) )" },
    { "{a=\"b\"} | json | x=\"1\", y=\"2\"", "{a=\"b\"} | json | ( x=\"1\" , y=\"2\" )" },
    { "{a=\"b\"} | json | x=\"1\" or y=\"2\" or z=\"3\"", "{a=\"b\"} | json | ( ( x=\"1\" or y=\"2\" ) or z=\"3\" )" },
    { "{a=\"b\"} | json | x=\"1\" and y=\"2\" and z=\"3\"", "{a=\"b\"} | json | ( ( x=\"1\" , y=\"2\" ) , z=\"3\" )" },
    { "{a=\"b\"} | json | x=\"1\" or y=\"2\" z=\"3\"", "{a=\"b\"} | json | ( x=\"1\" or ( y=\"2\" , z=\"3\" ) )" },
    { "{a=\"b\"} | json | ((x=\"1\"))", "{a=\"b\"} | json | x=\"1\"" },
    { "{app=\"foo\"} |= \"bar\" | json |  status_code < 500 or status_code > 200 and size >= 2.5KiB ",
      "{app=\"foo\"} |= \"bar\" | json | ( status_code<500 or ( status_code>200 , size>=2.6kB ) )" },
    { "{a=\"b\"} | logfmt | __error__=\"\"", NULL },
    { "{a=\"b\"} | logfmt | __error__!=\"\"", NULL },
    { "{a=\"b\"} | level=\"info\" | logfmt | x > 1", "{a=\"b\"} | level=\"info\" | logfmt | x>1" },
    /* formatting stages */
    { "{app=\"foo\"} |= \"bar\" | line_format \"blip{{ .foo }}blop\"", NULL },
    { "{a=\"b\"} | line_format `{{.msg}}`", "{a=\"b\"} | line_format \"{{.msg}}\"" },
    { "{a=\"b\"} | label_format foo=bar,status_code=\"buzz{{.bar}}\"", NULL },
    { "{a=\"b\"} | label_format foo=bar, baz=\"{{ .x }}\"", "{a=\"b\"} | label_format foo=bar,baz=\"{{ .x }}\"" },
    { "{a=\"b\"} | drop a", NULL },
    { "{a=\"b\"} | drop a, b=\"v\", c=~\"x.*\"", "{a=\"b\"} | drop a,b=\"v\",c=~\"x.*\"" },
    { "{a=\"b\"} | drop __error__, __error_details__", "{a=\"b\"} | drop __error__,__error_details__" },
    { "{a=\"b\"} | keep a", NULL },
    { "{a=\"b\"} | keep a, b!=\"x\"", "{a=\"b\"} | keep a,b!=\"x\"" },
    { "{a=\"b\"} | decolorize", NULL },
    { "{a=\"b\"} | logfmt | decolorize | line_format \"{{.msg}}\" | drop level", NULL },
    { "({a=\"b\"} |= \"x\")", "{a=\"b\"} |= \"x\"" },
    /* range aggregations */
    { "count_over_time({ foo = \"bar\" }[12m])", "count_over_time({foo=\"bar\"}[12m])" },
    { "bytes_over_time({ foo = \"bar\" }[12m])", "bytes_over_time({foo=\"bar\"}[12m])" },
    { "bytes_rate({ foo = \"bar\" }[12m])", "bytes_rate({foo=\"bar\"}[12m])" },
    { "rate({ foo = \"bar\" }[5h])", "rate({foo=\"bar\"}[5h])" },
    { "rate({ foo = \"bar\" }[5d])", "rate({foo=\"bar\"}[5d])" },
    { "count_over_time({ foo = \"bar\" }[1w])", "count_over_time({foo=\"bar\"}[1w])" },
    { "count_over_time({ foo = \"bar\" }[7d])", "count_over_time({foo=\"bar\"}[1w])" },
    { "absent_over_time({ foo = \"bar\" }[1w])", "absent_over_time({foo=\"bar\"}[1w])" },
    { "rate({a=\"b\"}[90s])", "rate({a=\"b\"}[1m30s])" },
    { "rate({a=\"b\"}[1h30m])", NULL },
    { "rate({a=\"b\"}[1500ms])", "rate({a=\"b\"}[1s500ms])" },
    { "count_over_time({foo=~`bar\\w+`}[12h] |~ `error\\`)",
      "count_over_time({foo=~\"bar\\\\w+\"} |~ \"error\\\\\"[12h])" },
    { "count_over_time({foo=\"bar\"}[12h] |= \"error\")", "count_over_time({foo=\"bar\"} |= \"error\"[12h])" },
    { "count_over_time({foo=\"bar\"} |= \"error\" [12h])", "count_over_time({foo=\"bar\"} |= \"error\"[12h])" },
    { "count_over_time(({foo=\"bar\"} |= \"baz\" |~ \"blip\" != \"flip\" !~ \"flap\")[5m])",
      "count_over_time({foo=\"bar\"} |= \"baz\" |~ \"blip\" != \"flip\" !~ \"flap\"[5m])" },
    { "bytes_over_time(({foo=\"bar\"} |= \"baz\" | unpack)[5m])",
      "bytes_over_time({foo=\"bar\"} |= \"baz\" | unpack[5m])" },
    { "count_over_time({a=\"b\"}[5m] offset 1h)", "count_over_time({a=\"b\"}[5m] offset 1h0m0s)" },
    { "count_over_time({a=\"b\"} |= \"x\" [5m] offset 10s)", "count_over_time({a=\"b\"} |= \"x\"[5m] offset 10s)" },
    { "count_over_time(({a=\"b\"})[5m])", "count_over_time({a=\"b\"}[5m])" },
    { "count_over_time(({a=\"b\"}[5m]))", "count_over_time({a=\"b\"}[5m])" },
    { "rate({a=\"b\"}[0s])", NULL },
    { "sum_over_time({namespace=\"tns\"} |= \"level=error\" | json |foo>=5,bar<25ms| unwrap bytes(foo) [5m])",
      "sum_over_time({namespace=\"tns\"} |= \"level=error\" | json | ( foo>=5 , bar<25ms ) | unwrap bytes(foo)[5m])" },
    { "sum_over_time({namespace=\"tns\"} |= \"level=error\" | json |foo>=5,bar<25ms| unwrap bytes(foo) [5m] offset 5m)",
      "sum_over_time({namespace=\"tns\"} |= \"level=error\" | json | ( foo>=5 , bar<25ms ) | unwrap bytes(foo)[5m] "
      "offset "
      "5m0s)" },
    { "stddev_over_time({app=\"foo\"} |= \"bar\" | unwrap bar [5m])",
      "stddev_over_time({app=\"foo\"} |= \"bar\" | unwrap bar[5m])" },
    { "min_over_time({app=\"foo\"} | unwrap bar [5m])", "min_over_time({app=\"foo\"} | unwrap bar[5m])" },
    { "min_over_time({app=\"foo\"} | unwrap bar [5m]) by ()", "min_over_time({app=\"foo\"} | unwrap bar[5m]) by ()" },
    { "max_over_time({app=\"foo\"} | unwrap bar [5m]) without ()",
      "max_over_time({app=\"foo\"} | unwrap bar[5m]) without ()" },
    { "max_over_time({app=\"foo\"} | unwrap bar [5m] offset 5m) without (foo,bar)",
      "max_over_time({app=\"foo\"} | unwrap bar[5m] offset 5m0s) without (foo,bar)" },
    { "avg_over_time({a=\"b\"} | logfmt | unwrap duration(latency) [1m]) by (host)",
      "avg_over_time({a=\"b\"} | logfmt | unwrap duration(latency)[1m]) by (host)" },
    { "first_over_time({a=\"b\"} | unwrap duration_seconds(x) [1m])",
      "first_over_time({a=\"b\"} | unwrap duration_seconds(x)[1m])" },
    { "last_over_time({a=\"b\"} | unwrap x | __error__=\"\" [1m])",
      "last_over_time({a=\"b\"} | unwrap x | __error__=\"\"[1m])" },
    { "stdvar_over_time({a=\"b\"} | unwrap x [1m])", "stdvar_over_time({a=\"b\"} | unwrap x[1m])" },
    { "rate({a=\"b\"} | unwrap x [1m])", "rate({a=\"b\"} | unwrap x[1m])" },
    { "rate_counter({a=\"b\"} | unwrap x [1m])", "rate_counter({a=\"b\"} | unwrap x[1m])" },
    { "absent_over_time({a=\"b\"} | unwrap x [1m])", "absent_over_time({a=\"b\"} | unwrap x[1m])" },
    { "max_over_time(({app=\"foo\"} | json | unwrap foo )[5m])",
      "max_over_time({app=\"foo\"} | json | unwrap foo[5m])" },
    { "sum_over_time({a=\"b\"}[5m] | unwrap x)", "sum_over_time({a=\"b\"} | unwrap x[5m])" },
    { "sum_over_time({a=\"b\"}[5m] | json | unwrap x)", "sum_over_time({a=\"b\"} | json | unwrap x[5m])" },
    { "quantile_over_time(0.99998,{app=\"foo\"} | json | unwrap foo | __error__ !~\".+\"[5m]) by (namespace,instance)",
      "quantile_over_time(0.99998,{app=\"foo\"} | json | unwrap foo | __error__!~\".+\"[5m]) by (namespace,instance)" },
    { "quantile_over_time(.99,{a=\"b\"} | unwrap x [1m])", "quantile_over_time(0.99,{a=\"b\"} | unwrap x[1m])" },
    { "quantile_over_time(1,{a=\"b\"} | unwrap x [1m])", "quantile_over_time(1,{a=\"b\"} | unwrap x[1m])" },
    /* vector aggregations */
    { "sum(rate({ foo = \"bar\" }[5h]))", "sum(rate({foo=\"bar\"}[5h]))" },
    { "sum(rate({ foo =\"bar\" }[1y]))", "sum(rate({foo=\"bar\"}[1y]))" },
    { "avg(count_over_time({ foo = \"bar\" }[5h])) by (bar,foo)",
      "avg by (bar,foo)(count_over_time({foo=\"bar\"}[5h]))" },
    { "avg(count_over_time({ foo = \"bar\" }[5h])) by ()", "avg(count_over_time({foo=\"bar\"}[5h]))" },
    { "max without (bar) (count_over_time({ foo = \"bar\" }[5h]))",
      "max without (bar)(count_over_time({foo=\"bar\"}[5h]))" },
    { "max without () (count_over_time({ foo = \"bar\" }[5h]))", "max without ()(count_over_time({foo=\"bar\"}[5h]))" },
    { "topk(10,count_over_time({ foo = \"bar\" }[5h])) without (bar)",
      "topk without (bar)(10,count_over_time({foo=\"bar\"}[5h]))" },
    { "bottomk(30 ,sum(rate({ foo = \"bar\" }[5h])) by (foo))", "bottomk(30,sum by (foo)(rate({foo=\"bar\"}[5h])))" },
    { "max( sum(count_over_time({ foo = \"bar\" }[5h])) without (foo,bar) ) by (foo)",
      "max by (foo)(sum without (foo,bar)(count_over_time({foo=\"bar\"}[5h])))" },
    { "count(count_over_time({a=\"b\"}[1m]))", NULL },
    { "min(count_over_time({a=\"b\"}[1m]))", NULL },
    { "stddev(count_over_time({a=\"b\"}[1m]))", NULL },
    { "stdvar(count_over_time({a=\"b\"}[1m]))", NULL },
    { "sort(count_over_time({a=\"b\"}[1m]))", NULL },
    { "sort_desc(count_over_time({a=\"b\"}[1m]))", NULL },
    { "sum by (level, detected_level) (count_over_time({a=\"b\"} |= \"x\" | drop __error__ [1m]))",
      "sum by (level,detected_level)(count_over_time({a=\"b\"} |= \"x\" | drop __error__[1m]))" },
    { "sum(1)", NULL },
    /* binary operations, literals, vector(), label_replace */
    { "1 + 1 + 1", "3" },
    { "1 == 1", "1" },
    { "1 != 1", "0" },
    { "1 > 1", "0" },
    { "1 >= 1 > 1", "0" },
    { "1 > 1 < 1", "1" },
    { "1 > 1 > bool 1", "0" },
    { "1 + -2 / 1", "-1" },
    { "1 + 1 - -1", "3" },
    { "2 ^ 3 ^ 2", "512" },
    { "(2 ^ 3) ^ 2", "64" },
    { "7 % 4", "3" },
    { "1000000", "1e+06" },
    { "123456", NULL },
    { "0.00001", "1e-05" },
    { "0.0001", NULL },
    { "-0.5", NULL },
    { "vector(1)", "vector(1.000000)" },
    { "vector(1)+vector(1)", "(vector(1.000000) + vector(1.000000))" },
    { "sum(count_over_time({foo=\"bar\"}[5m])) by (foo) + 1 / 2",
      "(sum by (foo)(count_over_time({foo=\"bar\"}[5m])) + 0.5)" },
    { "sum(count_over_time({foo=\"bar\"}[5m])) by (foo) / sum(count_over_time({foo=\"bar\"}[5m])) by (foo) / 2",
      "((sum by (foo)(count_over_time({foo=\"bar\"}[5m])) / sum by (foo)(count_over_time({foo=\"bar\"}[5m]))) / 2)" },
    { "rate({a=\"b\"}[1m]) + rate({a=\"b\"}[1m]) * 2", "(rate({a=\"b\"}[1m]) + (rate({a=\"b\"}[1m]) * 2))" },
    { "rate({a=\"b\"}[1m]) ^ 2 ^ 3", "(rate({a=\"b\"}[1m]) ^ 8)" },
    { "2 ^ rate({a=\"b\"}[1m]) ^ 3", "(2 ^ (rate({a=\"b\"}[1m]) ^ 3))" },
    { "rate({a=\"b\"}[1m]) > 1 and rate({a=\"b\"}[1m]) < 5",
      "((rate({a=\"b\"}[1m]) > 1) and (rate({a=\"b\"}[1m]) < 5))" },
    { "rate({a=\"b\"}[1m]) or rate({a=\"b\"}[1m]) unless rate({a=\"b\"}[1m])",
      "(rate({a=\"b\"}[1m]) or (rate({a=\"b\"}[1m]) unless rate({a=\"b\"}[1m])))" },
    { "count_over_time({ foo = \"bar\" }[12m]) or count_over_time({ foo = \"bar\" }[12m]) > 1",
      "(count_over_time({foo=\"bar\"}[12m]) or (count_over_time({foo=\"bar\"}[12m]) > 1))" },
    { "rate({a=\"b\"}[1m]) > bool 1", "(rate({a=\"b\"}[1m]) > bool 1)" },
    { "rate({a=\"b\"}[1m]) == rate({a=\"b\"}[1m])", "(rate({a=\"b\"}[1m]) == rate({a=\"b\"}[1m]))" },
    { "rate({a=\"b\"}[1m]) % 3 - 1", "((rate({a=\"b\"}[1m]) % 3) - 1)" },
    { "rate({a=\"b\"}[1m]) + ignoring (bar) rate({a=\"b\"}[1m])",
      "(rate({a=\"b\"}[1m]) + ignoring (bar)  rate({a=\"b\"}[1m]))" },
    { "rate({a=\"b\"}[1m]) + on (foo) rate({a=\"b\"}[1m])", "(rate({a=\"b\"}[1m]) + on (foo)  rate({a=\"b\"}[1m]))" },
    { "rate({a=\"b\"}[1m]) + ignoring (bar) group_left (foo) rate({a=\"b\"}[1m])",
      "(rate({a=\"b\"}[1m]) + ignoring (bar) group_left (foo) rate({a=\"b\"}[1m]))" },
    { "sum by (app,machine) (count_over_time({app=\"foo\"}[1m])) > bool on () group_right (app) sum by (app) "
      "(count_over_time({app=\"foo\"}[1m]))",
      "(sum by (app,machine)(count_over_time({app=\"foo\"}[1m])) > bool on () group_right (app) sum by "
      "(app)(count_over_time({app=\"foo\"}[1m])))" },
    { "sum by (app,machine) (count_over_time({app=\"foo\"}[1m])) > bool on () group_right sum by (app) "
      "(count_over_time({app=\"foo\"}[1m]))",
      "(sum by (app,machine)(count_over_time({app=\"foo\"}[1m])) > bool on () group_right sum by "
      "(app)(count_over_time({app=\"foo\"}[1m])))" },
    { "sum by (job) (count_over_time({namespace=\"tns\"} |= \"level=error\"[5m]) / "
      "count_over_time({namespace=\"tns\"}[5m]))"
      " * 100",
      "(sum by (job)((count_over_time({namespace=\"tns\"} |= \"level=error\"[5m]) / "
      "count_over_time({namespace=\"tns\"}[5m]))) * 100)" },
    { "label_replace(rate({a=\"b\"}[1m]), \"dst\", \"$1\", \"src\", \"(.*)\")",
      "label_replace(rate({a=\"b\"}[1m]),\"dst\",\"$1\",\"src\",\"(.*)\")" },
    { "avg(label_replace(count_over_time({ foo = \"bar\" }[5h]),\"bar\",\"$1$2\",\"foo\",\"(.*).(.*)\")) by (bar,foo)",
      "avg by (bar,foo)(label_replace(count_over_time({foo=\"bar\"}[5h]),\"bar\",\"$1$2\",\"foo\",\"(.*).(.*)\"))" },
    { "(rate({a=\"b\"}[1m]))", "rate({a=\"b\"}[1m])" },
    { "-1 * rate({a=\"b\"}[1m])", "(-1 * rate({a=\"b\"}[1m]))" },
    { "rate({a=\"b\"}[1m]) * 1e21", "(rate({a=\"b\"}[1m]) * 1e+21)" },
    { "rate({a=\"b\"}[1m]) / 0.1", "(rate({a=\"b\"}[1m]) / 0.1)" },
};

static void test_valid(void **state)
{
    fixture_t *f = *state;
    int bad = 0;
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        buf_t out = { 0 };
        logql_error_t err;
        const char *want = valid[i].want != NULL ? valid[i].want : valid[i].in;
        if (roundtrip(f->a, valid[i].in, strlen(valid[i].in), &out, &err) != 0) {
            print_error("case %zu \"%s\": %s\n", i, valid[i].in, err.msg);
            bad++;
        } else if (strcmp((const char *)out.data, want) != 0) {
            print_error("case %zu \"%s\":\n got  %s\n want %s\n", i, valid[i].in, (const char *)out.data, want);
            bad++;
        }
        buf_fini(&out);
        arena_reset(f->a);
    }
    assert_int_equal(bad, 0);
}

typedef struct invalid_case {
    const char *in;
    const char *msg;
} invalid_case_t;

static const invalid_case_t invalid[] = {
    { "unk({ foo = \"bar\" }[5m])", "parse error at line 1, col 1: syntax error: unexpected IDENTIFIER" },
    { "absent_over_time({ foo = \"bar\" }[5h]) by (foo)",
      "parse error : grouping not allowed for absent_over_time aggregation" },
    { "rate({ foo = \"bar\" }[5minutes])", "parse error at line 0, col 21: not a valid duration string: \"5minutes\"" },
    { "label_replace(rate({ foo = \"bar\" }[5m]),\"\")",
      "parse error at line 1, col 43: syntax error: unexpected ), expecting ," },
    { "rate({ foo = \"bar\" }[5)", "parse error at line 0, col 21: missing closing ']' in duration" },
    { "min({ foo = \"bar\" }[5m])", "parse error at line 0, col 20: syntax error: unexpected RANGE" },
    { "{ foo = \"bar\" }|logfmt|addr>=ip(\"1.2.3.4\")",
      "parse error at line 1, col 30: syntax error: unexpected ip, expecting BYTES or NUMBER or DURATION" },
    { "{ foo = \"bar\" }|logfmt|addr>ip(\"1.2.3.4\")",
      "parse error at line 1, col 29: syntax error: unexpected ip, expecting BYTES or NUMBER or DURATION" },
    { "{ foo = \"bar\" }|logfmt|addr<=ip(\"1.2.3.4\")",
      "parse error at line 1, col 30: syntax error: unexpected ip, expecting BYTES or NUMBER or DURATION" },
    { "{ foo = \"bar\" }|logfmt|addr<ip(\"1.2.3.4\")",
      "parse error at line 1, col 29: syntax error: unexpected ip, expecting BYTES or NUMBER or DURATION" },
    { "sum(3 ,count_over_time({ foo = \"bar\" }[5h]))", "parse error : unsupported parameter for operation sum(3," },
    { "topk(count_over_time({ foo = \"bar\" }[5h]))", "parse error : parameter required for operation topk" },
    { "bottomk(he,count_over_time({ foo = \"bar\" }[5h]))",
      "parse error at line 1, col 9: syntax error: unexpected IDENTIFIER" },
    { "bottomk(1.2,count_over_time({ foo = \"bar\" }[5h]))", "parse error : invalid parameter bottomk(1.2," },
    { "topk(0,count_over_time({ foo = \"bar\" }[5h]))",
      "parse error : invalid parameter (must be greater than 0) topk(0" },
    { "stddev({ foo = \"bar\" })", "parse error at line 1, col 23: syntax error: unexpected )" },
    { "{foo=\"bar}", "parse error at line 1, col 6: literal not terminated" },
    { "{foo=\"bar\"", "parse error at line 1, col 11: syntax error: unexpected $end, expecting } or ," },
    { "{foo=\"bar\"} |~", "parse error at line 1, col 15: syntax error: unexpected $end, expecting STRING or ip" },
    { "{foo=\"bar\"} \"foo\"", "parse error at line 1, col 13: syntax error: unexpected STRING" },
    { "{foo=\"bar\"} foo", "parse error at line 1, col 13: syntax error: unexpected IDENTIFIER" },
    { "{app=~\"\xa0\xa1\"}", "parse error at line 1, col 7: invalid UTF-8 encoding" },
    { "sum_over_time({app=\"foo\"} |= \"bar\" | json | latency >= 250ms or ( status_code < 500 and status_code > "
      "200)\n| line_format \"blip{{ .foo }}blop {{.status_code}}\" | label_format "
      "foo=bar,status_code=\"buzz{{.bar}}\"[5m])",
      "parse error : invalid aggregation sum_over_time without unwrap" },
    { "count_over_time({app=\"foo\"} |= \"foo\" | json | unwrap foo [5m])",
      "parse error : invalid aggregation count_over_time with unwrap" },
    { "bytes_rate({app=\"foo\"} | unwrap foo [5m])", "parse error : invalid aggregation bytes_rate with unwrap" },
    { "{foo=\"bar\"} + {foo=\"bar\"}",
      "parse error : unexpected type for left leg of binary operation (+): *syntax.MatchersExpr" },
    { "sum(count_over_time({foo=\"bar\"}[5m])) by (foo) - {foo=\"bar\"}",
      "parse error : unexpected type for right leg of binary operation (-): *syntax.MatchersExpr" },
    { "{foo=\"bar\"} / sum(count_over_time({foo=\"bar\"}[5m])) by (foo)",
      "parse error : unexpected type for left leg of binary operation (/): *syntax.MatchersExpr" },
    { "{a=\"b\"} |= \"x\" + 1",
      "parse error : unexpected type for left leg of binary operation (+): *syntax.PipelineExpr" },
    { "{a=\"b\"} + 1", "parse error : unexpected type for left leg of binary operation (+): *syntax.MatchersExpr" },
    { "sum(count_over_time({foo=\"bar\"}[5m])) by (foo) or 1",
      "parse error : unexpected literal for right leg of logical/set binary operation (or): 1.000000" },
    { "1 unless sum(count_over_time({foo=\"bar\"}[5m])) by (foo)",
      "parse error : unexpected literal for left leg of logical/set binary operation (unless): 1.000000" },
    { "sum(count_over_time({foo=\"bar\"}[5m])) by (foo) + 1 or 1",
      "parse error : unexpected literal for right leg of logical/set binary operation (or): 1.000000" },
    { "count_over_time({ foo = \"bar\" }[12m]) > { foo = \"bar\" }",
      "parse error : unexpected type for right leg of binary operation (>): *syntax.MatchersExpr" },
    { "bool 1 > 1 > bool 1", "parse error at line 1, col 1: syntax error: unexpected bool" },
    { "sum_over_time({namespace=\"tns\"} |= \"level=error\" | json |foo>=5,bar<25ms| unwrap latency [5m]) by (foo)",
      "parse error : grouping not allowed for sum_over_time aggregation" },
    { "sum_over_time(50,{namespace=\"tns\"} |= \"level=error\" | json |foo>=5,bar<25ms| unwrap latency [5m])",
      "parse error : parameter 50 not supported for operation sum_over_time" },
    { "quantile_over_time({namespace=\"tns\"} |= \"level=error\" | json |foo>=5,bar<25ms| unwrap latency [5m])",
      "parse error : parameter required for operation quantile_over_time" },
    { "quantile_over_time(foo,{namespace=\"tns\"} |= \"level=error\" | json |foo>=5,bar<25ms| unwrap latency [5m])",
      "parse error at line 1, col 20: syntax error: unexpected IDENTIFIER, expecting NUMBER or { or (" },
    { "#{app=\"foo\"} | json", "parse error at line 1, col 20: syntax error: unexpected $end" },
    { "count_over_time({foo!=\"bar\"}[5m])",
      "parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible "
      "value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will" },
    { "{foo!=\"bar\"}",
      "parse error : queries require at least one regexp or equality matcher that does not have an "
      "empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" "
      "will" },
    { "{app=~\".*\"}",
      "parse error : queries require at least one regexp or equality matcher that does not have an "
      "empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" "
      "will" },
    { "{foo!~\"bar|baz\"}", "parse error : queries require at least one regexp or equality matcher that does not have "
                            "an empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but "
                            "app=~\".+\" will" },
    { "1 + count_over_time({app=~\".+\"}[5m]) + count_over_time({app=~\".*\"}[5m]) + 1",
      "parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible "
      "value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will" },
    { "{a=\"\"}", "parse error : queries require at least one regexp or equality matcher that does not have an "
                  "empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" "
                  "will" },
    { "", "parse error at line 1, col 1: syntax error: unexpected $end" },
    { "{}", "parse error at line 1, col 2: syntax error: unexpected }, expecting IDENTIFIER" },
    { "{a=\"b\",}", "parse error at line 1, col 8: syntax error: unexpected }, expecting IDENTIFIER" },
    { "{a=b}", "parse error at line 1, col 4: syntax error: unexpected IDENTIFIER, expecting STRING" },
    { "{a=\"b\"} | unwrap x", "parse error at line 1, col 11: syntax error: unexpected unwrap" },
    { "{a=\"b\"}[5m]", "parse error at line 0, col 8: syntax error: unexpected RANGE" },
    { "count_over_time({a=\"b\"})", "parse error at line 1, col 24: syntax error: unexpected )" },
    { "rate({a=\"b\"}[])", "parse error at line 0, col 13: empty duration string" },
    { "rate({a=\"b\"}[5m]) by (x)", "parse error : grouping not allowed for rate aggregation" },
    { "{a=\"b\"} | json | x > \"1\"",
      "parse error at line 1, col 22: syntax error: unexpected STRING, expecting BYTES or NUMBER or DURATION" },
    { "{a=\"b\"} | json | x =~ 5", "parse error at line 1, col 23: syntax error: unexpected NUMBER, expecting STRING" },
    { "{a=\"b\"} | regexp", "parse error at line 1, col 17: syntax error: unexpected $end, expecting STRING" },
    { "{a=\"b\"} | line_format 5", "parse error at line 1, col 23: syntax error: unexpected NUMBER, expecting STRING" },
    { "{a=\"b\"} |= \"x\" or 5",
      "parse error at line 1, col 19: syntax error: unexpected NUMBER, expecting STRING or ip" },
    { "sum(rate({a=\"b\"}[1m])) by (a) by (b)", "parse error at line 1, col 31: syntax error: unexpected by" },
    { "vector(a)", "parse error at line 1, col 8: syntax error: unexpected IDENTIFIER, expecting NUMBER" },
    { "rate({a=\"b\"}[1m]) + group_left rate({a=\"b\"}[1m])",
      "parse error at line 1, col 21: syntax error: unexpected group_left" },
    { "{a=\"b\"}\n  | json\n  | x > \"y\"",
      "parse error at line 3, col 9: syntax error: unexpected STRING, expecting BYTES or NUMBER or DURATION" },
    { "{a=\"b\"} | drop", "parse error at line 1, col 15: syntax error: unexpected $end, expecting IDENTIFIER" },
    { "{a=\"b\"} | label_format a", "parse error at line 1, col 25: syntax error: unexpected $end, expecting =" },
    { "sum_over_time({a=\"b\"} | unwrap x | json [5m])",
      "parse error at line 1, col 36: syntax error: unexpected json" },
    { "{a=\"b\"} | (line_format > 2)", "parse error at line 1, col 12: syntax error: unexpected line_format" },
    { "count_over_time({a=\"b\"}[5m]) + ", "parse error at line 1, col 32: syntax error: unexpected $end" },
    { "count_over_time({a=\"b\"}[5m] offset x)",
      "parse error at line 1, col 36: syntax error: unexpected IDENTIFIER, expecting DURATION" },
};

static void test_invalid(void **state)
{
    fixture_t *f = *state;
    int bad = 0;
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        buf_t out = { 0 };
        logql_error_t err;
        if (roundtrip(f->a, invalid[i].in, strlen(invalid[i].in), &out, &err) == 0) {
            print_error("case %zu \"%s\" parsed as %s\n", i, invalid[i].in, (const char *)out.data);
            bad++;
        } else if (strcmp(err.msg, invalid[i].msg) != 0) {
            print_error("case %zu \"%s\":\n got  %s\n want %s\n", i, invalid[i].in, err.msg, invalid[i].msg);
            bad++;
        }
        buf_fini(&out);
        arena_reset(f->a);
    }
    assert_int_equal(bad, 0);
}

/* Queries long enough to cross every construct; each prefix must parse or
 * fail cleanly, and any prefix that parses must round-trip. */
static const char *const long_queries[] = {
    "sum by (foo,bar) (quantile_over_time(0.99998,{app=\"foo\", env=~\"prod|dev\"} |= \"bar\" or \"baz\" != \"x\" "
    "|~ `a\\d` | json a=\"b.c[0]\", d | latency >= 250ms or ( status_code < 500 and status_code > 200) , size > 2.5KiB "
    "| line_format \"blip{{ .foo }}blop {{.status_code}}\" | label_format foo=bar,status_code=\"buzz{{.bar}}\" "
    "| drop a, b=\"c\" | keep d | decolorize | unwrap duration(foo) | __error__=\"\" [5m] offset 1h) by "
    "(namespace,instance)) + ignoring (bar) group_left (foo) avg(avg_over_time({app=\"foo\"} | logfmt --strict "
    "--keep-empty x=\"y\" | unwrap bytes(sz) [5m])) by (foo) > bool 1 or vector(2) * -3 ^ 2",
    "label_replace(topk(5, sum without (app) (rate({a=\"b\"} | regexp \"(?P<x>\\\\w+)\" | pattern \"<_> <y>\" "
    "| unpack |> \"<_> z\" !> \"q <_>\" [1m]))), \"dst\", \"$1\", \"src\", \"(.*)\") / "
    "bytes_over_time(({a=\"b\"} |= \"x\")[10m]) unless sort_desc(count_over_time({a=\"b\"}[1m] | json | x == 5))",
};

static void test_truncations(void **state)
{
    fixture_t *f = *state;
    for (size_t k = 0; k < sizeof(long_queries) / sizeof(long_queries[0]); k++) {
        const char *q = long_queries[k];
        size_t len = strlen(q);
        buf_t full = { 0 };
        logql_error_t err;
        if (roundtrip(f->a, q, len, &full, &err) != 0) {
            fail_msg("long query %zu: %s", k, err.msg);
        }
        buf_fini(&full);
        for (size_t n = 0; n <= len; n++) {
            buf_t out = { 0 };
            roundtrip(f->a, q, n, &out, &err);
            buf_fini(&out);
            arena_reset(f->a);
        }
    }
}

/* NUL, DEL, invalid UTF-8 and stray bytes at every position. */
static void test_hostile_bytes(void **state)
{
    fixture_t *f = *state;
    static const char hostile[] = { 0, 0x7f, (char)0xff, (char)0xc3, '[', '"', '`', '\\', '#', '(' };
    const char *q = long_queries[1];
    size_t len = strlen(q);
    char *copy = mem_alloc(len);
    for (size_t h = 0; h < sizeof(hostile); h++) {
        for (size_t i = 0; i < len; i++) {
            memcpy(copy, q, len);
            copy[i] = hostile[h];
            buf_t out = { 0 };
            logql_error_t err;
            roundtrip(f->a, copy, len, &out, &err);
            buf_fini(&out);
            arena_reset(f->a);
        }
    }
    mem_free(copy);
}

/* Deep nesting is an error, not a stack overflow. */
static void test_depth(void **state)
{
    fixture_t *f = *state;
    size_t n = 5000;
    char *q = mem_alloc(2 * n + 1);
    memset(q, '(', n);
    q[n] = '1';
    memset(q + n + 1, ')', n - 1);
    logql_node_t *node = NULL;
    logql_error_t err;
    assert_int_equal(logql_parse(q, 2 * n, f->a, &node, &err), -1);
    assert_string_equal(err.msg, "parse error : query is nested too deeply");
    mem_free(q);
}

static void test_format_helpers(void **state)
{
    (void)state;
    static const struct {
        int64_t ns;
        const char *want;
    } durs[] = { { 0, "0s" },
                 { 1, "1ns" },
                 { 1500, "1.5µs" },
                 { 2500000, "2.5ms" },
                 { 1000000000, "1s" },
                 { 90000000000, "1m30s" },
                 { 5400000000000, "1h30m0s" },
                 { -1500000000, "-1.5s" } };
    for (size_t i = 0; i < sizeof(durs) / sizeof(durs[0]); i++) {
        buf_t b = { 0 };
        logql_fmt_go_duration(durs[i].ns, &b);
        buf_putc(&b, 0);
        assert_string_equal((const char *)b.data, durs[i].want);
        buf_fini(&b);
    }
    static const struct {
        uint64_t v;
        const char *want;
    } sizes[] = { { 0, "0B" },          { 9, "9B" },       { 2560, "2.6kB" },
                  { 20000000, "20MB" }, { 1024, "1.0kB" }, { 18446744073709551615ULL, "18EB" } };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        buf_t b = { 0 };
        logql_fmt_bytes(sizes[i].v, &b);
        buf_putc(&b, 0);
        assert_string_equal((const char *)b.data, sizes[i].want);
        buf_fini(&b);
    }
    int64_t v = 0;
    assert_true(logql_parse_model_duration("1y2w3d4h5m6s7ms", 15, &v));
    assert_int_equal(v, 31536000000LL + 2 * 604800000LL + 3 * 86400000LL + 4 * 3600000LL + 5 * 60000 + 6000 + 7);
    assert_false(logql_parse_model_duration("5m1h", 4, &v));
    assert_false(logql_parse_model_duration("1.5h", 4, &v));
    /* model.ParseDuration's bounds: the total must fit int64 nanoseconds;
     * units once each, in order; "0" alone is the only unitless value. */
    static const struct {
        const char *s;
        bool ok;
        int64_t ms;
    } mdur[] = { { "0", true, 0 },
                 { "1ms", true, 1 },
                 { "1m", true, 60000 },
                 { "106751d", true, 106751LL * 86400000 },
                 { "9223372036854ms", true, 9223372036854LL },
                 { "9223372036855ms", false, 0 },
                 { "106752d", false, 0 },
                 { "99999999999999999999y", false, 0 },
                 { "", false, 0 },
                 { "5", false, 0 },
                 { "1s1s", false, 0 },
                 { "1ms1s", false, 0 },
                 { "1x", false, 0 },
                 { "-1s", false, 0 } };
    for (size_t i = 0; i < sizeof(mdur) / sizeof(mdur[0]); i++) {
        v = -1;
        bool ok = logql_parse_model_duration(mdur[i].s, strlen(mdur[i].s), &v);
        assert_int_equal(ok, mdur[i].ok);
        if (ok) {
            assert_int_equal(v, mdur[i].ms);
        }
    }
    static const struct {
        int64_t ms;
        const char *want;
    } mfmt[] = { { 0, "0s" },
                 { 1, "1ms" },
                 { 90000, "1m30s" },
                 { 31536000000LL, "1y" },
                 { 31536000000LL + 86400000LL, "366d" },
                 { 1209600000LL + 1, "14d1ms" } };
    for (size_t i = 0; i < sizeof(mfmt) / sizeof(mfmt[0]); i++) {
        buf_t b = { 0 };
        logql_fmt_model_duration(mfmt[i].ms, &b);
        buf_putc(&b, 0);
        assert_string_equal((const char *)b.data, mfmt[i].want);
        buf_fini(&b);
    }
    static const struct {
        double v;
        char fmt;
        const char *want;
    } floats[] = { { -0.0, 'v', "-0" },
                   { 0.1, 'v', "0.1" },
                   { 123456, 'v', "123456" },
                   { 1234567, 'v', "1.234567e+06" },
                   { 1e21, 'f', "1000000000000000000000" },
                   { 0.00001, 'f', "0.00001" },
                   { 1e-7, 'v', "1e-07" },
                   { -2.5, 'f', "-2.5" },
                   { NAN, 'v', "NaN" },
                   { -INFINITY, 'f', "-Inf" } };
    for (size_t i = 0; i < sizeof(floats) / sizeof(floats[0]); i++) {
        buf_t b = { 0 };
        logql_fmt_float(floats[i].v, floats[i].fmt, &b);
        buf_putc(&b, 0);
        assert_string_equal((const char *)b.data, floats[i].want);
        buf_fini(&b);
    }
    assert_true(logql_parse_go_duration("1.5h", 4, &v));
    assert_int_equal(v, 5400000000000LL);
    assert_false(logql_parse_go_duration("1x", 2, &v));
    uint64_t u = 0;
    assert_true(logql_parse_bytes("2.5KiB", 6, &u));
    assert_int_equal(u, 2560);
    assert_false(logql_parse_bytes("5XB", 3, &u));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_valid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth, setup, teardown),
        cmocka_unit_test(test_format_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for ctl/ctl_query.c and ctl/ctl_args.c: time and step parsing at a
 * fixed now, flag/positional splitting, and whole commands run against a
 * stub server on 127.0.0.1 port 0. The stub answers a "string" result
 * holding the path and form body it received, so each case checks the
 * exact request (encoding, resolved times) and the exit status, stdout and
 * stderr; queries named err/html/junk make it answer an error envelope, a
 * 404 page and a 200 that is not JSON.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/httpd.h"
#include "ctl/ctl.h"

#define NOW_MS 1700000000000LL

typedef struct time_case {
    const char *in;
    bool ok;
    int64_t want;
} time_case_t;

static void test_parse_time(void **state)
{
    (void)state;
    static const time_case_t cases[] = {
        { "now", true, NOW_MS },
        { "now-1h", true, NOW_MS - 3600000 },
        { "now+90s", true, NOW_MS + 90000 },
        { "-5m", true, NOW_MS - 300000 },
        { "-1h30m", true, NOW_MS - 5400000 },
        { "1700000000", true, 1700000000000LL },
        { "1700000000.5", true, 1700000000500LL },
        { "-5", true, -5000 },
        { "2023-11-14T22:13:20Z", true, 1700000000000LL },
        { "2023-11-14T23:13:20.250+01:00", true, 1700000000250LL },
        { "", false, 0 },
        { "yesterday", false, 0 },
        { "now-", false, 0 },
        { "now-5", false, 0 },
        { "now+x", false, 0 },
        { "now -1h", false, 0 },
        { "-", false, 0 },
        { "--1h", false, 0 },
        { "1h", false, 0 },
        { "-99999999999y", false, 0 },
        { "1e300", false, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t got = -42;
        bool ok = ctl_query_parse_time(cases[i].in, NOW_MS, &got);
        if (ok != cases[i].ok || (ok && got != cases[i].want)) {
            fail_msg("time \"%s\": ok %d got %lld, want ok %d %lld", cases[i].in, ok, (long long)got, cases[i].ok,
                     (long long)cases[i].want);
        }
    }
}

static void test_parse_step(void **state)
{
    (void)state;
    static const time_case_t cases[] = {
        { "15s", true, 15000 },   { "1m30s", true, 90000 }, { "30", true, 30000 },  { "0.5", true, 500 },
        { "1e3", true, 1000000 }, { "250ms", true, 250 },   { "0.0001", false, 0 }, { "0", false, 0 },
        { "0s", false, 0 },       { "-1", false, 0 },       { "-1s", false, 0 },    { "NaN", false, 0 },
        { "+Inf", false, 0 },     { "", false, 0 },         { "abc", false, 0 },    { "1e300", false, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t got = -42;
        bool ok = ctl_query_parse_step(cases[i].in, &got);
        if (ok != cases[i].ok || (ok && got != cases[i].want)) {
            fail_msg("step \"%s\": ok %d got %lld", cases[i].in, ok, (long long)got);
        }
    }
}

typedef struct args_opts {
    char *name;
    bool flag;
    int64_t wait_ms;
} args_opts_t;

static const config_field_t args_fields[] = {
    { .key = "name", .type = CFG_STR, .offset = offsetof(args_opts_t, name) },
    { .key = "flag", .type = CFG_BOOL, .offset = offsetof(args_opts_t, flag) },
    { .key = "wait", .type = CFG_DURATION, .offset = offsetof(args_opts_t, wait_ms) },
};
#define NARGS_FIELDS (sizeof(args_fields) / sizeof(args_fields[0]))

typedef struct args_case {
    const char *argv[8];
    int rc;
    const char *err;        /* when rc != 0 */
    const char *positional; /* joined with '|' */
    const char *name;
    bool flag;
    int64_t wait_ms;
} args_case_t;

static void test_args(void **state)
{
    (void)state;
    static const args_case_t cases[] = {
        { { "cmd", "--name=a", "q" }, 0, NULL, "q", "a", false, 0 },
        { { "cmd", "--name", "-b", "--flag", "q1", "q2" }, 0, NULL, "q1|q2", "-b", true, 0 },
        { { "cmd", "--wait", "1m", "--flag=false", "--", "-up", "--name=x" },
          0,
          NULL,
          "-up|--name=x",
          NULL,
          false,
          60000 },
        { { "cmd", "-", "--name=" }, 0, NULL, "-", "", false, 0 },
        { { "cmd", "--nope", "q" }, -1, "unknown flag --nope" },
        { { "cmd", "--nope=1" }, -1, "unknown flag --nope" },
        { { "cmd", "-x" }, -1, "unknown flag -x" },
        { { "cmd", "--name" }, -1, "flag --name needs a value" },
        { { "cmd", "--wait=soon" }, -1, "flag --wait: invalid duration \"soon\"" },
        { { "cmd", "--flag=maybe" }, -1, "flag --flag: invalid boolean \"maybe\" (want true or false)" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const args_case_t *c = &cases[i];
        int argc = 0;
        while (c->argv[argc]) {
            argc++;
        }
        args_opts_t o = { 0 };
        const char *pos[8];
        size_t npos = 99;
        char err[256] = "";
        int rc = ctl_args_parse(argc, (char **)c->argv, args_fields, NARGS_FIELDS, &o, pos, &npos, err, sizeof(err));
        if (rc != c->rc) {
            fail_msg("case %zu: rc %d (%s)", i, rc, err);
        }
        if (rc != 0) {
            assert_string_equal(err, c->err);
            config_free(args_fields, NARGS_FIELDS, &o);
            continue;
        }
        buf_t joined = { 0 };
        for (size_t k = 0; k < npos; k++) {
            buf_printf(&joined, "%s%s", k ? "|" : "", pos[k]);
        }
        assert_string_equal(joined.data ? (const char *)joined.data : "", c->positional);
        if (c->name) {
            assert_non_null(o.name);
            assert_string_equal(o.name, c->name);
        } else {
            assert_null(o.name);
        }
        assert_int_equal(o.flag, c->flag);
        assert_int_equal(o.wait_ms, c->wait_ms);
        buf_fini(&joined);
        config_free(args_fields, NARGS_FIELDS, &o);
    }
}

/* The stub: err, html and junk answer badly; anything else gets its own
 * request back as a string result. */
static void stub_handler(void *ctx, http_req_t *req, http_resp_t *resp)
{
    (void)ctx;
    const char *q = http_req_arg(req, "query");
    q = q ? q : "";
    if (strcmp(q, "err") == 0) {
        resp->status = 400;
        buf_puts(&resp->body, "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"boom\"}");
        return;
    }
    if (strcmp(q, "html") == 0) {
        http_resp_text(resp, 404, "not here");
        return;
    }
    if (strcmp(q, "junk") == 0) {
        buf_puts(&resp->body, "nope");
        return;
    }
    size_t len = 0;
    const uint8_t *body = http_req_body(req, &len);
    buf_printf(&resp->body,
               "{\"status\":\"success\",\"warnings\":[\"%s\"],\"data\":{\"resultType\":\"string\",\"result\":[0,"
               "\"%s %s %.*s\"]}}",
               http_req_header(req, "Content-Type"), http_req_method(req), http_req_path(req), (int)len, body);
}

static const httpd_route_t stub_routes[] = {
    { .path = "/api/v1/query", .fn = stub_handler },
    { .path = "/api/v1/query_range", .fn = stub_handler },
};

typedef struct fixture {
    httpd_t *h;
    char base[64];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    httpd_opts_t o = { .listen = "127.0.0.1:0", .routes = stub_routes, .nroutes = 2 };
    char err[256];
    if (!f || httpd_start(&o, &f->h, err, sizeof(err)) != 0) {
        free(f);
        return -1;
    }
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", (unsigned)httpd_port(f->h));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    httpd_stop(f->h);
    free(f);
    return 0;
}

static int64_t fixed_now(void *ctx)
{
    (void)ctx;
    return NOW_MS;
}

typedef struct run_case {
    const char *argv[12]; /* "@URL" becomes the stub's base URL */
    bool env_url;         /* give the stub's URL as $PHAROS_URL instead */
    int rc;
    const char *out;
    const char *err; /* "@URL" expanded; compared as a prefix when it ends in '*' */
} run_case_t;

#define WARN_FORM "warning: application/x-www-form-urlencoded\n"

static const run_case_t run_cases[] = {
    { { "query", "--url", "@URL", "up" },
      false,
      CTL_EXIT_OK,
      "POST /api/v1/query query=up&time=1700000000.000\n",
      WARN_FORM },
    { { "query", "up" }, true, CTL_EXIT_OK, "POST /api/v1/query query=up&time=1700000000.000\n", WARN_FORM },
    { { "query", "--url=@URL/", "--time=-1h", "--timeout", "30s", "sum(rate(x{a=\"b c\"}[5m])) / 2" },
      false,
      CTL_EXIT_OK,
      "POST /api/v1/query "
      "query=sum%28rate%28x%7Ba%3D%22b%20c%22%7D%5B5m%5D%29%29%20%2F%202&time=1699996400.000&timeout=30.000\n",
      WARN_FORM },
    { { "query", "--url", "@URL", "--time", "2023-11-14T22:13:20.5Z", "--", "-up" },
      false,
      CTL_EXIT_OK,
      "POST /api/v1/query query=-up&time=1700000000.500\n",
      WARN_FORM },
    { { "query-range", "--url", "@URL", "--start", "-1h", "--step", "15s", "up" },
      false,
      CTL_EXIT_OK,
      "POST /api/v1/query_range query=up&start=1699996400.000&end=1700000000.000&step=15.000\n",
      WARN_FORM },
    { { "query-range", "--url", "@URL", "--start", "0", "--end", "-1.5", "--step", "0.5", "up" },
      false,
      CTL_EXIT_USAGE,
      "",
      "pharosctl query-range: --end is before --start\n*" },
    { { "query-range", "--url", "@URL", "--start", "-2", "--end", "-1.5", "--step", "0.5", "up" },
      false,
      CTL_EXIT_OK,
      "POST /api/v1/query_range query=up&start=-2.000&end=-1.500&step=0.500\n",
      WARN_FORM },
    { { "query", "--url", "@URL", "--output", "json", "err" },
      false,
      CTL_EXIT_QUERY,
      "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"boom\"}\n",
      "error (bad_data): boom\n" },
    { { "query", "--url", "@URL", "err" }, false, CTL_EXIT_QUERY, "", "error (bad_data): boom\n" },
    { { "query", "--url", "@URL", "html" },
      false,
      CTL_EXIT_QUERY,
      "",
      "error: @URL/api/v1/query answered HTTP 404: not here\n" },
    { { "query", "--url", "@URL", "junk" }, false, CTL_EXIT_QUERY, "", "error: malformed response: invalid JSON*" },
    { { "query", "--url", "http://127.0.0.1:1", "up" },
      false,
      CTL_EXIT_UNREACHABLE,
      "",
      "error: cannot reach http://127.0.0.1:1/api/v1/query: *" },
    { { "query", "--url", "@URL" }, false, CTL_EXIT_USAGE, "", "pharosctl query: missing QUERY\n*" },
    { { "query", "--url", "@URL", "a", "b" }, false, CTL_EXIT_USAGE, "", "pharosctl query: more than one QUERY*" },
    { { "query", "--url", "ftp://x", "up" },
      false,
      CTL_EXIT_USAGE,
      "",
      "pharosctl query: flag --url: want http://host:port or https://host:port, got \"ftp://x\"\n*" },
    { { "query", "--url", "@URL", "--time", "soon", "up" },
      false,
      CTL_EXIT_USAGE,
      "",
      "pharosctl query: flag --time: invalid time \"soon\"*" },
    { { "query", "--url", "@URL", "--timeout", "0s", "up" },
      false,
      CTL_EXIT_USAGE,
      "",
      "pharosctl query: flag --timeout: *" },
    { { "query-range", "--url", "@URL", "up" },
      false,
      CTL_EXIT_USAGE,
      "",
      "pharosctl query-range: flag --start is required\n*" },
    { { "query-range", "--url", "@URL", "--start", "-1h", "up" },
      false,
      CTL_EXIT_USAGE,
      "",
      "pharosctl query-range: flag --step is required\n*" },
    { { "query-range", "--url", "@URL", "--start", "-1h", "--step", "0", "up" },
      false,
      CTL_EXIT_USAGE,
      "",
      "pharosctl query-range: flag --step: invalid step \"0\"*" },
};

/* s with every "@URL" replaced by base, into out. */
static void expand(const char *s, const char *base, buf_t *out)
{
    buf_reset(out);
    for (const char *p = s; *p;) {
        if (strncmp(p, "@URL", 4) == 0) {
            buf_puts(out, base);
            p += 4;
        } else {
            buf_putc(out, (uint8_t)*p++);
        }
    }
    buf_putc(out, 0);
    out->len--;
}

static void test_run(void **state)
{
    fixture_t *f = *state;
    for (size_t i = 0; i < sizeof(run_cases) / sizeof(run_cases[0]); i++) {
        const run_case_t *c = &run_cases[i];
        buf_t args[12] = { 0 };
        char *argv[12] = { 0 };
        int argc = 0;
        for (; c->argv[argc]; argc++) {
            expand(c->argv[argc], f->base, &args[argc]);
            argv[argc] = (char *)args[argc].data;
        }
        char *out = NULL, *err = NULL;
        size_t outlen = 0, errlen = 0;
        ctl_env_t env = {
            .out = open_memstream(&out, &outlen),
            .err = open_memstream(&err, &errlen),
            .clock = { .now_ms = fixed_now },
            .default_url = c->env_url ? f->base : NULL,
        };
        int rc =
            strcmp(argv[0], "query") == 0 ? ctl_query_run(&env, argc, argv) : ctl_query_range_run(&env, argc, argv);
        fclose(env.out);
        fclose(env.err);
        buf_t want_err = { 0 };
        expand(c->err, f->base, &want_err);
        bool prefix = want_err.len > 0 && want_err.data[want_err.len - 1] == '*';
        size_t cmp = prefix ? want_err.len - 1 : want_err.len + 1;
        if (rc != c->rc || strcmp(out, c->out) != 0 || strncmp(err, (const char *)want_err.data, cmp) != 0) {
            fail_msg("case %zu (%s %s): rc %d want %d\nout: %s\nwant: %s\nerr: %s\nwant: %s", i, argv[0],
                     argv[argc - 1], rc, c->rc, out, c->out, err, (const char *)want_err.data);
        }
        buf_fini(&want_err);
        free(out);
        free(err);
        for (int k = 0; k < argc; k++) {
            buf_fini(&args[k]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_parse_step),
        cmocka_unit_test(test_args),
        cmocka_unit_test_setup_teardown(test_run, setup, teardown),
    };
    return cmocka_run_group_tests_name("ctl_query", tests, NULL, NULL);
}

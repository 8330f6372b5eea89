/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_query: `pharosctl query` and `pharosctl query-range`. Read the flags
 * (one option table per command, so --help comes from the rows), resolve
 * times against the env's clock, POST the form to /api/v1/query or
 * /api/v1/query_range, and hand the answer to ctl_format_result.
 *
 * Times are resolved here, not by the server, so "now" and "-1h" mean the
 * client's now, and a bad time is a usage error (exit 2) before anything
 * is sent; the server gets plain Unix seconds with millisecond precision.
 * The server's own checks (too many points, bad PromQL) come back as error
 * answers (exit 1).
 *
 * Exit status: 0 success; 1 the server answered an error, or something
 * that is not a Prometheus API answer (a proxy's 404 page); 2 usage;
 * 3 no answer at all (http_code 0: refused, DNS, timeout).
 *
 * Timeout: --timeout goes to the server as `timeout` (it keeps the lower
 * of it and its query.timeout); pharosctl itself waits that plus 10 s for
 * the answer, or 2m10s without --timeout (pharosd's default query.timeout
 * is 2m), so the server's timeout error arrives before the client gives up.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/httpc.h"
#include "common/mem.h"
#include "common/str.h"
#include "ctl/ctl_int.h"

#define CTL_QUERY_GRACE_MS 10000
#define CTL_QUERY_WAIT_MS (120000 + CTL_QUERY_GRACE_MS)
#define CTL_QUERY_MAX_MS 9000000000000000LL /* ±285,000 years: no overflow anywhere */

typedef struct ctl_query_opts {
    char *url;
    char *time;
    char *start;
    char *end;
    char *step;
    int64_t timeout_ms; /* 0: not given */
    int output;         /* index into ctl_query_outputs */
} ctl_query_opts_t;

static const char *const ctl_query_outputs[] = { "table", "json", NULL };

#define CTL_QUERY_TIME_HELP "now, now-<duration>, -<duration>, Unix seconds or RFC 3339"

#define CTL_QUERY_F_URL                                                                                                \
    {                                                                                                                  \
        .key = "url", .type = CFG_STR, .offset = offsetof(ctl_query_opts_t, url),                                      \
        .help = "pharosd's base URL (default: $PHAROS_URL, else " CTL_DEFAULT_URL ")"                                  \
    }
#define CTL_QUERY_F_TIMEOUT                                                                                            \
    {                                                                                                                  \
        .key = "timeout", .type = CFG_DURATION, .offset = offsetof(ctl_query_opts_t, timeout_ms), .min = 1,            \
        .max = 1LL << 40,                                                                                              \
        .help = "Query timeout sent to the server, which also applies its own query.timeout (default: the server's)"   \
    }
#define CTL_QUERY_F_OUTPUT                                                                                             \
    {                                                                                                                  \
        .key = "output", .type = CFG_ENUM, .offset = offsetof(ctl_query_opts_t, output), .def = "table",               \
        .enum_values = ctl_query_outputs, .help = "table, or json: the server's answer verbatim"                       \
    }

static const config_field_t ctl_query_fields[] = {
    CTL_QUERY_F_URL,
    { .key = "time",
      .type = CFG_STR,
      .offset = offsetof(ctl_query_opts_t, time),
      .def = "now",
      .help = "Evaluation time: " CTL_QUERY_TIME_HELP },
    CTL_QUERY_F_TIMEOUT,
    CTL_QUERY_F_OUTPUT,
};

static const config_field_t ctl_query_range_fields[] = {
    CTL_QUERY_F_URL,
    { .key = "start",
      .type = CFG_STR,
      .offset = offsetof(ctl_query_opts_t, start),
      .help = "Start of the range (required): " CTL_QUERY_TIME_HELP },
    { .key = "end",
      .type = CFG_STR,
      .offset = offsetof(ctl_query_opts_t, end),
      .def = "now",
      .help = "End of the range, same forms as --start" },
    { .key = "step",
      .type = CFG_STR,
      .offset = offsetof(ctl_query_opts_t, step),
      .help = "Resolution (required): a duration (15s, 1m) or seconds (30, 0.5)" },
    CTL_QUERY_F_TIMEOUT,
    CTL_QUERY_F_OUTPUT,
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

void ctl_query_usage(FILE *out)
{
    fprintf(out, "Usage: pharosctl query [flags] [--] QUERY\n\n"
                 "Evaluate a PromQL expression at one instant (POST /api/v1/query).\n\nFlags:\n");
    config_print_help(out, ctl_query_fields, NELEM(ctl_query_fields));
    fprintf(out, "\nExit status: 0 ok, 1 the server answered an error, 2 usage error, 3 server unreachable.\n");
}

void ctl_query_range_usage(FILE *out)
{
    fprintf(out, "Usage: pharosctl query-range --start T --step S [flags] [--] QUERY\n\n"
                 "Evaluate a PromQL expression over a range (POST /api/v1/query_range).\n\nFlags:\n");
    config_print_help(out, ctl_query_range_fields, NELEM(ctl_query_range_fields));
    fprintf(out, "\nExit status: 0 ok, 1 the server answered an error, 2 usage error, 3 server unreachable.\n");
}

bool ctl_query_parse_time(const char *s, int64_t now_ms, int64_t *out)
{
    str_t t = str_cstr(s);
    if (str_eq_cstr(t, "now")) {
        *out = now_ms;
        return true;
    }
    int sign = 0;
    str_t d = { 0 };
    if (str_has_prefix(t, "now-") || str_has_prefix(t, "now+")) {
        sign = t.p[3] == '-' ? -1 : 1;
        d = str_from(t.p + 4, t.len - 4);
    } else if (t.len > 1 && t.p[0] == '-') {
        sign = -1;
        d = str_from(t.p + 1, t.len - 1);
    }
    int64_t ms = 0;
    if (sign != 0 && str_parse_duration_ms(d, &ms)) {
        if (ms > CTL_QUERY_MAX_MS || now_ms > CTL_QUERY_MAX_MS || now_ms < -CTL_QUERY_MAX_MS) {
            return false;
        }
        *out = now_ms + sign * ms;
        return true;
    }
    if (sign > 0) {
        return false; /* "now+junk" */
    }
    return time_parse_ms(t.p, t.len, out) && *out <= CTL_QUERY_MAX_MS && *out >= -CTL_QUERY_MAX_MS;
}

bool ctl_query_parse_step(const char *s, int64_t *out)
{
    str_t t = str_cstr(s);
    int64_t ms = 0;
    if (str_parse_duration_ms(t, &ms)) {
        *out = ms;
        return ms > 0;
    }
    double secs = 0;
    if (!str_parse_double(t, &secs) || !isfinite(secs) || secs * 1000.0 > (double)CTL_QUERY_MAX_MS) {
        return false;
    }
    *out = llround(secs * 1000.0);
    return *out > 0;
}

/* Contract in ctl_int.h. */
void ctl_query_form(buf_t *b, const char *key, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    buf_printf(b, "%s%s=", b->len ? "&" : "", key);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        bool raw = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                   *p == '.' || *p == '_' || *p == '~';
        if (raw) {
            buf_putc(b, *p);
        } else {
            buf_putc(b, '%');
            buf_putc(b, (uint8_t)hex[*p >> 4]);
            buf_putc(b, (uint8_t)hex[*p & 15]);
        }
    }
}

/* ms as Unix seconds text with millisecond precision ("-1.500"). */
static void ctl_query_form_secs(buf_t *b, const char *key, int64_t ms)
{
    char tmp[48];
    unsigned long long a = ms < 0 ? 0ULL - (unsigned long long)ms : (unsigned long long)ms;
    snprintf(tmp, sizeof(tmp), "%s%llu.%03llu", ms < 0 ? "-" : "", a / 1000, a % 1000);
    ctl_query_form(b, key, tmp);
}

static int ctl_query_usage_error(const ctl_env_t *env, const char *cmd, const char *msg)
{
    fprintf(env->err, "pharosctl %s: %s\nRun 'pharosctl %s --help' for usage.\n", cmd, msg, cmd);
    return CTL_EXIT_USAGE;
}

/* Flags and times into the form body; CTL_EXIT_OK or a usage error
 * already printed. */
static int ctl_query_build(const ctl_env_t *env, bool range, const ctl_query_opts_t *o, const char *query, buf_t *form)
{
    const char *cmd = range ? "query-range" : "query";
    int64_t now = clock_now_ms(&env->clock);
    char msg[256];
    ctl_query_form(form, "query", query);
    if (!range) {
        int64_t t = 0;
        if (!ctl_query_parse_time(o->time, now, &t)) {
            snprintf(msg, sizeof(msg), "flag --time: invalid time \"%s\" (%s)", o->time, CTL_QUERY_TIME_HELP);
            return ctl_query_usage_error(env, cmd, msg);
        }
        ctl_query_form_secs(form, "time", t);
    } else {
        int64_t start = 0, end = 0, step = 0;
        if (!o->start || !o->step) {
            return ctl_query_usage_error(env, cmd, !o->start ? "flag --start is required" : "flag --step is required");
        }
        const char *bad = !ctl_query_parse_time(o->start, now, &start) ? "start"
                          : !ctl_query_parse_time(o->end, now, &end)   ? "end"
                                                                       : NULL;
        if (bad) {
            snprintf(msg, sizeof(msg), "flag --%s: invalid time \"%s\" (%s)", bad, bad[0] == 's' ? o->start : o->end,
                     CTL_QUERY_TIME_HELP);
            return ctl_query_usage_error(env, cmd, msg);
        }
        if (!ctl_query_parse_step(o->step, &step)) {
            snprintf(msg, sizeof(msg), "flag --step: invalid step \"%s\" (a positive duration or seconds)", o->step);
            return ctl_query_usage_error(env, cmd, msg);
        }
        if (end < start) {
            return ctl_query_usage_error(env, cmd, "--end is before --start");
        }
        ctl_query_form_secs(form, "start", start);
        ctl_query_form_secs(form, "end", end);
        ctl_query_form_secs(form, "step", step);
    }
    if (o->timeout_ms > 0) {
        ctl_query_form_secs(form, "timeout", o->timeout_ms);
    }
    return CTL_EXIT_OK;
}

/* POST the form and print the answer. */
static int ctl_query_send(const ctl_env_t *env, bool range, const ctl_query_opts_t *o, const char *base,
                          const buf_t *form)
{
    size_t blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/') {
        blen--;
    }
    buf_t url = { 0 }, body = { 0 }, out = { 0 }, err = { 0 };
    buf_printf(&url, "%.*s/api/v1/%s", (int)blen, base, range ? "query_range" : "query");
    httpc_t *c = httpc_create(o->timeout_ms > 0 ? o->timeout_ms + CTL_QUERY_GRACE_MS : CTL_QUERY_WAIT_MS);
    int rc = CTL_EXIT_UNREACHABLE;
    if (!c) {
        fprintf(env->err, "error: cannot initialise libcurl\n");
        goto done;
    }
    static const char *const headers[] = { "Content-Type: application/x-www-form-urlencoded",
                                           "Accept: application/json", NULL };
    httpc_result_t res;
    httpc_post(c, (const char *)url.data, headers, form->data, form->len, &body, &res);
    if (res.http_code == 0) {
        fprintf(env->err, "error: cannot reach %s: %s\n", (const char *)url.data, res.error);
        goto done;
    }
    ctl_format_rc_t frc =
        ctl_format_result(body.data ? (const char *)body.data : "", body.len, o->output == 0, &out, &err);
    if (frc == CTL_FORMAT_BAD_RESPONSE && res.status != HTTPC_OK) {
        buf_reset(&err);
        buf_printf(&err, "error: %s answered HTTP %ld: %s\n", (const char *)url.data, res.http_code, res.error);
    }
    /* Notes first: stderr is unbuffered and stdout may not be, so this is
     * the order a terminal and a 2>&1 pipe both show. */
    fwrite(err.data ? err.data : (const uint8_t *)"", 1, err.len, env->err);
    fflush(env->err);
    fwrite(out.data ? out.data : (const uint8_t *)"", 1, out.len, env->out);
    rc = frc == CTL_FORMAT_OK ? CTL_EXIT_OK : CTL_EXIT_QUERY;
done:
    httpc_destroy(c);
    buf_fini(&err);
    buf_fini(&out);
    buf_fini(&body);
    buf_fini(&url);
    return rc;
}

static int ctl_query_exec(const ctl_env_t *env, bool range, int argc, char **argv)
{
    const char *cmd = range ? "query-range" : "query";
    const config_field_t *f = range ? ctl_query_range_fields : ctl_query_fields;
    size_t n = range ? NELEM(ctl_query_range_fields) : NELEM(ctl_query_fields);
    ctl_query_opts_t o;
    memset(&o, 0, sizeof(o));
    const char **pos = mem_calloc((size_t)argc, sizeof(*pos));
    buf_t form = { 0 };
    size_t npos = 0;
    char err[600];
    int rc = CTL_EXIT_USAGE;
    if (config_defaults(f, n, &o, err, sizeof(err)) != 0 ||
        ctl_args_parse(argc, argv, f, n, &o, pos, &npos, err, sizeof(err)) != 0) {
        rc = ctl_query_usage_error(env, cmd, err);
        goto done;
    }
    if (npos != 1) {
        rc = ctl_query_usage_error(env, cmd, npos == 0 ? "missing QUERY" : "more than one QUERY (quote it)");
        goto done;
    }
    const char *base = o.url ? o.url : env->default_url && env->default_url[0] ? env->default_url : CTL_DEFAULT_URL;
    if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0) {
        snprintf(err, sizeof(err), "%s: want http://host:port or https://host:port, got \"%s\"",
                 o.url ? "flag --url" : "$PHAROS_URL", base);
        rc = ctl_query_usage_error(env, cmd, err);
        goto done;
    }
    rc = ctl_query_build(env, range, &o, pos[0], &form);
    if (rc == CTL_EXIT_OK) {
        rc = ctl_query_send(env, range, &o, base, &form);
    }
done:
    buf_fini(&form);
    mem_free(pos);
    config_free(f, n, &o);
    return rc;
}

int ctl_query_run(const ctl_env_t *env, int argc, char **argv)
{
    return ctl_query_exec(env, false, argc, argv);
}

int ctl_query_range_run(const ctl_env_t *env, int argc, char **argv)
{
    return ctl_query_exec(env, true, argc, argv);
}

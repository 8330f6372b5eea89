/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_prom_status: /api/v1/status/{buildinfo,runtimeinfo,flags,config},
 * with the fields and field order of Prometheus' PrometheusVersion and
 * RuntimeInfo structs (3.5: hostname and serverTime included).
 *
 * buildinfo reports version "3.0.0", the Prometheus API version pharosd
 * implements (clients such as Grafana compare it to decide which calls
 * to make; VictoriaMetrics reports a Prometheus version for the same
 * reason), and pharos' own version as the revision. It carries no
 * "features" object: Grafana reads one as a sign of Mimir. runtimeinfo
 * maps Go's runtime figures to the process's: goroutineCount is the
 * thread count, GOMAXPROCS the online CPUs, GOMEMLIMIT Go's default
 * (math.MaxInt64), GOGC and GODEBUG empty. Times are Go's time.Time JSON
 * (RFC 3339, fraction without trailing zeros), in UTC. flags is an object
 * sorted by name, as Go writes a map; config is {"yaml": "<the effective
 * configuration>"}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/json_out.h"
#include "query/api_prom_int.h"

#define API_PROM_COMPAT_VERSION "3.0.0"
#define PHAROS_VERSION "pharos-0.1.0"

void api_prom_status_buildinfo(api_prom_t *api, http_req_t *req, http_resp_t *resp)
{
    (void)api;
    (void)req;
    api_prom_json_begin(resp);
    buf_puts(&resp->body, "{\"version\":\"" API_PROM_COMPAT_VERSION "\",\"revision\":\"" PHAROS_VERSION
                          "\",\"branch\":\"\",\"buildUser\":\"\",\"buildDate\":\"\",\"goVersion\":\"\"}");
    api_prom_json_end(resp, NULL, 0, NULL, 0);
}

/* A time as Go's time.Time marshals it (UTC, trailing zeros trimmed). */
static void status_time(buf_t *b, int64_t ms)
{
    char tmp[40];
    size_t n = time_format_rfc3339(ms, tmp); /* "…:05.123Z" */
    if (n > 5 && tmp[n - 1] == 'Z' && tmp[n - 5] == '.') {
        size_t keep = n - 1;
        while (keep > n - 5 && tmp[keep - 1] == '0') {
            keep--;
        }
        if (tmp[keep - 1] == '.') {
            keep--;
        }
        tmp[keep] = 'Z';
        n = keep + 1;
    }
    json_str(b, tmp, n);
}

static long status_threads(void)
{
    FILE *f = fopen("/proc/self/stat", "r");
    long threads = 1;
    if (f) {
        char line[1024];
        if (fgets(line, sizeof(line), f)) {
            const char *p = strrchr(line, ')');
            long v = 0;
            /* Field 20 (num_threads); p + 2 starts at field 3. */
            if (p &&
                sscanf(p + 2, "%*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %ld", &v) == 1) {
                threads = v;
            }
        }
        fclose(f);
    }
    return threads;
}

void api_prom_status_runtimeinfo(api_prom_t *api, http_req_t *req, http_resp_t *resp)
{
    (void)req;
    char cwd[4096];
    char host[256];
    if (!getcwd(cwd, sizeof(cwd))) {
        cwd[0] = '\0';
    }
    if (gethostname(host, sizeof(host)) != 0) {
        host[0] = '\0';
    }
    host[sizeof(host) - 1] = '\0';
    tsdb_stats_t st;
    tsdb_get_stats(api->db, &st);
    api_prom_json_begin(resp);
    buf_t *b = &resp->body;
    buf_puts(b, "{\"startTime\":");
    status_time(b, api->start_ms);
    buf_puts(b, ",\"CWD\":");
    json_cstr(b, cwd);
    buf_puts(b, ",\"hostname\":");
    json_cstr(b, host);
    buf_puts(b, ",\"serverTime\":");
    status_time(b, clock_now_ms(&api->clock));
    buf_puts(b, ",\"reloadConfigSuccess\":true,\"lastConfigTime\":");
    status_time(b, api->start_ms);
    buf_printf(b,
               ",\"corruptionCount\":%llu,\"goroutineCount\":%ld,\"GOMAXPROCS\":%ld,\"GOMEMLIMIT\":9223372036854775807,"
               "\"GOGC\":\"\",\"GODEBUG\":\"\",\"storageRetention\":",
               (unsigned long long)st.corrupt_blocks, status_threads(), sysconf(_SC_NPROCESSORS_ONLN));
    json_cstr(b, api->retention);
    buf_putc(b, '}');
    api_prom_json_end(resp, NULL, 0, NULL, 0);
}

static int status_flag_cmp(const void *x, const void *y)
{
    const char *const *a = x;
    const char *const *b = y;
    return strcmp(a[0], b[0]);
}

void api_prom_status_flags(api_prom_t *api, http_req_t *req, http_resp_t *resp)
{
    const char **pairs = arena_alloc(http_req_arena(req), (api->nflags * 2 + 1) * sizeof(char *));
    memcpy(pairs, api->flags, api->nflags * 2 * sizeof(char *));
    if (api->nflags > 1) {
        qsort(pairs, api->nflags, 2 * sizeof(char *), status_flag_cmp);
    }
    api_prom_json_begin(resp);
    buf_putc(&resp->body, '{');
    for (size_t i = 0; i < api->nflags; i++) {
        buf_puts(&resp->body, i ? "," : "");
        json_cstr(&resp->body, pairs[2 * i]);
        buf_putc(&resp->body, ':');
        json_cstr(&resp->body, pairs[2 * i + 1]);
    }
    buf_putc(&resp->body, '}');
    api_prom_json_end(resp, NULL, 0, NULL, 0);
}

void api_prom_status_config(api_prom_t *api, http_req_t *req, http_resp_t *resp)
{
    (void)req;
    api_prom_json_begin(resp);
    buf_puts(&resp->body, "{\"yaml\":");
    json_cstr(&resp->body, api->config_yaml);
    buf_putc(&resp->body, '}');
    api_prom_json_end(resp, NULL, 0, NULL, 0);
}

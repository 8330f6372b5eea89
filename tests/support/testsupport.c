/* SPDX-License-Identifier: Apache-2.0 */
/*
 * testsupport: process control, remote-write encoding and export parsing
 * for tests and benchmarks (see testsupport.h).
 */
#define _GNU_SOURCE
#include "testsupport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/compress.h"
#include "common/mem.h"
#include "proto/remote.pb-c.h"
#include "query/promql.h"
#include "tsdb/tsdb.h"

uint16_t ts_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return 0;
    }
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    uint16_t port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0) {
        port = ntohs(a.sin_port);
    }
    close(fd);
    return port;
}

const char *ts_pharosd_bin(void)
{
    const char *env = getenv("PHAROSD_BIN");
    return env ? env : PHAROS_BUILD_DIR "/server/pharosd";
}

static double ts_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

bool ts_wait_ready(const char *url, double timeout_s)
{
    httpc_t *c = httpc_create(1000);
    double end = ts_now() + timeout_s;
    bool ok = false;
    while (ts_now() < end) {
        httpc_result_t r;
        httpc_get(c, url, NULL, NULL, &r);
        if (r.status == HTTPC_OK) {
            ok = true;
            break;
        }
        usleep(20000);
    }
    httpc_destroy(c);
    return ok;
}

int ts_pharosd_start(ts_proc_t *p, const char *datadir, const char *const *extra, double timeout_s)
{
    memset(p, 0, sizeof(*p));
    p->port = ts_free_port();
    if (!p->port) {
        return -1;
    }
    snprintf(p->url, sizeof(p->url), "http://127.0.0.1:%u", p->port);
    snprintf(p->log_path, sizeof(p->log_path), "%s.log", datadir);
    char listen[64], storage[600];
    snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%u", p->port);
    snprintf(storage, sizeof(storage), "--storage.path=%s", datadir);
    const char *argv[64] = { ts_pharosd_bin(), listen, storage };
    size_t argc = 3;
    for (size_t i = 0; extra && extra[i] && argc < 62; i++) {
        argv[argc++] = extra[i];
    }
    argv[argc] = NULL;
    pid_t pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        int fd = open(p->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    p->pid = pid;
    char ready[128];
    snprintf(ready, sizeof(ready), "%s/-/ready", p->url);
    double end = ts_now() + timeout_s;
    while (ts_now() < end) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            p->pid = 0;
            return -1; /* it died */
        }
        if (ts_wait_ready(ready, 0.2)) {
            return 0;
        }
    }
    ts_proc_stop(p, SIGKILL);
    return -1;
}

int ts_proc_stop(ts_proc_t *p, int sig)
{
    if (p->pid <= 0) {
        return -1;
    }
    kill(p->pid, sig);
    int st = 0;
    while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR) {
    }
    p->pid = 0;
    if (WIFSIGNALED(st)) {
        return 128 + WTERMSIG(st);
    }
    return WEXITSTATUS(st);
}

/* The WriteRequest protobuf of s[0..n) and metadata m[0..nm) into out. */
static void ts_rw_pack(const ts_series_t *s, size_t n, const ts_meta_t *m, size_t nm, buf_t *out)
{
    Prometheus__WriteRequest wr = PROMETHEUS__WRITE_REQUEST__INIT;
    Prometheus__TimeSeries *tss = calloc(n ? n : 1, sizeof(*tss));
    Prometheus__TimeSeries **tsp = calloc(n ? n : 1, sizeof(*tsp));
    size_t nl = 0, nsamp = 0;
    for (size_t i = 0; i < n; i++) {
        nl += s[i].nlabels;
        nsamp += s[i].n;
    }
    Prometheus__Label *ls = calloc(nl ? nl : 1, sizeof(*ls));
    Prometheus__Label **lsp = calloc(nl ? nl : 1, sizeof(*lsp));
    Prometheus__Sample *ss = calloc(nsamp ? nsamp : 1, sizeof(*ss));
    Prometheus__Sample **ssp = calloc(nsamp ? nsamp : 1, sizeof(*ssp));
    size_t li = 0, si = 0;
    for (size_t i = 0; i < n; i++) {
        prometheus__time_series__init(&tss[i]);
        tss[i].labels = &lsp[li];
        tss[i].n_labels = s[i].nlabels;
        for (size_t k = 0; k < s[i].nlabels; k++, li++) {
            prometheus__label__init(&ls[li]);
            ls[li].name.data = (uint8_t *)s[i].labels[k].name;
            ls[li].name.len = strlen(s[i].labels[k].name);
            ls[li].value.data = (uint8_t *)s[i].labels[k].value;
            ls[li].value.len = strlen(s[i].labels[k].value);
            lsp[li] = &ls[li];
        }
        tss[i].samples = &ssp[si];
        tss[i].n_samples = s[i].n;
        for (size_t k = 0; k < s[i].n; k++, si++) {
            prometheus__sample__init(&ss[si]);
            ss[si].timestamp = s[i].ts[k];
            ss[si].value = s[i].vs[k];
            ssp[si] = &ss[si];
        }
        tsp[i] = &tss[i];
    }
    wr.timeseries = tsp;
    wr.n_timeseries = n;
    Prometheus__MetricMetadata *md = calloc(nm ? nm : 1, sizeof(*md));
    Prometheus__MetricMetadata **mdp = calloc(nm ? nm : 1, sizeof(*mdp));
    for (size_t i = 0; i < nm; i++) {
        prometheus__metric_metadata__init(&md[i]);
        md[i].type = (Prometheus__MetricMetadata__MetricType)m[i].type;
        md[i].metric_family_name.data = (uint8_t *)m[i].family;
        md[i].metric_family_name.len = strlen(m[i].family);
        md[i].help.data = (uint8_t *)(m[i].help ? m[i].help : "");
        md[i].help.len = m[i].help ? strlen(m[i].help) : 0;
        md[i].unit.data = (uint8_t *)(m[i].unit ? m[i].unit : "");
        md[i].unit.len = m[i].unit ? strlen(m[i].unit) : 0;
        mdp[i] = &md[i];
    }
    wr.metadata = mdp;
    wr.n_metadata = nm;
    size_t len = prometheus__write_request__get_packed_size(&wr);
    buf_reset(out);
    buf_reserve(out, len);
    prometheus__write_request__pack(&wr, out->data);
    out->len = len;
    free(tss);
    free(tsp);
    free(ls);
    free(lsp);
    free(ss);
    free(ssp);
    free(md);
    free(mdp);
}

void ts_rw_encode_raw(const ts_series_t *s, size_t n, buf_t *out)
{
    ts_rw_pack(s, n, NULL, 0, out);
}

void ts_rw_encode_meta(const ts_series_t *s, size_t n, const ts_meta_t *m, size_t nm, buf_t *out)
{
    buf_t raw = { 0 };
    ts_rw_pack(s, n, m, nm, &raw);
    buf_reset(out);
    compress_snappy(raw.data, raw.len, out);
    buf_fini(&raw);
}

void ts_rw_encode(const ts_series_t *s, size_t n, buf_t *out)
{
    buf_t raw = { 0 };
    ts_rw_encode_raw(s, n, &raw);
    buf_reset(out);
    compress_snappy(raw.data, raw.len, out);
    buf_fini(&raw);
}

void ts_rw_post(httpc_t *c, const char *base_url, const buf_t *body, buf_t *resp, httpc_result_t *res)
{
    static const char *const headers[] = { "Content-Encoding: snappy", "Content-Type: application/x-protobuf",
                                           "X-Prometheus-Remote-Write-Version: 0.1.0", NULL };
    char url[256];
    snprintf(url, sizeof(url), "%s/api/v1/write", base_url);
    httpc_post(c, url, headers, body->data, body->len, resp, res);
}

static int ts_label_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int ts_parse_export_line(const char *line, size_t len, ts_exported_t *e)
{
    json_error_t jerr;
    json_t *root = json_loadb(line, len, 0, &jerr);
    if (!root) {
        return -1;
    }
    json_t *metric = json_object_get(root, "metric");
    json_t *values = json_object_get(root, "values");
    json_t *stamps = json_object_get(root, "timestamps");
    if (!json_is_object(metric) || !json_is_array(values) || !json_is_array(stamps) ||
        json_array_size(values) != json_array_size(stamps)) {
        json_decref(root);
        return -1;
    }
    size_t nl = json_object_size(metric);
    char **parts = calloc(nl ? nl : 1, sizeof(char *));
    size_t k = 0, total = 1;
    const char *key;
    json_t *val;
    json_object_foreach(metric, key, val)
    {
        const char *v = json_string_value(val);
        size_t l = strlen(key) + strlen(v ? v : "") + 2;
        parts[k] = malloc(l);
        snprintf(parts[k], l, "%s=%s", key, v ? v : "");
        total += l;
        k++;
    }
    qsort(parts, nl, sizeof(char *), ts_label_cmp);
    e->labels = calloc(1, total);
    for (size_t i = 0; i < nl; i++) {
        if (i) {
            strcat(e->labels, ",");
        }
        strcat(e->labels, parts[i]);
        free(parts[i]);
    }
    free(parts);
    e->n = json_array_size(values);
    e->ts = calloc(e->n ? e->n : 1, sizeof(int64_t));
    e->vs = calloc(e->n ? e->n : 1, sizeof(double));
    for (size_t i = 0; i < e->n; i++) {
        json_t *v = json_array_get(values, i);
        e->ts[i] = json_integer_value(json_array_get(stamps, i));
        if (json_is_number(v)) {
            e->vs[i] = json_number_value(v);
        } else if (json_is_string(v)) {
            const char *sv = json_string_value(v);
            if (strcmp(sv, "StaleNaN") == 0) {
                uint64_t bits = 0x7ff0000000000002ULL;
                memcpy(&e->vs[i], &bits, sizeof(double));
            } else if (strcmp(sv, "NaN") == 0) {
                e->vs[i] = NAN;
            } else if (strcmp(sv, "+Inf") == 0) {
                e->vs[i] = INFINITY;
            } else if (strcmp(sv, "-Inf") == 0) {
                e->vs[i] = -INFINITY;
            }
        }
    }
    json_decref(root);
    return 0;
}

int ts_export(httpc_t *c, const char *base_url, const char *selector, ts_exported_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    CURL *esc = curl_easy_init();
    char *sel = curl_easy_escape(esc, selector, 0);
    size_t ulen = strlen(base_url) + strlen(sel) + 64;
    char *url = malloc(ulen);
    snprintf(url, ulen, "%s/api/v1/export?match[]=%s", base_url, sel);
    curl_free(sel);
    curl_easy_cleanup(esc);
    buf_t body = { 0 };
    httpc_result_t r;
    httpc_get(c, url, NULL, &body, &r);
    free(url);
    if (r.status != HTTPC_OK) {
        buf_fini(&body);
        return -1;
    }
    size_t cap = 16;
    ts_exported_t *v = calloc(cap, sizeof(*v));
    const char *p = (const char *)body.data;
    const char *end = p + body.len;
    int rc = 0;
    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len > 0) {
            if (*n == cap) {
                cap *= 2;
                v = realloc(v, cap * sizeof(*v));
            }
            memset(&v[*n], 0, sizeof(v[*n]));
            if (ts_parse_export_line(p, len, &v[*n]) != 0) {
                rc = -1;
                break;
            }
            (*n)++;
        }
        p = nl ? nl + 1 : NULL;
    }
    buf_fini(&body);
    if (rc != 0) {
        ts_exported_free(v, *n);
        *n = 0;
        return -1;
    }
    *out = v;
    return 0;
}

void ts_exported_free(ts_exported_t *e, size_t n)
{
    if (!e) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        free(e[i].labels);
        free(e[i].ts);
        free(e[i].vs);
    }
    free(e);
}

int ts_tempdir(const char *prefix, char *dir, size_t len)
{
    snprintf(dir, len, "/tmp/%s-XXXXXX", prefix);
    return mkdtemp(dir) ? 0 : -1;
}

static int ts_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

void ts_rmrf(const char *dir)
{
    nftw(dir, ts_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int ts_select(struct tsdb *db, const char *selector, int64_t mint, int64_t maxt, ts_select_fn fn, void *ctx, char *err,
              size_t errlen)
{
    arena_t *a = arena_create(4096);
    promql_node_t *sel;
    promql_error_t perr;
    int rc = -1;
    if (promql_parse_selector(selector, strlen(selector), a, &sel, &perr) != 0) {
        snprintf(err, errlen, "%s", perr.msg);
    } else {
        rc = tsdb_select(db, sel->u.vs.matchers, sel->u.vs.nmatchers, mint, maxt, fn, ctx);
        promql_release(sel);
    }
    arena_destroy(a);
    return rc;
}

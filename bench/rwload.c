/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rwload: a remote-write load generator that replays one node_exporter
 * scrape as H simulated hosts over a past time range, as fast as the target
 * accepts, and prints a one-line JSON summary.
 *
 * Core idea: the scrape gives the series and their first values. Each host
 * gets every series with instance="host-NNNN", job="node". Values evolve
 * per (host, series) from a seeded generator: counters grow by random
 * increments around value/uptime (zero counters stay zero), gauges
 * random-walk on the decimal grid of their original value (4 KiB steps for
 * page-multiple byte gauges), and static gauges (sizes, limits, *_info,
 * flags) stay constant. Values are built as mantissa / 10^dec, so they are
 * exactly the doubles a scrape of that decimal text would give.
 *
 * Hosts are split into groups of ~--samples-per-req / series-per-host; one
 * request = all series of one group at one timestamp. Items (step, group)
 * are handed out in time order to N threads; an item waits until the same
 * group's previous step was acknowledged, so every series is sent in
 * timestamp order and all threads stay within about one step of each other.
 * Timestamps lie on the exact --interval grid and end before now.
 *
 * Labels are encoded once per (host, series); a request is those bytes plus
 * a 20-byte sample, written by a hand-rolled protobuf encoder (the
 * WriteRequest layout of proto/remote.proto), then snappy, then POST.
 *
 * --histogram (off by default, so the ingest benchmark's workload is
 * unchanged) appends one classic histogram family per host for the query
 * benchmark: rwload_request_duration_seconds_bucket{le=...} (12 buckets),
 * _sum and _count. Each step adds n ~ 300 observations whose cumulative
 * bucket increments are floor(n * F(le) + u) with one u per step, F a
 * log-normal CDF whose median depends on the host and drifts per step, so
 * buckets stay cumulative and every counter is monotonic.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/compress.h"
#include "common/httpc.h"
#include "common/mem.h"
#include "common/varint.h"

enum { KIND_CONST, KIND_COUNTER, KIND_GAUGE, KIND_CLOCK, KIND_HIST };

/* --histogram: bucket bounds of the synthetic family (+Inf last). */
static const double rw_hist_le[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, INFINITY };
static const char *const rw_hist_le_txt[] = { "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                              "0.5",   "1",    "2.5",   "5",    "10",  "+Inf" };
#define RW_HIST_NB (sizeof(rw_hist_le) / sizeof(rw_hist_le[0]))

typedef struct rw_label {
    char *name;
    char *value;
} rw_label_t;

/* One series of the scrape, the template for every host. */
typedef struct rw_series {
    rw_label_t *labels; /* sorted by name, without instance/job */
    size_t nlabels;
    int kind;
    int dec;         /* value = mantissa / 10^dec */
    int64_t m0;      /* initial mantissa */
    double rate;     /* counters: mantissa units per second */
    double walk;     /* gauges: step scale in quanta */
    int64_t quantum; /* gauges: step unit in mantissa units */
} rw_series_t;

typedef struct rw_opts {
    const char *url;
    const char *source;
    const char *save;
    int hosts;
    int64_t duration_ms;
    int64_t interval_ms;
    int threads;
    uint64_t seed;
    int samples_per_req;
    int64_t end_ms;
    int retries;
    bool histogram;
} rw_opts_t;

typedef struct rw_group {
    int host_lo, host_hi;
    int64_t *m; /* (host_hi - host_lo) * nseries mantissas */
    uint64_t rng;
    int64_t done; /* last acknowledged step, -1 before the first */
} rw_group_t;

typedef struct rw_stats {
    uint64_t requests, requests_failed, retries, samples_ok, samples_failed;
    uint64_t bytes_raw, bytes_wire;
    double lat_sum, lat_max;
    long first_code;
    char first_error[256];
    uint64_t codes[6]; /* 2xx, 400, 413, 429, 5xx, other/none */
} rw_stats_t;

typedef struct rw_ctx {
    rw_opts_t o;
    rw_series_t *series;
    size_t nseries;
    size_t hist_first; /* --histogram: index of its first series (buckets, _sum, _count), else nseries */
    buf_t labels;      /* encoded Label fields per (host, series) */
    size_t *lab_off;   /* hosts * nseries + 1 offsets into labels */
    rw_group_t *groups;
    int ngroups;
    int64_t nsteps, start_ms;
    double pow10[23];
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int64_t next_item;
    rw_stats_t total;
} rw_ctx_t;

/* ---- small helpers ---------------------------------------------------- */

static uint64_t rw_rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

static double rw_rng_unit(uint64_t *s)
{
    return (double)(rw_rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

static double rw_rng_normal(uint64_t *s)
{
    double u1 = rw_rng_unit(s), u2 = rw_rng_unit(s);
    if (u1 < 1e-300) {
        u1 = 1e-300;
    }
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static uint64_t rw_seed_mix(uint64_t a, uint64_t b)
{
    uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return z ? z : 1;
}

static double rw_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double rw_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

/* "4.5h", "30m", "900s", "15s", "250ms" or a Prometheus duration; false on junk. */
static bool rw_parse_duration(const char *s, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || v < 0) {
        return false;
    }
    double mult = 0;
    if (strcmp(end, "ms") == 0) {
        mult = 1;
    } else if (strcmp(end, "s") == 0 || *end == '\0') {
        mult = 1e3;
    } else if (strcmp(end, "m") == 0) {
        mult = 60e3;
    } else if (strcmp(end, "h") == 0) {
        mult = 3600e3;
    } else if (strcmp(end, "d") == 0) {
        mult = 86400e3;
    } else {
        return false;
    }
    *out = (int64_t)llround(v * mult);
    return true;
}

/* ---- exposition parsing ------------------------------------------------ */

static int rw_label_cmp(const void *a, const void *b)
{
    return strcmp(((const rw_label_t *)a)->name, ((const rw_label_t *)b)->name);
}

/* Parse a quoted label value at *pp (after the opening quote); returns a
 * heap copy with escapes resolved, or NULL on a truncated value. */
static char *rw_parse_qvalue(const char **pp, const char *end)
{
    const char *p = *pp;
    buf_t v = { 0 };
    while (p < end && *p != '"') {
        if (*p == '\\' && p + 1 < end) {
            p++;
            buf_putc(&v, *p == 'n' ? '\n' : (uint8_t)*p);
        } else {
            buf_putc(&v, (uint8_t)*p);
        }
        p++;
    }
    if (p >= end) {
        buf_fini(&v);
        return NULL;
    }
    *pp = p + 1;
    if (v.len == 0) {
        buf_fini(&v);
        return mem_strdup("");
    }
    size_t n;
    return (char *)buf_steal(&v, &n);
}

static bool rw_has(const char *name, const char *const *subs)
{
    for (; *subs; subs++) {
        if (strstr(name, *subs)) {
            return true;
        }
    }
    return false;
}

/* Gauges whose value is a property of the host, not a measurement. */
static const char *const rw_static_gauges[] = {
    "_info",
    "size_bytes",
    "Total",
    "_max",
    "limit",
    "Limit",
    "boot_time",
    "mtu",
    "speed",
    "device_id",
    "_flags",
    "carrier",
    "dormant",
    "iface_",
    "assign_type",
    "protocol_type",
    "readonly",
    "start_time",
    "pool_size",
    "Hugepagesize",
    "DirectMap",
    "network_up",
    "queue_length",
    "dev_group",
    "device_error",
    "collector_success",
    "scrape_error",
    "selinux",
    "zone_offset",
    "tick_seconds",
    "tai_offset",
    "timex_status",
    "sync_status",
    "time_constant",
    "os_version",
    "filefd_maximum",
    "timex_pps",
    "Forwarding",
    "go_info",
    "node_filesystem_files{",
    "cpu_scaling_frequency_m",
    NULL,
};
/* Untyped node_exporter families that are in fact counters. */
static const char *const rw_untyped_counters[] = { "node_netstat_", "node_vmstat_", "conntrack_stat_", NULL };
static const char *const rw_untyped_gauges[] = { "CurrEstab", "Forwarding", NULL };

/* Choose the decimal grid of v: the fewest decimals (<= 9) that make it an
 * integer below 2^53, else ~15 significant digits. */
static void rw_decimal(const rw_ctx_t *c, double v, int *dec, int64_t *m)
{
    for (int d = 0; d <= 9; d++) {
        double x = v * c->pow10[d];
        if (fabs(x) >= 9007199254740992.0) {
            break;
        }
        double r = nearbyint(x);
        if (fabs(x - r) <= 1e-9 * fmax(1.0, fabs(x)) && r / c->pow10[d] == v) {
            *dec = d;
            *m = (int64_t)r;
            return;
        }
    }
    int d = v == 0 ? 0 : 15 - (int)ceil(log10(fabs(v)));
    d = d < 0 ? 0 : d > 22 ? 22 : d;
    *dec = d;
    *m = (int64_t)nearbyint(v * c->pow10[d]);
}

/* Classify one parsed sample and derive its evolution parameters. */
static void rw_model(const rw_ctx_t *c, rw_series_t *s, const char *family_type, const char *key, double v,
                     double uptime_s)
{
    const char *name = s->labels[0].value;
    bool counter = false;
    if (strcmp(family_type, "counter") == 0) {
        counter = true;
    } else if (strcmp(family_type, "summary") == 0 || strcmp(family_type, "histogram") == 0) {
        counter = strstr(key, "quantile=") == NULL;
    } else if (strcmp(family_type, "untyped") == 0) {
        counter = rw_has(name, rw_untyped_counters) && !rw_has(name, rw_untyped_gauges);
    }
    rw_decimal(c, v, &s->dec, &s->m0);
    s->quantum = 1;
    if (!isfinite(v)) {
        s->kind = KIND_CONST;
    } else if (counter) {
        s->kind = s->m0 > 0 ? KIND_COUNTER : KIND_CONST;
        s->rate = (double)s->m0 / (uptime_s > 60 ? uptime_s : 60);
    } else if (strcmp(name, "node_time_seconds") == 0) {
        s->kind = KIND_CLOCK;
    } else if (rw_has(key, rw_static_gauges) || v == 0) {
        s->kind = KIND_CONST;
    } else {
        s->kind = KIND_GAUGE;
        if (s->dec == 0 && s->m0 % 4096 == 0 && llabs(s->m0) >= 65536) {
            s->quantum = 4096;
        }
        double mag = fabs((double)s->m0) / (double)s->quantum;
        s->walk = fmax(0.6, mag * 0.002);
    }
}

/* Parse the exposition text into c->series. Returns 0, or -1 with a message
 * in err. Work: linear in the text. */
static int rw_parse_scrape(rw_ctx_t *c, const char *text, size_t len, char *err, size_t errlen)
{
    double uptime_s = 0, boot = 0, now = 0;
    char family_type[32] = "untyped";
    char family[256] = "";
    size_t cap = 0;
    const char *p = text, *end = text + len;
    int lineno = 0;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) {
            eol = end;
        }
        lineno++;
        const char *line = p;
        p = eol + 1;
        if (line == eol) {
            continue;
        }
        if (*line == '#') {
            char fam[256], typ[32];
            char tmp[600];
            size_t n = (size_t)(eol - line) < sizeof(tmp) - 1 ? (size_t)(eol - line) : sizeof(tmp) - 1;
            memcpy(tmp, line, n);
            tmp[n] = '\0';
            if (sscanf(tmp, "# TYPE %255s %31s", fam, typ) == 2) {
                snprintf(family, sizeof(family), "%s", fam);
                snprintf(family_type, sizeof(family_type), "%s", typ);
            }
            continue;
        }
        const char *q = line;
        while (q < eol && *q != '{' && *q != ' ') {
            q++;
        }
        rw_series_t s = { 0 };
        size_t lcap = 8;
        s.labels = mem_calloc(lcap, sizeof(rw_label_t));
        s.labels[s.nlabels++] = (rw_label_t){ mem_strdup("__name__"), mem_strndup(line, (size_t)(q - line)) };
        const char *key_end = q;
        if (q < eol && *q == '{') {
            q++;
            while (q < eol && *q != '}') {
                const char *ln = q;
                while (q < eol && *q != '=') {
                    q++;
                }
                if (q + 1 >= eol || q[1] != '"') {
                    snprintf(err, errlen, "scrape line %d: bad label", lineno);
                    return -1;
                }
                char *lname = mem_strndup(ln, (size_t)(q - ln));
                q += 2;
                char *lval = rw_parse_qvalue(&q, eol);
                if (!lval) {
                    mem_free(lname);
                    snprintf(err, errlen, "scrape line %d: unterminated label value", lineno);
                    return -1;
                }
                if (s.nlabels == lcap) {
                    lcap *= 2;
                    s.labels = mem_realloc(s.labels, lcap * sizeof(rw_label_t));
                }
                s.labels[s.nlabels++] = (rw_label_t){ lname, lval };
                if (q < eol && *q == ',') {
                    q++;
                }
            }
            q++;
            key_end = q;
        }
        while (q < eol && *q == ' ') {
            q++;
        }
        char num[64];
        size_t nl = 0;
        while (q < eol && *q != ' ' && nl < sizeof(num) - 1) {
            num[nl++] = *q++;
        }
        num[nl] = '\0';
        double v = strtod(num, NULL);
        const char *mname = s.labels[0].value;
        if (strcmp(mname, "node_boot_time_seconds") == 0) {
            boot = v;
        }
        if (strcmp(mname, "node_time_seconds") == 0) {
            now = v;
        }
        /* the family type applies only to its own samples */
        const char *typ = strncmp(mname, family, strlen(family)) == 0 ? family_type : "untyped";
        qsort(s.labels, s.nlabels, sizeof(rw_label_t), rw_label_cmp);
        char key[1024];
        snprintf(key, sizeof(key), "%.*s", (int)(key_end - line), line);
        for (size_t i = 0; i < s.nlabels; i++) {
            if (strcmp(s.labels[i].name, "__name__") == 0) {
                rw_label_t t = s.labels[0];
                s.labels[0] = s.labels[i];
                s.labels[i] = t;
                break;
            }
        }
        if (c->nseries == cap) {
            cap = cap ? cap * 2 : 256;
            c->series = mem_realloc(c->series, cap * sizeof(rw_series_t));
        }
        /* model needs __name__ at [0]; restore sort order afterwards */
        rw_model(c, &s, typ, key, v, 0);
        qsort(s.labels, s.nlabels, sizeof(rw_label_t), rw_label_cmp);
        c->series[c->nseries++] = s;
    }
    uptime_s = now > boot && boot > 0 ? now - boot : 86400;
    for (size_t i = 0; i < c->nseries; i++) {
        if (c->series[i].kind == KIND_COUNTER) {
            c->series[i].rate = (double)c->series[i].m0 / (uptime_s > 60 ? uptime_s : 60);
        }
    }
    if (c->nseries == 0) {
        snprintf(err, errlen, "scrape has no samples");
        return -1;
    }
    return 0;
}

/* ---- label pre-encoding ------------------------------------------------ */

static void rw_put_label(buf_t *b, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    uint8_t hdr[24];
    size_t inner = 1 + (nl >= 128 ? 2 : 1) + nl + 1 + (vl >= 128 ? (vl >= 16384 ? 3 : 2) : 1) + vl;
    size_t h = 0;
    hdr[h++] = 0x0a; /* TimeSeries.labels */
    h += varint_put_u64(hdr + h, inner);
    hdr[h++] = 0x0a; /* Label.name */
    h += varint_put_u64(hdr + h, nl);
    buf_append(b, hdr, h);
    buf_append(b, name, nl);
    h = 0;
    hdr[h++] = 0x12; /* Label.value */
    h += varint_put_u64(hdr + h, vl);
    buf_append(b, hdr, h);
    buf_append(b, value, vl);
}

/* Encode every (host, series) label set once, instance and job merged in
 * name order. Work: hosts * series * labels. */
static void rw_encode_labels(rw_ctx_t *c)
{
    size_t n = (size_t)c->o.hosts * c->nseries;
    c->lab_off = mem_alloc((n + 1) * sizeof(size_t));
    buf_init(&c->labels);
    size_t k = 0;
    for (int h = 0; h < c->o.hosts; h++) {
        char inst[32];
        snprintf(inst, sizeof(inst), "host-%04d", h);
        for (size_t i = 0; i < c->nseries; i++) {
            c->lab_off[k++] = c->labels.len;
            const rw_series_t *s = &c->series[i];
            bool did_inst = false, did_job = false;
            for (size_t j = 0; j < s->nlabels; j++) {
                const char *ln = s->labels[j].name;
                if (strcmp(ln, "instance") == 0 || strcmp(ln, "job") == 0) {
                    continue;
                }
                if (!did_inst && strcmp("instance", ln) < 0) {
                    rw_put_label(&c->labels, "instance", inst);
                    did_inst = true;
                }
                if (!did_job && strcmp("job", ln) < 0) {
                    rw_put_label(&c->labels, "job", "node");
                    did_job = true;
                }
                rw_put_label(&c->labels, ln, s->labels[j].value);
            }
            if (!did_inst) {
                rw_put_label(&c->labels, "instance", inst);
            }
            if (!did_job) {
                rw_put_label(&c->labels, "job", "node");
            }
        }
    }
    c->lab_off[k] = c->labels.len;
}

/* ---- value evolution and requests -------------------------------------- */

static void rw_groups_init(rw_ctx_t *c)
{
    int hosts = c->o.hosts;
    int per = (int)((double)c->o.samples_per_req / (double)c->nseries + 0.5);
    per = per < 1 ? 1 : per;
    c->ngroups = (hosts + per - 1) / per;
    c->groups = mem_calloc((size_t)c->ngroups, sizeof(rw_group_t));
    for (int g = 0; g < c->ngroups; g++) {
        rw_group_t *gr = &c->groups[g];
        gr->host_lo = (int)((int64_t)g * hosts / c->ngroups);
        gr->host_hi = (int)((int64_t)(g + 1) * hosts / c->ngroups);
        gr->rng = rw_seed_mix(c->o.seed, (uint64_t)g);
        gr->done = -1;
        size_t n = (size_t)(gr->host_hi - gr->host_lo) * c->nseries;
        gr->m = mem_alloc(n * sizeof(int64_t));
        for (int h = gr->host_lo; h < gr->host_hi; h++) {
            for (size_t i = 0; i < c->nseries; i++) {
                const rw_series_t *s = &c->series[i];
                int64_t m = s->m0;
                if (s->kind == KIND_COUNTER) {
                    m = (int64_t)((double)m * (0.5 + rw_rng_unit(&gr->rng)));
                }
                gr->m[(size_t)(h - gr->host_lo) * c->nseries + i] = m;
            }
        }
    }
}

/* Advance one series by one interval. */
static int64_t rw_step(const rw_ctx_t *c, const rw_series_t *s, int64_t m, uint64_t *rng)
{
    double ival_s = (double)c->o.interval_ms / 1e3;
    switch (s->kind) {
    case KIND_COUNTER: {
        double x = s->rate * ival_s * (0.5 + rw_rng_unit(rng));
        return m + (int64_t)floor(x + rw_rng_unit(rng));
    }
    case KIND_GAUGE: {
        if (rw_rng_unit(rng) < 0.2) {
            return m;
        }
        double pull = (double)(s->m0 - m) / (double)s->quantum * 0.02;
        int64_t q = (int64_t)llround(rw_rng_normal(rng) * s->walk + pull);
        int64_t n = m + q * s->quantum;
        return s->m0 >= 0 && n < 0 ? -n : n;
    }
    case KIND_CLOCK: {
        double unit = c->pow10[s->dec];
        return m + (int64_t)(ival_s * unit) + (int64_t)(rw_rng_unit(rng) * unit * 0.01);
    }
    default:
        return m;
    }
}

/* --histogram: append the synthetic family's series (all KIND_HIST, m0 = 0,
 * contiguous: buckets in le order, then _sum in milliseconds, then _count). */
static void rw_hist_add(rw_ctx_t *c)
{
    c->hist_first = c->nseries;
    size_t n = RW_HIST_NB + 2;
    c->series = mem_realloc(c->series, (c->nseries + n) * sizeof(rw_series_t));
    for (size_t j = 0; j < n; j++) {
        rw_series_t s = { 0 };
        s.kind = KIND_HIST;
        s.dec = j == RW_HIST_NB ? 3 : 0;
        s.nlabels = j < RW_HIST_NB ? 2 : 1;
        s.labels = mem_calloc(s.nlabels, sizeof(rw_label_t));
        const char *name = j < RW_HIST_NB    ? "rwload_request_duration_seconds_bucket"
                           : j == RW_HIST_NB ? "rwload_request_duration_seconds_sum"
                                             : "rwload_request_duration_seconds_count";
        s.labels[0] = (rw_label_t){ mem_strdup("__name__"), mem_strdup(name) };
        if (j < RW_HIST_NB) {
            s.labels[1] = (rw_label_t){ mem_strdup("le"), mem_strdup(rw_hist_le_txt[j]) };
        }
        c->series[c->nseries++] = s;
    }
}

/* --histogram: advance host h's family by one interval. m points at its
 * RW_HIST_NB buckets, then _sum (ms), then _count. */
static void rw_hist_step(const rw_ctx_t *c, int h, int64_t *m, uint64_t *rng)
{
    double ival_s = (double)c->o.interval_ms / 1e3;
    double n = floor(20.0 * ival_s * (0.5 + rw_rng_unit(rng)));
    double mu = log(0.02 * (1.0 + (double)(h % 7))) + 0.3 * rw_rng_normal(rng);
    double sigma = 1.0;
    double u = rw_rng_unit(rng);
    for (size_t j = 0; j < RW_HIST_NB; j++) {
        double f = isinf(rw_hist_le[j]) ? 1.0 : 0.5 * erfc(-(log(rw_hist_le[j]) - mu) / (sigma * sqrt(2.0)));
        m[j] += (int64_t)floor(n * f + u);
    }
    m[RW_HIST_NB] += (int64_t)llround(n * exp(mu + sigma * sigma / 2) * 1e3);
    m[RW_HIST_NB + 1] += (int64_t)n;
}

/* Build the WriteRequest for (group, step) into out (reset first). */
static void rw_build(rw_ctx_t *c, rw_group_t *gr, int64_t step, buf_t *out)
{
    buf_reset(out);
    int64_t ts = c->start_ms + step * c->o.interval_ms;
    uint8_t tsv[10];
    size_t tsn = varint_put_u64(tsv, (uint64_t)ts);
    size_t sample_len = 9 + 1 + tsn;
    for (int h = gr->host_lo; h < gr->host_hi; h++) {
        int64_t *ms = &gr->m[(size_t)(h - gr->host_lo) * c->nseries];
        const size_t *off = &c->lab_off[(size_t)h * c->nseries];
        if (step > 0 && c->hist_first < c->nseries) {
            rw_hist_step(c, h, &ms[c->hist_first], &gr->rng);
        }
        for (size_t i = 0; i < c->nseries; i++) {
            const rw_series_t *s = &c->series[i];
            if (step > 0) {
                ms[i] = rw_step(c, s, ms[i], &gr->rng);
            }
            double v = (double)ms[i] / c->pow10[s->dec];
            size_t lab_len = off[i + 1] - off[i];
            size_t ts_len = lab_len + 2 + sample_len;
            buf_reserve(out, ts_len + 16);
            uint8_t *p = out->data + out->len;
            *p++ = 0x0a; /* WriteRequest.timeseries */
            p += varint_put_u64(p, ts_len);
            memcpy(p, c->labels.data + off[i], lab_len);
            p += lab_len;
            *p++ = 0x12; /* TimeSeries.samples */
            *p++ = (uint8_t)sample_len;
            *p++ = 0x09; /* Sample.value, fixed64 */
            memcpy(p, &v, 8);
            p += 8;
            *p++ = 0x10; /* Sample.timestamp, varint */
            memcpy(p, tsv, tsn);
            p += tsn;
            out->len = (size_t)(p - out->data);
        }
    }
    out->data[out->len] = 0;
}

static int rw_code_slot(long code)
{
    if (code >= 200 && code < 300) {
        return 0;
    }
    return code == 400 ? 1 : code == 413 ? 2 : code == 429 ? 3 : code >= 500 ? 4 : 5;
}

typedef struct rw_worker {
    rw_ctx_t *c;
    rw_stats_t st;
} rw_worker_t;

static void *rw_worker_main(void *arg)
{
    rw_worker_t *w = arg;
    rw_ctx_t *c = w->c;
    httpc_t *hc = httpc_create(60000);
    buf_t raw = { 0 }, wire = { 0 };
    static const char *const headers[] = { "Content-Type: application/x-protobuf", "Content-Encoding: snappy",
                                           "X-Prometheus-Remote-Write-Version: 0.1.0", "User-Agent: pharos-rwload",
                                           NULL };
    int64_t total = c->nsteps * c->ngroups;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        if (c->next_item >= total) {
            pthread_mutex_unlock(&c->mu);
            break;
        }
        int64_t item = c->next_item++;
        int64_t step = item / c->ngroups;
        rw_group_t *gr = &c->groups[item % c->ngroups];
        while (gr->done < step - 1) {
            pthread_cond_wait(&c->cond, &c->mu);
        }
        pthread_mutex_unlock(&c->mu);

        rw_build(c, gr, step, &raw);
        buf_reset(&wire);
        compress_snappy(raw.data, raw.len, &wire);
        uint64_t nsamples = (uint64_t)(gr->host_hi - gr->host_lo) * c->nseries;
        httpc_result_t res = { 0 };
        for (int attempt = 0;; attempt++) {
            double t0 = rw_now_s();
            httpc_post(hc, c->o.url, headers, wire.data, wire.len, NULL, &res);
            double dt = rw_now_s() - t0;
            w->st.lat_sum += dt;
            w->st.lat_max = dt > w->st.lat_max ? dt : w->st.lat_max;
            w->st.requests++;
            w->st.codes[rw_code_slot(res.http_code)]++;
            if (res.status == HTTPC_RETRY && attempt < c->o.retries) {
                w->st.retries++;
                int64_t ms = res.retry_after_ms > 0 ? res.retry_after_ms : 100LL << (attempt < 4 ? attempt : 4);
                struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
                nanosleep(&ts, NULL);
                continue;
            }
            break;
        }
        w->st.bytes_raw += raw.len;
        w->st.bytes_wire += wire.len;
        if (res.status == HTTPC_OK) {
            w->st.samples_ok += nsamples;
        } else {
            w->st.requests_failed++;
            w->st.samples_failed += nsamples;
            if (!w->st.first_error[0]) {
                w->st.first_code = res.http_code;
                snprintf(w->st.first_error, sizeof(w->st.first_error), "%s", res.error);
            }
        }
        pthread_mutex_lock(&c->mu);
        gr->done = step;
        pthread_cond_broadcast(&c->cond);
        pthread_mutex_unlock(&c->mu);
    }
    buf_fini(&raw);
    buf_fini(&wire);
    httpc_destroy(hc);
    return NULL;
}

/* ---- main -------------------------------------------------------------- */

static void rw_usage(FILE *f)
{
    fprintf(f, "Usage: rwload --url URL --source URL|FILE [options]\n"
               "  --url URL            remote-write endpoint (e.g. http://127.0.0.1:9747/api/v1/write)\n"
               "  --source URL|FILE    node_exporter /metrics URL or a saved scrape\n"
               "  --save FILE          also write the scrape to FILE\n"
               "  --hosts N            simulated hosts (default 50)\n"
               "  --duration D         span of data, e.g. 4.5h (default 4.5h)\n"
               "  --interval D         sample interval (default 15s)\n"
               "  --threads N          concurrent connections (default 4)\n"
               "  --seed N             generator seed (default 1)\n"
               "  --samples-per-req N  target samples per request (default 4000)\n"
               "  --end-ms MS          last timestamp (default: the grid point before now)\n"
               "  --retries N          retries of a 429/5xx/connection error (default 20)\n"
               "  --histogram          add a synthetic histogram family per host (query benchmark)\n"
               "  --dry-run            build requests but do not send them\n");
}

static int rw_load_source(const char *src, buf_t *out, char *err, size_t errlen)
{
    if (strncmp(src, "http://", 7) == 0 || strncmp(src, "https://", 8) == 0) {
        httpc_t *hc = httpc_create(30000);
        httpc_result_t res;
        httpc_get(hc, src, NULL, out, &res);
        httpc_destroy(hc);
        if (res.status != HTTPC_OK) {
            snprintf(err, errlen, "GET %s: %ld %s", src, res.http_code, res.error);
            return -1;
        }
        return 0;
    }
    FILE *f = fopen(src, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", src, strerror(errno));
        return -1;
    }
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
        buf_append(out, tmp, n);
    }
    fclose(f);
    return 0;
}

static void rw_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            fprintf(f, "\\%c", ch);
        } else if (ch < 0x20) {
            fprintf(f, "\\u%04x", ch);
        } else {
            fputc(ch, f);
        }
    }
    fputc('"', f);
}

int main(int argc, char **argv)
{
    rw_ctx_t *c = mem_calloc(1, sizeof(*c));
    c->o = (rw_opts_t){ .hosts = 50,
                        .duration_ms = 16200000,
                        .interval_ms = 15000,
                        .threads = 4,
                        .seed = 1,
                        .samples_per_req = 4000,
                        .retries = 20 };
    bool dry = false;
    char err[512] = "";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;
        if (strcmp(a, "--dry-run") == 0) {
            dry = true;
            continue;
        }
        if (strcmp(a, "--histogram") == 0) {
            c->o.histogram = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            rw_usage(stdout);
            return 0;
        }
        if (!v) {
            ok = false;
        } else if (strcmp(a, "--url") == 0) {
            c->o.url = v;
        } else if (strcmp(a, "--source") == 0) {
            c->o.source = v;
        } else if (strcmp(a, "--save") == 0) {
            c->o.save = v;
        } else if (strcmp(a, "--hosts") == 0) {
            c->o.hosts = atoi(v);
            ok = c->o.hosts > 0;
        } else if (strcmp(a, "--duration") == 0) {
            ok = rw_parse_duration(v, &c->o.duration_ms);
        } else if (strcmp(a, "--interval") == 0) {
            ok = rw_parse_duration(v, &c->o.interval_ms) && c->o.interval_ms > 0;
        } else if (strcmp(a, "--threads") == 0) {
            c->o.threads = atoi(v);
            ok = c->o.threads > 0 && c->o.threads <= 256;
        } else if (strcmp(a, "--seed") == 0) {
            c->o.seed = strtoull(v, NULL, 10);
        } else if (strcmp(a, "--samples-per-req") == 0) {
            c->o.samples_per_req = atoi(v);
            ok = c->o.samples_per_req > 0;
        } else if (strcmp(a, "--end-ms") == 0) {
            c->o.end_ms = strtoll(v, NULL, 10);
        } else if (strcmp(a, "--retries") == 0) {
            c->o.retries = atoi(v);
        } else {
            ok = false;
        }
        if (!ok) {
            fprintf(stderr, "rwload: bad or missing value for %s\n", a);
            rw_usage(stderr);
            return 2;
        }
        i++;
    }
    if ((!c->o.url && !dry) || !c->o.source) {
        rw_usage(stderr);
        return 2;
    }
    c->pow10[0] = 1;
    for (int i = 1; i < 23; i++) {
        c->pow10[i] = c->pow10[i - 1] * 10;
    }
    buf_t scrape = { 0 };
    if (rw_load_source(c->o.source, &scrape, err, sizeof(err)) != 0 ||
        rw_parse_scrape(c, (const char *)scrape.data, scrape.len, err, sizeof(err)) != 0) {
        fprintf(stderr, "rwload: %s\n", err);
        return 1;
    }
    c->hist_first = c->nseries;
    if (c->o.histogram) {
        rw_hist_add(c);
    }
    if (c->o.save) {
        FILE *f = fopen(c->o.save, "wb");
        if (!f || fwrite(scrape.data, 1, scrape.len, f) != scrape.len || fclose(f) != 0) {
            fprintf(stderr, "rwload: cannot write %s\n", c->o.save);
            return 1;
        }
    }
    if (c->o.end_ms == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        c->o.end_ms = (now / c->o.interval_ms - 1) * c->o.interval_ms;
    }
    c->nsteps = (c->o.duration_ms + c->o.interval_ms - 1) / c->o.interval_ms + 1;
    c->start_ms = c->o.end_ms - (c->nsteps - 1) * c->o.interval_ms;
    size_t kinds[5] = { 0 };
    for (size_t i = 0; i < c->nseries; i++) {
        kinds[c->series[i].kind]++;
    }
    double t_prep = rw_now_s();
    rw_encode_labels(c);
    rw_groups_init(c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cond, NULL);
    fprintf(stderr,
            "rwload: %zu series/host (%zu counters, %zu gauges, %zu constant), %d hosts, %d groups, "
            "%" PRId64 " steps, prep %.2fs\n",
            c->nseries, kinds[KIND_COUNTER] + kinds[KIND_HIST], kinds[KIND_GAUGE] + kinds[KIND_CLOCK],
            kinds[KIND_CONST], c->o.hosts, c->ngroups, c->nsteps, rw_now_s() - t_prep);

    double cpu0 = rw_cpu_s(), t0 = rw_now_s();
    rw_worker_t *ws = mem_calloc((size_t)c->o.threads, sizeof(rw_worker_t));
    if (dry) {
        buf_t raw = { 0 }, wire = { 0 };
        for (int64_t it = 0; it < c->nsteps * c->ngroups; it++) {
            rw_group_t *gr = &c->groups[it % c->ngroups];
            rw_build(c, gr, it / c->ngroups, &raw);
            buf_reset(&wire);
            compress_snappy(raw.data, raw.len, &wire);
            ws[0].st.requests++;
            ws[0].st.samples_ok += (uint64_t)(gr->host_hi - gr->host_lo) * c->nseries;
            ws[0].st.bytes_raw += raw.len;
            ws[0].st.bytes_wire += wire.len;
        }
        buf_fini(&raw);
        buf_fini(&wire);
    } else {
        pthread_t *th = mem_calloc((size_t)c->o.threads, sizeof(pthread_t));
        for (int i = 0; i < c->o.threads; i++) {
            ws[i].c = c;
            pthread_create(&th[i], NULL, rw_worker_main, &ws[i]);
        }
        for (int i = 0; i < c->o.threads; i++) {
            pthread_join(th[i], NULL);
        }
        mem_free(th);
    }
    double wall = rw_now_s() - t0, cpu = rw_cpu_s() - cpu0;

    rw_stats_t *t = &c->total;
    for (int i = 0; i < c->o.threads; i++) {
        rw_stats_t *s = &ws[i].st;
        t->requests += s->requests;
        t->requests_failed += s->requests_failed;
        t->retries += s->retries;
        t->samples_ok += s->samples_ok;
        t->samples_failed += s->samples_failed;
        t->bytes_raw += s->bytes_raw;
        t->bytes_wire += s->bytes_wire;
        t->lat_sum += s->lat_sum;
        t->lat_max = s->lat_max > t->lat_max ? s->lat_max : t->lat_max;
        for (int k = 0; k < 6; k++) {
            t->codes[k] += s->codes[k];
        }
        if (!t->first_error[0] && s->first_error[0]) {
            t->first_code = s->first_code;
            memcpy(t->first_error, s->first_error, sizeof(t->first_error));
        }
    }
    uint64_t sent = t->samples_ok + t->samples_failed;
    printf("{\"url\":");
    rw_json_str(stdout, c->o.url ? c->o.url : "");
    printf(",\"hosts\":%d,\"series_per_host\":%zu,\"series\":%zu,\"steps\":%" PRId64 ",\"interval_ms\":%" PRId64
           ",\"start_ms\":%" PRId64 ",\"end_ms\":%" PRId64 ",\"threads\":%d,\"groups\":%d,\"seed\":%" PRIu64,
           c->o.hosts, c->nseries, c->nseries * (size_t)c->o.hosts, c->nsteps, c->o.interval_ms, c->start_ms,
           c->o.end_ms, c->o.threads, c->ngroups, c->o.seed);
    printf(",\"samples\":%" PRIu64 ",\"samples_ok\":%" PRIu64 ",\"samples_failed\":%" PRIu64 ",\"requests\":%" PRIu64
           ",\"requests_failed\":%" PRIu64 ",\"retries\":%" PRIu64,
           sent, t->samples_ok, t->samples_failed, t->requests, t->requests_failed, t->retries);
    printf(",\"codes\":{\"2xx\":%" PRIu64 ",\"400\":%" PRIu64 ",\"413\":%" PRIu64 ",\"429\":%" PRIu64
           ",\"5xx\":%" PRIu64 ",\"other\":%" PRIu64 "}",
           t->codes[0], t->codes[1], t->codes[2], t->codes[3], t->codes[4], t->codes[5]);
    printf(",\"wall_s\":%.3f,\"samples_per_s\":%.0f,\"bytes_raw\":%" PRIu64 ",\"bytes_snappy\":%" PRIu64
           ",\"mean_req_ms\":%.2f,\"max_req_ms\":%.1f,\"loader_cpu_s\":%.3f,\"loader_cpu_pct\":%.1f",
           wall, wall > 0 ? (double)t->samples_ok / wall : 0, t->bytes_raw, t->bytes_wire,
           t->requests ? t->lat_sum / (double)t->requests * 1e3 : 0, t->lat_max * 1e3, cpu,
           wall > 0 ? cpu / wall * 100 : 0);
    printf(",\"first_error_code\":%ld,\"first_error\":", t->first_code);
    rw_json_str(stdout, t->first_error);
    printf("}\n");
    return t->requests_failed ? 3 : 0;
}

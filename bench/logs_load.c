/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logs_load: a Loki push load generator for bench/logs.sh. It replays the
 * file bench/logs_run.py prepared, as fast as the target accepts, and
 * prints a one-line JSON summary.
 *
 * Input: --replay FILE, one entry per line "STREAM\tTS_NS\tLINE" in time
 * order (STREAM indexes the lines of --streams FILE, each a Loki label set
 * such as {host="h",job="j"}; lines hold no newline).
 *
 * Streams are split among --threads senders, balanced by bytes, so that
 * every stream's entries reach the server in time order (as one promtail
 * per host would send them). Each sender's entries are cut into requests
 * of about --batch-bytes line bytes (promtail's batchsize, 1 MiB by
 * default): a logproto.PushRequest (one StreamAdapter per stream of the
 * request, entries with Timestamp{seconds, nanos} and line) written by a
 * hand-rolled protobuf encoder, then one snappy block, sent as
 * Content-Type application/x-protobuf, as promtail does.
 *
 * Every request is encoded and compressed before the clock starts, so the
 * timed phase is only HTTP: the summary gives the client's CPU seconds in
 * that phase (getrusage of the whole process) beside the wall time, to show
 * whether the client or the server is the bottleneck. 429 and 5xx are
 * retried with backoff (Retry-After honoured) up to --retries times.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "common/buf.h"
#include "common/compress.h"
#include "common/httpc.h"
#include "common/mem.h"
#include "common/varint.h"

typedef struct ll_entry {
    int64_t ts_ns;
    const char *line;
    uint32_t len;
    uint32_t stream;
} ll_entry_t;

typedef struct ll_req {
    uint8_t *body;
    size_t len;
    uint64_t lines, line_bytes;
} ll_req_t;

typedef struct ll_sender {
    pthread_t th;
    uint32_t *streams; /* owned stream indexes */
    size_t nstreams;
    uint64_t bytes; /* line bytes owned, for balancing */
    ll_req_t *reqs;
    size_t nreqs, capreqs;
    /* results */
    uint64_t lines_ok, lines_failed, requests, requests_failed, retries, wire_bytes;
    uint64_t codes[6]; /* 2xx, 400, 413, 429, 5xx, other/none */
    double lat_sum, lat_max, end_s;
    long first_code;
    char first_error[256];
} ll_sender_t;

typedef struct ll_opts {
    const char *url, *replay, *streams;
    int threads, retries;
    size_t batch_bytes;
} ll_opts_t;

static ll_opts_t opt = { .threads = 4, .retries = 20, .batch_bytes = 1 << 20 };
static char **stream_labels;
static size_t nstreams;
static pthread_barrier_t start_barrier;
static double t_start;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double rusage_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "logs_load: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    buf_t b = { 0 };
    char tmp[1 << 16];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
        buf_append(&b, tmp, n);
    }
    fclose(f);
    *len = b.len;
    if (!b.data) {
        buf_putc(&b, 0);
        b.len = 0;
    }
    return (char *)b.data;
}

static int code_slot(long code)
{
    if (code >= 200 && code < 300) {
        return 0;
    }
    switch (code) {
    case 400:
        return 1;
    case 413:
        return 2;
    case 429:
        return 3;
    default:
        return code >= 500 && code < 600 ? 4 : 5;
    }
}

/* ---- protobuf encoding of logproto.PushRequest ------------------------- */

static size_t ts_msg_len(int64_t ts_ns)
{
    uint64_t sec = (uint64_t)(ts_ns / 1000000000), nanos = (uint64_t)(ts_ns % 1000000000);
    size_t n = 0;
    if (sec) {
        n += 1 + varint_len_u64(sec);
    }
    if (nanos) {
        n += 1 + varint_len_u64(nanos);
    }
    return n;
}

static size_t entry_msg_len(const ll_entry_t *e)
{
    size_t tl = ts_msg_len(e->ts_ns);
    return 1 + varint_len_u64(tl) + tl + 1 + varint_len_u64(e->len) + e->len;
}

static void put_entry(buf_t *b, const ll_entry_t *e)
{
    size_t tl = ts_msg_len(e->ts_ns);
    uint64_t sec = (uint64_t)(e->ts_ns / 1000000000), nanos = (uint64_t)(e->ts_ns % 1000000000);
    buf_putc(b, 0x0a); /* EntryAdapter.timestamp */
    buf_put_uvarint(b, tl);
    if (sec) {
        buf_putc(b, 0x08);
        buf_put_uvarint(b, sec);
    }
    if (nanos) {
        buf_putc(b, 0x10);
        buf_put_uvarint(b, nanos);
    }
    buf_putc(b, 0x12); /* EntryAdapter.line */
    buf_put_uvarint(b, e->len);
    buf_append(b, e->line, e->len);
}

/* Seal one request of sender s from the entries idx[0..n) (time order). */
static void seal(ll_sender_t *s, const ll_entry_t *ent, const size_t *idx, size_t n, buf_t *raw)
{
    if (n == 0) {
        return;
    }
    buf_reset(raw);
    uint64_t lines = 0, lbytes = 0;
    for (size_t k = 0; k < s->nstreams; k++) {
        uint32_t sid = s->streams[k];
        size_t body = 0, cnt = 0;
        for (size_t i = 0; i < n; i++) {
            if (ent[idx[i]].stream == sid) {
                size_t el = entry_msg_len(&ent[idx[i]]);
                body += 1 + varint_len_u64(el) + el;
                cnt++;
            }
        }
        if (cnt == 0) {
            continue;
        }
        size_t ll = strlen(stream_labels[sid]);
        body += 1 + varint_len_u64(ll) + ll;
        buf_putc(raw, 0x0a); /* PushRequest.streams */
        buf_put_uvarint(raw, body);
        buf_putc(raw, 0x0a); /* StreamAdapter.labels */
        buf_put_uvarint(raw, ll);
        buf_append(raw, stream_labels[sid], ll);
        for (size_t i = 0; i < n; i++) {
            const ll_entry_t *e = &ent[idx[i]];
            if (e->stream == sid) {
                buf_putc(raw, 0x12); /* StreamAdapter.entries */
                buf_put_uvarint(raw, entry_msg_len(e));
                put_entry(raw, e);
                lines++;
                lbytes += e->len + 1;
            }
        }
    }
    buf_t wire = { 0 };
    compress_snappy(raw->data, raw->len, &wire);
    if (s->nreqs == s->capreqs) {
        s->capreqs = s->capreqs ? s->capreqs * 2 : 64;
        s->reqs = mem_realloc(s->reqs, s->capreqs * sizeof(*s->reqs));
    }
    s->reqs[s->nreqs++] = (ll_req_t){ .body = wire.data, .len = wire.len, .lines = lines, .line_bytes = lbytes };
}

/* ---- sending ------------------------------------------------------------ */

static void *sender_main(void *arg)
{
    ll_sender_t *s = arg;
    httpc_t *hc = httpc_create(120000);
    static const char *const headers[] = { "Content-Type: application/x-protobuf", "User-Agent: pharos-logs_load",
                                           NULL };
    pthread_barrier_wait(&start_barrier);
    for (size_t r = 0; r < s->nreqs; r++) {
        const ll_req_t *q = &s->reqs[r];
        httpc_result_t res = { 0 };
        for (int attempt = 0;; attempt++) {
            double t0 = now_s();
            httpc_post(hc, opt.url, headers, q->body, q->len, NULL, &res);
            double dt = now_s() - t0;
            s->lat_sum += dt;
            s->lat_max = dt > s->lat_max ? dt : s->lat_max;
            s->requests++;
            s->codes[code_slot(res.http_code)]++;
            if (res.status == HTTPC_RETRY && attempt < opt.retries) {
                s->retries++;
                int64_t ms = res.retry_after_ms > 0 ? res.retry_after_ms : 50LL << (attempt < 5 ? attempt : 5);
                struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
                nanosleep(&ts, NULL);
                continue;
            }
            break;
        }
        s->wire_bytes += q->len;
        if (res.status == HTTPC_OK) {
            s->lines_ok += q->lines;
        } else {
            s->requests_failed++;
            s->lines_failed += q->lines;
            if (!s->first_error[0]) {
                s->first_code = res.http_code;
                snprintf(s->first_error, sizeof(s->first_error), "%s", res.error);
            }
        }
    }
    s->end_s = now_s();
    httpc_destroy(hc);
    return NULL;
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            printf("\\%c", c);
        } else if (c < 0x20) {
            printf("\\u%04x", c);
        } else {
            putchar(c);
        }
    }
    putchar('"');
}

static void usage(void)
{
    fprintf(stderr, "usage: logs_load --url URL --replay FILE --streams FILE [--threads 4] [--batch-bytes 1048576] "
                    "[--retries 20]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            usage();
        }
        if (!strcmp(a, "--url")) {
            opt.url = v;
        } else if (!strcmp(a, "--replay")) {
            opt.replay = v;
        } else if (!strcmp(a, "--streams")) {
            opt.streams = v;
        } else if (!strcmp(a, "--threads")) {
            opt.threads = atoi(v);
        } else if (!strcmp(a, "--batch-bytes")) {
            opt.batch_bytes = (size_t)strtoull(v, NULL, 10);
        } else if (!strcmp(a, "--retries")) {
            opt.retries = atoi(v);
        } else {
            usage();
        }
        i++;
    }
    if (!opt.url || !opt.replay || !opt.streams || opt.threads < 1 || opt.batch_bytes < 1) {
        usage();
    }
    double te0 = now_s();

    /* streams */
    size_t slen;
    char *sbuf = read_all(opt.streams, &slen);
    for (char *p = sbuf; p < sbuf + slen;) {
        char *nl = memchr(p, '\n', (size_t)(sbuf + slen - p));
        char *end = nl ? nl : sbuf + slen;
        *end = 0;
        if (end > p) {
            stream_labels = mem_realloc(stream_labels, (nstreams + 1) * sizeof(*stream_labels));
            stream_labels[nstreams++] = p;
        }
        p = end + 1;
    }
    if (nstreams == 0) {
        fprintf(stderr, "logs_load: no streams in %s\n", opt.streams);
        return 1;
    }

    /* entries */
    size_t rlen;
    char *rbuf = read_all(opt.replay, &rlen);
    size_t nent = 0, capent = 1 << 20;
    ll_entry_t *ent = mem_alloc(capent * sizeof(*ent));
    uint64_t *sbytes = mem_calloc(nstreams, sizeof(*sbytes));
    uint64_t total_bytes = 0;
    for (char *p = rbuf; p < rbuf + rlen;) {
        char *nl = memchr(p, '\n', (size_t)(rbuf + rlen - p));
        char *end = nl ? nl : rbuf + rlen;
        char *t1 = memchr(p, '\t', (size_t)(end - p));
        char *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(end - t1 - 1)) : NULL;
        if (!t2) {
            fprintf(stderr, "logs_load: malformed replay line %zu\n", nent + 1);
            return 1;
        }
        unsigned long sid = strtoul(p, NULL, 10);
        if (sid >= nstreams) {
            fprintf(stderr, "logs_load: stream %lu out of range on line %zu\n", sid, nent + 1);
            return 1;
        }
        if (nent == capent) {
            capent *= 2;
            ent = mem_realloc(ent, capent * sizeof(*ent));
        }
        ent[nent++] = (ll_entry_t){
            .ts_ns = strtoll(t1 + 1, NULL, 10), .line = t2 + 1, .len = (uint32_t)(end - t2 - 1), .stream = (uint32_t)sid
        };
        sbytes[sid] += (uint64_t)(end - t2);
        total_bytes += (uint64_t)(end - t2);
        p = end + 1;
    }

    /* streams to senders: largest first, each to the least loaded */
    int T = opt.threads;
    ll_sender_t *snd = mem_calloc((size_t)T, sizeof(*snd));
    uint32_t *order = mem_alloc(nstreams * sizeof(*order));
    for (size_t i = 0; i < nstreams; i++) {
        order[i] = (uint32_t)i;
    }
    for (size_t i = 1; i < nstreams; i++) { /* insertion sort, bytes descending */
        uint32_t x = order[i];
        size_t j = i;
        while (j > 0 && sbytes[order[j - 1]] < sbytes[x]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = x;
    }
    int *owner = mem_alloc(nstreams * sizeof(*owner));
    for (size_t i = 0; i < nstreams; i++) {
        int best = 0;
        for (int k = 1; k < T; k++) {
            if (snd[k].bytes < snd[best].bytes) {
                best = k;
            }
        }
        ll_sender_t *s = &snd[best];
        s->streams = mem_realloc(s->streams, (s->nstreams + 1) * sizeof(*s->streams));
        s->streams[s->nstreams++] = order[i];
        s->bytes += sbytes[order[i]];
        owner[order[i]] = best;
    }

    /* requests, cut per sender in time order */
    size_t **pend = mem_calloc((size_t)T, sizeof(*pend));
    size_t *npend = mem_calloc((size_t)T, sizeof(*npend)), *cappend = mem_calloc((size_t)T, sizeof(*cappend));
    uint64_t *pbytes = mem_calloc((size_t)T, sizeof(*pbytes));
    buf_t raw = { 0 };
    uint64_t raw_pb_bytes = 0;
    for (size_t i = 0; i < nent; i++) {
        int k = owner[ent[i].stream];
        if (npend[k] == cappend[k]) {
            cappend[k] = cappend[k] ? cappend[k] * 2 : 4096;
            pend[k] = mem_realloc(pend[k], cappend[k] * sizeof(**pend));
        }
        pend[k][npend[k]++] = i;
        pbytes[k] += ent[i].len;
        if (pbytes[k] >= opt.batch_bytes) {
            seal(&snd[k], ent, pend[k], npend[k], &raw);
            raw_pb_bytes += raw.len;
            npend[k] = 0;
            pbytes[k] = 0;
        }
    }
    for (int k = 0; k < T; k++) {
        seal(&snd[k], ent, pend[k], npend[k], &raw);
        raw_pb_bytes += npend[k] ? raw.len : 0;
    }
    double encode_s = now_s() - te0;

    /* timed phase */
    pthread_barrier_init(&start_barrier, NULL, (unsigned)T + 1);
    for (int k = 0; k < T; k++) {
        pthread_create(&snd[k].th, NULL, sender_main, &snd[k]);
    }
    double cpu0 = rusage_cpu_s();
    t_start = now_s();
    pthread_barrier_wait(&start_barrier);
    ll_sender_t tot = { 0 };
    double end = t_start;
    size_t nreq_total = 0;
    for (int k = 0; k < T; k++) {
        pthread_join(snd[k].th, NULL);
        ll_sender_t *s = &snd[k];
        tot.lines_ok += s->lines_ok;
        tot.lines_failed += s->lines_failed;
        tot.requests += s->requests;
        tot.requests_failed += s->requests_failed;
        tot.retries += s->retries;
        tot.wire_bytes += s->wire_bytes;
        tot.lat_sum += s->lat_sum;
        tot.lat_max = s->lat_max > tot.lat_max ? s->lat_max : tot.lat_max;
        for (int c = 0; c < 6; c++) {
            tot.codes[c] += s->codes[c];
        }
        if (!tot.first_error[0] && s->first_error[0]) {
            tot.first_code = s->first_code;
            memcpy(tot.first_error, s->first_error, sizeof(tot.first_error));
        }
        end = s->end_s > end ? s->end_s : end;
        nreq_total += s->nreqs;
    }
    double wall = end - t_start;
    double cpu = rusage_cpu_s() - cpu0;

    printf("{\"lines\":%zu,\"lines_ok\":%" PRIu64 ",\"lines_failed\":%" PRIu64 ",\"streams\":%zu,\"threads\":%d", nent,
           tot.lines_ok, tot.lines_failed, nstreams, T);
    printf(",\"raw_bytes\":%" PRIu64 ",\"protobuf_bytes\":%" PRIu64 ",\"wire_bytes\":%" PRIu64, total_bytes,
           raw_pb_bytes, tot.wire_bytes);
    printf(",\"batches\":%zu,\"requests\":%" PRIu64 ",\"requests_failed\":%" PRIu64 ",\"retries\":%" PRIu64, nreq_total,
           tot.requests, tot.requests_failed, tot.retries);
    printf(",\"encode_s\":%.3f,\"wall_s\":%.3f,\"lines_per_s\":%.0f,\"mb_per_s\":%.2f,\"client_cpu_s\":%.3f", encode_s,
           wall, wall > 0 ? (double)tot.lines_ok / wall : 0, wall > 0 ? (double)total_bytes / 1e6 / wall : 0, cpu);
    printf(",\"total_cpu_s\":%.3f,\"total_s\":%.3f", rusage_cpu_s(), now_s() - te0);
    printf(",\"lat_mean_s\":%.4f,\"lat_max_s\":%.4f", tot.requests ? tot.lat_sum / (double)tot.requests : 0,
           tot.lat_max);
    printf(",\"codes\":{\"2xx\":%" PRIu64 ",\"400\":%" PRIu64 ",\"413\":%" PRIu64 ",\"429\":%" PRIu64
           ",\"5xx\":%" PRIu64 ",\"other\":%" PRIu64 "}",
           tot.codes[0], tot.codes[1], tot.codes[2], tot.codes[3], tot.codes[4], tot.codes[5]);
    printf(",\"first_code\":%ld,\"first_error\":", tot.first_code);
    json_str(tot.first_error);
    printf("}\n");
    return tot.lines_failed ? 3 : 0;
}

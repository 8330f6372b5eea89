/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for agent/agent_loki.c: batches are snappy-compressed and decoded
 * back with pharos' own Loki push decoder (logs_push_decode), and every
 * field is checked: stream labels (Go-quoted values with escapes and
 * UTF-8), entry order per stream, timestamps (zero, sub-second, negative,
 * large), lines (empty, binary, large), structured metadata; more streams
 * than a batch keeps open; reset reuses storage without allocating. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/agent_int.h"
#include "common/arena.h"
#include "common/compress.h"
#include "common/mem.h"
#include "logs/logs.h"

typedef struct sent {
    const char *labels[4]; /* name, value, name, value */
    int64_t ts;
    const char *line;
    size_t line_len; /* 0: strlen(line) */
    const char *meta[4];
} sent_t;

static str_t line_of(const sent_t *s)
{
    return str_from(s->line, s->line_len ? s->line_len : strlen(s->line));
}

static size_t pairs(const char *const *kv, label_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < 4 && kv[i]; i += 2) {
        out[n++] = (label_t){ str_cstr(kv[i]), str_cstr(kv[i + 1]) };
    }
    return n;
}

/* Encode entries[0..n) into one batch, compress, decode: [out] p. */
static void roundtrip(loki_batch_t *b, const sent_t *e, size_t n, arena_t *arena, logs_push_t *p)
{
    buf_t lab = { 0 }, raw = { 0 }, packed = { 0 };
    for (size_t i = 0; i < n; i++) {
        label_t ls[2], meta[2];
        size_t nl = pairs(e[i].labels, ls);
        size_t nm = pairs(e[i].meta, meta);
        labels_sort(ls, nl);
        agent_loki_labels(ls, nl, &lab);
        agent_loki_add(b, str_from((const char *)lab.data, lab.len), e[i].ts, line_of(&e[i]), meta, nm);
    }
    assert_int_equal(b->nentries, n);
    agent_loki_finish(b, &raw);
    assert_true(b->bytes >= raw.len / 2);
    compress_snappy(raw.data, raw.len, &packed);
    logs_push_limits_t lim = { 0 };
    char err[256] = "";
    logs_push_status_t st = logs_push_decode(LOGS_PUSH_PROTOBUF, LOGS_PUSH_IDENTITY, packed.data, packed.len, &lim, 0,
                                             arena, p, err, sizeof(err));
    if (st != LOGS_PUSH_OK) {
        fail_msg("decode: %s", err);
    }
    assert_string_equal(p->first_error, "");
    buf_fini(&lab);
    buf_fini(&raw);
    buf_fini(&packed);
}

static bool str_is(str_t s, const char *c, size_t len)
{
    return s.len == len && memcmp(s.p, c, len) == 0;
}

/* Every entry of e appears in p in its stream, in order, exactly. */
static void expect_entries(const logs_push_t *p, const sent_t *e, size_t n)
{
    assert_int_equal(p->nentries, n);
    size_t *next = calloc(p->nstreams, sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        label_t ls[2];
        size_t nl = pairs(e[i].labels, ls);
        labels_sort(ls, nl);
        bool found = false;
        /* The first stream with these labels that still has entries. */
        for (size_t s = 0; s < p->nstreams && !found; s++) {
            const logs_stream_t *st = &p->streams[s];
            if (st->nlabels != nl || next[s] >= st->nentries) {
                continue;
            }
            bool same = true;
            for (size_t k = 0; k < nl; k++) {
                same = same && str_eq(st->labels[k].name, ls[k].name) && str_eq(st->labels[k].value, ls[k].value);
            }
            if (!same) {
                continue;
            }
            const logs_entry_t *x = &st->entries[next[s]++];
            found = true;
            if (x->ts_ns != e[i].ts) {
                fail_msg("entry %zu: ts %lld, want %lld", i, (long long)x->ts_ns, (long long)e[i].ts);
            }
            str_t want = line_of(&e[i]);
            if (!str_is(x->line, want.p, want.len)) {
                fail_msg("entry %zu: line differs (%zu bytes, want %zu)", i, x->line.len, want.len);
            }
            label_t meta[2];
            size_t nm = pairs(e[i].meta, meta);
            assert_int_equal(x->nmeta, nm);
            for (size_t k = 0; k < nm; k++) {
                assert_true(str_eq(x->meta[k].name, meta[k].name));
                assert_true(str_eq(x->meta[k].value, meta[k].value));
            }
        }
        if (!found) {
            fail_msg("entry %zu not found in its stream", i);
        }
    }
    free(next);
}

static void test_fields(void **state)
{
    (void)state;
    static const char bin[] = { 'a', 0, 'b', (char)0xff, '\n', 'c' };
    static const sent_t e[] = {
        { { "job", "varlogs", "filename", "/var/log/syslog" }, 1700000000123456789, "first line", 0, { NULL } },
        { { "job", "varlogs", "filename", "/var/log/syslog" }, 1700000000123456790, "second", 0, { "pid", "42" } },
        { { "unit", "a\"b\\c\nd\te\x01", NULL, NULL }, 0, "", 0, { NULL } },
        { { "unit", "caf\xc3\xa9 \xe2\x9c\x93", NULL, NULL }, 1, "one ns", 0, { "k", "", "boot_id", "x y" } },
        { { "unit", "neg", NULL, NULL }, -1500000000, "before 1970", 0, { NULL } },
        { { "unit", "neg", NULL, NULL }, 1000000000, "one second", 0, { NULL } },
        { { "job", "varlogs", "filename", "/var/log/syslog" }, 1700000000123456791, "third", 0, { NULL } },
        { { "unit", "bin", NULL, NULL }, 5, bin, sizeof(bin), { NULL } },
        { { "unit", "big", NULL, NULL }, 9223372036854775807LL, "max", 0, { NULL } },
    };
    loki_batch_t b = { 0 };
    arena_t *arena = arena_create(0);
    logs_push_t p;
    roundtrip(&b, e, sizeof(e) / sizeof(e[0]), arena, &p);
    expect_entries(&p, e, sizeof(e) / sizeof(e[0]));
    assert_int_equal(p.nstreams, 6);
    arena_destroy(arena);
    agent_loki_fini(&b);
}

static void test_label_string(void **state)
{
    (void)state;
    buf_t out = { 0 };
    label_t ls[] = { { STR_LIT("a"), STR_LIT("x\"y") }, { STR_LIT("b"), STR_LIT("\\\n") } };
    agent_loki_labels(ls, 2, &out);
    assert_string_equal((const char *)out.data, "{a=\"x\\\"y\", b=\"\\\\\\n\"}");
    agent_loki_labels(ls, 0, &out);
    assert_string_equal((const char *)out.data, "{}");
    buf_fini(&out);
}

/* More streams than a batch keeps open, interleaved: every entry arrives
 * in its stream, in order; a large line too. */
static void test_many_streams(void **state)
{
    (void)state;
    enum { N = 2000, STREAMS = 3 * LOKI_OPEN_STREAMS };
    static sent_t e[N];
    static char vals[STREAMS][8], lines[N][24];
    for (int i = 0; i < STREAMS; i++) {
        snprintf(vals[i], sizeof(vals[i]), "s%d", i);
    }
    for (int i = 0; i < N; i++) {
        int s = (i * 7) % STREAMS;
        snprintf(lines[i], sizeof(lines[i]), "line %d", i);
        e[i] = (sent_t){ { "stream", vals[s], NULL, NULL }, 1000 + i, lines[i], 0, { NULL } };
    }
    char *big = malloc(300000);
    memset(big, 'x', 300000);
    e[N - 1].line = big;
    e[N - 1].line_len = 300000;
    loki_batch_t b = { 0 };
    arena_t *arena = arena_create(0);
    logs_push_t p;
    roundtrip(&b, e, N, arena, &p);
    expect_entries(&p, e, N);
    arena_destroy(arena);
    /* A second batch on the same storage allocates nothing. */
    agent_loki_reset(&b);
    arena = arena_create(0);
    e[N - 1].line_len = 100;
    roundtrip(&b, e, N, arena, &p); /* grows nothing: the first batch was larger */
    agent_loki_reset(&b);
    size_t before = mem_used();
    buf_t lab = { 0 };
    buf_reserve(&lab, 64);
    size_t base = mem_used();
    for (int i = 0; i < N; i++) {
        label_t ls[1] = { { STR_LIT("stream"), str_cstr(e[i].labels[1]) } };
        agent_loki_labels(ls, 1, &lab);
        agent_loki_add(&b, str_from((const char *)lab.data, lab.len), e[i].ts, line_of(&e[i]), NULL, 0);
    }
    assert_int_equal(mem_used(), base);
    (void)before;
    buf_fini(&lab);
    arena_destroy(arena);
    agent_loki_fini(&b);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_label_string),
        cmocka_unit_test(test_many_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for agent/agent_cri.c: valid CRI lines (time forms, streams, P/F,
 * extra tags, empty and binary content) parsed whole; every prefix of
 * each parsed byte by byte (a prefix fails or parses to the same time,
 * stream and tag with a shorter content, never reading past it); named
 * hostile lines fail with their error position. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/agent_int.h"

typedef struct good {
    const char *line;
    size_t len; /* 0: strlen */
    int64_t ts;
    int stream;
    bool partial;
    const char *content;
    size_t clen; /* 0: strlen(content) */
} good_t;

static const char bin_line[] = "2024-01-02T03:04:05Z stdout F a\0b\xff\x7f";

static const good_t goods[] = {
    { "2024-01-02T03:04:05.123456789Z stdout F hello world", 0, 1704164645123456789, AGENT_CRI_STDOUT, false,
      "hello world", 0 },
    { "2024-01-02T03:04:05.1Z stderr P part", 0, 1704164645100000000, AGENT_CRI_STDERR, true, "part", 0 },
    { "2024-01-02T03:04:05Z stdout F", 0, 1704164645000000000, AGENT_CRI_STDOUT, false, "", 0 },
    { "2024-01-02T03:04:05Z stdout F ", 0, 1704164645000000000, AGENT_CRI_STDOUT, false, "", 0 },
    { "2024-01-02T03:04:05Z stdout F  two  spaces ", 0, 1704164645000000000, AGENT_CRI_STDOUT, false, " two  spaces ",
      0 },
    { "2024-01-02T04:04:05+01:00 stdout F x", 0, 1704164645000000000, AGENT_CRI_STDOUT, false, "x", 0 },
    { "2024-01-02T02:34:05.5-00:30 stdout F x", 0, 1704164645500000000, AGENT_CRI_STDOUT, false, "x", 0 },
    { "2024-01-02T03:04:05Z stdout P:extra:tags content", 0, 1704164645000000000, AGENT_CRI_STDOUT, true, "content",
      0 },
    { "1970-01-01T00:00:00Z stdout F epoch", 0, 0, AGENT_CRI_STDOUT, false, "epoch", 0 },
    { "1969-12-31T23:59:59.5Z stdout F before", 0, -500000000, AGENT_CRI_STDOUT, false, "before", 0 },
    { "2024-02-29T00:00:00Z stdout F leap", 0, 1709164800000000000, AGENT_CRI_STDOUT, false, "leap", 0 },
    { bin_line, sizeof(bin_line) - 1, 1704164645000000000, AGENT_CRI_STDOUT, false, "a\0b\xff\x7f", 5 },
    { "2024-01-02T03:04:05Z stdout F tab\there\r", 0, 1704164645000000000, AGENT_CRI_STDOUT, false, "tab\there\r", 0 },
};

static size_t glen(const good_t *g)
{
    return g->len ? g->len : strlen(g->line);
}

static void test_good_whole(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
        const good_t *g = &goods[i];
        agent_cri_line_t c;
        size_t pos = 99;
        if (agent_cri_parse(g->line, glen(g), &c, &pos) != 0) {
            fail_msg("case %zu: failed at %zu", i, pos);
        }
        assert_int_equal(c.ts_ns, g->ts);
        assert_int_equal(c.stream, g->stream);
        assert_int_equal(c.partial, g->partial);
        size_t cl = g->clen ? g->clen : strlen(g->content);
        assert_int_equal(c.content.len, cl);
        assert_memory_equal(c.content.p, g->content, cl);
    }
}

/* Every prefix, in a heap copy of exactly its length (ASan catches an
 * overread): fails, or agrees with the whole line on all but content. */
static void test_good_prefixes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
        const good_t *g = &goods[i];
        size_t len = glen(g), parsed = 0;
        for (size_t n = 0; n <= len; n++) {
            char *p = malloc(n ? n : 1);
            memcpy(p, g->line, n);
            agent_cri_line_t c;
            size_t pos = 0;
            int rc = agent_cri_parse(p, n, &c, &pos);
            if (rc == 0) {
                parsed++;
                assert_int_equal(c.ts_ns, g->ts);
                assert_int_equal(c.stream, g->stream);
                assert_true(c.content.p + c.content.len == p + n);
            } else {
                assert_int_equal(rc, -1);
                assert_true(pos <= n);
            }
            free(p);
        }
        assert_true(parsed >= 1); /* at least the whole line */
    }
}

typedef struct bad {
    const char *name;
    const char *line;
    size_t pos;
} bad_t;

static const bad_t bads[] = {
    { "empty", "", 0 },
    { "only time", "2024-01-02T03:04:05Z", 20 },
    { "leading space", " 2024-01-02T03:04:05Z stdout F x", 0 },
    { "no stream", "2024-01-02T03:04:05Z ", 21 },
    { "stream stdin", "2024-01-02T03:04:05Z stdin F x", 21 },
    { "stream case", "2024-01-02T03:04:05Z STDOUT F x", 21 },
    { "no tag", "2024-01-02T03:04:05Z stdout", 27 },
    { "empty tag", "2024-01-02T03:04:05Z stdout  x", 28 },
    { "tag X", "2024-01-02T03:04:05Z stdout X x", 28 },
    { "tag FF", "2024-01-02T03:04:05Z stdout FF x", 28 },
    { "tag lower", "2024-01-02T03:04:05Z stdout f x", 28 },
    { "month 13", "2024-13-02T03:04:05Z stdout F x", 0 },
    { "feb 30", "2024-02-30T03:04:05Z stdout F x", 0 },
    { "feb 29 non-leap", "2023-02-29T03:04:05Z stdout F x", 0 },
    { "hour 24", "2024-01-02T24:04:05Z stdout F x", 0 },
    { "second 60", "2024-01-02T03:04:60Z stdout F x", 0 },
    { "no zone", "2024-01-02T03:04:05 stdout F x", 0 },
    { "empty fraction", "2024-01-02T03:04:05.Z stdout F x", 0 },
    { "ten digits", "2024-01-02T03:04:05.1234567890Z stdout F x", 0 },
    { "bad offset", "2024-01-02T03:04:05+0100 stdout F x", 0 },
    { "offset hour 24", "2024-01-02T03:04:05+24:00 stdout F x", 0 },
    { "date only", "2024-01-02 stdout F x", 0 },
    { "NUL in time", "2024-01-02T03:04\0005Z stdout F x", 0 },
    { "DEL in time", "2024-01-02T03:04:0\x7fZ stdout F x", 0 },
    { "overlong time", "2024-01-02T03:04:05.123456789+01:00:00 stdout F x", 38 },
    { "sign in year", "+024-01-02T03:04:05Z stdout F x", 0 },
};

static void test_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        const bad_t *b = &bads[i];
        size_t len = strlen(b->line);
        if (strcmp(b->name, "NUL in time") == 0) {
            len = 31;
        }
        char *p = malloc(len ? len : 1);
        memcpy(p, b->line, len);
        agent_cri_line_t c;
        size_t pos = 12345;
        int rc = agent_cri_parse(p, len, &c, &pos);
        if (rc != -1 || pos != b->pos) {
            fail_msg("%s: rc %d pos %zu, want -1 at %zu", b->name, rc, pos, b->pos);
        }
        free(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_whole),
        cmocka_unit_test(test_good_prefixes),
        cmocka_unit_test(test_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

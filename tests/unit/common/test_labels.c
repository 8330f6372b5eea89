/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for common/labels.c: normalisation, validation (every status, with
 * hostile names and values: NUL, invalid and overlong UTF-8, surrogates,
 * huge names), canonical encoding round trips and truncations, hash
 * equality with hash_bytes, and Go-compatible formatting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/hash.h"
#include "common/labels.h"
#include "common/mem.h"

#define L(n, v)                                                                                                        \
    {                                                                                                                  \
        STR_LIT(n), STR_LIT(v)                                                                                         \
    }
#define MAXL 8

typedef struct lcase {
    const char *name;
    label_t ls[MAXL];
    size_t n;
    labels_limits_t lim;
    labels_status_t want;
    const char *err;
} lcase_t;

static void test_normalize(void **state)
{
    (void)state;
    label_t ls[] = { L("job", "a"), L("__name__", "up"), L("empty", ""), L("a", "1"), L("job", "b"), L("b", "") };
    size_t n = labels_normalize(ls, sizeof(ls) / sizeof(ls[0]));
    assert_int_equal(n, 4);
    const char *want[][2] = { { "__name__", "up" }, { "a", "1" }, { "job", "a" }, { "job", "b" } };
    for (size_t i = 0; i < n; i++) {
        assert_true(str_eq_cstr(ls[i].name, want[i][0]));
        assert_true(str_eq_cstr(ls[i].value, want[i][1]));
    }
    /* Stability keeps the duplicates in input order; validation then rejects. */
    char err[256];
    assert_int_equal(labels_validate(ls, n, NULL, err, sizeof(err)), LABELS_DUP_NAME);
    assert_string_equal(err, "duplicate label name \"job\"");
    assert_int_equal(labels_normalize(NULL, 0), 0);
    label_t only_empty[] = { L("a", ""), L("b", "") };
    assert_int_equal(labels_normalize(only_empty, 2), 0);
    /* Byte order: uppercase sorts before lowercase, prefix first. */
    label_t order[] = { L("ab", "1"), L("a", "1"), L("B", "1"), L("_", "1") };
    assert_int_equal(labels_normalize(order, 4), 4);
    assert_true(str_eq_cstr(order[0].name, "B"));
    assert_true(str_eq_cstr(order[1].name, "_"));
    assert_true(str_eq_cstr(order[2].name, "a"));
    assert_true(str_eq_cstr(order[3].name, "ab"));
}

static void test_validate_table(void **state)
{
    (void)state;
    static const labels_limits_t lim_std = { .max_name_len = 256, .max_value_len = 16384, .max_labels = 4 };
    static const labels_limits_t lim_utf8 = { .utf8_names = true };
    const lcase_t cases[] = {
        { "ok", { L("__name__", "up"), L("job", "x") }, 2, lim_std, LABELS_OK, "" },
        { "ok colon metric", { L("__name__", "a:b_c1") }, 1, lim_std, LABELS_OK, "" },
        { "ok NUL in value", { L("__name__", "up"), { STR_LIT("v"), { "a\0b", 3 } } }, 2, lim_std, LABELS_OK, "" },
        { "ok utf8 value",
          { L("__name__", "up"), L("city", "Z\xc3\xbcrich \xf0\x9f\x98\x80") },
          2,
          lim_std,
          LABELS_OK,
          "" },
        { "no name", { L("job", "x") }, 1, lim_std, LABELS_NO_NAME, "series has no __name__ label" },
        { "empty set", { { { 0 } } }, 0, lim_std, LABELS_NO_NAME, "series has no __name__ label" },
        { "dup",
          { L("__name__", "up"), L("job", "a"), L("job", "b") },
          3,
          lim_std,
          LABELS_DUP_NAME,
          "duplicate label name \"job\"" },
        { "dup unsorted",
          { L("job", "a"), L("__name__", "up"), L("job", "b") },
          3,
          lim_std,
          LABELS_DUP_NAME,
          "duplicate label name \"job\"" },
        { "dup __name__",
          { L("__name__", "a"), L("__name__", "b") },
          2,
          lim_std,
          LABELS_DUP_NAME,
          "duplicate label name \"__name__\"" },
        { "bad name dash",
          { L("__name__", "up"), L("a-b", "x") },
          2,
          lim_std,
          LABELS_BAD_NAME,
          "invalid label name \"a-b\"" },
        { "bad name colon",
          { L("__name__", "up"), L("a:b", "x") },
          2,
          lim_std,
          LABELS_BAD_NAME,
          "invalid label name \"a:b\"" },
        { "bad name digit",
          { L("0a", "x"), L("__name__", "up") },
          2,
          lim_std,
          LABELS_BAD_NAME,
          "invalid label name \"0a\"" },
        { "bad name empty",
          { L("", "x"), L("__name__", "up") },
          2,
          lim_std,
          LABELS_BAD_NAME,
          "invalid label name \"\"" },
        { "bad name NUL",
          { { { "a\0b", 3 }, STR_LIT("x") }, L("__name__", "up") },
          2,
          lim_std,
          LABELS_BAD_NAME,
          "invalid label name \"a\\x00b\"" },
        { "bad name dot legacy",
          { L("__name__", "up"), L("http.method", "GET") },
          2,
          lim_std,
          LABELS_BAD_NAME,
          "invalid label name \"http.method\"" },
        { "bad metric digit", { L("__name__", "1up") }, 1, lim_std, LABELS_BAD_NAME, "invalid metric name \"1up\"" },
        { "bad metric dot", { L("__name__", "a.b") }, 1, lim_std, LABELS_BAD_NAME, "invalid metric name \"a.b\"" },
        { "bad value utf8",
          { L("__name__", "up"), L("path", "\xff") },
          2,
          lim_std,
          LABELS_BAD_UTF8,
          "label value of \"path\" is not valid UTF-8" },
        { "overlong utf8",
          { L("__name__", "up"), L("path", "\xc0\xaf") },
          2,
          lim_std,
          LABELS_BAD_UTF8,
          "label value of \"path\" is not valid UTF-8" },
        { "surrogate",
          { L("__name__", "up"), L("path", "\xed\xa0\x80") },
          2,
          lim_std,
          LABELS_BAD_UTF8,
          "label value of \"path\" is not valid UTF-8" },
        { "truncated utf8",
          { L("__name__", "up"), L("path", "ab\xe2\x82") },
          2,
          lim_std,
          LABELS_BAD_UTF8,
          "label value of \"path\" is not valid UTF-8" },
        { "too many",
          { L("__name__", "up"), L("a", "1"), L("b", "1"), L("c", "1"), L("d", "1") },
          5,
          lim_std,
          LABELS_TOO_MANY,
          "series has 5 labels, exceeds limit 4" },
        { "utf8 names ok",
          { L("__name__", "my.metric"), L("http.method", "GET"), L("\xc3\xa9t\xc3\xa9", "x") },
          3,
          lim_utf8,
          LABELS_OK,
          "" },
        { "utf8 names bad",
          { L("__name__", "up"), L("\xff", "x") },
          2,
          lim_utf8,
          LABELS_BAD_UTF8,
          "label name \"\\xff\" is not valid UTF-8" },
        { "utf8 names empty",
          { L("", "x"), L("__name__", "up") },
          2,
          lim_utf8,
          LABELS_BAD_NAME,
          "invalid label name \"\"" },
        { "utf8 metric bad utf8",
          { L("__name__", "\xfe") },
          1,
          lim_utf8,
          LABELS_BAD_UTF8,
          "label value of \"__name__\" is not valid UTF-8" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const lcase_t *c = &cases[i];
        char err[256] = "unset";
        labels_status_t st = labels_validate(c->ls, c->n, &c->lim, err, sizeof(err));
        if (st != c->want || strcmp(err, c->err) != 0) {
            fail_msg("case %s: status %s err \"%s\", want %s \"%s\"", c->name, labels_status_name(st), err,
                     labels_status_name(c->want), c->err);
        }
    }
}

static void test_validate_limits(void **state)
{
    (void)state;
    labels_limits_t lim = { .max_name_len = 256, .max_value_len = 16384 };
    char *big = mem_alloc(20000);
    memset(big, 'a', 20000);
    char err[512];

    label_t v[] = { L("__name__", "up"), { STR_LIT("x"), { big, 20000 } } };
    assert_int_equal(labels_validate(v, 2, &lim, err, sizeof(err)), LABELS_TOO_LONG);
    assert_string_equal(err, "label \"x\" value length 20000 exceeds limit 16384");
    v[1].value.len = 16384;
    assert_int_equal(labels_validate(v, 2, &lim, err, sizeof(err)), LABELS_OK);

    /* A huge name: the message quotes only a prefix. */
    label_t nm[] = { L("__name__", "up"), { { big, 300 }, STR_LIT("x") } };
    assert_int_equal(labels_validate(nm, 2, &lim, err, sizeof(err)), LABELS_TOO_LONG);
    assert_non_null(strstr(err, "\"... length 300 exceeds limit 256"));
    assert_true(strncmp(err, "label name \"aaaa", 16) == 0);
    assert_true(strlen(err) < 200);

    /* Unlimited: 20000-byte names are fine under legacy rules. */
    lim = (labels_limits_t){ 0 };
    assert_int_equal(labels_validate(nm, 2, &lim, err, sizeof(err)), LABELS_OK);
    nm[1].name.len = 20000;
    assert_int_equal(labels_validate(nm, 2, &lim, err, sizeof(err)), LABELS_OK);

    /* A tiny error buffer truncates but stays terminated; NULL err is fine. */
    label_t bad[] = { L("job", "x") };
    char tiny[8];
    assert_int_equal(labels_validate(bad, 1, NULL, tiny, sizeof(tiny)), LABELS_NO_NAME);
    assert_string_equal(tiny, "series ");
    assert_int_equal(labels_validate(bad, 1, NULL, NULL, 0), LABELS_NO_NAME);
    mem_free(big);
}

static void test_status_names(void **state)
{
    (void)state;
    const struct {
        labels_status_t st;
        const char *name;
    } t[] = {
        { LABELS_OK, "ok" },
        { LABELS_NO_NAME, "no_name" },
        { LABELS_DUP_NAME, "dup_name" },
        { LABELS_BAD_NAME, "bad_name" },
        { LABELS_BAD_UTF8, "bad_utf8" },
        { LABELS_TOO_LONG, "too_long" },
        { LABELS_TOO_MANY, "too_many" },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        assert_string_equal(labels_status_name(t[i].st), t[i].name);
    }
    assert_string_equal(labels_status_name((labels_status_t)99), "unknown");
}

static void test_name_rules(void **state)
{
    (void)state;
    const struct {
        const char *s;
        bool metric, label;
    } t[] = {
        { "up", true, true },    { "_", true, true },          { "a1", true, true },    { ":", true, false },
        { "a:b", true, false },  { "1a", false, false },       { "", false, false },    { "a-b", false, false },
        { "a.b", false, false }, { "\xc3\xa9", false, false }, { "A_Z09", true, true }, { "a b", false, false },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        str_t s = str_cstr(t[i].s);
        if (labels_valid_metric_name(s) != t[i].metric || labels_valid_label_name(s) != t[i].label) {
            fail_msg("name \"%s\"", t[i].s);
        }
    }
    assert_false(labels_valid_label_name(str_from("a\0b", 3)));
}

static void test_encode_decode(void **state)
{
    (void)state;
    label_t ls[] = { L("__name__", "up"), L("job", "node"), { STR_LIT("nul"), { "a\0b", 3 } } };
    buf_t b = { 0 };
    labels_encode(ls, 3, &b);
    static const uint8_t want[] = { 8,   '_', '_', 'n', 'a', 'm', 'e', '_', '_', 2,   'u', 'p', 3, 'j', 'o',
                                    'b', 4,   'n', 'o', 'd', 'e', 3,   'n', 'u', 'l', 3,   'a', 0, 'b' };
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    assert_true(labels_hash(ls, 3) == hash_bytes(b.data, b.len));

    label_t out[4];
    assert_int_equal(labels_decode(b.data, b.len, out, 4), 3);
    for (size_t i = 0; i < 3; i++) {
        assert_true(str_eq(out[i].name, ls[i].name));
        assert_true(str_eq(out[i].value, ls[i].value));
    }
    /* More labels than max. */
    assert_int_equal(labels_decode(b.data, b.len, out, 2), -1);
    assert_int_equal(labels_decode(b.data, 0, out, 0), 0);

    /* Every truncation: either -1 or exactly the labels wholly inside. */
    size_t bounds[] = { 0, 12, 21, 29 };
    for (size_t cut = 0; cut < b.len; cut++) {
        long got = labels_decode(b.data, cut, out, 4);
        long expect = -1;
        for (size_t k = 0; k < 4; k++) {
            if (bounds[k] == cut) {
                expect = (long)k;
            }
        }
        if (got != expect) {
            fail_msg("cut %zu: got %ld want %ld", cut, got, expect);
        }
    }
    buf_fini(&b);

    /* Hostile: length past the end, overlong varint, 2^63 length. */
    const struct {
        const char *name;
        uint8_t p[16];
        size_t len;
    } bad[] = {
        { "len past end", { 5, 'a' }, 2 },
        { "value missing", { 1, 'a' }, 2 },
        { "value len past end", { 1, 'a', 9, 'b' }, 4 },
        { "11-byte varint", { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 }, 11 },
        { "huge len", { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 'a' }, 10 },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (labels_decode(bad[i].p, bad[i].len, out, 4) != -1) {
            fail_msg("bad case %s decoded", bad[i].name);
        }
    }
}

static void test_hash(void **state)
{
    (void)state;
    /* {a="bc"} and {ab="c"} must differ: lengths are part of the bytes. */
    label_t x[] = { L("a", "bc") };
    label_t y[] = { L("ab", "c") };
    assert_true(labels_hash(x, 1) != labels_hash(y, 1));
    assert_true(labels_hash(NULL, 0) == hash_bytes("", 0));

    /* Large set: the heap path must agree with hash_bytes too. */
    char *big = mem_alloc(5000);
    memset(big, 'v', 5000);
    label_t ls[] = { L("__name__", "up"), { STR_LIT("big"), { big, 5000 } }, L("z", "1") };
    buf_t b = { 0 };
    labels_encode(ls, 3, &b);
    assert_true(labels_hash(ls, 3) == hash_bytes(b.data, b.len));
    /* Appending encodes after existing content. */
    buf_t b2 = { 0 };
    buf_puts(&b2, "xy");
    labels_encode(ls, 3, &b2);
    assert_int_equal(b2.len, b.len + 2);
    assert_memory_equal(b2.data + 2, b.data, b.len);
    buf_fini(&b);
    buf_fini(&b2);
    mem_free(big);
}

static void test_get(void **state)
{
    (void)state;
    label_t ls[] = { L("__name__", "up"), L("job", "x") };
    assert_true(str_eq_cstr(labels_get(ls, 2, "job"), "x"));
    assert_true(str_eq_cstr(labels_get(ls, 2, "__name__"), "up"));
    assert_int_equal(labels_get(ls, 2, "jo").len, 0);
    assert_int_equal(labels_get(ls, 2, "jobs").len, 0);
    assert_int_equal(labels_get(NULL, 0, "job").len, 0);
}

static void test_format(void **state)
{
    (void)state;
    const struct {
        const char *name;
        label_t ls[3];
        size_t n;
        const char *want;
    } t[] = {
        { "empty", { { { 0 } } }, 0, "{}" },
        { "basic", { L("__name__", "up"), L("job", "x") }, 2, "{__name__=\"up\", job=\"x\"}" },
        { "quote backslash", { L("a", "say \"hi\" \\o/") }, 1, "{a=\"say \\\"hi\\\" \\\\o/\"}" },
        { "controls", { L("a", "\n\t\r\a\b\f\v\x01\x7f") }, 1, "{a=\"\\n\\t\\r\\a\\b\\f\\v\\x01\\x7f\"}" },
        { "nul", { { STR_LIT("a"), { "x\0y", 3 } } }, 1, "{a=\"x\\x00y\"}" },
        { "invalid utf8", { L("a", "\xff\xc3(") }, 1, "{a=\"\\xff\\xc3(\"}" },
        { "printable unicode",
          { L("a", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80") },
          1,
          "{a=\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}" },
        { "nbsp c1 bom", { L("a", "\xc2\xa0\xc2\x85\xef\xbb\xbf") }, 1, "{a=\"\\u00a0\\u0085\\ufeff\"}" },
        { "private use", { L("a", "\xee\x80\x80\xf3\xb0\x80\x80") }, 1, "{a=\"\\ue000\\U000f0000\"}" },
        { "utf8 name", { L("http.method", "GET"), L("ok", "1") }, 2, "{\"http.method\"=\"GET\", ok=\"1\"}" },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        buf_t b = { 0 };
        buf_puts(&b, ">");
        labels_format(t[i].ls, t[i].n, &b);
        if (strcmp((const char *)b.data + 1, t[i].want) != 0) {
            fail_msg("case %s: got %s want %s", t[i].name, (const char *)b.data + 1, t[i].want);
        }
        buf_fini(&b);
    }
}

/* labels_sort orders by name, stably, and keeps empty values. */
static void test_sort_keeps_empty(void **state)
{
    (void)state;
    label_t ls[4] = { { STR_LIT("b"), STR_LIT("1") },
                      { STR_LIT("a"), STR_LIT("") },
                      { STR_LIT("b"), STR_LIT("2") },
                      { STR_LIT("A"), STR_LIT("x") } };
    labels_sort(ls, 4);
    assert_true(str_eq_cstr(ls[0].name, "A"));
    assert_true(str_eq_cstr(ls[1].name, "a") && ls[1].value.len == 0);
    assert_true(str_eq_cstr(ls[2].value, "1"));
    assert_true(str_eq_cstr(ls[3].value, "2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sort_keeps_empty),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_validate_table),
        cmocka_unit_test(test_validate_limits),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_name_rules),
        cmocka_unit_test(test_encode_decode),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests_name("labels", tests, NULL, NULL);
}

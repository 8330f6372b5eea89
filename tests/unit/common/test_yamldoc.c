/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for common/yamldoc.c: loading (good text, syntax errors with
 * libyaml's problem and 0-based marks, hostile bytes: NUL, DEL, invalid
 * UTF-8, every truncation of a valid document), node positions, the core
 * null and bool spellings (quoted, tagged, near misses), mapping and
 * sequence access, key search (repeats, non-scalar keys, keys holding
 * NUL), and Go's unmarshal-error lines. Table-driven.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/yamldoc.h"

#define T(lit) (lit), (sizeof(lit) - 1)

/* The value node of the first pair of the loaded mapping doc. */
static const yaml_node_t *first_value(yaml_document_t *doc)
{
    const yaml_node_t *root = yaml_document_get_root_node(doc);
    assert_non_null(root);
    assert_int_equal(root->type, YAML_MAPPING_NODE);
    const yaml_node_t *k = NULL, *v = NULL;
    yamldoc_map_at(doc, root, 0, &k, &v);
    return v;
}

typedef struct load_case {
    const char *name;
    const char *text;
    size_t len;
    yamldoc_status_t want;
    yaml_error_type_t type;
    const char *problem; /* NULL: not checked */
    size_t line, col;    /* problem_mark, 0-based */
} load_case_t;

static void test_load(void **state)
{
    (void)state;
    const load_case_t cases[] = {
        { "mapping", T("a: 1\nb: [x, y]\n"), YAMLDOC_OK, YAML_NO_ERROR, NULL, 0, 0 },
        { "empty", T(""), YAMLDOC_OK, YAML_NO_ERROR, NULL, 0, 0 },
        { "comment only", T("# nothing\n"), YAMLDOC_OK, YAML_NO_ERROR, NULL, 0, 0 },
        { "second document ignored", T("a: 1\n---\n: : :\n"), YAMLDOC_OK, YAML_NO_ERROR, NULL, 0, 0 },
        { "unclosed flow", T("a: [1, 2\n"), YAMLDOC_ELOAD, YAML_PARSER_ERROR, "did not find expected ',' or ']'", 1,
          0 },
        { "unclosed quote", T("a: \"x\n"), YAMLDOC_ELOAD, YAML_SCANNER_ERROR, "found unexpected end of stream", 1, 0 },
        { "tab indent", T("a:\n\t- x\n"), YAMLDOC_ELOAD, YAML_SCANNER_ERROR,
          "found character that cannot start any token", 1, 0 },
        { "undefined alias", T("a: *nope\n"), YAMLDOC_ELOAD, YAML_COMPOSER_ERROR, "found undefined alias", 0, 3 },
        { "bad indentation", T("a: 1\n b: 2\n"), YAMLDOC_ELOAD, YAML_SCANNER_ERROR,
          "mapping values are not allowed in this context", 1, 2 },
        { "NUL byte", T("a: b\0c\n"), YAMLDOC_ELOAD, YAML_READER_ERROR, "control characters are not allowed", 0, 0 },
        { "DEL byte", T("a: \x7f\n"), YAMLDOC_ELOAD, YAML_READER_ERROR, "control characters are not allowed", 0, 0 },
        { "invalid UTF-8", T("a: \xff\n"), YAMLDOC_ELOAD, YAML_READER_ERROR, "invalid leading UTF-8 octet", 0, 0 },
        { "truncated UTF-8", T("a: \xc3"), YAMLDOC_ELOAD, YAML_READER_ERROR, "incomplete UTF-8 octet sequence", 0, 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const load_case_t *c = &cases[i];
        yaml_document_t doc;
        yamldoc_error_t e;
        memset(&e, 0xa5, sizeof(e));
        yamldoc_status_t st = yamldoc_load(c->text, c->len, &doc, &e);
        if (st != c->want || e.type != c->type) {
            fail_msg("%s: status %d type %d, want %d %d (%s)", c->name, st, e.type, c->want, c->type,
                     e.problem ? e.problem : "-");
        }
        if (st == YAMLDOC_OK) {
            assert_null(e.problem);
            assert_null(e.context);
            yaml_document_delete(&doc);
            continue;
        }
        if (c->problem && (!e.problem || strcmp(e.problem, c->problem) != 0)) {
            fail_msg("%s: problem \"%s\", want \"%s\"", c->name, e.problem ? e.problem : "(null)", c->problem);
        }
        if (c->type != YAML_READER_ERROR && (e.problem_mark.line != c->line || e.problem_mark.column != c->col)) {
            fail_msg("%s: mark %zu:%zu, want %zu:%zu", c->name, e.problem_mark.line, e.problem_mark.column, c->line,
                     c->col);
        }
    }
}

/* NULL text with len 0 is the empty document. */
/* Nested anchors that expand to 10^9 nodes are refused at load; the same
 * aliases used a few times are fine; an alias inside its own anchor too
 * is refused (a cycle). */
static void test_load_aliases(void **state)
{
    (void)state;
    buf_t t = { 0 };
    buf_puts(&t, "n0: &n0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int i = 1; i < 9; i++) {
        buf_printf(&t, "n%d: &n%d [", i, i);
        for (int k = 0; k < 10; k++) {
            buf_printf(&t, "%s*n%d", k ? ", " : "", i - 1);
        }
        buf_puts(&t, "]\n");
    }
    yaml_document_t doc;
    yamldoc_error_t err;
    assert_int_equal(yamldoc_load((const char *)t.data, t.len, &doc, &err), YAMLDOC_ELOAD);
    assert_string_equal(err.problem, "document contains excessive aliasing");
    buf_fini(&t);
    const char *fine = "a: &a {k: v}\nb: [*a, *a, *a]\n";
    assert_int_equal(yamldoc_load(fine, strlen(fine), &doc, &err), YAMLDOC_OK);
    yaml_document_delete(&doc);
}

static void test_load_null_text(void **state)
{
    (void)state;
    yaml_document_t doc;
    yamldoc_error_t e;
    assert_int_equal(yamldoc_load(NULL, 0, &doc, &e), YAMLDOC_OK);
    assert_null(yaml_document_get_root_node(&doc));
    yaml_document_delete(&doc);
}

/* Every prefix of a valid document, and the document with each byte
 * replaced by NUL: a status, never a crash or a leak (ASan). */
static void test_load_truncations(void **state)
{
    (void)state;
    static const char text[] = "groups:\n  - name: \"g\\u00e9\"\n    rules: [{a: 'x'}, &r {b: *r}]\n    m: {k: ~}\n";
    size_t len = sizeof(text) - 1;
    size_t ok = 0;
    for (size_t n = 0; n <= len; n++) {
        yaml_document_t doc;
        yamldoc_error_t e;
        yamldoc_status_t st = yamldoc_load(text, n, &doc, &e);
        assert_true(st == YAMLDOC_OK || st == YAMLDOC_ELOAD);
        if (st == YAMLDOC_OK) {
            ok++;
            yaml_document_delete(&doc);
        } else {
            assert_non_null(e.problem);
            assert_true(e.problem_mark.index <= n);
        }
    }
    assert_true(ok > 0 && ok <= len + 1);
    char buf[sizeof(text)];
    for (size_t i = 0; i < len; i++) {
        memcpy(buf, text, sizeof(text));
        buf[i] = 0;
        yaml_document_t doc;
        yamldoc_error_t e;
        assert_int_equal(yamldoc_load(buf, len, &doc, &e), YAMLDOC_ELOAD);
        assert_int_equal(e.type, YAML_READER_ERROR);
    }
}

static void test_positions(void **state)
{
    (void)state;
    yaml_document_t doc;
    yamldoc_error_t e;
    assert_int_equal(yamldoc_load(T("a: 1\nlist:\n  - x\n  -   \"y\"\n"), &doc, &e), YAMLDOC_OK);
    const yaml_node_t *root = yaml_document_get_root_node(&doc);
    assert_int_equal(yamldoc_line(root), 1);
    assert_int_equal(yamldoc_col(root), 1);
    const yaml_node_t *k = NULL, *v = NULL;
    yamldoc_map_at(&doc, root, 0, &k, &v);
    assert_int_equal(yamldoc_line(v), 1);
    assert_int_equal(yamldoc_col(v), 4);
    yamldoc_map_at(&doc, root, 1, &k, &v);
    assert_int_equal(yamldoc_line(k), 2);
    assert_int_equal(yamldoc_col(k), 1);
    assert_int_equal(yamldoc_line(v), 3);
    assert_int_equal(yamldoc_col(v), 3);
    const yaml_node_t *y = yamldoc_seq_at(&doc, v, 1);
    assert_string_equal(yamldoc_str(y), "y");
    assert_int_equal(yamldoc_line(y), 4);
    assert_int_equal(yamldoc_col(y), 7);
    assert_int_equal(yamldoc_line(NULL), 0);
    assert_int_equal(yamldoc_col(NULL), 0);
    yaml_document_delete(&doc);
}

typedef struct scalar_case {
    const char *yaml; /* a document "v: <this>" */
    bool null;
    bool is_bool, want_bool;
} scalar_case_t;

static void test_plain_null_bool(void **state)
{
    (void)state;
    const scalar_case_t cases[] = {
        { "v: ~", true, false, false },
        { "v: null", true, false, false },
        { "v: Null", true, false, false },
        { "v: NULL", true, false, false },
        { "v:", true, false, false },
        { "v: !!str null", true, false, false }, /* the tag is not looked at */
        { "v: 'null'", false, false, false },
        { "v: \"~\"", false, false, false },
        { "v: \"\"", false, false, false },
        { "v: nUll", false, false, false },
        { "v: nulls", false, false, false },
        { "v: []", false, false, false },
        { "v: {}", false, false, false },
        { "v: true", false, true, true },
        { "v: True", false, true, true },
        { "v: TRUE", false, true, true },
        { "v: false", false, true, false },
        { "v: False", false, true, false },
        { "v: FALSE", false, true, false },
        { "v: tRUE", false, false, false },
        { "v: yes", false, false, false },
        { "v: on", false, false, false },
        { "v: 1", false, false, false },
        { "v: 'true'", false, false, false },
        { "v: \"false\"", false, false, false },
        { "v: |\n  true\n", false, false, false },
        { "v: [true]", false, false, false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const scalar_case_t *c = &cases[i];
        yaml_document_t doc;
        yamldoc_error_t e;
        assert_int_equal(yamldoc_load(c->yaml, strlen(c->yaml), &doc, &e), YAMLDOC_OK);
        const yaml_node_t *v = first_value(&doc);
        if (yamldoc_plain_null(v) != c->null) {
            fail_msg("%s: null %d, want %d", c->yaml, !c->null, c->null);
        }
        bool b = !c->want_bool; /* untouched unless a bool */
        bool sentinel = b;
        if (yamldoc_plain_bool(v, &b) != c->is_bool) {
            fail_msg("%s: bool %d, want %d", c->yaml, !c->is_bool, c->is_bool);
        }
        assert_int_equal(b, c->is_bool ? c->want_bool : sentinel);
        yaml_document_delete(&doc);
    }
    assert_false(yamldoc_plain_null(NULL));
    bool b = false;
    assert_false(yamldoc_plain_bool(NULL, &b));
}

static void test_map_seq(void **state)
{
    (void)state;
    yaml_document_t doc;
    yamldoc_error_t e;
    assert_int_equal(yamldoc_load(T("m: {a: 1, b: 2, c: 3}\ns: [x, [y], {z: 1}]\nk: v\nn: {}\ne: []\n"), &doc, &e),
                     YAMLDOC_OK);
    const yaml_node_t *root = yaml_document_get_root_node(&doc);
    assert_int_equal(yamldoc_map_len(root), 5);
    assert_int_equal(yamldoc_seq_len(root), 0);
    const yaml_node_t *k = NULL, *m = NULL, *s = NULL, *sc = NULL, *n = NULL, *em = NULL;
    yamldoc_map_at(&doc, root, 0, &k, &m);
    yamldoc_map_at(&doc, root, 1, &k, &s);
    yamldoc_map_at(&doc, root, 2, &k, &sc);
    yamldoc_map_at(&doc, root, 3, &k, &n);
    yamldoc_map_at(&doc, root, 4, &k, &em);
    assert_string_equal(yamldoc_str(k), "e");
    assert_int_equal(yamldoc_map_len(m), 3);
    assert_int_equal(yamldoc_seq_len(m), 0);
    assert_int_equal(yamldoc_seq_len(s), 3);
    assert_int_equal(yamldoc_map_len(s), 0);
    assert_int_equal(yamldoc_map_len(sc), 0);
    assert_int_equal(yamldoc_seq_len(sc), 0);
    assert_int_equal(yamldoc_map_len(n), 0);
    assert_int_equal(yamldoc_seq_len(em), 0);
    assert_int_equal(yamldoc_map_len(NULL), 0);
    assert_int_equal(yamldoc_seq_len(NULL), 0);
    const char *want[] = { "a", "1", "b", "2", "c", "3" };
    for (size_t i = 0; i < 3; i++) {
        const yaml_node_t *kk = NULL, *vv = NULL;
        yamldoc_map_at(&doc, m, i, &kk, &vv);
        assert_string_equal(yamldoc_str(kk), want[2 * i]);
        assert_string_equal(yamldoc_str(vv), want[2 * i + 1]);
    }
    assert_int_equal(yamldoc_seq_at(&doc, s, 0)->type, YAML_SCALAR_NODE);
    assert_int_equal(yamldoc_seq_at(&doc, s, 1)->type, YAML_SEQUENCE_NODE);
    assert_int_equal(yamldoc_seq_at(&doc, s, 2)->type, YAML_MAPPING_NODE);
    yaml_document_delete(&doc);
}

typedef struct find_case {
    size_t from;
    const char *key;
    long want;
} find_case_t;

static void test_find(void **state)
{
    (void)state;
    yaml_document_t doc;
    yamldoc_error_t e;
    /* pairs: a, b, [1] (not a scalar key), a, "a\0b" (a NUL inside), 'x' */
    assert_int_equal(yamldoc_load(T("a: 1\nb: 2\n? [1]\n: 3\na: 4\n\"a\\0b\": 5\n'x': 6\n"), &doc, &e), YAMLDOC_OK);
    const yaml_node_t *root = yaml_document_get_root_node(&doc);
    assert_int_equal(yamldoc_map_len(root), 6);
    const find_case_t cases[] = {
        { 0, "a", 0 }, { 1, "a", 3 }, { 4, "a", 4 },  { 5, "a", -1 },  { 0, "b", 1 },  { 2, "b", -1 },
        { 0, "x", 5 }, { 0, "", -1 }, { 0, "A", -1 }, { 0, "ab", -1 }, { 6, "a", -1 }, { 99, "a", -1 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long got = yamldoc_map_find(&doc, root, cases[i].from, cases[i].key);
        if (got != cases[i].want) {
            fail_msg("find(%zu, \"%s\") = %ld, want %ld", cases[i].from, cases[i].key, got, cases[i].want);
        }
    }
    const yaml_node_t *k = NULL, *v = NULL;
    yamldoc_map_at(&doc, root, 2, &k, &v);
    assert_false(yamldoc_key_is(k, "[1]"));
    assert_false(yamldoc_key_is(NULL, "a"));
    yamldoc_map_at(&doc, root, 4, &k, &v);
    assert_int_equal(k->data.scalar.length, 3);
    assert_true(yamldoc_key_is(k, "a"));                     /* C-string comparison, documented */
    assert_int_equal(yamldoc_map_find(&doc, v, 0, "a"), -1); /* a scalar */
    assert_int_equal(yamldoc_map_find(&doc, NULL, 0, "a"), -1);
    yaml_document_delete(&doc);
}

/* yamldoc_map_repeats agrees with yamldoc_map_find (C-string keys, the
 * non-scalar key its own), on a small map and on a large one with many
 * repeats, where find's answer is computed the quadratic way. */
static void test_repeats(void **state)
{
    (void)state;
    yaml_document_t doc;
    yamldoc_error_t e;
    assert_int_equal(yamldoc_load(T("a: 1\nb: 2\n? [1]\n: 3\na: 4\n\"a\\0b\": 5\n'x': 6\n"), &doc, &e), YAMLDOC_OK);
    const yaml_node_t *root = yaml_document_get_root_node(&doc);
    size_t first[6], next[6];
    yamldoc_map_repeats(&doc, root, first, next);
    const size_t want_first[6] = { 0, 1, 2, 0, 0, 5 }, want_next[6] = { 3, 6, 6, 4, 6, 6 };
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(first[i], want_first[i]);
        assert_int_equal(next[i], want_next[i]);
    }
    yamldoc_map_repeats(&doc, root, NULL, next); /* either array may be NULL */
    assert_int_equal(next[0], 3);
    yamldoc_map_repeats(&doc, NULL, NULL, NULL); /* no pairs: nothing written */
    yaml_document_delete(&doc);

    buf_t t = { 0 };
    const size_t n = 3000;
    for (size_t i = 0; i < n; i++) {
        buf_printf(&t, "k%zu: %zu\n", (i * 7919) % 1000, i);
    }
    assert_int_equal(yamldoc_load((const char *)t.data, t.len, &doc, &e), YAMLDOC_OK);
    root = yaml_document_get_root_node(&doc);
    size_t *f = calloc(n, sizeof(*f)), *x = calloc(n, sizeof(*x));
    yamldoc_map_repeats(&doc, root, f, x);
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *k = NULL, *v = NULL;
        yamldoc_map_at(&doc, root, i, &k, &v);
        long later = yamldoc_map_find(&doc, root, i + 1, yamldoc_str(k));
        assert_int_equal(f[i], (size_t)yamldoc_map_find(&doc, root, 0, yamldoc_str(k)));
        assert_int_equal(x[i], later < 0 ? n : (size_t)later);
    }
    free(f);
    free(x);
    yaml_document_delete(&doc);
    buf_fini(&t);
}

static void test_goerrs(void **state)
{
    (void)state;
    yaml_document_t doc;
    yamldoc_error_t e;
    assert_int_equal(yamldoc_load(T("a: {x: 1}\nb: abcdefghij\nc: abcdefghijk\nd: 'q'\n"), &doc, &e), YAMLDOC_OK);
    const yaml_node_t *root = yaml_document_get_root_node(&doc);
    const yaml_node_t *v[4];
    for (size_t i = 0; i < 4; i++) {
        const yaml_node_t *k = NULL;
        yamldoc_map_at(&doc, root, i, &k, &v[i]);
    }
    yamldoc_goerrs_t g;
    yamldoc_goerrs_init(&g);
    assert_int_equal(g.n, 0);
    yamldoc_goerrs_type(&g, v[0], "!!map", "string");
    yamldoc_goerrs_type(&g, v[1], "!!str", "int");
    yamldoc_goerrs_type(&g, v[2], "!!str", "int");
    yamldoc_goerrs_type(&g, v[3], "!!str", "[]T");
    yamldoc_goerrs_add(&g, "line %u: field %s not found in type %s", 9u, "zz", "main.T");
    assert_int_equal(g.n, 5);
    assert_string_equal((const char *)g.b.data, "line 1: cannot unmarshal !!map into string\n"
                                                "  line 2: cannot unmarshal !!str `abcdefghij` into int\n"
                                                "  line 3: cannot unmarshal !!str `abcdefg...` into int\n"
                                                "  line 4: cannot unmarshal !!str `q` into []T\n"
                                                "  line 9: field zz not found in type main.T");
    yamldoc_goerrs_reset(&g);
    assert_int_equal(g.n, 0);
    assert_int_equal(g.b.len, 0);
    yamldoc_goerrs_add(&g, "x");
    assert_string_equal((const char *)g.b.data, "x");
    yamldoc_goerrs_fini(&g);
    yamldoc_goerrs_fini(&g);    /* twice is fine */
    yamldoc_goerrs_t z = { 0 }; /* zeroed works as init */
    yamldoc_goerrs_add(&z, "a");
    yamldoc_goerrs_add(&z, "b");
    assert_string_equal((const char *)z.b.data, "a\n  b");
    yamldoc_goerrs_fini(&z);
    yaml_document_delete(&doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load),           cmocka_unit_test(test_load_aliases),
        cmocka_unit_test(test_load_null_text), cmocka_unit_test(test_load_truncations),
        cmocka_unit_test(test_positions),      cmocka_unit_test(test_plain_null_bool),
        cmocka_unit_test(test_map_seq),        cmocka_unit_test(test_find),
        cmocka_unit_test(test_goerrs),         cmocka_unit_test(test_repeats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_testlib: what the collector tests (tests/unit/agent/test_coll_*.c)
 * share, so that each test file holds only its cases.
 *
 * - A runner: one collector's state, sink and scratch, collected over a
 *   coll_paths_t into a reset sink (rolled back on failure, as the agent
 *   does); coll_test_run() is the one-shot form that renders the output
 *   with agent_expo_write, and with rounds > 1 also requires every
 *   collection on the same state to render the same text ("steady").
 * - Expectations: an rc with its reason, one table case's output, a golden
 *   expected.prom, every line of a partial output within the whole one,
 *   and a steady collection that allocates nothing through mem_*.
 * - Temporary trees: mkdtemp, files and links (parents made), removal.
 *
 * Every function fails the running cmocka test (fail_msg/assert_*) on a
 * broken expectation or a failed file operation, so callers only check
 * what they test. Built once as pharos_agent_testlib (tests/CMakeLists.txt).
 */
#ifndef PHAROS_TESTS_COLL_TESTLIB_H
#define PHAROS_TESTS_COLL_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/agent_int.h"

/* One collector on one state; embedded, _init/_fini. */
typedef struct coll_test_runner {
    const coll_def_t *def;
    void *state;   /* from def->init, or NULL */
    msink_t sink;  /* the last collection's samples */
    buf_t scratch; /* the collector's read buffer */
    char err[512]; /* the last collection's reason, "" on success */
} coll_test_runner_t;

/* Zero r and run def->init (when def has one); the init must succeed. */
void coll_test_runner_init(coll_test_runner_t *r, const coll_def_t *def);
/* Run def->fini on the state (when def has one) and free the rest. */
void coll_test_runner_fini(coll_test_runner_t *r);
/* Collect once over p at now_ms into the reset sink; returns collect's
 * rc. On failure the sink is rolled back (empty) and r->err says why. */
int coll_test_runner_collect(coll_test_runner_t *r, const coll_paths_t *p, int64_t now_ms);
/* Collect rounds (>= 1) times on r's state, stopping at the first failure;
 * each successful round must render the same text as the first. [out] out
 * (reset first): the last round's text, empty on failure. Returns the last
 * collect's rc. */
int coll_test_runner_rounds(coll_test_runner_t *r, const coll_paths_t *p, int64_t now_ms, unsigned rounds, buf_t *out);

/* coll_test_runner_rounds on fresh state for def: init, rounds, fini.
 * [out] out as there; [out] err (errlen > 0): the reason, "" on success. */
int coll_test_run(const coll_def_t *def, const coll_paths_t *p, int64_t now_ms, unsigned rounds, buf_t *out, char *err,
                  size_t errlen);

/* The roots of a tree at root: root/proc, root/sys, root itself and
 * root/run/udev/data. Returns &t->paths, valid while t is. */
typedef struct coll_test_tree_paths {
    char procfs[1024], sysfs[1024], udev[1024];
    coll_paths_t paths;
} coll_test_tree_paths_t;
const coll_paths_t *coll_test_tree_paths(coll_test_tree_paths_t *t, const char *root);

/* rc must be want_rc (else fails naming what, with err); when rc != 0 and
 * reason is not NULL, err must hold reason. */
void coll_test_expect_rc(const char *what, int rc, int want_rc, const char *err, const char *reason);
/* A fixture tree's expected outcome: rc, and on -1 a substring of the
 * reason (NULL: any). */
typedef struct coll_test_case {
    const char *name;
    int rc;
    const char *reason;
} coll_test_case_t;
/* Case i of a table: rc must be want_rc; on 0 out must hold the text want,
 * or be empty when want is NULL. */
void coll_test_expect_case(size_t i, int rc, int want_rc, const char *err, const buf_t *out, const char *want);
/* got must equal the file at path byte for byte, both passed through fix
 * first when it is not NULL (fix edits a copy of got). */
void coll_test_expect_golden(const buf_t *got, const char *path, void (*fix)(buf_t *b));
/* Every line of part (with its '\n') must occur in whole; failures name
 * what and n (the prefix length, say). */
void coll_test_expect_lines_in(const buf_t *part, const buf_t *whole, const char *what, size_t n);
/* A collection of text as a collector's input file: writes it, collects
 * once on fresh state; [out] out its rendering, [out] err its reason. */
typedef int (*coll_test_text_fn)(const char *text, size_t len, buf_t *out, char *err, size_t errlen);
/* Run run on the whole file <root><rel> (it must succeed) and on every
 * prefix of it (0 to all bytes): a prefix that does not end a line must fail with -1;
 * when lines_pass, one that does (or is empty) must succeed. Every line a
 * prefix yields must occur in the whole's output. Returns how many
 * prefixes succeeded. O(len) collections. */
size_t coll_test_prefixes(const char *root, const char *rel, coll_test_text_fn run, bool lines_pass);
/* Collect three times on one fresh state for def over p: all succeed, and
 * the third allocates nothing through mem_* (fails naming what). Returns
 * the third collection's sample count. */
size_t coll_test_expect_no_alloc(const coll_def_t *def, const coll_paths_t *p, int64_t now_ms, const char *what);

/* The text of b: its data, or "" when it has no storage. Borrowed. */
const char *coll_test_text(const buf_t *b);

/* Make /tmp/<name>.XXXXXX. [out] dir (n bytes). 0, or -1 (for setups). */
int coll_test_mkdtemp(char *dir, size_t n, const char *name);
/* Write len bytes of data to dir/rel, making rel's parent directories. */
void coll_test_put(const char *dir, const char *rel, const void *data, size_t len);
/* Make the directory dir/rel and its parents (existing ones are fine). */
void coll_test_mkdir(const char *dir, const char *rel);
/* Make dir/rel a symbolic link to target, making rel's parents. */
void coll_test_symlink(const char *dir, const char *target, const char *rel);
/* Remove dir/rel and everything below it (rel "" : dir itself); links are
 * removed, not followed. Absent is fine. */
void coll_test_rmtree(const char *dir, const char *rel);

#endif

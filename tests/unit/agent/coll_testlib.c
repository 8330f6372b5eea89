/* SPDX-License-Identifier: Apache-2.0 */
/* coll_testlib: the collector tests' shared runner, expectations and
 * temporary trees (see coll_testlib.h). Test code: every failure is a
 * cmocka failure of the running test, never a return code. */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cmocka.h>

#include "coll_testlib.h"
#include "common/mem.h"

void coll_test_runner_init(coll_test_runner_t *r, const coll_def_t *def)
{
    memset(r, 0, sizeof(*r));
    r->def = def;
    msink_init(&r->sink);
    buf_init(&r->scratch);
    if (def->init) {
        coll_opts_t o = coll_opts_default();
        assert_int_equal(def->init(&o, &r->state, r->err, sizeof(r->err)), 0);
    }
}

void coll_test_runner_fini(coll_test_runner_t *r)
{
    if (r->def->fini) {
        r->def->fini(r->state);
    }
    msink_fini(&r->sink);
    buf_fini(&r->scratch);
}

int coll_test_runner_collect(coll_test_runner_t *r, const coll_paths_t *p, int64_t now_ms)
{
    coll_ctx_t ctx = { .paths = p, .now_ms = now_ms, .scratch = &r->scratch, .state = r->state };
    msink_reset(&r->sink);
    r->err[0] = 0;
    msink_mark_t m = msink_mark(&r->sink);
    int rc = r->def->collect(&ctx, &r->sink, r->err, sizeof(r->err));
    if (rc != 0) {
        msink_rollback(&r->sink, m);
    }
    return rc;
}

int coll_test_runner_rounds(coll_test_runner_t *r, const coll_paths_t *p, int64_t now_ms, unsigned rounds, buf_t *out)
{
    assert_true(rounds >= 1);
    buf_t first;
    buf_init(&first);
    int rc = 0;
    for (unsigned i = 0; i < rounds && rc == 0; i++) {
        rc = coll_test_runner_collect(r, p, now_ms);
        buf_reset(out);
        if (rc != 0) {
            break;
        }
        agent_expo_write(&r->sink, out);
        if (i == 0) {
            buf_append(&first, out->data, out->len);
        } else if (out->len != first.len || memcmp(coll_test_text(out), coll_test_text(&first), first.len) != 0) {
            fail_msg("%s: collection %u on one state differs from the first\n--- first\n%s--- now\n%s", r->def->name,
                     i + 1, coll_test_text(&first), coll_test_text(out));
        }
    }
    buf_fini(&first);
    return rc;
}

int coll_test_run(const coll_def_t *def, const coll_paths_t *p, int64_t now_ms, unsigned rounds, buf_t *out, char *err,
                  size_t errlen)
{
    coll_test_runner_t r;
    coll_test_runner_init(&r, def);
    int rc = coll_test_runner_rounds(&r, p, now_ms, rounds, out);
    snprintf(err, errlen, "%s", r.err);
    coll_test_runner_fini(&r);
    return rc;
}

const coll_paths_t *coll_test_tree_paths(coll_test_tree_paths_t *t, const char *root)
{
    snprintf(t->procfs, sizeof(t->procfs), "%s/proc", root);
    snprintf(t->sysfs, sizeof(t->sysfs), "%s/sys", root);
    snprintf(t->udev, sizeof(t->udev), "%s/run/udev/data", root);
    t->paths = (coll_paths_t){ .procfs = t->procfs, .sysfs = t->sysfs, .rootfs = root, .udev_data = t->udev };
    return &t->paths;
}

void coll_test_expect_rc(const char *what, int rc, int want_rc, const char *err, const char *reason)
{
    if (rc != want_rc) {
        fail_msg("%s: rc %d, want %d (%s)", what, rc, want_rc, err);
    }
    if (rc != 0 && reason != NULL && strstr(err, reason) == NULL) {
        fail_msg("%s: reason \"%s\" lacks \"%s\"", what, err, reason);
    }
}

void coll_test_expect_case(size_t i, int rc, int want_rc, const char *err, const buf_t *out, const char *want)
{
    char what[64];
    snprintf(what, sizeof(what), "case %zu", i);
    coll_test_expect_rc(what, rc, want_rc, err, NULL);
    if (rc == 0 && want == NULL) {
        assert_int_equal(out->len, 0);
    } else if (rc == 0 && strstr(coll_test_text(out), want) == NULL) {
        fail_msg("case %zu: %s not in\n%s", i, want, coll_test_text(out));
    }
}

void coll_test_expect_golden(const buf_t *got, const char *path, void (*fix)(buf_t *b))
{
    buf_t want, have;
    buf_init(&want);
    buf_init(&have);
    int rc = coll_read_file(path, "", &want, 1 << 20);
    if (rc != 0) {
        fail_msg("%s: %s", path, strerror(-rc));
    }
    buf_append(&have, got->data, got->len);
    if (fix != NULL) {
        fix(&have);
        fix(&want);
    }
    if (have.len != want.len || memcmp(coll_test_text(&have), coll_test_text(&want), want.len) != 0) {
        fail_msg("output differs from %s\n--- got\n%s--- want\n%s", path, coll_test_text(&have), coll_test_text(&want));
    }
    buf_fini(&have);
    buf_fini(&want);
}

void coll_test_expect_lines_in(const buf_t *part, const buf_t *whole, const char *what, size_t n)
{
    buf_t line;
    buf_init(&line);
    for (const char *p = coll_test_text(part); *p;) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        buf_reset(&line);
        buf_append(&line, p, (size_t)(nl - p) + 1);
        if (strstr(coll_test_text(whole), coll_test_text(&line)) == NULL) {
            fail_msg("%s %zu: %s not in the whole output", what, n, coll_test_text(&line));
        }
        p = nl + 1;
    }
    buf_fini(&line);
}

size_t coll_test_prefixes(const char *root, const char *rel, coll_test_text_fn run, bool lines_pass)
{
    buf_t full, whole, out;
    buf_init(&full);
    buf_init(&whole);
    buf_init(&out);
    assert_int_equal(coll_read_file(root, rel, &full, 1 << 20), 0);
    char err[512];
    const char *text = coll_test_text(&full);
    assert_int_equal(run(text, full.len, &whole, err, sizeof(err)), 0);
    size_t ok = 0;
    for (size_t n = 0; n <= full.len; n++) {
        int rc = run(text, n, &out, err, sizeof(err));
        bool boundary = n == 0 || text[n - 1] == '\n';
        if (!boundary || lines_pass) {
            assert_int_equal(rc, boundary ? 0 : -1);
        }
        if (rc == 0) {
            ok++;
            coll_test_expect_lines_in(&out, &whole, "prefix", n);
        }
    }
    buf_fini(&full);
    buf_fini(&whole);
    buf_fini(&out);
    return ok;
}

size_t coll_test_expect_no_alloc(const coll_def_t *def, const coll_paths_t *p, int64_t now_ms, const char *what)
{
    coll_test_runner_t r;
    coll_test_runner_init(&r, def);
    assert_int_equal(coll_test_runner_collect(&r, p, now_ms), 0);
    assert_int_equal(coll_test_runner_collect(&r, p, now_ms), 0);
    size_t before = mem_used();
    assert_int_equal(coll_test_runner_collect(&r, p, now_ms), 0);
    size_t after = mem_used();
    if (after != before) {
        fail_msg("%s: a steady collection allocated %zd bytes", what, (ssize_t)(after - before));
    }
    size_t n = r.sink.nsamples;
    coll_test_runner_fini(&r);
    return n;
}

const char *coll_test_text(const buf_t *b)
{
    return b->cap > 0 ? (const char *)b->data : "";
}

int coll_test_mkdtemp(char *dir, size_t n, const char *name)
{
    snprintf(dir, n, "/tmp/%s.XXXXXX", name);
    return mkdtemp(dir) != NULL ? 0 : -1;
}

/* dir + "/" + rel (rel's leading '/' dropped; "" is dir) into path. */
static void join(char *path, size_t n, const char *dir, const char *rel)
{
    while (*rel == '/') {
        rel++;
    }
    int len = *rel ? snprintf(path, n, "%s/%s", dir, rel) : snprintf(path, n, "%s", dir);
    assert_true(len > 0 && (size_t)len < n);
}

/* Make the directories of path from after dir's length to the last '/'. */
static void make_parents(char *path, size_t dirlen)
{
    for (char *p = path + dirlen + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = 0;
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            fail_msg("mkdir %s: %s", path, strerror(errno));
        }
        *p = '/';
    }
}

void coll_test_put(const char *dir, const char *rel, const void *data, size_t len)
{
    char path[1024];
    join(path, sizeof(path), dir, rel);
    make_parents(path, strlen(dir));
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        fail_msg("open %s: %s", path, strerror(errno));
    }
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

void coll_test_mkdir(const char *dir, const char *rel)
{
    char path[1024];
    join(path, sizeof(path), dir, rel);
    size_t len = strlen(path);
    assert_true(len + 1 < sizeof(path));
    path[len] = '/'; /* so that make_parents makes path itself too */
    path[len + 1] = 0;
    make_parents(path, strlen(dir));
}

void coll_test_symlink(const char *dir, const char *target, const char *rel)
{
    char path[1024];
    join(path, sizeof(path), dir, rel);
    make_parents(path, strlen(dir));
    if (symlink(target, path) != 0) {
        fail_msg("symlink %s: %s", path, strerror(errno));
    }
}

static int remove_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path);
}

void coll_test_rmtree(const char *dir, const char *rel)
{
    char path[1024];
    join(path, sizeof(path), dir, rel);
    nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

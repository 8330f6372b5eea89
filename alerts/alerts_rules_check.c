/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_rules_check: `promtool check rules` of Prometheus 2.42 on top of
 * alerts_rules_parse: its stdout/stderr text and exit status, the
 * duplicate-rule lint, and the two places where our building blocks word
 * things differently from 2.42 (PromQL parse errors, template parsing).
 *
 * promtool prints "Checking F" and, per file, either "  SUCCESS: N rules
 * found" (stdout) or "  FAILED:" and one error per line (stderr), then a
 * blank line (stdout). Lint findings print like errors but only fail the
 * run with --lint-fatal. Paths are checked up front, as kingpin's
 * ExistingFiles does, and a bad one stops the run with a usage error.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alerts/alerts.h"
#include "alerts/alerts_int.h"

/* Prometheus' load-time template check (rulefmt's testTemplateParsing):
 * the text parsed with the four definitions prepended, as the template
 * engine's alerts_tmpl_check does; Go's error text, or NULL. */
const char *alerts_rules_template_check(const char *tname, const char *text, arena_t *a)
{
    assert(tname && text && a);
    buf_t err = { 0 };
    const char *msg = NULL;
    if (alerts_tmpl_check(tname, text, strlen(text), &err) != 0) {
        msg = arena_strndup(a, err.data ? (const char *)err.data : "template: parse error", err.data ? err.len : 21);
    }
    buf_fini(&err);
    return msg;
}

/* Our PromQL parser words errors as Prometheus 3 does; 2.42 differs in
 * these, which are rewritten here (and listed in rules_check.sh):
 *  - "in offset, expected number or duration" was "in offset, expected
 *    duration";
 *  - regex errors: ours name the PCRE2 problem and the pattern as written,
 *    Go's regexp/syntax names its own and shows the anchored pattern
 *    ("^(?:...)$"). Only an unbalanced "(" is mapped; other regex errors
 *    keep our wording.
 * Returns msg itself or a rewritten copy in a. */
const char *alerts_rules_promql_msg(const char *msg, arena_t *a)
{
    static const char off_new[] = "in offset, expected number or duration";
    const char *p = strstr(msg, off_new);
    if (p) {
        size_t n = strlen(msg) + 1;
        char *r = arena_alloc(a, n);
        snprintf(r, n, "%.*sin offset, expected duration%s", (int)(p - msg), msg, p + sizeof(off_new) - 1);
        return r;
    }
    static const char paren[] = "error parsing regexp: missing closing parenthesis at offset ";
    p = strstr(msg, paren);
    if (p) {
        const char *q = strstr(p, ": `");
        size_t plen = q ? strlen(q + 3) : 0;
        if (q && plen > 0 && q[3 + plen - 1] == '`') {
            size_t n = strlen(msg) + 32;
            char *r = arena_alloc(a, n);
            snprintf(r, n, "%.*serror parsing regexp: missing closing ): `^(?:%.*s)$`", (int)(p - msg), msg,
                     (int)(plen - 1), q + 3);
            return r;
        }
    }
    return msg;
}

typedef struct dup_rule {
    const char *metric;
    alerts_rules_kv_t *labels; /* sorted by name */
    size_t nlabels;
} dup_rule_t;

static int kv_name_cmp(const void *x, const void *y)
{
    const alerts_rules_kv_t *a = x;
    const alerts_rules_kv_t *b = y;
    return strcmp(a->name, b->name);
}

/* promtool's compare(): metric, then labels.Compare. */
static int dup_cmp(const void *x, const void *y)
{
    const dup_rule_t *a = x;
    const dup_rule_t *b = y;
    int c = strcmp(a->metric, b->metric);
    if (c) {
        return c;
    }
    size_t n = a->nlabels < b->nlabels ? a->nlabels : b->nlabels;
    for (size_t i = 0; i < n; i++) {
        c = strcmp(a->labels[i].name, b->labels[i].name);
        if (c) {
            return c;
        }
        c = strcmp(a->labels[i].value, b->labels[i].value);
        if (c) {
            return c;
        }
    }
    return (a->nlabels > b->nlabels) - (a->nlabels < b->nlabels);
}

size_t alerts_rules_lint_duplicates(const alerts_rules_file_t *f, buf_t *msg)
{
    assert(f && msg);
    if (f->nrules < 2) {
        return 0;
    }
    arena_t *a = arena_create(4096);
    dup_rule_t *v = arena_calloc(a, f->nrules, sizeof(*v));
    size_t n = 0;
    for (size_t j = 0; j < f->ngroups; j++) {
        for (size_t i = 0; i < f->groups[j].nrules; i++) {
            const alerts_rule_t *r = &f->groups[j].rules[i];
            dup_rule_t *d = &v[n++];
            d->metric = *r->alert ? r->alert : r->record;
            d->nlabels = r->nlabels;
            d->labels = arena_calloc(a, r->nlabels ? r->nlabels : 1, sizeof(*d->labels));
            if (r->nlabels) {
                memcpy(d->labels, r->labels, r->nlabels * sizeof(*d->labels));
                qsort(d->labels, r->nlabels, sizeof(*d->labels), kv_name_cmp);
            }
        }
    }
    qsort(v, n, sizeof(*v), dup_cmp);
    const dup_rule_t **dups = arena_calloc(a, n, sizeof(*dups));
    size_t ndups = 0;
    for (size_t i = 1; i < n; i++) {
        if (dup_cmp(&v[i - 1], &v[i]) == 0 && (ndups == 0 || dup_cmp(&v[i - 1], dups[ndups - 1]) != 0)) {
            dups[ndups++] = &v[i];
        }
    }
    if (ndups) {
        buf_printf(msg, "%zu duplicate rule(s) found.\n", ndups);
        for (size_t i = 0; i < ndups; i++) {
            buf_printf(msg, "Metric: %s\nLabel(s):\n", dups[i]->metric);
            for (size_t k = 0; k < dups[i]->nlabels; k++) {
                buf_printf(msg, "\t%s: %s\n", dups[i]->labels[k].name, dups[i]->labels[k].value);
            }
        }
        buf_puts(msg, "Might cause inconsistency while recording expressions");
    }
    arena_destroy(a);
    return ndups;
}

/* Writes b to f and empties b; flushed, so stdout and stderr interleave as
 * promtool's unbuffered writes do. */
static void emit(FILE *f, buf_t *b)
{
    if (b->len) {
        fwrite(b->data, 1, b->len, f);
    }
    fflush(f);
    buf_reset(b);
}

int alerts_rules_check(const char *const *paths, size_t n, const alerts_rules_check_opts_t *opts, FILE *out, FILE *err)
{
    assert(paths && opts && out && err);
    const char *prog = opts->prog ? opts->prog : "promtool";
    buf_t o = { 0 };
    buf_t e = { 0 };
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0) {
            buf_printf(&e, "%s: error: path '%s' does not exist, try --help\n", prog, paths[i]);
            emit(err, &e);
            buf_fini(&e);
            return 1;
        }
        if (S_ISDIR(st.st_mode)) {
            const char *base = paths[i];
            size_t len = strlen(paths[i]);
            while (len > 1 && paths[i][len - 1] == '/') {
                len--;
            }
            for (size_t k = 0; k + 1 < len; k++) {
                if (paths[i][k] == '/') {
                    base = paths[i] + k + 1;
                }
            }
            buf_printf(&e, "%s: error: '%.*s' is a directory, try --help\n", prog,
                       (int)(len - (size_t)(base - paths[i])), base);
            emit(err, &e);
            buf_fini(&e);
            return 1;
        }
    }
    bool failed = false;
    bool has_errors = false;
    arena_t *a = arena_create(1 << 16);
    for (size_t i = 0; i < n; i++) {
        buf_printf(&o, "Checking %s\n", paths[i]);
        emit(out, &o);
        alerts_rules_file_t *f = NULL;
        alerts_rules_error_t *errs = NULL;
        size_t nerrs = 0;
        if (alerts_rules_load(paths[i], a, &f, &errs, &nerrs) != 0) {
            buf_puts(&e, "  FAILED:\n");
            for (size_t k = 0; k < nerrs; k++) {
                buf_printf(&e, "%s: %s\n", paths[i], errs[k].text);
            }
            emit(err, &e);
            failed = has_errors = true;
        } else {
            buf_t lint = { 0 };
            if (opts->lint_duplicates && alerts_rules_lint_duplicates(f, &lint) > 0) {
                buf_printf(&e, "  FAILED:\nlint error %.*s\n", (int)lint.len, (const char *)lint.data);
                emit(err, &e);
                failed = true;
            } else {
                buf_printf(&o, "  SUCCESS: %zu rules found\n", f->nrules);
            }
            buf_fini(&lint);
        }
        buf_putc(&o, '\n');
        emit(out, &o);
        arena_reset(a);
    }
    arena_destroy(a);
    buf_fini(&o);
    buf_fini(&e);
    return failed && (has_errors || opts->lint_fatal) ? 1 : 0;
}

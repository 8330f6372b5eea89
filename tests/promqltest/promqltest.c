/* SPDX-License-Identifier: Apache-2.0 */
/*
 * promqltest: runs Prometheus' own PromQL test scripts against Pharos'
 * tsdb and evaluator and reports, per file, how many evals passed.
 *
 *   promqltest [--skips FILE] [--verbose] [--file-summary] [--strict-messages] [--no-fork]
 *              [--no-at-rerun] PATH...
 *
 * Core idea: parse a script (promqltest_parse.c), then execute its commands
 * in order against a real tsdb in a temp dir (huge out-of-order window, no
 * background thread, no checkpoint; clear = close, remove, reopen). Each
 * eval runs in a forked child (promqltest_exec.c) that evaluates and
 * compares as upstream's harness does (promqltest_cmp.c; range-mode and @
 * re-runs included), so an evaluator crash or hang costs one eval. This
 * file owns the store, the skip rules, the counting and the report.
 *
 * Skips live in one table (skip_rules) with a reason each: whole files for
 * experimental features we do not implement, and evals that need native
 * histograms. skips.txt adds single evals ("file:line reason"). A skipped
 * eval is never counted as run.
 *
 * Not failures unless asked: error-message mismatches (failed as expected,
 * other msg:/regex: text; --strict-messages counts them) and annotation
 * mismatches (expect warn/info/no_warn/no_info). Malformed script lines and
 * rejected loads are failures. Exit status: 0 when nothing failed, 1 when
 * something did, 2 on usage or I/O errors.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/labels.h"
#include "common/log.h"
#include "common/mem.h"
#include "promqltest.h"
#include "promqltest_int.h"
#include "query/promql.h"
#include "testsupport.h"
#include "tsdb/tsdb.h"

#define TOP_KINDS 30

/* ---- counting ---- */

typedef struct tally {
    char **keys; /* mem-owned */
    size_t *counts;
    size_t n, cap;
} tally_t;

static void tally_add(tally_t *t, const char *key, size_t k)
{
    for (size_t i = 0; i < t->n; i++) {
        if (strcmp(t->keys[i], key) == 0) {
            t->counts[i] += k;
            return;
        }
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->keys = mem_realloc(t->keys, t->cap * sizeof(*t->keys));
        t->counts = mem_realloc(t->counts, t->cap * sizeof(*t->counts));
    }
    t->keys[t->n] = mem_strdup(key);
    t->counts[t->n++] = k;
}

static void tally_merge(tally_t *dst, const tally_t *src)
{
    for (size_t i = 0; i < src->n; i++) {
        tally_add(dst, src->keys[i], src->counts[i]);
    }
}

static void tally_fini(tally_t *t)
{
    for (size_t i = 0; i < t->n; i++) {
        mem_free(t->keys[i]);
    }
    mem_free(t->keys);
    mem_free(t->counts);
    memset(t, 0, sizeof(*t));
}

/* Indices of t sorted by count, descending (caller frees). */
static size_t *tally_order(const tally_t *t)
{
    size_t *ix = mem_calloc(t->n + 1, sizeof(*ix));
    for (size_t i = 0; i < t->n; i++) {
        ix[i] = i;
    }
    for (size_t i = 1; i < t->n; i++) { /* insertion sort: a few hundred keys at most */
        size_t v = ix[i], j = i;
        while (j > 0 && t->counts[ix[j - 1]] < t->counts[v]) {
            ix[j] = ix[j - 1];
            j--;
        }
        ix[j] = v;
    }
    return ix;
}

typedef struct stats {
    size_t evals, run, passed, failed, skipped;
    size_t script_errors; /* malformed lines, rejected loads, store errors */
    size_t msg_mismatches, anno_mismatches, anno_checked;
    tally_t skips; /* reason -> count */
} stats_t;

static void stats_merge(stats_t *dst, const stats_t *src)
{
    dst->evals += src->evals;
    dst->run += src->run;
    dst->passed += src->passed;
    dst->failed += src->failed;
    dst->skipped += src->skipped;
    dst->script_errors += src->script_errors;
    dst->msg_mismatches += src->msg_mismatches;
    dst->anno_mismatches += src->anno_mismatches;
    dst->anno_checked += src->anno_checked;
    tally_merge(&dst->skips, &src->skips);
}

/* ---- the runner ---- */

typedef struct skip_entry {
    char *file; /* basename */
    unsigned line;
    char *reason;
    bool used;
} skip_entry_t;

typedef struct runner {
    bool verbose, file_summary, strict_messages, no_fork, no_at_rerun;
    int errfd; /* a forked eval's stderr, for crash reports */
    skip_entry_t *skips;
    size_t nskips;
    /* the file being run */
    const char *file; /* basename */
    tsdb_t *db;
    char dir[256];
    arena_t *eval_arena;
    /* clear scope: names loaded as native histograms */
    str_t *hist_names;
    size_t nhist, hist_cap;
    str_t *nhcb_names;
    size_t nnhcb, nhcb_cap;
    bool hist_loaded;
    stats_t fs, total;
    tally_t kinds; /* failure kind -> count, all files */
} runner_t;

static bool names_has(const str_t *names, size_t n, str_t w)
{
    for (size_t i = 0; i < n; i++) {
        if (str_eq(names[i], w)) {
            return true;
        }
    }
    return false;
}

static void names_add(str_t **names, size_t *n, size_t *cap, str_t w)
{
    if (w.len == 0 || names_has(*names, *n, w)) {
        return;
    }
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        *names = mem_realloc(*names, *cap * sizeof(**names));
    }
    (*names)[(*n)++] = w;
}

/* Does q name one of names (as an identifier outside string literals)? */
static bool query_names_any(const char *q, size_t len, const str_t *names, size_t n)
{
    for (size_t i = 0; i < len;) {
        char c = q[i];
        if (c == '"' || c == '\'' || c == '`') {
            size_t j = i + 1;
            while (j < len && q[j] != c) {
                j += (q[j] == '\\' && c != '`') ? 2 : 1;
            }
            i = j + 1;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':') {
            size_t j = i;
            while (j < len && ((q[j] >= 'a' && q[j] <= 'z') || (q[j] >= 'A' && q[j] <= 'Z') ||
                               (q[j] >= '0' && q[j] <= '9') || q[j] == '_' || q[j] == ':')) {
                j++;
            }
            if (names_has(names, n, str_from(q + i, j - i))) {
                return true;
            }
            i = j;
        } else {
            i++;
        }
    }
    return false;
}

/* ---- skip rules: one table, a reason each ---- */

static bool skip_expected_histogram(const runner_t *r, const promqltest_eval_t *ev)
{
    (void)r;
    return ev->histogram;
}

static bool skip_histogram_series(const runner_t *r, const promqltest_eval_t *ev)
{
    return query_names_any(ev->query, ev->query_len, r->hist_names, r->nhist);
}

static bool skip_nhcb_series(const runner_t *r, const promqltest_eval_t *ev)
{
    return query_names_any(ev->query, ev->query_len, r->nhcb_names, r->nnhcb);
}

static bool skip_name_matcher(const runner_t *r, const promqltest_eval_t *ev)
{
    return r->hist_loaded && strstr(ev->query, "__name__") != NULL;
}

typedef struct skip_rule {
    const char *file;                                             /* whole file, by basename */
    bool (*eval)(const runner_t *r, const promqltest_eval_t *ev); /* or one eval */
    const char *reason;
} skip_rule_t;

static const skip_rule_t skip_rules[] = {
    { .file = "duration_expression.test", .reason = "experimental duration expressions ([5m+1m]) not implemented" },
    { .file = "extended_vectors.test", .reason = "experimental anchored/smoothed range modifiers not implemented" },
    { .file = "fill-modifier.test", .reason = "experimental fill() binary-operator modifiers not implemented" },
    { .file = "info.test", .reason = "experimental info() not implemented" },
    { .file = "type_and_unit.test", .reason = "__type__/__unit__ labels (a feature flag) not implemented" },
    { .file = "start_timestamps.test", .reason = "start timestamps (@st) not stored" },
    { .eval = skip_expected_histogram, .reason = "native histograms: expected output holds {{...}}" },
    { .eval = skip_histogram_series, .reason = "native histograms: query names a series loaded with {{...}}" },
    { .eval = skip_nhcb_series, .reason = "native histograms: query names an NHCB series (load_with_nhcb)" },
    { .eval = skip_name_matcher, .reason = "native histograms: __name__ matcher while histograms are loaded" },
};
#define NSKIP_RULES (sizeof(skip_rules) / sizeof(skip_rules[0]))

static const char *file_skip_reason(const char *base)
{
    for (size_t i = 0; i < NSKIP_RULES; i++) {
        if (skip_rules[i].file && strcmp(skip_rules[i].file, base) == 0) {
            return skip_rules[i].reason;
        }
    }
    return NULL;
}

/* The reason to skip ev, or NULL; [out] *detail: the skips.txt entry's
 * own reason (else the same as the result). */
static const char *eval_skip_reason(runner_t *r, const promqltest_eval_t *ev, const char **detail)
{
    for (size_t i = 0; i < r->nskips; i++) {
        skip_entry_t *s = &r->skips[i];
        if (s->line == ev->line && strcmp(s->file, r->file) == 0) {
            s->used = true;
            *detail = s->reason;
            return "skips.txt";
        }
    }
    for (size_t i = 0; i < NSKIP_RULES; i++) {
        if (skip_rules[i].eval && skip_rules[i].eval(r, ev)) {
            *detail = skip_rules[i].reason;
            return skip_rules[i].reason;
        }
    }
    return NULL;
}

/* ---- reporting ---- */

static void print_query(const char *q, size_t len)
{
    printf("%.*s%s", (int)(len > 200 ? 200 : len), q, len > 200 ? "..." : "");
}

/* "@ rerun, range mode: " and the like, before a failure kind. */
static void mode_prefix(const promqltest_outcome_t *o, bool with_time, char *out, size_t len)
{
    char at[48] = "";
    if (o->at_rerun) {
        snprintf(at, sizeof(at), with_time ? "@ rerun t=%" PRId64 : "@ rerun", o->at_time);
    }
    snprintf(out, len, "%s%s%s%s", at, o->at_rerun && o->range_mode ? ", " : "", o->range_mode ? "range mode" : "",
             o->at_rerun || o->range_mode ? ": " : "");
}

static void count_kind(runner_t *r, const char *prefix, const char *kind, const char *detail)
{
    buf_t key;
    buf_init(&key);
    buf_printf(&key, "%s%s | %s", prefix, kind, detail);
    tally_add(&r->kinds, (const char *)key.data, 1);
    buf_fini(&key);
}

static void script_error(runner_t *r, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void script_error(runner_t *r, unsigned line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->fs.script_errors++;
    if (!r->file_summary) {
        printf("%s:%u: %s\n", r->file, line, msg);
    }
    char norm[160];
    promqltest_exec_normalize(msg, norm, sizeof(norm));
    count_kind(r, "", "script or load error", norm);
}

/* ---- the store ---- */

static int db_open(runner_t *r, char *err, size_t errlen)
{
    if (ts_tempdir("pharos-promqltest", r->dir, sizeof(r->dir)) != 0) {
        snprintf(err, errlen, "mkdtemp: %s", strerror(errno));
        r->dir[0] = '\0';
        return -1;
    }
    tsdb_opts_t o = {
        .dir = r->dir,
        .ooo_window_ms = TSDB_MAX_TIME,
        .future_ms = TSDB_MAX_TIME / 2,
        .background = false,
        .no_checkpoint = true,
    };
    return tsdb_open(&o, &r->db, err, errlen);
}

static void db_close(runner_t *r)
{
    tsdb_close(r->db);
    r->db = NULL;
    if (r->dir[0]) {
        ts_rmrf(r->dir);
        r->dir[0] = '\0';
    }
}

static void scope_reset(runner_t *r)
{
    r->nhist = 0;
    r->nnhcb = 0;
    r->hist_loaded = false;
}

/* The NHCB base name of a classic-histogram series name, or "". */
static str_t nhcb_base(str_t name)
{
    static const char *const suffixes[] = { "_bucket", "_count", "_sum" };
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(suffixes[i]);
        if (name.len > n && memcmp(name.p + name.len - n, suffixes[i], n) == 0) {
            return str_from(name.p, name.len - n);
        }
    }
    return str_from("", 0);
}

/* Series i is replaced by a later line of the same load (upstream keeps a map). */
static bool shadowed(const promqltest_load_t *ld, size_t i, buf_t *ka, buf_t *kb)
{
    buf_reset(ka);
    labels_encode(ld->series[i].labels, ld->series[i].nlabels, ka);
    for (size_t j = i + 1; j < ld->nseries; j++) {
        buf_reset(kb);
        labels_encode(ld->series[j].labels, ld->series[j].nlabels, kb);
        if (ka->len == kb->len && memcmp(ka->data, kb->data, ka->len) == 0) {
            return true;
        }
    }
    return false;
}

static void run_load(runner_t *r, const promqltest_cmd_t *c)
{
    const promqltest_load_t *ld = &c->u.load;
    for (size_t i = 0; i < ld->nseries; i++) {
        const promqltest_series_t *s = &ld->series[i];
        str_t name = labels_get(s->labels, s->nlabels, "__name__");
        if (s->histogram) {
            names_add(&r->hist_names, &r->nhist, &r->hist_cap, name);
            r->hist_loaded = true;
        }
        str_t base = ld->nhcb ? nhcb_base(name) : str_from("", 0);
        if (base.len > 0) {
            names_add(&r->nhcb_names, &r->nnhcb, &r->nhcb_cap, base);
            r->hist_loaded = true;
        }
    }
    tsdb_input_t *in = mem_calloc(ld->nseries + 1, sizeof(*in));
    size_t nin = 0;
    buf_t ka, kb;
    buf_init(&ka);
    buf_init(&kb);
    labels_limits_t lim = { .utf8_names = true };
    for (size_t i = 0; i < ld->nseries; i++) {
        const promqltest_series_t *s = &ld->series[i];
        if (s->histogram || shadowed(ld, i, &ka, &kb)) {
            continue;
        }
        char err[256];
        if (labels_validate(s->labels, s->nlabels, &lim, err, sizeof(err)) != LABELS_OK) {
            script_error(r, s->line, "load: invalid series: %s", err);
            continue;
        }
        tsdb_sample_t *smp = mem_calloc(s->npts + 1, sizeof(*smp));
        size_t n = 0;
        for (size_t k = 0; k < s->npts; k++) {
            if (ld->interval_ms > 0 && (int64_t)k > TSDB_MAX_TIME / ld->interval_ms) {
                break;
            }
            if (!s->pts[k].omitted) {
                smp[n++] = (tsdb_sample_t){ .t = (int64_t)k * ld->interval_ms, .v = s->pts[k].v };
            }
        }
        if (n == 0) {
            mem_free(smp);
            continue;
        }
        in[nin++] = (tsdb_input_t){ .labels = s->labels, .nlabels = s->nlabels, .samples = smp, .nsamples = n };
    }
    tsdb_append_result_t res = { 0 };
    int rc = nin > 0 ? tsdb_append(r->db, in, nin, &res) : 0;
    uint64_t rejected = 0;
    for (int k = 0; k < TSDB_REJ_COUNT; k++) {
        rejected += res.rejected[k];
    }
    if (rc != 0) {
        script_error(r, c->line, "load: tsdb_append failed (%d)", rc);
    } else if (rejected > 0) {
        script_error(r, c->line, "load: %" PRIu64 " samples rejected: %s", rejected, res.first_error);
    }
    for (size_t i = 0; i < nin; i++) {
        mem_free((void *)in[i].samples);
    }
    mem_free(in);
    buf_fini(&ka);
    buf_fini(&kb);
}

/* ---- evals ---- */

static void run_eval(runner_t *r, const promqltest_eval_t *ev)
{
    r->fs.evals++;
    const char *detail = NULL;
    const char *skip = eval_skip_reason(r, ev, &detail);
    if (skip) {
        r->fs.skipped++;
        tally_add(&r->fs.skips, skip, 1);
        if (r->verbose) {
            printf("%s:%u: SKIP (%s) ", r->file, ev->line, detail);
            print_query(ev->query, ev->query_len);
            printf("\n");
        }
        return;
    }
    r->fs.run++;
    promqltest_outcome_t o;
    promqltest_outcome_init(&o);
    promqltest_exec_opts_t xo = { .isolate = !r->no_fork, .errfd = r->errfd, .at_rerun = !r->no_at_rerun };
    promqltest_exec_eval(r->db, ev, r->eval_arena, &xo, &o);
    if (o.anno_checked) {
        r->fs.anno_checked++;
    }
    if (o.anno.len > 0) {
        r->fs.anno_mismatches++;
        if (!r->file_summary) {
            printf("%s:%u: annotation mismatch: ", r->file, ev->line);
            print_query(ev->query, ev->query_len);
            printf("\n%s", (const char *)o.anno.data);
        }
    }
    if (o.verdict == PROMQLTEST_MSG_MISMATCH) {
        r->fs.msg_mismatches++;
        if (!r->file_summary) {
            printf("%s:%u: error-message mismatch: ", r->file, ev->line);
            print_query(ev->query, ev->query_len);
            printf("\n%s", (const char *)o.why.data);
        }
        o.verdict = r->strict_messages ? PROMQLTEST_FAIL : PROMQLTEST_PASS;
    }
    if (o.verdict == PROMQLTEST_PASS) {
        r->fs.passed++;
        if (r->verbose) {
            printf("%s:%u: PASS ", r->file, ev->line);
            print_query(ev->query, ev->query_len);
            printf("\n");
        }
    } else {
        r->fs.failed++;
        char prefix[96];
        mode_prefix(&o, false, prefix, sizeof(prefix));
        count_kind(r, prefix, o.kind, o.detail);
        if (!r->file_summary) {
            mode_prefix(&o, true, prefix, sizeof(prefix));
            printf("%s:%u: FAIL [%s%s] ", r->file, ev->line, prefix, o.kind);
            print_query(ev->query, ev->query_len);
            printf("\n%s", o.why.len ? (const char *)o.why.data : "");
            buf_t w;
            buf_init(&w);
            promqltest_cmp_format_expected(ev, r->verbose ? 8 : 3, &w);
            printf("    want: %s\n", (const char *)w.data);
            buf_fini(&w);
            if (o.got.len > 0) {
                printf("    got:  %s\n", (const char *)o.got.data);
            }
        }
    }
    promqltest_outcome_fini(&o);
}

/* ---- files ---- */

static int read_file(const char *path, buf_t *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return -1;
    }
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        buf_append(out, chunk, n);
    }
    int rc = ferror(f) ? -1 : 0;
    fclose(f);
    return rc;
}

static void print_stats(const char *name, const stats_t *s)
{
    printf("%s: passed %zu / run %zu (skipped %zu", name, s->passed, s->run, s->skipped);
    size_t *ix = tally_order(&s->skips);
    for (size_t i = 0; i < s->skips.n; i++) {
        printf("%s%s %zu", i == 0 ? ": " : ", ", s->skips.keys[ix[i]], s->skips.counts[ix[i]]);
    }
    mem_free(ix);
    printf(")");
    if (s->failed || s->script_errors) {
        printf(", failed %zu", s->failed);
    }
    if (s->script_errors) {
        printf(", script/load errors %zu", s->script_errors);
    }
    if (s->msg_mismatches) {
        printf(", error-message mismatches %zu", s->msg_mismatches);
    }
    if (s->anno_checked) {
        printf(", annotation mismatches %zu of %zu checked", s->anno_mismatches, s->anno_checked);
    }
    printf("\n");
}

static void run_commands(runner_t *r, const promqltest_script_t *sc)
{
    char err[512];
    if (db_open(r, err, sizeof(err)) != 0) {
        script_error(r, 1, "cannot open the store: %s", err);
        db_close(r);
        return;
    }
    scope_reset(r);
    for (size_t i = 0; i < sc->ncmds; i++) {
        const promqltest_cmd_t *c = &sc->cmds[i];
        switch (c->kind) {
        case PROMQLTEST_CMD_CLEAR:
            db_close(r);
            scope_reset(r);
            if (db_open(r, err, sizeof(err)) != 0) {
                script_error(r, c->line, "clear: cannot reopen the store: %s", err);
                db_close(r);
                return;
            }
            break;
        case PROMQLTEST_CMD_LOAD:
            run_load(r, c);
            break;
        case PROMQLTEST_CMD_EVAL:
            run_eval(r, &c->u.eval);
            break;
        }
    }
    db_close(r);
}

static int run_file(runner_t *r, const char *path)
{
    buf_t text;
    buf_init(&text);
    if (read_file(path, &text) != 0) {
        fprintf(stderr, "promqltest: cannot read %s: %s\n", path, strerror(errno));
        buf_fini(&text);
        return -1;
    }
    const char *slash = strrchr(path, '/');
    r->file = slash ? slash + 1 : path;
    memset(&r->fs, 0, sizeof(r->fs));
    arena_t *a = arena_create(1 << 16);
    promqltest_script_t sc;
    promqltest_parse(text.len ? (const char *)text.data : "", text.len, a, &sc);
    const char *why = file_skip_reason(r->file);
    if (why) {
        for (size_t i = 0; i < sc.ncmds; i++) {
            r->fs.evals += sc.cmds[i].kind == PROMQLTEST_CMD_EVAL;
        }
        r->fs.skipped = r->fs.evals;
        tally_add(&r->fs.skips, why, r->fs.evals);
    } else {
        for (size_t i = 0; i < sc.ndiags; i++) {
            script_error(r, sc.diags[i].line, "malformed script: %s", sc.diags[i].msg);
        }
        run_commands(r, &sc);
        for (size_t i = 0; i < r->nskips; i++) {
            if (strcmp(r->skips[i].file, r->file) == 0 && !r->skips[i].used) {
                printf("%s:%u: note: skips.txt entry matches no eval\n", r->file, r->skips[i].line);
            }
        }
    }
    print_stats(r->file, &r->fs);
    stats_merge(&r->total, &r->fs);
    tally_fini(&r->fs.skips);
    arena_destroy(a);
    buf_fini(&text);
    return 0;
}

static int cmp_names(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Every *.test file of dir, sorted by name. */
static int run_dir(runner_t *r, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".test") == 0) {
            if (n == cap) {
                cap = cap ? cap * 2 : 32;
                names = mem_realloc(names, cap * sizeof(*names));
            }
            names[n++] = mem_strdup(e->d_name);
        }
    }
    closedir(d);
    if (n > 0) {
        qsort(names, n, sizeof(*names), cmp_names);
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        buf_t p;
        buf_init(&p);
        buf_printf(&p, "%s/%s", dir, names[i]);
        rc |= run_file(r, (const char *)p.data);
        buf_fini(&p);
        mem_free(names[i]);
    }
    mem_free(names);
    return rc;
}

/* skips.txt: "file:line reason" lines; '#' comments and blank lines. */
static int load_skips(runner_t *r, const char *path)
{
    buf_t text;
    buf_init(&text);
    if (read_file(path, &text) != 0) {
        fprintf(stderr, "promqltest: cannot read %s: %s\n", path, strerror(errno));
        buf_fini(&text);
        return -1;
    }
    int rc = 0;
    size_t cap = 0;
    char *s = text.len ? (char *)text.data : "";
    unsigned lineno = 0;
    for (char *save = NULL, *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        lineno++;
        while (*l == ' ' || *l == '\t') {
            l++;
        }
        size_t len = strlen(l);
        while (len > 0 && (l[len - 1] == ' ' || l[len - 1] == '\t' || l[len - 1] == '\r')) {
            l[--len] = '\0';
        }
        if (len == 0 || l[0] == '#') {
            continue;
        }
        char *sp = strpbrk(l, " \t");
        char *colon = memrchr(l, ':', sp ? (size_t)(sp - l) : len);
        char *end = NULL;
        unsigned long line = colon ? strtoul(colon + 1, &end, 10) : 0;
        char *reason = sp;
        while (reason && (*reason == ' ' || *reason == '\t')) {
            reason++;
        }
        if (!colon || line == 0 || end != (sp ? sp : l + len) || !reason || !*reason) {
            fprintf(stderr, "%s:%u: want \"file:line reason\" (a skip needs a reason)\n", path, lineno);
            rc = -1;
            continue;
        }
        if (r->nskips == cap) {
            cap = cap ? cap * 2 : 16;
            r->skips = mem_realloc(r->skips, cap * sizeof(*r->skips));
        }
        r->skips[r->nskips++] = (skip_entry_t){ .file = mem_strndup(l, (size_t)(colon - l)),
                                                .line = (unsigned)line,
                                                .reason = mem_strdup(reason) };
    }
    buf_fini(&text);
    return rc;
}

/* ---- command line ---- */

typedef enum option_id {
    OPT_SKIPS = 0,
    OPT_VERBOSE,
    OPT_FILE_SUMMARY,
    OPT_STRICT_MESSAGES,
    OPT_NO_FORK,
    OPT_NO_AT_RERUN,
    OPT_HELP,
} option_id_t;

static const struct option_row {
    option_id_t id;
    const char *name;
    const char *arg; /* NULL: a flag */
    const char *help;
} options[] = {
    { OPT_SKIPS, "--skips", "FILE",
      "skip the evals listed as \"file:line reason\" lines (tests/promqltest/skips.txt)" },
    { OPT_VERBOSE, "--verbose", NULL, "print every eval (PASS, SKIP, FAIL), and more of a failure's expected result" },
    { OPT_FILE_SUMMARY, "--file-summary", NULL, "print only the per-file summary lines and the total" },
    { OPT_STRICT_MESSAGES, "--strict-messages", NULL, "count expect fail msg:/regex: mismatches as failures" },
    { OPT_NO_FORK, "--no-fork", NULL, "run evals in this process (for a debugger); a crash then ends the run" },
    { OPT_NO_AT_RERUN, "--no-at-rerun", NULL, "skip upstream's re-run of instant evals with every selector at @ t" },
    { OPT_HELP, "--help", NULL, "this text" },
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static void usage(FILE *f)
{
    fprintf(f, "usage: promqltest [options] PATH...\n"
               "Runs Prometheus PromQL test scripts (.test files, or directories of them).\n");
    for (size_t i = 0; i < NOPTIONS; i++) {
        char left[40];
        snprintf(left, sizeof(left), "%s%s%s", options[i].name, options[i].arg ? " " : "",
                 options[i].arg ? options[i].arg : "");
        fprintf(f, "  %-20s %s\n", left, options[i].help);
    }
}

/* Apply argv's options to r and collect the other arguments in [out]
 * paths. 0, 1 (--help given), -1 (bad usage) or -2 (a bad skips file). */
static int parse_args(runner_t *r, int argc, char **argv, const char **paths, size_t *npaths)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-') {
            paths[(*npaths)++] = a;
            continue;
        }
        size_t k = 0;
        while (k < NOPTIONS && strcmp(options[k].name, a) != 0) {
            k++;
        }
        if (k == NOPTIONS || (options[k].arg && i + 1 >= argc)) {
            fprintf(stderr, "promqltest: %s %s\n", a, k == NOPTIONS ? "is not an option" : "needs an argument");
            return -1;
        }
        switch (options[k].id) {
        case OPT_SKIPS:
            if (load_skips(r, argv[++i]) != 0) {
                return -2; /* already explained */
            }
            break;
        case OPT_VERBOSE:
            r->verbose = true;
            break;
        case OPT_FILE_SUMMARY:
            r->file_summary = true;
            break;
        case OPT_STRICT_MESSAGES:
            r->strict_messages = true;
            break;
        case OPT_NO_FORK:
            r->no_fork = true;
            break;
        case OPT_NO_AT_RERUN:
            r->no_at_rerun = true;
            break;
        case OPT_HELP:
            return 1;
        }
    }
    return 0;
}

static void print_kinds(const tally_t *k)
{
    size_t *ix = tally_order(k);
    printf("failure kinds (top %d of %zu):\n", TOP_KINDS, k->n);
    for (size_t i = 0; i < k->n && i < TOP_KINDS; i++) {
        printf("  %5zu  %s\n", k->counts[ix[i]], k->keys[ix[i]]);
    }
    mem_free(ix);
}

int main(int argc, char **argv)
{
    runner_t r = { 0 };
    const char **paths = mem_calloc((size_t)argc + 1, sizeof(*paths));
    size_t npaths = 0;
    int rc = parse_args(&r, argc, argv, paths, &npaths);
    if (rc != 0 || npaths == 0) {
        if (rc != -2) {
            usage(rc > 0 ? stdout : stderr);
        }
        rc = rc > 0 ? 0 : 2;
        goto out;
    }
    log_set_level(LOG_WARN); /* the store's open/replay notes are noise here */
    FILE *errlog = tmpfile();
    r.errfd = errlog ? fileno(errlog) : -1;
    r.eval_arena = arena_create(1 << 20);
    for (size_t i = 0; rc == 0 && i < npaths; i++) {
        DIR *d = opendir(paths[i]);
        if (d) {
            closedir(d);
            rc = run_dir(&r, paths[i]) != 0 ? 2 : 0;
        } else {
            rc = run_file(&r, paths[i]) != 0 ? 2 : 0;
        }
    }
    if (rc == 0) {
        print_stats("total", &r.total);
        if (r.kinds.n > 0) {
            print_kinds(&r.kinds);
        }
        rc = (r.total.failed > 0 || r.total.script_errors > 0) ? 1 : 0;
    }
    if (errlog) {
        fclose(errlog);
    }
out:
    arena_destroy(r.eval_arena);
    for (size_t i = 0; i < r.nskips; i++) {
        mem_free(r.skips[i].file);
        mem_free(r.skips[i].reason);
    }
    mem_free(r.skips);
    mem_free(r.hist_names);
    mem_free(r.nhcb_names);
    mem_free(paths);
    tally_fini(&r.total.skips);
    tally_fini(&r.kinds);
    return rc;
}

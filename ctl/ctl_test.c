/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_test: `pharosctl test rules FILE...`, Prometheus 2.42's `promtool
 * test rules`: the same test files, the same pass/fail per file, the same
 * texts ("Unit Testing:  F", "  SUCCESS", "  FAILED:" and its alert and
 * expression diffs) on the same streams, and the same exit status (0 every
 * file passed, 1 one failed). Runs offline: nothing is sent to pharosd.
 *
 * Core idea, as unittest.go: each test group gets a fresh tsdb in a
 * temporary directory and a fresh rule manager over it. The input series
 * are appended lazily (those at or before t, just before the rules run at
 * t), every rule group is evaluated at t = 0, interval, ... up to the
 * largest eval_time (group_eval_order first, then file order), and alert
 * cases are checked after the evaluation at the last t <= eval_time
 * (firing alerts only, labels and annotations, in sorted order). PromQL
 * cases run afterwards as instant queries at their eval_time. A rule whose
 * evaluation fails is reported ("rule: NAME, time: T, err: E") and ends
 * its test group at that step, as in unittest.go. Both stores share one
 * injected clock that reads the evaluation time, so samples at the Unix
 * epoch are neither too old nor in the future.
 *
 * As promtool does, values are compared exactly (Go's reflect.DeepEqual:
 * NaN never equals NaN). Rule files are validated with alerts_rules_load
 * first, so a broken file fails with rulefmt's own words; the manager
 * names its groups (alerts_mgr_group_info) for group_eval_order.
 */
#define _GNU_SOURCE /* nftw, mkdtemp */
#include <errno.h>
#include <ftw.h>
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alerts/alerts.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/mem.h"
#include "ctl/ctl.h"
#include "ctl/ctl_int.h"
#include "query/promql.h"
#include "tsdb/tsdb.h"

/* The errors of one test file, in order (arena strings). */
typedef struct ut_errs {
    arena_t *a;
    const char **v;
    size_t n, cap;
} ut_errs_t;

static void ut_err_add(ut_errs_t *e, const char *s, size_t len)
{
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 8;
        const char **v = arena_alloc(e->a, cap * sizeof(*v));
        if (e->n) {
            memcpy(v, e->v, e->n * sizeof(*v));
        }
        e->v = v;
        e->cap = cap;
    }
    e->v[e->n++] = arena_strndup(e->a, len ? s : "", len);
}

static void ut_err_push(ut_errs_t *e, const buf_t *b)
{
    ut_err_add(e, (const char *)b->data, b->len);
}

static void ut_err_text(ut_errs_t *e, const char *s)
{
    ut_err_add(e, s, strlen(s));
}

void ctl_test_format_float(double v, buf_t *out)
{
    if (isnan(v)) {
        buf_puts(out, "NaN");
        return;
    }
    if (isinf(v)) {
        buf_puts(out, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    char tmp[64];
    for (int prec = 0; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*E", prec, v);
        if (strtod(tmp, NULL) == v) {
            break;
        }
    }
    buf_puts(out, tmp);
}

void ctl_test_format_duration(int64_t ms, buf_t *out)
{
    char d[32];
    size_t n = str_format_duration_ms(ms, d);
    buf_append(out, d, n);
}

/* Go's strconv.Quote of s (%q). */
static void ut_quote(const char *s, buf_t *out)
{
    labels_quote(str_cstr(s), out);
}

/* ---- alerts as promtool prints them ---- */

typedef struct ut_alert {
    label_t *labels;
    size_t nlabels;
    label_t *annotations;
    size_t nannotations;
} ut_alert_t;

static int ut_alert_cmp(const void *x, const void *y)
{
    const ut_alert_t *a = x, *b = y;
    int c = labels_compare(a->labels, a->nlabels, b->labels, b->nlabels);
    return c ? c : labels_compare(a->annotations, a->nannotations, b->annotations, b->nannotations);
}

static bool ut_alerts_equal(const ut_alert_t *a, size_t na, const ut_alert_t *b, size_t nb)
{
    if (na != nb) {
        return false;
    }
    for (size_t i = 0; i < na; i++) {
        if (ut_alert_cmp(&a[i], &b[i]) != 0) {
            return false;
        }
    }
    return true;
}

/* labelsAndAnnotations.String() indented as unittest.go indents it: every
 * line after the first gets 12 more spaces. */
static void ut_alerts_format(const ut_alert_t *v, size_t n, buf_t *out)
{
    static const char ind[] = "            ";
    if (n == 0) {
        buf_puts(out, "[]");
        return;
    }
    buf_printf(out, "[\n%s", ind);
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            buf_printf(out, ",\n%s", ind);
        }
        buf_printf(out, "%zu:\n%s  Labels:", i, ind);
        labels_format(v[i].labels, v[i].nlabels, out);
        buf_printf(out, "\n%s  Annotations:", ind);
        labels_format(v[i].annotations, v[i].nannotations, out);
    }
    buf_printf(out, "\n%s]", ind);
}

/* labels.FromMap: sorted by name, empty values kept. */
static label_t *ut_from_kv(arena_t *a, const ctl_test_kv_t *kv, size_t n, const char *alertname, size_t *nout)
{
    label_t *ls = arena_calloc(a, n + 1, sizeof(*ls));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (alertname && strcmp(kv[i].name, "alertname") == 0) {
            continue;
        }
        ls[k++] = (label_t){ str_cstr(kv[i].name), str_cstr(kv[i].value) };
    }
    if (alertname) {
        ls[k++] = (label_t){ STR_LIT("alertname"), str_cstr(alertname) };
    }
    labels_sort(ls, k);
    *nout = k;
    return ls;
}

/* ---- one test group ---- */

typedef struct ut_clock {
    int64_t now;
} ut_clock_t;

static int64_t ut_clock_now(void *ctx)
{
    return ((ut_clock_t *)ctx)->now;
}

static int ut_append(void *ctx, const tsdb_input_t *in, size_t n)
{
    tsdb_append_result_t res;
    memset(&res, 0, sizeof(res));
    return tsdb_append((tsdb_t *)ctx, in, n, &res);
}

static int ut_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

typedef struct ut_input {
    promql_series_desc_t d;
    size_t next; /* the first point not yet appended */
} ut_input_t;

typedef struct ut_run {
    const ctl_test_file_t *f;
    const ctl_test_group_t *tg;
    const char *const *rule_files; /* resolved and globbed */
    size_t nrule_files;
    int64_t eval_interval_ms;
    arena_t *a;
    ut_errs_t *errs;
    ut_clock_t clock;
    tsdb_t *db;
    alerts_mgr_t *mgr;
    ut_input_t *in;
    size_t nin;
    size_t *order; /* manager group indexes in evaluation order */
    size_t ngroups;
} ut_run_t;

/* Append every input point at or before t (the lazy loader's
 * WithSamplesTill). */
static void ut_load_till(ut_run_t *r, int64_t t)
{
    int64_t step = r->tg->interval_ms;
    for (size_t i = 0; i < r->nin; i++) {
        ut_input_t *s = &r->in[i];
        size_t n = 0;
        tsdb_sample_t *smp = arena_alloc(r->a, (s->d.npts - s->next + 1) * sizeof(*smp));
        while (s->next < s->d.npts && (int64_t)s->next * step <= t) {
            if (!s->d.pts[s->next].omitted) {
                smp[n++] = (tsdb_sample_t){ (int64_t)s->next * step, s->d.pts[s->next].v };
            }
            s->next++;
        }
        if (n > 0) {
            tsdb_input_t ti = { .labels = s->d.labels, .nlabels = s->d.nlabels, .samples = smp, .nsamples = n };
            ut_append(r->db, &ti, 1);
        }
    }
}

/* Parse the input series (the lazy loader's load command): a bad one is
 * reported as the series parser words it, as promtool does. */
static int ut_parse_inputs(ut_run_t *r)
{
    r->nin = r->tg->nseries;
    r->in = arena_calloc(r->a, r->nin ? r->nin : 1, sizeof(*r->in));
    for (size_t i = 0; i < r->nin; i++) {
        const ctl_test_series_t *s = &r->tg->series[i];
        buf_t line;
        buf_init(&line);
        buf_printf(&line, "%s %s", s->series, s->values);
        /* the parsed labels borrow from the text: it lives in the arena */
        const char *text = arena_strndup(r->a, (const char *)line.data, line.len);
        buf_fini(&line);
        char err[256] = "";
        int rc = promql_series_parse(text, strlen(text), r->a, &r->in[i].d, err, sizeof(err));
        const char *hist = rc == 0 && r->in[i].d.histogram ? strstr(s->values, "{{") : NULL;
        if (hist) {
            /* 2.42's series notation has no native histograms */
            snprintf(err, sizeof(err), "1:%zu: parse error: unexpected character in series sequence: '{'",
                     strlen(s->series) + 2 + (size_t)(hist - s->values));
            rc = -1;
        }
        if (rc != 0) {
            ut_err_text(r->errs, err);
            return -1;
        }
    }
    return 0;
}

/* Validate the rule files as rulefmt.ParseFile does (stopping at the first
 * file with errors, in its words), load them into the manager and order
 * its groups by group_eval_order. */
static int ut_load_rules(ut_run_t *r)
{
    for (size_t i = 0; i < r->nrule_files; i++) {
        alerts_rules_file_t *rf = NULL;
        alerts_rules_error_t *es = NULL;
        size_t nes = 0;
        if (alerts_rules_load(r->rule_files[i], r->a, &rf, &es, &nes) == 0) {
            continue;
        }
        for (size_t k = 0; k < nes; k++) {
            buf_t e;
            buf_init(&e);
            if (strncmp(es[k].text, "open ", 5) == 0) {
                buf_puts(&e, es[k].text);
            } else {
                buf_printf(&e, "%s: %s", r->rule_files[i], es[k].text);
            }
            ut_err_push(r->errs, &e);
            buf_fini(&e);
        }
        return -1;
    }
    buf_t err;
    buf_init(&err);
    int rc = alerts_mgr_load(r->mgr, r->rule_files, r->nrule_files, NULL, 0, &err);
    if (rc != 0) {
        ut_err_push(r->errs, &err);
    }
    buf_fini(&err);
    if (rc != 0) {
        return -1;
    }
    r->ngroups = alerts_mgr_ngroups(r->mgr);
    r->order = arena_alloc(r->a, (r->ngroups + 1) * sizeof(*r->order));
    /* Stable: listed groups by their rank (unlisted ones rank 0, as Go's
     * map lookup gives), ties in the manager's order. */
    size_t *rank = arena_alloc(r->a, (r->ngroups + 1) * sizeof(*rank));
    size_t maxrank = 0;
    for (size_t g = 0; g < r->ngroups; g++) {
        const char *file = NULL, *name = NULL;
        rank[g] = 0;
        if (alerts_mgr_group_info(r->mgr, g, &file, &name) != 0) {
            continue;
        }
        for (size_t o = 0; o < r->f->ngroup_eval_order; o++) {
            if (strcmp(name, r->f->group_eval_order[o]) == 0) {
                rank[g] = o;
                maxrank = o > maxrank ? o : maxrank;
                break;
            }
        }
    }
    size_t k = 0;
    for (size_t want = 0; want <= maxrank; want++) {
        for (size_t g = 0; g < r->ngroups; g++) {
            if (rank[g] == want) {
                r->order[k++] = g;
            }
        }
    }
    return 0;
}

void ctl_test_format_go_duration(int64_t ms, buf_t *out)
{
    if (ms == 0) {
        buf_puts(out, "0s");
        return;
    }
    if (ms < 1000) {
        buf_printf(out, "%lldms", (long long)ms);
        return;
    }
    int64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, frac = ms % 1000;
    if (h > 0) {
        buf_printf(out, "%lldh", (long long)h);
    }
    if (h > 0 || m > 0) {
        buf_printf(out, "%lldm", (long long)m);
    }
    buf_printf(out, "%lld", (long long)s);
    if (frac != 0) {
        char f[8];
        int n = snprintf(f, sizeof(f), ".%03lld", (long long)frac);
        while (n > 0 && f[n - 1] == '0') {
            n--;
        }
        buf_append(out, f, (size_t)n);
    }
    buf_putc(out, 's');
}

/* The rules of group gi that failed in its evaluation at ts, as
 * unittest.go reports them ("    rule: NAME, time: 10m0s, err: ...").
 * Returns how many. */
static size_t ut_rule_errors(ut_run_t *r, size_t gi, int64_t ts)
{
    buf_t list;
    buf_init(&list);
    size_t n = alerts_mgr_group_errors(r->mgr, gi, &list);
    const char *p = list.len ? (const char *)list.data : "", *end = p + list.len;
    while (p < end) {
        const char *tab = memchr(p, '\t', (size_t)(end - p));
        const char *nl = tab ? memchr(tab, '\n', (size_t)(end - tab)) : NULL;
        if (!tab || !nl) {
            break;
        }
        buf_t e;
        buf_init(&e);
        buf_printf(&e, "    rule: %.*s, time: ", (int)(tab - p), p);
        ctl_test_format_go_duration(ts, &e);
        buf_printf(&e, ", err: %.*s", (int)(nl - tab - 1), tab + 1);
        ut_err_push(r->errs, &e);
        buf_fini(&e);
        p = nl + 1;
    }
    buf_fini(&list);
    return n;
}

/* The alert cases due at ts ('ts <= eval_time < ts + interval'). */
static void ut_check_alerts(ut_run_t *r, int64_t ts, const int64_t *times, size_t ntimes, size_t *curr)
{
    while (*curr < ntimes && ts <= times[*curr] && times[*curr] < ts + r->eval_interval_ms) {
        int64_t t = times[*curr];
        alerts_active_t *act = NULL;
        size_t nact = alerts_mgr_alerts(r->mgr, r->a, &act);
        for (size_t c = 0; c < r->tg->nalert_cases; c++) {
            const ctl_test_alert_case_t *tc = &r->tg->alert_cases[c];
            if (tc->eval_ms != t) {
                continue;
            }
            ut_alert_t *got = arena_calloc(r->a, nact + 1, sizeof(*got));
            size_t ngot = 0;
            for (size_t i = 0; i < nact; i++) {
                if (act[i].state == ALERTS_STATE_FIRING && strcmp(act[i].alertname, tc->alertname) == 0) {
                    got[ngot++] =
                        (ut_alert_t){ act[i].labels, act[i].nlabels, act[i].annotations, act[i].nannotations };
                }
            }
            ut_alert_t *exp = arena_calloc(r->a, tc->nexp + 1, sizeof(*exp));
            for (size_t i = 0; i < tc->nexp; i++) {
                exp[i].labels = ut_from_kv(r->a, tc->exp[i].labels, tc->exp[i].nlabels, tc->alertname, &exp[i].nlabels);
                exp[i].annotations =
                    ut_from_kv(r->a, tc->exp[i].annotations, tc->exp[i].nannotations, NULL, &exp[i].nannotations);
            }
            qsort(got, ngot, sizeof(*got), ut_alert_cmp);
            qsort(exp, tc->nexp, sizeof(*exp), ut_alert_cmp);
            if (!ut_alerts_equal(exp, tc->nexp, got, ngot)) {
                buf_t e;
                buf_init(&e);
                if (r->tg->name[0]) {
                    buf_printf(&e, "    name: %s,\n", r->tg->name);
                }
                buf_printf(&e, "    alertname: %s, time: ", tc->alertname);
                ctl_test_format_duration(tc->eval_ms, &e);
                buf_puts(&e, ", \n        exp:");
                ut_alerts_format(exp, tc->nexp, &e);
                buf_puts(&e, ", \n        got:");
                ut_alerts_format(got, ngot, &e);
                ut_err_push(r->errs, &e);
                buf_fini(&e);
            }
        }
        (*curr)++;
    }
}

typedef struct ut_sample {
    label_t *labels;
    size_t nlabels;
    double v;
} ut_sample_t;

static int ut_sample_cmp(const void *x, const void *y)
{
    const ut_sample_t *a = x, *b = y;
    return labels_compare(a->labels, a->nlabels, b->labels, b->nlabels);
}

static void ut_samples_format(const ut_sample_t *s, size_t n, buf_t *out)
{
    if (n == 0) {
        buf_puts(out, "nil");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            buf_puts(out, ", ");
        }
        labels_format(s[i].labels, s[i].nlabels, out);
        buf_putc(out, ' ');
        ctl_test_format_float(s[i].v, out);
    }
}

/* "    expr: \"Q\", time: T", how every report of a PromQL case starts. */
static void ut_expr_head(const ctl_test_expr_case_t *tc, buf_t *e)
{
    buf_puts(e, "    expr: ");
    ut_quote(tc->expr, e);
    buf_puts(e, ", time: ");
    ctl_test_format_duration(tc->eval_ms, e);
}

static void ut_expr_error(ut_run_t *r, const ctl_test_expr_case_t *tc, const char *prefix, const char *msg)
{
    buf_t e;
    buf_init(&e);
    ut_expr_head(tc, &e);
    buf_printf(&e, ", err: %s%s", prefix, msg);
    ut_err_push(r->errs, &e);
    buf_fini(&e);
}

/* One promql_expr_test case (unittest.go's query and its comparison). */
static void ut_check_expr(ut_run_t *r, const ctl_test_expr_case_t *tc)
{
    promql_node_t *root = NULL;
    promql_error_t perr;
    if (promql_parse(tc->expr, strlen(tc->expr), r->a, &root, &perr) != 0) {
        ut_expr_error(r, tc, "", perr.msg);
        return;
    }
    promql_engine_opts_t eo = { .subquery_step_ms = r->eval_interval_ms,
                                .query = tc->expr,
                                .query_len = strlen(tc->expr) };
    promql_source_t src = promql_source_tsdb(r->db);
    promql_result_t res;
    promql_eval_error_t eerr;
    memset(&res, 0, sizeof(res));
    int rc = promql_eval(&src, &eo, root, tc->eval_ms, tc->eval_ms, 0, r->a, &res, &eerr);
    promql_release(root);
    if (rc != 0) {
        ut_expr_error(r, tc, "", eerr.msg);
        return;
    }
    size_t ngot = 0;
    ut_sample_t *got = arena_calloc(r->a, res.nseries + 1, sizeof(*got));
    if (res.type == PROMQL_TYPE_SCALAR) {
        got[ngot++] = (ut_sample_t){ NULL, 0, res.scalar };
    } else if (res.type == PROMQL_TYPE_VECTOR) {
        for (size_t i = 0; i < res.nseries; i++) {
            const promql_series_t *s = &res.series[i];
            got[ngot++] = (ut_sample_t){ s->labels, s->nlabels, s->n ? s->vs[0] : 0 };
        }
    } else {
        ut_expr_error(r, tc, "", "rule result is not a vector or scalar");
        return;
    }
    ut_sample_t *exp = arena_calloc(r->a, tc->nexp + 1, sizeof(*exp));
    for (size_t i = 0; i < tc->nexp; i++) {
        char err[256] = "";
        const char *lt = tc->exp[i].labels;
        if (promql_series_parse_metric(lt, strlen(lt), r->a, &exp[i].labels, &exp[i].nlabels, err, sizeof(err)) != 0) {
            buf_t pre;
            buf_init(&pre);
            buf_puts(&pre, "labels ");
            ut_quote(lt, &pre);
            buf_puts(&pre, ": ");
            ut_expr_error(r, tc, (const char *)pre.data, err);
            buf_fini(&pre);
            return;
        }
        exp[i].v = tc->exp[i].value;
    }
    qsort(exp, tc->nexp, sizeof(*exp), ut_sample_cmp);
    qsort(got, ngot, sizeof(*got), ut_sample_cmp);
    bool eq = ngot == tc->nexp;
    for (size_t i = 0; eq && i < ngot; i++) {
        eq = ut_sample_cmp(&exp[i], &got[i]) == 0 && exp[i].v == got[i].v;
    }
    if (!eq) {
        buf_t e;
        buf_init(&e);
        ut_expr_head(tc, &e);
        buf_puts(&e, ",\n        exp: ");
        ut_samples_format(exp, tc->nexp, &e);
        buf_puts(&e, "\n        got: ");
        ut_samples_format(got, ngot, &e);
        ut_err_push(r->errs, &e);
        buf_fini(&e);
    }
}

static int ut_i64_cmp(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

/* Evaluate the rules from 0 to the largest eval_time, checking the alert
 * cases on the way, then the PromQL cases. A rule that fails to evaluate
 * ends the group after the step where it failed (no more cases run). */
static void ut_evaluate(ut_run_t *r)
{
    const ctl_test_group_t *tg = r->tg;
    int64_t maxt = 0;
    int64_t *times = arena_alloc(r->a, (tg->nalert_cases + 1) * sizeof(*times));
    size_t ntimes = 0;
    for (size_t i = 0; i < tg->nalert_cases; i++) {
        int64_t t = tg->alert_cases[i].eval_ms;
        maxt = t > maxt ? t : maxt;
        bool seen = false;
        for (size_t k = 0; k < ntimes && !seen; k++) {
            seen = times[k] == t;
        }
        if (!seen) {
            times[ntimes++] = t;
        }
    }
    for (size_t i = 0; i < tg->nexpr_cases; i++) {
        maxt = tg->expr_cases[i].eval_ms > maxt ? tg->expr_cases[i].eval_ms : maxt;
    }
    qsort(times, ntimes, sizeof(*times), ut_i64_cmp);
    size_t curr = 0;
    for (int64_t ts = 0; ts <= maxt; ts += r->eval_interval_ms) {
        r->clock.now = ts;
        ut_load_till(r, ts);
        size_t nerr = 0;
        for (size_t g = 0; g < r->ngroups; g++) {
            alerts_mgr_eval_group(r->mgr, r->order[g], ts);
            nerr += ut_rule_errors(r, r->order[g], ts);
        }
        if (nerr > 0) {
            return; /* as promtool: a failing rule ends the test group */
        }
        ut_check_alerts(r, ts, times, ntimes, &curr);
    }
    for (size_t i = 0; i < tg->nexpr_cases; i++) {
        ut_check_expr(r, &tg->expr_cases[i]);
    }
}

/* One test group: its errors are appended to errs. */
static void ut_group(const ctl_test_file_t *f, const ctl_test_group_t *tg, const char *const *rule_files,
                     size_t nrule_files, int64_t eval_interval_ms, ut_errs_t *errs)
{
    ut_run_t r = { .f = f,
                   .tg = tg,
                   .rule_files = rule_files,
                   .nrule_files = nrule_files,
                   .eval_interval_ms = eval_interval_ms,
                   .a = arena_create(64 * 1024),
                   .errs = errs };
    const char *tmp = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/pharosctl-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    bool made = false;
    if (ut_parse_inputs(&r) != 0) {
        goto fail;
    }
    if (!mkdtemp(dir)) {
        buf_t e;
        buf_init(&e);
        buf_printf(&e, "mkdtemp %s: %s", dir, strerror(errno));
        ut_err_push(errs, &e);
        buf_fini(&e);
        goto fail;
    }
    made = true;
    pclock_t clk = { .now_ms = ut_clock_now, .ctx = &r.clock };
    tsdb_opts_t to = { .dir = dir, .ooo_window_ms = (int64_t)1 << 50, .future_ms = (int64_t)1 << 50, .clock = clk };
    char terr[256] = "";
    if (tsdb_open(&to, &r.db, terr, sizeof(terr)) != 0) {
        ut_err_text(errs, terr);
        goto fail;
    }
    const char **ext = arena_alloc(r.a, (2 * tg->nexternal_labels + 1) * sizeof(*ext));
    for (size_t i = 0; i < tg->nexternal_labels; i++) {
        ext[2 * i] = tg->external_labels[i].name;
        ext[2 * i + 1] = tg->external_labels[i].value;
    }
    alerts_mgr_opts_t mo = { .src = promql_source_tsdb(r.db),
                             .engine = { .subquery_step_ms = eval_interval_ms },
                             .append = ut_append,
                             .append_ctx = r.db,
                             .eval_interval_ms = tg->interval_ms,
                             .external_labels = ext,
                             .nexternal_labels = tg->nexternal_labels,
                             .external_url = tg->external_url,
                             .no_restore = true, /* promtool's SetRestored(true): ALERTS from the start */
                             .clock = clk };
    r.mgr = alerts_mgr_create(&mo);
    if (ut_load_rules(&r) != 0) {
        goto fail;
    }
    for (size_t i = 0; i < tg->nalert_cases; i++) {
        if (tg->alert_cases[i].alertname[0] == 0) {
            buf_t e;
            buf_init(&e);
            buf_puts(&e, "an item under alert_rule_test misses required attribute alertname at eval_time ");
            ctl_test_format_duration(tg->alert_cases[i].eval_ms, &e);
            if (tg->name[0]) {
                buf_printf(&e, " (in TestGroup %s)", tg->name);
            }
            ut_err_push(errs, &e);
            buf_fini(&e);
            goto fail;
        }
    }
    ut_evaluate(&r);
fail:
    alerts_mgr_destroy(r.mgr);
    tsdb_close(r.db);
    if (made) {
        nftw(dir, ut_rm, 16, FTW_DEPTH | FTW_PHYS);
    }
    arena_destroy(r.a);
}

/* ---- files ---- */

/* Go's filepath.Join(dir, p) for a relative p: joined, then cleaned of
 * "." and "name/.." elements and repeated slashes. */
static char *ut_join(arena_t *a, const char *dir, const char *p)
{
    size_t n = strlen(dir) + strlen(p) + 2;
    char *joined = arena_alloc(a, n);
    snprintf(joined, n, "%s/%s", dir, p);
    const char **el = arena_alloc(a, n * sizeof(*el));
    size_t nel = 0;
    bool abs = joined[0] == '/';
    for (char *save = NULL, *t = strtok_r(joined, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (strcmp(t, ".") == 0) {
            continue;
        }
        if (strcmp(t, "..") == 0 && nel > 0 && strcmp(el[nel - 1], "..") != 0) {
            nel--;
            continue;
        }
        if (strcmp(t, "..") == 0 && abs) {
            continue;
        }
        el[nel++] = t;
    }
    char *out = arena_alloc(a, n + 1);
    size_t k = 0;
    if (abs) {
        out[k++] = '/';
    }
    for (size_t i = 0; i < nel; i++) {
        size_t l = strlen(el[i]);
        if (i > 0) {
            out[k++] = '/';
        }
        memcpy(out + k, el[i], l);
        k += l;
    }
    if (k == 0) {
        out[k++] = '.';
    }
    out[k] = 0;
    return out;
}

/* resolveAndGlobFilepaths: relative names joined to the test file's
 * directory, then globbed (a pattern matching nothing is warned about). */
static int ut_resolve(const ctl_env_t *env, const ctl_test_file_t *f, const char *filename, arena_t *a,
                      const char ***out, size_t *nout, ut_errs_t *errs)
{
    char *dcopy = arena_strndup(a, filename, strlen(filename));
    char *slash = strrchr(dcopy, '/');
    const char *dir = ".";
    if (slash == dcopy) {
        dir = "/";
    } else if (slash) {
        *slash = 0;
        dir = dcopy;
    }
    size_t cap = 8, n = 0;
    const char **v = arena_alloc(a, cap * sizeof(*v));
    for (size_t i = 0; i < f->nrule_files; i++) {
        const char *rf = f->rule_files[i];
        if (rf[0] != 0 && rf[0] != '/') {
            rf = ut_join(a, dir, rf);
        }
        glob_t g;
        memset(&g, 0, sizeof(g));
        int rc = glob(rf, 0, NULL, &g);
        if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0)) {
            fprintf(env->err, "  WARNING: no file match pattern %s\n", rf);
            fflush(env->err);
        } else if (rc != 0) {
            globfree(&g);
            ut_err_text(errs, "syntax error in pattern");
            return -1;
        }
        for (size_t k = 0; rc == 0 && k < g.gl_pathc; k++) {
            if (n == cap) {
                const char **nv = arena_alloc(a, cap * 2 * sizeof(*nv));
                memcpy(nv, v, n * sizeof(*nv));
                v = nv;
                cap *= 2;
            }
            v[n++] = arena_strndup(a, g.gl_pathv[k], strlen(g.gl_pathv[k]));
        }
        globfree(&g);
    }
    *out = v;
    *nout = n;
    return 0;
}

static int ut_read(const char *path, buf_t *out)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        return -1;
    }
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
        buf_append(out, chunk, n);
    }
    int bad = ferror(fp);
    fclose(fp);
    return bad ? -1 : 0;
}

/* ruleUnitTest: the errors of one file into errs. */
static void ut_file(const ctl_env_t *env, const char *filename, arena_t *a, ut_errs_t *errs)
{
    buf_t text;
    buf_init(&text);
    if (ut_read(filename, &text) != 0) {
        buf_t e;
        buf_init(&e);
        buf_printf(&e, "open %s: %s", filename, strerror(errno));
        ut_err_push(errs, &e);
        buf_fini(&e);
        buf_fini(&text);
        return;
    }
    ctl_test_file_t *f = NULL;
    buf_t perr;
    buf_init(&perr);
    int rc = ctl_test_file_parse(text.len ? (const char *)text.data : "", text.len, a, &f, &perr);
    buf_fini(&text);
    if (rc != 0) {
        ut_err_push(errs, &perr);
        buf_fini(&perr);
        return;
    }
    buf_fini(&perr);
    const char **rule_files = NULL;
    size_t nrule_files = 0;
    if (ut_resolve(env, f, filename, a, &rule_files, &nrule_files, errs) != 0) {
        return;
    }
    int64_t interval = f->eval_interval_ms ? f->eval_interval_ms : 60000;
    for (size_t i = 0; i < f->ngroup_eval_order; i++) {
        for (size_t k = 0; k < i; k++) {
            if (strcmp(f->group_eval_order[i], f->group_eval_order[k]) == 0) {
                buf_t e;
                buf_init(&e);
                buf_printf(&e, "group name repeated in evaluation order: %s", f->group_eval_order[i]);
                ut_err_push(errs, &e);
                buf_fini(&e);
                return;
            }
        }
    }
    for (size_t i = 0; i < f->ntests; i++) {
        ut_group(f, &f->tests[i], rule_files, nrule_files, interval, errs);
    }
}

void ctl_test_usage(FILE *out)
{
    fprintf(out, "Usage: pharosctl test rules FILE...\n\n"
                 "Run the unit tests of Prometheus rule files as promtool test rules (Prometheus 2.42) does:\n"
                 "the same test files, the same output and exit status. Nothing is sent to pharosd.\n"
                 "\nExit status: 0 all tests passed, 1 a test failed, 2 usage error.\n");
}

static int ut_usage_error(const ctl_env_t *env, const char *msg, const char *arg)
{
    fprintf(env->err, "pharosctl test: %s%s\nRun 'pharosctl test --help' for usage.\n", msg, arg);
    return CTL_EXIT_USAGE;
}

int ctl_test_run(const ctl_env_t *env, int argc, char **argv)
{
    if (argc < 2) {
        return ut_usage_error(env, "missing subcommand (rules)", "");
    }
    if (strcmp(argv[1], "rules") != 0) {
        return ut_usage_error(env, "unknown subcommand ", argv[1]);
    }
    int first = 2;
    if (first < argc && strcmp(argv[first], "--") == 0) {
        first++;
    } else {
        for (int i = first; i < argc; i++) {
            if (argv[i][0] == '-' && argv[i][1] != 0) {
                return ut_usage_error(env, "unknown flag ", argv[i]);
            }
        }
    }
    if (first >= argc) {
        return ut_usage_error(env, "required argument FILE not provided", "");
    }
    /* kingpin's ExistingFiles: every path is checked before any test runs. */
    for (int i = first; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(env->err, "pharosctl: error: path '%s' does not exist, try --help\n", argv[i]);
            return CTL_EXIT_QUERY;
        }
        if (S_ISDIR(st.st_mode)) {
            fprintf(env->err, "pharosctl: error: '%s' is a directory, try --help\n", argv[i]);
            return CTL_EXIT_QUERY;
        }
    }
    /* promtool runs its stores and rule manager with a no-op logger */
    log_set_level(LOG_ERROR);
    bool failed = false;
    for (int i = first; i < argc; i++) {
        fprintf(env->out, "Unit Testing:  %s\n", argv[i]);
        fflush(env->out);
        arena_t *a = arena_create(64 * 1024);
        ut_errs_t errs = { .a = a };
        ut_file(env, argv[i], a, &errs);
        if (errs.n > 0) {
            fputs("  FAILED:\n", env->err);
            fflush(env->err);
            for (size_t k = 0; k < errs.n; k++) {
                fprintf(env->err, "%s\n", errs.v[k]);
                fflush(env->err);
                fputc('\n', env->out);
                fflush(env->out);
            }
            failed = true;
        } else {
            fputs("  SUCCESS\n", env->out);
        }
        fputc('\n', env->out);
        fflush(env->out);
        arena_destroy(a);
    }
    return failed ? CTL_EXIT_QUERY : CTL_EXIT_OK;
}

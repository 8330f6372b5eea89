/* SPDX-License-Identifier: Apache-2.0 */
/*
 * promqltest_exec: runs one parsed eval against a tsdb the way upstream's
 * harness does (execInstantEval / execRangeEval) and turns what happened
 * into an outcome: pass, fail (with a kind and a compact why), or "failed
 * as expected but with another message".
 *
 * Steps: parse the query (a parse error is the query's failure, as in
 * Prometheus' NewInstantQuery); evaluate; an expected failure is checked
 * against expect fail msg:/regex:; otherwise annotations are checked
 * (recorded apart, they never decide the verdict), the result is compared
 * (promqltest_cmp.c), and an instant eval is re-run as a range query from
 * t-1m to t+1m by 1m whose middle step must match too. Then, unless
 * turned off, the @ re-run: every selector pinned with "@ t" (on a fresh
 * tree of our own) and evaluated at -10t, 0, t/5, t and 10t, each checked
 * the same way (annotations only on the first run, to count them once).
 *
 * Isolation: with isolate set the eval runs in a forked child that sends
 * its outcome back through a pipe, so a crash, a sanitizer abort or a hang
 * (alarm) of the evaluator costs one failed eval, not the file. The child
 * only reads the store (no background threads exist to fork with) and ends
 * with _exit, so nothing buffered in the parent is flushed twice.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/matcher.h"
#include "common/mem.h"
#include "promqltest_int.h"

#define RANGE_MODE_STEP_MS 60000
#define ENGINE_TIMEOUT_S 60
#define CHILD_ALARM_S 120

void promqltest_outcome_init(promqltest_outcome_t *o)
{
    memset(o, 0, sizeof(*o));
    buf_init(&o->why);
    buf_init(&o->anno);
    buf_init(&o->got);
}

void promqltest_outcome_fini(promqltest_outcome_t *o)
{
    buf_fini(&o->why);
    buf_fini(&o->anno);
    buf_fini(&o->got);
}

void promqltest_exec_normalize(const char *m, char *out, size_t len)
{
    size_t w = 0;
    for (size_t i = 0; m[i] && w + 2 < len; i++) {
        if (m[i] >= '0' && m[i] <= '9') {
            out[w++] = 'N';
            while (m[i + 1] >= '0' && m[i + 1] <= '9') {
                i++;
            }
        } else {
            out[w++] = m[i] == '\n' ? ' ' : m[i];
        }
    }
    out[w] = '\0';
    if (w > 100 && len > 101) {
        strcpy(out + 97, "...");
    }
}

/* The outermost operation of a query, to group failures by. */
static void query_feature(const promql_node_t *n, char *out, size_t len)
{
    while (n && n->kind == PROMQL_PAREN) {
        n = n->u.paren.expr;
    }
    if (!n) {
        snprintf(out, len, "unparsed query");
        return;
    }
    switch (n->kind) {
    case PROMQL_CALL:
        snprintf(out, len, "%s()", n->u.call.func->name);
        break;
    case PROMQL_AGGREGATE:
        snprintf(out, len, "%s", promql_agg_op_str(n->u.agg.op));
        break;
    case PROMQL_BINARY:
        snprintf(out, len, "binary %s%s", promql_op_str(n->u.bin.op), n->u.bin.return_bool ? " bool" : "");
        break;
    case PROMQL_UNARY:
        snprintf(out, len, "unary %s", n->u.unary.neg ? "-" : "+");
        break;
    case PROMQL_SUBQUERY:
        snprintf(out, len, "subquery");
        break;
    case PROMQL_MATRIX_SEL:
        snprintf(out, len, "range selector");
        break;
    case PROMQL_VECTOR_SEL:
        snprintf(out, len, "selector%s%s", n->u.vs.offset_ms ? " offset" : "", n->u.vs.at ? " @" : "");
        break;
    case PROMQL_NUMBER:
        snprintf(out, len, "number literal");
        break;
    case PROMQL_STRING:
        snprintf(out, len, "string literal");
        break;
    default:
        snprintf(out, len, "node kind %d", (int)n->kind);
        break;
    }
}

static void set_kind(promqltest_outcome_t *o, const char *kind)
{
    snprintf(o->kind, sizeof(o->kind), "%s", kind);
}

/* Does text match e (msg: exact, regex: unanchored, none: anything)? -1
 * when e's regex does not compile. */
static int expect_matches(const promqltest_expect_t *e, const char *text)
{
    if (e->match == PROMQLTEST_MATCH_ANY) {
        return 1;
    }
    if (e->match == PROMQLTEST_MATCH_MSG) {
        return strcmp(e->text, text) == 0;
    }
    buf_t re;
    buf_init(&re);
    buf_printf(&re, ".*(?:%s).*", e->text);
    matcher_t m;
    char err[256];
    int rc = -1;
    if (matcher_init(&m, MATCH_RE, STR_LIT("msg"), str_from((const char *)re.data, re.len), err, sizeof(err)) == 0) {
        rc = matcher_matches(&m, str_cstr(text)) ? 1 : 0;
        matcher_fini(&m);
    }
    buf_fini(&re);
    return rc;
}

static const promqltest_expect_t *first_expect(const promqltest_eval_t *ev, promqltest_expect_kind_t k)
{
    for (size_t i = 0; i < ev->nexpects; i++) {
        if (ev->expects[i].kind == k) {
            return &ev->expects[i];
        }
    }
    return NULL;
}

/* The query failed with msg, as ev expects: upstream's checkExpectedFailure. */
static void expected_failure(const promqltest_eval_t *ev, const char *msg, promqltest_outcome_t *o)
{
    const promqltest_expect_t *e = first_expect(ev, PROMQLTEST_EXPECT_FAIL);
    int m = e ? expect_matches(e, msg) : 1;
    if (m == 1) {
        o->verdict = PROMQLTEST_PASS;
    } else if (m < 0) {
        o->verdict = PROMQLTEST_FAIL;
        set_kind(o, "bad regex in the test");
        snprintf(o->detail, sizeof(o->detail), "%s", e->text);
        buf_printf(&o->why, "    regex: %s\n", e->text);
    } else {
        o->verdict = PROMQLTEST_MSG_MISMATCH;
        set_kind(o, "error message mismatch");
        buf_printf(&o->why, "    want error %s %s\n    got  error \"%s\"\n",
                   e->match == PROMQLTEST_MATCH_MSG ? "text" : "matching", e->text, msg);
    }
}

/* upstream's validateExpectedAnnotationsOfType; problems go to why. */
static void check_annotation_kind(const promqltest_eval_t *ev, promqltest_expect_kind_t kind, const char *what,
                                  char *const *actual, size_t n, buf_t *why)
{
    bool any = false;
    for (size_t i = 0; i < ev->nexpects; i++) {
        const promqltest_expect_t *e = &ev->expects[i];
        if (e->kind != kind) {
            continue;
        }
        if (n == 0) {
            buf_printf(why, "    expected %s annotations but none were found\n", what);
            return;
        }
        any = true;
        bool found = false;
        for (size_t k = 0; k < n && !found; k++) {
            found = expect_matches(e, actual[k]) == 1;
        }
        if (!found) {
            buf_printf(why, "    no %s annotation %s %s\n", what,
                       e->match == PROMQLTEST_MATCH_MSG ? "equal to" : "matching", e->text);
        }
    }
    for (size_t k = 0; any && k < n; k++) {
        bool found = false;
        for (size_t i = 0; i < ev->nexpects && !found; i++) {
            found = ev->expects[i].kind == kind && expect_matches(&ev->expects[i], actual[k]) == 1;
        }
        if (!found) {
            buf_printf(why, "    unexpected %s annotation: %s\n", what, actual[k]);
        }
    }
}

/* upstream's checkAnnotations, recorded in o->anno instead of failing. */
static void check_annotations(const promqltest_eval_t *ev, const promql_result_t *res, promqltest_outcome_t *o)
{
    bool any = ev->warn || ev->info;
    for (size_t i = 0; i < ev->nexpects; i++) {
        any |= ev->expects[i].kind >= PROMQLTEST_EXPECT_WARN;
    }
    if (!any) {
        return;
    }
    o->anno_checked = true;
    if (ev->warn && res->nwarnings == 0) {
        buf_puts(&o->anno, "    expected warnings but got none\n");
    }
    if (ev->info && res->ninfos == 0) {
        buf_puts(&o->anno, "    expected info annotations but got none\n");
    }
    check_annotation_kind(ev, PROMQLTEST_EXPECT_WARN, "warn", res->warnings, res->nwarnings, &o->anno);
    check_annotation_kind(ev, PROMQLTEST_EXPECT_INFO, "info", res->infos, res->ninfos, &o->anno);
    if (first_expect(ev, PROMQLTEST_EXPECT_NO_WARN) && res->nwarnings > 0) {
        buf_printf(&o->anno, "    unexpected warning: %s\n", res->warnings[0]);
    }
    if (first_expect(ev, PROMQLTEST_EXPECT_NO_INFO) && res->ninfos > 0) {
        buf_printf(&o->anno, "    unexpected info: %s\n", res->infos[0]);
    }
}

/* upstream skips the range-mode re-run of queries calling these */
static bool uses_query_context(const char *q)
{
    return strstr(q, "start()") || strstr(q, "end()") || strstr(q, "range()") || strstr(q, "step()");
}

static void fail_with(promqltest_outcome_t *o, const char *kind, const char *msg)
{
    o->verdict = PROMQLTEST_FAIL;
    set_kind(o, kind);
    buf_printf(&o->why, "    %s\n", msg);
    promqltest_exec_normalize(msg, o->detail, sizeof(o->detail));
}

static void fail_diff(promqltest_outcome_t *o, const promqltest_diff_t *d, const promql_result_t *res)
{
    promqltest_cmp_format_result(res, 3, &o->got);
    o->verdict = PROMQLTEST_FAIL;
    o->range_mode = d->range_mode;
    set_kind(o, d->kind ? d->kind : "?");
    buf_append(&o->why, d->why.data, d->why.len);
}

typedef struct exec_ctx {
    const promqltest_eval_t *ev;
    promql_source_t src;
    promql_engine_opts_t opts;
    arena_t *a;
} exec_ctx_t;

/* The range-mode half of upstream's runInstantQuery: the query from t-1m
 * to t+1m by 1m must give res at its middle step. */
static bool check_range_mode(exec_ctx_t *x, const promql_node_t *root, int64_t t, const promql_result_t *res,
                             promqltest_outcome_t *o)
{
    promql_result_t rng = { 0 };
    promql_eval_error_t eerr = { 0 };
    if (promql_eval(&x->src, &x->opts, root, t - RANGE_MODE_STEP_MS, t + RANGE_MODE_STEP_MS, RANGE_MODE_STEP_MS, x->a,
                    &rng, &eerr) != 0) {
        fail_with(o, "unexpected error", eerr.msg);
        o->range_mode = true;
        return false;
    }
    if (x->ev->ordered) {
        return true; /* range results are sorted by labels: upstream compares nothing */
    }
    promqltest_diff_t d = { 0 };
    buf_init(&d.why);
    bool ok = promqltest_cmp_range_mode(x->ev, res, &rng, t, x->a, &d);
    if (!ok) {
        fail_diff(o, &d, &rng);
    }
    buf_fini(&d.why);
    return ok;
}

/* upstream's runInstantQuery: root (whose text is qtext) at t. true when
 * it passes (or failed as expected); otherwise false with o filled. */
static bool run_instant(exec_ctx_t *x, const promql_node_t *root, const char *qtext, int64_t t, bool primary,
                        promqltest_outcome_t *o)
{
    const promqltest_eval_t *ev = x->ev;
    promql_result_t res = { 0 };
    promql_eval_error_t eerr = { 0 };
    if (promql_eval(&x->src, &x->opts, root, t, t, 0, x->a, &res, &eerr) != 0) {
        if (ev->fail) {
            expected_failure(ev, eerr.msg, o);
        } else {
            fail_with(o, "unexpected error", eerr.msg);
        }
        return o->verdict == PROMQLTEST_PASS;
    }
    if (ev->fail) {
        o->verdict = PROMQLTEST_FAIL;
        set_kind(o, "no error");
        buf_puts(&o->why, "    expected the query to fail\n");
        promqltest_cmp_format_result(&res, 3, &o->got);
        return false;
    }
    if (primary) {
        check_annotations(ev, &res, o);
    }
    int64_t start = ev->range_vector ? ev->rv_start : t, end = ev->range_vector ? ev->rv_end : t;
    promqltest_diff_t d = { 0 };
    buf_init(&d.why);
    bool ok = promqltest_cmp_result(ev, &res, start, end, ev->range_vector ? ev->rv_step : 0, &d);
    if (!ok) {
        fail_diff(o, &d, &res);
    }
    buf_fini(&d.why);
    if (!ok || ev->range_vector || ev->has_string || uses_query_context(qtext)) {
        return ok;
    }
    return check_range_mode(x, root, t, &res, o);
}

/* upstream's AtModifierUnsafeFunctions */
static bool at_unsafe(const char *name)
{
    static const char *const unsafe[] = { "days_in_month",  "day_of_month", "day_of_week", "day_of_year",
                                          "hour",           "minute",       "month",       "year",
                                          "predict_linear", "time",         "timestamp" };
    for (size_t i = 0; i < sizeof(unsafe) / sizeof(unsafe[0]); i++) {
        if (strcmp(unsafe[i], name) == 0) {
            return true;
        }
    }
    return false;
}

/* upstream's atModifierTestCases rewrite of a tree of our own: every
 * selector and subquery without a fixed @ gets "@ t"; below a subquery
 * nothing changes. false when a call makes the result depend on the
 * evaluation time (then there is no @ re-run). */
static bool at_rewrite(promql_node_t *n, int64_t t)
{
    if (n == NULL) {
        return true;
    }
    switch (n->kind) {
    case PROMQL_VECTOR_SEL:
        if (n->u.vs.at != PROMQL_AT_TIMESTAMP) {
            n->u.vs.at = PROMQL_AT_TIMESTAMP;
            n->u.vs.at_ms = t;
        }
        return true;
    case PROMQL_MATRIX_SEL:
        return at_rewrite(n->u.ms.vs, t);
    case PROMQL_SUBQUERY:
        if (n->u.sq.at != PROMQL_AT_TIMESTAMP) {
            n->u.sq.at = PROMQL_AT_TIMESTAMP;
            n->u.sq.at_ms = t;
        }
        return true;
    case PROMQL_CALL: {
        bool ok = !at_unsafe(n->u.call.func->name);
        for (size_t i = 0; i < n->u.call.nargs; i++) {
            ok &= at_rewrite(n->u.call.args[i], t);
        }
        return ok;
    }
    case PROMQL_AGGREGATE: {
        bool param = at_rewrite(n->u.agg.param, t); /* both sides are rewritten either way */
        return at_rewrite(n->u.agg.expr, t) && param;
    }
    case PROMQL_BINARY: {
        bool lhs = at_rewrite(n->u.bin.lhs, t);
        return at_rewrite(n->u.bin.rhs, t) && lhs;
    }
    case PROMQL_UNARY:
        return at_rewrite(n->u.unary.expr, t);
    case PROMQL_PAREN:
        return at_rewrite(n->u.paren.expr, t);
    default:
        return true;
    }
}

/* upstream's additional instant queries: the query with every selector at
 * "@ t" evaluated at other times, each with its range-mode check. */
static void run_at_variants(exec_ctx_t *x, int64_t t, promqltest_outcome_t *o)
{
    promql_node_t *root = NULL;
    promql_error_t perr;
    if (promql_parse(x->ev->query, x->ev->query_len, x->a, &root, &perr) != 0) {
        return;
    }
    buf_t text;
    buf_init(&text);
    if (at_rewrite(root, t)) {
        promql_format(root, &text);
        int64_t times[5] = { -10 * t, 0, t / 5, t, 10 * t };
        size_t n = 5;
        if (t == 0) {
            times[0] = -1000;
            times[1] = 0;
            times[2] = 1000;
            n = 3;
        }
        for (size_t i = 0; i < n; i++) {
            if (!run_instant(x, root, (const char *)text.data, times[i], false, o)) {
                o->at_rerun = true;
                o->at_time = times[i];
                buf_printf(&o->why, "    the query as re-run: %s at t=%" PRId64 "\n", (const char *)text.data,
                           times[i]);
                break;
            }
        }
    }
    buf_fini(&text);
    promql_release(root);
}

static void run_range(exec_ctx_t *x, const promql_node_t *root, promqltest_outcome_t *o)
{
    const promqltest_eval_t *ev = x->ev;
    promql_result_t res = { 0 };
    promql_eval_error_t eerr = { 0 };
    if (promql_eval(&x->src, &x->opts, root, ev->start, ev->end, ev->step, x->a, &res, &eerr) != 0) {
        if (ev->fail) {
            expected_failure(ev, eerr.msg, o);
        } else {
            fail_with(o, "unexpected error", eerr.msg);
        }
        return;
    }
    if (ev->fail) {
        o->verdict = PROMQLTEST_FAIL;
        set_kind(o, "no error");
        buf_puts(&o->why, "    expected the query to fail\n");
        promqltest_cmp_format_result(&res, 3, &o->got);
        return;
    }
    check_annotations(ev, &res, o);
    promqltest_diff_t d = { 0 };
    buf_init(&d.why);
    if (!promqltest_cmp_result(ev, &res, ev->start, ev->end, ev->step, &d)) {
        fail_diff(o, &d, &res);
    }
    buf_fini(&d.why);
}

static void exec_inproc(tsdb_t *db, const promqltest_eval_t *ev, arena_t *a, bool at_rerun, promqltest_outcome_t *o)
{
    arena_reset(a);
    o->verdict = PROMQLTEST_PASS;
    promql_node_t *root = NULL;
    promql_error_t perr;
    snprintf(o->detail, sizeof(o->detail), "unparsed query");
    if (promql_parse(ev->query, ev->query_len, a, &root, &perr) != 0) {
        if (ev->fail) {
            expected_failure(ev, perr.msg, o);
        } else {
            fail_with(o, "parse error", perr.msg);
        }
        return;
    }
    query_feature(root, o->detail, sizeof(o->detail));
    exec_ctx_t x = {
        .ev = ev,
        .src = promql_source_tsdb(db),
        .opts = { .lookback_ms = 5 * 60 * 1000,
                  .timeout_s = ENGINE_TIMEOUT_S,
                  .delayed_name_removal = true,
                  .query = ev->query,
                  .query_len = strlen(ev->query) },
        .a = a,
    };
    if (ev->range) {
        run_range(&x, root, o);
    } else {
        int64_t t = ev->range_vector ? ev->rv_end : ev->start; /* upstream evaluates at the range vector's end */
        /* start() and friends depend on the evaluation time the @
         * re-run varies, so those queries are not re-run. */
        if (run_instant(&x, root, ev->query, t, true, o) && at_rerun && !uses_query_context(ev->query)) {
            run_at_variants(&x, t, o);
        }
    }
    promql_release(root);
}

/* ---- isolation ---- */

typedef struct wire {
    int32_t verdict;
    uint8_t range_mode, at_rerun, anno_checked;
    int64_t at_time;
    char kind[sizeof(((promqltest_outcome_t *)0)->kind)];
    char detail[sizeof(((promqltest_outcome_t *)0)->detail)];
    uint64_t why_len, anno_len, got_len;
} wire_t;

static void write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return;
        }
        c += w;
        n -= (size_t)w;
    }
}

static bool decode(const buf_t *in, promqltest_outcome_t *o)
{
    wire_t w;
    if (in->len < sizeof(w)) {
        return false;
    }
    memcpy(&w, in->data, sizeof(w));
    if (in->len != sizeof(w) + w.why_len + w.anno_len + w.got_len) {
        return false;
    }
    o->verdict = (promqltest_verdict_t)w.verdict;
    o->range_mode = w.range_mode;
    o->at_rerun = w.at_rerun;
    o->at_time = w.at_time;
    o->anno_checked = w.anno_checked;
    memcpy(o->kind, w.kind, sizeof(o->kind));
    memcpy(o->detail, w.detail, sizeof(o->detail));
    o->kind[sizeof(o->kind) - 1] = o->detail[sizeof(o->detail) - 1] = '\0';
    buf_append(&o->why, in->data + sizeof(w), w.why_len);
    buf_append(&o->anno, in->data + sizeof(w) + w.why_len, w.anno_len);
    buf_append(&o->got, in->data + sizeof(w) + w.why_len + w.anno_len, w.got_len);
    return true;
}

/* The lines of a sanitizer report worth showing, from the child's stderr. */
static void crash_report(int errfd, promqltest_outcome_t *o)
{
    if (errfd < 0 || lseek(errfd, 0, SEEK_SET) != 0) {
        return;
    }
    buf_t b;
    buf_init(&b);
    char chunk[8192];
    ssize_t n;
    while (b.len < (1u << 20) && (n = read(errfd, chunk, sizeof(chunk))) > 0) {
        buf_append(&b, chunk, (size_t)n);
    }
    size_t frames = 0;
    for (char *save = NULL, *l = strtok_r(b.len ? (char *)b.data : (char[]){ 0 }, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save)) {
        bool summary = strstr(l, "SUMMARY:") != NULL;
        bool frame = strstr(l, "    #") == l && frames < 4;
        if (summary || frame || strstr(l, "runtime error:") || strstr(l, "ERROR: AddressSanitizer")) {
            buf_printf(&o->why, "    %s\n", l + strspn(l, " "));
            frames += frame;
        }
        if (summary) {
            char *in = strstr(l, "SUMMARY:");
            promqltest_exec_normalize(in + 9, o->detail, sizeof(o->detail));
        }
    }
    buf_fini(&b);
}

static void exec_isolated(tsdb_t *db, const promqltest_eval_t *ev, arena_t *a, bool at_rerun, int errfd,
                          promqltest_outcome_t *o)
{
    int p[2];
    fflush(stdout);
    fflush(stderr);
    if (errfd >= 0 && (ftruncate(errfd, 0) != 0 || lseek(errfd, 0, SEEK_SET) != 0)) {
        errfd = -1; /* the child shares the offset: start it at 0 */
    }
    if (pipe(p) != 0) {
        exec_inproc(db, ev, a, at_rerun, o);
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        exec_inproc(db, ev, a, at_rerun, o);
        return;
    }
    if (pid == 0) {
        close(p[0]);
        if (errfd >= 0) {
            dup2(errfd, STDERR_FILENO);
        }
        alarm(CHILD_ALARM_S);
        exec_inproc(db, ev, a, at_rerun, o);
        wire_t w = { .verdict = (int32_t)o->verdict,
                     .range_mode = o->range_mode,
                     .at_rerun = o->at_rerun,
                     .at_time = o->at_time,
                     .anno_checked = o->anno_checked,
                     .why_len = o->why.len,
                     .anno_len = o->anno.len,
                     .got_len = o->got.len };
        memcpy(w.kind, o->kind, sizeof(w.kind));
        memcpy(w.detail, o->detail, sizeof(w.detail));
        write_all(p[1], &w, sizeof(w));
        write_all(p[1], o->why.data, o->why.len);
        write_all(p[1], o->anno.data, o->anno.len);
        write_all(p[1], o->got.data, o->got.len);
        _exit(0);
    }
    close(p[1]);
    buf_t in;
    buf_init(&in);
    char chunk[8192];
    for (;;) {
        ssize_t n = read(p[0], chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        buf_append(&in, chunk, (size_t)n);
    }
    close(p[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0 && decode(&in, o))) {
        o->verdict = PROMQLTEST_FAIL;
        bool alarm_hit = WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM;
        set_kind(o, alarm_hit ? "hang" : "crash");
        snprintf(o->detail, sizeof(o->detail), "%s", alarm_hit ? "no result within the alarm" : "no report");
        if (WIFSIGNALED(st)) {
            buf_printf(&o->why, "    the evaluator died of signal %d (%s)\n", WTERMSIG(st), strsignal(WTERMSIG(st)));
        } else {
            buf_printf(&o->why, "    the evaluator exited with status %d\n", WEXITSTATUS(st));
        }
        crash_report(errfd, o);
    }
    buf_fini(&in);
}

void promqltest_exec_eval(tsdb_t *db, const promqltest_eval_t *ev, arena_t *a, const promqltest_exec_opts_t *opts,
                          promqltest_outcome_t *o)
{
    bool at_rerun = opts->at_rerun;
    if (opts->isolate) {
        exec_isolated(db, ev, a, at_rerun, opts->errfd, o);
    } else {
        exec_inproc(db, ev, a, at_rerun, o);
    }
}

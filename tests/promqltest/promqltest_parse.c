/* SPDX-License-Identifier: Apache-2.0 */
/*
 * promqltest_parse: the pure parser of Prometheus' PromQL test scripts
 * (promqltest.h has the language summary and the contracts).
 *
 * Core idea: split the text into trimmed lines once ('#' lines become
 * empty), then walk commands: the first word picks clear, load* or eval*;
 * a load or eval command owns the lines up to the next empty line. Each
 * parse step mirrors a rule of upstream's test.go (patLoad, patEvalInstant,
 * patEvalRange, patExpect, parseNumber) without regexes; series lines
 * (ParseSeriesDesc) are the product's series notation (promql_series.c).
 *
 * Invariants: every array lives in the caller's arena and is sized once
 * from line counts: a non-empty line adds at most one command, one
 * diagnostic and one series or expect line (a malformed block adds exactly
 * one diagnostic per bad line and never a half-filled command); a values
 * list never exceeds PROMQLTEST_MAX_POINTS, so hostile counts ("1x1e18")
 * are errors, not allocations.
 */
#include "promqltest.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/str.h"

typedef struct parser {
    arena_t *a;
    str_t *lines; /* trimmed; comments emptied */
    size_t nlines;
    promqltest_script_t *out;
    size_t nfull; /* non-empty lines: room of cmds and diags */
} parser_t;

static bool is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static str_t trim(str_t s)
{
    while (s.len > 0 && is_space((unsigned char)s.p[0])) {
        s.p++;
        s.len--;
    }
    while (s.len > 0 && is_space((unsigned char)s.p[s.len - 1])) {
        s.len--;
    }
    return s;
}

/* s starts with lit, ASCII case ignored. */
static bool has_prefix_ci(str_t s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len >= n && strncasecmp(s.p, lit, n) == 0;
}

/* ---- series lines: the series notation of query/promql_series.c ---- */

int promqltest_parse_values(const char *s, size_t len, arena_t *a, promqltest_point_t **pts, size_t *n, char *err,
                            size_t errlen)
{
    return promql_series_parse_values(s, len, a, pts, n, err, errlen);
}

bool promqltest_parse_unquote(const char *s, size_t len, arena_t *a, char **out, size_t *n)
{
    return promql_series_unquote(s, len, a, out, n);
}

int promqltest_parse_series(const char *s, size_t len, arena_t *a, promqltest_series_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    promql_series_desc_t d;
    if (promql_series_parse(s, len, a, &d, err, errlen) != 0) {
        return -1;
    }
    out->labels = d.labels;
    out->nlabels = d.nlabels;
    out->pts = d.pts;
    out->npts = d.npts;
    out->histogram = d.histogram;
    return 0;
}

/* ---- numbers ---- */

/* Go's ParseInt(s, 0, 64): sign, base prefix (0x 0o 0b, or a leading 0
 * for octal), '_' only between digits or right after a prefix. */
static bool parse_int_base0(const char *s, size_t len, double *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '+' || s[i] == '-')) {
        neg = s[i++] == '-';
    }
    if (i >= len) {
        return false;
    }
    int base = 10;
    bool prefixed = false;
    bool prev_digit = false; /* an underscore may follow */
    if (s[i] == '0') {
        char c = (char)(i + 1 < len ? s[i + 1] | 0x20 : 0);
        if (len - i >= 3 && (c == 'x' || c == 'o' || c == 'b')) {
            base = c == 'x' ? 16 : c == 'o' ? 8 : 2;
            i += 2;
            prefixed = true;
        } else {
            base = 8;
            i++;
        }
        prev_digit = true;
    }
    uint64_t v = 0;
    size_t ndig = 0;
    for (; i < len; i++) {
        if (s[i] == '_') {
            if (!prev_digit) {
                return false;
            }
            prev_digit = false;
            continue;
        }
        int d = str_hex_digit((unsigned char)s[i]);
        if (d < 0 || d >= base || v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base) {
            return false;
        }
        v = v * (uint64_t)base + (uint64_t)d;
        ndig++;
        prev_digit = true;
    }
    if (!prev_digit || (prefixed && ndig == 0) || v > (uint64_t)INT64_MAX + (neg ? 1u : 0u)) {
        return false;
    }
    *out = neg ? -(double)v : (double)v;
    return true;
}

bool promqltest_parse_number(const char *s, size_t len, double *out)
{
    if (len == 0) {
        return false;
    }
    return parse_int_base0(s, len, out) || str_parse_double(str_from(s, len), out);
}

/* ---- expect lines ---- */

static const struct {
    const char *word;
    promqltest_expect_kind_t kind;
} expect_kinds[] = {
    { "ordered", PROMQLTEST_EXPECT_ORDERED }, { "fail", PROMQLTEST_EXPECT_FAIL },
    { "warn", PROMQLTEST_EXPECT_WARN },       { "no_warn", PROMQLTEST_EXPECT_NO_WARN },
    { "info", PROMQLTEST_EXPECT_INFO },       { "no_info", PROMQLTEST_EXPECT_NO_INFO },
};

int promqltest_parse_expect(const char *s, size_t len, arena_t *a, promqltest_expect_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    str_t rest = trim(str_from(s, len));
    str_t w = promql_series_next_word(&rest);
    if (!str_eq_cstr(w, "expect")) {
        snprintf(err, errlen, "not an expect line");
        return -1;
    }
    w = promql_series_next_word(&rest);
    size_t k = 0;
    while (k < sizeof(expect_kinds) / sizeof(expect_kinds[0]) && !str_eq_cstr(w, expect_kinds[k].word)) {
        k++;
    }
    if (k == sizeof(expect_kinds) / sizeof(expect_kinds[0])) {
        snprintf(err, errlen,
                 "invalid expect statement, must match `expect <type> <match_type>: <string>` format (type %.*s)",
                 (int)w.len, w.p);
        return -1;
    }
    out->kind = expect_kinds[k].kind;
    out->text = "";
    rest = trim(rest);
    if (rest.len == 0) {
        return 0;
    }
    size_t plen;
    if (str_has_prefix(rest, "msg:")) {
        out->match = PROMQLTEST_MATCH_MSG;
        plen = 4;
    } else if (str_has_prefix(rest, "regex:")) {
        out->match = PROMQLTEST_MATCH_REGEX;
        plen = 6;
    } else {
        snprintf(err, errlen, "invalid expect statement: want msg: or regex: after %.*s", (int)w.len, w.p);
        return -1;
    }
    if (rest.len == plen) {
        snprintf(err, errlen, "invalid expect statement: empty %s",
                 out->match == PROMQLTEST_MATCH_MSG ? "msg" : "regex");
        return -1;
    }
    str_t text = trim(str_from(rest.p + plen, rest.len - plen));
    out->text = arena_strndup(a, text.p ? text.p : "", text.len);
    out->text_len = text.len;
    return 0;
}

/* ---- script ---- */

static void diag(parser_t *p, size_t idx, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void diag(parser_t *p, size_t idx, const char *fmt, ...)
{
    promqltest_script_t *o = p->out;
    assert(o->ndiags < p->nfull);
    if (o->diags == NULL) {
        o->diags = arena_alloc(p->a, p->nfull * sizeof(*o->diags));
    }
    promqltest_diag_t *d = &o->diags[o->ndiags++];
    d->line = (unsigned)idx + 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
    va_end(ap);
}

static promqltest_cmd_t *push_cmd(parser_t *p, promqltest_cmd_kind_t kind, size_t idx)
{
    promqltest_script_t *o = p->out;
    assert(o->ncmds < p->nfull);
    if (o->cmds == NULL) {
        o->cmds = arena_alloc(p->a, p->nfull * sizeof(*o->cmds));
    }
    promqltest_cmd_t *c = &o->cmds[o->ncmds++];
    memset(c, 0, sizeof(*c));
    c->kind = kind;
    c->line = (unsigned)idx + 1;
    return c;
}

/* Index of the last line of the block that holds line i. */
static size_t block_end(const parser_t *p, size_t i)
{
    while (i + 1 < p->nlines && p->lines[i + 1].len > 0) {
        i++;
    }
    return i;
}

static bool parse_dur(str_t s, int64_t *ms)
{
    return s.len > 0 && str_parse_duration_ms(s, ms);
}

/* A start-timestamp line: its first word ends with "@st". */
static bool is_st_line(str_t l)
{
    str_t rest = l;
    str_t w = promql_series_next_word(&rest);
    return w.len >= 3 && memcmp(w.p + w.len - 3, "@st", 3) == 0;
}

static size_t parse_load(parser_t *p, size_t i)
{
    str_t rest = p->lines[i];
    str_t w = promql_series_next_word(&rest);
    str_t interval = trim(rest);
    bool nhcb = str_eq_cstr(w, "load_with_nhcb");
    if (!nhcb && !str_eq_cstr(w, "load")) {
        diag(p, i, "invalid load command. (load[_with_nhcb] <step:duration>)");
        return block_end(p, i);
    }
    int64_t gap = 0;
    if (!parse_dur(interval, &gap)) {
        diag(p, i, "invalid step definition \"%.*s\"", (int)interval.len, interval.p);
        return block_end(p, i);
    }
    promqltest_cmd_t *c = push_cmd(p, PROMQLTEST_CMD_LOAD, i);
    promqltest_load_t *ld = &c->u.load;
    ld->interval_ms = gap;
    ld->nhcb = nhcb;
    ld->series = arena_alloc(p->a, (block_end(p, i) - i + 1) * sizeof(*ld->series));
    size_t j = i + 1;
    for (; j < p->nlines && p->lines[j].len > 0; j++) {
        str_t l = p->lines[j];
        if (is_st_line(l)) {
            ld->st_lines++;
            continue;
        }
        promqltest_series_t s;
        char err[200];
        if (promqltest_parse_series(l.p, l.len, p->a, &s, err, sizeof(err)) != 0) {
            diag(p, j, "bad series line: %s", err);
            continue;
        }
        s.line = (unsigned)j + 1;
        ld->series[ld->nseries++] = s;
    }
    return j - 1;
}

/* "from A to B step S" of a range eval or of expect range vector. */
static bool parse_range(parser_t *p, size_t idx, str_t *rest, int64_t *start, int64_t *end, int64_t *step)
{
    str_t w1 = promql_series_next_word(rest), a = promql_series_next_word(rest);
    str_t w2 = promql_series_next_word(rest), b = promql_series_next_word(rest);
    str_t w3 = promql_series_next_word(rest), s = promql_series_next_word(rest);
    if (!str_eq_cstr(w1, "from") || !str_eq_cstr(w2, "to") || !str_eq_cstr(w3, "step")) {
        diag(p, idx, "invalid range: want 'from <start> to <end> step <step>'");
        return false;
    }
    if (!parse_dur(a, start) || !parse_dur(b, end) || !parse_dur(s, step)) {
        diag(p, idx, "invalid duration in 'from %.*s to %.*s step %.*s'", (int)a.len, a.p, (int)b.len, b.p, (int)s.len,
             s.p);
        return false;
    }
    if (*end < *start) {
        diag(p, idx, "invalid test definition, end timestamp (%.*s) is before start timestamp (%.*s)", (int)b.len, b.p,
             (int)a.len, a.p);
        return false;
    }
    if (*step <= 0) {
        diag(p, idx, "invalid step %.*s: must be positive", (int)s.len, s.p);
        return false;
    }
    return true;
}

/* The eval header line into ev; false (diagnosed) when malformed. */
static bool parse_eval_header(parser_t *p, size_t i, promqltest_eval_t *ev)
{
    str_t rest = p->lines[i];
    str_t w = promql_series_next_word(&rest);
    str_t mode = promql_series_next_word(&rest);
    const char *mods[] = { "eval", "eval_fail", "eval_warn", "eval_info", "eval_ordered" };
    size_t m = 0;
    while (m < 5 && !str_eq_cstr(w, mods[m])) {
        m++;
    }
    bool instant = str_eq_cstr(mode, "instant"), range = str_eq_cstr(mode, "range");
    if (m == 5 || !(instant || range) || (range && m == 4)) {
        diag(p, i,
             "invalid evaluation command. Must be either 'eval[_fail|_warn|_ordered] instant [at <offset:duration>] "
             "<query>' or 'eval[_fail|_warn] range from <from> to <to> step <step> <query>'");
        return false;
    }
    ev->fail = m == 1;
    ev->warn = m == 2;
    ev->info = m == 3;
    ev->ordered = m == 4;
    ev->range = range;
    if (instant) {
        str_t at = promql_series_next_word(&rest), t = promql_series_next_word(&rest);
        if (!str_eq_cstr(at, "at") || !parse_dur(t, &ev->start)) {
            diag(p, i, "invalid timestamp definition \"%.*s\"", (int)t.len, t.p);
            return false;
        }
        ev->end = ev->start;
    } else if (!parse_range(p, i, &rest, &ev->start, &ev->end, &ev->step)) {
        return false;
    }
    str_t q = trim(rest);
    if (q.len == 0) {
        diag(p, i, "eval without a query");
        return false;
    }
    ev->query = arena_strndup(p->a, q.p, q.len);
    ev->query_len = q.len;
    return true;
}

static void push_expect(promqltest_eval_t *ev, const promqltest_expect_t *e)
{
    ev->expects[ev->nexpects++] = *e;
    ev->fail |= e->kind == PROMQLTEST_EXPECT_FAIL;
    ev->ordered |= e->kind == PROMQLTEST_EXPECT_ORDERED;
}

/* upstream's validateExpectedCmds */
static const char *expects_invalid(const promqltest_eval_t *ev)
{
    size_t n[6] = { 0 };
    for (size_t k = 0; k < ev->nexpects; k++) {
        n[ev->expects[k].kind]++;
    }
    if (n[PROMQLTEST_EXPECT_INFO] && n[PROMQLTEST_EXPECT_NO_INFO]) {
        return "invalid expect lines, info and no_info cannot be used together";
    }
    if (n[PROMQLTEST_EXPECT_WARN] && n[PROMQLTEST_EXPECT_NO_WARN]) {
        return "invalid expect lines, warn and no_warn cannot be used together";
    }
    if (n[PROMQLTEST_EXPECT_FAIL] > 1) {
        return "invalid expect lines, multiple expect fail lines are not allowed";
    }
    return NULL;
}

/* One line of an eval block. 1: the line ends the block (a scalar or a
 * deprecated expected_fail_*), 0: go on, -1: diagnosed. */
static int parse_eval_line(parser_t *p, size_t j, promqltest_eval_t *ev)
{
    str_t l = p->lines[j];
    char err[200];
    promqltest_expect_t e = { .line = (unsigned)j + 1 };
    static const char *const old[] = { "expected_fail_message", "expected_fail_regexp" };
    for (int k = 0; k < 2; k++) {
        if (ev->fail && str_has_prefix(l, old[k])) {
            str_t t = trim(str_from(l.p + strlen(old[k]), l.len - strlen(old[k])));
            e.kind = PROMQLTEST_EXPECT_FAIL;
            e.match = k == 0 ? PROMQLTEST_MATCH_MSG : PROMQLTEST_MATCH_REGEX;
            e.text = arena_strndup(p->a, t.p, t.len);
            e.text_len = t.len;
            push_expect(ev, &e);
            return 1;
        }
    }
    if (str_has_prefix(l, "expect range vector")) {
        str_t rest = str_from(l.p + 19, l.len - 19);
        if (!parse_range(p, j, &rest, &ev->rv_start, &ev->rv_end, &ev->rv_step)) {
            return -1;
        }
        ev->range_vector = true;
        return 0;
    }
    if (str_has_prefix(l, "expect string")) {
        str_t lit = trim(str_from(l.p + 13, l.len - 13));
        char *u = NULL;
        size_t ul = 0;
        if (l.len == 13 || l.p[13] != ' ' || lit.len == 0 || !promqltest_parse_unquote(lit.p, lit.len, p->a, &u, &ul)) {
            diag(p, j, "expected string literal not valid - check that the string is correctly quoted");
            return -1;
        }
        ev->has_string = true;
        ev->string = u;
        ev->string_len = ul;
        return 0;
    }
    str_t rest = l;
    if (str_eq_cstr(promql_series_next_word(&rest), "expect")) {
        if (promqltest_parse_expect(l.p, l.len, p->a, &e, err, sizeof(err)) != 0) {
            diag(p, j, "%s", err);
            return -1;
        }
        e.line = (unsigned)j + 1;
        push_expect(ev, &e);
        const char *bad = expects_invalid(ev);
        if (bad) {
            diag(p, j, "%s", bad);
            return -1;
        }
        return 0;
    }
    if (promqltest_parse_number(l.p, l.len, &ev->scalar)) {
        ev->expect_scalar = true;
        return 1;
    }
    if (has_prefix_ci(l, "{{")) {
        ev->histogram = true; /* a histogram scalar: not decoded */
        return 0;
    }
    promqltest_series_t s;
    if (promqltest_parse_series(l.p, l.len, p->a, &s, err, sizeof(err)) != 0) {
        diag(p, j, "bad expected series: %s", err);
        return -1;
    }
    s.line = (unsigned)j + 1;
    if (s.npts > 1 && !ev->range && !ev->range_vector) {
        diag(p, j,
             "expecting multiple values in instant evaluation not allowed. consider using 'expect range vector' "
             "directive to enable a range vector result for an instant query");
        return -1;
    }
    ev->histogram |= s.histogram;
    ev->series[ev->nseries++] = s;
    return 0;
}

static size_t parse_eval(parser_t *p, size_t i)
{
    promqltest_eval_t ev = { .line = (unsigned)i + 1 };
    if (!parse_eval_header(p, i, &ev)) {
        return block_end(p, i);
    }
    size_t room = block_end(p, i) - i + 1; /* a line adds one expect or one series at most */
    ev.expects = arena_alloc(p->a, room * sizeof(*ev.expects));
    ev.series = arena_alloc(p->a, room * sizeof(*ev.series));
    size_t j = i + 1;
    for (; j < p->nlines && p->lines[j].len > 0; j++) {
        int rc = parse_eval_line(p, j, &ev);
        if (rc < 0) {
            return block_end(p, j);
        }
        if (rc > 0) {
            j++;
            break;
        }
    }
    promqltest_cmd_t *c = push_cmd(p, PROMQLTEST_CMD_EVAL, i);
    c->u.eval = ev;
    return j - 1;
}

size_t promqltest_parse(const char *text, size_t len, arena_t *a, promqltest_script_t *out)
{
    memset(out, 0, sizeof(*out));
    parser_t p = { .a = a, .out = out };
    if (text == NULL) {
        text = "";
        len = 0;
    }
    size_t n = 1;
    for (size_t i = 0; i < len; i++) {
        n += text[i] == '\n';
    }
    p.lines = arena_alloc(a, n * sizeof(*p.lines));
    size_t st = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || text[i] == '\n') {
            str_t l = trim(str_from(text + st, i - st));
            if (l.len > 0 && l.p[0] == '#') {
                l.len = 0;
            }
            p.lines[p.nlines++] = l;
            p.nfull += l.len > 0;
            st = i + 1;
        }
    }
    for (size_t i = 0; i < p.nlines; i++) {
        str_t l = p.lines[i];
        if (l.len == 0) {
            continue;
        }
        str_t rest = l;
        str_t w = promql_series_next_word(&rest);
        if (w.len == 5 && has_prefix_ci(w, "clear")) {
            push_cmd(&p, PROMQLTEST_CMD_CLEAR, i);
        } else if (has_prefix_ci(w, "load")) {
            i = parse_load(&p, i);
        } else if (has_prefix_ci(w, "eval")) {
            i = parse_eval(&p, i);
        } else {
            diag(&p, i, "invalid command \"%.*s\"", (int)(l.len > 80 ? 80 : l.len), l.p);
            i = block_end(&p, i);
        }
    }
    return out->ndiags;
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_tmpl_func: Go's text/template builtins (and, or, not, len, index,
 * slice, print, printf, println, eq, ne, lt, le, gt, ge, html, urlquery,
 * js), the
 * functions Prometheus and Alertmanager share (humanizeDuration, toUpper,
 * toLower, match, reReplaceAll, safeHtml) and Prometheus' own (query,
 * first, label, value, strvalue, sortByLabel, humanize*, toTime,
 * toDuration, parseDuration, now, title, stripPort, stripDomain, graphLink,
 * tableLink, externalURL, pathPrefix); values print through
 * alerts_tmpl_fmt.c. Alertmanager's own are in alerts_tmpl_notify.c.
 *
 * Core idea: tables of {name, parameter types, call} in segments, and a
 * function table per user made of segments (tmpl_functab_prom here); the
 * parser resolves names in the table its caller chose, the executor checks
 * arity and parameter types (Go's messages) before the call, so each
 * function only computes, appending results to the execution arena.
 *
 * Invariants: functions never do I/O except `query` through the caller's
 * callback; results live in the execution arena; regular expressions use
 * PCRE2 (Go's RE2 syntax is a subset in practice; $ is end-of-text only);
 * each call is O(input) except sortByLabel, O(n log n).
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <arpa/inet.h>
#include <assert.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/alerts_int.h"
#include "common/json_out.h"
#include "common/mem.h"

/* ---- helpers ---- */

static tmpl_val_t str_val(const tmpl_fctx_t *c, buf_t *b)
{
    tmpl_val_t v = { .kind = TMPL_V_STRING };
    v.s = str_from(arena_strndup(c->arena, b->data ? (char *)b->data : "", b->len), b->len);
    buf_fini(b);
    return v;
}

/* Prometheus' convertToFloat. */
static int to_float(const tmpl_val_t *v, double *f, buf_t *err)
{
    switch (v->kind) {
    case TMPL_V_FLOAT:
        *f = v->f;
        return 0;
    case TMPL_V_INT:
        *f = (double)v->i;
        return 0;
    case TMPL_V_DURATION:
        *f = (double)v->i / 1e9;
        return 0;
    case TMPL_V_STRING:
        if (str_parse_double(v->s, f)) {
            return 0;
        }
        buf_printf(err, "strconv.ParseFloat: parsing ");
        labels_quote(v->s, err);
        buf_puts(err, ": invalid syntax");
        return -1;
    default:
        buf_printf(err, "can't convert %s to float", tmpl_val_type(v));
        return -1;
    }
}

static const char nil_deref[] = "runtime error: invalid memory address or nil pointer dereference";

/* ---- builtins ---- */

static int f_not(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)c, (void)n, (void)err;
    r->kind = TMPL_V_BOOL;
    switch (a[0].kind) {
    case TMPL_V_INVALID:
    case TMPL_V_NIL:
        r->b = true;
        break;
    case TMPL_V_BOOL:
        r->b = !a[0].b;
        break;
    case TMPL_V_INT:
    case TMPL_V_DURATION:
        r->b = a[0].i == 0;
        break;
    case TMPL_V_FLOAT:
        r->b = a[0].f == 0;
        break;
    case TMPL_V_STRING:
        r->b = a[0].s.len == 0;
        break;
    case TMPL_V_MAP:
        r->b = a[0].nlabels == 0;
        break;
    case TMPL_V_SAMPLES:
        r->b = a[0].n == 0;
        break;
    case TMPL_V_SAMPLE:
        r->b = a[0].samples == NULL;
        break;
    case TMPL_V_KV:
        r->b = a[0].nlabels == 0;
        break;
    case TMPL_V_ALERTS:
    case TMPL_V_PAIRS:
    case TMPL_V_STRINGS:
        r->b = tmpl_list_len(&a[0]) == 0;
        break;
    default:
        r->b = false;
        break;
    }
    return 0;
}

static int f_len(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)c, (void)n;
    r->kind = TMPL_V_INT;
    switch (a[0].kind) {
    case TMPL_V_STRING:
        r->i = (int64_t)a[0].s.len;
        return 0;
    case TMPL_V_MAP:
    case TMPL_V_KV:
        r->i = (int64_t)a[0].nlabels;
        return 0;
    case TMPL_V_SAMPLES:
        r->i = (int64_t)a[0].n;
        return 0;
    case TMPL_V_ALERTS:
    case TMPL_V_PAIRS:
    case TMPL_V_STRINGS:
        r->i = (int64_t)tmpl_list_len(&a[0]);
        return 0;
    case TMPL_V_INVALID:
    case TMPL_V_NIL:
        buf_puts(err, "len of nil pointer");
        return -1;
    default:
        buf_printf(err, "len of type %s", tmpl_val_type(&a[0]));
        return -1;
    }
}

/* Go's index bounds: indexArg lets i == len through (it checks > cap),
 * then reflect's Index panics, which the call turns into an error. */
static int index_check(int64_t i, size_t len, const char *what, buf_t *err)
{
    if (i < 0 || (uint64_t)i > len) {
        buf_printf(err, "index out of range: %lld", (long long)i);
        return -1;
    }
    if ((uint64_t)i == len) {
        buf_printf(err, "reflect: %s index out of range", what);
        return -1;
    }
    return 0;
}

static int f_index(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)c;
    tmpl_val_t item = a[0];
    if (item.kind == TMPL_V_INVALID || item.kind == TMPL_V_NIL) {
        buf_puts(err, "index of untyped nil");
        return -1;
    }
    for (size_t k = 1; k < n; k++) {
        const tmpl_val_t *ix = &a[k];
        if (item.kind == TMPL_V_MAP || item.kind == TMPL_V_KV) {
            if (ix->kind != TMPL_V_STRING) {
                buf_printf(err, "value has type %s; should be string", tmpl_val_type(ix));
                return -1;
            }
            tmpl_val_t v = { .kind = TMPL_V_STRING, .s = { "", 0 } }; /* "" when absent */
            for (size_t i = 0; i < item.nlabels; i++) {
                if (str_eq(item.labels[i].name, ix->s)) {
                    v.s = item.labels[i].value;
                    break;
                }
            }
            item = v;
        } else if (item.kind == TMPL_V_ALERTS || item.kind == TMPL_V_PAIRS || item.kind == TMPL_V_STRINGS) {
            if (ix->kind != TMPL_V_INT) {
                buf_printf(err, "cannot index slice/array with type %s", tmpl_val_type(ix));
                return -1;
            }
            if (index_check(ix->i, tmpl_list_len(&item), "slice", err) != 0) {
                return -1;
            }
            item = tmpl_list_elem(&item, (size_t)ix->i);
        } else if (item.kind == TMPL_V_SAMPLES || item.kind == TMPL_V_STRING) {
            if (ix->kind != TMPL_V_INT) {
                buf_printf(err, "cannot index slice/array with type %s", tmpl_val_type(ix));
                return -1;
            }
            size_t len = item.kind == TMPL_V_SAMPLES ? item.n : item.s.len;
            if (index_check(ix->i, len, item.kind == TMPL_V_STRING ? "string" : "slice", err) != 0) {
                return -1;
            }
            if (item.kind == TMPL_V_SAMPLES) {
                tmpl_val_t v = { .kind = TMPL_V_SAMPLE, .samples = &item.samples[ix->i] };
                item = v;
            } else {
                tmpl_val_t v = { .kind = TMPL_V_INT, .i = (unsigned char)item.s.p[ix->i] };
                item = v;
            }
        } else {
            buf_printf(err, "can't index item of type %s", tmpl_val_type(&item));
            return -1;
        }
    }
    *r = item;
    return 0;
}

/* Go's indexArg for slice: an int in [0, cap]. */
static int slice_index(const tmpl_val_t *ix, size_t cap, size_t *out, buf_t *err)
{
    if (ix->kind == TMPL_V_INVALID || ix->kind == TMPL_V_NIL) {
        buf_puts(err, "cannot index slice/array with nil");
        return -1;
    }
    if (ix->kind != TMPL_V_INT) {
        buf_printf(err, "cannot index slice/array with type %s", tmpl_val_type(ix));
        return -1;
    }
    if (ix->i < 0 || (uint64_t)ix->i > cap) {
        buf_printf(err, "index out of range: %lld", (long long)ix->i);
        return -1;
    }
    *out = (size_t)ix->i;
    return 0;
}

/* Go's slice builtin: item[i:j] (or [i:j:k], where k only bounds j) of a
 * string or a list value. */
static int f_slice(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)c;
    tmpl_val_t item = a[0];
    size_t nidx = n - 1;
    if (item.kind == TMPL_V_INVALID || item.kind == TMPL_V_NIL) {
        buf_puts(err, "slice of untyped nil");
        return -1;
    }
    if (nidx > 3) {
        buf_printf(err, "too many slice indexes: %zu", nidx);
        return -1;
    }
    size_t len = 0;
    if (item.kind == TMPL_V_STRING) {
        if (nidx == 3) {
            buf_puts(err, "cannot 3-index slice a string");
            return -1;
        }
        len = item.s.len;
    } else if (item.kind == TMPL_V_SAMPLES) {
        len = item.n;
    } else if (item.kind == TMPL_V_ALERTS || item.kind == TMPL_V_PAIRS || item.kind == TMPL_V_STRINGS) {
        len = tmpl_list_len(&item);
    } else {
        buf_printf(err, "can't slice item of type %s", tmpl_val_type(&item));
        return -1;
    }
    size_t idx[3] = { 0, len, len };
    for (size_t i = 0; i < nidx; i++) {
        if (slice_index(&a[1 + i], len, &idx[i], err) != 0) {
            return -1;
        }
    }
    if (idx[0] > idx[1] || (nidx == 3 && idx[1] > idx[2])) {
        bool first = idx[0] > idx[1];
        buf_printf(err, "invalid slice index: %zu > %zu", first ? idx[0] : idx[1], first ? idx[1] : idx[2]);
        return -1;
    }
    *r = item;
    size_t lo = idx[0], cnt = idx[1] - idx[0];
    switch (item.kind) {
    case TMPL_V_STRING:
        r->s = str_from(item.s.p + lo, cnt);
        r->b = false;
        break;
    case TMPL_V_SAMPLES:
        r->samples = item.samples + lo;
        r->n = cnt;
        break;
    case TMPL_V_PAIRS:
        r->labels = item.labels + lo;
        r->nlabels = cnt;
        break;
    case TMPL_V_ALERTS:
        r->p = (const alerts_notif_alert_t *const *)item.p + lo;
        r->n = cnt;
        break;
    default: /* STRINGS */
        r->p = (const str_t *)item.p + lo;
        r->n = cnt;
        break;
    }
    return 0;
}

static bool is_stringish(const tmpl_val_t *v)
{
    return v->kind == TMPL_V_STRING;
}

/* fmt.Sprint: a space between operands when neither is a string. */
static int f_print(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)err;
    buf_t b = { 0 };
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && !is_stringish(&a[i]) && !is_stringish(&a[i - 1])) {
            buf_putc(&b, ' ');
        }
        tmpl_val_fprint(&a[i], true, &b);
    }
    *r = str_val(c, &b);
    return 0;
}

static int f_println(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)err;
    buf_t b = { 0 };
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            buf_putc(&b, ' ');
        }
        tmpl_val_fprint(&a[i], true, &b);
    }
    buf_putc(&b, '\n');
    *r = str_val(c, &b);
    return 0;
}

static int f_printf(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)err;
    buf_t b = { 0 };
    tmpl_sprintf(a[0].s, a + 1, n - 1, &b);
    *r = str_val(c, &b);
    return 0;
}

typedef enum bkind {
    BK_INVALID,
    BK_BOOL,
    BK_INT,
    BK_FLOAT,
    BK_STRING,
    BK_OTHER,
} bkind_t;

static bkind_t basic_kind(const tmpl_val_t *v)
{
    switch (v->kind) {
    case TMPL_V_BOOL:
        return BK_BOOL;
    case TMPL_V_INT:
    case TMPL_V_DURATION:
        return BK_INT;
    case TMPL_V_FLOAT:
        return BK_FLOAT;
    case TMPL_V_STRING:
        return BK_STRING;
    case TMPL_V_INVALID:
    case TMPL_V_NIL:
        return BK_INVALID;
    default:
        return BK_OTHER;
    }
}

static const char bad_cmp[] = "incompatible types for comparison";
static const char bad_cmp_type[] = "invalid type for comparison";

static int eq2(const tmpl_val_t *x, const tmpl_val_t *y, bool *truth, buf_t *err)
{
    bkind_t k1 = basic_kind(x), k2 = basic_kind(y);
    *truth = false;
    if (k1 != k2) {
        if (k1 != BK_INVALID && k2 != BK_INVALID) {
            buf_puts(err, bad_cmp);
            return -1;
        }
        return 0;
    }
    switch (k1) {
    case BK_BOOL:
        *truth = x->b == y->b;
        break;
    case BK_INT:
        *truth = x->i == y->i;
        break;
    case BK_FLOAT:
        *truth = x->f == y->f;
        break;
    case BK_STRING:
        *truth = str_eq(x->s, y->s);
        break;
    case BK_INVALID:
        *truth = true;
        break;
    case BK_OTHER:
        if (x->kind == TMPL_V_SAMPLE && y->kind == TMPL_V_SAMPLE) {
            *truth = x->samples == y->samples;
            break;
        }
        buf_printf(err, "non-comparable type %s", tmpl_val_type(x));
        return -1;
    }
    return 0;
}

static int f_eq(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)c;
    if (n < 2) {
        buf_puts(err, "missing argument for comparison");
        return -1;
    }
    r->kind = TMPL_V_BOOL;
    r->b = false;
    for (size_t i = 1; i < n; i++) {
        bool t = false;
        if (eq2(&a[0], &a[i], &t, err) != 0) {
            return -1;
        }
        if (t) {
            r->b = true;
            return 0;
        }
    }
    return 0;
}

static int f_ne(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)c, (void)n;
    bool t = false;
    if (eq2(&a[0], &a[1], &t, err) != 0) {
        return -1;
    }
    r->kind = TMPL_V_BOOL;
    r->b = !t;
    return 0;
}

static int lt2(const tmpl_val_t *x, const tmpl_val_t *y, bool *truth, buf_t *err)
{
    bkind_t k1 = basic_kind(x), k2 = basic_kind(y);
    if (k1 == BK_INVALID || k1 == BK_OTHER || k2 == BK_INVALID || k2 == BK_OTHER || k1 == BK_BOOL) {
        buf_puts(err, bad_cmp_type);
        return -1;
    }
    if (k1 != k2) {
        buf_puts(err, bad_cmp);
        return -1;
    }
    *truth = k1 == BK_INT ? x->i < y->i : k1 == BK_FLOAT ? x->f < y->f : str_cmp(x->s, y->s) < 0;
    return 0;
}

typedef enum { CMP_LT, CMP_LE, CMP_GT, CMP_GE } cmp_op_t;

/* Go's lt/le/gt/ge on a[0], a[1]. Once lt2 succeeds both sides are the
 * same ordered kind, so eq2 cannot fail. */
static int cmp_fn(const tmpl_val_t *a, tmpl_val_t *r, buf_t *err, cmp_op_t op)
{
    bool lt = false, eq = false;
    if (lt2(&a[0], &a[1], &lt, err) != 0) {
        return -1;
    }
    if ((op == CMP_LE || op == CMP_GT) && eq2(&a[0], &a[1], &eq, err) != 0) {
        return -1;
    }
    r->kind = TMPL_V_BOOL;
    r->b = op == CMP_LT ? lt : op == CMP_LE ? lt || eq : op == CMP_GT ? !(lt || eq) : !lt;
    return 0;
}

/* lt, le, gt, ge: one comparison (cmp_fn) with its operator. */
#define TMPL_CMP_FUNC(fname, op)                                                                                       \
    static int fname(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)                   \
    {                                                                                                                  \
        (void)c, (void)n;                                                                                              \
        return cmp_fn(a, r, err, op);                                                                                  \
    }
TMPL_CMP_FUNC(f_lt, CMP_LT)
TMPL_CMP_FUNC(f_le, CMP_LE)
TMPL_CMP_FUNC(f_gt, CMP_GT)
TMPL_CMP_FUNC(f_ge, CMP_GE)

/* Go's evalArgs for html/urlquery: one string arg as is, else fmt.Sprint. */
static void sprint_args(const tmpl_val_t *a, size_t n, buf_t *b)
{
    if (n == 1 && a[0].kind == TMPL_V_STRING) {
        buf_append(b, a[0].s.p, a[0].s.len);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && !is_stringish(&a[i]) && !is_stringish(&a[i - 1])) {
            buf_putc(b, ' ');
        }
        tmpl_val_fprint(&a[i], true, b);
    }
}

static int f_html(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)err;
    buf_t in = { 0 }, b = { 0 };
    sprint_args(a, n, &in);
    for (size_t i = 0; i < in.len; i++) {
        switch (in.data[i]) {
        case '"':
            buf_puts(&b, "&#34;");
            break;
        case '\'':
            buf_puts(&b, "&#39;");
            break;
        case '&':
            buf_puts(&b, "&amp;");
            break;
        case '<':
            buf_puts(&b, "&lt;");
            break;
        case '>':
            buf_puts(&b, "&gt;");
            break;
        case '\0':
            buf_puts(&b, "\xef\xbf\xbd");
            break;
        default:
            buf_putc(&b, in.data[i]);
        }
    }
    buf_fini(&in);
    *r = str_val(c, &b);
    r->b = true; /* already escaped */
    return 0;
}

static int f_urlquery(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)err;
    buf_t in = { 0 }, b = { 0 };
    sprint_args(a, n, &in);
    buf_put_query_escaped(&b, (const char *)in.data, in.len); /* url.QueryEscape */
    buf_fini(&in);
    *r = str_val(c, &b);
    return 0;
}

/* Go's JSEscapeString; runes beyond ASCII are taken as printable. */
static int f_js(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)err;
    buf_t in = { 0 }, b = { 0 };
    sprint_args(a, n, &in);
    for (size_t i = 0; i < in.len; i++) {
        uint8_t ch = in.data[i];
        switch (ch) {
        case '\\':
            buf_puts(&b, "\\\\");
            break;
        case '\'':
            buf_puts(&b, "\\'");
            break;
        case '"':
            buf_puts(&b, "\\\"");
            break;
        case '<':
            buf_puts(&b, "\\u003C");
            break;
        case '>':
            buf_puts(&b, "\\u003E");
            break;
        case '&':
            buf_puts(&b, "\\u0026");
            break;
        case '=':
            buf_puts(&b, "\\u003D");
            break;
        default:
            if (ch < ' ') {
                buf_printf(&b, "\\u00%02X", ch);
            } else {
                buf_putc(&b, ch);
            }
        }
    }
    buf_fini(&in);
    *r = str_val(c, &b);
    return 0;
}

/* ---- Prometheus ---- */

static int f_query(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)n;
    const alerts_tmpl_data_t *d = c->data;
    if (d->query == NULL) {
        buf_puts(err, "no query engine");
        return -1;
    }
    alerts_tmpl_sample_t *res = NULL;
    size_t nres = 0;
    if (d->query(d->query_ctx, a[0].s.p, a[0].s.len, d->eval_ms, c->arena, &res, &nres, err) != 0) {
        return -1;
    }
    r->kind = TMPL_V_SAMPLES;
    r->samples = res;
    r->n = res ? nres : 0;
    return 0;
}

static int f_first(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)c, (void)n;
    if (a[0].n == 0) {
        buf_puts(err, "first() called on vector with no elements");
        return -1;
    }
    r->kind = TMPL_V_SAMPLE;
    r->samples = &a[0].samples[0];
    return 0;
}

static str_t sample_label(const alerts_tmpl_sample_t *s, str_t name)
{
    for (size_t i = 0; i < s->nlabels; i++) {
        if (str_eq(s->labels[i].name, name)) {
            return s->labels[i].value;
        }
    }
    return (str_t){ "", 0 };
}

static int f_label(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)c, (void)n;
    if (a[1].samples == NULL) {
        buf_puts(err, nil_deref);
        return -1;
    }
    r->kind = TMPL_V_STRING;
    r->s = sample_label(a[1].samples, a[0].s);
    return 0;
}

static int f_value(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)c, (void)n;
    if (a[0].samples == NULL) {
        buf_puts(err, nil_deref);
        return -1;
    }
    r->kind = TMPL_V_FLOAT;
    r->f = a[0].samples->value;
    return 0;
}

static int f_strvalue(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)c, (void)n;
    if (a[0].samples == NULL) {
        buf_puts(err, nil_deref);
        return -1;
    }
    r->kind = TMPL_V_STRING;
    r->s = sample_label(a[0].samples, STR_LIT("__value__"));
    return 0;
}

static int f_sort_by_label(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)n, (void)err;
    size_t cnt = a[1].n;
    alerts_tmpl_sample_t *v = arena_alloc(c->arena, (cnt + 1) * sizeof(*v));
    alerts_tmpl_sample_t *tmp = arena_alloc(c->arena, (cnt + 1) * sizeof(*v));
    if (cnt > 0) {
        memcpy(v, a[1].samples, cnt * sizeof(*v));
    }
    /* bottom-up merge sort: stable, as sort.Stable */
    for (size_t w = 1; w < cnt; w *= 2) {
        for (size_t lo = 0; lo < cnt; lo += 2 * w) {
            size_t mid = lo + w < cnt ? lo + w : cnt, hi = lo + 2 * w < cnt ? lo + 2 * w : cnt;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                if (str_cmp(sample_label(&v[j], a[0].s), sample_label(&v[i], a[0].s)) < 0) {
                    tmp[k++] = v[j++];
                } else {
                    tmp[k++] = v[i++];
                }
            }
            while (i < mid) {
                tmp[k++] = v[i++];
            }
            while (j < hi) {
                tmp[k++] = v[j++];
            }
        }
        memcpy(v, tmp, cnt * sizeof(*v));
    }
    r->kind = TMPL_V_SAMPLES;
    r->samples = v;
    r->n = cnt;
    return 0;
}

static int f_humanize(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)n;
    double v = 0;
    if (to_float(&a[0], &v, err) != 0) {
        return -1;
    }
    buf_t b = { 0 };
    const char *prefix = "";
    if (v == 0 || isnan(v) || isinf(v)) {
        tmpl_fmt_g(v, 4, &b);
        *r = str_val(c, &b);
        return 0;
    }
    if (fabs(v) >= 1) {
        static const char *const big[] = { "k", "M", "G", "T", "P", "E", "Z", "Y" };
        for (size_t i = 0; i < 8 && fabs(v) >= 1000; i++) {
            prefix = big[i];
            v /= 1000;
        }
    } else {
        static const char *const small[] = { "m", "u", "n", "p", "f", "a", "z", "y" };
        for (size_t i = 0; i < 8 && fabs(v) < 1; i++) {
            prefix = small[i];
            v *= 1000;
        }
    }
    tmpl_fmt_g(v, 4, &b);
    buf_puts(&b, prefix);
    *r = str_val(c, &b);
    return 0;
}

static int f_humanize1024(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)n;
    double v = 0;
    if (to_float(&a[0], &v, err) != 0) {
        return -1;
    }
    buf_t b = { 0 };
    const char *prefix = "";
    if (!(fabs(v) <= 1 || isnan(v) || isinf(v))) {
        static const char *const big[] = { "ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi" };
        for (size_t i = 0; i < 8 && fabs(v) >= 1024; i++) {
            prefix = big[i];
            v /= 1024;
        }
    }
    tmpl_fmt_g(v, 4, &b);
    buf_puts(&b, prefix);
    *r = str_val(c, &b);
    return 0;
}

static int f_humanize_duration(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)n;
    double v = 0;
    if (to_float(&a[0], &v, err) != 0) {
        return -1;
    }
    buf_t b = { 0 };
    if (isnan(v) || isinf(v)) {
        tmpl_fmt_g(v, 4, &b);
    } else if (v == 0) {
        tmpl_fmt_g(v, 4, &b);
        buf_putc(&b, 's');
    } else if (fabs(v) >= 1) {
        const char *sign = "";
        if (v < 0) {
            sign = "-";
            v = -v;
        }
        /* Go's int64(v) of a float beyond int64 is implementation-defined; clamp. */
        int64_t iv = v >= 9.2e18 ? INT64_MAX : (int64_t)v;
        long long sec = iv % 60, min = iv / 60 % 60, hrs = iv / 3600 % 24, days = iv / 86400;
        if (days != 0) {
            buf_printf(&b, "%s%lldd %lldh %lldm %llds", sign, days, hrs, min, sec);
        } else if (hrs != 0) {
            buf_printf(&b, "%s%lldh %lldm %llds", sign, hrs, min, sec);
        } else if (min != 0) {
            buf_printf(&b, "%s%lldm %llds", sign, min, sec);
        } else {
            buf_puts(&b, sign);
            tmpl_fmt_g(v, 4, &b);
            buf_putc(&b, 's');
        }
    } else {
        const char *prefix = "";
        static const char *const small[] = { "m", "u", "n", "p", "f", "a", "z", "y" };
        for (size_t i = 0; i < 8 && fabs(v) < 1; i++) {
            prefix = small[i];
            v *= 1000;
        }
        tmpl_fmt_g(v, 4, &b);
        buf_puts(&b, prefix);
        buf_putc(&b, 's');
    }
    *r = str_val(c, &b);
    return 0;
}

static int f_humanize_percentage(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)n;
    double v = 0;
    if (to_float(&a[0], &v, err) != 0) {
        return -1;
    }
    buf_t b = { 0 };
    tmpl_fmt_g(v * 100, 4, &b);
    buf_putc(&b, '%');
    *r = str_val(c, &b);
    return 0;
}

/* Prometheus' floatToTime: seconds → time truncated to milliseconds. */
static int float_to_time(double v, int64_t *ns, buf_t *err)
{
    if (isnan(v) || isinf(v)) {
        buf_puts(err, "value is NaN or Inf");
        return 1;
    }
    double ts = v * 1e9;
    if (ts >= 9223372036854775808.0 || ts < -9223372036854775808.0) {
        tmpl_fmt_float(v, err);
        buf_puts(err, " cannot be represented as a nanoseconds timestamp since it overflows int64");
        return -1;
    }
    int64_t ms = (int64_t)ts / 1000000;
    *ns = ms * 1000000;
    return 0;
}

static int f_humanize_timestamp(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)n;
    double v = 0;
    if (to_float(&a[0], &v, err) != 0) {
        return -1;
    }
    buf_t b = { 0 };
    int64_t ns = 0;
    buf_t e = { 0 };
    int rc = float_to_time(v, &ns, &e);
    if (rc < 0) {
        buf_append(err, e.data, e.len);
        buf_fini(&e);
        return -1;
    }
    buf_fini(&e);
    if (rc > 0) {
        tmpl_fmt_g(v, 4, &b);
    } else {
        tmpl_fmt_time(ns, &b);
    }
    *r = str_val(c, &b);
    return 0;
}

static int f_to_time(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)c, (void)n;
    double v = 0;
    int64_t ns = 0;
    if (to_float(&a[0], &v, err) != 0 || float_to_time(v, &ns, err) != 0) {
        return -1;
    }
    r->kind = TMPL_V_TIME;
    r->i = ns;
    return 0;
}

static int f_to_duration(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)c, (void)n;
    double v = 0;
    if (to_float(&a[0], &v, err) != 0) {
        return -1;
    }
    if (isnan(v) || isinf(v)) {
        buf_puts(err, "value is NaN or Inf");
        return -1;
    }
    double d = v * 1e9;
    if (d >= 9223372036854775808.0 || d < -9223372036854775808.0) {
        tmpl_fmt_float(v, err);
        buf_puts(err, " cannot be represented as a nanoseconds duration since it overflows int64");
        return -1;
    }
    r->kind = TMPL_V_DURATION;
    r->i = (int64_t)d;
    return 0;
}

static int f_parse_duration(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)c, (void)n;
    int64_t ms = 0;
    if (!str_parse_duration_ms(a[0].s, &ms)) {
        buf_puts(err, "not a valid duration string: ");
        labels_quote(a[0].s, err);
        return -1;
    }
    r->kind = TMPL_V_FLOAT;
    r->f = (double)ms / 1000.0;
    return 0;
}

static int f_now(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)a, (void)n, (void)err;
    r->kind = TMPL_V_FLOAT;
    r->f = (double)c->data->eval_ms / 1000.0;
    return 0;
}

/* unicode.ToUpper / ToLower for the two-byte runes of Latin-1, Latin
 * Extended-A, Greek and Cyrillic whose case partner is also two bytes;
 * other runes map to themselves. */
uint32_t tmpl_fold2(uint32_t r, bool upper)
{
    bool pair_even_upper = (r >= 0x100 && r <= 0x12f) || (r >= 0x132 && r <= 0x137) || (r >= 0x14a && r <= 0x177) ||
                           (r >= 0x460 && r <= 0x481);
    bool pair_odd_upper = (r >= 0x139 && r <= 0x148) || (r >= 0x179 && r <= 0x17e);
    if (upper) {
        if ((r >= 0xe0 && r <= 0xfe && r != 0xf7) || (r >= 0x3b1 && r <= 0x3c9 && r != 0x3c2) ||
            (r >= 0x430 && r <= 0x44f)) {
            return r - 0x20;
        }
        if (r >= 0x450 && r <= 0x45f) {
            return r - 0x50;
        }
        if ((pair_even_upper && r % 2 == 1) || (pair_odd_upper && r % 2 == 0)) {
            return r - 1;
        }
        return r == 0xff ? 0x178 : r == 0xb5 ? 0x39c : r == 0x3c2 ? 0x3a3 : r;
    }
    if ((r >= 0xc0 && r <= 0xde && r != 0xd7) || (r >= 0x391 && r <= 0x3a9 && r != 0x3a2) ||
        (r >= 0x410 && r <= 0x42f)) {
        return r + 0x20;
    }
    if (r >= 0x400 && r <= 0x40f) {
        return r + 0x50;
    }
    if ((pair_even_upper && r % 2 == 0) || (pair_odd_upper && r % 2 == 1)) {
        return r + 1;
    }
    return r == 0x178 ? 0xff : r;
}

typedef enum { CASE_UPPER, CASE_LOWER, CASE_TITLE } case_mode_t;

static int case_map(const tmpl_fctx_t *c, const tmpl_val_t *a, tmpl_val_t *r, case_mode_t mode)
{
    char *d = arena_alloc(c->arena, a[0].s.len + 1);
    bool prev_sep = true;
    for (size_t i = 0; i < a[0].s.len; i++) {
        unsigned char ch = (unsigned char)a[0].s.p[i];
        unsigned char ch2 = i + 1 < a[0].s.len ? (unsigned char)a[0].s.p[i + 1] : 0;
        if (mode != CASE_TITLE && ch >= 0xc2 && ch < 0xe0 && (ch2 & 0xc0) == 0x80) {
            uint32_t m = tmpl_fold2(((uint32_t)(ch & 0x1f) << 6) | (ch2 & 0x3f), mode == CASE_UPPER);
            d[i] = (char)(0xc0 | (m >> 6));
            d[i + 1] = (char)(0x80 | (m & 0x3f));
            i++;
            continue;
        }
        if (mode == CASE_UPPER && ch >= 'a' && ch <= 'z') {
            ch = (unsigned char)(ch - 32);
        } else if (mode == CASE_LOWER && ch >= 'A' && ch <= 'Z') {
            ch = (unsigned char)(ch + 32);
        } else if (mode == CASE_TITLE) {
            /* strings.Title: ASCII letters, digits and '_' join words;
             * other ASCII separates; non-ASCII is taken as a letter. */
            bool sep = ch < 0x80 &&
                       !((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_');
            if (prev_sep && ch >= 'a' && ch <= 'z') {
                ch = (unsigned char)(ch - 32);
            }
            prev_sep = sep;
        }
        d[i] = (char)ch;
    }
    d[a[0].s.len] = '\0';
    r->kind = TMPL_V_STRING;
    r->s = str_from(d, a[0].s.len);
    return 0;
}

/* toUpper, toLower, title: one case mapping (case_map) with its mode. */
#define TMPL_CASE_FUNC(fname, mode)                                                                                    \
    static int fname(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)                   \
    {                                                                                                                  \
        (void)n, (void)err;                                                                                            \
        return case_map(c, a, r, mode);                                                                                \
    }
TMPL_CASE_FUNC(f_to_upper, CASE_UPPER)
TMPL_CASE_FUNC(f_to_lower, CASE_LOWER)
TMPL_CASE_FUNC(f_title, CASE_TITLE)

static int f_safe_html(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)c, (void)n, (void)err;
    *r = a[0];
    r->b = true; /* template.HTML: not escaped again in HTML output */
    return 0;
}

static void *re_alloc(PCRE2_SIZE n, void *ud)
{
    (void)ud;
    return mem_try_alloc(n);
}

static void re_free(void *p, void *ud)
{
    (void)ud;
    mem_free(p);
}

typedef struct re {
    pcre2_general_context *gc;
    pcre2_compile_context *cc;
    pcre2_code *code;
    pcre2_match_data *md;
} re_t;

static void re_fini(re_t *re)
{
    pcre2_match_data_free(re->md);
    pcre2_code_free(re->code);
    pcre2_compile_context_free(re->cc);
    pcre2_general_context_free(re->gc);
}

static int re_init(re_t *re, str_t pat, buf_t *err)
{
    memset(re, 0, sizeof(*re));
    re->gc = pcre2_general_context_create(re_alloc, re_free, NULL);
    re->cc = re->gc ? pcre2_compile_context_create(re->gc) : NULL;
    int ec = 0;
    PCRE2_SIZE eoff = 0;
    if (re->cc != NULL) {
        /* an absent value is {NULL, 0}; PCRE2 rejects a NULL pattern */
        re->code = pcre2_compile((PCRE2_SPTR)(pat.p ? pat.p : ""), pat.len,
                                 PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY, &ec, &eoff, re->cc);
    }
    if (re->code == NULL) {
        PCRE2_UCHAR msg[256] = { 0 };
        if (pcre2_get_error_message(ec, msg, sizeof(msg)) < 0) {
            msg[0] = '\0';
        }
        buf_printf(err, "error parsing regexp: %s: `%.*s`", (char *)msg, (int)pat.len, pat.p);
        re_fini(re);
        return -1;
    }
    re->md = pcre2_match_data_create_from_pattern(re->code, re->gc);
    if (re->md == NULL) {
        buf_puts(err, "out of memory");
        re_fini(re);
        return -1;
    }
    return 0;
}

static int f_match(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)c, (void)n;
    re_t re;
    if (re_init(&re, a[0].s, err) != 0) {
        return -1;
    }
    int rc = pcre2_match(re.code, (PCRE2_SPTR)(a[1].s.p ? a[1].s.p : ""), a[1].s.len, 0, 0, re.md, NULL);
    re_fini(&re);
    r->kind = TMPL_V_BOOL;
    r->b = rc >= 0;
    return 0;
}

static bool is_ident_char(char ch)
{
    return ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* Append Go's Regexp.Expand of template tpl for the current match. */
static void re_expand(const re_t *re, str_t subj, str_t tpl, buf_t *b)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(re->md);
    uint32_t ngroups = pcre2_get_ovector_count(re->md);
    for (size_t i = 0; i < tpl.len; i++) {
        if (tpl.p[i] != '$' || i + 1 >= tpl.len) {
            buf_putc(b, (uint8_t)tpl.p[i]);
            continue;
        }
        if (tpl.p[i + 1] == '$') {
            buf_putc(b, '$');
            i++;
            continue;
        }
        size_t st = i + 1, en;
        bool brace = tpl.p[st] == '{';
        if (brace) {
            st++;
        }
        en = st;
        while (en < tpl.len && is_ident_char(tpl.p[en])) {
            en++;
        }
        if (en == st || (brace && (en >= tpl.len || tpl.p[en] != '}'))) {
            buf_putc(b, '$');
            continue;
        }
        str_t name = str_from(tpl.p + st, en - st);
        i = brace ? en : en - 1;
        int64_t num = -1;
        if (!str_parse_i64(name, &num) || name.p[0] == '-' || name.p[0] == '+') {
            char nb[128];
            num = -1;
            if (name.len < sizeof(nb)) {
                memcpy(nb, name.p, name.len);
                nb[name.len] = '\0';
                int g = pcre2_substring_number_from_name(re->code, (PCRE2_SPTR)nb);
                num = g > 0 ? g : -1;
            }
        }
        if (num >= 0 && (uint64_t)num < ngroups && ov[2 * num] != PCRE2_UNSET) {
            buf_append(b, subj.p + ov[2 * num], ov[2 * num + 1] - ov[2 * num]);
        }
    }
}

static int f_re_replace_all(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)n;
    re_t re;
    if (re_init(&re, a[0].s, err) != 0) {
        return -1;
    }
    str_t subj = a[2].s;
    const char *sp = subj.p ? subj.p : "";
    buf_t b = { 0 };
    size_t pos = 0, last = 0;
    long prev_end = -1;
    while (pos <= subj.len) {
        int rc = pcre2_match(re.code, (PCRE2_SPTR)sp, subj.len, pos, 0, re.md, NULL);
        if (rc < 0) {
            break;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(re.md);
        size_t ms = ov[0], me = ov[1];
        bool accept = true;
        if (me == ms) {
            if ((long)ms == prev_end) {
                accept = false;
            }
            size_t w = 1;
            while (ms + w < subj.len && ((unsigned char)sp[ms + w] & 0xc0) == 0x80) {
                w++;
            }
            pos = ms + w;
        } else {
            pos = me;
        }
        prev_end = (long)me;
        if (accept) {
            buf_append(&b, sp + last, ms - last);
            re_expand(&re, str_from(sp, subj.len), a[1].s, &b);
            last = me;
        }
        if (c->max_out > 0 && b.len > c->max_out) {
            re_fini(&re);
            buf_fini(&b);
            buf_printf(err, "result exceeds %zu bytes", c->max_out);
            return -1;
        }
    }
    if (last < subj.len) {
        buf_append(&b, sp + last, subj.len - last);
    }
    re_fini(&re);
    *r = str_val(c, &b);
    return 0;
}

/* net.SplitHostPort; false on any error. */
static bool split_host_port(str_t hp, str_t *host, str_t *port)
{
    const char *colon = NULL;
    for (size_t i = hp.len; i > 0; i--) {
        if (hp.p[i - 1] == ':') {
            colon = hp.p + i - 1;
            break;
        }
    }
    if (colon == NULL) {
        return false;
    }
    size_t ci = (size_t)(colon - hp.p);
    if (hp.len > 0 && hp.p[0] == '[') {
        const char *end = memchr(hp.p, ']', hp.len);
        if (end == NULL) {
            return false;
        }
        size_t ei = (size_t)(end - hp.p);
        if (ei + 1 != ci) {
            return false;
        }
        *host = str_from(hp.p + 1, ei - 1);
        if (memchr(host->p, '[', host->len) || memchr(hp.p + ei + 1, ']', hp.len - ei - 1)) {
            return false;
        }
    } else {
        *host = str_from(hp.p, ci);
        if (memchr(host->p, ':', host->len) || memchr(hp.p, '[', hp.len) || memchr(hp.p, ']', hp.len)) {
            return false;
        }
    }
    *port = str_from(hp.p + ci + 1, hp.len - ci - 1);
    return true;
}

static int f_strip_port(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)c, (void)n, (void)err;
    str_t host = { 0 }, port = { 0 };
    *r = a[0];
    if (split_host_port(a[0].s, &host, &port)) {
        r->s = host;
    }
    return 0;
}

static bool parse_ip(str_t s)
{
    char tmp[64];
    unsigned char addr[16];
    if (s.len == 0 || s.len >= sizeof(tmp)) {
        return false;
    }
    memcpy(tmp, s.p, s.len);
    tmp[s.len] = '\0';
    return inet_pton(AF_INET, tmp, addr) == 1 || inet_pton(AF_INET6, tmp, addr) == 1;
}

static int f_strip_domain(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)n, (void)err;
    str_t host = a[0].s, port = { 0 };
    if (!split_host_port(a[0].s, &host, &port)) {
        host = a[0].s;
        port = (str_t){ 0 };
    }
    *r = a[0];
    if (parse_ip(host)) {
        return 0;
    }
    const char *dot = memchr(host.p ? host.p : "", '.', host.len);
    if (dot != NULL) {
        host.len = (size_t)(dot - host.p);
    }
    if (port.len == 0) {
        r->s = host;
        return 0;
    }
    buf_t b = { 0 };
    bool v6 = memchr(host.p, ':', host.len) != NULL;
    buf_printf(&b, "%s%.*s%s:%.*s", v6 ? "[" : "", (int)host.len, host.p, v6 ? "]" : "", (int)port.len, port.p);
    *r = str_val(c, &b);
    return 0;
}

static int link_fn(const tmpl_fctx_t *c, const tmpl_val_t *a, tmpl_val_t *r, int tab)
{
    buf_t b = { 0 };
    buf_puts(&b, "/graph?g0.expr=");
    buf_put_query_escaped(&b, a[0].s.p, a[0].s.len);
    buf_printf(&b, "&g0.tab=%d", tab);
    *r = str_val(c, &b);
    return 0;
}

static int f_graph_link(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)n, (void)err;
    return link_fn(c, a, r, 0);
}

static int f_table_link(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)n, (void)err;
    return link_fn(c, a, r, 1);
}

static int f_external_url(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)a, (void)n, (void)err;
    r->kind = TMPL_V_STRING;
    r->s = str_cstr(c->data->external_url);
    return 0;
}

static int f_path_prefix(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)a, (void)n, (void)err;
    str_t u = str_cstr(c->data->external_url);
    size_t i = 0;
    const char *ss = u.len ? strstr(u.p, "://") : NULL;
    if (ss != NULL) {
        i = (size_t)(ss - u.p) + 3;
        while (i < u.len && u.p[i] != '/' && u.p[i] != '?' && u.p[i] != '#') {
            i++;
        }
    }
    size_t e = i;
    while (e < u.len && u.p[e] != '?' && u.p[e] != '#') {
        e++;
    }
    r->kind = TMPL_V_STRING;
    r->s = str_from(u.p + i, e - i);
    return 0;
}

/* ---- the table ---- */

#define P1(a)                                                                                                          \
    {                                                                                                                  \
        a                                                                                                              \
    }
#define P2(a, b)                                                                                                       \
    {                                                                                                                  \
        a, b                                                                                                           \
    }
#define P3(a, b, c)                                                                                                    \
    {                                                                                                                  \
        a, b, c                                                                                                        \
    }
#define S TMPL_P_STRING
#define A TMPL_P_ANY

static const tmpl_func_t builtin_rows[] = {
    { .name = "and", .nparams = 1, .variadic = true, .lazy = true, .params = P1(A) },
    { .name = "or", .nparams = 1, .variadic = true, .lazy = true, .params = P1(A) },
    { .name = "not", .nparams = 1, .params = P1(A), .call = f_not },
    { .name = "len", .nparams = 1, .params = P1(A), .call = f_len },
    { .name = "index", .nparams = 1, .variadic = true, .params = P1(A), .call = f_index },
    { .name = "slice", .nparams = 1, .variadic = true, .params = P1(A), .call = f_slice },
    { .name = "print", .nparams = 0, .variadic = true, .call = f_print },
    { .name = "println", .nparams = 0, .variadic = true, .call = f_println },
    { .name = "printf", .nparams = 1, .variadic = true, .params = P1(S), .call = f_printf },
    { .name = "eq", .nparams = 1, .variadic = true, .params = P1(A), .call = f_eq },
    { .name = "ne", .nparams = 2, .params = P2(A, A), .call = f_ne },
    { .name = "lt", .nparams = 2, .params = P2(A, A), .call = f_lt },
    { .name = "le", .nparams = 2, .params = P2(A, A), .call = f_le },
    { .name = "gt", .nparams = 2, .params = P2(A, A), .call = f_gt },
    { .name = "ge", .nparams = 2, .params = P2(A, A), .call = f_ge },
    { .name = "html", .nparams = 0, .variadic = true, .call = f_html },
    { .name = "urlquery", .nparams = 0, .variadic = true, .call = f_urlquery },
    { .name = "js", .nparams = 0, .variadic = true, .call = f_js },
};

/* Prometheus and Alertmanager give these the same semantics. */
static const tmpl_func_t shared_rows[] = {
    { .name = "humanizeDuration", .nparams = 1, .params = P1(A), .call = f_humanize_duration },
    { .name = "toUpper", .nparams = 1, .params = P1(S), .call = f_to_upper },
    { .name = "toLower", .nparams = 1, .params = P1(S), .call = f_to_lower },
    { .name = "match", .nparams = 2, .params = P2(S, S), .call = f_match },
    { .name = "reReplaceAll", .nparams = 3, .params = P3(S, S, S), .call = f_re_replace_all },
    { .name = "safeHtml", .nparams = 1, .params = P1(S), .call = f_safe_html },
};

static const tmpl_func_t prom_rows[] = {
    { .name = "query", .nparams = 1, .params = P1(S), .call = f_query },
    { .name = "first", .nparams = 1, .params = P1(TMPL_P_SAMPLES), .call = f_first },
    { .name = "label", .nparams = 2, .params = P2(S, TMPL_P_SAMPLE), .call = f_label },
    { .name = "value", .nparams = 1, .params = P1(TMPL_P_SAMPLE), .call = f_value },
    { .name = "strvalue", .nparams = 1, .params = P1(TMPL_P_SAMPLE), .call = f_strvalue },
    { .name = "sortByLabel", .nparams = 2, .params = P2(S, TMPL_P_SAMPLES), .call = f_sort_by_label },
    { .name = "humanize", .nparams = 1, .params = P1(A), .call = f_humanize },
    { .name = "humanize1024", .nparams = 1, .params = P1(A), .call = f_humanize1024 },
    { .name = "humanizePercentage", .nparams = 1, .params = P1(A), .call = f_humanize_percentage },
    { .name = "humanizeTimestamp", .nparams = 1, .params = P1(A), .call = f_humanize_timestamp },
    { .name = "toTime", .nparams = 1, .params = P1(A), .call = f_to_time },
    { .name = "toDuration", .nparams = 1, .params = P1(A), .call = f_to_duration },
    { .name = "parseDuration", .nparams = 1, .params = P1(S), .call = f_parse_duration },
    { .name = "now", .nparams = 0, .call = f_now },
    { .name = "title", .nparams = 1, .params = P1(S), .call = f_title },
    { .name = "stripPort", .nparams = 1, .params = P1(S), .call = f_strip_port },
    { .name = "stripDomain", .nparams = 1, .params = P1(S), .call = f_strip_domain },
    { .name = "graphLink", .nparams = 1, .params = P1(S), .call = f_graph_link },
    { .name = "tableLink", .nparams = 1, .params = P1(S), .call = f_table_link },
    { .name = "externalURL", .nparams = 0, .call = f_external_url },
    { .name = "pathPrefix", .nparams = 0, .call = f_path_prefix },
};

#define NROWS(r) (sizeof(r) / sizeof((r)[0]))

const tmpl_funcseg_t tmpl_funcs_builtin = { builtin_rows, NROWS(builtin_rows) };
const tmpl_funcseg_t tmpl_funcs_shared = { shared_rows, NROWS(shared_rows) };
const tmpl_funcseg_t tmpl_funcs_prom = { prom_rows, NROWS(prom_rows) };

static const tmpl_funcseg_t *const prom_segs[3] = { &tmpl_funcs_builtin, &tmpl_funcs_shared, &tmpl_funcs_prom };

const tmpl_functab_t tmpl_functab_prom = { .name = "prometheus", .segs = prom_segs, .nsegs = 3 };

const tmpl_func_t *tmpl_func_find(const tmpl_functab_t *t, const char *name, size_t len)
{
    assert(t != NULL);
    for (size_t k = 0; k < t->nsegs; k++) {
        for (size_t i = 0; i < t->segs[k]->n; i++) {
            const tmpl_func_t *f = &t->segs[k]->rows[i];
            if (strlen(f->name) == len && memcmp(f->name, name, len) == 0) {
                return f;
            }
        }
    }
    return NULL;
}

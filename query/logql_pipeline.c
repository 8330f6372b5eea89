/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logql_pipeline: a log pipeline's stages compiled once per query and run
 * on every entry, with Loki's semantics (pkg/logql/log: pipeline.go,
 * filter.go, label_filter.go, drop_labels.go, keep_labels.go, fmt.go).
 *
 * Core idea: lq_pipe_create turns the AST's stages into an array of
 * compiled stages (PCRE2 codes for regexes, common/matcher for label
 * matchers, parsed templates, json paths); lq_pipe_run walks them over one
 * entry held in an lq_lbs_t label builder. The builder is a small flat
 * array (a stream has few labels, so a linear search beats hashing) whose
 * values borrow from the line or from a per-entry scratch arena that is
 * reset, not freed, between entries: the steady path allocates nothing.
 *
 * Loki's rules kept here: a failed numeric/duration/bytes conversion in a
 * label filter sets __error__=LabelFilterErr with Go's error text as
 * __error_details__ (unless an earlier stage set an error) and lets the
 * entry through; numeric filters also run on entries that carry an error,
 * dropping them when the label is absent (Loki 3, grafana/loki#12378);
 * string filters on __error__(_details__) read the error itself; drop
 * and keep spare the error labels unless named, and dropping __error__
 * keeps __error_details__; label_format templates read one snapshot.
 *
 * Invariant: the pipe owns its regexes and matchers (lq_pipe_destroy);
 * everything else lives in the query arena.
 */
#define _GNU_SOURCE /* memmem */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "common/str.h"
#include "query/logql_int.h"

/* ---- label builder ---- */

void lq_lbs_init(lq_lbs_t *b)
{
    memset(b, 0, sizeof(*b));
    b->scratch = arena_create(64 * 1024);
}

void lq_lbs_fini(lq_lbs_t *b)
{
    mem_free(b->v);
    arena_destroy(b->scratch);
    memset(b, 0, sizeof(*b));
}

static lq_lab_t *lbs_push(lq_lbs_t *b)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 32;
        b->v = mem_realloc(b->v, b->cap * sizeof(*b->v));
    }
    return &b->v[b->n++];
}

void lq_lbs_reset(lq_lbs_t *b, const label_t *base, size_t nbase, const label_t *meta, size_t nmeta)
{
    arena_reset(b->scratch);
    b->n = 0;
    b->base = base;
    b->nbase = nbase;
    b->err = (str_t){ "", 0 };
    b->err_details = (str_t){ "", 0 };
    for (size_t i = 0; i < nbase; i++) {
        *lbs_push(b) = (lq_lab_t){ base[i].name, base[i].value, LQ_CAT_STREAM, false };
    }
    for (size_t i = 0; i < nmeta; i++) {
        lq_lbs_set(b, meta[i].name, meta[i].value, LQ_CAT_META);
    }
}

static lq_lab_t *lbs_find(const lq_lbs_t *b, str_t name)
{
    for (size_t i = 0; i < b->n; i++) {
        if (b->v[i].name.len == name.len && memcmp(b->v[i].name.p, name.p, name.len) == 0) {
            return &b->v[i];
        }
    }
    return NULL;
}

bool lq_lbs_get(const lq_lbs_t *b, str_t name, str_t *value)
{
    const lq_lab_t *l = lbs_find(b, name);
    if (l == NULL || l->del) {
        *value = (str_t){ "", 0 };
        return false;
    }
    *value = l->value;
    return true;
}

static void hint_record(lq_hints_t *h, str_t name);

void lq_lbs_set(lq_lbs_t *b, str_t name, str_t value, lq_cat_t cat)
{
    if (cat == LQ_CAT_PARSED && b->hints != NULL) {
        hint_record(b->hints, name);
    }
    lq_lab_t *l = lbs_find(b, name);
    if (l == NULL) {
        l = lbs_push(b);
        l->name = name;
    }
    l->value = value;
    l->cat = (uint8_t)cat;
    l->del = false;
}

void lq_lbs_del(lq_lbs_t *b, str_t name)
{
    lq_lab_t *l = lbs_find(b, name);
    if (l != NULL) {
        l->del = true;
    }
}

bool lq_lbs_base_has(const lq_lbs_t *b, str_t name)
{
    for (size_t i = 0; i < b->nbase; i++) {
        if (str_eq(b->base[i].name, name)) {
            return true;
        }
    }
    return false;
}

void lq_lbs_set_err(lq_lbs_t *b, const char *err, str_t details)
{
    b->err = str_cstr(err);
    if (details.len > 0) {
        b->err_details = details;
    }
}

str_t lq_lbs_dup(lq_lbs_t *b, const char *p, size_t len)
{
    if (len == 0) {
        return (str_t){ "", 0 };
    }
    char *d = arena_alloc(b->scratch, len);
    memcpy(d, p, len);
    return (str_t){ d, len };
}

size_t lq_lbs_final(const lq_lbs_t *b, label_t *out, uint8_t *cats)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (!b->v[i].del) {
            if (cats != NULL) {
                cats[n] = b->v[i].cat;
            }
            out[n++] = (label_t){ b->v[i].name, b->v[i].value };
        }
    }
    if (b->err.len > 0) {
        if (cats != NULL) {
            cats[n] = LQ_CAT_PARSED;
        }
        out[n++] = (label_t){ STR_LIT(LQ_ERR_LABEL), b->err };
    }
    if (b->err_details.len > 0) {
        if (cats != NULL) {
            cats[n] = LQ_CAT_PARSED;
        }
        out[n++] = (label_t){ STR_LIT(LQ_ERR_DETAILS_LABEL), b->err_details };
    }
    /* insertion sort by name, carrying cats: n is small */
    for (size_t i = 1; i < n; i++) {
        label_t l = out[i];
        uint8_t c = cats != NULL ? cats[i] : 0;
        size_t j = i;
        while (j > 0 && str_cmp(out[j - 1].name, l.name) > 0) {
            out[j] = out[j - 1];
            if (cats != NULL) {
                cats[j] = cats[j - 1];
            }
            j--;
        }
        out[j] = l;
        if (cats != NULL) {
            cats[j] = c;
        }
    }
    return n;
}

void lq_sanitize_key(const char *p, size_t len, bool prefix, buf_t *out)
{
    while (len > 0 && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\v' || *p == '\f')) {
        p++;
        len--;
    }
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\n' || p[len - 1] == '\r' ||
                       p[len - 1] == '\v' || p[len - 1] == '\f')) {
        len--;
    }
    if (len == 0) {
        return;
    }
    if (prefix && p[0] >= '0' && p[0] <= '9') {
        buf_putc(out, '_');
    }
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)p[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') {
            buf_putc(out, c);
            i++;
            continue;
        }
        buf_putc(out, '_');
        /* one '_' per rune: skip continuation bytes of a valid sequence */
        size_t k = 1;
        if (c >= 0xc0) {
            size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
            while (k < want && i + k < len && ((unsigned char)p[i + k] & 0xc0) == 0x80) {
                k++;
            }
            if (k != want) {
                k = 1;
            }
        }
        i += k;
    }
}

/* ---- compiled stages ---- */

typedef enum pkind {
    P_LINE = 0,
    P_JSON,
    P_JSONP,
    P_LOGFMT,
    P_REGEXP,
    P_PATTERN,
    P_UNPACK,
    P_LBLF,
    P_LINEFMT,
    P_LBLFMT,
    P_DROP,
    P_KEEP,
    P_DECOLOR,
} pkind_t;

struct lq_lf {
    logql_lbl_kind_t kind;
    struct lq_lf *l, *r;
    matcher_t *m;
    str_t name;
    logql_cmp_t cmp;
    double num;
    int64_t dur_ns;
    uint64_t bytes;
};

typedef struct lblfmt {
    str_t dst, src;
    bool rename;
    lq_tmpl_t *t;
} lblfmt_t;

typedef struct dk {
    str_t name;
    matcher_t *m;
} dk_t;

typedef struct pstage {
    pkind_t kind;
    logql_lf_op_t op;
    const logql_str_t *vals;
    size_t nvals;
    pcre2_code **res; /* P_LINE regex ops, P_REGEXP (res[0]) */
    lq_pattern_t **pats;
    str_t *capnames; /* P_REGEXP: name of group i (empty: unnamed) */
    uint32_t ngroups;
    lq_pattern_t *pat;
    lq_jpath_t *paths;
    size_t npaths;
    const logql_stage_t *src;
    lq_lf_t *lf;
    lq_tmpl_t *tmpl;
    lblfmt_t *fmts;
    size_t nfmts;
    dk_t *dks;
    size_t ndks;
} pstage_t;

/* Loki's Hints. req: the required labels, unique, none empty (empty:
 * extract everything); seen[i] == gen when req[i] was extracted from the
 * current entry (nfound of them); fnames[i]/filters[i]: the single-label
 * filters ShouldContinueParsingLine consults, the first per name wins. */
struct lq_hints {
    bool no_labels;
    bool preserve;
    str_t *req;
    size_t nreq;
    uint32_t *seen;
    uint32_t gen;
    size_t nfound;
    str_t *fnames;
    const lq_lf_t **filters;
    size_t nf;
};

struct lq_pipe {
    arena_t *a;
    lq_hints_t h;
    pstage_t *st;
    size_t n;
    pcre2_code **codes; /* owned, freed in destroy */
    size_t ncodes, capcodes;
    matcher_t **ms; /* owned */
    size_t nms, capms;
    pcre2_match_data *md;
    pcre2_code *ansi;
    buf_t tmp, tmp2;
    bool touches;
};

static void own_code(lq_pipe_t *p, pcre2_code *c)
{
    if (p->ncodes == p->capcodes) {
        p->capcodes = p->capcodes ? p->capcodes * 2 : 8;
        p->codes = mem_realloc(p->codes, p->capcodes * sizeof(*p->codes));
    }
    p->codes[p->ncodes++] = c;
}

static matcher_t *new_matcher(lq_pipe_t *p, match_type_t t, str_t name, str_t value, char *err, size_t errlen)
{
    matcher_t *m = mem_calloc(1, sizeof(*m));
    if (matcher_init(m, t, name, value, err, errlen) != 0) {
        mem_free(m);
        return NULL;
    }
    if (p->nms == p->capms) {
        p->capms = p->capms ? p->capms * 2 : 8;
        p->ms = mem_realloc(p->ms, p->capms * sizeof(*p->ms));
    }
    p->ms[p->nms++] = m;
    return m;
}

static pcre2_code *compile_re(lq_pipe_t *p, const char *re, size_t len, char *err, size_t errlen)
{
    int ec = 0;
    PCRE2_SIZE eoff = 0;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, len, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &ec, &eoff, NULL);
    if (c == NULL) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof(msg));
        snprintf(err, errlen, "error parsing regexp: %s: `%.*s`", (const char *)msg, (int)len, re);
        return NULL;
    }
    (void)pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);
    own_code(p, c);
    return c;
}

static str_t S(logql_str_t s)
{
    return (str_t){ s.p, s.len };
}

lq_lf_t *lq_pipe_add_filter(lq_pipe_t *p, const logql_lblf_t *f, char *err, size_t errlen)
{
    if (f == NULL) {
        snprintf(err, errlen, "missing label filter");
        return NULL;
    }
    lq_lf_t *lf = arena_calloc(p->a, 1, sizeof(*lf));
    lf->kind = f->kind;
    lf->name = S(f->name);
    lf->cmp = f->cmp;
    lf->num = f->num;
    lf->dur_ns = f->dur_ns;
    lf->bytes = f->bytes;
    switch (f->kind) {
    case LQ_LBL_AND:
    case LQ_LBL_OR:
        lf->l = lq_pipe_add_filter(p, f->left, err, errlen);
        lf->r = lf->l != NULL ? lq_pipe_add_filter(p, f->right, err, errlen) : NULL;
        return lf->r != NULL ? lf : NULL;
    case LQ_LBL_STRING:
        lf->name = S(f->m.name);
        lf->m = new_matcher(p, f->m.type, S(f->m.name), S(f->m.value), err, errlen);
        return lf->m != NULL ? lf : NULL;
    default:
        return lf;
    }
}

static const char ansi_pattern[] = "[\\x{1B}\\x{9B}][[\\]()#;?]*(?:(?:(?:[a-zA-Z\\d]*(?:;[a-zA-Z\\d]*)*)?\\x{07})|"
                                   "(?:(?:\\d{1,4}(?:;\\d{0,4})*)?[\\dA-PRZcf-ntqry=><~]))";

static bool compile_stage(lq_pipe_t *p, const logql_stage_t *s, pstage_t *ps, char *err, size_t errlen)
{
    ps->src = s;
    switch (s->kind) {
    case LQ_ST_LINE_FILTER:
        ps->kind = P_LINE;
        ps->op = s->lf_op;
        ps->vals = s->vals;
        ps->nvals = s->nvals;
        if (s->lf_op == LQ_LF_RE || s->lf_op == LQ_LF_NRE) {
            ps->res = arena_calloc(p->a, s->nvals, sizeof(*ps->res));
            for (size_t i = 0; i < s->nvals; i++) {
                if ((ps->res[i] = compile_re(p, s->vals[i].p, s->vals[i].len, err, errlen)) == NULL) {
                    return false;
                }
            }
        } else if (s->lf_op == LQ_LF_PAT || s->lf_op == LQ_LF_NPAT) {
            ps->pats = arena_calloc(p->a, s->nvals, sizeof(*ps->pats));
            for (size_t i = 0; i < s->nvals; i++) {
                if ((ps->pats[i] = lq_pattern_compile(S(s->vals[i]), false, p->a, err, errlen)) == NULL) {
                    return false;
                }
            }
        }
        return true;
    case LQ_ST_JSON:
        p->touches = true;
        if (s->nkvs == 0) {
            ps->kind = P_JSON;
            return true;
        }
        ps->kind = P_JSONP;
        ps->paths = arena_calloc(p->a, s->nkvs, sizeof(*ps->paths));
        ps->npaths = s->nkvs;
        for (size_t i = 0; i < s->nkvs; i++) {
            if (lq_jpath_compile(S(s->kvs[i].name), S(s->kvs[i].value), p->a, &ps->paths[i], err, errlen) != 0) {
                return false;
            }
        }
        return true;
    case LQ_ST_LOGFMT:
        p->touches = true;
        ps->kind = P_LOGFMT;
        return true;
    case LQ_ST_UNPACK:
        p->touches = true;
        ps->kind = P_UNPACK;
        return true;
    case LQ_ST_REGEXP: {
        p->touches = true;
        ps->kind = P_REGEXP;
        ps->res = arena_calloc(p->a, 1, sizeof(*ps->res));
        if ((ps->res[0] = compile_re(p, s->param.p, s->param.len, err, errlen)) == NULL) {
            return false;
        }
        uint32_t cap = 0, nnames = 0, esz = 0;
        PCRE2_SPTR table = NULL;
        pcre2_pattern_info(ps->res[0], PCRE2_INFO_CAPTURECOUNT, &cap);
        pcre2_pattern_info(ps->res[0], PCRE2_INFO_NAMECOUNT, &nnames);
        pcre2_pattern_info(ps->res[0], PCRE2_INFO_NAMEENTRYSIZE, &esz);
        pcre2_pattern_info(ps->res[0], PCRE2_INFO_NAMETABLE, &table);
        if (cap == 0 || nnames == 0) {
            snprintf(err, errlen, "at least one named capture must be supplied");
            return false;
        }
        ps->ngroups = cap + 1;
        ps->capnames = arena_calloc(p->a, cap + 1, sizeof(str_t));
        for (uint32_t i = 0; i < nnames; i++) {
            const unsigned char *e = table + (size_t)i * esz;
            uint32_t g = ((uint32_t)e[0] << 8) | e[1];
            const char *nm = (const char *)e + 2;
            if (g <= cap) {
                ps->capnames[g] = (str_t){ nm, strlen(nm) };
            }
        }
        return true;
    }
    case LQ_ST_PATTERN:
        p->touches = true;
        ps->kind = P_PATTERN;
        ps->pat = lq_pattern_compile(S(s->param), true, p->a, err, errlen);
        return ps->pat != NULL;
    case LQ_ST_LABEL_FILTER:
        ps->kind = P_LBLF;
        ps->lf = lq_pipe_add_filter(p, s->filter, err, errlen);
        return ps->lf != NULL;
    case LQ_ST_LINE_FORMAT: {
        ps->kind = P_LINEFMT;
        char e2[400] = "";
        if (lq_tmpl_parse(s->param.p, s->param.len, p->a, &ps->tmpl, e2, sizeof(e2)) != 0) {
            snprintf(err, errlen, "invalid line template: %s", e2);
            return false;
        }
        return true;
    }
    case LQ_ST_LABEL_FORMAT:
        p->touches = true;
        ps->kind = P_LBLFMT;
        ps->fmts = arena_calloc(p->a, s->nkvs, sizeof(*ps->fmts));
        ps->nfmts = s->nkvs;
        for (size_t i = 0; i < s->nkvs; i++) {
            lblfmt_t *f = &ps->fmts[i];
            f->dst = S(s->kvs[i].name);
            f->src = S(s->kvs[i].value);
            f->rename = s->kvs[i].rename;
            if (str_eq_cstr(f->dst, LQ_ERR_LABEL)) {
                snprintf(err, errlen, "%s cannot be formatted", LQ_ERR_LABEL);
                return false;
            }
            for (size_t j = 0; j < i; j++) {
                if (str_eq(ps->fmts[j].dst, f->dst)) {
                    snprintf(err, errlen, "multiple label name '%.*s' not allowed in a single format operation",
                             (int)f->dst.len, f->dst.p);
                    return false;
                }
            }
            char e2[400] = "";
            if (!f->rename && lq_tmpl_parse(f->src.p, f->src.len, p->a, &f->t, e2, sizeof(e2)) != 0) {
                snprintf(err, errlen, "invalid template for label '%.*s': %s", (int)f->dst.len, f->dst.p, e2);
                return false;
            }
        }
        return true;
    case LQ_ST_DROP:
    case LQ_ST_KEEP:
        p->touches = true;
        ps->kind = s->kind == LQ_ST_DROP ? P_DROP : P_KEEP;
        ps->dks = arena_calloc(p->a, s->nkvs, sizeof(*ps->dks));
        ps->ndks = s->nkvs;
        for (size_t i = 0; i < s->nkvs; i++) {
            ps->dks[i].name = S(s->kvs[i].name);
            if (s->kvs[i].has_matcher) {
                ps->dks[i].m = new_matcher(p, s->kvs[i].type, S(s->kvs[i].name), S(s->kvs[i].value), err, errlen);
                if (ps->dks[i].m == NULL) {
                    return false;
                }
            }
        }
        return true;
    case LQ_ST_DECOLORIZE:
        ps->kind = P_DECOLOR;
        if (p->ansi == NULL) {
            p->ansi = compile_re(p, ansi_pattern, sizeof(ansi_pattern) - 1, err, errlen);
        }
        return p->ansi != NULL;
    }
    snprintf(err, errlen, "unsupported stage");
    return false;
}

/* ---- parser hints ---- */

static void hint_record(lq_hints_t *h, str_t name)
{
    for (size_t i = 0; i < h->nreq; i++) {
        if (str_eq(h->req[i], name)) {
            if (h->seen[i] != h->gen) {
                h->seen[i] = h->gen;
                h->nfound++;
            }
            return;
        }
    }
}

bool lq_hint_all_extracted(const lq_lbs_t *b)
{
    const lq_hints_t *h = b->hints;
    return h != NULL && h->nreq > 0 && h->nfound == h->nreq;
}

bool lq_hint_no_labels(const lq_lbs_t *b)
{
    return b->hints != NULL && (b->hints->no_labels || lq_hint_all_extracted(b));
}

bool lq_hint_should_extract(const lq_lbs_t *b, str_t key)
{
    const lq_hints_t *h = b->hints;
    if (h == NULL || h->nreq == 0) {
        return true;
    }
    for (size_t i = 0; i < h->nreq; i++) {
        if (str_eq(h->req[i], key)) {
            return true;
        }
    }
    return false;
}

bool lq_hint_extract_prefix(const lq_lbs_t *b, str_t pfx)
{
    const lq_hints_t *h = b->hints;
    if (h == NULL || h->nreq == 0) {
        return true;
    }
    for (size_t i = 0; i < h->nreq; i++) {
        if (h->req[i].len >= pfx.len && memcmp(h->req[i].p, pfx.p, pfx.len) == 0) {
            return true;
        }
    }
    return false;
}

bool lq_hint_continue(lq_lbs_t *b, str_t name)
{
    const lq_hints_t *h = b->hints;
    for (size_t i = 0; h != NULL && i < h->nf; i++) {
        if (str_eq(h->fnames[i], name)) {
            return lq_lf_run(h->filters[i], b);
        }
    }
    return true;
}

void lq_hint_parser_err(lq_lbs_t *b, const char *err, str_t details)
{
    lq_lbs_set_err(b, err, details);
    if (b->hints != NULL && b->hints->preserve) {
        lq_lbs_set(b, STR_LIT(LQ_PRESERVE_ERR_LABEL), STR_LIT("true"), LQ_CAT_PARSED);
    }
}

static bool lf_leaf(const lq_lf_t *f)
{
    return f->kind != LQ_LBL_AND && f->kind != LQ_LBL_OR;
}

/* The filters of Loki's NewParserHint: every label filter stage naming
 * one label (and/or filters are skipped), then the unwrap's post filter
 * when it is a single one. */
static void hint_filters(lq_pipe_t *p, lq_lf_t *const *post, size_t npost)
{
    size_t n = npost == 1 ? 1 : 0;
    for (size_t i = 0; i < p->n; i++) {
        n += p->st[i].kind == P_LBLF;
    }
    lq_hints_t *h = &p->h;
    h->fnames = arena_calloc(p->a, n + 1, sizeof(*h->fnames));
    h->filters = arena_calloc(p->a, n + 1, sizeof(*h->filters));
    h->nf = 0;
    for (size_t i = 0; i <= p->n; i++) {
        const lq_lf_t *f = i < p->n ? (p->st[i].kind == P_LBLF ? p->st[i].lf : NULL) : (npost == 1 ? post[0] : NULL);
        if (f != NULL && lf_leaf(f)) {
            h->fnames[h->nf] = f->name;
            h->filters[h->nf++] = f;
        }
    }
}

typedef struct names {
    str_t *v;
    size_t n, cap;
} names_t;

/* Add name (Loki's appendLabelHints: also without "_extracted") once. */
static void names_add(void *ctx, str_t name)
{
    names_t *ns = ctx;
    str_t both[2] = { name, { name.p, 0 } };
    size_t k = 1;
    static const char suf[] = "_extracted";
    if (name.len >= sizeof(suf) - 1 && memcmp(name.p + name.len - (sizeof(suf) - 1), suf, sizeof(suf) - 1) == 0) {
        both[1].len = name.len - (sizeof(suf) - 1);
        k = 2;
    }
    for (size_t j = 0; j < k; j++) {
        bool dup = both[j].len == 0;
        for (size_t i = 0; i < ns->n && !dup; i++) {
            dup = str_eq(ns->v[i], both[j]);
        }
        if (dup) {
            continue;
        }
        if (ns->n == ns->cap) {
            ns->cap = ns->cap ? ns->cap * 2 : 16;
            ns->v = mem_realloc(ns->v, ns->cap * sizeof(*ns->v));
        }
        ns->v[ns->n++] = both[j];
    }
}

static void lf_names(const lq_lf_t *f, names_t *ns)
{
    if (lf_leaf(f)) {
        names_add(ns, f->name);
        return;
    }
    lf_names(f->l, ns);
    lf_names(f->r, ns);
}

void lq_pipe_hint_metric(lq_pipe_t *p, const logql_grouping_t *g, bool no_labels, const logql_unwrap_t *u,
                         lq_lf_t *const *post, size_t npost)
{
    names_t ns = { 0 };
    /* the stages' RequiredLabelNames */
    for (size_t i = 0; i < p->n; i++) {
        const pstage_t *s = &p->st[i];
        if (s->kind == P_LBLF) {
            lf_names(s->lf, &ns);
        } else if (s->kind == P_LINEFMT) {
            lq_tmpl_fields(s->tmpl, names_add, &ns);
        } else if (s->kind == P_LBLFMT) {
            for (size_t j = 0; j < s->nfmts; j++) {
                if (s->fmts[j].rename) {
                    names_add(&ns, s->fmts[j].src);
                } else {
                    lq_tmpl_fields(s->fmts[j].t, names_add, &ns);
                }
            }
        }
    }
    for (size_t i = 0; i < npost; i++) {
        lf_names(post[i], &ns);
    }
    bool without = g != NULL && g->present && g->without;
    size_t ngroups = g != NULL && g->present ? g->nlabels : 0;
    for (size_t i = 0; i < ngroups; i++) {
        names_add(&ns, (str_t){ g->labels[i].p, g->labels[i].len });
    }
    if (u != NULL) {
        str_t id = { u->ident.p, u->ident.len };
        if (ngroups == 0 || without) {
            without = true; /* LabelExtractorWithStages groups by the unwrap label */
            ngroups++;
        }
        names_add(&ns, id);
    }
    hint_filters(p, post, npost);
    lq_hints_t *h = &p->h;
    bool required = true;
    if (no_labels) {
        if (ns.n == 0) {
            h->no_labels = true;
            h->nf = 0;
        }
    } else if (without || ngroups == 0) {
        required = false;
    } else {
        h->nf = 0;
    }
    if (required && ns.n > 0) {
        h->req = arena_calloc(p->a, ns.n, sizeof(*h->req));
        memcpy(h->req, ns.v, ns.n * sizeof(*h->req));
        h->nreq = ns.n;
        h->seen = arena_calloc(p->a, ns.n, sizeof(*h->seen));
        for (size_t i = 0; i < ns.n; i++) {
            h->preserve |= str_eq_cstr(ns.v[i], LQ_ERR_LABEL);
        }
    }
    mem_free(ns.v);
}

lq_pipe_t *lq_pipe_create(const logql_stage_t *st, size_t n, arena_t *a, char *err, size_t errlen)
{
    lq_pipe_t *p = mem_calloc(1, sizeof(*p));
    p->a = a;
    p->st = arena_calloc(a, n + 1, sizeof(*p->st));
    p->md = pcre2_match_data_create(64, NULL);
    for (size_t i = 0; i < n; i++) {
        if (!compile_stage(p, &st[i], &p->st[i], err, errlen)) {
            lq_pipe_destroy(p);
            return NULL;
        }
        p->n++;
    }
    hint_filters(p, NULL, 0);
    return p;
}

void lq_pipe_destroy(lq_pipe_t *p)
{
    if (p == NULL) {
        return;
    }
    for (size_t i = 0; i < p->ncodes; i++) {
        pcre2_code_free(p->codes[i]);
    }
    for (size_t i = 0; i < p->nms; i++) {
        matcher_fini(p->ms[i]);
        mem_free(p->ms[i]);
    }
    mem_free(p->codes);
    mem_free(p->ms);
    pcre2_match_data_free(p->md);
    buf_fini(&p->tmp);
    buf_fini(&p->tmp2);
    mem_free(p);
}

bool lq_pipe_touches_labels(const lq_pipe_t *p)
{
    return p->touches;
}

size_t lq_pipe_must(const logql_stage_t *st, size_t n, arena_t *a, str_t **out)
{
    size_t k = 0;
    *out = arena_calloc(a, n + 1, sizeof(str_t));
    for (size_t i = 0; i < n; i++) {
        if (st[i].kind == LQ_ST_LINE_FORMAT || st[i].kind == LQ_ST_DECOLORIZE) {
            break;
        }
        if (st[i].kind == LQ_ST_LINE_FILTER && st[i].lf_op == LQ_LF_EQ && st[i].nvals == 1 && st[i].vals[0].len > 0) {
            (*out)[k++] = S(st[i].vals[0]);
        }
    }
    return k;
}

/* ---- running ---- */

static bool re_find(lq_pipe_t *p, pcre2_code *re, str_t s)
{
    return pcre2_match(re, (PCRE2_SPTR)(s.p ? s.p : ""), s.len, 0, 0, p->md, NULL) >= 0;
}

static bool line_filter(lq_pipe_t *p, const pstage_t *s, str_t line)
{
    bool any = false;
    for (size_t i = 0; i < s->nvals && !any; i++) {
        switch (s->op) {
        case LQ_LF_EQ:
        case LQ_LF_NEQ:
            any = s->vals[i].len == 0 ||
                  (line.len >= s->vals[i].len && memmem(line.p, line.len, s->vals[i].p, s->vals[i].len) != NULL);
            break;
        case LQ_LF_RE:
        case LQ_LF_NRE:
            any = re_find(p, s->res[i], line);
            break;
        case LQ_LF_PAT:
        case LQ_LF_NPAT:
            any = lq_pattern_test(s->pats[i], line);
            break;
        }
    }
    bool neg = s->op == LQ_LF_NEQ || s->op == LQ_LF_NRE || s->op == LQ_LF_NPAT;
    return neg ? !any : any;
}

static bool cmp_f(logql_cmp_t c, double a, double b)
{
    switch (c) {
    case LQ_CMP_EQ:
        return a == b;
    case LQ_CMP_NEQ:
        return a != b;
    case LQ_CMP_GT:
        return a > b;
    case LQ_CMP_GTE:
        return a >= b;
    case LQ_CMP_LT:
        return a < b;
    case LQ_CMP_LTE:
        return a <= b;
    }
    return false;
}

/* Go's error texts for the conversions Loki's label filters make. */
static void conv_err(lq_lbs_t *b, logql_lbl_kind_t kind, str_t v)
{
    char msg[320];
    int n = 0;
    if (kind == LQ_LBL_NUMBER) {
        n = snprintf(msg, sizeof(msg), "strconv.ParseFloat: parsing \"%.*s\": invalid syntax", (int)v.len, v.p);
    } else if (kind == LQ_LBL_DURATION) {
        size_t i = 0;
        while (i < v.len && ((v.p[i] >= '0' && v.p[i] <= '9') || v.p[i] == '.' || v.p[i] == '-' || v.p[i] == '+')) {
            i++;
        }
        if (i == v.len && v.len > 0) {
            n = snprintf(msg, sizeof(msg), "time: missing unit in duration \"%.*s\"", (int)v.len, v.p);
        } else {
            n = snprintf(msg, sizeof(msg), "time: invalid duration \"%.*s\"", (int)v.len, v.p);
        }
    } else {
        size_t i = 0;
        while (i < v.len && ((v.p[i] >= '0' && v.p[i] <= '9') || v.p[i] == '.' || v.p[i] == ',')) {
            i++;
        }
        if (i == 0) {
            n = snprintf(msg, sizeof(msg), "strconv.ParseFloat: parsing \"\": invalid syntax");
        } else {
            size_t j = i;
            while (j < v.len && v.p[j] == ' ') {
                j++;
            }
            n = snprintf(msg, sizeof(msg), "unhandled size name: %.*s", (int)(v.len - j), v.p + j);
        }
    }
    if (n < 0) {
        n = 0;
    }
    if ((size_t)n >= sizeof(msg)) {
        n = sizeof(msg) - 1;
    }
    lq_lbs_set_err(b, "LabelFilterErr", lq_lbs_dup(b, msg, (size_t)n));
}

bool lq_lf_run(const lq_lf_t *f, lq_lbs_t *b)
{
    switch (f->kind) {
    case LQ_LBL_AND: {
        bool l = lq_lf_run(f->l, b);
        bool r = lq_lf_run(f->r, b);
        return l && r;
    }
    case LQ_LBL_OR:
        return lq_lf_run(f->l, b) || lq_lf_run(f->r, b);
    case LQ_LBL_STRING: {
        str_t v;
        if (str_eq_cstr(f->name, LQ_ERR_LABEL)) {
            v = b->err;
        } else if (str_eq_cstr(f->name, LQ_ERR_DETAILS_LABEL)) {
            v = b->err_details;
        } else {
            lq_lbs_get(b, f->name, &v);
        }
        return matcher_matches(f->m, v);
    }
    default:
        break;
    }
    str_t v;
    if (!lq_lbs_get(b, f->name, &v)) {
        return false;
    }
    double x = 0;
    double want = 0;
    bool ok = false;
    if (f->kind == LQ_LBL_NUMBER) {
        ok = v.len > 0 && str_parse_double(v, &x);
        want = f->num;
    } else if (f->kind == LQ_LBL_DURATION) {
        int64_t ns = 0;
        ok = logql_parse_go_duration(v.p, v.len, &ns);
        x = (double)ns;
        want = (double)f->dur_ns;
    } else {
        uint64_t by = 0;
        ok = logql_parse_bytes(v.p, v.len, &by);
        x = (double)by;
        want = (double)f->bytes;
    }
    if (!ok) {
        if (b->err.len == 0) {
            conv_err(b, f->kind, v);
        }
        return true;
    }
    return cmp_f(f->cmp, x, want);
}

static bool regexp_extract(lq_pipe_t *p, const pstage_t *s, lq_lbs_t *b, str_t line)
{
    int rc = pcre2_match(s->res[0], (PCRE2_SPTR)(line.p ? line.p : ""), line.len, 0, 0, p->md, NULL);
    if (rc < 0) {
        return true;
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(p->md);
    uint32_t nov = pcre2_get_ovector_count(p->md);
    for (uint32_t g = 1; g < s->ngroups && g < nov; g++) {
        if (s->capnames[g].len == 0) {
            continue;
        }
        str_t val = { "", 0 };
        if (ov[2 * g] != PCRE2_UNSET) {
            val = (str_t){ line.p + ov[2 * g], ov[2 * g + 1] - ov[2 * g] };
        }
        buf_reset(&p->tmp);
        lq_sanitize_key(s->capnames[g].p, s->capnames[g].len, true, &p->tmp);
        if (p->tmp.len == 0) {
            continue;
        }
        str_t key = { (const char *)p->tmp.data, p->tmp.len };
        if (lq_lbs_base_has(b, key)) {
            buf_puts(&p->tmp, "_extracted");
            key = (str_t){ (const char *)p->tmp.data, p->tmp.len };
        }
        if (!lq_hint_should_extract(b, key)) {
            continue;
        }
        key = lq_lbs_dup(b, key.p, key.len);
        lq_lbs_set(b, key, val, LQ_CAT_PARSED);
        if (!lq_hint_continue(b, key)) {
            return false;
        }
    }
    return true;
}

/* Loki's LabelsFormatter: templates read one snapshot of the labels,
 * taken when the stage's first template runs, so they see the renames
 * before it but neither each other's results nor later renames. */
static void label_format(lq_pipe_t *p, const pstage_t *s, lq_lbs_t *b, int64_t ts, str_t line)
{
    lq_lbs_t snap = *b;
    bool have_snap = false;
    for (size_t i = 0; i < s->nfmts; i++) {
        const lblfmt_t *f = &s->fmts[i];
        if (f->rename) {
            str_t v;
            if (lq_lbs_get(b, f->src, &v)) {
                lq_lbs_set(b, f->dst, v, LQ_CAT_PARSED);
                if (!str_eq(f->src, f->dst)) {
                    lq_lbs_del(b, f->src);
                }
            }
            continue;
        }
        if (!have_snap) {
            snap = *b;
            snap.v = arena_alloc(b->scratch, (b->n + 1) * sizeof(*snap.v));
            memcpy(snap.v, b->v, b->n * sizeof(*snap.v));
            snap.cap = b->n;
            have_snap = true;
        }
        buf_reset(&p->tmp);
        buf_reset(&p->tmp2);
        if (lq_tmpl_exec(f->t, &snap, ts, line, &p->tmp, &p->tmp2) != 0) {
            lq_lbs_set_err(b, "TemplateFormatErr", lq_lbs_dup(b, (const char *)p->tmp2.data, p->tmp2.len));
            continue;
        }
        lq_lbs_set(b, f->dst, lq_lbs_dup(b, (const char *)p->tmp.data, p->tmp.len), LQ_CAT_PARSED);
    }
}

static void drop_keep(const pstage_t *s, lq_lbs_t *b)
{
    if (s->kind == P_DROP) {
        for (size_t i = 0; i < s->ndks; i++) {
            const dk_t *d = &s->dks[i];
            bool is_err = str_eq_cstr(d->name, LQ_ERR_LABEL);
            bool is_det = str_eq_cstr(d->name, LQ_ERR_DETAILS_LABEL);
            str_t v = { "", 0 };
            if (is_err) {
                v = b->err;
            } else if (is_det) {
                v = b->err_details;
            } else {
                lq_lbs_get(b, d->name, &v);
            }
            if (d->m != NULL && !matcher_matches(d->m, v)) {
                continue;
            }
            if (is_err) {
                b->err = (str_t){ "", 0 };
            } else if (is_det) {
                b->err_details = (str_t){ "", 0 };
            } else {
                lq_lbs_del(b, d->name);
            }
        }
        return;
    }
    if (s->ndks == 0) {
        return;
    }
    for (size_t i = 0; i < b->n; i++) {
        lq_lab_t *l = &b->v[i];
        if (l->del || str_eq_cstr(l->name, LQ_PRESERVE_ERR_LABEL)) {
            continue;
        }
        bool keep = false;
        for (size_t j = 0; j < s->ndks && !keep; j++) {
            if (!str_eq(s->dks[j].name, l->name)) {
                continue;
            }
            keep = s->dks[j].m == NULL || matcher_matches(s->dks[j].m, l->value);
        }
        l->del = !keep;
    }
}

static str_t decolorize(lq_pipe_t *p, lq_lbs_t *b, str_t line)
{
    buf_reset(&p->tmp);
    size_t off = 0;
    bool changed = false;
    while (off <= line.len) {
        int rc = pcre2_match(p->ansi, (PCRE2_SPTR)(line.p ? line.p : ""), line.len, off, 0, p->md, NULL);
        if (rc < 0) {
            break;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(p->md);
        buf_append(&p->tmp, line.p + off, ov[0] - off);
        changed = true;
        off = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
    }
    if (!changed) {
        return line;
    }
    if (off < line.len) {
        buf_append(&p->tmp, line.p + off, line.len - off);
    }
    return lq_lbs_dup(b, (const char *)p->tmp.data, p->tmp.len);
}

bool lq_pipe_run(lq_pipe_t *p, lq_lbs_t *b, int64_t ts, str_t *line)
{
    if (++p->h.gen == 0 && p->h.nreq > 0) {
        memset(p->h.seen, 0, p->h.nreq * sizeof(*p->h.seen));
        p->h.gen = 1;
    }
    p->h.nfound = 0;
    b->hints = &p->h;
    for (size_t i = 0; i < p->n; i++) {
        const pstage_t *s = &p->st[i];
        switch (s->kind) {
        case P_LINE:
            if (!line_filter(p, s, *line)) {
                return false;
            }
            break;
        case P_JSON:
            if (!lq_json_parse(b, *line, &p->tmp, &p->tmp2)) {
                return false;
            }
            break;
        case P_JSONP:
            lq_json_extract(b, *line, s->paths, s->npaths, &p->tmp);
            break;
        case P_LOGFMT:
            if (!lq_logfmt_parse(b, *line, s->src->strict, s->src->keep_empty, s->src->kvs, s->src->nkvs, &p->tmp,
                                 &p->tmp2)) {
                return false;
            }
            break;
        case P_UNPACK:
            lq_unpack_parse(b, line, &p->tmp);
            break;
        case P_REGEXP:
            if (!regexp_extract(p, s, b, *line)) {
                return false;
            }
            break;
        case P_PATTERN:
            if (!lq_pattern_extract(s->pat, b, *line)) {
                return false;
            }
            break;
        case P_LBLF:
            if (!lq_lf_run(s->lf, b)) {
                return false;
            }
            break;
        case P_LINEFMT: {
            str_t key;
            if (lq_tmpl_simple_key(s->tmpl, &key)) {
                lq_lbs_get(b, key, line);
                break;
            }
            buf_reset(&p->tmp);
            buf_reset(&p->tmp2);
            if (lq_tmpl_exec(s->tmpl, b, ts, *line, &p->tmp, &p->tmp2) != 0) {
                lq_lbs_set_err(b, "TemplateFormatErr", lq_lbs_dup(b, (const char *)p->tmp2.data, p->tmp2.len));
                break;
            }
            *line = lq_lbs_dup(b, (const char *)p->tmp.data, p->tmp.len);
            break;
        }
        case P_LBLFMT:
            label_format(p, s, b, ts, *line);
            break;
        case P_DROP:
        case P_KEEP:
            drop_keep(s, b);
            break;
        case P_DECOLOR:
            *line = decolorize(p, b, *line);
            break;
        }
    }
    return true;
}

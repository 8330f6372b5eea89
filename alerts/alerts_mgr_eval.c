/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_mgr_eval: one rule evaluated at one timestamp, as Prometheus'
 * rules package does it (rules/recording.go, rules/alerting.go,
 * rules/group.go), and the for-state restore after a start.
 *
 * Every sample a rule produces (its records, or ALERTS and
 * ALERTS_FOR_STATE) is written at ts - query_offset in one append, and the
 * label sets written are kept in the rule's set; what the previous
 * evaluation wrote and this one did not gets a stale marker. A failing
 * evaluation writes nothing and marks nothing stale (its previous set
 * stays), as in Prometheus.
 *
 * Alert state machine (per label set, identity = labels after the rule's
 * labels and alertname are applied): new -> pending (ActiveAt = ts);
 * pending -> firing once ts - ActiveAt >= for; a vanished pending alert is
 * dropped; a vanished firing alert stays firing while keep_firing_for
 * lasts, then becomes inactive (ResolvedAt = ts) and is kept and resent
 * for 15 minutes. The query runs without the state lock; state changes
 * take m->mu.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/alerts_int.h"
#include "common/log.h"
#include "common/mem.h"

static double stale_nan(void)
{
    uint64_t bits = TSDB_STALE_NAN_BITS;
    double v;
    memcpy(&v, &bits, sizeof(v));
    return v;
}

const char *mgr_state_str(alerts_state_t s)
{
    switch (s) {
    case ALERTS_STATE_PENDING:
        return "pending";
    case ALERTS_STATE_FIRING:
        return "firing";
    default:
        return "inactive";
    }
}

/* ---- output: samples to append ---- */

typedef struct mgr_out {
    tsdb_input_t *in;
    tsdb_sample_t *samples;
    size_t n, cap;
    arena_t *a;
} mgr_out_t;

/* Append one sample of labels ls (sorted; borrowed: it must live in the
 * evaluation's arena, or longer, until out_write) at t. */
static void out_add(mgr_out_t *o, const label_t *ls, size_t n, int64_t t, double v)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        tsdb_input_t *in = arena_alloc(o->a, cap * sizeof(*in));
        tsdb_sample_t *sm = arena_alloc(o->a, cap * sizeof(*sm));
        if (o->n) {
            memcpy(in, o->in, o->n * sizeof(*in));
            memcpy(sm, o->samples, o->n * sizeof(*sm));
        }
        for (size_t i = 0; i < o->n; i++) {
            in[i].samples = &sm[i];
        }
        o->in = in;
        o->samples = sm;
        o->cap = cap;
    }
    o->samples[o->n] = (tsdb_sample_t){ .t = t, .v = v };
    o->in[o->n] = (tsdb_input_t){ .labels = ls, .nlabels = n, .samples = &o->samples[o->n], .nsamples = 1 };
    o->n++;
}

/* A stale marker at t for entry i of s (its labels borrow s's bytes, so
 * s must outlive the out_write). */
static void out_add_stale(mgr_out_t *o, const mgr_sset_t *s, size_t i, int64_t t)
{
    label_t tmp[TSDB_MAX_LABELS];
    size_t n = mgr_sset_get(s, i, tmp);
    label_t *ls = arena_alloc(o->a, (n ? n : 1) * sizeof(*ls));
    memcpy(ls, tmp, n * sizeof(*ls));
    out_add(o, ls, n, t, stale_nan());
}

static void out_write(alerts_mgr_t *m, const mgr_out_t *o)
{
    if (o->n == 0) {
        return;
    }
    if (m->o.append(m->o.append_ctx, o->in, o->n) != 0) {
        log_warn("rules: writing %zu rule samples failed", o->n);
    }
}

size_t mgr_write_stale(alerts_mgr_t *m, const mgr_sset_t *s, int64_t t, arena_t *a)
{
    mgr_out_t o = { .a = a };
    for (size_t i = 0; i < s->n; i++) {
        out_add_stale(&o, s, i, t);
    }
    out_write(m, &o);
    return o.n;
}

/* ---- label building ---- */

/* A label list under construction: set overrides, "" deletes. */
typedef struct lbuild {
    label_t *ls;
    size_t n, cap;
} lbuild_t;

static void lb_init(lbuild_t *b, arena_t *a, const label_t *from, size_t n, size_t extra)
{
    b->cap = n + extra + 2;
    b->ls = arena_alloc(a, b->cap * sizeof(*b->ls));
    if (n > 0) {
        memcpy(b->ls, from, n * sizeof(*from));
    }
    b->n = n;
}

static void lb_del(lbuild_t *b, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < b->n; i++) {
        if (b->ls[i].name.len == nl && memcmp(b->ls[i].name.p, name, nl) == 0) {
            b->ls[i] = b->ls[--b->n];
            return;
        }
    }
}

static void lb_set(lbuild_t *b, str_t name, str_t value)
{
    for (size_t i = 0; i < b->n; i++) {
        if (str_eq(b->ls[i].name, name)) {
            if (value.len == 0) {
                b->ls[i] = b->ls[--b->n];
            } else {
                b->ls[i].value = value;
            }
            return;
        }
    }
    if (value.len == 0 || b->n == b->cap) {
        return;
    }
    b->ls[b->n++] = (label_t){ .name = name, .value = value };
}

/* ---- queries ---- */

static int mgr_query(alerts_mgr_t *m, const promql_node_t *expr, const char *text, int64_t t, arena_t *a,
                     promql_result_t *res, buf_t *err)
{
    promql_engine_opts_t eo = m->o.engine;
    eo.query = text;
    eo.query_len = text ? strlen(text) : 0;
    promql_eval_error_t e;
    if (promql_eval(&m->o.src, &eo, expr, t, t, 0, a, res, &e) != 0) {
        buf_puts(err, e.msg);
        return -1;
    }
    return 0;
}

/* The template `query` function: an instant query at ts_ms. */
static int tmpl_query(void *ctx, const char *q, size_t qlen, int64_t ts_ms, arena_t *a, alerts_tmpl_sample_t **out,
                      size_t *n, buf_t *err)
{
    alerts_mgr_t *m = ctx;
    promql_node_t *root = NULL;
    promql_error_t pe;
    if (promql_parse(q, qlen, a, &root, &pe) != 0) {
        buf_puts(err, pe.msg);
        return -1;
    }
    char *text = arena_strndup(a, q, qlen);
    promql_result_t res;
    int rc = mgr_query(m, root, text, ts_ms, a, &res, err);
    if (rc == 0) {
        *n = 0;
        *out = NULL;
        if (res.type == PROMQL_TYPE_SCALAR) {
            *out = arena_alloc(a, sizeof(**out));
            (*out)[0] = (alerts_tmpl_sample_t){ .labels = NULL, .nlabels = 0, .value = res.scalar };
            *n = 1;
        } else if (res.type == PROMQL_TYPE_VECTOR) {
            *out = arena_alloc(a, (res.nseries ? res.nseries : 1) * sizeof(**out));
            for (size_t i = 0; i < res.nseries; i++) {
                (*out)[i] = (alerts_tmpl_sample_t){ .labels = res.series[i].labels,
                                                    .nlabels = res.series[i].nlabels,
                                                    .value = res.series[i].vs[0] };
            }
            *n = res.nseries;
        } else {
            buf_puts(err, "query result is not a vector or scalar");
            rc = -1;
        }
    }
    promql_release(root);
    return rc;
}

/* A rule's query result as a vector: (labels, value) pairs. */
typedef struct vec {
    const label_t **ls;
    size_t *nls;
    double *v;
    size_t n;
} vec_t;

static int result_vector(const promql_result_t *res, arena_t *a, vec_t *out, buf_t *err)
{
    memset(out, 0, sizeof(*out));
    if (res->type == PROMQL_TYPE_SCALAR) {
        out->ls = arena_alloc(a, sizeof(*out->ls));
        out->nls = arena_alloc(a, sizeof(*out->nls));
        out->v = arena_alloc(a, sizeof(*out->v));
        out->ls[0] = NULL;
        out->nls[0] = 0;
        out->v[0] = res->scalar;
        out->n = 1;
        return 0;
    }
    if (res->type != PROMQL_TYPE_VECTOR) {
        buf_puts(err, "rule result is not a vector or scalar");
        return -1;
    }
    size_t n = res->nseries ? res->nseries : 1;
    out->ls = arena_alloc(a, n * sizeof(*out->ls));
    out->nls = arena_alloc(a, n * sizeof(*out->nls));
    out->v = arena_alloc(a, n * sizeof(*out->v));
    for (size_t i = 0; i < res->nseries; i++) {
        out->ls[i] = res->series[i].labels;
        out->nls[i] = res->series[i].nlabels;
        out->v[i] = res->series[i].vs[0];
    }
    out->n = res->nseries;
    return 0;
}

/* ---- recording rules ---- */

/* One result sample with its final labels (records and alerts) and, for
 * alerts, expanded annotations; in the evaluation's arena. */
typedef struct built {
    label_t *ls;
    size_t n;
    label_t *ann;
    size_t nann;
    double v;
    uint64_t hash;
} built_t;

static int built_cmp(const void *x, const void *y)
{
    const built_t *a = x, *b = y;
    if (a->hash != b->hash) {
        return a->hash < b->hash ? -1 : 1;
    }
    return labels_compare(a->ls, a->n, b->ls, b->n);
}

/* Sort by (hash, labels); true when two sets are equal. */
static bool built_sort_has_dup(built_t *b, size_t n)
{
    qsort(b, n, sizeof(*b), built_cmp);
    for (size_t i = 1; i < n; i++) {
        if (built_cmp(&b[i - 1], &b[i]) == 0) {
            return true;
        }
    }
    return false;
}

static long eval_recording(alerts_mgr_t *m, mgr_group_t *g, mgr_rule_t *r, int64_t t, arena_t *a, mgr_out_t *o,
                           buf_t *err)
{
    promql_result_t res;
    vec_t v;
    if (mgr_query(m, r->expr, r->query, t, a, &res, err) != 0 || result_vector(&res, a, &v, err) != 0) {
        return -1;
    }
    built_t *b = arena_alloc(a, (v.n ? v.n : 1) * sizeof(*b));
    for (size_t i = 0; i < v.n; i++) {
        lbuild_t lb;
        lb_init(&lb, a, v.ls[i], v.nls[i], r->def->nlabels + 1);
        lb_set(&lb, STR_LIT("__name__"), str_from(r->def->record, strlen(r->def->record)));
        for (size_t k = 0; k < r->def->nlabels; k++) {
            lb_set(&lb, str_from(r->def->labels[k].name, strlen(r->def->labels[k].name)),
                   str_from(r->def->labels[k].value, strlen(r->def->labels[k].value)));
        }
        labels_sort(lb.ls, lb.n);
        b[i] = (built_t){ .ls = lb.ls, .n = lb.n, .v = v.v[i], .hash = labels_hash(lb.ls, lb.n) };
    }
    if (built_sort_has_dup(b, v.n)) {
        buf_puts(err, "vector contains metrics with the same labelset after applying rule labels");
        return -1;
    }
    if (g->limit > 0 && (int64_t)v.n > g->limit) {
        buf_printf(err, "exceeded limit %lld with %zu series", (long long)g->limit, v.n);
        return -1;
    }
    for (size_t i = 0; i < v.n; i++) {
        out_add(o, b[i].ls, b[i].n, t, b[i].v);
    }
    return (long)v.n;
}

/* ---- alerting rules ---- */

void mgr_alert_free(mgr_alert_t *a)
{
    mem_free(a);
}

/* One heap block: struct, label arrays, then strings. */
static mgr_alert_t *alert_new(const label_t *ls, size_t n, const label_t *ann, size_t nann)
{
    size_t strs = 0;
    for (size_t i = 0; i < n; i++) {
        strs += ls[i].name.len + ls[i].value.len + 2;
    }
    for (size_t i = 0; i < nann; i++) {
        strs += ann[i].name.len + ann[i].value.len + 2;
    }
    size_t size = sizeof(mgr_alert_t) + (n + nann) * sizeof(label_t) + strs;
    mgr_alert_t *al = mem_calloc(1, size);
    al->labels = (label_t *)(al + 1);
    al->annotations = al->labels + n;
    char *p = (char *)(al->annotations + nann);
    const label_t *src[2] = { ls, ann };
    label_t *dst[2] = { al->labels, al->annotations };
    size_t cnt[2] = { n, nann };
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < cnt[k]; i++) {
            memcpy(p, src[k][i].name.p, src[k][i].name.len);
            dst[k][i].name = str_from(p, src[k][i].name.len);
            p += src[k][i].name.len;
            *p++ = 0;
            memcpy(p, src[k][i].value.p, src[k][i].value.len);
            dst[k][i].value = str_from(p, src[k][i].value.len);
            p += src[k][i].value.len;
            *p++ = 0;
        }
    }
    al->nlabels = n;
    al->nannotations = nann;
    al->hash = labels_hash(al->labels, n);
    return al;
}

/* Expand a rule's label or annotation template. */
static str_t expand(const mgr_rule_t *r, const char *text, const alerts_tmpl_data_t *d, arena_t *a)
{
    if (strstr(text, "{{") == NULL) {
        return str_from(text, strlen(text));
    }
    buf_t out;
    buf_init(&out);
    char name[300];
    snprintf(name, sizeof(name), "__alert_%s", r->def->alert);
    if (alerts_tmpl_expand(name, text, strlen(text), d, &out) != 0) {
        log_warn("rules: expanding alert template of %s failed: %.*s", r->def->alert, (int)out.len,
                 (const char *)out.data);
    }
    char *s = arena_strndup(a, out.len ? (const char *)out.data : "", out.len);
    size_t len = out.len;
    buf_fini(&out);
    return str_from(s, len);
}

static void alert_samples(const mgr_alert_t *al, int64_t t, arena_t *a, mgr_out_t *o)
{
    lbuild_t lb;
    lb_init(&lb, a, al->labels, al->nlabels, 2);
    lb_set(&lb, STR_LIT("__name__"), STR_LIT("ALERTS"));
    const char *st = mgr_state_str(al->state);
    lb_set(&lb, STR_LIT("alertstate"), str_from(st, strlen(st)));
    labels_sort(lb.ls, lb.n);
    out_add(o, lb.ls, lb.n, t, 1);
    lbuild_t fs;
    lb_init(&fs, a, al->labels, al->nlabels, 1);
    lb_set(&fs, STR_LIT("__name__"), STR_LIT("ALERTS_FOR_STATE"));
    labels_sort(fs.ls, fs.n);
    /* Prometheus writes float64(ActiveAt.Unix()): whole seconds. */
    int64_t sec = al->active_at / 1000 - (al->active_at % 1000 < 0);
    out_add(o, fs.ls, fs.n, t, (double)sec);
}

/* The alert set of one result: labels (sample labels without __name__,
 * the rule's expanded labels, alertname) and expanded annotations, built
 * in the evaluation's arena and sorted as r->alerts is. */
static void alert_candidates(alerts_mgr_t *m, const mgr_rule_t *r, const vec_t *v, int64_t ts, arena_t *a, built_t *c)
{
    const alerts_rule_t *def = r->def;
    alerts_tmpl_data_t d = {
        .external_labels = m->ext,
        .nexternal_labels = m->next,
        .external_url = m->external_url,
        .eval_ms = ts,
        .query = tmpl_query,
        .query_ctx = m,
    };
    for (size_t i = 0; i < v->n; i++) {
        d.labels = v->ls[i];
        d.nlabels = v->nls[i];
        d.value = v->v[i];
        lbuild_t lb;
        lb_init(&lb, a, v->ls[i], v->nls[i], def->nlabels + 1);
        lb_del(&lb, "__name__");
        for (size_t k = 0; k < def->nlabels; k++) {
            str_t val = expand(r, def->labels[k].value, &d, a);
            lb_set(&lb, str_from(def->labels[k].name, strlen(def->labels[k].name)), val);
        }
        lb_set(&lb, STR_LIT("alertname"), str_from(def->alert, strlen(def->alert)));
        labels_sort(lb.ls, lb.n);
        label_t *ann = arena_alloc(a, (def->nannotations ? def->nannotations : 1) * sizeof(*ann));
        for (size_t k = 0; k < def->nannotations; k++) {
            ann[k].name = str_from(def->annotations[k].name, strlen(def->annotations[k].name));
            ann[k].value = expand(r, def->annotations[k].value, &d, a);
        }
        labels_sort(ann, def->nannotations);
        c[i] = (built_t){ .ls = lb.ls,
                          .n = lb.n,
                          .ann = ann,
                          .nann = def->nannotations,
                          .v = v->v[i],
                          .hash = labels_hash(lb.ls, lb.n) };
    }
}

static int alert_vs_candidate(const mgr_alert_t *al, const built_t *c)
{
    if (al->hash != c->hash) {
        return al->hash < c->hash ? -1 : 1;
    }
    return labels_compare(al->labels, al->nlabels, c->ls, c->n);
}

/* Merge the sorted candidates into r->alerts (sorted), as Prometheus'
 * Eval does: an active alert that is in the result keeps its state and
 * times and takes the new value and annotations (its heap block is
 * replaced only when the annotations changed); a new label set, or one
 * whose alert was resolved, starts pending at ts. [out] in_result[i]
 * tells whether alert i of the new set is in this result. Takes m->mu
 * from the caller. */
static void alert_merge(mgr_rule_t *r, const built_t *c, size_t n, int64_t ts, bool *in_result)
{
    size_t cap = r->nalerts + n;
    mgr_alert_t **merged = mem_calloc(cap ? cap : 1, sizeof(*merged));
    size_t nm = 0, i = 0, k = 0;
    while (i < r->nalerts || k < n) {
        int cmp = i == r->nalerts ? 1 : k == n ? -1 : alert_vs_candidate(r->alerts[i], &c[k]);
        if (cmp < 0) {
            in_result[nm] = false;
            merged[nm++] = r->alerts[i++];
            continue;
        }
        mgr_alert_t *old = cmp == 0 ? r->alerts[i++] : NULL;
        const built_t *cd = &c[k++];
        mgr_alert_t *al = old;
        if (old == NULL || old->state == ALERTS_STATE_INACTIVE) {
            al = alert_new(cd->ls, cd->n, cd->ann, cd->nann);
            al->active_at = ts;
            al->state = ALERTS_STATE_PENDING;
            mgr_alert_free(old);
        } else if (labels_compare(old->annotations, old->nannotations, cd->ann, cd->nann) != 0) {
            al = alert_new(cd->ls, cd->n, cd->ann, cd->nann);
            mgr_alert_t keep = *old;
            al->state = keep.state;
            al->active_at = keep.active_at;
            al->fired_at = keep.fired_at;
            al->resolved_at = keep.resolved_at;
            al->last_sent_at = keep.last_sent_at;
            al->valid_until = keep.valid_until;
            al->keep_firing_since = keep.keep_firing_since;
            mgr_alert_free(old);
        }
        al->value = cd->v;
        in_result[nm] = true;
        merged[nm++] = al;
    }
    mem_free(r->alerts);
    r->alerts = merged;
    r->nalerts = nm;
}

/* Advance the state of every alert of r at ts (in_result from
 * alert_merge): pending -> firing after `for`; an alert missing from the
 * result is dropped when pending, kept firing while keep_firing_for
 * lasts, else resolved and kept MGR_RESOLVED_RETENTION_MS. Returns the
 * pending and firing alerts. Takes m->mu from the caller. */
static long alert_advance(mgr_rule_t *r, int64_t ts, const bool *in_result)
{
    const alerts_rule_t *def = r->def;
    size_t w = 0;
    long active = 0;
    for (size_t j = 0; j < r->nalerts; j++) {
        mgr_alert_t *al = r->alerts[j];
        bool counts = true;
        if (in_result[j]) {
            al->keep_firing_since = 0;
        } else {
            bool keep_firing = false;
            if (al->state == ALERTS_STATE_FIRING && def->keep_firing_for_ms > 0) {
                if (al->keep_firing_since == 0) {
                    al->keep_firing_since = ts;
                }
                keep_firing = ts - al->keep_firing_since < def->keep_firing_for_ms;
            }
            bool drop = al->state == ALERTS_STATE_PENDING ||
                        (al->resolved_at != 0 && ts - al->resolved_at > MGR_RESOLVED_RETENTION_MS);
            if (al->state != ALERTS_STATE_INACTIVE && !keep_firing) {
                al->state = ALERTS_STATE_INACTIVE;
                al->resolved_at = ts;
            }
            if (drop) {
                mgr_alert_free(al);
                continue;
            }
            counts = keep_firing;
        }
        if (counts) {
            active++;
            if (al->state == ALERTS_STATE_PENDING && ts - al->active_at >= def->for_ms) {
                al->state = ALERTS_STATE_FIRING;
                al->fired_at = ts;
            }
        }
        r->alerts[w++] = al;
    }
    r->nalerts = w;
    return active;
}

static long eval_alerting(alerts_mgr_t *m, mgr_group_t *g, mgr_rule_t *r, int64_t ts, int64_t t, arena_t *a,
                          mgr_out_t *o, buf_t *err)
{
    promql_result_t res;
    vec_t v;
    if (mgr_query(m, r->expr, r->query, t, a, &res, err) != 0 || result_vector(&res, a, &v, err) != 0) {
        return -1;
    }
    built_t *c = arena_alloc(a, (v.n ? v.n : 1) * sizeof(*c));
    alert_candidates(m, r, &v, ts, a, c);
    if (built_sort_has_dup(c, v.n)) {
        buf_puts(err, "vector contains metrics with the same labelset after applying alert labels");
        return -1;
    }
    pthread_mutex_lock(&m->mu);
    bool *in_result = arena_alloc(a, (r->nalerts + v.n + 1) * sizeof(*in_result));
    alert_merge(r, c, v.n, ts, in_result);
    long active = alert_advance(r, ts, in_result);
    if (g->limit > 0 && active > g->limit) {
        for (size_t j = 0; j < r->nalerts; j++) {
            mgr_alert_free(r->alerts[j]);
        }
        r->nalerts = 0;
        pthread_mutex_unlock(&m->mu);
        buf_printf(err, "exceeded limit of %lld with %ld alerts", (long long)g->limit, active);
        return -1;
    }
    long written = 0;
    for (size_t j = 0; r->restored && j < r->nalerts; j++) {
        if (r->alerts[j]->state != ALERTS_STATE_INACTIVE) {
            alert_samples(r->alerts[j], t, a, o);
            written += 2;
        }
    }
    pthread_mutex_unlock(&m->mu);
    return written;
}

/* Prometheus' sendAlerts: firing alerts every resend delay, resolved ones
 * when they resolved since the last send. */
static void send_alerts(alerts_mgr_t *m, mgr_group_t *g, mgr_rule_t *r, int64_t ts, arena_t *a)
{
    if (m->o.send == NULL) {
        return;
    }
    int64_t resend = m->o.resend_delay_ms > 0 ? m->o.resend_delay_ms : 60000;
    int64_t delta = g->interval_ms > resend ? g->interval_ms : resend;
    buf_t url;
    buf_init(&url);
    buf_puts(&url, m->external_url);
    buf_puts(&url, "/graph?g0.expr=");
    buf_put_query_escaped(&url, r->query, strlen(r->query));
    buf_puts(&url, "&g0.tab=1");
    char *gen = arena_strndup(a, (const char *)url.data, url.len);
    buf_fini(&url);

    pthread_mutex_lock(&m->mu);
    alerts_alert_t *out = arena_alloc(a, (r->nalerts ? r->nalerts : 1) * sizeof(*out));
    size_t n = 0;
    for (size_t i = 0; i < r->nalerts; i++) {
        mgr_alert_t *al = r->alerts[i];
        if (al->state == ALERTS_STATE_PENDING) {
            continue;
        }
        bool due = al->resolved_at > al->last_sent_at || al->last_sent_at + resend < ts;
        if (!due) {
            continue;
        }
        al->last_sent_at = ts;
        al->valid_until = ts + 4 * delta;
        lbuild_t lb;
        lb_init(&lb, a, al->labels, al->nlabels, m->next);
        for (size_t k = 0; k < m->next; k++) {
            if (labels_get(lb.ls, lb.n, m->ext[k].name.p).len == 0) {
                lb_set(&lb, m->ext[k].name, m->ext[k].value);
            }
        }
        labels_sort(lb.ls, lb.n);
        /* Copies: the alert may be freed once the state lock is released. */
        label_t *ann = mgr_labels_copy(a, al->annotations, al->nannotations);
        label_t *ls = mgr_labels_copy(a, lb.ls, lb.n);
        out[n++] = (alerts_alert_t){ .labels = ls,
                                     .nlabels = lb.n,
                                     .annotations = ann,
                                     .nannotations = al->nannotations,
                                     .starts_at_ms = al->fired_at,
                                     .ends_at_ms = al->resolved_at != 0 ? al->resolved_at : al->valid_until,
                                     .generator_url = gen };
    }
    pthread_mutex_unlock(&m->mu);
    if (n > 0) {
        m->o.send(m->o.send_ctx, out, n, ts);
    }
}

long mgr_eval_rule(alerts_mgr_t *m, mgr_group_t *g, mgr_rule_t *r, int64_t ts, arena_t *a)
{
    int64_t t = ts - g->query_offset_ms;
    mgr_out_t o = { .a = a };
    buf_t err;
    buf_init(&err);
    double t0 = clock_mono_s();
    int64_t wall = clock_now_ms(&m->o.clock);
    long n = r->alerting ? eval_alerting(m, g, r, ts, t, a, &o, &err) : eval_recording(m, g, r, t, a, &o, &err);
    if (n >= 0) {
        mgr_sset_t cur;
        mgr_sset_init(&cur);
        for (size_t i = 0; i < o.n; i++) {
            mgr_sset_add(&cur, o.in[i].labels, o.in[i].nlabels);
        }
        mgr_sset_finish(&cur);
        for (size_t i = 0; i < r->prev.n; i++) {
            if (!mgr_sset_has(&cur, &r->prev, i)) {
                out_add_stale(&o, &r->prev, i, t);
            }
        }
        out_write(m, &o);
        pthread_mutex_lock(&m->mu);
        mgr_sset_move(&r->prev, &cur);
        pthread_mutex_unlock(&m->mu);
        if (r->alerting) {
            send_alerts(m, g, r, ts, a);
        }
    }
    pthread_mutex_lock(&m->mu);
    r->last_eval_ms = wall;
    r->eval_seconds = clock_mono_s() - t0;
    mem_free(r->last_error);
    r->last_error = NULL;
    if (n < 0) {
        r->health = MGR_HEALTH_ERR;
        r->last_error = mem_strndup((const char *)err.data, err.len);
        log_warn("rules: evaluating rule %s of group %s failed: %s", r->def->alert[0] ? r->def->alert : r->def->record,
                 g->name, r->last_error);
    } else {
        r->health = MGR_HEALTH_OK;
    }
    pthread_mutex_unlock(&m->mu);
    buf_fini(&err);
    return n;
}

/* ---- for-state restore ---- */

typedef struct restore_ctx {
    size_t nlabels;
    bool found;
    int64_t t;
    double v;
} restore_ctx_t;

static int restore_series(void *ctx, const label_t *labels, size_t nlabels, const int64_t *ts, const double *vs,
                          size_t n)
{
    (void)labels;
    restore_ctx_t *c = ctx;
    if (nlabels != c->nlabels || n == 0) {
        return 0;
    }
    c->found = true;
    c->t = ts[n - 1];
    c->v = vs[n - 1];
    return 0;
}

static bool is_stale(double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    return bits == TSDB_STALE_NAN_BITS;
}

/* The last ALERTS_FOR_STATE sample of al within [mint, maxt]. */
static bool restore_lookup(alerts_mgr_t *m, const mgr_alert_t *al, int64_t mint, int64_t maxt, int64_t *t, double *v)
{
    size_t nm = al->nlabels + 1;
    matcher_t *ms = mem_calloc(nm, sizeof(*ms));
    char err[128];
    size_t ok = 0;
    bool good =
        matcher_init(&ms[ok], MATCH_EQ, STR_LIT("__name__"), STR_LIT("ALERTS_FOR_STATE"), err, sizeof(err)) == 0;
    if (good) {
        ok++;
    }
    for (size_t i = 0; good && i < al->nlabels; i++) {
        good = matcher_init(&ms[ok], MATCH_EQ, al->labels[i].name, al->labels[i].value, err, sizeof(err)) == 0;
        if (good) {
            ok++;
        }
    }
    restore_ctx_t c = { .nlabels = al->nlabels + 1 };
    if (good) {
        m->o.src.select(m->o.src.ctx, ms, nm, mint, maxt, restore_series, &c);
    }
    for (size_t i = 0; i < ok; i++) {
        matcher_fini(&ms[i]);
    }
    mem_free(ms);
    if (!c.found) {
        return false;
    }
    *t = c.t;
    *v = c.v;
    return true;
}

void mgr_restore_group(alerts_mgr_t *m, mgr_group_t *g, int64_t now)
{
    int64_t tolerance = m->o.outage_tolerance_ms > 0 ? m->o.outage_tolerance_ms : 3600 * 1000LL;
    int64_t grace = m->o.grace_period_ms > 0 ? m->o.grace_period_ms : 600 * 1000LL;
    for (size_t i = 0; i < g->nrules; i++) {
        mgr_rule_t *r = &g->rules[i];
        if (!r->alerting) {
            continue;
        }
        int64_t hold = r->def->for_ms;
        if (hold >= grace) {
            /* The store is read without the state lock (eval_mu, held by
             * the caller, keeps the alerts from changing), so the API is
             * not blocked by one select per alert. */
            for (size_t k = 0; k < r->nalerts; k++) {
                mgr_alert_t *al = r->alerts[k];
                int64_t t;
                double v;
                if (!restore_lookup(m, al, now - tolerance, now, &t, &v) || is_stale(v) || !isfinite(v) || v < 0 ||
                    v > (double)(now / 1000)) {
                    continue; /* not active, or a value no evaluation wrote */
                }
                /* Prometheus works in whole seconds here. */
                int64_t down_at = t / 1000 * 1000;
                int64_t active_at = (int64_t)v * 1000;
                int64_t remaining = hold - (down_at - active_at);
                if (remaining <= 0) {
                    /* It was firing: the next evaluation fires it again. */
                } else if (remaining < grace) {
                    active_at = now + grace - hold;
                } else {
                    active_at += now - down_at;
                }
                pthread_mutex_lock(&m->mu);
                al->active_at = active_at;
                pthread_mutex_unlock(&m->mu);
            }
        }
        pthread_mutex_lock(&m->mu);
        r->restored = true;
        pthread_mutex_unlock(&m->mu);
    }
}

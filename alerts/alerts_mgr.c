/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_mgr: the rule manager. It owns the loaded rule set (every group
 * of every rule and SLO file, parsed once into one arena), runs each group
 * at its fixed slot on the clock, and keeps the state the API shows.
 *
 * Loading is all or nothing: every file is parsed and checked before the
 * running set is touched. A group whose file and name survive a reload
 * keeps its alerts, series sets and schedule (Prometheus' CopyState);
 * rules and groups that disappear get stale markers for what they wrote.
 *
 * Scheduling: a group of interval I runs at the timestamps t with
 * t mod I == hash(file, name) mod I, so groups spread over the interval
 * and a restart keeps each group on its slot. One thread runs the groups
 * in time order; when it falls behind, the skipped slots are counted as
 * missed and never replayed. After the first load, each group with
 * alerting rules restores its for-state from ALERTS_FOR_STATE after its
 * second evaluation, as Prometheus does.
 *
 * Locks: eval_mu serialises evaluations and loads; mu guards the state
 * the API and metrics read (held only briefly); sched_mu/sched_cond wake
 * the scheduler.
 */
#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "alerts/alerts_int.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/mem.h"

alerts_mgr_t *alerts_mgr_create(const alerts_mgr_opts_t *o)
{
    alerts_mgr_t *m = mem_calloc(1, sizeof(*m));
    m->o = *o;
    if (m->o.clock.now_ms == NULL) {
        m->o.clock = clock_real();
    }
    if (m->o.eval_interval_ms <= 0) {
        m->o.eval_interval_ms = 60000;
    }
    m->o.external_labels = NULL;
    m->o.external_url = NULL;
    m->next = o->nexternal_labels;
    m->ext = mem_calloc(m->next ? m->next : 1, sizeof(*m->ext));
    for (size_t i = 0; i < m->next; i++) {
        const char *n = o->external_labels[2 * i], *v = o->external_labels[2 * i + 1];
        m->ext[i].name = str_from(mem_strdup(n), strlen(n));
        m->ext[i].value = str_from(mem_strdup(v), strlen(v));
    }
    labels_sort(m->ext, m->next);
    m->external_url = mem_strdup(o->external_url ? o->external_url : "");
    pthread_mutex_init(&m->eval_mu, NULL);
    pthread_mutex_init(&m->mu, NULL);
    pthread_mutex_init(&m->sched_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&m->sched_cond, &ca);
    pthread_condattr_destroy(&ca);
    m->last_reload_ok = true;
    return m;
}

void mgr_rule_fini(mgr_rule_t *r)
{
    for (size_t i = 0; i < r->nalerts; i++) {
        mgr_alert_free(r->alerts[i]);
    }
    mem_free(r->alerts);
    r->alerts = NULL;
    r->nalerts = 0;
    mgr_sset_fini(&r->prev);
    mem_free(r->last_error);
    r->last_error = NULL;
}

static void ruleset_destroy(mgr_ruleset_t *rs)
{
    if (rs == NULL) {
        return;
    }
    for (size_t i = 0; i < rs->ngroups; i++) {
        mgr_group_t *g = &rs->groups[i];
        for (size_t k = 0; k < g->nrules; k++) {
            mgr_rule_fini(&g->rules[k]);
            promql_release(g->rules[k].expr);
        }
        mgr_sset_fini(&g->stale);
    }
    arena_destroy(rs->arena);
    mem_free(rs);
}

void alerts_mgr_destroy(alerts_mgr_t *m)
{
    if (m == NULL) {
        return;
    }
    alerts_mgr_stop(m);
    ruleset_destroy(m->rs);
    for (size_t i = 0; i < m->next; i++) {
        mem_free((char *)m->ext[i].name.p);
        mem_free((char *)m->ext[i].value.p);
    }
    mem_free(m->ext);
    mem_free(m->external_url);
    pthread_mutex_destroy(&m->eval_mu);
    pthread_mutex_destroy(&m->mu);
    pthread_mutex_destroy(&m->sched_mu);
    pthread_cond_destroy(&m->sched_cond);
    mem_free(m);
}

/* ---- loading ---- */

static uint64_t group_slot_hash(const char *file, const char *name)
{
    uint64_t h = hash_bytes(name, strlen(name));
    return hash_bytes_seed(file, strlen(file), h);
}

/* Prometheus' EvalTimestamp: the latest slot of g at or before now. */
static int64_t group_slot(const mgr_group_t *g, int64_t now)
{
    int64_t iv = g->interval_ms;
    int64_t off = (int64_t)(g->slot_hash % (uint64_t)iv);
    int64_t adj = now - off;
    int64_t base = adj - ((adj % iv) + iv) % iv;
    return base + off;
}

static bool has_glob_chars(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

/* Expand globs (sorted, de-duplicated across patterns) into paths. */
static int expand_globs(const char *const *globs, size_t n, arena_t *a, char ***out, size_t *nout, buf_t *err)
{
    size_t cap = 16, cnt = 0;
    char **paths = mem_calloc(cap, sizeof(*paths));
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        glob_t gl;
        memset(&gl, 0, sizeof(gl));
        /* As Prometheus' filepath.Glob: an unreadable directory is no match. */
        int g = glob(globs[i], 0, NULL, &gl);
        if (g == GLOB_NOMATCH || g == GLOB_ABORTED || (g == 0 && gl.gl_pathc == 0)) {
            if (!has_glob_chars(globs[i])) {
                buf_printf(err, "%s: open %s: no such file or directory\n", globs[i], globs[i]);
                rc = -1;
            }
        } else if (g != 0) {
            buf_printf(err, "%s: cannot expand the pattern\n", globs[i]);
            rc = -1;
        }
        for (size_t k = 0; g == 0 && k < gl.gl_pathc; k++) {
            bool dup = false;
            for (size_t j = 0; j < cnt && !dup; j++) {
                dup = strcmp(paths[j], gl.gl_pathv[k]) == 0;
            }
            if (dup) {
                continue;
            }
            if (cnt == cap) {
                cap *= 2;
                paths = mem_realloc(paths, cap * sizeof(*paths));
            }
            paths[cnt++] = arena_strndup(a, gl.gl_pathv[k], strlen(gl.gl_pathv[k]));
        }
        globfree(&gl);
    }
    char **res = arena_alloc(a, (cnt ? cnt : 1) * sizeof(*res));
    memcpy(res, paths, cnt * sizeof(*res));
    mem_free(paths);
    *out = res;
    *nout = cnt;
    return rc;
}

typedef struct loaded_file {
    const char *path;
    alerts_rules_file_t *f;
} loaded_file_t;

static int load_files(const char *const *globs, size_t n, bool slo, arena_t *a, loaded_file_t **out, size_t *nout,
                      buf_t *err)
{
    char **paths;
    size_t np;
    int rc = expand_globs(globs, n, a, &paths, &np, err);
    loaded_file_t *lf = arena_alloc(a, (np ? np : 1) * sizeof(*lf));
    for (size_t i = 0; i < np; i++) {
        alerts_rules_error_t *errs = NULL;
        size_t nerrs = 0;
        lf[i].path = paths[i];
        lf[i].f = NULL;
        int r = slo ? alerts_slo_load(paths[i], a, &lf[i].f, &errs, &nerrs)
                    : alerts_rules_load(paths[i], a, &lf[i].f, &errs, &nerrs);
        if (r != 0) {
            rc = -1;
            for (size_t k = 0; k < nerrs; k++) {
                if (errs[k].line > 0) {
                    /* The text starts with "L:C: " as promtool prints it; the
                     * position moves next to the file name. */
                    char pos[32];
                    int plen = snprintf(pos, sizeof(pos), "%u:%u: ", errs[k].line, errs[k].col);
                    const char *t = errs[k].text;
                    if (plen > 0 && strncmp(t, pos, (size_t)plen) == 0) {
                        t += plen;
                    }
                    buf_printf(err, "%s:%u:%u: %s\n", paths[i], errs[k].line, errs[k].col, t);
                } else {
                    buf_printf(err, "%s: %s\n", paths[i], errs[k].text);
                }
            }
        }
    }
    *out = lf;
    *nout = np;
    return rc;
}

/* Prometheus 3's group labels: a copy of rule r whose labels are the
 * group's, overridden by the rule's own. */
static const alerts_rule_t *with_group_labels(arena_t *a, const alerts_rules_group_t *gd, const alerts_rule_t *r)
{
    alerts_rule_t *c = arena_alloc(a, sizeof(*c));
    *c = *r;
    c->labels = arena_alloc(a, (gd->nlabels + r->nlabels) * sizeof(*c->labels));
    c->nlabels = 0;
    for (size_t i = 0; i < gd->nlabels; i++) {
        bool overridden = false;
        for (size_t k = 0; k < r->nlabels && !overridden; k++) {
            overridden = strcmp(r->labels[k].name, gd->labels[i].name) == 0;
        }
        if (!overridden) {
            c->labels[c->nlabels++] = gd->labels[i];
        }
    }
    for (size_t k = 0; k < r->nlabels; k++) {
        c->labels[c->nlabels++] = r->labels[k];
    }
    return c;
}

/* Build the rule set of the loaded files (all valid). */
static int build_ruleset(alerts_mgr_t *m, arena_t *a, loaded_file_t *lf, size_t nf, mgr_ruleset_t **out, buf_t *err)
{
    size_t ng = 0;
    for (size_t i = 0; i < nf; i++) {
        ng += lf[i].f->ngroups;
    }
    mgr_ruleset_t *rs = mem_calloc(1, sizeof(*rs));
    rs->arena = a;
    rs->groups = arena_calloc(a, ng ? ng : 1, sizeof(*rs->groups));
    int rc = 0;
    for (size_t i = 0; i < nf; i++) {
        for (size_t k = 0; k < lf[i].f->ngroups; k++) {
            const alerts_rules_group_t *gd = &lf[i].f->groups[k];
            mgr_group_t *g = &rs->groups[rs->ngroups++];
            g->file = lf[i].path;
            g->name = gd->name;
            g->def = gd;
            g->interval_ms = gd->interval_ms > 0 ? gd->interval_ms : m->o.eval_interval_ms;
            g->query_offset_ms = gd->has_query_offset ? gd->query_offset_ms : m->o.query_offset_ms;
            g->limit = gd->limit;
            g->slot_hash = group_slot_hash(g->file, g->name);
            mgr_sset_init(&g->stale);
            g->rules = arena_calloc(a, gd->nrules ? gd->nrules : 1, sizeof(*g->rules));
            g->nrules = gd->nrules;
            for (size_t j = 0; j < gd->nrules; j++) {
                mgr_rule_t *r = &g->rules[j];
                r->def = gd->nlabels > 0 ? with_group_labels(a, gd, &gd->rules[j]) : &gd->rules[j];
                r->alerting = gd->rules[j].alert[0] != '\0';
                mgr_sset_init(&r->prev);
                promql_error_t pe;
                if (promql_parse(r->def->expr, strlen(r->def->expr), a, &r->expr, &pe) != 0) {
                    buf_printf(err, "%s: group %s: %s\n", g->file, g->name, pe.msg);
                    r->expr = NULL;
                    rc = -1;
                    continue;
                }
                buf_t q;
                buf_init(&q);
                promql_format(r->expr, &q);
                r->query = arena_strndup(a, (const char *)q.data, q.len);
                buf_fini(&q);
            }
        }
    }
    *out = rs;
    return rc;
}

/* A rule's identity across reloads: its name and its labels (CopyState). */
static bool same_rule(const mgr_rule_t *a, const mgr_rule_t *b)
{
    if (a->alerting != b->alerting) {
        return false;
    }
    const char *na = a->alerting ? a->def->alert : a->def->record;
    const char *nb = b->alerting ? b->def->alert : b->def->record;
    if (strcmp(na, nb) != 0 || a->def->nlabels != b->def->nlabels) {
        return false;
    }
    /* As label sets: the order they are written in does not matter. */
    for (size_t i = 0; i < a->def->nlabels; i++) {
        bool found = false;
        for (size_t k = 0; k < b->def->nlabels && !found; k++) {
            found = strcmp(a->def->labels[i].name, b->def->labels[k].name) == 0 &&
                    strcmp(a->def->labels[i].value, b->def->labels[k].value) == 0;
        }
        if (!found) {
            return false;
        }
    }
    return true;
}

static void sset_merge_into(mgr_sset_t *dst, const mgr_sset_t *src)
{
    label_t ls[TSDB_MAX_LABELS];
    for (size_t i = 0; i < src->n; i++) {
        size_t n = mgr_sset_get(src, i, ls);
        mgr_sset_add(dst, ls, n);
    }
}

/* Move old's state into nw (same file and name), Prometheus' CopyState. */
static void copy_state(mgr_group_t *nw, mgr_group_t *old)
{
    bool *taken = mem_calloc(old->nrules ? old->nrules : 1, sizeof(*taken));
    for (size_t i = 0; i < nw->nrules; i++) {
        mgr_rule_t *r = &nw->rules[i];
        for (size_t k = 0; k < old->nrules; k++) {
            mgr_rule_t *o = &old->rules[k];
            if (taken[k] || !same_rule(r, o)) {
                continue;
            }
            taken[k] = true;
            mgr_sset_move(&r->prev, &o->prev);
            r->alerts = o->alerts;
            r->nalerts = o->nalerts;
            o->alerts = NULL;
            o->nalerts = 0;
            r->health = o->health;
            r->last_error = o->last_error;
            o->last_error = NULL;
            r->last_eval_ms = o->last_eval_ms;
            r->eval_seconds = o->eval_seconds;
            r->restored = o->restored;
            break;
        }
    }
    sset_merge_into(&nw->stale, &old->stale);
    for (size_t k = 0; k < old->nrules; k++) {
        if (!taken[k]) {
            sset_merge_into(&nw->stale, &old->rules[k].prev);
        }
    }
    mgr_sset_finish(&nw->stale);
    mem_free(taken);
    nw->last_eval_ms = old->last_eval_ms;
    nw->last_duration_s = old->last_duration_s;
    nw->last_samples = old->last_samples;
    nw->iterations = old->iterations;
    nw->missed = old->missed;
    nw->evals = old->evals;
    nw->eval_failures = old->eval_failures;
    nw->duration_sum = old->duration_sum;
    nw->should_restore = old->should_restore;
    nw->evals_before_restore = old->evals_before_restore;
    if (nw->interval_ms == old->interval_ms && nw->slot_hash == old->slot_hash) {
        nw->next_ts = old->next_ts;
    }
}

int alerts_mgr_load(alerts_mgr_t *m, const char *const *rule_globs, size_t nrule, const char *const *slo_globs,
                    size_t nslo, buf_t *err)
{
    arena_t *a = arena_create(64 * 1024);
    loaded_file_t *rf = NULL, *sf = NULL;
    size_t nrf = 0, nsf = 0;
    int rc = load_files(rule_globs, nrule, false, a, &rf, &nrf, err);
    if (load_files(slo_globs, nslo, true, a, &sf, &nsf, err) != 0) {
        rc = -1;
    }
    mgr_ruleset_t *rs = NULL;
    if (rc == 0) {
        loaded_file_t *all = arena_alloc(a, (nrf + nsf + 1) * sizeof(*all));
        memcpy(all, rf, nrf * sizeof(*all));
        memcpy(all + nrf, sf, nsf * sizeof(*all));
        rc = build_ruleset(m, a, all, nrf + nsf, &rs, err);
    }
    pthread_mutex_lock(&m->eval_mu);
    pthread_mutex_lock(&m->mu);
    m->reloads++;
    m->last_reload_ok = rc == 0;
    if (rc != 0) {
        m->reload_failures++;
        pthread_mutex_unlock(&m->mu);
        pthread_mutex_unlock(&m->eval_mu);
        ruleset_destroy(rs);
        if (rs == NULL) {
            arena_destroy(a);
        }
        return -1;
    }
    m->last_reload_ms = clock_now_ms(&m->o.clock);
    int64_t now = m->last_reload_ms;
    mgr_ruleset_t *old = m->rs;
    for (size_t i = 0; i < rs->ngroups; i++) {
        mgr_group_t *g = &rs->groups[i];
        mgr_group_t *og = NULL;
        for (size_t k = 0; old && k < old->ngroups && og == NULL; k++) {
            if (old->groups[k].file != NULL && strcmp(old->groups[k].file, g->file) == 0 &&
                strcmp(old->groups[k].name, g->name) == 0) {
                og = &old->groups[k];
            }
        }
        /* Rules new to this load start restored unless this is the first
         * load (then the group restores for-state itself); copy_state
         * carries over the flag of the rules it matches. */
        for (size_t k = 0; k < g->nrules; k++) {
            g->rules[k].restored = m->loaded_once || m->o.no_restore;
        }
        if (og != NULL) {
            copy_state(g, og);
            og->file = NULL; /* taken */
        } else {
            g->should_restore = !m->loaded_once && !m->o.no_restore;
        }
        if (g->next_ts == 0) {
            g->next_ts = group_slot(g, now) + g->interval_ms;
        }
    }
    m->rs = rs;
    m->loaded_once = true;
    pthread_mutex_unlock(&m->mu);
    /* Groups that are gone: their series end now. */
    if (old != NULL) {
        arena_t *sa = arena_create(16 * 1024);
        for (size_t k = 0; k < old->ngroups; k++) {
            mgr_group_t *og = &old->groups[k];
            if (og->file == NULL) {
                continue;
            }
            int64_t t = now - og->query_offset_ms;
            mgr_write_stale(m, &og->stale, t, sa);
            for (size_t j = 0; j < og->nrules; j++) {
                mgr_write_stale(m, &og->rules[j].prev, t, sa);
            }
            arena_reset(sa);
        }
        arena_destroy(sa);
    }
    pthread_mutex_unlock(&m->eval_mu);
    ruleset_destroy(old);
    pthread_mutex_lock(&m->sched_mu);
    pthread_cond_broadcast(&m->sched_cond);
    pthread_mutex_unlock(&m->sched_mu);
    return 0;
}

size_t alerts_mgr_ngroups(alerts_mgr_t *m)
{
    pthread_mutex_lock(&m->mu);
    size_t n = m->rs ? m->rs->ngroups : 0;
    pthread_mutex_unlock(&m->mu);
    return n;
}

int alerts_mgr_group_info(alerts_mgr_t *m, size_t gi, const char **file, const char **name)
{
    pthread_mutex_lock(&m->mu);
    int rc = -1;
    if (m->rs != NULL && gi < m->rs->ngroups) {
        *file = m->rs->groups[gi].file;
        *name = m->rs->groups[gi].name;
        rc = 0;
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

size_t alerts_mgr_group_errors(alerts_mgr_t *m, size_t gi, buf_t *out)
{
    size_t n = 0;
    pthread_mutex_lock(&m->mu);
    for (size_t k = 0; m->rs != NULL && gi < m->rs->ngroups && k < m->rs->groups[gi].nrules; k++) {
        const mgr_rule_t *r = &m->rs->groups[gi].rules[k];
        if (r->last_error != NULL) {
            buf_printf(out, "%s\t%s\n", r->alerting ? r->def->alert : r->def->record, r->last_error);
            n++;
        }
    }
    pthread_mutex_unlock(&m->mu);
    return n;
}

/* ---- evaluation ---- */

static void group_eval(alerts_mgr_t *m, mgr_group_t *g, int64_t ts)
{
    arena_t *a = arena_create(64 * 1024);
    double t0 = clock_mono_s();
    int64_t wall = clock_now_ms(&m->o.clock);
    if (g->stale.n > 0) {
        mgr_write_stale(m, &g->stale, ts - g->query_offset_ms, a);
        arena_reset(a);
        pthread_mutex_lock(&m->mu);
        mgr_sset_fini(&g->stale);
        mgr_sset_init(&g->stale);
        pthread_mutex_unlock(&m->mu);
    }
    uint64_t samples = 0, failures = 0;
    for (size_t i = 0; i < g->nrules; i++) {
        long n = mgr_eval_rule(m, g, &g->rules[i], ts, a);
        if (n < 0) {
            failures++;
        } else {
            samples += (uint64_t)n;
        }
        arena_reset(a);
    }
    arena_destroy(a);
    double dur = clock_mono_s() - t0;
    pthread_mutex_lock(&m->mu);
    g->iterations++;
    g->evals += g->nrules;
    g->eval_failures += failures;
    g->last_eval_ms = wall;
    g->last_duration_s = dur;
    g->duration_sum += dur;
    g->last_samples = samples;
    pthread_mutex_unlock(&m->mu);
    if (g->should_restore && ++g->evals_before_restore >= 2) {
        mgr_restore_group(m, g, clock_now_ms(&m->o.clock));
        g->should_restore = false;
    }
}

int alerts_mgr_eval_group(alerts_mgr_t *m, size_t gi, int64_t ts_ms)
{
    pthread_mutex_lock(&m->eval_mu);
    if (m->rs == NULL || gi >= m->rs->ngroups) {
        pthread_mutex_unlock(&m->eval_mu);
        return -1;
    }
    group_eval(m, &m->rs->groups[gi], ts_ms);
    pthread_mutex_unlock(&m->eval_mu);
    return 0;
}

/* ---- the scheduler ---- */

static void *sched_main(void *arg)
{
    alerts_mgr_t *m = arg;
    for (;;) {
        pthread_mutex_lock(&m->sched_mu);
        bool stop = m->stop;
        pthread_mutex_unlock(&m->sched_mu);
        if (stop) {
            break;
        }
        int64_t now = clock_now_ms(&m->o.clock);
        int64_t wait_ms = 1000;
        pthread_mutex_lock(&m->eval_mu);
        mgr_group_t *due = NULL;
        for (size_t i = 0; m->rs && i < m->rs->ngroups; i++) {
            mgr_group_t *g = &m->rs->groups[i];
            if (g->next_ts <= now && (due == NULL || g->next_ts < due->next_ts)) {
                due = g;
            } else if (g->next_ts > now && g->next_ts - now < wait_ms) {
                wait_ms = g->next_ts - now;
            }
        }
        /* The wall clock stepped back: take the slot after now again. */
        for (size_t i = 0; m->rs && i < m->rs->ngroups; i++) {
            mgr_group_t *g = &m->rs->groups[i];
            if (g->next_ts - now > g->interval_ms) {
                g->next_ts = group_slot(g, now) + g->interval_ms;
            }
        }
        if (due != NULL) {
            int64_t behind = now - due->next_ts;
            if (behind >= due->interval_ms) {
                int64_t missed = behind / due->interval_ms;
                pthread_mutex_lock(&m->mu);
                due->missed += (uint64_t)missed;
                pthread_mutex_unlock(&m->mu);
                due->next_ts += missed * due->interval_ms;
            }
            int64_t ts = due->next_ts;
            due->next_ts += due->interval_ms;
            group_eval(m, due, ts);
            wait_ms = 0;
        }
        pthread_mutex_unlock(&m->eval_mu);
        if (wait_ms > 0) {
            struct timespec dl;
            clock_mono_deadline(wait_ms, &dl);
            pthread_mutex_lock(&m->sched_mu);
            if (!m->stop) {
                pthread_cond_timedwait(&m->sched_cond, &m->sched_mu, &dl);
            }
            pthread_mutex_unlock(&m->sched_mu);
        }
    }
    return NULL;
}

int alerts_mgr_start(alerts_mgr_t *m)
{
    if (m->running) {
        return 0;
    }
    m->stop = false;
    if (pthread_create(&m->thread, NULL, sched_main, m) != 0) {
        return -1;
    }
    m->running = true;
    return 0;
}

void alerts_mgr_stop(alerts_mgr_t *m)
{
    if (!m->running) {
        return;
    }
    pthread_mutex_lock(&m->sched_mu);
    m->stop = true;
    pthread_cond_broadcast(&m->sched_cond);
    pthread_mutex_unlock(&m->sched_mu);
    pthread_join(m->thread, NULL);
    m->running = false;
}

/* ---- reading state ---- */

label_t *mgr_labels_copy(arena_t *a, const label_t *ls, size_t n)
{
    label_t *out = arena_alloc(a, (n ? n : 1) * sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        out[i].name = str_from(arena_strndup(a, ls[i].name.p, ls[i].name.len), ls[i].name.len);
        out[i].value = str_from(arena_strndup(a, ls[i].value.p, ls[i].value.len), ls[i].value.len);
    }
    return out;
}

size_t alerts_mgr_alerts(alerts_mgr_t *m, arena_t *a, alerts_active_t **out)
{
    pthread_mutex_lock(&m->mu);
    size_t n = 0;
    for (size_t i = 0; m->rs && i < m->rs->ngroups; i++) {
        for (size_t k = 0; k < m->rs->groups[i].nrules; k++) {
            n += m->rs->groups[i].rules[k].nalerts;
        }
    }
    alerts_active_t *res = arena_calloc(a, n ? n : 1, sizeof(*res));
    size_t w = 0;
    for (size_t i = 0; m->rs && i < m->rs->ngroups; i++) {
        const mgr_group_t *g = &m->rs->groups[i];
        const char *file = arena_strndup(a, g->file, strlen(g->file));
        const char *group = arena_strndup(a, g->name, strlen(g->name));
        for (size_t k = 0; k < g->nrules; k++) {
            const mgr_rule_t *r = &g->rules[k];
            const char *alertname = r->nalerts ? arena_strndup(a, r->def->alert, strlen(r->def->alert)) : NULL;
            for (size_t j = 0; j < r->nalerts; j++) {
                const mgr_alert_t *al = r->alerts[j];
                res[w++] = (alerts_active_t){ .file = file,
                                              .group = group,
                                              .alertname = alertname,
                                              .labels = mgr_labels_copy(a, al->labels, al->nlabels),
                                              .nlabels = al->nlabels,
                                              .annotations = mgr_labels_copy(a, al->annotations, al->nannotations),
                                              .nannotations = al->nannotations,
                                              .state = al->state,
                                              .value = al->value,
                                              .active_at_ms = al->active_at,
                                              .fired_at_ms = al->fired_at,
                                              .resolved_at_ms = al->resolved_at,
                                              .keep_firing_since_ms = al->keep_firing_since };
            }
        }
    }
    pthread_mutex_unlock(&m->mu);
    *out = res;
    return w;
}

/* ---- metrics ---- */

static void metric_head(buf_t *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void alerts_mgr_metrics(alerts_mgr_t *m, buf_t *out)
{
    static const struct {
        const char *name, *type, *help;
    } fams[] = {
        { "prometheus_rule_evaluations_total", "counter", "The total number of rule evaluations." },
        { "prometheus_rule_evaluation_failures_total", "counter", "The total number of rule evaluation failures." },
        { "prometheus_rule_group_iterations_total", "counter",
          "The total number of scheduled rule group evaluations, whether executed or missed." },
        { "prometheus_rule_group_iterations_missed_total", "counter",
          "The total number of rule group evaluations missed due to slow rule group evaluation." },
        { "prometheus_rule_group_last_duration_seconds", "gauge", "The duration of the last rule group evaluation." },
        { "prometheus_rule_group_last_evaluation_timestamp_seconds", "gauge",
          "The timestamp of the last rule group evaluation in seconds." },
        { "prometheus_rule_group_last_evaluation_samples", "gauge",
          "The number of samples returned during the last rule group evaluation." },
        { "prometheus_rule_group_interval_seconds", "gauge", "The interval of a rule group." },
        { "prometheus_rule_group_rules", "gauge", "The number of rules." },
    };
    pthread_mutex_lock(&m->mu);
    for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
        metric_head(out, fams[f].name, fams[f].type, fams[f].help);
        for (size_t i = 0; m->rs && i < m->rs->ngroups; i++) {
            const mgr_group_t *g = &m->rs->groups[i];
            buf_printf(out, "%s{rule_group=", fams[f].name);
            buf_t key;
            buf_init(&key);
            buf_printf(&key, "%s;%s", g->file, g->name);
            labels_quote(str_from((const char *)key.data, key.len), out);
            buf_fini(&key);
            buf_puts(out, "} ");
            switch (f) {
            case 0:
                buf_printf(out, "%llu\n", (unsigned long long)g->evals);
                break;
            case 1:
                buf_printf(out, "%llu\n", (unsigned long long)g->eval_failures);
                break;
            case 2:
                buf_printf(out, "%llu\n", (unsigned long long)(g->iterations + g->missed));
                break;
            case 3:
                buf_printf(out, "%llu\n", (unsigned long long)g->missed);
                break;
            case 4:
                buf_printf(out, "%.9g\n", g->last_duration_s);
                break;
            case 5:
                buf_printf(out, "%.3f\n", (double)g->last_eval_ms / 1000.0);
                break;
            case 6:
                buf_printf(out, "%llu\n", (unsigned long long)g->last_samples);
                break;
            case 7:
                buf_printf(out, "%.9g\n", (double)g->interval_ms / 1000.0);
                break;
            default:
                buf_printf(out, "%zu\n", g->nrules);
                break;
            }
        }
    }
    /* Prometheus' summary over all groups (no quantiles kept here). */
    metric_head(out, "prometheus_rule_group_duration_seconds", "summary", "The duration of rule group evaluations.");
    uint64_t iters = 0;
    double dsum = 0;
    for (size_t i = 0; m->rs && i < m->rs->ngroups; i++) {
        iters += m->rs->groups[i].iterations;
        dsum += m->rs->groups[i].duration_sum;
    }
    buf_printf(out, "prometheus_rule_group_duration_seconds_sum %.9g\n", dsum);
    buf_printf(out, "prometheus_rule_group_duration_seconds_count %llu\n", (unsigned long long)iters);
    metric_head(out, "pharos_rules_reloads_total", "counter", "Rule file loads attempted.");
    buf_printf(out, "pharos_rules_reloads_total %llu\n", (unsigned long long)m->reloads);
    metric_head(out, "pharos_rules_reload_failures_total", "counter", "Rule file loads refused (old rules kept).");
    buf_printf(out, "pharos_rules_reload_failures_total %llu\n", (unsigned long long)m->reload_failures);
    metric_head(out, "pharos_rules_last_reload_successful", "gauge", "Whether the last rule file load succeeded.");
    buf_printf(out, "pharos_rules_last_reload_successful %d\n", m->last_reload_ok ? 1 : 0);
    size_t counts[3] = { 0, 0, 0 };
    for (size_t i = 0; m->rs && i < m->rs->ngroups; i++) {
        for (size_t k = 0; k < m->rs->groups[i].nrules; k++) {
            const mgr_rule_t *r = &m->rs->groups[i].rules[k];
            for (size_t j = 0; j < r->nalerts; j++) {
                counts[r->alerts[j]->state]++;
            }
        }
    }
    metric_head(out, "prometheus_rule_alerts", "gauge", "Alerts held by the alerting rules, by state.");
    buf_printf(out, "prometheus_rule_alerts{state=\"firing\"} %zu\n", counts[ALERTS_STATE_FIRING]);
    buf_printf(out, "prometheus_rule_alerts{state=\"inactive\"} %zu\n", counts[ALERTS_STATE_INACTIVE]);
    buf_printf(out, "prometheus_rule_alerts{state=\"pending\"} %zu\n", counts[ALERTS_STATE_PENDING]);
    pthread_mutex_unlock(&m->mu);
}

/* ---- formatting helpers shared with the API ---- */

void mgr_json_time(buf_t *b, int64_t ms)
{
    if (ms == 0) {
        buf_puts(b, "\"0001-01-01T00:00:00Z\"");
        return;
    }
    char tmp[64];
    size_t n = time_format_rfc3339(ms, tmp);
    /* time_format_rfc3339 prints milliseconds; Go's RFC3339Nano trims
     * trailing zeros (and the dot). */
    tmp[n] = 0;
    char *dot = strchr(tmp, '.');
    buf_putc(b, '"');
    if (dot != NULL) {
        char *z = dot + 1;
        size_t digits = strspn(z, "0123456789");
        size_t keep = digits;
        while (keep > 0 && z[keep - 1] == '0') {
            keep--;
        }
        buf_append(b, tmp, (size_t)(dot - tmp));
        if (keep > 0) {
            buf_append(b, dot, keep + 1);
        }
        buf_puts(b, z + digits);
    } else {
        buf_puts(b, tmp);
    }
    buf_putc(b, '"');
}

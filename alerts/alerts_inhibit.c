/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_inhibit: Alertmanager's inhibition (inhibit/inhibit.go). An
 * alert is muted when some rule's target matchers match it and some other
 * alert that is firing now matches the rule's source matchers and has the
 * same values for every `equal` label (an absent label equals an absent
 * one). When the muted candidate matches the source side too, sources
 * that also match the target side are ignored, so an alert matching both
 * sides cannot inhibit itself, nor be inhibited by its peers.
 *
 * Alertmanager keeps a cache of source alerts per rule; here a flush pass
 * builds one (alerts_inhibit_index: the firing sources of each rule) and
 * asks against it in O(rules x sources); so do the API and the metrics,
 * one index per request. Resolved alerts never inhibit. All under the
 * notifier's lock.
 */
#include "alerts/alerts_int.h"
#include "common/mem.h"

static bool equal_labels(const amcfg_inhibit_t *r, const an_alert_t *src, const label_t *ls, size_t n)
{
    for (size_t i = 0; i < r->nequal; i++) {
        str_t a = labels_get(src->labels, src->nlabels, r->equal[i]);
        str_t b = labels_get(ls, n, r->equal[i]);
        if (!str_eq(a, b)) {
            return false;
        }
    }
    return true;
}

bool alerts_inhibit_mutes(const amcfg_t *c, const an_store_t *s, const label_t *ls, size_t n, int64_t now_ms,
                          uint64_t *by)
{
    for (size_t r = 0; r < c->ninhibits; r++) {
        const amcfg_inhibit_t *rule = &c->inhibits[r];
        if (!alerts_route_matches(rule->tgt, rule->ntgt, ls, n)) {
            continue;
        }
        bool both = alerts_route_matches(rule->src, rule->nsrc, ls, n);
        for (size_t i = 0; i < s->n; i++) {
            const an_alert_t *a = s->v[i];
            if (alerts_alert_resolved(a, now_ms) ||
                !alerts_route_matches(rule->src, rule->nsrc, a->labels, a->nlabels)) {
                continue;
            }
            if (!equal_labels(rule, a, ls, n)) {
                continue;
            }
            if (both && alerts_route_matches(rule->tgt, rule->ntgt, a->labels, a->nlabels)) {
                continue;
            }
            if (by) {
                *by = a->fp;
            }
            return true;
        }
    }
    return false;
}

void alerts_inhibit_index(const amcfg_t *c, const an_store_t *s, int64_t now_ms, an_inhibit_idx_t *idx)
{
    idx->nrules = c ? c->ninhibits : 0;
    idx->src = mem_calloc(idx->nrules + 1, sizeof(*idx->src));
    idx->nsrc = mem_calloc(idx->nrules + 1, sizeof(*idx->nsrc));
    for (size_t r = 0; r < idx->nrules; r++) {
        const amcfg_inhibit_t *rule = &c->inhibits[r];
        idx->src[r] = mem_alloc((s->n + 1) * sizeof(**idx->src));
        for (size_t i = 0; i < s->n; i++) {
            const an_alert_t *a = s->v[i];
            if (!alerts_alert_resolved(a, now_ms) &&
                alerts_route_matches(rule->src, rule->nsrc, a->labels, a->nlabels)) {
                idx->src[r][idx->nsrc[r]++] = a;
            }
        }
    }
}

void alerts_inhibit_index_fini(an_inhibit_idx_t *idx)
{
    for (size_t r = 0; r < idx->nrules; r++) {
        mem_free(idx->src[r]);
    }
    mem_free(idx->src);
    mem_free(idx->nsrc);
    idx->src = NULL;
    idx->nsrc = NULL;
    idx->nrules = 0;
}

bool alerts_inhibit_mutes_idx(const amcfg_t *c, const an_inhibit_idx_t *idx, const label_t *ls, size_t n, uint64_t *by)
{
    for (size_t r = 0; r < idx->nrules; r++) {
        const amcfg_inhibit_t *rule = &c->inhibits[r];
        if (idx->nsrc[r] == 0 || !alerts_route_matches(rule->tgt, rule->ntgt, ls, n)) {
            continue;
        }
        bool both = alerts_route_matches(rule->src, rule->nsrc, ls, n);
        for (size_t i = 0; i < idx->nsrc[r]; i++) {
            const an_alert_t *a = idx->src[r][i];
            if (!equal_labels(rule, a, ls, n) ||
                (both && alerts_route_matches(rule->tgt, rule->ntgt, a->labels, a->nlabels))) {
                continue;
            }
            if (by) {
                *by = a->fp;
            }
            return true;
        }
    }
    return false;
}

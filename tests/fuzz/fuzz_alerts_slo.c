/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_alerts_slo: libFuzzer target for alerts_slo_parse
 * (alerts/alerts_slo.c), which reads the SLO files an operator hands to
 * pharosd and expands them into rule groups.
 *
 * The input is the file text. Either the parse fails with at least one
 * error, each a non-empty text; or it succeeds and the result is a valid
 * rule file: the rule count is the sum over the groups, each rule has
 * exactly one of record/alert and an expr, and the file printed by
 * alerts_slo_write_yaml is accepted by the rule loader (alerts_rules_parse)
 * with the same groups, rules, exprs and label counts. Each input gets its
 * own arena.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/alerts.h"
#include "common/arena.h"
#include "common/buf.h"
#include "fuzz_rules_result.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_same(const alerts_rules_file_t *f, const alerts_rules_file_t *g)
{
    if (f->ngroups != g->ngroups || f->nrules != g->nrules) {
        fprintf(stderr, "printed file reads back with other counts\n");
        abort();
    }
    for (size_t j = 0; j < f->ngroups; j++) {
        const alerts_rules_group_t *x = &f->groups[j];
        const alerts_rules_group_t *y = &g->groups[j];
        if (strcmp(x->name, y->name) != 0 || x->nrules != y->nrules) {
            abort();
        }
        for (size_t i = 0; i < x->nrules; i++) {
            const alerts_rule_t *r = &x->rules[i];
            const alerts_rule_t *s = &y->rules[i];
            if (strcmp(r->record, s->record) != 0 || strcmp(r->alert, s->alert) != 0 || strcmp(r->expr, s->expr) != 0 ||
                r->nlabels != s->nlabels || r->nannotations != s->nannotations) {
                fprintf(stderr, "printed rule %s%s reads back differently\n", r->record, r->alert);
                abort();
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena_t *a = arena_create(1 << 14);
    alerts_rules_file_t *f = NULL;
    alerts_rules_error_t *errs = NULL;
    size_t nerrs = 0;
    int rc = alerts_slo_parse((const char *)data, size, a, &f, &errs, &nerrs);
    if (rc == 0) {
        fuzz_rules_check_ok(f, nerrs);
        buf_t y = { 0 };
        alerts_slo_write_yaml(f, &y);
        alerts_rules_file_t *back = NULL;
        if (alerts_rules_parse((const char *)y.data, y.len, a, &back, &errs, &nerrs) != 0) {
            fprintf(stderr, "the rule loader rejects the printed file: %s\n%.*s", errs[0].text, (int)y.len,
                    (const char *)y.data);
            abort();
        }
        check_same(f, back);
        buf_fini(&y);
    } else {
        fuzz_rules_check_failed(rc, f, errs, nerrs);
    }
    arena_destroy(a);
    return 0;
}

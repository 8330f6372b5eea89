/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_rules_result: the checks fuzz_rules_yaml and fuzz_alerts_slo share
 * on an alerts_rules_file_t result. A success has no errors, a rule count
 * that is the sum over the groups, and rules with exactly one of
 * record/alert and an expr; a failure returns -1, no file and at least one
 * error, each a non-empty text. Both abort on a violation.
 */
#ifndef PHAROS_FUZZ_RULES_RESULT_H
#define PHAROS_FUZZ_RULES_RESULT_H

#include <stdio.h>
#include <stdlib.h>

#include "alerts/alerts.h"

static void fuzz_rules_check_ok(const alerts_rules_file_t *f, size_t nerrs)
{
    if (!f || nerrs != 0) {
        abort();
    }
    size_t n = 0;
    for (size_t j = 0; j < f->ngroups; j++) {
        n += f->groups[j].nrules;
        for (size_t i = 0; i < f->groups[j].nrules; i++) {
            const alerts_rule_t *r = &f->groups[j].rules[i];
            if ((*r->record != 0) == (*r->alert != 0) || *r->expr == 0) {
                fprintf(stderr, "a bad rule in the result\n");
                abort();
            }
        }
    }
    if (n != f->nrules) {
        abort();
    }
}

static void fuzz_rules_check_failed(int rc, const alerts_rules_file_t *f, const alerts_rules_error_t *errs,
                                    size_t nerrs)
{
    if (rc != -1 || f || nerrs == 0) {
        abort();
    }
    for (size_t i = 0; i < nerrs; i++) {
        if (!errs[i].text || errs[i].text[0] == 0) {
            fprintf(stderr, "empty error\n");
            abort();
        }
    }
}

#endif

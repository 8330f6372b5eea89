/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_rules_yaml: libFuzzer target for alerts_rules_parse
 * (alerts/alerts_rules.c), which reads rule files an operator (or a
 * reload request) hands to pharosd.
 *
 * The input is the file text. Either the parse succeeds with no errors and
 * a file whose rule count is the sum over its groups, each rule having
 * exactly one of record/alert and an expr; or it fails with at least one
 * error, every error a NUL-terminated non-empty text. On success the
 * duplicate lint runs too. Each input gets its own arena.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/alerts.h"
#include "common/arena.h"
#include "common/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena_t *a = arena_create(1 << 14);
    alerts_rules_file_t *f = NULL;
    alerts_rules_error_t *errs = NULL;
    size_t nerrs = 0;
    int rc = alerts_rules_parse((const char *)data, size, a, &f, &errs, &nerrs);
    if (rc == 0) {
        if (!f || nerrs != 0) {
            abort();
        }
        size_t n = 0;
        for (size_t j = 0; j < f->ngroups; j++) {
            n += f->groups[j].nrules;
            for (size_t i = 0; i < f->groups[j].nrules; i++) {
                const alerts_rule_t *r = &f->groups[j].rules[i];
                if ((*r->record != 0) == (*r->alert != 0) || *r->expr == 0) {
                    fprintf(stderr, "accepted a bad rule\n");
                    abort();
                }
            }
        }
        if (n != f->nrules) {
            abort();
        }
        buf_t msg = { 0 };
        alerts_rules_lint_duplicates(f, &msg);
        buf_fini(&msg);
    } else {
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
    arena_destroy(a);
    return 0;
}

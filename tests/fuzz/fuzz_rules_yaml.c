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
#include "fuzz_rules_result.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena_t *a = arena_create(1 << 14);
    alerts_rules_file_t *f = NULL;
    alerts_rules_error_t *errs = NULL;
    size_t nerrs = 0;
    int rc = alerts_rules_parse((const char *)data, size, a, &f, &errs, &nerrs);
    if (rc == 0) {
        fuzz_rules_check_ok(f, nerrs);
        buf_t msg = { 0 };
        alerts_rules_lint_duplicates(f, &msg);
        buf_fini(&msg);
    } else {
        fuzz_rules_check_failed(rc, f, errs, nerrs);
    }
    arena_destroy(a);
    return 0;
}

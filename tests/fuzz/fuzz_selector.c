/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_selector: libFuzzer target for selector_parse (common/matcher.c),
 * which parses match[] arguments straight from HTTP queries.
 *
 * The input is the selector text. On success every matcher is exercised
 * against a few fixed values (empty, ASCII, a NUL, invalid UTF-8) so the
 * compiled regexes and literal alternations run too, and then released;
 * on failure the error must be a NUL-terminated "<line>:<col>: parse
 * error: …" (lines count newlines in the input, as in Prometheus).
 * No state survives between inputs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/matcher.h"

#define FUZZ_MAX_MATCHERS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const str_t values[] = {
        { "", 0 }, { "foo", 3 }, { "a\0b", 3 }, { "\xff\xfe", 2 }, { "job-1.example:9100", 18 },
    };
    matcher_t ms[FUZZ_MAX_MATCHERS];
    size_t n = 0;
    char err[256];
    memset(err, 'Z', sizeof(err));
    if (selector_parse((const char *)data, size, ms, FUZZ_MAX_MATCHERS, &n, err, sizeof(err)) != 0) {
        unsigned line = 0, col = 0;
        int used = 0;
        if (memchr(err, 0, sizeof(err)) == NULL || sscanf(err, "%u:%u: %n", &line, &col, &used) != 2 || line < 1 ||
            col < 1 || strncmp(err + used, "parse error", 11) != 0) {
            fprintf(stderr, "bad error text: %.200s\n", err);
            abort();
        }
        return 0;
    }
    if (n > FUZZ_MAX_MATCHERS) {
        abort();
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < sizeof(values) / sizeof(values[0]); k++) {
            (void)matcher_matches(&ms[i], values[k]);
        }
        (void)matcher_matches_empty(&ms[i]);
        matcher_fini(&ms[i]);
    }
    return 0;
}

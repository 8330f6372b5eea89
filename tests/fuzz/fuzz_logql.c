/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_logql: libFuzzer target for logql_parse (query/logql_parse.c), which
 * will parse query= arguments of the Loki API straight from HTTP requests.
 *
 * The input is the query text. On failure the error must be NUL-terminated
 * Loki text: "parse error at line L, col C: ..." or "parse error : ...".
 * On success the tree is printed with logql_format, the text is parsed
 * again (which must succeed) and printed again (which must give the same
 * text). Loki's own printer has three lossy spots, kept on purpose and
 * exempted here: a size in a label filter prints rounded ("1000kB" reads
 * back as 1MB and prints "1.0MB"), a duration under a millisecond prints
 * with "µs", which its lexer cannot read back, and a folded literal can
 * be NaN or ±Inf, which has no LogQL spelling. Each input gets its own
 * arena, so no state survives between inputs.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "query/logql_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(const logql_error_t *err)
{
    if (memchr(err->msg, 0, sizeof(err->msg)) == NULL ||
        (strncmp(err->msg, "parse error at line ", 20) != 0 && strncmp(err->msg, "parse error : ", 14) != 0)) {
        fprintf(stderr, "bad error: %.200s\n", err->msg);
        abort();
    }
}

/* Texts Loki itself cannot round-trip (see the file comment). */
static bool lossy(const buf_t *b)
{
    static const char *const marks[] = { "\xc2\xb5s", "NaN", "Inf", "kB", "MB", "GB", "TB", "PB", "EB" };
    for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
        size_t n = strlen(marks[i]);
        for (size_t j = 0; j + n <= b->len; j++) {
            if (memcmp(b->data + j, marks[i], n) == 0) {
                return true;
            }
        }
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena_t *a = arena_create(1 << 14);
    logql_node_t *n = NULL;
    logql_error_t err;
    if (logql_parse((const char *)data, size, a, &n, &err) != 0) {
        check_error(&err);
        arena_destroy(a);
        return 0;
    }
    buf_t first = { 0 };
    logql_format(n, &first);
    logql_node_t *n2 = NULL;
    if (logql_parse((const char *)first.data, first.len, a, &n2, &err) != 0) {
        /* The printer spells out the grouping of label filters with
         * parentheses, so its text can nest deeper than the input and
         * meet the parser's depth bound: a limit, not a printing bug. */
        bool too_deep = strstr(err.msg, "nested too deeply") != NULL;
        if (!lossy(&first) && !too_deep) {
            fprintf(stderr, "re-parse of \"%.*s\" failed: %s\n", (int)first.len, first.data, err.msg);
            abort();
        }
    } else {
        buf_t second = { 0 };
        logql_format(n2, &second);
        bool same = second.len == first.len && memcmp(first.data, second.data, first.len) == 0;
        if (!same && !lossy(&first)) {
            fprintf(stderr, "unstable format: \"%.*s\" then \"%.*s\"\n", (int)first.len, first.data, (int)second.len,
                    second.data);
            abort();
        }
        buf_fini(&second);
    }
    buf_fini(&first);
    arena_destroy(a);
    return 0;
}

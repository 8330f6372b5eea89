/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_promql: libFuzzer target for promql_parse (query/promql_parse.c),
 * which parses query= arguments straight from HTTP requests.
 *
 * The input is the query text. On failure the error must be a
 * NUL-terminated "<line>:<col>: parse error: …" whose byte position lies
 * within the input. On success the tree is printed with promql_format,
 * the text is parsed again (which must succeed) and printed again (which
 * must give the same text); both trees are then released. Each input gets
 * its own arena, so no state survives between inputs. One exception is
 * Prometheus' own: a +Inf literal on the left of "^" prints as "+Inf ^ x",
 * which parses back as +(Inf ^ x), so texts containing "+Inf ^" may
 * differ on the second round (String() does the same in Prometheus), and
 * a range given as the number 0 ("foo[0]", accepted as in Prometheus 3)
 * prints as "foo[0s]", which the duration rule rejects.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "query/promql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(const promql_error_t *err, size_t size)
{
    unsigned line = 0;
    unsigned col = 0;
    int used = 0;
    if (memchr(err->msg, 0, sizeof(err->msg)) == NULL || err->pos > size ||
        sscanf(err->msg, "%u:%u: %n", &line, &col, &used) != 2 || line != err->line || col != err->col || line < 1 ||
        col < 1 || strncmp(err->msg + used, "parse error: ", 13) != 0) {
        fprintf(stderr, "bad error: %.200s\n", err->msg);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena_t *a = arena_create(1 << 14);
    promql_node_t *n = NULL;
    promql_error_t err;
    if (promql_parse((const char *)data, size, a, &n, &err) != 0) {
        check_error(&err, size);
        arena_destroy(a);
        return 0;
    }
    buf_t first = { 0 };
    promql_format(n, &first);
    promql_release(n);
    promql_node_t *n2 = NULL;
    if (promql_parse((const char *)first.data, first.len, a, &n2, &err) != 0) {
        if (strstr(err.msg, "parse error: duration must be greater than 0") == NULL) {
            fprintf(stderr, "re-parse of \"%s\" failed: %s\n", first.data, err.msg);
            abort();
        }
        buf_fini(&first);
        arena_destroy(a);
        return 0;
    }
    buf_t second = { 0 };
    promql_format(n2, &second);
    promql_release(n2);
    bool same = second.len == first.len && memcmp(first.data, second.data, first.len) == 0;
    if (!same && strstr((const char *)first.data, "+Inf ^") == NULL) {
        fprintf(stderr, "unstable format: \"%s\" then \"%s\"\n", first.data, second.data);
        abort();
    }
    buf_fini(&first);
    buf_fini(&second);
    arena_destroy(a);
    return 0;
}

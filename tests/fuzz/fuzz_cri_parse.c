/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_cri_parse: libFuzzer target for agent_cri_parse (agent/agent_cri.c),
 * which reads the container log lines of /var/log/pods: anything a
 * container prints ends up there.
 *
 * Checked on the input and on every one of its prefixes: the result is 0
 * or -1; on -1 the error position is inside the input; on 0 the content is
 * a suffix of the input, the stream is stdout or stderr, and appending
 * bytes to a line that parsed changes only its content (a longer content
 * with the same time, stream and tag).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_int.h"
#include "common/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)                                                                                                  \
    do {                                                                                                               \
        if (!(c)) {                                                                                                    \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

static int fuzz_one(const char *p, size_t len, agent_cri_line_t *c)
{
    size_t errpos = 0;
    int rc = agent_cri_parse(p, len, c, &errpos);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc != 0) {
        FUZZ_CHECK(errpos <= len);
        return rc;
    }
    FUZZ_CHECK(c->stream == AGENT_CRI_STDOUT || c->stream == AGENT_CRI_STDERR);
    FUZZ_CHECK(c->content.p >= p && c->content.p + c->content.len == p + len);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes, so reading past it is caught. */
    char *p = mem_alloc(size + 1);
    memcpy(p, data, size);
    agent_cri_line_t whole;
    int rc = fuzz_one(p, size, &whole);
    size_t step = size > 512 ? size / 256 : 1;
    for (size_t n = 0; n < size; n += step) {
        agent_cri_line_t c;
        if (fuzz_one(p, n, &c) == 0 && c.content.len > 0) {
            /* A prefix that parsed with content: the whole parses the same. */
            FUZZ_CHECK(rc == 0 && c.ts_ns == whole.ts_ns && c.stream == whole.stream && c.partial == whole.partial);
            FUZZ_CHECK(c.content.p == whole.content.p);
        }
    }
    mem_free(p);
    return 0;
}

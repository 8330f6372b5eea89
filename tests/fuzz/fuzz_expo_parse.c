/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_expo_parse: libFuzzer target for expo_parse (agent/agent_expo_parse.c),
 * which reads whatever a scrape target serves.
 *
 * The input is parsed as the text format and as OpenMetrics, each into a
 * fresh sink whose invariants are then checked: the result is 0 or -1
 * (with a position inside the input and a message), every index and
 * string offset is in range, sample names are valid metric names, labels
 * valid, non-empty and unique. A text-format parse must not change when a
 * '\n' is appended (the lexer already sees one after the last byte). A
 * second parse appended after a mark must roll back to exactly the first.
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

static void fuzz_check_sink(const msink_t *s, bool om)
{
    for (size_t i = 0; i < s->nfamilies; i++) {
        const msink_family_t *f = &s->families[i];
        FUZZ_CHECK((size_t)f->name_off + f->name_len <= s->strings.len);
        FUZZ_CHECK((size_t)f->help_off + f->help_len <= s->strings.len);
        FUZZ_CHECK(labels_valid_metric_name(msink_str(s, f->name_off, f->name_len)));
    }
    for (size_t i = 0; i < s->nsamples; i++) {
        const msink_sample_t *x = &s->samples[i];
        FUZZ_CHECK(x->family < s->nfamilies);
        FUZZ_CHECK((size_t)x->labels + x->nlabels <= s->nlabels);
        FUZZ_CHECK((size_t)x->name_off + x->name_len <= s->strings.len);
        FUZZ_CHECK(labels_valid_metric_name(msink_sample_name(s, x)));
        FUZZ_CHECK(x->ts_ms == MSINK_NO_TS || om || x->ts_ms >= 0);
        label_t ls[256];
        size_t n = msink_sample_labels(s, x, ls, 256);
        FUZZ_CHECK(n == x->nlabels);
        for (size_t k = 0; k < n; k++) {
            FUZZ_CHECK(labels_valid_label_name(ls[k].name));
            FUZZ_CHECK(ls[k].value.len > 0 && str_utf8_valid(ls[k].value.p, ls[k].value.len));
            FUZZ_CHECK(!str_eq_cstr(ls[k].name, "__name__"));
            for (size_t j = 0; j < k; j++) {
                FUZZ_CHECK(!str_eq(ls[j].name, ls[k].name));
            }
        }
    }
}

/* Parse into s (reset first) and check; returns the result. */
static int fuzz_parse(const char *p, size_t len, bool om, msink_t *s, expo_error_t *e)
{
    msink_reset(s);
    int rc = expo_parse(p, len, om, s, e);
    FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc != 0) {
        size_t lines = 1;
        for (size_t i = 0; i < len; i++) {
            lines += p[i] == '\n';
        }
        FUZZ_CHECK(e->line >= 1 && e->line <= lines && e->col >= 1 && e->col <= len + 1);
        FUZZ_CHECK(e->msg[0] != '\0' && memchr(e->msg, '\0', sizeof(e->msg)) != NULL);
    }
    fuzz_check_sink(s, om);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    msink_t s;
    msink_init(&s);
    expo_error_t e;
    for (int om = 0; om < 2; om++) {
        int rc = fuzz_parse(p, size, om, &s, &e);
        size_t nsamples = s.nsamples, nfamilies = s.nfamilies;
        msink_mark_t m = msink_mark(&s);
        expo_parse(p, size, om, &s, &e);
        msink_rollback(&s, m);
        FUZZ_CHECK(s.nsamples == nsamples && s.nfamilies == nfamilies);
        if (!om) {
            char *nl = mem_alloc(size + 1);
            memcpy(nl, p, size);
            nl[size] = '\n';
            msink_t t;
            msink_init(&t);
            int rc2 = fuzz_parse(nl, size + 1, false, &t, &e);
            FUZZ_CHECK(rc2 == rc && t.nsamples == nsamples && t.nfamilies == nfamilies);
            msink_fini(&t);
            mem_free(nl);
        }
    }
    msink_fini(&s);
    return 0;
}

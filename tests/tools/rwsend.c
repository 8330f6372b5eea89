/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rwsend: send samples written as text to a remote-write endpoint, for
 * tests and doc examples. Each stdin line is
 *     <series selector with = matchers only> <value> <timestamp ms>
 * e.g.  up{job="node",instance="a:9100"} 1 1700000000000
 * (value may be NaN, +Inf, -Inf or StaleNaN). Metadata lines are written
 * as in the exposition format, "# TYPE <family> <counter|gauge|histogram|
 * gaugehistogram|summary|info|stateset|unknown>", "# HELP <family> <text>",
 * "# UNIT <family> <unit>"; other lines starting with '#' are comments.
 * All lines go in one request (one series per distinct selector text,
 * samples in input order; one metadata entry per family).
 * Prints the HTTP status and the response body; exits 0 on any answer,
 * 1 on bad input or no answer.
 *
 *     rwsend http://127.0.0.1:9747 < samples.txt
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/matcher.h"
#include "query/promql.h"
#include "common/str.h"
#include "testsupport.h"

#define RW_MAX 4096

typedef struct rw_series {
    char *sel;
    ts_label_t labels[64];
    size_t nlabels;
    int64_t ts[RW_MAX];
    double vs[RW_MAX];
    size_t n;
} rw_series_t;

static int rw_add_labels(rw_series_t *s, char *err, size_t errlen)
{
    arena_t *a = arena_create(4096);
    promql_node_t *sel;
    promql_error_t perr;
    if (promql_parse_selector(s->sel, strlen(s->sel), a, &sel, &perr) != 0) {
        snprintf(err, errlen, "%s", perr.msg);
        arena_destroy(a);
        return -1;
    }
    size_t n = sel->u.vs.nmatchers < 64 ? sel->u.vs.nmatchers : 64;
    for (size_t i = 0; i < n; i++) {
        const matcher_t *m = &sel->u.vs.matchers[i];
        s->labels[i].name = strndup(m->name, m->name_len);
        s->labels[i].value = strndup(m->value, m->value_len);
    }
    promql_release(sel);
    arena_destroy(a);
    s->nlabels = n;
    return 0;
}

#define RW_MAX_META 64

typedef struct rw_meta {
    char family[256];
    int type;
    char help[1024];
    char unit[256];
} rw_meta_t;

/* A "# TYPE|HELP|UNIT family text" line into metas; 0, or -1 when it is
 * a TYPE line with an unknown type. Other comments are ignored. */
static int rw_meta_line(const char *line, rw_meta_t *metas, size_t *nmeta)
{
    static const char *const types[] = { "unknown",        "counter", "gauge", "histogram",
                                         "gaugehistogram", "summary", "info",  "stateset" };
    char kind[8], family[256];
    int used = 0;
    if (sscanf(line, "# %7s %255s %n", kind, family, &used) != 2 ||
        (strcmp(kind, "TYPE") != 0 && strcmp(kind, "HELP") != 0 && strcmp(kind, "UNIT") != 0)) {
        return 0;
    }
    rw_meta_t *m = NULL;
    for (size_t i = 0; i < *nmeta; i++) {
        if (strcmp(metas[i].family, family) == 0) {
            m = &metas[i];
        }
    }
    if (!m) {
        if (*nmeta == RW_MAX_META) {
            return -1;
        }
        m = &metas[(*nmeta)++];
        memset(m, 0, sizeof(*m));
        snprintf(m->family, sizeof(m->family), "%s", family);
    }
    const char *text = line + used;
    if (strcmp(kind, "HELP") == 0) {
        snprintf(m->help, sizeof(m->help), "%s", text);
    } else if (strcmp(kind, "UNIT") == 0) {
        snprintf(m->unit, sizeof(m->unit), "%s", text);
    } else {
        m->type = -1;
        for (int i = 0; i < 8; i++) {
            if (strcmp(types[i], text) == 0) {
                m->type = i;
            }
        }
        if (m->type < 0) {
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: rwsend BASE_URL < samples.txt\n");
        return 1;
    }
    static rw_series_t series[64];
    size_t nseries = 0;
    static rw_meta_t metas[RW_MAX_META];
    size_t nmeta = 0;
    char line[8192];
    int lineno = 0;
    while (fgets(line, sizeof(line), stdin)) {
        lineno++;
        line[strcspn(line, "\n")] = 0;
        if (line[0] == '#' && rw_meta_line(line, metas, &nmeta) != 0) {
            fprintf(stderr, "line %d: bad metadata line\n", lineno);
            return 1;
        }
        if (!line[0] || line[0] == '#') {
            continue;
        }
        char *ts_s = strrchr(line, ' ');
        if (!ts_s) {
            fprintf(stderr, "line %d: expected <series> <value> <timestamp>\n", lineno);
            return 1;
        }
        *ts_s++ = 0;
        char *v_s = strrchr(line, ' ');
        if (!v_s) {
            fprintf(stderr, "line %d: expected <series> <value> <timestamp>\n", lineno);
            return 1;
        }
        *v_s++ = 0;
        double v;
        int64_t t;
        if (strcmp(v_s, "StaleNaN") == 0) {
            uint64_t bits = 0x7ff0000000000002ULL;
            memcpy(&v, &bits, sizeof(v));
        } else if (!str_parse_double(str_cstr(v_s), &v)) {
            fprintf(stderr, "line %d: bad value %s\n", lineno, v_s);
            return 1;
        }
        if (!str_parse_i64(str_cstr(ts_s), &t)) {
            fprintf(stderr, "line %d: bad timestamp %s\n", lineno, ts_s);
            return 1;
        }
        rw_series_t *s = NULL;
        for (size_t i = 0; i < nseries; i++) {
            if (strcmp(series[i].sel, line) == 0) {
                s = &series[i];
            }
        }
        if (!s) {
            if (nseries == 64) {
                fprintf(stderr, "line %d: too many series\n", lineno);
                return 1;
            }
            s = &series[nseries++];
            s->sel = strdup(line);
            char err[600];
            if (rw_add_labels(s, err, sizeof(err)) != 0) {
                fprintf(stderr, "line %d: %s\n", lineno, err);
                return 1;
            }
        }
        if (s->n == RW_MAX) {
            fprintf(stderr, "line %d: too many samples\n", lineno);
            return 1;
        }
        s->ts[s->n] = t;
        s->vs[s->n] = v;
        s->n++;
    }
    ts_series_t in[64];
    for (size_t i = 0; i < nseries; i++) {
        in[i] = (ts_series_t){ series[i].labels, series[i].nlabels, series[i].ts, series[i].vs, series[i].n };
    }
    ts_meta_t md[RW_MAX_META];
    for (size_t i = 0; i < nmeta; i++) {
        md[i] = (ts_meta_t){ metas[i].family, metas[i].type, metas[i].help, metas[i].unit };
    }
    buf_t body = { 0 }, resp = { 0 };
    ts_rw_encode_meta(in, nseries, md, nmeta, &body);
    httpc_t *c = httpc_create(10000);
    httpc_result_t r;
    ts_rw_post(c, argv[1], &body, &resp, &r);
    httpc_destroy(c);
    printf("%ld\n%s", r.http_code, resp.data ? (const char *)resp.data : "");
    buf_fini(&body);
    buf_fini(&resp);
    return r.http_code ? 0 : 1;
}

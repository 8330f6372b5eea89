/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_vmstat: /proc/vmstat -> node_vmstat_<field> (untyped, HELP
 * "/proc/vmstat information field <field>."), as node_exporter 1.5's
 * vmstat collector with its default --collector.vmstat.fields,
 * ^(oom_kill|pgpg|pswp|pg.*fault).*
 *
 * The pattern is compiled once by init (PCRE2 through mem_*; RE2 and PCRE2
 * agree on it) and its match data kept in the state, so a collection
 * allocates nothing. As node_exporter, every line's value must parse (Go
 * ParseFloat) even when the field is not selected, and the match is an
 * unanchored search (the pattern anchors itself).
 *
 * Refused (-1): a line without two fields (node_exporter would panic on
 * an empty line), a bad value, a field seen twice, a selected field that
 * makes an invalid metric name, and content without the kernel's final
 * '\n' (a cut read).
 */
#include <stdio.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "agent/agent_int.h"
#include "agent/coll_text.h"
#include "common/mem.h"

#define COLL_VMSTAT_MAX (256u << 10)
#define COLL_VMSTAT_PREFIX "node_vmstat_"
#define COLL_VMSTAT_NAME 256

typedef struct coll_vmstat_state {
    coll_regex_t fields; /* collect.vmstat.fields */
} coll_vmstat_state_t;

static void coll_vmstat_fini(void *state)
{
    coll_vmstat_state_t *st = state;
    if (!st) {
        return;
    }
    coll_regex_fini(&st->fields);
    mem_free(st);
}

static int coll_vmstat_init(const coll_opts_t *o, void **state, char *err, size_t errlen)
{
    coll_vmstat_state_t *st = mem_calloc(1, sizeof(*st));
    if (coll_regex_init(&st->fields, o->vmstat_fields, "collect.vmstat.fields", err, errlen) != 0) {
        coll_vmstat_fini(st);
        return -1;
    }
    *state = st;
    return 0;
}

/* Split the line [p, end) into its first two fields; false unless it has
 * at least two and the second parses as a float. */
static bool coll_vmstat_parse_line(const char *p, const char *end, str_t *field, double *value)
{
    str_t f[2];
    for (size_t n = 0; n < 2; n++) {
        f[n] = coll_text_field(&p, end);
        if (f[n].len == 0) {
            return false;
        }
    }
    *field = f[0];
    return str_parse_double(f[1], value);
}

/* Add one selected field; false when its name is too long or invalid, or
 * the field was already added. */
static bool coll_vmstat_add(msink_t *s, str_t field, double value)
{
    char name[COLL_VMSTAT_NAME], help[COLL_VMSTAT_NAME + 48];
    int n = snprintf(name, sizeof(name), COLL_VMSTAT_PREFIX "%.*s", (int)field.len, field.p);
    if (n < 0 || (size_t)n >= sizeof(name) || !labels_valid_metric_name(str_from(name, (size_t)n))) {
        return false;
    }
    snprintf(help, sizeof(help), "/proc/vmstat information field %.*s.", (int)field.len, field.p);
    size_t before = s->nfamilies;
    uint32_t fam = msink_family_c(s, name, help, METRIC_UNTYPED);
    if (s->nfamilies == before) {
        return false;
    }
    msink_add(s, fam, value, 0, NULL, NULL);
    return true;
}

static int coll_vmstat_collect(coll_ctx_t *c, msink_t *s, char *err, size_t errlen)
{
    coll_vmstat_state_t *st = c->state;
    const char *root = c->paths->procfs;
    int rc = coll_read_file(root, "/vmstat", c->scratch, COLL_VMSTAT_MAX);
    if (rc < 0) {
        snprintf(err, errlen, "%s/vmstat: %s", root, strerror(-rc));
        return -1;
    }
    const char *p = (const char *)c->scratch->data;
    const char *end = p + c->scratch->len;
    if (p == end || end[-1] != '\n') {
        snprintf(err, errlen, "%s/vmstat: truncated (no end of line)", root);
        return -1;
    }
    for (size_t lineno = 1; p < end; lineno++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        str_t field;
        double value = 0;
        if (!coll_vmstat_parse_line(p, nl, &field, &value)) {
            snprintf(err, errlen, "%s/vmstat: malformed line %zu", root, lineno);
            return -1;
        }
        p = nl + 1;
        if (!coll_regex_match(&st->fields, field.p, field.len)) {
            continue; /* not selected */
        }
        if (!coll_vmstat_add(s, field, value)) {
            snprintf(err, errlen, "%s/vmstat: line %zu: bad or duplicate field %.*s", root, lineno, (int)field.len,
                     field.p);
            return -1;
        }
    }
    return 0;
}

const coll_def_t coll_vmstat_def = {
    .name = "vmstat",
    .init = coll_vmstat_init,
    .fini = coll_vmstat_fini,
    .collect = coll_vmstat_collect,
};

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_netstat: /proc/net/netstat, /proc/net/snmp and /proc/net/snmp6 ->
 * node_netstat_<Proto>_<Field> (untyped, HELP "Statistic <Proto><Field>."),
 * for the keys matching node_exporter 1.5's default --collector.netstat.fields.
 *
 * netstat and snmp are pairs of lines, "Proto: F1 F2" then "Proto: v1 v2",
 * split on single spaces (a stray space makes an empty name or value, as
 * upstream); the counts must agree. snmp6 is "Ip6InOctets <ws> 123" per
 * line: the protocol runs to the first '6'. node_exporter merges them into
 * one map of protocol -> field -> value, which fixes what is served:
 *   - a protocol seen again (later pair, or later file, snmp6 last)
 *     replaces the earlier one whole; a field seen again keeps its last
 *     value. We emit only the last occurrence, found by looking ahead.
 *   - every value that survives the merge must parse as Go's ParseFloat
 *     (1e3, Inf, NaN, '_' between digits), matched or not.
 *   - absent snmp6 (IPv6 off) is skipped; absent netstat or snmp fails.
 * Refused where upstream panics: an empty header token, or a matching key
 * that is no valid metric name. Content not ending in '\n' is a cut read.
 *
 * State (init): the compiled field regex, the three files' buffers and
 * the token tables, all reused, so a steady collection allocates nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "agent/agent_int.h"
#include "agent/coll_text.h"
#include "common/mem.h"

#define COLL_NETSTAT_MAX_FILE (4u << 20)
#define COLL_NETSTAT_MAX_SECTIONS 64
#define COLL_NETSTAT_MAX_FIELDS 2048
#define COLL_NETSTAT_MAX_SNMP6 2048
#define COLL_NETSTAT_MAX_KEY 256

enum { NS_NETSTAT, NS_SNMP, NS_SNMP6, NS_NFILES };

static const char *const coll_netstat_files[NS_NFILES] = { "/net/netstat", "/net/snmp", "/net/snmp6" };

/* A header/value line pair of netstat or snmp. */
typedef struct coll_netstat_section {
    str_t proto; /* first header token without its last byte */
    str_t names, values;
    int file;
    size_t lineno;
} coll_netstat_section_t;

/* A line of snmp6: key = proto + name. */
typedef struct coll_netstat_kv {
    str_t key, value;
    size_t proto_len;
} coll_netstat_kv_t;

typedef struct coll_netstat_state {
    coll_regex_t fields; /* collect.netstat.fields */
    buf_t files[NS_NFILES];
    coll_netstat_section_t sections[COLL_NETSTAT_MAX_SECTIONS];
    size_t nsections;
    coll_netstat_kv_t snmp6[COLL_NETSTAT_MAX_SNMP6];
    size_t nsnmp6;
    str_t names[COLL_NETSTAT_MAX_FIELDS], values[COLL_NETSTAT_MAX_FIELDS];
} coll_netstat_state_t;

/* The next line of p[0..len) from *pos (without '\n' or a final '\r'),
 * as bufio.Scanner yields them. false at the end. */
static bool coll_netstat_next_line(const char *p, size_t len, size_t *pos, str_t *line)
{
    if (!coll_text_next_line(p, len, pos, line)) {
        return false;
    }
    if (line->len > 0 && line->p[line->len - 1] == '\r') {
        line->len--;
    }
    return true;
}

static size_t coll_netstat_count_parts(str_t line)
{
    size_t n = 1;
    for (size_t i = 0; i < line.len; i++) {
        n += line.p[i] == ' ';
    }
    return n;
}

/* Split line on single spaces into out[0..max) (Go's strings.Split);
 * returns the part count, or 0 when there are more than max. */
static size_t coll_netstat_split(str_t line, str_t *out, size_t max)
{
    size_t n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= line.len; i++) {
        if (i == line.len || line.p[i] == ' ') {
            if (n == max) {
                return 0;
            }
            out[n++] = str_from(line.p + start, i - start);
            start = i + 1;
        }
    }
    return n;
}

/* Index the header/value pairs of file f (netstat or snmp) into
 * st->sections. 0, or -1 with why. Pure apart from st. */
static int coll_netstat_parse_pairs(coll_netstat_state_t *st, int f, char *why, size_t whylen)
{
    const char *p = (const char *)st->files[f].data;
    size_t len = st->files[f].len;
    size_t pos = 0;
    size_t lineno = 0;
    str_t names;
    while (coll_netstat_next_line(p, len, &pos, &names)) {
        lineno++;
        str_t values = STR_LIT("");
        lineno += coll_netstat_next_line(p, len, &pos, &values);
        const char *sp = memchr(names.p, ' ', names.len);
        size_t tok = sp ? (size_t)(sp - names.p) : names.len;
        if (tok == 0) {
            snprintf(why, whylen, "malformed line %zu: no protocol", lineno);
            return -1;
        }
        if (coll_netstat_count_parts(names) != coll_netstat_count_parts(values)) {
            snprintf(why, whylen, "line %zu: field count mismatch for %.*s", lineno, (int)(tok - 1), names.p);
            return -1;
        }
        if (st->nsections == COLL_NETSTAT_MAX_SECTIONS) {
            snprintf(why, whylen, "more than %d sections", COLL_NETSTAT_MAX_SECTIONS);
            return -1;
        }
        st->sections[st->nsections++] = (coll_netstat_section_t){
            .proto = str_from(names.p, tok - 1),
            .names = names,
            .values = values,
            .file = f,
            .lineno = lineno,
        };
    }
    return 0;
}

/* Index snmp6's lines into st->snmp6: the first two whitespace-separated
 * fields of lines that have them and a '6' in the first. 0, or -1. */
static int coll_netstat_parse_snmp6(coll_netstat_state_t *st, char *why, size_t whylen)
{
    const char *p = (const char *)st->files[NS_SNMP6].data;
    size_t len = st->files[NS_SNMP6].len;
    size_t pos = 0;
    str_t line;
    while (coll_netstat_next_line(p, len, &pos, &line)) {
        str_t tok[2];
        size_t n = 0;
        for (size_t i = 0; i < line.len && n < 2;) {
            while (i < line.len && coll_text_space(line.p[i])) {
                i++;
            }
            size_t start = i;
            while (i < line.len && !coll_text_space(line.p[i])) {
                i++;
            }
            if (i > start) {
                tok[n++] = str_from(line.p + start, i - start);
            }
        }
        const char *six = n == 2 ? memchr(tok[0].p, '6', tok[0].len) : NULL;
        if (six == NULL) {
            continue;
        }
        if (st->nsnmp6 == COLL_NETSTAT_MAX_SNMP6) {
            snprintf(why, whylen, "more than %d lines", COLL_NETSTAT_MAX_SNMP6);
            return -1;
        }
        st->snmp6[st->nsnmp6++] = (coll_netstat_kv_t){
            .key = tok[0],
            .value = tok[1],
            .proto_len = (size_t)(six - tok[0].p) + 1,
        };
    }
    return 0;
}

/* Go's underscoreOK: '_' only between digits or after a base prefix. */
static bool coll_netstat_underscores_ok(str_t s)
{
    char saw = '^';
    size_t i = 0;
    if (s.len >= 1 && (s.p[0] == '+' || s.p[0] == '-')) {
        i = 1;
    }
    bool hex = false;
    if (s.len >= i + 2 && s.p[i] == '0' && strchr("bBoOxX", s.p[i + 1]) != NULL) {
        hex = (s.p[i + 1] | 0x20) == 'x';
        i += 2;
        saw = '0';
    }
    for (; i < s.len; i++) {
        char ch = s.p[i];
        if ((ch >= '0' && ch <= '9') || (hex && (ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')) {
            saw = '0';
        } else if (ch == '_') {
            if (saw != '0') {
                return false;
            }
            saw = '_';
        } else if (saw == '_') {
            return false;
        } else {
            saw = '!';
        }
    }
    return saw != '_';
}

/* As Go's strconv.ParseFloat(s, 64). Pure. */
static bool coll_netstat_parse_float(str_t s, double *out)
{
    if (memchr(s.p, '_', s.len) == NULL) {
        return str_parse_double(s, out);
    }
    char tmp[128];
    if (s.len >= sizeof(tmp) || !coll_netstat_underscores_ok(s)) {
        return false;
    }
    size_t n = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] != '_') {
            tmp[n++] = s.p[i];
        }
    }
    return str_parse_double(str_from(tmp, n), out);
}

static bool coll_netstat_name_ok(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char ch = p[i];
        bool ok =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == ':';
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* Validate one surviving field and add it when its key matches. 0, or -1
 * with why. */
static int coll_netstat_field(coll_netstat_state_t *st, msink_t *s, str_t proto, str_t field, str_t value, char *why,
                              size_t whylen)
{
    double v = 0;
    if (!coll_netstat_parse_float(value, &v)) {
        snprintf(why, whylen, "bad value '%.*s' for %.*s%.*s", (int)value.len, value.p, (int)proto.len, proto.p,
                 (int)field.len, field.p);
        return -1;
    }
    char name[sizeof("node_netstat_") + COLL_NETSTAT_MAX_KEY];
    int n = snprintf(name, sizeof(name), "node_netstat_%.*s_%.*s", (int)proto.len, proto.p, (int)field.len, field.p);
    if (n < 0 || (size_t)n >= sizeof(name)) {
        snprintf(why, whylen, "field name too long: %.*s", (int)field.len, field.p);
        return -1;
    }
    const char *key = name + strlen("node_netstat_");
    size_t klen = (size_t)n - strlen("node_netstat_");
    if (!coll_regex_match(&st->fields, key, klen)) {
        return 0;
    }
    if (!coll_netstat_name_ok(key, klen)) {
        snprintf(why, whylen, "'%.*s' makes no valid metric name", (int)klen, key);
        return -1;
    }
    char help[sizeof("Statistic .") + COLL_NETSTAT_MAX_KEY];
    snprintf(help, sizeof(help), "Statistic %.*s%.*s.", (int)proto.len, proto.p, (int)field.len, field.p);
    msink_addv(s, name, help, METRIC_UNTYPED, v, 0);
    return 0;
}

/* True when section i is replaced by a later one of the same protocol. */
static bool coll_netstat_section_replaced(const coll_netstat_state_t *st, size_t i)
{
    str_t proto = st->sections[i].proto;
    for (size_t j = i + 1; j < st->nsections; j++) {
        if (str_eq(st->sections[j].proto, proto)) {
            return true;
        }
    }
    for (size_t j = 0; j < st->nsnmp6; j++) {
        if (str_eq(str_from(st->snmp6[j].key.p, st->snmp6[j].proto_len), proto)) {
            return true;
        }
    }
    return false;
}

/* Emit the surviving fields of section i. 0, or -1 with why. */
static int coll_netstat_emit_section(coll_netstat_state_t *st, msink_t *s, size_t i, char *why, size_t whylen)
{
    const coll_netstat_section_t *sec = &st->sections[i];
    size_t n = coll_netstat_split(sec->names, st->names, COLL_NETSTAT_MAX_FIELDS);
    if (n == 0 || coll_netstat_split(sec->values, st->values, COLL_NETSTAT_MAX_FIELDS) != n) {
        snprintf(why, whylen, "line %zu: more than %d fields", sec->lineno, COLL_NETSTAT_MAX_FIELDS);
        return -1;
    }
    for (size_t f = 1; f < n; f++) {
        bool later = false;
        for (size_t g = f + 1; g < n && !later; g++) {
            later = str_eq(st->names[g], st->names[f]);
        }
        if (!later && coll_netstat_field(st, s, sec->proto, st->names[f], st->values[f], why, whylen) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Emit snmp6's surviving lines. 0, or -1 with why. */
static int coll_netstat_emit_snmp6(coll_netstat_state_t *st, msink_t *s, char *why, size_t whylen)
{
    for (size_t i = 0; i < st->nsnmp6; i++) {
        const coll_netstat_kv_t *kv = &st->snmp6[i];
        bool later = false;
        for (size_t j = i + 1; j < st->nsnmp6 && !later; j++) {
            later = str_eq(st->snmp6[j].key, kv->key);
        }
        if (later) {
            continue;
        }
        str_t proto = str_from(kv->key.p, kv->proto_len);
        str_t field = str_from(kv->key.p + kv->proto_len, kv->key.len - kv->proto_len);
        if (coll_netstat_field(st, s, proto, field, kv->value, why, whylen) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Read the three files into st. 0, or -1 with err set. */
static int coll_netstat_read(coll_netstat_state_t *st, const char *root, char *err, size_t errlen)
{
    for (int f = 0; f < NS_NFILES; f++) {
        int rc = coll_read_file(root, coll_netstat_files[f], &st->files[f], COLL_NETSTAT_MAX_FILE);
        if (rc == -ENOENT && f == NS_SNMP6) {
            buf_reset(&st->files[f]); /* IPv6 disabled */
            continue;
        }
        if (rc < 0) {
            snprintf(err, errlen, "%s%s: %s", root, coll_netstat_files[f], strerror(-rc));
            return -1;
        }
        size_t len = st->files[f].len;
        if (len > 0 && st->files[f].data[len - 1] != '\n') {
            snprintf(err, errlen, "%s%s: truncated (no end of line)", root, coll_netstat_files[f]);
            return -1;
        }
    }
    return 0;
}

static int coll_netstat_collect(coll_ctx_t *c, msink_t *s, char *err, size_t errlen)
{
    coll_netstat_state_t *st = c->state;
    const char *root = c->paths->procfs;
    if (coll_netstat_read(st, root, err, errlen) < 0) {
        return -1;
    }
    st->nsections = 0;
    st->nsnmp6 = 0;
    char why[224];
    for (int f = NS_NETSTAT; f <= NS_SNMP; f++) {
        if (coll_netstat_parse_pairs(st, f, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "%s%s: %s", root, coll_netstat_files[f], why);
            return -1;
        }
    }
    if (coll_netstat_parse_snmp6(st, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s%s: %s", root, coll_netstat_files[NS_SNMP6], why);
        return -1;
    }
    for (size_t i = 0; i < st->nsections; i++) {
        if (coll_netstat_section_replaced(st, i)) {
            continue;
        }
        if (coll_netstat_emit_section(st, s, i, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "%s%s: %s", root, coll_netstat_files[st->sections[i].file], why);
            return -1;
        }
    }
    if (coll_netstat_emit_snmp6(st, s, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s%s: %s", root, coll_netstat_files[NS_SNMP6], why);
        return -1;
    }
    return 0;
}

static void coll_netstat_fini(void *state)
{
    coll_netstat_state_t *st = state;
    if (st == NULL) {
        return;
    }
    coll_regex_fini(&st->fields);
    for (int f = 0; f < NS_NFILES; f++) {
        buf_fini(&st->files[f]);
    }
    mem_free(st);
}

static int coll_netstat_init(const coll_opts_t *o, void **state, char *err, size_t errlen)
{
    coll_netstat_state_t *st = mem_calloc(1, sizeof(*st));
    for (int f = 0; f < NS_NFILES; f++) {
        buf_init(&st->files[f]);
    }
    if (coll_regex_init(&st->fields, o->netstat_fields, "collect.netstat.fields", err, errlen) != 0) {
        coll_netstat_fini(st);
        return -1;
    }
    *state = st;
    return 0;
}

const coll_def_t coll_netstat_def = {
    .name = "netstat",
    .init = coll_netstat_init,
    .fini = coll_netstat_fini,
    .collect = coll_netstat_collect,
};

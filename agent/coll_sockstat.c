/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_sockstat: /proc/net/sockstat and /proc/net/sockstat6 ->
 * node_sockstat_sockets_used and node_sockstat_<PROTO>_<field> gauges
 * (inuse, orphan, tw, alloc, mem, memory, mem_bytes = mem * page size),
 * as node_exporter 1.5's sockstat collector.
 *
 * Each line is "PROTO: key value key value ...", split on single spaces
 * as node_exporter does, so a stray space is an error there and here.
 * Values are read like Go's ParseInt(s, 0, 64): sign, 0x/0o/0b or a
 * leading 0 (octal), '_' between digits. The protocol keeps its own name
 * ("TCP6" comes from sockstat6 as written); "sockets: used N" gives
 * sockets_used from the IPv4 file only (its last such line). A protocol
 * missing "inuse" reports inuse 0; a key given twice keeps its last value.
 *
 * Invariants, matching what node_exporter serves: the first sample of a
 * metric name wins (a repeated protocol line only adds the fields not yet
 * seen; client_golang drops the rest); a file that is absent is skipped,
 * so with both absent the collection succeeds with no samples; a name
 * that is not a valid metric name (node_exporter panics) fails the
 * collection; mem_bytes wraps like Go's int multiply. Content not ending
 * in '\n' is a cut read and is refused.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent_int.h"

#define COLL_SOCKSTAT_MAX_FILE (1u << 20)
#define COLL_SOCKSTAT_MAX_PROTOS 32
#define COLL_SOCKSTAT_MAX_PROTO_LEN 64

typedef enum coll_sockstat_field {
    SS_INUSE,
    SS_ORPHAN,
    SS_TW,
    SS_ALLOC,
    SS_MEM,
    SS_MEMORY,
    SS_MEM_BYTES, /* derived from SS_MEM */
    SS_NFIELDS,
} coll_sockstat_field_t;

static const char *const coll_sockstat_field_names[SS_NFIELDS] = {
    [SS_INUSE] = "inuse",   [SS_ORPHAN] = "orphan",       [SS_TW] = "tw", [SS_ALLOC] = "alloc", [SS_MEM] = "mem",
    [SS_MEMORY] = "memory", [SS_MEM_BYTES] = "mem_bytes",
};

/* One parsed line. */
typedef struct coll_sockstat_line {
    str_t proto;           /* without the ':' suffix */
    int64_t v[SS_NFIELDS]; /* SS_MEM_BYTES unused */
    uint32_t present;      /* bit per field */
    int64_t used;          /* kvs["used"], 0 when absent */
} coll_sockstat_line_t;

/* One collection's progress: names already emitted (the first wins). */
typedef struct coll_sockstat_seen {
    int64_t page; /* bytes per page, for mem_bytes */
    struct {
        char name[COLL_SOCKSTAT_MAX_PROTO_LEN];
        size_t len;
        uint32_t fields;
    } protos[COLL_SOCKSTAT_MAX_PROTOS];
    size_t nprotos;
} coll_sockstat_seen_t;

/* Go's rule for '_' in number literals: only between digits (a base
 * prefix counts as a digit). p excludes the sign. */
static bool coll_sockstat_underscores_ok(const char *p, size_t len, bool prefixed)
{
    char saw = prefixed ? '0' : '^';
    for (size_t i = prefixed ? 2 : 0; i < len; i++) {
        if (p[i] == '_') {
            if (saw != '0') {
                return false;
            }
            saw = '_';
        } else {
            saw = '0'; /* digits were checked by the caller */
        }
    }
    return saw != '_';
}

/* As Go's strconv.ParseInt(s, 0, 64). Pure. */
static bool coll_sockstat_parse_int(str_t s, int64_t *out)
{
    const char *p = s.p;
    size_t len = s.len;
    bool neg = false;
    if (len > 0 && (p[0] == '+' || p[0] == '-')) {
        neg = p[0] == '-';
        p++;
        len--;
    }
    if (len == 0) {
        return false;
    }
    unsigned base = 10;
    size_t i = 0;
    bool prefixed = false;
    if (p[0] == '0' && len > 1) {
        char b = (char)(p[1] | 0x20);
        prefixed = b == 'x' || b == 'o' || b == 'b';
        base = b == 'x' ? 16 : b == 'b' ? 2 : 8;
        i = prefixed ? 2 : 1;
        if (prefixed && len == 2) {
            return false;
        }
    }
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    bool underscores = false;
    for (; i < len; i++) {
        if (p[i] == '_') {
            underscores = true;
            continue;
        }
        int d = str_hex_digit((unsigned char)p[i]);
        if (d < 0 || d >= (int)base) {
            return false;
        }
        if (v > (limit - (uint64_t)d) / base) {
            return false;
        }
        v = v * base + (uint64_t)d;
    }
    if (underscores && !coll_sockstat_underscores_ok(p, len, prefixed)) {
        return false;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* Parse one line (no '\n') into out. 0, or -1 with the reason in why. Pure. */
static int coll_sockstat_parse_line(str_t line, coll_sockstat_line_t *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof(*out));
    const char *p = line.p;
    const char *end = line.p + line.len;
    const char *sp = memchr(p, ' ', line.len);
    size_t nfields = 1;
    for (const char *q = p; q < end; q++) {
        nfields += *q == ' ';
    }
    if (nfields < 3 || sp == NULL) {
        snprintf(why, whylen, "want a protocol and key/value pairs");
        return -1;
    }
    if ((nfields - 1) % 2 != 0) {
        snprintf(why, whylen, "odd number of fields in key/value pairs");
        return -1;
    }
    out->proto = str_from(p, (size_t)(sp - p));
    if (out->proto.len > 0 && out->proto.p[out->proto.len - 1] == ':') {
        out->proto.len--;
    }
    p = sp + 1;
    while (p < end) {
        const char *k_end = memchr(p, ' ', (size_t)(end - p));
        str_t key = str_from(p, (size_t)(k_end - p));
        const char *v = k_end + 1;
        const char *v_end = memchr(v, ' ', (size_t)(end - v));
        v_end = v_end ? v_end : end;
        int64_t val = 0;
        if (!coll_sockstat_parse_int(str_from(v, (size_t)(v_end - v)), &val)) {
            snprintf(why, whylen, "bad value '%.*s'", (int)(v_end - v), v);
            return -1;
        }
        if (str_eq_cstr(key, "used")) {
            out->used = val;
        }
        for (int f = 0; f < SS_MEM_BYTES; f++) {
            if (str_eq_cstr(key, coll_sockstat_field_names[f])) {
                out->v[f] = val;
                out->present |= 1u << f;
            }
        }
        p = v_end + (v_end < end);
    }
    return 0;
}

static bool coll_sockstat_name_ok(str_t proto)
{
    for (size_t i = 0; i < proto.len; i++) {
        char ch = proto.p[i];
        bool ok =
            (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == ':';
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* The emitted-fields mask of proto in seen (added when new), or NULL when
 * the table is full. */
static uint32_t *coll_sockstat_seen_mask(coll_sockstat_seen_t *seen, str_t proto)
{
    for (size_t i = 0; i < seen->nprotos; i++) {
        if (str_eq(str_from(seen->protos[i].name, seen->protos[i].len), proto)) {
            return &seen->protos[i].fields;
        }
    }
    if (seen->nprotos == COLL_SOCKSTAT_MAX_PROTOS) {
        return NULL;
    }
    size_t i = seen->nprotos++;
    memcpy(seen->protos[i].name, proto.p, proto.len);
    seen->protos[i].len = proto.len;
    seen->protos[i].fields = 0;
    return &seen->protos[i].fields;
}

/* Add the samples of one parsed protocol line. 0, or -1 with why. */
static int coll_sockstat_emit(msink_t *s, coll_sockstat_seen_t *seen, const coll_sockstat_line_t *l, char *why,
                              size_t whylen)
{
    if (l->proto.len >= COLL_SOCKSTAT_MAX_PROTO_LEN || !coll_sockstat_name_ok(l->proto)) {
        snprintf(why, whylen, "protocol '%.*s' makes no valid metric name", (int)l->proto.len, l->proto.p);
        return -1;
    }
    uint32_t *mask = coll_sockstat_seen_mask(seen, l->proto);
    if (mask == NULL) {
        snprintf(why, whylen, "more than %d protocols", COLL_SOCKSTAT_MAX_PROTOS);
        return -1;
    }
    uint32_t present = l->present | (1u << SS_INUSE);
    present |= (l->present & (1u << SS_MEM)) ? 1u << SS_MEM_BYTES : 0;
    for (int f = 0; f < SS_NFIELDS; f++) {
        if (!(present & (1u << f)) || (*mask & (1u << f))) {
            continue;
        }
        *mask |= 1u << f;
        int64_t v = f == SS_MEM_BYTES ? (int64_t)((uint64_t)l->v[SS_MEM] * (uint64_t)seen->page) : l->v[f];
        char name[160];
        char help[192];
        const char *fn = coll_sockstat_field_names[f];
        snprintf(name, sizeof(name), "node_sockstat_%.*s_%s", (int)l->proto.len, l->proto.p, fn);
        snprintf(help, sizeof(help), "Number of %.*s sockets in state %s.", (int)l->proto.len, l->proto.p, fn);
        msink_addv(s, name, help, METRIC_GAUGE, (double)v, 0);
    }
    return 0;
}

/* Parse and emit one file's content p[0..len). ipv6 selects sockstat6
 * rules (no sockets_used). 0, or -1 with why. */
static int coll_sockstat_file(msink_t *s, coll_sockstat_seen_t *seen, const char *p, size_t len, bool ipv6, char *why,
                              size_t whylen)
{
    if (len > 0 && p[len - 1] != '\n') {
        snprintf(why, whylen, "truncated (no end of line)");
        return -1;
    }
    size_t lineno = 0;
    bool have_used = false;
    int64_t used = 0;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(p + i, '\n', len - i);
        str_t line = str_from(p + i, (size_t)(nl - (p + i)));
        i = (size_t)(nl - p) + 1;
        lineno++;
        if (line.len > 0 && line.p[line.len - 1] == '\r') {
            line.len--;
        }
        coll_sockstat_line_t l;
        char lwhy[128];
        if (coll_sockstat_parse_line(line, &l, lwhy, sizeof(lwhy)) < 0) {
            snprintf(why, whylen, "malformed line %zu: %s", lineno, lwhy);
            return -1;
        }
        if (str_eq_cstr(l.proto, "sockets")) {
            have_used = true;
            used = l.used;
            continue;
        }
        if (coll_sockstat_emit(s, seen, &l, lwhy, sizeof(lwhy)) < 0) {
            snprintf(why, whylen, "line %zu: %s", lineno, lwhy);
            return -1;
        }
    }
    if (have_used && !ipv6) {
        msink_addv(s, "node_sockstat_sockets_used", "Number of IPv4 sockets in use.", METRIC_GAUGE, (double)used, 0);
    }
    return 0;
}

static const char *const coll_sockstat_files[2] = { "/net/sockstat", "/net/sockstat6" };

static int coll_sockstat_collect(coll_ctx_t *c, msink_t *s, char *err, size_t errlen)
{
    const char *root = c->paths->procfs;
    coll_sockstat_seen_t seen;
    memset(&seen, 0, sizeof(seen));
    seen.page = (int64_t)sysconf(_SC_PAGESIZE);
    for (int k = 0; k < 2; k++) {
        int rc = coll_read_file(root, coll_sockstat_files[k], c->scratch, COLL_SOCKSTAT_MAX_FILE);
        if (rc == -ENOENT) {
            continue; /* that address family is disabled */
        }
        if (rc < 0) {
            snprintf(err, errlen, "%s%s: %s", root, coll_sockstat_files[k], strerror(-rc));
            return -1;
        }
        char why[224];
        if (coll_sockstat_file(s, &seen, (const char *)c->scratch->data, c->scratch->len, k == 1, why, sizeof(why)) <
            0) {
            snprintf(err, errlen, "%s%s: %s", root, coll_sockstat_files[k], why);
            return -1;
        }
    }
    return 0;
}

const coll_def_t coll_sockstat_def = {
    .name = "sockstat",
    .init = NULL,
    .fini = NULL,
    .collect = coll_sockstat_collect,
};

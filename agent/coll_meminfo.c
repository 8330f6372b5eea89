/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_meminfo: /proc/meminfo -> node_memory_<Field>[_bytes], one family
 * per line, as node_exporter 1.5's meminfo collector.
 *
 * A line is "Key: value [kB]". The key loses its last byte (the ':'); a
 * parenthesised part becomes '_' plus its inside, from the first '(' to
 * the last ')' ("Active(anon)" -> "Active_anon"). With a unit (three
 * fields) the value is multiplied by 1024 and "_bytes" appended; with two
 * fields it is used as is ("HugePages_Total"). HELP is "Memory information
 * field <key>." with the final key; the type is counter when the key ends
 * in "_total" (case-sensitive; none does today), gauge otherwise. Blank
 * lines are skipped.
 *
 * Refused (-1): a line with one or more than three fields, a value Go's
 * ParseFloat would refuse, a key that makes an invalid metric name, a key
 * seen twice, and content without the kernel's final '\n' (a cut read).
 */
#include <stdio.h>
#include <string.h>

#include "agent/agent_int.h"
#include "agent/coll_text.h"

#define COLL_MEMINFO_MAX (256u << 10)
#define COLL_MEMINFO_NAME 256
#define COLL_MEMINFO_PREFIX "node_memory_"

typedef struct coll_meminfo_line {
    char name[COLL_MEMINFO_NAME]; /* "node_memory_<key>", NUL-terminated */
    const char *key;              /* the key inside name */
    double value;
    bool blank;
} coll_meminfo_line_t;

/* Append len bytes of src to out->name at *n; false when it does not fit
 * with the NUL. */
static bool coll_meminfo_put(coll_meminfo_line_t *out, size_t *n, const char *src, size_t len)
{
    if (*n + len >= COLL_MEMINFO_NAME) {
        return false;
    }
    memcpy(out->name + *n, src, len);
    *n += len;
    out->name[*n] = 0;
    return true;
}

/* Build out->name from the first field f (the key plus its ':') with the
 * "(x)" -> "_x" rewrite and the "_bytes" suffix when bytes. False when it
 * does not fit or is not a valid metric name. */
static bool coll_meminfo_key(str_t f, bool bytes, coll_meminfo_line_t *out)
{
    size_t klen = f.len - 1;
    const char *open = memchr(f.p, '(', klen);
    const char *close = NULL;
    for (size_t i = klen; open && i > (size_t)(open - f.p) + 1; i--) {
        if (f.p[i - 1] == ')') {
            close = f.p + i - 1;
            break;
        }
    }
    size_t n = 0;
    bool ok = coll_meminfo_put(out, &n, COLL_MEMINFO_PREFIX, sizeof(COLL_MEMINFO_PREFIX) - 1);
    if (close) {
        ok = ok && coll_meminfo_put(out, &n, f.p, (size_t)(open - f.p)) && coll_meminfo_put(out, &n, "_", 1) &&
             coll_meminfo_put(out, &n, open + 1, (size_t)(close - open - 1)) &&
             coll_meminfo_put(out, &n, close + 1, (size_t)(f.p + klen - close - 1));
    } else {
        ok = ok && coll_meminfo_put(out, &n, f.p, klen);
    }
    if (bytes) {
        ok = ok && coll_meminfo_put(out, &n, "_bytes", 6);
    }
    out->key = out->name + sizeof(COLL_MEMINFO_PREFIX) - 1;
    return ok && labels_valid_metric_name(str_from(out->name, n));
}

/* Parse one line [p, end) into out. True on success (blank lines too). */
static bool coll_meminfo_parse_line(const char *p, const char *end, coll_meminfo_line_t *out)
{
    str_t f[4];
    size_t n = 0;
    while (n < 4) {
        str_t x = coll_text_field(&p, end);
        if (x.len == 0) {
            break;
        }
        f[n++] = x;
    }
    out->blank = n == 0;
    if (n == 0) {
        return true;
    }
    if (n < 2 || n > 3 || !str_parse_double(f[1], &out->value)) {
        return false;
    }
    if (n == 3) {
        out->value *= 1024;
    }
    return coll_meminfo_key(f[0], n == 3, out);
}

static int coll_meminfo_collect(coll_ctx_t *c, msink_t *s, char *err, size_t errlen)
{
    const char *root = c->paths->procfs;
    int rc = coll_read_file(root, "/meminfo", c->scratch, COLL_MEMINFO_MAX);
    if (rc < 0) {
        snprintf(err, errlen, "%s/meminfo: %s", root, strerror(-rc));
        return -1;
    }
    const char *p = (const char *)c->scratch->data;
    const char *end = p + c->scratch->len;
    if (p == end || end[-1] != '\n') {
        snprintf(err, errlen, "%s/meminfo: truncated (no end of line)", root);
        return -1;
    }
    char help[COLL_MEMINFO_NAME + 32];
    coll_meminfo_line_t ln;
    for (size_t lineno = 1; p < end; lineno++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!coll_meminfo_parse_line(p, nl, &ln)) {
            snprintf(err, errlen, "%s/meminfo: malformed line %zu", root, lineno);
            return -1;
        }
        p = nl + 1;
        if (ln.blank) {
            continue;
        }
        size_t klen = strlen(ln.key);
        bool total = klen >= 6 && memcmp(ln.key + klen - 6, "_total", 6) == 0;
        snprintf(help, sizeof(help), "Memory information field %s.", ln.key);
        size_t before = s->nfamilies;
        uint32_t fam = msink_family_c(s, ln.name, help, total ? METRIC_COUNTER : METRIC_GAUGE);
        if (s->nfamilies == before) {
            snprintf(err, errlen, "%s/meminfo: line %zu: duplicate field %s", root, lineno, ln.key);
            return -1;
        }
        msink_add(s, fam, ln.value, 0, NULL, NULL);
    }
    return 0;
}

const coll_def_t coll_meminfo_def = {
    .name = "meminfo",
    .init = NULL,
    .fini = NULL,
    .collect = coll_meminfo_collect,
};

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_mdadm: /proc/mdstat -> node_md_*, as node_exporter 1.5 (procfs
 * 0.8's parser).
 *
 * An array starts at a line "mdN : <state> [personality] disks..." (any
 * line not indented and not "Personalities"/"unused"), and at least three
 * more lines must follow it (the final empty line after the last '\n'
 * counts). The next line gives the size in blocks and, for other than
 * raid0/linear/inactive arrays, "[total/active] [U_]". The sync line is
 * two lines down (three when the third is a bitmap line): "recovery",
 * "check" or "resync" there set the state and the synced blocks come from
 * "(done/total)" unless the line says PENDING or DELAYED (then 0); such a
 * line must also carry "= <pct>%", "finish=<t>min" and "speed=<n>K".
 * Failed and spare disks are counted from "(F)" and "(S)" on the first
 * line.
 *
 * Invariants: any line that breaks these rules fails the collection, as
 * in node_exporter; an absent /proc/mdstat is "no data" (-1). Stricter
 * than node_exporter: negative block counts and a file not ending in '\n'
 * (cut short) are refused. The parser
 * borrows the scratch buffer and allocates nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent_int.h"
#include "agent/coll_text.h"

#define COLL_MDADM_MAX_FILE (16u << 20)

typedef struct coll_mdadm_array {
    str_t name;
    str_t state; /* "active", "inactive", or "recovering"/"checking"/"resyncing" */
    int64_t active, total, failed, spare, size, synced;
} coll_mdadm_array_t;

/* Cursor over '\n'-separated lines with Go strings.Split semantics: the
 * text after the last '\n' (maybe empty) is one more line. */
typedef struct coll_mdadm_lines {
    const char *p;
    size_t len, pos;
    bool done;
} coll_mdadm_lines_t;

static bool coll_mdadm_next(coll_mdadm_lines_t *it, str_t *line)
{
    if (it->done) {
        return false;
    }
    const char *start = it->p + it->pos;
    const char *nl = memchr(start, '\n', it->len - it->pos);
    if (nl == NULL) {
        *line = str_from(start, it->len - it->pos);
        it->done = true;
        return true;
    }
    *line = str_from(start, (size_t)(nl - start));
    it->pos += line->len + 1;
    return true;
}

static bool coll_mdadm_contains(str_t s, const char *needle)
{
    size_t nl = strlen(needle);
    for (size_t i = 0; i + nl <= s.len; i++) {
        if (memcmp(s.p + i, needle, nl) == 0) {
            return true;
        }
    }
    return false;
}

static int64_t coll_mdadm_count(str_t s, const char *needle)
{
    size_t nl = strlen(needle);
    int64_t n = 0;
    for (size_t i = 0; i + nl <= s.len;) {
        if (memcmp(s.p + i, needle, nl) == 0) {
            n++;
            i += nl;
        } else {
            i++;
        }
    }
    return n;
}

/* Index of the first occurrence of needle at or after from, or -1. */
static long coll_mdadm_find(str_t s, size_t from, const char *needle)
{
    size_t nl = strlen(needle);
    for (size_t i = from; i + nl <= s.len; i++) {
        if (memcmp(s.p + i, needle, nl) == 0) {
            return (long)i;
        }
    }
    return -1;
}

/* The first three whitespace-separated fields of s into f; returns how
 * many there are (at most 3). */
static size_t coll_mdadm_fields3(str_t s, str_t f[3])
{
    size_t n = 0, i = 0;
    while (n < 3) {
        while (i < s.len && coll_text_space(s.p[i])) {
            i++;
        }
        if (i == s.len) {
            break;
        }
        size_t start = i;
        while (i < s.len && !coll_text_space(s.p[i])) {
            i++;
        }
        f[n++] = str_from(s.p + start, i - start);
    }
    return n;
}

static bool coll_mdadm_digits(str_t s, int64_t *out)
{
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] < '0' || s.p[i] > '9') {
            return false;
        }
    }
    return s.len > 0 && str_parse_i64(s, out);
}

/* "(\d+) blocks .*\[(\d+)/(\d+)\] \[([U_]+)\]": the last "[t/a] [U_…]"
 * after " blocks " (the regex's greedy .*); total and active. */
static bool coll_mdadm_status_re(str_t st, int64_t *total, int64_t *active)
{
    long b = coll_mdadm_find(st, 0, " blocks ");
    while (b == 0 || (b > 0 && (st.p[b - 1] < '0' || st.p[b - 1] > '9'))) {
        b = coll_mdadm_find(st, (size_t)b + 1, " blocks ");
    }
    if (b < 0) {
        return false;
    }
    for (size_t i = st.len; i-- > (size_t)b + 8;) {
        if (st.p[i] != '[') {
            continue;
        }
        size_t j = i + 1, t0 = j;
        while (j < st.len && st.p[j] >= '0' && st.p[j] <= '9') {
            j++;
        }
        if (j == t0 || j >= st.len || st.p[j] != '/') {
            continue;
        }
        size_t a0 = ++j;
        while (j < st.len && st.p[j] >= '0' && st.p[j] <= '9') {
            j++;
        }
        if (j == a0 || j + 3 > st.len || memcmp(st.p + j, "] [", 3) != 0) {
            continue;
        }
        size_t u0 = j + 3, k = u0;
        while (k < st.len && (st.p[k] == 'U' || st.p[k] == '_')) {
            k++;
        }
        if (k == u0 || k >= st.len || st.p[k] != ']') {
            continue;
        }
        return coll_mdadm_digits(str_from(st.p + t0, a0 - 1 - t0), total) &&
               coll_mdadm_digits(str_from(st.p + a0, j - a0), active);
    }
    return false;
}

/* The status line of array line dev: size, and disks active/total. */
static bool coll_mdadm_status(str_t dev, str_t st, coll_mdadm_array_t *a)
{
    str_t f[3];
    if (coll_mdadm_fields3(st, f) < 1 || !coll_mdadm_digits(f[0], &a->size)) {
        return false;
    }
    if (coll_mdadm_contains(dev, "raid0") || coll_mdadm_contains(dev, "linear")) {
        a->total = a->active = coll_mdadm_count(dev, "[");
        return true;
    }
    if (coll_mdadm_contains(dev, "inactive")) {
        a->total = a->active = 0;
        return true;
    }
    return coll_mdadm_status_re(st, &a->total, &a->active);
}

/* Go's "open(.+)close" on s: the text between the first open and the
 * last close that leaves at least one byte between them (close NULL: any
 * ASCII capital), which must parse as a float (spaces trimmed first when
 * trim). */
static bool coll_mdadm_capture_float(str_t s, const char *open, const char *close, bool trim)
{
    long o = coll_mdadm_find(s, 0, open);
    size_t cl = close ? strlen(close) : 1;
    if (o < 0 || s.len < cl) {
        return false;
    }
    size_t from = (size_t)o + strlen(open);
    for (size_t i = s.len - cl + 1; i > from + 1;) {
        i--;
        bool hit = close ? memcmp(s.p + i, close, cl) == 0 : (s.p[i] >= 'A' && s.p[i] <= 'Z');
        if (!hit) {
            continue;
        }
        str_t v = str_from(s.p + from, i - from);
        while (trim && v.len > 0 && coll_text_space(v.p[0])) {
            v = str_from(v.p + 1, v.len - 1);
        }
        while (trim && v.len > 0 && coll_text_space(v.p[v.len - 1])) {
            v.len--;
        }
        double d = 0;
        return str_parse_double(v, &d);
    }
    return false;
}

/* "\((\d+)/\d+\)": the first "(done/total)"; done into *synced. */
static bool coll_mdadm_done(str_t s, int64_t *synced)
{
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] != '(') {
            continue;
        }
        size_t j = i + 1, d0 = j;
        while (j < s.len && s.p[j] >= '0' && s.p[j] <= '9') {
            j++;
        }
        if (j == d0 || j >= s.len || s.p[j] != '/') {
            continue;
        }
        size_t t0 = ++j;
        while (j < s.len && s.p[j] >= '0' && s.p[j] <= '9') {
            j++;
        }
        if (j == t0 || j >= s.len || s.p[j] != ')') {
            continue;
        }
        return coll_mdadm_digits(str_from(s.p + d0, t0 - 1 - d0), synced);
    }
    return false;
}

/* The sync line: state and synced blocks when a sync is running. */
static bool coll_mdadm_sync(str_t sl, coll_mdadm_array_t *a)
{
    a->synced = a->size;
    bool recovering = coll_mdadm_contains(sl, "recovery");
    bool resyncing = coll_mdadm_contains(sl, "resync");
    bool checking = coll_mdadm_contains(sl, "check");
    if (!recovering && !resyncing && !checking) {
        return true;
    }
    a->state = recovering ? STR_LIT("recovering") : checking ? STR_LIT("checking") : STR_LIT("resyncing");
    if (coll_mdadm_contains(sl, "PENDING") || coll_mdadm_contains(sl, "DELAYED")) {
        a->synced = 0;
        return true;
    }
    return coll_mdadm_done(sl, &a->synced) && coll_mdadm_capture_float(sl, "= ", "%", true) &&
           coll_mdadm_capture_float(sl, "finish=", "min", false) && coll_mdadm_capture_float(sl, "speed=", NULL, false);
}

/* Pure parser of one array whose first line is dev, with the cursor
 * just after it. 0 and [out] *a, or -1. */
static int coll_mdadm_parse_array(str_t dev, coll_mdadm_lines_t it, coll_mdadm_array_t *a)
{
    str_t f[3], next[3];
    if (coll_mdadm_fields3(dev, f) < 3) {
        return -1;
    }
    for (size_t i = 0; i < 3; i++) {
        if (!coll_mdadm_next(&it, &next[i])) {
            return -1;
        }
    }
    memset(a, 0, sizeof(*a));
    a->name = f[0];
    a->state = f[2];
    a->failed = coll_mdadm_count(dev, "(F)");
    a->spare = coll_mdadm_count(dev, "(S)");
    if (!coll_mdadm_status(dev, next[0], a)) {
        return -1;
    }
    str_t sl = coll_mdadm_contains(next[1], "bitmap") ? next[2] : next[1];
    return coll_mdadm_sync(sl, a) ? 0 : -1;
}

static bool coll_mdadm_is_array_line(str_t l)
{
    bool blank = true;
    for (size_t i = 0; i < l.len && blank; i++) {
        blank = coll_text_space(l.p[i]);
    }
    return !blank && l.p[0] != ' ' && !str_has_prefix(l, "Personalities") && !str_has_prefix(l, "unused");
}

static const char *const coll_mdadm_disk_states[] = { "active", "failed", "spare" };

/* node_md_state's label values and the parsed state that sets each to 1. */
static const struct {
    const char *label, *parsed;
} coll_mdadm_states[] = {
    { "active", "active" },    { "inactive", "inactive" }, { "recovering", "recovering" },
    { "resync", "resyncing" }, { "check", "checking" },
};

static void coll_mdadm_emit(msink_t *s, const coll_mdadm_array_t *a)
{
    label_t dev[2] = { { STR_LIT("device"), a->name }, { STR_LIT("state"), STR_LIT("") } };
    uint32_t f = msink_family_c(s, "node_md_disks_required", "Total number of disks of device.", METRIC_GAUGE);
    msink_add_full(s, f, (str_t){ NULL, 0 }, dev, 1, (double)a->total, MSINK_NO_TS);
    const int64_t disks[] = { a->active, a->failed, a->spare };
    f = msink_family_c(s, "node_md_disks", "Number of active/failed/spare disks of device.", METRIC_GAUGE);
    for (size_t i = 0; i < 3; i++) {
        dev[1].value = str_cstr(coll_mdadm_disk_states[i]);
        msink_add_full(s, f, (str_t){ NULL, 0 }, dev, 2, (double)disks[i], MSINK_NO_TS);
    }
    f = msink_family_c(s, "node_md_state", "Indicates the state of md-device.", METRIC_GAUGE);
    for (size_t i = 0; i < sizeof(coll_mdadm_states) / sizeof(coll_mdadm_states[0]); i++) {
        dev[1].value = str_cstr(coll_mdadm_states[i].label);
        msink_add_full(s, f, (str_t){ NULL, 0 }, dev, 2, str_eq_cstr(a->state, coll_mdadm_states[i].parsed) ? 1 : 0,
                       MSINK_NO_TS);
    }
    f = msink_family_c(s, "node_md_blocks", "Total number of blocks on device.", METRIC_GAUGE);
    msink_add_full(s, f, (str_t){ NULL, 0 }, dev, 1, (double)a->size, MSINK_NO_TS);
    f = msink_family_c(s, "node_md_blocks_synced", "Number of blocks synced on device.", METRIC_GAUGE);
    msink_add_full(s, f, (str_t){ NULL, 0 }, dev, 1, (double)a->synced, MSINK_NO_TS);
}

static int coll_mdadm_collect(coll_ctx_t *c, msink_t *s, char *err, size_t errlen)
{
    int rc = coll_read_file(c->paths->procfs, "/mdstat", c->scratch, COLL_MDADM_MAX_FILE);
    if (rc != 0) {
        snprintf(err, errlen, "/proc/mdstat: %s", rc == -ENOENT ? "no data (file absent)" : strerror(-rc));
        return -1;
    }
    if (c->scratch->len > 0 && c->scratch->data[c->scratch->len - 1] != '\n') {
        snprintf(err, errlen, "/proc/mdstat: truncated (no final newline)");
        return -1;
    }
    coll_mdadm_lines_t it = { .p = (const char *)c->scratch->data, .len = c->scratch->len };
    size_t lineno = 0;
    str_t line;
    while (coll_mdadm_next(&it, &line)) {
        lineno++;
        if (!coll_mdadm_is_array_line(line)) {
            continue;
        }
        coll_mdadm_array_t a;
        if (coll_mdadm_parse_array(line, it, &a) != 0) {
            snprintf(err, errlen, "/proc/mdstat: malformed array at line %zu", lineno);
            return -1;
        }
        coll_mdadm_emit(s, &a);
    }
    return 0;
}

const coll_def_t coll_mdadm_def = {
    .name = "mdadm",
    .init = NULL,
    .fini = NULL,
    .collect = coll_mdadm_collect,
};

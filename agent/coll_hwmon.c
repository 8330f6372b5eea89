/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coll_hwmon: <sysfs>/class/hwmon/hwmon* -> node_hwmon_*, as node_exporter
 * 1.5.
 *
 * A chip directory (and its device/ directory, which wins on clashes)
 * holds files <type><n>_<property>; files of the known sensor types are
 * read with one read(2) of at most 128 bytes, newlines trimmed. A chip is
 * named "<bus>_<device>" after its resolved device link, else by its name
 * file, else by its directory; node_hwmon_chip_names maps it to the name
 * file, node_hwmon_sensor_label carries label files (invalid UTF-8 runs
 * become U+FFFD). Values that are not Go floats are skipped; names, HELP
 * texts and units (milli, or micro for power/energy) depend on the
 * property, so families are named at run time. Samples client_golang
 * would drop are not added: a family already holding another HELP text
 * ("in3" vs "in0_input"), or a series an earlier chip of the same name
 * gave.
 *
 * Failures as in 1.5: no class/hwmon is "no data"; a chip that cannot be
 * listed or named fails the collection, and so does a dangling chip link
 * unless a later link in name order resolves (one shared error variable).
 * node_exporter still exports the other chips; our runner rolls back.
 *
 * Invariants: listings and per-chip values live in state buffers that keep
 * their capacity (steady collections do not allocate); names and help
 * texts are built in bounded stack buffers.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "common/mem.h"

#define COLL_HWMON_VALUE_MAX 128
#define COLL_HWMON_NAME_MAX (64u << 10)

/* A directory's entry names, sorted bytewise as Go's ReadDir returns them. */
typedef struct coll_hwmon_list {
    buf_t names; /* NUL-terminated names back to back */
    size_t *offs;
    const char **sorted;
    size_t n, cap;
} coll_hwmon_list_t;

/* One value of the chip being read: sensor key ("temp1"), property. */
typedef struct coll_hwmon_value {
    uint32_t type_len; /* the key's type prefix */
    uint32_t key_off, key_len;
    uint32_t prop_off, prop_len;
    uint32_t val_off, val_len;
    uint32_t seq;
} coll_hwmon_value_t;

typedef struct coll_hwmon_state {
    coll_hwmon_list_t chips; /* class/hwmon */
    coll_hwmon_list_t files; /* one chip directory */
    buf_t strs;              /* keys, properties and values of one chip */
    coll_hwmon_value_t *vals;
    size_t nvals, cap_vals;
    buf_t file;       /* a name file */
    buf_t seen_names; /* chip names of this collection, NUL-separated */
} coll_hwmon_state_t;

/* One chip being emitted. */
typedef struct coll_hwmon_chip {
    coll_hwmon_state_t *st;
    msink_t *s;
    str_t name;
    bool dup; /* an earlier chip had this name: drop repeated series */
} coll_hwmon_chip_t;

static const char *const coll_hwmon_types[] = {
    "vrm",  "beep_enable", "update_interval", "in",     "cpu",      "fan",       "pwm",
    "temp", "curr",        "power",           "energy", "humidity", "intrusion",
};

static void coll_hwmon_list_fini(coll_hwmon_list_t *l)
{
    buf_fini(&l->names);
    mem_free(l->offs);
    mem_free(l->sorted);
}

static void coll_hwmon_fini(void *state)
{
    coll_hwmon_state_t *st = state;
    if (st == NULL) {
        return;
    }
    coll_hwmon_list_fini(&st->chips);
    coll_hwmon_list_fini(&st->files);
    buf_fini(&st->strs);
    buf_fini(&st->file);
    buf_fini(&st->seen_names);
    mem_free(st->vals);
    mem_free(st);
}

static int coll_hwmon_init(const coll_opts_t *o, void **state, char *err, size_t errlen)
{
    (void)o;
    (void)err;
    (void)errlen;
    *state = mem_calloc(1, sizeof(coll_hwmon_state_t));
    return 0;
}

static int coll_hwmon_cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* List dir (without "." and "..") into l, sorted. 0, or -errno. */
static int coll_hwmon_list(const char *dir, coll_hwmon_list_t *l)
{
    buf_reset(&l->names);
    l->n = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        return -errno;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        if (l->n == l->cap) {
            l->cap = l->cap ? l->cap * 2 : 64;
            l->offs = mem_realloc(l->offs, l->cap * sizeof(*l->offs));
            l->sorted = mem_realloc(l->sorted, l->cap * sizeof(*l->sorted));
        }
        l->offs[l->n++] = l->names.len;
        buf_append(&l->names, e->d_name, strlen(e->d_name) + 1);
    }
    closedir(d);
    for (size_t i = 0; i < l->n; i++) {
        l->sorted[i] = (const char *)l->names.data + l->offs[i];
    }
    qsort(l->sorted, l->n, sizeof(*l->sorted), coll_hwmon_cmp_names);
    return 0;
}

/* node_exporter's cleanMetricName: lower case, [^a-z0-9:_] -> '_', then
 * '_' trimmed at both ends. Writes at most cap-1 bytes plus a NUL. */
static size_t coll_hwmon_clean(str_t in, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < in.len && n + 1 < cap; i++) {
        char ch = in.p[i];
        if (ch >= 'A' && ch <= 'Z') {
            ch = (char)(ch - 'A' + 'a');
        }
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == ':' || ch == '_';
        out[n++] = ok ? ch : '_';
    }
    size_t b = 0;
    while (b < n && out[b] == '_') {
        b++;
    }
    while (n > b && out[n - 1] == '_') {
        n--;
    }
    memmove(out, out + b, n - b);
    n -= b;
    out[n] = 0;
    return n;
}

/* Split a file name as ^([^0-9]+)([0-9]*)?(_(.+))?$ does in Go: type,
 * number and property. False when it does not match or the number
 * overflows an int64. */
static bool coll_hwmon_explode(const char *name, str_t *type, int64_t *num, str_t *prop)
{
    size_t len = strlen(name), t = 0;
    while (t < len && (name[t] < '0' || name[t] > '9')) {
        t++;
    }
    size_t d = t;
    while (d < len && name[d] >= '0' && name[d] <= '9') {
        d++;
    }
    if (t > 0 && (d == len || (name[d] == '_' && d + 1 < len))) {
        *num = 0;
        if (d > t && !str_parse_i64(str_from(name + t, d - t), num)) {
            return false;
        }
        *type = str_from(name, t);
        *prop = d == len ? STR_LIT("") : str_from(name + d + 1, len - d - 1);
        return true;
    }
    /* Backtracking: a shorter type that ends right before a '_'. */
    for (size_t l = t; l-- > 1;) {
        if (name[l] == '_' && l + 1 < len) {
            *type = str_from(name, l);
            *num = 0;
            *prop = str_from(name + l + 1, len - l - 1);
            return true;
        }
    }
    return false;
}

static bool coll_hwmon_known_type(str_t type)
{
    for (size_t i = 0; i < sizeof(coll_hwmon_types) / sizeof(coll_hwmon_types[0]); i++) {
        if (str_eq_cstr(type, coll_hwmon_types[i])) {
            return true;
        }
    }
    return false;
}

/* One read(2) of at most 128 bytes, as node_exporter's sysReadFile. */
static ssize_t coll_hwmon_read_value(const char *path, char *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    ssize_t n = read(fd, out, COLL_HWMON_VALUE_MAX);
    close(fd);
    return n;
}

static uint32_t coll_hwmon_put(buf_t *b, const char *p, size_t n)
{
    uint32_t off = (uint32_t)b->len;
    buf_append(b, p, n);
    return off;
}

/* Read the sensor files of dir into the chip's values. 0, or -errno when
 * dir cannot be listed. */
static int coll_hwmon_collect_dir(coll_hwmon_state_t *st, const char *dir)
{
    int rc = coll_hwmon_list(dir, &st->files);
    if (rc != 0) {
        return rc;
    }
    for (size_t i = 0; i < st->files.n; i++) {
        const char *fname = st->files.sorted[i];
        str_t type, prop;
        int64_t num = 0;
        if (!coll_hwmon_explode(fname, &type, &num, &prop) || !coll_hwmon_known_type(type)) {
            continue;
        }
        char path[PATH_MAX], val[COLL_HWMON_VALUE_MAX];
        int pl = snprintf(path, sizeof(path), "%s/%s", dir, fname);
        ssize_t n = pl > 0 && (size_t)pl < sizeof(path) ? coll_hwmon_read_value(path, val) : -1;
        if (n < 0) {
            continue;
        }
        str_t v = str_from(val, (size_t)n);
        while (v.len > 0 && v.p[0] == '\n') {
            v = str_from(v.p + 1, v.len - 1);
        }
        while (v.len > 0 && v.p[v.len - 1] == '\n') {
            v.len--;
        }
        char key[96];
        int kl = snprintf(key, sizeof(key), "%.*s%lld", (int)type.len, type.p, (long long)num);
        if (st->nvals == st->cap_vals) {
            st->cap_vals = st->cap_vals ? st->cap_vals * 2 : 64;
            st->vals = mem_realloc(st->vals, st->cap_vals * sizeof(*st->vals));
        }
        coll_hwmon_value_t *x = &st->vals[st->nvals];
        x->seq = (uint32_t)st->nvals++;
        x->type_len = (uint32_t)type.len;
        x->key_len = (uint32_t)kl;
        x->key_off = coll_hwmon_put(&st->strs, key, (size_t)kl);
        x->prop_len = (uint32_t)prop.len;
        x->prop_off = coll_hwmon_put(&st->strs, prop.p, prop.len);
        x->val_len = (uint32_t)v.len;
        x->val_off = coll_hwmon_put(&st->strs, v.p, v.len);
    }
    return 0;
}

static str_t coll_hwmon_str(const coll_hwmon_state_t *st, uint32_t off, uint32_t len)
{
    return str_from((const char *)st->strs.data + off, len);
}

/* Go's strconv.ParseFloat, including its '_' digit separators. */
static bool coll_hwmon_parse_float(str_t s, double *out)
{
    if (memchr(s.p, '_', s.len) == NULL) {
        return str_parse_double(s, out);
    }
    char buf[COLL_HWMON_VALUE_MAX];
    size_t n = 0, i = 0;
    char saw = '^';
    if (s.len > 0 && (s.p[0] == '+' || s.p[0] == '-')) {
        buf[n++] = s.p[i++];
    }
    bool hex = s.len >= i + 2 && s.p[i] == '0' && (s.p[i + 1] | 0x20) == 'x';
    bool prefix =
        hex || (s.len >= i + 2 && s.p[i] == '0' && ((s.p[i + 1] | 0x20) == 'b' || (s.p[i + 1] | 0x20) == 'o'));
    if (prefix) {
        buf[n++] = s.p[i++];
        buf[n++] = s.p[i++];
        saw = '0';
    }
    for (; i < s.len && n < sizeof(buf); i++) {
        char ch = s.p[i], lo = (char)(ch | 0x20);
        if ((ch >= '0' && ch <= '9') || (hex && lo >= 'a' && lo <= 'f')) {
            saw = '0';
        } else if (ch == '_') {
            if (saw != '0') {
                return false;
            }
            saw = '_';
            continue;
        } else if (saw == '_') {
            return false;
        } else {
            saw = '!';
        }
        buf[n++] = ch;
    }
    return saw != '_' && str_parse_double(str_from(buf, n), out);
}

/* Go's strings.ToValidUTF8(s, "\uFFFD") into out (room for 3 * s.len). */
static str_t coll_hwmon_valid_utf8(str_t s, char *out)
{
    size_t n = 0;
    bool in_bad = false;
    for (size_t i = 0; i < s.len;) {
        unsigned char c = (unsigned char)s.p[i];
        size_t w = c < 0x80                 ? 1
                   : c >= 0xC2 && c <= 0xDF ? 2
                   : c >= 0xE0 && c <= 0xEF ? 3
                   : c >= 0xF0 && c <= 0xF4 ? 4
                                            : 0;
        if (w > 0 && i + w <= s.len && str_utf8_valid(s.p + i, w)) {
            memcpy(out + n, s.p + i, w);
            n += w;
            i += w;
            in_bad = false;
            continue;
        }
        if (!in_bad) {
            memcpy(out + n, "\xEF\xBF\xBD", 3);
            n += 3;
        }
        in_bad = true;
        i++;
    }
    return str_from(out, n);
}

/* True when family fam already has a sample with exactly these labels.
 * O(samples in the sink); only asked for chips whose name repeats. */
static bool coll_hwmon_exists(const msink_t *s, uint32_t fam, const label_t *ls, size_t n)
{
    for (size_t i = 0; i < s->nsamples; i++) {
        const msink_sample_t *x = &s->samples[i];
        label_t have[4];
        if (x->family != fam || x->nlabels != n || msink_sample_labels(s, x, have, 4) != n) {
            continue;
        }
        bool same = true;
        for (size_t k = 0; k < n && same; k++) {
            same = str_eq(have[k].name, ls[k].name) && str_eq(have[k].value, ls[k].value);
        }
        if (same) {
            return true;
        }
    }
    return false;
}

/* Add one sample unless client_golang would drop it: a family that
 * already has another HELP or type ("in3" gives "voltage ()", "in0_input"
 * "voltage (input)"), or a series already collected (two chips of one
 * name). The first wins, here in chip, sensor and property order. */
static void coll_hwmon_add_labels(const coll_hwmon_chip_t *ch, const char *name, const char *help, metric_type_t type,
                                  double v, const label_t *ls, size_t n)
{
    uint32_t fam = msink_family_c(ch->s, name, help, type);
    const msink_family_t *f = &ch->s->families[fam];
    if (f->type != type || !str_eq_cstr(msink_str(ch->s, f->help_off, f->help_len), help) ||
        (ch->dup && coll_hwmon_exists(ch->s, fam, ls, n))) {
        return;
    }
    msink_add_full(ch->s, fam, (str_t){ NULL, 0 }, ls, n, v, MSINK_NO_TS);
}

static void coll_hwmon_add(const coll_hwmon_chip_t *ch, const char *name, const char *help, metric_type_t type,
                           double v, str_t sensor)
{
    label_t ls[] = { { STR_LIT("chip"), ch->name }, { STR_LIT("sensor"), sensor } };
    coll_hwmon_add_labels(ch, name, help, type, v, ls, 2);
}

typedef struct coll_hwmon_sensor {
    str_t key, type;
    const coll_hwmon_value_t *vals; /* its values, one per property */
    size_t n;
    bool has_bare; /* a value with the empty property */
} coll_hwmon_sensor_t;

/* The value of property prop, or NULL. */
static const coll_hwmon_value_t *coll_hwmon_prop(const coll_hwmon_state_t *st, const coll_hwmon_sensor_t *sn,
                                                 const char *prop)
{
    for (size_t i = 0; i < sn->n; i++) {
        if (str_eq_cstr(coll_hwmon_str(st, sn->vals[i].prop_off, sn->vals[i].prop_len), prop)) {
            return &sn->vals[i];
        }
    }
    return NULL;
}

/* Name suffix, HELP and scale of one element of a sensor of type t, as
 * node_exporter picks them. name holds the base name and is extended. */
static void coll_hwmon_element_unit(str_t t, str_t elem, char *name, size_t ncap, char *help, size_t hcap, double *mul,
                                    double *div, metric_type_t *mt)
{
    int el = (int)elem.len;
    *mul = 1;
    *div = 1;
    *mt = METRIC_GAUGE;
    size_t nl = strlen(name);
    const char *suffix = "";
    if (str_eq_cstr(elem, "fault") || str_eq_cstr(elem, "alarm")) {
        snprintf(help, hcap, "Hardware sensor %.*s status (%.*s)", el, elem.p, (int)t.len, t.p);
    } else if (str_eq_cstr(elem, "beep")) {
        suffix = "_enabled";
        snprintf(help, hcap, "Hardware monitor sensor has beeping enabled");
    } else if (str_eq_cstr(t, "in") || str_eq_cstr(t, "cpu")) {
        suffix = "_volts";
        *mul = 0.001;
        snprintf(help, hcap, "Hardware monitor for voltage (%.*s)", el, elem.p);
    } else if (str_eq_cstr(t, "temp") && !str_eq_cstr(elem, "type")) {
        suffix = "_celsius";
        *mul = 0.001;
        snprintf(help, hcap, "Hardware monitor for temperature (%.*s)", elem.len ? el : 5, elem.len ? elem.p : "input");
    } else if (str_eq_cstr(t, "curr")) {
        suffix = "_amps";
        *mul = 0.001;
        snprintf(help, hcap, "Hardware monitor for current (%.*s)", el, elem.p);
    } else if (str_eq_cstr(t, "energy")) {
        suffix = "_joule_total";
        *div = 1000000.0;
        *mt = METRIC_COUNTER;
        snprintf(help, hcap, "Hardware monitor for joules used so far (%.*s)", el, elem.p);
    } else if (str_eq_cstr(t, "power") && str_eq_cstr(elem, "accuracy")) {
        *div = 1000000.0;
        snprintf(help, hcap, "Hardware monitor power meter accuracy, as a ratio");
    } else if (str_eq_cstr(t, "power") &&
               (str_eq_cstr(elem, "average_interval") || str_eq_cstr(elem, "average_interval_min") ||
                str_eq_cstr(elem, "average_interval_max"))) {
        suffix = "_seconds";
        *mul = 0.001;
        snprintf(help, hcap, "Hardware monitor power usage update interval (%.*s)", el, elem.p);
    } else if (str_eq_cstr(t, "power")) {
        suffix = "_watt";
        *div = 1000000.0;
        snprintf(help, hcap, "Hardware monitor for power usage in watts (%.*s)", el, elem.p);
    } else if (str_eq_cstr(t, "humidity")) {
        *div = 1000000.0;
        snprintf(help, hcap,
                 "Hardware monitor for humidity, as a ratio (multiply with 100.0 to get the humidity as a "
                 "percentage) (%.*s)",
                 el, elem.p);
    } else if (str_eq_cstr(t, "fan") && (str_eq_cstr(elem, "input") || str_eq_cstr(elem, "min") ||
                                         str_eq_cstr(elem, "max") || str_eq_cstr(elem, "target"))) {
        suffix = "_rpm";
        snprintf(help, hcap, "Hardware monitor for fan revolutions per minute (%.*s)", el, elem.p);
    } else {
        snprintf(help, hcap, "Hardware monitor %.*s element %.*s", (int)t.len, t.p, el, elem.p);
    }
    snprintf(name + nl, ncap - nl, "%s", suffix);
}

/* The samples of one generic element (not label) of sensor sn. */
static void coll_hwmon_emit_element(const coll_hwmon_chip_t *ch, const coll_hwmon_sensor_t *sn,
                                    const coll_hwmon_value_t *x)
{
    const coll_hwmon_state_t *st = ch->st;
    str_t elem = coll_hwmon_str(st, x->prop_off, x->prop_len);
    double v = 0;
    if (!coll_hwmon_parse_float(coll_hwmon_str(st, x->val_off, x->val_len), &v)) {
        return;
    }
    char name[512], help[768], clean[320];
    int nl = snprintf(name, sizeof(name), "node_hwmon_%.*s", (int)sn->type.len, sn->type.p);
    if (str_eq_cstr(elem, "input")) {
        if (sn->has_bare) {
            snprintf(name + nl, sizeof(name) - (size_t)nl, "_input");
        }
    } else if (elem.len > 0) {
        coll_hwmon_clean(elem, clean, sizeof(clean));
        snprintf(name + nl, sizeof(name) - (size_t)nl, "_%s", clean);
    }
    double mul = 1, div = 1;
    metric_type_t mt = METRIC_GAUGE;
    coll_hwmon_element_unit(sn->type, elem, name, sizeof(name), help, sizeof(help), &mul, &div, &mt);
    if (div != 1) {
        v /= div;
    } else if (mul != 1) {
        v *= mul;
    }
    coll_hwmon_add(ch, name, help, mt, v, sn->key);
}

/* Every sample of one sensor. */
static void coll_hwmon_emit_sensor(const coll_hwmon_chip_t *ch, const coll_hwmon_sensor_t *sn)
{
    const coll_hwmon_state_t *st = ch->st;
    const coll_hwmon_value_t *label = coll_hwmon_prop(st, sn, "label");
    if (label != NULL) {
        char fixed[3 * COLL_HWMON_VALUE_MAX];
        label_t ls[] = { { STR_LIT("chip"), ch->name },
                         { STR_LIT("sensor"), sn->key },
                         { STR_LIT("label"),
                           coll_hwmon_valid_utf8(coll_hwmon_str(st, label->val_off, label->val_len), fixed) } };
        coll_hwmon_add_labels(ch, "node_hwmon_sensor_label", "Label for given chip and sensor", METRIC_GAUGE, 1, ls, 3);
    }
    const coll_hwmon_value_t *bare = coll_hwmon_prop(st, sn, "");
    str_t bv = bare ? coll_hwmon_str(st, bare->val_off, bare->val_len) : STR_LIT("");
    double v = 0;
    if (str_eq_cstr(sn->type, "beep_enable")) {
        coll_hwmon_add(ch, "node_hwmon_beep_enabled", "Hardware beep enabled", METRIC_GAUGE,
                       str_eq_cstr(bv, "1") ? 1 : 0, sn->key);
        return;
    }
    if (str_eq_cstr(sn->type, "vrm")) {
        if (coll_hwmon_parse_float(bv, &v)) {
            coll_hwmon_add(ch, "node_hwmon_voltage_regulator_version", "Hardware voltage regulator", METRIC_GAUGE, v,
                           sn->key);
        }
        return;
    }
    if (str_eq_cstr(sn->type, "update_interval")) {
        if (coll_hwmon_parse_float(bv, &v)) {
            coll_hwmon_add(ch, "node_hwmon_update_interval_seconds", "Hardware monitor update interval", METRIC_GAUGE,
                           v * 0.001, sn->key);
        }
        return;
    }
    for (size_t i = 0; i < sn->n; i++) {
        if (&sn->vals[i] != label) {
            coll_hwmon_emit_element(ch, sn, &sn->vals[i]);
        }
    }
}

static int coll_hwmon_cmp_values(const coll_hwmon_state_t *st, const coll_hwmon_value_t *x, const coll_hwmon_value_t *y)
{
    int c = str_cmp(coll_hwmon_str(st, x->key_off, x->key_len), coll_hwmon_str(st, y->key_off, y->key_len));
    if (c == 0) {
        c = str_cmp(coll_hwmon_str(st, x->prop_off, x->prop_len), coll_hwmon_str(st, y->prop_off, y->prop_len));
    }
    return c;
}

/* Sort the chip's values by (key, property), stably, and keep the last
 * read of each pair (device/ read after the chip directory wins, as in
 * node_exporter's map). Insertion sort: a chip has at most a few hundred
 * files. */
static void coll_hwmon_sort_values(coll_hwmon_state_t *st)
{
    for (size_t i = 1; i < st->nvals; i++) {
        coll_hwmon_value_t k = st->vals[i];
        size_t j = i;
        while (j > 0 && coll_hwmon_cmp_values(st, &st->vals[j - 1], &k) > 0) {
            st->vals[j] = st->vals[j - 1];
            j--;
        }
        st->vals[j] = k;
    }
    size_t o = 0;
    for (size_t i = 0; i < st->nvals; i++) {
        if (o > 0 && coll_hwmon_cmp_values(st, &st->vals[o - 1], &st->vals[i]) == 0) {
            st->vals[o - 1] = st->vals[i];
        } else {
            st->vals[o++] = st->vals[i];
        }
    }
    st->nvals = o;
}

static void coll_hwmon_emit_chip(const coll_hwmon_chip_t *ch)
{
    const coll_hwmon_state_t *st = ch->st;
    for (size_t i = 0; i < st->nvals;) {
        const coll_hwmon_value_t *x = &st->vals[i];
        coll_hwmon_sensor_t sn = {
            .key = coll_hwmon_str(st, x->key_off, x->key_len),
            .type = coll_hwmon_str(st, x->key_off, x->type_len),
            .vals = x,
        };
        while (i < st->nvals && str_eq(coll_hwmon_str(st, st->vals[i].key_off, st->vals[i].key_len), sn.key)) {
            sn.has_bare = sn.has_bare || st->vals[i].prop_len == 0;
            sn.n++;
            i++;
        }
        coll_hwmon_emit_sensor(ch, &sn);
    }
}

/* The last element of path, and the one before it (Go's filepath.Split
 * twice). */
static void coll_hwmon_last2(const char *path, str_t *dir, str_t *base)
{
    size_t len = strlen(path), b = len;
    while (b > 0 && path[b - 1] != '/') {
        b--;
    }
    *base = str_from(path + b, len - b);
    size_t e = b;
    while (e > 0 && path[e - 1] == '/') {
        e--;
    }
    size_t d = e;
    while (d > 0 && path[d - 1] != '/') {
        d--;
    }
    *dir = str_from(path + d, e - d);
}

/* The chip's name file, cleaned, into out; 0 when absent or empty. */
static size_t coll_hwmon_name_file(coll_hwmon_state_t *st, const char *dir, char *out, size_t cap)
{
    if (coll_read_file(dir, "/name", &st->file, COLL_HWMON_NAME_MAX) != 0 || st->file.len == 0) {
        return 0;
    }
    return coll_hwmon_clean(str_from((const char *)st->file.data, st->file.len), out, cap);
}

/* node_exporter's hwmonName: "<bus>_<device>" of the resolved device
 * link, else the name file, else the resolved directory's name. 0, or
 * -1 when none gives a name. */
static int coll_hwmon_chip_name(coll_hwmon_state_t *st, const char *dir, char *out, size_t cap)
{
    char path[PATH_MAX], real[PATH_MAX];
    int pl = snprintf(path, sizeof(path), "%s/device", dir);
    str_t bus, dev;
    if (pl > 0 && (size_t)pl < sizeof(path) && realpath(path, real) != NULL) {
        coll_hwmon_last2(real, &bus, &dev);
        char cb[256], cd[256];
        size_t nb = coll_hwmon_clean(bus, cb, sizeof(cb));
        size_t nd = coll_hwmon_clean(dev, cd, sizeof(cd));
        int ol = nd > 0 ? snprintf(out, cap, "%s%s%s", nb > 0 ? cb : "", nb > 0 ? "_" : "", cd) : -1;
        if (ol > 0 && (size_t)ol < cap) {
            return 0;
        }
    }
    if (coll_hwmon_name_file(st, dir, out, cap) > 0) {
        return 0;
    }
    if (realpath(dir, real) == NULL) {
        return -1;
    }
    coll_hwmon_last2(real, &bus, &dev);
    return coll_hwmon_clean(dev, out, cap) > 0 ? 0 : -1;
}

/* True when an earlier chip of this collection had this name; else
 * remembers it. */
static bool coll_hwmon_seen(coll_hwmon_state_t *st, const char *name)
{
    size_t nl = strlen(name);
    for (size_t off = 0; off < st->seen_names.len;) {
        const char *p = (const char *)st->seen_names.data + off;
        size_t l = strlen(p);
        if (l == nl && memcmp(p, name, nl) == 0) {
            return true;
        }
        off += l + 1;
    }
    buf_append(&st->seen_names, name, nl + 1);
    return false;
}

/* One chip: its values, then its samples. 0, or -1 with a reason. */
static int coll_hwmon_update_chip(coll_hwmon_state_t *st, msink_t *s, const char *dir, char *err, size_t errlen)
{
    char name[256];
    if (coll_hwmon_chip_name(st, dir, name, sizeof(name)) != 0) {
        snprintf(err, errlen, "%s: cannot derive a chip name", dir);
        return -1;
    }
    buf_reset(&st->strs);
    st->nvals = 0;
    int rc = coll_hwmon_collect_dir(st, dir);
    char devdir[PATH_MAX + 16];
    struct stat sb;
    int dl = snprintf(devdir, sizeof(devdir), "%s/device", dir);
    if (rc == 0 && dl > 0 && (size_t)dl < sizeof(devdir) && stat(devdir, &sb) == 0) {
        rc = coll_hwmon_collect_dir(st, devdir);
    }
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", dir, strerror(-rc));
        return -1;
    }
    coll_hwmon_chip_t ch = { .st = st, .s = s, .name = str_cstr(name), .dup = coll_hwmon_seen(st, name) };
    char chip_name[256];
    if (coll_hwmon_name_file(st, dir, chip_name, sizeof(chip_name)) > 0) {
        label_t ls[] = { { STR_LIT("chip"), ch.name }, { STR_LIT("chip_name"), str_cstr(chip_name) } };
        coll_hwmon_add_labels(&ch, "node_hwmon_chip_names", "Annotation metric for human-readable chip names",
                              METRIC_GAUGE, 1, ls, 2);
    }
    coll_hwmon_sort_values(st);
    coll_hwmon_emit_chip(&ch);
    return 0;
}

static int coll_hwmon_collect(coll_ctx_t *c, msink_t *s, char *err, size_t errlen)
{
    coll_hwmon_state_t *st = c->state;
    char root[PATH_MAX];
    snprintf(root, sizeof(root), "%s/class/hwmon", c->paths->sysfs);
    buf_reset(&st->seen_names);
    int rc = coll_hwmon_list(root, &st->chips);
    if (rc != 0) {
        snprintf(err, errlen, "/sys/class/hwmon: %s", rc == -ENOENT ? "no data (absent)" : strerror(-rc));
        return -1;
    }
    /* node_exporter's one error variable: set by a failing chip, and by
     * every stat of a chip link, failing or not. */
    bool failed = false;
    for (size_t i = 0; i < st->chips.n; i++) {
        char dir[PATH_MAX];
        int pl = snprintf(dir, sizeof(dir), "%s/%s", root, st->chips.sorted[i]);
        struct stat sb;
        if (pl < 0 || (size_t)pl >= sizeof(dir) || lstat(dir, &sb) != 0) {
            continue;
        }
        if (S_ISLNK(sb.st_mode)) {
            failed = stat(dir, &sb) != 0;
            if (failed) {
                snprintf(err, errlen, "/sys/class/hwmon/%s: %s", st->chips.sorted[i], strerror(errno));
                continue;
            }
        }
        if (!S_ISDIR(sb.st_mode)) {
            continue;
        }
        if (coll_hwmon_update_chip(st, s, dir, err, errlen) != 0) {
            failed = true;
        }
    }
    return failed ? -1 : 0;
}

const coll_def_t coll_hwmon_def = {
    .name = "hwmon",
    .init = coll_hwmon_init,
    .fini = coll_hwmon_fini,
    .collect = coll_hwmon_collect,
};

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_tmpl_notify: notification templates as Alertmanager renders them
 * for receivers (template/template.go): `.` is its template.Data built from
 * an alerts_notification_t, with Alertmanager's function table, and the
 * default templates (alerts_tmpl_defaults.c) always defined beneath the
 * user's text, so `{{ template "slack.default.title" . }}` works and a
 * user's {{define}} replaces a default everywhere (Go's one namespace).
 * alerts_tmpl_notify_html is the HTML variant (action output escaped).
 *
 * Core idea: the notification is never copied into Go-like structs; values
 * point into it (tmpl_val_t kinds NDATA, ALERTS, ALERT, KV, PAIRS, PAIR,
 * STRINGS, GOTIME) and a member table gives each kind Go's fields and
 * methods (Data.Alerts, Alerts.Firing, KV.SortedPairs / Names / Values /
 * Remove, Pairs.Names / Values, Alert.StartsAt, time.Time.Format, ...),
 * which the executor calls as Go's evalField would. Only derived values
 * (Firing subsets, sorted pairs, Remove results) are built, in the
 * execution arena.
 *
 * Invariants: KV values borrow label sets in any order (lookups scan;
 * SortedPairs, printing and range sort); SortedPairs puts alertname
 * first, as Alertmanager does; times are UTC (tz accepts only
 * UTC/Local); `since` reads the notification's now_ms, never the clock.
 * Work: O(text) parse, bounded execution (step and output limits); the
 * defaults are parsed only when the text calls a template.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/alerts_int.h"
#include "common/mem.h"

#define NOTIFY_MAX_OUTPUT (1u << 20)

static str_t arena_str(arena_t *a, buf_t *b)
{
    str_t s = str_from(arena_strndup(a, b->data ? (char *)b->data : "", b->len), b->len);
    buf_fini(b);
    return s;
}

static tmpl_val_t string_val(str_t s)
{
    tmpl_val_t v = { .kind = TMPL_V_STRING, .s = s };
    return v;
}

static tmpl_val_t kv_val(const label_t *ls, size_t n)
{
    tmpl_val_t v = { .kind = TMPL_V_KV, .labels = ls, .nlabels = n };
    return v;
}

static const alerts_notification_t *ndata(const tmpl_val_t *v)
{
    return v->p;
}

static const alerts_notif_alert_t *nalert(const tmpl_val_t *v)
{
    return v->p;
}

static tmpl_val_t ms_time(int64_t ms)
{
    tmpl_val_t v = { .kind = TMPL_V_GOTIME };
    int64_t sec = ms / 1000, rem = ms % 1000;
    if (rem < 0) {
        sec--;
        rem += 1000;
    }
    v.i = sec;
    v.n = (size_t)(rem * 1000000);
    return v;
}

/* Append regexp.QuoteMeta(s), as Alertmanager applies it to .Receiver. */
static void quote_meta(const char *s, buf_t *b)
{
    for (; s != NULL && *s != '\0'; s++) {
        if (strchr("\\.+*?()|[]{}^$", *s) != NULL) {
            buf_putc(b, '\\');
        }
        buf_putc(b, (uint8_t)*s);
    }
}

static int label_ptr_cmp(const void *x, const void *y)
{
    const label_t *a = *(const label_t *const *)x, *b = *(const label_t *const *)y;
    return str_cmp(a->name, b->name);
}

void tmpl_kv_order(const label_t *ls, size_t n, bool alertname_first, const label_t **order)
{
    for (size_t i = 0; i < n; i++) {
        order[i] = &ls[i];
    }
    if (n > 1) {
        qsort(order, n, sizeof(*order), label_ptr_cmp);
    }
    for (size_t i = 0; alertname_first && i < n; i++) {
        if (str_eq_cstr(order[i]->name, "alertname")) {
            const label_t *an = order[i];
            memmove(order + 1, order, i * sizeof(*order));
            order[0] = an;
            break;
        }
    }
}

void tmpl_kv_join(const label_t *ls, size_t n, bool alertname_first, const char *sep, char kv, buf_t *out)
{
    if (n == 0) {
        return;
    }
    const label_t **order = mem_alloc(n * sizeof(*order));
    tmpl_kv_order(ls, n, alertname_first, order);
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            buf_puts(out, sep);
        }
        buf_append(out, order[i]->name.p, order[i]->name.len);
        buf_putc(out, (uint8_t)kv);
        buf_append(out, order[i]->value.p, order[i]->value.len);
    }
    mem_free(order);
}

/* ---- lists ---- */

size_t tmpl_list_len(const tmpl_val_t *v)
{
    switch (v->kind) {
    case TMPL_V_ALERTS:
    case TMPL_V_STRINGS:
        return v->n;
    case TMPL_V_PAIRS:
        return v->nlabels;
    default:
        return 0;
    }
}

tmpl_val_t tmpl_list_elem(const tmpl_val_t *v, size_t i)
{
    assert(i < tmpl_list_len(v));
    tmpl_val_t e = { 0 };
    switch (v->kind) {
    case TMPL_V_ALERTS:
        e.kind = TMPL_V_ALERT;
        e.p = ((const alerts_notif_alert_t *const *)v->p)[i];
        break;
    case TMPL_V_STRINGS:
        e = string_val(((const str_t *)v->p)[i]);
        break;
    case TMPL_V_PAIRS:
        e.kind = TMPL_V_PAIR;
        e.labels = &v->labels[i];
        e.nlabels = 1;
        break;
    default:
        break;
    }
    return e;
}

/* KV.SortedPairs: alertname first, the rest by name. O(n log n). */
static tmpl_val_t sorted_pairs(arena_t *a, const tmpl_val_t *kv)
{
    size_t n = kv->nlabels;
    const label_t **order = arena_alloc(a, (n + 1) * sizeof(*order));
    label_t *ps = arena_alloc(a, (n + 1) * sizeof(*ps));
    tmpl_kv_order(kv->labels, n, true, order);
    for (size_t i = 0; i < n; i++) {
        ps[i] = *order[i];
    }
    tmpl_val_t v = { .kind = TMPL_V_PAIRS, .labels = ps, .nlabels = n };
    return v;
}

static tmpl_val_t pair_strings(arena_t *a, const tmpl_val_t *pairs, bool values)
{
    str_t *ss = arena_alloc(a, (pairs->nlabels + 1) * sizeof(*ss));
    for (size_t i = 0; i < pairs->nlabels; i++) {
        ss[i] = values ? pairs->labels[i].value : pairs->labels[i].name;
    }
    tmpl_val_t v = { .kind = TMPL_V_STRINGS, .p = ss, .n = pairs->nlabels };
    return v;
}

/* Pairs.String / KV.String: "a=b, c=d". */
static void pairs_string(const tmpl_val_t *pairs, buf_t *out)
{
    for (size_t i = 0; i < pairs->nlabels; i++) {
        if (i > 0) {
            buf_puts(out, ", ");
        }
        buf_append(out, pairs->labels[i].name.p, pairs->labels[i].name.len);
        buf_putc(out, '=');
        buf_append(out, pairs->labels[i].value.p, pairs->labels[i].value.len);
    }
}

static tmpl_val_t alerts_subset(arena_t *a, const tmpl_val_t *as, bool firing)
{
    const alerts_notif_alert_t *const *src = as->p;
    const alerts_notif_alert_t **dst = arena_alloc(a, (as->n + 1) * sizeof(*dst));
    size_t k = 0;
    for (size_t i = 0; i < as->n; i++) {
        if (src[i]->firing == firing) {
            dst[k++] = src[i];
        }
    }
    tmpl_val_t v = { .kind = TMPL_V_ALERTS, .b = true, .p = dst, .n = k };
    return v;
}

/* ---- members ---- */

#define MEMBER(fn)                                                                                                     \
    static int fn(const tmpl_fctx_t *c, const tmpl_val_t *r, const tmpl_val_t *a, tmpl_val_t *res, buf_t *err)

MEMBER(m_receiver)
{
    (void)a, (void)err;
    buf_t b = { 0 };
    quote_meta(ndata(r)->receiver, &b);
    *res = string_val(arena_str(c->arena, &b));
    return 0;
}

MEMBER(m_status)
{
    (void)c, (void)a, (void)err;
    const char *st = r->kind == TMPL_V_NDATA ? ndata(r)->status : nalert(r)->firing ? "firing" : "resolved";
    *res = string_val(str_cstr(st));
    return 0;
}

MEMBER(m_alerts)
{
    (void)a, (void)err;
    const alerts_notification_t *n = ndata(r);
    const alerts_notif_alert_t **as = arena_alloc(c->arena, (n->nalerts + 1) * sizeof(*as));
    for (size_t i = 0; i < n->nalerts; i++) {
        as[i] = &n->alerts[i];
    }
    tmpl_val_t v = { .kind = TMPL_V_ALERTS, .p = as, .n = n->nalerts };
    *res = v;
    return 0;
}

MEMBER(m_group_labels)
{
    (void)c, (void)a, (void)err;
    *res = kv_val(ndata(r)->group_labels, ndata(r)->ngroup_labels);
    return 0;
}

MEMBER(m_common_labels)
{
    (void)c, (void)a, (void)err;
    *res = kv_val(ndata(r)->common_labels, ndata(r)->ncommon_labels);
    return 0;
}

MEMBER(m_common_annotations)
{
    (void)c, (void)a, (void)err;
    *res = kv_val(ndata(r)->common_annotations, ndata(r)->ncommon_annotations);
    return 0;
}

MEMBER(m_external_url)
{
    (void)c, (void)a, (void)err;
    *res = string_val(str_cstr(ndata(r)->external_url));
    return 0;
}

MEMBER(m_firing)
{
    (void)a, (void)err;
    *res = alerts_subset(c->arena, r, true);
    return 0;
}

MEMBER(m_resolved)
{
    (void)a, (void)err;
    *res = alerts_subset(c->arena, r, false);
    return 0;
}

MEMBER(m_labels)
{
    (void)c, (void)a, (void)err;
    *res = kv_val(nalert(r)->labels, nalert(r)->nlabels);
    return 0;
}

MEMBER(m_annotations)
{
    (void)c, (void)a, (void)err;
    *res = kv_val(nalert(r)->annotations, nalert(r)->nannotations);
    return 0;
}

MEMBER(m_starts_at)
{
    (void)c, (void)a, (void)err;
    *res = ms_time(nalert(r)->starts_at_ms);
    return 0;
}

MEMBER(m_ends_at)
{
    (void)c, (void)a, (void)err;
    int64_t ms = nalert(r)->ends_at_ms;
    if (ms == 0) {
        tmpl_val_t z = { .kind = TMPL_V_GOTIME, .i = TMPL_ZERO_TIME };
        *res = z;
    } else {
        *res = ms_time(ms);
    }
    return 0;
}

MEMBER(m_generator_url)
{
    (void)c, (void)a, (void)err;
    *res = string_val(str_cstr(nalert(r)->generator_url));
    return 0;
}

MEMBER(m_fingerprint)
{
    (void)a, (void)err;
    buf_t b = { 0 };
    buf_printf(&b, "%016llx", (unsigned long long)nalert(r)->fingerprint);
    *res = string_val(arena_str(c->arena, &b));
    return 0;
}

MEMBER(m_sorted_pairs)
{
    (void)a, (void)err;
    *res = sorted_pairs(c->arena, r);
    return 0;
}

MEMBER(m_names)
{
    (void)a, (void)err;
    tmpl_val_t ps = r->kind == TMPL_V_KV ? sorted_pairs(c->arena, r) : *r;
    *res = pair_strings(c->arena, &ps, false);
    return 0;
}

MEMBER(m_values)
{
    (void)a, (void)err;
    tmpl_val_t ps = r->kind == TMPL_V_KV ? sorted_pairs(c->arena, r) : *r;
    *res = pair_strings(c->arena, &ps, true);
    return 0;
}

MEMBER(m_remove)
{
    (void)err;
    const str_t *keys = a[0].p;
    label_t *ls = arena_alloc(c->arena, (r->nlabels + 1) * sizeof(*ls));
    size_t k = 0;
    for (size_t i = 0; i < r->nlabels; i++) {
        bool drop = false;
        for (size_t j = 0; j < a[0].n && !drop; j++) {
            drop = str_eq(r->labels[i].name, keys[j]);
        }
        if (!drop) {
            ls[k++] = r->labels[i];
        }
    }
    *res = kv_val(ls, k);
    return 0;
}

MEMBER(m_string)
{
    (void)a, (void)err;
    buf_t b = { 0 };
    if (r->kind == TMPL_V_GOTIME) {
        tmpl_fmt_time_sn(r->i, (int64_t)r->n, &b);
    } else {
        tmpl_val_t ps = r->kind == TMPL_V_KV ? sorted_pairs(c->arena, r) : *r;
        pairs_string(&ps, &b);
    }
    *res = string_val(arena_str(c->arena, &b));
    return 0;
}

MEMBER(m_pair_name)
{
    (void)c, (void)a, (void)err;
    *res = string_val(r->labels[0].name);
    return 0;
}

MEMBER(m_pair_value)
{
    (void)c, (void)a, (void)err;
    *res = string_val(r->labels[0].value);
    return 0;
}

MEMBER(m_format)
{
    (void)err;
    buf_t b = { 0 };
    tmpl_fmt_layout(r->i, (int64_t)r->n, a[0].s, &b);
    *res = string_val(arena_str(c->arena, &b));
    return 0;
}

MEMBER(m_unix)
{
    (void)c, (void)a, (void)err;
    tmpl_val_t v = { .kind = TMPL_V_INT, .i = r->i };
    *res = v;
    return 0;
}

MEMBER(m_unix_milli)
{
    (void)c, (void)a, (void)err;
    tmpl_val_t v = { .kind = TMPL_V_INT, .i = r->i * 1000 + (int64_t)r->n / 1000000 };
    *res = v;
    return 0;
}

MEMBER(m_utc)
{
    (void)c, (void)a, (void)err;
    *res = *r;
    return 0;
}

/* The calendar getters: Year, Month, Day, Hour, Minute, Second, YearDay,
 * Weekday (Month and Weekday print their names, as Go's types do). */
static int time_field(const tmpl_val_t *r, int which, tmpl_val_t *res)
{
    tmpl_civil_t cv = tmpl_civil(r->i);
    int64_t f[] = { cv.year, cv.month, cv.day, cv.hour, cv.min, cv.sec, cv.yday, cv.wday };
    tmpl_val_t v = { .kind = TMPL_V_INT, .i = f[which] };
    if (which == 1) {
        v.s = str_cstr(tmpl_month_names[cv.month - 1]);
    } else if (which == 7) {
        v.s = str_cstr(tmpl_day_names[cv.wday]);
    }
    *res = v;
    return 0;
}

#define TIME_GETTER(fn, which)                                                                                         \
    MEMBER(fn)                                                                                                         \
    {                                                                                                                  \
        (void)c, (void)a, (void)err;                                                                                   \
        return time_field(r, which, res);                                                                              \
    }
TIME_GETTER(m_year, 0)
TIME_GETTER(m_month, 1)
TIME_GETTER(m_day, 2)
TIME_GETTER(m_hour, 3)
TIME_GETTER(m_minute, 4)
TIME_GETTER(m_second, 5)
TIME_GETTER(m_year_day, 6)
TIME_GETTER(m_weekday, 7)

MEMBER(m_nanosecond)
{
    (void)c, (void)a, (void)err;
    tmpl_val_t v = { .kind = TMPL_V_INT, .i = (int64_t)r->n };
    *res = v;
    return 0;
}

/* UnixMicro, UnixNano (wrapping as Go's int64 arithmetic does) */
MEMBER(m_unix_micro)
{
    (void)c, (void)a, (void)err;
    tmpl_val_t v = { .kind = TMPL_V_INT, .i = (int64_t)((uint64_t)r->i * 1000000u + r->n / 1000) };
    *res = v;
    return 0;
}

MEMBER(m_unix_nano)
{
    (void)c, (void)a, (void)err;
    tmpl_val_t v = { .kind = TMPL_V_INT, .i = (int64_t)((uint64_t)r->i * 1000000000u + r->n) };
    *res = v;
    return 0;
}

MEMBER(m_is_zero)
{
    (void)c, (void)a, (void)err;
    tmpl_val_t v = { .kind = TMPL_V_BOOL, .b = r->i == TMPL_ZERO_TIME && r->n == 0 };
    *res = v;
    return 0;
}

#define FIELD(k, nm, fn)                                                                                               \
    {                                                                                                                  \
        .recv = k, .name = nm, .is_field = true, .call = fn                                                            \
    }
#define METHOD0(k, nm, fn)                                                                                             \
    {                                                                                                                  \
        .recv = k, .name = nm, .call = fn                                                                              \
    }
#define METHOD1(k, nm, pt, fn)                                                                                         \
    {                                                                                                                  \
        .recv = k, .name = nm, .nparams = 1, .params = { pt }, .call = fn                                              \
    }

static const tmpl_member_t members[] = {
    FIELD(TMPL_V_NDATA, "Receiver", m_receiver),
    FIELD(TMPL_V_NDATA, "Status", m_status),
    FIELD(TMPL_V_NDATA, "Alerts", m_alerts),
    FIELD(TMPL_V_NDATA, "GroupLabels", m_group_labels),
    FIELD(TMPL_V_NDATA, "CommonLabels", m_common_labels),
    FIELD(TMPL_V_NDATA, "CommonAnnotations", m_common_annotations),
    FIELD(TMPL_V_NDATA, "ExternalURL", m_external_url),
    METHOD0(TMPL_V_ALERTS, "Firing", m_firing),
    METHOD0(TMPL_V_ALERTS, "Resolved", m_resolved),
    FIELD(TMPL_V_ALERT, "Status", m_status),
    FIELD(TMPL_V_ALERT, "Labels", m_labels),
    FIELD(TMPL_V_ALERT, "Annotations", m_annotations),
    FIELD(TMPL_V_ALERT, "StartsAt", m_starts_at),
    FIELD(TMPL_V_ALERT, "EndsAt", m_ends_at),
    FIELD(TMPL_V_ALERT, "GeneratorURL", m_generator_url),
    FIELD(TMPL_V_ALERT, "Fingerprint", m_fingerprint),
    METHOD0(TMPL_V_KV, "SortedPairs", m_sorted_pairs),
    METHOD0(TMPL_V_KV, "Names", m_names),
    METHOD0(TMPL_V_KV, "Values", m_values),
    METHOD1(TMPL_V_KV, "Remove", TMPL_P_STRINGS, m_remove),
    METHOD0(TMPL_V_KV, "String", m_string),
    METHOD0(TMPL_V_PAIRS, "Names", m_names),
    METHOD0(TMPL_V_PAIRS, "Values", m_values),
    METHOD0(TMPL_V_PAIRS, "String", m_string),
    FIELD(TMPL_V_PAIR, "Name", m_pair_name),
    FIELD(TMPL_V_PAIR, "Value", m_pair_value),
    METHOD1(TMPL_V_GOTIME, "Format", TMPL_P_STRING, m_format),
    METHOD0(TMPL_V_GOTIME, "Unix", m_unix),
    METHOD0(TMPL_V_GOTIME, "UnixMilli", m_unix_milli),
    METHOD0(TMPL_V_GOTIME, "UTC", m_utc),
    METHOD0(TMPL_V_GOTIME, "Local", m_utc), /* pharosd's zone is UTC */
    METHOD0(TMPL_V_GOTIME, "Year", m_year),
    METHOD0(TMPL_V_GOTIME, "Month", m_month),
    METHOD0(TMPL_V_GOTIME, "Day", m_day),
    METHOD0(TMPL_V_GOTIME, "Hour", m_hour),
    METHOD0(TMPL_V_GOTIME, "Minute", m_minute),
    METHOD0(TMPL_V_GOTIME, "Second", m_second),
    METHOD0(TMPL_V_GOTIME, "Nanosecond", m_nanosecond),
    METHOD0(TMPL_V_GOTIME, "YearDay", m_year_day),
    METHOD0(TMPL_V_GOTIME, "Weekday", m_weekday),
    METHOD0(TMPL_V_GOTIME, "UnixMicro", m_unix_micro),
    METHOD0(TMPL_V_GOTIME, "UnixNano", m_unix_nano),
    METHOD0(TMPL_V_GOTIME, "IsZero", m_is_zero),
    METHOD0(TMPL_V_GOTIME, "String", m_string),
};

const tmpl_member_t *tmpl_member_find(tmpl_vkind_t k, str_t name)
{
    for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
        if (members[i].recv == k && str_eq_cstr(name, members[i].name)) {
            return &members[i];
        }
    }
    return NULL;
}

/* ---- type names and printing ---- */

const char *tmpl_notify_type(const tmpl_val_t *v)
{
    switch (v->kind) {
    case TMPL_V_NDATA:
        return "*template.Data";
    case TMPL_V_ALERTS:
        return v->b ? "[]template.Alert" : "template.Alerts";
    case TMPL_V_ALERT:
        return "template.Alert";
    case TMPL_V_KV:
        return "template.KV";
    case TMPL_V_PAIRS:
        return "template.Pairs";
    case TMPL_V_PAIR:
        return "template.Pair";
    case TMPL_V_STRINGS:
        return "[]string";
    case TMPL_V_GOTIME:
        return "time.Time";
    default:
        return "?";
    }
}

/* KV.String(): SortedPairs joined as "a=b, c=d". */
static void kv_string(const label_t *ls, size_t n, buf_t *out)
{
    tmpl_kv_join(ls, n, true, ", ", '=', out);
}

static void alert_fprint(const alerts_notif_alert_t *al, buf_t *out)
{
    buf_puts(out, al->firing ? "{firing " : "{resolved ");
    kv_string(al->labels, al->nlabels, out);
    buf_putc(out, ' ');
    kv_string(al->annotations, al->nannotations, out);
    buf_putc(out, ' ');
    tmpl_val_t t = ms_time(al->starts_at_ms);
    tmpl_fmt_time_sn(t.i, (int64_t)t.n, out);
    buf_putc(out, ' ');
    if (al->ends_at_ms == 0) {
        tmpl_fmt_time_sn(TMPL_ZERO_TIME, 0, out);
    } else {
        t = ms_time(al->ends_at_ms);
        tmpl_fmt_time_sn(t.i, (int64_t)t.n, out);
    }
    buf_printf(out, " %s %016llx}", al->generator_url ? al->generator_url : "", (unsigned long long)al->fingerprint);
}

static void alerts_fprint(const alerts_notif_alert_t *const *as, size_t n, buf_t *out)
{
    buf_putc(out, '[');
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            buf_putc(out, ' ');
        }
        alert_fprint(as[i], out);
    }
    buf_putc(out, ']');
}

void tmpl_notify_fprint(const tmpl_val_t *v, bool top, buf_t *out)
{
    switch (v->kind) {
    case TMPL_V_NDATA: {
        const alerts_notification_t *n = v->p;
        if (n == NULL) {
            buf_puts(out, "<nil>");
            return;
        }
        buf_puts(out, top ? "&{" : "{");
        quote_meta(n->receiver, out);
        buf_printf(out, " %s [", n->status ? n->status : "");
        for (size_t i = 0; i < n->nalerts; i++) {
            if (i > 0) {
                buf_putc(out, ' ');
            }
            alert_fprint(&n->alerts[i], out);
        }
        buf_puts(out, "] ");
        kv_string(n->group_labels, n->ngroup_labels, out);
        buf_putc(out, ' ');
        kv_string(n->common_labels, n->ncommon_labels, out);
        buf_putc(out, ' ');
        kv_string(n->common_annotations, n->ncommon_annotations, out);
        buf_printf(out, " %s}", n->external_url ? n->external_url : "");
        return;
    }
    case TMPL_V_ALERTS:
        alerts_fprint(v->p, v->n, out);
        return;
    case TMPL_V_ALERT:
        alert_fprint(v->p, out);
        return;
    case TMPL_V_KV:
        kv_string(v->labels, v->nlabels, out);
        return;
    case TMPL_V_PAIRS:
        pairs_string(v, out);
        return;
    case TMPL_V_PAIR:
        buf_putc(out, '{');
        buf_append(out, v->labels[0].name.p, v->labels[0].name.len);
        buf_putc(out, ' ');
        buf_append(out, v->labels[0].value.p, v->labels[0].value.len);
        buf_putc(out, '}');
        return;
    case TMPL_V_STRINGS: {
        const str_t *ss = v->p;
        buf_putc(out, '[');
        for (size_t i = 0; i < v->n; i++) {
            if (i > 0) {
                buf_putc(out, ' ');
            }
            buf_append(out, ss[i].p, ss[i].len);
        }
        buf_putc(out, ']');
        return;
    }
    case TMPL_V_GOTIME:
        tmpl_fmt_time_sn(v->i, (int64_t)v->n, out);
        return;
    default:
        return;
    }
}

/* ---- Alertmanager's functions ---- */

static bool ascii_alnum(uint8_t ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* A rune of s at i: its value and width (1 for ASCII and bad bytes). */
static uint32_t rune_at(str_t s, size_t i, size_t *w)
{
    uint8_t c0 = (uint8_t)s.p[i];
    if (c0 >= 0xc2 && c0 < 0xe0 && i + 1 < s.len && ((uint8_t)s.p[i + 1] & 0xc0) == 0x80) {
        *w = 2;
        return ((uint32_t)(c0 & 0x1f) << 6) | ((uint8_t)s.p[i + 1] & 0x3f);
    }
    *w = 1;
    return c0;
}

static bool rune_cased(uint32_t r)
{
    return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') ||
           (r >= 0x80 && (tmpl_fold2(r, true) != r || tmpl_fold2(r, false) != r));
}

/* Part of a word (UAX #29, simplified): letters, digits, '_', any
 * non-ASCII byte, and '.', '\'' or ':' between two of those. */
static bool title_word(str_t s, size_t i)
{
    uint8_t ch = (uint8_t)s.p[i];
    if (ascii_alnum(ch) || ch == '_' || ch >= 0x80) {
        return true;
    }
    if ((ch == '.' || ch == '\'' || ch == ':') && i > 0 && i + 1 < s.len) {
        uint8_t p = (uint8_t)s.p[i - 1], n = (uint8_t)s.p[i + 1];
        return (ascii_alnum(p) || p >= 0x80) && (ascii_alnum(n) || n >= 0x80);
    }
    return false;
}

/* cases.Title(language.AmericanEnglish): in each word the first cased
 * letter is upper-cased and the others lower-cased ("3am" -> "3Am",
 * "mcDONALD" -> "Mcdonald"); two-byte runes through tmpl_fold2. */
static int f_title_am(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)n, (void)err;
    str_t s = a[0].s;
    char *d = arena_alloc(c->arena, s.len + 1);
    bool in_word = false, seen_cased = false;
    for (size_t i = 0; i < s.len;) {
        size_t w = 1;
        uint32_t ru = rune_at(s, i, &w);
        bool word = title_word(s, i);
        if (!word || !in_word) {
            seen_cased = false;
        }
        in_word = word;
        if (word && rune_cased(ru)) {
            bool up = !seen_cased;
            seen_cased = true;
            if (ru < 0x80) {
                ru = up && ru >= 'a' && ru <= 'z' ? ru - 32 : !up && ru >= 'A' && ru <= 'Z' ? ru + 32 : ru;
            } else {
                ru = tmpl_fold2(ru, up);
            }
        }
        if (w == 2) {
            d[i] = (char)(0xc0 | (ru >> 6));
            d[i + 1] = (char)(0x80 | (ru & 0x3f));
        } else {
            d[i] = (char)ru;
        }
        i += w;
    }
    d[s.len] = '\0';
    *r = string_val(str_from(d, s.len));
    return 0;
}

static bool go_space(uint8_t ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' || ch == '\f' || ch == '\r';
}

static int f_trim_space(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)c, (void)n, (void)err;
    str_t s = a[0].s;
    while (s.len > 0 && go_space((uint8_t)s.p[0])) {
        s.p++;
        s.len--;
    }
    while (s.len > 0 && go_space((uint8_t)s.p[s.len - 1])) {
        s.len--;
    }
    *r = string_val(s);
    return 0;
}

static int f_join(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)n, (void)err;
    const str_t *ss = a[1].p;
    buf_t b = { 0 };
    for (size_t i = 0; i < a[1].n; i++) {
        if (i > 0) {
            buf_append(&b, a[0].s.p, a[0].s.len);
        }
        buf_append(&b, ss[i].p, ss[i].len);
    }
    *r = string_val(arena_str(c->arena, &b));
    return 0;
}

static int f_string_slice(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)err;
    str_t *ss = arena_alloc(c->arena, (n + 1) * sizeof(*ss));
    for (size_t i = 0; i < n; i++) {
        ss[i] = a[i].s;
    }
    tmpl_val_t v = { .kind = TMPL_V_STRINGS, .p = ss, .n = n };
    *r = v;
    return 0;
}

static int f_date(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)n, (void)err;
    buf_t b = { 0 };
    tmpl_fmt_layout(a[1].i, (int64_t)a[1].n, a[0].s, &b);
    *r = string_val(arena_str(c->arena, &b));
    return 0;
}

/* time.LoadLocation: only UTC here (and Local, which pharosd runs as UTC). */
static int f_tz(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)c, (void)n;
    str_t z = a[0].s;
    if (z.len == 0 || str_eq_cstr(z, "UTC") || str_eq_cstr(z, "Local")) {
        *r = a[1];
        return 0;
    }
    buf_printf(err, "unknown time zone %.*s", (int)z.len, z.p);
    return -1;
}

static int f_since(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)n, (void)err;
    int64_t now_ms = c->notif != NULL ? c->notif->now_ms : 0;
    tmpl_val_t now = ms_time(now_ms);
    /* Go saturates a Sub that overflows Duration */
    double d = ((double)now.i - (double)a[0].i) * 1e9 + ((double)now.n - (double)a[0].n);
    tmpl_val_t v = { .kind = TMPL_V_DURATION };
    if (d >= 9.2233720368547e18) {
        v.i = INT64_MAX;
    } else if (d <= -9.2233720368547e18) {
        v.i = INT64_MIN;
    } else {
        v.i = (now.i - a[0].i) * 1000000000 + ((int64_t)now.n - (int64_t)a[0].n);
    }
    *r = v;
    return 0;
}

static int f_safe_url(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)c, (void)n, (void)err;
    *r = a[0];
    return 0;
}

/* url.QueryUnescape */
static int f_url_unescape(const tmpl_fctx_t *c, const tmpl_val_t *a, size_t n, tmpl_val_t *r, buf_t *err)
{
    (void)n;
    str_t s = a[0].s;
    buf_t b = { 0 };
    for (size_t i = 0; i < s.len; i++) {
        char ch = s.p[i];
        if (ch == '+') {
            buf_putc(&b, ' ');
        } else if (ch == '%') {
            int h = i + 2 < s.len ? str_hex_digit((unsigned char)s.p[i + 1]) : -1;
            int l = i + 2 < s.len ? str_hex_digit((unsigned char)s.p[i + 2]) : -1;
            if (h < 0 || l < 0) {
                size_t m = s.len - i < 3 ? s.len - i : 3;
                buf_fini(&b);
                buf_puts(err, "invalid URL escape ");
                labels_quote(str_from(s.p + i, m), err);
                return -1;
            }
            buf_putc(&b, (uint8_t)(h * 16 + l));
            i += 2;
        } else {
            buf_putc(&b, (uint8_t)ch);
        }
    }
    *r = string_val(arena_str(c->arena, &b));
    return 0;
}

static const tmpl_func_t am_rows[] = {
    { .name = "title", .nparams = 1, .params = { TMPL_P_STRING }, .call = f_title_am },
    { .name = "trimSpace", .nparams = 1, .params = { TMPL_P_STRING }, .call = f_trim_space },
    { .name = "join", .nparams = 2, .params = { TMPL_P_STRING, TMPL_P_STRINGS }, .call = f_join },
    { .name = "stringSlice", .variadic = true, .vtype = TMPL_P_STRING, .call = f_string_slice },
    { .name = "date", .nparams = 2, .params = { TMPL_P_STRING, TMPL_P_GOTIME }, .call = f_date },
    { .name = "tz", .nparams = 2, .params = { TMPL_P_STRING, TMPL_P_GOTIME }, .call = f_tz },
    { .name = "since", .nparams = 1, .params = { TMPL_P_GOTIME }, .call = f_since },
    { .name = "safeUrl", .nparams = 1, .params = { TMPL_P_STRING }, .call = f_safe_url },
    { .name = "urlUnescape", .nparams = 1, .params = { TMPL_P_STRING }, .call = f_url_unescape },
};

static const tmpl_funcseg_t am_seg = { am_rows, sizeof(am_rows) / sizeof(am_rows[0]) };
/* Alertmanager's own rows first: its title is not Prometheus'. */
static const tmpl_funcseg_t *const am_segs[3] = { &am_seg, &tmpl_funcs_builtin, &tmpl_funcs_shared };

const tmpl_functab_t tmpl_functab_am = { .name = "alertmanager", .segs = am_segs, .nsegs = 3 };

/* ---- rendering ---- */

static int render(const char *name, const char *text, size_t len, const alerts_notification_t *n, bool html, buf_t *out,
                  buf_t *err)
{
    assert(n != NULL && out != NULL && err != NULL);
    if (text == NULL || len == 0) {
        return 0; /* ExecuteTextString: "" renders "" without parsing */
    }
    arena_t *a = arena_create(16384);
    alerts_tmpl_t *t = NULL, *defaults = NULL;
    size_t start = out->len;
    int rc = -1;
    if (tmpl_parse(a, name ? name : "", text, len, &tmpl_functab_am, &t, err) != 0) {
        goto done;
    }
    /* the defaults, last part deepest; they always parse (tested) */
    for (size_t i = 0; t->has_calls && i < tmpl_ndefaults; i++) {
        alerts_tmpl_t *d = NULL;
        const char *dt = tmpl_defaults[tmpl_ndefaults - 1 - i];
        if (tmpl_parse(a, tmpl_defaults_name, dt, strlen(dt), &tmpl_functab_am, &d, err) != 0) {
            goto done;
        }
        d->base = defaults;
        defaults = d;
    }
    t->base = defaults;
    tmpl_fctx_t c = { .notif = n, .arena = a };
    tmpl_val_t dot = { .kind = TMPL_V_NDATA, .p = n };
    rc = tmpl_exec(t, dot, &c, NOTIFY_MAX_OUTPUT, html, out, err);
    if (rc != 0 && out->data != NULL) {
        out->len = start;
        out->data[start] = '\0'; /* buf's invariant: NUL after the last byte */
    }
done:
    arena_destroy(a);
    return rc;
}

int alerts_tmpl_notify(const char *name, const char *text, size_t len, const alerts_notification_t *n, buf_t *out,
                       buf_t *err)
{
    return render(name, text, len, n, false, out, err);
}

int alerts_tmpl_notify_html(const char *name, const char *text, size_t len, const alerts_notification_t *n, buf_t *out,
                            buf_t *err)
{
    return render(name, text, len, n, true, out, err);
}

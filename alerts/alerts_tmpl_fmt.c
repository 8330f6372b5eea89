/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_tmpl_fmt: values printed as Go prints them, for the template
 * engine: fmt's %v of every value a template meets (floats as strconv's
 * shortest 'g', maps as map[k:v] in key order, *time.Time and
 * *time.Duration through their String methods), Sprintf with Go's verbs,
 * flags, width and precision and its error forms (%!d(float64=1.5),
 * %!s(MISSING), %!(EXTRA ...), %!(NOVERB)), and %.4g as humanize uses it.
 *
 * Core idea: finite floats with an explicit precision go through C's
 * snprintf, whose %e/%f/%g agree with Go's for those; shortest formatting
 * comes from json_go_float; NaN and infinities are spelt NaN, +Inf, -Inf;
 * signs, padding and bad-verb texts are built here, not by C.
 *
 * Invariants: pure functions appending to a buf; width and precision are
 * capped (10^6 and 1000) so a format cannot ask for unbounded output beyond
 * what the executor's output bound then rejects; O(output) work.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "alerts/alerts_int.h"
#include "common/json_out.h"

void tmpl_fmt_float(double f, buf_t *out)
{
    json_go_float(out, f, 'g');
}

/* fmt "%.<prec>g" (prec 4 for humanize). */
void tmpl_fmt_g(double f, int prec, buf_t *out)
{
    if (isnan(f)) {
        buf_puts(out, "NaN");
    } else if (isinf(f)) {
        buf_puts(out, f > 0 ? "+Inf" : "-Inf");
    } else {
        buf_printf(out, "%.*g", prec, f);
    }
}

const char *tmpl_val_type(const tmpl_val_t *v)
{
    switch (v->kind) {
    case TMPL_V_INVALID:
    case TMPL_V_NIL:
        return "<nil>";
    case TMPL_V_BOOL:
        return "bool";
    case TMPL_V_INT:
        return "int";
    case TMPL_V_FLOAT:
        return "float64";
    case TMPL_V_STRING:
        return "string";
    case TMPL_V_MAP:
        return "map[string]string";
    case TMPL_V_SAMPLES:
        return "template.queryResult";
    case TMPL_V_SAMPLE:
        return "*template.sample";
    case TMPL_V_DATA:
        return "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value "
               "float64 }";
    case TMPL_V_TIME:
        return "*time.Time";
    case TMPL_V_DURATION:
        return "*time.Duration";
    default:
        return tmpl_notify_type(v);
    }
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Civil UTC time of Unix seconds (Howard Hinnant's days_from_civil inverse). */
tmpl_civil_t tmpl_civil(int64_t sec)
{
    tmpl_civil_t c = { 0 };
    int64_t days = floor_div(sec, 86400);
    int64_t sod = sec - days * 86400;
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    c.day = doy - (153 * mp + 2) / 5 + 1;
    c.month = mp < 10 ? mp + 3 : mp - 9;
    c.year = y + (c.month <= 2);
    c.hour = sod / 3600;
    c.min = sod / 60 % 60;
    c.sec = sod % 60;
    c.wday = floor_div(days + 4, 7); /* 1970-01-01 was a Thursday */
    c.wday = days + 4 - c.wday * 7;
    bool leap = (c.year % 4 == 0 && c.year % 100 != 0) || c.year % 400 == 0;
    static const int cum[] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
    c.yday = cum[c.month - 1] + c.day + (leap && c.month > 2);
    return c;
}

/* Go's time.Time.String() for a UTC time: "2006-01-02 15:04:05.999999999 +0000 UTC". */
void tmpl_fmt_time(int64_t ns, buf_t *out)
{
    int64_t sec = floor_div(ns, 1000000000);
    int64_t frac = ns % 1000000000;
    if (frac < 0) {
        frac += 1000000000;
    }
    tmpl_fmt_time_sn(sec, frac, out);
}

void tmpl_fmt_time_sn(int64_t sec, int64_t frac, buf_t *out)
{
    tmpl_civil_t c = tmpl_civil(sec);
    buf_printf(out, "%04lld-%02lld-%02lld %02lld:%02lld:%02lld", (long long)c.year, (long long)c.month,
               (long long)c.day, (long long)c.hour, (long long)c.min, (long long)c.sec);
    if (frac != 0) {
        char fb[16];
        snprintf(fb, sizeof(fb), "%09lld", (long long)frac);
        size_t n = 9;
        while (n > 0 && fb[n - 1] == '0') {
            n--;
        }
        buf_printf(out, ".%.*s", (int)n, fb);
    }
    buf_puts(out, " +0000 UTC");
}

/* Go's time.Duration.String(). */
void tmpl_fmt_duration(int64_t d, buf_t *out)
{
    uint64_t u = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
    if (d < 0) {
        buf_putc(out, '-');
    }
    if (u < 1000000000) {
        const char *unit = "ns";
        uint64_t div = 1;
        if (u == 0) {
            buf_puts(out, "0s");
            return;
        } else if (u < 1000) {
            unit = "ns";
        } else if (u < 1000000) {
            unit = "\xc2\xb5s";
            div = 1000;
        } else {
            unit = "ms";
            div = 1000000;
        }
        buf_printf(out, "%llu", (unsigned long long)(u / div));
        uint64_t rem = u % div;
        if (rem != 0) {
            char fb[16];
            int w = div == 1000 ? 3 : 6;
            snprintf(fb, sizeof(fb), "%0*llu", w, (unsigned long long)rem);
            int n = w;
            while (n > 0 && fb[n - 1] == '0') {
                n--;
            }
            buf_printf(out, ".%.*s", n, fb);
        }
        buf_puts(out, unit);
        return;
    }
    uint64_t sec = u / 1000000000, frac = u % 1000000000;
    if (sec >= 3600) {
        buf_printf(out, "%lluh", (unsigned long long)(sec / 3600));
    }
    if (sec >= 60) {
        buf_printf(out, "%llum", (unsigned long long)(sec / 60 % 60));
    }
    buf_printf(out, "%llu", (unsigned long long)(sec % 60));
    if (frac != 0) {
        char fb[16];
        snprintf(fb, sizeof(fb), "%09llu", (unsigned long long)frac);
        int n = 9;
        while (n > 0 && fb[n - 1] == '0') {
            n--;
        }
        buf_printf(out, ".%.*s", n, fb);
    }
    buf_putc(out, 's');
}

static void print_map(const label_t *ls, size_t n, buf_t *out)
{
    /* fmt sorts map keys; label sets may arrive unsorted. */
    buf_puts(out, "map[");
    tmpl_kv_join(ls, n, false, " ", ':', out);
    buf_putc(out, ']');
}

/* fmt %v; top says whether a sample pointer prints as &{...}. */
void tmpl_val_fprint(const tmpl_val_t *v, bool top, buf_t *out)
{
    switch (v->kind) {
    case TMPL_V_INVALID:
    case TMPL_V_NIL:
        buf_puts(out, "<nil>");
        break;
    case TMPL_V_BOOL:
        buf_puts(out, v->b ? "true" : "false");
        break;
    case TMPL_V_INT:
        if (v->s.len > 0) { /* time.Month, time.Weekday: their String() */
            buf_append(out, v->s.p, v->s.len);
        } else {
            buf_printf(out, "%lld", (long long)v->i);
        }
        break;
    case TMPL_V_FLOAT:
        tmpl_fmt_float(v->f, out);
        break;
    case TMPL_V_STRING:
        buf_append(out, v->s.p, v->s.len);
        break;
    case TMPL_V_MAP:
        print_map(v->labels, v->nlabels, out);
        break;
    case TMPL_V_SAMPLE:
        if (v->samples == NULL) {
            buf_puts(out, "<nil>");
            break;
        }
        buf_puts(out, top ? "&{" : "{");
        print_map(v->samples->labels, v->samples->nlabels, out);
        buf_putc(out, ' ');
        tmpl_fmt_float(v->samples->value, out);
        buf_putc(out, '}');
        break;
    case TMPL_V_SAMPLES:
        /* Go prints the element pointers' addresses; we print the elements. */
        buf_putc(out, '[');
        for (size_t i = 0; i < v->n; i++) {
            tmpl_val_t e = { .kind = TMPL_V_SAMPLE, .samples = &v->samples[i] };
            if (i > 0) {
                buf_putc(out, ' ');
            }
            tmpl_val_fprint(&e, true, out);
        }
        buf_putc(out, ']');
        break;
    case TMPL_V_DATA:
        buf_puts(out, "{");
        print_map(NULL, 0, out);
        buf_puts(out, "}");
        break;
    case TMPL_V_TIME:
        tmpl_fmt_time(v->i, out);
        break;
    case TMPL_V_DURATION:
        tmpl_fmt_duration(v->i, out);
        break;
    default:
        tmpl_notify_fprint(v, top, out);
        break;
    }
}

void tmpl_val_print(const tmpl_val_t *v, buf_t *out)
{
    if (v->kind == TMPL_V_INVALID) {
        buf_puts(out, "<no value>");
        return;
    }
    tmpl_val_fprint(v, false, out);
}

/* ---- time.Time.Format ---- */

const char *const tmpl_month_names[] = { "January", "February", "March",     "April",   "May",      "June",
                                         "July",    "August",   "September", "October", "November", "December" };
const char *const tmpl_day_names[] = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday" };

static bool has_at(str_t l, size_t i, const char *w)
{
    size_t n = strlen(w);
    return i + n <= l.len && memcmp(l.p + i, w, n) == 0;
}

static bool lower_at(str_t l, size_t i)
{
    return i < l.len && l.p[i] >= 'a' && l.p[i] <= 'z';
}

/* A fractional-second element at l[i] (".000", ",999"): its length, digit
 * count and whether trailing zeros are cut; 0 when none. As Go's
 * nextStdChunk, the run must not be followed by a digit. */
static size_t frac_elem(str_t l, size_t i, int *digits, bool *cut)
{
    if (i + 1 >= l.len || (l.p[i] != '.' && l.p[i] != ',') || (l.p[i + 1] != '0' && l.p[i + 1] != '9')) {
        return 0;
    }
    char d = l.p[i + 1];
    size_t j = i + 1;
    while (j < l.len && l.p[j] == d) {
        j++;
    }
    if (j < l.len && l.p[j] >= '0' && l.p[j] <= '9') {
        return 0;
    }
    *digits = (int)(j - i - 1);
    *cut = d == '9';
    return j - i;
}

/* Go's layout elements (time/format.go nextStdChunk), in the order they
 * are tried at one position: a longer element before its prefixes. */
typedef enum std {
    STD_LONG_MONTH,
    STD_MONTH,
    STD_NUM_MONTH,
    STD_ZERO_MONTH,
    STD_LONG_WEEKDAY,
    STD_WEEKDAY,
    STD_DAY,
    STD_UNDER_DAY,
    STD_ZERO_DAY,
    STD_UNDER_YDAY,
    STD_ZERO_YDAY,
    STD_HOUR,
    STD_HOUR12,
    STD_ZERO_HOUR12,
    STD_MINUTE,
    STD_ZERO_MINUTE,
    STD_SECOND,
    STD_ZERO_SECOND,
    STD_LONG_YEAR,
    STD_YEAR,
    STD_PM,
    STD_LOWER_PM,
    STD_TZ,
    STD_NUM_TZ, /* -0700 forms: UTC prints as +00... */
    STD_ISO_TZ, /* Z0700 forms: UTC prints as Z */
} std_t;

static const struct {
    const char *text;
    std_t std;
    bool word; /* not when a lower-case letter follows (Jan, Mon) */
} std_elems[] = {
    { "January", STD_LONG_MONTH, false },
    { "Jan", STD_MONTH, true },
    { "Monday", STD_LONG_WEEKDAY, false },
    { "Mon", STD_WEEKDAY, true },
    { "MST", STD_TZ, false },
    { "2006", STD_LONG_YEAR, false },
    { "002", STD_ZERO_YDAY, false },
    { "01", STD_ZERO_MONTH, false },
    { "02", STD_ZERO_DAY, false },
    { "03", STD_ZERO_HOUR12, false },
    { "04", STD_ZERO_MINUTE, false },
    { "05", STD_ZERO_SECOND, false },
    { "06", STD_YEAR, false },
    { "15", STD_HOUR, false },
    { "__2", STD_UNDER_YDAY, false },
    { "_2", STD_UNDER_DAY, false },
    { "-07:00:00", STD_NUM_TZ, false },
    { "-070000", STD_NUM_TZ, false },
    { "-07:00", STD_NUM_TZ, false },
    { "-0700", STD_NUM_TZ, false },
    { "-07", STD_NUM_TZ, false },
    { "Z07:00:00", STD_ISO_TZ, false },
    { "Z070000", STD_ISO_TZ, false },
    { "Z07:00", STD_ISO_TZ, false },
    { "Z0700", STD_ISO_TZ, false },
    { "Z07", STD_ISO_TZ, false },
    { "PM", STD_PM, false },
    { "pm", STD_LOWER_PM, false },
    { "1", STD_NUM_MONTH, false },
    { "2", STD_DAY, false },
    { "3", STD_HOUR12, false },
    { "4", STD_MINUTE, false },
    { "5", STD_SECOND, false },
};

static void append_std(std_t std, const char *text, const tmpl_civil_t *c, buf_t *out)
{
    long long h12 = c->hour % 12 == 0 ? 12 : c->hour % 12;
    switch (std) {
    case STD_LONG_MONTH:
    case STD_MONTH:
        buf_printf(out, "%.*s", std == STD_MONTH ? 3 : 9, tmpl_month_names[c->month - 1]);
        break;
    case STD_LONG_WEEKDAY:
    case STD_WEEKDAY:
        buf_printf(out, "%.*s", std == STD_WEEKDAY ? 3 : 9, tmpl_day_names[c->wday]);
        break;
    case STD_NUM_MONTH:
    case STD_ZERO_MONTH:
        buf_printf(out, std == STD_ZERO_MONTH ? "%02lld" : "%lld", (long long)c->month);
        break;
    case STD_DAY:
    case STD_UNDER_DAY:
    case STD_ZERO_DAY:
        buf_printf(out, std == STD_DAY ? "%lld" : std == STD_UNDER_DAY ? "%2lld" : "%02lld", (long long)c->day);
        break;
    case STD_UNDER_YDAY:
    case STD_ZERO_YDAY:
        buf_printf(out, std == STD_UNDER_YDAY ? "%3lld" : "%03lld", (long long)c->yday);
        break;
    case STD_HOUR:
        buf_printf(out, "%02lld", (long long)c->hour);
        break;
    case STD_HOUR12:
    case STD_ZERO_HOUR12:
        buf_printf(out, std == STD_HOUR12 ? "%lld" : "%02lld", h12);
        break;
    case STD_MINUTE:
    case STD_ZERO_MINUTE:
        buf_printf(out, std == STD_MINUTE ? "%lld" : "%02lld", (long long)c->min);
        break;
    case STD_SECOND:
    case STD_ZERO_SECOND:
        buf_printf(out, std == STD_SECOND ? "%lld" : "%02lld", (long long)c->sec);
        break;
    case STD_LONG_YEAR:
        buf_printf(out, "%04lld", (long long)c->year);
        break;
    case STD_YEAR:
        buf_printf(out, "%02lld", (long long)((c->year % 100 + 100) % 100));
        break;
    case STD_PM:
    case STD_LOWER_PM:
        buf_puts(out, c->hour >= 12 ? (std == STD_PM ? "PM" : "pm") : (std == STD_PM ? "AM" : "am"));
        break;
    case STD_TZ:
        buf_puts(out, "UTC");
        break;
    case STD_NUM_TZ: /* the element with its digits zeroed: -07:00 -> +00:00 */
        buf_putc(out, '+');
        for (const char *p = text + 1; *p != '\0'; p++) {
            buf_putc(out, *p == ':' ? ':' : '0');
        }
        break;
    case STD_ISO_TZ:
        buf_putc(out, 'Z');
        break;
    }
}

void tmpl_fmt_layout(int64_t sec, int64_t nsec, str_t l, buf_t *out)
{
    tmpl_civil_t c = tmpl_civil(sec);
    for (size_t i = 0; i < l.len;) {
        int digits = 0;
        bool cut = false;
        size_t fl = frac_elem(l, i, &digits, &cut);
        if (fl > 0) {
            char fb[16];
            snprintf(fb, sizeof(fb), "%09lld", (long long)nsec);
            int nd = digits > 9 ? 9 : digits;
            while (cut && nd > 0 && fb[nd - 1] == '0') {
                nd--;
            }
            if (nd > 0 || !cut) {
                buf_putc(out, (uint8_t)l.p[i]);
                buf_append(out, fb, (size_t)nd);
            }
            i += fl;
            continue;
        }
        if (has_at(l, i, "_2006")) { /* Go: a literal '_', then the year */
            buf_putc(out, '_');
            i++;
            continue;
        }
        size_t k = 0;
        for (; k < sizeof(std_elems) / sizeof(std_elems[0]); k++) {
            size_t n = strlen(std_elems[k].text);
            if (has_at(l, i, std_elems[k].text) && !(std_elems[k].word && lower_at(l, i + n))) {
                break;
            }
        }
        if (k == sizeof(std_elems) / sizeof(std_elems[0])) {
            buf_putc(out, (uint8_t)l.p[i]);
            i++;
            continue;
        }
        append_std(std_elems[k].std, std_elems[k].text, &c, out);
        i += strlen(std_elems[k].text);
    }
}

typedef struct fspec {
    bool minus, plus, sharp, zero, space;
    int width; /* -1 = none */
    int prec;  /* -1 = none */
} fspec_t;

static void pad_out(const fspec_t *f, const char *s, size_t len, bool numeric, buf_t *out)
{
    size_t runes = 0;
    for (size_t i = 0; i < len; i++) {
        runes += ((unsigned char)s[i] & 0xc0) != 0x80;
    }
    size_t w = f->width > 0 ? (size_t)f->width : 0;
    if (runes >= w) {
        buf_append(out, s, len);
        return;
    }
    size_t padn = w - runes;
    if (f->minus) {
        buf_append(out, s, len);
        for (size_t i = 0; i < padn; i++) {
            buf_putc(out, ' ');
        }
        return;
    }
    if (f->zero && numeric && len > 0 && (s[0] == '-' || s[0] == '+' || s[0] == ' ')) {
        buf_putc(out, (uint8_t)s[0]);
        s++;
        len--;
    }
    for (size_t i = 0; i < padn; i++) {
        buf_putc(out, f->zero ? '0' : ' ');
    }
    buf_append(out, s, len);
}

static void bad_verb(char verb, const tmpl_val_t *v, buf_t *out)
{
    buf_printf(out, "%%!%c(", verb);
    if (v->kind == TMPL_V_INVALID || v->kind == TMPL_V_NIL) {
        buf_puts(out, "<nil>");
    } else {
        buf_printf(out, "%s=", tmpl_val_type(v));
        tmpl_val_fprint(v, true, out);
    }
    buf_putc(out, ')');
}

static void fmt_float_verb(const fspec_t *f, char verb, double x, buf_t *out)
{
    buf_t t = { 0 };
    if (isnan(x) || isinf(x)) {
        const char *s = isnan(x) ? (f->plus ? "+NaN" : f->space ? " NaN" : "NaN") : x > 0 ? "+Inf" : "-Inf";
        if (isinf(x) && x > 0 && !f->plus && f->space) {
            s = " Inf";
        }
        fspec_t g = *f;
        g.zero = false;
        pad_out(&g, s, strlen(s), true, out);
        return;
    }
    if ((verb == 'g' || verb == 'G' || verb == 'v') && f->prec < 0) {
        json_go_float(&t, x, 'g');
        if (verb == 'G') {
            for (size_t i = 0; i < t.len; i++) {
                if (t.data[i] == 'e') {
                    t.data[i] = 'E';
                }
            }
        }
        buf_t u = { 0 };
        if (x >= 0 && !signbit(x) && (f->plus || f->space)) {
            buf_putc(&u, f->plus ? '+' : ' ');
        }
        buf_append(&u, t.data, t.len);
        pad_out(f, (char *)u.data, u.len, true, out);
        buf_fini(&u);
        buf_fini(&t);
        return;
    }
    int prec = f->prec < 0 ? 6 : f->prec;
    if (!signbit(x) && (f->plus || f->space)) {
        buf_putc(&t, f->plus ? '+' : ' ');
    }
    switch (verb) {
    case 'e':
        buf_printf(&t, "%.*e", prec, x);
        break;
    case 'E':
        buf_printf(&t, "%.*E", prec, x);
        break;
    case 'G':
        buf_printf(&t, "%.*G", prec, x);
        break;
    case 'g':
    case 'v':
        buf_printf(&t, "%.*g", prec, x);
        break;
    default:
        buf_printf(&t, "%.*f", prec, x);
        break;
    }
    pad_out(f, (char *)t.data, t.len, true, out);
    buf_fini(&t);
}

static void fmt_int_verb(const fspec_t *f, char verb, int64_t x, buf_t *out)
{
    buf_t t = { 0 };
    uint64_t u = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
    if (x < 0) {
        buf_putc(&t, '-');
    } else if (f->plus) {
        buf_putc(&t, '+');
    } else if (f->space) {
        buf_putc(&t, ' ');
    }
    char digits[80];
    int n = 0;
    switch (verb) {
    case 'x':
    case 'X':
        if (f->sharp) {
            buf_puts(&t, verb == 'x' ? "0x" : "0X");
        }
        n = snprintf(digits, sizeof(digits), verb == 'x' ? "%llx" : "%llX", (unsigned long long)u);
        break;
    case 'o':
        if (f->sharp) {
            buf_putc(&t, '0');
        }
        n = snprintf(digits, sizeof(digits), "%llo", (unsigned long long)u);
        break;
    case 'b': {
        char rev[70];
        int m = 0;
        do {
            rev[m++] = (char)('0' + (u & 1));
            u >>= 1;
        } while (u != 0);
        for (int i = 0; i < m; i++) {
            digits[i] = rev[m - 1 - i];
        }
        n = m;
        break;
    }
    default:
        n = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)u);
        break;
    }
    for (int i = n; i < f->prec && i < 64; i++) {
        buf_putc(&t, '0');
    }
    if (f->prec == 0 && x == 0) {
        n = 0;
    }
    buf_append(&t, digits, (size_t)n);
    fspec_t g = *f;
    if (f->prec >= 0) {
        g.zero = false;
    }
    pad_out(&g, (char *)t.data, t.len, true, out);
    buf_fini(&t);
}

/* Bytes of s's first max runes (fmt's precision on strings). O(len). */
static size_t rune_prefix(str_t s, size_t max)
{
    size_t runes = 0, i = 0;
    for (; i < s.len; i++) {
        if (((unsigned char)s.p[i] & 0xc0) == 0x80) {
            continue; /* a continuation byte */
        }
        if (runes == max) {
            break;
        }
        runes++;
    }
    return i;
}

static void fmt_arg(const fspec_t *f, char verb, const tmpl_val_t *v, buf_t *out)
{
    buf_t t = { 0 };
    switch (v->kind) {
    case TMPL_V_INVALID:
    case TMPL_V_NIL:
        if (verb == 'v') {
            pad_out(f, "<nil>", 5, false, out);
        } else {
            bad_verb(verb, v, out);
        }
        break;
    case TMPL_V_BOOL:
        if (verb == 'v' || verb == 't') {
            const char *s = v->b ? "true" : "false";
            pad_out(f, s, strlen(s), false, out);
        } else {
            bad_verb(verb, v, out);
        }
        break;
    case TMPL_V_FLOAT:
        if (verb != '\0' && strchr("vfFeEgG", verb) != NULL) {
            fmt_float_verb(f, verb, v->f, out);
        } else {
            bad_verb(verb, v, out);
        }
        break;
    case TMPL_V_INT:
        if (v->s.len > 0 && (verb == 'v' || verb == 's')) {
            pad_out(f, v->s.p, v->s.len, false, out);
        } else if (verb != '\0' && strchr("vdxXob", verb) != NULL) {
            fmt_int_verb(f, verb, v->i, out);
        } else if (verb == 'U' && v->i >= 0) {
            buf_printf(&t, "U+%04llX", (unsigned long long)v->i);
            pad_out(f, (char *)t.data, t.len, false, out);
        } else if (verb == 'c' && v->i >= 0 && v->i <= 0x10ffff) {
            char u8[4];
            size_t n = str_utf8_encode((uint32_t)v->i, u8);
            pad_out(f, u8, n, false, out);
        } else {
            bad_verb(verb, v, out);
        }
        break;
    case TMPL_V_STRING:
        if (verb == 'v' || verb == 's') {
            size_t len = f->prec >= 0 ? rune_prefix(v->s, (size_t)f->prec) : v->s.len;
            pad_out(f, v->s.p, len, false, out);
        } else if (verb == 'q') {
            /* fmtQ quotes the string truncated to the precision */
            labels_quote(str_from(v->s.p, f->prec >= 0 ? rune_prefix(v->s, (size_t)f->prec) : v->s.len), &t);
            pad_out(f, (char *)t.data, t.len, false, out);
        } else if (verb == 'x' || verb == 'X') {
            for (size_t i = 0; i < v->s.len; i++) {
                buf_printf(&t, verb == 'x' ? "%02x" : "%02X", (unsigned char)v->s.p[i]);
            }
            pad_out(f, t.data ? (char *)t.data : "", t.len, false, out);
        } else {
            bad_verb(verb, v, out);
        }
        break;
    default:
        if (verb == 'v' || verb == 's') {
            tmpl_val_fprint(v, true, &t);
            pad_out(f, t.data ? (char *)t.data : "", t.len, false, out);
        } else {
            bad_verb(verb, v, out);
        }
        break;
    }
    buf_fini(&t);
}

/* Parse a verb's flags, width and precision at p[*ip..n) into *f (Go's
 * doPrintf), taking '*' values from args[*argnp..nargs); a bad one appends
 * %!(BADWIDTH) or %!(BADPREC). Advances *ip and *argnp. */
static void parse_spec(const char *p, size_t n, size_t *ip, const tmpl_val_t *args, size_t nargs, size_t *argnp,
                       fspec_t *f, buf_t *out)
{
    *f = (fspec_t){ .width = -1, .prec = -1 };
    size_t i = *ip, argn = *argnp;
    for (; i < n; i++) {
        char c = p[i];
        if (c == '-') {
            f->minus = true;
            f->zero = false;
        } else if (c == '+') {
            f->plus = true;
        } else if (c == '#') {
            f->sharp = true;
        } else if (c == ' ') {
            f->space = true;
        } else if (c == '0') {
            f->zero = !f->minus;
        } else {
            break;
        }
    }
    if (i < n && p[i] == '*') {
        i++;
        if (argn < nargs && args[argn].kind == TMPL_V_INT && args[argn].i >= -1000000 && args[argn].i <= 1000000) {
            f->width = (int)args[argn].i;
            if (f->width < 0) {
                f->minus = true;
                f->width = -f->width;
            }
        } else {
            buf_puts(out, "%!(BADWIDTH)");
        }
        argn++;
    } else {
        while (i < n && p[i] >= '0' && p[i] <= '9') {
            f->width = (f->width < 0 ? 0 : f->width) * 10 + (p[i] - '0');
            if (f->width > 1000000) {
                f->width = 1000000;
            }
            i++;
        }
    }
    if (i < n && p[i] == '.') {
        i++;
        f->prec = 0;
        if (i < n && p[i] == '*') {
            i++;
            if (argn < nargs && args[argn].kind == TMPL_V_INT && args[argn].i >= 0 && args[argn].i <= 1000000) {
                f->prec = (int)args[argn].i;
            } else {
                buf_puts(out, "%!(BADPREC)");
                f->prec = -1;
            }
            argn++;
        } else {
            while (i < n && p[i] >= '0' && p[i] <= '9') {
                f->prec = f->prec * 10 + (p[i] - '0');
                if (f->prec > 1000) {
                    f->prec = 1000;
                }
                i++;
            }
        }
    }
    *ip = i;
    *argnp = argn;
}

void tmpl_sprintf(str_t format, const tmpl_val_t *args, size_t nargs, buf_t *out)
{
    const char *p = format.p;
    size_t n = format.len, i = 0, argn = 0;
    while (i < n) {
        size_t lit = i;
        while (i < n && p[i] != '%') {
            i++;
        }
        buf_append(out, p + lit, i - lit);
        if (i >= n) {
            break;
        }
        i++;
        fspec_t f;
        parse_spec(p, n, &i, args, nargs, &argn, &f, out);
        if (i >= n) {
            buf_puts(out, "%!(NOVERB)");
            break;
        }
        unsigned char verb = (unsigned char)p[i++];
        if (verb >= 0x80) {
            /* A multi-byte verb: Go names the rune; keep its bytes. */
            size_t st = i - 1;
            while (i < n && ((unsigned char)p[i] & 0xc0) == 0x80) {
                i++;
            }
            buf_puts(out, "%!");
            buf_append(out, p + st, i - st);
            buf_puts(out, argn < nargs ? "(" : "(MISSING)");
            if (argn < nargs) {
                buf_printf(out, "%s=", tmpl_val_type(&args[argn]));
                tmpl_val_fprint(&args[argn], true, out);
                buf_putc(out, ')');
                argn++;
            }
            continue;
        }
        if (verb == '%') {
            buf_putc(out, '%');
            continue;
        }
        if (argn >= nargs) {
            buf_printf(out, "%%!%c(MISSING)", verb);
            continue;
        }
        fmt_arg(&f, (char)verb, &args[argn++], out);
    }
    if (argn < nargs) {
        buf_puts(out, "%!(EXTRA ");
        for (size_t k = argn; k < nargs; k++) {
            if (k > argn) {
                buf_puts(out, ", ");
            }
            if (args[k].kind == TMPL_V_INVALID || args[k].kind == TMPL_V_NIL) {
                buf_puts(out, "<nil>");
            } else {
                buf_printf(out, "%s=", tmpl_val_type(&args[k]));
                tmpl_val_fprint(&args[k], true, out);
            }
        }
        buf_putc(out, ')');
    }
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * labels: sorting, validation, canonical bytes, hash and text form of a
 * label set. See labels.h.
 *
 * Validation follows the Prometheus 2.42 remote-write receiver (legacy
 * names, UTF-8 values) plus Pharos' own rules: __name__ is required,
 * duplicate names are rejected, and names, values and counts have limits.
 * Checks run in a fixed order (count, then per label: name length, name
 * syntax, duplicate, value length, value UTF-8, then __name__ presence) so
 * a given bad set always yields the same status.
 *
 * labels_hash encodes into a stack buffer (heap only for sets over 1 KiB)
 * and hashes that, so it equals hash_bytes(labels_encode(...)) by
 * construction rather than by a second encoder that could drift.
 *
 * labels_format prints Go's labels.Labels.String(): {a="b", c="d"}, values
 * in strconv.Quote form. Names that are not legacy-valid are quoted too
 * (the Prometheus 3 rule; legacy names print as before). Go decides what is
 * printable from Unicode tables; labels_quote approximates unicode.IsPrint
 * with the control, separator, format and private-use ranges, so an
 * unassigned code point prints raw here where Go would escape it.
 */
#include "common/labels.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "common/hash.h"
#include "common/mem.h"
#include "common/varint.h"

#define LABELS_ERR_NAME_MAX 128 /* bytes of a name quoted in an error */

void labels_sort(label_t *ls, size_t n)
{
    assert(ls || n == 0);
    for (size_t i = 1; i < n; i++) {
        label_t cur = ls[i];
        size_t j = i;
        while (j > 0 && str_cmp(ls[j - 1].name, cur.name) > 0) {
            ls[j] = ls[j - 1];
            j--;
        }
        ls[j] = cur;
    }
}

size_t labels_normalize(label_t *ls, size_t n)
{
    labels_sort(ls, n);
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (ls[i].value.len == 0) {
            continue;
        }
        ls[out++] = ls[i];
    }
    return out;
}

static bool is_alpha_(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool labels_valid_metric_name(str_t s)
{
    if (s.len == 0) {
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        bool ok = is_alpha_(c) || c == ':' || (i > 0 && is_digit(c));
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool labels_valid_label_name(str_t s)
{
    if (s.len == 0) {
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (!(is_alpha_(c) || (i > 0 && is_digit(c)))) {
            return false;
        }
    }
    return true;
}

/* Decode one UTF-8 sequence at p[0..len) (len > 0). Returns the code point
 * and sets *w to its width, or returns -1 with *w = 1 when the byte at p
 * does not start a valid, shortest-form, non-surrogate sequence. */
static long utf8_decode(const uint8_t *p, size_t len, size_t *w)
{
    uint8_t c = p[0];
    *w = 1;
    if (c < 0x80) {
        return c;
    }
    size_t need = 0;
    long cp = 0;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        cp = c & 0x0F;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        cp = c & 0x07;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return -1;
    }
    if (len < need + 1) {
        return -1;
    }
    for (size_t i = 1; i <= need; i++) {
        uint8_t b = p[i];
        uint8_t blo = i == 1 ? lo : 0x80;
        uint8_t bhi = i == 1 ? hi : 0xBF;
        if (b < blo || b > bhi) {
            return -1;
        }
        cp = (cp << 6) | (b & 0x3F);
    }
    *w = need + 1;
    return cp;
}

/* Approximation of Go's unicode.IsPrint for code points >= 0x80. */
static bool rune_printable(long r)
{
    static const long np[][2] = {
        { 0x80, 0xA0 },     { 0xAD, 0xAD },       { 0x061C, 0x061C },   { 0x1680, 0x1680 },
        { 0x180E, 0x180E }, { 0x2000, 0x200F },   { 0x2028, 0x202F },   { 0x205F, 0x206F },
        { 0x3000, 0x3000 }, { 0xE000, 0xF8FF },   { 0xFEFF, 0xFEFF },   { 0xFFF9, 0xFFFB },
        { 0xFFFE, 0xFFFF }, { 0x1D173, 0x1D17A }, { 0xE0000, 0xE007F }, { 0xF0000, 0x10FFFF },
    };
    for (size_t i = 0; i < sizeof(np) / sizeof(np[0]); i++) {
        if (r >= np[i][0] && r <= np[i][1]) {
            return false;
        }
    }
    return true;
}

void labels_quote(str_t s, buf_t *out)
{
    const uint8_t *p = (const uint8_t *)s.p;
    buf_putc(out, '"');
    size_t i = 0;
    while (i < s.len) {
        size_t w = 1;
        long r = utf8_decode(p + i, s.len - i, &w);
        if (r < 0) {
            buf_printf(out, "\\x%02x", p[i]);
        } else if (r == '"' || r == '\\') {
            buf_putc(out, '\\');
            buf_putc(out, (uint8_t)r);
        } else if (r >= 0x20 && r < 0x7F) {
            buf_putc(out, (uint8_t)r);
        } else if (r >= 0x80 && rune_printable(r)) {
            buf_append(out, p + i, w);
        } else {
            static const char esc[] = "abtnvfr"; /* 0x07 .. 0x0D */
            if (r >= 0x07 && r <= 0x0D) {
                buf_putc(out, '\\');
                buf_putc(out, (uint8_t)esc[r - 0x07]);
            } else if (r < 0x20 || r == 0x7F) {
                buf_printf(out, "\\x%02x", (unsigned)r);
            } else if (r < 0x10000) {
                buf_printf(out, "\\u%04lx", (unsigned long)r);
            } else {
                buf_printf(out, "\\U%08lx", (unsigned long)r);
            }
        }
        i += w;
    }
    buf_putc(out, '"');
}

/* Write "<quoted s>" into tmp for an error message, cutting long input. */
static const char *quote_for_err(str_t s, buf_t *tmp)
{
    buf_reset(tmp);
    bool cut = s.len > LABELS_ERR_NAME_MAX;
    labels_quote(str_from(s.p, cut ? LABELS_ERR_NAME_MAX : s.len), tmp);
    if (cut) {
        buf_puts(tmp, "...");
    }
    return (const char *)tmp->data;
}

static labels_status_t check_label(const label_t *ls, size_t i, const labels_limits_t *lim, bool *has_name,
                                   bool *unsorted, buf_t *msg)
{
    buf_t q = { 0 };
    labels_status_t st = LABELS_OK;
    const label_t *l = &ls[i];
    bool is_metric = str_eq_cstr(l->name, "__name__");
    if (lim->max_name_len && l->name.len > lim->max_name_len) {
        buf_printf(msg, "label name %s length %zu exceeds limit %zu", quote_for_err(l->name, &q), l->name.len,
                   lim->max_name_len);
        st = LABELS_TOO_LONG;
        goto done;
    }
    if (lim->utf8_names) {
        if (l->name.len == 0) {
            buf_puts(msg, "invalid label name \"\"");
            st = LABELS_BAD_NAME;
            goto done;
        }
        if (!str_utf8_valid(l->name.p, l->name.len)) {
            buf_printf(msg, "label name %s is not valid UTF-8", quote_for_err(l->name, &q));
            st = LABELS_BAD_UTF8;
            goto done;
        }
    } else if (!labels_valid_label_name(l->name)) {
        buf_printf(msg, "invalid label name %s", quote_for_err(l->name, &q));
        st = LABELS_BAD_NAME;
        goto done;
    }
    /* Sorted input has a duplicate next to it; once the input is seen to be
     * unsorted, every later label is checked against all before it. */
    int order = i > 0 ? str_cmp(ls[i - 1].name, l->name) : -1;
    *unsorted = *unsorted || order > 0;
    if (order == 0 || *unsorted) {
        for (size_t j = 0; j < i; j++) {
            if (str_eq(ls[j].name, l->name)) {
                buf_printf(msg, "duplicate label name %s", quote_for_err(l->name, &q));
                st = LABELS_DUP_NAME;
                goto done;
            }
        }
    }
    if (lim->max_value_len && l->value.len > lim->max_value_len) {
        buf_printf(msg, "label %s value length %zu exceeds limit %zu", quote_for_err(l->name, &q), l->value.len,
                   lim->max_value_len);
        st = LABELS_TOO_LONG;
        goto done;
    }
    if (!str_utf8_valid(l->value.p, l->value.len)) {
        buf_printf(msg, "label value of %s is not valid UTF-8", quote_for_err(l->name, &q));
        st = LABELS_BAD_UTF8;
        goto done;
    }
    if (is_metric) {
        *has_name = true;
        bool ok = lim->utf8_names ? l->value.len > 0 : labels_valid_metric_name(l->value);
        if (!ok) {
            buf_printf(msg, "invalid metric name %s", quote_for_err(l->value, &q));
            st = LABELS_BAD_NAME;
            goto done;
        }
    }
done:
    buf_fini(&q);
    return st;
}

labels_status_t labels_validate(const label_t *ls, size_t n, const labels_limits_t *lim, char *err, size_t errlen)
{
    assert(ls || n == 0);
    static const labels_limits_t none = { 0 };
    if (!lim) {
        lim = &none;
    }
    buf_t msg = { 0 };
    labels_status_t st = LABELS_OK;
    bool has_name = false;
    bool unsorted = false;
    if (lim->max_labels && n > lim->max_labels) {
        buf_printf(&msg, "series has %zu labels, exceeds limit %zu", n, lim->max_labels);
        st = LABELS_TOO_MANY;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        st = check_label(ls, i, lim, &has_name, &unsorted, &msg);
        if (st != LABELS_OK) {
            goto done;
        }
    }
    if (!has_name) {
        buf_puts(&msg, "series has no __name__ label");
        st = LABELS_NO_NAME;
    }
done:
    if (err && errlen) {
        if (msg.len) {
            snprintf(err, errlen, "%s", (const char *)msg.data);
        } else {
            err[0] = '\0';
        }
    }
    buf_fini(&msg);
    return st;
}

const char *labels_status_name(labels_status_t st)
{
    switch (st) {
    case LABELS_OK:
        return "ok";
    case LABELS_NO_NAME:
        return "no_name";
    case LABELS_DUP_NAME:
        return "dup_name";
    case LABELS_BAD_NAME:
        return "bad_name";
    case LABELS_BAD_UTF8:
        return "bad_utf8";
    case LABELS_TOO_LONG:
        return "too_long";
    case LABELS_TOO_MANY:
        return "too_many";
    }
    return "unknown";
}

static size_t encoded_len(const label_t *ls, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        total += varint_len_u64(ls[i].name.len) + ls[i].name.len;
        total += varint_len_u64(ls[i].value.len) + ls[i].value.len;
    }
    return total;
}

/* Write the canonical bytes into dst, which holds encoded_len() bytes. */
static void encode_into(const label_t *ls, size_t n, uint8_t *dst)
{
    for (size_t i = 0; i < n; i++) {
        dst += varint_put_u64(dst, ls[i].name.len);
        if (ls[i].name.len) {
            memcpy(dst, ls[i].name.p, ls[i].name.len);
            dst += ls[i].name.len;
        }
        dst += varint_put_u64(dst, ls[i].value.len);
        if (ls[i].value.len) {
            memcpy(dst, ls[i].value.p, ls[i].value.len);
            dst += ls[i].value.len;
        }
    }
}

void labels_encode(const label_t *ls, size_t n, buf_t *out)
{
    size_t need = encoded_len(ls, n);
    buf_reserve(out, need);
    encode_into(ls, n, out->data + out->len);
    out->len += need;
    out->data[out->len] = 0;
}

long labels_decode(const uint8_t *p, size_t len, label_t *ls, size_t max)
{
    size_t off = 0;
    size_t n = 0;
    while (off < len) {
        if (n >= max) {
            return -1;
        }
        str_t part[2];
        for (int k = 0; k < 2; k++) {
            uint64_t l = 0;
            size_t used = varint_get_u64(p + off, len - off, &l);
            if (used == 0) {
                return -1;
            }
            off += used;
            if (l > len - off) {
                return -1;
            }
            part[k] = str_from((const char *)p + off, (size_t)l);
            off += (size_t)l;
        }
        ls[n].name = part[0];
        ls[n].value = part[1];
        n++;
    }
    return (long)n;
}

uint64_t labels_hash(const label_t *ls, size_t n)
{
    uint8_t stack[1024];
    size_t need = encoded_len(ls, n);
    uint8_t *p = need <= sizeof(stack) ? stack : mem_alloc(need);
    encode_into(ls, n, p);
    uint64_t h = hash_bytes(p, need);
    if (p != stack) {
        mem_free(p);
    }
    return h;
}

str_t labels_get(const label_t *ls, size_t n, const char *name)
{
    str_t want = str_cstr(name);
    for (size_t i = 0; i < n; i++) {
        if (str_eq(ls[i].name, want)) {
            return ls[i].value;
        }
    }
    return str_from("", 0);
}

void labels_format(const label_t *ls, size_t n, buf_t *out)
{
    buf_putc(out, '{');
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            buf_append(out, ", ", 2);
        }
        if (labels_valid_label_name(ls[i].name)) {
            buf_append(out, ls[i].name.p, ls[i].name.len);
        } else {
            labels_quote(ls[i].name, out);
        }
        buf_putc(out, '=');
        labels_quote(ls[i].value, out);
    }
    buf_putc(out, '}');
}

int labels_compare(const label_t *a, size_t na, const label_t *b, size_t nb)
{
    size_t n = na < nb ? na : nb;
    for (size_t i = 0; i < n; i++) {
        int c = str_cmp(a[i].name, b[i].name);
        if (c != 0) {
            return c;
        }
        c = str_cmp(a[i].value, b[i].value);
        if (c != 0) {
            return c;
        }
    }
    return (na > nb) - (na < nb);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * logql_parsers: the label-extracting stages json, json with paths,
 * logfmt (--strict, --keep-empty, with names), unpack and pattern, with
 * Loki's results (pkg/logql/log/parser.go, logfmt/decode.go,
 * pattern/pattern.go).
 *
 * Core idea: the json stage is a hand-written scanner that walks the line
 * in place the way grafana/jsonparser's ObjectEach does, not a DOM: Loki's
 * observable behaviour (trailing bytes after the object ignored, labels
 * extracted before a syntax error kept beside __error__, arrays and nulls
 * skipped, jsonparser's error texts as __error_details__) falls out of the
 * same scan order, and a DOM (jansson) would allocate per entry and cost
 * several times more on the 2M-line benchmark. Values without escapes
 * borrow the line; names and unescaped values go to the entry's scratch.
 *
 * Names: nested keys are joined with "_" and sanitised per rune (anything
 * outside [a-zA-Z0-9_] becomes "_", a leading digit gets "_"); a name that
 * is already a stream label gets the "_extracted" suffix.
 *
 * Invariants: scanners never read past the line; recursion in nested
 * objects is bounded by LQ_JSON_DEPTH (deeper objects are skipped whole).
 */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <string.h>

#include "common/str.h"
#include "query/logql_int.h"

#define LQ_JSON_DEPTH 64

static const char E_OBJ[] = "Value looks like object, but can't find closing '}' symbol";
static const char E_JSON[] = "Malformed JSON error";
static const char E_STR[] = "Value is string, but can't find closing '\"' symbol";
static const char E_ARR[] = "Value is array, but can't find closing ']' symbol";
static const char E_UNK[] = "Unknown value type";

/* object_each's non-error stops (compared by address): every required
 * label found (Loki's errFoundAllLabels), a hint's filter rejected the
 * line (errLabelDoesNotMatch). */
static const char J_FOUND_ALL[] = "found all required labels";
static const char J_NO_MATCH[] = "found a label with a matcher that didn't match";

typedef enum jtype { J_STRING, J_NUMBER, J_OBJECT, J_ARRAY, J_BOOL, J_NULL } jtype_t;

static long next_token(const char *s, size_t n, size_t off)
{
    for (size_t i = off; i < n; i++) {
        if (s[i] != ' ' && s[i] != '\n' && s[i] != '\r' && s[i] != '\t') {
            return (long)i;
        }
    }
    return -1;
}

/* s[off] is just after an opening quote: index just past the closing
 * quote, or -1; *esc says whether a backslash was seen. */
static long string_end(const char *s, size_t n, size_t off, bool *esc)
{
    bool escaped = false;
    for (size_t i = off; i < n; i++) {
        if (s[i] == '"') {
            if (!escaped) {
                *esc = false;
                return (long)i + 1;
            }
            long j = (long)i - 1;
            for (;;) {
                if (j < (long)off || s[j] != '\\') {
                    *esc = true;
                    return (long)i + 1;
                }
                j--;
                if (j < (long)off || s[j] != '\\') {
                    break;
                }
                j--;
            }
        } else if (s[i] == '\\') {
            escaped = true;
        }
    }
    *esc = escaped;
    return -1;
}

static long block_end(const char *s, size_t n, size_t off, char open, char close)
{
    int level = 0;
    for (size_t i = off; i < n; i++) {
        if (s[i] == '"') {
            bool esc;
            long e = string_end(s, n, i + 1, &esc);
            if (e < 0) {
                return -1;
            }
            i = (size_t)e - 1;
        } else if (s[i] == open) {
            level++;
        } else if (s[i] == close) {
            level--;
            if (level == 0) {
                return (long)i + 1;
            }
        }
    }
    return -1;
}

/* One value at s[off] (off at a token): [vs, ve) and its type, *end past
 * it; or an error text. Strings exclude their quotes. */
static const char *get_value(const char *s, size_t n, size_t off, size_t *vs, size_t *ve, size_t *end, jtype_t *t)
{
    long o = next_token(s, n, off);
    if (o < 0) {
        return E_JSON;
    }
    size_t i = (size_t)o;
    char c = s[i];
    if (c == '"') {
        bool esc;
        long e = string_end(s, n, i + 1, &esc);
        if (e < 0) {
            return E_STR;
        }
        *t = J_STRING;
        *vs = i + 1;
        *ve = (size_t)e - 1;
        *end = (size_t)e;
        return NULL;
    }
    if (c == '[' || c == '{') {
        long e = block_end(s, n, i, c, c == '[' ? ']' : '}');
        if (e < 0) {
            return c == '[' ? E_ARR : E_OBJ;
        }
        *t = c == '[' ? J_ARRAY : J_OBJECT;
        *vs = i;
        *ve = *end = (size_t)e;
        return NULL;
    }
    size_t j = i;
    while (j < n && s[j] != ' ' && s[j] != '\n' && s[j] != '\r' && s[j] != '\t' && s[j] != ',' && s[j] != '}' &&
           s[j] != ']') {
        j++;
    }
    str_t v = { s + i, j - i };
    if (c == 't' || c == 'f') {
        if (!str_eq_cstr(v, "true") && !str_eq_cstr(v, "false")) {
            return E_UNK;
        }
        *t = J_BOOL;
    } else if (c == 'u' || c == 'n') {
        if (!str_eq_cstr(v, "null")) {
            return E_UNK;
        }
        *t = J_NULL;
    } else if ((c >= '0' && c <= '9') || c == '-') {
        *t = J_NUMBER;
    } else {
        return E_UNK;
    }
    *vs = i;
    *ve = *end = j;
    return NULL;
}

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int d = str_hex_digit((unsigned char)p[i]);
        if (d < 0) {
            return -1;
        }
        v = v * 16 + d;
    }
    return v;
}

/* JSON string unescape into out; false on a bad escape. */
static bool json_unescape(const char *p, size_t n, buf_t *out)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\\') {
            buf_putc(out, (uint8_t)p[i]);
            continue;
        }
        if (++i >= n) {
            return false;
        }
        switch (p[i]) {
        case '"':
        case '\\':
        case '/':
            buf_putc(out, (uint8_t)p[i]);
            break;
        case 'b':
            buf_putc(out, '\b');
            break;
        case 'f':
            buf_putc(out, '\f');
            break;
        case 'n':
            buf_putc(out, '\n');
            break;
        case 'r':
            buf_putc(out, '\r');
            break;
        case 't':
            buf_putc(out, '\t');
            break;
        case 'u': {
            if (i + 4 >= n) {
                return false;
            }
            int r = hex4(p + i + 1);
            if (r < 0) {
                return false;
            }
            i += 4;
            uint32_t cp = (uint32_t)r;
            if (cp >= 0xd800 && cp < 0xdc00) {
                int r2 = -1;
                if (i + 6 < n && p[i + 1] == '\\' && p[i + 2] == 'u') {
                    r2 = hex4(p + i + 3);
                }
                if (r2 >= 0xdc00 && r2 < 0xe000) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)r2 - 0xdc00);
                    i += 6;
                } else {
                    cp = 0xfffd;
                }
            } else if (cp >= 0xdc00 && cp < 0xe000) {
                cp = 0xfffd;
            }
            char tmp[4];
            buf_append(out, tmp, str_utf8_encode(cp, tmp));
            break;
        }
        default:
            return false;
        }
    }
    return true;
}

/* Loki replaces each invalid UTF-8 byte (and U+FFFD) by a space. */
static void fix_utf8(buf_t *b, size_t from)
{
    if (str_utf8_valid((const char *)b->data + from, b->len - from)) {
        const uint8_t *p = b->data + from;
        size_t n = b->len - from;
        if (memmem(p, n, "\xef\xbf\xbd", 3) == NULL) {
            return;
        }
    }
    size_t w = from;
    for (size_t i = from; i < b->len;) {
        unsigned char c = b->data[i];
        size_t k = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
        if (k == 0 || i + k > b->len || !str_utf8_valid((const char *)b->data + i, k)) {
            b->data[w++] = ' ';
            i++;
            continue;
        }
        if (k == 3 && memcmp(b->data + i, "\xef\xbf\xbd", 3) == 0) {
            b->data[w++] = ' ';
            i += 3;
            continue;
        }
        memmove(b->data + w, b->data + i, k);
        w += k;
        i += k;
    }
    b->len = w;
}

static str_t json_string_value(lq_lbs_t *b, const char *p, size_t n, buf_t *tmp)
{
    if (memchr(p, '\\', n) == NULL && str_utf8_valid(p, n) && memmem(p, n, "\xef\xbf\xbd", 3) == NULL) {
        return (str_t){ p, n };
    }
    buf_reset(tmp);
    if (!json_unescape(p, n, tmp)) {
        return (str_t){ "", 0 };
    }
    fix_utf8(tmp, 0);
    return lq_lbs_dup(b, (const char *)tmp->data, tmp->len);
}

typedef struct jstate {
    lq_lbs_t *b;
    buf_t *prefix;
    buf_t *tmp;
    int depth;
} jstate_t;

static const char *object_each(jstate_t *st, const char *s, size_t n);

static const char *on_value(jstate_t *st, const char *s, str_t key, size_t vs, size_t ve, jtype_t t)
{
    if (t == J_ARRAY || t == J_NULL) {
        return NULL;
    }
    buf_t *pb = st->prefix;
    size_t plen = pb->len;
    if (t == J_OBJECT) {
        if (plen > 0) {
            buf_putc(pb, '_');
        }
        lq_sanitize_key(key.p, key.len, pb->len == 0, pb);
        const char *e = NULL;
        if (st->depth < LQ_JSON_DEPTH && lq_hint_extract_prefix(st->b, (str_t){ (const char *)pb->data, pb->len })) {
            st->depth++;
            e = object_each(st, s + vs, ve - vs);
            st->depth--;
        }
        pb->len = plen;
        return e;
    }
    if (plen > 0) {
        buf_putc(pb, '_');
    }
    lq_sanitize_key(key.p, key.len, pb->len == 0, pb);
    if (pb->len == 0 || (plen > 0 && pb->len == plen + 1)) {
        pb->len = plen;
        if (plen == 0) {
            return NULL;
        }
        buf_putc(pb, '_'); /* an empty nested key still joins */
    }
    str_t name = { (const char *)pb->data, pb->len };
    if (lq_lbs_base_has(st->b, name)) {
        buf_puts(pb, "_extracted");
        name = (str_t){ (const char *)pb->data, pb->len };
    }
    bool want = lq_hint_should_extract(st->b, name);
    if (want) {
        name = lq_lbs_dup(st->b, name.p, name.len);
    }
    pb->len = plen;
    const char *rc = NULL;
    if (want) {
        str_t val;
        if (t == J_STRING) {
            val = json_string_value(st->b, s + vs, ve - vs, st->tmp);
        } else {
            val = (str_t){ s + vs, ve - vs };
        }
        lq_lbs_set(st->b, name, val, LQ_CAT_PARSED);
        if (!lq_hint_continue(st->b, name)) {
            rc = J_NO_MATCH;
        }
    }
    /* Loki checks for the end before reporting a failed filter */
    return lq_hint_all_extracted(st->b) ? J_FOUND_ALL : rc;
}

/* jsonparser.ObjectEach over s[0..n): NULL, or the error text. */
static const char *object_each(jstate_t *st, const char *s, size_t n)
{
    long o = next_token(s, n, 0);
    if (o < 0 || s[o] != '{') {
        return E_OBJ;
    }
    size_t off = (size_t)o + 1;
    o = next_token(s, n, off);
    if (o < 0) {
        return E_JSON;
    }
    off = (size_t)o;
    if (s[off] == '}') {
        return NULL;
    }
    while (off < n) {
        if (s[off] == '}') {
            return NULL;
        }
        if (s[off] != '"') {
            return E_OBJ;
        }
        off++;
        bool esc = false;
        long e = string_end(s, n, off, &esc);
        if (e < 0) {
            return E_JSON;
        }
        str_t key = { s + off, (size_t)e - 1 - off };
        if (esc) {
            buf_t kb = { 0 };
            if (json_unescape(key.p, key.len, &kb)) {
                key = lq_lbs_dup(st->b, (const char *)kb.data, kb.len);
            }
            buf_fini(&kb);
        }
        off = (size_t)e;
        o = next_token(s, n, off);
        if (o < 0 || s[o] != ':') {
            return E_JSON;
        }
        off = (size_t)o + 1;
        size_t vs = 0, ve = 0, end = 0;
        jtype_t t = J_NULL;
        const char *err = get_value(s, n, off, &vs, &ve, &end, &t);
        if (err != NULL) {
            return err;
        }
        if ((err = on_value(st, s, key, vs, ve, t)) != NULL) {
            return err;
        }
        off = end;
        o = next_token(s, n, off);
        if (o < 0) {
            return E_ARR;
        }
        off = (size_t)o;
        if (s[off] == '}') {
            return NULL;
        }
        if (s[off] != ',') {
            return E_OBJ;
        }
        off++;
        o = next_token(s, n, off);
        if (o < 0) {
            return E_ARR;
        }
        off = (size_t)o;
    }
    return E_OBJ;
}

bool lq_json_parse(lq_lbs_t *b, str_t line, buf_t *tmp, buf_t *prefix)
{
    if (lq_hint_no_labels(b)) {
        return true;
    }
    buf_reset(prefix);
    jstate_t st = { .b = b, .tmp = tmp, .prefix = prefix };
    const char *err = object_each(&st, line.p ? line.p : "", line.len);
    if (err == J_NO_MATCH) {
        return false;
    }
    if (err != NULL && err != J_FOUND_ALL) {
        lq_hint_parser_err(b, "JSONParserErr", str_cstr(err));
    }
    return true;
}

/* ---- json with expressions: a.b[0], a["x y"] ---- */

int lq_jpath_compile(str_t name, str_t expr, arena_t *a, lq_jpath_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->name = name;
    size_t cap = expr.len + 1;
    out->keys = arena_calloc(a, cap, sizeof(str_t));
    out->idx = arena_calloc(a, cap, sizeof(long));
    out->is_idx = arena_calloc(a, cap, sizeof(bool));
    const char *p = expr.p;
    size_t n = expr.len;
    size_t i = 0;
    bool first = true;
    while (i < n) {
        if (p[i] == '.' && !first) {
            i++;
        } else if (p[i] == '[') {
            i++;
            if (i < n && (p[i] == '"' || p[i] == '\'')) {
                char q = p[i++];
                size_t s = i;
                while (i < n && p[i] != q) {
                    i++;
                }
                if (i >= n) {
                    goto bad;
                }
                out->keys[out->n++] = (str_t){ p + s, i - s };
                i++;
            } else {
                long v = 0;
                size_t s = i;
                while (i < n && p[i] >= '0' && p[i] <= '9') {
                    v = v * 10 + (p[i] - '0');
                    i++;
                }
                if (i == s) {
                    goto bad;
                }
                out->is_idx[out->n] = true;
                out->idx[out->n++] = v;
            }
            if (i >= n || p[i] != ']') {
                goto bad;
            }
            i++;
            first = false;
            continue;
        } else if (!first) {
            goto bad;
        }
        size_t s = i;
        while (i < n && p[i] != '.' && p[i] != '[') {
            i++;
        }
        if (i == s) {
            goto bad;
        }
        out->keys[out->n++] = (str_t){ p + s, i - s };
        first = false;
    }
    if (out->n == 0) {
        goto bad;
    }
    if (!labels_valid_label_name(name)) {
        snprintf(err, errlen, "invalid extracted label name '%.*s'", (int)name.len, name.p);
        return -1;
    }
    return 0;
bad:
    snprintf(err, errlen, "cannot parse expression [%.*s]: syntax error", (int)expr.len, expr.p);
    return -1;
}

/* Find key in the object s[0..n): value bounds, or false. */
static bool obj_get(const char *s, size_t n, str_t key, size_t *vs, size_t *ve, jtype_t *t)
{
    long o = next_token(s, n, 0);
    if (o < 0 || s[o] != '{') {
        return false;
    }
    size_t off = (size_t)o + 1;
    for (;;) {
        o = next_token(s, n, off);
        if (o < 0 || s[o] != '"') {
            return false;
        }
        off = (size_t)o + 1;
        bool esc;
        long e = string_end(s, n, off, &esc);
        if (e < 0) {
            return false;
        }
        str_t k = { s + off, (size_t)e - 1 - off };
        off = (size_t)e;
        o = next_token(s, n, off);
        if (o < 0 || s[o] != ':') {
            return false;
        }
        size_t end = 0;
        if (get_value(s, n, (size_t)o + 1, vs, ve, &end, t) != NULL) {
            return false;
        }
        if (str_eq(k, key)) {
            return true;
        }
        off = end;
        o = next_token(s, n, off);
        if (o < 0 || s[o] != ',') {
            return false;
        }
        off = (size_t)o + 1;
    }
}

static bool arr_get(const char *s, size_t n, long idx, size_t *vs, size_t *ve, jtype_t *t)
{
    long o = next_token(s, n, 0);
    if (o < 0 || s[o] != '[') {
        return false;
    }
    size_t off = (size_t)o + 1;
    for (long i = 0;; i++) {
        o = next_token(s, n, off);
        if (o < 0 || s[o] == ']') {
            return false;
        }
        size_t end = 0;
        if (get_value(s, n, (size_t)o, vs, ve, &end, t) != NULL) {
            return false;
        }
        if (i == idx) {
            return true;
        }
        o = next_token(s, n, end);
        if (o < 0 || s[o] != ',') {
            return false;
        }
        off = (size_t)o + 1;
    }
}

void lq_json_extract(lq_lbs_t *b, str_t line, const lq_jpath_t *paths, size_t n, buf_t *tmp)
{
    if (lq_hint_no_labels(b)) {
        return;
    }
    long o = next_token(line.p ? line.p : "", line.len, 0);
    if (o < 0 || (line.p[o] != '{' && line.p[o] != '[')) {
        lq_hint_parser_err(b, "JSONParserErr", (str_t){ "", 0 });
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const lq_jpath_t *jp = &paths[i];
        const char *s = line.p;
        size_t len = line.len;
        size_t vs = 0, ve = len;
        jtype_t t = J_OBJECT;
        bool found = true;
        for (size_t k = 0; k < jp->n && found; k++) {
            found =
                jp->is_idx[k] ? arr_get(s, len, jp->idx[k], &vs, &ve, &t) : obj_get(s, len, jp->keys[k], &vs, &ve, &t);
            s += vs;
            len = ve - vs;
        }
        str_t name = jp->name;
        if (lq_lbs_base_has(b, name)) {
            buf_reset(tmp);
            buf_append(tmp, name.p, name.len);
            buf_puts(tmp, "_extracted");
            name = lq_lbs_dup(b, (const char *)tmp->data, tmp->len);
        }
        str_t val = { "", 0 };
        if (found && t == J_STRING) {
            val = json_string_value(b, s, len, tmp);
        } else if (found && t != J_NULL) {
            val = (str_t){ s, len };
        }
        if (found) {
            lq_lbs_set(b, name, val, LQ_CAT_PARSED);
        } else {
            str_t cur;
            if (!lq_lbs_get(b, jp->name, &cur)) {
                lq_lbs_set(b, jp->name, (str_t){ "", 0 }, LQ_CAT_PARSED);
            }
        }
    }
}

/* ---- unpack: {"_entry": "line", "k": "v"} as promtail's pack writes ---- */

void lq_unpack_parse(lq_lbs_t *b, str_t *line, buf_t *tmp)
{
    if (line->len == 0 || lq_hint_no_labels(b)) {
        return;
    }
    const char *s = line->p ? line->p : "";
    size_t n = line->len;
    long o = next_token(s, n, 0);
    if (o < 0 || s[o] != '{') {
        lq_hint_parser_err(b, "JSONParserErr", str_cstr(E_OBJ));
        return;
    }
    size_t off = (size_t)o + 1;
    str_t entry = { NULL, 0 };
    for (;;) {
        o = next_token(s, n, off);
        if (o >= 0 && s[o] == '}') {
            break;
        }
        if (o < 0 || s[o] != '"') {
            lq_hint_parser_err(b, "JSONParserErr", str_cstr(o < 0 ? E_JSON : E_OBJ));
            return;
        }
        off = (size_t)o + 1;
        bool esc;
        long e = string_end(s, n, off, &esc);
        if (e < 0) {
            lq_hint_parser_err(b, "JSONParserErr", str_cstr(E_JSON));
            return;
        }
        str_t k = { s + off, (size_t)e - 1 - off };
        o = next_token(s, n, (size_t)e);
        if (o < 0 || s[o] != ':') {
            lq_hint_parser_err(b, "JSONParserErr", str_cstr(E_JSON));
            return;
        }
        size_t vs = 0, ve = 0, end = 0;
        jtype_t t = J_NULL;
        const char *err = get_value(s, n, (size_t)o + 1, &vs, &ve, &end, &t);
        if (err != NULL) {
            lq_hint_parser_err(b, "JSONParserErr", str_cstr(err));
            return;
        }
        if (t == J_STRING) {
            str_t v = json_string_value(b, s + vs, ve - vs, tmp);
            if (str_eq_cstr(k, "_entry")) {
                entry = v;
            } else {
                str_t name = k;
                if (lq_lbs_base_has(b, name)) {
                    buf_reset(tmp);
                    buf_append(tmp, k.p, k.len);
                    buf_puts(tmp, "_extracted");
                    name = (str_t){ (const char *)tmp->data, tmp->len };
                }
                if (lq_hint_should_extract(b, name)) {
                    lq_lbs_set(b, lq_lbs_dup(b, name.p, name.len), v, LQ_CAT_PARSED);
                }
            }
        }
        o = next_token(s, n, end);
        if (o >= 0 && s[o] == '}') {
            break;
        }
        if (o < 0 || s[o] != ',') {
            lq_hint_parser_err(b, "JSONParserErr", str_cstr(o < 0 ? E_ARR : E_OBJ));
            return;
        }
        off = (size_t)o + 1;
    }
    if (entry.p != NULL) {
        *line = entry;
    }
}

/* ---- logfmt (Loki's fork of go-logfmt's decoder) ---- */

typedef struct lfdec {
    const char *s;
    size_t n, pos;
    str_t key, val;
    bool has_val;
    char err[128];
    bool failed;
} lfdec_t;

static void lf_unexpected(lfdec_t *d, char c)
{
    if (c == '"') {
        snprintf(d->err, sizeof(d->err), "logfmt syntax error at pos %zu : unexpected '\"'", d->pos + 1);
    } else {
        snprintf(d->err, sizeof(d->err), "logfmt syntax error at pos %zu : unexpected '%c'", d->pos + 1, c);
    }
    d->failed = true;
}

static bool lf_unquote(const char *p, size_t n, buf_t *out)
{
    return json_unescape(p, n, out);
}

/* One key/value; false on the end of the line or an error (d->failed). */
static bool lf_scan(lfdec_t *d, buf_t *tmp)
{
    d->key = (str_t){ NULL, 0 };
    d->val = (str_t){ NULL, 0 };
    d->has_val = false;
    const char *s = d->s;
    while (d->pos < d->n && (unsigned char)s[d->pos] <= ' ') {
        d->pos++;
    }
    if (d->pos >= d->n) {
        return false;
    }
    size_t start = d->pos;
    while (d->pos < d->n) {
        unsigned char c = (unsigned char)s[d->pos];
        if (c == '=') {
            if (d->pos == start) {
                lf_unexpected(d, '=');
                return false;
            }
            d->key = (str_t){ s + start, d->pos - start };
            goto equal;
        }
        if (c == '"') {
            lf_unexpected(d, '"');
            return false;
        }
        if (c <= ' ') {
            d->key = (str_t){ s + start, d->pos - start };
            return true;
        }
        d->pos++;
    }
    d->key = (str_t){ s + start, d->pos - start };
    return true;
equal:
    d->pos++;
    if (d->pos >= d->n || (unsigned char)s[d->pos] <= ' ') {
        return true;
    }
    if (s[d->pos] == '"') {
        size_t qs = d->pos;
        bool esc = false, has_esc = false;
        for (size_t i = d->pos + 1; i < d->n; i++) {
            char c = s[i];
            if (esc) {
                esc = false;
            } else if (c == '\\') {
                esc = has_esc = true;
            } else if (c == '"') {
                d->pos = i + 1;
                if (has_esc) {
                    buf_reset(tmp);
                    if (!lf_unquote(s + qs + 1, i - qs - 1, tmp)) {
                        snprintf(d->err, sizeof(d->err), "logfmt syntax error at pos %zu : invalid quoted value",
                                 d->pos + 1);
                        d->failed = true;
                        return false;
                    }
                    d->val = (str_t){ (const char *)tmp->data, tmp->len };
                } else {
                    d->val = (str_t){ s + qs + 1, i - qs - 1 };
                }
                d->has_val = true;
                return true;
            }
        }
        d->pos = d->n;
        snprintf(d->err, sizeof(d->err), "logfmt syntax error at pos %zu : unterminated quoted value", d->pos + 1);
        d->failed = true;
        return false;
    }
    start = d->pos;
    while (d->pos < d->n) {
        unsigned char c = (unsigned char)s[d->pos];
        if (c == '=' || c == '"') {
            lf_unexpected(d, (char)c);
            return false;
        }
        if (c <= ' ') {
            break;
        }
        d->pos++;
    }
    d->val = (str_t){ s + start, d->pos - start };
    d->has_val = true;
    return true;
}

static str_t lf_value(lq_lbs_t *b, str_t v, buf_t *tmp)
{
    if (v.len == 0) {
        return (str_t){ "", 0 };
    }
    if (v.p != (const char *)tmp->data && str_utf8_valid(v.p, v.len) && memmem(v.p, v.len, "\xef\xbf\xbd", 3) == NULL) {
        return v;
    }
    buf_t fx = { 0 };
    buf_append(&fx, v.p, v.len);
    fix_utf8(&fx, 0);
    str_t r = lq_lbs_dup(b, (const char *)fx.data, fx.len);
    buf_fini(&fx);
    return r;
}

static bool is_logfmt_id(const logql_kv_t *kvs, size_t nkvs, str_t key)
{
    for (size_t i = 0; i < nkvs; i++) {
        if (str_eq((str_t){ kvs[i].name.p, kvs[i].name.len }, key)) {
            return true;
        }
    }
    return false;
}

bool lq_logfmt_parse(lq_lbs_t *b, str_t line, bool strict, bool keep_empty, const logql_kv_t *kvs, size_t nkvs,
                     buf_t *tmp, buf_t *kb)
{
    if (lq_hint_no_labels(b)) {
        return true;
    }
    lfdec_t d = { .s = line.p ? line.p : "", .n = line.len };
    for (size_t i = 0; i < nkvs; i++) {
        str_t id = { kvs[i].name.p, kvs[i].name.len };
        if (!lq_lbs_base_has(b, id)) {
            lq_lbs_set(b, id, (str_t){ "", 0 }, LQ_CAT_PARSED);
        }
    }
    while (d.pos < d.n) {
        d.failed = false;
        size_t before = d.pos;
        if (!lf_scan(&d, tmp)) {
            if (d.failed) {
                if (strict) {
                    break;
                }
                if (d.pos <= before || (d.pos < d.n && (d.s[d.pos] == '=' || d.s[d.pos] == '"'))) {
                    d.pos++;
                }
                continue;
            }
            break;
        }
        buf_reset(kb);
        lq_sanitize_key(d.key.p, d.key.len, true, kb);
        if (kb->len == 0) {
            continue;
        }
        str_t key = { (const char *)kb->data, kb->len };
        if (nkvs > 0) {
            /* Loki's LogfmtExpressionParser: hints filter the line's keys
             * (an identifier's own name always passes) before the paths
             * map them to identifiers */
            if (!is_logfmt_id(kvs, nkvs, key) && !lq_hint_should_extract(b, key)) {
                continue;
            }
            const logql_kv_t *hit = NULL;
            for (size_t i = 0; i < nkvs && hit == NULL; i++) {
                if (str_eq((str_t){ kvs[i].value.p, kvs[i].value.len }, key)) {
                    hit = &kvs[i];
                }
            }
            if (hit == NULL) {
                continue;
            }
            str_t val = lf_value(b, d.val, tmp);
            str_t id = { hit->name.p, hit->name.len };
            if (lq_lbs_base_has(b, id)) {
                buf_reset(kb);
                buf_append(kb, id.p, id.len);
                buf_puts(kb, "_extracted");
                id = (str_t){ (const char *)kb->data, kb->len };
                if (!lq_hint_should_extract(b, id)) {
                    break;
                }
                id = lq_lbs_dup(b, id.p, id.len);
            }
            if (val.p == (const char *)tmp->data) {
                val = lq_lbs_dup(b, val.p, val.len);
            }
            lq_lbs_set(b, id, val, LQ_CAT_PARSED);
            if (lq_hint_all_extracted(b)) {
                break;
            }
            continue;
        }
        if (lq_lbs_base_has(b, key)) {
            buf_puts(kb, "_extracted");
            key = (str_t){ (const char *)kb->data, kb->len };
        }
        if (!lq_hint_should_extract(b, key)) {
            continue;
        }
        str_t val = lf_value(b, d.val, tmp);
        if (!keep_empty && val.len == 0) {
            continue;
        }
        if (val.p == (const char *)tmp->data) {
            val = lq_lbs_dup(b, val.p, val.len);
        }
        key = lq_lbs_dup(b, key.p, key.len);
        lq_lbs_set(b, key, val, LQ_CAT_PARSED);
        if (!lq_hint_continue(b, key)) {
            return false;
        }
        if (lq_hint_all_extracted(b)) {
            d.failed = false;
            break;
        }
    }
    if (strict && d.failed) {
        lq_hint_parser_err(b, "LogfmtParserErr", lq_lbs_dup(b, d.err, strlen(d.err)));
        if (nkvs == 0 && !lq_hint_continue(b, STR_LIT(LQ_ERR_LABEL))) {
            return false;
        }
    }
    return true;
}

/* ---- pattern ---- */

typedef struct pnode {
    bool capture;
    str_t text; /* literal bytes, or the capture's name ("_" unnamed) */
} pnode_t;

struct lq_pattern {
    pnode_t *n;
    size_t len;
};

static bool is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

lq_pattern_t *lq_pattern_compile(str_t p, bool need_capture, arena_t *a, char *err, size_t errlen)
{
    lq_pattern_t *pt = arena_calloc(a, 1, sizeof(*pt));
    pt->n = arena_calloc(a, p.len + 1, sizeof(pnode_t));
    size_t lit = 0;
    size_t i = 0;
    size_t ncapt = 0;
    while (i < p.len) {
        if (p.p[i] == '<' && i + 1 < p.len && is_ident_start(p.p[i + 1])) {
            size_t j = i + 1;
            while (j < p.len && (is_ident_start(p.p[j]) || (p.p[j] >= '0' && p.p[j] <= '9'))) {
                j++;
            }
            if (j < p.len && p.p[j] == '>') {
                if (i > lit) {
                    pt->n[pt->len++] = (pnode_t){ false, { p.p + lit, i - lit } };
                }
                if (pt->len > 0 && pt->n[pt->len - 1].capture) {
                    snprintf(err, errlen, "consecutive capture not allowed");
                    return NULL;
                }
                str_t name = { p.p + i + 1, j - i - 1 };
                for (size_t k = 0; k < pt->len; k++) {
                    if (pt->n[k].capture && !str_eq_cstr(name, "_") && str_eq(pt->n[k].text, name)) {
                        snprintf(err, errlen, "duplicate capture name (%.*s)", (int)name.len, name.p);
                        return NULL;
                    }
                }
                pt->n[pt->len++] = (pnode_t){ true, name };
                ncapt += !str_eq_cstr(name, "_");
                i = lit = j + 1;
                continue;
            }
        }
        i++;
    }
    if (i > lit) {
        pt->n[pt->len++] = (pnode_t){ false, { p.p + lit, i - lit } };
    }
    if (need_capture && ncapt == 0) {
        snprintf(err, errlen, "at least one capture is required");
        return NULL;
    }
    return pt;
}

static const char *find(str_t in, size_t off, str_t lit)
{
    if (off > in.len || lit.len > in.len - off) {
        return NULL;
    }
    return memmem(in.p + off, in.len - off, lit.p, lit.len);
}

bool lq_pattern_test(const lq_pattern_t *p, str_t in)
{
    if (in.len == 0 || p->len == 0) {
        return in.len == 0 && p->len == 0;
    }
    size_t off = 0;
    for (size_t i = 0; i < p->len; i++) {
        if (p->n[i].capture) {
            continue;
        }
        const char *f = find(in, off, p->n[i].text);
        if (f == NULL) {
            return false;
        }
        size_t j = (size_t)(f - (in.p + off));
        if (i == 0 && j != 0) {
            return false;
        }
        if (i != 0 && j == 0) {
            return false;
        }
        off += j + p->n[i].text.len;
    }
    bool ends_lit = !p->n[p->len - 1].capture;
    return ends_lit ? off == in.len : off < in.len;
}

bool lq_pattern_extract(const lq_pattern_t *p, lq_lbs_t *b, str_t in)
{
    if (lq_hint_no_labels(b) || in.len == 0 || p->len == 0) {
        return true;
    }
    size_t i = 0;
    str_t cur = in;
    if (!p->n[0].capture) {
        if (cur.len < p->n[0].text.len || memcmp(cur.p, p->n[0].text.p, p->n[0].text.len) != 0) {
            return true;
        }
        cur.p += p->n[0].text.len;
        cur.len -= p->n[0].text.len;
        i = 1;
    }
    while (i < p->len) {
        const pnode_t *c = &p->n[i];
        str_t val;
        if (i + 1 >= p->len) {
            val = cur;
            i++;
        } else {
            const pnode_t *l = &p->n[i + 1];
            const char *f = find(cur, 0, l->text);
            if (f == NULL) {
                val = cur;
                i = p->len;
            } else {
                val = (str_t){ cur.p, (size_t)(f - cur.p) };
                size_t adv = val.len + l->text.len;
                cur.p += adv;
                cur.len -= adv;
                i += 2;
            }
        }
        if (str_eq_cstr(c->text, "_")) {
            continue;
        }
        str_t name = c->text;
        if (lq_lbs_base_has(b, name)) {
            char *d = arena_alloc(b->scratch, name.len + 10);
            memcpy(d, name.p, name.len);
            memcpy(d + name.len, "_extracted", 10);
            name = (str_t){ d, name.len + 10 };
        }
        if (!lq_hint_should_extract(b, name)) {
            continue;
        }
        lq_lbs_set(b, name, val, LQ_CAT_PARSED);
        if (!lq_hint_continue(b, name)) {
            return false;
        }
    }
    return true;
}

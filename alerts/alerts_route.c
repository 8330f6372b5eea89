/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_route: Alertmanager's route tree semantics (dispatch/route.go)
 * and its matcher text (pkg/labels/parse.go).
 *
 * A route matches when all its matchers do; its children are tried in
 * order, depth first, and the first matching child ends the search unless
 * it has `continue: true`; when no child matched, the route itself is the
 * match. The group key of an alert is "<route key>:<group labels>", where
 * the route key joins each route's sorted matchers from the root
 * ("{}/{severity=\"page\"}") and the group labels print as Go's
 * model.LabelSet.String() ({a="b", c="d"}). These texts are part of the
 * notification log's keys and of receivers' dedup keys, so they must be
 * byte-identical to Alertmanager's.
 *
 * Matcher text: "{a=\"b\", c=~d}" or "a=b, c!=\"d\"": split on commas
 * outside quotes, each `name op value` with Alertmanager's unescaping and
 * error texts ("bad matcher format: ...").
 */
#include <string.h>

#include "alerts/alerts_int.h"
#include "common/mem.h"

static bool name_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static bool name_char(int c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

static bool is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Unescape a matcher value raw[0..rlen) (after its opening quote when
 * quoted) into v as Alertmanager does: \n, \" and \\ decode, any other
 * escape stays as written. false on an unescaped double quote anywhere
 * but as the closing quote of a quoted value, or a missing closing quote. */
static bool unquote_value(const char *raw, size_t rlen, bool quoted, buf_t *v)
{
    bool esc = false;
    for (size_t k = 0; k < rlen; k++) {
        char c = raw[k];
        if (esc) {
            esc = false;
            if (c == 'n') {
                buf_putc(v, '\n');
            } else if (c == '"' || c == '\\') {
                buf_putc(v, (uint8_t)c);
            } else {
                buf_putc(v, '\\');
                buf_putc(v, (uint8_t)c);
            }
        } else if (c == '\\') {
            if (k < rlen - 1) {
                esc = true;
            } else {
                buf_putc(v, '\\');
            }
        } else if (c == '"') {
            if (!quoted || k < rlen - 1) {
                return false;
            }
            quoted = false;
        } else {
            buf_putc(v, (uint8_t)c);
        }
    }
    return !quoted;
}

/* One `name op value` token (Alertmanager's ParseMatcher). */
static int parse_one(const char *s, size_t len, matcher_t **ms, size_t *n, buf_t *err)
{
    size_t i = 0;
    while (i < len && is_space((unsigned char)s[i])) {
        i++;
    }
    size_t ns = i;
    if (i >= len || !name_start((unsigned char)s[i])) {
        goto bad;
    }
    while (i < len && name_char((unsigned char)s[i])) {
        i++;
    }
    size_t ne = i;
    while (i < len && is_space((unsigned char)s[i])) {
        i++;
    }
    match_type_t type;
    if (i + 1 < len && s[i] == '=' && s[i + 1] == '~') {
        type = MATCH_RE;
        i += 2;
    } else if (i + 1 < len && s[i] == '!' && s[i + 1] == '=') {
        type = MATCH_NEQ;
        i += 2;
    } else if (i + 1 < len && s[i] == '!' && s[i + 1] == '~') {
        type = MATCH_NRE;
        i += 2;
    } else if (i < len && s[i] == '=') {
        type = MATCH_EQ;
        i++;
    } else {
        goto bad;
    }
    while (i < len && is_space((unsigned char)s[i])) {
        i++;
    }
    size_t ve = len;
    while (ve > i && is_space((unsigned char)s[ve - 1])) {
        ve--;
    }
    const char *raw = s + i;
    size_t rlen = ve - i;
    bool quoted = rlen > 0 && raw[0] == '"';
    if (quoted) {
        raw++;
        rlen--;
    }
    if (!str_utf8_valid(raw, rlen)) {
        buf_printf(err, "matcher value not valid UTF-8: %.*s", (int)(ve - i), s + i);
        return -1;
    }
    buf_t v = { 0 };
    if (!unquote_value(raw, rlen, quoted, &v)) {
        buf_fini(&v);
        buf_printf(err, "matcher value contains unescaped double quote: %.*s", (int)(ve - i), s + i);
        return -1;
    }
    *ms = mem_realloc(*ms, (*n + 1) * sizeof(**ms));
    char why[256];
    int rc = matcher_init(&(*ms)[*n], type, str_from(s + ns, ne - ns),
                          str_from(v.len ? (const char *)v.data : "", v.len), why, sizeof(why));
    buf_fini(&v);
    if (rc != 0) {
        buf_puts(err, why);
        return -1;
    }
    (*n)++;
    return 0;
bad:
    buf_printf(err, "bad matcher format: %.*s", (int)len, s);
    return -1;
}

int alerts_route_parse_matchers(const char *s, size_t len, matcher_t **ms, size_t *n, buf_t *err)
{
    if (len > 0 && s[0] == '{') {
        s++;
        len--;
    }
    if (len > 0 && s[len - 1] == '}') {
        len--;
    }
    bool inq = false, esc = false;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len) {
            char c = s[i];
            if (c == ',' && !inq) {
                if (parse_one(s + start, i - start, ms, n, err) != 0) {
                    return -1;
                }
                start = i + 1;
                continue;
            }
            if (c == '"') {
                if (!esc) {
                    inq = !inq;
                } else {
                    esc = false;
                }
            } else if (c == '\\') {
                esc = !esc;
            } else {
                esc = false;
            }
            continue;
        }
        size_t b = start, e = len;
        while (b < e && is_space((unsigned char)s[b])) {
            b++;
        }
        while (e > b && is_space((unsigned char)s[e - 1])) {
            e--;
        }
        if (e > b && parse_one(s + b, e - b, ms, n, err) != 0) {
            return -1;
        }
    }
    return 0;
}

bool alerts_route_matches(matcher_t *const *ms, size_t nms, const label_t *ls, size_t n)
{
    for (size_t i = 0; i < nms; i++) {
        if (!matcher_matches(ms[i], labels_get(ls, n, ms[i]->name))) {
            return false;
        }
    }
    return true;
}

static size_t route_match(const amcfg_route_t *r, const label_t *ls, size_t n, const amcfg_route_t **out, size_t max,
                          size_t have)
{
    if (!alerts_route_matches(r->matchers, r->nmatchers, ls, n)) {
        return 0;
    }
    size_t got = 0;
    for (size_t i = 0; i < r->nroutes; i++) {
        size_t m = route_match(&r->routes[i], ls, n, out, max, have + got);
        got += m;
        if (m > 0 && !r->routes[i].cont) {
            break;
        }
    }
    if (got == 0 && have < max) {
        out[have] = r;
        got = 1;
    }
    return got;
}

size_t alerts_route_match(const amcfg_route_t *root, const label_t *ls, size_t n, const amcfg_route_t **out, size_t max)
{
    return route_match(root, ls, n, out, max, 0);
}

static const char *const op_text[] = { "=", "!=", "=~", "!~" };

void alerts_route_fmt_matchers(matcher_t *const *ms, size_t n, buf_t *out)
{
    buf_putc(out, '{');
    for (size_t i = 0; i < n; i++) {
        if (i) {
            buf_putc(out, ',');
        }
        buf_append(out, ms[i]->name, ms[i]->name_len);
        buf_puts(out, op_text[ms[i]->type]);
        labels_quote(str_from(ms[i]->value, ms[i]->value_len), out);
    }
    buf_putc(out, '}');
}

size_t alerts_route_group_labels(const amcfg_route_t *r, const label_t *ls, size_t n, label_t *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (ls[i].value.len == 0) {
            continue;
        }
        bool take = r->group_by_all;
        for (size_t j = 0; j < r->ngroup_by && !take; j++) {
            take = str_eq_cstr(ls[i].name, r->group_by[j]);
        }
        if (take) {
            out[k++] = ls[i];
        }
    }
    return k;
}

void alerts_route_group_key(const amcfg_route_t *r, const label_t *gl, size_t ngl, buf_t *out)
{
    buf_puts(out, r->key);
    buf_puts(out, ":{");
    for (size_t i = 0; i < ngl; i++) {
        if (i) {
            buf_puts(out, ", ");
        }
        buf_append(out, gl[i].name.p, gl[i].name.len);
        buf_putc(out, '=');
        labels_quote(gl[i].value, out);
    }
    buf_putc(out, '}');
}

uint64_t alerts_route_fingerprint(const label_t *ls, size_t n)
{
    return labels_hash(ls, n);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent_auth: the request headers an endpoint or a scrape target is
 * configured with: an Authorization header from a bearer token file or
 * from basic-auth credentials (user name, password file), and any extra
 * "Name: value" headers (X-Scope-OrgID for Mimir and Loki tenants).
 *
 * Secrets live in files (a Kubernetes secret or service-account token
 * mount) and are read at every request, so a rotated token is picked up
 * without a restart; the file's contents never reach a log line, only its
 * path. The headers are built into a buffer the caller owns and reuses,
 * so a steady sender allocates nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent_int.h"

#define AGENT_AUTH_SECRET_MAX 16384

static void agent_auth_base64(buf_t *out, const uint8_t *p, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        v |= i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0;
        v |= i + 2 < n ? p[i + 2] : 0;
        char q[4] = { tbl[(v >> 18) & 63], tbl[(v >> 12) & 63], i + 1 < n ? tbl[(v >> 6) & 63] : '=',
                      i + 2 < n ? tbl[v & 63] : '=' };
        buf_append(out, q, 4);
    }
}

/* Read the secret in path into tmp; [out] *len is its length without
 * trailing newlines/blanks (it starts at tmp->data). 0, or -1 with a
 * reason naming the path (never the contents). */
static int agent_auth_secret(const char *what, const char *path, buf_t *tmp, size_t *len, char *err, size_t errlen)
{
    int rc = coll_read_file(path, "", tmp, AGENT_AUTH_SECRET_MAX);
    if (rc != 0) {
        snprintf(err, errlen, "%s %s: %s", what, path, strerror(-rc));
        return -1;
    }
    size_t n = tmp->len;
    while (n > 0 && (tmp->data[n - 1] == '\n' || tmp->data[n - 1] == '\r' || tmp->data[n - 1] == ' ')) {
        n--;
    }
    if (n == 0 || memchr(tmp->data, '\n', n) || memchr(tmp->data, '\r', n) || memchr(tmp->data, 0, n)) {
        snprintf(err, errlen, "%s %s: empty, or more than one line", what, path);
        return -1;
    }
    *len = n;
    return 0;
}

/* Append base64("user:password") to out, the password read from a's
 * password file (none: empty). tmp holds the credentials meanwhile and is
 * wiped after. 0, or -1 with a reason. */
static int agent_auth_basic(const agent_auth_t *a, buf_t *tmp, buf_t *out, char *err, size_t errlen)
{
    size_t plen = 0;
    buf_reset(tmp);
    if (a->basic_password_file && a->basic_password_file[0] &&
        agent_auth_secret("basic-auth-password-file", a->basic_password_file, tmp, &plen, err, errlen) != 0) {
        return -1;
    }
    /* tmp: | password (plen) | ... | user ":" password |; reserved first so
     * the copy of the password reads from where it was read to. */
    size_t ulen = strlen(a->basic_user);
    buf_reserve(tmp, ulen + 1 + plen);
    size_t at = tmp->len;
    buf_append(tmp, a->basic_user, ulen);
    buf_putc(tmp, ':');
    buf_append(tmp, tmp->data, plen);
    agent_auth_base64(out, tmp->data + at, ulen + 1 + plen);
    memset(tmp->data, 0, tmp->len);
    return 0;
}

int agent_auth_headers(const agent_auth_t *a, const char *const *base, agent_auth_buf_t *b, const char ***out,
                       char *err, size_t errlen)
{
    buf_reset(&b->text);
    size_t nbase = 0;
    while (base && base[nbase]) {
        nbase++;
    }
    size_t nextra = a ? a->headers.n / 2 : 0;
    size_t need = nbase + nextra + 2;
    if (need > b->cap) {
        b->list = mem_realloc(b->list, need * sizeof(*b->list));
        b->cap = need;
    }
    /* Offsets first (text may move while it grows), pointers at the end. */
    size_t offs[AGENT_AUTH_MAX_HEADERS + 1];
    size_t n = 0;
    if (a && a->bearer_token_file && a->bearer_token_file[0]) {
        offs[n++] = b->text.len;
        buf_puts(&b->text, "Authorization: Bearer ");
        size_t len = 0;
        if (agent_auth_secret("bearer-token-file", a->bearer_token_file, &b->tmp, &len, err, errlen) != 0) {
            return -1;
        }
        buf_append(&b->text, b->tmp.data, len);
        memset(b->tmp.data, 0, b->tmp.len);
        buf_putc(&b->text, 0);
    } else if (a && a->basic_user && a->basic_user[0]) {
        offs[n++] = b->text.len;
        buf_puts(&b->text, "Authorization: Basic ");
        if (agent_auth_basic(a, &b->tmp, &b->text, err, errlen) != 0) {
            return -1;
        }
        buf_putc(&b->text, 0);
    }
    for (size_t i = 0; i < nextra && n < AGENT_AUTH_MAX_HEADERS; i++) {
        offs[n++] = b->text.len;
        buf_printf(&b->text, "%s: %s", a->headers.v[2 * i], a->headers.v[2 * i + 1]);
        buf_putc(&b->text, 0);
    }
    size_t k = 0;
    for (size_t i = 0; i < nbase; i++) {
        b->list[k++] = base[i];
    }
    for (size_t i = 0; i < n; i++) {
        b->list[k++] = (const char *)b->text.data + offs[i];
    }
    b->list[k] = NULL;
    *out = b->list;
    return 0;
}

void agent_auth_buf_fini(agent_auth_buf_t *b)
{
    if (b->text.data) {
        memset(b->text.data, 0, b->text.cap);
    }
    if (b->tmp.data) {
        memset(b->tmp.data, 0, b->tmp.cap);
    }
    buf_fini(&b->text);
    buf_fini(&b->tmp);
    mem_free(b->list);
    memset(b, 0, sizeof(*b));
}

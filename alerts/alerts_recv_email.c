/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alerts_recv_email: SMTP (email_configs) through libcurl.
 *
 * Connection as Alertmanager's: smarthost host:port; port 465 is implicit
 * TLS (smtps://); otherwise a plain connection that, with require_tls
 * (default true), must upgrade with STARTTLS (CURLUSESSL_ALL: a server
 * that does not offer it fails the send). EHLO names `hello` (default
 * "localhost", the URL path is curl's EHLO argument). AUTH runs when a
 * username is set and the server advertises AUTH (curl picks the
 * mechanism; auth_identity is the PLAIN authorisation id; auth_secret
 * without a password means CRAM-MD5). One MAIL FROM (the address in
 * `from`), one RCPT TO per address in `to` (comma list, "Name <a@b>" or
 * bare). Each address (label values may reach it) must be local@domain
 * without control bytes, DEL, space, '<' or '>', else the send FAILs
 * naming the field, never quoting the value: no SMTP command injection.
 *
 * Message (RFC 5322, CRLF lines; curl dot-stuffs): the `headers` map
 * (templates), then From, To, Subject unless given there, Date,
 * Message-Id, MIME-Version; non-ASCII header values as RFC 2047 base64
 * encoded words; body multipart/alternative with the text part then the
 * html part (each quoted-printable, present when non-empty).
 *
 * Outcome: SMTP 5xx FAIL, 4xx RETRY (http_code holds the SMTP code);
 * login refused or no STARTTLS FAIL; connection errors, timeouts RETRY.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "alerts/alerts_int.h"
#include "common/hash.h"
#include "common/mem.h"

typedef struct email_cfg {
    const char *to;
    const char *from;
    const char *smarthost;
    const char *hello;
    const char *auth_username;
    alerts_recv_secret_t auth_password;
    alerts_recv_secret_t auth_secret;
    const char *auth_identity;
    bool require_tls;
    alerts_recv_tls_t tls;
    alerts_recv_map_t headers;
    const char *subject;
    const char *html;
    const char *text;
    bool send_resolved;
} email_cfg_t;

typedef struct email_state {
    uint64_t seq; /* Message-Id uniqueness within the process */
} email_state_t;

const alerts_recv_field_t alerts_recv_email_fields[] = {
    { "to", ALERTS_RECV_F_STRING, offsetof(email_cfg_t, to), NULL, "recipients, comma-separated (template; required)" },
    { "from", ALERTS_RECV_F_STRING, offsetof(email_cfg_t, from), NULL, "sender address (template; required)" },
    { "smarthost", ALERTS_RECV_F_STRING, offsetof(email_cfg_t, smarthost), NULL,
      "SMTP server host:port (required; port 465 = implicit TLS)" },
    { "hello", ALERTS_RECV_F_STRING, offsetof(email_cfg_t, hello), "localhost", "name sent in EHLO" },
    { "auth_username", ALERTS_RECV_F_STRING, offsetof(email_cfg_t, auth_username), NULL,
      "SMTP AUTH user (AUTH only when set and offered)" },
    { "auth_password", ALERTS_RECV_F_SECRET, offsetof(email_cfg_t, auth_password), NULL,
      "SMTP AUTH password (secret; ${VAR} expanded)" },
    { "auth_password_file", ALERTS_RECV_F_SECRET_FILE, offsetof(email_cfg_t, auth_password), NULL,
      "file holding the password, read at each send" },
    { "auth_secret", ALERTS_RECV_F_SECRET, offsetof(email_cfg_t, auth_secret), NULL,
      "CRAM-MD5 secret, used (AUTH=CRAM-MD5) when no password is set (secret; ${VAR} expanded)" },
    { "auth_identity", ALERTS_RECV_F_STRING, offsetof(email_cfg_t, auth_identity), NULL,
      "PLAIN authorisation identity" },
    { "require_tls", ALERTS_RECV_F_BOOL, offsetof(email_cfg_t, require_tls), "true",
      "require STARTTLS (ignored on port 465, always TLS)" },
    { "tls_config", ALERTS_RECV_F_TLS, offsetof(email_cfg_t, tls), NULL,
      "insecure_skip_verify (bool), ca_file (PEM bundle)" },
    { "headers", ALERTS_RECV_F_MAP, offsetof(email_cfg_t, headers), NULL,
      "extra or overriding headers (values are templates)" },
    { "subject", ALERTS_RECV_F_STRING, offsetof(email_cfg_t, subject), "{{ template \"email.default.subject\" . }}",
      "Subject (template), unless headers sets it" },
    { "html", ALERTS_RECV_F_STRING, offsetof(email_cfg_t, html), "{{ template \"email.default.html\" . }}",
      "HTML part (template; empty: none)" },
    { "text", ALERTS_RECV_F_STRING, offsetof(email_cfg_t, text), NULL, "plain-text part (template; empty: none)" },
    { "send_resolved", ALERTS_RECV_F_BOOL, offsetof(email_cfg_t, send_resolved), "false",
      "also notify when the group's alerts resolve" },
    { NULL },
};

/* Split host:port; 0 or -1. [out] *port. */
static int email_port(const char *smarthost, long *port)
{
    const char *colon = strrchr(smarthost, ':');
    if (!colon || colon == smarthost || !colon[1]) {
        return -1;
    }
    int64_t p = 0;
    if (!str_parse_i64(str_cstr(colon + 1), &p) || p <= 0 || p > 65535) {
        return -1;
    }
    *port = (long)p;
    return 0;
}

int alerts_recv_email_parse(yaml_document_t *doc, yaml_node_t *node, arena_t *a, void **cfg, buf_t *err)
{
    email_cfg_t *c = arena_calloc(a, 1, sizeof(*c));
    if (alerts_recv_parse_fields(doc, node, alerts_recv_email_fields, a, c, err) != 0) {
        return -1;
    }
    static const char *const req[] = { "to", "from", "smarthost" };
    const char *vals[] = { c->to, c->from, c->smarthost };
    for (size_t i = 0; i < 3; i++) {
        if (!vals[i] || !*vals[i]) {
            buf_printf(err, "line %u: %s: required", alerts_recv_key_line(doc, node, req[i]), req[i]);
            return -1;
        }
    }
    long port = 0;
    if (email_port(c->smarthost, &port) != 0) {
        buf_printf(err, "line %u: smarthost: expected host:port, got \"%s\"",
                   alerts_recv_key_line(doc, node, "smarthost"), c->smarthost);
        return -1;
    }
    for (size_t i = 0; i < c->headers.n; i++) {
        for (const char *p = c->headers.k[i]; *p; p++) {
            if (*p <= ' ' || *p == ':' || *p == 0x7f) {
                buf_printf(err, "line %u: headers: invalid header name \"%s\"",
                           alerts_recv_key_line(doc, node, "headers"), c->headers.k[i]);
                return -1;
            }
        }
    }
    *cfg = c;
    return 0;
}

bool alerts_recv_email_send_resolved(const void *cfg)
{
    return ((const email_cfg_t *)cfg)->send_resolved;
}

void *alerts_recv_email_state_create(const void *cfg)
{
    (void)cfg;
    /* httpc_create runs curl_global_init once per process (thread-safe);
     * the SMTP handles are made per send with curl_easy_init. */
    httpc_t *h = httpc_create(0);
    if (!h) {
        return NULL;
    }
    httpc_destroy(h);
    return mem_calloc(1, sizeof(email_state_t));
}

void alerts_recv_email_state_destroy(void *st)
{
    mem_free(st);
}

/* ---- message building ---- */

static const char email_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void email_base64(buf_t *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n) {
            v |= (uint32_t)p[i + 1] << 8;
        }
        if (i + 2 < n) {
            v |= p[i + 2];
        }
        buf_putc(out, (uint8_t)email_b64[(v >> 18) & 63]);
        buf_putc(out, (uint8_t)email_b64[(v >> 12) & 63]);
        buf_putc(out, i + 1 < n ? (uint8_t)email_b64[(v >> 6) & 63] : '=');
        buf_putc(out, i + 2 < n ? (uint8_t)email_b64[v & 63] : '=');
    }
}

/* Append a header value: as is when printable ASCII, else as RFC 2047
 * encoded words of at most 45 input bytes (split on UTF-8 boundaries),
 * folded. CR and LF never pass through (no header injection). */
static void email_header_value(buf_t *out, const uint8_t *p, size_t n)
{
    bool plain = true;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x20 || p[i] >= 0x7f) {
            plain = plain && p[i] == '\t';
        }
    }
    if (plain) {
        buf_append(out, p, n);
        return;
    }
    size_t off = 0;
    bool first = true;
    while (off < n) {
        size_t k = n - off > 45 ? 45 : n - off;
        while (off + k < n && k > 0 && (p[off + k] & 0xC0) == 0x80) {
            k--;
        }
        if (k == 0) {
            k = n - off > 45 ? 45 : n - off;
        }
        buf_puts(out, first ? "=?UTF-8?b?" : "\r\n =?UTF-8?b?");
        email_base64(out, p + off, k);
        buf_puts(out, "?=");
        first = false;
        off += k;
    }
}

/* Quoted-printable (RFC 2045) with CRLF line ends, lines <= 76. */
static void email_qp(buf_t *out, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t col = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c == '\n' || (c == '\r' && i + 1 < n && p[i + 1] == '\n')) {
            if (c == '\r') {
                i++;
            }
            buf_puts(out, "\r\n");
            col = 0;
            continue;
        }
        bool next_eol = i + 1 >= n || p[i + 1] == '\n' || p[i + 1] == '\r';
        bool lit = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !next_eol);
        size_t w = lit ? 1 : 3;
        if (col + w > 75) {
            buf_puts(out, "=\r\n");
            col = 0;
        }
        if (lit) {
            buf_putc(out, c);
        } else {
            buf_putc(out, '=');
            buf_putc(out, (uint8_t)hex[c >> 4]);
            buf_putc(out, (uint8_t)hex[c & 15]);
        }
        col += w;
    }
    buf_puts(out, "\r\n");
}

/* The address of "Name <addr>" or a bare addr, trimmed, into out. */
static void email_addr(const char *s, size_t len, buf_t *out)
{
    const char *lt = memchr(s, '<', len);
    const char *gt = lt ? memchr(lt, '>', len - (size_t)(lt - s)) : NULL;
    if (lt && gt) {
        s = lt + 1;
        len = (size_t)(gt - lt - 1);
    }
    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) {
        len--;
    }
    buf_append(out, s, len);
}

static bool email_has_header(const email_cfg_t *c, const char *name)
{
    for (size_t i = 0; i < c->headers.n; i++) {
        if (strcasecmp(c->headers.k[i], name) == 0) {
            return true;
        }
    }
    return false;
}

typedef struct email_msg {
    buf_t from, to, subject, html, text;
    buf_t data; /* the whole message */
    size_t pos; /* read position for curl */
} email_msg_t;

static void email_msg_fini(email_msg_t *m)
{
    buf_fini(&m->from);
    buf_fini(&m->to);
    buf_fini(&m->subject);
    buf_fini(&m->html);
    buf_fini(&m->text);
    buf_fini(&m->data);
}

static void email_put_header(buf_t *d, const char *name, const buf_t *v)
{
    buf_puts(d, name);
    buf_puts(d, ": ");
    email_header_value(d, v->data, v->len);
    buf_puts(d, "\r\n");
}

static int email_build(const email_cfg_t *c, email_state_t *s, const alerts_recv_env_t *env,
                       const alerts_notification_t *n, email_msg_t *m, alerts_send_result_t *res)
{
    if (alerts_recv_render("email.from", c->from, n, &m->from, res) != 0 ||
        alerts_recv_render("email.to", c->to, n, &m->to, res) != 0 ||
        alerts_recv_render("email.subject", c->subject, n, &m->subject, res) != 0 ||
        alerts_recv_render_html("email.html", c->html, n, &m->html, res) != 0 ||
        alerts_recv_render("email.text", c->text, n, &m->text, res) != 0) {
        return -1;
    }
    buf_t *d = &m->data;
    for (size_t i = 0; i < c->headers.n; i++) {
        buf_t v = { 0 };
        char name[128];
        snprintf(name, sizeof(name), "email.headers.%s", c->headers.k[i]);
        if (alerts_recv_render(name, c->headers.v[i], n, &v, res) != 0) {
            buf_fini(&v);
            return -1;
        }
        email_put_header(d, c->headers.k[i], &v);
        buf_fini(&v);
    }
    if (!email_has_header(c, "From")) {
        email_put_header(d, "From", &m->from);
    }
    if (!email_has_header(c, "To")) {
        email_put_header(d, "To", &m->to);
    }
    if (!email_has_header(c, "Subject")) {
        email_put_header(d, "Subject", &m->subject);
    }
    int64_t now = clock_now_ms(&env->clock);
    if (!email_has_header(c, "Date")) {
        time_t t = (time_t)(now / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
        static const char *const mo[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
        buf_printf(d, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", wd[tm.tm_wday], tm.tm_mday, mo[tm.tm_mon],
                   tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    }
    uint64_t id = hash_bytes_seed(n->group_key ? n->group_key : "", n->group_key ? strlen(n->group_key) : 0,
                                  (uint64_t)now ^ (++s->seq << 40));
    if (!email_has_header(c, "Message-Id")) {
        buf_printf(d, "Message-Id: <%lld.%016llx@%s>\r\n", (long long)now, (unsigned long long)id,
                   c->hello ? c->hello : "localhost");
    }
    buf_puts(d, "MIME-Version: 1.0\r\n");
    char boundary[64];
    snprintf(boundary, sizeof(boundary), "pharos-%016llx", (unsigned long long)id);
    buf_printf(d, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", boundary);
    if (m->text.len) {
        buf_printf(d,
                   "--%s\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: "
                   "quoted-printable\r\n\r\n",
                   boundary);
        email_qp(d, m->text.data, m->text.len);
    }
    if (m->html.len) {
        buf_printf(d,
                   "--%s\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: "
                   "quoted-printable\r\n\r\n",
                   boundary);
        email_qp(d, m->html.data, m->html.len);
    }
    buf_printf(d, "--%s--\r\n", boundary);
    return 0;
}

static size_t email_read_cb(char *dst, size_t size, size_t nmemb, void *ud)
{
    email_msg_t *m = ud;
    size_t room = size * nmemb;
    size_t left = m->data.len - m->pos;
    size_t k = left < room ? left : room;
    memcpy(dst, m->data.data + m->pos, k);
    m->pos += k;
    return k;
}

/* Map a curl outcome to res. */
static void email_result(CURLcode rc, long code, const char *errbuf, alerts_send_result_t *res)
{
    if (rc == CURLE_OK) {
        alerts_recv_result(res, ALERTS_SEND_OK, code, -1, "%s", "");
        return;
    }
    const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    if (code < 400) {
        code = 0; /* the last reply was a positive one (EHLO's 250): not the cause */
    }
    alerts_send_status_t st = ALERTS_SEND_RETRY;
    if (code >= 500 && code < 600) {
        st = ALERTS_SEND_FAIL;
    } else if (code >= 400 && code < 500) {
        st = ALERTS_SEND_RETRY;
    } else if (rc == CURLE_LOGIN_DENIED || rc == CURLE_USE_SSL_FAILED || rc == CURLE_URL_MALFORMAT ||
               rc == CURLE_UNSUPPORTED_PROTOCOL) {
        st = ALERTS_SEND_FAIL;
    }
    if (rc == CURLE_USE_SSL_FAILED) {
        why = "'require_tls' is true (default) but the server does not advertise the STARTTLS extension";
    }
    if (code) {
        alerts_recv_result(res, st, code, -1, "email: SMTP %ld: %.200s", code, why);
    } else {
        alerts_recv_result(res, st, 0, -1, "email: %.200s", why);
    }
}

/* Whether a[0..n) is an address that may go into MAIL FROM:<...> or RCPT
 * TO:<...>: local@domain with both parts non-empty, no byte below 0x20,
 * no DEL, space, '<' or '>' (so a rendered value cannot close the angle
 * brackets or end the SMTP command line). Deliberately simpler than
 * RFC 5321's grammar: it only has to keep the command a single command. */
static bool email_addr_ok(const uint8_t *a, size_t n)
{
    size_t at = n;
    for (size_t i = 0; i < n; i++) {
        if (a[i] < 0x21 || a[i] == 0x7f || a[i] == '<' || a[i] == '>') {
            return false;
        }
        if (a[i] == '@') {
            at = i;
        }
    }
    return at > 0 && at + 1 < n;
}

/* The RCPT TO list of the addresses in to (comma-separated) into [out]
 * *rcpt (NULL when none). 0; -1 with *bad the 1-based position of the
 * first address email_addr_ok refuses (*rcpt NULL); -2 on OOM. */
static int email_rcpts(const buf_t *to, struct curl_slist **rcpt, size_t *bad)
{
    *rcpt = NULL;
    *bad = 0;
    buf_t addr = { 0 };
    int rc = 0;
    size_t k = 0;
    for (const char *p = to->len ? (const char *)to->data : ""; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        buf_reset(&addr);
        email_addr(p, len, &addr);
        if (addr.len) {
            k++;
            if (!email_addr_ok(addr.data, addr.len)) {
                *bad = k;
                rc = -1;
                goto fail;
            }
            struct curl_slist *nl = curl_slist_append(*rcpt, (const char *)addr.data);
            if (!nl) {
                rc = -2;
                goto fail;
            }
            *rcpt = nl;
        }
        p += len + (comma ? 1 : 0);
    }
    buf_fini(&addr);
    return 0;
fail:
    curl_slist_free_all(*rcpt);
    *rcpt = NULL;
    buf_fini(&addr);
    return rc;
}

/* One SMTP transaction of message m; fills res. */
static void email_perform(const email_cfg_t *c, const alerts_recv_env_t *env, const char *url, const char *mailfrom,
                          struct curl_slist *rcpt, const buf_t *pass, bool cram, email_msg_t *m,
                          alerts_send_result_t *res)
{
    CURL *curl = curl_easy_init();
    if (!curl) {
        alerts_recv_result(res, ALERTS_SEND_RETRY, 0, -1, "email: curl_easy_init failed");
        return;
    }
    long timeout = env->timeout_ms > 0 ? env->timeout_ms : 30000L;
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout);
    if (strncmp(url, "smtps:", 6) != 0) {
        curl_easy_setopt(curl, CURLOPT_USE_SSL, c->require_tls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
    }
    if (c->tls.insecure_skip_verify) {
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (c->tls.ca_file) {
        curl_easy_setopt(curl, CURLOPT_CAINFO, c->tls.ca_file);
    }
    if (c->auth_username) {
        curl_easy_setopt(curl, CURLOPT_USERNAME, c->auth_username);
        curl_easy_setopt(curl, CURLOPT_PASSWORD, pass->len ? (const char *)pass->data : "");
        if (cram) {
            curl_easy_setopt(curl, CURLOPT_LOGIN_OPTIONS, "AUTH=CRAM-MD5");
        }
        if (c->auth_identity) {
            curl_easy_setopt(curl, CURLOPT_SASL_AUTHZID, c->auth_identity);
        }
    }
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mailfrom);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, email_read_cb);
    curl_easy_setopt(curl, CURLOPT_READDATA, m);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)m->data.len);
    CURLcode rc = curl_easy_perform(curl);
    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    email_result(rc, code, errbuf, res);
    curl_easy_cleanup(curl);
}

void alerts_recv_email_send(const void *cfg, void *st, const alerts_recv_env_t *env, const alerts_notification_t *n,
                            alerts_send_result_t *res)
{
    const email_cfg_t *c = cfg;
    email_state_t *s = st;
    email_msg_t m = { 0 };
    buf_t pass = { 0 }, url = { 0 }, mailfrom = { 0 };
    struct curl_slist *rcpt = NULL;
    bool cram = false;
    long port = 0;
    if (!s) {
        alerts_recv_result(res, ALERTS_SEND_RETRY, 0, -1, "email: no state");
        return;
    }
    if (c->auth_username && (c->auth_password.value || c->auth_password.file)) {
        if (alerts_recv_secret_get(&c->auth_password, "auth_password", &pass, res) != 0) {
            goto out;
        }
    } else if (c->auth_username && c->auth_secret.value) {
        if (alerts_recv_secret_get(&c->auth_secret, "auth_secret", &pass, res) != 0) {
            goto out;
        }
        cram = true;
    }
    if (email_build(c, s, env, n, &m, res) != 0) {
        goto out;
    }
    email_addr(m.from.len ? (const char *)m.from.data : "", m.from.len, &mailfrom);
    size_t bad = 0;
    int rrc = email_rcpts(&m.to, &rcpt, &bad);
    if (rrc == -2) {
        alerts_recv_result(res, ALERTS_SEND_RETRY, 0, -1, "email: out of memory");
        goto out;
    }
    /* The rendered values may come from labels: never quote them. */
    if (mailfrom.len && !email_addr_ok(mailfrom.data, mailfrom.len)) {
        alerts_recv_result(res, ALERTS_SEND_FAIL, 0, -1, "%s",
                           "email: from: the rendered address is not local@domain or holds a control byte, space, "
                           "'<' or '>'");
        goto out;
    }
    if (rrc == -1) {
        alerts_recv_result(res, ALERTS_SEND_FAIL, 0, -1,
                           "email: to: rendered address %zu is not local@domain or holds a control byte, space, "
                           "'<' or '>'",
                           bad);
        goto out;
    }
    if (!rcpt || !mailfrom.len) {
        alerts_recv_result(res, ALERTS_SEND_FAIL, 0, -1, "email: %s renders no address", rcpt ? "from" : "to");
        goto out;
    }
    if (email_port(c->smarthost, &port) != 0) {
        alerts_recv_result(res, ALERTS_SEND_FAIL, 0, -1, "email: bad smarthost");
        goto out;
    }
    buf_printf(&url, "%s://%s/%s", port == 465 ? "smtps" : "smtp", c->smarthost, c->hello ? c->hello : "localhost");
    email_perform(c, env, (const char *)url.data, (const char *)mailfrom.data, rcpt, &pass, cram, &m, res);
out:
    curl_slist_free_all(rcpt);
    alerts_recv_secret_fini(&pass);
    buf_fini(&url);
    buf_fini(&mailfrom);
    email_msg_fini(&m);
}

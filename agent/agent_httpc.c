/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent_httpc: the agent's HTTP/1.1 client (see agent_int.h). Plain http
 * is built in, so the agent never maps libcurl and its TLS stack to talk to
 * a local store; https URLs are forwarded to common/httpc.c built as the
 * module pharos-agent-https.so, dlopen'ed at the first https use.
 *
 * A call: parse the URL (pure), build the request head into a reused
 * buffer, reuse the kept connection or connect (non-blocking, poll), send
 * head and body with one sendmsg loop, then read the head and the body
 * (Content-Length, chunked, or until close) through one reused read buffer.
 * Every wait is a poll against the call's deadline (now + timeout_ms); the
 * name lookup (getaddrinfo) is the one step that cannot be bounded.
 *
 * Invariants: bytes are read only in [rpos, rbuf.len) of the read buffer;
 * the head block is at most 64 KiB; a chunk size has at most 15 hex digits
 * and a Content-Length at most 18 digits, so no size arithmetic overflows.
 * The connection is kept only after a complete, length-delimited response
 * to an HTTP/1.1 (or keep-alive 1.0) request with no byte left over. On a
 * reused connection that fails before any response byte, the request is
 * sent once more on a new connection (what keep-alive clients do).
 *
 * Outcomes follow common/httpc.c and curl: 2xx OK; 429, 5xx RETRY; other
 * codes FATAL; transport errors and malformed headers or chunks RETRY; a
 * reply that is not HTTP/1.x (a bad status line) and bad URLs FATAL.
 * The module's handle is process-wide state written once (pthread_once).
 */
#define _GNU_SOURCE
#include <assert.h>
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_int.h"
#include "common/mem.h"
#include "common/str.h"

#define AHC_DEFAULT_TIMEOUT_MS 30000L
#define AHC_HEAD_MAX (64u * 1024u)   /* status line + headers, and trailers */
#define AHC_READ_CHUNK (16u * 1024u) /* room made before each recv */
#define AHC_CHUNK_LINE_MAX 4096u     /* chunk size line with extensions */
#define AHC_POST_RESP_MAX (1u << 20) /* response bytes a POST keeps */
#define AHC_ERR_LINE 200
#define AHC_HOST_MAX 256
#define AHC_MODULE "pharos-agent-https.so"
#define AHC_MODULE_ENV "PHAROS_AGENT_HTTPS_MODULE"

typedef struct ahc_url {
    bool https;
    char host[AHC_HOST_MAX]; /* without the brackets of an IPv6 literal */
    uint16_t port;
    const char *authority; /* host[:port] as written, for Host: */
    size_t authority_len;
    const char *path; /* path and query, without the fragment; may be "" */
    size_t path_len;
} ahc_url_t;

typedef struct ahc_head {
    int status;
    int minor;              /* HTTP/1.<minor> */
    int64_t content_length; /* -1: none */
    bool chunked, te_other, conn_close, conn_keepalive;
    bool has_retry_after;
    char retry_after[96];  /* trimmed value; "" when too long */
    char content_type[96]; /* trimmed value; "" when absent or too long */
} ahc_head_t;

/* Where the body goes: dst up to limit bytes; the first bytes are kept
 * for the error line whatever dst is. */
typedef struct ahc_sink {
    buf_t *dst;
    size_t start; /* dst->len before this call */
    size_t limit;
    bool fail_over; /* past limit the call fails (GET of a 2xx) */
    bool over;
    size_t total;
    uint8_t first[AHC_ERR_LINE + 1];
    size_t first_len;
} ahc_sink_t;

struct agent_httpc {
    long timeout_ms;
    int fd; /* the kept connection, or -1 */
    char conn_host[AHC_HOST_MAX];
    uint16_t conn_port;
    buf_t req;      /* request head, reused */
    buf_t rbuf;     /* received bytes, reused */
    size_t rpos;    /* first unconsumed byte of rbuf */
    httpc_t *tls;   /* the module's client, made at the first https call */
    buf_t tls_body; /* body from the module, in the module's allocator */
};

/* ---- the https module (process-wide, loaded once) ---------------------- */

typedef struct ahc_tls_mod {
    void *dl;
    httpc_t *(*create)(long timeout_ms);
    void (*destroy)(httpc_t *c);
    void (*post)(httpc_t *c, const char *url, const char *const *headers, const void *body, size_t len,
                 buf_t *resp_body, httpc_result_t *res);
    void (*get)(httpc_t *c, const char *url, const char *const *headers, buf_t *resp_body, httpc_result_t *res);
    void (*buf_fini)(buf_t *b);
    char err[512]; /* why loading failed; "" when loaded */
} ahc_tls_mod_t;

static pthread_once_t ahc_tls_once = PTHREAD_ONCE_INIT;
static ahc_tls_mod_t ahc_tls;

/* dlsym name into *fn (a function pointer's storage); -1 when missing. */
static int ahc_tls_sym(const char *name, void *fn, size_t fnsize)
{
    void *sym = dlsym(ahc_tls.dl, name);
    if (!sym || fnsize != sizeof(sym)) {
        const char *e = dlerror();
        snprintf(ahc_tls.err, sizeof(ahc_tls.err), "https needs " AHC_MODULE " and libcurl: %s",
                 e ? e : "missing symbol");
        return -1;
    }
    memcpy(fn, &sym, fnsize);
    return 0;
}

/* The module path: $PHAROS_AGENT_HTTPS_MODULE, else next to the executable. */
static void ahc_tls_path(char *path, size_t len)
{
    const char *env = getenv(AHC_MODULE_ENV);
    if (env && *env) {
        snprintf(path, len, "%s", env);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    n = n < 0 ? 0 : n;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) {
        *slash = '\0';
    }
    snprintf(path, len, "%s/%s", slash ? exe : ".", AHC_MODULE);
}

static void ahc_tls_load(void)
{
    char path[PATH_MAX + 64];
    ahc_tls_path(path, sizeof(path));
    ahc_tls.dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!ahc_tls.dl) {
        const char *e = dlerror();
        snprintf(ahc_tls.err, sizeof(ahc_tls.err), "https needs " AHC_MODULE " and libcurl: %.300s", e ? e : path);
        return;
    }
    if (ahc_tls_sym("httpc_create", &ahc_tls.create, sizeof(ahc_tls.create)) != 0 ||
        ahc_tls_sym("httpc_destroy", &ahc_tls.destroy, sizeof(ahc_tls.destroy)) != 0 ||
        ahc_tls_sym("httpc_post", &ahc_tls.post, sizeof(ahc_tls.post)) != 0 ||
        ahc_tls_sym("httpc_get", &ahc_tls.get, sizeof(ahc_tls.get)) != 0 ||
        ahc_tls_sym("buf_fini", &ahc_tls.buf_fini, sizeof(ahc_tls.buf_fini)) != 0) {
        dlclose(ahc_tls.dl);
        ahc_tls.dl = NULL;
    }
}

/* Load the module (first caller only). 0, or -1 with ahc_tls.err set. */
static int ahc_tls_ready(void)
{
    pthread_once(&ahc_tls_once, ahc_tls_load);
    return ahc_tls.dl ? 0 : -1;
}

/* ---- results ----------------------------------------------------------- */

static void ahc_fail(httpc_result_t *res, httpc_status_t st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A call that got no usable response: http_code 0, no Retry-After. */
static void ahc_fail(httpc_result_t *res, httpc_status_t st, const char *fmt, ...)
{
    res->status = st;
    res->http_code = 0;
    res->retry_after_ms = -1;
    res->content_type[0] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->error, sizeof(res->error), fmt, ap);
    va_end(ap);
}

static int64_t ahc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- URL (pure) -------------------------------------------------------- */

static bool ahc_host_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '-' || ch == '.' || ch == '_';
}

/* Parse the authority a[0..n) (userinfo already removed) into u. */
static int ahc_parse_authority(const char *a, size_t n, ahc_url_t *u, char *err, size_t errlen)
{
    size_t hlen = 0;
    const char *h = a;
    size_t i = 0;
    if (n > 0 && a[0] == '[') {
        const char *close = memchr(a, ']', n);
        if (!close) {
            snprintf(err, errlen, "unterminated IPv6 address in URL");
            return -1;
        }
        h = a + 1;
        hlen = (size_t)(close - h);
        i = (size_t)(close - a) + 1;
        for (size_t k = 0; k < hlen; k++) {
            if (!isxdigit((unsigned char)h[k]) && h[k] != ':' && h[k] != '.' && h[k] != '%') {
                snprintf(err, errlen, "bad IPv6 address in URL");
                return -1;
            }
        }
    } else {
        while (i < n && a[i] != ':') {
            if (!ahc_host_char(a[i])) {
                snprintf(err, errlen, "bad character in URL host");
                return -1;
            }
            i++;
        }
        hlen = i;
    }
    if (hlen == 0 || hlen >= sizeof(u->host)) {
        snprintf(err, errlen, hlen == 0 ? "empty host in URL" : "host name too long in URL");
        return -1;
    }
    memcpy(u->host, h, hlen);
    u->host[hlen] = '\0';
    u->port = u->https ? 443 : 80;
    if (i == n) {
        return 0;
    }
    if (a[i] != ':') {
        snprintf(err, errlen, "bad port in URL");
        return -1;
    }
    unsigned long port = 0;
    for (size_t k = i + 1; k < n; k++) {
        if (!isdigit((unsigned char)a[k]) || port > 65535) {
            snprintf(err, errlen, "bad port in URL");
            return -1;
        }
        port = port * 10 + (unsigned long)(a[k] - '0');
    }
    if (i + 1 < n && (port == 0 || port > 65535)) {
        snprintf(err, errlen, "bad port in URL");
        return -1;
    }
    u->port = i + 1 < n ? (uint16_t)port : u->port;
    return 0;
}

/* Parse url into [out] u (which borrows url). 0, or -1 with a reason:
 * only http:// and https://, a host (name, IPv4, [IPv6]), an optional
 * port; no spaces or control bytes; userinfo only for https. */
static int ahc_parse_url(const char *url, ahc_url_t *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof(*u));
    for (const char *p = url; *p; p++) {
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7f) {
            snprintf(err, errlen, "malformed URL: space or control byte");
            return -1;
        }
    }
    const char *rest = NULL;
    if (strncasecmp(url, "http://", 7) == 0) {
        rest = url + 7;
    } else if (strncasecmp(url, "https://", 8) == 0) {
        rest = url + 8;
        u->https = true;
    } else {
        snprintf(err, errlen,
                 strstr(url, "://") ? "unsupported URL scheme (http or https)" : "malformed URL: no scheme");
        return -1;
    }
    size_t alen = strcspn(rest, "/?#");
    const char *at = memchr(rest, '@', alen);
    if (at && !u->https) {
        snprintf(err, errlen, "credentials in an http URL are not supported");
        return -1;
    }
    const char *auth = at ? at + 1 : rest;
    u->authority = auth;
    u->authority_len = (size_t)(rest + alen - auth);
    u->path = rest + alen;
    u->path_len = strcspn(u->path, "#");
    return ahc_parse_authority(auth, u->authority_len, u, err, errlen);
}

/* ---- response head (pure) ---------------------------------------------- */

/* Offset just past the blank line ending the head in p[0..n), scanning
 * from *scan (advanced for the next call); 0 when not there yet. */
static size_t ahc_head_end(const uint8_t *p, size_t n, size_t *scan)
{
    for (size_t i = *scan; i < n; i++) {
        if (p[i] != '\n') {
            continue;
        }
        if (i + 1 < n && p[i + 1] == '\n') {
            return i + 2;
        }
        if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n') {
            return i + 3;
        }
        if (i + 2 >= n) {
            *scan = i; /* the terminator may still be arriving */
            return 0;
        }
    }
    *scan = n;
    return 0;
}

/* Next line of p[*i..n) without its CR LF; false at the end. */
static bool ahc_next_line(const uint8_t *p, size_t n, size_t *i, const uint8_t **line, size_t *len)
{
    if (*i >= n) {
        return false;
    }
    const uint8_t *nl = memchr(p + *i, '\n', n - *i);
    size_t end = nl ? (size_t)(nl - p) : n;
    *line = p + *i;
    *len = end - *i;
    if (*len > 0 && (*line)[*len - 1] == '\r') {
        (*len)--;
    }
    *i = end + 1;
    return true;
}

/* "HTTP/1.x DDD[ reason]": 0, or -1 (not an HTTP/1.x reply, as curl). */
static int ahc_parse_status(const uint8_t *l, size_t n, ahc_head_t *h)
{
    if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') || l[8] != ' ') {
        return -1;
    }
    if (!isdigit(l[9]) || !isdigit(l[10]) || !isdigit(l[11]) || l[9] == '0' || (n > 12 && l[12] != ' ')) {
        return -1;
    }
    h->minor = l[7] - '0';
    h->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
    return 0;
}

/* Whether the comma list v[0..n) holds token tok (case-insensitive). */
static bool ahc_has_token(const uint8_t *v, size_t n, const char *tok)
{
    size_t tl = strlen(tok);
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) {
            i++;
        }
        size_t s = i;
        while (i < n && v[i] != ',') {
            i++;
        }
        size_t e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t')) {
            e--;
        }
        if (e - s == tl && strncasecmp((const char *)v + s, tok, tl) == 0) {
            return true;
        }
    }
    return false;
}

static int ahc_header_content_length(const uint8_t *v, size_t n, ahc_head_t *h)
{
    if (n == 0 || n > 18) {
        return -1;
    }
    int64_t cl = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit(v[i])) {
            return -1;
        }
        cl = cl * 10 + (v[i] - '0');
    }
    if (h->content_length >= 0 && h->content_length != cl) {
        return -1;
    }
    h->content_length = cl;
    return 0;
}

static bool ahc_tchar(uint8_t ch)
{
    return isalnum(ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* One "Name: value" line into h: 0, or -1 when malformed. */
static int ahc_parse_header(const uint8_t *l, size_t n, ahc_head_t *h)
{
    size_t c = 0;
    while (c < n && ahc_tchar(l[c])) {
        c++;
    }
    if (c == 0 || c == n || l[c] != ':') {
        return -1;
    }
    size_t vs = c + 1;
    size_t ve = n;
    while (vs < ve && (l[vs] == ' ' || l[vs] == '\t')) {
        vs++;
    }
    while (ve > vs && (l[ve - 1] == ' ' || l[ve - 1] == '\t')) {
        ve--;
    }
    for (size_t i = vs; i < ve; i++) {
        if ((l[i] < 0x20 && l[i] != '\t') || l[i] == 0x7f) {
            return -1;
        }
    }
    const uint8_t *v = l + vs;
    size_t vn = ve - vs;
    if (c == 14 && strncasecmp((const char *)l, "Content-Length", c) == 0) {
        return ahc_header_content_length(v, vn, h);
    }
    if (c == 17 && strncasecmp((const char *)l, "Transfer-Encoding", c) == 0) {
        bool ch = vn >= 7 && strncasecmp((const char *)v + vn - 7, "chunked", 7) == 0 &&
                  (vn == 7 || v[vn - 8] == ',' || v[vn - 8] == ' ' || v[vn - 8] == '\t');
        h->chunked = h->chunked || ch;
        h->te_other = h->te_other || !ch;
    } else if (c == 10 && strncasecmp((const char *)l, "Connection", c) == 0) {
        h->conn_close = h->conn_close || ahc_has_token(v, vn, "close");
        h->conn_keepalive = h->conn_keepalive || ahc_has_token(v, vn, "keep-alive");
    } else if (c == 12 && strncasecmp((const char *)l, "Content-Type", c) == 0 && vn < sizeof(h->content_type)) {
        memcpy(h->content_type, v, vn);
        h->content_type[vn] = '\0';
    } else if (c == 11 && strncasecmp((const char *)l, "Retry-After", c) == 0 && !h->has_retry_after) {
        h->has_retry_after = true;
        if (vn < sizeof(h->retry_after)) {
            memcpy(h->retry_after, v, vn);
            h->retry_after[vn] = '\0';
        }
    }
    return 0;
}

/* Parse the head block p[0..n) (ending with its blank line) into [out] h.
 * 0; -1 with *why on a malformed header (RETRY); -2 when the status line
 * is not HTTP/1.x (FATAL, as curl's "unsupported protocol"). */
static int ahc_parse_head(const uint8_t *p, size_t n, ahc_head_t *h, const char **why)
{
    memset(h, 0, sizeof(*h));
    h->content_length = -1;
    size_t i = 0;
    const uint8_t *l = NULL;
    size_t ln = 0;
    if (!ahc_next_line(p, n, &i, &l, &ln) || ahc_parse_status(l, ln, h) != 0) {
        *why = "unsupported reply: not an HTTP/1.x status line";
        return -2;
    }
    while (ahc_next_line(p, n, &i, &l, &ln) && ln > 0) {
        if (ahc_parse_header(l, ln, h) != 0) {
            *why = "malformed response header";
            return -1;
        }
    }
    return 0;
}

/* "[hex][ext]\r\n" at p[0..n): bytes consumed with [out] *size; 0 when the
 * line is incomplete; -1 when malformed or over 15 hex digits. */
static long ahc_parse_chunk_size(const uint8_t *p, size_t n, uint64_t *size)
{
    const uint8_t *nl = memchr(p, '\n', n);
    if (!nl) {
        return n > AHC_CHUNK_LINE_MAX ? -1 : 0;
    }
    size_t len = (size_t)(nl - p);
    if (len > AHC_CHUNK_LINE_MAX) {
        return -1;
    }
    size_t i = 0;
    uint64_t v = 0;
    while (i < len && isxdigit(p[i])) {
        if (i == 15) {
            return -1;
        }
        int d = isdigit(p[i]) ? p[i] - '0' : (tolower(p[i]) - 'a' + 10);
        v = v * 16 + (uint64_t)d;
        i++;
    }
    if (i == 0) {
        return -1;
    }
    while (i < len && (p[i] == ' ' || p[i] == '\t')) {
        i++;
    }
    if (i < len && p[i] != ';' && !(p[i] == '\r' && i + 1 == len)) {
        return -1;
    }
    *size = v;
    return (long)len + 1;
}

/* ---- Retry-After (pure) ------------------------------------------------ */

/* An HTTP date (IMF-fixdate, RFC 850 or asctime) into [out] *t: 0 or -1. */
static int ahc_http_date(const char *s, time_t *t)
{
    static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    int day = -1, mon = -1, year = -1, hh = -1, mi = -1, ss = -1;
    const char *p = s;
    while (*p) {
        if (strchr(" \t,-", *p)) {
            p++;
            continue;
        }
        const char *tok = p;
        while (*p && !strchr(" \t,-", *p)) {
            p++;
        }
        size_t n = (size_t)(p - tok);
        if (n == 8 && tok[2] == ':' && tok[5] == ':' && sscanf(tok, "%2d:%2d:%2d", &hh, &mi, &ss) == 3) {
            continue;
        }
        if (isdigit((unsigned char)tok[0]) && strspn(tok, "0123456789") == n && n <= 4) {
            int v = atoi(tok);
            if (n <= 2 && day < 0) {
                day = v;
            } else if ((n == 2 || n == 4) && year < 0) {
                year = n == 2 ? (v < 70 ? 2000 + v : 1900 + v) : v;
            } else {
                return -1;
            }
        } else if (isalpha((unsigned char)tok[0])) {
            for (int m = 0; n == 3 && m < 12; m++) {
                if (strncasecmp(tok, months + 3 * m, 3) == 0) {
                    mon = m;
                }
            }
        } else {
            return -1;
        }
    }
    if (day < 1 || day > 31 || mon < 0 || year < 1970 || hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 60) {
        return -1;
    }
    struct tm tm = { .tm_sec = ss, .tm_min = mi, .tm_hour = hh, .tm_mday = day, .tm_mon = mon, .tm_year = year - 1900 };
    *t = timegm(&tm);
    return *t == (time_t)-1 ? -1 : 0;
}

/* Retry-After as delta-seconds or an HTTP date, in ms from now; -1 when
 * absent or unparsable (as common/httpc.c). */
static int64_t ahc_retry_after(const ahc_head_t *h)
{
    if (!h->has_retry_after || !h->retry_after[0]) {
        return -1;
    }
    const char *v = h->retry_after;
    if (isdigit((unsigned char)*v)) {
        uint64_t secs = 0;
        bool ok = str_parse_u64(str_cstr(v), &secs) && secs <= (uint64_t)INT64_MAX / 1000;
        return ok ? (int64_t)secs * 1000 : -1;
    }
    time_t when = 0;
    if (ahc_http_date(v, &when) != 0) {
        return -1;
    }
    time_t now = time(NULL);
    return when > now ? (int64_t)(when - now) * 1000 : 0;
}

/* ---- request head (pure) ----------------------------------------------- */

static bool ahc_name_is(const char *h, const char *name)
{
    size_t n = strlen(name);
    return strncasecmp(h, name, n) == 0 && h[n] == ':';
}

/* The value of header line h after its colon, without leading blanks. */
static const char *ahc_value(const char *h)
{
    const char *v = strchr(h, ':') + 1;
    return v + strspn(v, " \t");
}

/* Append the request head to b (reset first). The caller's headers win
 * over Host, User-Agent and Accept; "Name:" with no value sends nothing
 * (curl's convention); Content-Length, Transfer-Encoding and Connection
 * are the client's own. 0, or -1 when a header is malformed. */
static int ahc_build_request(buf_t *b, const char *method, const ahc_url_t *u, const char *const *headers, bool post,
                             size_t len, char *err, size_t errlen)
{
    bool host = false, ua = false, accept = false;
    for (size_t i = 0; headers && headers[i]; i++) {
        const char *h = headers[i];
        size_t name = strspn(h, "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
        if (name == 0 || h[name] != ':' || strpbrk(h, "\r\n")) {
            snprintf(err, errlen, "invalid request header \"%.64s\"", h);
            return -1;
        }
        host = host || ahc_name_is(h, "Host");
        ua = ua || ahc_name_is(h, "User-Agent");
        accept = accept || ahc_name_is(h, "Accept");
    }
    buf_reset(b);
    buf_printf(b, "%s %s%.*s HTTP/1.1\r\n", method, u->path_len == 0 || u->path[0] != '/' ? "/" : "", (int)u->path_len,
               u->path);
    if (!host) {
        buf_printf(b, "Host: %.*s\r\n", (int)u->authority_len, u->authority);
    }
    buf_puts(b, ua ? "" : "User-Agent: pharos-agent\r\n");
    buf_puts(b, accept ? "" : "Accept: */*\r\n");
    if (post) {
        buf_printf(b, "Content-Length: %zu\r\n", len);
    }
    buf_puts(b, "Connection: keep-alive\r\n");
    for (size_t i = 0; headers && headers[i]; i++) {
        const char *h = headers[i];
        if (*ahc_value(h) == '\0' || ahc_name_is(h, "Content-Length") || ahc_name_is(h, "Transfer-Encoding") ||
            ahc_name_is(h, "Connection")) {
            continue;
        }
        buf_printf(b, "%s\r\n", h);
    }
    buf_puts(b, "\r\n");
    return 0;
}

/* ---- connection -------------------------------------------------------- */

static void ahc_close(agent_httpc_t *c)
{
    if (c->fd >= 0) {
        close(c->fd);
    }
    c->fd = -1;
    c->rpos = 0;
    buf_reset(&c->rbuf);
}

/* Wait for events on c->fd until the deadline: 1 ready, 0 timed out. */
static int ahc_wait(agent_httpc_t *c, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - ahc_now_ms();
        if (left <= 0) {
            return 0;
        }
        struct pollfd pfd = { .fd = c->fd, .events = events };
        int r = poll(&pfd, 1, (int)(left > INT_MAX ? INT_MAX : left));
        if (r > 0) {
            return 1;
        }
        if (r < 0 && errno != EINTR) {
            return 1; /* let the I/O call report the error */
        }
    }
}

/* Connect fd to one address within the deadline: 0, or an errno value. */
static int ahc_connect_one(agent_httpc_t *c, const struct addrinfo *ai, int64_t deadline)
{
    c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        return errno;
    }
    int err = 0;
    if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        err = errno;
        if (err == EINPROGRESS) {
            socklen_t sl = sizeof(err);
            err = ahc_wait(c, POLLOUT, deadline) ? 0 : ETIMEDOUT;
            if (err == 0 && getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0) {
                err = errno;
            }
        }
    }
    if (err != 0) {
        ahc_close(c);
        return err;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return 0;
}

/* Open a connection to u within the deadline: 0, or -1 with res (RETRY). */
static int ahc_connect(agent_httpc_t *c, const ahc_url_t *u, int64_t deadline, httpc_result_t *res)
{
    ahc_close(c);
    char port[8];
    snprintf(port, sizeof(port), "%u", (unsigned)u->port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(u->host, port, &hints, &ai);
    if (gai != 0) {
        ahc_fail(res, HTTPC_RETRY, "could not resolve host %s: %s", u->host, gai_strerror(gai));
        return -1;
    }
    int err = ETIMEDOUT;
    for (const struct addrinfo *a = ai; a && ahc_now_ms() < deadline; a = a->ai_next) {
        err = ahc_connect_one(c, a, deadline);
        if (err == 0) {
            break;
        }
    }
    freeaddrinfo(ai);
    if (c->fd < 0) {
        ahc_fail(res, HTTPC_RETRY, "connect to %s port %u failed: %s", u->host, (unsigned)u->port, strerror(err));
        return -1;
    }
    snprintf(c->conn_host, sizeof(c->conn_host), "%s", u->host);
    c->conn_port = u->port;
    return 0;
}

/* Whether the kept connection may carry a request to u: same peer, and
 * the server has not closed it (nothing readable while idle). */
static bool ahc_reusable(agent_httpc_t *c, const ahc_url_t *u)
{
    if (c->fd < 0 || c->conn_port != u->port || strcmp(c->conn_host, u->host) != 0) {
        return false;
    }
    struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
    return poll(&pfd, 1, 0) == 0;
}

/* Send head and body: 0, or an errno value (ETIMEDOUT at the deadline). */
static int ahc_send(agent_httpc_t *c, const void *body, size_t len, int64_t deadline)
{
    struct iovec iov[2] = { { c->req.data, c->req.len }, { (void *)body, body ? len : 0 } };
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
    while (iov[0].iov_len + iov[1].iov_len > 0) {
        ssize_t n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!ahc_wait(c, POLLOUT, deadline)) {
                return ETIMEDOUT;
            }
            continue;
        }
        if (n < 0) {
            return errno;
        }
        for (size_t i = 0; i < 2; i++) {
            size_t k = (size_t)n < iov[i].iov_len ? (size_t)n : iov[i].iov_len;
            iov[i].iov_base = (uint8_t *)iov[i].iov_base + k;
            iov[i].iov_len -= k;
            n -= (ssize_t)k;
        }
    }
    return 0;
}

/* Receive more bytes after rbuf's end (compacting consumed ones first):
 * > 0 bytes read, 0 at EOF, -errno on error (-ETIMEDOUT at the deadline). */
static long ahc_fill(agent_httpc_t *c, int64_t deadline)
{
    assert(c->fd >= 0 && c->rpos <= c->rbuf.len);
    if (c->rpos > 0) {
        memmove(c->rbuf.data, c->rbuf.data + c->rpos, c->rbuf.len - c->rpos);
        c->rbuf.len -= c->rpos;
        c->rpos = 0;
    }
    buf_reserve(&c->rbuf, AHC_READ_CHUNK);
    for (;;) {
        ssize_t n = recv(c->fd, c->rbuf.data + c->rbuf.len, c->rbuf.cap - c->rbuf.len - 1, 0);
        if (n >= 0) {
            c->rbuf.len += (size_t)n;
            c->rbuf.data[c->rbuf.len] = '\0';
            return (long)n;
        }
        if (errno != EAGAIN && errno != EINTR) {
            return -errno;
        }
        if (!ahc_wait(c, POLLIN, deadline)) {
            return -ETIMEDOUT;
        }
    }
}

/* Turn a failed fill (n <= 0) into a RETRY result naming what was being
 * read; want > 0 is what a length-delimited body still lacked. */
static void ahc_fail_read(const agent_httpc_t *c, long n, const char *what, uint64_t want, httpc_result_t *res)
{
    if (n == -ETIMEDOUT) {
        ahc_fail(res, HTTPC_RETRY, "timed out after %ld ms reading the %s", c->timeout_ms, what);
    } else if (n == 0 && want > 0) {
        ahc_fail(res, HTTPC_RETRY, "transfer closed with %llu bytes remaining to read", (unsigned long long)want);
    } else if (n == 0) {
        ahc_fail(res, HTTPC_RETRY, "connection closed by server in the %s", what);
    } else {
        ahc_fail(res, HTTPC_RETRY, "receive failed in the %s: %s", what, strerror((int)-n));
    }
}

/* fill, failing as ahc_fail_read: 0 when bytes arrived, else -1. */
static int ahc_more(agent_httpc_t *c, int64_t deadline, const char *what, httpc_result_t *res)
{
    long n = ahc_fill(c, deadline);
    if (n > 0) {
        return 0;
    }
    ahc_fail_read(c, n, what, 0, res);
    return -1;
}

/* ---- body -------------------------------------------------------------- */

/* Take p[0..n) of the body: 0, or -1 once a fail_over sink passes its
 * limit (res filled, FATAL). */
static int ahc_sink_put(ahc_sink_t *s, const uint8_t *p, size_t n, httpc_result_t *res)
{
    if (s->first_len < sizeof(s->first)) {
        size_t k = sizeof(s->first) - s->first_len;
        k = n < k ? n : k;
        memcpy(s->first + s->first_len, p, k);
        s->first_len += k;
    }
    size_t room = s->total < s->limit ? s->limit - s->total : 0;
    s->total += n;
    if (n > room) {
        s->over = true;
        if (s->fail_over) {
            ahc_fail(res, HTTPC_FATAL, "body larger than %zu bytes", s->limit);
            return -1;
        }
    }
    if (s->dst) {
        buf_append(s->dst, p, n < room ? n : room);
    }
    return 0;
}

/* Pass the next want bytes (or all until EOF when until_close) to the
 * sink: 0, or -1 with res. */
static int ahc_read_body(agent_httpc_t *c, uint64_t want, bool until_close, ahc_sink_t *s, int64_t deadline,
                         httpc_result_t *res)
{
    assert(c->rpos <= c->rbuf.len);
    for (;;) {
        size_t avail = c->rbuf.len - c->rpos;
        size_t k = until_close || avail < want ? avail : (size_t)want;
        if (k > 0 && ahc_sink_put(s, c->rbuf.data + c->rpos, k, res) != 0) {
            return -1;
        }
        c->rpos += k;
        want -= until_close ? 0 : k;
        if (!until_close && want == 0) {
            return 0;
        }
        long n = ahc_fill(c, deadline);
        if (n == 0 && until_close) {
            return 0;
        }
        if (n <= 0) {
            ahc_fail_read(c, n, "body", until_close ? 0 : want, res);
            return -1;
        }
    }
}

/* Skip the trailer lines after the last chunk, up to the blank line; at
 * most AHC_HEAD_MAX bytes in all, however the bytes arrive. */
static int ahc_read_trailers(agent_httpc_t *c, int64_t deadline, httpc_result_t *res)
{
    size_t seen = 0;
    for (;;) {
        const uint8_t *p = c->rbuf.data + c->rpos;
        size_t avail = c->rbuf.len - c->rpos;
        const uint8_t *nl = memchr(p, '\n', avail);
        size_t len = nl ? (size_t)(nl - p) + 1 : avail; /* the line, or the part of it here */
        if (seen + len > AHC_HEAD_MAX) {
            ahc_fail(res, HTTPC_RETRY, "chunked trailers larger than %u bytes", AHC_HEAD_MAX);
            return -1;
        }
        if (nl) {
            c->rpos += len;
            seen += len;
            if (len == 1 || (len == 2 && p[0] == '\r')) {
                return 0;
            }
        } else if (ahc_more(c, deadline, "chunked trailers", res) != 0) {
            return -1;
        }
    }
}

/* Read a chunked body into the sink, through its trailers: 0 or -1. */
static int ahc_read_chunked(agent_httpc_t *c, ahc_sink_t *s, int64_t deadline, httpc_result_t *res)
{
    for (;;) {
        uint64_t size = 0;
        long r = ahc_parse_chunk_size(c->rbuf.data + c->rpos, c->rbuf.len - c->rpos, &size);
        if (r < 0) {
            ahc_fail(res, HTTPC_RETRY, "malformed chunk size in chunked encoding");
            return -1;
        }
        if (r == 0) {
            if (ahc_more(c, deadline, "chunked body", res) != 0) {
                return -1;
            }
            continue;
        }
        c->rpos += (size_t)r;
        if (size == 0) {
            return ahc_read_trailers(c, deadline, res);
        }
        if (ahc_read_body(c, size, false, s, deadline, res) != 0) {
            return -1;
        }
        while (c->rbuf.len - c->rpos < 2) {
            const uint8_t *p = c->rbuf.data + c->rpos;
            if (c->rbuf.len - c->rpos == 1 && p[0] == '\n') {
                break;
            }
            if (ahc_more(c, deadline, "chunked body", res) != 0) {
                return -1;
            }
        }
        const uint8_t *p = c->rbuf.data + c->rpos;
        if (p[0] == '\n') {
            c->rpos += 1;
        } else if (p[0] == '\r' && p[1] == '\n') {
            c->rpos += 2;
        } else {
            ahc_fail(res, HTTPC_RETRY, "malformed chunk: no CRLF after the data");
            return -1;
        }
    }
}

/* ---- one exchange ------------------------------------------------------ */

/* Read the final response head (1xx interim ones skipped) into [out] h:
 * 0, or -1 with res. [out] *none: the connection ended (EOF or error, not
 * a timeout) before any response byte. */
static int ahc_read_head(agent_httpc_t *c, ahc_head_t *h, int64_t deadline, httpc_result_t *res, bool *none)
{
    size_t scan = 0;
    bool any = false;
    *none = false;
    for (;;) {
        const uint8_t *p = c->rbuf.data + c->rpos;
        size_t avail = c->rbuf.len - c->rpos;
        size_t end = avail ? ahc_head_end(p, avail < AHC_HEAD_MAX ? avail : AHC_HEAD_MAX, &scan) : 0;
        if (end > 0) {
            const char *why = "";
            int r = ahc_parse_head(p, end, h, &why);
            if (r != 0) {
                ahc_fail(res, r == -2 ? HTTPC_FATAL : HTTPC_RETRY, "%s", why);
                return -1;
            }
            c->rpos += end;
            scan = 0;
            if (h->status < 200 && h->status != 101) {
                continue;
            }
            return 0;
        }
        if (avail >= AHC_HEAD_MAX) {
            ahc_fail(res, HTTPC_RETRY, "response headers larger than %u bytes", AHC_HEAD_MAX);
            return -1;
        }
        long n = ahc_fill(c, deadline);
        if (n > 0) {
            any = true;
            continue;
        }
        *none = !any && n != -ETIMEDOUT;
        if (n == 0 && !any) {
            ahc_fail(res, HTTPC_RETRY, "empty reply from server");
        } else {
            ahc_fail_read(c, n, "response headers", 0, res);
        }
        return -1;
    }
}

/* Read the body h announces into the sink: 0, or -1 with res. [out]
 * *framed: the body's end was known without the connection closing. */
static int ahc_read_response_body(agent_httpc_t *c, const ahc_head_t *h, ahc_sink_t *s, int64_t deadline,
                                  httpc_result_t *res, bool *framed)
{
    *framed = true;
    if (h->status < 200 || h->status == 204 || h->status == 304) {
        return 0;
    }
    if (h->chunked) {
        return ahc_read_chunked(c, s, deadline, res);
    }
    if (h->te_other || h->content_length < 0) {
        *framed = false;
        return ahc_read_body(c, 0, true, s, deadline, res);
    }
    if (s->fail_over && (uint64_t)h->content_length > s->limit) {
        ahc_fail(res, HTTPC_FATAL, "body larger than %zu bytes", s->limit);
        return -1;
    }
    return ahc_read_body(c, (uint64_t)h->content_length, false, s, deadline, res);
}

/* Send the request built in c->req (plus body) on c->fd and read the
 * response: 0 with [out] h, the body in the sink; -1 with res. [out]
 * *resend: it failed before any response byte (safe to send again on a
 * new connection when this one was reused). Closes the connection unless
 * the response leaves it reusable. */
static int ahc_exchange(agent_httpc_t *c, const void *body, size_t len, ahc_head_t *h, ahc_sink_t *s, int64_t deadline,
                        httpc_result_t *res, bool *resend)
{
    c->rpos = 0;
    buf_reset(&c->rbuf);
    *resend = false;
    int serr = ahc_send(c, body, len, deadline);
    if (serr == ETIMEDOUT) {
        ahc_fail(res, HTTPC_RETRY, "timed out after %ld ms sending the request", c->timeout_ms);
        ahc_close(c);
        return -1;
    }
    if (ahc_read_head(c, h, deadline, res, resend) != 0) {
        if (serr != 0) {
            ahc_fail(res, HTTPC_RETRY, "send failed: %s", strerror(serr));
        }
        ahc_close(c);
        return -1;
    }
    s->fail_over = s->fail_over && h->status >= 200 && h->status < 300;
    bool framed = true;
    int r = ahc_read_response_body(c, h, s, deadline, res, &framed);
    bool keep = r == 0 && serr == 0 && framed && !h->conn_close && (h->minor == 1 || h->conn_keepalive) &&
                h->status != 101 && c->rpos == c->rbuf.len;
    if (!keep) {
        ahc_close(c);
    }
    return r;
}

/* Fill res from a complete response, as common/httpc.c does. */
static void ahc_result(const ahc_head_t *h, const ahc_sink_t *s, httpc_result_t *res)
{
    res->http_code = h->status;
    res->retry_after_ms = ahc_retry_after(h);
    res->error[0] = '\0';
    snprintf(res->content_type, sizeof(res->content_type), "%s", h->content_type);
    if (h->status >= 200 && h->status < 300) {
        res->status = HTTPC_OK;
        return;
    }
    res->status = (h->status == 429 || (h->status >= 500 && h->status < 600)) ? HTTPC_RETRY : HTTPC_FATAL;
    if (s->first_len == 0) {
        snprintf(res->error, sizeof(res->error), "HTTP %d", h->status);
        return;
    }
    size_t k = 0;
    while (k < s->first_len && s->first[k] != '\n' && s->first[k] != '\r' && k < AHC_ERR_LINE) {
        k++;
    }
    snprintf(res->error, sizeof(res->error), "%.*s", (int)k, (const char *)s->first);
}

/* One plain-http call: reuse or open the connection, send, receive, and
 * on a reused connection that died before any response byte, once more
 * on a new one. Fills res on every path. */
static void ahc_http_call(agent_httpc_t *c, const ahc_url_t *u, const char *const *headers, const void *body,
                          size_t len, bool post, ahc_sink_t *s, httpc_result_t *res)
{
    char err[128];
    if (ahc_build_request(&c->req, post ? "POST" : "GET", u, headers, post, len, err, sizeof(err)) != 0) {
        ahc_fail(res, HTTPC_FATAL, "%s", err);
        return;
    }
    int64_t deadline = ahc_now_ms() + c->timeout_ms;
    ahc_head_t h;
    for (int attempt = 0;; attempt++) {
        bool reused = ahc_reusable(c, u);
        if (!reused && ahc_connect(c, u, deadline, res) != 0) {
            return;
        }
        bool resend = false;
        if (ahc_exchange(c, post ? body : NULL, post ? len : 0, &h, s, deadline, res, &resend) == 0) {
            break;
        }
        if (!(resend && reused && attempt == 0)) {
            return;
        }
    }
    ahc_result(&h, s, res);
}

/* One https call through the module; the body is copied into the sink
 * so that the caller's buffer only ever holds this allocator's memory.
 * An https GET's max_body is enforced after the transfer. */
static void ahc_tls_call(agent_httpc_t *c, const char *url, const char *const *headers, const void *body, size_t len,
                         bool post, ahc_sink_t *s, httpc_result_t *res)
{
    if (ahc_tls_ready() != 0) {
        ahc_fail(res, HTTPC_FATAL, "%s", ahc_tls.err);
        return;
    }
    if (!c->tls && !(c->tls = ahc_tls.create(c->timeout_ms))) {
        ahc_fail(res, HTTPC_FATAL, "https: libcurl failed to initialise");
        return;
    }
    c->tls_body.len = 0;
    if (post) {
        ahc_tls.post(c->tls, url, headers, body, len, &c->tls_body, res);
    } else {
        ahc_tls.get(c->tls, url, headers, &c->tls_body, res);
    }
    if (res->http_code == 0 || c->tls_body.len == 0) {
        return;
    }
    s->fail_over = s->fail_over && res->status == HTTPC_OK;
    httpc_result_t over;
    if (ahc_sink_put(s, c->tls_body.data, c->tls_body.len, &over) != 0) {
        *res = over;
    }
}

static void ahc_call(agent_httpc_t *c, const char *url, const char *const *headers, const void *body, size_t len,
                     bool post, ahc_sink_t *s, httpc_result_t *res)
{
    ahc_url_t u;
    char err[128];
    if (!url || ahc_parse_url(url, &u, err, sizeof(err)) != 0) {
        ahc_fail(res, HTTPC_FATAL, "%s", url ? err : "no URL");
    } else if (u.https) {
        ahc_tls_call(c, url, headers, body, len, post, s, res);
    } else {
        ahc_http_call(c, &u, headers, body, len, post, s, res);
    }
    if (res->http_code == 0 && s->dst && s->dst->len > s->start) {
        s->dst->len = s->start; /* no usable response: nothing appended */
        s->dst->data[s->start] = '\0';
    }
}

/* ---- public ------------------------------------------------------------ */

agent_httpc_t *agent_httpc_create(long timeout_ms)
{
    agent_httpc_t *c = mem_calloc(1, sizeof(*c));
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : AHC_DEFAULT_TIMEOUT_MS;
    c->fd = -1;
    return c;
}

void agent_httpc_destroy(agent_httpc_t *c)
{
    if (!c) {
        return;
    }
    ahc_close(c);
    buf_fini(&c->req);
    buf_fini(&c->rbuf);
    if (c->tls) {
        ahc_tls.destroy(c->tls);
    }
    if (c->tls_body.data) {
        ahc_tls.buf_fini(&c->tls_body);
    }
    mem_free(c);
}

void agent_httpc_post(agent_httpc_t *c, const char *url, const char *const *headers, const void *body, size_t len,
                      buf_t *resp, httpc_result_t *res)
{
    assert(c && res);
    ahc_sink_t s = { .dst = resp, .start = resp ? resp->len : 0, .limit = AHC_POST_RESP_MAX };
    ahc_call(c, url, headers, body, body ? len : 0, true, &s, res);
}

void agent_httpc_get(agent_httpc_t *c, const char *url, const char *const *headers, buf_t *resp, size_t max_body,
                     httpc_result_t *res)
{
    assert(c && res);
    ahc_sink_t s = { .dst = resp, .start = resp ? resp->len : 0, .limit = max_body, .fail_over = true };
    ahc_call(c, url, headers, NULL, 0, false, &s, res);
}

int agent_httpc_check_url(const char *url, char *err, size_t errlen)
{
    ahc_url_t u;
    if (!url) {
        snprintf(err, errlen, "no URL");
        return -1;
    }
    if (ahc_parse_url(url, &u, err, errlen) != 0) {
        return -1;
    }
    if (u.https && ahc_tls_ready() != 0) {
        snprintf(err, errlen, "%s", ahc_tls.err);
        return -1;
    }
    return 0;
}

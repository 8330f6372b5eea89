/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for alerts/alerts_recv_email.c against a minimal loopback SMTP
 * server in a thread (no TLS, no AUTH): the dialogue (EHLO name, MAIL
 * FROM, one RCPT TO per address), the message (CRLF lines <= 998 bytes,
 * From/To/Subject/Date/Message-Id/MIME-Version, multipart/alternative
 * with quoted-printable parts, RFC 2047 subject, no header injection, a
 * leading dot stuffed), the outcomes: STARTTLS required but not offered,
 * 550 and 451 recipients, a refused connection, a template error, and
 * label values that would inject SMTP commands (CR, LF, DEL, '<', '>',
 * space, not local@domain) in to and from: FAIL before any command.
 * TLS, AUTH and a real parser: tests/integration/alerts_email.sh.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "alerts_recv_testlib.h"

typedef struct smtp_fake {
    int lfd;
    uint16_t port;
    pthread_t th;
    volatile int stop;
    char ehlo[128];
    char mail_from[128];
    char rcpt[4][128];
    int nrcpt;
    buf_t data; /* the last message, as sent (dot-stuffed, up to the final dot) */
    int messages;
    int commands; /* MAIL FROM and RCPT TO lines received */
    int attacker; /* command lines naming attacker.com */
} smtp_fake_t;

static int smtp_readline(int fd, char *line, size_t n)
{
    size_t k = 0;
    while (k + 1 < n) {
        char c;
        ssize_t r = recv(fd, &c, 1, 0);
        if (r <= 0) {
            return -1;
        }
        line[k++] = c;
        if (c == '\n') {
            break;
        }
    }
    line[k] = '\0';
    return (int)k;
}

static void smtp_say(int fd, const char *s)
{
    ssize_t r = send(fd, s, strlen(s), MSG_NOSIGNAL);
    (void)r;
}

static void smtp_session(smtp_fake_t *s, int fd)
{
    char line[2048];
    smtp_say(fd, "220 fake ESMTP\r\n");
    while (smtp_readline(fd, line, sizeof(line)) > 0) {
        if (strncasecmp(line, "MAIL FROM:", 10) == 0 || strncasecmp(line, "RCPT TO:", 8) == 0) {
            s->commands++;
            s->attacker += strstr(line, "attacker.com") != NULL;
        }
        if (strncasecmp(line, "EHLO ", 5) == 0) {
            snprintf(s->ehlo, sizeof(s->ehlo), "%.*s", (int)strcspn(line + 5, "\r\n"), line + 5);
            smtp_say(fd, "250-fake\r\n250 8BITMIME\r\n");
        } else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
            snprintf(s->mail_from, sizeof(s->mail_from), "%.*s", (int)strcspn(line + 10, " \r\n"), line + 10);
            s->nrcpt = 0;
            smtp_say(fd, "250 OK\r\n");
        } else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
            const char *a = line + 8;
            if (strncmp(a, "<reject", 7) == 0) {
                smtp_say(fd, "550 5.1.1 no such user\r\n");
            } else if (strncmp(a, "<tempfail", 9) == 0) {
                smtp_say(fd, "451 4.3.0 try later\r\n");
            } else {
                if (s->nrcpt < 4) {
                    snprintf(s->rcpt[s->nrcpt++], 128, "%.*s", (int)strcspn(a, " \r\n"), a);
                }
                smtp_say(fd, "250 OK\r\n");
            }
        } else if (strncasecmp(line, "DATA", 4) == 0) {
            smtp_say(fd, "354 go ahead\r\n");
            buf_reset(&s->data);
            while (smtp_readline(fd, line, sizeof(line)) > 0 && strcmp(line, ".\r\n") != 0) {
                buf_puts(&s->data, line);
            }
            s->messages++;
            smtp_say(fd, "250 queued\r\n");
        } else if (strncasecmp(line, "QUIT", 4) == 0) {
            smtp_say(fd, "221 bye\r\n");
            break;
        } else if (strncasecmp(line, "RSET", 4) == 0 || strncasecmp(line, "NOOP", 4) == 0) {
            smtp_say(fd, "250 OK\r\n");
        } else {
            smtp_say(fd, "502 not implemented\r\n");
        }
    }
}

static void *smtp_main(void *arg)
{
    smtp_fake_t *s = arg;
    while (!s->stop) {
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0) {
            continue;
        }
        if (!s->stop) {
            smtp_session(s, fd);
        }
        close(fd);
    }
    return NULL;
}

static smtp_fake_t *smtp_start(void)
{
    smtp_fake_t *s = calloc(1, sizeof(*s));
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sa);
    if (bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(s->lfd, 4) != 0 ||
        getsockname(s->lfd, (struct sockaddr *)&sa, &len) != 0) {
        abort();
    }
    s->port = ntohs(sa.sin_port);
    pthread_create(&s->th, NULL, smtp_main, s);
    return s;
}

static void smtp_stop(smtp_fake_t *s)
{
    s->stop = 1;
    /* wake accept */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_port = htons(s->port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        perror("connect");
    }
    close(fd);
    pthread_join(s->th, NULL);
    close(s->lfd);
    buf_fini(&s->data);
    free(s);
}

typedef struct fx {
    smtp_fake_t *s;
    memkv_t kv;
    fakeclock_t clk;
    arena_t *a;
    const alerts_recv_type_t *t;
} fx_t;

static int setup(void **state)
{
    fx_t *x = calloc(1, sizeof(*x));
    x->s = smtp_start();
    x->clk.now = 1700000000000LL; /* Tue, 14 Nov 2023 22:13:20 +0000 */
    x->a = arena_create(4096);
    x->t = test_recv_type("email_configs");
    *state = x;
    return x->t ? 0 : -1;
}

static int teardown(void **state)
{
    fx_t *x = *state;
    smtp_stop(x->s);
    arena_destroy(x->a);
    free(x);
    return 0;
}

/* As send_cfg below, with the common label severity set to sev (NULL:
 * "critical"). */
static alerts_send_result_t send_cfg_sev(fx_t *x, const char *extra, size_t nfiring, const char *sev)
{
    buf_t y = { 0 };
    buf_printf(&y, "smarthost: 127.0.0.1:%u\n%s%s", (unsigned)x->s->port,
               strstr(extra, "from:") ? "" : "from: 'Pharos <pharos@example.org>'\n", extra);
    void *cfg = test_cfg(x->t, (const char *)y.data, x->a);
    buf_fini(&y);
    void *st = x->t->state_create(cfg);
    test_notif_t tn;
    test_notif_init(&tn, nfiring, "{}:{alertname=\"HighLatency\"}");
    if (sev) {
        tn.common[1].value = str_cstr(sev);
    }
    alerts_send_result_t res = test_send(x->t, cfg, st, &x->kv, &x->clk, 3000, &tn.n);
    x->t->state_destroy(st);
    return res;
}

static alerts_send_result_t send_cfg(fx_t *x, const char *extra, size_t nfiring)
{
    return send_cfg_sev(x, extra, nfiring, NULL);
}

/* The value of header name in the message head, or NULL (unfolded only). */
static const char *header(const char *msg, const char *name, char *dst, size_t n)
{
    size_t nl = strlen(name);
    for (const char *p = msg; p && *p && strncmp(p, "\r\n", 2) != 0;) {
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 2;
            snprintf(dst, n, "%.*s", (int)strcspn(v, "\r"), v);
            return dst;
        }
        p = strstr(p, "\r\n");
        p = p ? p + 2 : NULL;
    }
    return NULL;
}

static void test_message(void **state)
{
    fx_t *x = *state;
    alerts_send_result_t res = send_cfg(x,
                                        "to: 'Ops <ops@example.org>, oncall@example.org'\n"
                                        "hello: mx.pharos.test\nrequire_tls: false\n"
                                        "headers:\n  X-Team: '{{ .Receiver }}'\n"
                                        "text: \".leading dot\\n{{ .Status }} \xc3\xbc\"\n"
                                        "html: '<p>{{ .CommonLabels.alertname }}</p>'\n",
                                        2);
    if (res.status != ALERTS_SEND_OK) {
        fail_msg("%s", res.msg);
    }
    assert_int_equal(res.http_code, 250);
    smtp_fake_t *s = x->s;
    assert_int_equal(s->messages, 1);
    assert_string_equal(s->ehlo, "mx.pharos.test");
    assert_string_equal(s->mail_from, "<pharos@example.org>");
    assert_int_equal(s->nrcpt, 2);
    assert_string_equal(s->rcpt[0], "<ops@example.org>");
    assert_string_equal(s->rcpt[1], "<oncall@example.org>");
    const char *m = (const char *)s->data.data;
    /* CRLF only, lines <= 998 */
    size_t col = 0;
    for (size_t i = 0; i < s->data.len; i++) {
        if (m[i] == '\n') {
            assert_true(i > 0 && m[i - 1] == '\r');
            col = 0;
        } else {
            assert_true(++col <= 998);
        }
    }
    char v[512];
    assert_string_equal(header(m, "From", v, sizeof(v)), "Pharos <pharos@example.org>");
    assert_string_equal(header(m, "To", v, sizeof(v)), "Ops <ops@example.org>, oncall@example.org");
    assert_string_equal(header(m, "Subject", v, sizeof(v)), "[FIRING:2] HighLatency (critical)");
    assert_string_equal(header(m, "Date", v, sizeof(v)), "Tue, 14 Nov 2023 22:13:20 +0000");
    assert_string_equal(header(m, "X-Team", v, sizeof(v)), "team");
    assert_string_equal(header(m, "MIME-Version", v, sizeof(v)), "1.0");
    assert_non_null(header(m, "Message-Id", v, sizeof(v)));
    assert_true(v[0] == '<' && strstr(v, "@mx.pharos.test>") != NULL);
    assert_non_null(header(m, "Content-Type", v, sizeof(v)));
    assert_true(strncmp(v, "multipart/alternative; boundary=\"", 33) == 0);
    char boundary[80];
    snprintf(boundary, sizeof(boundary), "--%.*s", (int)strcspn(v + 33, "\""), v + 33);
    const char *p1 = strstr(m, boundary);
    assert_non_null(p1);
    const char *p2 = strstr(p1 + 1, boundary);
    assert_non_null(p2);
    assert_non_null(strstr(p1, "Content-Type: text/plain; charset=UTF-8\r\n"));
    assert_non_null(strstr(p2, "Content-Type: text/html; charset=UTF-8\r\n"));
    assert_true(strstr(p1, "text/plain") < p2);
    /* the text part, quoted-printable, its leading dot stuffed by curl */
    assert_non_null(strstr(p1, "\r\n\r\n..leading dot\r\nfiring =C3=BC\r\n"));
    assert_non_null(strstr(p2, "\r\n\r\n<p>HighLatency</p>\r\n"));
    char end[96];
    snprintf(end, sizeof(end), "%s--\r\n", boundary);
    assert_non_null(strstr(m, end));
}

static void test_header_encoding(void **state)
{
    fx_t *x = *state;
    alerts_send_result_t res = send_cfg(x,
                                        "to: ops@example.org\nrequire_tls: false\n"
                                        "subject: \"Gel\xc3\xb6st\\r\\nBcc: evil@example.org\"\n"
                                        "headers:\n  X-Long: '{{ range .Alerts }}\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                                        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                                        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                                        "\xc3\xa9\xc3\xa9\xc3\xa9{{ end }}'\n",
                                        1);
    if (res.status != ALERTS_SEND_OK) {
        fail_msg("%s", res.msg);
    }
    const char *m = (const char *)x->s->data.data;
    char v[512];
    assert_null(header(m, "Bcc", v, sizeof(v)));
    assert_string_equal(header(m, "Subject", v, sizeof(v)), "=?UTF-8?b?R2Vsw7ZzdA0KQmNjOiBldmlsQGV4YW1wbGUub3Jn?=");
    /* 100 bytes of é: three encoded words, folded */
    assert_non_null(header(m, "X-Long", v, sizeof(v)));
    assert_true(strncmp(v, "=?UTF-8?b?", 10) == 0);
    assert_non_null(strstr(m, "?=\r\n =?UTF-8?b?"));
}

static void test_outcomes(void **state)
{
    fx_t *x = *state;
    /* require_tls (default) and no STARTTLS offered */
    alerts_send_result_t res = send_cfg(x, "to: ops@example.org\n", 1);
    assert_int_equal(res.status, ALERTS_SEND_FAIL);
    assert_non_null(strstr(res.msg, "STARTTLS"));
    assert_int_equal(res.http_code, 0);

    res = send_cfg(x, "to: reject@example.org\nrequire_tls: false\n", 1);
    assert_int_equal(res.status, ALERTS_SEND_FAIL);
    assert_int_equal(res.http_code, 550);

    res = send_cfg(x, "to: tempfail@example.org\nrequire_tls: false\n", 1);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(res.http_code, 451);

    res = send_cfg(x, "to: '{{ .Nope'\nrequire_tls: false\n", 1);
    assert_int_equal(res.status, ALERTS_SEND_FAIL);
    assert_non_null(strstr(res.msg, "template email.to"));

    res = send_cfg(x, "to: '{{ \"\" }}'\nrequire_tls: false\ntext: x\n", 1);
    assert_string_equal(res.msg, "email: to renders no address");
    assert_int_equal(res.status, ALERTS_SEND_FAIL);

    /* nothing listening */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(sa);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    char yaml[256];
    snprintf(yaml, sizeof(yaml), "smarthost: 127.0.0.1:%u\nfrom: a@b\nto: c@d\nrequire_tls: false\n",
             (unsigned)ntohs(sa.sin_port));
    void *cfg = test_cfg(x->t, yaml, x->a);
    void *st = x->t->state_create(cfg);
    test_notif_t tn;
    test_notif_init(&tn, 1, "g");
    alerts_recv_env_t env = test_env(&x->kv, &x->clk, 2000);
    x->t->send(cfg, st, &env, &tn.n, &res);
    assert_int_equal(res.status, ALERTS_SEND_RETRY);
    assert_int_equal(res.http_code, 0);
    x->t->state_destroy(st);
}

/* A label value rendered into to or from cannot add SMTP commands: every
 * address is checked before the connection, the send FAILs naming the
 * field without quoting the value, and the server sees no command. */
static void test_address_injection(void **state)
{
    fx_t *x = *state;
    static const struct {
        const char *cfg; /* to and from; the severity label holds the value */
        const char *sev;
        const char *field;
    } cases[] = {
        { "to: '{{ .CommonLabels.severity }}'\n", "bob@example.com>\r\nRCPT TO:<evil@attacker.com", "to:" },
        { "to: 'ok@example.org, {{ .CommonLabels.severity }}'\n", "bob@example.com>\r\nRCPT TO:<evil@attacker.com",
          "address 2" },
        { "to: 'Bob <{{ .CommonLabels.severity }}>'\n", "bob@example.com\nRCPT TO:<evil@attacker.com", "to:" },
        { "to: '{{ .CommonLabels.severity }}'\n", "evil@attacker.com\r", "to:" },
        { "to: '{{ .CommonLabels.severity }}'\n", "evil@attacker.com\x7f", "to:" },
        { "to: '{{ .CommonLabels.severity }}'\n", "bob evil@attacker.com", "to:" },
        { "to: '{{ .CommonLabels.severity }}'\n", "attacker.com", "to:" },
        { "to: '{{ .CommonLabels.severity }}'\n", "@attacker.com", "to:" },
        { "to: '{{ .CommonLabels.severity }}'\n", "evil@", "to:" },
        { "to: '{{ .CommonLabels.severity }}'\n", "evil@attacker.com>x", "to:" },
        { "to: ops@example.org\nfrom: '{{ .CommonLabels.severity }}'\n", "p@example.org>\r\nRCPT TO:<evil@attacker.com",
          "from:" },
        { "to: ops@example.org\nfrom: '{{ .CommonLabels.severity }}'\n", "p@attacker.com\tx", "from:" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        x->s->commands = x->s->attacker = x->s->messages = 0;
        char extra[256];
        snprintf(extra, sizeof(extra), "require_tls: false\n%s", cases[i].cfg);
        alerts_send_result_t res = send_cfg_sev(x, extra, 1, cases[i].sev);
        if (res.status != ALERTS_SEND_FAIL || strstr(res.msg, cases[i].field) == NULL ||
            strstr(res.msg, "attacker") != NULL || x->s->attacker != 0 || x->s->commands != 0) {
            fail_msg("case %zu: status %d msg \"%s\": %d commands, %d naming attacker.com", i, res.status, res.msg,
                     x->s->commands, x->s->attacker);
        }
        assert_int_equal(x->s->messages, 0);
    }
    /* a plain address with quote, dot and plus passes */
    alerts_send_result_t res =
        send_cfg_sev(x, "require_tls: false\nto: '{{ .CommonLabels.severity }}'\n", 1, "Bob.O'Neil+alerts@example.org");
    if (res.status != ALERTS_SEND_OK) {
        fail_msg("%s", res.msg);
    }
    assert_string_equal(x->s->rcpt[0], "<Bob.O'Neil+alerts@example.org>");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_message),
        cmocka_unit_test(test_header_encoding),
        cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_address_injection),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

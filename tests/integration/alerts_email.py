#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The email receiver (alerts/alerts_recv_email.c) against real SMTP servers.

Runs Debian's aiosmtpd on 127.0.0.1: a plain server, a STARTTLS server
requiring TLS and AUTH (self-signed certificate made with `openssl req`),
and an implicit-TLS (smtps) server; drives the receiver through
`recvsend recv email_configs <config> <nfiring>` and parses what arrived
with Python's email package: envelope (MAIL FROM, RCPT TO), Subject
(RFC 2047 decoded), From/To/Date/Message-Id, custom headers, the
multipart/alternative text and html parts. Also the outcomes: STARTTLS
required but not offered (FAIL), a 550 recipient (FAIL), a 451 recipient
(RETRY), wrong password (FAIL), nothing listening (RETRY).

Usage: alerts_email.py <recvsend binary>   (exit 0 pass, 1 fail)
"""
import email
import email.policy
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

RECVSEND = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="pharos-email-")
FAILS = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Handler:
    def __init__(self):
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 no such user"
        if address.startswith("tempfail"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append({
            "from": envelope.mail_from,
            "rcpt": list(envelope.rcpt_tos),
            "data": envelope.original_content or envelope.content,
            "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
            "auth": session.authenticated,
        })
        return "250 Message accepted for delivery"


def authenticator(server, session, envelope, mechanism, auth_data):
    if isinstance(auth_data, LoginPassword) and auth_data.login == b"alerts" and auth_data.password == b"s3cret":
        return AuthResult(success=True)
    return AuthResult(success=False, handled=False)


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL:", what)
    else:
        print("ok:", what)


def send(name, config, nfiring=2, want_exit=0):
    path = os.path.join(TMP, name + ".yml")
    with open(path, "w") as f:
        f.write(config)
    p = subprocess.run([RECVSEND, "recv", "email_configs", path, str(nfiring), "10000"],
                       capture_output=True, text=True, timeout=60)
    out = (p.stdout + p.stderr).strip()
    check(p.returncode == want_exit, f"{name}: exit {p.returncode} (want {want_exit}): {out}")
    return out


def main():
    key = os.path.join(TMP, "key.pem")
    cert = os.path.join(TMP, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    pw = os.path.join(TMP, "password")
    with open(pw, "w") as f:
        f.write("s3cret\n")

    plain_h, tls_h, smtps_h = Handler(), Handler(), Handler()
    plain_port, tls_port = free_port(), free_port()
    plain = Controller(plain_h, hostname="127.0.0.1", port=plain_port)
    starttls = Controller(tls_h, hostname="127.0.0.1", port=tls_port, tls_context=ctx, require_starttls=True,
                          authenticator=authenticator, auth_require_tls=True, auth_required=True)
    servers = [plain, starttls]
    # Implicit TLS is chosen by port 465 alone, so that check needs to bind it
    # (root, and 465 free); it is skipped otherwise.
    smtps = None
    try:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 465))
        s.close()
        smtps = Controller(smtps_h, hostname="127.0.0.1", port=465, ssl_context=ctx)
        servers.append(smtps)
    except OSError:
        print("skip: cannot bind 127.0.0.1:465, implicit TLS not checked")
    for c in servers:
        c.start()
    try:
        # 1. plain, two recipients, text and html, custom headers
        send("plain", f"""
to: 'Ops Team <ops@example.org>, oncall@example.org'
from: 'Pharos <pharos@example.org>'
smarthost: 127.0.0.1:{plain_port}
hello: pharos.test
require_tls: false
headers:
  X-Team: '{{{{ .GroupLabels.alertname }}}}'
  Reply-To: noreply@example.org
text: 'Text part: {{{{ .Status }}}} {{{{ range .Alerts }}}}{{{{ .Labels.instance }}}} {{{{ end }}}}'
""")
        check(len(plain_h.messages) == 1, "plain: one message")
        if not plain_h.messages:
            return 1
        m = plain_h.messages[0]
        check(m["from"] == "pharos@example.org", f"plain: MAIL FROM {m['from']}")
        check(m["rcpt"] == ["ops@example.org", "oncall@example.org"], f"plain: RCPT TO {m['rcpt']}")
        check(not m["tls"], "plain: no TLS")
        msg = email.message_from_bytes(m["data"], policy=email.policy.default)
        check(msg["Subject"] == "[FIRING:2] PharosTest (critical)", f"plain: Subject {msg['Subject']!r}")
        check(msg["From"] == "Pharos <pharos@example.org>", f"plain: From {msg['From']!r}")
        check(msg["To"].addresses[0].addr_spec == "ops@example.org" and len(msg["To"].addresses) == 2,
              f"plain: To {msg['To']!r}")
        check(msg["X-Team"] == "PharosTest", f"plain: X-Team {msg['X-Team']!r}")
        check(msg["Reply-To"] == "noreply@example.org", "plain: Reply-To")
        check(msg["Date"] is not None and msg["Date"].datetime is not None, f"plain: Date {msg['Date']!r}")
        check(msg["Message-Id"] is not None and msg["Message-Id"].endswith("@pharos.test>"),
              f"plain: Message-Id {msg['Message-Id']!r}")
        check(msg.get_content_type() == "multipart/alternative", f"plain: {msg.get_content_type()}")
        parts = [p for p in msg.iter_parts()]
        check([p.get_content_type() for p in parts] == ["text/plain", "text/html"],
              f"plain: parts {[p.get_content_type() for p in parts]}")
        text = parts[0].get_content()
        html = parts[1].get_content()
        check(text.strip() == "Text part: firing a:9100 b:9100", f"plain: text {text!r}")
        check("<!DOCTYPE html>" in html and "PharosTest" in html and "instance" in html, "plain: html default")
        check("Latenz \u00fcber 1s" in html, "plain: UTF-8 annotation survives quoted-printable")

        # 2. resolved, non-ASCII subject
        send("subject", f"""
to: ops@example.org
from: pharos@example.org
smarthost: 127.0.0.1:{plain_port}
require_tls: false
subject: 'Gelöst: {{{{ .Status }}}} – {{{{ .CommonAnnotations.summary }}}}'
html: ''
text: done
""", nfiring=0)
        msg = email.message_from_bytes(plain_h.messages[-1]["data"], policy=email.policy.default)
        check(msg["Subject"] == "Gelöst: resolved – Latenz über 1s", f"subject: {msg['Subject']!r}")
        parts = [p.get_content_type() for p in msg.iter_parts()]
        check(parts == ["text/plain"], f"subject: parts {parts}")

        # 3. STARTTLS + AUTH (password from a file), certificate checked against ca_file
        send("starttls", f"""
to: ops@example.org
from: pharos@example.org
smarthost: 127.0.0.1:{tls_port}
auth_username: alerts
auth_password_file: {pw}
tls_config:
  ca_file: {cert}
""")
        check(len(tls_h.messages) == 1 and tls_h.messages[0]["tls"] and tls_h.messages[0]["auth"],
              "starttls: delivered over TLS after AUTH")
        if tls_h.messages:
            msg = email.message_from_bytes(tls_h.messages[0]["data"], policy=email.policy.default)
            check(msg["Subject"] == "[FIRING:2] PharosTest (critical)", "starttls: Subject")

        # 4. wrong password: FAIL (535)
        send("badauth", f"""
to: ops@example.org
from: pharos@example.org
smarthost: 127.0.0.1:{tls_port}
auth_username: alerts
auth_password: wrong
tls_config:
  insecure_skip_verify: true
""", want_exit=2)

        # 5. require_tls (default) against a server without STARTTLS: FAIL
        out = send("notls", f"""
to: ops@example.org
from: pharos@example.org
smarthost: 127.0.0.1:{plain_port}
""", want_exit=2)
        check("STARTTLS" in out, "notls: message names STARTTLS")

        # 6. recipient refused 550: FAIL; 451: RETRY
        send("reject", f"""
to: reject@example.org
from: pharos@example.org
smarthost: 127.0.0.1:{plain_port}
require_tls: false
""", want_exit=2)
        send("tempfail", f"""
to: tempfail@example.org
from: pharos@example.org
smarthost: 127.0.0.1:{plain_port}
require_tls: false
""", want_exit=1)

        # 7. nothing listening: RETRY
        send("refused", f"""
to: ops@example.org
from: pharos@example.org
smarthost: 127.0.0.1:{free_port()}
require_tls: false
""", want_exit=1)

        # 8. implicit TLS on 465
        if smtps:
            send("smtps", f"""
to: ops@example.org
from: pharos@example.org
smarthost: 127.0.0.1:465
tls_config:
  ca_file: {cert}
""")
            check(len(smtps_h.messages) == 1 and smtps_h.messages[0]["tls"], "smtps: delivered over TLS")
    finally:
        for c in servers:
            c.stop()
    if FAILS:
        print(f"{len(FAILS)} check(s) failed")
        return 1
    print("all email checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

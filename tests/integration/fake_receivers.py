# SPDX-License-Identifier: Apache-2.0
"""fake_receivers.py: loopback stand-ins for Slack, PagerDuty and GitHub that
record every request and check it against the service's documented schema.

  serve PORT LOGFILE [--script PATH=CODE,CODE,...]...
      Listen on 127.0.0.1:PORT. Each request is appended to LOGFILE as one
      JSON line {"path", "method", "body" (parsed JSON or text), "problems"}.
      The answer to the n-th request on a path is the n-th CODE of its
      script (the last one repeats; default 200, 202 for /pd, 201 for
      GitHub creates). Paths: /slack... (Slack webhook), /pd (PagerDuty
      Events v2), /github/... (GitHub REST issues API), anything else
      is recorded and answered 200.
  count LOGFILE PATH_PREFIX [KEY=VALUE]
      Print how many accepted (2xx) requests went to paths starting with
      PATH_PREFIX, optionally only those whose JSON body has KEY == VALUE
      (dotted keys, e.g. event_action=trigger).
  wait LOGFILE N PATH_PREFIX [KEY=VALUE]
      Wait (up to 30 s) until count gives at least N; exit 1 saying what
      arrived otherwise.
  check LOGFILE
      Exit 1 listing every recorded schema problem.
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SEVERITIES = {"critical", "error", "warning", "info"}


def slack_problems(body):
    p = []
    if not isinstance(body, dict):
        return ["slack: body is not a JSON object"]
    if not isinstance(body.get("text"), str) or not body["text"]:
        p.append("slack: text missing (the notification fallback)")
    for b in body.get("blocks", []):
        if b.get("type") not in ("section", "header", "divider", "context"):
            p.append("slack: unknown block type %r" % b.get("type"))
        if b.get("type") == "section" and len(b.get("text", {}).get("text", "")) > 3000:
            p.append("slack: section text over 3000 characters")
    if len(body.get("blocks", [])) > 50:
        p.append("slack: more than 50 blocks")
    return p


def pd_problems(body):
    p = []
    if not isinstance(body, dict):
        return ["pagerduty: body is not a JSON object"]
    if len(body.get("routing_key", "")) != 32:
        p.append("pagerduty: routing_key is not 32 characters")
    if body.get("event_action") not in ("trigger", "acknowledge", "resolve"):
        p.append("pagerduty: bad event_action %r" % body.get("event_action"))
    dk = body.get("dedup_key", "")
    if not dk or len(dk) > 255:
        p.append("pagerduty: dedup_key missing or over 255 characters")
    if body.get("event_action") == "trigger":
        pl = body.get("payload", {})
        if not pl.get("summary") or len(pl["summary"]) > 1024:
            p.append("pagerduty: payload.summary missing or over 1024 characters")
        if not pl.get("source"):
            p.append("pagerduty: payload.source missing")
        if pl.get("severity") not in SEVERITIES:
            p.append("pagerduty: payload.severity %r not in %s" % (pl.get("severity"), sorted(SEVERITIES)))
    return p


class State:
    def __init__(self, log, scripts):
        self.lock = threading.Lock()
        self.log = log
        self.scripts = scripts
        self.counts = {}
        self.issues = {}


def make_handler(st):
    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def handle_any(self):
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n else b""
            try:
                body = json.loads(raw.decode() or "null")
            except ValueError:
                body = raw.decode(errors="replace")
            path = self.path
            with st.lock:
                k = st.counts.get(path, 0)
                st.counts[path] = k + 1
                code = None
                for prefix, codes in st.scripts:
                    if path.startswith(prefix):
                        code = codes[min(k, len(codes) - 1)]
                problems = []
                answer = b"ok"
                if path.startswith("/slack"):
                    problems = slack_problems(body)
                    code = code or 200
                elif path.startswith("/pd"):
                    problems = pd_problems(body)
                    code = code or 202
                    answer = json.dumps({"status": "success", "message": "Event processed",
                                         "dedup_key": (body or {}).get("dedup_key", "")}).encode()
                elif path.startswith("/github/"):
                    code, answer = self.github(path, body, code)
                else:
                    code = code or 200
                rec = {"path": path, "method": self.command, "body": body, "code": code, "problems": problems}
                with open(st.log, "a") as f:
                    f.write(json.dumps(rec) + "\n")
            self.send_response(code)
            if code == 429:
                self.send_header("Retry-After", "1")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def github(self, path, body, code):
            parts = path.split("?")[0].split("/")
            # /github/repos/{o}/{r}/issues[/{n}[/comments]]
            if code and code >= 300:
                return code, b'{"message":"scripted failure"}'
            if self.command == "POST" and parts[-1] == "issues":
                num = len(st.issues) + 1
                st.issues[num] = {"state": "open", "title": body.get("title")}
                return 201, json.dumps({"number": num, "html_url": "http://x/%d" % num}).encode()
            if self.command == "PATCH":
                num = int(parts[-1])
                if "state" in body:
                    st.issues[num]["state"] = body["state"]
                return 200, json.dumps({"number": num}).encode()
            if self.command == "POST" and parts[-1] == "comments":
                return 201, b'{"id":1}'
            return 200, b"[]"

        do_POST = handle_any
        do_PATCH = handle_any
        do_GET = handle_any

    return H


def cmd_serve(port, log, scripts):
    st = State(log, scripts)
    srv = ThreadingHTTPServer(("127.0.0.1", port), make_handler(st))
    srv.serve_forever()


def records(log):
    try:
        with open(log) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def dotted(body, key):
    for part in key.split("."):
        if not isinstance(body, dict):
            return None
        body = body.get(part)
    return body


def count(log, prefix, kv=None):
    """Accepted (2xx) requests to paths starting with prefix, optionally
    only those whose JSON body has KEY == VALUE (kv = "KEY=VALUE")."""
    n = 0
    for r in records(log):
        if not r["path"].startswith(prefix) or not 200 <= r["code"] < 300:
            continue
        if kv is not None:
            k, v = kv.split("=", 1)
            if str(dotted(r["body"], k)) != v:
                continue
        n += 1
    return n


def main():
    a = sys.argv[1:]
    if a[0] == "serve":
        scripts = []
        i = 3
        while i < len(a):
            if a[i] == "--script":
                path, codes = a[i + 1].split("=")
                scripts.append((path, [int(c) for c in codes.split(",")]))
                i += 2
            else:
                i += 1
        cmd_serve(int(a[1]), a[2], scripts)
        return 0
    if a[0] == "count":
        print(count(a[1], a[2], a[3] if len(a) > 3 else None))
        return 0
    if a[0] == "wait":
        want, rest = int(a[2]), a[3:]
        deadline = time.time() + 30
        while time.time() < deadline:
            if count(a[1], rest[0], rest[1] if len(rest) > 1 else None) >= want:
                return 0
            time.sleep(0.2)
        print("FAIL: waited for %d deliveries to %s, got %d" %
              (want, " ".join(rest), count(a[1], rest[0], rest[1] if len(rest) > 1 else None)))
        return 1
    if a[0] == "check":
        bad = [(r["path"], p) for r in records(a[1]) for p in r["problems"]]
        for path, p in bad:
            print("FAIL: %s: %s" % (path, p))
        return 1 if bad else 0
    return 2


if __name__ == "__main__":
    sys.exit(main())

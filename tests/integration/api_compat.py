#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""api_compat: pharosd's Prometheus HTTP API against a real Prometheus.

Starts Debian's prometheus (remote-write receiver on) and pharosd on free
127.0.0.1 ports, sends both the same samples by remote write (rwsend), then
asks both every request of api_compat_requests.txt and requires the same
status, Content-Type and body, byte for byte.

The packaged Prometheus is 2.42; pharosd follows Prometheus 3. Where 3
answers differently (an error wrapped in "invalid parameter", range
windows open on the left, the head index filtered by time), the request
line is preceded by "! <reason>" and followed by "=> <status> <body>":
pharosd must give that answer instead, and Prometheus must still differ
(so a stale entry is noticed when the peer is upgraded).

Processes are ours, killed by PID. Exit 77 (skipped) without the peer.
Usage: api_compat.py PHAROSD RWSEND REQUESTS_FILE
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

PROM_BIN = "/usr/bin/prometheus"

DATA = """\
# TYPE http_requests_total counter
# HELP http_requests_total Requests served.
up{job="node",instance="a:9100"} 1 1700000000000
up{job="node",instance="a:9100"} 1 1700000015000
up{job="node",instance="a:9100"} 1 1700000030000
up{job="api",instance="b:80"} 0.5 1700000015000
http_requests_total{job="api",code="200"} 10 1700000000000
http_requests_total{job="api",code="200"} 25 1700000015000
http_requests_total{job="api",code="200"} 40 1700000030000
http_requests_total{job="api",code="200"} 55 1700000045000
http_requests_total{job="api",code="500"} 1 1700000000000
http_requests_total{job="api",code="500"} 2 1700000030000
tiny{le="<&>"} 1e-7 1700000000000
huge 1e21 1700000000000
neg -Inf 1700000000000
not_a_number NaN 1700000000000
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_ready(url, proc, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"api_compat: {url}: process exited")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise SystemExit(f"api_compat: {url} not ready")


def encode(args):
    if args == "-":
        return ""
    parts = []
    for part in args.split("&"):
        k, _, v = part.partition("=")
        parts.append(urllib.parse.quote(k, safe="") + "=" + urllib.parse.quote(v, safe=""))
    return "&".join(parts)


def ask(base, method, path, args):
    q = encode(args)
    try:
        if method == "GET":
            r = urllib.request.urlopen(base + path + ("?" + q if q else ""), timeout=30)
        else:
            req = urllib.request.Request(base + path, data=q.encode(),
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            r = urllib.request.urlopen(req, timeout=30)
        return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def cases(path):
    """(reason or None, request line, expected pharosd answer or None)."""
    reason, pending = None, None
    for raw in open(path, encoding="utf-8"):
        line = raw.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        if line.startswith("! "):
            reason = line[2:]
        elif line.startswith("=> "):
            code, _, body = line[3:].partition(" ")
            yield reason, pending, (int(code), body)
            reason, pending = None, None
        elif reason is not None:
            pending = line
        else:
            yield None, line, None


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    pharosd, rwsend, requests = sys.argv[1:]
    if not os.access(PROM_BIN, os.X_OK):
        print(f"SKIP: {PROM_BIN} missing")
        return 77
    tmp = tempfile.mkdtemp(prefix="pharos-api-compat-")
    procs = []
    try:
        p_prom, p_pharos = free_port(), free_port()
        with open(os.path.join(tmp, "prom.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1h\n")
        procs.append(subprocess.Popen(
            [PROM_BIN, "--config.file=" + os.path.join(tmp, "prom.yml"),
             "--storage.tsdb.path=" + os.path.join(tmp, "prom"), f"--web.listen-address=127.0.0.1:{p_prom}",
             "--web.enable-remote-write-receiver"],
            stdout=open(os.path.join(tmp, "prom.log"), "w"), stderr=subprocess.STDOUT))
        procs.append(subprocess.Popen(
            [pharosd, f"--web.listen-address=127.0.0.1:{p_pharos}", "--storage.path=" + os.path.join(tmp, "pharos")],
            stdout=open(os.path.join(tmp, "pharos.log"), "w"), stderr=subprocess.STDOUT))
        prom, pharos = f"http://127.0.0.1:{p_prom}", f"http://127.0.0.1:{p_pharos}"
        wait_ready(prom + "/-/ready", procs[0])
        wait_ready(pharos + "/-/ready", procs[1])
        for base in (prom, pharos):
            out = subprocess.run([rwsend, base], input=DATA, capture_output=True, text=True, check=True).stdout
            if not out.startswith("204"):
                raise SystemExit(f"api_compat: write to {base} answered {out!r}")
        same, bad = 0, []
        for reason, line, want in cases(requests):
            method, path, args = line.split(" ", 2)
            a = ask(prom, method, path, args)
            b = ask(pharos, method, path, args)
            if want is None:
                if a == b:
                    same += 1
                else:
                    bad.append(f"{line}\n  prometheus {a}\n  pharosd    {b}")
            elif (b[0], b[2]) != want or b[1] != "application/json" or a == b:
                bad.append(f"{line} ({reason})\n  prometheus {a}\n  pharosd    {b}\n  want       {want}")
            else:
                same += 1
        for b in bad:
            print(b)
        print(f"api_compat: {same} answers as expected, {len(bad)} not")
        return 1 if bad else 0
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

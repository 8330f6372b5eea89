#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""grafana_loki_conversation: replay Grafana's Loki data source against pharosd.

Grafana and Loki cannot be installed here, so grafana_loki_conversation.json
holds the requests Grafana's Loki data source sends (save & test, label
browser, Explore's logs / volume / sample / context / live tail, dashboard
panels, errors), rebuilt from Grafana's and Loki's source and cited there.
This script pushes the file's small data set through POST /loki/api/v1/push
(times relative to now), then sends every request as Grafana would: same
method, path, argument order and encoding (Go url.Values or the browser's
encodeURIComponent, shared with grafana_conversation.py), same headers
(X-Query-Tags, X-Loki-Response-Encoding-Flags), Accept-Encoding: gzip.

Each answer is checked against Loki's documented shape, including what
Grafana's parser needs (encodingFlags before result; with categorize-labels a
third element on EVERY value), then against the exact values of the data set:
label lists, series sets, matrix/vector points, the multiset of log entries
with their structured metadata and parsed labels, per-stream ordering by
direction. Loki's optional detected_level (discover_log_levels) is accepted
when it equals the stream's level. The live tail is checked over a real
websocket (RFC 6455 client below, standard library only).

Advisory entries print failures, not fatal.
--skip-if-absent: exit 77 (ctest SKIP_RETURN_CODE) when pharosd answers 404
on /loki/api/v1/labels, i.e. the Loki API is not there yet.
Usage: grafana_loki_conversation.py --pharos URL [--skip-if-absent]
       [--only REGEX] [--show] grafana_loki_conversation.json
"""
import argparse
import base64
import gzip
import hashlib
import http.client
import json
import math
import os
import re
import socket
import struct
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from grafana_conversation import encode, encoder_selftest  # noqa: E402  (same directory)

GO_FLOAT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$|^[+-]?(?i:inf|infinity)$|^(?i:nan)$")
NS_DIGITS = re.compile(r"^[0-9]{1,19}$")
USER_AGENT = "Grafana/11.6.0"
SKIP = 77


# ---------------------------------------------------------------- time placeholders
class Clock:
    """B and the placeholders of grafana_loki_conversation.json, fixed once per run."""

    def __init__(self, now_s=None):
        now = time.time() if now_s is None else now_s
        self.now_ms = int(now * 1000)
        self.B = int(now) // 60 * 60 - 600
        c_ms = (self.B + 125) * 1000  # the context row a3, at Grafana's ms precision
        self.values = {
            "{S}": self.B * 10**9, "{E}": (self.B + 300) * 10**9,
            "{RS}": (self.B - 3300) * 10**9, "{RE}": (self.B + 300) * 10**9,
            "{NOW}": self.now_ms * 10**6, "{NOW10}": (self.now_ms - 600000) * 10**6,
            "{TI}": (self.B + 300) * 10**9,
            "{C}": c_ms * 10**6, "{C-2h}": (c_ms - 7200000) * 10**6, "{C+2h}": (c_ms + 7200000) * 10**6,
        }

    def fill(self, s):
        for k, v in self.values.items():
            s = s.replace(k, str(v))
        return s


# ---------------------------------------------------------------- data set
def entries_by_id(conv, clock):
    """{id: (stream labels, ts_ns, line, meta)} of the data set."""
    out = {}
    for st in conv["dataset"]["streams"]:
        for e in st["entries"]:
            out[e["id"]] = (st["labels"], (clock.B + e["at"]) * 10**9 + e["ns"], e["line"], e.get("meta", {}))
    return out


def push_body(conv, clock):
    streams = []
    for st in conv["dataset"]["streams"]:
        values = []
        for e in st["entries"]:
            v = [str((clock.B + e["at"]) * 10**9 + e["ns"]), e["line"]]
            if e.get("meta"):
                v.append(e["meta"])
            values.append(v)
        streams.append({"stream": st["labels"], "values": values})
    return {"streams": streams}


# ---------------------------------------------------------------- HTTP
def request(base, method, target, body=None, headers=None):
    u = urllib.parse.urlsplit(base)
    h = {"Accept-Encoding": "gzip", "User-Agent": USER_AGENT}
    h.update(headers or {})
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request(method, target, body=body, headers=h)
        r = conn.getresponse()
        raw = r.read()
        if r.getheader("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        text = raw.decode("utf-8", "replace")
        try:
            doc = json.loads(text) if text else None
        except ValueError:
            doc = None
        ctype = (r.getheader("Content-Type") or "").split(";")[0].strip()
        return r.status, ctype, doc, text
    finally:
        conn.close()


def target_of(req, clock):
    t = req["path"]
    if req.get("query"):
        params = [(k, clock.fill(v)) for k, v in req["query"]["params"]]
        t += "?" + encode(req["query"]["encoding"], params)
    return t


def push(base, body):
    st, _, _, text = request(base, "POST", "/loki/api/v1/push", json.dumps(body).encode(),
                             {"Content-Type": "application/json"})
    return st, text


# ---------------------------------------------------------------- websocket (RFC 6455, client side)
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WebSocket:
    def __init__(self, base, target, timeout=10):
        u = urllib.parse.urlsplit(base)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {target} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nUser-Agent: {USER_AGENT}\r\n"
                           f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError(f"handshake: connection closed after {head[:200]!r}")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1]) if len(lines[0].split()) > 1 else 0
        hdrs = {ln.split(":", 1)[0].strip().lower(): ln.split(":", 1)[1].strip() for ln in lines[1:] if ":" in ln}
        want = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.handshake_errors = []
        if self.status != 101:
            self.handshake_errors.append(f"handshake answered {lines[0]!r}, want 101")
        elif hdrs.get("sec-websocket-accept") != want:
            self.handshake_errors.append(f"Sec-WebSocket-Accept {hdrs.get('sec-websocket-accept')!r}, want {want!r}")
        elif "websocket" not in hdrs.get("upgrade", "").lower():
            self.handshake_errors.append("no 'Upgrade: websocket' in the 101 answer")

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send(self, opcode, payload=b""):
        mask = os.urandom(4)
        n = len(payload)
        hdr = bytes([0x80 | opcode])
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack(">Q", n)
        self.sock.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def message(self, deadline):
        """Next complete message as (opcode, bytes), or None at the deadline; pings are answered."""
        data, first_op = b"", None
        while True:
            left = deadline - time.time()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                b0, b1 = self._read(2)
            except socket.timeout:
                return None
            if b1 & 0x80:
                raise ValueError("server frame is masked (RFC 6455 5.1 forbids it)")
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)
            op = b0 & 0x0F
            if op == 9:
                self._send(10, payload)
                continue
            if op == 10:
                continue
            if op == 8:
                return (8, payload)
            if op != 0:
                first_op = op
            data += payload
            if b0 & 0x80:
                return (first_op, data)

    def close(self):
        try:
            self._send(8, struct.pack(">H", 1000))
        except OSError:
            pass
        self.sock.close()


# ---------------------------------------------------------------- shape checks
def is_labels(x):
    return isinstance(x, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in x.items())


def is_num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def is_pair(p):
    return isinstance(p, list) and len(p) == 2 and is_num(p[0]) and isinstance(p[1], str) and bool(GO_FLOAT.match(p[1]))


def lkey(d):
    return json.dumps(d, sort_keys=True, separators=(",", ":"))


def close(a, b, rel=1e-9):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= rel * max(abs(a), abs(b))


def drop_optional(labels, optional, errs, where):
    """labels without the optional ones; an optional detected_level must equal level."""
    out = dict(labels)
    for name in optional:
        if name in out:
            v = out.pop(name)
            if name == "detected_level" and "level" in labels and v != labels["level"]:
                errs.append(f"{where}: detected_level {v!r} differs from level {labels['level']!r}")
    return out


def check_samples(exp, data, clock, errs):
    rt = data.get("resultType")
    res = data.get("result")
    if not isinstance(res, list):
        errs.append("data.result is not a list")
        return
    optional = exp.get("optional_labels", [])
    got = {}
    for i, s in enumerate(res):
        if not isinstance(s, dict) or not is_labels(s.get("metric")):
            errs.append(f"result[{i}]: no metric label object")
            return
        if rt == "matrix":
            pts = s.get("values")
            if not isinstance(pts, list) or not all(is_pair(p) for p in pts):
                errs.append(f"result[{i}].values is not [[<number s>, \"<float>\"], ...]")
                return
            if [p[0] for p in pts] != sorted(p[0] for p in pts):
                errs.append(f"result[{i}].values not in time order")
        else:
            if not is_pair(s.get("value")):
                errs.append(f"result[{i}].value is not [<number s>, \"<float>\"]")
                return
            pts = [s["value"]]
        key = lkey(drop_optional(s["metric"], optional, errs, f"result[{i}]"))
        if key in got:
            errs.append(f"series {key} twice")
        got[key] = pts
    want = {lkey(json.loads(k)): v for k, v in exp["series"].items()}
    if set(got) != set(want):
        errs.append(f"series {sorted(got)}, want {sorted(want)}")
        return
    base = 0 if exp.get("times") == "absolute" else clock.B
    for k, wpts in want.items():
        gpts = got[k]
        wt = [base + t for t, _ in wpts]
        gt = [p[0] for p in gpts]
        if len(gt) != len(wt) or not all(abs(a - b) < 1e-3 for a, b in zip(gt, wt)):
            errs.append(f"{k}: times (offsets from B) {[round(t - base, 3) for t in gt]}, "
                        f"want {[t for t, _ in wpts]}")
            continue
        for (t, wv), p in zip(wpts, gpts):
            if not close(float(p[1]), float(wv)):
                errs.append(f"{k} at +{t}: value {p[1]}, want {wv}")


def check_streams(exp, data, clock, byid, errs):
    res = data.get("result")
    if not isinstance(res, list):
        errs.append("data.result is not a list")
        return
    spec = exp["entries"]
    cat = spec["categorized"]
    backward = spec["direction"] == "backward"
    got = []
    for i, s in enumerate(res):
        if not isinstance(s, dict) or not is_labels(s.get("stream")) or not isinstance(s.get("values"), list):
            errs.append(f"result[{i}] is not {{stream: {{..}}, values: [..]}}")
            return
        prev = None
        for j, v in enumerate(s["values"]):
            where = f"result[{i}].values[{j}]"
            n = 3 if cat else 2
            if not isinstance(v, list) or len(v) != n:
                errs.append(f"{where} has {len(v) if isinstance(v, list) else '?'} elements, want {n}"
                            + (" (categorize-labels: Grafana reads a third element on every value, {} if empty)"
                               if cat else " (no categorize-labels asked: Grafana's readStream takes exactly 2)"))
                return
            if not isinstance(v[0], str) or not NS_DIGITS.match(v[0]) or not isinstance(v[1], str):
                errs.append(f"{where}: want [\"<ns digits>\", \"<line>\"...], got {json.dumps(v)[:120]}")
                return
            ts = int(v[0])
            if prev is not None and ((backward and ts > prev) or (not backward and ts < prev)):
                errs.append(f"result[{i}]: values not in {spec['direction']} order")
            prev = ts
            meta, parsed = {}, {}
            labels = s["stream"]
            if cat:
                third = v[2]
                if not isinstance(third, dict) or set(third) - {"structuredMetadata", "parsed"} \
                        or not all(is_labels(x) for x in third.values()):
                    errs.append(f"{where}[2] is not {{structuredMetadata?: {{..}}, parsed?: {{..}}}}")
                    return
                meta = dict(third.get("structuredMetadata", {}))
                dl = meta.pop("detected_level", None)  # Loki's discover_log_levels: a copy of the level label
                if dl is not None and dl != labels.get("level"):
                    errs.append(f"{where}: detected_level {dl!r} differs from level {labels.get('level')!r}")
                parsed = third.get("parsed", {})
            else:
                labels = drop_optional(labels, ["detected_level"], errs, f"result[{i}]")
            got.append((lkey(labels), ts, v[1], lkey(meta), lkey(parsed)))
    want = []
    for eid in spec["ids"]:
        labels, ts, line, meta = byid[eid]
        parsed = spec.get("parsed", {}).get(eid, {})
        if cat:
            want.append((lkey(labels), ts, line, lkey(meta), lkey(parsed)))
        else:
            merged = dict(labels)
            merged.update(meta)
            merged.update(parsed)
            want.append((lkey(merged), ts, line, lkey({}), lkey({})))
    if sorted(got) != sorted(want):
        missing = [w for w in want if w not in got]
        extra = [g for g in got if g not in want]
        show = lambda xs: "; ".join(f"{x[0]} +{(x[1] - clock.B * 10**9) / 1e9:.9f}s {x[2][:40]!r} meta={x[3]} "
                                    f"parsed={x[4]}" for x in xs[:3])
        errs.append(f"{len(got)} entries, want {len(want)}; missing: {show(missing) or '-'}; "
                    f"unexpected: {show(extra) or '-'}")


def check_shape(kind, doc, errs):
    if kind == "detected_labels":
        ok = isinstance(doc, dict) and isinstance(doc.get("detectedLabels"), list) and all(
            isinstance(x, dict) and isinstance(x.get("label"), str) and is_num(x.get("cardinality", 0))
            for x in doc["detectedLabels"])
        if not ok:
            errs.append("not {detectedLabels: [{label, cardinality}]}")
    elif kind == "detected_fields":
        ok = isinstance(doc, dict) and isinstance(doc.get("fields", []), list) and all(
            isinstance(x, dict) and isinstance(x.get("label"), str) and (x.get("parsers") is None or isinstance(
                x.get("parsers"), list)) for x in doc.get("fields", []))
        if not ok:
            errs.append("not {fields: [{label, type, cardinality, parsers}]}")


def check(req, ans, clock, byid):
    status, ctype, doc, text = ans
    exp = req["expect"]
    errs = []
    if "status" in exp and status != exp["status"]:
        errs.append(f"HTTP {status}, want {exp['status']}")
    if "status_in" in exp and status not in exp["status_in"]:
        errs.append(f"HTTP {status}, want one of {exp['status_in']}")
    if "status_not" in exp and status == exp["status_not"]:
        errs.append(f"HTTP {status}: Grafana would take this for the v2alpha tail endpoint")
    if errs:
        return errs
    if "shape_if_200" in exp:
        if status == 200:
            check_shape(exp["shape_if_200"], doc, errs)
        return errs
    if "content_type" in exp and ctype != exp["content_type"]:
        errs.append(f"Content-Type {ctype!r}, want {exp['content_type']!r}")
    if "text_contains" in exp and exp["text_contains"] not in text:
        errs.append(f"body {text[:200]!r} lacks {exp['text_contains']!r}")
    env = exp.get("envelope")
    if env == "none":
        if not isinstance(doc, dict) or "status" in doc or "data" in doc:
            errs.append("index/stats answers the bare object {streams, chunks, entries, bytes}, no envelope")
            return errs
        for k in ("streams", "chunks", "entries", "bytes"):
            if not isinstance(doc.get(k), int) or isinstance(doc.get(k), bool) or doc[k] < 0:
                errs.append(f"{k} is not a non-negative integer")
        for k, v in exp.get("index_stats", {}).items():
            if doc.get(k) != v:
                errs.append(f"{k} {doc.get(k)}, want {v}")
        return errs
    if env == "success":
        if not isinstance(doc, dict) or doc.get("status") != "success" or "data" not in doc:
            return errs + [f"not {{status: success, data: ..}}: {text[:200]!r}"]
    if env is None:
        return errs
    data = doc["data"]
    if "data" in exp and data != exp["data"]:
        errs.append(f"data {json.dumps(data)[:300]}, want {json.dumps(exp['data'])}")
    if "data_set" in exp:
        if not isinstance(data, list) or not all(is_labels(x) for x in data):
            errs.append("data is not a list of label objects")
        elif sorted(lkey(x) for x in data) != sorted(lkey(x) for x in exp["data_set"]):
            errs.append(f"data {json.dumps(data)[:300]}, want (any order) {json.dumps(exp['data_set'])}")
    if "result_type" in exp:
        if not isinstance(data, dict) or data.get("resultType") != exp["result_type"]:
            return errs + [f"resultType {data.get('resultType') if isinstance(data, dict) else None}, "
                           f"want {exp['result_type']}"]
        if "encoding_flags" in exp and data.get("encodingFlags") != exp["encoding_flags"]:
            errs.append(f"data.encodingFlags {data.get('encodingFlags')}, want {exp['encoding_flags']}")
        if exp.get("no_encoding_flags") and "encodingFlags" in data:
            errs.append("data.encodingFlags present although no flag was asked for")
        if exp.get("encoding_flags_before_result"):
            f = re.search(r'"encodingFlags"\s*:', text)
            r = re.search(r'"result"\s*:', text)
            if f and r and f.start() > r.start():
                errs.append("encodingFlags comes after result: Grafana's streaming parser has already read the"
                            " values as 2-element entries by then")
        if exp.get("stats") and not isinstance(data.get("stats"), dict):
            errs.append("data.stats is not an object (Loki always sends one)")
        if exp["result_type"] in ("matrix", "vector"):
            check_samples(exp, data, clock, errs)
        elif exp["result_type"] == "streams":
            check_streams(exp, data, clock, byid, errs)
    return errs


# ---------------------------------------------------------------- live tail
def check_tail(base, req, clock, byid, conv):
    errs = []
    try:
        ws = WebSocket(base, target_of(req, clock))
    except (OSError, ValueError) as e:
        return [f"websocket connect: {e}"], []
    if ws.handshake_errors:
        ws.close()
        return ws.handshake_errors, []
    notes, seen, pushed = [], [], None
    tl = conv["dataset"]["tail_line"]
    deadline = time.time() + 12
    try:
        while time.time() < deadline:
            if pushed is None and (seen or time.time() > deadline - 10):
                pushed = str(time.time_ns())
                st, text = push(base, {"streams": [{"stream": tl["labels"], "values": [[pushed, tl["line"]]]}]})
                if st != 204:
                    return [f"push of the tail line answered {st} {text[:100]!r}"], notes
            m = ws.message(min(deadline, time.time() + 1))
            if m is None:
                continue
            op, payload = m
            if op == 8:
                errs.append(f"server closed the tail socket: {payload[2:].decode('utf-8', 'replace')!r}")
                break
            if op != 1:
                errs.append(f"frame opcode {op}, want 1 (text)")
                continue
            try:
                frame = json.loads(payload)
            except ValueError:
                errs.append(f"frame is not JSON: {payload[:100]!r}")
                continue
            if not isinstance(frame, dict) or not isinstance(frame.get("streams"), list):
                errs.append(f"frame is not {{streams: [..]}}: {payload[:100]!r}")
                continue
            if set(frame) - {"streams", "dropped_entries"}:
                notes.append(f"extra frame keys {sorted(set(frame) - {'streams', 'dropped_entries'})}")
            for d in frame.get("dropped_entries") or []:
                if not (isinstance(d, dict) and is_labels(d.get("labels")) and isinstance(d.get("timestamp"), str)):
                    errs.append("dropped_entries item is not {labels, timestamp: \"<ns>\"}")
            for s in frame["streams"]:
                if not (isinstance(s, dict) and is_labels(s.get("stream")) and isinstance(s.get("values"), list)):
                    errs.append("tail stream is not {stream, values}")
                    continue
                for v in s["values"]:
                    if not (isinstance(v, list) and len(v) == 2 and isinstance(v[0], str) and NS_DIGITS.match(v[0])
                            and len(v[0]) >= 7 and isinstance(v[1], str)):
                        errs.append(f"tail value {json.dumps(v)[:100]} is not [\"<ns>\", \"<line>\"] "
                                    "(Grafana slices 6 digits off the ns string)")
                        continue
                    seen.append((int(v[0]), v[1]))
            if pushed and (int(pushed), tl["line"]) in seen:
                break
    finally:
        ws.close()
    if pushed is None or (int(pushed), tl["line"]) not in seen:
        errs.append("the line pushed after connecting never came through the tail socket (12 s)")
    hist = {(byid[i][1], byid[i][2]) for i in req["expect"].get("tail_history_ids", [])}
    if hist - set(seen):
        notes.append(f"tail history: {len(hist - set(seen))} of {len(hist)} older entries not replayed "
                     "(Loki replays since start=now-1h, best effort)")
    return errs, notes


# ---------------------------------------------------------------- main
def validate(conv):
    for r in conv["requests"]:
        for k in ("id", "scenario", "grafana", "via", "source", "method", "path", "grafana_reads", "expect"):
            if not r.get(k):
                raise SystemExit(f"grafana_loki_conversation.json: {r.get('id')}: missing {k}")
        if r["method"] != "GET":
            raise SystemExit(f"grafana_loki_conversation.json: {r['id']}: Grafana's Loki calls are GETs")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pharos", required=True)
    ap.add_argument("--skip-if-absent", action="store_true")
    ap.add_argument("--only")
    ap.add_argument("--show", action="store_true", help="print every request on the wire and the answer")
    ap.add_argument("conversation")
    a = ap.parse_args()
    encoder_selftest()
    conv = json.load(open(a.conversation, encoding="utf-8"))
    validate(conv)
    if a.skip_if_absent:
        st = request(a.pharos, "GET", "/loki/api/v1/labels")[0]
        if st == 404:
            print("grafana_loki_conversation: pharosd has no Loki query API yet (404 on /loki/api/v1/labels); skipped")
            return SKIP
    clock = Clock()
    byid = entries_by_id(conv, clock)
    st, text = push(a.pharos, push_body(conv, clock))
    if st != 204:
        print(f"FAIL push: POST /loki/api/v1/push answered {st} {text[:200]!r}, want 204")
        return 1
    passed, failed, advisories = 0, [], []
    for req in conv["requests"]:
        if a.only and not re.search(a.only, req["id"]):
            continue
        wire = f"{req['method']} {target_of(req, clock)}"
        for h, v in req.get("headers", {}).items():
            wire += f"\n      {h}: {v}"
        notes = []
        if req["expect"].get("websocket"):
            problems, notes = check_tail(a.pharos, req, clock, byid, conv)
            answer = "(websocket)"
        else:
            ans = request(a.pharos, req["method"], target_of(req, clock), headers=req.get("headers"))
            problems = check(req, ans, clock, byid)
            answer = f"HTTP {ans[0]} {ans[1]} {ans[3][:300]}"
        if a.show:
            print(f"-- {req['id']}\n   {wire}\n   {answer}")
        for n in notes:
            print(f"note {req['id']}: {n}")
        if not problems:
            passed += 1
            continue
        report = f"{req['id']}: {wire}\n    answer: {answer}\n" + "\n".join("    " + e for e in problems)
        (advisories if req.get("advisory") else failed).append(report)
    for r in advisories:
        print("ADVISORY (not fatal) " + r)
    for r in failed:
        print("FAIL " + r)
    print(f"grafana_loki_conversation: {len(conv['requests'])} requests recorded, B = {clock.B}; "
          f"advisory entries failing (not fatal): {len(advisories)}")
    print(f"{passed} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

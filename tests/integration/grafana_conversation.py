#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""grafana_conversation: replay Grafana's Prometheus data source against pharosd.

Grafana cannot be installed here, so grafana_conversation.json holds the
requests its Prometheus data source sends (save & test, editor start-up,
metrics browser, autocomplete, panels, template variables), rebuilt from
Grafana's source and cited there. This script loads one node_exporter-like
data set by remote write (rwsend), then sends every request byte for byte
as Grafana would: same method and path, arguments in Grafana's order and
encoding (Go url.Values, JS URLSearchParams or encodeURIComponent, rebuilt
here and self-tested), Content-Type on POST, Accept-Encoding: gzip.

Each answer must pass what Grafana's code parses (the checks per "kind"
mirror pkg/promlib/converter/prom.go and the frontend's uses; a self-test
first feeds them named bad answers), then the entry's "expect" (values of
this data set). With --prom, Debian's
Prometheus 2.42 gets the same requests: its answers must pass the same
parse checks (which keeps the checks honest) and match pharosd's as the
entry's "compare" says (exact data, values within 1e-9, sets, or status).
Samples sit 7 s off the 15 s step grid, so Prometheus 2's closed and 3's
left-open range windows select the same samples.

Advisory entries (outside the four scenarios) print failures, not fatal.
Usage: grafana_conversation.py --pharos URL [--prom URL] --rwsend PATH
       [--only REGEX] [--show] grafana_conversation.json
"""
import argparse
import gzip
import http.client
import json
import math
import re
import subprocess
import sys
import urllib.parse

T0 = 1699999200          # the data set's start; samples at T0 + 7 + 15k, k < 40
STEPS = 40
HOSTS = ("host-a:9100", "host-b:9100")


# ---------------------------------------------------------------- data set
def dataset():
    """rwsend input: a small node_exporter + one Prometheus histogram, 33 series."""
    lines = [
        "# TYPE node_cpu_seconds_total counter",
        "# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.",
        "# TYPE node_memory_MemAvailable_bytes gauge",
        "# HELP node_memory_MemAvailable_bytes Memory information field MemAvailable_bytes.",
        "# TYPE node_memory_MemTotal_bytes gauge",
        "# HELP node_memory_MemTotal_bytes Memory information field MemTotal_bytes.",
        "# TYPE node_filesystem_avail_bytes gauge",
        "# HELP node_filesystem_avail_bytes Filesystem space available to non-root users in bytes.",
        "# TYPE node_network_receive_bytes_total counter",
        "# HELP node_network_receive_bytes_total Network device statistic receive_bytes.",
        "# TYPE node_load1 gauge",
        "# HELP node_load1 1m load average.",
        "# TYPE up gauge",
        "# HELP up 1 if the target was scraped.",
        "# TYPE prometheus_http_request_duration_seconds histogram",
        "# HELP prometheus_http_request_duration_seconds Histogram of latencies for HTTP requests.",
    ]

    def add(sel, values):
        for k, v in enumerate(values):
            lines.append(f"{sel} {v!r} {(T0 + 7 + 15 * k) * 1000}")

    ks = range(STEPS)
    add('up{job="prometheus",instance="localhost:9090"}', [1.0] * STEPS)
    for h, host in enumerate(HOSTS):
        f = h + 1  # host-b works twice as hard
        base = f'job="node",instance="{host}"'
        add(f"up{{{base}}}", [1.0] * STEPS)
        for cpu in ("0", "1"):
            for mode, inc in (("idle", 12.0), ("user", 2.25), ("system", 0.75)):
                add(f'node_cpu_seconds_total{{{base},cpu="{cpu}",mode="{mode}"}}',
                    [1000.0 + k * inc * f for k in ks])
        total = 8589934592.0 * f
        add(f"node_memory_MemTotal_bytes{{{base}}}", [total] * STEPS)
        add(f"node_memory_MemAvailable_bytes{{{base}}}",
            [total / 2 + ((k % 4) if f == 1 else -k) * 1048576.0 for k in ks])
        add(f'node_filesystem_avail_bytes{{{base},device="/dev/sda1",fstype="ext4",mountpoint="/"}}',
            [(50e9 if f == 1 else 80e9) - k * 1e6 * f for k in ks])
        add(f'node_filesystem_avail_bytes{{{base},device="tmpfs",fstype="tmpfs",mountpoint="/run"}}',
            [1e9 * f] * STEPS)
        add(f'node_network_receive_bytes_total{{{base},device="eth0"}}',
            [1e6 * f * 5 ** h + k * 150000.0 * f for k in ks])
        add(f"node_load1{{{base}}}", [0.5 + (k % 3) * 0.25 if f == 1 else 1.25 for k in ks])
    hist = 'job="prometheus",instance="localhost:9090",handler="/api/v1/query"'
    for le, per in (("0.1", 8), ("0.5", 9), ("1", 10), ("+Inf", 10)):
        add(f'prometheus_http_request_duration_seconds_bucket{{{hist},le="{le}"}}',
            [float((k + 1) * per) for k in ks])
    add(f"prometheus_http_request_duration_seconds_count{{{hist}}}", [float((k + 1) * 10) for k in ks])
    add(f"prometheus_http_request_duration_seconds_sum{{{hist}}}", [float((k + 1) * 2) for k in ks])
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- Grafana's encoders
def _pct(s, keep, plus):
    out = []
    for b in s.encode("utf-8"):
        c = chr(b)
        if c.isascii() and (c.isalnum() or c in keep):
            out.append(c)
        elif c == " " and plus:
            out.append("+")
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def encode(enc, params):
    """The wire form of [(name, value)] in one of the encodings named in the JSON."""
    if enc == "go":  # url.Values.Encode: sorted keys, QueryEscape
        order = sorted(dict.fromkeys(k for k, _ in params))
        pairs = [(k, v) for key in order for k, v in params if k == key]
        return "&".join(_pct(k, "-_.~", True) + "=" + _pct(v, "-_.~", True) for k, v in pairs)
    if enc == "js_form":  # URLSearchParams.toString()
        return "&".join(_pct(k, "*-._", True) + "=" + _pct(v, "*-._", True) for k, v in params)
    if enc == "js_uri":  # encodeURIComponent pairs
        keep = "-_.!~*'()"
        return "&".join(_pct(k, keep, False) + "=" + _pct(v, keep, False) for k, v in params)
    raise ValueError(f"unknown encoding {enc}")


def encoder_selftest():
    cases = [
        ("go", [("time", "4"), ("query", "1+1")], "query=1%2B1&time=4"),
        ("go", [("query", 'a{b!~"c"} * (d)')], "query=a%7Bb%21~%22c%22%7D+%2A+%28d%29"),
        ("js_form", [("match[]", '{a="b c"}'), ("x", "~*!")], "match%5B%5D=%7Ba%3D%22b+c%22%7D&x=%7E*%21"),
        ("js_uri", [("match[]", '{a="b c"}'), ("x", "~*!(é)")], "match%5B%5D=%7Ba%3D%22b%20c%22%7D&x=~*!(%C3%A9)"),
    ]
    for enc, params, want in cases:
        got = encode(enc, params)
        if got != want:
            raise SystemExit(f"encoder self-test: {enc} {params} gave {got}, want {want}")


# ---------------------------------------------------------------- HTTP
def send(base, req):
    """(status, content_type, parsed JSON or None, raw text) for one recorded request."""
    u = urllib.parse.urlsplit(base)
    target = req["path"]
    if req.get("query"):
        target += "?" + encode(req["query"]["encoding"], req["query"]["params"])
    headers = {"Accept-Encoding": "gzip", "User-Agent": "Grafana/12.0.0"}
    headers.update(req.get("headers", {}))
    body = None
    if req["method"] == "POST":
        body = encode(req["body"]["encoding"], req["body"]["params"]).encode() if req.get("body") else b""
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request(req["method"], target, body=body, headers=headers)
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


def wire(req):
    line = req["method"] + " " + req["path"]
    if req.get("query"):
        line += "?" + encode(req["query"]["encoding"], req["query"]["params"])
    if req.get("body"):
        line += "  body: " + encode(req["body"]["encoding"], req["body"]["params"])
    return line


# ---------------------------------------------------------------- what Grafana parses
GO_FLOAT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$|^[+-]?(?i:inf|infinity)$|^(?i:nan)$")
SEMVER = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


def is_num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def is_labels(x):
    return isinstance(x, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in x.items())


def is_pair(p):
    """[<unix seconds>, "<Go float>"]: converter readTimeValuePair."""
    return isinstance(p, list) and len(p) == 2 and is_num(p[0]) and isinstance(p[1], str) and GO_FLOAT.match(p[1])


def grafana_parse(kind, status, ctype, doc):
    """Problems Grafana would have with this answer (empty list: none)."""
    if kind in ("raw", None):
        return []
    errs = []
    if ctype != "application/json":
        errs.append(f"Content-Type {ctype!r}, not application/json")
    if not isinstance(doc, dict):
        return errs + ["body is not a JSON object"]
    st = doc.get("status")
    for k in ("warnings", "infos"):
        if k in doc and not (isinstance(doc[k], list) and all(isinstance(w, str) for w in doc[k])):
            errs.append(f"{k} is not a list of strings")
    if kind == "error":
        if st != "error" or not isinstance(doc.get("errorType"), str) or not isinstance(doc.get("error"), str):
            errs.append("an error needs status 'error' and string errorType and error")
        if status < 400:
            errs.append(f"an error answered HTTP {status}")
        return errs
    if st != "success":
        return errs + [f"status {st!r} (error {doc.get('errorType')}: {doc.get('error')})"]
    if status != 200:
        errs.append(f"HTTP {status} for a success")
    data = doc.get("data")
    if kind == "query":
        if not isinstance(data, dict) or "resultType" not in data:
            return errs + ["data has no resultType ('no resultType found')"]
        rt, res = data["resultType"], data.get("result")
        if rt == "matrix":
            ok = isinstance(res, list) and all(
                isinstance(s, dict) and is_labels(s.get("metric")) and isinstance(s.get("values"), list)
                and all(is_pair(p) for p in s["values"]) for s in res)
        elif rt == "vector":
            ok = isinstance(res, list) and all(
                isinstance(s, dict) and is_labels(s.get("metric")) and is_pair(s.get("value")) for s in res)
        elif rt in ("scalar", "string"):
            ok = isinstance(res, list) and len(res) == 2 and is_num(res[0]) and isinstance(res[1], str) \
                and (rt == "string" or GO_FLOAT.match(res[1]))
        else:
            ok = False
        if not ok:
            errs.append(f"result does not have the {rt} shape")
    elif kind == "labels":
        if not (isinstance(data, list) and all(isinstance(x, str) for x in data)):
            errs.append("data is not a list of strings")
    elif kind == "series":
        if not (isinstance(data, list) and all(is_labels(x) for x in data)):
            errs.append("data is not a list of label objects")
    elif kind == "metadata":
        if not (isinstance(data, dict) and all(
                isinstance(v, list) and all(isinstance(m, dict) and isinstance(m.get("type"), str)
                                            and isinstance(m.get("help"), str) for m in v) for v in data.values())):
            errs.append("data is not {metric: [{type, help, unit}]}")
    elif kind == "exemplars":
        if not (isinstance(data, list) and all(
                isinstance(s, dict) and is_labels(s.get("seriesLabels")) and isinstance(s.get("exemplars"), list)
                and all(is_labels(e.get("labels")) and isinstance(e.get("value"), str) and is_num(e.get("timestamp"))
                        for e in s["exemplars"]) for s in data)):
            errs.append("data is not [{seriesLabels, exemplars: [{labels, value, timestamp}]}]")
    elif kind == "buildinfo":
        if not isinstance(data, dict):
            return errs + ["data is not an object"]
        for k in ("version", "revision", "branch", "buildUser", "buildDate", "goVersion"):
            if k in data and not isinstance(data[k], str):
                errs.append(f"data.{k} is not a string (Go's json.Unmarshal fails)")
        if not isinstance(data.get("version"), str) or not SEMVER.match(data["version"]):
            errs.append(f"data.version {data.get('version')!r} is not semver (version detection fails)")
        if "features" in data and not is_labels(data["features"]):
            errs.append("data.features is not map[string]string")
        elif data.get("features"):
            errs.append("non-empty data.features: Grafana takes the data source for Mimir (ruler API on)")
    elif kind == "rules":
        if not (isinstance(data, dict) and isinstance(data.get("groups"), list)):
            errs.append("data.groups is not a list")
    return errs


def checker_selftest():
    """Answers Grafana cannot use must be rejected by grafana_parse (named hostile cases)."""
    ok = {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "1"]}]}}
    bad = [
        ("query", 200, "text/plain", ok, "not JSON content type"),
        ("query", 200, "application/json", {"status": "success", "data": {"result": []}}, "no resultType"),
        ("query", 200, "application/json", {"status": "success", "data": {"resultType": "vector", "result": None}},
         "null result"),
        ("query", 200, "application/json", {"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {}, "value": [1, 1]}]}}, "value as a JSON number"),
        ("query", 200, "application/json", {"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": {"a": 1}, "values": [[1, "1"]]}]}}, "label value not a string"),
        ("query", 200, "application/json", {"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {}, "value": ["1", "1"]}]}}, "time as a string"),
        ("query", 200, "application/json", {"status": "success", "data": {"resultType": "scalar", "result": [
            1, "Infinity1"]}}, "value Go cannot parse"),
        ("query", 200, "application/json", {"status": "error", "errorType": "bad_data", "error": "x"}, "error as 200"),
        ("error", 200, "application/json", {"status": "error", "errorType": "bad_data", "error": "x"}, "error as 200"),
        ("error", 400, "application/json", {"status": "error", "error": "x"}, "no errorType"),
        ("labels", 200, "application/json", {"status": "success", "data": None}, "null label list"),
        ("labels", 200, "application/json", {"status": "success", "data": [1]}, "label not a string"),
        ("series", 200, "application/json", {"status": "success", "data": [["a"]]}, "series not objects"),
        ("metadata", 200, "application/json", {"status": "success", "data": {"m": [{"type": "gauge"}]}}, "no help"),
        ("exemplars", 200, "application/json", {"status": "success", "data": {}}, "exemplars not a list"),
        ("buildinfo", 200, "application/json", {"status": "success", "data": {"version": "3"}}, "version not semver"),
        ("buildinfo", 200, "application/json", {"status": "success", "data": {"version": "3.0.0",
                                                "features": {"ruler_config_api": "true"}}}, "features => Mimir"),
        ("buildinfo", 200, "application/json", {"status": "success", "data": {"version": "3.0.0", "goVersion": 1}},
         "field not a string"),
        ("warnings", 200, "application/json", dict(ok, warnings="w"), "warnings not a list"),
        ("rules", 200, "application/json", {"status": "success", "data": {}}, "no groups"),
    ]
    if grafana_parse("query", 200, "application/json", ok):
        raise SystemExit("checker self-test: a good vector is rejected")
    for kind, status, ctype, doc, name in bad:
        if not grafana_parse("query" if kind == "warnings" else kind, status, ctype, doc):
            raise SystemExit(f"checker self-test: {name} ({kind}) is accepted")


# ---------------------------------------------------------------- expectations
def lkey(metric):
    return json.dumps(metric, sort_keys=True, separators=(",", ":"))


def close(a, b, rel=1e-9):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= rel * max(abs(a), abs(b))


def series_points(doc):
    """{label key: [(t, value)]} of a vector or matrix answer."""
    out = {}
    for s in doc["data"]["result"]:
        pts = s["values"] if "values" in s else [s["value"]]
        out[lkey(s["metric"])] = [(p[0], float(p[1])) for p in pts]
    return out


def check_expect(exp, status, doc):
    errs = []
    if "status" in exp and status != exp["status"]:
        errs.append(f"HTTP {status}, want {exp['status']}")
    if "status_in" in exp and status not in exp["status_in"]:
        errs.append(f"HTTP {status}, want one of {exp['status_in']}")
    if errs or not isinstance(doc, dict):
        return errs if errs or exp.get("kind") == "raw" else ["no JSON body"]
    data = doc.get("data")
    if "data" in exp and data != exp["data"]:
        errs.append(f"data {json.dumps(data)[:300]}, want {json.dumps(exp['data'])[:300]}")
    if "result_type" in exp and (not isinstance(data, dict) or data.get("resultType") != exp["result_type"]):
        got = data.get("resultType") if isinstance(data, dict) else None
        errs.append(f"resultType {got}, want {exp['result_type']}")
        return errs
    if any(k in exp for k in ("series", "points", "time", "last_values")):
        pts = series_points(doc)
        if "series" in exp and len(pts) != exp["series"]:
            errs.append(f"{len(pts)} series, want {exp['series']}")
        if "points" in exp:
            bad = {k: len(v) for k, v in pts.items() if len(v) != exp["points"]}
            if bad:
                errs.append(f"points per series {bad}, want {exp['points']}")
        if "time" in exp:
            bad = [v[-1][0] for v in pts.values() if v[-1][0] != exp["time"]]
            if bad:
                errs.append(f"sample times {bad}, want {exp['time']}")
        for k, want in exp.get("last_values", {}).items():
            if k not in pts:
                errs.append(f"no series {k}")
            elif not close(pts[k][-1][1], float(want), 1e-6):
                errs.append(f"{k} last value {pts[k][-1][1]}, want {want}")
    if "count" in exp and (not isinstance(data, list) or len(data) != exp["count"]):
        errs.append(f"{len(data) if isinstance(data, list) else None} entries, want {exp['count']}")
    for name, want in exp.get("label_values", {}).items():
        got = sorted({s.get(name) for s in data or [] if name in s})
        if got != want:
            errs.append(f"values of {name} {got}, want {want}")
    for name, typ in exp.get("metadata_types", {}).items():
        got = [m.get("type") for m in (data or {}).get(name, [])]
        if typ not in got:
            errs.append(f"metadata of {name}: types {got}, want {typ}")
    if "error_type" in exp and doc.get("errorType") != exp["error_type"]:
        errs.append(f"errorType {doc.get('errorType')}, want {exp['error_type']}")
    if "error_contains" in exp and exp["error_contains"] not in str(doc.get("error")):
        errs.append(f"error {doc.get('error')!r} lacks {exp['error_contains']!r}")
    return errs


def compare(mode, a, b):
    """Differences between Prometheus' answer a and pharosd's b, both (status, ctype, doc, text)."""
    if mode == "none":
        return []
    errs = []
    if a[0] != b[0]:
        errs.append(f"HTTP {b[0]}, Prometheus {a[0]}")
    da, db = a[2] if isinstance(a[2], dict) else {}, b[2] if isinstance(b[2], dict) else {}
    if da.get("errorType") != db.get("errorType"):
        errs.append(f"errorType {db.get('errorType')}, Prometheus {da.get('errorType')}")
    if errs or mode in ("status", "shape") or da.get("status") != "success":
        return errs
    if mode == "exact" and da.get("data") != db.get("data"):
        errs.append(f"data differs from Prometheus':\n      prometheus {json.dumps(da.get('data'))[:400]}"
                    f"\n      pharosd    {json.dumps(db.get('data'))[:400]}")
    elif mode == "set":
        sa = {lkey(x) for x in da.get("data") or []}
        sb = {lkey(x) for x in db.get("data") or []}
        if sa != sb:
            errs.append(f"series differ: only Prometheus {sorted(sa - sb)[:3]}, only pharosd {sorted(sb - sa)[:3]}")
    elif mode == "values":
        if da["data"].get("resultType") != db["data"].get("resultType"):
            return [f"resultType {db['data'].get('resultType')}, Prometheus {da['data'].get('resultType')}"]
        pa, pb = series_points(a[2]), series_points(b[2])
        if set(pa) != set(pb):
            errs.append(f"series differ: only Prometheus {sorted(set(pa) - set(pb))[:3]}, "
                        f"only pharosd {sorted(set(pb) - set(pa))[:3]}")
        for k in sorted(set(pa) & set(pb)):
            xa, xb = pa[k], pb[k]
            if [t for t, _ in xa] != [t for t, _ in xb] or not all(close(va, vb) for (_, va), (_, vb) in zip(xa, xb)):
                errs.append(f"{k}: points differ\n      prometheus {xa[:4]}...\n      pharosd    {xb[:4]}...")
                break
    return errs


# ---------------------------------------------------------------- main
def load(base, rwsend):
    out = subprocess.run([rwsend, base], input=dataset(), capture_output=True, text=True, check=True).stdout
    if not out.startswith("204"):
        raise SystemExit(f"grafana_conversation: remote write to {base} answered {out.strip()!r}")


def validate(conv):
    for r in conv["requests"]:
        for k in ("id", "scenario", "grafana", "via", "source", "method", "path", "grafana_reads", "expect", "compare"):
            if not r.get(k):
                raise SystemExit(f"grafana_conversation.json: {r.get('id')}: missing {k}")
        if r["method"] not in ("GET", "POST") or (r.get("body") and r["method"] != "POST"):
            raise SystemExit(f"grafana_conversation.json: {r['id']}: bad method/body")
        if r["method"] == "POST" and r.get("headers", {}).get("Content-Type") != "application/x-www-form-urlencoded":
            raise SystemExit(f"grafana_conversation.json: {r['id']}: a POST from Grafana is form-encoded")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pharos", required=True)
    ap.add_argument("--prom")
    ap.add_argument("--rwsend", required=True)
    ap.add_argument("--only")
    ap.add_argument("--show", action="store_true", help="print every request on the wire and both answers")
    ap.add_argument("conversation")
    a = ap.parse_args()
    encoder_selftest()
    checker_selftest()
    conv = json.load(open(a.conversation, encoding="utf-8"))
    validate(conv)
    for base in filter(None, (a.prom, a.pharos)):
        load(base, a.rwsend)
    passed, failed, advisories = 0, [], []
    for req in conv["requests"]:
        if a.only and not re.search(a.only, req["id"]):
            continue
        exp = req["expect"]
        b = send(a.pharos, req)
        problems = [f"Grafana: {e}" for e in grafana_parse(exp.get("kind"), b[0], b[1], b[2])]
        problems += check_expect(exp, b[0], b[2])
        if a.prom:
            p = send(a.prom, req)
            if not req.get("advisory"):
                problems += [f"checker rejects Prometheus' own answer: {e}"
                             for e in grafana_parse(exp.get("kind"), p[0], p[1], p[2])]
            if not req.get("prom_differs"):
                problems += [f"vs Prometheus: {e}" for e in compare(req["compare"], p, b)]
        if a.show:
            print(f"-- {req['id']}\n   {wire(req)}\n   pharosd    {b[0]} {b[3][:300]}")
            if a.prom:
                print(f"   prometheus {p[0]} {p[3][:300]}")
        if not problems:
            passed += 1
            continue
        report = f"{req['id']}: {wire(req)}\n    answer: HTTP {b[0]} {b[3][:300]}\n" + \
            "\n".join("    " + e for e in problems)
        (advisories if req.get("advisory") else failed).append(report)
    for r in advisories:
        print("ADVISORY (not fatal) " + r)
    for r in failed:
        print("FAIL " + r)
    print(f"grafana_conversation: {len(conv['requests'])} requests recorded; pharosd "
          + ("compared with Prometheus " + a.prom if a.prom else "alone (no Prometheus to compare with)"))
    print(f"advisory entries failing (not fatal): {len(advisories)}")
    print(f"{passed} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""promql_diff: differential PromQL test, pharosd against the real Prometheus.

Driven by promql_diff.sh, which starts both servers on 127.0.0.1:
  selftest  the comparator on canned answers (no servers);
  load      generates one deterministic data set (gen_series: ~280 series,
            2 h at 15 s, ending a minute ago) and remote-writes it to both,
            oldest 10 minutes first, so no head refuses a sample;
  run       sends every query of promql_diff_queries.txt to both, as an
            instant query (GET) at each query_times() instant and as a range
            query (POST form) over each range, and compares the answers.

Where 2.42 and 3.x legitimately differ, pharosd follows 3.x, so the data
stays off those cases. Sample timestamps are odd in ms; query times end in
.5 s and ranges, steps and offsets are whole seconds, so no sample lies on
a range boundary (2.x closed, 3.x left-open). Counters start high and do
not reset early, so rate()'s zero-point extrapolation (reordered in 3.x)
never matters. Values are random 3-4 decimal floats: sort/topk meet no ties.
Error texts that changed after 2.42 are accepted in both spellings
(accepted_errors).

compare_answers: HTTP code and status; errorType and error text; resultType
and the result as a set keyed by label set (ordered for a top-level sort/
sort_desc, and within each group for topk/bottomk, instant queries only;
equal values may swap); timestamps exactly, in ms; values within relative
1e-9, NaN == NaN, +-Inf exact, and equal floats spelt alike. Warnings and
infos are ignored. Standard library only; snappy and protobuf helpers come
from interop_compare.py.
"""
import argparse
import concurrent.futures
import json
import math
import os
import random
import re
import struct
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib

import interop_compare as ic

STEP_S = 15                 # scrape interval of the generated data
NSTEPS = 480                # 2 h of samples
STALE_NAN = struct.unpack("<d", struct.pack("<Q", ic.STALE_NAN_BITS))[0]
NORMAL_NAN = struct.unpack("<d", struct.pack("<Q", 0x7FF8000000000001))[0]
REL_TOL = 1e-9
JOBS = ("api", "db", "web")
INSTANCES = ("10.0.0.1:9100", "10.0.0.2:9100", "10.0.0.3:9100", "10.0.0.4:9100")
LE = ("0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf")
STEP_RESET = 0.004          # chance of a counter reset per scrape
LATE_START = 200            # late_start_gauge begins at this step (50 min)
STOP_STALE = 280            # stopped_counter_total ends here; stale marker next scrape
STOP_SILENT = 300           # vanish_gauge ends here, no stale marker
MAX_DIFF_LINES = 8          # per comparison
# Counters start at COUNTER_BASE or more and histograms with HIST_PRIOR
# observations: where a series begins inside a rate() window, 2.42 and 3.x
# extrapolate towards the zero point in a different order, so the zero
# point must lie far beyond the window (first value / rate >> range).
COUNTER_BASE = 10000.0
HIST_PRIOR = 5000
NO_RESET_STEPS = 40         # nor may a counter reset in its first 10 min


# ------------------------------------------------------------------ data
def _rng(labels):
    """A generator seeded by the label set: stable across runs and Pythons."""
    return random.Random(zlib.crc32(repr(sorted(labels.items())).encode()))


def _offset_ms(labels):
    """Per-series scrape phase: odd, 1..7999 ms."""
    return 2 * (zlib.crc32(("phase" + repr(sorted(labels.items()))).encode()) % 4000) + 1


def _counter(rng, lo, hi, forced_reset=None):
    """Starts high (see COUNTER_BASE); resets restart it near zero."""
    v = round(rng.uniform(COUNTER_BASE, 2 * COUNTER_BASE), 3)
    out = []
    for k in range(NSTEPS):
        if k == forced_reset or (k > NO_RESET_STEPS and rng.random() < STEP_RESET):
            v = round(rng.uniform(0, hi), 3)
        else:
            v = round(v + rng.uniform(lo, hi), 3)
        out.append(v)
    return out


def _walk(rng, start, sigma, digits=4):
    v = start
    out = []
    for _ in range(NSTEPS):
        v = round(v + rng.gauss(0, sigma), digits)
        out.append(v)
    return out


def gen_series():
    """[(labels dict, [(step, value)])]: the whole data set, deterministic."""
    out = []

    def add(labels, values, first=0):
        out.append((labels, [(first + i, v) for i, v in enumerate(values)]))

    for j, job in enumerate(JOBS):
        for i, inst in enumerate(INSTANCES):
            base = {"job": job, "instance": inst}
            for method in ("GET", "POST"):
                for code in ("200", "500"):
                    lab = dict(base, __name__="http_requests_total", method=method, code=code)
                    hi = 20.0 if code == "200" else 2.0
                    add(lab, _counter(_rng(lab), 0.0, hi, forced_reset=100 + 40 * i if j == 0 else None))
            for mode in ("user", "system", "idle"):
                lab = dict(base, __name__="cpu_seconds_total", mode=mode)
                add(lab, _counter(_rng(lab), 0.0, 15.0))
            for sensor in ("a", "b"):
                lab = dict(base, __name__="temperature_celsius", sensor=sensor)
                add(lab, _walk(_rng(lab), _rng(lab).uniform(-5, 10), 1.5))
            lab = dict(base, __name__="queue_depth")
            r = _rng(lab)
            add(lab, [float(r.randint(0, 40)) for _ in range(NSTEPS)])
            for kind in ("rss", "heap"):
                lab = dict(base, __name__="memory_bytes", type=kind)
                r = _rng(lab)
                add(lab, [float(round(v)) for v in _walk(r, r.uniform(1e9, 1e11), 5e7, 0)])
            lab = dict(base, __name__="up")
            ups = [1.0] * NSTEPS
            if job == "db" and i == 2:
                ups[150:190] = [0.0] * 40
            if job == "web" and i == 0:
                ups[400:] = [0.0] * (NSTEPS - 400)
            add(lab, ups)
            lab = dict(base, __name__="late_start_gauge")
            add(lab, _walk(_rng(lab), 50.0, 3.0)[LATE_START:], first=LATE_START)
            lab = dict(base, __name__="late_requests_total")
            add(lab, _counter(_rng(lab), 0.0, 10.0)[LATE_START:], first=LATE_START)
            lab = dict(base, __name__="stopped_counter_total")
            vals = _counter(_rng(lab), 0.0, 5.0)[:STOP_STALE + 1]
            add(lab, vals + [STALE_NAN])
            if i < 2:
                add_histogram(add, dict(base), forced_reset=250 if (j, i) == (1, 0) else None)
            if job == "api":
                lab = dict(base, __name__="vanish_gauge")
                add(lab, _walk(_rng(lab), 0.0, 1.0)[:STOP_SILENT + 1])
    for i, inst in enumerate(INSTANCES):
        lab = {"__name__": "machine_info", "instance": inst, "os": ("linux", "freebsd")[i % 2],
               "region": ("eu", "us")[i // 2]}
        add(lab, [1.0] * NSTEPS)
        lab = {"__name__": "instance_weight", "instance": inst}
        add(lab, _walk(_rng(lab), 1.0 + i, 0.05))
        lab = {"__name__": "nan_gauge", "instance": inst}
        vals = _walk(_rng(lab), 0.0, 1.0)
        for k in range(7 * (i + 1), NSTEPS, 23):
            vals[k] = NORMAL_NAN
        if i == 0:
            vals[-1] = NORMAL_NAN
            vals[239] = NORMAL_NAN
        add(lab, vals)
        for kind, scale in (("huge", 1e15), ("tiny", 1e-12)):
            lab = {"__name__": "big_gauge", "instance": inst, "kind": kind}
            r = _rng(lab)
            add(lab, [r.choice((-1, 1)) * r.uniform(1, 1000) * scale for _ in range(NSTEPS)])
        lab = {"__name__": "bytes_total", "instance": inst}
        r = _rng(lab)
        v = 2.0 ** 53 * (1 + i)
        vals = []
        for _ in range(NSTEPS):
            v += float(r.randint(1, 10 ** 9))
            vals.append(v)
        add(lab, vals)
    for sensor, limit in (("a", 4.5), ("b", 7.25)):
        add({"__name__": "threshold", "sensor": sensor}, [limit] * NSTEPS)
    return out


def add_histogram(add, base, forced_reset):
    """request_duration_seconds: a classic histogram, buckets LE, resets in step."""
    rng = _rng(dict(base, __name__="request_duration_seconds"))
    counts = [0] * len(LE)
    total = 0.0
    n = 0
    series = {le: [] for le in LE}
    sums, cnts = [], []
    bounds = [float(le) for le in LE]

    def observe(count):
        nonlocal total, n
        for _ in range(count):
            x = rng.lognormvariate(-1.2, 1.1)
            total += x
            n += 1
            for b, ub in enumerate(bounds):
                if x <= ub:
                    counts[b] += 1

    observe(HIST_PRIOR)
    for k in range(NSTEPS):
        if k == forced_reset:
            counts = [0] * len(LE)
            total = 0.0
            n = 0
        observe(rng.randint(0, 30))
        for b, le in enumerate(LE):
            series[le].append(float(counts[b]))
        sums.append(round(total, 6))
        cnts.append(float(n))
    for le in LE:
        add(dict(base, __name__="request_duration_seconds_bucket", le=le), series[le])
    add(dict(base, __name__="request_duration_seconds_sum"), sums)
    add(dict(base, __name__="request_duration_seconds_count"), cnts)


def _ts_ms(t0_s, labels, step):
    """Sample time: scrape grid + odd phase + even jitter (stays odd)."""
    jitter = 2 * (zlib.crc32(b"%d" % step + repr(sorted(labels.items())).encode()) % 5) - 4
    return t0_s * 1000 + step * STEP_S * 1000 + _offset_ms(labels) + jitter


def write_request(batch):
    """[(labels, [(t ms, v)])] -> snappy-compressed prometheus.WriteRequest."""
    msg = bytearray()
    for labels, samples in batch:
        ts = bytearray()
        for name in sorted(labels):
            ts += ic._field_bytes(1, ic._field_bytes(1, name.encode()) + ic._field_bytes(2, labels[name].encode()))
        for t, v in samples:
            ts += ic._field_bytes(2, b"\x09" + struct.pack("<d", v) + ic._field_varint(2, t))
        msg += ic._field_bytes(1, bytes(ts))
    return ic.snappy_encode(bytes(msg))


def post_write(base, body):
    hdr = {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy",
           "X-Prometheus-Remote-Write-Version": "0.1.0", "User-Agent": "promql_diff"}
    try:
        ic.http(base + "/api/v1/write", body, hdr, timeout=60)
    except urllib.error.HTTPError as e:
        raise SystemExit("remote write to %s answered %d: %s" % (base, e.code, e.read()[:300]))


def cmd_load(a):
    now = int(time.time())
    t_last = now // 60 * 60 - 60               # last scrape slot, a minute ago
    t0 = t_last - (NSTEPS - 1) * STEP_S
    data = gen_series()
    nsamples = sum(len(s) for _, s in data)
    window = 40                                # steps per request (10 min)
    for w in range(0, NSTEPS + 1, window):
        batch = []
        for labels, samples in data:
            part = [(_ts_ms(t0, labels, k), v) for k, v in samples if w <= k < w + window]
            if part:
                batch.append((labels, part))
        if batch:
            body = write_request(batch)
            for base in a.targets:
                post_write(base, body)
    state = {"t0": t0, "t_last": t_last, "series": len(data), "samples": nsamples}
    with open(a.state, "w") as f:
        json.dump(state, f)
    print("loaded %d series, %d samples, %s .. %s, into %s" %
          (len(data), nsamples, time.strftime("%H:%M:%S", time.gmtime(t0)),
           time.strftime("%H:%M:%S", time.gmtime(t_last)), ", ".join(a.targets)))
    return 0


# --------------------------------------------------------------- queries
def query_times(state):
    """Placeholders for the query file and the evaluation times (all .5 s)."""
    t0, tl = state["t0"], state["t_last"]
    ph = {"START": t0 + 0.5, "MID": t0 + 3600.5, "LATE": t0 + 4230.5, "END": tl + 0.5}
    instants = [t0 + 180.5,            # ranges reach back before the first sample
                t0 + 3010.5,           # late series have one sample each
                t0 + 3600.5,           # middle
                t0 + 4230.5,           # after the stale markers, before vanish_gauge ends
                t0 + 4560.5,           # vanish_gauge ended a minute ago, still looked back at
                tl + 90.5]             # after the data, inside the 5m lookback
    ranges = [(t0 + 1800.5, t0 + 5400.5, 60),      # late start, stale and silent stops
              (tl - 3480 + 0.5, tl + 120.5, 15),   # the last hour at the scrape interval
              (t0 + 2400.5, t0 + 4800.5, 97)]      # a step no subquery step divides
    return ph, instants, ranges


def read_queries(path, only):
    out = []
    rx = re.compile(only) if only else None
    with open(path) as f:
        for line in f:
            q = line.strip()
            if not q or q.startswith("#"):
                continue
            if rx is None or rx.search(q):
                out.append(q)
    return out


def expand(q, ph):
    return re.sub(r"\$\{([A-Z]+)\}", lambda m: "%.3f" % ph[m.group(1)], q)


def fetch(base, path, params, post=False):
    """GET (or POST form) -> (HTTP code, parsed JSON or None, raw text)."""
    body = urllib.parse.urlencode(params)
    if post:
        req = urllib.request.Request(base + path, body.encode(),
                                     {"Content-Type": "application/x-www-form-urlencoded"})
    else:
        req = urllib.request.Request(base + path + "?" + body)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            code, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        code, raw = e.code, e.read()
    except (urllib.error.URLError, OSError) as e:
        return 0, None, "no answer: %s" % e
    text = raw.decode("utf-8", "replace")
    try:
        return code, json.loads(text), text
    except ValueError:
        return code, None, text


# ------------------------------------------------------------ comparison
# Error texts that changed after 2.42; pharosd may answer either version's.
# (regex on the 2.42 text, replacements that 3.x versions print instead)
ERROR_TEXT_3X = [
    (r"in offset, expected duration$",
     ("in offset, expected number or duration", "in offset, expected number, duration, step(), or range()")),
]
# 2.42 returns a range query's parse and type errors bare; 2.43+ prefix them
# as instant queries always did.
QUERY_PARAM_PREFIX = 'invalid parameter "query": '


# 3.x prints the two series of a many-to-many error in sorted order
# (promqltest operators.test checks it); 2.42 prints them as found.
DUP_PAIR = re.compile(r"(on the (?:left|right) hand-side of the operation: \[)(\{.*?\}), (\{.*?\})(\];)")


def accepted_errors(kind, text):
    """The error texts that match Prometheus 2.42's text for this kind of query."""
    out = {text}
    m = DUP_PAIR.search(text)
    if m:
        a, b = sorted([m.group(2), m.group(3)])
        out.add(text[:m.start()] + m.group(1) + a + ", " + b + m.group(4) + text[m.end():])
    if kind == "range" and not text.startswith("invalid parameter"):
        out.add(QUERY_PARAM_PREFIX + text)
    for rx, repls in ERROR_TEXT_3X:
        for t in list(out):
            for r in repls:
                out.add(re.sub(rx, r, t))
    return out


def fmt_labels(m):
    name = m.get("__name__", "")
    rest = ",".join('%s="%s"' % (k, m[k]) for k in sorted(m) if k != "__name__")
    return name + "{" + rest + "}"


def parse_value(s):
    return float({"+Inf": "inf", "-Inf": "-inf"}.get(s, s))


def same_value(a, b):
    """Equal within REL_TOL; NaN equals NaN; and equal floats must be spelt
    alike (Go's shortest 'f' format: "1e+21" for "1000000000000000000000"
    is a difference, the JSON is meant to be byte-compatible)."""
    x, y = parse_value(a), parse_value(b)
    if x == y or (math.isnan(x) and math.isnan(y)):
        return a == b
    if math.isnan(x) or math.isnan(y) or math.isinf(x) or math.isinf(y):
        return False
    return abs(x - y) <= REL_TOL * max(abs(x), abs(y))


def ms(t):
    return int(round(float(t) * 1000))


def keyed(result, errs, side):
    """Result list -> {label key: item}; a label set twice is itself a finding."""
    out = {}
    for item in result:
        key = tuple(sorted(item.get("metric", {}).items()))
        if key in out:
            errs.append("%s returned %s twice" % (side, fmt_labels(dict(key))))
        out[key] = item
    return out


def cmp_point(label, p, x, errs):
    if ms(p[0]) != ms(x[0]):
        errs.append("%s: t prometheus %.3f, pharosd %.3f" % (label, float(p[0]), float(x[0])))
    elif not same_value(p[1], x[1]):
        errs.append("%s @%.3f: prometheus %s, pharosd %s" % (label, float(p[0]), p[1], x[1]))


def cmp_series_list(p, x, errs):
    """Vector or matrix results as sets keyed by labels."""
    pk, xk = keyed(p, errs, "prometheus"), keyed(x, errs, "pharosd")
    for key in sorted(set(pk) - set(xk)):
        it = pk[key]
        errs.append("missing in pharosd: %s %s" % (fmt_labels(dict(key)), _brief(it)))
    for key in sorted(set(xk) - set(pk)):
        it = xk[key]
        errs.append("extra in pharosd: %s %s" % (fmt_labels(dict(key)), _brief(it)))
    for key in sorted(set(pk) & set(xk)):
        name = fmt_labels(dict(key))
        pi, xi = pk[key], xk[key]
        if "value" in pi or "value" in xi:
            if "value" not in pi or "value" not in xi:
                errs.append("%s: sample vs matrix shape" % name)
            else:
                cmp_point(name, pi["value"], xi["value"], errs)
            continue
        pv, xv = pi.get("values", []), xi.get("values", [])
        pt = {ms(v[0]): v for v in pv}
        xt = {ms(v[0]): v for v in xv}
        only_p = sorted(set(pt) - set(xt))
        only_x = sorted(set(xt) - set(pt))
        if only_p:
            errs.append("%s: pharosd lacks %d points, first @%.3f=%s" %
                        (name, len(only_p), only_p[0] / 1e3, pt[only_p[0]][1]))
        if only_x:
            errs.append("%s: pharosd has %d extra points, first @%.3f=%s" %
                        (name, len(only_x), only_x[0] / 1e3, xt[only_x[0]][1]))
        bad = [t for t in sorted(set(pt) & set(xt)) if not same_value(pt[t][1], xt[t][1])]
        if bad:
            errs.append("%s: %d values differ, first @%.3f: prometheus %s, pharosd %s" %
                        (name, len(bad), bad[0] / 1e3, pt[bad[0]][1], xt[bad[0]][1]))
        if [ms(v[0]) for v in xv] != sorted(xt):
            errs.append("%s: pharosd points not in time order" % name)


def _brief(item):
    if "value" in item:
        return "= %s" % item["value"][1]
    vals = item.get("values", [])
    if not vals:
        return "(no points)"
    return "(%d points, first @%.3f=%s)" % (len(vals), float(vals[0][0]), vals[0][1])


def order_groups(q):
    """How an instant result must be ordered: None, 'all', or a group-key function."""
    s = q.strip()
    if re.match(r"sort(_desc)?\s*\(", s):
        return "all"
    m = re.match(r"(topk|bottomk)\s*(?:(by|without)\s*\(([^)]*)\))?\s*\(", s)
    if not m:
        return None
    names = {n.strip() for n in (m.group(3) or "").split(",") if n.strip()}
    if m.group(2) == "by":
        return lambda lab: tuple(sorted((k, v) for k, v in lab.items() if k in names))
    if m.group(2) == "without":
        return lambda lab: tuple(sorted((k, v) for k, v in lab.items() if k not in names and k != "__name__"))
    return lambda lab: ()


def cmp_order(how, p, x, errs):
    """Order check on top of the set check: the value sequence must match, and
    within a run of equal values any order is fine (sort is not stable)."""
    def runs(items):
        groups = {}
        for it in items:
            g = () if how == "all" else how(it["metric"])
            seq = groups.setdefault(g, [])
            key = tuple(sorted(it["metric"].items()))
            if seq and same_value(seq[-1][0], it["value"][1]):
                seq[-1][1].add(key)
            else:
                seq.append((it["value"][1], {key}))
        return groups
    pg, xg = runs(p), runs(x)
    for g in pg:
        if g in xg and [s for _, s in pg[g]] != [s for _, s in xg[g]]:
            errs.append("order differs%s: prometheus %s; pharosd %s" %
                        (" in group %s" % fmt_labels(dict(g)) if g else "",
                         _order_text(p, how, g), _order_text(x, how, g)))


def _order_text(items, how, g):
    sel = [it for it in items if how == "all" or how(it["metric"]) == g]
    return ", ".join("%s=%s" % (fmt_labels(it["metric"]), it["value"][1]) for it in sel[:6]) + \
        (" ..." if len(sel) > 6 else "")


def compare_answers(kind, p, x, ordered):
    """Two fetch() answers -> list of difference lines (empty: equal)."""
    (pc, pj, ptext), (xc, xj, xtext) = p, x
    if pj is None:
        return ["prometheus answered %d with non-JSON: %s" % (pc, ptext[:200])]
    if xj is None:
        return ["pharosd answered %d with non-JSON: %s" % (xc, xtext[:200])]
    errs = []
    if pc != xc:
        errs.append("HTTP %d vs %d" % (pc, xc))
    if pj.get("status") != xj.get("status"):
        errs.append("status prometheus %s (%s), pharosd %s (%s)" %
                    (pj.get("status"), pj.get("error", ""), xj.get("status"), xj.get("error", "")))
        return errs
    if pj.get("status") != "success":
        if pj.get("errorType") != xj.get("errorType"):
            errs.append("errorType: prometheus %r, pharosd %r" % (pj.get("errorType"), xj.get("errorType")))
        if xj.get("error") not in accepted_errors(kind, pj.get("error", "")):
            errs.append("error: prometheus %r, pharosd %r" % (pj.get("error"), xj.get("error")))
        return errs
    pd, xd = pj.get("data") or {}, xj.get("data") or {}
    if pd.get("resultType") != xd.get("resultType"):
        errs.append("resultType prometheus %s, pharosd %s" % (pd.get("resultType"), xd.get("resultType")))
        return errs
    rt, pr, xr = pd.get("resultType"), pd.get("result"), xd.get("result")
    if rt == "scalar":
        cmp_point("scalar", pr, xr, errs)
    elif rt == "string":
        if ms(pr[0]) != ms(xr[0]) or pr[1] != xr[1]:
            errs.append("string prometheus %r, pharosd %r" % (pr, xr))
    elif not isinstance(xr, list):
        errs.append("pharosd result is not a list: %r" % (xr,))
    else:
        cmp_series_list(pr, xr, errs)
        if ordered and rt == "vector" and not errs:
            cmp_order(ordered, pr, xr, errs)
    return errs


# ------------------------------------------------------------------- run
def run_one(a, q, ph, kind, when):
    """One comparison -> (query, label, diff lines, prometheus answer, pharosd answer)."""
    text = expand(q, ph)
    if kind == "instant":
        path, params, label = "/api/v1/query", {"query": text, "time": "%.3f" % when}, "instant @%.3f" % when
        ordered = order_groups(text)
    else:
        start, end, step = when
        path = "/api/v1/query_range"
        params = {"query": text, "start": "%.3f" % start, "end": "%.3f" % end, "step": str(step)}
        label = "range %.3f..%.3f step %ss" % (start, end, step)
        ordered = None
    p = fetch(a.prom, path, params, post=kind == "range")
    x = fetch(a.pharos, path, params, post=kind == "range")
    return q, label, compare_answers(kind, p, x, ordered), p, x


def cmd_run(a):
    with open(a.state) as f:
        state = json.load(f)
    ph, instants, ranges = query_times(state)
    queries = read_queries(a.queries, a.only)
    if not queries:
        print("no queries selected")
        return 1
    jobs = [(q, "instant", t) for q in queries for t in instants] + \
           [(q, "range", r) for q in queries for r in ranges]
    t_begin = time.monotonic()
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        futs = [pool.submit(run_one, a, q, ph, kind, when) for q, kind, when in jobs]
        for f in futs:
            results.append(f.result())
    failed = {}
    counts = {"instant": [0, 0], "range": [0, 0], "error_answers": 0, "empty_answers": 0}
    for (q, label, errs, p, x), (_, kind, _) in zip(results, jobs):
        counts[kind][0] += 1
        if p[1] and p[1].get("status") == "error":
            counts["error_answers"] += 1
        elif p[1] and p[1].get("data", {}).get("result") == []:
            counts["empty_answers"] += 1
        if errs:
            failed.setdefault(q, []).append((label, errs))
        else:
            counts[kind][1] += 1
        if a.show:
            print("== %s  [%s]\n   prometheus %d: %s\n   pharosd    %d: %s" %
                  (expand(q, ph), label, p[0], p[2][:2000], x[0], x[2][:2000]))
    if failed:
        print("MISMATCHES (%d queries):" % len(failed))
        for q in queries:
            if q not in failed:
                continue
            items = failed[q]
            print("- %s" % q)
            for label, errs in items[:a.max_per_query]:
                print("    [%s]" % label)
                for e in errs[:MAX_DIFF_LINES]:
                    print("      %s" % e)
                if len(errs) > MAX_DIFF_LINES:
                    print("      ... %d more" % (len(errs) - MAX_DIFF_LINES))
            if len(items) > a.max_per_query:
                print("    ... and %d more comparisons of this query differ" % (len(items) - a.max_per_query))
    total = counts["instant"][0] + counts["range"][0]
    passed = counts["instant"][1] + counts["range"][1]
    print("promql_diff: %d queries (%d series, %d samples); %d comparisons (%d instant, %d range), "
          "%d passed, %d differ; %d queries differ; Prometheus answered %d errors and %d empty results; %.1fs" %
          (len(queries), state["series"], state["samples"], total, counts["instant"][0], counts["range"][0],
           passed, total - passed, len(failed), counts["error_answers"], counts["empty_answers"],
           time.monotonic() - t_begin))
    return 1 if failed else 0


def _answer(result, rtype="vector", code=200):
    return code, {"status": "success", "data": {"resultType": rtype, "result": result}}, ""


def _err(text, etype="bad_data", code=400):
    return code, {"status": "error", "errorType": etype, "error": text}, ""


def cmd_selftest(_a):
    """The comparator on canned answers: what must pass and what must not."""
    def vec(*items):
        return [{"metric": m, "value": [100.5, v]} for m, v in items]
    a, b, c = {"job": "a"}, {"job": "b"}, {"job": "c"}
    base = vec((a, "1"), (b, "2"), (c, "3"))
    cases = [  # (name, kind, prometheus, pharosd, ordered, want equal)
        ("same", "instant", _answer(base), _answer(list(reversed(base))), None, True),
        ("within 1e-9", "instant", _answer(vec((a, "1"))), _answer(vec((a, "1.0000000001"))), None, True),
        ("beyond 1e-9", "instant", _answer(vec((a, "1"))), _answer(vec((a, "1.00000001"))), None, False),
        ("NaN == NaN", "instant", _answer(vec((a, "NaN"))), _answer(vec((a, "NaN"))), None, True),
        ("NaN vs 0", "instant", _answer(vec((a, "NaN"))), _answer(vec((a, "0"))), None, False),
        ("+Inf vs 1e308", "instant", _answer(vec((a, "+Inf"))), _answer(vec((a, "1e308"))), None, False),
        ("spelling", "instant", _answer(vec((a, "1000000000000000000000"))), _answer(vec((a, "1e+21"))), None,
         False),
        ("-0 vs 0", "instant", _answer(vec((a, "-0"))), _answer(vec((a, "0"))), None, False),
        ("missing", "instant", _answer(base), _answer(base[:2]), None, False),
        ("extra", "instant", _answer(base[:2]), _answer(base), None, False),
        ("twice", "instant", _answer(base), _answer(base + base[:1]), None, False),
        ("time", "instant", _answer(vec((a, "1"))), _answer([{"metric": a, "value": [100.501, "1"]}]), None,
         False),
        ("order", "instant", _answer(base), _answer(list(reversed(base))), "all", False),
        ("tie order", "instant", _answer(vec((a, "1"), (b, "1"))), _answer(vec((b, "1"), (a, "1"))), "all", True),
        ("group order", "instant", _answer(base), _answer([base[1], base[0], base[2]]),
         lambda m: (("job", m["job"]),), True),
        ("resultType", "instant", _answer(base), _answer(base, "matrix"), None, False),
        ("matrix point", "range", _answer([{"metric": a, "values": [[1, "1"], [2, "2"]]}], "matrix"),
         _answer([{"metric": a, "values": [[1, "1"]]}], "matrix"), None, False),
        ("scalar", "instant", _answer([1, "2"], "scalar"), _answer([1, "2.5"], "scalar"), None, False),
        ("error text", "instant", _err("1:1: parse error: x"), _err("1:1: parse error: y"), None, False),
        ("error type", "instant", _err("x"), _err("x", "execution", 422), None, False),
        ("error vs data", "instant", _err("x"), _answer(base), None, False),
        ("3.x prefix", "range", _err("1:1: parse error: x"), _err(QUERY_PARAM_PREFIX + "1:1: parse error: x"),
         None, True),
        ("prefix only for range", "instant", _err("1:1: parse error: x"),
         _err(QUERY_PARAM_PREFIX + "1:1: parse error: x"), None, False),
        ("3.x offset text", "instant", _err("1:4: parse error: unexpected end of input in offset, expected duration"),
         _err("1:4: parse error: unexpected end of input in offset, expected number or duration"), None, True),
        ("non-JSON", "instant", _answer(base), (200, None, "oops"), None, False),
    ]
    bad = 0
    for name, kind, p, x, ordered, want in cases:
        got = not compare_answers(kind, p, x, ordered)
        if got != want:
            bad += 1
            print("selftest %s: compared %s, want %s" % (name, "equal" if got else "different",
                                                        "equal" if want else "different"))
    print("promql_diff selftest: %d cases, %d wrong" % (len(cases), bad))
    return 1 if bad else 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("load", help="generate the data set and remote-write it to every target")
    s.add_argument("--state", required=True, help="state file to write (data times)")
    s.add_argument("targets", nargs="+", help="base URLs")
    s.set_defaults(fn=cmd_load)
    s = sub.add_parser("selftest", help="check the comparator on canned answers")
    s.set_defaults(fn=cmd_selftest)
    s = sub.add_parser("run", help="run the queries against both and compare")
    s.add_argument("--state", required=True)
    s.add_argument("--prom", required=True, help="Prometheus base URL (the reference)")
    s.add_argument("--pharos", required=True, help="pharosd base URL")
    s.add_argument("--queries", default=os.path.join(here, "promql_diff_queries.txt"))
    s.add_argument("--only", help="run only the queries matching this regex")
    s.add_argument("--jobs", type=int, default=6, help="parallel comparisons")
    s.add_argument("--show", action="store_true", help="print both answers of every comparison")
    s.add_argument("--max-per-query", type=int, default=2, help="comparisons shown per failing query")
    s.set_defaults(fn=cmd_run)
    a = p.parse_args()
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main())

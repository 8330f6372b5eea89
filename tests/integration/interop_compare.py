#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""interop_compare: helpers and the verdict of interop_prometheus.sh.

Prometheus' own copy of the data is read through its remote-read API
(/api/v1/read, SAMPLES response) because that returns the raw stored
samples bit for bit, stale markers included; PromQL range selections drop
stale markers and /federate returns only the newest sample. pharosd's copy
is read from /api/v1/export. The two must hold the same label sets and,
per series, the same (timestamp, value) list, values compared as float64
bit patterns (NaN vs StaleNaN kept apart; pharosd's export names only
those two NaN classes, so other NaN payloads compare as "NaN").

One allowance: on shutdown Prometheus flushes the samples already in its
remote-write shards, but a sample appended to its WAL after the shards
stopped is never sent. So samples with t > term - tolerance may be missing
from pharosd, and then only as a suffix of the series (and a series whose
every sample lies in that window may be missing entirely). Nothing else
may differ: no missing series, no extra series or sample in pharosd, no
value or timestamp difference.

Standard library only: protobuf and snappy are coded here for the few
messages remote read needs.
"""
import argparse
import json
import math
import socket
import struct
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

STALE_NAN_BITS = 0x7FF0000000000002
MAX_DIFF_LINES = 40


# ---------------------------------------------------------------- snappy
def snappy_encode(data):
    """Snappy block format, literals only (valid, uncompressed)."""
    out = bytearray(_uvarint(len(data)))
    i = 0
    while i < len(data):
        chunk = data[i:i + 65536]
        n = len(chunk) - 1
        if n < 60:
            out.append(n << 2)
        else:
            out.append(61 << 2)
            out += struct.pack("<H", n)
        out += chunk
        i += len(chunk)
    return bytes(out)


def snappy_decode(buf):
    want, i = _read_uvarint(buf, 0)
    out = bytearray()
    while i < len(buf):
        tag = buf[i]
        i += 1
        kind = tag & 3
        if kind == 0:
            n = tag >> 2
            if n >= 60:
                nb = n - 59
                n = int.from_bytes(buf[i:i + nb], "little")
                i += nb
            n += 1
            out += buf[i:i + n]
            i += n
            continue
        if kind == 1:
            length = ((tag >> 2) & 7) + 4
            off = ((tag >> 5) << 8) | buf[i]
            i += 1
        elif kind == 2:
            length = (tag >> 2) + 1
            off = int.from_bytes(buf[i:i + 2], "little")
            i += 2
        else:
            length = (tag >> 2) + 1
            off = int.from_bytes(buf[i:i + 4], "little")
            i += 4
        if off == 0 or off > len(out):
            raise ValueError("snappy: bad copy offset %d at %d" % (off, i))
        start = len(out) - off
        if off >= length:
            out += out[start:start + length]
        else:
            for k in range(length):
                out.append(out[start + k])
    if len(out) != want:
        raise ValueError("snappy: decoded %d bytes, header says %d" % (len(out), want))
    return bytes(out)


# -------------------------------------------------------------- protobuf
def _uvarint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _read_uvarint(buf, i):
    shift = 0
    v = 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        if b < 0x80:
            return v, i
        shift += 7


def _field_varint(num, v):
    if v < 0:
        v += 1 << 64
    return _uvarint(num << 3) + _uvarint(v)


def _field_bytes(num, b):
    return _uvarint((num << 3) | 2) + _uvarint(len(b)) + b


def _fields(buf):
    """Yields (field number, wire type, value) of one message."""
    i = 0
    while i < len(buf):
        key, i = _read_uvarint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _read_uvarint(buf, i)
        elif wt == 1:
            v = buf[i:i + 8]
            i += 8
        elif wt == 2:
            n, i = _read_uvarint(buf, i)
            v = buf[i:i + n]
            i += n
        elif wt == 5:
            v = buf[i:i + 4]
            i += 4
        else:
            raise ValueError("protobuf: wire type %d" % wt)
        yield num, wt, v


def read_request(start_ms, end_ms):
    """prometheus.ReadRequest{queries: [{start, end, matchers: [__name__=~".+"]}]}."""
    matcher = _field_varint(1, 2) + _field_bytes(2, b"__name__") + _field_bytes(3, b".+")
    query = _field_varint(1, start_ms) + _field_varint(2, end_ms) + _field_bytes(3, matcher)
    return _field_bytes(1, query)


def parse_read_response(buf):
    """ReadResponse -> {labels tuple: [(t, value bits)]}."""
    series = {}
    for num, _, result in _fields(buf):
        if num != 1:
            continue
        for rnum, _, ts in _fields(result):
            if rnum != 1:
                continue
            labels = []
            samples = []
            for tnum, _, v in _fields(ts):
                if tnum == 1:
                    name = value = b""
                    for lnum, _, lv in _fields(v):
                        if lnum == 1:
                            name = lv
                        elif lnum == 2:
                            value = lv
                    labels.append((name.decode(), value.decode()))
                elif tnum == 2:
                    bits = 0
                    t = 0
                    for snum, _, sv in _fields(v):
                        if snum == 1:
                            bits = struct.unpack("<Q", sv)[0]
                        elif snum == 2:
                            t = sv - (1 << 64) if sv >= 1 << 63 else sv
                    samples.append((t, bits))
            series[tuple(sorted(labels))] = samples
    return series


# ------------------------------------------------------------------ HTTP
def http(url, data=None, headers=None, timeout=30):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read()


def prom_raw(base, start_ms, end_ms):
    body = snappy_encode(read_request(start_ms, end_ms))
    hdr = {
        "Content-Type": "application/x-protobuf",
        "Content-Encoding": "snappy",
        "X-Prometheus-Remote-Read-Version": "0.1.0",
    }
    return parse_read_response(snappy_decode(http(base + "/api/v1/read", body, hdr, timeout=120)))


def prom_series_api(base, start_ms, end_ms):
    q = urllib.parse.urlencode({"match[]": '{__name__=~".+"}', "start": start_ms / 1e3, "end": end_ms / 1e3})
    doc = json.loads(http(base + "/api/v1/series?" + q))
    return {tuple(sorted(m.items())) for m in doc["data"]}


def value_bits(v):
    if isinstance(v, str):
        return {"NaN": 0x7FF8000000000001, "StaleNaN": STALE_NAN_BITS,
                "+Inf": 0x7FF0000000000000, "-Inf": 0xFFF0000000000000}[v]
    return struct.unpack("<Q", struct.pack("<d", float(v)))[0]


def pharos_export(base, start_ms, end_ms):
    q = urllib.parse.urlencode({"match[]": '{__name__=~".+"}', "start": start_ms / 1e3, "end": end_ms / 1e3})
    series = {}
    for line in http(base + "/api/v1/export?" + q, timeout=120).decode().splitlines():
        if not line.strip():
            continue
        doc = json.loads(line)
        key = tuple(sorted(doc["metric"].items()))
        if key in series:
            raise ValueError("pharosd exported series %s twice" % fmt_labels(key))
        series[key] = [(int(t), value_bits(v)) for t, v in zip(doc["timestamps"], doc["values"])]
    return series


def scrape_metrics(text):
    """Exposition text -> {'name{labels}': value}, enough for counters."""
    out = {}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        name, _, rest = line.rpartition(" ")
        try:
            out[name] = float(rest)
        except ValueError:
            pass
    return out


def metric_sum(metrics, prefix):
    return sum(v for k, v in metrics.items() if k == prefix or k.startswith(prefix + "{"))


# ---------------------------------------------------------------- verdict
def fmt_labels(key):
    return "{" + ",".join('%s="%s"' % kv for kv in key) + "}"


def fmt_value(bits):
    if bits == STALE_NAN_BITS:
        return "StaleNaN"
    v = struct.unpack("<d", struct.pack("<Q", bits))[0]
    return "NaN(0x%016x)" % bits if math.isnan(v) else repr(v)


def same_value(pbits, xbits):
    """pharosd exports NaN classes by name only: any non-stale NaN matches "NaN"."""
    if pbits == xbits:
        return True
    pnan = (pbits & 0x7FF0000000000000) == 0x7FF0000000000000 and (pbits & 0xFFFFFFFFFFFFF) != 0
    return pnan and pbits != STALE_NAN_BITS and xbits == 0x7FF8000000000001


def compare(prom, pharos, tail_from_ms):
    diffs = []
    stats = {"series_prom": len(prom), "series_pharos": len(pharos), "samples_prom": 0, "samples_pharos": 0,
             "samples_compared": 0, "tail_missing_samples": 0, "tail_missing_series": 0,
             "stale_markers_compared": 0, "nan_compared": 0, "mismatches": 0}
    for key, psamples in prom.items():
        stats["samples_prom"] += len(psamples)
        xsamples = pharos.get(key)
        if xsamples is None:
            if psamples and psamples[0][0] > tail_from_ms:
                stats["tail_missing_series"] += 1
                stats["tail_missing_samples"] += len(psamples)
                continue
            diffs.append("missing series in pharosd: %s (%d samples, first t=%d)" %
                         (fmt_labels(key), len(psamples), psamples[0][0] if psamples else -1))
            continue
        n = min(len(psamples), len(xsamples))
        for i in range(n):
            (pt, pv), (xt, xv) = psamples[i], xsamples[i]
            if pt != xt or not same_value(pv, xv):
                diffs.append("sample %d of %s: prometheus (t=%d, %s) vs pharosd (t=%d, %s)" %
                             (i, fmt_labels(key), pt, fmt_value(pv), xt, fmt_value(xv)))
                break
            stats["samples_compared"] += 1
            if pv == STALE_NAN_BITS:
                stats["stale_markers_compared"] += 1
            elif xv == 0x7FF8000000000001:
                stats["nan_compared"] += 1
        else:
            if len(xsamples) > len(psamples):
                t, v = xsamples[n]
                diffs.append("pharosd has %d extra samples in %s, first (t=%d, %s)" %
                             (len(xsamples) - n, fmt_labels(key), t, fmt_value(v)))
            elif len(psamples) > n:
                t = psamples[n][0]
                if t > tail_from_ms:
                    stats["tail_missing_samples"] += len(psamples) - n
                else:
                    diffs.append("pharosd lacks %d samples of %s from t=%d (%s) on (tail allowance starts at t=%d)"
                                 % (len(psamples) - n, fmt_labels(key), t, fmt_value(psamples[n][1]),
                                    tail_from_ms))
    for key, xsamples in pharos.items():
        stats["samples_pharos"] += len(xsamples)
        if key not in prom:
            diffs.append("pharosd has a series Prometheus lacks: %s (%d samples)" % (fmt_labels(key), len(xsamples)))
    stats["mismatches"] = len(diffs)
    return stats, diffs


def cmd_compare(a):
    t0 = time.monotonic()
    prom = prom_raw(a.prom, a.start, a.end)
    pharos = pharos_export(a.pharos, a.start, a.end)
    tail_from = a.term - a.tolerance_ms
    stats, diffs = compare(prom, pharos, tail_from)

    # Cross-check the remote-read decoding against the series API.
    api = prom_series_api(a.prom, a.start, a.end)
    if api != set(prom):
        only_api = sorted(api - set(prom))[:5]
        only_rr = sorted(set(prom) - api)[:5]
        diffs.append("internal: Prometheus /api/v1/series (%d) and remote read (%d) disagree; only series API: %s;"
                     " only remote read: %s" % (len(api), len(prom), [fmt_labels(k) for k in only_api],
                                                 [fmt_labels(k) for k in only_rr]))

    # What the sender saw: every send must have succeeded.
    sender = scrape_metrics(open(a.prom_metrics).read())
    checks = {
        "prometheus_remote_storage_samples_total": None,
        "prometheus_remote_storage_metadata_total": None,
        "prometheus_remote_storage_samples_failed_total": 0,
        "prometheus_remote_storage_metadata_failed_total": 0,
        "prometheus_remote_storage_exemplars_failed_total": 0,
        "prometheus_remote_storage_samples_dropped_total": 0,
    }
    for name, want in checks.items():
        got = metric_sum(sender, name)
        stats[name.replace("prometheus_remote_storage_", "sender_")] = int(got)
        if want is not None and got != want:
            diffs.append("Prometheus reports %s = %g (want %g)" % (name, got, want))
    if stats["sender_samples_total"] == 0:
        diffs.append("Prometheus sent no samples")
    if stats["sender_metadata_total"] == 0:
        diffs.append("Prometheus sent no metadata (metadata_config.send is on)")

    receiver = scrape_metrics(http(a.pharos + "/metrics").decode())
    for k, v in sorted(receiver.items()):
        if v and (k.startswith("pharos_remote_write_series_rejected_total") or
                  k.startswith("pharos_tsdb_samples_rejected_total") or
                  (k.startswith("pharos_remote_write_requests_total") and 'code="204"' not in k)):
            diffs.append("pharosd reports %s = %g" % (k, v))
    stats["receiver_requests_204"] = int(receiver.get('pharos_remote_write_requests_total{code="204"}', 0))
    stats["receiver_metadata"] = int(receiver.get("pharos_remote_write_metadata_total", 0))
    stats["compare_seconds"] = round(time.monotonic() - t0, 2)
    stats["tail_allowance"] = "t > %d (SIGTERM at %d minus %d ms)" % (tail_from, a.term, a.tolerance_ms)

    for k, v in stats.items():
        print("  %-36s %s" % (k, v))
    if diffs:
        print("MISMATCH: %d difference(s)%s:" % (len(diffs), ", first %d" % MAX_DIFF_LINES
                                                if len(diffs) > MAX_DIFF_LINES else ""))
        for d in diffs[:MAX_DIFF_LINES]:
            print("  - " + d)
        return 1
    if stats["samples_compared"] == 0:
        print("MISMATCH: nothing was compared")
        return 1
    print("OK: pharosd holds exactly what Prometheus holds")
    return 0


def cmd_ports(a):
    socks = []
    for _ in range(a.n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    print(" ".join(str(s.getsockname()[1]) for s in socks))
    for s in socks:
        s.close()
    return 0


def _exited(pid):
    """True once pid is gone or a zombie (our parent has not reaped it yet)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return True


def cmd_wait(a):
    deadline = time.monotonic() + a.timeout
    while time.monotonic() < deadline:
        if a.pid and _exited(a.pid):
            print("process %d exited while waiting for %s" % (a.pid, a.url), file=sys.stderr)
            return 1
        try:
            http(a.url, timeout=2)
            return 0
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    print("timed out after %gs waiting for %s" % (a.timeout, a.url), file=sys.stderr)
    return 1


def cmd_metric(a):
    """Prints the sum of one metric family of a /metrics page (0 if absent)."""
    print("%.0f" % metric_sum(scrape_metrics(http(a.url).decode()), a.name))
    return 0


def cmd_fetch(a):
    sys.stdout.write(http(a.url).decode())
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("ports", help="print N free 127.0.0.1 TCP ports")
    s.add_argument("n", type=int)
    s.set_defaults(fn=cmd_ports)
    s = sub.add_parser("wait", help="poll URL until it answers 2xx")
    s.add_argument("url")
    s.add_argument("--timeout", type=float, default=30)
    s.add_argument("--pid", type=int, default=0, help="give up as soon as this process has exited")
    s.set_defaults(fn=cmd_wait)
    s = sub.add_parser("metric", help="print a metric family's sum from a /metrics URL")
    s.add_argument("url")
    s.add_argument("name")
    s.set_defaults(fn=cmd_metric)
    s = sub.add_parser("fetch", help="print the body of a GET")
    s.add_argument("url")
    s.set_defaults(fn=cmd_fetch)
    s = sub.add_parser("compare", help="compare Prometheus' stored samples with pharosd's export")
    s.add_argument("--prom", required=True, help="Prometheus base URL (read-only restart on the same TSDB)")
    s.add_argument("--pharos", required=True, help="pharosd base URL")
    s.add_argument("--start", type=int, required=True, help="range start, ms")
    s.add_argument("--end", type=int, required=True, help="range end, ms")
    s.add_argument("--term", type=int, required=True, help="when Prometheus got SIGTERM, ms")
    s.add_argument("--tolerance-ms", type=int, default=5000)
    s.add_argument("--prom-metrics", required=True, help="Prometheus /metrics saved just before SIGTERM")
    s.set_defaults(fn=cmd_compare)
    a = p.parse_args()
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main())

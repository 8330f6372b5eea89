#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""logs_run: the Python half of bench/logs.sh (the log-side benchmark).

Subcommands:
  prepare  gather this machine's text logs, replay them to --lines lines over
           --streams-min+ streams with increasing timestamps; write replay.tsv
           (bench/logs_load's input), streams.txt, raw/<stream>.log (the exact
           lines pushed, one file per stream) and meta.json.
  refs     the physical references on the same bytes: zstd -3 per stream file,
           ripgrep over raw/ and rg -z over the .zst files (median of --runs).
  query    the LogQL latencies against pharosd (median of --runs after one
           warm-up), with the match counts checked against meta.json.
  report   the Markdown "Logs" section from the JSON records logs.sh collected.

Replay (what `prepare` does to the text, since it decides the compression ratio):
  - corpus: every readable regular file under /var/log (recursively) that is text
    (.gz/.xz/.bz2/.zst decompressed; files with NUL bytes in the first 64 KiB,
    e.g. wtmp, skipped), plus `journalctl -o short-iso` output when the journal
    has entries. Lines split at \\n and \\r, trailing blanks stripped, empty
    lines dropped, bytes decoded as UTF-8 with U+FFFD for invalid sequences.
  - the files are interleaved in proportion to their line counts, so every file
    (stream) advances at a steady rate; H hosts (H chosen so that there are at
    least --streams-min streams) each replay this sequence cyclically, host h
    starting at offset h*L/H; line i of the replay belongs to host i mod H.
  - stream labels {job="varlogs", host, filename, level}; level from keywords
    (error|err|fail(ed|ure)|fatal|crit(ical)|panic|emerg|alert -> error,
    warn(ing) -> warn, debug|trace -> debug, else info; case-insensitive words).
  - timestamps: line i of N gets start + i*(end-start)/N ns (end = 1 min before
    prepare runs, start = end - --span): strictly increasing. A timestamp in the
    first 48 characters of the text (YYYY-MM-DD[T ]HH:MM:SS[.frac] or syslog's
    "Mon dd HH:MM:SS") is rewritten to that time (UTC) in its own format.
  - --vary numbers (default): every other standalone number of 2+ digits (not
    part of a word such as amd64) gets a per-(host, pass) offset, mod 10^digits,
    zero-padded, so its length is kept: the same line in another pass differs
    the way a re-run of the same tool would (PIDs, sizes, versions), and no byte
    count changes. --vary ts: only timestamps. --vary none: text as is.
  - the rare token is appended (" <token>") to --rare-lines lines spread evenly.
"""
import argparse
import bz2
import calendar
import gzip
import json
import lzma
import math
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
ISO_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})([T ]+)(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?")
SYSLOG_RE = re.compile(r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d{2}:\d{2}:\d{2}")
NUM_RE = re.compile(r"(?<![A-Za-z0-9])\d{2,}(?![A-Za-z0-9])")
LEVEL_RES = [
    ("error", re.compile(r"\b(?:err|error|fail|failed|failure|fatal|crit|critical|panic|emerg|alert)\b", re.I)),
    ("warn", re.compile(r"\b(?:warn|warning)\b", re.I)),
    ("debug", re.compile(r"\b(?:debug|trace)\b", re.I)),
]


def level_of(line):
    for name, rx in LEVEL_RES:
        if rx.search(line):
            return name
    return "info"


# ---- prepare -----------------------------------------------------------------

def read_log(path):
    opener = {".gz": gzip.open, ".xz": lzma.open, ".bz2": bz2.open}.get(os.path.splitext(path)[1])
    try:
        if path.endswith(".zst"):
            data = subprocess.run(["zstd", "-dc", path], capture_output=True, check=True).stdout
        elif opener:
            with opener(path, "rb") as f:
                data = f.read()
        else:
            with open(path, "rb") as f:
                data = f.read()
    except Exception:
        return None
    if not data or b"\0" in data[:65536]:
        return None
    name = path
    for ext in (".gz", ".xz", ".bz2", ".zst"):
        if name.endswith(ext):
            name = name[: -len(ext)]
    return name, data


def gather(roots):
    files = []
    for root in roots:
        for d, _, names in os.walk(root):
            for n in sorted(names):
                p = os.path.join(d, n)
                if os.path.isfile(p) and not os.path.islink(p) and os.access(p, os.R_OK):
                    r = read_log(p)
                    if r:
                        files.append(r)
    try:
        j = subprocess.run(["journalctl", "--no-pager", "-q", "-o", "short-iso"], capture_output=True, timeout=300)
        if j.returncode == 0 and j.stdout.strip():
            files.append(("journal", j.stdout))
    except Exception:
        pass
    out = []
    for name, data in sorted(files):
        text = data.decode("utf-8", errors="replace")
        lines = [ln.rstrip() for ln in re.split(r"[\r\n]", text)]
        lines = [ln for ln in lines if ln.strip()]
        if lines:
            out.append((name, lines))
    return out


class Template:
    """A corpus line split into literal text, an optional timestamp slot and number slots."""
    __slots__ = ("parts", "ts_kind", "ts_info", "nums", "level", "file")

    def __init__(self, line, fidx):
        self.file = fidx
        self.level = level_of(line)
        head = line[:48]
        ts_span = None
        m = ISO_RE.search(head)
        s = SYSLOG_RE.search(head)
        if m and (not s or m.start() <= s.start()):
            ts_span = (m.start(), m.end())
            self.ts_kind = "iso"
            self.ts_info = (m.group(4), len(m.group(8)) if m.group(8) else 0)
        elif s:
            ts_span = (s.start(), s.end())
            self.ts_kind = "syslog"
            self.ts_info = None
        else:
            self.ts_kind = None
            self.ts_info = None
        # parts: literal strings and slots ("T",) or ("N", digits, value)
        self.parts = []
        pos = 0
        spans = []
        if ts_span:
            spans.append((ts_span[0], ts_span[1], ("T",)))
        for nm in NUM_RE.finditer(line):
            if ts_span and nm.start() < ts_span[1] and nm.end() > ts_span[0]:
                continue
            spans.append((nm.start(), nm.end(), ("N", len(nm.group()), int(nm.group()))))
        spans.sort()
        self.nums = 0
        for a, b, slot in spans:
            if a > pos:
                self.parts.append(line[pos:a])
            self.parts.append(slot)
            if slot[0] == "N":
                self.nums += 1
            pos = b
        if pos < len(line):
            self.parts.append(line[pos:])


def fmt_ts(kind, info, ts_ns, cache):
    sec = ts_ns // 1_000_000_000
    key = (kind, info, sec)
    base = cache.get(key)
    if base is None:
        tm = time.gmtime(sec)
        if kind == "iso":
            base = "%04d-%02d-%02d%s%02d:%02d:%02d" % (tm.tm_year, tm.tm_mon, tm.tm_mday, info[0], tm.tm_hour,
                                                      tm.tm_min, tm.tm_sec)
        else:
            base = "%s %2d %02d:%02d:%02d" % (MONTHS[tm.tm_mon - 1], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)
        if len(cache) > 100000:
            cache.clear()
        cache[key] = base
    if kind == "iso" and info[1]:
        frac = "%09d" % (ts_ns % 1_000_000_000)
        d = info[1]
        frac = frac[:d] if d <= 9 else frac + "0" * (d - 9)
        return base + "." + frac
    return base


def render(t, ts_ns, vary, off, cache):
    out = []
    for p in t.parts:
        if p.__class__ is str:
            out.append(p)
        elif p[0] == "T":
            out.append(fmt_ts(t.ts_kind, t.ts_info, ts_ns, cache) if vary != "none" else None)
        else:
            if vary == "numbers":
                d = p[1]
                out.append(str((p[2] + off) % (10 ** d)).zfill(d))
            else:
                out.append(None)
    if None in out:  # vary none / ts: put the original text back where unchanged
        return None
    return "".join(out)


def cmd_prepare(a):
    t0 = time.time()
    corpus = gather(a.roots)
    if not corpus:
        raise SystemExit("no readable text logs found")
    files = [name for name, _ in corpus]
    seq = []  # (key, file index, line)
    for fi, (name, lines) in enumerate(corpus):
        n = len(lines)
        for j, ln in enumerate(lines):
            seq.append(((j + 0.5) / n, fi, ln))
    seq.sort(key=lambda x: (x[0], x[1]))
    originals = [ln for _, _, ln in seq]
    templates = [Template(ln, fi) for _, fi, ln in seq]
    L = len(templates)
    combos = sorted({(t.file, t.level) for t in templates})
    hosts = max(a.hosts, math.ceil(a.streams_min / len(combos)))
    streams = []
    sidx = {}
    for h in range(hosts):
        for fi, lv in combos:
            sidx[(h, fi, lv)] = len(streams)
            streams.append({"job": "varlogs", "host": "host-%02d" % (h + 1), "filename": files[fi], "level": lv})
    for tok_try in range(100):
        token = a.rare if tok_try == 0 else a.rare + str(tok_try)
        if not any(token in ln for ln in originals):
            break
    N = a.lines
    end_ns = (int(time.time()) - 60) * 1_000_000_000
    start_ns = end_ns - int(a.span * 1e9)
    rare_at = {int((r + 0.5) * N / a.rare_lines) for r in range(a.rare_lines)}
    os.makedirs(os.path.join(a.out, "raw"), exist_ok=True)
    raws = [open(os.path.join(a.out, "raw", "s%03d.log" % i), "w", encoding="utf-8", newline="\n")
            for i in range(len(streams))]
    regex = re.compile(a.regex)
    level_counts = {}
    stream_counts = [0] * len(streams)
    raw_bytes = 0
    regex_count = 0
    rare_count = 0
    cache = {}
    with open(os.path.join(a.out, "replay.tsv"), "w", encoding="utf-8", newline="\n") as rp:
        buf = []
        for i in range(N):
            h = i % hosts
            k = i // hosts + (h * L) // hosts
            ci, cyc = k % L, k // L
            t = templates[ci]
            ts = start_ns + (i * (end_ns - start_ns)) // N
            off = ((h * 7919 + cyc * 104729 + 1) * 2654435761) % 1_000_000_007 if cyc or h else 0
            line = render(t, ts, a.vary, off, cache)
            if line is None:
                line = originals[ci] if a.vary == "none" else render_ts_only(t, originals[ci], ts, cache)
            if i in rare_at:
                line += " " + token
            if token in line:
                rare_count += 1
            if regex.search(line):
                regex_count += 1
            s = sidx[(h, t.file, t.level)]
            stream_counts[s] += 1
            level_counts[t.level] = level_counts.get(t.level, 0) + 1
            raw_bytes += len(line.encode("utf-8")) + 1
            raws[s].write(line + "\n")
            buf.append("%d\t%d\t%s\n" % (s, ts, line))
            if len(buf) >= 10000:
                rp.write("".join(buf))
                buf = []
        rp.write("".join(buf))
    for f in raws:
        f.close()
    with open(os.path.join(a.out, "streams.txt"), "w") as f:
        for st in streams:
            f.write("{" + ",".join('%s="%s"' % (k, st[k].replace("\\", "\\\\").replace('"', '\\"'))
                                   for k in sorted(st)) + "}\n")
    corpus_bytes = sum(len(ln.encode("utf-8")) + 1 for ln in originals)
    meta = {
        "lines": N, "streams": streams, "stream_lines": stream_counts, "hosts": hosts,
        "start_ns": start_ns, "end_ns": end_ns, "raw_bytes": raw_bytes, "level_counts": level_counts,
        "rare": token, "rare_count": rare_count, "regex": a.regex, "regex_count": regex_count,
        "vary": a.vary, "corpus_files": [{"name": n, "lines": len(ls)} for n, ls in corpus],
        "corpus_lines": L, "corpus_bytes": corpus_bytes, "passes": N / L,
        "with_ts": sum(1 for t in templates if t.ts_kind), "prepare_s": round(time.time() - t0, 1),
    }
    with open(os.path.join(a.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(json.dumps({k: meta[k] for k in ("lines", "hosts", "raw_bytes", "level_counts", "rare_count",
                                           "regex_count", "corpus_lines", "prepare_s")}))


def render_ts_only(t, original, ts, cache):
    if not t.ts_kind:
        return original
    out = []
    pos_text = []
    for p in t.parts:
        if p.__class__ is str:
            out.append(p)
        elif p[0] == "T":
            out.append(fmt_ts(t.ts_kind, t.ts_info, ts, cache))
        else:
            out.append(str(p[2]).zfill(p[1]))
    del pos_text
    return "".join(out)


# ---- refs ----------------------------------------------------------------------

def timed(cmd, runs, **kw):
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, **kw)
        times.append(time.perf_counter() - t0)
        out = r
    return statistics.median(times), times, out


def rg_count(stdout):
    # rg -c over several files prints path:count per file with matches
    return sum(int(ln.rsplit(b":", 1)[1]) for ln in stdout.splitlines() if ln.strip())


def cmd_refs(a):
    meta = json.load(open(os.path.join(a.dir, "meta.json")))
    raw = os.path.join(a.dir, "raw")
    zd = os.path.join(a.dir, "zst")
    os.makedirs(zd, exist_ok=True)
    names = sorted(os.listdir(raw))
    t0 = time.perf_counter()
    for n in names:
        subprocess.run(["zstd", "-3", "-q", "-f", "-o", os.path.join(zd, n + ".zst"), os.path.join(raw, n)],
                       check=True)
    zstd_s = time.perf_counter() - t0
    zstd_bytes = sum(os.path.getsize(os.path.join(zd, n + ".zst")) for n in names)
    raw_bytes = sum(os.path.getsize(os.path.join(raw, n)) for n in names)
    # one file of all streams, for the record (the cross-stream dictionary zstd can use)
    comb = subprocess.run("cat %s/*.log | zstd -3 -q -c | wc -c" % raw, shell=True, capture_output=True, check=True)
    rec = {"raw_bytes": raw_bytes, "zstd_bytes": zstd_bytes, "zstd_s": round(zstd_s, 3),
           "zstd_combined_bytes": int(comb.stdout.strip()), "files": len(names)}
    rg = ["rg", "--no-config", "-c", "--no-messages"]
    for label, args in (("rare_raw", ["-F", meta["rare"], raw]), ("rare_zst", ["-z", "-F", meta["rare"], zd]),
                        ("regex_raw", ["-e", meta["regex"], raw]), ("regex_zst", ["-z", "-e", meta["regex"], zd])):
        med, times, r = timed(rg + args, a.runs)
        rec[label] = {"median_s": med, "times": times, "count": rg_count(r.stdout)}
    rec["rg_version"] = subprocess.run(["rg", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    rec["zstd_version"] = subprocess.run(["zstd", "--version"], capture_output=True, text=True).stdout.strip(" *\n")
    json.dump(rec, sys.stdout)
    print()


# ---- query -------------------------------------------------------------------------

def http_get(url, timeout=600):
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            body = r.read()
            code = r.status
    except urllib.error.HTTPError as e:
        body, code = e.read(), e.code
    return time.perf_counter() - t0, code, body


def cmd_query(a):
    meta = json.load(open(os.path.join(a.dir, "meta.json")))
    start, end = meta["start_ns"] - 1_000_000_000, meta["end_ns"] + 60_000_000_000
    sel = '{job="varlogs"}'
    rare = meta["rare"].replace("\\", "\\\\").replace('"', '\\"')
    rx = meta["regex"].replace("\\", "\\\\").replace('"', '\\"')
    # metric query: steps on whole minutes covering the window, step = range, so each line counts once
    m_start = (meta["start_ns"] // 60_000_000_000 + 1) * 60
    m_end = (meta["end_ns"] // 60_000_000_000 + 1) * 60
    qs = [
        ("selector", sel, "range", {"limit": a.limit}),
        ("rare", '%s |= "%s"' % (sel, rare), "range", {"limit": a.limit}),
        ("regex", '%s |~ "%s"' % (sel, rx), "range", {"limit": a.limit}),
        ("count_by_level", "sum by (level) (count_over_time(%s[1m]))" % sel, "metric", {}),
    ]
    checks = [  # untimed beyond one run: totals over the whole window, to check counts
        ("regex_total", 'sum(count_over_time(%s |~ "%s" [%ds]))' % (sel, rx, (end - start) // 10**9 + 60)),
        ("rare_total", 'sum(count_over_time(%s |= "%s" [%ds]))' % (sel, rare, (end - start) // 10**9 + 60)),
    ]
    base = a.url.rstrip("/")
    res = {"queries": [], "checks": {}}
    for qid, q, kind, extra in qs:
        if kind == "range":
            params = {"query": q, "start": str(start), "end": str(end), "direction": "backward", **extra}
        else:
            params = {"query": q, "start": str(m_start - 60), "end": str(m_end), "step": "60"}
        url = base + "/loki/api/v1/query_range?" + urllib.parse.urlencode(params)
        rec = {"id": qid, "query": q, "times": [], "ok": True, "error": None}
        hwm = []
        for run in range(a.runs + 1):
            dt, code, body = http_get(url)
            if code != 200:
                rec["ok"] = False
                rec["error"] = "HTTP %d: %s" % (code, body[:300].decode("utf-8", "replace"))
                break
            if run == 0:
                rec["first_s"] = dt
                try:
                    rec.update(summarize(json.loads(body), kind))
                except Exception as e:  # noqa: BLE001
                    rec["ok"] = False
                    rec["error"] = "bad answer: %s: %s" % (e, body[:200])
                    break
            else:
                rec["times"].append(dt)
            if a.pid:
                hwm.append(vm_hwm(a.pid))
        if rec["times"]:
            rec["median_s"] = statistics.median(rec["times"])
        res["queries"].append(rec)
        print("%s: %s" % (qid, {k: v for k, v in rec.items() if k not in ("times",)}), file=sys.stderr)
    for cid, q in checks:
        url = base + "/loki/api/v1/query?" + urllib.parse.urlencode({"query": q, "time": str(end)})
        dt, code, body = http_get(url)
        val = None
        if code == 200:
            try:
                r = json.loads(body)["data"]["result"]
                val = int(float(r[0]["value"][1])) if r else 0
            except Exception:  # noqa: BLE001
                val = None
        res["checks"][cid] = {"value": val, "s": dt, "code": code,
                              "error": None if code == 200 else body[:300].decode("utf-8", "replace")}
    if a.pid:
        res["vmhwm_kib"] = vm_hwm(a.pid)
    json.dump(res, sys.stdout)
    print()


def summarize(doc, kind):
    data = doc["data"]
    if kind == "range":
        n = sum(len(s["values"]) for s in data["result"])
        return {"result_type": data.get("resultType"), "lines_returned": n, "streams_returned": len(data["result"])}
    by = {}
    for s in data["result"]:
        lv = s["metric"].get("level", "")
        by[lv] = by.get(lv, 0) + int(sum(float(v[1]) for v in s["values"]))
    return {"result_type": data.get("resultType"), "series": len(data["result"]), "sum_by_level": by}


def vm_hwm(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for ln in f:
                if ln.startswith("VmHWM:"):
                    return int(ln.split()[1])
    except OSError:
        pass
    return 0


# ---- report ------------------------------------------------------------------------

def fmt_s(x):
    if x is None:
        return "–"
    return "%.1f ms" % (x * 1000) if x < 1 else "%.2f s" % x


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def cmd_report(a):
    R = json.load(open(a.records))
    meta, refs, ingest = R["meta"], R.get("refs") or {}, R.get("ingest") or []
    out = []
    out.append("## Logs\n")
    out.append("<!-- logs:begin -->")
    out.append("`%s` at %s (Release build%s), %s." % (R["cmdline"], R["rev"], R.get("dirty", ""), R["date"]))
    out.append("")
    out.append("Machine: %s, %d cores, %.1f GiB RAM, %s. pharosd, the loader and the references share the cores; "
               "other processes' CPU during each ingest run (loader start to end): %s." % (R["cpu_model"], R["cores"], R["mem_gib"],
                                                                       R["kernel"], R.get("other_cpu", "?")))
    out.append("")
    files = ", ".join("%s (%d)" % (f["name"], f["lines"]) for f in meta["corpus_files"])
    out.append("Corpus: %d lines, %.0f KB of this machine's logs: %s; %d of the lines carry a timestamp. "
               "Replayed %.1f times to **%d lines** (%.1f MB) over %d streams (%d hosts × (file, level)), "
               "timestamps spread evenly over the %.0f min before the run, `--vary %s` (see bench/logs_run.py's "
               "header for exactly what changes per pass). Levels: %s. The exact lines pushed are the raw files "
               "the references read (one per stream, lines + `\\n`)." % (
                   meta["corpus_lines"], meta["corpus_bytes"] / 1e3, files, meta["with_ts"], meta["passes"],
                   meta["lines"], meta["raw_bytes"] / 1e6, len(meta["streams"]), meta["hosts"],
                   (meta["end_ns"] - meta["start_ns"]) / 60e9, meta["vary"],
                   ", ".join("%s %d" % kv for kv in sorted(meta["level_counts"].items()))))
    out.append("")
    ok = [r for r in ingest if r.get("lines_ok")]
    lps = med([r["lines_per_s"] for r in ok])
    mbs = med([r["mb_per_s"] for r in ok])
    ccpu = med([r["client_cpu_s"] / r["wall_s"] for r in ok if r.get("wall_s")])
    scpu = med([r["server_cpu_s"] / r["wall_s"] for r in ok if r.get("wall_s") and "server_cpu_s" in r])
    peak = max([R.get("peak_kib") or 0] + [r.get("vmhwm_kib") or 0 for r in ingest])
    disk = R.get("disk") or {}
    d_bytes = disk.get("logs_bytes")
    raw_b = refs.get("raw_bytes") or meta["raw_bytes"]
    z_b = refs.get("zstd_bytes")
    Q = {q["id"]: q for q in (R.get("queries") or {}).get("queries", [])}
    Qh = {q["id"]: q for q in (R.get("queries_head") or {}).get("queries", [])}
    N = meta["lines"]
    out.append("| figure | pharosd | reference | target | met |")
    out.append("|---|---|---|---|---|")

    def row(name, val, ref, target, met):
        cell = lambda x: str(x).replace("|", "\\|")
        out.append("| %s | %s | %s | %s | %s |" % (cell(name), cell(val), cell(ref), cell(target), {True: "yes", False: "**no**",
                                                                             None: "–"}[met]))

    row("ingest, lines/s (median of %d runs)" % len(ok), "%.0f" % lps if lps else "failed", "", "≥ 600,000",
        lps >= 600000 if lps else False)
    row("ingest, MB/s of raw text", "%.1f" % mbs if mbs else "–", "", "", None)
    row("peak RSS (VmHWM, ingest + queries)", "%.1f MiB" % (peak / 1024) if peak else "–", "", "≤ 150 MiB",
        peak / 1024 <= 150 if peak else None)
    if d_bytes is not None:
        row("bytes on disk per line (%s)" % disk.get("how", ""), "%.2f" % (d_bytes / N),
            "raw %.2f, zstd -3 %.2f" % (raw_b / N, z_b / N) if z_b else "raw %.2f" % (raw_b / N),
            "≤ zstd -3", d_bytes <= z_b if z_b else None)
        row("disk / raw", "%.4f (%.1f×)" % (d_bytes / raw_b, raw_b / d_bytes) if d_bytes else "–",
            "zstd -3: %.4f (%.1f×)" % (z_b / raw_b, raw_b / z_b) if z_b else "", "", None)
        row("disk / zstd -3", "%.3f" % (d_bytes / z_b) if z_b else "–", "", "≤ 1", d_bytes <= z_b if z_b else None)
    rr = refs.get("rare_raw", {}).get("median_s")
    for qid, title, ref, target in (
            ("selector", "`{job=\"varlogs\"}`, limit %d" % R.get("limit", 1000), None, None),
            ("rare", '`|= "%s"`, whole window' % meta["rare"], "rare_raw", "≤ ripgrep over raw"),
            ("regex", "`|~ \"%s\"`, whole window" % meta["regex"], "regex_raw", None),
            ("count_by_level", "`sum by (level) (count_over_time(…[1m]))`, step 1m", None, None)):
        q = Q.get(qid, {})
        v = fmt_s(q.get("median_s")) if q.get("ok") else "failed: %s" % (q.get("error") or "not run")[:120]
        h = Qh.get(qid, {})
        if h.get("ok") and h.get("median_s") is not None:
            v += " (as loaded: %s)" % fmt_s(h["median_s"])
        refv = ""
        if ref and ref in refs:
            refv = "rg %s; rg -z %s" % (fmt_s(refs[ref]["median_s"]), fmt_s(refs[ref.replace("raw", "zst")]["median_s"]))
        met = None
        if qid == "rare" and q.get("median_s") is not None and rr:
            met = q["median_s"] <= rr
        row("latency: " + title, v, refv, target or "", met)
        for ph, qq in (("after restart", q), ("as loaded", h)):
            if qq and not qq.get("ok"):
                R.setdefault("problems", []).append("query %s (%s) failed: %s" % (qid, ph, qq.get("error")))
    out.append("")
    notes = []
    if ok:
        r0 = ok[0]
        notes.append("Ingest: %d runs (%s lines/s each), each into a fresh data dir, by bench/logs_load (C): %d "
                     "senders, streams split among them so each stream arrives in time order, requests of ~%s line "
                     "bytes (protobuf + snappy, %.1f MB on the wire per run) encoded before the clock starts. Client "
                     "CPU %.2f cores during the push (median), pharosd %s cores%s." % (
                         len(ok), ", ".join("%.0f" % r["lines_per_s"] for r in ok), r0["threads"],
                         R.get("batch_bytes"), r0["wire_bytes"] / 1e6, ccpu or 0,
                         "%.2f" % scpu if scpu is not None else "?",
                         "; retries %s, failed lines %s" % (",".join(str(r["retries"]) for r in ingest),
                                                            ",".join(str(r["lines_failed"]) for r in ingest))))
    failed = [r for r in ingest if not r.get("lines_ok") or r.get("lines_failed")]
    for r in failed:
        notes.append("Ingest run failed or partial: %s" % json.dumps({k: r.get(k) for k in (
            "lines_ok", "lines_failed", "codes", "first_code", "first_error", "error")}))
    if d_bytes is not None:
        notes.append("Disk: %s. `du -sb` of <storage>/logs: %d bytes (%s); raw %d bytes; zstd -3 of each stream "
                     "file: %d bytes (all streams in one file: %s bytes); pharosd's metrics side not counted." % (
                         disk.get("how_long", disk.get("how", "")), d_bytes,
                         ", ".join("%s %d" % kv for kv in sorted((disk.get("parts") or {}).items())),
                         raw_b, z_b or 0, refs.get("zstd_combined_bytes", "?")))
    if disk.get("noflush"):
        pb = (disk.get("parts") or {}).get("blocks")
        notes.append("**No log flush:** %s; the bytes on disk above are mostly WAL%s." % (
            disk["noflush"], "; the blocks/ part alone is %d bytes (%.2f per line over all lines), covering only the "
            "part of the window pharosd had already cut" % (pb, pb / N) if pb else ""))
    if refs:
        notes.append("References: %s, %s; times are the median of %d runs on warm page cache (the files were just "
                     "written), as pharosd's are." % (refs.get("zstd_version", "zstd"), refs.get("rg_version", "rg"),
                                                     R.get("runs", 5)))
    cnt = []
    if "rare" in Q and Q["rare"].get("ok"):
        cnt.append("`|= rare`: pharosd returned %d lines (limit %d: Loki returns every match when there are fewer "
                   "than the limit), rg counts %s (raw) / %s (-z), prepare wrote %d" % (
                       Q["rare"].get("lines_returned", -1), R.get("limit", 1000),
                       refs.get("rare_raw", {}).get("count"), refs.get("rare_zst", {}).get("count"),
                       meta["rare_count"]))
    chk = (R.get("queries") or {}).get("checks", {})
    if "regex" in Q and Q["regex"].get("ok"):
        cnt.append("`|~`: %d lines returned (the newest %d matches when more match: Loki stops at the limit, "
                   "backward), `sum(count_over_time(…|~…))` over the window says %s, rg counts %s, prepare %d" % (
                       Q["regex"].get("lines_returned", -1), R.get("limit", 1000),
                       chk.get("regex_total", {}).get("value"), refs.get("regex_raw", {}).get("count"),
                       meta["regex_count"]))
    if "count_by_level" in Q and Q["count_by_level"].get("ok"):
        got = Q["count_by_level"].get("sum_by_level", {})
        cnt.append("`sum by (level)`: %d series, summed over all steps %s vs pushed %s" % (
            Q["count_by_level"].get("series", 0), json.dumps(got, sort_keys=True),
            json.dumps(meta["level_counts"], sort_keys=True)))
    agree = None
    if Q.get("rare", {}).get("ok") and refs:
        exp = meta["rare_count"]
        agree = (Q["rare"].get("lines_returned") == exp == refs["rare_raw"]["count"] == refs["rare_zst"]["count"]
                 and chk.get("rare_total", {}).get("value") in (exp, None))
        if Q.get("regex", {}).get("ok"):
            ok_rx = (chk.get("regex_total", {}).get("value") == meta["regex_count"] == refs["regex_raw"]["count"]
                     == refs["regex_zst"]["count"]
                     and Q["regex"].get("lines_returned") == min(meta["regex_count"], R.get("limit", 1000)))
            agree = agree and ok_rx
        if Q.get("count_by_level", {}).get("ok"):
            agree = agree and Q["count_by_level"].get("sum_by_level") == meta["level_counts"]
        if not agree:
            R.setdefault("problems", []).append("counts disagree: rare %s / checks %s / refs rare %s regex %s / "
                                                "expected rare %d regex %d" % (
                                                    Q["rare"].get("lines_returned"), json.dumps(chk),
                                                    refs["rare_raw"]["count"], refs["regex_raw"]["count"],
                                                    meta["rare_count"], meta["regex_count"]))
    if cnt:
        notes.append("Counts (%s): %s." % ("the answered ones agree" if agree else "**mismatch, see below**"
                                            if agree is False else "not checked", "; ".join(cnt)))
    notes.append("Latencies: median of %d runs after one warm-up run each, whole window, `direction=backward`, "
                 "limit %d, over HTTP on 127.0.0.1 (Python urllib, a new connection per request); ripgrep's times include its process start (~2 ms). Main "
                 "figures: after the store was flushed and pharosd restarted (%s); \"as loaded\": right after the "
                 "ingest, before the flush." % (R.get("runs", 5), R.get("limit", 1000), disk.get("how", "")))
    for p in R.get("problems", []):
        notes.append("**Problem:** " + p)
    for n in notes:
        out.append("- " + n)
    out.append("<!-- logs:end -->")
    section = "\n".join(out) + "\n"
    text = open(a.results).read() if os.path.exists(a.results) else ""
    m = re.search(r"^## Logs\n.*?(?=^## |\Z)", text, re.S | re.M)
    text = text[:m.start()] + section + "\n" + text[m.end():] if m else text.rstrip("\n") + "\n\n" + section
    open(a.results, "w").write(text.rstrip("\n") + "\n")
    print(section)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--out", required=True)
    p.add_argument("--lines", type=int, default=2_000_000)
    p.add_argument("--hosts", type=int, default=2)
    p.add_argument("--streams-min", type=int, default=24)
    p.add_argument("--span", type=float, default=7200)
    p.add_argument("--vary", choices=["numbers", "ts", "none"], default="numbers")
    p.add_argument("--rare", default="zqx7-rare-k9v")
    p.add_argument("--rare-lines", type=int, default=10)
    p.add_argument("--regex", default=r"Setting up (openssl|libssl|libkrb5)[0-9a-z.-]* ")
    p.add_argument("roots", nargs="*", default=["/var/log"])
    p = sub.add_parser("refs")
    p.add_argument("--dir", required=True)
    p.add_argument("--runs", type=int, default=5)
    p = sub.add_parser("query")
    p.add_argument("--dir", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--pid", type=int, default=0)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--limit", type=int, default=1000)
    p = sub.add_parser("report")
    p.add_argument("--records", required=True)
    p.add_argument("--results", required=True)
    a = ap.parse_args()
    return {"prepare": cmd_prepare, "refs": cmd_refs, "query": cmd_query, "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main() or 0)

# SPDX-License-Identifier: Apache-2.0
"""query_report.py: turn bench/query.sh's query.jsonl into the "Query latency"
section of bench/RESULTS.md, replacing the text between the
<!-- query-latency:begin --> and <!-- query-latency:end --> markers (or
appending it), so the ingest sections and any notes after the end marker stay.

Usage: query_report.py QUERY.jsonl WORKDIR "COMMAND" RESULTS.md

Per host count: one row per query and window with each system's median
latency, pharosd/VM and pharosd/Prometheus, whether the targets are met
(pharosd median <= VM's and <= 0.5x Prometheus'; compared unrounded), each
system's result size, and whether pharosd's and VM's answers equal
Prometheus' (same series, same timestamps, values within 1e-6 relative, with
1e-12 absolute allowed near zero). Then memory and CPU of the query phases,
the target counts, the mismatches in detail, and the raw timings.
"""
import datetime
import json
import math
import os
import platform
import re
import subprocess
import sys

REL_TOL, ABS_TOL = 1e-6, 1e-12
DPKG = "dpkg-query -W -f='${Version}' "
# (system, mode) columns, in order; the first pharosd one is the one the targets use
COLS = [("pharosd", "blocks"), ("pharosd", "head"), ("prometheus", "loaded"), ("vm", "flushed")]
LABEL = {("pharosd", "blocks"): "pharosd (blocks)", ("pharosd", "head"): "pharosd (head)",
         ("prometheus", "loaded"): "Prometheus", ("vm", "flushed"): "VM"}
BEGIN, END = "<!-- query-latency:begin -->", "<!-- query-latency:end -->"


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:
        return ""


def machine():
    cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip() or platform.processor()
    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
    return f"{os.cpu_count()} CPUs ({cpu}), {mem} RAM, {platform.system()} {platform.release()}"


def median(xs):
    xs = sorted(xs)
    if not xs:
        return None
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def fms(v):
    if v is None:
        return "–"
    if v < 10:
        return f"{v:.2f}"
    if v < 100:
        return f"{v:.1f}"
    return f"{v:,.0f}"


def fratio(r, lim=None):
    """Two decimals, more where two would print exactly the limit."""
    if r is None:
        return "–"
    s = f"{r:.2f}"
    if lim is not None and float(s) == lim and r != lim:
        s = f"{r:.4f}"
    return s


# ---- answer comparison ----------------------------------------------------

def load_body(work, sysmode, hosts, body):
    if not body:
        return None
    try:
        with open(os.path.join(work, "bodies", f"{sysmode[0]}-{sysmode[1]}-h{hosts}", body), "rb") as f:
            return json.loads(f.read())
    except (OSError, ValueError):
        return None


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def close(a, b):
    if a is None or b is None:
        return False
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    d = abs(a - b)
    return d <= ABS_TOL or d <= REL_TOL * max(abs(a), abs(b))


def key(metric):
    return tuple(sorted(metric.items()))


def fmt_labels(k):
    return "{" + ", ".join(f'{n}="{v}"' for n, v in k) + "}"


def compare(x, ref):
    """(equal, short text, detail) of answer x against the reference answer."""
    if x is None or ref is None:
        return None, "no answer", ""
    if x.get("status") != "success" or ref.get("status") != "success":
        return None, "n/a (error)", ""
    dx, dr = x.get("data"), ref.get("data")
    if isinstance(dr, list):  # labels, label values, series
        sx = {key(e) if isinstance(e, dict) else e for e in (dx or [])}
        sr = {key(e) if isinstance(e, dict) else e for e in dr}
        if sx == sr:
            return True, "equal", ""
        miss, extra = sr - sx, sx - sr
        ex = lambda s: ", ".join(sorted(fmt_labels(e) if isinstance(e, tuple) else str(e) for e in s)[:3])
        return False, f"{len(sx)} vs {len(sr)} entries ({len(miss)} missing, {len(extra)} extra)", \
            f"missing e.g. {ex(miss)}; extra e.g. {ex(extra)}"
    rx = {key(s["metric"]): s.get("values", []) for s in dx.get("result", [])}
    rr = {key(s["metric"]): s.get("values", []) for s in dr.get("result", [])}
    miss, extra = set(rr) - set(rx), set(rx) - set(rr)
    npts = bad = only = 0
    worst = None
    for k in set(rr) & set(rx):
        px = {float(t): v for t, v in rx[k]}
        pr = {float(t): v for t, v in rr[k]}
        for t in set(px) | set(pr):
            npts += 1
            if t not in px or t not in pr:
                only += 1
                if worst is None:
                    worst = (math.inf, k, t, px.get(t), pr.get(t))
                continue
            a, b = num(px[t]), num(pr[t])
            if not close(a, b):
                bad += 1
                rel = abs(a - b) / max(abs(a), abs(b)) if a is not None and b is not None and max(abs(a), abs(b)) else math.inf
                if worst is None or (rel > worst[0] and worst[0] != math.inf):
                    worst = (rel, k, t, px[t], pr[t])
    if not miss and not extra and not bad and not only:
        return True, "equal", ""
    parts = []
    if miss or extra:
        parts.append(f"series {len(rx)} vs {len(rr)}")
    if bad:
        parts.append(f"{bad:,} of {npts:,} values differ")
    if only:
        parts.append(f"{only:,} points on one side only")
    det = []
    if miss:
        det.append(f"missing e.g. {fmt_labels(sorted(miss)[0])}")
    if extra:
        det.append(f"extra e.g. {fmt_labels(sorted(extra)[0])}")
    if worst:
        rel = "only on one side" if worst[0] == math.inf else f"rel. diff {worst[0]:.2g}"
        det.append(f"worst {fmt_labels(worst[1])} @ {worst[2]:.0f}: {worst[3]} vs {worst[4]} ({rel})")
    return False, "; ".join(parts), "; ".join(det)


# ---- report ----------------------------------------------------------------

def section(recs, work, cmd, when):
    out = []
    w = out.append
    hosts = sorted({r["hosts"] for r in recs})
    off_s = next((r.get("offgrid_s") for r in recs if r.get("offgrid_s")), 0)
    w("## Query latency\n")
    w(f"- Date: {when.strftime('%Y-%m-%d %H:%M %Z')}; machine: {machine()}")
    try:
        rev, built, dirty = (open(os.path.join(work, "build.txt")).read().split("\n") + ["", "", ""])[:3]
    except OSError:
        rev, built, dirty = sh("git -C " + os.path.dirname(os.path.abspath(__file__)) + " rev-parse --short HEAD"), "?", ""
    w(f"- pharosd: git {rev}, built {built} (Release; working tree, "
      + (f"uncommitted outside bench/: `{dirty.strip()}`" if dirty.strip() else "clean outside bench/")
      + f"; the query engine is still being worked on); Prometheus "
      f"{sh(DPKG + 'prometheus')}; VictoriaMetrics {sh(DPKG + 'victoria-metrics')} (Debian packages)")
    one = next((r["load"] for r in recs if r.get("load")), {}) or {}
    sph = (one.get("series") or 0) // max(one.get("hosts", 0) or hosts[0], 1) if one.get("series") else None
    w(f"- Data: bench/rwload.c's workload as in the ingest benchmark (seed 42, 15 s grid, 4.5 h, "
      f"{one.get('series', '?')} series at the first H) plus `--histogram`: 14 more series per host "
      f"(`rwload_request_duration_seconds_bucket` with 12 `le` buckets, `_sum`, `_count`), since this "
      f"machine's node_exporter scrape has no histogram. The same data, ending at the same minute, is loaded "
      f"into each system in turn; each runs alone on 127.0.0.1 with a fresh data dir.")
    w("- States: **pharosd (blocks)** = after POST /api/v1/admin/tsdb/flush (everything in blocks) and a "
      "restart, so that the head phase's heap does not count in its RSS (the pharosd figures the targets use); "
      "**pharosd (head)** = measured first, as loaded: with the default 30 min block range, the data ending 4 "
      "min past a half hour and cuts 5 min behind the newest sample, the last 34 min are in the head, the rest "
      "in blocks; **Prometheus** = as loaded, once its head was cut into "
      "2h blocks (the rest stays in its head; spans in the state table); **VM** = after /internal/force_flush with "
      "merges settled, `nocache=1` on every request.")
    runs = next((r["runs"] for r in recs if r.get("runs")), 5)
    w(f"- Method: bench/query_run.py sends each request once as warm-up, then {runs} times, on one keep-alive "
      f"HTTP/1.1 connection (python http.client), timing request to last body byte; the figure is the median "
      f"of the {runs}. Range queries are POSTed to /api/v1/query_range, over the last hour at step 15 s (`1h`) "
      "and over the whole 4.5 h at step 60 s (`4.5h`); the metadata endpoints get start/end = the whole "
      "window. Every answer must be HTTP 200 with status success. Answers are compared with Prometheus' "
      f"(the warm-up's body): same series (label sets), same timestamps, values within {REL_TOL:g} relative "
      f"({ABS_TOL:g} absolute allowed near zero). Each range query is also asked once more (untimed) with "
      f"start and end moved {off_s:g} s off the 15 s sample grid: there a window closed on the left "
      f"(Prometheus 2.x, `[t - r, t]`) and one open on the left (Prometheus 3, `(t - r, t]`) select the same "
      f"samples, so an \"off-grid yes\" means the grid difference is only that boundary rule.")
    w("- Peak RSS of the query phase: VmHWM reset (`echo 5 > /proc/PID/clear_refs`) before each query's "
      "requests and read after them, the phase's peak being the largest; and, as a cross-check, the maximum of "
      "VmRSS sampled at 10 Hz over the phase.")
    w(f"- Reproduce: `{cmd}` (from the repo root; `--keep` keeps every answer and log in the temp dir)\n")

    w("Queries (each range query runs over both windows):\n")
    seen = set()
    for r in recs:
        for x in r.get("results", []):
            if x["id"] not in seen:
                seen.add(x["id"])
                w(f"- `{x['id']}`: `{x['query']}`" if x["path"].endswith("query_range") else
                  f"- `{x['id']}`: {x['path']}" + (f" with match[]=`{x['query']}`" if x["query"] else ""))
    w("\n`sum(count_over_time({__name__=~\".+\"}[5m]))` is not in the set: Prometheus 2.42 (and pharosd) "
      "answer it with the error \"vector cannot contain metrics with the same labelset\", as "
      "`count_over_time` drops the metric name; `count({__name__=~\".+\"})` touches every series instead. "
      "The disk regex includes `vd.*` because this machine's disks are virtio (`vda`).\n")
    by = {(r["system"], r.get("mode"), r["hosts"]): r for r in recs}
    for h in hosts:
        cols = [c for c in COLS if (c[0], c[1], h) in by and not by[(c[0], c[1], h)].get("error")]
        errs = [r for r in recs if r["hosts"] == h and r.get("error")]
        w(f"### H = {h} hosts\n")
        for r in errs:
            w(f"**{r['system']} failed:** {r['error']}\n")
        ph = ("pharosd", "blocks") if ("pharosd", "blocks") in cols else (("pharosd", "head") if ("pharosd", "head") in cols else None)
        pr = ("prometheus", "loaded") if ("prometheus", "loaded") in cols else None
        vm = ("vm", "flushed") if ("vm", "flushed") in cols else None
        res = {c: {(x["id"], x["window"]): x for x in by[(c[0], c[1], h)]["results"]} for c in cols}
        order = [(x["id"], x["window"]) for x in by[(cols[0][0], cols[0][1], h)]["results"]] if cols else []
        hdr = ["query", "window"] + [f"{LABEL[c]} ms" for c in cols]
        if ph and vm:
            hdr += ["pharosd/VM", "≤ VM"]
        if ph and pr:
            hdr += ["pharosd/Prom", "≤ 0.5× Prom"]
        hdr += ["series " + "/".join(LABEL[c].replace("pharosd ", "") for c in cols)]
        if pr:
            hdr += [f"{LABEL[c]} = Prom" for c in cols if c[0] != "prometheus"]
        w("| " + " | ".join(hdr) + " |")
        w("|" + "---|" * len(hdr))
        counts = {"vm": [0, 0], "prom": [0, 0], "vm_head": [0, 0], "prom_head": [0, 0]}
        mism = []
        grid = {c: [0, 0] for c in cols}  # [equal, different]
        offg = {c: [0, 0] for c in cols}
        for it in order:
            cells = [f"`{it[0]}`", it[1]]
            med = {}
            for c in cols:
                x = res[c].get(it)
                m = median(x["times_ms"]) if x else None
                med[c] = m if x and x["ok"] else None
                cells.append(fms(m) if x and x["ok"] else ("**error**" if x else "–"))

            def tgt(a, b, lim, slot):
                if a is None or b is None:
                    if b is not None or a is not None:
                        counts[slot][1] += 1
                    return "–", "n/a" if a is None and b is None else ("**no**" if a is None else "n/a")
                r = a / b
                ok = r <= lim
                counts[slot][0] += ok
                counts[slot][1] += 1
                return fratio(r, lim), "yes" if ok else "**no**"
            if ph and vm:
                cells += list(tgt(med[ph], med[vm], 1.0, "vm"))
                if ("pharosd", "head") in cols:
                    tgt(med[("pharosd", "head")], med[vm], 1.0, "vm_head")
            if ph and pr:
                cells += list(tgt(med[ph], med[pr], 0.5, "prom"))
                if ("pharosd", "head") in cols:
                    tgt(med[("pharosd", "head")], med[pr], 0.5, "prom_head")
            cells.append("/".join(str(res[c][it]["series"]) if it in res[c] and res[c][it]["series"] is not None else "–"
                                  for c in cols))
            if pr:
                ref = load_body(work, pr, h, res[pr].get(it, {}).get("body"))
                for c in cols:
                    if c[0] == "prometheus":
                        continue
                    body = load_body(work, c, h, res[c].get(it, {}).get("body"))
                    eq, short, det = compare(body, ref)
                    cell = "yes" if eq else (f"**no**: {short}" if eq is False else short)
                    if eq is False:
                        mism.append((LABEL[c], it, short, det))
                    ob = res[c].get(it, {}).get("offgrid_body")
                    if ob and res[pr].get(it, {}).get("offgrid_body"):
                        eq2, short2, det2 = compare(load_body(work, c, h, ob),
                                                    load_body(work, pr, h, res[pr][it]["offgrid_body"]))
                        cell += "; off-grid " + ("yes" if eq2 else (f"**no**: {short2}" if eq2 is False else short2))
                        if eq2 is False:
                            mism.append((LABEL[c], (it[0], it[1] + " off-grid"), short2, det2))
                        offg[c][0 if eq2 else 1] += 1
                    if eq is not None:
                        grid[c][0 if eq else 1] += 1
                    cells.append(cell)
            w("| " + " | ".join(cells) + " |")
        w("")

        # memory and CPU of the query phases
        w(f"#### Memory and CPU during the query phase, H = {h}\n")
        w("| | " + " | ".join(LABEL[c] for c in cols) + " |")
        w("|---|" + "---|" * len(cols))
        rows = [
            ("**peak RSS, VmHWM of the query phase (MiB)**",
             lambda r: f"{r['hwm_after_kb'] / 1024:.1f}" + ("" if r.get("hwm_reset") else " (not reset)") if r.get("hwm_after_kb") else "–"),
            ("max RSS sampled at 10 Hz (MiB)", lambda r: f"{r['rss_sampled_max_kb'] / 1024:.1f}" if r.get("rss_sampled_max_kb") else "–"),
            ("RSS before the first query (MiB)", lambda r: f"{r['rss_before_kb'] / 1024:.1f}" if r.get("rss_before_kb") else "–"),
            ("RSS after the last query (MiB)", lambda r: f"{r['rss_after_kb'] / 1024:.1f}" if r.get("rss_after_kb") else "–"),
            ("server CPU over the phase (s)", lambda r: f"{r['server_cpu_s']:.1f}"),
            ("phase wall time (s)", lambda r: f"{r['wall_s']:.1f}"),
            ("other processes' CPU during the phase (cores)", lambda r: f"{r['other_cpu_cores']:.2f}" if r.get("other_cpu_cores") is not None else "–"),
            ("connections opened (1 = keep-alive held)", lambda r: str(r.get("reconnects", 0) + 1)),
            ("data state", lambda r: state_text(r)),
        ]
        for label, f in rows:
            w(f"| {label} | " + " | ".join(f(by[(c[0], c[1], h)]) for c in cols) + " |")
        w("")

        # targets
        w(f"#### Targets at H = {h}\n")
        w("| target | met | |")
        w("|---|---|---|")
        if ph and vm:
            n, t = counts["vm"]
            w(f"| each query's median ≤ VM's (pharosd blocks) | {'**yes**' if n == t and t else '**no**'} | {n} of {t} |")
            if ("pharosd", "head") in cols:
                n2, t2 = counts["vm_head"]
                w(f"| same, pharosd (head) | {'yes' if n2 == t2 and t2 else 'no'} | {n2} of {t2} |")
        if ph and pr:
            n, t = counts["prom"]
            w(f"| each query's median ≤ 0.5× Prometheus' (pharosd blocks) | {'**yes**' if n == t and t else '**no**'} | {n} of {t} |")
            if ("pharosd", "head") in cols:
                n2, t2 = counts["prom_head"]
                w(f"| same, pharosd (head) | {'yes' if n2 == t2 and t2 else 'no'} | {n2} of {t2} |")
            a = by[(ph[0], ph[1], h)].get("hwm_after_kb")
            b = by[(pr[0], pr[1], h)].get("hwm_after_kb")
            if a and b:
                w(f"| peak RSS during queries ≤ Prometheus' (VmHWM of the phase) | {'**yes**' if a <= b else '**no**'} | "
                  f"{a / 1024:.1f} vs {b / 1024:.1f} MiB ({a / b:.2f}) |")
            a2 = by[(ph[0], ph[1], h)].get("rss_sampled_max_kb")
            b2 = by[(pr[0], pr[1], h)].get("rss_sampled_max_kb")
            if a2 and b2:
                w(f"| same, max of 10 Hz samples | {'yes' if a2 <= b2 else 'no'} | {a2 / 1024:.1f} vs {b2 / 1024:.1f} MiB ({a2 / b2:.2f}) |")
        if pr:
            for c in cols:
                if c[0] == "prometheus":
                    continue
                g, o = grid[c], offg[c]
                w(f"| {LABEL[c]}'s answers equal Prometheus' | {'**yes**' if not g[1] else '**no**'} | "
                  f"{g[1]} of {g[0] + g[1]} query/window pairs differ on the sample grid"
                  + (f"; {o[1]} of {o[0] + o[1]} range queries differ with start/end {off_s:g} s off the grid" if sum(o) else "")
                  + " |")
        w("")
        w(f"Queries that grew RSS most at H = {h} (VmHWM over that query's requests, reset before them, "
          f"minus the RSS when it started; in parentheses the VmHWM):\n")
        for c in cols:
            grow = lambda x: (x.get("hwm_kb") or 0) - (x.get("rss_start_kb") or 0)
            top = sorted(by[(c[0], c[1], h)]["results"], key=lambda x: -grow(x))[:4]
            w(f"- {LABEL[c]}: " + ", ".join(f"`{x['id']}` {x['window']} +{grow(x) / 1024:.0f} MiB "
                                            f"({x['hwm_kb'] / 1024:.0f})"
                                            for x in top if x.get("hwm_kb")))
        w("")
        if mism:
            w(f"<details><summary>answer differences from Prometheus at H = {h}</summary>\n")
            merged = {}
            for who, it, short, det in mism:  # one line where both pharosd states differ alike
                merged.setdefault((it, short, det), []).append(who)
            for (it, short, det), whos in merged.items():
                who = "pharosd (" + ", ".join(x[9:-1] for x in whos) + ")" if all(
                    x.startswith("pharosd (") for x in whos) else " and ".join(whos)
                w(f"- {who} `{it[0]}` {it[1]}: {short}. {det}")
            w("\n</details>\n")
        failed = [(LABEL[c], x) for c in cols for x in by[(c[0], c[1], h)]["results"] if not x["ok"]]
        if failed:
            w(f"Failed requests at H = {h}:\n")
            for who, x in failed:
                w(f"- {who} `{x['id']}` {x['window']}: {x['errors'][0][:300]}")
            w("")

    w("<details><summary>raw timings (ms: warm-up, then the timed runs)</summary>\n\n```")
    for r in recs:
        if r.get("error"):
            continue
        w(f"# {r['system']} {r['mode']} H={r['hosts']}")
        for x in r["results"]:
            w(f"{x['id']:24s} {x['window']:5s} {x.get('warmup_ms', 0):9.1f} | "
              + " ".join(f"{t:.1f}" for t in x["times_ms"]) + f" | series {x['series']} points {x['points']} bytes {x.get('bytes')}")
    w("```\n</details>")
    return "\n".join(out)


def state_text(r):
    s = r.get("state") or {}
    if r["system"] == "pharosd":
        mn, mx = s.get("pharos_tsdb_head_min_time_seconds"), s.get("pharos_tsdb_head_max_time_seconds")
        span = f"head {((mx - mn) / 60):.0f} min" if mn and mx and mx > mn else "head empty"
        return f"{int(s.get('pharos_tsdb_blocks', 0))} blocks, {span}, {int(s.get('pharos_tsdb_head_samples', 0)):,} samples in head"
    if r["system"] == "prometheus":
        mn, mx = s.get("prometheus_tsdb_head_min_time"), s.get("prometheus_tsdb_head_max_time")
        span = f"head {((mx - mn) / 60000):.0f} min" if mn and mx else "?"
        return f"{s.get('block_dirs', '?')} blocks, {span}"
    if r["system"] == "vm":
        parts = sum(v for k, v in s.items() if k.startswith("vm_parts"))
        return f"{parts:.0f} parts, active merges {sum(v for k, v in s.items() if k.startswith('vm_active_merges')):.0f}"
    return ""


def main():
    path, work, cmd, md = sys.argv[1:5]
    recs = [json.loads(l) for l in open(path) if l.strip()]
    when = datetime.datetime.fromtimestamp(os.path.getmtime(path)).astimezone()
    text = section(recs, work, cmd, when)
    try:
        old = open(md).read()
    except OSError:
        old = ""
    block = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in old and END in old:
        new = old[:old.index(BEGIN)] + block + old[old.index(END) + len(END):]
    else:
        new = old.rstrip("\n") + "\n\n" + block + "\n"
    with open(md, "w") as f:
        f.write(new)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

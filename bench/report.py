# SPDX-License-Identifier: Apache-2.0
"""report.py: turn bench/run.sh's results.jsonl into bench/RESULTS.md (stdout).

Usage: report.py RESULTS.jsonl WORKDIR "COMMAND" HOURS THREADS
One table per host count with each system's figures and the pharosd/VM and
pharosd/Prometheus ratios, then the targets and whether each is met, then
what each server counted as rejected, then the raw records.
"""
import datetime
import json
import os
import platform
import re
import subprocess
import sys

DPKG = "dpkg-query -W -f='${Version}' "
NAMES = {"pharosd": "pharosd", "prometheus": "Prometheus", "vm": "VictoriaMetrics"}


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:
        return ""


def machine():
    cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip() or platform.processor()
    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
    return f"{os.cpu_count()} CPUs ({cpu}), {mem} RAM, {platform.system()} {platform.release()}"


def metric_sum(path, regex, label_rx=None):
    total, found = 0.0, False
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                name = line.split("{", 1)[0].split(" ", 1)[0]
                if re.fullmatch(regex, name) and (label_rx is None or re.search(label_rx, line)):
                    try:
                        total += float(line.rsplit(" ", 1)[1])
                        found = True
                    except ValueError:
                        pass
    except OSError:
        return None
    return total if found else None


def log_problems(path):
    """Error and warning lines of a server log, minus the expected shutdown notice."""
    try:
        lines = open(path, errors="replace").read().splitlines()
    except OSError:
        return []
    rx = re.compile(r"level=(error|warn)|\b(ERROR|WARN|error|panic|FATAL)\b")
    return [l for l in lines if rx.search(l) and "Received SIGTERM" not in l]


def fmt(v, digits=2):
    if v is None:
        return "–"
    if isinstance(v, str):
        return v
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def figures(r):
    """Derived figures of one run record (None where not measured)."""
    f = {}
    load = r.get("load") or {}
    ok = load.get("samples_ok")
    f["samples_ok"] = ok
    f["samples_failed"] = load.get("samples_failed")
    f["wall_s"] = load.get("wall_s")
    f["ingest"] = load.get("samples_per_s")
    f["loader_cpu_pct"] = load.get("loader_cpu_pct")
    f["mean_req_ms"] = load.get("mean_req_ms")
    f["cpu_load_s"] = r.get("cpu_load_s")
    f["cpu_us_per_sample"] = (r["cpu_load_s"] / ok * 1e6) if r.get("cpu_load_s") is not None and ok else None
    f["hwm_mib"] = r["hwm_kb"] / 1024 if r.get("hwm_kb") else None
    f["rss_end_mib"] = r["rss_end_kb"] / 1024 if r.get("rss_end_kb") else None
    f["disk_mib"] = r["disk_bytes"] / 1048576 if r.get("disk_bytes") else None
    f["bps_dir"] = r["disk_bytes"] / ok if r.get("disk_bytes") and ok else None
    f["bps_blocks"] = (r["blocks_bytes"] / r["block_samples"]) if r.get("block_samples") else None
    # the compact-form figure: Prometheus' blocks, the whole dir for the others
    f["bps"] = f["bps_blocks"] if r["system"] == "prometheus" else f["bps_dir"]
    f["restart_s"] = r.get("restart_s")
    f["restart_hwm_mib"] = r["restart_hwm_kb"] / 1024 if r.get("restart_hwm_kb") else None
    f["stop_s"] = r.get("stop_s")
    f["compact_s"] = r.get("compact_s")
    f["stored"] = r.get("stored_samples")
    oc = r.get("other_cpu_s")
    f["other_cores"] = oc / f["wall_s"] if oc is not None and f["wall_s"] else None
    return f


ROWS = [
    ("samples_ok", "samples accepted", 0),
    ("samples_failed", "samples in failed requests", 0),
    ("wall_s", "send phase wall time (s)", 1),
    ("ingest", "**ingest (samples/s)**", 0),
    ("cpu_load_s", "server CPU during send (s)", 1),
    ("cpu_us_per_sample", "server CPU per sample (µs)", 2),
    ("hwm_mib", "**peak RSS, VmHWM after send (MiB)**", 1),
    ("rss_end_mib", "RSS at end of send (MiB)", 1),
    ("disk_mib", "data dir after compaction (MiB)", 1),
    ("bps", "**bytes/sample, compact form**", 3),
    ("bps_dir", "bytes/sample, whole data dir", 3),
    ("restart_s", "**restart to ready, WAL/head full (s)**", 2),
    ("restart_hwm_mib", "peak RSS during restart (MiB)", 1),
    ("stop_s", "graceful stop before restart (s)", 2),
    ("compact_s", "flush/compaction wait (s)", 1),
    ("loader_cpu_pct", "loader CPU (% of one core)", 0),
    ("other_cores", "other processes' CPU during send (cores)", 2),
    ("mean_req_ms", "mean request latency (ms)", 1),
]

TARGETS = [
    ("ingest", "ingest ≥ 1.5× VM", "vm", ">=", 1.5),
    ("bps", "bytes/sample ≤ 0.75× VM", "vm", "<=", 0.75),
    ("hwm_mib", "peak RSS ≤ 0.6× VM", "vm", "<=", 0.6),
    ("restart_s", "restart ≤ 0.5× Prometheus", "prometheus", "<=", 0.5),
]


def main():
    path, work, cmd, hours, threads = sys.argv[1:6]
    recs = [json.loads(l) for l in open(path) if l.strip()]
    hosts = sorted({r["hosts"] for r in recs})
    systems = [s for s in ("pharosd", "prometheus", "vm") if any(r["system"] == s for r in recs)]
    out = []
    w = out.append
    w("# Pharos ingest benchmark: pharosd vs Prometheus vs VictoriaMetrics\n")
    w(f"- Date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}")
    w(f"- Machine: {machine()}")
    w(f"- pharosd: git {sh('git -C ' + os.path.dirname(os.path.abspath(__file__)) + ' rev-parse --short HEAD')}"
      f" (Release, no sanitizers; working tree as of the run); "
      f"Prometheus {sh(DPKG + 'prometheus')}; VictoriaMetrics {sh(DPKG + 'victoria-metrics')}; "
      f"node_exporter {sh(DPKG + 'prometheus-node-exporter')} (Debian packages)")
    one = next((r["load"] for r in recs if r.get("load")), {})
    w(f"- Workload (bench/rwload.c): this machine's node_exporter scrape, {one.get('series_per_host', '?')} series per "
      f"host, replicated over H hosts (instance label per host), {hours} h of data on the exact 15 s grid "
      f"({one.get('steps', '?')} timestamps, ending before now), sent in time order as fast as accepted over "
      f"{threads} connections, ~4000 samples per request (all series of a group of hosts at one timestamp), "
      f"snappy protobuf remote-write 1.0, seed 42. Counters grow by random increments around their real rate, "
      f"gauges random-walk on their original decimal grid, static gauges stay constant.")
    w("- All three servers and the loader share the same cores, one server at a time, loopback only; each run "
      "starts from an empty data dir.")
    w(f"- Reproduce: `{cmd}` (from the repo root; add `--keep` to keep logs and /metrics dumps)")
    w("- Query latency (same workload, PromQL range queries and metadata endpoints): the section "
      "[Query latency](#query-latency) below, reproduced by `bench/query.sh`\n")
    w("Definitions: ingest = accepted samples / wall time of the send phase. Peak RSS = VmHWM of the server "
      "after the send phase. CPU = utime+stime of the server during the send phase. Bytes/sample in compact form: "
      "pharosd = `du -sb` of its data dir after POST /api/v1/admin/tsdb/flush, divided by samples accepted; "
      "Prometheus = size of its 2h blocks / samples in those blocks (meta.json), once the head was cut (it cuts "
      "only while the head spans > 3h, so part of the data stays in head + WAL, counted in the whole-dir row); "
      "VictoriaMetrics = `du -sb` after /internal/force_flush and /internal/force_merge with merges settled. "
      "Restart (largest H only) = process start to /-/ready (VM: /health) after a graceful stop right after the "
      "load, i.e. with the WAL/head full and before any flush.\n")

    by = {(r["system"], r["hosts"]): r for r in recs}
    for h in hosts:
        w(f"## H = {h} hosts\n")
        figs = {s: figures(by[(s, h)]) if (s, h) in by else {} for s in systems}
        hdr = "| | " + " | ".join(NAMES[s] for s in systems)
        if "pharosd" in systems and "vm" in systems:
            hdr += " | pharosd/VM"
        if "pharosd" in systems and "prometheus" in systems:
            hdr += " | pharosd/Prometheus"
        w(hdr + " |")
        w("|" + "---|" * (hdr.count("|")))
        for key, label, dg in ROWS:
            vals = [figs[s].get(key) for s in systems]
            if all(v is None for v in vals):
                continue
            row = f"| {label} | " + " | ".join(fmt(v, dg) for v in vals)
            if "pharosd" in systems and "vm" in systems:
                row += " | " + fmt(ratio(figs["pharosd"].get(key), figs["vm"].get(key)), 2)
            if "pharosd" in systems and "prometheus" in systems:
                pk = figs["prometheus"].get(key)
                row += " | " + fmt(ratio(figs["pharosd"].get(key), pk), 2)
            w(row + " |")
        pr = figs.get("prometheus", {})
        if pr.get("bps_blocks") is not None:
            w(f"\nPrometheus blocks hold {by[('prometheus', h)].get('block_samples'):,} of "
              f"{pr.get('samples_ok'):,} samples; the rest is in its head and WAL.")
        for s in systems:
            r = by.get((s, h))
            if r and r.get("error"):
                w(f"\n**{NAMES[s]} failed:** {r['error']}")
        w("")

        if "pharosd" in systems:
            w(f"### Targets at H = {h}\n")
            w("| target | pharosd | reference | ratio | met |")
            w("|---|---|---|---|---|")
            for key, label, ref, op, lim in TARGETS:
                if ref not in systems:
                    continue
                a, b = figs["pharosd"].get(key), figs[ref].get(key)
                rt = ratio(a, b)
                if rt is None:
                    met = "not measured" if key != "restart_s" or a is not None or b is not None else "n/a (restart measured at the largest H only)"
                else:
                    met = "**yes**" if (rt >= lim if op == ">=" else rt <= lim) else "**no**"
                w(f"| {label} | {fmt(a, 3)} | {fmt(b, 3)} ({NAMES[ref]}) | {fmt(rt, 2)} | {met} |")
            w("")

    w("## What each server reported\n")
    for r in recs:
        tag = f"{r['system']}-h{r['hosts']}"
        final = os.path.join(work, f"{tag}.metrics-final.txt")
        after = os.path.join(work, f"{tag}.metrics-after-load.txt")
        bits = []
        load = r.get("load") or {}
        if load:
            bits.append(f"loader: {load.get('requests', 0):,} requests, {load.get('requests_failed', 0)} failed, "
                        f"{load.get('retries', 0)} retries, codes {json.dumps(load.get('codes'))}"
                        + (f", first error {load.get('first_error_code')} `{load.get('first_error')[:200]}`"
                           if load.get("first_error") else ""))
        if r["system"] == "pharosd":
            for name, rx in [("samples appended", "pharos_tsdb_samples_appended_total"),
                             ("samples rejected", "pharos_tsdb_samples_rejected_total"),
                             ("series rejected", "pharos_remote_write_series_rejected_total"),
                             ("series", "pharos_tsdb_series"), ("blocks", "pharos_tsdb_blocks"),
                             ("compactions failed", "pharos_tsdb_compactions_failed_total")]:
                v = metric_sum(after, rx)
                if v is not None:
                    bits.append(f"{name} {v:,.0f}")
        elif r["system"] == "prometheus":
            for name, rx in [("samples appended", "prometheus_tsdb_head_samples_appended_total"),
                             ("out-of-bound", "prometheus_tsdb_out_of_bound_samples_total"),
                             ("out-of-order", "prometheus_tsdb_out_of_order_samples_total"),
                             ("too-old", "prometheus_tsdb_too_old_samples_total"),
                             ("head series", "prometheus_tsdb_head_series"),
                             ("compactions failed", "prometheus_tsdb_compactions_failed_total")]:
                v = metric_sum(after, rx)
                if v is not None:
                    bits.append(f"{name} {v:,.0f}")
        elif r["system"] == "vm":
            for name, rx in [("rows inserted", "vm_rows_inserted_total"), ("rows ignored", "vm_rows_ignored_total"),
                             ("rows stored (final)", "vm_rows")]:
                v = metric_sum(final if name.endswith("(final)") else after, rx,
                               'type="storage/' if rx == "vm_rows" else None)
                if v is not None:
                    bits.append(f"{name} {v:,.0f}")
        if r.get("du"):
            bits.append(f"data dir: {r['du'].strip()}")
        errs = log_problems(os.path.join(work, f"{tag}.server.log"))
        if errs:
            bits.append(f"{len(errs)} error/warn lines in its log, first: `{errs[0][:300]}`")
        if r.get("note"):
            bits.append(f"note: {r['note']}")
        if r.get("error"):
            bits.append(f"error: {r['error']}")
        w(f"- **{NAMES[r['system']]} H={r['hosts']}**: " + "; ".join(bits))
    w("\n<details><summary>raw records</summary>\n\n```json")
    for r in recs:
        w(json.dumps(r, sort_keys=True))
    w("```\n</details>")
    print("\n".join(out))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The measuring and reporting half of bench/rules.sh (standard library only).

rules_run.py measure --url URL --pid PID --system NAME --interval-s S --cycles N
                     --groups G --out FILE
    Waits until all G groups named bench-NNN (the rule_group label
    "<file>;bench-NNN" of prometheus_rule_group_* in URL/metrics) have run
    twice, resets the server's VmHWM (/proc/PID/clear_refs), then every S
    seconds, N times, reads /metrics and records the sum over the groups of
    prometheus_rule_group_last_duration_seconds (one evaluation of every
    group: the time per cycle) and of
    prometheus_rule_group_last_evaluation_samples. Then VmHWM, VmRSS, CPU
    time used, iterations (run and missed) and rule evaluation failures
    over the phase, and what the rules produced: count by (__name__,
    alertstate) of {bench="rules"} (the recordings and ALERTS) through
    /api/v1/query, and the health of the rules in /api/v1/rules. One JSON
    object to FILE.

rules_run.py report --results FILE.jsonl --cmdline CMD --rev REV --meta META.json
                    --out RESULTS.md
    Writes or replaces the section between <!-- rules:begin --> and
    <!-- rules:end --> of RESULTS.md (appended, with its heading, when
    absent), keeping everything else.
"""
import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
import urllib.parse
import urllib.request

GROUP_RE = re.compile(r'rule_group="[^"]*;(bench-\d+)"')


def get(url, timeout=30):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def metrics(url):
    """{metric: {group: value}} for the bench groups' prometheus_rule_* series,
    and {metric: total} for the others we read."""
    per_group, totals = {}, {}
    for line in get(url + "/metrics").splitlines():
        if not line or line.startswith("#"):
            continue
        name = re.split(r"[{ ]", line, 1)[0]
        if not name.startswith("prometheus_rule"):
            continue
        try:
            v = float(line.rsplit(" ", 1)[1])
        except ValueError:
            continue
        m = GROUP_RE.search(line)
        if m:
            per_group.setdefault(name, {})[m.group(1)] = v
        totals[name] = totals.get(name, 0.0) + v
    return per_group, totals


def proc_status(pid, key):
    for line in open("/proc/%d/status" % pid):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def cpu_s(pid):
    f = open("/proc/%d/stat" % pid).read()
    f = f[f.rindex(")") + 2:].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def busy_s():
    """CPU seconds the whole machine used so far (not idle/iowait)."""
    f = open("/proc/stat").readline().split()
    v = [int(x) for x in f[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / os.sysconf("SC_CLK_TCK")


def query(url, q):
    u = url + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
    try:
        d = json.loads(get(u, 60))
    except Exception as e:  # noqa: BLE001 - reported, not fatal
        return {"error": str(e)}
    if d.get("status") != "success":
        return {"error": d.get("error", "?")}
    out = {}
    for s in d["data"]["result"]:
        k = s["metric"].get("__name__", "") + ("/" + s["metric"]["alertstate"] if "alertstate" in s["metric"] else "")
        out[k] = float(s["value"][1])
    return out


def rules_health(url):
    try:
        d = json.loads(get(url + "/api/v1/rules", 60))
    except Exception as e:  # noqa: BLE001
        return {"error": str(e)}
    health, errors = {}, []
    for g in d.get("data", {}).get("groups", []):
        if not g.get("name", "").startswith("bench-"):
            continue
        for r in g.get("rules", []):
            h = r.get("health", "?")
            health[h] = health.get(h, 0) + 1
            if r.get("lastError") and len(errors) < 5:
                errors.append("%s: %s" % (r.get("name"), r["lastError"]))
    return {"health": health, "errors": errors}


def measure(a):
    url, pid = a.url.rstrip("/"), a.pid
    deadline = time.time() + 10 * a.interval_s + 120
    while True:
        pg, _ = metrics(url)
        it = pg.get("prometheus_rule_group_iterations_total", {})
        if len(it) >= a.groups and min(it.values()) >= 2:
            break
        if time.time() > deadline:
            sys.exit("rules_run: only %d of %d groups ran twice within %.0f s" %
                     (sum(1 for v in it.values() if v >= 2), a.groups, 10 * a.interval_s + 120))
        time.sleep(0.5)
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        hwm_reset = True
    except OSError:
        hwm_reset = False
    pg0, tot0 = metrics(url)
    cpu0, t0, busy0 = cpu_s(pid), time.time(), busy_s()
    cycles = []
    for _ in range(a.cycles):
        time.sleep(a.interval_s)
        pg, _ = metrics(url)
        d = pg.get("prometheus_rule_group_last_duration_seconds", {})
        s = pg.get("prometheus_rule_group_last_evaluation_samples", {})
        cycles.append({"duration_s": sum(d.values()), "groups": len(d), "samples": sum(s.values()),
                       "max_group_s": max(d.values()) if d else 0})
    cpu1, t1, busy1 = cpu_s(pid), time.time(), busy_s()
    pg1, tot1 = metrics(url)

    def delta(name):
        return sum(pg1.get(name, {}).values()) - sum(pg0.get(name, {}).values())

    rec = {
        "system": a.system, "interval_s": a.interval_s, "cycles": cycles,
        "wall_s": t1 - t0, "cpu_s": cpu1 - cpu0, "hwm_kb": proc_status(pid, "VmHWM"),
        "other_cores": max(0.0, (busy1 - busy0) - (cpu1 - cpu0)) / (t1 - t0),
        "rss_kb": proc_status(pid, "VmRSS"), "hwm_reset": hwm_reset,
        "iterations": delta("prometheus_rule_group_iterations_total"),
        "missed": delta("prometheus_rule_group_iterations_missed_total"),
        "failures": tot1.get("prometheus_rule_evaluation_failures_total", 0) -
        tot0.get("prometheus_rule_evaluation_failures_total", 0),
        "produced": query(url, 'count by (__name__, alertstate) ({bench="rules"})'),
        "rules": rules_health(url),
    }
    with open(a.out, "w") as f:
        json.dump(rec, f)
    print(json.dumps({k: rec[k] for k in ("system", "cpu_s", "hwm_kb", "iterations", "missed", "failures")}))


def fmt(v, unit=""):
    if v is None:
        return "–"
    if isinstance(v, str):
        return v
    if isinstance(v, float):
        return ("%.1f" % v if abs(v) >= 100 else "%.2f" % v if abs(v) >= 1 else "%.3f" % v) + unit
    return "{:,}".format(v) + unit


def ratio(x, y):
    return "%.2f" % (x / y) if x is not None and y else "–"


def report(a):
    recs = {}
    for line in open(a.results):
        if line.strip():
            r = json.loads(line)
            recs[r["system"]] = r
    meta = json.load(open(a.meta))
    ph, pr = recs.get("pharosd"), recs.get("prometheus")

    def fig(r, f):
        if not r or r.get("error"):
            return None
        return f(r)

    med = lambda r: statistics.median(c["duration_s"] for c in r["cycles"]) * 1000  # noqa: E731
    mx = lambda r: max(c["duration_s"] for c in r["cycles"]) * 1000  # noqa: E731
    rows = [
        ("**rule evaluation time per cycle, ms** (sum over the groups of `prometheus_rule_group_last_duration_seconds`, median)", med),
        ("same, slowest cycle, ms", mx),
        ("**server CPU per cycle, ms** (utime+stime over the phase / cycles)", lambda r: r["cpu_s"] * 1000 * r["interval_s"] / r["wall_s"]),
        ("samples written per cycle (`prometheus_rule_group_last_evaluation_samples`, summed)", lambda r: int(statistics.median(c["samples"] for c in r["cycles"]))),
        ("**peak RSS during evaluation, MiB** (VmHWM, reset when the rules started)", lambda r: r["hwm_kb"] / 1024),
        ("RSS after the load, before the rules, MiB", lambda r: r.get("rss_before_kb", 0) / 1024),
        ("RSS at the end, MiB", lambda r: r["rss_kb"] / 1024),
        ("group iterations in the phase (missed)", lambda r: "%d (%d)" % (r["iterations"], r["missed"])),
        ("rule evaluation failures in the phase", lambda r: int(r["failures"])),
        ("other processes' CPU during the phase, cores (this measurement's reads included)", lambda r: r.get("other_cores")),
        ("rules with health ok / total", lambda r: "%d / %d" % (r["rules"].get("health", {}).get("ok", 0), sum(r["rules"].get("health", {}).values()))),
    ]
    out = []
    out.append("`%s` at %s (Release build), %s." % (a.cmdline, a.rev, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())))
    out.append("")
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    out.append("Machine: %s, %d cores, Linux %s; one server at a time on 127.0.0.1, the other engineers' "
               "processes share the cores. Prometheus %s.%s" % (cpu, os.cpu_count(), platform.release(),
                                                                meta.get("prometheus_version", "?"),
                                                                " Working tree differs from the commit outside bench/." if meta.get("dirty") else ""))
    out.append("")
    out.append("Workload: %(rules)d rules (%(recording)d recording, %(alerting)d alerting) in %(groups)d groups of "
               "%(per_group)d over %(files)d files, written by bench/rules_gen.py from the store benchmark's series "
               "(bench/rwload.c: this machine's node_exporter scrape, %(series_per_host)s series per host, plus one "
               "classic histogram family, H = %(hosts)d hosts, %(series)s series): per-host and fleet `rate` sums, "
               "ratios of rates, `histogram_quantile` over `rate(..._bucket[5m])`, `increase[1h]`, gauge rollups; "
               "threshold alerts with `for` 0s to 10m, one in ten passing for every series. Data: %(hours)s h on the "
               "15 s grid (%(samples)s samples) ending %(ahead)d s after the load started, so every 5 m and 1 h "
               "window is full while the rules run; sent by remote write to both (Prometheus with "
               "`--web.enable-remote-write-receiver`). Then the rule files are put in place and both reload (SIGHUP); "
               "each evaluates them every %(interval)s (Prometheus: `global.evaluation_interval`; pharosd: "
               "`rules.evaluation-interval`); once every group ran twice, %(cycles)d cycles are measured." % meta)
    out.append("")
    out.append("| figure | pharosd | Prometheus | pharosd/Prometheus |")
    out.append("|---|---|---|---|")
    for label, f in rows:
        x, y = fig(ph, f), fig(pr, f)
        r = ratio(x, y) if isinstance(x, (int, float)) and isinstance(y, (int, float)) else "–"
        out.append("| %s | %s | %s | %s |" % (label, fmt(x), fmt(y), r))
    out.append("")
    for name, r in (("pharosd", ph), ("Prometheus", pr)):
        if not r:
            out.append("- %s: not run." % name)
        elif r.get("error"):
            out.append("- %s: %s" % (name, r["error"]))
        else:
            out.append("- %s, per cycle (ms): %s." % (name, ", ".join("%.1f" % (c["duration_s"] * 1000) for c in r["cycles"])))
            if r["rules"].get("errors"):
                out.append("  Rule errors: %s" % "; ".join(r["rules"]["errors"]))
    if ph and pr and not ph.get("error") and not pr.get("error"):
        a1, a2 = ph["produced"], pr["produced"]
        if a1 == a2:
            out.append("- Output: the same on both, name by name (`count by (__name__, alertstate) ({bench=\"rules\"})` "
                       "at the end: %d recorded names with %d series; ALERTS %d firing, %d pending; %d ALERTS_FOR_STATE)."
                       % (sum(1 for k in a1 if k.startswith("bench:")),
                          int(sum(v for k, v in a1.items() if k.startswith("bench:"))), a1.get("ALERTS/firing", 0),
                          a1.get("ALERTS/pending", 0), a1.get("ALERTS_FOR_STATE", 0)))
        else:
            diff = sorted(k for k in set(a1) | set(a2) if a1.get(k) != a2.get(k))
            out.append("- Output differs (`count by (__name__, alertstate) ({bench=\"rules\"})`), %d keys: %s" % (
                len(diff), "; ".join("%s pharosd %s Prometheus %s" % (k, a1.get(k), a2.get(k)) for k in diff[:8])))
    out.append("- Evaluation time per cycle is what each server reports for its own groups (each group's last "
               "evaluation, summed). Prometheus evaluates its groups concurrently (a goroutine per group), pharosd "
               "one after the other on one thread, so on 2 shared cores Prometheus' per-group durations also count "
               "waiting for a core (its outlier cycles); CPU per cycle does not depend on that. It is measured from "
               "outside (/proc) over the whole phase, so it also counts the /metrics and API requests of the "
               "measurement. No samples are ingested during the phase.")
    section = "\n".join(out) + "\n"
    path = a.out
    text = open(path).read() if os.path.exists(path) else ""
    begin, end = "<!-- rules:begin -->", "<!-- rules:end -->"
    if begin in text and end in text:
        text = text[:text.index(begin) + len(begin)] + "\n" + section + text[text.index(end):]
    else:
        text = text.rstrip("\n") + "\n\n## Rule evaluation\n\n" + begin + "\n" + section + end + "\n"
    open(path, "w").write(text)
    sys.stdout.write(section)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--url", required=True)
    m.add_argument("--pid", type=int, required=True)
    m.add_argument("--system", required=True)
    m.add_argument("--interval-s", type=float, required=True)
    m.add_argument("--cycles", type=int, default=8)
    m.add_argument("--groups", type=int, required=True)
    m.add_argument("--out", required=True)
    r = sub.add_parser("report")
    r.add_argument("--results", required=True)
    r.add_argument("--cmdline", required=True)
    r.add_argument("--rev", required=True)
    r.add_argument("--meta", required=True)
    r.add_argument("--out", required=True)
    a = ap.parse_args()
    measure(a) if a.cmd == "measure" else report(a)


if __name__ == "__main__":
    main()

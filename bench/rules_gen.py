#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write the rule files of the rules benchmark (bench/rules.sh).

Usage: rules_gen.py --source node.prom --out DIR [--rules 500] [--per-group 10]
                    [--groups-per-file 10] [--seed 42]

The rules are over the store benchmark's series: bench/rwload.c replays one
node_exporter scrape (--source, the same file) as H hosts with
instance="host-NNNN", job="node", plus, with --histogram, the classic
histogram rwload_request_duration_seconds_bucket/_sum/_count. A realistic
mix, in a fixed rotation so every run (and both servers) get the same
files, 60% recording rules and 40% alerting rules:

  recording   sum by (instance) (rate(C[5m]))             per-host rates
              sum by (job) (rate(C[5m]))                  fleet rates
              sum by (instance) (rate(C1[5m])) / sum by (instance) (rate(C2[5m]))   ratios
              histogram_quantile(q, sum by (le, instance) (rate(h_bucket[5m])))     latency
              sum by (instance) (increase(C[1h]))          hourly totals (long range)
              avg by (instance) (G), max by (job) (G)      gauge rollups
  alerting    G > t, sum by (instance) (rate(C[5m])) > t, G1 / G2 < t,
              histogram_quantile(0.99, ...) > t, with for: 0s, 1m, 5m or 10m

C are counters (# TYPE counter), G gauges with a non-constant value. One
alerting rule in ten has a threshold every series passes (so pharosd and
Prometheus both hold pending and firing alerts, and write ALERTS); the
others a threshold none does. Files: DIR/rules-NN.yml, --groups-per-file
groups of --per-group rules each; group names bench-NNN. Prints a JSON
summary (counts by kind) on stdout.
"""
import argparse
import json
import os
import random
import re
import sys


def families(path):
    """{name: type} of the scrape's families with at least one series."""
    types, seen = {}, set()
    for line in open(path):
        if line.startswith("# TYPE "):
            parts = line.split()
            if len(parts) >= 4:
                types[parts[2]] = parts[3]
        elif line.strip() and not line.startswith("#"):
            seen.add(re.split(r"[{ ]", line, 1)[0])
    return {n: t for n, t in types.items() if n in seen}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rules", type=int, default=500)
    ap.add_argument("--per-group", type=int, default=10)
    ap.add_argument("--groups-per-file", type=int, default=10)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    fam = families(a.source)
    counters = sorted(n for n, t in fam.items() if t == "counter")
    gauges = sorted(n for n, t in fam.items() if t == "gauge" and not n.endswith("_info"))
    if len(counters) < 2 or len(gauges) < 2:
        sys.exit("rules_gen: the scrape has too few counters or gauges")
    hist = "rwload_request_duration_seconds_bucket"
    ci = gi = 0

    def counter():
        nonlocal ci
        ci += 1
        return counters[(ci - 1) % len(counters)]

    def gauge():
        nonlocal gi
        gi += 1
        return gauges[(gi - 1) % len(gauges)]

    def short(name):
        return re.sub(r"_total$", "", name)

    recording = [
        ("rate_by_instance", lambda: (lambda c: ("instance:%s:rate5m" % short(c),
                                                 "sum by (instance) (rate(%s[5m]))" % c))(counter())),
        ("rate_by_job", lambda: (lambda c: ("job:%s:rate5m" % short(c), "sum by (job) (rate(%s[5m]))" % c))(counter())),
        ("ratio", lambda: (lambda c1, c2: ("instance:%s_per_%s:ratio_rate5m" % (short(c1), short(c2)),
                                           "sum by (instance) (rate(%s[5m])) / sum by (instance) (rate(%s[5m]))"
                                           % (c1, c2)))(counter(), counter())),
        ("quantile", lambda: (lambda q: ("instance:rwload_request_duration_seconds:p%s" % str(q).replace("0.", ""),
                                         "histogram_quantile(%s, sum by (le, instance) (rate(%s[5m])))" % (q, hist)))(
            rnd.choice([0.5, 0.9, 0.99]))),
        ("increase_1h", lambda: (lambda c: ("instance:%s:increase1h" % short(c),
                                            "sum by (instance) (increase(%s[1h]))" % c))(counter())),
        ("avg_gauge", lambda: (lambda g: ("instance:%s:avg" % g, "avg by (instance) (%s)" % g))(gauge())),
        ("max_gauge", lambda: (lambda g: ("job:%s:max" % g, "max by (job) (%s)" % g))(gauge())),
    ]
    # weights of the recording kinds (sum 20)
    rec_weights = [5, 3, 3, 3, 1, 3, 2]

    def alert(fires):
        k = rnd.randrange(4)
        if k == 0:
            g = gauge()
            expr = "%s > %s" % (g, "-1e300" if fires else "1e300")
        elif k == 1:
            c = counter()
            expr = "sum by (instance) (rate(%s[5m])) > %s" % (c, "-1" if fires else "1e300")
        elif k == 2:
            g1, g2 = gauge(), gauge()
            # on (instance, job): both sides may have other labels
            expr = "max by (instance, job) (%s) / on (instance, job) (max by (instance, job) (%s) + 1) < %s" % (
                g1, g2, "1e300" if fires else "-1e300")
        else:
            expr = "histogram_quantile(0.99, sum by (le, instance) (rate(%s[5m]))) > %s" % (
                hist, "-1" if fires else "1e300")
        return expr

    rules = []
    nrec = a.rules * 6 // 10
    kinds = {}
    for i in range(a.rules):
        if i % 5 in (1, 3) and len([r for r in rules if "alert" in r]) < a.rules - nrec:
            fires = (len([r for r in rules if "alert" in r]) % 10) == 0
            n = len([r for r in rules if "alert" in r])
            r = {"alert": "BenchAlert%03d" % n, "expr": alert(fires),
                 "for": rnd.choice(["0s", "1m", "5m", "10m"]),
                 "labels": {"severity": rnd.choice(["page", "ticket"]), "bench": "rules"},
                 "annotations": {"summary": "{{ $labels.instance }} value {{ $value }}"}}
            kinds["alert_fires" if fires else "alert_quiet"] = kinds.get("alert_fires" if fires else "alert_quiet", 0) + 1
        else:
            k = rnd.choices(range(len(recording)), weights=rec_weights)[0]
            name, expr = recording[k][1]()
            r = {"record": "bench:%s" % name, "expr": expr, "labels": {"bench": "rules", "rule": "r%03d" % i}}
            kinds[recording[k][0]] = kinds.get(recording[k][0], 0) + 1
        rules.append(r)

    os.makedirs(a.out, exist_ok=True)
    groups = [rules[i:i + a.per_group] for i in range(0, len(rules), a.per_group)]
    files = [groups[i:i + a.groups_per_file] for i in range(0, len(groups), a.groups_per_file)]
    gno = 0
    for fi, fgroups in enumerate(files):
        with open(os.path.join(a.out, "rules-%02d.yml" % fi), "w") as f:
            f.write("# bench/rules_gen.py --rules %d --seed %d: generated, do not edit\ngroups:\n" % (a.rules, a.seed))
            for g in fgroups:
                f.write("  - name: bench-%03d\n    rules:\n" % gno)
                gno += 1
                for r in g:
                    if "record" in r:
                        f.write("      - record: %s\n" % r["record"])
                    else:
                        f.write("      - alert: %s\n" % r["alert"])
                    f.write("        expr: %s\n" % json.dumps(r["expr"]))
                    if "for" in r:
                        f.write("        for: %s\n" % r["for"])
                    for key in ("labels", "annotations"):
                        if key in r:
                            f.write("        %s:\n" % key)
                            for k, v in sorted(r[key].items()):
                                f.write("          %s: %s\n" % (k, json.dumps(v)))
    json.dump({"rules": len(rules), "recording": sum(1 for r in rules if "record" in r),
               "alerting": sum(1 for r in rules if "alert" in r), "groups": gno, "files": len(files),
               "kinds": kinds, "counters": len(counters), "gauges": len(gauges)}, sys.stdout)
    print()


if __name__ == "__main__":
    main()

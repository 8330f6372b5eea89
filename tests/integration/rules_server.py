# SPDX-License-Identifier: Apache-2.0
"""rules_server.py: compare pharosd's rule evaluation with Prometheus 2.42's.

Subcommands (called by rules_server.sh):
  data NOW_MS                 print rwsend lines for the test data around NOW_MS
  compare PROM PHAROS [--expect-group NAME]...
                              compare /api/v1/rules, /api/v1/alerts and the
                              series the rules wrote, after normalising what
                              must differ (evaluation times and durations,
                              activeAt instants)
  wait-firing URL ALERTNAME N wait until URL lists N firing alerts of ALERTNAME

Documented differences (pharosd answers as Prometheus 3 does):
  - a recording rule without labels shows "labels": {} (2.42 omits the key).
"""
import json
import sys
import time
import urllib.parse
import urllib.request

DATA = [
    ('up{job="node",instance="a:9100"}', 1),
    ('up{job="node",instance="b:9100"}', 0),
    ('up{job="api",instance="c:80"}', 0),
    ('up{job="api",instance="d:80"}', 1),
]


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read().decode())


def cmd_data(now_ms):
    for sel, v in DATA:
        for k in range(-8, 9):
            print("%s %s %d" % (sel, v, now_ms + k * 15000))


def norm_alert(a):
    a = dict(a)
    assert a.pop("activeAt", None), "alert without activeAt: %r" % (a,)
    a.pop("keepFiringSince", None)
    return a


def norm_rules(doc, who):
    assert doc["status"] == "success", (who, doc)
    groups = []
    for g in doc["data"]["groups"]:
        g = dict(g)
        for k in ("evaluationTime", "lastEvaluation"):
            assert k in g, (who, "group lacks", k)
            g.pop(k)
        rules = []
        for r in g["rules"]:
            r = dict(r)
            for k in ("evaluationTime", "lastEvaluation"):
                assert k in r, (who, "rule lacks", k)
                r.pop(k)
            if r["type"] == "recording" and r.get("labels") == {}:
                r.pop("labels")  # documented difference (Prometheus 3 prints {})
            if "alerts" in r:
                r["alerts"] = sorted((norm_alert(a) for a in r["alerts"]), key=lambda a: json.dumps(a, sort_keys=True))
            rules.append(r)
        g["rules"] = rules
        groups.append(g)
    return groups


def query(base, q):
    doc = get(base + "/api/v1/query?" + urllib.parse.urlencode({"query": q}))
    assert doc["status"] == "success", doc
    return sorted((json.dumps(s["metric"], sort_keys=True), s["value"][1]) for s in doc["data"]["result"])


def cmd_compare(prom, pharos, expect_groups):
    fails = []
    p = norm_rules(get(prom + "/api/v1/rules"), "prometheus")
    h = norm_rules(get(pharos + "/api/v1/rules"), "pharosd")
    names = [g["name"] for g in h]
    for g in expect_groups:
        if g not in names:
            fails.append("pharosd lacks group %s (has %s)" % (g, names))
    if json.dumps(p, sort_keys=True) != json.dumps(h, sort_keys=True):
        fails.append("/api/v1/rules differ:\n prometheus: %s\n pharosd:    %s" %
                     (json.dumps(p, sort_keys=True), json.dumps(h, sort_keys=True)))
    pa = sorted((json.dumps(norm_alert(a), sort_keys=True) for a in get(prom + "/api/v1/alerts")["data"]["alerts"]))
    ha = sorted((json.dumps(norm_alert(a), sort_keys=True) for a in get(pharos + "/api/v1/alerts")["data"]["alerts"]))
    if pa != ha:
        fails.append("/api/v1/alerts differ:\n prometheus: %s\n pharosd:    %s" % (pa, ha))
    for q in ("job:up:sum", "job:up:ratio", "ALERTS", "count by (alertname) (ALERTS_FOR_STATE)"):
        a, b = query(prom, q), query(pharos, q)
        if a != b:
            fails.append("query %s differs:\n prometheus: %s\n pharosd:    %s" % (q, a, b))
    for f in fails:
        print("FAIL:", f)
    if not fails:
        print("rules, alerts and written series identical (%d groups, %d alerts)" % (len(h), len(ha)))
    return 1 if fails else 0


def cmd_wait_firing(url, name, n):
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            alerts = get(url + "/api/v1/alerts")["data"]["alerts"]
            got = sum(1 for a in alerts if a["labels"].get("alertname") == name and a["state"] == "firing")
            if got >= n:
                return 0
        except OSError:
            pass
        time.sleep(0.2)
    print("FAIL: %s never listed %d firing %s alerts" % (url, n, name))
    return 1


def main():
    a = sys.argv[1:]
    if a[0] == "data":
        cmd_data(int(a[1]))
        return 0
    if a[0] == "compare":
        exp = [a[i + 1] for i in range(3, len(a) - 1) if a[i] == "--expect-group"]
        return cmd_compare(a[1], a[2], exp)
    if a[0] == "wait-firing":
        return cmd_wait_firing(a[1], a[2], int(a[3]))
    print("unknown subcommand", a[0])
    return 2


if __name__ == "__main__":
    sys.exit(main())

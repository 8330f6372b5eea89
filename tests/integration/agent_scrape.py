#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""agent_scrape checks (see agent_scrape.sh).

  agent_scrape.py PHAROSD_URL TARGET_HOSTPORT AGENT_METRICS_FILE AGENT_LOG
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from interop_compare import STALE_NAN_BITS, pharos_export, value_bits  # noqa: E402


def main():
    base, inst, metrics_file, log = sys.argv[1:5]
    series = pharos_export(base, 0, 4102444800000)
    by = {}
    for k, v in series.items():
        by[tuple(sorted((a, b) for a, b in k))] = v
    errors = []

    def get(**labels):
        key = tuple(sorted(labels.items()))
        if key not in by:
            errors.append("missing series %s" % labels)
            return []
        return by[key]

    def values(samples):
        return [v for _, v in samples]

    fin = value_bits

    app = dict(job="app", instance=inst, env="test")
    for le, v in (("0.1", 3.0), ("+Inf", 5.0)):
        s = get(__name__="rpc_seconds_bucket", le=le, **app)
        if s and fin(v) not in values(s):
            errors.append("rpc_seconds_bucket{le=%s}: %s" % (le, s))
    s = get(__name__="jobs_total", exported_job="batch", kind='a"b', **app)
    if s and fin(42.0) not in values(s):
        errors.append("jobs_total: %s" % s)
    s = get(__name__="fixed", **app)
    if s and [t for t, v in s if v == fin(7.0)] != [1700000000000]:
        errors.append("fixed: the exposition's timestamp was not kept: %s" % s[:3])
    om = dict(job="om", instance=inst)
    s = get(__name__="requests_total", code="200", **om)
    if s and fin(10.0) not in values(s):
        errors.append("requests_total: %s" % s)
    get(__name__="requests_created", code="200", **om)
    s = get(__name__="temp_celsius", **om)
    if s and fin(21.5) not in values(s):
        errors.append("temp_celsius: %s" % s)
    static = {"app": {"env": "test"}}
    for job, want in (("app", 1.0), ("om", 1.0), ("broken", 0.0)):
        up = get(__name__="up", job=job, instance=inst, **static.get(job, {}))
        if up and values(up)[0] != fin(want):
            errors.append("up{job=%s} starts at %s, want %s" % (job, up[0], want))
        if job != "broken" and up and values(up)[-1] != fin(0.0):
            errors.append("up{job=%s} did not go to 0 when the target went away" % job)
    get(__name__="secure_metric", job="secure", instance=inst)
    for job, want in (("secure", 1.0), ("denied", 0.0)):
        up = get(__name__="up", job=job, instance=inst)
        if up and values(up)[0] != fin(want):
            errors.append("up{job=%s} starts at %s, want %s (bearer token)" % (job, up[0], want))
    if "HTTP 401" not in open(log).read():
        errors.append("the denied target's 401 was not logged")
    n = get(__name__="scrape_samples_scraped", **app)
    if n and fin(6.0) not in values(n):
        errors.append("scrape_samples_scraped{job=app}: %s, want 6" % values(n)[:3])
    jobs = get(__name__="jobs_total", exported_job="batch", kind='a"b', **app)
    up_app = dict(get(__name__="up", **app))
    stale_at = [t for t, v in jobs if v == STALE_NAN_BITS]
    if not stale_at or up_app.get(stale_at[0]) != fin(1.0):
        errors.append("jobs_total vanished from a live target without a stale marker: %s" % jobs[-3:])
    s = get(__name__="temp_celsius", **om)
    if s and values(s)[-1] != STALE_NAN_BITS:
        errors.append("temp_celsius did not get a stale marker when its target went away: %s" % s[-2:])
    if any(dict(k).get("job") == "broken" and dict(k)["__name__"] not in
           ("up", "scrape_duration_seconds", "scrape_samples_scraped") for k in series):
        errors.append("the broken target's samples were shipped")
    text = open(metrics_file).read()
    for want in ('rpc_seconds_bucket{env="test",instance="%s",job="app",le="0.1"} 3' % inst,
                 'temp_celsius{instance="%s",job="om"} 21.5' % inst):
        if want not in text:
            errors.append("the agent's /metrics lacks %r" % want)
    if "parse error at line 2" not in open(log).read():
        errors.append("the broken target's parse error (line 2) was not logged")
    print("scrape: %d series in pharosd; %d problems" % (len(series), len(errors)))
    for e in errors:
        print("  " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

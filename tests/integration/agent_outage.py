#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""agent_outage checks: what pharos-agent queued against what pharosd
holds, read back through /api/v1/export.

  agent_outage.py check PHAROSD_URL AGENT_LOG [--expect-drops]

From the agent's shutdown line ("remote-write URL stopped: queued=Q
sent=S dropped_spool_full=D …") and pharosd's export:
  - no series holds a timestamp twice (nothing duplicated beyond
    identical resends, which pharosd merges);
  - samples stored == Q - D exactly (nothing lost but what the bound
    dropped, and the drop counter equals what is missing);
  - without --expect-drops: D == 0 and node_load1's timestamps form an
    unbroken 1 s grid from the first collection to the last (the outage
    left no hole); with it: D > 0.
"""
import re
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
from interop_compare import pharos_export  # noqa: E402

STOP = re.compile(r"remote-write (\S+) stopped: queued=(\d+) sent=(\d+) dropped_spool_full=(\d+) "
                  r"dropped_rejected=(\d+) dropped_corrupt=(\d+) spooled_batches=(\d+)")


def main():
    base, log, expect_drops = sys.argv[2], sys.argv[3], "--expect-drops" in sys.argv
    totals = [0, 0, 0, 0, 0, 0]
    for line in open(log, encoding="utf-8", errors="replace"):
        m = STOP.search(line)
        if m:
            for i in range(6):
                totals[i] += int(m.group(i + 2))
    queued, sent, full, rejected, corrupt, spooled = totals
    if queued == 0:
        print("no shutdown line with queued samples in the agent's log")
        return 1
    series = pharos_export(base, 0, 4102444800000)
    stored = 0
    errors = []
    for key, samples in series.items():
        ts = [t for t, _ in samples]
        stored += len(ts)
        if len(set(ts)) != len(ts):
            errors.append("series %s holds a timestamp twice" % dict(key))
    if stored != queued - full:
        errors.append("pharosd holds %d samples; the agent queued %d and dropped %d past the spool bound "
                      "(%d missing beyond the drops)" % (stored, queued, full, queued - full - stored))
    if rejected or corrupt or spooled:
        errors.append("rejected=%d corrupt=%d left in spool=%d (want 0)" % (rejected, corrupt, spooled))
    if expect_drops:
        if full == 0:
            errors.append("the small spool bound dropped nothing")
    else:
        if full:
            errors.append("%d samples dropped past the spool bound" % full)
        loads = [s for k, s in series.items() if dict(k).get("__name__") == "node_load1"]
        if len(loads) != 1:
            errors.append("node_load1: %d series" % len(loads))
        else:
            ts = sorted(t for t, _ in loads[0])
            gaps = [(a, b) for a, b in zip(ts, ts[1:]) if b - a != 1000]
            if gaps or any(t % 1000 for t in ts):
                errors.append("node_load1 timestamps are not an unbroken 1 s grid: gaps %s" % gaps[:5])
    print("outage: queued=%d sent=%d dropped_spool_full=%d stored=%d series=%d" %
          (queued, sent, full, stored, len(series)))
    for e in errors:
        print("  " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

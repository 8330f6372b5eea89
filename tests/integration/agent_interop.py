#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""agent_interop checks: the series and samples pharos-agent shipped to
three receivers at once.

  agent_interop.py PHAROSD_URL PROMETHEUS_URL VICTORIAMETRICS_URL START_MS END_MS

pharosd and VictoriaMetrics are read through /api/v1/export, Prometheus
through remote read (its raw samples). Requires the same set of series
(label sets) in all three, and the same timestamps and float64 bits per
series; the window ends a few seconds before the agent stopped so every
receiver has had its last batch.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(__file__))
from interop_compare import fmt_labels, http, pharos_export, prom_raw  # noqa: E402


def same(a, b, exact):
    """Equal timestamps and values: float64 bits, or (VictoriaMetrics keeps
    about 15 significant digits) within 1e-12 relative."""
    if [t for t, _ in a] != [t for t, _ in b]:
        return False
    if exact:
        return a == b
    for (_, x), (_, y) in zip(a, b):
        fx, fy = struct.unpack("<d", struct.pack("<Q", x))[0], struct.unpack("<d", struct.pack("<Q", y))[0]
        if x != y and not abs(fx - fy) <= 1e-12 * max(abs(fx), abs(fy)):
            return False
    return True


def main():
    pharos, prom, vm, start, end = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    http(vm + "/internal/force_flush")
    got = {"pharosd": pharos_export(pharos, start, end), "prometheus": prom_raw(prom, start, end),
           "victoriametrics": pharos_export(vm, start, end)}
    for name in got:  # the same window everywhere: [start, end]
        got[name] = {k: [s for s in v if start <= s[0] <= end] for k, v in got[name].items()}
        got[name] = {k: v for k, v in got[name].items() if v}
    errors = []
    ref = got["pharosd"]
    for name in ("prometheus", "victoriametrics"):
        other = got[name]
        for k in sorted(set(ref) - set(other))[:10]:
            errors.append("%s: missing series %s" % (name, fmt_labels(k)))
        for k in sorted(set(other) - set(ref))[:10]:
            errors.append("%s: extra series %s" % (name, fmt_labels(k)))
        bad = [k for k in set(ref) & set(other) if not same(ref[k], other[k], exact=name == "prometheus")]
        for k in sorted(bad)[:10]:
            errors.append("%s: %s differs: pharosd %d samples, %s %d" % (name, fmt_labels(k), len(ref[k]), name,
                                                                       len(other[k])))
    samples = sum(len(v) for v in ref.values())
    print("interop: %d series, %d samples in pharosd; prometheus %d series, victoriametrics %d series" %
          (len(ref), samples, len(got["prometheus"]), len(got["victoriametrics"])))
    for e in errors:
        print("  " + e)
    return 1 if errors or samples == 0 else 0


if __name__ == "__main__":
    sys.exit(main())

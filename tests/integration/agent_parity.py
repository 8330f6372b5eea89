#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""agent_parity: pharos-agent's /metrics against node_exporter 1.5's, on
this machine.

Reads agent (A1), node_exporter (N), then agent again (A2) once the agent
has collected after N. For every metric family of the collectors the
agent implements (OURS below; node_exporter's other collectors, such as
netclass or timex, are out of scope), requires:
  - the same families on both sides, with equal HELP and TYPE;
  - the same label sets in each family;
  - constant values equal (CONSTANT below);
  - counters between the agent's two readings: A1 <= N <= A2 (the
    agent's first reading was collected before N, its second after);
  - node_scrape_collector_success equal for every collector of ours.
ALLOW lists what may differ on a machine, with the reason. Exit 0 when
everything holds, 1 with a report otherwise.

Usage: agent_parity.py AGENT_URL NODE_EXPORTER_URL INTERVAL_SECONDS
"""
import re
import sys
import time
import urllib.request

COLLECTORS = {"cpu", "stat", "meminfo", "loadavg", "pressure", "vmstat", "uname", "time", "filefd", "netdev",
              "netstat", "sockstat", "diskstats", "filesystem", "mdadm", "hwmon"}
OURS = re.compile(r"^(node_cpu_(seconds|guest_seconds)_total|node_boot_time_seconds|node_context_switches_total"
                  r"|node_forks_total|node_intr_total|node_procs_(running|blocked)|node_memory_.*|node_load(1|5|15)"
                  r"|node_pressure_.*|node_vmstat_.*|node_uname_info|node_time_.*|node_filefd_.*"
                  r"|node_network_(receive|transmit)_(?!.*carrier_(up_|down_)?changes).*_total"
                  r"|node_netstat_.*|node_sockstat_.*|node_disk_.*|node_filesystem_.*|node_md_.*|node_hwmon_.*"
                  r"|node_scrape_collector_(success|duration_seconds))$")
# Families whose every value must be equal on both sides.
CONSTANT = re.compile(r"^(node_boot_time_seconds|node_memory_(MemTotal|SwapTotal|Hugepagesize|DirectMap.*|"
                      r"HugePages_Total|CmaTotal|VmallocTotal)_bytes|node_memory_HugePages_Total|node_filefd_maximum"
                      r"|node_uname_info|node_disk_info|node_filesystem_(size_bytes|files|readonly|device_error)"
                      r"|node_time_zone_offset_seconds|node_time_clocksource_.*|node_md_(disks_required|blocks)"
                      r"|node_hwmon_chip_names|node_hwmon_sensor_label|node_scrape_collector_success)$")
# Machine-specific differences allowed, family -> reason.
ALLOW = {}

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( \d+)?$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def fetch(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read().decode()


def parse(text):
    """-> {family: {"help", "type", "samples": {labels-tuple: value}}}"""
    fams, cur = {}, None
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, help_ = line[7:].partition(" ")
            fams.setdefault(name, {"samples": {}})["help"] = help_
            continue
        if line.startswith("# TYPE "):
            name, _, typ = line[7:].partition(" ")
            fams.setdefault(name, {"samples": {}})["type"] = typ
            cur = name
            continue
        if not line or line.startswith("#"):
            continue
        m = LINE.match(line)
        if not m:
            raise SystemExit(f"unparsable line: {line!r}")
        name, labels = m.group(1), tuple(sorted(LABEL.findall(m.group(3) or "")))
        fam = name if name in fams else cur
        fams.setdefault(fam, {"samples": {}})["samples"][labels] = float(m.group(4))
    return fams


def ours(fams):
    out = {}
    for name, f in fams.items():
        if not OURS.match(name):
            continue
        if name.startswith("node_scrape_collector_"):
            f = dict(f, samples={k: v for k, v in f["samples"].items() if dict(k).get("collector") in COLLECTORS})
        out[name] = f
    return out


def close(a, b):
    return a == b or abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def main():
    agent, node, interval = sys.argv[1], sys.argv[2], float(sys.argv[3])
    a1 = ours(parse(fetch(agent)))
    time.sleep(0.05)
    n = ours(parse(fetch(node)))
    time.sleep(2.5 * interval)
    a2 = ours(parse(fetch(agent)))
    errors = []
    for name in sorted(set(a2) | set(n)):
        if name in ALLOW:
            continue
        if name not in n:
            errors.append(f"{name}: only in pharos-agent")
            continue
        if name not in a2:
            errors.append(f"{name}: missing from pharos-agent")
            continue
        fa, fn = a2[name], n[name]
        for key in ("help", "type"):
            if fa.get(key) != fn.get(key):
                errors.append(f"{name}: {key} {fa.get(key)!r} != node_exporter's {fn.get(key)!r}")
        la, ln = set(fa["samples"]), set(fn["samples"])
        for ls in sorted(la - ln):
            errors.append(f"{name}{dict(ls)}: only in pharos-agent")
        for ls in sorted(ln - la):
            errors.append(f"{name}{dict(ls)}: missing from pharos-agent")
        for ls in sorted(la & ln):
            v1, vn, v2 = a1.get(name, {"samples": {}})["samples"].get(ls), fn["samples"][ls], fa["samples"][ls]
            if CONSTANT.match(name):
                if not close(v2, vn):
                    errors.append(f"{name}{dict(ls)}: {v2!r} != node_exporter's {vn!r}")
            elif fn.get("type") == "counter" and v1 is not None:
                if not (v1 <= vn * (1 + 1e-9) + 1e-9 and vn <= v2 * (1 + 1e-9) + 1e-9):
                    errors.append(f"{name}{dict(ls)}: node_exporter's {vn!r} not within the agent's {v1!r}..{v2!r}")
    checked = sum(len(f["samples"]) for f in a2.values())
    print(f"parity: {len(a2)} families, {checked} series compared with node_exporter; {len(errors)} differences")
    for e in errors[:200]:
        print("  " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

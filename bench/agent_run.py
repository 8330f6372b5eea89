#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""agent_run: pharos-agent's footprint against node_exporter 1.5, side by
side in one run on this machine (driven by bench/agent.sh).

Started together, each on 127.0.0.1 with its own port:
  - pharosd, the store agent A ships to;
  - node_exporter (default collectors), scraped every INTERVAL seconds by
    this script, as a Prometheus would;
  - agent A: every collector, collection every INTERVAL seconds,
    remote-write to pharosd;
  - agent B: the same, but its endpoint is down for the whole run (a
    store outage), so everything goes to its spool.
Measured:
  - CPU seconds per collection: utime+stime over the first N collections
    (node_exporter: per scrape), and over the whole run;
  - RSS (VmRSS) of each after the run (DURATION seconds);
  - bytes agent A sends per collection (pharos_agent_remote_write_bytes_sent_total
    over pharos_agent_collections_total), and samples per collection;
  - agent B's RSS growth from the end of the first minute to the end of
    the outage, and its spool size.
Writes a Markdown section to stdout; agent.sh puts it into RESULTS.md.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

CLK = os.sysconf("SC_CLK_TCK")


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read()


def wait(url, proc, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args[0]} exited: {proc.returncode}")
        try:
            get(url, 2)
            return
        except Exception:
            time.sleep(0.1)
    raise SystemExit(f"{url} not ready")


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def metric(url, name):
    total = 0.0
    for line in get(url).decode().splitlines():
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)", line)
        if m and m.group(1) == name:
            total += float(m.group(3))
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", required=True)
    ap.add_argument("--pharosd", required=True)
    ap.add_argument("--node-exporter", default="/usr/bin/prometheus-node-exporter")
    ap.add_argument("--duration", type=float, default=600)
    ap.add_argument("--interval", type=float, default=1)
    ap.add_argument("--cpu-collections", type=int, default=100)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="pharos-agent-bench.")
    p_store, p_node, p_a, p_b, p_dead = free_ports(5)
    procs = []

    def start(args, log):
        p = subprocess.Popen(args, stdout=open(os.path.join(work, log), "w"), stderr=subprocess.STDOUT)
        procs.append(p)
        return p

    try:
        store = start([a.pharosd, f"--web.listen-address=127.0.0.1:{p_store}", f"--storage.path={work}/store"],
                      "pharosd.log")
        wait(f"http://127.0.0.1:{p_store}/-/ready", store)
        node = start([a.node_exporter, f"--web.listen-address=127.0.0.1:{p_node}"], "node_exporter.log")
        wait(f"http://127.0.0.1:{p_node}/metrics", node)
        iv = f"{int(a.interval * 1000)}ms"
        ag = start([a.agent, f"--web.listen-address=127.0.0.1:{p_a}", f"--collect.interval={iv}",
                    f"--storage.path={work}/agent-a", f"--remote-write.url=http://127.0.0.1:{p_store}/api/v1/write"],
                   "agent-a.log")
        bg = start([a.agent, f"--web.listen-address=127.0.0.1:{p_b}", f"--collect.interval={iv}",
                    f"--storage.path={work}/agent-b", f"--remote-write.url=http://127.0.0.1:{p_dead}/api/v1/write"],
                   "agent-b.log")
        wait(f"http://127.0.0.1:{p_a}/-/healthy", ag)
        wait(f"http://127.0.0.1:{p_b}/-/healthy", bg)
        time.sleep(3 * a.interval)  # first collections, warm caches
        am = f"http://127.0.0.1:{p_a}/metrics"
        c0 = metric(am, "pharos_agent_collections_total")
        cpu_a0, cpu_n0, t0 = cpu_s(ag.pid), cpu_s(node.pid), time.time()
        scrapes, first = 0, None
        b_rss_1min = None
        next_t = time.time()
        while time.time() - t0 < a.duration:
            next_t += a.interval
            get(f"http://127.0.0.1:{p_node}/metrics", 30)
            scrapes += 1
            if scrapes == a.cpu_collections:
                first = (cpu_s(node.pid) - cpu_n0, cpu_s(ag.pid) - cpu_a0,
                         metric(am, "pharos_agent_collections_total") - c0)
            if b_rss_1min is None and time.time() - t0 >= 60:
                b_rss_1min = rss_kib(bg.pid)
            time.sleep(max(0, next_t - time.time()))
        elapsed = time.time() - t0
        coll = metric(am, "pharos_agent_collections_total") - c0
        cpu_n, cpu_a = cpu_s(node.pid) - cpu_n0, cpu_s(ag.pid) - cpu_a0
        rss_n, rss_a, rss_b = rss_kib(node.pid), rss_kib(ag.pid), rss_kib(bg.pid)
        total_coll = metric(am, "pharos_agent_collections_total")
        sent_bytes = metric(am, "pharos_agent_remote_write_bytes_sent_total")
        sent_samples = metric(am, "pharos_agent_remote_write_samples_sent_total")
        bm = f"http://127.0.0.1:{p_b}/metrics"
        b_spool = metric(bm, "pharos_agent_spool_bytes")
        b_dropped = metric(bm, "pharos_agent_dropped_samples_total")
        if first is None:
            first = (cpu_n, cpu_a, coll)
        n_first, a_first, coll_first = first
        r = []
        r.append(f"Run of {elapsed:.0f} s at a {a.interval:g} s interval on this machine "
                 f"({os.cpu_count()} cores); node_exporter scraped {scrapes} times, agent A collected "
                 f"{coll:.0f} times.\n")
        r.append("| measure | node_exporter 1.5 | pharos-agent | ratio (agent / node_exporter) | target |")
        r.append("|---|---|---|---|---|")
        cn1, ca1 = n_first / a.cpu_collections, a_first / max(coll_first, 1)
        r.append(f"| CPU per collection, first {a.cpu_collections} | {cn1 * 1000:.2f} ms | {ca1 * 1000:.2f} ms | "
                 f"{ca1 / cn1 if cn1 else float('nan'):.3f} | ≤ 0.333 |")
        cn, ca = cpu_n / max(scrapes, 1), cpu_a / max(coll, 1)
        r.append(f"| CPU per collection, whole run | {cn * 1000:.2f} ms | {ca * 1000:.2f} ms | "
                 f"{ca / cn if cn else float('nan'):.3f} | |")
        r.append(f"| RSS after {elapsed / 60:.0f} min | {rss_n / 1024:.1f} MiB | {rss_a / 1024:.1f} MiB | "
                 f"{rss_a / rss_n:.3f} | ≤ 0.25 |")
        r.append("")
        r.append(f"- Agent A sends {sent_bytes / max(total_coll, 1):.0f} bytes per collection "
                 f"(snappy remote-write, {sent_samples / max(total_coll, 1):.0f} samples per collection, "
                 f"{sent_bytes / max(sent_samples, 1):.2f} bytes per sample).")
        if b_rss_1min is not None:
            r.append(f"- Agent B (store down for the whole run): RSS {b_rss_1min / 1024:.2f} MiB after 1 min, "
                     f"{rss_b / 1024:.2f} MiB at the end: growth {(rss_b - b_rss_1min) / 1024:.2f} MiB "
                     f"(target < 1 MiB); spool {b_spool / 1048576:.1f} MiB on disk, {b_dropped:.0f} samples dropped.")
        print("\n".join(r))
        return 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
        if os.environ.get("KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())

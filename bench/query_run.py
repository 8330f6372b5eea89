# SPDX-License-Identifier: Apache-2.0
"""query_run.py: the client side of bench/query.sh, one server at a time.

Usage: query_run.py --url URL --pid PID --system S --mode M --hosts H
                    --end-ms MS --data-start-ms MS --out REC.json --bodies DIR
                    [--runs 5] [--nocache] [--timeout 120]

For every query of QUERIES, as a range query over the last hour (step 15 s)
and over the whole data window (step 60 s), and for the metadata endpoints
of META: one warm-up request, then --runs timed ones, each on the same
persistent HTTP/1.1 connection (http.client), timed from sending the request
to the last byte of the body. Every answer must be HTTP 200 with
status "success"; the warm-up's body is saved to --bodies for the
cross-system comparison in query_report.py. Meanwhile a thread samples the
server's VmRSS at 10 Hz; its VmHWM is reset (clear_refs = 5) before each
query's requests and read after them, so each query has its own peak and
the phase's peak is the largest of them.
Server CPU (utime+stime) and the whole machine's busy CPU over the phase
are recorded, so CPU taken by other processes can be reported.
"""
import argparse
import http.client
import json
import os
import threading
import time
import urllib.parse

# (id, expression). Every one runs over both windows.
QUERIES = [
    ("cpu_busy_pct", '100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])))'),
    ("cpu_irate_by_mode", "sum by (mode) (irate(node_cpu_seconds_total[5m]))"),
    ("mem_used_pct", "100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)"),
    ("net_rx_top5", 'topk(5, sum by (instance) (rate(node_network_receive_bytes_total{device!="lo"}[5m])))'),
    ("disk_read_regex",
     'sum by (instance) (rate(node_disk_read_bytes_total{device=~"sd.*|nvme.*|vd.*|xvd.*"}[5m]))'),
    ("net_tx_increase_1h", "sum by (instance) (increase(node_network_transmit_bytes_total[1h]))"),
    ("fs_used_ratio",
     'max by (instance) (1 - node_filesystem_avail_bytes{fstype!~"tmpfs|ramfs|overlay|squashfs"}'
     ' / node_filesystem_size_bytes{fstype!~"tmpfs|ramfs|overlay|squashfs"})'),
    ("count_by_mode", "count by (mode) (node_cpu_seconds_total)"),
    ("load1_avg_over_time", "avg_over_time(node_load1[10m])"),
    ("mem_quantile_over_time", "quantile_over_time(0.9, node_memory_MemAvailable_bytes[15m])"),
    ("cpu_quantile_by_mode", "quantile by (mode) (0.9, rate(node_cpu_seconds_total[5m]))"),
    ("hist_p99", "histogram_quantile(0.99, sum by (le) (rate(rwload_request_duration_seconds_bucket[5m])))"),
    ("hist_p90_by_instance",
     "histogram_quantile(0.9, sum by (instance, le) (rate(rwload_request_duration_seconds_bucket[5m])))"),
    ("subquery_max_rate",
     "max by (instance) (max_over_time(rate(node_network_receive_bytes_total[5m])[1h:1m]))"),
    ("join_group_left",
     "sum by (instance) (rate(node_network_receive_bytes_total[5m]))"
     " * on (instance) group_left (nodename) node_uname_info"),
    ("fs_predict_linear", 'predict_linear(node_filesystem_avail_bytes{mountpoint="/"}[1h], 4 * 3600)'),
    ("all_series_count", 'count({__name__=~".+"})'),
]

# (id, path, extra params); start/end = the whole data window.
META = [
    ("labels", "/api/v1/labels", []),
    ("label_name_values", "/api/v1/label/__name__/values", []),
    ("series_cpu", "/api/v1/series", [("match[]", "node_cpu_seconds_total")]),
]


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def proc_cpu_s(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None


def reset_hwm(pid):
    """Reset the process' VmHWM to its current RSS (Linux >= 4.0); False if not possible."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def machine_busy_s():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    # user nice system irq softirq steal (not idle, iowait)
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / os.sysconf("SC_CLK_TCK")


class RssSampler(threading.Thread):
    def __init__(self, pid, hz=10):
        super().__init__(daemon=True)
        self.pid, self.period = pid, 1.0 / hz
        self.samples = []
        self.cur_max = 0  # reset by the caller per query
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            kb = status_kb(self.pid, "VmRSS")
            if kb is not None:
                self.samples.append(kb)
                self.cur_max = max(self.cur_max, kb)
            self.stop.wait(self.period)


class Client:
    """One persistent connection; reconnects (and says so) only after an error."""

    def __init__(self, url, timeout):
        u = urllib.parse.urlsplit(url)
        self.host, self.port, self.timeout = u.hostname, u.port or 80, timeout
        self.conn = None
        self.connects = 0

    def request(self, method, path, params):
        body = urllib.parse.urlencode(params)
        if method == "GET":
            path, body, headers = path + "?" + body, None, {}
        else:
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                self.conn.connect()
                self.connects += 1
            t0 = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                dt = time.perf_counter() - t0
                if resp.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return resp.status, data, dt
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
                # a keep-alive connection the server closed while idle: retry once on a new one
                self.conn.close()
                self.conn = None
                if attempt:
                    return None, str(e).encode(), time.perf_counter() - t0
            except Exception as e:  # timeout and the like: the connection is unusable
                self.conn.close()
                self.conn = None
                return None, f"{type(e).__name__}: {e}".encode(), time.perf_counter() - t0
        return None, b"unreachable", 0.0


def check(code, data):
    """(ok, error text, series count, points count) of one answer."""
    if code != 200:
        return False, f"HTTP {code}: {data[:300].decode(errors='replace')}", None, None
    try:
        j = json.loads(data)
    except ValueError as e:
        return False, f"bad JSON: {e}", None, None
    if j.get("status") != "success":
        return False, f"status {j.get('status')}: {j.get('error', '')[:300]}", None, None
    d = j.get("data")
    if isinstance(d, dict) and "result" in d:
        res = d["result"]
        return True, "", len(res), sum(len(s.get("values", [])) + (1 if "value" in s else 0) for s in res)
    if isinstance(d, list):
        return True, "", len(d), None
    return True, "", None, None


def items(a):
    """Every measured request: (id, window, method, path, params)."""
    end_s = a.end_ms / 1000
    end60 = (a.end_ms // 60000) * 60000 / 1000
    start_all = max(a.data_start_ms / 1000, 0)
    windows = [("1h", end_s - 3600, end_s, 15), ("4.5h", start_all, end60, 60)]
    out = []
    for qid, expr in QUERIES:
        for wname, st, en, step in windows:
            out.append((qid, wname, "POST", "/api/v1/query_range",
                        [("query", expr), ("start", f"{st:.3f}"), ("end", f"{en:.3f}"), ("step", str(step))]))
    for mid, path, extra in META:
        out.append((mid, "4.5h", "GET", path, extra + [("start", f"{start_all:.3f}"), ("end", f"{end_s:.3f}")]))
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--system", required=True)
    p.add_argument("--mode", required=True)
    p.add_argument("--hosts", type=int, required=True)
    p.add_argument("--end-ms", type=int, required=True)
    p.add_argument("--data-start-ms", type=int, required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--bodies", required=True)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--nocache", action="store_true", help="add nocache=1 to every request (VictoriaMetrics)")
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--offgrid", type=float, default=7.5,
                   help="after the timed runs, ask each range query once more with start and end moved by this "
                        "many seconds off the sample grid (untimed; 0: skip), for the answer comparison")
    p.add_argument("--state", default="", help="JSON describing the server's storage state, kept in the record")
    a = p.parse_args()
    os.makedirs(a.bodies, exist_ok=True)

    hwm_reset = reset_hwm(a.pid)
    hwm_before = status_kb(a.pid, "VmHWM")
    rss_before = status_kb(a.pid, "VmRSS")
    sampler = RssSampler(a.pid)
    sampler.start()
    cpu0, busy0, own0, t0 = proc_cpu_s(a.pid), machine_busy_s(), os.times(), time.monotonic()

    cl = Client(a.url, a.timeout)
    results = []
    for qid, window, method, path, params in items(a):
        if a.nocache:
            params = params + [("nocache", "1")]
        rec = {"id": qid, "window": window, "path": path,
               "query": dict(params).get("query", dict(params).get("match[]", "")),
               "times_ms": [], "errors": [], "series": None, "points": None}
        cpu_q0 = proc_cpu_s(a.pid)
        sampler.cur_max = status_kb(a.pid, "VmRSS") or 0
        rec["rss_start_kb"] = sampler.cur_max
        if hwm_reset:
            reset_hwm(a.pid)
        for run in range(a.runs + 1):
            code, data, dt = cl.request(method, path, params)
            ok, err, nser, npts = check(code, data)
            if run == 0:
                rec["warmup_ms"] = dt * 1e3
                rec["series"], rec["points"], rec["bytes"] = nser, npts, len(data)
                name = f"{qid}.{window}.json"
                with open(os.path.join(a.bodies, name), "wb") as f:
                    f.write(data)
                rec["body"] = name
            else:
                rec["times_ms"].append(dt * 1e3)
            if not ok:
                rec["errors"].append(f"run {run}: {err}")
                if code is None and run == 0:
                    break  # the server does not answer in time: do not queue 5 more
        rec["server_cpu_s"] = (proc_cpu_s(a.pid) or 0) - (cpu_q0 or 0)
        rec["rss_max_kb"] = max(sampler.cur_max, status_kb(a.pid, "VmRSS") or 0)
        rec["hwm_kb"] = status_kb(a.pid, "VmHWM")
        if a.offgrid and path.endswith("query_range") and not (rec["errors"] and rec["times_ms"] == []):
            pp = [(k, f"{float(v) + a.offgrid:.3f}" if k in ("start", "end") else v) for k, v in params]
            code, data, dt = cl.request(method, path, pp)
            ok, err, nser, npts = check(code, data)
            rec["offgrid_body"] = f"{qid}.{window}.off.json"
            with open(os.path.join(a.bodies, rec["offgrid_body"]), "wb") as f:
                f.write(data)
            if not ok:
                rec["offgrid_error"] = err
        rec["ok"] = not rec["errors"]
        results.append(rec)
        ts = sorted(rec["times_ms"])
        med = ts[len(ts) // 2] if ts else None
        print(f"  {a.system}/{a.mode} {qid:24s} {window:5s} "
              + (f"median {med:9.1f} ms" if med is not None else "no timing")
              + f"  series {rec['series']}" + ("" if rec["ok"] else f"  ERROR {rec['errors'][0][:160]}"),
              flush=True)

    wall = time.monotonic() - t0
    cpu1, busy1, own1 = proc_cpu_s(a.pid), machine_busy_s(), os.times()
    sampler.stop.set()
    sampler.join()
    own_cpu = (own1.user + own1.system) - (own0.user + own0.system)
    server_cpu = (cpu1 or 0) - (cpu0 or 0)
    rec = {
        "system": a.system, "mode": a.mode, "hosts": a.hosts, "end_ms": a.end_ms,
        "data_start_ms": a.data_start_ms, "runs": a.runs, "nocache": a.nocache,
        "state": json.loads(a.state) if a.state else {},
        "hwm_reset": hwm_reset, "hwm_before_kb": hwm_before, "rss_before_kb": rss_before,
        "hwm_after_kb": max([status_kb(a.pid, "VmHWM") or 0] + [x.get("hwm_kb") or 0 for x in results]), "rss_after_kb": status_kb(a.pid, "VmRSS"),
        "rss_sampled_max_kb": max(sampler.samples) if sampler.samples else None,
        "rss_samples": len(sampler.samples),
        "wall_s": wall, "server_cpu_s": server_cpu, "client_cpu_s": own_cpu,
        "other_cpu_cores": max(busy1 - busy0 - server_cpu - own_cpu, 0) / wall if wall else None,
        "reconnects": max(cl.connects - 1, 0), "offgrid_s": a.offgrid, "results": results,
    }
    with open(a.out, "w") as f:
        json.dump(rec, f)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

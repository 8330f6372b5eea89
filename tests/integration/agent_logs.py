#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""agent_logs helpers (see agent_logs.sh).

  agent_logs.py journal-export OUT N T0_US   N entries "journal-NNNNNN", 1 ms apart from T0_US
  agent_logs.py write-pods DIR N SECONDS     N CRI lines "pod-NNNNNN" into DIR/<ns>_<pod>_<uid>/app/0.log
                                              over SECONDS, every 997th split in P parts, the file
                                              rotated (renamed, new file) at N/2; prints T0_NS T1_NS
  agent_logs.py probe URL                    exit 0 if URL (a push endpoint) exists, 77 if it answers 404
  agent_logs.py count BASE SELECTOR          sum(count_over_time(SELECTOR[window])) now
  agent_logs.py check BASE SELECTOR PREFIX N START_NS END_NS
                                             the instant count is N, and paging query_range forward
                                             finds PREFIX000000..PREFIX(N-1) each exactly once
"""
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

WINDOW = "6h"


def journal_export(out, n, t0_us):
    with open(out, "w", encoding="utf-8") as f:
        for i in range(n):
            f.write(f"__REALTIME_TIMESTAMP={t0_us + i * 1000}\n__MONOTONIC_TIMESTAMP={1000000 + i * 1000}\n"
                    "_BOOT_ID=5c1f2e3d4b5a69788796a5b4c3d2e1f0\n_HOSTNAME=itest\n_TRANSPORT=journal\n"
                    f"_SYSTEMD_UNIT=itest.service\nPRIORITY=6\n_PID={100 + i % 7}\nMESSAGE=journal-{i:06d}\n\n")


def rfc3339(ns):
    s, frac = divmod(ns, 1000000000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + f".{frac:09d}Z"


def write_pods(d, n, seconds):
    pod = os.path.join(d, "itest_writer-0_11111111-2222-3333-4444-555555555555", "app")
    os.makedirs(pod, exist_ok=True)
    path = os.path.join(pod, "0.log")
    t0 = time.time_ns()
    f = open(path, "a", encoding="utf-8")
    chunk = 500
    per_chunk = seconds / (n / chunk)
    for i in range(n):
        ts = t0 + i * 1000  # unique, increasing
        line = f"pod-{i:06d} payload {i * 7919 % 100003}"
        if i % 997 == 0:
            f.write(f"{rfc3339(ts)} stdout P {line[:6]}\n{rfc3339(ts + 1)} stdout P {line[6:12]}\n"
                    f"{rfc3339(ts + 2)} stdout F {line[12:]}\n")
        else:
            f.write(f"{rfc3339(ts)} stdout F {line}\n")
        if (i + 1) % chunk == 0:
            f.flush()
            time.sleep(per_chunk)
        if i + 1 == n // 2:
            f.close()
            os.rename(path, path + ".20240101-000000")
            f = open(path, "a", encoding="utf-8")
    f.close()
    print(t0, t0 + n * 1000)


def http(url, data=None, headers=None, timeout=30):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def probe(url):
    try:
        http(url, data=b'{"streams":[]}', headers={"Content-Type": "application/json"})
    except urllib.error.HTTPError as e:
        if e.code in (404, 405):
            return 77
    except OSError:
        return 1
    return 0


def count(base, selector):
    q = urllib.parse.urlencode({"query": f"sum(count_over_time({selector}[{WINDOW}]))", "time": str(time.time())})
    _, body = http(f"{base}/loki/api/v1/query?{q}")
    res = json.loads(body)["data"]["result"]
    return int(float(res[0]["value"][1])) if res else 0


def check(base, selector, prefix, n, start_ns, end_ns):
    got = count(base, selector)
    if got != n:
        print(f"{selector}: count_over_time says {got}, want {n}")
        return 1
    seen = bytearray(n)
    start, pages = start_ns, 0
    while True:
        q = urllib.parse.urlencode({"query": selector, "start": str(start), "end": str(end_ns),
                                    "direction": "forward", "limit": "5000"})
        _, body = http(f"{base}/loki/api/v1/query_range?{q}", timeout=60)
        vals = [v for s in json.loads(body)["data"]["result"] for v in s["values"]]
        if not vals:
            break
        pages += 1
        last = start
        for ts, line in vals:
            if not line.startswith(prefix):
                print(f"unexpected line {line[:60]!r}")
                return 1
            i = int(line[len(prefix):len(prefix) + 6])
            if seen[i]:
                print(f"{prefix}{i:06d} appears twice")
                return 1
            seen[i] = 1
            last = max(last, int(ts))
        start = last + 1
    missing = [i for i in range(n) if not seen[i]]
    if missing:
        print(f"{len(missing)} lines missing, first {prefix}{missing[0]:06d}")
        return 1
    print(f"{selector}: {n} lines, each once ({pages} pages)")
    return 0


def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "journal-export":
        journal_export(a[0], int(a[1]), int(a[2]))
    elif cmd == "write-pods":
        write_pods(a[0], int(a[1]), float(a[2]))
    elif cmd == "probe":
        return probe(a[0])
    elif cmd == "count":
        print(count(a[0], a[1]))
    elif cmd == "check":
        return check(a[0], a[1], a[2], int(a[3]), int(a[4]), int(a[5]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

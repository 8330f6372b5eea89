#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# journal.sh: pharos-agent's journald throughput (issue target: >= 50,000
# entries/s on one core). N journal entries (export format: realistic
# fields, messages cycled from this machine's /var/log text) are made into
# a journal file by systemd-journal-remote; the agent reads it through
# --journal.path and ships it by Loki push to a pharosd on 127.0.0.1 until
# pharosd holds all N (its count_over_time). Reported: wall entries/s, entries per
# agent CPU-second (the one-core figure), the agent's and pharosd's CPU,
# and the agent's peak RSS; median of --runs runs (fresh agent state each).
# Writes the "Agent journal throughput" section of bench/RESULTS.md.
#
# Usage: bench/journal.sh [--entries 500000] [--runs 3] [--no-results]
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
N=500000 RUNS=3 WRITE=1
while [ $# -gt 0 ]; do
  case "$1" in
    --entries) N="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --no-results) WRITE=0; shift ;;
    *) echo "usage: $0 [--entries N] [--runs R] [--no-results]" >&2; exit 2 ;;
  esac
done
scripts/deps.sh test >/dev/null
cmake -S . -B bench/.build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build bench/.build -j"$(nproc)" --target pharosd pharos-agent >/dev/null || exit 1
JREMOTE=/usr/lib/systemd/systemd-journal-remote
[ -x "$JREMOTE" ] || JREMOTE=/lib/systemd/systemd-journal-remote
WORK=$(mktemp -d /tmp/pharos-journalbench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$WORK"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_s() { awk -v tck="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / tck }' "/proc/$1/stat"; }

now_us=$(( $(date +%s) * 1000000 ))
python3 - "$WORK/j.export" "$N" $(( now_us - N * 1000 - 60000000 )) <<'PY'
import glob, gzip, sys
out, n, t0 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lines = []
for p in sorted(glob.glob("/var/log/**/*", recursive=True)):
    try:
        data = gzip.open(p).read() if p.endswith(".gz") else open(p, "rb").read()
    except Exception:
        continue
    if b"\0" in data[:4096]:
        continue
    lines += [l.decode("utf-8", "replace") for l in data.splitlines() if l.strip()]
lines = lines or ["pharos journal bench line"]
units = ["ssh.service", "cron.service", "kubelet.service", "containerd.service", "systemd-logind.service"]
with open(out, "w", encoding="utf-8") as f:
    for i in range(n):
        u = units[i % len(units)]
        f.write(f"__REALTIME_TIMESTAMP={t0 + i * 1000}\n__MONOTONIC_TIMESTAMP={1000000 + i * 1000}\n"
                f"_BOOT_ID=5c1f2e3d4b5a69788796a5b4c3d2e1f0\n_HOSTNAME=bench\n_TRANSPORT=journal\n"
                f"_SYSTEMD_UNIT={u}\nSYSLOG_IDENTIFIER={u.split('.')[0]}\n_COMM={u.split('.')[0]}\n"
                f"PRIORITY={(3, 4, 6, 6, 6, 7)[i % 6]}\n_PID={1000 + i % 97}\n"
                f"MESSAGE={lines[i % len(lines)].replace(chr(10), ' ')} [{i}]\n\n")
PY
mkdir -p "$WORK/journal"
"$JREMOTE" -o "$WORK/journal/bench.journal" "$WORK/j.export" 2>"$WORK/jremote.log" || { cat "$WORK/jremote.log"; exit 1; }
jbytes=$(stat -c %s "$WORK/journal/bench.journal")
results=()
for run in $(seq "$RUNS"); do
  pp=$(free_port); ap=$(free_port)
  rm -rf "$WORK/store" "$WORK/agent"
  bench/.build/server/pharosd --storage.path="$WORK/store" --web.listen-address=127.0.0.1:"$pp" >"$WORK/pharosd.log" 2>&1 &
  ppid=$!; PIDS+=("$ppid")
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$pp/ready" >/dev/null && break; sleep 0.05; done
  t0=$(date +%s.%N)
  bench/.build/agent/pharos-agent --web.listen-address=127.0.0.1:"$ap" --storage.path="$WORK/agent" \
    --collect.interval=1h --logs.url="http://127.0.0.1:$pp/loki/api/v1/push" --journal.path="$WORK/journal" \
    --logs.journal.max-age=0s --logs.batch-deadline=200ms >"$WORK/agent.log" 2>&1 &
  apid=$!; PIDS+=("$apid")
  shipped=0
  for _ in $(seq 3000); do
    shipped=$(curl -s -G "http://127.0.0.1:$pp/loki/api/v1/query" \
      --data-urlencode 'query=sum(count_over_time({job="systemd-journal"}[2h]))' 2>/dev/null |
      python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(int(float(r[0]["value"][1])) if r else 0)' 2>/dev/null)
    [ "${shipped:-0}" -ge "$N" ] && break
    sleep 0.1
  done
  t1=$(date +%s.%N)
  acpu=$(cpu_s "$apid"); pcpu=$(cpu_s "$ppid")
  hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$apid/status")
  anon=$(awk '/RssAnon/ { print $2 }' "/proc/$apid/status")
  kill -TERM "$apid" "$ppid"; wait "$apid" "$ppid" 2>/dev/null
  PIDS=()
  results+=("$(python3 -c "import json,sys; n=$N; w=$t1-$t0; print(json.dumps({'shipped': $shipped, 'wall_s': round(w,3), 'per_s': round(n/w), 'agent_cpu_s': $acpu, 'per_cpu_s': round(n/max($acpu,0.01)), 'pharosd_cpu_s': $pcpu, 'agent_hwm_kib': $hwm, 'agent_anon_kib': $anon}))")")
  echo "run $run: ${results[-1]}" >&2
done
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
python3 - "$N" "$jbytes" "$rev" "$WRITE" "${results[@]}" <<'PY'
import json, re, statistics, sys
n, jbytes, rev, write = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
runs = [json.loads(r) for r in sys.argv[5:]]
ok = all(r["shipped"] >= n for r in runs)
med = lambda k: statistics.median(r[k] for r in runs)
body = (f"`bench/journal.sh --entries {n} --runs {len(runs)}` at {rev} (Release build).\n\n"
        f"{n} journal entries (a {jbytes / 1e6:.1f} MB journal file made by systemd-journal-remote from an export of "
        "realistic fields: 5 units, priorities, PIDs, messages cycled from this machine's /var/log text) read by "
        "pharos-agent through `--journal.path` from the oldest entry and shipped by Loki push to a pharosd on "
        "127.0.0.1, until pharosd's `sum(count_over_time({job=\"systemd-journal\"}[2h]))` reached "
        f"{n}. Median of {len(runs)} runs; every run shipped everything: {'yes' if ok else 'NO'}.\n\n"
        "| figure | pharos-agent | target | met |\n|---|---|---|---|\n"
        f"| entries per agent CPU-second (one core) | {med('per_cpu_s'):,.0f} | ≥ 50,000 | "
        f"{'yes' if med('per_cpu_s') >= 50000 else '**no**'} |\n"
        f"| entries/s, wall (read, encode, spool, push, ack) | {med('per_s'):,.0f} | | – |\n"
        f"| agent CPU seconds | {med('agent_cpu_s')} | | – |\n"
        f"| pharosd CPU seconds (ingest) | {med('pharosd_cpu_s')} | | – |\n"
        f"| agent peak RSS | {med('agent_hwm_kib') / 1024:.1f} MiB | | – |\n"
        f"| agent anonymous RSS at the end | {med('agent_anon_kib') / 1024:.1f} MiB | | – |\n\n"
        "The peak RSS counts the journal file's pages, which libsystemd maps (file-backed and reclaimable: "
        "the anonymous part is the agent's own memory).\n\n"
        "Runs: " + "; ".join(f"{r['per_s']:,}/s wall, {r['per_cpu_s']:,}/CPU-s" for r in runs) + ".\n")
print(body)
if write:
    path = "bench/RESULTS.md"
    text = open(path).read()
    section = "## Agent journal throughput\n\n" + body + "\n"
    m = re.search(r"^## Agent journal throughput\n.*?(?=^## |\Z)", text, re.S | re.M)
    text = text[:m.start()] + section + text[m.end():] if m else text.rstrip("\n") + "\n\n" + section
    open(path, "w").write(text)
    print("bench/RESULTS.md: Agent journal throughput section written", file=sys.stderr)
sys.exit(0 if ok else 1)
PY

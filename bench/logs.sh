#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# logs.sh: the one command that benchmarks pharosd's log side on real log
# text and writes the "Logs" section of bench/RESULTS.md (other sections kept).
#
#  1. bench/logs_run.py prepare: this machine's /var/log text (and journal, if
#     any) replayed to --lines lines over 24+ streams {job,host,filename,level}
#     with increasing timestamps over the last 2 h; the exact lines pushed are
#     also written as raw files, one per stream.
#  2. references on those bytes: zstd -3 (size), ripgrep over the raw files
#     and rg -z over the .zst files (time, median of --runs).
#  3. --ingest-runs times: a fresh pharosd on 127.0.0.1 (port checked free),
#     bench/logs_load (C, requests pre-encoded: protobuf + snappy) pushes every
#     line through POST /loki/api/v1/push; lines/s, MB/s, client and server CPU,
#     VmHWM. The last run's store is kept:
#  4. LogQL latencies as loaded; flush (Loki's POST /flush if pharosd has it,
#     and /api/v1/admin/tsdb/flush), a clean SIGTERM stop and a restart; bytes
#     of <storage>/logs on disk; the latencies again (the main figures).
# Every process started here is stopped by PID on exit.
#
# Usage: bench/logs.sh [--lines 2000000] [--runs 5] [--ingest-runs 5] [--threads 4]
#                      [--batch-bytes 1048576] [--vary numbers|ts|none] [--keep]
#                      [--no-results]   (print the section, leave RESULTS.md alone)
#                      [--pharosd PATH] (benchmark this binary instead of building one)
# shellcheck disable=SC2034 # KEEP, PIDS, PHAROSD, PR_PORT, VM_PORT, NE_PORT: used by lib.sh
set -uo pipefail

LINES=2000000 RUNS=5 INGEST_RUNS=5 THREADS=4 BATCH=1048576 VARY=numbers KEEP=0 WRITE=1 PHAROSD=""
ARGS=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --lines) LINES="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --ingest-runs) INGEST_RUNS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --batch-bytes) BATCH="$2"; shift 2 ;;
    --vary) VARY="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --no-results) WRITE=0; shift ;;
    --pharosd) PHAROSD="$2"; shift 2 ;;
    -h|--help) sed -n '3,26p' "$0"; exit 0 ;;
    *) echo "logs.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
BUILD=$BENCH/.build
WORK=$(mktemp -d /tmp/pharos-logbench.XXXXXX)
PH_PORT=29749 PR_PORT=0 VM_PORT=0 NE_PORT=0
PIDS=()
. "$BENCH/lib.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM
PROBLEMS=$WORK/problems.txt; : >"$PROBLEMS"
problem() { log "PROBLEM: $*"; echo "$*" >>"$PROBLEMS"; }

# ---- setup -------------------------------------------------------------------
"$ROOT/scripts/deps.sh" test || exit 1
TARGETS=(logs_load); [ -n "$PHAROSD" ] || TARGETS+=(pharosd)
log "building ${TARGETS[*]} (Release) in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DPHAROS_SANITIZE=OFF -DPHAROS_COVERAGE=OFF \
  -DPHAROS_FUZZ=OFF >"$WORK/cmake.log" 2>&1 || { tail -30 "$WORK/cmake.log"; exit 1; }
cmake --build "$BUILD" --target "${TARGETS[@]}" -j"$(nproc)" >>"$WORK/cmake.log" 2>&1 || { tail -30 "$WORK/cmake.log"; exit 1; }
[ -n "$PHAROSD" ] || PHAROSD=$BUILD/server/pharosd
LOAD=$BUILD/bench/logs_load
REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$ROOT" status --porcelain -- . ':!bench' 2>/dev/null | wc -l)
port_free "$PH_PORT" || { log "port $PH_PORT on 127.0.0.1 is in use by another process: not benchmarking it"; exit 1; }

# ---- corpus and references -----------------------------------------------------
DATA=$WORK/data
log "preparing $LINES lines from /var/log"
python3 "$BENCH/logs_run.py" prepare --out "$DATA" --lines "$LINES" --vary "$VARY" >"$WORK/prepare.json" || exit 1
log "prepared: $(cat "$WORK/prepare.json")"
log "references: zstd -3 and ripgrep ($RUNS runs)"
python3 "$BENCH/logs_run.py" refs --dir "$DATA" --runs "$RUNS" >"$WORK/refs.json" || exit 1
log "refs: $(jq -c '{raw_bytes,zstd_bytes,rare:.rare_raw.median_s,rare_z:.rare_zst.median_s,n:.rare_raw.count}' "$WORK/refs.json")"

# ---- ingest ------------------------------------------------------------------
URL=http://127.0.0.1:$PH_PORT
: >"$WORK/ingest.jsonl"
PID=""
for run in $(seq 1 "$INGEST_RUNS"); do
  STORE=$WORK/store-$run
  rm -rf "$WORK/store-$((run - 1))"
  mkdir -p "$STORE"
  start_sys pharosd "$STORE" "$WORK/pharosd.log" || exit 1
  PID=$SPID
  wait_ready "$PID" "$URL/-/ready" 60 || { problem "pharosd did not start: $(tail -3 "$WORK/pharosd.log" | tr '\n' ' ')"; break; }
  sleep 1
  c0=$(cpu_s "$PID"); b0=$(busy_s)
  log "ingest run $run/$INGEST_RUNS"
  "$LOAD" --url "$URL/loki/api/v1/push" --replay "$DATA/replay.tsv" --streams "$DATA/streams.txt" \
    --threads "$THREADS" --batch-bytes "$BATCH" >"$WORK/load-$run.json" 2>"$WORK/load-$run.err"
  rc=$?
  c1=$(cpu_s "$PID"); b1=$(busy_s)
  hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$PID/status" 2>/dev/null || echo 0)
  alive=1; kill -0 "$PID" 2>/dev/null || alive=0
  if ! jq -e . "$WORK/load-$run.json" >/dev/null 2>&1; then
    echo "{\"error\":\"logs_load exit $rc: $(tail -2 "$WORK/load-$run.err" | tr '\n"' ' ')\"}" >"$WORK/load-$run.json"
  fi
  jq -c --argjson sc "$(fsub "$c1" "$c0")" --argjson busy "$(fsub "$b1" "$b0")" --argjson hwm "${hwm:-0}" \
    --argjson alive "$alive" --argjson rc "$rc" \
    '. + {server_cpu_s: $sc, machine_busy_s: $busy, vmhwm_kib: $hwm, server_alive: ($alive == 1), rc: $rc}
       | . + {other_cpu_s: ((.machine_busy_s - .server_cpu_s - (.total_cpu_s // 0)) * 100 | round / 100)}' \
    "$WORK/load-$run.json" >>"$WORK/ingest.jsonl"
  log "run $run: $(tail -1 "$WORK/ingest.jsonl" | jq -c '{lines_ok,lines_failed,wall_s,lines_per_s,mb_per_s,client_cpu_s,server_cpu_s,vmhwm_kib,retries,first_error}')"
  if [ "$alive" = 0 ]; then
    problem "pharosd died during ingest run $run: $(tail -5 "$WORK/pharosd.log" | tr '\n' ' ')"; PID=""; break
  fi
  [ "$rc" = 0 ] || problem "ingest run $run: logs_load exit $rc ($(tail -1 "$WORK/ingest.jsonl" | jq -c '{lines_failed,codes,first_code,first_error}'))"
  [ "$run" -lt "$INGEST_RUNS" ] && stop_pid "$PID" 120
done

# ---- queries, flush, disk ----------------------------------------------------------
: >"$WORK/queries_head.json"; : >"$WORK/queries.json"; echo '{}' >"$WORK/disk.json"
PEAK=0
if [ -n "$PID" ]; then
  sleep 2
  log "queries as loaded"
  python3 "$BENCH/logs_run.py" query --dir "$DATA" --url "$URL" --pid "$PID" --runs "$RUNS" \
    >"$WORK/queries_head.json" 2>>"$WORK/query.log" || problem "query run (as loaded) failed: $(tail -3 "$WORK/query.log" | tr '\n' ' ')"
  kill -0 "$PID" 2>/dev/null || problem "pharosd died during the queries (as loaded): $(tail -5 "$WORK/pharosd.log" | tr '\n' ' ')"
  FLUSHED="" NOFLUSH=""
  for ep in /flush /api/v1/admin/tsdb/flush; do
    t0=$(now_s)
    code=$(curl -s -o "$WORK/flush.txt" -w '%{http_code}' --max-time 1800 -X POST "$URL$ep")
    log "POST $ep: $code in $(fsub "$(now_s)" "$t0")s"
    [ "$ep" = /flush ] && case $code in 2*) FLUSHED="POST /flush, " ;; *) NOFLUSH="POST /flush answered $code: pharosd has no log flush endpoint, so the log WAL is measured as it stands after a clean stop and restart" ;; esac
  done
  PEAK=$(awk '/^VmHWM:/ { print $2 }' "/proc/$PID/status" 2>/dev/null || echo 0)
  t0=$(now_s); stop_pid "$PID" 600; STOP_S=$(fsub "$(now_s)" "$t0")
  log "pharosd stopped in ${STOP_S}s"
  start_sys pharosd "$STORE" "$WORK/pharosd.log" || exit 1
  PID=$SPID; t0=$(now_s)
  if wait_ready "$PID" "$URL/-/ready" 600; then
    START_S=$(fsub "$(now_s)" "$t0")
    sleep 1
    parts=$(cd "$STORE/logs" 2>/dev/null && for d in *; do [ -e "$d" ] && printf '"%s":%s,' "$d" "$(du -sb "$d" | cut -f1)"; done)
    lb=$(du -sb "$STORE/logs" 2>/dev/null | cut -f1); la=$(du -sk "$STORE/logs" 2>/dev/null | cut -f1)
    [ -n "$lb" ] || problem "no logs/ directory under the storage path $STORE"
    jq -cn --argjson b "${lb:-0}" --argjson parts "{${parts%,}}" \
      --argjson alloc "${la:-0}" --arg how "${FLUSHED}SIGTERM + restart" \
      --arg long "${FLUSHED}SIGTERM (stopped in ${STOP_S}s) and restart (ready in ${START_S}s), measured after the restart" \
      --arg noflush "$NOFLUSH" \
      '{logs_bytes: $b, alloc_kib: $alloc, parts: $parts, how: $how, how_long: $long, noflush: $noflush}' >"$WORK/disk.json"
    log "disk: $(cat "$WORK/disk.json")"
    log "queries after flush + restart"
    python3 "$BENCH/logs_run.py" query --dir "$DATA" --url "$URL" --pid "$PID" --runs "$RUNS" \
      >"$WORK/queries.json" 2>>"$WORK/query.log" || problem "query run (after restart) failed: $(tail -3 "$WORK/query.log" | tr '\n' ' ')"
    kill -0 "$PID" 2>/dev/null || problem "pharosd died during the queries (after restart): $(tail -5 "$WORK/pharosd.log" | tr '\n' ' ')"
    stop_pid "$PID" 120
  else
    problem "pharosd did not restart within 600 s: $(tail -3 "$WORK/pharosd.log" | tr '\n' ' ')"
  fi
fi
grep -iE 'panic|abort|assert|segfault|sanitizer' "$WORK/pharosd.log" | head -5 | while read -r l; do problem "pharosd log: $l"; done

# ---- report ------------------------------------------------------------------
CMDLINE="bench/logs.sh"
[ ${#ARGS[@]} -gt 0 ] && CMDLINE+=$(printf ' %q' "${ARGS[@]}")
python3 - "$WORK" "$CMDLINE" "$REV" "$DIRTY" "$RUNS" "$BATCH" "$PEAK" <<'PY' >"$WORK/records.json"
import json, os, platform, sys, time
w, cmdline, rev, dirty, runs, batch, peak = sys.argv[1:8]
def load(p, default=None):
    try:
        t = open(os.path.join(w, p)).read().strip()
        return json.loads(t) if t else default
    except Exception:
        return default
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = int(next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal"))) / 1048576
ingest = [json.loads(l) for l in open(os.path.join(w, "ingest.jsonl")) if l.strip()]
other = ", ".join("%.2f cores" % (r["other_cpu_s"] / r["total_s"]) for r in ingest if r.get("total_s"))
qs = load("queries.json")
rec = {"cmdline": cmdline, "rev": rev, "dirty": ", %s files outside bench/ differ from it" % dirty if dirty != "0" else "",
       "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpu_model": cpu, "cores": os.cpu_count(),
       "mem_gib": mem, "kernel": "Linux " + platform.release(), "other_cpu": other or "?",
       "meta": load("data/meta.json"), "refs": load("refs.json"), "ingest": ingest,
       "queries_head": load("queries_head.json"), "queries": qs, "disk": load("disk.json", {}),
       "runs": int(runs), "batch_bytes": int(batch), "limit": 1000,
       "peak_kib": max(int(peak or 0), (qs or {}).get("vmhwm_kib", 0) if qs else 0),
       "problems": [l.strip() for l in open(os.path.join(w, "problems.txt")) if l.strip()]}
json.dump(rec, sys.stdout)
PY
RES=$BENCH/RESULTS.md
[ "$WRITE" = 1 ] || { cp "$RES" "$WORK/RESULTS.md" 2>/dev/null || : >"$WORK/RESULTS.md"; RES=$WORK/RESULTS.md; }
python3 "$BENCH/logs_run.py" report --records "$WORK/records.json" --results "$RES" || exit 1
[ "$WRITE" = 1 ] && log "bench/RESULTS.md: Logs section written" || log "RESULTS.md left alone (--no-results)"
[ -s "$PROBLEMS" ] && exit 1
exit 0

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# query.sh: the one command that benchmarks query latency of pharosd against
# Prometheus 2.42 and VictoriaMetrics 1.79 on the same data, and writes the
# "Query latency" section of bench/RESULTS.md (the ingest sections, written
# by bench/run.sh, are kept).
#
# Per H, each system in turn, alone on 127.0.0.1 with a fresh data dir, is
# loaded with rwload's workload (as in run.sh, plus --histogram: one classic
# histogram family per host) ending at the same minute for all three, then
# settled and queried by bench/query_run.py: 17 dashboard-style PromQL range
# queries over the last 1 h (step 15 s) and the whole window (step 60 s),
# plus /api/v1/labels, /label/__name__/values and /series; one warm-up and
# --runs timed requests each on one keep-alive connection; peak RSS of the
# query phase (VmHWM reset before each query, and VmRSS sampled at 10 Hz).
#   pharosd:    "head"   = as loaded (the head holds the newest block range),
#               "blocks" = after POST /api/v1/admin/tsdb/flush (all in blocks)
#                          and a restart, so its RSS is not the head phase's heap
#   Prometheus: as loaded, once the head was cut into 2h blocks and settled
#   VM:         after /internal/force_flush, nocache=1 on every request
# query_report.py then compares every answer with Prometheus'.
# Every process started here is stopped by PID on exit.
#
# Usage: bench/query.sh [--hosts "50 200"] [--hours 4.5] [--systems "pharosd prometheus vm"]
#                       [--runs 5] [--keep]   (--keep: leave the temp work dir, with every answer)
set -uo pipefail

HOSTS="50 200"
HOURS=4.5
SYSTEMS="pharosd prometheus vm"
RUNS=5
KEEP=0
ARGS=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --hosts) HOSTS="$2"; shift 2 ;;
    --hours) HOURS="$2"; shift 2 ;;
    --systems) SYSTEMS="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '3,26p' "$0"; exit 0 ;;
    *) echo "query.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
BUILD=$BENCH/.build
WORK=$(mktemp -d /tmp/pharos-qbench.XXXXXX)
RESULTS=$WORK/query.jsonl
# Ports apart from run.sh's, and checked free before each start, so that a
# server someone else runs on this machine is never loaded or measured.
NE_PORT=29100 PH_PORT=29747 PR_PORT=29090 VM_PORT=28429
PIDS=()

. "$(dirname "$0")/lib.sh"


trap cleanup EXIT
trap 'exit 130' INT TERM


# ---- setup ----------------------------------------------------------------
install_and_build
# what was built: the commit, and the files outside bench/ that differed from it
{ git -C "$ROOT" rev-parse --short HEAD; date -u +%H:%M:%SZ; git -C "$ROOT" status --short -- . ':!bench' | tr '\n' ' '; } \
  >"$WORK/build.txt" 2>/dev/null

for p in $NE_PORT $PH_PORT $PR_PORT $VM_PORT; do
  port_free "$p" || { log "port $p on 127.0.0.1 is in use by another process: not benchmarking it"; exit 1; }
done
scrape_node_once

# ---- one system ------------------------------------------------------------

settle() { # url metric-regex: wait until the summed metrics stay unchanged for 5 s (max 10 min)
  local url=$1 re=$2 i=0 last="" stable=0
  while [ $i -lt 600 ]; do
    local cur; cur=$(curl -s --max-time 10 "$url/metrics" | awk -v re="$re" '$0 !~ /^#/ { n = $1; sub(/\{.*/, "", n); if (n ~ re) printf "%s=%s ", n, $NF }')
    if [ -n "$cur" ] && [ "$cur" = "$last" ]; then stable=$((stable + 1)); else stable=0; fi
    [ $stable -ge 5 ] && return 0
    last=$cur; sleep 1; i=$((i + 1))
  done
  return 1
}
state_json() { # sys url dir: where the data is, as JSON
  local sys=$1 url=$2 dir=$3 m; m=$(curl -s --max-time 20 "$url/metrics")
  case $sys in
    pharosd) echo "$m" | awk '$0 !~ /^#/ && /^pharos_tsdb_(blocks|head_series|head_samples|head_min_time_seconds|head_max_time_seconds|head_cuts_total|compactions_total) / { printf "%s\"%s\":%s", (n++ ? "," : "{"), $1, $2 } END { print (n ? "}" : "{}") }' ;;
    prometheus)
      local blocks; blocks=$(ls "$dir"/*/meta.json 2>/dev/null | wc -l)
      echo "$m" | awk -v b="$blocks" '$0 !~ /^#/ && /^prometheus_tsdb_(head_series|head_min_time|head_max_time|head_chunks|blocks_loaded) / { printf "%s\"%s\":%s", (n++ ? "," : "{"), $1, $2 } END { printf "%s\"block_dirs\":%d}\n", (n ? "," : "{"), b }' ;;
    vm) echo "$m" | awk '$0 !~ /^#/ && /^vm_(rows|parts|active_merges)\{/ { k = $1; gsub(/"/, "", k); s[k] += $2 } END { for (k in s) printf "%s\"%s\":%s", (n++ ? "," : "{"), k, s[k]; print (n ? "}" : "{}") }' ;;
  esac
}

wait_quiet() { # pid: up to 120 s for everything but our server (and its settling) to use < 0.3 cores over 2 s
  local i=0 b0 b1 c0 c1
  while [ $i -lt 60 ]; do
    b0=$(busy_s); c0=$(cpu_s "$1"); sleep 2; b1=$(busy_s); c1=$(cpu_s "$1")
    awk -v a="$b0" -v b="$b1" -v c="$c0" -v d="$c1" 'BEGIN { exit !((b - a - (d - c)) / 2 < 0.3) }' && return 0
    [ $i = 0 ] && log "other processes busy ($(fsub "$(fsub "$b1" "$b0")" "$(fsub "$c1" "$c0")") CPU-s in 2 s): waiting up to 120 s for quiet"
    i=$((i + 1))
  done
  log "machine still busy: measuring anyway (see 'other processes' CPU' in the report)"
}

query_phase() { # sys mode url pid dir [extra args]
  local sys=$1 mode=$2 url=$3 pid=$4 dir=$5; shift 5
  wait_quiet "$pid"
  local st; st=$(state_json "$sys" "$url" "$dir"); [ -n "$st" ] || st='{}'
  log "$sys H=$H [$mode]: queries (state $st)"
  python3 "$BENCH/query_run.py" --url "$url" --pid "$pid" --system "$sys" --mode "$mode" --hosts "$H" \
    --end-ms "$END_MS" --data-start-ms "$DATA_START_MS" --runs "$RUNS" --state "$st" \
    --out "$WORK/rec-$sys-$mode-h$H.json" --bodies "$WORK/bodies/$sys-$mode-h$H" "$@" >>"$WORK/query_progress.log" 2>&1
  local rc=$?
  [ $rc -eq 0 ] || { log "query_run failed ($rc)"; tail -5 "$WORK/query_progress.log" >&2; return 1; }
  jq -c --argjson load "$LOAD_JSON" --arg note "$NOTE" '. + {load: $load, note: $note}' "$WORK/rec-$sys-$mode-h$H.json" >>"$RESULTS"
  jq -r '.results[] | select(.ok | not) | "  FAILED \(.id) \(.window): \(.errors[0])"' "$WORK/rec-$sys-$mode-h$H.json" | head -20 >&2
}

run_one() { # sys hosts
  local sys=$1 H=$2 tag="$1-h$2"
  local dir=$WORK/data-$tag lf=$WORK/$tag.log url; url=$(base_url "$sys")
  rm -rf "$dir"; mkdir -p "$dir"
  NOTE=""
  log "== $sys H=$H: start"
  start_sys "$sys" "$dir" "$lf" || exit 1
  if ! wait_ready "$SPID" "$READY_URL" 60; then
    log "$sys did not become ready"; tail -20 "$lf" >&2
    jq -cn --arg s "$sys" --argjson h "$H" --arg e "did not start: $(tail -3 "$lf")" '{system:$s,hosts:$h,mode:"-",error:$e}' >>"$RESULTS"
    stop_pid "$SPID" 10; return
  fi
  local pid=$SPID
  log "$sys H=$H: loading ${HOURS}h of data ending at $END_MS"
  "$RWLOAD" --url "$url/api/v1/write" --source "$WORK/node.prom" --hosts "$H" --duration "${HOURS}h" \
    --interval 15s --threads 4 --seed 42 --histogram --end-ms "$END_MS" >"$WORK/$tag.load.json" 2>"$WORK/$tag.rwload.log"
  local rc=$?
  LOAD_JSON=$(jq -c '{samples_ok,samples_failed,series,wall_s,samples_per_s,start_ms,end_ms}' "$WORK/$tag.load.json" 2>/dev/null || echo null)
  log "$sys H=$H: load $LOAD_JSON"
  [ $rc -ne 0 ] && NOTE+="rwload exit $rc; "
  if ! kill -0 "$pid" 2>/dev/null; then
    jq -cn --arg s "$sys" --argjson h "$H" --arg e "server died during the load: $(tail -5 "$lf" | tr '\n' ' ')" \
      '{system:$s,hosts:$h,mode:"-",error:$e}' >>"$RESULTS"
    return
  fi
  DATA_START_MS=$(jq -r '.start_ms' "$WORK/$tag.load.json")
  case $sys in
    pharosd)
      settle "$url" '^pharos_tsdb_(blocks|head_cuts_total|compactions_total|head_samples)$' || NOTE+="pharosd did not settle in 10 min; "
      query_phase pharosd head "$url" "$pid" "$dir"
      local t0; t0=$(now_s)
      local code; code=$(curl -s -o "$WORK/$tag.flush.txt" -w '%{http_code}' --max-time 1800 -X POST "$url/api/v1/admin/tsdb/flush")
      log "pharosd H=$H: flush answered $code in $(fsub "$(now_s)" "$t0")s"
      [ "$code" = 204 ] || [ "$code" = 200 ] || NOTE+="flush answered $code: $(head -c 200 "$WORK/$tag.flush.txt"); "
      settle "$url" '^pharos_tsdb_(blocks|head_cuts_total|compactions_total|head_samples)$' || NOTE+="pharosd did not settle after the flush; "
      # a fresh process, so the head phase's heap does not count in this phase's RSS
      stop_pid "$pid" 300; start_sys pharosd "$dir" "$lf" || exit 1; pid=$SPID
      wait_ready "$pid" "$READY_URL" 600 || { log "pharosd did not restart"; tail -5 "$lf" >&2; return; }
      query_phase pharosd blocks "$url" "$pid" "$dir" ;;
    prometheus)
      if awk -v h="$HOURS" 'BEGIN { exit !(h > 3) }'; then
        wait_prom_blocks "$url" "$dir" || NOTE+="prometheus did not cut blocks within 10 min; "
      fi
      query_phase prometheus loaded "$url" "$pid" "$dir" ;;
    vm)
      curl -s -o /dev/null --max-time 600 "$url/internal/force_flush"
      settle "$url" '^vm_(active_merges|parts)$' || NOTE+="VM merges did not settle within 10 min; "
      query_phase vm flushed "$url" "$pid" "$dir" --nocache ;;
  esac
  local t1; t1=$(now_s); stop_pid "$pid" 300
  log "$sys H=$H: stopped in $(fsub "$(now_s)" "$t1")s"
  cp "$lf" "$WORK/$tag.server.log" 2>/dev/null
  rm -rf "$dir"
}

for H in $HOSTS; do
  # One end for all systems of this H: 4 min past a half hour, at least a minute ago, so
  # both windows' steps divide it and pharosd's head (block range 30 min, cut 5 min behind
  # the newest sample) holds the last 34 min when measured as loaded.
  END_MS=$(( (($(date +%s) - 300) / 1800 * 1800 + 240) * 1000 ))
  for sys in $SYSTEMS; do run_one "$sys" "$H"; done
done

log "writing the Query latency section of $BENCH/RESULTS.md"
CMDLINE="bench/query.sh"
[ ${#ARGS[@]} -gt 0 ] && CMDLINE+=$(printf ' %q' "${ARGS[@]}")
python3 "$BENCH/query_report.py" "$RESULTS" "$WORK" "$CMDLINE" "$BENCH/RESULTS.md" || exit 1
sed -n '/<!-- query-latency:begin -->/,/<!-- query-latency:end -->/p' "$BENCH/RESULTS.md"

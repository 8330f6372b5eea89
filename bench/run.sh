#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# run.sh: the one command that benchmarks pharosd against Prometheus 2.42 and
# VictoriaMetrics 1.79 with the same remote-write workload (bench/rwload.c:
# this machine's node_exporter series replicated over H hosts, 15 s grid,
# --hours of past data in time order) and writes bench/RESULTS.md.
#
# Each system runs alone on 127.0.0.1 with a fresh data dir, for each H in
# turn. Per run: ingest samples/s (send phase), peak RSS (VmHWM after the
# send phase), server CPU seconds during the send phase (utime+stime), bytes
# on disk per sample once compacted (pharosd: after /api/v1/admin/tsdb/flush;
# Prometheus: after the head was cut into 2h blocks, blocks-only and whole
# dir; VM: after /internal/force_flush + force_merge), and, at the largest H,
# restart time (start to ready with the WAL/head full, right after the load).
# Every process started here is stopped by PID on exit.
#
# Usage: bench/run.sh [--hosts "50 200"] [--hours 4.5] [--systems "pharosd prometheus vm"]
#                     [--threads 4] [--keep]   (--keep: leave the temp work dir)
set -uo pipefail

HOSTS="50 200"
HOURS=4.5
SYSTEMS="pharosd prometheus vm"
THREADS=4
KEEP=0
ARGS=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --hosts) HOSTS="$2"; shift 2 ;;
    --hours) HOURS="$2"; shift 2 ;;
    --systems) SYSTEMS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '3,19p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
BUILD=$BENCH/.build
WORK=$(mktemp -d /tmp/pharos-bench.XXXXXX)
RESULTS=$WORK/results.jsonl
RESTART_H=$(for h in $HOSTS; do echo "$h"; done | sort -n | tail -1)
NE_PORT=19100 PH_PORT=19747 PR_PORT=19090 VM_PORT=18428
CLK_TCK=$(getconf CLK_TCK)
PIDS=()

. "$(dirname "$0")/lib.sh"


trap cleanup EXIT
trap 'exit 130' INT TERM

status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# ---- setup ----------------------------------------------------------------
install_and_build

scrape_node_once

# ---- one system ------------------------------------------------------------

wait_vm_merged() {
  local url=$1 dir=$2 i=0 last="" stable=0
  while [ $i -lt 600 ]; do
    local act; act=$(metric_sum "$url/metrics" '^vm_active_merges$')
    local cur; cur=$(du -sb "$dir" | cut -f1)
    if [ "${act:-1}" = 0 ] && [ "$cur" = "$last" ]; then stable=$((stable + 1)); else stable=0; fi
    [ $stable -ge 5 ] && return 0
    last=$cur; sleep 1; i=$((i + 1))
  done
  return 1
}

run_one() { # sys hosts
  local sys=$1 H=$2 tag="$1-h$2"
  local dir=$WORK/data-$tag lf=$WORK/$tag.log url; url=$(base_url "$sys")
  rm -rf "$dir"; mkdir -p "$dir"
  local note="" restart_s=null restart_hwm=null stop_s=null
  log "== $sys H=$H: start"
  start_sys "$sys" "$dir" "$lf" || exit 1
  if ! wait_ready "$SPID" "$READY_URL" 60; then
    log "$sys did not become ready"; tail -20 "$lf" >&2
    jq -cn --arg s "$sys" --argjson h "$H" --arg e "did not start: $(tail -3 "$lf")" '{system:$s,hosts:$h,error:$e}' >>"$RESULTS"
    stop_pid "$SPID" 10; return
  fi
  local pid=$SPID cpu0 busy0; cpu0=$(cpu_s "$pid"); busy0=$(busy_s)
  log "$sys H=$H: sending ${HOURS}h of data with $THREADS connections"
  "$RWLOAD" --url "$url/api/v1/write" --source "$WORK/node.prom" --hosts "$H" --duration "${HOURS}h" \
    --interval 15s --threads "$THREADS" --seed 42 >"$WORK/$tag.json" 2>"$WORK/$tag.rwload.log"
  local rc=$?
  local cpu1 hwm rss_end busy1; cpu1=$(cpu_s "$pid"); busy1=$(busy_s)
  hwm=$(status_kb "$pid" VmHWM); rss_end=$(status_kb "$pid" VmRSS)
  # CPU taken by processes other than this server and the loader during the send phase
  local other_cpu; other_cpu=$(jq -r --argjson b "$(fsub "$busy1" "$busy0")" --argjson s "$(fsub "$cpu1" "$cpu0")" \
    '[($b - $s - (.loader_cpu_s // 0)), 0] | max' "$WORK/$tag.json" 2>/dev/null || echo null)
  log "$sys H=$H: $(cat "$WORK/$tag.json" | jq -c '{samples_ok,samples_failed,wall_s,samples_per_s,loader_cpu_pct,first_error}' 2>/dev/null)"
  [ $rc -ne 0 ] && note+="rwload exit $rc (see first_error); "
  if ! kill -0 "$pid" 2>/dev/null; then
    note+="server died during the load: $(tail -5 "$lf" | tr '\n' ' '); "
    jq -cn --arg s "$sys" --argjson h "$H" --arg e "$note" --slurpfile l "$WORK/$tag.json" \
      '{system:$s,hosts:$h,error:$e,load:($l[0] // null)}' >>"$RESULTS"
    return
  fi
  curl -s --max-time 30 "$url/metrics" >"$WORK/$tag.metrics-after-load.txt"

  if [ "$H" = "$RESTART_H" ]; then
    log "$sys H=$H: restart with the WAL/head full"
    local t0; t0=$(now_s); stop_pid "$pid" 300; stop_s=$(fsub "$(now_s)" "$t0")
    t0=$(now_s); start_sys "$sys" "$dir" "$lf" || exit 1; pid=$SPID
    if wait_ready "$pid" "$READY_URL" 1800; then
      restart_s=$(fsub "$(now_s)" "$t0"); restart_hwm=$(status_kb "$pid" VmHWM)
      log "$sys H=$H: ready again after ${restart_s}s (stop took ${stop_s}s)"
    else
      note+="restart failed: $(tail -5 "$lf" | tr '\n' ' '); "
      log "$sys restart failed"; stop_pid "$pid" 10
      jq -cn --arg s "$sys" --argjson h "$H" --arg e "$note" --slurpfile l "$WORK/$tag.json" \
        '{system:$s,hosts:$h,error:$e,load:($l[0] // null)}' >>"$RESULTS"
      return
    fi
  fi

  log "$sys H=$H: compacting for the disk figure"
  local t0; t0=$(now_s)
  local disk=0 blocks_bytes=null block_samples=null stored=null
  case $sys in
    pharosd)
      local code; code=$(curl -s -o "$WORK/$tag.flush.txt" -w '%{http_code}' --max-time 1800 -X POST "$url/api/v1/admin/tsdb/flush")
      [ "$code" = 204 ] || [ "$code" = 200 ] || note+="flush answered $code: $(head -c 200 "$WORK/$tag.flush.txt"); "
      sync; disk=$(du -sb "$dir" | cut -f1)
      stored=$(metric_sum "$url/metrics" '^pharos_tsdb_samples_appended_total$') ;;
    prometheus)
      # Prometheus cuts a 2h block only once its head spans more than 3h.
      if awk -v h="$HOURS" 'BEGIN { exit !(h > 3) }'; then
        wait_prom_blocks "$url" "$dir" || note+="prometheus did not cut blocks within 10 min; "
      fi
      sync; disk=$(du -sb "$dir" | cut -f1)
      blocks_bytes=0; block_samples=0
      for b in "$dir"/*/; do
        [ -f "$b/meta.json" ] || continue
        blocks_bytes=$((blocks_bytes + $(du -sb "$b" | cut -f1)))
        block_samples=$((block_samples + $(jq '.stats.numSamples' "$b/meta.json")))
      done
      stored=$(metric_sum "$url/metrics" '^prometheus_tsdb_head_samples_appended_total$') ;;
    vm)
      curl -s -o /dev/null --max-time 600 "$url/internal/force_flush"
      curl -s -o /dev/null --max-time 1800 "$url/internal/force_merge"
      wait_vm_merged "$url" "$dir" || note+="VM merges did not settle within 10 min; "
      sync; disk=$(du -sb "$dir" | cut -f1)
      stored=$(metric_sum "$url/metrics" '^vm_rows$') ;;
  esac
  local compact_s; compact_s=$(fsub "$(now_s)" "$t0")
  curl -s --max-time 30 "$url/metrics" >"$WORK/$tag.metrics-final.txt"
  local cpu_total; cpu_total=$(cpu_s "$pid")
  local t1; t1=$(now_s); stop_pid "$pid" 300
  log "$sys H=$H: disk ${disk} B, stopped in $(fsub "$(now_s)" "$t1")s"
  local du_parts; du_parts=$(cd "$dir" && du -sb -- * 2>/dev/null | sort -k1,1nr | head -8 | awk '{printf "%s=%s ", $2, $1}')
  local errs; errs=$(grep -iE 'level=(error|warn)|\berror\b|panic' "$lf" | grep -vc 'Received SIGTERM' || true)
  jq -cn --arg s "$sys" --argjson h "$H" --slurpfile l "$WORK/$tag.json" \
    --argjson cpu0 "$cpu0" --argjson cpu1 "$cpu1" --argjson hwm "${hwm:-0}" --argjson rss "${rss_end:-0}" \
    --argjson disk "$disk" --argjson bb "$blocks_bytes" --argjson bs "$block_samples" --argjson stored "${stored:-null}" \
    --argjson rs "$restart_s" --argjson rh "$restart_hwm" --argjson ss "$stop_s" --argjson cs "$compact_s" \
    --argjson cput "$cpu_total" --argjson other "${other_cpu:-null}" --arg note "$note" --arg parts "$du_parts" --argjson errs "${errs:-0}" \
    '{system:$s,hosts:$h,load:$l[0],cpu_load_s:($cpu1-$cpu0),cpu_total_s:$cput,hwm_kb:$hwm,rss_end_kb:$rss,
      disk_bytes:$disk,blocks_bytes:$bb,block_samples:$bs,stored_samples:$stored,restart_s:$rs,
      restart_hwm_kb:$rh,stop_s:$ss,compact_s:$cs,other_cpu_s:$other,note:$note,du:$parts,log_error_lines:$errs}' >>"$RESULTS"
  cp "$lf" "$WORK/$tag.server.log" 2>/dev/null
  rm -rf "$dir"
}

for H in $HOSTS; do
  for sys in $SYSTEMS; do run_one "$sys" "$H"; done
done

log "writing $BENCH/RESULTS.md"
CMDLINE="bench/run.sh"
[ ${#ARGS[@]} -gt 0 ] && CMDLINE+=$(printf ' %q' "${ARGS[@]}")
python3 "$BENCH/report.py" "$RESULTS" "$WORK" "$CMDLINE" "$HOURS" "$THREADS" >"$WORK/RESULTS.md" || exit 1
cat "$WORK/RESULTS.md"
# keep the query benchmark's section (bench/query.sh) and the notes after it
if grep -q '<!-- query-latency:begin -->' "$BENCH/RESULTS.md" 2>/dev/null; then
  { echo; sed -n '/<!-- query-latency:begin -->/,$p' "$BENCH/RESULTS.md"; } >>"$WORK/RESULTS.md"
fi
cp "$WORK/RESULTS.md" "$BENCH/RESULTS.md"

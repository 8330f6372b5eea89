#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# rules.sh: the one command that benchmarks rule evaluation in pharosd
# against Prometheus 2.42 on the same data and the same rule files, and
# writes the "Rule evaluation" section of bench/RESULTS.md (the other
# sections are kept).
#
# Setup: this machine's node_exporter scrape (as bench/run.sh), 500 rules
# written from its metric names by bench/rules_gen.py (checked with promtool
# when installed). Per system, alone on 127.0.0.1 with a fresh data dir and
# an empty rules dir: start; load --hours of data for H hosts with
# bench/rwload.c --histogram (remote write, as the store benchmark) ending
# --ahead seconds after the load starts (pharosd accepts samples up to 1 h
# ahead, Prometheus any; both still take the rules' writes at now), so the
# 5m and 1h windows the rules read stay full while they run and no sample
# is ingested during the measurement; record RSS; wait (up to 120 s) for
# the other processes on the machine to calm down; copy the rule files
# into the rules dir and SIGHUP; then
# bench/rules_run.py waits until every group ran twice, resets VmHWM and
# reads /metrics each --interval for --cycles cycles: per cycle the sum over
# the groups of prometheus_rule_group_last_duration_seconds, then CPU time,
# peak RSS (VmHWM), iterations, failures, and what the rules produced.
# Both evaluate every --interval (Prometheus: global.evaluation_interval;
# pharosd: rules.evaluation-interval). Every process started here is
# stopped by PID on exit; ports are checked free first.
#
# Usage: bench/rules.sh [--hosts 200] [--hours 1] [--interval 15s] [--cycles 8]
#                       [--rules 500] [--ahead 600] [--systems "pharosd prometheus"]
#                       [--keep] [--no-results]
#   --keep: leave the temp work dir; --no-results: print the section only
set -uo pipefail

HOSTS=200
HOURS=1
INTERVAL=15s
CYCLES=8
NRULES=500
AHEAD=600
SYSTEMS="pharosd prometheus"
KEEP=0
WRITE=1
ARGS=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --hosts) HOSTS="$2"; shift 2 ;;
    --hours) HOURS="$2"; shift 2 ;;
    --interval) INTERVAL="$2"; shift 2 ;;
    --cycles) CYCLES="$2"; shift 2 ;;
    --rules) NRULES="$2"; shift 2 ;;
    --ahead) AHEAD="$2"; shift 2 ;;
    --systems) SYSTEMS="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --no-results) WRITE=0; shift ;;
    -h|--help) sed -n '3,31p' "$0"; exit 0 ;;
    *) echo "rules.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$INTERVAL" in
  *s) INTERVAL_S=${INTERVAL%s} ;;
  *m) INTERVAL_S=$(( ${INTERVAL%m} * 60 )) ;;
  *) echo "rules.sh: --interval takes Ns or Nm" >&2; exit 2 ;;
esac

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
BUILD=$ROOT/build-bench-rules  # its own (Release): other benchmarks may be building bench/.build
WORK=$(mktemp -d /tmp/pharos-rbench.XXXXXX)
RESULTS=$WORK/rules.jsonl
# Ports apart from the other benchmarks', checked free before each start.
NE_PORT=39100 PH_PORT=39747 PR_PORT=39090 VM_PORT=38429
PIDS=()

. "$(dirname "$0")/lib.sh"

trap cleanup EXIT
trap 'exit 130' INT TERM

status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# ---- setup ----------------------------------------------------------------
install_and_build
REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git -C "$ROOT" status --short -- . ':!bench' 2>/dev/null | wc -l)
for p in $NE_PORT $PH_PORT $PR_PORT; do
  port_free "$p" || { log "port $p on 127.0.0.1 is in use by another process: not benchmarking it"; exit 1; }
done
scrape_node_once

log "writing $NRULES rules"
python3 "$BENCH/rules_gen.py" --source "$WORK/node.prom" --out "$WORK/rules" --rules "$NRULES" >"$WORK/gen.json" || exit 1
NGROUPS=$(jq .groups "$WORK/gen.json")
if command -v promtool >/dev/null; then
  promtool check rules "$WORK"/rules/*.yml >"$WORK/promtool.txt" 2>&1 || { cat "$WORK/promtool.txt"; exit 1; }
fi
PROM_VERSION=$(prometheus --version 2>&1 | awk 'NR == 1 { print $3 }')

# ---- one system ------------------------------------------------------------

start_one() { # sys dir rulesdir logfile -> SPID, READY_URL
  local sys=$1 dir=$2 rdir=$3 lf=$4
  case $sys in
    pharosd)
      port_free $PH_PORT || { log "port $PH_PORT is in use"; return 1; }
      "$PHAROSD" --storage.path="$dir" --web.listen-address=127.0.0.1:$PH_PORT \
        --rules.files="$rdir/*.yml" --rules.evaluation-interval="$INTERVAL" >>"$lf" 2>&1 &
      READY_URL=http://127.0.0.1:$PH_PORT/-/ready ;;
    prometheus)
      port_free $PR_PORT || { log "port $PR_PORT is in use"; return 1; }
      printf 'global:\n  scrape_interval: 15s\n  evaluation_interval: %s\nrule_files:\n  - %s/*.yml\nscrape_configs: []\n' \
        "$INTERVAL" "$rdir" >"$WORK/prometheus-rules.yml"
      prometheus --config.file="$WORK/prometheus-rules.yml" --storage.tsdb.path="$dir" \
        --storage.tsdb.retention.time=30d --web.listen-address=127.0.0.1:$PR_PORT \
        --web.enable-remote-write-receiver >>"$lf" 2>&1 &
      READY_URL=http://127.0.0.1:$PR_PORT/-/ready ;;
  esac
  SPID=$!; PIDS+=("$SPID")
}

wait_quiet_server() { # pid: until it uses < 0.05 cores over 2 s (max 120 s)
  local i=0 c0 c1
  while [ $i -lt 60 ]; do
    c0=$(cpu_s "$1"); sleep 2; c1=$(cpu_s "$1")
    awk -v a="$c0" -v b="$c1" 'BEGIN { exit !((b - a) / 2 < 0.05) }' && return 0
    i=$((i + 1))
  done
  return 1
}

wait_machine_quiet() { # pid: up to 120 s for everything but our server to use < 0.3 cores over 2 s
  local i=0 b0 b1 c0 c1
  while [ $i -lt 60 ]; do
    b0=$(busy_s); c0=$(cpu_s "$1"); sleep 2; b1=$(busy_s); c1=$(cpu_s "$1")
    awk -v a="$b0" -v b="$b1" -v c="$c0" -v d="$c1" 'BEGIN { exit !((b - a - (d - c)) / 2 < 0.3) }' && return 0
    [ $i = 0 ] && log "other processes busy ($(fsub "$(fsub "$b1" "$b0")" "$(fsub "$c1" "$c0")") CPU-s in 2 s): waiting up to 120 s for quiet"
    i=$((i + 1))
  done
  log "machine still busy: measuring anyway (see other processes' CPU in the report)"
}

run_one() { # sys
  local sys=$1 url; url=$(base_url "$sys")
  local dir=$WORK/data-$sys rdir=$WORK/active-$sys lf=$WORK/$sys.log
  rm -rf "$dir" "$rdir"; mkdir -p "$dir" "$rdir"
  log "== $sys: start"
  start_one "$sys" "$dir" "$rdir" "$lf" || exit 1
  if ! wait_ready "$SPID" "$READY_URL" 60; then
    log "$sys did not become ready"; tail -20 "$lf" >&2
    jq -cn --arg s "$sys" --arg e "did not start: $(tail -3 "$lf" | tr '\n' ' ')" '{system:$s,error:$e}' >>"$RESULTS"
    stop_pid "$SPID" 10; return
  fi
  local pid=$SPID
  local end_ms=$(( ($(date +%s) + AHEAD) / 15 * 15 * 1000 ))
  log "$sys: loading ${HOURS}h of data for H=$HOSTS ending at $end_ms (${AHEAD}s ahead)"
  "$RWLOAD" --url "$url/api/v1/write" --source "$WORK/node.prom" --hosts "$HOSTS" --duration "${HOURS}h" \
    --interval 15s --threads 4 --seed 42 --histogram --end-ms "$end_ms" >"$WORK/$sys.load.json" 2>"$WORK/$sys.rwload.log"
  local rc=$?
  log "$sys: load $(jq -c '{samples_ok,samples_failed,series,wall_s,first_error}' "$WORK/$sys.load.json" 2>/dev/null)"
  if [ $rc -ne 0 ] || ! kill -0 "$pid" 2>/dev/null; then
    jq -cn --arg s "$sys" --arg e "load failed (rwload exit $rc): $(tail -3 "$WORK/$sys.rwload.log" "$lf" | tr '\n' ' ')" \
      '{system:$s,error:$e}' >>"$RESULTS"
    stop_pid "$pid" 30; return
  fi
  wait_quiet_server "$pid" || log "$sys: still busy after the load; measuring anyway"
  local rss_before; rss_before=$(status_kb "$pid" VmRSS)
  wait_machine_quiet "$pid"
  local left=$(( end_ms / 1000 - $(date +%s) ))
  local need=$(( INTERVAL_S * (CYCLES + 4) + 20 ))
  [ $left -lt $need ] && log "$sys: warning: data ends in ${left}s, the phase needs ~${need}s (raise --ahead)"
  cp "$WORK"/rules/*.yml "$rdir/"
  kill -HUP "$pid"
  log "$sys: rules loaded (SIGHUP); measuring $CYCLES cycles of $INTERVAL"
  if python3 "$BENCH/rules_run.py" measure --url "$url" --pid "$pid" --system "$sys" --interval-s "$INTERVAL_S" \
      --cycles "$CYCLES" --groups "$NGROUPS" --out "$WORK/$sys.rec.json" >"$WORK/$sys.measure.log" 2>&1; then
    log "$sys: $(cat "$WORK/$sys.measure.log")"
    jq -c --argjson rb "${rss_before:-0}" --slurpfile l "$WORK/$sys.load.json" '. + {rss_before_kb: $rb, load: $l[0]}' \
      "$WORK/$sys.rec.json" >>"$RESULTS"
  else
    log "$sys: measuring failed: $(tail -3 "$WORK/$sys.measure.log")"
    jq -cn --arg s "$sys" --arg e "measuring failed: $(tail -3 "$WORK/$sys.measure.log" | tr '\n' ' ')" \
      '{system:$s,error:$e}' >>"$RESULTS"
  fi
  curl -s --max-time 30 "$url/metrics" >"$WORK/$sys.metrics.txt"
  stop_pid "$pid" 120
  rm -rf "$dir"
}

for sys in $SYSTEMS; do run_one "$sys"; done

# ---- report ------------------------------------------------------------------
load1=$(jq -s 'map(select(.load != null)) | .[0].load // {}' "$RESULTS")
jq -n --argjson g "$(cat "$WORK/gen.json")" --argjson l "$load1" --arg pv "$PROM_VERSION" --argjson hosts "$HOSTS" \
  --arg hours "$HOURS" --arg interval "$INTERVAL" --argjson cycles "$CYCLES" --argjson ahead "$AHEAD" \
  --argjson dirty "$DIRTY" \
  '{rules: $g.rules, recording: $g.recording, alerting: $g.alerting, groups: $g.groups, files: $g.files,
    per_group: (($g.rules + $g.groups - 1) / $g.groups | floor), hosts: $hosts, hours: $hours, interval: $interval,
    cycles: $cycles, ahead: $ahead, prometheus_version: $pv, dirty: ($dirty > 0),
    series: (($l.series // 0) | tostring), samples: (($l.samples_ok // 0) | tostring),
    series_per_host: ((($l.series // 0) / $hosts | floor) | tostring)}' >"$WORK/meta.json"
CMDLINE="bench/rules.sh"
[ ${#ARGS[@]} -gt 0 ] && CMDLINE+=$(printf ' %q' "${ARGS[@]}")
OUT=$BENCH/RESULTS.md
[ "$WRITE" = 1 ] || { cp "$OUT" "$WORK/RESULTS.md" 2>/dev/null || : >"$WORK/RESULTS.md"; OUT=$WORK/RESULTS.md; }
python3 "$BENCH/rules_run.py" report --results "$RESULTS" --cmdline "$CMDLINE" --rev "$REV" --meta "$WORK/meta.json" \
  --out "$OUT" || exit 1
[ "$WRITE" = 1 ] && log "bench/RESULTS.md: Rule evaluation section written" || log "RESULTS.md left alone (--no-results)"
exit 0

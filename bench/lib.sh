#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# lib.sh: the helpers bench/run.sh and bench/query.sh share: logging, starting
# one system (pharosd, Prometheus or VictoriaMetrics) on 127.0.0.1 after checking
# its port is free, waiting for it, stopping it by PID, and reading CPU time
# and metrics. Sourced; expects WORK, PHAROSD, PH_PORT, PR_PORT, VM_PORT and
# the PIDS array of the caller.

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

stop_pid() { # pid [timeout_s]: SIGTERM, wait, then SIGKILL; only our own children
  local pid=$1 t=${2:-120} i=0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  while kill -0 "$pid" 2>/dev/null && [ $i -lt $((t * 10)) ]; do sleep 0.1; i=$((i + 1)); done
  if kill -0 "$pid" 2>/dev/null; then log "pid $pid did not stop in ${t}s: SIGKILL"; kill -KILL "$pid" 2>/dev/null; fi
  wait "$pid" 2>/dev/null
  return 0
}

now_s() { date +%s.%N; }

fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }

cpu_s() { # utime+stime of pid in seconds
  awk -v tck="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / tck }' "/proc/$1/stat" 2>/dev/null || echo 0
}

busy_s() { # CPU seconds used by the whole machine so far (all cores, not idle/iowait)
  awk -v tck="$(getconf CLK_TCK)" '$1 == "cpu" { printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / tck; exit }' /proc/stat
}

metric_sum() { # url name-regex: sum of matching sample values
  curl -s --max-time 20 "$1" | awk -v re="$2" '$0 !~ /^#/ { n = $1; sub(/\{.*/, "", n); if (n ~ re) s += $NF } END { printf "%.0f", s }'
}

port_free() { # port: 0 when nothing answers HTTP there
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$1/" 2>/dev/null)" = 000 ]
}

start_sys() { # sys dir logfile -> sets SPID, READY_URL; 1 when its port is taken
  local sys=$1 dir=$2 lf=$3
  local port; case $sys in pharosd) port=$PH_PORT ;; prometheus) port=$PR_PORT ;; vm) port=$VM_PORT ;; esac
  port_free "$port" || { log "port $port is in use by another process"; return 1; }
  case $sys in
    pharosd)
      "$PHAROSD" --storage.path="$dir" --web.listen-address=127.0.0.1:$PH_PORT >>"$lf" 2>&1 &
      READY_URL=http://127.0.0.1:$PH_PORT/-/ready ;;
    prometheus)
      prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$dir" \
        --storage.tsdb.retention.time=30d --web.listen-address=127.0.0.1:$PR_PORT \
        --web.enable-remote-write-receiver --web.enable-admin-api >>"$lf" 2>&1 &
      READY_URL=http://127.0.0.1:$PR_PORT/-/ready ;;
    vm)
      victoria-metrics -storageDataPath="$dir" -httpListenAddr=127.0.0.1:$VM_PORT -retentionPeriod=1y \
        >>"$lf" 2>&1 &
      READY_URL=http://127.0.0.1:$VM_PORT/health ;;
  esac
  SPID=$!; PIDS+=("$SPID")
}

wait_ready() { # pid url timeout_s: 0 when ready
  local i=0
  while [ $i -lt $(($3 * 50)) ]; do
    curl -sf -o /dev/null --max-time 2 "$2" && return 0
    kill -0 "$1" 2>/dev/null || return 1
    sleep 0.02; i=$((i + 1))
  done
  return 1
}

base_url() { case $1 in pharosd) echo http://127.0.0.1:$PH_PORT ;; prometheus) echo http://127.0.0.1:$PR_PORT ;; vm) echo http://127.0.0.1:$VM_PORT ;; esac; }

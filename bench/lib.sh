#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# lib.sh: the helpers bench/run.sh and bench/query.sh share: logging, starting
# one system (pharosd, Prometheus or VictoriaMetrics) on 127.0.0.1 after checking
# its port is free, waiting for it, stopping it by PID, and reading CPU time
# and metrics; and their common setup: the cleanup trap, installing tools and
# building, the one node_exporter scrape, waiting for Prometheus' blocks.
# Sourced; expects ROOT, BUILD, WORK, KEEP, NE_PORT, PH_PORT, PR_PORT, VM_PORT
# and the PIDS array of the caller.

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

cleanup() { # the EXIT trap: stop every process in PIDS, drop WORK unless KEEP=1
  for p in "${PIDS[@]}"; do stop_pid "$p" 30; done
  if [ "$KEEP" = 1 ]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}

install_and_build() { # install missing tools, build pharosd and rwload in BUILD -> sets PHAROSD, RWLOAD
  need=()
  command -v prometheus >/dev/null || need+=(prometheus)
  command -v prometheus-node-exporter >/dev/null || need+=(prometheus-node-exporter)
  command -v victoria-metrics >/dev/null || need+=(victoria-metrics)
  for t in cmake jq curl python3 pkg-config; do command -v $t >/dev/null || need+=($t); done
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null || exit 1
  fi
  log "building pharosd (Release) and rwload in $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DPHAROS_SANITIZE=OFF -DPHAROS_COVERAGE=OFF \
    -DPHAROS_FUZZ=OFF >"$WORK/cmake.log" 2>&1 || { cat "$WORK/cmake.log"; exit 1; }
  cmake --build "$BUILD" --target pharosd rwload -j"$(nproc)" >>"$WORK/cmake.log" 2>&1 || { tail -30 "$WORK/cmake.log"; exit 1; }
  PHAROSD=$BUILD/server/pharosd RWLOAD=$BUILD/bench/rwload
}

scrape_node_once() { # node_exporter on NE_PORT once into WORK/node.prom; writes WORK/prometheus.yml
  log "scraping node_exporter once for the series list"
  prometheus-node-exporter --web.listen-address=127.0.0.1:$NE_PORT >"$WORK/node_exporter.log" 2>&1 &
  NE_PID=$!; PIDS+=("$NE_PID")
  for _ in $(seq 100); do curl -sf -o "$WORK/node.prom" "http://127.0.0.1:$NE_PORT/metrics" && break; sleep 0.1; done
  stop_pid "$NE_PID" 10
  [ -s "$WORK/node.prom" ] || { log "could not scrape node_exporter"; exit 1; }
  printf 'global:\n  scrape_interval: 15s\nscrape_configs: []\n' >"$WORK/prometheus.yml"
}

wait_prom_blocks() { # url dir: wait until the head was cut (span <= 3h) and the blocks are stable
  local url=$1 dir=$2 i=0 last="" stable=0
  while [ $i -lt 600 ]; do
    local m; m=$(curl -s --max-time 10 "$url/metrics")
    local span; span=$(echo "$m" | awk '/^prometheus_tsdb_head_max_time /{mx=$2} /^prometheus_tsdb_head_min_time /{mn=$2} END{printf "%.0f", (mx-mn)/1000}')
    local blocks; blocks=$(ls "$dir"/*/meta.json 2>/dev/null | wc -l)
    local cur="$blocks:$(du -sb "$dir" 2>/dev/null | cut -f1)"
    if [ "$blocks" -ge 1 ] && [ "$span" -le 10800 ]; then
      if [ "$cur" = "$last" ]; then stable=$((stable + 1)); else stable=0; fi
      [ $stable -ge 5 ] && return 0
    fi
    last=$cur; sleep 1; i=$((i + 1))
  done
  return 1
}

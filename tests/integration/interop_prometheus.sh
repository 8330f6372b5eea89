#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# interop_prometheus: the real sender. Debian's prometheus scrapes Debian's
# prometheus-node-exporter (plus itself and pharosd's /metrics) every 1s
# and remote-writes to pharosd, metadata and exemplars on. Two thirds in,
# node_exporter is stopped, so Prometheus writes stale markers (and up=0)
# that must travel too. Prometheus then gets SIGTERM, which flushes its
# remote-write shards (flush deadline 1m), and is restarted read-only on
# the same TSDB with no scrape or remote-write config, so the comparison
# sees everything it stored. interop_compare.py then requires pharosd's
# /api/v1/export to equal Prometheus' raw samples (remote read): same label
# sets, same timestamps, same float64 bits (StaleNaN apart from NaN), in
# both directions; only samples after SIGTERM - TAIL_TOLERANCE_MS may be
# missing, as a suffix (appended to the WAL after the shards stopped).
#
# Every process is ours, started from /usr/bin with explicit flags on free
# 127.0.0.1 ports (never the packaged services), killed by PID on exit.
#
# Usage: interop_prometheus.sh [path/to/pharosd]   (or $PHAROSD_BIN)
# Exit 77 (ctest: skipped) when the peers are missing and apt-get is not ours.
# Env: RUN_SECONDS (30), TAIL_TOLERANCE_MS (5000), KEEP_TMP=1 keeps the logs.
set -euo pipefail

PHAROSD=${1:-${PHAROSD_BIN:-}}
RUN_SECONDS=${RUN_SECONDS:-30}
TAIL_TOLERANCE_MS=${TAIL_TOLERANCE_MS:-5000}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
COMPARE="python3 $HERE/interop_compare.py"
PROM_BIN=/usr/bin/prometheus
NODE_BIN=/usr/bin/prometheus-node-exporter

if [[ -z "$PHAROSD" || ! -x "$PHAROSD" ]]; then
    echo "usage: $0 path/to/pharosd (or set PHAROSD_BIN)" >&2
    exit 2
fi
if [[ ! -x "$PROM_BIN" || ! -x "$NODE_BIN" ]]; then
    if [[ $EUID -ne 0 ]]; then
        echo "SKIP: $PROM_BIN or $NODE_BIN missing and not root to apt-get install them" >&2
        exit 77
    fi
    echo "installing prometheus and prometheus-node-exporter (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends prometheus prometheus-node-exporter >/dev/null ||
        { apt-get update >/dev/null && apt-get install -y --no-install-recommends prometheus prometheus-node-exporter >/dev/null; }
fi

# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"
servers_init interop 25

now_ms() { python3 -c 'import time; print(int(time.time() * 1000))'; }

read -r P_PHAROS P_NODE P_PROM <<<"$($COMPARE ports 3)"
PHAROS=http://127.0.0.1:$P_PHAROS
PROM=http://127.0.0.1:$P_PROM
T_START=$(($(now_ms) - 1000))
T0=$SECONDS

"$PHAROSD" --web.listen-address=127.0.0.1:$P_PHAROS --storage.path="$TMP/pharos" >"$TMP/pharosd.log" 2>&1 &
PIDS[pharosd]=$!
$COMPARE wait "$PHAROS/-/ready" --timeout 30 --pid "${PIDS[pharosd]}"

mkdir -p "$TMP/textfile"
"$NODE_BIN" --web.listen-address=127.0.0.1:$P_NODE --collector.textfile.directory="$TMP/textfile" \
    >"$TMP/node_exporter.log" 2>&1 &
PIDS[node]=$!
$COMPARE wait "http://127.0.0.1:$P_NODE/metrics" --timeout 30 --pid "${PIDS[node]}"

cat >"$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: node
    static_configs: [{targets: ['127.0.0.1:$P_NODE']}]
  - job_name: prometheus
    static_configs: [{targets: ['127.0.0.1:$P_PROM']}]
  - job_name: pharosd
    static_configs: [{targets: ['127.0.0.1:$P_PHAROS']}]
remote_write:
  - url: $PHAROS/api/v1/write
    name: pharosd
    send_exemplars: true
    queue_config:
      capacity: 2500
      max_samples_per_send: 500
      batch_send_deadline: 1s
      min_backoff: 100ms
      max_backoff: 1s
    metadata_config:
      send: true
      send_interval: 2s
EOF
start_prometheus() { # config file
    "$PROM_BIN" --config.file="$1" --storage.tsdb.path="$TMP/prom" \
        --web.listen-address=127.0.0.1:$P_PROM --enable-feature=exemplar-storage \
        --storage.remote.flush-deadline=1m >>"$TMP/prometheus.log" 2>&1 &
    PIDS[prometheus]=$!
    $COMPARE wait "$PROM/-/ready" --timeout 60 --pid "${PIDS[prometheus]}"
}
start_prometheus "$TMP/prometheus.yml"

# Nothing of ours may listen beyond loopback.
if command -v ss >/dev/null; then
    for name in "${!PIDS[@]}"; do
        bad=$(ss -Hltnp 2>/dev/null | grep "pid=${PIDS[$name]}," | awk '{print $4}' | grep -v '^127\.0\.0\.1:' || true)
        if [[ -n "$bad" ]]; then
            echo "FAIL: $name listens beyond loopback: $bad" >&2
            exit 1
        fi
    done
fi

echo "running: pharosd :$P_PHAROS, node_exporter :$P_NODE, prometheus :$P_PROM, ${RUN_SECONDS}s"
sleep $((RUN_SECONDS * 2 / 3))
stop_pid node # its series go stale; up{job="node"} turns 0
sleep $((RUN_SECONDS - RUN_SECONDS * 2 / 3))

$COMPARE fetch "$PROM/metrics" >"$TMP/prom_metrics.txt"
echo "before shutdown: samples pending $($COMPARE metric "$PROM/metrics" prometheus_remote_storage_samples_pending)," \
    "sent $($COMPARE metric "$PROM/metrics" prometheus_remote_storage_samples_total)"
T_TERM=$(now_ms)
stop_pid prometheus 75 # flush deadline 1m
if ! grep -q "Remote storage stopped" "$TMP/prometheus.log"; then
    echo "FAIL: Prometheus did not log a clean remote-storage stop" >&2
    exit 1
fi
if grep -E 'level=(error|warn).*(remote|queue_manager|Failed to send|non-recoverable)' "$TMP/prometheus.log" >&2; then
    echo "FAIL: Prometheus logged remote-write errors (above)" >&2
    exit 1
fi

# Read-only restart: same TSDB, no scraping, no remote write.
echo "global: {}" >"$TMP/readonly.yml"
start_prometheus "$TMP/readonly.yml"
T_END=$(($(now_ms) + 1000))

echo "comparing [$T_START, $T_END] ms"
$COMPARE compare --prom "$PROM" --pharos "$PHAROS" --start "$T_START" --end "$T_END" --term "$T_TERM" \
    --tolerance-ms "$TAIL_TOLERANCE_MS" --prom-metrics "$TMP/prom_metrics.txt"
echo "interop_prometheus: passed in $((SECONDS - T0))s"

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# agent_interop: pharos-agent ships this node's metrics every 1 s to
# pharosd, Debian's prometheus 2.42 (remote-write receiver) and Debian's
# victoria-metrics 1.79 at the same time; agent_interop.py then requires
# the same series and samples in all three. Exit 77 (skip) when a peer is
# missing and we cannot apt-get it.
#
# Usage: agent_interop.sh path/to/pharos-agent path/to/pharosd
set -euo pipefail
AGENT=${1:?usage: $0 pharos-agent pharosd}
PHAROSD=${2:?usage: $0 pharos-agent pharosd}
RUN_SECONDS=${RUN_SECONDS:-8}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HELPER="python3 $HERE/interop_compare.py"
PROM_BIN=/usr/bin/prometheus
VM_BIN=/usr/bin/victoria-metrics
if [[ ! -x "$PROM_BIN" || ! -x "$VM_BIN" ]]; then
    [[ $EUID -eq 0 ]] || { echo "SKIP: $PROM_BIN or $VM_BIN missing" >&2; exit 77; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus victoria-metrics >/dev/null
fi
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"
servers_init agent-interop 25
now_ms() { python3 -c 'import time; print(int(time.time() * 1000))'; }

read -r P_PHAROS P_PROM P_VM P_AGENT <<<"$($HELPER ports 4)"
"$PHAROSD" --web.listen-address=127.0.0.1:"$P_PHAROS" --storage.path="$TMP/pharos" >"$TMP/pharosd.log" 2>&1 &
PIDS[pharosd]=$!
printf 'global:\n  scrape_interval: 1m\n' >"$TMP/prometheus.yml"
"$PROM_BIN" --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prom" \
    --web.listen-address=127.0.0.1:"$P_PROM" --web.enable-remote-write-receiver >"$TMP/prometheus.log" 2>&1 &
PIDS[prometheus]=$!
"$VM_BIN" -httpListenAddr=127.0.0.1:"$P_VM" -storageDataPath="$TMP/vm" -retentionPeriod=1y >"$TMP/vm.log" 2>&1 &
PIDS[vm]=$!
$HELPER wait "http://127.0.0.1:$P_PHAROS/-/ready" --timeout 30 --pid "${PIDS[pharosd]}"
$HELPER wait "http://127.0.0.1:$P_PROM/-/ready" --timeout 60 --pid "${PIDS[prometheus]}"
$HELPER wait "http://127.0.0.1:$P_VM/health" --timeout 30 --pid "${PIDS[vm]}"

START=$(now_ms)
"$AGENT" --web.listen-address=127.0.0.1:"$P_AGENT" --collect.interval=1s --storage.path="$TMP/agent" \
    --remote-write.url="http://127.0.0.1:$P_PHAROS/api/v1/write" \
    --remote-write.url="http://127.0.0.1:$P_PROM/api/v1/write" \
    --remote-write.url="http://127.0.0.1:$P_VM/api/v1/write" \
    --remote-write.batch-deadline=0s >"$TMP/agent.log" 2>&1 &
PIDS[agent]=$!
$HELPER wait "http://127.0.0.1:$P_AGENT/-/healthy" --timeout 30 --pid "${PIDS[agent]}"
sleep "$RUN_SECONDS"
END=$(($(now_ms) - 3000))
sleep 1
stop_pid agent 30
python3 "$HERE/agent_interop.py" "http://127.0.0.1:$P_PHAROS" "http://127.0.0.1:$P_PROM" "http://127.0.0.1:$P_VM" \
    "$START" "$END"

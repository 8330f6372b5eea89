#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# agent_parity: pharos-agent and Debian's prometheus-node-exporter 1.5 on
# this machine, both on 127.0.0.1, compared family by family by
# agent_parity.py (names, HELP, TYPE, label sets, constants, counters).
# Both read the real /proc, /sys and mounts. Exit 77 (skip) when
# node_exporter is missing and we cannot apt-get it.
#
# Usage: agent_parity.sh path/to/pharos-agent
set -euo pipefail
AGENT=${1:?usage: $0 path/to/pharos-agent}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODE_BIN=/usr/bin/prometheus-node-exporter
HELPER="python3 $HERE/interop_compare.py"
if [[ ! -x "$NODE_BIN" ]]; then
    [[ $EUID -eq 0 ]] || { echo "SKIP: $NODE_BIN missing" >&2; exit 77; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus-node-exporter >/dev/null
fi
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"
servers_init parity 25

read -r P_AGENT P_NODE <<<"$($HELPER ports 2)"
"$NODE_BIN" --web.listen-address=127.0.0.1:"$P_NODE" >"$TMP/node_exporter.log" 2>&1 &
PIDS[node]=$!
"$AGENT" --web.listen-address=127.0.0.1:"$P_AGENT" --collect.interval=1s --storage.path="$TMP/agent" \
    >"$TMP/agent.log" 2>&1 &
PIDS[agent]=$!
$HELPER wait "http://127.0.0.1:$P_NODE/metrics" --timeout 30 --pid "${PIDS[node]}"
$HELPER wait "http://127.0.0.1:$P_AGENT/-/healthy" --timeout 30 --pid "${PIDS[agent]}"
sleep 2.5 # a first collection or two
python3 "$HERE/agent_parity.py" "http://127.0.0.1:$P_AGENT/metrics" "http://127.0.0.1:$P_NODE/metrics" 1

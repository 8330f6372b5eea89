#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# agent_outage: pharos-agent ships this node's metrics to pharosd every
# 1 s; pharosd is killed (SIGKILL) for OUTAGE_SECONDS and restarted on
# its data; once the agent's spool has drained it is stopped, and
# agent_outage.py requires every sample it queued to be in pharosd, once.
# Then the same with a spool bound too small for the outage: what is
# missing must equal pharos_agent_dropped_samples_total{reason=
# "spool_full"} exactly.
#
# Usage: agent_outage.sh path/to/pharos-agent path/to/pharosd
set -euo pipefail
AGENT=${1:?usage: $0 pharos-agent pharosd}
PHAROSD=${2:?usage: $0 pharos-agent pharosd}
OUTAGE_SECONDS=${OUTAGE_SECONDS:-6}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HELPER="python3 $HERE/interop_compare.py"
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"
servers_init outage 30

start_pharosd() { # name port dir
    "$PHAROSD" --web.listen-address=127.0.0.1:"$2" --storage.path="$3" >>"$TMP/$1.log" 2>&1 &
    PIDS[$1]=$!
    $HELPER wait "http://127.0.0.1:$2/-/ready" --timeout 30 --pid "${PIDS[$1]}"
}

spool_batches() { # agent port
    $HELPER metric "http://127.0.0.1:$1/metrics" pharos_agent_spool_batches 2>/dev/null || echo 1
}

run_case() { # name extra-agent-flags... ; then checks
    local name=$1
    shift
    local p_store p_agent
    read -r p_store p_agent <<<"$($HELPER ports 2)"
    start_pharosd "$name-pharosd" "$p_store" "$TMP/$name-store"
    "$AGENT" --web.listen-address=127.0.0.1:"$p_agent" --collect.interval=1s --storage.path="$TMP/$name-agent" \
        --remote-write.url="http://127.0.0.1:$p_store/api/v1/write" --remote-write.max-backoff=500ms \
        --remote-write.batch-deadline=0s --remote-write.drain-timeout=20s "$@" >"$TMP/$name-agent.log" 2>&1 &
    PIDS[$name-agent]=$!
    $HELPER wait "http://127.0.0.1:$p_agent/-/healthy" --timeout 30 --pid "${PIDS[$name-agent]}"
    sleep 4
    kill -KILL "${PIDS[$name-pharosd]}"
    wait "${PIDS[$name-pharosd]}" 2>/dev/null || true
    unset "PIDS[$name-pharosd]"
    echo "$name: pharosd killed for ${OUTAGE_SECONDS}s"
    sleep "$OUTAGE_SECONDS"
    start_pharosd "$name-pharosd" "$p_store" "$TMP/$name-store"
    for _ in $(seq 300); do
        [[ "$(spool_batches "$p_agent")" == 0 ]] && break
        sleep 0.1
    done
    sleep 1.5
    stop_pid "$name-agent" 30
    python3 "$HERE/agent_outage.py" check "http://127.0.0.1:$p_store" "$TMP/$name-agent.log" \
        ${EXPECT_DROPS:+--expect-drops}
    stop_pid "$name-pharosd"
}

run_case full
EXPECT_DROPS=1 run_case bounded --storage.spool-max-size=24KiB --remote-write.max-samples-per-send=100

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# agent_logs: pharos-agent ships N_JOURNAL journal entries (an export file
# made into a journal by systemd-journal-remote, read via --journal.path)
# and N_PODS pod-log lines (CRI, written while the agent ships, some split
# in P parts, the file rotated half way) to pharosd's Loki push endpoint,
# while the agent is SIGKILLed and restarted several times and pharosd is
# stopped and started, then SIGKILLed and started. At the end pharosd's count_over_time over the whole
# window equals what was written, exactly, and paging query_range forward
# finds every line once (agent_logs.py check). The documented log metrics
# must be on the agent's /metrics.
#
# Exit 77 (skipped) without systemd-journal-remote, or while pharosd has no
# /loki/api/v1/push.
#
# Usage: agent_logs.sh path/to/pharos-agent path/to/pharosd [repo-root]
set -euo pipefail
AGENT=${1:?usage: $0 pharos-agent pharosd}
PHAROSD=${2:?usage: $0 pharos-agent pharosd}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=${3:-$HERE/../..}
N_JOURNAL=${N_JOURNAL:-100000}
N_PODS=${N_PODS:-100000}
WRITE_SECONDS=${WRITE_SECONDS:-25}
JREMOTE=/usr/lib/systemd/systemd-journal-remote
HELPER="python3 $HERE/interop_compare.py"
LOGS="python3 $HERE/agent_logs.py"
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"
[[ -x "$JREMOTE" ]] || { echo "skipped: $JREMOTE not found (Debian package systemd-journal-remote)"; exit 77; }
servers_init agent-logs 30
fail() { echo "FAIL: $*" >&2; exit 1; }

read -r P_STORE P_AGENT <<<"$($HELPER ports 2)"
STORE=http://127.0.0.1:$P_STORE
start_pharosd() {
    "$PHAROSD" --web.listen-address=127.0.0.1:"$P_STORE" --storage.path="$TMP/store" >>"$TMP/pharosd.log" 2>&1 &
    PIDS[pharosd]=$!
    $HELPER wait "$STORE/-/ready" --timeout 30 --pid "${PIDS[pharosd]}"
}
start_pharosd
rc=0
$LOGS probe "$STORE/loki/api/v1/push" || rc=$?
if [[ $rc -eq 77 ]]; then
    echo "skipped: pharosd has no /loki/api/v1/push yet"
    exit 77
fi
[[ $rc -eq 0 ]] || fail "probing $STORE/loki/api/v1/push"

# The journal: N_JOURNAL entries, 1 ms apart, ending a minute ago.
T0_US=$(( $(date +%s) * 1000000 - N_JOURNAL * 1000 - 60000000 ))
mkdir -p "$TMP/journal" "$TMP/pods"
$LOGS journal-export "$TMP/j.export" "$N_JOURNAL" "$T0_US"
"$JREMOTE" -o "$TMP/journal/itest.journal" "$TMP/j.export" 2>>"$TMP/jremote.log"
cat >"$TMP/agent.yml" <<EOF
logs:
  files:
    - pods-dir: $TMP/pods
EOF

start_agent() {
    "$AGENT" --config.file="$TMP/agent.yml" --web.listen-address=127.0.0.1:"$P_AGENT" --collect.interval=5s \
        --storage.path="$TMP/agent" --logs.url="$STORE/loki/api/v1/push" --journal.path="$TMP/journal" \
        --logs.journal.max-age=0s --logs.rescan-interval=500ms --logs.batch-deadline=200ms \
        --remote-write.max-backoff=500ms --remote-write.drain-timeout=10s >>"$TMP/agent.log" 2>&1 &
    PIDS[agent]=$!
    $HELPER wait "http://127.0.0.1:$P_AGENT/-/healthy" --timeout 30 --pid "${PIDS[agent]}"
}
kill9_agent() {
    kill -KILL "${PIDS[agent]}"
    wait "${PIDS[agent]}" 2>/dev/null || true
    unset "PIDS[agent]"
}

# Pod lines are written while the agent ships and crashes.
$LOGS write-pods "$TMP/pods" "$N_PODS" "$WRITE_SECONDS" >"$TMP/pods.range" &
WRITER=$!
start_agent
for round in 1 2 3; do
    sleep 3
    kill9_agent
    echo "round $round: agent killed (SIGKILL)"
    start_agent
done
sleep 2
stop_pid pharosd 30
echo "pharosd stopped for 4 s"
sleep 4
start_pharosd
sleep 2
kill -KILL "${PIDS[pharosd]}"
wait "${PIDS[pharosd]}" 2>/dev/null || true
echo "pharosd killed (SIGKILL) while the agent ships; down for 2 s"
sleep 2
start_pharosd
sleep 1
kill9_agent
start_agent
wait "$WRITER" || fail "the pod log writer failed"
read -r POD_T0 POD_T1 <"$TMP/pods.range"

JSEL='{job="systemd-journal",unit="itest.service"}'
PSEL='{namespace="itest",pod="writer-0",container="app"}'
for _ in $(seq 240); do
    j=$($LOGS count "$STORE" "$JSEL" 2>/dev/null || echo 0)
    p=$($LOGS count "$STORE" "$PSEL" 2>/dev/null || echo 0)
    [[ "$j" == "$N_JOURNAL" && "$p" == "$N_PODS" ]] && break
    sleep 0.5
done
echo "pharosd holds $j journal entries and $p pod lines"

# The documented log metrics are on /metrics.
curl -s "http://127.0.0.1:$P_AGENT/metrics" >"$TMP/metrics.txt"
for m in $(grep -o 'pharos_agent_\(logs\|loki_push\)_[a-z_]*\|pharos_agent_dropped_log_entries_total' \
    "$ROOT/docs/agent.md" | sort -u); do
    grep -q "^$m[{ ]" "$TMP/metrics.txt" || fail "documented metric $m is not in /metrics"
done
for suffix in entries_sent_total requests_sent_total bytes_sent_total retries_total last_success_timestamp_seconds; do
    grep -q "^pharos_agent_loki_push_$suffix{" "$TMP/metrics.txt" || fail "pharos_agent_loki_push_$suffix missing"
done
stop_pid agent 30

NOW_NS=$(( $(date +%s) * 1000000000 + 1000000000 ))
$LOGS check "$STORE" "$JSEL" journal- "$N_JOURNAL" $(( T0_US * 1000 )) "$NOW_NS"
$LOGS check "$STORE" "$PSEL" pod- "$N_PODS" "$POD_T0" "$NOW_NS"
echo "agent logs: $N_JOURNAL journal entries and $N_PODS pod lines shipped through 4 agent kills, a store restart and a store SIGKILL, each once"

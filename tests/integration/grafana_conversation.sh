#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# grafana_conversation: Grafana's Prometheus data source, request by request.
# Starts pharosd and, when installed, Debian's prometheus (no scrape jobs,
# remote-write receiver on) on free 127.0.0.1 ports with temp dirs, then runs
# grafana_conversation.py, which writes one node_exporter-like data set to
# both and replays every request of grafana_conversation.json (Grafana's
# save & test, editor start-up, metrics browser, autocomplete, panels and
# template variables, rebuilt from Grafana's source) exactly as Grafana
# sends it, checking each answer as Grafana parses it and against
# Prometheus. Without prometheus the pharosd half still runs. ~5 s.
#
# Every process is ours, started with explicit flags and killed by PID on
# exit. Installs nothing.
#
# Usage: grafana_conversation.sh path/to/pharosd path/to/rwsend [--only REGEX] [--show]
# Env: PROM_BIN (/usr/bin/prometheus), KEEP_TMP=1 keeps the temp dir.
# shellcheck disable=SC2317 # (stop_pid and cleanup run from the EXIT trap)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree
HELPER="python3 $HERE/interop_compare.py"
PROM_BIN=${PROM_BIN:-/usr/bin/prometheus}
PHAROSD=${1:-}
RWSEND=${2:-}
shift 2 || true
if [[ -z "$PHAROSD" || ! -x "$PHAROSD" || -z "$RWSEND" || ! -x "$RWSEND" ]]; then
    echo "usage: $0 path/to/pharosd path/to/rwsend [--only REGEX] [--show]" >&2
    exit 2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pharos-grafana.XXXXXX")
declare -A PIDS=()

# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"

cleanup() {
    local rc=$?
    set +e
    trap '' PIPE # a reader that went away (| head) must not stop the cleanup
    finish_servers "$rc" 15
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

read -r P_PHAROS P_PROM <<<"$($HELPER ports 2)"
PHAROS=http://127.0.0.1:$P_PHAROS
"$PHAROSD" --web.listen-address="127.0.0.1:$P_PHAROS" --storage.path="$TMP/pharos" >"$TMP/pharosd.log" 2>&1 &
PIDS[pharosd]=$!
PROM_ARGS=()
if [[ -x "$PROM_BIN" ]]; then
    printf 'global:\n  scrape_interval: 1h\n' >"$TMP/prometheus.yml"
    "$PROM_BIN" --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prom" \
        --web.listen-address="127.0.0.1:$P_PROM" --web.enable-remote-write-receiver >"$TMP/prometheus.log" 2>&1 &
    PIDS[prom]=$!
    PROM_ARGS=(--prom "http://127.0.0.1:$P_PROM")
else
    echo "note: $PROM_BIN missing; pharosd is checked alone (scripts/deps.sh test installs prometheus)"
fi
$HELPER wait "$PHAROS/-/ready" --timeout 60 --pid "${PIDS[pharosd]}"
if [[ -n "${PIDS[prom]:-}" ]]; then
    $HELPER wait "http://127.0.0.1:$P_PROM/-/ready" --timeout 60 --pid "${PIDS[prom]}"
fi

python3 "$HERE/grafana_conversation.py" --pharos "$PHAROS" "${PROM_ARGS[@]}" --rwsend "$RWSEND" "$@" \
    "$HERE/grafana_conversation.json"

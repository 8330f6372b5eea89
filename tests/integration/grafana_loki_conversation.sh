#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# grafana_loki_conversation: Grafana's Loki data source, request by request.
# Starts pharosd on a free 127.0.0.1 port with a temp dir, then runs
# grafana_loki_conversation.py, which pushes a small fixed log data set
# (POST /loki/api/v1/push, times relative to now) and replays every request
# of grafana_loki_conversation.json (save & test, label browser, Explore's
# logs / volume / sample / context / live tail, panels, errors; rebuilt from
# Grafana's and Loki's source) as Grafana sends it, checking each answer
# against Loki's shape and the data set's exact values. ~3 s.
#
# Exits 77 (ctest SKIP_RETURN_CODE) while pharosd answers 404 on
# /loki/api/v1/labels, unless GLC_REQUIRE=1 (then a missing API fails).
# pharosd is ours, started with explicit flags and killed by PID on exit.
#
# Usage: grafana_loki_conversation.sh path/to/pharosd [--only REGEX] [--show]
# Env: KEEP_TMP=1 keeps the temp dir; GLC_REQUIRE=1 turns the skip into a run.
# shellcheck disable=SC2317 # (cleanup runs from the EXIT trap)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree
HELPER="python3 $HERE/interop_compare.py"
PHAROSD=${1:-}
shift || true
if [[ -z "$PHAROSD" || ! -x "$PHAROSD" ]]; then
    echo "usage: $0 path/to/pharosd [--only REGEX] [--show]" >&2
    exit 2
fi

# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"
servers_init grafana-loki 30

read -r PORT <<<"$($HELPER ports 1)"
PHAROS=http://127.0.0.1:$PORT
"$PHAROSD" --web.listen-address="127.0.0.1:$PORT" --storage.path="$TMP/pharos" >"$TMP/pharosd.log" 2>&1 &
PIDS[pharosd]=$!
$HELPER wait "$PHAROS/-/ready" --timeout 60 --pid "${PIDS[pharosd]}"

SKIP_ARGS=(--skip-if-absent)
[[ "${GLC_REQUIRE:-0}" == 1 ]] && SKIP_ARGS=()
python3 "$HERE/grafana_loki_conversation.py" --pharos "$PHAROS" "${SKIP_ARGS[@]}" "$@" \
    "$HERE/grafana_loki_conversation.json"

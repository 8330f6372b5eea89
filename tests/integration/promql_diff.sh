#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# promql_diff: differential PromQL test against the real Prometheus (Debian's
# 2.42). Checks the comparator itself (promql_diff.py selftest), starts
# Prometheus (no scrape jobs, remote-write receiver on) and pharosd on free
# 127.0.0.1 ports with temp dirs, remote-writes one generated data set to
# both (promql_diff.py load), then runs every query of
# promql_diff_queries.txt against both as instant and range queries and
# compares the JSON answers (promql_diff.py run; its top comment says how
# the data and the queries avoid what legitimately differs between
# Prometheus 2.x and 3.x, whose semantics pharosd follows). ~20 s.
#
# Every process is ours, started with explicit flags, and killed by PID on
# exit unless --keep. Installs nothing: prometheus comes from scripts/deps.sh
# test; without it the test is skipped (exit 77).
#
# Usage: promql_diff.sh [options] [path/to/pharosd]   (or $PHAROSD_BIN)
#   --keep                leave both servers running and print how to re-run
#   --only REGEX          run only the queries matching REGEX
#   --show                print both answers of every comparison
#   --against-prometheus  compare Prometheus with a second Prometheus instead
#                         of pharosd (checks the harness itself)
# Env: KEEP_TMP=1 keeps the temp dir (logs, data) after a normal exit.
# shellcheck disable=SC2317 # (stop_pid and cleanup run from the EXIT trap)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree
HELPER="python3 $HERE/interop_compare.py"
DIFF="python3 $HERE/promql_diff.py"
PROM_BIN=${PROM_BIN:-/usr/bin/prometheus}
KEEP=0
SELF=0
RUN_ARGS=()
PHAROSD=${PHAROSD_BIN:-}
while [[ $# -gt 0 ]]; do
    case $1 in
    --keep) KEEP=1 ;;
    --only) RUN_ARGS+=(--only "$2"); shift ;;
    --show) RUN_ARGS+=(--show) ;;
    --against-prometheus) SELF=1 ;;
    -h | --help) sed -n '3,25p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) PHAROSD=$1 ;;
    esac
    shift
done

if [[ $SELF -eq 0 && ( -z "$PHAROSD" || ! -x "$PHAROSD" ) ]]; then
    echo "usage: $0 [--keep] [--only REGEX] [--show] [--against-prometheus] path/to/pharosd" >&2
    exit 2
fi
if [[ ! -x "$PROM_BIN" ]]; then
    echo "SKIP: $PROM_BIN missing (scripts/deps.sh test installs it)" >&2
    exit 77
fi

$DIFF selftest

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pharos-promql-diff.XXXXXX")
declare -A PIDS=()

# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"

cleanup() {
    local rc=$?
    set +e
    if [[ $KEEP -eq 1 && ${#PIDS[@]} -gt 0 ]]; then
        echo "--keep: servers left running (data and logs in $TMP):"
        echo "  prometheus $PROM   pid ${PIDS[prom]:-}"
        echo "  other      $OTHER   pid ${PIDS[other]:-}"
        echo "  re-run:  python3 $HERE/promql_diff.py run --state $TMP/state.json --prom $PROM --pharos $OTHER [--only REGEX] [--show]"
        echo "  stop:    kill ${PIDS[*]}; rm -rf $TMP"
        exit "$rc"
    fi
    finish_servers "$rc" 15
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

read -r P_PROM P_OTHER <<<"$($HELPER ports 2)"
PROM=http://127.0.0.1:$P_PROM
OTHER=http://127.0.0.1:$P_OTHER
T0=$SECONDS

# The reference: no scrape jobs, the default 1m evaluation interval (a
# subquery's default step; pharosd's default is 1m too).
printf 'global:\n  evaluation_interval: 1m\n' >"$TMP/prometheus.yml"
start_prometheus() { # name port
    "$PROM_BIN" --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/$1" \
        --web.listen-address="127.0.0.1:$2" --web.enable-remote-write-receiver \
        >"$TMP/$1.log" 2>&1 &
    PIDS[$1]=$!
}
start_prometheus prom "$P_PROM"
if [[ $SELF -eq 1 ]]; then
    start_prometheus other "$P_OTHER"
else
    "$PHAROSD" --web.listen-address="127.0.0.1:$P_OTHER" --storage.path="$TMP/pharos" \
        >"$TMP/pharosd.log" 2>&1 &
    PIDS[other]=$!
fi
$HELPER wait "$PROM/-/ready" --timeout 60 --pid "${PIDS[prom]}"
$HELPER wait "$OTHER/-/ready" --timeout 60 --pid "${PIDS[other]}"

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

# A pharosd without the query API fails here with one clear line, not 6,000 diffs.
probe=$($HELPER fetch "$OTHER/api/v1/query?query=1" 2>&1 || true)
if [[ "$probe" != *'"status":"success"'* ]]; then
    echo "FAIL: $OTHER/api/v1/query?query=1 does not answer Prometheus JSON: ${probe:0:200}" >&2
    exit 1
fi

$DIFF load --state "$TMP/state.json" "$PROM" "$OTHER"
status=0
$DIFF run --state "$TMP/state.json" --prom "$PROM" --pharos "$OTHER" "${RUN_ARGS[@]}" || status=$?
echo "promql_diff: $([[ $status -eq 0 ]] && echo passed || echo FAILED) in $((SECONDS - T0))s"
exit $status

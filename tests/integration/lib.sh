# SPDX-License-Identifier: Apache-2.0
#
# lib.sh: what the integration scripts that start servers share. Sourced
# after the caller declared `declare -A PIDS=()` (name -> PID of each
# server it started) and set TMP (its temp dir). Servers are stopped by
# the PIDs recorded here only; nothing is looked up by name.

# shellcheck disable=SC2317 # (run from the callers' EXIT traps)
stop_pid() { # name [seconds=10]: TERM, wait, then KILL; only our own recorded PID
    local name=$1 pid=${PIDS[$1]:-} tenths=$((${2:-10} * 10))
    [[ -n "$pid" ]] || return 0
    unset "PIDS[$name]"
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq "$tenths"); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317
finish_servers() { # rc tail-lines: stop every server, show the logs' ends when rc != 0, remove TMP (KEEP_TMP=1 keeps it)
    local rc=$1 lines=$2 name f
    for name in "${!PIDS[@]}"; do
        stop_pid "$name"
    done
    if [[ $rc -ne 0 ]]; then
        for f in "$TMP"/*.log; do
            [[ -s "$f" ]] || continue
            echo "---- last lines of $(basename "$f")"
            tail -n "$lines" "$f"
        done
    fi
    if [[ "${KEEP_TMP:-0}" == 1 ]]; then
        echo "kept $TMP"
    else
        rm -rf "$TMP"
    fi
}

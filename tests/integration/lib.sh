# SPDX-License-Identifier: Apache-2.0
#
# lib.sh: what the integration scripts that start servers share. A caller
# either runs `servers_init NAME TAIL_LINES` right after sourcing it, or
# (the older scripts) declares `declare -A PIDS=()` (name -> PID of each
# server it started), sets TMP (its temp dir) and installs its own traps.
# Servers are stopped by the PIDs recorded here only; nothing is looked
# up by name.

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

# servers_init NAME TAIL_LINES: the prologue of a script that starts servers.
# Sets TMP to a new temp dir (${TMPDIR:-/tmp}/pharos-NAME.XXXXXX) and PIDS to
# an empty global map, and installs the traps: on EXIT finish_servers with the
# script's exit status and TAIL_LINES, keeping that status; INT and TERM exit
# 130 (so EXIT runs). A caller that needs more on exit sets its own EXIT trap
# and calls servers_cleanup from it.
servers_init() {
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/pharos-$1.XXXXXX")
    declare -gA PIDS=()
    SERVERS_TAIL_LINES=$2
    trap servers_cleanup EXIT
    trap 'exit 130' INT TERM
}

# shellcheck disable=SC2317
servers_cleanup() { # the EXIT trap of servers_init
    local rc=$?
    set +e
    finish_servers "$rc" "$SERVERS_TAIL_LINES"
    exit "$rc"
}

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sets up and runs Pharos on this machine: installs the build dependencies,
# builds release binaries into build-release/, starts pharosd with
# deploy/pharosd.yml (data in ./data, listening on 127.0.0.1:9747) and then
# pharos-agent with deploy/pharos-agent.yml (this node's metrics every 15 s
# and its logs: the journal when there is one and /var/log/*.log, shipped
# to that pharosd by remote-write and Loki push, spool and log positions
# in ./data-agent, /metrics on 127.0.0.1:9465). Stop with Ctrl-C: both stop cleanly (the agent spools
# what it has not sent; pharosd commits its WAL). Extra arguments are
# passed to pharosd (flags override its config file).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j"$(nproc)" --target pharosd pharos-agent >/dev/null
mkdir -p data data-agent
echo "pharos: starting pharosd (remote-write endpoint: POST /api/v1/write)"
build-release/server/pharosd --config.file=deploy/pharosd.yml "$@" &
pharosd_pid=$!
agent_pid=
stop() {
    trap - EXIT INT TERM
    [[ -n "$agent_pid" ]] && kill -TERM "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null
    kill -TERM "$pharosd_pid" 2>/dev/null && wait "$pharosd_pid" 2>/dev/null
    exit 0
}
trap stop EXIT INT TERM
for _ in $(seq 100); do
    curl -fs http://127.0.0.1:9747/-/ready >/dev/null 2>&1 && break
    kill -0 "$pharosd_pid" 2>/dev/null || { echo "pharos: pharosd did not start" >&2; exit 1; }
    sleep 0.1
done
echo "pharos: starting pharos-agent (this node's metrics every 15 s and its logs, shipped to pharosd)"
build-release/agent/pharos-agent --config.file=deploy/pharos-agent.yml &
agent_pid=$!
wait -n "$pharosd_pid" "$agent_pid" || true
stop

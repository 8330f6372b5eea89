#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sets up and runs Pharos on this machine: installs the build dependencies,
# builds a release pharosd into build-release/, and starts it in the
# foreground with deploy/pharosd.yml (data in ./data, listening on
# 127.0.0.1:9747). Stop it with Ctrl-C (SIGTERM/SIGINT: clean stop).
# Extra arguments are passed to pharosd (flags override the config file).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j"$(nproc)" --target pharosd >/dev/null
mkdir -p data
echo "pharos: starting pharosd (remote-write endpoint: POST /api/v1/write)"
exec build-release/server/pharosd --config.file=deploy/pharosd.yml "$@"

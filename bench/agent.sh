#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# agent.sh: the one command that benchmarks pharos-agent's footprint
# against node_exporter 1.5 side by side (bench/agent_run.py: CPU per
# collection, RSS after the run, bytes sent per collection, RSS growth
# during a store outage) and writes the "Agent footprint" section of
# bench/RESULTS.md (other sections are kept).
#
# Usage: bench/agent.sh [--duration 600] [--interval 1]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
cmake -S . -B bench/.build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build bench/.build -j"$(nproc)" --target pharosd pharos-agent >/dev/null
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
out=$(mktemp)
python3 bench/agent_run.py --agent bench/.build/agent/pharos-agent --pharosd bench/.build/server/pharosd "$@" >"$out"
python3 - "$out" "$rev" "$*" <<'PY'
import re, sys
body, rev, args = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3]
section = ("## Agent footprint\n\n"
           f"`bench/agent.sh {args}`".replace(" `", "`") + f" at {rev} (Release build).\n\n" + body + "\n")
path = "bench/RESULTS.md"
text = open(path).read()
m = re.search(r"^## Agent footprint\n.*?(?=^## |\Z)", text, re.S | re.M)
text = text[:m.start()] + section + text[m.end():] if m else text.rstrip("\n") + "\n\n" + section
open(path, "w").write(text)
PY
rm -f "$out"
echo "bench/RESULTS.md: Agent footprint section written"

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# agent_docs: docs/agent.md against the binary. The configuration table is
# what `pharos-agent --help-md` prints; every yaml example (and
# deploy/pharos-agent.yml) passes --check-config; every collector the
# docs list is a collector (--collect.disable accepts it) and the table
# lists them all; config errors name file, line and key; the endpoints
# answer as documented, and /metrics holds every pharos_agent_* metric
# the docs list.
#
# Usage: agent_docs.sh path/to/pharos-agent repo-root
set -euo pipefail
AGENT=${1:?usage: $0 pharos-agent repo-root}
ROOT=${2:?usage: $0 pharos-agent repo-root}
DOC=$ROOT/docs/agent.md
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HELPER="python3 $HERE/interop_compare.py"
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"
servers_init agent-docs 20
fail() { echo "FAIL: $*" >&2; exit 1; }

"$AGENT" --help-md >"$TMP/table.md"
grep -F -x -f "$TMP/table.md" "$DOC" | diff -q - "$TMP/table.md" >/dev/null ||
    fail "docs/agent.md's configuration table is stale: regenerate it with pharos-agent --help-md"

python3 - "$DOC" "$TMP" <<'PY'
import re, sys
doc, tmp = open(sys.argv[1]).read(), sys.argv[2]
for i, block in enumerate(re.findall(r"```yaml\n(.*?)```", doc, re.S)):
    open(f"{tmp}/example{i}.yml", "w").write(block)
cols = re.findall(r"^\| `([a-z]+)` \| ", doc.split("## Collectors")[1].split("##")[0], re.M)
open(f"{tmp}/collectors.txt", "w").write("\n".join(cols) + "\n")
own = sorted(set(re.findall(r"`(pharos_agent_[a-z_]+)", doc)))
open(f"{tmp}/own.txt", "w").write("\n".join(own) + "\n")
PY
for f in "$TMP"/example*.yml "$ROOT/deploy/pharos-agent.yml"; do
    "$AGENT" --check-config --config.file="$f" >/dev/null || fail "$f: --check-config failed"
done
[[ $(wc -l <"$TMP/collectors.txt") -eq 16 ]] || fail "docs/agent.md lists $(wc -l <"$TMP/collectors.txt") collectors, want 16"
while read -r c; do
    "$AGENT" --check-config --collect.disable="$c" >/dev/null || fail "collector $c in the docs is not a collector"
done <"$TMP/collectors.txt"
if "$AGENT" --check-config --collect.disable=bogus 2>"$TMP/err"; then fail "an unknown collector was accepted"; fi
grep -q 'collect.disable: unknown collector "bogus"' "$TMP/err" || fail "unknown collector: $(cat "$TMP/err")"
if "$AGENT" --check-config --collect.netstat.fields='(' 2>"$TMP/err"; then fail "a bad regex was accepted"; fi
grep -q 'collect.netstat.fields: bad regex "("' "$TMP/err" || fail "bad regex: $(cat "$TMP/err")"
python3 -c 'print("collect:\n  labels:"); [print("    l%d: v" % i) for i in range(33)]' >"$TMP/many.yml"
if "$AGENT" --check-config --config.file="$TMP/many.yml" 2>"$TMP/err"; then fail "33 static labels were accepted"; fi
grep -q 'collect.labels: 33 labels; at most 32' "$TMP/err" || fail "too many labels: $(cat "$TMP/err")"
printf 'collect:\n  interval: 15x\n' >"$TMP/bad.yml"
if "$AGENT" --check-config --config.file="$TMP/bad.yml" 2>"$TMP/err"; then fail "a bad duration was accepted"; fi
grep -q "bad.yml:2: collect.interval: invalid duration" "$TMP/err" || fail "bad file: $(cat "$TMP/err")"
printf 'scrape:\n  targets:\n    - job: x\n      urls: [ftp://a]\n' >"$TMP/bad2.yml"
if "$AGENT" --check-config --config.file="$TMP/bad2.yml" 2>"$TMP/err"; then fail "an ftp target was accepted"; fi
grep -q 'scrape.targets\[0\].urls: "ftp://a": unsupported URL scheme' "$TMP/err" || fail "bad target: $(cat "$TMP/err")"

read -r P_AGENT P_DEAD <<<"$($HELPER ports 2)"
# A long interval: /metrics must hold everything before the first tick.
"$AGENT" --web.listen-address=127.0.0.1:"$P_AGENT" --collect.interval=1h --storage.path="$TMP/agent" \
    --remote-write.url="http://127.0.0.1:$P_DEAD/api/v1/write" >"$TMP/agent.log" 2>&1 &
PIDS[agent]=$!
$HELPER wait "http://127.0.0.1:$P_AGENT/-/healthy" --timeout 30 --pid "${PIDS[agent]}"
[[ "$(curl -s "http://127.0.0.1:$P_AGENT/-/healthy")" == "pharos-agent is Healthy." ]] || fail "/-/healthy body"
[[ "$(curl -s "http://127.0.0.1:$P_AGENT/-/ready")" == "pharos-agent is Healthy." ]] || fail "/-/ready body"
curl -s "http://127.0.0.1:$P_AGENT/metrics" >"$TMP/metrics.txt"
grep -q '^node_load1 ' "$TMP/metrics.txt" || fail "/metrics lacks node_load1 before the first collection tick"
while read -r m; do
    grep -q "^$m[{ ]" "$TMP/metrics.txt" || fail "documented metric $m is not in /metrics"
done <"$TMP/own.txt"
echo "agent docs: table, $(ls "$TMP"/example*.yml | wc -l) examples, 16 collectors, $(wc -l <"$TMP/own.txt") own metrics checked"

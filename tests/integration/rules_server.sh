#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# rules_server.sh PHAROSD RWSEND SRCDIR: pharosd and Debian's Prometheus 2.42
# evaluate the same rule files (tests/data/alerts/server/) over the same
# remote-written data, on 127.0.0.1 with temp dirs. Checks:
#   - /api/v1/rules, /api/v1/alerts and the series the rules wrote (records,
#     ALERTS, ALERTS_FOR_STATE) are the same (rules_server.py compare);
#   - POST /-/reload with a broken file: 500 naming file:line, old rules kept;
#   - SIGHUP with an added file: the new group is evaluated;
#   - pharosd --check-config refuses the broken file with file:line, exit 1.
# Exit 77 (skip) when prometheus is not installed.
set -euo pipefail
PHAROSD=$1
RWSEND=$2
SRC=$3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PYTHONDONTWRITEBYTECODE=1
PY="python3 $HERE/rules_server.py"
HELPER="python3 $HERE/interop_compare.py"
PROM_BIN=${PROM_BIN:-/usr/bin/prometheus}
if [[ ! -x "$PROM_BIN" ]]; then
    echo "SKIP: $PROM_BIN missing (scripts/deps.sh test installs it)" >&2
    exit 77
fi
. "$HERE/lib.sh"
servers_init rules-server 30

mkdir -p "$TMP/rules"
cp "$SRC/tests/data/alerts/server/rules.yml" "$TMP/rules/a.yml"
printf 'global:\n  evaluation_interval: 1s\nrule_files:\n  - %s/rules/*.yml\n' "$TMP" >"$TMP/prometheus.yml"
read -r P_PROM P_PH <<<"$($HELPER ports 2)"
PROM=http://127.0.0.1:$P_PROM
PH=http://127.0.0.1:$P_PH

"$PROM_BIN" --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prom" \
    --web.listen-address="127.0.0.1:$P_PROM" --web.enable-remote-write-receiver --web.enable-lifecycle \
    >"$TMP/prometheus.log" 2>&1 &
PIDS[prom]=$!
"$PHAROSD" --web.listen-address="127.0.0.1:$P_PH" --storage.path="$TMP/pharos" \
    --rules.files="$TMP/rules/*.yml" --rules.evaluation-interval=1s >"$TMP/pharosd.log" 2>&1 &
PIDS[pharos]=$!
$HELPER wait "$PROM/-/ready" --timeout 60 --pid "${PIDS[prom]}"
$HELPER wait "$PH/-/ready" --timeout 60 --pid "${PIDS[pharos]}"

NOW_MS=$(($(date +%s) * 1000))
$PY data "$NOW_MS" >"$TMP/data.txt"
"$RWSEND" "$PROM" <"$TMP/data.txt" >/dev/null
"$RWSEND" "$PH" <"$TMP/data.txt" >/dev/null

# InstanceDown (for: 2s) fires for b and c in both; then every state has settled.
$PY wait-firing "$PROM" InstanceDown 2
$PY wait-firing "$PH" InstanceDown 2
sleep 2.5
$PY compare "$PROM" "$PH" --expect-group records --expect-group alerts

echo "== a broken rule file: reload refused, old rules kept"
cp "$SRC/tests/data/alerts/server/bad.yml" "$TMP/rules/b.yml"
code=$(curl -s -o "$TMP/reload.txt" -w '%{http_code}' -X POST "$PH/-/reload")
[[ "$code" == 500 ]] || { echo "FAIL: reload answered $code"; cat "$TMP/reload.txt"; exit 1; }
grep -q "failed to reload config: $TMP/rules/b.yml:5:" "$TMP/reload.txt" ||
    { echo "FAIL: reload answer does not name b.yml:5:"; cat "$TMP/reload.txt"; exit 1; }
pcode=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$PROM/-/reload")
[[ "$pcode" == 500 ]] || { echo "FAIL: prometheus reload answered $pcode"; exit 1; }
set +e
"$PHAROSD" --check-config --rules.files="$TMP/rules/*.yml" 2>"$TMP/check.txt"
rc=$?
set -e
[[ $rc -eq 1 ]] && grep -q "$TMP/rules/b.yml:5:" "$TMP/check.txt" ||
    { echo "FAIL: --check-config exit $rc:"; cat "$TMP/check.txt"; exit 1; }
sleep 1.5
$PY compare "$PROM" "$PH" --expect-group records --expect-group alerts
grep -q "pharos_rules_last_reload_successful 0" <(curl -s "$PH/metrics") ||
    { echo "FAIL: pharos_rules_last_reload_successful is not 0"; exit 1; }

echo "== SIGHUP with the broken file replaced by a new group"
rm "$TMP/rules/b.yml"
cp "$SRC/tests/data/alerts/server/more.yml" "$TMP/rules/c.yml"
kill -HUP "${PIDS[prom]}" "${PIDS[pharos]}"
for _ in $(seq 50); do
    curl -s "$PH/api/v1/query?query=up:count" | grep -q '"4"' && break
    sleep 0.2
done
curl -s "$PH/api/v1/query?query=up:count" | grep -q '"4"' || { echo "FAIL: up:count not recorded after SIGHUP"; exit 1; }
for _ in $(seq 50); do
    curl -s "$PROM/api/v1/query?query=up:count" | grep -q '"4"' && break
    sleep 0.2
done
sleep 1.5
$PY compare "$PROM" "$PH" --expect-group records --expect-group alerts --expect-group extra
grep -q "pharos_rules_last_reload_successful 1" <(curl -s "$PH/metrics") ||
    { echo "FAIL: pharos_rules_last_reload_successful is not 1"; exit 1; }
echo "OK"

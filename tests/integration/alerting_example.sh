#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# alerting_example.sh PHAROSD PHAROSCTL SRCDIR: the complete example of
# docs/alerting.md (docs/examples/alerting/) with its paths moved to a temp
# dir: pharosd --check-config accepts it, pharosctl (and promtool, when
# installed) check the rule file, and a pharosd started with it lists the
# rule groups and the SLO's groups and serves the routing config.
set -euo pipefail
PHAROSD=$1
PHAROSCTL=$2
SRC=$3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PYTHONDONTWRITEBYTECODE=1
HELPER="python3 $HERE/interop_compare.py"
. "$HERE/lib.sh"
servers_init alerting-example 30

mkdir -p "$TMP/etc/rules" "$TMP/etc/slos"
EX="$SRC/docs/examples/alerting"
move() { sed -e "s#/etc/pharos#$TMP/etc#g" -e "s#/var/lib/pharos#$TMP/data#g" "$1"; }
move "$EX/pharosd.yml" >"$TMP/pharosd.yml"
move "$EX/rules.yml" >"$TMP/etc/rules/node.yml"
move "$EX/slo.yml" >"$TMP/etc/slos/checkout.yml"
move "$EX/alerting.yml" >"$TMP/etc/alerting.yml"
for f in pagerduty-key slack-webhook github-token smtp-password; do echo secret >"$TMP/etc/$f"; done

"$PHAROSD" --config.file="$TMP/pharosd.yml" --check-config
"$PHAROSCTL" check rules "$TMP/etc/rules/node.yml"
if [[ -x /usr/bin/promtool ]]; then
    /usr/bin/promtool check rules "$TMP/etc/rules/node.yml"
fi
# A broken routing file is refused with its line.
sed 's/group_wait: 30s/group_wait: 30x/' "$TMP/etc/alerting.yml" >"$TMP/etc/bad.yml"
set +e
"$PHAROSD" --config.file="$TMP/pharosd.yml" --alerting.config-file="$TMP/etc/bad.yml" --check-config 2>"$TMP/bad.txt"
rc=$?
set -e
[[ $rc -eq 1 ]] && grep -q "bad.yml:.*group_wait" "$TMP/bad.txt" ||
    { echo "FAIL: a bad group_wait was not refused with its line (exit $rc):"; cat "$TMP/bad.txt"; exit 1; }

read -r PORT <<<"$($HELPER ports 1)"
"$PHAROSD" --config.file="$TMP/pharosd.yml" --web.listen-address="127.0.0.1:$PORT" >"$TMP/pharosd.log" 2>&1 &
PIDS[pharos]=$!
$HELPER wait "http://127.0.0.1:$PORT/-/ready" --timeout 60 --pid "${PIDS[pharos]}"
rules=$(curl -s "http://127.0.0.1:$PORT/api/v1/rules")
for g in '"name":"node"' '"sloth-slo-sli-recordings-checkout-availability"' '"sloth-slo-alerts-checkout-availability"'; do
    grep -q "$g" <<<"$rules" || { echo "FAIL: /api/v1/rules lacks $g"; exit 1; }
done
curl -s "http://127.0.0.1:$PORT/api/v2/status" | grep -q 'oncall' ||
    { echo "FAIL: /api/v2/status does not show the routing config"; exit 1; }
echo "OK"

#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# alerts_notify.sh PHAROSD RWSEND: rules -> notifier -> receivers through a
# real pharosd, with loopback Slack and PagerDuty (fake_receivers.py, which
# checks each payload against the service's schema):
#   1. pharosd is SIGKILLed after an alert fired and before its group_wait
#      ended (nothing delivered yet); after a restart on the same data dir the
#      notification is delivered exactly once to each receiver, although
#      Slack answers 500 to the first attempt (retried, delivered once).
#   2. a second SIGKILL and restart after delivery sends nothing again.
#   3. the rule stops firing: one resolve to PagerDuty, one resolved message
#      to Slack (send_resolved: true).
set -euo pipefail
PHAROSD=$1
RWSEND=$2
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PYTHONDONTWRITEBYTECODE=1
FAKE="python3 $HERE/fake_receivers.py"
HELPER="python3 $HERE/interop_compare.py"
. "$HERE/lib.sh"
servers_init alerts-notify 40

read -r P_PH P_FAKE <<<"$($HELPER ports 2)"
PH=http://127.0.0.1:$P_PH
$FAKE serve "$P_FAKE" "$TMP/received.jsonl" --script /slack=500,200 >"$TMP/fake.log" 2>&1 &
PIDS[fake]=$!

# DiskFull fires while no sample of switch_off exists.
cat >"$TMP/rules.yml" <<'EOF'
groups:
  - name: notify
    interval: 1s
    rules:
      - alert: DiskFull
        expr: absent(switch_off)
        labels: {severity: critical, instance: db-1}
        annotations: {summary: 'disk full on {{ $labels.instance }}'}
EOF
cat >"$TMP/alerting.yml" <<EOF
route:
  receiver: ops
  group_by: [alertname]
  group_wait: 6s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: ops
    slack_configs:
      - api_url: http://127.0.0.1:$P_FAKE/slack/T000/B000/XXX
        send_resolved: true
    pagerduty_configs:
      - url: http://127.0.0.1:$P_FAKE/pd
        routing_key: 0123456789abcdef0123456789abcdef
        severity: '{{ .CommonLabels.severity }}'
EOF
start_pharosd() {
    "$PHAROSD" --web.listen-address="127.0.0.1:$P_PH" --storage.path="$TMP/data" \
        --rules.files="$TMP/rules.yml" --alerting.config-file="$TMP/alerting.yml" \
        >>"$TMP/pharosd.log" 2>&1 &
    PIDS[pharos]=$!
    $HELPER wait "$PH/-/ready" --timeout 60 --pid "${PIDS[pharos]}"
}
count() { $FAKE count "$TMP/received.jsonl" "$@"; }

echo "== 1. SIGKILL after firing, before group_wait ends"
start_pharosd
for _ in $(seq 100); do
    curl -s "$PH/api/v2/alerts" | grep -q DiskFull && break
    sleep 0.1
done
curl -s "$PH/api/v2/alerts" | grep -q DiskFull || { echo "FAIL: the notifier never got DiskFull"; exit 1; }
kill -KILL "${PIDS[pharos]}"
wait "${PIDS[pharos]}" 2>/dev/null || true
unset "PIDS[pharos]"
[[ "$(count /)" == 0 ]] || { echo "FAIL: something was delivered before the kill"; exit 1; }
start_pharosd
$FAKE wait "$TMP/received.jsonl" 1 /slack
$FAKE wait "$TMP/received.jsonl" 1 /pd event_action=trigger
sleep 5 # group_interval passes twice: nothing new may be sent
[[ "$(count /slack)" == 1 && "$(count /pd)" == 1 ]] ||
    { echo "FAIL: delivered $(count /slack) slack, $(count /pd) pagerduty (want 1 each)"; exit 1; }
grep -c '"path": "/slack' "$TMP/received.jsonl" | grep -qx 2 ||
    { echo "FAIL: slack should have seen 2 attempts (500, then 200)"; exit 1; }

echo "== 2. SIGKILL after delivery: nothing is sent again"
kill -KILL "${PIDS[pharos]}"
wait "${PIDS[pharos]}" 2>/dev/null || true
unset "PIDS[pharos]"
start_pharosd
sleep 10 # group_wait and a few group_intervals
[[ "$(count /slack)" == 1 && "$(count /pd)" == 1 ]] ||
    { echo "FAIL: after restart: $(count /slack) slack, $(count /pd) pagerduty (want 1 each)"; exit 1; }

echo "== 3. resolve"
printf 'switch_off 1 %s\n' "$(($(date +%s) * 1000))" >"$TMP/off.txt"
"$RWSEND" "$PH" <"$TMP/off.txt" >/dev/null
$FAKE wait "$TMP/received.jsonl" 1 /pd event_action=resolve
$FAKE wait "$TMP/received.jsonl" 2 /slack
sleep 3
[[ "$(count /pd event_action=resolve)" == 1 && "$(count /slack)" == 2 ]] ||
    { echo "FAIL: resolve: $(count /pd event_action=resolve) pagerduty, $(count /slack) slack"; exit 1; }
$FAKE check "$TMP/received.jsonl"
echo "OK"

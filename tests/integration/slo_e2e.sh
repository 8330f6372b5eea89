#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# slo_e2e.sh PHAROSD RWSEND: an SLO end to end through a real pharosd.
# 70 minutes of synthetic requests with 10% errors (a 100x burn of a 99.9%
# objective, above the 14.4x page threshold on the 5m and 1h windows) are
# remote-written; the SLO file's page alert must reach PagerDuty (trigger)
# and Slack, routed by sloth_severity, with schema-valid payloads. Then the
# error ratio falls (a burst of good requests): the alert resolves and
# PagerDuty gets the resolve, Slack the resolved message.
set -euo pipefail
PHAROSD=$1
RWSEND=$2
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PYTHONDONTWRITEBYTECODE=1
FAKE="python3 $HERE/fake_receivers.py"
HELPER="python3 $HERE/interop_compare.py"
. "$HERE/lib.sh"
servers_init slo-e2e 40

read -r P_PH P_FAKE <<<"$($HELPER ports 2)"
PH=http://127.0.0.1:$P_PH
$FAKE serve "$P_FAKE" "$TMP/received.jsonl" >"$TMP/fake.log" 2>&1 &
PIDS[fake]=$!

cat >"$TMP/slo.yml" <<'EOF'
slos:
  - service: checkout
    name: availability
    objective: 99.9
    sli:
      error_query: sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{.window}}]))
      total_query: sum(rate(http_requests_total{job="checkout"}[{{.window}}]))
    alerting:
      name: CheckoutErrorBudgetBurn
      annotations:
        summary: 'checkout burns its error budget ({{ $labels.sloth_severity }})'
      page:
        labels: {severity: critical}
      ticket:
        labels: {severity: warning}
EOF
cat >"$TMP/alerting.yml" <<EOF
route:
  receiver: tickets
  group_by: [alertname, sloth_severity]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
  routes:
    - matchers: ['sloth_severity="page"']
      receiver: page
receivers:
  - name: page
    pagerduty_configs:
      - url: http://127.0.0.1:$P_FAKE/pd
        routing_key: 0123456789abcdef0123456789abcdef
        severity: '{{ .CommonLabels.severity }}'
    slack_configs:
      - api_url: http://127.0.0.1:$P_FAKE/slack/page
        send_resolved: true
  - name: tickets
    slack_configs:
      - api_url: http://127.0.0.1:$P_FAKE/slack/tickets
EOF
"$PHAROSD" --web.listen-address="127.0.0.1:$P_PH" --storage.path="$TMP/data" \
    --rules.slo-files="$TMP/slo.yml" --rules.evaluation-interval=1s --alerting.config-file="$TMP/alerting.yml" \
    >"$TMP/pharosd.log" 2>&1 &
PIDS[pharos]=$!
$HELPER wait "$PH/-/ready" --timeout 60 --pid "${PIDS[pharos]}"

# 70 minutes at 15 s: 10 requests/s, 1 of them a 500.
NOW=$(($(date +%s) * 1000))
python3 - "$NOW" >"$TMP/data.txt" <<'EOF'
import sys
now = int(sys.argv[1])
steps = 70 * 4
for i in range(steps + 1):
    t = now - (steps - i) * 15000
    print('http_requests_total{job="checkout",code="200"} %d %d' % (i * 135, t))
    print('http_requests_total{job="checkout",code="500"} %d %d' % (i * 15, t))
EOF
"$RWSEND" "$PH" <"$TMP/data.txt" >/dev/null
count() { $FAKE count "$TMP/received.jsonl" "$@"; }
echo "== the page reaches PagerDuty and Slack"
$FAKE wait "$TMP/received.jsonl" 1 /pd event_action=trigger
$FAKE wait "$TMP/received.jsonl" 1 /slack/page
[[ "$(count /pd payload.severity=critical)" == 1 ]] || { echo "FAIL: the page's severity is not critical"; exit 1; }
grep -q CheckoutErrorBudgetBurn "$TMP/received.jsonl" || { echo "FAIL: the alert name is not in the payloads"; exit 1; }
$FAKE wait "$TMP/received.jsonl" 1 /slack/tickets

echo "== recovery: a burst of good requests, then the resolve"
printf 'http_requests_total{job="checkout",code="200"} %d %d\n' $((280 * 135 + 1000000000)) $((NOW + 1000)) \
    >"$TMP/good.txt"
printf 'http_requests_total{job="checkout",code="500"} %d %d\n' $((280 * 15)) $((NOW + 1000)) >>"$TMP/good.txt"
"$RWSEND" "$PH" <"$TMP/good.txt" >/dev/null
$FAKE wait "$TMP/received.jsonl" 1 /pd event_action=resolve
$FAKE wait "$TMP/received.jsonl" 2 /slack/page
[[ "$(count /pd event_action=trigger)" == 1 ]] || { echo "FAIL: $(count /pd event_action=trigger) triggers"; exit 1; }
$FAKE check "$TMP/received.jsonl"
echo "OK"

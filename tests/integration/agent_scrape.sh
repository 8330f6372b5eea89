#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# agent_scrape: pharos-agent scrapes three targets served from files on
# 127.0.0.1 (Prometheus text with a histogram, a label clashing with job
# and an explicit timestamp; OpenMetrics; a body with a syntax error) and
# ships to pharosd (and one target that needs a bearer token, scraped
# with and without it); agent_scrape.py then checks what pharosd holds: the
# samples with job/instance/static labels, exported_job, the honoured
# timestamp, up 1/1/0, scrape_samples_scraped, and the stale markers
# written when a series vanishes from a live target and when a target
# goes away.
#
# Usage: agent_scrape.sh path/to/pharos-agent path/to/pharosd
set -euo pipefail
AGENT=${1:?usage: $0 pharos-agent pharosd}
PHAROSD=${2:?usage: $0 pharos-agent pharosd}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HELPER="python3 $HERE/interop_compare.py"
# shellcheck source=tests/integration/lib.sh
. "$HERE/lib.sh"
servers_init agent-scrape 30

read -r P_STORE P_AGENT P_FILES <<<"$($HELPER ports 3)"
mkdir -p "$TMP/www"
cat >"$TMP/www/text" <<'M'
# HELP rpc_seconds RPC latency.
# TYPE rpc_seconds histogram
rpc_seconds_bucket{le="0.1"} 3
rpc_seconds_bucket{le="+Inf"} 5
rpc_seconds_sum 1.25
rpc_seconds_count 5
# TYPE jobs_total counter
jobs_total{job="batch",kind="a\"b"} 42
# TYPE fixed gauge
fixed 7 1700000000000
M
cat >"$TMP/www/om" <<'M'
# TYPE requests counter
# HELP requests Requests served.
requests_total{code="200"} 10 # {trace_id="abc"} 1 1700000000.5
requests_created{code="200"} 1700000000
# TYPE temp_celsius gauge
# UNIT temp_celsius celsius
temp_celsius 21.5
# EOF
M
printf 'good 1\nbad{ 2\n' >"$TMP/www/bad"
printf 'secure_metric 1\n' >"$TMP/www/secure"
printf 'letmein\n' >"$TMP/token"
# A file server that labels "om" as OpenMetrics (the scraper picks its
# parser by Content-Type, as Prometheus does) and the rest as text 0.0.4.
(cd "$TMP/www" && exec python3 -c '
import http.server, sys
class H(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.path.endswith("secure") and self.headers.get("Authorization") != "Bearer letmein":
            self.send_error(401, "bad token")
            return
        super().do_GET()
    def guess_type(self, path):
        if path.endswith("om"):
            return "application/openmetrics-text; version=1.0.0; charset=utf-8"
        return "text/plain; version=0.0.4; charset=utf-8"
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
' "$P_FILES") >"$TMP/files.log" 2>&1 &
PIDS[files]=$!
"$PHAROSD" --web.listen-address=127.0.0.1:"$P_STORE" --storage.path="$TMP/store" \
    --storage.out-of-order-window=3650d --storage.retention=0s >"$TMP/pharosd.log" 2>&1 &
PIDS[pharosd]=$!
$HELPER wait "http://127.0.0.1:$P_FILES/text" --timeout 30 --pid "${PIDS[files]}"
$HELPER wait "http://127.0.0.1:$P_STORE/-/ready" --timeout 30 --pid "${PIDS[pharosd]}"
cat >"$TMP/agent.yml" <<Y
collect:
  interval: 1s
scrape:
  targets:
    - job: app
      urls: [http://127.0.0.1:$P_FILES/text]
      labels: {env: test}
    - job: om
      urls: [http://127.0.0.1:$P_FILES/om]
    - job: broken
      urls: [http://127.0.0.1:$P_FILES/bad]
    - job: secure
      urls: [http://127.0.0.1:$P_FILES/secure]
      bearer-token-file: $TMP/token
    - job: denied
      urls: [http://127.0.0.1:$P_FILES/secure]
Y
"$AGENT" --config.file="$TMP/agent.yml" --web.listen-address=127.0.0.1:"$P_AGENT" --storage.path="$TMP/agent" \
    --collect.disable=hwmon --collect.disable=mdadm \
    --remote-write.url="http://127.0.0.1:$P_STORE/api/v1/write" --remote-write.batch-deadline=0s \
    >"$TMP/agent.log" 2>&1 &
PIDS[agent]=$!
$HELPER wait "http://127.0.0.1:$P_AGENT/-/healthy" --timeout 30 --pid "${PIDS[agent]}"
sleep 3.5
curl -s "http://127.0.0.1:$P_AGENT/metrics" >"$TMP/agent-metrics.txt"
grep -v '^jobs_total' "$TMP/www/text" >"$TMP/www/text.new" # a series vanishes while the target is up
mv "$TMP/www/text.new" "$TMP/www/text"
sleep 2.5
stop_pid files # the targets go away: up 0 and stale markers
sleep 2.5
stop_pid agent 30
python3 "$HERE/agent_scrape.py" "http://127.0.0.1:$P_STORE" "127.0.0.1:$P_FILES" "$TMP/agent-metrics.txt" "$TMP/agent.log"

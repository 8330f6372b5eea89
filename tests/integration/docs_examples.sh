#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the examples of docs/api.md and docs/configuration.md against a fresh
# pharosd and checks that the docs show what pharosd answers.
# Usage: docs_examples.sh PHAROSD RWSEND REPO_ROOT
set -euo pipefail
pharosd="$1"; rwsend="$2"; root="$3"
tmp="$(mktemp -d /tmp/pharos-docs-XXXXXX)"
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "docs_examples: $*" >&2; exit 1; }

# docs/configuration.md is generated from the option table.
"$pharosd" --help-md > "$tmp/table.md"
grep -F -f "$tmp/table.md" -x "$root/docs/configuration.md" | diff -q - "$tmp/table.md" >/dev/null \
  || fail "docs/configuration.md is stale: regenerate the table with pharosd --help-md"
# The shipped default config is valid.
"$pharosd" --config.file="$root/deploy/pharosd.yml" --check-config >/dev/null || fail "deploy/pharosd.yml is invalid"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port"
"$pharosd" --web.listen-address="127.0.0.1:$port" --storage.path="$tmp/data" > "$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf "$url/-/ready" >/dev/null && break; sleep 0.1; done
[ "$(curl -s "$url/-/healthy")" = "Pharos is Healthy." ] || fail "/-/healthy"
[ "$(curl -s "$url/-/ready")" = "Pharos is Ready." ] || fail "/-/ready"

# The export example.
printf '%s\n' 'up{job="node",instance="a:9100"} 1 1700000000000' \
  'up{job="node",instance="a:9100"} 1 1700000015000' \
  'up{job="node",instance="a:9100"} StaleNaN 1700000030000' | "$rwsend" "$url" > "$tmp/w1"
[ "$(head -1 "$tmp/w1")" = 204 ] || fail "write answered $(cat "$tmp/w1")"
want="$(grep -A1 '^```json' "$root/docs/api.md" | sed -n 2p)"
got="$(curl -s "$url/api/v1/export?match[]=up")"
[ "$got" = "$want" ] || fail "export: got $got, docs say $want"

# The rejection example.
printf '%s\n' 'up{job="node",instance="a:9100"} 1 1700000045000' \
  'up{job="node","bad-name"="x"} 1 1700000045000' | "$rwsend" "$url" > "$tmp/w2"
want="$(grep -A2 '^HTTP/1.1 400' "$root/docs/api.md" | tail -1)"
[ "$(head -1 "$tmp/w2")" = 400 ] || fail "mixed write answered $(head -1 "$tmp/w2")"
[ "$(sed -n 2p "$tmp/w2")" = "$want" ] || fail "400 body: got $(sed -n 2p "$tmp/w2"), docs say $want"

# The selector error example.
want='1:3: parse error: unexpected character inside braces: '"'"'%'"'"''
got="$(curl -s -g "$url/api/v1/export?match[]=%7Ba%25%7D")"
[ "$got" = "$want" ] || fail "selector error: got $got, docs say $want"
code="$(curl -s -o /dev/null -w '%{http_code}' -XPOST "$url/api/v1/admin/tsdb/flush")"
[ "$code" = 204 ] || fail "flush answered $code"
curl -s "$url/metrics" > "$tmp/metrics"
grep -q '^pharos_tsdb_samples_appended_total 4$' "$tmp/metrics" || fail "metrics: appended != 4"

# The Prometheus query API examples run on this data (docs/api.md shows it).
printf '%s\n' '# TYPE http_requests_total counter' '# HELP http_requests_total Requests served, by code.' \
  '# TYPE up gauge' '# HELP up 1 if the target was scraped.' \
  'http_requests_total{job="api",code="200"} 10 1700000000000' \
  'http_requests_total{job="api",code="200"} 25 1700000015000' \
  'http_requests_total{job="api",code="200"} 40 1700000030000' \
  'http_requests_total{job="api",code="200"} 55 1700000045000' \
  'http_requests_total{job="api",code="500"} 1 1700000000000' \
  'http_requests_total{job="api",code="500"} 1 1700000015000' \
  'http_requests_total{job="api",code="500"} 2 1700000030000' \
  'http_requests_total{job="api",code="500"} 4 1700000045000' | "$rwsend" "$url" > "$tmp/w3"
[ "$(head -1 "$tmp/w3")" = 204 ] || fail "query data write answered $(cat "$tmp/w3")"
# Every `curl` example of docs/api.md directly followed by a ```json block
# (except export's, checked above before later writes) must print exactly
# that block. Outputs that vary (times, paths) are shown as ```text.
python3 - "$root/docs/api.md" > "$tmp/examples" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
for i in range(len(lines) - 5):
    if (lines[i] == "```sh" and lines[i + 1].startswith("curl ") and lines[i + 2] == "```"
            and lines[i + 3] == "```json" and lines[i + 5] == "```" and "/api/v1/export" not in lines[i + 1]):
        print(lines[i + 1])
        print(lines[i + 4])
PY
n=0
while IFS= read -r cmd && IFS= read -r want; do
  got="$(eval "${cmd//http:\/\/127.0.0.1:9747/$url}")"
  [ "$got" = "$want" ] || fail "$cmd: got $got, docs say $want"
  n=$((n + 1))
done < "$tmp/examples"
[ "$n" -ge 12 ] || fail "only $n query API examples found in docs/api.md"
echo "docs_examples: all examples match ($n query API examples)"

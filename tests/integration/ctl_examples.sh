#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the examples of docs/pharosctl.md against a fresh pharosd and checks
# that the docs show what pharosctl prints; then the exit statuses the docs
# promise (0 ok, 1 query error, 2 usage, 3 unreachable) and logs --follow.
# The log lines are from 2023, so pharosd accepts entries of any age.
# Usage: ctl_examples.sh PHAROSD RWSEND PHAROSCTL REPO_ROOT
set -euo pipefail
pharosd="$1"; rwsend="$2"; ctl="$3"; root="$4"
tmp="$(mktemp -d /tmp/pharos-ctl-XXXXXX)"
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "ctl_examples: $*" >&2; exit 1; }

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export PHAROS_URL="http://127.0.0.1:$port"
"$pharosd" --web.listen-address="127.0.0.1:$port" --storage.path="$tmp/data" \
  --logs.reject-old-samples-max-age=0 --logs.retention=0 > "$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf "$PHAROS_URL/-/ready" >/dev/null && break; sleep 0.1; done

printf '%s\n' '# TYPE http_requests_total counter' \
  'http_requests_total{job="api",code="200"} 10 1700000000000' \
  'http_requests_total{job="api",code="200"} 25 1700000015000' \
  'http_requests_total{job="api",code="200"} 40 1700000030000' \
  'http_requests_total{job="api",code="200"} 55 1700000045000' \
  'http_requests_total{job="api",code="500"} 1 1700000000000' \
  'http_requests_total{job="api",code="500"} 1 1700000015000' \
  'http_requests_total{job="api",code="500"} 2 1700000030000' \
  'http_requests_total{job="api",code="500"} 4 1700000045000' \
  'up{job="node",instance="a:9100"} 1 1700000000000' \
  'up{job="node",instance="a:9100"} 1 1700000015000' \
  'up{job="node",instance="a:9100"} 1 1700000030000' \
  'up{job="node",instance="a:9100"} 1 1700000045000' | "$rwsend" "$PHAROS_URL" > "$tmp/w"
[ "$(head -1 "$tmp/w")" = 204 ] || fail "write answered $(cat "$tmp/w")"

push_logs() {
  curl -s -o "$tmp/push" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @- \
    "$PHAROS_URL/loki/api/v1/push"
}
code="$(push_logs <<'JSON'
{"streams":[
 {"stream":{"job":"api","level":"info"},"values":[
   ["1700000000000000000","GET /users 200 12ms"],
   ["1700000015000000000","GET /orders 200 31ms"],
   ["1700000030000000000","POST /orders 201 48ms"]]},
 {"stream":{"job":"api","level":"error"},"values":[
   ["1700000015000000000","GET /orders/7 500 2ms: db timeout"],
   ["1700000045000000000","GET /users/3 500 1ms: db timeout"]]}]}
JSON
)"
[ "$code" = 204 ] || fail "log push answered $code $(cat "$tmp/push")"

# Every one-line ```sh block starting with "pharosctl " directly followed by
# a ```text block must print exactly that block.
python3 - "$root/docs/pharosctl.md" > "$tmp/examples" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
i = 0
while i < len(lines) - 4:
    if (lines[i] == "```sh" and lines[i + 1].startswith("pharosctl ") and lines[i + 2] == "```"
            and lines[i + 3] == "```text"):
        end = lines.index("```", i + 4)
        print(lines[i + 1])
        print("\n".join(lines[i + 4:end]))
        print("\x1e")
        i = end
    i += 1
PY
pharosctl() { "$ctl" "$@"; }
cd "$root" # the check rules examples name files relative to the repository
n=0
while IFS= read -r cmd; do
  want=""
  while IFS= read -r line && [ "$line" != $'\x1e' ]; do
    want+="$line"$'\n'
  done
  got="$(eval "$cmd")" || true
  [ "$got" = "${want%$'\n'}" ] || fail "$cmd: got
$got
docs say
$want"
  n=$((n + 1))
done < "$tmp/examples"
[ "$n" -ge 6 ] || fail "only $n examples found in docs/pharosctl.md"

status() { set +e; "$ctl" "$@" >/dev/null 2>&1; echo $?; set -e; }
[ "$(status query up)" = 0 ] || fail "query up: want exit 0"
[ "$(status check rules tests/data/alerts/rules/basic_valid.yml)" = 0 ] || fail "check rules: want exit 0"
[ "$(status check rules tests/data/alerts/rules/bad_names.yml)" = 1 ] || fail "check rules bad: want exit 1"
[ "$(status check rules)" = 2 ] || fail "check rules without files: want exit 2"
[ "$(status query 'sum(')" = 1 ] || fail "bad PromQL: want exit 1"
[ "$(status query-range --start -1h --end now --step 1ms up)" = 1 ] || fail "too many points: want exit 1"
[ "$(status query --time soon up)" = 2 ] || fail "bad time: want exit 2"
[ "$(status nosuchcommand)" = 2 ] || fail "unknown command: want exit 2"
[ "$(status query --url "http://127.0.0.1:1" up)" = 3 ] || fail "unreachable: want exit 3"
[ "$(status query --help)" = 0 ] || fail "query --help: want exit 0"
[ "$(status logs '{job="api"}')" = 0 ] || fail "logs: want exit 0"
[ "$(status logs '{job="api"')" = 1 ] || fail "logs, bad LogQL: want exit 1"
[ "$(status logs --start soon '{job="api"}')" = 2 ] || fail "logs, bad time: want exit 2"
[ "$(status logs --url "http://127.0.0.1:1" '{job="api"}')" = 3 ] || fail "logs, unreachable: want exit 3"

# logs --follow prints a line pushed while it polls, then stops after its
# polls (PHAROSCTL_TEST_MAX_POLLS); a second one stops at SIGINT.
PHAROSCTL_TEST_MAX_POLLS=40 "$ctl" logs -f --interval 100ms --output raw '{job="live"}' > "$tmp/follow" 2>&1 &
fpid=$!
sleep 0.5
now="$(date +%s%N)"
code="$(printf '{"streams":[{"stream":{"job":"live"},"values":[["%s","hello"],["%s","world"]]}]}' \
  "$now" "$((now + 1))" | push_logs)"
[ "$code" = 204 ] || fail "live log push answered $code"
wait "$fpid" || fail "logs -f: exit $? ($(cat "$tmp/follow"))"
[ "$(cat "$tmp/follow")" = $'hello\nworld' ] || fail "logs -f printed: $(cat "$tmp/follow")"
PHAROSCTL_TEST_MAX_POLLS=300 "$ctl" logs -f --interval 100ms '{job="live"}' > /dev/null 2>&1 &
fpid=$!
sleep 1 # past its start, when it blocks SIGINT (a background job of a script ignores it before)
t0="$(date +%s)"
kill -INT "$fpid"
wait "$fpid" || fail "logs -f: SIGINT: want exit 0, got $?"
[ "$(($(date +%s) - t0))" -lt 10 ] || fail "logs -f: SIGINT did not stop it"
echo "ctl_examples: all examples match ($n examples)"

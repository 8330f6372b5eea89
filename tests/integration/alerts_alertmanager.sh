#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# alerts_recv_am_post against a real Alertmanager (Debian's
# prometheus-alertmanager 0.25) on 127.0.0.1: two firing alerts posted by
# `recvsend am` must be listed by GET /api/v2/alerts with their labels,
# annotations, generatorURL and times; posted again resolved (endsAt now)
# they must be gone. Also: a 404 path is FAIL (exit 2), nothing listening
# is RETRY (exit 1).
# Then, when pharosd and rwsend are given, the same through pharosd: a rule
# that fires, forwarded by alerting.alertmanager-urls, is listed by the
# Alertmanager with the external labels, and resolves there once the rule
# stops firing.
# Usage: alerts_alertmanager.sh <recvsend> [<pharosd> <rwsend>]. Exit 77
# (skipped) without alertmanager.
set -euo pipefail
recvsend="$1"
pharosd="${2:-}"
rwsend="${3:-}"
phpid=""
am=""
for cand in prometheus-alertmanager alertmanager; do
  if command -v "$cand" >/dev/null 2>&1; then
    am="$(command -v "$cand")"
    break
  fi
done
if [ -z "$am" ]; then
  echo "alerts_alertmanager: skipped (needs prometheus-alertmanager: scripts/deps.sh test)" >&2
  exit 77
fi
tmp="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$phpid" ]; then kill "$phpid" 2>/dev/null || true; wait "$phpid" 2>/dev/null || true; fi
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat > "$tmp/am.yml" <<'YML'
route:
  receiver: blackhole
receivers:
  - name: blackhole
YML
"$am" --config.file="$tmp/am.yml" --storage.path="$tmp/data" --web.listen-address="127.0.0.1:$port" \
  --cluster.listen-address= --log.level=warn > "$tmp/am.log" 2>&1 &
pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  curl -fs "$base/-/ready" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "$base/-/ready" >/dev/null || { echo "alertmanager did not start:"; cat "$tmp/am.log"; exit 1; }

fail=0
expect_exit() { # want cmd...
  local want="$1"; shift
  local rc=0 out
  out="$("$@" 2>&1)" || rc=$?
  if [ "$rc" != "$want" ]; then echo "FAIL: $* -> exit $rc (want $want): $out"; fail=1; else echo "ok: $* -> $out"; fi
}

expect_exit 0 "$recvsend" am "$base/" firing
curl -fs "$base/api/v2/alerts" > "$tmp/firing.json"
python3 - "$tmp/firing.json" <<'PY' || fail=1
import json, sys
alerts = [a for a in json.load(open(sys.argv[1])) if a["labels"].get("alertname") == "PharosTest"]
ok = True
def check(cond, what):
    global ok
    print(("ok: " if cond else "FAIL: ") + what)
    ok = ok and cond
check(len(alerts) == 2, f"two PharosTest alerts listed ({len(alerts)})")
check(sorted(a["labels"]["instance"] for a in alerts) == ["a:9100", "b:9100"], "instances a and b")
for a in alerts:
    check(a["labels"] == {"alertname": "PharosTest", "instance": a["labels"]["instance"], "severity": "critical"},
          f"labels {a['labels']}")
    check(a["annotations"] == {"summary": "latency high"}, f"annotations {a['annotations']}")
    check(a["generatorURL"] == "http://pharos:9090/graph?g0.expr=up", "generatorURL")
    check(a["status"]["state"] == "active", f"state {a['status']['state']}")
    check(a["startsAt"] < a["endsAt"], f"startsAt {a['startsAt']} < endsAt {a['endsAt']}")
sys.exit(0 if ok else 1)
PY

expect_exit 0 "$recvsend" am "$base" resolved
sleep 0.2
curl -fs "$base/api/v2/alerts" > "$tmp/resolved.json"
python3 - "$tmp/resolved.json" <<'PY' || fail=1
import json, sys
alerts = [a for a in json.load(open(sys.argv[1])) if a["labels"].get("alertname") == "PharosTest"]
print(("ok: " if not alerts else "FAIL: ") + f"resolved alerts gone from /api/v2/alerts ({len(alerts)} left)")
sys.exit(0 if not alerts else 1)
PY

if [ -n "$pharosd" ]; then
  phport="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  ph="http://127.0.0.1:$phport"
  cat > "$tmp/rules.yml" <<'YML'
groups:
  - name: forward
    interval: 1s
    rules:
      - alert: PharosForwarded
        expr: absent(switch_off)
        labels: {severity: critical}
        annotations: {summary: forwarded by pharosd}
YML
  "$pharosd" --web.listen-address="127.0.0.1:$phport" --storage.path="$tmp/pharos" --rules.files="$tmp/rules.yml" \
    --rules.external-labels=cluster=c1 --alerting.alertmanager-urls="$base" > "$tmp/pharosd.log" 2>&1 &
  phpid=$!
  listed() { curl -fs "$base/api/v2/alerts" | python3 -c '
import json, sys
a = [x for x in json.load(sys.stdin) if x["labels"].get("alertname") == "PharosForwarded"]
ok = len(a) == 1 and a[0]["labels"] == {"alertname": "PharosForwarded", "cluster": "c1", "severity": "critical"} \
    and a[0]["annotations"] == {"summary": "forwarded by pharosd"} \
    and a[0]["generatorURL"].startswith(sys.argv[1] + "/graph?g0.expr=absent%28switch_off%29")
print(len(a) if ok or not a else "bad: %r" % a)' "$ph"; }
  got=""
  for _ in $(seq 1 150); do got="$(listed || true)"; [ "$got" = 1 ] && break; sleep 0.2; done
  if [ "$got" = 1 ]; then echo "ok: pharosd's alert listed by alertmanager"; else echo "FAIL: pharosd's alert: $got"; fail=1; fi
  printf 'switch_off 1 %s\n' "$(($(date +%s) * 1000))" | "$rwsend" "$ph" > /dev/null
  for _ in $(seq 1 150); do got="$(listed || true)"; [ "$got" = 0 ] && break; sleep 0.2; done
  if [ "$got" = 0 ]; then echo "ok: resolved by pharosd, gone from alertmanager"; else echo "FAIL: after resolve: $got"; cat "$tmp/pharosd.log"; fail=1; fi
  kill "$phpid"; wait "$phpid" 2>/dev/null || true; phpid=""
fi

expect_exit 2 "$recvsend" am "$base/nope" firing
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
expect_exit 1 "$recvsend" am "$base" firing
exit $fail

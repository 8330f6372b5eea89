#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The rules pharosd generates from SLO files, checked by Prometheus 2.42's
# own tools (Debian package prometheus): every tests/data/alerts/slo/*.yml
# that loads (all but bad*.yml and the *.rules.yml / *.test.yml files) is
# expanded by alerts_slo_load and printed as a plain rule file
# (`test_alerts_slo --expand`); `promtool check rules` must accept it with
# the same rule count, and where a <name>.test.yml exists, `promtool test
# rules` must pass on it (the burn-rate alerts fire, and do not, on
# synthetic series). The expansion must also equal the golden
# <name>.rules.yml the unit test compares with. bad*.yml must be refused.
# Without promtool the test is skipped (exit 77).
# Usage: slo_promtool.sh TEST_ALERTS_SLO REPO_ROOT
set -uo pipefail
expand="$1"; root="$2"
promtool="${PROMTOOL:-/usr/bin/promtool}"
[ -x "$promtool" ] || { echo "slo_promtool: no promtool, skipped"; exit 77; }
tmp="$(mktemp -d /tmp/pharos-slo-XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
data="$root/tests/data/alerts/slo"
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
for f in "$data"/*.yml; do
  name="$(basename "$f" .yml)"
  case "$name" in *.rules|*.test) continue ;; esac
  out="$tmp/$name.rules.yml"
  if [[ "$name" == bad* ]]; then
    if "$expand" --expand "$f" "$out" 2>"$tmp/err"; then bad "$name: accepted"; else ok; fi
    continue
  fi
  if ! "$expand" --expand "$f" "$out" 2>"$tmp/err"; then bad "$name: not expanded: $(cat "$tmp/err")"; continue; fi
  if [ -f "$data/$name.rules.yml" ] && ! cmp -s "$out" "$data/$name.rules.yml"; then
    bad "$name: differs from $name.rules.yml"; diff -u "$data/$name.rules.yml" "$out" | head -20
  fi
  want="$(grep -cE '^      - (record|alert): ' "$out")"
  if "$promtool" check rules "$out" >"$tmp/check" 2>&1 && grep -q "SUCCESS: $want rules found" "$tmp/check"; then
    ok
  else
    bad "$name: promtool check rules ($want rules expected)"; cat "$tmp/check"
  fi
  if [ -f "$data/$name.test.yml" ]; then
    cp "$data/$name.test.yml" "$tmp/"
    if (cd "$tmp" && "$promtool" test rules "$name.test.yml") >"$tmp/test" 2>&1; then
      ok
    else
      bad "$name: promtool test rules"; cat "$tmp/test"
    fi
  fi
done
echo "slo_promtool: $pass passed, $fail failed"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]

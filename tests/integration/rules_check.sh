#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# promtool parity of `pharosctl check rules`: every rule file in
# tests/data/alerts/rules/ goes through Prometheus 2.42's `promtool check
# rules` (Debian package prometheus) and through pharosctl, one file at a
# time and all at once; exit status, stdout, stderr and the two merged
# (2>&1, so the interleaving too) must be identical.
#
# Normalisations (each one is a documented difference, nothing else is):
#  - here, only the program name in kingpin's path errors ("pharosctl:
#    error: path 'x' does not exist" is compared as "promtool: error: ...").
#  - in the code, not here: PromQL parse errors where our parser (worded as
#    Prometheus 3) differs from 2.42 are rewritten to 2.42's words by
#    alerts_rules_promql_msg (alerts/alerts_rules_check.c): "in offset,
#    expected number or duration" -> "expected duration", and an unbalanced
#    "(" in a regex -> Go's "missing closing ): `^(?:re)$`". Other regex
#    errors keep our wording and are not in the corpus.
#  - templates: until the template engine is wired in (TODO(issue 6) in
#    alerts_rules_check.c) only "unclosed action" errors are detected, so
#    the corpus holds no other template error.
# Files under tests/data/alerts/rules/p3/ use Prometheus 3 fields that 2.42
# rejects (query_offset, group labels): pharosctl must accept them.
# Without promtool the test is skipped (exit 77).
# Usage: rules_check.sh PHAROSCTL REPO_ROOT
set -uo pipefail
ctl="$1"; root="$2"
promtool="${PROMTOOL:-/usr/bin/promtool}"
[ -x "$promtool" ] || { echo "rules_check: no promtool, skipped"; exit 77; }
tmp="$(mktemp -d /tmp/pharos-rules-XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
cd "$root/tests/data/alerts/rules" || exit 1
pass=0; fail=0
compare() { # name, args...
  local name="$1"; shift
  "$promtool" check rules "$@" >"$tmp/p.out" 2>"$tmp/p.err"; local prc=$?
  "$ctl" check rules "$@" >"$tmp/c.out" 2>"$tmp/c.err"; local crc=$?
  sed -i 's/^pharosctl: error:/promtool: error:/' "$tmp/c.err"
  # and both streams into one, which must interleave the same way
  "$promtool" check rules "$@" >"$tmp/p.both" 2>&1
  "$ctl" check rules "$@" 2>&1 | sed 's/^pharosctl: error:/promtool: error:/' >"$tmp/c.both"
  if [ "$prc" = "$crc" ] && cmp -s "$tmp/p.out" "$tmp/c.out" && cmp -s "$tmp/p.err" "$tmp/c.err" &&
      cmp -s "$tmp/p.both" "$tmp/c.both"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "MISMATCH $name: promtool rc=$prc pharosctl rc=$crc"
    diff -u "$tmp/p.out" "$tmp/c.out" | sed 's/^/  out /'
    diff -u "$tmp/p.err" "$tmp/c.err" | sed 's/^/  err /'
    diff -u "$tmp/p.both" "$tmp/c.both" | sed 's/^/  both /'
  fi
}
files=(*.yml)
for f in "${files[@]}"; do compare "$f" "$f"; done
compare "all files" "${files[@]}"
compare "missing path" basic_valid.yml no-such-file.yml
for f in p3/*.yml; do
  if "$ctl" check rules "$f" >/dev/null 2>&1; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "REJECTED $f"; fi
done
echo "rules_check: $pass identical, $fail different (${#files[@]} files)"
[ "$fail" = 0 ]

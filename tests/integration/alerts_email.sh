#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The email receiver against real SMTP servers (Debian's python3-aiosmtpd on
# 127.0.0.1): plain, STARTTLS + AUTH, implicit TLS, refusals (alerts_email.py).
# Usage: alerts_email.sh <recvsend>. Exit 77 (skipped) without aiosmtpd or openssl.
set -euo pipefail
recvsend="$1"
here="$(cd "$(dirname "$0")" && pwd)"
py=""
for cand in python3 /usr/bin/python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import aiosmtpd' 2>/dev/null; then
    py="$cand"
    break
  fi
done
if [ -z "$py" ] || ! command -v openssl >/dev/null 2>&1; then
  echo "alerts_email: skipped (needs python3-aiosmtpd and openssl: scripts/deps.sh test)" >&2
  exit 77
fi
exec "$py" "$here/alerts_email.py" "$recvsend"

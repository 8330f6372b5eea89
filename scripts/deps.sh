#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages Pharos needs. Usage: scripts/deps.sh [build|test|bench]
#   build: compiler, CMake and the libraries pharosd links against
#   test:  build + cmocka, clang (libFuzzer), clang-format, and the real peers the
#          integration tests run against (prometheus, prometheus-node-exporter,
#          victoria-metrics, prometheus-alertmanager, python3-aiosmtpd)
#   bench: the same as test
# Idempotent: packages already installed are not touched, and apt-get update
# runs only when something is missing.
set -euo pipefail
what="${1:-build}"
pkgs=(build-essential cmake pkg-config protobuf-c-compiler libprotobuf-c-dev libzstd-dev libsnappy-dev
      libmicrohttpd-dev libsystemd-dev libyaml-dev libcurl4-openssl-dev libpcre2-dev libxxhash-dev
      libjansson-dev zlib1g-dev libssl-dev curl ca-certificates)
if [ "$what" = test ] || [ "$what" = bench ]; then
  pkgs+=(libcmocka-dev clang clang-format libclang-rt-14-dev python3 prometheus prometheus-node-exporter
        victoria-metrics systemd-journal-remote zstd ripgrep prometheus-alertmanager python3-aiosmtpd)
fi
missing=()
for p in "${pkgs[@]}"; do
  [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == *"install ok installed"* ]] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "deps: installing ${missing[*]}" >&2
$SUDO apt-get update -qq
# policy-rc.d keeps Debian's postinst from starting the peers as services:
# tests start their own instances on 127.0.0.1 with their own ports.
if [ -d /usr/sbin ] && [ ! -e /usr/sbin/policy-rc.d ] && [ "$(id -u)" -eq 0 ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

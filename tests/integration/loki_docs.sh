#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the examples of docs/loki.md against a fresh pharosd: the push
# example must answer 204, and every query example (a ```sh block calling
# /loki/api/v1/query*, followed by the block showing its answer) must give
# what the docs show: data.result for JSON answers, the body for errors.
# The configuration keys the page names must exist in pharosd's table.
# Usage: loki_docs.sh PHAROSD REPO_ROOT
set -euo pipefail
pharosd="$1"; root="$2"
tmp="$(mktemp -d /tmp/pharos-lokidocs-XXXXXX)"
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "loki_docs: $*" >&2; exit 1; }

"$pharosd" --help-md > "$tmp/table.md"
for key in $(grep -o '`logs\.[a-z.-]*`' "$root/docs/loki.md" | tr -d '`' | sort -u); do
  grep -q "^| \`$key\` " "$tmp/table.md" || fail "docs/loki.md names $key, which pharosd does not have"
done

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port"
"$pharosd" --web.listen-address="127.0.0.1:$port" --storage.path="$tmp/data" \
  --logs.reject-old-samples-max-age=0 > "$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf "$url/ready" >/dev/null && break; sleep 0.1; done

python3 - "$root/docs/loki.md" "$url" <<'PY'
import json, re, subprocess, sys
doc, url = open(sys.argv[1]).read(), sys.argv[2]
blocks = re.findall(r"```(\w*)\n(.*?)```", doc, re.S)
def run(cmd):
    cmd = cmd.replace("http://127.0.0.1:9747", url).replace("\\\n", " ")
    return subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=30).stdout
pushed = queries = 0
for i, (lang, body) in enumerate(blocks):
    if lang != "sh" or "curl" not in body:
        continue
    if "/loki/api/v1/push" in body:
        cmd = body.strip().replace("curl -s ", "curl -s -o /dev/null -w '%{http_code}' ", 1)
        code = run(cmd + "\n")
        if code.strip() != "204":
            sys.exit(f"loki_docs: the push example answered {code!r}")
        pushed += 1
        continue
    if "/loki/api/v1/query" not in body:
        continue
    want_lang, want = blocks[i + 1]
    got = run(body)
    if want_lang == "json":
        try:
            got_result = json.loads(got)["data"]["result"]
        except Exception:
            sys.exit(f"loki_docs: example {i} did not answer JSON: {got[:300]}")
        if got_result != json.loads(want):
            sys.exit(f"loki_docs: example {i}:\n  docs {want.strip()}\n  got  {json.dumps(got_result)}")
    elif got.strip() != want.strip():
        sys.exit(f"loki_docs: example {i}:\n  docs {want.strip()}\n  got  {got.strip()}")
    queries += 1
if pushed != 1 or queries < 4:
    sys.exit(f"loki_docs: found {pushed} push and {queries} query examples; the page has more")
print(f"loki_docs: push example and {queries} query examples answer as docs/loki.md shows")
PY

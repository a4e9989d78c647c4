#!/usr/bin/env bash
# A bounded fuzz run of the HTTP API against its OpenAPI description (docs/openapi.json) with
# schemathesis: it starts a throwaway `urne serve` on 127.0.0.1 over a copy of a finished demo
# election (so that the public, board and trustee routes have a real board to answer from),
# creates an administrator and an API token for the administration routes, and lets
# schemathesis generate requests for a bounded time. It fails on a server error (5xx), a
# response that its description does not allow (status, content type, body schema), a schema-
# violating request accepted, a route that ignores its authentication, or a panic in the
# server's log. Not part of CI (it installs schemathesis and runs for minutes).
#
# Usage: scripts/api-fuzz.sh [schemathesis run options...]
#   URNE_FUZZ_SECONDS  time budget of the run (default 120)
#   URNE_FUZZ_PORT     port on 127.0.0.1 (default 18089)
#   URNE_FUZZ_VENV     virtualenv for schemathesis (default ~/.cache/urne-api-fuzz/venv;
#                      created and `pip install schemathesis` run there when missing)
#   URNE_BIN           the urne binary (default: built here with cargo build --release)
#
# Not checked: `positive_data_acceptance`, since ballots, trustees' messages and drafts are
# documented as opaque JSON objects (their schemas are the specification's, docs/spec.md) and
# board ranges depend on the board's size, so schema-valid requests are rightly refused.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=${URNE_FUZZ_SECONDS:-120}
port=${URNE_FUZZ_PORT:-18089}
venv=${URNE_FUZZ_VENV:-$HOME/.cache/urne-api-fuzz/venv}
base="http://127.0.0.1:$port"

if [ ! -x "$venv/bin/st" ]; then
  echo "== installing schemathesis in $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q schemathesis
fi

if [ -n "${URNE_BIN:-}" ]; then
  urne=$URNE_BIN
else
  echo "== building urne (release)"
  cargo build -q --release -p urne-cli
  urne=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/urne
fi

work=$(mktemp -d)
server_pid=""
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== a finished election to serve (urne demo, 20 voters)"
"$urne" demo --voters 20 --out "$work/demo" --quiet >"$work/demo.log" 2>&1 ||
  { tail -n 20 "$work/demo.log" >&2; exit 1; }
data="$work/demo/server"
password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
URNE_ADMIN_PASSWORD=$password "$urne" admin add --data-dir "$data" fuzzer >/dev/null

echo "== urne serve on $base"
"$urne" serve --data-dir "$data" --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server_pid=$!

# Waits for the server, logs in and makes an API token for the administration routes.
token=$(BASE=$base PASSWORD=$password python3 - <<'EOF'
import json, os, time, urllib.request
base = os.environ["BASE"]
for _ in range(100):
    try:
        urllib.request.urlopen(base + "/healthz", timeout=1)
        break
    except OSError:
        time.sleep(0.1)
else:
    raise SystemExit("the server did not answer /healthz")
def post(path, body, headers={}):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", **headers})
    return urllib.request.urlopen(req, timeout=10)
login = post("/api/v1/admin/login", {"name": "fuzzer", "password": os.environ["PASSWORD"]})
cookie = login.headers["Set-Cookie"].split(";")[0]
answer = post("/api/v1/admin/tokens", {"label": "api-fuzz"}, {"Cookie": cookie})
print(json.load(answer)["token"])
EOF
)

# Every check but positive_data_acceptance (see above). The board's lines take any u64 `from`
# and `limit` (the limit is capped at 10,000, a `from` past the end answers no line), beyond
# the int64 range that the description's format names: negative_data_rejection is off there.
cat >"$work/schemathesis.toml" <<'EOF'
[auth.openapi.admin_token]
bearer = "${URNE_FUZZ_TOKEN}"

[checks]
positive_data_acceptance.enabled = false

[[operations]]
include-name = "GET /api/v1/elections/{id}/board/lines"
checks.negative_data_rejection.enabled = false
EOF

echo "== schemathesis for ${seconds}s"
status=0
# Run from the scratch directory: schemathesis keeps a cache in its working directory.
(cd "$work" && URNE_FUZZ_TOKEN=$token "$venv/bin/st" --config-file "$work/schemathesis.toml" \
  run "$root/docs/openapi.json" --url "$base" \
  --max-time "$seconds" --workers 2 --request-timeout 30 \
  "$@") || status=$?

if grep -n "panicked" "$work/serve.log" >&2; then
  echo "the server panicked (above)" >&2
  status=1
fi
exit "$status"

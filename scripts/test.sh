#!/usr/bin/env bash
# urne's one test command: every test of the workspace (unit, property, test vectors, frozen
# records, fuzz-corpus replay, end to end) and the architecture's dependency rule.
# Usage: ./scripts/test.sh            (run from anywhere; needs cargo, and PostgreSQL for the
#                                      board's PostgreSQL tests: see below)
#
# PostgreSQL: the board's conformance suite also runs on PostgreSQL. Unless
# URNE_TEST_POSTGRES_URL already names a database, this script starts a throwaway cluster on
# 127.0.0.1 (installing Debian's postgresql package first when it is missing and we are root),
# points the tests at it with URNE_REQUIRE_POSTGRES=1 (so they fail rather than skip), and
# stops and removes it on exit. Where it cannot (not root, no apt), the PostgreSQL tests are
# skipped with a warning, except under CI, where that is an error.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== dependency rule: the core stays pure"
forbidden='^(tokio|axum|hyper|sqlx|rusqlite|tokio-postgres|reqwest|rayon|indicatif) '
if cargo tree -p urne-core -e normal --prefix none --features testkit | grep -E "$forbidden"; then
  echo "urne-core must not depend on the crates above (see README: architecture)" >&2
  exit 1
fi

echo "== dependency rule: the verifier depends on the core only"
if cargo tree -p urne-verify -e normal --prefix none | grep -E '^urne-' | grep -vE '^urne-(verify|core) '; then
  echo "urne-verify may depend on urne-core only among urne's crates (see README: architecture)" >&2
  exit 1
fi
if cargo tree -p urne-verify -e normal --prefix none | grep -E '^(tokio|axum|hyper|sqlx|rusqlite|postgres|tokio-postgres) '; then
  echo "urne-verify must not depend on a server or database crate (see README: architecture)" >&2
  exit 1
fi

echo "== dependency rule: only the server links the web framework"
if cargo tree -p urne-board -e normal --prefix none | grep -E '^(axum|hyper|tower|tower-http) '; then
  echo "urne-board is storage only: no web framework (see README: architecture)" >&2
  exit 1
fi

echo "== PostgreSQL for the board's tests"
pg_fail() {
  if [ -n "${CI:-}" ]; then
    echo "error: $*" >&2
    exit 1
  fi
  echo "warning: $* (the PostgreSQL tests will be skipped)" >&2
}

# pg_start, pg_stop: scripts/lib/postgres.sh.
. scripts/lib/postgres.sh
trap pg_stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -n "${URNE_TEST_POSTGRES_URL:-}" ]; then
  echo "using URNE_TEST_POSTGRES_URL"
  export URNE_REQUIRE_POSTGRES=1
else
  pg_start urne_test
  if [ -n "$pg_url" ]; then
    export URNE_TEST_POSTGRES_URL="$pg_url"
    export URNE_REQUIRE_POSTGRES=1
  fi
fi

echo "== aiosmtpd for the mail tests"
# urne-mail's tests deliver to a real SMTP server on loopback (crates/urne-mail/tests/
# smtp_server.py, on Python's aiosmtpd). With aiosmtpd importable they must run (not skip).
if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
  python3 -m pip install --quiet aiosmtpd || true
fi
if python3 -c 'import aiosmtpd' 2>/dev/null; then
  export URNE_REQUIRE_SMTP=1
elif [ -n "${CI:-}" ]; then
  echo "error: python3 cannot import aiosmtpd, needed by urne-mail's SMTP tests" >&2
  exit 1
else
  echo "warning: python3 cannot import aiosmtpd: urne-mail's SMTP tests will be skipped" >&2
fi

echo "== node for the booth's code (web/)"
# web/ holds the booth's protocol code in JavaScript (docs/booth.md). With node and npm, its
# dependencies are installed exactly as web/package-lock.json pins them, its tests run over
# every test vector, and urne-verify's booth_js test must run (not skip) with
# URNE_REQUIRE_NODE=1: it verifies ballots made by the booth's code.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
  node --test --test-reporter=dot web/test/
  node web/tools/vendor.js --check
  export URNE_REQUIRE_NODE=1
elif [ -n "${CI:-}" ]; then
  echo "error: node and npm are needed for the booth's tests (web/)" >&2
  exit 1
else
  echo "warning: node or npm is missing: the booth's tests (web/) will be skipped" >&2
fi

echo "== chromium for the booth's end-to-end tests (web/e2e/)"
# crates/urne-cli/tests/booth_e2e.rs drives the booth in Debian's headless chromium with
# playwright-core (installed above by npm ci, from web/'s devDependencies; Playwright's own
# browser download is not used). With both there it must run (URNE_REQUIRE_BROWSER=1).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing chromium (apt-get, about a minute)"
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 chromium; } \
    >/tmp/urne-apt-chromium.log 2>&1 || tail -n 20 /tmp/urne-apt-chromium.log >&2
fi
if [ -x /usr/bin/chromium ] && [ -f web/node_modules/playwright-core/package.json ]; then
  export URNE_REQUIRE_BROWSER=1
elif [ -n "${CI:-}" ]; then
  echo "error: chromium and playwright-core are needed for the booth's end-to-end tests" >&2
  exit 1
else
  echo "warning: chromium or playwright-core is missing: the booth's end-to-end tests will be skipped" >&2
fi

echo "== tests"
cargo test --workspace --all-features --locked

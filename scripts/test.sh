#!/usr/bin/env bash
# urne's one test command: every test of the workspace (unit, property, test vectors, frozen
# records, fuzz-corpus replay, end to end) and the architecture's dependency rule.
# Usage: ./scripts/test.sh            (run from anywhere; needs only cargo)
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

echo "== tests"
cargo test --workspace --all-features --locked

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

echo "== tests"
cargo test --workspace --all-features --locked

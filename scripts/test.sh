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

echo "== PostgreSQL for the board's tests"
pg_fail() {
  if [ -n "${CI:-}" ]; then
    echo "error: $*" >&2
    exit 1
  fi
  echo "warning: $* (the PostgreSQL tests will be skipped)" >&2
}

# The newest installed server's binaries (Debian keeps them out of PATH).
pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
    echo "$d"
  elif command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(readlink -f "$(command -v pg_ctl)")"
  fi
}

pg_install() {
  # Debian's package would create and start a cluster of its own: ask it not to.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/urne-tests.conf
  echo "installing postgresql (apt-get, about 20 s)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/tmp/urne-apt.log 2>&1 &&
    apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 postgresql \
      >>/tmp/urne-apt.log 2>&1 || { tail -n 20 /tmp/urne-apt.log >&2; return 1; }
}

pg_dir=""
pg_ctl_bin=""
pg_as=()
pg_stop() {
  if [ -n "$pg_dir" ]; then
    "${pg_as[@]}" "$pg_ctl_bin" -D "$pg_dir/data" -m immediate -s stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
    pg_dir=""
  fi
}
trap pg_stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pg_start() {
  local bin port user
  bin=$(pg_bindir)
  if [ -z "$bin" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      pg_install || { pg_fail "could not install postgresql"; return 0; }
      bin=$(pg_bindir)
    fi
    [ -n "$bin" ] || { pg_fail "no PostgreSQL server binaries (initdb, pg_ctl)"; return 0; }
  fi
  # initdb refuses to run as root: run the cluster as the postgres user then.
  if [ "$(id -u)" = 0 ]; then
    user=postgres
    id -u "$user" >/dev/null 2>&1 || useradd --system --no-create-home "$user"
    pg_as=(runuser -u "$user" --)
  else
    user=$(id -un)
    pg_as=()
  fi
  # A free port, in case an earlier run was killed before it could stop its cluster.
  for port in $(seq 55432 55482); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
  done
  pg_dir=$(mktemp -d /tmp/urne-pg.XXXXXX)
  chown "$user" "$pg_dir"
  pg_ctl_bin="$bin/pg_ctl"
  # Trust authentication on loopback only; fsync off: a throwaway cluster need not survive a
  # crash, and the tests run faster.
  if ! "${pg_as[@]}" "$bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 \
    --no-sync >"$pg_dir/initdb.log" 2>&1; then
    cat "$pg_dir/initdb.log" >&2
    pg_fail "initdb failed"
    return 0
  fi
  if ! "${pg_as[@]}" "$pg_ctl_bin" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 -s \
    -o "-h 127.0.0.1 -p $port -k $pg_dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null; then
    cat "$pg_dir/server.log" >&2 || true
    pg_fail "the PostgreSQL server did not start"
    return 0
  fi
  if ! "${pg_as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres urne_test; then
    pg_fail "createdb failed"
    return 0
  fi
  export URNE_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/urne_test"
  export URNE_REQUIRE_POSTGRES=1
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

if [ -n "${URNE_TEST_POSTGRES_URL:-}" ]; then
  echo "using URNE_TEST_POSTGRES_URL"
  export URNE_REQUIRE_POSTGRES=1
else
  pg_start
fi

echo "== tests"
cargo test --workspace --all-features --locked

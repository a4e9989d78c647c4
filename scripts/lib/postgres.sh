# A throwaway PostgreSQL cluster on 127.0.0.1, for scripts/test.sh and scripts/load-test.sh.
# Source this file, define `pg_fail MESSAGE` (what to do when PostgreSQL cannot be had: warn or
# exit), then call `pg_start DBNAME [durable]` and stop the cluster with `pg_stop` on exit.
#
# pg_start creates a cluster in a fresh directory under /tmp, owned by the postgres user when
# run as root (installing Debian's postgresql package first when it is missing and we are
# root), listening on a free port of 127.0.0.1 only with trust authentication, creates the
# database DBNAME and sets pg_url to its URL. Without `durable`, fsync, synchronous commit and
# full-page writes are off: a test cluster need not survive a crash, and runs faster. With
# `durable`, the server keeps PostgreSQL's defaults (a commit returns once its WAL is flushed),
# as a load test measuring durably stored ballots must. On failure it calls pg_fail and
# returns 0 with pg_url empty.

pg_dir=""
pg_ctl_bin=""
pg_as=()
pg_url=""

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

pg_stop() {
  if [ -n "$pg_dir" ]; then
    "${pg_as[@]}" "$pg_ctl_bin" -D "$pg_dir/data" -m immediate -s stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
    pg_dir=""
  fi
}

pg_start() {
  local db=$1 durable=${2:-} bin port user options
  pg_url=""
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
  # Trust authentication on loopback only.
  if ! "${pg_as[@]}" "$bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 \
    --no-sync >"$pg_dir/initdb.log" 2>&1; then
    cat "$pg_dir/initdb.log" >&2
    pg_fail "initdb failed"
    return 0
  fi
  options="-h 127.0.0.1 -p $port -k $pg_dir -c max_connections=200"
  if [ "$durable" != durable ]; then
    options="$options -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  fi
  if ! "${pg_as[@]}" "$pg_ctl_bin" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 -s \
    -o "$options" start >/dev/null; then
    cat "$pg_dir/server.log" >&2 || true
    pg_fail "the PostgreSQL server did not start"
    return 0
  fi
  if ! "${pg_as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db"; then
    pg_fail "createdb failed"
    return 0
  fi
  pg_url="postgres://postgres@127.0.0.1:$port/$db"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

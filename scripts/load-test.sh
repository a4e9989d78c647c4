#!/usr/bin/env bash
# Load test of the voting server over HTTP, on loopback only: builds the release binary, starts
# `urne serve` on a fresh data directory, creates an administrator, then runs
#   urne load prepare   an election (3 trustees, any 2 decrypt) and N ballots, not timed;
#   urne load cast      the N ballots, 64 requests in flight, timed: ballots/s and latency;
#   urne load finish    close, tally, decrypt, publish, export the record, verify it, and check
#                       that every acknowledged ballot is in it at its acknowledged position;
# stops the server and prints the figures. Exits non-zero on any error, refused ballot included.
#
# Usage: scripts/load-test.sh [--ballots N] [--concurrency C] [--postgres]
#   --ballots N       ballots to cast (default 100000)
#   --concurrency C   requests in flight (default 64)
#   --postgres        a throwaway PostgreSQL cluster on 127.0.0.1 (scripts/lib/postgres.sh, with
#                     PostgreSQL's durable defaults) and TWO `urne serve` instances sharing it and
#                     one board key (URNE_BOARD_KEY_FILE); ballots go round-robin to both.
#
# Everything is under target/load/ (replaced at each run); every step has a time limit, and the
# servers and the cluster are stopped on exit, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

ballots=100000
concurrency=64
postgres=""
while [ $# -gt 0 ]; do
  case "$1" in
    --ballots) ballots=${2:?--ballots needs a number}; shift 2 ;;
    --concurrency) concurrency=${2:?--concurrency needs a number}; shift 2 ;;
    --postgres) postgres=1; shift ;;
    -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$ballots$concurrency" in
  *[!0-9]*) echo "--ballots and --concurrency take numbers" >&2; exit 2 ;;
esac

# Time limits, in seconds.
BUILD_LIMIT=1800
STEP_LIMIT=1800
SERVER_LIMIT=7200
START_LIMIT=60
STOP_LIMIT=30

timer_pids=()   # the `timeout` processes that run the servers
server_pids=()  # the servers themselves
stop_servers() {
  local pid i
  for pid in "${timer_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${timer_pids[@]}"; do
    for ((i = 0; i < STOP_LIMIT * 10; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  for pid in "${server_pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  timer_pids=()
  server_pids=()
}
pg_stop() { :; }
cleanup() {
  stop_servers
  pg_stop
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -n "$postgres" ]; then
  setting=postgres
  # The load test needs PostgreSQL: no skipping here.
  pg_fail() {
    echo "error: $*" >&2
    exit 1
  }
  . scripts/lib/postgres.sh
else
  setting=sqlite
fi

echo "== build (release)"
timeout "$BUILD_LIMIT" cargo build --release --locked -q -p urne-cli
urne=${CARGO_TARGET_DIR:-target}/release/urne

work=target/load/$setting
rm -rf "$work"
mkdir -p "$work"
echo "== $setting: $ballots ballots, $concurrency in flight; files in $work"

# A free port of 127.0.0.1 from 18080 on (a started server holds its own, so the next call
# gives another).
free_port() {
  local port
  for port in $(seq 18080 18580); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "no free port between 18080 and 18580" >&2
  return 1
}

# start_server NAME PORT [VAR=value...]: starts `urne serve` on 127.0.0.1:PORT with the
# environment given, logging to $work/NAME.log, and waits until it answers /healthz.
start_server() {
  local name=$1 port=$2 tpid spid i
  shift 2
  env "$@" URNE_LISTEN="127.0.0.1:$port" \
    timeout -s TERM "$SERVER_LIMIT" "$urne" serve >"$work/$name.log" 2>&1 &
  tpid=$!
  timer_pids+=("$tpid")
  for ((i = 0; i < START_LIMIT * 10; i++)); do
    if curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$port/healthz"; then
      spid=$(pgrep -P "$tpid" | head -n 1)
      [ -n "$spid" ] || { echo "error: $name: no server process" >&2; return 1; }
      server_pids+=("$spid")
      echo "$name: http://127.0.0.1:$port (pid $spid, log $work/$name.log)"
      return 0
    fi
    if ! kill -0 "$tpid" 2>/dev/null; then
      cat "$work/$name.log" >&2
      echo "error: $name did not start" >&2
      return 1
    fi
    sleep 0.1
  done
  cat "$work/$name.log" >&2
  echo "error: $name did not answer within $START_LIMIT s" >&2
  return 1
}

URNE_ADMIN_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
export URNE_ADMIN_PASSWORD
export URNE_ADMIN_NAME=load-admin
urls=()
if [ -n "$postgres" ]; then
  pg_start urne_load durable
  store=(URNE_DATABASE_URL="$pg_url" URNE_BOARD_KEY_FILE="$work/board-key")
  env "${store[@]}" timeout "$STEP_LIMIT" "$urne" admin add "$URNE_ADMIN_NAME"
  # One after the other: the first creates the shared board key.
  for name in server1 server2; do
    port=$(free_port)
    start_server "$name" "$port" "${store[@]}" URNE_DATA_DIR="$work/$name"
    urls+=("http://127.0.0.1:$port")
  done
else
  timeout "$STEP_LIMIT" "$urne" admin add --data-dir "$work/data" "$URNE_ADMIN_NAME"
  port=$(free_port)
  start_server server "$port" URNE_DATA_DIR="$work/data"
  urls+=("http://127.0.0.1:$port")
fi
all_urls=$(IFS=,; echo "${urls[*]}")
all_pids=$(IFS=,; echo "${server_pids[*]}")

echo "== prepare (not timed)"
timeout "$STEP_LIMIT" "$urne" load prepare --url "${urls[0]}" --ballots "$ballots" --out "$work/run"

echo "== cast (timed)"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
db_pid=()
if [ -n "$postgres" ]; then
  db_pid=(--db-pid "$(head -n 1 "$pg_dir/data/postmaster.pid")")
fi
timeout "$STEP_LIMIT" "$urne" load cast --url "$all_urls" --dir "$work/run" \
  --concurrency "$concurrency" --server-pid "$all_pids" "${db_pid[@]}" | tee "$work/cast.txt"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

echo "== finish"
timeout "$STEP_LIMIT" "$urne" load finish --url "${urls[0]}" --dir "$work/run"

echo "== stop"
stop_servers
for log in "$work"/server*.log; do
  if grep -qE 'ERROR|WARN' "$log"; then
    echo "warning: $log has warnings or errors:" >&2
    grep -E 'ERROR|WARN' "$log" | head -n 5 >&2
  fi
done

echo
echo "== figures ($setting, ${#urls[@]} server(s), $ballots ballots, $concurrency in flight)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "load average before and after casting: $load_before / $load_after"
grep -E '^  (acknowledged|throughput|latency|batches|cpu) ' "$work/cast.txt"
echo "figures as JSON: $work/run/cast.json"

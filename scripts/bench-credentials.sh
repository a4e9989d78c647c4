#!/usr/bin/env bash
# Benchmark of `urne credentials generate` on a roll of N voters (default 1,000,000), end to end:
# reading and checking the roll, one credential per voter made and derived for the election in
# parallel, the public list sorted and fingerprinted, both files written. The roll (a CSV file
# with id, email, name, weight and lang; one voter in ten with weight 2) is made once and cached.
# Each run writes into a fresh directory; the script prints one line per run:
#
#   voters=N run=R wall_s=S user_s=U sys_s=Y peak_rss_mib=M
#
# Usage: scripts/bench-credentials.sh [N] [RUNS]      (RUNS defaults to 3)
# Cache: ${BENCH_DIR:-target/bench}/roll-N.csv
set -euo pipefail
cd "$(dirname "$0")/.."

n=${1:-1000000}
runs=${2:-3}
[[ $n =~ ^[0-9]+$ ]] && (( n >= 1 && n <= 10000000 )) || { echo "N must be between 1 and 10000000" >&2; exit 2; }
[[ $runs =~ ^[0-9]+$ ]] && (( runs >= 1 )) || { echo "RUNS must be at least 1" >&2; exit 2; }

command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet --bin urne
urne=target/release/urne
dir=${BENCH_DIR:-target/bench}
mkdir -p "$dir"
roll="$dir/roll-$n.csv"
if [[ ! -s $roll ]]; then
  echo "# making $roll ($n voters)" >&2
  awk -v n="$n" 'BEGIN {
    print "id,email,name,weight,lang"
    for (i = 1; i <= n; i++)
      printf "m-%07d,voter%d@example.org,Voter %d,%d,%s\n", i, i, i, (i % 10 == 0 ? 2 : 1), (i % 2 ? "fr" : "en")
  }' > "$roll.partial"
  mv "$roll.partial" "$roll"
fi

echo "# urne credentials generate on $roll ($(du -h "$roll" | cut -f1)), $(nproc) cores" >&2
for r in $(seq 1 "$runs"); do
  out=$(mktemp -d "$dir/credentials-XXXXXX")
  stats=$(mktemp)
  if ! /usr/bin/time -v "$urne" credentials generate --election bench-2026 --roll "$roll" \
      --out "$out" --quiet >"$stats.out" 2>"$stats"; then
    cat "$stats.out" "$stats" >&2
    rm -rf "$out"
    exit 1
  fi
  grep -q "^urne credentials: $n credentials" "$stats.out" || { cat "$stats.out" >&2; exit 1; }
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {
    n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$stats")
  user=$(awk -F': ' '/User time/ {print $2}' "$stats")
  sys=$(awk -F': ' '/System time/ {print $2}' "$stats")
  rss=$(awk -F': ' '/Maximum resident/ {printf "%d", $2 / 1024}' "$stats")
  echo "voters=$n run=$r wall_s=$wall user_s=$user sys_s=$sys peak_rss_mib=$rss"
  rm -rf "$out" "$stats" "$stats.out"
done

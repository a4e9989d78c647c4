#!/usr/bin/env bash
# Benchmark of the universal verifier on a record of N ballots: one question, choose 1 of 5,
# 3 trustees, every voter casting one ballot. The record is generated once (in parallel) and
# cached; then `urne verify` checks all of it (every V-check: proofs, signatures, trackers, log,
# tally, decryption factors, result) and the script prints one line:
#
#   ballots=N verify_s=S peak_rss_mib=M
#
# With --belenios it also runs scripts/belenios-bench.sh on an election of the same shape, in
# the same run, and prints Belenios' line and the ratio of the two times.
#
# Usage: scripts/bench-verify.sh N [--belenios]      (N at most 50,000,000)
# Cache: ${BENCH_DIR:-target/bench}/urne-N.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."

n=${1:?usage: scripts/bench-verify.sh N [--belenios]}
belenios=false
[[ ${2:-} == --belenios ]] && belenios=true
[[ $n =~ ^[0-9]+$ ]] && (( n >= 1 && n <= 50000000 )) || { echo "N must be between 1 and 50000000" >&2; exit 2; }

command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet --bin urne
urne=target/release/urne
dir=${BENCH_DIR:-target/bench}
mkdir -p "$dir"
record="$dir/urne-$n.jsonl"
if [[ ! -s $record ]]; then
  echo "# generating $record ($n ballots, in parallel)" >&2
  "$urne" simulate --voters "$n" --answers 5 --select 1 --trustees 3 --seed 1 --out "$record.partial" --quiet >&2
  mv "$record.partial" "$record"
fi

echo "# verifying $record ($(du -h "$record" | cut -f1)) on $(nproc) cores" >&2
stats=$(mktemp)
if ! /usr/bin/time -v "$urne" verify "$record" --quiet >"$stats.out" 2>"$stats"; then
  cat "$stats.out" "$stats" >&2
  echo "the record did not verify" >&2
  exit 1
fi
secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; printf "%.2f", s}' "$stats")
rss=$(awk -F': ' '/Maximum resident set size/ {printf "%d", $2/1024}' "$stats")
grep -E "points decoded|verdict" "$stats.out" | sed 's/^ */# /' >&2
rm -f "$stats" "$stats.out"
echo "ballots=$n verify_s=$secs peak_rss_mib=$rss"

if $belenios; then
  line=$(scripts/belenios-bench.sh "$n" | tail -n 1)
  echo "$line"
  b=$(sed -n 's/.*verify_s=\([0-9.]*\).*/\1/p' <<<"$line")
  awk -v u="$secs" -v b="$b" 'BEGIN { if (u > 0) printf "ratio belenios/urne=%.1f\n", b / u }'
fi

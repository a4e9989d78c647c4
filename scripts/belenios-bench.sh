#!/usr/bin/env bash
# belenios-bench.sh: time Belenios' universal verifier on an election of N ballots shaped like
# urne's benchmark election, for side-by-side runs with `urne verify`.
#
# Usage: scripts/belenios-bench.sh [--selftest] N        (1 <= N <= 2000000)
#
# The election: one homomorphic question, choose exactly 1 of 5 answers (min = max = 1), three
# trustees, N voters who each cast one ballot (voter i, from 0, picks answer i mod 5). It then
# closes the election and runs the whole tally: encrypted tally, the three trustees' partial
# decryptions (each with its proofs) and the result, so that `belenios-tool election verify`
# checks the same work as urne's verifier: every ballot, the tally and the decryption proofs.
#
# Output: lines starting with "# " are information; the last line is always
#     belenios ballots=N verify_s=S peak_rss_mib=M
# where S is the wall-clock time of the verification (two decimals) and M its peak resident set,
# both as measured by /usr/bin/time -v. Only the verification is timed, never the generation.
#
# Belenios version and its choices, as written for the Debian package (bookworm ships 2.0):
# - Trustees: plain 3-of-3 (three `setup generate-trustee-key`; the election key is the product
#   of theirs), which is urne's n-of-n shape. Belenios' threshold mode is not used: it adds a
#   mandatory fourth, server-held key, so it would not be the same shape.
# - Group: BELENIOS-2048, a finite-field Schnorr group (2048-bit prime p, 256-bit prime order q),
#   the one Belenios 2.0 uses for homomorphic questions. 2.0 has no elliptic-curve group: Ed25519
#   arrived in Belenios 2.1, which Debian bookworm does not ship. Every exponentiation here is a
#   2048-bit modular one (through GMP), so per-ballot costs are not those of a curve group. Set
#   BELENIOS_GROUP to try another group name the installed tool accepts (e.g. RFC-3526-2048).
# - The tool is single-threaded; its time is one core's time.
#
# How the election is built (once; reruns reuse it and only measure):
#   1. credentials: `setup generate-credentials --file IDS`, one process per chunk of voters,
#      run in parallel; the chunks' public credential lists are joined into one.
#   2. setup: three `setup generate-trustee-key`, `setup make-trustees`, `setup make-election`
#      and `archive init`, which writes UUID.bel holding only the Setup event.
#   3. ballots: `election generate-ballot` against that setup archive, one process per ballot,
#      chunks of voters spread over $(nproc) workers with xargs -P.
#   4. the ballot events: `archive add-event` rereads the whole archive each time it appends,
#      which is quadratic in N, so the script writes each ballot's data record and Ballot event
#      record itself (an event is {"parent","height","type","payload"}, named by the SHA-256 of
#      its bytes, chained to its parent) and lets `archive make` assemble the archive. verify
#      regenerates the archive from its events and compares it byte for byte with the file, so a
#      wrong record would make it fail, not pass.
#   5. the tally, with the tool's own commands: `archive add-event --type=EndBallots`,
#      `election compute-encrypted-tally`, `election decrypt` for each trustee (side by side)
#      and `election compute-result`, each appended with `archive add-event`. Each of these
#      rereads and rechecks every ballot, so the tally costs about four verifications.
# The result is checked against the counts the choices imply before the election is cached.
# verify checks the partial decryptions only while checking a result ("W: no result to check"
# otherwise): without step 5 it would check the ballots alone.
#
# --selftest (after the measurement) checks that verification really looks at the data, on
# copies of the cached election: a clean rebuild must pass; a ballot whose proof was altered (in
# an archive rebuilt with correct hashes, so only the cryptographic checks can catch it), a
# trustee's partial decryption with an altered proof (its claim re-hashed, the true result
# appended after it), and one flipped byte in the archive must each be rejected. It runs verify
# five times and the decryptions again, so keep it to small N.
#
# Cache: ${BENCH_DIR:-target/bench}/belenios-N/ (relative paths are taken from the repository
# root), with election/UUID.bel (the public record that is verified), setup/ (the setup-only
# archive), ballots/ (the ballots in chunk order), private/ (trustee keys, voter credentials:
# benchmark secrets only) and gen.log. It is written under belenios-N.partial and renamed when
# complete, so an interrupted generation is never reused. Needs about 30 KB of disk per ballot
# while generating and 20 KB after.
#
# Installs what it lacks with apt-get (needs root): belenios-tool and time.
set -Eeuo pipefail
trap 'echo "belenios-bench: command failed at line $LINENO" >&2' ERR
cd "$(dirname "$0")/.."

readonly MAX_BALLOTS=2000000
readonly ANSWERS=5
readonly TRUSTEES=3
readonly GROUP="${BELENIOS_GROUP:-BELENIOS-2048}"

usage() {
  cat <<'EOF'
Usage: scripts/belenios-bench.sh [--selftest] N

Times `belenios-tool election verify` on a Belenios election of N ballots (one question, choose
exactly 1 of 5 answers, 3 trustees, full tally with partial decryptions). The election is
generated once, in parallel over all cores, and cached under ${BENCH_DIR:-target/bench}/belenios-N/.

Prints "# " information lines, then one line:
    belenios ballots=N verify_s=S peak_rss_mib=M

  N           number of voters and ballots, 1 to 2000000
  --selftest  also check that verify rejects an altered ballot, an altered partial decryption
              and a corrupted archive (runs verify five times: keep N small)
  -h, --help  this text

Environment: BENCH_DIR (cache root), BELENIOS_GROUP (default BELENIOS-2048).
EOF
}

die() {
  echo "belenios-bench: $*" >&2
  exit 1
}

info() { echo "# $*"; }

selftest=false
n=""
for arg in "$@"; do
  case "$arg" in
    -h | --help) usage; exit 0 ;;
    --selftest) selftest=true ;;
    -*) usage >&2; die "unknown option: $arg" ;;
    *) [[ -z "$n" ]] || die "only one N, please"; n="$arg" ;;
  esac
done
[[ -n "$n" ]] || { usage >&2; exit 2; }
[[ "$n" =~ ^[1-9][0-9]{0,7}$ ]] || die "N must be a positive integer, got '$n'"
((n <= MAX_BALLOTS)) || die "N=$n is above the bound of $MAX_BALLOTS ballots"

# Tools -------------------------------------------------------------------------------------

install_debian_packages() {
  ((EUID == 0)) || die "need root to install Debian packages: $*"
  info "installing Debian packages: $*"
  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"; } >/dev/null 2>&1 ||
    die "apt-get install $* failed"
}
command -v belenios-tool >/dev/null || install_debian_packages belenios-tool
[[ -x /usr/bin/time ]] || install_debian_packages time
for tool in sha256sum xargs flock nproc tar; do
  command -v "$tool" >/dev/null || die "missing $tool"
done

# Let the tool take its randomness from /dev/urandom: /dev/random may block on a fresh VM.
export BELENIOS_USE_URANDOM=1
tool_version="$(belenios-tool --version 2>/dev/null || true)"
info "belenios-tool ${tool_version:-unknown version}; group $GROUP;" \
  "$TRUSTEES trustees, plain $TRUSTEES-of-$TRUSTEES"
case "$tool_version" in
  2.0*) ;;
  *) info "warning: written for belenios-tool 2.0; other versions renamed some options" ;;
esac

bench_root="${BENCH_DIR:-target/bench}"
mkdir -p "$bench_root"
bench_root="$(cd "$bench_root" && pwd)"
dir="$bench_root/belenios-$n"

# Voter i (1-based) picks answer (i - 1) mod 5: every answer is used and the result is known.
# choice_json A: the plaintext ballot choosing answer A (0-based).
choice_json() {
  local k out="[["
  for ((k = 0; k < ANSWERS; k++)); do
    ((k == 0)) || out+=","
    if ((k == $1)); then out+="1"; else out+="0"; fi
  done
  printf '%s]]\n' "$out"
}

expected_result() {
  local a out='{"result":[['
  for ((a = 0; a < ANSWERS; a++)); do
    ((a == 0)) || out+=","
    out+="$(((n - a + ANSWERS - 1) / ANSWERS))"
  done
  printf '%s]]}' "$out"
}

# Workers (run by xargs -P, one chunk of voters each) -----------------------------------------

# credentials_worker WORK CHUNK FIRST COUNT UUID GROUP: credentials for voters FIRST..FIRST+COUNT-1.
credentials_worker() {
  local work="$1" chunk="$2" first="$3" count="$4" uuid="$5" group="$6"
  local out="$work/private/creds/$chunk"
  mkdir -p "$out"
  seq -f 'v%07.0f' "$first" $((first + count - 1)) >"$out/ids"
  belenios-tool setup generate-credentials --uuid "$uuid" --group "$group" \
    --file "$out/ids" --dir "$out" >>"$out/log" 2>&1 || return 1
  mv "$out"/*.privcreds "$out/private.txt" && mv "$out"/*.pubcreds "$out/public.json"
}

# ballots_worker WORK CHUNK COUNT TOTAL: the chunk's ballots, one JSON per line, and the SHA-256
# of each (its name in the archive), then a progress line. The voter ids come with the credentials.
ballots_worker() {
  local work="$1" chunk="$2" count="$3" total="$4"
  local creds="$work/private/creds/$chunk/private.txt"
  local jsons="$work/ballots/$chunk.jsons" hashes="$work/ballots/$chunk.sha256"
  local id cred idx ballot digest done_count
  : >"$jsons.tmp"
  : >"$hashes.tmp"
  while read -r id cred; do
    idx=$((10#${id#v}))
    ballot="$(belenios-tool election generate-ballot --dir "$work/setup" \
      --privcred <(printf '%s\n' "$cred") --ballot "$work/choices/$(((idx - 1) % ANSWERS)).json" \
      2>>"$work/gen.log")"
    [[ "$ballot" == '{'*'}' ]] || { echo "bad ballot for $id" >&2; return 1; }
    printf '%s\n' "$ballot" >>"$jsons.tmp"
    digest="$(printf '%s' "$ballot" | sha256sum)"
    printf '%s\n' "${digest%% *}" >>"$hashes.tmp"
  done <"$creds"
  (($(wc -l <"$jsons.tmp") == count)) || { echo "chunk $chunk: short" >&2; return 1; }
  mv "$jsons.tmp" "$jsons"
  mv "$hashes.tmp" "$hashes"
  {
    flock 8
    echo "$count" >&8
    done_count="$(awk '{ s += $1 } END { print s }' "$work/ballots/progress")"
    echo "# generated $done_count/$total"
  } 8>>"$work/ballots/progress"
}
export -f credentials_worker ballots_worker
export ANSWERS

# Archive assembly ----------------------------------------------------------------------------

sha256_of() {
  local digest
  digest="$(printf '%s' "$1" | sha256sum)"
  printf '%s' "${digest%% *}"
}

# build_ballot_archive SETUP_BEL BALLOTS_DIR OUT_DIR [ALTER_INDEX]: writes OUT_DIR/UUID.bel holding
# the setup and one Ballot event per ballot, in chunk order. With ALTER_INDEX (1-based), that
# ballot's first proof response gets its last digit changed before it is hashed.
build_ballot_archive() {
  local setup_bel="$1" ballots="$2" out="$3" alter="${4:-0}"
  local x="$out.records" parent height=0 k=0 chunk b h d event
  rm -rf "$x"
  mkdir -p "$x" "$out"
  tar -xf "$setup_bel" -C "$x"
  parent="$(basename "$(ls "$x"/*.event.json)" .event.json)"
  for chunk in "$ballots"/*.jsons; do
    while IFS= read -r b <&3 && IFS= read -r h <&4; do
      k=$((k + 1))
      if ((k == alter)); then
        [[ "$b" =~ \"response\":\"[0-9]*([0-9])\" ]] || die "no proof response in ballot $k"
        d="${BASH_REMATCH[1]}"
        b="${b/${BASH_REMATCH[0]}/${BASH_REMATCH[0]%?\"}$(((d + 1) % 10))\"}"
        h="$(sha256_of "$b")"
      fi
      printf '%s' "$b" >"$x/$h.data.json"
      height=$((height + 1))
      event="$(printf '{"parent":"%s","height":%d,"type":"Ballot","payload":"%s"}' \
        "$parent" "$height" "$h")"
      parent="$(sha256_of "$event")"
      printf '%s' "$event" >"$x/$parent.event.json"
    done 3<"$chunk" 4<"${chunk%.jsons}.sha256"
  done
  belenios-tool archive make --dir "$x" >"$out/$(basename "$setup_bel")"
  rm -rf "$x"
}

# tally ELECTION_DIR PRIVATE_DIR: closes the election and appends the tally, the partial
# decryptions and the result, all with the tool's own commands; prints the result. Called where
# errexit does not apply (inside $(...) ||), hence the explicit returns.
tally() {
  local e="$1" private="$2" i pids=()
  belenios-tool archive add-event --dir "$e" --type=EndBallots </dev/null || return 1
  belenios-tool election compute-encrypted-tally --dir "$e" |
    belenios-tool archive add-event --dir "$e" --type=EncryptedTally || return 1
  # Each of these commands rereads and rechecks every ballot, so the trustees' decryptions,
  # which need only the encrypted tally, run side by side; their events go in trustee order.
  for ((i = 1; i <= TRUSTEES; i++)); do
    belenios-tool election decrypt --dir "$e" --privkey "$private"/trustee-$i/*.privkey \
      --trustee-id "$i" >"$e.decryption-$i" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || return 1; done
  for ((i = 1; i <= TRUSTEES; i++)); do
    belenios-tool archive add-event --dir "$e" --type=PartialDecryption <"$e.decryption-$i" ||
      return 1
    rm -f "$e.decryption-$i"
  done
  belenios-tool election compute-result --dir "$e" >"$e.result" || return 1
  belenios-tool archive add-event --dir "$e" --type=Result <"$e.result" || return 1
  cat "$e.result"
  rm -f "$e.result"
}

# Generation ----------------------------------------------------------------------------------

generate() {
  local work="$dir.partial" jobs chunk_size chunks c first count uuid t0 t1 need avail i result f
  rm -rf "$work"
  mkdir -p "$work"/{private/creds,setup,ballots,choices}
  for ((i = 0; i < ANSWERS; i++)); do choice_json "$i" >"$work/choices/$i.json"; done
  jobs="$(nproc)"
  # About 10 chunks per core, so progress shows and the load stays even; at most 1000 voters
  # per chunk.
  chunk_size=$(((n + jobs * 10 - 1) / (jobs * 10)))
  ((chunk_size <= 1000)) || chunk_size=1000
  chunks=$(((n + chunk_size - 1) / chunk_size))
  need=$((n * 30)) # KiB
  avail="$(df -Pk "$bench_root" | awk 'NR == 2 { print $4 }')"
  ((avail > need)) ||
    die "needs about $((need / 1024)) MiB free under $bench_root, has $((avail / 1024))"
  info "generating $n ballots in $chunks chunks over $jobs processes under $dir (log: gen.log)"
  t0=$EPOCHREALTIME

  uuid="$(belenios-tool setup generate-token)"
  for ((c = 0; c < chunks; c++)); do
    first=$((c * chunk_size + 1))
    count=$((n - c * chunk_size < chunk_size ? n - c * chunk_size : chunk_size))
    printf '%s %06d %d %d %s %s\n' "$work" "$c" "$first" "$count" "$uuid" "$GROUP"
  done >"$work/chunks"
  xargs -P "$jobs" -L 1 bash -c 'credentials_worker "$@"' _ <"$work/chunks" ||
    die "credential generation failed (see $work/private/creds/*/log)"
  {
    printf '['
    local sep=""
    for f in "$work"/private/creds/*/public.json; do
      printf '%s' "$sep"
      sed -e 's/^\[//' -e 's/\]$//' "$f" | tr -d '\n'
      sep=","
    done
    printf ']'
  } >"$work/setup/public_creds.json"
  info "credentials for $n voters done ($(bc_sub "$EPOCHREALTIME" "$t0") s)"

  for ((i = 1; i <= TRUSTEES; i++)); do
    mkdir -p "$work/private/trustee-$i"
    (cd "$work/private/trustee-$i" && belenios-tool setup generate-trustee-key --group "$GROUP") \
      >>"$work/gen.log" 2>&1
    cat "$work/private/trustee-$i"/*.pubkey >>"$work/setup/public_keys.jsons"
  done
  {
    printf '{"description":"urne comparison benchmark","name":"bench-%d",' "$n"
    printf '"questions":[{"answers":["answer 1","answer 2","answer 3","answer 4","answer 5"],'
    printf '"min":1,"max":1,"question":"question 1"}],'
    printf '"administrator":"bench","credential_authority":"bench"}\n'
  } >"$work/setup/template.json"
  (
    cd "$work/setup" &&
      belenios-tool setup make-trustees --dir . &&
      belenios-tool setup make-election --dir . --uuid "$uuid" --group "$GROUP" \
        --template template.json &&
      belenios-tool archive init --dir . || exit 1
    rm -f public_keys.jsons election.json trustees.json public_creds.json template.json
  ) >>"$work/gen.log" 2>&1 || die "election setup failed (see $work/gen.log)"
  [[ -f "$work/setup/$uuid.bel" ]] || die "no $uuid.bel after setup (see $work/gen.log)"

  awk -v n="$n" '{ print $1, $2, $4, n }' "$work/chunks" |
    xargs -P "$jobs" -L 1 bash -c 'ballots_worker "$@"' _ ||
    die "ballot generation failed (see $work/gen.log)"
  rm -f "$work/ballots/progress"
  info "ballots done ($(bc_sub "$EPOCHREALTIME" "$t0") s)"

  build_ballot_archive "$work/setup/$uuid.bel" "$work/ballots" "$work/election"
  info "$n ballot events chained ($(bc_sub "$EPOCHREALTIME" "$t0") s)"
  info "tally: encrypted tally, $TRUSTEES partial decryptions, result" \
    "(each step rechecks every ballot)"
  result="$(tally "$work/election" "$work/private" 2>>"$work/gen.log")" ||
    die "tally failed (see $work/gen.log)"
  [[ "$result" == "$(expected_result)" ]] ||
    die "result $result differs from the expected $(expected_result)"
  info "result $result (as expected)"
  t1=$EPOCHREALTIME
  printf 'belenios-tool %s\ngroup %s\nballots %d\ntrustees %d\ngenerate_s %.2f\n' \
    "$tool_version" "$GROUP" "$n" "$TRUSTEES" "$(bc_sub "$t1" "$t0")" >"$work/complete"
  rm -rf "$dir"
  mv "$work" "$dir"
  info "generated in $(bc_sub "$t1" "$t0") s"
}

bc_sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }

exec 9>"$dir.lock"
flock 9
if [[ -f "$dir/complete" ]]; then
  info "reusing the election cached in $dir" \
    "(generated in $(awk '$1 == "generate_s" { print $2 }' "$dir/complete") s)"
else
  generate
fi

# Verification --------------------------------------------------------------------------------

# timed_verify ELECTION_DIR OUT: runs verify under /usr/bin/time -v; OUT gets both outputs.
timed_verify() {
  /usr/bin/time -v belenios-tool election verify --dir "$1" >"$2" 2>&1
}

uuid_bel="$(ls "$dir"/election/*.bel)"
info "archive $(du -m "$uuid_bel" | cut -f1) MiB;" \
  "verifying: belenios-tool election verify --dir $dir/election"
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
if ! timed_verify "$dir/election" "$report"; then
  sed 's/^/# /' "$report"
  die "verification failed"
fi
if ! grep -q 'all checks passed' "$report"; then
  sed 's/^/# /' "$report"
  die "verify did not pass all checks"
fi
grep -q 'no result to check' "$report" && die "verify found no result to check"

elapsed="$(awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$report")"
verify_s="$(awk -v t="$elapsed" 'BEGIN {
  k = split(t, p, ":"); s = 0; for (i = 1; i <= k; i++) s = s * 60 + p[i]; printf "%.2f", s }')"
rss_kb="$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$report")"
user_s="$(awk -F': ' '/User time/ { print $2 }' "$report")"
sys_s="$(awk -F': ' '/System time/ { print $2 }' "$report")"
per_ballot() { awk -v s="$1" -v n="$n" 'BEGIN { printf "%.2f", s * 1000 / n }'; }
# On a shared machine wall time includes waiting for a core; user time does not.
info "verify: all checks passed; wall ${verify_s} s ($(per_ballot "$verify_s") ms per ballot)," \
  "user ${user_s} s ($(per_ballot "$user_s") ms per ballot), system ${sys_s} s"

# Self-test -----------------------------------------------------------------------------------

# expect VERDICT NAME DIR: runs verify on DIR and checks that it passes or fails as it should.
expect() {
  local verdict="$1" name="$2" e="$3" out status=0
  out="$(belenios-tool election verify --dir "$e" 2>&1)" || status=$?
  if [[ "$verdict" == pass && $status -eq 0 ]] && grep -q 'all checks passed' <<<"$out"; then
    info "selftest: $name: accepted, as it must be"
  elif [[ "$verdict" == reject && $status -ne 0 ]]; then
    info "selftest: $name: rejected, as it must be: $(grep -v '^I: ' <<<"$out" | tail -n 1)"
  else
    sed 's/^/# /' <<<"$out"
    die "selftest: $name: expected verify to $verdict, exit status $status"
  fi
}

if $selftest; then
  st="$(mktemp -d "$bench_root/belenios-selftest.XXXXXX")"
  trap 'rm -f "$report"; rm -rf "$st"' EXIT
  setup_bel="$(ls "$dir"/setup/*.bel)"
  bel_name="$(basename "$setup_bel")"
  altered=$(((n + 1) / 2))

  build_ballot_archive "$setup_bel" "$dir/ballots" "$st/clean"
  cmp -s "$st/clean/$bel_name" <(head -c "$(stat -c %s "$st/clean/$bel_name")" "$uuid_bel") ||
    die "selftest: the rebuilt ballot archive is not a prefix of the cached one"
  expect pass "ballots-only archive rebuilt from the cached ballots" "$st/clean"

  build_ballot_archive "$setup_bel" "$dir/ballots" "$st/ballot" "$altered"
  expect reject "ballot $altered with one proof response altered, archive re-hashed" "$st/ballot"

  mkdir -p "$st/decryption"
  cp "$st/clean/$bel_name" "$st/decryption/"
  e="$st/decryption"
  belenios-tool archive add-event --dir "$e" --type=EndBallots </dev/null 2>/dev/null
  belenios-tool election compute-encrypted-tally --dir "$e" 2>/dev/null |
    belenios-tool archive add-event --dir "$e" --type=EncryptedTally 2>/dev/null
  # decrypt prints two records: the decryption factors with their proofs, then the trustee's
  # claim of them, {"owner":ID,"payload":SHA-256 of the first}; the claim is re-hashed.
  pd="$(belenios-tool election decrypt --dir "$e" --privkey "$dir"/private/trustee-1/*.privkey \
    --trustee-id 1 2>/dev/null | sed -n 1p)"
  [[ "$pd" =~ \"response\":\"[0-9]*([0-9])\" ]] || die "selftest: no proof in partial decryption"
  d="${BASH_REMATCH[1]}"
  pd="${pd/${BASH_REMATCH[0]}/${BASH_REMATCH[0]%?\"}$(((d + 1) % 10))\"}"
  printf '%s\n{"owner":1,"payload":"%s"}\n' "$pd" "$(sha256_of "$pd")" |
    belenios-tool archive add-event --dir "$e" --type=PartialDecryption 2>/dev/null
  # verify checks the partial decryptions when it checks a result ("no result to check"
  # otherwise), and compute-result would refuse this one, so the true result is appended as is.
  for ((i = 2; i <= TRUSTEES; i++)); do
    belenios-tool election decrypt --dir "$e" --privkey "$dir"/private/trustee-$i/*.privkey \
      --trustee-id "$i" 2>/dev/null |
      belenios-tool archive add-event --dir "$e" --type=PartialDecryption 2>/dev/null
  done
  expected_result | belenios-tool archive add-event --dir "$e" --type=Result 2>/dev/null
  expect reject "trustee 1's partial decryption with its proof response altered" "$e"

  mkdir -p "$st/flipped"
  cp "$uuid_bel" "$st/flipped/"
  # A byte in the middle of the archive: inside some ballot's data, for any N.
  off=$(($(stat -c %s "$uuid_bel") / 2))
  byte="$(od -An -tu1 -j "$off" -N1 "$uuid_bel" | tr -d ' ')"
  printf '%b' "$(printf '\\0%03o' $((byte ^ 1)))" |
    dd of="$st/flipped/$bel_name" bs=1 seek="$off" conv=notrunc status=none
  expect reject "one byte flipped at offset $off of the archive" "$st/flipped"
fi

printf 'belenios ballots=%d verify_s=%s peak_rss_mib=%d\n' \
  "$n" "$verify_s" "$(((rss_kb + 512) / 1024))"

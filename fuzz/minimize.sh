#!/usr/bin/env bash
# Minimizes the corpus of one fuzz target in place, to at most MAX_FILES files (default 300).
#
# Usage: fuzz/minimize.sh TARGET [MAX_FILES]      (needs cargo-fuzz and the nightly toolchain)
#
# 1. A set-cover merge over coverage edges (libFuzzer's -set_cover_merge=1 -use_counters=0) keeps
#    a small set of files that together cover every edge the corpus reaches. It is much smaller
#    than `cargo fuzz cmin`, which keeps one file per hit-count bucket of every edge.
# 2. If that is still more than MAX_FILES, the files are picked greedily, each time the one that
#    adds the most edges not yet covered, until MAX_FILES; the share of edges kept is printed.
set -euo pipefail
cd "$(dirname "$0")"

target=${1:?usage: fuzz/minimize.sh TARGET [MAX_FILES]}
max=${2:-300}
corpus=corpus/$target
[ -d "$corpus" ] || { echo "no corpus directory $corpus" >&2; exit 1; }

cargo +nightly fuzz build "$target"
bin=$(find target -path "*/release/$target" -type f -perm -u+x | head -n 1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/merged" "$work/empty"

"$bin" -set_cover_merge=1 -use_counters=0 "$work/merged" "$corpus" >"$work/merge.log" 2>&1 ||
  { cat "$work/merge.log" >&2; exit 1; }
echo "$target: $(find "$corpus" -type f | wc -l) files -> $(find "$work/merged" -type f | wc -l) after the set-cover merge"

if [ "$(find "$work/merged" -type f | wc -l)" -gt "$max" ]; then
  # A merge into an empty directory writes each file's edges to the control file (COV lines).
  "$bin" -merge=1 -use_counters=0 -merge_control_file="$work/control" "$work/empty" "$work/merged" \
    >"$work/control.log" 2>&1 || { cat "$work/control.log" >&2; exit 1; }
  python3 - "$work/control" "$max" >"$work/keep" <<'EOF'
import sys

control, cap = sys.argv[1], int(sys.argv[2])
lines = open(control).read().splitlines()
n = int(lines[0])
files = lines[2 : 2 + n]
edges, size = {}, {}
for line in lines[2 + n :]:
    parts = line.split()
    if parts[0] == "STARTED":
        size[int(parts[1])] = int(parts[2])
    elif parts[0] == "COV":
        edges[int(parts[1])] = set(parts[2:])
every = set().union(*edges.values()) if edges else set()
covered, keep = set(), []
while edges and len(keep) < cap:
    best = max(edges, key=lambda i: (len(edges[i] - covered), -size.get(i, 0)))
    if not edges[best] - covered:
        break
    covered |= edges.pop(best)
    keep.append(best)
share = 100 * len(covered) / max(len(every), 1)
print(f"kept {len(keep)} files covering {len(covered)} of {len(every)} edges ({share:.1f}%)", file=sys.stderr)
for i in keep:
    print(files[i])
EOF
  mkdir "$work/capped"
  xargs -a "$work/keep" cp -t "$work/capped"
  rm -rf "$work/merged"
  mv "$work/capped" "$work/merged"
fi

rm -rf "$corpus"
mkdir -p "$corpus"
cp "$work/merged"/* "$corpus"/
echo "$target: $(find "$corpus" -type f | wc -l) files, $(du -sb "$corpus" | cut -f1) bytes"

#!/usr/bin/env bash
# Prints the size of the code dist/ serves: every .wasm and .js (and .mjs)
# file, raw and gzipped (gzip -9), and the total. Exits 1 if the gzipped
# total is 500 KB (500,000 bytes) or more. Build first: trunk build --release
# Usage: scripts/size.sh [dist-dir]
set -euo pipefail

dist=${1:-dist}
limit=500000

if [[ ! -d $dist ]]; then
  echo "size.sh: no $dist/ directory; run 'trunk build --release' first" >&2
  exit 2
fi

shopt -s nullglob
files=("$dist"/*.wasm "$dist"/*.js "$dist"/*.mjs)
if ((${#files[@]} == 0)); then
  echo "size.sh: no .wasm or .js files in $dist/" >&2
  exit 2
fi

raw_total=0
gz_total=0
printf '%-40s %10s %10s\n' file raw gzip-9
for f in "${files[@]}"; do
  raw=$(wc -c <"$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  raw_total=$((raw_total + raw))
  gz_total=$((gz_total + gz))
  printf '%-40s %10d %10d\n' "$(basename "$f")" "$raw" "$gz"
done
printf '%-40s %10d %10d\n' total "$raw_total" "$gz_total"

if ((gz_total >= limit)); then
  echo "size.sh: FAIL: $gz_total bytes gzipped, limit is under $limit" >&2
  exit 1
fi
echo "size.sh: ok: $gz_total bytes gzipped, under $limit"

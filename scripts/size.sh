#!/usr/bin/env bash
# Prints the size of the code a first visit downloads: the page's .wasm and
# .js (and .mjs) files plus one lab's training worker (worker_{slug}*), raw
# and gzipped (gzip -9). Each lab has a worker of its own, loaded only on its
# page, so the total counts the largest one. Exits 1 if that total is 500 KB
# (500,000 bytes) or more. Build first: trunk build --release
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

declare -A worker_raw worker_gz
page_raw=0
page_gz=0
printf '%-40s %10s %10s\n' file raw gzip-9
for f in "${files[@]}"; do
  name=$(basename "$f")
  raw=$(wc -c <"$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  printf '%-40s %10d %10d\n' "$name" "$raw" "$gz"
  if [[ $name =~ ^(worker_[a-z0-9]+) ]]; then
    # worker_cnn.js, worker_cnn_bg.wasm, worker_cnn_loader.js: one worker.
    worker=${BASH_REMATCH[1]}
    worker=${worker%_bg}
    worker=${worker%_loader}
    worker_raw[$worker]=$((${worker_raw[$worker]:-0} + raw))
    worker_gz[$worker]=$((${worker_gz[$worker]:-0} + gz))
  else
    page_raw=$((page_raw + raw))
    page_gz=$((page_gz + gz))
  fi
done

printf '\n%-40s %10d %10d\n' page "$page_raw" "$page_gz"
largest=""
for worker in "${!worker_gz[@]}"; do
  printf '%-40s %10d %10d\n' "$worker" "${worker_raw[$worker]}" "${worker_gz[$worker]}"
  if [[ -z $largest ]] || ((worker_gz[$worker] > worker_gz[$largest])); then
    largest=$worker
  fi
done
raw_total=$page_raw
gz_total=$page_gz
if [[ -n $largest ]]; then
  raw_total=$((raw_total + worker_raw[$largest]))
  gz_total=$((gz_total + worker_gz[$largest]))
fi
printf '%-40s %10d %10d\n' "page + $largest" "$raw_total" "$gz_total"

if ((gz_total >= limit)); then
  echo "size.sh: FAIL: $gz_total bytes gzipped, limit is under $limit" >&2
  exit 1
fi
echo "size.sh: ok: $gz_total bytes gzipped, under $limit"

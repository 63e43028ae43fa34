#!/usr/bin/env bash
# Prints the size of the code a first visit downloads, route by route: the
# shared script (boot.js), the route's page bundle (page_{slug}*: the shell
# and that lab's page only) and the lab's training worker (worker_{slug}*),
# raw and gzipped (gzip -9). Exits 1 if any route's total is 500 KB
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

# page_{slug}.js + page_{slug}_bg.wasm: a page bundle (web/src/bin/);
# worker_{slug}.js, worker_{slug}_bg.wasm, worker_{slug}_loader.js: a lab's
# worker; anything else (boot.js): shared by every route.
declare -A bundle_raw bundle_gz
shared_raw=0
shared_gz=0
printf '%-40s %10s %10s\n' file raw gzip-9
for f in "${files[@]}"; do
  name=$(basename "$f")
  raw=$(wc -c <"$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  printf '%-40s %10d %10d\n' "$name" "$raw" "$gz"
  if [[ $name =~ ^((worker|page)_[a-z0-9]+) ]]; then
    bundle=${BASH_REMATCH[1]}
    bundle_raw[$bundle]=$((${bundle_raw[$bundle]:-0} + raw))
    bundle_gz[$bundle]=$((${bundle_gz[$bundle]:-0} + gz))
  else
    shared_raw=$((shared_raw + raw))
    shared_gz=$((shared_gz + gz))
  fi
done

# What a first visit to each route downloads: the shared files, the
# route's page bundle and (a lab) its worker.
printf '\n%-40s %10s %10s\n' "route: shared + page + worker" raw gzip-9
largest=""
largest_gz=0
for page in "${!bundle_gz[@]}"; do
  [[ $page == page_* ]] || continue
  slug=${page#page_}
  worker="worker_$slug"
  raw=$((shared_raw + bundle_raw[$page] + ${bundle_raw[$worker]:-0}))
  gz=$((shared_gz + bundle_gz[$page] + ${bundle_gz[$worker]:-0}))
  route="/$slug"
  [[ $slug == index ]] && route="/"
  printf '%-40s %10d %10d\n' "$route ($shared_gz + ${bundle_gz[$page]} + ${bundle_gz[$worker]:-0})" "$raw" "$gz"
  if ((gz > largest_gz)); then
    largest=$route
    largest_gz=$gz
  fi
done
if [[ -z $largest ]]; then
  echo "size.sh: no page bundle (page_*) in $dist/" >&2
  exit 2
fi

if ((largest_gz >= limit)); then
  echo "size.sh: FAIL: $largest downloads $largest_gz bytes gzipped, limit is under $limit" >&2
  exit 1
fi
echo "size.sh: ok: the largest first visit ($largest) is $largest_gz bytes gzipped, under $limit"

#!/usr/bin/env bash
# DeepPlay's benchmark: builds the bench crate to wasm twice (with and without
# simd128), installs the peer libraries, and runs everything in one node
# process. `bash bench/run.sh` writes bench/results.json and bench/README.md;
# `bash bench/run.sh --smoke` runs a few iterations only (for `make test`) and
# writes its results to a temporary file instead.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export PATH="$HOME/.cargo/bin:$PATH"

for tool in cargo node npm wasm-bindgen; do
  command -v "$tool" >/dev/null || { echo "bench: '$tool' not found on PATH" >&2; exit 1; }
done

# Peer libraries: `npm ci` only when node_modules is missing or older than the lock file.
if [ ! -f bench/node_modules/.package-lock.json ] || [ bench/package-lock.json -nt bench/node_modules/.package-lock.json ]; then
  echo "bench: npm ci" >&2
  (cd bench && npm ci --no-audit --no-fund --loglevel=error)
fi

wasm=wasm32-unknown-unknown/release/deepplay_bench.wasm

# 1. The real build: .cargo/config.toml adds -C target-feature=+simd128 for wasm32.
echo "bench: building deepplay-bench (simd128)" >&2
cargo build --release -q -p deepplay-bench --target wasm32-unknown-unknown
target_dir=$(cargo metadata --format-version 1 --no-deps 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
wasm-bindgen --target nodejs --out-dir bench/pkg "$target_dir/$wasm"

# 2. The same crate without simd128: RUSTFLAGS replaces the config's rustflags,
#    so only the getrandom backend flag is kept; its own target dir avoids
#    rebuilding one variant after the other.
echo "bench: building deepplay-bench (no simd128)" >&2
RUSTFLAGS='--cfg getrandom_backend="wasm_js"' CARGO_TARGET_DIR="$root/target/bench-nosimd" \
  cargo build --release -q -p deepplay-bench --target wasm32-unknown-unknown
wasm-bindgen --target nodejs --out-dir bench/pkg-nosimd "$root/target/bench-nosimd/$wasm"

exec node bench/bench.mjs "$@"

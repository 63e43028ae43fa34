#!/usr/bin/env bash
# Installs what DeepPlay needs to build, serve and test, skipping whatever is
# already present at the right version, so a second run takes seconds.
#
#   scripts/setup.sh serve   # wasm target, wasm-bindgen CLI, trunk, wasm-opt
#   scripts/setup.sh test    # all of the above, plus the no_std target,
#                            # Chromium + chromedriver, the e2e npm packages
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130
TRUNK_VERSION=0.21.14
WASM_OPT_VERSION=132
mode="${1:-test}"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

need_rust_target() {
  if rustup target list --installed | grep -qx "$1"; then
    say "rust target $1: present"
  else
    say "rust target $1: installing"
    rustup target add "$1"
  fi
}

# npm ci only when the lockfile changed since the last install.
npm_install() {
  local dir="$1" stamp="$1/node_modules/.deepplay-lock"
  if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then
    say "npm packages in $dir: present"
  else
    say "npm packages in $dir: installing (npm ci)"
    (cd "$dir" && npm ci --no-audit --no-fund)
    cp "$dir/package-lock.json" "$stamp"
  fi
}

command -v cargo >/dev/null || { echo "cargo is missing: install Rust from https://rustup.rs" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is missing: install Node.js (20 or later)" >&2; exit 1; }

need_rust_target wasm32-unknown-unknown

if [ "$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  say "wasm-bindgen $WASM_BINDGEN_VERSION: present"
else
  say "wasm-bindgen $WASM_BINDGEN_VERSION: installing (a few minutes)"
  # Not --locked: the registry mirror lacks some locked versions.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ "$(trunk --version 2>/dev/null)" = "trunk $TRUNK_VERSION" ]; then
  say "trunk $TRUNK_VERSION: present"
else
  say "trunk $TRUNK_VERSION: installing (about 8 minutes)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

# wasm-opt from npm's binaryen (Debian's is too old for Rust 1.95's output).
npm_install tools
if ! tools/node_modules/.bin/wasm-opt --version | grep -q "version $WASM_OPT_VERSION"; then
  echo "tools/node_modules has the wrong wasm-opt: $(tools/node_modules/.bin/wasm-opt --version)" >&2
  exit 1
fi

[ "$mode" = serve ] && exit 0

need_rust_target thumbv7em-none-eabihf
rustup component list --installed | grep -q '^clippy' || rustup component add clippy
rustup component list --installed | grep -q '^rustfmt' || rustup component add rustfmt

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  say "chromium and chromedriver: present"
else
  say "chromium and chromedriver: installing (apt-get)"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y chromium chromium-driver
fi

npm_install tests/e2e
say "all set"

# DeepPlay: two commands.
#   make serve   build and serve the playground on http://127.0.0.1:8080
#   make test    every check, browser tests included
# Both install what is missing first (scripts/setup.sh), skipping what is
# already in place, so a second run starts working within seconds.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
# wasm-opt (binaryen 132, from npm) and the cargo-installed tools.
export PATH := $(CURDIR)/tools/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

WASM_TEST_ENV := CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
	CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=120

.PHONY: serve test setup setup-serve lint native-test no-std wasm-test build e2e bench-smoke bench e2e-long soak size screenshot pretrain clean

serve: setup-serve
	trunk serve --release

test: setup lint native-test no-std wasm-test build size e2e bench-smoke
	@echo "make test: all passed"

setup-serve:
	scripts/setup.sh serve

setup:
	scripts/setup.sh test

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p deepplay-web -p deepplay-worker -p deepplay-tests --all-targets --target wasm32-unknown-unknown -- -D warnings

native-test:
	cargo test --workspace

# The compute crate builds for a target that has no std at all.
no-std:
	cargo build -p deepplay-core --no-default-features --target thumbv7em-none-eabihf

# wasm-bindgen-test in headless Chrome (no -q: the runner refuses --quiet).
wasm-test:
	$(WASM_TEST_ENV) cargo test -p deepplay-tests --target wasm32-unknown-unknown

build:
	trunk build --release

# Playwright against the release build in dist/.
e2e:
	cd tests/e2e && node --test --test-concurrency=1

# The benchmark in a few iterations: proves it still runs (results go to /tmp).
bench-smoke:
	bash bench/run.sh --smoke

# The full side-by-side benchmark (DeepPlay vs ConvNetJS, TF.js, onnxruntime-web);
# rewrites bench/results.json and bench/README.md.
bench: setup
	bash bench/run.sh

# Trains the CNN lab's defaults in headless Chromium until 97% and then 98%
# test accuracy, and the Sequences lab's defaults (length 40) until the GRU
# reaches 95% held-out accuracy, and prints the time each took.
e2e-long: setup build
	cd tests/e2e && DEEPPLAY_CNN_TARGET=0.97 node --test --test-name-pattern="long run" cnn.test.mjs
	cd tests/e2e && DEEPPLAY_CNN_TARGET=0.98 node --test --test-name-pattern="long run" cnn.test.mjs
	cd tests/e2e && DEEPPLAY_SEQ_TARGET=0.95 node --test --test-name-pattern="long run" sequences.test.mjs
	cd tests/e2e && DEEPPLAY_ATTENTION_TARGET=0.99 node --test --test-name-pattern="long run" attention.test.mjs
	cd tests/e2e && DEEPPLAY_DIFFUSION_TARGET=60 node --test --test-name-pattern="long run" diffusion.test.mjs
	cd tests/e2e && DEEPPLAY_GAN_TARGET=120 DEEPPLAY_GAN_SEEDS=5 node --test --test-name-pattern="long run" gan.test.mjs
	cd tests/e2e && DEEPPLAY_TRANSFER_SECONDS=20 DEEPPLAY_TRANSFER_SEEDS=3 node --test --test-name-pattern="long run" transfer.test.mjs
	cd tests/e2e && DEEPPLAY_DETECTION_TARGET=180 DEEPPLAY_DETECTION_SEEDS=5 node --test --test-name-pattern="long run" detection.test.mjs

# Half an hour in headless Chromium: every lab in turn trains, resets and
# exports its weights while the page's JS heap, both wasm memories and the
# renderers' resident memory are sampled; fails if any keeps growing
# (tests/e2e/soak.test.mjs; samples in tests/e2e/soak-report.json).
soak: setup build
	cd tests/e2e && DEEPPLAY_SOAK_MINUTES=$${DEEPPLAY_SOAK_MINUTES:-30} node --test --test-name-pattern="soak" soak.test.mjs

# Rewrites the Transfer lab's pretrained network (web/assets/data/
# pretrained-cnn-digits-0-4.safetensors): the CNN lab's network trained on
# digits 0-4, seeded; about 16 s on one core. A native test checks that this
# reproduces the shipped file's accuracy.
pretrain: setup
	cargo run --release -q -p deepplay-core --example pretrain

# What a first visit to each route downloads (boot.js, the route's page
# bundle, its lab's worker; gzip -9): fails at 500 KB (500,000 bytes) or
# more on any route. Part of `make test`.
size: build
	scripts/size.sh

# Refreshes the README's screenshots from the release build.
screenshot: build
	node tests/e2e/screenshot.mjs

clean:
	cargo clean
	rm -rf dist

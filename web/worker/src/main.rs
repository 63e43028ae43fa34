//! The training Web Worker (trunk builds it with `data-type="worker"`).
//! A package of its own so that it links at opt-level 3 while the page
//! builds for size (see the release profile in the root Cargo.toml).

fn main() {
    // Only a browser has a worker to run in; a native build of the
    // workspace (tests, clippy) compiles this to nothing.
    #[cfg(target_arch = "wasm32")]
    deepplay_web::worker::runtime::start();
}

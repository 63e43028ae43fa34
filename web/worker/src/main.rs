//! The training Web Worker (trunk builds it with `data-type="worker"`).
//! A package of its own so that it links at opt-level 3 while the page
//! builds for size (see the release profile in the root Cargo.toml).

fn main() {
    deepplay_web::worker::runtime::start();
}

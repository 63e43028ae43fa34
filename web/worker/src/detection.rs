//! The Detection lab's training Web Worker: the runtime and this lab's trainer,
//! nothing else (see Cargo.toml).

fn main() {
    // Only a browser has a worker to run in; a native build of the
    // workspace (tests, clippy) compiles this to nothing.
    #[cfg(target_arch = "wasm32")]
    deepplay_web::worker::runtime::start(deepplay_web::labs::only::<deepplay_web::labs::detection::Detection>);
}

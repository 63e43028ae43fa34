//! DeepPlay's integration tests. The tests live in `tests/`:
//! `browser.rs` runs in headless Chrome through wasm-bindgen-test (the core's
//! gradchecks compiled to wasm, and the shared widgets mounted for real);
//! `e2e/` drives the release build with Playwright.

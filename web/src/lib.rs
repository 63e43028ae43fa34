//! DeepPlay's browser app: the Leptos pages, the widgets they share, the
//! pure drawing code, and the training worker with its protocol.
//!
//! Reading order: [`app`] (routes), [`pages`] (one module per lab),
//! [`components`] (controls, charts, heatmaps), [`draw`] (tensors to
//! pixels), [`worker`] (the training loop and the messages to and from it).

pub mod app;
pub mod choice;
pub mod components;
pub mod decimal;
pub mod draw;
pub mod labs;
pub mod pages;
pub mod router;
pub mod url_state;
pub mod validate;
pub mod worker;

#[cfg(test)]
mod fuzz_tests;

use wasm_bindgen::JsValue;

/// Logs a panic as one readable line instead of a raw wasm trap.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&JsValue::from_str(&format!(
            "DeepPlay stopped on an internal error: {info}. Reloading the page starts it again."
        )));
    }));
}

/// A page bundle's entry point (web/src/bin/): mounts [`app::App`] with
/// what the bundle carries and removes the loading screen that
/// `index.html` shows until now.
pub fn start(bundle: labs::Bundle) {
    install_panic_hook();
    leptos::mount::mount_to_body(move || leptos::view! { <app::App bundle /> });
    components::canvas::warm_fonts();
    if let Some(loading) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("loading"))
    {
        loading.remove();
    }
}

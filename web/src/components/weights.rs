//! Download a lab's weights as a safetensors file, or load them back (the
//! `export-weights` and `import-weights` of design.md). The worker writes
//! and checks the file; a file that does not fit the network is refused
//! with the reason and changes nothing.

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;

/// How long a download's object URL outlives the click: revoking it at
/// once aborts the download in some browsers, which read the blob only
/// after `click()` has returned.
const REVOKE_AFTER_MS: i32 = 30_000;

/// Offers `bytes` to the visitor as a download named `file_name`. The
/// file's object URL is revoked half a minute later, by a one-shot timer
/// whose closure frees itself when it runs.
pub fn download(file_name: &str, bytes: &[u8]) -> Result<(), String> {
    let fail = |what: &str| format!("Could not offer the weights for download ({what}).");
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/octet-stream");
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(|_| fail("blob"))?;
    let window = web_sys::window().ok_or_else(|| fail("no window"))?;
    let document = window.document().ok_or_else(|| fail("no document"))?;
    let link: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|_| fail("link"))?
        .dyn_into()
        .map_err(|_| fail("link"))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| fail("object URL"))?;
    link.set_href(&url);
    link.set_download(file_name);
    link.click();
    let revoke = Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    // Should the timer not start, the URL lives as long as the page does:
    // a kept blob is better than a broken download.
    let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), REVOKE_AFTER_MS);
    Ok(())
}

/// The file chosen in a file input's `change` event, taken: the input is
/// cleared, so that the same file can be chosen again after a fix.
pub fn take_chosen_file(ev: &leptos::ev::Event) -> Option<web_sys::File> {
    let input = ev.target()?.dyn_into::<HtmlInputElement>().ok()?;
    let file = input.files()?.get(0)?;
    input.set_value("");
    Some(file)
}

/// Reads the file chosen in a file input's `change` event and hands its
/// bytes to `on_bytes`, or calls `on_error` if the browser cannot read it.
pub fn read_chosen_file(
    ev: &leptos::ev::Event,
    on_bytes: impl FnOnce(Vec<u8>) + 'static,
    on_error: impl FnOnce() + 'static,
) {
    let Some(file) = take_chosen_file(ev) else {
        return;
    };
    let promise = file.array_buffer();
    wasm_bindgen_futures::spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(promise).await {
            Ok(buffer) => on_bytes(js_sys::Uint8Array::new(&buffer).to_vec()),
            Err(_) => on_error(),
        }
    });
}

/// The download button and the file input.
#[component]
pub fn WeightsControls(
    #[prop(into)] on_export: Callback<()>,
    /// The bytes of the chosen file.
    #[prop(into)]
    on_import: Callback<Vec<u8>>,
) -> impl IntoView {
    let on_change = move |ev: leptos::ev::Event| read_chosen_file(&ev, move |bytes| on_import.run(bytes), || {});
    view! {
        <div class="weights-controls" role="group" aria-label="Weights">
            <button type="button" class="button" data-testid="export-weights" on:click=move |_| on_export.run(())>
                "Download weights"
            </button>
            <label class="button file-button">
                "Load weights\u{2026}"
                <input
                    type="file"
                    accept=".safetensors"
                    class="visually-hidden"
                    data-testid="import-weights"
                    on:change=on_change
                />
            </label>
        </div>
    }
}

//! `/:lab`: the page of the lab named in the path, from the registry in
//! [`crate::labs`]; the placeholder of one not built yet; or "not found".
//! Sets the document title, so tabs and history tell labs apart.

use leptos::prelude::*;

use super::coming_soon::ComingSoon;
use super::not_found::NotFound;
use crate::labs;

/// Sets the tab's title.
pub fn set_document_title(title: &str) {
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        document.set_title(title);
    }
}

/// `bundle` carries at most one lab's page; the router sends every other
/// lab's address to the browser (and so to that lab's bundle).
#[component]
pub fn LabRoute(slug: String, bundle: labs::Bundle) -> impl IntoView {
    match labs::find(&slug) {
        Some((info, live)) => {
            set_document_title(&labs::document_title(info));
            if live {
                bundle.page(&slug).unwrap_or_else(|| view! { <NotFound /> }.into_any())
            } else {
                view! { <ComingSoon info=*info /> }.into_any()
            }
        }
        None => not_found(),
    }
}

/// The page of an address with nothing at it, titled so.
pub fn not_found() -> AnyView {
    set_document_title("Page not found \u{b7} DeepPlay");
    view! { <NotFound /> }.into_any()
}

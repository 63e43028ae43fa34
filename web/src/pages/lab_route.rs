//! `/:lab`: the page of the lab named in the path, from the registry in
//! [`crate::labs`]; the placeholder of one not built yet; or "not found".
//! Sets the document title, so tabs and history tell labs apart.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::coming_soon::ComingSoon;
use super::not_found::NotFound;
use crate::labs;

/// Sets the tab's title.
pub fn set_document_title(title: &str) {
    if let Some(document) = web_sys::window().and_then(|w| w.document()) {
        document.set_title(title);
    }
}

#[component]
pub fn LabRoute() -> impl IntoView {
    let params = use_params_map();
    let slug = Memo::new(move |_| params.with(|p| p.get("lab").unwrap_or_default()));
    move || {
        let slug = slug.get();
        match labs::find(&slug) {
            Some((info, live)) => {
                set_document_title(&labs::document_title(info));
                if live {
                    labs::page(&slug).unwrap_or_else(|| view! { <NotFound /> }.into_any())
                } else {
                    view! { <ComingSoon info=*info /> }.into_any()
                }
            }
            None => {
                set_document_title("Page not found \u{b7} DeepPlay");
                view! { <NotFound /> }.into_any()
            }
        }
    }
}

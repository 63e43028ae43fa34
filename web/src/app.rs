//! The app shell and its routes: `/` is the index; `/:lab` is a lab's page,
//! found in the registry ([`crate::labs`]), which also makes the navigation.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

use crate::labs::LIVE;
use crate::pages::{index::IndexPage, lab_route::set_document_title, lab_route::LabRoute, not_found::NotFound};

/// The index, with the site's own title.
#[component]
fn Home() -> impl IntoView {
    set_document_title("DeepPlay \u{b7} watch neural networks learn");
    view! { <IndexPage /> }
}

/// A link to every live lab (inside the router: links resolve through it).
#[component]
fn LabLinks() -> impl IntoView {
    LIVE.iter()
        .map(|lab| view! { <A href=format!("/{}", lab.slug)>{lab.short_title}</A> })
        .collect_view()
}

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <header class="site-header">
                <A href="/" exact=true {..} class="brand">
                    <span class="brand-mark" aria-hidden="true"></span>
                    "DeepPlay"
                </A>
                <nav aria-label="Main">
                    <A href="/" exact=true>"Labs"</A>
                    <LabLinks />
                </nav>
            </header>
            <main id="main">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=Home />
                    <Route path=path!("/:lab") view=LabRoute />
                </Routes>
            </main>
            <footer class="site-footer">
                <p>
                    "DeepPlay trains every model in your browser, on your own CPU, with Rust \
                     compiled to WebAssembly. Nothing you do here leaves your machine."
                </p>
            </footer>
        </Router>
    }
}

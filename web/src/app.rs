//! The app shell and its routes: `/` is the index; `/:lab` is a lab's page,
//! found in the registry ([`crate::labs`]), which also makes the navigation.
//! [`crate::router`] follows the address.

use leptos::prelude::*;

use crate::labs::{Bundle, LIVE};
use crate::pages::index::IndexPage;
use crate::pages::lab_route::{not_found, set_document_title, LabRoute};
use crate::router::{self, Route};

/// The index, with the site's own title.
#[component]
fn Home() -> impl IntoView {
    set_document_title("DeepPlay \u{b7} watch neural networks learn");
    view! { <IndexPage /> }
}

/// The shell: header, the page of the address, footer. `bundle` is what this
/// page binary carries (the index and at most one lab).
#[component]
pub fn App(bundle: Bundle) -> impl IntoView {
    let path = router::start(move |path| bundle.shows(path));
    // `aria-current="page"` on the links to the page shown (the style sheet
    // marks them): the index's only on `/`, a lab's on its route.
    let current =
        move |href: String, exact: bool| move || router::is_current(&path.read(), &href, exact).then_some("page");
    let lab_links = LIVE
        .iter()
        .map(|lab| {
            let href = format!("/{}", lab.slug);
            view! { <a href=href.clone() aria-current=current(href, false)>{lab.short_title}</a> }
        })
        .collect_view();
    let route = Memo::new(move |_| router::route(&path.read()));
    let page = move || match route.get() {
        Route::Index => view! { <Home /> }.into_any(),
        Route::Lab(slug) => view! { <LabRoute slug bundle /> }.into_any(),
        Route::NotFound => not_found(),
    };
    view! {
        <header class="site-header">
            <a href="/" class="brand" aria-current=current("/".into(), true)>
                <span class="brand-mark" aria-hidden="true"></span>
                "DeepPlay"
            </a>
            <nav aria-label="Main">
                <a href="/" aria-current=current("/".into(), true)>"Labs"</a>
                {lab_links}
            </nav>
        </header>
        <main id="main">{page}</main>
        <footer class="site-footer">
            <p>
                "DeepPlay trains every model in your browser, on your own CPU, with Rust \
                 compiled to WebAssembly. Nothing you do here leaves your machine."
            </p>
        </footer>
    }
}

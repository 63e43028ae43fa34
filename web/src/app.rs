//! The app shell and its routes: `/` is the index, each lab has its own.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

use crate::pages::{
    attention::AttentionPage, cnn::CnnPage, detection::DetectionPage, diffusion::DiffusionPage, gan::GanPage,
    index::IndexPage, not_found::NotFound, playground::PlaygroundPage, sequences::SequencesPage,
    transfer::TransferPage,
};

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
                    <A href="/playground">"Playground"</A>
                    <A href="/cnn">"CNN"</A>
                </nav>
            </header>
            <main id="main">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=IndexPage />
                    <Route path=path!("/playground") view=PlaygroundPage />
                    <Route path=path!("/cnn") view=CnnPage />
                    <Route path=path!("/sequences") view=SequencesPage />
                    <Route path=path!("/attention") view=AttentionPage />
                    <Route path=path!("/diffusion") view=DiffusionPage />
                    <Route path=path!("/gan") view=GanPage />
                    <Route path=path!("/transfer") view=TransferPage />
                    <Route path=path!("/detection") view=DetectionPage />
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

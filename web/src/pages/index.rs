//! `/`: what DeepPlay is, and a card for every lab.

use leptos::prelude::*;

use crate::labs::{LIVE, UPCOMING};

#[component]
pub fn IndexPage() -> impl IntoView {
    let cards = LIVE
        .iter()
        .map(|lab| (lab, true))
        .chain(UPCOMING.iter().map(|lab| (lab, false)))
        .map(|(lab, live)| {
            view! {
                <li class="lab-card" class:live=live>
                    <a href=format!("/{}", lab.slug) data-testid=format!("lab-link-{}", lab.slug)>
                        <span class="badge" class:badge-live=live>
                            {if live { "Live" } else { "Coming soon" }}
                        </span>
                        <h2>{lab.title}</h2>
                        <p class="lab-model">{lab.model}</p>
                        <p>{lab.summary}</p>
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <article class="page index">
            <section class="hero">
                <p class="eyebrow">"A deep-learning playground"</p>
                <h1>"Watch neural networks learn, live, in your browser."</h1>
                <p class="lede">
                    "Every model here is trained on your own CPU by a Rust engine compiled to \
                     WebAssembly, in a background thread so the page stays smooth. Change a \
                     hyperparameter and see what happens; the address bar keeps the settings, \
                     so a link reproduces the run."
                </p>
                <p class="actions">
                    <a class="button primary" href="/playground" data-testid="start-playground">
                        "Open the 2-D playground"
                    </a>
                </p>
            </section>
            <h2 class="section-title">"Labs"</h2>
            <ul class="lab-grid" data-testid="lab-list">
                {cards}
            </ul>
        </article>
    }
}

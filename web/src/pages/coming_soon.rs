//! The page of a lab that is not built yet: says so plainly, and what it
//! will show.

use leptos::prelude::*;

use crate::labs::LabInfo;

#[component]
pub fn ComingSoon(info: LabInfo) -> impl IntoView {
    let lab = info;
    view! {
        <article class="page coming-soon" data-testid="coming-soon">
            <p class="eyebrow">"Lab \u{b7} not built yet"</p>
            <h1>{lab.title}</h1>
            <p class="lede">
                "This lab is not available yet. When it is, it will train a "
                <strong>{lab.model.to_lowercase()}</strong>
                " live in your browser."
            </p>
            <section class="panel">
                <h2>"What it will show"</h2>
                <p>{lab.summary}</p>
            </section>
            <p class="actions">
                <a class="button primary" href="/playground">
                    "Try the 2-D playground"
                </a>
                <a class="button" href="/">
                    "All labs"
                </a>
            </p>
        </article>
    }
}

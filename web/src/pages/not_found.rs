//! Any unknown address.

use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <article class="page" data-testid="not-found">
            <h1>"Page not found"</h1>
            <p class="lede">"There is no lab at this address."</p>
            <p class="actions">
                <a class="button primary" href="/">
                    "See all labs"
                </a>
            </p>
        </article>
    }
}

//! The Diffusion lab (`/diffusion`): not built yet, so the page says what is coming.

use leptos::prelude::*;

use super::coming_soon::ComingSoon;

#[component]
pub fn DiffusionPage() -> impl IntoView {
    view! { <ComingSoon slug="diffusion" /> }
}

//! The Attention lab (`/attention`): not built yet, so the page says what is coming.

use leptos::prelude::*;

use super::coming_soon::ComingSoon;

#[component]
pub fn AttentionPage() -> impl IntoView {
    view! { <ComingSoon slug="attention" /> }
}

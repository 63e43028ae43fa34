//! The Sequences lab (`/sequences`): not built yet, so the page says what is coming.

use leptos::prelude::*;

use super::coming_soon::ComingSoon;

#[component]
pub fn SequencesPage() -> impl IntoView {
    view! { <ComingSoon slug="sequences" /> }
}

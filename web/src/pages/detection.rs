//! The Detection lab (`/detection`): not built yet, so the page says what is coming.

use leptos::prelude::*;

use super::coming_soon::ComingSoon;

#[component]
pub fn DetectionPage() -> impl IntoView {
    view! { <ComingSoon slug="detection" /> }
}

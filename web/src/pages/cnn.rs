//! The CNN lab (`/cnn`): not built yet, so the page says what is coming.

use leptos::prelude::*;

use super::coming_soon::ComingSoon;

#[component]
pub fn CnnPage() -> impl IntoView {
    view! { <ComingSoon slug="cnn" /> }
}

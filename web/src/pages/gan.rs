//! The GAN lab (`/gan`): not built yet, so the page says what is coming.

use leptos::prelude::*;

use super::coming_soon::ComingSoon;

#[component]
pub fn GanPage() -> impl IntoView {
    view! { <ComingSoon slug="gan" /> }
}

//! The Transfer lab (`/transfer`): not built yet, so the page says what is coming.

use leptos::prelude::*;

use super::coming_soon::ComingSoon;

#[component]
pub fn TransferPage() -> impl IntoView {
    view! { <ComingSoon slug="transfer" /> }
}

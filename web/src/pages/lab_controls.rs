//! The training controls of a lab page wired to its worker. Every lab sends
//! the same commands for start/pause, step, reset and a new seed, so they
//! live here once.

use leptos::prelude::*;

use crate::components::TrainControls;
use crate::validate;
use crate::worker::protocol::Command;

#[component]
pub fn LabTrainControls(
    /// Sends a command to the lab's worker.
    #[prop(into)]
    send: Callback<Command>,
    running: RwSignal<bool>,
    #[prop(into)] step: Signal<u64>,
    #[prop(into)] loss: Signal<f32>,
    /// The seed field's text.
    seed_text: RwSignal<String>,
    #[prop(into)] seed_error: Signal<Option<String>>,
    /// The seed of the current run.
    #[prop(into)]
    seed: Signal<u64>,
    /// Records a new seed in the page's settings (the URL follows them).
    #[prop(into)]
    set_seed: Callback<u64>,
    /// The page's own error, cleared when the visitor acts.
    page_error: RwSignal<Option<String>>,
) -> impl IntoView {
    let on_toggle = move |_| {
        if running.get_untracked() {
            send.run(Command::Pause);
        } else {
            page_error.set(None);
            send.run(Command::Start);
        }
        running.update(|r| *r = !*r);
    };
    let on_step = move |_| {
        page_error.set(None);
        send.run(Command::StepOnce);
    };
    let reset_with = move |new_seed: u64| {
        page_error.set(None);
        set_seed.run(new_seed);
        send.run(Command::Reset { seed: new_seed });
    };
    // A seed that is not valid is refused next to its field and sends nothing.
    let on_reset = move |_| {
        if let Ok(new_seed) = validate::seed(&seed_text.get_untracked()) {
            reset_with(new_seed);
        }
    };
    let on_seed = move |text: String| {
        if let Ok(new_seed) = validate::seed(&text) {
            if new_seed != seed.get_untracked() {
                reset_with(new_seed);
            }
        }
    };
    view! {
        <TrainControls
            running=running
            step=step
            loss=loss
            seed=seed_text
            seed_error=seed_error
            on_toggle=on_toggle
            on_step=on_step
            on_reset=on_reset
            on_seed=on_seed
        />
    }
}

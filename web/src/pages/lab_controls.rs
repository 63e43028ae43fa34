//! A lab page wired to its worker: starting the worker, and the training
//! controls. Every lab does the same here (configure first and again after a
//! crash; start/pause, step, reset and a new seed), so it lives here once.

use leptos::prelude::*;

use crate::components::{download, TrainControls};
use crate::validate;
use crate::worker::client::WorkerClient;
use crate::worker::protocol::{Command, WorkerEvent};

/// Starts a lab's worker and returns the function that sends it commands.
/// `configure` is the command that sets the worker up for the page's current
/// settings: it goes first, and again after a crash (the restarted worker
/// knows nothing). Exported weights are downloaded here; every other event
/// goes to `on_event`. If the worker cannot start, `page_error` says why.
pub fn spawn_lab_worker(
    on_event: impl Fn(WorkerEvent) + 'static,
    configure: impl Fn() -> Command + Copy + 'static,
    running: RwSignal<bool>,
    page_error: RwSignal<Option<String>>,
) -> impl Fn(Command) + Copy + 'static {
    let worker = StoredValue::new_local(None::<WorkerClient>);
    let send = move |command: Command| {
        worker.with_value(|w| {
            if let Some(w) = w {
                w.send(command);
            }
        });
    };
    let on_crash = move |message: String| {
        running.set(false);
        page_error.set(Some(message));
        send(configure());
    };
    let on_event = move |event| match event {
        WorkerEvent::Weights { file_name, bytes } => {
            if let Err(message) = download(&file_name, &bytes) {
                page_error.set(Some(message));
            }
        }
        other => on_event(other),
    };
    match WorkerClient::spawn(on_event, on_crash) {
        Ok(client) => {
            client.send(configure());
            worker.set_value(Some(client));
        }
        Err(message) => page_error.set(Some(format!(
            "{message}. This lab needs Web Workers and WebAssembly; try a current browser."
        ))),
    }
    send
}

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

//! A lab page wired to its worker: starting the worker, and the training
//! controls. Every lab does the same here (configure first and again after a
//! crash; start/pause, step, reset and a new seed), so it lives here once.

use std::marker::PhantomData;

use leptos::prelude::*;

use crate::components::{download, SelectField, TrainControls};
use crate::validate;
use crate::worker::client::{worker_script, WorkerClient};
use crate::worker::protocol::{decode, encode, Command, LabProtocol, Run, Snapshot, SpeedChoice, WorkerEvent};

/// A page's line to its lab's worker, typed by the lab's protocol so a page
/// can only send what its trainer understands. `Copy`, for event handlers.
pub struct LabLink<P: LabProtocol> {
    worker: StoredValue<Option<WorkerClient>, LocalStorage>,
    protocol: PhantomData<fn() -> P>,
}

impl<P: LabProtocol> Clone for LabLink<P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P: LabProtocol> Copy for LabLink<P> {}

impl<P: LabProtocol> LabLink<P> {
    /// Sends a command of the common envelope.
    pub fn send(&self, command: Command) {
        self.worker.with_value(|w| {
            if let Some(w) = w {
                w.send(command);
            }
        });
    }

    /// Builds the lab for `run` in the worker: step 0, paused.
    pub fn configure(&self, run: &Run<P::Settings>) {
        self.send(configure_command::<P>(run));
    }

    pub fn hyper(&self, hyper: &P::Hyper) {
        self.send(Command::SetHyper(encode(hyper)));
    }

    /// One of the lab's own commands; the answer comes to `on_reply`.
    pub fn command(&self, command: &P::Command) {
        self.send(Command::Lab(encode(command)));
    }
}

/// The envelope's `Configure` for a run of the lab `P`.
pub fn configure_command<P: LabProtocol>(run: &Run<P::Settings>) -> Command {
    Command::Configure {
        lab: P::SLUG.to_string(),
        seed: run.seed,
        speed: run.speed,
        settings: encode(&run.settings),
    }
}

/// Keeps the page's and the worker's WebAssembly memory sizes on the
/// document element (`data-page-memory`, `data-worker-memory`, in bytes),
/// where the soak test (`make soak`) and anyone in the developer tools can
/// read them: the page itself has no use for them.
fn record_memory(worker_bytes: u64) {
    thread_local! {
        static RECORDED: core::cell::Cell<(u64, u64)> = const { core::cell::Cell::new((0, 0)) };
    }
    let page_bytes = crate::worker::wasm_memory_bytes();
    // Snapshots come ten times a second and the sizes change rarely: touch
    // the document only when they do.
    if RECORDED.with(|r| r.replace((page_bytes, worker_bytes))) == (page_bytes, worker_bytes) {
        return;
    }
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    else {
        return;
    };
    let _ = root.set_attribute("data-page-memory", &page_bytes.to_string());
    let _ = root.set_attribute("data-worker-memory", &worker_bytes.to_string());
}

/// Starts a lab's worker and returns the link that sends it commands.
/// `run` gives the page's current run: it is configured first, and again
/// after a crash (the restarted worker knows nothing). Snapshots go to
/// `on_snapshot` and the lab's replies to `on_reply`; exported weights are
/// downloaded and refusals shown in the page's error banner here, the same
/// for every lab. If the worker cannot start, `page_error` says why.
pub fn spawn_lab_worker<P: LabProtocol>(
    on_snapshot: impl Fn(Snapshot) + 'static,
    on_reply: impl Fn(P::Reply) + 'static,
    run: impl Fn() -> Run<P::Settings> + Copy + 'static,
    running: RwSignal<bool>,
    page_error: RwSignal<Option<String>>,
) -> LabLink<P> {
    let link = LabLink::<P> {
        worker: StoredValue::new_local(None),
        protocol: PhantomData,
    };
    let on_crash = move |message: String| {
        running.set(false);
        page_error.set(Some(message));
        link.configure(&run());
    };
    let on_event = move |event| match event {
        WorkerEvent::Snapshot(snapshot) => {
            record_memory(snapshot.worker_memory);
            on_snapshot(snapshot)
        }
        WorkerEvent::Reply(bytes) => match decode::<P::Reply>(&bytes, "reply") {
            Ok(reply) => on_reply(reply),
            Err(message) => web_sys::console::error_1(&message.into()),
        },
        WorkerEvent::Notice(message) => page_error.set(Some(message)),
        WorkerEvent::Weights { file_name, bytes } => {
            if let Err(message) = download(&file_name, &bytes) {
                page_error.set(Some(message));
            }
        }
        WorkerEvent::Ready => {}
    };
    match WorkerClient::spawn(worker_script(P::SLUG), on_event, on_crash) {
        Ok(client) => {
            client.send(configure_command::<P>(&run()));
            link.worker.set_value(Some(client));
        }
        Err(message) => page_error.set(Some(format!(
            "{message}. This lab needs Web Workers and WebAssembly; try a current browser."
        ))),
    }
    link
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

/// The speed select every lab's controls carry (`speed-select`): flat out,
/// or slowly enough to watch.
#[component]
pub fn SpeedField(
    #[prop(into)] speed: Signal<SpeedChoice>,
    #[prop(into)] set_speed: Callback<SpeedChoice>,
) -> impl IntoView {
    view! {
        <SelectField
            id="speed"
            label="Speed"
            testid="speed-select"
            options=SpeedChoice::options()
            value=Signal::derive(move || speed.get().key())
            on_change=move |key: String| {
                if let Some(choice) = SpeedChoice::from_key(&key) {
                    set_speed.run(choice);
                }
            }
        />
    }
}

//! The worker's event loop: take commands, train in short slices, post
//! snapshots at a bounded rate, fetch the datasets labs ask for. It drives
//! any lab through [`DynLab`] and names none: the registry in
//! [`crate::labs`] turns a lab's slug into its [`LabFactory`].
//!
//! A worker is single-threaded like the page, so a long training loop would
//! leave "pause" waiting in the queue. Instead each slice trains for about
//! [`TRAIN_SLICE_MS`], posts a snapshot if one is due, lets the lab do a
//! little background work, and schedules the next slice, letting queued
//! commands run in between.
//!
//! [`Runtime`] is plain Rust over a [`Host`] (clock, messages, scheduling,
//! fetching), so it is tested natively; [`start`] runs it in the browser.

use super::datasets::{Dataset, DatasetId, Datasets, Fetch};
use super::lab::{Applied, DynLab, LabFactory, Losses};
use super::protocol::{
    Command, LossSeries, Snapshot, SpeedChoice, Status, WorkerEvent, HEAVY_TENSOR_INTERVAL_MS, SNAPSHOT_INTERVAL_MS,
    TRAIN_SLICE_MS,
};

/// What the runtime needs from the place it runs in.
pub trait Host {
    fn now_ms(&self) -> f64;
    fn post(&self, event: WorkerEvent);
    /// Runs [`Runtime::run_slice`] soon: at once (`None`), or after about
    /// `delay_ms` (a speed limit leaves nothing to do for a while).
    fn schedule_slice(&self, delay_ms: Option<i32>) -> Result<(), String>;
    /// Starts fetching a dataset with `fetch`, which the lab's factory
    /// carries; it reports back through [`Runtime::dataset_progress`] and
    /// [`Runtime::dataset_loaded`].
    fn load(&self, id: DatasetId, fetch: Fetch);
    fn log_error(&self, message: &str);
}

/// The last configuration the page sent: rebuilt by Reset when there is
/// no lab (its build failed, or its data was still loading).
struct Configured {
    lab: String,
    settings: Vec<u8>,
    seed: u64,
}

pub struct Runtime<H: Host> {
    host: H,
    registry: fn(&str) -> Option<LabFactory>,
    lab: Option<Box<dyn DynLab>>,
    configured: Option<Configured>,
    datasets: Datasets,
    /// Datasets being fetched, with the fraction done.
    loading: Vec<(DatasetId, f32)>,
    /// Start was pressed while the lab waited for its data.
    start_when_built: bool,
    /// Hyperparameter changes sent while the lab waited for its data.
    queued_hypers: Vec<Vec<u8>>,
    /// Why training stopped, until the run is reset or rebuilt.
    failure: Option<String>,
    speed: SpeedChoice,
    /// Losses not yet sent, one series per name.
    unsent: Vec<LossSeries>,
    running: bool,
    slice_scheduled: bool,
    /// Steps the speed limit allows but that are not trained yet.
    step_credit: f64,
    last_slice_ms: f64,
    last_snapshot_ms: f64,
    last_heavy_ms: f64,
    steps_since_snapshot: u64,
}

impl<H: Host> Runtime<H> {
    pub fn new(host: H, registry: fn(&str) -> Option<LabFactory>) -> Self {
        Self {
            host,
            registry,
            lab: None,
            configured: None,
            datasets: Datasets::default(),
            loading: Vec::new(),
            start_when_built: false,
            queued_hypers: Vec::new(),
            failure: None,
            speed: SpeedChoice::Full,
            unsent: Vec::new(),
            running: false,
            slice_scheduled: false,
            step_credit: 0.0,
            last_slice_ms: 0.0,
            last_snapshot_ms: 0.0,
            last_heavy_ms: 0.0,
            steps_since_snapshot: 0,
        }
    }

    pub fn host(&self) -> &H {
        &self.host
    }

    pub fn handle(&mut self, command: Command) {
        self.dispatch(command);
        // Work any command may have started (a sampling after new weights,
        // a new sampler) goes on, slice by slice, even while paused.
        self.schedule_slice();
    }

    fn dispatch(&mut self, command: Command) {
        match command {
            Command::Configure {
                lab,
                seed,
                speed,
                settings,
            } => {
                self.speed = speed;
                self.start_when_built = false;
                self.queued_hypers.clear();
                self.configured = Some(Configured { lab, settings, seed });
                self.build();
            }
            Command::Start => {
                if self.lab.is_some() {
                    self.start();
                } else if self.configured.is_some() && !self.loading.is_empty() {
                    self.start_when_built = true;
                    self.send_status();
                } else {
                    // Nothing to train (the last build failed): say so, so
                    // the page does not show a run that is not there.
                    self.send_error("There is no model to train: change a setting or press Reset.".into());
                }
            }
            Command::Pause => {
                self.running = false;
                self.start_when_built = false;
                if self.lab.is_none() && !self.loading.is_empty() {
                    self.send_status();
                    return;
                }
                if let Some(lab) = &mut self.lab {
                    lab.settle();
                }
                self.send_snapshot(true, false);
            }
            Command::StepOnce => {
                self.running = false;
                if self.lab.is_some() && self.failure.is_none() {
                    self.train_one();
                }
                self.send_snapshot(true, false);
            }
            Command::Reset { seed } => {
                self.running = false;
                self.start_when_built = false;
                if let Some(configured) = &mut self.configured {
                    configured.seed = seed;
                }
                match self.lab.as_mut() {
                    Some(lab) => {
                        let result = lab.reset(seed, &self.datasets);
                        self.after_build(result);
                    }
                    None if self.configured.is_some() => self.build(),
                    None => self.send_error("There is no lab to reset yet: reload the page.".into()),
                }
            }
            Command::SetSpeed(speed) => {
                self.speed = speed;
                self.send_snapshot(false, false);
            }
            Command::SetHyper(hyper) => {
                let Some(lab) = &mut self.lab else {
                    if !self.loading.is_empty() {
                        self.queued_hypers.push(hyper);
                    }
                    return;
                };
                match lab.set_hyper(&hyper) {
                    Ok(Applied::Live) => self.send_snapshot(false, false),
                    Ok(Applied::Restarted) => self.after_build(Ok(())),
                    Err(message) => self.host.post(WorkerEvent::Notice(message)),
                }
            }
            Command::Lab(command) => {
                let Some(lab) = &mut self.lab else { return };
                match lab.command(&command) {
                    Ok(Some(reply)) => self.host.post(WorkerEvent::Reply(reply)),
                    Ok(None) => self.send_snapshot(true, false),
                    Err(message) => self.host.post(WorkerEvent::Notice(message)),
                }
            }
            Command::ExportWeights => {
                let result = match &self.lab {
                    Some(lab) => lab.export_weights(),
                    None => Err("There are no weights to save yet.".into()),
                };
                self.host.post(match result {
                    Ok((file_name, bytes)) => WorkerEvent::Weights { file_name, bytes },
                    Err(message) => WorkerEvent::Notice(message),
                });
            }
            Command::ImportWeights { bytes } => {
                let Some(lab) = &mut self.lab else {
                    self.host.post(WorkerEvent::Notice(
                        "There is no model to load weights into yet.".into(),
                    ));
                    return;
                };
                // A refused file changes nothing: the run goes on as it was.
                match lab.import_weights(&bytes) {
                    Ok(()) => {
                        self.failure = None;
                        lab.settle();
                        self.send_snapshot(true, false);
                    }
                    Err(message) => self.host.post(WorkerEvent::Notice(message)),
                }
            }
        }
    }

    /// Builds the configured lab, or fetches the datasets it still needs.
    fn build(&mut self) {
        self.running = false;
        let Some(configured) = &self.configured else { return };
        let Some(factory) = (self.registry)(&configured.lab) else {
            let message = format!(
                // Display, not Debug: Debug-quoting a string links Unicode tables.
                "This page asked for a lab named \u{201c}{}\u{201d}, which this worker does not have.",
                configured.lab
            );
            self.lab = None;
            self.send_error(message);
            return;
        };
        // The lab's datasets, if one is still missing.
        let needs = factory
            .datasets
            .filter(|needs| needs.ids.iter().any(|&id| !self.datasets.has(id)));
        let Some(needs) = needs else {
            let result = (factory.build)(&configured.settings, configured.seed, &self.datasets);
            match result {
                Ok(lab) => {
                    self.lab = Some(lab);
                    self.after_build(Ok(()));
                    for hyper in std::mem::take(&mut self.queued_hypers) {
                        self.handle(Command::SetHyper(hyper));
                    }
                    if std::mem::take(&mut self.start_when_built) {
                        self.start();
                    }
                }
                Err(message) => self.after_build(Err(message)),
            }
            return;
        };
        self.lab = None;
        for &id in needs.ids {
            if !self.datasets.has(id) && !self.loading.iter().any(|&(l, _)| l == id) {
                self.loading.push((id, 0.0));
                self.host.load(id, needs.fetch);
            }
        }
        self.send_status();
    }

    /// A new run began (built, reset or restarted by a setting), or
    /// building it failed.
    fn after_build(&mut self, result: Result<(), String>) {
        self.running = false;
        self.failure = None;
        self.unsent.clear();
        match result {
            Ok(()) => {
                if let Some(lab) = &mut self.lab {
                    // What the page shows first: e.g. the untrained network's test accuracy.
                    lab.settle();
                }
                self.send_snapshot(true, true);
                // Work the new run started (a first sampling) goes on.
                self.schedule_slice();
            }
            Err(message) => {
                self.lab = None;
                self.send_error(message);
            }
        }
    }

    pub fn dataset_progress(&mut self, id: DatasetId, fraction: f32) {
        if let Some(entry) = self.loading.iter_mut().find(|(l, _)| *l == id) {
            entry.1 = fraction.clamp(0.0, 1.0);
            if self.lab.is_none() {
                self.send_status();
            }
        }
    }

    pub fn dataset_loaded(&mut self, id: DatasetId, result: Result<Dataset, String>) {
        self.loading.retain(|&(l, _)| l != id);
        match result {
            Ok(dataset) => {
                self.datasets.insert(dataset);
                if self.lab.is_none() && self.loading.is_empty() {
                    self.build();
                }
            }
            Err(message) => {
                self.start_when_built = false;
                self.send_error(message);
            }
        }
    }

    fn start(&mut self) {
        let now = self.host.now_ms();
        self.running = true;
        self.last_snapshot_ms = now;
        self.last_slice_ms = now;
        self.step_credit = 1.0;
        self.steps_since_snapshot = 0;
        self.send_snapshot(false, false);
        self.schedule_slice();
    }

    /// One step; false when it failed (the failure is kept for the page).
    fn train_one(&mut self) -> bool {
        let Some(lab) = &mut self.lab else { return false };
        match lab.train_step() {
            Ok(losses) => {
                let step = lab.step();
                self.record(step, &losses);
                true
            }
            Err(message) => {
                self.failure = Some(message);
                false
            }
        }
    }

    fn record(&mut self, step: u64, losses: &Losses) {
        for &(name, value) in losses {
            let series = match self.unsent.iter().position(|s| s.name == name) {
                Some(i) => &mut self.unsent[i],
                None => {
                    self.unsent.push(LossSeries {
                        name: name.to_string(),
                        ..LossSeries::default()
                    });
                    let last = self.unsent.len() - 1;
                    &mut self.unsent[last]
                }
            };
            series.latest = value;
            series.new_points.push((step, value));
        }
    }

    fn send_snapshot(&mut self, heavy: bool, fresh_run: bool) {
        let now = self.host.now_ms();
        let elapsed = now - self.last_snapshot_ms;
        let mut snapshot = match &mut self.lab {
            Some(lab) => {
                let mut snapshot = lab.snapshot(heavy, fresh_run);
                snapshot.step = lab.step();
                snapshot
            }
            None => Snapshot::default(),
        };
        snapshot.losses = self
            .unsent
            .iter_mut()
            .map(|s| LossSeries {
                name: s.name.clone(),
                latest: s.latest,
                new_points: std::mem::take(&mut s.new_points),
            })
            .collect();
        snapshot.fresh_run = fresh_run;
        snapshot.running = self.running;
        snapshot.error = self.failure.clone();
        snapshot.steps_per_second = if self.running && elapsed > 0.0 {
            (self.steps_since_snapshot as f64 * 1000.0 / elapsed) as f32
        } else {
            0.0
        };
        self.last_snapshot_ms = now;
        self.steps_since_snapshot = 0;
        if heavy {
            self.last_heavy_ms = now;
        }
        self.host.post(WorkerEvent::Snapshot(snapshot));
    }

    /// Tells the page what is loading and how far it got.
    fn send_status(&mut self) {
        let Some(&(id, progress)) = self.loading.first() else {
            return;
        };
        let then = if self.start_when_built {
            " Training starts as soon as it has arrived."
        } else {
            ""
        };
        let status = Status {
            // A whole percent, as an integer: float formatting is kilobytes of code.
            text: format!(
                "Loading {}\u{2026} {}%.{then}",
                id.label(),
                (100.0 * progress + 0.5) as u32
            ),
            progress: Some(progress),
        };
        self.host.post(WorkerEvent::Snapshot(Snapshot {
            // Start pressed while loading shows as running: it is queued.
            running: self.start_when_built,
            fresh_run: true,
            status: Some(status),
            ..Snapshot::default()
        }));
    }

    fn send_error(&mut self, message: String) {
        self.running = false;
        self.host.post(WorkerEvent::Snapshot(Snapshot {
            error: Some(message),
            ..Snapshot::default()
        }));
    }

    /// Whether the lab has background work to finish while paused.
    fn pending_work(&self) -> bool {
        self.lab.as_ref().is_some_and(|lab| lab.has_pending_work())
    }

    fn schedule_slice(&mut self) {
        if !(self.running || self.pending_work()) || self.slice_scheduled {
            return;
        }
        self.slice_scheduled = true;
        // Under a speed limit, about one frame: the rate is reached in small doses.
        let delay = self.speed.steps_per_second().map(|_| 16);
        if let Err(message) = self.host.schedule_slice(delay) {
            self.host
                .log_error(&format!("DeepPlay worker: could not schedule training: {message}"));
            self.slice_scheduled = false;
            self.running = false;
        }
    }

    /// While paused: a little of the lab's pending background work, then
    /// the next slice, or (when it is done) a snapshot with its results.
    fn idle_slice(&mut self) {
        if !self.pending_work() {
            return;
        }
        let now = self.host.now_ms();
        if let Some(lab) = &mut self.lab {
            lab.background(now);
        }
        if self.pending_work() {
            self.schedule_slice();
        } else {
            self.send_snapshot(true, false);
        }
    }

    /// One slice of training.
    pub fn run_slice(&mut self) {
        self.slice_scheduled = false;
        if !self.running || self.lab.is_none() {
            self.running = false;
            self.idle_slice();
            return;
        }
        let start = self.host.now_ms();
        // Under a speed limit, train only the steps earned since the last
        // slice (at most a tenth of a second's worth, so no bursts).
        let budget = match self.speed.steps_per_second() {
            None => u64::MAX,
            Some(rate) => {
                let earned = rate * (start - self.last_slice_ms).max(0.0) / 1000.0;
                self.step_credit = (self.step_credit + earned).min(rate / 10.0 + 1.0);
                let whole = self.step_credit.floor();
                self.step_credit -= whole;
                whole as u64
            }
        };
        self.last_slice_ms = start;
        let mut trained = 0;
        while trained < budget {
            if !self.train_one() {
                // The failure goes out with the snapshot.
                self.running = false;
                self.send_snapshot(true, false);
                return;
            }
            trained += 1;
            self.steps_since_snapshot += 1;
            if self.host.now_ms() - start >= TRAIN_SLICE_MS {
                break;
            }
        }
        if let Some(lab) = &mut self.lab {
            lab.background(self.host.now_ms());
        }
        let now = self.host.now_ms();
        if now - self.last_snapshot_ms >= SNAPSHOT_INTERVAL_MS {
            let heavy = now - self.last_heavy_ms >= HEAVY_TENSOR_INTERVAL_MS;
            self.send_snapshot(heavy, false);
        }
        self.schedule_slice();
    }
}

#[cfg(target_arch = "wasm32")]
pub use browser::start;

/// How a worker fetches a dataset: in the browser, `fetch` and gunzip.
/// Natively nothing is fetched: tests hand the runtime its datasets.
#[cfg(target_arch = "wasm32")]
pub const FETCH: Fetch = browser::fetch;
#[cfg(not(target_arch = "wasm32"))]
pub const FETCH: Fetch = |_| {};

/// The runtime in a dedicated worker: `postMessage`, a `MessageChannel`
/// for zero-delay slices (unlike `setTimeout(0)`, not clamped to 4 ms),
/// `setTimeout` under a speed limit, and `fetch` for datasets.
#[cfg(target_arch = "wasm32")]
mod browser {
    use std::cell::RefCell;

    use js_sys::{Array, Float32Array, Object, Reflect, Uint8Array};
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{DedicatedWorkerGlobalScope, MessageChannel, MessageEvent};

    use super::{DatasetId, Fetch, Host, LabFactory, Runtime};
    use crate::worker::protocol::{decode_command, encode_event, WorkerEvent};

    pub struct WorkerHost {
        scope: DedicatedWorkerGlobalScope,
        /// `port2.postMessage` schedules a slice; `port1` runs it.
        channel: MessageChannel,
        delayed_slice: js_sys::Function,
    }

    thread_local! {
        static RUNTIME: RefCell<Option<Runtime<WorkerHost>>> = const { RefCell::new(None) };
    }

    fn log_error(message: &str) {
        web_sys::console::error_1(&JsValue::from_str(message));
    }

    fn with_runtime(f: impl FnOnce(&mut Runtime<WorkerHost>)) {
        RUNTIME.with(|cell| match cell.try_borrow_mut() {
            Ok(mut guard) => {
                if let Some(runtime) = guard.as_mut() {
                    f(runtime);
                }
            }
            Err(_) => log_error("DeepPlay worker: re-entered while busy"),
        });
    }

    impl Host for WorkerHost {
        fn now_ms(&self) -> f64 {
            self.scope.performance().map(|p| p.now()).unwrap_or(0.0)
        }

        /// Tensors go as `Float32Array`s whose buffers are transferred.
        fn post(&self, mut event: WorkerEvent) {
            if let WorkerEvent::Snapshot(snapshot) = &mut event {
                snapshot.worker_memory = crate::worker::wasm_memory_bytes();
            }
            let (encoded, tensors) = encode_event(event);
            let buffers = Array::new();
            let transfer = Array::new();
            for tensor in &tensors {
                let array = Float32Array::from(tensor.data.as_slice());
                transfer.push(&array.buffer());
                buffers.push(&array);
            }
            let message = Object::new();
            let set = |key: &str, value: &JsValue| Reflect::set(&message, &JsValue::from_str(key), value);
            let encoded = Uint8Array::from(encoded.as_slice());
            if set("message", &encoded).is_err() || set("buffers", &buffers).is_err() {
                log_error("DeepPlay worker: could not build a message");
                return;
            }
            if let Err(e) = self.scope.post_message_with_transfer(&message, &transfer) {
                log_error(&format!("DeepPlay worker: postMessage failed: {e:?}"));
            }
        }

        fn schedule_slice(&self, delay_ms: Option<i32>) -> Result<(), String> {
            match delay_ms {
                Some(delay) => self
                    .scope
                    .set_timeout_with_callback_and_timeout_and_arguments_0(&self.delayed_slice, delay)
                    .map(|_| ()),
                None => self.channel.port2().post_message(&JsValue::NULL),
            }
            .map_err(|e| format!("{e:?}"))
        }

        fn load(&self, id: DatasetId, fetch: Fetch) {
            fetch(id);
        }

        fn log_error(&self, message: &str) {
            log_error(message);
        }
    }

    /// [`super::FETCH`]: fetches `id` and hands it to the runtime.
    pub fn fetch(id: DatasetId) {
        let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
        wasm_bindgen_futures::spawn_local(async move {
            let result = fetch_dataset(&scope, id).await;
            with_runtime(|runtime| runtime.dataset_loaded(id, result));
        });
    }

    fn failed(url: &str, what: &str) -> String {
        format!("Could not load {url}: {what}. Check your connection and reload the page.")
    }

    /// Fetches every file of a dataset, reporting progress by bytes.
    async fn fetch_dataset(scope: &DedicatedWorkerGlobalScope, id: DatasetId) -> Result<super::Dataset, String> {
        let files = id.files();
        let total: u64 = files.iter().map(|&(_, size)| size).sum();
        let mut done = 0u64;
        let mut contents = Vec::with_capacity(files.len());
        for &(url, _) in files {
            let bytes = fetch_bytes(scope, url, |received| {
                let fraction = (done + received) as f32 / total.max(1) as f32;
                with_runtime(|runtime| runtime.dataset_progress(id, fraction.min(0.99)));
            })
            .await?;
            done += bytes.len() as u64;
            contents.push(bytes);
        }
        id.decode(&contents)
    }

    async fn fetch_bytes(
        scope: &DedicatedWorkerGlobalScope,
        url: &str,
        progress: impl Fn(u64),
    ) -> Result<Vec<u8>, String> {
        use wasm_bindgen_futures::JsFuture;
        let response = JsFuture::from(scope.fetch_with_str(url))
            .await
            .map_err(|e| failed(url, &format!("{e:?}")))?;
        let response: web_sys::Response = response.dyn_into().map_err(|_| failed(url, "not a response"))?;
        if !response.ok() {
            return Err(failed(url, &format!("the server answered {}", response.status())));
        }
        let Some(body) = response.body() else {
            return Ok(Vec::new());
        };
        let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
        let mut bytes = Vec::new();
        loop {
            let chunk = JsFuture::from(reader.read())
                .await
                .map_err(|e| failed(url, &format!("{e:?}")))?;
            let done = Reflect::get(&chunk, &JsValue::from_str("done"))
                .map(|d| d.is_truthy())
                .unwrap_or(true);
            if done {
                break;
            }
            if let Ok(value) = Reflect::get(&chunk, &JsValue::from_str("value")) {
                if let Some(array) = value.dyn_ref::<Uint8Array>() {
                    bytes.extend_from_slice(&array.to_vec());
                    progress(bytes.len() as u64);
                }
            }
        }
        Ok(bytes)
    }

    /// A lab's worker binary's entry point (web/worker/src/): installs the
    /// handlers and tells the page it is ready. `registry` builds the labs
    /// this binary carries, by slug: [`crate::labs::only`] for one lab.
    pub fn start(registry: fn(&str) -> Option<LabFactory>) {
        std::panic::set_hook(Box::new(|info| {
            log_error(&format!(
                "DeepPlay training worker stopped on an internal error: {info}. \
                 The page restarts the worker."
            ));
        }));
        let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
        let channel = match MessageChannel::new() {
            Ok(channel) => channel,
            Err(e) => {
                log_error(&format!("DeepPlay worker: no MessageChannel: {e:?}"));
                return;
            }
        };

        let on_slice = Closure::<dyn FnMut(MessageEvent)>::new(move |_: MessageEvent| {
            with_runtime(Runtime::run_slice);
        });
        channel.port1().set_onmessage(Some(on_slice.as_ref().unchecked_ref()));
        // The handlers live as long as the worker.
        on_slice.forget();

        let on_timeout = Closure::<dyn FnMut()>::new(move || with_runtime(Runtime::run_slice));
        let delayed_slice: js_sys::Function = on_timeout.as_ref().unchecked_ref::<js_sys::Function>().clone();
        on_timeout.forget();

        let on_command = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Ok(bytes) = event.data().dyn_into::<Uint8Array>() else {
                log_error("DeepPlay worker: ignored a message that is not a Uint8Array");
                return;
            };
            match decode_command(&bytes.to_vec()) {
                Ok(command) => with_runtime(|runtime| runtime.handle(command)),
                Err(message) => log_error(&message),
            }
        });
        scope.set_onmessage(Some(on_command.as_ref().unchecked_ref()));
        on_command.forget();

        let host = WorkerHost {
            scope: scope.clone(),
            channel,
            delayed_slice,
        };
        RUNTIME.with(|cell| {
            *cell.borrow_mut() = Some(Runtime::new(host, registry));
        });
        with_runtime(|runtime| runtime.host().post(WorkerEvent::Ready));
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::worker::lab::Lab;
    use crate::worker::protocol::{encode, LabProtocol};

    /// A host whose clock moves 1 ms each time it is read, and which
    /// records what the runtime posts, schedules and fetches.
    #[derive(Default)]
    struct FakeHost {
        clock: Cell<f64>,
        events: RefCell<Vec<WorkerEvent>>,
        slices: Cell<u32>,
        loads: RefCell<Vec<DatasetId>>,
    }

    impl Host for Rc<FakeHost> {
        fn now_ms(&self) -> f64 {
            self.clock.set(self.clock.get() + 1.0);
            self.clock.get()
        }
        fn post(&self, event: WorkerEvent) {
            self.events.borrow_mut().push(event);
        }
        fn schedule_slice(&self, _delay_ms: Option<i32>) -> Result<(), String> {
            self.slices.set(self.slices.get() + 1);
            Ok(())
        }
        fn load(&self, id: DatasetId, _fetch: Fetch) {
            self.loads.borrow_mut().push(id);
        }
        fn log_error(&self, message: &str) {
            panic!("logged: {message}");
        }
    }

    impl FakeHost {
        fn snapshots(&self) -> Vec<Snapshot> {
            self.events
                .borrow()
                .iter()
                .filter_map(|e| match e {
                    WorkerEvent::Snapshot(s) => Some(s.clone()),
                    _ => None,
                })
                .collect()
        }
        fn last_snapshot(&self) -> Snapshot {
            self.snapshots().pop().expect("a snapshot")
        }
        fn notices(&self) -> Vec<String> {
            self.events
                .borrow()
                .iter()
                .filter_map(|e| match e {
                    WorkerEvent::Notice(m) => Some(m.clone()),
                    _ => None,
                })
                .collect()
        }
    }

    /// A lab that needs MNIST and trains two "models" whose losses are the
    /// step and minus the step; it fails at step `fail_at` and refuses to
    /// be built with `fail_at == 0`.
    struct TwoCounters {
        settings: CounterSettings,
        seed: u64,
        step: u64,
        /// Background calls left of the work a command started.
        pending: u32,
    }

    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    struct CounterSettings {
        fail_at: u64,
    }

    struct CounterProtocol;

    impl LabProtocol for CounterProtocol {
        const SLUG: &'static str = "counters";
        type Settings = CounterSettings;
        type Hyper = u64;
        type Command = ();
        type Reply = u64;
    }

    impl Lab for TwoCounters {
        type Protocol = CounterProtocol;
        const DATASETS: &'static [DatasetId] = &[DatasetId::Mnist];

        fn build(settings: CounterSettings, seed: u64, data: &Datasets) -> Result<Self, String> {
            data.mnist()?;
            if settings.fail_at == 0 {
                return Err("cannot build with fail_at 0".into());
            }
            Ok(Self {
                settings,
                seed,
                step: 0,
                pending: 0,
            })
        }
        fn settings(&self) -> &CounterSettings {
            &self.settings
        }
        fn step(&self) -> u64 {
            self.step
        }
        fn train_step(&mut self) -> Result<Losses, String> {
            if self.step + 1 >= self.settings.fail_at {
                return Err("diverged; press Reset".into());
            }
            self.step += 1;
            Ok(vec![("first", self.step as f32), ("second", -(self.step as f32))])
        }
        fn snapshot(&mut self, _heavy: bool, _fresh_run: bool) -> Snapshot {
            Snapshot {
                integers: vec![("seed".into(), self.seed), ("pending".into(), self.pending as u64)],
                ..Snapshot::default()
            }
        }
        fn background(&mut self, _now_ms: f64) {
            self.pending = self.pending.saturating_sub(1);
        }
        fn has_pending_work(&self) -> bool {
            self.pending > 0
        }
        fn set_hyper(&mut self, fail_at: u64) -> Result<Applied, String> {
            self.settings.fail_at = fail_at;
            Ok(Applied::Live)
        }
        fn command(&mut self, _: ()) -> Result<Option<u64>, String> {
            self.pending = 3;
            Ok(Some(self.step))
        }
        fn export_weights(&self) -> Result<(String, Vec<u8>), String> {
            Ok(("w".into(), vec![1]))
        }
        fn import_weights(&mut self, bytes: &[u8]) -> Result<(), String> {
            if bytes == b"good" {
                // New weights: new work to show them (as a sampling).
                self.pending = 2;
                Ok(())
            } else {
                Err("Could not load these weights".into())
            }
        }
    }

    fn registry(slug: &str) -> Option<LabFactory> {
        (slug == CounterProtocol::SLUG).then(LabFactory::of::<TwoCounters>)
    }

    fn mnist() -> Dataset {
        Dataset::Mnist(crate::worker::datasets::shipped_mnist())
    }

    fn configure(fail_at: u64, seed: u64) -> Command {
        Command::Configure {
            lab: CounterProtocol::SLUG.into(),
            seed,
            speed: SpeedChoice::Full,
            settings: encode(&CounterSettings { fail_at }),
        }
    }

    fn runtime() -> (Runtime<Rc<FakeHost>>, Rc<FakeHost>) {
        let host = Rc::new(FakeHost::default());
        (Runtime::new(host.clone(), registry), host)
    }

    #[test]
    fn start_while_the_data_loads_is_queued_with_progress_and_the_data_is_fetched_once() {
        let (mut rt, host) = runtime();
        rt.handle(configure(1000, 5));
        rt.handle(configure(1000, 6));
        assert_eq!(*host.loads.borrow(), vec![DatasetId::Mnist], "fetched once");
        let status = host.last_snapshot().status.expect("a loading status");
        assert!(status.text.contains("MNIST"), "{}", status.text);
        rt.handle(Command::Start);
        rt.dataset_progress(DatasetId::Mnist, 0.5);
        let loading = host.last_snapshot();
        assert!(loading.error.is_none(), "Start while loading is not an error");
        assert!(loading.running, "the page shows the queued start as running");
        let status = loading.status.unwrap();
        assert_eq!(status.progress, Some(0.5));
        assert!(
            status.text.contains("50%") && status.text.contains("starts as soon"),
            "{}",
            status.text
        );
        rt.handle(Command::SetHyper(encode(&2000u64)));

        rt.dataset_loaded(DatasetId::Mnist, Ok(mnist()));
        let built = host.last_snapshot();
        assert!(built.running && built.status.is_none(), "the queued Start ran");
        assert_eq!(built.integer("seed"), Some(6), "the latest configuration was built");
        assert!(host.slices.get() >= 1);
        // The hyperparameter sent while loading was applied: no failure at 1000.
        for _ in 0..100 {
            rt.run_slice();
        }
        assert!(host.last_snapshot().error.is_none());
        // A second lab needing MNIST does not fetch it again.
        rt.handle(configure(1000, 7));
        assert_eq!(host.loads.borrow().len(), 1);
        assert_eq!(host.last_snapshot().integer("seed"), Some(7));
    }

    #[test]
    fn background_work_a_command_starts_finishes_while_paused_and_then_reports() {
        let (mut rt, host) = runtime();
        rt.dataset_loaded(DatasetId::Mnist, Ok(mnist()));
        rt.handle(configure(1_000_000, 1));
        let before = host.slices.get();
        rt.handle(Command::Lab(encode(&())));
        assert_eq!(host.slices.get(), before + 1, "a slice is scheduled for the work");
        for left in [2u64, 1] {
            rt.run_slice();
            assert_eq!(host.slices.get(), before + 1 + (3 - left) as u32, "and another");
        }
        rt.run_slice();
        let done = host.last_snapshot();
        assert_eq!(done.integer("pending"), Some(0), "the results are sent");
        assert!(!done.running && done.step == 0, "nothing trained");
        let scheduled = host.slices.get();
        rt.run_slice();
        assert_eq!(host.slices.get(), scheduled, "no work, no more slices");
        // Work another command starts (new weights) is scheduled too.
        rt.handle(Command::ImportWeights {
            bytes: b"good".to_vec(),
        });
        assert_eq!(host.slices.get(), scheduled + 1, "the import's work is scheduled");
        rt.run_slice();
        rt.run_slice();
        assert_eq!(host.last_snapshot().integer("pending"), Some(0));
    }

    #[test]
    fn slices_report_every_named_loss_once_in_order() {
        let (mut rt, host) = runtime();
        rt.dataset_loaded(DatasetId::Mnist, Ok(mnist()));
        rt.handle(configure(1_000_000, 1));
        rt.handle(Command::Start);
        for _ in 0..20 {
            rt.run_slice();
        }
        rt.handle(Command::Pause);
        let snapshots = host.snapshots();
        let last = snapshots.last().unwrap();
        assert!(!last.running);
        let step = last.step;
        assert!(step > 20, "{step} steps");
        let names: Vec<&str> = last.losses.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["first", "second"]);
        assert_eq!(last.loss(), step as f32);
        let points: Vec<(u64, f32)> = snapshots
            .iter()
            .flat_map(|s| s.series("second").map(|l| l.new_points.clone()).unwrap_or_default())
            .collect();
        let expected: Vec<(u64, f32)> = (1..=step).map(|i| (i, -(i as f32))).collect();
        assert_eq!(points, expected, "every step once, none twice");
    }

    #[test]
    fn a_failed_step_stops_training_and_reset_rebuilds_the_configured_lab() {
        let (mut rt, host) = runtime();
        rt.dataset_loaded(DatasetId::Mnist, Ok(mnist()));
        rt.handle(configure(3, 1));
        rt.handle(Command::Start);
        for _ in 0..3 {
            rt.run_slice();
        }
        let failed = host.last_snapshot();
        assert!(!failed.running && failed.step == 2);
        assert!(failed.error.as_deref().unwrap().contains("diverged"));
        rt.handle(Command::StepOnce);
        assert_eq!(host.last_snapshot().step, 2, "a failed lab does not step again");
        rt.handle(Command::Reset { seed: 9 });
        let reset = host.last_snapshot();
        assert!(reset.fresh_run && reset.error.is_none() && reset.losses.is_empty());
        assert_eq!(reset.integer("seed"), Some(9));

        // A configuration that cannot be built leaves no lab; Start says
        // so; Reset builds that same lab again (not some other one).
        rt.handle(configure(0, 1));
        assert!(host.last_snapshot().error.unwrap().contains("cannot build"));
        rt.handle(Command::Start);
        assert!(host.last_snapshot().error.unwrap().contains("no model to train"));
        rt.handle(Command::Reset { seed: 4 });
        assert!(host.last_snapshot().error.unwrap().contains("cannot build"));
    }

    #[test]
    fn refused_files_and_commands_leave_the_run_going() {
        let (mut rt, host) = runtime();
        rt.dataset_loaded(DatasetId::Mnist, Ok(mnist()));
        rt.handle(configure(1_000_000, 1));
        rt.handle(Command::Start);
        rt.run_slice();
        rt.handle(Command::ImportWeights {
            bytes: b"junk".to_vec(),
        });
        assert_eq!(host.notices(), ["Could not load these weights"]);
        rt.run_slice();
        assert!(host.last_snapshot().running, "still training after a refused file");
        rt.handle(Command::Lab(encode(&())));
        assert!(matches!(host.events.borrow().last(), Some(WorkerEvent::Reply(_))));
        rt.handle(Command::SetHyper(vec![]));
        assert_eq!(
            host.notices().len(),
            2,
            "an undecodable hyperparameter is refused politely"
        );
        rt.handle(Command::ExportWeights);
        assert!(matches!(host.events.borrow().last(), Some(WorkerEvent::Weights { .. })));
    }

    #[test]
    fn an_unknown_lab_is_an_error_not_a_panic() {
        let (mut rt, host) = runtime();
        rt.handle(Command::Configure {
            lab: "nope".into(),
            seed: 1,
            speed: SpeedChoice::Full,
            settings: vec![],
        });
        assert!(host.last_snapshot().error.unwrap().contains("nope"));
        rt.handle(Command::ExportWeights);
        assert_eq!(host.notices().len(), 1);
    }
}

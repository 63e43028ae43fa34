//! The worker's event loop: take commands, train in short slices, post
//! snapshots at a bounded rate.
//!
//! A worker is single-threaded like the page, so a long training loop would
//! leave "pause" waiting in the queue. Instead each slice trains for about
//! [`TRAIN_SLICE_MS`], posts a snapshot if one is due, and schedules the next
//! slice through a `MessageChannel` (a zero-delay task that, unlike
//! `setTimeout(0)`, is not clamped to 4 ms), letting queued commands run in
//! between.

use std::cell::RefCell;
use std::rc::Rc;

use deepplay_core::data::mnist::Mnist;

use js_sys::{Array, Float32Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageChannel, MessageEvent};

use super::cnn::CnnLab;
use super::lab::Lab;
use super::playground::PlaygroundTrainer;
use super::protocol::{
    decode_command, encode_event, CnnSettings, Command, PlaygroundConfig, Snapshot, WorkerEvent,
    HEAVY_TENSOR_INTERVAL_MS, SNAPSHOT_INTERVAL_MS, TRAIN_SLICE_MS,
};

/// Where trunk's `copy-dir` puts the MNIST files, relative to the worker.
const MNIST_IMAGES_URL: &str = "./data/mnist-10k-images-idx3-ubyte.gz";
const MNIST_LABELS_URL: &str = "./data/mnist-10k-labels-idx1-ubyte.gz";
/// While training, the CNN lab evaluates one chunk of test digits this often.
const EVAL_INTERVAL_MS: f64 = 120.0;

struct Runtime {
    scope: DedicatedWorkerGlobalScope,
    /// `port2.postMessage` schedules a slice; `port1` runs it.
    channel: MessageChannel,
    /// Runs a slice from `setTimeout`: used when a speed limit leaves
    /// nothing to do for a while, so the worker idles instead of spinning.
    delayed_slice: js_sys::Function,
    /// Steps the speed limit allows but that are not trained yet.
    step_credit: f64,
    last_slice_ms: f64,
    trainer: Option<Lab>,
    /// MNIST, once fetched (only the CNN lab asks for it).
    mnist: Option<Rc<Mnist>>,
    mnist_loading: bool,
    /// The CNN lab's latest settings: built once MNIST has arrived, and
    /// rebuilt by Reset if building failed.
    cnn_settings: Option<CnnSettings>,
    last_eval_ms: f64,
    running: bool,
    slice_scheduled: bool,
    last_snapshot_ms: f64,
    last_heavy_ms: f64,
    steps_since_snapshot: u64,
}

thread_local! {
    static RUNTIME: RefCell<Option<Runtime>> = const { RefCell::new(None) };
}

fn now_ms(scope: &DedicatedWorkerGlobalScope) -> f64 {
    scope.performance().map(|p| p.now()).unwrap_or(0.0)
}

fn log_error(message: &str) {
    web_sys::console::error_1(&JsValue::from_str(message));
}

/// Sends an event; tensors go as `Float32Array`s whose buffers are
/// transferred to the page.
fn post(scope: &DedicatedWorkerGlobalScope, event: WorkerEvent) {
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
    if let Err(e) = scope.post_message_with_transfer(&message, &transfer) {
        log_error(&format!("DeepPlay worker: postMessage failed: {e:?}"));
    }
}

impl Runtime {
    fn send_snapshot(&mut self, heavy: bool, fresh_run: bool) {
        let now = now_ms(&self.scope);
        let elapsed = now - self.last_snapshot_ms;
        let snapshot = match &mut self.trainer {
            Some(trainer) => {
                let mut snapshot = trainer.snapshot(heavy, fresh_run);
                snapshot.fresh_run = fresh_run;
                snapshot
            }
            None => Snapshot::default(),
        };
        let steps_per_second = if self.running && elapsed > 0.0 {
            (self.steps_since_snapshot as f64 * 1000.0 / elapsed) as f32
        } else {
            0.0
        };
        let snapshot = Snapshot {
            running: self.running,
            steps_per_second,
            ..snapshot
        };
        self.last_snapshot_ms = now;
        self.steps_since_snapshot = 0;
        if heavy {
            self.last_heavy_ms = now;
        }
        post(&self.scope, WorkerEvent::Snapshot(snapshot));
    }

    fn send_error(&mut self, message: String) {
        self.running = false;
        post(
            &self.scope,
            WorkerEvent::Snapshot(Snapshot {
                error: Some(message),
                loss: f32::NAN,
                ..Snapshot::default()
            }),
        );
    }

    fn schedule_slice(&mut self) {
        if self.running && !self.slice_scheduled {
            self.slice_scheduled = true;
            let throttled = self
                .trainer
                .as_ref()
                .is_some_and(|t| t.speed().steps_per_second().is_some());
            if throttled {
                // About one frame: the limited rate is reached in small doses.
                let scheduled = self
                    .scope
                    .set_timeout_with_callback_and_timeout_and_arguments_0(&self.delayed_slice, 16);
                if scheduled.is_err() {
                    log_error("DeepPlay worker: could not schedule training");
                    self.slice_scheduled = false;
                    self.running = false;
                }
            } else if let Err(e) = self.channel.port2().post_message(&JsValue::NULL) {
                log_error(&format!("DeepPlay worker: could not schedule training: {e:?}"));
                self.slice_scheduled = false;
                self.running = false;
            }
        }
    }

    /// Replaces the trainer; on failure reports it and keeps none.
    fn rebuild(&mut self, result: Result<Lab, String>) {
        self.running = false;
        match result {
            Ok(trainer) => {
                self.trainer = Some(trainer);
                self.send_snapshot(true, true);
            }
            Err(message) => {
                self.trainer = None;
                self.send_error(message);
            }
        }
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::Configure(config) => {
                self.cnn_settings = None;
                self.rebuild(PlaygroundTrainer::new(config).map(|t| Lab::Playground(Box::new(t))))
            }
            Command::ConfigureCnn(settings) => self.configure_cnn(settings),
            Command::Probe { index } => {
                if let Some(Lab::Cnn(lab)) = &mut self.trainer {
                    lab.set_probe(index);
                    self.send_snapshot(true, false);
                }
            }
            Command::ExportWeights => {
                if let Some(lab) = &self.trainer {
                    let (file_name, bytes) = lab.export_weights();
                    post(&self.scope, WorkerEvent::Weights { file_name, bytes });
                }
            }
            Command::ImportWeights { bytes } => {
                self.running = false;
                let Some(lab) = &mut self.trainer else {
                    self.send_error("There is no model to load weights into yet.".into());
                    return;
                };
                match lab.import_weights(&bytes) {
                    Ok(()) => {
                        self.finish_evaluation();
                        self.send_snapshot(true, false);
                    }
                    Err(message) => {
                        // Keep the run on screen; only add the explanation.
                        let mut snapshot = lab.snapshot(false, false);
                        snapshot.error = Some(message);
                        post(&self.scope, WorkerEvent::Snapshot(snapshot));
                    }
                }
            }
            Command::Classify { ink } => {
                if let Some(Lab::Cnn(lab)) = &self.trainer {
                    match lab.classify(&ink) {
                        Ok(probabilities) => post(&self.scope, WorkerEvent::Prediction { probabilities }),
                        Err(message) => {
                            log_error(&format!("DeepPlay worker: could not classify the drawing: {message}"))
                        }
                    }
                }
            }
            Command::Start => {
                if self.trainer.is_some() {
                    self.running = true;
                    self.last_snapshot_ms = now_ms(&self.scope);
                    self.last_slice_ms = self.last_snapshot_ms;
                    self.step_credit = 1.0;
                    self.steps_since_snapshot = 0;
                    self.send_snapshot(false, false);
                    self.schedule_slice();
                } else {
                    // Nothing to train (the last configure failed): say so,
                    // so the page does not show a run that is not there.
                    self.send_error("There is no model to train: change a setting or press Reset.".into());
                }
            }
            Command::Pause => {
                self.running = false;
                self.finish_evaluation();
                self.send_snapshot(true, false);
            }
            Command::StepOnce => {
                self.running = false;
                if let Some(trainer) = &mut self.trainer {
                    // A failed step leaves its message in the snapshot.
                    let _ = trainer.train_step();
                }
                self.finish_evaluation();
                self.send_snapshot(true, false);
            }
            Command::Reset { seed } => match self.trainer.take() {
                Some(mut lab) => {
                    let result = lab.reset(seed).map(|()| lab);
                    self.rebuild(result);
                }
                None => match self.cnn_settings.clone() {
                    Some(settings) => self.configure_cnn(CnnSettings { seed, ..settings }),
                    None => self.rebuild(
                        PlaygroundTrainer::new(PlaygroundConfig {
                            seed,
                            ..PlaygroundConfig::default()
                        })
                        .map(|t| Lab::Playground(Box::new(t))),
                    ),
                },
            },
            Command::SetHyper(hyper) => {
                let restarts = hyper.restarts_run();
                let Some(trainer) = &mut self.trainer else {
                    return;
                };
                match trainer.set_hyper(hyper) {
                    Ok(()) if restarts => {
                        self.running = false;
                        self.send_snapshot(true, true);
                    }
                    Ok(()) => self.send_snapshot(false, false),
                    Err(message) => self.send_error(message),
                }
            }
        }
    }

    /// One slice of training.
    fn run_slice(&mut self) {
        self.slice_scheduled = false;
        if !self.running {
            return;
        }
        let Some(trainer) = &mut self.trainer else {
            self.running = false;
            return;
        };
        let start = now_ms(&self.scope);
        // Under a speed limit, train only the steps earned since the last
        // slice (at most a tenth of a second's worth, so no bursts).
        let budget = match trainer.speed().steps_per_second() {
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
        let mut failed = false;
        let mut trained = 0;
        while trained < budget {
            if trainer.train_step().is_err() {
                failed = true;
                break;
            }
            trained += 1;
            self.steps_since_snapshot += 1;
            if now_ms(&self.scope) - start >= TRAIN_SLICE_MS {
                break;
            }
        }
        let now = now_ms(&self.scope);
        if failed {
            // The trainer's snapshot carries the explanation.
            self.running = false;
            self.send_snapshot(true, false);
            return;
        }
        // The CNN lab measures test accuracy a chunk at a time between slices.
        if now - self.last_eval_ms >= EVAL_INTERVAL_MS {
            if let Some(Lab::Cnn(lab)) = &mut self.trainer {
                lab.evaluate_chunk();
                self.last_eval_ms = now_ms(&self.scope);
            }
        }
        if now - self.last_snapshot_ms >= SNAPSHOT_INTERVAL_MS {
            let heavy = now - self.last_heavy_ms >= HEAVY_TENSOR_INTERVAL_MS;
            self.send_snapshot(heavy, false);
        }
        self.schedule_slice();
    }

    /// When training stops, measure the test split again with the weights
    /// the page is now showing.
    fn finish_evaluation(&mut self) {
        if let Some(Lab::Cnn(lab)) = &mut self.trainer {
            lab.evaluate_all();
        }
    }

    /// Builds the CNN lab, first fetching MNIST if this worker has not yet.
    fn configure_cnn(&mut self, settings: CnnSettings) {
        self.running = false;
        self.cnn_settings = Some(settings.clone());
        if let Some(data) = &self.mnist {
            let result = CnnLab::new(settings, data.clone()).map(|lab| Lab::Cnn(Box::new(lab)));
            self.rebuild(result);
            if let Some(Lab::Cnn(_)) = &self.trainer {
                // Test accuracy of the untrained network, so the page has a starting point.
                self.finish_evaluation();
                self.send_snapshot(true, false);
            }
            return;
        }
        self.trainer = None;
        post(
            &self.scope,
            WorkerEvent::Snapshot(Snapshot {
                status: Some("Loading 10,000 handwritten digits (1.6 MB)…".into()),
                loss: f32::NAN,
                fresh_run: true,
                ..Snapshot::default()
            }),
        );
        if self.mnist_loading {
            return;
        }
        self.mnist_loading = true;
        let scope = self.scope.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let result = load_mnist(&scope).await;
            with_runtime(|runtime| {
                runtime.mnist_loading = false;
                match result {
                    Ok(data) => {
                        runtime.mnist = Some(Rc::new(data));
                        if let Some(settings) = runtime.cnn_settings.clone() {
                            runtime.configure_cnn(settings);
                        }
                    }
                    Err(message) => runtime.send_error(message),
                }
            });
        });
    }
}

async fn fetch_bytes(scope: &DedicatedWorkerGlobalScope, url: &str) -> Result<Vec<u8>, String> {
    let failed = |what: &str| format!("Could not load {url}: {what}. Check your connection and reload the page.");
    let response = wasm_bindgen_futures::JsFuture::from(scope.fetch_with_str(url))
        .await
        .map_err(|e| failed(&format!("{e:?}")))?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| failed("not a response"))?;
    if !response.ok() {
        return Err(failed(&format!("the server answered {}", response.status())));
    }
    let buffer = response.array_buffer().map_err(|e| failed(&format!("{e:?}")))?;
    let buffer = wasm_bindgen_futures::JsFuture::from(buffer)
        .await
        .map_err(|e| failed(&format!("{e:?}")))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

async fn load_mnist(scope: &DedicatedWorkerGlobalScope) -> Result<Mnist, String> {
    let images = fetch_bytes(scope, MNIST_IMAGES_URL).await?;
    let labels = fetch_bytes(scope, MNIST_LABELS_URL).await?;
    Mnist::from_gzip(&images, &labels).map_err(|e| format!("The MNIST files are damaged ({e}). Reload the page."))
}

fn with_runtime(f: impl FnOnce(&mut Runtime)) {
    RUNTIME.with(|cell| match cell.try_borrow_mut() {
        Ok(mut guard) => {
            if let Some(runtime) = guard.as_mut() {
                f(runtime);
            }
        }
        Err(_) => log_error("DeepPlay worker: re-entered while busy"),
    });
}

/// The worker binary's entry point: installs the handlers and tells the
/// page it is ready.
pub fn start() {
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

    RUNTIME.with(|cell| {
        *cell.borrow_mut() = Some(Runtime {
            scope: scope.clone(),
            channel,
            delayed_slice,
            step_credit: 0.0,
            last_slice_ms: 0.0,
            trainer: None,
            mnist: None,
            mnist_loading: false,
            cnn_settings: None,
            last_eval_ms: 0.0,
            running: false,
            slice_scheduled: false,
            last_snapshot_ms: 0.0,
            last_heavy_ms: 0.0,
            steps_since_snapshot: 0,
        });
    });
    post(&scope, WorkerEvent::Ready);
}

//! The page's end of the training worker: starts it, queues commands until
//! its wasm has loaded, decodes its snapshots, and restarts it if it
//! crashes.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use js_sys::{Array, Float32Array, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{ErrorEvent, MessageEvent, Worker};

use super::protocol::{decode_event, encode_command, Command, WorkerEvent};

/// The loader trunk writes for a lab's worker binary, `worker_{slug}`
/// (`data-loader-shim` in web/site/index.html). Each lab has a worker of its
/// own, so a visit downloads only the trainer of the lab it opens.
pub fn worker_script(slug: &str) -> String {
    format!("./worker_{slug}_loader.js")
}
/// After this many crashes the page stops restarting the worker.
const MAX_RESTARTS: u32 = 5;

type MessageHandler = Closure<dyn FnMut(MessageEvent)>;
type ErrorHandler = Closure<dyn FnMut(ErrorEvent)>;

struct Inner {
    /// The worker's script, kept to restart it after a crash.
    script: String,
    worker: Option<Worker>,
    ready: bool,
    /// Commands sent before the worker said `Ready`: a worker drops messages
    /// that arrive before its wasm has installed `onmessage`.
    queue: Vec<Command>,
    on_event: Rc<dyn Fn(WorkerEvent)>,
    on_crash: Rc<dyn Fn(String)>,
    restarts: u32,
    /// Handlers of the live worker, and of crashed ones (a handler must not
    /// be dropped while it runs; the few of a crash are kept).
    handlers: Vec<(MessageHandler, ErrorHandler)>,
}

/// A running training worker. Dropping it terminates the worker.
pub struct WorkerClient {
    inner: Rc<RefCell<Inner>>,
}

fn js_message(value: &JsValue) -> String {
    value
        .as_string()
        .or_else(|| value.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())))
        .unwrap_or_else(|| format!("{value:?}"))
}

/// Reads `{message, buffers}` as the worker's `post` builds it.
fn read_message(data: &JsValue) -> Result<WorkerEvent, String> {
    let message = Reflect::get(data, &JsValue::from_str("message"))
        .ok()
        .and_then(|v| v.dyn_into::<Uint8Array>().ok())
        .ok_or("a message from the worker has no encoded part")?;
    let buffers = Reflect::get(data, &JsValue::from_str("buffers"))
        .ok()
        .and_then(|v| v.dyn_into::<Array>().ok())
        .ok_or("a message from the worker has no buffer list")?;
    let buffers = buffers
        .iter()
        .map(|b| {
            b.dyn_into::<Float32Array>()
                .map(|a| a.to_vec())
                .map_err(|_| "a worker buffer is not a Float32Array".to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    decode_event(&message.to_vec(), buffers)
}

fn start_worker(weak: &Weak<RefCell<Inner>>) -> Result<(), String> {
    let Some(inner) = weak.upgrade() else {
        return Ok(());
    };
    let script = inner.borrow().script.clone();
    let worker =
        Worker::new(&script).map_err(|e| format!("could not start the training worker: {}", js_message(&e)))?;

    let on_message_weak = weak.clone();
    let on_message = MessageHandler::new(move |event: MessageEvent| {
        let Some(inner) = on_message_weak.upgrade() else {
            return;
        };
        let event = match read_message(&event.data()) {
            Ok(event) => event,
            Err(message) => {
                web_sys::console::error_1(&JsValue::from_str(&message));
                return;
            }
        };
        if event == WorkerEvent::Ready {
            let queued = {
                let mut state = inner.borrow_mut();
                state.ready = true;
                std::mem::take(&mut state.queue)
            };
            for command in queued {
                post(&inner, &command);
            }
        }
        // No borrow is held here: the page's handler may send commands.
        let handler = inner.borrow().on_event.clone();
        handler(event);
    });

    let on_error_weak = weak.clone();
    let on_error = ErrorHandler::new(move |event: ErrorEvent| {
        // Handled here: keep it from surfacing as an uncaught page error.
        event.prevent_default();
        let Some(inner) = on_error_weak.upgrade() else {
            return;
        };
        let detail = event.message();
        let (restart, on_crash) = {
            let mut state = inner.borrow_mut();
            if let Some(worker) = state.worker.take() {
                worker.terminate();
            }
            state.ready = false;
            state.restarts += 1;
            (state.restarts <= MAX_RESTARTS, state.on_crash.clone())
        };
        let detail = if detail.is_empty() {
            "unknown error".to_string()
        } else {
            detail
        };
        if restart {
            let restarted = start_worker(&on_error_weak);
            match restarted {
                Ok(()) => on_crash(format!(
                    "The training worker crashed ({detail}) and has been restarted. \
                     Training starts again from step 0: press Start to continue."
                )),
                Err(e) => on_crash(format!(
                    "The training worker crashed ({detail}) and could not be restarted: {e}. \
                     Reload the page to try again."
                )),
            }
        } else {
            on_crash(format!(
                "The training worker keeps crashing ({detail}). Reload the page to try again."
            ));
        }
    });

    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let mut state = inner.borrow_mut();
    state.worker = Some(worker);
    state.handlers.push((on_message, on_error));
    Ok(())
}

fn post(inner: &Rc<RefCell<Inner>>, command: &Command) {
    let worker = inner.borrow().worker.clone();
    if let Some(worker) = worker {
        if let Err(e) = worker.post_message(&Uint8Array::from(encode_command(command).as_slice())) {
            web_sys::console::error_1(&JsValue::from_str(&format!(
                "could not send a command to the training worker: {}",
                js_message(&e)
            )));
        }
    }
}

impl WorkerClient {
    /// Starts the worker at `script` (see [`worker_script`]). `on_event`
    /// receives every event; `on_crash` gets a sentence for the visitor when
    /// the worker crashed (and was restarted, if it could be: then the page
    /// must configure it again).
    pub fn spawn(
        script: String,
        on_event: impl Fn(WorkerEvent) + 'static,
        on_crash: impl Fn(String) + 'static,
    ) -> Result<Self, String> {
        let inner = Rc::new(RefCell::new(Inner {
            script,
            worker: None,
            ready: false,
            queue: Vec::new(),
            on_event: Rc::new(on_event),
            on_crash: Rc::new(on_crash),
            restarts: 0,
            handlers: Vec::new(),
        }));
        start_worker(&Rc::downgrade(&inner))?;
        Ok(Self { inner })
    }

    /// Sends a command now, or as soon as the worker is ready.
    pub fn send(&self, command: Command) {
        let ready = {
            let mut state = self.inner.borrow_mut();
            if !state.ready {
                state.queue.push(command.clone());
            }
            state.ready
        };
        if ready {
            post(&self.inner, &command);
        }
    }
}

impl Drop for WorkerClient {
    fn drop(&mut self) {
        if let Some(worker) = self.inner.borrow_mut().worker.take() {
            worker.set_onmessage(None);
            worker.set_onerror(None);
            worker.terminate();
        }
    }
}

//! What a lab's trainer does for the worker. The runtime drives any
//! [`Lab`] through [`DynLab`] and never names one; a lab plugs in by
//! implementing [`Lab`] in its folder and being listed in
//! [`crate::labs`]'s registry.

use super::datasets::{DatasetId, DatasetNeeds, Datasets};
use super::protocol::{decode, encode, LabProtocol, Snapshot};

/// Milliseconds on a monotonic clock, for a trainer that times its own
/// parts: `performance.now()` in a browser, the process's clock natively.
pub fn clock_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::JsCast;
        // A worker's global scope and a window both have `performance`.
        js_sys::global()
            .unchecked_into::<web_sys::WorkerGlobalScope>()
            .performance()
            .map_or(0.0, |p| p.now())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::sync::OnceLock;
        use std::time::Instant;
        static START: OnceLock<Instant> = OnceLock::new();
        START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
    }
}

/// A trainer's check of a learning rate that reached it. The page lets a
/// visitor try absurd rates and watch training diverge; only rates that mean
/// nothing (zero, negative, not a number) are refused.
pub fn check_learning_rate(learning_rate: f32) -> Result<(), String> {
    if learning_rate > 0.0 && learning_rate.is_finite() {
        Ok(())
    } else {
        Err(format!(
            "The learning rate must be a positive number, got {learning_rate}."
        ))
    }
}

/// Refuses a weights file unless its metadata records `want` under each
/// key (the lab that made it, and the settings its weights only make sense
/// with), saying which differs and what to do. For `import_weights`, which
/// checks before it swaps the loaded copy in, so the weights stay.
pub fn check_metadata(
    metadata: &std::collections::BTreeMap<String, String>,
    expect: &[(&str, String)],
) -> Result<(), String> {
    for (key, want) in expect {
        match metadata.get(*key) {
            Some(v) if v == want => {}
            found => {
                return Err(format!(
                    "These weights were trained with {key} = {}, and this run has {want}: choose the same \
                     first. The current weights are unchanged.",
                    found.map_or("(none)", String::as_str)
                ))
            }
        }
    }
    Ok(())
}

/// The losses of one training step, by name (`"loss"`, or `"rnn"` and
/// `"gru"`...). Every step reports the same names in the same order.
pub type Losses = Vec<(&'static str, f32)>;

/// What a hyperparameter change did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The running model takes it (learning rate, batch size...).
    Live,
    /// It needed a new model or new data: the lab started again at step 0.
    Restarted,
}

/// A lab's trainer, as the worker drives it. Plain Rust with no browser in
/// it, so every lab is tested natively.
pub trait Lab: Sized + 'static {
    type Protocol: LabProtocol;

    /// The datasets the lab needs before it can be built. The runtime
    /// fetches each once per worker and hands it to every lab that asks.
    const DATASETS: &'static [DatasetId] = &[];

    /// A fresh run: weights and data from `seed`, step 0.
    fn build(settings: <Self::Protocol as LabProtocol>::Settings, seed: u64, data: &Datasets) -> Result<Self, String>;

    /// The same settings from a new seed: fresh weights (and data), step 0.
    /// Override to keep what the visitor chose that is not a setting.
    fn reset(&mut self, seed: u64, data: &Datasets) -> Result<(), String> {
        *self = Self::build(self.settings().clone(), seed, data)?;
        Ok(())
    }

    /// The settings the run was built with, as changed since.
    fn settings(&self) -> &<Self::Protocol as LabProtocol>::Settings;

    /// Steps trained since the run began.
    fn step(&self) -> u64;

    /// One optimizer step of every model the lab trains. An error stops
    /// training (say what happened and how to recover); the lab stays
    /// failed until it is reset.
    fn train_step(&mut self) -> Result<Losses, String>;

    /// What the page draws. `heavy` asks for the bigger tensors too (sent at
    /// most every [`super::protocol::HEAVY_TENSOR_INTERVAL_MS`]);
    /// `fresh_run` marks the first snapshot of a run (send what never
    /// changes, such as the data). The runtime fills in the losses, the
    /// speed and whether it is running.
    fn snapshot(&mut self, heavy: bool, fresh_run: bool) -> Snapshot;

    fn set_hyper(&mut self, hyper: <Self::Protocol as LabProtocol>::Hyper) -> Result<Applied, String>;

    /// The lab's own commands. `Ok(None)`: done, nothing to answer. An
    /// error is shown to the visitor and training goes on.
    fn command(
        &mut self,
        _command: <Self::Protocol as LabProtocol>::Command,
    ) -> Result<Option<<Self::Protocol as LabProtocol>::Reply>, String> {
        Ok(None)
    }

    /// Work to do between training slices, such as measuring a test set a
    /// chunk at a time. Keep each call short (a few milliseconds): the
    /// visitor's Pause waits for it. `now_ms` is the worker's clock.
    fn background(&mut self, _now_ms: f64) {}

    /// Whether [`Lab::background`] has work that must finish even while
    /// training is paused (the Diffusion lab's sampling, started by a
    /// button): the runtime then keeps calling it, slice by slice, so that
    /// commands (Pause, Start, a new setting) still get through between calls.
    fn has_pending_work(&self) -> bool {
        false
    }

    /// Called when training stops (pause) and after a build: bring what
    /// the page shows up to date with the current weights.
    fn settle(&mut self) {}

    /// A safetensors file of the weights, and a file name for it.
    fn export_weights(&self) -> Result<(String, Vec<u8>), String>;

    /// All or nothing: on an error the weights are unchanged.
    fn import_weights(&mut self, bytes: &[u8]) -> Result<(), String>;
}

/// A [`Lab`] with its types erased: what the runtime holds. Lab values
/// arrive encoded and are decoded here, by the lab's own types.
pub trait DynLab {
    fn step(&self) -> u64;
    fn train_step(&mut self) -> Result<Losses, String>;
    fn snapshot(&mut self, heavy: bool, fresh_run: bool) -> Snapshot;
    fn set_hyper(&mut self, hyper: &[u8]) -> Result<Applied, String>;
    fn command(&mut self, command: &[u8]) -> Result<Option<Vec<u8>>, String>;
    fn background(&mut self, now_ms: f64);
    fn has_pending_work(&self) -> bool;
    fn settle(&mut self);
    /// The current settings from a new seed.
    fn reset(&mut self, seed: u64, data: &Datasets) -> Result<(), String>;
    fn export_weights(&self) -> Result<(String, Vec<u8>), String>;
    fn import_weights(&mut self, bytes: &[u8]) -> Result<(), String>;
}

impl<L: Lab> DynLab for L {
    fn step(&self) -> u64 {
        Lab::step(self)
    }
    fn train_step(&mut self) -> Result<Losses, String> {
        Lab::train_step(self)
    }
    fn snapshot(&mut self, heavy: bool, fresh_run: bool) -> Snapshot {
        Lab::snapshot(self, heavy, fresh_run)
    }
    fn set_hyper(&mut self, hyper: &[u8]) -> Result<Applied, String> {
        Lab::set_hyper(self, decode(hyper, "hyperparameter")?)
    }
    fn command(&mut self, command: &[u8]) -> Result<Option<Vec<u8>>, String> {
        let reply = Lab::command(self, decode(command, "lab command")?)?;
        Ok(reply.map(|r| encode(&r)))
    }
    fn background(&mut self, now_ms: f64) {
        Lab::background(self, now_ms)
    }
    fn has_pending_work(&self) -> bool {
        Lab::has_pending_work(self)
    }
    fn settle(&mut self) {
        Lab::settle(self)
    }
    fn reset(&mut self, seed: u64, data: &Datasets) -> Result<(), String> {
        Lab::reset(self, seed, data)
    }
    fn export_weights(&self) -> Result<(String, Vec<u8>), String> {
        Lab::export_weights(self)
    }
    fn import_weights(&mut self, bytes: &[u8]) -> Result<(), String> {
        Lab::import_weights(self, bytes)
    }
}

/// Builds a lab from its encoded settings, a seed and the loaded datasets.
pub type BuildLab = fn(settings: &[u8], seed: u64, data: &Datasets) -> Result<Box<dyn DynLab>, String>;

/// How the worker builds one registered lab from the envelope's bytes.
#[derive(Clone, Copy)]
pub struct LabFactory {
    /// `None` for a lab that lists no dataset: its worker then links no
    /// fetch and no gunzip (26 KB gzipped).
    pub datasets: Option<DatasetNeeds>,
    pub build: BuildLab,
}

impl LabFactory {
    pub const fn of<L: Lab>() -> Self {
        fn build<L: Lab>(settings: &[u8], seed: u64, data: &Datasets) -> Result<Box<dyn DynLab>, String> {
            let settings = decode(settings, "lab settings")?;
            Ok(Box::new(L::build(settings, seed, data)?))
        }
        Self {
            // Decided at compile time, so that the fetch is not even
            // referenced by the factory of a lab without datasets.
            datasets: const {
                if L::DATASETS.is_empty() {
                    None
                } else {
                    Some(DatasetNeeds {
                        ids: L::DATASETS,
                        fetch: super::runtime::FETCH,
                    })
                }
            },
            build: build::<L>,
        }
    }
}

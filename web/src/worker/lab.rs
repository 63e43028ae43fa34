//! The lab a worker is training: one type for the runtime to drive, whatever
//! the page. Each variant keeps its own state and snapshot format.

use super::cnn::CnnLab;
use super::playground::PlaygroundTrainer;
use super::protocol::{Hyper, Snapshot, SpeedChoice};

pub enum Lab {
    Playground(Box<PlaygroundTrainer>),
    Cnn(Box<CnnLab>),
}

impl Lab {
    pub fn speed(&self) -> SpeedChoice {
        match self {
            Lab::Playground(t) => t.config().speed,
            Lab::Cnn(lab) => lab.settings().speed,
        }
    }

    pub fn train_step(&mut self) -> Result<f32, String> {
        match self {
            Lab::Playground(t) => t.train_step(),
            Lab::Cnn(lab) => lab.train_step(),
        }
    }

    pub fn snapshot(&mut self, heavy: bool, fresh_run: bool) -> Snapshot {
        match self {
            Lab::Playground(t) => t.snapshot(heavy, fresh_run),
            Lab::Cnn(lab) => lab.snapshot(heavy || fresh_run),
        }
    }

    pub fn set_hyper(&mut self, hyper: Hyper) -> Result<(), String> {
        match self {
            Lab::Playground(t) => t.set_hyper(hyper),
            Lab::Cnn(lab) => lab.set_hyper(hyper),
        }
    }

    /// Fresh weights from `seed`, step 0.
    pub fn reset(&mut self, seed: u64) -> Result<(), String> {
        match self {
            Lab::Playground(t) => t.reset(seed),
            Lab::Cnn(lab) => lab.reset(seed),
        }
    }

    /// A safetensors file of the weights, and a file name for it.
    pub fn export_weights(&self) -> (String, Vec<u8>) {
        match self {
            Lab::Playground(t) => ("deepplay-playground.safetensors".into(), t.export_weights()),
            Lab::Cnn(lab) => ("deepplay-cnn.safetensors".into(), lab.export_weights()),
        }
    }

    pub fn import_weights(&mut self, bytes: &[u8]) -> Result<(), String> {
        match self {
            Lab::Playground(t) => t.import_weights(bytes),
            Lab::Cnn(lab) => lab.import_weights(bytes),
        }
    }
}

//! What the Attention lab's page and trainer send each other.

use serde::{Deserialize, Serialize};

use crate::worker::protocol::{LabProtocol, OptimizerChoice};

/// The Attention lab's side of the protocol.
pub struct AttentionProtocol;

impl LabProtocol for AttentionProtocol {
    const SLUG: &'static str = "attention";
    type Settings = AttentionSettings;
    type Hyper = Hyper;
    type Command = Command;
    type Reply = ();
}

crate::choice! {
    /// The task the Transformer learns.
    pub enum TaskChoice {
        Who = ("who", "Who did what"),
        Reverse = ("reverse", "Reverse digits"),
        Sort = ("sort", "Sort digits"),
    }
}

crate::choice! {
    /// How positions enter the model when positional encoding is on.
    pub enum PositionChoice {
        Sinusoidal = ("sin", "Sinusoidal"),
        Learned = ("learned", "Learned"),
    }
}

/// Everything that defines a run besides its seed: the same settings and
/// seed give the same run, step for step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttentionSettings {
    pub task: TaskChoice,
    /// Digits per string (reverse and sort).
    pub digits: usize,
    /// Whether positions are added to the token embeddings at all.
    pub positional: bool,
    pub position_kind: PositionChoice,
    /// The model width d.
    pub d_model: usize,
    pub heads: usize,
    pub layers: usize,
    pub optimizer: OptimizerChoice,
    pub learning_rate: f32,
    pub batch_size: usize,
}

impl Default for AttentionSettings {
    fn default() -> Self {
        Self {
            task: TaskChoice::Who,
            digits: 8,
            positional: true,
            position_kind: PositionChoice::Sinusoidal,
            d_model: 32,
            heads: 4,
            layers: 2,
            optimizer: OptimizerChoice::Adam,
            learning_rate: 0.003,
            batch_size: 32,
        }
    }
}

/// The seed of a run when the URL names none.
pub const DEFAULT_SEED: u64 = 1;

/// One change. Learning rate, batch size and optimizer apply to the running
/// model; the rest change the data or the model, so the trainer rebuilds it
/// (same seed) and training starts again at step 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Hyper {
    LearningRate(f32),
    BatchSize(usize),
    Optimizer(OptimizerChoice),
    Task(TaskChoice),
    Digits(usize),
    Positional(bool),
    PositionKind(PositionChoice),
    DModel(usize),
    Heads(usize),
    Layers(usize),
}

impl Hyper {
    /// The settings with this change made.
    pub fn apply(&self, settings: &mut AttentionSettings) {
        match self {
            Hyper::LearningRate(v) => settings.learning_rate = *v,
            Hyper::BatchSize(v) => settings.batch_size = *v,
            Hyper::Optimizer(v) => settings.optimizer = *v,
            Hyper::Task(v) => settings.task = *v,
            Hyper::Digits(v) => settings.digits = *v,
            Hyper::Positional(v) => settings.positional = *v,
            Hyper::PositionKind(v) => settings.position_kind = *v,
            Hyper::DModel(v) => settings.d_model = *v,
            Hyper::Heads(v) => settings.heads = *v,
            Hyper::Layers(v) => settings.layers = *v,
        }
    }

    /// Whether the change throws away the trained weights.
    pub fn restarts_run(&self) -> bool {
        !matches!(self, Hyper::LearningRate(_) | Hyper::BatchSize(_) | Hyper::Optimizer(_))
    }
}

/// The lab's own commands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// The sequence the attention maps trace: a sentence (who-did-what,
    /// with the question 0 = who?, 1 = whom?) or a digit string.
    Probe { text: String, question: usize },
}

/// Held-out sequences the accuracy is measured on.
pub const HELD_OUT: usize = 256;

/// The probe each task starts with.
pub fn default_probe(task: TaskChoice, digits: usize) -> String {
    match task {
        TaskChoice::Who => "the dog chased the cat".into(),
        TaskChoice::Reverse | TaskChoice::Sort => "31415926535897932".chars().take(digits).collect(),
    }
}

/// The names of the tensors the trainer sends.
pub mod tensors {
    /// The probe's token ids, `[L]`.
    pub const PROBE: &str = "probe";
    /// `attention_{layer}`: the probe's attention weights, `[heads, L, L]`.
    pub const ATTENTION: &str = "attention";
    /// `values_{layer}`: each head's values on the probe, `[heads, L, D]`.
    pub const VALUES: &str = "values";
    /// The model's answer probabilities: `[classes]` (who-did-what) or `[L, classes]`.
    pub const PROBABILITIES: &str = "probabilities";
    /// The position table added to the embeddings, `[L, d]` (absent when off).
    pub const POSITIONS: &str = "positions";

    /// `{base}_{layer}`.
    pub fn of(base: &str, layer: usize) -> String {
        format!("{base}_{layer}")
    }
}

/// The names of the metrics the trainer sends.
pub mod metrics {
    /// Held-out accuracy, a fraction.
    pub const ACCURACY: &str = "accuracy";
    /// What a model that ignores word order scores on this task.
    pub const CHANCE: &str = "chance";
    /// Milliseconds per training step, the mean over the run.
    pub const STEP_MS: &str = "step_ms";
}

/// The names of the integers the trainer sends.
pub mod integers {
    /// Trainable parameters.
    pub const PARAMS: &str = "params";
    /// The probe's right answer (a class), when the grammar gives one.
    pub const EXPECTED: &str = "expected";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_data_and_architecture_changes_restart() {
        assert!(!Hyper::LearningRate(0.1).restarts_run());
        assert!(!Hyper::Optimizer(OptimizerChoice::Sgd).restarts_run());
        assert!(Hyper::Positional(false).restarts_run());
        assert!(Hyper::Heads(2).restarts_run());
        let mut s = AttentionSettings::default();
        Hyper::Positional(false).apply(&mut s);
        Hyper::Layers(3).apply(&mut s);
        Hyper::Task(TaskChoice::Sort).apply(&mut s);
        assert_eq!((s.positional, s.layers, s.task), (false, 3, TaskChoice::Sort));
    }

    #[test]
    fn messages_round_trip_through_the_envelope() {
        use crate::worker::protocol::{decode, encode};
        for h in [
            Hyper::DModel(64),
            Hyper::PositionKind(PositionChoice::Learned),
            Hyper::Task(TaskChoice::Reverse),
        ] {
            assert_eq!(decode::<Hyper>(&encode(&h), "hyper"), Ok(h));
        }
        let s = AttentionSettings::default();
        assert_eq!(decode::<AttentionSettings>(&encode(&s), "settings"), Ok(s));
        let c = Command::Probe {
            text: "the cat saw a dog".into(),
            question: 1,
        };
        assert_eq!(decode::<Command>(&encode(&c), "command"), Ok(c));
        assert_eq!(default_probe(TaskChoice::Sort, 5), "31415");
    }
}

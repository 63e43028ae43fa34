//! What the Sequences lab's page and trainer send each other.

use serde::{Deserialize, Serialize};

use crate::worker::protocol::{LabProtocol, OptimizerChoice};

/// The Sequences lab's side of the protocol.
pub struct SequencesProtocol;

impl LabProtocol for SequencesProtocol {
    const SLUG: &'static str = "sequences";
    type Settings = SequencesSettings;
    type Hyper = Hyper;
    type Command = Command;
    type Reply = ();
}

crate::choice! {
    /// The task the three networks learn.
    pub enum TaskChoice {
        First = ("first", "Remember the first symbol"),
        Adding = ("adding", "Adding problem"),
        Sines = ("sines", "Time series (next value)"),
    }
}

/// Everything that defines a run besides its seed: the same settings and
/// seed give the same run, step for step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SequencesSettings {
    pub task: TaskChoice,
    /// Time steps per sequence.
    pub length: usize,
    /// Hidden units of every network (the same for all three).
    pub hidden: usize,
    /// Whether the LSTM trains beside the RNN and the GRU.
    pub lstm: bool,
    pub optimizer: OptimizerChoice,
    pub learning_rate: f32,
    pub batch_size: usize,
    /// The global gradient norm is clipped to this; 0 turns clipping off.
    pub clip: f32,
}

impl Default for SequencesSettings {
    fn default() -> Self {
        Self {
            task: TaskChoice::First,
            length: 40,
            hidden: 32,
            lstm: true,
            optimizer: OptimizerChoice::Adam,
            learning_rate: 0.01,
            batch_size: 32,
            clip: 1.0,
        }
    }
}

/// The seed of a run when the URL names none.
pub const DEFAULT_SEED: u64 = 7;

/// One change. Learning rate, batch size, optimizer and clipping apply to
/// the running networks; the rest change the data or the networks, so the
/// trainer rebuilds them (same seed) and training starts again at step 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Hyper {
    LearningRate(f32),
    BatchSize(usize),
    Optimizer(OptimizerChoice),
    Clip(f32),
    Task(TaskChoice),
    Length(usize),
    Hidden(usize),
    Lstm(bool),
}

impl Hyper {
    /// The settings with this change made.
    pub fn apply(&self, settings: &mut SequencesSettings) {
        match self {
            Hyper::LearningRate(v) => settings.learning_rate = *v,
            Hyper::BatchSize(v) => settings.batch_size = *v,
            Hyper::Optimizer(v) => settings.optimizer = *v,
            Hyper::Clip(v) => settings.clip = *v,
            Hyper::Task(v) => settings.task = *v,
            Hyper::Length(v) => settings.length = *v,
            Hyper::Hidden(v) => settings.hidden = *v,
            Hyper::Lstm(v) => settings.lstm = *v,
        }
    }

    /// Whether the change throws away the trained weights.
    pub fn restarts_run(&self) -> bool {
        !matches!(
            self,
            Hyper::LearningRate(_) | Hyper::BatchSize(_) | Hyper::Optimizer(_) | Hyper::Clip(_)
        )
    }
}

/// The lab's own commands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Which held-out sequence the gate and hidden-state views trace.
    Example(usize),
}

/// The models, in the order of every list the trainer sends: `rnn`, `gru`,
/// `lstm` (the last only when it trains). Loss series, metrics and tensors
/// are named after them.
pub const MODELS: [&str; 3] = ["rnn", "gru", "lstm"];

/// Held-out sequences the accuracies are measured on (and the examples the
/// gate view can trace).
pub const HELD_OUT: usize = 256;

/// The names of the tensors the trainer sends; `{model}` is one of
/// [`MODELS`].
pub mod tensors {
    /// `grad_norm_{model}`: ||dL/dh_t|| for t = 1..T, `[T]`, averaged over
    /// the last steps.
    pub const GRAD_NORM: &str = "grad_norm";
    /// `hidden_{model}`: the traced example's hidden states, `[T, H]`.
    pub const HIDDEN: &str = "hidden";
    /// The GRU's update gate z on the traced example, `[T, H]`.
    pub const GATE_UPDATE: &str = "gate_update";
    /// The GRU's reset gate r on the traced example, `[T, H]`.
    pub const GATE_RESET: &str = "gate_reset";
    /// The traced example's input, `[T, I]`.
    pub const EXAMPLE: &str = "example";
    /// `prediction_{model}` on the traced example: `[T]` for the time
    /// series, else the answer at the last step, `[outputs]`.
    pub const PREDICTION: &str = "prediction";
    /// The traced example's answer: `[T]` (time series), `[1]` (the class or
    /// the sum).
    pub const TRUTH: &str = "truth";

    /// `{base}_{model}`.
    pub fn of(base: &str, model: &str) -> String {
        format!("{base}_{model}")
    }
}

/// The names of the metrics the trainer sends (`{base}_{model}`).
pub mod metrics {
    /// Held-out accuracy, a fraction.
    pub const ACCURACY: &str = "accuracy";
    /// Measured milliseconds per training step of that model alone
    /// (forward, backward, update), averaged.
    pub const STEP_MS: &str = "step_ms";
    /// What a model that learned nothing scores on this task.
    pub const CHANCE: &str = "chance";
}

/// The names of the integers the trainer sends (`{base}_{model}`).
pub mod integers {
    /// Trainable parameters.
    pub const PARAMS: &str = "params";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_data_and_architecture_changes_restart() {
        assert!(!Hyper::LearningRate(0.1).restarts_run());
        assert!(!Hyper::Clip(0.0).restarts_run());
        assert!(Hyper::Length(80).restarts_run());
        assert!(Hyper::Lstm(false).restarts_run());
        let mut s = SequencesSettings::default();
        Hyper::Length(5).apply(&mut s);
        Hyper::Hidden(16).apply(&mut s);
        Hyper::Task(TaskChoice::Adding).apply(&mut s);
        assert_eq!((s.length, s.hidden, s.task), (5, 16, TaskChoice::Adding));
    }

    #[test]
    fn messages_round_trip_through_the_envelope() {
        use crate::worker::protocol::{decode, encode};
        for h in [Hyper::Length(200), Hyper::Lstm(false), Hyper::Task(TaskChoice::Sines), Hyper::Clip(0.5)] {
            assert_eq!(decode::<Hyper>(&encode(&h), "hyper"), Ok(h));
        }
        let s = SequencesSettings::default();
        assert_eq!(decode::<SequencesSettings>(&encode(&s), "settings"), Ok(s));
        assert_eq!(tensors::of(tensors::GRAD_NORM, "gru"), "grad_norm_gru");
    }
}

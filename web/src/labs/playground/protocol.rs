//! What the playground's page and trainer send each other.

use serde::{Deserialize, Serialize};

use crate::worker::protocol::{LabProtocol, OptimizerChoice};

/// The playground's side of the protocol.
pub struct PlaygroundProtocol;

impl LabProtocol for PlaygroundProtocol {
    const SLUG: &'static str = "playground";
    type Settings = PlaygroundSettings;
    type Hyper = Hyper;
    type Command = ();
    type Reply = ();
}

crate::choice! {
    /// The 2-D datasets.
    pub enum DatasetChoice {
        Spiral = ("spiral", "Spiral"),
        Moons = ("moons", "Two moons"),
        Circles = ("circles", "Circles"),
    }
}

crate::choice! {
    /// Nonlinearity between the hidden layers.
    pub enum ActivationChoice {
        Relu = ("relu", "ReLU"),
        Tanh = ("tanh", "tanh"),
    }
}

/// Everything that defines a playground run besides its seed: the same
/// settings and seed give the same run, step for step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlaygroundSettings {
    pub dataset: DatasetChoice,
    /// Widths of the hidden layers, input and output excluded.
    pub hidden: Vec<usize>,
    pub activation: ActivationChoice,
    pub optimizer: OptimizerChoice,
    pub learning_rate: f32,
    pub batch_size: usize,
    /// Standard deviation of the noise added to the data points.
    pub noise: f32,
}

impl Default for PlaygroundSettings {
    fn default() -> Self {
        Self {
            dataset: DatasetChoice::Spiral,
            hidden: vec![16, 16],
            activation: ActivationChoice::Relu,
            optimizer: OptimizerChoice::Adam,
            learning_rate: 0.01,
            batch_size: 32,
            noise: 0.05,
        }
    }
}

/// The seed of a run when the URL names none.
pub const DEFAULT_SEED: u64 = 42;

/// One change. The first three apply to the running model; the rest change
/// the data or the network, so the trainer rebuilds both (same seed) and
/// training starts again from step 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Hyper {
    LearningRate(f32),
    BatchSize(usize),
    Optimizer(OptimizerChoice),
    Dataset(DatasetChoice),
    Hidden(Vec<usize>),
    Activation(ActivationChoice),
    Noise(f32),
}

impl Hyper {
    /// The settings with this change made.
    pub fn apply(&self, settings: &mut PlaygroundSettings) {
        match self {
            Hyper::LearningRate(v) => settings.learning_rate = *v,
            Hyper::BatchSize(v) => settings.batch_size = *v,
            Hyper::Optimizer(v) => settings.optimizer = *v,
            Hyper::Dataset(v) => settings.dataset = *v,
            Hyper::Hidden(v) => settings.hidden = v.clone(),
            Hyper::Activation(v) => settings.activation = *v,
            Hyper::Noise(v) => settings.noise = *v,
        }
    }

    /// Whether the change throws away the trained weights.
    pub fn restarts_run(&self) -> bool {
        !matches!(self, Hyper::LearningRate(_) | Hyper::BatchSize(_) | Hyper::Optimizer(_))
    }
}

/// The names of the tensors the trainer sends.
pub mod tensors {
    /// Class probabilities on a lattice over the view, `[rows, cols, classes]`.
    pub const DECISION: &str = "decision";
    /// The data points, `[n, 2]` (first snapshot of a run only).
    pub const POINTS: &str = "points";
    /// Their classes, `[n]`.
    pub const LABELS: &str = "labels";
    /// Half the side of the square shown, in data units, `[1]`.
    pub const EXTENT: &str = "extent";
}

/// The names of the metrics the trainer sends.
pub mod metrics {
    /// Accuracy over all the points, a fraction.
    pub const ACCURACY: &str = "accuracy";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_data_and_architecture_changes_restart() {
        assert!(!Hyper::LearningRate(0.1).restarts_run());
        assert!(!Hyper::BatchSize(8).restarts_run());
        assert!(Hyper::Dataset(DatasetChoice::Moons).restarts_run());
        assert!(Hyper::Hidden(vec![4]).restarts_run());
        let mut s = PlaygroundSettings::default();
        Hyper::Hidden(vec![3]).apply(&mut s);
        Hyper::Noise(0.2).apply(&mut s);
        assert_eq!((s.hidden.as_slice(), s.noise), (&[3][..], 0.2));
    }

    #[test]
    fn hypers_round_trip_through_the_envelope() {
        use crate::worker::protocol::{decode, encode};
        for h in [
            Hyper::LearningRate(0.5),
            Hyper::Hidden(vec![8, 4]),
            Hyper::Dataset(DatasetChoice::Circles),
            Hyper::Activation(ActivationChoice::Tanh),
        ] {
            assert_eq!(decode::<Hyper>(&encode(&h), "hyper"), Ok(h));
        }
    }
}

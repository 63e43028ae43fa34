//! What the CNN lab's page and trainer send each other.

use serde::{Deserialize, Serialize};

use crate::worker::protocol::{LabProtocol, OptimizerChoice};

/// The CNN lab's side of the protocol.
pub struct CnnProtocol;

impl LabProtocol for CnnProtocol {
    const SLUG: &'static str = "cnn";
    type Settings = CnnSettings;
    type Hyper = Hyper;
    type Command = CnnCommand;
    type Reply = CnnReply;
}

crate::choice! {
    /// Max or average pooling after each convolution.
    pub enum PoolChoice {
        Max = ("max", "Max pooling"),
        Avg = ("avg", "Average pooling"),
    }
}

/// Everything that defines a CNN lab run besides its seed: Conv -> ReLU ->
/// Pool, twice, then a fully connected layer to the 10 digits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CnnSettings {
    pub conv1_filters: usize,
    pub conv2_filters: usize,
    /// Square kernel size of both convolutions.
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    pub pool: PoolChoice,
    /// Pooling window (and stride) after each convolution; 1 = none.
    pub pool1: usize,
    pub pool2: usize,
    pub optimizer: OptimizerChoice,
    pub learning_rate: f32,
    pub batch_size: usize,
    /// Random shifts of up to 2 pixels.
    pub augment: bool,
}

impl Default for CnnSettings {
    /// ConvNetJS's MNIST network; Adam at 3e-3, batch 32 (a reference
    /// trainer reaches 97% test accuracy after about 1,250 such steps).
    fn default() -> Self {
        Self {
            conv1_filters: 8,
            conv2_filters: 16,
            kernel: 5,
            stride: 1,
            padding: 2,
            pool: PoolChoice::Max,
            pool1: 2,
            pool2: 3,
            optimizer: OptimizerChoice::Adam,
            learning_rate: 3e-3,
            batch_size: 32,
            augment: false,
        }
    }
}

/// The seed of a run when the URL names none.
pub const DEFAULT_SEED: u64 = 1;

impl CnnSettings {
    pub fn cnn_config(&self) -> deepplay_core::models::cnn::CnnConfig {
        use deepplay_core::models::cnn::{CnnConfig, ConvStage, PoolKind};
        let pool = match self.pool {
            PoolChoice::Max => PoolKind::Max,
            PoolChoice::Avg => PoolKind::Avg,
        };
        let stage = |filters, pool_size| ConvStage {
            filters,
            kernel: self.kernel,
            stride: self.stride,
            padding: self.padding,
            pool,
            pool_size,
        };
        CnnConfig {
            input: [1, 28, 28],
            stages: vec![
                stage(self.conv1_filters, self.pool1),
                stage(self.conv2_filters, self.pool2),
            ],
            classes: 10,
        }
    }

    pub fn cnn_hyper(&self) -> deepplay_core::models::cnn_trainer::CnnHyper {
        use deepplay_core::models::cnn_trainer::{CnnHyper, OptimizerChoice as Choice};
        CnnHyper {
            learning_rate: self.learning_rate,
            batch_size: self.batch_size,
            optimizer: match self.optimizer {
                OptimizerChoice::Adam => Choice::Adam,
                OptimizerChoice::Sgd => Choice::Sgd { momentum: 0.9 },
            },
            augment: self.augment,
        }
    }
}

/// A change the running network takes; anything else about the network
/// is a new configuration (the page sends new settings).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Hyper {
    LearningRate(f32),
    BatchSize(usize),
    Optimizer(OptimizerChoice),
}

impl Hyper {
    pub fn apply(&self, settings: &mut CnnSettings) {
        match self {
            Hyper::LearningRate(v) => settings.learning_rate = *v,
            Hyper::BatchSize(v) => settings.batch_size = *v,
            Hyper::Optimizer(v) => settings.optimizer = *v,
        }
    }
}

/// The CNN lab's own commands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CnnCommand {
    /// Show the feature maps of this test digit (index into the test split).
    Probe { index: usize },
    /// Classify a drawing: 784 values of ink in [0, 1], already centred.
    Classify { ink: Vec<f32> },
}

/// Answers to [`CnnCommand`]s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CnnReply {
    /// One probability per digit for the drawing.
    Prediction { probabilities: Vec<f32> },
}

/// The names of the tensors the trainer sends.
pub mod tensors {
    /// Kernels of the first convolution, `[out, 1, k, k]`.
    pub const CONV1_WEIGHT: &str = "conv1.weight";
    /// Kernels of the second convolution, `[out, in, k, k]`.
    pub const CONV2_WEIGHT: &str = "conv2.weight";
    /// The probe digit's feature maps after each layer, `[C, H, W]`.
    pub const FEATURE_MAPS: [&str; 4] = ["conv1", "pool1", "conv2", "pool2"];
    /// The probe digit, `[28, 28]`, ink in [0, 1].
    pub const PROBE_INPUT: &str = "probe.input";
    /// The network's probabilities for it, `[10]`.
    pub const PROBE_PROBS: &str = "probe.probs";
    /// Counts over the test split, `[10, 10]`, rows true, columns predicted.
    pub const CONFUSION: &str = "confusion";
    /// Misclassified test digits `[n, 28, 28]`, with what the network said
    /// and the truth, `[n]` each.
    pub const MISTAKES: &str = "mistakes";
    pub const MISTAKES_PREDICTED: &str = "mistakes.predicted";
    pub const MISTAKES_TRUE: &str = "mistakes.true";
}

/// The names of the scalars the trainer sends.
pub mod metrics {
    /// Accuracy on the test split (a fraction), measured at `TEST_STEP`.
    pub const TEST_ACCURACY: &str = "test_accuracy";
    /// Accuracy on the last training batch.
    pub const BATCH_ACCURACY: &str = "batch_accuracy";
    /// Integers: the step the test accuracy was measured at.
    pub const TEST_STEP: &str = "test_step";
    /// Integers: how many digits the test split holds.
    pub const TEST_SIZE: &str = "test_size";
    /// Integers: the probe digit's true class.
    pub const PROBE_LABEL: &str = "probe_label";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::protocol::{decode, encode};

    #[test]
    fn lab_messages_round_trip_through_the_envelope() {
        for c in [CnnCommand::Probe { index: 3 }, CnnCommand::Classify { ink: vec![0.5; 784] }] {
            assert_eq!(decode::<CnnCommand>(&encode(&c), "command"), Ok(c));
        }
        let reply = CnnReply::Prediction {
            probabilities: vec![0.1; 10],
        };
        assert_eq!(decode::<CnnReply>(&encode(&reply), "reply"), Ok(reply));
        let settings = CnnSettings {
            kernel: 3,
            ..CnnSettings::default()
        };
        assert_eq!(decode::<CnnSettings>(&encode(&settings), "settings"), Ok(settings));
        let mut s = CnnSettings::default();
        Hyper::BatchSize(64).apply(&mut s);
        assert_eq!(s.batch_size, 64);
    }
}

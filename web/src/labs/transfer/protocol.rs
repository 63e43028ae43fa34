//! What the Transfer lab's page and trainer send each other.

use serde::{Deserialize, Serialize};

use crate::worker::protocol::LabProtocol;

/// The Transfer lab's side of the protocol.
pub struct TransferProtocol;

impl LabProtocol for TransferProtocol {
    const SLUG: &'static str = "transfer";
    type Settings = TransferSettings;
    type Hyper = Hyper;
    type Command = Command;
    type Reply = Reply;
}

crate::choice! {
    /// What the pretrained network learns next.
    pub enum TaskChoice {
        Digits = ("digits", "Digits 5-9"),
        Drawn = ("drawn", "Your own classes"),
    }
}

/// Examples per class of digits 5-9 the visitor can choose.
pub const PER_CLASS_CHOICES: [usize; 4] = [1, 5, 10, 50];
/// The conv layers that can be frozen (`freeze-0`, `freeze-1`); the head is
/// new and always trains.
pub const CONV_LAYERS: usize = 2;
/// The visitor's classes: at least two to tell apart, at most this many.
pub const MIN_CLASSES: usize = 2;
pub const MAX_CLASSES: usize = 8;
/// Drawings kept per class.
pub const MAX_EXAMPLES_PER_CLASS: usize = 40;
/// Longest class name.
pub const MAX_NAME_CHARS: usize = 24;
/// Examples of each class sent for the gallery of digits.
pub const GALLERY_PER_CLASS: usize = 10;

/// One of the visitor's classes: its name and its drawings (28x28 bytes
/// each, 0 = background, 255 = ink, centred like MNIST).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DrawnClass {
    pub name: String,
    pub examples: Vec<Vec<u8>>,
}

/// Everything that defines a run besides its seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransferSettings {
    pub task: TaskChoice,
    /// Training examples per digit (one of [`PER_CLASS_CHOICES`]).
    pub per_class: usize,
    /// `frozen[i]`: conv layer i of the fine-tuned network keeps its
    /// pretrained weights.
    pub frozen: [bool; CONV_LAYERS],
    pub learning_rate: f32,
    pub batch_size: usize,
    /// Random shifts of up to 2 pixels.
    pub augment: bool,
    /// The visitor's classes (the `Drawn` task); not in the URL.
    pub drawn: Vec<DrawnClass>,
}

impl Default for TransferSettings {
    /// Measured (README): with 10 examples of each digit 5-9 and both conv
    /// layers frozen, the fine-tuned network leads the one from scratch
    /// from the first evaluations on.
    fn default() -> Self {
        Self {
            task: TaskChoice::Digits,
            per_class: 10,
            frozen: [true; CONV_LAYERS],
            learning_rate: 3e-3,
            batch_size: 32,
            augment: false,
            drawn: Vec::new(),
        }
    }
}

/// The seed of a run when the URL names none.
pub const DEFAULT_SEED: u64 = 1;

/// A change of one setting. Freezing, the learning rate, the batch size and
/// augmentation apply to the running networks; the task, the examples per
/// class and the visitor's classes start both networks again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Hyper {
    Freeze { layer: usize, frozen: bool },
    LearningRate(f32),
    BatchSize(usize),
    Augment(bool),
    Task(TaskChoice),
    PerClass(usize),
    Classes(Vec<DrawnClass>),
}

impl Hyper {
    pub fn apply(&self, s: &mut TransferSettings) {
        match self {
            Hyper::Freeze { layer, frozen } => {
                if let Some(slot) = s.frozen.get_mut(*layer) {
                    *slot = *frozen;
                }
            }
            Hyper::LearningRate(v) => s.learning_rate = *v,
            Hyper::BatchSize(v) => s.batch_size = *v,
            Hyper::Augment(v) => s.augment = *v,
            Hyper::Task(v) => s.task = *v,
            Hyper::PerClass(v) => s.per_class = *v,
            Hyper::Classes(v) => s.drawn = v.clone(),
        }
    }

    /// Whether the change starts both networks again.
    pub fn restarts_run(&self) -> bool {
        matches!(self, Hyper::Task(_) | Hyper::PerClass(_) | Hyper::Classes(_))
    }
}

/// The lab's own commands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Classify a drawing (784 values of ink in [0, 1], centred) with both networks.
    Classify { ink: Vec<f32> },
    /// The visitor's classes as a file (safetensors: one `[n, 28, 28]`
    /// tensor of ink per class, the names in the metadata).
    ExportExamples,
    /// Read such a file back; the answer is its classes, or why not.
    ReadExamples { bytes: Vec<u8> },
}

/// Answers to [`Command`]s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    /// One probability per class, from each network.
    Prediction { finetune: Vec<f32>, scratch: Vec<f32> },
    /// The file of [`Command::ExportExamples`].
    ExamplesFile { bytes: Vec<u8> },
    /// The classes of a file the page asked to read.
    Examples { classes: Vec<DrawnClass> },
}

/// The names of the tensors the trainer sends.
pub mod tensors {
    /// The pretrained first-layer kernels `[8, 1, 5, 5]` (sent once a run).
    pub const CONV1_PRETRAINED: &str = "conv1.pretrained";
    /// The fine-tuned network's first-layer kernels now.
    pub const CONV1_FINETUNE: &str = "conv1.finetune";
    /// The network from scratch's first-layer kernels now.
    pub const CONV1_SCRATCH: &str = "conv1.scratch";
    /// How far each layer (conv1, conv2, head) moved from where it started,
    /// `||W - W0|| / ||W0||`, `[3]`, for each network.
    pub const CHANGE_FINETUNE: &str = "change.finetune";
    pub const CHANGE_SCRATCH: &str = "change.scratch";
    /// Training examples for the gallery `[n, 28, 28]` (ink in [0, 1]) and
    /// their classes `[n]` (sent once a run).
    pub const EXAMPLES: &str = "examples";
    pub const EXAMPLE_LABELS: &str = "examples.labels";
}

/// The names of the scalars the trainer sends.
pub mod metrics {
    /// Held-out accuracy of each network (a fraction), measured at `EVAL_STEP`.
    pub const FINETUNE_ACCURACY: &str = "finetune_accuracy";
    pub const SCRATCH_ACCURACY: &str = "scratch_accuracy";
    /// Accuracy of the pretrained network on the test split's digits 0-4
    /// (from the shipped file).
    pub const PRETRAINED_ACCURACY: &str = "pretrained_accuracy";
    /// Integers: the step the accuracies are from.
    pub const EVAL_STEP: &str = "eval_step";
    /// Integers: training examples, held-out examples, classes.
    pub const TRAIN_SIZE: &str = "train_size";
    pub const HELDOUT_SIZE: &str = "heldout_size";
    pub const CLASSES: &str = "classes";
    /// Integers: the batch the step used (never more than the examples).
    pub const BATCH: &str = "batch";
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::protocol::{decode, encode};

    #[test]
    fn messages_round_trip_and_hyper_applies() {
        let c = Command::Classify { ink: vec![0.5; 784] };
        assert_eq!(decode::<Command>(&encode(&c), "command"), Ok(c));
        let mut s = TransferSettings::default();
        let classes = vec![DrawnClass {
            name: "A".into(),
            examples: vec![vec![0; 784]],
        }];
        for h in [
            Hyper::Freeze { layer: 1, frozen: false },
            Hyper::Task(TaskChoice::Drawn),
            Hyper::Classes(classes.clone()),
        ] {
            assert_eq!(decode::<Hyper>(&encode(&h), "hyper"), Ok(h.clone()));
            h.apply(&mut s);
        }
        assert_eq!(s.frozen, [true, false]);
        assert_eq!(s.drawn, classes);
        assert!(Hyper::PerClass(5).restarts_run() && !Hyper::LearningRate(0.1).restarts_run());
        Hyper::Freeze { layer: 9, frozen: false }.apply(&mut s);
        assert_eq!(s.frozen, [true, false], "no such layer: nothing changes");
    }
}

//! The messages between a lab page and the training worker: the one place
//! both sides agree on.
//!
//! Small things (commands, step counts, losses, metrics) travel as JSON text;
//! tensors travel beside that JSON as `Float32Array`s whose buffers are
//! *transferred*, not copied, so a 64x64x3 heatmap costs no clone on either
//! side. [`Snapshot::tensors`] names each array and its shape, in order.

use serde::{Deserialize, Serialize};

/// The 2-D datasets of the playground.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DatasetChoice {
    Spiral,
    Moons,
    Circles,
}

impl DatasetChoice {
    pub const ALL: [DatasetChoice; 3] = [Self::Spiral, Self::Moons, Self::Circles];

    /// The name used in URLs and `<select>` values.
    pub fn key(self) -> &'static str {
        match self {
            Self::Spiral => "spiral",
            Self::Moons => "moons",
            Self::Circles => "circles",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Spiral => "Spiral",
            Self::Moons => "Two moons",
            Self::Circles => "Circles",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.key() == key)
    }
}

/// Nonlinearity between the hidden layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActivationChoice {
    Relu,
    Tanh,
}

impl ActivationChoice {
    pub const ALL: [ActivationChoice; 2] = [Self::Relu, Self::Tanh];

    pub fn key(self) -> &'static str {
        match self {
            Self::Relu => "relu",
            Self::Tanh => "tanh",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Relu => "ReLU",
            Self::Tanh => "tanh",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.key() == key)
    }
}

/// Which optimizer updates the weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OptimizerChoice {
    Adam,
    /// SGD with momentum 0.9.
    Sgd,
}

impl OptimizerChoice {
    pub const ALL: [OptimizerChoice; 2] = [Self::Adam, Self::Sgd];

    pub fn key(self) -> &'static str {
        match self {
            Self::Adam => "adam",
            Self::Sgd => "sgd",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Adam => "Adam",
            Self::Sgd => "SGD + momentum",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.key() == key)
    }
}

/// How fast the worker trains: flat out, or slowly enough to watch the
/// boundary move.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SpeedChoice {
    Full,
    /// About 100 steps a second.
    Slow,
    /// About 10 steps a second.
    VerySlow,
}

impl SpeedChoice {
    pub const ALL: [SpeedChoice; 3] = [Self::Full, Self::Slow, Self::VerySlow];

    pub fn key(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Slow => "slow",
            Self::VerySlow => "veryslow",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Full => "Full speed",
            Self::Slow => "Slow (100 steps/s)",
            Self::VerySlow => "Very slow (10 steps/s)",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }

    /// The step rate limit, if any.
    pub fn steps_per_second(self) -> Option<f64> {
        match self {
            Self::Full => None,
            Self::Slow => Some(100.0),
            Self::VerySlow => Some(10.0),
        }
    }
}

/// Everything that defines a playground run. With the seed, it names the
/// run exactly: the same config gives the same run, step for step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlaygroundConfig {
    pub dataset: DatasetChoice,
    /// Widths of the hidden layers, input and output excluded.
    pub hidden: Vec<usize>,
    pub activation: ActivationChoice,
    pub optimizer: OptimizerChoice,
    pub learning_rate: f32,
    pub batch_size: usize,
    /// Standard deviation of the noise added to the data points.
    pub noise: f32,
    pub seed: u64,
    /// Not part of the run's result: only how fast it plays.
    pub speed: SpeedChoice,
}

impl Default for PlaygroundConfig {
    fn default() -> Self {
        Self {
            dataset: DatasetChoice::Spiral,
            hidden: vec![16, 16],
            activation: ActivationChoice::Relu,
            optimizer: OptimizerChoice::Adam,
            learning_rate: 0.01,
            batch_size: 32,
            noise: 0.05,
            seed: 42,
            speed: SpeedChoice::Full,
        }
    }
}

/// Max or average pooling after each convolution of the CNN lab.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PoolChoice {
    Max,
    Avg,
}

impl PoolChoice {
    pub const ALL: [PoolChoice; 2] = [Self::Max, Self::Avg];

    pub fn key(self) -> &'static str {
        match self {
            Self::Max => "max",
            Self::Avg => "avg",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Max => "Max pooling",
            Self::Avg => "Average pooling",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.key() == key)
    }
}

/// Everything that defines a CNN lab run: Conv -> ReLU -> Pool, twice, then
/// a fully connected layer to the 10 digits. With the seed, it names the run.
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
    pub seed: u64,
    pub speed: SpeedChoice,
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
            seed: 1,
            speed: SpeedChoice::Full,
        }
    }
}

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

/// One hyperparameter change. The first four apply to the running model;
/// the rest change the data or the network, so the worker rebuilds both
/// (with the current seed) and training starts again from step 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Hyper {
    LearningRate(f32),
    BatchSize(usize),
    Optimizer(OptimizerChoice),
    Speed(SpeedChoice),
    Dataset(DatasetChoice),
    Hidden(Vec<usize>),
    Activation(ActivationChoice),
    Noise(f32),
}

impl Hyper {
    /// Whether the change throws away the trained weights.
    pub fn restarts_run(&self) -> bool {
        !matches!(
            self,
            Hyper::LearningRate(_) | Hyper::BatchSize(_) | Hyper::Optimizer(_) | Hyper::Speed(_)
        )
    }
}

/// Page -> worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Replace the whole configuration and start again from step 0, paused.
    Configure(PlaygroundConfig),
    /// The CNN lab: load MNIST if needed, build this network, step 0, paused.
    ConfigureCnn(CnnSettings),
    /// Show the feature maps of this test digit (index into the test split).
    Probe {
        index: usize,
    },
    /// Classify a drawing: 784 values of ink in [0, 1], already centred.
    Classify {
        ink: Vec<f32>,
    },
    /// Send the current weights as a safetensors file.
    ExportWeights,
    /// Replace the weights with those of a safetensors file (all or nothing).
    ImportWeights {
        bytes: Vec<u8>,
    },
    Start,
    Pause,
    /// Train exactly one step (pauses first if running).
    StepOnce,
    /// Fresh weights and data from this seed, step 0, paused.
    Reset {
        seed: u64,
    },
    SetHyper(Hyper),
}

/// A tensor travelling beside the JSON: its name and shape. The data is the
/// `Float32Array` at the same index in the message's `buffers`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TensorMeta {
    pub name: String,
    pub shape: Vec<usize>,
}

/// A named tensor, on either side of the wire.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl NamedTensor {
    pub fn new(name: &str, shape: Vec<usize>, data: Vec<f32>) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Self {
            name: name.to_string(),
            shape,
            data,
        }
    }
}

/// The worker's state as a lab page draws it. Sent at a bounded rate
/// (see [`SNAPSHOT_INTERVAL_MS`]), and at once after every command.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Steps trained since the last reset.
    pub step: u64,
    /// Loss of the latest step (NaN before the first step).
    pub loss: f32,
    /// Every `(step, loss)` since the previous snapshot, so the chart misses
    /// nothing even though snapshots are rarer than steps.
    pub new_losses: Vec<(u64, f32)>,
    /// Named scalars, e.g. `("accuracy", 0.93)` (fractions in [0, 1]).
    pub metrics: Vec<(String, f32)>,
    pub running: bool,
    /// Training steps per second over the last interval (0 when paused).
    pub steps_per_second: f32,
    /// True when this snapshot starts a new run (after a reset or a config
    /// change): the page clears its history first.
    pub fresh_run: bool,
    /// Something went wrong (for example the loss became NaN); training is
    /// paused and this text tells the visitor how to recover.
    pub error: Option<String>,
    /// What the worker is busy with before it can train (loading data).
    pub status: Option<String>,
    /// Names and shapes of the tensors carried in `buffers`.
    #[serde(skip)]
    pub tensors: Vec<NamedTensor>,
}

impl Snapshot {
    pub fn metric(&self, name: &str) -> Option<f32> {
        self.metrics.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    pub fn tensor(&self, name: &str) -> Option<&NamedTensor> {
        self.tensors.iter().find(|t| t.name == name)
    }
}

/// Worker -> page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum WorkerEvent {
    /// The worker's wasm has loaded and it takes commands.
    Ready,
    Snapshot(Snapshot),
    /// The answer to [`Command::Classify`]: one probability per digit.
    Prediction {
        probabilities: Vec<f32>,
    },
    /// The answer to [`Command::ExportWeights`]: a safetensors file.
    Weights {
        file_name: String,
        bytes: Vec<u8>,
    },
}

/// Snapshots go out at most this often while training (20 per second).
pub const SNAPSHOT_INTERVAL_MS: f64 = 50.0;
/// Heavier tensors (the decision heatmap) go out at most this often.
pub const HEAVY_TENSOR_INTERVAL_MS: f64 = 100.0;
/// The worker trains in slices of about this long, then yields so that
/// commands (pause!) get through at once.
pub const TRAIN_SLICE_MS: f64 = 12.0;

/// The encoded part of a worker message; tensors are listed, not included.
#[derive(Serialize, Deserialize)]
struct Envelope {
    event: WorkerEvent,
    tensors: Vec<TensorMeta>,
}

// Messages are encoded with postcard (serde's compact binary format) and
// travel as a Uint8Array: a fraction of the code serde_json's text format
// and float printing put into both wasm binaries, and NaN and infinities
// (a diverging run) need no special case.

pub fn encode_command(command: &Command) -> Vec<u8> {
    // Serialising these plain enums into a Vec cannot fail.
    postcard::to_allocvec(command).unwrap_or_default()
}

pub fn decode_command(bytes: &[u8]) -> Result<Command, String> {
    postcard::from_bytes(bytes).map_err(|e| format!("bad command from the page: {e}"))
}

/// Splits an event into its encoded bytes and the tensors to send beside it.
pub fn encode_event(event: WorkerEvent) -> (Vec<u8>, Vec<NamedTensor>) {
    let (event, tensors) = match event {
        WorkerEvent::Snapshot(mut snapshot) => {
            let tensors = core::mem::take(&mut snapshot.tensors);
            (WorkerEvent::Snapshot(snapshot), tensors)
        }
        other => (other, Vec::new()),
    };
    let envelope = Envelope {
        event,
        tensors: tensors
            .iter()
            .map(|t| TensorMeta {
                name: t.name.clone(),
                shape: t.shape.clone(),
            })
            .collect(),
    };
    (postcard::to_allocvec(&envelope).unwrap_or_default(), tensors)
}

/// Joins the encoded bytes and the received arrays back into an event.
pub fn decode_event(bytes: &[u8], buffers: Vec<Vec<f32>>) -> Result<WorkerEvent, String> {
    let envelope: Envelope = postcard::from_bytes(bytes).map_err(|e| format!("bad message from the worker: {e}"))?;
    if envelope.tensors.len() != buffers.len() {
        return Err(format!(
            "the worker listed {} tensors but sent {}",
            envelope.tensors.len(),
            buffers.len()
        ));
    }
    match envelope.event {
        WorkerEvent::Snapshot(mut snapshot) => {
            for (meta, data) in envelope.tensors.into_iter().zip(buffers) {
                if meta.shape.iter().product::<usize>() != data.len() {
                    return Err(format!(
                        "tensor {} has shape {:?} but {} values",
                        meta.name,
                        meta.shape,
                        data.len()
                    ));
                }
                snapshot.tensors.push(NamedTensor {
                    name: meta.name,
                    shape: meta.shape,
                    data,
                });
            }
            Ok(WorkerEvent::Snapshot(snapshot))
        }
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip() {
        let commands = [
            Command::Configure(PlaygroundConfig::default()),
            Command::Start,
            Command::Pause,
            Command::StepOnce,
            Command::Reset { seed: 7 },
            Command::SetHyper(Hyper::LearningRate(0.5)),
            Command::SetHyper(Hyper::Hidden(vec![8, 4])),
        ];
        for command in commands {
            assert_eq!(decode_command(&encode_command(&command)), Ok(command));
        }
    }

    #[test]
    fn snapshot_round_trips_with_tensors_beside_the_message() {
        let snapshot = Snapshot {
            step: 12,
            loss: 0.5,
            new_losses: vec![(11, 0.6), (12, 0.5)],
            metrics: vec![("accuracy".into(), 0.75)],
            tensors: vec![NamedTensor::new("grid", vec![2, 3], vec![1.0; 6])],
            ..Snapshot::default()
        };
        let (text, tensors) = encode_event(WorkerEvent::Snapshot(snapshot.clone()));
        let one = 1.0f32.to_le_bytes();
        assert!(
            !text.windows(4).any(|w| w == one),
            "tensor data must travel beside the message, not in it"
        );
        let buffers = tensors.into_iter().map(|t| t.data).collect();
        assert_eq!(decode_event(&text, buffers), Ok(WorkerEvent::Snapshot(snapshot)));
    }

    #[test]
    fn non_finite_floats_survive_the_trip() {
        let snapshot = Snapshot {
            loss: f32::NAN,
            new_losses: vec![(1, f32::INFINITY), (2, f32::NEG_INFINITY), (3, 0.5)],
            metrics: vec![("accuracy".into(), f32::NAN)],
            ..Snapshot::default()
        };
        let (text, _) = encode_event(WorkerEvent::Snapshot(snapshot));
        let Ok(WorkerEvent::Snapshot(back)) = decode_event(&text, vec![]) else {
            panic!("{text:?} did not decode");
        };
        assert!(back.loss.is_nan());
        assert_eq!(back.new_losses[0].1, f32::INFINITY);
        assert_eq!(back.new_losses[1].1, f32::NEG_INFINITY);
        assert_eq!(back.new_losses[2], (3, 0.5));
        assert!(back.metrics[0].1.is_nan());
    }

    #[test]
    fn decode_refuses_mismatched_tensors() {
        let snapshot = Snapshot {
            tensors: vec![NamedTensor::new("grid", vec![2], vec![1.0, 2.0])],
            ..Snapshot::default()
        };
        let (text, _) = encode_event(WorkerEvent::Snapshot(snapshot));
        assert!(decode_event(&text, vec![]).is_err());
        assert!(decode_event(&text, vec![vec![1.0]]).is_err());
        assert!(decode_event(b"not a message", vec![]).is_err());
    }

    #[test]
    fn only_data_and_architecture_changes_restart() {
        assert!(!Hyper::LearningRate(0.1).restarts_run());
        assert!(!Hyper::BatchSize(8).restarts_run());
        assert!(!Hyper::Speed(SpeedChoice::Slow).restarts_run());
        assert!(Hyper::Dataset(DatasetChoice::Moons).restarts_run());
        assert!(Hyper::Hidden(vec![4]).restarts_run());
    }

    #[test]
    fn keys_round_trip() {
        for d in DatasetChoice::ALL {
            assert_eq!(DatasetChoice::from_key(d.key()), Some(d));
        }
        for a in ActivationChoice::ALL {
            assert_eq!(ActivationChoice::from_key(a.key()), Some(a));
        }
        for o in OptimizerChoice::ALL {
            assert_eq!(OptimizerChoice::from_key(o.key()), Some(o));
        }
        for speed in SpeedChoice::ALL {
            assert_eq!(SpeedChoice::from_key(speed.key()), Some(speed));
        }
        assert_eq!(DatasetChoice::from_key("nope"), None);
    }
}

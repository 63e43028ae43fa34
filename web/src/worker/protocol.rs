//! The envelope of every message between a lab page and the training
//! worker: configure, start, pause, step, reset, a hyperparameter or a
//! command of the lab's own, and the snapshots that come back. What a lab
//! puts inside (its settings, hyperparameters, commands, replies and the
//! names of its tensors) is defined in the lab's folder, by a type that
//! implements [`LabProtocol`], and travels here as bytes.
//!
//! Messages are encoded with postcard (serde's compact binary format) and
//! travel as a `Uint8Array`; tensors travel beside them as `Float32Array`s
//! whose buffers are *transferred*, not copied, so a 96x96x3 heatmap costs
//! no clone on either side. [`Snapshot::tensors`] names each array and its
//! shape, in order.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A lab's side of the protocol, shared by its page and its trainer so the
/// two cannot drift apart. Implemented by a unit type in the lab's folder.
pub trait LabProtocol: 'static {
    /// The lab's route, without the slash; also how the worker finds it.
    const SLUG: &'static str;
    /// Everything that defines a run, except the seed and the speed.
    type Settings: Serialize + DeserializeOwned + Clone + PartialEq + Default + core::fmt::Debug;
    /// A change the lab makes while it trains (or by starting again).
    type Hyper: Serialize + DeserializeOwned + Clone + core::fmt::Debug;
    /// The lab's own commands (classify a drawing, sample, step only D...).
    type Command: Serialize + DeserializeOwned + Clone + core::fmt::Debug;
    /// The answers to those commands.
    type Reply: Serialize + DeserializeOwned + Clone + core::fmt::Debug;
}

/// Encodes one of a lab's values for the envelope.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising plain data into a Vec cannot fail.
    postcard::to_allocvec(value).unwrap_or_default()
}

/// Decodes one of a lab's values; `what` names it in the error.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, String> {
    postcard::from_bytes(bytes).map_err(|e| format!("bad {what} from the page: {e}"))
}

crate::choice! {
    /// Which optimizer updates the weights (any lab may offer it).
    pub enum OptimizerChoice {
        Adam = ("adam", "Adam"),
        /// SGD with momentum 0.9.
        Sgd = ("sgd", "SGD + momentum"),
    }
}

impl OptimizerChoice {
    /// The optimizer this choice names, at `learning_rate` (what every
    /// lab's trainer builds, and builds again when the choice changes).
    pub fn build(self, learning_rate: f32) -> deepplay_core::optim::Optimizer {
        use deepplay_core::optim::Optimizer;
        match self {
            OptimizerChoice::Adam => Optimizer::adam(learning_rate),
            OptimizerChoice::Sgd => Optimizer::sgd(learning_rate, 0.9, 0.0),
        }
    }
}

crate::choice! {
    /// How fast the worker trains: flat out, or slowly enough to watch.
    pub enum SpeedChoice {
        Full = ("full", "Full speed"),
        /// About 100 steps a second.
        Slow = ("slow", "Slow (100 steps/s)"),
        /// About 10 steps a second.
        VerySlow = ("veryslow", "Very slow (10 steps/s)"),
    }
}

impl SpeedChoice {
    /// The step rate limit, if any.
    pub fn steps_per_second(self) -> Option<f64> {
        match self {
            Self::Full => None,
            Self::Slow => Some(100.0),
            Self::VerySlow => Some(10.0),
        }
    }
}

/// A run of a lab as a page holds it: the lab's settings, the seed that
/// makes it reproducible, and how fast it plays (not part of its result).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Run<S> {
    pub settings: S,
    pub seed: u64,
    pub speed: SpeedChoice,
}

/// Page -> worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Build the lab `lab` from its encoded settings and `seed` (fetching
    /// the datasets it needs first), step 0, paused.
    Configure {
        lab: String,
        seed: u64,
        speed: SpeedChoice,
        settings: Vec<u8>,
    },
    Start,
    Pause,
    /// Train exactly one step (pauses first if running).
    StepOnce,
    /// The same settings from this seed: fresh weights and data, step 0, paused.
    Reset {
        seed: u64,
    },
    SetSpeed(SpeedChoice),
    /// One of the lab's hyperparameters, encoded.
    SetHyper(Vec<u8>),
    /// One of the lab's own commands, encoded.
    Lab(Vec<u8>),
    /// Send the current weights as a safetensors file.
    ExportWeights,
    /// Replace the weights with those of a safetensors file (all or nothing).
    ImportWeights {
        bytes: Vec<u8>,
    },
}

/// A tensor travelling beside the message: its name and shape. The data is
/// the `Float32Array` at the same index in the message's `buffers`.
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

/// One named loss curve of a lab (`loss`; or `rnn` and `gru`; or
/// `generator` and `discriminator`): its latest value and every point
/// since the previous snapshot, so the chart misses nothing even though
/// snapshots are rarer than steps.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LossSeries {
    pub name: String,
    pub latest: f32,
    pub new_points: Vec<(u64, f32)>,
}

/// What the worker is busy with before it can train (fetching a dataset).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub text: String,
    /// Fraction done, when known.
    pub progress: Option<f32>,
}

/// The worker's state as a lab page draws it. Sent at a bounded rate
/// (see [`SNAPSHOT_INTERVAL_MS`]), and at once after every command.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Steps trained since the last reset.
    pub step: u64,
    /// The lab's loss curves, in the lab's order (the first is its main one).
    pub losses: Vec<LossSeries>,
    /// Named scalars, e.g. `("accuracy", 0.93)` (fractions in [0, 1]).
    pub metrics: Vec<(String, f32)>,
    /// Named counts and indices, e.g. the step a test pass was made at.
    pub integers: Vec<(String, u64)>,
    pub running: bool,
    /// Training steps per second over the last interval (0 when paused).
    pub steps_per_second: f32,
    /// True when this snapshot starts a new run (after a reset or a config
    /// change): the page clears its history first.
    pub fresh_run: bool,
    /// Something went wrong (for example the loss became NaN); training is
    /// paused and this text tells the visitor how to recover.
    pub error: Option<String>,
    /// What the worker is busy with before it can train.
    pub status: Option<Status>,
    /// The worker's WebAssembly memory in bytes when it sent this (filled
    /// in as the message leaves, see `runtime::WorkerHost`). A wasm memory
    /// never shrinks, so this is its high-water mark: what `make soak`
    /// watches for leaks.
    pub worker_memory: u64,
    /// Travel beside the message, see [`encode_event`].
    #[serde(skip)]
    pub tensors: Vec<NamedTensor>,
}

impl Snapshot {
    /// The latest value of the main loss (NaN before the first step).
    pub fn loss(&self) -> f32 {
        self.losses.first().map_or(f32::NAN, |s| s.latest)
    }

    pub fn series(&self, name: &str) -> Option<&LossSeries> {
        self.losses.iter().find(|s| s.name == name)
    }

    pub fn metric(&self, name: &str) -> Option<f32> {
        self.metrics.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    pub fn integer(&self, name: &str) -> Option<u64> {
        self.integers.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
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
    /// The answer to one of the lab's own commands, encoded.
    Reply(Vec<u8>),
    /// Something the visitor asked for was refused (a weights file that
    /// does not fit, a drawing that could not be read); the run goes on
    /// untouched and the page shows this until the visitor acts again.
    Notice(String),
    /// The answer to [`Command::ExportWeights`]: a safetensors file.
    Weights {
        file_name: String,
        bytes: Vec<u8>,
    },
}

/// Snapshots go out at most this often while training (20 per second).
pub const SNAPSHOT_INTERVAL_MS: f64 = 50.0;
/// Heavier tensors (heatmaps, feature maps) go out at most this often.
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

pub fn encode_command(command: &Command) -> Vec<u8> {
    encode(command)
}

pub fn decode_command(bytes: &[u8]) -> Result<Command, String> {
    decode(bytes, "command")
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
    (encode(&envelope), tensors)
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
    fn every_command_round_trips() {
        let commands = [
            Command::Configure {
                lab: "cnn".into(),
                seed: 3,
                speed: SpeedChoice::Slow,
                settings: vec![1, 2, 3],
            },
            Command::Start,
            Command::Pause,
            Command::StepOnce,
            Command::Reset { seed: 7 },
            Command::SetSpeed(SpeedChoice::VerySlow),
            Command::SetHyper(encode(&0.5f32)),
            Command::Lab(encode(&vec![0.25f32; 4])),
            Command::ExportWeights,
            Command::ImportWeights { bytes: vec![0, 255, 7] },
        ];
        for command in commands {
            assert_eq!(decode_command(&encode_command(&command)), Ok(command));
        }
        assert!(decode_command(&[250, 1]).is_err());
    }

    #[test]
    fn every_event_round_trips() {
        let events = [
            WorkerEvent::Ready,
            WorkerEvent::Reply(vec![9, 8]),
            WorkerEvent::Notice("refused".into()),
            WorkerEvent::Weights {
                file_name: "w.safetensors".into(),
                bytes: vec![1, 2],
            },
        ];
        for event in events {
            let (bytes, tensors) = encode_event(event.clone());
            assert!(tensors.is_empty());
            assert_eq!(decode_event(&bytes, vec![]), Ok(event));
        }
    }

    #[test]
    fn snapshot_round_trips_with_tensors_beside_the_message() {
        let snapshot = Snapshot {
            step: 12,
            losses: vec![
                LossSeries {
                    name: "rnn".into(),
                    latest: 0.5,
                    new_points: vec![(11, 0.6), (12, 0.5)],
                },
                LossSeries {
                    name: "gru".into(),
                    latest: 0.25,
                    new_points: vec![(11, 0.3), (12, 0.25)],
                },
            ],
            metrics: vec![("accuracy".into(), 0.75)],
            integers: vec![("test_step".into(), 12)],
            status: Some(Status {
                text: "loading".into(),
                progress: Some(0.5),
            }),
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
        let back = decode_event(&text, buffers);
        assert_eq!(back, Ok(WorkerEvent::Snapshot(snapshot)));
        let Ok(WorkerEvent::Snapshot(back)) = back else {
            unreachable!()
        };
        assert_eq!(back.loss(), 0.5);
        assert_eq!(back.series("gru").map(|s| s.latest), Some(0.25));
        assert_eq!(back.integer("test_step"), Some(12));
    }

    #[test]
    fn non_finite_floats_survive_the_trip() {
        let snapshot = Snapshot {
            losses: vec![LossSeries {
                name: "loss".into(),
                latest: f32::NAN,
                new_points: vec![(1, f32::INFINITY), (2, f32::NEG_INFINITY), (3, 0.5)],
            }],
            metrics: vec![("accuracy".into(), f32::NAN)],
            ..Snapshot::default()
        };
        let (text, _) = encode_event(WorkerEvent::Snapshot(snapshot));
        let Ok(WorkerEvent::Snapshot(back)) = decode_event(&text, vec![]) else {
            panic!("{text:?} did not decode");
        };
        assert!(back.loss().is_nan());
        let points = &back.losses[0].new_points;
        assert_eq!(points[0].1, f32::INFINITY);
        assert_eq!(points[1].1, f32::NEG_INFINITY);
        assert_eq!(points[2], (3, 0.5));
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
    fn shared_choices_round_trip() {
        for &o in OptimizerChoice::ALL {
            assert_eq!(OptimizerChoice::from_key(o.key()), Some(o));
        }
        for &s in SpeedChoice::ALL {
            assert_eq!(SpeedChoice::from_key(s.key()), Some(s));
        }
        assert_eq!(SpeedChoice::Full.steps_per_second(), None);
    }
}

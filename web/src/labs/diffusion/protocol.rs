//! What the Diffusion lab's page and trainer send each other.

use serde::{Deserialize, Serialize};

use crate::worker::protocol::{LabProtocol, OptimizerChoice};

/// The Diffusion lab's side of the protocol.
pub struct DiffusionProtocol;

impl LabProtocol for DiffusionProtocol {
    const SLUG: &'static str = "diffusion";
    type Settings = DiffusionSettings;
    type Hyper = Hyper;
    type Command = Command;
    type Reply = ();
}

crate::choice! {
    /// The 2-D distribution the model learns.
    pub enum DataChoice {
        Ring = ("ring", "Ring of 8 Gaussians"),
        Moons = ("moons", "Two moons"),
        Swiss = ("swiss", "Swiss roll"),
        Drawn = ("drawn", "Your own points"),
    }
}

crate::choice! {
    /// How the noise grows over the timesteps.
    pub enum ScheduleChoice {
        Linear = ("linear", "Linear (DDPM)"),
        Cosine = ("cosine", "Cosine (Improved DDPM)"),
    }
}

crate::choice! {
    /// How samples are drawn.
    pub enum SamplerChoice {
        Ddpm = ("ddpm", "DDPM: every step, with noise"),
        Ddim = ("ddim", "DDIM: fewer steps"),
    }
}

crate::choice! {
    /// The nonlinearity between the denoiser's layers.
    pub enum ActivationChoice {
        Relu = ("relu", "ReLU"),
        Gelu = ("gelu", "GELU"),
        Tanh = ("tanh", "tanh"),
    }
}

/// Everything that defines a run besides its seed: the same settings and
/// seed give the same run, step for step, and the same samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiffusionSettings {
    pub data: DataChoice,
    /// The visitor's points, in data units ([-3, 3] on both axes); used
    /// when `data` is [`DataChoice::Drawn`].
    pub drawn: Vec<[f32; 2]>,
    pub schedule: ScheduleChoice,
    /// Timesteps T of the forward process.
    pub steps: usize,
    pub sampler: SamplerChoice,
    /// Steps DDIM takes (at most T).
    pub ddim_steps: usize,
    /// DDIM's eta: 0 deterministic, 1 as noisy as DDPM.
    pub eta: f32,
    /// Units per hidden layer of the denoiser.
    pub width: usize,
    pub layers: usize,
    pub activation: ActivationChoice,
    pub optimizer: OptimizerChoice,
    pub learning_rate: f32,
    pub batch_size: usize,
}

impl Default for DiffusionSettings {
    fn default() -> Self {
        Self {
            data: DataChoice::Ring,
            drawn: Vec::new(),
            schedule: ScheduleChoice::Linear,
            steps: 100,
            sampler: SamplerChoice::Ddpm,
            ddim_steps: 20,
            eta: 0.0,
            width: 64,
            layers: 3,
            activation: ActivationChoice::Relu,
            optimizer: OptimizerChoice::Adam,
            learning_rate: 0.002,
            batch_size: 256,
        }
    }
}

/// The seed of a run when the URL names none.
pub const DEFAULT_SEED: u64 = 1;

/// One change. Learning rate, batch size and optimizer apply to the running
/// model, the sampler's settings to the next samples; the rest change the
/// data, the noise or the model, so the trainer starts again at step 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Hyper {
    LearningRate(f32),
    BatchSize(usize),
    Optimizer(OptimizerChoice),
    Sampler(SamplerChoice),
    DdimSteps(usize),
    Eta(f32),
    Data(DataChoice),
    Drawn(Vec<[f32; 2]>),
    Schedule(ScheduleChoice),
    Steps(usize),
    Width(usize),
    Layers(usize),
    Activation(ActivationChoice),
}

impl Hyper {
    /// The settings with this change made.
    pub fn apply(&self, settings: &mut DiffusionSettings) {
        match self {
            Hyper::LearningRate(v) => settings.learning_rate = *v,
            Hyper::BatchSize(v) => settings.batch_size = *v,
            Hyper::Optimizer(v) => settings.optimizer = *v,
            Hyper::Sampler(v) => settings.sampler = *v,
            Hyper::DdimSteps(v) => settings.ddim_steps = *v,
            Hyper::Eta(v) => settings.eta = *v,
            Hyper::Data(v) => settings.data = *v,
            Hyper::Drawn(v) => {
                settings.drawn = v.clone();
                settings.data = DataChoice::Drawn;
            }
            Hyper::Schedule(v) => settings.schedule = *v,
            Hyper::Steps(v) => settings.steps = *v,
            Hyper::Width(v) => settings.width = *v,
            Hyper::Layers(v) => settings.layers = *v,
            Hyper::Activation(v) => settings.activation = *v,
        }
    }

    /// Whether the change throws away the trained weights.
    pub fn restarts_run(&self) -> bool {
        !matches!(
            self,
            Hyper::LearningRate(_)
                | Hyper::BatchSize(_)
                | Hyper::Optimizer(_)
                | Hyper::Sampler(_)
                | Hyper::DdimSteps(_)
                | Hyper::Eta(_)
        )
    }
}

/// The lab's own commands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Draw fresh samples with the current weights (in the background).
    Sample,
}

/// Samples drawn each time (and fresh data points, and noise, to compare).
pub const SAMPLES: usize = 1000;
/// Held-out data points the samples are measured against.
pub const HELD_OUT: usize = 2000;
/// Data points noised in the forward-process strip.
pub const STRIP_POINTS: usize = 400;
/// Frames of a sampling sent to the page at most (every k-th step beyond).
pub const MAX_FRAMES: usize = 101;
/// Timestep buckets of the loss-by-noise-level chart.
pub const LOSS_BUCKETS: usize = 10;

/// The names of the tensors the trainer sends.
pub mod tensors {
    /// Held-out data points, `[n, 2]`.
    pub const DATA: &str = "data";
    /// The forward process on data points: `[k, n, 2]`, at the timesteps
    /// of [`STRIP_T`] (0 is the clean data).
    pub const STRIP: &str = "strip";
    /// `[k]`: the timestep of each strip frame.
    pub const STRIP_T: &str = "strip_t";
    /// `[2, T]`: beta_t, then alpha-bar_t, for t = 1..T.
    pub const SCHEDULE: &str = "schedule";
    /// `[buckets]`: the recent noise-guess error at each band of timesteps.
    pub const LOSS_BY_T: &str = "loss_by_t";
    /// The reverse process of the last samples: `[frames, n, 2]`, from
    /// pure noise to the samples.
    pub const FRAMES: &str = "frames";
    /// `[frames]`: the timestep of each frame (T for the noise, 0 at the end).
    pub const FRAME_T: &str = "frame_t";
    /// `[frames - 1, n, 2]`: the noise the model predicted at each frame,
    /// the direction it pushes the points away from.
    pub const ARROWS: &str = "arrows";
}

/// The names of the metrics the trainer sends.
pub mod metrics {
    /// Sliced Wasserstein distance of the last samples to held-out data.
    pub const SAMPLE_QUALITY: &str = "sample_quality";
    /// The same for Gaussian noise: where sampling starts.
    pub const NOISE_QUALITY: &str = "noise_quality";
    /// The same for fresh data points: what a perfect model scores.
    pub const DATA_QUALITY: &str = "data_quality";
    /// Milliseconds per training step, the mean over the run.
    pub const STEP_MS: &str = "step_ms";
    /// Milliseconds the last sampling took (its own work only).
    pub const SAMPLE_MS: &str = "sample_ms";
    /// How far the sampling under way has got, 0 to 1.
    pub const SAMPLING: &str = "sampling";
}

/// The names of the integers the trainer sends.
pub mod integers {
    /// Trainable parameters.
    pub const PARAMS: &str = "params";
    /// The training step the last samples were drawn at.
    pub const SAMPLED_AT: &str = "sampled_at";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_data_noise_and_model_changes_restart() {
        for live in [
            Hyper::LearningRate(0.1),
            Hyper::Sampler(SamplerChoice::Ddim),
            Hyper::DdimSteps(10),
            Hyper::Eta(1.0),
        ] {
            assert!(!live.restarts_run(), "{live:?}");
        }
        assert!(Hyper::Steps(50).restarts_run() && Hyper::Drawn(vec![]).restarts_run());
        let mut s = DiffusionSettings::default();
        Hyper::Drawn(vec![[1.0, 2.0]]).apply(&mut s);
        Hyper::Schedule(ScheduleChoice::Cosine).apply(&mut s);
        assert_eq!((s.data, s.drawn.len(), s.schedule), (DataChoice::Drawn, 1, ScheduleChoice::Cosine));
    }

    #[test]
    fn messages_round_trip_through_the_envelope() {
        use crate::worker::protocol::{decode, encode};
        for h in [Hyper::Drawn(vec![[0.5, -1.0]; 3]), Hyper::Eta(0.5), Hyper::Data(DataChoice::Swiss)] {
            assert_eq!(decode::<Hyper>(&encode(&h), "hyper"), Ok(h));
        }
        let s = DiffusionSettings::default();
        assert_eq!(decode::<DiffusionSettings>(&encode(&s), "settings"), Ok(s));
        assert_eq!(decode::<Command>(&encode(&Command::Sample), "command"), Ok(Command::Sample));
    }
}

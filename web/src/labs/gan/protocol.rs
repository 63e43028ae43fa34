//! What the GAN lab's page and trainer send each other.

use serde::{Deserialize, Serialize};

use crate::worker::protocol::{LabProtocol, OptimizerChoice};

/// The GAN lab's side of the protocol.
pub struct GanProtocol;

impl LabProtocol for GanProtocol {
    const SLUG: &'static str = "gan";
    type Settings = GanSettings;
    type Hyper = Hyper;
    type Command = Command;
    type Reply = ();
}

crate::choice! {
    /// The 2-D distribution the generator learns to imitate.
    pub enum DataChoice {
        Ring = ("ring", "Ring of 8 Gaussians"),
        Grid = ("grid", "Grid of 25 Gaussians"),
        Moons = ("moons", "Two moons"),
        Line = ("line", "A line"),
        Spiral = ("spiral", "Spiral"),
        Drawn = ("drawn", "Your own points"),
    }
}

crate::choice! {
    /// What the two networks optimise.
    pub enum LossChoice {
        NonSaturating = ("ns", "Non-saturating"),
        Minimax = ("minimax", "Minimax (original)"),
        LeastSquares = ("lsgan", "Least squares"),
        Wasserstein = ("wgan-gp", "Wasserstein-GP"),
    }
}

crate::choice! {
    /// The nonlinearity between a network's layers (the ones WGAN-GP's
    /// penalty can differentiate twice).
    pub enum ActivationChoice {
        Relu = ("relu", "ReLU"),
        Tanh = ("tanh", "tanh"),
        Sigmoid = ("sigmoid", "sigmoid"),
    }
}

/// One network's shape and how it learns.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetSettings {
    pub width: usize,
    pub layers: usize,
    pub activation: ActivationChoice,
    pub optimizer: OptimizerChoice,
    pub learning_rate: f32,
}

impl Default for NetSettings {
    fn default() -> Self {
        Self {
            width: 64,
            layers: 2,
            activation: ActivationChoice::Relu,
            optimizer: OptimizerChoice::Adam,
            // Measured over 2-minute runs from 5 seeds (README): 0.001
            // covers the ring's 8 modes in 2 s but then loses some of them
            // for stretches as the game oscillates; 0.0002 takes 6 s and keeps them.
            learning_rate: 0.0002,
        }
    }
}

/// Everything that defines a run besides its seed: the same settings and
/// seed give the same run, step for step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GanSettings {
    pub data: DataChoice,
    /// The visitor's points, in data units ([-3, 3] on both axes); used
    /// when `data` is [`DataChoice::Drawn`].
    pub drawn: Vec<[f32; 2]>,
    pub loss: LossChoice,
    /// Dimensions of the generator's noise.
    pub noise_dim: usize,
    pub generator: NetSettings,
    pub discriminator: NetSettings,
    /// Discriminator steps per generator step.
    pub d_steps: usize,
    pub batch_size: usize,
    /// WGAN-GP's lambda.
    pub gradient_penalty: f32,
}

impl Default for GanSettings {
    fn default() -> Self {
        Self {
            data: DataChoice::Ring,
            drawn: Vec::new(),
            loss: LossChoice::NonSaturating,
            noise_dim: 2,
            generator: NetSettings::default(),
            discriminator: NetSettings::default(),
            d_steps: 1,
            batch_size: 256,
            gradient_penalty: 10.0,
        }
    }
}

/// The seed of a run when the URL names none.
pub const DEFAULT_SEED: u64 = 1;

/// Which of the two networks a change is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Net {
    Generator,
    Discriminator,
}

/// One change. Learning rates, optimizers, batch size, D steps and the
/// penalty's weight apply to the running networks; the rest change the
/// data or a network's shape, so the trainer starts again at step 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Hyper {
    LearningRate(Net, f32),
    Optimizer(Net, OptimizerChoice),
    Width(Net, usize),
    Layers(Net, usize),
    Activation(Net, ActivationChoice),
    BatchSize(usize),
    DSteps(usize),
    GradientPenalty(f32),
    Data(DataChoice),
    Drawn(Vec<[f32; 2]>),
    Loss(LossChoice),
    NoiseDim(usize),
}

impl GanSettings {
    pub fn net(&self, net: Net) -> &NetSettings {
        match net {
            Net::Generator => &self.generator,
            Net::Discriminator => &self.discriminator,
        }
    }

    fn net_mut(&mut self, net: Net) -> &mut NetSettings {
        match net {
            Net::Generator => &mut self.generator,
            Net::Discriminator => &mut self.discriminator,
        }
    }
}

impl Hyper {
    /// The settings with this change made.
    pub fn apply(&self, settings: &mut GanSettings) {
        match self {
            Hyper::LearningRate(n, v) => settings.net_mut(*n).learning_rate = *v,
            Hyper::Optimizer(n, v) => settings.net_mut(*n).optimizer = *v,
            Hyper::Width(n, v) => settings.net_mut(*n).width = *v,
            Hyper::Layers(n, v) => settings.net_mut(*n).layers = *v,
            Hyper::Activation(n, v) => settings.net_mut(*n).activation = *v,
            Hyper::BatchSize(v) => settings.batch_size = *v,
            Hyper::DSteps(v) => settings.d_steps = *v,
            Hyper::GradientPenalty(v) => settings.gradient_penalty = *v,
            Hyper::Data(v) => settings.data = *v,
            Hyper::Drawn(v) => {
                settings.drawn = v.clone();
                settings.data = DataChoice::Drawn;
            }
            Hyper::Loss(v) => settings.loss = *v,
            Hyper::NoiseDim(v) => settings.noise_dim = *v,
        }
    }

    /// Whether the change throws away the trained weights.
    pub fn restarts_run(&self) -> bool {
        !matches!(
            self,
            Hyper::LearningRate(..)
                | Hyper::Optimizer(..)
                | Hyper::BatchSize(_)
                | Hyper::DSteps(_)
                | Hyper::GradientPenalty(_)
        )
    }
}

/// The lab's own commands: one update of one network, to watch the game a
/// move at a time (while paused).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    StepDiscriminator,
    StepGenerator,
}

/// Fakes drawn from fixed noise for the picture (the same noise every
/// time, so the picture shows the generator moving, not the noise).
pub const SHOWN: usize = 500;
/// Fakes (from fixed noise) measured against held-out data.
pub const MEASURED: usize = 1000;
/// Held-out data points the fakes are measured against.
pub const HELD_OUT: usize = 2000;
/// The discriminator's heatmap: this many cells a side over the plot.
pub const HEATMAP_SIZE: usize = 48;
/// The manifold grid: this many noise values a side (1-D noise: a line of
/// MANIFOLD_LINE).
pub const MANIFOLD_GRID: usize = 21;
pub const MANIFOLD_LINE: usize = 81;
/// Noise values of the manifold span [-MANIFOLD_EXTENT, MANIFOLD_EXTENT]
/// (about 98% of a standard normal).
pub const MANIFOLD_EXTENT: f32 = 2.5;
/// A mode counts as covered when it holds at least this share of the
/// samples an even spread over the modes would give it...
pub const MODE_MIN_SHARE: f32 = 0.25;
/// ...counting the samples within this many of its standard deviations.
pub const MODE_RADIUS: f32 = 3.0;
/// A discriminator loss under this (non-saturating, minimax and least
/// squares)...
pub const D_WINS_LOSS: f32 = 0.01;
/// ...for this many steps in a row means the discriminator has won and the
/// generator learns nothing: the page warns.
pub const D_WINS_STEPS: u64 = 1000;

/// The names of the tensors the trainer sends.
pub mod tensors {
    /// Held-out data points, `[n, 2]`.
    pub const DATA: &str = "data";
    /// The fakes from the fixed noise, `[SHOWN, 2]`.
    pub const SAMPLES: &str = "samples";
    /// Where the discriminator pushes each fake, `[SHOWN, 2]`: minus the
    /// gradient of the generator's loss at it.
    pub const PUSH: &str = "push";
    /// `[HEATMAP_SIZE, HEATMAP_SIZE]`, row 0 at the top: how real the
    /// discriminator finds each cell, in [0, 1] (its probability; for least
    /// squares its score clamped; for Wasserstein its score scaled over the plot).
    pub const HEATMAP: &str = "heatmap";
    /// The manifold: `[rows, cols, 2]`, where the generator sends a grid
    /// of noise values (rows 1 for 1-D noise). Absent for noise of 3 or
    /// more dimensions.
    pub const MANIFOLD: &str = "manifold";
    /// The modes' centres, `[m, 2]` (ring and grid only).
    pub const MODES: &str = "modes";
    /// Measured fakes near each mode, `[m]`.
    pub const MODE_COUNTS: &str = "mode_counts";
}

/// The names of the metrics the trainer sends.
pub mod metrics {
    /// Sliced Wasserstein distance of MEASURED fakes to held-out data.
    pub const SAMPLE_QUALITY: &str = "sample_quality";
    /// The same for a single Gaussian fitted to the data: the score to beat.
    pub const GAUSSIAN_QUALITY: &str = "gaussian_quality";
    /// The same for fresh data points: what a perfect generator scores.
    pub const DATA_QUALITY: &str = "data_quality";
    /// The share of measured fakes near no mode (ring and grid).
    pub const OFF_MODE: &str = "off_mode";
    /// The discriminator's mean output on real and on fake points in its
    /// last step (probabilities for the logit losses).
    pub const REAL_SCORE: &str = "real_score";
    pub const FAKE_SCORE: &str = "fake_score";
    /// WGAN-GP's penalty in the last step.
    pub const PENALTY: &str = "penalty";
    /// Milliseconds per training step (k D updates and one G update).
    pub const STEP_MS: &str = "step_ms";
}

/// The names of the integers the trainer sends.
pub mod integers {
    pub const GENERATOR_PARAMS: &str = "generator_params";
    pub const DISCRIMINATOR_PARAMS: &str = "discriminator_params";
    /// Modes the measured fakes cover (ring and grid).
    pub const MODES_COVERED: &str = "modes_covered";
    /// Updates each network has had (step-d / step-g count too).
    pub const D_UPDATES: &str = "d_updates";
    pub const G_UPDATES: &str = "g_updates";
    /// Steps in a row the discriminator's loss has stayed near zero.
    pub const D_WINS_FOR: &str = "d_wins_for";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_data_loss_and_shape_changes_restart() {
        for live in [
            Hyper::LearningRate(Net::Generator, 0.1),
            Hyper::Optimizer(Net::Discriminator, OptimizerChoice::Sgd),
            Hyper::DSteps(3),
            Hyper::GradientPenalty(1.0),
        ] {
            assert!(!live.restarts_run(), "{live:?}");
        }
        assert!(Hyper::NoiseDim(1).restarts_run() && Hyper::Width(Net::Generator, 8).restarts_run());
        let mut s = GanSettings::default();
        Hyper::Width(Net::Discriminator, 32).apply(&mut s);
        Hyper::LearningRate(Net::Generator, 0.01).apply(&mut s);
        Hyper::Drawn(vec![[1.0, 2.0]]).apply(&mut s);
        assert_eq!((s.discriminator.width, s.generator.width), (32, 64));
        assert_eq!(s.generator.learning_rate, 0.01);
        assert_eq!((s.data, s.drawn.len()), (DataChoice::Drawn, 1));
    }

    #[test]
    fn messages_round_trip_through_the_envelope() {
        use crate::worker::protocol::{decode, encode};
        for h in [
            Hyper::Drawn(vec![[0.5, -1.0]; 3]),
            Hyper::LearningRate(Net::Discriminator, 0.5),
            Hyper::Loss(LossChoice::Wasserstein),
        ] {
            assert_eq!(decode::<Hyper>(&encode(&h), "hyper"), Ok(h));
        }
        let s = GanSettings::default();
        assert_eq!(decode::<GanSettings>(&encode(&s), "settings"), Ok(s));
        for c in [Command::StepDiscriminator, Command::StepGenerator] {
            assert_eq!(decode::<Command>(&encode(&c), "command"), Ok(c));
        }
    }
}

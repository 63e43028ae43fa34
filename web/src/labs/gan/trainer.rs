//! The GAN lab's trainer: a generator and a discriminator, both small MLPs,
//! trained in turns on fresh batches of a 2-D distribution; what the page
//! draws (the fakes, the discriminator's view of the plane, where it pushes
//! the fakes, the noise-to-data manifold, mode coverage) is measured on
//! fixed noise, so that the picture shows the networks change and not the
//! dice. Plain Rust (no browser), tested natively; the worker's runtime
//! drives it through [`Lab`].

use deepplay_core::data::points::{fitted_gaussian, Modes, PointCloud, EXTENT};
use deepplay_core::layers::Activation;
use deepplay_core::limits;
use deepplay_core::metrics::{mode_coverage, sliced_wasserstein_2d};
use deepplay_core::models::gan::{DiscriminatorStats, Gan, GanConfig, GanLoss, NetConfig};
use deepplay_core::optim::{Adam, Optimizer};
use deepplay_core::{Module, Rng};

use super::protocol::{
    integers, metrics, tensors, ActivationChoice, Command, DataChoice, GanProtocol, GanSettings, Hyper, LossChoice,
    Net, NetSettings, D_WINS_LOSS, HEATMAP_SIZE, HELD_OUT, MANIFOLD_EXTENT, MANIFOLD_GRID, MANIFOLD_LINE, MEASURED,
    MODE_MIN_SHARE, MODE_RADIUS, SHOWN,
};
use crate::worker::datasets::Datasets;
use crate::worker::lab::{check_learning_rate, check_metadata, clock_ms, Applied, Lab, Losses};
use crate::worker::protocol::{NamedTensor, OptimizerChoice, Snapshot};

/// Projections of the sliced Wasserstein distance.
const PROJECTIONS: usize = 64;

/// A loss beyond this (either network's) means the run blew up.
const EXPLODED: f32 = 1e6;

pub fn cloud(s: &GanSettings) -> PointCloud {
    match s.data {
        DataChoice::Ring => PointCloud::Ring,
        DataChoice::Grid => PointCloud::Grid,
        DataChoice::Moons => PointCloud::Moons,
        DataChoice::Line => PointCloud::Line,
        DataChoice::Spiral => PointCloud::SwissRoll,
        DataChoice::Drawn => PointCloud::Drawn(s.drawn.clone()),
    }
}

fn activation(choice: ActivationChoice) -> Activation {
    match choice {
        ActivationChoice::Relu => Activation::Relu,
        ActivationChoice::Tanh => Activation::Tanh,
        ActivationChoice::Sigmoid => Activation::Sigmoid,
    }
}

fn loss(choice: LossChoice) -> GanLoss {
    match choice {
        LossChoice::NonSaturating => GanLoss::NonSaturating,
        LossChoice::Minimax => GanLoss::Minimax,
        LossChoice::LeastSquares => GanLoss::LeastSquares,
        LossChoice::Wasserstein => GanLoss::Wasserstein,
    }
}

fn net_config(n: &NetSettings) -> NetConfig {
    NetConfig {
        width: n.width,
        layers: n.layers,
        activation: activation(n.activation),
    }
}

pub fn gan_config(s: &GanSettings) -> GanConfig {
    GanConfig {
        noise_dim: s.noise_dim,
        generator: net_config(&s.generator),
        discriminator: net_config(&s.discriminator),
        loss: loss(s.loss),
        gradient_penalty: s.gradient_penalty,
    }
}

/// A network's optimizer. Adam with beta1 = 0.5, as DCGAN and most GANs
/// since: with the usual 0.9 the momentum carries each network past the
/// point the other has just moved, and the game oscillates more.
fn optimizer(n: &NetSettings) -> Optimizer {
    match n.optimizer {
        OptimizerChoice::Adam => {
            let mut adam = Adam::new(n.learning_rate);
            adam.beta1 = 0.5;
            Optimizer::Adam(adam)
        }
        other => other.build(n.learning_rate),
    }
}

/// The settings the core does not check when it builds, with the message a
/// visitor reads. (Sizes and noise dimension: `Gan::new`.)
pub fn validate(s: &GanSettings) -> Result<(), String> {
    let checks = [
        limits::BATCH_SIZE
            .check("gan", "batch size", s.batch_size)
            .map(|_| ()),
        limits::GAN_D_STEPS
            .check("gan", "discriminator steps per generator step", s.d_steps)
            .map(|_| ()),
        // The core checks it when it builds; here it is checked for a live change too.
        limits::GRADIENT_PENALTY
            .check("gan", "the gradient penalty's weight", s.gradient_penalty)
            .map(|_| ()),
        cloud(s).check(),
    ];
    checks
        .into_iter()
        .collect::<Result<(), _>>()
        .map_err(|e| e.to_string())?;
    check_learning_rate(s.generator.learning_rate)?;
    check_learning_rate(s.discriminator.learning_rate)
}

/// What the page draws, measured on the fixed noise.
struct Measured {
    samples: Vec<f32>,
    quality: f32,
    coverage: Option<deepplay_core::metrics::ModeCoverage>,
}

pub struct GanTrainer {
    settings: GanSettings,
    seed: u64,
    /// Draws training batches and noise.
    rng: Rng,
    cloud: PointCloud,
    modes: Option<Modes>,
    gan: Gan,
    d_optimizer: Optimizer,
    g_optimizer: Optimizer,
    held_out: Vec<f32>,
    /// Fixed noise: the first SHOWN rows are drawn, all MEASURED measured.
    noise: Vec<f32>,
    gaussian_quality: f32,
    data_quality: f32,
    last_d: Option<DiscriminatorStats>,
    measured: Option<Measured>,
    step: u64,
    d_updates: u64,
    g_updates: u64,
    d_wins_for: u64,
    total_ms: f64,
    diverged: Option<String>,
}

impl GanTrainer {
    pub fn new(settings: GanSettings, seed: u64) -> Result<Self, String> {
        validate(&settings)?;
        let cloud = cloud(&settings);
        let mut rng = Rng::new(seed);
        let gan = Gan::new(gan_config(&settings), &mut rng).map_err(|e| e.to_string())?;
        // Their own streams: the same held-out set, noise and baselines
        // whatever the networks or batch size.
        let held_out = cloud.sample(HELD_OUT, &mut Rng::new(seed ^ 0x6a11_0000));
        let mut baseline = Rng::new(seed ^ 0xba5e);
        let fitted = fitted_gaussian(&held_out, MEASURED, &mut baseline);
        let fresh = cloud.sample(MEASURED, &mut baseline);
        let noise = gan.noise(MEASURED, &mut Rng::new(seed ^ 0x2015e));
        Ok(Self {
            d_optimizer: optimizer(&settings.discriminator),
            g_optimizer: optimizer(&settings.generator),
            gaussian_quality: sliced_wasserstein_2d(&fitted, &held_out, PROJECTIONS),
            data_quality: sliced_wasserstein_2d(&fresh, &held_out, PROJECTIONS),
            modes: cloud.modes(),
            settings,
            seed,
            rng,
            cloud,
            gan,
            held_out,
            noise,
            last_d: None,
            measured: None,
            step: 0,
            d_updates: 0,
            g_updates: 0,
            d_wins_for: 0,
            total_ms: 0.0,
            diverged: None,
        })
    }

    fn check_alive(&self) -> Result<(), String> {
        match &self.diverged {
            Some(message) => Err(message.clone()),
            None => Ok(()),
        }
    }

    /// Stops the run for good (until Reset) when a loss or a weight is no
    /// longer a number, with what to change.
    fn check_diverged(&mut self, what: &str, value: f32) -> Result<(), String> {
        if value.is_finite() && value.abs() < EXPLODED && self.gan.is_finite() {
            return Ok(());
        }
        let s = &self.settings;
        let message = format!(
            "Training diverged: the {what}'s loss became {} at step {}. The learning rates (generator {}, \
             discriminator {}) are too high for this game: lower them (0.0002 with Adam is steady), or try \
             the Wasserstein loss, then press Reset to start again from fresh weights.",
            if value.is_finite() { format!("{value:.3e}") } else { "not a number".into() },
            self.step + 1,
            s.generator.learning_rate,
            s.discriminator.learning_rate,
        );
        self.diverged = Some(message.clone());
        Err(message)
    }

    /// One discriminator update on a fresh real batch.
    fn discriminator_update(&mut self) -> Result<f32, String> {
        let real = self.cloud.sample(self.settings.batch_size, &mut self.rng);
        let stats = self
            .gan
            .discriminator_step(&real, &mut self.rng, &mut self.d_optimizer)
            .map_err(|e| format!("Training step failed: {e}"))?;
        self.check_diverged("discriminator", stats.loss)?;
        self.d_updates += 1;
        self.last_d = Some(stats);
        // Only a probability-like loss can be "won": the Wasserstein critic's
        // loss has no floor at zero.
        let won = self.settings.loss != LossChoice::Wasserstein && stats.loss < D_WINS_LOSS;
        self.d_wins_for = if won { self.d_wins_for + 1 } else { 0 };
        Ok(stats.loss)
    }

    fn generator_update(&mut self) -> Result<f32, String> {
        let loss = self
            .gan
            .generator_step(self.settings.batch_size, &mut self.rng, &mut self.g_optimizer)
            .map_err(|e| format!("Training step failed: {e}"))?;
        self.check_diverged("generator", loss)?;
        self.g_updates += 1;
        Ok(loss)
    }

    /// k discriminator updates, then one generator update.
    pub fn train_step(&mut self) -> Result<Losses, String> {
        self.check_alive()?;
        let start = clock_ms();
        let mut d_loss = 0.0;
        for _ in 0..self.settings.d_steps {
            d_loss = self.discriminator_update()?;
        }
        let g_loss = self.generator_update()?;
        self.total_ms += clock_ms() - start;
        self.step += 1;
        self.measured = None;
        Ok(vec![("discriminator", d_loss), ("generator", g_loss)])
    }

    /// The fakes of the fixed noise, their distance to the data and the
    /// modes they cover (computed once per weights).
    fn measure(&mut self) -> &Measured {
        if self.measured.is_none() {
            let samples = self.gan.generate(&self.noise).unwrap_or_default();
            let quality = sliced_wasserstein_2d(&samples, &self.held_out, PROJECTIONS);
            let coverage = self
                .modes
                .as_ref()
                .map(|m| mode_coverage(&samples, &m.centres, MODE_RADIUS * m.spread, MODE_MIN_SHARE));
            self.measured = Some(Measured {
                samples,
                quality,
                coverage,
            });
        }
        self.measured.as_ref().expect("just measured")
    }

    /// Sliced Wasserstein distance of the fixed noise's fakes to the data.
    pub fn sample_quality(&mut self) -> f32 {
        self.measure().quality
    }

    /// Modes the fixed noise's fakes cover (ring and grid).
    pub fn modes_covered(&mut self) -> Option<usize> {
        self.measure().coverage.as_ref().map(|c| c.covered)
    }

    /// How real the discriminator finds each cell of the plot, in [0, 1],
    /// row 0 at the top.
    fn heatmap(&self) -> Vec<f32> {
        let n = HEATMAP_SIZE;
        let centre = |i: usize| (2.0 * (i as f32 + 0.5) / n as f32 - 1.0) * EXTENT;
        let mut points = Vec::with_capacity(2 * n * n);
        for row in 0..n {
            for col in 0..n {
                points.extend([centre(col), -centre(row)]);
            }
        }
        let scores = self.gan.discriminate(&points).unwrap_or_else(|_| vec![f32::NAN; n * n]);
        match self.settings.loss {
            LossChoice::NonSaturating | LossChoice::Minimax => {
                scores.iter().map(|&d| 1.0 / (1.0 + (-d).exp())).collect()
            }
            // Trained towards 1 on real points and 0 on fakes.
            LossChoice::LeastSquares => scores.iter().map(|d| d.clamp(0.0, 1.0)).collect(),
            // A critic's score has no scale: lowest to highest over the plot.
            LossChoice::Wasserstein => {
                let (lo, hi) = scores
                    .iter()
                    .filter(|v| v.is_finite())
                    .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
                let span = hi - lo;
                scores
                    .iter()
                    .map(|&d| if span > 0.0 { (d - lo) / span } else { 0.5 })
                    .collect()
            }
        }
    }

    /// Where the generator sends a grid of noise values (1-D and 2-D noise).
    fn manifold(&self) -> Option<(usize, usize, Vec<f32>)> {
        let value = |i: usize, n: usize| (2.0 * i as f32 / (n - 1) as f32 - 1.0) * MANIFOLD_EXTENT;
        let (rows, cols, z) = match self.settings.noise_dim {
            1 => (1, MANIFOLD_LINE, (0..MANIFOLD_LINE).map(|i| value(i, MANIFOLD_LINE)).collect()),
            2 => {
                let n = MANIFOLD_GRID;
                let mut z = Vec::with_capacity(2 * n * n);
                for row in 0..n {
                    for col in 0..n {
                        z.extend([value(col, n), value(row, n)]);
                    }
                }
                (n, n, z)
            }
            _ => return None,
        };
        self.gan.generate(&z).ok().map(|points| (rows, cols, points))
    }

    pub fn snapshot(&mut self, heavy: bool, fresh_run: bool) -> Snapshot {
        let mut snapshot = Snapshot::default();
        if self.step > 0 {
            snapshot
                .metrics
                .push((metrics::STEP_MS.into(), (self.total_ms / self.step as f64) as f32));
        }
        if let Some(d) = self.last_d {
            snapshot.metrics.push((metrics::REAL_SCORE.into(), d.real_score));
            snapshot.metrics.push((metrics::FAKE_SCORE.into(), d.fake_score));
            if self.settings.loss == LossChoice::Wasserstein {
                snapshot.metrics.push((metrics::PENALTY.into(), d.penalty));
            }
        }
        snapshot.integers.extend([
            (integers::D_UPDATES.into(), self.d_updates),
            (integers::G_UPDATES.into(), self.g_updates),
            (integers::D_WINS_FOR.into(), self.d_wins_for),
        ]);
        if fresh_run {
            snapshot.tensors.push(NamedTensor::new(
                tensors::DATA,
                vec![HELD_OUT / 2, 2],
                self.held_out[..HELD_OUT].to_vec(),
            ));
            if let Some(modes) = &self.modes {
                snapshot.tensors.push(NamedTensor::new(
                    tensors::MODES,
                    vec![modes.centres.len(), 2],
                    modes.centres.iter().flatten().copied().collect(),
                ));
            }
            snapshot.metrics.push((metrics::GAUSSIAN_QUALITY.into(), self.gaussian_quality));
            snapshot.metrics.push((metrics::DATA_QUALITY.into(), self.data_quality));
            snapshot.integers.extend([
                (integers::GENERATOR_PARAMS.into(), self.gan.generator.num_params() as u64),
                (
                    integers::DISCRIMINATOR_PARAMS.into(),
                    self.gan.discriminator.num_params() as u64,
                ),
            ]);
        }
        if heavy || fresh_run {
            let heatmap = self.heatmap();
            let manifold = self.manifold();
            let measured = self.measure();
            let shown = measured.samples[..(2 * SHOWN).min(measured.samples.len())].to_vec();
            snapshot.metrics.push((metrics::SAMPLE_QUALITY.into(), measured.quality));
            if let Some(c) = &measured.coverage {
                snapshot.integers.push((integers::MODES_COVERED.into(), c.covered as u64));
                snapshot.metrics.push((metrics::OFF_MODE.into(), c.off_mode));
                snapshot.tensors.push(NamedTensor::new(
                    tensors::MODE_COUNTS,
                    vec![c.counts.len()],
                    c.counts.iter().map(|&k| k as f32).collect(),
                ));
            }
            let push = self.gan.generator_push(&shown).unwrap_or_default();
            if push.len() == shown.len() {
                snapshot.tensors.push(NamedTensor::new(tensors::PUSH, vec![shown.len() / 2, 2], push));
            }
            snapshot
                .tensors
                .push(NamedTensor::new(tensors::SAMPLES, vec![shown.len() / 2, 2], shown));
            snapshot.tensors.push(NamedTensor::new(
                tensors::HEATMAP,
                vec![HEATMAP_SIZE, HEATMAP_SIZE],
                heatmap,
            ));
            if let Some((rows, cols, points)) = manifold {
                snapshot
                    .tensors
                    .push(NamedTensor::new(tensors::MANIFOLD, vec![rows, cols, 2], points));
            }
        }
        snapshot
    }

    pub fn set_hyper(&mut self, hyper: Hyper) -> Result<Applied, String> {
        let mut settings = self.settings.clone();
        hyper.apply(&mut settings);
        validate(&settings)?;
        if hyper.restarts_run() {
            *self = Self::new(settings, self.seed)?;
            return Ok(Applied::Restarted);
        }
        self.settings = settings;
        match hyper {
            Hyper::LearningRate(Net::Generator, lr) => self.g_optimizer.set_lr(lr),
            Hyper::LearningRate(Net::Discriminator, lr) => self.d_optimizer.set_lr(lr),
            // A new optimizer has no moments yet; the weights stay.
            Hyper::Optimizer(Net::Generator, _) => self.g_optimizer = optimizer(&self.settings.generator),
            Hyper::Optimizer(Net::Discriminator, _) => self.d_optimizer = optimizer(&self.settings.discriminator),
            Hyper::GradientPenalty(lambda) => self.gan.config.gradient_penalty = lambda,
            _ => {}
        }
        Ok(Applied::Live)
    }
}

impl Lab for GanTrainer {
    type Protocol = GanProtocol;

    fn build(settings: GanSettings, seed: u64, _data: &Datasets) -> Result<Self, String> {
        Self::new(settings, seed)
    }

    fn settings(&self) -> &GanSettings {
        &self.settings
    }

    fn step(&self) -> u64 {
        self.step
    }

    fn train_step(&mut self) -> Result<Losses, String> {
        GanTrainer::train_step(self)
    }

    fn snapshot(&mut self, heavy: bool, fresh_run: bool) -> Snapshot {
        GanTrainer::snapshot(self, heavy, fresh_run)
    }

    fn set_hyper(&mut self, hyper: Hyper) -> Result<Applied, String> {
        GanTrainer::set_hyper(self, hyper)
    }

    /// One update of one network; the page gets the picture after it.
    fn command(&mut self, command: Command) -> Result<Option<()>, String> {
        self.check_alive()?;
        match command {
            Command::StepDiscriminator => self.discriminator_update()?,
            Command::StepGenerator => self.generator_update()?,
        };
        self.measured = None;
        Ok(None)
    }

    /// `generator.net.0.weight`, ..., `discriminator.net.0.weight`, ...:
    /// two PyTorch `nn.Sequential`s of Linear layers with the activation
    /// between; the generator takes standard normal noise.
    fn export_weights(&self) -> Result<(String, Vec<u8>), String> {
        let s = &self.settings;
        let texts = [
            s.noise_dim.to_string(),
            s.generator.width.to_string(),
            s.generator.layers.to_string(),
            s.discriminator.width.to_string(),
            s.discriminator.layers.to_string(),
        ];
        let bytes = deepplay_core::safetensors::save(
            &self.gan,
            &[
                ("deepplay.lab", "gan"),
                ("data", s.data.key()),
                ("loss", s.loss.key()),
                ("noise_dim", &texts[0]),
                ("noise", "standard normal"),
                ("generator.width", &texts[1]),
                ("generator.hidden_layers", &texts[2]),
                ("generator.activation", s.generator.activation.key()),
                ("discriminator.width", &texts[3]),
                ("discriminator.hidden_layers", &texts[4]),
                ("discriminator.activation", s.discriminator.activation.key()),
            ],
        );
        Ok((
            format!("deepplay-gan-{}-{}-z{}.safetensors", s.data.key(), s.loss.key(), s.noise_dim),
            bytes,
        ))
    }

    fn import_weights(&mut self, bytes: &[u8]) -> Result<(), String> {
        let s = &self.settings;
        // Into a copy, so that a refused file changes nothing.
        let mut gan = self.gan.clone();
        let metadata = deepplay_core::safetensors::load(&mut gan, bytes).map_err(|e| {
            format!(
                "Could not load these weights: {e}. This lab needs a generator and a discriminator it exported \
                 with the same noise dimension ({}), widths ({} and {}) and hidden layers ({} and {}). The current \
                 weights are unchanged.",
                s.noise_dim, s.generator.width, s.discriminator.width, s.generator.layers, s.discriminator.layers
            )
        })?;
        let expect = [
            ("deepplay.lab", "gan".to_string()),
            ("loss", s.loss.key().to_string()),
        ];
        check_metadata(&metadata, &expect)?;
        self.gan = gan;
        self.d_optimizer = optimizer(&self.settings.discriminator);
        self.g_optimizer = optimizer(&self.settings.generator);
        self.diverged = None;
        self.d_wins_for = 0;
        self.measured = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> GanSettings {
        let net = NetSettings {
            width: 16,
            ..NetSettings::default()
        };
        GanSettings {
            generator: net,
            discriminator: net,
            batch_size: 64,
            ..GanSettings::default()
        }
    }

    fn weights(t: &GanTrainer, which: Net) -> Vec<Vec<f32>> {
        let net = match which {
            Net::Generator => &t.gan.generator,
            Net::Discriminator => &t.gan.discriminator,
        };
        net.params().iter().map(|p| p.value.iter().copied().collect()).collect()
    }

    #[test]
    fn the_first_snapshot_has_the_data_the_picture_and_the_baselines() {
        let mut trainer = GanTrainer::new(GanSettings::default(), 1).unwrap();
        let s = trainer.snapshot(false, true);
        assert_eq!(s.tensor(tensors::DATA).unwrap().shape, vec![HELD_OUT / 2, 2]);
        assert_eq!(s.tensor(tensors::SAMPLES).unwrap().shape, vec![SHOWN, 2]);
        assert_eq!(s.tensor(tensors::PUSH).unwrap().shape, vec![SHOWN, 2]);
        assert_eq!(s.tensor(tensors::MODES).unwrap().shape, vec![8, 2]);
        assert_eq!(s.tensor(tensors::MANIFOLD).unwrap().shape, vec![MANIFOLD_GRID, MANIFOLD_GRID, 2]);
        let heatmap = &s.tensor(tensors::HEATMAP).unwrap().data;
        assert_eq!(heatmap.len(), HEATMAP_SIZE * HEATMAP_SIZE);
        assert!(heatmap.iter().all(|p| (0.0..=1.0).contains(p)), "probabilities");
        let (gaussian, perfect) = (
            s.metric(metrics::GAUSSIAN_QUALITY).unwrap(),
            s.metric(metrics::DATA_QUALITY).unwrap(),
        );
        assert!(perfect < 0.6 * gaussian, "{perfect} vs {gaussian}");
        assert!(s.integer(integers::MODES_COVERED).is_some());
        // Light snapshots carry no tensors.
        assert!(trainer.snapshot(false, false).tensors.is_empty());
        // 1-D noise: the manifold is a line; 3-D: none.
        let mut line = GanTrainer::new(GanSettings { noise_dim: 1, ..small() }, 1).unwrap();
        let s = line.snapshot(true, false);
        assert_eq!(s.tensor(tensors::MANIFOLD).unwrap().shape, vec![1, MANIFOLD_LINE, 2]);
        let mut three = GanTrainer::new(GanSettings { noise_dim: 3, ..small() }, 1).unwrap();
        assert!(three.snapshot(true, false).tensor(tensors::MANIFOLD).is_none());
    }

    /// The lab's target, in small: closer to the data than the fitted
    /// Gaussian, and more modes covered than at the start.
    #[test]
    fn training_learns_the_ring() {
        let mut trainer = GanTrainer::new(GanSettings::default(), 2).unwrap();
        let (start_quality, start_modes) = (trainer.sample_quality(), trainer.modes_covered().unwrap());
        for _ in 0..5000 {
            trainer.train_step().unwrap();
        }
        let (quality, modes) = (trainer.sample_quality(), trainer.modes_covered().unwrap());
        assert!(quality < 0.6 * trainer.gaussian_quality, "{quality} vs {}", trainer.gaussian_quality);
        assert!(quality < start_quality, "{start_quality} -> {quality}");
        assert!(modes > start_modes && modes >= 7, "{start_modes} -> {modes}");
    }

    #[test]
    fn step_d_and_step_g_each_change_only_their_network() {
        let mut trainer = GanTrainer::new(small(), 3).unwrap();
        let (g0, d0) = (weights(&trainer, Net::Generator), weights(&trainer, Net::Discriminator));
        Lab::command(&mut trainer, Command::StepDiscriminator).unwrap();
        let (g1, d1) = (weights(&trainer, Net::Generator), weights(&trainer, Net::Discriminator));
        assert_eq!(g0, g1);
        assert_ne!(d0, d1);
        Lab::command(&mut trainer, Command::StepGenerator).unwrap();
        let (g2, d2) = (weights(&trainer, Net::Generator), weights(&trainer, Net::Discriminator));
        assert_eq!(d1, d2);
        assert_ne!(g1, g2);
        let s = trainer.snapshot(true, false);
        assert_eq!((s.integer(integers::D_UPDATES), s.integer(integers::G_UPDATES)), (Some(1), Some(1)));
        // k discriminator updates per step.
        trainer.set_hyper(Hyper::DSteps(3)).unwrap();
        trainer.train_step().unwrap();
        assert_eq!((trainer.d_updates, trainer.g_updates), (4, 2));
    }

    #[test]
    fn every_loss_trains() {
        for choice in LossChoice::ALL {
            let mut trainer = GanTrainer::new(GanSettings { loss: *choice, ..small() }, 4).unwrap();
            for _ in 0..30 {
                let losses = trainer.train_step().unwrap();
                assert_eq!(losses.len(), 2);
                assert!(losses.iter().all(|(_, v)| v.is_finite()), "{choice:?}: {losses:?}");
            }
            let s = trainer.snapshot(true, false);
            assert_eq!(s.metric(metrics::PENALTY).is_some(), *choice == LossChoice::Wasserstein);
            let heatmap = &s.tensor(tensors::HEATMAP).unwrap().data;
            assert!(heatmap.iter().all(|p| (0.0..=1.0).contains(p)), "{choice:?}");
        }
    }

    #[test]
    fn bad_settings_are_refused_with_the_reason() {
        let bad_net = |width| NetSettings {
            width,
            ..NetSettings::default()
        };
        for (s, needle) in [
            (GanSettings { noise_dim: 0, ..small() }, "noise dimension must be from 1 to 8"),
            (GanSettings { generator: bad_net(1000), ..small() }, "width must be from 4 to 256"),
            (GanSettings { d_steps: 11, ..small() }, "steps per generator step must be from 1 to 10"),
            (
                GanSettings {
                    data: DataChoice::Drawn,
                    drawn: vec![[0.0, 0.0]; 3],
                    ..small()
                },
                "at least 20 points",
            ),
        ] {
            let message = GanTrainer::new(s, 1).err().unwrap();
            assert!(message.contains(needle), "{message}");
        }
        let mut trainer = GanTrainer::new(small(), 1).unwrap();
        assert!(trainer.set_hyper(Hyper::Drawn(vec![[1.0, 1.0]; 4])).is_err());
        assert!(trainer.set_hyper(Hyper::GradientPenalty(1000.0)).is_err());
        assert_eq!(trainer.settings, small(), "a refused change changes nothing");
        let drawn: Vec<[f32; 2]> = (0..30).map(|i| [i as f32 / 10.0 - 1.5, 0.5]).collect();
        assert_eq!(trainer.set_hyper(Hyper::Drawn(drawn)), Ok(Applied::Restarted));
        trainer.train_step().unwrap();
        // No modes to count on a drawing.
        assert_eq!(trainer.modes_covered(), None);
    }

    #[test]
    fn a_diverging_run_stops_with_advice() {
        let wild = NetSettings {
            optimizer: OptimizerChoice::Sgd,
            learning_rate: 10.0,
            width: 16,
            ..NetSettings::default()
        };
        let s = GanSettings {
            generator: wild,
            discriminator: wild,
            loss: LossChoice::LeastSquares,
            ..small()
        };
        let mut trainer = GanTrainer::new(s, 3).unwrap();
        let error = (0..500).find_map(|_| trainer.train_step().err()).expect("diverges");
        assert!(error.contains("lower them") && error.contains("Reset"), "{error}");
        assert_eq!(trainer.train_step().unwrap_err(), error, "stays stopped");
        assert!(Lab::command(&mut trainer, Command::StepGenerator).is_err());
    }

    #[test]
    fn weights_round_trip_and_other_files_are_refused() {
        let mut trained = GanTrainer::new(small(), 4).unwrap();
        for _ in 0..20 {
            trained.train_step().unwrap();
        }
        let (name, file) = trained.export_weights().unwrap();
        assert!(name.ends_with(".safetensors"));
        let (tensors, metadata) = deepplay_core::safetensors::parse(&file).unwrap();
        assert!(tensors.contains_key("generator.net.0.weight") && tensors.contains_key("discriminator.net.4.bias"));
        assert_eq!(metadata["loss"], "ns");

        let mut fresh = GanTrainer::new(small(), 5).unwrap();
        let before = deepplay_core::safetensors::save(&fresh.gan, &[]);
        let wider = GanTrainer::new(GanSettings::default(), 5).unwrap();
        for other in [wider.export_weights().unwrap().1, b"junk".to_vec(), Vec::new()] {
            let message = fresh.import_weights(&other).unwrap_err();
            assert!(message.contains("unchanged"), "{message}");
        }
        let other_loss = GanTrainer::new(GanSettings { loss: LossChoice::LeastSquares, ..small() }, 5).unwrap();
        let message = fresh.import_weights(&other_loss.export_weights().unwrap().1).unwrap_err();
        assert!(message.contains("loss = lsgan"), "{message}");
        assert_eq!(deepplay_core::safetensors::save(&fresh.gan, &[]), before, "nothing changed");
        fresh.import_weights(&file).unwrap();
        assert_eq!(
            deepplay_core::safetensors::save(&fresh.gan, &[]),
            deepplay_core::safetensors::save(&trained.gan, &[])
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_run() {
        let run = |seed| {
            let mut t = GanTrainer::new(small(), seed).unwrap();
            let losses: Vec<_> = (0..100).map(|_| t.train_step().unwrap()).collect();
            (losses, t.sample_quality())
        };
        assert_eq!(run(9), run(9));
        assert_ne!(run(9), run(10));
    }
}

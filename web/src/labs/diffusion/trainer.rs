//! The Diffusion lab's trainer: a small MLP learns to guess the noise in
//! noised 2-D points (DDPM), on fresh data every step; samples are drawn by
//! running the reverse process a few steps at a time between training
//! slices, so that Pause stays instant. Plain Rust (no browser), tested
//! natively; the worker's runtime drives it through [`Lab`].

use deepplay_core::data::points::PointCloud;
use deepplay_core::ddpm::{DdpmSchedule, ReverseProcess, ScheduleKind};
use deepplay_core::layers::Activation;
use deepplay_core::limits;
use deepplay_core::metrics::sliced_wasserstein_2d;
use deepplay_core::models::denoiser::{DenoiserConfig, PointDenoiser, TIME_FEATURES};
use deepplay_core::optim::Optimizer;
use deepplay_core::{Module, Rng};

use super::protocol::{
    integers, metrics, tensors, ActivationChoice, Command, DataChoice, DiffusionProtocol, DiffusionSettings, Hyper,
    SamplerChoice, ScheduleChoice, HELD_OUT, LOSS_BUCKETS, MAX_FRAMES, SAMPLES, STRIP_POINTS,
};
use crate::worker::datasets::Datasets;
use crate::worker::lab::{check_learning_rate, check_metadata, clock_ms, Applied, Lab, Losses};
use crate::worker::protocol::{NamedTensor, Snapshot};

/// A noise guess this many times worse than guessing zero (an error of 1)
/// means the run blew up. Healthy runs start near 1 and fall.
const EXPLODED: f32 = 100.0;

/// While training, fresh samples are drawn this often (wall clock), so that
/// the picture and `sample-quality` follow the training.
const AUTO_SAMPLE_INTERVAL_MS: f64 = 4000.0;

/// Sampling work per background call: short, so that Pause gets through.
const SAMPLING_SLICE_MS: f64 = 6.0;

/// Projections of the sliced Wasserstein distance.
const PROJECTIONS: usize = 64;

/// How fast the loss-by-timestep buckets follow new steps.
const BUCKET_RATE: f32 = 0.02;

pub fn cloud(s: &DiffusionSettings) -> PointCloud {
    match s.data {
        DataChoice::Ring => PointCloud::Ring,
        DataChoice::Moons => PointCloud::Moons,
        DataChoice::Swiss => PointCloud::SwissRoll,
        DataChoice::Drawn => PointCloud::Drawn(s.drawn.clone()),
    }
}

fn schedule_kind(choice: ScheduleChoice) -> ScheduleKind {
    match choice {
        ScheduleChoice::Linear => ScheduleKind::Linear,
        ScheduleChoice::Cosine => ScheduleKind::Cosine,
    }
}

fn activation(choice: ActivationChoice) -> Activation {
    match choice {
        ActivationChoice::Relu => Activation::Relu,
        ActivationChoice::Gelu => Activation::Gelu,
        ActivationChoice::Tanh => Activation::Tanh,
    }
}

/// The settings the core does not check when it builds, with the message a
/// visitor reads. (Width and layers: `PointDenoiser::new`.)
pub fn validate(s: &DiffusionSettings) -> Result<(), String> {
    let checks = [
        limits::DIFFUSION_STEPS
            .check("diffusion", "the number of timesteps T", s.steps)
            .map(|_| ()),
        limits::DDIM_STEPS
            .check("diffusion", "DDIM's number of steps", s.ddim_steps)
            .map(|_| ()),
        limits::DDIM_ETA.check("diffusion", "DDIM's eta", s.eta).map(|_| ()),
        limits::BATCH_SIZE
            .check("diffusion", "batch size", s.batch_size)
            .map(|_| ()),
        cloud(s).check(),
    ];
    checks
        .into_iter()
        .collect::<Result<(), _>>()
        .map_err(|e| e.to_string())?;
    if s.ddim_steps > s.steps {
        return Err(format!(
            "DDIM's steps ({}) cannot be more than the schedule's T ({}): it visits a subset of them.",
            s.ddim_steps, s.steps
        ));
    }
    check_learning_rate(s.learning_rate)
}

/// A finished sampling, as the page draws it.
struct Samples {
    frames: Vec<Vec<f32>>,
    arrows: Vec<Vec<f32>>,
    frame_t: Vec<usize>,
    quality: f32,
    at_step: u64,
    ms: f64,
    sent: bool,
}

pub struct DiffusionTrainer {
    settings: DiffusionSettings,
    seed: u64,
    /// Draws training batches, timesteps and noise.
    rng: Rng,
    cloud: PointCloud,
    schedule: DdpmSchedule,
    model: PointDenoiser,
    optimizer: Optimizer,
    held_out: Vec<f32>,
    noise_quality: f32,
    data_quality: f32,
    /// The recent noise-guess error per band of timesteps (NaN: none yet).
    buckets: [f32; LOSS_BUCKETS],
    /// A sampling under way: the process, its work time so far and the
    /// training step it started at.
    sampling: Option<(ReverseProcess, f64, u64)>,
    /// How many samplings were started: each has its own noise.
    samplings: u64,
    last_sampling_ms: f64,
    samples: Option<Samples>,
    step: u64,
    total_ms: f64,
    diverged: Option<String>,
}

impl DiffusionTrainer {
    pub fn new(settings: DiffusionSettings, seed: u64) -> Result<Self, String> {
        validate(&settings)?;
        let cloud = cloud(&settings);
        let schedule = DdpmSchedule::new(schedule_kind(settings.schedule), settings.steps).map_err(|e| e.to_string())?;
        let mut rng = Rng::new(seed);
        let config = DenoiserConfig {
            width: settings.width,
            layers: settings.layers,
            activation: activation(settings.activation),
        };
        let model = PointDenoiser::new(config, &mut rng).map_err(|e| e.to_string())?;
        // Their own streams: the same held-out set and baselines whatever
        // the model or batch size.
        let held_out = cloud.sample(HELD_OUT, &mut Rng::new(seed ^ 0xd1ff_0000));
        let mut baseline = Rng::new(seed ^ 0xba5e);
        let noise: Vec<f32> = (0..2 * SAMPLES).map(|_| baseline.normal()).collect();
        let fresh = cloud.sample(SAMPLES, &mut baseline);
        let mut trainer = Self {
            optimizer: settings.optimizer.build(settings.learning_rate),
            noise_quality: sliced_wasserstein_2d(&noise, &held_out, PROJECTIONS),
            data_quality: sliced_wasserstein_2d(&fresh, &held_out, PROJECTIONS),
            settings,
            seed,
            rng,
            cloud,
            schedule,
            model,
            held_out,
            buckets: [f32::NAN; LOSS_BUCKETS],
            sampling: None,
            samplings: 0,
            last_sampling_ms: f64::NEG_INFINITY,
            samples: None,
            step: 0,
            total_ms: 0.0,
            diverged: None,
        };
        // What the untrained model makes of noise, drawn at once.
        trainer.start_sampling();
        Ok(trainer)
    }

    pub fn train_step(&mut self) -> Result<Losses, String> {
        if let Some(message) = &self.diverged {
            return Err(message.clone());
        }
        let batch = self.cloud.sample(self.settings.batch_size, &mut self.rng);
        let start = clock_ms();
        let stats = self
            .model
            .train_step(&batch, &self.schedule, &mut self.rng, &mut self.optimizer)
            .map_err(|e| format!("Training step failed: {e}"))?;
        self.total_ms += clock_ms() - start;
        if !stats.loss.is_finite() || stats.loss > EXPLODED || !self.model.is_finite() {
            let what = if stats.loss.is_finite() {
                format!("{:.0}, {:.0} times a guess of zero", stats.loss, stats.loss)
            } else {
                "not a number".to_string()
            };
            let message = format!(
                "Training diverged: the noise-guess error became {what} at step {}. The learning rate ({}) is too \
                 high for {}. Lower it (0.002 is a good start for Adam), then press Reset to start again from fresh \
                 weights.",
                self.step + 1,
                self.settings.learning_rate,
                self.settings.optimizer.label(),
            );
            self.diverged = Some(message.clone());
            self.sampling = None;
            return Err(message);
        }
        let steps = self.schedule.steps();
        for (t, error) in stats.per_example {
            let b = &mut self.buckets[t * LOSS_BUCKETS / steps];
            *b = if b.is_nan() { error } else { *b + BUCKET_RATE * (error - *b) };
        }
        self.step += 1;
        Ok(vec![("loss", stats.loss)])
    }

    /// Starts a fresh sampling (dropping one under way).
    pub fn start_sampling(&mut self) {
        let s = &self.settings;
        let timesteps = match s.sampler {
            SamplerChoice::Ddpm => self.schedule.sampling_timesteps(s.steps),
            SamplerChoice::Ddim => self.schedule.sampling_timesteps(s.ddim_steps),
        };
        let eta = (s.sampler == SamplerChoice::Ddim).then_some(s.eta);
        self.samplings += 1;
        let seed = self.seed ^ self.samplings.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.sampling = Some((ReverseProcess::new(SAMPLES, 2, timesteps, eta, seed), 0.0, self.step));
        self.last_sampling_ms = clock_ms();
    }

    /// Reverse steps for about `budget_ms` (at least one); the samples are
    /// kept when the last step is done.
    pub fn advance_sampling(&mut self, budget_ms: f64) {
        let Some((process, spent, _)) = &mut self.sampling else {
            return;
        };
        let start = clock_ms();
        while let Some(t) = process.next_timestep() {
            match self.model.predict_noise(&process.x, t) {
                Ok(eps) => process.step(&self.schedule, eps),
                Err(_) => {
                    self.sampling = None;
                    return;
                }
            }
            if clock_ms() - start >= budget_ms {
                break;
            }
        }
        *spent += clock_ms() - start;
        if process.done() {
            // Moved out, not copied: the trajectory is up to T frames.
            if let Some((process, ms, at_step)) = self.sampling.take() {
                self.finish_sampling(process, ms, at_step);
            }
        }
    }

    fn finish_sampling(&mut self, process: ReverseProcess, ms: f64, at_step: u64) {
        let quality = sliced_wasserstein_2d(&process.x, &self.held_out, PROJECTIONS);
        // At most MAX_FRAMES frames, evenly spaced, always the first and last.
        let count = process.frames.len();
        let keep: Vec<usize> = if count <= MAX_FRAMES {
            (0..count).collect()
        } else {
            let mut k: Vec<usize> = (0..MAX_FRAMES).map(|i| i * (count - 1) / (MAX_FRAMES - 1)).collect();
            k.dedup();
            k
        };
        let label = |k: usize| process.timesteps.get(k).map_or(0, |t| t + 1);
        let arrows = keep
            .iter()
            .filter_map(|&k| process.predicted.get(k).cloned())
            .collect();
        self.samples = Some(Samples {
            frame_t: keep.iter().map(|&k| label(k)).collect(),
            frames: keep.iter().map(|&k| process.frames[k].clone()).collect(),
            arrows,
            quality,
            at_step,
            ms,
            sent: false,
        });
    }

    /// The last samples' sliced Wasserstein distance to held-out data.
    pub fn sample_quality(&self) -> Option<f32> {
        self.samples.as_ref().map(|s| s.quality)
    }

    /// The forward process on held-out points at a few timesteps.
    fn strip(&self) -> (Vec<usize>, Vec<f32>) {
        let steps = self.settings.steps;
        let ts: Vec<usize> = [0.0, 0.1, 0.25, 0.5, 0.75, 1.0]
            .iter()
            .map(|f: &f64| (f * steps as f64).round() as usize)
            .collect();
        let x0 = &self.held_out[..2 * STRIP_POINTS];
        let mut noise_rng = Rng::new(self.seed ^ 0x5717);
        let noise: Vec<f32> = (0..x0.len()).map(|_| noise_rng.normal()).collect();
        let mut data = Vec::with_capacity(ts.len() * x0.len());
        for &t in &ts {
            if t == 0 {
                data.extend_from_slice(x0);
            } else {
                data.extend(self.schedule.noised(x0, &noise, t - 1));
            }
        }
        (ts, data)
    }

    pub fn snapshot(&mut self, heavy: bool, fresh_run: bool) -> Snapshot {
        let mut snapshot = Snapshot::default();
        if self.step > 0 {
            snapshot
                .metrics
                .push((metrics::STEP_MS.into(), (self.total_ms / self.step as f64) as f32));
        }
        if fresh_run {
            let n = STRIP_POINTS;
            snapshot.tensors.push(NamedTensor::new(
                tensors::DATA,
                vec![HELD_OUT / 2, 2],
                self.held_out[..HELD_OUT].to_vec(),
            ));
            let (ts, strip) = self.strip();
            snapshot
                .tensors
                .push(NamedTensor::new(tensors::STRIP, vec![ts.len(), n, 2], strip));
            snapshot.tensors.push(NamedTensor::new(
                tensors::STRIP_T,
                vec![ts.len()],
                ts.iter().map(|&t| t as f32).collect(),
            ));
            let mut table = self.schedule.betas.clone();
            table.extend_from_slice(&self.schedule.alpha_bar);
            snapshot
                .tensors
                .push(NamedTensor::new(tensors::SCHEDULE, vec![2, self.schedule.steps()], table));
            snapshot.metrics.push((metrics::NOISE_QUALITY.into(), self.noise_quality));
            snapshot.metrics.push((metrics::DATA_QUALITY.into(), self.data_quality));
            snapshot
                .integers
                .push((integers::PARAMS.into(), self.model.num_params() as u64));
        }
        if heavy || fresh_run {
            snapshot.tensors.push(NamedTensor::new(
                tensors::LOSS_BY_T,
                vec![LOSS_BUCKETS],
                self.buckets.to_vec(),
            ));
        }
        if let Some((process, _, _)) = &self.sampling {
            let done = process.predicted.len() as f32 / process.timesteps.len().max(1) as f32;
            snapshot.metrics.push((metrics::SAMPLING.into(), done));
        }
        if let Some(samples) = &mut self.samples {
            snapshot.metrics.push((metrics::SAMPLE_QUALITY.into(), samples.quality));
            snapshot.metrics.push((metrics::SAMPLE_MS.into(), samples.ms as f32));
            snapshot.integers.push((integers::SAMPLED_AT.into(), samples.at_step));
            // The trajectory is big: sent once per sampling (and again for a
            // page that asks with a fresh run).
            if !samples.sent || fresh_run {
                samples.sent = true;
                let (frames, n) = (samples.frames.len(), SAMPLES);
                snapshot.tensors.push(NamedTensor::new(
                    tensors::FRAMES,
                    vec![frames, n, 2],
                    samples.frames.concat(),
                ));
                snapshot.tensors.push(NamedTensor::new(
                    tensors::ARROWS,
                    vec![samples.arrows.len(), n, 2],
                    samples.arrows.concat(),
                ));
                snapshot.tensors.push(NamedTensor::new(
                    tensors::FRAME_T,
                    vec![frames],
                    samples.frame_t.iter().map(|&t| t as f32).collect(),
                ));
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
            Hyper::LearningRate(lr) => self.optimizer.set_lr(lr),
            // A new optimizer has no moments yet; the weights stay.
            Hyper::Optimizer(choice) => self.optimizer = choice.build(self.settings.learning_rate),
            // New samples, the new way.
            Hyper::Sampler(_) | Hyper::DdimSteps(_) | Hyper::Eta(_) => self.start_sampling(),
            _ => {}
        }
        Ok(Applied::Live)
    }
}

impl Lab for DiffusionTrainer {
    type Protocol = DiffusionProtocol;

    fn build(settings: DiffusionSettings, seed: u64, _data: &Datasets) -> Result<Self, String> {
        Self::new(settings, seed)
    }

    fn settings(&self) -> &DiffusionSettings {
        &self.settings
    }

    fn step(&self) -> u64 {
        self.step
    }

    fn train_step(&mut self) -> Result<Losses, String> {
        DiffusionTrainer::train_step(self)
    }

    fn snapshot(&mut self, heavy: bool, fresh_run: bool) -> Snapshot {
        DiffusionTrainer::snapshot(self, heavy, fresh_run)
    }

    fn set_hyper(&mut self, hyper: Hyper) -> Result<Applied, String> {
        DiffusionTrainer::set_hyper(self, hyper)
    }

    fn command(&mut self, command: Command) -> Result<Option<()>, String> {
        match command {
            Command::Sample => {
                if let Some(message) = &self.diverged {
                    return Err(message.clone());
                }
                self.start_sampling();
            }
        }
        Ok(None)
    }

    /// A little sampling; while training, a fresh sampling every few seconds.
    fn background(&mut self, now_ms: f64) {
        if self.sampling.is_none() && self.diverged.is_none() && now_ms - self.last_sampling_ms >= AUTO_SAMPLE_INTERVAL_MS
        {
            self.start_sampling();
        }
        self.advance_sampling(SAMPLING_SLICE_MS);
    }

    fn has_pending_work(&self) -> bool {
        self.sampling.is_some()
    }

    /// `net.0.weight` ... as a PyTorch `nn.Sequential` of Linear layers
    /// with the activation between; the input is `cat(x, emb(t))`.
    fn export_weights(&self) -> Result<(String, Vec<u8>), String> {
        let s = &self.settings;
        let (steps, width, layers, features) = (
            s.steps.to_string(),
            s.width.to_string(),
            s.layers.to_string(),
            TIME_FEATURES.to_string(),
        );
        let bytes = deepplay_core::safetensors::save(
            &self.model,
            &[
                ("deepplay.lab", "diffusion"),
                ("data", s.data.key()),
                ("schedule", s.schedule.key()),
                ("steps", &steps),
                ("width", &width),
                ("hidden_layers", &layers),
                ("activation", s.activation.key()),
                ("time_features", &features),
                ("input", "cat(x, sinusoidal(t)), t = 0..T-1"),
                ("objective", "epsilon"),
            ],
        );
        Ok((
            format!("deepplay-diffusion-{}-T{}-w{}.safetensors", s.data.key(), s.steps, s.width),
            bytes,
        ))
    }

    fn import_weights(&mut self, bytes: &[u8]) -> Result<(), String> {
        let s = &self.settings;
        // Into a copy, so that a refused file changes nothing.
        let mut model = self.model.clone();
        let metadata = deepplay_core::safetensors::load(&mut model, bytes).map_err(|e| {
            format!(
                "Could not load these weights: {e}. This lab needs a denoiser it exported with the same width \
                 ({}) and hidden layers ({}). The current weights are unchanged.",
                s.width, s.layers
            )
        })?;
        let expect = [
            ("deepplay.lab", "diffusion".to_string()),
            ("steps", s.steps.to_string()),
            ("schedule", s.schedule.key().to_string()),
        ];
        check_metadata(&metadata, &expect)?;
        self.model = model;
        self.optimizer = self.settings.optimizer.build(self.settings.learning_rate);
        self.diverged = None;
        self.start_sampling();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::protocol::OptimizerChoice;

    fn small() -> DiffusionSettings {
        DiffusionSettings {
            width: 32,
            layers: 2,
            steps: 20,
            ..DiffusionSettings::default()
        }
    }

    fn finish(trainer: &mut DiffusionTrainer) {
        while trainer.has_pending_work() {
            trainer.advance_sampling(1000.0);
        }
    }

    #[test]
    fn the_first_snapshot_has_the_data_the_noise_strip_and_the_schedule() {
        let mut trainer = DiffusionTrainer::new(DiffusionSettings::default(), 1).unwrap();
        assert!(trainer.has_pending_work(), "the untrained model's samples are on their way");
        finish(&mut trainer);
        let s = trainer.snapshot(true, true);
        assert_eq!(s.tensor(tensors::DATA).unwrap().shape, vec![HELD_OUT / 2, 2]);
        assert_eq!(s.tensor(tensors::STRIP).unwrap().shape, vec![6, STRIP_POINTS, 2]);
        assert_eq!(s.tensor(tensors::STRIP_T).unwrap().data, vec![0.0, 10.0, 25.0, 50.0, 75.0, 100.0]);
        let schedule = s.tensor(tensors::SCHEDULE).unwrap();
        assert_eq!(schedule.shape, vec![2, 100]);
        assert!(schedule.data[199] < 0.01, "alpha-bar at T is near 0");
        // The strip's first frame is the data; its last is nearly noise.
        let strip = s.tensor(tensors::STRIP).unwrap();
        assert_eq!(strip.data[..2 * STRIP_POINTS], trainer.held_out[..2 * STRIP_POINTS]);
        // 101 frames from noise (t = 100) to samples (t = 0), 100 arrows.
        assert_eq!(s.tensor(tensors::FRAMES).unwrap().shape, vec![101, SAMPLES, 2]);
        assert_eq!(s.tensor(tensors::ARROWS).unwrap().shape, vec![100, SAMPLES, 2]);
        let t = &s.tensor(tensors::FRAME_T).unwrap().data;
        assert_eq!((t[0], t[1], t[100]), (100.0, 99.0, 0.0));
        let (noise, perfect) = (
            s.metric(metrics::NOISE_QUALITY).unwrap(),
            s.metric(metrics::DATA_QUALITY).unwrap(),
        );
        assert!(perfect < 0.5 * noise, "{perfect} vs {noise}");
        assert!(s.metric(metrics::SAMPLE_QUALITY).is_some());
        // The trajectory goes once; the metrics every time.
        let again = trainer.snapshot(true, false);
        assert!(again.tensor(tensors::FRAMES).is_none());
        assert!(again.metric(metrics::SAMPLE_QUALITY).is_some());
    }

    #[test]
    fn training_brings_the_samples_close_to_the_data() {
        let mut trainer = DiffusionTrainer::new(DiffusionSettings::default(), 2).unwrap();
        finish(&mut trainer);
        let before = trainer.sample_quality().unwrap();
        for _ in 0..1500 {
            trainer.train_step().unwrap();
        }
        trainer.start_sampling();
        finish(&mut trainer);
        let after = trainer.sample_quality().unwrap();
        assert!(after < 0.5 * trainer.noise_quality, "{after} vs noise {}", trainer.noise_quality);
        assert!(after < 0.5 * before, "{before} -> {after}");
        // Every bucket of timesteps has seen examples.
        assert!(trainer.buckets.iter().all(|b| b.is_finite() && *b > 0.0), "{:?}", trainer.buckets);
        // Noisier is easier to guess: the noise at the last timesteps is
        // nearly all there is; at the first it hides in the data.
        assert!(trainer.buckets[9] < trainer.buckets[0], "{:?}", trainer.buckets);
    }

    #[test]
    fn ddim_samples_in_fewer_steps() {
        let mut trainer = DiffusionTrainer::new(small(), 3).unwrap();
        trainer
            .set_hyper(Hyper::Sampler(SamplerChoice::Ddim))
            .unwrap();
        trainer.set_hyper(Hyper::DdimSteps(5)).unwrap();
        finish(&mut trainer);
        let s = trainer.snapshot(false, false);
        assert_eq!(s.tensor(tensors::FRAME_T).unwrap().data, vec![17.0, 13.0, 9.0, 5.0, 1.0, 0.0]);
        let message = trainer.set_hyper(Hyper::DdimSteps(21)).unwrap_err();
        assert!(message.contains("cannot be more than the schedule's T (20)"), "{message}");
    }

    #[test]
    fn bad_settings_are_refused_with_the_reason() {
        for (s, needle) in [
            (DiffusionSettings { steps: 5, ..small() }, "timesteps T must be from 10 to 1000"),
            (DiffusionSettings { width: 1000, ..small() }, "hidden width must be from 8 to 256"),
            (DiffusionSettings { eta: 2.0, ..small() }, "eta must be from 0 to 1"),
            (
                DiffusionSettings {
                    data: DataChoice::Drawn,
                    drawn: vec![[0.0, 0.0]; 3],
                    ..small()
                },
                "at least 20 points",
            ),
        ] {
            let message = DiffusionTrainer::new(s, 1).err().unwrap();
            assert!(message.contains(needle), "{message}");
        }
        let mut trainer = DiffusionTrainer::new(small(), 1).unwrap();
        assert!(trainer.set_hyper(Hyper::Drawn(vec![[1.0, 1.0]; 4])).is_err());
        assert_eq!(trainer.settings.data, DataChoice::Ring, "a refused change changes nothing");
        // Enough drawn points train.
        let drawn: Vec<[f32; 2]> = (0..30).map(|i| [i as f32 / 10.0 - 1.5, 0.5]).collect();
        assert_eq!(trainer.set_hyper(Hyper::Drawn(drawn)), Ok(Applied::Restarted));
        trainer.train_step().unwrap();
    }

    #[test]
    fn a_diverging_run_stops_with_advice() {
        let s = DiffusionSettings {
            learning_rate: 10.0,
            optimizer: OptimizerChoice::Sgd,
            ..small()
        };
        let mut trainer = DiffusionTrainer::new(s, 3).unwrap();
        let error = (0..300).find_map(|_| trainer.train_step().err()).expect("diverges");
        assert!(error.contains("Lower it") && error.contains("Reset"), "{error}");
        assert_eq!(trainer.train_step().unwrap_err(), error, "stays stopped");
        assert!(Lab::command(&mut trainer, Command::Sample).is_err());
        let mut healthy = DiffusionTrainer::new(small(), 3).unwrap();
        for _ in 0..300 {
            healthy.train_step().unwrap();
        }
    }

    #[test]
    fn weights_round_trip_and_other_files_are_refused() {
        let mut trained = DiffusionTrainer::new(small(), 4).unwrap();
        for _ in 0..20 {
            trained.train_step().unwrap();
        }
        let (name, file) = trained.export_weights().unwrap();
        assert!(name.ends_with(".safetensors"));
        let (tensors, metadata) = deepplay_core::safetensors::parse(&file).unwrap();
        assert!(tensors.contains_key("net.0.weight") && tensors.contains_key("net.4.bias"));
        assert_eq!(metadata["steps"], "20");

        let mut fresh = DiffusionTrainer::new(small(), 5).unwrap();
        let wider = DiffusionTrainer::new(DiffusionSettings { width: 64, ..small() }, 5).unwrap();
        let before = deepplay_core::safetensors::save(&fresh.model, &[]);
        for other in [wider.export_weights().unwrap().1, b"junk".to_vec()] {
            let message = fresh.import_weights(&other).unwrap_err();
            assert!(message.contains("unchanged"), "{message}");
        }
        let longer = DiffusionTrainer::new(DiffusionSettings { steps: 40, ..small() }, 5).unwrap();
        let message = fresh.import_weights(&longer.export_weights().unwrap().1).unwrap_err();
        assert!(message.contains("steps = 40"), "{message}");
        assert_eq!(deepplay_core::safetensors::save(&fresh.model, &[]), before, "nothing changed");
        fresh.import_weights(&file).unwrap();
        assert_eq!(
            deepplay_core::safetensors::save(&fresh.model, &[]),
            deepplay_core::safetensors::save(&trained.model, &[])
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_run_and_samples() {
        let run = |seed| {
            let mut t = DiffusionTrainer::new(small(), seed).unwrap();
            let losses: Vec<_> = (0..5).map(|_| t.train_step().unwrap()).collect();
            t.start_sampling();
            finish(&mut t);
            (losses, t.sample_quality())
        };
        assert_eq!(run(9), run(9));
        assert_ne!(run(9), run(10));
    }
}

//! The Sequences lab's trainer: a tanh RNN, a GRU and (optionally) an LSTM
//! of the same hidden size learn one task side by side, each step on the
//! same batch, each with its own optimizer. Plain Rust (no browser), tested
//! natively; the worker's runtime drives it through [`Lab`].

use deepplay_core::data::sequences::{SequenceBatch, SequenceTarget, SequenceTask};
use deepplay_core::limits;
use deepplay_core::models::recurrent::{CellKind, RecurrentConfig, RecurrentNet};
use deepplay_core::optim::Optimizer;
use deepplay_core::{Module, Param, Rng};

use super::protocol::{
    integers, metrics, tensors, Command, Hyper, SequencesProtocol, SequencesSettings, TaskChoice, HELD_OUT,
};
use crate::worker::datasets::Datasets;
use crate::worker::lab::{check_learning_rate, clock_ms, Applied, Lab, Losses};
use crate::worker::protocol::{NamedTensor, Snapshot};

/// How much of the newest step goes into the averaged gradient curves.
const AVERAGE_WEIGHT: f32 = 0.1;
/// The held-out accuracies are measured at most this often while training:
/// a pass over the 256 held-out sequences costs about eight training steps
/// of forward passes, so measuring at every heavy snapshot (10 a second)
/// took more than half the worker's time.
const MEASURE_INTERVAL_MS: f64 = 1000.0;

/// One of the networks and everything kept about it.
struct Column {
    model: RecurrentNet,
    optimizer: Optimizer,
    /// ||dL/dh_t|| per step t, an exponential moving average over steps.
    grad_norms: Vec<f32>,
    /// Milliseconds per training step, the mean over the run.
    step_ms: f32,
    /// Milliseconds spent in its training steps since the run began.
    total_ms: f64,
    accuracy: Option<f32>,
}

pub struct SequencesTrainer {
    settings: SequencesSettings,
    seed: u64,
    /// Draws the training batches: a fresh batch every step.
    rng: Rng,
    columns: Vec<Column>,
    held_out: SequenceBatch,
    /// Which held-out sequence the gate view traces.
    example: usize,
    step: u64,
    /// Set when a loss or a weight stops being a finite number.
    diverged: Option<String>,
    /// Whether the accuracies are those of the current weights.
    measured: bool,
    /// When they were last measured ([`clock_ms`]).
    measured_at: f64,
}

pub fn task(choice: TaskChoice) -> SequenceTask {
    match choice {
        TaskChoice::First => SequenceTask::FirstSymbol,
        TaskChoice::Adding => SequenceTask::Adding,
        TaskChoice::Sines => SequenceTask::Sines,
    }
}


/// The settings the core cannot check itself, with the message a visitor
/// reads.
fn validate(s: &SequencesSettings) -> Result<(), String> {
    let checks = [
        limits::SEQ_LENGTH.check("sequences", "length", s.length).map(|_| ()),
        limits::RNN_HIDDEN.check("sequences", "hidden size", s.hidden).map(|_| ()),
        limits::BATCH_SIZE.check("sequences", "batch size", s.batch_size).map(|_| ()),
        limits::CLIP_NORM.check("sequences", "clipping threshold", s.clip).map(|_| ()),
    ];
    checks.into_iter().collect::<Result<(), _>>().map_err(|e| e.to_string())?;
    check_learning_rate(s.learning_rate)
}

impl SequencesTrainer {
    pub fn new(settings: SequencesSettings, seed: u64) -> Result<Self, String> {
        validate(&settings)?;
        let task = task(settings.task);
        let mut rng = Rng::new(seed);
        // The held-out set has a stream of its own, so that it is the same
        // whatever the batch size.
        let held_out = task.generate(settings.length, HELD_OUT, &mut Rng::new(seed ^ 0x05ee_d0f4_e1d0_u64));
        let kinds: &[CellKind] = if settings.lstm { &CellKind::ALL } else { &CellKind::ALL[..2] };
        let mut columns = Vec::with_capacity(kinds.len());
        for &kind in kinds {
            let config = RecurrentConfig {
                kind,
                task,
                hidden_size: settings.hidden,
            };
            let model = RecurrentNet::new(config, &mut rng).map_err(|e| e.to_string())?;
            columns.push(Column {
                model,
                optimizer: settings.optimizer.build(settings.learning_rate),
                grad_norms: Vec::new(),
                step_ms: 0.0,
                total_ms: 0.0,
                accuracy: None,
            });
        }
        Ok(Self {
            settings,
            seed,
            rng,
            columns,
            held_out,
            example: 0,
            step: 0,
            diverged: None,
            measured: false,
            measured_at: f64::NEG_INFINITY,
        })
    }

    pub fn step(&self) -> u64 {
        self.step
    }

    fn clip(&self) -> Option<f32> {
        (self.settings.clip > 0.0).then_some(self.settings.clip)
    }

    /// One step of every network on one fresh batch. Fails, and stays
    /// failed until a reset, once a loss or a weight is not finite.
    pub fn train_step(&mut self) -> Result<Losses, String> {
        if let Some(message) = &self.diverged {
            return Err(message.clone());
        }
        let task = task(self.settings.task);
        let batch = task.generate(self.settings.length, self.settings.batch_size, &mut self.rng);
        let clip = self.clip();
        let mut losses = Vec::with_capacity(self.columns.len());
        for column in &mut self.columns {
            let start = clock_ms();
            let stats = column
                .model
                .train_step(&batch, &mut column.optimizer, clip)
                .map_err(|e| format!("Training step failed: {e}"))?;
            let elapsed = (clock_ms() - start) as f32;
            // The mean over the whole run: steady enough to compare the
            // three networks (a moving average jumps with every pause the
            // browser takes).
            column.total_ms += f64::from(elapsed);
            column.step_ms = (column.total_ms / (self.step + 1) as f64) as f32;
            if column.grad_norms.len() == stats.hidden_grad_norms.len() {
                for (average, new) in column.grad_norms.iter_mut().zip(&stats.hidden_grad_norms) {
                    *average += AVERAGE_WEIGHT * (new - *average);
                }
            } else {
                column.grad_norms = stats.hidden_grad_norms;
            }
            let name = column.model.config.kind.name();
            if !stats.loss.is_finite() || !column.model.is_finite() {
                let message = format!(
                    "Training diverged: the {} loss became {} at step {}. The learning rate ({}) is \
                     too high for {}{}. Lower the learning rate (0.01 is a good start for Adam) or \
                     turn on gradient clipping (1 is a good threshold), then press Reset to start \
                     again from fresh weights.",
                    name.to_uppercase(),
                    if stats.loss.is_nan() { "NaN" } else { "infinite" },
                    self.step + 1,
                    self.settings.learning_rate,
                    self.settings.optimizer.label(),
                    if clip.is_none() { " without clipping" } else { "" },
                );
                self.diverged = Some(message.clone());
                return Err(message);
            }
            losses.push((name, stats.loss));
        }
        self.step += 1;
        self.measured = false;
        Ok(losses)
    }

    /// Held-out accuracy of every network, measured now.
    pub fn measure(&mut self) {
        for column in &mut self.columns {
            column.accuracy = column.model.accuracy(&self.held_out).ok();
        }
        self.measured = true;
        self.measured_at = clock_ms();
    }

    pub fn accuracies(&self) -> Vec<(&'static str, Option<f32>)> {
        self.columns
            .iter()
            .map(|c| (c.model.config.kind.name(), c.accuracy))
            .collect()
    }

    /// The per-step gradient norms of `kind`'s network, averaged.
    pub fn grad_norms(&self, kind: CellKind) -> Option<&[f32]> {
        self.columns
            .iter()
            .find(|c| c.model.config.kind == kind)
            .map(|c| c.grad_norms.as_slice())
    }

    /// The traced example: its input, its answer, and per network its
    /// hidden states, gates and prediction.
    fn trace_tensors(&self) -> Vec<NamedTensor> {
        let mut out = Vec::new();
        let x = &self.held_out.x;
        let (t, inputs) = (x.shape()[0], x.shape()[2]);
        let i = self.example.min(HELD_OUT - 1);
        let example: Vec<f32> = (0..t).flat_map(|s| (0..inputs).map(move |k| (s, k))).map(|(s, k)| x[[s, i, k]]).collect();
        out.push(NamedTensor::new(tensors::EXAMPLE, vec![t, inputs], example));
        let truth = match &self.held_out.target {
            SequenceTarget::Classes(labels) => vec![labels[i] as f32],
            SequenceTarget::Value(sums) => vec![sums[[i, 0]]],
            SequenceTarget::Series(next) => (0..t).map(|s| next[[s, i, 0]]).collect(),
        };
        out.push(NamedTensor::new(tensors::TRUTH, vec![truth.len()], truth));
        for column in &self.columns {
            let name = column.model.config.kind.name();
            let Ok(trace) = column.model.trace(&self.held_out, i) else {
                continue;
            };
            let as_named = |base: &str, tensor: &deepplay_core::Tensor| {
                NamedTensor::new(&tensors::of(base, name), tensor.shape().to_vec(), tensor.iter().copied().collect())
            };
            out.push(as_named(tensors::HIDDEN, &trace.hidden));
            let prediction: Vec<f32> = trace.prediction.iter().copied().collect();
            out.push(NamedTensor::new(
                &tensors::of(tensors::PREDICTION, name),
                vec![prediction.len()],
                prediction,
            ));
            if let (Some(z), Some(r)) = (&trace.update_gate, &trace.reset_gate) {
                out.push(NamedTensor::new(tensors::GATE_UPDATE, z.shape().to_vec(), z.iter().copied().collect()));
                out.push(NamedTensor::new(tensors::GATE_RESET, r.shape().to_vec(), r.iter().copied().collect()));
            }
        }
        out
    }

    pub fn snapshot(&mut self, heavy: bool, fresh_run: bool) -> Snapshot {
        let mut snapshot = Snapshot::default();
        for column in &self.columns {
            let name = column.model.config.kind.name();
            if !column.grad_norms.is_empty() {
                snapshot.tensors.push(NamedTensor::new(
                    &tensors::of(tensors::GRAD_NORM, name),
                    vec![column.grad_norms.len()],
                    column.grad_norms.clone(),
                ));
            }
            if self.step > 0 {
                snapshot
                    .metrics
                    .push((tensors::of(metrics::STEP_MS, name), column.step_ms));
            }
        }
        if heavy || fresh_run {
            let due = clock_ms() - self.measured_at >= MEASURE_INTERVAL_MS;
            if !self.measured && (due || fresh_run) {
                self.measure();
            }
            for column in &self.columns {
                let name = column.model.config.kind.name();
                if let Some(accuracy) = column.accuracy {
                    snapshot.metrics.push((tensors::of(metrics::ACCURACY, name), accuracy));
                }
            }
            snapshot.tensors.extend(self.trace_tensors());
        }
        if fresh_run {
            let task = task(self.settings.task);
            snapshot.metrics.push((metrics::CHANCE.into(), task.chance()));
            for column in &self.columns {
                let name = column.model.config.kind.name();
                snapshot
                    .integers
                    .push((tensors::of(integers::PARAMS, name), column.model.num_params() as u64));
            }
        }
        snapshot
    }

    pub fn set_hyper(&mut self, hyper: Hyper) -> Result<Applied, String> {
        let mut settings = self.settings.clone();
        hyper.apply(&mut settings);
        validate(&settings)?;
        if hyper.restarts_run() {
            let example = self.example;
            *self = Self::new(settings, self.seed)?;
            self.example = example;
            return Ok(Applied::Restarted);
        }
        self.settings = settings;
        match hyper {
            Hyper::LearningRate(lr) => self.columns.iter_mut().for_each(|c| c.optimizer.set_lr(lr)),
            Hyper::Optimizer(choice) => {
                // A new optimizer has no moments yet; the weights stay.
                for c in &mut self.columns {
                    c.optimizer = choice.build(self.settings.learning_rate);
                }
            }
            _ => {}
        }
        Ok(Applied::Live)
    }

    fn params(&self) -> Vec<&Param> {
        self.columns.iter().flat_map(|c| c.model.params()).collect()
    }
}

/// All the networks as one module, for one weights file.
struct AllModels<'a>(&'a mut [Column]);

impl Module for AllModels<'_> {
    fn params(&self) -> Vec<&Param> {
        self.0.iter().flat_map(|c| c.model.params()).collect()
    }
    fn params_mut(&mut self) -> Vec<&mut Param> {
        self.0.iter_mut().flat_map(|c| c.model.params_mut()).collect()
    }
}

struct AllModelsRef<'a>(&'a SequencesTrainer);

impl Module for AllModelsRef<'_> {
    fn params(&self) -> Vec<&Param> {
        self.0.params()
    }
    fn params_mut(&mut self) -> Vec<&mut Param> {
        Vec::new()
    }
}

impl Lab for SequencesTrainer {
    type Protocol = SequencesProtocol;

    fn build(settings: SequencesSettings, seed: u64, _data: &Datasets) -> Result<Self, String> {
        Self::new(settings, seed)
    }

    fn settings(&self) -> &SequencesSettings {
        &self.settings
    }

    fn step(&self) -> u64 {
        self.step
    }

    fn train_step(&mut self) -> Result<Losses, String> {
        SequencesTrainer::train_step(self)
    }

    fn snapshot(&mut self, heavy: bool, fresh_run: bool) -> Snapshot {
        SequencesTrainer::snapshot(self, heavy, fresh_run)
    }

    fn set_hyper(&mut self, hyper: Hyper) -> Result<Applied, String> {
        SequencesTrainer::set_hyper(self, hyper)
    }

    fn command(&mut self, command: Command) -> Result<Option<()>, String> {
        match command {
            Command::Example(i) if i < HELD_OUT => self.example = i,
            Command::Example(i) => {
                return Err(format!("There is no held-out sequence {i}; pick one from 0 to {}.", HELD_OUT - 1))
            }
        }
        Ok(None)
    }

    fn settle(&mut self) {
        self.measure();
    }

    /// One file for the networks that train: `rnn.weight_ih_l0`,
    /// `gru.weight_hh_l0`, `lstm.bias_ih_l0`, ... and each read-out,
    /// `gru_head.weight`. Stripping a prefix gives `torch.nn.GRU`'s names.
    fn export_weights(&self) -> Result<(String, Vec<u8>), String> {
        let s = &self.settings;
        let (hidden, length) = (s.hidden.to_string(), s.length.to_string());
        let bytes = deepplay_core::safetensors::save(
            &AllModelsRef(self),
            &[
                ("deepplay.lab", "sequences"),
                ("task", s.task.key()),
                ("hidden_size", &hidden),
                ("length", &length),
            ],
        );
        Ok((format!("deepplay-sequences-{}-h{}.safetensors", s.task.key(), s.hidden), bytes))
    }

    fn import_weights(&mut self, bytes: &[u8]) -> Result<(), String> {
        // Validate into a copy, so a refused file changes nothing.
        let mut columns: Vec<Column> = self
            .columns
            .iter()
            .map(|c| Column {
                model: c.model.clone(),
                optimizer: self.settings.optimizer.build(self.settings.learning_rate),
                grad_norms: c.grad_norms.clone(),
                step_ms: c.step_ms,
                total_ms: c.total_ms,
                accuracy: None,
            })
            .collect();
        let metadata = deepplay_core::safetensors::load(&mut AllModels(&mut columns), bytes).map_err(|e| {
            format!(
                "Could not load these weights: {e}. This lab needs a file it exported with the same \
                 task, hidden size ({}) and models. The current weights are unchanged.",
                self.settings.hidden
            )
        })?;
        if let Some(task) = metadata.get("task") {
            if task != self.settings.task.key() {
                return Err(format!(
                    "These weights were trained on the \"{task}\" task, not \"{}\": choose that task \
                     first. The current weights are unchanged.",
                    self.settings.task.key()
                ));
            }
        }
        self.columns = columns;
        self.diverged = None;
        self.measure();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::protocol::OptimizerChoice;

    fn settings(length: usize) -> SequencesSettings {
        SequencesSettings {
            length,
            hidden: 16,
            ..SequencesSettings::default()
        }
    }

    #[test]
    fn all_three_train_on_the_same_batches_and_report_in_order() {
        let mut trainer = SequencesTrainer::new(settings(6), 1).unwrap();
        let losses = trainer.train_step().unwrap();
        let names: Vec<&str> = losses.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["rnn", "gru", "lstm"]);
        let snapshot = trainer.snapshot(true, true);
        for name in ["rnn", "gru", "lstm"] {
            let norms = snapshot.tensor(&tensors::of(tensors::GRAD_NORM, name)).expect(name);
            assert_eq!(norms.shape, vec![6]);
            assert!(snapshot.metric(&tensors::of(metrics::ACCURACY, name)).is_some());
            assert!(snapshot.tensor(&tensors::of(tensors::HIDDEN, name)).is_some());
        }
        assert_eq!(snapshot.tensor(tensors::GATE_UPDATE).unwrap().shape, vec![6, 16]);
        let without = SequencesTrainer::new(SequencesSettings { lstm: false, ..settings(6) }, 1).unwrap();
        assert_eq!(without.accuracies().len(), 2);
    }

    #[test]
    fn out_of_range_settings_are_refused_with_the_range() {
        for (s, needle) in [
            (SequencesSettings { length: 201, ..settings(5) }, "length must be from 2 to 200"),
            (SequencesSettings { hidden: 2, ..settings(5) }, "hidden size must be from 4 to 128"),
            (SequencesSettings { clip: -1.0, ..settings(5) }, "clipping"),
        ] {
            let message = SequencesTrainer::new(s, 1).err().unwrap();
            assert!(message.contains(needle), "{message}");
        }
        let mut trainer = SequencesTrainer::new(settings(5), 1).unwrap();
        assert!(trainer.set_hyper(Hyper::Length(1)).is_err());
        assert_eq!(trainer.settings.length, 5, "a refused change changes nothing");
    }

    #[test]
    fn a_diverging_run_stops_with_advice() {
        let s = SequencesSettings {
            learning_rate: 10.0,
            optimizer: OptimizerChoice::Sgd,
            clip: 0.0,
            task: TaskChoice::Adding,
            ..settings(10)
        };
        let mut trainer = SequencesTrainer::new(s, 3).unwrap();
        let error = (0..200).find_map(|_| trainer.train_step().err()).expect("diverges");
        assert!(error.contains("Lower the learning rate") && error.contains("Reset"), "{error}");
        assert_eq!(trainer.train_step().unwrap_err(), error, "stays stopped");
    }

    #[test]
    fn weights_round_trip_and_other_files_are_refused() {
        let mut trained = SequencesTrainer::new(settings(5), 4).unwrap();
        for _ in 0..30 {
            trained.train_step().unwrap();
        }
        let (name, file) = trained.export_weights().unwrap();
        assert!(name.ends_with(".safetensors"));
        let (tensors, _) = deepplay_core::safetensors::parse(&file).unwrap();
        for key in ["rnn.weight_ih_l0", "gru.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0", "gru_head.weight"] {
            assert!(tensors.contains_key(key), "{key}");
        }
        assert_eq!(tensors["lstm.weight_ih_l0"].shape(), &[64, 9]);

        // The same seed: the same held-out set, untrained weights.
        let mut fresh = SequencesTrainer::new(settings(5), 4).unwrap();
        fresh.measure();
        let before = fresh.params().iter().map(|p| p.value.clone()).collect::<Vec<_>>();
        let wider = SequencesTrainer::new(SequencesSettings { hidden: 24, ..settings(5) }, 5).unwrap();
        let message = fresh.import_weights(&wider.export_weights().unwrap().1).unwrap_err();
        assert!(message.contains("unchanged"), "{message}");
        let message = fresh.import_weights(b"not a weights file").unwrap_err();
        assert!(message.contains("unchanged"), "{message}");
        let after = fresh.params().iter().map(|p| p.value.clone()).collect::<Vec<_>>();
        assert_eq!(before, after);

        fresh.import_weights(&file).unwrap();
        trained.measure();
        assert_eq!(fresh.accuracies(), trained.accuracies());
    }

    #[test]
    fn the_same_seed_gives_the_same_run() {
        let run = |seed| {
            let mut t = SequencesTrainer::new(settings(8), seed).unwrap();
            (0..5).map(|_| t.train_step().unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(run(9), run(9));
        assert_ne!(run(9), run(10));
    }
}

//! The Attention lab's trainer: one small Transformer learns a token task
//! on a fresh batch every step; the page's probe sequence is traced through
//! it so that every head's attention can be drawn. Plain Rust (no browser),
//! tested natively; the worker's runtime drives it through [`Lab`].

use deepplay_core::data::language::{parse_digits, parse_sentence, TokenTask};
use deepplay_core::limits;
use deepplay_core::models::transformer::{Positions, Transformer, TransformerConfig};
use deepplay_core::optim::Optimizer;
use deepplay_core::{Module, Rng};

use super::protocol::{
    default_probe, integers, metrics, tensors, AttentionProtocol, AttentionSettings, Command, Hyper, PositionChoice,
    TaskChoice, HELD_OUT,
};
use crate::worker::datasets::Datasets;
use crate::worker::lab::{check_learning_rate, clock_ms, Applied, Lab, Losses};
use crate::worker::protocol::{NamedTensor, Snapshot};

/// A loss this many times a blind guess's (ln classes) means the run blew up.
/// Clipping and layer norm keep the numbers finite even at a learning rate
/// of 10, so a NaN never comes; instead the logits grow huge and confidently
/// wrong (SGD at 10 reaches a loss of 400 and 12% accuracy). No healthy run
/// comes near: they start at about 1.2 times and fall.
const EXPLODED: f32 = 20.0;

/// The held-out accuracy is measured at most this often while training.
const MEASURE_INTERVAL_MS: f64 = 1000.0;

pub fn task(choice: TaskChoice) -> TokenTask {
    match choice {
        TaskChoice::Who => TokenTask::WhoDidWhat,
        TaskChoice::Reverse => TokenTask::Reverse,
        TaskChoice::Sort => TokenTask::Sort,
    }
}


pub fn model_config(s: &AttentionSettings) -> TransformerConfig {
    let t = task(s.task);
    TransformerConfig {
        vocab: t.vocab_size(),
        length: t.length(s.digits),
        d_model: s.d_model,
        heads: s.heads,
        layers: s.layers,
        ff: 2 * s.d_model,
        classes: t.classes(),
        every_position: t.every_position(),
        positions: match (s.positional, s.position_kind) {
            (false, _) => Positions::None,
            (true, PositionChoice::Sinusoidal) => Positions::Sinusoidal,
            (true, PositionChoice::Learned) => Positions::Learned,
        },
    }
}

/// The settings the core cannot check itself, with the message a visitor
/// reads. The width, heads and layers (and heads dividing the width) are
/// checked by `Transformer::new`, which builds nothing when they are wrong.
fn validate(s: &AttentionSettings) -> Result<(), String> {
    let checks = [
        limits::DIGIT_LENGTH
            .check("attention", "digit string length", s.digits)
            .map(|_| ()),
        limits::BATCH_SIZE
            .check("attention", "batch size", s.batch_size)
            .map(|_| ()),
    ];
    checks
        .into_iter()
        .collect::<Result<(), _>>()
        .map_err(|e| e.to_string())?;
    check_learning_rate(s.learning_rate)
}

/// The probe as ids, and its right answers (one, or one per position).
pub fn parse_probe(s: &AttentionSettings, text: &str, question: usize) -> Result<(Vec<usize>, Vec<usize>), String> {
    match s.task {
        TaskChoice::Who => parse_sentence(text, question).map(|(ids, answer)| (ids, answer.into_iter().collect())),
        TaskChoice::Reverse | TaskChoice::Sort => parse_digits(text, s.digits, task(s.task)),
    }
}

pub struct AttentionTrainer {
    settings: AttentionSettings,
    seed: u64,
    /// Draws the training batches.
    rng: Rng,
    model: Transformer,
    optimizer: Optimizer,
    held_out: deepplay_core::data::language::TokenBatch,
    /// The probe: its text, question, ids and right answers.
    probe: (String, usize, Vec<usize>, Vec<usize>),
    step: u64,
    accuracy: Option<f32>,
    measured: bool,
    measured_at: f64,
    total_ms: f64,
    diverged: Option<String>,
}

impl AttentionTrainer {
    pub fn new(settings: AttentionSettings, seed: u64) -> Result<Self, String> {
        validate(&settings)?;
        let t = task(settings.task);
        let mut rng = Rng::new(seed);
        let model = Transformer::new(model_config(&settings), &mut rng).map_err(|e| e.to_string())?;
        // Its own stream: the same held-out set whatever the batch size.
        let held_out = t.generate(HELD_OUT, settings.digits, &mut Rng::new(seed ^ 0xa77e_4710_u64));
        let text = default_probe(settings.task, settings.digits);
        let (ids, answer) = parse_probe(&settings, &text, 0)?;
        Ok(Self {
            optimizer: settings.optimizer.build(settings.learning_rate),
            settings,
            seed,
            rng,
            model,
            held_out,
            probe: (text, 0, ids, answer),
            step: 0,
            accuracy: None,
            measured: false,
            measured_at: f64::NEG_INFINITY,
            total_ms: 0.0,
            diverged: None,
        })
    }

    pub fn train_step(&mut self) -> Result<Losses, String> {
        if let Some(message) = &self.diverged {
            return Err(message.clone());
        }
        let batch = task(self.settings.task).generate(self.settings.batch_size, self.settings.digits, &mut self.rng);
        let start = clock_ms();
        let stats = self
            .model
            .train_step(&batch, &mut self.optimizer)
            .map_err(|e| format!("Training step failed: {e}"))?;
        self.total_ms += clock_ms() - start;
        let blind = (task(self.settings.task).classes() as f32).ln();
        if !stats.loss.is_finite() || !self.model.is_finite() || stats.loss > EXPLODED * blind {
            let what = if stats.loss.is_nan() {
                "NaN".to_string()
            } else if stats.loss.is_infinite() {
                "infinite".to_string()
            } else {
                format!(
                    "{:.0}, {:.0} times a blind guess's {blind:.2}",
                    stats.loss,
                    stats.loss / blind
                )
            };
            let message = format!(
                "Training diverged: the loss became {what} at step {}. The learning rate ({}) is too high for {}. \
                 Lower it (0.003 is a good start for Adam), then press Reset to start again from fresh weights.",
                self.step + 1,
                self.settings.learning_rate,
                self.settings.optimizer.label(),
            );
            self.diverged = Some(message.clone());
            return Err(message);
        }
        self.step += 1;
        self.measured = false;
        Ok(vec![("loss", stats.loss)])
    }

    pub fn measure(&mut self) {
        self.accuracy = self.model.accuracy(&self.held_out).ok();
        self.measured = true;
        self.measured_at = clock_ms();
    }

    pub fn accuracy(&self) -> Option<f32> {
        self.accuracy
    }

    /// The probe traced: ids, every layer's attention and values, the answer.
    fn trace_tensors(&self) -> Vec<NamedTensor> {
        let ids = &self.probe.2;
        let mut out = vec![NamedTensor::new(
            tensors::PROBE,
            vec![ids.len()],
            ids.iter().map(|&i| i as f32).collect(),
        )];
        let Ok(trace) = self.model.trace(ids) else {
            return out;
        };
        let named = |name: String, t: &deepplay_core::Tensor| {
            NamedTensor::new(&name, t.shape().to_vec(), t.iter().copied().collect())
        };
        for (l, (a, v)) in trace.attention.iter().zip(&trace.values).enumerate() {
            out.push(named(tensors::of(tensors::ATTENTION, l), a));
            out.push(named(tensors::of(tensors::VALUES, l), v));
        }
        out.push(named(tensors::PROBABILITIES.into(), &trace.probabilities));
        out
    }

    pub fn snapshot(&mut self, heavy: bool, fresh_run: bool) -> Snapshot {
        let mut snapshot = Snapshot::default();
        if self.step > 0 {
            snapshot
                .metrics
                .push((metrics::STEP_MS.into(), (self.total_ms / self.step as f64) as f32));
        }
        if heavy || fresh_run {
            let due = clock_ms() - self.measured_at >= MEASURE_INTERVAL_MS;
            if !self.measured && (due || fresh_run) {
                self.measure();
            }
            if let Some(a) = self.accuracy {
                snapshot.metrics.push((metrics::ACCURACY.into(), a));
            }
            snapshot.tensors.extend(self.trace_tensors());
            // A learned table changes as it trains; the sinusoids never do.
            let learned = self.model.config.positions == Positions::Learned;
            if fresh_run || learned {
                if let Some(table) = self.model.positional_table() {
                    snapshot.tensors.push(NamedTensor::new(
                        tensors::POSITIONS,
                        table.shape().to_vec(),
                        table.iter().copied().collect(),
                    ));
                }
            }
        }
        if fresh_run {
            snapshot
                .metrics
                .push((metrics::CHANCE.into(), task(self.settings.task).chance()));
            snapshot
                .integers
                .push((integers::PARAMS.into(), self.model.num_params() as u64));
        }
        if let (TaskChoice::Who, Some(&answer)) = (self.settings.task, self.probe.3.first()) {
            snapshot.integers.push((integers::EXPECTED.into(), answer as u64));
        }
        snapshot
    }

    pub fn set_hyper(&mut self, hyper: Hyper) -> Result<Applied, String> {
        let mut settings = self.settings.clone();
        hyper.apply(&mut settings);
        validate(&settings)?;
        if hyper.restarts_run() {
            let (text, question) = (self.probe.0.clone(), self.probe.1);
            *self = Self::new(settings, self.seed)?;
            // Keep the visitor's probe when it still reads for the new task.
            if let Ok((ids, answer)) = parse_probe(&self.settings, &text, question) {
                self.probe = (text, question, ids, answer);
            }
            return Ok(Applied::Restarted);
        }
        self.settings = settings;
        match hyper {
            Hyper::LearningRate(lr) => self.optimizer.set_lr(lr),
            // A new optimizer has no moments yet; the weights stay.
            Hyper::Optimizer(choice) => self.optimizer = choice.build(self.settings.learning_rate),
            _ => {}
        }
        Ok(Applied::Live)
    }

    pub fn set_probe(&mut self, text: &str, question: usize) -> Result<(), String> {
        let (ids, answer) = parse_probe(&self.settings, text, question)?;
        self.probe = (text.to_string(), question.min(1), ids, answer);
        Ok(())
    }
}

impl Lab for AttentionTrainer {
    type Protocol = AttentionProtocol;

    fn build(settings: AttentionSettings, seed: u64, _data: &Datasets) -> Result<Self, String> {
        Self::new(settings, seed)
    }

    fn reset(&mut self, seed: u64, _data: &Datasets) -> Result<(), String> {
        let (text, question) = (self.probe.0.clone(), self.probe.1);
        *self = Self::new(self.settings.clone(), seed)?;
        // The visitor's sentence survives a reset.
        let _ = self.set_probe(&text, question);
        Ok(())
    }

    fn settings(&self) -> &AttentionSettings {
        &self.settings
    }

    fn step(&self) -> u64 {
        self.step
    }

    fn train_step(&mut self) -> Result<Losses, String> {
        AttentionTrainer::train_step(self)
    }

    fn snapshot(&mut self, heavy: bool, fresh_run: bool) -> Snapshot {
        AttentionTrainer::snapshot(self, heavy, fresh_run)
    }

    fn set_hyper(&mut self, hyper: Hyper) -> Result<Applied, String> {
        AttentionTrainer::set_hyper(self, hyper)
    }

    fn command(&mut self, command: Command) -> Result<Option<()>, String> {
        match command {
            Command::Probe { text, question } => self.set_probe(&text, question)?,
        }
        Ok(None)
    }

    fn settle(&mut self) {
        self.measure();
    }

    /// `embed.weight`, `encoder.layers.0.self_attn.in_proj_weight`, ...: the
    /// names of `torch.nn.TransformerEncoder` (see the core's model).
    fn export_weights(&self) -> Result<(String, Vec<u8>), String> {
        let s = &self.settings;
        let c = model_config(s);
        let positions = match c.positions {
            Positions::None => "none",
            Positions::Sinusoidal => "sinusoidal",
            Positions::Learned => "learned",
        };
        let (d, heads, layers, length) = (
            s.d_model.to_string(),
            s.heads.to_string(),
            s.layers.to_string(),
            c.length.to_string(),
        );
        let bytes = deepplay_core::safetensors::save(
            &self.model,
            &[
                ("deepplay.lab", "attention"),
                ("task", s.task.key()),
                ("d_model", &d),
                ("nhead", &heads),
                ("num_layers", &layers),
                ("length", &length),
                ("positions", positions),
                ("norm_first", "true"),
            ],
        );
        Ok((
            format!(
                "deepplay-attention-{}-d{}-h{}.safetensors",
                s.task.key(),
                s.d_model,
                s.heads
            ),
            bytes,
        ))
    }

    fn import_weights(&mut self, bytes: &[u8]) -> Result<(), String> {
        // Into a copy, so that a refused file changes nothing.
        let mut model = self.model.clone();
        let metadata = deepplay_core::safetensors::load(&mut model, bytes).map_err(|e| {
            format!(
                "Could not load these weights: {e}. This lab needs a file it exported with the same task, \
                 width ({}), heads ({}), layers ({}) and positional encoding. The current weights are unchanged.",
                self.settings.d_model, self.settings.heads, self.settings.layers
            )
        })?;
        if let Some(t) = metadata.get("task") {
            if t != self.settings.task.key() {
                return Err(format!(
                    "These weights were trained on the \"{t}\" task, not \"{}\": choose that task first. The \
                     current weights are unchanged.",
                    self.settings.task.key()
                ));
            }
        }
        self.model = model;
        self.optimizer = self.settings.optimizer.build(self.settings.learning_rate);
        self.diverged = None;
        self.measure();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::protocol::OptimizerChoice;

    fn small() -> AttentionSettings {
        AttentionSettings {
            d_model: 16,
            heads: 2,
            layers: 1,
            ..AttentionSettings::default()
        }
    }

    #[test]
    fn a_step_reports_the_probe_s_attention_for_every_layer() {
        let mut trainer = AttentionTrainer::new(AttentionSettings::default(), 1).unwrap();
        trainer.train_step().unwrap();
        let snapshot = trainer.snapshot(true, true);
        for l in 0..2 {
            let a = snapshot.tensor(&tensors::of(tensors::ATTENTION, l)).unwrap();
            assert_eq!(a.shape, vec![4, 13, 13]);
            let v = snapshot.tensor(&tensors::of(tensors::VALUES, l)).unwrap();
            assert_eq!(v.shape, vec![4, 13, 8]);
        }
        assert_eq!(snapshot.tensor(tensors::POSITIONS).unwrap().shape, vec![13, 32]);
        assert_eq!(snapshot.tensor(tensors::PROBABILITIES).unwrap().shape, vec![10]);
        assert!(snapshot.metric(metrics::ACCURACY).is_some());
        assert_eq!(snapshot.metric(metrics::CHANCE), Some(0.5));
        // "the dog chased the cat", asked who: the dog (noun 0).
        assert_eq!(snapshot.integer(integers::EXPECTED), Some(0));
        // Without positions there is no table to send.
        let mut off = AttentionTrainer::new(
            AttentionSettings {
                positional: false,
                ..small()
            },
            1,
        )
        .unwrap();
        assert!(off.snapshot(true, true).tensor(tensors::POSITIONS).is_none());
    }

    #[test]
    fn probes_are_checked_and_kept_across_a_reset() {
        let mut trainer = AttentionTrainer::new(small(), 1).unwrap();
        let message = trainer.set_probe("the wolf ate", 0).unwrap_err();
        assert!(message.contains("knows only these words"), "{message}");
        trainer.set_probe("a cat saw the dog", 1).unwrap();
        Lab::reset(&mut trainer, 2, &Datasets::default()).unwrap();
        assert_eq!(trainer.probe.0, "a cat saw the dog");
        assert_eq!(trainer.probe.3, vec![0], "whom? the dog");
        // A task change falls back to that task's probe.
        trainer.set_hyper(Hyper::Task(TaskChoice::Reverse)).unwrap();
        assert_eq!(trainer.probe.0, "31415926");
        assert!(trainer.set_probe("1234", 0).unwrap_err().contains("exactly 8"));
    }

    #[test]
    fn out_of_range_settings_are_refused_with_the_reason() {
        for (s, needle) in [
            (
                AttentionSettings { heads: 3, ..small() },
                "multiple of the number of heads",
            ),
            (AttentionSettings { layers: 4, ..small() }, "layers must be from 1 to 3"),
            (
                AttentionSettings { digits: 40, ..small() },
                "digit string length must be from 2 to 16",
            ),
        ] {
            let message = AttentionTrainer::new(s, 1).err().unwrap();
            assert!(message.contains(needle), "{message}");
        }
        let mut trainer = AttentionTrainer::new(small(), 1).unwrap();
        assert!(trainer.set_hyper(Hyper::Heads(5)).is_err());
        assert_eq!(trainer.settings.heads, 2, "a refused change changes nothing");
    }

    #[test]
    fn a_diverging_run_stops_with_advice() {
        // Overflow to NaN, and (the highest rate the page accepts) a loss
        // that explodes while staying finite.
        for (learning_rate, needle) in [(1e30, "NaN"), (10.0, "times a blind guess")] {
            let s = AttentionSettings {
                learning_rate,
                optimizer: OptimizerChoice::Sgd,
                ..small()
            };
            let mut trainer = AttentionTrainer::new(s, 3).unwrap();
            let error = (0..300).find_map(|_| trainer.train_step().err()).expect("diverges");
            assert!(error.contains("Lower it") && error.contains("Reset"), "{error}");
            assert!(error.contains(needle) || learning_rate == 1e30, "{error}");
            assert_eq!(trainer.train_step().unwrap_err(), error, "stays stopped");
        }
        // A healthy run never trips the guard.
        let mut healthy = AttentionTrainer::new(small(), 3).unwrap();
        for _ in 0..300 {
            healthy.train_step().unwrap();
        }
    }

    #[test]
    fn weights_round_trip_and_other_files_are_refused() {
        let mut trained = AttentionTrainer::new(small(), 4).unwrap();
        for _ in 0..20 {
            trained.train_step().unwrap();
        }
        let (name, file) = trained.export_weights().unwrap();
        assert!(name.ends_with(".safetensors"));
        let (tensors, metadata) = deepplay_core::safetensors::parse(&file).unwrap();
        assert!(tensors.contains_key("encoder.layers.0.self_attn.in_proj_weight"));
        assert_eq!(metadata["positions"], "sinusoidal");

        let mut fresh = AttentionTrainer::new(small(), 4).unwrap();
        let wider = AttentionTrainer::new(AttentionSettings { d_model: 32, ..small() }, 5).unwrap();
        let message = fresh.import_weights(&wider.export_weights().unwrap().1).unwrap_err();
        assert!(message.contains("unchanged"), "{message}");
        assert!(fresh.import_weights(b"junk").unwrap_err().contains("unchanged"));
        fresh.import_weights(&file).unwrap();
        trained.measure();
        assert_eq!(fresh.accuracy(), trained.accuracy());
    }

    #[test]
    fn the_same_seed_gives_the_same_run() {
        let run = |seed| {
            let mut t = AttentionTrainer::new(small(), seed).unwrap();
            (0..4).map(|_| t.train_step().unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(run(9), run(9));
        assert_ne!(run(9), run(10));
    }
}

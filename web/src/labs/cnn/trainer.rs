//! The CNN lab's trainer: MNIST, the network, the test-set evaluation done
//! a chunk at a time between training slices, the digit whose feature maps
//! the page shows, and the snapshot the page draws. Plain Rust (no
//! browser), so it is tested natively; the worker's runtime drives it
//! through [`Lab`].

use std::rc::Rc;

use deepplay_core::data::mnist::Mnist;
use deepplay_core::layers::Module;
use deepplay_core::models::cnn_trainer::{CnnTrainer, Evaluation};

use super::protocol::{metrics, tensors, CnnCommand, CnnProtocol, CnnReply, CnnSettings, Hyper};
use crate::worker::datasets::{DatasetId, Datasets};
use crate::worker::lab::{Applied, Lab, Losses};
use crate::worker::protocol::{NamedTensor, Snapshot};

/// Test digits evaluated per chunk: about a tenth of a second of work, so a
/// pass over all 2,000 never holds training up for long.
pub const EVAL_CHUNK: usize = 200;
/// Misclassified digits sent to the page per evaluation.
pub const MISTAKES_SHOWN: usize = 24;
/// A loss this far above ln(10) = 2.3 means the network puts less than e^-100
/// on the right digit everywhere: it has blown up, even if the numbers are
/// still finite, and will not come back by itself.
pub const LOSS_EXPLOSION: f32 = 100.0;
/// While training, one chunk of test digits is evaluated this often.
pub const EVAL_INTERVAL_MS: f64 = 120.0;

pub struct CnnLab {
    settings: CnnSettings,
    data: Rc<Mnist>,
    trainer: CnnTrainer,
    last_batch_accuracy: f32,
    /// When the last test chunk was evaluated (the worker's clock).
    last_eval_ms: f64,
    /// Index into the test split of the digit whose feature maps are shown.
    probe: usize,
    last_eval: Option<Evaluation>,
    /// A finished evaluation the page has not seen yet.
    eval_unsent: bool,
    diverged: Option<String>,
}

impl CnnLab {
    pub fn new(settings: CnnSettings, seed: u64, data: Rc<Mnist>) -> Result<Self, String> {
        let config = settings.cnn_config();
        config
            .layer_shapes()
            .map_err(|e| format!("This network cannot be built: {e}"))?;
        let trainer = CnnTrainer::new(&data, &config, settings.cnn_hyper(), seed)
            .map_err(|e| format!("Could not build the network: {e}"))?;
        Ok(Self {
            settings,
            data,
            trainer,
            last_batch_accuracy: f32::NAN,
            last_eval_ms: f64::NEG_INFINITY,
            probe: 0,
            last_eval: None,
            eval_unsent: false,
            diverged: None,
        })
    }

    /// The weights as a safetensors file (`conv1.weight`, ..., `fc.bias`).
    pub fn export_weights(&self) -> Vec<u8> {
        deepplay_core::safetensors::save(&self.trainer.model, &[("deepplay.lab", "cnn")])
    }

    /// Loads weights saved from a network of the same shape; on any problem
    /// the model is unchanged and the error says what did not match. The
    /// test accuracy is measured again for the new weights.
    pub fn import_weights(&mut self, bytes: &[u8]) -> Result<(), String> {
        deepplay_core::safetensors::load(&mut self.trainer.model, bytes)
            .map_err(|e| format!("Could not load these weights: {e}. The current weights are unchanged."))?;
        self.diverged = None;
        self.last_eval = None;
        Ok(())
    }

    pub fn settings(&self) -> &CnnSettings {
        &self.settings
    }

    pub fn data(&self) -> &Rc<Mnist> {
        &self.data
    }

    pub fn step(&self) -> u64 {
        self.trainer.step
    }

    /// Starts over from `seed`: new weights, new batch order, step 0; the
    /// page's chosen digit stays.
    pub fn reset(&mut self, seed: u64) -> Result<(), String> {
        let probe = self.probe;
        *self = Self::new(self.settings.clone(), seed, self.data.clone())?;
        self.probe = probe;
        Ok(())
    }

    /// Learning rate, batch size and optimizer apply to the running model;
    /// anything else needs a new network (the page sends new settings).
    pub fn set_hyper(&mut self, hyper: Hyper) -> Result<(), String> {
        let mut settings = self.settings.clone();
        hyper.apply(&mut settings);
        self.trainer
            .set_hyper(settings.cnn_hyper())
            .map_err(|e| format!("{e}"))?;
        self.settings = settings;
        Ok(())
    }

    pub fn set_probe(&mut self, index: usize) {
        self.probe = index.min(self.data.test_indices().len().saturating_sub(1));
    }

    /// One optimizer step. Fails, and stays failed until a reset, once the
    /// loss or the weights stop being finite numbers.
    pub fn train_step(&mut self) -> Result<f32, String> {
        if let Some(message) = &self.diverged {
            return Err(message.clone());
        }
        let stats = self
            .trainer
            .train_step(&self.data)
            .map_err(|e| format!("Training step failed: {e}"))?;
        self.last_batch_accuracy = stats.accuracy;
        let finite_weights = || {
            self.trainer
                .model
                .params()
                .iter()
                .all(|p| p.value.iter().all(|v| v.is_finite()))
        };
        if !stats.loss.is_finite() || stats.loss > LOSS_EXPLOSION || !finite_weights() {
            let what = if stats.loss.is_nan() {
                "became NaN".to_string()
            } else if stats.loss.is_finite() {
                format!("exploded to {:.3e}", stats.loss)
            } else {
                "became infinite".to_string()
            };
            let message = format!(
                "Training diverged: the loss {what} at step {}. The learning rate ({}) is too high for {}. \
                 Lower it (Adam works well at 0.001 to 0.003, SGD at 0.01 to 0.05), then press Reset to start \
                 again from fresh weights.",
                self.trainer.step,
                self.settings.learning_rate,
                self.settings.optimizer.label(),
            );
            self.diverged = Some(message.clone());
            return Err(message);
        }
        Ok(stats.loss)
    }

    /// Evaluate the next chunk of the test split; true when a pass finished.
    pub fn evaluate_chunk(&mut self) -> bool {
        if self.diverged.is_some() {
            return false;
        }
        match self.trainer.evaluate_chunk(&self.data, EVAL_CHUNK) {
            Ok(Some(evaluation)) => {
                self.last_eval = Some(evaluation);
                self.eval_unsent = true;
                true
            }
            _ => false,
        }
    }

    /// A whole pass over the test split with the current weights (a pass
    /// made while training mixes the weights of about a second of steps).
    pub fn evaluate_all(&mut self) {
        if self.diverged.is_some() {
            return;
        }
        self.trainer.restart_evaluation();
        // Bounded: an error in a chunk must not spin the worker forever.
        for _ in 0..=self.data.test_indices().len().div_ceil(EVAL_CHUNK) {
            if self.evaluate_chunk() {
                break;
            }
        }
    }

    /// Class probabilities for a 28x28 drawing, ink in [0, 1].
    pub fn classify(&self, ink: &[f32]) -> Result<Vec<f32>, String> {
        self.trainer.model.classify_ink(ink).map_err(|e| format!("{e}"))
    }

    fn test_image(&self, test_index: usize) -> Vec<f32> {
        let i = self.data.test_indices().start + test_index;
        self.data.image(i).iter().map(|&p| f32::from(p) / 255.0).collect()
    }

    /// What the page draws. `heavy` adds kernels and the probe digit's
    /// feature maps; a finished evaluation adds the confusion matrix and the
    /// misclassified digits (once).
    pub fn snapshot(&mut self, heavy: bool) -> Snapshot {
        let mut snapshot = Snapshot::default();
        let test_size = self.data.test_indices().len() as u64;
        snapshot.integers.push((metrics::TEST_SIZE.into(), test_size));
        if self.last_batch_accuracy.is_finite() {
            snapshot
                .metrics
                .push((metrics::BATCH_ACCURACY.into(), self.last_batch_accuracy));
        }
        if let Some(eval) = &self.last_eval {
            snapshot.metrics.push((metrics::TEST_ACCURACY.into(), eval.accuracy));
            snapshot.integers.push((metrics::TEST_STEP.into(), eval.step));
        }
        if heavy {
            for conv in &self.trainer.model.convs {
                let w = &conv.weight.value;
                snapshot.tensors.push(NamedTensor::new(
                    &conv.weight.name,
                    w.shape().to_vec(),
                    w.iter().copied().collect(),
                ));
            }
            let ink = self.test_image(self.probe);
            let label = self.data.labels[self.data.test_indices().start + self.probe];
            snapshot.integers.push((metrics::PROBE_LABEL.into(), u64::from(label)));
            snapshot
                .tensors
                .push(NamedTensor::new(tensors::PROBE_INPUT, vec![28, 28], ink.clone()));
            let model = &self.trainer.model;
            if let Ok((maps, probs)) = model.ink_input(&ink).and_then(|x| model.feature_maps(&x)) {
                for (name, t) in maps {
                    let shape = t.shape()[1..].to_vec();
                    snapshot
                        .tensors
                        .push(NamedTensor::new(&name, shape, t.iter().copied().collect()));
                }
                snapshot.tensors.push(NamedTensor::new(
                    tensors::PROBE_PROBS,
                    vec![10],
                    probs.iter().copied().collect(),
                ));
            }
        }
        if self.eval_unsent {
            if let Some(eval) = &self.last_eval {
                let confusion = eval.confusion.iter().map(|&c| c as f32).collect();
                snapshot.tensors.push(NamedTensor::new(
                    tensors::CONFUSION,
                    eval.confusion.shape().to_vec(),
                    confusion,
                ));
                let shown: Vec<(usize, usize)> = eval.mistakes.iter().take(MISTAKES_SHOWN).copied().collect();
                let mut images = Vec::with_capacity(shown.len() * 784);
                for &(i, _) in &shown {
                    images.extend(self.data.image(i).iter().map(|&p| f32::from(p) / 255.0));
                }
                snapshot
                    .tensors
                    .push(NamedTensor::new(tensors::MISTAKES, vec![shown.len(), 28, 28], images));
                snapshot.tensors.push(NamedTensor::new(
                    tensors::MISTAKES_PREDICTED,
                    vec![shown.len()],
                    shown.iter().map(|&(_, p)| p as f32).collect(),
                ));
                snapshot.tensors.push(NamedTensor::new(
                    tensors::MISTAKES_TRUE,
                    vec![shown.len()],
                    shown.iter().map(|&(i, _)| f32::from(self.data.labels[i])).collect(),
                ));
            }
            self.eval_unsent = false;
        }
        snapshot
    }
}

impl Lab for CnnLab {
    type Protocol = CnnProtocol;
    const DATASETS: &'static [DatasetId] = &[DatasetId::Mnist];

    fn build(settings: CnnSettings, seed: u64, data: &Datasets) -> Result<Self, String> {
        Self::new(settings, seed, data.mnist()?)
    }

    fn reset(&mut self, seed: u64, _data: &Datasets) -> Result<(), String> {
        CnnLab::reset(self, seed)
    }

    fn settings(&self) -> &CnnSettings {
        &self.settings
    }

    fn step(&self) -> u64 {
        self.trainer.step
    }

    fn train_step(&mut self) -> Result<Losses, String> {
        CnnLab::train_step(self).map(|loss| vec![("loss", loss)])
    }

    fn snapshot(&mut self, heavy: bool, fresh_run: bool) -> Snapshot {
        CnnLab::snapshot(self, heavy || fresh_run)
    }

    fn set_hyper(&mut self, hyper: Hyper) -> Result<Applied, String> {
        CnnLab::set_hyper(self, hyper).map(|()| Applied::Live)
    }

    fn command(&mut self, command: CnnCommand) -> Result<Option<CnnReply>, String> {
        match command {
            CnnCommand::Probe { index } => {
                self.set_probe(index);
                Ok(None)
            }
            CnnCommand::Classify { ink } => self
                .classify(&ink)
                .map(|probabilities| Some(CnnReply::Prediction { probabilities }))
                .map_err(|e| format!("Could not read the drawing: {e}")),
        }
    }

    /// A chunk of the test split every [`EVAL_INTERVAL_MS`] while training.
    fn background(&mut self, now_ms: f64) {
        if now_ms - self.last_eval_ms >= EVAL_INTERVAL_MS {
            self.evaluate_chunk();
            self.last_eval_ms = now_ms;
        }
    }

    /// The whole test split with exactly the weights the page now shows.
    fn settle(&mut self) {
        self.evaluate_all();
    }

    fn export_weights(&self) -> Result<(String, Vec<u8>), String> {
        Ok(("deepplay-cnn.safetensors".into(), CnnLab::export_weights(self)))
    }

    fn import_weights(&mut self, bytes: &[u8]) -> Result<(), String> {
        CnnLab::import_weights(self, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mnist() -> Rc<Mnist> {
        crate::worker::datasets::shipped_mnist()
    }

    #[test]
    fn trains_evaluates_and_snapshots_everything_the_page_draws() {
        let mut lab = CnnLab::new(CnnSettings::default(), 1, mnist()).unwrap();
        let first = lab.train_step().unwrap();
        for _ in 0..60 {
            lab.train_step().unwrap();
        }
        assert!(lab.train_step().unwrap() < first);
        let mut passes = 0;
        for _ in 0..(2000 / EVAL_CHUNK) {
            passes += usize::from(lab.evaluate_chunk());
        }
        assert_eq!(passes, 1, "one full pass over the 2,000 test digits");
        lab.set_probe(5);
        let snap = lab.snapshot(true);
        assert_eq!(lab.step(), 62);
        assert!(snap.metric(metrics::TEST_ACCURACY).unwrap() > 0.5);
        assert_eq!(snap.integer(metrics::TEST_STEP), Some(62));
        assert_eq!(snap.integer(metrics::TEST_SIZE), Some(2000));
        for (name, shape) in [
            ("conv1.weight", vec![8, 1, 5, 5]),
            ("conv2.weight", vec![16, 8, 5, 5]),
            ("probe.input", vec![28, 28]),
            ("conv1", vec![8, 28, 28]),
            ("pool1", vec![8, 14, 14]),
            ("conv2", vec![16, 14, 14]),
            ("pool2", vec![16, 4, 4]),
            ("probe.probs", vec![10]),
            ("confusion", vec![10, 10]),
        ] {
            assert_eq!(snap.tensor(name).map(|t| t.shape.clone()), Some(shape), "{name}");
        }
        assert_eq!(snap.tensor("confusion").unwrap().data.iter().sum::<f32>(), 2000.0);
        // The evaluation goes out once; the next snapshot has only the accuracy.
        let again = lab.snapshot(false);
        assert!(again.tensor("confusion").is_none() && again.metric(metrics::TEST_ACCURACY).is_some());
    }

    #[test]
    fn a_huge_learning_rate_diverges_with_advice_and_reset_recovers() {
        let settings = CnnSettings {
            learning_rate: 10.0,
            optimizer: crate::worker::protocol::OptimizerChoice::Sgd,
            ..CnnSettings::default()
        };
        let mut lab = CnnLab::new(settings, 1, mnist()).unwrap();
        let failed = (0..50).find_map(|_| lab.train_step().err());
        let message = failed.expect("lr 10 with SGD diverges");
        assert!(message.contains("Lower it") && message.contains("Reset"), "{message}");
        assert!(lab.train_step().is_err(), "stays failed until reset");
        lab.set_hyper(Hyper::LearningRate(0.01)).unwrap();
        lab.reset(3).unwrap();
        assert_eq!(lab.step(), 0);
        assert!(lab.train_step().is_ok());
    }

    #[test]
    fn weights_round_trip_and_a_bad_file_changes_nothing() {
        let data = mnist();
        let mut trained = CnnLab::new(CnnSettings::default(), 1, data.clone()).unwrap();
        for _ in 0..40 {
            trained.train_step().unwrap();
        }
        let file = trained.export_weights();
        let mut fresh = CnnLab::new(CnnSettings::default(), 9, data.clone()).unwrap();
        let before = fresh.classify(&[0.5; 784]).unwrap();
        let smaller = CnnLab::new(
            CnnSettings {
                conv1_filters: 4,
                ..CnnSettings::default()
            },
            1,
            data,
        )
        .unwrap();
        let message = fresh.import_weights(&smaller.export_weights()).unwrap_err();
        assert!(
            message.contains("conv1.weight") && message.contains("unchanged"),
            "{message}"
        );
        assert!(fresh.import_weights(b"not a weights file").is_err());
        assert_eq!(
            fresh.classify(&[0.5; 784]).unwrap(),
            before,
            "a refused file changes nothing"
        );
        fresh.import_weights(&file).unwrap();
        assert_eq!(
            fresh.classify(&[0.5; 784]).unwrap(),
            trained.classify(&[0.5; 784]).unwrap()
        );
    }

    #[test]
    fn same_seed_same_run_and_impossible_networks_are_refused() {
        let data = mnist();
        let run = |seed| {
            let mut lab = CnnLab::new(CnnSettings::default(), seed, data.clone()).unwrap();
            (0..5).map(|_| lab.train_step().unwrap()).collect::<Vec<f32>>()
        };
        assert_eq!(run(4), run(4));
        assert_ne!(run(4), run(5));
        let bad = CnnSettings {
            kernel: 9,
            padding: 0,
            pool1: 4,
            ..CnnSettings::default()
        };
        let message = CnnLab::new(bad, 1, data).err().unwrap();
        assert!(message.contains("does not fit"), "{message}");
    }

    #[test]
    fn step_stays_quick_and_says_which_step_the_accuracy_is_from() {
        let mut lab = CnnLab::new(CnnSettings::default(), 1, mnist()).unwrap();
        Lab::settle(&mut lab);
        assert_eq!(Lab::snapshot(&mut lab, false, false).integer(metrics::TEST_STEP), Some(0));
        // A step trains; it does not measure the test split again.
        Lab::train_step(&mut lab).unwrap();
        let snap = Lab::snapshot(&mut lab, true, false);
        assert_eq!(Lab::step(&lab), 1);
        assert_eq!(snap.integer(metrics::TEST_STEP), Some(0));
        // Background work measures one chunk at a time, at most every
        // EVAL_INTERVAL_MS: nine slices' worth (plus nine calls too soon
        // after them) do not finish a pass over 2,000 digits; the tenth does.
        let chunks = 2000 / EVAL_CHUNK;
        for i in 0..chunks - 1 {
            let t = 1000.0 + i as f64 * EVAL_INTERVAL_MS;
            Lab::background(&mut lab, t);
            Lab::background(&mut lab, t + 1.0);
        }
        assert_eq!(Lab::snapshot(&mut lab, false, false).integer(metrics::TEST_STEP), Some(0));
        Lab::background(&mut lab, 1000.0 + chunks as f64 * EVAL_INTERVAL_MS);
        assert_eq!(Lab::snapshot(&mut lab, false, false).integer(metrics::TEST_STEP), Some(1));
    }

    #[test]
    fn commands_classify_and_probe() {
        let mut lab = CnnLab::new(CnnSettings::default(), 1, mnist()).unwrap();
        let reply = Lab::command(&mut lab, CnnCommand::Classify { ink: vec![0.0; 784] }).unwrap();
        let Some(CnnReply::Prediction { probabilities }) = reply else {
            panic!("no prediction")
        };
        assert_eq!(probabilities.len(), 10);
        assert!((probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        assert!(Lab::command(&mut lab, CnnCommand::Classify { ink: vec![0.0; 3] }).is_err());
        assert_eq!(Lab::command(&mut lab, CnnCommand::Probe { index: 1_000_000 }), Ok(None));
        let snap = Lab::snapshot(&mut lab, true, false);
        let last = mnist().labels[9999];
        assert_eq!(snap.integer(metrics::PROBE_LABEL), Some(u64::from(last)), "the index is clamped");
    }
}

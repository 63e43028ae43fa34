//! The 2-D playground's trainer: data, model, optimizer, minibatches, and
//! the snapshot the page draws. Plain Rust (no browser), so it is tested
//! natively; the worker's runtime drives it through [`Lab`].

use deepplay_core::data::synthetic::{Dataset2d, DatasetKind};
use deepplay_core::layers::Activation;
use deepplay_core::models::mlp::{Mlp, MlpConfig};
use deepplay_core::optim::Optimizer;
use deepplay_core::{Rng, Tensor};
use ndarray::IxDyn;

use super::protocol::{metrics, tensors, ActivationChoice, DatasetChoice, Hyper, PlaygroundProtocol, PlaygroundSettings};
use crate::worker::datasets::Datasets;
use crate::worker::lab::{Applied, Lab, Losses};
use crate::worker::protocol::{NamedTensor, Snapshot};

/// Points generated per class.
pub const POINTS_PER_CLASS: usize = 150;
/// The decision heatmap is evaluated on a `GRID` x `GRID` lattice.
pub const GRID: usize = 96;

pub struct PlaygroundTrainer {
    config: PlaygroundSettings,
    seed: u64,
    rng: Rng,
    dataset: Dataset2d,
    /// Half the side of the square the page shows, in data units.
    extent: f32,
    model: Mlp,
    optimizer: Optimizer,
    step: u64,
    /// A shuffled order of the points; minibatches walk through it.
    order: Vec<usize>,
    cursor: usize,
    /// Minibatch buffers, reused every step.
    batch_points: Vec<f32>,
    batch_labels: Vec<usize>,
    /// Set when the loss stops being a finite number.
    diverged: Option<String>,
}

fn dataset_kind(choice: DatasetChoice) -> DatasetKind {
    match choice {
        DatasetChoice::Spiral => DatasetKind::Spiral,
        DatasetChoice::Moons => DatasetKind::Moons,
        DatasetChoice::Circles => DatasetKind::Circles,
    }
}

fn activation(choice: ActivationChoice) -> Activation {
    match choice {
        ActivationChoice::Relu => Activation::Relu,
        ActivationChoice::Tanh => Activation::Tanh,
    }
}


/// A `[n, 2]` tensor from points.
fn points_tensor(points: &[[f32; 2]]) -> Tensor {
    let flat: Vec<f32> = points.iter().flat_map(|p| [p[0], p[1]]).collect();
    Tensor::from_shape_vec(IxDyn(&[points.len(), 2]), flat).expect("n points make an [n, 2] tensor")
}

impl PlaygroundTrainer {
    pub fn new(config: PlaygroundSettings, seed: u64) -> Result<Self, String> {
        let mut rng = Rng::new(seed);
        let dataset = Dataset2d::generate(dataset_kind(config.dataset), POINTS_PER_CLASS, config.noise, &mut rng);
        if dataset.points.is_empty() || dataset.classes < 2 {
            return Err("The dataset came out empty.".into());
        }
        let mut sizes = vec![2];
        sizes.extend_from_slice(&config.hidden);
        sizes.push(dataset.classes);
        let model = Mlp::new(
            &MlpConfig {
                sizes,
                activation: activation(config.activation),
            },
            &mut rng,
        )
        .map_err(|e| format!("Could not build the network: {e}"))?;
        let largest = dataset
            .points
            .iter()
            .flat_map(|p| [p[0].abs(), p[1].abs()])
            .filter(|v| v.is_finite())
            .fold(0.0f32, f32::max);
        // A margin around the data, in round steps so the view is steady.
        let extent = (largest * 1.08 * 4.0).ceil().max(4.0) / 4.0;
        let mut order: Vec<usize> = (0..dataset.points.len()).collect();
        rng.shuffle(&mut order);
        Ok(Self {
            optimizer: config.optimizer.build(config.learning_rate),
            config,
            seed,
            rng,
            dataset,
            extent,
            model,
            step: 0,
            order,
            cursor: 0,
            batch_points: Vec::new(),
            batch_labels: Vec::new(),
            diverged: None,
        })
    }

    /// The weights as a safetensors file (`fc1.weight`, `fc1.bias`, ...).
    pub fn export_weights(&self) -> Vec<u8> {
        let hidden = crate::validate::format_hidden(&self.config.hidden);
        deepplay_core::safetensors::save(&self.model, &[("deepplay.lab", "playground"), ("hidden", &hidden)])
    }

    /// Loads weights saved from a network of the same shape; on any problem
    /// the model is unchanged and the error says what did not match.
    pub fn import_weights(&mut self, bytes: &[u8]) -> Result<(), String> {
        deepplay_core::safetensors::load(&mut self.model, bytes)
            .map_err(|e| format!("Could not load these weights: {e}. The current weights are unchanged."))?;
        self.diverged = None;
        Ok(())
    }

    pub fn config(&self) -> &PlaygroundSettings {
        &self.config
    }

    pub fn step(&self) -> u64 {
        self.step
    }

    pub fn diverged(&self) -> Option<&str> {
        self.diverged.as_deref()
    }

    /// Applies one change; data or architecture changes start a new run.
    pub fn set_hyper(&mut self, hyper: Hyper) -> Result<Applied, String> {
        let mut config = self.config.clone();
        match hyper {
            Hyper::LearningRate(lr) => {
                if !(lr > 0.0 && lr.is_finite()) {
                    return Err(format!("learning rate {lr} is not positive"));
                }
                self.config.learning_rate = lr;
                self.optimizer.set_lr(lr);
                return Ok(Applied::Live);
            }
            Hyper::BatchSize(batch) => {
                if batch == 0 {
                    return Err("batch size must be at least 1".into());
                }
                self.config.batch_size = batch;
                return Ok(Applied::Live);
            }
            Hyper::Optimizer(choice) => {
                // A new optimizer has no moments yet; the weights stay.
                self.config.optimizer = choice;
                self.optimizer = choice.build(self.config.learning_rate);
                return Ok(Applied::Live);
            }
            Hyper::Dataset(d) => config.dataset = d,
            Hyper::Hidden(h) => config.hidden = h,
            Hyper::Activation(a) => config.activation = a,
            Hyper::Noise(n) => config.noise = n,
        }
        *self = Self::new(config, self.seed)?;
        Ok(Applied::Restarted)
    }

    /// Fills the minibatch buffers with the next `batch_size` points of the
    /// shuffled order, reshuffling at the end of each epoch.
    fn next_batch(&mut self) {
        let batch = self.config.batch_size.min(self.order.len()).max(1);
        self.batch_points.clear();
        self.batch_labels.clear();
        for _ in 0..batch {
            if self.cursor == self.order.len() {
                self.rng.shuffle(&mut self.order);
                self.cursor = 0;
            }
            let i = self.order[self.cursor];
            self.cursor += 1;
            self.batch_points.extend_from_slice(&self.dataset.points[i]);
            self.batch_labels.push(self.dataset.labels[i]);
        }
    }

    /// One optimizer step on one minibatch. Fails, and stays failed until a
    /// reset, once the loss is not a finite number.
    pub fn train_step(&mut self) -> Result<f32, String> {
        if let Some(message) = &self.diverged {
            return Err(message.clone());
        }
        self.next_batch();
        let n = self.batch_labels.len();
        let x = Tensor::from_shape_vec(IxDyn(&[n, 2]), self.batch_points.clone())
            .map_err(|e| format!("minibatch shape: {e}"))?;
        let stats = self
            .model
            .train_step(&x, &self.batch_labels, &mut self.optimizer)
            .map_err(|e| format!("Training step failed: {e}"))?;
        self.step += 1;
        // A clamped loss can stay finite while the weights overflow, so
        // check both (a few hundred numbers: cheap).
        let what = if stats.loss.is_nan() {
            Some("the loss became NaN")
        } else if !stats.loss.is_finite() {
            Some("the loss became infinite")
        } else if !self.weights_are_finite() {
            Some("the weights overflowed to infinity or NaN")
        } else {
            None
        };
        if let Some(what) = what {
            let message = format!(
                "Training diverged: {what} at step {}. The learning rate ({}) is much too \
                 high for {}. Lower the learning rate (0.01 is a good start), then press Reset \
                 to start again from fresh weights.",
                self.step,
                self.config.learning_rate,
                self.config.optimizer.label(),
            );
            self.diverged = Some(message.clone());
            return Err(message);
        }
        Ok(stats.loss)
    }

    fn weights_are_finite(&self) -> bool {
        self.model.layers.iter().all(|layer| {
            layer.weight.value.iter().all(|w| w.is_finite()) && layer.bias.value.iter().all(|b| b.is_finite())
        })
    }

    /// Accuracy of the model on all the points, in [0, 1].
    pub fn accuracy(&self) -> f32 {
        let Ok(probs) = self.model.predict_proba(&points_tensor(&self.dataset.points)) else {
            return 0.0;
        };
        let classes = self.dataset.classes;
        let Some(probs) = probs.as_slice() else {
            return 0.0;
        };
        let correct = probs
            .chunks_exact(classes)
            .zip(&self.dataset.labels)
            .filter(|(p, &label)| {
                let best = p.iter().enumerate().fold(
                    (0, f32::NEG_INFINITY),
                    |best, (k, &v)| if v > best.1 { (k, v) } else { best },
                );
                best.0 == label
            })
            .count();
        correct as f32 / self.dataset.labels.len() as f32
    }

    /// Class probabilities on the `GRID` x `GRID` lattice covering
    /// `[-extent, extent]^2`, row 0 at the top (largest y): `[GRID, GRID, K]`.
    pub fn decision_grid(&self) -> NamedTensor {
        let mut lattice = Vec::with_capacity(GRID * GRID);
        for row in 0..GRID {
            let y = self.extent * (1.0 - 2.0 * (row as f32 + 0.5) / GRID as f32);
            for col in 0..GRID {
                let x = self.extent * (2.0 * (col as f32 + 0.5) / GRID as f32 - 1.0);
                lattice.push([x, y]);
            }
        }
        let classes = self.dataset.classes;
        let data = self
            .model
            .predict_proba(&points_tensor(&lattice))
            .ok()
            .and_then(|p| p.as_slice().map(<[f32]>::to_vec))
            .filter(|d| d.len() == GRID * GRID * classes)
            .unwrap_or_else(|| vec![f32::NAN; GRID * GRID * classes]);
        NamedTensor::new(tensors::DECISION, vec![GRID, GRID, classes], data)
    }

    /// What the page draws. `heavy` adds the decision heatmap and the
    /// accuracy over all points; `with_data` adds the points themselves
    /// (needed only once per run).
    pub fn snapshot(&mut self, heavy: bool, with_data: bool) -> Snapshot {
        let mut snapshot = Snapshot::default();
        if heavy {
            snapshot.metrics.push((metrics::ACCURACY.into(), self.accuracy()));
            snapshot.tensors.push(self.decision_grid());
        }
        if with_data {
            let n = self.dataset.points.len();
            snapshot.tensors.push(NamedTensor::new(
                tensors::POINTS,
                vec![n, 2],
                self.dataset.points.iter().flat_map(|p| [p[0], p[1]]).collect(),
            ));
            snapshot.tensors.push(NamedTensor::new(
                tensors::LABELS,
                vec![n],
                self.dataset.labels.iter().map(|&l| l as f32).collect(),
            ));
            snapshot
                .tensors
                .push(NamedTensor::new(tensors::EXTENT, vec![1], vec![self.extent]));
        }
        snapshot
    }
}

impl Lab for PlaygroundTrainer {
    type Protocol = PlaygroundProtocol;

    fn build(settings: PlaygroundSettings, seed: u64, _data: &Datasets) -> Result<Self, String> {
        Self::new(settings, seed)
    }

    fn settings(&self) -> &PlaygroundSettings {
        &self.config
    }

    fn step(&self) -> u64 {
        self.step
    }

    fn train_step(&mut self) -> Result<Losses, String> {
        PlaygroundTrainer::train_step(self).map(|loss| vec![("loss", loss)])
    }

    fn snapshot(&mut self, heavy: bool, fresh_run: bool) -> Snapshot {
        PlaygroundTrainer::snapshot(self, heavy || fresh_run, fresh_run)
    }

    fn set_hyper(&mut self, hyper: Hyper) -> Result<Applied, String> {
        PlaygroundTrainer::set_hyper(self, hyper)
    }

    fn export_weights(&self) -> Result<(String, Vec<u8>), String> {
        Ok(("deepplay-playground.safetensors".into(), PlaygroundTrainer::export_weights(self)))
    }

    fn import_weights(&mut self, bytes: &[u8]) -> Result<(), String> {
        PlaygroundTrainer::import_weights(self, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::protocol::OptimizerChoice;

    fn settings(dataset: DatasetChoice) -> PlaygroundSettings {
        PlaygroundSettings {
            dataset,
            ..PlaygroundSettings::default()
        }
    }

    #[test]
    fn training_lowers_the_loss_and_learns_the_data() {
        let mut trainer = PlaygroundTrainer::new(settings(DatasetChoice::Moons), 42).unwrap();
        let first = trainer.train_step().unwrap();
        let mut last = first;
        for _ in 0..600 {
            last = trainer.train_step().unwrap();
        }
        assert!(last < first, "loss went from {first} to {last}");
        assert!(trainer.accuracy() > 0.85, "accuracy {}", trainer.accuracy());
    }

    #[test]
    fn weights_round_trip_and_mismatched_files_are_refused() {
        let mut trained = PlaygroundTrainer::new(settings(DatasetChoice::Moons), 42).unwrap();
        for _ in 0..100 {
            trained.train_step().unwrap();
        }
        let file = trained.export_weights();
        // Same data (same seed), untrained weights.
        let mut fresh = PlaygroundTrainer::new(settings(DatasetChoice::Moons), 42).unwrap();
        assert_ne!(fresh.accuracy(), trained.accuracy());
        let wider = PlaygroundTrainer::new(
            PlaygroundSettings {
                hidden: vec![8],
                ..settings(DatasetChoice::Moons)
            },
            42,
        )
        .unwrap();
        let message = fresh.import_weights(&wider.export_weights()).unwrap_err();
        assert!(message.contains("unchanged"), "{message}");
        fresh.import_weights(&file).unwrap();
        assert_eq!(fresh.accuracy(), trained.accuracy());
    }

    #[test]
    fn the_same_seed_gives_the_same_run() {
        let run = |seed| {
            let mut t = PlaygroundTrainer::new(settings(DatasetChoice::Spiral), seed).unwrap();
            (0..20).map(|_| t.train_step().unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(run(42), run(42));
        assert_ne!(run(42), run(43));
    }

    #[test]
    fn snapshots_carry_well_formed_tensors_and_the_data_once() {
        let mut trainer = PlaygroundTrainer::new(settings(DatasetChoice::Spiral), 42).unwrap();
        for _ in 0..5 {
            trainer.train_step().unwrap();
        }
        let snapshot = Lab::snapshot(&mut trainer, false, true);
        let grid = snapshot.tensor(tensors::DECISION).unwrap();
        assert_eq!(grid.shape, vec![GRID, GRID, 3]);
        assert!(grid.data.iter().all(|p| (0.0..=1.0).contains(p)));
        let points = snapshot.tensor(tensors::POINTS).unwrap();
        assert_eq!(points.shape, vec![3 * POINTS_PER_CLASS, 2]);
        let accuracy = snapshot.metric(metrics::ACCURACY).unwrap();
        assert!((0.0..=1.0).contains(&accuracy));
        let light = Lab::snapshot(&mut trainer, false, false);
        assert!(light.tensor(tensors::POINTS).is_none() && light.tensor(tensors::DECISION).is_none());
    }

    #[test]
    fn a_huge_learning_rate_diverges_and_reset_recovers() {
        let mut trainer = PlaygroundTrainer::new(
            PlaygroundSettings {
                optimizer: OptimizerChoice::Sgd,
                learning_rate: 1e6,
                ..PlaygroundSettings::default()
            },
            42,
        )
        .unwrap();
        let failure = (0..500).find_map(|_| trainer.train_step().err());
        let message = failure.expect("lr 1e6 with momentum should diverge");
        assert!(message.contains("Lower the learning rate"), "{message}");
        assert!(trainer.train_step().is_err(), "stays failed until reset");
        trainer.set_hyper(Hyper::LearningRate(0.01)).unwrap();
        crate::worker::lab::DynLab::reset(&mut trainer, 42, &Datasets::default()).unwrap();
        assert_eq!(Lab::step(&trainer), 0);
        assert!(trainer.train_step().is_ok());
    }

    #[test]
    fn architecture_changes_restart_and_learning_rate_changes_do_not() {
        let mut trainer = PlaygroundTrainer::new(settings(DatasetChoice::Circles), 42).unwrap();
        trainer.train_step().unwrap();
        assert_eq!(trainer.set_hyper(Hyper::LearningRate(0.05)), Ok(Applied::Live));
        assert_eq!(trainer.step(), 1);
        assert_eq!(trainer.set_hyper(Hyper::Hidden(vec![8])), Ok(Applied::Restarted));
        assert_eq!(trainer.step(), 0);
        assert_eq!(trainer.config().hidden, vec![8]);
        assert_eq!(trainer.config().learning_rate, 0.05);
        assert!(trainer.set_hyper(Hyper::BatchSize(0)).is_err());
    }
}

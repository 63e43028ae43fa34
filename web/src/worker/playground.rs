//! The 2-D playground's training state: data, model, optimizer, minibatches,
//! and the snapshot a page draws. Plain Rust (no browser), so it is tested
//! natively; [`super::runtime`] drives it inside the worker.

use deepplay_core::data::synthetic::{Dataset2d, DatasetKind};
use deepplay_core::layers::Activation;
use deepplay_core::models::mlp::{Mlp, MlpConfig};
use deepplay_core::optim::Optimizer;
use deepplay_core::{Rng, Tensor};
use ndarray::IxDyn;

use super::protocol::{
    ActivationChoice, DatasetChoice, Hyper, NamedTensor, OptimizerChoice, PlaygroundConfig, Snapshot,
};

/// Points generated per class.
pub const POINTS_PER_CLASS: usize = 150;
/// The decision heatmap is evaluated on a `GRID` x `GRID` lattice.
pub const GRID: usize = 96;

pub struct PlaygroundTrainer {
    config: PlaygroundConfig,
    rng: Rng,
    dataset: Dataset2d,
    /// Half the side of the square the page shows, in data units.
    extent: f32,
    model: Mlp,
    optimizer: Optimizer,
    step: u64,
    last_loss: f32,
    /// `(step, loss)` not yet sent to the page.
    unsent_losses: Vec<(u64, f32)>,
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

fn optimizer(choice: OptimizerChoice, learning_rate: f32) -> Optimizer {
    match choice {
        OptimizerChoice::Adam => Optimizer::adam(learning_rate),
        OptimizerChoice::Sgd => Optimizer::sgd(learning_rate, 0.9, 0.0),
    }
}

/// A `[n, 2]` tensor from points.
fn points_tensor(points: &[[f32; 2]]) -> Tensor {
    let flat: Vec<f32> = points.iter().flat_map(|p| [p[0], p[1]]).collect();
    Tensor::from_shape_vec(IxDyn(&[points.len(), 2]), flat).expect("n points make an [n, 2] tensor")
}

impl PlaygroundTrainer {
    pub fn new(config: PlaygroundConfig) -> Result<Self, String> {
        let mut rng = Rng::new(config.seed);
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
            optimizer: optimizer(config.optimizer, config.learning_rate),
            config,
            rng,
            dataset,
            extent,
            model,
            step: 0,
            last_loss: f32::NAN,
            unsent_losses: Vec::new(),
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

    pub fn config(&self) -> &PlaygroundConfig {
        &self.config
    }

    pub fn step(&self) -> u64 {
        self.step
    }

    pub fn diverged(&self) -> Option<&str> {
        self.diverged.as_deref()
    }

    /// Starts over from `seed`: new data, new weights, step 0.
    pub fn reset(&mut self, seed: u64) -> Result<(), String> {
        let config = PlaygroundConfig {
            seed,
            ..self.config.clone()
        };
        *self = Self::new(config)?;
        Ok(())
    }

    /// Applies one change; data or architecture changes start a new run.
    pub fn set_hyper(&mut self, hyper: Hyper) -> Result<(), String> {
        let mut config = self.config.clone();
        match hyper {
            Hyper::LearningRate(lr) => {
                if !(lr > 0.0 && lr.is_finite()) {
                    return Err(format!("learning rate {lr} is not positive"));
                }
                self.config.learning_rate = lr;
                self.optimizer.set_lr(lr);
                return Ok(());
            }
            Hyper::BatchSize(batch) => {
                if batch == 0 {
                    return Err("batch size must be at least 1".into());
                }
                self.config.batch_size = batch;
                return Ok(());
            }
            Hyper::Optimizer(choice) => {
                // A new optimizer has no moments yet; the weights stay.
                self.config.optimizer = choice;
                self.optimizer = optimizer(choice, self.config.learning_rate);
                return Ok(());
            }
            Hyper::Speed(speed) => {
                self.config.speed = speed;
                return Ok(());
            }
            Hyper::Dataset(d) => config.dataset = d,
            Hyper::Hidden(h) => config.hidden = h,
            Hyper::Activation(a) => config.activation = a,
            Hyper::Noise(n) => config.noise = n,
        }
        *self = Self::new(config)?;
        Ok(())
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
        self.last_loss = stats.loss;
        self.unsent_losses.push((self.step, stats.loss));
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
        NamedTensor::new("decision", vec![GRID, GRID, classes], data)
    }

    /// What the page draws. `heavy` adds the decision heatmap and the
    /// accuracy over all points; `with_data` adds the points themselves
    /// (needed only once per run).
    pub fn snapshot(&mut self, heavy: bool, with_data: bool) -> Snapshot {
        let mut snapshot = Snapshot {
            step: self.step,
            loss: self.last_loss,
            new_losses: core::mem::take(&mut self.unsent_losses),
            error: self.diverged.clone(),
            ..Snapshot::default()
        };
        if heavy {
            snapshot.metrics.push(("accuracy".into(), self.accuracy()));
            snapshot.tensors.push(self.decision_grid());
        }
        if with_data {
            let n = self.dataset.points.len();
            snapshot.tensors.push(NamedTensor::new(
                "points",
                vec![n, 2],
                self.dataset.points.iter().flat_map(|p| [p[0], p[1]]).collect(),
            ));
            snapshot.tensors.push(NamedTensor::new(
                "labels",
                vec![n],
                self.dataset.labels.iter().map(|&l| l as f32).collect(),
            ));
            snapshot
                .tensors
                .push(NamedTensor::new("extent", vec![1], vec![self.extent]));
        }
        snapshot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dataset: DatasetChoice) -> PlaygroundConfig {
        PlaygroundConfig {
            dataset,
            ..PlaygroundConfig::default()
        }
    }

    #[test]
    fn training_lowers_the_loss_and_learns_the_data() {
        let mut trainer = PlaygroundTrainer::new(config(DatasetChoice::Moons)).unwrap();
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
        let mut trained = PlaygroundTrainer::new(config(DatasetChoice::Moons)).unwrap();
        for _ in 0..100 {
            trained.train_step().unwrap();
        }
        let file = trained.export_weights();
        // Same data (same seed), untrained weights.
        let mut fresh = PlaygroundTrainer::new(config(DatasetChoice::Moons)).unwrap();
        assert_ne!(fresh.accuracy(), trained.accuracy());
        let wider = PlaygroundTrainer::new(PlaygroundConfig {
            hidden: vec![8],
            ..config(DatasetChoice::Moons)
        })
        .unwrap();
        let message = fresh.import_weights(&wider.export_weights()).unwrap_err();
        assert!(message.contains("unchanged"), "{message}");
        fresh.import_weights(&file).unwrap();
        assert_eq!(fresh.accuracy(), trained.accuracy());
    }

    #[test]
    fn the_same_seed_gives_the_same_run() {
        let run = || {
            let mut t = PlaygroundTrainer::new(config(DatasetChoice::Spiral)).unwrap();
            (0..20).map(|_| t.train_step().unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn snapshots_carry_new_losses_once_and_well_formed_tensors() {
        let mut trainer = PlaygroundTrainer::new(config(DatasetChoice::Spiral)).unwrap();
        for _ in 0..5 {
            trainer.train_step().unwrap();
        }
        let snapshot = trainer.snapshot(true, true);
        assert_eq!(snapshot.step, 5);
        assert_eq!(snapshot.new_losses.len(), 5);
        assert!(trainer.snapshot(false, false).new_losses.is_empty());
        let grid = snapshot.tensor("decision").unwrap();
        assert_eq!(grid.shape, vec![GRID, GRID, 3]);
        assert!(grid.data.iter().all(|p| (0.0..=1.0).contains(p)));
        let points = snapshot.tensor("points").unwrap();
        assert_eq!(points.shape, vec![3 * POINTS_PER_CLASS, 2]);
        let accuracy = snapshot.metric("accuracy").unwrap();
        assert!((0.0..=1.0).contains(&accuracy));
    }

    #[test]
    fn a_huge_learning_rate_diverges_and_reset_recovers() {
        let mut trainer = PlaygroundTrainer::new(PlaygroundConfig {
            optimizer: OptimizerChoice::Sgd,
            learning_rate: 1e6,
            ..PlaygroundConfig::default()
        })
        .unwrap();
        let failure = (0..500).find_map(|_| trainer.train_step().err());
        let message = failure.expect("lr 1e6 with momentum should diverge");
        assert!(message.contains("Lower the learning rate"), "{message}");
        assert!(trainer.train_step().is_err(), "stays failed until reset");
        assert!(trainer.snapshot(false, false).error.is_some());
        trainer.set_hyper(Hyper::LearningRate(0.01)).unwrap();
        trainer.reset(42).unwrap();
        assert!(trainer.train_step().is_ok());
        assert!(trainer.snapshot(false, false).error.is_none());
    }

    #[test]
    fn architecture_changes_restart_and_learning_rate_changes_do_not() {
        let mut trainer = PlaygroundTrainer::new(config(DatasetChoice::Circles)).unwrap();
        trainer.train_step().unwrap();
        trainer.set_hyper(Hyper::LearningRate(0.05)).unwrap();
        assert_eq!(trainer.step(), 1);
        trainer.set_hyper(Hyper::Hidden(vec![8])).unwrap();
        assert_eq!(trainer.step(), 0);
        assert_eq!(trainer.config().hidden, vec![8]);
        assert_eq!(trainer.config().learning_rate, 0.05);
        assert!(trainer.set_hyper(Hyper::BatchSize(0)).is_err());
    }
}

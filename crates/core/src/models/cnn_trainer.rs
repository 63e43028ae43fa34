//! The CNN lab's training loop, independent of the browser: minibatches from
//! a seeded shuffle of the 8,000 training digits, optional shift augmentation,
//! and a test-set evaluation done in chunks so that it never stalls training.

use crate::data::mnist::Mnist;
use crate::error::{Error, Result};
use crate::limits;
use crate::metrics::ConfusionMatrix;
use crate::models::cnn::{Cnn, CnnConfig};
use crate::models::StepStats;
use crate::optim::Optimizer;
use crate::rng::Rng;
use crate::tensor::argmax_rows;
use alloc::format;
use alloc::vec::Vec;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OptimizerChoice {
    /// SGD with this momentum.
    Sgd {
        momentum: f32,
    },
    Adam,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CnnHyper {
    pub learning_rate: f32,
    pub batch_size: usize,
    pub optimizer: OptimizerChoice,
    /// Random shifts of up to 2 pixels.
    pub augment: bool,
}

impl Default for CnnHyper {
    /// A reference trainer of this network reaches 97% after about 1,250
    /// steps and 98% after about 6,000 with Adam at 3e-3 and batch 32.
    fn default() -> Self {
        CnnHyper {
            learning_rate: 3e-3,
            batch_size: 32,
            optimizer: OptimizerChoice::Adam,
            augment: false,
        }
    }
}

impl CnnHyper {
    /// Each value within its range in [`crate::limits`].
    pub fn validate(&self) -> Result<()> {
        const OP: &str = "hyperparameters";
        limits::LEARNING_RATE.check(OP, "learning rate", self.learning_rate)?;
        limits::BATCH_SIZE.check(OP, "batch size", self.batch_size)?;
        if let OptimizerChoice::Sgd { momentum } = self.optimizer {
            limits::MOMENTUM.check(OP, "momentum", momentum)?;
        }
        Ok(())
    }

    fn optimizer(&self) -> Optimizer {
        match self.optimizer {
            OptimizerChoice::Sgd { momentum } => Optimizer::sgd(self.learning_rate, momentum, 0.0),
            OptimizerChoice::Adam => Optimizer::adam(self.learning_rate),
        }
    }
}

/// A finished pass over the test split.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Training step at which the pass started.
    pub step: u64,
    pub accuracy: f32,
    /// classes x classes (the model's), rows are true classes.
    pub confusion: ConfusionMatrix,
    /// (dataset index, predicted class) of misclassified test digits.
    pub mistakes: Vec<(usize, usize)>,
}

/// Hyperparameters valid on their own and for a training set of `train_len`
/// examples (a minibatch is drawn without repeats).
fn check_hyper(hyper: &CnnHyper, train_len: usize) -> Result<()> {
    hyper.validate()?;
    if train_len < hyper.batch_size {
        return Err(Error::invalid(
            "cnn",
            format!(
                "batch size {} is larger than the training set ({train_len} examples)",
                hyper.batch_size
            ),
        ));
    }
    Ok(())
}

pub struct CnnTrainer {
    pub model: Cnn,
    pub hyper: CnnHyper,
    pub step: u64,
    opt: Optimizer,
    rng: Rng,
    order: Vec<usize>,
    cursor: usize,
    // The evaluation in progress: next test index, step it started, predictions so far.
    eval_next: usize,
    eval_step: u64,
    eval_predictions: Vec<usize>,
}

impl CnnTrainer {
    pub fn new(data: &Mnist, config: &CnnConfig, hyper: CnnHyper, seed: u64) -> Result<Self> {
        check_hyper(&hyper, data.train_indices().len())?;
        let mut rng = Rng::new(seed);
        let model = Cnn::new(config, &mut rng)?;
        let order = data.train_indices().collect();
        Ok(CnnTrainer {
            model,
            hyper,
            step: 0,
            opt: hyper.optimizer(),
            rng,
            order,
            cursor: usize::MAX,
            eval_next: 0,
            eval_step: 0,
            eval_predictions: Vec::new(),
        })
    }

    /// Change learning rate (kept: optimizer state) or other settings (a new
    /// optimizer of the chosen kind when the kind changes).
    /// The same checks as [`CnnTrainer::new`]: nothing changes on an error.
    pub fn set_hyper(&mut self, hyper: CnnHyper) -> Result<()> {
        check_hyper(&hyper, self.order.len())?;
        if core::mem::discriminant(&hyper.optimizer) != core::mem::discriminant(&self.hyper.optimizer) {
            self.opt = hyper.optimizer();
        } else {
            self.opt.set_lr(hyper.learning_rate);
            if let (Optimizer::Sgd(s), OptimizerChoice::Sgd { momentum }) = (&mut self.opt, hyper.optimizer) {
                s.momentum = momentum;
            }
        }
        self.hyper = hyper;
        Ok(())
    }

    /// One minibatch step.
    pub fn train_step(&mut self, data: &Mnist) -> Result<StepStats> {
        let batch = self.hyper.batch_size;
        if self.cursor.saturating_add(batch) > self.order.len() {
            self.rng.shuffle(&mut self.order);
            self.cursor = 0;
        }
        let indices = self
            .order
            .get(self.cursor..self.cursor + batch)
            .ok_or_else(|| Error::invalid("cnn", "batch size is larger than the training set"))?;
        self.cursor += batch;
        let shift = self.hyper.augment.then_some((&mut self.rng, 2));
        let (x, y) = data.batch(indices, shift);
        let stats = self.model.train_step(&x, &y, &mut self.opt)?;
        self.step += 1;
        Ok(stats)
    }

    /// Drop the pass in progress: the next [`CnnTrainer::evaluate_chunk`]
    /// starts a new one with the current weights.
    pub fn restart_evaluation(&mut self) {
        self.eval_next = 0;
    }

    /// Evaluate up to `chunk` more test digits with the current weights; when
    /// the pass over the test split completes, returns its result and starts
    /// the next pass at the following call.
    pub fn evaluate_chunk(&mut self, data: &Mnist, chunk: usize) -> Result<Option<Evaluation>> {
        let test = data.test_indices();
        if test.is_empty() {
            return Ok(None);
        }
        if self.eval_next == 0 {
            self.eval_step = self.step;
            self.eval_predictions.clear();
        }
        let start = test.start + self.eval_next;
        let end = (start + chunk.max(1)).min(test.end);
        let indices: Vec<usize> = (start..end).collect();
        let (x, _) = data.batch(&indices, None);
        let probs = self.model.predict_proba(&x)?;
        self.eval_predictions.extend(argmax_rows(&probs));
        self.eval_next = end - test.start;
        if end < test.end {
            return Ok(None);
        }
        self.eval_next = 0;
        let labels: Vec<usize> = test.clone().map(|i| usize::from(data.labels[i])).collect();
        let hits = self
            .eval_predictions
            .iter()
            .zip(&labels)
            .filter(|(p, l)| p == l)
            .count();
        let mistakes = test
            .zip(self.eval_predictions.iter().zip(&labels))
            .filter(|(_, (p, l))| p != l)
            .map(|(i, (&p, _))| (i, p))
            .collect();
        Ok(Some(Evaluation {
            step: self.eval_step,
            accuracy: hits as f32 / labels.len() as f32,
            confusion: ConfusionMatrix::from_predictions(&self.eval_predictions, &labels, self.model.config.classes),
            mistakes,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    /// `count` blank 28x28 digits, labelled 0, 1, 2, ...: all training data.
    fn tiny_mnist(count: usize) -> Mnist {
        Mnist {
            rows: 28,
            cols: 28,
            pixels: vec![0; count * 28 * 28],
            labels: (0..count).map(|i| (i % 10) as u8).collect(),
        }
    }

    #[test]
    fn hyperparameters_are_checked_against_the_shared_limits() {
        let ok = CnnHyper::default();
        assert!(ok.validate().is_ok());
        for (bad, needle) in [
            (
                CnnHyper {
                    learning_rate: 0.0,
                    ..ok
                },
                "learning rate must be greater than 0 and at most 10, got 0",
            ),
            (
                CnnHyper {
                    learning_rate: 11.0,
                    ..ok
                },
                "learning rate",
            ),
            (
                CnnHyper { batch_size: 0, ..ok },
                "batch size must be from 1 to 512, got 0",
            ),
            (
                CnnHyper { batch_size: 513, ..ok },
                "batch size must be from 1 to 512, got 513",
            ),
            (
                CnnHyper {
                    optimizer: OptimizerChoice::Sgd { momentum: 1.0 },
                    ..ok
                },
                "momentum must be at least 0 and less than 1, got 1",
            ),
        ] {
            let msg = bad.validate().unwrap_err().to_string();
            assert!(msg.contains(needle), "{msg}");
        }
        assert!(CnnHyper { batch_size: 512, ..ok }.validate().is_ok());
    }

    #[test]
    fn evaluation_has_a_confusion_matrix_of_the_model_s_class_count() {
        // 8,000 training digits, then 30 test digits.
        let data = tiny_mnist(8030);
        for classes in [10, 12] {
            let config = CnnConfig {
                classes,
                ..CnnConfig::mnist_default()
            };
            let mut t = CnnTrainer::new(&data, &config, CnnHyper::default(), 1).unwrap();
            let eval = t.evaluate_chunk(&data, 100).unwrap().unwrap();
            assert_eq!(eval.confusion.shape(), [classes, classes]);
            assert_eq!(eval.confusion.iter().count(), classes * classes);
            assert_eq!(eval.confusion.total(), 30);
            assert_eq!(eval.confusion.correct() as usize, 30 - eval.mistakes.len());
            assert!((eval.accuracy - eval.confusion.correct() as f32 / 30.0).abs() < 1e-6);
        }
    }

    #[test]
    fn set_hyper_refuses_a_batch_larger_than_the_training_set_as_new_does() {
        let data = tiny_mnist(20);
        let config = CnnConfig::mnist_default();
        let small = CnnHyper {
            batch_size: 16,
            ..CnnHyper::default()
        };
        let large = CnnHyper {
            batch_size: 32,
            ..CnnHyper::default()
        };
        let msg = CnnTrainer::new(&data, &config, large, 1).err().unwrap().to_string();
        assert!(msg.contains("larger than the training set (20 examples)"), "{msg}");
        let mut t = CnnTrainer::new(&data, &config, small, 1).unwrap();
        t.train_step(&data).unwrap();
        let msg = t.set_hyper(large).unwrap_err().to_string();
        assert!(msg.contains("larger than the training set (20 examples)"), "{msg}");
        // Refused: nothing changed, and training goes on.
        assert_eq!(t.hyper, small);
        t.train_step(&data).unwrap();
        assert_eq!(t.step, 2);
        let invalid = CnnHyper {
            learning_rate: f32::NAN,
            ..small
        };
        assert!(t.set_hyper(invalid).is_err());
        assert_eq!(t.hyper, small);
    }
}

//! The Sequences lab's tasks, generated from a seeded [`Rng`]: the same seed
//! gives the same sequences. Every batch is time-major, `x [T, N, I]`, the
//! layout the recurrent layers take.
//!
//! - [`SequenceTask::FirstSymbol`]: one of [`SYMBOLS`] symbols at step 0,
//!   random distractors (from a separate set) after it, a query marker at the
//!   last step; the answer is the first symbol. Chance is 1 / [`SYMBOLS`].
//!   Nothing between the first and last step helps: the network must carry
//!   the symbol across the whole sequence, the textbook test of memory.
//! - [`SequenceTask::Adding`]: Hochreiter and Schmidhuber's adding problem.
//!   Each step holds a value in [0, 1) and a marker; two steps are marked
//!   (one in each half) and the answer is the sum of their values.
//! - [`SequenceTask::Sines`]: a noisy sum of two sines; at every step the
//!   network predicts the next (noise-free) value.

use crate::rng::Rng;
use crate::tensor::{zeros, Tensor};
use alloc::vec::Vec;
use core::f32::consts::PI;

/// Symbols the first-symbol task asks to remember (chance: 1 in 4).
pub const SYMBOLS: usize = 4;
/// Distractor symbols that fill the middle of a first-symbol sequence.
pub const DISTRACTORS: usize = 4;
/// An adding-problem answer counts as right within this distance.
pub const ADDING_TOLERANCE: f32 = 0.1;
/// A time-series prediction counts as right within this distance.
pub const SINES_TOLERANCE: f32 = 0.1;
/// Standard deviation of the noise on the time series the network sees.
pub const SINES_NOISE: f32 = 0.05;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SequenceTask {
    FirstSymbol,
    Adding,
    Sines,
}

/// What a batch asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum SequenceTarget {
    /// A class per sequence, answered at the last step: [N].
    Classes(Vec<usize>),
    /// A value per sequence, answered at the last step: [N, 1].
    Value(Tensor),
    /// A value at every step: [T, N, 1].
    Series(Tensor),
}

/// `N` sequences of one task.
#[derive(Clone, Debug, PartialEq)]
pub struct SequenceBatch {
    /// [T, N, input_size]
    pub x: Tensor,
    pub target: SequenceTarget,
}

impl SequenceBatch {
    pub fn len(&self) -> usize {
        self.x.shape()[0]
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn batch_size(&self) -> usize {
        self.x.shape()[1]
    }

    /// Sequences `range` of the batch (clamped to it), as a batch of their own.
    pub fn sequences(&self, range: core::ops::Range<usize>) -> SequenceBatch {
        let n = self.batch_size();
        let range = range.start.min(n)..range.end.min(n).max(range.start.min(n));
        let columns = ndarray::s![.., range.clone(), ..];
        SequenceBatch {
            x: self.x.slice(columns).to_owned().into_dyn(),
            target: match &self.target {
                SequenceTarget::Classes(labels) => SequenceTarget::Classes(labels[range].to_vec()),
                SequenceTarget::Value(truth) => {
                    SequenceTarget::Value(truth.slice(ndarray::s![range, ..]).to_owned().into_dyn())
                }
                SequenceTarget::Series(truth) => SequenceTarget::Series(truth.slice(columns).to_owned().into_dyn()),
            },
        }
    }
}

impl SequenceTask {
    /// Features per time step.
    pub fn input_size(self) -> usize {
        match self {
            SequenceTask::FirstSymbol => SYMBOLS + DISTRACTORS + 1,
            SequenceTask::Adding => 2,
            SequenceTask::Sines => 1,
        }
    }

    /// Outputs of the read-out: class scores or one value.
    pub fn output_size(self) -> usize {
        match self {
            SequenceTask::FirstSymbol => SYMBOLS,
            SequenceTask::Adding | SequenceTask::Sines => 1,
        }
    }

    /// Whether the answer is read at every step (else at the last one).
    pub fn every_step(self) -> bool {
        self == SequenceTask::Sines
    }

    /// `n` sequences of `length` steps (at least 2).
    pub fn generate(self, length: usize, n: usize, rng: &mut Rng) -> SequenceBatch {
        let length = length.max(2);
        let inputs = self.input_size();
        let mut x = zeros(&[length, n, inputs]);
        let target = match self {
            SequenceTask::FirstSymbol => {
                let query = SYMBOLS + DISTRACTORS;
                let mut labels = Vec::with_capacity(n);
                for i in 0..n {
                    let symbol = rng.below(SYMBOLS);
                    labels.push(symbol);
                    x[[0, i, symbol]] = 1.0;
                    for t in 1..length - 1 {
                        x[[t, i, SYMBOLS + rng.below(DISTRACTORS)]] = 1.0;
                    }
                    x[[length - 1, i, query]] = 1.0;
                }
                SequenceTarget::Classes(labels)
            }
            SequenceTask::Adding => {
                let mut sums = zeros(&[n, 1]);
                let half = length / 2;
                for i in 0..n {
                    for t in 0..length {
                        x[[t, i, 0]] = rng.uniform();
                    }
                    let first = rng.below(half);
                    let second = half + rng.below(length - half);
                    x[[first, i, 1]] = 1.0;
                    x[[second, i, 1]] = 1.0;
                    sums[[i, 0]] = x[[first, i, 0]] + x[[second, i, 0]];
                }
                SequenceTarget::Value(sums)
            }
            SequenceTask::Sines => {
                let mut next = zeros(&[length, n, 1]);
                for i in 0..n {
                    // Two sines, periods 8 to 40 steps, amplitudes summing to
                    // at most 0.9: values stay inside tanh's useful range.
                    let waves: [(f32, f32, f32); 2] = core::array::from_fn(|k| {
                        let period = rng.uniform_range(8.0, 40.0);
                        let amplitude = if k == 0 {
                            rng.uniform_range(0.3, 0.6)
                        } else {
                            rng.uniform_range(0.1, 0.3)
                        };
                        (2.0 * PI / period, amplitude, rng.uniform_range(0.0, 2.0 * PI))
                    });
                    let clean = |t: usize| {
                        waves
                            .iter()
                            .map(|&(w, a, p)| a * libm::sinf(w * t as f32 + p))
                            .sum::<f32>()
                    };
                    for t in 0..length {
                        x[[t, i, 0]] = clean(t) + SINES_NOISE * rng.normal();
                        next[[t, i, 0]] = clean(t + 1);
                    }
                }
                SequenceTarget::Series(next)
            }
        };
        SequenceBatch { x, target }
    }

    /// What a model that learned nothing scores: the best constant answer.
    pub fn chance(self) -> f32 {
        match self {
            SequenceTask::FirstSymbol => 1.0 / SYMBOLS as f32,
            // Always answering 1 (the mean sum): P(|s - 1| < 0.1) for s the
            // sum of two uniforms is 1 - 0.9^2 = 0.19.
            SequenceTask::Adding => 1.0 - (1.0 - ADDING_TOLERANCE) * (1.0 - ADDING_TOLERANCE),
            // Always answering 0: only near-zero points; depends on the
            // waves, about a quarter.
            SequenceTask::Sines => 0.25,
        }
    }
}

/// The fraction of `predictions` that are right: for classes, the top score
/// is the label; for values, within the task's tolerance. `predictions` is
/// [N, classes] or [N, 1] (last step) or [T * N, 1] (every step).
pub fn score(task: SequenceTask, predictions: &Tensor, target: &SequenceTarget) -> f32 {
    let (right, total) = score_counts(task, predictions, target);
    if total == 0 {
        0.0
    } else {
        right as f32 / total as f32
    }
}

/// What [`score`] counts: (answers right, answers), so that the scores of
/// several batches add up exactly.
pub fn score_counts(task: SequenceTask, predictions: &Tensor, target: &SequenceTarget) -> (usize, usize) {
    let Some(p) = predictions.as_slice() else {
        return (0, 0);
    };
    match target {
        SequenceTarget::Classes(labels) => {
            let k = task.output_size();
            let right =
                p.chunks_exact(k)
                    .zip(labels)
                    .filter(|(scores, &label)| {
                        let best = scores.iter().enumerate().fold((0, f32::NEG_INFINITY), |best, (j, &v)| {
                            if v > best.1 {
                                (j, v)
                            } else {
                                best
                            }
                        });
                        best.0 == label
                    })
                    .count();
            (right, labels.len())
        }
        SequenceTarget::Value(truth) | SequenceTarget::Series(truth) => {
            let tolerance = if task == SequenceTask::Adding {
                ADDING_TOLERANCE
            } else {
                SINES_TOLERANCE
            };
            let right = p
                .iter()
                .zip(truth.iter())
                .filter(|(a, b)| libm::fabsf(*a - *b) < tolerance)
                .count();
            (right, truth.len())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn the_same_seed_gives_the_same_sequences() {
        for task in [SequenceTask::FirstSymbol, SequenceTask::Adding, SequenceTask::Sines] {
            let a = task.generate(12, 5, &mut Rng::new(7));
            let b = task.generate(12, 5, &mut Rng::new(7));
            let c = task.generate(12, 5, &mut Rng::new(8));
            assert_eq!(a, b, "{task:?}");
            assert_ne!(a, c, "{task:?}");
            assert_eq!(a.x.shape(), &[12, 5, task.input_size()]);
        }
    }

    #[test]
    fn first_symbol_sequences_hold_the_answer_only_at_step_zero() {
        let batch = SequenceTask::FirstSymbol.generate(6, 50, &mut Rng::new(1));
        let SequenceTarget::Classes(labels) = &batch.target else {
            panic!("classes expected")
        };
        for (i, &label) in labels.iter().enumerate() {
            assert_eq!(batch.x[[0, i, label]], 1.0);
            for t in 0..6 {
                let row: Vec<f32> = (0..9).map(|k| batch.x[[t, i, k]]).collect();
                assert_eq!(row.iter().sum::<f32>(), 1.0, "one-hot");
                let symbol = row.iter().position(|&v| v == 1.0).unwrap();
                match t {
                    0 => assert!(symbol < SYMBOLS),
                    5 => assert_eq!(symbol, SYMBOLS + DISTRACTORS),
                    _ => assert!((SYMBOLS..SYMBOLS + DISTRACTORS).contains(&symbol)),
                }
            }
        }
        // All symbols occur.
        assert!((0..SYMBOLS).all(|s| labels.contains(&s)));
    }

    #[test]
    fn adding_marks_two_steps_one_in_each_half_and_sums_them() {
        let batch = SequenceTask::Adding.generate(10, 30, &mut Rng::new(2));
        let SequenceTarget::Value(sums) = &batch.target else {
            panic!("value expected")
        };
        for i in 0..30 {
            let marked: Vec<usize> = (0..10).filter(|&t| batch.x[[t, i, 1]] == 1.0).collect();
            assert_eq!(marked.len(), 2);
            assert!(marked[0] < 5 && marked[1] >= 5);
            let sum = batch.x[[marked[0], i, 0]] + batch.x[[marked[1], i, 0]];
            assert!((sums[[i, 0]] - sum).abs() < 1e-6);
        }
    }

    #[test]
    fn sines_targets_are_the_next_clean_value() {
        let batch = SequenceTask::Sines.generate(30, 4, &mut Rng::new(3));
        let SequenceTarget::Series(next) = &batch.target else {
            panic!("series expected")
        };
        // The input at t + 1 is the target at t plus noise of std 0.05.
        let mut diffs = Vec::new();
        for i in 0..4 {
            for t in 0..29 {
                diffs.push(batch.x[[t + 1, i, 0]] - next[[t, i, 0]]);
            }
        }
        let rms = libm::sqrtf(diffs.iter().map(|d| d * d).sum::<f32>() / diffs.len() as f32);
        assert!(rms > 0.02 && rms < 0.09, "noise rms {rms}");
        assert!(next.iter().all(|v| v.abs() <= 0.9 + 1e-6));
    }

    #[test]
    fn scores_count_right_answers() {
        let task = SequenceTask::FirstSymbol;
        let logits = crate::tensor::from_vec(&[2, 4], vec![0., 1., 0., 0., 2., 0., 0., 0.]).unwrap();
        assert_eq!(score(task, &logits, &SequenceTarget::Classes(vec![1, 3])), 0.5);
        let truth = crate::tensor::from_vec(&[2, 1], vec![1.0, 0.5]).unwrap();
        let guess = crate::tensor::from_vec(&[2, 1], vec![1.05, 0.8]).unwrap();
        assert_eq!(score(SequenceTask::Adding, &guess, &SequenceTarget::Value(truth)), 0.5);
    }
}

//! Evaluation measures the labs display.

use crate::tensor::{argmax_rows, Tensor};
use alloc::vec;
use alloc::vec::Vec;

/// Fraction of rows whose largest logit (or probability) is the label; 0
/// for no labels.
pub fn accuracy(logits: &Tensor, labels: &[usize]) -> f32 {
    if labels.is_empty() {
        return 0.0;
    }
    let hits = argmax_rows(logits).iter().zip(labels).filter(|(p, l)| p == l).count();
    hits as f32 / labels.len() as f32
}

/// counts[true_class * classes + predicted_class]
pub fn confusion_matrix(predictions: &[usize], labels: &[usize], classes: usize) -> Vec<u32> {
    let mut counts = vec![0u32; classes * classes];
    for (&p, &l) in predictions.iter().zip(labels) {
        if p < classes && l < classes {
            counts[l * classes + p] += 1;
        }
    }
    counts
}

/// Exponential moving average for smoothing a noisy loss curve, with the
/// start-up bias removed (as TensorBoard's smoothing does).
#[derive(Debug, Clone, Default)]
pub struct Ema {
    value: f64,
    weight: f64,
    count: u32,
}

impl Ema {
    pub fn push(&mut self, x: f32, decay: f32) -> f32 {
        let d = f64::from(decay);
        self.value = d * self.value + (1.0 - d) * f64::from(x);
        self.count += 1;
        self.weight = 1.0 - libm::pow(d, f64::from(self.count));
        (self.value / self.weight) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_counts_rows_whose_argmax_is_the_label() {
        let logits = crate::tensor::from_vec(&[3, 2], vec![0.9, 0.1, 0.2, 0.8, 0.7, 0.3]).unwrap();
        assert_eq!(accuracy(&logits, &[0, 1, 1]), 2.0 / 3.0);
        assert_eq!(accuracy(&logits, &[]), 0.0);
        // The old path still names the same function.
        assert_eq!(crate::models::mlp::accuracy(&logits, &[0, 1, 0]), 1.0);
    }

    #[test]
    fn confusion_counts_rows_by_truth() {
        let m = confusion_matrix(&[0, 1, 1, 2], &[0, 1, 2, 2], 3);
        assert_eq!(m, vec![1, 0, 0, 0, 1, 0, 0, 1, 1]);
    }

    #[test]
    fn ema_is_unbiased_from_the_first_value() {
        let mut e = Ema::default();
        assert!((e.push(2.0, 0.9) - 2.0).abs() < 1e-6);
        assert!((e.push(2.0, 0.9) - 2.0).abs() < 1e-6);
        let v = e.push(4.0, 0.9);
        assert!(v > 2.0 && v < 3.0);
    }
}

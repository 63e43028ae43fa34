//! Evaluation measures the labs display.

use alloc::vec;
use alloc::vec::Vec;

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

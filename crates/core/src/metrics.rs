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

/// How often each true class was predicted as each class, for any number
/// of classes: a `classes` x `classes` table whose rows are true classes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfusionMatrix {
    pub classes: usize,
    /// Row-major: `counts[truth * classes + predicted]`.
    pub counts: Vec<u32>,
}

impl ConfusionMatrix {
    /// All zeros.
    pub fn new(classes: usize) -> Self {
        ConfusionMatrix {
            classes,
            counts: vec![0; classes * classes],
        }
    }

    /// The table of paired predictions and labels; pairs with a class out of
    /// range are left out.
    pub fn from_predictions(predictions: &[usize], labels: &[usize], classes: usize) -> Self {
        let mut m = ConfusionMatrix::new(classes);
        for (&p, &l) in predictions.iter().zip(labels) {
            m.add(l, p);
        }
        m
    }

    /// Count one example; false (and nothing counted) when a class is out of range.
    pub fn add(&mut self, truth: usize, predicted: usize) -> bool {
        if truth >= self.classes || predicted >= self.classes {
            return false;
        }
        self.counts[truth * self.classes + predicted] += 1;
        true
    }

    /// Examples of class `truth` predicted as `predicted` (0 out of range).
    pub fn get(&self, truth: usize, predicted: usize) -> u32 {
        if truth >= self.classes || predicted >= self.classes {
            return 0;
        }
        self.counts[truth * self.classes + predicted]
    }

    /// [classes, classes], as a tensor of the counts would have.
    pub fn shape(&self) -> [usize; 2] {
        [self.classes, self.classes]
    }

    /// The counts row by row.
    pub fn iter(&self) -> core::slice::Iter<'_, u32> {
        self.counts.iter()
    }

    /// Examples counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|&c| u64::from(c)).sum()
    }

    /// Examples on the diagonal: predicted right.
    pub fn correct(&self) -> u64 {
        (0..self.classes).map(|c| u64::from(self.get(c, c))).sum()
    }
}

impl<'a> IntoIterator for &'a ConfusionMatrix {
    type Item = &'a u32;
    type IntoIter = core::slice::Iter<'a, u32>;
    fn into_iter(self) -> Self::IntoIter {
        self.counts.iter()
    }
}

/// The sliced Wasserstein-2 distance between two sets of 2-D points (flat
/// `[x0, y0, ..]`): project both onto `projections` directions spread evenly
/// over the half circle, match the projections' quantiles (sorted order),
/// and take the root mean squared gap. 0 for the same set; in the points'
/// units, so a sample 0.1 off everywhere scores about 0.1. Sets of different
/// sizes are compared at the larger one's quantiles. NaN if either is empty.
pub fn sliced_wasserstein_2d(a: &[f32], b: &[f32], projections: usize) -> f32 {
    let (n, m) = (a.len() / 2, b.len() / 2);
    if n == 0 || m == 0 || projections == 0 {
        return f32::NAN;
    }
    let project = |points: &[f32], (c, s): (f32, f32)| {
        let mut p: Vec<f32> = points.chunks_exact(2).map(|q| c * q[0] + s * q[1]).collect();
        p.sort_unstable_by(|x, y| x.total_cmp(y));
        p
    };
    let k = n.max(m);
    let mut total = 0.0f64;
    for j in 0..projections {
        let angle = core::f32::consts::PI * j as f32 / projections as f32;
        let direction = (libm::cosf(angle), libm::sinf(angle));
        let (pa, pb) = (project(a, direction), project(b, direction));
        for i in 0..k {
            let gap = pa[i * n / k] - pb[i * m / k];
            total += (gap * gap) as f64;
        }
    }
    libm::sqrt(total / (projections * k) as f64) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliced_wasserstein_measures_how_far_sets_are() {
        let a = [0.0f32, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        assert_eq!(sliced_wasserstein_2d(&a, &a, 16), 0.0);
        // A shift by (0.3, 0.4), length 0.5: each projection moves by
        // 0.5 cos(angle to the shift); the mean of cos^2 over the half circle is 1/2.
        let shifted: Vec<f32> = a.chunks(2).flat_map(|p| [p[0] + 0.3, p[1] + 0.4]).collect();
        let d = sliced_wasserstein_2d(&a, &shifted, 64);
        assert!((d - 0.5 / libm::sqrtf(2.0)).abs() < 1e-3, "{d}");
        // Order does not matter; a set repeated matches itself.
        let reversed: Vec<f32> = a.chunks(2).rev().flatten().copied().collect();
        assert!(sliced_wasserstein_2d(&a, &reversed, 16) < 1e-6);
        let doubled: Vec<f32> = a.iter().chain(a.iter()).copied().collect();
        assert!(sliced_wasserstein_2d(&a, &doubled, 16) < 1e-6);
        assert!(sliced_wasserstein_2d(&a, &[], 16).is_nan());
    }

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
        let m = ConfusionMatrix::from_predictions(&[0, 1, 1, 2], &[0, 1, 2, 2], 3);
        assert_eq!(m.counts, vec![1, 0, 0, 0, 1, 0, 0, 1, 1]);
        assert_eq!((m.get(2, 1), m.total(), m.correct(), m.shape()), (1, 4, 3, [3, 3]));
    }

    #[test]
    fn confusion_works_for_any_class_count() {
        for classes in [1, 2, 10, 37] {
            let predictions: Vec<usize> = (0..500).map(|i| (i * 7) % classes).collect();
            let labels: Vec<usize> = (0..500).map(|i| (i * 3) % classes).collect();
            let m = ConfusionMatrix::from_predictions(&predictions, &labels, classes);
            assert_eq!(m.counts.len(), classes * classes);
            assert_eq!(m.total(), 500);
            let hits = predictions.iter().zip(&labels).filter(|(p, l)| p == l).count();
            assert_eq!(m.correct(), hits as u64);
        }
        // Out-of-range classes are not counted, and never index out of bounds.
        let mut m = ConfusionMatrix::new(2);
        assert!(!m.add(2, 0) && !m.add(0, 5) && m.add(1, 0));
        assert_eq!((m.total(), m.get(9, 9)), (1, 0));
        assert_eq!(ConfusionMatrix::new(0).total(), 0);
    }
}

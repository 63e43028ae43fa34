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

/// Which modes of a mixture a set of samples covers (the GAN lab's
/// mode-collapse detector).
#[derive(Clone, Debug, PartialEq)]
pub struct ModeCoverage {
    /// Samples within `radius` of each mode.
    pub counts: Vec<usize>,
    /// Modes holding at least `min_share` of their fair share (samples / modes).
    pub covered: usize,
    /// The fraction of samples near no mode: between modes, or lost.
    pub off_mode: f32,
}

/// Counts the samples (flat `[x0, y0, ..]`) that lie within `radius` of
/// each of `modes` (the nearest one, if several), and calls a mode covered
/// when it holds at least `min_share` times the samples it would hold if
/// all of them were spread evenly over the modes. A generator that collapsed
/// onto three modes of eight covers 3, however sharp its samples are.
pub fn mode_coverage(samples: &[f32], modes: &[[f32; 2]], radius: f32, min_share: f32) -> ModeCoverage {
    let mut counts = alloc::vec![0usize; modes.len()];
    let n = samples.len() / 2;
    let mut off = 0usize;
    for p in samples.chunks_exact(2) {
        let nearest = modes
            .iter()
            .enumerate()
            .map(|(k, m)| (k, (p[0] - m[0]) * (p[0] - m[0]) + (p[1] - m[1]) * (p[1] - m[1])))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        match nearest {
            Some((k, d2)) if d2 <= radius * radius => counts[k] += 1,
            _ => off += 1,
        }
    }
    let needed = min_share * n as f32 / modes.len().max(1) as f32;
    let covered = counts.iter().filter(|&&c| c > 0 && c as f32 >= needed).count();
    ModeCoverage {
        counts,
        covered,
        off_mode: if n == 0 { 0.0 } else { off as f32 / n as f32 },
    }
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

    #[test]
    fn mode_coverage_counts_the_modes_that_hold_their_share() {
        let modes = [[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0]];
        // 8 samples: 4 at the first mode, 3 at the second, 1 at the third,
        // none at the fourth; a fair share is 2, and half of it is 1.
        let mut samples = alloc::vec![];
        for p in [
            [0.1, 0.0],
            [0.0, -0.1],
            [0.05, 0.05],
            [0.0, 0.0],
            [2.0, 0.1],
            [1.9, 0.0],
            [2.0, 0.0],
            [0.0, 2.1],
        ] {
            samples.extend(p);
        }
        let c = mode_coverage(&samples, &modes, 0.3, 0.5);
        assert_eq!(c.counts, alloc::vec![4, 3, 1, 0]);
        assert_eq!((c.covered, c.off_mode), (3, 0.0));
        // A stricter share drops the mode with one sample.
        assert_eq!(mode_coverage(&samples, &modes, 0.3, 1.0).covered, 2);
        // Between the modes counts for none of them.
        let between = [1.0, 1.0, 1.0, 0.0];
        let c = mode_coverage(&between, &modes, 0.3, 0.5);
        assert_eq!((c.covered, c.off_mode), (0, 1.0));
        assert_eq!(mode_coverage(&[], &modes, 0.3, 0.5).covered, 0);
    }
}

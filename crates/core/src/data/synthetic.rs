//! Classic 2-D classification datasets (as in scikit-learn and the TensorFlow
//! Playground): spirals, two moons, concentric circles. Points lie roughly in
//! [-1, 1]^2; noise is Gaussian with the given standard deviation.

use crate::rng::Rng;
use crate::tensor::Tensor;
use alloc::vec::Vec;
use core::f32::consts::PI;
use ndarray::IxDyn;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatasetKind {
    /// Three interleaved spiral arms: needs a deep, nonlinear boundary.
    Spiral,
    /// Two interleaving half circles.
    Moons,
    /// A disc inside a ring.
    Circles,
}

impl DatasetKind {
    pub fn classes(self) -> usize {
        match self {
            DatasetKind::Spiral => 3,
            DatasetKind::Moons | DatasetKind::Circles => 2,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DatasetKind::Spiral => "spiral",
            DatasetKind::Moons => "moons",
            DatasetKind::Circles => "circles",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Dataset2d {
    pub points: Vec<[f32; 2]>,
    pub labels: Vec<usize>,
    pub classes: usize,
}

impl Dataset2d {
    pub fn generate(kind: DatasetKind, n_per_class: usize, noise: f32, rng: &mut Rng) -> Self {
        let classes = kind.classes();
        let mut points = Vec::with_capacity(n_per_class * classes);
        let mut labels = Vec::with_capacity(n_per_class * classes);
        for class in 0..classes {
            for i in 0..n_per_class {
                let f = i as f32 / n_per_class.max(1) as f32;
                let [x, y] = match kind {
                    DatasetKind::Spiral => {
                        let radius = 0.05 + 0.9 * f;
                        let angle = class as f32 * 2.0 * PI / 3.0 + 1.25 * 2.0 * PI * f;
                        [radius * libm::cosf(angle), radius * libm::sinf(angle)]
                    }
                    DatasetKind::Moons => {
                        let angle = PI * rng.uniform();
                        if class == 0 {
                            [libm::cosf(angle) - 0.5, libm::sinf(angle) - 0.25]
                        } else {
                            [0.5 - libm::cosf(angle), 0.25 - libm::sinf(angle)]
                        }
                    }
                    DatasetKind::Circles => {
                        let angle = 2.0 * PI * rng.uniform();
                        let radius = if class == 0 {
                            0.35 * libm::sqrtf(rng.uniform())
                        } else {
                            0.65 + 0.25 * rng.uniform()
                        };
                        [radius * libm::cosf(angle), radius * libm::sinf(angle)]
                    }
                };
                points.push([x + noise * rng.normal(), y + noise * rng.normal()]);
                labels.push(class);
            }
        }
        Dataset2d {
            points,
            labels,
            classes,
        }
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The points at `indices` as an [N, 2] tensor, with their labels.
    pub fn batch(&self, indices: &[usize]) -> (Tensor, Vec<usize>) {
        let data: Vec<f32> = indices.iter().flat_map(|&i| self.points[i]).collect();
        let labels = indices.iter().map(|&i| self.labels[i]).collect();
        (
            Tensor::from_shape_vec(IxDyn(&[indices.len(), 2]), data).expect("sized"),
            labels,
        )
    }
}

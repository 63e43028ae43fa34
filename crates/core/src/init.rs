//! Weight initialisers. All draw from the crate's seeded [`Rng`].

use crate::rng::Rng;
use crate::tensor::Tensor;
use libm::sqrtf;
use ndarray::IxDyn;

/// Uniform in [-bound, bound).
pub fn uniform(shape: &[usize], bound: f32, rng: &mut Rng) -> Tensor {
    Tensor::from_shape_simple_fn(IxDyn(shape), || rng.uniform_range(-bound, bound))
}

/// Normal with mean 0 and the given standard deviation.
pub fn normal(shape: &[usize], std: f32, rng: &mut Rng) -> Tensor {
    Tensor::from_shape_simple_fn(IxDyn(shape), || std * rng.normal())
}

/// PyTorch's default for `nn.Linear`/`nn.Conv2d` weights and biases:
/// kaiming_uniform with a = sqrt(5), which is U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
pub fn pytorch_default(shape: &[usize], fan_in: usize, rng: &mut Rng) -> Tensor {
    uniform(shape, 1.0 / sqrtf(fan_in.max(1) as f32), rng)
}

/// He/Kaiming normal for layers followed by ReLU: std = sqrt(2 / fan_in).
pub fn kaiming_normal(shape: &[usize], fan_in: usize, rng: &mut Rng) -> Tensor {
    normal(shape, sqrtf(2.0 / fan_in.max(1) as f32), rng)
}

/// Glorot/Xavier uniform for tanh and sigmoid layers: bound = sqrt(6 / (fan_in + fan_out)).
pub fn xavier_uniform(shape: &[usize], fan_in: usize, fan_out: usize, rng: &mut Rng) -> Tensor {
    uniform(shape, sqrtf(6.0 / (fan_in + fan_out).max(1) as f32), rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kaiming_normal_has_the_he_variance() {
        let mut rng = Rng::new(5);
        let w = kaiming_normal(&[64, 200], 200, &mut rng);
        let var = w.iter().map(|v| v * v).sum::<f32>() / w.len() as f32;
        assert!((var - 2.0 / 200.0).abs() < 0.1 * 2.0 / 200.0, "{var}");
    }

    #[test]
    fn uniform_bounds_hold() {
        let mut rng = Rng::new(6);
        let w = xavier_uniform(&[30, 30], 30, 30, &mut rng);
        let bound = sqrtf(6.0 / 60.0);
        assert!(w.iter().all(|v| v.abs() <= bound));
        assert!(w.iter().any(|v| v.abs() > 0.9 * bound));
    }
}

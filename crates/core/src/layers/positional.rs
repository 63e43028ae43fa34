//! Sinusoidal positional encoding ("Attention Is All You Need", section 3.5):
//! PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(p / 10000^(2i/d)).
//! A constant, not a parameter: each position gets a unique pattern of
//! phases, and relative offsets are linear maps of it.

use crate::tensor::Tensor;
use ndarray::IxDyn;

/// [length, d_model]
pub fn positional_encoding(length: usize, d_model: usize) -> Tensor {
    Tensor::from_shape_fn(IxDyn(&[length, d_model]), |idx| {
        let (p, j) = (idx[0] as f64, idx[1]);
        let pair = (j / 2 * 2) as f64;
        let angle = p / libm::pow(10000.0, pair / d_model as f64);
        (if j % 2 == 0 { libm::sin(angle) } else { libm::cos(angle) }) as f32
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_formula_at_known_points() {
        let pe = positional_encoding(50, 16);
        assert_eq!(pe.shape(), &[50, 16]);
        assert_eq!(pe[[0, 0]], 0.0);
        assert_eq!(pe[[0, 1]], 1.0);
        assert!((pe[[1, 0]] - libm::sinf(1.0)).abs() < 1e-6);
        // position 3, pair i = 2 (columns 4, 5): angle 3 / 10000^(4/16)
        let angle = 3.0 / libm::pow(10000.0, 0.25);
        assert!((pe[[3, 4]] as f64 - libm::sin(angle)).abs() < 1e-6);
        assert!((pe[[3, 5]] as f64 - libm::cos(angle)).abs() < 1e-6);
    }
}

//! The forward (noising) process of DDPM (Ho et al., 2020) with the linear
//! schedule: betas = linspace(beta_start, beta_end, steps),
//! alpha_bar_t = prod_{s <= t} (1 - beta_s), and
//!
//!   q_sample(x0, noise, t) = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) noise
//!
//! The product is accumulated in f64 so that a 1000-step schedule loses
//! nothing to rounding.

use crate::autograd::{Graph, Var};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use alloc::vec;
use alloc::vec::Vec;
use ndarray::IxDyn;

#[derive(Debug, Clone)]
pub struct DdpmSchedule {
    pub betas: Vec<f32>,
    /// alpha_bar_t, the fraction of signal variance left after step t.
    pub alpha_bar: Vec<f32>,
}

impl DdpmSchedule {
    /// The linear schedule; Ho et al. use 1000 steps from 1e-4 to 0.02.
    pub fn linear(steps: usize, beta_start: f32, beta_end: f32) -> Result<Self> {
        if steps == 0 {
            return Err(Error::invalid("ddpm", "the schedule needs at least one step"));
        }
        let valid = |b: f32| b > 0.0 && b < 1.0;
        if !valid(beta_start) || !valid(beta_end) {
            return Err(Error::invalid(
                "ddpm",
                alloc::format!("betas must lie in (0, 1), got {beta_start} and {beta_end}"),
            ));
        }
        let betas: Vec<f32> = (0..steps)
            .map(|i| {
                let f = if steps == 1 { 0.0 } else { i as f64 / (steps - 1) as f64 };
                (beta_start as f64 + f * (beta_end as f64 - beta_start as f64)) as f32
            })
            .collect();
        let mut product = 1.0f64;
        let alpha_bar = betas
            .iter()
            .map(|&b| {
                product *= 1.0 - b as f64;
                product as f32
            })
            .collect();
        Ok(DdpmSchedule { betas, alpha_bar })
    }

    pub fn steps(&self) -> usize {
        self.betas.len()
    }

    /// Noise x0 [N, ..] to steps t [N] with the given noise (same shape as x0).
    pub fn q_sample(&self, g: &mut Graph, x0: Var, noise: Var, t: &[usize]) -> Result<Var> {
        let shape = g.shape(x0).to_vec();
        if g.shape(noise) != shape.as_slice() {
            return Err(Error::shape("ddpm_q_sample", "x0 vs noise", &shape, g.shape(noise)));
        }
        if shape.first() != Some(&t.len()) {
            return Err(Error::shape("ddpm_q_sample", "x0 [N, ..] vs t [N]", &shape, &[t.len()]));
        }
        if let Some(&bad) = t.iter().find(|&&s| s >= self.steps()) {
            return Err(Error::invalid(
                "ddpm_q_sample",
                alloc::format!("t = {bad} is outside [0, {})", self.steps()),
            ));
        }
        // Per-sample coefficients shaped [N, 1, 1, ..] to broadcast over x0.
        let mut coef_shape = vec![t.len()];
        coef_shape.resize(shape.len(), 1);
        let signal = Tensor::from_shape_vec(
            IxDyn(&coef_shape),
            t.iter().map(|&s| libm::sqrtf(self.alpha_bar[s])).collect(),
        )
        .expect("sized");
        let noise_scale = Tensor::from_shape_vec(
            IxDyn(&coef_shape),
            t.iter().map(|&s| libm::sqrtf(1.0 - self.alpha_bar[s])).collect(),
        )
        .expect("sized");
        let (signal, noise_scale) = (g.constant(signal), g.constant(noise_scale));
        let a = g.mul(x0, signal)?;
        let b = g.mul(noise, noise_scale)?;
        g.add(a, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_schedule_matches_ho_et_al() {
        let s = DdpmSchedule::linear(1000, 1e-4, 0.02).unwrap();
        assert!((s.betas[0] - 1e-4).abs() < 1e-9 && (s.betas[999] - 0.02).abs() < 1e-7);
        // Known value: alpha_bar at the last step of this schedule is about 4.04e-5.
        assert!((s.alpha_bar[999] - 4.04e-5).abs() < 0.1e-5, "{}", s.alpha_bar[999]);
        assert!(s.alpha_bar.windows(2).all(|w| w[1] < w[0]));
        assert!(DdpmSchedule::linear(10, 0.0, 0.5).is_err());
    }
}

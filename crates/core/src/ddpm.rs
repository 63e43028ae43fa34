//! DDPM (Ho et al., 2020): the forward (noising) process, its schedules, and
//! the reverse (denoising) steps that sample from a trained noise predictor.
//!
//! Forward: betas over `steps` timesteps, alpha_bar_t = prod_{s <= t} (1 - beta_s), and
//!
//!   q_sample(x0, noise, t) = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) noise
//!
//! Reverse, given eps = the network's guess of the noise in x_t:
//! - DDPM's ancestral step (their Algorithm 2), with the posterior variance
//!   beta~_t = beta_t (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t):
//!   x_{t-1} = (x_t - beta_t / sqrt(1 - alpha_bar_t) eps) / sqrt(1 - beta_t) + sqrt(beta~_t) z
//! - DDIM's step (Song et al., 2021, eq. 12) from t to any earlier s, which
//!   can skip timesteps; eta = 0 is deterministic, and eta = 1 with s = t - 1
//!   is DDPM's step again.
//!
//! Timesteps are 0-based: t = 0 is the first noising step, t = steps - 1 the
//! last. The products are accumulated in f64 so that a 1000-step schedule
//! loses nothing to rounding.

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

/// Which beta schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScheduleKind {
    /// Ho et al.'s linear betas, scaled to the number of steps.
    Linear,
    /// Nichol and Dhariwal's cosine alpha_bar: destroys the signal more
    /// evenly over the steps, wasting fewer of them on pure noise.
    Cosine,
}

impl DdpmSchedule {
    /// The schedule of `kind` over `steps` timesteps.
    pub fn new(kind: ScheduleKind, steps: usize) -> Result<Self> {
        match kind {
            ScheduleKind::Linear => Self::linear_scaled(steps),
            ScheduleKind::Cosine => Self::cosine(steps),
        }
    }

    /// Ho et al.'s 1e-4 to 0.02 over 1000 steps, rescaled to `steps` as in
    /// Improved DDPM (betas times 1000 / steps), so that every step count
    /// ends in about the same amount of noise.
    pub fn linear_scaled(steps: usize) -> Result<Self> {
        if steps == 0 {
            return Err(Error::invalid("ddpm", "the schedule needs at least one step"));
        }
        let scale = 1000.0 / steps as f32;
        Self::linear(steps, (scale * 1e-4).min(0.5), (scale * 0.02).min(0.999))
    }

    /// Nichol and Dhariwal (2021): alpha_bar(t) = f(t) / f(0) with
    /// f(t) = cos^2(((t / T) + s) / (1 + s) * pi / 2), s = 0.008, betas
    /// clipped at 0.999 so the last step is not a division by zero.
    pub fn cosine(steps: usize) -> Result<Self> {
        if steps == 0 {
            return Err(Error::invalid("ddpm", "the schedule needs at least one step"));
        }
        let f = |t: usize| {
            let s = 0.008f64;
            let c = libm::cos((t as f64 / steps as f64 + s) / (1.0 + s) * core::f64::consts::FRAC_PI_2);
            c * c
        };
        let betas = (0..steps)
            .map(|t| (1.0 - f(t + 1) / f(t)).clamp(0.0, 0.999) as f32)
            .collect();
        Ok(Self::from_betas(betas))
    }

    fn from_betas(betas: Vec<f32>) -> Self {
        let mut product = 1.0f64;
        let alpha_bar = betas
            .iter()
            .map(|&b| {
                product *= 1.0 - b as f64;
                product as f32
            })
            .collect();
        DdpmSchedule { betas, alpha_bar }
    }

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
        Ok(Self::from_betas(betas))
    }

    pub fn steps(&self) -> usize {
        self.betas.len()
    }

    /// alpha_bar before any noise (t = -1) is 1.
    fn alpha_bar_before(&self, t: usize) -> f32 {
        if t == 0 {
            1.0
        } else {
            self.alpha_bar[t - 1]
        }
    }

    /// beta~_t, the variance of q(x_{t-1} | x_t, x0): 0 at t = 0.
    pub fn posterior_variance(&self, t: usize) -> f32 {
        let before = self.alpha_bar_before(t) as f64;
        (self.betas[t] as f64 * (1.0 - before) / (1.0 - self.alpha_bar[t] as f64)) as f32
    }

    /// `q_sample` on plain numbers: `x0` noised to step `t` with `noise`.
    pub fn noised(&self, x0: &[f32], noise: &[f32], t: usize) -> Vec<f32> {
        let (a, b) = (libm::sqrtf(self.alpha_bar[t]), libm::sqrtf(1.0 - self.alpha_bar[t]));
        x0.iter().zip(noise).map(|(&x, &e)| a * x + b * e).collect()
    }

    /// DDPM's ancestral step from x_t to x_{t-1}, in place: `eps` is the
    /// predicted noise and `z` fresh standard normal noise (unused at t = 0,
    /// which returns the mean: the final sample has no noise added).
    pub fn ddpm_step(&self, x: &mut [f32], eps: &[f32], z: &[f32], t: usize) {
        let beta = self.betas[t];
        let coef = beta / libm::sqrtf(1.0 - self.alpha_bar[t]);
        let inv_sqrt_alpha = 1.0 / libm::sqrtf(1.0 - beta);
        let sigma = if t == 0 {
            0.0
        } else {
            libm::sqrtf(self.posterior_variance(t))
        };
        for ((x, &e), &z) in x.iter_mut().zip(eps).zip(z) {
            *x = inv_sqrt_alpha * (*x - coef * e) + sigma * z;
        }
    }

    /// DDIM's step from x_t to x_s, in place (`s = None`: to the data, with
    /// alpha_bar = 1). `eta` in [0, 1] scales the noise: 0 is deterministic.
    pub fn ddim_step(&self, x: &mut [f32], eps: &[f32], z: &[f32], t: usize, s: Option<usize>, eta: f32) {
        let ab_t = self.alpha_bar[t] as f64;
        let ab_s = s.map_or(1.0, |s| self.alpha_bar[s] as f64);
        let sigma = eta as f64 * libm::sqrt(((1.0 - ab_s) / (1.0 - ab_t)) * (1.0 - ab_t / ab_s)).max(0.0);
        let direction = libm::sqrt((1.0 - ab_s - sigma * sigma).max(0.0));
        for ((x, &e), &z) in x.iter_mut().zip(eps).zip(z) {
            let x0 = (*x as f64 - libm::sqrt(1.0 - ab_t) * e as f64) / libm::sqrt(ab_t);
            *x = (libm::sqrt(ab_s) * x0 + direction * e as f64 + sigma * z as f64) as f32;
        }
    }

    /// The timesteps a sampler visits, from the noisiest down to 0: all of
    /// them (DDPM), or `count` spread evenly (DDIM, which may skip).
    pub fn sampling_timesteps(&self, count: usize) -> Vec<usize> {
        let steps = self.steps();
        let count = count.clamp(1, steps);
        let mut ts: Vec<usize> = (0..count)
            .map(|i| ((i as u64 * steps as u64) / count as u64) as usize)
            .collect();
        ts.dedup();
        ts.reverse();
        ts
    }
}

/// The sinusoidal embedding of timestep `t` (as the Transformer's positions,
/// "Attention Is All You Need"): `dim` features, sines then cosines, of
/// t / 10000^(i / half). How the denoiser knows how much noise it faces.
pub fn timestep_embedding(t: usize, dim: usize) -> Vec<f32> {
    let half = dim / 2;
    let mut out = vec![0.0; dim];
    for i in 0..half {
        let frequency = libm::exp(-libm::log(10000.0) * i as f64 / half.max(1) as f64);
        let angle = t as f64 * frequency;
        out[i] = libm::sin(angle) as f32;
        out[half + i] = libm::cos(angle) as f32;
    }
    out
}

/// Draws samples from a noise predictor by running the reverse process a
/// few timesteps at a time, so that a caller can spread the work out and
/// draw every step. Holds the trajectory: the points at every visited
/// timestep, and the noise predicted there.
#[derive(Clone, Debug)]
pub struct ReverseProcess {
    /// Visited timesteps, noisiest first.
    pub timesteps: Vec<usize>,
    /// `Some(eta)` for DDIM, `None` for DDPM's ancestral steps.
    pub ddim_eta: Option<f32>,
    /// The current points, flat.
    pub x: Vec<f32>,
    /// `frames[k]`: the points before the k-th step (frames[0] is pure
    /// noise); after the last step one more frame, the samples.
    pub frames: Vec<Vec<f32>>,
    /// `predicted[k]`: the noise predicted at the k-th step.
    pub predicted: Vec<Vec<f32>>,
    rng: crate::rng::Rng,
}

impl ReverseProcess {
    /// `count` points of `dim` numbers from standard normal noise, to be
    /// taken through `timesteps` (see [`DdpmSchedule::sampling_timesteps`]).
    pub fn new(count: usize, dim: usize, timesteps: Vec<usize>, ddim_eta: Option<f32>, seed: u64) -> Self {
        let mut rng = crate::rng::Rng::new(seed);
        let x: Vec<f32> = (0..count * dim).map(|_| rng.normal()).collect();
        ReverseProcess {
            timesteps,
            ddim_eta,
            frames: vec![x.clone()],
            predicted: Vec::new(),
            x,
            rng,
        }
    }

    pub fn done(&self) -> bool {
        self.predicted.len() == self.timesteps.len()
    }

    /// The next timestep to denoise at, if any.
    pub fn next_timestep(&self) -> Option<usize> {
        self.timesteps.get(self.predicted.len()).copied()
    }

    /// One reverse step, with `eps` the noise predicted for the current
    /// points at [`Self::next_timestep`]. Does nothing when done.
    pub fn step(&mut self, schedule: &DdpmSchedule, eps: Vec<f32>) {
        let k = self.predicted.len();
        let Some(&t) = self.timesteps.get(k) else { return };
        let z: Vec<f32> = (0..self.x.len()).map(|_| self.rng.normal()).collect();
        match self.ddim_eta {
            None => schedule.ddpm_step(&mut self.x, &eps, &z, t),
            Some(eta) => {
                let s = self.timesteps.get(k + 1).copied();
                schedule.ddim_step(&mut self.x, &eps, &z, t, s, eta);
            }
        }
        self.predicted.push(eps);
        self.frames.push(self.x.clone());
    }
}

impl DdpmSchedule {
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

    #[test]
    fn scaled_linear_and_cosine_schedules_end_in_noise() {
        for kind in [ScheduleKind::Linear, ScheduleKind::Cosine] {
            for steps in [10, 100, 1000] {
                let s = DdpmSchedule::new(kind, steps).unwrap();
                assert_eq!(s.steps(), steps);
                assert!(s.alpha_bar.windows(2).all(|w| w[1] < w[0]), "{kind:?} {steps}");
                assert!(
                    s.alpha_bar[steps - 1] < 0.01,
                    "{kind:?} {steps}: {}",
                    s.alpha_bar[steps - 1]
                );
                assert!(s.alpha_bar[0] > 0.5, "{kind:?} {steps}: {}", s.alpha_bar[0]);
                assert!(s.betas.iter().all(|&b| b > 0.0 && b <= 0.999));
            }
        }
        // The scaled linear schedule at 1000 steps is Ho et al.'s.
        let ho = DdpmSchedule::linear(1000, 1e-4, 0.02).unwrap();
        assert_eq!(DdpmSchedule::linear_scaled(1000).unwrap().betas, ho.betas);
        // Cosine: alpha_bar follows the closed form.
        let c = DdpmSchedule::cosine(100).unwrap();
        let f = |t: f64| libm::cos((t / 100.0 + 0.008) / 1.008 * core::f64::consts::FRAC_PI_2).powi(2);
        for t in [0usize, 10, 50, 90] {
            let expected = f(t as f64 + 1.0) / f(0.0);
            assert!((c.alpha_bar[t] as f64 - expected).abs() < 1e-5, "t = {t}");
        }
        assert!(DdpmSchedule::cosine(0).is_err() && DdpmSchedule::linear_scaled(0).is_err());
    }

    #[test]
    fn noised_matches_the_closed_form_and_the_graph_op() {
        let s = DdpmSchedule::new(ScheduleKind::Cosine, 50).unwrap();
        let x0 = [0.5f32, -1.0, 2.0, 0.25];
        let noise = [1.0f32, 0.5, -0.3, -2.0];
        let t = [3usize, 3, 40, 40];
        let mut g = Graph::new();
        let xv = g.constant(Tensor::from_shape_vec(IxDyn(&[4]), x0.to_vec()).unwrap());
        let nv = g.constant(Tensor::from_shape_vec(IxDyn(&[4]), noise.to_vec()).unwrap());
        let out = s.q_sample(&mut g, xv, nv, &t).unwrap();
        for i in 0..4 {
            let ab = s.alpha_bar[t[i]];
            let closed = libm::sqrtf(ab) * x0[i] + libm::sqrtf(1.0 - ab) * noise[i];
            let plain = s.noised(&x0[i..i + 1], &noise[i..i + 1], t[i])[0];
            assert!((plain - closed).abs() < 1e-6 && (g.value(out)[[i]] - closed).abs() < 1e-6);
        }
    }

    /// Song et al.: DDIM with eta = 1 over every timestep is DDPM's ancestral
    /// step with the posterior variance. Checked step by step on the same
    /// noise, with a made-up noise predictor.
    #[test]
    fn ddim_with_eta_one_over_all_steps_is_ddpm() {
        let s = DdpmSchedule::new(ScheduleKind::Linear, 40).unwrap();
        let ts = s.sampling_timesteps(40);
        assert_eq!(ts, (0..40).rev().collect::<Vec<_>>());
        let predictor =
            |x: &[f32], t: usize| -> Vec<f32> { x.iter().map(|&v| 0.3 * v + libm::sinf(t as f32 + v)).collect() };
        let mut ddpm = ReverseProcess::new(6, 2, ts.clone(), None, 7);
        let mut ddim = ReverseProcess::new(6, 2, ts, Some(1.0), 7);
        assert_eq!(ddpm.x, ddim.x);
        while let Some(t) = ddpm.next_timestep() {
            assert_eq!(ddim.next_timestep(), Some(t));
            let (a, b) = (predictor(&ddpm.x, t), predictor(&ddim.x, t));
            ddpm.step(&s, a);
            ddim.step(&s, b);
            for (p, q) in ddpm.x.iter().zip(&ddim.x) {
                assert!((p - q).abs() < 1e-4 * (1.0 + p.abs()), "t = {t}: {p} vs {q}");
            }
        }
        assert!(ddpm.done() && ddim.done());
        assert_eq!(ddpm.frames.len(), 41);
    }

    #[test]
    fn ddim_with_eta_zero_is_deterministic_and_can_skip_steps() {
        let s = DdpmSchedule::new(ScheduleKind::Cosine, 100).unwrap();
        let ts = s.sampling_timesteps(10);
        assert_eq!(ts.len(), 10);
        assert_eq!((ts[0], ts[9]), (90, 0));
        let run = |noise_seed| {
            let mut r = ReverseProcess::new(4, 2, ts.clone(), Some(0.0), 3);
            // The noise stream differs, but eta = 0 never uses it.
            r.rng = crate::rng::Rng::new(noise_seed);
            while let Some(t) = r.next_timestep() {
                let eps = r.x.iter().map(|&v| 0.5 * v + 0.01 * t as f32).collect();
                r.step(&s, eps);
            }
            r.x
        };
        assert_eq!(run(1), run(2));
        assert!(run(1).iter().all(|v| v.is_finite()));
    }

    #[test]
    fn an_exact_noise_predictor_recovers_the_data() {
        // If eps is the true noise, DDIM's first step from t lands on x0.
        let s = DdpmSchedule::new(ScheduleKind::Linear, 100).unwrap();
        let x0 = [1.5f32, -0.5];
        let noise = [0.3f32, -1.2];
        let mut x = s.noised(&x0, &noise, 99);
        s.ddim_step(&mut x, &noise, &[0.0, 0.0], 99, None, 0.0);
        assert!((x[0] - 1.5).abs() < 1e-3 && (x[1] + 0.5).abs() < 1e-3, "{x:?}");
    }

    #[test]
    fn timestep_embeddings_are_sines_then_cosines() {
        let e = timestep_embedding(5, 8);
        assert_eq!(e.len(), 8);
        assert!((e[0] - libm::sinf(5.0)).abs() < 1e-6 && (e[4] - libm::cosf(5.0)).abs() < 1e-6);
        let f = libm::exp(-libm::log(10000.0) / 4.0);
        assert!((e[1] as f64 - libm::sin(5.0 * f)).abs() < 1e-6);
        assert_ne!(timestep_embedding(3, 8), timestep_embedding(4, 8));
    }
}

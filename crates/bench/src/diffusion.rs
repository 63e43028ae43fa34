//! The Diffusion lab's training step and its sampling, timed inside wasm:
//! the core's own [`PointDenoiser`] at the lab's defaults (the ring of 8
//! Gaussians, the linear schedule over T = 100 steps, an MLP of 3 hidden
//! layers of 64 with ReLU on [x, sinusoidal(t), 32 features], batch 256,
//! Adam 0.002, seed 1). `PointDenoiser::train_step` is the step the lab's
//! worker runs: timesteps and noise drawn, q_sample, the noise guess, mean
//! squared error, backward, Adam. Here on one batch of clean points, made
//! outside the timer (the lab draws fresh points each step).
//!
//! [`DiffusionBench::phases`] rebuilds the step from the same graph ops on
//! a replica (the same layers, the model's weights copied in, its own Adam)
//! with a timer around each part: the random draws and q_sample, the
//! timestep embedding and concatenation, the linear layers, the
//! activations, the loss, the backward pass, the update.
//! [`DiffusionBench::sample`] times the reverse process: `count` samples
//! through all T steps of DDPM's ancestral sampler.

use crate::{js_err, now_ms};
use deepplay_core::data::points::PointCloud;
use deepplay_core::ddpm::{DdpmSchedule, ReverseProcess, ScheduleKind};
use deepplay_core::layers::Activation;
use deepplay_core::models::denoiser::{DenoiserConfig, PointDenoiser, TIME_FEATURES};
use deepplay_core::optim::Optimizer;
use deepplay_core::{Graph, Module, Rng, Tensor};
use ndarray::IxDyn;
use wasm_bindgen::prelude::*;

type Result<T> = deepplay_core::Result<T>;

/// The lab's defaults.
pub const LEARNING_RATE: f32 = 0.002;
pub const SEED: u64 = 1;
pub const LAB_STEPS: usize = 100;
pub const LAB_WIDTH: usize = 64;
pub const LAB_LAYERS: usize = 3;
pub const LAB_BATCH: usize = 256;

/// The parts [`DiffusionBench::phases`] times, in order.
pub const PHASES: [&str; 7] = [
    "timesteps and noise drawn, q_sample",
    "timestep embedding (rows of the cached sinusoid table) and concat with x",
    "forward: linear layers",
    "forward: activations",
    "loss (mean squared error)",
    "backward",
    "update (collect gradients, Adam)",
];

#[wasm_bindgen]
pub struct DiffusionBench {
    model: PointDenoiser,
    opt: Optimizer,
    schedule: DdpmSchedule,
    batch: Vec<f32>,
    rng: Rng,
    replica: PointDenoiser,
    replica_opt: Optimizer,
    /// The replica's tape, reset and reused each step as the model's is.
    graph: Graph,
    last_loss: f32,
}

impl DiffusionBench {
    pub fn build(steps: usize, width: usize, layers: usize, batch: usize) -> Result<Self> {
        let schedule = DdpmSchedule::new(ScheduleKind::Linear, steps)?;
        let mut rng = Rng::new(SEED);
        let config = DenoiserConfig {
            width,
            layers,
            activation: Activation::Relu,
        };
        let model = PointDenoiser::new(config, &mut rng)?;
        let data = PointCloud::Ring.sample(batch, &mut rng);
        Ok(DiffusionBench {
            replica: model.clone(),
            model,
            opt: Optimizer::adam(LEARNING_RATE),
            replica_opt: Optimizer::adam(LEARNING_RATE),
            schedule,
            batch: data,
            rng,
            graph: Graph::new(),
            last_loss: f32::NAN,
        })
    }

    /// One `PointDenoiser::train_step`, ms.
    pub fn step(&mut self) -> Result<f64> {
        let t0 = now_ms();
        let stats = self
            .model
            .train_step(&self.batch, &self.schedule, &mut self.rng, &mut self.opt)?;
        let ms = now_ms() - t0;
        self.last_loss = stats.loss;
        Ok(ms)
    }

    /// The replica's step with a timer around each of [`PHASES`], ms each.
    pub fn phases_step(&mut self) -> Result<Vec<f64>> {
        let mut times = vec![0.0; PHASES.len()];
        let mut clock = now_ms();
        let mut lap = |k: usize, times: &mut Vec<f64>| {
            let now = now_ms();
            times[k] += now - clock;
            clock = now;
        };
        let n = self.batch.len() / 2;
        let mut g = core::mem::take(&mut self.graph);
        g.reset();
        let t: Vec<usize> = (0..n).map(|_| self.rng.below(self.schedule.steps())).collect();
        let noise: Vec<f32> = (0..2 * n).map(|_| self.rng.normal()).collect();
        let x0 = g.constant(Tensor::from_shape_vec(IxDyn(&[n, 2]), self.batch.clone()).expect("sized"));
        let noise = g.constant(Tensor::from_shape_vec(IxDyn(&[n, 2]), noise).expect("sized"));
        let x_t = self.schedule.q_sample(&mut g, x0, noise, &t)?;
        lap(0, &mut times);
        let embedding = self.replica.embed(&t);
        let embedding = g.constant(Tensor::from_shape_vec(IxDyn(&[n, TIME_FEATURES]), embedding).expect("sized"));
        let mut h = g.concat(&[x_t, embedding], 1)?;
        lap(1, &mut times);
        let layers = self.replica.layers.len();
        for i in 0..layers {
            h = self.replica.layers[i].forward(&mut g, h)?;
            lap(2, &mut times);
            if i + 1 < layers {
                h = self.replica.config.activation.apply(&mut g, h);
                lap(3, &mut times);
            }
        }
        let loss = g.mse_loss(h, noise)?;
        lap(4, &mut times);
        g.backward(loss)?;
        lap(5, &mut times);
        self.replica.collect_grads(&g);
        self.replica_opt.step(&mut self.replica.params_mut());
        lap(6, &mut times);
        self.last_loss = g.value(loss).iter().next().copied().unwrap_or(f32::NAN);
        self.graph = g;
        Ok(times)
    }

    /// `count` samples through every step of DDPM's sampler, ms.
    pub fn sample_ms(&mut self, count: usize) -> Result<f64> {
        let t0 = now_ms();
        let mut process = ReverseProcess::new(
            count,
            2,
            self.schedule.sampling_timesteps(self.schedule.steps()),
            None,
            SEED,
        );
        while let Some(t) = process.next_timestep() {
            let eps = self.model.predict_noise(&process.x, t)?;
            process.step(&self.schedule, eps);
        }
        Ok(now_ms() - t0)
    }
}

#[wasm_bindgen]
impl DiffusionBench {
    /// T timesteps, the denoiser's width and hidden layers, `batch` points.
    #[wasm_bindgen(constructor)]
    pub fn new(
        steps: usize,
        width: usize,
        layers: usize,
        batch: usize,
    ) -> core::result::Result<DiffusionBench, JsError> {
        Self::build(steps, width, layers, batch).map_err(js_err)
    }

    /// The Diffusion lab's defaults (T 100, width 64, 3 hidden layers, batch 256).
    pub fn lab_default() -> core::result::Result<DiffusionBench, JsError> {
        Self::build(LAB_STEPS, LAB_WIDTH, LAB_LAYERS, LAB_BATCH).map_err(js_err)
    }

    /// One `PointDenoiser::train_step`, ms.
    pub fn train_step(&mut self) -> core::result::Result<f64, JsError> {
        self.step().map_err(js_err)
    }

    /// Names of the values [`DiffusionBench::phases`] returns.
    pub fn phase_names() -> Vec<String> {
        PHASES.iter().map(|s| s.to_string()).collect()
    }

    /// The replica's step cut into [`PHASES`], ms each.
    pub fn phases(&mut self) -> core::result::Result<Vec<f64>, JsError> {
        self.phases_step().map_err(js_err)
    }

    /// `count` samples through all T steps of DDPM's sampler, ms.
    pub fn sample(&mut self, count: usize) -> core::result::Result<f64, JsError> {
        self.sample_ms(count).map_err(js_err)
    }

    pub fn last_loss(&self) -> f32 {
        self.last_loss
    }

    pub fn num_params(&self) -> usize {
        self.model.num_params()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_its_phases_and_sampling_run() {
        let mut b = DiffusionBench::build(20, 16, 2, 64).unwrap();
        let first = b.step().unwrap();
        assert!(first >= 0.0 && b.last_loss.is_finite());
        let phases = b.phases_step().unwrap();
        assert_eq!(phases.len(), PHASES.len());
        assert!(phases.iter().all(|&t| t >= 0.0) && b.last_loss.is_finite());
        assert!(b.sample_ms(8).unwrap() >= 0.0);
    }
}

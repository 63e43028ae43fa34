//! The Detection lab's training step, timed inside wasm: the core's own
//! [`Detector`] at the lab's defaults (width 8: convolutions of 8, 16, 32
//! and 32 filters on 64x64 colour scenes, an 8x8 grid head, batch 16, Adam
//! 0.003, seed 1), cut into the phases the lab's step runs: drawing the
//! batch's fresh scenes and their targets, the forward pass to the grid,
//! the YOLO loss, the backward pass, and the update.

use crate::{js_err, now_ms};
use deepplay_core::autograd::Graph;
use deepplay_core::models::detector::{training_batch, Detector, DetectorConfig};
use deepplay_core::optim::{Adam, Optimizer};
use deepplay_core::{Module, Rng};
use wasm_bindgen::prelude::*;

type Result<T> = deepplay_core::Result<T>;

pub const LEARNING_RATE: f32 = 0.003;
pub const SEED: u64 = 1;
pub const LAB_BATCH: usize = 16;

#[wasm_bindgen]
pub struct DetectionBench {
    net: Detector,
    opt: Optimizer,
    rng: Rng,
    graph: Graph,
    batch: usize,
    loss: f32,
}

impl DetectionBench {
    pub fn build(width: usize, batch: usize) -> Result<Self> {
        let mut rng = Rng::new(SEED);
        let net = Detector::new(
            DetectorConfig {
                width,
                ..DetectorConfig::default()
            },
            &mut rng,
        )?;
        Ok(DetectionBench {
            net,
            opt: Optimizer::Adam(Adam::new(LEARNING_RATE)),
            rng,
            graph: Graph::new(),
            batch,
            loss: f32::NAN,
        })
    }

    /// One step, ms per phase: `[scenes, forward, loss, backward, update]`.
    pub fn step_phases(&mut self) -> Result<[f64; 5]> {
        let t0 = now_ms();
        let (images, targets) = training_batch(self.batch, &mut self.rng);
        let x = Detector::input(&images)?;
        let t1 = now_ms();
        let g = &mut self.graph;
        g.reset();
        let input = g.constant(x);
        let pred = self.net.forward(g, input)?;
        let t2 = now_ms();
        let (loss, parts) = g.yolo_loss(pred, &targets, self.net.config.weights)?;
        let t3 = now_ms();
        g.backward(loss)?;
        let t4 = now_ms();
        self.net.collect_grads(g);
        self.opt.step(&mut self.net.params_mut());
        let t5 = now_ms();
        self.loss = parts.total();
        Ok([t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4])
    }
}

#[wasm_bindgen]
impl DetectionBench {
    /// The lab's defaults (width 8, batch 16).
    pub fn lab_default() -> core::result::Result<DetectionBench, JsError> {
        Self::build(8, LAB_BATCH).map_err(js_err)
    }

    /// One step, ms per phase: `[scenes, forward, loss, backward, update]`.
    pub fn train_step_phases(&mut self) -> core::result::Result<Vec<f64>, JsError> {
        self.step_phases().map(|p| p.to_vec()).map_err(js_err)
    }

    /// One step as the lab's worker runs it (`Detector::train_step`), ms,
    /// scenes included.
    pub fn train_step(&mut self) -> core::result::Result<f64, JsError> {
        let t0 = now_ms();
        let (images, targets) = training_batch(self.batch, &mut self.rng);
        let parts = self.net.train_step(&images, &targets, &mut self.opt).map_err(js_err)?;
        self.loss = parts.total();
        Ok(now_ms() - t0)
    }

    pub fn loss(&self) -> f32 {
        self.loss
    }

    pub fn num_params(&self) -> usize {
        self.net.num_params()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_phases_run_and_the_loss_falls() {
        let mut b = DetectionBench::build(4, 4).unwrap();
        let phases = b.step_phases().unwrap();
        assert!(phases.iter().all(|&ms| ms >= 0.0));
        let first = b.loss;
        for _ in 0..30 {
            b.step_phases().unwrap();
        }
        assert!(b.loss.is_finite() && b.loss < first, "{first} -> {}", b.loss);
    }
}

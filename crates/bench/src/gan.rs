//! The GAN lab's training step, timed inside wasm: the core's own [`Gan`]
//! at the lab's defaults (the ring of 8 Gaussians, 2-D noise, generator
//! and discriminator MLPs of 2 hidden layers of 64 with ReLU, the
//! non-saturating loss, batch 256, Adam with beta1 0.5, seed 1; the
//! learning rate here is 0.001, the lab's 0.0002 costs the same). One
//! step is what the lab's worker runs with one discriminator step per
//! generator step: `Gan::discriminator_step` (fresh fakes from a no-grad
//! pass of the generator, the discriminator on real and fake, softplus
//! losses, backward, Adam) then `Gan::generator_step` (the generator through
//! the frozen discriminator, backward, Adam). Here on one batch of real
//! points, made outside the timer (the lab draws fresh points each step);
//! the noise is drawn inside, as in the lab. [`GanBench::real_points`] and
//! [`GanBench::noise`] give the peers the same arrays.

use crate::{js_err, now_ms};
use deepplay_core::data::points::PointCloud;
use deepplay_core::layers::Activation;
use deepplay_core::models::gan::{Gan, GanConfig, GanLoss, NetConfig};
use deepplay_core::optim::{Adam, Optimizer};
use deepplay_core::{Module, Rng};
use wasm_bindgen::prelude::*;

type Result<T> = deepplay_core::Result<T>;

/// The lab's defaults (but the learning rate: see above).
pub const LEARNING_RATE: f32 = 0.001;
pub const SEED: u64 = 1;
pub const LAB_WIDTH: usize = 64;
pub const LAB_LAYERS: usize = 2;
pub const LAB_BATCH: usize = 256;
pub const LAB_NOISE: usize = 2;

fn adam() -> Optimizer {
    let mut o = Adam::new(LEARNING_RATE);
    o.beta1 = 0.5;
    Optimizer::Adam(o)
}

#[wasm_bindgen]
pub struct GanBench {
    gan: Gan,
    d_opt: Optimizer,
    g_opt: Optimizer,
    real: Vec<f32>,
    rng: Rng,
    d_loss: f32,
    g_loss: f32,
}

impl GanBench {
    pub fn build(width: usize, layers: usize, batch: usize, loss: GanLoss) -> Result<Self> {
        let mut rng = Rng::new(SEED);
        let net = NetConfig {
            width,
            layers,
            activation: Activation::Relu,
        };
        let config = GanConfig {
            noise_dim: LAB_NOISE,
            generator: net,
            discriminator: net,
            loss,
            gradient_penalty: 10.0,
        };
        let gan = Gan::new(config, &mut rng)?;
        let real = PointCloud::Ring.sample(batch, &mut rng);
        Ok(GanBench {
            gan,
            d_opt: adam(),
            g_opt: adam(),
            real,
            rng,
            d_loss: f32::NAN,
            g_loss: f32::NAN,
        })
    }

    /// One discriminator update and one generator update, ms each.
    pub fn step_parts(&mut self) -> Result<[f64; 2]> {
        let t0 = now_ms();
        let d = self
            .gan
            .discriminator_step(&self.real, &mut self.rng, &mut self.d_opt)?;
        let t1 = now_ms();
        let n = self.real.len() / 2;
        self.g_loss = self.gan.generator_step(n, &mut self.rng, &mut self.g_opt)?;
        let t2 = now_ms();
        self.d_loss = d.loss;
        Ok([t1 - t0, t2 - t1])
    }
}

#[wasm_bindgen]
impl GanBench {
    /// The lab's defaults (width 64, 2 hidden layers, batch 256, non-saturating loss).
    pub fn lab_default() -> core::result::Result<GanBench, JsError> {
        Self::build(LAB_WIDTH, LAB_LAYERS, LAB_BATCH, GanLoss::NonSaturating).map_err(js_err)
    }

    /// The same networks with the Wasserstein loss and its gradient penalty.
    pub fn wasserstein() -> core::result::Result<GanBench, JsError> {
        Self::build(LAB_WIDTH, LAB_LAYERS, LAB_BATCH, GanLoss::Wasserstein).map_err(js_err)
    }

    /// One D update then one G update: the lab's step, ms.
    pub fn train_step(&mut self) -> core::result::Result<f64, JsError> {
        self.step_parts().map(|[d, g]| d + g).map_err(js_err)
    }

    /// The same, ms for each update: `[discriminator, generator]`.
    pub fn train_step_parts(&mut self) -> core::result::Result<Vec<f64>, JsError> {
        self.step_parts().map(|p| p.to_vec()).map_err(js_err)
    }

    /// The real batch, flat `[n * 2]`.
    pub fn real_points(&self) -> Vec<f32> {
        self.real.clone()
    }

    /// `n` rows of standard normal noise for the generator, flat.
    pub fn noise(n: usize) -> Vec<f32> {
        let mut rng = Rng::new(SEED + 1);
        (0..n * LAB_NOISE).map(|_| rng.normal()).collect()
    }

    pub fn d_loss(&self) -> f32 {
        self.d_loss
    }

    pub fn g_loss(&self) -> f32 {
        self.g_loss
    }

    pub fn num_params(&self) -> usize {
        self.gan.num_params()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_runs_for_both_losses() {
        for loss in [GanLoss::NonSaturating, GanLoss::Wasserstein] {
            let mut b = GanBench::build(16, 1, 32, loss).unwrap();
            let [d, g] = b.step_parts().unwrap();
            assert!(d >= 0.0 && g >= 0.0 && b.d_loss.is_finite() && b.g_loss.is_finite());
        }
        assert_eq!(GanBench::noise(3).len(), 6);
    }
}

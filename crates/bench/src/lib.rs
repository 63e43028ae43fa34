//! DeepPlay's benchmark, the part that runs inside WebAssembly.
//!
//! `bench/bench.mjs` loads two builds of this crate under node (one with
//! `-C target-feature=+simd128`, one without), calls these exports, and puts
//! the numbers next to ConvNetJS, TensorFlow.js and onnxruntime-web measured
//! in the same process. Every export times itself with `performance.now()`
//! (inside wasm, so the JS boundary is outside the measurement) and returns
//! milliseconds; repetition, warm-up and medians are done by the script, the
//! same way for every library.
//!
//! - [`peak_gflops`]: a tight loop of independent f32x4 multiplies and adds,
//!   the simd128 ceiling that GEMM numbers are compared with.
//! - [`Gemm`]: DeepPlay's `kernels::gemm` (what the core's ops call) and
//!   ndarray's `general_mat_mul` at one shape and layout, and the core's own
//!   `matmul` / `matmul_bt` op there.
//! - [`CnnBench`]: the CNN lab's default network: training step, inference,
//!   and a per-op breakdown of one training step.
//! - [`RecurrentBench`]: the Sequences lab's training step, the core's own
//!   `RecurrentNet` (tanh RNN, GRU or LSTM) at the lab's defaults, and the
//!   GRU's step cut by op kind.
//! - [`TransformerBench`]: the Attention lab's training step, the core's own
//!   `Transformer` at the lab's defaults, its phases (forward, backward,
//!   update) and the step cut by part (attention's projections, per-head
//!   products, softmax, layer norms, MLP, ...).
//! - [`DiffusionBench`]: the Diffusion lab's training step (the core's
//!   `PointDenoiser` at the lab's defaults), its phases, and the time to
//!   draw samples through every step of DDPM's sampler.
//! - [`GanBench`]: the GAN lab's training step (the core's `Gan` at the
//!   lab's defaults: one discriminator update and one generator update).
//! - [`DetectionBench`]: the Detection lab's training step (the core's
//!   `Detector` at the lab's defaults), cut into scenes, forward, loss,
//!   backward and update.

mod cnn;
mod detection;
mod diffusion;
mod gan;
mod gemm;
mod marks;
mod peak;
mod recurrent;
mod seq;

pub use cnn::CnnBench;
pub use detection::DetectionBench;
pub use diffusion::DiffusionBench;
pub use gan::GanBench;
pub use gemm::Gemm;
pub use peak::peak_gflops;
pub use recurrent::RecurrentBench;
pub use seq::TransformerBench;

use deepplay_core::Rng;
use wasm_bindgen::prelude::*;

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Milliseconds from an arbitrary origin: `performance.now()` in wasm, a
/// monotonic clock natively (for the crate's own tests).
pub fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        performance_now()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::sync::OnceLock;
        use std::time::Instant;
        static START: OnceLock<Instant> = OnceLock::new();
        START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1e3
    }
}

/// Whether this build has simd128 (the no-simd build answers false).
#[wasm_bindgen]
pub fn simd_enabled() -> bool {
    cfg!(target_feature = "simd128")
}

/// MNIST-shaped pixels, n x 1 x 28 x 28 row-major, from DeepPlay's seeded
/// RNG: about 80% zeros (MNIST's background) and the rest uniform in (0, 1].
/// The script feeds the same array to every library.
#[wasm_bindgen]
pub fn mnist_like_images(n: usize, seed: u32) -> Vec<f32> {
    let mut rng = Rng::new(u64::from(seed));
    (0..n * 28 * 28)
        .map(|_| {
            if rng.uniform() < 0.8 {
                0.0
            } else {
                rng.uniform_range(0.05, 1.0)
            }
        })
        .collect()
}

/// Labels 0-9 for [`mnist_like_images`].
#[wasm_bindgen]
pub fn mnist_like_labels(n: usize, seed: u32) -> Vec<u32> {
    let mut rng = Rng::new(u64::from(seed) ^ 0x9e37_79b9_7f4a_7c15);
    (0..n).map(|_| rng.below(10) as u32).collect()
}

pub(crate) fn js_err(e: deepplay_core::Error) -> JsError {
    JsError::new(&e.to_string())
}

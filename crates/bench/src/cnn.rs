//! The CNN lab's default network (conv 8@5x5 pad 2, ReLU, max-pool 2,
//! conv 16@5x5 pad 2, ReLU, max-pool 3, FC 10) trained with Adam: one whole
//! training step, inference, and the same step cut into its ops.

use crate::{js_err, now_ms};
use deepplay_core::models::cnn::{Cnn, CnnConfig, PoolKind};
use deepplay_core::ops::PoolSpec;
use deepplay_core::optim::Optimizer;
use deepplay_core::{Graph, Module, Rng, Tensor, Var};
use ndarray::{Axis, Slice};
use wasm_bindgen::prelude::*;

/// The parts a training step is cut into, in the order they run.
pub const BREAKDOWN: [&str; 19] = [
    "conv1 forward",
    "relu1 forward",
    "pool1 forward",
    "conv2 forward",
    "relu2 forward",
    "pool2 forward",
    "flatten forward",
    "fc forward",
    "cross-entropy forward",
    "cross-entropy backward",
    "fc backward",
    "flatten backward",
    "pool2 backward",
    "relu2 backward",
    "conv2 backward",
    "pool1 backward",
    "relu1 backward",
    "conv1 backward",
    "adam step",
];

#[wasm_bindgen]
pub struct CnnBench {
    model: Cnn,
    opt: Optimizer,
    /// All the images the script passed, [n, 1, 28, 28].
    images: Tensor,
    labels: Vec<usize>,
    batch: usize,
    /// The training batch: the first `batch` images.
    x: Tensor,
    last_loss: f32,
}

impl CnnBench {
    pub fn build(images: &[f32], labels: &[u32], batch: usize, lr: f32) -> deepplay_core::Result<CnnBench> {
        let n = images.len() / (28 * 28);
        let images = deepplay_core::tensor::from_vec(&[n, 1, 28, 28], images[..n * 28 * 28].to_vec())?;
        let model = Cnn::new(&CnnConfig::mnist_default(), &mut Rng::new(1))?;
        let batch = batch.min(n);
        let x = images.slice_axis(Axis(0), Slice::from(0..batch)).to_owned();
        Ok(CnnBench {
            model,
            opt: Optimizer::adam(lr),
            images,
            labels: labels.iter().map(|&l| l as usize).collect(),
            batch,
            x,
            last_loss: f32::NAN,
        })
    }

    /// The first `batch` images as a tensor (outside any timing).
    pub fn first(&self, batch: usize) -> Tensor {
        self.images
            .slice_axis(Axis(0), Slice::from(0..batch.min(self.images.shape()[0])))
            .to_owned()
    }

    pub fn step(&mut self) -> deepplay_core::Result<f64> {
        let t0 = now_ms();
        let stats = self
            .model
            .train_step(&self.x, &self.labels[..self.batch], &mut self.opt)?;
        let ms = now_ms() - t0;
        self.last_loss = stats.loss;
        Ok(ms)
    }

    pub fn infer(&self, x: &Tensor) -> deepplay_core::Result<f64> {
        let t0 = now_ms();
        let p = self.model.predict_proba(x)?;
        let ms = now_ms() - t0;
        core::hint::black_box(p);
        Ok(ms)
    }

    /// One training step cut into its ops, ms each, in [`BREAKDOWN`]'s order.
    ///
    /// Each op runs on a graph of its own whose input is a leaf holding the
    /// previous op's output (a constant for the images), so its forward is
    /// the op call alone and its backward is `backward_with` on that graph
    /// with the gradient the next op handed back. Copying values between the
    /// graphs and gathering the parameters' gradients happen outside the
    /// timers; the script reports the difference to a whole step as overhead.
    pub fn breakdown_step(&mut self) -> deepplay_core::Result<Vec<f64>> {
        let mut times = Vec::with_capacity(BREAKDOWN.len());
        // Forward: (graph, input leaf, output) per op.
        let mut pieces: Vec<(Graph, Var, Var)> = Vec::new();
        let mut value = self.x.clone();
        let stages = self.model.config.stages.clone();
        for (i, stage) in stages.iter().enumerate() {
            let pool = PoolSpec::new(stage.pool_size.max(1));
            // conv
            let (piece, ms) = timed_op(value, i > 0, |g, x| self.model.convs[i].forward(g, x))?;
            times.push(ms);
            value = piece.0.value(piece.2).clone();
            pieces.push(piece);
            // relu
            let (piece, ms) = timed_op(value, true, |g, x| Ok(g.relu(x)))?;
            times.push(ms);
            value = piece.0.value(piece.2).clone();
            pieces.push(piece);
            // pool
            let (piece, ms) = timed_op(value, true, |g, x| match stage.pool {
                _ if stage.pool_size <= 1 => Ok(x),
                PoolKind::Max => g.max_pool2d(x, pool),
                PoolKind::Avg => g.avg_pool2d(x, pool),
            })?;
            times.push(ms);
            value = piece.0.value(piece.2).clone();
            pieces.push(piece);
        }
        let n = value.shape()[0];
        let features = value.len() / n.max(1);
        let (piece, ms) = timed_op(value, true, |g, x| g.reshape(x, &[n, features]))?;
        times.push(ms);
        value = piece.0.value(piece.2).clone();
        pieces.push(piece);
        let (piece, ms) = timed_op(value, true, |g, x| self.model.fc.forward(g, x))?;
        times.push(ms);
        value = piece.0.value(piece.2).clone();
        pieces.push(piece);
        let labels = &self.labels[..self.batch];
        let (mut loss_piece, ms) = timed_op(value, true, |g, x| g.cross_entropy(x, labels))?;
        times.push(ms);
        self.last_loss = loss_piece
            .0
            .value(loss_piece.2)
            .iter()
            .next()
            .copied()
            .unwrap_or(f32::NAN);

        // Backward, last op first.
        let t0 = now_ms();
        loss_piece.0.backward(loss_piece.2)?;
        times.push(now_ms() - t0);
        let mut grad = loss_piece.0.grad(loss_piece.1).cloned();
        for (g, input, output) in pieces.iter_mut().rev() {
            let Some(upstream) = grad.take() else {
                times.push(0.0);
                continue;
            };
            let t0 = now_ms();
            g.backward_with(*output, upstream)?;
            times.push(now_ms() - t0);
            grad = g.grad(*input).cloned();
        }
        // Parameters' gradients: conv k lives in pieces[3k], fc in pieces[len - 1].
        for (k, conv) in self.model.convs.iter_mut().enumerate() {
            conv.collect_grads(&pieces[3 * k].0);
        }
        self.model.fc.collect_grads(&pieces[pieces.len() - 1].0);
        let t0 = now_ms();
        self.opt.step(&mut self.model.params_mut());
        times.push(now_ms() - t0);
        Ok(times)
    }
}

/// Run `op` on a fresh graph whose input leaf holds `input`; time the op only.
fn timed_op(
    input: Tensor,
    needs_grad: bool,
    op: impl FnOnce(&mut Graph, Var) -> deepplay_core::Result<Var>,
) -> deepplay_core::Result<((Graph, Var, Var), f64)> {
    let mut g = Graph::new();
    let x = if needs_grad {
        g.variable(input)
    } else {
        g.constant(input)
    };
    let t0 = now_ms();
    let out = op(&mut g, x)?;
    let ms = now_ms() - t0;
    Ok(((g, x, out), ms))
}

#[wasm_bindgen]
impl CnnBench {
    /// `images`: n x 784 pixels (n >= batch), `labels`: n labels 0-9.
    #[wasm_bindgen(constructor)]
    pub fn new(images: &[f32], labels: &[u32], batch: usize, lr: f32) -> Result<CnnBench, JsError> {
        Self::build(images, labels, batch, lr).map_err(js_err)
    }

    /// One `Cnn::train_step` (forward, loss, backward, Adam) on the batch, ms.
    pub fn train_step(&mut self) -> Result<f64, JsError> {
        self.step().map_err(js_err)
    }

    /// ms of `predict_proba` on the first `batch` images (the tensor is made
    /// before the timer starts).
    pub fn inference(&self, batch: usize) -> Result<f64, JsError> {
        let x = self.first(batch);
        self.infer(&x).map_err(js_err)
    }

    /// Names of the parts that [`CnnBench::breakdown`] times.
    pub fn breakdown_names() -> Vec<String> {
        BREAKDOWN.iter().map(|s| s.to_string()).collect()
    }

    /// One training step op by op: ms per part, in `breakdown_names` order.
    pub fn breakdown(&mut self) -> Result<Vec<f64>, JsError> {
        self.breakdown_step().map_err(js_err)
    }

    /// The loss of the last step (to show that it trains).
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
    fn breakdown_covers_a_step_and_trains() {
        let images = crate::mnist_like_images(8, 3);
        let labels = crate::mnist_like_labels(8, 3);
        let mut b = CnnBench::build(&images, &labels, 4, 1e-3).unwrap();
        let t = b.breakdown_step().unwrap();
        assert_eq!(t.len(), BREAKDOWN.len());
        assert!(t.iter().all(|v| v.is_finite() && *v >= 0.0));
        assert!(b.last_loss.is_finite());
        b.step().unwrap();
        assert!(b.last_loss.is_finite());
        b.infer(&b.first(1)).unwrap();
    }

    #[test]
    fn breakdown_gradients_match_the_whole_step() {
        // The op-by-op backward must hand the optimizer the same gradients as
        // Cnn::train_step does: compare the parameters after one SGD step.
        let images = crate::mnist_like_images(4, 5);
        let labels = crate::mnist_like_labels(4, 5);
        let mut a = CnnBench::build(&images, &labels, 4, 1e-2).unwrap();
        let mut b = CnnBench::build(&images, &labels, 4, 1e-2).unwrap();
        a.opt = Optimizer::sgd(0.1, 0.0, 0.0);
        b.opt = Optimizer::sgd(0.1, 0.0, 0.0);
        a.step().unwrap();
        b.breakdown_step().unwrap();
        for (pa, pb) in a.model.params().iter().zip(b.model.params()) {
            for (x, y) in pa.value.iter().zip(pb.value.iter()) {
                assert!((x - y).abs() <= 1e-5 * (1.0 + x.abs()), "{}: {x} vs {y}", pa.name);
            }
        }
    }
}

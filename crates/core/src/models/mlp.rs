//! A multilayer perceptron classifier: Linear -> activation -> ... -> Linear,
//! softmax cross-entropy. The 2-D playground's model and the smallest
//! end-to-end proof that the engine learns.

use crate::autograd::Graph;
use crate::error::{Error, Result};
use crate::layers::{Activation, Linear, Module, Param};
use crate::optim::Optimizer;
use crate::rng::Rng;
use crate::tensor::{argmax_rows, Tensor};
use alloc::format;
use alloc::vec::Vec;

#[derive(Debug, Clone)]
pub struct MlpConfig {
    /// Layer widths from input to output, e.g. [2, 16, 16, 3].
    pub sizes: Vec<usize>,
    pub activation: Activation,
}

#[derive(Debug, Clone)]
pub struct Mlp {
    pub layers: Vec<Linear>,
    pub activation: Activation,
    workspace: super::Workspace,
}

/// What one training step measured on its batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStats {
    pub loss: f32,
    pub accuracy: f32,
}

impl Mlp {
    pub fn new(config: &MlpConfig, rng: &mut Rng) -> Result<Self> {
        if config.sizes.len() < 2 || config.sizes.contains(&0) {
            return Err(Error::invalid(
                "mlp",
                format!("needs at least two non-zero layer sizes, got {:?}", config.sizes),
            ));
        }
        let layers = config
            .sizes
            .windows(2)
            .enumerate()
            .map(|(i, w)| Linear::new(&format!("fc{}", i + 1), w[0], w[1], rng))
            .collect();
        Ok(Mlp {
            layers,
            activation: config.activation,
            workspace: Default::default(),
        })
    }

    /// Logits [N, classes] for inputs [N, features], as a node of `g`.
    pub fn forward(&self, g: &mut Graph, x: crate::Var) -> Result<crate::Var> {
        let mut h = x;
        for (i, layer) in self.layers.iter().enumerate() {
            h = layer.forward(g, h)?;
            if i + 1 < self.layers.len() {
                h = self.activation.apply(g, h);
            }
        }
        Ok(h)
    }

    /// One step of minibatch training: forward, loss, backward, update.
    pub fn train_step(&mut self, x: &Tensor, labels: &[usize], opt: &mut Optimizer) -> Result<StepStats> {
        super::classification_step(self, |m| &mut m.workspace, x, labels, opt, Mlp::forward)
    }

    /// Class probabilities [N, classes].
    pub fn predict_proba(&self, x: &Tensor) -> Result<Tensor> {
        self.workspace.infer(|g| {
            let input = g.buffers().copy(x);
            let input = g.constant(input);
            let logits = self.forward(g, input)?;
            let probs = g.softmax(logits)?;
            Ok(g.value(probs).clone())
        })
    }
}

/// Fraction of rows whose largest logit is the label.
pub fn accuracy(logits: &Tensor, labels: &[usize]) -> f32 {
    if labels.is_empty() {
        return 0.0;
    }
    let hits = argmax_rows(logits).iter().zip(labels).filter(|(p, l)| p == l).count();
    hits as f32 / labels.len() as f32
}

impl Module for Mlp {
    fn params(&self) -> Vec<&Param> {
        self.layers.iter().flat_map(|l| l.params()).collect()
    }
    fn params_mut(&mut self) -> Vec<&mut Param> {
        self.layers.iter_mut().flat_map(|l| l.params_mut()).collect()
    }
}

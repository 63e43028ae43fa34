//! A multilayer perceptron classifier: Linear -> activation -> ... -> Linear,
//! softmax cross-entropy. The 2-D playground's model and the smallest
//! end-to-end proof that the engine learns.

use crate::autograd::Graph;
use crate::error::{Error, Result};
use crate::layers::{Activation, Linear, LinearConfig, Module, Param};
use crate::limits;
use crate::optim::Optimizer;
use crate::rng::Rng;
use crate::tensor::Tensor;
use alloc::format;
use alloc::vec::Vec;

/// Their old paths; they are shared by every classifier now.
pub use super::StepStats;
pub use crate::metrics::accuracy;

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

impl Mlp {
    /// Input and output sizes at least 1; the hidden layers' count and
    /// widths within [`limits::HIDDEN_LAYERS`] and [`limits::HIDDEN_WIDTH`].
    pub fn new(config: &MlpConfig, rng: &mut Rng) -> Result<Self> {
        let sizes = &config.sizes;
        if sizes.len() < 2 || sizes[0] == 0 || sizes[sizes.len() - 1] == 0 {
            return Err(Error::invalid(
                "mlp",
                format!("needs non-zero input and output sizes, got {sizes:?}"),
            ));
        }
        let hidden = &sizes[1..sizes.len() - 1];
        limits::HIDDEN_LAYERS.check("mlp", "the number of hidden layers", hidden.len())?;
        for &width in hidden {
            limits::HIDDEN_WIDTH.check("mlp", "a hidden layer's width", width)?;
        }
        let layers = config
            .sizes
            .windows(2)
            .enumerate()
            .map(|(i, w)| {
                let size = LinearConfig {
                    in_features: w[0],
                    out_features: w[1],
                };
                Linear::new(&format!("fc{}", i + 1), size, rng)
            })
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

impl Module for Mlp {
    fn params(&self) -> Vec<&Param> {
        self.layers.iter().flat_map(|l| l.params()).collect()
    }
    fn params_mut(&mut self) -> Vec<&mut Param> {
        self.layers.iter_mut().flat_map(|l| l.params_mut()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn build(sizes: &[usize]) -> Result<Mlp> {
        let config = MlpConfig {
            sizes: sizes.to_vec(),
            activation: Activation::Tanh,
        };
        Mlp::new(&config, &mut Rng::new(0))
    }

    #[test]
    fn sizes_are_checked_against_the_shared_limits() {
        assert!(build(&[2, 64, 64, 64, 64, 3]).is_ok());
        assert!(build(&[2, 1, 2]).is_ok());
        for (sizes, needle) in [
            (vec![2, 3], "the number of hidden layers must be from 1 to 4, got 0"),
            (
                vec![2, 8, 8, 8, 8, 8, 3],
                "the number of hidden layers must be from 1 to 4, got 5",
            ),
            (vec![2, 65, 3], "a hidden layer's width must be from 1 to 64, got 65"),
            (vec![2, 8, 0, 3], "a hidden layer's width must be from 1 to 64, got 0"),
            (vec![0, 8, 3], "non-zero input and output"),
            (vec![2, 8, 0], "non-zero input and output"),
            (vec![2], "non-zero input and output"),
        ] {
            let msg = build(&sizes).unwrap_err().to_string();
            assert!(msg.contains(needle), "{sizes:?}: {msg}");
        }
    }
}

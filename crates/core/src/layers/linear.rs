//! Fully connected layer, `torch.nn.Linear`: y = x W^T + b,
//! W [out, in], b [out]; PyTorch's default initialisation.

use super::{Module, Param};
use crate::autograd::{Graph, Var};
use crate::error::Result;
use crate::init;
use crate::rng::Rng;
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

/// The sizes of a [`Linear`] layer, named as `torch.nn.Linear`'s arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinearConfig {
    pub in_features: usize,
    pub out_features: usize,
}

#[derive(Debug, Clone)]
pub struct Linear {
    pub weight: Param,
    pub bias: Param,
}

impl Linear {
    /// `name` prefixes the parameter names: `fc` gives `fc.weight`, `fc.bias`.
    pub fn new(name: &str, config: LinearConfig, rng: &mut Rng) -> Self {
        let LinearConfig {
            in_features: inputs,
            out_features: outputs,
        } = config;
        Linear {
            weight: Param::new(
                format!("{name}.weight"),
                init::pytorch_default(&[outputs, inputs], inputs, rng),
            ),
            bias: Param::new(format!("{name}.bias"), init::pytorch_default(&[outputs], inputs, rng)),
        }
    }

    /// x [.., in] -> [.., out]
    pub fn forward(&self, g: &mut Graph, x: Var) -> Result<Var> {
        let (w, b) = (self.weight.var(g), self.bias.var(g));
        g.linear(x, w, Some(b))
    }
}

impl Module for Linear {
    fn params(&self) -> Vec<&Param> {
        vec![&self.weight, &self.bias]
    }
    fn params_mut(&mut self) -> Vec<&mut Param> {
        vec![&mut self.weight, &mut self.bias]
    }
}

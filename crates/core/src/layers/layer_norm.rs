//! `torch.nn.LayerNorm` over the last axis: weight (gamma) starts at 1, bias
//! (beta) at 0. The op is in `ops/norm.rs`.

use super::{Module, Param};
use crate::autograd::{Graph, Var};
use crate::error::Result;
use crate::tensor::Tensor;
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use ndarray::IxDyn;

#[derive(Debug, Clone)]
pub struct LayerNorm {
    pub weight: Param,
    pub bias: Param,
    pub eps: f32,
}

impl LayerNorm {
    pub fn new(name: &str, features: usize) -> Self {
        LayerNorm {
            weight: Param::new(format!("{name}.weight"), Tensor::ones(IxDyn(&[features]))),
            bias: Param::new(format!("{name}.bias"), Tensor::zeros(IxDyn(&[features]))),
            eps: 1e-5,
        }
    }

    pub fn forward(&self, g: &mut Graph, x: Var) -> Result<Var> {
        let (w, b) = (self.weight.var(g), self.bias.var(g));
        g.layer_norm(x, w, b, self.eps)
    }
}

impl Module for LayerNorm {
    fn params(&self) -> Vec<&Param> {
        vec![&self.weight, &self.bias]
    }
    fn params_mut(&mut self) -> Vec<&mut Param> {
        vec![&mut self.weight, &mut self.bias]
    }
}

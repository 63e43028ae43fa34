//! 2-D convolution layer, `torch.nn.Conv2d` with square kernels:
//! weight [out, in, k, k], bias [out]. He initialisation, since the labs
//! follow it with ReLU. The op itself (im2col + GEMM) is in `ops/conv.rs`.

use super::{Module, Param};
use crate::autograd::{Graph, Var};
use crate::error::{Error, Result};
use crate::init;
use crate::ops::Conv2dSpec;
use crate::rng::Rng;
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

#[derive(Debug, Clone)]
pub struct Conv2d {
    pub weight: Param,
    pub bias: Param,
    pub spec: Conv2dSpec,
}

impl Conv2d {
    pub fn new(
        name: &str,
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        spec: Conv2dSpec,
        rng: &mut Rng,
    ) -> Result<Self> {
        if in_channels == 0 || out_channels == 0 || kernel == 0 || spec.stride == 0 {
            return Err(Error::invalid(
                "conv2d",
                "channels, kernel size and stride must be at least 1",
            ));
        }
        let fan_in = in_channels * kernel * kernel;
        Ok(Conv2d {
            weight: Param::new(
                format!("{name}.weight"),
                init::kaiming_normal(&[out_channels, in_channels, kernel, kernel], fan_in, rng),
            ),
            bias: Param::new(format!("{name}.bias"), crate::tensor::zeros(&[out_channels])),
            spec,
        })
    }

    /// x [N, in, H, W] -> [N, out, OH, OW]
    pub fn forward(&self, g: &mut Graph, x: Var) -> Result<Var> {
        let (w, b) = (self.weight.var(g), self.bias.var(g));
        g.conv2d(x, w, Some(b), self.spec)
    }
}

impl Module for Conv2d {
    fn params(&self) -> Vec<&Param> {
        vec![&self.weight, &self.bias]
    }
    fn params_mut(&mut self) -> Vec<&mut Param> {
        vec![&mut self.weight, &mut self.bias]
    }
}

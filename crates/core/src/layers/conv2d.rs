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

/// A [`Conv2d`] layer's sizes, named as `torch.nn.Conv2d`'s arguments. The
/// default is a 1x1 convolution of one channel with stride 1 and no
/// padding, so a literal names only what differs:
/// `Conv2dConfig { in_channels: 1, out_channels: 8, kernel_size: 5, padding: 2, ..Default::default() }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dConfig {
    pub in_channels: usize,
    pub out_channels: usize,
    /// Square kernel: `kernel_size` x `kernel_size`.
    pub kernel_size: usize,
    pub stride: usize,
    /// Zeros added on every side.
    pub padding: usize,
}

impl Default for Conv2dConfig {
    fn default() -> Self {
        Conv2dConfig {
            in_channels: 1,
            out_channels: 1,
            kernel_size: 1,
            stride: 1,
            padding: 0,
        }
    }
}

impl Conv2dConfig {
    /// Stride and padding, as the op takes them.
    pub fn spec(&self) -> Conv2dSpec {
        Conv2dSpec {
            stride: self.stride,
            padding: self.padding,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Conv2d {
    pub weight: Param,
    pub bias: Param,
    pub config: Conv2dConfig,
}

impl Conv2d {
    pub fn new(name: &str, config: Conv2dConfig, rng: &mut Rng) -> Result<Self> {
        let Conv2dConfig {
            in_channels,
            out_channels,
            kernel_size: kernel,
            stride,
            ..
        } = config;
        if in_channels == 0 || out_channels == 0 || kernel == 0 || stride == 0 {
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
            config,
        })
    }

    /// x [N, in, H, W] -> [N, out, OH, OW]
    pub fn forward(&self, g: &mut Graph, x: Var) -> Result<Var> {
        let (w, b) = (self.weight.var(g), self.bias.var(g));
        g.conv2d(x, w, Some(b), self.config.spec())
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

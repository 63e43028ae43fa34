//! The CNN lab's network: [Conv -> ReLU -> Pool] x stages -> Linear, trained
//! with softmax cross-entropy. The default is ConvNetJS's MNIST demo network:
//! conv 8@5x5 pad 2, ReLU, max-pool 2, conv 16@5x5 pad 2, ReLU, max-pool 3,
//! fully connected to 10.

use crate::autograd::{Graph, Var};
use crate::error::{Error, Result};
use crate::layers::{Conv2d, Conv2dConfig, Linear, LinearConfig, Module, Param};
use crate::limits;
use crate::models::StepStats;
use crate::ops::{conv2d_output_size, PoolSpec};
use crate::optim::Optimizer;
use crate::rng::Rng;
use crate::tensor::Tensor;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    Max,
    Avg,
}

/// One Conv -> ReLU -> Pool stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvStage {
    pub filters: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    pub pool: PoolKind,
    /// Window and stride of the pooling; 1 means no pooling.
    pub pool_size: usize,
}

impl ConvStage {
    /// This stage's convolution, on `in_channels` input channels.
    pub fn conv2d_config(&self, in_channels: usize) -> Conv2dConfig {
        Conv2dConfig {
            in_channels,
            out_channels: self.filters,
            kernel_size: self.kernel,
            stride: self.stride,
            padding: self.padding,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct CnnConfig {
    /// Input [channels, height, width].
    pub input: [usize; 3],
    pub stages: Vec<ConvStage>,
    pub classes: usize,
}

/// A layer's name, its output shape [C, H, W] (or [K]) and parameter count.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerShape {
    pub name: String,
    pub shape: Vec<usize>,
    pub params: usize,
}

impl CnnConfig {
    pub fn mnist_default() -> Self {
        let stage = |filters, pool_size| ConvStage {
            filters,
            kernel: 5,
            stride: 1,
            padding: 2,
            pool: PoolKind::Max,
            pool_size,
        };
        CnnConfig {
            input: [1, 28, 28],
            stages: alloc::vec![stage(8, 2), stage(16, 3)],
            classes: 10,
        }
    }

    /// Every layer's output shape, or a clear error for an impossible network
    /// or a setting outside its range in [`crate::limits`].
    pub fn layer_shapes(&self) -> Result<Vec<LayerShape>> {
        let [mut c, mut h, mut w] = self.input;
        let mut out = Vec::new();
        if self.stages.is_empty() || self.classes == 0 {
            return Err(Error::invalid("cnn", "needs at least one conv stage and one class"));
        }
        for (i, s) in self.stages.iter().enumerate() {
            let n = i + 1;
            let conv = format!("conv{n}");
            limits::conv_filters(i).check("cnn", &format!("{conv}: filters"), s.filters)?;
            limits::KERNEL_SIZE.check("cnn", &format!("{conv}: kernel size"), s.kernel)?;
            limits::STRIDE.check("cnn", &format!("{conv}: stride"), s.stride)?;
            limits::PADDING.check("cnn", &format!("{conv}: padding"), s.padding)?;
            limits::POOL_SIZE.check("cnn", &format!("pool{n}: size"), s.pool_size)?;
            let spec = s.conv2d_config(c).spec();
            let size = |input| {
                conv2d_output_size(input, s.kernel, spec).map_err(|_| {
                    Error::invalid(
                        "cnn",
                        format!(
                            "conv{n}: a {k}x{k} kernel does not fit its {h}x{w} input with padding {p}",
                            k = s.kernel,
                            p = s.padding
                        ),
                    )
                })
            };
            let (oh, ow) = (size(h)?, size(w)?);
            out.push(LayerShape {
                name: format!("conv{n}"),
                shape: alloc::vec![s.filters, oh, ow],
                params: s.filters * (c * s.kernel * s.kernel + 1),
            });
            (c, h, w) = (s.filters, oh, ow);
            if s.pool_size > 1 {
                let pool = PoolSpec::new(s.pool_size);
                let fit = |input| {
                    pool.output_size(input).map_err(|_| {
                        Error::invalid(
                            "cnn",
                            format!(
                                "pool{n}: a {k}x{k} window does not fit its {h}x{w} input",
                                k = s.pool_size
                            ),
                        )
                    })
                };
                (h, w) = (fit(h)?, fit(w)?);
                out.push(LayerShape {
                    name: format!("pool{n}"),
                    shape: alloc::vec![c, h, w],
                    params: 0,
                });
            }
        }
        let features = c * h * w;
        out.push(LayerShape {
            name: "fc".into(),
            shape: alloc::vec![self.classes],
            params: self.classes * (features + 1),
        });
        Ok(out)
    }
}

/// The input pixels one output cell of a layer sees: rows y0..y1 and
/// columns x0..x1 of the input image, clipped to it (padding sees nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub y0: usize,
    pub x0: usize,
    pub y1: usize,
    pub x1: usize,
}

impl CnnConfig {
    /// Receptive field of cell (y, x) of the `layer`-th entry of
    /// [`CnnConfig::layer_shapes`] (conv and pool layers; the FC layer sees all).
    pub fn receptive_field(&self, layer: usize, y: usize, x: usize) -> Window {
        // Walk back through the layers: a cell at offset o of a layer with
        // kernel k, stride s, padding p spans [o*s - p, o*s - p + k) below it.
        let mut ops: Vec<(usize, usize, usize)> = Vec::new(); // (kernel, stride, padding)
        for s in &self.stages {
            ops.push((s.kernel, s.stride, s.padding));
            if s.pool_size > 1 {
                ops.push((s.pool_size, s.pool_size, 0));
            }
        }
        let [_, h, w] = self.input;
        if layer >= ops.len() {
            return Window {
                y0: 0,
                x0: 0,
                y1: h,
                x1: w,
            };
        }
        let (mut ylo, mut yhi, mut xlo, mut xhi) = (y as isize, y as isize + 1, x as isize, x as isize + 1);
        for &(k, s, p) in ops[..=layer].iter().rev() {
            let (k, s, p) = (k as isize, s as isize, p as isize);
            ylo = ylo * s - p;
            yhi = (yhi - 1) * s - p + k;
            xlo = xlo * s - p;
            xhi = (xhi - 1) * s - p + k;
        }
        let clip = |v: isize, max: usize| v.clamp(0, max as isize) as usize;
        Window {
            y0: clip(ylo, h),
            x0: clip(xlo, w),
            y1: clip(yhi, h),
            x1: clip(xhi, w),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Cnn {
    pub config: CnnConfig,
    pub convs: Vec<Conv2d>,
    pub fc: Linear,
    workspace: super::Workspace,
}

/// The logits and every intermediate activation (after each ReLU and pool),
/// named like [`CnnConfig::layer_shapes`], for the feature-map view.
pub struct CnnForward {
    pub logits: Var,
    pub activations: Vec<(String, Var)>,
}

impl Cnn {
    pub fn new(config: &CnnConfig, rng: &mut Rng) -> Result<Self> {
        let shapes = config.layer_shapes()?;
        let mut channels = config.input[0];
        let mut convs = Vec::new();
        for (i, s) in config.stages.iter().enumerate() {
            convs.push(Conv2d::new(&format!("conv{}", i + 1), s.conv2d_config(channels), rng)?);
            channels = s.filters;
        }
        let last = &shapes[shapes.len() - 2].shape;
        let features: usize = last.iter().product();
        Ok(Cnn {
            config: config.clone(),
            convs,
            fc: Linear::new(
                "fc",
                LinearConfig {
                    in_features: features,
                    out_features: config.classes,
                },
                rng,
            ),
            workspace: Default::default(),
        })
    }

    /// x [N, C, H, W] -> logits [N, classes].
    pub fn forward(&self, g: &mut Graph, x: Var) -> Result<CnnForward> {
        let mut h = x;
        let mut activations = Vec::new();
        for (i, (conv, stage)) in self.convs.iter().zip(&self.config.stages).enumerate() {
            let z = conv.forward(g, h)?;
            h = g.relu(z);
            activations.push((format!("conv{}", i + 1), h));
            if stage.pool_size > 1 {
                let spec = PoolSpec::new(stage.pool_size);
                h = match stage.pool {
                    PoolKind::Max => g.max_pool2d(h, spec)?,
                    PoolKind::Avg => g.avg_pool2d(h, spec)?,
                };
                activations.push((format!("pool{}", i + 1), h));
            }
        }
        let n = g.shape(h)[0];
        let features = g.value(h).len() / n.max(1);
        let flat = g.reshape(h, &[n, features])?;
        let logits = self.fc.forward(g, flat)?;
        Ok(CnnForward { logits, activations })
    }

    /// One minibatch step: forward, loss, backward, update.
    pub fn train_step(&mut self, x: &Tensor, labels: &[usize], opt: &mut Optimizer) -> Result<StepStats> {
        super::classification_step(
            self,
            |m| &mut m.workspace,
            x,
            labels,
            opt,
            |model, g, input| Ok(model.forward(g, input)?.logits),
        )
    }

    /// Class probabilities [N, classes] (on the model's no-grad graph).
    pub fn predict_proba(&self, x: &Tensor) -> Result<Tensor> {
        self.workspace.infer(|g| {
            let input = g.buffers().copy(x);
            let input = g.constant(input);
            let out = self.forward(g, input)?;
            let probs = g.softmax(out.logits)?;
            Ok(g.value(probs).clone())
        })
    }
}

impl Cnn {
    /// Every activation (after each ReLU and pool) and the class
    /// probabilities for a batch, for the feature-map view.
    pub fn feature_maps(&self, x: &Tensor) -> Result<(Vec<(String, Tensor)>, Tensor)> {
        self.workspace.infer(|g| {
            let input = g.buffers().copy(x);
            let input = g.constant(input);
            let out = self.forward(g, input)?;
            let probs = g.softmax(out.logits)?;
            let maps = out
                .activations
                .into_iter()
                .map(|(name, v)| (name, g.value(v).clone()))
                .collect();
            Ok((maps, g.value(probs).clone()))
        })
    }

    /// One image of ink in [0, 1] as a normalised [1, C, H, W] network input.
    pub fn ink_input(&self, ink: &[f32]) -> Result<Tensor> {
        let [c, h, w] = self.config.input;
        if ink.len() != c * h * w {
            return Err(Error::shape(
                "classify",
                "image vs network input",
                &[ink.len()],
                &self.config.input,
            ));
        }
        let data = ink.iter().map(|&v| crate::data::mnist::normalize(v)).collect();
        Ok(Tensor::from_shape_vec(ndarray::IxDyn(&[1, c, h, w]), data).expect("sized"))
    }

    /// Class probabilities for one 28x28 image of ink in [0, 1] (a drawing
    /// after [`crate::data::mnist::center_like_mnist`]).
    pub fn classify_ink(&self, ink: &[f32]) -> Result<Vec<f32>> {
        let x = self.ink_input(ink)?;
        Ok(self.predict_proba(&x)?.iter().copied().collect())
    }
}

impl Module for Cnn {
    fn params(&self) -> Vec<&Param> {
        self.convs
            .iter()
            .flat_map(|c| c.params())
            .chain(self.fc.params())
            .collect()
    }
    fn params_mut(&mut self) -> Vec<&mut Param> {
        self.convs
            .iter_mut()
            .flat_map(|c| c.params_mut())
            .chain(self.fc.params_mut())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_shapes_match_convnetjs() {
        let shapes = CnnConfig::mnist_default().layer_shapes().unwrap();
        let got: Vec<(&str, &[usize])> = shapes.iter().map(|s| (s.name.as_str(), s.shape.as_slice())).collect();
        assert_eq!(
            got,
            [
                ("conv1", &[8, 28, 28][..]),
                ("pool1", &[8, 14, 14]),
                ("conv2", &[16, 14, 14]),
                ("pool2", &[16, 4, 4]),
                ("fc", &[10])
            ]
        );
        let total: usize = shapes.iter().map(|s| s.params).sum();
        assert_eq!(total, 8 * 26 + 16 * (8 * 25 + 1) + 10 * 257);
        let model = Cnn::new(&CnnConfig::mnist_default(), &mut Rng::new(0)).unwrap();
        assert_eq!(model.num_params(), total);
    }

    #[test]
    fn receptive_fields_grow_through_the_layers() {
        let c = CnnConfig::mnist_default();
        // conv1 cell (0,0): a 5x5 kernel with padding 2 sees rows -2..3, clipped to 0..3.
        assert_eq!(
            c.receptive_field(0, 0, 0),
            Window {
                y0: 0,
                x0: 0,
                y1: 3,
                x1: 3
            }
        );
        assert_eq!(
            c.receptive_field(0, 10, 10),
            Window {
                y0: 8,
                x0: 8,
                y1: 13,
                x1: 13
            }
        );
        // pool1 cell (5,5) covers conv1 cells 10..12, which see input rows 8..14.
        assert_eq!(
            c.receptive_field(1, 5, 5),
            Window {
                y0: 8,
                x0: 8,
                y1: 14,
                x1: 14
            }
        );
        // conv2 cell (7,7): pool1 cells 5..10 -> conv1 cells 10..20 -> input 8..22.
        assert_eq!(
            c.receptive_field(2, 7, 7),
            Window {
                y0: 8,
                x0: 8,
                y1: 22,
                x1: 22
            }
        );
        assert_eq!(
            c.receptive_field(4, 0, 0),
            Window {
                y0: 0,
                x0: 0,
                y1: 28,
                x1: 28
            }
        );
    }

    #[test]
    fn impossible_networks_are_refused_with_the_reason() {
        use alloc::string::ToString;
        // 28 -> pool 4 -> 7: a 9x9 kernel without padding does not fit.
        let mut c = CnnConfig::mnist_default();
        c.stages[0].pool_size = 4;
        c.stages[1].kernel = 9;
        c.stages[1].padding = 0;
        let msg = c.layer_shapes().unwrap_err().to_string();
        assert!(msg.contains("conv2") && msg.contains("does not fit"), "{msg}");
        let mut c = CnnConfig::mnist_default();
        c.stages[1].pool_size = 4;
        c.stages[1].kernel = 1;
        c.stages[1].padding = 0;
        c.input = [1, 3, 3]; // conv1 3x3, pool1 1x1, conv2 1x1
        let msg = c.layer_shapes().unwrap_err().to_string();
        assert!(msg.contains("pool2") && msg.contains("does not fit"), "{msg}");
    }

    #[test]
    fn settings_outside_the_shared_limits_are_refused() {
        use alloc::string::ToString;
        let refusal = |edit: fn(&mut CnnConfig)| {
            let mut c = CnnConfig::mnist_default();
            edit(&mut c);
            let msg = c.layer_shapes().unwrap_err().to_string();
            assert!(Cnn::new(&c, &mut Rng::new(0)).is_err());
            msg
        };
        assert_eq!(
            refusal(|c| c.stages[0].filters = 33),
            "cnn: conv1: filters must be from 1 to 32, got 33"
        );
        assert_eq!(
            refusal(|c| c.stages[1].filters = 65),
            "cnn: conv2: filters must be from 1 to 64, got 65"
        );
        assert!(refusal(|c| c.stages[1].filters = 0).contains("conv2: filters"));
        assert!(refusal(|c| c.stages[0].kernel = 11).contains("conv1: kernel size must be from 1 to 9"));
        assert!(refusal(|c| c.stages[0].stride = 0).contains("conv1: stride must be from 1 to 4"));
        assert!(refusal(|c| c.stages[1].padding = 5).contains("conv2: padding must be from 0 to 4"));
        assert!(refusal(|c| c.stages[1].pool_size = 5).contains("pool2: size must be from 1 to 4"));
        assert!(refusal(|c| c.stages[1].pool_size = 0).contains("pool2: size"));
        // The largest settings the page offers build.
        let mut c = CnnConfig::mnist_default();
        c.stages[0].filters = limits::CONV1_FILTERS.max;
        c.stages[1].filters = limits::CONV2_FILTERS.max;
        assert!(Cnn::new(&c, &mut Rng::new(0)).is_ok());
    }
}

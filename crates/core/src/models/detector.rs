//! The Detection lab's network: a tiny one-stage detector in YOLO's manner.
//! A backbone of four 3x3 convolutions (three followed by 2x2 max-pooling)
//! takes a 64x64 colour scene to an 8x8 grid of features; a 1x1 convolution
//! (the head) gives each cell objectness, a box and class scores
//! ([`crate::detection::Grid`]); training minimises [`Graph::yolo_loss`].
//!
//! Each cell of the grid sees 38x38 pixels of the scene around it, enough
//! for the largest object centred in it.

use crate::autograd::{Graph, Var};
use crate::data::scenes::{self, Scene, CHANNELS, SCENE_LEN, SCENE_SIZE};
use crate::detection::{CellTarget, Grid, Truth};
use crate::error::{Error, Result};
use crate::layers::{Conv2d, Conv2dConfig, Module, Param};
use crate::limits;
use crate::ops::{PoolSpec, YoloLossParts, YoloWeights};
use crate::optim::Optimizer;
use crate::rng::Rng;
use crate::tensor::Tensor;
use alloc::format;
use alloc::vec::Vec;

/// The grid the lab's detector predicts on: 8x8 cells of 8 pixels, boxes
/// sized relative to a 16-pixel anchor, three shapes.
pub const GRID: Grid = Grid {
    cells: 8,
    image: SCENE_SIZE,
    anchor: 16.0,
    classes: 3,
};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DetectorConfig {
    /// Filters of the first convolution; the next two double it.
    pub width: usize,
    pub weights: YoloWeights,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            width: 8,
            weights: YoloWeights::default(),
        }
    }
}

impl DetectorConfig {
    /// Output channels of each backbone convolution.
    pub fn filters(&self) -> [usize; 4] {
        let w = self.width;
        [w, 2 * w, 4 * w, 4 * w]
    }
}

/// The head's objectness bias at the start: a prior of about 0.12 that a
/// cell holds an object (the share of cells that do is 2.5 in 64), so the
/// first steps are not spent learning that most cells are empty.
const OBJECTNESS_PRIOR_LOGIT: f32 = -2.0;

#[derive(Debug, Clone)]
pub struct Detector {
    pub config: DetectorConfig,
    /// conv1..conv4; conv1 to conv3 are each followed by 2x2 max-pooling.
    pub convs: Vec<Conv2d>,
    pub head: Conv2d,
    workspace: super::Workspace,
}

/// How many convolutions are followed by pooling: 64 / 2^3 = 8 cells.
const POOLED: usize = 3;

impl Detector {
    pub fn new(config: DetectorConfig, rng: &mut Rng) -> Result<Self> {
        limits::DETECTOR_WIDTH.check("detector", "width", config.width)?;
        let mut channels = CHANNELS;
        let mut convs = Vec::new();
        for (i, filters) in config.filters().into_iter().enumerate() {
            let conv = Conv2dConfig {
                in_channels: channels,
                out_channels: filters,
                kernel_size: 3,
                padding: 1,
                ..Default::default()
            };
            convs.push(Conv2d::new(&format!("conv{}", i + 1), conv, rng)?);
            channels = filters;
        }
        let mut head = Conv2d::new(
            "head",
            Conv2dConfig {
                in_channels: channels,
                out_channels: GRID.channels(),
                ..Default::default()
            },
            rng,
        )?;
        // Small weights: every cell starts near the prior, whatever its features.
        head.weight.value.mapv_inplace(|w| w * 0.1);
        if let Some(b) = head.bias.value.iter_mut().next() {
            *b = OBJECTNESS_PRIOR_LOGIT;
        }
        Ok(Detector {
            config,
            convs,
            head,
            workspace: Default::default(),
        })
    }

    /// Scenes `[N, 3, 64, 64]` in [0, 1] -> raw grid predictions `[N, 5 + C, 8, 8]`.
    pub fn forward(&self, g: &mut Graph, x: Var) -> Result<Var> {
        let mut h = x;
        for (i, conv) in self.convs.iter().enumerate() {
            let z = conv.forward(g, h)?;
            h = g.relu(z);
            if i < POOLED {
                h = g.max_pool2d(h, PoolSpec::new(2))?;
            }
        }
        self.head.forward(g, h)
    }

    /// Pictures (each [`SCENE_LEN`] values in [0, 1]) as the network's input,
    /// centred on 0.
    pub fn input(images: &[f32]) -> Result<Tensor> {
        if images.is_empty() || !images.len().is_multiple_of(SCENE_LEN) {
            return Err(Error::shape("detector", "pictures", &[images.len()], &[SCENE_LEN]));
        }
        let n = images.len() / SCENE_LEN;
        let data = images.iter().map(|&v| 2.0 * v - 1.0).collect();
        Ok(Tensor::from_shape_vec(ndarray::IxDyn(&[n, CHANNELS, SCENE_SIZE, SCENE_SIZE]), data).expect("sized"))
    }

    /// One minibatch step: forward, the YOLO loss, backward, update. The
    /// loss's parts, measured before the update.
    pub fn train_step(
        &mut self,
        images: &[f32],
        targets: &[Option<CellTarget>],
        opt: &mut Optimizer,
    ) -> Result<YoloLossParts> {
        let x = Self::input(images)?;
        let mut g = core::mem::take(&mut self.workspace.train);
        g.reset();
        let result = (|| {
            let input = g.constant(x);
            let pred = self.forward(&mut g, input)?;
            let (loss, parts) = g.yolo_loss(pred, targets, self.config.weights)?;
            g.backward(loss)?;
            Ok(parts)
        })();
        if result.is_ok() {
            self.collect_grads(&g);
            opt.step(&mut self.params_mut());
        }
        self.workspace.train = g;
        result
    }

    /// Raw grid predictions for pictures, one [`Grid::len`] block each (on
    /// the model's no-grad graph).
    pub fn predict(&self, images: &[f32]) -> Result<Vec<f32>> {
        let x = Self::input(images)?;
        self.workspace.infer(|g| {
            let input = g.constant(x);
            let pred = self.forward(g, input)?;
            Ok(g.value(pred).iter().copied().collect())
        })
    }

    pub fn is_finite(&self) -> bool {
        self.params().iter().all(|p| p.value.iter().all(|v| v.is_finite()))
    }
}

impl Module for Detector {
    fn params(&self) -> Vec<&Param> {
        self.convs
            .iter()
            .flat_map(|c| c.params())
            .chain(self.head.params())
            .collect()
    }
    fn params_mut(&mut self) -> Vec<&mut Param> {
        self.convs
            .iter_mut()
            .flat_map(|c| c.params_mut())
            .chain(self.head.params_mut())
            .collect()
    }
}

/// A scene's objects as boxes and classes.
pub fn truths(scene: &Scene) -> Vec<Truth> {
    scene
        .objects
        .iter()
        .map(|o| Truth {
            bbox: o.bbox(),
            class: o.shape.class(),
        })
        .collect()
}

/// `n` fresh random scenes: their pictures, one after another, and every
/// cell's target.
pub fn training_batch(n: usize, rng: &mut Rng) -> (Vec<f32>, Vec<Option<CellTarget>>) {
    let mut images = Vec::with_capacity(n * SCENE_LEN);
    let mut targets = Vec::with_capacity(n * GRID.cells * GRID.cells);
    for _ in 0..n {
        let scene = scenes::random_scene(rng);
        images.extend_from_slice(&scene.image);
        targets.extend(GRID.targets(&truths(&scene)));
    }
    (images, targets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detection::mean_average_precision;
    use crate::optim::Adam;

    #[test]
    fn the_network_maps_scenes_to_the_grid() {
        let net = Detector::new(DetectorConfig::default(), &mut Rng::new(1)).unwrap();
        let (images, _) = training_batch(3, &mut Rng::new(2));
        let raw = net.predict(&images).unwrap();
        assert_eq!(raw.len(), 3 * GRID.len());
        // Untrained, every cell doubts there is an object (the prior).
        let cells = GRID.decode(&raw[..GRID.len()]);
        assert!(cells.iter().all(|c| c.objectness < 0.5));
        let names: Vec<_> = net.params().iter().map(|p| p.name.clone()).collect();
        assert_eq!(names.first().map(|s| s.as_str()), Some("conv1.weight"));
        assert_eq!(names.last().map(|s| s.as_str()), Some("head.bias"));
        assert!(Detector::new(
            DetectorConfig {
                width: 0,
                ..Default::default()
            },
            &mut Rng::new(1)
        )
        .is_err());
        assert!(Detector::input(&[0.5; 10]).is_err());
    }

    /// The lab's target, in small: a short seeded run raises mAP@0.5 on
    /// held-out scenes well above where it starts.
    #[test]
    fn a_short_run_raises_map50() {
        let mut rng = Rng::new(3);
        let mut net = Detector::new(DetectorConfig::default(), &mut rng).unwrap();
        let mut held_rng = Rng::new(99);
        let held: Vec<Scene> = (0..40).map(|_| scenes::random_scene(&mut held_rng)).collect();
        let truth: Vec<Vec<Truth>> = held.iter().map(truths).collect();
        let images: Vec<f32> = held.iter().flat_map(|s| s.image.iter().copied()).collect();
        let map = |net: &Detector| {
            let raw = net.predict(&images).unwrap();
            let found: Vec<_> = raw.chunks(GRID.len()).map(|r| GRID.detect(r, 0.01, 0.5)).collect();
            mean_average_precision(&found, &truth, GRID.classes, 0.5).unwrap()
        };
        let start = map(&net);
        let mut opt = Optimizer::Adam(Adam::new(0.003));
        for _ in 0..150 {
            let (x, t) = training_batch(8, &mut rng);
            let parts = net.train_step(&x, &t, &mut opt).unwrap();
            assert!(parts.total().is_finite());
        }
        let end = map(&net);
        assert!(end > start + 0.2, "mAP@0.5 {start} -> {end}");
    }

    #[test]
    fn the_same_seed_gives_the_same_run() {
        let run = |seed| {
            let mut rng = Rng::new(seed);
            let mut net = Detector::new(
                DetectorConfig {
                    width: 4,
                    ..Default::default()
                },
                &mut rng,
            )
            .unwrap();
            let mut opt = Optimizer::Adam(Adam::new(0.003));
            (0..5)
                .map(|_| {
                    let (x, t) = training_batch(2, &mut rng);
                    net.train_step(&x, &t, &mut opt).unwrap().total()
                })
                .collect::<Vec<f32>>()
        };
        assert_eq!(run(4), run(4));
        assert_ne!(run(4), run(5));
    }
}

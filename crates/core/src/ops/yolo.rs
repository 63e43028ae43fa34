//! The one-stage detector's loss (YOLO's, as v1 sums it, with v2/v3's
//! sigmoid offsets and log sizes): for a grid head's raw prediction
//! `[N, 5 + C, S, S]` (channels as [`crate::detection::Grid`] lays them out)
//! and each cell's target,
//!
//! - objectness: binary cross-entropy of sigmoid(o) against 1 in a cell
//!   that holds an object's centre, 0 elsewhere (weight `no_object` there,
//!   since most cells are empty);
//! - box: `coord` times the squared error of sigmoid(x), sigmoid(y), w and h
//!   against the target's, in cells with an object;
//! - class: softmax cross-entropy of the class logits, in cells with an object.
//!
//! Summed over cells and averaged over pictures. Fused into one op: the
//! gradient is computed with the value (like `cross_entropy`'s), and each
//! part's value is reported for the loss chart.

use super::contiguous;
use crate::autograd::{Graph, Var};
use crate::detection::{CellTarget, BOX_CHANNELS};
use crate::error::{Error, Result};
use crate::tensor::{scalar, Tensor};
use alloc::boxed::Box;
use alloc::vec;

/// How much each part counts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct YoloWeights {
    /// The box error's weight (YOLOv1's lambda_coord).
    pub coord: f32,
    /// Objectness in cells without an object (YOLOv1's lambda_noobj).
    pub no_object: f32,
}

impl Default for YoloWeights {
    fn default() -> Self {
        YoloWeights {
            coord: 5.0,
            no_object: 0.5,
        }
    }
}

/// The loss's parts, weighted and averaged over pictures as in the total.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct YoloLossParts {
    pub boxes: f32,
    pub objectness: f32,
    pub class: f32,
}

impl YoloLossParts {
    pub fn total(&self) -> f32 {
        self.boxes + self.objectness + self.class
    }
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + libm::expf(-x))
}

/// ln(1 + e^x), without overflow.
fn softplus(x: f32) -> f32 {
    if x > 0.0 {
        x + libm::log1pf(libm::expf(-x))
    } else {
        libm::log1pf(libm::expf(x))
    }
}

impl Graph {
    /// The YOLO loss of `pred` `[N, 5 + C, S, S]` against `targets`, one per
    /// cell, picture-major then row-major (`N * S * S`). A scalar, and its parts.
    pub fn yolo_loss(
        &mut self,
        pred: Var,
        targets: &[Option<CellTarget>],
        weights: YoloWeights,
    ) -> Result<(Var, YoloLossParts)> {
        let shape = self.shape(pred).to_vec();
        let bad_shape = shape.len() != 4 || shape[1] <= BOX_CHANNELS || shape[2] != shape[3] || shape[0] == 0;
        if bad_shape || targets.len() != shape[0] * shape[2] * shape[3] {
            return Err(Error::shape(
                "yolo_loss",
                "pred [N, 5 + C, S, S] vs targets [N * S * S]",
                &shape,
                &[targets.len()],
            ));
        }
        let (n, channels, plane) = (shape[0], shape[1], shape[2] * shape[3]);
        let classes = channels - BOX_CHANNELS;
        if let Some(bad) = targets.iter().flatten().find(|t| t.class >= classes) {
            return Err(Error::invalid(
                "yolo_loss",
                alloc::format!("class {} is not below the class count {classes}", bad.class),
            ));
        }
        let pc = contiguous(self.value(pred));
        let p = pc.as_slice().expect("standard layout");
        let mut grad = vec![0.0f32; p.len()];
        let mut parts = YoloLossParts::default();
        let per_picture = 1.0 / n as f32;
        for (cell, target) in targets.iter().enumerate() {
            let (picture, at) = (cell / plane, cell % plane);
            let index = |channel: usize| (picture * channels + channel) * plane + at;
            let o = p[index(0)];
            match target {
                None => {
                    // -log(1 - sigmoid(o)) = softplus(o).
                    parts.objectness += weights.no_object * softplus(o);
                    grad[index(0)] = weights.no_object * sigmoid(o) * per_picture;
                }
                Some(t) => {
                    // -log(sigmoid(o)) = softplus(-o).
                    parts.objectness += softplus(-o);
                    grad[index(0)] = (sigmoid(o) - 1.0) * per_picture;
                    for (channel, goal) in [(1, t.x), (2, t.y)] {
                        let s = sigmoid(p[index(channel)]);
                        parts.boxes += weights.coord * (s - goal) * (s - goal);
                        grad[index(channel)] = weights.coord * 2.0 * (s - goal) * s * (1.0 - s) * per_picture;
                    }
                    for (channel, goal) in [(3, t.w), (4, t.h)] {
                        let d = p[index(channel)] - goal;
                        parts.boxes += weights.coord * d * d;
                        grad[index(channel)] = weights.coord * 2.0 * d * per_picture;
                    }
                    let logit = |k: usize| p[index(BOX_CHANNELS + k)];
                    let max = (0..classes).map(logit).fold(f32::NEG_INFINITY, f32::max);
                    let sum: f32 = (0..classes).map(|k| libm::expf(logit(k) - max)).sum();
                    parts.class += max + libm::logf(sum) - logit(t.class);
                    for k in 0..classes {
                        let prob = libm::expf(logit(k) - max) / sum;
                        let onehot = if k == t.class { 1.0 } else { 0.0 };
                        grad[index(BOX_CHANNELS + k)] = (prob - onehot) * per_picture;
                    }
                }
            }
        }
        parts.boxes *= per_picture;
        parts.objectness *= per_picture;
        parts.class *= per_picture;
        let grad = Tensor::from_shape_vec(ndarray::IxDyn(&shape), grad).expect("sized");
        let loss = self.push_op(
            &[pred],
            scalar(parts.total()),
            Box::new(move |args| {
                let scale = args.grad.iter().next().copied().unwrap_or(0.0);
                vec![Some(&grad * scale)]
            }),
        );
        Ok((loss, parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::from_vec;

    /// One picture, a 2x2 grid, 2 classes: an object of class 1 in cell 0.
    const TARGET: CellTarget = CellTarget {
        x: 0.5,
        y: 0.5,
        w: 0.3,
        h: -0.2,
        class: 1,
    };

    /// A confident prediction of exactly the target (channel-major
    /// [7, 2, 2]): objectness certain in cell 0 and certainly empty
    /// elsewhere, the box right, class 1 by a wide margin.
    fn confident() -> alloc::vec::Vec<f32> {
        let plane = 4;
        let mut p = vec![0.0f32; 7 * plane];
        p[..plane].copy_from_slice(&[20.0, -20.0, -20.0, -20.0]);
        p[3 * plane] = 0.3;
        p[4 * plane] = -0.2;
        p[6 * plane] = 30.0;
        p
    }

    fn loss_of(p: alloc::vec::Vec<f32>) -> YoloLossParts {
        let mut g = Graph::new();
        let x = g.variable(from_vec(&[1, 7, 2, 2], p).unwrap());
        let (loss, parts) = g
            .yolo_loss(x, &[Some(TARGET), None, None, None], YoloWeights::default())
            .unwrap();
        assert_eq!(g.value(loss).iter().next().copied(), Some(parts.total()));
        parts
    }

    #[test]
    fn a_right_prediction_costs_nothing_and_each_mistake_costs_its_part() {
        assert!(loss_of(confident()).total() < 1e-6);
        // The wrong class by 30 nats: only the class part grows.
        let mut p = confident();
        p[5 * 4] = 30.0;
        p[6 * 4] = 0.0;
        let parts = loss_of(p);
        assert!((parts.class - 30.0).abs() < 1e-3, "{parts:?}");
        assert!(parts.boxes < 1e-6 && parts.objectness < 1e-6);
        // A width off by 1: coord * 1 in the box part.
        let mut p = confident();
        p[3 * 4] += 1.0;
        let parts = loss_of(p);
        assert!((parts.boxes - 5.0).abs() < 1e-4 && parts.class < 1e-6, "{parts:?}");
        // An empty cell that is sure of an object: no_object * softplus(20).
        let mut p = confident();
        p[1] = 20.0;
        let parts = loss_of(p);
        assert!((parts.objectness - 0.5 * 20.0).abs() < 1e-3, "{parts:?}");
    }

    #[test]
    fn mismatched_targets_are_refused() {
        let mut g = Graph::new();
        let x = g.variable(crate::tensor::zeros(&[2, 8, 3, 3]));
        assert!(g.yolo_loss(x, &[None; 9], YoloWeights::default()).is_err());
        let bad = CellTarget {
            x: 0.5,
            y: 0.5,
            w: 0.0,
            h: 0.0,
            class: 3,
        };
        let mut targets = vec![None; 18];
        targets[4] = Some(bad);
        let message =
            alloc::string::ToString::to_string(&g.yolo_loss(x, &targets, YoloWeights::default()).unwrap_err());
        assert!(message.contains("class 3"), "{message}");
    }
}

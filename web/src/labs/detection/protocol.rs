//! What the Detection lab's page and trainer send each other.

use serde::{Deserialize, Serialize};

use crate::worker::protocol::LabProtocol;

/// The Detection lab's side of the protocol.
pub struct DetectionProtocol;

impl LabProtocol for DetectionProtocol {
    const SLUG: &'static str = "detection";
    type Settings = DetectionSettings;
    type Hyper = Hyper;
    type Command = Command;
    type Reply = Reply;
}

/// Everything that defines a run besides its seed, and the two thresholds
/// the boxes are shown with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DetectionSettings {
    /// Filters of the first convolution (then doubled, twice).
    pub width: usize,
    /// Adam's step size.
    pub learning_rate: f32,
    /// Fresh scenes per step.
    pub batch_size: usize,
    /// The box error's weight in the loss (YOLO's lambda_coord).
    pub box_weight: f32,
    /// A box is shown (and counted for precision and recall) when its
    /// confidence is at least this.
    pub confidence: f32,
    /// Non-maximum suppression drops a box that overlaps a more confident
    /// one of its class by more than this IoU.
    pub nms_iou: f32,
}

impl Default for DetectionSettings {
    fn default() -> Self {
        Self {
            width: 8,
            learning_rate: 0.003,
            batch_size: 16,
            box_weight: 5.0,
            confidence: 0.5,
            nms_iou: 0.5,
        }
    }
}

/// The seed of a run when the URL names none.
pub const DEFAULT_SEED: u64 = 1;

/// One change. Only the network's width starts a new run; the rest apply
/// to the running detector (the thresholds without training at all).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Hyper {
    Width(usize),
    LearningRate(f32),
    BatchSize(usize),
    BoxWeight(f32),
    Confidence(f32),
    NmsIou(f32),
}

impl Hyper {
    /// The settings with this change made.
    pub fn apply(&self, s: &mut DetectionSettings) {
        match *self {
            Hyper::Width(v) => s.width = v,
            Hyper::LearningRate(v) => s.learning_rate = v,
            Hyper::BatchSize(v) => s.batch_size = v,
            Hyper::BoxWeight(v) => s.box_weight = v,
            Hyper::Confidence(v) => s.confidence = v,
            Hyper::NmsIou(v) => s.nms_iou = v,
        }
    }

    /// Whether the change throws away the trained weights.
    pub fn restarts_run(&self) -> bool {
        matches!(self, Hyper::Width(_))
    }
}

/// A shape the visitor placed on the drawing canvas: its class (0 circle,
/// 1 square, 2 triangle), centre and size in pixels of the 64x64 scene.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlacedShape {
    pub class: usize,
    pub cx: f32,
    pub cy: f32,
    pub size: f32,
    /// Red, green, blue in [0, 1].
    pub colour: [f32; 3],
}

/// The lab's own commands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Command {
    /// Draw these shapes into a scene and run the detector on it.
    Detect(Vec<PlacedShape>),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    /// The visitor's scene as the detector saw it (`[3, 64, 64]`, with the
    /// same kind of noisy background as the training scenes) and the
    /// detector's raw grid prediction for it.
    Detected { image: Vec<f32>, raw: Vec<f32> },
}

/// Held-out scenes (always the same ones, whatever the seed): mAP@0.5,
/// precision and recall are measured on them.
pub const HELD_OUT: usize = 120;
/// The first this many held-out scenes are drawn with their boxes.
pub const SHOWN: usize = 6;
/// Most shapes a drawn scene may hold.
pub const MAX_PLACED: usize = 12;

/// The names of the tensors the trainer sends.
pub mod tensors {
    /// The shown scenes, `[SHOWN, 3, 64, 64]` (a fresh run's first snapshot).
    pub const SCENES: &str = "scenes";
    /// Their objects, `[k, 6]`: scene index, class, x0, y0, x1, y1 (pixels).
    pub const TRUTH: &str = "truth";
    /// The detector's raw grid predictions for the shown scenes,
    /// `[SHOWN, 5 + C, 8, 8]` (see `deepplay_core::detection::Grid`).
    pub const RAW: &str = "raw";
}

/// The names of the metrics the trainer sends.
pub mod metrics {
    /// mAP@0.5 on the held-out scenes, with the current NMS threshold.
    pub const MAP50: &str = "map50";
    /// Precision and recall at the current confidence threshold.
    pub const PRECISION: &str = "precision";
    pub const RECALL: &str = "recall";
    /// Milliseconds per training step.
    pub const STEP_MS: &str = "step_ms";
}

/// The names of the integers the trainer sends.
pub mod integers {
    /// The step the latest held-out measurement was made at.
    pub const EVAL_STEP: &str = "eval_step";
    pub const PARAMS: &str = "params";
    /// Boxes kept on the held-out scenes at the current thresholds, and
    /// how many of them are right.
    pub const DETECTIONS: &str = "detections";
    pub const TRUE_POSITIVES: &str = "true_positives";
    pub const OBJECTS: &str = "objects";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_width_restarts_and_messages_round_trip() {
        use crate::worker::protocol::{decode, encode};
        assert!(Hyper::Width(4).restarts_run());
        for live in [
            Hyper::LearningRate(0.1),
            Hyper::BatchSize(4),
            Hyper::BoxWeight(1.0),
            Hyper::Confidence(0.2),
            Hyper::NmsIou(0.3),
        ] {
            assert!(!live.restarts_run(), "{live:?}");
            assert_eq!(decode::<Hyper>(&encode(&live), "hyper"), Ok(live.clone()));
        }
        let mut s = DetectionSettings::default();
        Hyper::Confidence(0.25).apply(&mut s);
        Hyper::Width(12).apply(&mut s);
        assert_eq!((s.confidence, s.width), (0.25, 12));
        let c = Command::Detect(vec![PlacedShape {
            class: 2,
            cx: 10.0,
            cy: 20.0,
            size: 12.0,
            colour: [1.0, 0.5, 0.0],
        }]);
        assert_eq!(decode::<Command>(&encode(&c), "command"), Ok(c));
        assert_eq!(decode::<DetectionSettings>(&encode(&s), "settings"), Ok(s));
    }
}

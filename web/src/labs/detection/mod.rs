//! The Detection lab: a tiny one-stage detector in YOLO's manner learns to
//! find shapes in scenes the browser draws; the visitor sees its boxes, its
//! grid and mAP@0.5 rising, moves the thresholds, and draws scenes of their own.

pub mod page;
pub mod protocol;
pub mod scene_view;
pub mod trainer;

use leptos::prelude::*;

use super::{LabEntry, LabInfo};
use crate::worker::protocol::LabProtocol;

pub struct Detection;

impl LabEntry for Detection {
    const INFO: LabInfo = LabInfo {
        slug: protocol::DetectionProtocol::SLUG,
        title: "Object detection",
        short_title: "Detection",
        model: "A tiny one-stage grid detector",
        summary: "Predicted boxes and confidences on synthetic shapes, the grid's objectness, and the mAP@0.5 \
                  score rising as the detector learns.",
    };
    type Protocol = protocol::DetectionProtocol;
    type Trainer = trainer::DetectionTrainer;

    fn page() -> AnyView {
        view! { <page::DetectionPage /> }.into_any()
    }
}

//! The CNN lab: a convolutional network learns MNIST live and shows its
//! kernels, feature maps, receptive fields and mistakes.

pub mod confusion;
pub mod explainer;
pub mod feature_maps;
pub mod page;
pub mod protocol;
pub mod query;
pub mod state;
pub mod trainer;

use leptos::prelude::*;

use super::{LabEntry, LabInfo};
use crate::worker::protocol::LabProtocol;

pub struct Cnn;

impl LabEntry for Cnn {
    const INFO: LabInfo = LabInfo {
        slug: protocol::CnnProtocol::SLUG,
        title: "Convolutional network",
        short_title: "CNN",
        model: "Conv, pool, conv, pool, dense on MNIST",
        summary: "Kernels and feature maps of a digit, receptive fields, stride and padding \
                  explained, a confusion matrix, and a canvas to draw your own digit.",
    };
    type Protocol = protocol::CnnProtocol;
    type Trainer = trainer::CnnLab;

    fn page() -> AnyView {
        view! { <page::CnnPage /> }.into_any()
    }
}

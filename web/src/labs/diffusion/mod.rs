//! The Diffusion lab: a DDPM learns a 2-D distribution live; the visitor
//! sees data turn into noise, and noise turn back into data, step by step.

pub mod page;
pub mod protocol;
pub mod trainer;

use leptos::prelude::*;

use super::{LabEntry, LabInfo};
use crate::worker::protocol::LabProtocol;

pub struct Diffusion;

impl LabEntry for Diffusion {
    const INFO: LabInfo = LabInfo {
        slug: protocol::DiffusionProtocol::SLUG,
        title: "Diffusion",
        short_title: "Diffusion",
        model: "A DDPM denoiser",
        summary: "Turn data into noise, train a network to undo it, and scrub through every denoising \
                  step as fresh samples take shape.",
    };
    type Protocol = protocol::DiffusionProtocol;
    type Trainer = trainer::DiffusionTrainer;

    fn page() -> AnyView {
        view! { <page::DiffusionPage /> }.into_any()
    }
}

//! The Transfer lab: the CNN pretrained on digits 0-4 learns new classes
//! (digits 5-9, or the visitor's own drawings) from a few examples, with
//! the layers the visitor chooses frozen, beside the same network trained
//! from scratch on the same examples.

pub mod page;
pub mod protocol;
pub mod trainer;
pub mod upload;

use leptos::prelude::*;

use super::{LabEntry, LabInfo};
use crate::worker::protocol::LabProtocol;

pub struct Transfer;

impl LabEntry for Transfer {
    const INFO: LabInfo = LabInfo {
        slug: protocol::TransferProtocol::SLUG,
        title: "Transfer learning",
        short_title: "Transfer",
        model: "The CNN, pretrained, then fine-tuned",
        summary: "Teach the digit network new classes from a few examples, some drawn by you; \
                  freeze layers and compare fine-tuning with training from scratch.",
    };
    type Protocol = protocol::TransferProtocol;
    type Trainer = trainer::TransferLab;

    fn page() -> AnyView {
        view! { <page::TransferPage /> }.into_any()
    }
}

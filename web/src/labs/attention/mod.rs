//! The Attention lab: a small Transformer learns a task that needs word
//! order, and the visitor sees every head's attention map, the positional
//! encoding, and what happens when it is switched off.

pub mod page;
pub mod protocol;
pub mod trainer;

use leptos::prelude::*;

use super::{LabEntry, LabInfo};
use crate::worker::protocol::LabProtocol;

pub struct Attention;

impl LabEntry for Attention {
    const INFO: LabInfo = LabInfo {
        slug: protocol::AttentionProtocol::SLUG,
        title: "Attention",
        short_title: "Attention",
        model: "A small Transformer",
        summary: "Live attention maps for every head on an order-sensitive toy language, the \
                  positional-encoding heatmap, and what happens without it.",
    };
    type Protocol = protocol::AttentionProtocol;
    type Trainer = trainer::AttentionTrainer;

    fn page() -> AnyView {
        view! { <page::AttentionPage /> }.into_any()
    }
}

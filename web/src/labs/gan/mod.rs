//! The GAN lab: a generator and a discriminator play their game live on
//! 2-D data; the visitor sees the fakes over the discriminator's view of the
//! plane, where it pushes them, and which modes the generator covers.

pub mod page;
pub mod protocol;
pub mod trainer;

use leptos::prelude::*;

use super::{LabEntry, LabInfo};
use crate::worker::protocol::LabProtocol;

pub struct Gan;

impl LabEntry for Gan {
    const INFO: LabInfo = LabInfo {
        slug: protocol::GanProtocol::SLUG,
        title: "GAN",
        short_title: "GAN",
        model: "Generator versus discriminator",
        summary: "Two networks in a game on 2-D distributions: generated samples over the \
                  discriminator's view of the plane, where it pushes them, and which modes they cover.",
    };
    type Protocol = protocol::GanProtocol;
    type Trainer = trainer::GanTrainer;

    fn page() -> AnyView {
        view! { <page::GanPage /> }.into_any()
    }
}

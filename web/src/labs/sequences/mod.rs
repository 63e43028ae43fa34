//! The Sequences lab: a tanh RNN, a GRU and an LSTM learn the same task side
//! by side, and the vanishing gradient becomes visible: the norm of the
//! loss gradient at every time step, the GRU's gates over time, and each
//! network's hidden state.

pub mod page;
pub mod protocol;
pub mod trainer;

use leptos::prelude::*;

use super::{LabEntry, LabInfo};
use crate::worker::protocol::LabProtocol;

pub struct Sequences;

impl LabEntry for Sequences {
    const INFO: LabInfo = LabInfo {
        slug: protocol::SequencesProtocol::SLUG,
        title: "Sequences",
        short_title: "Sequences",
        model: "A tanh RNN, a GRU and an LSTM",
        summary: "Three recurrent networks side by side on a long-range memory task: the \
                  vanishing gradient made visible, the GRU's gates and every hidden state over \
                  time.",
    };
    type Protocol = protocol::SequencesProtocol;
    type Trainer = trainer::SequencesTrainer;

    fn page() -> AnyView {
        view! { <page::SequencesPage /> }.into_any()
    }
}

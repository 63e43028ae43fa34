//! The 2-D playground: a small MLP learns to separate spirals, moons or
//! circles, and its decision regions are drawn under the data as it learns.

pub mod page;
pub mod protocol;
pub mod trainer;

use leptos::prelude::*;

use super::{LabEntry, LabInfo};
use crate::worker::protocol::LabProtocol;

pub struct Playground;

impl LabEntry for Playground {
    const INFO: LabInfo = LabInfo {
        slug: protocol::PlaygroundProtocol::SLUG,
        title: "2-D playground",
        short_title: "Playground",
        model: "Multilayer perceptron",
        summary: "Train a small neural network to separate spirals, moons or circles, and \
                  watch its decision boundary bend around the data as it learns.",
    };
    type Protocol = protocol::PlaygroundProtocol;
    type Trainer = trainer::PlaygroundTrainer;

    fn page() -> AnyView {
        view! { <page::PlaygroundPage /> }.into_any()
    }
}

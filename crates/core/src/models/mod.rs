//! Models the labs train.

pub mod mlp;

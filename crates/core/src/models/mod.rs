//! Models the labs train.

pub mod cnn;
pub mod mlp;

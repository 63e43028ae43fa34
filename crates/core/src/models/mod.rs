//! Models the labs train.

pub mod cnn;
pub mod cnn_trainer;
pub mod mlp;

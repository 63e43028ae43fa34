//! Data the labs train on: generated 2-D datasets, generated sequences, token tasks and MNIST.

pub mod gzip;
pub mod language;
pub mod mnist;
pub mod sequences;
pub mod synthetic;

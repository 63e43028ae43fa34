//! Data the labs train on: generated 2-D datasets, generated sequences and MNIST.

pub mod gzip;
pub mod mnist;
pub mod sequences;
pub mod synthetic;

//! Data the labs train on: generated 2-D datasets and MNIST.

pub mod gzip;
pub mod mnist;
pub mod synthetic;

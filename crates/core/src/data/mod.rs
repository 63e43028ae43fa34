//! Data the labs train on: generated 2-D datasets and (next) MNIST.

pub mod synthetic;

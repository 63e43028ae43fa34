//! Data the labs train on: generated 2-D datasets, 2-D point clouds, generated sequences, token tasks, MNIST and the Detection lab's scenes.

pub mod gzip;
pub mod language;
pub mod mnist;
pub mod points;
pub mod scenes;
pub mod sequences;
pub mod synthetic;

//! DeepPlay's compute core: reverse-mode automatic differentiation over f32
//! tensors, the layers, losses and optimizers the labs train with, and the
//! models and data they use.
//!
//! `#![no_std]` + `alloc`: the crate knows nothing of the browser (or of an
//! operating system). Float math comes from `libm`; everything random comes
//! from the seeded [`Rng`], so the same seed gives the same run, bit for bit.
//!
//! Reading order for a newcomer: [`autograd`] (the tape), [`ops`] (each op's
//! forward beside its backward), [`layers`] (modules that own parameters),
//! [`optim`], [`models`].
#![no_std]
// deny, not forbid: kernels::simd128 (wasm32 + simd128 only) allows unsafe
// for its packed-panel loads and stores, each bounds-checked up front; see the
// reason there. Nothing else in the crate uses unsafe.
#![deny(unsafe_code)]

extern crate alloc;
// Tests may read the shipped files (the pretrained network, MNIST).
#[cfg(test)]
extern crate std;

pub mod autograd;
pub mod buffers;
pub mod data;
pub mod ddpm;
pub mod detection;
pub mod error;
pub mod gradcheck;
pub mod init;
pub mod kernels;
pub mod layers;
pub mod limits;
pub mod metrics;
pub mod models;
pub mod ops;
pub mod optim;
pub mod rng;
pub mod safetensors;
pub mod tensor;

pub use autograd::{Graph, Var};
pub use error::{Error, Result};
pub use layers::{Module, Param};
pub use rng::Rng;
pub use tensor::Tensor;

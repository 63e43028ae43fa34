//! Every differentiable op, as methods on [`crate::Graph`]. Each file holds a
//! family of ops with the forward and the backward of each side by side.
//! Semantics follow PyTorch's: each op's documentation names the `torch`
//! function it matches. `tests/gradcheck.rs` lists every op (each has a
//! gradient check) and `examples/oracle.rs` answers them for comparison
//! with another framework.

mod activation;
mod conv;
mod elementwise;
mod embedding;
mod loss;
mod matmul;
mod norm;
mod pool;
mod reduce;
mod shape;
mod softmax;
mod yolo;

pub(crate) use activation::sigmoid;
pub use conv::{conv2d_output_size, Conv2dSpec};
pub use pool::PoolSpec;
pub(crate) use softmax::softmax_rows;
pub use yolo::{YoloLossParts, YoloWeights};

use crate::buffers::Buffers;
use crate::tensor::Tensor;

/// Elementwise map into a new standard-layout tensor (in a recycled buffer).
pub(crate) fn map(buffers: &Buffers, t: &Tensor, f: impl Fn(f32) -> f32) -> Tensor {
    let mut out = buffers.take(t.len());
    match t.as_slice() {
        Some(data) => out.iter_mut().zip(data).for_each(|(o, &v)| *o = f(v)),
        None => out.iter_mut().zip(t.iter()).for_each(|(o, &v)| *o = f(v)),
    }
    Tensor::from_shape_vec(t.raw_dim(), out).expect("same length")
}

/// Elementwise combination of two same-shape tensors (in a recycled buffer).
pub(crate) fn zip_map(buffers: &Buffers, a: &Tensor, b: &Tensor, f: impl Fn(f32, f32) -> f32) -> Tensor {
    assert_eq!(a.shape(), b.shape(), "zip_map: shapes differ");
    let mut out = buffers.take(a.len());
    match (a.as_slice(), b.as_slice()) {
        (Some(x), Some(y)) => out
            .iter_mut()
            .zip(x.iter().zip(y))
            .for_each(|(o, (&x, &y))| *o = f(x, y)),
        _ => out
            .iter_mut()
            .zip(a.iter().zip(b.iter()))
            .for_each(|(o, (&x, &y))| *o = f(x, y)),
    }
    Tensor::from_shape_vec(a.raw_dim(), out).expect("same length")
}

/// Contiguous row-major data of a tensor (a view when it already is).
pub(crate) fn contiguous(t: &Tensor) -> ndarray::CowArray<'_, f32, ndarray::IxDyn> {
    t.as_standard_layout()
}

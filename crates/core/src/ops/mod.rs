//! Every differentiable op, as methods on [`crate::Graph`]. Each file holds a
//! family of ops with the forward and the backward of each side by side.
//! Semantics follow PyTorch's (see the op table in design.md).

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

pub use conv::{conv2d_output_size, Conv2dSpec};
pub use pool::PoolSpec;

use crate::tensor::Tensor;

/// Elementwise map into a new standard-layout tensor.
pub(crate) fn map(t: &Tensor, f: impl Fn(f32) -> f32) -> Tensor {
    t.mapv(f)
}

/// Elementwise combination of two same-shape tensors.
pub(crate) fn zip_map(a: &Tensor, b: &Tensor, f: impl Fn(f32, f32) -> f32) -> Tensor {
    let mut out = a.clone();
    ndarray::Zip::from(&mut out).and(b).for_each(|x, &y| *x = f(*x, y));
    out
}

/// Contiguous row-major data of a tensor (a view when it already is).
pub(crate) fn contiguous(t: &Tensor) -> ndarray::CowArray<'_, f32, ndarray::IxDyn> {
    t.as_standard_layout()
}

//! The tensor type (an owned, dynamically shaped ndarray of f32) and the shape
//! helpers that several ops share.

use crate::error::{Error, Result};
use alloc::vec::Vec;
use ndarray::{ArrayD, Axis, IxDyn};

/// An owned f32 tensor of any rank, row-major when freshly made.
pub type Tensor = ArrayD<f32>;

/// A tensor from a shape and row-major data; an error if the sizes disagree.
pub fn from_vec(shape: &[usize], data: Vec<f32>) -> Result<Tensor> {
    let expected: usize = shape.iter().product();
    if expected != data.len() {
        return Err(Error::shape(
            "tensor",
            "element count of the shape vs data length",
            shape,
            &[data.len()],
        ));
    }
    Ok(ArrayD::from_shape_vec(IxDyn(shape), data).expect("sizes checked above"))
}

pub fn zeros(shape: &[usize]) -> Tensor {
    ArrayD::zeros(IxDyn(shape))
}

/// A scalar (rank-0) tensor.
pub fn scalar(value: f32) -> Tensor {
    ArrayD::from_elem(IxDyn(&[]), value)
}

/// Row-major data of a tensor, copying only if it is not already contiguous.
pub fn to_vec(t: &Tensor) -> Vec<f32> {
    t.iter().copied().collect()
}

/// NumPy/PyTorch broadcasting: align trailing axes; each pair must be equal or 1.
pub fn broadcast_shape(op: &'static str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = Vec::with_capacity(rank);
    for i in 0..rank {
        let da = if i + a.len() >= rank { a[i + a.len() - rank] } else { 1 };
        let db = if i + b.len() >= rank { b[i + b.len() - rank] } else { 1 };
        out.push(match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return Err(Error::shape(op, "shapes do not broadcast", a, b)),
        });
    }
    Ok(out)
}

/// Sum a gradient of the broadcast shape back down to the shape of an input:
/// the adjoint of broadcasting.
pub fn sum_to_shape(grad: Tensor, shape: &[usize]) -> Tensor {
    if grad.shape() == shape {
        return grad;
    }
    let mut g = grad;
    while g.ndim() > shape.len() {
        g = g.sum_axis(Axis(0));
    }
    for (axis, &dim) in shape.iter().enumerate() {
        if dim == 1 && g.shape()[axis] != 1 {
            g = g.sum_axis(Axis(axis)).insert_axis(Axis(axis));
        }
    }
    g
}

/// Index of the largest value of each row of a [N, K] tensor.
pub fn argmax_rows(t: &Tensor) -> Vec<usize> {
    let k = *t.shape().last().unwrap_or(&1);
    let data = t.as_standard_layout();
    let slice = data.as_slice().expect("standard layout is contiguous");
    if k == 0 {
        return Vec::new();
    }
    slice
        .chunks(k)
        .map(|row| {
            let mut best = 0;
            for (i, &v) in row.iter().enumerate() {
                if v > row[best] {
                    best = i;
                }
            }
            best
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(broadcast_shape("t", &[2, 3], &[3]).unwrap(), vec![2, 3]);
        assert_eq!(broadcast_shape("t", &[4, 1, 3], &[5, 1]).unwrap(), vec![4, 5, 3]);
        let err = broadcast_shape("add", &[2, 3], &[4]).unwrap_err();
        let msg = alloc::format!("{err}");
        assert!(msg.contains("[2, 3]") && msg.contains("[4]"), "{msg}");
    }

    #[test]
    fn sum_to_shape_undoes_broadcast() {
        let g = from_vec(&[2, 3], vec![1., 2., 3., 4., 5., 6.]).unwrap();
        assert_eq!(to_vec(&sum_to_shape(g.clone(), &[3])), vec![5., 7., 9.]);
        assert_eq!(to_vec(&sum_to_shape(g, &[2, 1])), vec![6., 15.]);
    }
}

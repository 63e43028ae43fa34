//! Softmax over the last axis (`F.softmax(x, dim=-1)`), computed with the
//! row maximum subtracted so large logits never overflow.

use super::contiguous;
use crate::autograd::{Graph, Var};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use alloc::boxed::Box;
use alloc::vec;

/// Softmax of each `k`-long row of `data`, in place.
pub(crate) fn softmax_rows(data: &mut [f32], k: usize) {
    for row in data.chunks_mut(k) {
        let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let mut sum = 0.0;
        for v in row.iter_mut() {
            *v = libm::expf(*v - max);
            sum += *v;
        }
        let inv = 1.0 / sum;
        row.iter_mut().for_each(|v| *v *= inv);
    }
}

impl Graph {
    pub fn softmax(&mut self, x: Var) -> Result<Var> {
        let shape = self.shape(x).to_vec();
        let Some(&k) = shape.last().filter(|&&k| k > 0) else {
            return Err(Error::shape("softmax", "needs a non-empty last axis", &shape, &[]));
        };
        let mut value = contiguous(self.value(x)).into_owned();
        softmax_rows(value.as_slice_mut().expect("standard layout"), k);
        Ok(self.push_op(
            &[x],
            value,
            Box::new(move |args| {
                // dx = y * (g - sum(g * y)) row by row.
                let yc = contiguous(args.output);
                let gc = contiguous(args.grad);
                let mut dx = Tensor::zeros(args.output.raw_dim());
                let d = dx.as_slice_mut().expect("fresh");
                for ((dr, yr), gr) in d
                    .chunks_mut(k)
                    .zip(yc.as_slice().unwrap().chunks(k))
                    .zip(gc.as_slice().unwrap().chunks(k))
                {
                    let dot: f32 = yr.iter().zip(gr).map(|(y, g)| y * g).sum();
                    for ((d, &y), &g) in dr.iter_mut().zip(yr).zip(gr) {
                        *d = y * (g - dot);
                    }
                }
                vec![Some(dx)]
            }),
        ))
    }
}

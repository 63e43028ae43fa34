//! Pooling without padding (`F.max_pool2d`, `F.avg_pool2d`). Max pooling
//! remembers which input won each window so the backward pass routes the
//! gradient there alone (ties go to the first, as in PyTorch).

use super::contiguous;
use crate::autograd::{Graph, Var};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use ndarray::IxDyn;

/// Window size and stride (PyTorch's default stride is the window size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSpec {
    pub kernel: usize,
    pub stride: usize,
}

impl PoolSpec {
    pub fn new(kernel: usize) -> Self {
        PoolSpec { kernel, stride: kernel }
    }

    /// Output size along one axis, or an error when the window does not fit.
    pub fn output_size(&self, input: usize) -> Result<usize> {
        if self.kernel == 0 || self.stride == 0 {
            return Err(Error::invalid("pool2d", "kernel and stride must be at least 1"));
        }
        if input < self.kernel {
            return Err(Error::invalid(
                "pool2d",
                alloc::format!("a {}-wide window does not fit an input of {input}", self.kernel),
            ));
        }
        Ok((input - self.kernel) / self.stride + 1)
    }
}

struct PoolShape {
    planes: usize,
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
}

fn pool_shape(op: &'static str, shape: &[usize], spec: PoolSpec) -> Result<PoolShape> {
    if shape.len() != 4 {
        return Err(Error::shape(op, "input must be [N, C, H, W]", shape, &[]));
    }
    Ok(PoolShape {
        planes: shape[0] * shape[1],
        h: shape[2],
        w: shape[3],
        oh: spec.output_size(shape[2])?,
        ow: spec.output_size(shape[3])?,
    })
}

impl Graph {
    pub fn max_pool2d(&mut self, x: Var, spec: PoolSpec) -> Result<Var> {
        let in_shape = self.shape(x).to_vec();
        let ps = pool_shape("max_pool2d", &in_shape, spec)?;
        let xc = contiguous(self.value(x));
        let data = xc.as_slice().expect("standard layout");
        let mut out = Vec::with_capacity(ps.planes * ps.oh * ps.ow);
        // Flat index into the input of each output's winner.
        let mut winners: Vec<u32> = Vec::with_capacity(out.capacity());
        for plane in 0..ps.planes {
            let base = plane * ps.h * ps.w;
            for oy in 0..ps.oh {
                for ox in 0..ps.ow {
                    let mut best = base + oy * spec.stride * ps.w + ox * spec.stride;
                    for ky in 0..spec.kernel {
                        let row = base + (oy * spec.stride + ky) * ps.w + ox * spec.stride;
                        for idx in row..row + spec.kernel {
                            // NaN wins, as in PyTorch, so divergence is never hidden.
                            if data[idx] > data[best] || data[idx].is_nan() && !data[best].is_nan() {
                                best = idx;
                            }
                        }
                    }
                    out.push(data[best]);
                    winners.push(best as u32);
                }
            }
        }
        drop(xc);
        let value = Tensor::from_shape_vec(IxDyn(&[in_shape[0], in_shape[1], ps.oh, ps.ow]), out).expect("sized");
        Ok(self.push_op(
            &[x],
            value,
            Box::new(move |args| {
                let mut dx = vec![0.0f32; in_shape.iter().product()];
                for (&idx, &g) in winners.iter().zip(args.grad.iter()) {
                    dx[idx as usize] += g;
                }
                vec![Some(Tensor::from_shape_vec(IxDyn(&in_shape), dx).expect("sized"))]
            }),
        ))
    }

    pub fn avg_pool2d(&mut self, x: Var, spec: PoolSpec) -> Result<Var> {
        let in_shape = self.shape(x).to_vec();
        let ps = pool_shape("avg_pool2d", &in_shape, spec)?;
        let scale = 1.0 / (spec.kernel * spec.kernel) as f32;
        let xc = contiguous(self.value(x));
        let data = xc.as_slice().expect("standard layout");
        let mut out = Vec::with_capacity(ps.planes * ps.oh * ps.ow);
        for plane in 0..ps.planes {
            let base = plane * ps.h * ps.w;
            for oy in 0..ps.oh {
                for ox in 0..ps.ow {
                    let mut sum = 0.0;
                    for ky in 0..spec.kernel {
                        let row = base + (oy * spec.stride + ky) * ps.w + ox * spec.stride;
                        sum += data[row..row + spec.kernel].iter().sum::<f32>();
                    }
                    out.push(sum * scale);
                }
            }
        }
        drop(xc);
        let value = Tensor::from_shape_vec(IxDyn(&[in_shape[0], in_shape[1], ps.oh, ps.ow]), out).expect("sized");
        Ok(self.push_op(
            &[x],
            value,
            Box::new(move |args| {
                let mut dx = vec![0.0f32; in_shape.iter().product()];
                let gc = contiguous(args.grad);
                let g = gc.as_slice().expect("standard layout");
                for plane in 0..ps.planes {
                    let base = plane * ps.h * ps.w;
                    for oy in 0..ps.oh {
                        for ox in 0..ps.ow {
                            let share = g[(plane * ps.oh + oy) * ps.ow + ox] * scale;
                            for ky in 0..spec.kernel {
                                let row = base + (oy * spec.stride + ky) * ps.w + ox * spec.stride;
                                dx[row..row + spec.kernel].iter_mut().for_each(|d| *d += share);
                            }
                        }
                    }
                }
                vec![Some(Tensor::from_shape_vec(IxDyn(&in_shape), dx).expect("sized"))]
            }),
        ))
    }
}

//! Pooling without padding (`F.max_pool2d`, `F.avg_pool2d`). Max pooling
//! remembers which input won each window so the backward pass routes the
//! gradient there alone (ties go to the first, as in PyTorch).

use super::contiguous;
use crate::autograd::{Graph, Var};
use crate::error::{Error, Result};
use crate::kernels::{max_nan, max_pairs};
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

/// Each output of one row: the maximum of its K-wide window of `column_max`
/// (windows `stride` apart). K is a constant so the window is unrolled.
fn row_max<const K: usize>(column_max: &[f32], stride: usize, out_row: &mut [f32]) {
    for (ox, o) in out_row.iter_mut().enumerate() {
        let window: &[f32; K] = column_max[ox * stride..ox * stride + K].try_into().expect("K wide");
        *o = window.iter().fold(f32::NEG_INFINITY, |m, &v| max_nan(m, v));
    }
}

/// Index in `src` of the first input of a K x K window (top-left at
/// `first`, rows `w` apart) equal to its maximum `y`, or the first NaN when
/// `y` is NaN. Scanned last to first with selects, so the first match wins
/// without a branch on the data (a mispredicted branch per window cost more
/// than the scan).
fn first_match<const K: usize>(src: &[f32], first: usize, w: usize, y: f32) -> usize {
    let mut winner = first;
    for ky in (0..K).rev() {
        let row: &[f32; K] = src[first + ky * w..first + ky * w + K].try_into().expect("K wide");
        for kx in (0..K).rev() {
            let v = row[kx];
            let hit = (v == y) | (y.is_nan() & v.is_nan());
            winner = if hit { first + ky * w + kx } else { winner };
        }
    }
    winner
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
        // Every output is written: recycled contents do not matter.
        let mut out = self.buffers().take(ps.planes * ps.oh * ps.ow);
        // Two passes per output row, both free of data-dependent branches:
        // the maximum down each column of the window's rows (whole rows at a
        // time, which LLVM vectorises), then across each window of that.
        let mut column_max = vec![0.0f32; ps.w];
        let (k, s) = (spec.kernel, spec.stride);
        for (src, out_plane) in data.chunks_exact(ps.h * ps.w).zip(out.chunks_exact_mut(ps.oh * ps.ow)) {
            for (oy, out_row) in out_plane.chunks_exact_mut(ps.ow).enumerate() {
                let top = oy * s * ps.w;
                let first = &src[top..top + ps.w];
                if k == 1 {
                    column_max.copy_from_slice(first);
                } else {
                    // The first two rows at once (a copy first would be a
                    // `memory.copy` call per row on wasm).
                    let second = &src[top + ps.w..top + 2 * ps.w];
                    for (m, (&a, &b)) in column_max.iter_mut().zip(first.iter().zip(second)) {
                        *m = max_nan(a, b);
                    }
                }
                for ky in 2..k {
                    let row = &src[top + ky * ps.w..top + (ky + 1) * ps.w];
                    for (m, &v) in column_max.iter_mut().zip(row) {
                        *m = max_nan(*m, v);
                    }
                }
                match k {
                    2 if s == 2 => max_pairs(&column_max, out_row),
                    2 => row_max::<2>(&column_max, s, out_row),
                    3 => row_max::<3>(&column_max, s, out_row),
                    _ => {
                        for (ox, o) in out_row.iter_mut().enumerate() {
                            let window = &column_max[ox * s..ox * s + k];
                            *o = window.iter().fold(f32::NEG_INFINITY, |m, &v| max_nan(m, v));
                        }
                    }
                }
            }
        }
        drop(xc);
        let value = Tensor::from_shape_vec(IxDyn(&[in_shape[0], in_shape[1], ps.oh, ps.ow]), out).expect("sized");
        Ok(self.push_op(
            &[x],
            value,
            Box::new(move |args| {
                // The gradient goes to each window's winner: the first input
                // equal to the output (the first NaN when the output is NaN),
                // found again here rather than remembered by the forward pass.
                let xc = contiguous(args.inputs[0]);
                let data = xc.as_slice().expect("standard layout");
                let mut dx = args.buffers.take_zeroed(data.len());
                let (outputs, grads) = (args.output.iter(), args.grad.iter());
                let mut windows = outputs.zip(grads);
                for (plane, src) in data.chunks_exact(ps.h * ps.w).enumerate() {
                    let base = plane * ps.h * ps.w;
                    for oy in 0..ps.oh {
                        for ox in 0..ps.ow {
                            let (&y, &g) = windows.next().expect("one output per window");
                            let first = oy * spec.stride * ps.w + ox * spec.stride;
                            let winner = match spec.kernel {
                                2 => first_match::<2>(src, first, ps.w, y),
                                3 => first_match::<3>(src, first, ps.w, y),
                                k => (0..k * k)
                                    .map(|j| first + (j / k) * ps.w + j % k)
                                    .find(|&i| src[i] == y || (y.is_nan() && src[i].is_nan()))
                                    .unwrap_or(first),
                            };
                            dx[base + winner] += g;
                        }
                    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// Max pooling the obvious way: a forward that remembers each window's
    /// winner (first maximum in row-major order, first NaN if any), and a
    /// backward that scatters there.
    fn naive(x: &[f32], [n, h, w]: [usize; 3], spec: PoolSpec, upstream: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let (oh, ow) = (spec.output_size(h).unwrap(), spec.output_size(w).unwrap());
        let (mut out, mut dx) = (Vec::new(), vec![0.0; x.len()]);
        for plane in 0..n {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut best: Option<usize> = None;
                    for ky in 0..spec.kernel {
                        for kx in 0..spec.kernel {
                            let i = plane * h * w + (oy * spec.stride + ky) * w + ox * spec.stride + kx;
                            best = match best {
                                Some(b) if x[b].is_nan() || !x[i].is_nan() && x[i] <= x[b] => Some(b),
                                _ => Some(i),
                            };
                        }
                    }
                    let b = best.unwrap();
                    dx[b] += upstream[out.len()];
                    out.push(x[b]);
                }
            }
        }
        (out, dx)
    }

    /// Many ties (values from {0, 1, 2}, as after a ReLU), some NaNs, and
    /// window shapes that take each code path: K = 2 and 3 (unrolled),
    /// K = 4 (generic), overlapping windows, and windows that skip inputs.
    #[test]
    fn max_pool_matches_the_naive_pool_with_ties_and_nans() {
        let mut rng = Rng::new(7);
        for (kernel, stride) in [(2, 2), (3, 3), (3, 2), (2, 3), (4, 1), (1, 1)] {
            let spec = PoolSpec { kernel, stride };
            let (n, h, w) = (3, 9, 10);
            let x: Vec<f32> = (0..n * h * w)
                .map(|_| match rng.below(12) {
                    0 => f32::NAN,
                    r => (r % 3) as f32,
                })
                .collect();
            let (oh, ow) = (spec.output_size(h).unwrap(), spec.output_size(w).unwrap());
            let upstream: Vec<f32> = (0..n * oh * ow).map(|_| rng.normal()).collect();
            let (want_out, want_dx) = naive(&x, [n, h, w], spec, &upstream);

            let mut g = Graph::new();
            let xv = g.variable(Tensor::from_shape_vec(IxDyn(&[1, n, h, w]), x.clone()).unwrap());
            let y = g.max_pool2d(xv, spec).unwrap();
            let out: Vec<f32> = g.value(y).iter().copied().collect();
            let same = |a: f32, b: f32| a == b || a.is_nan() && b.is_nan();
            assert!(
                out.iter().zip(&want_out).all(|(&a, &b)| same(a, b)),
                "forward, {spec:?}"
            );
            g.backward_with(y, Tensor::from_shape_vec(IxDyn(&[1, n, oh, ow]), upstream).unwrap())
                .unwrap();
            let dx: Vec<f32> = g.grad(xv).unwrap().iter().copied().collect();
            assert_eq!(dx, want_dx, "gradient, {spec:?}");
        }
    }
}

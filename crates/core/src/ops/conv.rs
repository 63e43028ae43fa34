//! 2-D convolution (`F.conv2d`: cross-correlation, zero padding) as im2col +
//! GEMM. Each sample's receptive fields are unrolled into a [C*KH*KW, OH*OW]
//! matrix so that the convolution becomes one matrix product with the
//! [O, C*KH*KW] kernel matrix; the backward pass is two more products and a
//! col2im scatter. The unrolled columns are kept for the backward pass.

use super::contiguous;
use crate::autograd::{Graph, Var};
use crate::error::{Error, Result};
use crate::kernels::gemm;
use crate::tensor::Tensor;
use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use ndarray::{ArrayView2, ArrayViewMut2, IxDyn};

/// Stride and zero padding, the same on both spatial axes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dSpec {
    pub stride: usize,
    pub padding: usize,
}

impl Default for Conv2dSpec {
    fn default() -> Self {
        Conv2dSpec { stride: 1, padding: 0 }
    }
}

/// Output size along one axis: floor((input + 2 padding - kernel) / stride) + 1,
/// or an error when the kernel does not fit the padded input.
pub fn conv2d_output_size(input: usize, kernel: usize, spec: Conv2dSpec) -> Result<usize> {
    if spec.stride == 0 {
        return Err(Error::invalid("conv2d", "stride must be at least 1"));
    }
    if kernel == 0 || input + 2 * spec.padding < kernel {
        return Err(Error::invalid(
            "conv2d",
            alloc::format!(
                "a {kernel}-wide kernel does not fit an input of {input} with padding {}",
                spec.padding
            ),
        ));
    }
    Ok((input + 2 * spec.padding - kernel) / spec.stride + 1)
}

/// Geometry of one convolution, shared by forward and backward.
#[derive(Clone, Copy)]
struct Geometry {
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    o: usize,
    kh: usize,
    kw: usize,
    oh: usize,
    ow: usize,
    spec: Conv2dSpec,
}

impl Geometry {
    fn patch(&self) -> usize {
        self.c * self.kh * self.kw
    }
    fn positions(&self) -> usize {
        self.oh * self.ow
    }

    /// The output columns `lo..hi` whose input column `ox * stride + kj - padding`
    /// lies inside the image (the others read zero padding).
    fn valid_outputs(&self, kj: usize) -> (usize, usize) {
        let (s, p) = (self.spec.stride, self.spec.padding);
        // Valid when p <= ox * s + kj < w + p.
        let lo = if kj >= p { 0 } else { (p - kj).div_ceil(s) };
        let hi = if self.w + p > kj {
            (self.w + p - kj).div_ceil(s).min(self.ow)
        } else {
            0
        };
        (lo.min(hi), hi)
    }

    /// Unroll one sample [C, H, W] into columns [C*KH*KW, OH*OW].
    fn im2col(&self, x: &[f32], cols: &mut [f32]) {
        let (s, p) = (self.spec.stride, self.spec.padding);
        let positions = self.positions();
        for c in 0..self.c {
            let plane = &x[c * self.h * self.w..(c + 1) * self.h * self.w];
            for ki in 0..self.kh {
                for kj in 0..self.kw {
                    let row = (c * self.kh + ki) * self.kw + kj;
                    let dst = &mut cols[row * positions..(row + 1) * positions];
                    let (lo, hi) = self.valid_outputs(kj);
                    for oy in 0..self.oh {
                        let line = &mut dst[oy * self.ow..(oy + 1) * self.ow];
                        let iy = oy * s + ki;
                        if iy < p || iy >= self.h + p {
                            line.fill(0.0);
                            continue;
                        }
                        let src = &plane[(iy - p) * self.w..(iy - p + 1) * self.w];
                        line[..lo].fill(0.0);
                        line[hi..].fill(0.0);
                        if s == 1 {
                            // Stride 1: the valid part of the row is one contiguous copy.
                            let first = lo + kj - p;
                            line[lo..hi].copy_from_slice(&src[first..first + (hi - lo)]);
                        } else {
                            for (ox, v) in line.iter_mut().enumerate().take(hi).skip(lo) {
                                *v = src[ox * s + kj - p];
                            }
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of im2col: add columns back onto one sample's [C, H, W].
    fn col2im(&self, cols: &[f32], dx: &mut [f32]) {
        let (s, p) = (self.spec.stride, self.spec.padding);
        let positions = self.positions();
        for c in 0..self.c {
            let plane = &mut dx[c * self.h * self.w..(c + 1) * self.h * self.w];
            for ki in 0..self.kh {
                for kj in 0..self.kw {
                    let row = (c * self.kh + ki) * self.kw + kj;
                    let src = &cols[row * positions..(row + 1) * positions];
                    let (lo, hi) = self.valid_outputs(kj);
                    for oy in 0..self.oh {
                        let iy = oy * s + ki;
                        if iy < p || iy >= self.h + p {
                            continue;
                        }
                        let dst = &mut plane[(iy - p) * self.w..(iy - p + 1) * self.w];
                        let line = &src[oy * self.ow..(oy + 1) * self.ow];
                        if s == 1 {
                            let first = lo + kj - p;
                            for (d, &v) in dst[first..first + (hi - lo)].iter_mut().zip(&line[lo..hi]) {
                                *d += v;
                            }
                        } else {
                            for (ox, &v) in line.iter().enumerate().take(hi).skip(lo) {
                                dst[ox * s + kj - p] += v;
                            }
                        }
                    }
                }
            }
        }
    }
}

fn matrix(data: &[f32], rows: usize, cols: usize) -> ArrayView2<'_, f32> {
    ArrayView2::from_shape((rows, cols), data).expect("sized by the geometry")
}

fn matrix_mut(data: &mut [f32], rows: usize, cols: usize) -> ArrayViewMut2<'_, f32> {
    ArrayViewMut2::from_shape((rows, cols), data).expect("sized by the geometry")
}

impl Graph {
    /// x [N, C, H, W], w [O, C, KH, KW], b [O] -> [N, O, OH, OW].
    pub fn conv2d(&mut self, x: Var, w: Var, b: Option<Var>, spec: Conv2dSpec) -> Result<Var> {
        let (xs, ws) = (self.shape(x).to_vec(), self.shape(w).to_vec());
        if xs.len() != 4 || ws.len() != 4 || xs[1] != ws[1] {
            return Err(Error::shape("conv2d", "x [N,C,H,W] vs weight [O,C,KH,KW]", &xs, &ws));
        }
        if let Some(b) = b {
            if self.shape(b) != [ws[0]] {
                return Err(Error::shape(
                    "conv2d",
                    "bias must be [out_channels]",
                    self.shape(b),
                    &ws[..1],
                ));
            }
        }
        let geo = Geometry {
            n: xs[0],
            c: xs[1],
            h: xs[2],
            w: xs[3],
            o: ws[0],
            kh: ws[2],
            kw: ws[3],
            oh: conv2d_output_size(xs[2], ws[2], spec)?,
            ow: conv2d_output_size(xs[3], ws[3], spec)?,
            spec,
        };
        let (patch, positions) = (geo.patch(), geo.positions());
        let xc = contiguous(self.value(x));
        let x_data = xc.as_slice().expect("standard layout");
        let wc = contiguous(self.value(w));
        let w2 = matrix(wc.as_slice().expect("standard layout"), geo.o, patch);

        // Training keeps every sample's columns for the backward pass;
        // inference reuses one sample's worth (40 MB less at batch 256).
        let keep_cols = self.requires_grad(x) || self.requires_grad(w) || b.is_some_and(|b| self.requires_grad(b));
        let mut cols = vec![0.0f32; if keep_cols { geo.n } else { 1 } * patch * positions];
        let mut out = vec![0.0f32; geo.n * geo.o * positions];
        for i in 0..geo.n {
            let slot = if keep_cols { i } else { 0 };
            let cols_i = &mut cols[slot * patch * positions..(slot + 1) * patch * positions];
            geo.im2col(
                &x_data[i * geo.c * geo.h * geo.w..(i + 1) * geo.c * geo.h * geo.w],
                cols_i,
            );
            let out_i = &mut out[i * geo.o * positions..(i + 1) * geo.o * positions];
            if let Some(b) = b {
                for (row, &bias) in out_i.chunks_mut(positions).zip(self.value(b).iter()) {
                    row.fill(bias);
                }
            }
            gemm(
                1.0,
                &w2,
                &matrix(cols_i, patch, positions),
                1.0,
                &mut matrix_mut(out_i, geo.o, positions),
            );
        }
        drop((xc, wc));
        let value = Tensor::from_shape_vec(IxDyn(&[geo.n, geo.o, geo.oh, geo.ow]), out).expect("sized");
        let parents: Vec<Var> = [x, w].into_iter().chain(b).collect();
        Ok(self.push_op(
            &parents,
            value,
            Box::new(move |args| {
                let gc = contiguous(args.grad);
                let g = gc.as_slice().expect("standard layout");
                let wc = contiguous(args.inputs[1]);
                let w2 = matrix(wc.as_slice().expect("standard layout"), geo.o, patch);
                let mut dw = vec![0.0f32; geo.o * patch];
                let mut dx = args.needs_grad[0].then(|| vec![0.0f32; geo.n * geo.c * geo.h * geo.w]);
                let mut dcols = vec![0.0f32; patch * positions];
                for i in 0..geo.n {
                    let g_i = matrix(&g[i * geo.o * positions..(i + 1) * geo.o * positions], geo.o, positions);
                    let cols_i = matrix(
                        &cols[i * patch * positions..(i + 1) * patch * positions],
                        patch,
                        positions,
                    );
                    if args.needs_grad[1] {
                        gemm(1.0, &g_i, &cols_i.t(), 1.0, &mut matrix_mut(&mut dw, geo.o, patch));
                    }
                    if let Some(dx) = dx.as_mut() {
                        gemm(1.0, &w2.t(), &g_i, 0.0, &mut matrix_mut(&mut dcols, patch, positions));
                        let sample = geo.c * geo.h * geo.w;
                        geo.col2im(&dcols, &mut dx[i * sample..(i + 1) * sample]);
                    }
                }
                let mut grads = vec![
                    dx.map(|d| Tensor::from_shape_vec(IxDyn(&[geo.n, geo.c, geo.h, geo.w]), d).expect("sized")),
                    args.needs_grad[1]
                        .then(|| Tensor::from_shape_vec(IxDyn(&[geo.o, geo.c, geo.kh, geo.kw]), dw).expect("sized")),
                ];
                if args.inputs.len() == 3 {
                    grads.push(args.needs_grad[2].then(|| {
                        let mut db = vec![0.0f32; geo.o];
                        for (k, row) in g.chunks(positions).enumerate() {
                            db[k % geo.o] += row.iter().sum::<f32>();
                        }
                        Tensor::from_shape_vec(IxDyn(&[geo.o]), db).expect("sized")
                    }));
                }
                grads
            }),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// Inference (no gradient wanted) takes the buffer-reusing path; it must
    /// compute exactly what the training path computes.
    #[test]
    fn inference_path_matches_training_path() {
        let mut rng = Rng::new(4);
        let x = crate::init::normal(&[3, 2, 7, 6], 1.0, &mut rng);
        let w = crate::init::normal(&[4, 2, 3, 3], 1.0, &mut rng);
        let b = crate::init::normal(&[4], 1.0, &mut rng);
        let spec = Conv2dSpec { stride: 2, padding: 1 };
        let run = |trainable: bool| {
            let mut g = Graph::new();
            let leaf = |g: &mut Graph, t: &Tensor| {
                if trainable {
                    g.variable(t.clone())
                } else {
                    g.constant(t.clone())
                }
            };
            let (xv, wv, bv) = (leaf(&mut g, &x), leaf(&mut g, &w), leaf(&mut g, &b));
            let out = g.conv2d(xv, wv, Some(bv), spec).unwrap();
            g.value(out).clone()
        };
        assert_eq!(run(true), run(false));
    }
}

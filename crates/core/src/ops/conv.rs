//! 2-D convolution (`F.conv2d`: cross-correlation, zero padding) as im2col +
//! GEMM. Each sample's receptive fields are unrolled into a [C*KH*KW, OH*OW]
//! matrix so that the convolution becomes one matrix product with the
//! [O, C*KH*KW] kernel matrix; the backward pass is two more products and a
//! col2im scatter. The unrolled columns are kept for the backward pass.

use super::contiguous;
use crate::autograd::{Graph, Var};
use crate::error::{Error, Result};
use crate::kernels::{add_rows, copy_rows, gemm};
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

    /// Height and width of one zero-padded input plane.
    fn padded_hw(&self) -> (usize, usize) {
        (self.h + 2 * self.spec.padding, self.w + 2 * self.spec.padding)
    }

    /// Length of one zero-padded sample [C, H + 2p, W + 2p].
    fn padded_len(&self) -> usize {
        let (hp, wp) = self.padded_hw();
        self.c * hp * wp
    }

    /// Unroll one sample [C, H, W] into columns [C*KH*KW, OH*OW].
    ///
    /// The sample is first copied into the interior of `padded` (whose border
    /// stays zero), so every kernel tap reads OH whole lines of the padded
    /// planes: one `copy_rows` per tap, no bounds logic per line.
    fn im2col(&self, x: &[f32], padded: &mut [f32], cols: &mut [f32]) {
        let p = self.spec.padding;
        let src: &[f32] = if p == 0 {
            x
        } else {
            let (hp, wp) = self.padded_hw();
            for (c, plane) in x.chunks_exact(self.h * self.w).enumerate() {
                for (y, line) in plane.chunks_exact(self.w).enumerate() {
                    let at = c * hp * wp + (y + p) * wp + p;
                    padded[at..at + self.w].copy_from_slice(line);
                }
            }
            padded
        };
        self.taps(|row, start| {
            let dst = &mut cols[row * self.positions()..(row + 1) * self.positions()];
            if self.spec.stride == 1 {
                copy_rows(src, start, self.padded_hw().1, self.oh, self.ow, dst);
            } else {
                for (i, v) in dst.iter_mut().enumerate() {
                    *v = src[self.tap_offset(start, i)];
                }
            }
        });
    }

    /// The adjoint of im2col: add columns back onto one sample's [C, H, W]
    /// (`dx`, zero on entry), through `padded` when there is padding.
    fn col2im(&self, cols: &[f32], padded: &mut [f32], dx: &mut [f32]) {
        let p = self.spec.padding;
        let (hp, wp) = self.padded_hw();
        let target: &mut [f32] = if p == 0 {
            dx
        } else {
            padded.fill(0.0);
            padded
        };
        self.taps(|row, start| {
            let src = &cols[row * self.positions()..(row + 1) * self.positions()];
            if self.spec.stride == 1 {
                add_rows(src, target, start, wp, self.oh, self.ow);
            } else {
                for (i, &v) in src.iter().enumerate() {
                    target[self.tap_offset(start, i)] += v;
                }
            }
        });
        if p > 0 {
            // Crop the border away: it only collected gradient of the zeros.
            for (c, plane) in dx.chunks_exact_mut(self.h * self.w).enumerate() {
                for (y, line) in plane.chunks_exact_mut(self.w).enumerate() {
                    let at = c * hp * wp + (y + p) * wp + p;
                    line.copy_from_slice(&padded[at..at + self.w]);
                }
            }
        }
    }

    /// Calls `f(row, start)` for each kernel tap (c, ki, kj): its row of the
    /// columns and where its first output position reads the padded sample.
    fn taps(&self, mut f: impl FnMut(usize, usize)) {
        let (hp, wp) = self.padded_hw();
        for c in 0..self.c {
            for ki in 0..self.kh {
                for kj in 0..self.kw {
                    f((c * self.kh + ki) * self.kw + kj, c * hp * wp + ki * wp + kj);
                }
            }
        }
    }

    /// Where output position `i` (row-major over OH x OW) of the tap whose
    /// first position reads `start` reads the padded sample.
    fn tap_offset(&self, start: usize, i: usize) -> usize {
        let (oy, ox) = (i / self.ow, i % self.ow);
        start + (oy * self.padded_hw().1 + ox) * self.spec.stride
    }
}

/// The sum of a long row (784 gradients per plane for conv1) in eight
/// independent partial sums that LLVM keeps in two f32x4: one running sum
/// is a chain of dependent adds, four times slower. The order is fixed, so
/// the result is the same on every run.
fn sum_lanes(row: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let mut chunks = row.chunks_exact(8);
    for chunk in &mut chunks {
        for (l, &v) in lanes.iter_mut().zip(chunk) {
            *l += v;
        }
    }
    lanes.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
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
        let buffers = self.buffers();
        // im2col writes every element, so recycled contents do not matter;
        // the padded sample's border must be zero.
        let mut cols = buffers.take(if keep_cols { geo.n } else { 1 } * patch * positions);
        let mut padded = buffers.take_zeroed(geo.padded_len());
        // Each output plane starts as its bias (written once, not zeroed first).
        let bias: Vec<f32> = match b {
            Some(b) => self.value(b).iter().copied().collect(),
            None => vec![0.0; geo.o],
        };
        let mut out = buffers.take(geo.n * geo.o * positions);
        for (plane, values) in out.chunks_exact_mut(positions).enumerate() {
            values.fill(bias[plane % geo.o]);
        }
        for i in 0..geo.n {
            let slot = if keep_cols { i } else { 0 };
            let cols_i = &mut cols[slot * patch * positions..(slot + 1) * patch * positions];
            geo.im2col(
                &x_data[i * geo.c * geo.h * geo.w..(i + 1) * geo.c * geo.h * geo.w],
                &mut padded,
                cols_i,
            );
            let out_i = &mut out[i * geo.o * positions..(i + 1) * geo.o * positions];
            gemm(
                1.0,
                &w2,
                &matrix(cols_i, patch, positions),
                1.0,
                &mut matrix_mut(out_i, geo.o, positions),
            );
        }
        drop((xc, wc));
        buffers.give(padded);
        let value = Tensor::from_shape_vec(IxDyn(&[geo.n, geo.o, geo.oh, geo.ow]), out).expect("sized");
        let parents: Vec<Var> = [x, w].into_iter().chain(b).collect();
        // The columns are saved for the backward pass (the graph owns them,
        // so they are recycled at reset); without one they go back now.
        Ok(self.push_op_saving(
            &parents,
            value,
            cols,
            Box::new(move |args| {
                let cols = args.saved;
                let gc = contiguous(args.grad);
                let g = gc.as_slice().expect("standard layout");
                let wc = contiguous(args.inputs[1]);
                let w2 = matrix(wc.as_slice().expect("standard layout"), geo.o, patch);
                let buffers = args.buffers;
                let mut dw = buffers.take_zeroed(geo.o * patch);
                let mut dx = args.needs_grad[0].then(|| buffers.take_zeroed(geo.n * geo.c * geo.h * geo.w));
                // Overwritten before they are read (GEMM with beta 0; col2im zeroes it).
                let mut dcols = buffers.take(patch * positions);
                let mut padded = buffers.take(geo.padded_len());
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
                        geo.col2im(&dcols, &mut padded, &mut dx[i * sample..(i + 1) * sample]);
                    }
                }
                buffers.give(dcols);
                buffers.give(padded);
                let mut grads = vec![
                    dx.map(|d| Tensor::from_shape_vec(IxDyn(&[geo.n, geo.c, geo.h, geo.w]), d).expect("sized")),
                    args.needs_grad[1]
                        .then(|| Tensor::from_shape_vec(IxDyn(&[geo.o, geo.c, geo.kh, geo.kw]), dw).expect("sized")),
                ];
                if args.inputs.len() == 3 {
                    grads.push(args.needs_grad[2].then(|| {
                        let mut db = buffers.take_zeroed(geo.o);
                        for (k, row) in g.chunks(positions).enumerate() {
                            db[k % geo.o] += sum_lanes(row);
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
    /// compute exactly what the training path computes, for inputs that are
    /// constants and for parameters on a `Graph::no_grad` graph alike.
    #[test]
    fn inference_path_matches_training_path() {
        let mut rng = Rng::new(4);
        let x = crate::init::normal(&[3, 2, 7, 6], 1.0, &mut rng);
        let w = crate::init::normal(&[4, 2, 3, 3], 1.0, &mut rng);
        let b = crate::init::normal(&[4], 1.0, &mut rng);
        for (stride, padding) in [(1, 0), (1, 2), (2, 1)] {
            let spec = Conv2dSpec { stride, padding };
            let run = |mut g: Graph, trainable: bool| {
                let leaf = |g: &mut Graph, t: &Tensor| {
                    if trainable {
                        g.variable(t.clone())
                    } else {
                        g.constant(t.clone())
                    }
                };
                let (xv, wv, bv) = (leaf(&mut g, &x), leaf(&mut g, &w), leaf(&mut g, &b));
                let out = g.conv2d(xv, wv, Some(bv), spec).unwrap();
                (g.value(out).clone(), g.requires_grad(out))
            };
            let (trained, needs_grad) = run(Graph::new(), true);
            assert!(needs_grad);
            assert_eq!(run(Graph::new(), false), (trained.clone(), false));
            assert_eq!(run(Graph::no_grad(), true), (trained, false));
        }
    }
}

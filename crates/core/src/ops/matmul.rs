//! Matrix products: `matmul` (`torch.matmul` for a batch of matrices times a
//! matrix or a same-sized batch), `matmul_bt` (times the transpose of the
//! second operand, as attention's Q K^T needs) and `linear` (`F.linear`).
//! The GEMM itself is [`crate::kernels::gemm`] (DeepPlay's simd128 kernel in
//! wasm, ndarray's `general_mat_mul` elsewhere); transposes are free stride
//! views.

use super::contiguous;
use crate::autograd::{Graph, Var};
use crate::error::{Error, Result};
use crate::kernels::{gemm, gemm_batched};
use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use ndarray::{Array3, ArrayView2, ArrayView3, Axis, IxDyn};

/// A batch of matrices [batch, rows, cols] viewed from a standard-layout tensor.
fn as_batch<'a>(t: &'a ndarray::CowArray<'_, f32, IxDyn>, batch: usize) -> ArrayView3<'a, f32> {
    let n = t.len();
    let cols = *t.shape().last().unwrap_or(&1);
    let rows = n.checked_div(batch * cols).unwrap_or(0);
    t.view()
        .into_shape_with_order((batch, rows, cols))
        .expect("standard layout")
}

fn maybe_t(m: ArrayView2<'_, f32>, transpose: bool) -> ArrayView2<'_, f32> {
    if transpose {
        m.reversed_axes()
    } else {
        m
    }
}

/// out[i] = op(a[i]) * op(b[i or 0]) for every matrix i of the batch.
/// Each matrix of a batch transposed (a stride view), or as it is.
fn swap_last(m: ArrayView3<'_, f32>, transpose: bool) -> ArrayView3<'_, f32> {
    if transpose {
        m.permuted_axes([0, 2, 1])
    } else {
        m
    }
}

fn bmm(a: ArrayView3<f32>, b: ArrayView3<f32>, ta: bool, tb: bool) -> Array3<f32> {
    let batch = a.shape()[0];
    let rows = if ta { a.shape()[2] } else { a.shape()[1] };
    let cols = if tb { b.shape()[1] } else { b.shape()[2] };
    let mut out = Array3::<f32>::zeros((batch, rows, cols));
    gemm_batched(1.0, &swap_last(a, ta), &swap_last(b, tb), 0.0, &mut out);
    out
}

/// Sum of `a[i]^T-or-not * b[i]` over the batch, into one matrix: the gradient
/// of a matrix that was shared by every batch element.
fn bmm_reduce(a: ArrayView3<f32>, b: ArrayView3<f32>, ta: bool, tb: bool) -> ndarray::Array2<f32> {
    let rows = if ta { a.shape()[2] } else { a.shape()[1] };
    let cols = if tb { b.shape()[1] } else { b.shape()[2] };
    let mut out = ndarray::Array2::<f32>::zeros((rows, cols));
    for i in 0..a.shape()[0] {
        let ai = maybe_t(a.index_axis(Axis(0), i), ta);
        let bi = maybe_t(b.index_axis(Axis(0), i), tb);
        gemm(1.0, &ai, &bi, 1.0, &mut out);
    }
    out
}

/// How the two operands line up: `shared_b` when b is one matrix for all.
struct Plan {
    batch: usize,
    shared_b: bool,
    out_shape: Vec<usize>,
}

fn plan(op: &'static str, a: &[usize], b: &[usize], trans_b: bool) -> Result<Plan> {
    if a.len() < 2 || b.len() < 2 {
        return Err(Error::shape(op, "both operands need at least 2 dimensions", a, b));
    }
    let (m, k) = (a[a.len() - 2], a[a.len() - 1]);
    let (kb, n) = if trans_b {
        (b[b.len() - 1], b[b.len() - 2])
    } else {
        (b[b.len() - 2], b[b.len() - 1])
    };
    if k != kb {
        return Err(Error::shape(op, "inner dimensions differ", a, b));
    }
    let shared_b = b.len() == 2;
    if !shared_b && a[..a.len() - 2] != b[..b.len() - 2] {
        return Err(Error::shape(op, "batch dimensions differ", a, b));
    }
    let batch: usize = a[..a.len() - 2].iter().product();
    let mut out_shape = a[..a.len() - 2].to_vec();
    out_shape.extend_from_slice(&[m, n]);
    Ok(Plan {
        batch,
        shared_b,
        out_shape,
    })
}

impl Graph {
    /// `a @ b`: a [.., M, K] times b [K, N] (shared) or b [.., K, N] (same batch).
    pub fn matmul(&mut self, a: Var, b: Var) -> Result<Var> {
        self.matmul_impl("matmul", a, b, false)
    }

    /// `a @ b^T`: a [.., M, K] times the transpose of b [N, K] or [.., N, K].
    pub fn matmul_bt(&mut self, a: Var, b: Var) -> Result<Var> {
        self.matmul_impl("matmul_bt", a, b, true)
    }

    fn matmul_impl(&mut self, op: &'static str, a: Var, b: Var, trans_b: bool) -> Result<Var> {
        let p = plan(op, self.shape(a), self.shape(b), trans_b)?;
        // A shared b lets the whole batch go through one big GEMM.
        let a_batch = if p.shared_b { 1 } else { p.batch };
        let (av, bv) = (contiguous(self.value(a)), contiguous(self.value(b)));
        let value = bmm(
            as_batch(&av, a_batch),
            as_batch(&bv, if p.shared_b { 1 } else { p.batch }),
            false,
            trans_b,
        )
        .into_dyn()
        .into_shape_with_order(IxDyn(&p.out_shape))
        .expect("planned shape");
        drop((av, bv));
        Ok(self.push_op(
            &[a, b],
            value,
            Box::new(move |args| {
                let (a, b) = (args.inputs[0], args.inputs[1]);
                let (ac, bc, gc) = (contiguous(a), contiguous(b), contiguous(args.grad));
                let b_batch = if p.shared_b { 1 } else { p.batch };
                let (a3, b3, g3) = (as_batch(&ac, a_batch), as_batch(&bc, b_batch), as_batch(&gc, a_batch));
                // C = A B:   dA = dC B^T, dB = A^T dC
                // C = A B^T: dA = dC B,   dB = dC^T A
                let ga = args.needs_grad[0].then(|| {
                    bmm(g3, b3, false, !trans_b)
                        .into_dyn()
                        .into_shape_with_order(a.raw_dim())
                        .expect("a's shape")
                });
                let gb = args.needs_grad[1].then(|| {
                    let g = if p.shared_b {
                        if trans_b {
                            bmm_reduce(g3, a3, true, false).into_dyn()
                        } else {
                            bmm_reduce(a3, g3, true, false).into_dyn()
                        }
                    } else if trans_b {
                        bmm(g3, a3, true, false).into_dyn()
                    } else {
                        bmm(a3, g3, true, false).into_dyn()
                    };
                    g.into_shape_with_order(b.raw_dim()).expect("b's shape")
                });
                vec![ga, gb]
            }),
        ))
    }

    /// `F.linear`: x [.., I] times w [O, I] transposed, plus b [O].
    pub fn linear(&mut self, x: Var, w: Var, b: Option<Var>) -> Result<Var> {
        let (xs, ws) = (self.shape(x).to_vec(), self.shape(w).to_vec());
        if ws.len() != 2 || xs.is_empty() || xs[xs.len() - 1] != ws[1] {
            return Err(Error::shape("linear", "x [.., in] vs weight [out, in]", &xs, &ws));
        }
        if let Some(b) = b {
            if self.shape(b) != [ws[0]] {
                return Err(Error::shape("linear", "bias must be [out]", self.shape(b), &ws[..1]));
            }
        }
        let (inp, out) = (ws[1], ws[0]);
        let rows = xs[..xs.len() - 1].iter().product::<usize>();
        let mut out_shape = xs[..xs.len() - 1].to_vec();
        out_shape.push(out);

        let xc = contiguous(self.value(x));
        let x2 = xc.view().into_shape_with_order((rows, inp)).expect("standard layout");
        let w2 = self
            .value(w)
            .view()
            .into_dimensionality::<ndarray::Ix2>()
            .expect("rank 2");
        let mut y = ndarray::Array2::from_shape_vec((rows, out), self.buffers().take(rows * out)).expect("sized");
        if let Some(b) = b {
            // Start from the broadcast bias and accumulate the product onto it.
            y.assign(&self.value(b).view().into_shape_with_order((1, out)).expect("[out]"));
            gemm(1.0, &x2, &w2.t(), 1.0, &mut y);
        } else {
            gemm(1.0, &x2, &w2.t(), 0.0, &mut y);
        }
        drop(xc);
        let value = y.into_dyn().into_shape_with_order(IxDyn(&out_shape)).expect("planned");
        let parents: Vec<Var> = core::iter::once(x).chain(core::iter::once(w)).chain(b).collect();
        Ok(self.push_op(
            &parents,
            value,
            Box::new(move |args| {
                let gc = contiguous(args.grad);
                let g2 = gc.view().into_shape_with_order((rows, out)).expect("standard layout");
                let w2 = args.inputs[1]
                    .view()
                    .into_dimensionality::<ndarray::Ix2>()
                    .expect("rank 2");
                // Both products overwrite their (recycled) output: beta 0.
                let product = |a: ArrayView2<f32>, b: ArrayView2<f32>, shape: IxDyn| {
                    let mut c = ndarray::Array2::from_shape_vec(
                        (a.nrows(), b.ncols()),
                        args.buffers.take(a.nrows() * b.ncols()),
                    )
                    .expect("sized");
                    gemm(1.0, &a, &b, 0.0, &mut c);
                    c.into_dyn().into_shape_with_order(shape).expect("same element count")
                };
                let gx = args.needs_grad[0].then(|| product(g2.view(), w2.view(), args.inputs[0].raw_dim()));
                let gw = args.needs_grad[1].then(|| {
                    let xc = contiguous(args.inputs[0]);
                    let x2 = xc.view().into_shape_with_order((rows, inp)).expect("standard layout");
                    product(g2.t(), x2, IxDyn(&[out, inp]))
                });
                let mut grads = vec![gx, gw];
                if args.inputs.len() == 3 {
                    grads.push(args.needs_grad[2].then(|| g2.sum_axis(Axis(0)).into_dyn()));
                }
                grads
            }),
        ))
    }
}

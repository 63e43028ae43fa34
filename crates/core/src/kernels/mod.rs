//! GEMM kernels: `C = alpha op(A) op(B) + beta C`, what the ops in
//! [`crate::ops`] (matmul, linear, conv) spend most of their time in.
//!
//! [`gemm`] has the semantics of ndarray's `general_mat_mul`: any 2-D views,
//! transposes included (a transpose is a stride view), and when `beta` is 0,
//! C is overwritten without being read. Built for wasm32 with simd128 it runs
//! DeepPlay's own simd128 kernels (`simd128.rs`): a packed register-tile
//! kernel, and dot products when both operands run along the inner index (A
//! B^T); measured 1.1x to 3x matrixmultiply at the labs' shapes (bench/). For
//! products where packing would dominate (tiny ones such as 16x16x16 Q K^T),
//! for operands whose memory is not one contiguous block, and on every other
//! target it is `general_mat_mul` itself: the scalar path the SIMD one is
//! tested against.

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayBase, Axis, Data, DataMut, Ix2, Ix3};

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128;

/// Whether this build has DeepPlay's simd128 kernel (wasm32 built with
/// `-C target-feature=+simd128`); without it [`gemm`] is `general_mat_mul`.
pub const SIMD128: bool = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));

/// `c = alpha * a · b + beta * c`, with a [m, k], b [k, n], c [m, n].
///
/// Panics if the shapes do not line up (as `general_mat_mul` does).
pub fn gemm<S1, S2, S3>(
    alpha: f32,
    a: &ArrayBase<S1, Ix2>,
    b: &ArrayBase<S2, Ix2>,
    beta: f32,
    c: &mut ArrayBase<S3, Ix2>,
) where
    S1: Data<Elem = f32>,
    S2: Data<Elem = f32>,
    S3: DataMut<Elem = f32>,
{
    let ((m, k), (k2, n)) = (a.dim(), b.dim());
    assert!(
        k == k2 && c.dim() == (m, n),
        "gemm: shapes {:?} x {:?} -> {:?}",
        a.dim(),
        b.dim(),
        c.dim()
    );
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if simd128::gemm(alpha, a.view(), b.view(), beta, c.view_mut()) {
        return;
    }
    general_mat_mul(alpha, a, b, beta, c);
}

/// `c[i] = alpha * a[i] · b[i] + beta * c[i]` for each i of a batch: a
/// [batch, m, k], b [batch, k, n] (or [1, k, n], shared by every i),
/// c [batch, m, n]. The simd128 build runs a batch of small products
/// (attention's heads) in one call; everything else is [`gemm`] per item.
///
/// Panics if the shapes do not line up.
pub fn gemm_batched<S1, S2, S3>(
    alpha: f32,
    a: &ArrayBase<S1, Ix3>,
    b: &ArrayBase<S2, Ix3>,
    beta: f32,
    c: &mut ArrayBase<S3, Ix3>,
) where
    S1: Data<Elem = f32>,
    S2: Data<Elem = f32>,
    S3: DataMut<Elem = f32>,
{
    let ((batch, m, k), (b_batch, k2, n)) = (a.dim(), b.dim());
    assert!(
        k == k2 && (b_batch == batch || b_batch == 1) && c.dim() == (batch, m, n),
        "gemm_batched: shapes {:?} x {:?} -> {:?}",
        a.dim(),
        b.dim(),
        c.dim()
    );
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if simd128::gemm_batched(alpha, a.view(), b.view(), beta, c.view_mut()) {
        return;
    }
    for i in 0..batch {
        let bi = if b_batch == 1 { 0 } else { i };
        gemm(
            alpha,
            &a.index_axis(Axis(0), i),
            &b.index_axis(Axis(0), bi),
            beta,
            &mut c.index_axis_mut(Axis(0), i),
        );
    }
}

/// The scalar path: ndarray's `general_mat_mul` (matrixmultiply), whatever
/// the target. Tests and benchmarks compare [`gemm`] with it.
pub fn gemm_reference<S1, S2, S3>(
    alpha: f32,
    a: &ArrayBase<S1, Ix2>,
    b: &ArrayBase<S2, Ix2>,
    beta: f32,
    c: &mut ArrayBase<S3, Ix2>,
) where
    S1: Data<Elem = f32>,
    S2: Data<Elem = f32>,
    S3: DataMut<Elem = f32>,
{
    general_mat_mul(alpha, a, b, beta, c);
}

/// Copies `rows` lines of `width` floats, line `r` starting at
/// `src[start + r * stride]`, one after another into `dst`
/// (`rows * width` long): im2col's inner loop, one call per kernel tap.
///
/// Panics if a line falls outside `src` or `dst` has the wrong length.
pub fn copy_rows(src: &[f32], start: usize, stride: usize, rows: usize, width: usize, dst: &mut [f32]) {
    assert!(
        dst.len() == rows * width && (rows == 0 || start + (rows - 1) * stride + width <= src.len()),
        "copy_rows: {rows} lines of {width} from {start} (stride {stride}) do not fit"
    );
    // On wasm32, `copy_from_slice` is `memory.copy`, which V8 runs as a call
    // into its runtime: for lines of 14 or 28 floats the call costs more than
    // the copy, so the simd128 build copies four lanes at a time.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    simd128::copy_rows(src, start, stride, rows, width, dst);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    for (r, line) in dst.chunks_exact_mut(width.max(1)).enumerate().take(rows) {
        let from = start + r * stride;
        line.copy_from_slice(&src[from..from + width]);
    }
}

/// The adjoint of [`copy_rows`]: adds `src` (`rows * width`, one line after
/// another) onto the lines of `dst` starting at `start + r * stride`.
pub fn add_rows(src: &[f32], dst: &mut [f32], start: usize, stride: usize, rows: usize, width: usize) {
    assert!(
        src.len() == rows * width && (rows == 0 || start + (rows - 1) * stride + width <= dst.len()),
        "add_rows: {rows} lines of {width} to {start} (stride {stride}) do not fit"
    );
    for (r, line) in src.chunks_exact(width.max(1)).enumerate().take(rows) {
        let from = start + r * stride;
        for (d, &v) in dst[from..from + width].iter_mut().zip(line) {
            *d += v;
        }
    }
}

/// The larger of two values, NaN if either is NaN (like wasm's `f32x4.max`
/// and PyTorch's max pooling; `f32::max` would hide a NaN). Written as a
/// select so that it vectorises and never branches on the data.
#[inline(always)]
pub fn max_nan(m: f32, v: f32) -> f32 {
    let take = (v > m) | v.is_nan();
    if take {
        v
    } else {
        m
    }
}

/// `out[i]` = the larger of `src[2i]` and `src[2i + 1]`, NaN if either is
/// NaN: the row pass of 2x2 max pooling with stride 2 (the CNN lab's first
/// pool). The simd128 build does four outputs per `f32x4.max`.
pub fn max_pairs(src: &[f32], out: &mut [f32]) {
    assert!(
        src.len() >= 2 * out.len(),
        "max_pairs: {} inputs for {} outputs",
        src.len(),
        out.len()
    );
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    let done = simd128::max_pairs(src, out);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    let done = 0;
    for (i, o) in out.iter_mut().enumerate().skip(done) {
        *o = max_nan(src[2 * i], src[2 * i + 1]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use alloc::vec;
    use alloc::vec::Vec;
    use ndarray::{Array2, ShapeBuilder};

    /// The naive triple loop, accumulating in f64.
    fn naive(alpha: f32, a: &Array2<f32>, b: &Array2<f32>, beta: f32, c: &Array2<f32>) -> Array2<f32> {
        let (m, k) = a.dim();
        let n = b.dim().1;
        Array2::from_shape_fn((m, n), |(i, j)| {
            let s: f64 = (0..k).map(|p| a[[i, p]] as f64 * b[[p, j]] as f64).sum();
            let prior = if beta == 0.0 {
                0.0
            } else {
                beta as f64 * c[[i, j]] as f64
            };
            (alpha as f64 * s + prior) as f32
        })
    }

    fn filled(rows: usize, cols: usize, rng: &mut Rng, column_major: bool) -> Array2<f32> {
        let mut x = if column_major {
            Array2::zeros((rows, cols).f())
        } else {
            Array2::zeros((rows, cols))
        };
        x.mapv_inplace(|_| rng.uniform_range(-1.0, 1.0));
        x
    }

    #[test]
    fn matches_the_naive_loop_on_odd_sizes_and_layouts() {
        let mut rng = Rng::new(7);
        let sizes = [1, 3, 4, 5, 8, 17, 33, 129];
        for &(alpha, beta) in &[(1.0, 0.0), (0.5, 1.0), (-1.5, 0.25)] {
            for &m in &sizes {
                for &k in &[1, 3, 17, 129, 300] {
                    for &n in &sizes {
                        for layout in 0..4 {
                            let (ta, tb) = (layout & 1 == 1, layout & 2 == 2);
                            // a transposed view: column-major storage seen as row-major
                            let a = filled(m, k, &mut rng, ta);
                            let b = filled(k, n, &mut rng, tb);
                            let c0 = filled(m, n, &mut rng, false);
                            let want = naive(alpha, &a, &b, beta, &c0);
                            let mut c = c0.clone();
                            gemm(alpha, &a, &b, beta, &mut c);
                            let tol = 1e-5 * (k as f32).sqrt().max(1.0) * 4.0;
                            for (x, y) in c.iter().zip(want.iter()) {
                                assert!(
                                    (x - y).abs() <= tol * (1.0 + y.abs()),
                                    "{m}x{k}x{n} {layout}: {x} vs {y}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn beta_zero_ignores_nan_in_c() {
        let a = Array2::from_elem((3, 5), 1.0f32);
        let b = Array2::from_elem((5, 17), 2.0f32);
        let mut c = Array2::from_elem((3, 17), f32::NAN);
        gemm(1.0, &a, &b.view(), 0.0, &mut c);
        assert!(c.iter().all(|&x| x == 10.0));
    }

    /// The portable path of im2col's line copies and their adjoint (the
    /// simd128 path has the same test in tests/tests/kernels.rs).
    #[test]
    fn copy_rows_and_add_rows_match_plain_indexing() {
        let src: Vec<f32> = (0..200).map(|i| i as f32 * 0.5 - 7.0).collect();
        for (width, start, stride, rows) in [(1, 0, 1, 4), (5, 3, 9, 6), (14, 10, 18, 5), (3, 7, 3, 1)] {
            let mut dst = vec![f32::NAN; rows * width];
            copy_rows(&src, start, stride, rows, width, &mut dst);
            let at = |i: usize| start + (i / width) * stride + i % width;
            assert!(dst.iter().enumerate().all(|(i, &v)| v == src[at(i)]));
            let mut acc = src.clone();
            add_rows(&dst, &mut acc, start, stride, rows, width);
            let mut want = src.clone();
            for (i, v) in dst.iter().enumerate() {
                want[at(i)] += v;
            }
            assert_eq!(acc, want);
        }
    }
}

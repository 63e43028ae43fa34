//! One GEMM shape, C [m, n] = op(A) op(B) with inner size k, where op is the
//! identity or a transpose (a stride view, as the core's backward passes use
//! them: conv's dW = G cols^T, dcols = W^T G).

use deepplay_core::Graph;
use ndarray::linalg::general_mat_mul;
use ndarray::Array2;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
pub struct Gemm {
    m: usize,
    k: usize,
    n: usize,
    trans_a: bool,
    trans_b: bool,
    /// [m, k], or [k, m] when trans_a
    a: Array2<f32>,
    /// [k, n], or [n, k] when trans_b
    b: Array2<f32>,
    c: Array2<f32>,
}

fn filled(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
    let mut rng = deepplay_core::Rng::new(seed);
    Array2::from_shape_simple_fn((rows, cols), || rng.uniform_range(-1.0, 1.0))
}

#[wasm_bindgen]
impl Gemm {
    #[wasm_bindgen(constructor)]
    pub fn new(m: usize, k: usize, n: usize, trans_a: bool, trans_b: bool) -> Gemm {
        let a = if trans_a { filled(k, m, 1) } else { filled(m, k, 1) };
        let b = if trans_b { filled(n, k, 2) } else { filled(k, n, 2) };
        Gemm {
            m,
            k,
            n,
            trans_a,
            trans_b,
            a,
            b,
            c: Array2::zeros((m, n)),
        }
    }

    /// Floating-point operations of one product (a multiply and an add per
    /// inner-product term).
    pub fn flops(&self) -> f64 {
        2.0 * (self.m * self.k * self.n) as f64
    }

    /// Milliseconds for `iters` calls of ndarray's `general_mat_mul`.
    pub fn run(&mut self, iters: u32) -> f64 {
        let a = if self.trans_a { self.a.t() } else { self.a.view() };
        let b = if self.trans_b { self.b.t() } else { self.b.view() };
        let t0 = crate::now_ms();
        for _ in 0..iters {
            general_mat_mul(1.0, &a, &b, 0.0, &mut self.c);
        }
        let ms = crate::now_ms() - t0;
        core::hint::black_box(&self.c);
        ms
    }

    /// Milliseconds for `iters` calls of DeepPlay's own GEMM,
    /// `deepplay_core::kernels::gemm` (what the core's ops call), on the same
    /// operands as [`Gemm::run`].
    pub fn run_kernel(&mut self, iters: u32) -> f64 {
        let a = if self.trans_a { self.a.t() } else { self.a.view() };
        let b = if self.trans_b { self.b.t() } else { self.b.view() };
        let t0 = crate::now_ms();
        for _ in 0..iters {
            deepplay_core::kernels::gemm(1.0, &a, &b, 0.0, &mut self.c);
        }
        let ms = crate::now_ms() - t0;
        core::hint::black_box(&self.c);
        ms
    }

    /// Milliseconds for `iters` calls of `deepplay_core::kernels::gemm_batched`
    /// on `batch` copies of the operands (as attention runs its heads: one
    /// call for every head of every sequence); one call is `batch` products.
    pub fn run_kernel_batched(&mut self, batch: usize, iters: u32) -> f64 {
        let stack = |m: ndarray::ArrayView2<f32>| {
            let (r, c) = m.dim();
            ndarray::Array3::from_shape_fn((batch, r, c), |(_, i, j)| m[[i, j]])
        };
        // Stored as given (row-major), transposed as views like the single calls.
        let (a3, b3) = (stack(self.a.view()), stack(self.b.view()));
        let a = if self.trans_a {
            a3.view().permuted_axes([0, 2, 1])
        } else {
            a3.view()
        };
        let b = if self.trans_b {
            b3.view().permuted_axes([0, 2, 1])
        } else {
            b3.view()
        };
        let mut c = ndarray::Array3::<f32>::zeros((batch, self.m, self.n));
        let t0 = crate::now_ms();
        for _ in 0..iters {
            deepplay_core::kernels::gemm_batched(1.0, &a, &b, 0.0, &mut c);
        }
        let ms = crate::now_ms() - t0;
        core::hint::black_box(&c);
        ms
    }

    /// Whether DeepPlay has a graph op for this layout (`matmul` for A B,
    /// `matmul_bt` for A B^T; none takes A^T).
    pub fn has_op(&self) -> bool {
        !self.trans_a
    }

    /// Milliseconds for `iters` calls of the core's graph op on constants
    /// (`Graph::matmul` or `Graph::matmul_bt`): the GEMM plus the op's own
    /// allocation and bookkeeping. NaN when there is no such op.
    pub fn run_op(&mut self, iters: u32) -> Result<f64, JsError> {
        if self.trans_a {
            return Ok(f64::NAN);
        }
        let mut g = Graph::new();
        let a = g.constant(self.a.clone().into_dyn());
        let b = g.constant(self.b.clone().into_dyn());
        let t0 = crate::now_ms();
        for _ in 0..iters {
            if self.trans_b {
                g.matmul_bt(a, b).map_err(crate::js_err)?;
            } else {
                g.matmul(a, b).map_err(crate::js_err)?;
            }
        }
        let ms = crate::now_ms() - t0;
        drop(g);
        Ok(ms)
    }
}

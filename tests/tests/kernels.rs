//! DeepPlay's GEMM kernel compiled to wasm32 with simd128 (the workspace's
//! .cargo/config.toml turns it on), so this exercises the SIMD path, checked
//! against a naive f64 triple loop in headless Chrome:
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//! CHROMEDRIVER=/usr/bin/chromedriver cargo test -p deepplay-tests --target wasm32-unknown-unknown --test kernels`
#![cfg(target_arch = "wasm32")]

use deepplay_core::kernels::{gemm, gemm_reference, SIMD128};
use deepplay_core::Rng;
use ndarray::{Array2, ShapeBuilder};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

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

/// rows x cols of uniform(-1, 1); `transposed` stores it column-major, so the
/// array is a transposed (strided) view of its memory.
fn filled(rows: usize, cols: usize, rng: &mut Rng, transposed: bool) -> Array2<f32> {
    let mut x = if transposed {
        Array2::zeros((rows, cols).f())
    } else {
        Array2::zeros((rows, cols))
    };
    x.mapv_inplace(|_| rng.uniform_range(-1.0, 1.0));
    x
}

#[allow(clippy::too_many_arguments)]
fn check(m: usize, k: usize, n: usize, alpha: f32, beta: f32, ta: bool, tb: bool, rng: &mut Rng) {
    let a = filled(m, k, rng, ta);
    let b = filled(k, n, rng, tb);
    let c0 = filled(m, n, rng, false);
    let want = naive(alpha, &a, &b, beta, &c0);
    let mut c = c0.clone();
    gemm(alpha, &a, &b, beta, &mut c);
    let mut r = c0.clone();
    gemm_reference(alpha, &a, &b, beta, &mut r);
    let tol = 4e-5 * (k as f32).sqrt().max(1.0);
    for ((x, y), z) in c.iter().zip(want.iter()).zip(r.iter()) {
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
            "{m}x{k}x{n} ta={ta} tb={tb} alpha={alpha} beta={beta}: kernel {x}, naive {y}"
        );
        assert!((z - y).abs() <= tol * (1.0 + y.abs()), "reference path off: {z} vs {y}");
    }
}

#[wasm_bindgen_test]
fn gemm_matches_the_naive_loop_on_odd_sizes_transposes_alpha_beta() {
    // Constant per build, on purpose: a build without simd128 must fail here.
    #[allow(clippy::assertions_on_constants)]
    {
        assert!(SIMD128, "built without simd128: this would test the scalar path only");
    }
    let mut rng = Rng::new(11);
    let sizes = [1, 3, 4, 5, 8, 12, 17, 33, 129];
    for &(alpha, beta) in &[(1.0, 0.0), (0.5, 1.0), (-1.5, 0.25)] {
        for &m in &sizes {
            for &k in &[1, 3, 17, 129, 300] {
                for &n in &sizes {
                    for layout in 0..4 {
                        check(m, k, n, alpha, beta, layout & 1 == 1, layout & 2 == 2, &mut rng);
                    }
                }
            }
        }
    }
}

#[wasm_bindgen_test]
fn gemm_matches_at_the_labs_shapes() {
    let mut rng = Rng::new(12);
    // (m, k, n, transposed A, transposed B): conv im2col forward and backward,
    // FC, attention and GRU shapes, and a few past every block size.
    for &(m, k, n, ta, tb) in &[
        (8, 25, 784, false, false),
        (8, 784, 25, false, true),
        (16, 200, 196, false, false),
        (16, 196, 200, false, true),
        (200, 16, 196, true, false),
        (32, 256, 10, false, true),
        (16, 16, 16, false, true),
        (32, 64, 192, false, false),
        (640, 8, 192, false, true),
        (130, 520, 70, true, true),
        (7, 1000, 2600, false, false),
        (4, 5000, 40, false, true),
        (5, 4099, 3, false, true),
    ] {
        check(m, k, n, 1.0, 0.0, ta, tb, &mut rng);
        check(m, k, n, 0.75, -0.5, ta, tb, &mut rng);
    }
}

#[wasm_bindgen_test]
fn gemm_beta_zero_does_not_read_c() {
    let a = Array2::from_elem((3, 5), 1.0f32);
    let b = Array2::from_elem((5, 17), 2.0f32);
    let mut c = Array2::from_elem((3, 17), f32::NAN);
    gemm(1.0, &a, &b, 0.0, &mut c);
    assert!(c.iter().all(|&x| x == 10.0));
}

/// im2col's line copies (`copy_rows`, four lanes at a time with an
/// overlapping last vector under simd128) and their adjoint `add_rows`,
/// against plain indexing, at widths around the vector size.
#[wasm_bindgen_test]
fn copy_rows_and_add_rows_match_plain_indexing() {
    use deepplay_core::kernels::{add_rows, copy_rows};
    let mut rng = Rng::new(5);
    let src: Vec<f32> = (0..700).map(|_| rng.uniform_range(-1.0, 1.0)).collect();
    for width in [1, 2, 3, 4, 5, 7, 8, 13, 14, 28, 31] {
        for (start, stride, rows) in [(0, width, 3), (3, width + 4, 5), (11, 32, 7), (5, 2 * width + 1, 1)] {
            let mut dst = vec![f32::NAN; rows * width];
            copy_rows(&src, start, stride, rows, width, &mut dst);
            let want: Vec<f32> = (0..rows * width)
                .map(|i| src[start + (i / width) * stride + i % width])
                .collect();
            assert_eq!(dst, want, "copy_rows width {width} start {start} stride {stride}");

            let mut acc = src.clone();
            add_rows(&dst, &mut acc, start, stride, rows, width);
            let mut want_acc = src.clone();
            for (i, v) in dst.iter().enumerate() {
                want_acc[start + (i / width) * stride + i % width] += v;
            }
            assert_eq!(acc, want_acc, "add_rows width {width} start {start} stride {stride}");
        }
    }
}

/// The row pass of 2x2 max pooling (`f32x4.max` on even and odd lanes under
/// simd128): the larger of each pair, NaN when either is NaN, at lengths
/// around the vector size.
#[wasm_bindgen_test]
fn max_pairs_matches_the_scalar_rule_with_nans() {
    use deepplay_core::kernels::max_pairs;
    let mut rng = Rng::new(9);
    for n in [0, 1, 3, 4, 5, 7, 8, 14, 17] {
        let src: Vec<f32> = (0..2 * n + 1)
            .map(|_| match rng.below(6) {
                0 => f32::NAN,
                1 => 0.0,
                _ => rng.uniform_range(-1.0, 1.0),
            })
            .collect();
        let mut out = vec![7.0; n];
        max_pairs(&src, &mut out);
        for (i, &o) in out.iter().enumerate() {
            let (a, b) = (src[2 * i], src[2 * i + 1]);
            if a.is_nan() || b.is_nan() {
                assert!(o.is_nan(), "pair {i} of {n}: ({a}, {b}) -> {o}");
            } else {
                assert_eq!(o, a.max(b), "pair {i} of {n}: ({a}, {b})");
            }
        }
    }
}

/// A batch of products in one call (attention's heads), against the naive
/// loop per item: odd and 16x16x16 sizes, transposed operands as stride
/// views, a B shared by the whole batch, alpha and beta.
#[wasm_bindgen_test]
fn gemm_batched_matches_the_naive_loop_per_item() {
    use deepplay_core::kernels::gemm_batched;
    use ndarray::{s, Array3};
    let mut rng = Rng::new(13);
    for &(batch, m, k, n) in &[
        (1, 16, 16, 16),
        (5, 16, 16, 16),
        (3, 5, 7, 3),
        (4, 9, 17, 12),
        (2, 40, 3, 60),
    ] {
        for layout in 0..4 {
            let (ta, tb) = (layout & 1 == 1, layout & 2 == 2);
            for shared_b in [false, true] {
                let (alpha, beta) = if shared_b { (0.5, 1.0) } else { (1.0, 0.0) };
                let b_batch = if shared_b { 1 } else { batch };
                let a_mem = Array3::from_shape_fn((batch, if ta { k } else { m }, if ta { m } else { k }), |_| {
                    rng.uniform_range(-1.0, 1.0)
                });
                let b_mem = Array3::from_shape_fn((b_batch, if tb { n } else { k }, if tb { k } else { n }), |_| {
                    rng.uniform_range(-1.0, 1.0)
                });
                let c0 = Array3::from_shape_fn((batch, m, n), |_| rng.uniform_range(-1.0, 1.0));
                let a = if ta {
                    a_mem.view().permuted_axes([0, 2, 1])
                } else {
                    a_mem.view()
                };
                let b = if tb {
                    b_mem.view().permuted_axes([0, 2, 1])
                } else {
                    b_mem.view()
                };
                let mut c = c0.clone();
                gemm_batched(alpha, &a, &b, beta, &mut c);
                for i in 0..batch {
                    let bi = if shared_b { 0 } else { i };
                    let want = naive(
                        alpha,
                        &a.slice(s![i, .., ..]).to_owned(),
                        &b.slice(s![bi, .., ..]).to_owned(),
                        beta,
                        &c0.slice(s![i, .., ..]).to_owned(),
                    );
                    let got = c.slice(s![i, .., ..]);
                    let err = (&got - &want).iter().fold(0.0f32, |e, &d| e.max(d.abs()));
                    assert!(
                        err < 1e-4,
                        "batch {batch} {m}x{k}x{n} ta={ta} tb={tb} shared={shared_b}: item {i} off by {err}"
                    );
                }
            }
        }
    }
}

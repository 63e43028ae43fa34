//! The machine's simd128 ceiling: `ACC` independent f32x4 chains of
//! `acc = acc * m + a` (plain simd128 has no fused multiply-add, so a
//! multiply and an add: 2 flops per lane). With enough independent chains the
//! loop is bound by the CPU's vector throughput, not by latency, which is
//! what a well-blocked GEMM micro-kernel can reach at best.

use core::hint::black_box;
use wasm_bindgen::prelude::*;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(never)]
fn chains<const ACC: usize>(iters: u32) -> f32 {
    use core::arch::wasm32::*;
    let m = f32x4_splat(black_box(0.999_999_9));
    let a = f32x4_splat(black_box(1.0e-7));
    let mut acc = [f32x4_splat(0.0); ACC];
    for (i, x) in acc.iter_mut().enumerate() {
        *x = f32x4_splat(black_box(i as f32 * 0.01));
    }
    for _ in 0..iters {
        for x in acc.iter_mut() {
            *x = f32x4_add(f32x4_mul(*x, m), a);
        }
    }
    let mut s = f32x4_splat(0.0);
    for x in acc {
        s = f32x4_add(s, x);
    }
    f32x4_extract_lane::<0>(s) + f32x4_extract_lane::<1>(s) + f32x4_extract_lane::<2>(s) + f32x4_extract_lane::<3>(s)
}

/// The same loop in scalar code (what a build without simd128 can do).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(never)]
fn chains<const ACC: usize>(iters: u32) -> f32 {
    let m = black_box(0.999_999_9f32);
    let a = black_box(1.0e-7f32);
    let mut acc = [[0.0f32; 4]; ACC];
    for (i, x) in acc.iter_mut().enumerate() {
        *x = [black_box(i as f32 * 0.01); 4];
    }
    for _ in 0..iters {
        for x in acc.iter_mut() {
            for lane in x.iter_mut() {
                *lane = *lane * m + a;
            }
        }
    }
    acc.iter().flatten().sum()
}

/// GFLOP/s of `iters` iterations of `accumulators` (8, 12 or 16) independent
/// f32x4 multiply+add chains, counting 2 flops per lane per iteration.
#[wasm_bindgen]
pub fn peak_gflops(accumulators: usize, iters: u32) -> f64 {
    let t0 = crate::now_ms();
    let sink = match accumulators {
        ..=8 => chains::<8>(iters),
        9..=12 => chains::<12>(iters),
        _ => chains::<16>(iters),
    };
    let ms = crate::now_ms() - t0;
    black_box(sink);
    let acc = accumulators.clamp(8, 16).div_ceil(4) * 4;
    let flops = iters as f64 * acc as f64 * 4.0 * 2.0;
    flops / (ms * 1e6)
}

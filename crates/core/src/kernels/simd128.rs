//! The wasm32 simd128 GEMM. Two kernels:
//! - packed: A packed into MR-row slivers, B packed into 4*NV-column slivers
//!   (or read in place when its rows are contiguous), an `MR x 4*NV`
//!   register tile of f32x4 accumulators per micro-kernel call, loops blocked
//!   so the B sliver stays in L1 and the A block in L2;
//! - dot products, for A B^T with a long inner size (both operands contiguous
//!   along k): 4 x 2 tiles of f32x4 partial sums, no packing.
//!
//! Why `unsafe` here (the crate is `deny(unsafe_code)` and only this module
//! allows it): the safe simd128 intrinsics operate on `v128` values only;
//! getting four f32 in and out of memory safely costs four lane inserts or
//! extracts per vector, and slice indexing puts a bounds check on every load
//! of the inner loop, which together cost more than half the speed at the
//! skinny shapes this kernel exists for. So the micro-kernel reads the packed
//! panels and writes C through raw pointers. Every such access is covered by
//! a bounds check done once, up front, on the whole range it touches (see
//! each SAFETY comment). Wasm loads and stores need no alignment.
#![allow(unsafe_code)]

use alloc::vec;
use core::arch::wasm32::*;
use ndarray::{ArrayView2, ArrayView3, ArrayViewMut2, ArrayViewMut3, Axis};

/// Inner-size block: an MR x KC A sliver plus a KC x NR B sliver stay in L1.
const KC: usize = 256;
/// Rows of A packed per block (a multiple of every MR below).
const MC: usize = 120;
/// Elements of packed B per block (~256 KB, fits L2 beside the A block).
const B_BLOCK: usize = 64 * 1024;

/// A matrix in a slice: element (i, j) at `i * rs + j * cs`.
#[derive(Clone, Copy)]
struct Mat<'a> {
    data: &'a [f32],
    rs: usize,
    cs: usize,
}

impl Mat<'_> {
    fn t(self) -> Self {
        Mat {
            data: self.data,
            rs: self.cs,
            cs: self.rs,
        }
    }
}

/// Non-negative strides (batch, row, column) of a view whose elements fill
/// one contiguous block.
fn strides(shape: &[usize], strides: &[isize]) -> Option<[usize; 3]> {
    let mut out = [0; 3];
    for (o, (&len, &stride)) in out.iter_mut().zip(shape.iter().zip(strides)) {
        // Length-1 axes may carry any stride; give them one that is in bounds.
        *o = if len <= 1 { 0 } else { usize::try_from(stride).ok()? };
    }
    Some(out)
}

/// Runs the product with the simd128 kernels and returns true, or returns
/// false (without touching C) when matrixmultiply serves it better or at
/// all: products where packing would dominate, empty products, operands that
/// are not one contiguous block with non-negative strides.
pub(super) fn gemm(alpha: f32, a: ArrayView2<f32>, b: ArrayView2<f32>, beta: f32, c: ArrayViewMut2<f32>) -> bool {
    gemm_batched(
        alpha,
        a.insert_axis(Axis(0)),
        b.insert_axis(Axis(0)),
        beta,
        c.insert_axis(Axis(0)),
    )
}

/// Which kernel runs a product.
#[derive(Clone, Copy)]
enum Kernel {
    Small,
    Dots,
    Packed,
}

/// A batch of products, `c[i] = alpha a[i] b[i] + beta c[i]` (`b` with batch
/// size 1 is shared), as attention computes its heads: the layout checks
/// and the choice of kernel are made once for the whole batch, not per
/// 16x16x16 product. Same contract as [`gemm`] (which is a batch of one).
pub(super) fn gemm_batched(
    alpha: f32,
    a: ArrayView3<f32>,
    b: ArrayView3<f32>,
    beta: f32,
    mut c: ArrayViewMut3<f32>,
) -> bool {
    let ((batch, m, k), n) = (a.dim(), b.dim().2);
    if batch == 0 || m == 0 || n == 0 || k == 0 {
        return false;
    }
    let (Some([abs, ars, acs]), Some([bbs, brs, bcs]), Some([cbs, crs, ccs])) = (
        strides(a.shape(), a.strides()),
        strides(b.shape(), b.strides()),
        strides(c.shape(), c.strides()),
    ) else {
        return false;
    };
    let (Some(ad), Some(bd)) = (a.as_slice_memory_order(), b.as_slice_memory_order()) else {
        return false;
    };
    let Some(cd) = c.as_slice_memory_order_mut() else {
        return false;
    };
    // Bounds of every element any product reads or writes (the kernels
    // check their own ranges again before each raw-pointer loop).
    let last = |count: usize, bs: usize, rows: usize, cols: usize, rs: usize, cs: usize| {
        (count - 1) * bs + (rows - 1) * rs + (cols - 1) * cs
    };
    let b_count = if b.dim().0 == 1 { 1 } else { batch };
    assert!(
        last(batch, abs, m, k, ars, acs) < ad.len()
            && last(b_count, bbs, k, n, brs, bcs) < bd.len()
            && last(batch, cbs, m, n, crs, ccs) < cd.len()
    );

    // C = A B, or C^T = B^T A^T when the transposed problem tiles with less
    // padding (for example 25 x 8: C^T is one column of 4 x 8 tiles).
    let transposed = transpose_pays(m, n);
    let item = |i: usize| {
        let a = Mat {
            data: &ad[i * abs..],
            rs: ars,
            cs: acs,
        };
        let b = Mat {
            data: &bd[if b_count == 1 { 0 } else { i * bbs }..],
            rs: brs,
            cs: bcs,
        };
        if transposed {
            (b.t(), a.t())
        } else {
            (a, b)
        }
    };
    let (m, n, crs, ccs) = if transposed { (n, m, ccs, crs) } else { (m, n, crs, ccs) };
    let (a0, b0) = item(0);
    let kernel = if small_fits(m, k, n, b0) {
        Kernel::Small
    } else if a0.cs == 1 && b0.rs == 1 && k >= DOT_MIN_K {
        // Both operands run along k in memory (A B^T, as linear layers and
        // conv's dW = G cols^T have it): dot products need no packing.
        Kernel::Dots
    } else if packing_pays(m, k, n, b0) {
        Kernel::Packed
    } else {
        return false;
    };
    for i in 0..batch {
        let (a, b) = item(i);
        let c = Out {
            data: &mut cd[i * cbs..],
            rs: crs,
            cs: ccs,
        };
        match kernel {
            Kernel::Small => small::<MR, NV>(m, k, n, alpha, a, b, beta, c),
            Kernel::Dots => dots(m, k, n, alpha, a, b, beta, c),
            Kernel::Packed => run::<MR, NV>(m, k, n, alpha, a, b, beta, c),
        }
    }
    true
}

/// Shortest inner size for the dot-product kernel: below it, packing and
/// the register-tile kernel win (measured: 512x64x64 A B^T 85% of peak
/// packed, 65% as dot products; 16x196x200 A B^T 61% packed, 85% as dots).
const DOT_MIN_K: usize = 128;

/// Whether the packed kernel is worth its packing: not when each packed
/// element takes part in only a few multiply-adds (degenerate shapes such as
/// 1 x k x 1). With packing through 4 x 4 shuffles, 25088x25x8 cols W^T
/// (8 per element) runs 1.3x matrixmultiply and 16x16x16 1.0x. B with unit
/// column stride is read in place, not packed.
fn packing_pays(m: usize, k: usize, n: usize, b: Mat) -> bool {
    let packed = m * k + if b.cs == 1 { 0 } else { k * n };
    m * k * n > 4 * packed
}

/// The register tile: MR rows by 4*NV columns. 4 x 8 (8 accumulators, two
/// B vectors, an A broadcast and a product) fits x86's 16 vector registers;
/// 5 x 8 and 3 x 12 measured at half the speed or less (V8 spills them).
const MR: usize = 4;
const NV: usize = 2;

/// Whether to compute C^T = B^T A^T instead: when it pads the product to
/// whole 4 x 8 tiles less (25 x 8 is one column of tiles transposed).
fn transpose_pays(m: usize, n: usize) -> bool {
    let padded = |rows: usize, cols: usize| rows.div_ceil(MR) * MR * cols.div_ceil(4 * NV) * 4 * NV;
    // Writing C^T goes lane by lane: a small extra cost.
    padded(n, m) * 16 + m * n * 2 < padded(m, n) * 16
}

/// Most elements of A a small product reads in place (16 KB: stays in L1;
/// at 640x8, the GRU's inputs, reading A in place measured 15% slower than
/// packing it).
const SMALL_A: usize = 4096;
/// Most elements of B a small product packs, into a buffer on the stack.
const SMALL_B: usize = 2048;

/// How many elements of B a small product packs: none when its rows are
/// contiguous (read in place) except a last, partial sliver, if any.
fn small_packed_len(k: usize, n: usize, b: Mat) -> usize {
    let nr = 4 * NV;
    let direct = b.cs == 1 && b.rs >= nr;
    if !direct {
        k * n.div_ceil(nr) * nr
    } else if !n.is_multiple_of(nr) {
        k * nr
    } else {
        0
    }
}

/// Whether the product is small enough for [`small`]: A fits L1, and B is
/// read in place or packs into the stack buffer.
fn small_fits(m: usize, k: usize, n: usize, b: Mat) -> bool {
    m * k <= SMALL_A && small_packed_len(k, n, b) <= SMALL_B
}

/// Small products (attention's 16x16x16 heads) with
/// no heap buffer and no packing of A: the tile kernel reads A where it lies
/// (a broadcast load per element, as from a packed sliver), and B in place
/// when its rows are contiguous, else from a copy on the stack. For these
/// sizes, packing and its two allocations cost as much as the arithmetic
/// (measured: 16x16x16 at 39% of peak packed). The stack buffer is as small
/// as the product allows: zeroing it is a `memory.fill` call.
#[allow(clippy::too_many_arguments)]
fn small<const MR: usize, const NV: usize>(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: Mat,
    b: Mat,
    beta: f32,
    c: Out,
) {
    match small_packed_len(k, n, b) {
        0 => small_on::<MR, NV>(m, k, n, alpha, a, b, beta, c, &mut []),
        len if len <= 256 => small_on::<MR, NV>(m, k, n, alpha, a, b, beta, c, &mut [0.0; 256]),
        _ => small_on::<MR, NV>(m, k, n, alpha, a, b, beta, c, &mut [0.0; SMALL_B]),
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn small_on<const MR: usize, const NV: usize>(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: Mat,
    b: Mat,
    beta: f32,
    c: Out,
    stack: &mut [f32],
) {
    let nr = 4 * NV;
    let direct = b.cs == 1 && b.rs >= nr;
    let partial = n / nr * nr;
    if !direct {
        pack_b::<NV>(b, 0, k, 0, n, stack);
    } else if partial < n {
        pack_b::<NV>(b, 0, k, partial, n - partial, stack);
    }
    for jr in (0..n).step_by(nr) {
        let (bp, ldb) = if direct && jr + nr <= n {
            (&b.data[jr..jr + (k - 1) * b.rs + nr], b.rs)
        } else if direct {
            (&stack[..nr * k], nr)
        } else {
            (&stack[jr * k..(jr + nr) * k], nr)
        };
        for ir in (0..m).step_by(MR) {
            let acc = tile_a_in_place::<MR, NV>(a, ir, m, k, bp, ldb);
            let (rows, cols) = (MR.min(m - ir), nr.min(n - jr));
            store::<MR, NV>(&acc, c.data, (ir, jr), (c.rs, c.cs), (rows, cols), alpha, beta);
        }
    }
}

/// [`tile`] with A read in place: rows i0..i0+MR of A (rows past the end
/// repeat the last one; the caller does not store them).
#[inline(always)]
fn tile_a_in_place<const MR: usize, const NV: usize>(
    a: Mat,
    i0: usize,
    m: usize,
    k: usize,
    bp: &[f32],
    ldb: usize,
) -> [[v128; NV]; MR] {
    let rows: [usize; MR] = core::array::from_fn(|r| (i0 + r).min(m - 1) * a.rs);
    assert!(k > 0 && ldb >= 4 * NV && bp.len() == (k - 1) * ldb + 4 * NV);
    assert!(rows.iter().all(|&start| start + (k - 1) * a.cs < a.data.len()));
    let mut acc = [[f32x4_splat(0.0); NV]; MR];
    let (base, mut b) = (a.data.as_ptr(), bp.as_ptr());
    for p in 0..k {
        let mut bv = [f32x4_splat(0.0); NV];
        for (v, x) in bv.iter_mut().enumerate() {
            // SAFETY: b points at row p (of k) of B's sliver, 4*NV floats,
            // rows ldb apart: inside bp by the check above.
            *x = unsafe { v128_load(b.add(4 * v) as *const v128) };
        }
        for (row, &start) in acc.iter_mut().zip(&rows) {
            // SAFETY: start + p * cs <= start + (k - 1) * cs, in a (checked above).
            let av = unsafe { v128_load32_splat(base.add(start + p * a.cs) as *const u32) };
            for (x, &bx) in row.iter_mut().zip(bv.iter()) {
                *x = f32x4_add(*x, f32x4_mul(av, bx));
            }
        }
        b = b.wrapping_add(ldb);
    }
    acc
}

/// C in a slice, element (i, j) at `i * rs + j * cs`.
struct Out<'a> {
    data: &'a mut [f32],
    rs: usize,
    cs: usize,
}

#[allow(clippy::too_many_arguments)]
fn run<const MR: usize, const NV: usize>(m: usize, k: usize, n: usize, alpha: f32, a: Mat, b: Mat, beta: f32, c: Out) {
    let nr = 4 * NV;
    let kc_max = KC.min(k);
    let mc_max = MC.min(m.div_ceil(MR) * MR);
    let nc_max = (B_BLOCK / kc_max / nr * nr).max(nr).min(n.div_ceil(nr) * nr);
    let mut apack = vec![0.0f32; mc_max * kc_max];
    // B with unit column stride is read in place (row stride b.rs), except
    // a last, partial sliver, which alone is packed (a whole block would be
    // zeroed per call for nothing: 160 KB for each sample of conv2);
    // otherwise all of B is packed, a block at a time.
    let direct = b.cs == 1 && b.rs >= nr;
    let mut bpack = vec![0.0f32; if direct { kc_max * nr } else { kc_max * nc_max }];
    for jc in (0..n).step_by(nc_max) {
        let nc = nc_max.min(n - jc);
        for pc in (0..k).step_by(kc_max) {
            let kc = kc_max.min(k - pc);
            // Later inner blocks add onto what the first one wrote.
            let beta = if pc == 0 { beta } else { 1.0 };
            let partial = nc / nr * nr;
            if !direct {
                pack_b::<NV>(b, pc, kc, jc, nc, &mut bpack);
            } else if partial < nc {
                pack_b::<NV>(b, pc, kc, jc + partial, nc - partial, &mut bpack);
            }
            for ic in (0..m).step_by(mc_max) {
                let mc = mc_max.min(m - ic);
                pack_a::<MR>(a, ic, mc, pc, kc, &mut apack);
                for jr in (0..nc).step_by(nr) {
                    let (bp, ldb) = if direct && jr + nr <= nc {
                        let start = pc * b.rs + jc + jr;
                        (&b.data[start..start + (kc - 1) * b.rs + nr], b.rs)
                    } else if direct {
                        (&bpack[..nr * kc], nr)
                    } else {
                        (&bpack[jr * kc..(jr + nr) * kc], nr)
                    };
                    for ir in (0..mc).step_by(MR) {
                        let ap = &apack[ir * kc..(ir + MR) * kc];
                        let acc = tile::<MR, NV>(ap, bp, ldb);
                        let (rows, cols) = (MR.min(mc - ir), nr.min(nc - jr));
                        store::<MR, NV>(
                            &acc,
                            c.data,
                            (ic + ir, jc + jr),
                            (c.rs, c.cs),
                            (rows, cols),
                            alpha,
                            beta,
                        );
                    }
                }
            }
        }
    }
}

/// Rows ic..ic+mc, inner pc..pc+kc of A into MR-row slivers, each laid out
/// [k][MR] (zero rows past the end), one after the other.
fn pack_a<const MR: usize>(a: Mat, ic: usize, mc: usize, pc: usize, kc: usize, out: &mut [f32]) {
    for (s, sliver) in out[..mc.div_ceil(MR) * MR * kc].chunks_exact_mut(MR * kc).enumerate() {
        let i0 = ic + s * MR;
        if MR == 4 && a.cs == 1 && i0 + 4 <= ic + mc {
            let rows = [0, 1, 2, 3].map(|r| &a.data[(i0 + r) * a.rs + pc..(i0 + r) * a.rs + pc + kc]);
            transpose4(rows, sliver, 4, 0);
            continue;
        }
        for r in 0..MR {
            let i = ic + s * MR + r;
            if i >= ic + mc {
                for p in 0..kc {
                    sliver[p * MR + r] = 0.0;
                }
            } else if a.cs == 1 {
                let row = &a.data[i * a.rs + pc..i * a.rs + pc + kc];
                for (p, &x) in row.iter().enumerate() {
                    sliver[p * MR + r] = x;
                }
            } else {
                for p in 0..kc {
                    sliver[p * MR + r] = a.data[i * a.rs + (pc + p) * a.cs];
                }
            }
        }
    }
}

/// Inner pc..pc+kc, columns jc..jc+nc of B into NR-column slivers, each laid
/// out [k][NR] (zero columns past the end).
fn pack_b<const NV: usize>(b: Mat, pc: usize, kc: usize, jc: usize, nc: usize, out: &mut [f32]) {
    let nr = 4 * NV;
    for (s, sliver) in out[..nc.div_ceil(nr) * nr * kc].chunks_exact_mut(nr * kc).enumerate() {
        let j0 = jc + s * nr;
        let cols = nr.min(jc + nc - j0);
        if b.cs == 1 && cols == nr {
            for (p, dst) in sliver.chunks_exact_mut(nr).enumerate() {
                let start = (pc + p) * b.rs + j0;
                dst.copy_from_slice(&b.data[start..start + nr]);
            }
        } else if b.rs == 1 {
            // Columns of B are contiguous: four at a time through transpose4.
            let full4 = cols / 4 * 4;
            for q in (0..full4).step_by(4) {
                let lines = [0, 1, 2, 3].map(|d| &b.data[(j0 + q + d) * b.cs + pc..(j0 + q + d) * b.cs + pc + kc]);
                transpose4(lines, sliver, nr, q);
            }
            for q in full4..nr {
                if q < cols {
                    let col = &b.data[(j0 + q) * b.cs + pc..(j0 + q) * b.cs + pc + kc];
                    for (p, &x) in col.iter().enumerate() {
                        sliver[p * nr + q] = x;
                    }
                } else {
                    for p in 0..kc {
                        sliver[p * nr + q] = 0.0;
                    }
                }
            }
        } else {
            for (p, dst) in sliver.chunks_exact_mut(nr).enumerate() {
                for (q, x) in dst.iter_mut().enumerate() {
                    *x = if q < cols {
                        b.data[(pc + p) * b.rs + (j0 + q) * b.cs]
                    } else {
                        0.0
                    };
                }
            }
        }
    }
}

/// The micro-kernel: sum over p of ap[p][r] * B[p][..], an MR x 4*NV tile
/// held in MR * NV f32x4 accumulators (no FMA in plain simd128: a multiply
/// and an add).
#[inline(always)]
fn tile<const MR: usize, const NV: usize>(ap: &[f32], bp: &[f32], ldb: usize) -> [[v128; NV]; MR] {
    let kc = ap.len() / MR;
    assert!(kc > 0 && ap.len() == kc * MR && ldb >= 4 * NV && bp.len() == (kc - 1) * ldb + 4 * NV);
    let mut acc = [[f32x4_splat(0.0); NV]; MR];
    let (mut a, mut b) = (ap.as_ptr(), bp.as_ptr());
    for _ in 0..kc {
        let mut bv = [f32x4_splat(0.0); NV];
        for (v, x) in bv.iter_mut().enumerate() {
            // SAFETY: b points at row p (of kc) of B's sliver, each row 4*NV
            // floats, rows ldb apart: inside bp by the check above.
            *x = unsafe { v128_load(b.add(4 * v) as *const v128) };
        }
        for (r, row) in acc.iter_mut().enumerate() {
            // SAFETY: a points at row p of the kc x MR sliver; r < MR.
            let av = unsafe { v128_load32_splat(a.add(r) as *const u32) };
            for (x, &bx) in row.iter_mut().zip(bv.iter()) {
                *x = f32x4_add(*x, f32x4_mul(av, bx));
            }
        }
        // Next row (wrapping_add: after the last row the pointers may leave
        // the slices, but they are not read then).
        a = a.wrapping_add(MR);
        b = b.wrapping_add(ldb);
    }
    acc
}

/// C[i0.., j0..] = alpha * acc + beta * C (C not read when beta is 0), for
/// the `rows x cols` part of the tile that is inside C.
#[inline(always)]
fn store<const MR: usize, const NV: usize>(
    acc: &[[v128; NV]; MR],
    c: &mut [f32],
    (i0, j0): (usize, usize),
    (rs, cs): (usize, usize),
    (rows, cols): (usize, usize),
    alpha: f32,
    beta: f32,
) {
    let scale = |x: v128| {
        if alpha == 1.0 {
            x
        } else {
            f32x4_mul(x, f32x4_splat(alpha))
        }
    };
    if cs == 1 && cols == 4 * NV && rows == MR && alpha == 1.0 && beta == 0.0 {
        // The common case of a whole tile, C overwritten: plain stores.
        let start = i0 * rs + j0;
        let dst = &mut c[start..start + (MR - 1) * rs + 4 * NV];
        let p = dst.as_mut_ptr();
        for (r, row) in acc.iter().enumerate() {
            for (v, &x) in row.iter().enumerate() {
                // SAFETY: r * rs + 4v + 4 <= (MR - 1) * rs + 4 * NV = dst.len().
                unsafe { v128_store(p.add(r * rs + 4 * v) as *mut v128, x) };
            }
        }
    } else if cs == 1 && cols == 4 * NV {
        for (r, row) in acc.iter().enumerate().take(rows) {
            let start = (i0 + r) * rs + j0;
            let dst = &mut c[start..start + 4 * NV];
            let p = dst.as_mut_ptr();
            for (v, &x) in row.iter().enumerate() {
                // SAFETY: dst holds 4*NV floats; lanes 4v..4v+4 are inside it.
                unsafe {
                    let p = p.add(4 * v) as *mut v128;
                    let y = if beta == 0.0 {
                        scale(x)
                    } else if beta == 1.0 {
                        f32x4_add(v128_load(p), scale(x))
                    } else {
                        f32x4_add(f32x4_mul(v128_load(p), f32x4_splat(beta)), scale(x))
                    };
                    v128_store(p, y);
                }
            }
        }
    } else {
        for (r, row) in acc.iter().enumerate().take(rows) {
            let mut lanes = [0.0f32; 16];
            for (v, &x) in row.iter().enumerate() {
                lanes[4 * v] = f32x4_extract_lane::<0>(x);
                lanes[4 * v + 1] = f32x4_extract_lane::<1>(x);
                lanes[4 * v + 2] = f32x4_extract_lane::<2>(x);
                lanes[4 * v + 3] = f32x4_extract_lane::<3>(x);
            }
            for (q, &x) in lanes.iter().enumerate().take(cols) {
                let d = &mut c[(i0 + r) * rs + (j0 + q) * cs];
                *d = if beta == 0.0 { alpha * x } else { alpha * x + beta * *d };
            }
        }
    }
}

/// C = alpha A B + beta C where A's rows and B's columns are contiguous
/// (a.cs == 1, b.rs == 1): 4 x 2 tiles of dot products, each lane of an
/// accumulator a partial sum over k, reduced once per tile. k is blocked so
/// the B rows a tile streams stay in L2 while the four A rows stay in L1.
#[allow(clippy::too_many_arguments)]
fn dots(m: usize, k: usize, n: usize, alpha: f32, a: Mat, b: Mat, beta: f32, c: Out) {
    let kc_max = ((B_BLOCK / n).clamp(256, 4096) / 4 * 4).min(k);
    for pc in (0..k).step_by(kc_max) {
        let kc = kc_max.min(k - pc);
        let beta = if pc == 0 { beta } else { 1.0 };
        for i in (0..m).step_by(4) {
            // Rows past the end repeat the last one; their sums are dropped.
            let ar = [0, 1, 2, 3].map(|r| {
                let row = (i + r).min(m - 1) * a.rs + pc;
                &a.data[row..row + kc]
            });
            for j in (0..n).step_by(2) {
                let bc = [0, 1].map(|q| {
                    let col = (j + q).min(n - 1) * b.cs + pc;
                    &b.data[col..col + kc]
                });
                let sums = dot_tile(&ar, &bc);
                for (q, lanes) in sums.iter().enumerate().take(2.min(n - j)) {
                    let lanes = [
                        f32x4_extract_lane::<0>(*lanes),
                        f32x4_extract_lane::<1>(*lanes),
                        f32x4_extract_lane::<2>(*lanes),
                        f32x4_extract_lane::<3>(*lanes),
                    ];
                    for (r, &x) in lanes.iter().enumerate().take(4.min(m - i)) {
                        let d = &mut c.data[(i + r) * c.rs + (j + q) * c.cs];
                        *d = if beta == 0.0 { alpha * x } else { alpha * x + beta * *d };
                    }
                }
            }
        }
    }
}

/// Dot products of four A rows with two B columns (all of one length):
/// result q holds column q's four sums, lane r for row r.
#[inline(always)]
fn dot_tile(ar: &[&[f32]; 4], bc: &[&[f32]; 2]) -> [v128; 2] {
    let kc = ar[0].len();
    assert!(ar.iter().all(|r| r.len() == kc) && bc.iter().all(|c| c.len() == kc));
    let k4 = kc / 4 * 4;
    let mut acc = [[f32x4_splat(0.0); 2]; 4];
    let ap = ar.map(|r| r.as_ptr());
    let bp = bc.map(|c| c.as_ptr());
    let mut p = 0;
    while p < k4 {
        // SAFETY: p + 4 <= k4 <= kc, the length of every slice (checked above).
        let bv = unsafe {
            [
                v128_load(bp[0].add(p) as *const v128),
                v128_load(bp[1].add(p) as *const v128),
            ]
        };
        for (row, &a) in acc.iter_mut().zip(ap.iter()) {
            // SAFETY: as above.
            let av = unsafe { v128_load(a.add(p) as *const v128) };
            row[0] = f32x4_add(row[0], f32x4_mul(av, bv[0]));
            row[1] = f32x4_add(row[1], f32x4_mul(av, bv[1]));
        }
        p += 4;
    }
    if k4 < kc {
        let tail = |s: &[f32]| {
            let t = &s[k4..];
            let at = |i: usize| t.get(i).copied().unwrap_or(0.0);
            f32x4(at(0), at(1), at(2), 0.0)
        };
        let bv = [tail(bc[0]), tail(bc[1])];
        for (row, r) in acc.iter_mut().zip(ar.iter()) {
            let av = tail(r);
            row[0] = f32x4_add(row[0], f32x4_mul(av, bv[0]));
            row[1] = f32x4_add(row[1], f32x4_mul(av, bv[1]));
        }
    }
    [0, 1].map(|q| reduce4([acc[0][q], acc[1][q], acc[2][q], acc[3][q]]))
}

/// The four horizontal sums of four vectors, as one vector.
#[inline(always)]
fn reduce4([x0, x1, x2, x3]: [v128; 4]) -> v128 {
    // [x0.0 + x0.2, x1.0 + x1.2, x0.1 + x0.3, x1.1 + x1.3] and the same for x2, x3
    let s01 = f32x4_add(i32x4_shuffle::<0, 4, 1, 5>(x0, x1), i32x4_shuffle::<2, 6, 3, 7>(x0, x1));
    let s23 = f32x4_add(i32x4_shuffle::<0, 4, 1, 5>(x2, x3), i32x4_shuffle::<2, 6, 3, 7>(x2, x3));
    f32x4_add(
        i32x4_shuffle::<0, 1, 4, 5>(s01, s23),
        i32x4_shuffle::<2, 3, 6, 7>(s01, s23),
    )
}

/// dst[p * stride + off + r] = lines[r][p] for the four lines (each of one
/// length kc): four rows of a matrix written as four columns of a wider one,
/// 4 x 4 blocks at a time through shuffles.
fn transpose4(lines: [&[f32]; 4], dst: &mut [f32], stride: usize, off: usize) {
    let kc = lines[0].len();
    assert!(lines.iter().all(|l| l.len() == kc) && off + 4 <= stride && kc * stride <= dst.len());
    let k4 = kc / 4 * 4;
    let d = dst.as_mut_ptr();
    for p in (0..k4).step_by(4) {
        // SAFETY: p + 4 <= k4 <= kc, the length of every line (checked above).
        let [r0, r1, r2, r3] = lines.map(|l| unsafe { v128_load(l.as_ptr().add(p) as *const v128) });
        let t0 = i32x4_shuffle::<0, 4, 1, 5>(r0, r1);
        let t1 = i32x4_shuffle::<2, 6, 3, 7>(r0, r1);
        let t2 = i32x4_shuffle::<0, 4, 1, 5>(r2, r3);
        let t3 = i32x4_shuffle::<2, 6, 3, 7>(r2, r3);
        let cols = [
            i32x4_shuffle::<0, 1, 4, 5>(t0, t2),
            i32x4_shuffle::<2, 3, 6, 7>(t0, t2),
            i32x4_shuffle::<0, 1, 4, 5>(t1, t3),
            i32x4_shuffle::<2, 3, 6, 7>(t1, t3),
        ];
        for (q, x) in cols.into_iter().enumerate() {
            // SAFETY: (p + q) * stride + off + 4 <= (kc - 1) * stride + stride
            // = kc * stride <= dst.len() (checked above).
            unsafe { v128_store(d.add((p + q) * stride + off) as *mut v128, x) };
        }
    }
    for p in k4..kc {
        for (r, l) in lines.iter().enumerate() {
            dst[p * stride + off + r] = l[p];
        }
    }
}

/// [`super::copy_rows`], four lanes at a time. A line's last partial vector
/// is its last four floats again, overlapping the vector before (lines
/// shorter than four go float by float), so no scalar tail is left for LLVM
/// to turn back into `memory.copy`.
pub(super) fn copy_rows(src: &[f32], start: usize, stride: usize, rows: usize, width: usize, dst: &mut [f32]) {
    // The caller checked: dst.len() == rows * width, and every line
    // start + r * stride .. + width lies inside src.
    assert!(dst.len() == rows * width && (rows == 0 || start + (rows - 1) * stride + width <= src.len()));
    if width < 4 {
        for r in 0..rows {
            for i in 0..width {
                dst[r * width + i] = src[start + r * stride + i];
            }
        }
        return;
    }
    let (s, d) = (src.as_ptr(), dst.as_mut_ptr());
    for r in 0..rows {
        let (from, to) = (start + r * stride, r * width);
        let mut i = 0;
        while i + 4 <= width {
            // SAFETY: i + 4 <= width, and the line from..from + width is in
            // src and to..to + width in dst (checked above).
            unsafe { v128_store(d.add(to + i) as *mut v128, v128_load(s.add(from + i) as *const v128)) };
            i += 4;
        }
        if i < width {
            let i = width - 4;
            // SAFETY: width >= 4, so the last four floats of the line are in bounds.
            unsafe { v128_store(d.add(to + i) as *mut v128, v128_load(s.add(from + i) as *const v128)) };
        }
    }
}

/// [`super::max_pairs`] four outputs at a time (deinterleave eight inputs
/// into even and odd lanes, then `f32x4.max`, which is NaN if either is);
/// returns how many outputs it wrote, the caller does the rest.
pub(super) fn max_pairs(src: &[f32], out: &mut [f32]) -> usize {
    let n = out.len();
    assert!(src.len() >= 2 * n);
    let (s, d) = (src.as_ptr(), out.as_mut_ptr());
    let mut i = 0;
    while i + 4 <= n {
        // SAFETY: 2i + 8 <= 2n <= src.len(), and i + 4 <= n = out.len().
        unsafe {
            let a = v128_load(s.add(2 * i) as *const v128);
            let b = v128_load(s.add(2 * i + 4) as *const v128);
            let even = i32x4_shuffle::<0, 2, 4, 6>(a, b);
            let odd = i32x4_shuffle::<1, 3, 5, 7>(a, b);
            v128_store(d.add(i) as *mut v128, f32x4_max(even, odd));
        }
        i += 4;
    }
    i
}

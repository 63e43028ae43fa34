//! A warm training step reuses the last step's buffers: it asks the
//! allocator for no large block (the model keeps one graph and resets it
//! between steps; see `Graph::reset` and `buffers.rs`).
//!
//! In wasm32 with simd128, the build the app ships: natively, the GEMM is
//! matrixmultiply, which allocates its own packing buffers on every call.
//! A counting global allocator wraps the default one, so this file holds a
//! single test.
#![cfg(target_arch = "wasm32")]

use deepplay_core::init;
use deepplay_core::models::cnn::{Cnn, CnnConfig};
use deepplay_core::optim::Optimizer;
use deepplay_core::Rng;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Blocks this big or bigger are counted (an activation of the CNN lab's
/// network at batch 32 is 100 KB to 800 KB; conv2's saved columns 5 MB).
const LARGE: usize = 64 * 1024;

struct Counting;
static LARGE_BLOCKS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);

impl Counting {
    fn count(size: usize) {
        BYTES.fetch_add(size, Ordering::Relaxed);
        if size >= LARGE {
            LARGE_BLOCKS.fetch_add(1, Ordering::Relaxed);
        }
    }
}

// SAFETY: every call is passed straight to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::count(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::count(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        Self::count(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[wasm_bindgen_test]
fn a_warm_cnn_training_step_allocates_no_large_block() {
    let mut rng = Rng::new(3);
    let mut model = Cnn::new(&CnnConfig::mnist_default(), &mut rng).unwrap();
    let mut opt = Optimizer::adam(1e-3);
    let x = init::uniform(&[32, 1, 28, 28], 1.0, &mut rng);
    let labels: Vec<usize> = (0..32).map(|i| i % 10).collect();
    let mut step = |label: &str| {
        let (blocks, bytes) = (LARGE_BLOCKS.load(Ordering::Relaxed), BYTES.load(Ordering::Relaxed));
        model.train_step(&x, &labels, &mut opt).unwrap();
        let blocks = LARGE_BLOCKS.load(Ordering::Relaxed) - blocks;
        let bytes = BYTES.load(Ordering::Relaxed) - bytes;
        web_sys::console::log_1(&format!("{label}: {blocks} blocks of 64 KB or more, {bytes} bytes in all").into());
        (blocks, bytes)
    };
    let (first_blocks, first_bytes) = step("first step");
    step("second step");
    let (warm_blocks, warm_bytes) = step("third step");
    assert!(first_blocks > 10, "the first step allocates its buffers");
    assert_eq!(warm_blocks, 0, "a warm step takes every large buffer from the last one");
    assert!(
        warm_bytes * 20 < first_bytes,
        "{warm_bytes} bytes vs {first_bytes} on the first step"
    );
}

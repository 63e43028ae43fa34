//! The loaders of outside input (safetensors, gzip, IDX) on crafted files
//! (tests/corpus/, each refused with a message) and on a few thousand
//! random and mutated inputs from the seeded RNG: every call returns a
//! value or an error, never panics, and no single allocation exceeds what
//! the loaders' limits allow (gzip's 64 MB output, which its error names).
//! `cargo fuzz` needs a nightly toolchain; this is the stable stand-in,
//! run by `make test`.

use deepplay_core::data::gzip::{gunzip, gzip, MAX_OUTPUT};
use deepplay_core::data::mnist::Mnist;
use deepplay_core::layers::{Linear, LinearConfig};
use deepplay_core::{safetensors, Rng};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, keeping the largest block asked for.
struct Largest;
static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed straight to the system allocator.
unsafe impl GlobalAlloc for Largest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Largest = Largest;

/// Cases per loader.
const CASES: usize = 3000;

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/corpus/{name}", env!("CARGO_MANIFEST_DIR"))).expect("corpus file")
}

/// `valid` with a few random bytes changed, cut short, or grown; or bytes
/// of pure noise.
fn mutate(valid: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut bytes = valid.to_vec();
    match rng.below(5) {
        0 => (0..rng.below(64)).map(|_| rng.below(256) as u8).collect(),
        1 => {
            bytes.truncate(rng.below(bytes.len() + 1));
            bytes
        }
        2 => {
            bytes.extend((0..1 + rng.below(32)).map(|_| rng.below(256) as u8));
            bytes
        }
        _ => {
            for _ in 0..1 + rng.below(4) {
                if !bytes.is_empty() {
                    let at = rng.below(bytes.len());
                    bytes[at] = rng.below(256) as u8;
                }
            }
            bytes
        }
    }
}

fn check_allocations() {
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(largest <= 2 * MAX_OUTPUT, "a block of {largest} bytes");
}

#[test]
fn crafted_files_are_refused_with_the_reason() {
    for (file, needle) in [
        ("safetensors-truncated.safetensors", "data_offsets"),
        ("safetensors-header-past-end.safetensors", "past the end"),
        ("safetensors-huge-shape.safetensors", "too large"),
        ("safetensors-overlapping.safetensors", "overlap"),
        ("safetensors-f64.safetensors", "F64"),
        ("safetensors-not-json.safetensors", "header"),
    ] {
        let message = safetensors::parse(&corpus(file)).map(|_| ()).unwrap_err().to_string();
        assert!(message.contains(needle), "{file}: {message}");
    }
    for (file, needle) in [
        ("gzip-bad-crc.gz", "checksum"),
        ("gzip-truncated.gz", "gzip"),
        ("gzip-bomb-80mb.gz", "more than 64 MB"),
    ] {
        let message = gunzip(&corpus(file)).unwrap_err().to_string();
        assert!(message.contains(needle), "{file}: {message}");
    }
    let labels = [&[0, 0, 8, 1, 0, 0, 0, 1][..], &[3]].concat();
    for (file, needle) in [
        ("idx-wrong-magic.idx", "wrong IDX magic"),
        ("idx-short.idx", "truncated"),
        ("idx-huge-dims.idx", "header promises"),
    ] {
        let message = Mnist::from_idx(&corpus(file), &labels)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(message.contains(needle), "{file}: {message}");
    }
    check_allocations();
}

#[test]
fn mutated_weights_files_give_a_value_or_an_error() {
    let mut rng = Rng::new(1);
    let mut model = Linear::new(
        "fc",
        LinearConfig {
            in_features: 5,
            out_features: 3,
        },
        &mut rng,
    );
    let valid = safetensors::save(&model, &[("deepplay.lab", "fuzz")]);
    let (mut parsed, mut loaded) = (0, 0);
    for _ in 0..CASES {
        let bytes = mutate(&valid, &mut rng);
        parsed += safetensors::parse(&bytes).is_ok() as usize;
        loaded += safetensors::load(&mut model, &bytes).is_ok() as usize;
    }
    // Some mutations only touch weights' bytes: those files still load.
    assert!(
        parsed > 0 && loaded > 0 && parsed < CASES,
        "{parsed} parsed, {loaded} loaded"
    );
    check_allocations();
}

#[test]
fn mutated_gzip_and_idx_files_give_a_value_or_an_error() {
    let mut rng = Rng::new(2);
    let images: Vec<u8> = [&[0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28][..], &[7u8; 2 * 784]].concat();
    let labels: Vec<u8> = [&[0, 0, 8, 1, 0, 0, 0, 2][..], &[3, 9]].concat();
    assert_eq!(Mnist::from_idx(&images, &labels).unwrap().len(), 2);
    let (images_gz, labels_gz) = (gzip(&images), gzip(&labels));
    let mut ok = 0;
    for _ in 0..CASES {
        let _ = gunzip(&mutate(&images_gz, &mut rng));
        ok += Mnist::from_idx(&mutate(&images, &mut rng), &labels).is_ok() as usize;
        let _ = Mnist::from_idx(&images, &mutate(&labels, &mut rng));
        let _ = Mnist::from_gzip(&mutate(&images_gz, &mut rng), &labels_gz);
    }
    assert!(ok > 0 && ok < CASES, "{ok} of {CASES} mutated image files still read");
    check_allocations();
}

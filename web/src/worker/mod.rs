//! Training off the page's thread, for any lab. `protocol` is the message
//! envelope both ends share; `client` is the page's end; `runtime` the
//! worker's loop; `lab` the trait every lab's trainer implements;
//! `datasets` what the worker fetches once for every lab that asks.

pub mod client;
pub mod datasets;
pub mod lab;
pub mod protocol;
pub mod runtime;

/// This module's WebAssembly memory in bytes (0 off the web, in native
/// tests). It only grows, so it is a high-water mark of what the page or
/// the worker has held at once.
pub fn wasm_memory_bytes() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        core::arch::wasm32::memory_size::<0>() as u64 * 65_536
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}

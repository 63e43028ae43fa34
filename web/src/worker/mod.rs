//! Training off the page's thread. `protocol` is shared by both ends;
//! `client` is the page's end, `runtime` the worker's; `playground` is the
//! 2-D lab's training state (plain Rust, tested natively).

pub mod client;
pub mod cnn;
pub mod lab;
pub mod playground;
pub mod protocol;
pub mod runtime;

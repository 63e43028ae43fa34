//! Training off the page's thread, for any lab. `protocol` is the message
//! envelope both ends share; `client` is the page's end; `runtime` the
//! worker's loop; `lab` the trait every lab's trainer implements;
//! `datasets` what the worker fetches once for every lab that asks.

pub mod client;
pub mod datasets;
pub mod lab;
pub mod protocol;
pub mod runtime;

//! Layers: modules that own their parameters, named as PyTorch names them
//! (`conv1.weight`, `weight_ih_l0`, ...), so that saving, loading and the
//! optimizers treat every model alike.

mod activation;
mod attention;
mod conv2d;
mod embedding;
mod gru;
mod layer_norm;
mod linear;
mod param;
mod positional;
mod rnn;

pub use activation::Activation;
pub use attention::{AttentionOutput, AttentionParams, MultiHeadAttention};
pub use conv2d::Conv2d;
pub use embedding::Embedding;
pub use gru::{Gru, GruOutput};
pub use layer_norm::LayerNorm;
pub use linear::Linear;
pub use param::{Module, Param};
pub use positional::positional_encoding;
pub use rnn::{Rnn, RnnOutput};

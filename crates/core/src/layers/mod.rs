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
mod lstm;
mod param;
mod positional;
mod rnn;

pub use activation::Activation;
pub use attention::{AttentionConfig, AttentionOutput, AttentionParams, MultiHeadAttention, PackedAttentionParams};
pub use conv2d::{Conv2d, Conv2dConfig};
pub use embedding::{Embedding, EmbeddingConfig};
pub use gru::{Gru, GruConfig, GruOutput};
pub use layer_norm::LayerNorm;
pub use linear::{Linear, LinearConfig};
pub use lstm::{Lstm, LstmConfig, LstmOutput};
pub use param::{Module, Param};
pub use positional::positional_encoding;
pub use rnn::{Rnn, RnnConfig, RnnOutput};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use alloc::string::String;
    use alloc::vec::Vec;

    fn names_and_shapes(m: &dyn Module) -> Vec<(String, Vec<usize>)> {
        m.params()
            .iter()
            .map(|p| (p.name.clone(), p.value.shape().to_vec()))
            .collect()
    }

    fn owned(expected: &[(&str, &[usize])]) -> Vec<(String, Vec<usize>)> {
        expected.iter().map(|(n, s)| (String::from(*n), s.to_vec())).collect()
    }

    #[test]
    fn configs_give_pytorch_names_and_shapes() {
        let rng = &mut Rng::new(3);
        let linear = Linear::new(
            "fc",
            LinearConfig {
                in_features: 3,
                out_features: 2,
            },
            rng,
        );
        assert_eq!(
            names_and_shapes(&linear),
            owned(&[("fc.weight", &[2, 3]), ("fc.bias", &[2])])
        );
        let config = Conv2dConfig {
            in_channels: 3,
            out_channels: 8,
            kernel_size: 5,
            padding: 2,
            ..Default::default()
        };
        let conv = Conv2d::new("conv1", config, rng).unwrap();
        assert_eq!(
            names_and_shapes(&conv),
            owned(&[("conv1.weight", &[8, 3, 5, 5]), ("conv1.bias", &[8])])
        );
        assert_eq!((config.spec().stride, config.spec().padding), (1, 2));
        let zero_stride = Conv2dConfig { stride: 0, ..config };
        assert!(Conv2d::new("conv1", zero_stride, rng).is_err());
        let sizes = RnnConfig {
            input_size: 4,
            hidden_size: 6,
        };
        assert_eq!(
            names_and_shapes(&Rnn::new("rnn", sizes, rng)),
            owned(&[
                ("rnn.weight_ih_l0", &[6, 4]),
                ("rnn.weight_hh_l0", &[6, 6]),
                ("rnn.bias_ih_l0", &[6]),
                ("rnn.bias_hh_l0", &[6])
            ])
        );
        assert_eq!(
            names_and_shapes(&Gru::new("gru", sizes, rng)),
            owned(&[
                ("gru.weight_ih_l0", &[18, 4]),
                ("gru.weight_hh_l0", &[18, 6]),
                ("gru.bias_ih_l0", &[18]),
                ("gru.bias_hh_l0", &[18])
            ])
        );
        assert_eq!(
            names_and_shapes(&Lstm::new("lstm", sizes, rng)),
            owned(&[
                ("lstm.weight_ih_l0", &[24, 4]),
                ("lstm.weight_hh_l0", &[24, 6]),
                ("lstm.bias_ih_l0", &[24]),
                ("lstm.bias_hh_l0", &[24])
            ])
        );
        let table = EmbeddingConfig {
            num_embeddings: 10,
            embedding_dim: 4,
        };
        assert_eq!(
            names_and_shapes(&Embedding::new("embed", table, rng)),
            owned(&[("embed.weight", &[10, 4])])
        );
        let bad_heads = AttentionConfig {
            embed_dim: 6,
            num_heads: 4,
        };
        assert!(MultiHeadAttention::new("attn", bad_heads, rng).is_err());
    }
}

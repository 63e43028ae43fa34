//! The Attention lab's kind of model, assembled from the core's layers, so
//! its training step can be timed (DeepPlay only; the Sequences lab's
//! recurrent nets are in `recurrent.rs`).
//!
//! - Transformer: Embedding(16, 64) + sinusoidal positional encoding ->
//!   2 pre-norm blocks [x + MHA(LN(x)), x + MLP(LN(x)), MLP 64 -> 128 -> 64
//!   with GELU, 4 heads] -> LN -> Linear(64 -> 16) per position,
//!   cross-entropy against the reversed sequence (N=32, L=16).

use crate::{js_err, now_ms};
use deepplay_core::layers::{
    positional_encoding, AttentionConfig, Embedding, EmbeddingConfig, LayerNorm, Linear, LinearConfig,
    MultiHeadAttention,
};
use deepplay_core::optim::Optimizer;
use deepplay_core::{Graph, Module, Param, Rng, Tensor, Var};
use wasm_bindgen::prelude::*;

struct Block {
    ln1: LayerNorm,
    attn: MultiHeadAttention,
    ln2: LayerNorm,
    ff1: Linear,
    ff2: Linear,
}

impl Block {
    fn forward(&self, g: &mut Graph, x: Var) -> deepplay_core::Result<Var> {
        let a = self.ln1.forward(g, x)?;
        let att = self.attn.forward(g, a, a, false)?.output;
        let x = g.add(x, att)?;
        let f = self.ln2.forward(g, x)?;
        let f = self.ff1.forward(g, f)?;
        let f = g.gelu(f);
        let f = self.ff2.forward(g, f)?;
        g.add(x, f)
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        let mut p = self.ln1.params_mut();
        p.extend(self.attn.params_mut());
        p.extend(self.ln2.params_mut());
        p.extend(self.ff1.params_mut());
        p.extend(self.ff2.params_mut());
        p
    }

    fn params(&self) -> Vec<&Param> {
        let mut p = self.ln1.params();
        p.extend(self.attn.params());
        p.extend(self.ln2.params());
        p.extend(self.ff1.params());
        p.extend(self.ff2.params());
        p
    }
}

/// Every parameter, in a fixed order (the optimizer keeps state by position).
fn transformer_params<'a>(
    embed: &'a mut Embedding,
    blocks: &'a mut [Block],
    ln_f: &'a mut LayerNorm,
    head: &'a mut Linear,
) -> Vec<&'a mut Param> {
    let mut p = embed.params_mut();
    for b in blocks.iter_mut() {
        p.extend(b.params_mut());
    }
    p.extend(ln_f.params_mut());
    p.extend(head.params_mut());
    p
}

#[wasm_bindgen]
pub struct TransformerBench {
    embed: Embedding,
    pe: Tensor,
    blocks: Vec<Block>,
    ln_f: LayerNorm,
    head: Linear,
    opt: Optimizer,
    batch: usize,
    seq_len: usize,
    vocab: usize,
    ids: Vec<usize>,
    targets: Vec<usize>,
    last_loss: f32,
}

impl TransformerBench {
    pub fn build(
        layers: usize,
        d_model: usize,
        heads: usize,
        seq_len: usize,
        batch: usize,
        vocab: usize,
    ) -> deepplay_core::Result<Self> {
        let mut rng = Rng::new(11);
        let ids: Vec<usize> = (0..batch * seq_len).map(|_| rng.below(vocab)).collect();
        // Target: the sequence reversed.
        let targets = (0..batch * seq_len)
            .map(|i| {
                let (n, p) = (i / seq_len, i % seq_len);
                ids[n * seq_len + seq_len - 1 - p]
            })
            .collect();
        let linear = |in_features, out_features| LinearConfig {
            in_features,
            out_features,
        };
        let attention = AttentionConfig {
            embed_dim: d_model,
            num_heads: heads,
        };
        let mut blocks = Vec::new();
        for l in 0..layers {
            blocks.push(Block {
                ln1: LayerNorm::new(&format!("blocks.{l}.ln1"), d_model),
                attn: MultiHeadAttention::new(&format!("blocks.{l}.attn"), attention, &mut rng)?,
                ln2: LayerNorm::new(&format!("blocks.{l}.ln2"), d_model),
                ff1: Linear::new(&format!("blocks.{l}.ff1"), linear(d_model, 2 * d_model), &mut rng),
                ff2: Linear::new(&format!("blocks.{l}.ff2"), linear(2 * d_model, d_model), &mut rng),
            });
        }
        let table = EmbeddingConfig {
            num_embeddings: vocab,
            embedding_dim: d_model,
        };
        Ok(TransformerBench {
            embed: Embedding::new("embed", table, &mut rng),
            pe: positional_encoding(seq_len, d_model),
            blocks,
            ln_f: LayerNorm::new("ln_f", d_model),
            head: Linear::new("head", linear(d_model, vocab), &mut rng),
            opt: Optimizer::adam(1e-3),
            batch,
            seq_len,
            vocab,
            ids,
            targets,
            last_loss: f32::NAN,
        })
    }

    pub fn step(&mut self) -> deepplay_core::Result<f64> {
        let t0 = now_ms();
        let mut g = Graph::new();
        let h = self.embed.forward(&mut g, &self.ids, &[self.batch, self.seq_len])?;
        let pe = g.constant(self.pe.clone());
        let mut h = g.add(h, pe)?;
        for b in &self.blocks {
            h = b.forward(&mut g, h)?;
        }
        let h = self.ln_f.forward(&mut g, h)?;
        let logits = self.head.forward(&mut g, h)?;
        let logits = g.reshape(logits, &[self.batch * self.seq_len, self.vocab])?;
        let loss = g.cross_entropy(logits, &self.targets)?;
        g.backward(loss)?;
        let mut params = transformer_params(&mut self.embed, &mut self.blocks, &mut self.ln_f, &mut self.head);
        for p in params.iter_mut() {
            p.collect_grad(&g);
        }
        self.opt.step(&mut params);
        let ms = now_ms() - t0;
        self.last_loss = g.value(loss).iter().next().copied().unwrap_or(f32::NAN);
        Ok(ms)
    }
}

#[wasm_bindgen]
impl TransformerBench {
    #[wasm_bindgen(constructor)]
    pub fn new(
        layers: usize,
        d_model: usize,
        heads: usize,
        seq_len: usize,
        batch: usize,
        vocab: usize,
    ) -> Result<TransformerBench, JsError> {
        Self::build(layers, d_model, heads, seq_len, batch, vocab).map_err(js_err)
    }

    /// One training step (forward, backward, Adam), ms.
    pub fn train_step(&mut self) -> Result<f64, JsError> {
        self.step().map_err(js_err)
    }

    pub fn last_loss(&self) -> f32 {
        self.last_loss
    }

    pub fn num_params(&self) -> usize {
        self.embed.num_params()
            + self
                .blocks
                .iter()
                .map(|b| b.params().iter().map(|p| p.len()).sum::<usize>())
                .sum::<usize>()
            + self.ln_f.num_params()
            + self.head.num_params()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transformer_steps_run_and_learn() {
        let mut tf = TransformerBench::build(2, 16, 4, 6, 4, 8).unwrap();
        tf.step().unwrap();
        let first = tf.last_loss;
        for _ in 0..30 {
            tf.step().unwrap();
        }
        assert!(tf.last_loss < first, "{first} -> {}", tf.last_loss);
    }
}

//! Multi-head scaled dot-product attention, `torch.nn.MultiheadAttention`
//! (batch_first, separate q/k/v projections, per-head weights returned):
//!
//!   Q = q W_q^T + b_q,  K = kv W_k^T + b_k,  V = kv W_v^T + b_v     [N, L|S, E]
//!   head h uses features h*D .. (h+1)*D,  D = E / heads
//!   A_h = softmax(Q_h K_h^T / sqrt(D) + mask)                       [N, heads, L, S]
//!   out = concat_h(A_h V_h) W_o^T + b_o                             [N, L, E]
//!
//! With `causal`, query i sees keys j <= i only (the mask is -inf above the
//! diagonal, so those weights are exactly 0).

use super::{Linear, LinearConfig, Module, Param};
use crate::autograd::{Graph, Var};
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::Tensor;
use alloc::format;
use alloc::vec::Vec;
use ndarray::IxDyn;

pub struct AttentionOutput {
    /// [N, L, E]
    pub output: Var,
    /// Attention weights per head, [N, heads, L, S]; each row sums to 1.
    pub attention: Var,
}

/// The eight projection tensors: weights [E, E] and biases [E].
#[derive(Clone, Copy)]
pub struct AttentionParams {
    pub w_q: Var,
    pub w_k: Var,
    pub w_v: Var,
    pub w_o: Var,
    pub b_q: Var,
    pub b_k: Var,
    pub b_v: Var,
    pub b_o: Var,
}

impl Graph {
    /// [N, T, E] -> [N, heads, T, D]
    fn split_heads(&mut self, x: Var, heads: usize) -> Result<Var> {
        let s = self.shape(x).to_vec();
        let split = self.reshape(x, &[s[0], s[1], heads, s[2] / heads])?;
        self.permute(split, &[0, 2, 1, 3])
    }

    pub fn multi_head_attention(
        &mut self,
        q: Var,
        kv: Var,
        p: AttentionParams,
        heads: usize,
        causal: bool,
    ) -> Result<AttentionOutput> {
        let (qs, ks) = (self.shape(q).to_vec(), self.shape(kv).to_vec());
        if qs.len() != 3 || ks.len() != 3 || qs[0] != ks[0] || qs[2] != ks[2] {
            return Err(Error::shape(
                "multi_head_attention",
                "q [N, L, E] vs kv [N, S, E]",
                &qs,
                &ks,
            ));
        }
        let (n, l, e, s) = (qs[0], qs[1], qs[2], ks[1]);
        if heads == 0 || !e.is_multiple_of(heads) {
            return Err(Error::invalid(
                "multi_head_attention",
                format!("embedding size {e} is not divisible by {heads} heads"),
            ));
        }
        for (name, v, want) in [
            ("w_q", p.w_q, [e, e].as_slice()),
            ("w_k", p.w_k, &[e, e]),
            ("w_v", p.w_v, &[e, e]),
            ("w_o", p.w_o, &[e, e]),
        ] {
            if self.shape(v) != want {
                return Err(Error::shape(
                    "multi_head_attention",
                    format!("{name} must be [E, E]"),
                    self.shape(v),
                    want,
                ));
            }
        }
        let d = e / heads;
        let q_proj = self.linear(q, p.w_q, Some(p.b_q))?;
        let k_proj = self.linear(kv, p.w_k, Some(p.b_k))?;
        let v_proj = self.linear(kv, p.w_v, Some(p.b_v))?;
        let (qh, kh, vh) = (
            self.split_heads(q_proj, heads)?,
            self.split_heads(k_proj, heads)?,
            self.split_heads(v_proj, heads)?,
        );
        let raw_scores = self.matmul_bt(qh, kh)?; // [N, heads, L, S]
        let mut scores = self.scale(raw_scores, 1.0 / libm::sqrtf(d as f32));
        if causal {
            let mask = Tensor::from_shape_fn(IxDyn(&[l, s]), |i| if i[1] > i[0] { f32::NEG_INFINITY } else { 0.0 });
            let mask = self.constant(mask);
            scores = self.add(scores, mask)?;
        }
        let attention = self.softmax(scores)?;
        let context = self.matmul(attention, vh)?; // [N, heads, L, D]
        let merged = self.permute(context, &[0, 2, 1, 3])?;
        let merged = self.reshape(merged, &[n, l, e])?;
        let output = self.linear(merged, p.w_o, Some(p.b_o))?;
        Ok(AttentionOutput { output, attention })
    }
}

/// The sizes of a [`MultiHeadAttention`] layer, named as
/// `torch.nn.MultiheadAttention`'s arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttentionConfig {
    /// E: the model width of queries, keys, values and output.
    pub embed_dim: usize,
    /// Heads; each attends with E / num_heads features, so it must divide E.
    pub num_heads: usize,
}

/// Self- or cross-attention with its four projections as [`Linear`] layers
/// (`{name}.q_proj.weight`, ... `{name}.out_proj.bias`).
#[derive(Debug, Clone)]
pub struct MultiHeadAttention {
    pub q_proj: Linear,
    pub k_proj: Linear,
    pub v_proj: Linear,
    pub out_proj: Linear,
    pub heads: usize,
}

impl MultiHeadAttention {
    pub fn new(name: &str, config: AttentionConfig, rng: &mut Rng) -> Result<Self> {
        let AttentionConfig {
            embed_dim: embed,
            num_heads: heads,
        } = config;
        if heads == 0 || !embed.is_multiple_of(heads) {
            return Err(Error::invalid(
                "multi_head_attention",
                format!("embedding size {embed} is not divisible by {heads} heads"),
            ));
        }
        let size = LinearConfig {
            in_features: embed,
            out_features: embed,
        };
        let mut proj = |which: &str| Linear::new(&format!("{name}.{which}"), size, rng);
        Ok(MultiHeadAttention {
            q_proj: proj("q_proj"),
            k_proj: proj("k_proj"),
            v_proj: proj("v_proj"),
            out_proj: proj("out_proj"),
            heads,
        })
    }

    pub fn forward(&self, g: &mut Graph, q: Var, kv: Var, causal: bool) -> Result<AttentionOutput> {
        let p = AttentionParams {
            w_q: self.q_proj.weight.var(g),
            w_k: self.k_proj.weight.var(g),
            w_v: self.v_proj.weight.var(g),
            w_o: self.out_proj.weight.var(g),
            b_q: self.q_proj.bias.var(g),
            b_k: self.k_proj.bias.var(g),
            b_v: self.v_proj.bias.var(g),
            b_o: self.out_proj.bias.var(g),
        };
        g.multi_head_attention(q, kv, p, self.heads, causal)
    }
}

impl Module for MultiHeadAttention {
    fn params(&self) -> Vec<&Param> {
        [&self.q_proj, &self.k_proj, &self.v_proj, &self.out_proj]
            .into_iter()
            .flat_map(|l| l.params())
            .collect()
    }
    fn params_mut(&mut self) -> Vec<&mut Param> {
        [&mut self.q_proj, &mut self.k_proj, &mut self.v_proj, &mut self.out_proj]
            .into_iter()
            .flat_map(|l| l.params_mut())
            .collect()
    }
}

//! Multi-head scaled dot-product attention, `torch.nn.MultiheadAttention`
//! (batch_first, per-head weights returned):
//!
//!   Q = q W_q^T + b_q,  K = kv W_k^T + b_k,  V = kv W_v^T + b_v     [N, L|S, E]
//!   head h uses features h*D .. (h+1)*D,  D = E / heads
//!   A_h = softmax(Q_h K_h^T / sqrt(D) + mask)                       [N, heads, L, S]
//!   out = concat_h(A_h V_h) W_o^T + b_o                             [N, L, E]
//!
//! With `causal`, query i sees keys j <= i only (the mask is -inf above the
//! diagonal, so those weights are exactly 0).
//!
//! [`Graph::multi_head_attention`] takes the eight projection tensors apart
//! (the op oracle's contract); [`Graph::multi_head_attention_packed`] and the
//! [`MultiHeadAttention`] layer keep W_q, W_k, W_v stacked in one
//! `in_proj_weight` [3E, E] and their biases in `in_proj_bias` [3E], as
//! PyTorch does, so that a `state_dict` moves between the two unchanged.

use super::{Linear, LinearConfig, Module, Param};
use crate::autograd::{Graph, Var};
use crate::error::{Error, Result};
use crate::init;
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

/// The projections with W_q, W_k, W_v stacked as PyTorch stores them.
#[derive(Clone, Copy)]
pub struct PackedAttentionParams {
    /// [W_q; W_k; W_v]: [3E, E].
    pub in_proj_weight: Var,
    /// [b_q; b_k; b_v]: [3E].
    pub in_proj_bias: Var,
    /// W_o: [E, E].
    pub out_proj_weight: Var,
    /// b_o: [E].
    pub out_proj_bias: Var,
}

impl Graph {
    /// [`Graph::multi_head_attention`] with the query, key and value
    /// projections stacked (`F.multi_head_attention_forward`'s layout): rows
    /// 0..E of `in_proj_weight` are W_q, E..2E W_k, 2E..3E W_v, and likewise
    /// for the bias. The slices are `narrow`s, so gradients flow back into
    /// the stacked tensors.
    pub fn multi_head_attention_packed(
        &mut self,
        q: Var,
        kv: Var,
        p: PackedAttentionParams,
        heads: usize,
        causal: bool,
    ) -> Result<AttentionOutput> {
        let e = self.shape(q).last().copied().unwrap_or(0);
        for (name, v, want) in [
            ("in_proj_weight", p.in_proj_weight, [3 * e, e].as_slice()),
            ("in_proj_bias", p.in_proj_bias, &[3 * e]),
        ] {
            if self.shape(v) != want {
                return Err(Error::shape(
                    "multi_head_attention",
                    format!(
                        "{name} must be [3E{}] for E = {e}",
                        if want.len() == 2 { ", E" } else { "" }
                    ),
                    self.shape(v),
                    want,
                ));
            }
        }
        let w = p.in_proj_weight;
        let b = p.in_proj_bias;
        let unpacked = AttentionParams {
            w_q: self.narrow(w, 0, 0, e)?,
            w_k: self.narrow(w, 0, e, e)?,
            w_v: self.narrow(w, 0, 2 * e, e)?,
            w_o: p.out_proj_weight,
            b_q: self.narrow(b, 0, 0, e)?,
            b_k: self.narrow(b, 0, e, e)?,
            b_v: self.narrow(b, 0, 2 * e, e)?,
            b_o: p.out_proj_bias,
        };
        self.multi_head_attention(q, kv, unpacked, heads, causal)
    }
}

/// Self- or cross-attention with `torch.nn.MultiheadAttention`'s parameters,
/// names and initialisation, so that PyTorch loads its weights as they are:
///
/// * `{name}.in_proj_weight` [3E, E]: W_q, W_k, W_v stacked, Xavier uniform;
/// * `{name}.in_proj_bias` [3E]: b_q, b_k, b_v stacked, zeros;
/// * `{name}.out_proj.weight` [E, E], PyTorch's `Linear` default;
/// * `{name}.out_proj.bias` [E], zeros.
#[derive(Debug, Clone)]
pub struct MultiHeadAttention {
    pub in_proj_weight: Param,
    pub in_proj_bias: Param,
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
        let mut out_proj = Linear::new(&format!("{name}.out_proj"), size, rng);
        out_proj.bias.value.fill(0.0);
        Ok(MultiHeadAttention {
            in_proj_weight: Param::new(
                format!("{name}.in_proj_weight"),
                init::xavier_uniform(&[3 * embed, embed], embed, 3 * embed, rng),
            ),
            in_proj_bias: Param::new(format!("{name}.in_proj_bias"), crate::tensor::zeros(&[3 * embed])),
            out_proj,
            heads,
        })
    }

    pub fn forward(&self, g: &mut Graph, q: Var, kv: Var, causal: bool) -> Result<AttentionOutput> {
        let p = PackedAttentionParams {
            in_proj_weight: self.in_proj_weight.var(g),
            in_proj_bias: self.in_proj_bias.var(g),
            out_proj_weight: self.out_proj.weight.var(g),
            out_proj_bias: self.out_proj.bias.var(g),
        };
        g.multi_head_attention_packed(q, kv, p, self.heads, causal)
    }
}

impl Module for MultiHeadAttention {
    fn params(&self) -> Vec<&Param> {
        let mut params = alloc::vec![&self.in_proj_weight, &self.in_proj_bias];
        params.extend(self.out_proj.params());
        params
    }
    fn params_mut(&mut self) -> Vec<&mut Param> {
        let mut params = alloc::vec![&mut self.in_proj_weight, &mut self.in_proj_bias];
        params.extend(self.out_proj.params_mut());
        params
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;
    use alloc::vec;

    #[test]
    fn parameters_are_named_and_shaped_as_pytorch_s() {
        let config = AttentionConfig {
            embed_dim: 6,
            num_heads: 2,
        };
        let attn = MultiHeadAttention::new("attn", config, &mut Rng::new(1)).unwrap();
        let got: Vec<(String, Vec<usize>)> = attn
            .params()
            .iter()
            .map(|p| (p.name.clone(), p.value.shape().to_vec()))
            .collect();
        let want: Vec<(String, Vec<usize>)> = [
            ("attn.in_proj_weight", vec![18, 6]),
            ("attn.in_proj_bias", vec![18]),
            ("attn.out_proj.weight", vec![6, 6]),
            ("attn.out_proj.bias", vec![6]),
        ]
        .into_iter()
        .map(|(n, s)| (String::from(n), s))
        .collect();
        assert_eq!(got, want);
        // PyTorch's initialisation: Xavier-uniform in_proj, zero biases.
        let bound = libm::sqrtf(6.0 / 24.0);
        assert!(attn.in_proj_weight.value.iter().all(|v| v.abs() <= bound));
        assert!(attn
            .in_proj_bias
            .value
            .iter()
            .chain(attn.out_proj.bias.value.iter())
            .all(|&v| v == 0.0));
    }

    /// The layer computes the op on the unpacked rows: W_q = rows 0..E, ...
    #[test]
    fn the_layer_is_the_op_with_in_proj_split_in_three() {
        let (e, heads) = (4, 2);
        let rng = &mut Rng::new(5);
        let config = AttentionConfig {
            embed_dim: e,
            num_heads: heads,
        };
        let mut attn = MultiHeadAttention::new("attn", config, rng).unwrap();
        attn.in_proj_bias.value = crate::init::normal(&[3 * e], 0.5, rng);
        let q = crate::init::normal(&[2, 3, e], 1.0, rng);
        let kv = crate::init::normal(&[2, 5, e], 1.0, rng);

        let mut g = Graph::new();
        let (qv, kvv) = (g.constant(q.clone()), g.constant(kv.clone()));
        let packed = attn.forward(&mut g, qv, kvv, false).unwrap();
        let packed = (g.value(packed.output).clone(), g.value(packed.attention).clone());

        let mut g = Graph::new();
        let rows = |t: &Tensor, k: usize| t.slice_axis(ndarray::Axis(0), (k * e..(k + 1) * e).into()).to_owned();
        let (w, b) = (&attn.in_proj_weight.value, &attn.in_proj_bias.value);
        let p = AttentionParams {
            w_q: g.constant(rows(w, 0)),
            w_k: g.constant(rows(w, 1)),
            w_v: g.constant(rows(w, 2)),
            w_o: g.constant(attn.out_proj.weight.value.clone()),
            b_q: g.constant(rows(b, 0)),
            b_k: g.constant(rows(b, 1)),
            b_v: g.constant(rows(b, 2)),
            b_o: g.constant(attn.out_proj.bias.value.clone()),
        };
        let (qv, kvv) = (g.constant(q), g.constant(kv));
        let direct = g.multi_head_attention(qv, kvv, p, heads, false).unwrap();
        assert_eq!(packed.0, *g.value(direct.output));
        assert_eq!(packed.1, *g.value(direct.attention));
    }

    #[test]
    fn a_wrongly_shaped_in_proj_is_refused() {
        let mut g = Graph::new();
        let x = g.constant(crate::tensor::zeros(&[1, 2, 4]));
        let p = PackedAttentionParams {
            in_proj_weight: g.constant(crate::tensor::zeros(&[8, 4])),
            in_proj_bias: g.constant(crate::tensor::zeros(&[12])),
            out_proj_weight: g.constant(crate::tensor::zeros(&[4, 4])),
            out_proj_bias: g.constant(crate::tensor::zeros(&[4])),
        };
        let msg = alloc::string::ToString::to_string(&g.multi_head_attention_packed(x, x, p, 2, false).err().unwrap());
        assert!(msg.contains("in_proj_weight must be [3E, E]"), "{msg}");
    }
}

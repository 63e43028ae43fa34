//! The Attention lab's model: a small Transformer encoder over token ids.
//!
//!   x = embed(ids) + position          [N, L, d]   (sinusoidal, learned or none)
//!   per layer (pre-norm, as `norm_first=True`):
//!     x = x + self_attn(norm1(x))      multi-head scaled dot-product attention
//!     x = x + linear2(relu(linear1(norm2(x))))
//!   x = norm(x); logits = head(x)      at every position, or at the first
//!                                      (the question token) only
//!
//! Parameter names follow PyTorch, so a file exported here loads into
//!
//! ```text
//! class Model(nn.Module):
//!     embed   = nn.Embedding(vocab, d)
//!     encoder = nn.TransformerEncoder(
//!         nn.TransformerEncoderLayer(d, heads, ff, dropout=0.0,
//!                                    batch_first=True, norm_first=True),
//!         layers, norm=nn.LayerNorm(d), enable_nested_tensor=False)
//!     head    = nn.Linear(d, classes)
//! ```
//!
//! plus `pos_embed.weight` [length, d] when positions are learned.
//!
//! Without positions, self-attention is permutation-equivariant: shuffle the
//! tokens and every output moves with its token, unchanged. The output at
//! the question token then depends on the *set* of words only, which is why
//! the who-did-what task cannot be learned without them.

use super::Workspace;
use crate::autograd::{Graph, Var};
use crate::data::language::TokenBatch;
use crate::error::{Error, Result};
use crate::layers::{
    positional_encoding, AttentionConfig, Embedding, EmbeddingConfig, LayerNorm, Linear, LinearConfig, Module,
    MultiHeadAttention, Param,
};
use crate::optim::{clip_grad_norm, Optimizer};
use crate::rng::Rng;
use crate::tensor::Tensor;
use alloc::format;
use alloc::vec::Vec;
use ndarray::{Axis, IxDyn};

/// The global gradient norm is clipped to this at every step: the usual
/// setting for Transformers, and it keeps a too-high learning rate from
/// blowing up the attention logits in one step.
pub const CLIP: f32 = 1.0;

/// How the model learns where each token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Positions {
    /// Nothing: the model sees a bag of words.
    None,
    /// The fixed sine/cosine table of "Attention Is All You Need".
    Sinusoidal,
    /// A learned vector per position (`pos_embed.weight`), as GPT-2 and BERT.
    Learned,
}

/// The sizes of a [`Transformer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransformerConfig {
    pub vocab: usize,
    /// Tokens per sequence.
    pub length: usize,
    /// d, the model width.
    pub d_model: usize,
    pub heads: usize,
    pub layers: usize,
    /// Hidden width of each layer's MLP.
    pub ff: usize,
    pub classes: usize,
    /// An answer at every position, or at the first only.
    pub every_position: bool,
    pub positions: Positions,
}

/// One `nn.TransformerEncoderLayer` (pre-norm, ReLU, no dropout).
#[derive(Debug, Clone)]
struct EncoderLayer {
    self_attn: MultiHeadAttention,
    linear1: Linear,
    linear2: Linear,
    norm1: LayerNorm,
    norm2: LayerNorm,
}

impl EncoderLayer {
    fn new(prefix: &str, c: &TransformerConfig, rng: &mut Rng) -> Result<Self> {
        let attention = AttentionConfig {
            embed_dim: c.d_model,
            num_heads: c.heads,
        };
        let up = LinearConfig {
            in_features: c.d_model,
            out_features: c.ff,
        };
        let down = LinearConfig {
            in_features: c.ff,
            out_features: c.d_model,
        };
        Ok(EncoderLayer {
            self_attn: MultiHeadAttention::new(&format!("{prefix}.self_attn"), attention, rng)?,
            linear1: Linear::new(&format!("{prefix}.linear1"), up, rng),
            linear2: Linear::new(&format!("{prefix}.linear2"), down, rng),
            norm1: LayerNorm::new(&format!("{prefix}.norm1"), c.d_model),
            norm2: LayerNorm::new(&format!("{prefix}.norm2"), c.d_model),
        })
    }

    fn params(&self) -> Vec<&Param> {
        let mut p = self.self_attn.params();
        for m in [&self.linear1 as &dyn Module, &self.linear2, &self.norm1, &self.norm2] {
            p.extend(m.params());
        }
        p
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        let mut p = self.self_attn.params_mut();
        p.extend(self.linear1.params_mut());
        p.extend(self.linear2.params_mut());
        p.extend(self.norm1.params_mut());
        p.extend(self.norm2.params_mut());
        p
    }
}

#[derive(Debug, Clone)]
pub struct Transformer {
    pub config: TransformerConfig,
    embed: Embedding,
    /// `pos_embed.weight` when positions are learned.
    pos_embed: Option<Param>,
    layers: Vec<EncoderLayer>,
    norm: LayerNorm,
    head: Linear,
    workspace: Workspace,
}

/// What one forward pass built.
struct Forward {
    /// [N * L | N, classes]
    logits: Var,
    /// Per layer: the normalised input to attention [N, L, d] and the
    /// weights [N, heads, L, L].
    attention_inputs: Vec<Var>,
    attention: Vec<Var>,
}

/// What one training step measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransformerStepStats {
    pub loss: f32,
    /// Fraction of the batch's answers right (before the update).
    pub accuracy: f32,
    /// The global gradient norm, before clipping.
    pub grad_norm: f32,
}

/// One sequence run alone, for drawing.
#[derive(Debug, Clone, PartialEq)]
pub struct TransformerTrace {
    /// Per layer, [heads, L, L]: row i is what query i attends to.
    pub attention: Vec<Tensor>,
    /// Per layer, [heads, L, D]: each head's values v_j, so the page can show
    /// what a query gathers, sum_j a_ij v_j.
    pub values: Vec<Tensor>,
    /// Softmax probabilities: [classes] at the first position, or [L, classes].
    pub probabilities: Tensor,
}

impl Transformer {
    pub fn new(config: TransformerConfig, rng: &mut Rng) -> Result<Self> {
        let c = config;
        crate::limits::D_MODEL.check("transformer", "model width", c.d_model)?;
        crate::limits::HEADS.check("transformer", "heads", c.heads)?;
        crate::limits::LAYERS.check("transformer", "layers", c.layers)?;
        if !c.d_model.is_multiple_of(c.heads) {
            return Err(Error::invalid(
                "transformer",
                format!(
                    "the model width ({}) must be a multiple of the number of heads ({}): each head gets width / heads features",
                    c.d_model, c.heads
                ),
            ));
        }
        if c.length == 0 || c.vocab == 0 || c.classes == 0 {
            return Err(Error::invalid("transformer", "empty vocabulary, sequence or classes"));
        }
        let table = EmbeddingConfig {
            num_embeddings: c.vocab,
            embedding_dim: c.d_model,
        };
        let embed = Embedding::new("embed", table, rng);
        let pos_embed = (c.positions == Positions::Learned).then(|| {
            // N(0, 1) like the token table, so neither drowns the other.
            Param::new(
                "pos_embed.weight",
                crate::init::normal(&[c.length, c.d_model], 1.0, rng),
            )
        });
        let layers = (0..c.layers)
            .map(|l| EncoderLayer::new(&format!("encoder.layers.{l}"), &c, rng))
            .collect::<Result<Vec<_>>>()?;
        let out = LinearConfig {
            in_features: c.d_model,
            out_features: c.classes,
        };
        Ok(Transformer {
            config,
            embed,
            pos_embed,
            layers,
            norm: LayerNorm::new("encoder.norm", c.d_model),
            head: Linear::new("head", out, rng),
            workspace: Workspace::default(),
        })
    }

    /// The position table added to the embeddings, [L, d]: the sinusoids,
    /// the learned vectors, or `None`.
    pub fn positional_table(&self) -> Option<Tensor> {
        match self.config.positions {
            Positions::None => None,
            Positions::Sinusoidal => Some(positional_encoding(self.config.length, self.config.d_model)),
            Positions::Learned => self.pos_embed.as_ref().map(|p| p.value.clone()),
        }
    }

    fn forward(&self, g: &mut Graph, ids: &[usize], count: usize) -> Result<Forward> {
        let c = &self.config;
        if ids.len() != count * c.length || ids.iter().any(|&i| i >= c.vocab) {
            return Err(Error::invalid(
                "transformer",
                format!("expected {count} sequences of {} tokens below {}", c.length, c.vocab),
            ));
        }
        let mut x = self.embed.forward(g, ids, &[count, c.length])?;
        match c.positions {
            Positions::None => {}
            Positions::Sinusoidal => {
                let table = g.constant(positional_encoding(c.length, c.d_model));
                x = g.add(x, table)?;
            }
            Positions::Learned => {
                if let Some(p) = &self.pos_embed {
                    let table = p.var(g);
                    x = g.add(x, table)?;
                }
            }
        }
        let (mut attention_inputs, mut attention) = (Vec::new(), Vec::new());
        for layer in &self.layers {
            let h = layer.norm1.forward(g, x)?;
            let a = layer.self_attn.forward(g, h, h, false)?;
            attention_inputs.push(h);
            attention.push(a.attention);
            x = g.add(x, a.output)?;
            let h = layer.norm2.forward(g, x)?;
            let h = layer.linear1.forward(g, h)?;
            let h = g.relu(h);
            let h = layer.linear2.forward(g, h)?;
            x = g.add(x, h)?;
        }
        let x = self.norm.forward(g, x)?;
        let read = if c.every_position {
            g.reshape(x, &[count * c.length, c.d_model])?
        } else {
            let first = g.narrow(x, 1, 0, 1)?;
            g.reshape(first, &[count, c.d_model])?
        };
        let logits = self.head.forward(g, read)?;
        Ok(Forward {
            logits,
            attention_inputs,
            attention,
        })
    }

    /// One Adam (or SGD) step on `batch`, the gradient clipped to [`CLIP`].
    pub fn train_step(&mut self, batch: &TokenBatch, opt: &mut Optimizer) -> Result<TransformerStepStats> {
        let mut g = core::mem::take(&mut self.workspace.train);
        g.reset();
        let stats = self.step_on(&mut g, batch, opt);
        self.workspace.train = g;
        stats
    }

    fn step_on(&mut self, g: &mut Graph, batch: &TokenBatch, opt: &mut Optimizer) -> Result<TransformerStepStats> {
        let forward = self.forward(g, &batch.ids, batch.count)?;
        let loss = g.cross_entropy(forward.logits, &batch.targets)?;
        g.backward(loss)?;
        let accuracy = crate::metrics::accuracy(g.value(forward.logits), &batch.targets);
        self.collect_grads(g);
        let mut params = self.params_mut();
        let grad_norm = clip_grad_norm(&mut params, CLIP);
        opt.step(&mut params);
        Ok(TransformerStepStats {
            loss: g.value(loss).iter().next().copied().unwrap_or(f32::NAN),
            accuracy,
            grad_norm,
        })
    }

    /// The argmax class of every answer in `batch`.
    pub fn predict(&self, batch: &TokenBatch) -> Result<Vec<usize>> {
        self.workspace.infer(|g| {
            let forward = self.forward(g, &batch.ids, batch.count)?;
            Ok(argmax_rows(g.value(forward.logits)))
        })
    }

    /// The fraction of `batch`'s answers right.
    pub fn accuracy(&self, batch: &TokenBatch) -> Result<f32> {
        Ok(crate::data::language::accuracy(&self.predict(batch)?, &batch.targets))
    }

    /// One sequence of ids run alone, with every layer's attention weights
    /// and values per head.
    pub fn trace(&self, ids: &[usize]) -> Result<TransformerTrace> {
        let c = self.config;
        let d = c.d_model / c.heads;
        self.workspace.infer(|g| {
            let forward = self.forward(g, ids, 1)?;
            let mut attention = Vec::with_capacity(c.layers);
            let mut values = Vec::with_capacity(c.layers);
            for (layer, (&h, &a)) in self
                .layers
                .iter()
                .zip(forward.attention_inputs.iter().zip(&forward.attention))
            {
                let a = g.value(a);
                attention.push(a.index_axis(Axis(0), 0).to_owned());
                // v = h W_v^T + b_v with W_v, b_v rows 2d..3d of the stacked
                // projections; split into heads: [L, d] -> [heads, L, D].
                let h = g.value(h).index_axis(Axis(0), 0).to_owned();
                let w = &layer.self_attn.in_proj_weight.value;
                let b = &layer.self_attn.in_proj_bias.value;
                let e = c.d_model;
                let v = Tensor::from_shape_fn(IxDyn(&[c.heads, c.length, d]), |i| {
                    let (head, t, k) = (i[0], i[1], i[2]);
                    let row = 2 * e + head * d + k;
                    (0..e).map(|j| h[[t, j]] * w[[row, j]]).sum::<f32>() + b[[row]]
                });
                values.push(v);
            }
            let logits = g.value(forward.logits).clone();
            let mut probabilities = logits;
            let classes = c.classes;
            if let Some(data) = probabilities.as_slice_mut() {
                crate::ops::softmax_rows(data, classes);
            }
            if !c.every_position {
                probabilities = probabilities
                    .into_shape_with_order(IxDyn(&[classes]))
                    .map_err(|_| Error::invalid("transformer", "one sequence gives one answer"))?;
            }
            Ok(TransformerTrace {
                attention,
                values,
                probabilities,
            })
        })
    }

    /// Whether every weight is a finite number.
    pub fn is_finite(&self) -> bool {
        self.params().iter().all(|p| p.value.iter().all(|v| v.is_finite()))
    }
}

/// The index of the largest value of each row of a [rows, k] tensor.
fn argmax_rows(logits: &Tensor) -> Vec<usize> {
    logits
        .outer_iter()
        .map(|row| {
            row.iter()
                .enumerate()
                .fold(
                    (0, f32::NEG_INFINITY),
                    |best, (k, &v)| if v > best.1 { (k, v) } else { best },
                )
                .0
        })
        .collect()
}

impl Module for Transformer {
    fn params(&self) -> Vec<&Param> {
        let mut p = self.embed.params();
        p.extend(self.pos_embed.iter());
        for layer in &self.layers {
            p.extend(layer.params());
        }
        p.extend(self.norm.params());
        p.extend(self.head.params());
        p
    }
    fn params_mut(&mut self) -> Vec<&mut Param> {
        let mut p = self.embed.params_mut();
        p.extend(self.pos_embed.iter_mut());
        for layer in &mut self.layers {
            p.extend(layer.params_mut());
        }
        p.extend(self.norm.params_mut());
        p.extend(self.head.params_mut());
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::language::TokenTask;
    use alloc::string::{String, ToString};

    fn config(task: TokenTask, positions: Positions, digits: usize) -> TransformerConfig {
        TransformerConfig {
            vocab: task.vocab_size(),
            length: task.length(digits),
            d_model: 32,
            heads: 4,
            layers: 2,
            ff: 64,
            classes: task.classes(),
            every_position: task.every_position(),
            positions,
        }
    }

    /// Trains `steps` steps and returns the held-out accuracy.
    fn train(task: TokenTask, positions: Positions, digits: usize, steps: usize, seed: u64) -> f32 {
        let mut rng = Rng::new(seed);
        let mut model = Transformer::new(config(task, positions, digits), &mut rng).unwrap();
        let mut opt = Optimizer::adam(0.003);
        for _ in 0..steps {
            let batch = task.generate(32, digits, &mut rng);
            model.train_step(&batch, &mut opt).unwrap();
        }
        let held_out = task.generate(256, digits, &mut Rng::new(seed + 1000));
        model.accuracy(&held_out).unwrap()
    }

    #[test]
    fn names_follow_pytorch_s_transformer_encoder() {
        let c = TransformerConfig {
            layers: 1,
            ..config(TokenTask::WhoDidWhat, Positions::Learned, 0)
        };
        let model = Transformer::new(c, &mut Rng::new(1)).unwrap();
        let names: Vec<String> = model.params().iter().map(|p| p.name.clone()).collect();
        let want = [
            "embed.weight",
            "pos_embed.weight",
            "encoder.layers.0.self_attn.in_proj_weight",
            "encoder.layers.0.self_attn.in_proj_bias",
            "encoder.layers.0.self_attn.out_proj.weight",
            "encoder.layers.0.self_attn.out_proj.bias",
            "encoder.layers.0.linear1.weight",
            "encoder.layers.0.linear1.bias",
            "encoder.layers.0.linear2.weight",
            "encoder.layers.0.linear2.bias",
            "encoder.layers.0.norm1.weight",
            "encoder.layers.0.norm1.bias",
            "encoder.layers.0.norm2.weight",
            "encoder.layers.0.norm2.bias",
            "encoder.norm.weight",
            "encoder.norm.bias",
            "head.weight",
            "head.bias",
        ];
        assert_eq!(names, want);
    }

    #[test]
    fn heads_that_do_not_divide_the_width_are_refused_with_the_reason() {
        let c = TransformerConfig {
            heads: 3,
            ..config(TokenTask::Reverse, Positions::Sinusoidal, 6)
        };
        let message = Transformer::new(c, &mut Rng::new(1)).unwrap_err().to_string();
        assert!(message.contains("multiple of the number of heads"), "{message}");
    }

    #[test]
    fn every_attention_row_sums_to_one() {
        let task = TokenTask::WhoDidWhat;
        let model = Transformer::new(config(task, Positions::Sinusoidal, 0), &mut Rng::new(2)).unwrap();
        let batch = task.generate(1, 0, &mut Rng::new(3));
        let trace = model.trace(&batch.ids).unwrap();
        assert_eq!(trace.attention.len(), 2);
        for a in &trace.attention {
            assert_eq!(a.shape(), &[4, task.length(0), task.length(0)]);
            for row in a.lanes(Axis(2)) {
                assert!((row.sum() - 1.0).abs() < 1e-5);
            }
        }
        assert_eq!(trace.values[0].shape(), &[4, task.length(0), 8]);
        assert!((trace.probabilities.sum() - 1.0).abs() < 1e-5);
    }

    /// The values the trace reports are the ones attention mixes: a_i . V
    /// over heads, merged and projected, is the attention block's output.
    #[test]
    fn traced_values_are_the_attention_values() {
        let task = TokenTask::Reverse;
        let c = TransformerConfig {
            layers: 1,
            ..config(task, Positions::Sinusoidal, 5)
        };
        let model = Transformer::new(c, &mut Rng::new(4)).unwrap();
        let ids = [3, 1, 4, 1, 5];
        let trace = model.trace(&ids).unwrap();
        let layer = &model.layers[0];
        // Recompute the block's output from the trace alone.
        let mut g = Graph::no_grad();
        let x = model.embed.forward(&mut g, &ids, &[1, 5]).unwrap();
        let pe = g.constant(positional_encoding(5, 32));
        let x = g.add(x, pe).unwrap();
        let h = layer.norm1.forward(&mut g, x).unwrap();
        let out = layer.self_attn.forward(&mut g, h, h, false).unwrap();
        let want = g.value(out.output).clone();
        let (a, v) = (&trace.attention[0], &trace.values[0]);
        let w_o = &layer.self_attn.out_proj.weight.value;
        let b_o = &layer.self_attn.out_proj.bias.value;
        for t in 0..5 {
            let merged: Vec<f32> = (0..4)
                .flat_map(|head| (0..8).map(move |k| (head, k)))
                .map(|(head, k)| (0..5).map(|j| a[[head, t, j]] * v[[head, j, k]]).sum())
                .collect();
            for o in 0..32 {
                let y: f32 = (0..32).map(|j| merged[j] * w_o[[o, j]]).sum::<f32>() + b_o[[o]];
                assert!((y - want[[0, t, o]]).abs() < 1e-4, "{y} vs {}", want[[0, t, o]]);
            }
        }
    }

    #[test]
    fn it_learns_to_reverse_a_short_string() {
        let accuracy = train(TokenTask::Reverse, Positions::Sinusoidal, 5, 250, 5);
        assert!(accuracy > 0.95, "reverse: {accuracy}");
    }

    /// The lab's lesson: the same model and data, with and without positions.
    #[test]
    fn who_did_what_needs_positions() {
        let with = train(TokenTask::WhoDidWhat, Positions::Sinusoidal, 0, 300, 7);
        let without = train(TokenTask::WhoDidWhat, Positions::None, 0, 300, 7);
        assert!(with > 0.95, "with positional encoding: {with}");
        assert!((0.4..0.6).contains(&without), "without: {without}");
    }

    #[test]
    fn without_positions_shuffling_the_words_changes_nothing() {
        let task = TokenTask::WhoDidWhat;
        let model = Transformer::new(config(task, Positions::None, 0), &mut Rng::new(6)).unwrap();
        let (a, _) = crate::data::language::parse_sentence("the dog ate the food", 0).unwrap();
        let (b, _) = crate::data::language::parse_sentence("the food ate the dog", 0).unwrap();
        let (pa, pb) = (
            model.trace(&a).unwrap().probabilities,
            model.trace(&b).unwrap().probabilities,
        );
        for (x, y) in pa.iter().zip(pb.iter()) {
            assert!((x - y).abs() < 1e-5);
        }
        let with = Transformer::new(config(task, Positions::Sinusoidal, 0), &mut Rng::new(6)).unwrap();
        assert_ne!(
            with.trace(&a).unwrap().probabilities,
            with.trace(&b).unwrap().probabilities
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_run() {
        let run = || {
            let task = TokenTask::Sort;
            let mut rng = Rng::new(8);
            let mut model = Transformer::new(config(task, Positions::Learned, 4), &mut rng).unwrap();
            let mut opt = Optimizer::adam(0.003);
            (0..3)
                .map(|_| model.train_step(&task.generate(8, 4, &mut rng), &mut opt).unwrap().loss)
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }
}

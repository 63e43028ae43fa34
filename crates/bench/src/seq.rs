//! The Attention lab's training step, timed inside wasm: the core's own
//! [`Transformer`] at the lab's defaults (the who-did-what task: sentences
//! padded to `SENTENCE_LENGTH` tokens, the answer read at the question
//! token, 10 classes; d_model 32, 4 heads of width 8, 2 pre-norm layers,
//! MLP width 64, sinusoidal positions; batch 32, Adam 0.003, weights from
//! seed 1). `Transformer::train_step` is the step the lab's worker runs:
//! forward, cross-entropy, backward, the batch's accuracy, clipping at a
//! global gradient norm of 1, Adam. Here on one batch, made outside the
//! timer.
//!
//! The core has no profiler, so the step is also cut into parts by
//! rebuilding it, as `recurrent.rs` does for the GRU: [`TransformerBench`]
//! keeps a replica (the same layers, the model's weights copied in, its own
//! Adam and tape) that runs the graph ops `Transformer::forward` and
//! `MultiHeadAttention` run, in the same order, one at a time.
//!
//! - [`TransformerBench::phases`]: the replica's step with three timers only
//!   (forward, backward, update), so the split costs nothing measurable.
//! - [`TransformerBench::breakdown`]: each forward op call timed and added
//!   to its part ([`PARTS`]); for the backward, each op's output goes
//!   through an identity node of its own (a marker) whose backward closure
//!   records the time: `Graph::backward` runs the nodes in reverse order, so
//!   the time from the end of one marker's closure to the start of the next
//!   is the backward of the op the first marker follows (with adding its
//!   gradients into its inputs'). The markers' own copies are outside every
//!   part; the script reports the whole step next to the sum of the parts.

use crate::marks::{mark, Log};
use crate::{js_err, now_ms};
use deepplay_core::data::language::{TokenBatch, TokenTask};
use deepplay_core::layers::{
    positional_encoding, AttentionConfig, Embedding, EmbeddingConfig, LayerNorm, Linear, LinearConfig,
    MultiHeadAttention,
};
use deepplay_core::models::transformer::{Positions, Transformer, TransformerConfig, CLIP};
use deepplay_core::optim::{clip_grad_norm, Optimizer};
use deepplay_core::{Error, Graph, Module, Param, Rng, Var};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

type Result<T> = deepplay_core::Result<T>;

/// The lab's defaults.
pub const LEARNING_RATE: f32 = 0.003;
pub const SEED: u64 = 1;
pub const LAB_TASK: TokenTask = TokenTask::WhoDidWhat;
pub const LAB_D_MODEL: usize = 32;
pub const LAB_HEADS: usize = 4;
pub const LAB_LAYERS: usize = 2;
pub const LAB_FF: usize = 64;
pub const LAB_BATCH: usize = 32;

/// The parts the graph ops of a step are cut into, in the order they first run.
pub const PARTS: [&str; 16] = [
    "embedding + positions (lookup, sinusoid table, add)",
    "layer norms (norm1, norm2 per layer, final norm)",
    "attention weights onto the tape, in_proj cut into W_q, W_k, W_v and biases (6 narrows)",
    "Q, K, V projections (3 linears)",
    "split heads (reshape, permute)",
    "scores Q K^T (batched matmul_bt: every head of every sequence in one call)",
    "scale by 1/sqrt(D)",
    "softmax",
    "context A V (batched matmul)",
    "merge heads (permute, reshape)",
    "out-projection (linear)",
    "residual adds",
    "MLP linears (linear1, linear2)",
    "ReLU",
    "read-out (first position: narrow, reshape; head linear)",
    "cross-entropy",
];
const EMBED: usize = 0;
const NORM: usize = 1;
const ATTN_WEIGHTS: usize = 2;
const QKV: usize = 3;
const SPLIT: usize = 4;
const SCORES: usize = 5;
const SCALE: usize = 6;
const SOFTMAX: usize = 7;
const CONTEXT: usize = 8;
const MERGE: usize = 9;
const OUT_PROJ: usize = 10;
const RESIDUAL: usize = 11;
const MLP: usize = 12;
const RELU: usize = 13;
const READOUT: usize = 14;
const LOSS: usize = 15;

/// The parts of a step outside the graph ops, in the order they run.
pub const OTHER_PARTS: [&str; 6] = [
    "tape reset",
    "backward pass setup (seed, gradient slots)",
    "the batch's accuracy (what the lab reports)",
    "gather the parameters' gradients",
    "clip (global norm 1)",
    "Adam (and zeroing the gradients)",
];

/// The step in three phases (and the accuracy between them), as
/// [`TransformerBench::phases`] returns them.
pub const PHASES: [&str; 4] = [
    "forward (tape reset, weights onto the tape, every op up to the loss)",
    "backward",
    "the batch's accuracy",
    "optimizer update (gather gradients, clip at norm 1, Adam)",
];

/// "who-did-what", "reverse" or "sort".
pub fn token_task(name: &str) -> Result<TokenTask> {
    match name {
        "who-did-what" => Ok(TokenTask::WhoDidWhat),
        "reverse" => Ok(TokenTask::Reverse),
        "sort" => Ok(TokenTask::Sort),
        _ => Err(Error::invalid(
            "bench",
            "the task is one of who-did-what, reverse, sort",
        )),
    }
}

/// One encoder layer of the replica, fields named as the core's.
struct Layer {
    self_attn: MultiHeadAttention,
    linear1: Linear,
    linear2: Linear,
    norm1: LayerNorm,
    norm2: LayerNorm,
}

/// The model's layers again (its weights copied in), with their own Adam
/// and their own tape, reset each step as the model resets its.
struct Replica {
    config: TransformerConfig,
    embed: Embedding,
    pos_embed: Option<Param>,
    layers: Vec<Layer>,
    norm: LayerNorm,
    head: Linear,
    opt: Optimizer,
    graph: Graph,
}

impl Replica {
    fn new(c: TransformerConfig, model: &Transformer) -> Result<Self> {
        let rng = &mut Rng::new(0);
        let linear = |in_features, out_features| LinearConfig {
            in_features,
            out_features,
        };
        let attention = AttentionConfig {
            embed_dim: c.d_model,
            num_heads: c.heads,
        };
        let mut layers = Vec::with_capacity(c.layers);
        for l in 0..c.layers {
            let p = format!("encoder.layers.{l}");
            layers.push(Layer {
                self_attn: MultiHeadAttention::new(&format!("{p}.self_attn"), attention, rng)?,
                linear1: Linear::new(&format!("{p}.linear1"), linear(c.d_model, c.ff), rng),
                linear2: Linear::new(&format!("{p}.linear2"), linear(c.ff, c.d_model), rng),
                norm1: LayerNorm::new(&format!("{p}.norm1"), c.d_model),
                norm2: LayerNorm::new(&format!("{p}.norm2"), c.d_model),
            });
        }
        let table = EmbeddingConfig {
            num_embeddings: c.vocab,
            embedding_dim: c.d_model,
        };
        let mut replica = Replica {
            config: c,
            embed: Embedding::new("embed", table, rng),
            pos_embed: (c.positions == Positions::Learned)
                .then(|| Param::new("pos_embed.weight", deepplay_core::tensor::zeros(&[c.length, c.d_model]))),
            layers,
            norm: LayerNorm::new("encoder.norm", c.d_model),
            head: Linear::new("head", linear(c.d_model, c.classes), rng),
            opt: Optimizer::adam(LEARNING_RATE),
            graph: Graph::new(),
        };
        let theirs = model.params();
        let mine = replica.params_mut();
        if mine.len() != theirs.len() {
            return Err(Error::invalid(
                "bench",
                "the replica's parameters differ from the model's",
            ));
        }
        for (mine, theirs) in mine.into_iter().zip(theirs) {
            if mine.name != theirs.name || mine.value.shape() != theirs.value.shape() {
                return Err(Error::invalid(
                    "bench",
                    format!("replica {} vs model {}", mine.name, theirs.name),
                ));
            }
            mine.value.assign(&theirs.value);
        }
        Ok(replica)
    }

    /// In the model's order (the optimizer keeps its state by position).
    fn params_mut(&mut self) -> Vec<&mut Param> {
        let mut p = self.embed.params_mut();
        p.extend(self.pos_embed.iter_mut());
        for l in &mut self.layers {
            p.extend(l.self_attn.params_mut());
            p.extend(l.linear1.params_mut());
            p.extend(l.linear2.params_mut());
            p.extend(l.norm1.params_mut());
            p.extend(l.norm2.params_mut());
        }
        p.extend(self.norm.params_mut());
        p.extend(self.head.params_mut());
        p
    }
}

/// Runs graph ops one at a time. Profiling, it adds each call's time to its
/// part's forward time and puts a marker after its output; otherwise it
/// only runs them.
struct Timed<'a> {
    g: &'a mut Graph,
    profile: bool,
    forward: [f64; PARTS.len()],
    log: Log,
}

impl Timed<'_> {
    fn run<T>(&mut self, part: usize, f: impl FnOnce(&mut Graph) -> Result<T>) -> Result<T> {
        if !self.profile {
            return f(self.g);
        }
        let t0 = now_ms();
        let out = f(self.g)?;
        self.forward[part] += now_ms() - t0;
        Ok(out)
    }

    fn op(&mut self, part: usize, f: impl FnOnce(&mut Graph) -> Result<Var>) -> Result<Var> {
        let v = self.run(part, f)?;
        Ok(if self.profile {
            mark(self.g, v, part, &self.log)
        } else {
            v
        })
    }
}

/// What one replica step measured, ms.
struct Split {
    forward: [f64; PARTS.len()],
    backward: [f64; PARTS.len()],
    other: [f64; OTHER_PARTS.len()],
    phases: [f64; PHASES.len()],
    loss: f32,
}

impl Replica {
    /// `Transformer::train_step` op by op (see the module docs).
    fn step(&mut self, batch: &TokenBatch, profile: bool) -> Result<Split> {
        let c = self.config;
        let (n, l, e, heads) = (batch.count, c.length, c.d_model, c.heads);
        let d = e / heads;
        if batch.length != l || batch.ids.len() != n * l {
            return Err(Error::invalid("bench", "the batch does not fit the model"));
        }
        let mut other = [0.0; OTHER_PARTS.len()];
        let log: Log = Rc::new(RefCell::new(Vec::with_capacity(256)));

        let t_start = now_ms();
        let g = &mut self.graph;
        g.reset();
        other[0] = now_ms() - t_start;
        let mut t = Timed {
            g: &mut *g,
            profile,
            forward: [0.0; PARTS.len()],
            log: Rc::clone(&log),
        };

        // Transformer::forward.
        let mut x = t.op(EMBED, |g| self.embed.forward(g, &batch.ids, &[n, l]))?;
        match c.positions {
            Positions::None => {}
            Positions::Sinusoidal => {
                x = t.op(EMBED, |g| {
                    let table = g.constant(positional_encoding(l, e));
                    g.add(x, table)
                })?;
            }
            Positions::Learned => {
                if let Some(p) = &self.pos_embed {
                    x = t.op(EMBED, |g| {
                        let table = p.var(g);
                        g.add(x, table)
                    })?;
                }
            }
        }
        for layer in &self.layers {
            let h = t.op(NORM, |g| layer.norm1.forward(g, x))?;
            // MultiHeadAttention::forward -> multi_head_attention_packed ->
            // multi_head_attention (self-attention: q = kv = h).
            let a = &layer.self_attn;
            let (w, b, w_o, b_o) = t.run(ATTN_WEIGHTS, |g| {
                Ok((
                    a.in_proj_weight.var(g),
                    a.in_proj_bias.var(g),
                    a.out_proj.weight.var(g),
                    a.out_proj.bias.var(g),
                ))
            })?;
            let w_q = t.op(ATTN_WEIGHTS, |g| g.narrow(w, 0, 0, e))?;
            let w_k = t.op(ATTN_WEIGHTS, |g| g.narrow(w, 0, e, e))?;
            let w_v = t.op(ATTN_WEIGHTS, |g| g.narrow(w, 0, 2 * e, e))?;
            let b_q = t.op(ATTN_WEIGHTS, |g| g.narrow(b, 0, 0, e))?;
            let b_k = t.op(ATTN_WEIGHTS, |g| g.narrow(b, 0, e, e))?;
            let b_v = t.op(ATTN_WEIGHTS, |g| g.narrow(b, 0, 2 * e, e))?;
            let q = t.op(QKV, |g| g.linear(h, w_q, Some(b_q)))?;
            let k = t.op(QKV, |g| g.linear(h, w_k, Some(b_k)))?;
            let v = t.op(QKV, |g| g.linear(h, w_v, Some(b_v)))?;
            let mut split = |p: Var| -> Result<Var> {
                let r = t.op(SPLIT, |g| g.reshape(p, &[n, l, heads, d]))?;
                t.op(SPLIT, |g| g.permute(r, &[0, 2, 1, 3]))
            };
            let (qh, kh, vh) = (split(q)?, split(k)?, split(v)?);
            let raw = t.op(SCORES, |g| g.matmul_bt(qh, kh))?;
            let scores = t.op(SCALE, |g| Ok(g.scale(raw, 1.0 / (d as f32).sqrt())))?;
            let attention = t.op(SOFTMAX, |g| g.softmax(scores))?;
            let context = t.op(CONTEXT, |g| g.matmul(attention, vh))?;
            let merged = t.op(MERGE, |g| g.permute(context, &[0, 2, 1, 3]))?;
            let merged = t.op(MERGE, |g| g.reshape(merged, &[n, l, e]))?;
            let out = t.op(OUT_PROJ, |g| g.linear(merged, w_o, Some(b_o)))?;
            x = t.op(RESIDUAL, |g| g.add(x, out))?;
            let h = t.op(NORM, |g| layer.norm2.forward(g, x))?;
            let h = t.op(MLP, |g| layer.linear1.forward(g, h))?;
            let h = t.op(RELU, |g| Ok(g.relu(h)))?;
            let h = t.op(MLP, |g| layer.linear2.forward(g, h))?;
            x = t.op(RESIDUAL, |g| g.add(x, h))?;
        }
        let x = t.op(NORM, |g| self.norm.forward(g, x))?;
        let read = if c.every_position {
            t.op(READOUT, |g| g.reshape(x, &[n * l, e]))?
        } else {
            let first = t.op(READOUT, |g| g.narrow(x, 1, 0, 1))?;
            t.op(READOUT, |g| g.reshape(first, &[n, e]))?
        };
        let logits = t.op(READOUT, |g| self.head.forward(g, read))?;
        let loss = t.op(LOSS, |g| g.cross_entropy(logits, &batch.targets))?;
        let forward = t.forward;
        let t_forward = now_ms();

        // Backward: the time between markers is the op before each.
        g.backward(loss)?;
        let t_backward = now_ms();
        let mut backward = [0.0; PARTS.len()];
        let marks = log.borrow();
        other[1] = marks.first().map_or(0.0, |m| m.start - t_forward);
        for (i, m) in marks.iter().enumerate() {
            let next = marks.get(i + 1).map_or(t_backward, |n| n.start);
            backward[m.part] += next - m.end;
        }
        drop(marks);

        // What Transformer::step_on does after backward.
        let t0 = now_ms();
        let accuracy = deepplay_core::metrics::accuracy(g.value(logits), &batch.targets);
        core::hint::black_box(accuracy);
        let t_accuracy = now_ms();
        other[2] = t_accuracy - t0;
        let loss = g.value(loss).iter().next().copied().unwrap_or(f32::NAN);
        let mut opt = core::mem::replace(&mut self.opt, Optimizer::sgd(0.0, 0.0, 0.0));
        let graph = core::mem::take(&mut self.graph);
        let mut params = self.params_mut();
        for p in params.iter_mut() {
            p.collect_grad(&graph);
        }
        let t1 = now_ms();
        other[3] = t1 - t_accuracy;
        clip_grad_norm(&mut params, CLIP);
        let t2 = now_ms();
        other[4] = t2 - t1;
        opt.step(&mut params);
        let t_end = now_ms();
        other[5] = t_end - t2;
        self.opt = opt;
        self.graph = graph;
        Ok(Split {
            forward,
            backward,
            other,
            phases: [
                t_forward - t_start,
                t_backward - t_forward,
                t_accuracy - t_backward,
                t_end - t_accuracy,
            ],
            loss,
        })
    }
}

#[wasm_bindgen]
pub struct TransformerBench {
    model: Transformer,
    opt: Optimizer,
    batch: TokenBatch,
    last_loss: f32,
    replica: Replica,
}

impl TransformerBench {
    /// `task` at `length` tokens (the digit tasks; who-did-what has its own
    /// length), the given sizes, sinusoidal positions, `batch` sequences;
    /// weights and batch from [`SEED`], Adam at [`LEARNING_RATE`].
    pub fn build(
        task: TokenTask,
        length: usize,
        d_model: usize,
        heads: usize,
        layers: usize,
        ff: usize,
        batch: usize,
    ) -> Result<Self> {
        let config = TransformerConfig {
            vocab: task.vocab_size(),
            length: task.length(length),
            d_model,
            heads,
            layers,
            ff,
            classes: task.classes(),
            every_position: task.every_position(),
            positions: Positions::Sinusoidal,
        };
        let mut rng = Rng::new(SEED);
        let model = Transformer::new(config, &mut rng)?;
        let data = task.generate(batch, length, &mut rng);
        let replica = Replica::new(config, &model)?;
        Ok(TransformerBench {
            model,
            opt: Optimizer::adam(LEARNING_RATE),
            batch: data,
            last_loss: f32::NAN,
            replica,
        })
    }

    /// The lab's defaults.
    pub fn build_lab_default() -> Result<Self> {
        Self::build(LAB_TASK, 0, LAB_D_MODEL, LAB_HEADS, LAB_LAYERS, LAB_FF, LAB_BATCH)
    }

    /// One `Transformer::train_step`, ms.
    pub fn step(&mut self) -> Result<f64> {
        let t0 = now_ms();
        let stats = self.model.train_step(&self.batch, &mut self.opt)?;
        let ms = now_ms() - t0;
        self.last_loss = stats.loss;
        Ok(ms)
    }

    /// One replica step timed by [`PHASES`], ms each.
    pub fn phases_step(&mut self) -> Result<Vec<f64>> {
        let split = self.replica.step(&self.batch, false)?;
        self.last_loss = split.loss;
        Ok(split.phases.to_vec())
    }

    /// One replica step cut into parts, ms each: the forward time of every
    /// [`PARTS`] entry, then their backward times, then [`OTHER_PARTS`].
    pub fn breakdown_step(&mut self) -> Result<Vec<f64>> {
        let split = self.replica.step(&self.batch, true)?;
        self.last_loss = split.loss;
        let mut times = Vec::with_capacity(2 * PARTS.len() + OTHER_PARTS.len());
        times.extend_from_slice(&split.forward);
        times.extend_from_slice(&split.backward);
        times.extend_from_slice(&split.other);
        Ok(times)
    }
}

#[wasm_bindgen]
impl TransformerBench {
    /// `task`: "who-did-what", "reverse" or "sort"; `length`: the digits
    /// of the last two (ignored by who-did-what); the model's sizes; `batch`
    /// sequences. Sinusoidal positions, seed 1, Adam 0.003, clipping at 1.
    #[wasm_bindgen(constructor)]
    pub fn new(
        task: &str,
        length: usize,
        d_model: usize,
        heads: usize,
        layers: usize,
        ff: usize,
        batch: usize,
    ) -> core::result::Result<TransformerBench, JsError> {
        let task = token_task(task).map_err(js_err)?;
        Self::build(task, length, d_model, heads, layers, ff, batch).map_err(js_err)
    }

    /// The Attention lab's defaults (who-did-what, d 32, 4 heads, 2 layers,
    /// MLP 64, batch 32).
    pub fn lab_default() -> core::result::Result<TransformerBench, JsError> {
        Self::build_lab_default().map_err(js_err)
    }

    /// One `Transformer::train_step` (forward, backward, accuracy, clip, Adam), ms.
    pub fn train_step(&mut self) -> core::result::Result<f64, JsError> {
        self.step().map_err(js_err)
    }

    /// Names of the values [`TransformerBench::phases`] returns.
    pub fn phase_names() -> Vec<String> {
        PHASES.iter().map(|s| s.to_string()).collect()
    }

    /// The step in phases (forward, backward, accuracy, update), ms each,
    /// on the replica.
    pub fn phases(&mut self) -> core::result::Result<Vec<f64>, JsError> {
        self.phases_step().map_err(js_err)
    }

    /// Names of the values [`TransformerBench::breakdown`] returns, in
    /// order: "forward: <part>", then "backward: <part>", then the other parts.
    pub fn breakdown_names() -> Vec<String> {
        let ops = |phase: &'static str| PARTS.iter().map(move |k| format!("{phase}: {k}"));
        ops("forward")
            .chain(ops("backward"))
            .chain(OTHER_PARTS.iter().map(|s| s.to_string()))
            .collect()
    }

    /// The step cut into parts (see the module docs), ms each, in
    /// `breakdown_names` order.
    pub fn breakdown(&mut self) -> core::result::Result<Vec<f64>, JsError> {
        self.breakdown_step().map_err(js_err)
    }

    /// The loss of the last step (to show that it trains).
    pub fn last_loss(&self) -> f32 {
        self.last_loss
    }

    pub fn num_params(&self) -> usize {
        self.model.num_params()
    }

    pub fn vocab(&self) -> usize {
        self.model.config.vocab
    }

    pub fn d_model(&self) -> usize {
        self.model.config.d_model
    }

    pub fn heads(&self) -> usize {
        self.model.config.heads
    }

    pub fn layers(&self) -> usize {
        self.model.config.layers
    }

    /// Hidden width of each layer's MLP.
    pub fn ff(&self) -> usize {
        self.model.config.ff
    }

    /// Tokens per sequence.
    pub fn length(&self) -> usize {
        self.model.config.length
    }

    pub fn classes(&self) -> usize {
        self.model.config.classes
    }

    /// Sequences per batch.
    pub fn batch(&self) -> usize {
        self.batch.count
    }

    /// Whether every position has an answer (else the first only).
    pub fn every_position(&self) -> bool {
        self.model.config.every_position
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lab_default_is_the_lab_s_model_and_trains() {
        let mut b = TransformerBench::build_lab_default().unwrap();
        let c = b.model.config;
        let length = deepplay_core::data::language::SENTENCE_LENGTH;
        assert_eq!((c.vocab, c.length, c.classes), (LAB_TASK.vocab_size(), length, 10));
        assert_eq!((c.d_model, c.heads, c.layers, c.ff), (32, 4, 2, 64));
        assert!(!c.every_position && c.positions == Positions::Sinusoidal);
        assert_eq!(b.batch.count, 32);
        b.step().unwrap();
        let first = b.last_loss;
        for _ in 0..30 {
            b.step().unwrap();
        }
        assert!(b.last_loss < 0.8 * first, "{first} -> {}", b.last_loss);
        // Other sizes and tasks build too.
        let mut r = TransformerBench::build(TokenTask::Reverse, 6, 16, 2, 1, 32, 4).unwrap();
        r.step().unwrap();
        assert_eq!(
            r.breakdown_step().unwrap().len(),
            TransformerBench::breakdown_names().len()
        );
        assert!(token_task("sort").is_ok() && token_task("who").is_err());
    }

    /// The op-by-op step computes what `Transformer::train_step` does (same
    /// loss, same weights after an update), profiled or not, and its parts
    /// add up to roughly the whole step.
    #[test]
    fn the_replica_is_the_models_step_and_its_parts_sum_to_it() {
        let mut b = TransformerBench::build_lab_default().unwrap();
        b.opt = Optimizer::sgd(0.5, 0.0, 0.0);
        b.replica.opt = Optimizer::sgd(0.5, 0.0, 0.0);
        for profile in [true, false] {
            b.step().unwrap();
            let whole = b.last_loss;
            let split = b.replica.step(&b.batch, profile).unwrap();
            assert!((split.loss - whole).abs() < 1e-6, "{whole} vs {}", split.loss);
            let theirs = b.model.params();
            let mine = b.replica.params_mut();
            assert_eq!(mine.len(), theirs.len());
            for (p, q) in theirs.iter().zip(&mine) {
                assert_eq!(p.name, q.name);
                for (x, y) in p.value.iter().zip(q.value.iter()) {
                    assert!((x - y).abs() <= 1e-5 * (1.0 + x.abs()), "{}: {x} vs {y}", p.name);
                }
            }
        }

        // Timing: the fastest of ten runs of each, the three in turn so that
        // all see the same load (a test build, maybe on a busy machine and
        // beside other tests: only a loose bound).
        let (mut step, mut phases, mut parts) = (f64::INFINITY, f64::INFINITY, f64::INFINITY);
        for _ in 0..10 {
            step = step.min(b.step().unwrap());
            phases = phases.min(b.phases_step().unwrap().iter().sum());
            let t = b.breakdown_step().unwrap();
            assert_eq!(t.len(), TransformerBench::breakdown_names().len());
            assert!(t.iter().all(|v| v.is_finite() && *v >= 0.0));
            // Each part with work in it took some time, forward and backward.
            for k in [
                EMBED, NORM, QKV, SCORES, SCALE, SOFTMAX, CONTEXT, OUT_PROJ, MLP, READOUT, LOSS,
            ] {
                assert!(t[k] > 0.0 && t[PARTS.len() + k] > 0.0, "{}", PARTS[k]);
            }
            parts = parts.min(t.iter().sum());
        }
        for (what, ms) in [("phases", phases), ("parts", parts)] {
            assert!(
                (0.5 * step..2.0 * step).contains(&ms),
                "{what}: {ms} ms vs the step's {step} ms"
            );
        }
    }
}
